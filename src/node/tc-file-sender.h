/* tc-file-sender.h: one outgoing file stream
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-identity.h"
#include "tc-transfer.h"

G_BEGIN_DECLS

#define TC_TYPE_FILE_SENDER (tc_file_sender_get_type ())

G_DECLARE_FINAL_TYPE (TcFileSender, tc_file_sender, TC, FILE_SENDER, GObject)

/* Connects to the transfer's peer through @socks, opens a file stream for
 * it and sends the file from @offset in chunks, reading the next batch of
 * them only when the stream has written all but one (TCP back-pressure all
 * the way to the disk), then "close".
 *
 * Signals:
 *   finished (GError *)   once: NULL when every byte was written and the
 *                         stream closed cleanly; the error otherwise
 *                         (G_IO_ERROR_CANCELLED after tc_file_sender_stop()) */
TcFileSender *tc_file_sender_new    (TcTransfer     *transfer,
                                     TcIdentity     *identity,
                                     GSocketAddress *socks,
                                     gint64          offset);
void          tc_file_sender_start  (TcFileSender   *self);
/* Stops at once: no more chunks. */
void          tc_file_sender_stop   (TcFileSender   *self);
TcTransfer   *tc_file_sender_get_transfer (TcFileSender *self);

G_END_DECLS
