/* test-integration-passphrase.c: `torchat passphrase` on a running node
 *
 * Real `torchat --headless` processes behind the test SOCKS server, as in
 * test-integration.c: the passphrase changes (or a plaintext profile is
 * encrypted) while the node runs and messages go both ways, a wrong
 * current passphrase changes no file, and after a restart only the new
 * passphrase opens the profile.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>

#include "tc-test-harness.h"

#define NEW_PASSPHRASE "correct horse battery staple, changed while running\n"

typedef struct
{
  TcTestNet  *net;
  TcTestNode *a;
  TcTestNode *b;
  char       *old_file;   /* the passphrase every profile starts with */
  char       *new_file;
  char       *wrong_file;
} Fixture;

#define WAIT_UNTIL(expr) TC_WAIT_UNTIL (f->net, expr, TC_TEST_TIMEOUT)

static char *
write_secret (Fixture    *f,
              const char *name,
              const char *text)
{
  char *path = g_build_filename (f->net->tmpdir, name, NULL);

  g_assert_true (g_file_set_contents_full (path, text, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  return path;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *old_text = NULL;

  if (tc_test_binary () == NULL || g_getenv ("TORCHAT_TEST_SOCKS") == NULL)
    {
      g_test_skip ("TORCHAT_BINARY and TORCHAT_TEST_SOCKS are not set");
      return;
    }

  f->net = tc_test_net_new ();
  f->net->plaintext = data != NULL;
  f->a = tc_test_net_add_node (f->net, "A");
  f->net->plaintext = FALSE;
  f->b = tc_test_net_add_node (f->net, "B");

  /* A copy: the net's file is rewritten when A's passphrase changes. */
  g_assert_true (g_file_get_contents (f->net->passphrase_file, &old_text, NULL, NULL));
  f->old_file = write_secret (f, "old-passphrase", old_text);
  f->new_file = write_secret (f, "new-passphrase", NEW_PASSPHRASE);
  f->wrong_file = write_secret (f, "wrong-passphrase", "not the passphrase of anything\n");
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->net, tc_test_net_free);
  g_free (f->old_file);
  g_free (f->new_file);
  g_free (f->wrong_file);
}

static char *
hash_file (TcTestNode *node,
           const char *name)
{
  g_autofree char *path = g_build_filename (node->profile, name, NULL);
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return g_strdup ("(none)");

  return g_compute_checksum_for_data (G_CHECKSUM_SHA256, (const guchar *) contents, length);
}

static gboolean
in_profile (TcTestNode *node,
            const char *name)
{
  g_autofree char *path = g_build_filename (node->profile, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

/* `torchat --headless` on @node's stopped profile with @passphrase_file:
 * its exit status, and what it said in @err. */
static int
start_headless_with (TcTestNode  *node,
                     const char  *passphrase_file,
                     char       **err)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;

  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDERR_PIPE | G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  proc = g_subprocess_launcher_spawn (launcher, &error, tc_test_binary (), "--headless",
                                      "--profile", node->profile,
                                      "--passphrase-file", passphrase_file,
                                      "--socks", "127.0.0.1:1", NULL);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (proc));

  return g_subprocess_get_exit_status (proc);
}

/* Sends "PREFIX<n>" from @from to @to; the command must succeed. */
static void
send_numbered (TcTestNode *from,
               TcTestNode *to,
               const char *prefix,
               guint       n)
{
  g_autofree char *text = g_strdup_printf ("%s%u", prefix, n);
  g_autofree char *err = NULL;
  int status = tc_test_run_cli (from, NULL, NULL, &err, "send", to->address, text);

  if (status != 0)
    g_test_message ("send on %s: status %d: %s", from->name, status, err);
  g_assert_cmpint (status, ==, 0);
}

/* Runs `torchat passphrase` with @args against @node and, while it works,
 * sends messages both ways through @node; returns how many sends @node
 * answered before the passphrase command finished. */
static guint
passphrase_while_sending (Fixture            *f,
                          TcTestNode         *node,
                          TcTestNode         *peer,
                          const char * const *args,
                          int                *status,
                          char              **err)
{
  g_autoptr(TcTestCli) cli = tc_test_cli_start (node, NULL, args);
  guint during = 0;

  while (!cli->done)
    {
      send_numbered (node, peer, "from the node during the change ", during);
      send_numbered (peer, node, "to the node during the change ", during);
      /* Counted only if the change was still going when the node answered. */
      g_main_context_iteration (NULL, FALSE);
      if (!cli->done)
        during++;
    }

  *status = cli->status;
  *err = g_steal_pointer (&cli->err);
  g_test_message ("%u sends each way answered during the change", during);

  return during;
}

static guint
count_prefix (TcTestNode *node,
              TcTestNode *peer,
              const char *direction,
              const char *state,
              const char *prefix)
{
  g_autoptr(GPtrArray) texts = tc_test_history_texts (node, peer->address, direction, state);
  guint n = 0;

  for (guint i = 0; i < texts->len; i++)
    n += g_str_has_prefix (g_ptr_array_index (texts, i), prefix);

  return n;
}

/* The passphrase changes while A runs and talks with B; a wrong current
 * passphrase first changes nothing; after a restart only the new one opens
 * the profile, with every message there. */
static void
test_change_while_running (Fixture       *f,
                           gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  const char *wrong_args[] = { "--passphrase-file", f->wrong_file,
                               "--new-passphrase-file", f->new_file, "passphrase", NULL };
  const char *args[] = { "--passphrase-file", f->old_file,
                         "--new-passphrase-file", f->new_file, "passphrase", NULL };
  g_autofree char *key_before = NULL, *key_after = NULL, *db_before = NULL, *db_after = NULL;
  g_autofree char *err = NULL;
  guint during, n;
  int status;

  if (f->net == NULL)
    return;

  tc_test_make_friends (f->net, a, b);
  send_numbered (a, b, "before ", 0);
  WAIT_UNTIL (count_prefix (a, b, "out", "delivered", "before ") == 1);

  /* A wrong current passphrase: refused, and no file of the profile
   * changes (nothing else is written meanwhile). */
  key_before = hash_file (a, "profile.key");
  db_before = hash_file (a, "torchat.db");
  status = tc_test_run_cliv (a, NULL, NULL, &err, wrong_args);
  g_assert_cmpint (status, ==, 1);
  g_assert_cmpstr (err, ==, "torchat: The current passphrase is wrong; nothing was changed\n");
  key_after = hash_file (a, "profile.key");
  db_after = hash_file (a, "torchat.db");
  g_assert_cmpstr (key_before, ==, key_after);
  g_assert_cmpstr (db_before, ==, db_after);
  g_assert_false (in_profile (a, "profile.key.new"));
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&key_after, g_free);

  /* The right one, with messages going both ways all the while. The node
   * runs Argon2id twice (about 0.4 s each) off its main loop, so it
   * answers several sends meanwhile; one that blocked would answer at
   * most one. */
  during = passphrase_while_sending (f, a, b, args, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "The passphrase is changed\n");
  g_assert_cmpuint (during, >=, 3);
  key_after = hash_file (a, "profile.key");
  g_assert_cmpstr (key_before, !=, key_after);
  g_assert_false (in_profile (a, "profile.key.new"));

  /* The node goes on: everything sent during the change arrives, and more. */
  n = during + 1;
  WAIT_UNTIL (count_prefix (b, a, "in", NULL, "from the node during the change ") == n);
  WAIT_UNTIL (count_prefix (a, b, "in", NULL, "to the node during the change ") == n);
  send_numbered (a, b, "after ", 0);
  WAIT_UNTIL (count_prefix (a, b, "out", "delivered", "after ") == 1);

  /* After a restart the old passphrase no longer opens the profile... */
  tc_test_node_quit (f->net, a);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (start_headless_with (a, f->old_file, &err), ==, 1);
  g_assert_cmpstr (err, ==, "torchat: Wrong passphrase\n");

  /* ...the new one does, with the whole history. */
  g_assert_true (g_file_set_contents_full (f->net->passphrase_file, NEW_PASSPHRASE, -1,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  tc_test_node_start (f->net, a);
  g_assert_cmpuint (count_prefix (a, b, "in", NULL, "to the node during the change "), ==, n);
  g_assert_cmpuint (count_prefix (a, b, "out", NULL, "from the node during the change "), ==, n);
  g_assert_cmpuint (count_prefix (a, b, "out", "delivered", "after "), ==, 1);
  send_numbered (b, a, "after the restart ", 0);
  WAIT_UNTIL (count_prefix (a, b, "in", NULL, "after the restart ") == 1);
}

/* A plaintext profile is encrypted while its node runs and talks. */
static void
test_encrypt_while_running (Fixture       *f,
                            gconstpointer  data)
{
  TcTestNode *a = f->a, *b = f->b;
  const char *usage_args[] = { "--passphrase-file", f->old_file,
                               "--new-passphrase-file", f->new_file, "passphrase", NULL };
  const char *args[] = { "--new-passphrase-file", f->new_file, "passphrase", NULL };
  g_autofree char *err = NULL;
  guint during, n;
  int status;

  if (f->net == NULL)
    return;

  g_assert_true (in_profile (a, "identity.key"));
  g_assert_false (in_profile (a, "profile.key"));
  tc_test_make_friends (f->net, a, b);

  /* A plaintext profile has no current passphrase to give. */
  status = tc_test_run_cliv (a, NULL, NULL, &err, usage_args);
  g_assert_cmpint (status, ==, 2);
  g_assert_nonnull (strstr (err, "not encrypted"));
  g_assert_true (in_profile (a, "identity.key"));
  g_clear_pointer (&err, g_free);

  during = passphrase_while_sending (f, a, b, args, &status, &err);
  g_assert_cmpint (status, ==, 0);
  g_assert_cmpstr (err, ==, "The profile is encrypted now\n");
  g_assert_true (in_profile (a, "profile.key"));
  g_assert_false (in_profile (a, "identity.key"));
  g_assert_false (in_profile (a, "torchat.db.encrypting"));

  n = during + 1;
  WAIT_UNTIL (count_prefix (b, a, "in", NULL, "from the node during the change ") == n);
  WAIT_UNTIL (count_prefix (a, b, "in", NULL, "to the node during the change ") == n);

  /* Restarted, it needs the passphrase, and has everything. */
  tc_test_node_quit (f->net, a);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (start_headless_with (a, f->wrong_file, &err), ==, 1);
  g_assert_cmpstr (err, ==, "torchat: Wrong passphrase\n");
  a->plaintext = FALSE;
  g_assert_true (g_file_set_contents_full (f->net->passphrase_file, NEW_PASSPHRASE, -1,
                                           G_FILE_SET_CONTENTS_NONE, 0600, NULL));
  tc_test_node_start (f->net, a);
  g_assert_cmpuint (count_prefix (a, b, "in", NULL, "to the node during the change "), ==, n);
  g_assert_cmpuint (count_prefix (a, b, "out", NULL, "from the node during the change "), ==, n);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/integration/passphrase/change-while-running", Fixture, NULL, fixture_setup,
              test_change_while_running, fixture_teardown);
  g_test_add ("/integration/passphrase/encrypt-while-running", Fixture, "plaintext",
              fixture_setup, test_encrypt_while_running, fixture_teardown);

  return g_test_run ();
}
