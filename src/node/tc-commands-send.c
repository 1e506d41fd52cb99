/* tc-commands-send.c: running a command without blocking the main loop,
 * so that `send ADDRESS -` streams its burst while it is still storing it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>

#include "tc-commands-private.h"

typedef struct
{
  GString  *out;
  GString  *err;
  int       status;
  gboolean  quit;
  gboolean  json;
} RunData;

static void
run_data_free (RunData *data)
{
  g_string_free (data->out, TRUE);
  g_string_free (data->err, TRUE);
  g_free (data);
}

static void
sent_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  RunData *data = g_task_get_task_data (task);
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;

  messages = tc_node_send_messages_finish (TC_NODE (object), result, &error);
  if (messages == NULL)
    data->status = _tc_commands_fail (data->err, TC_EXIT_FAILED, "%s", error->message);
  else
    _tc_commands_send_output (data->json, messages, data->out);

  g_task_return_boolean (task, TRUE);
}

void
tc_commands_run_async (TcNode             *node,
                       const char * const *argv,
                       gboolean            json,
                       const char         *stdin_text,
                       GAsyncReadyCallback callback,
                       gpointer            user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *address = NULL;
  g_auto(GStrv) texts = NULL;
  RunData *data;

  g_return_if_fail (TC_IS_NODE (node));

  task = g_task_new (node, NULL, callback, user_data);
  g_task_set_source_tag (task, tc_commands_run_async);
  data = g_new0 (RunData, 1);
  data->out = g_string_new (NULL);
  data->err = g_string_new (NULL);
  data->json = json;
  g_task_set_task_data (task, data, (GDestroyNotify) run_data_free);

  if (argv == NULL || argv[0] == NULL || !g_str_equal (argv[0], "send") ||
      (data->status = tc_commands_check (argv, data->err)) != TC_EXIT_OK)
    {
      if (data->status == TC_EXIT_OK)
        data->status = tc_commands_run (node, argv, json, stdin_text,
                                        data->out, data->err, &data->quit);
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (!(address = _tc_commands_normalize (argv[1], data->err)))
    {
      data->status = TC_EXIT_FAILED;
      g_task_return_boolean (task, TRUE);
      return;
    }

  texts = _tc_commands_send_texts (argv + 1, g_strv_length ((char **) argv) - 1, stdin_text);
  if (texts[0] == NULL)
    {
      data->status = _tc_commands_fail (data->err, TC_EXIT_FAILED,
                                        _("Nothing to send: standard input has no text"));
      g_task_return_boolean (task, TRUE);
      return;
    }

  tc_node_send_messages_async (node, address, (const char * const *) texts,
                               sent_cb, g_steal_pointer (&task));
}

int
tc_commands_run_finish (GAsyncResult *result,
                        GString      *out,
                        GString      *err,
                        gboolean     *quit)
{
  RunData *data;

  g_return_val_if_fail (G_IS_TASK (result), TC_EXIT_FAILED);
  g_return_val_if_fail (g_task_is_valid (result, g_task_get_source_object (G_TASK (result))),
                        TC_EXIT_FAILED);

  g_task_propagate_boolean (G_TASK (result), NULL);
  data = g_task_get_task_data (G_TASK (result));
  g_string_append_len (out, data->out->str, data->out->len);
  g_string_append_len (err, data->err->str, data->err->len);
  if (quit != NULL)
    *quit = data->quit;

  return data->status;
}
