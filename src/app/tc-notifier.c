/* tc-notifier.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <libnotify/notify.h>

#include "tc-notifier.h"
#include "tc-window.h"

/* Longer messages are cut in the notification; the window has them whole. */
#define MAX_BODY_CHARS 200

/* libnotify's show and close are synchronous D-Bus calls: a notification
 * server that hangs would freeze the window. They run on one worker thread,
 * in the order they were asked for; the main thread only builds the jobs.
 * The notifications' "closed" and action callbacks still come on the main
 * thread, because the worker never pushes a main context of its own. */
typedef enum {
  JOB_SHOW,
  JOB_CLOSE,
} JobKind;

typedef struct
{
  JobKind             kind;
  NotifyNotification *notification;
  char               *summary;
  char               *body;
} Job;

typedef struct
{
  NotifyNotification *notification;
  guint               count;
} Entry;

struct _TcNotifier
{
  GObject         parent_instance;

  GtkApplication *application;   /* weak */
  TcNode         *node;
  GSettings      *settings;
  /* address → Entry: one notification per contact, replaced as messages
   * come in, so a chatty contact does not fill the notification list. */
  GHashTable     *entries;
  GThreadPool    *worker;
  gboolean        initialized;
};

G_DEFINE_FINAL_TYPE (TcNotifier, tc_notifier, G_TYPE_OBJECT)

/* Jobs queued or running, in every notifier: a job may outlive its
 * notifier. */
static gint pending_jobs;

static void
job_free (gpointer data)
{
  Job *job = data;

  g_clear_object (&job->notification);
  g_free (job->summary);
  g_free (job->body);
  g_free (job);
}

static void
run_job (gpointer data,
         gpointer user_data)
{
  Job *job = data;
  g_autoptr(GError) error = NULL;

  if (job->kind == JOB_SHOW)
    {
      notify_notification_update (job->notification, job->summary, job->body, APP_ID);
      /* No daemon, no session bus: not worth more than a debug line. */
      if (!notify_notification_show (job->notification, &error))
        g_debug ("Could not show a notification: %s", error->message);
    }
  else
    {
      if (!notify_notification_close (job->notification, &error))
        g_debug ("Could not close a notification: %s", error->message);
    }

  job_free (job);
  g_atomic_int_dec_and_test (&pending_jobs);
}

static void
push_job (TcNotifier         *self,
          JobKind             kind,
          NotifyNotification *notification,
          const char         *summary,
          const char         *body)
{
  Job *job = g_new0 (Job, 1);
  g_autoptr(GError) error = NULL;

  job->kind = kind;
  job->notification = g_object_ref (notification);
  job->summary = g_strdup (summary);
  job->body = g_strdup (body);

  g_atomic_int_inc (&pending_jobs);
  if (!g_thread_pool_push (self->worker, job, &error))
    {
      g_warning ("No notification thread: %s", error->message);
      g_atomic_int_dec_and_test (&pending_jobs);
      job_free (job);
    }
}

static void
entry_free (gpointer data)
{
  Entry *entry = data;

  g_signal_handlers_disconnect_matched (entry->notification, G_SIGNAL_MATCH_DATA,
                                        0, 0, NULL, NULL, entry);
  g_object_unref (entry->notification);
  g_free (entry);
}

/* Whether the conversation with @address is what the user is looking at:
 * the main window is focused and shows it. */
static gboolean
tc_notifier_in_view (TcNotifier *self,
                     const char *address)
{
  if (self->application == NULL)
    return FALSE;

  for (GList *l = gtk_application_get_windows (self->application); l != NULL; l = l->next)
    {
      if (TC_IS_WINDOW (l->data) &&
          tc_window_is_conversation_in_view (l->data, address))
        return TRUE;
    }

  return FALSE;
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
           Entry              *entry)
{
  TcNotifier *self = g_object_get_data (G_OBJECT (notification), "tc-notifier");
  const char *address = g_object_get_data (G_OBJECT (notification), "tc-address");

  if (self != NULL && address != NULL &&
      g_hash_table_lookup (self->entries, address) == entry)
    g_hash_table_remove (self->entries, address);
}

static gboolean
tc_notifier_enabled (TcNotifier *self)
{
  return self->initialized &&
         (self->settings == NULL || g_settings_get_boolean (self->settings, "notifications"));
}

static gboolean
tc_notifier_hide_text (TcNotifier *self)
{
  return self->settings != NULL &&
         g_settings_get_boolean (self->settings, "notification-hide-text");
}

static Entry *
tc_notifier_lookup_entry (TcNotifier *self,
                          TcContact  *contact,
                          const char *category)
{
  const char *address = tc_contact_get_address (contact);
  Entry *entry = g_hash_table_lookup (self->entries, address);

  if (entry != NULL)
    return entry;

  entry = g_new0 (Entry, 1);
  entry->notification = notify_notification_new ("", NULL, APP_ID);
  g_object_set_data_full (G_OBJECT (entry->notification), "tc-address",
                          g_strdup (address), g_free);
  g_object_set_data (G_OBJECT (entry->notification), "tc-notifier", self);
  notify_notification_set_hint (entry->notification, "desktop-entry",
                                g_variant_new_string (APP_ID));
  notify_notification_set_category (entry->notification, category);
  notify_notification_add_action (entry->notification, "default", _("Open Conversation"),
                                  default_action_cb, self, NULL);
  g_signal_connect (entry->notification, "closed", G_CALLBACK (closed_cb), entry);
  g_hash_table_insert (self->entries, g_strdup (address), entry);

  return entry;
}

static void
message_received_cb (TcNotifier *self,
                     TcContact  *contact,
                     TcMessage  *message,
                     TcNode     *node)
{
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  const char *name = tc_contact_get_display_name (contact);
  const char *text;
  Entry *entry;

  if (!tc_notifier_enabled (self) ||
      tc_notifier_in_view (self, tc_contact_get_address (contact)))
    return;

  entry = tc_notifier_lookup_entry (self, contact, "im.received");
  entry->count++;

  if (entry->count == 1)
    /* Translators: %s is the name of the contact who wrote */
    summary = g_strdup_printf (_("New message from %s"), name);
  else
    /* Translators: %2$s is the name of the contact who wrote, %1$u how many messages */
    summary = g_strdup_printf (ngettext ("%u new message from %s", "%u new messages from %s",
                                         entry->count),
                               entry->count, name);

  text = tc_message_get_text (message);
  if (tc_notifier_hide_text (self))
    body = NULL;
  else if (text != NULL && g_utf8_strlen (text, -1) > MAX_BODY_CHARS)
    {
      g_autofree char *cut = g_utf8_substring (text, 0, MAX_BODY_CHARS);

      body = g_strconcat (cut, "…", NULL);
    }
  else
    body = g_strdup (text);

  push_job (self, JOB_SHOW, entry->notification, summary, body);
}

static void
contact_request_cb (TcNotifier *self,
                    TcContact  *contact,
                    TcNode     *node)
{
  g_autofree char *summary = NULL;
  const char *greeting = NULL;
  Entry *entry;

  if (!tc_notifier_enabled (self) ||
      tc_notifier_in_view (self, tc_contact_get_address (contact)))
    return;

  entry = tc_notifier_lookup_entry (self, contact, "im");
  if (!tc_notifier_hide_text (self))
    greeting = tc_contact_get_greeting (contact);

  /* Translators: %s is the name of a person asking to be a contact */
  summary = g_strdup_printf (_("%s wants to be your contact"), tc_contact_get_display_name (contact));
  push_job (self, JOB_SHOW, entry->notification, summary, greeting);
}

static void
offer_received_cb (TcNotifier *self,
                   TcTransfer *transfer)
{
  g_autofree char *summary = NULL;
  g_autofree char *body = NULL;
  g_autofree char *size = NULL;
  TcContact *contact = tc_node_lookup_contact (self->node, tc_transfer_get_peer (transfer));
  Entry *entry;

  if (contact == NULL || !tc_notifier_enabled (self) ||
      tc_notifier_in_view (self, tc_contact_get_address (contact)))
    return;

  entry = tc_notifier_lookup_entry (self, contact, "transfer");
  /* Translators: %s is the name of the contact offering a file */
  summary = g_strdup_printf (_("%s wants to send you a file"), tc_contact_get_display_name (contact));
  size = g_format_size (tc_transfer_get_size (transfer));
  if (!tc_notifier_hide_text (self))
    /* Translators: a file's name and size, "photo.jpg (1.2 MB)" */
    body = g_strdup_printf (_("%s (%s)"), tc_transfer_get_name (transfer), size);
  push_job (self, JOB_SHOW, entry->notification, summary, body);
}

static void
tc_notifier_dispose (GObject *object)
{
  TcNotifier *self = (TcNotifier *)object;

  if (self->node != NULL)
    g_signal_handlers_disconnect_by_data (self->node, self);

  /* Before notify_uninit(): a notification disconnects from libnotify's
   * proxy when it goes. */
  g_clear_pointer (&self->entries, g_hash_table_unref);

  if (self->worker != NULL)
    {
      /* A hung server must not hold up quitting: queued jobs are dropped,
       * a running one is left to finish on its own. libnotify is only
       * uninitialised when nothing can be using it any more. */
      gboolean idle = g_atomic_int_get (&pending_jobs) == 0;

      g_thread_pool_free (g_steal_pointer (&self->worker), !idle, idle);
      if (idle && self->initialized)
        notify_uninit ();
      self->initialized = FALSE;
    }

  g_clear_weak_pointer (&self->application);
  g_clear_object (&self->node);
  g_clear_object (&self->settings);

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
  self->entries = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, entry_free);
}

TcNotifier *
tc_notifier_new (GtkApplication *application,
                 TcNode         *node,
                 GSettings      *settings)
{
  g_autoptr(GError) error = NULL;
  TcNotifier *self;

  g_return_val_if_fail (!application || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (TC_IS_NODE (node), NULL);
  g_return_val_if_fail (!settings || G_IS_SETTINGS (settings), NULL);

  self = g_object_new (TC_TYPE_NOTIFIER, NULL);
  g_set_weak_pointer (&self->application, application);
  self->node = g_object_ref (node);
  if (settings != NULL)
    self->settings = g_object_ref (settings);
  /* notify_init() makes no D-Bus call. */
  self->initialized = notify_is_initted () || notify_init (_("TORChat"));
  /* One thread: the jobs run in order. */
  self->worker = g_thread_pool_new_full (run_job, NULL, job_free, 1, FALSE, &error);
  if (self->worker == NULL)
    {
      g_warning ("No notification thread: %s", error->message);
      self->initialized = FALSE;
    }

  g_signal_connect_object (node, "message-received",
                           G_CALLBACK (message_received_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (node, "contact-request",
                           G_CALLBACK (contact_request_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (tc_node_get_transfer_manager (node), "offer-received",
                           G_CALLBACK (offer_received_cb), self,
                           G_CONNECT_SWAPPED);

  return self;
}

void
tc_notifier_withdraw (TcNotifier *self,
                      const char *address)
{
  Entry *entry;

  g_return_if_fail (TC_IS_NOTIFIER (self));

  if (address == NULL || self->worker == NULL)
    return;

  entry = g_hash_table_lookup (self->entries, address);
  if (entry != NULL)
    {
      push_job (self, JOB_CLOSE, entry->notification, NULL, NULL);
      g_hash_table_remove (self->entries, address);
    }
}
