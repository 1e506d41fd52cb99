/* test-profile-key.c: the profile header, its KDF, the sealed identity
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/stat.h>

#include <glib/gstdio.h>
#include <sodium.h>

#include "tc-identity.h"
#include "tc-profile-key.h"

#define PASSPHRASE "correct horse battery staple"
/* Cheap Argon2id for the cases that only test the format. */
#define TEST_OPS 1
#define TEST_MEM (64 * 1024)

typedef struct
{
  char *dir;
  char *path;
} Fixture;

static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("test-profile-key-XXXXXX", &error);
  g_assert_no_error (error);
  f->path = g_build_filename (f->dir, "profile.key", NULL);
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) d = g_dir_open (f->dir, 0, NULL);
  const char *name;

  while (d != NULL && (name = g_dir_read_name (d)))
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->path);
  g_free (f->dir);
}

static TcProfileKey *
new_key (void)
{
  g_autoptr(GError) error = NULL;
  TcProfileKey *key = tc_profile_key_new (&error);

  g_assert_no_error (error);
  g_assert_nonnull (key);
  _tc_profile_key_set_kdf_cost (key, TEST_OPS, TEST_MEM);
  return key;
}

static void
write_key (Fixture      *f,
           TcProfileKey *key,
           const char   *passphrase)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (tc_profile_key_write (key, f->path, passphrase, strlen (passphrase), &error));
  g_assert_no_error (error);
}

static GBytes *
read_file (const char *path)
{
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (contents, length);
}

static void
write_file (const char   *path,
            const guint8 *data,
            gsize         length)
{
  g_autoptr(GError) error = NULL;

  g_unlink (path);
  g_assert_true (g_file_set_contents_full (path, (const char *) data, length,
                                           G_FILE_SET_CONTENTS_NONE, 0600, &error));
  g_assert_no_error (error);
}

static void
test_round_trip (Fixture       *f,
                 gconstpointer  data)
{
  g_autoptr(TcProfileKey) key = new_key ();
  g_autoptr(TcProfileKey) again = NULL;
  g_autoptr(GBytes) contents = NULL;
  g_autoptr(GError) error = NULL;
  guint8 sealed[TC_PROFILE_SEALED_IDENTITY_LEN];
  guint8 a[TC_PROFILE_SUBKEY_LEN], b[TC_PROFILE_SUBKEY_LEN];
  guint8 c[TC_PROFILE_SUBKEY_LEN], d[TC_PROFILE_SUBKEY_LEN];
  guint64 ops = 0, mem = 0;
  struct stat st;
  const guint8 *bytes;

  randombytes_buf (sealed, sizeof sealed);
  tc_profile_key_set_sealed_identity (key, sealed);
  write_key (f, key, PASSPHRASE);

  /* Mode 0600, exactly one header, the magic and version first. */
  g_assert_cmpint (g_stat (f->path, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  contents = read_file (f->path);
  g_assert_cmpuint (g_bytes_get_size (contents), ==, TC_PROFILE_HEADER_LEN);
  bytes = g_bytes_get_data (contents, NULL);
  g_assert_cmpmem (bytes, 8, "TCPROFIL", 8);
  g_assert_cmpuint (bytes[8], ==, 1);
  g_assert_cmpuint (bytes[12], ==, 2);    /* Argon2id */
  g_assert_cmpuint (bytes[16], ==, TEST_OPS);
  g_assert_true (tc_profile_key_check_file (f->path, &error));
  g_assert_no_error (error);

  again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (again);

  tc_profile_key_get_kdf_cost (again, &ops, &mem);
  g_assert_cmpuint (ops, ==, TEST_OPS);
  g_assert_cmpuint (mem, ==, TEST_MEM);
  g_assert_cmpmem (tc_profile_key_get_sealed_identity (again), sizeof sealed, sealed, sizeof sealed);

  /* The same profile key: the same subkeys, one per purpose. */
  tc_profile_key_derive (key, TC_PROFILE_SUBKEY_DATABASE, a);
  tc_profile_key_derive (again, TC_PROFILE_SUBKEY_DATABASE, b);
  tc_profile_key_derive (again, TC_PROFILE_SUBKEY_IDENTITY, c);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);
  g_assert_true (memcmp (b, c, sizeof b) != 0);

  /* A second key differs. */
  {
    g_autoptr(TcProfileKey) other = new_key ();

    tc_profile_key_derive (other, TC_PROFILE_SUBKEY_DATABASE, d);
    g_assert_true (memcmp (a, d, sizeof a) != 0);
  }
}

static void
test_wrong_passphrase (Fixture       *f,
                       gconstpointer  data)
{
  g_autoptr(TcProfileKey) key = new_key ();
  g_autoptr(TcProfileKey) again = NULL;
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;
  g_autoptr(GError) error = NULL;
  const char *wrong[] = { "correct horse battery stapl", "Correct horse battery staple",
                          PASSPHRASE " ", "x" };

  write_key (f, key, PASSPHRASE);
  before = read_file (f->path);

  for (guint i = 0; i < G_N_ELEMENTS (wrong); i++)
    {
      again = tc_profile_key_unlock (f->path, wrong[i], strlen (wrong[i]), NULL, &error);
      g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
      g_assert_cmpstr (error->message, ==, "Wrong passphrase");
      g_assert_null (again);
      g_clear_error (&error);
    }

  again = tc_profile_key_unlock (f->path, "", 0, NULL, &error);
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_EMPTY_PASSPHRASE);
  g_assert_null (again);
  g_clear_error (&error);

  /* Nothing was written. */
  after = read_file (f->path);
  g_assert_true (g_bytes_equal (before, after));
}

static void
test_truncated (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(TcProfileKey) key = new_key ();
  g_autoptr(GBytes) contents = NULL;
  guint8 longer[TC_PROFILE_HEADER_LEN + 1];
  const guint8 *bytes;

  write_key (f, key, PASSPHRASE);
  contents = read_file (f->path);
  bytes = g_bytes_get_data (contents, NULL);

  for (gsize length = 0; length < TC_PROFILE_HEADER_LEN; length++)
    {
      g_autoptr(TcProfileKey) again = NULL;
      g_autoptr(GError) error = NULL;

      write_file (f->path, bytes, length);
      again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
      if (again != NULL)
        g_error ("a header of %" G_GSIZE_FORMAT " bytes unlocked", length);
      g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
    }

  memcpy (longer, bytes, TC_PROFILE_HEADER_LEN);
  longer[TC_PROFILE_HEADER_LEN] = '\n';
  write_file (f->path, longer, sizeof longer);
  {
    g_autoptr(TcProfileKey) again = NULL;
    g_autoptr(GError) error = NULL;

    again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
    g_assert_null (again);
    g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
  }

  /* Missing, a directory, another file format. */
  {
    g_autoptr(TcProfileKey) again = NULL;
    g_autoptr(GError) error = NULL;

    g_unlink (f->path);
    again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
    g_clear_error (&error);

    g_assert_cmpint (g_mkdir (f->path, 0700), ==, 0);
    again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
    g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
    g_clear_error (&error);
    g_rmdir (f->path);

    write_file (f->path, (const guint8 *) "SQLite format 3\0", 16);
    again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
    g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
    g_assert_nonnull (strstr (error->message, "not a TORChat profile key"));
  }
}

/* Every single bit flipped: an error, never a key. */
static void
test_tampered (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(TcProfileKey) key = new_key ();
  g_autoptr(GBytes) contents = NULL;
  guint8 bytes[TC_PROFILE_HEADER_LEN];

  write_key (f, key, PASSPHRASE);
  contents = read_file (f->path);
  memcpy (bytes, g_bytes_get_data (contents, NULL), sizeof bytes);

  for (guint i = 0; i < TC_PROFILE_HEADER_LEN * 8; i++)
    {
      g_autoptr(TcProfileKey) again = NULL;
      g_autoptr(GError) error = NULL;
      guint8 copy[TC_PROFILE_HEADER_LEN];

      memcpy (copy, bytes, sizeof copy);
      copy[i / 8] ^= 1 << (i % 8);
      write_file (f->path, copy, sizeof copy);

      again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
      g_assert_null (again);
      g_assert_nonnull (error);
      /* A higher version number reads as "newer"; everything else is damage. */
      if (!g_error_matches (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NEWER))
        g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
    }
}

/* Someone who rewrites the checksum too: the AEAD still refuses a changed
 * salt, KDF cost, nonce or wrapped key. */
static void
test_forged (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TcProfileKey) key = new_key ();
  g_autoptr(GBytes) contents = NULL;
  guint8 bytes[TC_PROFILE_HEADER_LEN];
  /* Bytes that keep the header parseable: salt, nonce, wrapped key, and the
   * low byte of the memory cost (64 KiB → 64 KiB + 1 KiB). */
  const guint offsets[] = { 25, 32, 47, 48, 71, 72, 103, 104, 119 };

  write_key (f, key, PASSPHRASE);
  contents = read_file (f->path);
  memcpy (bytes, g_bytes_get_data (contents, NULL), sizeof bytes);

  for (guint i = 0; i < G_N_ELEMENTS (offsets); i++)
    {
      g_autoptr(TcProfileKey) again = NULL;
      g_autoptr(GError) error = NULL;
      guint8 copy[TC_PROFILE_HEADER_LEN];

      memcpy (copy, bytes, sizeof copy);
      copy[offsets[i]] ^= 0x04;
      crypto_generichash (copy + 192, 32, copy, 192, NULL, 0);
      write_file (f->path, copy, sizeof copy);

      again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
      g_assert_null (again);
      g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
    }

  /* A cost past what any header may ask for is refused before Argon2id. */
  {
    g_autoptr(TcProfileKey) again = NULL;
    g_autoptr(GError) error = NULL;
    guint8 copy[TC_PROFILE_HEADER_LEN];

    memcpy (copy, bytes, sizeof copy);
    copy[24 + 5] = 0x10;   /* memlimit += 16 TiB */
    crypto_generichash (copy + 192, 32, copy, 192, NULL, 0);
    write_file (f->path, copy, sizeof copy);
    again = tc_profile_key_unlock (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL, &error);
    g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
  }
}

static void
test_change (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TcProfileKey) key = new_key ();
  g_autoptr(TcProfileKey) unlocked = NULL;
  g_autoptr(TcProfileKey) again = NULL;
  g_autoptr(GBytes) first = NULL;
  g_autoptr(GBytes) second = NULL;
  g_autoptr(GError) error = NULL;
  guint8 a[TC_PROFILE_SUBKEY_LEN], b[TC_PROFILE_SUBKEY_LEN];

  write_key (f, key, "old");
  first = read_file (f->path);

  unlocked = tc_profile_key_unlock (f->path, "old", 3, NULL, &error);
  g_assert_no_error (error);
  write_key (f, unlocked, "new");
  second = read_file (f->path);

  /* A new salt and nonce, the same profile key. */
  g_assert_false (g_bytes_equal (first, second));
  again = tc_profile_key_unlock (f->path, "old", 3, NULL, &error);
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  again = tc_profile_key_unlock (f->path, "new", 3, NULL, &error);
  g_assert_no_error (error);
  tc_profile_key_derive (key, TC_PROFILE_SUBKEY_DATABASE, a);
  tc_profile_key_derive (again, TC_PROFILE_SUBKEY_DATABASE, b);
  g_assert_cmpmem (a, sizeof a, b, sizeof b);

  /* No temporary file stays behind. */
  {
    g_autofree char *tmp = g_strconcat (f->path, ".new", NULL);
    g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
    guint n = 0;

    g_assert_false (g_file_test (tmp, G_FILE_TEST_EXISTS));
    while (g_dir_read_name (dir) != NULL)
      n++;
    g_assert_cmpuint (n, ==, 1);
  }
}

static void
unlocked_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  TcProfileKey **out = user_data;
  g_autoptr(GError) error = NULL;

  *out = tc_profile_key_unlock_finish (result, &error);
  g_assert_no_error (error);
}

/* The real cost, in a thread, as the window does it. */
static void
test_async_default_cost (Fixture       *f,
                         gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcProfileKey) key = tc_profile_key_new (&error);
  TcProfileKey *unlocked = NULL;
  guint64 ops = 0, mem = 0;
  gint64 start;

  g_assert_no_error (error);
  tc_profile_key_get_kdf_cost (key, &ops, &mem);
  g_assert_cmpuint (ops, ==, TC_PROFILE_KEY_DEFAULT_OPSLIMIT);
  g_assert_cmpuint (mem, ==, TC_PROFILE_KEY_DEFAULT_MEMLIMIT);
  write_key (f, key, PASSPHRASE);

  start = g_get_monotonic_time ();
  tc_profile_key_unlock_async (f->path, PASSPHRASE, strlen (PASSPHRASE), NULL,
                               unlocked_cb, &unlocked);
  while (unlocked == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_test_message ("Argon2id t=3 m=256 MiB unlock: %.3f s",
                  (g_get_monotonic_time () - start) / 1e6);
  g_assert_finalize_object (unlocked);
}

static void
test_sealed_identity (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcIdentity) identity = tc_identity_new_random (&error);
  g_autoptr(TcIdentity) opened = NULL;
  guint8 key[TC_PROFILE_SUBKEY_LEN], other[TC_PROFILE_SUBKEY_LEN];
  guint8 sealed[TC_PROFILE_SEALED_IDENTITY_LEN];

  g_assert_no_error (error);
  randombytes_buf (key, sizeof key);
  randombytes_buf (other, sizeof other);
  tc_identity_seal (identity, key, sealed);

  opened = tc_identity_new_from_sealed (sealed, key, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tc_identity_get_address (opened), ==, tc_identity_get_address (identity));
  g_clear_object (&opened);

  opened = tc_identity_new_from_sealed (sealed, other, &error);
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
  g_assert_null (opened);
  g_clear_error (&error);

  for (guint i = 0; i < sizeof sealed; i++)
    {
      sealed[i] ^= 0x80;
      opened = tc_identity_new_from_sealed (sealed, key, &error);
      g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
      g_assert_null (opened);
      g_clear_error (&error);
      sealed[i] ^= 0x80;
    }

  opened = tc_identity_new_from_sealed (NULL, key, &error);
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/profile-key/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("round-trip", test_round_trip);
  ADD ("wrong-passphrase", test_wrong_passphrase);
  ADD ("truncated", test_truncated);
  ADD ("tampered", test_tampered);
  ADD ("forged", test_forged);
  ADD ("change", test_change);
  ADD ("async-default-cost", test_async_default_cost);
  g_test_add_func ("/profile-key/sealed-identity", test_sealed_identity);

#undef ADD

  return g_test_run ();
}
