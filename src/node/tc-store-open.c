/* tc-store-open.c: opening the database: key, settings, schema steps
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <sodium.h>
#include <sqlite3.h>

#include "tc-store-private.h"

#define BUSY_TIMEOUT_MS 5000
#define CIPHER_PAGE_SIZE 4096
/* Past this many pages a commit checkpoints at once (8 MiB of 4 KiB pages;
 * SQLite's default is 1,000): more than a burst of 10,000 messages. */
#define WAL_AUTOCHECKPOINT_PAGES 2000

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
  /* 6: the search index off the path of a burst. New rows are indexed in
   * batches when the node is idle (tc-store-search.c), up to the
   * watermark `search_indexed.upto`: rows up to it are in the index, rows
   * above it not yet (a search reads those too). The triggers touch the
   * index only for indexed rows; a delete that leaves no row above the
   * watermark lowers it, so that the ids SQLite hands out next (max + 1)
   * are above it again. */
  "DROP TRIGGER messages_fts_insert;"
  /* The count no longer by INSERT OR IGNORE: the conflict clause of the
   * statement that fires a trigger overrides the trigger's own, and the
   * store's inserts are OR FAIL (no statement journal, see
   * tc-store-messages.c). */
  "DROP TRIGGER message_counts_insert;"
  "CREATE TRIGGER message_counts_insert AFTER INSERT ON messages BEGIN"
  "  INSERT INTO message_counts (peer, n) SELECT NEW.peer, 0"
  "   WHERE NOT EXISTS (SELECT 1 FROM message_counts WHERE peer = NEW.peer);"
  "  UPDATE message_counts SET n = n + 1 WHERE peer = NEW.peer;"
  " END;"
  "DROP TRIGGER messages_fts_delete;"
  "DROP TRIGGER messages_fts_update_before;"
  "DROP TRIGGER messages_fts_update_after;"
  "CREATE TABLE search_indexed (upto INTEGER NOT NULL);"
  "INSERT INTO search_indexed (upto) SELECT coalesce (max (id), 0) FROM messages;"
  "CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages"
  "  WHEN OLD.id <= (SELECT upto FROM search_indexed) BEGIN"
  "  DELETE FROM messages_fts WHERE docid = OLD.id;"
  " END;"
  "CREATE TRIGGER search_indexed_lower AFTER DELETE ON messages"
  "  WHEN (SELECT coalesce (max (id), 0) FROM messages) < (SELECT upto FROM search_indexed) BEGIN"
  "  UPDATE search_indexed SET upto = (SELECT coalesce (max (id), 0) FROM messages);"
  " END;"
  "CREATE TRIGGER messages_fts_update_before BEFORE UPDATE OF text ON messages"
  "  WHEN OLD.id <= (SELECT upto FROM search_indexed) BEGIN"
  "  DELETE FROM messages_fts WHERE docid = OLD.id;"
  " END;"
  "CREATE TRIGGER messages_fts_update_after AFTER UPDATE OF text ON messages"
  "  WHEN NEW.id <= (SELECT upto FROM search_indexed) BEGIN"
  "  INSERT INTO messages_fts (docid, text) VALUES (NEW.id, NEW.text);"
  " END;",
};

#define SCHEMA_VERSION ((int) G_N_ELEMENTS (migrations))

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
    _tc_store_set_error (self, rc, _("Could not read the database version"), error);

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
      _tc_store_set_error (self, rc, what, error);
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
  _tc_store_drop_transaction (self);
  return FALSE;
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
      _tc_store_set_error (self, rc, _("Could not open the database"), error);
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
          _tc_store_set_error (self, rc, _("Could not set the database key"), error);
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

  /* What the last run did not index yet. */
  _tc_store_schedule_indexing (self);

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

gboolean
_tc_store_reopen (TcStore       *self,
                  const char    *path,
                  const guint8  *key,
                  GError       **error)
{
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  _tc_store_close (self);

  return store_connect (self, path, key, error);
}

int
tc_store_get_schema_version (TcStore *self)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);

  return self->schema_version;
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
