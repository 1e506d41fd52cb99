/* tc-stream.h: one authenticated JMU stream between two nodes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-identity.h"
#include "tc-jmu.h"

G_BEGIN_DECLS

typedef enum {
  TC_STREAM_ROLE_INITIATOR,   /* we connected to them */
  TC_STREAM_ROLE_RECEIVER,    /* they connected to us */
} TcStreamRole;

typedef enum {
  TC_STREAM_STATE_HANDSHAKE,
  TC_STREAM_STATE_READY,
  TC_STREAM_STATE_CLOSING,
  TC_STREAM_STATE_CLOSED,
} TcStreamState;

#define TC_TYPE_STREAM (tc_stream_get_type ())

G_DECLARE_FINAL_TYPE (TcStream, tc_stream, TC, STREAM, GObject)

/* Signals:
 *   authenticated ()       receiver only: the peer proved its address. A
 *                          handler may refuse it with tc_stream_fail(); if
 *                          it does not, "ready" is sent.
 *   ready ()               the stream carries chat JMUs now
 *   jmu (TcJmu *)          a chat JMU from the authenticated peer (pings,
 *                          pongs, close and errors are handled here)
 *   batch-done ()          the JMUs read in one go have been emitted: the
 *                          place to commit the store and send receipts
 *   written ()             a write finished: tc_stream_get_pending_bytes()
 *                          went down (file senders refill from here)
 *   closed (GError *)      once, at the end; NULL after a clean close. The
 *                          error is TC_JMU_ERROR with the condition, from
 *                          either side, or an I/O error.
 */
TcStream      *tc_stream_new            (GIOStream     *io,
                                         TcIdentity    *identity,
                                         TcStreamRole   role,
                                         const char    *peer);
void           tc_stream_start          (TcStream      *self);

TcStreamRole   tc_stream_get_role       (TcStream      *self);
TcStreamState  tc_stream_get_state      (TcStream      *self);
/* The peer's address: known from the start for an initiator, after the
 * open JMU for a receiver (authenticated only once ready). */
const char    *tc_stream_get_peer       (TcStream      *self);
/* g_get_monotonic_time() at creation. */
gint64         tc_stream_get_created    (TcStream      *self);
/* The wire version agreed in the handshake, e.g. "1.0". */
const char    *tc_stream_get_version    (TcStream      *self);

/* File streams ("open": "file"): an initiator sets the TID before
 * tc_stream_start(); a receiver knows it once the open arrived. NULL for a
 * chat stream. */
void           tc_stream_set_file_id    (TcStream      *self,
                                         const char    *tid);
const char    *tc_stream_get_file_id    (TcStream      *self);
/* Back-pressure: a paused stream reads nothing more from the socket (lines
 * already read are still handled). */
void           tc_stream_set_paused     (TcStream      *self,
                                         gboolean       paused);
/* Bytes queued or being written. */
gsize          tc_stream_get_pending_bytes (TcStream   *self);

/* Queues one line built by a tc_jmu_build_*() function. Ignored unless
 * ready. */
void           tc_stream_send           (TcStream      *self,
                                         const char    *line);
/* Queues whole lines (each ending in "\n") without copying them: file
 * senders hand over several chunk lines at once. Ignored unless ready. */
void           tc_stream_send_bytes     (TcStream      *self,
                                         GBytes        *lines);
/* Sends "close", waits at most 10 s for the answer, then closes. */
void           tc_stream_close          (TcStream      *self);
/* Sends {"error":…}, then closes. */
void           tc_stream_fail           (TcStream      *self,
                                         TcCondition    condition,
                                         const char    *text);

G_END_DECLS
