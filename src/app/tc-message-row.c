/* tc-message-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-message-row.h"

struct _TcMessageRow
{
  GtkWidget     parent_instance;

  TcMessage    *item;
  GSignalGroup *signals;

  guint         position;
  guint         flash_source;
  gboolean      outgoing;
  /* The width of the text's widest line when it wraps at fit_for, while
   * its natural width (font, text) is fit_natural. */
  int           fit_for;
  int           fit_natural;
  int           fit;

  GtkWidget    *day_label;   /* only on the first message of a day */
  GtkWidget    *bubble;
  GtkLabel     *text_label;
  GtkLabel     *time_label;
  GtkImage     *state_icon;
};

G_DEFINE_FINAL_TYPE (TcMessageRow, tc_message_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ITEM,
  PROP_POSITION,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
format_time (GDateTime *date)
{
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) now = NULL;

  if (date == NULL)
    return NULL;

  local = g_date_time_to_local (date);
  now = g_date_time_new_now_local ();

  if (g_date_time_get_year (local) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now))
    /* Translators: time of a message sent today, see g_date_time_format() */
    return g_date_time_format (local, _("%H:%M"));

  if (g_date_time_get_year (local) == g_date_time_get_year (now))
    /* Translators: date and time of an older message of this year */
    return g_date_time_format (local, _("%e %b, %H:%M"));

  /* Translators: date and time of a message from another year */
  return g_date_time_format (local, _("%e %b %Y, %H:%M"));
}

static gboolean
same_day (GDateTime *a,
          GDateTime *b)
{
  g_autoptr(GDateTime) la = g_date_time_to_local (a);
  g_autoptr(GDateTime) lb = g_date_time_to_local (b);

  return g_date_time_get_year (la) == g_date_time_get_year (lb) &&
         g_date_time_get_day_of_year (la) == g_date_time_get_day_of_year (lb);
}

static char *
format_day (GDateTime *date)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autoptr(GDateTime) yesterday = g_date_time_add_days (now, -1);
  g_autoptr(GDateTime) local = g_date_time_to_local (date);

  if (same_day (date, now))
    return g_strdup (_("Today"));
  if (same_day (date, yesterday))
    return g_strdup (_("Yesterday"));

  /* Translators: a day separator in the conversation, see g_date_time_format() */
  return g_date_time_format (local, _("%A, %e %B %Y"));
}

/* A day separator above the first message of each day: the grid view's
 * model has the message before this one. A new row gets its item before
 * it is in the list, a recycled row its new item before its new position:
 * until the model agrees, nothing changes. */
static void
tc_message_row_update_day (TcMessageRow *self)
{
  GtkWidget *list = gtk_widget_get_ancestor (GTK_WIDGET (self), GTK_TYPE_GRID_VIEW);
  GListModel *model = list ? G_LIST_MODEL (gtk_grid_view_get_model (GTK_GRID_VIEW (list))) : NULL;
  g_autoptr(TcMessage) previous = NULL;
  g_autofree char *day = NULL;
  GDateTime *date = self->item ? tc_message_get_date (self->item) : NULL;

  if (date != NULL && self->position != GTK_INVALID_LIST_POSITION && model != NULL)
    {
      g_autoptr(TcMessage) current = g_list_model_get_item (model, self->position);

      if (current != self->item)
        return;

      if (self->position > 0)
        previous = g_list_model_get_item (model, self->position - 1);

      if (previous == NULL || tc_message_get_date (previous) == NULL ||
          !same_day (tc_message_get_date (previous), date))
        day = format_day (date);
    }

  /* Few rows start a day: the others have no separator at all, rather
   * than a hidden label each. */
  if (day == NULL)
    {
      g_clear_pointer (&self->day_label, gtk_widget_unparent);
      return;
    }

  if (self->day_label == NULL)
    {
      self->day_label = gtk_label_new (NULL);
      gtk_widget_set_halign (self->day_label, GTK_ALIGN_CENTER);
      gtk_widget_set_css_classes (self->day_label,
                                  (const char *[]) { "day-separator", "caption-heading", "dim-label", NULL });
      gtk_widget_insert_after (self->day_label, GTK_WIDGET (self), NULL);
    }
  gtk_label_set_label (GTK_LABEL (self->day_label), day);
}

static const char *
state_label (TcMessageRow *self)
{
  switch (self->item ? tc_message_get_state (self->item) : TC_MESSAGE_STATE_RECEIVED)
    {
    case TC_MESSAGE_STATE_QUEUED:
      return _("Waiting to be sent");
    case TC_MESSAGE_STATE_SENT:
      return _("Sent");
    case TC_MESSAGE_STATE_DELIVERED:
      return _("Delivered");
    case TC_MESSAGE_STATE_FAILED:
      return _("Not delivered");
    case TC_MESSAGE_STATE_RECEIVED:
    default:
      return NULL;
    }
}

static void
tc_message_row_update_state (TcMessageRow *self)
{
  const char *icon_name = NULL;
  const char *label;
  TcMessageState state;

  if (self->item == NULL)
    return;

  state = tc_message_get_state (self->item);
  label = state_label (self);

  switch (state)
    {
    case TC_MESSAGE_STATE_QUEUED:
      icon_name = "tc-message-queued-symbolic";
      break;
    case TC_MESSAGE_STATE_SENT:
      icon_name = "tc-message-sent-symbolic";
      break;
    case TC_MESSAGE_STATE_DELIVERED:
      icon_name = "tc-message-delivered-symbolic";
      break;
    case TC_MESSAGE_STATE_FAILED:
      icon_name = "dialog-error-symbolic";
      break;
    case TC_MESSAGE_STATE_RECEIVED:
    default:
      break;
    }

  gtk_widget_set_visible (GTK_WIDGET (self->state_icon), icon_name != NULL);
  if (icon_name != NULL)
    {
      gtk_image_set_from_icon_name (self->state_icon, icon_name);
      gtk_accessible_update_property (GTK_ACCESSIBLE (self->state_icon),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                      -1);
    }

  if (state == TC_MESSAGE_STATE_FAILED)
    gtk_widget_add_css_class (GTK_WIDGET (self->state_icon), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->state_icon), "error");
}

/* The full date and time, for the time label's tooltip and description. */
static char *
format_full (GDateTime *date)
{
  g_autoptr(GDateTime) local = NULL;

  if (date == NULL)
    return NULL;

  local = g_date_time_to_local (date);
  return g_date_time_format (local, "%c");
}

/* Tooltips are asked for when the pointer rests on them, not set on every
 * bind: gtk_widget_set_tooltip_text() asks the X server where the pointer
 * is, a round trip for every row the list view binds while scrolling
 * (docs/benchmarks.md, Window). */
static gboolean
query_tooltip_cb (GtkWidget    *widget,
                  int           x,
                  int           y,
                  gboolean      keyboard,
                  GtkTooltip   *tooltip,
                  TcMessageRow *self)
{
  g_autofree char *text = NULL;

  if (self->item == NULL)
    return FALSE;

  if (widget == GTK_WIDGET (self->time_label))
    text = format_full (tc_message_get_date (self->item));
  else
    text = g_strdup (state_label (self));

  if (text == NULL)
    return FALSE;

  gtk_tooltip_set_text (tooltip, text);
  return TRUE;
}

/* A wrapping GtkLabel (GTK 4.8) finds its minimum width by laying its
 * text out at width 0, one line per character: about 20 times the cost of
 * the other layouts it makes, and most of what a new row costs while
 * scrolling (docs/benchmarks.md, Window). With width-chars set it lays
 * out at that width instead. But width-chars is also the least width the
 * label asks for, so it is set only for text with a line long enough to
 * be wider anyway; a short line keeps a bubble as narrow as its text. */
#define TEXT_MIN_CHARS 10
#define TEXT_LONG_LINE_CHARS (3 * TEXT_MIN_CHARS)

static int
text_width_chars (const char *text)
{
  guint line = 0;

  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\n')
        line = 0;
      else if (!g_unichar_iszerowidth (c) && !g_unichar_ismark (c) &&
               ++line >= TEXT_LONG_LINE_CHARS)
        return TEXT_MIN_CHARS;
    }

  return -1;
}

static void
tc_message_row_update (TcMessageRow *self)
{
  g_autofree char *time = NULL;
  g_autofree char *full = NULL;
  const char *text;
  gboolean outgoing = FALSE;

  if (self->item != NULL)
    {
      GDateTime *date = tc_message_get_date (self->item);

      outgoing = tc_message_get_direction (self->item) == TC_MESSAGE_DIRECTION_OUTGOING;
      time = format_time (date);
      full = format_full (date);
    }

  text = self->item ? tc_message_get_text (self->item) : NULL;
  if (g_strcmp0 (text, gtk_label_get_label (self->text_label)) != 0)
    {
      gtk_label_set_width_chars (self->text_label, text_width_chars (text));
      gtk_label_set_label (self->text_label, text);
      self->fit_for = -1;
    }
  gtk_label_set_label (self->time_label, time);
  /* What the tooltip says, for screen readers. */
  if (full != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (self->time_label),
                                    GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, full,
                                    -1);
  else
    gtk_accessible_reset_property (GTK_ACCESSIBLE (self->time_label),
                                   GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);

  if (self->outgoing != outgoing)
    {
      self->outgoing = outgoing;
      gtk_widget_queue_allocate (GTK_WIDGET (self));
    }
  if (outgoing)
    {
      gtk_widget_add_css_class (self->bubble, "outgoing");
      gtk_widget_remove_css_class (self->bubble, "incoming");
    }
  else
    {
      gtk_widget_add_css_class (self->bubble, "incoming");
      gtk_widget_remove_css_class (self->bubble, "outgoing");
    }

  tc_message_row_update_state (self);
  tc_message_row_update_day (self);
}

static void
item_state_cb (TcMessageRow *self,
               GParamSpec   *pspec,
               TcMessage    *message)
{
  tc_message_row_update_state (self);
  /* A tooltip on screen shows the new state: query-tooltip is only asked
   * again when the pointer moves. */
  gtk_widget_trigger_tooltip_query (GTK_WIDGET (self->state_icon));
}

/* The day separator above the bubble; the bubble as wide as its text, at
 * the start (incoming) or the end (outgoing). Done here rather than by a
 * box and the bubble's halign: GTK aligns a widget by asking its width
 * for the allocated height, which a wrapping label answers with a binary
 * search over a dozen layouts of its text, for every row the list view
 * makes while scrolling (docs/benchmarks.md, Window). Text that wraps
 * gets a bubble as wide as its widest line, from one layout. */
static int
bubble_width (TcMessageRow *self,
              int           for_width)
{
  int minimum, natural, text_natural, extra;

  gtk_widget_measure (self->bubble, GTK_ORIENTATION_HORIZONTAL, -1,
                      &minimum, &natural, NULL, NULL);
  if (for_width < 0 || natural <= for_width)
    return natural;
  if (for_width <= minimum)
    return minimum;

  /* The text is the bubble's widest child when it wraps. */
  gtk_widget_measure (GTK_WIDGET (self->text_label), GTK_ORIENTATION_HORIZONTAL, -1,
                      NULL, &text_natural, NULL, NULL);
  extra = MAX (natural - text_natural, 0);

  if (self->fit_for != for_width - extra || self->fit_natural != text_natural)
    {
      g_autoptr(PangoLayout) layout = pango_layout_copy (gtk_label_get_layout (self->text_label));
      PangoRectangle logical;

      self->fit_for = for_width - extra;
      self->fit_natural = text_natural;
      pango_layout_set_width (layout, self->fit_for * PANGO_SCALE);
      pango_layout_get_extents (layout, NULL, &logical);
      self->fit = PANGO_PIXELS_CEIL (logical.width);
    }

  return CLAMP (self->fit + extra, minimum, for_width);
}

static void
tc_message_row_root (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (tc_message_row_parent_class)->root (widget);

  tc_message_row_update_day (TC_MESSAGE_ROW (widget));
}

static GtkSizeRequestMode
tc_message_row_get_request_mode (GtkWidget *widget)
{
  return GTK_SIZE_REQUEST_HEIGHT_FOR_WIDTH;
}

static void
tc_message_row_measure (GtkWidget      *widget,
                        GtkOrientation  orientation,
                        int             for_size,
                        int            *minimum,
                        int            *natural,
                        int            *minimum_baseline,
                        int            *natural_baseline)
{
  TcMessageRow *self = TC_MESSAGE_ROW (widget);
  GtkWidget *day = self->day_label;
  int day_min = 0, day_nat = 0;

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      /* The bubble's width does not depend on the height it gets. */
      gtk_widget_measure (self->bubble, orientation, -1, minimum, natural, NULL, NULL);
      if (day != NULL)
        gtk_widget_measure (day, orientation, -1, &day_min, &day_nat, NULL, NULL);
      *minimum = MAX (*minimum, day_min);
      *natural = MAX (*natural, day_nat);
      return;
    }

  gtk_widget_measure (self->bubble, orientation, bubble_width (self, for_size),
                      minimum, natural, NULL, NULL);
  if (day != NULL)
    gtk_widget_measure (day, orientation, for_size, &day_min, &day_nat, NULL, NULL);
  *minimum += day_min;
  *natural += day_nat;
}

static void
tc_message_row_size_allocate (GtkWidget *widget,
                              int        width,
                              int        height,
                              int        baseline)
{
  TcMessageRow *self = TC_MESSAGE_ROW (widget);
  GtkWidget *day = self->day_label;
  gboolean end = self->outgoing != (gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL);
  int day_height = 0, bubble_height = 0;
  int bubble = bubble_width (self, width);

  if (day != NULL)
    {
      gtk_widget_measure (day, GTK_ORIENTATION_VERTICAL, width, &day_height, NULL, NULL, NULL);
      gtk_widget_size_allocate (day, &(GtkAllocation) { 0, 0, width, day_height }, -1);
    }

  /* At its own height, at the top: a grid view makes its rows at least a
   * thirtieth of its height, which a tall window gives short messages. */
  gtk_widget_measure (self->bubble, GTK_ORIENTATION_VERTICAL, bubble,
                      NULL, &bubble_height, NULL, NULL);
  gtk_widget_size_allocate (self->bubble,
                            &(GtkAllocation) { end ? width - bubble : 0, day_height,
                                               bubble, CLAMP (bubble_height, 0, MAX (height - day_height, 0)) },
                            -1);
}

static void
tc_message_row_dispose (GObject *object)
{
  TcMessageRow *self = (TcMessageRow *)object;
  GtkWidget *child;

  g_clear_handle_id (&self->flash_source, g_source_remove);
  if (self->signals != NULL)
    g_signal_group_set_target (self->signals, NULL);
  g_clear_object (&self->signals);
  g_clear_object (&self->item);

  g_clear_pointer (&self->day_label, gtk_widget_unparent);
  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_MESSAGE_ROW);
  /* dispose_template() only unparents the children that have an id. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (tc_message_row_parent_class)->dispose (object);
}

static void
tc_message_row_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TcMessageRow *self = TC_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;

    case PROP_POSITION:
      g_value_set_uint (value, self->position);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_message_row_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  TcMessageRow *self = TC_MESSAGE_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      tc_message_row_set_item (self, g_value_get_object (value));
      break;

    case PROP_POSITION:
      if (self->position != g_value_get_uint (value))
        {
          self->position = g_value_get_uint (value);
          tc_message_row_update_day (self);
          g_object_notify_by_pspec (object, pspec);
        }
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_message_row_class_init (TcMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_message_row_dispose;
  object_class->get_property = tc_message_row_get_property;
  object_class->set_property = tc_message_row_set_property;

  widget_class->root = tc_message_row_root;
  widget_class->get_request_mode = tc_message_row_get_request_mode;
  widget_class->measure = tc_message_row_measure;
  widget_class->size_allocate = tc_message_row_size_allocate;

  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL,
                         TC_TYPE_MESSAGE,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  /* Its place in the conversation, bound from the list item. */
  properties[PROP_POSITION] =
    g_param_spec_uint ("position", NULL, NULL,
                       0, G_MAXUINT, GTK_INVALID_LIST_POSITION,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TcMessageRow, bubble);
  gtk_widget_class_bind_template_child (widget_class, TcMessageRow, text_label);
  gtk_widget_class_bind_template_child (widget_class, TcMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, TcMessageRow, state_icon);
  gtk_widget_class_bind_template_callback (widget_class, query_tooltip_cb);

  gtk_widget_class_set_css_name (widget_class, "messagerow");
}

static void
tc_message_row_init (TcMessageRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->position = GTK_INVALID_LIST_POSITION;
  self->fit_for = -1;

  self->signals = g_signal_group_new (TC_TYPE_MESSAGE);
  g_signal_group_connect_object (self->signals, "notify::state",
                                 G_CALLBACK (item_state_cb), self,
                                 G_CONNECT_SWAPPED);
}

GtkWidget *
tc_message_row_new (void)
{
  return g_object_new (TC_TYPE_MESSAGE_ROW, NULL);
}

TcMessage *
tc_message_row_get_item (TcMessageRow *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE_ROW (self), NULL);

  return self->item;
}

void
tc_message_row_set_item (TcMessageRow *self,
                         TcMessage    *item)
{
  g_return_if_fail (TC_IS_MESSAGE_ROW (self));
  g_return_if_fail (item == NULL || TC_IS_MESSAGE (item));

  if (!g_set_object (&self->item, item))
    return;

  /* A recycled row: the flash was for the message it showed before. */
  g_clear_handle_id (&self->flash_source, g_source_remove);
  gtk_widget_remove_css_class (self->bubble, "flash");

  g_signal_group_set_target (self->signals, item);
  tc_message_row_update (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}

static gboolean
flash_done_cb (gpointer data)
{
  TcMessageRow *self = data;

  self->flash_source = 0;
  gtk_widget_remove_css_class (self->bubble, "flash");

  return G_SOURCE_REMOVE;
}

void
tc_message_row_flash (TcMessageRow *self)
{
  g_return_if_fail (TC_IS_MESSAGE_ROW (self));

  g_clear_handle_id (&self->flash_source, g_source_remove);
  gtk_widget_add_css_class (self->bubble, "flash");
  self->flash_source = g_timeout_add (2000, flash_done_cb, self);
}
