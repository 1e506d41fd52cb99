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
 * message, and hides the dialog (closing hides it too: one per window,
 * kept, since GTK 4.8's accessibility bridge may still be asked about a
 * destroyed one's widgets). */
GtkWidget *tc_search_dialog_new      (TcWindow       *window);
/* What to search for, the entry focused; NULL keeps the last search. */
void       tc_search_dialog_set_text (TcSearchDialog *self,
                                      const char     *text);

G_END_DECLS
