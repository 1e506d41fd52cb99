/* tc-store-private.h: what the store's files share, and what only the
 * store's tests may call
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <sqlite3.h>

#include "tc-store.h"

/* Migration step 2, the transfers table (SQLite 3.15 syntax). */
#define TC_STORE_TRANSFERS_SCHEMA \
  "CREATE TABLE transfers ("                                                   \
  "  peer           TEXT NOT NULL,"                                            \
  "  id             TEXT NOT NULL,"                                            \
  "  direction      TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),"  \
  "  name           TEXT NOT NULL,"                                            \
  "  size           INTEGER NOT NULL,"                                         \
  "  sha256         TEXT,"                                                     \
  "  mime           TEXT NOT NULL,"                                            \
  "  done           INTEGER NOT NULL DEFAULT 0,"                               \
  "  state          TEXT NOT NULL,"                                            \
  "  error          TEXT,"                                                     \
  "  path           TEXT,"                                                     \
  "  directory      TEXT,"                                                     \
  "  created        INTEGER NOT NULL,"                                         \
  "  PRIMARY KEY (peer, id, direction)"                                        \
  ") WITHOUT ROWID;"

G_BEGIN_DECLS

struct _TcStore
{
  GObject        parent_instance;

  sqlite3       *db;
  /* SQL (by address: each a static array) → its prepared statement. */
  GHashTable    *stmts;
  int            schema_version;

  /* The first failed write since the last commit: it poisons the batch, so
   * that no later write of the same batch starts a transaction of its own
   * and gets committed without the ones before it. */
  GError        *batch_error;
  /* The last failed write, kept until a commit succeeds again. */
  char          *failure;
  /* A checkpoint comes CHECKPOINT_AFTER_S after the first commit since the
   * last one, after a burst rather than inside it, and every few seconds
   * under steady traffic. */
  guint          checkpoint_source;
  /* One more at every rollback of written rows. */
  guint64        generation;
  /* The search index's next batch (tc-store-search.c), and when the last
   * commit other than the indexer's was (monotonic µs). */
  guint          index_source;
  gboolean       indexing;
  gint64         last_commit_us;
  gint64         index_waiting_since_us;
};

/* A cached statement borrowed for one call: reset and unbound when the
 * borrower's scope ends, so that no statement holds a read open. */
typedef sqlite3_stmt StoreStmt;

static inline void
_tc_store_stmt_release (StoreStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStmt, _tc_store_stmt_release)

static inline void
_tc_store_bind_text (sqlite3_stmt *stmt,
                     int           index,
                     const char   *text)
{
  /* Bindings are cleared before the caller's strings go away. */
  sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
}

static inline const char *
_tc_store_column_text (sqlite3_stmt *stmt,
                       int           column)
{
  return (const char *) sqlite3_column_text (stmt, column);
}

/* The statement for @sql (a static array: it is cached by its address);
 * NULL with @error set when it cannot be prepared. */
StoreStmt *_tc_store_get_stmt        (TcStore       *self,
                                      const char    *sql,
                                      GError       **error);
/* Begins the transaction if needed and hands out the statement; on failure
 * everything is rolled back. Updates are UPDATE OR FAIL, never a plain
 * UPDATE: an UPDATE that may abort gets a statement journal, and SQLCipher
 * encrypts every page it copies there, which made each UPDATE eight times
 * slower on an encrypted profile. These updates cannot violate a
 * constraint, and with one row FAIL and ABORT are the same; the
 * transaction still rolls back as a whole on any error. */
StoreStmt *_tc_store_prepare_write   (TcStore       *self,
                                      const char    *sql,
                                      GError       **error);
gboolean   _tc_store_step_write      (TcStore       *self,
                                      sqlite3_stmt  *stmt,
                                      const char    *what,
                                      GError       **error);
/* Records the error of a failed write, then drops the whole transaction
 * and poisons the batch. Returns FALSE. */
gboolean   _tc_store_write_failed    (TcStore       *self,
                                      sqlite3_stmt  *stmt,
                                      int            rc,
                                      const char    *what,
                                      GError       **error);
/* A write after a failed one in the same batch fails the same way. */
gboolean   _tc_store_check_batch     (TcStore       *self,
                                      GError       **error);
/* Rolls back whatever transaction is open (and counts it). */
void       _tc_store_drop_transaction (TcStore      *self);
/* For queries with one integer answer and no way to report an error. */
gint64     _tc_store_query_count     (TcStore       *self,
                                      const char    *sql,
                                      const char    *peer);

/* Messages (tc-store-messages.c), for the search. */
#define TC_STORE_MESSAGE_COLUMNS "mid, peer, text, direction, state, date, received_date"
const char *_tc_store_direction_to_string (TcMessageDirection direction);
void        _tc_store_bind_date           (sqlite3_stmt  *stmt,
                                           int            index,
                                           GDateTime     *date);
TcMessage  *_tc_store_message_from_row    (sqlite3_stmt  *stmt);
GPtrArray  *_tc_store_collect_messages    (TcStore       *self,
                                           sqlite3_stmt  *stmt,
                                           GError       **error);

/* Search (tc-store-search.c). Merges the index's segments, so that what
 * deleted rows left in older ones (their words and ids) goes. */
gboolean    _tc_store_optimize_index      (TcStore       *self,
                                           GError       **error);
/* Indexes the rows above the watermark soon, when the node is idle. */
void        _tc_store_schedule_indexing   (TcStore       *self);
/* For tests: indexes every row now; and how many rows are not indexed. */
gboolean    _tc_store_index_now           (TcStore       *self,
                                           GError       **error);
guint       _tc_store_count_unindexed     (TcStore       *self);

/* Runs raw SQL on the store's connection, outside the transaction rules. */
gboolean _tc_store_exec (TcStore     *self,
                         const char  *sql,
                         GError     **error);

/* What the store's other source files share with tc-store.c. */
sqlite3 *_tc_store_get_db      (TcStore     *self);
void     _tc_store_set_error   (TcStore     *self,
                                int          rc,
                                const char  *what,
                                GError     **error);
/* Opens the burst's transaction if none is open. */
gboolean _tc_store_begin_write (TcStore     *self,
                                GError     **error);
void     _tc_store_rollback    (TcStore     *self);
/* For the migration of a plaintext profile (tc-profile.c): commits, then
 * writes a copy of the whole database to @path, encrypted under @key. */
gboolean _tc_store_export_encrypted (TcStore       *self,
                                     const char    *path,
                                     const guint8   key[TC_STORE_KEY_LEN],
                                     GError       **error);
/* Commits and empties the write-ahead log into the database file. */
gboolean _tc_store_checkpoint       (TcStore       *self,
                                     GError       **error);
/* Closes the connection; until _tc_store_reopen() every call fails. */
void     _tc_store_close            (TcStore       *self);
/* Closes the connection and opens @path (with @key, or plaintext) in its
 * place; the object, and every reference to it, stays. */
gboolean _tc_store_reopen           (TcStore       *self,
                                     const char    *path,
                                     const guint8  *key,
                                     GError       **error);

/* Forgets the ids of deleted messages whose window ended before @now_s
 * (Unix seconds); the store does it at every open. */
gboolean _tc_store_prune_seen (TcStore     *self,
                               gint64       now_s,
                               GError     **error);
/* How many ids of deleted messages from @peer are remembered. */
guint    _tc_store_count_seen (TcStore     *self,
                               const char  *peer);

G_END_DECLS
