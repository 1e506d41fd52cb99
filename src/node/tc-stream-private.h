/* tc-stream-private.h: hooks for tests and the fuzzer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-stream.h"

G_BEGIN_DECLS

/* Feeds bytes as if read from the peer. With a NULL GIOStream, what the
 * stream sends is collected and can be taken with _tc_stream_take_output(). */
void     _tc_stream_feed            (TcStream     *self,
                                     const guint8 *data,
                                     gsize         length);
char    *_tc_stream_take_output     (TcStream     *self);

/* Shorter timers for tests, in milliseconds. */
void     _tc_stream_set_timeouts    (TcStream     *self,
                                     guint         handshake_ms,
                                     guint         idle_ms,
                                     guint         pong_ms,
                                     guint         close_ms);

/* Stops the clock of the rate limiter, so that what a test feeds is
 * judged as if it all arrived at once, however slow the machine. */
void     _tc_stream_freeze_rate_clock (TcStream   *self);

G_END_DECLS
