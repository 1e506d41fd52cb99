/* tc-transfer-list.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-transfer-list.h"
#include "tc-transfer-row.h"

struct _TcTransferList
{
  GtkWidget            parent_instance;

  TcNode              *node;
  char                *peer;
  GtkFilterListModel  *filtered;
  GtkCustomFilter     *filter;

  GtkWidget           *scroller;
  GtkListBox          *list_box;
  guint                scroll_tick;
  guint                scroll_frames;
};

G_DEFINE_FINAL_TYPE (TcTransferList, tc_transfer_list, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_NODE,
  PROP_PEER,
  PROP_EMPTY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
filter_func (gpointer item,
             gpointer user_data)
{
  TcTransferList *self = user_data;

  return self->peer != NULL && g_strcmp0 (tc_transfer_get_peer (item), self->peer) == 0;
}

static GtkWidget *
create_row (gpointer item,
            gpointer user_data)
{
  TcTransferList *self = user_data;
  GtkWidget *row = gtk_list_box_row_new ();

  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), tc_transfer_row_new (self->node, item));

  return row;
}

static GListModel *
shown_model (TcTransferList *self)
{
  if (self->filtered != NULL)
    return G_LIST_MODEL (self->filtered);
  if (self->node != NULL)
    return tc_node_get_transfers (self->node);
  return NULL;
}

gboolean
tc_transfer_list_is_empty (TcTransferList *self)
{
  GListModel *model;

  g_return_val_if_fail (TC_IS_TRANSFER_LIST (self), TRUE);

  model = shown_model (self);
  return model == NULL || g_list_model_get_n_items (model) == 0;
}

/* The newest transfer, at the end, comes into view: for a few frames,
 * while the new row gets its size. */
static gboolean
scroll_tick_cb (GtkWidget     *widget,
                GdkFrameClock *clock,
                gpointer       user_data)
{
  TcTransferList *self = TC_TRANSFER_LIST (widget);
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (GTK_SCROLLED_WINDOW (self->scroller));

  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  if (--self->scroll_frames > 0)
    return G_SOURCE_CONTINUE;
  self->scroll_tick = 0;
  return G_SOURCE_REMOVE;
}

static void
items_changed_cb (TcTransferList *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self), !tc_transfer_list_is_empty (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_EMPTY]);

  self->scroll_frames = 10;
  if (self->scroll_tick == 0)
    self->scroll_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), scroll_tick_cb, NULL, NULL);
}

static void
rebind (TcTransferList *self)
{
  GListModel *model;

  if (self->filtered != NULL)
    g_signal_handlers_disconnect_by_data (self->filtered, self);
  else if (self->node != NULL)
    g_signal_handlers_disconnect_by_data (tc_node_get_transfers (self->node), self);
  g_clear_object (&self->filtered);

  if (self->node != NULL && self->filter != NULL)
    self->filtered = gtk_filter_list_model_new (g_object_ref (tc_node_get_transfers (self->node)),
                                                GTK_FILTER (g_object_ref (self->filter)));

  model = shown_model (self);
  gtk_list_box_bind_model (self->list_box, model, model ? create_row : NULL, self, NULL);
  if (model != NULL)
    g_signal_connect_object (model, "items-changed", G_CALLBACK (items_changed_cb), self,
                             G_CONNECT_SWAPPED);
  items_changed_cb (self);
}

void
tc_transfer_list_set_node (TcTransferList *self,
                           TcNode         *node)
{
  g_return_if_fail (TC_IS_TRANSFER_LIST (self));

  if (g_set_object (&self->node, node))
    {
      rebind (self);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NODE]);
    }
}

/* A list made without a peer (the transfers window) shows everything; one
 * that was given a peer shows only that peer's, or nothing. */
void
tc_transfer_list_set_peer (TcTransferList *self,
                           const char     *peer)
{
  g_return_if_fail (TC_IS_TRANSFER_LIST (self));

  if (self->filter != NULL && g_strcmp0 (self->peer, peer) == 0)
    return;

  g_free (self->peer);
  self->peer = g_strdup (peer);
  if (self->filter == NULL)
    {
      self->filter = gtk_custom_filter_new (filter_func, self, NULL);
      /* In a conversation: a few rows, the messages keep the room. */
      gtk_scrolled_window_set_max_content_height (GTK_SCROLLED_WINDOW (self->scroller), 220);
      rebind (self);
    }
  else
    {
      gtk_filter_changed (GTK_FILTER (self->filter), GTK_FILTER_CHANGE_DIFFERENT);
      items_changed_cb (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PEER]);
}

const char *
tc_transfer_list_get_peer (TcTransferList *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER_LIST (self), NULL);

  return self->peer;
}

static void
tc_transfer_list_dispose (GObject *object)
{
  TcTransferList *self = (TcTransferList *)object;

  if (self->list_box != NULL)
    gtk_list_box_bind_model (self->list_box, NULL, NULL, NULL, NULL);
  if (self->filtered != NULL)
    g_signal_handlers_disconnect_by_data (self->filtered, self);
  else if (self->node != NULL)
    g_signal_handlers_disconnect_by_data (tc_node_get_transfers (self->node), self);
  g_clear_object (&self->filtered);
  g_clear_object (&self->filter);
  g_clear_object (&self->node);
  g_clear_pointer (&self->scroller, gtk_widget_unparent);
  self->list_box = NULL;

  G_OBJECT_CLASS (tc_transfer_list_parent_class)->dispose (object);
}

static void
tc_transfer_list_finalize (GObject *object)
{
  TcTransferList *self = (TcTransferList *)object;

  g_free (self->peer);

  G_OBJECT_CLASS (tc_transfer_list_parent_class)->finalize (object);
}

static void
tc_transfer_list_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  TcTransferList *self = TC_TRANSFER_LIST (object);

  switch (prop_id)
    {
    case PROP_NODE:
      g_value_set_object (value, self->node);
      break;
    case PROP_PEER:
      g_value_set_string (value, self->peer);
      break;
    case PROP_EMPTY:
      g_value_set_boolean (value, tc_transfer_list_is_empty (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_transfer_list_set_property (GObject      *object,
                               guint         prop_id,
                               const GValue *value,
                               GParamSpec   *pspec)
{
  TcTransferList *self = TC_TRANSFER_LIST (object);

  switch (prop_id)
    {
    case PROP_NODE:
      tc_transfer_list_set_node (self, g_value_get_object (value));
      break;
    case PROP_PEER:
      tc_transfer_list_set_peer (self, g_value_get_string (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static GtkSizeRequestMode
tc_transfer_list_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

/* GTK 4.8's scrolled window asks its child for a height at the child's
 * natural width, where a wrapped line is one line: a row whose line wraps
 * (a paused transfer's reason) was cut off. The height is asked of the
 * list at the width it gets, up to the scroller's maximum. */
static void
tc_transfer_list_measure (GtkWidget      *widget,
                          GtkOrientation  orientation,
                          int             for_size,
                          int            *minimum,
                          int            *natural,
                          int            *minimum_baseline,
                          int            *natural_baseline)
{
  TcTransferList *self = TC_TRANSFER_LIST (widget);

  gtk_widget_measure (self->scroller, orientation, for_size, minimum, natural, NULL, NULL);
  if (orientation == GTK_ORIENTATION_VERTICAL && for_size >= 0 &&
      gtk_widget_get_visible (GTK_WIDGET (self->list_box)))
    {
      int max = gtk_scrolled_window_get_max_content_height (GTK_SCROLLED_WINDOW (self->scroller));
      int list_min, list_natural;

      gtk_widget_measure (GTK_WIDGET (self->list_box), GTK_ORIENTATION_VERTICAL, for_size,
                          &list_min, &list_natural, NULL, NULL);
      if (max >= 0)
        list_natural = MIN (list_natural, max);
      *natural = MAX (*natural, list_natural);
    }
  *minimum_baseline = *natural_baseline = -1;
}

static void
tc_transfer_list_size_allocate (GtkWidget *widget,
                                int        width,
                                int        height,
                                int        baseline)
{
  gtk_widget_allocate (TC_TRANSFER_LIST (widget)->scroller, width, height, baseline, NULL);
}

static void
tc_transfer_list_class_init (TcTransferListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_transfer_list_dispose;
  object_class->finalize = tc_transfer_list_finalize;
  object_class->get_property = tc_transfer_list_get_property;
  object_class->set_property = tc_transfer_list_set_property;

  properties[PROP_NODE] =
    g_param_spec_object ("node", NULL, NULL, TC_TYPE_NODE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PEER] =
    g_param_spec_string ("peer", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_EMPTY] =
    g_param_spec_boolean ("empty", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  widget_class->get_request_mode = tc_transfer_list_get_request_mode;
  widget_class->measure = tc_transfer_list_measure;
  widget_class->size_allocate = tc_transfer_list_size_allocate;
  gtk_widget_class_set_css_name (widget_class, "transferlist");
}

static void
tc_transfer_list_init (TcTransferList *self)
{
  self->scroller = gtk_scrolled_window_new ();
  gtk_scrolled_window_set_policy (GTK_SCROLLED_WINDOW (self->scroller),
                                  GTK_POLICY_NEVER, GTK_POLICY_AUTOMATIC);
  gtk_scrolled_window_set_propagate_natural_height (GTK_SCROLLED_WINDOW (self->scroller), TRUE);
  gtk_widget_set_parent (self->scroller, GTK_WIDGET (self));

  self->list_box = GTK_LIST_BOX (gtk_list_box_new ());
  gtk_list_box_set_selection_mode (self->list_box, GTK_SELECTION_NONE);
  gtk_widget_add_css_class (GTK_WIDGET (self->list_box), "boxed-list");
  /* The box as tall as its rows, not as the window. */
  gtk_widget_set_valign (GTK_WIDGET (self->list_box), GTK_ALIGN_START);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->list_box),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("File Transfers"),
                                  -1);
  gtk_scrolled_window_set_child (GTK_SCROLLED_WINDOW (self->scroller), GTK_WIDGET (self->list_box));

  gtk_widget_set_visible (GTK_WIDGET (self), FALSE);
}

GtkWidget *
tc_transfer_list_new (void)
{
  return g_object_new (TC_TYPE_TRANSFER_LIST, NULL);
}
