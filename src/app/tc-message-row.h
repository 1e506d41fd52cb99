/* tc-message-row.h: one message of a conversation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tc-message.h"

G_BEGIN_DECLS

#define TC_TYPE_MESSAGE_ROW (tc_message_row_get_type ())

G_DECLARE_FINAL_TYPE (TcMessageRow, tc_message_row, TC, MESSAGE_ROW, GtkWidget)

GtkWidget *tc_message_row_new       (void);
TcMessage *tc_message_row_get_item  (TcMessageRow *self);
void       tc_message_row_set_item  (TcMessageRow *self,
                                     TcMessage    *item);
/* Marks the message for a moment: the one a search result led to. */
void       tc_message_row_flash     (TcMessageRow *self);

G_END_DECLS
