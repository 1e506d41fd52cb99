/* test-profile.c: encrypted profiles as the node opens them, a change of
 * passphrase and the encryption of a plaintext profile, each also killed
 * with SIGKILL at random moments
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "tc-store-private.h"
#include "tc-test-profile.h"

/* name → contents of every file but the lock. */
static GHashTable *
snapshot (const char *dir)
{
  GHashTable *files = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                             (GDestroyNotify) g_bytes_unref);
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      char *contents = NULL;
      gsize length = 0;

      if (g_str_equal (name, "lock") || g_file_test (path, G_FILE_TEST_IS_DIR))
        continue;
      g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
      g_hash_table_insert (files, g_strdup (name), g_bytes_new_take (contents, length));
    }

  return files;
}

static void
assert_same_files (GHashTable *a,
                   GHashTable *b)
{
  GHashTableIter iter;
  gpointer name, contents;

  g_assert_cmpuint (g_hash_table_size (a), ==, g_hash_table_size (b));
  g_hash_table_iter_init (&iter, a);
  while (g_hash_table_iter_next (&iter, &name, &contents))
    {
      GBytes *other = g_hash_table_lookup (b, name);

      g_assert_nonnull (other);
      if (!g_bytes_equal (contents, other))
        g_error ("%s changed", (char *) name);
    }
}

static gboolean
file_starts_with (const char *path,
                  const char *prefix)
{
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_get_contents (path, &contents, &length, NULL))
    return FALSE;
  return length >= strlen (prefix) && memcmp (contents, prefix, strlen (prefix)) == 0;
}

static void
test_create_encrypted (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(TcNode) node = NULL;
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *key = profile_file (f, "profile.key");
  g_autofree char *db = profile_file (f, "torchat.db");
  g_autofree char *identity = profile_file (f, "identity.key");
  struct stat st;

  node = open_locked (f);
  g_assert_cmpint (tc_node_get_profile_kind (node), ==, TC_PROFILE_KIND_NEW);
  g_assert_false (tc_node_get_unlocked (node));
  g_assert_false (tc_node_get_encrypted (node));
  g_assert_null (tc_node_get_address (node));

  g_assert_true (tc_node_unlock (node, PASS1, strlen (PASS1), &error));
  g_assert_no_error (error);
  g_assert_true (tc_node_get_unlocked (node));
  g_assert_true (tc_node_get_encrypted (node));
  address = g_strdup (tc_node_get_address (node));
  g_assert_nonnull (address);
  fill (f, node, 3);
  g_clear_object (&node);

  /* profile.key and a database that is not SQLite's plaintext format. */
  g_assert_cmpint (g_stat (key, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (st.st_size, ==, TC_PROFILE_HEADER_LEN);
  g_assert_cmpint (g_stat (db, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_false (file_starts_with (db, "SQLite format 3"));
  g_assert_false (g_file_test (identity, G_FILE_TEST_EXISTS));

  /* The plain constructor refuses it with a clear error. */
  node = tc_node_new (f->profile, &error);
  g_assert_error (error, TC_NODE_ERROR, TC_NODE_ERROR_LOCKED);
  g_assert_null (node);
  g_clear_error (&error);

  /* A wrong passphrase: an error, nothing on disk changed, try again. */
  before = snapshot (f->profile);
  node = open_locked (f);
  g_assert_cmpint (tc_node_get_profile_kind (node), ==, TC_PROFILE_KIND_ENCRYPTED);
  g_assert_true (tc_node_get_encrypted (node));
  g_assert_false (tc_node_unlock (node, PASS2, strlen (PASS2), &error));
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  g_assert_false (tc_node_unlock (node, NULL, 0, &error));
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  g_assert_false (tc_node_get_unlocked (node));
  after = snapshot (f->profile);
  assert_same_files (before, after);

  g_assert_true (tc_node_unlock (node, PASS1, strlen (PASS1), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tc_node_get_address (node), ==, address);
  g_assert_nonnull (tc_node_lookup_contact (node, f->peer));
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (node), f->peer), ==, 6);
}

static void
test_create_plaintext (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(TcNode) node = open_locked (f);
  g_autoptr(GError) error = NULL;
  g_autofree char *identity = profile_file (f, "identity.key");
  g_autofree char *key = profile_file (f, "profile.key");

  g_assert_true (tc_node_unlock (node, NULL, 0, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tc_node_get_profile_kind (node), ==, TC_PROFILE_KIND_PLAINTEXT);
  g_assert_false (tc_node_get_encrypted (node));
  g_assert_true (g_file_test (identity, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (key, G_FILE_TEST_EXISTS));
  g_clear_object (&node);

  /* A plaintext profile has no passphrase to give. */
  node = open_locked (f);
  g_assert_false (tc_node_unlock (node, PASS1, strlen (PASS1), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_true (tc_node_unlock (node, NULL, 0, &error));
  g_assert_no_error (error);
}

static void
test_change (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TcNode) node = open_with (f, PASS1);
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_strdup (tc_node_get_address (node));
  g_autofree char *key = profile_file (f, "profile.key");
  g_autoptr(GHashTable) before = NULL;
  g_autoptr(GHashTable) after = NULL;

  fill (f, node, 5);

  /* The wrong current passphrase changes nothing. */
  before = snapshot (f->profile);
  g_assert_false (tc_node_change_passphrase (node, "nope", 4, PASS2, strlen (PASS2), &error));
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  g_assert_false (tc_node_change_passphrase (node, PASS1, strlen (PASS1), "", 0, &error));
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_EMPTY_PASSPHRASE);
  g_clear_error (&error);
  after = snapshot (f->profile);
  g_assert_true (g_bytes_equal (g_hash_table_lookup (before, "profile.key"),
                                g_hash_table_lookup (after, "profile.key")));

  /* While the node has the profile open. */
  g_assert_true (tc_node_change_passphrase (node, PASS1, strlen (PASS1),
                                            PASS2, strlen (PASS2), &error));
  g_assert_no_error (error);
  g_clear_object (&node);

  node = open_locked (f);
  g_assert_false (tc_node_unlock (node, PASS1, strlen (PASS1), &error));
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  g_assert_true (tc_node_unlock (node, PASS2, strlen (PASS2), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tc_node_get_address (node), ==, address);
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (node), f->peer), ==, 10);
}

static void
test_encrypt (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(TcNode) node = open_with (f, NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *address = g_strdup (tc_node_get_address (node));
  g_autofree char *identity = profile_file (f, "identity.key");
  g_autofree char *db = profile_file (f, "torchat.db");
  TcMessage *message;

  fill (f, node, 200);
  g_assert_true (file_starts_with (db, "SQLite format 3"));
  g_assert_false (tc_node_get_encrypted (node));

  g_assert_false (tc_node_change_passphrase (node, "", 0, PASS1, strlen (PASS1), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_clear_error (&error);

  g_assert_true (tc_node_encrypt (node, PASS1, strlen (PASS1), &error));
  g_assert_no_error (error);
  g_assert_true (tc_node_get_encrypted (node));
  g_assert_false (g_file_test (identity, G_FILE_TEST_EXISTS));
  g_assert_false (file_starts_with (db, "SQLite format 3"));

  /* The node goes on with the reopened store. */
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (node), f->peer), ==, 400);
  message = tc_node_send_message (node, f->peer, "after encryption", &error);
  g_assert_no_error (error);
  g_assert_nonnull (message);
  g_object_unref (message);

  g_assert_false (tc_node_encrypt (node, PASS1, strlen (PASS1), &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS);
  g_clear_error (&error);
  g_clear_object (&node);

  node = open_locked (f);
  g_assert_cmpint (tc_node_get_profile_kind (node), ==, TC_PROFILE_KIND_ENCRYPTED);
  g_assert_false (tc_node_unlock (node, NULL, 0, &error));
  g_clear_error (&error);
  g_assert_true (tc_node_unlock (node, PASS1, strlen (PASS1), &error));
  g_assert_no_error (error);
  g_assert_cmpstr (tc_node_get_address (node), ==, address);
  g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (node), f->peer), ==, 401);
  message = tc_store_lookup_message (tc_node_get_store (node), f->peer, "in-199");
  g_assert_nonnull (message);
  g_assert_cmpstr (tc_message_get_text (message), ==, "incoming message 199");
  g_object_unref (message);
}

/* A damaged database under the right passphrase: a clear error, the node
 * stays locked, and the file is as it was. */
static void
test_damaged_database (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *db = profile_file (f, "torchat.db");
  g_autofree char *wal = profile_file (f, "torchat.db-wal");
  g_autofree char *contents = NULL;
  gsize length = 0;
  const gsize offsets[] = { 100, 4096 + 200, 3 * 4096 + 4000 };

  {
    g_autoptr(TcNode) node = open_with (f, PASS1);
    g_autoptr(GError) error = NULL;

    fill (f, node, 100);
    g_assert_true (_tc_store_checkpoint (tc_node_get_store (node), &error));
    g_assert_no_error (error);
  }
  g_unlink (wal);
  g_assert_true (g_file_get_contents (db, &contents, &length, NULL));
  g_assert_cmpuint (length, >, 4 * 4096);

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autoptr(TcNode) node = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *damaged = g_memdup2 (contents, length);
      g_autofree char *after = NULL;
      gsize after_length = 0;
      gboolean opened;

      damaged[offsets[i]] ^= 0x01;
      g_assert_true (g_file_set_contents_full (db, damaged, length, G_FILE_SET_CONTENTS_NONE,
                                               0600, NULL));
      node = open_locked (f);
      opened = tc_node_unlock (node, PASS1, strlen (PASS1), &error);
      if (opened)
        {
          /* The page is read later: the first query that needs it fails. */
          g_autoptr(GPtrArray) page = NULL;

          page = tc_store_list_messages (tc_node_get_store (node), f->peer, 0, 1000, &error);
          g_assert_null (page);
        }
      g_assert_error (error, TC_STORE_ERROR, TC_STORE_ERROR_CORRUPT);
      g_assert_true (g_str_has_prefix (error->message, "The profile’s database is damaged"));
      g_assert_true (opened == tc_node_get_unlocked (node));
      g_clear_object (&node);

      g_assert_true (g_file_get_contents (db, &after, &after_length, NULL));
      g_assert_cmpmem (after, after_length, damaged, length);
    }

  g_assert_true (g_file_set_contents_full (db, contents, length, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  {
    g_autoptr(TcNode) node = open_with (f, PASS1);

    g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (node), f->peer), ==, 200);
  }
}

static void
unlock_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GError **error = user_data;

  if (!tc_node_unlock_finish (TC_NODE (object), result, error))
    g_assert_nonnull (*error);
  else
    *error = g_error_new_literal (G_IO_ERROR, 0, "ok");
}

static void
count_cb (guint *count)
{
  (*count)++;
}

static void
test_unlock_async (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(TcNode) node = open_with (f, PASS1);
  GError *error = NULL;
  guint notified = 0;

  g_clear_object (&node);
  node = open_locked (f);
  g_signal_connect_swapped (node, "notify::unlocked", G_CALLBACK (count_cb), &notified);

  tc_node_unlock_async (node, "wrong", 5, NULL, unlock_cb, &error);
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  g_assert_cmpuint (notified, ==, 0);

  tc_node_unlock_async (node, PASS1, strlen (PASS1), NULL, unlock_cb, &error);
  /* One at a time. */
  {
    g_autoptr(GError) busy = NULL;

    g_assert_false (tc_node_unlock (node, PASS1, strlen (PASS1), &busy));
    g_assert_error (busy, G_IO_ERROR, G_IO_ERROR_PENDING);
  }
  while (error == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (error->message, ==, "ok");
  g_clear_error (&error);
  g_assert_true (tc_node_get_unlocked (node));
  g_assert_cmpuint (notified, ==, 1);
}

/* SIGKILL at random moments */

static char *
write_passphrase (Fixture    *f,
                  const char *name,
                  const char *text)
{
  g_autofree char *contents = g_strconcat (text, "\n", NULL);
  char *path = g_build_filename (f->dir, name, NULL);

  g_assert_true (g_file_set_contents_full (path, contents, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));
  return path;
}

/* Runs `torchat passphrase` and kills it after @delay_us (0: lets it end);
 * returns the time it ran. */
static double
run_passphrase (Fixture    *f,
                const char *old_file,
                const char *new_file,
                gint64      delay_us)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  g_ptr_array_add (argv, (char *) g_getenv ("TORCHAT_BINARY"));
  g_ptr_array_add (argv, (char *) "--profile");
  g_ptr_array_add (argv, f->profile);
  if (old_file != NULL)
    {
      g_ptr_array_add (argv, (char *) "--passphrase-file");
      g_ptr_array_add (argv, (char *) old_file);
    }
  g_ptr_array_add (argv, (char *) "--new-passphrase-file");
  g_ptr_array_add (argv, (char *) new_file);
  g_ptr_array_add (argv, (char *) "passphrase");
  g_ptr_array_add (argv, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  if (delay_us > 0)
    {
      g_usleep (delay_us);
      g_subprocess_force_exit (proc);
    }
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  if (delay_us == 0)
    g_assert_true (g_subprocess_get_successful (proc));

  return (g_get_monotonic_time () - start) / 1e6;
}

static guint
kill_runs (void)
{
  const char *runs = g_getenv ("TORCHAT_KILL_RUNS");

  return runs != NULL ? (guint) g_ascii_strtoull (runs, NULL, 10) : 25;
}

/* Opens with exactly one of @a and @b (NULL: no passphrase), checks that
 * every message is there and that no plaintext copy stayed; returns which
 * one opened it. */
static const char *
check_after_kill (Fixture    *f,
                  const char *address,
                  const char *a,
                  const char *b,
                  guint       messages)
{
  g_autoptr(TcNode) node = open_locked (f);
  g_autofree char *identity = profile_file (f, "identity.key");
  g_autofree char *db = profile_file (f, "torchat.db");
  const char *opened = NULL;
  guint opens = 0;
  const char *candidates[] = { a, b };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autoptr(TcNode) again = NULL;
      g_autoptr(GError) error = NULL;

      if (i > 0)
        {
          g_clear_object (&node);
          node = open_locked (f);
        }

      if (tc_node_unlock (node, candidates[i], candidates[i] ? strlen (candidates[i]) : 0, &error))
        {
          opens++;
          opened = candidates[i] ? candidates[i] : "";
          g_assert_cmpstr (tc_node_get_address (node), ==, address);
          g_assert_cmpuint (tc_store_count_messages (tc_node_get_store (node), f->peer), ==, messages);
        }
      else
        g_assert_true (error->domain == TC_PROFILE_KEY_ERROR || error->domain == G_IO_ERROR);
    }

  g_assert_cmpuint (opens, ==, 1);

  /* No half state: either the plaintext profile or the encrypted one. */
  if (tc_node_get_encrypted (node))
    {
      g_assert_false (g_file_test (identity, G_FILE_TEST_EXISTS));
      g_assert_false (file_starts_with (db, "SQLite format 3"));
    }
  {
    g_autoptr(GDir) dir = g_dir_open (f->profile, 0, NULL);
    const char *name;

    while ((name = g_dir_read_name (dir)) != NULL)
      {
        g_assert_true (g_str_equal (name, "lock") || g_str_equal (name, "profile.key") ||
                       g_str_equal (name, "identity.key") || g_str_has_prefix (name, "torchat.db"));
        g_assert_false (g_str_has_suffix (name, ".encrypting"));
        g_assert_false (g_str_has_suffix (name, ".encrypting-journal"));
      }
  }

  return opened;
}

static void
test_kill_change (Fixture       *f,
                  gconstpointer  data)
{
  g_autofree char *p1 = write_passphrase (f, "p1", PASS1);
  g_autofree char *p2 = write_passphrase (f, "p2", PASS2);
  g_autofree char *address = NULL;
  guint runs = kill_runs ();
  guint old_count = 0, new_count = 0;
  double full;

  if (g_getenv ("TORCHAT_BINARY") == NULL)
    {
      g_test_skip ("TORCHAT_BINARY is not set (run through meson test)");
      return;
    }

  {
    g_autoptr(TcNode) node = open_with (f, PASS1);

    address = g_strdup (tc_node_get_address (node));
    fill (f, node, 50);
  }

  /* How long a whole run takes, then kills spread over that time. */
  full = run_passphrase (f, p1, p2, 0);
  run_passphrase (f, p2, p1, 0);
  g_test_message ("a whole change of passphrase: %.3f s", full);

  for (guint i = 0; i < runs; i++)
    {
      const char *from = p1;
      const char *to = p2;
      const char *opened;

      /* Whichever passphrase the last run left is the current one. */
      {
        g_autoptr(TcNode) node = open_locked (f);

        if (!tc_node_unlock (node, PASS1, strlen (PASS1), NULL))
          {
            from = p2;
            to = p1;
          }
      }

      run_passphrase (f, from, to, g_random_int_range (1000, (gint32) (full * 1.2e6) + 2000));
      opened = check_after_kill (f, address, PASS1, PASS2, 100);
      if (g_str_equal (opened, from == p1 ? PASS1 : PASS2))
        old_count++;
      else
        new_count++;
    }

  g_test_message ("%u runs killed: %u still had the old passphrase, %u the new one",
                  runs, old_count, new_count);
}

static void
test_kill_encrypt (Fixture       *f,
                   gconstpointer  data)
{
  g_autofree char *p1 = write_passphrase (f, "p1", PASS1);
  guint runs = kill_runs ();
  guint plain = 0, encrypted = 0, halfway = 0;
  double full = 0;

  if (g_getenv ("TORCHAT_BINARY") == NULL)
    {
      g_test_skip ("TORCHAT_BINARY is not set (run through meson test)");
      return;
    }

  for (guint i = 0; i <= runs; i++)
    {
      g_autofree char *address = NULL;
      const char *opened;

      rm_rf (f->profile);
      {
        g_autoptr(TcNode) node = open_with (f, NULL);

        address = g_strdup (tc_node_get_address (node));
        fill (f, node, 1000);
      }

      if (i == 0)
        {
          full = run_passphrase (f, NULL, p1, 0);
          g_test_message ("a whole encryption of 2,000 messages: %.3f s", full);
          opened = check_after_kill (f, address, NULL, PASS1, 2000);
          g_assert_cmpstr (opened, ==, PASS1);
          continue;
        }

      run_passphrase (f, NULL, p1, g_random_int_range (1000, (gint32) (full * 1.2e6) + 2000));
      {
        g_autofree char *key = profile_file (f, "profile.key");
        g_autofree char *copy = profile_file (f, "torchat.db.encrypting");
        g_autofree char *identity = profile_file (f, "identity.key");

        /* Killed after the commit point, before the end: the next open
         * finishes the job. */
        if (g_file_test (key, G_FILE_TEST_EXISTS) &&
            (g_file_test (copy, G_FILE_TEST_EXISTS) || g_file_test (identity, G_FILE_TEST_EXISTS)))
          halfway++;
      }
      opened = check_after_kill (f, address, NULL, PASS1, 2000);
      if (opened[0] == '\0')
        plain++;
      else
        encrypted++;
    }

  g_test_message ("%u runs killed: %u still plaintext, %u encrypted (%u of them finished "
                  "by the next open)", runs, plain, encrypted, halfway);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  /* Argon2id at its real cost is measured in test-profile-key and the
   * benchmarks; here it would only slow the many runs down. */
  g_setenv ("TORCHAT_TEST_KDF", "1:65536", TRUE);

#define ADD(name, func) \
  g_test_add ("/profile/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("create-encrypted", test_create_encrypted);
  ADD ("create-plaintext", test_create_plaintext);
  ADD ("change", test_change);
  ADD ("encrypt", test_encrypt);
  ADD ("unlock-async", test_unlock_async);
  ADD ("damaged-database", test_damaged_database);
  ADD ("kill-change", test_kill_change);
  ADD ("kill-encrypt", test_kill_encrypt);

#undef ADD

  return g_test_run ();
}
