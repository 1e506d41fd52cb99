/* tc-tor.h: the Tor the node uses, managed or external
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-identity.h"

G_BEGIN_DECLS

#define TC_TOR_ERROR (tc_tor_error_quark ())

typedef enum {
  TC_TOR_ERROR_FAILED,
  TC_TOR_ERROR_BAD_BRIDGE,        /* a bridge line tor would not accept */
  TC_TOR_ERROR_BAD_PROXY,
  TC_TOR_ERROR_ADDRESS_MISMATCH,  /* tor published another address than ours */
} TcTorError;

typedef enum {
  TC_TOR_STATE_STOPPED,
  TC_TOR_STATE_STARTING,          /* process starting, control port not up */
  TC_TOR_STATE_BOOTSTRAPPING,     /* control port up, circuits not ready */
  TC_TOR_STATE_READY,             /* bootstrapped 100% */
  TC_TOR_STATE_RESTARTING,        /* it died or the control port dropped */
  TC_TOR_STATE_FAILED,            /* will not work without a change */
} TcTorState;

#define TC_TYPE_TOR (tc_tor_get_type ())

G_DECLARE_FINAL_TYPE (TcTor, tc_tor, TC, TOR, GObject)

/* Properties (all read-only, notify on change):
 *   state               TcTorState (an int property)
 *   bootstrap-progress  uint, 0–100
 *   bootstrap-summary   string, tor's phase summary
 *   socks-address       string "IP:PORT" once known
 *   reachable           boolean: our onion descriptor was uploaded
 *   onion-published     boolean: ADD_ONION succeeded
 *   last-error          string (may be NULL)
 *   managed             boolean
 */
GQuark       tc_tor_error_quark           (void);

/* A tor of our own: torrc and DataDirectory under @state_dir (kept between
 * runs). @tor_binary NULL means "tor" from PATH; @extra_torrc, if not NULL,
 * is a file whose lines are added to the torrc (%include). */
TcTor       *tc_tor_new_managed           (const char          *state_dir,
                                           const char          *tor_binary,
                                           const char          *extra_torrc);
/* An existing tor's control port ("IP:PORT" or a unix socket path), with
 * cookie authentication or @password. */
TcTor       *tc_tor_new_external          (const char          *control_address,
                                           const char          *password);

/* Bridges: lines as in a torrc "Bridge" option (without the word). A line
 * that starts with "obfs4" or "snowflake" needs that transport's client,
 * found in PATH. NULL or empty: no bridges. Applied at the next (re)start. */
gboolean     tc_tor_set_bridges           (TcTor               *self,
                                           const char * const  *lines,
                                           GError             **error);
/* Upstream proxy: "socks5://[user:pass@]host:port" or
 * "https://[user:pass@]host:port", or NULL for none. */
gboolean     tc_tor_set_proxy             (TcTor               *self,
                                           const char          *uri,
                                           GError             **error);

void         tc_tor_start                 (TcTor               *self);
void         tc_tor_stop                  (TcTor               *self);
/* Kills and restarts a managed tor now (after a settings change). */
void         tc_tor_restart               (TcTor               *self);

/* Publishes @identity's onion service, virtual port 11009 → 127.0.0.1:@port,
 * as soon as the control port is up, and again after every restart. */
void         tc_tor_publish               (TcTor               *self,
                                           TcIdentity          *identity,
                                           guint                local_port);

/* HSFETCH: asks tor to fetch @address's onion descriptor again now, from
 * the directories, even if it has one or failed to get one lately; done
 * once tor has taken the command (the fetch itself follows). */
void         tc_tor_fetch_descriptor_async (TcTor              *self,
                                            const char         *address,
                                            GCancellable       *cancellable,
                                            GAsyncReadyCallback callback,
                                            gpointer            user_data);
gboolean     tc_tor_fetch_descriptor_finish (TcTor             *self,
                                             GAsyncResult      *result,
                                             GError           **error);
TcTorState   tc_tor_get_state             (TcTor               *self);
guint        tc_tor_get_bootstrap_progress (TcTor              *self);
const char  *tc_tor_get_bootstrap_summary (TcTor               *self);
const char  *tc_tor_get_socks_address     (TcTor               *self);
gboolean     tc_tor_get_reachable         (TcTor               *self);
gboolean     tc_tor_get_onion_published   (TcTor               *self);
const char  *tc_tor_get_last_error        (TcTor               *self);
gboolean     tc_tor_get_managed           (TcTor               *self);
/* The last lines tor logged, oldest first. */
char       **tc_tor_dup_log               (TcTor               *self);
const char  *tc_tor_state_to_string       (TcTorState           state);

G_END_DECLS
