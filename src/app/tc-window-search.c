/* tc-window-search.c: searching the history, in the open conversation or
 * in all of them, and going to a message found
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-search-dialog.h"
#include "tc-search-page.h"
#include "tc-window-private.h"

static gboolean
conversation_on_screen (TcWindow *self)
{
  if (self->contact == NULL)
    return FALSE;

  /* Folded on the contact list, the conversation is not on screen. */
  return !adw_leaflet_get_folded (self->leaflet) ||
         adw_leaflet_get_visible_child (self->leaflet) == self->content;
}

static void
open_conversation_search (TcWindow *self)
{
  gtk_search_bar_set_search_mode (self->message_search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->message_search_entry));
}

/* Ctrl+F: in a conversation, search its messages; else the contacts. */
static void
search_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);

  if (conversation_on_screen (self))
    {
      open_conversation_search (self);
      return;
    }

  gtk_search_bar_set_search_mode (self->search_bar, TRUE);
  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
search_conversation_action (GtkWidget  *widget,
                            const char *action_name,
                            GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);

  if (self->contact != NULL)
    open_conversation_search (self);
}

/* Every conversation, in a dialog; what was typed in the contact search
 * is searched for first. */
static void
search_messages_action (GtkWidget  *widget,
                        const char *action_name,
                        GVariant   *param)
{
  TcWindow *self = TC_WINDOW (widget);
  const char *text = NULL;

  if (gtk_search_bar_get_search_mode (self->search_bar))
    text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  if (self->search_dialog == NULL)
    self->search_dialog = g_object_ref_sink (tc_search_dialog_new (self));
  tc_search_dialog_set_text (TC_SEARCH_DIALOG (self->search_dialog), text);
  gtk_window_present (GTK_WINDOW (self->search_dialog));
}

static void
message_search_changed_cb (TcWindow *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->message_search_entry));

  if (self->contact == NULL || text[0] == '\0')
    {
      gtk_stack_set_visible_child_name (self->conversation_stack, "messages");
      return;
    }

  tc_search_page_set_address (self->conversation_search_page,
                              tc_contact_get_address (self->contact));
  tc_search_page_set_text (self->conversation_search_page, text);
  gtk_stack_set_visible_child_name (self->conversation_stack, "search");
}

static void
message_search_activate_cb (TcWindow *self)
{
  message_search_changed_cb (self);
  tc_search_page_activate_first (self->conversation_search_page);
}

static void
message_search_mode_cb (TcWindow *self)
{
  /* Opened with the header's button too: typing goes to the entry. */
  if (gtk_search_bar_get_search_mode (self->message_search_bar))
    {
      gtk_widget_grab_focus (GTK_WIDGET (self->message_search_entry));
      return;
    }

  /* Closed: back to the messages, and the next search starts empty. */
  gtk_editable_set_text (GTK_EDITABLE (self->message_search_entry), "");
  tc_search_page_set_text (self->conversation_search_page, NULL);
  gtk_stack_set_visible_child_name (self->conversation_stack, "messages");
  if (self->contact != NULL)
    gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

static void
conversation_result_cb (TcWindow  *self,
                        TcMessage *message)
{
  g_object_ref (message);
  gtk_search_bar_set_search_mode (self->message_search_bar, FALSE);
  tc_window_show_message (self, message);
  g_object_unref (message);
}

/* Another conversation: the search of the last one is over. */
void
_tc_window_close_conversation_search (TcWindow *self)
{
  gtk_search_bar_set_search_mode (self->message_search_bar, FALSE);
  gtk_widget_set_visible (self->conversation_search_button, self->contact != NULL);
}

gboolean
tc_window_show_message (TcWindow  *self,
                        TcMessage *message)
{
  g_autoptr(GError) error = NULL;
  TcContact *contact;
  guint position;

  g_return_val_if_fail (TC_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (TC_IS_MESSAGE (message), FALSE);

  contact = tc_node_lookup_contact (self->node, tc_message_get_peer (message));
  if (contact == NULL)
    {
      tc_window_add_toast (self, _("This message is no longer in the history"));
      return FALSE;
    }

  /* Its place in the conversation, from the database: the list reads the
   * page around it when it scrolls there, and nothing else. */
  if (!tc_store_find_message_position (tc_node_get_store (self->node), message, &position, &error))
    {
      tc_window_show_error (self, error);
      return FALSE;
    }

  tc_window_set_contact (self, contact);
  adw_leaflet_set_visible_child (self->leaflet, self->content);
  _tc_window_scroll_to_message (self, position);

  return TRUE;
}

void
_tc_window_class_init_search (GtkWidgetClass *widget_class)
{
  g_type_ensure (TC_TYPE_SEARCH_PAGE);

  gtk_widget_class_bind_template_child (widget_class, TcWindow, conversation_search_button);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, message_search_bar);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, message_search_entry);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, conversation_stack);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, conversation_search_page);
  gtk_widget_class_bind_template_callback (widget_class, message_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, message_search_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, message_search_mode_cb);
  gtk_widget_class_bind_template_callback (widget_class, conversation_result_cb);

  gtk_widget_class_install_action (widget_class, "win.search", NULL, search_action);
  gtk_widget_class_install_action (widget_class, "win.search-conversation", NULL, search_conversation_action);
  gtk_widget_class_install_action (widget_class, "win.search-messages", NULL, search_messages_action);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK, "win.search", NULL);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_f, GDK_CONTROL_MASK | GDK_SHIFT_MASK,
                                       "win.search-messages", NULL);
}

void
_tc_window_init_search (TcWindow *self)
{
  tc_search_page_set_node (self->conversation_search_page, self->node);
  /* Inside a clamp: the bar does not find the entry by itself (Escape). */
  gtk_search_bar_connect_entry (self->message_search_bar, GTK_EDITABLE (self->message_search_entry));
}

void
_tc_window_dispose_search (TcWindow *self)
{
  if (self->search_dialog != NULL)
    {
      gtk_window_destroy (GTK_WINDOW (self->search_dialog));
      g_clear_object (&self->search_dialog);
    }
}
