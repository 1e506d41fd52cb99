/* tc-stream-dispatch.c: each JMU read, to the handshake or, once ready,
 * ping, pong, close and the rate limit
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-address.h"
#include "tc-stream-private.h"
#include "tc-types.h"

static void
fail_with_error (TcStream     *self,
                 const GError *error)
{
  if (error->domain == TC_JMU_ERROR)
    tc_stream_fail (self, error->code, error->message);
  else
    tc_stream_fail (self, TC_CONDITION_INTERNAL_SERVER_ERROR, NULL);
}

void
_tc_stream_handle_remote_error (TcStream *self,
                                TcJmu    *jmu)
{
  const char *condition = tc_jmu_get_value_string (jmu);
  const char *text = tc_jmu_get_string (jmu, "text");
  g_autofree char *peer = tc_address_redact (self->peer);
  TcCondition code = TC_CONDITION_RESET;

  tc_condition_from_string (condition, &code);
  g_message ("Stream with %s: peer sent error %s", peer, condition);
  _tc_stream_set_close_error (self, g_error_new (TC_JMU_ERROR, code, "%s%s%s",
                                      condition, text ? ": " : "",
                                      text ? text : ""));
  _tc_stream_shutdown (self);
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
      _tc_stream_handle_remote_error (self, jmu);
      break;

    case TC_JMU_KIND_PING:
      {
        g_autofree char *line = tc_jmu_build_pong (tc_jmu_get_value_string (jmu),
                                                   _tc_stream_own_address (self));
        _tc_stream_queue_line (self, line);
      }
      break;

    case TC_JMU_KIND_PONG:
      if (g_strcmp0 (self->ping_token, tc_jmu_get_value_string (jmu)) == 0)
        g_clear_pointer (&self->ping_token, g_free);
      break;

    case TC_JMU_KIND_CLOSE:
      {
        g_autofree char *line = tc_jmu_build_close_ack (_tc_stream_own_address (self));
        _tc_stream_queue_line (self, line);
        _tc_stream_close_after_flush (self);
      }
      break;

    case TC_JMU_KIND_CLOSE_ACK:
      if (self->state == TC_STREAM_STATE_CLOSING)
        _tc_stream_shutdown (self);
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
        g_signal_emit (self, _tc_stream_signals[JMU], 0, jmu);
      break;
    }
}

void
_tc_stream_handle_line (TcStream   *self,
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
        _tc_stream_receiver_handle (self, jmu);
      else
        _tc_stream_initiator_handle (self, jmu);
    }
  else
    {
      ready_handle (self, jmu);
    }
}
