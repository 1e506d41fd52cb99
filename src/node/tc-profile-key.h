/* tc-profile-key.h: the key of an encrypted profile and its header file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TC_PROFILE_KEY_ERROR (tc_profile_key_error_quark ())

typedef enum {
  TC_PROFILE_KEY_ERROR_FAILED,
  TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE,
  TC_PROFILE_KEY_ERROR_DAMAGED,        /* truncated, altered, or not a header */
  TC_PROFILE_KEY_ERROR_NEWER,          /* a header version this build does not know */
  TC_PROFILE_KEY_ERROR_EMPTY_PASSPHRASE,
  TC_PROFILE_KEY_ERROR_NO_MEMORY,      /* the KDF could not get its memory */
} TcProfileKeyError;

/* What the identity sealed inside the header takes (tc-identity.c): a
 * 24-byte nonce and the 32-byte seed with its 16-byte tag. */
#define TC_PROFILE_SEALED_IDENTITY_LEN (24 + 32 + 16)
#define TC_PROFILE_SUBKEY_LEN 32
#define TC_PROFILE_HEADER_LEN 224
/* Argon2id cost of new headers: t = 3, m = 256 MiB, one lane. */
#define TC_PROFILE_KEY_DEFAULT_OPSLIMIT 3
#define TC_PROFILE_KEY_DEFAULT_MEMLIMIT (256 * 1024 * 1024)

typedef enum {
  TC_PROFILE_SUBKEY_DATABASE = 1,
  TC_PROFILE_SUBKEY_IDENTITY = 2,
} TcProfileSubkey;

#define TC_TYPE_PROFILE_KEY (tc_profile_key_get_type ())

G_DECLARE_FINAL_TYPE (TcProfileKey, tc_profile_key, TC, PROFILE_KEY, GObject)

GQuark        tc_profile_key_error_quark         (void);

/* A new random profile key, with the default KDF cost and no identity. */
TcProfileKey *tc_profile_key_new                 (GError        **error);

/* Reads the header at @path and unlocks it with @passphrase (@length bytes;
 * the caller wipes it). Runs Argon2id: call it from a thread, or use the
 * async form. */
TcProfileKey *tc_profile_key_unlock              (const char     *path,
                                                  const char     *passphrase,
                                                  gsize           length,
                                                  GCancellable   *cancellable,
                                                  GError        **error);
void          tc_profile_key_unlock_async        (const char     *path,
                                                  const char     *passphrase,
                                                  gsize           length,
                                                  GCancellable   *cancellable,
                                                  GAsyncReadyCallback callback,
                                                  gpointer        user_data);
TcProfileKey *tc_profile_key_unlock_finish       (GAsyncResult   *result,
                                                  GError        **error);

/* Writes the header for @passphrase to @path, atomically and with mode
 * 0600, with a new salt (creating a profile, or changing its passphrase:
 * the profile key stays, so nothing else on disk changes). Runs Argon2id. */
gboolean      tc_profile_key_write               (TcProfileKey   *self,
                                                  const char     *path,
                                                  const char     *passphrase,
                                                  gsize           length,
                                                  GError        **error);
/* The same as bytes, for a caller that writes the file itself. */
GBytes       *tc_profile_key_seal_header         (TcProfileKey   *self,
                                                  const char     *passphrase,
                                                  gsize           length,
                                                  GError        **error);

/* A subkey of the profile key (libsodium's crypto_kdf). */
void          tc_profile_key_derive              (TcProfileKey   *self,
                                                  TcProfileSubkey id,
                                                  guint8          subkey[TC_PROFILE_SUBKEY_LEN]);

/* The identity seed as sealed by tc_identity_seal(); NULL until set. */
const guint8 *tc_profile_key_get_sealed_identity (TcProfileKey   *self);
void          tc_profile_key_set_sealed_identity (TcProfileKey   *self,
                                                  const guint8    sealed[TC_PROFILE_SEALED_IDENTITY_LEN]);

/* Argon2id cost of the header (new keys: the default). */
void          tc_profile_key_get_kdf_cost        (TcProfileKey   *self,
                                                  guint64        *opslimit,
                                                  guint64        *memlimit);
/* Lower cost for tests only; unlocking honours what the header says. */
void          _tc_profile_key_set_kdf_cost       (TcProfileKey   *self,
                                                  guint64         opslimit,
                                                  guint64         memlimit);

/* The format of @path, without a passphrase: TRUE when it is a header this
 * build can unlock (the checksum holds). */
gboolean      tc_profile_key_check_file          (const char     *path,
                                                  GError        **error);

G_END_DECLS
