/* tc-tor-control-reply.c: reading tor's reply and event lines
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tc-tor-control-private.h"

#define MAX_LINE (1024 * 1024)

static Reply *
reply_new (guint code)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->code = code;
  reply->lines = g_ptr_array_new_with_free_func (g_free);
  reply->kinds = g_byte_array_new ();

  return reply;
}

void
_tc_tor_control_reply_free (gpointer data)
{
  Reply *reply = data;

  if (reply == NULL)
    return;

  g_ptr_array_unref (reply->lines);
  g_byte_array_unref (reply->kinds);
  g_free (reply);
}

static void
reply_add (Reply      *reply,
           const char *text,
           LineKind    kind)
{
  guint8 k = kind;

  g_ptr_array_add (reply->lines, g_strdup (text));
  g_byte_array_append (reply->kinds, &k, 1);
}

const char *
_tc_tor_control_reply_last_line (Reply *reply)
{
  return reply->lines->len > 0 ? g_ptr_array_index (reply->lines, reply->lines->len - 1) : "";
}

char **
_tc_tor_control_reply_dup_lines (Reply *reply,
                                 guint  first,
                                 guint  end)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **strv;

  for (guint i = first; i < end; i++)
    g_strv_builder_add (builder, g_ptr_array_index (reply->lines, i));

  strv = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);

  return strv;
}

static void
handle_line (TcTorControl *self,
             const char   *line)
{
  Reply **target;
  guint code;
  char sep;

  if (self->data_target != DATA_NONE)
    {
      Reply *reply = self->data_target == DATA_EVENT ? self->event : self->reply;

      if (g_str_equal (line, "."))
        self->data_target = DATA_NONE;
      else
        reply_add (reply, line[0] == '.' ? line + 1 : line, LINE_DATA);
      return;
    }

  if (!g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) ||
      !g_ascii_isdigit (line[2]) ||
      (line[3] != '\0' && line[3] != ' ' && line[3] != '-' && line[3] != '+'))
    {
      _tc_tor_control_close_with_new_error (self, TC_TOR_CONTROL_ERROR_PROTOCOL,
                            _("Tor's control port sent a line we cannot parse"));
      return;
    }

  code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  sep = line[3] != '\0' ? line[3] : ' ';

  /* Events (6xx) may come at any time, even between a command and its
   * reply: they never belong to the command. */
  target = code >= 600 && code < 700 ? &self->event : &self->reply;
  if (*target == NULL)
    *target = reply_new (code);
  else if ((*target)->code != code && sep == ' ')
    (*target)->code = code;

  reply_add (*target, line[3] != '\0' ? line + 4 : "", sep);

  if (sep == '+')
    {
      self->data_target = target == &self->event ? DATA_EVENT : DATA_REPLY;
    }
  else if (sep == ' ')
    {
      Reply *done = g_steal_pointer (target);

      if (target == &self->event)
        {
          _tc_tor_control_emit_event (self, done);
          _tc_tor_control_reply_free (done);
        }
      else
        {
          _tc_tor_control_finish_reply (self, done);
        }
    }
}

void
_tc_tor_control_process_input (TcTorControl *self)
{
  gsize start = 0;

  while (!self->closed)
    {
      const guint8 *data = self->inbuf->data + start;
      gsize avail = self->inbuf->len - start;
      const guint8 *nl = memchr (data, '\n', avail);
      g_autofree char *line = NULL;
      gsize len;

      if (nl == NULL)
        {
          if (avail > MAX_LINE)
            _tc_tor_control_close_with_new_error (self, TC_TOR_CONTROL_ERROR_PROTOCOL,
                                  _("Tor's control port sent a line longer than 1 MiB"));
          break;
        }

      len = nl - data;
      start += len + 1;
      if (len > MAX_LINE)
        {
          _tc_tor_control_close_with_new_error (self, TC_TOR_CONTROL_ERROR_PROTOCOL,
                                _("Tor's control port sent a line longer than 1 MiB"));
          break;
        }

      if (len > 0 && data[len - 1] == '\r')
        len--;
      line = g_strndup ((const char *) data, len);
      handle_line (self, line);
    }

  if (start > 0)
    g_byte_array_remove_range (self->inbuf, 0, MIN (start, self->inbuf->len));
}

/* Turning replies into values */

char **
tc_tor_control_command_finish (TcTorControl  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  Reply *reply;
  char **lines;

  g_return_val_if_fail (TC_IS_TOR_CONTROL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, tc_tor_control_command_async), NULL);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply == NULL)
    return NULL;

  lines = _tc_tor_control_reply_dup_lines (reply, 0, reply->lines->len);
  _tc_tor_control_reply_free (reply);

  return lines;
}
char *
tc_tor_control_get_info_finish (TcTorControl  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  Reply *reply;
  Pending *p;
  g_autofree char *prefix = NULL;
  char *value = NULL;

  g_return_val_if_fail (TC_IS_TOR_CONTROL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, tc_tor_control_get_info_async), NULL);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply == NULL)
    return NULL;

  p = g_task_get_task_data (G_TASK (result));
  prefix = g_strconcat (p->key, "=", NULL);

  for (guint i = 0; i < reply->lines->len && value == NULL; i++)
    {
      const char *line = g_ptr_array_index (reply->lines, i);
      guint8 kind = reply->kinds->data[i];

      if (kind == LINE_DATA || !g_str_has_prefix (line, prefix))
        continue;

      if (kind == LINE_DATA_START)
        {
          GString *joined = g_string_new (NULL);

          for (guint j = i + 1; j < reply->lines->len && reply->kinds->data[j] == LINE_DATA; j++)
            {
              if (j > i + 1)
                g_string_append_c (joined, '\n');
              g_string_append (joined, g_ptr_array_index (reply->lines, j));
            }
          value = g_string_free (joined, FALSE);
        }
      else
        {
          value = g_strdup (line + strlen (prefix));
        }
    }

  _tc_tor_control_reply_free (reply);

  if (value == NULL)
    g_set_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_PROTOCOL,
                 _("Tor's answer to GETINFO %s has no value"), p->key);

  return value;
}
