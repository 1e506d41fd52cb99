/* tc-store.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <glib/gi18n.h>
#include <sodium.h>
#include <sqlite3.h>

#include "tc-store-private.h"

#define BUSY_TIMEOUT_MS 5000
#define CIPHER_PAGE_SIZE 4096

/* Schema steps, applied in order; step i brings user_version from i to i+1.
 * Never edit a released step: add a new one. */
static const char * const migrations[] = {
  /* 1 */
  "CREATE TABLE contacts ("
  "  address        TEXT PRIMARY KEY NOT NULL,"
  "  nickname       TEXT,"
  "  name           TEXT,"
  "  profile_text   TEXT,"
  "  greeting       TEXT,"
  "  state          TEXT NOT NULL,"
  "  answer_pending INTEGER NOT NULL DEFAULT 0,"
  "  created        INTEGER NOT NULL"
  ");"
  "CREATE TABLE messages ("
  "  id             INTEGER PRIMARY KEY,"
  "  peer           TEXT NOT NULL,"
  "  mid            TEXT NOT NULL,"
  "  direction      TEXT NOT NULL CHECK (direction IN ('incoming', 'outgoing')),"
  "  text           TEXT NOT NULL,"
  "  state          TEXT NOT NULL,"
  "  date           INTEGER NOT NULL,"
  "  received_date  INTEGER,"
  "  UNIQUE (peer, mid, direction)"
  ");"
  "CREATE INDEX messages_by_peer ON messages (peer, id);"
  "CREATE INDEX messages_outbox ON messages (peer, id)"
  "  WHERE direction = 'outgoing' AND state IN ('queued', 'sent');"
  /* Outlives the history so that a message re-sent after the user deleted
   * the conversation is still recognised as a duplicate. */
  "CREATE TABLE seen ("
  "  peer           TEXT NOT NULL,"
  "  mid            TEXT NOT NULL,"
  "  PRIMARY KEY (peer, mid)"
  ") WITHOUT ROWID;"
  "CREATE TABLE settings ("
  "  key            TEXT PRIMARY KEY NOT NULL,"
  "  value          TEXT NOT NULL"
  ") WITHOUT ROWID;",
  /* 2: file transfers, see tc-store-transfers.c */
  TC_STORE_TRANSFERS_SCHEMA,
  /* 3: the unread count is kept. `seen` holds only the ids of deleted
   * incoming messages, each until `expires` (Unix seconds): the ids of the
   * history are recognised in `messages` itself (docs/protocol.md, 7). */
  "ALTER TABLE contacts ADD COLUMN unread INTEGER NOT NULL DEFAULT 0;"
  "ALTER TABLE seen ADD COLUMN expires INTEGER;"
  "DELETE FROM seen WHERE EXISTS (SELECT 1 FROM messages m WHERE m.peer = seen.peer"
  "  AND m.mid = seen.mid AND m.direction = 'incoming');"
  "UPDATE seen SET expires = CAST(strftime('%s', 'now') AS INTEGER) + 7776000;",
  /* 4: the number of messages per conversation, kept by triggers, so that
   * counting does not scan the history. */
  "CREATE TABLE message_counts ("
  "  peer           TEXT PRIMARY KEY NOT NULL,"
  "  n              INTEGER NOT NULL"
  ") WITHOUT ROWID;"
  "INSERT INTO message_counts (peer, n) SELECT peer, count(*) FROM messages GROUP BY peer;"
  "CREATE TRIGGER message_counts_insert AFTER INSERT ON messages BEGIN"
  "  INSERT OR IGNORE INTO message_counts (peer, n) VALUES (NEW.peer, 0);"
  "  UPDATE message_counts SET n = n + 1 WHERE peer = NEW.peer;"
  " END;"
  "CREATE TRIGGER message_counts_delete AFTER DELETE ON messages BEGIN"
  "  UPDATE message_counts SET n = n - 1 WHERE peer = OLD.peer;"
  " END;",
  /* 5: full-text search. FTS4, not FTS5: SQLCipher 3.4.1 (SQLite 3.15.2)
   * has no FTS5. An external-content index over messages.text (the text
   * is stored once), kept in step by triggers; docid = messages.id. */
  "CREATE VIRTUAL TABLE messages_fts USING fts4 (content='messages', text,"
  "  tokenize=unicode61);"
  "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');"
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
  " END;",
};

/* How long the id of a deleted incoming message is remembered: 90 days, in
 * seconds (migration 3 says the same). */
#define SEEN_WINDOW_S (90 * 24 * 60 * 60)

#define SCHEMA_VERSION ((int) G_N_ELEMENTS (migrations))

#define MESSAGE_COLUMNS "mid, peer, text, direction, state, date, received_date"
#define OUTBOX_WHERE "peer = ?1 AND direction = 'outgoing' AND state IN ('queued', 'sent')"

typedef enum {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_LOAD_CONTACTS,
  STMT_UPDATE_CONTACT,
  STMT_INSERT_CONTACT,
  STMT_DELETE_CONTACT,
  STMT_INSERT_MESSAGE,
  STMT_INSERT_INCOMING,
  STMT_CHECK_SEEN,
  STMT_REMEMBER_SEEN,
  STMT_PRUNE_SEEN,
  STMT_COUNT_SEEN,
  STMT_MARK_DELIVERED,
  STMT_SET_STATE,
  STMT_MARK_SENT,
  STMT_LIST_OUTBOX,
  STMT_FAIL_OUTBOX,
  STMT_COUNT_OUTBOX,
  STMT_COUNT_MESSAGES,
  STMT_PAGE_AFTER,
  STMT_SEARCH,
  STMT_SEARCH_PEER,
  STMT_FTS_OPTIMIZE,
  STMT_PAGE_BEFORE,
  STMT_PAGE_FROM_START,
  STMT_PAGE_FROM_END,
  STMT_LIST_MESSAGES,
  STMT_LOOKUP_MESSAGE,
  STMT_DELETE_HISTORY,
  STMT_DELETE_SEEN,
  STMT_GET_SETTING,
  STMT_SET_SETTING,
  STMT_DELETE_SETTING,
  N_STMTS
} StmtId;

/* UPDATE OR FAIL, not a plain UPDATE: an UPDATE that may abort gets a
 * statement journal, and SQLCipher encrypts every page it copies there, which
 * made each UPDATE eight times slower on an encrypted profile. These updates
 * cannot violate a constraint, and with one row FAIL and ABORT are the same;
 * the transaction still rolls back as a whole on any error. */
static const char * const statements[N_STMTS] = {
  [STMT_BEGIN] = "BEGIN IMMEDIATE",
  [STMT_COMMIT] = "COMMIT",
  [STMT_LOAD_CONTACTS] =
    "SELECT address, nickname, name, profile_text, greeting, state, answer_pending, unread,"
    /* The newest stored message, found through messages_by_peer. */
    " (SELECT coalesce(m.received_date, m.date) FROM messages m WHERE m.peer = contacts.address"
    "  ORDER BY m.id DESC LIMIT 1)"
    " FROM contacts ORDER BY created, address",
  /* An update, then an insert when it changed nothing: SQLite 3.15 (inside
   * SQLCipher) has no UPSERT, and INSERT OR REPLACE would reset `created`. */
  [STMT_UPDATE_CONTACT] =
    "UPDATE OR FAIL contacts SET nickname = ?2, name = ?3, profile_text = ?4, greeting = ?5,"
    " state = ?6, answer_pending = ?7, unread = ?9 WHERE address = ?1",
  [STMT_INSERT_CONTACT] =
    "INSERT INTO contacts (address, nickname, name, profile_text, greeting, state,"
    "                      answer_pending, created, unread)"
    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
  [STMT_DELETE_CONTACT] = "DELETE FROM contacts WHERE address = ?1",
  [STMT_INSERT_MESSAGE] =
    "INSERT INTO messages (" MESSAGE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  /* The UNIQUE (peer, mid, direction) constraint recognises a message
   * still in the history: no row changed means a duplicate. */
  [STMT_INSERT_INCOMING] =
    "INSERT OR IGNORE INTO messages (" MESSAGE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
  [STMT_CHECK_SEEN] = "SELECT 1 FROM seen WHERE peer = ?1 AND mid = ?2",
  [STMT_REMEMBER_SEEN] =
    "INSERT OR REPLACE INTO seen (peer, mid, expires)"
    " SELECT peer, mid, ?2 FROM messages WHERE peer = ?1 AND direction = 'incoming'",
  [STMT_PRUNE_SEEN] = "DELETE FROM seen WHERE expires < ?1",
  [STMT_COUNT_SEEN] = "SELECT count(*) FROM seen WHERE peer = ?1",
  [STMT_MARK_DELIVERED] =
    "UPDATE OR FAIL messages SET state = 'delivered', received_date = ?3"
    " WHERE peer = ?1 AND mid = ?2 AND direction = 'outgoing' AND state <> 'delivered'",
  [STMT_SET_STATE] =
    "UPDATE OR FAIL messages SET state = ?4 WHERE peer = ?1 AND mid = ?2 AND direction = ?3",
  /* Over the outbox's partial index. */
  [STMT_MARK_SENT] =
    "UPDATE OR FAIL messages SET state = 'sent'"
    " WHERE " OUTBOX_WHERE " AND state = 'queued'",
  [STMT_LIST_OUTBOX] =
    "SELECT " MESSAGE_COLUMNS " FROM messages WHERE " OUTBOX_WHERE " ORDER BY id",
  [STMT_FAIL_OUTBOX] = "UPDATE OR FAIL messages SET state = 'failed' WHERE " OUTBOX_WHERE,
  [STMT_COUNT_OUTBOX] = "SELECT count(*) FROM messages WHERE " OUTBOX_WHERE,
  [STMT_COUNT_MESSAGES] =
    "SELECT coalesce ((SELECT n FROM message_counts WHERE peer = ?1), 0)",
  /* Keyset pages over the (peer, id) index: each costs the same at any
   * depth. The last column is the row's key. */
  /* Newest first, in the index's own docid order, so that the LIMIT stops
   * the join early (ordering by m.id made SQLite join and sort every hit:
   * 1.4 s for a word in all of 1,000,000 messages). */
  [STMT_SEARCH] =
    "SELECT m.mid, m.peer, m.text, m.direction, m.state, m.date, m.received_date"
    " FROM messages_fts JOIN messages m ON m.id = messages_fts.docid"
    " WHERE messages_fts MATCH ?1 ORDER BY messages_fts.docid DESC LIMIT ?2",
  [STMT_SEARCH_PEER] =
    "SELECT m.mid, m.peer, m.text, m.direction, m.state, m.date, m.received_date"
    " FROM messages_fts JOIN messages m ON m.id = messages_fts.docid"
    " WHERE messages_fts MATCH ?1 AND m.peer = ?3 ORDER BY messages_fts.docid DESC LIMIT ?2",
  /* Merges the index's segments: what deleted rows left in older segments
   * (their words and ids) goes. */
  [STMT_FTS_OPTIMIZE] = "INSERT INTO messages_fts (messages_fts) VALUES ('optimize')",
  [STMT_PAGE_AFTER] =
    "SELECT " MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1 AND id > ?2"
    " ORDER BY id LIMIT ?3",
  [STMT_PAGE_BEFORE] =
    "SELECT " MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1 AND id < ?2"
    " ORDER BY id DESC LIMIT ?3",
  [STMT_PAGE_FROM_START] =
    "SELECT " MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1"
    " ORDER BY id LIMIT ?3 OFFSET ?2",
  [STMT_PAGE_FROM_END] =
    "SELECT " MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1"
    " ORDER BY id DESC LIMIT ?3 OFFSET ?2",
  /* The inner query pages over the (peer, id) index alone. */
  [STMT_LIST_MESSAGES] =
    "SELECT " MESSAGE_COLUMNS " FROM messages WHERE id IN"
    " (SELECT id FROM messages WHERE peer = ?1 ORDER BY id LIMIT ?2 OFFSET ?3)"
    " ORDER BY id",
  [STMT_LOOKUP_MESSAGE] =
    "SELECT " MESSAGE_COLUMNS " FROM messages WHERE peer = ?1 AND mid = ?2"
    " ORDER BY id LIMIT 1",
  [STMT_DELETE_HISTORY] = "DELETE FROM messages WHERE peer = ?1",
  [STMT_DELETE_SEEN] = "DELETE FROM seen WHERE peer = ?1",
  [STMT_GET_SETTING] = "SELECT value FROM settings WHERE key = ?1",
  [STMT_SET_SETTING] = "INSERT OR REPLACE INTO settings (key, value) VALUES (?1, ?2)",
  [STMT_DELETE_SETTING] = "DELETE FROM settings WHERE key = ?1",
};

struct _TcStore
{
  GObject        parent_instance;

  sqlite3       *db;
  sqlite3_stmt  *stmts[N_STMTS];
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
};

#define CHECKPOINT_AFTER_S 2
/* Past this many pages a commit checkpoints at once (8 MiB of 4 KiB pages;
 * SQLite's default is 1,000): more than a burst of 10,000 messages. */
#define WAL_AUTOCHECKPOINT_PAGES 2000

enum {
  PROP_0,
  PROP_FAILURE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (TcStore, tc_store, G_TYPE_OBJECT)

G_DEFINE_QUARK (tc-store-error-quark, tc_store_error)

/* A cached statement borrowed for one call: reset and unbound when the
 * borrower's scope ends, so that no statement holds a read open. */
typedef sqlite3_stmt StoreStmt;

static void
store_stmt_release (StoreStmt *stmt)
{
  sqlite3_reset (stmt);
  sqlite3_clear_bindings (stmt);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (StoreStmt, store_stmt_release)

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

static void
set_db_error (TcStore     *self,
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

static StoreStmt *
get_stmt (TcStore  *self,
          StmtId    id,
          GError  **error)
{
  int rc;

  if (self->stmts[id] != NULL)
    return self->stmts[id];

  if (self->db == NULL)
    {
      g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                           _("The database is closed"));
      return NULL;
    }

  rc = sqlite3_prepare_v2 (self->db, statements[id], -1, &self->stmts[id], NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, rc, _("Could not prepare a database query"), error);
      return NULL;
    }

  return self->stmts[id];
}

static void
rollback (TcStore *self)
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
static gboolean
write_failed (TcStore      *self,
              sqlite3_stmt *stmt,
              int           rc,
              const char   *what,
              GError      **error)
{
  g_autoptr(GError) local = NULL;

  set_db_error (self, rc, what, &local);
  if (stmt != NULL)
    sqlite3_reset (stmt);
  /* SQLite may have rolled back by itself already. */
  self->generation++;
  rollback (self);

  if (self->batch_error == NULL)
    self->batch_error = g_error_copy (local);
  /* A constraint is the caller's mistake, not a store that fails. */
  if ((rc & 0xff) != SQLITE_CONSTRAINT)
    set_failure (self, local->message);

  g_propagate_error (error, g_steal_pointer (&local));
  return FALSE;
}

/* A write after a failed one in the same batch fails the same way. */
static gboolean
check_batch (TcStore  *self,
             GError  **error)
{
  if (self->batch_error == NULL)
    return TRUE;

  g_propagate_error (error, g_error_copy (self->batch_error));
  return FALSE;
}

static gboolean begin_write (TcStore *self, GError **error);

/* For the store's other parts (tc-store-transfers.c). */
sqlite3 *
_tc_store_get_db (TcStore *self)
{
  return self->db;
}

void
_tc_store_set_error (TcStore     *self,
                     int          rc,
                     const char  *what,
                     GError     **error)
{
  set_db_error (self, rc, what, error);
}

/* For the store's other files (tc-store-transfers.c): the same batch
 * rules as the writes here. A write after a failed one fails too. */
gboolean
_tc_store_begin_write (TcStore  *self,
                       GError  **error)
{
  return check_batch (self, error) && begin_write (self, error);
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
  rollback (self);
}

static gboolean
begin_write (TcStore  *self,
             GError  **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  if (self->db != NULL && !sqlite3_get_autocommit (self->db))
    return TRUE;

  if (!(stmt = get_stmt (self, STMT_BEGIN, error)))
    return FALSE;

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    return write_failed (self, stmt, rc, _("Could not start a database transaction"), error);

  return TRUE;
}

/* Begins the transaction if needed and hands out the statement; on failure
 * everything is rolled back. */
static StoreStmt *
prepare_write (TcStore  *self,
               StmtId    id,
               GError  **error)
{
  StoreStmt *stmt;

  if (!check_batch (self, error) || !begin_write (self, error))
    return NULL;

  if (!(stmt = get_stmt (self, id, error)))
    {
      rollback (self);
      return NULL;
    }

  return stmt;
}

static gboolean
step_write (TcStore      *self,
            sqlite3_stmt *stmt,
            const char   *what,
            GError      **error)
{
  int rc = sqlite3_step (stmt);

  if (rc != SQLITE_DONE)
    return write_failed (self, stmt, rc, what, error);

  return TRUE;
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *text)
{
  /* Bindings are cleared before the caller's strings go away. */
  sqlite3_bind_text (stmt, index, text, -1, SQLITE_STATIC);
}

static const char *
column_text (sqlite3_stmt *stmt,
             int           column)
{
  return (const char *) sqlite3_column_text (stmt, column);
}

static gint64
date_to_usec (GDateTime *date)
{
  return g_date_time_to_unix (date) * G_USEC_PER_SEC + g_date_time_get_microsecond (date);
}

static GDateTime *
date_from_usec (gint64 usec)
{
  g_autoptr(GDateTime) base = NULL;
  gint64 seconds = usec / G_USEC_PER_SEC;
  gint64 rest = usec % G_USEC_PER_SEC;

  if (rest < 0)
    {
      seconds--;
      rest += G_USEC_PER_SEC;
    }

  base = g_date_time_new_from_unix_utc (seconds);
  if (base == NULL)
    return NULL;

  return g_date_time_add (base, rest);
}

static void
bind_date (sqlite3_stmt *stmt,
           int           index,
           GDateTime    *date)
{
  if (date == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_int64 (stmt, index, date_to_usec (date));
}

static const char *
direction_to_string (TcMessageDirection direction)
{
  return direction == TC_MESSAGE_DIRECTION_OUTGOING ? "outgoing" : "incoming";
}

static TcMessage *
message_from_row (sqlite3_stmt *stmt)
{
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GDateTime) received_date = NULL;
  TcMessageDirection direction;
  TcMessageState state;
  const char *text = column_text (stmt, 2);

  direction = g_strcmp0 (column_text (stmt, 3), "outgoing") == 0 ?
              TC_MESSAGE_DIRECTION_OUTGOING : TC_MESSAGE_DIRECTION_INCOMING;

  if (!tc_message_state_from_string (column_text (stmt, 4), &state))
    {
      g_warning ("Unknown message state “%s” in the database", column_text (stmt, 4));
      state = direction == TC_MESSAGE_DIRECTION_OUTGOING ?
              TC_MESSAGE_STATE_FAILED : TC_MESSAGE_STATE_RECEIVED;
    }

  date = date_from_usec (sqlite3_column_int64 (stmt, 5));
  if (sqlite3_column_type (stmt, 6) != SQLITE_NULL)
    received_date = date_from_usec (sqlite3_column_int64 (stmt, 6));

  return tc_message_new (column_text (stmt, 0),
                         column_text (stmt, 1),
                         text != NULL ? text : "",
                         direction, date, received_date, state);
}

/* Runs a query returning messages; NULL on error. */
static GPtrArray *
collect_messages (TcStore       *self,
                  sqlite3_stmt  *stmt,
                  GError       **error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (messages, message_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, rc, _("Could not read messages"), error);
      return NULL;
    }

  return g_steal_pointer (&messages);
}

/* For queries with one integer answer and no way to report an error. */
static gint64
query_count (TcStore    *self,
             StmtId      id,
             const char *peer)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  if (!(stmt = get_stmt (self, id, &error)))
    {
      g_warning ("%s", error->message);
      return 0;
    }

  bind_text (stmt, 1, peer);
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      set_db_error (self, rc, _("Could not count messages"), &error);
      g_warning ("%s", error->message);
      return 0;
    }

  return sqlite3_column_int64 (stmt, 0);
}

static int
read_user_version (TcStore  *self,
                   GError  **error)
{
  sqlite3_stmt *stmt = NULL;
  int version = -1;
  int rc;

  rc = sqlite3_prepare_v2 (self->db, "PRAGMA user_version", -1, &stmt, NULL);
  if (rc == SQLITE_OK)
    rc = sqlite3_step (stmt);

  if (rc == SQLITE_ROW)
    version = sqlite3_column_int (stmt, 0);
  else
    set_db_error (self, rc, _("Could not read the database version"), error);

  sqlite3_finalize (stmt);
  return version;
}

static gboolean
exec (TcStore     *self,
      const char  *sql,
      const char  *what,
      GError     **error)
{
  int rc = sqlite3_exec (self->db, sql, NULL, NULL, NULL);

  if (rc != SQLITE_OK)
    {
      set_db_error (self, rc, what, error);
      return FALSE;
    }

  return TRUE;
}

static gboolean
migrate (TcStore  *self,
         GError  **error)
{
  g_autofree char *set_version = NULL;
  int version;

  if (!exec (self, "BEGIN IMMEDIATE", _("Could not start a database transaction"), error))
    return FALSE;

  /* Read again inside the transaction: it is the one that counts. */
  version = read_user_version (self, error);
  if (version < 0)
    goto failed;

  for (int i = version; i < SCHEMA_VERSION; i++)
    {
      g_debug ("Upgrading the database schema to version %d", i + 1);
      if (!exec (self, migrations[i], _("Could not upgrade the database"), error))
        goto failed;
    }

  set_version = g_strdup_printf ("PRAGMA user_version = %d", SCHEMA_VERSION);
  if (!exec (self, set_version, _("Could not upgrade the database"), error) ||
      !exec (self, "COMMIT", _("Could not upgrade the database"), error))
    goto failed;

  return TRUE;

failed:
  rollback (self);
  return FALSE;
}

static void
store_close (TcStore *self)
{
  for (guint i = 0; i < N_STMTS; i++)
    g_clear_pointer (&self->stmts[i], sqlite3_finalize);
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

  store_close (self);

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
tc_store_init (TcStore *self)
{
}

/* `KEY "x'<64 hex digits>'"`, SQLCipher's raw-key form: the key is used as
 * it is, without SQLCipher's own PBKDF2 (the profile key already comes from
 * Argon2id). In locked memory, wiped by sodium_free(). */
static char *
dup_key_clause (const char   *prefix,
                const guint8  key[TC_STORE_KEY_LEN])
{
  static const char head[] = " \"x'";
  static const char tail[] = "'\"";
  gsize prefix_len = strlen (prefix);
  gsize len = prefix_len + sizeof head - 1 + 2 * TC_STORE_KEY_LEN + sizeof tail;
  char *clause = sodium_malloc (len);

  if (clause == NULL)
    return NULL;

  memcpy (clause, prefix, prefix_len);
  memcpy (clause + prefix_len, head, sizeof head - 1);
  sodium_bin2hex (clause + prefix_len + sizeof head - 1, 2 * TC_STORE_KEY_LEN + 1,
                  key, TC_STORE_KEY_LEN);
  memcpy (clause + prefix_len + sizeof head - 1 + 2 * TC_STORE_KEY_LEN, tail, sizeof tail);

  return clause;
}

static gboolean
store_connect (TcStore       *self,
               const char    *path,
               const guint8  *key,
               GError       **error)
{
  int version;
  int rc;

  rc = sqlite3_open_v2 (path, &self->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
  if (rc != SQLITE_OK)
    {
      set_db_error (self, rc, _("Could not open the database"), error);
      return FALSE;
    }

  sqlite3_extended_result_codes (self->db, TRUE);
  sqlite3_busy_timeout (self->db, BUSY_TIMEOUT_MS);

  if (key != NULL)
    {
      char *pragma = dup_key_clause ("PRAGMA key =", key);

      if (pragma == NULL)
        {
          g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                               _("Out of memory for the database key"));
          return FALSE;
        }

      rc = sqlite3_exec (self->db, pragma, NULL, NULL, NULL);
      sodium_free (pragma);
      /* 4 KiB pages like plain SQLite's (SQLCipher 3 has 1 KiB): a quarter of
       * the pages to decrypt and authenticate. Part of the file format. */
      if (rc == SQLITE_OK)
        rc = sqlite3_exec (self->db, "PRAGMA cipher_page_size = " G_STRINGIFY (CIPHER_PAGE_SIZE),
                           NULL, NULL, NULL);
      if (rc != SQLITE_OK)
        {
          set_db_error (self, rc, _("Could not set the database key"), error);
          return FALSE;
        }
    }

  /* Check the version before anything writes to the file. With a key this
   * is the first read, so a key that does not fit fails here (NOTADB). */
  version = read_user_version (self, error);
  if (version < 0)
    return FALSE;

  if (version > SCHEMA_VERSION)
    {
      g_set_error (error, TC_STORE_ERROR, TC_STORE_ERROR_NEWER,
                   _("This profile was written by a newer version of TORChat "
                     "(database version %d; this version knows up to %d). "
                     "Update TORChat to open it."),
                   version, SCHEMA_VERSION);
      return FALSE;
    }

  /* synchronous=FULL: a receipt promises the message is on disk.
   * secure_delete: deleted rows are overwritten, not left in free pages.
   * temp_store: sorts and temporary tables never reach a file.
   * cache_size: 16 MiB of pages kept (decrypted, for an encrypted profile)
   * instead of 2 MiB, so that paging through history rarely goes to the
   * file, and so through SQLCipher's decryption. */
  if (!exec (self,
             "PRAGMA journal_mode = WAL;"
             "PRAGMA synchronous = FULL;"
             "PRAGMA secure_delete = ON;"
             "PRAGMA temp_store = MEMORY;"
             "PRAGMA cache_size = -16384;"
             "PRAGMA wal_autocheckpoint = " G_STRINGIFY (WAL_AUTOCHECKPOINT_PAGES) ";"
             /* The log file itself back to at most 8 MiB once reused. */
             "PRAGMA journal_size_limit = 8388608;"
             "PRAGMA foreign_keys = ON;",
             _("Could not configure the database"), error))
    return FALSE;

  if (version < SCHEMA_VERSION && !migrate (self, error))
    return FALSE;

  self->schema_version = SCHEMA_VERSION;

  /* Ids of deleted messages past their window. */
  if (!_tc_store_prune_seen (self, g_get_real_time () / G_USEC_PER_SEC, error) ||
      !tc_store_commit (self, error))
    return FALSE;

  return TRUE;
}

TcStore *
tc_store_open (const char  *path,
               GError     **error)
{
  return tc_store_open_encrypted (path, NULL, error);
}

TcStore *
tc_store_open_encrypted (const char    *path,
                         const guint8  *key,
                         GError       **error)
{
  g_autoptr(TcStore) self = NULL;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                           _("Could not initialise libsodium"));
      return NULL;
    }

  self = g_object_new (TC_TYPE_STORE, NULL);
  if (!store_connect (self, path, key, error))
    return NULL;

  return g_steal_pointer (&self);
}

gboolean
_tc_store_export_encrypted (TcStore       *self,
                            const char    *path,
                            const guint8   key[TC_STORE_KEY_LEN],
                            GError       **error)
{
  g_autofree char *attach_head = NULL;
  g_autofree char *version = NULL;
  char *attach;
  gboolean ok;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);
  g_return_val_if_fail (key != NULL, FALSE);

  if (!tc_store_commit (self, error))
    return FALSE;

  {
    char *quoted = sqlite3_mprintf ("ATTACH DATABASE %Q AS encrypted KEY", path);

    attach_head = g_strdup (quoted);
    sqlite3_free (quoted);
  }

  if (!(attach = dup_key_clause (attach_head, key)))
    {
      g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                           _("Out of memory for the database key"));
      return FALSE;
    }

  ok = exec (self, attach, _("Could not create the encrypted database"), error);
  sodium_free (attach);
  if (ok)
    ok = exec (self, "PRAGMA encrypted.cipher_page_size = " G_STRINGIFY (CIPHER_PAGE_SIZE),
               _("Could not create the encrypted database"), error);
  if (!ok)
    exec (self, "DETACH DATABASE encrypted", NULL, NULL);
  if (!ok)
    return FALSE;

  /* sqlcipher_export() copies schema and rows; the version goes by hand. */
  version = g_strdup_printf ("PRAGMA encrypted.user_version = %d", self->schema_version);
  ok = exec (self, "SELECT sqlcipher_export('encrypted')",
             _("Could not write the encrypted database"), error) &&
       exec (self, version, _("Could not write the encrypted database"), error);

  if (!exec (self, "DETACH DATABASE encrypted", _("Could not close the encrypted database"),
             ok ? error : NULL))
    ok = FALSE;

  return ok;
}

gboolean
_tc_store_checkpoint (TcStore  *self,
                      GError  **error)
{
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);

  if (!tc_store_commit (self, error))
    return FALSE;

  return exec (self, "PRAGMA wal_checkpoint(TRUNCATE)",
               _("Could not write the database’s log back"), error);
}

void
_tc_store_close (TcStore *self)
{
  g_return_if_fail (TC_IS_STORE (self));

  store_close (self);
}

gboolean
_tc_store_reopen (TcStore       *self,
                  const char    *path,
                  const guint8  *key,
                  GError       **error)
{
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  store_close (self);

  return store_connect (self, path, key, error);
}

int
tc_store_get_schema_version (TcStore *self)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);

  return self->schema_version;
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
      rollback (self);
      g_propagate_error (error, g_steal_pointer (&self->batch_error));
      return FALSE;
    }

  if (self->db == NULL || sqlite3_get_autocommit (self->db))
    return TRUE;

  if (!(stmt = get_stmt (self, STMT_COMMIT, error)))
    {
      rollback (self);
      return FALSE;
    }

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_DONE)
    {
      gboolean ok = write_failed (self, stmt, rc, _("Could not store the changes"), error);

      /* Reported here already: the next batch starts clean. */
      g_clear_error (&self->batch_error);
      return ok;
    }

  set_failure (self, NULL);
  schedule_checkpoint (self);
  return TRUE;
}

void
tc_store_rollback (TcStore *self)
{
  g_return_if_fail (TC_IS_STORE (self));

  g_clear_error (&self->batch_error);
  rollback (self);
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

GPtrArray *
tc_store_load_contacts (TcStore  *self,
                        GError  **error)
{
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);

  if (!(stmt = get_stmt (self, STMT_LOAD_CONTACTS, error)))
    return NULL;

  contacts = g_ptr_array_new_with_free_func (g_object_unref);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(TcContact) contact = tc_contact_new (column_text (stmt, 0));
      TcContactState state;

      if (!tc_contact_state_from_string (column_text (stmt, 5), &state))
        {
          /* Let the user decide again rather than lose the contact. */
          g_warning ("Unknown contact state “%s” in the database", column_text (stmt, 5));
          state = TC_CONTACT_STATE_PENDING;
        }

      tc_contact_set_nickname (contact, column_text (stmt, 1));
      tc_contact_set_name (contact, column_text (stmt, 2));
      tc_contact_set_profile_text (contact, column_text (stmt, 3));
      tc_contact_set_greeting (contact, column_text (stmt, 4));
      tc_contact_set_state (contact, state);
      tc_contact_set_answer_pending (contact, sqlite3_column_int (stmt, 6) != 0);
      tc_contact_set_unread (contact, (guint) MAX (sqlite3_column_int64 (stmt, 7), 0));
      tc_contact_set_last_activity (contact, sqlite3_column_int64 (stmt, 8));

      g_ptr_array_add (contacts, g_steal_pointer (&contact));
    }

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, rc, _("Could not read the contacts"), error);
      return NULL;
    }

  return g_steal_pointer (&contacts);
}

static void
bind_contact (sqlite3_stmt *stmt,
              TcContact    *contact)
{
  bind_text (stmt, 1, tc_contact_get_address (contact));
  bind_text (stmt, 2, tc_contact_get_nickname (contact));
  bind_text (stmt, 3, tc_contact_get_name (contact));
  bind_text (stmt, 4, tc_contact_get_profile_text (contact));
  bind_text (stmt, 5, tc_contact_get_greeting (contact));
  bind_text (stmt, 6, tc_contact_state_to_string (tc_contact_get_state (contact)));
  sqlite3_bind_int (stmt, 7, tc_contact_get_answer_pending (contact) ? 1 : 0);
  sqlite3_bind_int64 (stmt, 9, tc_contact_get_unread (contact));
}

gboolean
tc_store_save_contact (TcStore    *self,
                       TcContact  *contact,
                       GError    **error)
{
  g_autoptr(StoreStmt) update = NULL;
  g_autoptr(StoreStmt) insert = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (TC_IS_CONTACT (contact), FALSE);

  if (!(update = prepare_write (self, STMT_UPDATE_CONTACT, error)))
    return FALSE;

  bind_contact (update, contact);
  if (!step_write (self, update, _("Could not save the contact"), error))
    return FALSE;

  if (sqlite3_changes (self->db) > 0)
    return TRUE;

  if (!(insert = prepare_write (self, STMT_INSERT_CONTACT, error)))
    return FALSE;

  bind_contact (insert, contact);
  sqlite3_bind_int64 (insert, 8, g_get_real_time ());

  return step_write (self, insert, _("Could not save the contact"), error);
}

gboolean
tc_store_delete_contact (TcStore     *self,
                         const char  *address,
                         GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  if (!(stmt = prepare_write (self, STMT_DELETE_CONTACT, error)))
    return FALSE;

  bind_text (stmt, 1, address);

  return step_write (self, stmt, _("Could not delete the contact"), error);
}

static void
bind_message (sqlite3_stmt   *stmt,
              TcMessage      *message,
              TcMessageState  state,
              GDateTime      *received_date)
{
  bind_text (stmt, 1, tc_message_get_id (message));
  bind_text (stmt, 2, tc_message_get_peer (message));
  bind_text (stmt, 3, tc_message_get_text (message));
  bind_text (stmt, 4, direction_to_string (tc_message_get_direction (message)));
  bind_text (stmt, 5, tc_message_state_to_string (state));
  bind_date (stmt, 6, tc_message_get_date (message));
  bind_date (stmt, 7, received_date);
}

static gboolean
insert_message (TcStore         *self,
                TcMessage       *message,
                TcMessageState   state,
                GDateTime       *received_date,
                GError         **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  if (!(stmt = prepare_write (self, STMT_INSERT_MESSAGE, error)))
    return FALSE;

  bind_message (stmt, message, state, received_date);

  return step_write (self, stmt, _("Could not store the message"), error);
}

gboolean
tc_store_add_outgoing (TcStore    *self,
                       TcMessage  *message,
                       GError    **error)
{
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (TC_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (tc_message_get_direction (message) == TC_MESSAGE_DIRECTION_OUTGOING, FALSE);

  return insert_message (self, message,
                         tc_message_get_state (message),
                         tc_message_get_received_date (message),
                         error);
}

gboolean
tc_store_add_incoming (TcStore    *self,
                       TcMessage  *message,
                       gboolean   *duplicate,
                       GError    **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GDateTime) received_date = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (TC_IS_MESSAGE (message), FALSE);
  g_return_val_if_fail (tc_message_get_direction (message) == TC_MESSAGE_DIRECTION_INCOMING, FALSE);

  if (duplicate != NULL)
    *duplicate = FALSE;

  /* Deleted from the history not long ago? */
  if (!check_batch (self, error) || !(stmt = get_stmt (self, STMT_CHECK_SEEN, error)))
    return FALSE;

  bind_text (stmt, 1, tc_message_get_peer (message));
  bind_text (stmt, 2, tc_message_get_id (message));
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return write_failed (self, stmt, rc, _("Could not store the message"), error);
  if (rc == SQLITE_ROW)
    {
      if (duplicate != NULL)
        *duplicate = TRUE;
      return TRUE;
    }
  g_clear_pointer (&stmt, store_stmt_release);

  if (tc_message_get_received_date (message) != NULL)
    received_date = g_date_time_ref (tc_message_get_received_date (message));
  else
    received_date = g_date_time_new_now_utc ();

  if (!(stmt = prepare_write (self, STMT_INSERT_INCOMING, error)))
    return FALSE;

  bind_message (stmt, message, TC_MESSAGE_STATE_RECEIVED, received_date);
  if (!step_write (self, stmt, _("Could not store the message"), error))
    return FALSE;

  /* Still in the history. */
  if (sqlite3_changes (self->db) == 0)
    {
      if (duplicate != NULL)
        *duplicate = TRUE;
      return TRUE;
    }

  /* The caller shows this object: make it say what is stored. */
  tc_message_set_received_date (message, received_date);
  tc_message_set_state (message, TC_MESSAGE_STATE_RECEIVED);

  return TRUE;
}

gboolean
tc_store_mark_delivered (TcStore     *self,
                         const char  *peer,
                         const char  *id,
                         GDateTime   *date,
                         gboolean    *changed,
                         GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GDateTime) now = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (changed != NULL)
    *changed = FALSE;

  if (date == NULL)
    date = now = g_date_time_new_now_utc ();

  if (!(stmt = prepare_write (self, STMT_MARK_DELIVERED, error)))
    return FALSE;

  bind_text (stmt, 1, peer);
  bind_text (stmt, 2, id);
  bind_date (stmt, 3, date);

  if (!step_write (self, stmt, _("Could not store the receipt"), error))
    return FALSE;

  if (changed != NULL)
    *changed = sqlite3_changes (self->db) > 0;

  return TRUE;
}

gboolean
tc_store_set_message_state (TcStore         *self,
                            const char      *peer,
                            const char      *id,
                            TcMessageState   state,
                            GError         **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  TcMessageDirection direction;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  /* Only incoming messages are "received"; every other state is outgoing. */
  direction = state == TC_MESSAGE_STATE_RECEIVED ?
              TC_MESSAGE_DIRECTION_INCOMING : TC_MESSAGE_DIRECTION_OUTGOING;

  if (!(stmt = prepare_write (self, STMT_SET_STATE, error)))
    return FALSE;

  bind_text (stmt, 1, peer);
  bind_text (stmt, 2, id);
  bind_text (stmt, 3, direction_to_string (direction));
  bind_text (stmt, 4, tc_message_state_to_string (state));

  if (!step_write (self, stmt, _("Could not store the message state"), error))
    return FALSE;

  /* Nothing was written, so the rest of the transaction stays. */
  if (sqlite3_changes (self->db) == 0)
    {
      g_set_error (error, TC_STORE_ERROR, TC_STORE_ERROR_NOT_FOUND,
                   _("No such message"));
      return FALSE;
    }

  return TRUE;
}

gboolean
tc_store_mark_sent (TcStore     *self,
                    const char  *peer,
                    GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  if (!(stmt = prepare_write (self, STMT_MARK_SENT, error)))
    return FALSE;

  bind_text (stmt, 1, peer);

  return step_write (self, stmt, _("Could not store the message state"), error);
}

GPtrArray *
tc_store_list_outbox (TcStore     *self,
                      const char  *peer,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (peer != NULL, NULL);

  if (!(stmt = get_stmt (self, STMT_LIST_OUTBOX, error)))
    return NULL;

  bind_text (stmt, 1, peer);

  return collect_messages (self, stmt, error);
}

gboolean
tc_store_fail_outbox (TcStore     *self,
                      const char  *peer,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  if (!(stmt = prepare_write (self, STMT_FAIL_OUTBOX, error)))
    return FALSE;

  bind_text (stmt, 1, peer);

  return step_write (self, stmt, _("Could not store the message state"), error);
}

guint
tc_store_count_outbox (TcStore    *self,
                       const char *peer)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);
  g_return_val_if_fail (peer != NULL, 0);

  return (guint) query_count (self, STMT_COUNT_OUTBOX, peer);
}

guint
tc_store_count_messages (TcStore    *self,
                         const char *peer)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);
  g_return_val_if_fail (peer != NULL, 0);

  return (guint) query_count (self, STMT_COUNT_MESSAGES, peer);
}

GPtrArray *
tc_store_list_messages (TcStore     *self,
                        const char  *peer,
                        guint        offset,
                        guint        limit,
                        GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (peer != NULL, NULL);

  if (!(stmt = get_stmt (self, STMT_LIST_MESSAGES, error)))
    return NULL;

  bind_text (stmt, 1, peer);
  sqlite3_bind_int64 (stmt, 2, limit);
  sqlite3_bind_int64 (stmt, 3, offset);

  return collect_messages (self, stmt, error);
}

GPtrArray *
tc_store_list_page (TcStore          *self,
                    const char       *peer,
                    TcStorePageFrom   from,
                    gint64            where,
                    guint             limit,
                    gint64           *first_key,
                    gint64           *last_key,
                    GError          **error)
{
  static const StmtId ids[] = {
    [TC_STORE_PAGE_AFTER] = STMT_PAGE_AFTER,
    [TC_STORE_PAGE_BEFORE] = STMT_PAGE_BEFORE,
    [TC_STORE_PAGE_FROM_START] = STMT_PAGE_FROM_START,
    [TC_STORE_PAGE_FROM_END] = STMT_PAGE_FROM_END,
  };
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(StoreStmt) stmt = NULL;
  gboolean backwards = from == TC_STORE_PAGE_BEFORE || from == TC_STORE_PAGE_FROM_END;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (from <= TC_STORE_PAGE_FROM_END, NULL);

  if (!(stmt = get_stmt (self, ids[from], error)))
    return NULL;

  bind_text (stmt, 1, peer);
  sqlite3_bind_int64 (stmt, 2, where);
  sqlite3_bind_int64 (stmt, 3, limit);

  messages = g_ptr_array_new_with_free_func (g_object_unref);
  keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 key = sqlite3_column_int64 (stmt, 7);

      g_ptr_array_add (messages, message_from_row (stmt));
      g_array_append_val (keys, key);
    }

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, rc, _("Could not read messages"), error);
      return NULL;
    }

  /* Oldest first, whichever way it was read. */
  if (backwards)
    {
      for (guint i = 0, j = messages->len; i + 1 < j; i++, j--)
        {
          gpointer m = messages->pdata[i];
          gint64 k = g_array_index (keys, gint64, i);

          messages->pdata[i] = messages->pdata[j - 1];
          messages->pdata[j - 1] = m;
          g_array_index (keys, gint64, i) = g_array_index (keys, gint64, j - 1);
          g_array_index (keys, gint64, j - 1) = k;
        }
    }

  if (first_key != NULL)
    *first_key = keys->len > 0 ? g_array_index (keys, gint64, 0) : -1;
  if (last_key != NULL)
    *last_key = keys->len > 0 ? g_array_index (keys, gint64, keys->len - 1) : -1;

  return g_steal_pointer (&messages);
}

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

GPtrArray *
tc_store_search (TcStore     *self,
                 const char  *text,
                 const char  *peer,
                 guint        limit,
                 GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autofree char *match = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (!(match = build_match (text)))
    return g_ptr_array_new_with_free_func (g_object_unref);

  if (!(stmt = get_stmt (self, peer != NULL ? STMT_SEARCH_PEER : STMT_SEARCH, error)))
    return NULL;

  bind_text (stmt, 1, match);
  sqlite3_bind_int64 (stmt, 2, limit);
  if (peer != NULL)
    bind_text (stmt, 3, peer);

  return collect_messages (self, stmt, error);
}

TcMessage *
tc_store_lookup_message (TcStore    *self,
                         const char *peer,
                         const char *id)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_autoptr(GError) error = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  if (!(stmt = get_stmt (self, STMT_LOOKUP_MESSAGE, &error)))
    {
      g_warning ("%s", error->message);
      return NULL;
    }

  bind_text (stmt, 1, peer);
  bind_text (stmt, 2, id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return message_from_row (stmt);

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, rc, _("Could not read a message"), &error);
      g_warning ("%s", error->message);
    }

  return NULL;
}

/* With @remember, the ids of the deleted incoming messages go to `seen`
 * for SEEN_WINDOW_S, so that a resend is still recognised. */
static gboolean
delete_messages (TcStore     *self,
                 const char  *peer,
                 gboolean     remember,
                 GError     **error)
{
  g_autoptr(StoreStmt) seen = NULL;
  g_autoptr(StoreStmt) stmt = NULL;

  if (remember)
    {
      if (!(seen = prepare_write (self, STMT_REMEMBER_SEEN, error)))
        return FALSE;

      bind_text (seen, 1, peer);
      sqlite3_bind_int64 (seen, 2, g_get_real_time () / G_USEC_PER_SEC + SEEN_WINDOW_S);
      if (!step_write (self, seen, _("Could not delete the history"), error))
        return FALSE;
    }

  if (!(stmt = prepare_write (self, STMT_DELETE_HISTORY, error)))
    return FALSE;

  bind_text (stmt, 1, peer);

  return step_write (self, stmt, _("Could not delete the history"), error);
}

gboolean
tc_store_delete_history (TcStore     *self,
                         const char  *peer,
                         GError     **error)
{
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  return delete_messages (self, peer, TRUE, error);
}

gboolean
_tc_store_prune_seen (TcStore  *self,
                      gint64    now_s,
                      GError  **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);

  if (!(stmt = prepare_write (self, STMT_PRUNE_SEEN, error)))
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, now_s);

  return step_write (self, stmt, _("Could not forget old message ids"), error);
}

guint
_tc_store_count_seen (TcStore    *self,
                      const char *peer)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);

  return (guint) query_count (self, STMT_COUNT_SEEN, peer);
}

gboolean
tc_store_forget_peer (TcStore     *self,
                      const char  *peer,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  g_autoptr(StoreStmt) optimize = NULL;

  if (!delete_messages (self, peer, FALSE, error) ||
      !tc_store_delete_contact (self, peer, error) ||
      !(stmt = prepare_write (self, STMT_DELETE_SEEN, error)))
    return FALSE;

  bind_text (stmt, 1, peer);

  if (!step_write (self, stmt, _("Could not delete the history"), error))
    return FALSE;

  /* The search index keeps deleted entries in older segments until they
   * are merged. */
  if (!(optimize = prepare_write (self, STMT_FTS_OPTIMIZE, error)))
    return FALSE;

  return step_write (self, optimize, _("Could not delete the history"), error);
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
    set_db_error (self, rc, _("Could not write the changes into the database"), error);
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

  if (!(stmt = get_stmt (self, STMT_GET_SETTING, &error)))
    {
      g_warning ("%s", error->message);
      return NULL;
    }

  bind_text (stmt, 1, key);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return g_strdup (column_text (stmt, 0));

  if (rc != SQLITE_DONE)
    {
      set_db_error (self, rc, _("Could not read a setting"), &error);
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

  if (!(stmt = prepare_write (self, value != NULL ? STMT_SET_SETTING : STMT_DELETE_SETTING, error)))
    return FALSE;

  bind_text (stmt, 1, key);
  if (value != NULL)
    bind_text (stmt, 2, value);

  return step_write (self, stmt, _("Could not save a setting"), error);
}

gboolean
_tc_store_exec (TcStore     *self,
                const char  *sql,
                GError     **error)
{
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (sql != NULL, FALSE);

  return exec (self, sql, "Could not run SQL", error);
}
