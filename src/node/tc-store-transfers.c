/* tc-store-transfers.c: the transfers table (schema step 2 in tc-store-open.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-store-private.h"
#include "tc-store-transfers.h"

#define COLUMNS "peer, id, direction, name, size, sha256, mime, done, state, error," \
                " path, directory, created"

/* Statements are few and rare (a state change), so they are prepared per
 * call rather than cached. */
static sqlite3_stmt *
prepare (TcStore     *self,
         const char  *sql,
         GError     **error)
{
  sqlite3_stmt *stmt = NULL;
  int rc = sqlite3_prepare_v2 (_tc_store_get_db (self), sql, -1, &stmt, NULL);

  if (rc != SQLITE_OK)
    {
      _tc_store_set_error (self, rc, _("Could not prepare a database query"), error);
      return NULL;
    }

  return stmt;
}

static const char *
text (sqlite3_stmt *stmt,
      int           column)
{
  return (const char *) sqlite3_column_text (stmt, column);
}

GPtrArray *
tc_store_load_transfers (TcStore  *self,
                         GError  **error)
{
  g_autoptr(GPtrArray) transfers = g_ptr_array_new_with_free_func (g_object_unref);
  sqlite3_stmt *stmt;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);

  stmt = prepare (self, "SELECT " COLUMNS " FROM transfers ORDER BY created, id", error);
  if (stmt == NULL)
    return NULL;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(TcTransfer) transfer = NULL;
      TcMessageDirection direction;
      TcTransferState state;

      direction = g_strcmp0 (text (stmt, 2), "outgoing") == 0 ?
                  TC_MESSAGE_DIRECTION_OUTGOING : TC_MESSAGE_DIRECTION_INCOMING;
      if (!tc_transfer_state_from_string (text (stmt, 8), &state))
        {
          g_warning ("Unknown transfer state “%s” in the database", text (stmt, 8));
          state = TC_TRANSFER_STATE_FAILED;
        }

      transfer = tc_transfer_new (text (stmt, 1), direction, text (stmt, 0));
      tc_transfer_set_name (transfer, text (stmt, 3));
      tc_transfer_set_size (transfer, sqlite3_column_int64 (stmt, 4));
      tc_transfer_set_sha256 (transfer, text (stmt, 5));
      tc_transfer_set_mime (transfer, text (stmt, 6));
      tc_transfer_set_done (transfer, sqlite3_column_int64 (stmt, 7));
      tc_transfer_set_state (transfer, state);
      tc_transfer_set_error (transfer, text (stmt, 9));
      tc_transfer_set_path (transfer, text (stmt, 10));
      tc_transfer_set_directory (transfer, text (stmt, 11));
      tc_transfer_set_created (transfer, sqlite3_column_int64 (stmt, 12));
      g_ptr_array_add (transfers, g_steal_pointer (&transfer));
    }

  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not read the transfers"), error);
      sqlite3_finalize (stmt);
      return NULL;
    }

  sqlite3_finalize (stmt);
  return g_steal_pointer (&transfers);
}

static void
bind_text (sqlite3_stmt *stmt,
           int           index,
           const char   *value)
{
  sqlite3_bind_text (stmt, index, value, -1, SQLITE_TRANSIENT);
}

static gboolean
step_write (TcStore       *self,
            sqlite3_stmt  *stmt,
            GError       **error)
{
  int rc = sqlite3_step (stmt);

  sqlite3_finalize (stmt);
  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not store a transfer"), error);
      _tc_store_rollback (self);
      return FALSE;
    }

  return TRUE;
}

gboolean
tc_store_save_transfer (TcStore     *self,
                        TcTransfer  *transfer,
                        GError     **error)
{
  sqlite3_stmt *stmt;
  gboolean outgoing;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (TC_IS_TRANSFER (transfer), FALSE);

  if (!_tc_store_begin_write (self, error))
    return FALSE;

  /* INSERT OR REPLACE, not an upsert: SQLite 3.15 has no ON CONFLICT DO. */
  stmt = prepare (self,
                  "INSERT OR REPLACE INTO transfers (" COLUMNS ")"
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
                  error);
  if (stmt == NULL)
    {
      _tc_store_rollback (self);
      return FALSE;
    }

  outgoing = tc_transfer_get_direction (transfer) == TC_MESSAGE_DIRECTION_OUTGOING;
  bind_text (stmt, 1, tc_transfer_get_peer (transfer));
  bind_text (stmt, 2, tc_transfer_get_id (transfer));
  bind_text (stmt, 3, outgoing ? "outgoing" : "incoming");
  bind_text (stmt, 4, tc_transfer_get_name (transfer) ? tc_transfer_get_name (transfer) : "");
  sqlite3_bind_int64 (stmt, 5, tc_transfer_get_size (transfer));
  bind_text (stmt, 6, tc_transfer_get_sha256 (transfer));
  bind_text (stmt, 7, tc_transfer_get_mime (transfer) ? tc_transfer_get_mime (transfer) :
                      "application/octet-stream");
  sqlite3_bind_int64 (stmt, 8, tc_transfer_get_done (transfer));
  bind_text (stmt, 9, tc_transfer_state_to_string (tc_transfer_get_state (transfer)));
  bind_text (stmt, 10, tc_transfer_get_error (transfer));
  bind_text (stmt, 11, tc_transfer_get_path (transfer));
  bind_text (stmt, 12, tc_transfer_get_directory (transfer));
  sqlite3_bind_int64 (stmt, 13, tc_transfer_get_created (transfer));

  return step_write (self, stmt, error);
}

gboolean
tc_store_delete_transfers (TcStore     *self,
                           const char  *peer,
                           GError     **error)
{
  sqlite3_stmt *stmt;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);

  if (!_tc_store_begin_write (self, error))
    return FALSE;

  if (!(stmt = prepare (self, "DELETE FROM transfers WHERE peer = ?1", error)))
    {
      _tc_store_rollback (self);
      return FALSE;
    }

  bind_text (stmt, 1, peer);
  return step_write (self, stmt, error);
}
