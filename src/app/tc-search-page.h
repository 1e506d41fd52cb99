/* tc-search-page.h: the messages that hold the words searched for
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_SEARCH_PAGE (tc_search_page_get_type ())

G_DECLARE_FINAL_TYPE (TcSearchPage, tc_search_page, TC, SEARCH_PAGE, GtkWidget)

/* Results of the node's full-text search, newest first: who, a line of
 * the message around the words, and when. Emits "message-activated" with
 * the TcMessage of the result the user chose. */
GtkWidget  *tc_search_page_new          (void);
void        tc_search_page_set_node     (TcSearchPage *self,
                                         TcNode       *node);
/* Only the conversation with @address; NULL: all of them. */
void        tc_search_page_set_address  (TcSearchPage *self,
                                         const char   *address);
const char *tc_search_page_get_address  (TcSearchPage *self);
/* Searches now; an empty @text shows the hint. */
void        tc_search_page_set_text     (TcSearchPage *self,
                                         const char   *text);
/* Activates the first result, if there is one (Enter in the entry). */
gboolean    tc_search_page_activate_first (TcSearchPage *self);

G_END_DECLS
