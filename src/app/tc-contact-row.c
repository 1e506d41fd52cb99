/* tc-contact-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "tc-contact-row.h"
#include "tc-window.h"

struct _TcContactRow
{
  GtkWidget      parent_instance;

  TcContact     *item;
  GBindingGroup *bindings;
  GSignalGroup  *signals;

  AdwAvatar     *avatar;
  GtkWidget     *presence_dot;
  GtkLabel      *title_label;
  GtkLabel      *subtitle_label;
  GtkLabel      *unread_label;
  GtkLabel      *preview_label;

  /* The contact's conversation, for the last message. */
  GSignalGroup  *conversation_signals;

  /* Why they are not online, for the tooltip; whether the pointer is
   * here to see it. */
  char          *connection;
  GtkEventController *motion;

  /* What was last shown, so that an update that changes nothing touches
   * nothing. */
  int            presence;
  char          *accessible_label;
};

G_DEFINE_FINAL_TYPE (TcContactRow, tc_contact_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char * const presence_classes[] = {
  "offline", "available", "away", "away", "busy",
};

static const char *
presence_label (TcPresence presence)
{
  switch (presence)
    {
    case TC_PRESENCE_AVAILABLE:
      return _("Available");
    case TC_PRESENCE_AWAY:
      return _("Away");
    case TC_PRESENCE_XA:
      return _("Away for a while");
    case TC_PRESENCE_DND:
      return _("Do not disturb");
    case TC_PRESENCE_OFFLINE:
    default:
      return _("Offline");
    }
}

/* A connection try has failed since the start or since they were last
 * connected (a connection sets the node's last error back to none). */
static gboolean
tc_contact_row_has_failed (TcContact *contact)
{
  const char *error = tc_contact_get_last_error (contact);

  return !tc_contact_get_connected (contact) && error != NULL && error[0] != '\0';
}

char *
tc_contact_row_describe_contact (TcContact *contact)
{
  const char *status_text;

  g_return_val_if_fail (TC_IS_CONTACT (contact), NULL);

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_REQUESTED:
      return g_strdup (_("Waiting for them to accept"));
    case TC_CONTACT_STATE_PENDING:
      return g_strdup (_("Wants to be your contact"));
    case TC_CONTACT_STATE_DECLINED:
      return g_strdup (_("Not a contact"));
    case TC_CONTACT_STATE_BLOCKED:
      return g_strdup (_("Blocked"));
    case TC_CONTACT_STATE_ACCEPTED:
    default:
      break;
    }

  /* Not online. "Connecting…" only while nothing has failed since the
   * start or since they were last connected; once a try has failed, the
   * node's retries run in the background and the line stays "Offline"
   * (the description says why and when the next try is), rather than
   * flipping at every retry (docs/architecture.md, "Contact state"). */
  if (tc_contact_get_presence (contact) == TC_PRESENCE_OFFLINE)
    {
      if (tc_contact_get_next_attempt (contact) > g_get_real_time () ||
          tc_contact_row_has_failed (contact))
        return g_strdup (_("Offline"));
      return g_strdup (_("Connecting…"));
    }

  if (tc_contact_get_typing (contact) == TC_TYPING_COMPOSING)
    return g_strdup (_("Typing…"));

  status_text = tc_contact_get_status_text (contact);
  if (status_text != NULL && status_text[0] != '\0')
    return g_strdup (status_text);

  return g_strdup (presence_label (tc_contact_get_presence (contact)));
}

char *
tc_contact_row_describe_connection (TcContact *contact)
{
  const char *error;
  g_autofree char *when = NULL;
  gint64 next;

  g_return_val_if_fail (TC_IS_CONTACT (contact), NULL);

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_BLOCKED:
      return g_strdup (_("Blocked: they cannot reach you"));
    case TC_CONTACT_STATE_DECLINED:
      return g_strdup (_("Not a contact"));
    case TC_CONTACT_STATE_PENDING:
      return g_strdup (_("Waiting for your answer"));
    case TC_CONTACT_STATE_REQUESTED:
    case TC_CONTACT_STATE_ACCEPTED:
    default:
      break;
    }

  if (tc_contact_get_connected (contact))
    return g_strdup (_("Connected"));

  error = tc_contact_get_last_error (contact);
  if (error != NULL && error[0] == '\0')
    error = NULL;
  next = tc_contact_get_next_attempt (contact);
  if (next > g_get_real_time ())
    {
      g_autoptr(GDateTime) at = g_date_time_new_from_unix_local (next / G_USEC_PER_SEC);

      /* Translators: a time of day, as in “tries again at 14:05:09” */
      when = g_date_time_format (at, _("%H:%M:%S"));
    }

  if (when != NULL && error != NULL)
    /* Translators: %s is why the last connection failed, then a time of day */
    return g_strdup_printf (_("Offline. The last try failed: %s. TORChat tries again at %s."),
                            error, when);
  if (when != NULL)
    /* Translators: %s is a time of day */
    return g_strdup_printf (_("Offline. TORChat tries again at %s."), when);
  /* No attempt waiting: one is under way (a next-attempt just passed
   * becomes 0 as the attempt starts). After a failure that is a retry in
   * the background: still offline, as the row says. */
  if (error != NULL)
    /* Translators: %s is why the last connection failed */
    return g_strdup_printf (_("Offline. The last try failed: %s. TORChat is trying again now."),
                            error);

  return g_strdup (_("Connecting…"));
}

/* The row's name or description, on the row and on the cell of the list
 * that holds it: the cell is what has the keyboard focus, and GTK 4.8
 * names it after its type ("GtkListItemWidget") unless told. */
static void
set_accessible (TcContactRow          *self,
                GtkAccessibleProperty  property,
                const char            *value)
{
  GtkWidget *cell = gtk_widget_get_parent (GTK_WIDGET (self));
  GtkAccessible *targets[] = { GTK_ACCESSIBLE (self), cell ? GTK_ACCESSIBLE (cell) : NULL };

  for (guint i = 0; i < G_N_ELEMENTS (targets) && targets[i] != NULL; i++)
    {
      if (value != NULL)
        gtk_accessible_update_property (targets[i], property, value, -1);
      else
        gtk_accessible_reset_property (targets[i], property);
    }
}

static void
tc_contact_row_update (TcContactRow *self)
{
  g_autofree char *subtitle = NULL;
  g_autofree char *connection = NULL;
  TcPresence presence = TC_PRESENCE_OFFLINE;
  guint unread = 0;

  if (self->item != NULL)
    {
      subtitle = tc_contact_row_describe_contact (self->item);
      /* Why a contact is not online, and until when, under the pointer
       * (a request or a blocked address has its line already). */
      if (!tc_contact_get_connected (self->item) &&
          (tc_contact_get_state (self->item) == TC_CONTACT_STATE_ACCEPTED ||
           tc_contact_get_state (self->item) == TC_CONTACT_STATE_REQUESTED))
        connection = tc_contact_row_describe_connection (self->item);
      presence = tc_contact_get_presence (self->item);
      unread = tc_contact_get_unread (self->item);
    }

  /* Every contact notifies at each connection attempt: only what changed
   * is touched, so that a retry redraws nothing (a new label text means a
   * new layout, a CSS class a new style, both a frame). */
  if (g_strcmp0 (gtk_label_get_label (self->subtitle_label), subtitle ? subtitle : "") != 0)
    gtk_label_set_label (self->subtitle_label, subtitle);

  if ((int) presence != self->presence)
    {
      for (guint i = 0; i < G_N_ELEMENTS (presence_classes); i++)
        gtk_widget_remove_css_class (self->presence_dot, presence_classes[i]);
      if ((guint) presence < G_N_ELEMENTS (presence_classes))
        gtk_widget_add_css_class (self->presence_dot, presence_classes[presence]);
      self->presence = presence;
    }
  /* Only when it changes: each new tooltip asks the display where the
   * pointer is, a round trip, for every update of the row. */
  if (g_strcmp0 (gtk_widget_get_tooltip_text (self->presence_dot), presence_label (presence)) != 0)
    gtk_widget_set_tooltip_text (self->presence_dot, presence_label (presence));
  /* The connection's tooltip is asked for (query-tooltip), not set: set,
   * it would cost that round trip for every row bound while scrolling.
   * When the words change under the pointer, the tooltip on screen is
   * asked for again, so that it shows the new ones at once. */
  if (g_strcmp0 (self->connection, connection) != 0)
    {
      g_free (self->connection);
      self->connection = g_strdup (connection);
      set_accessible (self, GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, connection);
      if (gtk_event_controller_motion_contains_pointer (GTK_EVENT_CONTROLLER_MOTION (self->motion)))
        gtk_widget_trigger_tooltip_query (GTK_WIDGET (self));
    }
  /* Only being online is worth a mark; the line below says the rest. */
  gtk_widget_set_visible (self->presence_dot, presence != TC_PRESENCE_OFFLINE);

  if (unread > 0)
    {
      g_autofree char *count = NULL;

      count = unread > 99 ? g_strdup ("99+") : g_strdup_printf ("%u", unread);
      gtk_label_set_label (self->unread_label, count);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->unread_label), unread > 0);

  if (self->item != NULL)
    {
      g_autofree char *accessible = NULL;

      if (unread > 0)
        /* Translators: a contact row for screen readers: "Alice, Available, 3 unread messages" */
        accessible = g_strdup_printf (ngettext ("%s, %s, %u unread message",
                                                "%s, %s, %u unread messages", unread),
                                      tc_contact_get_display_name (self->item),
                                      subtitle, unread);
      else
        accessible = g_strdup_printf ("%s, %s",
                                      tc_contact_get_display_name (self->item),
                                      subtitle);
      if (g_strcmp0 (self->accessible_label, accessible) != 0)
        {
          set_accessible (self, GTK_ACCESSIBLE_PROPERTY_LABEL, accessible);
          g_free (self->accessible_label);
          self->accessible_label = g_steal_pointer (&accessible);
        }
    }
}

/* The last message under the name: only rows on screen exist, so only
 * their conversations are read, one message each. */
static void
tc_contact_row_update_preview (TcContactRow *self)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  TcConversation *conversation = NULL;
  g_autoptr(TcMessage) last = NULL;
  g_autofree char *preview = NULL;
  guint n_items;

  if (self->item != NULL && TC_IS_WINDOW (root))
    conversation = tc_node_get_conversation (tc_window_get_node (TC_WINDOW (root)),
                                             tc_contact_get_address (self->item));
  g_signal_group_set_target (self->conversation_signals, conversation);

  if (conversation != NULL && (n_items = g_list_model_get_n_items (G_LIST_MODEL (conversation))) > 0)
    last = g_list_model_get_item (G_LIST_MODEL (conversation), n_items - 1);

  if (last != NULL)
    {
      g_autofree char *line = g_strdup (tc_message_get_text (last));

      /* One line: the first of the message. */
      g_strdelimit (line, "\n\r", ' ');
      if (tc_message_get_direction (last) == TC_MESSAGE_DIRECTION_OUTGOING)
        /* Translators: the preview of a message you sent, under a contact's name */
        preview = g_strdup_printf (_("You: %s"), line);
      else
        preview = g_steal_pointer (&line);
    }

  gtk_label_set_label (self->preview_label, preview);
  gtk_widget_set_visible (GTK_WIDGET (self->preview_label), preview != NULL);
}

static gboolean
tc_contact_row_query_tooltip (GtkWidget  *widget,
                              int         x,
                              int         y,
                              gboolean    keyboard,
                              GtkTooltip *tooltip)
{
  TcContactRow *self = TC_CONTACT_ROW (widget);

  if (self->connection == NULL)
    return FALSE;

  gtk_tooltip_set_text (tooltip, self->connection);
  return TRUE;
}

static void
conversation_changed_cb (TcContactRow *self)
{
  tc_contact_row_update_preview (self);
}

static void
tc_contact_row_root (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (tc_contact_row_parent_class)->root (widget);

  tc_contact_row_update_preview (TC_CONTACT_ROW (widget));
}

static void
item_notify_cb (TcContactRow *self,
                GParamSpec   *pspec,
                TcContact    *contact)
{
  tc_contact_row_update (self);
}

static void
tc_contact_row_dispose (GObject *object)
{
  TcContactRow *self = (TcContactRow *)object;
  GtkWidget *child;

  if (self->bindings != NULL)
    g_binding_group_set_source (self->bindings, NULL);
  if (self->signals != NULL)
    g_signal_group_set_target (self->signals, NULL);
  if (self->conversation_signals != NULL)
    g_signal_group_set_target (self->conversation_signals, NULL);
  g_clear_object (&self->conversation_signals);
  g_clear_object (&self->bindings);
  g_clear_object (&self->signals);
  g_clear_object (&self->item);
  g_clear_pointer (&self->connection, g_free);
  g_clear_pointer (&self->accessible_label, g_free);

  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_CONTACT_ROW);
  /* dispose_template() only unparents the children that have an id. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (tc_contact_row_parent_class)->dispose (object);
}

static void
tc_contact_row_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TcContactRow *self = TC_CONTACT_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_contact_row_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  TcContactRow *self = TC_CONTACT_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      tc_contact_row_set_item (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_contact_row_class_init (TcContactRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_contact_row_dispose;
  object_class->get_property = tc_contact_row_get_property;
  object_class->set_property = tc_contact_row_set_property;

  widget_class->root = tc_contact_row_root;
  widget_class->query_tooltip = tc_contact_row_query_tooltip;

  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL,
                         TC_TYPE_CONTACT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-contact-row.ui");
  gtk_widget_class_bind_template_child (widget_class, TcContactRow, avatar);
  gtk_widget_class_bind_template_child (widget_class, TcContactRow, presence_dot);
  gtk_widget_class_bind_template_child (widget_class, TcContactRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, TcContactRow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, TcContactRow, unread_label);
  gtk_widget_class_bind_template_child (widget_class, TcContactRow, preview_label);

  gtk_widget_class_set_css_name (widget_class, "contactrow");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
tc_contact_row_init (TcContactRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  self->presence = -1;
  gtk_widget_set_has_tooltip (GTK_WIDGET (self), TRUE);
  self->motion = gtk_event_controller_motion_new ();
  gtk_widget_add_controller (GTK_WIDGET (self), self->motion);

  self->bindings = g_binding_group_new ();
  g_binding_group_bind (self->bindings, "display-name",
                        self->title_label, "label",
                        G_BINDING_SYNC_CREATE);
  g_binding_group_bind (self->bindings, "display-name",
                        self->avatar, "text",
                        G_BINDING_SYNC_CREATE);

  self->signals = g_signal_group_new (TC_TYPE_CONTACT);
  g_signal_group_connect_object (self->signals, "notify",
                                 G_CALLBACK (item_notify_cb), self,
                                 G_CONNECT_SWAPPED);

  self->conversation_signals = g_signal_group_new (TC_TYPE_CONVERSATION);
  g_signal_group_connect_object (self->conversation_signals, "items-changed",
                                 G_CALLBACK (conversation_changed_cb), self,
                                 G_CONNECT_SWAPPED);
}

GtkWidget *
tc_contact_row_new (void)
{
  return g_object_new (TC_TYPE_CONTACT_ROW, NULL);
}

TcContact *
tc_contact_row_get_item (TcContactRow *self)
{
  g_return_val_if_fail (TC_IS_CONTACT_ROW (self), NULL);

  return self->item;
}

void
tc_contact_row_set_item (TcContactRow *self,
                         TcContact    *item)
{
  g_return_if_fail (TC_IS_CONTACT_ROW (self));
  g_return_if_fail (item == NULL || TC_IS_CONTACT (item));

  if (!g_set_object (&self->item, item))
    return;

  g_binding_group_set_source (self->bindings, item);
  g_signal_group_set_target (self->signals, item);
  tc_contact_row_update (self);
  tc_contact_row_update_preview (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}
