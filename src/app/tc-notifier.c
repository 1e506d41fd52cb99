/* tc-notifier.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <libnotify/notify.h>

#include "tc-notifier.h"

/* Longer messages are cut in the notification; the window has them whole. */
#define MAX_BODY_CHARS 200

struct _TcNotifier
{
  GObject         parent_instance;

  GtkApplication *application;   /* weak */
  TcNode         *node;
  /* address → NotifyNotification: one per contact, replaced as messages
   * come in, so a chatty contact does not fill the notification list. */
  GHashTable     *notifications;
  gboolean        initialized;
};

G_DEFINE_FINAL_TYPE (TcNotifier, tc_notifier, G_TYPE_OBJECT)

static gboolean
tc_notifier_window_is_active (TcNotifier *self)
{
  GtkWindow *window;

  if (self->application == NULL)
    return FALSE;

  window = gtk_application_get_active_window (self->application);

  return window != NULL && gtk_window_is_active (window);
}

static void
default_action_cb (NotifyNotification *notification,
                   char               *action,
                   gpointer            user_data)
{
  TcNotifier *self = user_data;
  const char *address = g_object_get_data (G_OBJECT (notification), "tc-address");

  if (self->application == NULL || address == NULL)
    return;

  g_action_group_activate_action (G_ACTION_GROUP (self->application),
                                  "open-conversation",
                                  g_variant_new_string (address));
}

static void
closed_cb (NotifyNotification *notification,
           TcNotifier         *self)
{
  const char *address = g_object_get_data (G_OBJECT (notification), "tc-address");

  if (address != NULL &&
      g_hash_table_lookup (self->notifications, address) == notification)
    g_hash_table_remove (self->notifications, address);
}

static void
tc_notifier_show (TcNotifier *self,
                  TcContact  *contact,
                  const char *summary,
                  const char *body)
{
  g_autoptr(GError) error = NULL;
  const char *address = tc_contact_get_address (contact);
  NotifyNotification *notification;

  if (!self->initialized)
    return;

  notification = g_hash_table_lookup (self->notifications, address);
  if (notification != NULL)
    {
      notify_notification_update (notification, summary, body, APP_ID);
    }
  else
    {
      notification = notify_notification_new (summary, body, APP_ID);
      g_object_set_data_full (G_OBJECT (notification), "tc-address",
                              g_strdup (address), g_free);
      notify_notification_set_hint (notification, "desktop-entry",
                                    g_variant_new_string (APP_ID));
      notify_notification_add_action (notification, "default", _("Open Conversation"),
                                      default_action_cb, self, NULL);
      g_signal_connect_object (notification, "closed",
                               G_CALLBACK (closed_cb), self, 0);
      g_hash_table_insert (self->notifications, g_strdup (address), notification);
    }

  notify_notification_set_category (notification, "im.received");

  /* No daemon, no session bus: not worth more than a debug line. */
  if (!notify_notification_show (notification, &error))
    g_debug ("Could not show a notification: %s", error->message);
}

static void
message_received_cb (TcNotifier *self,
                     TcContact  *contact,
                     TcMessage  *message,
                     TcNode     *node)
{
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  const char *text;

  if (tc_notifier_window_is_active (self))
    return;

  /* Translators: %s is the name of the contact who wrote */
  summary = g_strdup_printf (_("New message from %s"), tc_contact_get_display_name (contact));

  text = tc_message_get_text (message);
  if (text != NULL && g_utf8_strlen (text, -1) > MAX_BODY_CHARS)
    {
      g_autofree char *cut = g_utf8_substring (text, 0, MAX_BODY_CHARS);

      body = g_strconcat (cut, "…", NULL);
    }
  else
    {
      body = g_strdup (text);
    }

  tc_notifier_show (self, contact, summary, body);
}

static void
contact_request_cb (TcNotifier *self,
                    TcContact  *contact,
                    TcNode     *node)
{
  g_autofree char *summary = NULL;

  if (tc_notifier_window_is_active (self))
    return;

  /* Translators: %s is the name of a person asking to be a contact */
  summary = g_strdup_printf (_("%s wants to be your contact"), tc_contact_get_display_name (contact));
  tc_notifier_show (self, contact, summary, tc_contact_get_greeting (contact));
}

static void
close_notification (gpointer data)
{
  NotifyNotification *notification = data;

  g_signal_handlers_disconnect_matched (notification, G_SIGNAL_MATCH_FUNC,
                                        0, 0, NULL, closed_cb, NULL);
  g_object_unref (notification);
}

static void
tc_notifier_dispose (GObject *object)
{
  TcNotifier *self = (TcNotifier *)object;

  g_clear_pointer (&self->notifications, g_hash_table_unref);
  g_clear_weak_pointer (&self->application);
  g_clear_object (&self->node);

  if (self->initialized)
    {
      notify_uninit ();
      self->initialized = FALSE;
    }

  G_OBJECT_CLASS (tc_notifier_parent_class)->dispose (object);
}

static void
tc_notifier_class_init (TcNotifierClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_notifier_dispose;
}

static void
tc_notifier_init (TcNotifier *self)
{
  self->notifications = g_hash_table_new_full (g_str_hash, g_str_equal,
                                               g_free, close_notification);
}

TcNotifier *
tc_notifier_new (GtkApplication *application,
                 TcNode         *node)
{
  TcNotifier *self;

  g_return_val_if_fail (!application || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (TC_IS_NODE (node), NULL);

  self = g_object_new (TC_TYPE_NOTIFIER, NULL);
  g_set_weak_pointer (&self->application, application);
  self->node = g_object_ref (node);
  self->initialized = notify_is_initted () || notify_init (_("TORChat"));

  g_signal_connect_object (node, "message-received",
                           G_CALLBACK (message_received_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (node, "contact-request",
                           G_CALLBACK (contact_request_cb), self,
                           G_CONNECT_SWAPPED);

  return self;
}

void
tc_notifier_withdraw (TcNotifier *self,
                      const char *address)
{
  NotifyNotification *notification;

  g_return_if_fail (TC_IS_NOTIFIER (self));

  if (address == NULL)
    return;

  notification = g_hash_table_lookup (self->notifications, address);
  if (notification != NULL)
    {
      notify_notification_close (notification, NULL);
      g_hash_table_remove (self->notifications, address);
    }
}
