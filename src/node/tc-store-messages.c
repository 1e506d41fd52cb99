/* tc-store-messages.c: the messages of the history and the outbox
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-store-private.h"

/* How long the id of a deleted incoming message is remembered: 90 days, in
 * seconds (migration 3 says the same). */
#define SEEN_WINDOW_S (90 * 24 * 60 * 60)

#define OUTBOX_WHERE "peer = ?1 AND direction = 'outgoing' AND state IN ('queued', 'sent')"

/* Updates are UPDATE OR FAIL: see tc-store-private.h. The same for this
 * insert: with the count triggers, a plain INSERT (ABORT) writes a statement
 * journal, which made 10,000 outgoing messages 12 times slower on an
 * encrypted profile (2.2 s against 0.17 s). A failure rolls back the whole
 * transaction anyway. */
static const char SQL_INSERT_MESSAGE[] =
  "INSERT OR FAIL INTO messages (" TC_STORE_MESSAGE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

/* The UNIQUE (peer, mid, direction) constraint recognises a message
 * still in the history: no row changed means a duplicate. */
static const char SQL_INSERT_INCOMING[] =
  "INSERT OR IGNORE INTO messages (" TC_STORE_MESSAGE_COLUMNS ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

static const char SQL_CHECK_SEEN[] =
  "SELECT 1 FROM seen WHERE peer = ?1 AND mid = ?2";

static const char SQL_REMEMBER_SEEN[] =
  "INSERT OR REPLACE INTO seen (peer, mid, expires)"
  " SELECT peer, mid, ?2 FROM messages WHERE peer = ?1 AND direction = 'incoming'";

static const char SQL_PRUNE_SEEN[] =
  "DELETE FROM seen WHERE expires < ?1";

static const char SQL_COUNT_SEEN[] =
  "SELECT count(*) FROM seen WHERE peer = ?1";

static const char SQL_MARK_DELIVERED[] =
  "UPDATE OR FAIL messages SET state = 'delivered', received_date = ?3"
  " WHERE peer = ?1 AND mid = ?2 AND direction = 'outgoing' AND state <> 'delivered'";

static const char SQL_SET_STATE[] =
  "UPDATE OR FAIL messages SET state = ?4 WHERE peer = ?1 AND mid = ?2 AND direction = ?3";

/* Over the outbox's partial index. */
static const char SQL_MARK_SENT[] =
  "UPDATE OR FAIL messages SET state = 'sent'"
  " WHERE " OUTBOX_WHERE " AND state = 'queued'";

static const char SQL_LIST_OUTBOX[] =
  "SELECT " TC_STORE_MESSAGE_COLUMNS " FROM messages WHERE " OUTBOX_WHERE " ORDER BY id";

static const char SQL_FAIL_OUTBOX[] =
  "UPDATE OR FAIL messages SET state = 'failed' WHERE " OUTBOX_WHERE;

static const char SQL_COUNT_OUTBOX[] =
  "SELECT count(*) FROM messages WHERE " OUTBOX_WHERE;

static const char SQL_COUNT_MESSAGES[] =
  "SELECT coalesce ((SELECT n FROM message_counts WHERE peer = ?1), 0)";

/* Keyset pages over the (peer, id) index: each costs the same at any
 * depth. The last column is the row's key. */
static const char SQL_PAGE_AFTER[] =
  "SELECT " TC_STORE_MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1 AND id > ?2"
  " ORDER BY id LIMIT ?3";

static const char SQL_PAGE_BEFORE[] =
  "SELECT " TC_STORE_MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1 AND id < ?2"
  " ORDER BY id DESC LIMIT ?3";

static const char SQL_PAGE_FROM_START[] =
  "SELECT " TC_STORE_MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1"
  " ORDER BY id LIMIT ?3 OFFSET ?2";

static const char SQL_PAGE_FROM_END[] =
  "SELECT " TC_STORE_MESSAGE_COLUMNS ", id FROM messages WHERE peer = ?1"
  " ORDER BY id DESC LIMIT ?3 OFFSET ?2";

/* The inner query pages over the (peer, id) index alone. */
static const char SQL_LIST_MESSAGES[] =
  "SELECT " TC_STORE_MESSAGE_COLUMNS " FROM messages WHERE id IN"
  " (SELECT id FROM messages WHERE peer = ?1 ORDER BY id LIMIT ?2 OFFSET ?3)"
  " ORDER BY id";

static const char SQL_LOOKUP_MESSAGE[] =
  "SELECT " TC_STORE_MESSAGE_COLUMNS " FROM messages WHERE peer = ?1 AND mid = ?2"
  " ORDER BY id LIMIT 1";

/* Over the (peer, id) index: the messages before it, oldest first. */
static const char SQL_MESSAGE_POSITION[] =
  "SELECT count(*), (SELECT 1 FROM messages WHERE peer = ?1 AND mid = ?2 AND direction = ?3)"
  " FROM messages WHERE peer = ?1 AND id <"
  " (SELECT id FROM messages WHERE peer = ?1 AND mid = ?2 AND direction = ?3)";

static const char SQL_DELETE_HISTORY[] =
  "DELETE FROM messages WHERE peer = ?1";

static const char SQL_DELETE_SEEN[] =
  "DELETE FROM seen WHERE peer = ?1";

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

void
_tc_store_bind_date (sqlite3_stmt *stmt,
                     int           index,
                     GDateTime    *date)
{
  if (date == NULL)
    sqlite3_bind_null (stmt, index);
  else
    sqlite3_bind_int64 (stmt, index, date_to_usec (date));
}

const char *
_tc_store_direction_to_string (TcMessageDirection direction)
{
  return direction == TC_MESSAGE_DIRECTION_OUTGOING ? "outgoing" : "incoming";
}

TcMessage *
_tc_store_message_from_row (sqlite3_stmt *stmt)
{
  g_autoptr(GDateTime) date = NULL;
  g_autoptr(GDateTime) received_date = NULL;
  TcMessageDirection direction;
  TcMessageState state;
  const char *text = _tc_store_column_text (stmt, 2);

  direction = g_strcmp0 (_tc_store_column_text (stmt, 3), "outgoing") == 0 ?
              TC_MESSAGE_DIRECTION_OUTGOING : TC_MESSAGE_DIRECTION_INCOMING;

  if (!tc_message_state_from_string (_tc_store_column_text (stmt, 4), &state))
    {
      g_warning ("Unknown message state “%s” in the database", _tc_store_column_text (stmt, 4));
      state = direction == TC_MESSAGE_DIRECTION_OUTGOING ?
              TC_MESSAGE_STATE_FAILED : TC_MESSAGE_STATE_RECEIVED;
    }

  date = date_from_usec (sqlite3_column_int64 (stmt, 5));
  if (sqlite3_column_type (stmt, 6) != SQLITE_NULL)
    received_date = date_from_usec (sqlite3_column_int64 (stmt, 6));

  return tc_message_new (_tc_store_column_text (stmt, 0),
                         _tc_store_column_text (stmt, 1),
                         text != NULL ? text : "",
                         direction, date, received_date, state);
}

/* Runs a query returning messages; NULL on error. */
GPtrArray *
_tc_store_collect_messages (TcStore       *self,
                            sqlite3_stmt  *stmt,
                            GError       **error)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new_with_free_func (g_object_unref);
  int rc;

  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    g_ptr_array_add (messages, _tc_store_message_from_row (stmt));

  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not read messages"), error);
      return NULL;
    }

  return g_steal_pointer (&messages);
}

static void
bind_message (sqlite3_stmt   *stmt,
              TcMessage      *message,
              TcMessageState  state,
              GDateTime      *received_date)
{
  _tc_store_bind_text (stmt, 1, tc_message_get_id (message));
  _tc_store_bind_text (stmt, 2, tc_message_get_peer (message));
  _tc_store_bind_text (stmt, 3, tc_message_get_text (message));
  _tc_store_bind_text (stmt, 4, _tc_store_direction_to_string (tc_message_get_direction (message)));
  _tc_store_bind_text (stmt, 5, tc_message_state_to_string (state));
  _tc_store_bind_date (stmt, 6, tc_message_get_date (message));
  _tc_store_bind_date (stmt, 7, received_date);
}

static gboolean
insert_message (TcStore         *self,
                TcMessage       *message,
                TcMessageState   state,
                GDateTime       *received_date,
                GError         **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  if (!(stmt = _tc_store_prepare_write (self, SQL_INSERT_MESSAGE, error)))
    return FALSE;

  bind_message (stmt, message, state, received_date);

  return _tc_store_step_write (self, stmt, _("Could not store the message"), error);
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
  if (!_tc_store_check_batch (self, error) || !(stmt = _tc_store_get_stmt (self, SQL_CHECK_SEEN, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, tc_message_get_peer (message));
  _tc_store_bind_text (stmt, 2, tc_message_get_id (message));
  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE)
    return _tc_store_write_failed (self, stmt, rc, _("Could not store the message"), error);
  if (rc == SQLITE_ROW)
    {
      if (duplicate != NULL)
        *duplicate = TRUE;
      return TRUE;
    }
  g_clear_pointer (&stmt, _tc_store_stmt_release);

  if (tc_message_get_received_date (message) != NULL)
    received_date = g_date_time_ref (tc_message_get_received_date (message));
  else
    received_date = g_date_time_new_now_utc ();

  if (!(stmt = _tc_store_prepare_write (self, SQL_INSERT_INCOMING, error)))
    return FALSE;

  bind_message (stmt, message, TC_MESSAGE_STATE_RECEIVED, received_date);
  if (!_tc_store_step_write (self, stmt, _("Could not store the message"), error))
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

  if (!(stmt = _tc_store_prepare_write (self, SQL_MARK_DELIVERED, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, peer);
  _tc_store_bind_text (stmt, 2, id);
  _tc_store_bind_date (stmt, 3, date);

  if (!_tc_store_step_write (self, stmt, _("Could not store the receipt"), error))
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

  if (!(stmt = _tc_store_prepare_write (self, SQL_SET_STATE, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, peer);
  _tc_store_bind_text (stmt, 2, id);
  _tc_store_bind_text (stmt, 3, _tc_store_direction_to_string (direction));
  _tc_store_bind_text (stmt, 4, tc_message_state_to_string (state));

  if (!_tc_store_step_write (self, stmt, _("Could not store the message state"), error))
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

  if (!(stmt = _tc_store_prepare_write (self, SQL_MARK_SENT, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, peer);

  return _tc_store_step_write (self, stmt, _("Could not store the message state"), error);
}

GPtrArray *
tc_store_list_outbox (TcStore     *self,
                      const char  *peer,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (peer != NULL, NULL);

  if (!(stmt = _tc_store_get_stmt (self, SQL_LIST_OUTBOX, error)))
    return NULL;

  _tc_store_bind_text (stmt, 1, peer);

  return _tc_store_collect_messages (self, stmt, error);
}

gboolean
tc_store_fail_outbox (TcStore     *self,
                      const char  *peer,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  if (!(stmt = _tc_store_prepare_write (self, SQL_FAIL_OUTBOX, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, peer);

  return _tc_store_step_write (self, stmt, _("Could not store the message state"), error);
}

guint
tc_store_count_outbox (TcStore    *self,
                       const char *peer)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);
  g_return_val_if_fail (peer != NULL, 0);

  return (guint) _tc_store_query_count (self, SQL_COUNT_OUTBOX, peer);
}

guint
tc_store_count_messages (TcStore    *self,
                         const char *peer)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);
  g_return_val_if_fail (peer != NULL, 0);

  return (guint) _tc_store_query_count (self, SQL_COUNT_MESSAGES, peer);
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

  if (!(stmt = _tc_store_get_stmt (self, SQL_LIST_MESSAGES, error)))
    return NULL;

  _tc_store_bind_text (stmt, 1, peer);
  sqlite3_bind_int64 (stmt, 2, limit);
  sqlite3_bind_int64 (stmt, 3, offset);

  return _tc_store_collect_messages (self, stmt, error);
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
  static const char * const sqls[] = {
    [TC_STORE_PAGE_AFTER] = SQL_PAGE_AFTER,
    [TC_STORE_PAGE_BEFORE] = SQL_PAGE_BEFORE,
    [TC_STORE_PAGE_FROM_START] = SQL_PAGE_FROM_START,
    [TC_STORE_PAGE_FROM_END] = SQL_PAGE_FROM_END,
  };
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GArray) keys = NULL;
  g_autoptr(StoreStmt) stmt = NULL;
  gboolean backwards = from == TC_STORE_PAGE_BEFORE || from == TC_STORE_PAGE_FROM_END;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), NULL);
  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (from <= TC_STORE_PAGE_FROM_END, NULL);

  if (!(stmt = _tc_store_get_stmt (self, sqls[from], error)))
    return NULL;

  _tc_store_bind_text (stmt, 1, peer);
  sqlite3_bind_int64 (stmt, 2, where);
  sqlite3_bind_int64 (stmt, 3, limit);

  messages = g_ptr_array_new_with_free_func (g_object_unref);
  keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
    {
      gint64 key = sqlite3_column_int64 (stmt, 7);

      g_ptr_array_add (messages, _tc_store_message_from_row (stmt));
      g_array_append_val (keys, key);
    }

  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not read messages"), error);
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

  if (!(stmt = _tc_store_get_stmt (self, SQL_LOOKUP_MESSAGE, &error)))
    {
      g_warning ("%s", error->message);
      return NULL;
    }

  _tc_store_bind_text (stmt, 1, peer);
  _tc_store_bind_text (stmt, 2, id);

  rc = sqlite3_step (stmt);
  if (rc == SQLITE_ROW)
    return _tc_store_message_from_row (stmt);

  if (rc != SQLITE_DONE)
    {
      _tc_store_set_error (self, rc, _("Could not read a message"), &error);
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
      if (!(seen = _tc_store_prepare_write (self, SQL_REMEMBER_SEEN, error)))
        return FALSE;

      _tc_store_bind_text (seen, 1, peer);
      sqlite3_bind_int64 (seen, 2, g_get_real_time () / G_USEC_PER_SEC + SEEN_WINDOW_S);
      if (!_tc_store_step_write (self, seen, _("Could not delete the history"), error))
        return FALSE;
    }

  if (!(stmt = _tc_store_prepare_write (self, SQL_DELETE_HISTORY, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, peer);

  return _tc_store_step_write (self, stmt, _("Could not delete the history"), error);
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

  if (!(stmt = _tc_store_prepare_write (self, SQL_PRUNE_SEEN, error)))
    return FALSE;

  sqlite3_bind_int64 (stmt, 1, now_s);

  return _tc_store_step_write (self, stmt, _("Could not forget old message ids"), error);
}

guint
_tc_store_count_seen (TcStore    *self,
                      const char *peer)
{
  g_return_val_if_fail (TC_IS_STORE (self), 0);

  return (guint) _tc_store_query_count (self, SQL_COUNT_SEEN, peer);
}

gboolean
tc_store_forget_peer (TcStore     *self,
                      const char  *peer,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);

  if (!delete_messages (self, peer, FALSE, error) ||
      !tc_store_delete_contact (self, peer, error) ||
      !(stmt = _tc_store_prepare_write (self, SQL_DELETE_SEEN, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, peer);

  if (!_tc_store_step_write (self, stmt, _("Could not delete the history"), error))
    return FALSE;

  /* The search index keeps deleted entries in older segments until they
   * are merged. */
  return _tc_store_optimize_index (self, error);
}

gboolean
tc_store_find_message_position (TcStore    *self,
                                TcMessage  *message,
                                guint      *position,
                                GError    **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  int rc;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (TC_IS_MESSAGE (message), FALSE);

  if (!(stmt = _tc_store_get_stmt (self, SQL_MESSAGE_POSITION, error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, tc_message_get_peer (message));
  _tc_store_bind_text (stmt, 2, tc_message_get_id (message));
  _tc_store_bind_text (stmt, 3, _tc_store_direction_to_string (tc_message_get_direction (message)));

  rc = sqlite3_step (stmt);
  if (rc != SQLITE_ROW)
    {
      _tc_store_set_error (self, rc, _("Could not read a message"), error);
      return FALSE;
    }
  if (sqlite3_column_type (stmt, 1) == SQLITE_NULL)
    {
      g_set_error_literal (error, TC_STORE_ERROR, TC_STORE_ERROR_NOT_FOUND,
                           _("The message is no longer in the history"));
      return FALSE;
    }

  *position = (guint) sqlite3_column_int64 (stmt, 0);
  return TRUE;
}

