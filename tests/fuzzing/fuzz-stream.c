/* fuzz-stream.c: libFuzzer target for the stream state machine
 *
 * A TcStream without a socket is fed the input as if the peer wrote it, and
 * what it answers is checked: every line it writes is a valid JMU from us,
 * nothing follows an error, the state only moves forward, nothing is written
 * once closed, and a receiver only becomes ready for a signature the harness
 * made with the peer's key.
 *
 * The first byte is not fed:
 *   bit 0      0: we are the receiver (Bob), 1: the initiator (Alice)
 *   bits 1-2   how the rest is cut into feed calls: all at once, line by
 *              line, chunks of 1-8 bytes, chunks of 61-488 bytes
 *   bits 3-5   the chunk size
 *   bit 6      refuse the peer from the "authenticated" handler
 *   bit 7      answer each message with a receipt from the "jmu" handler
 *
 * The rest may hold tokens the harness acts on instead of feeding them:
 *   @AUTH@   the auth line (no "\n") Alice signs for the SID and challenge
 *            of the last ack we wrote: the only way past a receiver's
 *            handshake, since the challenge is random
 *   @ME@     our address        @PEER@   the peer's address
 *   @SEND@   tc_stream_send() of a message to the peer
 *   @CLOSE@  tc_stream_close()
 *
 * A receiver whose peer opens a file stream ("open": "file") gets a
 * TcFileReceiver once ready, for a 64 KiB transfer written to /dev/null: its
 * chunks are checked there (offsets, the offered size), and the bytes it
 * counts as written never pass the size.
 *
 * With FUZZ_STREAM_VERBOSE set, the final state and what the stream wrote
 * are printed: run the fuzzer on one file to see what an input does.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc-file-receiver.h"
#include "tc-identity.h"
#include "tc-jmu.h"
#include "tc-stream-private.h"

#define FILE_SIZE (64 * 1024)

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) G_STMT_START { if (!(cond)) { \
  g_printerr ("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
  abort (); } } G_STMT_END

enum {
  FLAG_INITIATOR = 1 << 0,
  FLAG_REFUSE = 1 << 6,
  FLAG_RECEIPTS = 1 << 7,
};

typedef enum {
  SPLIT_WHOLE,
  SPLIT_LINES,
  SPLIT_SMALL,
  SPLIT_LARGE,
} Split;

typedef struct {
  TcStream      *stream;
  TcIdentity    *us;
  TcIdentity    *peer;
  guint8         flags;
  Split          split;
  gsize          chunk;

  TcStreamState  last_state;
  gboolean       signed_auth;   /* @AUTH@ signed a real ack */
  guint          n_authenticated;
  guint          n_ready;
  guint          n_closed;
  gboolean       closed_error_is_jmu;
  int            closed_code;
  gsize          output_when_closed;

  TcTransfer     *transfer;      /* of a file stream */
  TcFileReceiver *receiver;
  guint           n_finished;
} Harness;

static TcIdentity *alice;
static TcIdentity *bob;
static gboolean verbose;

static const char *
us (Harness *h)
{
  return tc_identity_get_address (h->us);
}

static const char *
peer (Harness *h)
{
  return tc_identity_get_address (h->peer);
}

static gsize
output_length (Harness *h)
{
  g_autofree char *output = _tc_stream_take_output (h->stream);

  return strlen (output);
}

/* After every step: the state never goes back, and a closed stream has
 * written its last byte. */
static void
check_step (Harness *h)
{
  TcStreamState state = tc_stream_get_state (h->stream);

  CHECK (state >= h->last_state);
  h->last_state = state;

  if (state == TC_STREAM_STATE_CLOSED)
    {
      CHECK (h->n_closed == 1);
      if (h->output_when_closed == G_MAXSIZE)
        h->output_when_closed = output_length (h);
      else
        CHECK (output_length (h) == h->output_when_closed);
    }
  else
    {
      CHECK (h->n_closed == 0);
    }

  if (state == TC_STREAM_STATE_READY)
    CHECK (h->n_ready == 1);
}

static void
authenticated_cb (TcStream *stream,
                  Harness  *h)
{
  CHECK (tc_stream_get_role (stream) == TC_STREAM_ROLE_RECEIVER);
  CHECK (tc_stream_get_state (stream) == TC_STREAM_STATE_HANDSHAKE);
  CHECK (h->n_authenticated++ == 0);
  /* Only the harness holds a key, and only Alice's. */
  CHECK (h->signed_auth);
  CHECK (g_strcmp0 (tc_stream_get_peer (stream), peer (h)) == 0);

  if (h->flags & FLAG_REFUSE)
    tc_stream_fail (stream, TC_CONDITION_NOT_AUTHORIZED, NULL);
}

static void
file_finished_cb (Harness      *h,
                  const GError *error)
{
  CHECK (h->n_finished++ == 0);
  if (error == NULL)
    CHECK (tc_transfer_get_done (h->transfer) == FILE_SIZE);
}

static void
ready_cb (TcStream *stream,
          Harness  *h)
{
  CHECK (tc_stream_get_state (stream) == TC_STREAM_STATE_READY);
  CHECK (h->n_ready++ == 0);
  CHECK (g_strcmp0 (tc_stream_get_peer (stream), peer (h)) == 0);
  CHECK (g_strcmp0 (tc_stream_get_version (stream), "1.0") == 0);

  if (tc_stream_get_role (stream) == TC_STREAM_ROLE_RECEIVER)
    {
      CHECK (h->n_authenticated == 1);
      CHECK (!(h->flags & FLAG_REFUSE));
    }

  if (tc_stream_get_file_id (stream) != NULL)
    {
      g_autoptr(GError) error = NULL;

      CHECK (tc_jmu_is_tid (tc_stream_get_file_id (stream)));
      h->transfer = tc_transfer_new (tc_stream_get_file_id (stream),
                                     TC_MESSAGE_DIRECTION_INCOMING, peer (h));
      tc_transfer_set_size (h->transfer, FILE_SIZE);
      h->receiver = tc_file_receiver_new (h->transfer, stream, "/dev/null", &error);
      CHECK (h->receiver != NULL);
      g_signal_connect_swapped (h->receiver, "finished", G_CALLBACK (file_finished_cb), h);
      tc_file_receiver_start (h->receiver);
    }
}

static void
jmu_cb (TcStream *stream,
        TcJmu    *jmu,
        Harness  *h)
{
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  CHECK (tc_stream_get_state (stream) == TC_STREAM_STATE_READY);
  CHECK (g_strcmp0 (tc_jmu_get_from (jmu), peer (h)) == 0);
  CHECK ((kind >= TC_JMU_KIND_MESSAGE && kind <= TC_JMU_KIND_CONTACT_DECLINE) ||
         kind >= TC_JMU_KIND_FILE_OFFER);

  if (kind == TC_JMU_KIND_MESSAGE && (h->flags & FLAG_RECEIPTS))
    {
      g_autofree char *line = tc_jmu_build_receipt (tc_jmu_get_string (jmu, "id"),
                                                    us (h));
      tc_stream_send (stream, line);
    }
}

static void
batch_done_cb (TcStream *stream,
               Harness  *h)
{
  TcStreamState state = tc_stream_get_state (stream);

  CHECK (state == TC_STREAM_STATE_READY || state == TC_STREAM_STATE_CLOSING);
}

static void
closed_cb (TcStream     *stream,
           const GError *error,
           Harness      *h)
{
  CHECK (tc_stream_get_state (stream) == TC_STREAM_STATE_CLOSED);
  CHECK (h->n_closed++ == 0);

  if (error != NULL && error->domain == TC_JMU_ERROR)
    {
      CHECK (error->code >= 0 && error->code < TC_N_CONDITIONS);
      h->closed_error_is_jmu = TRUE;
      h->closed_code = error->code;
    }
}

/* The auth line Alice would write for the last ack in our output. Without
 * an ack yet, a well-formed auth that cannot verify. */
static char *
make_auth (Harness *h)
{
  g_autofree char *output = _tc_stream_take_output (h->stream);
  g_auto(GStrv) lines = g_strsplit (output, "\n", -1);
  g_autofree char *sid = NULL;
  g_autofree char *challenge = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *signature_b64 = NULL;
  guint8 signature[TC_SIGNATURE_LEN] = { 0 };
  char *line;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_autoptr(TcJmu) jmu = tc_jmu_parse (lines[i], strlen (lines[i]), NULL);

      if (jmu != NULL && tc_jmu_get_kind (jmu) == TC_JMU_KIND_ACK)
        {
          g_free (sid);
          g_free (challenge);
          sid = g_strdup (tc_jmu_get_string (jmu, "id"));
          challenge = g_strdup (tc_jmu_get_string (jmu, "challenge"));
        }
    }

  if (sid != NULL)
    {
      payload = tc_jmu_auth_payload (sid, challenge, peer (h), us (h));
      tc_identity_sign (h->peer, (const guint8 *) payload, strlen (payload),
                        signature);
      h->signed_auth = TRUE;
    }

  signature_b64 = g_base64_encode (signature, sizeof signature);
  line = tc_jmu_build_auth (peer (h), signature_b64);
  line[strlen (line) - 1] = '\0';

  return line;
}

static void
feed (Harness      *h,
      const guint8 *data,
      gsize         length)
{
  while (length > 0)
    {
      gsize n = length;

      if (h->split == SPLIT_LINES)
        {
          const guint8 *nl = memchr (data, '\n', length);

          if (nl != NULL)
            n = nl - data + 1;
        }
      else if (h->split != SPLIT_WHOLE)
        {
          n = MIN (h->chunk, length);
        }

      _tc_stream_feed (h->stream, data, n);
      check_step (h);
      /* The receiver's writes to /dev/null finish here. */
      for (guint i = 0; i < 64 && g_main_context_iteration (NULL, FALSE); i++)
        ;
      if (h->transfer != NULL)
        CHECK (tc_transfer_get_done (h->transfer) <= FILE_SIZE);
      data += n;
      length -= n;
    }
}

static void
feed_string (Harness    *h,
             const char *str)
{
  feed (h, (const guint8 *) str, strlen (str));
}

/* Acts on the token at @data, if there is one; returns its length or 0. */
static gsize
do_token (Harness      *h,
          const guint8 *data,
          gsize         length)
{
#define IS_TOKEN(t) (length >= sizeof t - 1 && memcmp (data, t, sizeof t - 1) == 0)

  if (IS_TOKEN ("@AUTH@"))
    {
      g_autofree char *line = make_auth (h);

      feed_string (h, line);
      return strlen ("@AUTH@");
    }

  if (IS_TOKEN ("@ME@"))
    {
      feed_string (h, us (h));
      return strlen ("@ME@");
    }

  if (IS_TOKEN ("@PEER@"))
    {
      feed_string (h, peer (h));
      return strlen ("@PEER@");
    }

  if (IS_TOKEN ("@SEND@"))
    {
      g_autofree char *line = tc_jmu_build_message ("hello", "mid-1", us (h),
                                                    peer (h),
                                                    "2026-11-22T10:04:05Z");

      tc_stream_send (h->stream, line);
      check_step (h);
      return strlen ("@SEND@");
    }

  if (IS_TOKEN ("@CLOSE@"))
    {
      tc_stream_close (h->stream);
      check_step (h);
      return strlen ("@CLOSE@");
    }

#undef IS_TOKEN

  return 0;
}

/* What the stream wrote, checked as a whole. */
static void
check_output (Harness *h)
{
  g_autofree char *output = _tc_stream_take_output (h->stream);
  g_auto(GStrv) lines = NULL;
  gsize len = strlen (output);
  guint n_lines;
  guint n_ready = 0;
  gboolean sent_error = FALSE;
  TcCondition sent_condition = 0;

  CHECK (len == 0 || output[len - 1] == '\n');
  if (len == 0)
    {
      CHECK (tc_stream_get_role (h->stream) == TC_STREAM_ROLE_RECEIVER);
      return;
    }

  output[len - 1] = '\0';
  lines = g_strsplit (output, "\n", -1);
  n_lines = g_strv_length (lines);

  for (guint i = 0; i < n_lines; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TcJmu) jmu = tc_jmu_parse (lines[i], strlen (lines[i]), &error);
      TcJmuKind kind;

      if (jmu == NULL)
        g_printerr ("we wrote a line that does not parse: %s\n", error->message);
      CHECK (jmu != NULL);
      kind = tc_jmu_get_kind (jmu);
      CHECK (kind != TC_JMU_KIND_UNKNOWN);
      CHECK (g_strcmp0 (tc_jmu_get_from (jmu), us (h)) == 0);

      /* The handshake lines are each written once, first. */
      if (tc_stream_get_role (h->stream) == TC_STREAM_ROLE_INITIATOR)
        {
          CHECK ((kind == TC_JMU_KIND_OPEN) == (i == 0));
          CHECK (kind != TC_JMU_KIND_ACK && kind != TC_JMU_KIND_READY);
          if (kind == TC_JMU_KIND_AUTH)
            CHECK (i == 1);
        }
      else
        {
          CHECK (kind != TC_JMU_KIND_OPEN && kind != TC_JMU_KIND_AUTH);
          if (kind == TC_JMU_KIND_ACK)
            CHECK (i == 0);
          if (kind == TC_JMU_KIND_READY)
            CHECK (i == 1 && n_ready++ == 0);
        }

      if (kind == TC_JMU_KIND_ERROR)
        {
          CHECK (i == n_lines - 1);
          CHECK (tc_condition_from_string (tc_jmu_get_value_string (jmu),
                                           &sent_condition));
          sent_error = TRUE;
        }
    }

  if (tc_stream_get_role (h->stream) == TC_STREAM_ROLE_RECEIVER)
    CHECK ((n_ready == 1) == (h->n_ready == 1));

  /* An error we wrote ends the stream, and is what it reports. */
  if (sent_error)
    {
      CHECK (tc_stream_get_state (h->stream) == TC_STREAM_STATE_CLOSED);
      CHECK (h->closed_error_is_jmu);
      CHECK (h->closed_code == (int) sent_condition);
    }
}

static void
drop_log_cb (const char     *domain,
             GLogLevelFlags  level,
             const char     *message,
             gpointer        user_data)
{
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  guint8 seed[TC_SEED_LEN];

  /* A warning or critical is a bug the fuzzer should report; the stream's
   * messages about errors it sends are expected and only slow it down. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  verbose = g_getenv ("FUZZ_STREAM_VERBOSE") != NULL;
  g_log_set_handler ("torchat-node", G_LOG_LEVEL_MESSAGE | G_LOG_LEVEL_INFO |
                     G_LOG_LEVEL_DEBUG, drop_log_cb, NULL);

  for (guint i = 0; i < TC_SEED_LEN; i++)
    seed[i] = i;
  alice = tc_identity_new_from_seed (seed);
  for (guint i = 0; i < TC_SEED_LEN; i++)
    seed[i] = 32 + i;
  bob = tc_identity_new_from_seed (seed);

  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  Harness h = { 0 };
  gsize start = 0;

  if (size < 1 || size > 64 * 1024)
    return 0;

  h.flags = data[0];
  h.split = (data[0] >> 1) & 3;
  h.chunk = ((data[0] >> 3) & 7) + 1;
  if (h.split == SPLIT_LARGE)
    h.chunk *= 61;
  h.output_when_closed = G_MAXSIZE;
  data++;
  size--;

  if (h.flags & FLAG_INITIATOR)
    {
      h.us = alice;
      h.peer = bob;
      h.stream = tc_stream_new (NULL, alice, TC_STREAM_ROLE_INITIATOR,
                                tc_identity_get_address (bob));
    }
  else
    {
      h.us = bob;
      h.peer = alice;
      h.stream = tc_stream_new (NULL, bob, TC_STREAM_ROLE_RECEIVER, NULL);
    }

  g_signal_connect (h.stream, "authenticated", G_CALLBACK (authenticated_cb), &h);
  g_signal_connect (h.stream, "ready", G_CALLBACK (ready_cb), &h);
  g_signal_connect (h.stream, "jmu", G_CALLBACK (jmu_cb), &h);
  g_signal_connect (h.stream, "batch-done", G_CALLBACK (batch_done_cb), &h);
  g_signal_connect (h.stream, "closed", G_CALLBACK (closed_cb), &h);

  tc_stream_start (h.stream);
  check_step (&h);

  for (gsize i = 0; i < size;)
    {
      gsize token_len = 0;

      if (data[i] == '@')
        {
          feed (&h, data + start, i - start);
          start = i;
          token_len = do_token (&h, data + i, size - i);
          if (token_len > 0)
            start = i + token_len;
        }

      i += MAX (token_len, 1);
    }
  feed (&h, data + start, size - start);

  check_output (&h);

  if (verbose)
    {
      g_autofree char *output = _tc_stream_take_output (h.stream);
      static const char *states[] = { "handshake", "ready", "closing", "closed" };

      g_printerr ("%s, %s\n%s", tc_stream_get_role (h.stream) ? "receiver" : "initiator",
                  states[tc_stream_get_state (h.stream)], output);
    }

  if (h.receiver != NULL)
    {
      tc_file_receiver_stop (h.receiver);
      /* A write still running in its worker thread holds the receiver, and
       * its "finished", until it is back. */
      g_object_add_weak_pointer (G_OBJECT (h.receiver), (gpointer *) &h.receiver);
      g_object_unref (h.receiver);
      while (h.receiver != NULL)
        g_main_context_iteration (NULL, TRUE);
      CHECK (h.n_finished == 1);
    }
  g_clear_object (&h.transfer);

  /* Nothing may keep the stream alive: not its own timers, not a
   * reference cycle through a signal. */
  g_object_add_weak_pointer (G_OBJECT (h.stream), (gpointer *) &h.stream);
  g_object_unref (h.stream);
  CHECK (h.stream == NULL);

  return 0;
}
