/* tc-stream-private.h: what the files of TcStream share; hooks for tests
 * and the fuzzer
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-stream.h"

G_BEGIN_DECLS

/* Rate limit per stream, in JMUs: a token bucket. Bursts of 10,000 messages
 * are normal (a reconnect flushes an outbox), floods are not. */
#define RATE_BURST 40000.0
#define RATE_PER_SECOND 20000.0

struct _TcStream
{
  GObject        parent_instance;

  GIOStream     *io;
  TcIdentity    *identity;
  GCancellable  *cancellable;
  TcStreamRole   role;
  TcStreamState  state;
  char          *peer;
  char          *version;
  gint64         created;

  /* Receiver side of the handshake. */
  char          *sid;
  char          *challenge;
  gboolean       got_open;
  char          *file_id;       /* the TID of an "open": "file" stream */
  gboolean       paused;
  gsize          pending;       /* bytes queued or being written */

  GByteArray    *inbuf;
  gsize          scanned;
  gsize          read_size;
  gboolean       reading;

  GQueue         outq;          /* of GBytes */
  GBytes        *writing;       /* the chunk being written */
  gboolean       close_after_flush;
  GString       *test_output;

  gint64         last_rx;
  char          *ping_token;
  gint64         ping_sent;
  double         tokens;
  gint64         tokens_time;
  gint64         frozen_time;   /* tests: the rate limiter's clock, if set */

  guint          handshake_ms;
  guint          idle_ms;
  guint          pong_ms;
  guint          close_ms;
  guint          handshake_source;
  guint          idle_source;
  guint          close_source;

  GError        *close_error;
  gboolean       closed_emitted;
};

enum {
  AUTHENTICATED,
  READY,
  JMU,
  BATCH_DONE,
  WRITTEN,
  CLOSED,
  N_SIGNALS
};

extern guint _tc_stream_signals[N_SIGNALS];

/* tc-stream.c */
const char *_tc_stream_own_address         (TcStream     *self);
char       *_tc_stream_random_sid          (void);
void        _tc_stream_queue_line          (TcStream     *self,
                                            const char   *line);
void        _tc_stream_set_close_error     (TcStream     *self,
                                            GError       *error);
void        _tc_stream_close_after_flush   (TcStream     *self);
void        _tc_stream_shutdown            (TcStream     *self);
void        _tc_stream_arm_idle_check      (TcStream     *self);

/* tc-stream-handshake.c */
void        _tc_stream_receiver_handle     (TcStream     *self,
                                            TcJmu        *jmu);
void        _tc_stream_initiator_handle    (TcStream     *self,
                                            TcJmu        *jmu);

/* tc-stream-dispatch.c */
void        _tc_stream_handle_remote_error (TcStream     *self,
                                            TcJmu        *jmu);
void        _tc_stream_handle_line         (TcStream     *self,
                                            const char   *line,
                                            gsize         length);

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
