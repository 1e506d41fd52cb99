/* tc-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <glib/gi18n.h>
#include <sodium.h>
#include <sqlite3.h>

#include "tc-store-private.h"

/* The store's core: the object, errors, the batch and transaction rules,
 * commits, checkpoints and settings. Opening and the schema are in
 * tc-store-open.c, the tables in tc-store-contacts.c, tc-store-messages.c,
 * tc-store-search.c and tc-store-transfers.c. */

static const char SQL_BEGIN[] =
  "BEGIN IMMEDIATE";

static const char SQL_COMMIT[] =
  "COMMIT";

static const char SQL_GET_SETTING[] =
  "SELECT value FROM settings WHERE key = ?1";

static const char SQL_SET_SETTING[] =
  "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)";

static const char SQL_DELETE_SETTING[] =
  "DELETE FROM settings WHERE key = ?1";

#define CHECKPOINT_AFTER_S 2

enum {
  PROP_0,
  PROP_FAILURE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TcStore, tc_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (tc-store-error-quark, tc_store_error)

/* SQLite's errno after a failed write is not always the write's (it makes
 * more calls before it returns): look at the disk itself. Full is less
 * than a little room left on the file system, or a file at the process's
 * file size limit. */
#define ROOM_BYTES (64 * 1024)

static gboolean
disk_is_full (TcStore *self)
{
  const char *path = self->db != NULL ? sqlite3_db_filename (self->db, "main") : NULL;
  g_autofree char *dir = NULL;
  g_autofree char *wal = NULL;
  struct statvfs fs;
  struct rlimit limit;

  if (path == NULL || *path == '\0')
    return FALSE;

  dir = g_path_get_dirname (path);
  if (statvfs (dir, &fs) == 0 && (guint64) fs.f_bavail * fs.f_frsize < ROOM_BYTES)
    return TRUE;

  wal = g_strconcat (path, "-wal", NULL);
  if (getrlimit (RLIMIT_FSIZE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY)
    {
      const char *files[] = { path, wal };

      for (guint i = 0; i < G_N_ELEMENTS (files); i++)
        {
          struct stat st;

          if (stat (files[i], &st) == 0 && (guint64) st.st_size + ROOM_BYTES > limit.rlim_cur)
            return TRUE;
        }
    }

  return FALSE;
}

void
_tc_store_set_error (TcStore     *self,
                     int          rc,
                     const char  *what,
                     GError     **error)
{
  const char *message = self->db != NULL ? sqlite3_errmsg (self->db) : sqlite3_errstr (rc);
  int system_errno = self->db != NULL ? sqlite3_system_errno (self->db) : 0;

  switch (rc & 0xff)
    {
    case SQLITE_FULL:
      g_set_error (error, TC_STORE_ERROR, TC_STORE_ERROR_FULL,
                   _("The disk is full: %s"), message);
      return;

    case SQLITE_IOERR:
      /* EFBIG: over the process's file size limit (RLIMIT_FSIZE). */
      if (system_errno == ENOSPC || system_errno == EDQUOT || system_errno == EFBIG ||
          disk_is_full (self))
        {
          if (system_errno != ENOSPC && system_errno != EDQUOT && system_errno != EFBIG)
            system_errno = ENOSPC;
          g_set_error (error, TC_STORE_ERROR, TC_STORE_ERROR_FULL,
                       _("The disk is full: %s"), g_strerror (system_errno));
          return;
        }
      break;

    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      g_set_error (error, TC_STORE_ERROR, TC_STORE_ERROR_CORRUPT,
                   _("The profile’s database is damaged: %s"), message);
      return;

    default:
      break;
    }

  g_set_error (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED, "%s: %s", what, message);
}

/* Statements are cached by the address of their SQL, a static array of
 * the file that uses it. */
StoreStmt *
_tc_store_get_stmt (TcStore     *self,
                    const char  *sql,
                    GError     **error)
{
  sqlite3_stmt *stmt;
  int rc;

  if ((stmt = g_hash_table_lookup (self->stmts, sql)) != NULL)
    return stmt;

  if (self->db == NULL)
    {
      g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                           _("The database is closed"));
      return NULL;
    }

  rc = sqlite3_prepare_v2 (self->db, sql, -1, &stmt, NULL);
  if (rc != SQLITE_OK)
    {
      sqlite3_finalize (stmt);
      _tc_store_set_error (self, rc, _("Could not prepare a database query"), error);
      return NULL;
    }

  g_hash_table_insert (self->stmts, (gpointer) sql, stmt);
  return stmt;
}

void
_tc_store_drop_transaction (TcStore *self)
{
  int rc;

  /* SQLite rolls back by itself after some errors (full disk, I/O). */
  if (self->db == NULL || sqlite3_get_autocommit (self->db))
    return;

  self->generation++;
  rc = sqlite3_exec (self->db, "ROLLBACK", NULL, NULL, NULL);
  if (rc != SQLITE_OK)
    g_warning ("Could not roll back the database transaction: %s", sqlite3_errmsg (self->db));
}

static void
set_failure (TcStore    *self,
             const char *failure)
{
  if (g_strcmp0 (self->failure, failure) == 0)
    return;

  if (failure != NULL && self->failure == NULL)
    g_warning ("The profile’s database cannot store changes: %s", failure);
  else if (failure == NULL && self->failure != NULL)
    g_message ("The profile’s database stores changes again");

  g_free (self->failure);
  self->failure = g_strdup (failure);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FAILURE]);
}

/* Records the error of a failed write, then drops the whole transaction
 * and poisons the batch: a half-applied burst must never be committed
 * later, and tc_store_commit() reports the failure. */
gboolean
_tc_store_write_failed (TcStore       *self,
                        sqlite3_stmt  *stmt,
                        int            rc,
                        const char    *what,
                        GError       **error)
{
  g_autoptr(GError) local = NULL;

  _tc_store_set_error (self, rc, what, &local);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  /* SQLite may have rolled back by itself already. */
  self->generation++;
  _tc_store_drop_transaction (self);

  if (self->batch_error == NULL)
    self->batch_error = g_error_copy (local);
  /* A constraint is the caller's mistake, not a store that fails; the
   * search index's batches lose nothing when they fail (the rows stay in
   * the tail a search reads) and do not speak for the store either. */
  if ((rc & 0xff) != SQLITE_CONSTRAINT && !self->indexing)
    set_failure (self, local->message);

  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* A write after a failed one in the same batch fails the same way. */
gboolean
_tc_store_check_batch (TcStore  *self,
                       GError  **error)
{
  if (self->batch_error == NULL)
    return TRUE;

  g_propagate_error (error, g_error_copy (self->batch_error));
  return FALSE;
}

static gboolean begin_write (TcStore *self, GError **error);

sqlite3 *
_tc_store_get_db (TcStore *self)
{
  return self->db;
}

/* For the store's other files (tc-store-transfers.c): the same batch
 * rules as the writes here. A write after a failed one fails too. */
gboolean
_tc_store_begin_write (TcStore  *self,
                       GError  **error)
{
  return _tc_store_check_batch (self, error) && begin_write (self, error);
}

/* Called after a failed write: the batch is poisoned, so that
 * tc_store_commit() reports it and a caller holding writes for a later
 * commit sees the generation change. */
void
_tc_store_rollback (TcStore *self)
{
  gboolean full = disk_is_full (self);

  self->generation++;
  if (self->batch_error == NULL)
    self->batch_error = full ?
      g_error_new_literal (TC_STORE_ERROR, TC_STORE_ERROR_FULL, _("The disk is full")) :
      g_error_new_literal (TC_STORE_ERROR, TC_STORE_ERROR_FAILED, _("A write of this batch failed"));
  set_failure (self, self->batch_error->message);
  _tc_store_drop_transaction (self);
}

static gboolean
begin_write (TcStore  *self,
             GError  **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  if (self->db != NULL && !sqlite3_get_autocommit (self->db))
    return TRUE;

  if (!(stmt = _tc_store_get_stmt (self, SQL_BEGIN, error)))
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    return _tc_store_write_failed (self, stmt, rc, _("Could not start a database transaction"), error);

  return TRUE;
}

/* Begins the transaction if needed and hands out the statement; on failure
 * everything is rolled back. */
StoreStmt *
_tc_store_prepare_write (TcStore     *self,
                         const char  *sql,
                         GError     **error)
{
  StoreStmt *stmt;

  if (!_tc_store_check_batch (self, error) || !begin_write (self, error))
    return NULL;

  if (!(stmt = _tc_store_get_stmt (self, sql, error)))
    {
      _tc_store_drop_transaction (self);
      return NULL;
    }

  return stmt;
}

gboolean
_tc_store_step_write (TcStore       *self,
                      sqlite3_stmt  *stmt,
                      const char    *what,
                      GError       **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    return _tc_store_write_failed (self, stmt, rc, what, error);

  return TRUE;
}

/* For queries with one integer answer and no way to report an error. */
gint64
_tc_store_query_count (TcStore    *self,
                       const char *sql,
                       const char *peer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  if (!(stmt = _tc_store_get_stmt (self, sql, &error)))
    {
      g_warning ("%s", error->message);
      return 0;
    }

  _tc_store_bind_text (stmt, 1, peer);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _tc_store_set_error (self, rc, _("Could not count messages"), &error);
      g_warning ("%s", error->message);
      return 0;
    }

  return sqlite3_column_int64 (stmt, 0);
}

/* Until _tc_store_reopen() every call fails. */
void
_tc_store_close (TcStore *self)
{
  g_hash_table_remove_all (self->stmts);
  g_clear_handle_id (&self->index_source, g_source_remove);
  g_clear_error (&self->batch_error);
  g_clear_pointer (&self->failure, g_free);
  g_clear_handle_id (&self->checkpoint_source, g_source_remove);

  if (self->db != NULL)
    {
      /* Closing rolls back: uncommitted writes were never promised. */
      if (!sqlite3_get_autocommit (self->db))
        g_debug ("Closing the database with uncommitted changes; they are dropped");
      sqlite3_close_v2 (self->db);
      self->db = NULL;
    }
}

static void
tc_store_finalize (GObject *object)
{
  TcStore *self = TC_STORE (object);

  _tc_store_close (self);
  g_hash_table_unref (self->stmts);

  G_OBJECT_CLASS (tc_store_parent_class)->finalize (object);
}

static void
tc_store_get_property (GObject    *object,
                       guint       prop_id,
                       GValue     *value,
                       GParamSpec *pspec)
{
  TcStore *self = TC_STORE (object);

  switch (prop_id)
    {
    case PROP_FAILURE:
      g_value_set_string (value, self->failure);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_store_class_init (TcStoreClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tc_store_finalize;
  object_class->get_property = tc_store_get_property;

  /**
   * TcStore:failure:
   *
   * Why the last write failed (the disk is full, …), until a commit
   * succeeds again; NULL while the store works.
   */
  properties[PROP_FAILURE] =
    g_param_spec_string ("failure", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
stmt_free (gpointer stmt)
{
  sqlite3_finalize (stmt);
}

static void
tc_store_init (TcStore *self)
{
  self->stmts = g_hash_table_new_full (NULL, NULL, NULL, stmt_free);
}

/* What SQLite holds, against what the process's heap holds (bench-soak). */
static void
log_memory (TcStore *self)
{
  struct mallinfo2 heap = mallinfo2 ();
  int cache = 0, cache_high = 0;

  sqlite3_db_status (self->db, SQLITE_DBSTATUS_CACHE_USED, &cache, &cache_high, FALSE);
  g_debug ("Memory: SQLite %" G_GINT64_FORMAT " bytes in use (page cache of this database "
           "%d), heap %zu bytes in use, %zu free, %zu mapped",
           (gint64) sqlite3_memory_used (), cache, heap.uordblks, heap.fordblks, heap.hblkhd);
}

static gboolean
idle_checkpoint_cb (gpointer user_data)
{
  TcStore *self = user_data;
  int log_frames = 0, done_frames = 0;
  int rc;

  self->checkpoint_source = 0;
  if (self->db == NULL || !sqlite3_get_autocommit (self->db))
    return G_SOURCE_REMOVE;

  /* PASSIVE: never waits for a reader; what it cannot copy now, the next
   * quiet moment does. */
  rc = sqlite3_wal_checkpoint_v2 (self->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
                                  &log_frames, &done_frames);
  if (rc != SQLITE_OK && rc != SQLITE_BUSY)
    g_message ("Could not checkpoint the database journal: %s", sqlite3_errmsg (self->db));
  else
    g_debug ("Checkpoint: %d of %d journal frames", done_frames, log_frames);

  log_memory (self);

  return G_SOURCE_REMOVE;
}

/* Not pushed back by later commits: with a commit every second (steady
 * traffic) a timer re-armed at each one never fired, and the WAL grew to
 * the automatic limit (41 MB in bench-soak). */
static void
schedule_checkpoint (TcStore *self)
{
  if (self->checkpoint_source == 0)
    self->checkpoint_source = g_timeout_add_seconds (CHECKPOINT_AFTER_S, idle_checkpoint_cb, self);
}

gboolean
tc_store_commit (TcStore  *self,
                 GError  **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);

  /* A failed write rolled back the batch: nothing of it is on disk. */
  if (self->batch_error != NULL)
    {
      _tc_store_drop_transaction (self);
      g_propagate_error (error, g_steal_pointer (&self->batch_error));
      return FALSE;
    }

  if (self->db == NULL || sqlite3_get_autocommit (self->db))
    return TRUE;

  if (!(stmt = _tc_store_get_stmt (self, SQL_COMMIT, error)))
    {
      _tc_store_drop_transaction (self);
      return FALSE;
    }

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      gboolean ok = _tc_store_write_failed (self, stmt, rc, _("Could not store the changes"), error);

      /* Reported here already: the next batch starts clean. */
      g_clear_error (&self->batch_error);
      return ok;
    }

  if (!self->indexing)
    set_failure (self, NULL);
  schedule_checkpoint (self);
  if (!self->indexing)
    {
      self->last_commit_us = g_get_monotonic_time ();
      _tc_store_schedule_indexing (self);
    }
  return TRUE;
}

void
tc_store_rollback (TcStore *self)
{
  g_return_if_fail (TC_IS_STORE (self));

  g_clear_error (&self->batch_error);
  _tc_store_drop_transaction (self);
}

guint64
tc_store_get_generation (TcStore *self)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);

  return self->generation;
}

const char *
tc_store_get_failure (TcStore *self)
{
  g_return_val_if_fail (TC_IS_STORE (self), NULL);

  return self->failure;
}

gboolean
tc_store_in_transaction (TcStore *self)
{
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);

  return self->db != NULL && !sqlite3_get_autocommit (self->db);
}

gboolean
tc_store_checkpoint (TcStore  *self,
                     GError  **error)
{
  sqlite3_stmt *stmt = NULL;
  gboolean busy = FALSE;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (!tc_store_in_transaction (self), FALSE);

  if (self->db == NULL)
    {
      g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                           _("The database is closed"));
      return FALSE;
    }

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    {
      busy = sqlite3_column_int (stmt, 0) != 0;
      rc = SQLITE_DONE;
    }

  if (rc != SQLITE_DONE)
    _tc_store_set_error (self, rc, _("Could not write the changes into the database"), error);
  else if (busy)
    g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                         _("The database is busy; its journal is truncated later"));

  sqlite3_finalize (stmt);
  return rc == SQLITE_DONE && !busy;
}

char *
tc_store_dup_setting (TcStore    *self,
                      const char *key)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (key != NULL, NULL);

  if (!(stmt = _tc_store_get_stmt (self, SQL_GET_SETTING, &error)))
    {
      g_warning ("%s", error->message);
      return NULL;
    }

  _tc_store_bind_text (stmt, 1, key);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return g_strdup (_tc_store_column_text (stmt, 0));

  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not read a setting"), &error);
      g_warning ("%s", error->message);
    }

  return NULL;
}

gboolean
tc_store_set_setting (TcStore     *self,
                      const char  *key,
                      const char  *value,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (!(stmt = _tc_store_prepare_write (self, value != NULL ? SQL_SET_SETTING : SQL_DELETE_SETTING, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, key);
  if (value != NULL)
    _tc_store_bind_text (stmt, 2, value);

  return _tc_store_step_write (self, stmt, _("Could not save a setting"), error);
}

