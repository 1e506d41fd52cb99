/* test-store-outbox.c: the outbox, receipts, duplicates, checkpoints and a full disk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-test-store.h"

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

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  TC_TEST_STORE_ADD ("outbox", test_outbox);
  TC_TEST_STORE_ADD ("receipt-set", test_receipt_set);
  TC_TEST_STORE_ADD ("fail-outbox", test_fail_outbox);
  TC_TEST_STORE_ADD ("duplicates", test_duplicates);
  TC_TEST_STORE_ADD ("seen-bounded", test_seen_bounded);
  TC_TEST_STORE_ADD ("full-transfer", test_full_transfer);
  TC_TEST_STORE_ADD ("idle-checkpoint", test_idle_checkpoint);
  TC_TEST_STORE_ADD ("uncommitted", test_uncommitted);
  TC_TEST_STORE_ADD ("failed-write", test_failed_write);
  TC_TEST_STORE_ADD ("many", test_many);
  TC_TEST_STORE_ADD ("full", test_full);

  return g_test_run ();
}
