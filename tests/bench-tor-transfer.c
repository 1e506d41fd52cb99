/* bench-tor-transfer.c: a file over onion circuits against raw bytes over
 * the same circuit
 *
 * A private Tor network on loopback (tests/tor-network.sh), node A with
 * its own managed tor, and node B in SOCKS-only mode on a tor this
 * benchmark runs, whose torrc publishes B's onion service with B's key
 * and two ports: B's node (11009) and a plain sink socket (9). Each round
 * times three copies of the same file, each to the last byte on B's side:
 *
 *  - raw bytes to port 9 on a circuit of their own (a SOCKS user name of
 *    the round's), as the benchmark measured before;
 *  - the file from A to B with `send-file` / `accept-file`, whose file
 *    stream gets a circuit of its own (SOCKS user name torchat-file-TID);
 *  - raw bytes to port 9 with the file stream's SOCKS user name, which
 *    tor puts on that same rendezvous circuit (checked with A's tor's
 *    STREAM events): before the file in even rounds, after it in odd ones.
 *
 * The last pair compares TORChat and raw bytes on one circuit; circuits
 * of a private network on two cores differ up to tenfold. Prints
 * "key: value" lines; see docs/benchmarks.md.
 *
 *   meson test -C BUILD --benchmark tor-transfer -v
 *
 * Optional arguments: the size in MB (default 20) and the number of rounds
 * (default 16, eight in each order: fewer say little).
 * TORCHAT_BENCH_CIRC_LOG=FILE writes there every second's CIRC_BW event
 * of A's tor for a circuit that sent something (bytes, congestion window,
 * round-trip time) and where each copy of a round starts and ends, all on
 * the monotonic clock in seconds. TORCHAT_BENCH_CONTROL=1 adds two raw
 * copies in a row on one new circuit to each round.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "tc-identity.h"
#include "tc-test-harness.h"
#include "tc-types.h"

#define MB (1024 * 1024)
#define STEP_TIMEOUT 240.0
#define BLOCK (64 * 1024)

static TcTestNet *net;

static void G_GNUC_NORETURN
fail (const char *what)
{
  tc_test_net_dump_logs (net);
  g_printerr ("bench-tor-transfer: %s\n", what);
  tc_test_net_free (net);
  exit (1);
}

static JsonObject *
tor_status (TcTestNode *node)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "tor");

  return json_object_ref (json_node_get_object (root));
}

static gboolean
tor_usable (TcTestNode *node)
{
  g_autoptr(JsonObject) status = tor_status (node);

  return g_strcmp0 (json_object_get_string_member_with_default (status, "state", ""), "ready") == 0 &&
         json_object_get_boolean_member_with_default (status, "reachable", FALSE);
}

static void
wait_for (gboolean   (*check) (TcTestNode *),
          TcTestNode  *node,
          const char  *what)
{
  double deadline = tc_test_now () + STEP_TIMEOUT;

  while (!check (node))
    {
      if (tc_test_now () > deadline)
        fail (what);
      tc_test_sleep (200);
    }
}

/* One command on a node's tor's control port (cookie authentication);
 * returns the reply's lines. */
static char *
control_command (TcTestNode *node,
                 const char *command,
                 GSocketConnection **keep)
{
  g_autofree char *port_path = g_build_filename (node->profile, "tor", "control-port", NULL);
  g_autofree char *cookie_path = g_build_filename (node->profile, "tor", "data",
                                                   "control_auth_cookie", NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GString) auth = g_string_new ("AUTHENTICATE ");
  g_autoptr(GString) reply = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *line_out = NULL;
  GOutputStream *out;
  gsize cookie_len = 0;

  if (!g_file_get_contents (port_path, &contents, NULL, NULL) ||
      !g_file_get_contents (cookie_path, &cookie, &cookie_len, NULL))
    fail ("no control port");
  g_strstrip (contents);
  for (gsize i = 0; i < cookie_len; i++)
    g_string_append_printf (auth, "%02X", (guint8) cookie[i]);

  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, contents + strlen ("PORT="), 0, NULL, &error);
  if (connection == NULL)
    fail (error->message);
  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  line_out = g_strdup_printf ("%s\r\n%s\r\n", auth->str, command);
  g_output_stream_write_all (out, line_out, strlen (line_out), NULL, NULL, &error);
  /* The AUTHENTICATE answer, then the command's. */
  for (int answers = 0; answers < 2; )
    {
      g_autofree char *line = g_data_input_stream_read_line (in, NULL, NULL, &error);

      if (line == NULL)
        fail ("the control port closed");
      g_string_append_printf (reply, "%s\n", line);
      if (strlen (line) >= 4 && line[3] == ' ')
        answers++;
    }

  /* An ephemeral service lives as long as its control connection. */
  if (keep != NULL)
    *keep = g_steal_pointer (&connection);

  return g_string_free (g_steal_pointer (&reply), FALSE);
}

/* Stream flow control as A's tor sees it: with congestion control, B's
 * tor sends XOFF when the receiving application lets more than its limit
 * pile up, and XON (with the drain rate it measured, which A's tor then
 * keeps the stream to) when it drained. Counted from A's STREAM events. */
typedef struct {
  GSocketConnection *control;
  gint               xoff;
  gint               xon;
  gint               events;
  /* The circuit of the last stream that succeeded to B's port 11009 (a
   * node's stream) and to port 9 (a raw one). */
  GMutex             lock;
  gint               node_circ;
  double             node_connected;   /* when that stream succeeded */
  gint               raw_circ;
  FILE              *circ_log;  /* or NULL */
} FlowEvents;

static void
mark (FlowEvents *flow,
      const char *what)
{
  if (flow->circ_log != NULL)
    fprintf (flow->circ_log, "%.3f PHASE %s\n", g_get_monotonic_time () / 1e6, what);
}

/* From the socket itself: control_command()'s reader closed the
 * connection's input stream when it went. */
static gpointer
flow_thread (gpointer user_data)
{
  FlowEvents *flow = user_data;
  GSocket *socket = g_socket_connection_get_socket (flow->control);
  g_autoptr(GString) pending = g_string_new (NULL);
  char buf[4096];
  gssize n;

  while ((n = g_socket_receive (socket, buf, sizeof buf, NULL, NULL)) > 0)
    {
      char *nl, target[128];
      int circ;

      g_string_append_len (pending, buf, n);
      while ((nl = strchr (pending->str, '\n')) != NULL)
        {
          *nl = '\0';
          g_atomic_int_inc (&flow->events);
          if (sscanf (pending->str, "650 STREAM %*s SUCCEEDED %d %127s", &circ, target) == 2)
            {
              g_mutex_lock (&flow->lock);
              if (g_str_has_suffix (target, ":9"))
                flow->raw_circ = circ;
              else if (g_str_has_suffix (target, ":11009"))
                {
                  flow->node_circ = circ;
                  flow->node_connected = tc_test_now ();
                }
              g_mutex_unlock (&flow->lock);
            }
          else if (strstr (pending->str, " XOFF_RECV") != NULL)
            g_atomic_int_inc (&flow->xoff);
          else if (strstr (pending->str, " XON_RECV") != NULL)
            g_atomic_int_inc (&flow->xon);
          else if (flow->circ_log != NULL && strstr (pending->str, "650 CIRC_BW ") != NULL &&
                   strstr (pending->str, " WRITTEN=0 ") == NULL)
            fprintf (flow->circ_log, "%.3f %s\n", g_get_monotonic_time () / 1e6, pending->str);
          g_string_erase (pending, 0, nl - pending->str + 1);
        }
    }

  return NULL;
}

typedef struct {
  GSocketListener *listener;
  guint64          received;
  double           first;
  double           last;
  gboolean         done;
} Sink;

static gpointer
sink_thread (gpointer user_data)
{
  Sink *sink = user_data;
  g_autofree guint8 *buf = g_malloc (BLOCK);
  gssize n;

  /* A stream of an earlier SOCKS attempt that gave up after tor had
   * reached the service ends without a byte: the next one is the copy. */
  while (sink->received == 0)
    {
      g_autoptr(GSocketConnection) connection = NULL;
      GInputStream *in;

      connection = g_socket_listener_accept (sink->listener, NULL, NULL, NULL);
      if (connection == NULL)
        return NULL;
      in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
      while ((n = g_input_stream_read (in, buf, BLOCK, NULL, NULL)) > 0)
        {
          if (sink->received == 0)
            sink->first = tc_test_now ();
          sink->received += n;
          sink->last = tc_test_now ();
        }
    }
  g_atomic_int_set (&sink->done, TRUE);

  return NULL;
}

/* SOCKS5 CONNECT to @onion port 9 through @socks ("IP:PORT"), with
 * @isolation as the RFC 1929 user name: tor gives each name a circuit of
 * its own, as TORChat's file streams get. */
static GSocketConnection *
socks_connect (const char  *socks,
               const char  *onion,
               const char  *isolation,
               GError     **error)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GByteArray) request = g_byte_array_new ();
  g_autoptr(GByteArray) auth = g_byte_array_new ();
  guint8 hello[] = { 5, 1, 2 }, reply[10], len = strlen (onion), port[2] = { 0, 9 };
  guint8 user_len = strlen (isolation);
  GInputStream *in;
  GOutputStream *out;

  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect_to_host (client, socks, 0, NULL, error);
  if (connection == NULL)
    return NULL;
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_byte_array_append (auth, (const guint8 *) "\x01", 1);
  g_byte_array_append (auth, &user_len, 1);
  g_byte_array_append (auth, (const guint8 *) isolation, user_len);
  g_byte_array_append (auth, (const guint8 *) "\x01" "0", 2);
  g_byte_array_append (request, (const guint8 *) "\x05\x01\x00\x03", 4);
  g_byte_array_append (request, &len, 1);
  g_byte_array_append (request, (const guint8 *) onion, len);
  g_byte_array_append (request, port, 2);
  if (!g_output_stream_write_all (out, hello, sizeof hello, NULL, NULL, error) ||
      !g_input_stream_read_all (in, reply, 2, NULL, NULL, error) ||
      !g_output_stream_write_all (out, auth->data, auth->len, NULL, NULL, error) ||
      !g_input_stream_read_all (in, reply, 2, NULL, NULL, error))
    return NULL;
  if (reply[1] != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SOCKS user name refused");
      return NULL;
    }
  if (!g_output_stream_write_all (out, request->data, request->len, NULL, NULL, error) ||
      !g_input_stream_read_all (in, reply, 10, NULL, NULL, error))
    return NULL;
  if (reply[1] != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "SOCKS reply %u", reply[1]);
      return NULL;
    }

  return g_steal_pointer (&connection);
}

/* A port nothing listens on yet (a race with other processes, which a
 * benchmark may take). */
static guint
free_port (void)
{
  g_autoptr(GSocket) socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                            G_SOCKET_PROTOCOL_TCP, NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;

  if (socket == NULL || !g_socket_bind (socket, any, FALSE, NULL) ||
      (bound = g_socket_get_local_address (socket, NULL)) == NULL)
    fail ("no free port");

  return g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* B's tor, run by the benchmark: B's node uses only its SOCKS port, and
 * its torrc publishes B's onion service with B's key and two ports, the
 * node's (11009) and a sink socket's (9). A raw stream to port 9 with a
 * file stream's SOCKS user name then rides the very circuit that file
 * stream used, so the two halves of a round can meet the same circuit. */
typedef struct {
  GSubprocess     *tor;
  GSocketListener *listener;    /* the sink */
  char            *onion;       /* B's address */
  char            *socks;       /* A's SOCKS port */
} RawService;

static TcTestNode *
b_node_start (RawService *raw,
              TcTestNode *a)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(JsonObject) status = tor_status (a);
  g_autoptr(TcIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *identity_path = NULL;
  g_autofree char *dir = g_build_filename (net->tmpdir, "B-tor", NULL);
  g_autofree char *hs_dir = g_build_filename (dir, "onion", NULL);
  g_autofree char *secret_path = g_build_filename (hs_dir, "hs_ed25519_secret_key", NULL);
  g_autofree char *torrc_path = g_build_filename (dir, "torrc", NULL);
  g_autofree char *log_path = g_build_filename (dir, "notice.log", NULL);
  g_autofree char *torrc = NULL;
  static const char header[] = "== ed25519v1-secret: type0 ==";
  guint8 secret[32 + TC_EXPANDED_KEY_LEN] = { 0 };
  guint socks_port = free_port (), listen_port = free_port ();
  TcTestNode *b;

  /* The node first: its profile makes the key the onion service needs.
   * Its SOCKS port answers once tor is up; until then it retries. */
  b = tc_test_net_new_node (net, "B");
  b->plaintext = TRUE;
  b->socks_only = g_strdup_printf ("127.0.0.1:%u", socks_port);
  b->listen_only = g_strdup_printf ("127.0.0.1:%u", listen_port);
  tc_test_node_start (net, b);

  identity_path = g_build_filename (b->profile, "identity.key", NULL);
  if ((identity = tc_identity_load (identity_path, &error)) == NULL)
    fail (error->message);
  /* Tor's key file: a 32-byte NUL-padded header, then the expanded key. */
  memcpy (secret, header, strlen (header));
  tc_identity_get_expanded_key (identity, secret + 32);
  if (g_mkdir_with_parents (hs_dir, 0700) != 0 ||
      !g_file_set_contents_full (secret_path, (const char *) secret, sizeof secret,
                                 G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error))
    fail (error != NULL ? error->message : "cannot create B's onion directory");

  raw->listener = g_socket_listener_new ();
  if (!g_socket_listener_add_address (raw->listener, any, G_SOCKET_TYPE_STREAM,
                                      G_SOCKET_PROTOCOL_TCP, NULL, &bound, &error))
    fail (error->message);
  torrc = g_strdup_printf ("DataDirectory %s/data\n"
                           "Log notice file %s\n"
                           "SocksPort 127.0.0.1:%u\n"
                           "ClientOnly 1\n"
                           "%%include %s\n"
                           "HiddenServiceDir %s\n"
                           "HiddenServicePort %u 127.0.0.1:%u\n"
                           "HiddenServicePort 9 127.0.0.1:%u\n",
                           dir, log_path, socks_port, net->tor_config, hs_dir,
                           TC_VIRTUAL_PORT, listen_port,
                           g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  if (!g_file_set_contents_full (torrc_path, torrc, -1, G_FILE_SET_CONTENTS_NONE, 0600, &error))
    fail (error->message);
  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  raw->tor = g_subprocess_launcher_spawn (launcher, &error, "tor", "-f", torrc_path, NULL);
  if (raw->tor == NULL)
    fail (error->message);

  raw->onion = g_strdup (b->address);
  raw->socks = g_strdup (json_object_get_string_member (status, "socks-address"));

  return b;
}

/* Seconds from the first byte written to the last byte read by the sink,
 * on a stream to B's port 9 with @isolation as its SOCKS user name. */
static double
raw_onion (RawService   *raw,
           const char   *isolation,
           const guint8 *data,
           gsize         size)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  Sink sink = { 0 };
  GThread *thread;
  double deadline, t0;

  sink.listener = raw->listener;
  thread = g_thread_new ("sink", sink_thread, &sink);

  /* The first stream waits for the descriptor to reach the directories. */
  deadline = tc_test_now () + STEP_TIMEOUT;
  while ((connection = socks_connect (raw->socks, raw->onion, isolation, NULL)) == NULL)
    {
      if (tc_test_now () > deadline)
        fail ("B's onion service never answered");
      if (g_subprocess_get_identifier (raw->tor) == NULL)
        fail ("B's tor stopped");
      tc_test_sleep (1000);
    }

  t0 = tc_test_now ();
  if (!g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                  data, size, NULL, NULL, &error))
    fail (error->message);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  while (!g_atomic_int_get (&sink.done))
    {
      if (tc_test_now () > deadline)
        fail ("the raw copy did not end");
      tc_test_sleep (50);
    }
  g_thread_join (thread);
  if (sink.received != size)
    fail ("the raw copy lost bytes");

  return sink.last - t0;
}

static const char *
transfer_member (TcTestNode *node,
                 const char *tid,
                 const char *member)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "transfers");
  JsonArray *array = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *t = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (t, "id"), tid) == 0)
        return g_intern_string (json_object_get_string_member_with_default (t, member, ""));
    }

  return "(none)";
}

/* The TORChat half: accept the offer @tid on B, and time it to the file
 * checked and in place. Returns the seconds from the accept; *@ready
 * gets those from the file stream ready, *@end when the file was there. */
static double
torchat_half (TcTestNode *b,
              const char *tid,
              const char *downloads,
              const char *final,
              double     *ready,
              double     *end)
{
  double t0 = tc_test_now (), deadline = t0 + 2 * STEP_TIMEOUT, t_active = 0, t_end;

  tc_test_run_cli (b, NULL, NULL, NULL, "accept-file", tid, downloads);
  /* Asking B's node (a torchat process per look) only until the file
   * stream is ready; then the file's arrival under its final name is
   * watched with stat() alone, so that the measurement does not start
   * a process every 50 ms on the two cores tor's relays share. */
  while (t_active == 0)
    {
      const char *state = transfer_member (b, tid, "state");

      if (g_str_equal (state, "active") || g_str_equal (state, "done"))
        t_active = tc_test_now ();
      else if (tc_test_now () > deadline)
        fail ("the file stream was never ready");
      else
        tc_test_sleep (50);
    }
  while (!g_file_test (final, G_FILE_TEST_EXISTS))
    {
      if (tc_test_now () > deadline)
        fail ("the transfer did not finish");
      tc_test_sleep (5);
    }
  t_end = tc_test_now ();
  /* The node renames the file, then marks the transfer done. */
  while (!g_str_equal (transfer_member (b, tid, "state"), "done"))
    {
      if (tc_test_now () > deadline)
        fail ("the file is in place but the transfer is not done");
      tc_test_sleep (50);
    }
  g_unlink (final);

  *ready = t_end - t_active;
  *end = t_end;
  return t_end - t0;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (3);
  g_autofree guint32 *data = NULL;
  g_autofree char *path = NULL;
  g_autofree char *downloads = NULL;
  g_autofree char *final = NULL;
  guint size_mb = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 20;
  guint rounds = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 16;
  gsize size = (gsize) size_mb * MB;
  TcTestNode *a, *b;
  RawService raw_service = { 0 };
  FlowEvents flow = { 0 };
  GThread *flow_reader;
  guint same_circuit = 0;
  /* Sums of the logarithms of the same-circuit ratios, by who went first. */
  double log_ratio[2] = { 0, 0 }, log_whole[2] = { 0, 0 }, log_control = 0;
  guint n_ratio[2] = { 0, 0 }, n_control = 0;

  /* Line by line, so that a run cut short still shows its rounds. */
  setvbuf (stdout, NULL, _IOLBF, 0);

  if (tc_test_tornet_missing () != NULL)
    {
      g_printerr ("bench-tor-transfer: %s\n", tc_test_tornet_missing ());
      return 77;
    }

  net = tc_test_net_new_tor ();
  net->quiet = TRUE;
  if (!tc_test_tornet_start (net, &error))
    fail (error->message);
  a = tc_test_net_add_node (net, "A");
  wait_for (tor_usable, a, "A's onion never became reachable");
  b = b_node_start (&raw_service, a);

  data = g_new (guint32, size / 4);
  for (gsize i = 0; i < size / 4; i++)
    data[i] = g_rand_int (rand);
  path = g_build_filename (net->tmpdir, "bench.bin", NULL);
  downloads = g_build_filename (net->tmpdir, "downloads", NULL);
  g_mkdir_with_parents (downloads, 0700);
  g_file_set_contents (path, (const char *) data, size, &error);
  final = g_build_filename (downloads, "bench.bin", NULL);

  /* B's descriptor is up once a raw byte gets through. */
  raw_onion (&raw_service, "bench-probe", (const guint8 *) data, 1);
  tc_test_make_friends (net, a, b);

  if (g_getenv ("TORCHAT_BENCH_CIRC_LOG") != NULL &&
      (flow.circ_log = fopen (g_getenv ("TORCHAT_BENCH_CIRC_LOG"), "w")) == NULL)
    fail ("cannot write TORCHAT_BENCH_CIRC_LOG");
  g_free (control_command (a, flow.circ_log ? "SETEVENTS STREAM CIRC_BW" : "SETEVENTS STREAM",
                           &flow.control));
  flow_reader = g_thread_new ("flow", flow_thread, &flow);
  g_print ("size-mb: %u\n", size_mb);
  for (guint round = 1; round <= rounds; round++)
    {
      g_autofree char *tid = NULL;
      g_autofree char *own = g_strdup_printf ("bench-raw-%u", round);
      g_autofree char *shared = NULL;
      double raw, same, deadline, torchat, ready, end, connected;
      gboolean same_first = round % 2 == 0;
      gint node_circ, raw_circ;
      char *nl;

      gint xoff0 = g_atomic_int_get (&flow.xoff), xon0 = g_atomic_int_get (&flow.xon);
      gint xoff1, xon1;

      /* Raw bytes on a circuit of their own, as before. */
      mark (&flow, "raw-start");
      raw = raw_onion (&raw_service, own, (const guint8 *) data, size);
      mark (&flow, "raw-end");
      xoff1 = g_atomic_int_get (&flow.xoff);
      xon1 = g_atomic_int_get (&flow.xon);

      if (tc_test_run_cli (a, NULL, &tid, NULL, "send-file", b->address, path) != 0)
        fail ("send-file failed");
      if ((nl = strchr (tid, '\n')) != NULL)
        *nl = '\0';
      shared = g_strdup_printf ("torchat-file-%s", tid);
      deadline = tc_test_now () + STEP_TIMEOUT;
      while (!g_str_equal (transfer_member (b, tid, "state"), "offered"))
        {
          if (tc_test_now () > deadline)
            fail ("no offer");
          tc_test_sleep (100);
        }

      /* Raw bytes on the file stream's circuit: with its SOCKS user name,
       * before the file in even rounds (they build the circuit and the
       * file stream finds it warm), after it in odd ones. */
      g_mutex_lock (&flow.lock);
      flow.node_circ = 0;
      g_mutex_unlock (&flow.lock);
      if (same_first)
        {
          mark (&flow, "same-start");
          same = raw_onion (&raw_service, shared, (const guint8 *) data, size);
          mark (&flow, "same-end");
        }
      mark (&flow, "torchat-start");
      torchat = torchat_half (b, tid, downloads, final, &ready, &end);
      mark (&flow, "torchat-end");
      if (!same_first)
        {
          mark (&flow, "same-start");
          same = raw_onion (&raw_service, shared, (const guint8 *) data, size);
          mark (&flow, "same-end");
        }
      g_mutex_lock (&flow.lock);
      node_circ = flow.node_circ;
      raw_circ = flow.raw_circ;
      connected = node_circ != 0 ? end - flow.node_connected : ready;
      g_mutex_unlock (&flow.lock);
      if (node_circ != 0 && node_circ == raw_circ)
        same_circuit++;
      log_ratio[same_first] += log (same / connected);
      log_whole[same_first] += log (same / torchat);
      n_ratio[same_first]++;

      g_print ("round %u raw-onion-mb-per-s: %.2f (own circuit; connected stream: first byte written to last byte read)\n",
               round, size / raw / MB);
      g_print ("round %u raw-same-circuit-mb-per-s: %.2f (%s the file, on its circuit: %s)\n",
               round, size / same / MB, same_first ? "before" : "after",
               node_circ != 0 && node_circ == raw_circ ? "yes" : "no");
      g_print ("round %u torchat-mb-per-s: %.2f (accept to checked and in place)\n",
               round, size / torchat / MB);
      g_print ("round %u torchat-setup-s: %.2f (accept to file stream ready)\n",
               round, torchat - ready);
      g_print ("round %u torchat-connected-mb-per-s: %.2f (file stream connected at A's tor to checked and in place)\n",
               round, size / connected / MB);
      g_print ("round %u ratio-same-circuit: %.2f (from the file stream connected), %.2f (whole)\n",
               round, same / connected, same / torchat);
      g_print ("round %u ratio-own-circuit: %.2f (whole), %.2f (from the file stream ready)\n",
               round, raw / torchat, raw / ready);
      /* The control: two raw copies in a row on one new circuit, to see
       * what being second on a circuit costs without TORChat. */
      if (g_getenv ("TORCHAT_BENCH_CONTROL") != NULL)
        {
          g_autofree char *pair = g_strdup_printf ("bench-pair-%u", round);
          double first, second;
          gint circ1, circ2;

          first = raw_onion (&raw_service, pair, (const guint8 *) data, size);
          g_mutex_lock (&flow.lock);
          circ1 = flow.raw_circ;
          g_mutex_unlock (&flow.lock);
          second = raw_onion (&raw_service, pair, (const guint8 *) data, size);
          g_mutex_lock (&flow.lock);
          circ2 = flow.raw_circ;
          g_mutex_unlock (&flow.lock);
          log_control += log (first / second);
          n_control++;
          g_print ("round %u control-raw-twice-mb-per-s: %.2f then %.2f (second/first %.2f, one circuit: %s)\n",
                   round, size / first / MB, size / second / MB, first / second,
                   circ1 == circ2 ? "yes" : "no");
        }
      g_print ("round %u xoff-xon-received: raw %d/%d, torchat and same %d/%d (of %d STREAM events of A's tor so far)\n",
               round, xoff1 - xoff0, xon1 - xon0,
               g_atomic_int_get (&flow.xoff) - xoff1, g_atomic_int_get (&flow.xon) - xon1,
               g_atomic_int_get (&flow.events));
    }
  g_print ("rounds-on-one-circuit: %u of %u\n", same_circuit, rounds);
  /* Being second on a circuit costs a stream about a fifth here, raw
   * bytes as well (TORCHAT_BENCH_CONTROL=1 shows it): the geometric mean
   * over both orders cancels that factor. */
  if (n_ratio[0] > 0 && n_ratio[1] > 0)
    {
      g_print ("ratio-same-circuit-geomean: %.2f (TORChat first %.2f over %u rounds, raw first %.2f over %u)\n",
               exp ((log_ratio[0] / n_ratio[0] + log_ratio[1] / n_ratio[1]) / 2),
               exp (log_ratio[0] / n_ratio[0]), n_ratio[0],
               exp (log_ratio[1] / n_ratio[1]), n_ratio[1]);
      g_print ("ratio-same-circuit-whole-geomean: %.2f (TORChat timed from the accept)\n",
               exp ((log_whole[0] / n_ratio[0] + log_whole[1] / n_ratio[1]) / 2));
    }
  if (n_control > 0)
    g_print ("control-second-over-first-geomean: %.2f over %u rounds\n",
             exp (log_control / n_control), n_control);

  /* A shutdown wakes the reader's blocking read; a close would not. */
  g_socket_shutdown (g_socket_connection_get_socket (flow.control), TRUE, TRUE, NULL);
  g_thread_join (flow_reader);
  if (flow.circ_log != NULL)
    fclose (flow.circ_log);
  g_clear_object (&flow.control);
  /* B's tor before the net, whose directory it writes in. */
  g_subprocess_send_signal (raw_service.tor, SIGTERM);
  g_subprocess_wait (raw_service.tor, NULL, NULL);
  g_clear_object (&raw_service.tor);
  tc_test_net_free (net);
  g_clear_object (&raw_service.listener);
  g_free (raw_service.onion);
  g_free (raw_service.socks);
  return 0;
}
