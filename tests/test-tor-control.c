/* test-tor-control.c: the control-port client against the real tor, kept
 * off the network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <glib/gstdio.h>

#include "tc-tor-control.h"

#define TIMEOUT_S 30

typedef struct {
  char         *name;
  char         *line;
  char        **data_lines;
} Event;

typedef struct {
  char         *dir;
  GSubprocess  *tor;
  TcTorControl *control;
  GPtrArray    *events;
  guint         closed_count;
  GError       *closed_error;
} Fixture;

static void
event_free (gpointer data)
{
  Event *event = data;

  g_free (event->name);
  g_free (event->line);
  g_strfreev (event->data_lines);
  g_free (event);
}

/* Helpers to wait for results */

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  g_assert_null (*slot);
  *slot = g_object_ref (result);
}

static void
spin (guint ms)
{
  gint64 end = g_get_monotonic_time () + ms * 1000;

  while (g_get_monotonic_time () < end)
    {
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
wait_for_result (GAsyncResult **slot)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  while (*slot == NULL)
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static TcTorControl *
connect_sync (const char  *address,
              GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tc_tor_control_connect_async (address, NULL, store_result_cb, &result);
  wait_for_result (&result);

  return tc_tor_control_connect_finish (result, error);
}

static gboolean
authenticate_sync (TcTorControl  *control,
                   const char    *password,
                   GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tc_tor_control_authenticate_async (control, password, NULL, store_result_cb, &result);
  wait_for_result (&result);

  return tc_tor_control_authenticate_finish (control, result, error);
}

static char **
command_sync (TcTorControl  *control,
              const char    *command,
              GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tc_tor_control_command_async (control, command, NULL, store_result_cb, &result);
  wait_for_result (&result);

  return tc_tor_control_command_finish (control, result, error);
}

static char *
get_info_sync (TcTorControl  *control,
               const char    *key,
               GError       **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tc_tor_control_get_info_async (control, key, NULL, store_result_cb, &result);
  wait_for_result (&result);

  return tc_tor_control_get_info_finish (control, result, error);
}

/* The tor we run */

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tor = g_find_program_in_path ("tor");

  if (tor == NULL)
    {
      g_test_skip ("tor is not installed");
      return;
    }

  /* 0700, which tor insists on for a unix control socket's directory. */
  f->dir = g_dir_make_tmp ("torchat-test-tor-control-XXXXXX", &error);
  g_assert_no_error (error);
  f->events = g_ptr_array_new_with_free_func (event_free);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->control != NULL)
    {
      gpointer weak = f->control;
      gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

      /* Dropping the last reference must free it, connected or not. */
      g_object_add_weak_pointer (weak, &weak);
      g_clear_object (&f->control);
      while (weak != NULL && g_get_monotonic_time () < deadline)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (1000);
        }
      g_assert_null (weak);
    }

  if (f->tor != NULL)
    {
      g_subprocess_send_signal (f->tor, SIGCONT);
      g_subprocess_force_exit (f->tor);
      g_subprocess_wait (f->tor, NULL, NULL);
      g_clear_object (&f->tor);
    }

  if (f->dir != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);
      g_assert_cmpint (system (cmd), ==, 0);
    }

  g_clear_pointer (&f->dir, g_free);
  g_clear_pointer (&f->events, g_ptr_array_unref);
  g_clear_error (&f->closed_error);
}

static char *
dir_path (Fixture    *f,
          const char *name)
{
  return g_build_filename (f->dir, name, NULL);
}

static char *
tor_log (Fixture *f)
{
  g_autofree char *path = dir_path (f, "tor.log");
  char *contents = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("(no log)");

  return contents;
}

/* Our tor ends with this test whatever happens to it, even stopped (a
 * stopped tor cannot notice that its owning controller is gone). */
static void
tor_child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  if (getppid () != GPOINTER_TO_INT (user_data))
    _exit (1);
}

/* Starts tor with DisableNetwork and our @config lines and waits until it
 * has written its control port file (and @also_wait_for, if any). */
static void
start_tor (Fixture    *f,
           const char *config,
           const char *also_wait_for)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *torrc = dir_path (f, "torrc");
  g_autofree char *port_file = dir_path (f, "control-port");
  g_autofree char *data_dir = dir_path (f, "data");
  g_autofree char *log = dir_path (f, "tor.log");
  g_autofree char *contents = NULL;
  gint64 deadline;

  /* Never the real network from a unit test; tor exits if we die. */
  contents = g_strdup_printf ("DataDirectory %s\n"
                              "SocksPort 0\n"
                              "DisableNetwork 1\n"
                              "ControlPortWriteToFile %s\n"
                              "Log notice file %s\n"
                              "__OwningControllerProcess %d\n"
                              "%s",
                              data_dir, port_file, log, (int) getpid (), config);
  g_file_set_contents (torrc, contents, -1, &error);
  g_assert_no_error (error);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                        G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_subprocess_launcher_set_child_setup (launcher, tor_child_setup,
                                         GINT_TO_POINTER (getpid ()), NULL);
  f->tor = g_subprocess_launcher_spawn (launcher, &error, "tor",
                                        "-f", torrc, "--defaults-torrc", "/dev/null",
                                        NULL);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  while (!g_file_test (port_file, G_FILE_TEST_EXISTS) ||
         (also_wait_for != NULL && !g_file_test (also_wait_for, G_FILE_TEST_EXISTS)))
    {
      if (g_subprocess_get_identifier (f->tor) == NULL ||
          g_get_monotonic_time () > deadline)
        {
          g_autofree char *text = tor_log (f);

          g_error ("tor did not open its control port:\n%s", text);
        }
      spin (10);
    }
}

/* "PORT=127.0.0.1:NNNN" → "127.0.0.1:NNNN" */
static char *
control_address (Fixture *f)
{
  g_autofree char *port_file = dir_path (f, "control-port");
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (port_file, &contents, NULL, &error);
  g_assert_no_error (error);

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], "PORT="))
      return g_strdup (g_strstrip (lines[i]) + strlen ("PORT="));

  g_error ("no PORT= line in %s", contents);
  return NULL;
}

static void
event_cb (TcTorControl  *control,
          const char    *name,
          const char    *line,
          char         **data_lines,
          Fixture       *f)
{
  Event *event = g_new0 (Event, 1);

  event->name = g_strdup (name);
  event->line = g_strdup (line);
  event->data_lines = g_strdupv (data_lines);
  g_ptr_array_add (f->events, event);
}

static void
closed_cb (TcTorControl *control,
           const GError *error,
           Fixture      *f)
{
  f->closed_count++;
  g_clear_error (&f->closed_error);
  if (error != NULL)
    f->closed_error = g_error_copy (error);
}

static void
connect_control (Fixture    *f,
                 const char *address)
{
  g_autoptr(GError) error = NULL;

  f->control = connect_sync (address, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->control);
  g_assert_false (tc_tor_control_is_closed (f->control));

  g_signal_connect (f->control, "event", G_CALLBACK (event_cb), f);
  g_signal_connect (f->control, "closed", G_CALLBACK (closed_cb), f);
}

/* A tor with cookie authentication (tor offers SAFECOOKIE and COOKIE), an
 * authenticated connection in f->control. */
static void
start_cookie_tor (Fixture *f)
{
  g_autofree char *cookie = g_build_filename (f->dir, "data", "control_auth_cookie", NULL);
  g_autofree char *address = NULL;
  g_autoptr(GError) error = NULL;

  start_tor (f, "ControlPort auto\nCookieAuthentication 1\n", cookie);
  address = control_address (f);
  connect_control (f, address);

  g_assert_true (authenticate_sync (f->control, NULL, &error));
  g_assert_no_error (error);
}

static void
assert_version (TcTorControl *control)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *version = get_info_sync (control, "version", &error);

  g_assert_no_error (error);
  g_assert_nonnull (version);
  /* "0.4.9.11", maybe with a tag */
  g_assert_true (g_ascii_isdigit (version[0]));
  g_assert_nonnull (strchr (version, '.'));
}

static gboolean
strv_has (char       **strv,
          const char  *line)
{
  return strv != NULL && g_strv_contains ((const char * const *) strv, line);
}

/* Tests without tor */

static void
test_quote (void)
{
  struct {
    const char *in;
    const char *out;
  } cases[] = {
    { "", "\"\"" },
    { "plain text", "\"plain text\"" },
    { "say \"hi\"", "\"say \\\"hi\\\"\"" },
    { "C:\\tor", "\"C:\\\\tor\"" },
    { "a\nb\r\tc", "\"a\\nb\\r\\tc\"" },
    { "\001\037\177", "\"\\001\\037\\177\"" },
    { "naïve", "\"naïve\"" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *quoted = tc_tor_control_quote (cases[i].in);

      g_assert_cmpstr (quoted, ==, cases[i].out);
    }
}

static void
test_bad_address (void)
{
  const char *bad[] = {
    "",
    "127.0.0.1",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "127.0.0.1:port",
    "tor.example:9051",         /* no DNS: literal addresses only */
    "relative/control.sock",
  };
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *missing = NULL;
  g_autoptr(TcTorControl) control = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      control = connect_sync (bad[i], &error);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
      g_assert_null (control);
      g_clear_error (&error);
    }

  /* Well-formed, but nobody listens there */
  control = connect_sync ("127.0.0.1:1", &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_nonnull (strstr (error->message, "127.0.0.1:1"));
  g_assert_null (control);
  g_clear_error (&error);

  control = connect_sync ("[::1]:1", &error);
  g_assert_nonnull (error);
  g_assert_false (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT));
  g_assert_null (control);
  g_clear_error (&error);

  dir = g_dir_make_tmp ("torchat-test-tor-control-XXXXXX", &error);
  g_assert_no_error (error);
  missing = g_build_filename (dir, "control.sock", NULL);

  control = connect_sync (missing, &error);
  g_assert_nonnull (error);
  g_assert_null (control);
  g_assert_nonnull (strstr (error->message, missing));
  g_clear_error (&error);

  g_assert_cmpint (g_rmdir (dir), ==, 0);
}

/* Tests with tor */

static void
test_safecookie (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = NULL;
  g_autofree char *value = NULL;
  g_autofree char *version = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *tor_output = NULL;

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);

  /* The same version as `tor --version` prints */
  version = get_info_sync (f->control, "version", &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_command_line_sync ("tor --version", &tor_output, NULL, NULL, &error));
  g_assert_no_error (error);
  expected = g_strdup_printf ("Tor version %s.", version);
  g_assert_true (g_str_has_prefix (tor_output, expected));

  /* An error from tor leaves the connection usable */
  value = get_info_sync (f->control, "no-such-key", &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED);
  g_assert_null (value);
  g_assert_true (g_str_has_prefix (error->message, "552 "));
  g_assert_nonnull (strstr (error->message, "no-such-key"));
  g_clear_error (&error);

  reply = command_sync (f->control, "NO-SUCH-COMMAND", &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "510 "));
  g_clear_error (&error);

  /* A data block: "250+config-text=" then the lines, then "." */
  reply = command_sync (f->control, "GETINFO config-text", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply[0], ==, "config-text=");
  g_assert_true (strv_has (reply, "DisableNetwork 1"));
  g_assert_true (strv_has (reply, "CookieAuthentication 1"));
  g_assert_false (strv_has (reply, "."));
  g_assert_cmpstr (reply[g_strv_length (reply) - 1], ==, "OK");
  g_clear_pointer (&reply, g_strfreev);

  value = get_info_sync (f->control, "config-text", &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (value, "\nDisableNetwork 1\n"));
  g_assert_null (strchr (value, '\r'));
  g_assert_false (g_str_has_suffix (value, "\n"));
  g_assert_false (g_str_has_suffix (value, "OK"));
  g_clear_pointer (&value, g_free);

  /* A command that is not a single line is refused before it reaches tor */
  reply = command_sync (f->control, "GETINFO version\r\nSIGNAL HALT", &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_null (reply);
  g_clear_error (&error);
  assert_version (f->control);

  g_assert_cmpuint (f->closed_count, ==, 0);
}

static void
test_add_onion (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = NULL;
  g_autofree char *onions = NULL;
  const char *service_id;
  const char *key;

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);

  reply = command_sync (f->control, "ADD_ONION NEW:ED25519-V3 Port=11009,127.0.0.1:1", &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (reply), ==, 3);
  g_assert_true (g_str_has_prefix (reply[0], "ServiceID="));
  g_assert_true (g_str_has_prefix (reply[1], "PrivateKey=ED25519-V3:"));
  g_assert_cmpstr (reply[2], ==, "OK");

  service_id = reply[0] + strlen ("ServiceID=");
  g_assert_cmpuint (strlen (service_id), ==, 56);
  key = reply[1] + strlen ("PrivateKey=ED25519-V3:");
  g_assert_cmpuint (strlen (key), ==, 88);

  /* Tor lists what it just told us. */
  onions = get_info_sync (f->control, "onions/current", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (onions, ==, service_id);
}

static void
test_events (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) setconf_result = NULL;
  g_autoptr(GAsyncResult) version_result = NULL;
  g_auto(GStrv) reply = NULL;
  g_autofree char *version = NULL;
  Event *event;
  gint64 deadline;

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);

  reply = command_sync (f->control, "SETEVENTS CONF_CHANGED SIGNAL", &error);
  g_assert_no_error (error);
  g_clear_pointer (&reply, g_strfreev);

  /* Tor sends the event right after SETCONF's reply, ahead of GETINFO's:
   * it must go to the signal, never into GETINFO's answer. */
  tc_tor_control_command_async (f->control, "SETCONF ContactInfo=x", NULL,
                                store_result_cb, &setconf_result);
  tc_tor_control_get_info_async (f->control, "version", NULL,
                                 store_result_cb, &version_result);
  wait_for_result (&setconf_result);
  wait_for_result (&version_result);

  reply = tc_tor_control_command_finish (f->control, setconf_result, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (reply), ==, 1);
  g_assert_cmpstr (reply[0], ==, "OK");
  g_clear_pointer (&reply, g_strfreev);

  version = tc_tor_control_get_info_finish (f->control, version_result, &error);
  g_assert_no_error (error);
  g_assert_true (g_ascii_isdigit (version[0]));

  deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  while (f->events->len < 1 && g_get_monotonic_time () < deadline)
    spin (5);

  /* "650-CONF_CHANGED" "650-ContactInfo=x" "650 OK" */
  g_assert_cmpuint (f->events->len, ==, 1);
  event = g_ptr_array_index (f->events, 0);
  g_assert_cmpstr (event->name, ==, "CONF_CHANGED");
  g_assert_cmpstr (event->line, ==, "CONF_CHANGED");
  g_assert_nonnull (event->data_lines);
  g_assert_cmpuint (g_strv_length (event->data_lines), ==, 1);
  g_assert_cmpstr (event->data_lines[0], ==, "ContactInfo=x");

  /* A one-line event: "650 SIGNAL CLEARDNSCACHE" */
  reply = command_sync (f->control, "SIGNAL CLEARDNSCACHE", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply[0], ==, "OK");

  deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  while (f->events->len < 2 && g_get_monotonic_time () < deadline)
    spin (5);

  g_assert_cmpuint (f->events->len, ==, 2);
  event = g_ptr_array_index (f->events, 1);
  g_assert_cmpstr (event->name, ==, "SIGNAL");
  g_assert_cmpstr (event->line, ==, "SIGNAL CLEARDNSCACHE");
  g_assert_null (event->data_lines);
}

typedef struct {
  GArray       *order;
  GPtrArray    *results;
} Batch;

typedef struct {
  Batch *batch;
  guint  index;
} BatchItem;

static void
batch_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  BatchItem *item = user_data;

  g_array_append_val (item->batch->order, item->index);
  g_ptr_array_index (item->batch->results, item->index) = g_object_ref (result);
  g_free (item);
}

static void
batch_add (Batch        *batch,
           TcTorControl *control,
           gboolean      get_info,
           const char   *what)
{
  BatchItem *item = g_new0 (BatchItem, 1);

  item->batch = batch;
  item->index = batch->results->len;
  g_ptr_array_add (batch->results, NULL);

  if (get_info)
    tc_tor_control_get_info_async (control, what, NULL, batch_cb, item);
  else
    tc_tor_control_command_async (control, what, NULL, batch_cb, item);
}

static void
test_many_at_once (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *listeners = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *value = NULL;
  g_auto(GStrv) reply = NULL;
  Batch batch;
  gint64 deadline;

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);
  address = control_address (f);

  batch.order = g_array_new (FALSE, FALSE, sizeof (guint));
  batch.results = g_ptr_array_new_with_free_func (g_object_unref);

  batch_add (&batch, f->control, TRUE, "version");                     /* 0 */
  batch_add (&batch, f->control, FALSE, "GETINFO no-such-key");        /* 1 */
  batch_add (&batch, f->control, TRUE, "net/listeners/control");      /* 2 */
  batch_add (&batch, f->control, FALSE, "GETCONF DisableNetwork");     /* 3 */
  batch_add (&batch, f->control, TRUE, "status/bootstrap-phase");     /* 4 */
  batch_add (&batch, f->control, FALSE, "GETINFO config-text");        /* 5 */
  batch_add (&batch, f->control, TRUE, "network-liveness");            /* 6 */

  deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  while (batch.order->len < batch.results->len && g_get_monotonic_time () < deadline)
    spin (5);

  g_assert_cmpuint (batch.order->len, ==, 7);
  for (guint i = 0; i < batch.order->len; i++)
    g_assert_cmpuint (g_array_index (batch.order, guint, i), ==, i);

  value = tc_tor_control_get_info_finish (f->control, g_ptr_array_index (batch.results, 0), &error);
  g_assert_no_error (error);
  g_assert_true (g_ascii_isdigit (value[0]));
  g_clear_pointer (&value, g_free);

  reply = tc_tor_control_command_finish (f->control, g_ptr_array_index (batch.results, 1), &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "552 "));
  g_clear_error (&error);

  listeners = tc_tor_control_get_info_finish (f->control, g_ptr_array_index (batch.results, 2), &error);
  g_assert_no_error (error);
  expected = g_strdup_printf ("\"%s\"", address);
  g_assert_cmpstr (listeners, ==, expected);

  reply = tc_tor_control_command_finish (f->control, g_ptr_array_index (batch.results, 3), &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (reply), ==, 1);
  g_assert_cmpstr (reply[0], ==, "DisableNetwork=1");
  g_clear_pointer (&reply, g_strfreev);

  value = tc_tor_control_get_info_finish (f->control, g_ptr_array_index (batch.results, 4), &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (value, "NOTICE BOOTSTRAP PROGRESS="));
  g_clear_pointer (&value, g_free);

  reply = tc_tor_control_command_finish (f->control, g_ptr_array_index (batch.results, 5), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (reply[0], ==, "config-text=");
  g_clear_pointer (&reply, g_strfreev);

  value = tc_tor_control_get_info_finish (f->control, g_ptr_array_index (batch.results, 6), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (value, ==, "down");

  g_array_unref (batch.order);
  g_ptr_array_unref (batch.results);
}

static void
test_quote_roundtrip (Fixture       *f,
                      gconstpointer  data)
{
  const char *values[] = {
    "plain",
    "with \"quotes\" and a \\ backslash",
    "tab\there, newline\nthere, bell\001",
  };

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);

  for (guint i = 0; i < G_N_ELEMENTS (values); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *quoted = tc_tor_control_quote (values[i]);
      g_autofree char *setconf = g_strconcat ("SETCONF ContactInfo=", quoted, NULL);
      g_auto(GStrv) reply = NULL;
      g_autofree char *expected = NULL;

      reply = command_sync (f->control, setconf, &error);
      g_assert_no_error (error);
      g_clear_pointer (&reply, g_strfreev);

      /* Tor shows printable values as they are and quotes the others
       * itself, as we do. */
      reply = command_sync (f->control, "GETCONF ContactInfo", &error);
      g_assert_no_error (error);
      g_assert_cmpuint (g_strv_length (reply), ==, 1);
      if (strpbrk (values[i], "\t\n\001") == NULL)
        expected = g_strconcat ("ContactInfo=", values[i], NULL);
      else
        expected = g_strconcat ("ContactInfo=", quoted, NULL);
      g_assert_cmpstr (reply[0], ==, expected);
    }
}

static void
test_password (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *config = NULL;
  g_autofree char *address = NULL;
  gint64 deadline;

  if (f->dir == NULL)
    return;

  g_assert_true (g_spawn_command_line_sync ("tor --hash-password x --quiet",
                                            &hash, NULL, NULL, &error));
  g_assert_no_error (error);
  g_strstrip (hash);
  g_assert_true (g_str_has_prefix (hash, "16:"));

  config = g_strdup_printf ("ControlPort auto\nHashedControlPassword %s\n", hash);
  start_tor (f, config, NULL);
  address = control_address (f);

  /* Wrong password: refused, and tor hangs up. */
  connect_control (f, address);
  g_assert_false (authenticate_sync (f->control, "y", &error));
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH);
  g_assert_cmpstr (error->message, ==, "Tor refused the password");
  g_clear_error (&error);

  deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  while (f->closed_count == 0 && g_get_monotonic_time () < deadline)
    spin (5);
  g_assert_cmpuint (f->closed_count, ==, 1);
  g_assert_error (f->closed_error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_CLOSED);
  g_assert_true (tc_tor_control_is_closed (f->control));
  g_clear_object (&f->control);

  /* No password at all: the user learns which option to use. */
  connect_control (f, address);
  g_assert_false (authenticate_sync (f->control, NULL, &error));
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH);
  g_assert_nonnull (strstr (error->message, "needs a password"));
  g_assert_nonnull (strstr (error->message, "--tor-control-password"));
  g_clear_error (&error);
  g_clear_object (&f->control);

  /* The right one */
  connect_control (f, address);
  g_assert_true (authenticate_sync (f->control, "x", &error));
  g_assert_no_error (error);
  assert_version (f->control);
}

static void
test_cookie_missing (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *hash = NULL;
  g_autofree char *config = NULL;
  g_autofree char *address = NULL;
  g_autofree char *cookie = NULL;

  if (f->dir == NULL)
    return;

  g_assert_true (g_spawn_command_line_sync ("tor --hash-password secret --quiet",
                                            &hash, NULL, NULL, &error));
  g_assert_no_error (error);
  g_strstrip (hash);

  cookie = g_build_filename (f->dir, "data", "control_auth_cookie", NULL);
  config = g_strdup_printf ("ControlPort auto\nCookieAuthentication 1\n"
                            "HashedControlPassword %s\n", hash);
  start_tor (f, config, cookie);
  address = control_address (f);
  g_assert_cmpint (g_unlink (cookie), ==, 0);

  connect_control (f, address);
  g_assert_false (authenticate_sync (f->control, NULL, &error));
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH);
  g_assert_true (g_str_has_prefix (error->message, "Cannot read Tor's cookie file "));
  g_assert_nonnull (strstr (error->message, cookie));
  g_clear_error (&error);
  g_clear_object (&f->control);

  /* With a password, tor's other method does. */
  connect_control (f, address);
  g_assert_true (authenticate_sync (f->control, "secret", &error));
  g_assert_no_error (error);
  assert_version (f->control);
}

static void
test_unix_socket (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *socket_path = NULL;
  g_autofree char *config = NULL;
  g_autofree char *cookie = NULL;
  g_autofree char *prefixed = NULL;

  if (f->dir == NULL)
    return;

  socket_path = dir_path (f, "control.sock");
  cookie = g_build_filename (f->dir, "data", "control_auth_cookie", NULL);
  config = g_strdup_printf ("ControlPort unix:%s\nCookieAuthentication 1\n", socket_path);
  start_tor (f, config, cookie);

  prefixed = g_strconcat ("unix:", socket_path, NULL);
  connect_control (f, prefixed);
  g_assert_true (authenticate_sync (f->control, NULL, &error));
  g_assert_no_error (error);
  assert_version (f->control);
  g_clear_object (&f->control);

  connect_control (f, socket_path);
  g_assert_true (authenticate_sync (f->control, NULL, &error));
  g_assert_no_error (error);
  assert_version (f->control);
}

static void
test_null_auth (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *localhost = NULL;
  g_autofree char *port = NULL;

  if (f->dir == NULL)
    return;

  start_tor (f, "ControlPort auto\n", NULL);
  address = control_address (f);

  /* "localhost" is the one name we accept, without asking DNS. */
  port = g_strdup (strrchr (address, ':') + 1);
  localhost = g_strconcat ("localhost:", port, NULL);
  connect_control (f, localhost);
  g_assert_true (authenticate_sync (f->control, "ignored", &error));
  g_assert_no_error (error);
  assert_version (f->control);
}

/* Until /proc says tor is stopped (state T). */
static void
wait_stopped (Fixture *f)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/stat", g_subprocess_get_identifier (f->tor));
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;

  for (;;)
    {
      g_autofree char *stat = NULL;
      const char *end;

      g_assert_true (g_file_get_contents (path, &stat, NULL, NULL));
      /* "PID (comm) STATE …": the state follows the last ')'. */
      end = strrchr (stat, ')');
      g_assert_nonnull (end);
      if (end[1] == ' ' && end[2] == 'T')
        return;
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (1000);
    }
}

static void
test_tor_killed (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) first = NULL;
  g_autoptr(GAsyncResult) second = NULL;
  g_autoptr(GAsyncResult) after = NULL;
  g_auto(GStrv) reply = NULL;
  g_autofree char *value = NULL;

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);

  /* A stopped tor cannot answer: both commands are pending when it dies.
   * The kernel stops it when it next runs: on a loaded machine that may be
   * after our commands, so wait for the stop. */
  g_subprocess_send_signal (f->tor, SIGSTOP);
  wait_stopped (f);
  tc_tor_control_get_info_async (f->control, "version", NULL, store_result_cb, &first);
  tc_tor_control_command_async (f->control, "GETINFO config-text", NULL, store_result_cb, &second);
  spin (200);
  g_assert_null (first);
  g_assert_null (second);
  g_assert_cmpuint (f->closed_count, ==, 0);

  g_subprocess_force_exit (f->tor);
  wait_for_result (&first);
  wait_for_result (&second);

  value = tc_tor_control_get_info_finish (f->control, first, &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_CLOSED);
  g_assert_null (value);
  g_clear_error (&error);

  reply = tc_tor_control_command_finish (f->control, second, &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_CLOSED);
  g_assert_null (reply);
  g_clear_error (&error);

  g_assert_cmpuint (f->closed_count, ==, 1);
  g_assert_error (f->closed_error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_CLOSED);
  g_assert_true (tc_tor_control_is_closed (f->control));

  /* Later commands fail at once; "closed" is not emitted again. */
  tc_tor_control_command_async (f->control, "GETINFO version", NULL, store_result_cb, &after);
  wait_for_result (&after);
  reply = tc_tor_control_command_finish (f->control, after, &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_CLOSED);
  g_clear_error (&error);

  tc_tor_control_close (f->control);
  spin (50);
  g_assert_cmpuint (f->closed_count, ==, 1);
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GCancellable) cancelled = g_cancellable_new ();
  g_autoptr(GAsyncResult) in_flight = NULL;
  g_autoptr(GAsyncResult) queued = NULL;
  g_autoptr(GAsyncResult) queued_cancelled = NULL;
  g_autoptr(GAsyncResult) early = NULL;
  g_autofree char *value = NULL;
  g_autofree char *address = NULL;
  g_autofree char *expected = NULL;
  g_auto(GStrv) reply = NULL;

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);
  address = control_address (f);

  g_cancellable_cancel (cancelled);
  tc_tor_control_command_async (f->control, "GETINFO version", cancelled,
                                store_result_cb, &early);
  wait_for_result (&early);
  reply = tc_tor_control_command_finish (f->control, early, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* While tor is stopped: one command in flight, two queued. */
  g_subprocess_send_signal (f->tor, SIGSTOP);
  wait_stopped (f);
  tc_tor_control_get_info_async (f->control, "version", cancellable,
                                 store_result_cb, &in_flight);
  tc_tor_control_get_info_async (f->control, "net/listeners/control", NULL,
                                 store_result_cb, &queued);
  tc_tor_control_get_info_async (f->control, "version", cancellable,
                                 store_result_cb, &queued_cancelled);
  spin (100);
  g_assert_null (in_flight);

  /* Cancelling answers at once, without waiting for tor. */
  g_cancellable_cancel (cancellable);
  wait_for_result (&in_flight);
  wait_for_result (&queued_cancelled);
  g_assert_null (queued);

  value = tc_tor_control_get_info_finish (f->control, in_flight, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (value);
  g_clear_error (&error);
  value = tc_tor_control_get_info_finish (f->control, queued_cancelled, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&error);

  /* The late answer to the cancelled command goes nowhere. */
  g_subprocess_send_signal (f->tor, SIGCONT);
  wait_for_result (&queued);
  value = tc_tor_control_get_info_finish (f->control, queued, &error);
  g_assert_no_error (error);
  expected = g_strdup_printf ("\"%s\"", address);
  g_assert_cmpstr (value, ==, expected);

  assert_version (f->control);
  g_assert_cmpuint (f->closed_count, ==, 0);
}

static void
test_close (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GAsyncResult) result = NULL;
  g_auto(GStrv) reply = NULL;

  if (f->dir == NULL)
    return;

  start_cookie_tor (f);

  tc_tor_control_command_async (f->control, "GETINFO version", NULL, store_result_cb, &result);
  tc_tor_control_close (f->control);
  g_assert_cmpuint (f->closed_count, ==, 1);
  g_assert_null (f->closed_error);
  g_assert_true (tc_tor_control_is_closed (f->control));

  wait_for_result (&result);
  reply = tc_tor_control_command_finish (f->control, result, &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_CLOSED);
  g_assert_null (reply);

  tc_tor_control_close (f->control);
  g_assert_cmpuint (f->closed_count, ==, 1);
}

static void
test_unauthenticated (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *value = NULL;
  g_autofree char *cookie = NULL;
  gint64 deadline;

  if (f->dir == NULL)
    return;

  cookie = g_build_filename (f->dir, "data", "control_auth_cookie", NULL);
  start_tor (f, "ControlPort auto\nCookieAuthentication 1\n", cookie);
  address = control_address (f);
  connect_control (f, address);

  /* Tor answers 514 and hangs up: a FAILED reply, then "closed". */
  value = get_info_sync (f->control, "version", &error);
  g_assert_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "514 "));
  g_clear_error (&error);

  deadline = g_get_monotonic_time () + TIMEOUT_S * G_USEC_PER_SEC;
  while (f->closed_count == 0 && g_get_monotonic_time () < deadline)
    spin (5);
  g_assert_cmpuint (f->closed_count, ==, 1);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  g_test_add_func ("/tor-control/quote", test_quote);
  g_test_add_func ("/tor-control/bad-address", test_bad_address);
  ADD ("/tor-control/safecookie", test_safecookie);
  ADD ("/tor-control/add-onion", test_add_onion);
  ADD ("/tor-control/events", test_events);
  ADD ("/tor-control/many-at-once", test_many_at_once);
  ADD ("/tor-control/quote-roundtrip", test_quote_roundtrip);
  ADD ("/tor-control/password", test_password);
  ADD ("/tor-control/cookie-missing", test_cookie_missing);
  ADD ("/tor-control/unix-socket", test_unix_socket);
  ADD ("/tor-control/null-auth", test_null_auth);
  ADD ("/tor-control/unauthenticated", test_unauthenticated);
  ADD ("/tor-control/tor-killed", test_tor_killed);
  ADD ("/tor-control/cancel", test_cancel);
  ADD ("/tor-control/close", test_close);

  return g_test_run ();
}
