/* test-tor.c: TcTor with the real tor, kept off the network
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <sys/stat.h>

#include <glib/gstdio.h>

#include "tc-tor.h"

typedef struct {
  char       *dir;
  char       *extra;
  TcIdentity *identity;
  TcTor      *tor;
} Fixture;

static gboolean
wait_until (gboolean (*done) (TcTor *tor),
            TcTor     *tor,
            guint      seconds)
{
  gint64 deadline = g_get_monotonic_time () + seconds * G_USEC_PER_SEC;

  while (!done (tor))
    {
      if (g_get_monotonic_time () > deadline)
        return FALSE;
      g_main_context_iteration (NULL, FALSE);
      g_usleep (5000);
    }

  return TRUE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tor = g_find_program_in_path ("tor");
  guint8 seed[TC_SEED_LEN];

  if (tor == NULL)
    {
      g_test_skip ("tor is not installed");
      return;
    }

  f->dir = g_dir_make_tmp ("torchat-test-tor-XXXXXX", &error);
  g_assert_no_error (error);

  /* Never the real network from a unit test. DisableNetwork would also
   * close the SOCKS port, so this tor belongs to a test network whose only
   * authority is a closed loopback port instead. */
  f->extra = g_build_filename (f->dir, "extra.torrc", NULL);
  g_file_set_contents (f->extra,
                       "TestingTorNetwork 1\n"
                       "DirAuthority nowhere orport=1 no-v2 "
                       "v3ident=0000000000000000000000000000000000000001 127.0.0.1:2 "
                       "0000000000000000000000000000000000000002\n"
                       "UseDefaultFallbackDirs 0\n"
                       "ClientUseIPv6 0\n",
                       -1, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < sizeof seed; i++)
    seed[i] = 7 * i + 1;
  f->identity = tc_identity_new_from_seed (seed);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  if (f->tor != NULL)
    {
      gpointer weak = f->tor;
      gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

      /* Pending control-port calls hold it until they see the cancellation. */
      tc_tor_stop (f->tor);
      g_object_add_weak_pointer (weak, &weak);
      g_clear_object (&f->tor);
      while (weak != NULL && g_get_monotonic_time () < deadline)
        {
          g_main_context_iteration (NULL, FALSE);
          g_usleep (5000);
        }
      g_assert_null (weak);
    }
  g_clear_object (&f->identity);

  if (f->dir != NULL)
    {
      g_autofree char *cmd = g_strdup_printf ("rm -rf '%s'", f->dir);
      g_assert_cmpint (system (cmd), ==, 0);
    }
  g_free (f->dir);
  g_free (f->extra);
}

static gboolean
is_published (TcTor *tor)
{
  return tc_tor_get_onion_published (tor);
}

static gboolean
is_restarting (TcTor *tor)
{
  return tc_tor_get_state (tor) == TC_TOR_STATE_RESTARTING;
}

static gboolean
is_failed (TcTor *tor)
{
  return tc_tor_get_state (tor) == TC_TOR_STATE_FAILED ||
         tc_tor_get_state (tor) == TC_TOR_STATE_RESTARTING;
}

static char *
state_path (Fixture    *f,
            const char *name)
{
  return g_build_filename (f->dir, "state", name, NULL);
}

static void
test_managed_publishes (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *state = NULL;
  g_autofree char *torrc = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) log = NULL;
  struct stat st;

  if (f->dir == NULL)
    return;

  state = state_path (f, NULL);
  f->tor = tc_tor_new_managed (state, NULL, f->extra);
  tc_tor_publish (f->tor, f->identity, 4242);
  tc_tor_start (f->tor);

  /* ADD_ONION with our own key: the address Tor reports is checked against
   * ours inside TcTor, so publishing at all means they agreed. */
  g_assert_true (wait_until (is_published, f->tor, 60));
  g_assert_null (tc_tor_get_last_error (f->tor));
  g_assert_cmpint (tc_tor_get_state (f->tor), ==, TC_TOR_STATE_BOOTSTRAPPING);
  g_assert_true (g_str_has_prefix (tc_tor_get_socks_address (f->tor), "127.0.0.1:"));
  g_assert_false (tc_tor_get_reachable (f->tor));

  torrc = state_path (f, "torrc");
  g_assert_cmpint (g_stat (torrc, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0077, ==, 0);
  g_assert_true (g_file_get_contents (torrc, &contents, NULL, NULL));
  g_assert_nonnull (strstr (contents, "ExtendedErrors"));
  g_assert_nonnull (strstr (contents, "CookieAuthentication 1"));
  g_assert_nonnull (strstr (contents, "%include"));

  log = tc_tor_dup_log (f->tor);
  g_assert_cmpuint (g_strv_length (log), >, 0);
}

static void
store_result_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  GAsyncResult **slot = user_data;

  *slot = g_object_ref (result);
}

static gboolean
fetch (TcTor       *tor,
       const char  *address,
       GError     **error)
{
  g_autoptr(GAsyncResult) result = NULL;
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  tc_tor_fetch_descriptor_async (tor, address, NULL, store_result_cb, &result);
  while (result == NULL && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_nonnull (result);

  return tc_tor_fetch_descriptor_finish (tor, result, error);
}

/* "Try now" asks the real tor to fetch a descriptor again (HSFETCH): tor
 * takes a real onion address, refuses a malformed one, and nothing but an
 * address reaches its control port. */
static void
test_fetch_descriptor (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *state = NULL;
  guint8 seed[TC_SEED_LEN];
  g_autoptr(TcIdentity) someone = NULL;

  if (f->dir == NULL)
    return;

  /* Not connected yet: said so, nothing sent. */
  state = state_path (f, NULL);
  f->tor = tc_tor_new_managed (state, NULL, f->extra);
  g_assert_false (fetch (f->tor, tc_identity_get_address (f->identity), &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_FAILED);
  g_clear_error (&error);

  tc_tor_publish (f->tor, f->identity, 4242);
  tc_tor_start (f->tor);
  g_assert_true (wait_until (is_published, f->tor, 60));

  for (guint i = 0; i < sizeof seed; i++)
    seed[i] = 3 * i + 5;
  someone = tc_identity_new_from_seed (seed);
  g_assert_true (fetch (f->tor, tc_identity_get_address (someone), &error));
  g_assert_no_error (error);

  /* Tor's own refusal of something that is not a v3 address. */
  g_assert_false (fetch (f->tor, "notanonionaddress", &error));
  g_assert_nonnull (error);
  g_test_message ("tor: %s", error->message);
  g_clear_error (&error);

  /* Not even sent. */
  g_assert_false (fetch (f->tor, "abc\r\nSIGNAL HALT", &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (fetch (f->tor, tc_identity_get_address (someone), &error));
  g_assert_no_error (error);
}

static void
test_restarts_after_kill (Fixture       *f,
                          gconstpointer  data)
{
  g_autofree char *state = NULL;
  g_autofree char *pid_path = NULL;
  g_autofree char *pid_text = NULL;
  g_autofree char *old_socks = NULL;

  if (f->dir == NULL)
    return;

  state = state_path (f, NULL);
  f->tor = tc_tor_new_managed (state, NULL, f->extra);
  tc_tor_publish (f->tor, f->identity, 4242);
  tc_tor_start (f->tor);
  g_assert_true (wait_until (is_published, f->tor, 60));
  old_socks = g_strdup (tc_tor_get_socks_address (f->tor));

  pid_path = state_path (f, "tor.pid");
  g_assert_true (g_file_get_contents (pid_path, &pid_text, NULL, NULL));
  g_assert_cmpint (kill (atoi (pid_text), SIGKILL), ==, 0);

  g_assert_true (wait_until (is_restarting, f->tor, 30));
  g_assert_false (tc_tor_get_onion_published (f->tor));
  g_assert_nonnull (tc_tor_get_last_error (f->tor));

  /* Back by itself, with the onion service published again. */
  g_assert_true (wait_until (is_published, f->tor, 60));
  g_assert_nonnull (tc_tor_get_socks_address (f->tor));
}

/* An existing tor (system tor, Tails, Whonix) through its control port:
 * started here by hand, the way a user's own tor would run. */
static void
test_external_control (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *torrc = NULL;
  g_autofree char *contents = NULL;
  g_autofree char *port_file = NULL;
  g_autofree char *port_text = NULL;
  g_autoptr(GSubprocess) tor = NULL;
  g_autoptr(GError) error = NULL;
  gint64 deadline;

  if (f->dir == NULL)
    return;

  torrc = g_build_filename (f->dir, "own.torrc", NULL);
  port_file = g_build_filename (f->dir, "own-control-port", NULL);
  contents = g_strdup_printf ("DataDirectory %s/own-data\n"
                              "SocksPort 127.0.0.1:auto\n"
                              "ControlPort 127.0.0.1:auto\n"
                              "ControlPortWriteToFile %s\n"
                              "CookieAuthentication 1\n"
                              "__OwningControllerProcess %d\n"
                              "%%include %s\n",
                              f->dir, port_file, (int) getpid (), f->extra);
  g_file_set_contents (torrc, contents, -1, &error);
  g_assert_no_error (error);

  tor = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE, &error,
                          "tor", "-f", torrc, "--defaults-torrc", "/dev/null", NULL);
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!g_file_get_contents (port_file, &port_text, NULL, NULL) ||
         strchr (port_text, '\n') == NULL)
    {
      g_clear_pointer (&port_text, g_free);
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (20000);
    }

  f->tor = tc_tor_new_external (g_strstrip (port_text + strlen ("PORT=")), NULL);
  g_assert_false (tc_tor_get_managed (f->tor));
  tc_tor_publish (f->tor, f->identity, 4242);
  tc_tor_start (f->tor);

  g_assert_true (wait_until (is_published, f->tor, 60));
  g_assert_null (tc_tor_get_last_error (f->tor));
  g_assert_true (g_str_has_prefix (tc_tor_get_socks_address (f->tor), "127.0.0.1:"));

  tc_tor_stop (f->tor);
  g_subprocess_force_exit (tor);
  g_subprocess_wait (tor, NULL, NULL);
}

static void
test_bad_binary (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *state = NULL;

  if (f->dir == NULL)
    return;

  state = state_path (f, NULL);
  f->tor = tc_tor_new_managed (state, "/nonexistent/tor", f->extra);
  tc_tor_start (f->tor);
  g_assert_true (wait_until (is_failed, f->tor, 10));
  g_assert_nonnull (strstr (tc_tor_get_last_error (f->tor), "Could not start Tor"));
}

static void
test_bridge_lines (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcTor) tor = NULL;
  const char *plain[] = { "192.0.2.1:443 4352E58420E68F5E40BF7C74FADDCCD9D1349413", NULL };
  const char *typo[] = { "192.0.2.1443", NULL };
  const char *unknown[] = { "meek 192.0.2.1:443", NULL };
  const char *name[] = { "bridge.example.com:443", NULL };
  const char *obfs4_no_cert[] = { "obfs4 192.0.2.1:443 4352E58420E68F5E40BF7C74FADDCCD9D1349413", NULL };

  tor = tc_tor_new_managed ("/nonexistent", NULL, NULL);

  g_assert_true (tc_tor_set_bridges (tor, plain, &error));
  g_assert_no_error (error);
  g_assert_true (tc_tor_set_bridges (tor, NULL, &error));

  g_assert_false (tc_tor_set_bridges (tor, typo, &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE);
  g_clear_error (&error);

  g_assert_false (tc_tor_set_bridges (tor, unknown, &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE);
  g_assert_nonnull (strstr (error->message, "meek"));
  g_clear_error (&error);

  /* A host name would mean a DNS lookup outside Tor. */
  g_assert_false (tc_tor_set_bridges (tor, name, &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE);
  g_clear_error (&error);

  g_assert_false (tc_tor_set_bridges (tor, obfs4_no_cert, &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE);
  g_clear_error (&error);

  g_assert_true (tc_tor_set_proxy (tor, "socks5://user:pw@127.0.0.1:1080", &error));
  g_assert_no_error (error);
  g_assert_true (tc_tor_set_proxy (tor, "https://10.1.2.3:3128", &error));
  g_assert_false (tc_tor_set_proxy (tor, "ftp://127.0.0.1:21", &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_PROXY);
  g_clear_error (&error);
  g_assert_false (tc_tor_set_proxy (tor, "socks5://proxy.example:1080", &error));
  g_assert_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_PROXY);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/tor/managed-publishes", test_managed_publishes);
  ADD ("/tor/restarts-after-kill", test_restarts_after_kill);
  ADD ("/tor/external-control", test_external_control);
  ADD ("/tor/fetch-descriptor", test_fetch_descriptor);
  ADD ("/tor/bad-binary", test_bad_binary);
  g_test_add_func ("/tor/bridge-lines", test_bridge_lines);

  return g_test_run ();
}
