/* test-profile.c: encrypted profiles as the node opens them, a change of
 * passphrase and the encryption of a plaintext profile, each also killed
 * with SIGKILL at random moments; what an encrypted profile leaves on disk
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE 1   /* memmem */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "tc-node.h"
#include "tc-profile.h"
#include "tc-store.h"

#define PASS1 "first passphrase"
#define PASS2 "second passphrase, longer"

typedef struct
{
  char *dir;
  char *profile;
  char *peer;       /* a contact's address */
} Fixture;

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcIdentity) peer = tc_identity_new_random (&error);

  g_assert_no_error (error);
  f->dir = g_dir_make_tmp ("test-profile-XXXXXX", &error);
  g_assert_no_error (error);
  f->profile = g_build_filename (f->dir, "profile", NULL);
  f->peer = g_strdup (tc_identity_get_address (peer));
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->profile);
  g_free (f->peer);
}

static char *
profile_file (Fixture    *f,
              const char *name)
{
  return g_build_filename (f->profile, name, NULL);
}

static TcNode *
open_locked (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  TcNode *node = tc_node_new_locked (f->profile, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static TcNode *
open_with (Fixture    *f,
           const char *passphrase)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) node = open_locked (f);

  tc_node_unlock (node, passphrase, passphrase ? strlen (passphrase) : 0, &error);
  g_assert_no_error (error);
  g_assert_true (tc_node_get_unlocked (node));
  return g_steal_pointer (&node);
}

/* A contact, @n messages to it and @n from it, all committed. */
static void
fill (Fixture *f,
      TcNode  *node,
      guint    n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) sent = NULL;
  TcStore *store = tc_node_get_store (node);
  TcContact *contact;

  contact = tc_node_add_contact (node, f->peer, "Peer nick", "hello, a greeting", &error);
  g_assert_no_error (error);
  g_assert_nonnull (contact);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (texts, g_strdup_printf ("outgoing message %u", i));
  g_ptr_array_add (texts, NULL);
  sent = tc_node_send_messages (node, f->peer, (const char * const *) texts->pdata, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("in-%u", i);
      g_autofree char *text = g_strdup_printf ("incoming message %u", i);
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autoptr(TcMessage) message = tc_message_new (id, f->peer, text,
                                                     TC_MESSAGE_DIRECTION_INCOMING,
                                                     now, NULL, TC_MESSAGE_STATE_RECEIVED);
      gboolean duplicate = TRUE;

      g_assert_true (tc_store_add_incoming (store, message, &duplicate, &error));
      g_assert_no_error (error);
      g_assert_false (duplicate);
    }
  g_assert_true (tc_store_commit (store, &error));
  g_assert_no_error (error);
}

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
  g_assert_nonnull (tc_node_send_message (node, f->peer, "after encryption", &error));
  g_assert_no_error (error);

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

/* What an encrypted profile leaves on disk */

typedef struct
{
  const char *what;
  GBytes     *bytes;
} Needle;

static void
add_needle (GPtrArray    *needles,
            const char   *what,
            gconstpointer data,
            gsize         length)
{
  Needle *needle = g_new0 (Needle, 1);

  needle->what = what;
  needle->bytes = g_bytes_new (data, length);
  g_ptr_array_add (needles, needle);
}

static void
needle_free (Needle *needle)
{
  g_bytes_unref (needle->bytes);
  g_free (needle);
}

static void
add_text (GPtrArray  *needles,
          const char *what,
          const char *text)
{
  g_autofree char *upper = g_ascii_strup (text, -1);
  g_autofree gunichar2 *utf16 = NULL;
  glong utf16_len = 0;

  add_needle (needles, what, text, strlen (text));
  if (strcmp (upper, text) != 0)
    add_needle (needles, what, upper, strlen (upper));
  utf16 = g_utf8_to_utf16 (text, -1, NULL, &utf16_len, NULL);
  add_needle (needles, what, utf16, utf16_len * sizeof (gunichar2));
}

static void
add_binary (GPtrArray    *needles,
            const char   *what,
            const guint8 *data,
            gsize         length)
{
  g_autofree char *base64 = g_base64_encode (data, length);
  g_autofree char *hex = g_malloc (2 * length + 1);
  g_autofree char *hex_upper = NULL;

  for (gsize i = 0; i < length; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", data[i]);
  hex_upper = g_ascii_strup (hex, -1);

  add_needle (needles, what, data, length);
  /* Without the padding, which depends on what follows in a longer text. */
  add_needle (needles, what, base64, strlen (base64) - (length % 3 ? 4 : 0));
  add_needle (needles, what, hex, strlen (hex));
  add_needle (needles, what, hex_upper, strlen (hex_upper));
}

static void
add_address (GPtrArray  *needles,
             const char *what,
             const char *address)
{
  g_autofree char *onion = g_strconcat (address, ".onion", NULL);
  guint8 public_key[TC_PUBLIC_KEY_LEN];

  add_text (needles, what, address);
  add_text (needles, what, onion);
  g_assert_true (tc_address_get_public_key (address, public_key));
  add_binary (needles, what, public_key, sizeof public_key);
}

/* Fails naming the file and what was found in it. */
static guint
grep_tree (const char *path,
           GPtrArray  *needles)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;
  guint files = 0;

  g_assert_nonnull (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      g_autofree char *contents = NULL;
      gsize length = 0;

      if (g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        continue;
      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        {
          files += grep_tree (child, needles);
          continue;
        }
      /* Tor's own onion-service keys must not exist at all. */
      g_assert_false (g_str_has_prefix (name, "hs_ed25519"));
      if (!g_file_test (child, G_FILE_TEST_IS_REGULAR) ||
          !g_file_get_contents (child, &contents, &length, NULL))
        continue;
      files++;

      for (guint i = 0; i < needles->len; i++)
        {
          Needle *needle = g_ptr_array_index (needles, i);
          gsize size = 0;
          gconstpointer data = g_bytes_get_data (needle->bytes, &size);

          if (memmem (contents, length, data, size) != NULL)
            g_error ("%s holds %s", child, needle->what);
        }
    }

  return files;
}

static gboolean
published (TcNode *node)
{
  return tc_tor_get_onion_published (tc_node_get_tor (node));
}

static void
stopped_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_assert_true (tc_node_stop_finish (TC_NODE (object), result, NULL));
  *(gboolean *) user_data = TRUE;
}

/* A profile made plaintext with a known seed, encrypted, then used with its
 * own tor (kept off any network, as in test-tor): no message text, no
 * address in any usual encoding, no part of the key in any file, the
 * database, its WAL and tor's directory included. */
static void
test_nothing_readable (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GPtrArray) needles = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) node = NULL;
  g_autoptr(TcIdentity) identity = NULL;
  g_autofree char *tor = g_find_program_in_path ("tor");
  g_autofree char *key_file = profile_file (f, "identity.key");
  g_autofree char *key_text = NULL;
  g_autofree char *seed_base64 = NULL;
  g_autofree char *extra = g_build_filename (f->dir, "extra.torrc", NULL);
  g_autofree char *blob = NULL;
  guint8 seed[TC_SEED_LEN];
  guint8 expanded[TC_EXPANDED_KEY_LEN];
  gint64 deadline;
  gboolean done = FALSE;
  guint files;

  if (tor == NULL)
    {
      g_test_skip ("tor is not installed");
      return;
    }

  randombytes_buf (seed, sizeof seed);
  identity = tc_identity_new_from_seed (seed);
  tc_identity_get_expanded_key (identity, expanded);
  blob = tc_identity_dup_tor_key_blob (identity);
  seed_base64 = g_base64_encode (seed, sizeof seed);
  key_text = g_strdup_printf ("torchat-ed25519-seed-v1\n%s\n", seed_base64);
  g_assert_cmpint (g_mkdir (f->profile, 0700), ==, 0);
  g_assert_true (g_file_set_contents_full (key_file, key_text, -1, G_FILE_SET_CONTENTS_NONE,
                                           0600, NULL));

  g_assert_true (g_file_set_contents (extra,
                                      "TestingTorNetwork 1\n"
                                      "DirAuthority nowhere orport=1 no-v2 "
                                      "v3ident=0000000000000000000000000000000000000001 127.0.0.1:2 "
                                      "0000000000000000000000000000000000000002\n"
                                      "UseDefaultFallbackDirs 0\n"
                                      "ClientUseIPv6 0\n", -1, NULL));

  /* Used as a plaintext profile first, then encrypted. */
  node = open_with (f, NULL);
  g_assert_cmpstr (tc_node_get_address (node), ==, tc_identity_get_address (identity));
  fill (f, node, 20);
  g_assert_true (tc_node_set_profile (node, "Secret Name", "my profile text", &error));
  g_assert_true (tc_node_set_status (node, TC_PRESENCE_AWAY, "my status text", &error));
  g_assert_no_error (error);
  g_assert_true (tc_node_encrypt (node, PASS1, strlen (PASS1), &error));
  g_assert_no_error (error);

  g_assert_true (tc_node_setup_tor (node, NULL, NULL, NULL, NULL, extra, &error));
  g_assert_no_error (error);
  g_assert_true (tc_node_start (node, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!published (node) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (published (node));

  /* More after the encryption, so the WAL holds some. */
  g_assert_nonnull (tc_node_send_message (node, f->peer, "written after encryption", &error));
  g_assert_no_error (error);

  add_text (needles, "a message text", "outgoing message 7");
  add_text (needles, "a message text", "incoming message 13");
  add_text (needles, "a message text", "written after encryption");
  add_text (needles, "a greeting", "hello, a greeting");
  add_text (needles, "a nickname", "Peer nick");
  add_text (needles, "the profile name", "Secret Name");
  add_text (needles, "the profile text", "my profile text");
  add_text (needles, "the status text", "my status text");
  add_address (needles, "the contact's address", f->peer);
  add_address (needles, "the own address", tc_node_get_address (node));
  add_binary (needles, "the identity seed", seed, sizeof seed);
  add_text (needles, "the identity seed", seed_base64);
  add_binary (needles, "the expanded key", expanded, sizeof expanded);
  add_binary (needles, "the expanded key", expanded, 32);
  add_text (needles, "the ADD_ONION key", blob);

  files = grep_tree (f->profile, needles);
  g_test_message ("%u files of a running encrypted profile hold none of %u needles",
                  files, needles->len);

  tc_node_stop_async (node, NULL, stopped_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
  g_clear_object (&node);

  files = grep_tree (f->profile, needles);
  g_test_message ("%u files of the stopped profile hold none of them", files);
  g_assert_cmpuint (files, >=, 3);
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
  ADD ("kill-change", test_kill_change);
  ADD ("kill-encrypt", test_kill_encrypt);
  ADD ("nothing-readable", test_nothing_readable);

#undef ADD

  return g_test_run ();
}
