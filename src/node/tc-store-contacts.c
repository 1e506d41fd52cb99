/* tc-store-contacts.c: the contacts table
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-store-private.h"

static const char SQL_LOAD_CONTACTS[] =
  "SELECT address, nickname, name, profile_text, greeting, state, answer_pending, unread,"
  /* The newest stored message, found through messages_by_peer. */
  " (SELECT coalesce(m.received_date, m.date) FROM messages m WHERE m.peer = contacts.address"
  "  ORDER BY m.id DESC LIMIT 1)"
  " FROM contacts ORDER BY created, address";

/* An update, then an insert when it changed nothing: SQLite 3.15 (inside
 * SQLCipher) has no UPSERT, and INSERT OR REPLACE would reset `created`. */
static const char SQL_UPDATE_CONTACT[] =
  "UPDATE OR FAIL contacts SET nickname = ?2, name = ?3, profile_text = ?4, greeting = ?5,"
  " state = ?6, answer_pending = ?7, unread = ?9 WHERE address = ?1";

static const char SQL_INSERT_CONTACT[] =
  "INSERT INTO contacts (address, nickname, name, profile_text, greeting, state,"
  "                      answer_pending, created, unread)"
  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)";

static const char SQL_DELETE_CONTACT[] =
  "DELETE FROM contacts WHERE address = ?1";

GPtrArray *
tc_store_load_contacts (TcStore  *self,
                        GError  **error)
{
  g_autoptr(GPtrArray) contacts = NULL;
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);

  if (!(stmt = _tc_store_get_stmt (self, SQL_LOAD_CONTACTS, error)))
    return NULL;

  contacts = g_ptr_array_new_with_free_func (g_object_unref);

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      g_autoptr(TcContact) contact = tc_contact_new (_tc_store_column_text (stmt, 0));
      TcContactState state;

      if (!tc_contact_state_from_string (_tc_store_column_text (stmt, 5), &state))
        {
          /* Let the user decide again rather than lose the contact. */
          g_warning ("Unknown contact state “%s” in the database", _tc_store_column_text (stmt, 5));
          state = TC_CONTACT_STATE_PENDING;
        }

      tc_contact_set_nickname (contact, _tc_store_column_text (stmt, 1));
      tc_contact_set_name (contact, _tc_store_column_text (stmt, 2));
      tc_contact_set_profile_text (contact, _tc_store_column_text (stmt, 3));
      tc_contact_set_greeting (contact, _tc_store_column_text (stmt, 4));
      tc_contact_set_state (contact, state);
      tc_contact_set_answer_pending (contact, sqlite3_column_int (stmt, 6) != 0);
      tc_contact_set_unread (contact, (guint) MAX (sqlite3_column_int64 (stmt, 7), 0));
      tc_contact_set_last_activity (contact, sqlite3_column_int64 (stmt, 8));

      g_ptr_array_add (contacts, g_steal_pointer (&contact));
    }

  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not read the contacts"), error);
      return NULL;
    }

  return g_steal_pointer (&contacts);
}

static void
bind_contact (sqlite3_stmt *stmt,
              TcContact    *contact)
{
  _tc_store_bind_text (stmt, 1, tc_contact_get_address (contact));
  _tc_store_bind_text (stmt, 2, tc_contact_get_nickname (contact));
  _tc_store_bind_text (stmt, 3, tc_contact_get_name (contact));
  _tc_store_bind_text (stmt, 4, tc_contact_get_profile_text (contact));
  _tc_store_bind_text (stmt, 5, tc_contact_get_greeting (contact));
  _tc_store_bind_text (stmt, 6, tc_contact_state_to_string (tc_contact_get_state (contact)));
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

  if (!(update = _tc_store_prepare_write (self, SQL_UPDATE_CONTACT, error)))
    return FALSE;

  bind_contact (update, contact);
  if (!_tc_store_step_write (self, update, _("Could not save the contact"), error))
    return FALSE;

  if (sqlite3_changes (self->db) > 0)
    return TRUE;

  if (!(insert = _tc_store_prepare_write (self, SQL_INSERT_CONTACT, error)))
    return FALSE;

  bind_contact (insert, contact);
  sqlite3_bind_int64 (insert, 8, g_get_real_time ());

  return _tc_store_step_write (self, insert, _("Could not save the contact"), error);
}

gboolean
tc_store_delete_contact (TcStore     *self,
                         const char  *address,
                         GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  if (!(stmt = _tc_store_prepare_write (self, SQL_DELETE_CONTACT, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, address);

  return _tc_store_step_write (self, stmt, _("Could not delete the contact"), error);
}
