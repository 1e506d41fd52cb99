/* tc-node.h: a TORChat node, the heart of the app and of headless mode
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-contact.h"
#include "tc-conversation.h"
#include "tc-identity.h"
#include "tc-message.h"
#include "tc-profile.h"
#include "tc-store.h"
#include "tc-tor.h"
#include "tc-transfer-manager.h"

G_BEGIN_DECLS

#define TC_NODE_ERROR (tc_node_error_quark ())

typedef enum {
  TC_NODE_ERROR_FAILED,
  TC_NODE_ERROR_PROFILE_BUSY,     /* another process runs this profile */
  TC_NODE_ERROR_INVALID_ARGUMENT,
  TC_NODE_ERROR_UNKNOWN_CONTACT,
  TC_NODE_ERROR_NOT_ALLOWED,      /* e.g. sending to a declined contact */
  TC_NODE_ERROR_SELF,             /* one's own address */
  TC_NODE_ERROR_LOCKED,           /* the profile is encrypted and not unlocked */
} TcNodeError;

#define TC_TYPE_NODE (tc_node_get_type ())

G_DECLARE_FINAL_TYPE (TcNode, tc_node, TC, NODE, GObject)

/* Properties:
 *   profile-dir   string, construct-only
 *   address       string, read-only, own onion address (wire form)
 *   presence      TcPresence, own status
 *   status-text   string
 *   name          string, own profile name shown to contacts
 *   profile-text  string
 *   listen-port   uint, read-only: local port of the listener once started
 *   running       boolean, read-only
 *   unlocked      boolean, read-only: identity and database are open
 *   encrypted     boolean, read-only: the profile has a passphrase
 *
 * Signals:
 *   message-received (TcContact *contact, TcMessage *message)
 *   contact-request  (TcContact *contact)
 *   contact-changed  (TcContact *contact): state changed by the peer
 */
GQuark          tc_node_error_quark           (void);

/* Opens (creating if needed) the profile in @profile_dir: takes the profile
 * lock, loads or makes the identity and opens the database. A new profile
 * is created plaintext; an encrypted one fails with TC_NODE_ERROR_LOCKED
 * (use tc_node_new_locked()). */
TcNode         *tc_node_new                   (const char     *profile_dir,
                                               GError        **error);

/* The encrypted profile (tc-node-profile.c).
 *
 * tc_node_new_locked() takes the profile lock and finishes an encryption a
 * crash interrupted, and reads no secret: the node is locked (no address,
 * no contacts, cannot start) until tc_node_unlock_async() succeeds, which
 * runs Argon2id in a thread. What it does depends on the profile kind:
 *   NEW:       creates the profile, encrypted with @passphrase, or plaintext
 *              when @passphrase is NULL;
 *   PLAINTEXT: opens it; @passphrase must be NULL;
 *   ENCRYPTED: opens it with @passphrase; TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE
 *              leaves the node locked and the disk unchanged (try again).
 * Other errors: TC_PROFILE_KEY_ERROR_DAMAGED (a truncated or altered
 * profile.key), TC_PROFILE_KEY_ERROR_NEWER, TC_STORE_ERROR_*, G_IO_ERROR_*.
 * Passphrases are @length bytes of UTF-8; the node copies them into locked
 * memory and wipes the copy; the caller wipes its own. */
TcNode         *tc_node_new_locked            (const char     *profile_dir,
                                               GError        **error);
TcProfileKind   tc_node_get_profile_kind      (TcNode         *self);
gboolean        tc_node_get_unlocked          (TcNode         *self);
gboolean        tc_node_get_encrypted         (TcNode         *self);
void            tc_node_unlock_async          (TcNode         *self,
                                               const char     *passphrase,
                                               gsize           length,
                                               GCancellable   *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer        user_data);
gboolean        tc_node_unlock_finish         (TcNode         *self,
                                               GAsyncResult   *result,
                                               GError        **error);
/* Blocking forms, for the command line. */
gboolean        tc_node_unlock                (TcNode         *self,
                                               const char     *passphrase,
                                               gsize           length,
                                               GError        **error);
/* An encrypted profile, locked or unlocked, running or not: checks
 * @old_passphrase, then rewraps the profile key for @new_passphrase in one
 * atomic rename (after a crash exactly one of the two opens the profile). */
void            tc_node_change_passphrase_async (TcNode       *self,
                                               const char     *old_passphrase,
                                               gsize           old_length,
                                               const char     *new_passphrase,
                                               gsize           new_length,
                                               GCancellable   *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer        user_data);
gboolean        tc_node_change_passphrase_finish (TcNode      *self,
                                               GAsyncResult   *result,
                                               GError        **error);
gboolean        tc_node_change_passphrase     (TcNode         *self,
                                               const char     *old_passphrase,
                                               gsize           old_length,
                                               const char     *new_passphrase,
                                               gsize           new_length,
                                               GError        **error);
/* An unlocked plaintext profile, running or not: rewrites the database
 * encrypted, then wipes and removes the plaintext database and
 * identity.key; "encrypted" turns TRUE. Survives a crash at any point
 * (before the commit point the plaintext profile is whole; after it the
 * next open finishes the job). */
void            tc_node_encrypt_async         (TcNode         *self,
                                               const char     *passphrase,
                                               gsize           length,
                                               GCancellable   *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer        user_data);
gboolean        tc_node_encrypt_finish        (TcNode         *self,
                                               GAsyncResult   *result,
                                               GError        **error);
gboolean        tc_node_encrypt               (TcNode         *self,
                                               const char     *passphrase,
                                               gsize           length,
                                               GError        **error);

/* "HOST:PORT" for the listener the onion service forwards to (default
 * 127.0.0.1:0, any free port). */
gboolean        tc_node_set_listen_address    (TcNode         *self,
                                               const char     *host_port,
                                               GError        **error);
/* "HOST:PORT" of a SOCKS5 proxy for outgoing streams (default: Tor's
 * 127.0.0.1:9050). */
gboolean        tc_node_set_socks_address     (TcNode         *self,
                                               const char     *host_port,
                                               GError        **error);
/* How the node reaches Tor, before tc_node_start():
 *   @socks:   an existing tor's SOCKS port only; the user publishes the onion
 *             service in their own torrc;
 *   @control: an existing tor's control port ("IP:PORT" or a socket path),
 *             with cookie authentication or @password; the onion service is
 *             published through it;
 *   neither:  TORChat runs its own tor under <profile>/tor (@tor_binary,
 *             default "tor"; @tor_config, a file of extra torrc lines).
 * Without this call the node uses 127.0.0.1:9050 and publishes nothing. */
gboolean        tc_node_setup_tor             (TcNode         *self,
                                               const char     *socks,
                                               const char     *control,
                                               const char     *password,
                                               const char     *tor_binary,
                                               const char     *tor_config,
                                               GError        **error);
/* NULL in SOCKS-only mode. */
TcTor          *tc_node_get_tor               (TcNode         *self);
/* Settings of the managed tor, stored in the profile; applied by restarting
 * it. Bridge lines as in tc_tor_set_bridges(); proxy URI as in
 * tc_tor_set_proxy(), NULL for none. */
gboolean        tc_node_set_bridges           (TcNode         *self,
                                               const char * const *lines,
                                               GError        **error);
char          **tc_node_dup_bridges           (TcNode         *self);
gboolean        tc_node_set_proxy             (TcNode         *self,
                                               const char     *uri,
                                               GError        **error);
char           *tc_node_dup_proxy             (TcNode         *self);
gboolean        tc_node_start                 (TcNode         *self,
                                               GError        **error);
/* Closes every stream with "close" (waiting at most 10 s for the answers),
 * commits the store and stops listening. */
void            tc_node_stop_async            (TcNode         *self,
                                               GCancellable   *cancellable,
                                               GAsyncReadyCallback callback,
                                               gpointer        user_data);
gboolean        tc_node_stop_finish           (TcNode         *self,
                                               GAsyncResult   *result,
                                               GError        **error);

const char     *tc_node_get_profile_dir       (TcNode         *self);
const char     *tc_node_get_address           (TcNode         *self);
TcIdentity     *tc_node_get_identity          (TcNode         *self);
TcStore        *tc_node_get_store             (TcNode         *self);
guint           tc_node_get_listen_port       (TcNode         *self);
gboolean        tc_node_get_running           (TcNode         *self);
TcPresence      tc_node_get_presence          (TcNode         *self);
const char     *tc_node_get_status_text       (TcNode         *self);
const char     *tc_node_get_name              (TcNode         *self);
const char     *tc_node_get_profile_text      (TcNode         *self);

/* A GListModel of TcContact, sorted by nothing in particular (views sort). */
GListModel     *tc_node_get_contacts          (TcNode         *self);
TcContact      *tc_node_lookup_contact        (TcNode         *self,
                                               const char     *address);
/* File transfers: a GListModel of TcTransfer, oldest first, and the object
 * that runs them (tc-transfer-manager.h). */
GListModel     *tc_node_get_transfers         (TcNode         *self);
TcTransferManager *tc_node_get_transfer_manager (TcNode       *self);
/* The conversation with @address (created on first use, kept by the node). */
TcConversation *tc_node_get_conversation      (TcNode         *self,
                                               const char     *address);

/* User actions. Addresses are as the user typed them (tc_address_normalize()
 * is applied); errors are meant to be shown to the user as they are. */
TcContact      *tc_node_add_contact           (TcNode         *self,
                                               const char     *address,
                                               const char     *nickname,
                                               const char     *greeting,
                                               GError        **error);
gboolean        tc_node_accept_contact        (TcNode         *self,
                                               const char     *address,
                                               GError        **error);
gboolean        tc_node_decline_contact       (TcNode         *self,
                                               const char     *address,
                                               GError        **error);
gboolean        tc_node_block_contact         (TcNode         *self,
                                               const char     *address,
                                               GError        **error);
gboolean        tc_node_remove_contact        (TcNode         *self,
                                               const char     *address,
                                               GError        **error);
gboolean        tc_node_rename_contact        (TcNode         *self,
                                               const char     *address,
                                               const char     *nickname,
                                               GError        **error);
TcMessage      *tc_node_send_message          (TcNode         *self,
                                               const char     *address,
                                               const char     *text,
                                               GError        **error);
/* Queues every text in one commit; all or nothing. Returns the messages. */
GPtrArray      *tc_node_send_messages         (TcNode         *self,
                                               const char     *address,
                                               const char * const *texts,
                                               GError        **error);
/* The same in slices while the main loop runs: each slice is committed,
 * then written to the contact's stream, before the next is stored, so the
 * contact receives the first while the last are stored. Every text is
 * checked first (nothing stored if one is invalid); a write that fails
 * leaves the slices before it queued, and the error says how many. */
void            tc_node_send_messages_async   (TcNode         *self,
                                               const char     *address,
                                               const char * const *texts,
                                               GAsyncReadyCallback callback,
                                               gpointer        user_data);
GPtrArray      *tc_node_send_messages_finish  (TcNode         *self,
                                               GAsyncResult   *result,
                                               GError        **error);
gboolean        tc_node_set_status            (TcNode         *self,
                                               TcPresence      presence,
                                               const char     *text,
                                               GError        **error);
gboolean        tc_node_set_profile           (TcNode         *self,
                                               const char     *name,
                                               const char     *text,
                                               GError        **error);
/* "Try now" for a contact: when the node has tor's control port, asks tor
 * to fetch the contact's onion descriptor again (HSFETCH: tor remembers a
 * failed fetch for a while otherwise), then connects at once, back-off
 * forgotten. FALSE only for an unknown address. */
gboolean        tc_node_retry_contact         (TcNode         *self,
                                               const char     *address,
                                               GError        **error);
/* Searches the history: messages holding every word of @text, newest first,
 * at most @limit, in the conversation with @address only if not NULL. */
GPtrArray      *tc_node_search                (TcNode         *self,
                                               const char     *text,
                                               const char     *address,
                                               guint           limit,
                                               GError        **error);
/* The user has read the conversation: its unread count goes to 0, and is
 * stored (the count survives a restart). */
gboolean        tc_node_mark_read             (TcNode         *self,
                                               const char     *address,
                                               GError        **error);
void            tc_node_set_typing            (TcNode         *self,
                                               const char     *address,
                                               TcTyping        typing);
/* Reconnect every contact now (also done when the network comes back). */
void            tc_node_reconnect_all         (TcNode         *self);

G_END_DECLS
