/* tc-file-receiver.h: one incoming file stream, written to the partial file
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-stream.h"
#include "tc-transfer.h"

G_BEGIN_DECLS

#define TC_TYPE_FILE_RECEIVER (tc_file_receiver_get_type ())

G_DECLARE_FINAL_TYPE (TcFileReceiver, tc_file_receiver, TC, FILE_RECEIVER, GObject)

/* Takes the chunks of a ready file stream and appends them to the partial
 * file @partial_path, whose size on disk is where the sender must start.
 * While more than a few chunks wait for the disk, the stream stops reading
 * (back-pressure to the sender). A chunk at the wrong offset fails the
 * stream with bad-format, bytes beyond the offered size with
 * policy-violation; neither is written.
 *
 * Signals:
 *   finished (GError *)   once. NULL: the partial file holds all the
 *                         offered bytes, flushed to disk, and
 *                         tc_file_receiver_get_sha256() says what they
 *                         hash to. Otherwise why it
 *                         stopped; TC_FILE_RECEIVER_DISK_FULL for a full
 *                         disk or quota. */
TcFileReceiver *tc_file_receiver_new    (TcTransfer   *transfer,
                                         TcStream     *stream,
                                         const char   *partial_path,
                                         GError      **error);
void            tc_file_receiver_start  (TcFileReceiver *self);
void            tc_file_receiver_stop   (TcFileReceiver *self);
TcStream       *tc_file_receiver_get_stream (TcFileReceiver *self);
/* Once finished without error: the SHA-256 of the whole file, computed as
 * it was written (and of what was on disk before it). */
const char     *tc_file_receiver_get_sha256 (TcFileReceiver *self);

G_END_DECLS
