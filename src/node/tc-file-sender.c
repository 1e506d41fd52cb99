/* tc-file-sender.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-file-sender.h"
#include "tc-socks.h"
#include "tc-stream.h"

/* Chunks queued on the stream before the next read waits: two keep the
 * socket busy while one is read and encoded. */
#define HIGH_WATER (2 * TC_CHUNK_SIZE)
#define CONNECT_TIMEOUT_S 150

struct _TcFileSender
{
  GObject         parent_instance;

  TcTransfer     *transfer;
  TcIdentity     *identity;
  GSocketAddress *socks;
  GCancellable   *cancellable;
  TcStream       *stream;
  GInputStream   *input;
  guint8         *buffer;
  gint64          offset;
  gboolean        reading;
  gboolean        closing;
  gboolean        finished;
  guint           connect_timeout;
};

G_DEFINE_FINAL_TYPE (TcFileSender, tc_file_sender, G_TYPE_OBJECT)

enum {
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void pump (TcFileSender *self);

static void
finish (TcFileSender *self,
        GError       *error)
{
  g_autoptr(GError) owned = error;

  if (self->finished)
    return;

  self->finished = TRUE;
  g_clear_handle_id (&self->connect_timeout, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->stream != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->stream, self);
      if (tc_stream_get_state (self->stream) != TC_STREAM_STATE_CLOSED && owned != NULL)
        tc_stream_close (self->stream);
    }

  g_object_ref (self);
  g_signal_emit (self, signals[FINISHED], 0, owned);
  g_object_unref (self);
}

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  g_autoptr(TcFileSender) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *line = NULL;
  gsize n = 0;

  self->reading = FALSE;
  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, &error))
    {
      if (!self->finished)
        finish (self, g_steal_pointer (&error));
      return;
    }

  if (self->finished)
    return;

  if (n == 0)
    {
      finish (self, g_error_new (G_IO_ERROR, G_IO_ERROR_FAILED,
                                 _("The file became shorter while it was being sent")));
      return;
    }

  line = tc_jmu_build_chunk (self->buffer, n, self->offset,
                             tc_identity_get_address (self->identity));
  tc_stream_send (self->stream, line);
  self->offset += n;
  tc_transfer_set_done (self->transfer, self->offset);
  pump (self);
}

static void
pump (TcFileSender *self)
{
  gint64 size = tc_transfer_get_size (self->transfer);

  if (self->finished || self->reading || self->closing ||
      tc_stream_get_state (self->stream) != TC_STREAM_STATE_READY)
    return;

  if (self->offset >= size)
    {
      /* Everything is queued; "close" follows the last chunk. */
      self->closing = TRUE;
      tc_stream_close (self->stream);
      return;
    }

  if (tc_stream_get_pending_bytes (self->stream) >= HIGH_WATER)
    return;

  self->reading = TRUE;
  g_input_stream_read_all_async (self->input, self->buffer,
                                 MIN (TC_CHUNK_SIZE, size - self->offset),
                                 G_PRIORITY_DEFAULT, self->cancellable,
                                 read_cb, g_object_ref (self));
}

static void
stream_written_cb (TcStream     *stream,
                   TcFileSender *self)
{
  pump (self);
}

static void
stream_ready_cb (TcStream     *stream,
                 TcFileSender *self)
{
  tc_transfer_set_state (self->transfer, TC_TRANSFER_STATE_ACTIVE);
  pump (self);
}

static void
stream_closed_cb (TcStream     *stream,
                  const GError *error,
                  TcFileSender *self)
{
  if (error == NULL && self->closing)
    {
      finish (self, NULL);
      return;
    }

  if (error != NULL)
    finish (self, g_error_copy (error));
  else
    finish (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("The receiver closed the file stream")));
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(TcFileSender) self = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = tc_socks_connect_finish (result, &error);
  if (self->finished)
    return;

  g_clear_handle_id (&self->connect_timeout, g_source_remove);
  if (connection == NULL)
    {
      finish (self, g_steal_pointer (&error));
      return;
    }

  self->stream = tc_stream_new (G_IO_STREAM (connection), self->identity,
                                TC_STREAM_ROLE_INITIATOR,
                                tc_transfer_get_peer (self->transfer));
  tc_stream_set_file_id (self->stream, tc_transfer_get_id (self->transfer));
  g_signal_connect_object (self->stream, "ready", G_CALLBACK (stream_ready_cb), self, 0);
  g_signal_connect_object (self->stream, "written", G_CALLBACK (stream_written_cb), self, 0);
  g_signal_connect_object (self->stream, "closed", G_CALLBACK (stream_closed_cb), self, 0);
  tc_stream_start (self->stream);
}

static gboolean
connect_timeout_cb (gpointer user_data)
{
  TcFileSender *self = user_data;

  self->connect_timeout = 0;
  finish (self, g_error_new (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _("Tor did not answer in time")));
  return G_SOURCE_REMOVE;
}

void
tc_file_sender_start (TcFileSender *self)
{
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFileInputStream) input = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GError) error = NULL;

  g_return_if_fail (TC_IS_FILE_SENDER (self));

  file = g_file_new_for_path (tc_transfer_get_path (self->transfer));
  input = g_file_read (file, NULL, &error);
  if (input != NULL)
    info = g_file_input_stream_query_info (input, G_FILE_ATTRIBUTE_STANDARD_SIZE, NULL, &error);

  if (info != NULL && g_file_info_get_size (info) != tc_transfer_get_size (self->transfer))
    g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                 _("The file changed since it was offered"));

  if (error == NULL && self->offset > 0 &&
      !g_seekable_seek (G_SEEKABLE (input), self->offset, G_SEEK_SET, NULL, &error))
    g_prefix_error (&error, "%s", _("Could not resume: "));

  if (error != NULL)
    {
      finish (self, g_steal_pointer (&error));
      return;
    }

  self->input = G_INPUT_STREAM (g_steal_pointer (&input));
  self->connect_timeout = g_timeout_add_seconds (CONNECT_TIMEOUT_S, connect_timeout_cb, self);
  tc_socks_connect_async (self->socks, tc_transfer_get_peer (self->transfer),
                          TC_VIRTUAL_PORT, self->cancellable, connect_cb,
                          g_object_ref (self));
}

void
tc_file_sender_stop (TcFileSender *self)
{
  g_return_if_fail (TC_IS_FILE_SENDER (self));

  finish (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Stopped")));
}

TcTransfer *
tc_file_sender_get_transfer (TcFileSender *self)
{
  g_return_val_if_fail (TC_IS_FILE_SENDER (self), NULL);
  return self->transfer;
}

TcFileSender *
tc_file_sender_new (TcTransfer     *transfer,
                    TcIdentity     *identity,
                    GSocketAddress *socks,
                    gint64          offset)
{
  TcFileSender *self;

  g_return_val_if_fail (TC_IS_TRANSFER (transfer), NULL);
  g_return_val_if_fail (G_IS_SOCKET_ADDRESS (socks), NULL);

  self = g_object_new (TC_TYPE_FILE_SENDER, NULL);
  self->transfer = g_object_ref (transfer);
  self->identity = g_object_ref (identity);
  self->socks = g_object_ref (socks);
  self->offset = offset;

  return self;
}

static void
tc_file_sender_dispose (GObject *object)
{
  TcFileSender *self = TC_FILE_SENDER (object);

  g_clear_handle_id (&self->connect_timeout, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  if (self->stream != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->stream, self);
      tc_stream_close (self->stream);
      g_clear_object (&self->stream);
    }

  G_OBJECT_CLASS (tc_file_sender_parent_class)->dispose (object);
}

static void
tc_file_sender_finalize (GObject *object)
{
  TcFileSender *self = TC_FILE_SENDER (object);

  g_clear_object (&self->transfer);
  g_clear_object (&self->identity);
  g_clear_object (&self->socks);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->input);
  g_free (self->buffer);

  G_OBJECT_CLASS (tc_file_sender_parent_class)->finalize (object);
}

static void
tc_file_sender_class_init (TcFileSenderClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_file_sender_dispose;
  object_class->finalize = tc_file_sender_finalize;

  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
tc_file_sender_init (TcFileSender *self)
{
  self->cancellable = g_cancellable_new ();
  self->buffer = g_malloc (TC_CHUNK_SIZE);
}
