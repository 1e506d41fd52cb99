/* test-store.c: opening the database, contacts, messages, settings and the model objects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-test-store.h"

static void
test_reopen (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TcContact) contact = tc_contact_new (ALICE);
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  int version;

  version = tc_store_get_schema_version (f->store);
  g_assert_cmpint (version, >=, 1);

  g_assert_true (tc_store_save_contact (f->store, contact, &error));
  g_assert_no_error (error);
  add_outgoing (f, ALICE, "m1");
  g_assert_false (add_incoming (f, ALICE, "m2"));
  commit (f);

  g_assert_finalize_object (f->store);
  f->store = NULL;

  /* The file on disk says the version the code knows. */
  g_assert_cmpint (read_user_version (f->path, f->key), ==, version);

  f->store = tc_store_open_encrypted (f->path, f->key, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tc_store_get_schema_version (f->store), ==, version);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 1);
  g_assert_cmpstr (tc_contact_get_address (g_ptr_array_index (contacts, 0)), ==, ALICE);

  messages = tc_store_list_messages (f->store, ALICE, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (messages->len, ==, 2);
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (messages, 0)), ==, "m1");
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (messages, 1)), ==, "m2");
}

static void
test_newer (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "torchat.db", NULL);
  g_autoptr(TcStore) store = NULL;
  sqlite3 *db = NULL;

  g_assert_no_error (error);
  g_assert_cmpint (sqlite3_open (path, &db), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_exec (db, "PRAGMA user_version = 9999", NULL, NULL, NULL), ==, SQLITE_OK);
  sqlite3_close (db);

  store = tc_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_NEWER);
  g_assert_nonnull (strstr (error->message, "newer"));

  /* Refused without touching it. */
  g_assert_cmpint (read_user_version (path, NULL), ==, 9999);

  remove_dir (dir);
}

static void
test_corrupt (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "torchat.db", NULL);
  g_autoptr(TcStore) store = NULL;
  g_autofree char *garbage = g_strnfill (8192, 'x');

  g_assert_no_error (error);
  g_assert_true (g_file_set_contents (path, garbage, -1, &error));

  store = tc_store_open (path, &error);
  g_assert_null (store);
  g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_CORRUPT);

  remove_dir (dir);
}

static void
test_contacts (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(TcContact) alice = tc_contact_new (ALICE);
  g_autoptr(TcContact) bob = tc_contact_new (BOB);
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;
  TcContact *loaded;

  tc_contact_set_nickname (alice, "Al");
  tc_contact_set_name (alice, "Alice Liddell");
  tc_contact_set_profile_text (alice, "Down the rabbit hole");
  tc_contact_set_greeting (alice, "Hi, it’s Alice");
  tc_contact_set_state (alice, TC_CONTACT_STATE_PENDING);
  tc_contact_set_answer_pending (alice, TRUE);
  /* Live state, not stored. */
  tc_contact_set_presence (alice, TC_PRESENCE_AWAY);
  tc_contact_set_unread (alice, 3);

  tc_contact_set_state (bob, TC_CONTACT_STATE_ACCEPTED);

  g_assert_true (tc_store_save_contact (f->store, alice, &error));
  g_assert_true (tc_store_save_contact (f->store, bob, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 2);
  loaded = g_ptr_array_index (contacts, 0);
  g_assert_cmpstr (tc_contact_get_address (loaded), ==, ALICE);
  g_assert_cmpstr (tc_contact_get_nickname (loaded), ==, "Al");
  g_assert_cmpstr (tc_contact_get_name (loaded), ==, "Alice Liddell");
  g_assert_cmpstr (tc_contact_get_profile_text (loaded), ==, "Down the rabbit hole");
  g_assert_cmpstr (tc_contact_get_greeting (loaded), ==, "Hi, it’s Alice");
  g_assert_cmpint (tc_contact_get_state (loaded), ==, TC_CONTACT_STATE_PENDING);
  g_assert_true (tc_contact_get_answer_pending (loaded));
  g_assert_cmpint (tc_contact_get_presence (loaded), ==, TC_PRESENCE_OFFLINE);
  g_assert_cmpstr (tc_contact_get_display_name (loaded), ==, "Al");

  loaded = g_ptr_array_index (contacts, 1);
  g_assert_cmpstr (tc_contact_get_address (loaded), ==, BOB);
  g_assert_null (tc_contact_get_nickname (loaded));
  g_assert_null (tc_contact_get_name (loaded));
  g_assert_null (tc_contact_get_profile_text (loaded));
  g_assert_null (tc_contact_get_greeting (loaded));
  g_assert_cmpint (tc_contact_get_state (loaded), ==, TC_CONTACT_STATE_ACCEPTED);
  g_assert_false (tc_contact_get_answer_pending (loaded));
  g_clear_pointer (&contacts, g_ptr_array_unref);

  /* Update: every field can change back, and the order stays. */
  tc_contact_set_nickname (alice, NULL);
  tc_contact_set_name (alice, "Alice");
  tc_contact_set_profile_text (alice, NULL);
  tc_contact_set_greeting (alice, NULL);
  tc_contact_set_state (alice, TC_CONTACT_STATE_ACCEPTED);
  tc_contact_set_answer_pending (alice, FALSE);
  g_assert_true (tc_store_save_contact (f->store, alice, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 2);
  loaded = g_ptr_array_index (contacts, 0);
  g_assert_cmpstr (tc_contact_get_address (loaded), ==, ALICE);
  g_assert_null (tc_contact_get_nickname (loaded));
  g_assert_cmpstr (tc_contact_get_name (loaded), ==, "Alice");
  g_assert_cmpstr (tc_contact_get_display_name (loaded), ==, "Alice");
  g_assert_null (tc_contact_get_profile_text (loaded));
  g_assert_null (tc_contact_get_greeting (loaded));
  g_assert_cmpint (tc_contact_get_state (loaded), ==, TC_CONTACT_STATE_ACCEPTED);
  g_assert_false (tc_contact_get_answer_pending (loaded));
  g_clear_pointer (&contacts, g_ptr_array_unref);

  /* Deleting the contact keeps the history. */
  add_outgoing (f, ALICE, "kept");
  g_assert_true (tc_store_delete_contact (f->store, ALICE, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 1);
  g_assert_cmpstr (tc_contact_get_address (g_ptr_array_index (contacts, 0)), ==, BOB);
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 1);
}

static void
test_messages (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GDateTime) date = date_usec (G_GINT64_CONSTANT (1700000000123456));
  g_autoptr(GDateTime) received = date_usec (G_GINT64_CONSTANT (1700000001654321));
  g_autoptr(TcMessage) in = NULL;
  g_autoptr(TcMessage) found = NULL;
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GError) error = NULL;
  gboolean duplicate;

  in = tc_message_new ("m1", ALICE, "Ünïcödé ✓", TC_MESSAGE_DIRECTION_INCOMING,
                       date, received, TC_MESSAGE_STATE_RECEIVED);
  g_assert_true (tc_store_add_incoming (f->store, in, &duplicate, &error));
  g_assert_no_error (error);
  g_assert_false (duplicate);
  for (int i = 2; i <= 100; i++)
    {
      g_autofree char *id = g_strdup_printf ("m%d", i);
      add_outgoing (f, i % 2 ? BOB : ALICE, id);
    }
  commit (f);
  reopen (f);

  found = tc_store_lookup_message (f->store, ALICE, "m1");
  g_assert_nonnull (found);
  g_assert_cmpstr (tc_message_get_peer (found), ==, ALICE);
  g_assert_cmpstr (tc_message_get_text (found), ==, "Ünïcödé ✓");
  g_assert_cmpint (tc_message_get_direction (found), ==, TC_MESSAGE_DIRECTION_INCOMING);
  g_assert_cmpint (tc_message_get_state (found), ==, TC_MESSAGE_STATE_RECEIVED);
  g_assert_true (g_date_time_equal (tc_message_get_date (found), date));
  g_assert_true (g_date_time_equal (tc_message_get_received_date (found), received));
  g_assert_null (tc_store_lookup_message (f->store, BOB, "m1"));
  g_assert_null (tc_store_lookup_message (f->store, ALICE, "nope"));

  /* Alice has m1 and the 50 even ids; pages come oldest first. */
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 51);
  g_assert_cmpuint (tc_store_count_messages (f->store, BOB), ==, 49);
  page = tc_store_list_messages (f->store, ALICE, 40, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 11);
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (page, 0)), ==, "m80");
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (page, 10)), ==, "m100");
  g_clear_pointer (&page, g_ptr_array_unref);

  page = tc_store_list_messages (f->store, ALICE, 51, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 0);

  /* Where a message is in its conversation (a search hit opens there). */
  {
    g_autoptr(TcMessage) m80 = tc_store_lookup_message (f->store, ALICE, "m80");
    g_autoptr(TcMessage) gone = outgoing (ALICE, "m81", "never stored");
    guint position = 0;

    g_assert_true (tc_store_find_message_position (f->store, found, &position, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (position, ==, 0);
    g_assert_true (tc_store_find_message_position (f->store, m80, &position, &error));
    g_assert_cmpuint (position, ==, 40);
    g_assert_false (tc_store_find_message_position (f->store, gone, &position, &error));
    g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_NOT_FOUND);
  }
}

static void
test_unread_kept (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(TcContact) contact = tc_contact_new (ALICE);
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;

  tc_contact_set_unread (contact, 7);
  g_assert_true (tc_store_save_contact (f->store, contact, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 1);
  g_assert_cmpuint (tc_contact_get_unread (g_ptr_array_index (contacts, 0)), ==, 7);
}

/* A contact's last activity is when its newest message was stored here:
 * the received date of an incoming one (not the sender's clock), the date
 * of an outgoing one; 0 for a contact without messages. */
static void
test_last_activity (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GDateTime) sent = date_usec (G_GINT64_CONSTANT (1900000000000000));
  g_autoptr(GDateTime) received = date_usec (G_GINT64_CONSTANT (1700000001654321));
  g_autoptr(TcContact) alice = tc_contact_new (ALICE);
  g_autoptr(TcContact) bob = tc_contact_new (BOB);
  g_autoptr(TcMessage) in = NULL;
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;
  gboolean duplicate;
  gint64 after, before;

  g_assert_true (tc_store_save_contact (f->store, alice, &error));
  g_assert_true (tc_store_save_contact (f->store, bob, &error));
  g_assert_no_error (error);
  in = tc_message_new ("in", ALICE, "hello", TC_MESSAGE_DIRECTION_INCOMING,
                       sent, received, TC_MESSAGE_STATE_RECEIVED);
  g_assert_true (tc_store_add_incoming (f->store, in, &duplicate, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 2);
  g_assert_cmpint (tc_contact_get_last_activity (g_ptr_array_index (contacts, 0)), ==,
                   G_GINT64_CONSTANT (1700000001654321));
  g_assert_cmpint (tc_contact_get_last_activity (g_ptr_array_index (contacts, 1)), ==, 0);
  g_clear_pointer (&contacts, g_ptr_array_unref);

  /* An outgoing message to Bob, later: he gets its date. */
  before = g_get_real_time ();
  add_outgoing (f, BOB, "out");
  after = g_get_real_time ();
  commit (f);
  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpint (tc_contact_get_last_activity (g_ptr_array_index (contacts, 1)), >=,
                   before - G_USEC_PER_SEC);
  g_assert_cmpint (tc_contact_get_last_activity (g_ptr_array_index (contacts, 1)), <=,
                   after + G_USEC_PER_SEC);
}

static void
test_settings (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;

  g_assert_null (tc_store_dup_setting (f->store, "status-text"));
  g_assert_true (tc_store_set_setting (f->store, "status-text", "At lunch", &error));
  g_assert_true (tc_store_set_setting (f->store, "presence", "away", &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  value = tc_store_dup_setting (f->store, "status-text");
  g_assert_cmpstr (value, ==, "At lunch");
  g_clear_pointer (&value, g_free);

  g_assert_true (tc_store_set_setting (f->store, "status-text", "", &error));
  g_assert_true (tc_store_set_setting (f->store, "presence", NULL, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  value = tc_store_dup_setting (f->store, "status-text");
  g_assert_cmpstr (value, ==, "");
  g_assert_null (tc_store_dup_setting (f->store, "presence"));
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_contact_object (void)
{
  g_autoptr(TcContact) contact = tc_contact_new (ALICE);
  g_autofree char *display_name = NULL;
  guint display_name_notified = 0;
  guint nickname_notified = 0;
  guint state_notified = 0;

  g_signal_connect (contact, "notify::display-name", G_CALLBACK (count_notify_cb), &display_name_notified);
  g_signal_connect (contact, "notify::nickname", G_CALLBACK (count_notify_cb), &nickname_notified);
  g_signal_connect (contact, "notify::state", G_CALLBACK (count_notify_cb), &state_notified);

  /* No names: the start of the address. */
  g_assert_cmpstr (tc_contact_get_display_name (contact), ==, "alice2hb…");

  tc_contact_set_name (contact, "Alice");
  g_assert_cmpstr (tc_contact_get_display_name (contact), ==, "Alice");
  g_assert_cmpuint (display_name_notified, ==, 1);

  tc_contact_set_nickname (contact, "Al");
  tc_contact_set_nickname (contact, "Al");
  g_assert_cmpuint (nickname_notified, ==, 1);
  g_assert_cmpuint (display_name_notified, ==, 2);
  g_object_get (contact, "display-name", &display_name, NULL);
  g_assert_cmpstr (display_name, ==, "Al");

  /* The nickname wins: a new profile name changes nothing shown. */
  tc_contact_set_name (contact, "Alice L.");
  g_assert_cmpuint (display_name_notified, ==, 2);

  tc_contact_set_nickname (contact, NULL);
  g_assert_cmpstr (tc_contact_get_display_name (contact), ==, "Alice L.");
  g_assert_cmpuint (display_name_notified, ==, 3);

  g_object_set (contact, "state", TC_CONTACT_STATE_ACCEPTED, NULL);
  g_object_set (contact, "state", TC_CONTACT_STATE_ACCEPTED, NULL);
  g_assert_cmpint (tc_contact_get_state (contact), ==, TC_CONTACT_STATE_ACCEPTED);
  g_assert_cmpuint (state_notified, ==, 1);
}

static void
test_message_object (void)
{
  g_autoptr(GDateTime) date = date_usec (G_GINT64_CONSTANT (1700000000000000));
  g_autoptr(GDateTime) later = date_usec (G_GINT64_CONSTANT (1700000009000000));
  g_autoptr(GDateTime) same = date_usec (G_GINT64_CONSTANT (1700000009000000));
  g_autoptr(TcMessage) message = NULL;
  g_autoptr(GDateTime) read_back = NULL;
  TcMessageDirection direction;
  guint state_notified = 0;
  guint date_notified = 0;

  message = tc_message_new ("m1", ALICE, "hello", TC_MESSAGE_DIRECTION_OUTGOING,
                            date, NULL, TC_MESSAGE_STATE_QUEUED);
  g_signal_connect (message, "notify::state", G_CALLBACK (count_notify_cb), &state_notified);
  g_signal_connect (message, "notify::received-date", G_CALLBACK (count_notify_cb), &date_notified);

  g_object_get (message, "date", &read_back, "direction", &direction, NULL);
  g_assert_true (g_date_time_equal (read_back, date));
  g_assert_cmpint (direction, ==, TC_MESSAGE_DIRECTION_OUTGOING);
  g_assert_null (tc_message_get_received_date (message));

  tc_message_set_state (message, TC_MESSAGE_STATE_SENT);
  tc_message_set_state (message, TC_MESSAGE_STATE_SENT);
  g_assert_cmpuint (state_notified, ==, 1);

  tc_message_set_received_date (message, later);
  tc_message_set_received_date (message, same);
  g_assert_cmpuint (date_notified, ==, 1);
  g_assert_true (g_date_time_equal (tc_message_get_received_date (message), later));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TC_TEST_STORE_ADD ("reopen", test_reopen);
  g_test_add_func ("/store/newer", test_newer);
  g_test_add_func ("/store/corrupt", test_corrupt);
  TC_TEST_STORE_ADD ("contacts", test_contacts);
  TC_TEST_STORE_ADD ("messages", test_messages);
  TC_TEST_STORE_ADD ("unread-kept", test_unread_kept);
  TC_TEST_STORE_ADD ("last-activity", test_last_activity);
  TC_TEST_STORE_ADD ("settings", test_settings);
  g_test_add_func ("/store/contact-object", test_contact_object);
  g_test_add_func ("/store/message-object", test_message_object);

  return g_test_run ();
}
