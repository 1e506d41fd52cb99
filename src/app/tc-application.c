/* tc-application.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <glib-unix.h>
#include <signal.h>

#include "tc-application-private.h"
#include "tc-unlock-window.h"

/* A peer that said "composing" and then went quiet is not typing any more. */
#define TYPING_TIMEOUT_SECONDS 20

G_DEFINE_FINAL_TYPE (TcApplication, tc_application, ADW_TYPE_APPLICATION)

enum {
  PROP_0,
  PROP_PROFILE_DIR,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

TcWindow *
tc_application_get_main_window (TcApplication *self)
{
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; l = l->next)
    {
      if (TC_IS_WINDOW (l->data))
        return l->data;
    }

  return NULL;
}

static void
node_stopped_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(TcApplication) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tc_node_stop_finish (TC_NODE (object), result, &error))
    g_warning ("Stopping the node failed: %s", error->message);

  if (self->holding)
    {
      self->holding = FALSE;
      g_application_release (G_APPLICATION (self));
    }

  g_application_quit (G_APPLICATION (self));
}

void
tc_application_stop (TcApplication *self)
{
  if (self->stopping)
    return;
  self->stopping = TRUE;

  self->unlock_window = NULL;
  /* Windows go at once; the node says goodbye to its peers behind them. */
  for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self)); l; )
    {
      GtkWindow *window = l->data;

      l = l->next;
      gtk_window_destroy (window);
    }

  if (self->node != NULL && tc_node_get_running (self->node))
    {
      tc_node_stop_async (self->node, NULL, node_stopped_cb, g_object_ref (self));
      return;
    }

  if (self->holding)
    {
      self->holding = FALSE;
      g_application_release (G_APPLICATION (self));
    }
  g_application_quit (G_APPLICATION (self));
}

/* SIGTERM and SIGINT quit like Ctrl+Q: streams closed, tor stopped. */
static gboolean
signal_cb (gpointer user_data)
{
  tc_application_stop (TC_APPLICATION (user_data));

  return G_SOURCE_CONTINUE;
}


static void
window_contact_cb (TcWindow      *window,
                   GParamSpec    *pspec,
                   TcApplication *self)
{
  TcContact *contact = tc_window_get_contact (window);

  /* Seen: its notification goes. */
  if (contact != NULL && self->notifier != NULL &&
      tc_window_is_conversation_in_view (window, tc_contact_get_address (contact)))
    tc_notifier_withdraw (self->notifier, tc_contact_get_address (contact));
}

static gboolean
window_close_request_cb (TcWindow      *window,
                         TcApplication *self)
{
  /* In the background the node keeps receiving; the held application
   * lives on, and the next launch or a notification opens a new window. */
  g_autofree char *action = NULL;

  if (self->settings != NULL)
    action = g_settings_get_string (self->settings, "close-action");
  if (g_strcmp0 (action, "background") == 0)
    {
      gtk_window_destroy (GTK_WINDOW (window));
      return TRUE;
    }

  tc_application_stop (self);

  return TRUE;
}

/* Without a node there is nothing else to show: a window of its own says
 * why, and closing it quits. */
static void
tc_application_show_error (TcApplication *self)
{
  GtkWidget *window;
  GtkWidget *box;
  GtkWidget *page;
  GtkWidget *button;
  const char *title;

  if (g_error_matches (self->node_error, TC_NODE_ERROR, TC_NODE_ERROR_PROFILE_BUSY))
    title = _("TORChat Is Already Running");
  else
    title = _("Could Not Open Your Profile");

  button = gtk_button_new_with_mnemonic (_("_Close"));
  gtk_widget_set_halign (button, GTK_ALIGN_CENTER);
  gtk_actionable_set_action_name (GTK_ACTIONABLE (button), "app.quit");
  gtk_widget_add_css_class (button, "pill");

  page = adw_status_page_new ();
  adw_status_page_set_icon_name (ADW_STATUS_PAGE (page), "dialog-error-symbolic");
  adw_status_page_set_title (ADW_STATUS_PAGE (page), title);
  adw_status_page_set_description (ADW_STATUS_PAGE (page), self->node_error->message);
  adw_status_page_set_child (ADW_STATUS_PAGE (page), button);
  gtk_widget_set_vexpand (page, TRUE);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);
  gtk_box_append (GTK_BOX (box), adw_header_bar_new ());
  gtk_box_append (GTK_BOX (box), page);

  window = adw_application_window_new (GTK_APPLICATION (self));
  gtk_window_set_title (GTK_WINDOW (window), _("TORChat"));
  gtk_window_set_default_size (GTK_WINDOW (window), 480, 420);
  adw_application_window_set_content (ADW_APPLICATION_WINDOW (window), box);
  gtk_window_present (GTK_WINDOW (window));
}

static void
control_quit_cb (TcApplication *self)
{
  tc_application_stop (self);
}

static gboolean
typing_timeout_cb (gpointer data)
{
  TcContact *contact = data;
  TcApplication *self = g_object_get_data (G_OBJECT (contact), "tc-application");

  if (tc_contact_get_typing (contact) == TC_TYPING_COMPOSING)
    tc_contact_set_typing (contact, TC_TYPING_PAUSED);
  if (self != NULL)
    g_hash_table_remove (self->typing_timeouts, contact);

  return G_SOURCE_REMOVE;
}

static void
contact_typing_cb (TcApplication *self,
                   GParamSpec    *pspec,
                   TcContact     *contact)
{
  guint id;

  g_hash_table_remove (self->typing_timeouts, contact);
  if (tc_contact_get_typing (contact) != TC_TYPING_COMPOSING)
    return;

  g_object_set_data (G_OBJECT (contact), "tc-application", self);
  id = g_timeout_add_seconds (TYPING_TIMEOUT_SECONDS, typing_timeout_cb, contact);
  g_hash_table_insert (self->typing_timeouts, g_object_ref (contact), GUINT_TO_POINTER (id));
}

static void
watch_typing (TcApplication *self,
              TcContact     *contact)
{
  if (g_object_get_data (G_OBJECT (contact), "tc-typing-watched") != NULL)
    return;

  g_object_set_data (G_OBJECT (contact), "tc-typing-watched", GINT_TO_POINTER (TRUE));
  g_signal_connect_object (contact, "notify::typing",
                           G_CALLBACK (contact_typing_cb), self,
                           G_CONNECT_SWAPPED);
}

static void
contacts_changed_cb (TcApplication *self,
                     guint          position,
                     guint          removed,
                     guint          added,
                     GListModel    *contacts)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(TcContact) contact = g_list_model_get_item (contacts, i);

      watch_typing (self, contact);
    }
}

/* A message is the end of typing it, whatever the peer said before. */
static void
message_received_cb (TcApplication *self,
                     TcContact     *contact,
                     TcMessage     *message)
{
  tc_contact_set_typing (contact, TC_TYPING_ACTIVE);
}

static void
remove_typing_timeout (gpointer data)
{
  g_source_remove (GPOINTER_TO_UINT (data));
}

static gboolean
tc_application_setup_tor (TcApplication  *self,
                          TcNode         *node,
                          GError        **error)
{
  g_autofree char *mode = NULL;
  g_autofree char *address = NULL;

  if (self->node_options)
    {
      if (self->opt_listen != NULL &&
          !tc_node_set_listen_address (node, self->opt_listen, error))
        return FALSE;

      return tc_node_setup_tor (node, self->opt_socks, self->opt_tor_control,
                                self->opt_tor_password, self->opt_tor_binary,
                                self->opt_tor_config, error);
    }

  if (self->settings != NULL)
    mode = g_settings_get_string (self->settings, "tor-mode");

  if (g_strcmp0 (mode, "socks") == 0)
    {
      address = g_settings_get_string (self->settings, "tor-socks-address");
      return tc_node_setup_tor (node, address, NULL, NULL, NULL, NULL, error);
    }

  if (g_strcmp0 (mode, "control") == 0)
    {
      address = g_settings_get_string (self->settings, "tor-control-address");
      return tc_node_setup_tor (node, NULL, address, NULL, NULL, NULL, error);
    }

  return tc_node_setup_tor (node, NULL, NULL, NULL, NULL, NULL, error);
}

static gboolean
tc_application_start_node (TcApplication  *self,
                           GError        **error)
{
  g_autoptr(TcNode) node = g_steal_pointer (&self->locked_node);
  g_autoptr(GError) local_error = NULL;
  GListModel *contacts;

  if (!tc_application_setup_tor (self, node, error) ||
      !tc_node_start (node, error))
    return FALSE;

  self->node = g_steal_pointer (&node);

  /* The window works without the control socket; only `torchat COMMAND`
   * cannot reach this node then. */
  self->control = tc_control_new (self->node, &local_error);
  if (self->control == NULL)
    g_warning ("No control socket: %s", local_error->message);
  else
    g_signal_connect_object (self->control, "quit-requested",
                             G_CALLBACK (control_quit_cb), self,
                             G_CONNECT_SWAPPED);

  contacts = tc_node_get_contacts (self->node);
  g_signal_connect_object (contacts, "items-changed",
                           G_CALLBACK (contacts_changed_cb), self,
                           G_CONNECT_SWAPPED);
  contacts_changed_cb (self, 0, 0, g_list_model_get_n_items (contacts), contacts);
  g_signal_connect_object (self->node, "message-received",
                           G_CALLBACK (message_received_cb), self,
                           G_CONNECT_SWAPPED);

  self->notifier = tc_notifier_new (GTK_APPLICATION (self), self->node, self->settings);
  tc_application_background_start (self);

  return TRUE;
}

/* The profile could not be opened: a window says why; closing it quits. */
static void
tc_application_failed (TcApplication *self)
{
  g_clear_object (&self->locked_node);
  if (self->unlock_window != NULL)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->unlock_window)));
  tc_application_show_error (self);
  if (self->holding)
    {
      self->holding = FALSE;
      g_application_release (G_APPLICATION (self));
    }
}

static void
tc_application_wipe_passphrase (TcApplication *self)
{
  if (self->passphrase_wipe != NULL)
    self->passphrase_wipe (self->passphrase_data);
  self->passphrase = NULL;
  self->passphrase_length = 0;
  self->passphrase_wipe = NULL;
  self->passphrase_data = NULL;
}

/* Unlocked: the node starts, then the main window replaces the unlock one. */
static void
tc_application_unlocked (TcApplication *self)
{
  if (self->stopping)
    return;

  if (!tc_application_start_node (self, &self->node_error))
    {
      tc_application_failed (self);
      return;
    }

  g_application_activate (G_APPLICATION (self));
  if (self->unlock_window != NULL)
    gtk_window_destroy (GTK_WINDOW (g_steal_pointer (&self->unlock_window)));
}

static void
passphrase_unlocked_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(TcApplication) self = user_data;

  tc_application_wipe_passphrase (self);
  if (!tc_node_unlock_finish (TC_NODE (object), result, &self->node_error))
    {
      if (!self->stopping)
        tc_application_failed (self);
      return;
    }

  tc_application_unlocked (self);
}

static gboolean
unlock_window_close_request_cb (GtkWindow     *window,
                                TcApplication *self)
{
  tc_application_stop (self);

  return TRUE;
}

static void
tc_application_startup (GApplication *app)
{
  TcApplication *self = TC_APPLICATION (app);
  g_autoptr(GSettingsSchema) schema = NULL;
  GSettingsSchemaSource *source;

  G_APPLICATION_CLASS (tc_application_parent_class)->startup (app);

  g_set_application_name (_("TORChat"));
  gtk_window_set_default_icon_name (APP_ID);

  tc_application_add_actions (self);

  source = g_settings_schema_source_get_default ();
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  if (schema != NULL)
    {
      self->settings = g_settings_new_full (schema, NULL, NULL);
      g_settings_set_string (self->settings, "last-profile", self->profile_dir);
    }

  self->sigterm_source = g_unix_signal_add (SIGTERM, signal_cb, self);
  self->sigint_source = g_unix_signal_add (SIGINT, signal_cb, self);

  self->locked_node = tc_node_new_locked (self->profile_dir, &self->node_error);
  if (self->locked_node == NULL)
    return;

  /* Keeps the application up until the node has stopped. */
  g_application_hold (app);
  self->holding = TRUE;

  switch (tc_node_get_profile_kind (self->locked_node))
    {
    case TC_PROFILE_KIND_PLAINTEXT:
      if (self->passphrase != NULL)
        {
          g_set_error (&self->node_error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                       _("The profile %s is not encrypted, so it has no passphrase; "
                         "encrypt it in Preferences, or with “torchat passphrase”"),
                       self->profile_dir);
          tc_application_failed (self);
        }
      else if (!tc_node_unlock (self->locked_node, NULL, 0, &self->node_error) ||
               !tc_application_start_node (self, &self->node_error))
        tc_application_failed (self);
      break;

    case TC_PROFILE_KIND_NEW:
    case TC_PROFILE_KIND_ENCRYPTED:
    default:
      /* With --passphrase-file no page is shown; else activate shows it. */
      if (self->passphrase != NULL)
        tc_node_unlock_async (self->locked_node, self->passphrase, self->passphrase_length,
                              NULL, passphrase_unlocked_cb, g_object_ref (self));
      break;
    }
}

static void
tc_application_activate (GApplication *app)
{
  TcApplication *self = TC_APPLICATION (app);
  TcWindow *window;

  if (self->stopping)
    return;

  if (self->node == NULL && self->locked_node != NULL)
    {
      /* --passphrase-file: the main window comes once it is open. */
      if (self->passphrase != NULL)
        return;

      if (self->unlock_window == NULL)
        {
          self->unlock_window = tc_unlock_window_new (GTK_APPLICATION (self), self->locked_node,
                                                      self->profile_dir);
          g_signal_connect_object (self->unlock_window, "unlocked",
                                   G_CALLBACK (tc_application_unlocked), self,
                                   G_CONNECT_SWAPPED);
          g_signal_connect_object (self->unlock_window, "close-request",
                                   G_CALLBACK (unlock_window_close_request_cb), self, 0);
        }
      gtk_window_present (GTK_WINDOW (self->unlock_window));
      return;
    }

  if (self->node == NULL)
    {
      if (gtk_application_get_active_window (GTK_APPLICATION (self)) == NULL)
        tc_application_show_error (self);
      return;
    }

  window = tc_application_get_main_window (self);
  if (window == NULL)
    {
      window = tc_window_new (GTK_APPLICATION (self), self->node);
      g_signal_connect_object (window, "close-request",
                               G_CALLBACK (window_close_request_cb), self, 0);
      g_signal_connect_object (window, "notify::contact",
                               G_CALLBACK (window_contact_cb), self, 0);
      g_signal_connect_object (window, "notify::is-active",
                               G_CALLBACK (window_contact_cb), self, 0);
    }

  gtk_window_present (GTK_WINDOW (window));
}

static void
tc_application_shutdown (GApplication *app)
{
  TcApplication *self = TC_APPLICATION (app);

  tc_application_background_stop (self);
  g_clear_object (&self->notifier);
  g_clear_object (&self->control);
  g_clear_handle_id (&self->sigterm_source, g_source_remove);
  g_clear_handle_id (&self->sigint_source, g_source_remove);

  G_APPLICATION_CLASS (tc_application_parent_class)->shutdown (app);
}

static void
tc_application_finalize (GObject *object)
{
  TcApplication *self = (TcApplication *)object;

  g_clear_object (&self->notifier);
  g_clear_object (&self->control);
  g_clear_object (&self->node);
  g_clear_object (&self->locked_node);
  tc_application_wipe_passphrase (self);
  g_clear_object (&self->settings);
  g_clear_error (&self->node_error);
  g_clear_pointer (&self->profile_dir, g_free);
  g_clear_pointer (&self->typing_timeouts, g_hash_table_unref);
  g_free (self->opt_listen);
  g_free (self->opt_socks);
  g_free (self->opt_tor_control);
  g_free (self->opt_tor_password);
  g_free (self->opt_tor_binary);
  g_free (self->opt_tor_config);

  G_OBJECT_CLASS (tc_application_parent_class)->finalize (object);
}

static void
tc_application_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  TcApplication *self = TC_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_PROFILE_DIR:
      g_value_set_string (value, self->profile_dir);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_application_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  TcApplication *self = TC_APPLICATION (object);

  switch (prop_id)
    {
    case PROP_PROFILE_DIR:
      self->profile_dir = g_value_dup_string (value);
      if (self->profile_dir == NULL)
        self->profile_dir = g_build_filename (g_get_user_data_dir (), "torchat", "default", NULL);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_application_class_init (TcApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->finalize = tc_application_finalize;
  object_class->get_property = tc_application_get_property;
  object_class->set_property = tc_application_set_property;

  app_class->startup = tc_application_startup;
  app_class->activate = tc_application_activate;
  app_class->shutdown = tc_application_shutdown;

  properties[PROP_PROFILE_DIR] =
    g_param_spec_string ("profile-dir", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tc_application_init (TcApplication *self)
{
  self->typing_timeouts = g_hash_table_new_full (NULL, NULL, g_object_unref,
                                                 remove_typing_timeout);
}

/* One primary instance per profile: the default profile is the app's own
 * id, any other one gets an id derived from its path, so a second launch on
 * the same profile raises the running window instead of hitting the
 * profile lock. */
static char *
dup_application_id (const char *profile_dir)
{
  g_autofree char *default_dir = g_build_filename (g_get_user_data_dir (), "torchat", "default", NULL);
  g_autofree char *hash = NULL;

  if (profile_dir == NULL || g_str_equal (profile_dir, default_dir))
    return g_strdup (APP_ID);

  hash = g_compute_checksum_for_string (G_CHECKSUM_SHA256, profile_dir, -1);
  hash[16] = '\0';

  return g_strdup_printf ("%s.Profile_%s", APP_ID, hash);
}

static void
set_str (char       **field,
         const char  *value)
{
  g_free (*field);
  *field = g_strdup (value);
}

GApplication *
tc_application_new (const char *profile_dir)
{
  g_autofree char *app_id = dup_application_id (profile_dir);

  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  return g_object_new (TC_TYPE_APPLICATION,
                       "application-id", app_id,
                       "resource-base-path", "/io/github/torchat/TorChat",
                       "profile-dir", profile_dir,
                       NULL);
}

void
tc_application_set_node_options (TcApplication *self,
                                 const char    *listen,
                                 const char    *socks,
                                 const char    *tor_control,
                                 const char    *tor_password,
                                 const char    *tor_binary,
                                 const char    *tor_config)
{
  g_return_if_fail (TC_IS_APPLICATION (self));
  g_return_if_fail (self->node == NULL);

  self->node_options = TRUE;
  set_str (&self->opt_listen, listen);
  set_str (&self->opt_socks, socks);
  set_str (&self->opt_tor_control, tor_control);
  set_str (&self->opt_tor_password, tor_password);
  set_str (&self->opt_tor_binary, tor_binary);
  set_str (&self->opt_tor_config, tor_config);
}

gboolean
tc_application_get_node_options (TcApplication *self)
{
  g_return_val_if_fail (TC_IS_APPLICATION (self), FALSE);

  return self->node_options;
}

GSettings *
tc_application_get_settings (TcApplication *self)
{
  g_return_val_if_fail (TC_IS_APPLICATION (self), NULL);

  return self->settings;
}

const char *
tc_application_get_profile_dir (TcApplication *self)
{
  g_return_val_if_fail (TC_IS_APPLICATION (self), NULL);

  return self->profile_dir;
}

TcNode *
tc_application_get_node (TcApplication *self)
{
  g_return_val_if_fail (TC_IS_APPLICATION (self), NULL);

  return self->node;
}

/* The passphrase from --passphrase-file: the profile is unlocked (or a new
 * one created encrypted) with it and no unlock window is shown. @wipe
 * frees it once the unlock is done. */
void
tc_application_set_passphrase (TcApplication  *self,
                               const char     *passphrase,
                               gsize           length,
                               GDestroyNotify  wipe,
                               gpointer        wipe_data)
{
  g_return_if_fail (TC_IS_APPLICATION (self));
  g_return_if_fail (passphrase != NULL);

  tc_application_wipe_passphrase (self);
  self->passphrase = passphrase;
  self->passphrase_length = length;
  self->passphrase_wipe = wipe;
  self->passphrase_data = wipe_data;
}
