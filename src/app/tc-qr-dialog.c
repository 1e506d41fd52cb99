/* tc-qr-dialog.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-a11y.h"
#include "tc-qr-code.h"
#include "tc-qr-dialog.h"

struct _TcQrDialog
{
  AdwWindow        parent_instance;

  AdwToastOverlay *toast_overlay;
  GtkPicture      *picture;
  GtkLabel        *address_label;
  GtkWidget       *copy_button;

  char            *address;
};

G_DEFINE_FINAL_TYPE (TcQrDialog, tc_qr_dialog, ADW_TYPE_WINDOW)

static void
copy_cb (TcQrDialog *self)
{
  gdk_clipboard_set_text (gtk_widget_get_clipboard (GTK_WIDGET (self)), self->address);
  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (_("Address copied")));
}

static void
tc_qr_dialog_set_address (TcQrDialog *self,
                          const char *address)
{
  g_autoptr(TcQrCode) code = NULL;
  g_autoptr(GError) error = NULL;
  PangoAttrList *attrs;

  g_free (self->address);
  self->address = g_strdup (address);

  /* The address as it is: no hyphen where it wraps. */
  gtk_label_set_label (self->address_label, address);
  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_insert_hyphens_new (FALSE));
  gtk_label_set_attributes (self->address_label, attrs);
  pango_attr_list_unref (attrs);

  /* The plain address (docs/architecture.md, "QR code"): what the window
   * shows and the add-contact dialog takes. */
  code = tc_qr_code_new (address, &error);
  if (code == NULL)
    {
      g_warning ("No QR code of the address: %s", error->message);
      gtk_widget_set_visible (GTK_WIDGET (self->picture), FALSE);
      return;
    }
  gtk_picture_set_paintable (self->picture, GDK_PAINTABLE (code));
  /* A screen reader user hears what the code holds. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->picture),
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, address,
                                  -1);
}

static void
tc_qr_dialog_finalize (GObject *object)
{
  TcQrDialog *self = TC_QR_DIALOG (object);

  g_free (self->address);

  G_OBJECT_CLASS (tc_qr_dialog_parent_class)->finalize (object);
}

static void
tc_qr_dialog_class_init (TcQrDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = tc_qr_dialog_finalize;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-qr-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, TcQrDialog, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TcQrDialog, picture);
  gtk_widget_class_bind_template_child (widget_class, TcQrDialog, address_label);
  gtk_widget_class_bind_template_child (widget_class, TcQrDialog, copy_button);
  gtk_widget_class_bind_template_callback (widget_class, copy_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tc_qr_dialog_init (TcQrDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  /* Not the selectable address, which would show up all selected. */
  gtk_window_set_focus (GTK_WINDOW (self), self->copy_button);
}

GtkWidget *
tc_qr_dialog_new (GtkWindow  *parent,
                  const char *address)
{
  TcQrDialog *self;

  g_return_val_if_fail (address != NULL, NULL);

  self = g_object_new (TC_TYPE_QR_DIALOG,
                       "transient-for", parent,
                       "application", parent ? gtk_window_get_application (parent) : NULL,
                       NULL);
  tc_qr_dialog_set_address (self, address);
  tc_a11y_fix_button_names (GTK_WIDGET (self));

  return GTK_WIDGET (self);
}
