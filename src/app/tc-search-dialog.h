/* tc-search-dialog.h: a search through every conversation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-window.h"

G_BEGIN_DECLS

#define TC_TYPE_SEARCH_DIALOG (tc_search_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TcSearchDialog, tc_search_dialog, TC, SEARCH_DIALOG, AdwWindow)

/* Over @window; a chosen result opens its conversation there, at the
 * message, and closes the dialog. @text: what to search for first. */
GtkWidget *tc_search_dialog_new (TcWindow   *window,
                                 const char *text);

G_END_DECLS
