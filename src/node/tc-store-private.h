/* tc-store-private.h: what only the store's tests may call
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
