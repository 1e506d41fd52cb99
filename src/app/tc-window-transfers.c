/* tc-window-transfers.c: files into a conversation (the file chooser, drag
 * and drop, paste) and the transfers shown with it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-transfer-list.h"
#include "tc-transfers-window.h"
#include "tc-window-private.h"

/* Offers each local file of @files to the open conversation's contact;
 * TRUE if at least one went. */
static gboolean
send_files (TcWindow *self,
            GSList   *files)
{
  TcTransferManager *manager = tc_node_get_transfer_manager (self->node);
  gboolean sent = FALSE;

  if (self->contact == NULL)
    return FALSE;

  for (GSList *l = files; l != NULL; l = l->next)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TcTransfer) transfer = NULL;
      g_autofree char *path = g_file_get_path (l->data);

      if (path == NULL)
        {
          g_set_error (&error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                       _("Only local files can be sent"));
          tc_window_show_error (self, error);
          continue;
        }

      transfer = tc_transfer_manager_send_file (manager, tc_contact_get_address (self->contact),
                                                path, &error);
      if (transfer == NULL)
        tc_window_show_error (self, error);
      else
        sent = TRUE;
    }

  return sent;
}

static void
chooser_response_cb (GtkNativeDialog *dialog,
                     int              response,
                     TcWindow        *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GListModel) files = gtk_file_chooser_get_files (GTK_FILE_CHOOSER (dialog));
      GSList *list = NULL;

      for (guint i = g_list_model_get_n_items (files); i > 0; i--)
        list = g_slist_prepend (list, g_list_model_get_item (files, i - 1));
      send_files (self, list);
      g_slist_free_full (list, g_object_unref);
    }

  gtk_native_dialog_destroy (dialog);
  g_object_unref (dialog);
  g_object_unref (self);
}

/* GtkFileChooserNative goes through the file chooser portal in a sandbox
 * (GtkFileDialog needs GTK 4.10). */
static void
attach_file_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *parameter)
{
  TcWindow *self = TC_WINDOW (widget);
  GtkFileChooserNative *chooser;

  if (self->contact == NULL)
    return;

  chooser = gtk_file_chooser_native_new (_("Send Files"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_OPEN,
                                         _("_Send"), _("_Cancel"));
  gtk_file_chooser_set_select_multiple (GTK_FILE_CHOOSER (chooser), TRUE);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (chooser_response_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static void
show_transfers_action (GtkWidget  *widget,
                       const char *action_name,
                       GVariant   *parameter)
{
  TcWindow *self = TC_WINDOW (widget);

  gtk_window_present (GTK_WINDOW (tc_transfers_window_new (GTK_WINDOW (self), self->node)));
}

static gboolean
drop_cb (TcWindow      *self,
         const GValue  *value,
         double         x,
         double         y,
         GtkDropTarget *target)
{
  if (!G_VALUE_HOLDS (value, GDK_TYPE_FILE_LIST))
    return FALSE;

  return send_files (self, g_value_get_boxed (value));
}

static void
paste_read_cb (GObject      *source,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(TcWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  const GValue *value = gdk_clipboard_read_value_finish (GDK_CLIPBOARD (source), result, &error);

  if (value == NULL)
    {
      tc_window_show_error (self, error);
      return;
    }
  send_files (self, g_value_get_boxed (value));
}

/* Files on the clipboard are sent; text is pasted as usual. */
static void
paste_clipboard_cb (TcWindow    *self,
                    GtkTextView *composer)
{
  GdkClipboard *clipboard = gtk_widget_get_clipboard (GTK_WIDGET (composer));
  GdkContentFormats *formats = gdk_clipboard_get_formats (clipboard);

  if (self->contact == NULL || !gdk_content_formats_contain_gtype (formats, GDK_TYPE_FILE_LIST))
    return;

  g_signal_stop_emission_by_name (composer, "paste-clipboard");
  gdk_clipboard_read_value_async (clipboard, GDK_TYPE_FILE_LIST, G_PRIORITY_DEFAULT, NULL,
                                  paste_read_cb, g_object_ref (self));
}

static void
update_attach (TcWindow *self)
{
  gboolean accepted = self->contact != NULL &&
                      tc_contact_get_state (self->contact) == TC_CONTACT_STATE_ACCEPTED;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "win.attach-file", accepted);
}

void
_tc_window_class_init_transfers (GtkWidgetClass *widget_class)
{
  g_type_ensure (TC_TYPE_TRANSFER_LIST);
  gtk_widget_class_install_action (widget_class, "win.attach-file", NULL, attach_file_action);
  gtk_widget_class_install_action (widget_class, "win.show-transfers", NULL, show_transfers_action);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_t, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.show-transfers", NULL);
}

void
_tc_window_init_transfers (TcWindow *self)
{
  GtkDropTarget *drop = gtk_drop_target_new (GDK_TYPE_FILE_LIST, GDK_ACTION_COPY);

  g_signal_connect_object (drop, "drop", G_CALLBACK (drop_cb), self, G_CONNECT_SWAPPED);
  gtk_widget_add_controller (self->content, GTK_EVENT_CONTROLLER (drop));

  g_signal_connect_object (self->composer, "paste-clipboard",
                           G_CALLBACK (paste_clipboard_cb), self, G_CONNECT_SWAPPED);

  tc_transfer_list_set_node (TC_TRANSFER_LIST (self->transfer_list), self->node);
  tc_transfer_list_set_peer (TC_TRANSFER_LIST (self->transfer_list), "");
  g_binding_group_bind (self->contact_bindings, "address",
                        self->transfer_list, "peer", G_BINDING_SYNC_CREATE);

  g_signal_group_connect_object (self->contact_signals, "notify::state",
                                 G_CALLBACK (update_attach), self, G_CONNECT_SWAPPED);
  g_signal_connect_object (self->contact_bindings, "notify::source",
                           G_CALLBACK (update_attach), self, G_CONNECT_SWAPPED);
  update_attach (self);
}
