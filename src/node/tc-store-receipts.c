/* tc-store-receipts.c: receipts applied as a set, a few statements for a
 * whole read of them instead of one UPDATE each
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-store-private.h"

/* Receipts as a set: the ids go into an IN list of a statement from a few
 * sizes (each statement cached once), padded with NULL, which matches
 * nothing. SQLite 3.15.2 (and so SQLCipher 3.4.1) takes at most 999
 * variables: the peer, the date and 997 ids. */
#define RECEIPT_MAX_IDS 997

static const guint receipt_sizes[] = { 1, 8, 64, 256, RECEIPT_MAX_IDS };

#define RECEIPT_WHERE \
  " WHERE peer = ?1 AND direction = 'outgoing' AND state <> 'delivered' AND mid IN ("

/* The statements' text, made once and kept for the process (the statement
 * cache knows a statement by the address of its text). */
static const char *
receipt_sql (guint    size_index,
             gboolean select)
{
  static char *sql[G_N_ELEMENTS (receipt_sizes)][2];
  static gsize made = 0;

  if (g_once_init_enter (&made))
    {
      for (guint i = 0; i < G_N_ELEMENTS (receipt_sizes); i++)
        for (guint j = 0; j < 2; j++)
          {
            GString *text = g_string_new (j ? "SELECT mid FROM messages" RECEIPT_WHERE
                                            : "UPDATE OR FAIL messages SET state = 'delivered',"
                                              " received_date = ?2" RECEIPT_WHERE);

            for (guint k = 0; k < receipt_sizes[i]; k++)
              g_string_append_printf (text, k ? ", ?%u" : "?%u", k + 3);
            g_string_append_c (text, ')');
            sql[i][j] = g_string_free (text, FALSE);
          }
      g_once_init_leave (&made, 1);
    }

  return sql[size_index][select ? 1 : 0];
}

static void
bind_receipt_ids (sqlite3_stmt *stmt,
                  const char   *peer,
                  const char  **ids,
                  guint         n_ids,
                  guint         size)
{
  _tc_store_bind_text (stmt, 1, peer);
  for (guint k = 0; k < size; k++)
    {
      if (k < n_ids)
        _tc_store_bind_text (stmt, k + 3, ids[k]);
      else
        sqlite3_bind_null (stmt, k + 3);
    }
}

/* One chunk of at most RECEIPT_MAX_IDS distinct ids: the ones that will
 * change go into @changed (if not NULL), then one UPDATE for all. */
static gboolean
mark_delivered_chunk (TcStore     *self,
                      const char  *peer,
                      const char **ids,
                      guint        n_ids,
                      GDateTime   *date,
                      guint       *n_changed,
                      GHashTable  *changed,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  guint size_index = 0;
  int rc;

  while (receipt_sizes[size_index] < n_ids)
    size_index++;

  /* Read in the write transaction, so that nothing comes between this
   * and the update. */
  if (changed != NULL)
    {
      if (!(stmt = _tc_store_prepare_write (self, receipt_sql (size_index, TRUE), error)))
        return FALSE;
      bind_receipt_ids (stmt, peer, ids, n_ids, receipt_sizes[size_index]);
      while ((rc = sqlite3_step (stmt)) == SQLITE_ROW)
        g_hash_table_add (changed, g_strdup (_tc_store_column_text (stmt, 0)));
      if (rc != SQLITE_DONE)
        return _tc_store_write_failed (self, stmt, rc, _("Could not store the receipt"), error);
      g_clear_pointer (&stmt, _tc_store_stmt_release);
    }

  if (!(stmt = _tc_store_prepare_write (self, receipt_sql (size_index, FALSE), error)))
    return FALSE;
  bind_receipt_ids (stmt, peer, ids, n_ids, receipt_sizes[size_index]);
  _tc_store_bind_date (stmt, 2, date);
  if (!_tc_store_step_write (self, stmt, _("Could not store the receipt"), error))
    return FALSE;

  *n_changed += sqlite3_changes (self->db);
  return TRUE;
}

gboolean
tc_store_mark_delivered_set (TcStore     *self,
                             const char  *peer,
                             GPtrArray   *ids,
                             GDateTime   *date,
                             guint       *n_changed,
                             GPtrArray   *changed,
                             GError     **error)
{
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GHashTable) distinct = NULL;
  g_autoptr(GHashTable) will_change = NULL;
  g_autofree const char **chunk = NULL;
  guint n_chunk = 0;
  guint total = 0;

  g_return_val_if_fail (TC_IS_STORE (self), FALSE);
  g_return_val_if_fail (peer != NULL, FALSE);
  g_return_val_if_fail (ids != NULL, FALSE);

  if (n_changed != NULL)
    *n_changed = 0;
  if (ids->len == 0)
    return TRUE;

  if (date == NULL)
    date = now = g_date_time_new_now_utc ();

  distinct = g_hash_table_new (g_str_hash, g_str_equal);
  if (changed != NULL)
    will_change = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  chunk = g_new (const char *, MIN (ids->len, RECEIPT_MAX_IDS));

  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);

      if (id == NULL || !g_hash_table_add (distinct, (gpointer) id))
        continue;
      chunk[n_chunk++] = id;
      if (n_chunk == RECEIPT_MAX_IDS)
        {
          if (!mark_delivered_chunk (self, peer, chunk, n_chunk, date, &total, will_change, error))
            return FALSE;
          n_chunk = 0;
        }
    }
  if (n_chunk > 0 &&
      !mark_delivered_chunk (self, peer, chunk, n_chunk, date, &total, will_change, error))
    return FALSE;

  /* In the order the receipts came, each once. */
  for (guint i = 0; changed != NULL && i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);

      if (id != NULL && g_hash_table_remove (will_change, id))
        g_ptr_array_add (changed, g_strdup (id));
    }

  if (n_changed != NULL)
    *n_changed = total;
  return TRUE;
}
