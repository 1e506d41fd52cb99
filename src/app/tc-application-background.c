/* tc-application-background.c: running on with the window closed, asked of
 * the Background portal
 *
 * A sandboxed app whose window is closed may be stopped by the desktop
 * unless the user allowed it to run in the background. When the close
 * action is "background" (Preferences), TORChat asks
 * org.freedesktop.portal.Background (RequestBackground, no autostart) at
 * start and whenever the user picks it. If the answer is no, the close
 * action goes back to "quit" and a dialog says so. Outside a sandbox there
 * is nothing to ask (the portal lets every host app run), and without the
 * portal the choice stays as it is. The request names the main window
 * (x11: or wayland: handle) for a dialog the portal may show; at start it
 * waits until that window is mapped. docs/architecture.md, "Background".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-application-private.h"

#ifdef GDK_WINDOWING_X11
#include <gdk/x11/gdkx.h>
#endif
#ifdef GDK_WINDOWING_WAYLAND
#include <gdk/wayland/gdkwayland.h>
#endif

#define PORTAL_BUS_NAME     "org.freedesktop.portal.Desktop"
#define PORTAL_OBJECT_PATH  "/org/freedesktop/portal/desktop"
#define PORTAL_BACKGROUND   "org.freedesktop.portal.Background"
#define PORTAL_REQUEST      "org.freedesktop.portal.Request"

static gboolean
in_sandbox (void)
{
  return g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS);
}

static void window_added_cb  (TcApplication *self,
                              GtkWindow     *window);
static void window_mapped_cb (TcApplication *self,
                              GtkWidget     *window);

/* No longer waiting for the main window to come or to be mapped. */
static void
stop_waiting (TcApplication *self)
{
  TcWindow *window = tc_application_get_main_window (self);

  g_signal_handlers_disconnect_by_func (self, window_added_cb, NULL);
  if (window != NULL)
    g_signal_handlers_disconnect_by_func (window, window_mapped_cb, self);
  g_clear_handle_id (&self->background_window_timeout, g_source_remove);
}

static void
tc_application_background_cancel (TcApplication *self)
{
  self->background_serial++;
  stop_waiting (self);
#ifdef GDK_WINDOWING_WAYLAND
  if (self->background_exported != NULL)
    gdk_wayland_toplevel_unexport_handle (self->background_exported);
#endif
  g_clear_object (&self->background_exported);
  if (self->background_cancellable != NULL)
    g_cancellable_cancel (self->background_cancellable);
  g_clear_object (&self->background_cancellable);
  if (self->background_response_id != 0 && self->background_bus != NULL)
    g_dbus_connection_signal_unsubscribe (self->background_bus, self->background_response_id);
  self->background_response_id = 0;
  g_clear_object (&self->background_bus);
  g_clear_pointer (&self->background_path, g_free);
}

static void
tc_application_background_denied (TcApplication *self)
{
  GtkWindow *parent = gtk_application_get_active_window (GTK_APPLICATION (self));
  GtkWidget *dialog;

  g_message ("Running in the background was not allowed; closing the window quits");

  /* Preferences shows what will happen: the window's close quits. */
  if (self->settings != NULL)
    {
      g_signal_handler_block (self->settings, self->close_action_handler);
      g_settings_set_string (self->settings, "close-action", "quit");
      g_signal_handler_unblock (self->settings, self->close_action_handler);
    }

  /* Closed already in the belief it could run on: the window comes back,
   * since nothing may keep the app running without it. */
  if (tc_application_get_main_window (self) == NULL)
    g_application_activate (G_APPLICATION (self));
  if (parent == NULL)
    parent = GTK_WINDOW (tc_application_get_main_window (self));
  dialog = adw_message_dialog_new (parent,
                                   _("Running in the Background Is Not Allowed"),
                                   _("TORChat will quit when its window is closed, so messages "
                                     "arrive only while it is open. To keep it running, allow "
                                     "TORChat to run in the background in the system settings "
                                     "(Apps), then choose it again in Preferences."));
  adw_message_dialog_add_response (ADW_MESSAGE_DIALOG (dialog), "close", _("_Close"));
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
response_cb (GDBusConnection *connection,
             const char      *sender_name,
             const char      *object_path,
             const char      *interface_name,
             const char      *signal_name,
             GVariant        *parameters,
             gpointer         user_data)
{
  TcApplication *self = user_data;
  g_autoptr(GVariant) results = NULL;
  gboolean allowed = FALSE;
  guint32 response;

  if (!g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(ua{sv})")))
    return;

  g_variant_get (parameters, "(u@a{sv})", &response, &results);
  tc_application_background_cancel (self);

  /* 0 is "success"; 1 the user said no, 2 anything else. */
  if (response == 0)
    g_variant_lookup (results, "background", "b", &allowed);
  if (allowed)
    {
      g_debug ("The Background portal allows running in the background");
      return;
    }

  tc_application_background_denied (self);
}

static void
subscribe (TcApplication *self,
           const char    *path)
{
  if (self->background_response_id != 0)
    g_dbus_connection_signal_unsubscribe (self->background_bus, self->background_response_id);
  self->background_response_id =
    g_dbus_connection_signal_subscribe (self->background_bus, PORTAL_BUS_NAME, PORTAL_REQUEST,
                                        "Response", path, NULL,
                                        G_DBUS_SIGNAL_FLAGS_NONE, response_cb,
                                        self, NULL);
}

static void
request_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TcApplication) self = user_data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *handle;

  reply = g_dbus_connection_call_finish (G_DBUS_CONNECTION (object), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      /* No portal, or one without the Background interface: nobody to
       * ask, and nobody who would stop the app either. */
      g_message ("Could not ask the Background portal: %s", error->message);
      tc_application_background_cancel (self);
      return;
    }

  /* A portal older than handle_token answers on a path of its own. */
  g_variant_get (reply, "(&o)", &handle);
  if (self->background_bus != NULL && g_strcmp0 (handle, self->background_path) != 0)
    subscribe (self, handle);
}

/* @parent_window: the portal's identifier of the window the request
 * belongs to (its dialog goes over it), or "". */
static void
send_request (TcApplication *self,
              const char    *parent_window)
{
  GDBusConnection *bus = g_application_get_dbus_connection (G_APPLICATION (self));
  g_autofree char *token = NULL;
  g_autofree char *sender = NULL;
  g_autofree char *path = NULL;
  GVariantBuilder options;

  if (bus == NULL)
    return;

  self->background_bus = g_object_ref (bus);
  self->background_cancellable = g_cancellable_new ();

  /* The request's path is known before the call: subscribe first, so the
   * answer cannot come before we listen. */
  token = g_strdup_printf ("torchat%u", g_random_int ());
  sender = g_strdup (g_dbus_connection_get_unique_name (bus) + 1);
  g_strdelimit (sender, ".", '_');
  path = g_strdup_printf (PORTAL_OBJECT_PATH "/request/%s/%s", sender, token);
  subscribe (self, path);
  g_free (self->background_path);
  self->background_path = g_steal_pointer (&path);

  g_variant_builder_init (&options, G_VARIANT_TYPE_VARDICT);
  g_variant_builder_add (&options, "{sv}", "handle_token", g_variant_new_string (token));
  g_variant_builder_add (&options, "{sv}", "reason",
                         g_variant_new_string (_("To receive messages while its window is closed")));
  g_variant_builder_add (&options, "{sv}", "autostart", g_variant_new_boolean (FALSE));
  g_variant_builder_add (&options, "{sv}", "dbus-activatable", g_variant_new_boolean (FALSE));

  g_debug ("Asking the Background portal (window %s)", *parent_window ? parent_window : "none");
  g_dbus_connection_call (bus, PORTAL_BUS_NAME, PORTAL_OBJECT_PATH, PORTAL_BACKGROUND,
                          "RequestBackground",
                          g_variant_new ("(sa{sv})", parent_window, &options),
                          G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE, -1,
                          self->background_cancellable, request_cb, g_object_ref (self));
}

#ifdef GDK_WINDOWING_WAYLAND
typedef struct {
  TcApplication *self;
  guint          serial;
} Export;

static void
exported_cb (GdkToplevel *toplevel,
             const char  *handle,
             gpointer     user_data)
{
  Export *export = user_data;
  g_autofree char *parent_window = g_strdup_printf ("wayland:%s", handle);

  /* Cancelled meanwhile: the close action changed again. */
  if (export->serial == export->self->background_serial)
    send_request (export->self, parent_window);
}

static void
export_free (gpointer data)
{
  Export *export = data;

  g_object_unref (export->self);
  g_free (export);
}
#endif

/* The request names the window, as every portal request should: the
 * portal's dialog, if it shows one, then belongs to it. */
static void
request_for_window (TcApplication *self,
                    GtkWidget     *window)
{
  GdkSurface *surface = window ? gtk_native_get_surface (GTK_NATIVE (window)) : NULL;

#ifdef GDK_WINDOWING_X11
  if (surface != NULL && GDK_IS_X11_SURFACE (surface))
    {
      g_autofree char *parent_window =
        g_strdup_printf ("x11:%lx", (unsigned long) gdk_x11_surface_get_xid (surface));

      send_request (self, parent_window);
      return;
    }
#endif
#ifdef GDK_WINDOWING_WAYLAND
  if (surface != NULL && GDK_IS_WAYLAND_TOPLEVEL (surface))
    {
      Export *export = g_new0 (Export, 1);

      export->self = g_object_ref (self);
      export->serial = self->background_serial;
      if (gdk_wayland_toplevel_export_handle (GDK_TOPLEVEL (surface), exported_cb,
                                              export, export_free))
        {
          self->background_exported = GDK_TOPLEVEL (g_object_ref (surface));
          return;
        }
    }
#endif

  send_request (self, "");
}

static void
window_mapped_cb (TcApplication *self,
                  GtkWidget     *window)
{
  stop_waiting (self);
  request_for_window (self, window);
}

static void
request_when_mapped (TcApplication *self,
                     GtkWidget     *window)
{
  if (window != NULL && !gtk_widget_get_mapped (window))
    {
      g_signal_connect_object (window, "map", G_CALLBACK (window_mapped_cb), self,
                               G_CONNECT_SWAPPED | G_CONNECT_AFTER);
      return;
    }

  request_for_window (self, window);
}

static void
window_added_cb (TcApplication *self,
                 GtkWindow     *window)
{
  if (GTK_WIDGET (window) != GTK_WIDGET (tc_application_get_main_window (self)))
    return;

  stop_waiting (self);
  request_when_mapped (self, GTK_WIDGET (window));
}

static gboolean
no_window_cb (gpointer user_data)
{
  TcApplication *self = user_data;

  self->background_window_timeout = 0;
  stop_waiting (self);
  request_for_window (self, NULL);

  return G_SOURCE_REMOVE;
}

/* How long a request at start waits for the main window to come. */
#define WINDOW_WAIT_SECONDS 10

static void
tc_application_background_request (TcApplication *self)
{
  GtkWidget *window = GTK_WIDGET (tc_application_get_main_window (self));

  tc_application_background_cancel (self);
  if (g_application_get_dbus_connection (G_APPLICATION (self)) == NULL || !in_sandbox ())
    return;

  /* At start the node is up before the window exists, and the window
   * before it is on screen: ask once it is. Without a window (started by
   * D-Bus activation) the request names none, after a while. */
  if (window == NULL)
    {
      g_signal_connect (self, "window-added", G_CALLBACK (window_added_cb), NULL);
      self->background_window_timeout =
        g_timeout_add_seconds (WINDOW_WAIT_SECONDS, no_window_cb, self);
      return;
    }

  request_when_mapped (self, window);
}

static void
close_action_changed_cb (TcApplication *self)
{
  g_autofree char *action = g_settings_get_string (self->settings, "close-action");

  if (g_strcmp0 (action, "background") == 0)
    tc_application_background_request (self);
  else
    tc_application_background_cancel (self);
}

void
tc_application_background_start (TcApplication *self)
{
  if (self->settings == NULL || self->close_action_handler != 0)
    return;

  self->close_action_handler =
    g_signal_connect_object (self->settings, "changed::close-action",
                             G_CALLBACK (close_action_changed_cb), self, G_CONNECT_SWAPPED);
  close_action_changed_cb (self);
}

void
tc_application_background_stop (TcApplication *self)
{
  tc_application_background_cancel (self);
  if (self->settings != NULL && self->close_action_handler != 0)
    g_signal_handler_disconnect (self->settings, self->close_action_handler);
  self->close_action_handler = 0;
}
