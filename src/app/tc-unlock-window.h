/* tc-unlock-window.h: the window before the profile is open: choose a
 * passphrase for a new profile, or unlock an encrypted one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_UNLOCK_WINDOW (tc_unlock_window_get_type ())

G_DECLARE_FINAL_TYPE (TcUnlockWindow, tc_unlock_window, TC, UNLOCK_WINDOW, AdwApplicationWindow)

/* @node is locked, its profile NEW or ENCRYPTED. The window unlocks it
 * (Argon2id in a thread; the window stays responsive) and emits
 * "unlocked" once tc_node_get_unlocked() is TRUE. */
GtkWidget  *tc_unlock_window_new              (GtkApplication *application,
                                               TcNode         *node,
                                               const char     *profile_dir);

/* A rough strength of a new passphrase, 0 (too weak) to 4, and a hint to
 * show under it. Also used by the security page of Preferences. */
guint       tc_unlock_window_rate_passphrase  (const char     *text,
                                               const char    **hint);
/* libadwaita 1.2 gives the icon buttons of an AdwPasswordEntryRow no
 * accessible name (GTK 4.8 does not take the tooltip for one): names the
 * eye after what it does next, "Show Passphrase" or "Hide Passphrase", and
 * the (hidden) Apply button after its tooltip. */
void        tc_unlock_window_name_row_buttons (GtkWidget      *row);

G_END_DECLS
