/* tc-conversation.h: the messages exchanged with one contact, as a list model
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-message.h"
#include "tc-store.h"

G_BEGIN_DECLS

#define TC_TYPE_CONVERSATION (tc_conversation_get_type ())

G_DECLARE_FINAL_TYPE (TcConversation, tc_conversation, TC, CONVERSATION, GObject)

/* A GListModel of TcMessage, oldest first. Items are read from the store in
 * pages when asked for and only a bounded number stays in memory, so a
 * conversation with 100,000 messages is not 100,000 objects. The same
 * TcMessage is returned for an id as long as someone holds it, so state
 * changes reach the views that show it. */
TcConversation *tc_conversation_new           (TcStore        *store,
                                               const char     *peer);
const char     *tc_conversation_get_peer      (TcConversation *self);

/* The node calls these after it stored the change. */
void            tc_conversation_append        (TcConversation *self,
                                               TcMessage      *message);
void            tc_conversation_update_state  (TcConversation *self,
                                               const char     *id,
                                               TcMessageState  state,
                                               GDateTime      *received_date);
void            tc_conversation_reload        (TcConversation *self);

G_END_DECLS
