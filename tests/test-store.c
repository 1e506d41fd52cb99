/* test-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <sqlite3.h>

#include <glib/gstdio.h>

#include "tc-store.h"
#include "tc-store-private.h"
#include "tc-store-transfers.h"

#define ALICE "alice2hbsvwrsa7gp6ddvyxbp4kjlmkpftbjgzjhs4sljkqlsdqs7nad"
#define BOB   "bob4oxrkhyh6zqbjc4r5wsjrljlvvglmdqe3fnqhqewtfbmvzdpvid"

typedef struct
{
  char         *dir;
  char         *path;
  const guint8 *key;     /* NULL: a plaintext database */
  TcStore      *store;
} Fixture;

/* The fixture tests run on a plaintext and on an encrypted database. */
static const guint8 test_key[TC_STORE_KEY_LEN] = {
  0x5a, 0x17, 0x2e, 0x9c, 0x01, 0x44, 0xd3, 0x7b, 0x88, 0x10, 0xfe, 0x3c, 0x62, 0xa9, 0x0d, 0x55,
  0x91, 0x2b, 0xc4, 0x7e, 0x36, 0xe0, 0x19, 0xaf, 0x73, 0x4d, 0xb8, 0x06, 0xcd, 0x58, 0x21, 0x9e,
};

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-store-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "torchat.db", NULL);
  f->key = data;
  f->store = tc_store_open_encrypted (f->path, f->key, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
remove_dir (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->store != NULL)
    g_assert_finalize_object (f->store);
  remove_dir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
reopen (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_finalize_object (f->store);
  f->store = tc_store_open_encrypted (f->path, f->key, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
commit (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_assert_false (tc_store_in_transaction (f->store));
}

static GDateTime *
date_usec (gint64 usec)
{
  g_autoptr(GDateTime) epoch = g_date_time_new_from_unix_utc (0);

  return g_date_time_add (epoch, usec);
}

static TcMessage *
outgoing (const char *peer,
          const char *id,
          const char *text)
{
  g_autoptr(GDateTime) date = g_date_time_new_now_utc ();

  return tc_message_new (id, peer, text, TC_MESSAGE_DIRECTION_OUTGOING,
                         date, NULL, TC_MESSAGE_STATE_QUEUED);
}

static TcMessage *
incoming (const char *peer,
          const char *id,
          const char *text)
{
  g_autoptr(GDateTime) date = g_date_time_new_now_utc ();

  return tc_message_new (id, peer, text, TC_MESSAGE_DIRECTION_INCOMING,
                         date, NULL, TC_MESSAGE_STATE_RECEIVED);
}

static void
add_outgoing (Fixture    *f,
              const char *peer,
              const char *id)
{
  g_autoptr(TcMessage) message = outgoing (peer, id, "hello");
  g_autoptr(GError) error = NULL;

  g_assert_true (tc_store_add_outgoing (f->store, message, &error));
  g_assert_no_error (error);
}

static gboolean
add_incoming (Fixture    *f,
              const char *peer,
              const char *id)
{
  g_autoptr(TcMessage) message = incoming (peer, id, "hi");
  g_autoptr(GError) error = NULL;
  gboolean duplicate = 42;

  g_assert_true (tc_store_add_incoming (f->store, message, &duplicate, &error));
  g_assert_no_error (error);
  g_assert_true (duplicate == TRUE || duplicate == FALSE);
  return duplicate;
}

static GPtrArray *
load_contacts (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *contacts = tc_store_load_contacts (f->store, &error);

  g_assert_no_error (error);
  g_assert_nonnull (contacts);
  return contacts;
}

static GPtrArray *
list_outbox (Fixture    *f,
             const char *peer)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *outbox = tc_store_list_outbox (f->store, peer, &error);

  g_assert_no_error (error);
  g_assert_nonnull (outbox);
  return outbox;
}

static int
read_user_version (const char   *path,
                   const guint8 *key)
{
  sqlite3 *db = NULL;
  sqlite3_stmt *stmt = NULL;
  int version;

  g_assert_cmpint (sqlite3_open_v2 (path, &db, SQLITE_OPEN_READONLY, NULL), ==, SQLITE_OK);
  if (key != NULL)
    {
      g_autofree char *hex = g_malloc (2 * TC_STORE_KEY_LEN + 1);
      g_autofree char *pragma = NULL;

      for (guint i = 0; i < TC_STORE_KEY_LEN; i++)
        g_snprintf (hex + 2 * i, 3, "%02x", key[i]);
      /* The raw key and the page size, as docs/architecture.md says. */
      pragma = g_strdup_printf ("PRAGMA key = \"x'%s'\"; PRAGMA cipher_page_size = 4096", hex);
      g_assert_cmpint (sqlite3_exec (db, pragma, NULL, NULL, NULL), ==, SQLITE_OK);
    }
  g_assert_cmpint (sqlite3_prepare_v2 (db, "PRAGMA user_version", -1, &stmt, NULL), ==, SQLITE_OK);
  g_assert_cmpint (sqlite3_step (stmt), ==, SQLITE_ROW);
  version = sqlite3_column_int (stmt, 0);
  sqlite3_finalize (stmt);
  sqlite3_close (db);

  return version;
}

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
test_outbox (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GPtrArray) outbox = NULL;
  g_autoptr(TcMessage) message = NULL;
  g_autoptr(GDateTime) receipt = date_usec (G_GINT64_CONSTANT (1700000005000000));
  g_autoptr(GError) error = NULL;
  gboolean changed;

  add_outgoing (f, ALICE, "a1");
  add_outgoing (f, BOB, "b1");
  add_outgoing (f, ALICE, "a2");
  g_assert_false (add_incoming (f, ALICE, "in1"));
  commit (f);

  outbox = list_outbox (f, ALICE);
  g_assert_cmpuint (outbox->len, ==, 2);
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (outbox, 0)), ==, "a1");
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (outbox, 1)), ==, "a2");
  g_assert_cmpint (tc_message_get_state (g_ptr_array_index (outbox, 0)), ==, TC_MESSAGE_STATE_QUEUED);
  g_assert_cmpuint (tc_store_count_outbox (f->store, ALICE), ==, 2);
  g_clear_pointer (&outbox, g_ptr_array_unref);

  /* Sent messages stay in the outbox until the receipt. */
  g_assert_true (tc_store_set_message_state (f->store, ALICE, "a1", TC_MESSAGE_STATE_SENT, &error));
  g_assert_no_error (error);
  commit (f);
  outbox = list_outbox (f, ALICE);
  g_assert_cmpuint (outbox->len, ==, 2);
  g_assert_cmpint (tc_message_get_state (g_ptr_array_index (outbox, 0)), ==, TC_MESSAGE_STATE_SENT);
  g_clear_pointer (&outbox, g_ptr_array_unref);

  g_assert_false (tc_store_set_message_state (f->store, ALICE, "unknown", TC_MESSAGE_STATE_SENT, &error));
  g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_assert_true (tc_store_mark_delivered (f->store, ALICE, "a1", receipt, &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  g_assert_true (tc_store_mark_delivered (f->store, ALICE, "a1", receipt, &changed, &error));
  g_assert_false (changed);
  /* A receipt naming someone else's message or an incoming one does nothing. */
  g_assert_true (tc_store_mark_delivered (f->store, BOB, "a2", receipt, &changed, &error));
  g_assert_false (changed);
  g_assert_true (tc_store_mark_delivered (f->store, ALICE, "in1", receipt, &changed, &error));
  g_assert_false (changed);
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  message = tc_store_lookup_message (f->store, ALICE, "a1");
  g_assert_cmpint (tc_message_get_state (message), ==, TC_MESSAGE_STATE_DELIVERED);
  g_assert_true (g_date_time_equal (tc_message_get_received_date (message), receipt));
  g_clear_object (&message);

  outbox = list_outbox (f, ALICE);
  g_assert_cmpuint (outbox->len, ==, 1);
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (outbox, 0)), ==, "a2");
  g_clear_pointer (&outbox, g_ptr_array_unref);

  g_assert_true (tc_store_mark_delivered (f->store, ALICE, "a2", NULL, &changed, &error));
  g_assert_no_error (error);
  g_assert_true (changed);
  commit (f);

  outbox = list_outbox (f, ALICE);
  g_assert_cmpuint (outbox->len, ==, 0);
  g_assert_cmpuint (tc_store_count_outbox (f->store, ALICE), ==, 0);
  g_assert_cmpuint (tc_store_count_outbox (f->store, BOB), ==, 1);

  message = tc_store_lookup_message (f->store, ALICE, "a2");
  g_assert_cmpint (tc_message_get_state (message), ==, TC_MESSAGE_STATE_DELIVERED);
  g_assert_nonnull (tc_message_get_received_date (message));
}

/* Receipts as a set, across the 997 ids of one statement: unknown,
 * repeated, incoming, someone else's and delivered ids change nothing;
 * the changed ids come back once each, in order; uncommitted, nothing
 * of it survives a close (a crash). */
static void
test_receipt_set (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GDateTime) first = date_usec (G_GINT64_CONSTANT (1700000001000000));
  g_autoptr(GDateTime) receipt = date_usec (G_GINT64_CONSTANT (1700000005000000));
  g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) changed = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(TcMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  const guint n = 2100;
  guint n_changed = 42;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("m%u", i);
      add_outgoing (f, ALICE, id);
      g_ptr_array_add (ids, g_steal_pointer (&id));
      /* One id twice, in another statement. */
      if (i == 1500)
        g_ptr_array_add (ids, g_strdup ("m3"));
    }
  add_outgoing (f, BOB, "b1");
  g_assert_false (add_incoming (f, ALICE, "in1"));
  g_assert_true (tc_store_mark_delivered (f->store, ALICE, "m7", first, NULL, &error));
  commit (f);
  g_ptr_array_add (ids, g_strdup ("unknown"));
  g_ptr_array_add (ids, g_strdup ("b1"));
  g_ptr_array_add (ids, g_strdup ("in1"));

  /* A crash before the commit: nothing changed. */
  g_assert_true (tc_store_mark_delivered_set (f->store, ALICE, ids, receipt, &n_changed, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_changed, ==, n - 1);
  g_assert_cmpuint (tc_store_count_outbox (f->store, ALICE), ==, 0);
  reopen (f);
  g_assert_cmpuint (tc_store_count_outbox (f->store, ALICE), ==, n - 1);

  g_assert_true (tc_store_mark_delivered_set (f->store, ALICE, ids, receipt, &n_changed, changed, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);
  g_assert_cmpuint (n_changed, ==, n - 1);
  g_assert_cmpuint (changed->len, ==, n - 1);
  for (guint i = 0, j = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("m%u", i);

      if (i == 7)
        continue;
      g_assert_cmpstr (g_ptr_array_index (changed, j++), ==, id);
    }
  g_assert_cmpuint (tc_store_count_outbox (f->store, ALICE), ==, 0);
  g_assert_cmpuint (tc_store_count_outbox (f->store, BOB), ==, 1);

  message = tc_store_lookup_message (f->store, ALICE, "m2099");
  g_assert_cmpint (tc_message_get_state (message), ==, TC_MESSAGE_STATE_DELIVERED);
  g_assert_true (g_date_time_equal (tc_message_get_received_date (message), receipt));
  g_clear_object (&message);
  message = tc_store_lookup_message (f->store, ALICE, "m7");
  g_assert_true (g_date_time_equal (tc_message_get_received_date (message), first));
  g_clear_object (&message);
  message = tc_store_lookup_message (f->store, ALICE, "in1");
  g_assert_cmpint (tc_message_get_state (message), ==, TC_MESSAGE_STATE_RECEIVED);
  g_assert_false (g_date_time_equal (tc_message_get_received_date (message), receipt));
  g_clear_object (&message);

  /* Again: nothing changes. */
  g_ptr_array_set_size (changed, 0);
  g_assert_true (tc_store_mark_delivered_set (f->store, ALICE, ids, NULL, &n_changed, changed, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (n_changed, ==, 0);
  g_assert_cmpuint (changed->len, ==, 0);
  commit (f);
}

static void
test_fail_outbox (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GPtrArray) outbox = NULL;
  g_autoptr(GPtrArray) history = NULL;
  g_autoptr(GError) error = NULL;
  const TcMessageState expected[] = {
    TC_MESSAGE_STATE_DELIVERED, TC_MESSAGE_STATE_FAILED,
    TC_MESSAGE_STATE_FAILED, TC_MESSAGE_STATE_RECEIVED,
  };

  add_outgoing (f, ALICE, "delivered");
  add_outgoing (f, ALICE, "sent");
  add_outgoing (f, ALICE, "queued");
  g_assert_false (add_incoming (f, ALICE, "in"));
  add_outgoing (f, BOB, "bob");
  g_assert_true (tc_store_mark_delivered (f->store, ALICE, "delivered", NULL, NULL, &error));
  g_assert_true (tc_store_set_message_state (f->store, ALICE, "sent", TC_MESSAGE_STATE_SENT, &error));
  g_assert_no_error (error);
  commit (f);

  g_assert_true (tc_store_fail_outbox (f->store, ALICE, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  outbox = list_outbox (f, ALICE);
  g_assert_cmpuint (outbox->len, ==, 0);
  g_assert_cmpuint (tc_store_count_outbox (f->store, BOB), ==, 1);

  history = tc_store_list_messages (f->store, ALICE, 0, 10, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (history->len, ==, G_N_ELEMENTS (expected));
  for (guint i = 0; i < history->len; i++)
    g_assert_cmpint (tc_message_get_state (g_ptr_array_index (history, i)), ==, expected[i]);
}

static void
test_duplicates (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  g_assert_false (add_incoming (f, ALICE, "m1"));
  g_assert_true (add_incoming (f, ALICE, "m1"));
  /* The same id from someone else is a different message. */
  g_assert_false (add_incoming (f, BOB, "m1"));
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 1);
  commit (f);
  reopen (f);

  g_assert_true (add_incoming (f, ALICE, "m1"));
  g_assert_true (tc_store_delete_history (f->store, ALICE, &error));
  g_assert_no_error (error);
  commit (f);
  reopen (f);

  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 0);
  g_assert_cmpuint (tc_store_count_messages (f->store, BOB), ==, 1);
  g_assert_true (add_incoming (f, ALICE, "m1"));
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 0);
  g_assert_false (add_incoming (f, ALICE, "m2"));
  commit (f);
}

/* The duplicates rule (docs/protocol.md, section 7): an id is recognised
 * in the history itself; `seen` holds only the ids of deleted messages,
 * for a window, so it does not grow with the history. */
static void
test_seen_bounded (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  const guint n = 2000;

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("m%u", i);
      g_assert_false (add_incoming (f, ALICE, id));
    }
  commit (f);
  g_assert_cmpuint (_tc_store_count_seen (f->store, ALICE), ==, 0);
  g_assert_true (add_incoming (f, ALICE, "m7"));
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, n);

  /* Deleted: the ids stay for the window, so a resend is dropped. */
  g_assert_true (tc_store_delete_history (f->store, ALICE, &error));
  g_assert_no_error (error);
  commit (f);
  g_assert_cmpuint (_tc_store_count_seen (f->store, ALICE), ==, n);
  g_assert_true (add_incoming (f, ALICE, "m7"));
  commit (f);
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 0);

  /* Inside the window, even after a reopen (which prunes). */
  reopen (f);
  g_assert_cmpuint (_tc_store_count_seen (f->store, ALICE), ==, n);
  g_assert_true (_tc_store_prune_seen (f->store, g_get_real_time () / G_USEC_PER_SEC +
                                       89 * 24 * 3600, &error));
  g_assert_no_error (error);
  commit (f);
  g_assert_cmpuint (_tc_store_count_seen (f->store, ALICE), ==, n);

  /* After it: forgotten. */
  g_assert_true (_tc_store_prune_seen (f->store, g_get_real_time () / G_USEC_PER_SEC +
                                       91 * 24 * 3600, &error));
  g_assert_no_error (error);
  commit (f);
  g_assert_cmpuint (_tc_store_count_seen (f->store, ALICE), ==, 0);
  g_assert_false (add_incoming (f, ALICE, "m7"));
  commit (f);
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

static goffset
size_of (const char *path)
{
  GStatBuf st;

  return g_stat (path, &st) == 0 ? st.st_size : -1;
}

/* Committed pages reach the database file in a quiet moment after the
 * commit, not during a burst. */
static void
test_idle_checkpoint (Fixture       *f,
                      gconstpointer  data)
{
  gint64 deadline;
  goffset before;

  for (guint i = 0; i < 500; i++)
    {
      g_autofree char *id = g_strdup_printf ("c%u", i);
      g_assert_false (add_incoming (f, ALICE, id));
    }
  commit (f);
  before = size_of (f->path);

  deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;
  while (size_of (f->path) == before && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("database file: %" G_GOFFSET_FORMAT " bytes, then %" G_GOFFSET_FORMAT,
                  before, size_of (f->path));
  g_assert_cmpint (size_of (f->path), >, before);
}

/* Nothing is durable before the commit: a crash (here, closing) loses it. */
static void
test_uncommitted (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(TcContact) contact = tc_contact_new (ALICE);
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;

  /* Nothing open: commit succeeds and does nothing. */
  g_assert_false (tc_store_in_transaction (f->store));
  commit (f);

  g_assert_true (tc_store_save_contact (f->store, contact, &error));
  g_assert_no_error (error);
  g_assert_true (tc_store_in_transaction (f->store));
  add_outgoing (f, ALICE, "m1");
  g_assert_false (add_incoming (f, ALICE, "m2"));
  g_assert_true (tc_store_set_setting (f->store, "name", "Alice", &error));
  g_assert_no_error (error);

  /* Reads inside the transaction see it. */
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 2);
  g_assert_cmpuint (tc_store_count_outbox (f->store, ALICE), ==, 1);

  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 0);
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 0);
  g_assert_cmpuint (tc_store_count_outbox (f->store, ALICE), ==, 0);
  g_assert_null (tc_store_dup_setting (f->store, "name"));
  /* Not even the seen id survived. */
  g_assert_false (add_incoming (f, ALICE, "m2"));
}

/* A failed write drops everything since the last commit. */
static void
test_failed_write (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(TcContact) contact = tc_contact_new (ALICE);
  g_autoptr(TcMessage) again = outgoing (BOB, "b1", "again");
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;

  add_outgoing (f, BOB, "b1");
  commit (f);

  g_assert_true (tc_store_save_contact (f->store, contact, &error));
  add_outgoing (f, BOB, "b2");
  g_assert_false (tc_store_add_outgoing (f->store, again, &error));
  g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED);
  g_assert_false (tc_store_in_transaction (f->store));

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 0);
  g_assert_cmpuint (tc_store_count_messages (f->store, BOB), ==, 1);
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

/* A reconnect can flush thousands of messages: one transaction takes them. */
static void
test_many (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(GPtrArray) page = NULL;
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < 10000; i++)
    {
      g_autofree char *id = g_strdup_printf ("%05u", i);
      g_assert_false (add_incoming (f, ALICE, id));
    }
  commit (f);
  reopen (f);

  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 10000);
  page = tc_store_list_messages (f->store, ALICE, 9990, 64, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (page->len, ==, 10);
  for (guint i = 0; i < page->len; i++)
    {
      g_autofree char *id = g_strdup_printf ("%05u", 9990 + i);
      g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (page, i)), ==, id);
    }
  g_assert_true (add_incoming (f, ALICE, "04321"));
}

static void
test_full (Fixture       *f,
           gconstpointer  data)
{
  g_autoptr(TcContact) contact = tc_contact_new (ALICE);
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = g_strnfill (4096, 'x');
  gboolean stored = TRUE;

  tc_contact_set_nickname (contact, "Al");
  g_assert_true (tc_store_save_contact (f->store, contact, &error));
  g_assert_false (add_incoming (f, ALICE, "before"));
  g_assert_no_error (error);
  commit (f);

  /* The database may not grow past its current size. */
  g_assert_true (_tc_store_exec (f->store, "PRAGMA max_page_count = 1", &error));
  g_assert_no_error (error);

  g_test_expect_message ("torchat-node", G_LOG_LEVEL_WARNING, "*cannot store changes*full*");
  for (guint i = 0; i < 1000 && stored; i++)
    {
      g_autofree char *id = g_strdup_printf ("big%u", i);
      g_autoptr(TcMessage) message = incoming (ALICE, id, text);
      gboolean duplicate;

      stored = tc_store_add_incoming (f->store, message, &duplicate, &error);
    }
  g_test_assert_expected_messages ();

  g_assert_false (stored);
  g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_FULL);
  g_assert_true (g_str_has_prefix (error->message, "The disk is full"));
  g_assert_false (tc_store_in_transaction (f->store));
  g_assert_nonnull (tc_store_get_failure (f->store));
  g_clear_error (&error);

  /* The batch is poisoned: a small write that would fit fails too, and so
   * does the commit, so that no receipt goes out for any of it. */
  g_assert_false (tc_store_set_setting (f->store, "small", "1", &error));
  g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_FULL);
  g_clear_error (&error);
  g_assert_false (tc_store_in_transaction (f->store));
  g_assert_false (tc_store_commit (f->store, &error));
  g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_FULL);
  g_clear_error (&error);
  /* Every rollback of written rows shows in the generation, so that a
   * caller who left writes for a later commit knows they are gone. */
  {
    guint64 generation = tc_store_get_generation (f->store);

    g_assert_true (tc_store_set_setting (f->store, "gone", "1", &error));
    tc_store_rollback (f->store);
    g_assert_cmpuint (tc_store_get_generation (f->store), >, generation);
    g_assert_null (tc_store_dup_setting (f->store, "gone"));
  }

  /* The next batch starts clean; the store still says it is failing until
   * something is stored. */
  g_assert_nonnull (tc_store_get_failure (f->store));
  g_assert_true (tc_store_set_setting (f->store, "small", "1", &error));
  g_assert_no_error (error);
  commit (f);
  g_assert_null (tc_store_get_failure (f->store));

  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 1);
  reopen (f);

  contacts = load_contacts (f);
  g_assert_cmpuint (contacts->len, ==, 1);
  g_assert_cmpstr (tc_contact_get_nickname (g_ptr_array_index (contacts, 0)), ==, "Al");
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 1);
  g_assert_true (add_incoming (f, ALICE, "before"));
  g_assert_false (add_incoming (f, ALICE, "big0"));
  commit (f);
}

/* A failed write in the store's other files (transfers) spoils the batch
 * like any other: the messages written before it in the same batch are not
 * committed and the commit says so. */
static void
test_full_transfer (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TcTransfer) transfer = tc_transfer_new ("t1", TC_MESSAGE_DIRECTION_INCOMING, ALICE);
  g_autofree char *name = g_strnfill (200000, 'n');
  g_autoptr(GError) error = NULL;
  guint64 generation;

  g_assert_true (_tc_store_exec (f->store, "PRAGMA max_page_count = 1", &error));
  g_assert_no_error (error);
  generation = tc_store_get_generation (f->store);

  g_assert_false (add_incoming (f, ALICE, "small"));
  tc_transfer_set_name (transfer, name);
  g_test_expect_message ("torchat-node", G_LOG_LEVEL_WARNING, "*cannot store changes*");
  g_assert_false (tc_store_save_transfer (f->store, transfer, &error));
  g_test_assert_expected_messages ();
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (tc_store_get_generation (f->store), >, generation);

  /* Poisoned: the next write fails, the commit too, "small" is gone. */
  g_assert_false (tc_store_set_setting (f->store, "x", "1", &error));
  g_clear_error (&error);
  g_assert_false (tc_store_commit (f->store, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_cmpuint (tc_store_count_messages (f->store, ALICE), ==, 0);
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

#define ADD(name, func) \
  g_test_add ("/store/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down); \
  g_test_add ("/store/encrypted/" name, Fixture, test_key, fixture_set_up, func, fixture_tear_down)

  ADD ("reopen", test_reopen);
  g_test_add_func ("/store/newer", test_newer);
  g_test_add_func ("/store/corrupt", test_corrupt);
  ADD ("contacts", test_contacts);
  ADD ("messages", test_messages);
  ADD ("outbox", test_outbox);
  ADD ("receipt-set", test_receipt_set);
  ADD ("fail-outbox", test_fail_outbox);
  ADD ("duplicates", test_duplicates);
  ADD ("seen-bounded", test_seen_bounded);
  ADD ("full-transfer", test_full_transfer);
  ADD ("idle-checkpoint", test_idle_checkpoint);
  ADD ("unread-kept", test_unread_kept);
  ADD ("last-activity", test_last_activity);
  ADD ("uncommitted", test_uncommitted);
  ADD ("failed-write", test_failed_write);
  ADD ("settings", test_settings);
  ADD ("many", test_many);
  ADD ("full", test_full);
  g_test_add_func ("/store/contact-object", test_contact_object);
  g_test_add_func ("/store/message-object", test_message_object);

#undef ADD

  return g_test_run ();
}
