/* tc-stream.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/random.h>

#include "tc-address.h"
#include "tc-stream-private.h"
#include "tc-types.h"

#define READ_CHUNK (64 * 1024)
#define WRITE_COALESCE (64 * 1024)
#define MAX_OUTPUT_FOR_TESTS (4 * 1024 * 1024)

G_DEFINE_FINAL_TYPE (TcStream, tc_stream, G_TYPE_OBJECT)

guint _tc_stream_signals[N_SIGNALS];

static void tc_stream_read_next (TcStream *self);
static void tc_stream_flush (TcStream *self);

const char *
_tc_stream_own_address (TcStream *self)
{
  return tc_identity_get_address (self->identity);
}

char *
_tc_stream_random_sid (void)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  guint8 buf[24];
  char sid[sizeof buf + 1];

  if (getrandom (buf, sizeof buf, 0) != sizeof buf)
    g_error ("The system random source failed");

  for (gsize i = 0; i < sizeof buf; i++)
    sid[i] = alphabet[buf[i] & 63];
  sid[sizeof buf] = '\0';

  return g_strdup (sid);
}

static void
emit_closed (TcStream *self)
{
  if (self->closed_emitted)
    return;

  self->closed_emitted = TRUE;
  g_signal_emit (self, _tc_stream_signals[CLOSED], 0, self->close_error);
}

void
_tc_stream_queue_line (TcStream   *self,
                       const char *line)
{
  gsize len = strlen (line);

  if (self->state == TC_STREAM_STATE_CLOSED || self->close_after_flush)
    return;

  if (self->io == NULL)
    {
      if (self->test_output->len < MAX_OUTPUT_FOR_TESTS)
        g_string_append_len (self->test_output, line, len);
      return;
    }

  g_queue_push_tail (&self->outq, g_bytes_new (line, len));
  self->pending += len;
  tc_stream_flush (self);
}

void
_tc_stream_set_close_error (TcStream *self,
                            GError   *error)
{
  if (self->close_error == NULL)
    self->close_error = error;
  else
    g_error_free (error);
}

/* Ends the stream after what is queued has been written. */
void
_tc_stream_close_after_flush (TcStream *self)
{
  if (self->state == TC_STREAM_STATE_CLOSED)
    return;

  self->state = TC_STREAM_STATE_CLOSING;
  self->close_after_flush = TRUE;

  if (self->io == NULL || (self->writing == NULL && g_queue_is_empty (&self->outq)))
    _tc_stream_shutdown (self);
}

void
tc_stream_fail (TcStream    *self,
                TcCondition  condition,
                const char  *text)
{
  g_autofree char *line = NULL;
  g_autofree char *peer = tc_address_redact (self->peer);

  g_return_if_fail (TC_IS_STREAM (self));

  if (self->state == TC_STREAM_STATE_CLOSED || self->close_after_flush)
    return;

  g_message ("Stream with %s: sending error %s%s%s", peer,
             tc_condition_to_string (condition),
             text ? ": " : "", text ? text : "");

  line = tc_jmu_build_error (condition, text, _tc_stream_own_address (self));
  _tc_stream_queue_line (self, line);
  _tc_stream_set_close_error (self, g_error_new (TC_JMU_ERROR, condition, "%s%s%s",
                                      tc_condition_to_string (condition),
                                      text ? ": " : "", text ? text : ""));
  _tc_stream_close_after_flush (self);
}

static gboolean
handshake_timeout_cb (gpointer user_data)
{
  TcStream *self = user_data;

  self->handshake_source = 0;
  tc_stream_fail (self, TC_CONDITION_CONNECTION_TIMEOUT,
                  "handshake not finished in time");

  return G_SOURCE_REMOVE;
}

static gboolean
close_timeout_cb (gpointer user_data)
{
  TcStream *self = user_data;

  self->close_source = 0;
  _tc_stream_shutdown (self);

  return G_SOURCE_REMOVE;
}

static gboolean
idle_check_cb (gpointer user_data)
{
  TcStream *self = user_data;
  gint64 now = g_get_monotonic_time ();

  if (self->state != TC_STREAM_STATE_READY)
    return G_SOURCE_CONTINUE;

  if (self->ping_token != NULL)
    {
      if (now - self->ping_sent >= (gint64) self->pong_ms * 1000)
        tc_stream_fail (self, TC_CONDITION_CONNECTION_TIMEOUT, "no pong");
    }
  else if (now - self->last_rx >= (gint64) self->idle_ms * 1000)
    {
      g_autofree char *line = NULL;

      self->ping_token = _tc_stream_random_sid ();
      self->ping_sent = now;
      line = tc_jmu_build_ping (self->ping_token, _tc_stream_own_address (self));
      _tc_stream_queue_line (self, line);
    }

  return G_SOURCE_CONTINUE;
}

void
_tc_stream_arm_idle_check (TcStream *self)
{
  guint period = MAX (MIN (self->idle_ms, self->pong_ms) / 4, 10);

  g_clear_handle_id (&self->idle_source, g_source_remove);
  self->idle_source = g_timeout_add (period, idle_check_cb, self);
}

/* Splits the input buffer into lines and handles each complete one.
 * self->scanned is where the search for the next "\n" resumes, so a long
 * line arriving in many reads is scanned once. */
static void
process_input (TcStream *self)
{
  gsize start = 0;

  g_object_ref (self);

  while (self->state != TC_STREAM_STATE_CLOSED && !self->close_after_flush)
    {
      const guint8 *buf = self->inbuf->data;
      gsize from = MAX (self->scanned, start);
      const guint8 *nl = memchr (buf + from, '\n', self->inbuf->len - from);
      gsize line_len;

      if (nl == NULL)
        {
          self->scanned = self->inbuf->len;
          if (self->inbuf->len - start > TC_JMU_MAX_LINE)
            tc_stream_fail (self, TC_CONDITION_POLICY_VIOLATION, "line too long");
          break;
        }

      line_len = (nl - buf) - start;
      if (line_len > TC_JMU_MAX_LINE)
        {
          tc_stream_fail (self, TC_CONDITION_POLICY_VIOLATION, "line too long");
          break;
        }

      self->last_rx = g_get_monotonic_time ();
      _tc_stream_handle_line (self, (const char *) buf + start, line_len);
      start = (nl - buf) + 1;
    }

  /* By hand for the same reason as in tc_stream_read_next(). */
  start = MIN (start, self->inbuf->len);
  memmove (self->inbuf->data, self->inbuf->data + start, self->inbuf->len - start);
  self->inbuf->len -= start;
  self->scanned = self->scanned > start ? self->scanned - start : 0;

  if (self->state == TC_STREAM_STATE_READY || self->state == TC_STREAM_STATE_CLOSING)
    g_signal_emit (self, _tc_stream_signals[BATCH_DONE], 0);

  g_object_unref (self);
}

void
_tc_stream_feed (TcStream     *self,
                 const guint8 *data,
                 gsize         length)
{
  g_return_if_fail (TC_IS_STREAM (self));

  if (self->state == TC_STREAM_STATE_CLOSED || self->close_after_flush)
    return;

  g_byte_array_append (self->inbuf, data, length);
  process_input (self);
}

char *
_tc_stream_take_output (TcStream *self)
{
  return g_strdup (self->test_output->str);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(TcStream) self = user_data;
  g_autoptr(GError) error = NULL;
  gssize n;

  self->reading = FALSE;
  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);

  if (self->state == TC_STREAM_STATE_CLOSED)
    return;

  if (n < 0)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _tc_stream_set_close_error (self, g_steal_pointer (&error));
      _tc_stream_shutdown (self);
      return;
    }

  if (n == 0)
    {
      if (self->state != TC_STREAM_STATE_CLOSING)
        _tc_stream_set_close_error (self, g_error_new_literal (G_IO_ERROR,
                                                    G_IO_ERROR_CONNECTION_CLOSED,
                                                    "The peer closed the connection"));
      _tc_stream_shutdown (self);
      return;
    }

  g_byte_array_set_size (self->inbuf, self->inbuf->len + n);
  process_input (self);
  tc_stream_read_next (self);
}

static void
tc_stream_read_next (TcStream *self)
{
  gsize len;

  if (self->io == NULL || self->reading || self->paused ||
      self->state == TC_STREAM_STATE_CLOSED || self->close_after_flush)
    return;

  /* Straight into the end of the input buffer, without a copy: nothing
   * else touches it until read_cb() (the room stays allocated). */
  len = self->inbuf->len;
  g_byte_array_set_size (self->inbuf, len + self->read_size);
  /* Not g_byte_array_set_size(): shrinking clears the dropped bytes, a
   * memset of 1 MiB per read on a file stream. */
  self->inbuf->len = len;
  self->reading = TRUE;
  g_input_stream_read_async (g_io_stream_get_input_stream (self->io),
                             self->inbuf->data + len, self->read_size, G_PRIORITY_DEFAULT,
                             self->cancellable, read_cb, g_object_ref (self));
}

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(TcStream) self = user_data;
  g_autoptr(GError) error = NULL;

  if (self->writing != NULL)
    self->pending -= MIN (self->pending, g_bytes_get_size (self->writing));
  g_clear_pointer (&self->writing, g_bytes_unref);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        _tc_stream_set_close_error (self, g_steal_pointer (&error));
      _tc_stream_shutdown (self);
      return;
    }

  tc_stream_flush (self);
  if (self->state != TC_STREAM_STATE_CLOSED)
    g_signal_emit (self, _tc_stream_signals[WRITTEN], 0);
}

static void
tc_stream_flush (TcStream *self)
{
  g_autoptr(GByteArray) chunk = NULL;
  if (self->writing != NULL || self->state == TC_STREAM_STATE_CLOSED)
    return;

  if (g_queue_is_empty (&self->outq))
    {
      if (self->close_after_flush)
        _tc_stream_shutdown (self);
      return;
    }

  /* A big line (a file chunk) is written as it is, without a copy. */
  if (g_bytes_get_size (g_queue_peek_head (&self->outq)) >= WRITE_COALESCE)
    {
      self->writing = g_queue_pop_head (&self->outq);
      goto write;
    }

  /* Coalesce small lines into one write: a burst of receipts is one
   * syscall, not ten thousand. */
  chunk = g_byte_array_new ();
  while (!g_queue_is_empty (&self->outq) && chunk->len < WRITE_COALESCE)
    {
      g_autoptr(GBytes) bytes = g_queue_pop_head (&self->outq);
      gsize len;
      const guint8 *d = g_bytes_get_data (bytes, &len);

      g_byte_array_append (chunk, d, len);
    }

  self->writing = g_byte_array_free_to_bytes (g_steal_pointer (&chunk));
write:
  g_output_stream_write_all_async (g_io_stream_get_output_stream (self->io),
                                   g_bytes_get_data (self->writing, NULL),
                                   g_bytes_get_size (self->writing),
                                   G_PRIORITY_DEFAULT,
                                   self->cancellable, write_cb,
                                   g_object_ref (self));
}

void
_tc_stream_shutdown (TcStream *self)
{
  if (self->state == TC_STREAM_STATE_CLOSED)
    return;

  self->state = TC_STREAM_STATE_CLOSED;
  g_clear_handle_id (&self->handshake_source, g_source_remove);
  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_clear_handle_id (&self->close_source, g_source_remove);

  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->outq, (GDestroyNotify) g_bytes_unref);
  self->pending = 0;

  if (self->io != NULL)
    g_io_stream_close_async (self->io, G_PRIORITY_DEFAULT, NULL, NULL, NULL);

  g_object_ref (self);
  emit_closed (self);
  g_object_unref (self);
}

void
tc_stream_send (TcStream   *self,
                const char *line)
{
  g_return_if_fail (TC_IS_STREAM (self));
  g_return_if_fail (line != NULL);

  if (self->state != TC_STREAM_STATE_READY)
    return;

  _tc_stream_queue_line (self, line);
}

void
tc_stream_send_bytes (TcStream *self,
                      GBytes   *lines)
{
  g_return_if_fail (TC_IS_STREAM (self));
  g_return_if_fail (lines != NULL);

  if (self->state != TC_STREAM_STATE_READY || self->close_after_flush)
    return;

  if (self->io == NULL)
    {
      gsize len;
      const char *data = g_bytes_get_data (lines, &len);

      if (self->test_output->len < MAX_OUTPUT_FOR_TESTS)
        g_string_append_len (self->test_output, data, len);
      return;
    }

  g_queue_push_tail (&self->outq, g_bytes_ref (lines));
  self->pending += g_bytes_get_size (lines);
  tc_stream_flush (self);
}

void
tc_stream_close (TcStream *self)
{
  g_autofree char *line = NULL;

  g_return_if_fail (TC_IS_STREAM (self));

  if (self->state != TC_STREAM_STATE_READY)
    {
      if (self->state == TC_STREAM_STATE_HANDSHAKE)
        _tc_stream_shutdown (self);
      return;
    }

  line = tc_jmu_build_close (_tc_stream_own_address (self));
  _tc_stream_queue_line (self, line);
  self->state = TC_STREAM_STATE_CLOSING;
  self->close_source = g_timeout_add (self->close_ms, close_timeout_cb, self);
}

void
tc_stream_start (TcStream *self)
{
  g_return_if_fail (TC_IS_STREAM (self));

  self->handshake_source = g_timeout_add (self->handshake_ms,
                                          handshake_timeout_cb, self);

  if (self->role == TC_STREAM_ROLE_INITIATOR)
    {
      g_autofree char *line = NULL;

      if (self->file_id != NULL)
        line = tc_jmu_build_open_file (TC_PROTOCOL_VERSION, self->file_id,
                                       _tc_stream_own_address (self), self->peer);
      else
        line = tc_jmu_build_open (TC_PROTOCOL_VERSION, "message",
                                  _tc_stream_own_address (self), self->peer);
      _tc_stream_queue_line (self, line);
    }

  tc_stream_read_next (self);
}

void
_tc_stream_set_timeouts (TcStream *self,
                         guint     handshake_ms,
                         guint     idle_ms,
                         guint     pong_ms,
                         guint     close_ms)
{
  self->handshake_ms = handshake_ms;
  self->idle_ms = idle_ms;
  self->pong_ms = pong_ms;
  self->close_ms = close_ms;

  if (self->handshake_source != 0)
    {
      g_source_remove (self->handshake_source);
      self->handshake_source = g_timeout_add (handshake_ms, handshake_timeout_cb, self);
    }

  if (self->idle_source != 0)
    _tc_stream_arm_idle_check (self);
}

void
tc_stream_set_file_id (TcStream   *self,
                       const char *tid)
{
  g_return_if_fail (TC_IS_STREAM (self));
  g_return_if_fail (self->role == TC_STREAM_ROLE_INITIATOR);
  g_return_if_fail (tc_jmu_is_tid (tid));

  g_free (self->file_id);
  self->file_id = g_strdup (tid);
}

const char *
tc_stream_get_file_id (TcStream *self)
{
  g_return_val_if_fail (TC_IS_STREAM (self), NULL);
  return self->file_id;
}

void
tc_stream_set_paused (TcStream *self,
                      gboolean  paused)
{
  g_return_if_fail (TC_IS_STREAM (self));

  if (self->paused == !!paused)
    return;

  self->paused = !!paused;
  if (!paused)
    tc_stream_read_next (self);
}

gsize
tc_stream_get_pending_bytes (TcStream *self)
{
  g_return_val_if_fail (TC_IS_STREAM (self), 0);
  return self->pending;
}

TcStreamRole
tc_stream_get_role (TcStream *self)
{
  g_return_val_if_fail (TC_IS_STREAM (self), 0);
  return self->role;
}

TcStreamState
tc_stream_get_state (TcStream *self)
{
  g_return_val_if_fail (TC_IS_STREAM (self), 0);
  return self->state;
}

const char *
tc_stream_get_peer (TcStream *self)
{
  g_return_val_if_fail (TC_IS_STREAM (self), NULL);
  return self->peer;
}

gint64
tc_stream_get_created (TcStream *self)
{
  g_return_val_if_fail (TC_IS_STREAM (self), 0);
  return self->created;
}

const char *
tc_stream_get_version (TcStream *self)
{
  g_return_val_if_fail (TC_IS_STREAM (self), NULL);
  return self->version;
}

TcStream *
tc_stream_new (GIOStream    *io,
               TcIdentity   *identity,
               TcStreamRole  role,
               const char   *peer)
{
  TcStream *self;

  g_return_val_if_fail (io == NULL || G_IS_IO_STREAM (io), NULL);
  g_return_val_if_fail (TC_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (role == TC_STREAM_ROLE_RECEIVER || peer != NULL, NULL);

  self = g_object_new (TC_TYPE_STREAM, NULL);
  self->io = io ? g_object_ref (io) : NULL;
  self->identity = g_object_ref (identity);
  self->role = role;
  self->peer = g_strdup (peer);

  return self;
}

static void
tc_stream_dispose (GObject *object)
{
  TcStream *self = TC_STREAM (object);

  g_clear_handle_id (&self->handshake_source, g_source_remove);
  g_clear_handle_id (&self->idle_source, g_source_remove);
  g_clear_handle_id (&self->close_source, g_source_remove);
  g_cancellable_cancel (self->cancellable);

  if (self->io != NULL && !g_io_stream_is_closed (self->io))
    g_io_stream_close (self->io, NULL, NULL);
  g_clear_object (&self->io);

  G_OBJECT_CLASS (tc_stream_parent_class)->dispose (object);
}

static void
tc_stream_finalize (GObject *object)
{
  TcStream *self = TC_STREAM (object);

  g_clear_object (&self->identity);
  g_clear_object (&self->cancellable);
  g_queue_clear_full (&self->outq, (GDestroyNotify) g_bytes_unref);
  g_byte_array_unref (self->inbuf);
  g_string_free (self->test_output, TRUE);
  g_free (self->peer);
  g_free (self->version);
  g_free (self->sid);
  g_free (self->challenge);
  g_free (self->file_id);
  g_free (self->ping_token);
  g_clear_pointer (&self->writing, g_bytes_unref);
  g_clear_error (&self->close_error);

  G_OBJECT_CLASS (tc_stream_parent_class)->finalize (object);
}

static void
tc_stream_class_init (TcStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_stream_dispose;
  object_class->finalize = tc_stream_finalize;

  _tc_stream_signals[AUTHENTICATED] =
    g_signal_new ("authenticated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  _tc_stream_signals[READY] =
    g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  _tc_stream_signals[JMU] =
    g_signal_new ("jmu", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  TC_TYPE_JMU | G_SIGNAL_TYPE_STATIC_SCOPE);
  _tc_stream_signals[BATCH_DONE] =
    g_signal_new ("batch-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  _tc_stream_signals[WRITTEN] =
    g_signal_new ("written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  _tc_stream_signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
tc_stream_init (TcStream *self)
{
  self->cancellable = g_cancellable_new ();
  self->inbuf = g_byte_array_new ();
  self->read_size = READ_CHUNK;
  self->test_output = g_string_new (NULL);
  g_queue_init (&self->outq);
  self->created = g_get_monotonic_time ();
  self->last_rx = self->created;
  self->tokens = RATE_BURST;
  self->tokens_time = self->created;
  self->handshake_ms = 60 * 1000;
  self->idle_ms = 120 * 1000;
  self->pong_ms = 60 * 1000;
  self->close_ms = 10 * 1000;
}

void
_tc_stream_freeze_rate_clock (TcStream *self)
{
  g_return_if_fail (TC_IS_STREAM (self));

  self->frozen_time = MAX (g_get_monotonic_time (), 1);
}
