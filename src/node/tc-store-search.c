/* tc-store-search.c: full-text search in the history
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-store-private.h"

/* New rows are indexed INDEX_AFTER_MS after a commit, once no commit came
 * for INDEX_QUIET_MS (a burst commits every 250 ms or faster), at most
 * INDEX_BATCH rows per transaction, then batch after batch when the main
 * loop has nothing else to do. */
#define INDEX_AFTER_MS 500
#define INDEX_QUIET_MS 400
#define INDEX_BATCH 2000
#define INDEX_MAX_WAIT_MS 5000

/* Newest first, in the index's own docid order, so that the LIMIT stops
 * the join early (ordering by m.id made SQLite join and sort every hit:
 * 1.4 s for a word in all of 1,000,000 messages). */
static const char SQL_SEARCH[] =
  "SELECT m.mid, m.peer, m.text, m.direction, m.state, m.date, m.received_date"
  " FROM messages_fts JOIN messages m ON m.id = messages_fts.docid"
  " WHERE messages_fts MATCH ?1 ORDER BY messages_fts.docid DESC LIMIT ?2";

static const char SQL_SEARCH_PEER[] =
  "SELECT m.mid, m.peer, m.text, m.direction, m.state, m.date, m.received_date"
  " FROM messages_fts JOIN messages m ON m.id = messages_fts.docid"
  " WHERE messages_fts MATCH ?1 AND m.peer = ?3 ORDER BY messages_fts.docid DESC LIMIT ?2";

/* Merges the index's segments: what deleted rows left in older segments
 * (their words and ids) goes. */
static const char SQL_FTS_OPTIMIZE[] =
  "INSERT INTO messages_fts (messages_fts) VALUES ('optimize')";

/* The index's watermark, and the newest row. */
static const char SQL_INDEX_STATE[] =
  "SELECT upto, (SELECT coalesce (max (id), 0) FROM messages) FROM search_indexed";

/* The key of the last row of the next batch. */
static const char SQL_INDEX_BATCH_END[] =
  "SELECT max (id) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2)";

static const char SQL_INDEX_INSERT[] =
  "INSERT INTO messages_fts (docid, text) SELECT id, text FROM messages"
  " WHERE id > ?1 AND id <= ?2";

static const char SQL_INDEX_MARK[] =
  "UPDATE OR FAIL search_indexed SET upto = ?1";

static const char SQL_COUNT_UNINDEXED[] =
  "SELECT count(*) FROM messages WHERE id > (SELECT upto FROM search_indexed)";

static const char SQL_TAIL_FILL[] =
  "INSERT INTO temp.search_tail (docid, text) SELECT id, text FROM messages WHERE id > ?1";

static const char SQL_TAIL_FILL_PEER[] =
  "INSERT INTO temp.search_tail (docid, text) SELECT id, text FROM messages"
  " WHERE id > ?1 AND peer = ?2";

static const char SQL_TAIL_SEARCH[] =
  "SELECT m.mid, m.peer, m.text, m.direction, m.state, m.date, m.received_date"
  " FROM temp.search_tail JOIN messages m ON m.id = search_tail.docid"
  " WHERE search_tail MATCH ?1 ORDER BY search_tail.docid DESC LIMIT ?2";

/* Every word of @text as a phrase of its own, so that the user's quotes,
 * stars, minus signs or NEAR are words, not FTS syntax. NULL for no word. */
static char *
build_match (const char *text)
{
  g_autoptr(GString) match = g_string_new (NULL);
  g_auto(GStrv) words = g_strsplit_set (text, " \t\n\r", -1);

  for (guint i = 0; words[i] != NULL; i++)
    {
      g_autoptr(GString) word = g_string_new (NULL);

      for (const char *c = words[i]; *c != '\0'; c++)
        if (*c != '"')
          g_string_append_c (word, *c);
      if (word->len == 0)
        continue;

      if (match->len > 0)
        g_string_append_c (match, ' ');
      g_string_append_printf (match, "\"%s\"", word->str);
    }

  return match->len > 0 ? g_string_free (g_steal_pointer (&match), FALSE) : NULL;
}

/* The rows above the watermark, not in the index yet, are searched through
 * a second full-text index of the same kind built for the one search in
 * memory (temp_store = MEMORY: nothing of it reaches a file) and dropped
 * again. The idle indexer keeps that tail short: empty, except in the
 * seconds after a burst. */
static gboolean
search_tail (TcStore     *self,
             const char  *match,
             const char  *peer,
             guint        limit,
             GPtrArray   *hits,
             GError     **error)
{
  g_autoptr(StoreStmt) state = NULL;
  sqlite3_stmt *fill = NULL;
  sqlite3_stmt *query = NULL;
  gboolean in_transaction = tc_store_in_transaction (self);
  gint64 upto, top;
  int rc;

  if (!(state = _tc_store_get_stmt (self, SQL_INDEX_STATE, error)))
    return FALSE;
  rc = sqlite3_step (state);
  if (rc != SQLITE_ROW)
    {
      _tc_store_set_error (self, rc, _("Could not search the history"), error);
      return FALSE;
    }
  upto = sqlite3_column_int64 (state, 0);
  top = sqlite3_column_int64 (state, 1);
  g_clear_pointer (&state, _tc_store_stmt_release);

  if (top <= upto)
    return TRUE;

  rc = sqlite3_exec (self->db, "DROP TABLE IF EXISTS temp.search_tail;"
                     "CREATE VIRTUAL TABLE temp.search_tail USING fts4 (text, tokenize=unicode61)",
                     NULL, NULL, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (self->db, peer != NULL ? SQL_TAIL_FILL_PEER : SQL_TAIL_FILL,
                             -1, &fill, NULL);
  if (rc == SQLITE_OK)
    {
      sqlite3_bind_int64 (fill, 1, upto);
      if (peer != NULL)
        _tc_store_bind_text (fill, 2, peer);
      rc = sqlite3_step (fill);
      rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
  if (rc == SQLITE_OK)
    rc = sqlite3_prepare_v2 (self->db, SQL_TAIL_SEARCH, -1, &query, NULL);
  if (rc == SQLITE_OK)
    {
      _tc_store_bind_text (query, 1, match);
      sqlite3_bind_int64 (query, 2, limit);
      while ((rc = sqlite3_step (query)) == SQLITE_ROW)
        g_ptr_array_add (hits, _tc_store_message_from_row (query));
      rc = rc == SQLITE_DONE ? SQLITE_OK : rc;
    }
  if (rc != SQLITE_OK)
    _tc_store_set_error (self, rc, _("Could not search the history"), error);

  sqlite3_finalize (fill);
  sqlite3_finalize (query);
  sqlite3_exec (self->db, "DROP TABLE IF EXISTS temp.search_tail", NULL, NULL, NULL);

  /* Some errors (out of memory) make SQLite roll back the whole
   * transaction, the writes of a burst held for their commit included:
   * those must fail like any other rolled-back batch. */
  if (in_transaction && !tc_store_in_transaction (self))
    _tc_store_rollback (self);

  return rc == SQLITE_OK;
}

GPtrArray *
tc_store_search (TcStore     *self,
                 const char  *text,
                 const char  *peer,
                 guint        limit,
                 GError     **error)
{
  g_autoptr(GPtrArray) hits = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *match = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (!(match = build_match (text)))
    return g_steal_pointer (&hits);

  /* The newest first: the tail's rows are all newer than the index's. */
  if (!search_tail (self, match, peer, limit, hits, error))
    return NULL;
  if (hits->len >= limit)
    return g_steal_pointer (&hits);

  if (!(stmt = _tc_store_get_stmt (self, peer != NULL ? SQL_SEARCH_PEER : SQL_SEARCH, error)))
    return NULL;

  _tc_store_bind_text (stmt, 1, match);
  sqlite3_bind_int64 (stmt, 2, limit - hits->len);
  if (peer != NULL)
    _tc_store_bind_text (stmt, 3, peer);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (hits, _tc_store_message_from_row (stmt));
  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not search the history"), error);
      return NULL;
    }

  return g_steal_pointer (&hits);
}

/* Indexes the next batch of rows above the watermark in a transaction of
 * its own; *@more tells whether rows are left. Only when no transaction is
 * open: a burst's held writes are never committed by the indexer. */
static gboolean
index_batch (TcStore   *self,
             guint      batch,
             gboolean  *more,
             GError   **error)
{
  g_autoptr(StoreStmt) state = NULL;
  g_autoptr(StoreStmt) end = NULL;
  g_autoptr(StoreStmt) insert = NULL;
  g_autoptr(StoreStmt) mark = NULL;
  gint64 upto, top, last;
  int rc;

  *more = FALSE;

  if (!(state = _tc_store_get_stmt (self, SQL_INDEX_STATE, error)))
    return FALSE;
  rc = sqlite3_step (state);
  if (rc != SQLITE_ROW)
    {
      _tc_store_set_error (self, rc, _("Could not update the search index"), error);
      return FALSE;
    }
  upto = sqlite3_column_int64 (state, 0);
  top = sqlite3_column_int64 (state, 1);
  g_clear_pointer (&state, _tc_store_stmt_release);

  if (top <= upto)
    return TRUE;

  if (!(end = _tc_store_get_stmt (self, SQL_INDEX_BATCH_END, error)))
    return FALSE;
  sqlite3_bind_int64 (end, 1, upto);
  sqlite3_bind_int64 (end, 2, batch);
  rc = sqlite3_step (end);
  if (rc != SQLITE_ROW)
    {
      _tc_store_set_error (self, rc, _("Could not update the search index"), error);
      return FALSE;
    }
  last = sqlite3_column_int64 (end, 0);
  g_clear_pointer (&end, _tc_store_stmt_release);

  if (!(insert = _tc_store_prepare_write (self, SQL_INDEX_INSERT, error)))
    return FALSE;
  sqlite3_bind_int64 (insert, 1, upto);
  sqlite3_bind_int64 (insert, 2, last);
  if (!_tc_store_step_write (self, insert, _("Could not update the search index"), error))
    return FALSE;

  if (!(mark = _tc_store_prepare_write (self, SQL_INDEX_MARK, error)))
    return FALSE;
  sqlite3_bind_int64 (mark, 1, last);
  if (!_tc_store_step_write (self, mark, _("Could not update the search index"), error))
    return FALSE;

  g_clear_pointer (&insert, _tc_store_stmt_release);
  g_clear_pointer (&mark, _tc_store_stmt_release);
  if (!tc_store_commit (self, error))
    return FALSE;

  *more = last < top;
  return TRUE;
}

static gboolean
index_cb (gpointer user_data)
{
  TcStore *self = user_data;
  g_autoptr(GError) error = NULL;
  gint64 now_us = g_get_monotonic_time ();
  gint64 quiet_us = now_us - self->last_commit_us;
  gboolean more = FALSE;

  self->index_source = 0;
  if (self->db == NULL)
    return G_SOURCE_REMOVE;

  /* A burst is being written, or has just been: later, but under traffic
   * that never pauses not later than INDEX_MAX_WAIT_MS. Not while the store
   * cannot write (the disk is full): the room left is the messages'. */
  if (self->index_waiting_since_us == 0)
    self->index_waiting_since_us = now_us;
  if (tc_store_in_transaction (self) || self->batch_error != NULL ||
      self->failure != NULL ||
      (quiet_us < INDEX_QUIET_MS * 1000 &&
       now_us - self->index_waiting_since_us < INDEX_MAX_WAIT_MS * 1000))
    {
      _tc_store_schedule_indexing (self);
      return G_SOURCE_REMOVE;
    }
  self->index_waiting_since_us = 0;

  self->indexing = TRUE;
  if (!index_batch (self, INDEX_BATCH, &more, &error))
    {
      /* The failure is the store's (the disk is full, …) and says so; the
       * rows stay in the tail, found by searches, and the next commit
       * tries again. */
      tc_store_rollback (self);
      g_debug ("Search index not updated: %s", error->message);
      more = FALSE;
    }
  self->indexing = FALSE;

  if (more && self->index_source == 0)
    self->index_source = g_idle_add_full (G_PRIORITY_LOW, index_cb, self, NULL);

  return G_SOURCE_REMOVE;
}

void
_tc_store_schedule_indexing (TcStore *self)
{
  if (self->index_source == 0 && !self->indexing)
    self->index_source = g_timeout_add_full (G_PRIORITY_LOW, INDEX_AFTER_MS, index_cb, self, NULL);
}

gboolean
_tc_store_index_now (TcStore  *self,
                     GError  **error)
{
  gboolean more = TRUE;
  gboolean ok = TRUE;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (!tc_store_in_transaction (self), FALSE);

  self->indexing = TRUE;
  while (ok && more)
    ok = index_batch (self, INDEX_BATCH, &more, error);
  self->indexing = FALSE;

  if (!ok)
    tc_store_rollback (self);
  return ok;
}

guint
_tc_store_count_unindexed (TcStore *self)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);

  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GError) error = NULL;

  if (!(stmt = _tc_store_get_stmt (self, SQL_COUNT_UNINDEXED, &error)))
    return 0;

  return sqlite3_step (stmt) == SQLITE_ROW ? (guint) sqlite3_column_int64 (stmt, 0) : 0;
}

gboolean
_tc_store_optimize_index (TcStore  *self,
                          GError  **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  if (!(stmt = _tc_store_prepare_write (self, SQL_FTS_OPTIMIZE, error)))
    return FALSE;

  return _tc_store_step_write (self, stmt, _("Could not delete the history"), error);
}
