/* tc-admission.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-admission.h"

struct _TcAdmission
{
  GObject     parent_instance;

  guint       max_handshakes;
  guint       max_streams;
  guint       max_per_peer;
  GPtrArray  *handshakes;       /* receiver TcStreams not yet authenticated */
  GHashTable *streams;          /* borrowed TcStream: the counted chat streams */

  double      burst;
  double      per_second;
  double      tokens;
  gint64      tokens_time;
};

G_DEFINE_FINAL_TYPE (TcAdmission, tc_admission, G_TYPE_OBJECT)

TcAdmission *
tc_admission_new (void)
{
  return g_object_new (TC_TYPE_ADMISSION, NULL);
}

void
tc_admission_set_limits (TcAdmission *self,
                         guint        max_handshakes,
                         guint        max_streams,
                         guint        max_per_peer)
{
  g_return_if_fail (TC_IS_ADMISSION (self));

  self->max_handshakes = max_handshakes;
  self->max_streams = max_streams;
  self->max_per_peer = max_per_peer;
}

void
tc_admission_set_rate (TcAdmission *self,
                       double       burst,
                       double       per_second)
{
  g_return_if_fail (TC_IS_ADMISSION (self));

  self->burst = burst;
  self->per_second = per_second;
  self->tokens = burst;
  self->tokens_time = g_get_monotonic_time ();
}

static void
handshake_over_cb (TcStream    *stream,
                   TcAdmission *self)
{
  /* The array may hold the last reference. */
  G_GNUC_UNUSED g_autoptr(TcStream) hold = g_object_ref (stream);

  g_signal_handlers_disconnect_by_data (stream, self);
  g_ptr_array_remove (self->handshakes, stream);
}

static void
handshake_closed_cb (TcStream     *stream,
                     const GError *error,
                     TcAdmission  *self)
{
  handshake_over_cb (stream, self);
}

gboolean
tc_admission_admit_handshake (TcAdmission *self,
                              TcStream    *stream)
{
  g_return_val_if_fail (TC_IS_ADMISSION (self), FALSE);

  if (self->handshakes->len >= self->max_handshakes)
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, "too many connections");
      return FALSE;
    }

  g_ptr_array_add (self->handshakes, g_object_ref (stream));
  /* Connected first, so that whoever handles "authenticated" after us
   * sees the stream counted as a chat stream, not as a handshake. */
  g_signal_connect_object (stream, "authenticated", G_CALLBACK (handshake_over_cb), self, 0);
  g_signal_connect_object (stream, "closed", G_CALLBACK (handshake_closed_cb), self, 0);
  return TRUE;
}

guint
tc_admission_get_n_handshakes (TcAdmission *self)
{
  g_return_val_if_fail (TC_IS_ADMISSION (self), 0);
  return self->handshakes->len;
}

void
tc_admission_fail_handshakes (TcAdmission *self,
                              TcCondition  condition)
{
  g_autoptr(GPtrArray) streams = NULL;

  g_return_if_fail (TC_IS_ADMISSION (self));

  /* Each one leaves the array as it closes. */
  streams = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->handshakes->len; i++)
    g_ptr_array_add (streams, g_object_ref (g_ptr_array_index (self->handshakes, i)));
  for (guint i = streams->len; i > 0; i--)
    tc_stream_fail (g_ptr_array_index (streams, i - 1), condition, NULL);
}

gboolean
tc_admission_admit_stream (TcAdmission *self,
                           TcStream    *stream)
{
  g_return_val_if_fail (TC_IS_ADMISSION (self), FALSE);

  if (g_hash_table_size (self->streams) >= self->max_streams)
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, NULL);
      return FALSE;
    }

  return TRUE;
}

gboolean
tc_admission_admit_peer_stream (TcAdmission *self,
                                TcStream    *stream,
                                guint        n_streams)
{
  g_return_val_if_fail (TC_IS_ADMISSION (self), FALSE);

  if (n_streams >= self->max_per_peer)
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, "too many streams");
      return FALSE;
    }

  return TRUE;
}

void
tc_admission_add_stream (TcAdmission *self,
                         TcStream    *stream)
{
  g_return_if_fail (TC_IS_ADMISSION (self));
  g_hash_table_add (self->streams, stream);
}

void
tc_admission_remove_stream (TcAdmission *self,
                            TcStream    *stream)
{
  g_return_if_fail (TC_IS_ADMISSION (self));
  g_hash_table_remove (self->streams, stream);
}

guint
tc_admission_get_n_streams (TcAdmission *self)
{
  g_return_val_if_fail (TC_IS_ADMISSION (self), 0);
  return g_hash_table_size (self->streams);
}

gboolean
tc_admission_take_token (TcAdmission *self)
{
  gint64 now = g_get_monotonic_time ();

  g_return_val_if_fail (TC_IS_ADMISSION (self), FALSE);

  self->tokens = MIN (self->burst, self->tokens +
                      (now - self->tokens_time) * self->per_second / G_USEC_PER_SEC);
  self->tokens_time = now;

  if (self->tokens < 1.0)
    return FALSE;

  self->tokens -= 1.0;
  return TRUE;
}

static void
tc_admission_dispose (GObject *object)
{
  TcAdmission *self = TC_ADMISSION (object);

  for (guint i = 0; i < self->handshakes->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->handshakes, i), self);
  g_ptr_array_set_size (self->handshakes, 0);
  g_hash_table_remove_all (self->streams);

  G_OBJECT_CLASS (tc_admission_parent_class)->dispose (object);
}

static void
tc_admission_finalize (GObject *object)
{
  TcAdmission *self = TC_ADMISSION (object);

  g_ptr_array_unref (self->handshakes);
  g_hash_table_unref (self->streams);

  G_OBJECT_CLASS (tc_admission_parent_class)->finalize (object);
}

static void
tc_admission_class_init (TcAdmissionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_admission_dispose;
  object_class->finalize = tc_admission_finalize;
}

static void
tc_admission_init (TcAdmission *self)
{
  self->handshakes = g_ptr_array_new_with_free_func (g_object_unref);
  self->streams = g_hash_table_new (NULL, NULL);
  self->max_handshakes = TC_ADMISSION_MAX_HANDSHAKES;
  self->max_streams = TC_ADMISSION_MAX_STREAMS;
  self->max_per_peer = TC_ADMISSION_MAX_PER_PEER;
  tc_admission_set_rate (self, TC_ADMISSION_RATE_BURST, TC_ADMISSION_RATE_PER_SECOND);
}
