/* tc-transfer.h: one file transfer, as the window and the command line see it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib-object.h>

#include "tc-types.h"

G_BEGIN_DECLS

#define TC_TYPE_TRANSFER (tc_transfer_get_type ())

G_DECLARE_FINAL_TYPE (TcTransfer, tc_transfer, TC, TRANSFER, GObject)

/* Properties (all notify when they change; "done" and "speed" at most a few
 * times a second while bytes flow):
 *   id          string, construct-only: the TID
 *   direction   TcMessageDirection, construct-only
 *   peer        string, construct-only: the contact's address
 *   name        string: the name offered (unsanitised for outgoing)
 *   size        int64: bytes offered
 *   sha256      string: lowercase hex, NULL while the sender hashes
 *   mime        string
 *   done        int64: bytes sent or received and stored
 *   speed       double: bytes per second over the last seconds
 *   state       TcTransferState
 *   error       string: why it failed, for the user; NULL otherwise
 *   path        string: outgoing, the file sent; incoming, where it landed
 *               once done
 *   directory   string: incoming, where it will land
 *   created     int64: unix time of the offer */
TcTransfer      *tc_transfer_new            (const char          *id,
                                             TcMessageDirection   direction,
                                             const char          *peer);

const char      *tc_transfer_get_id         (TcTransfer *self);
TcMessageDirection tc_transfer_get_direction (TcTransfer *self);
const char      *tc_transfer_get_peer       (TcTransfer *self);
const char      *tc_transfer_get_name       (TcTransfer *self);
gint64           tc_transfer_get_size       (TcTransfer *self);
const char      *tc_transfer_get_sha256     (TcTransfer *self);
const char      *tc_transfer_get_mime       (TcTransfer *self);
gint64           tc_transfer_get_done       (TcTransfer *self);
double           tc_transfer_get_speed      (TcTransfer *self);
TcTransferState  tc_transfer_get_state      (TcTransfer *self);
const char      *tc_transfer_get_error      (TcTransfer *self);
const char      *tc_transfer_get_path       (TcTransfer *self);
const char      *tc_transfer_get_directory  (TcTransfer *self);
gint64           tc_transfer_get_created    (TcTransfer *self);
/* Done, failed, cancelled or declined: nothing more will happen. */
gboolean         tc_transfer_is_finished    (TcTransfer *self);

void             tc_transfer_set_name       (TcTransfer *self, const char *name);
void             tc_transfer_set_size       (TcTransfer *self, gint64 size);
void             tc_transfer_set_sha256     (TcTransfer *self, const char *sha256);
void             tc_transfer_set_mime       (TcTransfer *self, const char *mime);
/* Also updates the speed. */
void             tc_transfer_set_done       (TcTransfer *self, gint64 done);
void             tc_transfer_set_state      (TcTransfer *self, TcTransferState state);
void             tc_transfer_set_error      (TcTransfer *self, const char *error);
void             tc_transfer_set_path       (TcTransfer *self, const char *path);
void             tc_transfer_set_directory  (TcTransfer *self, const char *directory);
void             tc_transfer_set_created    (TcTransfer *self, gint64 created);

G_END_DECLS
