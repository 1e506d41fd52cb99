/* tc-identity.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <nettle/eddsa.h>
#include <nettle/sha2.h>
#include <sodium.h>

#include "tc-identity.h"
#include "tc-profile-key.h"

/* The key file is text, two lines:
 *
 *   torchat-ed25519-seed-v1
 *   <the 32-byte Ed25519 seed in standard base64, 44 characters>
 *
 * Only the seed is stored; the public key, the address and the expanded key
 * Tor wants are all derived from it. The file is mode 0600 and is never
 * overwritten once it exists: it is the user's identity. */
#define KEY_FILE_MAGIC "torchat-ed25519-seed-v1"
#define KEY_FILE_MAX 4096
#define SEED_BASE64_LEN 44

struct _TcIdentity
{
  GObject  parent_instance;

  guint8   seed[TC_SEED_LEN];
  guint8   expanded[TC_EXPANDED_KEY_LEN];
  guint8   public_key[TC_PUBLIC_KEY_LEN];
  char    *address;
};

G_DEFINE_FINAL_TYPE (TcIdentity, tc_identity, G_TYPE_OBJECT)

static void
tc_identity_finalize (GObject *object)
{
  TcIdentity *self = (TcIdentity *) object;

  /* Wipes, then unlocks. */
  sodium_munlock (self->seed, sizeof self->seed);
  sodium_munlock (self->expanded, sizeof self->expanded);
  g_clear_pointer (&self->address, g_free);

  G_OBJECT_CLASS (tc_identity_parent_class)->finalize (object);
}

static void
tc_identity_class_init (TcIdentityClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tc_identity_finalize;
}

static void
tc_identity_init (TcIdentity *self)
{
  /* Kept out of swap where the system allows it; failing that, still wiped. */
  if (sodium_init () >= 0)
    {
      sodium_mlock (self->seed, sizeof self->seed);
      sodium_mlock (self->expanded, sizeof self->expanded);
    }
}

TcIdentity *
tc_identity_new_from_seed (const guint8 seed[TC_SEED_LEN])
{
  TcIdentity *self;
  struct sha512_ctx ctx;

  g_return_val_if_fail (seed != NULL, NULL);

  self = g_object_new (TC_TYPE_IDENTITY, NULL);
  memcpy (self->seed, seed, TC_SEED_LEN);

  /* Tor's hs_ed25519_secret_key holds the RFC 8032 expansion: the clamped
   * scalar, then the nonce prefix. */
  sha512_init (&ctx);
  sha512_update (&ctx, TC_SEED_LEN, self->seed);
  sha512_digest (&ctx, TC_EXPANDED_KEY_LEN, self->expanded);
  explicit_bzero (&ctx, sizeof ctx);
  self->expanded[0] &= 248;
  self->expanded[31] &= 127;
  self->expanded[31] |= 64;

  ed25519_sha512_public_key (self->public_key, self->seed);
  self->address = tc_address_from_public_key (self->public_key);

  return self;
}

static gboolean
fill_random (guint8  *buffer,
             gsize    length,
             GError **error)
{
  gsize done = 0;

  while (done < length)
    {
      ssize_t n = getrandom (buffer + done, length - done, 0);

      if (n < 0)
        {
          int saved = errno;

          if (saved == EINTR)
            continue;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not get random bytes for a new key: %s"),
                       g_strerror (saved));
          return FALSE;
        }

      done += (gsize) n;
    }

  return TRUE;
}

static gboolean
parse_key_file (const char *contents,
                gsize       length,
                guint8      seed[TC_SEED_LEN])
{
  static const char header[] = KEY_FILE_MAGIC "\n";
  char line[SEED_BASE64_LEN + 1];
  guint8 *decoded;
  gsize decoded_len = 0;
  gboolean ok = FALSE;
  gsize rest;

  if (length < sizeof header - 1 ||
      memcmp (contents, header, sizeof header - 1) != 0)
    return FALSE;

  contents += sizeof header - 1;
  rest = length - (sizeof header - 1);

  /* Exactly one line of base64, with or without its newline. */
  if (rest == SEED_BASE64_LEN + 1 && contents[SEED_BASE64_LEN] == '\n')
    rest--;
  if (rest != SEED_BASE64_LEN)
    return FALSE;

  memcpy (line, contents, SEED_BASE64_LEN);
  line[SEED_BASE64_LEN] = '\0';

  for (guint i = 0; i < SEED_BASE64_LEN; i++)
    if (!g_ascii_isalnum (line[i]) && line[i] != '+' && line[i] != '/' && line[i] != '=')
      goto out;

  decoded = g_base64_decode (line, &decoded_len);
  if (decoded_len == TC_SEED_LEN)
    {
      g_autofree char *again = g_base64_encode (decoded, decoded_len);

      /* Rejects non-canonical padding too: one file, one spelling. */
      if (strcmp (again, line) == 0)
        {
          memcpy (seed, decoded, TC_SEED_LEN);
          ok = TRUE;
        }
      explicit_bzero (again, strlen (again));
    }
  explicit_bzero (decoded, decoded_len);
  g_free (decoded);

out:
  explicit_bzero (line, sizeof line);
  return ok;
}

/* Returns 1 and fills @seed if @path holds a key, 0 if there is no file,
 * -1 with @error set otherwise. */
static int
read_key_file (const char  *path,
               guint8       seed[TC_SEED_LEN],
               GError     **error)
{
  char contents[KEY_FILE_MAX];
  gsize length = 0;
  struct stat st;
  int fd;
  int ret = -1;

  /* fstat on the open file, not stat then open: what we check is what we
   * read. */
  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      if (saved == ENOENT)
        return 0;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not open the key file %s: %s"), path, g_strerror (saved));
      return -1;
    }

  if (fstat (fd, &st) < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not read the key file %s: %s"), path, g_strerror (saved));
      goto out;
    }

  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("The key file %s is not a regular file"), path);
      goto out;
    }

  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The key file %s can be read by other users, who could then "
                     "impersonate you. Run “chmod 600 %s” and start again."),
                   path, path);
      goto out;
    }

  while (length < sizeof contents)
    {
      ssize_t n = read (fd, contents + length, sizeof contents - length);

      if (n < 0 && errno == EINTR)
        continue;

      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not read the key file %s: %s"), path, g_strerror (saved));
          goto out;
        }

      if (n == 0)
        break;

      length += (gsize) n;
    }

  if (!parse_key_file (contents, length, seed))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The key file %s is damaged or is not a TORChat key. It was "
                     "left as it is; restore it from a backup, or move it away to "
                     "create a new identity with a new address."),
                   path);
      goto out;
    }

  ret = 1;

out:
  explicit_bzero (contents, sizeof contents);
  close (fd);
  return ret;
}

static gboolean
write_key_file (const char    *path,
                const guint8   seed[TC_SEED_LEN],
                GError       **error)
{
  /* g_base64_encode_step() wants room to spare. */
  char contents[sizeof KEY_FILE_MAGIC + SEED_BASE64_LEN + 16];
  int state = 0;
  int save = 0;
  gsize n;
  gboolean ok;

  n = sizeof KEY_FILE_MAGIC - 1;
  memcpy (contents, KEY_FILE_MAGIC "\n", n + 1);
  n++;
  n += g_base64_encode_step (seed, TC_SEED_LEN, FALSE, contents + n, &state, &save);
  n += g_base64_encode_close (FALSE, contents + n, &state, &save);
  g_assert (n == sizeof KEY_FILE_MAGIC + SEED_BASE64_LEN);
  contents[n++] = '\n';

  ok = g_file_set_contents_full (path, contents, n,
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE,
                                 0600, error);
  explicit_bzero (contents, sizeof contents);

  if (!ok)
    g_prefix_error (error, _("Could not save the new key: "));

  return ok;
}

TcIdentity *
tc_identity_load_or_create (const char  *path,
                            GError     **error)
{
  guint8 seed[TC_SEED_LEN];
  TcIdentity *self = NULL;
  int found;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  found = read_key_file (path, seed, error);
  if (found < 0)
    return NULL;

  if (found == 0)
    {
      if (!fill_random (seed, sizeof seed, error) ||
          !write_key_file (path, seed, error))
        goto out;
    }

  self = tc_identity_new_from_seed (seed);

  if (found == 0)
    {
      g_autofree char *redacted = tc_address_redact (self->address);

      g_debug ("Created a new identity %s", redacted);
    }

out:
  explicit_bzero (seed, sizeof seed);
  return self;
}

const char *
tc_identity_get_address (TcIdentity *self)
{
  g_return_val_if_fail (TC_IS_IDENTITY (self), NULL);

  return self->address;
}

void
tc_identity_get_public_key (TcIdentity *self,
                            guint8      public_key[TC_PUBLIC_KEY_LEN])
{
  g_return_if_fail (TC_IS_IDENTITY (self));
  g_return_if_fail (public_key != NULL);

  memcpy (public_key, self->public_key, TC_PUBLIC_KEY_LEN);
}

void
tc_identity_get_expanded_key (TcIdentity *self,
                              guint8      expanded[TC_EXPANDED_KEY_LEN])
{
  g_return_if_fail (TC_IS_IDENTITY (self));
  g_return_if_fail (expanded != NULL);

  memcpy (expanded, self->expanded, TC_EXPANDED_KEY_LEN);
}

char *
tc_identity_dup_tor_key_blob (TcIdentity *self)
{
  static const char prefix[] = "ED25519-V3:";
  char blob[sizeof prefix + 96];
  int state = 0;
  int save = 0;
  gsize n = sizeof prefix - 1;
  char *ret;

  g_return_val_if_fail (TC_IS_IDENTITY (self), NULL);

  memcpy (blob, prefix, n);
  n += g_base64_encode_step (self->expanded, TC_EXPANDED_KEY_LEN, FALSE,
                             blob + n, &state, &save);
  n += g_base64_encode_close (FALSE, blob + n, &state, &save);
  /* 64 bytes are 88 base64 characters. */
  g_assert (n == sizeof prefix - 1 + 88);
  blob[n] = '\0';

  ret = g_strdup (blob);
  explicit_bzero (blob, sizeof blob);
  return ret;
}

void
tc_identity_sign (TcIdentity   *self,
                  const guint8 *data,
                  gsize         length,
                  guint8        signature[64])
{
  g_return_if_fail (TC_IS_IDENTITY (self));
  g_return_if_fail (data != NULL || length == 0);
  g_return_if_fail (signature != NULL);

  ed25519_sha512_sign (self->public_key, self->seed, length, data, signature);
}

gboolean
tc_identity_verify (const char   *address,
                    const guint8 *data,
                    gsize         length,
                    const guint8  signature[64])
{
  guint8 public_key[TC_PUBLIC_KEY_LEN];

  g_return_val_if_fail (data != NULL || length == 0, FALSE);
  g_return_val_if_fail (signature != NULL, FALSE);

  if (!tc_address_get_public_key (address, public_key))
    return FALSE;

  return ed25519_sha512_verify (public_key, length, data, signature) == 1;
}

/* The sealed form: a random 24-byte nonce, then the seed encrypted with
 * XChaCha20-Poly1305 (32 bytes and the 16-byte tag), the label below as
 * associated data. */
static const char seal_label[] = "torchat identity seed v1";

G_STATIC_ASSERT (TC_PROFILE_SEALED_IDENTITY_LEN ==
                 crypto_aead_xchacha20poly1305_ietf_NPUBBYTES + TC_SEED_LEN +
                 crypto_aead_xchacha20poly1305_ietf_ABYTES);
G_STATIC_ASSERT (TC_PROFILE_SUBKEY_LEN == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

void
tc_identity_seal (TcIdentity   *self,
                  const guint8  key[TC_PROFILE_SUBKEY_LEN],
                  guint8        sealed[TC_PROFILE_SEALED_IDENTITY_LEN])
{
  unsigned long long length = 0;

  g_return_if_fail (TC_IS_IDENTITY (self));
  g_return_if_fail (key != NULL);
  g_return_if_fail (sealed != NULL);

  randombytes_buf (sealed, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
  crypto_aead_xchacha20poly1305_ietf_encrypt (sealed + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                              &length, self->seed, TC_SEED_LEN,
                                              (const guint8 *) seal_label, sizeof seal_label - 1,
                                              NULL, sealed, key);
  g_assert (length == TC_SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES);
}

TcIdentity *
tc_identity_new_from_sealed (const guint8   sealed[TC_PROFILE_SEALED_IDENTITY_LEN],
                             const guint8   key[TC_PROFILE_SUBKEY_LEN],
                             GError       **error)
{
  guint8 *seed;
  unsigned long long length = 0;
  TcIdentity *self = NULL;

  g_return_val_if_fail (key != NULL, NULL);

  if (sealed == NULL)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED,
                           _("The profile key holds no identity"));
      return NULL;
    }

  if (sodium_init () < 0 || !(seed = sodium_malloc (TC_SEED_LEN)))
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                           _("Out of memory for the identity"));
      return NULL;
    }

  if (crypto_aead_xchacha20poly1305_ietf_decrypt (seed, &length, NULL,
                                                  sealed + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES,
                                                  TC_SEED_LEN + crypto_aead_xchacha20poly1305_ietf_ABYTES,
                                                  (const guint8 *) seal_label, sizeof seal_label - 1,
                                                  sealed, key) != 0 ||
      length != TC_SEED_LEN)
    g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED,
                         _("The identity in the profile key is damaged. Restore the "
                           "profile key from a backup."));
  else
    self = tc_identity_new_from_seed (seed);

  sodium_free (seed);
  return self;
}

TcIdentity *
tc_identity_new_random (GError **error)
{
  guint8 seed[TC_SEED_LEN];
  TcIdentity *self = NULL;

  if (fill_random (seed, sizeof seed, error))
    self = tc_identity_new_from_seed (seed);
  sodium_memzero (seed, sizeof seed);

  return self;
}

TcIdentity *
tc_identity_load (const char  *path,
                  GError     **error)
{
  guint8 seed[TC_SEED_LEN];
  TcIdentity *self = NULL;
  int found;

  g_return_val_if_fail (path != NULL, NULL);

  found = read_key_file (path, seed, error);
  if (found == 0)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                 _("The key file %s is missing"), path);
  else if (found > 0)
    self = tc_identity_new_from_seed (seed);

  sodium_memzero (seed, sizeof seed);
  return self;
}
