/* tc-types.h: enumerations shared by the node's objects
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The TORChat wire version this node speaks. */
#define TC_PROTOCOL_MAJOR 1
#define TC_PROTOCOL_MINOR 0
#define TC_PROTOCOL_VERSION "1.0"
#define TC_VIRTUAL_PORT 11009

typedef enum {
  TC_CONTACT_STATE_REQUESTED,  /* we asked them */
  TC_CONTACT_STATE_PENDING,    /* they asked us */
  TC_CONTACT_STATE_ACCEPTED,
  TC_CONTACT_STATE_DECLINED,
  TC_CONTACT_STATE_BLOCKED,
} TcContactState;

typedef enum {
  TC_PRESENCE_OFFLINE,
  TC_PRESENCE_AVAILABLE,
  TC_PRESENCE_AWAY,
  TC_PRESENCE_XA,
  TC_PRESENCE_DND,
} TcPresence;

typedef enum {
  TC_MESSAGE_DIRECTION_INCOMING,
  TC_MESSAGE_DIRECTION_OUTGOING,
} TcMessageDirection;

typedef enum {
  TC_MESSAGE_STATE_QUEUED,     /* outgoing, not yet written to a stream */
  TC_MESSAGE_STATE_SENT,       /* outgoing, written, no receipt yet */
  TC_MESSAGE_STATE_DELIVERED,  /* outgoing, receipt received */
  TC_MESSAGE_STATE_FAILED,     /* outgoing, will not be delivered (declined, blocked) */
  TC_MESSAGE_STATE_RECEIVED,   /* incoming, stored */
} TcMessageState;

typedef enum {
  TC_TYPING_ACTIVE,
  TC_TYPING_COMPOSING,
  TC_TYPING_PAUSED,
} TcTyping;

const char *tc_contact_state_to_string   (TcContactState      state);
gboolean    tc_contact_state_from_string (const char         *str,
                                          TcContactState     *state);
const char *tc_presence_to_string        (TcPresence          presence);
gboolean    tc_presence_from_string      (const char         *str,
                                          TcPresence         *presence);
const char *tc_message_state_to_string   (TcMessageState      state);
gboolean    tc_message_state_from_string (const char         *str,
                                          TcMessageState     *state);
const char *tc_typing_to_string          (TcTyping            typing);
gboolean    tc_typing_from_string        (const char         *str,
                                          TcTyping           *typing);

G_END_DECLS
