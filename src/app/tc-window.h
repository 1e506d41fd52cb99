/* tc-window.h: the main window: contact list and conversation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_WINDOW (tc_window_get_type ())

G_DECLARE_FINAL_TYPE (TcWindow, tc_window, TC, WINDOW, AdwApplicationWindow)

/* Properties:
 *   node      TcNode, construct-only
 *   contact   TcContact, the one whose conversation is shown (may be NULL)
 */
TcWindow  *tc_window_new             (GtkApplication *application,
                                      TcNode         *node);
TcNode    *tc_window_get_node        (TcWindow       *self);
TcContact *tc_window_get_contact     (TcWindow       *self);
void       tc_window_set_contact     (TcWindow       *self,
                                      TcContact      *contact);
/* Shows the conversation with @address; FALSE if it is not a contact. */
gboolean   tc_window_select_address  (TcWindow       *self,
                                      const char     *address);
/* Opens @message's conversation scrolled to it (the page of the history
 * around it is read, not all of it) and marks it for a moment; FALSE with
 * a toast when it is no longer in the history. */
gboolean   tc_window_show_message    (TcWindow       *self,
                                      TcMessage      *message);
/* TRUE when the window is focused and shows that conversation. */
gboolean   tc_window_is_conversation_in_view (TcWindow   *self,
                                              const char *address);
void       tc_window_add_toast       (TcWindow       *self,
                                      const char     *text);
void       tc_window_show_error      (TcWindow       *self,
                                      const GError   *error);

G_END_DECLS
