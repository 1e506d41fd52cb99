/* tc-profile-key.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "tc-profile-key.h"

/* The header, byte by byte, is in docs/architecture.md ("Profile header").
 * Integers are little-endian. */
#define HEADER_MAGIC "TCPROFIL"
#define HEADER_VERSION 1
#define OFF_VERSION 8
#define OFF_ALG 12
#define OFF_OPSLIMIT 16
#define OFF_MEMLIMIT 24
#define OFF_SALT 32
#define OFF_NONCE 48
#define OFF_WRAPPED 72
#define OFF_IDENTITY 120
#define OFF_CHECKSUM 192
#define WRAPPED_LEN (crypto_kdf_KEYBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES)
#define CHECKSUM_LEN 32

G_STATIC_ASSERT (OFF_SALT + crypto_pwhash_SALTBYTES == OFF_NONCE);
G_STATIC_ASSERT (OFF_NONCE + crypto_aead_xchacha20poly1305_ietf_NPUBBYTES == OFF_WRAPPED);
G_STATIC_ASSERT (OFF_WRAPPED + WRAPPED_LEN == OFF_IDENTITY);
G_STATIC_ASSERT (OFF_IDENTITY + TC_PROFILE_SEALED_IDENTITY_LEN == OFF_CHECKSUM);
G_STATIC_ASSERT (OFF_CHECKSUM + CHECKSUM_LEN == TC_PROFILE_HEADER_LEN);
G_STATIC_ASSERT (crypto_kdf_KEYBYTES == 32);
G_STATIC_ASSERT (crypto_pwhash_ALG_ARGON2ID13 == 2);

/* Argon2id, t = 3, m = 256 MiB, one lane: 0.4 s on the 2-core development
 * machine (docs/benchmarks.md), libsodium's "moderate" level. */
#define DEFAULT_OPSLIMIT TC_PROFILE_KEY_DEFAULT_OPSLIMIT
#define DEFAULT_MEMLIMIT TC_PROFILE_KEY_DEFAULT_MEMLIMIT
/* What a header may ask for: a damaged or hostile one must not make the
 * unlock take hours or all the memory. */
#define MAX_OPSLIMIT 32
#define MAX_MEMLIMIT (G_GUINT64_CONSTANT (4) * 1024 * 1024 * 1024)

/* crypto_kdf context: 8 bytes naming what the subkeys are for. */
static const char kdf_context[crypto_kdf_CONTEXTBYTES] = "TCprofil";

typedef struct
{
  guint8 key[crypto_kdf_KEYBYTES];
  guint8 identity[TC_PROFILE_SEALED_IDENTITY_LEN];
} Secrets;

struct _TcProfileKey
{
  GObject   parent_instance;

  Secrets  *secrets;          /* sodium_malloc: locked, guarded, wiped on free */
  gboolean  has_identity;
  guint64   opslimit;
  guint64   memlimit;
};

G_DEFINE_FINAL_TYPE (TcProfileKey, tc_profile_key, G_TYPE_OBJECT)
G_DEFINE_QUARK (tc-profile-key-error-quark, tc_profile_key_error)

static void
tc_profile_key_finalize (GObject *object)
{
  TcProfileKey *self = TC_PROFILE_KEY (object);

  g_clear_pointer (&self->secrets, sodium_free);

  G_OBJECT_CLASS (tc_profile_key_parent_class)->finalize (object);
}

static void
tc_profile_key_class_init (TcProfileKeyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = tc_profile_key_finalize;
}

static void
tc_profile_key_init (TcProfileKey *self)
{
  self->opslimit = DEFAULT_OPSLIMIT;
  self->memlimit = DEFAULT_MEMLIMIT;
}

static TcProfileKey *
profile_key_alloc (GError **error)
{
  g_autoptr(TcProfileKey) self = NULL;

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_FAILED,
                           _("Could not initialise libsodium"));
      return NULL;
    }

  self = g_object_new (TC_TYPE_PROFILE_KEY, NULL);
  /* sodium_malloc() locks the pages where the system lets it (mlock), so
   * the key is not written to swap, and wipes them in sodium_free(). */
  self->secrets = sodium_malloc (sizeof *self->secrets);
  if (self->secrets == NULL)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                           _("Out of memory for the profile key"));
      return NULL;
    }
  sodium_memzero (self->secrets, sizeof *self->secrets);

  return g_steal_pointer (&self);
}

TcProfileKey *
tc_profile_key_new (GError **error)
{
  TcProfileKey *self = profile_key_alloc (error);

  if (self != NULL)
    crypto_kdf_keygen (self->secrets->key);

  return self;
}

static void
put_u32 (guint8  *p,
         guint32  v)
{
  for (guint i = 0; i < 4; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static void
put_u64 (guint8  *p,
         guint64  v)
{
  for (guint i = 0; i < 8; i++)
    p[i] = (v >> (8 * i)) & 0xff;
}

static guint32
get_u32 (const guint8 *p)
{
  guint32 v = 0;

  for (guint i = 0; i < 4; i++)
    v |= (guint32) p[i] << (8 * i);
  return v;
}

static guint64
get_u64 (const guint8 *p)
{
  guint64 v = 0;

  for (guint i = 0; i < 8; i++)
    v |= (guint64) p[i] << (8 * i);
  return v;
}

/* Argon2id of the passphrase into @kek (locked memory of the caller). */
static gboolean
derive_kek (const char    *passphrase,
            gsize          length,
            const guint8  *salt,
            guint64        opslimit,
            guint64        memlimit,
            guint8        *kek,
            GError       **error)
{
  if (length == 0)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_EMPTY_PASSPHRASE,
                           _("The passphrase is empty"));
      return FALSE;
    }

  if (crypto_pwhash (kek, crypto_aead_xchacha20poly1305_ietf_KEYBYTES,
                     passphrase, length, salt, opslimit, (size_t) memlimit,
                     crypto_pwhash_ALG_ARGON2ID13) != 0)
    {
      g_set_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                   _("Not enough memory to unlock the profile (the key derivation "
                     "needs %llu MiB)"), (unsigned long long) (memlimit / (1024 * 1024)));
      return FALSE;
    }

  return TRUE;
}

GBytes *
tc_profile_key_seal_header (TcProfileKey  *self,
                            const char    *passphrase,
                            gsize          length,
                            GError       **error)
{
  guint8 header[TC_PROFILE_HEADER_LEN];
  guint8 *kek;
  unsigned long long wrapped_len = 0;
  gboolean ok;

  g_return_val_if_fail (TC_IS_PROFILE_KEY (self), NULL);
  g_return_val_if_fail (passphrase != NULL || length == 0, NULL);

  memset (header, 0, sizeof header);
  memcpy (header, HEADER_MAGIC, 8);
  put_u32 (header + OFF_VERSION, HEADER_VERSION);
  put_u32 (header + OFF_ALG, crypto_pwhash_ALG_ARGON2ID13);
  put_u64 (header + OFF_OPSLIMIT, self->opslimit);
  put_u64 (header + OFF_MEMLIMIT, self->memlimit);
  randombytes_buf (header + OFF_SALT, crypto_pwhash_SALTBYTES);
  randombytes_buf (header + OFF_NONCE, crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);

  if (!(kek = sodium_malloc (crypto_aead_xchacha20poly1305_ietf_KEYBYTES)))
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                           _("Out of memory for the profile key"));
      return NULL;
    }

  ok = derive_kek (passphrase, length, header + OFF_SALT, self->opslimit, self->memlimit,
                   kek, error);
  if (ok)
    {
      /* The associated data binds the KDF parameters and salt to the key. */
      crypto_aead_xchacha20poly1305_ietf_encrypt (header + OFF_WRAPPED, &wrapped_len,
                                                  self->secrets->key, crypto_kdf_KEYBYTES,
                                                  header, OFF_SALT + crypto_pwhash_SALTBYTES,
                                                  NULL, header + OFF_NONCE, kek);
      g_assert (wrapped_len == WRAPPED_LEN);
      if (self->has_identity)
        memcpy (header + OFF_IDENTITY, self->secrets->identity, TC_PROFILE_SEALED_IDENTITY_LEN);
      crypto_generichash (header + OFF_CHECKSUM, CHECKSUM_LEN, header, OFF_CHECKSUM, NULL, 0);
    }
  sodium_free (kek);

  return ok ? g_bytes_new (header, sizeof header) : NULL;
}

gboolean
tc_profile_key_write (TcProfileKey  *self,
                      const char    *path,
                      const char    *passphrase,
                      gsize          length,
                      GError       **error)
{
  g_autoptr(GBytes) header = NULL;

  g_return_val_if_fail (TC_IS_PROFILE_KEY (self), FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  if (!(header = tc_profile_key_seal_header (self, passphrase, length, error)))
    return FALSE;

  /* A temporary file, fsync, rename, fsync of the directory: after a crash
   * the old header or the new one is there, whole. */
  if (!g_file_set_contents_full (path, g_bytes_get_data (header, NULL),
                                 g_bytes_get_size (header),
                                 G_FILE_SET_CONTENTS_CONSISTENT |
                                 G_FILE_SET_CONTENTS_DURABLE,
                                 0600, error))
    {
      g_prefix_error (error, _("Could not save the profile key: "));
      return FALSE;
    }

  return TRUE;
}

/* Reads the whole header into @header; checks size, magic, version and
 * checksum, and that the parameters are ones we accept. */
static gboolean
read_header (const char  *path,
             guint8       header[TC_PROFILE_HEADER_LEN],
             GError     **error)
{
  guint8 buffer[TC_PROFILE_HEADER_LEN + 1];
  guint8 checksum[CHECKSUM_LEN];
  gsize length = 0;
  struct stat st;
  guint64 opslimit, memlimit;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not open the profile key %s: %s"), path, g_strerror (saved));
      return FALSE;
    }

  if (fstat (fd, &st) < 0 || !S_ISREG (st.st_mode))
    {
      g_set_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED,
                   _("The profile key %s is not a regular file"), path);
      close (fd);
      return FALSE;
    }

  /* One byte more than a header: a longer file is not one. */
  while (length < sizeof buffer)
    {
      ssize_t n = read (fd, buffer + length, sizeof buffer - length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not read the profile key %s: %s"), path, g_strerror (saved));
          close (fd);
          return FALSE;
        }
      if (n == 0)
        break;
      length += (gsize) n;
    }
  close (fd);

  if (length < 8 || memcmp (buffer, HEADER_MAGIC, 8) != 0)
    {
      g_set_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED,
                   _("%s is not a TORChat profile key"), path);
      return FALSE;
    }

  if (length >= OFF_VERSION + 4 && get_u32 (buffer + OFF_VERSION) > HEADER_VERSION)
    {
      g_set_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NEWER,
                   _("The profile key %s was written by a newer version of TORChat "
                     "(format %u). Update TORChat to open it."),
                   path, get_u32 (buffer + OFF_VERSION));
      return FALSE;
    }

  if (length != TC_PROFILE_HEADER_LEN)
    {
      g_set_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED,
                   _("The profile key %s is damaged (%llu bytes instead of %d). "
                     "Restore it from a backup: without it the profile cannot be opened."),
                   path, (unsigned long long) length, TC_PROFILE_HEADER_LEN);
      return FALSE;
    }

  crypto_generichash (checksum, sizeof checksum, buffer, OFF_CHECKSUM, NULL, 0);
  opslimit = get_u64 (buffer + OFF_OPSLIMIT);
  memlimit = get_u64 (buffer + OFF_MEMLIMIT);

  if (sodium_memcmp (checksum, buffer + OFF_CHECKSUM, CHECKSUM_LEN) != 0 ||
      get_u32 (buffer + OFF_VERSION) != HEADER_VERSION ||
      get_u32 (buffer + OFF_ALG) != crypto_pwhash_ALG_ARGON2ID13 ||
      opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > MAX_OPSLIMIT ||
      memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > MAX_MEMLIMIT ||
      memlimit > SIZE_MAX)
    {
      g_set_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_DAMAGED,
                   _("The profile key %s is damaged. Restore it from a backup: "
                     "without it the profile cannot be opened."), path);
      return FALSE;
    }

  memcpy (header, buffer, TC_PROFILE_HEADER_LEN);
  return TRUE;
}

gboolean
tc_profile_key_check_file (const char  *path,
                           GError     **error)
{
  guint8 header[TC_PROFILE_HEADER_LEN];

  g_return_val_if_fail (path != NULL, FALSE);

  if (sodium_init () < 0)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_FAILED,
                           _("Could not initialise libsodium"));
      return FALSE;
    }

  return read_header (path, header, error);
}

TcProfileKey *
tc_profile_key_unlock (const char    *path,
                       const char    *passphrase,
                       gsize          length,
                       GCancellable  *cancellable,
                       GError       **error)
{
  g_autoptr(TcProfileKey) self = NULL;
  guint8 header[TC_PROFILE_HEADER_LEN];
  guint8 *kek;
  unsigned long long key_len = 0;
  int rc;

  g_return_val_if_fail (path != NULL, NULL);
  g_return_val_if_fail (passphrase != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (!(self = profile_key_alloc (error)) ||
      !read_header (path, header, error))
    return NULL;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;

  self->opslimit = get_u64 (header + OFF_OPSLIMIT);
  self->memlimit = get_u64 (header + OFF_MEMLIMIT);

  if (!(kek = sodium_malloc (crypto_aead_xchacha20poly1305_ietf_KEYBYTES)))
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                           _("Out of memory for the profile key"));
      return NULL;
    }

  if (!derive_kek (passphrase, length, header + OFF_SALT, self->opslimit, self->memlimit,
                   kek, error))
    {
      sodium_free (kek);
      return NULL;
    }

  /* The tag is the key check: the checksum held, so a failure here is the
   * passphrase (or a header forged with a valid checksum, which gets no
   * further either). */
  rc = crypto_aead_xchacha20poly1305_ietf_decrypt (self->secrets->key, &key_len, NULL,
                                                   header + OFF_WRAPPED, WRAPPED_LEN,
                                                   header, OFF_SALT + crypto_pwhash_SALTBYTES,
                                                   header + OFF_NONCE, kek);
  sodium_free (kek);

  if (rc != 0 || key_len != crypto_kdf_KEYBYTES)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE,
                           _("Wrong passphrase"));
      return NULL;
    }

  memcpy (self->secrets->identity, header + OFF_IDENTITY, TC_PROFILE_SEALED_IDENTITY_LEN);
  self->has_identity = !sodium_is_zero (self->secrets->identity, TC_PROFILE_SEALED_IDENTITY_LEN);

  return g_steal_pointer (&self);
}

typedef struct
{
  char  *path;
  char  *passphrase;   /* sodium_malloc */
  gsize  length;
} UnlockData;

static void
unlock_data_free (UnlockData *data)
{
  g_free (data->path);
  g_clear_pointer (&data->passphrase, sodium_free);
  g_free (data);
}

static void
unlock_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  UnlockData *data = task_data;
  GError *error = NULL;
  TcProfileKey *key;

  key = tc_profile_key_unlock (data->path, data->passphrase, data->length, cancellable, &error);
  if (key == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, key, g_object_unref);
}

void
tc_profile_key_unlock_async (const char          *path,
                             const char          *passphrase,
                             gsize                length,
                             GCancellable        *cancellable,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  UnlockData *data;

  g_return_if_fail (path != NULL);
  g_return_if_fail (passphrase != NULL || length == 0);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_profile_key_unlock_async);

  data = g_new0 (UnlockData, 1);
  data->path = g_strdup (path);
  data->length = length;
  data->passphrase = sodium_init () >= 0 ? sodium_malloc (length + 1) : NULL;
  if (data->passphrase == NULL)
    {
      unlock_data_free (data);
      g_task_return_new_error (task, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                               _("Out of memory for the passphrase"));
      return;
    }
  if (length > 0)
    memcpy (data->passphrase, passphrase, length);
  data->passphrase[length] = '\0';

  g_task_set_task_data (task, data, (GDestroyNotify) unlock_data_free);
  g_task_run_in_thread (task, unlock_thread);
}

TcProfileKey *
tc_profile_key_unlock_finish (GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
tc_profile_key_derive (TcProfileKey    *self,
                       TcProfileSubkey  id,
                       guint8           subkey[TC_PROFILE_SUBKEY_LEN])
{
  g_return_if_fail (TC_IS_PROFILE_KEY (self));
  g_return_if_fail (subkey != NULL);

  crypto_kdf_derive_from_key (subkey, TC_PROFILE_SUBKEY_LEN, (guint64) id, kdf_context,
                              self->secrets->key);
}

const guint8 *
tc_profile_key_get_sealed_identity (TcProfileKey *self)
{
  g_return_val_if_fail (TC_IS_PROFILE_KEY (self), NULL);

  return self->has_identity ? self->secrets->identity : NULL;
}

void
tc_profile_key_set_sealed_identity (TcProfileKey *self,
                                    const guint8  sealed[TC_PROFILE_SEALED_IDENTITY_LEN])
{
  g_return_if_fail (TC_IS_PROFILE_KEY (self));
  g_return_if_fail (sealed != NULL);

  memcpy (self->secrets->identity, sealed, TC_PROFILE_SEALED_IDENTITY_LEN);
  self->has_identity = TRUE;
}

void
tc_profile_key_get_kdf_cost (TcProfileKey *self,
                             guint64      *opslimit,
                             guint64      *memlimit)
{
  g_return_if_fail (TC_IS_PROFILE_KEY (self));

  if (opslimit != NULL)
    *opslimit = self->opslimit;
  if (memlimit != NULL)
    *memlimit = self->memlimit;
}

void
_tc_profile_key_set_kdf_cost (TcProfileKey *self,
                              guint64       opslimit,
                              guint64       memlimit)
{
  g_return_if_fail (TC_IS_PROFILE_KEY (self));
  g_return_if_fail (opslimit >= crypto_pwhash_OPSLIMIT_MIN && opslimit <= MAX_OPSLIMIT);
  g_return_if_fail (memlimit >= crypto_pwhash_MEMLIMIT_MIN && memlimit <= MAX_MEMLIMIT);

  self->opslimit = opslimit;
  self->memlimit = memlimit;
}
