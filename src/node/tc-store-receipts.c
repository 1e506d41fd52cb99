/* tc-store-receipts.c: receipts applied as a set, a few statements for a
 * whole read of them instead of one UPDATE each
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-store-private.h"

/* The ids go into the IN list of an UPDATE of one of a few sizes (each
 * statement prepared once), padded with NULL, which matches nothing.
 * SQLite 3.15.2 (and so SQLCipher 3.4.1) takes at most 999 variables: the
 * peer, the date and 997 ids. The size 1 is the statement of one receipt,
 * whose changes() tell whether that one message changed. */
#define RECEIPT_MAX_IDS 997

static const guint receipt_sizes[] = { 1, 8, 64, 256, RECEIPT_MAX_IDS };

/* The statements' text, made once and kept for the process (the statement
 * cache knows a statement by the address of its text). */
static const char *
receipt_sql (guint size_index)
{
  static char *sql[G_N_ELEMENTS (receipt_sizes)];
  static gsize made = 0;

  if (g_once_init_enter (&made))
    {
      for (guint i = 0; i < G_N_ELEMENTS (receipt_sizes); i++)
        {
          GString *text = g_string_new ("UPDATE OR FAIL messages"
                                        " SET state = 'delivered', received_date = ?2"
                                        " WHERE peer = ?1 AND direction = 'outgoing'"
                                        " AND state <> 'delivered' AND mid IN (");

          for (guint k = 0; k < receipt_sizes[i]; k++)
            g_string_append_printf (text, k ? ", ?%u" : "?%u", k + 3);
          g_string_append_c (text, ')');
          sql[i] = g_string_free (text, FALSE);
        }
      g_once_init_leave (&made, 1);
    }

  return sql[size_index];
}

/* One UPDATE for at most RECEIPT_MAX_IDS distinct ids; how many rows
 * changed. */
static gboolean
mark_delivered_chunk (TcStore     *self,
                      const char  *peer,
                      const char **ids,
                      guint        n_ids,
                      GDateTime   *date,
                      guint       *n_changed,
                      GError     **error)
{
  g_autoptr(StoreStmt) stmt = NULL;
  guint size_index = 0;

  while (receipt_sizes[size_index] < n_ids)
    size_index++;

  if (!(stmt = _tc_store_prepare_write (self, receipt_sql (size_index), error)))
    return FALSE;

  _tc_store_bind_text (stmt, 1, peer);
  _tc_store_bind_date (stmt, 2, date);
  for (guint k = 0; k < receipt_sizes[size_index]; k++)
    {
      if (k < n_ids)
        _tc_store_bind_text (stmt, k + 3, ids[k]);
      else
        sqlite3_bind_null (stmt, k + 3);
    }

  if (!_tc_store_step_write (self, stmt, _("Could not store the receipt"), error))
    return FALSE;

  *n_changed = sqlite3_changes (self->db);
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
  g_autoptr(GPtrArray) found = NULL;
  g_autofree const char **chunk = NULL;
  guint n_chunk = 0;
  guint total = 0;
  guint n;

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
  found = g_ptr_array_new ();
  chunk = g_new (const char *, MIN (ids->len, RECEIPT_MAX_IDS));

  for (guint i = 0; i < ids->len; i++)
    {
      const char *id = g_ptr_array_index (ids, i);

      if (id == NULL || !g_hash_table_add (distinct, (gpointer) id))
        continue;

      /* Which ones changed: without RETURNING, a SELECT of them before
       * the UPDATE cost more than the statements a set saves (10,000
       * receipts: 33 ms of CPU against 23 ms one by one, 20 ms as sets,
       * docs/benchmarks.md), so one statement each, as before. */
      if (changed != NULL)
        {
          if (!mark_delivered_chunk (self, peer, &id, 1, date, &n, error))
            return FALSE;
          if (n > 0)
            g_ptr_array_add (found, (gpointer) id);
          total += n;
          continue;
        }

      chunk[n_chunk++] = id;
      if (n_chunk == RECEIPT_MAX_IDS)
        {
          if (!mark_delivered_chunk (self, peer, chunk, n_chunk, date, &n, error))
            return FALSE;
          total += n;
          n_chunk = 0;
        }
    }

  if (n_chunk > 0)
    {
      if (!mark_delivered_chunk (self, peer, chunk, n_chunk, date, &n, error))
        return FALSE;
      total += n;
    }

  /* Only once nothing can fail any more. */
  for (guint i = 0; i < found->len; i++)
    g_ptr_array_add (changed, g_strdup (g_ptr_array_index (found, i)));

  if (n_changed != NULL)
    *n_changed = total;
  return TRUE;
}
