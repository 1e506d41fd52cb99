/* tc-tor.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tc-tor-private.h"
#include "tc-types.h"

#define LOG_LINES 100
#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (60 * 1000)
#define PORT_FILE_POLL_MS 100
#define PORT_FILE_TIMEOUT_US (120 * G_USEC_PER_SEC)

G_DEFINE_FINAL_TYPE (TcTor, tc_tor, G_TYPE_OBJECT)
G_DEFINE_QUARK (tc-tor-error-quark, tc_tor_error)

static GParamSpec *properties[N_PROPS];

static void start_run (TcTor *self);
static void fail_run (TcTor *self, const char *why, gboolean retry);

void
_tc_tor_set_string_prop (TcTor       *self,
                         char       **field,
                         const char  *value,
                         guint        prop)
{
  if (g_strcmp0 (*field, value) == 0)
    return;

  g_free (*field);
  *field = g_strdup (value);
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
_tc_tor_set_bool_prop (TcTor    *self,
                       gboolean *field,
                       gboolean  value,
                       guint     prop)
{
  if (*field == value)
    return;

  *field = value;
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

void
_tc_tor_set_state (TcTor      *self,
                   TcTorState  state)
{
  if (self->state == state)
    return;

  g_debug ("Tor: %s", tc_tor_state_to_string (state));
  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
_tc_tor_set_progress (TcTor      *self,
                      guint       progress,
                      const char *summary)
{
  if (self->progress != progress)
    {
      self->progress = progress;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_BOOTSTRAP_PROGRESS]);
    }

  if (summary != NULL)
    _tc_tor_set_string_prop (self, &self->summary, summary, PROP_BOOTSTRAP_SUMMARY);

  if (progress >= 100 && self->state == TC_TOR_STATE_BOOTSTRAPPING)
    {
      /* Recovered: what went wrong before is history. */
      self->backoff_ms = 0;
      _tc_tor_set_string_prop (self, &self->last_error, NULL, PROP_LAST_ERROR);
      _tc_tor_set_state (self, TC_TOR_STATE_READY);
    }
}

void
_tc_tor_add_log_line (TcTor      *self,
                      const char *line)
{
  g_queue_push_tail (&self->log, g_strdup (line));
  while (self->log.length > LOG_LINES)
    g_free (g_queue_pop_head (&self->log));
}

static void
control_closed_cb (TcTorControl *control,
                   const GError *error,
                   TcTor        *self)
{
  if (control != self->control)
    return;

  fail_run (self, error ? error->message : _("Tor closed its control port"), TRUE);
}

static void
socks_listeners_cb (GObject      *object,
                    GAsyncResult *result,
                    gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *value = NULL;
  g_auto(GStrv) listeners = NULL;

  value = tc_tor_control_get_info_finish (TC_TOR_CONTROL (object), result, &error);
  if (value == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail_run (self, error->message, TRUE);
      return;
    }

  /* "127.0.0.1:9050" "[::1]:9050", quoted; the first IPv4 one will do. */
  listeners = g_strsplit (value, " ", -1);
  for (guint i = 0; listeners[i] != NULL; i++)
    {
      g_autofree char *address = g_strdup (g_strstrip (listeners[i]));
      gsize len = strlen (address);

      if (len > 2 && address[0] == '"' && address[len - 1] == '"')
        {
          memmove (address, address + 1, len - 2);
          address[len - 2] = '\0';
        }

      if (g_ascii_isdigit (address[0]))
        {
          _tc_tor_set_string_prop (self, &self->socks_address, address, PROP_SOCKS_ADDRESS);
          break;
        }
    }

  if (self->socks_address == NULL)
    {
      fail_run (self, _("Tor has no SOCKS port"), FALSE);
      return;
    }

  tc_tor_control_get_info_async (self->control, "status/bootstrap-phase",
                                 self->cancellable, _tc_tor_bootstrap_phase_cb,
                                 g_object_ref (self));
  _tc_tor_publish_now (self);
}

static void
setevents_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = NULL;

  reply = tc_tor_control_command_finish (TC_TOR_CONTROL (object), result, &error);
  if (reply == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail_run (self, error->message, TRUE);
      return;
    }

  tc_tor_control_get_info_async (self->control, "net/listeners/socks",
                                 self->cancellable, socks_listeners_cb,
                                 g_object_ref (self));
}

/* Without ownership our tor still ends with this process, only later:
 * __OwningControllerProcess in its torrc has it check our PID every few
 * seconds. Said in the log and in last-error, not fatal. */
static void
takeownership_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = tc_tor_control_command_finish (TC_TOR_CONTROL (object), result, &error);

  if (reply != NULL || g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  g_warning ("Tor: TAKEOWNERSHIP failed (%s); tor ends some seconds after TORChat instead",
             error->message);
  _tc_tor_set_string_prop (self, &self->last_error, error->message, PROP_LAST_ERROR);
}

static void
authenticated_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!tc_tor_control_authenticate_finish (TC_TOR_CONTROL (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail_run (self, error->message,
                  !g_error_matches (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH));
      return;
    }

  _tc_tor_set_state (self, TC_TOR_STATE_BOOTSTRAPPING);

  /* Our tor exits when the control connection closes: no orphan tor. */
  if (self->managed)
    tc_tor_control_command_async (self->control, "TAKEOWNERSHIP", self->cancellable,
                                  takeownership_cb, g_object_ref (self));

  tc_tor_control_command_async (self->control, "SETEVENTS STATUS_CLIENT HS_DESC NOTICE WARN ERR",
                                self->cancellable, setevents_cb, g_object_ref (self));
}

static void
control_connected_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(TcTorControl) control = NULL;

  control = tc_tor_control_connect_finish (result, &error);
  if (control == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail_run (self, error->message, TRUE);
      return;
    }

  self->control = g_steal_pointer (&control);
  g_signal_connect_object (self->control, "event", G_CALLBACK (_tc_tor_event_cb), self, 0);
  g_signal_connect_object (self->control, "closed", G_CALLBACK (control_closed_cb), self, 0);
  tc_tor_control_authenticate_async (self->control, self->password, self->cancellable,
                                     authenticated_cb, g_object_ref (self));
}

static void
connect_control (TcTor      *self,
                 const char *address)
{
  tc_tor_control_connect_async (address, self->cancellable, control_connected_cb,
                                g_object_ref (self));
}

static gboolean
poll_port_file_cb (gpointer user_data)
{
  TcTor *self = user_data;
  g_autofree char *path = g_build_filename (self->state_dir, "control-port", NULL);
  g_autofree char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      !g_str_has_prefix (contents, "PORT=") || strchr (contents, '\n') == NULL)
    {
      if (g_get_monotonic_time () > self->port_poll_deadline)
        {
          self->port_poll_source = 0;
          fail_run (self, _("Tor did not open its control port in time"), TRUE);
          return G_SOURCE_REMOVE;
        }
      return G_SOURCE_CONTINUE;
    }

  self->port_poll_source = 0;
  connect_control (self, g_strstrip (contents + strlen ("PORT=")));

  return G_SOURCE_REMOVE;
}

static void
read_log_line_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  GDataInputStream *input = G_DATA_INPUT_STREAM (object);
  g_autofree char *line = NULL;
  const char *bootstrapped;

  line = g_data_input_stream_read_line_finish_utf8 (input, result, NULL, NULL);
  if (line == NULL)
    return;

  _tc_tor_add_log_line (self, line);

  /* Before the control port is up, the log is all there is. */
  bootstrapped = strstr (line, "Bootstrapped ");
  if (bootstrapped != NULL && self->control == NULL)
    {
      const char *summary = strstr (bootstrapped, "): ");
      guint64 progress = g_ascii_strtoull (bootstrapped + strlen ("Bootstrapped "), NULL, 10);

      _tc_tor_set_progress (self, (guint) MIN (progress, 99), summary ? summary + 3 : NULL);
    }

  g_data_input_stream_read_line_async (input, G_PRIORITY_DEFAULT, NULL,
                                       read_log_line_cb, g_steal_pointer (&self));
}

static void
process_exited_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  GSubprocess *process = G_SUBPROCESS (object);
  g_autofree char *why = NULL;
  const char *last = g_queue_peek_tail (&self->log);

  g_subprocess_wait_finish (process, result, NULL);
  if (process != self->process)
    return;

  why = g_strdup_printf (_("Tor exited (%s)"), last ? last : _("no message"));
  fail_run (self, why, TRUE);
}

static void
start_managed (TcTor *self)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autofree char *torrc = g_build_filename (self->state_dir, "torrc", NULL);
  g_autofree char *defaults = g_build_filename (self->state_dir, "torrc-defaults", NULL);
  g_autofree char *port_file = g_build_filename (self->state_dir, "control-port", NULL);

  if (!_tc_tor_write_torrc (self, &error))
    {
      fail_run (self, error->message, FALSE);
      return;
    }

  g_unlink (port_file);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_MERGE |
                                        G_SUBPROCESS_FLAGS_STDIN_INHERIT);
  self->process = g_subprocess_launcher_spawn (launcher, &error,
                                               self->tor_binary ? self->tor_binary : "tor",
                                               "-f", torrc, "--defaults-torrc", defaults,
                                               NULL);
  if (self->process == NULL)
    {
      g_autofree char *message = g_strdup_printf (_("Could not start Tor: %s"), error->message);
      fail_run (self, message, FALSE);
      return;
    }

  log = g_data_input_stream_new (g_subprocess_get_stdout_pipe (self->process));
  g_data_input_stream_read_line_async (log, G_PRIORITY_DEFAULT, NULL,
                                       read_log_line_cb, g_object_ref (self));
  g_subprocess_wait_async (self->process, NULL, process_exited_cb, g_object_ref (self));

  self->port_poll_deadline = g_get_monotonic_time () + PORT_FILE_TIMEOUT_US;
  self->port_poll_source = g_timeout_add (PORT_FILE_POLL_MS, poll_port_file_cb, self);
}

static void
start_run (TcTor *self)
{
  g_clear_handle_id (&self->restart_source, g_source_remove);
  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();

  _tc_tor_set_state (self, TC_TOR_STATE_STARTING);
  _tc_tor_set_progress (self, 0, NULL);
  _tc_tor_set_bool_prop (self, &self->published, FALSE, PROP_ONION_PUBLISHED);
  _tc_tor_set_bool_prop (self, &self->reachable, FALSE, PROP_REACHABLE);

  if (self->managed)
    start_managed (self);
  else
    connect_control (self, self->control_address);
}

/* Ends the current run: the process and the control connection go. A
 * graceful end lets tor save its state; after a failure it may hang, so it
 * is killed. */
static void
end_run (TcTor    *self,
         gboolean  graceful)
{
  if (self->cancellable != NULL)
    g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->port_poll_source, g_source_remove);

  if (self->control != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->control, self);
      tc_tor_control_close (self->control);
      g_clear_object (&self->control);
    }

  if (self->process != NULL)
    {
      if (graceful)
        g_subprocess_send_signal (self->process, SIGTERM);
      else
        g_subprocess_force_exit (self->process);
      g_clear_object (&self->process);
    }

  _tc_tor_set_bool_prop (self, &self->published, FALSE, PROP_ONION_PUBLISHED);
  _tc_tor_set_bool_prop (self, &self->reachable, FALSE, PROP_REACHABLE);
}

static gboolean
restart_cb (gpointer user_data)
{
  TcTor *self = user_data;

  self->restart_source = 0;
  start_run (self);

  return G_SOURCE_REMOVE;
}

static void
fail_run (TcTor      *self,
          const char *why,
          gboolean    retry)
{
  g_message ("Tor: %s", why);
  _tc_tor_set_string_prop (self, &self->last_error, why, PROP_LAST_ERROR);
  end_run (self, FALSE);

  if (!retry)
    {
      _tc_tor_set_state (self, TC_TOR_STATE_FAILED);
      return;
    }

  _tc_tor_set_state (self, TC_TOR_STATE_RESTARTING);
  self->backoff_ms = CLAMP (self->backoff_ms * 2, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
  self->restart_source = g_timeout_add (self->backoff_ms, restart_cb, self);
}

void
tc_tor_start (TcTor *self)
{
  g_return_if_fail (TC_IS_TOR (self));

  if (self->state != TC_TOR_STATE_STOPPED && self->state != TC_TOR_STATE_FAILED)
    return;

  start_run (self);
}

void
tc_tor_stop (TcTor *self)
{
  g_return_if_fail (TC_IS_TOR (self));

  g_clear_handle_id (&self->restart_source, g_source_remove);
  end_run (self, TRUE);
  _tc_tor_set_state (self, TC_TOR_STATE_STOPPED);
}

void
tc_tor_restart (TcTor *self)
{
  g_return_if_fail (TC_IS_TOR (self));

  /* The new tor needs the DataDirectory lock at once. */
  end_run (self, FALSE);
  self->backoff_ms = 0;
  start_run (self);
}

TcTor *
tc_tor_new_managed (const char *state_dir,
                    const char *tor_binary,
                    const char *extra_torrc)
{
  TcTor *self;

  g_return_val_if_fail (state_dir != NULL, NULL);

  self = g_object_new (TC_TYPE_TOR, NULL);
  self->managed = TRUE;
  self->state_dir = g_strdup (state_dir);
  self->tor_binary = g_strdup (tor_binary);
  self->extra_torrc = g_strdup (extra_torrc);

  return self;
}

TcTor *
tc_tor_new_external (const char *control_address,
                     const char *password)
{
  TcTor *self;

  g_return_val_if_fail (control_address != NULL, NULL);

  self = g_object_new (TC_TYPE_TOR, NULL);
  self->control_address = g_strdup (control_address);
  self->password = g_strdup (password);

  return self;
}

TcTorState
tc_tor_get_state (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), TC_TOR_STATE_STOPPED);
  return self->state;
}

guint
tc_tor_get_bootstrap_progress (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), 0);
  return self->progress;
}

const char *
tc_tor_get_bootstrap_summary (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), NULL);
  return self->summary;
}

const char *
tc_tor_get_socks_address (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), NULL);
  return self->socks_address;
}

gboolean
tc_tor_get_reachable (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), FALSE);
  return self->reachable;
}

gboolean
tc_tor_get_onion_published (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), FALSE);
  return self->published;
}

const char *
tc_tor_get_last_error (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), NULL);
  return self->last_error;
}

gboolean
tc_tor_get_managed (TcTor *self)
{
  g_return_val_if_fail (TC_IS_TOR (self), FALSE);
  return self->managed;
}

char **
tc_tor_dup_log (TcTor *self)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (TC_IS_TOR (self), NULL);

  for (GList *l = self->log.head; l != NULL; l = l->next)
    g_strv_builder_add (builder, l->data);

  return g_strv_builder_end (builder);
}

const char *
tc_tor_state_to_string (TcTorState state)
{
  static const char * const names[] = {
    "stopped", "starting", "bootstrapping", "ready", "restarting", "failed"
  };

  g_return_val_if_fail ((guint) state < G_N_ELEMENTS (names), NULL);
  return names[state];
}

static void
tc_tor_dispose (GObject *object)
{
  TcTor *self = TC_TOR (object);

  g_clear_handle_id (&self->restart_source, g_source_remove);
  end_run (self, TRUE);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->identity);

  G_OBJECT_CLASS (tc_tor_parent_class)->dispose (object);
}

static void
tc_tor_finalize (GObject *object)
{
  TcTor *self = TC_TOR (object);

  g_free (self->state_dir);
  g_free (self->tor_binary);
  g_free (self->extra_torrc);
  g_free (self->control_address);
  g_free (self->password);
  g_strfreev (self->bridges);
  g_free (self->proxy);
  g_free (self->summary);
  g_free (self->socks_address);
  g_free (self->last_error);
  g_queue_clear_full (&self->log, g_free);

  G_OBJECT_CLASS (tc_tor_parent_class)->finalize (object);
}

static void
tc_tor_get_property (GObject    *object,
                     guint       prop_id,
                     GValue     *value,
                     GParamSpec *pspec)
{
  TcTor *self = TC_TOR (object);

  switch (prop_id)
    {
    case PROP_STATE:
      g_value_set_int (value, self->state);
      break;
    case PROP_BOOTSTRAP_PROGRESS:
      g_value_set_uint (value, self->progress);
      break;
    case PROP_BOOTSTRAP_SUMMARY:
      g_value_set_string (value, self->summary);
      break;
    case PROP_SOCKS_ADDRESS:
      g_value_set_string (value, self->socks_address);
      break;
    case PROP_REACHABLE:
      g_value_set_boolean (value, self->reachable);
      break;
    case PROP_ONION_PUBLISHED:
      g_value_set_boolean (value, self->published);
      break;
    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;
    case PROP_MANAGED:
      g_value_set_boolean (value, self->managed);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_tor_class_init (TcTorClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;

  object_class->dispose = tc_tor_dispose;
  object_class->finalize = tc_tor_finalize;
  object_class->get_property = tc_tor_get_property;

  properties[PROP_STATE] =
    g_param_spec_int ("state", NULL, NULL, TC_TOR_STATE_STOPPED, TC_TOR_STATE_FAILED,
                      TC_TOR_STATE_STOPPED, flags);
  properties[PROP_BOOTSTRAP_PROGRESS] =
    g_param_spec_uint ("bootstrap-progress", NULL, NULL, 0, 100, 0, flags);
  properties[PROP_BOOTSTRAP_SUMMARY] =
    g_param_spec_string ("bootstrap-summary", NULL, NULL, NULL, flags);
  properties[PROP_SOCKS_ADDRESS] =
    g_param_spec_string ("socks-address", NULL, NULL, NULL, flags);
  properties[PROP_REACHABLE] =
    g_param_spec_boolean ("reachable", NULL, NULL, FALSE, flags);
  properties[PROP_ONION_PUBLISHED] =
    g_param_spec_boolean ("onion-published", NULL, NULL, FALSE, flags);
  properties[PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL, NULL, flags);
  properties[PROP_MANAGED] =
    g_param_spec_boolean ("managed", NULL, NULL, FALSE, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tc_tor_init (TcTor *self)
{
  g_queue_init (&self->log);
}
