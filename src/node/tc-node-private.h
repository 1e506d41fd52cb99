/* tc-node-private.h: what the files of TcNode share, and what the
 * transfer manager and the profile code may ask of the node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-admission.h"
#include "tc-node.h"
#include "tc-peer.h"
#include "tc-profile.h"

G_BEGIN_DECLS

struct _TcNode
{
  GObject          parent_instance;

  char            *profile_dir;
  int              lock_fd;
  TcIdentity      *identity;             /* NULL while locked */
  TcStore         *store;                /* NULL while locked */
  TcProfileKind    profile_kind;
  gboolean         busy;                 /* an unlock or passphrase change runs */

  GListStore      *contacts;
  GHashTable      *contacts_by_address;   /* borrowed TcContact */
  GHashTable      *peers;                 /* address → TcPeer */
  GHashTable      *conversations;         /* address → TcConversation */
  TcAdmission     *admission;             /* handshakes, stream limits, strangers' rate */
  TcTransferManager *transfers;

  GSocketService  *service;
  GSocketAddress  *listen_address;
  guint            listen_port;
  char            *socks_address;
  GSocketAddress  *socks;
  GNetworkMonitor *monitor;
  TcTor           *tor;
  gboolean         network_available;
  gboolean         running;

  TcPresence       presence;
  char            *status_text;
  char            *name;
  char            *profile_text;
};

typedef enum {
  TC_NODE_PROP_0,
  TC_NODE_PROP_PROFILE_DIR,
  TC_NODE_PROP_ADDRESS,
  TC_NODE_PROP_PRESENCE,
  TC_NODE_PROP_STATUS_TEXT,
  TC_NODE_PROP_NAME,
  TC_NODE_PROP_PROFILE_TEXT,
  TC_NODE_PROP_LISTEN_PORT,
  TC_NODE_PROP_RUNNING,
  TC_NODE_PROP_TOR,
  TC_NODE_PROP_UNLOCKED,
  TC_NODE_PROP_ENCRYPTED,
  TC_NODE_N_PROPS
} TcNodeProp;

/* tc-node.c */
void            _tc_node_notify                   (TcNode      *self,
                                                   TcNodeProp   prop);
void            _tc_node_emit_message_received    (TcNode      *self,
                                                   TcContact   *contact,
                                                   TcMessage   *message);
void            _tc_node_emit_contact_request     (TcNode      *self,
                                                   TcContact   *contact);
void            _tc_node_emit_contact_changed     (TcNode      *self,
                                                   TcContact   *contact);

/* tc-node-contacts.c */
/* @address normalized, and not our own. */
char           *_tc_node_normalize_other          (TcNode      *self,
                                                   const char  *address,
                                                   GError     **error);
TcContact      *_tc_node_find_contact             (TcNode      *self,
                                                   const char  *address,
                                                   GError     **error);
/* Saves @contact and commits; rolls back on failure. */
gboolean        _tc_node_commit_contact           (TcNode      *self,
                                                   TcContact   *contact,
                                                   GError     **error);
void            _tc_node_append_contact           (TcNode      *self,
                                                   TcContact   *contact);

/* tc-node-peers.c */
void            _tc_node_peer_host_init           (TcPeerHostInterface *iface);
TcPeer         *_tc_node_ensure_peer              (TcNode      *self,
                                                   const char  *address);
/* Forgets @peer if it has no contact. */
void            _tc_node_peer_idle                (TcNode      *self,
                                                   TcPeer      *peer);
void            _tc_node_broadcast_presence       (TcNode      *self);

/* For the transfer manager. Tor's SOCKS port, a literal IP address
 * (tc-node-network.c). */
GSocketAddress *_tc_node_get_socks_address        (TcNode      *self);
/* The ready chat stream with @address, or NULL (tc-node-peers.c). */
TcStream       *_tc_node_get_chat_stream          (TcNode      *self,
                                                   const char  *address);

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
