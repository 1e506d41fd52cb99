/* tc-window-conversation.c: the message list's scrolling and the composer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-message-row.h"
#include "tc-window-private.h"

/* Seconds without a keystroke after which we tell the peer we paused. */
#define TYPING_PAUSE_SECONDS 5
/* While typing on, "composing" is said again this often: the peer ends
 * "Typing…" 20 s after the last one (docs/protocol.md). */
#define TYPING_REPEAT_US (10 * G_USEC_PER_SEC)

void
_tc_window_send_typing (TcWindow *self,
                       TcTyping  typing)
{
  gint64 now = g_get_monotonic_time ();

  if (self->contact == NULL ||
      (self->typing_sent == typing &&
       (typing != TC_TYPING_COMPOSING || now - self->typing_sent_at < TYPING_REPEAT_US)))
    return;

  self->typing_sent = typing;
  self->typing_sent_at = now;
  if (tc_contact_get_state (self->contact) == TC_CONTACT_STATE_ACCEPTED)
    tc_node_set_typing (self->node, tc_contact_get_address (self->contact), typing);
}

/* The list view only knows the heights of the rows it made, so "the
 * bottom" moves as rows appear: scroll to the last item first (the view
 * creates the rows around it), then to the end of the adjustment. */
static void
scroll_to_bottom (TcWindow *self)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);
  guint n_items = self->conversation ? g_list_model_get_n_items (G_LIST_MODEL (self->conversation)) : 0;

  self->scrolling = TRUE;
  if (n_items > 0)
    gtk_widget_activate_action (GTK_WIDGET (self->message_list), "list.scroll-to-item",
                                "u", n_items - 1);
  gtk_adjustment_set_value (adj, gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj));
  self->scrolling = FALSE;
}

/* The row the list view made for the message at @position, if any. */
static TcMessageRow *
find_message_row (TcWindow *self,
                  guint     position)
{
  g_autoptr(TcMessage) message = NULL;

  if (self->conversation == NULL ||
      !(message = g_list_model_get_item (G_LIST_MODEL (self->conversation), position)))
    return NULL;

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->message_list));
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = gtk_widget_get_first_child (child);

      if (TC_IS_MESSAGE_ROW (row) && tc_message_row_get_item (TC_MESSAGE_ROW (row)) == message &&
          gtk_widget_get_mapped (row))
        return TC_MESSAGE_ROW (row);
    }

  return NULL;
}

/* The list view scrolls just enough to show the item: an edge of the view.
 * Its row in the middle reads better. */
static void
scroll_to_target (TcWindow *self,
                  gboolean  last_frame)
{
  GtkAdjustment *adj = gtk_scrolled_window_get_vadjustment (self->message_scroller);
  TcMessageRow *row;
  graphene_point_t point;

  self->scrolling = TRUE;
  gtk_widget_activate_action (GTK_WIDGET (self->message_list), "list.scroll-to-item",
                              "u", self->scroll_target);
  row = find_message_row (self, self->scroll_target);
  if (row != NULL &&
      gtk_widget_compute_point (GTK_WIDGET (row), GTK_WIDGET (self->message_scroller),
                                &GRAPHENE_POINT_INIT (0, 0), &point))
    {
      double middle = point.y + gtk_widget_get_height (GTK_WIDGET (row)) / 2.0;

      gtk_adjustment_set_value (adj, gtk_adjustment_get_value (adj) + middle -
                                     gtk_adjustment_get_page_size (adj) / 2.0);
      if (last_frame)
        tc_message_row_flash (row);
    }
  self->scrolling = FALSE;
}

static gboolean
stick_tick_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  TcWindow *self = TC_WINDOW (widget);

  if (self->stick_frames > 0)
    self->stick_frames--;

  if (self->scroll_target != GTK_INVALID_LIST_POSITION)
    scroll_to_target (self, self->stick_frames == 0);
  else if (self->stick_to_bottom)
    scroll_to_bottom (self);

  if (self->stick_frames == 0)
    {
      self->scroll_target = GTK_INVALID_LIST_POSITION;
      self->stick_tick = 0;
      return G_SOURCE_REMOVE;
    }

  return G_SOURCE_CONTINUE;
}

/* For the next frames, keep at the bottom while the rows settle. */
void
_tc_window_stick_for_frames (TcWindow *self)
{
  self->stick_frames = 10;
  if (self->stick_tick == 0)
    self->stick_tick = gtk_widget_add_tick_callback (GTK_WIDGET (self), stick_tick_cb, NULL, NULL);
}

void
_tc_window_scroll_to_message (TcWindow *self,
                              guint     position)
{
  self->stick_to_bottom = FALSE;
  self->scroll_target = position;
  _tc_window_stick_for_frames (self);
  /* Rows far from the old view are made and measured first. */
  self->stick_frames = 20;
}

static void
vadjustment_changed_cb (TcWindow      *self,
                        GtkAdjustment *adj)
{
  if (self->stick_to_bottom)
    scroll_to_bottom (self);
}

static void
vadjustment_value_changed_cb (TcWindow      *self,
                              GtkAdjustment *adj)
{
  double bottom = gtk_adjustment_get_upper (adj) - gtk_adjustment_get_page_size (adj);

  /* Only the user's scrolling decides; the list view resets the value
   * itself when its model changes. */
  if (self->scrolling || self->stick_frames > 0)
    return;

  self->stick_to_bottom = gtk_adjustment_get_value (adj) >= bottom - 24;
}

static void
messages_items_changed_cb (TcWindow   *self,
                           guint       position,
                           guint       removed,
                           guint       added,
                           GListModel *model)
{
  if (self->stick_to_bottom && self->scroll_target == GTK_INVALID_LIST_POSITION)
    _tc_window_stick_for_frames (self);
}

static gboolean
typing_pause_cb (gpointer data)
{
  TcWindow *self = data;

  self->typing_pause_source = 0;
  _tc_window_send_typing (self, TC_TYPING_PAUSED);

  return G_SOURCE_REMOVE;
}

static void
composer_changed_cb (TcWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  gboolean empty = gtk_text_buffer_get_char_count (buffer) == 0;

  gtk_widget_set_visible (GTK_WIDGET (self->composer_placeholder), empty);

  gtk_widget_set_sensitive (self->send_button,
                            !empty && gtk_widget_get_sensitive (GTK_WIDGET (self->composer)));

  if (self->restoring_draft || self->contact == NULL)
    return;

  g_clear_handle_id (&self->typing_pause_source, g_source_remove);
  if (empty)
    {
      _tc_window_send_typing (self, TC_TYPING_ACTIVE);
      return;
    }

  _tc_window_send_typing (self, TC_TYPING_COMPOSING);
  self->typing_pause_source = g_timeout_add_seconds (TYPING_PAUSE_SECONDS, typing_pause_cb, self);
}

static void
composer_activate_cb (TcWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcMessage) message = NULL;
  g_autofree char *text = NULL;

  if (self->contact == NULL || !gtk_widget_get_sensitive (GTK_WIDGET (self->composer)))
    return;

  text = _tc_window_dup_composer_text (self);
  g_strstrip (text);
  if (text[0] == '\0')
    return;

  message = tc_node_send_message (self->node, tc_contact_get_address (self->contact), text, &error);
  if (message == NULL)
    {
      tc_window_show_error (self, error);
      return;
    }

  self->stick_to_bottom = TRUE;
  self->scroll_target = GTK_INVALID_LIST_POSITION;
  g_hash_table_remove (self->drafts, tc_contact_get_address (self->contact));
  self->restoring_draft = TRUE;
  _tc_window_set_composer_text (self, "");
  self->restoring_draft = FALSE;
  g_clear_handle_id (&self->typing_pause_source, g_source_remove);
  /* The message itself tells the peer we stopped typing. */
  self->typing_sent = TC_TYPING_ACTIVE;
  _tc_window_stick_for_frames (self);
}

char *
_tc_window_dup_composer_text (TcWindow *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);

  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

void
_tc_window_set_composer_text (TcWindow   *self,
                              const char *text)
{
  self->restoring_draft = TRUE;
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->composer), text, -1);
  self->restoring_draft = FALSE;
}

/* Enter sends, Shift+Enter starts a new line. */
static gboolean
composer_key_pressed_cb (TcWindow              *self,
                         guint                  keyval,
                         guint                  keycode,
                         GdkModifierType        state,
                         GtkEventControllerKey *controller)
{
  if ((keyval == GDK_KEY_Return || keyval == GDK_KEY_KP_Enter || keyval == GDK_KEY_ISO_Enter) &&
      (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK)) == 0)
    {
      composer_activate_cb (self);
      return TRUE;
    }

  /* The text view keeps Escape to itself; it closes the conversation. */
  if (keyval == GDK_KEY_Escape && (state & GDK_MODIFIER_MASK) == 0)
    return gtk_widget_activate_action (GTK_WIDGET (self), "win.close-conversation", NULL);

  return FALSE;
}

static void
emoji_picked_cb (TcWindow   *self,
                 const char *emoji)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->composer);

  gtk_text_buffer_insert_at_cursor (buffer, emoji, -1);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

void
_tc_window_class_init_conversation (GtkWidgetClass *widget_class)
{
  gtk_widget_class_bind_template_callback (widget_class, composer_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, emoji_picked_cb);
}

void
_tc_window_init_conversation (TcWindow *self)
{
  GtkAdjustment *vadj = gtk_scrolled_window_get_vadjustment (self->message_scroller);
  GtkEventController *keys = gtk_event_controller_key_new ();

  /* Before the text view inserts a new line. */
  gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
  g_signal_connect_object (keys, "key-pressed",
                           G_CALLBACK (composer_key_pressed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_widget_add_controller (GTK_WIDGET (self->composer), keys);
  g_signal_connect_object (gtk_text_view_get_buffer (self->composer), "changed",
                           G_CALLBACK (composer_changed_cb), self,
                           G_CONNECT_SWAPPED);

  g_signal_connect_object (self->message_selection, "items-changed",
                           G_CALLBACK (messages_items_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (vadj, "changed",
                           G_CALLBACK (vadjustment_changed_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (vadj, "value-changed",
                           G_CALLBACK (vadjustment_value_changed_cb), self,
                           G_CONNECT_SWAPPED);
}
