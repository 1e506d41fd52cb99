/* tc-add-contact-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-a11y.h"
#include "tc-add-contact-dialog.h"

struct _TcAddContactDialog
{
  AdwWindow    parent_instance;

  TcNode      *node;
  char        *address;       /* wire form of a valid input, else NULL */

  GtkWidget   *add_button;
  AdwEntryRow *address_row;
  GtkLabel    *address_error;
  AdwEntryRow *nickname_row;
  AdwEntryRow *greeting_row;
};

G_DEFINE_FINAL_TYPE (TcAddContactDialog, tc_add_contact_dialog, ADW_TYPE_WINDOW)

enum {
  PROP_0,
  PROP_NODE,
  N_PROPS
};

enum {
  CONTACT_ADDED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

static void
show_error (TcAddContactDialog *self,
            const char         *message)
{
  gtk_label_set_label (self->address_error, message);
  gtk_widget_set_visible (GTK_WIDGET (self->address_error), message != NULL);

  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->address_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->address_row), "error");
}

static void
address_changed_cb (TcAddContactDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *stripped = NULL;
  const char *text;
  const char *message = NULL;

  g_clear_pointer (&self->address, g_free);

  text = gtk_editable_get_text (GTK_EDITABLE (self->address_row));
  address = tc_address_normalize (text, &error);
  stripped = g_strstrip (g_strdup (text));

  if (address == NULL)
    {
      /* Nobody types 56 characters at once: a short address is only an
       * error once it is complete (a pasted old v2 address ends in .onion). */
      gboolean unfinished = strlen (stripped) < 56 && !g_str_has_suffix (stripped, ".onion");

      if (!g_error_matches (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_EMPTY) &&
          !(g_error_matches (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_LENGTH) && unfinished))
        message = error->message;
    }
  else if (self->node != NULL &&
           g_strcmp0 (address, tc_node_get_address (self->node)) == 0)
    message = _("This is your own address");
  else if (self->node != NULL &&
           tc_node_lookup_contact (self->node, address) != NULL)
    message = _("This address is already in your contacts");
  else
    self->address = g_steal_pointer (&address);

  show_error (self, message);
  gtk_widget_set_sensitive (self->add_button, self->address != NULL);
}

static void
add_clicked_cb (TcAddContactDialog *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *nickname = NULL;
  g_autofree char *greeting = NULL;
  TcContact *contact;

  if (self->address == NULL || self->node == NULL)
    return;

  nickname = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->nickname_row))));
  greeting = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->greeting_row))));

  contact = tc_node_add_contact (self->node, self->address,
                                 nickname[0] ? nickname : NULL,
                                 greeting[0] ? greeting : NULL,
                                 &error);
  if (contact == NULL)
    {
      show_error (self, error->message);
      gtk_widget_set_sensitive (self->add_button, FALSE);
      return;
    }

  g_signal_emit (self, signals[CONTACT_ADDED], 0, contact);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
entry_activated_cb (TcAddContactDialog *self)
{
  if (self->address != NULL)
    add_clicked_cb (self);
}

static void
tc_add_contact_dialog_dispose (GObject *object)
{
  TcAddContactDialog *self = (TcAddContactDialog *)object;

  g_clear_object (&self->node);
  g_clear_pointer (&self->address, g_free);

  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_ADD_CONTACT_DIALOG);

  G_OBJECT_CLASS (tc_add_contact_dialog_parent_class)->dispose (object);
}

static void
tc_add_contact_dialog_get_property (GObject    *object,
                                    guint       prop_id,
                                    GValue     *value,
                                    GParamSpec *pspec)
{
  TcAddContactDialog *self = TC_ADD_CONTACT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_NODE:
      g_value_set_object (value, self->node);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_add_contact_dialog_set_property (GObject      *object,
                                    guint         prop_id,
                                    const GValue *value,
                                    GParamSpec   *pspec)
{
  TcAddContactDialog *self = TC_ADD_CONTACT_DIALOG (object);

  switch (prop_id)
    {
    case PROP_NODE:
      self->node = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_add_contact_dialog_class_init (TcAddContactDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_add_contact_dialog_dispose;
  object_class->get_property = tc_add_contact_dialog_get_property;
  object_class->set_property = tc_add_contact_dialog_set_property;

  properties[PROP_NODE] =
    g_param_spec_object ("node", NULL, NULL,
                         TC_TYPE_NODE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[CONTACT_ADDED] =
    g_signal_new ("contact-added",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TC_TYPE_CONTACT);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-add-contact-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TcAddContactDialog, add_button);
  gtk_widget_class_bind_template_child (widget_class, TcAddContactDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, TcAddContactDialog, address_error);
  gtk_widget_class_bind_template_child (widget_class, TcAddContactDialog, nickname_row);
  gtk_widget_class_bind_template_child (widget_class, TcAddContactDialog, greeting_row);
  gtk_widget_class_bind_template_callback (widget_class, address_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, add_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tc_add_contact_dialog_init (TcAddContactDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tc_a11y_fix_button_names (GTK_WIDGET (self));
}

TcAddContactDialog *
tc_add_contact_dialog_new (GtkWindow *parent,
                           TcNode    *node)
{
  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TC_IS_NODE (node), NULL);

  return g_object_new (TC_TYPE_ADD_CONTACT_DIALOG,
                       "node", node,
                       "transient-for", parent,
                       NULL);
}
