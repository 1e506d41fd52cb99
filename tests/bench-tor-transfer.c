/* bench-tor-transfer.c: a file over onion circuits against raw bytes over
 * the same kind of circuit
 *
 * A private Tor network on loopback (tests/tor-network.sh) and two nodes A
 * and B with their own managed tors. The benchmark adds a second onion
 * service to B's tor (ADD_ONION over its control port) that forwards to a
 * plain sink socket. In each round, first the raw figure: it connects to
 * that service through A's tor's SOCKS port, with a SOCKS user name of
 * the round's so that the stream gets a new circuit of its own, and writes
 * the file's bytes; then the same file goes from A to B with `send-file` /
 * `accept-file`, whose file stream also gets a new circuit of its own.
 * Both are timed to the last byte on B's side. Prints "key: value" lines;
 * see docs/benchmarks.md.
 *
 *   meson test -C BUILD --benchmark tor-transfer -v
 *
 * Optional arguments: the size in MB (default 20) and the number of rounds
 * (default 3), each raw then TORChat. TORCHAT_BENCH_CIRC_LOG=FILE writes
 * there every second's CIRC_BW event of A's tor for a circuit that sent
 * something (bytes, congestion window, round-trip time) and where each
 * half of a round starts and ends, all on the monotonic clock in seconds.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tc-test-harness.h"

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
      char *nl;

      g_string_append_len (pending, buf, n);
      while ((nl = strchr (pending->str, '\n')) != NULL)
        {
          *nl = '\0';
          g_atomic_int_inc (&flow->events);
          if (strstr (pending->str, " XOFF_RECV") != NULL)
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

/* The raw onion service: one for the whole run (a new one each round
 * would wait on its descriptor's upload, which on this private network
 * sometimes takes minutes), forwarding to a sink socket. */
typedef struct {
  GSocketConnection *control;   /* the service lives as long as this */
  GSocketListener   *listener;
  char              *onion;
  char              *socks;
} RawService;

static void
raw_service_start (RawService *raw,
                   TcTestNode *a,
                   TcTestNode *b)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(JsonObject) status = tor_status (a);
  g_autofree char *command = NULL;
  g_autofree char *reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *id;

  raw->listener = g_socket_listener_new ();
  g_socket_listener_add_address (raw->listener, any, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  command = g_strdup_printf ("ADD_ONION NEW:ED25519-V3 Flags=DiscardPK Port=9,127.0.0.1:%u",
                             g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  reply = control_command (b, command, &raw->control);
  if ((id = strstr (reply, "250-ServiceID=")) == NULL)
    fail (reply);
  raw->onion = g_strdup_printf ("%.56s.onion", id + strlen ("250-ServiceID="));
  raw->socks = g_strdup (json_object_get_string_member (status, "socks-address"));
}

/* Seconds from the first byte written to the last byte read by the sink,
 * on a stream with a circuit of its own (the round's isolation name). */
static double
raw_onion (RawService   *raw,
           guint         round,
           const guint8 *data,
           gsize         size)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *isolation = g_strdup_printf ("bench-raw-%u", round);
  Sink sink = { 0 };
  GThread *thread;
  double deadline, t0;

  sink.listener = raw->listener;
  thread = g_thread_new ("sink", sink_thread, &sink);

  /* The first round waits for the descriptor to reach the directories. */
  deadline = tc_test_now () + STEP_TIMEOUT;
  while ((connection = socks_connect (raw->socks, raw->onion, isolation, NULL)) == NULL)
    {
      if (tc_test_now () > deadline)
        fail ("the raw onion service never answered");
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
  guint rounds = argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 3;
  gsize size = (gsize) size_mb * MB;
  TcTestNode *a, *b;
  RawService raw_service = { 0 };
  FlowEvents flow = { 0 };
  GThread *flow_reader;

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
  b = tc_test_net_add_node (net, "B");
  wait_for (tor_usable, a, "A's onion never became reachable");
  wait_for (tor_usable, b, "B's onion never became reachable");
  tc_test_make_friends (net, a, b);

  data = g_new (guint32, size / 4);
  for (gsize i = 0; i < size / 4; i++)
    data[i] = g_rand_int (rand);
  path = g_build_filename (net->tmpdir, "bench.bin", NULL);
  downloads = g_build_filename (net->tmpdir, "downloads", NULL);
  g_mkdir_with_parents (downloads, 0700);
  g_file_set_contents (path, (const char *) data, size, &error);
  final = g_build_filename (downloads, "bench.bin", NULL);

  raw_service_start (&raw_service, a, b);
  if (g_getenv ("TORCHAT_BENCH_CIRC_LOG") != NULL &&
      (flow.circ_log = fopen (g_getenv ("TORCHAT_BENCH_CIRC_LOG"), "w")) == NULL)
    fail ("cannot write TORCHAT_BENCH_CIRC_LOG");
  g_free (control_command (a, flow.circ_log ? "SETEVENTS STREAM CIRC_BW" : "SETEVENTS STREAM",
                           &flow.control));
  flow_reader = g_thread_new ("flow", flow_thread, &flow);
  g_print ("size-mb: %u\n", size_mb);
  for (guint round = 1; round <= rounds; round++)
    {
      g_autofree char *out = NULL;
      double raw, t0, deadline, torchat, t_active = 0, t_end;
      char *nl;

      gint xoff0 = g_atomic_int_get (&flow.xoff), xon0 = g_atomic_int_get (&flow.xon);
      gint xoff1, xon1;

      /* Alternating, so that a change in the network's load hits both. */
      mark (&flow, "raw-start");
      raw = raw_onion (&raw_service, round, (const guint8 *) data, size);
      mark (&flow, "raw-end");
      xoff1 = g_atomic_int_get (&flow.xoff);
      xon1 = g_atomic_int_get (&flow.xon);

      if (tc_test_run_cli (a, NULL, &out, NULL, "send-file", b->address, path) != 0)
        fail ("send-file failed");
      if ((nl = strchr (out, '\n')) != NULL)
        *nl = '\0';
      deadline = tc_test_now () + STEP_TIMEOUT;
      while (!g_str_equal (transfer_member (b, out, "state"), "offered"))
        {
          if (tc_test_now () > deadline)
            fail ("no offer");
          tc_test_sleep (100);
        }
      t0 = tc_test_now ();
      mark (&flow, "torchat-start");
      tc_test_run_cli (b, NULL, NULL, NULL, "accept-file", out, downloads);
      /* Asking B's node (a torchat process per look) only until the file
       * stream is ready; then the file's arrival under its final name is
       * watched with stat() alone, so that the measurement does not start
       * a process every 50 ms on the two cores tor's relays share. */
      while (t_active == 0)
        {
          const char *state = transfer_member (b, out, "state");

          if (g_str_equal (state, "active") || g_str_equal (state, "done"))
            t_active = tc_test_now ();
          else if (tc_test_now () > deadline + STEP_TIMEOUT)
            fail ("the file stream was never ready");
          else
            tc_test_sleep (50);
        }
      while (!g_file_test (final, G_FILE_TEST_EXISTS))
        {
          if (tc_test_now () > deadline + STEP_TIMEOUT)
            fail ("the transfer did not finish");
          tc_test_sleep (5);
        }
      t_end = tc_test_now ();
      mark (&flow, "torchat-end");
      torchat = t_end - t0;
      /* The node renames the file, then marks the transfer done. */
      while (!g_str_equal (transfer_member (b, out, "state"), "done"))
        {
          if (tc_test_now () > deadline + STEP_TIMEOUT)
            fail ("the file is in place but the transfer is not done");
          tc_test_sleep (50);
        }
      g_unlink (final);

      g_print ("round %u raw-onion-mb-per-s: %.2f (connected stream: first byte written to last byte read)\n",
               round, size / raw / MB);
      g_print ("round %u torchat-mb-per-s: %.2f (accept to checked and in place)\n",
               round, size / torchat / MB);
      g_print ("round %u torchat-setup-s: %.2f (accept to file stream ready)\n",
               round, t_active - t0);
      g_print ("round %u ratio: %.2f (whole), %.2f (from the file stream ready)\n",
               round, raw / torchat, raw / (t_end - t_active));
      g_print ("round %u xoff-xon-received: raw %d/%d, torchat %d/%d (of %d STREAM events of A's tor so far)\n",
               round, xoff1 - xoff0, xon1 - xon0,
               g_atomic_int_get (&flow.xoff) - xoff1, g_atomic_int_get (&flow.xon) - xon1,
               g_atomic_int_get (&flow.events));
    }

  /* A shutdown wakes the reader's blocking read; a close would not. */
  g_socket_shutdown (g_socket_connection_get_socket (flow.control), TRUE, TRUE, NULL);
  g_thread_join (flow_reader);
  if (flow.circ_log != NULL)
    fclose (flow.circ_log);
  g_clear_object (&flow.control);
  g_clear_object (&raw_service.control);
  g_clear_object (&raw_service.listener);
  g_free (raw_service.onion);
  g_free (raw_service.socks);
  tc_test_net_free (net);
  return 0;
}
