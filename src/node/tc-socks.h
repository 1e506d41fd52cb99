/* tc-socks.h: a SOCKS5 client that keeps Tor's extended error codes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TC_SOCKS_ERROR (tc_socks_error_quark ())

/* Reply codes of RFC 1928 and Tor's ExtendedErrors (0xF0–0xF7), plus our
 * own for what went wrong before a reply. */
typedef enum {
  TC_SOCKS_ERROR_GENERAL_FAILURE        = 0x01,
  TC_SOCKS_ERROR_NOT_ALLOWED            = 0x02,
  TC_SOCKS_ERROR_NETWORK_UNREACHABLE    = 0x03,
  TC_SOCKS_ERROR_HOST_UNREACHABLE       = 0x04,
  TC_SOCKS_ERROR_CONNECTION_REFUSED     = 0x05,
  TC_SOCKS_ERROR_TTL_EXPIRED            = 0x06,
  TC_SOCKS_ERROR_COMMAND_NOT_SUPPORTED  = 0x07,
  TC_SOCKS_ERROR_ADDRESS_NOT_SUPPORTED  = 0x08,
  TC_SOCKS_ERROR_ONION_NOT_FOUND        = 0xF0, /* descriptor not found: offline */
  TC_SOCKS_ERROR_ONION_INVALID          = 0xF1, /* descriptor unparsable */
  TC_SOCKS_ERROR_INTRO_FAILED           = 0xF2, /* offline, or just gone */
  TC_SOCKS_ERROR_REND_FAILED            = 0xF3,
  TC_SOCKS_ERROR_MISSING_CLIENT_AUTH    = 0xF4,
  TC_SOCKS_ERROR_WRONG_CLIENT_AUTH      = 0xF5,
  TC_SOCKS_ERROR_BAD_ADDRESS            = 0xF6, /* not a valid onion address */
  TC_SOCKS_ERROR_INTRO_TIMEOUT          = 0xF7,
  TC_SOCKS_ERROR_PROXY_UNREACHABLE      = 0x100, /* could not reach the SOCKS port: Tor not running */
  TC_SOCKS_ERROR_PROTOCOL               = 0x101, /* the proxy does not speak SOCKS5 */
} TcSocksError;

GQuark    tc_socks_error_quark       (void);

/* Connects to the SOCKS5 proxy at @proxy (a literal IP socket address: no
 * DNS), asks it for @host:@port by name (ATYP 3, so ".onion" is resolved by
 * Tor), and returns the connection, ready for the application protocol.
 * A non-NULL @isolation is sent as the RFC 1929 user name when the proxy
 * accepts one: Tor (IsolateSOCKSAuth) then keeps the stream off circuits
 * that streams with another name (or none) use. */
void                tc_socks_connect_async   (GSocketAddress       *proxy,
                                              const char           *host,
                                              guint16               port,
                                              const char           *isolation,
                                              GCancellable         *cancellable,
                                              GAsyncReadyCallback   callback,
                                              gpointer              user_data);
GSocketConnection  *tc_socks_connect_finish  (GAsyncResult         *result,
                                              GError              **error);

/* Whether the error means "the peer is offline" (as opposed to a bad
 * address or Tor not being ready). */
gboolean  tc_socks_error_is_offline  (const GError         *error);
/* A sentence for the user, e.g. "Your contact is offline". */
const char *tc_socks_error_describe  (const GError         *error);

G_END_DECLS
