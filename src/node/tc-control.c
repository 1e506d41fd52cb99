/* tc-control.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <sys/un.h>

#include "tc-commands.h"
#include "tc-control-private.h"

#define SOCKET_NAME "control"
#define CALL_TIMEOUT_MS (60 * 1000)
#define QUIT_WAIT_S 15

struct _TcControl
{
  GObject      parent_instance;

  TcNode      *node;
  GDBusServer *server;
  char        *socket_path;
  /* GDBusConnection → registration id */
  GHashTable  *connections;
  gboolean     quitting;
};

G_DEFINE_FINAL_TYPE (TcControl, tc_control, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NODE,
  N_PROPS
};

enum {
  QUIT_REQUESTED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];
static GDBusInterfaceInfo *interface_info;

static const char introspection_xml[] =
  "<node>"
  "  <interface name='" TC_CONTROL_INTERFACE "'>"
  "    <method name='Run'>"
  "      <arg name='argv' type='as' direction='in'/>"
  "      <arg name='json' type='b' direction='in'/>"
  "      <arg name='stdin_text' type='s' direction='in'/>"
  "      <arg name='status' type='i' direction='out'/>"
  "      <arg name='output' type='s' direction='out'/>"
  "      <arg name='error_message' type='s' direction='out'/>"
  "    </method>"
  /* tc-control-passphrase.c */
  "    <method name='GetProfileKind'>"
  "      <arg name='kind' type='s' direction='out'/>"
  "    </method>"
  "    <method name='ChangePassphrase'>"
  "      <arg name='passphrases' type='h' direction='in'/>"
  "      <arg name='ok' type='b' direction='out'/>"
  "      <arg name='message' type='s' direction='out'/>"
  "    </method>"
  "  </interface>"
  "</node>";

char *
tc_control_dup_socket_path (const char *profile_dir)
{
  g_return_val_if_fail (profile_dir != NULL, NULL);

  return g_build_filename (profile_dir, SOCKET_NAME, NULL);
}

char *
_tc_control_dup_dbus_address (const char  *socket_path,
                              GError     **error)
{
  g_autofree char *escaped = NULL;

  if (strlen (socket_path) >= sizeof (((struct sockaddr_un *) NULL)->sun_path))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FILENAME_TOO_LONG,
                   _("The profile directory’s path is too long for its control socket %s"),
                   socket_path);
      return NULL;
    }

  escaped = g_dbus_address_escape_value (socket_path);
  return g_strdup_printf ("unix:path=%s", escaped);
}

/* Only what D-Bus can carry: a string that is valid UTF-8. */
static char *
make_valid (const char *str)
{
  if (g_utf8_validate (str, -1, NULL))
    return g_strdup (str);

  return g_utf8_make_valid (str, -1);
}

static void
flush_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(TcControl) self = user_data;

  /* Even if the answer could not be flushed, the user asked to quit. */
  g_dbus_connection_flush_finish (G_DBUS_CONNECTION (object), result, NULL);
  g_signal_emit (self, signals[QUIT_REQUESTED], 0);
}

static void
stop_listening (TcControl *self)
{
  if (self->server != NULL)
    {
      g_dbus_server_stop (self->server);
      g_clear_object (&self->server);

      /* GDBusServer leaves a "unix:path" socket file behind. */
      if (self->socket_path != NULL && g_unlink (self->socket_path) != 0 && errno != ENOENT)
        g_debug ("Could not remove the control socket: %s", g_strerror (errno));
    }
}

static void
method_call_cb (GDBusConnection       *connection,
                const char            *sender,
                const char            *object_path,
                const char            *interface_name,
                const char            *method_name,
                GVariant              *parameters,
                GDBusMethodInvocation *invocation,
                gpointer               user_data)
{
  TcControl *self = user_data;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  g_autofree const char **argv = NULL;
  g_autofree char *valid_out = NULL;
  g_autofree char *valid_err = NULL;
  const char *stdin_text = NULL;
  gboolean json = FALSE;
  gboolean quit = FALSE;
  int status;

  if (g_str_equal (method_name, "GetProfileKind") ||
      g_str_equal (method_name, "ChangePassphrase"))
    {
      if (self->quitting)
        g_dbus_method_invocation_return_error_literal (invocation, G_IO_ERROR, G_IO_ERROR_CLOSED,
                                                       _("The node is stopping"));
      else
        _tc_control_passphrase_method (self->node, method_name, invocation);
      return;
    }

  /* GDBus checked the method and its signature against interface_info. */
  g_variant_get (parameters, "(^a&sb&s)", &argv, &json, &stdin_text);

  if (self->quitting)
    {
      status = TC_EXIT_NO_NODE;
      g_string_append (err, "torchat: The node is stopping\n");
    }
  else
    {
      status = tc_commands_run (self->node, argv, json, stdin_text, out, err, &quit);
    }

  valid_out = make_valid (out->str);
  valid_err = make_valid (err->str);
  g_dbus_method_invocation_return_value (invocation,
                                         g_variant_new ("(iss)", status, valid_out, valid_err));

  if (quit && !self->quitting)
    {
      self->quitting = TRUE;
      stop_listening (self);
      g_dbus_connection_flush (connection, NULL, flush_cb, g_object_ref (self));
    }
}

static const GDBusInterfaceVTable vtable = {
  .method_call = method_call_cb,
};

static void
connection_closed_cb (GDBusConnection *connection,
                      gboolean         remote_peer_vanished,
                      GError          *error,
                      TcControl       *self)
{
  gpointer id;

  if (g_hash_table_lookup_extended (self->connections, connection, NULL, &id))
    {
      g_debug ("Control client disconnected");
      g_dbus_connection_unregister_object (connection, GPOINTER_TO_UINT (id));
      g_hash_table_remove (self->connections, connection);
    }
}

static gboolean
new_connection_cb (GDBusServer     *server,
                   GDBusConnection *connection,
                   TcControl       *self)
{
  g_autoptr(GError) error = NULL;
  guint id;

  if (self->quitting)
    return FALSE;

  id = g_dbus_connection_register_object (connection, TC_CONTROL_OBJECT_PATH,
                                          interface_info, &vtable,
                                          self, NULL, &error);
  if (id == 0)
    {
      g_warning ("Could not serve a control client: %s", error->message);
      return FALSE;
    }

  g_debug ("Control client connected");
  g_hash_table_insert (self->connections, g_object_ref (connection), GUINT_TO_POINTER (id));
  g_signal_connect_object (connection, "closed",
                           G_CALLBACK (connection_closed_cb), self, 0);

  return TRUE;
}

static gboolean
start (TcControl  *self,
       GError    **error)
{
  g_autofree char *address = NULL;
  g_autofree char *guid = NULL;

  self->socket_path = tc_control_dup_socket_path (tc_node_get_profile_dir (self->node));
  if (!(address = _tc_control_dup_dbus_address (self->socket_path, error)))
    return FALSE;

  /* The node holds the profile lock, so a socket left here is stale. */
  if (g_unlink (self->socket_path) != 0 && errno != ENOENT)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not remove the old control socket %s: %s"),
                   self->socket_path, g_strerror (saved_errno));
      return FALSE;
    }

  guid = g_dbus_generate_guid ();
  self->server = g_dbus_server_new_sync (address,
                                         G_DBUS_SERVER_FLAGS_AUTHENTICATION_REQUIRE_SAME_USER,
                                         guid, NULL, NULL, error);
  if (self->server == NULL)
    return FALSE;

  if (g_chmod (self->socket_path, 0600) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   _("Could not protect the control socket %s: %s"),
                   self->socket_path, g_strerror (saved_errno));
      stop_listening (self);
      return FALSE;
    }

  g_signal_connect_object (self->server, "new-connection",
                           G_CALLBACK (new_connection_cb), self, 0);
  g_dbus_server_start (self->server);

  return TRUE;
}

static void
tc_control_dispose (GObject *object)
{
  TcControl *self = TC_CONTROL (object);
  GHashTableIter iter;
  gpointer connection, id;

  stop_listening (self);

  if (self->connections != NULL)
    {
      g_hash_table_iter_init (&iter, self->connections);
      while (g_hash_table_iter_next (&iter, &connection, &id))
        {
          g_signal_handlers_disconnect_by_data (connection, self);
          g_dbus_connection_unregister_object (connection, GPOINTER_TO_UINT (id));
        }
    }

  /* A client waiting after `quit` sees its connection close, and then
   * expects the profile to be free: let go of the node (and its lock, if
   * this was the last reference) first. */
  g_clear_object (&self->node);

  if (self->connections != NULL)
    {
      g_hash_table_iter_init (&iter, self->connections);
      while (g_hash_table_iter_next (&iter, &connection, NULL))
        {
          g_dbus_connection_close (connection, NULL, NULL, NULL);
          g_hash_table_iter_remove (&iter);
        }
    }

  G_OBJECT_CLASS (tc_control_parent_class)->dispose (object);
}

static void
tc_control_finalize (GObject *object)
{
  TcControl *self = TC_CONTROL (object);

  g_clear_pointer (&self->connections, g_hash_table_unref);
  g_clear_pointer (&self->socket_path, g_free);

  G_OBJECT_CLASS (tc_control_parent_class)->finalize (object);
}

static void
tc_control_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  TcControl *self = TC_CONTROL (object);

  switch (prop_id)
    {
    case PROP_NODE:
      g_value_set_object (value, self->node);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_control_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  TcControl *self = TC_CONTROL (object);

  switch (prop_id)
    {
    case PROP_NODE:
      self->node = g_value_dup_object (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_control_class_init (TcControlClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  g_autoptr(GDBusNodeInfo) info = NULL;

  object_class->dispose = tc_control_dispose;
  object_class->finalize = tc_control_finalize;
  object_class->get_property = tc_control_get_property;
  object_class->set_property = tc_control_set_property;

  properties[PROP_NODE] =
    g_param_spec_object ("node", NULL, NULL,
                         TC_TYPE_NODE,
                         (G_PARAM_READWRITE |
                          G_PARAM_CONSTRUCT_ONLY |
                          G_PARAM_EXPLICIT_NOTIFY |
                          G_PARAM_STATIC_STRINGS));

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[QUIT_REQUESTED] =
    g_signal_new ("quit-requested",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);

  info = g_dbus_node_info_new_for_xml (introspection_xml, NULL);
  g_assert (info != NULL);
  interface_info = g_dbus_interface_info_ref (info->interfaces[0]);
}

static void
tc_control_init (TcControl *self)
{
  self->connections = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
}

TcControl *
tc_control_new (TcNode  *node,
                GError **error)
{
  g_autoptr(TcControl) self = NULL;

  g_return_val_if_fail (TC_IS_NODE (node), NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  self = g_object_new (TC_TYPE_CONTROL, "node", node, NULL);
  if (!start (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

TcNode *
tc_control_get_node (TcControl *self)
{
  g_return_val_if_fail (TC_IS_CONTROL (self), NULL);

  return self->node;
}

/* Client side. */

static char *
quote_for_shell (const char *str)
{
  for (const char *p = str; *p != '\0'; p++)
    {
      if (!g_ascii_isalnum (*p) && strchr ("/._-+,:@%", *p) == NULL)
        return g_shell_quote (str);
    }

  return g_strdup (str);
}

static int
fail_no_node (const char *profile_dir,
              GString    *err)
{
  g_autofree char *quoted = quote_for_shell (profile_dir);

  g_string_append_printf (err,
                          _("torchat: no TORChat node is running on profile %s; "
                            "start one with: torchat --headless --profile %s\n"),
                          profile_dir, quoted);

  return TC_EXIT_NO_NODE;
}

static void
closed_cb (GDBusConnection *connection,
           gboolean         remote_peer_vanished,
           GError          *error,
           gboolean        *closed)
{
  *closed = TRUE;
}

static gboolean
timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* The node answers `quit` before it stops; waiting until it has gone lets a
 * script start a new node on the profile right after. */
static void
wait_until_closed (GDBusConnection *connection,
                   GMainContext    *context)
{
  g_autoptr(GSource) timeout = NULL;
  gboolean closed = FALSE;
  gboolean timed_out = FALSE;
  gulong handler;

  handler = g_signal_connect (connection, "closed", G_CALLBACK (closed_cb), &closed);
  if (g_dbus_connection_is_closed (connection))
    closed = TRUE;

  timeout = g_timeout_source_new_seconds (QUIT_WAIT_S);
  g_source_set_callback (timeout, timeout_cb, &timed_out, NULL);
  g_source_attach (timeout, context);

  while (!closed && !timed_out)
    g_main_context_iteration (context, TRUE);

  g_source_destroy (timeout);
  g_signal_handler_disconnect (connection, handler);
}

GDBusConnection *
_tc_control_connect (const char *profile_dir,
                     GString    *err,
                     int        *status)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *address = NULL;

  socket_path = tc_control_dup_socket_path (profile_dir);
  if (!g_file_test (socket_path, G_FILE_TEST_EXISTS))
    {
      *status = fail_no_node (profile_dir, err);
      return NULL;
    }

  if (!(address = _tc_control_dup_dbus_address (socket_path, &error)))
    {
      g_string_append_printf (err, "torchat: %s\n", error->message);
      *status = TC_EXIT_FAILED;
      return NULL;
    }

  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                       NULL, NULL, &error);
  if (connection == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
          g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        {
          *status = fail_no_node (profile_dir, err);
          return NULL;
        }

      g_string_append_printf (err, _("torchat: Could not reach the node on profile %s: %s\n"),
                              profile_dir, error->message);
      *status = TC_EXIT_FAILED;
      return NULL;
    }

  *status = TC_EXIT_OK;
  return g_steal_pointer (&connection);
}

static int
forward (const char         *profile_dir,
         const char * const *argv,
         gboolean            json,
         const char         *stdin_text,
         GString            *out,
         GString            *err,
         GMainContext       *context)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *reply_out = NULL;
  const char *reply_err = NULL;
  int status;

  if (!(connection = _tc_control_connect (profile_dir, err, &status)))
    return status;

  reply = g_dbus_connection_call_sync (connection, NULL,
                                       TC_CONTROL_OBJECT_PATH,
                                       TC_CONTROL_INTERFACE,
                                       "Run",
                                       g_variant_new ("(^asbs)", argv, json,
                                                      stdin_text ? stdin_text : ""),
                                       G_VARIANT_TYPE ("(iss)"),
                                       G_DBUS_CALL_FLAGS_NONE,
                                       /* A long standard input is worked
                                        * through as long as the node lives. */
                                       stdin_text ? G_MAXINT : CALL_TIMEOUT_MS,
                                       NULL, &error);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_string_append_printf (err, _("torchat: The node on profile %s did not answer: %s\n"),
                              profile_dir, error->message);
      return TC_EXIT_FAILED;
    }

  g_variant_get (reply, "(i&s&s)", &status, &reply_out, &reply_err);
  g_string_append (out, reply_out);
  g_string_append (err, reply_err);

  if (status == TC_EXIT_OK && g_str_equal (argv[0], "quit"))
    wait_until_closed (connection, context);

  return status;
}

int
tc_control_forward (const char         *profile_dir,
                    const char * const *argv,
                    gboolean            json,
                    const char         *stdin_text,
                    GString            *out,
                    GString            *err)
{
  g_autoptr(GMainContext) context = NULL;
  int status;

  g_return_val_if_fail (profile_dir != NULL, TC_EXIT_FAILED);
  g_return_val_if_fail (out != NULL, TC_EXIT_FAILED);
  g_return_val_if_fail (err != NULL, TC_EXIT_FAILED);

  if ((status = tc_commands_check (argv, err)) != TC_EXIT_OK)
    return status;

  if (stdin_text != NULL && !g_utf8_validate (stdin_text, -1, NULL))
    {
      g_string_append (err, _("torchat: Standard input is not UTF-8 text\n"));
      return TC_EXIT_FAILED;
    }

  /* A private context: the connection's signals must not depend on the
   * caller's main loop, and the caller may be any thread. */
  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  status = forward (profile_dir, argv, json, stdin_text, out, err, context);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);

  return status;
}
