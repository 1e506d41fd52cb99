/* tc-peer.h: the node's side of its relation with one other node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-admission.h"
#include "tc-identity.h"
#include "tc-message.h"
#include "tc-peer-host.h"
#include "tc-store.h"
#include "tc-stream.h"
#include "tc-types.h"

G_BEGIN_DECLS

#define TC_TYPE_PEER (tc_peer_get_type ())

G_DECLARE_FINAL_TYPE (TcPeer, tc_peer, TC, PEER, GObject)

/* A TcPeer owns the streams to one address: it connects when the contact's
 * state asks for it, reconnects with back-off, settles duplicate streams,
 * and acts on the chat JMUs that arrive, writing to @store (as @identity,
 * within the limits of @admission). @host is not referenced; the others
 * are.
 *
 * Signals (each emitted with a reference held on the peer):
 *   message-received (TcContact *, TcMessage *)
 *                          a new incoming message, once it is committed
 *   contact-request (TcContact *)
 *                          a stranger (or a declined contact) asked
 *   contact-changed (TcContact *)
 *                          the peer changed the contact's state
 *   chat-ready ()          an accepted contact's stream has been greeted
 *   file-jmu (TcJmu *)     a file transfer JMU from an accepted contact
 *   idle ()                no stream and no attempt left: the owner may
 *                          drop the peer
 */
TcPeer      *tc_peer_new              (TcPeerHost  *host,
                                       TcStore     *store,
                                       TcIdentity  *identity,
                                       TcAdmission *admission,
                                       const char  *address);
const char  *tc_peer_get_address      (TcPeer      *self);
TcStream    *tc_peer_get_stream       (TcPeer      *self);
guint        tc_peer_get_n_streams    (TcPeer      *self);

/* Connects if the contact's state wants a stream and none is up. With
 * @now, any back-off is forgotten. */
void         tc_peer_connect          (TcPeer      *self,
                                       gboolean     now);
/* "Try now": back-off and quick retries forgotten, a waiting attempt
 * dropped, a new one at once. */
void         tc_peer_retry            (TcPeer      *self);
/* A receiver stream that just authenticated as this peer. Returns FALSE
 * when it was refused (and failed with the reason). */
gboolean     tc_peer_adopt_stream     (TcPeer      *self,
                                       TcStream    *stream);
/* The user changed the contact: send what the new state owes the peer. */
void         tc_peer_contact_changed  (TcPeer      *self);
void         tc_peer_send_message     (TcPeer      *self,
                                       TcMessage   *message);
void         tc_peer_send_messages    (TcPeer      *self,
                                       GPtrArray   *messages);
void         tc_peer_send_presence    (TcPeer      *self);
void         tc_peer_send_typing      (TcPeer      *self,
                                       TcTyping     typing);
/* Closes every stream; no reconnection until tc_peer_connect(). */
void         tc_peer_close            (TcPeer      *self);
/* Fails every stream with @condition at once, without waiting for the
 * peer, and forgets them: for a node that goes away. Disposing the peer
 * does this with system-shutdown. */
void         tc_peer_abort            (TcPeer      *self,
                                       TcCondition  condition);
/* No stream, no pending connection: the node may forget this peer. */
gboolean     tc_peer_is_idle          (TcPeer      *self);

G_END_DECLS
