/* test-tor-network.c: TORChat end to end on a real, private Tor network
 *
 * tests/tor-network.sh starts a Tor network on 127.0.0.1 (an authority and
 * three relays) once for the whole program. Nodes A, B and C run as
 * `torchat --headless --tor-config DIR/client.torrc` on their own profiles,
 * so each starts and manages its own tor, and talk through onion services
 * only. The cases build on each other in order (A and B become contacts,
 * then lose and regain Tor) but each starts what it needs, so one can run
 * alone with -p.
 *
 * Set TC_TEST_KEEP=1 to keep the profiles, the network and the logs,
 * TC_TEST_NODE_DEBUG=1 for debug logs from the nodes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <stdlib.h>

#include "tc-test-harness.h"

/* Per step: a tor on two busy cores may take a while; the waits return as
 * soon as their condition holds. */
#define STEP_TIMEOUT 120.0
#define BURST 50

#define WAIT_UNTIL(expr) TC_WAIT_UNTIL (net, expr, STEP_TIMEOUT)
#define CLI(node, ...) tc_test_run_cli ((node), NULL, NULL, NULL, __VA_ARGS__)

static TcTestNet *net;
static const char *skip_reason;
static char *network_error;

/* The program's nodes by name, started on first use. */
static TcTestNode *
get_node (const char *name)
{
  TcTestNode *node;

  for (guint i = 0; i < net->nodes->len; i++)
    {
      node = g_ptr_array_index (net->nodes, i);
      if (g_str_equal (node->name, name))
        return node;
    }

  return tc_test_net_add_node (net, name);
}

/* Skips without tor, fails without a network; TRUE to go on. */
static gboolean
have_network (void)
{
  if (skip_reason != NULL)
    {
      g_test_skip (skip_reason);
      return FALSE;
    }

  if (network_error != NULL)
    {
      g_test_fail_printf ("the private Tor network did not start (its logs are above)");
      return FALSE;
    }

  return TRUE;
}

/* `tor --json` of @node. */
static JsonObject *
tor_status (TcTestNode *node)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "tor");

  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static gboolean
tor_published (TcTestNode *node)
{
  g_autoptr(JsonObject) status = tor_status (node);

  return g_strcmp0 (json_object_get_string_member_with_default (status, "state", ""), "ready") == 0 &&
         json_object_get_boolean_member_with_default (status, "onion-published", FALSE);
}

/* Ready, published, and the descriptor is on the HSDirs. */
static gboolean
tor_usable (TcTestNode *node)
{
  g_autoptr(JsonObject) status = tor_status (node);

  return g_strcmp0 (json_object_get_string_member_with_default (status, "state", ""), "ready") == 0 &&
         json_object_get_boolean_member_with_default (status, "onion-published", FALSE) &&
         json_object_get_boolean_member_with_default (status, "reachable", FALSE);
}

/* `tor --json`'s last-error, NULL when none. */
static char *
tor_last_error (TcTestNode *node)
{
  g_autoptr(JsonObject) status = tor_status (node);

  return g_strdup (json_object_get_string_member_with_default (status, "last-error", NULL));
}

/* The PID in P/tor/tor.pid, if that process runs; 0 otherwise. */
static pid_t
tor_pid (TcTestNode *node)
{
  g_autofree char *path = g_build_filename (node->profile, "tor", "tor.pid", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *proc = NULL;
  guint64 pid;

  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      !g_ascii_string_to_unsigned (g_strstrip (contents), 10, 2, G_MAXINT, &pid, NULL))
    return 0;

  proc = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT, pid);
  return g_file_test (proc, G_FILE_TEST_EXISTS) ? (pid_t) pid : 0;
}

static gboolean
pid_gone (pid_t pid)
{
  g_autofree char *proc = g_strdup_printf ("/proc/%d", (int) pid);

  return !g_file_test (proc, G_FILE_TEST_EXISTS);
}

static void
wait_usable (TcTestNode *node)
{
  WAIT_UNTIL (tor_usable (node));
}

/* Both directions accepted, whoever asked. */
static gboolean
friends (TcTestNode *a,
         TcTestNode *b)
{
  return tc_test_contact_is (a, b->address, "state", "accepted") &&
         tc_test_contact_is (b, a->address, "state", "accepted");
}

static void
make_friends (TcTestNode *a,
              TcTestNode *b)
{
  double t0 = tc_test_now ();

  g_assert_cmpint (CLI (a, "add", b->address, b->name, "Hello over Tor"), ==, 0);
  WAIT_UNTIL (tc_test_contact_is (b, a->address, "state", "pending"));
  g_assert_true (tc_test_contact_is (b, a->address, "greeting", "Hello over Tor"));
  g_test_message ("%s's request reached %s after %.1f s", a->name, b->name, tc_test_now () - t0);

  t0 = tc_test_now ();
  g_assert_cmpint (CLI (b, "accept", a->address), ==, 0);
  WAIT_UNTIL (tc_test_contact_is (a, b->address, "state", "accepted"));
  g_assert_true (tc_test_contact_is (b, a->address, "state", "accepted"));
  g_test_message ("%s's acceptance reached %s after %.1f s", b->name, a->name, tc_test_now () - t0);
}

static void
ensure_friends (TcTestNode *a,
                TcTestNode *b)
{
  if (!friends (a, b))
    make_friends (a, b);
}

static void
send_text (TcTestNode *from,
           TcTestNode *to,
           const char *text)
{
  g_autofree char *err = NULL;
  int status;

  status = tc_test_run_cli (from, NULL, NULL, &err, "send", to->address, text);
  if (status != 0)
    g_test_message ("send on %s: status %d: %s", from->name, status, err);
  g_assert_cmpint (status, ==, 0);
}

static guint
count_prefix (GPtrArray  *texts,
              const char *prefix)
{
  guint n = 0;

  for (guint i = 0; i < texts->len; i++)
    n += g_str_has_prefix (g_ptr_array_index (texts, i), prefix);

  return n;
}

/* Messages of @node's history with @peer starting with @prefix. */
static guint
history_prefix (TcTestNode *node,
                TcTestNode *peer,
                const char *direction,
                const char *state,
                const char *prefix)
{
  g_autoptr(GPtrArray) texts = tc_test_history_texts (node, peer->address, direction, state);

  return count_prefix (texts, prefix);
}

/* The texts with @prefix in @node's incoming history from @peer are
 * exactly @expected, in this order. */
static void
assert_received (TcTestNode         *node,
                 TcTestNode         *peer,
                 const char         *prefix,
                 const char * const *expected)
{
  g_autoptr(GPtrArray) texts = tc_test_history_texts (node, peer->address, "in", NULL);
  g_autoptr(GPtrArray) got = g_ptr_array_new ();
  guint n = g_strv_length ((char **) expected);

  for (guint i = 0; i < texts->len; i++)
    if (g_str_has_prefix (g_ptr_array_index (texts, i), prefix))
      g_ptr_array_add (got, g_ptr_array_index (texts, i));

  for (guint i = 0; i < MIN (n, got->len); i++)
    {
      if (!g_str_equal (g_ptr_array_index (got, i), expected[i]))
        g_test_message ("%s's history from %s, position %u: got “%s”, expected “%s”",
                        node->name, peer->name, i, (char *) g_ptr_array_index (got, i),
                        expected[i]);
      g_assert_cmpstr (g_ptr_array_index (got, i), ==, expected[i]);
    }
  g_assert_cmpuint (got->len, ==, n);
}

/* The control port, asked by the test itself */

typedef struct
{
  GSocketConnection *connection;
  GDataInputStream  *in;
  GOutputStream     *out;
} ControlPort;

static void
control_port_close (ControlPort *port)
{
  if (port->connection != NULL)
    g_io_stream_close (G_IO_STREAM (port->connection), NULL, NULL);
  g_clear_object (&port->in);
  g_clear_object (&port->connection);
}

/* Sends @command and returns tor's whole reply, one line each, data
 * blocks included; the last line holds the status. */
static char *
control_port_ask (ControlPort *port,
                  const char  *command)
{
  g_autoptr(GString) reply = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *line_out = g_strdup_printf ("%s\r\n", command);

  g_output_stream_write_all (port->out, line_out, strlen (line_out), NULL, NULL, &error);
  g_assert_no_error (error);

  for (;;)
    {
      g_autofree char *line = g_data_input_stream_read_line (port->in, NULL, NULL, &error);

      g_assert_no_error (error);
      g_assert_nonnull (line);
      g_string_append_printf (reply, "%s\n", line);
      if (strlen (line) < 4)
        continue;

      if (line[3] == '+')
        {
          for (;;)
            {
              g_autofree char *data = g_data_input_stream_read_line (port->in, NULL, NULL, &error);

              g_assert_no_error (error);
              g_assert_nonnull (data);
              g_string_append_printf (reply, "%s\n", data);
              if (g_str_equal (data, "."))
                break;
            }
        }
      else if (line[3] == ' ')
        break;
    }

  return g_string_free (g_steal_pointer (&reply), FALSE);
}

/* Connects to the managed tor of @node: the port from P/tor/control-port,
 * cookie authentication with P/tor/data/control_auth_cookie, both written
 * by tor itself. */
static void
control_port_open (TcTestNode  *node,
                   ControlPort *port)
{
  g_autofree char *port_path = g_build_filename (node->profile, "tor", "control-port", NULL);
  g_autofree char *cookie_path = g_build_filename (node->profile, "tor", "data",
                                                   "control_auth_cookie", NULL);
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) command = g_string_new ("AUTHENTICATE ");
  g_autofree char *contents = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *reply = NULL;
  gsize cookie_len = 0;
  const char *address;

  g_file_get_contents (port_path, &contents, NULL, &error);
  g_assert_no_error (error);
  g_strstrip (contents);
  g_assert_true (g_str_has_prefix (contents, "PORT="));
  address = contents + strlen ("PORT=");

  g_file_get_contents (cookie_path, &cookie, &cookie_len, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (cookie_len, ==, 32);
  for (gsize i = 0; i < cookie_len; i++)
    g_string_append_printf (command, "%02X", (guint8) cookie[i]);

  g_socket_client_set_timeout (client, 30);
  g_socket_client_set_enable_proxy (client, FALSE);
  port->connection = g_socket_client_connect_to_host (client, address, 0, NULL, &error);
  g_assert_no_error (error);
  port->in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (port->connection)));
  g_data_input_stream_set_newline_type (port->in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  port->out = g_io_stream_get_output_stream (G_IO_STREAM (port->connection));

  reply = control_port_ask (port, command->str);
  g_assert_cmpstr (reply, ==, "250 OK\n");
}

/* The onion service descriptor that @node's tor holds for @address, or
 * NULL if that tor hosts no such service. Tor keeps ephemeral services
 * in memory only and `onions/current` lists only the asking connection's
 * own, so the descriptor is what shows the service exists. */
static char *
tor_hosted_descriptor (TcTestNode *node,
                       const char *address)
{
  ControlPort port = { 0 };
  g_autofree char *id = g_strndup (address, strlen (address) - strlen (".onion"));
  g_autofree char *command = g_strdup_printf ("GETINFO hs/service/desc/id/%s", id);
  g_autofree char *reply = NULL;
  g_autofree char *prefix = g_strdup_printf ("250+hs/service/desc/id/%s=\n", id);

  g_assert_true (g_str_has_suffix (address, ".onion"));
  control_port_open (node, &port);
  reply = control_port_ask (&port, command);
  g_free (control_port_ask (&port, "QUIT"));
  control_port_close (&port);

  /* 551 "Not found in cache": tor hosts no service with that key. */
  if (g_str_has_prefix (reply, "551 ") || g_str_has_prefix (reply, "552 "))
    return NULL;

  if (!g_str_has_prefix (reply, prefix))
    g_test_message ("%s's tor answered “%s” with: %s", node->name, command, reply);
  g_assert_true (g_str_has_prefix (reply, prefix));
  g_assert_true (g_str_has_suffix (reply, "\n.\n250 OK\n"));

  return g_strdup (reply + strlen (prefix));
}

/* Cases */

static void
test_publish (void)
{
  const char *names[] = { "A", "B", "C" };
  TcTestNode *nodes[G_N_ELEMENTS (names)];
  double t0 = tc_test_now ();

  if (!have_network ())
    return;

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    nodes[i] = get_node (names[i]);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *error = NULL;

      WAIT_UNTIL (tor_published (nodes[i]));
      g_test_message ("node %s published %.1f s after the three nodes started",
                      nodes[i]->name, tc_test_now () - t0);
      error = tor_last_error (nodes[i]);
      if (error != NULL)
        g_test_message ("node %s: tor last-error: %s", nodes[i]->name, error);
      g_assert_null (error);
      WAIT_UNTIL (tor_usable (nodes[i]));
      g_test_message ("node %s reachable %.1f s after the three nodes started",
                      nodes[i]->name, tc_test_now () - t0);
    }

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      TcTestNode *node = nodes[i];
      TcTestNode *other = nodes[(i + 1) % G_N_ELEMENTS (names)];
      g_autoptr(JsonNode) id = tc_test_cli_json (node, "id");
      g_autofree char *descriptor = NULL;
      g_autofree char *foreign = NULL;
      const char *shown;

      /* What the user copies to give a contact is what tor serves. */
      g_assert_true (JSON_NODE_HOLDS_OBJECT (id));
      shown = json_object_get_string_member_with_default (json_node_get_object (id), "address", "");
      g_assert_cmpstr (shown, ==, node->address);
      descriptor = tor_hosted_descriptor (node, shown);
      if (descriptor == NULL)
        tc_test_fail_with_logs (net, __FILE__, __LINE__, G_STRFUNC,
                                "the node's tor hosts no onion service for the address `id` shows");
      g_assert_true (g_str_has_prefix (descriptor, "hs-descriptor 3\n"));

      /* The query tells services apart: another node's is not here. */
      foreign = tor_hosted_descriptor (node, other->address);
      g_assert_null (foreign);
    }
}

static void
test_contact_and_messages (void)
{
  TcTestNode *a, *b;
  const char *to_b[] = { "msg A→B 1", "msg A→B 2 Ünïcødé ✓", NULL };
  const char *to_a[] = { "msg B→A 1", NULL };

  if (!have_network ())
    return;

  a = get_node ("A");
  b = get_node ("B");
  wait_usable (a);
  wait_usable (b);

  if (friends (a, b))
    g_test_message ("A and B were already contacts");
  else
    make_friends (a, b);

  for (guint i = 0; to_b[i] != NULL; i++)
    send_text (a, b, to_b[i]);
  send_text (b, a, to_a[0]);

  /* Delivered means B's receipt came back through Tor. */
  WAIT_UNTIL (history_prefix (a, b, "out", "delivered", "msg A→B") == 2);
  WAIT_UNTIL (history_prefix (b, a, "out", "delivered", "msg B→A") == 1);
  g_assert_cmpint (tc_test_outbox (a, b->address), ==, 0);
  g_assert_cmpint (tc_test_outbox (b, a->address), ==, 0);

  /* Exactly once, nothing more arriving later. */
  tc_test_sleep (1000);
  assert_received (b, a, "msg A→B", to_b);
  assert_received (a, b, "msg B→A", to_a);
  WAIT_UNTIL (tc_test_contact_is (a, b->address, "connected", "true") &&
              tc_test_contact_is (b, a->address, "connected", "true"));
}

static char *
sha256_of_file (const char *path)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autoptr(GMappedFile) mapped = g_mapped_file_new (path, FALSE, NULL);

  if (mapped == NULL)
    return NULL;
  g_checksum_update (checksum, (const guchar *) g_mapped_file_get_contents (mapped),
                     g_mapped_file_get_length (mapped));
  return g_strdup (g_checksum_get_string (checksum));
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
        return g_intern_string (json_object_get_string_member_with_default (t, member, "(null)"));
    }

  return "(none)";
}

/* A 20 MB file from A to B over onion circuits, checked end to end. */
static void
test_file_transfer (void)
{
  TcTestNode *a, *b;
  g_autofree char *path = NULL;
  g_autofree char *downloads = NULL;
  g_autofree char *out = NULL;
  g_autofree char *sent = NULL;
  g_autofree char *received = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (20);
  g_autoptr(GError) error = NULL;
  gsize size = 20 * 1024 * 1024;
  g_autofree guint32 *data = g_new (guint32, size / 4);
  double t0;
  char *nl;

  if (!have_network ())
    return;

  a = get_node ("A");
  b = get_node ("B");
  wait_usable (a);
  wait_usable (b);
  if (!friends (a, b))
    make_friends (a, b);

  for (gsize i = 0; i < size / 4; i++)
    data[i] = g_rand_int (rand);
  path = g_build_filename (net->tmpdir, "twenty-megabytes.bin", NULL);
  downloads = g_build_filename (net->tmpdir, "downloads-B", NULL);
  g_file_set_contents (path, (const char *) data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_mkdir_with_parents (downloads, 0700), ==, 0);
  sent = sha256_of_file (path);

  g_assert_cmpint (tc_test_run_cli (a, NULL, &out, NULL, "send-file", b->address, path), ==, 0);
  if ((nl = strchr (out, '\n')) != NULL)
    *nl = '\0';
  WAIT_UNTIL (g_str_equal (transfer_member (b, out, "state"), "offered"));
  t0 = tc_test_now ();
  g_assert_cmpint (CLI (b, "accept-file", out, downloads), ==, 0);
  TC_WAIT_UNTIL (net, g_str_equal (transfer_member (b, out, "state"), "done") &&
                      g_str_equal (transfer_member (a, out, "state"), "done"),
                 5 * STEP_TIMEOUT);
  g_test_message ("20 MB over the private Tor network in %.1f s", tc_test_now () - t0);

  received = sha256_of_file (transfer_member (b, out, "path"));
  g_assert_cmpstr (received, ==, sent);
}

static void
test_tor_killed (void)
{
  g_autofree char *lines = tc_test_numbered_lines ("burst ", BURST);
  g_autofree char *err = NULL;
  g_autofree char *last_error = NULL;
  g_autoptr(GPtrArray) expected = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(TcTestCli) cli = NULL;
  TcTestNode *a, *b;
  pid_t killed;
  guint at_kill;
  double t_kill;

  if (!have_network ())
    return;

  a = get_node ("A");
  b = get_node ("B");
  wait_usable (a);
  wait_usable (b);
  ensure_friends (a, b);
  g_assert_cmpuint (history_prefix (a, b, "in", NULL, "burst "), ==, 0);

  killed = tor_pid (a);
  g_assert_cmpint (killed, >, 0);

  cli = tc_test_cli_start (b, lines, (const char * const[]) { "send", a->address, "-", NULL });
  tc_test_cli_wait (cli);
  if (cli->status != 0)
    g_test_message ("send - on B: status %d: %s", cli->status, cli->err);
  g_assert_cmpint (cli->status, ==, 0);

  /* The burst is on its way, most of it not yet on A. */
  g_assert_cmpint (kill (killed, SIGKILL), ==, 0);
  t_kill = tc_test_now ();
  at_kill = history_prefix (a, b, "in", NULL, "burst ");
  g_test_message ("A's tor (PID %d) killed with %u of %d burst messages on A", (int) killed,
                  at_kill, BURST);

  WAIT_UNTIL (pid_gone (killed));
  WAIT_UNTIL (tor_pid (a) != 0 && tor_pid (a) != killed);
  wait_usable (a);
  g_test_message ("A's tor back, published and reachable %.1f s after the kill",
                  tc_test_now () - t_kill);

  WAIT_UNTIL (history_prefix (b, a, "out", "delivered", "burst ") == BURST);
  g_test_message ("whole burst delivered %.1f s after the kill", tc_test_now () - t_kill);
  g_assert_cmpint (tc_test_outbox (b, a->address), ==, 0);

  tc_test_sleep (1000);
  for (guint i = 0; i < BURST; i++)
    g_ptr_array_add (expected, g_strdup_printf ("burst %u", i));
  g_ptr_array_add (expected, NULL);
  assert_received (a, b, "burst ", (const char * const *) expected->pdata);

  /* Recovered, so nothing to show the user any more. Not fatal: the cases
   * after this one do not depend on it. */
  last_error = tor_last_error (a);
  if (last_error != NULL)
    g_test_fail_printf ("A's tor is ready, published and reachable again but "
                        "`tor --json` still shows last-error “%s”", last_error);
}

static void
test_restart_node (void)
{
  const char *to_b[] = { "msg C→B 1", NULL };
  g_autofree char *address = NULL;
  TcTestNode *b, *c;
  pid_t old_tor;
  double t0, t_published, t_reachable;

  if (!have_network ())
    return;

  b = get_node ("B");
  c = get_node ("C");
  wait_usable (b);
  wait_usable (c);
  address = g_strdup (b->address);
  old_tor = tor_pid (b);
  g_assert_cmpint (old_tor, >, 0);

  tc_test_node_quit (net, b);
  /* Quitting the node ends its tor, which keeps its DataDirectory. */
  WAIT_UNTIL (pid_gone (old_tor));

  t0 = tc_test_now ();
  tc_test_node_start (net, b);
  g_assert_cmpstr (b->address, ==, address);
  WAIT_UNTIL (tor_published (b));
  t_published = tc_test_now () - t0;
  WAIT_UNTIL (tor_usable (b));
  t_reachable = tc_test_now () - t0;
  g_test_message ("B restarted on its profile: onion published after %.1f s, reachable after %.1f s",
                  t_published, t_reachable);
  g_assert_cmpint (tor_pid (b), !=, old_tor);

  ensure_friends (c, b);
  send_text (c, b, to_b[0]);
  WAIT_UNTIL (history_prefix (c, b, "out", "delivered", "msg C→B") == 1);
  tc_test_sleep (1000);
  assert_received (b, c, "msg C→B", to_b);
}

/* Privacy */

/* The destination of a traced call as strace prints it, e.g.
 * {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("127.0.0.1")}:
 * NULL if it is allowed, else why not. */
static const char *
judge_sockaddr (const char *sockaddr)
{
  const char *family;

  if (sockaddr == NULL)
    return NULL;          /* no address: a connected socket */

  family = sockaddr + strlen ("{sa_family=");
  if (g_str_has_prefix (family, "AF_UNIX") || g_str_has_prefix (family, "AF_NETLINK"))
    return NULL;

  if (strstr (sockaddr, "htons(53)") != NULL)
    return "port 53 (DNS)";

  if (g_str_has_prefix (family, "AF_INET6,"))
    {
      if (strstr (sockaddr, "\"::1\"") != NULL || strstr (sockaddr, "\"::ffff:127.0.0.1\"") != NULL)
        return NULL;
      return "an IPv6 address other than ::1";
    }

  if (g_str_has_prefix (family, "AF_INET,"))
    {
      if (strstr (sockaddr, "inet_addr(\"127.0.0.1\")") != NULL)
        return NULL;
      return "an IPv4 address other than 127.0.0.1";
    }

  return "an address family other than AF_UNIX, AF_NETLINK, AF_INET or AF_INET6";
}

typedef struct
{
  guint      connects;
  guint      loopback_connects;
  guint      tornet_connects;
  GPtrArray *offending;     /* "line → why" */
} Trace;

/* Reads the output of `strace -f -o FILE -e trace=connect,sendto,…`: lines
 * "PID call(arguments) = result". A call's destination is the first
 * sockaddr in its arguments; strace prints it before any "<unfinished
 * ...>", so the "<... resumed>" halves are skipped. */
static void
trace_parse (const char *path,
             const char *tornet_port,
             Trace      *trace)
{
  g_autofree char *contents = NULL;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *port_arg = g_strdup_printf ("htons(%s)", tornet_port);

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);

  trace->offending = g_ptr_array_new_with_free_func (g_free);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *call = lines[i] + strspn (lines[i], "0123456789 ");
      g_autofree char *sockaddr = NULL;
      const char *start;
      const char *why;

      if (!g_str_has_prefix (call, "connect(") && !g_str_has_prefix (call, "sendto(") &&
          !g_str_has_prefix (call, "sendmsg(") && !g_str_has_prefix (call, "sendmmsg("))
        continue;

      if ((start = strstr (call, "{sa_family=")) != NULL)
        sockaddr = g_strndup (start, strcspn (start, "}") + 1);
      why = judge_sockaddr (sockaddr);

      if (g_str_has_prefix (call, "connect("))
        {
          trace->connects++;
          if (why == NULL && sockaddr != NULL && strstr (sockaddr, "AF_INET") != NULL)
            trace->loopback_connects++;
          if (sockaddr != NULL && strstr (sockaddr, port_arg) != NULL)
            trace->tornet_connects++;
        }

      if (why != NULL)
        g_ptr_array_add (trace->offending, g_strdup_printf ("%s\n    → %s", lines[i], why));
    }
}

static void
test_privacy (void)
{
  g_autofree char *strace = g_find_program_in_path ("strace");
  g_autofree char *setpriv = g_find_program_in_path ("setpriv");
  g_autofree char *trace_path = NULL;
  g_autofree char *auth_torrc = NULL;
  g_autofree char *auth_conf = NULL;
  g_autofree char *or_port = NULL;
  g_autoptr(GStrvBuilder) wrapper = g_strv_builder_new ();
  g_autoptr(GString) report = g_string_new (NULL);
  const char *to_c[] = { "msg D→C 1", NULL };
  const char *to_d[] = { "msg C→D 1", NULL };
  Trace trace = { 0 };
  TcTestNode *c, *d;
  char *p;

  if (!have_network ())
    return;

  if (strace == NULL)
    {
      g_test_skip ("strace is not installed (Debian package strace)");
      return;
    }

  c = get_node ("C");
  wait_usable (c);

  /* The authority's ORPort, where a client tor first goes. */
  auth_torrc = g_build_filename (net->tornet_dir, "auth", "torrc", NULL);
  g_assert_true (g_file_get_contents (auth_torrc, &auth_conf, NULL, NULL));
  p = strstr (auth_conf, "\nORPort 127.0.0.1:");
  g_assert_nonnull (p);
  or_port = g_strndup (p + strlen ("\nORPort 127.0.0.1:"),
                       strspn (p + strlen ("\nORPort 127.0.0.1:"), "0123456789"));

  d = g_new0 (TcTestNode, 1);
  d->net = net;
  d->name = g_strdup ("D");
  d->profile = g_build_filename (net->tmpdir, "D", NULL);
  d->log_path = g_strdup_printf ("%s.log", d->profile);
  trace_path = g_build_filename (net->tmpdir, "D.strace", NULL);
  g_assert_cmpint (g_mkdir (d->profile, 0700), ==, 0);

  g_strv_builder_add_many (wrapper, strace, "-f", "-qq",
                           "-e", "trace=connect,sendto,sendmsg,sendmmsg",
                           "-o", trace_path, NULL);
  /* strace, killed with the test, would leave its tracees running. */
  if (setpriv != NULL)
    g_strv_builder_add_many (wrapper, setpriv, "--pdeathsig", "KILL", "--", NULL);
  d->wrapper = g_strv_builder_end (wrapper);
  g_ptr_array_add (net->nodes, d);
  tc_test_node_start (net, d);

  wait_usable (d);
  make_friends (d, c);
  send_text (d, c, to_c[0]);
  send_text (c, d, to_d[0]);
  WAIT_UNTIL (history_prefix (d, c, "out", "delivered", "msg D→C") == 1);
  WAIT_UNTIL (history_prefix (c, d, "out", "delivered", "msg C→D") == 1);
  assert_received (c, d, "msg D→C", to_c);
  assert_received (d, c, "msg C→D", to_d);

  /* strace ends with the node, which ends its tor. */
  tc_test_node_quit (net, d);

  trace_parse (trace_path, or_port, &trace);
  g_test_message ("traced %u connect() calls, %u to loopback IP, %u to the authority's ORPort",
                  trace.connects, trace.loopback_connects, trace.tornet_connects);
  for (guint i = 0; i < trace.offending->len; i++)
    g_string_append_printf (report, "\n  %s", (char *) g_ptr_array_index (trace.offending, i));
  if (trace.offending->len > 0)
    {
      g_autofree char *what = g_strdup_printf ("node D or its tor reached beyond loopback "
                                               "(%u calls, trace in %s):%s",
                                               trace.offending->len, trace_path, report->str);

      g_ptr_array_unref (trace.offending);
      g_assertion_message (G_LOG_DOMAIN, __FILE__, __LINE__, G_STRFUNC, what);
    }

  /* The trace saw tor too, not just the node: it went to the authority. */
  g_assert_cmpuint (trace.tornet_connects, >, 0);
  g_ptr_array_unref (trace.offending);
}

/* Last: every node quits cleanly and takes its tor with it. */
static void
test_quit (void)
{
  if (!have_network ())
    return;

  for (guint i = 0; i < net->nodes->len; i++)
    {
      TcTestNode *node = g_ptr_array_index (net->nodes, i);
      g_autofree char *log = NULL;
      pid_t tor;

      if (!tc_test_node_alive (node))
        continue;

      tor = tor_pid (node);
      tc_test_node_quit (net, node);
      if (tor != 0)
        WAIT_UNTIL (pid_gone (tor));

      g_assert_true (g_file_get_contents (node->log_path, &log, NULL, NULL));
      if (strstr (log, "CRITICAL") != NULL)
        tc_test_fail_with_logs (net, __FILE__, __LINE__, G_STRFUNC,
                                "a node logged a CRITICAL");
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  int status;

  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tor-network/publish", test_publish);
  g_test_add_func ("/tor-network/contact-and-messages", test_contact_and_messages);
  g_test_add_func ("/tor-network/file-transfer", test_file_transfer);
  g_test_add_func ("/tor-network/tor-killed", test_tor_killed);
  g_test_add_func ("/tor-network/restart-node", test_restart_node);
  g_test_add_func ("/tor-network/privacy", test_privacy);
  g_test_add_func ("/tor-network/quit", test_quit);

  if ((skip_reason = tc_test_tornet_missing ()) != NULL)
    {
      g_printerr ("# skipping the Tor network tests: %s\n", skip_reason);
      return g_test_run ();
    }

  net = tc_test_net_new_tor ();
  /* Left behind for a look if a failed assertion aborts. */
  g_printerr ("# test directory: %s\n", net->tmpdir);
  if (!tc_test_tornet_start (net, &error))
    {
      network_error = g_strdup (error->message);
      g_printerr ("# the private Tor network did not start: %s\n", network_error);
    }
  else
    g_printerr ("# private Tor network up in %.1f s\n", tc_test_tornet_start_seconds (net));

  status = g_test_run ();

  g_clear_pointer (&net, tc_test_net_free);
  g_free (network_error);

  return status;
}
