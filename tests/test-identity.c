/* test-identity.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>

#include "tc-identity.h"

#define TOR_DEADLINE_US (30 * G_USEC_PER_SEC)

/* RFC 8032 §7.1, TEST 1: secret key (the seed), public key and the
 * signature of the empty message. */
#define RFC8032_SEED "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
#define RFC8032_PUBLIC "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
#define RFC8032_SIGNATURE \
  "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555" \
  "fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"

static void
hex_decode (const char *hex,
            guint8     *out,
            gsize       length)
{
  g_assert_cmpuint (strlen (hex), ==, length * 2);
  for (gsize i = 0; i < length; i++)
    out[i] = (g_ascii_xdigit_value (hex[2 * i]) << 4) | g_ascii_xdigit_value (hex[2 * i + 1]);
}

static void
fill_seed (guint8 seed[TC_SEED_LEN],
           guint8 start)
{
  for (guint i = 0; i < TC_SEED_LEN; i++)
    seed[i] = (guint8) (start + i * 7);
}

static void
rm_rf (const char *path)
{
  GDir *dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    {
      g_unlink (path);
      return;
    }

  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }

  g_dir_close (dir);
  g_rmdir (path);
}

static char *
make_temp_dir (void)
{
  g_autoptr(GError) error = NULL;
  char *dir = g_dir_make_tmp ("torchat-test-identity-XXXXXX", &error);

  g_assert_no_error (error);
  return dir;
}

static char *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;

  g_file_get_contents (path, &contents, NULL, &error);
  g_assert_no_error (error);
  return contents;
}

static void
test_rfc8032 (void)
{
  guint8 seed[TC_SEED_LEN];
  guint8 expected_public[TC_PUBLIC_KEY_LEN];
  guint8 expected_signature[64];
  guint8 public_key[TC_PUBLIC_KEY_LEN];
  guint8 signature[64];
  g_autoptr(TcIdentity) identity = NULL;
  g_autofree char *address = NULL;

  hex_decode (RFC8032_SEED, seed, sizeof seed);
  hex_decode (RFC8032_PUBLIC, expected_public, sizeof expected_public);
  hex_decode (RFC8032_SIGNATURE, expected_signature, sizeof expected_signature);

  identity = tc_identity_new_from_seed (seed);
  tc_identity_get_public_key (identity, public_key);
  g_assert_cmpmem (public_key, sizeof public_key, expected_public, sizeof expected_public);

  address = tc_address_from_public_key (expected_public);
  g_assert_cmpstr (tc_identity_get_address (identity), ==, address);

  tc_identity_sign (identity, (const guint8 *) "", 0, signature);
  g_assert_cmpmem (signature, sizeof signature, expected_signature, sizeof expected_signature);
  g_assert_true (tc_identity_verify (address, (const guint8 *) "", 0, expected_signature));
}

static void
test_deterministic (void)
{
  guint8 seed[TC_SEED_LEN];
  guint8 other_seed[TC_SEED_LEN];
  guint8 expanded_a[TC_EXPANDED_KEY_LEN];
  guint8 expanded_b[TC_EXPANDED_KEY_LEN];
  guint8 digest[64];
  gsize digest_len = sizeof digest;
  g_autoptr(TcIdentity) a = NULL;
  g_autoptr(TcIdentity) b = NULL;
  g_autoptr(TcIdentity) c = NULL;
  g_autoptr(GChecksum) checksum = NULL;

  fill_seed (seed, 1);
  fill_seed (other_seed, 2);

  a = tc_identity_new_from_seed (seed);
  b = tc_identity_new_from_seed (seed);
  c = tc_identity_new_from_seed (other_seed);

  g_assert_true (tc_address_is_valid (tc_identity_get_address (a)));
  g_assert_cmpstr (tc_identity_get_address (a), ==, tc_identity_get_address (b));
  g_assert_cmpstr (tc_identity_get_address (a), !=, tc_identity_get_address (c));

  tc_identity_get_expanded_key (a, expanded_a);
  tc_identity_get_expanded_key (b, expanded_b);
  g_assert_cmpmem (expanded_a, sizeof expanded_a, expanded_b, sizeof expanded_b);

  /* The expanded key is SHA-512 of the seed with the scalar clamped. */
  checksum = g_checksum_new (G_CHECKSUM_SHA512);
  g_checksum_update (checksum, seed, sizeof seed);
  g_checksum_get_digest (checksum, digest, &digest_len);
  digest[0] &= 248;
  digest[31] &= 127;
  digest[31] |= 64;
  g_assert_cmpmem (expanded_a, sizeof expanded_a, digest, sizeof digest);
}

static void
test_tor_key_blob (void)
{
  guint8 seed[TC_SEED_LEN];
  guint8 expanded[TC_EXPANDED_KEY_LEN];
  g_autoptr(TcIdentity) identity = NULL;
  g_autofree char *blob = NULL;
  g_autofree guint8 *decoded = NULL;
  gsize decoded_len = 0;

  fill_seed (seed, 3);
  identity = tc_identity_new_from_seed (seed);
  tc_identity_get_expanded_key (identity, expanded);

  blob = tc_identity_dup_tor_key_blob (identity);
  g_assert_true (g_str_has_prefix (blob, "ED25519-V3:"));
  g_assert_cmpuint (strlen (blob), ==, strlen ("ED25519-V3:") + 88);

  decoded = g_base64_decode (blob + strlen ("ED25519-V3:"), &decoded_len);
  g_assert_cmpmem (decoded, decoded_len, expanded, sizeof expanded);
}

static void
test_sign_verify (void)
{
  guint8 seed[TC_SEED_LEN];
  guint8 signature[64];
  guint8 tampered[64];
  guint8 data[300];
  g_autoptr(TcIdentity) identity = NULL;
  g_autoptr(TcIdentity) other = NULL;
  const char *address;

  fill_seed (seed, 4);
  identity = tc_identity_new_from_seed (seed);
  fill_seed (seed, 5);
  other = tc_identity_new_from_seed (seed);
  address = tc_identity_get_address (identity);

  for (guint i = 0; i < sizeof data; i++)
    data[i] = (guint8) g_test_rand_int_range (0, 256);

  tc_identity_sign (identity, data, sizeof data, signature);
  g_assert_true (tc_identity_verify (address, data, sizeof data, signature));

  /* Signing is deterministic in Ed25519. */
  tc_identity_sign (identity, data, sizeof data, tampered);
  g_assert_cmpmem (tampered, sizeof tampered, signature, sizeof signature);

  for (guint bit = 0; bit < 64 * 8; bit += 37)
    {
      memcpy (tampered, signature, sizeof tampered);
      tampered[bit / 8] ^= 1 << (bit % 8);
      g_assert_false (tc_identity_verify (address, data, sizeof data, tampered));
    }

  data[100] ^= 0x10;
  g_assert_false (tc_identity_verify (address, data, sizeof data, signature));
  data[100] ^= 0x10;
  g_assert_false (tc_identity_verify (address, data, sizeof data - 1, signature));

  g_assert_false (tc_identity_verify (tc_identity_get_address (other), data, sizeof data, signature));
  g_assert_false (tc_identity_verify ("not an address", data, sizeof data, signature));
  g_assert_false (tc_identity_verify (NULL, data, sizeof data, signature));

  tc_identity_sign (identity, NULL, 0, signature);
  g_assert_true (tc_identity_verify (address, NULL, 0, signature));
}

static void
test_key_file_create (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "identity.key", NULL);
  g_autofree char *first = NULL;
  g_autofree char *second = NULL;
  g_autofree char *address = NULL;
  g_autoptr(TcIdentity) identity = NULL;
  g_autoptr(TcIdentity) again = NULL;
  g_autoptr(GError) error = NULL;
  struct stat st;

  identity = tc_identity_load_or_create (path, &error);
  g_assert_no_error (error);
  g_assert_nonnull (identity);
  address = g_strdup (tc_identity_get_address (identity));
  g_assert_true (tc_address_is_valid (address));

  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpuint (st.st_mode & 07777, ==, 0600);

  first = read_file (path);
  g_assert_true (g_str_has_prefix (first, "torchat-ed25519-seed-v1\n"));
  /* The seed, not a derived key, and nothing readable as the address. */
  g_assert_null (strstr (first, address));

  again = tc_identity_load_or_create (path, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tc_identity_get_address (again), ==, address);

  second = read_file (path);
  g_assert_cmpstr (first, ==, second);

  /* Two fresh profiles get two different identities. */
  {
    g_autofree char *path2 = g_build_filename (dir, "identity2.key", NULL);
    g_autoptr(TcIdentity) fresh = tc_identity_load_or_create (path2, &error);

    g_assert_no_error (error);
    g_assert_cmpstr (tc_identity_get_address (fresh), !=, address);
  }

  rm_rf (dir);
}

static void
test_key_file_permissions (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "identity.key", NULL);
  g_autofree char *address = NULL;
  g_autofree char *before = NULL;
  g_autofree char *after = NULL;
  static const int modes[] = { 0644, 0640, 0604, 0660 };

  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TcIdentity) identity = tc_identity_load_or_create (path, &error);

    g_assert_no_error (error);
    address = g_strdup (tc_identity_get_address (identity));
  }
  before = read_file (path);

  for (guint i = 0; i < G_N_ELEMENTS (modes); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TcIdentity) identity = NULL;

      g_assert_cmpint (g_chmod (path, modes[i]), ==, 0);
      identity = tc_identity_load_or_create (path, &error);
      g_assert_null (identity);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
      g_assert_nonnull (strstr (error->message, "chmod 600"));
      g_assert_nonnull (strstr (error->message, path));
    }

  after = read_file (path);
  g_assert_cmpstr (before, ==, after);

  /* After the fix the user was told to make, the same identity is back. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TcIdentity) identity = NULL;

    g_assert_cmpint (g_chmod (path, 0600), ==, 0);
    identity = tc_identity_load_or_create (path, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (tc_identity_get_address (identity), ==, address);

    g_assert_cmpint (g_chmod (path, 0400), ==, 0);
    g_clear_object (&identity);
    identity = tc_identity_load_or_create (path, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (tc_identity_get_address (identity), ==, address);
  }

  rm_rf (dir);
}

static void
test_key_file_garbage (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "identity.key", NULL);
  static const char *garbage[] = {
    "",
    "hello\n",
    "torchat-ed25519-seed-v1\n",
    /* 31 bytes of seed */
    "torchat-ed25519-seed-v1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHg==\n",
    /* 33 bytes of seed */
    "torchat-ed25519-seed-v1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g\n",
    /* not base64 */
    "torchat-ed25519-seed-v1\n!!ECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    /* a second line after the seed */
    "torchat-ed25519-seed-v1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\nmore\n",
    /* another version */
    "torchat-ed25519-seed-v2\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
    /* Tor's own key file is not ours */
    "== ed25519v1-secret: type0 ==",
  };

  for (guint i = 0; i < G_N_ELEMENTS (garbage); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TcIdentity) identity = NULL;
      g_autofree char *after = NULL;

      g_file_set_contents_full (path, garbage[i], -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
      g_assert_no_error (error);

      identity = tc_identity_load_or_create (path, &error);
      g_assert_null (identity);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, path));

      after = read_file (path);
      g_assert_cmpstr (after, ==, garbage[i]);
    }

  /* The good form of the lines above loads: the parser is not just
   * refusing everything. The seed is 0, 1, ..., 31. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TcIdentity) identity = NULL;
    g_autoptr(TcIdentity) expected = NULL;
    guint8 seed[TC_SEED_LEN];

    for (guint i = 0; i < TC_SEED_LEN; i++)
      seed[i] = i;
    expected = tc_identity_new_from_seed (seed);

    g_file_set_contents_full (path,
                              "torchat-ed25519-seed-v1\nAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=\n",
                              -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
    g_assert_no_error (error);
    identity = tc_identity_load_or_create (path, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (tc_identity_get_address (identity), ==, tc_identity_get_address (expected));
  }

  rm_rf (dir);
}

static void
test_key_file_unwritable (void)
{
  g_autofree char *dir = make_temp_dir ();
  g_autofree char *path = g_build_filename (dir, "missing", "identity.key", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TcIdentity) identity = NULL;

  identity = tc_identity_load_or_create (path, &error);
  g_assert_null (identity);
  g_assert_nonnull (error);
  g_assert_false (g_file_test (path, G_FILE_TEST_EXISTS));

  rm_rf (dir);
}

/* Tor itself, offline (DisableNetwork 1), with its own temporary data
 * directory. */
typedef struct
{
  char        *dir;
  char        *log_path;
  GSubprocess *process;
  gboolean     exited;
} TorRun;

static void
tor_wait_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  TorRun *run = user_data;

  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  run->exited = TRUE;
}

static char *
find_tor (void)
{
  char *tor = g_find_program_in_path ("tor");

  if (tor == NULL)
    g_test_skip ("tor is not in PATH: addresses are not checked against Tor's own derivation");

  return tor;
}

static void
tor_start (TorRun     *run,
           const char *tor,
           const char *extra_config)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *torrc = NULL;
  g_autofree char *defaults = NULL;
  g_autofree char *data_dir = NULL;
  g_autofree char *config = NULL;

  memset (run, 0, sizeof *run);

  run->dir = make_temp_dir ();
  run->log_path = g_build_filename (run->dir, "tor.log", NULL);
  torrc = g_build_filename (run->dir, "torrc", NULL);
  defaults = g_build_filename (run->dir, "torrc-defaults", NULL);
  data_dir = g_build_filename (run->dir, "data", NULL);
  g_assert_cmpint (g_mkdir (data_dir, 0700), ==, 0);

  /* __OwningControllerProcess: tor ends with the test, even if it fails. */
  config = g_strdup_printf ("SocksPort 0\n"
                            "DisableNetwork 1\n"
                            "DataDirectory %s\n"
                            "Log notice stderr\n"
                            "__OwningControllerProcess %d\n"
                            "%s",
                            data_dir, (int) getpid (), extra_config);
  g_file_set_contents (torrc, config, -1, &error);
  g_assert_no_error (error);
  /* Keep the system's torrc-defaults out of the test. */
  g_file_set_contents (defaults, "", 0, &error);
  g_assert_no_error (error);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, run->log_path);
  run->process = g_subprocess_launcher_spawn (launcher, &error,
                                              tor, "-f", torrc,
                                              "--defaults-torrc", defaults,
                                              NULL);
  g_assert_no_error (error);
  g_subprocess_wait_async (run->process, NULL, tor_wait_cb, run);
}

static void
tor_print_log (TorRun *run)
{
  g_autofree char *log = NULL;

  if (g_file_get_contents (run->log_path, &log, NULL, NULL))
    g_test_message ("tor's log:\n%s", log);
}

/* Waits for Tor to write a complete (newline-terminated) file. */
static char *
tor_wait_for_file (TorRun     *run,
                   const char *path)
{
  gint64 deadline = g_get_monotonic_time () + TOR_DEADLINE_US;

  for (;;)
    {
      g_autofree char *contents = NULL;

      if (g_file_get_contents (path, &contents, NULL, NULL) &&
          g_str_has_suffix (contents, "\n"))
        return g_steal_pointer (&contents);

      while (g_main_context_iteration (NULL, FALSE))
        ;

      if (run->exited || g_get_monotonic_time () > deadline)
        {
          g_subprocess_force_exit (run->process);
          tor_print_log (run);
          g_error ("tor %s before writing %s", run->exited ? "exited" : "timed out", path);
        }

      g_usleep (G_USEC_PER_SEC / 20);
    }
}

static void
tor_stop (TorRun *run)
{
  if (run->process == NULL)
    return;

  g_subprocess_force_exit (run->process);
  while (!run->exited)
    g_main_context_iteration (NULL, TRUE);

  g_clear_object (&run->process);
  rm_rf (run->dir);
  g_clear_pointer (&run->dir, g_free);
  g_clear_pointer (&run->log_path, g_free);
}

static void
test_tor_hostname (void)
{
  g_autofree char *tor = find_tor ();
  g_autofree char *key_dir = NULL;
  g_autofree char *key_path = NULL;
  g_autofree char *hs_dir = NULL;
  g_autofree char *secret_path = NULL;
  g_autofree char *hostname_path = NULL;
  g_autofree char *hostname = NULL;
  g_autofree char *config = NULL;
  g_autoptr(TcIdentity) identity = NULL;
  g_autoptr(GError) error = NULL;
  guint8 file[32 + TC_EXPANDED_KEY_LEN] = { 0 };
  static const char header[] = "== ed25519v1-secret: type0 ==";
  TorRun run;

  if (tor == NULL)
    return;

  /* A fresh identity, made the way a new profile makes one. */
  key_dir = make_temp_dir ();
  key_path = g_build_filename (key_dir, "identity.key", NULL);
  identity = tc_identity_load_or_create (key_path, &error);
  g_assert_no_error (error);

  hs_dir = g_build_filename (key_dir, "hs", NULL);
  g_assert_cmpint (g_mkdir (hs_dir, 0700), ==, 0);

  /* Tor's hs_ed25519_secret_key: a 32-byte NUL-padded header, then the
   * expanded key. Tor derives the public key and hostname from it alone. */
  memcpy (file, header, strlen (header));
  tc_identity_get_expanded_key (identity, file + 32);
  secret_path = g_build_filename (hs_dir, "hs_ed25519_secret_key", NULL);
  g_file_set_contents_full (secret_path, (const char *) file, sizeof file,
                            G_FILE_SET_CONTENTS_CONSISTENT, 0600, &error);
  g_assert_no_error (error);

  config = g_strdup_printf ("HiddenServiceDir %s\n"
                            "HiddenServicePort %u 127.0.0.1:1\n",
                            hs_dir, 11009);
  tor_start (&run, tor, config);

  hostname_path = g_build_filename (hs_dir, "hostname", NULL);
  hostname = tor_wait_for_file (&run, hostname_path);
  tor_stop (&run);

  g_strstrip (hostname);
  g_assert_cmpstr (hostname, ==, tc_identity_get_address (identity));

  rm_rf (key_dir);
}

static char *
control_read_line (GDataInputStream *in)
{
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line (in, NULL, NULL, &error);

  g_assert_no_error (error);
  g_assert_nonnull (line);
  return line;
}

static void
test_tor_add_onion (void)
{
  g_autoptr(TcIdentity) identity = NULL;
  g_autoptr(GSocketClient) client = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GDataInputStream) in = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port_file = NULL;
  g_autofree char *port_line = NULL;
  g_autofree char *config = NULL;
  g_autofree char *blob = NULL;
  g_autofree char *command = NULL;
  g_autofree char *service_id = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *line = NULL;
  GOutputStream *out;
  guint8 seed[TC_SEED_LEN];
  g_autofree char *tor = find_tor ();
  g_autofree char *tmp_dir = NULL;
  TorRun run;

  if (tor == NULL)
    return;

  fill_seed (seed, 6);
  identity = tc_identity_new_from_seed (seed);

  /* The port file lives in a directory of our own, made before tor is. */
  tmp_dir = make_temp_dir ();
  port_file = g_build_filename (tmp_dir, "control-port", NULL);
  config = g_strdup_printf ("ControlPort auto\n"
                            "ControlPortWriteToFile %s\n"
                            "CookieAuthentication 0\n",
                            port_file);
  tor_start (&run, tor, config);

  port_line = tor_wait_for_file (&run, port_file);
  g_strstrip (port_line);
  g_assert_true (g_str_has_prefix (port_line, "PORT="));

  client = g_socket_client_new ();
  g_socket_client_set_timeout (client, 30);
  connection = g_socket_client_connect_to_host (client, port_line + strlen ("PORT="),
                                                0, NULL, &error);
  g_assert_no_error (error);

  in = g_data_input_stream_new (g_io_stream_get_input_stream (G_IO_STREAM (connection)));
  g_data_input_stream_set_newline_type (in, G_DATA_STREAM_NEWLINE_TYPE_CR_LF);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  g_output_stream_write_all (out, "AUTHENTICATE\r\n", strlen ("AUTHENTICATE\r\n"),
                             NULL, NULL, &error);
  g_assert_no_error (error);
  line = control_read_line (in);
  g_assert_cmpstr (line, ==, "250 OK");
  g_clear_pointer (&line, g_free);

  blob = tc_identity_dup_tor_key_blob (identity);
  command = g_strdup_printf ("ADD_ONION %s Port=%u,127.0.0.1:1\r\n", blob, 11009);
  g_output_stream_write_all (out, command, strlen (command), NULL, NULL, &error);
  g_assert_no_error (error);

  for (;;)
    {
      line = control_read_line (in);
      if (g_str_has_prefix (line, "250-ServiceID="))
        service_id = g_strdup (line + strlen ("250-ServiceID="));
      else if (!g_str_has_prefix (line, "250-"))
        break;
      g_clear_pointer (&line, g_free);
    }
  /* Anything but "250 OK" is Tor refusing our key blob. */
  g_assert_cmpstr (line, ==, "250 OK");

  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  tor_stop (&run);
  rm_rf (tmp_dir);

  expected = g_strconcat (service_id, ".onion", NULL);
  g_assert_cmpstr (expected, ==, tc_identity_get_address (identity));
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/identity/rfc8032", test_rfc8032);
  g_test_add_func ("/identity/deterministic", test_deterministic);
  g_test_add_func ("/identity/tor-key-blob", test_tor_key_blob);
  g_test_add_func ("/identity/sign-verify", test_sign_verify);
  g_test_add_func ("/identity/key-file/create", test_key_file_create);
  g_test_add_func ("/identity/key-file/permissions", test_key_file_permissions);
  g_test_add_func ("/identity/key-file/garbage", test_key_file_garbage);
  g_test_add_func ("/identity/key-file/unwritable", test_key_file_unwritable);
  g_test_add_func ("/identity/tor/hostname", test_tor_hostname);
  g_test_add_func ("/identity/tor/add-onion", test_tor_add_onion);

  return g_test_run ();
}
