/* tc-transfers-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-a11y.h"
#include "tc-transfer-list.h"
#include "tc-transfers-window.h"

struct _TcTransfersWindow
{
  AdwWindow       parent_instance;

  GtkStack       *stack;
  TcTransferList *list;
};

G_DEFINE_FINAL_TYPE (TcTransfersWindow, tc_transfers_window, ADW_TYPE_WINDOW)

static void
empty_changed_cb (TcTransfersWindow *self)
{
  gtk_stack_set_visible_child_name (self->stack,
                                    tc_transfer_list_is_empty (self->list) ? "empty" : "list");
}

static void
tc_transfers_window_class_init (TcTransfersWindowClass *klass)
{
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  g_type_ensure (TC_TYPE_TRANSFER_LIST);
  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-transfers-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TcTransfersWindow, stack);
  gtk_widget_class_bind_template_child (widget_class, TcTransfersWindow, list);
  gtk_widget_class_bind_template_callback (widget_class, empty_changed_cb);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tc_transfers_window_init (TcTransfersWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
tc_transfers_window_new (GtkWindow *parent,
                         TcNode    *node)
{
  TcTransfersWindow *self;

  g_return_val_if_fail (TC_IS_NODE (node), NULL);

  self = g_object_new (TC_TYPE_TRANSFERS_WINDOW,
                       "transient-for", parent,
                       "application", parent ? gtk_window_get_application (parent) : NULL,
                       NULL);
  tc_transfer_list_set_node (self->list, node);
  tc_a11y_fix_button_names (GTK_WIDGET (self));
  empty_changed_cb (self);

  return GTK_WIDGET (self);
}
