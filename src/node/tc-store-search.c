/* tc-store-search.c: full-text search in the history
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-store-private.h"

/* Newest first, in the index's own docid order, so that the LIMIT stops
 * the join early (ordering by m.id made SQLite join and sort every hit:
 * 1.4 s for a word in all of 1,000,000 messages). */
static const char SQL_SEARCH[] =
  "SELECT m.mid, m.peer, m.text, m.direction, m.state, m.date, m.received_date"
  " FROM messages_fts JOIN messages m ON m.id = messages_fts.docid"
  " WHERE messages_fts MATCH ?1 ORDER BY messages_fts.docid DESC LIMIT ?2";

static const char SQL_SEARCH_PEER[] =
  "SELECT m.mid, m.peer, m.text, m.direction, m.state, m.date, m.received_date"
  " FROM messages_fts JOIN messages m ON m.id = messages_fts.docid"
  " WHERE messages_fts MATCH ?1 AND m.peer = ?3 ORDER BY messages_fts.docid DESC LIMIT ?2";

/* Merges the index's segments: what deleted rows left in older segments
 * (their words and ids) goes. */
static const char SQL_FTS_OPTIMIZE[] =
  "INSERT INTO messages_fts (messages_fts) VALUES ('optimize')";

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

  if (!(stmt = _tc_store_get_stmt (self, peer != NULL ? SQL_SEARCH_PEER : SQL_SEARCH, error)))
    return NULL;

  _tc_store_bind_text (stmt, 1, match);
  sqlite3_bind_int64 (stmt, 2, limit);
  if (peer != NULL)
    _tc_store_bind_text (stmt, 3, peer);

  return _tc_store_collect_messages (self, stmt, error);
}

gboolean
_tc_store_optimize_index (TcStore  *self,
                          GError  **error)
{
  g_autoptr(StoreStmt) stmt = NULL;

  if (!(stmt = _tc_store_prepare_write (self, SQL_FTS_OPTIMIZE, error)))
    return FALSE;

  return _tc_store_step_write (self, stmt, _("Could not delete the history"), error);
}
