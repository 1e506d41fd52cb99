/* tc-peer-host.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-peer-host.h"

G_DEFINE_INTERFACE (TcPeerHost, tc_peer_host, G_TYPE_OBJECT)

static void
tc_peer_host_default_init (TcPeerHostInterface *iface)
{
}

TcContact *
tc_peer_host_lookup_contact (TcPeerHost *self,
                             const char *address)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), NULL);
  return TC_PEER_HOST_GET_IFACE (self)->lookup_contact (self, address);
}

TcContact *
tc_peer_host_add_stranger (TcPeerHost *self,
                           const char *address)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), NULL);
  return TC_PEER_HOST_GET_IFACE (self)->add_stranger (self, address);
}

TcConversation *
tc_peer_host_peek_conversation (TcPeerHost *self,
                                const char *address)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), NULL);
  return TC_PEER_HOST_GET_IFACE (self)->peek_conversation (self, address);
}

gboolean
tc_peer_host_get_running (TcPeerHost *self)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), FALSE);
  return TC_PEER_HOST_GET_IFACE (self)->get_running (self);
}

GSocketAddress *
tc_peer_host_get_socks_address (TcPeerHost *self)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), NULL);
  return TC_PEER_HOST_GET_IFACE (self)->get_socks_address (self);
}

gboolean
tc_peer_host_get_onion_new (TcPeerHost *self)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), FALSE);
  return TC_PEER_HOST_GET_IFACE (self)->get_onion_new (self);
}

const char *
tc_peer_host_get_name (TcPeerHost *self)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), NULL);
  return TC_PEER_HOST_GET_IFACE (self)->get_name (self);
}

char *
tc_peer_host_build_status (TcPeerHost *self)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), NULL);
  return TC_PEER_HOST_GET_IFACE (self)->build_status (self);
}

char *
tc_peer_host_build_profile (TcPeerHost *self)
{
  g_return_val_if_fail (TC_IS_PEER_HOST (self), NULL);
  return TC_PEER_HOST_GET_IFACE (self)->build_profile (self);
}
