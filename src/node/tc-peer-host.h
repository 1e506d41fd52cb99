/* tc-peer-host.h: what a TcPeer asks of whoever owns it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-contact.h"
#include "tc-conversation.h"

G_BEGIN_DECLS

#define TC_TYPE_PEER_HOST (tc_peer_host_get_type ())

G_DECLARE_INTERFACE (TcPeerHost, tc_peer_host, TC, PEER_HOST, GObject)

/* The node implements it; a test implements it with a table of contacts.
 * Everything a peer writes goes to the store it was given; what it has to
 * say upwards it says with its signals (tc-peer.h). */
struct _TcPeerHostInterface
{
  GTypeInterface parent_iface;

  /* The contact for @address, or NULL: borrowed. */
  TcContact      *(*lookup_contact)    (TcPeerHost  *self,
                                        const char  *address);
  /* Creates the contact (state pending, not stored yet) for a stranger's
   * request: borrowed. */
  TcContact      *(*add_stranger)      (TcPeerHost  *self,
                                        const char  *address);
  /* The conversation if a view asked for it already, else NULL. */
  TcConversation *(*peek_conversation) (TcPeerHost  *self,
                                        const char  *address);
  /* Whether peers may connect out at all. */
  gboolean        (*get_running)       (TcPeerHost  *self);
  /* Tor's SOCKS port, a literal IP address. */
  GSocketAddress *(*get_socks_address) (TcPeerHost  *self);
  /* Our onion service is published but not reachable yet: "offline"
   * answers may be wrong for a while (tc-peer-connect.c). */
  gboolean        (*get_onion_new)     (TcPeerHost  *self);
  /* What we say about ourselves: our name for a contact request, and the
   * status and profile JMUs (newly allocated lines). */
  const char     *(*get_name)          (TcPeerHost  *self);
  char           *(*build_status)      (TcPeerHost  *self);
  char           *(*build_profile)     (TcPeerHost  *self);
};

TcContact      *tc_peer_host_lookup_contact    (TcPeerHost *self,
                                                const char *address);
TcContact      *tc_peer_host_add_stranger      (TcPeerHost *self,
                                                const char *address);
TcConversation *tc_peer_host_peek_conversation (TcPeerHost *self,
                                                const char *address);
gboolean        tc_peer_host_get_running       (TcPeerHost *self);
GSocketAddress *tc_peer_host_get_socks_address (TcPeerHost *self);
gboolean        tc_peer_host_get_onion_new     (TcPeerHost *self);
const char     *tc_peer_host_get_name          (TcPeerHost *self);
char           *tc_peer_host_build_status      (TcPeerHost *self);
char           *tc_peer_host_build_profile     (TcPeerHost *self);

G_END_DECLS
