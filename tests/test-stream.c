/* test-stream.c: the stream state machine, fed by hand and over a socket pair
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tc-identity.h"
#include "tc-jmu.h"
#include "tc-stream-private.h"
#include "tc-test-socket.h"

typedef struct {
  TcIdentity *alice;   /* the initiator */
  TcIdentity *bob;     /* the receiver */
} Fixture;

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  guint8 seed[TC_SEED_LEN];

  for (guint i = 0; i < sizeof seed; i++)
    seed[i] = i;
  f->alice = tc_identity_new_from_seed (seed);

  for (guint i = 0; i < sizeof seed; i++)
    seed[i] = 0xa0 + i;
  f->bob = tc_identity_new_from_seed (seed);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->alice);
  g_clear_object (&f->bob);
}

static void
feed_line (TcStream   *stream,
           const char *line)
{
  _tc_stream_feed (stream, (const guint8 *) line, strlen (line));
}

/* The condition of the {"error":…} line the stream sent last, or NULL. */
static char *
sent_error (TcStream *stream)
{
  g_autofree char *output = _tc_stream_take_output (stream);
  g_auto(GStrv) lines = g_strsplit (output, "\n", -1);

  for (int i = g_strv_length (lines) - 1; i >= 0; i--)
    {
      g_autoptr(TcJmu) jmu = tc_jmu_parse (lines[i], strlen (lines[i]), NULL);

      if (jmu != NULL && tc_jmu_get_kind (jmu) == TC_JMU_KIND_ERROR)
        return g_strdup (tc_jmu_get_value_string (jmu));
    }

  return NULL;
}

static char *
build_open (Fixture    *f,
            const char *to)
{
  return tc_jmu_build_open ("1.0", "message", tc_identity_get_address (f->alice), to);
}

/* Feeds one line to a fresh receiver and returns the error it answered. */
static char *
receiver_error_for (Fixture    *f,
                    const char *line)
{
  g_autoptr(TcStream) stream = tc_stream_new (NULL, f->bob, TC_STREAM_ROLE_RECEIVER, NULL);
  char *error;

  tc_stream_start (stream);
  feed_line (stream, line);
  error = sent_error (stream);
  g_assert_cmpint (tc_stream_get_state (stream), ==, TC_STREAM_STATE_CLOSED);

  return error;
}

static void
test_receiver_errors (Fixture       *f,
                      gconstpointer  data)
{
  const char *bob = tc_identity_get_address (f->bob);
  const char *alice = tc_identity_get_address (f->alice);
  g_autofree char *good_open = build_open (f, bob);
  g_autofree char *wrong_to = build_open (f, alice);
  g_autofree char *no_version = g_strdup_printf ("{\"open\":\"message\",\"from\":\"%s\",\"to\":\"%s\"}\n",
                                                 alice, bob);
  g_autofree char *old_version = g_strdup_printf ("{\"version\":\"0.9\",\"open\":\"message\",\"from\":\"%s\",\"to\":\"%s\"}\n",
                                                  alice, bob);
  g_autofree char *file_type = g_strdup_printf ("{\"version\":\"1.0\",\"open\":\"chat\",\"from\":\"%s\",\"to\":\"%s\"}\n",
                                                alice, bob);
  g_autofree char *bad_from = g_strdup_printf ("{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"x.onion\",\"to\":\"%s\"}\n",
                                               bob);
  g_autofree char *two_kinds = g_strdup_printf ("{\"version\":\"1.0\",\"open\":\"message\",\"ping\":\"x\",\"from\":\"%s\",\"to\":\"%s\"}\n",
                                                alice, bob);
  g_autofree char *early_message = tc_jmu_build_message ("hi", "mid-00000001", alice, bob,
                                                         "2026-11-22T10:00:00Z");
  struct {
    const char *line;
    const char *condition;
  } cases[] = {
    { "not json\n", "invalid-json" },
    { "[1,2]\n", "invalid-json" },
    { "{\"open\":\"\xff\xfe\"}\n", "unsupported-encoding" },
    { early_message, "not-authorized" },
    { wrong_to, "host-unknown" },
    { no_version, "unsupported-version" },
    { old_version, "unsupported-version" },
    { file_type, "unsupported-message-type" },
    { bad_from, "invalid-from" },
    { two_kinds, "bad-format" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *error = receiver_error_for (f, cases[i].line);

      g_test_message ("case %u: expecting %s", i, cases[i].condition);
      g_assert_cmpstr (error, ==, cases[i].condition);
    }

  /* The good open gets an ack, not an error. */
  {
    g_autoptr(TcStream) stream = tc_stream_new (NULL, f->bob, TC_STREAM_ROLE_RECEIVER, NULL);
    g_autofree char *output = NULL;
    g_autoptr(TcJmu) ack = NULL;

    tc_stream_start (stream);
    feed_line (stream, good_open);
    output = _tc_stream_take_output (stream);
    ack = tc_jmu_parse (output, strlen (output) - 1, NULL);
    g_assert_nonnull (ack);
    g_assert_cmpint (tc_jmu_get_kind (ack), ==, TC_JMU_KIND_ACK);
    g_assert_cmpstr (tc_jmu_get_string (ack, "to"), ==, alice);
    g_assert_cmpstr (tc_jmu_get_string (ack, "version"), ==, "1.0");
    g_assert_cmpint (tc_stream_get_state (stream), ==, TC_STREAM_STATE_HANDSHAKE);
  }
}

static void
test_long_line (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(TcStream) stream = tc_stream_new (NULL, f->bob, TC_STREAM_ROLE_RECEIVER, NULL);
  g_autofree char *chunk = g_malloc (64 * 1024);
  g_autofree char *error = NULL;

  memset (chunk, ' ', 64 * 1024);
  tc_stream_start (stream);

  /* Exactly the limit without its newline is still a line... */
  for (guint i = 0; i < TC_JMU_MAX_LINE / (64 * 1024); i++)
    _tc_stream_feed (stream, (const guint8 *) chunk, 64 * 1024);
  g_assert_cmpint (tc_stream_get_state (stream), ==, TC_STREAM_STATE_HANDSHAKE);

  /* ...one byte more is not. */
  _tc_stream_feed (stream, (const guint8 *) " ", 1);
  error = sent_error (stream);
  g_assert_cmpstr (error, ==, "policy-violation");
}

/* Drives a receiver through the handshake by hand; returns it ready. */
static TcStream *
ready_receiver (Fixture *f)
{
  const char *bob = tc_identity_get_address (f->bob);
  const char *alice = tc_identity_get_address (f->alice);
  TcStream *stream = tc_stream_new (NULL, f->bob, TC_STREAM_ROLE_RECEIVER, NULL);
  g_autofree char *open = build_open (f, bob);
  g_autofree char *output = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *signature_b64 = NULL;
  g_autofree char *auth = NULL;
  g_autoptr(TcJmu) ack = NULL;
  guint8 signature[TC_SIGNATURE_LEN];

  tc_stream_start (stream);
  feed_line (stream, open);
  output = _tc_stream_take_output (stream);
  ack = tc_jmu_parse (output, strlen (output) - 1, NULL);
  g_assert_nonnull (ack);

  payload = tc_jmu_auth_payload (tc_jmu_get_string (ack, "id"),
                                 tc_jmu_get_string (ack, "challenge"), alice, bob);
  tc_identity_sign (f->alice, (const guint8 *) payload, strlen (payload), signature);
  signature_b64 = g_base64_encode (signature, sizeof signature);
  auth = tc_jmu_build_auth (alice, signature_b64);
  feed_line (stream, auth);
  g_assert_cmpint (tc_stream_get_state (stream), ==, TC_STREAM_STATE_READY);
  g_assert_cmpstr (tc_stream_get_peer (stream), ==, alice);

  return stream;
}

static void
test_bad_signature (Fixture       *f,
                    gconstpointer  data)
{
  const char *bob = tc_identity_get_address (f->bob);
  const char *alice = tc_identity_get_address (f->alice);
  g_autoptr(TcStream) stream = tc_stream_new (NULL, f->bob, TC_STREAM_ROLE_RECEIVER, NULL);
  g_autofree char *open = build_open (f, bob);
  g_autofree char *output = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *signature_b64 = NULL;
  g_autofree char *auth = NULL;
  g_autofree char *error = NULL;
  g_autoptr(TcJmu) ack = NULL;
  guint8 signature[TC_SIGNATURE_LEN];

  tc_stream_start (stream);
  feed_line (stream, open);
  output = _tc_stream_take_output (stream);
  ack = tc_jmu_parse (output, strlen (output) - 1, NULL);

  /* Signed by Bob's key while claiming to be Alice: a forged address. */
  payload = tc_jmu_auth_payload (tc_jmu_get_string (ack, "id"),
                                 tc_jmu_get_string (ack, "challenge"), alice, bob);
  tc_identity_sign (f->bob, (const guint8 *) payload, strlen (payload), signature);
  signature_b64 = g_base64_encode (signature, sizeof signature);
  auth = tc_jmu_build_auth (alice, signature_b64);
  feed_line (stream, auth);

  error = sent_error (stream);
  g_assert_cmpstr (error, ==, "not-authorized");
  g_assert_cmpint (tc_stream_get_state (stream), ==, TC_STREAM_STATE_CLOSED);
}

static void
count_jmu_cb (TcStream *stream,
              TcJmu    *jmu,
              guint    *count)
{
  (*count)++;
}

static void
test_after_ready (Fixture       *f,
                  gconstpointer  data)
{
  const char *bob = tc_identity_get_address (f->bob);
  const char *alice = tc_identity_get_address (f->alice);
  g_autoptr(TcStream) stream = ready_receiver (f);
  g_autoptr(TcStream) stream2 = NULL;
  g_autoptr(TcStream) stream3 = NULL;
  g_autofree char *output = NULL;
  g_autofree char *message = tc_jmu_build_message ("hi", "mid-00000001", alice, bob,
                                                   "2026-11-22T10:00:00Z");
  g_autofree char *ping = tc_jmu_build_ping ("tok", alice);
  g_autofree char *forged = tc_jmu_build_message ("hi", "mid-00000002", bob, bob,
                                                  "2026-11-22T10:00:00Z");
  g_autofree char *error = NULL;
  guint count = 0;

  g_signal_connect (stream, "jmu", G_CALLBACK (count_jmu_cb), &count);
  g_free (_tc_stream_take_output (stream));

  feed_line (stream, message);
  feed_line (stream, "\n   \n");
  feed_line (stream, "{\"future-kind\":1,\"from\":\"");
  feed_line (stream, alice);
  feed_line (stream, "\"}\n");
  g_assert_cmpuint (count, ==, 1);

  feed_line (stream, ping);
  output = _tc_stream_take_output (stream);
  g_assert_nonnull (strstr (output, "{\"pong\":\"tok\""));

  /* A JMU without "from" after ready. */
  feed_line (stream, "{\"typing\":\"composing\"}\n");
  error = sent_error (stream);
  g_assert_cmpstr (error, ==, "bad-format");

  stream2 = ready_receiver (f);
  feed_line (stream2, forged);
  g_free (error);
  error = sent_error (stream2);
  g_assert_cmpstr (error, ==, "invalid-from");

  /* Close is answered. */
  stream3 = ready_receiver (f);
  g_free (_tc_stream_take_output (stream3));
  {
    g_autofree char *close = tc_jmu_build_close (alice);
    g_autofree char *answer = NULL;

    feed_line (stream3, close);
    answer = _tc_stream_take_output (stream3);
    g_assert_nonnull (strstr (answer, "{\"ack\":\"close\""));
    g_assert_cmpint (tc_stream_get_state (stream3), ==, TC_STREAM_STATE_CLOSED);
  }
}

static void
test_flood (Fixture       *f,
            gconstpointer  data)
{
  g_autoptr(TcStream) stream = ready_receiver (f);
  g_autofree char *ping = tc_jmu_build_ping ("t", tc_identity_get_address (f->alice));
  g_autoptr(GString) burst = g_string_new (NULL);
  g_autofree char *error = NULL;

  /* The time the machine takes to read must not refill the budget: under
   * load, that made the flood below pass. */
  _tc_stream_freeze_rate_clock (stream);

  /* A reconnect flushing an outbox is a big burst and is fine... */
  for (guint i = 0; i < 30000; i++)
    g_string_append (burst, ping);
  _tc_stream_feed (stream, (const guint8 *) burst->str, burst->len);
  g_assert_cmpint (tc_stream_get_state (stream), ==, TC_STREAM_STATE_READY);

  /* ...a flood without end is not. */
  _tc_stream_feed (stream, (const guint8 *) burst->str, burst->len);
  error = sent_error (stream);
  g_assert_cmpstr (error, ==, "policy-violation");
}

static void
closed_cb (TcStream     *stream,
           const GError *error,
           GError      **out)
{
  g_assert_null (*out);
  *out = error ? g_error_copy (error) : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "clean");
}

static void
test_handshake_timeout (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(TcStream) stream = tc_stream_new (NULL, f->bob, TC_STREAM_ROLE_RECEIVER, NULL);
  g_autoptr(GError) closed = NULL;
  g_autofree char *error = NULL;

  g_signal_connect (stream, "closed", G_CALLBACK (closed_cb), &closed);
  tc_stream_start (stream);
  _tc_stream_set_timeouts (stream, 50, 1000, 1000, 1000);

  while (closed == NULL)
    g_main_context_iteration (NULL, TRUE);

  g_assert_error (closed, TC_JMU_ERROR, TC_CONDITION_CONNECTION_TIMEOUT);
  error = sent_error (stream);
  g_assert_cmpstr (error, ==, "connection-timeout");
}

static void
test_ping_timeout (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(TcStream) stream = ready_receiver (f);
  g_autoptr(GError) closed = NULL;
  g_autofree char *output = NULL;

  g_signal_connect (stream, "closed", G_CALLBACK (closed_cb), &closed);
  _tc_stream_set_timeouts (stream, 1000, 40, 80, 1000);
  /* Timers take effect from the next check period on. */
  g_free (_tc_stream_take_output (stream));

  while (closed == NULL)
    g_main_context_iteration (NULL, TRUE);

  output = _tc_stream_take_output (stream);
  g_assert_nonnull (strstr (output, "{\"ping\":"));
  g_assert_error (closed, TC_JMU_ERROR, TC_CONDITION_CONNECTION_TIMEOUT);
}

/* Over a real socket pair: both roles, end to end. */

static void
flag_cb (GObject  *object,
         gboolean *flag)
{
  *flag = TRUE;
}

static void
got_jmu_cb (TcStream  *stream,
            TcJmu     *jmu,
            char     **text)
{
  g_free (*text);
  *text = g_strdup (tc_jmu_get_value_string (jmu));
}

static void
test_socket_pair (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(GIOStream) a_io = NULL;
  g_autoptr(GIOStream) b_io = NULL;
  g_autoptr(TcStream) a = NULL;
  g_autoptr(TcStream) b = NULL;
  gboolean a_ready = FALSE, b_ready = FALSE, b_auth = FALSE;
  g_autoptr(GError) a_closed = NULL;
  g_autoptr(GError) b_closed = NULL;
  g_autofree char *received = NULL;
  g_autofree char *line = NULL;

  tc_test_socket_pair (&a_io, &b_io);

  a = tc_stream_new (a_io, f->alice, TC_STREAM_ROLE_INITIATOR, tc_identity_get_address (f->bob));
  b = tc_stream_new (b_io, f->bob, TC_STREAM_ROLE_RECEIVER, NULL);
  g_signal_connect (a, "ready", G_CALLBACK (flag_cb), &a_ready);
  g_signal_connect (b, "ready", G_CALLBACK (flag_cb), &b_ready);
  g_signal_connect (b, "authenticated", G_CALLBACK (flag_cb), &b_auth);
  g_signal_connect (b, "jmu", G_CALLBACK (got_jmu_cb), &received);
  g_signal_connect (a, "closed", G_CALLBACK (closed_cb), &a_closed);
  g_signal_connect (b, "closed", G_CALLBACK (closed_cb), &b_closed);

  tc_stream_start (b);
  tc_stream_start (a);

  while (!a_ready || !b_ready)
    g_main_context_iteration (NULL, TRUE);

  g_assert_true (b_auth);
  g_assert_cmpstr (tc_stream_get_peer (b), ==, tc_identity_get_address (f->alice));
  g_assert_cmpstr (tc_stream_get_version (a), ==, "1.0");

  line = tc_jmu_build_message ("hello over a socket", "mid-00000001",
                               tc_identity_get_address (f->alice),
                               tc_identity_get_address (f->bob),
                               "2026-11-22T10:00:00Z");
  tc_stream_send (a, line);
  while (received == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (received, ==, "hello over a socket");

  tc_stream_close (a);
  while (a_closed == NULL || b_closed == NULL)
    g_main_context_iteration (NULL, TRUE);

  /* A clean close on both sides. */
  g_assert_error (a_closed, G_IO_ERROR, G_IO_ERROR_FAILED);
  g_assert_cmpstr (a_closed->message, ==, "clean");
  g_assert_cmpstr (b_closed->message, ==, "clean");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/stream/receiver-errors", test_receiver_errors);
  ADD ("/stream/long-line", test_long_line);
  ADD ("/stream/bad-signature", test_bad_signature);
  ADD ("/stream/after-ready", test_after_ready);
  ADD ("/stream/flood", test_flood);
  ADD ("/stream/handshake-timeout", test_handshake_timeout);
  ADD ("/stream/ping-timeout", test_ping_timeout);
  ADD ("/stream/socket-pair", test_socket_pair);

  return g_test_run ();
}
