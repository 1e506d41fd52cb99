/* test-profile-disk.c: what an encrypted profile leaves on disk, and the
 * passphrase asked on a terminal
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE 1   /* memmem */
#include "config.h"

#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <unistd.h>

#include <sodium.h>

#include "tc-test-profile.h"

/* The terminal */

/* Reads from @fd into @seen until it holds @what (or 30 s pass). */
static gboolean
read_until (int         fd,
            GString    *seen,
            const char *what)
{
  gint64 deadline = g_get_monotonic_time () + 30 * G_USEC_PER_SEC;

  while (strstr (seen->str, what) == NULL)
    {
      struct pollfd pfd = { fd, POLLIN, 0 };
      char buffer[256];
      ssize_t n;

      if (g_get_monotonic_time () > deadline)
        return FALSE;
      if (poll (&pfd, 1, 100) <= 0)
        continue;
      n = read (fd, buffer, sizeof buffer);
      if (n <= 0)
        return strstr (seen->str, what) != NULL;
      g_string_append_len (seen, buffer, n);
    }

  return TRUE;
}

static GSubprocess *
spawn_on_terminal (Fixture *f,
                   int     *master)
{
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_NONE);
  g_autoptr(GError) error = NULL;
  GSubprocess *proc;
  int slave = -1;

  g_assert_cmpint (openpty (master, &slave, NULL, NULL, NULL), ==, 0);
  g_subprocess_launcher_take_stdin_fd (launcher, dup (slave));
  g_subprocess_launcher_take_stdout_fd (launcher, dup (slave));
  g_subprocess_launcher_take_stderr_fd (launcher, slave);
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TORCHAT_BINARY"),
                                      "--headless", "--profile", f->profile,
                                      "--socks", "127.0.0.1:1", NULL);
  g_assert_no_error (error);

  return proc;
}

/* A headless node on a terminal asks for the passphrase, twice for a new
 * profile, without echoing it; a wrong one ends it with status 1. */
static void
test_terminal_prompt (Fixture       *f,
                      gconstpointer  data)
{
  static const char secret[] = "typed on the terminal";
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GString) seen = g_string_new (NULL);
  g_autoptr(GError) error = NULL;
  int master = -1;

  if (g_getenv ("TORCHAT_BINARY") == NULL)
    {
      g_test_skip ("TORCHAT_BINARY is not set (run through meson test)");
      return;
    }

  proc = spawn_on_terminal (f, &master);
  g_assert_true (read_until (master, seen, "Choose a passphrase for the new profile:"));
  g_assert_cmpint (write (master, secret, strlen (secret)), ==, strlen (secret));
  g_assert_cmpint (write (master, "\n", 1), ==, 1);
  g_assert_true (read_until (master, seen, "The same passphrase again:"));
  g_assert_cmpint (write (master, secret, strlen (secret)), ==, strlen (secret));
  g_assert_cmpint (write (master, "\n", 1), ==, 1);
  g_assert_true (read_until (master, seen, "listening on"));
  g_assert_null (strstr (seen->str, secret));

  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  close (master);
  g_clear_object (&proc);

  /* The profile is encrypted with what was typed. */
  {
    g_autoptr(TcNode) node = open_with (f, secret);

    g_assert_true (tc_node_get_encrypted (node));
  }

  g_string_truncate (seen, 0);
  proc = spawn_on_terminal (f, &master);
  g_assert_true (read_until (master, seen, "Passphrase of the profile:"));
  g_assert_cmpint (write (master, "not it\n", 7), ==, 7);
  g_assert_true (read_until (master, seen, "Wrong passphrase"));
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (g_subprocess_get_exit_status (proc), ==, 1);
  g_assert_null (strstr (seen->str, "not it"));
  close (master);
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

typedef struct
{
  gboolean  done;
  gboolean  ok;
  GError   *error;
} Wait;

static void
encrypted_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Wait *wait = user_data;

  wait->ok = tc_node_encrypt_finish (TC_NODE (object), result, &wait->error);
  wait->done = TRUE;
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

/* A profile made plaintext with a known seed, used with its own tor (kept
 * off any network, as in test-tor), encrypted while it runs, used again: no
 * message text, no address in any usual encoding, no part of the key in any
 * file, the database, its WAL and tor's directory included. */
static void
test_nothing_readable (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(GPtrArray) needles = g_ptr_array_new_with_free_func ((GDestroyNotify) needle_free);
  g_autoptr(GError) error = NULL;
  g_autoptr(TcMessage) later = NULL;
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
  g_assert_true (tc_node_setup_tor (node, NULL, NULL, NULL, NULL, extra, &error));
  g_assert_no_error (error);
  g_assert_true (tc_node_start (node, &error));
  g_assert_no_error (error);

  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!published (node) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);
  g_assert_true (published (node));

  /* Encrypted while it runs, as the window's "encrypt this profile" does. */
  {
    Wait wait = { 0 };

    tc_node_encrypt_async (node, PASS1, strlen (PASS1), NULL, encrypted_cb, &wait);
    while (!wait.done)
      g_main_context_iteration (NULL, TRUE);
    g_assert_no_error (wait.error);
    g_assert_true (wait.ok);
    g_assert_true (tc_node_get_encrypted (node));
    g_assert_true (tc_node_get_running (node));
  }

  /* More after the encryption, so the WAL holds some. */
  later = tc_node_send_message (node, f->peer, "written after encryption", &error);
  g_assert_nonnull (later);
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

/* The onion key in the node's memory */

/* Where the writable memory of process @pid holds @needle: "", or the
 * mapping's line; counts the bytes read in @scanned. FALSE with @error
 * when the memory cannot be read at all. */
static gboolean
scan_memory (GPid        pid,
             const char *needle,
             gsize       needle_len,
             char      **found,
             guint64    *scanned,
             GError    **error)
{
  g_autofree char *maps_path = g_strdup_printf ("/proc/%d/maps", (int) pid);
  g_autofree char *mem_path = g_strdup_printf ("/proc/%d/mem", (int) pid);
  g_autofree char *maps = NULL;
  g_autofree char *chunk = NULL;
  g_auto(GStrv) lines = NULL;
  const gsize chunk_size = 1024 * 1024;
  int fd;

  *found = NULL;
  *scanned = 0;
  if (!g_file_get_contents (maps_path, &maps, NULL, error))
    return FALSE;
  if ((fd = g_open (mem_path, O_RDONLY | O_CLOEXEC, 0)) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "%s: %s", mem_path, g_strerror (saved));
      return FALSE;
    }

  chunk = g_malloc (chunk_size + needle_len);
  lines = g_strsplit (maps, "\n", -1);
  for (guint i = 0; lines[i] != NULL && *found == NULL; i++)
    {
      guint64 start, end;
      char perms[5] = "";

      if (sscanf (lines[i], "%" G_GINT64_MODIFIER "x-%" G_GINT64_MODIFIER "x %4s",
                  &start, &end, perms) != 3 ||
          perms[0] != 'r' || perms[1] != 'w')
        continue;
      /* A sanitizer's shadow memory is terabytes reserved and never
       * touched; no heap of a node comes near 4 GiB. */
      if (end - start > G_GUINT64_CONSTANT (4) << 30)
        continue;

      for (guint64 at = start; at < end && *found == NULL; at += chunk_size)
        {
          gsize want = MIN (chunk_size + needle_len - 1, end - at);
          ssize_t n = pread (fd, chunk, want, (off_t) at);

          if (n <= 0)
            break;
          *scanned += MIN ((gsize) n, chunk_size);
          if (memmem (chunk, n, needle, needle_len) != NULL)
            *found = g_strdup (lines[i]);
        }
    }
  close (fd);

  if (*found == NULL)
    *found = g_strdup ("");
  return TRUE;
}

static gboolean
cli_says_published (Fixture *f)
{
  g_autoptr(GSubprocess) proc = NULL;
  g_autofree char *out = NULL;

  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_SILENCE,
                           NULL, g_getenv ("TORCHAT_BINARY"), "--profile", f->profile,
                           "--json", "tor", NULL);
  if (proc == NULL || !g_subprocess_communicate_utf8 (proc, NULL, NULL, &out, NULL, NULL))
    return FALSE;

  return out != NULL && strstr (out, "\"onion-published\":true") != NULL;
}

/* A running headless node has given its onion key to its tor (ADD_ONION,
 * over the control port); afterwards no copy of the base64 key that went
 * into that command is left anywhere in the node's writable memory (heap,
 * stacks, libsodium's locked pages): the command string, the output
 * buffer and the buffer being written were wiped. Freed memory counts: the
 * node runs without MALLOC_PERTURB_, which would otherwise hide an unwiped
 * free. A positive control (the address, which the node keeps as text)
 * shows the scan sees the node's data. */
static void
test_onion_key_wiped (Fixture       *f,
                      gconstpointer  data)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TcIdentity) identity = NULL;
  g_autofree char *tor = g_find_program_in_path ("tor");
  g_autofree char *key_file = profile_file (f, "identity.key");
  g_autofree char *extra = g_build_filename (f->dir, "extra.torrc", NULL);
  g_autofree char *log = g_build_filename (f->dir, "node.log", NULL);
  g_autofree char *seed_base64 = NULL;
  g_autofree char *key_text = NULL;
  g_autofree char *blob = NULL;
  g_autofree char *found = NULL;
  const char *key_base64;
  guint8 seed[TC_SEED_LEN];
  guint64 scanned = 0;
  gint64 deadline;
  GPid pid;

  if (g_getenv ("TORCHAT_BINARY") == NULL || tor == NULL)
    {
      g_test_skip ("needs TORCHAT_BINARY (run through meson test) and tor");
      return;
    }

  randombytes_buf (seed, sizeof seed);
  identity = tc_identity_new_from_seed (seed);
  blob = tc_identity_dup_tor_key_blob (identity);
  key_base64 = blob + strlen ("ED25519-V3:");
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

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, log);
  g_subprocess_launcher_unsetenv (launcher, "MALLOC_PERTURB_");
  g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  proc = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TORCHAT_BINARY"),
                                      "--headless", "--no-passphrase", "--profile", f->profile,
                                      "--listen", "127.0.0.1:0", "--tor-config", extra, NULL);
  g_assert_no_error (error);
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (proc), NULL, 10);

  deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  while (!cli_says_published (f))
    {
      g_assert_nonnull (g_subprocess_get_identifier (proc));
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_usleep (100 * 1000);
    }

  if (!scan_memory (pid, tc_identity_get_address (identity),
                    strlen (tc_identity_get_address (identity)), &found, &scanned, &error))
    {
      g_test_skip_printf ("cannot read the node's memory here: %s", error->message);
      g_subprocess_force_exit (proc);
      g_subprocess_wait (proc, NULL, NULL);
      return;
    }
  g_assert_cmpstr (found, !=, "");
  g_clear_pointer (&found, g_free);

  g_assert_true (scan_memory (pid, key_base64, strlen (key_base64), &found, &scanned, &error));
  g_assert_no_error (error);
  g_test_message ("%" G_GUINT64_FORMAT " bytes of the node's writable memory scanned", scanned);
  if (found[0] != '\0')
    g_test_message ("the onion key in base64 is in %s", found);
  g_assert_cmpstr (found, ==, "");

  g_subprocess_send_signal (proc, SIGTERM);
  g_subprocess_wait (proc, NULL, &error);
  g_assert_no_error (error);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/profile/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("nothing-readable", test_nothing_readable);
  ADD ("terminal-prompt", test_terminal_prompt);
  ADD ("onion-key-wiped", test_onion_key_wiped);

#undef ADD

  return g_test_run ();
}
