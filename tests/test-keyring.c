/* test-keyring.c: the passphrase remembered in a real GNOME Keyring, on a
 * private session bus (tests/run-with-keyring.sh)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE 1   /* memmem */
#include "config.h"

#include <string.h>

#include "tc-keyring.h"
#include "tc-test-profile.h"

typedef struct
{
  gboolean  done;
  gboolean  ok;
  char     *passphrase;
  GError   *error;
} Wait;

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Wait *wait = user_data;

  wait->ok = tc_keyring_store_finish (result, &wait->error);
  wait->done = TRUE;
}

static void
looked_up_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Wait *wait = user_data;

  wait->passphrase = tc_keyring_lookup_finish (result, &wait->error);
  wait->done = TRUE;
}

static void
cleared_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Wait *wait = user_data;

  wait->ok = tc_keyring_clear_finish (result, &wait->error);
  wait->done = TRUE;
}

static void
run (Wait *wait)
{
  while (!wait->done)
    g_main_context_iteration (NULL, TRUE);
}

static void
store (const char *dir,
       const char *passphrase)
{
  Wait wait = { 0 };

  tc_keyring_store_async (dir, passphrase, strlen (passphrase), NULL, stored_cb, &wait);
  run (&wait);
  g_assert_no_error (wait.error);
  g_assert_true (wait.ok);
}

/* What the keyring holds for @dir, or NULL. */
static char *
lookup (const char *dir)
{
  Wait wait = { 0 };
  char *copy;

  tc_keyring_lookup_async (dir, NULL, looked_up_cb, &wait);
  run (&wait);
  g_assert_no_error (wait.error);
  copy = g_strdup (wait.passphrase);
  tc_keyring_free_passphrase (wait.passphrase);
  return copy;
}

static void
clear (const char *dir)
{
  Wait wait = { 0 };

  tc_keyring_clear_async (dir, NULL, cleared_cb, &wait);
  run (&wait);
  g_assert_no_error (wait.error);
  g_assert_true (wait.ok);
}

static gboolean
keyring_files_hold (const char *text)
{
  g_autofree char *path = g_build_filename (g_get_user_data_dir (), "keyrings", NULL);
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *file = g_build_filename (path, name, NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (g_file_get_contents (file, &contents, &length, NULL) &&
          memmem (contents, length, text, strlen (text)) != NULL)
        return TRUE;
    }

  return FALSE;
}

static void
test_remember (Fixture       *f,
               gconstpointer  data)
{
  g_autofree char *other = g_build_filename (f->dir, "other", NULL);
  g_autofree char *remembered = NULL;
  g_autoptr(GError) error = NULL;
  Wait wait = { 0 };

  if (g_getenv ("TC_KEYRING_READY") == NULL)
    {
      g_test_skip ("no keyring (run through meson test, with gnome-keyring installed)");
      return;
    }

  /* Off by default: nothing for a profile that never asked. */
  {
    g_autoptr(TcNode) node = open_with (f, PASS1);
  }
  g_assert_null (lookup (f->profile));

  store (f->profile, PASS1);
  store (other, "another profile’s ☃ passphrase");
  remembered = lookup (f->profile);
  g_assert_cmpstr (remembered, ==, PASS1);
  g_clear_pointer (&remembered, g_free);

  /* What the window does at start: unlock with what the keyring gave. */
  {
    g_autoptr(TcNode) node = open_locked (f);

    remembered = lookup (f->profile);
    g_assert_true (tc_node_unlock (node, remembered, strlen (remembered), &error));
    g_assert_no_error (error);
    g_clear_pointer (&remembered, g_free);

    /* After a change of passphrase it stores the new one: one item still. */
    g_assert_true (tc_node_change_passphrase (node, PASS1, strlen (PASS1),
                                              PASS2, strlen (PASS2), &error));
    g_assert_no_error (error);
    store (f->profile, PASS2);
  }
  remembered = lookup (f->profile);
  g_assert_cmpstr (remembered, ==, PASS2);
  g_clear_pointer (&remembered, g_free);
  remembered = lookup (other);
  g_assert_cmpstr (remembered, ==, "another profile’s ☃ passphrase");
  g_clear_pointer (&remembered, g_free);

  /* The keyring's own files are encrypted too. */
  g_assert_false (keyring_files_hold (PASS2));
  g_assert_false (keyring_files_hold ("another profile"));

  clear (f->profile);
  g_assert_null (lookup (f->profile));
  clear (f->profile);
  remembered = lookup (other);
  g_assert_nonnull (remembered);
  clear (other);

  /* Text only. */
  tc_keyring_store_async (f->profile, "bad\xff", 4, NULL, stored_cb, &wait);
  run (&wait);
  g_assert_error (wait.error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_assert_false (wait.ok);
  g_clear_error (&wait.error);
}

/* `torchat passphrase` on the stopped profile, PASSPHRASE files in the
 * test's directory; returns its standard error. */
static char *
run_passphrase_command (Fixture    *f,
                        const char *old,
                        const char *new)
{
  g_autofree char *old_path = g_build_filename (f->dir, "old-passphrase", NULL);
  g_autofree char *new_path = g_build_filename (f->dir, "new-passphrase", NULL);
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  char *err = NULL;

  g_assert_true (g_file_set_contents_full (old_path, old, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  g_assert_true (g_file_set_contents_full (new_path, new, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                           &error, g_getenv ("TORCHAT_BINARY"), "--profile", f->profile,
                           "--passphrase-file", old_path, "--new-passphrase-file", new_path,
                           "passphrase", NULL);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_communicate_utf8 (proc, NULL, NULL, NULL, &err, &error));
  g_assert_no_error (error);
  g_test_message ("torchat passphrase: %s", err);
  g_assert_true (g_subprocess_get_if_exited (proc));
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 0);

  return err;
}

/* A change by command keeps the keyring current, as one in the window does,
 * and puts nothing there for a profile that kept nothing. */
static void
test_command (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *other = g_build_filename (f->dir, "other", NULL);
  g_autofree char *remembered = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GError) error = NULL;

  if (g_getenv ("TC_KEYRING_READY") == NULL || g_getenv ("TORCHAT_BINARY") == NULL)
    {
      g_test_skip ("no keyring or no torchat (run through meson test, with gnome-keyring installed)");
      return;
    }

  {
    g_autoptr(TcNode) node = open_with (f, NULL);

    g_assert_true (tc_node_encrypt (node, PASS1, strlen (PASS1), &error));
    g_assert_no_error (error);
  }
  store (f->profile, PASS1);
  store (other, "another profile’s passphrase");

  err = run_passphrase_command (f, PASS1, PASS2);
  g_assert_nonnull (strstr (err, "keyring is the new one too"));
  g_clear_pointer (&err, g_free);
  remembered = lookup (f->profile);
  g_assert_cmpstr (remembered, ==, PASS2);
  g_clear_pointer (&remembered, g_free);
  remembered = lookup (other);
  g_assert_cmpstr (remembered, ==, "another profile’s passphrase");
  g_clear_pointer (&remembered, g_free);
  /* What the keyring gives opens the profile. */
  {
    g_autoptr(TcNode) node = open_with (f, PASS2);
  }

  /* Forgotten in the window: the next change stores nothing. */
  clear (f->profile);
  err = run_passphrase_command (f, PASS2, PASS1);
  g_assert_null (strstr (err, "keyring"));
  g_assert_null (lookup (f->profile));
  clear (other);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_setenv ("TORCHAT_TEST_KDF", "1:65536", TRUE);

  g_test_add ("/keyring/remember", Fixture, NULL, fixture_set_up, test_remember,
              fixture_tear_down);
  g_test_add ("/keyring/command", Fixture, NULL, fixture_set_up, test_command,
              fixture_tear_down);

  return g_test_run ();
}
