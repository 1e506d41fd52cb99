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
/* File streams carry 700 KB lines and no receipts: bigger reads. */
#define FILE_READ_CHUNK (1024 * 1024)
#define WRITE_COALESCE (64 * 1024)
#define MAX_OUTPUT_FOR_TESTS (4 * 1024 * 1024)

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

G_DEFINE_FINAL_TYPE (TcStream, tc_stream, G_TYPE_OBJECT)

enum {
  AUTHENTICATED,
  READY,
  JMU,
  BATCH_DONE,
  WRITTEN,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void tc_stream_read_next (TcStream *self);
static void tc_stream_flush (TcStream *self);
static void tc_stream_shutdown (TcStream *self);

static const char *
own_address (TcStream *self)
{
  return tc_identity_get_address (self->identity);
}

static char *
random_base64 (gsize n)
{
  g_autofree guint8 *buf = g_malloc (n);

  if (getrandom (buf, n, 0) != (gssize) n)
    g_error ("The system random source failed");

  return g_base64_encode (buf, n);
}

static char *
random_sid (void)
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
  g_signal_emit (self, signals[CLOSED], 0, self->close_error);
}

static void
queue_line (TcStream   *self,
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

static void
set_close_error (TcStream *self,
                 GError   *error)
{
  if (self->close_error == NULL)
    self->close_error = error;
  else
    g_error_free (error);
}

/* Ends the stream after what is queued has been written. */
static void
close_after_flush (TcStream *self)
{
  if (self->state == TC_STREAM_STATE_CLOSED)
    return;

  self->state = TC_STREAM_STATE_CLOSING;
  self->close_after_flush = TRUE;

  if (self->io == NULL || (self->writing == NULL && g_queue_is_empty (&self->outq)))
    tc_stream_shutdown (self);
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

  line = tc_jmu_build_error (condition, text, own_address (self));
  queue_line (self, line);
  set_close_error (self, g_error_new (TC_JMU_ERROR, condition, "%s%s%s",
                                      tc_condition_to_string (condition),
                                      text ? ": " : "", text ? text : ""));
  close_after_flush (self);
}

static void
fail_with_error (TcStream     *self,
                 const GError *error)
{
  if (error->domain == TC_JMU_ERROR)
    tc_stream_fail (self, error->code, error->message);
  else
    tc_stream_fail (self, TC_CONDITION_INTERNAL_SERVER_ERROR, NULL);
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
  tc_stream_shutdown (self);

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

      self->ping_token = random_sid ();
      self->ping_sent = now;
      line = tc_jmu_build_ping (self->ping_token, own_address (self));
      queue_line (self, line);
    }

  return G_SOURCE_CONTINUE;
}

static void
arm_idle_check (TcStream *self)
{
  guint period = MAX (MIN (self->idle_ms, self->pong_ms) / 4, 10);

  g_clear_handle_id (&self->idle_source, g_source_remove);
  self->idle_source = g_timeout_add (period, idle_check_cb, self);
}

static void
become_ready (TcStream *self)
{
  self->state = TC_STREAM_STATE_READY;
  g_clear_handle_id (&self->handshake_source, g_source_remove);
  arm_idle_check (self);

  g_signal_emit (self, signals[READY], 0);
}

/* The version both sides speak: the lower one. Returns FALSE when that is
 * not a 1.x version this node implements. */
static gboolean
negotiate_version (TcStream   *self,
                   const char *theirs)
{
  guint major, minor;

  if (!tc_version_parse (theirs, &major, &minor))
    return FALSE;

  if (tc_version_compare (major, minor, TC_PROTOCOL_MAJOR, TC_PROTOCOL_MINOR) > 0)
    {
      major = TC_PROTOCOL_MAJOR;
      minor = TC_PROTOCOL_MINOR;
    }

  if (major != TC_PROTOCOL_MAJOR)
    return FALSE;

  g_free (self->version);
  self->version = g_strdup_printf ("%u.%u", major, minor);

  return TRUE;
}

static void
handle_remote_error (TcStream *self,
                     TcJmu    *jmu)
{
  const char *condition = tc_jmu_get_value_string (jmu);
  const char *text = tc_jmu_get_string (jmu, "text");
  g_autofree char *peer = tc_address_redact (self->peer);
  TcCondition code = TC_CONDITION_RESET;

  tc_condition_from_string (condition, &code);
  g_message ("Stream with %s: peer sent error %s", peer, condition);
  set_close_error (self, g_error_new (TC_JMU_ERROR, code, "%s%s%s",
                                      condition, text ? ": " : "",
                                      text ? text : ""));
  tc_stream_shutdown (self);
}

static void
receiver_handle (TcStream *self,
                 TcJmu    *jmu)
{
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  if (kind == TC_JMU_KIND_ERROR)
    {
      handle_remote_error (self, jmu);
      return;
    }

  if (!self->got_open)
    {
      const char *to;
      g_autofree char *line = NULL;

      if (kind != TC_JMU_KIND_OPEN)
        {
          tc_stream_fail (self, TC_CONDITION_NOT_AUTHORIZED, "expected open");
          return;
        }

      if (!negotiate_version (self, tc_jmu_get_string (jmu, "version")))
        {
          tc_stream_fail (self, TC_CONDITION_UNSUPPORTED_VERSION, NULL);
          return;
        }

      /* A file stream's TID is checked by whoever adopts the stream. */
      if (g_str_equal (tc_jmu_get_value_string (jmu), "file"))
        {
          self->file_id = g_strdup (tc_jmu_get_string (jmu, "file"));
          self->read_size = FILE_READ_CHUNK;
        }

      to = tc_jmu_get_string (jmu, "to");
      if (!g_str_equal (to, own_address (self)))
        {
          tc_stream_fail (self, TC_CONDITION_HOST_UNKNOWN, NULL);
          return;
        }

      if (g_str_equal (tc_jmu_get_from (jmu), own_address (self)))
        {
          tc_stream_fail (self, TC_CONDITION_INVALID_FROM, NULL);
          return;
        }

      self->got_open = TRUE;
      self->peer = g_strdup (tc_jmu_get_from (jmu));
      self->sid = random_sid ();
      self->challenge = random_base64 (TC_CHALLENGE_LEN);
      line = tc_jmu_build_ack (self->version, own_address (self), self->peer,
                               self->sid, self->challenge);
      queue_line (self, line);
      return;
    }

  if (kind != TC_JMU_KIND_AUTH)
    {
      tc_stream_fail (self, TC_CONDITION_NOT_AUTHORIZED, "expected auth");
      return;
    }

  if (!g_str_equal (tc_jmu_get_from (jmu), self->peer))
    {
      tc_stream_fail (self, TC_CONDITION_INVALID_FROM, NULL);
      return;
    }

  {
    g_autoptr(GBytes) signature = tc_jmu_dup_signature (jmu);
    g_autofree char *payload = tc_jmu_auth_payload (self->sid, self->challenge,
                                                    self->peer,
                                                    own_address (self));
    g_autofree char *line = NULL;

    if (!tc_identity_verify (self->peer, (const guint8 *) payload,
                             strlen (payload),
                             g_bytes_get_data (signature, NULL)))
      {
        tc_stream_fail (self, TC_CONDITION_NOT_AUTHORIZED, "bad signature");
        return;
      }

    g_signal_emit (self, signals[AUTHENTICATED], 0);
    if (self->state != TC_STREAM_STATE_HANDSHAKE)
      return;

    line = tc_jmu_build_ready (own_address (self));
    queue_line (self, line);
    become_ready (self);
  }
}

static void
initiator_handle (TcStream *self,
                  TcJmu    *jmu)
{
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  if (kind == TC_JMU_KIND_ERROR)
    {
      handle_remote_error (self, jmu);
      return;
    }

  if (self->sid == NULL)
    {
      g_autofree char *payload = NULL;
      g_autofree char *signature_b64 = NULL;
      g_autofree char *line = NULL;
      guint8 signature[TC_SIGNATURE_LEN];

      if (kind != TC_JMU_KIND_ACK)
        {
          tc_stream_fail (self, TC_CONDITION_NOT_AUTHORIZED, "expected ack");
          return;
        }

      if (!g_str_equal (tc_jmu_get_from (jmu), self->peer))
        {
          tc_stream_fail (self, TC_CONDITION_INVALID_FROM, NULL);
          return;
        }

      if (!g_str_equal (tc_jmu_get_string (jmu, "to"), own_address (self)))
        {
          tc_stream_fail (self, TC_CONDITION_HOST_UNKNOWN, NULL);
          return;
        }

      if (!negotiate_version (self, tc_jmu_get_string (jmu, "version")))
        {
          tc_stream_fail (self, TC_CONDITION_UNSUPPORTED_VERSION, NULL);
          return;
        }

      self->sid = g_strdup (tc_jmu_get_string (jmu, "id"));
      self->challenge = g_strdup (tc_jmu_get_string (jmu, "challenge"));
      payload = tc_jmu_auth_payload (self->sid, self->challenge,
                                     own_address (self), self->peer);
      tc_identity_sign (self->identity, (const guint8 *) payload,
                        strlen (payload), signature);
      signature_b64 = g_base64_encode (signature, sizeof signature);
      line = tc_jmu_build_auth (own_address (self), signature_b64);
      queue_line (self, line);
      return;
    }

  if (kind != TC_JMU_KIND_READY)
    {
      tc_stream_fail (self, TC_CONDITION_NOT_AUTHORIZED, "expected ready");
      return;
    }

  if (!g_str_equal (tc_jmu_get_from (jmu), self->peer))
    {
      tc_stream_fail (self, TC_CONDITION_INVALID_FROM, NULL);
      return;
    }

  become_ready (self);
}

static gboolean
take_token (TcStream *self)
{
  gint64 now = self->frozen_time != 0 ? self->frozen_time : g_get_monotonic_time ();

  self->tokens = MIN (RATE_BURST, self->tokens +
                      (now - self->tokens_time) * RATE_PER_SECOND / G_USEC_PER_SEC);
  self->tokens_time = now;

  if (self->tokens < 1.0)
    return FALSE;

  self->tokens -= 1.0;
  return TRUE;
}

static void
ready_handle (TcStream *self,
              TcJmu    *jmu)
{
  const char *from = tc_jmu_get_from (jmu);
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  if (from == NULL)
    {
      tc_stream_fail (self, TC_CONDITION_BAD_FORMAT, "missing from");
      return;
    }

  if (!g_str_equal (from, self->peer))
    {
      tc_stream_fail (self, TC_CONDITION_INVALID_FROM, NULL);
      return;
    }

  if (!take_token (self))
    {
      tc_stream_fail (self, TC_CONDITION_POLICY_VIOLATION, "too many JMUs");
      return;
    }

  switch (kind)
    {
    case TC_JMU_KIND_ERROR:
      handle_remote_error (self, jmu);
      break;

    case TC_JMU_KIND_PING:
      {
        g_autofree char *line = tc_jmu_build_pong (tc_jmu_get_value_string (jmu),
                                                   own_address (self));
        queue_line (self, line);
      }
      break;

    case TC_JMU_KIND_PONG:
      if (g_strcmp0 (self->ping_token, tc_jmu_get_value_string (jmu)) == 0)
        g_clear_pointer (&self->ping_token, g_free);
      break;

    case TC_JMU_KIND_CLOSE:
      {
        g_autofree char *line = tc_jmu_build_close_ack (own_address (self));
        queue_line (self, line);
        close_after_flush (self);
      }
      break;

    case TC_JMU_KIND_CLOSE_ACK:
      if (self->state == TC_STREAM_STATE_CLOSING)
        tc_stream_shutdown (self);
      break;

    /* A late handshake JMU or a kind from a newer version: ignored. */
    case TC_JMU_KIND_OPEN:
    case TC_JMU_KIND_ACK:
    case TC_JMU_KIND_AUTH:
    case TC_JMU_KIND_READY:
    case TC_JMU_KIND_UNKNOWN:
      break;

    case TC_JMU_KIND_MESSAGE:
    case TC_JMU_KIND_RECEIPT:
    case TC_JMU_KIND_STATUS:
    case TC_JMU_KIND_PROFILE:
    case TC_JMU_KIND_TYPING:
    case TC_JMU_KIND_CONTACT_REQUEST:
    case TC_JMU_KIND_CONTACT_ACCEPT:
    case TC_JMU_KIND_CONTACT_DECLINE:
    default:
      if (self->state == TC_STREAM_STATE_READY)
        g_signal_emit (self, signals[JMU], 0, jmu);
      break;
    }
}

static void
handle_line (TcStream   *self,
             const char *line,
             gsize       length)
{
  g_autoptr(TcJmu) jmu = NULL;
  g_autoptr(GError) error = NULL;
  gsize i;

  for (i = 0; i < length; i++)
    if (!g_ascii_isspace (line[i]))
      break;
  if (i == length)
    return; /* keep-alive */

  jmu = tc_jmu_parse (line, length, &error);
  if (jmu == NULL)
    {
      fail_with_error (self, error);
      return;
    }

  if (self->state == TC_STREAM_STATE_HANDSHAKE)
    {
      if (self->role == TC_STREAM_ROLE_RECEIVER)
        receiver_handle (self, jmu);
      else
        initiator_handle (self, jmu);
    }
  else
    {
      ready_handle (self, jmu);
    }
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
      handle_line (self, (const char *) buf + start, line_len);
      start = (nl - buf) + 1;
    }

  /* By hand for the same reason as in tc_stream_read_next(). */
  start = MIN (start, self->inbuf->len);
  memmove (self->inbuf->data, self->inbuf->data + start, self->inbuf->len - start);
  self->inbuf->len -= start;
  self->scanned = self->scanned > start ? self->scanned - start : 0;

  if (self->state == TC_STREAM_STATE_READY || self->state == TC_STREAM_STATE_CLOSING)
    g_signal_emit (self, signals[BATCH_DONE], 0);

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
        set_close_error (self, g_steal_pointer (&error));
      tc_stream_shutdown (self);
      return;
    }

  if (n == 0)
    {
      if (self->state != TC_STREAM_STATE_CLOSING)
        set_close_error (self, g_error_new_literal (G_IO_ERROR,
                                                    G_IO_ERROR_CONNECTION_CLOSED,
                                                    "The peer closed the connection"));
      tc_stream_shutdown (self);
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
        set_close_error (self, g_steal_pointer (&error));
      tc_stream_shutdown (self);
      return;
    }

  tc_stream_flush (self);
  if (self->state != TC_STREAM_STATE_CLOSED)
    g_signal_emit (self, signals[WRITTEN], 0);
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
        tc_stream_shutdown (self);
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

static void
tc_stream_shutdown (TcStream *self)
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

  queue_line (self, line);
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
        tc_stream_shutdown (self);
      return;
    }

  line = tc_jmu_build_close (own_address (self));
  queue_line (self, line);
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
                                       own_address (self), self->peer);
      else
        line = tc_jmu_build_open (TC_PROTOCOL_VERSION, "message",
                                  own_address (self), self->peer);
      queue_line (self, line);
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
    arm_idle_check (self);
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

  signals[AUTHENTICATED] =
    g_signal_new ("authenticated", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[READY] =
    g_signal_new ("ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[JMU] =
    g_signal_new ("jmu", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  TC_TYPE_JMU | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[BATCH_DONE] =
    g_signal_new ("batch-done", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[WRITTEN] =
    g_signal_new ("written", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[CLOSED] =
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
