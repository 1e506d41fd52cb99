/* tc-transfers-window.h: every file transfer of the profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_TRANSFERS_WINDOW (tc_transfers_window_get_type ())

G_DECLARE_FINAL_TYPE (TcTransfersWindow, tc_transfers_window, TC, TRANSFERS_WINDOW, AdwWindow)

GtkWidget *tc_transfers_window_new (GtkWindow *parent,
                                    TcNode    *node);

G_END_DECLS
