/* tc-profile.h: the files of a profile, plaintext or encrypted
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-identity.h"
#include "tc-profile-key.h"
#include "tc-store.h"

G_BEGIN_DECLS

typedef enum {
  TC_PROFILE_KIND_NEW,         /* nothing on disk yet */
  TC_PROFILE_KIND_PLAINTEXT,   /* identity.key and a plaintext database */
  TC_PROFILE_KIND_ENCRYPTED,   /* profile.key and a SQLCipher database */
} TcProfileKind;

#define TC_PROFILE_KEY_FILE "profile.key"
#define TC_PROFILE_IDENTITY_FILE "identity.key"
#define TC_PROFILE_DATABASE_FILE "torchat.db"

/* Everything here expects the caller to hold the profile lock. */

/* Finishes an encryption that was interrupted after its commit point, or
 * removes what one left before it, then says what the profile is. */
gboolean  tc_profile_recover             (const char     *dir,
                                          TcProfileKind  *kind,
                                          GError        **error);

/* Opens the profile (blocking: Argon2id for an encrypted one, so call it
 * from a thread where that matters). A new profile is created encrypted
 * with @passphrase, or plaintext when @passphrase is NULL; a plaintext one
 * takes no passphrase; an encrypted one needs it. */
gboolean  tc_profile_open                (const char     *dir,
                                          TcProfileKind   kind,
                                          const char     *passphrase,
                                          gsize           length,
                                          TcIdentity    **identity,
                                          TcStore       **store,
                                          GCancellable   *cancellable,
                                          GError        **error);

/* Rewrites the profile key for @new_passphrase once @old_passphrase has
 * unlocked it; one atomic rename, so after a crash exactly one of the two
 * opens the profile. Blocking (two Argon2id runs). */
gboolean  tc_profile_change_passphrase   (const char     *dir,
                                          const char     *old_passphrase,
                                          gsize           old_length,
                                          const char     *new_passphrase,
                                          gsize           new_length,
                                          GCancellable   *cancellable,
                                          GError        **error);

/* Encrypting a plaintext profile, in two halves: the first (blocking,
 * Argon2id, no file touched) may run in a thread; the second rewrites the
 * open @store into an encrypted database, writes the profile key (the
 * commit point), puts the new database in place, wipes and removes the
 * plaintext database and identity.key, and reopens @store on the new file. */
TcProfileKey *tc_profile_prepare_encryption (TcIdentity   *identity,
                                             const char   *passphrase,
                                             gsize         length,
                                             GBytes      **header,
                                             GError      **error);
gboolean  tc_profile_finish_encryption   (const char     *dir,
                                          TcStore        *store,
                                          TcProfileKey   *key,
                                          GBytes         *header,
                                          GError        **error);

G_END_DECLS
