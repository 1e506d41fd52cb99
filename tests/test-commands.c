/* test-commands.c: the commands of `torchat COMMAND`, run against a real
 * node on a temporary profile, directly and through the control socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/stat.h>

#include "tc-commands.h"
#include "tc-control.h"
#include "tc-identity.h"
#include "tc-node.h"

typedef struct
{
  char      *tmpdir;
  char      *profile;
  TcNode    *node;
  TcControl *control;
  char      *other;       /* a valid address that is not ours */
  guint      n_quit_requested;
} Fixture;

typedef struct
{
  int       status;
  char     *out;
  char     *err;
  gboolean  quit;
} Result;

static void
result_clear (Result *result)
{
  g_clear_pointer (&result->out, g_free);
  g_clear_pointer (&result->err, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Result, result_clear)

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            rm_rf (child);
          else
            g_unlink (child);
        }
    }

  g_rmdir (path);
}

/* A loopback port nothing listens on: the node's SOCKS connections fail
 * at once and the messages stay queued. */
static guint
unused_port (void)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GError) error = NULL;
  guint16 port;

  port = g_socket_listener_add_any_inet_port (listener, NULL, &error);
  g_assert_no_error (error);
  g_socket_listener_close (listener);

  return port;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcIdentity) identity = NULL;
  g_autofree char *socks = NULL;
  guint8 seed[TC_SEED_LEN];

  f->tmpdir = g_dir_make_tmp ("torchat-commands-XXXXXX", &error);
  g_assert_no_error (error);
  f->profile = g_build_filename (f->tmpdir, "profile", NULL);
  g_assert_cmpint (g_mkdir (f->profile, 0700), ==, 0);

  f->node = tc_node_new (f->profile, &error);
  g_assert_no_error (error);
  socks = g_strdup_printf ("127.0.0.1:%u", unused_port ());
  tc_node_set_listen_address (f->node, "127.0.0.1:0", &error);
  g_assert_no_error (error);
  tc_node_set_socks_address (f->node, socks, &error);
  g_assert_no_error (error);
  tc_node_start (f->node, &error);
  g_assert_no_error (error);

  memset (seed, 7, sizeof seed);
  identity = tc_identity_new_from_seed (seed);
  f->other = g_strdup (tc_identity_get_address (identity));
  g_assert_cmpstr (f->other, !=, tc_node_get_address (f->node));
}

static void
stop_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  tc_node_stop_finish (TC_NODE (object), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  gboolean done = FALSE;

  if (f->control != NULL)
    g_assert_finalize_object (g_steal_pointer (&f->control));

  tc_node_stop_async (f->node, NULL, stop_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  /* Let the cancelled connection attempts of the node's peers finish while
   * the node is still there. */
  done = FALSE;
  g_timeout_add (200, timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);

  g_clear_object (&f->node);

  rm_rf (f->tmpdir);
  g_free (f->tmpdir);
  g_free (f->profile);
  g_free (f->other);
}

static void
run_argv (Fixture            *f,
          gboolean            json,
          const char         *stdin_text,
          Result             *result,
          const char * const *argv)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);

  result->quit = TRUE;
  result->status = tc_commands_run (f->node, argv, json, stdin_text, out, err, &result->quit);
  result->out = g_string_free (g_steal_pointer (&out), FALSE);
  result->err = g_string_free (g_steal_pointer (&err), FALSE);

  if (g_test_verbose ())
    g_test_message ("%s: status %d, out “%s”, err “%s”",
                    argv[0] ? argv[0] : "(none)", result->status, result->out, result->err);
}

#define RUN(f, r, ...) run_argv ((f), FALSE, NULL, (r), (const char * const[]) { __VA_ARGS__, NULL })
#define RUN_JSON(f, r, ...) run_argv ((f), TRUE, NULL, (r), (const char * const[]) { __VA_ARGS__, NULL })

/* A failure's message: one line, prefixed like every message of the
 * program. */
static void
assert_one_error_line (const char *err)
{
  g_assert_true (g_str_has_prefix (err, "torchat: "));
  g_assert_true (g_str_has_suffix (err, "\n"));
  g_assert_true (strchr (err, '\n') == err + strlen (err) - 1);
  g_assert_cmpuint (strlen (err), >, strlen ("torchat: \n") + 5);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  /* One value on one line. */
  g_assert_true (g_str_has_suffix (text, "\n"));
  g_assert_true (strchr (text, '\n') == text + strlen (text) - 1);

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

static guint
n_contacts (Fixture *f)
{
  return g_list_model_get_n_items (tc_node_get_contacts (f->node));
}

static void
test_id (Fixture       *f,
         gconstpointer  data)
{
  g_auto(Result) plain = { 0 };
  g_auto(Result) json = { 0 };
  g_autofree char *expected = g_strdup_printf ("%s\n", tc_node_get_address (f->node));
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  RUN (f, &plain, "id");
  g_assert_cmpint (plain.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (plain.out, ==, expected);
  g_assert_cmpstr (plain.err, ==, "");
  g_assert_false (plain.quit);

  RUN_JSON (f, &json, "id");
  g_assert_cmpint (json.status, ==, TC_EXIT_OK);
  root = parse_json (json.out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  object = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (object, "address"), ==,
                   tc_node_get_address (f->node));
  g_assert_cmpint (json_object_get_int_member (object, "listen-port"), ==,
                   tc_node_get_listen_port (f->node));
  g_assert_cmpint (json_object_get_int_member (object, "listen-port"), >, 0);
}

static void
test_add_typo (Fixture       *f,
               gconstpointer  data)
{
  g_auto(Result) typo = { 0 };
  g_auto(Result) short_address = { 0 };
  g_auto(Result) contacts = { 0 };
  g_autofree char *typed = g_strdup (f->other);
  g_autofree char *lower = NULL;
  g_autofree char *shown = NULL;

  typed[3] = typed[3] == 'q' ? 'r' : 'q';
  RUN (f, &typo, "add", typed, "Bob", "Hi");
  g_assert_cmpint (typo.status, ==, TC_EXIT_FAILED);
  g_assert_cmpstr (typo.out, ==, "");
  assert_one_error_line (typo.err);
  lower = g_utf8_strdown (typo.err, -1);
  g_assert_true (strstr (lower, "typo") != NULL || strstr (lower, "checksum") != NULL);
  /* The message says which argument is wrong, shortened. */
  shown = g_strdup_printf ("torchat: %.8s…: ", typed);
  g_assert_true (g_str_has_prefix (typo.err, shown));

  RUN (f, &short_address, "add", "abcdefghijklmnop");
  g_assert_cmpint (short_address.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (short_address.err);
  g_assert_nonnull (strstr (short_address.err, "56"));

  g_assert_cmpuint (n_contacts (f), ==, 0);
  RUN (f, &contacts, "contacts");
  g_assert_cmpint (contacts.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (contacts.out, ==, "");
}

static void
test_add (Fixture       *f,
          gconstpointer  data)
{
  g_auto(Result) add = { 0 };
  g_auto(Result) plain = { 0 };
  g_auto(Result) json = { 0 };
  g_autofree char *upper = NULL;
  g_autofree char *typed = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) added = NULL;
  JsonObject *contact;
  const char *members[] = {
    "address", "nickname", "name", "display-name", "state", "presence",
    "status-text", "connected", "greeting", "outbox", "last-error", NULL
  };

  /* As a user pastes it: upper case, no ".onion", spaces around. */
  upper = g_ascii_strup (f->other, strlen (f->other) - strlen (".onion"));
  typed = g_strdup_printf (" %s ", upper);
  run_argv (f, TRUE, NULL, &add,
            (const char * const[]) { "add", typed, "Bob", "Hello", "there", NULL });
  g_assert_cmpint (add.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (add.err, ==, "");
  added = parse_json (add.out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (added), "address"),
                   ==, f->other);

  g_assert_nonnull (tc_node_lookup_contact (f->node, f->other));

  RUN (f, &plain, "contacts");
  g_assert_cmpint (plain.status, ==, TC_EXIT_OK);
  expected = g_strdup_printf ("%s requested offline Bob\n", f->other);
  g_assert_cmpstr (plain.out, ==, expected);
  g_assert_cmpstr (plain.err, ==, "");

  RUN_JSON (f, &json, "contacts");
  g_assert_cmpint (json.status, ==, TC_EXIT_OK);
  root = parse_json (json.out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  contact = json_array_get_object_element (json_node_get_array (root), 0);
  for (guint i = 0; members[i] != NULL; i++)
    g_assert_true (json_object_has_member (contact, members[i]));
  g_assert_cmpstr (json_object_get_string_member (contact, "address"), ==, f->other);
  g_assert_cmpstr (json_object_get_string_member (contact, "nickname"), ==, "Bob");
  g_assert_true (json_object_get_null_member (contact, "name"));
  g_assert_cmpstr (json_object_get_string_member (contact, "display-name"), ==, "Bob");
  g_assert_cmpstr (json_object_get_string_member (contact, "state"), ==, "requested");
  g_assert_cmpstr (json_object_get_string_member (contact, "presence"), ==, "offline");
  g_assert_false (json_object_get_boolean_member (contact, "connected"));
  g_assert_cmpstr (json_object_get_string_member (contact, "greeting"), ==, "Hello there");
  g_assert_cmpint (json_object_get_int_member (contact, "outbox"), ==, 0);
}

static void
test_add_self (Fixture       *f,
               gconstpointer  data)
{
  g_auto(Result) result = { 0 };

  RUN (f, &result, "add", tc_node_get_address (f->node));
  g_assert_cmpint (result.status, ==, TC_EXIT_FAILED);
  g_assert_cmpstr (result.out, ==, "");
  assert_one_error_line (result.err);
  g_assert_nonnull (strstr (result.err, "own"));
  g_assert_cmpuint (n_contacts (f), ==, 0);
}

static void
test_send_unknown (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(Result) send = { 0 };
  g_auto(Result) history = { 0 };

  RUN (f, &send, "send", f->other, "hi");
  g_assert_cmpint (send.status, ==, TC_EXIT_FAILED);
  g_assert_cmpstr (send.out, ==, "");
  assert_one_error_line (send.err);

  RUN (f, &history, "history", f->other);
  g_assert_cmpint (history.status, ==, TC_EXIT_FAILED);
  g_assert_cmpstr (history.out, ==, "");
  assert_one_error_line (history.err);
}

static guint
search_count (Fixture    *f,
              const char *text,
              const char *address)
{
  g_auto(Result) result = { 0 };
  g_autoptr(JsonNode) root = NULL;

  if (address != NULL)
    RUN_JSON (f, &result, "search", text, address);
  else
    RUN_JSON (f, &result, "search", text);
  g_assert_cmpint (result.status, ==, TC_EXIT_OK);
  root = parse_json (result.out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));

  return json_array_get_length (json_node_get_array (root));
}

static void
test_search (Fixture       *f,
             gconstpointer  data)
{
  g_auto(Result) add = { 0 };
  g_auto(Result) send = { 0 };
  g_auto(Result) plain = { 0 };
  g_auto(Result) typo = { 0 };
  g_auto(Result) status = { 0 };
  g_autofree char *bad = g_strdup (f->other);
  g_autoptr(JsonNode) root = NULL;

  RUN (f, &add, "add", f->other);
  g_assert_cmpint (add.status, ==, TC_EXIT_OK);
  run_argv (f, FALSE, "The quick brown Fox\nlazy dog\nÜber den Café\n", &send,
            (const char * const[]) { "send", f->other, "-", NULL });
  g_assert_cmpint (send.status, ==, TC_EXIT_OK);

  g_assert_cmpuint (search_count (f, "fox", NULL), ==, 1);
  g_assert_cmpuint (search_count (f, "FOX quick", NULL), ==, 1);
  g_assert_cmpuint (search_count (f, "fox dog", NULL), ==, 0);
  g_assert_cmpuint (search_count (f, "cat", NULL), ==, 0);
  /* Case and accents folded. */
  g_assert_cmpuint (search_count (f, "uber cafe", NULL), ==, 1);
  /* Search syntax is text. */
  g_assert_cmpuint (search_count (f, "\"fox\" OR NEAR* -", NULL), ==, 0);
  g_assert_cmpuint (search_count (f, "\"fox\"", f->other), ==, 1);

  RUN (f, &plain, "search", "dog");
  g_assert_cmpint (plain.status, ==, TC_EXIT_OK);
  g_assert_true (g_str_has_prefix (plain.out, f->other));
  g_assert_nonnull (strstr (plain.out, "> queued lazy dog\n"));

  bad[10] = bad[10] == 'a' ? 'b' : 'a';
  RUN (f, &typo, "search", "dog", bad);
  g_assert_cmpint (typo.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (typo.err);

  /* "status" alone: the storage works. */
  RUN_JSON (f, &status, "status");
  g_assert_cmpint (status.status, ==, TC_EXIT_OK);
  root = parse_json (status.out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "storage"), ==, "ok");
}

static void
test_send_history (Fixture       *f,
                   gconstpointer  data)
{
  g_auto(Result) add = { 0 };
  g_auto(Result) send = { 0 };
  g_auto(Result) plain = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) contacts = { 0 };
  g_autoptr(GDateTime) before = g_date_time_new_now_local ();
  g_autoptr(GDateTime) after = NULL;
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GRegex) regex = NULL;
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *before_text = NULL;
  g_autofree char *after_text = NULL;
  g_autofree char *shown_date = NULL;
  JsonObject *message;

  RUN (f, &add, "add", f->other);
  g_assert_cmpint (add.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (add.out, ==, "");

  RUN (f, &send, "send", f->other, "hello", "world");
  g_assert_cmpint (send.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (send.out, ==, "");
  g_assert_cmpstr (send.err, ==, "");
  after = g_date_time_new_now_local ();

  RUN (f, &plain, "history", f->other);
  g_assert_cmpint (plain.status, ==, TC_EXIT_OK);
  regex = g_regex_new ("^(\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d) > queued hello world\n$",
                       0, 0, NULL);
  g_assert_true (g_regex_match (regex, plain.out, 0, &match));
  /* Local time, to the second. */
  shown_date = g_match_info_fetch (match, 1);
  before_text = g_date_time_format (before, "%Y-%m-%d %H:%M:%S");
  after_text = g_date_time_format (after, "%Y-%m-%d %H:%M:%S");
  g_assert_cmpstr (shown_date, >=, before_text);
  g_assert_cmpstr (shown_date, <=, after_text);

  RUN_JSON (f, &json, "history", f->other);
  g_assert_cmpint (json.status, ==, TC_EXIT_OK);
  root = parse_json (json.out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  message = json_array_get_object_element (json_node_get_array (root), 0);
  g_assert_cmpuint (strlen (json_object_get_string_member (message, "id")), >, 0);
  g_assert_cmpstr (json_object_get_string_member (message, "direction"), ==, "outgoing");
  g_assert_cmpstr (json_object_get_string_member (message, "state"), ==, "queued");
  g_assert_cmpstr (json_object_get_string_member (message, "text"), ==, "hello world");
  g_assert_true (json_object_get_null_member (message, "received-date"));
  date = g_date_time_new_from_iso8601 (json_object_get_string_member (message, "date"), NULL);
  g_assert_nonnull (date);
  g_assert_cmpint (g_date_time_to_unix (date), >=, g_date_time_to_unix (before));
  g_assert_cmpint (g_date_time_to_unix (date), <=, g_date_time_to_unix (after));

  RUN_JSON (f, &contacts, "contacts");
  g_clear_pointer (&root, json_node_unref);
  root = parse_json (contacts.out);
  g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (json_node_get_array (root), 0),
                                               "outbox"), ==, 1);
}

static void
test_send_stdin (Fixture       *f,
                 gconstpointer  data)
{
  g_auto(Result) add = { 0 };
  g_auto(Result) send = { 0 };
  g_auto(Result) empty = { 0 };
  g_auto(Result) too_long = { 0 };
  g_auto(Result) history = { 0 };
  g_autoptr(GString) huge = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_auto(GStrv) lines = NULL;
  JsonArray *sent;
  const char *texts[] = { "one", "two", "three \\ \"four\"", "four", NULL };

  RUN (f, &add, "add", f->other);
  g_assert_cmpint (add.status, ==, TC_EXIT_OK);

  /* CRLF, a blank line and a missing final newline are all fine. */
  run_argv (f, TRUE, "one\ntwo\r\n\nthree \\ \"four\"", &send,
            (const char * const[]) { "send", f->other, "-", NULL });
  g_assert_cmpint (send.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (send.err, ==, "");
  root = parse_json (send.out);
  sent = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (sent), ==, 3);
  for (guint i = 0; i < 3; i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (sent, i), "text"),
                     ==, texts[i]);

  run_argv (f, FALSE, "\n\n", &empty,
            (const char * const[]) { "send", f->other, "-", NULL });
  g_assert_cmpint (empty.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (empty.err);

  /* A line the node refuses: the user learns which, and nothing is queued
   * (all or nothing, so a retry does not send the first lines twice). */
  huge = g_string_new ("four\n");
  for (guint i = 0; i < 2 * 1024 * 1024 / 8; i++)
    g_string_append (huge, "too long");
  g_string_append (huge, "\nfive\n");
  run_argv (f, FALSE, huge->str, &too_long,
            (const char * const[]) { "send", f->other, "-", NULL });
  g_assert_cmpint (too_long.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (too_long.err);
  g_assert_true (g_str_has_prefix (too_long.err, "torchat: Message 2: "));
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (f->node), f->other), ==, 3);

  RUN (f, &history, "history", f->other);
  g_assert_cmpint (history.status, ==, TC_EXIT_OK);
  lines = g_strsplit (history.out, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 4);
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *suffix = g_strdup_printf (" > queued %s", texts[i]);

      g_assert_true (g_str_has_suffix (lines[i], suffix));
    }
  g_assert_cmpstr (lines[3], ==, "");
}

/* What peers control can neither break the one-line format nor reach the
 * terminal as escape sequences. */
static void
test_untrusted_text (Fixture       *f,
                     gconstpointer  data)
{
  g_auto(Result) add = { 0 };
  g_auto(Result) send = { 0 };
  g_auto(Result) contacts = { 0 };
  g_auto(Result) history = { 0 };
  g_autofree char *expected = NULL;
  TcContact *contact;

  RUN (f, &add, "add", f->other);
  g_assert_cmpint (add.status, ==, TC_EXIT_OK);
  contact = tc_node_lookup_contact (f->node, f->other);
  tc_contact_set_name (contact, "Eve\033[2J\nroot");

  RUN (f, &contacts, "contacts");
  expected = g_strdup_printf ("%s requested offline Eve\\u001b[2J\\nroot\n", f->other);
  g_assert_cmpstr (contacts.out, ==, expected);

  RUN (f, &send, "send", f->other, "two\nlines\033[31m");
  g_assert_cmpint (send.status, ==, TC_EXIT_OK);
  RUN (f, &history, "history", f->other);
  g_assert_true (g_str_has_suffix (history.out, " > queued two\\nlines\\u001b[31m\n"));
}

static void
test_status (Fixture       *f,
             gconstpointer  data)
{
  g_auto(Result) bad = { 0 };
  g_auto(Result) offline = { 0 };
  g_auto(Result) away = { 0 };
  g_auto(Result) profile = { 0 };

  RUN (f, &bad, "status", "sleeping");
  g_assert_cmpint (bad.status, ==, TC_EXIT_USAGE);
  assert_one_error_line (bad.err);
  g_assert_nonnull (strstr (bad.err, "available"));

  RUN (f, &offline, "status", "offline");
  g_assert_cmpint (offline.status, ==, TC_EXIT_USAGE);
  assert_one_error_line (offline.err);

  g_assert_cmpint (tc_node_get_presence (f->node), ==, TC_PRESENCE_AVAILABLE);

  RUN (f, &away, "status", "away", "gone", "fishing");
  g_assert_cmpint (away.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (away.out, ==, "");
  g_assert_cmpstr (away.err, ==, "");
  g_assert_cmpint (tc_node_get_presence (f->node), ==, TC_PRESENCE_AWAY);
  g_assert_cmpstr (tc_node_get_status_text (f->node), ==, "gone fishing");

  RUN (f, &profile, "profile", "Alice", "I like", "cats");
  g_assert_cmpint (profile.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (profile.out, ==, "");
  g_assert_cmpstr (tc_node_get_name (f->node), ==, "Alice");
  g_assert_cmpstr (tc_node_get_profile_text (f->node), ==, "I like cats");
}

static void
test_contact_actions (Fixture       *f,
                      gconstpointer  data)
{
  g_auto(Result) add = { 0 };
  g_auto(Result) accept = { 0 };
  g_auto(Result) block = { 0 };
  g_auto(Result) remove = { 0 };
  g_auto(Result) remove_again = { 0 };
  g_auto(Result) retry = { 0 };
  g_auto(Result) retry_gone = { 0 };

  RUN (f, &add, "add", f->other);
  g_assert_cmpint (add.status, ==, TC_EXIT_OK);

  /* Nothing to accept: we asked them. */
  RUN (f, &accept, "accept", f->other);
  g_assert_cmpint (accept.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (accept.err);

  RUN (f, &block, "block", f->other);
  g_assert_cmpint (block.status, ==, TC_EXIT_OK);
  g_assert_cmpint (tc_contact_get_state (tc_node_lookup_contact (f->node, f->other)), ==,
                   TC_CONTACT_STATE_BLOCKED);

  /* "Try now" works for any contact (no tor here: it reconnects at once). */
  RUN (f, &retry, "retry", f->other);
  g_assert_cmpint (retry.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (retry.out, ==, "");

  RUN (f, &remove, "remove", f->other);
  g_assert_cmpint (remove.status, ==, TC_EXIT_OK);
  g_assert_cmpuint (n_contacts (f), ==, 0);

  RUN (f, &retry_gone, "retry", f->other);
  g_assert_cmpint (retry_gone.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (retry_gone.err);

  RUN (f, &remove_again, "remove", f->other);
  g_assert_cmpint (remove_again.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (remove_again.err);
}

static void
test_usage (Fixture       *f,
            gconstpointer  data)
{
  const char * const *cases[] = {
    (const char * const[]) { NULL },
    (const char * const[]) { "frobnicate", NULL },
    (const char * const[]) { "add", NULL },
    (const char * const[]) { "id", "extra", NULL },
    (const char * const[]) { "history", NULL },
    (const char * const[]) { "send", "x", NULL },
    (const char * const[]) { "accept", "a", "b", NULL },
    (const char * const[]) { "profile", NULL },
    (const char * const[]) { "quit", "now", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_auto(Result) result = { 0 };
      g_autoptr(GString) err = g_string_new (NULL);

      run_argv (f, FALSE, NULL, &result, cases[i]);
      g_assert_cmpint (result.status, ==, TC_EXIT_USAGE);
      g_assert_cmpstr (result.out, ==, "");
      g_assert_false (result.quit);
      assert_one_error_line (result.err);

      /* The client finds the same without a node. */
      g_assert_cmpint (tc_commands_check (cases[i], err), ==, TC_EXIT_USAGE);
      g_assert_cmpstr (err->str, ==, result.err);
    }

  {
    g_auto(Result) result = { 0 };

    RUN (f, &result, "add");
    g_assert_nonnull (strstr (result.err, "torchat add ADDRESS"));
  }

  g_assert_cmpuint (n_contacts (f), ==, 0);
}

static void
test_quit (Fixture       *f,
           gconstpointer  data)
{
  g_auto(Result) quit = { 0 };

  RUN (f, &quit, "quit");
  g_assert_cmpint (quit.status, ==, TC_EXIT_OK);
  g_assert_true (quit.quit);
  g_assert_cmpstr (quit.out, ==, "");
  g_assert_cmpstr (quit.err, ==, "");
}

/* Through the control socket: the client side runs in a thread, as it
 * blocks, while this thread runs the node and the server. */

typedef struct
{
  const char         *profile;
  const char * const *argv;
  gboolean            json;
  const char         *stdin_text;
  GString            *out;
  GString            *err;
  int                 status;
  gint                done;
} Forward;

static gpointer
forward_thread (gpointer data)
{
  Forward *fw = data;

  fw->status = tc_control_forward (fw->profile, fw->argv, fw->json, fw->stdin_text,
                                   fw->out, fw->err);
  g_atomic_int_set (&fw->done, 1);
  g_main_context_wakeup (NULL);

  return NULL;
}

static void
forward_argv (const char         *profile,
              gboolean            json,
              const char         *stdin_text,
              Result             *result,
              const char * const *argv)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  Forward fw = { profile, argv, json, stdin_text, out, err, -1, 0 };
  GThread *thread;

  thread = g_thread_new ("forward", forward_thread, &fw);
  while (!g_atomic_int_get (&fw.done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);

  result->status = fw.status;
  result->out = g_string_free (g_steal_pointer (&out), FALSE);
  result->err = g_string_free (g_steal_pointer (&err), FALSE);
}

#define FORWARD(f, r, ...) forward_argv ((f)->profile, FALSE, NULL, (r), (const char * const[]) { __VA_ARGS__, NULL })

static gboolean
drop_control_cb (gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_finalize_object (g_steal_pointer (&f->control));

  return G_SOURCE_REMOVE;
}

static void
quit_requested_cb (TcControl *control,
                   Fixture   *f)
{
  f->n_quit_requested++;
  /* As the owner does once the node has stopped. */
  g_idle_add (drop_control_cb, f);
}

static void
test_control (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *socket_path = tc_control_dup_socket_path (f->profile);
  g_autofree char *expected = g_strdup_printf ("%s\n", tc_node_get_address (f->node));
  g_auto(Result) id = { 0 };
  g_auto(Result) json = { 0 };
  g_auto(Result) typo = { 0 };
  g_auto(Result) usage = { 0 };
  g_auto(Result) add = { 0 };
  g_auto(Result) send = { 0 };
  g_auto(Result) quit = { 0 };
  g_auto(Result) after = { 0 };
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *typed = g_strdup (f->other);
  GStatBuf st;

  /* A socket left by a node that crashed. */
  g_assert_true (g_file_set_contents (socket_path, "", 0, NULL));

  f->control = tc_control_new (f->node, &error);
  g_assert_no_error (error);
  g_signal_connect (f->control, "quit-requested", G_CALLBACK (quit_requested_cb), f);

  g_assert_cmpint (g_stat (socket_path, &st), ==, 0);
  g_assert_true (S_ISSOCK (st.st_mode));
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);

  FORWARD (f, &id, "id");
  g_assert_cmpint (id.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (id.out, ==, expected);
  g_assert_cmpstr (id.err, ==, "");

  forward_argv (f->profile, TRUE, NULL, &json, (const char * const[]) { "id", NULL });
  g_assert_cmpint (json.status, ==, TC_EXIT_OK);
  root = parse_json (json.out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "address"),
                   ==, tc_node_get_address (f->node));

  typed[3] = typed[3] == 'q' ? 'r' : 'q';
  FORWARD (f, &typo, "add", typed);
  g_assert_cmpint (typo.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (typo.err);

  FORWARD (f, &usage, "add");
  g_assert_cmpint (usage.status, ==, TC_EXIT_USAGE);
  assert_one_error_line (usage.err);

  FORWARD (f, &add, "add", f->other);
  g_assert_cmpint (add.status, ==, TC_EXIT_OK);
  forward_argv (f->profile, FALSE, "a\nb\nc\n", &send,
                (const char * const[]) { "send", f->other, "-", NULL });
  g_assert_cmpint (send.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (send.err, ==, "");
  g_assert_cmpuint (tc_store_count_outbox (tc_node_get_store (f->node), f->other), ==, 3);

  /* `quit` returns once the node let go of the socket. */
  FORWARD (f, &quit, "quit");
  g_assert_cmpint (quit.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (quit.err, ==, "");
  g_assert_cmpuint (f->n_quit_requested, ==, 1);
  g_assert_null (f->control);
  g_assert_false (g_file_test (socket_path, G_FILE_TEST_EXISTS));

  FORWARD (f, &after, "id");
  g_assert_cmpint (after.status, ==, TC_EXIT_NO_NODE);
  g_assert_cmpstr (after.out, ==, "");
  assert_one_error_line (after.err);
}

static void
test_no_node (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmpdir = g_dir_make_tmp ("torchat-commands-XXXXXX", &error);
  g_autofree char *socket_path = NULL;
  g_autofree char *hint = NULL;
  g_auto(Result) missing = { 0 };
  g_auto(Result) stale = { 0 };
  g_auto(Result) usage = { 0 };
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) address = NULL;

  g_assert_no_error (error);

  forward_argv (tmpdir, FALSE, NULL, &missing, (const char * const[]) { "id", NULL });
  g_assert_cmpint (missing.status, ==, TC_EXIT_NO_NODE);
  g_assert_cmpstr (missing.out, ==, "");
  assert_one_error_line (missing.err);
  hint = g_strdup_printf ("start one with: torchat --headless --profile %s\n", tmpdir);
  g_assert_true (g_str_has_suffix (missing.err, hint));

  /* A socket file nobody listens on any more. */
  socket_path = tc_control_dup_socket_path (tmpdir);
  socket = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, &error);
  g_assert_no_error (error);
  address = g_unix_socket_address_new (socket_path);
  g_socket_bind (socket, address, FALSE, &error);
  g_assert_no_error (error);
  g_socket_close (socket, NULL);
  g_assert_true (g_file_test (socket_path, G_FILE_TEST_EXISTS));

  forward_argv (tmpdir, FALSE, NULL, &stale, (const char * const[]) { "contacts", NULL });
  g_assert_cmpint (stale.status, ==, TC_EXIT_NO_NODE);
  assert_one_error_line (stale.err);

  /* A usage error is one, node or not. */
  forward_argv (tmpdir, FALSE, NULL, &usage, (const char * const[]) { "send", NULL });
  g_assert_cmpint (usage.status, ==, TC_EXIT_USAGE);

  g_unlink (socket_path);
  g_rmdir (tmpdir);
}

static void
test_transfers (Fixture       *f,
                gconstpointer  data)
{
  g_auto(Result) r = { 0 };
  g_autofree char *file = g_build_filename (f->tmpdir, "report.pdf", NULL);
  g_autofree char *tid = NULL;
  g_autoptr(JsonNode) list = NULL;
  g_autoptr(GError) error = NULL;
  const char *relative[] = { "send-file", "x", "sub/report.pdf", NULL };
  g_auto(GStrv) resolved = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *expected = NULL;
  JsonObject *t;
  char *nl;

  g_file_set_contents (file, "%PDF-1.4 not really", -1, &error);
  g_assert_no_error (error);

  /* Only to contacts. */
  RUN (f, &r, "send-file", f->other, file);
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (r.err);
  result_clear (&r);
  RUN (f, &r, "send-file", tc_node_get_address (f->node), file);
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  result_clear (&r);

  RUN (f, &r, "add", f->other);
  g_assert_cmpint (r.status, ==, TC_EXIT_OK);
  result_clear (&r);

  /* Bad files: missing, a folder, a relative path (the client makes paths
   * absolute before they reach the node). */
  RUN (f, &r, "send-file", f->other, "/nonexistent/file");
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (r.err);
  result_clear (&r);
  RUN (f, &r, "send-file", f->other, f->tmpdir);
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  g_assert_nonnull (strstr (r.err, "folder"));
  result_clear (&r);
  RUN (f, &r, "send-file", f->other, "report.pdf");
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  result_clear (&r);
  RUN (f, &r, "send-file", f->other);
  g_assert_cmpint (r.status, ==, TC_EXIT_USAGE);
  result_clear (&r);
  g_assert_cmpuint (g_list_model_get_n_items (tc_node_get_transfers (f->node)), ==, 0);

  resolved = tc_commands_resolve_paths (relative);
  expected = g_build_filename (cwd, "sub", "report.pdf", NULL);
  g_assert_cmpstr (resolved[2], ==, expected);

  /* The TID on the first line; the transfer waits for the offline peer. */
  RUN (f, &r, "send-file", f->other, file);
  g_assert_cmpint (r.status, ==, TC_EXIT_OK);
  nl = strchr (r.out, '\n');
  g_assert_nonnull (nl);
  tid = g_strndup (r.out, nl - r.out);
  g_assert_cmpuint (strlen (tid), ==, 24);
  result_clear (&r);

  RUN (f, &r, "transfers");
  g_assert_true (g_str_has_prefix (r.out, tid));
  g_assert_nonnull (strstr (r.out, " outgoing waiting 0/19 "));
  g_assert_nonnull (strstr (r.out, "report.pdf"));
  result_clear (&r);

  RUN_JSON (f, &r, "transfers");
  list = parse_json (r.out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (list)), ==, 1);
  t = json_array_get_object_element (json_node_get_array (list), 0);
  g_assert_cmpstr (json_object_get_string_member (t, "id"), ==, tid);
  g_assert_cmpstr (json_object_get_string_member (t, "direction"), ==, "outgoing");
  g_assert_cmpstr (json_object_get_string_member (t, "peer"), ==, f->other);
  g_assert_cmpstr (json_object_get_string_member (t, "name"), ==, "report.pdf");
  g_assert_cmpint (json_object_get_int_member (t, "size"), ==, 19);
  g_assert_cmpint (json_object_get_int_member (t, "done"), ==, 0);
  g_assert_cmpstr (json_object_get_string_member (t, "state"), ==, "waiting");
  g_assert_cmpstr (json_object_get_string_member (t, "mime"), ==, "application/pdf");
  result_clear (&r);

  /* Answers belong to incoming transfers; unknown ids are errors. */
  RUN (f, &r, "accept-file", tid);
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  assert_one_error_line (r.err);
  result_clear (&r);
  RUN (f, &r, "decline-file", tid);
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  result_clear (&r);
  RUN (f, &r, "cancel-file", "NoSuchTransferAtAll");
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  result_clear (&r);

  RUN (f, &r, "cancel-file", tid);
  g_assert_cmpint (r.status, ==, TC_EXIT_OK);
  result_clear (&r);
  t = NULL;
  {
    g_autoptr(TcTransfer) transfer = g_list_model_get_item (tc_node_get_transfers (f->node), 0);

    g_assert_cmpint (tc_transfer_get_state (transfer), ==, TC_TRANSFER_STATE_CANCELLED);
  }
  RUN (f, &r, "cancel-file", tid);
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  result_clear (&r);

  /* The download folder: a setting, and it must be a folder. */
  RUN (f, &r, "download-dir", file);
  g_assert_cmpint (r.status, ==, TC_EXIT_FAILED);
  result_clear (&r);
  RUN (f, &r, "download-dir", f->tmpdir);
  g_assert_cmpint (r.status, ==, TC_EXIT_OK);
  result_clear (&r);
  RUN (f, &r, "download-dir");
  g_assert_true (g_str_has_prefix (r.out, f->tmpdir));
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/commands/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("id", test_id);
  ADD ("add-typo", test_add_typo);
  ADD ("add", test_add);
  ADD ("add-self", test_add_self);
  ADD ("send-unknown", test_send_unknown);
  ADD ("send-history", test_send_history);
  ADD ("search", test_search);
  ADD ("send-stdin", test_send_stdin);
  ADD ("untrusted-text", test_untrusted_text);
  ADD ("status-profile", test_status);
  ADD ("contact-actions", test_contact_actions);
  ADD ("usage", test_usage);
  ADD ("quit", test_quit);
  ADD ("control", test_control);
  ADD ("transfers", test_transfers);
  g_test_add_func ("/commands/no-node", test_no_node);

#undef ADD

  return g_test_run ();
}
