/* test-store-search.c: the search index, kept off the path of a burst
 *
 * New messages are indexed in batches when the node is idle, up to a
 * watermark kept in the database; a search reads the rows above it too.
 * Every test runs on a plaintext and on an encrypted database.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <sqlite3.h>

#include <glib/gstdio.h>

#include "tc-store.h"
#include "tc-store-private.h"

#define ALICE "alice2hbsvwrsa7gp6ddvyxbp4kjlmkpftbjgzjhs4sljkqlsdqs7nad"
#define BOB   "bob4oxrkhyh6zqbjc4r5wsjrljlvvglmdqe3fnqhqewtfbmvzdpvid"

typedef struct
{
  char         *dir;
  char         *path;
  const guint8 *key;
  TcStore      *store;
  guint         next_id;
} Fixture;

static const guint8 test_key[TC_STORE_KEY_LEN] = {
  0x11, 0x9e, 0x4f, 0x20, 0xd8, 0x73, 0x05, 0xbc, 0x6a, 0xe1, 0x38, 0x92, 0x57, 0x0f, 0xca, 0x44,
  0x2d, 0xb6, 0x81, 0x7f, 0x13, 0xe9, 0x60, 0x5c, 0xa4, 0x3b, 0xf2, 0x07, 0x9d, 0x26, 0xc8, 0x71,
};

static void
open_store (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  f->store = tc_store_open_encrypted (f->path, f->key, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-store-search-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "torchat.db", NULL);
  f->key = data;
  open_store (f);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  if (f->store != NULL)
    g_assert_finalize_object (f->store);

  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static void
reopen (Fixture *f)
{
  g_assert_finalize_object (f->store);
  open_store (f);
}

static void
commit (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
}

/* An incoming message from @peer with @text; its id is its order. */
static void
add (Fixture    *f,
     const char *peer,
     const char *text)
{
  g_autoptr(GDateTime) date = g_date_time_new_now_utc ();
  g_autofree char *id = g_strdup_printf ("m%05u", f->next_id++);
  g_autoptr(TcMessage) message = tc_message_new (id, peer, text, TC_MESSAGE_DIRECTION_INCOMING,
                                                 date, NULL, TC_MESSAGE_STATE_RECEIVED);
  g_autoptr(GError) error = NULL;
  gboolean duplicate = TRUE;

  g_assert_true (tc_store_add_incoming (f->store, message, &duplicate, &error));
  g_assert_no_error (error);
  g_assert_false (duplicate);
}

/* The texts found, newest first, joined by "|". */
static char *
search (Fixture    *f,
        const char *text,
        const char *peer,
        guint       limit)
{
  g_autoptr(GPtrArray) hits = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) found = g_string_new (NULL);

  hits = tc_store_search (f->store, text, peer, limit, &error);
  g_assert_no_error (error);
  g_assert_nonnull (hits);

  for (guint i = 0; i < hits->len; i++)
    g_string_append_printf (found, "%s%s", i > 0 ? "|" : "",
                            tc_message_get_text (g_ptr_array_index (hits, i)));
  return g_string_free (g_steal_pointer (&found), FALSE);
}

#define assert_found(f, text, peer, limit, expected) \
  G_STMT_START { \
    g_autofree char *found_ = search ((f), (text), (peer), (limit)); \
    g_assert_cmpstr (found_, ==, (expected)); \
  } G_STMT_END

static void
index_now (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (_tc_store_index_now (f->store, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 0);
}

/* FTS4's own check that the index holds exactly the words of the rows it
 * claims (valid only when nothing is above the watermark: the content
 * table has rows the index does not know yet). */
static void
assert_index_sound (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 0);
  g_assert_true (_tc_store_exec (f->store,
                                 "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
                                 &error));
  g_assert_no_error (error);
}

/* Runs the main loop until the idle indexer has caught up. */
static void
wait_indexed (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 20 * G_USEC_PER_SEC;

  while (_tc_store_count_unindexed (f->store) > 0 && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 0);
}

/* A message just stored is found before it is indexed, then after. */
static void
test_tail (Fixture       *f,
           gconstpointer  data)
{
  add (f, ALICE, "the quick brown fox");
  add (f, BOB, "a lazy dog");
  add (f, ALICE, "Über das Café");
  commit (f);

  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 3);
  assert_found (f, "fox", NULL, 100, "the quick brown fox");
  assert_found (f, "FOX quick", NULL, 100, "the quick brown fox");
  /* The same tokenizer as the index: case and accents folded. */
  assert_found (f, "uber cafe", NULL, 100, "Über das Café");
  assert_found (f, "dog", ALICE, 100, "");
  assert_found (f, "dog", BOB, 100, "a lazy dog");
  assert_found (f, "cat", NULL, 100, "");
  /* Searching wrote nothing. */
  g_assert_false (tc_store_in_transaction (f->store));
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 3);

  index_now (f);
  assert_found (f, "fox", NULL, 100, "the quick brown fox");
  assert_found (f, "uber cafe", NULL, 100, "Über das Café");
  assert_found (f, "dog", BOB, 100, "a lazy dog");
  assert_found (f, "dog", ALICE, 100, "");
  assert_index_sound (f);
}

/* Found while the burst that stored it is still uncommitted, and the
 * search leaves that transaction as it was. */
static void
test_uncommitted (Fixture       *f,
                  gconstpointer  data)
{
  guint64 generation = tc_store_get_generation (f->store);

  add (f, ALICE, "pending zebra");
  g_assert_true (tc_store_in_transaction (f->store));
  assert_found (f, "zebra", NULL, 100, "pending zebra");
  g_assert_true (tc_store_in_transaction (f->store));
  g_assert_cmpuint (tc_store_get_generation (f->store), ==, generation);
  commit (f);
  assert_found (f, "zebra", ALICE, 100, "pending zebra");
}

/* Newest first across the tail and the index, and the limit counts both. */
static void
test_order (Fixture       *f,
            gconstpointer  data)
{
  add (f, ALICE, "word 1");
  add (f, ALICE, "word 2");
  add (f, BOB, "word 3");
  commit (f);
  index_now (f);
  add (f, ALICE, "word 4");
  add (f, BOB, "word 5");
  commit (f);

  assert_found (f, "word", NULL, 100, "word 5|word 4|word 3|word 2|word 1");
  assert_found (f, "word", NULL, 1, "word 5");
  assert_found (f, "word", NULL, 3, "word 5|word 4|word 3");
  assert_found (f, "word", ALICE, 2, "word 4|word 2");
  assert_found (f, "word", BOB, 100, "word 5|word 3");
}

/* The node indexes by itself when idle, in batches, and a restart resumes
 * where the last run stopped. */
static void
test_idle_and_restart (Fixture       *f,
                       gconstpointer  data)
{
  for (guint i = 0; i < 4500; i++)
    add (f, i % 2 ? ALICE : BOB, i == 4321 ? "needle in the haystack" : "hay");
  commit (f);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 4500);

  /* Closed before the idle indexer ran: the rows are still found. */
  reopen (f);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 4500);
  assert_found (f, "needle", NULL, 100, "needle in the haystack");

  /* The reopened store indexes them without a commit of its own. */
  wait_indexed (f);
  assert_found (f, "needle", NULL, 100, "needle in the haystack");
  assert_found (f, "needle", BOB, 100, "");
  assert_found (f, "needle", ALICE, 100, "needle in the haystack");

  reopen (f);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 0);
  assert_found (f, "needle", NULL, 100, "needle in the haystack");
  assert_index_sound (f);
}

/* Deleted history is found neither in the index nor in the tail, and the
 * index stays exact, also when the deletion took the newest rows (their ids
 * are handed out again). */
static void
test_delete (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  add (f, ALICE, "secret one");
  add (f, BOB, "public one");
  commit (f);
  index_now (f);
  add (f, ALICE, "secret two");
  add (f, BOB, "public two");
  commit (f);

  g_assert_true (tc_store_delete_history (f->store, ALICE, &error));
  g_assert_no_error (error);
  commit (f);
  assert_found (f, "secret", NULL, 100, "");
  assert_found (f, "public", NULL, 100, "public two|public one");
  index_now (f);
  assert_found (f, "secret", NULL, 100, "");
  assert_index_sound (f);

  /* Everything indexed; the newest rows go, then new ones take their ids. */
  add (f, ALICE, "newest alpha");
  add (f, ALICE, "newest beta");
  commit (f);
  index_now (f);
  g_assert_true (tc_store_delete_history (f->store, ALICE, &error));
  g_assert_no_error (error);
  commit (f);
  add (f, ALICE, "reborn gamma");
  add (f, ALICE, "reborn delta");
  commit (f);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 2);
  assert_found (f, "reborn", NULL, 100, "reborn delta|reborn gamma");
  assert_found (f, "newest", NULL, 100, "");
  index_now (f);
  assert_found (f, "reborn", NULL, 100, "reborn delta|reborn gamma");
  assert_found (f, "newest", NULL, 100, "");
  assert_index_sound (f);

  /* Removing the contact with its history. */
  g_assert_true (tc_store_forget_peer (f->store, BOB, &error));
  g_assert_no_error (error);
  commit (f);
  assert_found (f, "public", NULL, 100, "");
  assert_index_sound (f);
}

/* A database of schema step 5 (the index kept by an insert trigger) is
 * upgraded: what it indexed stays found, new rows go to the tail. */
static void
test_migration (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  add (f, ALICE, "before the upgrade");
  commit (f);
  index_now (f);

  /* Back to step 5 as it was released. */
  g_assert_true (_tc_store_exec (f->store,
    "BEGIN IMMEDIATE;"
    "DROP TRIGGER messages_fts_delete;"
    "DROP TRIGGER search_indexed_lower;"
    "DROP TRIGGER messages_fts_update_before;"
    "DROP TRIGGER messages_fts_update_after;"
    "DROP TABLE search_indexed;"
    "CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN"
    "  INSERT INTO messages_fts (docid, text) VALUES (NEW.id, NEW.text);"
    " END;"
    "CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages BEGIN"
    "  DELETE FROM messages_fts WHERE docid = OLD.id;"
    " END;"
    "CREATE TRIGGER messages_fts_update_before BEFORE UPDATE OF text ON messages BEGIN"
    "  DELETE FROM messages_fts WHERE docid = OLD.id;"
    " END;"
    "CREATE TRIGGER messages_fts_update_after AFTER UPDATE OF text ON messages BEGIN"
    "  INSERT INTO messages_fts (docid, text) VALUES (NEW.id, NEW.text);"
    " END;"
    "PRAGMA user_version = 5;"
    "COMMIT", &error));
  g_assert_no_error (error);
  /* Stored by the old version: indexed by its trigger. */
  add (f, BOB, "old version wrote this");
  commit (f);

  reopen (f);
  g_assert_cmpint (tc_store_get_schema_version (f->store), ==, 6);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 0);
  assert_index_sound (f);
  assert_found (f, "upgrade", NULL, 100, "before the upgrade");
  assert_found (f, "wrote", NULL, 100, "old version wrote this");

  add (f, ALICE, "after the upgrade");
  commit (f);
  g_assert_cmpuint (_tc_store_count_unindexed (f->store), ==, 1);
  assert_found (f, "upgrade", NULL, 100, "after the upgrade|before the upgrade");
  g_assert_true (tc_store_delete_history (f->store, BOB, &error));
  g_assert_no_error (error);
  commit (f);
  assert_found (f, "wrote", NULL, 100, "");
  wait_indexed (f);
  assert_found (f, "upgrade", ALICE, 100, "after the upgrade|before the upgrade");
  assert_index_sound (f);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/store-search/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down); \
  g_test_add ("/store-search/encrypted/" name, Fixture, test_key, fixture_set_up, func, \
              fixture_tear_down)

  ADD ("tail", test_tail);
  ADD ("uncommitted", test_uncommitted);
  ADD ("order", test_order);
  ADD ("idle-and-restart", test_idle_and_restart);
  ADD ("delete", test_delete);
  ADD ("migration", test_migration);

#undef ADD

  return g_test_run ();
}
