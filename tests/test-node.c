/* test-node.c: two nodes in one process, talking through the test SOCKS server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "tc-address.h"
#include "tc-identity.h"
#include "tc-node.h"
#include "tc-store-private.h"

typedef struct {
  char        *dir;
  char        *map_path;
  GSubprocess *socks;
  guint        socks_port;
  TcNode      *a;
  TcNode      *b;
  guint        tick;
} Fixture;

static gboolean
wait_for (gboolean (*done) (Fixture *f), Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;

  while (!done (f))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, TRUE);
    }

  return TRUE;
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
write_map (Fixture *f)
{
  g_autoptr(GString) map = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  if (f->a != NULL)
    g_string_append_printf (map, "%s 127.0.0.1:%u\n", tc_node_get_address (f->a),
                            tc_node_get_listen_port (f->a));
  if (f->b != NULL)
    g_string_append_printf (map, "%s 127.0.0.1:%u\n", tc_node_get_address (f->b),
                            tc_node_get_listen_port (f->b));

  g_file_set_contents (f->map_path, map->str, -1, &error);
  g_assert_no_error (error);
}

static TcNode *
start_node (Fixture    *f,
            const char *name)
{
  g_autofree char *profile = g_build_filename (f->dir, name, NULL);
  g_autofree char *socks = g_strdup_printf ("127.0.0.1:%u", f->socks_port);
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) node = tc_node_new (profile, &error);

  g_assert_no_error (error);
  tc_node_set_socks_address (node, socks, &error);
  g_assert_no_error (error);
  tc_node_start (node, &error);
  g_assert_no_error (error);

  return g_steal_pointer (&node);
}

static void
stop_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  gboolean *done = user_data;

  g_assert_true (tc_node_stop_finish (TC_NODE (object), result, NULL));
  *done = TRUE;
}

static void
stop_node (TcNode **node)
{
  gboolean done = FALSE;

  tc_node_stop_async (*node, NULL, stop_done_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (node);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  const char *socks_binary = g_getenv ("TORCHAT_TEST_SOCKS");
  g_autofree char *port_path = NULL;
  g_autofree char *port_text = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (socks_binary == NULL)
    {
      g_test_skip ("TORCHAT_TEST_SOCKS is not set (run through meson test)");
      return;
    }

  f->dir = g_dir_make_tmp ("torchat-test-node-XXXXXX", &error);
  g_assert_no_error (error);
  f->map_path = g_build_filename (f->dir, "map", NULL);
  port_path = g_build_filename (f->dir, "socks-port", NULL);
  g_file_set_contents (f->map_path, "", 0, NULL);

  f->socks = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                               socks_binary, "--map", f->map_path,
                               "--port-file", port_path, NULL);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;
  while (!g_file_get_contents (port_path, &port_text, NULL, NULL))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20000);
    }
  f->socks_port = atoi (port_text);
  g_assert_cmpuint (f->socks_port, >, 0);

  /* Timers inside the nodes need the loop to wake up now and then. */
  f->tick = g_timeout_add (50, tick_cb, NULL);

  f->a = start_node (f, "a");
  f->b = start_node (f, "b");
  write_map (f);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->a)
    stop_node (&f->a);
  if (f->b)
    stop_node (&f->b);

  if (f->socks != NULL)
    {
      g_subprocess_force_exit (f->socks);
      g_subprocess_wait (f->socks, NULL, NULL);
      g_clear_object (&f->socks);
    }

  if (f->dir != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);
      g_assert_cmpint (system (cmd), ==, 0);
    }
  g_free (f->dir);
  g_free (f->map_path);
  g_clear_handle_id (&f->tick, g_source_remove);
}

static TcContact *
contact_of (TcNode *node,
            TcNode *other)
{
  return tc_node_lookup_contact (node, tc_node_get_address (other));
}

static gboolean
b_has_pending_a (Fixture *f)
{
  TcContact *c = contact_of (f->b, f->a);
  return c != NULL && tc_contact_get_state (c) == TC_CONTACT_STATE_PENDING;
}

static gboolean
both_accepted_and_connected (Fixture *f)
{
  TcContact *ab = contact_of (f->a, f->b);
  TcContact *ba = contact_of (f->b, f->a);

  return ab != NULL && ba != NULL &&
         tc_contact_get_state (ab) == TC_CONTACT_STATE_ACCEPTED &&
         tc_contact_get_state (ba) == TC_CONTACT_STATE_ACCEPTED &&
         tc_contact_get_connected (ab) && tc_contact_get_connected (ba);
}

static gboolean
a_outbox_empty (Fixture *f)
{
  return tc_store_count_outbox (tc_node_get_store (f->a), tc_node_get_address (f->b)) == 0;
}

static void
befriend (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  TcContact *contact;

  contact = tc_node_add_contact (f->a, tc_node_get_address (f->b), "Bob", "Hi, it's Alice", &error);
  g_assert_no_error (error);
  g_assert_cmpint (tc_contact_get_state (contact), ==, TC_CONTACT_STATE_REQUESTED);

  g_assert_true (wait_for (b_has_pending_a, f));
  g_assert_cmpstr (tc_contact_get_greeting (contact_of (f->b, f->a)), ==, "Hi, it's Alice");

  tc_node_accept_contact (f->b, tc_node_get_address (f->a), &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (both_accepted_and_connected, f));
}

static void
test_request_accept_message (Fixture       *f,
                             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcMessage) queued = NULL;
  g_autoptr(TcMessage) sent = NULL;
  TcConversation *conversation;

  if (f->socks == NULL)
    return;

  /* Written before they accepted: kept until they do. */
  tc_node_add_contact (f->a, tc_node_get_address (f->b), "Bob", "Hello", &error);
  g_assert_no_error (error);
  queued = tc_node_send_message (f->a, tc_node_get_address (f->b), "written early", &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (b_has_pending_a, f));
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (f->b),
                                             tc_node_get_address (f->a)), ==, 0);

  tc_node_accept_contact (f->b, tc_node_get_address (f->a), &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (both_accepted_and_connected, f));

  sent = tc_node_send_message (f->a, tc_node_get_address (f->b), "hello Bob", &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (a_outbox_empty, f));

  conversation = tc_node_get_conversation (f->b, tc_node_get_address (f->a));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);
  {
    g_autoptr(TcMessage) first = g_list_model_get_item (G_LIST_MODEL (conversation), 0);
    g_autoptr(TcMessage) second = g_list_model_get_item (G_LIST_MODEL (conversation), 1);

    g_assert_cmpstr (tc_message_get_text (first), ==, "written early");
    g_assert_cmpstr (tc_message_get_text (second), ==, "hello Bob");
    g_assert_cmpint (tc_message_get_direction (second), ==, TC_MESSAGE_DIRECTION_INCOMING);
  }

  /* The sender sees both delivered. */
  {
    g_autoptr(TcMessage) stored = tc_store_lookup_message (tc_node_get_store (f->a),
                                                           tc_node_get_address (f->b),
                                                           tc_message_get_id (sent));
    g_assert_cmpint (tc_message_get_state (stored), ==, TC_MESSAGE_STATE_DELIVERED);
  }
}

static gboolean
a_sees_declined (Fixture *f)
{
  TcContact *c = contact_of (f->a, f->b);
  return c != NULL && tc_contact_get_state (c) == TC_CONTACT_STATE_DECLINED;
}

static void
test_decline (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcMessage) message = NULL;
  g_autoptr(TcMessage) stored = NULL;

  if (f->socks == NULL)
    return;

  tc_node_add_contact (f->a, tc_node_get_address (f->b), NULL, "let me in", &error);
  g_assert_no_error (error);
  message = tc_node_send_message (f->a, tc_node_get_address (f->b), "never read", &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (b_has_pending_a, f));

  tc_node_decline_contact (f->b, tc_node_get_address (f->a), &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (a_sees_declined, f));

  stored = tc_store_lookup_message (tc_node_get_store (f->a), tc_node_get_address (f->b),
                                    tc_message_get_id (message));
  g_assert_cmpint (tc_message_get_state (stored), ==, TC_MESSAGE_STATE_FAILED);
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (f->b),
                                             tc_node_get_address (f->a)), ==, 0);

  /* A declined peer may ask again. */
  tc_node_add_contact (f->a, tc_node_get_address (f->b), NULL, "please?", &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (b_has_pending_a, f));
  g_assert_cmpstr (tc_contact_get_greeting (contact_of (f->b, f->a)), ==, "please?");
}

static gboolean
a_has_error (Fixture *f)
{
  TcContact *c = contact_of (f->a, f->b);
  return c != NULL && tc_contact_get_last_error (c) != NULL;
}

static gboolean
a_waits_to_retry (Fixture *f)
{
  TcContact *c = contact_of (f->a, f->b);
  return c != NULL && tc_contact_get_next_attempt (c) > g_get_real_time ();
}

static void
test_block (Fixture       *f,
            gconstpointer  data)
{
  gint64 before = g_get_real_time ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TcMessage) queued = NULL;

  if (f->socks == NULL)
    return;

  tc_node_block_contact (f->b, tc_node_get_address (f->a), &error);
  g_assert_no_error (error);

  tc_node_add_contact (f->a, tc_node_get_address (f->b), NULL, "hello?", &error);
  g_assert_no_error (error);
  queued = tc_node_send_message (f->a, tc_node_get_address (f->b), "blocked text", &error);
  g_assert_no_error (error);

  /* The message is A's latest activity with B. */
  g_assert_cmpint (tc_contact_get_last_activity (contact_of (f->a, f->b)), >=, before);
  g_assert_true (wait_for (a_has_error, f));
  g_assert_false (tc_contact_get_connected (contact_of (f->a, f->b)));
  g_assert_cmpint (tc_contact_get_state (contact_of (f->b, f->a)), ==, TC_CONTACT_STATE_BLOCKED);

  /* A says when it tries again, and "Try now" tries at once. */
  g_assert_true (wait_for (a_waits_to_retry, f));
  g_assert_cmpint (tc_contact_get_next_attempt (contact_of (f->a, f->b)), <=,
                   g_get_real_time () + 10 * 60 * G_USEC_PER_SEC);
  g_assert_true (tc_node_retry_contact (f->a, tc_node_get_address (f->b), &error));
  g_assert_no_error (error);
  g_assert_cmpint (tc_contact_get_next_attempt (contact_of (f->a, f->b)), ==, 0);
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (f->b),
                                             tc_node_get_address (f->a)), ==, 0);
}

static gboolean
b_has_all (Fixture *f)
{
  return f->b != NULL && a_outbox_empty (f) &&
         tc_store_count_messages (tc_node_get_store (f->b), tc_node_get_address (f->a)) >= 200;
}

static void
test_offline_then_restart (Fixture       *f,
                           gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *b_address = NULL;
  g_autoptr(GPtrArray) history = NULL;

  if (f->socks == NULL)
    return;

  befriend (f);
  b_address = g_strdup (tc_node_get_address (f->b));

  /* B goes away; A writes; B comes back and gets everything, once, in order. */
  stop_node (&f->b);
  for (guint i = 0; i < 200; i++)
    {
      g_autofree char *text = g_strdup_printf ("m%u", i);
      g_autoptr(TcMessage) message = tc_node_send_message (f->a, b_address, text, &error);

      g_assert_no_error (error);
    }
  g_assert_cmpuint (tc_store_count_outbox (tc_node_get_store (f->a), b_address), ==, 200);

  f->b = start_node (f, "b");
  write_map (f);
  tc_node_reconnect_all (f->a);
  g_assert_true (wait_for (b_has_all, f));

  history = tc_store_list_messages (tc_node_get_store (f->b), tc_node_get_address (f->a),
                                    0, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->len, ==, 200);
  for (guint i = 0; i < history->len; i++)
    {
      g_autofree char *text = g_strdup_printf ("m%u", i);
      g_assert_cmpstr (tc_message_get_text (g_ptr_array_index (history, i)), ==, text);
    }
}

static void
test_bad_address (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *typo = NULL;
  TcContact *contact;

  if (f->socks == NULL)
    return;

  typo = g_strdup (tc_node_get_address (f->b));
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  contact = tc_node_add_contact (f->a, typo, NULL, NULL, &error);
  g_assert_null (contact);
  g_assert_error (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_CHECKSUM);
  g_assert_cmpuint (g_list_model_get_n_items (tc_node_get_contacts (f->a)), ==, 0);
  g_clear_error (&error);

  contact = tc_node_add_contact (f->a, tc_node_get_address (f->a), NULL, NULL, &error);
  g_assert_null (contact);
  g_assert_error (error, TC_NODE_ERROR, TC_NODE_ERROR_SELF);
}

static void
test_profile_lock (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) second = NULL;

  if (f->socks == NULL)
    return;

  second = tc_node_new (tc_node_get_profile_dir (f->a), &error);
  g_assert_null (second);
  g_assert_error (error, TC_NODE_ERROR, TC_NODE_ERROR_PROFILE_BUSY);

  /* Nobody else on the machine reads the profile. */
  for (guint i = 0; i < 3; i++)
    {
      const char *names[] = { "torchat.db", "torchat.db-wal", "identity.key" };
      g_autofree char *path = g_build_filename (tc_node_get_profile_dir (f->a), names[i], NULL);
      GStatBuf st;

      g_assert_cmpint (g_stat (path, &st), ==, 0);
      g_assert_cmpint (st.st_mode & 0077, ==, 0);
    }
}

static gboolean
b_cannot_store (Fixture *f)
{
  return tc_store_get_failure (tc_node_get_store (f->b)) != NULL;
}

static gboolean
a_was_refused (Fixture *f)
{
  TcContact *c = contact_of (f->a, f->b);
  const char *error = c != NULL ? tc_contact_get_last_error (c) : NULL;

  return error != NULL && strstr (error, "resource-constraint") != NULL;
}

/* What A holds as delivered is on B's disk, nothing more, nothing less. */
static void
assert_delivered_means_stored (Fixture *f,
                               guint    total)
{
  TcStore *a_store = tc_node_get_store (f->a);
  TcStore *b_store = tc_node_get_store (f->b);
  const char *a_address = tc_node_get_address (f->a);
  const char *b_address = tc_node_get_address (f->b);
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GError) error = NULL;
  guint delivered = 0;

  sent = tc_store_list_messages (a_store, b_address, 0, total, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (sent->len, ==, total);
  for (guint i = 0; i < sent->len; i++)
    {
      TcMessage *message = g_ptr_array_index (sent, i);
      g_autoptr(TcMessage) stored = tc_store_lookup_message (b_store, a_address,
                                                             tc_message_get_id (message));

      if (tc_message_get_state (message) != TC_MESSAGE_STATE_DELIVERED)
        continue;
      delivered++;
      if (stored == NULL)
        g_test_message ("message %u is delivered on A but not stored on B", i);
      g_assert_nonnull (stored);
    }

  g_test_message ("%u of %u delivered, %u stored on B, %u in A's outbox", delivered, total,
                  tc_store_count_messages (b_store, a_address),
                  tc_store_count_outbox (a_store, b_address));
  g_assert_cmpuint (delivered, ==, tc_store_count_messages (b_store, a_address));
  g_assert_cmpuint (delivered + tc_store_count_outbox (a_store, b_address), ==, total);
}

/* B's disk fills while a burst arrives: a failed write poisons its whole
 * batch (no receipt for anything in it), B says it cannot store and
 * refuses the stream, and once there is room again A's back-off brings
 * everything, once. */
static void
test_full_disk (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GPtrArray) history = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *filler = g_strnfill (1500, 'x');
  GLogLevelFlags old_fatal;
  const guint n = 60;

  if (f->socks == NULL)
    return;

  befriend (f);
  /* A full disk is logged with warnings: expected here, so not fatal
   * (criticals still are). */
  old_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);

  /* The database cannot grow any more: the pages it has are all it gets. */
  g_assert_true (_tc_store_exec (tc_node_get_store (f->b), "PRAGMA max_page_count = 1", &error));
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (texts, g_strdup_printf ("m%02u %s", i, filler));
  g_ptr_array_add (texts, NULL);
  sent = tc_node_send_messages (f->a, tc_node_get_address (f->b),
                                (const char * const *) texts->pdata, &error);
  g_assert_no_error (error);

  g_assert_true (wait_for (b_cannot_store, f));
  g_assert_true (wait_for (a_was_refused, f));
  g_test_message ("B: %s", tc_store_get_failure (tc_node_get_store (f->b)));
  g_assert_true (g_str_has_prefix (tc_store_get_failure (tc_node_get_store (f->b)),
                                   "The disk is full"));
  assert_delivered_means_stored (f, n);
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (f->b),
                                             tc_node_get_address (f->a)), <, n);

  /* Room again: A's reconnection brings the rest, and nothing twice. */
  g_assert_true (_tc_store_exec (tc_node_get_store (f->b),
                                 "PRAGMA max_page_count = 1073741823", &error));
  g_assert_no_error (error);
  g_assert_true (wait_for (a_outbox_empty, f));
  assert_delivered_means_stored (f, n);
  g_assert_null (tc_store_get_failure (tc_node_get_store (f->b)));
  g_log_set_always_fatal (old_fatal);

  history = tc_store_list_messages (tc_node_get_store (f->b), tc_node_get_address (f->a),
                                    0, 1000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->len, ==, n);
  for (guint i = 0; i < n; i++)
    g_assert_cmpstr (tc_message_get_text (g_ptr_array_index (history, i)), ==,
                     g_ptr_array_index (texts, i));
}

static gboolean
file_contains (const char *path,
               const char *needle)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;

  for (gsize i = 0; i + strlen (needle) <= length; i++)
    {
      if (memcmp (contents + i, needle, strlen (needle)) == 0)
        return TRUE;
    }

  return FALSE;
}

/* "Remove contact" deletes the history, for real: not in the database, not
 * in its journal, not in a cached conversation when the address comes
 * back. */
static void
test_remove_deletes_history (Fixture       *f,
                             gconstpointer  data)
{
  const char *texts[] = { "remember the walrus 1", "remember the walrus 2", NULL };
  const char *names[] = { "torchat.db", "torchat.db-wal" };
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GError) error = NULL;
  TcConversation *conversation;
  const char *a_address;

  if (f->socks == NULL)
    return;

  befriend (f);
  a_address = tc_node_get_address (f->a);
  conversation = tc_node_get_conversation (f->b, a_address);
  sent = tc_node_send_messages (f->a, tc_node_get_address (f->b), texts, &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (a_outbox_empty, f));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 2);
  {
    g_autofree char *wal = g_build_filename (tc_node_get_profile_dir (f->b),
                                             "torchat.db-wal", NULL);
    g_assert_true (file_contains (wal, "walrus"));
  }

  g_object_ref (conversation);
  g_assert_true (tc_node_remove_contact (f->b, a_address, &error));
  g_assert_no_error (error);

  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (f->b), a_address), ==, 0);
  /* A view that still shows it shows it empty. */
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 0);
  g_object_unref (conversation);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (tc_node_get_profile_dir (f->b), names[i], NULL);

      g_assert_false (file_contains (path, "walrus"));
    }

  /* Added back: a fresh conversation. */
  tc_node_add_contact (f->b, a_address, NULL, NULL, &error);
  g_assert_no_error (error);
  conversation = tc_node_get_conversation (f->b, a_address);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 0);
}

/* A node dropped while running (no tc_node_stop_async()) still ends its
 * streams, and says why. */
static void
test_dispose_running (Fixture       *f,
                      gconstpointer  data)
{
  if (f->socks == NULL)
    return;

  befriend (f);
  g_clear_object (&f->a);

  {
    gint64 deadline = g_get_monotonic_time () + 3 * G_USEC_PER_SEC;
    TcContact *ba = NULL;
    GListModel *contacts = tc_node_get_contacts (f->b);

    g_assert_cmpuint (g_list_model_get_n_items (contacts), ==, 1);
    ba = g_list_model_get_item (contacts, 0);
    while (tc_contact_get_connected (ba) && g_get_monotonic_time () < deadline)
      g_main_context_iteration (NULL, TRUE);
    g_assert_false (tc_contact_get_connected (ba));
    g_assert_nonnull (tc_contact_get_last_error (ba));
    g_test_message ("B's last error: %s", tc_contact_get_last_error (ba));
    g_assert_nonnull (strstr (tc_contact_get_last_error (ba), "system-shutdown"));
    g_object_unref (ba);
  }
}

static gboolean
b_has_two_unread (Fixture *f)
{
  TcContact *c = contact_of (f->b, f->a);
  return c != NULL && tc_contact_get_unread (c) == 2;
}

/* The unread count is stored with the messages: it survives a restart, and
 * so does reading them. */
static void
test_unread_survives_restart (Fixture       *f,
                              gconstpointer  data)
{
  const char *texts[] = { "one", "two", NULL };
  g_autoptr(GPtrArray) sent = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *a_address = NULL;

  if (f->socks == NULL)
    return;

  befriend (f);
  a_address = g_strdup (tc_node_get_address (f->a));
  sent = tc_node_send_messages (f->a, tc_node_get_address (f->b), texts, &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (b_has_two_unread, f));

  stop_node (&f->b);
  f->b = start_node (f, "b");
  write_map (f);
  g_assert_cmpuint (tc_contact_get_unread (tc_node_lookup_contact (f->b, a_address)), ==, 2);

  g_assert_true (tc_node_mark_read (f->b, a_address, &error));
  g_assert_no_error (error);
  stop_node (&f->b);
  f->b = start_node (f, "b");
  write_map (f);
  g_assert_cmpuint (tc_contact_get_unread (tc_node_lookup_contact (f->b, a_address)), ==, 0);
}

static gboolean
a_first_delivered (Fixture *f)
{
  g_autoptr(GPtrArray) sent = tc_store_list_messages (tc_node_get_store (f->a),
                                                      tc_node_get_address (f->b), 0, 1, NULL);

  return sent != NULL && sent->len == 1 &&
         tc_message_get_state (g_ptr_array_index (sent, 0)) == TC_MESSAGE_STATE_DELIVERED;
}

/* A resend of a message B has deleted from its history since (its receipt
 * was lost): dropped, and receipted again. */
static void
test_resend_after_delete (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(TcMessage) sent = NULL;
  g_autoptr(GError) error = NULL;
  TcStore *a_store, *b_store;

  if (f->socks == NULL)
    return;

  befriend (f);
  a_store = tc_node_get_store (f->a);
  b_store = tc_node_get_store (f->b);
  sent = tc_node_send_message (f->a, tc_node_get_address (f->b), "only once", &error);
  g_assert_no_error (error);
  g_assert_true (wait_for (a_outbox_empty, f));

  g_assert_true (tc_store_delete_history (b_store, tc_node_get_address (f->a), &error));
  g_assert_no_error (error);
  g_assert_true (tc_store_commit (b_store, &error));
  g_assert_no_error (error);

  /* As if the receipt had been lost: A has it in its outbox again. */
  g_assert_true (tc_store_set_message_state (a_store, tc_node_get_address (f->b),
                                             tc_message_get_id (sent),
                                             TC_MESSAGE_STATE_SENT, &error));
  g_assert_no_error (error);
  g_assert_true (tc_store_commit (a_store, &error));
  g_assert_no_error (error);
  g_assert_false (a_first_delivered (f));
  /* A fresh stream brings the outbox again. */
  stop_node (&f->b);
  f->b = start_node (f, "b");
  write_map (f);
  tc_node_reconnect_all (f->a);
  g_assert_true (wait_for (a_first_delivered, f));
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (f->b),
                                             tc_node_get_address (f->a)), ==, 0);
}

#define SPREAD_CONTACTS 30

static gboolean
a_retries_scheduled (Fixture *f)
{
  GListModel *contacts = tc_node_get_contacts (f->a);

  if (g_list_model_get_n_items (contacts) < SPREAD_CONTACTS)
    return FALSE;
  for (guint i = 0; i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr(TcContact) contact = g_list_model_get_item (contacts, i);

      if (tc_contact_get_next_attempt (contact) == 0)
        return FALSE;
    }

  return TRUE;
}

static int
compare_gint64 (gconstpointer a,
                gconstpointer b)
{
  gint64 x = *(const gint64 *) a, y = *(const gint64 *) b;

  return x < y ? -1 : x > y;
}

/* Contacts that fail together do not all come due together: background
 * retries are spread to a few a second (tc-peer-connect.c), and each
 * contact's "tries again at" is when its retry really starts. */
static void
test_retries_spread (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GArray) due = g_array_new (FALSE, FALSE, sizeof (gint64));
  GListModel *contacts;
  gint64 now;

  if (f->socks == NULL)
    {
      g_test_skip ("TORCHAT_TEST_SOCKS not set");
      return;
    }

  /* Nobody in the SOCKS server's map: every request fails at once. */
  for (guint i = 0; i < SPREAD_CONTACTS; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TcIdentity) peer = tc_identity_new_random (&error);

      g_assert_no_error (error);
      g_assert_nonnull (tc_node_add_contact (f->a, tc_identity_get_address (peer), NULL,
                                             "hello", &error));
      g_assert_no_error (error);
    }
  g_assert_true (wait_for (a_retries_scheduled, f));

  now = g_get_real_time ();
  contacts = tc_node_get_contacts (f->a);
  for (guint i = 0; i < g_list_model_get_n_items (contacts); i++)
    {
      g_autoptr(TcContact) contact = g_list_model_get_item (contacts, i);
      gint64 at = tc_contact_get_next_attempt (contact);

      /* A first retry is due within a second of the failure, unless it waits
       * for a slot; never in the past. */
      g_assert_cmpint (at, >=, now - G_USEC_PER_SEC / 10);
      g_array_append_val (due, at);
    }
  g_array_sort (due, compare_gint64);

  /* Their first retries, 0.5–1 s after the failure by the back-off alone,
   * spread over seconds: 30 at five a second take about six. */
  g_assert_cmpint (g_array_index (due, gint64, due->len - 1) - g_array_index (due, gint64, 0),
                   >=, 4 * G_USEC_PER_SEC);
  for (guint i = 0; i < due->len; i++)
    {
      guint in_second = 0;

      for (guint j = i; j < due->len && g_array_index (due, gint64, j) <
                                          g_array_index (due, gint64, i) + G_USEC_PER_SEC; j++)
        in_second++;
      g_assert_cmpuint (in_second, <=, 10);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/node/request-accept-message", test_request_accept_message);
  ADD ("/node/decline", test_decline);
  ADD ("/node/block", test_block);
  ADD ("/node/offline-then-restart", test_offline_then_restart);
  ADD ("/node/bad-address", test_bad_address);
  ADD ("/node/profile-lock", test_profile_lock);
  ADD ("/node/full-disk", test_full_disk);
  ADD ("/node/remove-deletes-history", test_remove_deletes_history);
  ADD ("/node/dispose-running", test_dispose_running);
  ADD ("/node/unread-survives-restart", test_unread_survives_restart);
  ADD ("/node/resend-after-delete", test_resend_after_delete);
  ADD ("/node/retries-spread", test_retries_spread);

  return g_test_run ();
}
