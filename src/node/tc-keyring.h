/* tc-keyring.h: a profile's passphrase remembered in the user's keyring
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* Off by default: nothing is stored until the user asks for it and the
 * window calls tc_keyring_store_async(). The keyring is the Secret Service
 * (GNOME Keyring, KWallet) or, inside Flatpak, the Secret portal; one item
 * per profile directory. What the window does with it:
 *   - at start: tc_keyring_lookup_async(); if a passphrase comes back, unlock
 *     with it; on TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE clear it and ask;
 *   - after "remember" is ticked and an unlock succeeded: store it;
 *   - after a change of passphrase: store the new one if one was stored
 *     (`torchat passphrase` does the same, tc_keyring_replace_sync());
 *   - "forget": tc_keyring_clear_async(). */
void      tc_keyring_store_async          (const char          *profile_dir,
                                           const char          *passphrase,
                                           gsize                length,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean  tc_keyring_store_finish         (GAsyncResult        *result,
                                           GError             **error);

/* NULL without an error when nothing is stored for @profile_dir. The text is
 * in memory that is not swapped; free it with tc_keyring_free_passphrase(). */
void      tc_keyring_lookup_async         (const char          *profile_dir,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
char     *tc_keyring_lookup_finish        (GAsyncResult        *result,
                                           GError             **error);
void      tc_keyring_free_passphrase      (char                *passphrase);

/* TRUE also when there was nothing to remove. */
void      tc_keyring_clear_async          (const char          *profile_dir,
                                           GCancellable        *cancellable,
                                           GAsyncReadyCallback  callback,
                                           gpointer             user_data);
gboolean  tc_keyring_clear_finish         (GAsyncResult        *result,
                                           GError             **error);

/* For `torchat passphrase`, which blocks: if the keyring keeps a passphrase
 * for @profile_dir, replaces it with @passphrase and sets *@replaced; where
 * none was kept it stores nothing (*@replaced FALSE, TRUE returned). */
gboolean  tc_keyring_replace_sync         (const char          *profile_dir,
                                           const char          *passphrase,
                                           gsize                length,
                                           gboolean            *replaced,
                                           GCancellable        *cancellable,
                                           GError             **error);

G_END_DECLS
