/* tc-search-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-search-dialog.h"
#include "tc-search-page.h"

struct _TcSearchDialog
{
  AdwWindow       parent_instance;

  GtkSearchEntry *entry;
  TcSearchPage   *page;
};

G_DEFINE_FINAL_TYPE (TcSearchDialog, tc_search_dialog, ADW_TYPE_WINDOW)

static void
search_changed_cb (TcSearchDialog *self)
{
  tc_search_page_set_text (self->page, gtk_editable_get_text (GTK_EDITABLE (self->entry)));
}

static void
entry_activate_cb (TcSearchDialog *self)
{
  /* Enter before the search ran: run it now. */
  search_changed_cb (self);
  tc_search_page_activate_first (self->page);
}

static void
stop_search_cb (TcSearchDialog *self)
{
  gtk_window_close (GTK_WINDOW (self));
}

typedef struct
{
  TcWindow  *window;
  TcMessage *message;
} ShowData;

static void
show_data_free (gpointer data)
{
  ShowData *show = data;

  g_object_unref (show->window);
  g_object_unref (show->message);
  g_free (show);
}

static gboolean
show_idle_cb (gpointer data)
{
  ShowData *show = data;

  tc_window_show_message (show->window, show->message);

  return G_SOURCE_REMOVE;
}

/* The dialog goes first, then the main window moves to the message: not
 * both in the click that chose it (GTK 4.8's accessibility bridge has
 * crashed on that). */
static void
message_activated_cb (TcSearchDialog *self,
                      TcMessage      *message)
{
  GtkWindow *parent = gtk_window_get_transient_for (GTK_WINDOW (self));
  ShowData *show;

  if (!TC_IS_WINDOW (parent))
    return;

  show = g_new0 (ShowData, 1);
  show->window = g_object_ref (TC_WINDOW (parent));
  show->message = g_object_ref (message);
  gtk_window_close (GTK_WINDOW (self));
  g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, show_idle_cb, show, show_data_free);
}

static void
tc_search_dialog_class_init (TcSearchDialogClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  g_type_ensure (TC_TYPE_SEARCH_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-search-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TcSearchDialog, entry);
  gtk_widget_class_bind_template_child (widget_class, TcSearchDialog, page);
  gtk_widget_class_bind_template_callback (widget_class, search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, stop_search_cb);
  gtk_widget_class_bind_template_callback (widget_class, message_activated_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tc_search_dialog_init (TcSearchDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
tc_search_dialog_new (TcWindow *window)
{
  TcSearchDialog *self;

  g_return_val_if_fail (TC_IS_WINDOW (window), NULL);

  /* A window to assistive technologies (it would be a "widget"). */
  self = g_object_new (TC_TYPE_SEARCH_DIALOG,
                       "transient-for", window,
                       "accessible-role", GTK_ACCESSIBLE_ROLE_WINDOW,
                       NULL);
  tc_search_page_set_node (self->page, tc_window_get_node (window));

  return GTK_WIDGET (self);
}

void
tc_search_dialog_set_text (TcSearchDialog *self,
                           const char     *text)
{
  g_return_if_fail (TC_IS_SEARCH_DIALOG (self));

  if (text != NULL && text[0] != '\0')
    {
      gtk_editable_set_text (GTK_EDITABLE (self->entry), text);
      gtk_editable_set_position (GTK_EDITABLE (self->entry), -1);
    }
  /* Again, for what came in since. */
  search_changed_cb (self);
  gtk_widget_grab_focus (GTK_WIDGET (self->entry));
}
