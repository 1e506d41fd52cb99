/* bench-tor.c: how long TORChat takes to get going on Tor, and a message's
 * round trip over an onion circuit
 *
 * A private Tor network on loopback (tests/tor-network.sh), a peer P and
 * a node X, each `torchat --headless --tor-config DIR/client.torrc` with
 * its own managed tor. Seconds from starting X's process until its onion
 * is published, reachable, and a first message to P is delivered, in
 * three starts:
 *   cold      a fresh profile: new identity and no Tor state; X asks P to
 *             be a contact at once and P accepts as soon as the request
 *             shows, so the first message waits for request and accept;
 *   warm      X restarted on its profile (tor's DataDirectory kept);
 *   cold-tor  X restarted after removing its tor directory: the same
 *             contact, but tor starts from nothing.
 * Then the round trip: 50 messages X → P one after the other, each sent
 * when the previous one is delivered (P's receipt is back), timed on X from
 * the send to the state "delivered".
 *
 * The bench talks to both nodes over their control sockets, the D-Bus
 * interface `torchat COMMAND` uses, to poll every few milliseconds without
 * starting a process each time. Prints "key: value" lines; see
 * docs/benchmarks.md.
 *
 *   meson test -C BUILD --benchmark tor -v
 *
 * Optional argument: the number of round trips (default 50).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tc-test-harness.h"

/* As in src/node/tc-control.h. */
#define CONTROL_INTERFACE "io.github.torchat.Control"
#define CONTROL_OBJECT_PATH "/io/github/torchat/Control"

#define POLL_MS 2
#define BENCH_TIMEOUT 180.0

static TcTestNet *net;

static void G_GNUC_NORETURN
fail (const char *what)
{
  tc_test_net_dump_logs (net);
  g_printerr ("bench-tor: %s\n", what);
  tc_test_net_free (net);
  exit (1);
}

static GDBusConnection *
control_connect (TcTestNode *node)
{
  g_autofree char *path = g_build_filename (node->profile, "control", NULL);
  g_autofree char *escaped = g_dbus_address_escape_value (path);
  g_autofree char *address = g_strdup_printf ("unix:path=%s", escaped);
  g_autoptr(GError) error = NULL;
  GDBusConnection *connection;

  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                       NULL, NULL, &error);
  if (connection == NULL)
    fail (error->message);

  return connection;
}

/* Runs a --json command on the node behind @connection; NULL-terminated
 * arguments. */
static JsonNode *
control_jsonv (GDBusConnection    *connection,
               const char * const *argv)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *out, *err;
  int status;

  reply = g_dbus_connection_call_sync (connection, NULL, CONTROL_OBJECT_PATH, CONTROL_INTERFACE,
                                       "Run", g_variant_new ("(^asbs)", argv, TRUE, ""),
                                       G_VARIANT_TYPE ("(iss)"), G_DBUS_CALL_FLAGS_NONE,
                                       30000, NULL, &error);
  if (reply == NULL)
    fail (error->message);

  g_variant_get (reply, "(i&s&s)", &status, &out, &err);
  if (status != 0)
    {
      g_autofree char *what = g_strdup_printf ("%s: status %d: %s", argv[0], status, err);

      fail (what);
    }

  if (!json_parser_load_from_data (parser, out, -1, &error))
    fail (error->message);

  /* Some commands print nothing. */
  if (json_parser_get_root (parser) == NULL)
    return json_node_new (JSON_NODE_NULL);

  return json_node_ref (json_parser_get_root (parser));
}

#define control_json(connection, ...) \
  control_jsonv ((connection), (const char * const[]) { __VA_ARGS__, NULL })

static gboolean
tor_flag (GDBusConnection *connection,
          const char      *flag)
{
  g_autoptr(JsonNode) root = control_json (connection, "tor");
  JsonObject *status = json_node_get_object (root);

  return g_strcmp0 (json_object_get_string_member_with_default (status, "state", ""), "ready") == 0 &&
         json_object_get_boolean_member_with_default (status, flag, FALSE);
}

static const char *
contact_state (GDBusConnection *connection,
               const char      *address)
{
  g_autoptr(JsonNode) root = control_json (connection, "contacts");
  JsonArray *contacts = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (contacts); i++)
    {
      JsonObject *contact = json_array_get_object_element (contacts, i);

      if (g_strcmp0 (json_object_get_string_member_with_default (contact, "address", NULL),
                     address) == 0)
        return g_intern_string (json_object_get_string_member_with_default (contact, "state", ""));
    }

  return NULL;
}

/* The state of the last outgoing message with @text to @address. */
static const char *
message_state (GDBusConnection *connection,
               const char      *address,
               const char      *text)
{
  g_autoptr(JsonNode) root = control_json (connection, "history", address);
  JsonArray *history = json_node_get_array (root);

  for (guint i = json_array_get_length (history); i > 0; i--)
    {
      JsonObject *message = json_array_get_object_element (history, i - 1);

      if (g_str_equal (json_object_get_string_member_with_default (message, "direction", ""), "outgoing") &&
          g_strcmp0 (json_object_get_string_member_with_default (message, "text", NULL), text) == 0)
        return g_intern_string (json_object_get_string_member_with_default (message, "state", ""));
    }

  return NULL;
}

static void
poll_sleep (void)
{
  tc_test_net_check_alive (net, __FILE__, __LINE__, G_STRFUNC);
  g_usleep (POLL_MS * 1000);
}

typedef struct
{
  double published;
  double reachable;
  double request_on_peer;    /* cold start only */
  double delivered;
} Start;

/* Starts @x and times it; @x adds @p and @p accepts when @cold. */
static void
time_start (TcTestNode *x,
            TcTestNode *p,
            GDBusConnection *p_control,
            gboolean    cold,
            const char *text,
            Start      *start)
{
  g_autoptr(GDBusConnection) x_control = NULL;
  g_autoptr(JsonNode) sent = NULL;
  double t0 = tc_test_now ();
  double deadline = t0 + BENCH_TIMEOUT;
  gboolean accepted = !cold;

  *start = (Start) { -1, -1, -1, -1 };
  tc_test_node_start (net, x);
  x_control = control_connect (x);

  if (cold)
    {
      g_autoptr(JsonNode) added = control_json (x_control, "add", p->address, "P", "bench");
    }
  sent = control_json (x_control, "send", p->address, text);

  while (start->published < 0 || start->reachable < 0 || start->delivered < 0)
    {
      if (tc_test_now () > deadline)
        fail ("timed out");

      if (start->published < 0 && tor_flag (x_control, "onion-published"))
        start->published = tc_test_now () - t0;
      if (start->reachable < 0 && tor_flag (x_control, "reachable"))
        start->reachable = tc_test_now () - t0;
      if (!accepted && g_strcmp0 (contact_state (p_control, x->address), "pending") == 0)
        {
          g_autoptr(JsonNode) answer = NULL;

          start->request_on_peer = tc_test_now () - t0;
          answer = control_json (p_control, "accept", x->address);
          accepted = TRUE;
        }
      if (start->delivered < 0 && g_strcmp0 (message_state (x_control, p->address, text), "delivered") == 0)
        start->delivered = tc_test_now () - t0;

      poll_sleep ();
    }
}

static void
print_start (const char *name,
             Start      *start)
{
  printf ("%s-onion-published: %.2f s\n", name, start->published);
  printf ("%s-reachable: %.2f s\n", name, start->reachable);
  if (start->request_on_peer >= 0)
    printf ("%s-request-on-peer: %.2f s\n", name, start->request_on_peer);
  printf ("%s-first-message-delivered: %.2f s\n", name, start->delivered);
  fflush (stdout);
}

static int
compare_doubles (gconstpointer a,
                 gconstpointer b)
{
  double x = *(const double *) a, y = *(const double *) b;

  return (x > y) - (x < y);
}

static void
wait_usable (GDBusConnection *control)
{
  double deadline = tc_test_now () + BENCH_TIMEOUT;

  while (!tor_flag (control, "reachable"))
    {
      if (tc_test_now () > deadline)
        fail ("timed out waiting for tor");
      poll_sleep ();
    }
}

/* `torchat quit`, and wait until its tor has gone too. */
static void
quit_node (TcTestNode *node)
{
  g_autofree char *pid_path = g_build_filename (node->profile, "tor", "tor.pid", NULL);
  g_autofree char *pid = NULL;
  g_autofree char *proc = NULL;
  double deadline = tc_test_now () + BENCH_TIMEOUT;

  if (g_file_get_contents (pid_path, &pid, NULL, NULL))
    proc = g_strdup_printf ("/proc/%s", g_strstrip (pid));

  if (tc_test_run_cli (node, NULL, NULL, NULL, "quit") != 0 ||
      !tc_test_node_wait_exit (node, BENCH_TIMEOUT))
    fail ("a node did not quit");
  g_clear_object (&node->proc);

  while (proc != NULL && g_file_test (proc, G_FILE_TEST_EXISTS))
    {
      if (tc_test_now () > deadline)
        fail ("a node's tor outlived it");
      g_usleep (10000);
    }
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) p_control = NULL;
  g_autoptr(GDBusConnection) x_control = NULL;
  g_autofree double *rtt = NULL;
  g_autofree char *tor_dir = NULL;
  TcTestNode *p, *x;
  Start start;
  guint n = 50;
  double t0;

  if (argc > 1)
    n = (guint) g_ascii_strtoull (argv[1], NULL, 10);
  if (n == 0)
    n = 50;

  if (tc_test_tornet_missing () != NULL)
    {
      g_printerr ("bench-tor: %s\n", tc_test_tornet_missing ());
      return 77;
    }

  net = tc_test_net_new_tor ();
  net->quiet = TRUE;
  if (!tc_test_tornet_start (net, &error))
    fail (error->message);
  printf ("network-start: %.2f s\n", tc_test_tornet_start_seconds (net));
  {
    g_autofree char *loadavg = NULL;

    /* Other work on the machine shows in every figure. */
    if (g_file_get_contents ("/proc/loadavg", &loadavg, NULL, NULL))
      printf ("loadavg: %s", loadavg);
  }

  t0 = tc_test_now ();
  p = tc_test_net_add_node (net, "P");
  p_control = control_connect (p);
  wait_usable (p_control);
  printf ("peer-reachable: %.2f s\n", tc_test_now () - t0);

  x = g_new0 (TcTestNode, 1);
  x->net = net;
  x->name = g_strdup ("X");
  x->profile = g_build_filename (net->tmpdir, "X", NULL);
  x->log_path = g_strdup_printf ("%s.log", x->profile);
  g_assert_cmpint (g_mkdir (x->profile, 0700), ==, 0);
  g_ptr_array_add (net->nodes, x);

  time_start (x, p, p_control, TRUE, "first cold", &start);
  print_start ("cold", &start);

  /* Round trips on the circuits that are up now. */
  x_control = control_connect (x);
  rtt = g_new (double, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *text = g_strdup_printf ("rtt %u", i);
      g_autoptr(JsonNode) sent = NULL;
      double t_send = tc_test_now ();
      double deadline = t_send + BENCH_TIMEOUT;

      sent = control_json (x_control, "send", p->address, text);
      while (g_strcmp0 (message_state (x_control, p->address, text), "delivered") != 0)
        {
          if (tc_test_now () > deadline)
            fail ("timed out waiting for a receipt");
          poll_sleep ();
        }
      rtt[i] = (tc_test_now () - t_send) * 1000;
    }
  qsort (rtt, n, sizeof *rtt, compare_doubles);
  printf ("round-trips: %u\n", n);
  printf ("round-trip-median: %.1f ms\n", rtt[n / 2]);
  printf ("round-trip-min: %.1f ms\n", rtt[0]);
  printf ("round-trip-p90: %.1f ms\n", rtt[(n * 9) / 10]);
  printf ("round-trip-max: %.1f ms\n", rtt[n - 1]);
  fflush (stdout);
  g_clear_object (&x_control);

  quit_node (x);
  time_start (x, p, p_control, FALSE, "first warm", &start);
  print_start ("warm", &start);

  quit_node (x);
  tor_dir = g_build_filename (x->profile, "tor", NULL);
  tc_test_rm_rf (tor_dir);
  time_start (x, p, p_control, FALSE, "first cold-tor", &start);
  print_start ("cold-tor", &start);

  quit_node (x);
  quit_node (p);
  g_clear_object (&p_control);
  tc_test_net_free (net);

  return 0;
}
