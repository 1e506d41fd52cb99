/* test-ui.c: the window as a user sees it, under Xvfb
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "tc-add-contact-dialog.h"
#include "tc-contact-row.h"
#include "tc-message-row.h"
#include "tc-node.h"
#include "tc-notifier.h"
#include "tc-window.h"

#define TIMEOUT_MS 10000

typedef struct {
  char     *profile_dir;
  TcNode   *node;
  TcWindow *window;
} Fixture;

typedef gboolean (*Condition) (gpointer data);

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @condition holds, or fails after TIMEOUT_MS. */
static gboolean
iterate_until (Condition condition,
               gpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_MS * 1000;
  guint wake = g_timeout_add (20, wake_cb, NULL);
  gboolean ok;

  while (!(ok = condition (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (wake);

  return ok;
}

/* Lets GTK lay out and draw what changed. */
static void
iterate_for (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;
  guint wake = g_timeout_add (10, wake_cb, NULL);

  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (wake);
}

/* Widgets that are on screen: mapped and drawn with some size. */
static gboolean
is_shown (GtkWidget *widget)
{
  return gtk_widget_get_mapped (widget) &&
         gtk_widget_get_width (widget) > 0 &&
         gtk_widget_get_height (widget) > 0;
}

typedef gboolean (*Match) (GtkWidget *widget, gconstpointer data);

static GtkWidget *
find_widget (GtkWidget     *root,
             Match          match,
             gconstpointer  data)
{
  if (match (root, data))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static gboolean
match_label (GtkWidget     *widget,
             gconstpointer  text)
{
  return GTK_IS_LABEL (widget) && is_shown (widget) &&
         g_strcmp0 (gtk_label_get_label (GTK_LABEL (widget)), text) == 0;
}

static gboolean
match_type (GtkWidget     *widget,
            gconstpointer  type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type)) && is_shown (widget);
}

static gboolean
match_tooltip (GtkWidget     *widget,
               gconstpointer  text)
{
  return GTK_IS_BUTTON (widget) && is_shown (widget) &&
         g_strcmp0 (gtk_widget_get_tooltip_text (widget), text) == 0;
}

static gboolean
match_window_title (GtkWidget     *widget,
                    gconstpointer  text)
{
  return ADW_IS_WINDOW_TITLE (widget) && is_shown (widget) &&
         g_strcmp0 (adw_window_title_get_title (ADW_WINDOW_TITLE (widget)), text) == 0;
}

static gboolean
match_button_label (GtkWidget     *widget,
                    gconstpointer  text)
{
  return GTK_IS_BUTTON (widget) && is_shown (widget) &&
         g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), text) == 0;
}

static GtkWidget *
find_label (gpointer    root,
            const char *text)
{
  return find_widget (GTK_WIDGET (root), match_label, text);
}

static GtkWidget *
find_shown (gpointer root,
            GType    type)
{
  return find_widget (GTK_WIDGET (root), match_type, GSIZE_TO_POINTER (type));
}

typedef struct {
  gpointer       root;
  Match          match;
  gconstpointer  data;
} Query;

static gboolean
query_found_cb (gpointer data)
{
  Query *query = data;

  return find_widget (query->root, query->match, query->data) != NULL;
}

static gboolean
query_gone_cb (gpointer data)
{
  return !query_found_cb (data);
}

/* The widget that @match finds once it is on screen, or NULL after
 * TIMEOUT_MS. */
static GtkWidget *
wait_for_widget (gpointer       root,
                 Match          match,
                 gconstpointer  data)
{
  Query query = { root, match, data };

  if (!iterate_until (query_found_cb, &query))
    return NULL;

  return find_widget (root, match, data);
}

static GtkWidget *
wait_for_label (gpointer    root,
                const char *text)
{
  return wait_for_widget (root, match_label, text);
}

static gboolean
wait_for_no_label (gpointer    root,
                   const char *text)
{
  Query query = { root, match_label, text };

  return iterate_until (query_gone_cb, &query);
}

static char *
make_address (guint8 fill)
{
  guint8 seed[TC_SEED_LEN];
  g_autoptr(TcIdentity) identity = NULL;

  memset (seed, fill, sizeof seed);
  identity = tc_identity_new_from_seed (seed);

  return g_strdup (tc_identity_get_address (identity));
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }

  g_rmdir (path);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->profile_dir = g_dir_make_tmp ("torchat-ui-XXXXXX", &error);
  g_assert_no_error (error);

  fixture->node = tc_node_new (fixture->profile_dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->node);

  /* Nothing listens on port 1: outgoing connections fail at once and the
   * messages stay queued, without Tor. */
  tc_node_set_listen_address (fixture->node, "127.0.0.1:0", &error);
  g_assert_no_error (error);
  tc_node_set_socks_address (fixture->node, "127.0.0.1:1", &error);
  g_assert_no_error (error);
  tc_node_start (fixture->node, &error);
  g_assert_no_error (error);

  fixture->window = tc_window_new (NULL, fixture->node);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 960, 640);
  gtk_window_present (GTK_WINDOW (fixture->window));
}

static void
stopped_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  tc_node_stop_finish (TC_NODE (object), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

static gboolean
flag_cb (gpointer data)
{
  return *(gboolean *) data;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  gboolean done = FALSE;

  gtk_window_destroy (GTK_WINDOW (fixture->window));

  tc_node_stop_async (fixture->node, NULL, stopped_cb, &done);
  g_assert_true (iterate_until (flag_cb, &done));
  g_clear_object (&fixture->node);

  rm_rf (fixture->profile_dir);
  g_free (fixture->profile_dir);
}

/* A fresh profile greets the user with their address to share. */
static void
test_empty_state (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *address = tc_node_get_address (fixture->node);

  g_assert_nonnull (wait_for_label (fixture->window, "No Contacts Yet"));
  g_assert_nonnull (find_label (fixture->window, address));
  g_assert_null (find_shown (fixture->window, TC_TYPE_CONTACT_ROW));
}

/* Contact, conversation, composer, message: the path a user takes. */
static void
test_send_message (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = make_address (7);
  const char *text = "Hello from the UI test";
  TcConversation *conversation;
  TcContact *contact;
  GtkWidget *name_label;
  GtkWidget *row;
  GtkWidget *entry;
  GtkWidget *text_label;
  GtkWidget *message_row;
  TcMessage *message;
  GtkWidget *icon;

  contact = tc_node_add_contact (fixture->node, address, "Alice", "Hi, it's me", &error);
  g_assert_no_error (error);
  g_assert_nonnull (contact);

  /* The contact list shows her, waiting for her answer. */
  name_label = wait_for_label (fixture->window, "Alice");
  g_assert_nonnull (name_label);
  row = gtk_widget_get_ancestor (name_label, TC_TYPE_CONTACT_ROW);
  g_assert_nonnull (row);
  g_assert_true (tc_contact_row_get_item (TC_CONTACT_ROW (row)) == contact);
  g_assert_nonnull (find_label (row, "Waiting for them to accept"));
  g_assert_true (wait_for_no_label (fixture->window, "No Contacts Yet"));

  /* Clicking the row selects it, which opens the conversation. */
  g_assert_true (gtk_widget_activate_action (row, "listitem.select", "(bb)", FALSE, FALSE));
  iterate_for (300);
  g_assert_true (tc_window_get_contact (fixture->window) == contact);
  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->window), match_window_title, "Alice"));

  conversation = tc_node_get_conversation (fixture->node, address);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 0);

  entry = find_shown (fixture->window, GTK_TYPE_TEXT_VIEW);
  g_assert_nonnull (entry);
  g_assert_true (gtk_widget_is_sensitive (entry));
  /* Ready to type. */
  g_assert_true (gtk_window_get_focus (GTK_WINDOW (fixture->window)) == entry);

  /* Typing and clicking Send sends it (Enter is for the UI flow test). */
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (GTK_TEXT_VIEW (entry)), text, -1);
  g_signal_emit_by_name (find_widget (GTK_WIDGET (fixture->window), match_tooltip, "Send"), "clicked");

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 1);
  g_assert_cmpint (gtk_text_buffer_get_char_count (gtk_text_view_get_buffer (GTK_TEXT_VIEW (entry))), ==, 0);

  text_label = wait_for_label (fixture->window, text);
  g_assert_nonnull (text_label);
  message_row = gtk_widget_get_ancestor (text_label, TC_TYPE_MESSAGE_ROW);
  g_assert_nonnull (message_row);

  /* The delivery sign matches the message's state: nothing reached her. */
  message = tc_message_row_get_item (TC_MESSAGE_ROW (message_row));
  g_assert_cmpstr (tc_message_get_text (message), ==, text);
  g_assert_cmpint (tc_message_get_direction (message), ==, TC_MESSAGE_DIRECTION_OUTGOING);
  g_assert_cmpint (tc_message_get_state (message), ==, TC_MESSAGE_STATE_QUEUED);
  icon = find_shown (message_row, GTK_TYPE_IMAGE);
  g_assert_nonnull (icon);
  g_assert_cmpstr (gtk_image_get_icon_name (GTK_IMAGE (icon)), ==, "tc-message-queued-symbolic");

  /* A state change reaches the row that shows the message. */
  tc_message_set_state (message, TC_MESSAGE_STATE_FAILED);
  iterate_for (50);
  g_assert_cmpstr (gtk_image_get_icon_name (GTK_IMAGE (icon)), ==, "dialog-error-symbolic");
}

static gboolean
dialog_gone_cb (gpointer data)
{
  GtkWidget **dialog = data;

  return *dialog == NULL;
}

static TcAddContactDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint n = g_list_model_get_n_items (toplevels);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (TC_IS_ADD_CONTACT_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return TC_ADD_CONTACT_DIALOG (window);
    }

  return NULL;
}

static gboolean
dialog_shown_cb (gpointer data)
{
  TcAddContactDialog *dialog = find_dialog ();

  return dialog != NULL && gtk_widget_get_mapped (GTK_WIDGET (dialog));
}

static void
set_row_text (GtkWidget  *dialog,
              const char *title,
              const char *text)
{
  GtkWidget *label = find_label (dialog, title);
  GtkWidget *row;

  g_assert_nonnull (label);
  row = gtk_widget_get_ancestor (label, ADW_TYPE_ENTRY_ROW);
  g_assert_nonnull (row);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  iterate_for (50);
}

/* The add-contact dialog says what is wrong with an address as it is
 * typed, and adds a good one. */
static void
test_add_contact_dialog (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *address = make_address (42);
  g_autofree char *typo = NULL;
  GtkWidget *dialog;
  GtkWidget *add_button;
  GtkWidget *error_label;
  TcContact *contact;

  g_assert_nonnull (wait_for_label (fixture->window, "No Contacts Yet"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.add-contact", NULL));
  g_assert_true (iterate_until (dialog_shown_cb, NULL));
  dialog = GTK_WIDGET (find_dialog ());
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);

  add_button = wait_for_widget (dialog, match_button_label, "_Add");
  g_assert_nonnull (add_button);
  g_assert_false (gtk_widget_is_sensitive (add_button));

  /* One changed character breaks the checksum. */
  typo = g_strdup (address);
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  set_row_text (dialog, "Address", typo);
  g_assert_false (gtk_widget_is_sensitive (add_button));
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *normalized = tc_address_normalize (typo, &error);

    g_assert_null (normalized);
    error_label = find_label (dialog, error->message);
    g_assert_nonnull (error_label);
    g_assert_true (gtk_widget_has_css_class (error_label, "error"));
  }

  /* Half an address is not an error yet, just not enough. */
  set_row_text (dialog, "Address", "abcdef");
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_false (gtk_widget_is_sensitive (add_button));

  set_row_text (dialog, "Address", tc_node_get_address (fixture->node));
  g_assert_nonnull (find_label (dialog, "This is your own address"));
  g_assert_false (gtk_widget_is_sensitive (add_button));

  /* Pasted with a scheme and in capitals: forgiven. */
  {
    g_autofree char *upper = g_ascii_strup (address, -1);
    g_autofree char *pasted = g_strconcat ("  torchat:", upper, " ", NULL);

    set_row_text (dialog, "Address", pasted);
  }
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_true (gtk_widget_is_sensitive (add_button));

  set_row_text (dialog, "Nickname (optional)", "Bob");
  gtk_widget_activate (add_button);
  g_assert_true (iterate_until (dialog_gone_cb, &dialog));

  contact = tc_node_lookup_contact (fixture->node, address);
  g_assert_nonnull (contact);
  g_assert_cmpstr (tc_contact_get_nickname (contact), ==, "Bob");
  g_assert_cmpint (tc_contact_get_state (contact), ==, TC_CONTACT_STATE_REQUESTED);

  /* The new contact's conversation is open. */
  g_assert_true (tc_window_get_contact (fixture->window) == contact);
  g_assert_nonnull (wait_for_label (fixture->window, "Bob"));
}

/* Someone asked us: the conversation offers Accept, Decline and Block, and
 * Accept makes them a contact. */
static void
test_contact_request (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *address = make_address (99);
  g_autoptr(GError) error = NULL;
  TcContact *contact;
  GtkWidget *accept;

  contact = tc_node_add_contact (fixture->node, address, "Carol", NULL, &error);
  g_assert_no_error (error);
  /* As if her request had arrived. */
  tc_contact_set_state (contact, TC_CONTACT_STATE_PENDING);
  tc_contact_set_greeting (contact, "Carol from the library");

  g_assert_nonnull (wait_for_label (fixture->window, "Wants to be your contact"));
  g_assert_true (tc_window_select_address (fixture->window, address));
  g_assert_nonnull (wait_for_label (fixture->window, "Carol wants to be your contact"));
  g_assert_nonnull (wait_for_label (fixture->window, "Carol from the library"));
  g_assert_false (gtk_widget_is_sensitive (find_shown (fixture->window, GTK_TYPE_TEXT_VIEW)));

  accept = wait_for_widget (fixture->window, match_button_label, "_Accept");
  g_assert_nonnull (accept);
  gtk_widget_activate (accept);
  iterate_for (400);

  g_assert_cmpint (tc_contact_get_state (contact), ==, TC_CONTACT_STATE_ACCEPTED);
  g_assert_true (wait_for_no_label (fixture->window, "Carol wants to be your contact"));
  g_assert_true (gtk_widget_is_sensitive (find_shown (fixture->window, GTK_TYPE_TEXT_VIEW)));
}

/* A notification daemon on the private session bus, in a thread of its own
 * because libnotify calls it synchronously from the main thread. */
typedef struct {
  GMutex           mutex;
  GCond            cond;
  GThread         *thread;
  GMainContext    *context;
  GMainLoop       *loop;
  GDBusConnection *connection;
  gboolean         ready;
  guint            last_id;
  /* What the last Notify carried. */
  guint            replaces_id;
  char            *app_icon;
  char            *summary;
  char            *body;
  gboolean         has_default_action;
  guint            n_notify;
  guint            closed_id;
} FakeDaemon;

static const char fake_daemon_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='GetCapabilities'><arg type='as' direction='out'/></method>"
  "    <method name='Notify'>"
  "      <arg type='s' direction='in'/><arg type='u' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='s' direction='in'/>"
  "      <arg type='s' direction='in'/><arg type='as' direction='in'/>"
  "      <arg type='a{sv}' direction='in'/><arg type='i' direction='in'/>"
  "      <arg type='u' direction='out'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg type='u' direction='in'/></method>"
  "    <method name='GetServerInformation'>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "      <arg type='s' direction='out'/><arg type='s' direction='out'/>"
  "    </method>"
  "    <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "    <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  "  </interface>"
  "</node>";

static void
fake_daemon_method_cb (GDBusConnection       *connection,
                       const char            *sender,
                       const char            *object_path,
                       const char            *interface_name,
                       const char            *method_name,
                       GVariant              *parameters,
                       GDBusMethodInvocation *invocation,
                       gpointer               user_data)
{
  FakeDaemon *daemon = user_data;

  if (g_str_equal (method_name, "GetCapabilities"))
    {
      const char *caps[] = { "actions", "body", NULL };

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(^as)", caps));
    }
  else if (g_str_equal (method_name, "GetServerInformation"))
    {
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(ssss)", "fake", "TORChat tests", "1.0", "1.2"));
    }
  else if (g_str_equal (method_name, "Notify"))
    {
      g_autofree const char **actions = NULL;
      const char *app_icon, *summary, *body;
      guint replaces_id, id;

      g_variant_get (parameters, "(&su&s&s&s^a&s@a{sv}i)",
                     NULL, &replaces_id, &app_icon, &summary, &body, &actions, NULL, NULL);

      g_mutex_lock (&daemon->mutex);
      id = replaces_id != 0 ? replaces_id : ++daemon->last_id;
      daemon->replaces_id = replaces_id;
      g_free (daemon->app_icon);
      daemon->app_icon = g_strdup (app_icon);
      g_free (daemon->summary);
      daemon->summary = g_strdup (summary);
      g_free (daemon->body);
      daemon->body = g_strdup (body);
      daemon->has_default_action = actions != NULL && g_strv_contains (actions, "default");
      daemon->n_notify++;
      g_mutex_unlock (&daemon->mutex);

      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", id));
    }
  else if (g_str_equal (method_name, "CloseNotification"))
    {
      guint id;

      g_variant_get (parameters, "(u)", &id);
      g_mutex_lock (&daemon->mutex);
      daemon->closed_id = id;
      g_mutex_unlock (&daemon->mutex);
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
}

static void
fake_daemon_name_acquired_cb (GDBusConnection *connection,
                              const char      *name,
                              gpointer         user_data)
{
  FakeDaemon *daemon = user_data;

  g_mutex_lock (&daemon->mutex);
  daemon->ready = TRUE;
  g_cond_signal (&daemon->cond);
  g_mutex_unlock (&daemon->mutex);
}

static gpointer
fake_daemon_thread (gpointer data)
{
  FakeDaemon *daemon = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusNodeInfo) info = NULL;
  g_autofree char *address = NULL;
  static const GDBusInterfaceVTable vtable = { fake_daemon_method_cb, NULL, NULL, { 0 } };
  guint owner;

  g_main_context_push_thread_default (daemon->context);

  address = g_dbus_address_get_for_bus_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  daemon->connection = g_dbus_connection_new_for_address_sync (address,
                                                               G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                               G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                               NULL, NULL, &error);
  g_assert_no_error (error);

  info = g_dbus_node_info_new_for_xml (fake_daemon_xml, &error);
  g_assert_no_error (error);
  g_dbus_connection_register_object (daemon->connection, "/org/freedesktop/Notifications",
                                     info->interfaces[0], &vtable, daemon, NULL, &error);
  g_assert_no_error (error);
  owner = g_bus_own_name_on_connection (daemon->connection, "org.freedesktop.Notifications",
                                        G_BUS_NAME_OWNER_FLAGS_NONE,
                                        fake_daemon_name_acquired_cb, NULL, daemon, NULL);

  g_main_loop_run (daemon->loop);

  g_bus_unown_name (owner);
  g_dbus_connection_close_sync (daemon->connection, NULL, NULL);
  g_main_context_pop_thread_default (daemon->context);

  return NULL;
}

static FakeDaemon *
fake_daemon_start (void)
{
  FakeDaemon *daemon = g_new0 (FakeDaemon, 1);

  g_mutex_init (&daemon->mutex);
  g_cond_init (&daemon->cond);
  daemon->context = g_main_context_new ();
  daemon->loop = g_main_loop_new (daemon->context, FALSE);
  daemon->thread = g_thread_new ("fake-notification-daemon", fake_daemon_thread, daemon);

  g_mutex_lock (&daemon->mutex);
  while (!daemon->ready)
    g_cond_wait (&daemon->cond, &daemon->mutex);
  g_mutex_unlock (&daemon->mutex);

  return daemon;
}

static void
fake_daemon_stop (FakeDaemon *daemon)
{
  g_main_loop_quit (daemon->loop);
  g_thread_join (daemon->thread);
  g_clear_object (&daemon->connection);
  g_main_loop_unref (daemon->loop);
  g_main_context_unref (daemon->context);
  g_free (daemon->app_icon);
  g_free (daemon->summary);
  g_free (daemon->body);
  g_mutex_clear (&daemon->mutex);
  g_cond_clear (&daemon->cond);
  g_free (daemon);
}

static void
open_conversation_cb (GSimpleAction *action,
                      GVariant      *param,
                      gpointer       user_data)
{
  char **opened = user_data;

  g_free (*opened);
  *opened = g_variant_dup_string (param, NULL);
}

typedef struct {
  FakeDaemon *daemon;
  guint       n_notify;
  guint       closed_id;
} DaemonWait;

/* The notifier talks to the daemon from its own thread. */
static gboolean
daemon_reached_cb (gpointer data)
{
  DaemonWait *wait = data;
  gboolean done;

  g_mutex_lock (&wait->daemon->mutex);
  done = wait->daemon->n_notify >= wait->n_notify &&
         (wait->closed_id == 0 || wait->daemon->closed_id == wait->closed_id);
  g_mutex_unlock (&wait->daemon->mutex);

  return done;
}

static gboolean
string_set_cb (gpointer data)
{
  return *(char **) data != NULL;
}

static TcMessage *
make_incoming (const char *peer,
               const char *text)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *id = g_uuid_string_random ();

  return tc_message_new (id, peer, text, TC_MESSAGE_DIRECTION_INCOMING,
                         now, now, TC_MESSAGE_STATE_RECEIVED);
}

/* Messages and requests that arrive while no window is active reach the
 * desktop; clicking one opens its conversation. */
static void
test_notifier (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *profile_dir = NULL;
  g_autofree char *alice_address = make_address (3);
  g_autofree char *carol_address = make_address (4);
  g_autofree char *opened = NULL;
  g_autofree char *long_text = NULL;
  g_autoptr(GtkApplication) app = NULL;
  g_autoptr(GSimpleAction) action = NULL;
  g_autoptr(TcNode) node = NULL;
  g_autoptr(TcMessage) message = NULL;
  g_autoptr(TcMessage) long_message = NULL;
  TcNotifier *notifier;
  TcContact *alice;
  TcContact *carol;
  FakeDaemon *daemon;
  guint id;

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL)
    {
      g_test_skip ("No session bus: run under dbus-run-session");
      return;
    }

  daemon = fake_daemon_start ();

  profile_dir = g_dir_make_tmp ("torchat-ui-XXXXXX", &error);
  g_assert_no_error (error);
  node = tc_node_new (profile_dir, &error);
  g_assert_no_error (error);
  alice = tc_node_add_contact (node, alice_address, "Alice", NULL, &error);
  g_assert_no_error (error);
  carol = tc_node_add_contact (node, carol_address, "Carol", NULL, &error);
  g_assert_no_error (error);
  tc_contact_set_state (carol, TC_CONTACT_STATE_PENDING);
  tc_contact_set_greeting (carol, "We met at the library");

  app = gtk_application_new ("io.github.torchat.TorChat.Test", G_APPLICATION_NON_UNIQUE);
  action = g_simple_action_new ("open-conversation", G_VARIANT_TYPE_STRING);
  g_signal_connect (action, "activate", G_CALLBACK (open_conversation_cb), &opened);
  g_action_map_add_action (G_ACTION_MAP (app), G_ACTION (action));
  g_application_register (G_APPLICATION (app), NULL, &error);
  g_assert_no_error (error);

  notifier = tc_notifier_new (app, node, NULL);

  message = make_incoming (alice_address, "See you at seven");
  g_signal_emit_by_name (node, "message-received", alice, message);

  g_assert_true (iterate_until (daemon_reached_cb, &(DaemonWait) { daemon, 1, 0 }));
  g_mutex_lock (&daemon->mutex);
  g_assert_cmpuint (daemon->n_notify, ==, 1);
  g_assert_cmpstr (daemon->summary, ==, "New message from Alice");
  g_assert_cmpstr (daemon->body, ==, "See you at seven");
  g_assert_cmpstr (daemon->app_icon, ==, APP_ID);
  g_assert_true (daemon->has_default_action);
  id = daemon->last_id;
  g_mutex_unlock (&daemon->mutex);

  /* A second message replaces the first notification, and a long one is
   * cut. */
  long_text = g_strnfill (500, 'x');
  long_message = make_incoming (alice_address, long_text);
  g_signal_emit_by_name (node, "message-received", alice, long_message);
  g_assert_true (iterate_until (daemon_reached_cb, &(DaemonWait) { daemon, 2, 0 }));
  g_mutex_lock (&daemon->mutex);
  g_assert_cmpuint (daemon->n_notify, ==, 2);
  g_assert_cmpuint (daemon->replaces_id, ==, id);
  g_assert_cmpuint (g_utf8_strlen (daemon->body, -1), <, 500);
  g_assert_true (g_str_has_suffix (daemon->body, "…"));
  g_mutex_unlock (&daemon->mutex);

  /* Clicking it asks the application to open Alice's conversation. */
  g_dbus_connection_emit_signal (daemon->connection, NULL,
                                 "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications",
                                 "ActionInvoked",
                                 g_variant_new ("(us)", id, "default"),
                                 &error);
  g_assert_no_error (error);
  g_assert_true (iterate_until (string_set_cb, &opened));
  g_assert_cmpstr (opened, ==, alice_address);

  /* Reading the conversation withdraws the notification. */
  tc_notifier_withdraw (notifier, alice_address);
  g_assert_true (iterate_until (daemon_reached_cb, &(DaemonWait) { daemon, 2, id }));
  g_mutex_lock (&daemon->mutex);
  g_assert_cmpuint (daemon->closed_id, ==, id);
  g_mutex_unlock (&daemon->mutex);

  g_signal_emit_by_name (node, "contact-request", carol);
  g_assert_true (iterate_until (daemon_reached_cb, &(DaemonWait) { daemon, 3, 0 }));
  g_mutex_lock (&daemon->mutex);
  g_assert_cmpuint (daemon->n_notify, ==, 3);
  g_assert_cmpuint (daemon->replaces_id, ==, 0);
  g_assert_cmpstr (daemon->summary, ==, "Carol wants to be your contact");
  g_assert_cmpstr (daemon->body, ==, "We met at the library");
  g_mutex_unlock (&daemon->mutex);

  g_assert_finalize_object (notifier);
  fake_daemon_stop (daemon);
  g_clear_object (&node);
  rm_rf (profile_dir);
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      g_test_skip ("No display: run under xvfb-run");
      return g_test_run ();
    }
  adw_init ();

  g_test_add ("/ui/empty-state", Fixture, NULL,
              fixture_set_up, test_empty_state, fixture_tear_down);
  g_test_add ("/ui/send-message", Fixture, NULL,
              fixture_set_up, test_send_message, fixture_tear_down);
  g_test_add ("/ui/add-contact-dialog", Fixture, NULL,
              fixture_set_up, test_add_contact_dialog, fixture_tear_down);
  g_test_add ("/ui/contact-request", Fixture, NULL,
              fixture_set_up, test_contact_request, fixture_tear_down);
  g_test_add_func ("/ui/notifier", test_notifier);

  return g_test_run ();
}
