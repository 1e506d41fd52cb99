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

/* docs/protocol.md section 15.6. */
typedef enum {
  TC_TRANSFER_STATE_OFFERED,    /* outgoing: offer written, no answer yet; incoming: the user has not answered */
  TC_TRANSFER_STATE_WAITING,    /* outgoing: offer not written yet (peer offline, hashing); incoming: accepted, no stream yet */
  TC_TRANSFER_STATE_ACTIVE,     /* bytes are flowing, or being verified */
  TC_TRANSFER_STATE_PAUSED,     /* accepted, incomplete, no stream: resumes on reconnection */
  TC_TRANSFER_STATE_DONE,
  TC_TRANSFER_STATE_FAILED,
  TC_TRANSFER_STATE_CANCELLED,
  TC_TRANSFER_STATE_DECLINED,
} TcTransferState;

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

const char *tc_transfer_state_to_string  (TcTransferState     state);
gboolean    tc_transfer_state_from_string (const char        *str,
                                          TcTransferState    *state);

G_END_DECLS
