/* tc-identity.h: the profile's Ed25519 onion identity
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-address.h"
#include "tc-profile-key.h"

G_BEGIN_DECLS

#define TC_SEED_LEN 32
#define TC_EXPANDED_KEY_LEN 64

#define TC_TYPE_IDENTITY (tc_identity_get_type ())

G_DECLARE_FINAL_TYPE (TcIdentity, tc_identity, TC, IDENTITY, GObject)

/* Reads the seed from @path, or makes a new one from the system's random
 * source and writes it there with mode 0600 (atomically: no half-written key
 * file survives a crash). Refuses a key file readable by others. */
TcIdentity *tc_identity_load_or_create     (const char    *path,
                                            GError       **error);
TcIdentity *tc_identity_new_from_seed      (const guint8   seed[TC_SEED_LEN]);
/* A plaintext profile's key file, which must exist. */
TcIdentity *tc_identity_load               (const char    *path,
                                            GError       **error);
/* A new identity from the system's random source, written nowhere. */
TcIdentity *tc_identity_new_random         (GError       **error);

/* An encrypted profile's identity: the seed sealed (XChaCha20-Poly1305)
 * under the profile's identity subkey, kept in the profile header. */
void        tc_identity_seal               (TcIdentity    *self,
                                            const guint8   key[TC_PROFILE_SUBKEY_LEN],
                                            guint8         sealed[TC_PROFILE_SEALED_IDENTITY_LEN]);
TcIdentity *tc_identity_new_from_sealed    (const guint8   sealed[TC_PROFILE_SEALED_IDENTITY_LEN],
                                            const guint8   key[TC_PROFILE_SUBKEY_LEN],
                                            GError       **error);

const char *tc_identity_get_address        (TcIdentity    *self);
void        tc_identity_get_public_key     (TcIdentity    *self,
                                            guint8         public_key[TC_PUBLIC_KEY_LEN]);
/* SHA-512 of the seed, clamped: the key Tor keeps in hs_ed25519_secret_key. */
void        tc_identity_get_expanded_key   (TcIdentity    *self,
                                            guint8         expanded[TC_EXPANDED_KEY_LEN]);
/* "ED25519-V3:<base64 of the expanded key>", for ADD_ONION. */
char       *tc_identity_dup_tor_key_blob   (TcIdentity    *self);

void        tc_identity_sign               (TcIdentity    *self,
                                            const guint8  *data,
                                            gsize          length,
                                            guint8         signature[64]);
/* Checks @signature against the key inside @address. */
gboolean    tc_identity_verify             (const char    *address,
                                            const guint8  *data,
                                            gsize          length,
                                            const guint8   signature[64]);

G_END_DECLS
