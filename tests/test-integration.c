/* test-integration.c: real nodes talking through a stand-in for Tor
 *
 * Each test starts its own SOCKS server (tc-test-socks) and nodes A and B
 * (C when needed) as separate processes, `torchat --headless`, on fresh
 * profiles, and drives them with the command line exactly as a user or a
 * script would: `torchat --profile DIR --json COMMAND …`.
 *
 * Set TC_TEST_KEEP=1 to keep the profiles and logs, TC_TEST_NODE_DEBUG=1
 * for debug logs from the nodes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE            /* prlimit() */
#include "config.h"

#include <locale.h>
#include <sys/resource.h>

#include "tc-test-harness.h"

/* The size of profile.key (docs/architecture.md). */
#define TC_PROFILE_HEADER_BYTES 224

typedef struct
{
  TcTestNet  *net;
  TcTestNode *a;
  TcTestNode *b;
} Fixture;

#define WAIT_UNTIL(expr) TC_WAIT_UNTIL (f->net, expr, TC_TEST_TIMEOUT)
#define CLI(node, ...) tc_test_run_cli ((node), NULL, NULL, NULL, __VA_ARGS__)
#define STATE_IS(node, peer, value) tc_test_contact_is ((node), (peer)->address, "state", (value))

#define SKIP_WITHOUT_NODES()  \
  G_STMT_START {              \
    if (f->net == NULL)       \
      return;                 \
  } G_STMT_END

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  if (tc_test_binary () == NULL || g_getenv ("TORCHAT_TEST_SOCKS") == NULL)
    {
      g_test_skip ("TORCHAT_BINARY and TORCHAT_TEST_SOCKS are not set");
      return;
    }

  f->net = tc_test_net_new ();
  /* Every profile is encrypted, but A's in the cases that ask otherwise. */
  f->net->plaintext = data != NULL;
  f->a = tc_test_net_add_node (f->net, "A");
  f->net->plaintext = FALSE;
  f->b = tc_test_net_add_node (f->net, "B");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->net, tc_test_net_free);
}

/* Sends @text from @from to @to; the command must succeed. */
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

/* @texts is exactly @expected, in that order. */
static void
assert_texts (GPtrArray          *texts,
              const char * const *expected)
{
  guint n = g_strv_length ((char **) expected);

  for (guint i = 0; i < MIN (n, texts->len); i++)
    g_assert_cmpstr (g_ptr_array_index (texts, i), ==, expected[i]);
  g_assert_cmpuint (texts->len, ==, n);
}

/* The texts starting with @prefix are PREFIX0 … PREFIX(n-1), each once and
 * in order. */
static void
assert_numbered (GPtrArray  *texts,
                 const char *prefix,
                 guint       n)
{
  guint seen = 0;

  for (guint i = 0; i < texts->len; i++)
    {
      const char *text = g_ptr_array_index (texts, i);
      g_autofree char *expected = NULL;

      if (!g_str_has_prefix (text, prefix))
        continue;

      expected = g_strdup_printf ("%s%u", prefix, seen);
      if (!g_str_equal (text, expected))
        g_test_message ("history position %u: got %s, expected %s", i, text, expected);
      g_assert_cmpstr (text, ==, expected);
      seen++;
    }

  g_assert_cmpuint (seen, ==, n);
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

static guint
incoming_with_prefix (TcTestNode *node,
                      TcTestNode *peer,
                      const char *prefix)
{
  g_autoptr(GPtrArray) texts = tc_test_history_texts (node, peer->address, "in", NULL);

  return count_prefix (texts, prefix);
}

static void
test_request_accept (Fixture       *f,
                     gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(GPtrArray) texts = NULL;
  const char *to_b[] = { "Hello B", "Ünïcødé ✓ \"quoted\" \\ back", NULL };
  const char *to_a[] = { "Hello A", NULL };

  SKIP_WITHOUT_NODES ();

  g_assert_cmpint (CLI (a, "add", b->address, "Bob", "Hi, it's A"), ==, 0);
  g_assert_true (STATE_IS (a, b, "requested"));
  g_assert_true (tc_test_contact_is (a, b->address, "nickname", "Bob"));

  WAIT_UNTIL (STATE_IS (b, a, "pending"));
  g_assert_true (tc_test_contact_is (b, a->address, "greeting", "Hi, it's A"));
  g_assert_true (STATE_IS (a, b, "requested"));

  g_assert_cmpint (CLI (b, "accept", a->address), ==, 0);
  WAIT_UNTIL (STATE_IS (a, b, "accepted"));
  g_assert_true (STATE_IS (b, a, "accepted"));

  for (guint i = 0; to_b[i] != NULL; i++)
    send_text (a, b, to_b[i]);
  send_text (b, a, to_a[0]);

  WAIT_UNTIL (tc_test_history_count (a, b->address, "out", "delivered") == 2);
  WAIT_UNTIL (tc_test_history_count (b, a->address, "out", "delivered") == 1);
  g_assert_cmpint (tc_test_outbox (a, b->address), ==, 0);
  g_assert_cmpint (tc_test_outbox (b, a->address), ==, 0);

  /* Exactly once on each receiver, nothing more arriving later. */
  tc_test_sleep (500);
  texts = tc_test_history_texts (b, a->address, "in", "received");
  assert_texts (texts, to_b);
  g_clear_pointer (&texts, g_ptr_array_unref);
  texts = tc_test_history_texts (a, b->address, "in", "received");
  assert_texts (texts, to_a);

  WAIT_UNTIL (tc_test_contact_is (a, b->address, "connected", "true") &&
              tc_test_contact_is (b, a->address, "connected", "true"));
  g_assert_true (tc_test_contact_is (a, b->address, "presence", "available"));
}

static void
test_decline (Fixture       *f,
              gconstpointer  data)
{
  TcTestNode *a = f->a;
  TcTestNode *c;

  SKIP_WITHOUT_NODES ();
  c = tc_test_net_add_node (f->net, "C");

  g_assert_cmpint (CLI (c, "add", a->address, "Ann", "Hi, it's C"), ==, 0);
  send_text (c, a, "c1");
  send_text (c, a, "c2");

  WAIT_UNTIL (STATE_IS (a, c, "pending"));
  g_assert_true (tc_test_contact_is (a, c->address, "greeting", "Hi, it's C"));
  g_assert_cmpint (tc_test_outbox (c, a->address), ==, 2);

  g_assert_cmpint (CLI (a, "decline", c->address), ==, 0);
  g_assert_true (STATE_IS (a, c, "declined"));

  WAIT_UNTIL (STATE_IS (c, a, "declined"));
  WAIT_UNTIL (tc_test_history_count (c, a->address, "out", "failed") == 2);
  g_assert_cmpuint (tc_test_history_count (c, a->address, "out", "delivered"), ==, 0);
  g_assert_cmpuint (tc_test_history_count (a, c->address, "in", NULL), ==, 0);

  /* Declined is not blocked: C may ask again. */
  g_assert_cmpint (CLI (c, "add", a->address, "Ann", "Please?"), ==, 0);
  WAIT_UNTIL (STATE_IS (a, c, "pending"));
  WAIT_UNTIL (tc_test_contact_is (a, c->address, "greeting", "Please?"));
  g_assert_cmpuint (tc_test_history_count (a, c->address, "in", NULL), ==, 0);
}

static void
test_block (Fixture       *f,
            gconstpointer  data)
{
  TcTestNode *a = f->a;
  TcTestNode *c;
  guint connects;

  SKIP_WITHOUT_NODES ();
  c = tc_test_net_add_node (f->net, "C");

  g_assert_cmpint (CLI (c, "add", a->address, "Ann", "Hi, it's C"), ==, 0);
  WAIT_UNTIL (STATE_IS (a, c, "pending"));

  connects = tc_test_socks_count (f->net, "CONNECT", a->address, "ok");
  g_assert_cmpint (CLI (a, "block", c->address), ==, 0);
  g_assert_true (STATE_IS (a, c, "blocked"));
  send_text (c, a, "b1");
  send_text (c, a, "b2");

  /* C tries again, gets through the SOCKS server, and is turned away: no
   * stream to A stays open. */
  WAIT_UNTIL (tc_test_socks_count (f->net, "CONNECT", a->address, "ok") > connects);
  WAIT_UNTIL (tc_test_socks_count (f->net, "END", a->address, NULL) ==
              tc_test_socks_count (f->net, "CONNECT", a->address, "ok"));

  /* A further retry or two, then check nothing got in. */
  tc_test_sleep (3000);
  g_assert_true (STATE_IS (c, a, "requested"));
  g_assert_true (STATE_IS (a, c, "blocked"));
  g_assert_cmpuint (tc_test_history_count (a, c->address, "in", NULL), ==, 0);
  g_assert_cmpuint (tc_test_history_count (c, a->address, "out", "delivered"), ==, 0);
  g_assert_true (tc_test_contact_is (c, a->address, "connected", "false"));
  g_test_message ("C's last error: %s", tc_test_contact_get (c, a->address, "last-error"));
}

/* A refused stream is a failed attempt like any other: the contact shows
 * why, and the node keeps trying (protocol section 12), so a request gets
 * through once the block is lifted. */
static void
test_unblock (Fixture       *f,
              gconstpointer  data)
{
  TcTestNode *a = f->a;
  TcTestNode *c;
  guint connects;

  SKIP_WITHOUT_NODES ();
  c = tc_test_net_add_node (f->net, "C");

  g_assert_cmpint (CLI (c, "add", a->address, "Ann", "Hi, it's C"), ==, 0);
  WAIT_UNTIL (STATE_IS (a, c, "pending"));

  connects = tc_test_socks_count (f->net, "CONNECT", a->address, "ok");
  g_assert_cmpint (CLI (a, "block", c->address), ==, 0);
  WAIT_UNTIL (tc_test_socks_count (f->net, "CONNECT", a->address, "ok") > connects);
  WAIT_UNTIL (!tc_test_contact_is (c, a->address, "last-error", "(null)"));
  g_test_message ("C's last error: %s", tc_test_contact_get (c, a->address, "last-error"));

  g_assert_cmpint (CLI (a, "remove", c->address), ==, 0);
  g_assert_true (STATE_IS (a, c, "(no contact)"));
  WAIT_UNTIL (STATE_IS (a, c, "pending"));
  g_assert_true (tc_test_contact_is (a, c->address, "greeting", "Hi, it's C"));
}

static void
test_queued_until_accepted (Fixture       *f,
                            gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(GPtrArray) texts = NULL;
  const char *early[] = { "early 1", "early 2", "early 3", NULL };

  SKIP_WITHOUT_NODES ();

  g_assert_cmpint (CLI (a, "add", b->address, "Bob", "Hi"), ==, 0);
  for (guint i = 0; early[i] != NULL; i++)
    send_text (a, b, early[i]);

  WAIT_UNTIL (STATE_IS (b, a, "pending"));
  /* Give any premature delivery time to show up. */
  tc_test_sleep (1500);
  g_assert_cmpint (tc_test_outbox (a, b->address), ==, 3);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, 0);
  g_assert_cmpuint (tc_test_history_count (b, a->address, "in", NULL), ==, 0);

  g_assert_cmpint (CLI (b, "accept", a->address), ==, 0);
  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, 3);

  texts = tc_test_history_texts (b, a->address, "in", NULL);
  assert_texts (texts, early);
}

static void
test_duplicate_stream_race (Fixture       *f,
                            gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(TcTestCli) add_a = NULL;
  g_autoptr(TcTestCli) add_b = NULL;
  g_autoptr(GPtrArray) in_a = NULL;
  g_autoptr(GPtrArray) in_b = NULL;

  SKIP_WITHOUT_NODES ();

  /* Both ask at once: each request crosses the other on its own stream. */
  add_a = tc_test_cli_start (a, NULL, (const char * const[]) { "add", b->address, "Bob", "Hi B", NULL });
  add_b = tc_test_cli_start (b, NULL, (const char * const[]) { "add", a->address, "Ann", "Hi A", NULL });
  tc_test_cli_wait (add_a);
  tc_test_cli_wait (add_b);
  g_assert_cmpint (add_a->status, ==, 0);
  g_assert_cmpint (add_b->status, ==, 0);

  WAIT_UNTIL (STATE_IS (a, b, "accepted") && STATE_IS (b, a, "accepted"));

  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *ab = g_strdup_printf ("ab%u", i);
      g_autofree char *ba = g_strdup_printf ("ba%u", i);

      send_text (a, b, ab);
      send_text (b, a, ba);
    }

  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0 && tc_test_outbox (b, a->address) == 0);
  tc_test_sleep (500);
  in_b = tc_test_history_texts (b, a->address, "in", NULL);
  in_a = tc_test_history_texts (a, b->address, "in", NULL);
  assert_numbered (in_b, "ab", 5);
  assert_numbered (in_a, "ba", 5);
  g_assert_cmpuint (in_b->len, ==, 5);
  g_assert_cmpuint (in_a->len, ==, 5);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, 5);
  g_assert_cmpuint (tc_test_history_count (b, a->address, "out", "delivered"), ==, 5);

  /* In the end one stream joins them: the SOCKS server sees the streams
   * each side opened, and how many of them are over. */
  WAIT_UNTIL (tc_test_contact_is (a, b->address, "connected", "true") &&
              tc_test_contact_is (b, a->address, "connected", "true"));
  WAIT_UNTIL (tc_test_socks_count (f->net, "CONNECT", a->address, "ok") +
              tc_test_socks_count (f->net, "CONNECT", b->address, "ok") -
              tc_test_socks_count (f->net, "END", a->address, NULL) -
              tc_test_socks_count (f->net, "END", b->address, NULL) == 1);
}

/* Sends n lines PREFIX0… from @a to @b in one `send ADDRESS -`. */
static TcTestCli *
start_burst (TcTestNode *a,
             TcTestNode *b,
             const char *prefix,
             guint       n)
{
  g_autofree char *lines = tc_test_numbered_lines (prefix, n);

  return tc_test_cli_start (a, lines, (const char * const[]) { "send", b->address, "-", NULL });
}

static void
test_crash (Fixture       *f,
            gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(TcTestCli) burst = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  guint got;

  SKIP_WITHOUT_NODES ();

  /* A slow link, so that "in the middle of the burst" lasts a while:
   * 500 messages take a few seconds. */
  a->rate = b->rate = 50000;
  tc_test_net_write_map (f->net);
  tc_test_make_friends (f->net, a, b);

  /* B dies while receiving. */
  burst = start_burst (a, b, "m", 500);
  WAIT_UNTIL ((got = incoming_with_prefix (b, a, "m")) > 0);
  g_test_message ("killing B after %u of 500", got);
  g_assert_cmpuint (got, <, 500);
  tc_test_node_kill (b);
  tc_test_cli_wait (burst);
  g_assert_cmpint (burst->status, ==, 0);
  g_clear_pointer (&burst, tc_test_cli_free);

  tc_test_node_start (f->net, b);
  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0);
  texts = tc_test_history_texts (b, a->address, "in", NULL);
  assert_numbered (texts, "m", 500);
  g_assert_cmpuint (texts->len, ==, 500);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, 500);
  g_clear_pointer (&texts, g_ptr_array_unref);

  /* A dies while sending: its outbox survives and is sent on restart. */
  burst = start_burst (a, b, "n", 500);
  tc_test_cli_wait (burst);
  g_assert_cmpint (burst->status, ==, 0);
  WAIT_UNTIL ((got = incoming_with_prefix (b, a, "n")) > 0);
  g_test_message ("killing A after %u of 500", got);
  g_assert_cmpuint (got, <, 500);
  tc_test_node_kill (a);

  tc_test_node_start (f->net, a);
  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0);
  texts = tc_test_history_texts (b, a->address, "in", NULL);
  assert_numbered (texts, "m", 500);
  assert_numbered (texts, "n", 500);
  g_assert_cmpuint (texts->len, ==, 1000);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, 1000);
}

/* `send B -` stores and writes a big burst in slices: B receives the first
 * while A still stores the rest. A killed in the middle of the command has
 * every slice it committed on disk; the command fails (nothing was
 * reported queued), and what A stored reaches B after A's restart, in
 * order, each message once. */
static void
test_crash_mid_command (Fixture       *f,
                        gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(TcTestCli) burst = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autoptr(GPtrArray) stored = NULL;
  const guint n = 50000;
  double deadline;
  guint got = 0;

  SKIP_WITHOUT_NODES ();

  tc_test_make_friends (f->net, a, b);

  burst = start_burst (a, b, "s", n);
  deadline = tc_test_now () + TC_TEST_TIMEOUT;
  while (!burst->done && (got = incoming_with_prefix (b, a, "s")) == 0)
    {
      tc_test_net_check_alive (f->net, __FILE__, __LINE__, G_STRFUNC);
      g_assert_cmpfloat (tc_test_now (), <, deadline);
      tc_test_sleep (10);
    }
  g_test_message ("killing A after %u of %u reached B", got, n);
  g_assert_false (burst->done);
  g_assert_cmpuint (got, >, 0);
  tc_test_node_kill (a);
  tc_test_cli_wait (burst);
  g_assert_cmpint (burst->status, !=, 0);

  tc_test_node_start (f->net, a);
  stored = tc_test_history_texts (a, b->address, "out", NULL);
  g_test_message ("A had stored %u of %u", count_prefix (stored, "s"), n);
  g_assert_cmpuint (count_prefix (stored, "s"), >=, got);
  g_assert_cmpuint (count_prefix (stored, "s"), <, n);
  assert_numbered (stored, "s", count_prefix (stored, "s"));

  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0);
  texts = tc_test_history_texts (b, a->address, "in", NULL);
  assert_numbered (texts, "s", stored->len);
  g_assert_cmpuint (texts->len, ==, stored->len);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, stored->len);
}

static void
test_offline_peer (Fixture       *f,
                   gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(GPtrArray) texts = NULL;
  const char *offline[] = { "while away 1", "while away 2", "while away 3", NULL };

  SKIP_WITHOUT_NODES ();

  tc_test_make_friends (f->net, a, b);
  tc_test_node_quit (f->net, b);
  WAIT_UNTIL (tc_test_contact_is (a, b->address, "connected", "false"));
  g_assert_true (tc_test_contact_is (a, b->address, "presence", "offline"));

  for (guint i = 0; offline[i] != NULL; i++)
    send_text (a, b, offline[i]);

  g_assert_cmpint (tc_test_outbox (a, b->address), ==, 3);
  tc_test_sleep (2000);
  g_assert_cmpint (tc_test_outbox (a, b->address), ==, 3);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "queued"), ==, 3);

  tc_test_node_start (f->net, b);
  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, 3);
  texts = tc_test_history_texts (b, a->address, "in", NULL);
  assert_texts (texts, offline);
}

/* Bad input on a direct connection to a node's listener */

static GSocketConnection *
connect_direct (TcTestNode *node)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GError) error = NULL;
  GSocketConnection *connection;

  connection = g_socket_client_connect_to_host (client, "127.0.0.1", node->port, NULL, &error);
  g_assert_no_error (error);
  g_socket_set_timeout (g_socket_connection_get_socket (connection), 30);

  return connection;
}

static void
write_text (GSocketConnection *connection,
            const char        *text,
            gssize             length)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  g_autoptr(GError) error = NULL;

  g_output_stream_write_all (out, text, length < 0 ? strlen (text) : (gsize) length,
                             NULL, NULL, &error);
  g_assert_no_error (error);
}

/* Reads one line; NULL at the end of the stream (or a reset). */
static char *
read_line (GDataInputStream *in)
{
  g_autoptr(GError) error = NULL;
  char *line;

  line = g_data_input_stream_read_line (in, NULL, NULL, &error);
  if (error != NULL)
    {
      /* The peer closing with our bytes unread resets the connection. */
      g_assert_true (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED) ||
                     g_error_matches (error, G_IO_ERROR, G_IO_ERROR_BROKEN_PIPE));
      return NULL;
    }

  return line;
}

static JsonObject *
parse_object (const char *line)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, line, -1, &error);
  g_assert_no_error (error);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));

  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

/* The node answers {"error": @condition, …} and closes the connection. */
static void
expect_error (GSocketConnection *connection,
              const char        *condition)
{
  g_autoptr(GDataInputStream) in = NULL;
  g_autofree char *line = NULL;
  g_autofree char *after = NULL;
  g_autoptr(JsonObject) error = NULL;

  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_LF);

  line = read_line (in);
  g_assert_nonnull (line);
  g_test_message ("for %s: %s", condition, line);
  error = parse_object (line);
  g_assert_cmpstr (json_object_get_string_member_with_default (error, "error", NULL), ==, condition);

  after = read_line (in);
  g_assert_null (after);
}

typedef struct
{
  GSocketConnection *connection;
  gsize              length;
} Writer;

/* Writes a long line until done or the node hangs up. */
static gpointer
long_line_writer (gpointer data)
{
  Writer *writer = data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (writer->connection));
  g_autofree char *chunk = g_malloc (65536);

  memset (chunk, 'a', 65536);
  chunk[0] = '"';
  for (gsize sent = 0; sent < writer->length; sent += 65536)
    if (!g_output_stream_write_all (out, chunk, 65536, NULL, NULL, NULL))
      break;

  return NULL;
}

static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(GPtrArray) texts = NULL;

  SKIP_WITHOUT_NODES ();

  tc_test_make_friends (f->net, a, b);

  {
    g_autoptr(GSocketConnection) connection = connect_direct (b);

    write_text (connection, "Hello? This is not JSON.\n", -1);
    expect_error (connection, "invalid-json");
  }

  {
    g_autoptr(GSocketConnection) connection = connect_direct (b);

    /* Two kind keys */
    write_text (connection, "{\"open\":\"message\",\"ping\":\"x\"}\n", -1);
    expect_error (connection, "bad-format");
  }

  {
    g_autoptr(GSocketConnection) connection = connect_direct (b);

    write_text (connection, "{\"open\":\"mess\xff\xfe\"}\n", -1);
    expect_error (connection, "unsupported-encoding");
  }

  {
    g_autoptr(GSocketConnection) connection = connect_direct (b);
    Writer writer = { connection, 2 * 1024 * 1024 };
    GThread *thread;

    thread = g_thread_new ("long-line", long_line_writer, &writer);
    expect_error (connection, "policy-violation");
    g_thread_join (thread);
  }

  {
    g_autoptr(GSocketConnection) connection = connect_direct (b);
    g_autofree char *open = NULL;

    /* Meant for another node. */
    open = g_strdup_printf ("{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"%s\",\"to\":\"%s\"}\n",
                            a->address, a->address);
    write_text (connection, open, -1);
    expect_error (connection, "host-unknown");
  }

  {
    g_autoptr(GSocketConnection) connection = connect_direct (b);
    g_autoptr(GDataInputStream) in = NULL;
    g_autoptr(JsonObject) ack = NULL;
    g_autofree char *open = NULL;
    g_autofree char *line = NULL;
    g_autofree char *auth = NULL;
    g_autofree char *signature = NULL;
    guint8 forged[64];

    /* Claims to be A but cannot sign as A. */
    open = g_strdup_printf ("{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"%s\",\"to\":\"%s\"}\n",
                            a->address, b->address);
    write_text (connection, open, -1);

    in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
    g_filter_input_stream_set_close_base_stream (G_FILTER_INPUT_STREAM (in), FALSE);
    line = read_line (in);
    g_assert_nonnull (line);
    ack = parse_object (line);
    g_assert_true (json_object_get_boolean_member_with_default (ack, "ack", FALSE));
    g_assert_cmpstr (json_object_get_string_member_with_default (ack, "from", NULL), ==, b->address);
    g_assert_cmpstr (json_object_get_string_member_with_default (ack, "to", NULL), ==, a->address);
    g_assert_nonnull (json_object_get_string_member_with_default (ack, "challenge", NULL));

    for (guint i = 0; i < sizeof forged; i++)
      forged[i] = g_random_int_range (0, 256);
    signature = g_base64_encode (forged, sizeof forged);
    auth = g_strdup_printf ("{\"auth\":\"ed25519\",\"from\":\"%s\",\"signature\":\"%s\"}\n",
                            a->address, signature);
    write_text (connection, auth, -1);
    g_clear_object (&in);
    expect_error (connection, "not-authorized");
  }

  /* B still serves A. */
  send_text (a, b, "still there?");
  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0);
  texts = tc_test_history_texts (b, a->address, "in", NULL);
  assert_texts (texts, (const char * const[]) { "still there?", NULL });
  g_assert_true (tc_test_node_alive (b));
}

static goffset
file_size (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? st.st_size : 0;
}

static gboolean
storage_failing (TcTestNode *node)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "status");
  JsonObject *status = root != NULL && JSON_NODE_HOLDS_OBJECT (root) ?
                       json_node_get_object (root) : NULL;

  return status != NULL &&
         g_strcmp0 (json_object_get_string_member_with_default (status, "storage", ""),
                    "failing") == 0;
}

static gboolean
log_contains (TcTestNode *node,
              const char *needle)
{
  g_autofree char *contents = NULL;

  return g_file_get_contents (node->log_path, &contents, NULL, NULL) &&
         strstr (contents, needle) != NULL;
}

/* B's disk fills while a burst arrives (a file size limit on B's process,
 * RLIMIT_FSIZE: unlike a small tmpfs, it needs no privilege on the test
 * machine, and SQLite meets the same failed write). B stores what fits,
 * receipts only that, says it cannot store (status and log), keeps
 * answering, refuses A's streams while full, and takes everything, once,
 * when there is room again. */
static void
test_full_disk (Fixture       *f,
                gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autofree char *db = NULL;
  g_autofree char *wal = NULL;
  g_autoptr(TcTestCli) burst = NULL;
  g_autoptr(GPtrArray) texts = NULL;
  g_autoptr(GString) lines = g_string_new (NULL);
  g_autofree char *filler = g_strnfill (1000, 'x');
  struct rlimit limit;
  goffset biggest;
  guint stored, outbox;
  const guint n = 2000;

  SKIP_WITHOUT_NODES ();
  tc_test_make_friends (f->net, a, b);

  db = g_build_filename (b->profile, "torchat.db", NULL);
  wal = g_build_filename (b->profile, "torchat.db-wal", NULL);
  biggest = MAX (MAX (file_size (db), file_size (wal)), file_size (b->log_path));
  /* About 2 MB of messages against some 300 KiB of room. */
  limit.rlim_cur = biggest + 300 * 1024;
  limit.rlim_max = RLIM_INFINITY;
  g_assert_cmpint (prlimit (tc_test_node_pid (b), RLIMIT_FSIZE, &limit, NULL), ==, 0);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (lines, "f%u %s\n", i, filler);
  burst = tc_test_cli_start (a, lines->str, (const char * const[]) { "send", b->address, "-", NULL });
  tc_test_cli_wait (burst);
  g_assert_cmpint (burst->status, ==, 0);

  WAIT_UNTIL (storage_failing (b));
  WAIT_UNTIL (log_contains (b, "The disk is full"));
  WAIT_UNTIL (log_contains (a, "peer sent error resource-constraint"));
  /* What B could not store is still A's to send, and nothing more. */
  stored = incoming_with_prefix (b, a, "f");
  outbox = tc_test_outbox (a, b->address);
  g_test_message ("full: %u stored on B, %u in A's outbox", stored, outbox);
  g_assert_cmpuint (stored, <, n);
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), <=, stored);
  g_assert_cmpuint (outbox, >=, n - stored);
  g_assert_true (tc_test_node_alive (b));

  /* Still full a while later, still refusing, nothing lost. */
  tc_test_sleep (3000);
  g_assert_true (storage_failing (b));
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered") +
                    tc_test_outbox (a, b->address), ==, n);

  /* Room again. */
  limit.rlim_cur = RLIM_INFINITY;
  g_assert_cmpint (prlimit (tc_test_node_pid (b), RLIMIT_FSIZE, &limit, NULL), ==, 0);
  WAIT_UNTIL (tc_test_outbox (a, b->address) == 0);
  texts = tc_test_history_texts (b, a->address, "in", NULL);
  g_assert_cmpuint (count_prefix (texts, "f"), ==, n);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *expected = g_strdup_printf ("f%u %s", i, filler);
      g_assert_cmpstr (g_ptr_array_index (texts, i), ==, expected);
    }
  g_assert_cmpuint (tc_test_history_count (a, b->address, "out", "delivered"), ==, n);
  g_assert_false (storage_failing (b));
  WAIT_UNTIL (log_contains (b, "stores changes again"));
}

static void
test_address_typo (Fixture       *f,
                   gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autofree char *typo = NULL;
  g_autofree char *err = NULL;
  g_autofree char *lower = NULL;
  guint contacts;
  int status;

  SKIP_WITHOUT_NODES ();

  /* One letter changed among the first eight: the SOCKS log would show
   * that name if anything tried to reach it. */
  typo = g_strdup (b->address);
  typo[3] = typo[3] == 'q' ? 'r' : 'q';
  contacts = tc_test_count_contacts (a);

  status = tc_test_run_cli (a, NULL, NULL, &err, "add", typo, "Bob", "Hi");
  g_test_message ("add with a typo: status %d: %s", status, err);
  g_assert_cmpint (status, ==, 1);
  lower = g_utf8_strdown (err, -1);
  g_assert_true (strstr (lower, "typo") != NULL || strstr (lower, "checksum") != NULL);

  tc_test_sleep (1000);
  g_assert_cmpuint (tc_test_count_contacts (a), ==, contacts);
  g_assert_cmpuint (tc_test_socks_count (f->net, "CONNECT", typo, NULL), ==, 0);

  /* The real address still works. */
  g_assert_cmpint (CLI (a, "add", b->address, "Bob", "Hi"), ==, 0);
  WAIT_UNTIL (STATE_IS (b, a, "pending"));
}

static gboolean
in_profile (TcTestNode *node,
            const char *name)
{
  g_autofree char *path = g_build_filename (node->profile, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* A plaintext profile (--no-passphrase) talks with an encrypted one, both
 * keep everything across a restart, and then A's is encrypted with
 * `torchat passphrase` and goes on with its history. */
static void
test_plaintext_profile (Fixture       *f,
                        gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(GPtrArray) texts = NULL;
  g_autofree char *err = NULL;
  const char *to_b[] = { "from the plaintext profile", NULL };

  SKIP_WITHOUT_NODES ();

  g_assert_true (in_profile (a, "identity.key"));
  g_assert_false (in_profile (a, "profile.key"));
  g_assert_true (in_profile (b, "profile.key"));
  g_assert_false (in_profile (b, "identity.key"));

  tc_test_make_friends (f->net, a, b);
  send_text (a, b, to_b[0]);
  send_text (b, a, "to the plaintext profile");
  WAIT_UNTIL (tc_test_history_count (a, b->address, "out", "delivered") == 1);
  WAIT_UNTIL (tc_test_history_count (b, a->address, "out", "delivered") == 1);

  tc_test_node_quit (f->net, a);
  tc_test_node_quit (f->net, b);

  /* The passphrase command does not start a node, and wants no node on the
   * profile; here none runs. */
  g_assert_cmpint (tc_test_run_cli (a, NULL, NULL, &err, "--new-passphrase-file",
                                    f->net->passphrase_file, "passphrase"), ==, 0);
  g_assert_nonnull (strstr (err, "encrypted now"));
  g_assert_true (in_profile (a, "profile.key"));
  g_assert_false (in_profile (a, "identity.key"));

  a->plaintext = FALSE;
  tc_test_node_start (f->net, a);
  tc_test_node_start (f->net, b);
  texts = tc_test_history_texts (b, a->address, "in", "received");
  assert_texts (texts, to_b);
  g_clear_pointer (&texts, g_ptr_array_unref);
  texts = tc_test_history_texts (a, b->address, "in", "received");
  g_assert_cmpuint (texts->len, ==, 1);

  send_text (a, b, "after the encryption");
  WAIT_UNTIL (tc_test_history_count (a, b->address, "out", "delivered") == 2);
}

/* A headless node given the wrong passphrase says so, exits with status 1
 * and changes nothing; the right one then opens everything. */
static void
test_wrong_passphrase (Fixture       *f,
                       gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *wrong = g_build_filename (f->net->tmpdir, "wrong-passphrase", NULL);
  g_autofree char *key = g_build_filename (b->profile, "profile.key", NULL);
  g_autofree char *db = g_build_filename (b->profile, "torchat.db", NULL);
  g_autofree char *key_before = NULL, *key_after = NULL, *db_before = NULL, *db_after = NULL;
  g_autofree char *err = NULL;
  gsize db_before_len = 0, db_after_len = 0;

  SKIP_WITHOUT_NODES ();

  tc_test_make_friends (f->net, a, b);
  send_text (a, b, "kept through a wrong passphrase");
  WAIT_UNTIL (tc_test_history_count (a, b->address, "out", "delivered") == 1);
  tc_test_node_quit (f->net, b);

  g_assert_true (g_file_get_contents (key, &key_before, NULL, NULL));
  g_assert_true (g_file_get_contents (db, &db_before, &db_before_len, NULL));
  g_assert_true (g_file_set_contents_full (wrong, "a test passphrase, not a good one!\n", -1,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));

  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  proc = g_subprocess_launcher_spawn (launcher, &error, tc_test_binary (), "--headless",
                                      "--profile", b->profile, "--passphrase-file", wrong,
                                      "--socks", "127.0.0.1:1", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 1);
  g_assert_cmpstr (err, ==, "torchat: Wrong passphrase\n");

  /* Nor does a start without any passphrase (no terminal to ask on). */
  g_clear_object (&proc);
  g_clear_pointer (&err, g_free);
  proc = g_subprocess_launcher_spawn (launcher, &error, tc_test_binary (), "--headless",
                                      "--profile", b->profile, "--socks", "127.0.0.1:1", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 2);
  g_assert_nonnull (strstr (err, "--passphrase-file"));

  g_assert_true (g_file_get_contents (key, &key_after, NULL, NULL));
  g_assert_true (g_file_get_contents (db, &db_after, &db_after_len, NULL));
  g_assert_cmpmem (key_before, TC_PROFILE_HEADER_BYTES, key_after, TC_PROFILE_HEADER_BYTES);
  g_assert_cmpmem (db_before, db_before_len, db_after, db_after_len);

  tc_test_node_start (f->net, b);
  g_assert_cmpuint (tc_test_history_count (b, a->address, "in", "received"), ==, 1);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add ("/integration/" path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("request-accept", test_request_accept);
  ADD ("decline", test_decline);
  ADD ("block", test_block);
  ADD ("queued-until-accepted", test_queued_until_accepted);
  ADD ("duplicate-stream-race", test_duplicate_stream_race);
  ADD ("offline-peer", test_offline_peer);
  ADD ("crash", test_crash);
  ADD ("crash-mid-command", test_crash_mid_command);
  ADD ("bad-input", test_bad_input);
  ADD ("address-typo", test_address_typo);
  ADD ("full-disk", test_full_disk);
  ADD ("wrong-passphrase", test_wrong_passphrase);
  g_test_add ("/integration/plaintext-profile", Fixture, "plaintext", fixture_setup,
              test_plaintext_profile, fixture_teardown);
  /* Last: it fails with the node of 2026-11-22 (no retry after a refused
   * handshake) and a failure ends the run. */
  ADD ("unblock", test_unblock);

#undef ADD

  return g_test_run ();
}
