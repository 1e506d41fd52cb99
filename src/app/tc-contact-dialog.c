/* tc-contact-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-a11y.h"
#include "tc-contact-dialog.h"
#include "tc-contact-row.h"

struct _TcContactDialog
{
  AdwWindow        parent_instance;

  TcNode          *node;
  TcContact       *contact;

  AdwToastOverlay *toast_overlay;
  AdwEntryRow     *nickname_row;
  GtkLabel        *address_label;
  AdwActionRow    *profile_row;
  GtkLabel        *error_label;
  AdwActionRow    *connection_row;
  GtkWidget       *retry_button;
  GtkWidget       *block_button;
  GtkWidget       *unblock_button;
  GtkWidget       *remove_button;

  /* When "tries again at" has passed and the words must change. */
  guint            refresh_source;
};

G_DEFINE_FINAL_TYPE (TcContactDialog, tc_contact_dialog, ADW_TYPE_WINDOW)

static void
show_error (TcContactDialog *self,
            const GError    *error)
{
  gtk_label_set_label (self->error_label, error ? error->message : NULL);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), error != NULL);
}

static void tc_contact_dialog_update (TcContactDialog *self);

static gboolean
refresh_cb (gpointer data)
{
  TcContactDialog *self = data;

  self->refresh_source = 0;
  tc_contact_dialog_update (self);

  return G_SOURCE_REMOVE;
}

/* The time shown is the node's next attempt: once it has passed, the
 * words change (and a new attempt time arrives as a property change). */
static void
schedule_refresh (TcContactDialog *self)
{
  gint64 next = tc_contact_get_next_attempt (self->contact);
  gint64 now = g_get_real_time ();

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (next > now)
    self->refresh_source = g_timeout_add ((next - now) / 1000 + 250, refresh_cb, self);
}

static void
tc_contact_dialog_update (TcContactDialog *self)
{
  g_autofree char *connection = tc_contact_row_describe_connection (self->contact);
  g_autofree char *profile = NULL;
  TcContactState state = tc_contact_get_state (self->contact);
  const char *name = tc_contact_get_name (self->contact);
  const char *text = tc_contact_get_profile_text (self->contact);

  if (name != NULL && text != NULL && text[0] != '\0')
    profile = g_strdup_printf ("%s — %s", name, text);
  else if (name != NULL)
    profile = g_strdup (name);
  else
    profile = g_strdup (_("They have not sent a profile yet"));
  adw_action_row_set_subtitle (self->profile_row, profile);
  adw_action_row_set_subtitle (self->connection_row, connection);
  schedule_refresh (self);

  gtk_widget_set_visible (self->retry_button,
                          !tc_contact_get_connected (self->contact) &&
                          (state == TC_CONTACT_STATE_ACCEPTED || state == TC_CONTACT_STATE_REQUESTED));
  gtk_widget_set_visible (self->block_button, state != TC_CONTACT_STATE_BLOCKED);
  gtk_widget_set_visible (self->unblock_button, state == TC_CONTACT_STATE_BLOCKED);
  gtk_widget_set_visible (self->remove_button, state != TC_CONTACT_STATE_BLOCKED);
}

static void
rename_cb (TcContactDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *nickname = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->nickname_row))));

  if (!tc_node_rename_contact (self->node, tc_contact_get_address (self->contact), nickname, &error))
    show_error (self, error);
  else
    show_error (self, NULL);
}

static void
copy_cb (TcContactDialog *self)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)),
                          tc_contact_get_address (self->contact));
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Address copied")));
}

static void
retry_cb (TcContactDialog *self)
{
  g_autoptr(GError) error = NULL;

  if (!tc_node_retry_contact (self->node, tc_contact_get_address (self->contact), &error))
    {
      show_error (self, error);
      return;
    }
  show_error (self, NULL);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Trying to connect…")));
}

static void
block_cb (TcContactDialog *self)
{
  g_autoptr(GError) error = NULL;

  if (!tc_node_block_contact (self->node, tc_contact_get_address (self->contact), &error))
    show_error (self, error);
}

/* Removing a blocked address is unblocking it: it is forgotten, and may ask
 * again. */
static void
remove_cb (TcContactDialog *self)
{
  g_autoptr(GError) error = NULL;

  if (!tc_node_remove_contact (self->node, tc_contact_get_address (self->contact), &error))
    {
      show_error (self, error);
      return;
    }

  gtk_window_destroy (GTK_WINDOW (self));
}

static void
contact_notify_cb (TcContactDialog *self)
{
  tc_contact_dialog_update (self);
}

static void
tc_contact_dialog_dispose (GObject *object)
{
  TcContactDialog *self = (TcContactDialog *)object;

  g_clear_handle_id (&self->refresh_source, g_source_remove);
  if (self->contact != NULL)
    g_signal_handlers_disconnect_by_data (self->contact, self);
  g_clear_object (&self->contact);
  g_clear_object (&self->node);

  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_CONTACT_DIALOG);

  G_OBJECT_CLASS (tc_contact_dialog_parent_class)->dispose (object);
}

static void
tc_contact_dialog_class_init (TcContactDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_contact_dialog_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-contact-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, nickname_row);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, address_label);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, profile_row);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, error_label);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, connection_row);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, retry_button);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, block_button);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, unblock_button);
  gtk_widget_class_bind_template_child (widget_class, TcContactDialog, remove_button);
  gtk_widget_class_bind_template_callback (widget_class, rename_cb);
  gtk_widget_class_bind_template_callback (widget_class, copy_cb);
  gtk_widget_class_bind_template_callback (widget_class, retry_cb);
  gtk_widget_class_bind_template_callback (widget_class, block_cb);
  gtk_widget_class_bind_template_callback (widget_class, remove_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tc_contact_dialog_init (TcContactDialog *self)
{
  PangoAttrList *attrs = pango_attr_list_new ();

  gtk_widget_init_template (GTK_WIDGET (self));
  tc_a11y_fix_button_names (GTK_WIDGET (self));

  /* The address as it is: no hyphen where it wraps. */
  pango_attr_list_insert (attrs, pango_attr_insert_hyphens_new (FALSE));
  gtk_label_set_attributes (self->address_label, attrs);
  pango_attr_list_unref (attrs);
}

GtkWidget *
tc_contact_dialog_new (GtkWindow *parent,
                       TcNode    *node,
                       TcContact *contact)
{
  TcContactDialog *self;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TC_IS_NODE (node), NULL);
  g_return_val_if_fail (TC_IS_CONTACT (contact), NULL);

  self = g_object_new (TC_TYPE_CONTACT_DIALOG, "transient-for", parent, NULL);
  self->node = g_object_ref (node);
  self->contact = g_object_ref (contact);

  gtk_editable_set_text (GTK_EDITABLE (self->nickname_row),
                         tc_contact_get_nickname (contact) ?: "");
  gtk_label_set_label (self->address_label, tc_contact_get_address (contact));
  g_signal_connect_object (contact, "notify", G_CALLBACK (contact_notify_cb), self,
                           G_CONNECT_SWAPPED);
  tc_contact_dialog_update (self);

  return GTK_WIDGET (self);
}
