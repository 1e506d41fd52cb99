/* tc-commands-transfers.c: the file transfer commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>

#include "tc-commands-private.h"

static int G_GNUC_PRINTF (2, 3)
fail (GString    *err,
      const char *format,
      ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_strstrip (g_strdelimit (message, "\r\n", ' '));
  g_string_append_printf (err, "torchat: %s\n", message);

  return TC_EXIT_FAILED;
}

static void
add_string (JsonBuilder *builder,
            const char  *name,
            const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_int (JsonBuilder *builder,
         const char  *name,
         gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
build_transfer (JsonBuilder *builder,
                TcTransfer  *transfer)
{
  gboolean outgoing = tc_transfer_get_direction (transfer) == TC_MESSAGE_DIRECTION_OUTGOING;

  json_builder_begin_object (builder);
  add_string (builder, "id", tc_transfer_get_id (transfer));
  add_string (builder, "direction", outgoing ? "outgoing" : "incoming");
  add_string (builder, "peer", tc_transfer_get_peer (transfer));
  add_string (builder, "name", tc_transfer_get_name (transfer));
  add_int (builder, "size", tc_transfer_get_size (transfer));
  add_int (builder, "done", tc_transfer_get_done (transfer));
  add_string (builder, "state", tc_transfer_state_to_string (tc_transfer_get_state (transfer)));
  json_builder_set_member_name (builder, "speed");
  json_builder_add_double_value (builder, tc_transfer_get_speed (transfer));
  add_string (builder, "error", tc_transfer_get_error (transfer));
  add_string (builder, "sha256", tc_transfer_get_sha256 (transfer));
  add_string (builder, "mime", tc_transfer_get_mime (transfer));
  add_string (builder, "path", tc_transfer_get_path (transfer));
  add_string (builder, "directory", tc_transfer_get_directory (transfer));
  add_int (builder, "created", tc_transfer_get_created (transfer));
  json_builder_end_object (builder);
}

static void
append_builder (GString     *out,
                JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (builder);
  g_autofree char *data = NULL;

  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, NULL);
  g_string_append (out, data);
  g_string_append_c (out, '\n');
}

static void
append_line (GString    *out,
             TcTransfer *transfer)
{
  gboolean outgoing = tc_transfer_get_direction (transfer) == TC_MESSAGE_DIRECTION_OUTGOING;

  g_string_append_printf (out, "%s %s %s %" G_GINT64_FORMAT "/%" G_GINT64_FORMAT " %s ",
                          tc_transfer_get_id (transfer),
                          outgoing ? "outgoing" : "incoming",
                          tc_transfer_state_to_string (tc_transfer_get_state (transfer)),
                          tc_transfer_get_done (transfer), tc_transfer_get_size (transfer),
                          tc_transfer_get_peer (transfer));
  _tc_commands_append_sanitized (out, tc_transfer_get_name (transfer));
  if (tc_transfer_get_error (transfer) != NULL)
    {
      g_string_append (out, " (");
      _tc_commands_append_sanitized (out, tc_transfer_get_error (transfer));
      g_string_append_c (out, ')');
    }
  g_string_append_c (out, '\n');
}

int
_tc_commands_run_transfer (TcNode             *node,
                           const char         *name,
                           const char * const *args,
                           guint               n_args,
                           gboolean            json,
                           GString            *out,
                           GString            *err)
{
  TcTransferManager *manager = tc_node_get_transfer_manager (node);
  g_autoptr(GError) error = NULL;

  if (g_str_equal (name, "send-file"))
    {
      TcTransfer *transfer = tc_transfer_manager_send_file (manager, args[0], args[1], &error);

      if (transfer == NULL)
        return fail (err, "%s", error->message);

      if (json)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();

          build_transfer (builder, transfer);
          append_builder (out, builder);
        }
      else
        {
          g_string_append_printf (out, "%s\n", tc_transfer_get_id (transfer));
        }
      return TC_EXIT_OK;
    }

  if (g_str_equal (name, "transfers"))
    {
      GListModel *model = tc_node_get_transfers (node);
      g_autoptr(JsonBuilder) builder = json ? json_builder_new () : NULL;

      if (builder != NULL)
        json_builder_begin_array (builder);

      for (guint i = 0; i < g_list_model_get_n_items (model); i++)
        {
          g_autoptr(TcTransfer) transfer = g_list_model_get_item (model, i);

          if (builder != NULL)
            build_transfer (builder, transfer);
          else
            append_line (out, transfer);
        }

      if (builder != NULL)
        {
          json_builder_end_array (builder);
          append_builder (out, builder);
        }
      return TC_EXIT_OK;
    }

  if (g_str_equal (name, "download-dir"))
    {
      if (n_args == 0)
        {
          g_autofree char *dir = tc_transfer_manager_dup_download_dir (manager);

          g_string_append_printf (out, "%s\n", dir);
          return TC_EXIT_OK;
        }

      if (!tc_transfer_manager_set_download_dir (manager, args[0], &error))
        return fail (err, "%s", error->message);
      return TC_EXIT_OK;
    }

  if ((g_str_equal (name, "accept-file") &&
       !tc_transfer_manager_accept (manager, args[0], n_args > 1 ? args[1] : NULL, &error)) ||
      (g_str_equal (name, "decline-file") &&
       !tc_transfer_manager_decline (manager, args[0], &error)) ||
      (g_str_equal (name, "cancel-file") &&
       !tc_transfer_manager_cancel (manager, args[0], &error)))
    return fail (err, "%s", error->message);

  return TC_EXIT_OK;
}
