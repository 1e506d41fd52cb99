/* tc-store.h: the profile's SQLite database
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-contact.h"
#include "tc-message.h"

G_BEGIN_DECLS

#define TC_STORE_ERROR (tc_store_error_quark ())

typedef enum {
  TC_STORE_ERROR_FAILED,
  TC_STORE_ERROR_FULL,        /* disk or quota full: nothing was stored */
  TC_STORE_ERROR_CORRUPT,
  TC_STORE_ERROR_NEWER,       /* schema written by a newer TORChat */
  TC_STORE_ERROR_NOT_FOUND,
} TcStoreError;

#define TC_TYPE_STORE (tc_store_get_type ())

G_DECLARE_FINAL_TYPE (TcStore, tc_store, TC, STORE, GObject)

GQuark       tc_store_error_quark           (void);

#define TC_STORE_KEY_LEN 32

/* A plaintext database. */
TcStore     *tc_store_open                  (const char          *path,
                                             GError             **error);
/* A database encrypted by SQLCipher under @key (TC_STORE_KEY_LEN bytes,
 * used as the raw key); NULL @key is tc_store_open(). A key that does not
 * fit gives TC_STORE_ERROR_CORRUPT. */
TcStore     *tc_store_open_encrypted        (const char          *path,
                                             const guint8        *key,
                                             GError             **error);
int          tc_store_get_schema_version    (TcStore             *self);

/* Writes go into one open transaction that is started on demand; nothing is
 * durable until tc_store_commit() returns TRUE. Callers commit once per burst
 * (one read from a stream, one user action). On failure the transaction is
 * rolled back and every write since the last commit is gone: the batch is
 * poisoned, every later write fails with the same error, and
 * tc_store_commit() returns FALSE with it, until the batch ends with
 * tc_store_commit() or tc_store_rollback(). */
gboolean     tc_store_commit                (TcStore             *self,
                                             GError             **error);
/* Drops every write since the last commit, and the failure of the batch. */
void         tc_store_rollback              (TcStore             *self);
gboolean     tc_store_in_transaction        (TcStore             *self);
/* Changes at every rollback of written rows: a caller that left writes
 * in the open transaction for a later commit checks that it did not
 * change meanwhile, or its rows are gone although the commit succeeds. */
guint64      tc_store_get_generation        (TcStore             *self);
/* Why writes fail (e.g. the disk is full), from a failed write until the
 * next successful commit; NULL while the store works. Property "failure". */
const char  *tc_store_get_failure           (TcStore             *self);

/* Contacts. */
GPtrArray   *tc_store_load_contacts         (TcStore             *self,
                                             GError             **error);
gboolean     tc_store_save_contact          (TcStore             *self,
                                             TcContact           *contact,
                                             GError             **error);
gboolean     tc_store_delete_contact        (TcStore             *self,
                                             const char          *address,
                                             GError             **error);

/* Messages. The outbox is every outgoing message that has no receipt yet
 * and has not failed. */
gboolean     tc_store_add_outgoing          (TcStore             *self,
                                             TcMessage           *message,
                                             GError             **error);
/* Stores an incoming message unless (peer, id) was seen before; *duplicate
 * tells which. */
gboolean     tc_store_add_incoming          (TcStore             *self,
                                             TcMessage           *message,
                                             gboolean            *duplicate,
                                             GError             **error);
/* Receipt for an outgoing message: sets state delivered and received-date.
 * *changed is FALSE for an unknown or already delivered id. */
gboolean     tc_store_mark_delivered        (TcStore             *self,
                                             const char          *peer,
                                             const char          *id,
                                             GDateTime           *date,
                                             gboolean            *changed,
                                             GError             **error);
/* Receipts as a set, in one transaction with the caller's other writes:
 * every outgoing message to @peer among @ids (char *) that is not
 * delivered yet becomes delivered with received-date @date (now if NULL);
 * unknown, incoming, delivered and repeated ids change nothing. One
 * UPDATE per 997 ids (SQLite 3.15.2 takes 999 variables). *n_changed is
 * how many rows changed. @changed, if not NULL, gets a copy of each id
 * that changed, once, in the order of @ids; that costs one UPDATE per id
 * (the cheapest way to know, without RETURNING). On failure the
 * transaction is rolled back, as for every write, and @changed is left as
 * it was. */
gboolean     tc_store_mark_delivered_set    (TcStore             *self,
                                             const char          *peer,
                                             GPtrArray           *ids,
                                             GDateTime           *date,
                                             guint               *n_changed,
                                             GPtrArray           *changed,
                                             GError             **error);
gboolean     tc_store_set_message_state     (TcStore             *self,
                                             const char          *peer,
                                             const char          *id,
                                             TcMessageState       state,
                                             GError             **error);
/* Every queued outgoing message to @peer becomes sent (one statement). */
gboolean     tc_store_mark_sent             (TcStore             *self,
                                             const char          *peer,
                                             GError             **error);
/* Every outgoing message to @peer in state queued or sent, oldest first. */
GPtrArray   *tc_store_list_outbox           (TcStore             *self,
                                             const char          *peer,
                                             GError             **error);
/* Sets every queued/sent outgoing message to @peer to failed. */
gboolean     tc_store_fail_outbox           (TcStore             *self,
                                             const char          *peer,
                                             GError             **error);
guint        tc_store_count_outbox          (TcStore             *self,
                                             const char          *peer);

/* History, oldest first, for lazy paging. */
guint        tc_store_count_messages        (TcStore             *self,
                                             const char          *peer);
GPtrArray   *tc_store_list_messages         (TcStore             *self,
                                             const char          *peer,
                                             guint                offset,
                                             guint                limit,
                                             GError             **error);
/* One page of @peer's history, oldest first, by row key (keyset paging:
 * the same cost at any depth): the @limit messages right after key @where,
 * right before it, or (a fallback without a key) at offset @where from
 * the oldest or from the newest end. *first_key and *last_key are the keys
 * of the page's first and last message, -1 for an empty page. */
typedef enum {
  TC_STORE_PAGE_AFTER,
  TC_STORE_PAGE_BEFORE,
  TC_STORE_PAGE_FROM_START,
  TC_STORE_PAGE_FROM_END,
} TcStorePageFrom;

GPtrArray   *tc_store_list_page             (TcStore             *self,
                                             const char          *peer,
                                             TcStorePageFrom      from,
                                             gint64               where,
                                             guint                limit,
                                             gint64              *first_key,
                                             gint64              *last_key,
                                             GError             **error);
/* Messages holding every word of @text (full-text search, FTS4, case and
 * accents folded by unicode61), newest first, at most @limit; only with
 * @peer if not NULL. The words are words: no search syntax. */
GPtrArray   *tc_store_search                (TcStore             *self,
                                             const char          *text,
                                             const char          *peer,
                                             guint                limit,
                                             GError             **error);
/* Where @message is in its conversation: how many messages came before it
 * (the index of a TcConversation). */
gboolean     tc_store_find_message_position (TcStore             *self,
                                             TcMessage           *message,
                                             guint               *position,
                                             GError             **error);
TcMessage   *tc_store_lookup_message        (TcStore             *self,
                                             const char          *peer,
                                             const char          *id);
gboolean     tc_store_delete_history        (TcStore             *self,
                                             const char          *peer,
                                             GError             **error);
/* Removes the contact, its history and the ids of its messages (the
 * duplicates table), as "Remove contact" promises. */
gboolean     tc_store_forget_peer           (TcStore             *self,
                                             const char          *peer,
                                             GError             **error);
/* Outside a transaction: copies the write-ahead log into the database and
 * truncates it, so that deleted rows (overwritten, secure_delete) leave
 * no copy in the log either. */
gboolean     tc_store_checkpoint            (TcStore             *self,
                                             GError             **error);

/* Small key/value table for the profile's own settings (status, profile
 * name). Returns NULL when unset. */
char        *tc_store_dup_setting           (TcStore             *self,
                                             const char          *key);
gboolean     tc_store_set_setting           (TcStore             *self,
                                             const char          *key,
                                             const char          *value,
                                             GError             **error);

G_END_DECLS
