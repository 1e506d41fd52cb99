/* tc-test-store.h: a store in a temporary directory, plaintext or
 * encrypted, and the helpers test-store.c and test-store-outbox.c share
 *
 * Header-only, like tc-test-harness.h.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

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

static inline void
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

static inline void
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

static inline void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  if (f->store != NULL)
    g_assert_finalize_object (f->store);
  remove_dir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static inline void
reopen (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_finalize_object (f->store);
  f->store = tc_store_open_encrypted (f->path, f->key, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->store);
}

static inline void
commit (Fixture *f)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  g_assert_false (tc_store_in_transaction (f->store));
}

static inline GDateTime *
date_usec (gint64 usec)
{
  g_autoptr(GDateTime) epoch = g_date_time_new_from_unix_utc (0);

  return g_date_time_add (epoch, usec);
}

static inline TcMessage *
outgoing (const char *peer,
          const char *id,
          const char *text)
{
  g_autoptr(GDateTime) date = g_date_time_new_now_utc ();

  return tc_message_new (id, peer, text, TC_MESSAGE_DIRECTION_OUTGOING,
                         date, NULL, TC_MESSAGE_STATE_QUEUED);
}

static inline TcMessage *
incoming (const char *peer,
          const char *id,
          const char *text)
{
  g_autoptr(GDateTime) date = g_date_time_new_now_utc ();

  return tc_message_new (id, peer, text, TC_MESSAGE_DIRECTION_INCOMING,
                         date, NULL, TC_MESSAGE_STATE_RECEIVED);
}

static inline void
add_outgoing (Fixture    *f,
              const char *peer,
              const char *id)
{
  g_autoptr(TcMessage) message = outgoing (peer, id, "hello");
  g_autoptr(GError) error = NULL;

  g_assert_true (tc_store_add_outgoing (f->store, message, &error));
  g_assert_no_error (error);
}

static inline gboolean
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

static inline GPtrArray *
load_contacts (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *contacts = tc_store_load_contacts (f->store, &error);

  g_assert_no_error (error);
  g_assert_nonnull (contacts);
  return contacts;
}

static inline GPtrArray *
list_outbox (Fixture    *f,
             const char *peer)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *outbox = tc_store_list_outbox (f->store, peer, &error);

  g_assert_no_error (error);
  g_assert_nonnull (outbox);
  return outbox;
}

static inline int
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

/* Each fixture test runs on a plaintext and on an encrypted database. */
#define TC_TEST_STORE_ADD(name, func) \
  g_test_add ("/store/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down); \
  g_test_add ("/store/encrypted/" name, Fixture, test_key, fixture_set_up, func, fixture_tear_down)

