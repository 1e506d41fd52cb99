/* tc-window-actions.c: what the user can do from the main window
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-add-contact-dialog.h"
#include "tc-contact-dialog.h"
#include "tc-window-private.h"

static void
show_tor_page_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);

  self->tor_page_wanted = TRUE;
  self->tor_page_dismissed = FALSE;
  _tc_window_update_main_page (self);
}

static void
hide_tor_page_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);

  self->tor_page_wanted = FALSE;
  self->tor_page_dismissed = TRUE;
  _tc_window_update_main_page (self);
}

static void
contact_added_cb (TcWindow           *self,
                  TcContact          *contact,
                  TcAddContactDialog *dialog)
{
  g_autofree char *text = NULL;

  tc_window_set_contact (self, contact);
  /* Only queued: the request waits in the outbox until they are online. */
  if (tc_contact_get_connected (contact))
    /* Translators: %s is the name of a new contact */
    text = g_strdup_printf (_("Sending your request to %s…"), tc_contact_get_display_name (contact));
  else
    /* Translators: %s is the name of a new contact */
    text = g_strdup_printf (_("Request to %s saved; it is delivered when they are online"),
                            tc_contact_get_display_name (contact));
  tc_window_add_toast (self, text);
}

static void
add_contact_action (GtkWidget  *widget,
                    const char *action_name,
                    GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);
  TcAddContactDialog *dialog;

  dialog = tc_add_contact_dialog_new (GTK_WINDOW (self), self->node);
  g_signal_connect_object (dialog, "contact-added",
                           G_CALLBACK (contact_added_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
copy_address_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);

  gdk_clipboard_set_text (gtk_widget_get_clipboard (widget), tc_node_get_address (self->node));
  tc_window_add_toast (self, _("Your address was copied"));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

static void
step_conversation (TcWindow *self,
                   int       step)
{
  GListModel *model = G_LIST_MODEL (self->sorted_contacts);
  guint n_items = g_list_model_get_n_items (model);
  guint position = _tc_window_find_contact_position (self, self->contact);
  g_autoptr(TcContact) contact = NULL;

  if (n_items == 0)
    return;

  if (position == GTK_INVALID_LIST_POSITION)
    position = step > 0 ? 0 : n_items - 1;
  else
    position = (position + n_items + step) % n_items;

  contact = g_list_model_get_item (model, position);
  tc_window_set_contact (self, contact);
}

static void
next_conversation_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *param)
{
  step_conversation (TC_WINDOW (widget), 1);
}

static void
previous_conversation_action (GtkWidget  *widget,
                              const char *action_name,
                              GVariant   *param)
{
  step_conversation (TC_WINDOW (widget), -1);
}

static void
close_conversation_action (GtkWidget  *widget,
                           const char *action_name,
                           GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);

  if (adw_leaflet_get_folded (self->leaflet))
    adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
  else
    tc_window_set_contact (self, NULL);
}

static void
open_contact_action (GtkWidget  *widget,
                     const char *action_name,
                     GVariant   *param)
{
  tc_window_select_address (TC_WINDOW (widget), g_variant_get_string (param, NULL));
}

static void
presence_change_state_cb (GSimpleAction *action,
                          GVariant      *value,
                          gpointer       user_data)
{
  TcWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  TcPresence presence;

  if (!tc_presence_from_string (g_variant_get_string (value, NULL), &presence))
    return;

  if (!tc_node_set_status (self->node, presence, tc_node_get_status_text (self->node), &error))
    {
      tc_window_show_error (self, error);
      return;
    }

  g_simple_action_set_state (action, value);
}

static void
accept_cb (GSimpleAction *action,
           GVariant      *param,
           gpointer       user_data)
{
  TcWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->contact != NULL &&
      !tc_node_accept_contact (self->node, tc_contact_get_address (self->contact), &error))
    tc_window_show_error (self, error);
}

static void
decline_cb (GSimpleAction *action,
            GVariant      *param,
            gpointer       user_data)
{
  TcWindow *self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->contact != NULL &&
      !tc_node_decline_contact (self->node, tc_contact_get_address (self->contact), &error))
    tc_window_show_error (self, error);
}

static void
block_cb (GSimpleAction *action,
          GVariant      *param,
          gpointer       user_data)
{
  TcWindow *self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (self->contact == NULL)
    return;

  if (!tc_node_block_contact (self->node, tc_contact_get_address (self->contact), &error))
    {
      tc_window_show_error (self, error);
      return;
    }

  /* Translators: %s is the name of the contact who was blocked */
  text = g_strdup_printf (_("%s is blocked"), tc_contact_get_display_name (self->contact));
  tc_window_add_toast (self, text);
}

static void
remove_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    gpointer          user_data)
{
  TcWindow *self = TC_WINDOW (gtk_window_get_transient_for (GTK_WINDOW (dialog)));
  TcContact *contact = user_data;
  g_autoptr(GError) error = NULL;

  if (g_str_equal (response, "remove") &&
      !tc_node_remove_contact (self->node, tc_contact_get_address (contact), &error))
    tc_window_show_error (self, error);
}

static void
remove_cb (GSimpleAction *action,
           GVariant      *param,
           gpointer       user_data)
{
  TcWindow *self = user_data;
  GtkWidget *dialog;

  if (self->contact == NULL)
    return;

  dialog = adw_message_dialog_new (GTK_WINDOW (self), NULL,
                                   _("Their messages are deleted from this computer. You can add them again later with their address."));
  /* Translators: %s is the contact's name */
  adw_message_dialog_format_heading (ADW_MESSAGE_DIALOG (dialog), _("Remove %s?"),
                                     tc_contact_get_display_name (self->contact));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "remove", _("_Remove"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "remove",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_signal_connect_data (dialog, "response",
                         G_CALLBACK (remove_response_cb),
                         g_object_ref (self->contact),
                         (GClosureNotify) (void (*) (void)) g_object_unref, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
details_cb (GSimpleAction *action,
            GVariant      *param,
            gpointer       user_data)
{
  TcWindow *self = user_data;

  if (self->contact != NULL)
    gtk_window_present (GTK_WINDOW (tc_contact_dialog_new (GTK_WINDOW (self), self->node,
                                                           self->contact)));
}

void
_tc_window_class_init_actions (GtkWidgetClass *widget_class)
{
  gtk_widget_class_install_action (widget_class, "win.add-contact", NULL, add_contact_action);
  gtk_widget_class_install_action (widget_class, "win.copy-address", NULL, copy_address_action);
  gtk_widget_class_install_action (widget_class, "win.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "win.open-contact", "s", open_contact_action);
  gtk_widget_class_install_action (widget_class, "win.close-conversation", NULL, close_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.show-tor-page", NULL, show_tor_page_action);
  gtk_widget_class_install_action (widget_class, "win.hide-tor-page", NULL, hide_tor_page_action);
  gtk_widget_class_install_action (widget_class, "win.next-conversation", NULL, next_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.previous-conversation", NULL, previous_conversation_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_n, GDK_CONTROL_MASK, "win.add-contact", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "win.close-conversation", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Down, GDK_CONTROL_MASK, "win.next-conversation", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Page_Up, GDK_CONTROL_MASK, "win.previous-conversation", NULL);
}

void
_tc_window_init_actions (TcWindow *self)
{
  static const GActionEntry contact_entries[] = {
    { "accept", accept_cb },
    { "decline", decline_cb },
    { "block", block_cb },
    { "remove", remove_cb },
    { "details", details_cb },
  };
  static const GActionEntry win_entries[] = {
    { "presence", NULL, "s", "'available'", presence_change_state_cb },
  };

  g_action_map_add_action_entries (G_ACTION_MAP (self), win_entries,
                                   G_N_ELEMENTS (win_entries), self);
  g_action_map_add_action_entries (G_ACTION_MAP (self->contact_actions), contact_entries,
                                   G_N_ELEMENTS (contact_entries), self);
}
