/* tc-tor-events.c: what tor tells us: bootstrap status, descriptor uploads, its log
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tc-tor-private.h"

/* KEY=VALUE and KEY="quoted value" pairs of a control-port line. */
static GHashTable *
parse_keywords (const char *line)
{
  GHashTable *table = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  const char *p = line;

  while (*p != '\0')
    {
      const char *key_start, *eq;
      GString *value;

      while (*p == ' ')
        p++;
      key_start = p;
      while (*p != '\0' && *p != ' ' && *p != '=')
        p++;
      if (*p != '=')
        continue;
      eq = p++;
      value = g_string_new (NULL);

      if (*p == '"')
        {
          for (p++; *p != '\0' && *p != '"'; p++)
            {
              if (*p == '\\' && p[1] != '\0')
                p++;
              g_string_append_c (value, *p);
            }
          if (*p == '"')
            p++;
        }
      else
        {
          while (*p != '\0' && *p != ' ')
            g_string_append_c (value, *p++);
        }

      g_hash_table_insert (table, g_strndup (key_start, eq - key_start),
                           g_string_free (value, FALSE));
    }

  return table;
}

/* "NOTICE BOOTSTRAP PROGRESS=… TAG=… SUMMARY=…" */
static void
handle_bootstrap_status (TcTor      *self,
                         const char *line)
{
  g_autoptr(GHashTable) keywords = NULL;
  const char *progress;

  if (strstr (line, "BOOTSTRAP") == NULL)
    return;

  keywords = parse_keywords (line);
  progress = g_hash_table_lookup (keywords, "PROGRESS");
  if (progress != NULL)
    _tc_tor_set_progress (self, (guint) MIN (g_ascii_strtoull (progress, NULL, 10), 100),
                  g_hash_table_lookup (keywords, "SUMMARY"));
}

void
_tc_tor_event_cb (TcTorControl  *control,
                  const char    *name,
                  const char    *line,
                  char         **data_lines,
                  TcTor         *self)
{
  if (g_str_equal (name, "STATUS_CLIENT"))
    {
      handle_bootstrap_status (self, line + strlen ("STATUS_CLIENT "));
    }
  else if (g_str_equal (name, "HS_DESC"))
    {
      g_auto(GStrv) words = g_strsplit (line, " ", 4);

      /* HS_DESC UPLOADED <address> …: one directory has our descriptor. */
      if (g_strv_length (words) >= 3 && g_str_equal (words[1], "UPLOADED") &&
          self->identity != NULL &&
          g_str_has_prefix (tc_identity_get_address (self->identity), words[2]))
        _tc_tor_set_bool_prop (self, &self->reachable, TRUE, PROP_REACHABLE);
      /* What became of a fetch (ours from tc_tor_fetch_descriptor_async()
       * or tor's own), for the debug log. */
      else if (g_strv_length (words) >= 3 &&
               (g_str_equal (words[1], "RECEIVED") || g_str_equal (words[1], "FAILED")))
        {
          g_autofree char *redacted = g_strndup (words[2], 8);

          g_debug ("Tor: descriptor of %s… %s", redacted,
                   g_str_equal (words[1], "RECEIVED") ? "fetched" : "not fetched");
        }
    }
  else if (g_str_equal (name, "NOTICE") || g_str_equal (name, "WARN") ||
           g_str_equal (name, "ERR"))
    {
      if (!self->managed)
        _tc_tor_add_log_line (self, line);
    }
}

void
_tc_tor_bootstrap_phase_cb (GObject      *object,
                            GAsyncResult *result,
                            gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  g_autofree char *value = NULL;

  value = tc_tor_control_get_info_finish (TC_TOR_CONTROL (object), result, NULL);
  if (value != NULL && TC_TOR_CONTROL (object) == self->control)
    handle_bootstrap_status (self, value);
}
