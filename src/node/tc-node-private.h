/* tc-node-private.h: what TcPeer may ask of its node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-node.h"
#include "tc-peer.h"
#include "tc-profile.h"

G_BEGIN_DECLS

/* Tor's SOCKS port, a literal IP address. */
GSocketAddress *_tc_node_get_socks_address        (TcNode      *self);
/* The conversation if a view asked for it already, else NULL. */
TcConversation *_tc_node_peek_conversation        (TcNode      *self,
                                                   const char  *address);
/* Creates the contact (state pending) for a stranger's request. */
TcContact      *_tc_node_add_stranger             (TcNode      *self,
                                                   const char  *address);
/* Saves @contact and commits; logs and returns FALSE on failure. */
gboolean        _tc_node_save_contact             (TcNode      *self,
                                                   TcContact   *contact);
/* One JMU from the node-wide budget; FALSE when it is spent. */
gboolean        _tc_node_take_token               (TcNode      *self);
void            _tc_node_emit_message_received    (TcNode      *self,
                                                   TcContact   *contact,
                                                   TcMessage   *message);
void            _tc_node_emit_contact_request     (TcNode      *self,
                                                   TcContact   *contact);
void            _tc_node_emit_contact_changed     (TcNode      *self,
                                                   TcContact   *contact);
void            _tc_node_peer_idle                (TcNode      *self,
                                                   TcPeer      *peer);
/* The ready chat stream with @address, or NULL. */
TcStream       *_tc_node_get_chat_stream          (TcNode      *self,
                                                   const char  *address);
/* Builders for what the node says about itself. */
char           *_tc_node_build_status             (TcNode      *self);
char           *_tc_node_build_profile            (TcNode      *self);

/* The profile (tc-node-profile.c): installs what an unlock opened. */
gboolean        _tc_node_take_profile             (TcNode      *self,
                                                   TcIdentity  *identity,
                                                   TcStore     *store,
                                                   GError     **error);
TcProfileKind   _tc_node_get_profile_kind         (TcNode      *self);
void            _tc_node_set_profile_kind         (TcNode      *self,
                                                   TcProfileKind kind);
gboolean       *_tc_node_get_busy                 (TcNode      *self);

G_END_DECLS
