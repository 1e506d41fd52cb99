/* tc-stream-handshake.c: open, ack, auth and ready, on either side
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <sys/random.h>

#include "tc-stream-private.h"
#include "tc-types.h"

/* File streams carry 700 KB lines and no receipts: bigger reads. */
#define FILE_READ_CHUNK (1024 * 1024)

static char *
random_base64 (gsize n)
{
  g_autofree guint8 *buf = g_malloc (n);

  if (getrandom (buf, n, 0) != (gssize) n)
    g_error ("The system random source failed");

  return g_base64_encode (buf, n);
}

static void
become_ready (TcStream *self)
{
  self->state = TC_STREAM_STATE_READY;
  g_clear_handle_id (&self->handshake_source, g_source_remove);
  _tc_stream_arm_idle_check (self);

  g_signal_emit (self, _tc_stream_signals[READY], 0);
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


void
_tc_stream_receiver_handle (TcStream *self,
                            TcJmu    *jmu)
{
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  if (kind == TC_JMU_KIND_ERROR)
    {
      _tc_stream_handle_remote_error (self, jmu);
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
      if (!g_str_equal (to, _tc_stream_own_address (self)))
        {
          tc_stream_fail (self, TC_CONDITION_HOST_UNKNOWN, NULL);
          return;
        }

      if (g_str_equal (tc_jmu_get_from (jmu), _tc_stream_own_address (self)))
        {
          tc_stream_fail (self, TC_CONDITION_INVALID_FROM, NULL);
          return;
        }

      self->got_open = TRUE;
      self->peer = g_strdup (tc_jmu_get_from (jmu));
      self->sid = _tc_stream_random_sid ();
      self->challenge = random_base64 (TC_CHALLENGE_LEN);
      line = tc_jmu_build_ack (self->version, _tc_stream_own_address (self), self->peer,
                               self->sid, self->challenge);
      _tc_stream_queue_line (self, line);
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
                                                    _tc_stream_own_address (self));
    g_autofree char *line = NULL;

    if (!tc_identity_verify (self->peer, (const guint8 *) payload,
                             strlen (payload),
                             g_bytes_get_data (signature, NULL)))
      {
        tc_stream_fail (self, TC_CONDITION_NOT_AUTHORIZED, "bad signature");
        return;
      }

    g_signal_emit (self, _tc_stream_signals[AUTHENTICATED], 0);
    if (self->state != TC_STREAM_STATE_HANDSHAKE)
      return;

    line = tc_jmu_build_ready (_tc_stream_own_address (self));
    _tc_stream_queue_line (self, line);
    become_ready (self);
  }
}

void
_tc_stream_initiator_handle (TcStream *self,
                             TcJmu    *jmu)
{
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  if (kind == TC_JMU_KIND_ERROR)
    {
      _tc_stream_handle_remote_error (self, jmu);
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

      if (!g_str_equal (tc_jmu_get_string (jmu, "to"), _tc_stream_own_address (self)))
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
                                     _tc_stream_own_address (self), self->peer);
      tc_identity_sign (self->identity, (const guint8 *) payload,
                        strlen (payload), signature);
      signature_b64 = g_base64_encode (signature, sizeof signature);
      line = tc_jmu_build_auth (_tc_stream_own_address (self), signature_b64);
      _tc_stream_queue_line (self, line);
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
