/* tc-preferences-window.h: profile, notifications, Tor, window and files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_PREFERENCES_WINDOW (tc_preferences_window_get_type ())

G_DECLARE_FINAL_TYPE (TcPreferencesWindow, tc_preferences_window, TC, PREFERENCES_WINDOW, AdwPreferencesWindow)

/* @settings may be NULL (no schema installed): those rows are insensitive.
 * @node_options: the Tor was chosen on the command line for this run. */
GtkWidget *tc_preferences_window_new (GtkWindow *parent,
                                      TcNode    *node,
                                      GSettings *settings,
                                      gboolean   node_options);

G_END_DECLS
