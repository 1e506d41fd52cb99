/* tc-message.h: one chat message
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-types.h"

G_BEGIN_DECLS

#define TC_TYPE_MESSAGE (tc_message_get_type ())

G_DECLARE_FINAL_TYPE (TcMessage, tc_message, TC, MESSAGE, GObject)

/* Properties:
 *   id             string, construct-only, the MID
 *   peer           string, construct-only, the contact's address
 *   text           string, construct-only
 *   direction      TcMessageDirection, construct-only
 *   date           GDateTime, construct-only: when the sender wrote it (the
 *                  wire "date")
 *   received-date  GDateTime (may be NULL): when it was stored here
 *                  (incoming) or when its receipt arrived (outgoing)
 *   state          TcMessageState, notifies on change
 */
TcMessage          *tc_message_new                (const char         *id,
                                                   const char         *peer,
                                                   const char         *text,
                                                   TcMessageDirection  direction,
                                                   GDateTime          *date,
                                                   GDateTime          *received_date,
                                                   TcMessageState      state);

const char         *tc_message_get_id             (TcMessage          *self);
const char         *tc_message_get_peer           (TcMessage          *self);
const char         *tc_message_get_text           (TcMessage          *self);
TcMessageDirection  tc_message_get_direction      (TcMessage          *self);
GDateTime          *tc_message_get_date           (TcMessage          *self);
GDateTime          *tc_message_get_received_date  (TcMessage          *self);
void                tc_message_set_received_date  (TcMessage          *self,
                                                   GDateTime          *date);
TcMessageState      tc_message_get_state          (TcMessage          *self);
void                tc_message_set_state          (TcMessage          *self,
                                                   TcMessageState      state);

G_END_DECLS
