/* tc-file-receiver.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gio/gunixoutputstream.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tc-file-receiver.h"

/* Decoded bytes waiting for the disk before the stream stops reading. */
#define HIGH_WATER (4 * TC_CHUNK_SIZE)
#define LOW_WATER (2 * TC_CHUNK_SIZE)

struct _TcFileReceiver
{
  GObject        parent_instance;

  TcTransfer    *transfer;
  TcStream      *stream;
  GCancellable  *cancellable;
  int            fd;
  GOutputStream *output;
  GQueue         queue;        /* of GBytes, oldest first */
  GBytes        *writing;
  gsize          queued;       /* bytes in queue and writing */
  gint64         expected;     /* offset of the next chunk */
  gint64         written;      /* bytes in the file */
  gboolean       finished;
};

G_DEFINE_FINAL_TYPE (TcFileReceiver, tc_file_receiver, G_TYPE_OBJECT)

enum {
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void write_next (TcFileReceiver *self);

static void
finish (TcFileReceiver *self,
        GError         *error)
{
  g_autoptr(GError) owned = error;

  if (self->finished)
    return;

  self->finished = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->queue, (GDestroyNotify) g_bytes_unref);
  g_signal_handlers_disconnect_by_data (self->stream, self);
  if (tc_stream_get_state (self->stream) == TC_STREAM_STATE_READY)
    tc_stream_close (self->stream);

  g_object_ref (self);
  g_signal_emit (self, signals[FINISHED], 0, owned);
  g_object_unref (self);
}

static GError *
disk_error (int         saved,
            const char *what)
{
  if (saved == ENOSPC || saved == EDQUOT || saved == EFBIG)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s: %s", what, g_strerror (saved));

  return g_error_new (G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", what,
                      g_strerror (saved));
}

static void
complete (TcFileReceiver *self)
{
  if (fsync (self->fd) != 0)
    {
      int saved = errno;
      finish (self, disk_error (saved, _("Could not write the received file")));
      return;
    }

  finish (self, NULL);
}

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(TcFileReceiver) self = user_data;
  g_autoptr(GError) error = NULL;
  gsize n = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, &n, &error))
    {
      /* A short write with ENOSPC leaves a partial chunk: cut it off so the
       * file ends on what a resume can trust. */
      if (!self->finished && ftruncate (self->fd, self->written) != 0)
        g_debug ("Could not trim the partial file: %s", g_strerror (errno));
      if (!self->finished)
        {
          if (error->domain == G_IO_ERROR && error->code == G_IO_ERROR_NO_SPACE)
            finish (self, g_error_new (G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                                       _("The disk is full: %s"), error->message));
          else
            finish (self, g_steal_pointer (&error));
        }
      g_clear_pointer (&self->writing, g_bytes_unref);
      return;
    }

  self->written += n;
  self->queued -= g_bytes_get_size (self->writing);
  g_clear_pointer (&self->writing, g_bytes_unref);
  if (self->finished)
    return;

  tc_transfer_set_done (self->transfer, self->written);
  if (self->queued < LOW_WATER)
    tc_stream_set_paused (self->stream, FALSE);

  if (self->written == tc_transfer_get_size (self->transfer))
    complete (self);
  else
    write_next (self);
}

static void
write_next (TcFileReceiver *self)
{
  if (self->writing != NULL || self->finished || g_queue_is_empty (&self->queue))
    return;

  self->writing = g_queue_pop_head (&self->queue);
  g_output_stream_write_all_async (self->output,
                                   g_bytes_get_data (self->writing, NULL),
                                   g_bytes_get_size (self->writing),
                                   G_PRIORITY_DEFAULT, self->cancellable,
                                   write_cb, g_object_ref (self));
}

static void
stream_jmu_cb (TcStream       *stream,
               TcJmu          *jmu,
               TcFileReceiver *self)
{
  g_autoptr(GBytes) data = NULL;
  gint64 offset;
  gsize len;

  /* Only chunks belong on a file stream; anything else is ignored like an
   * unknown kind. */
  if (tc_jmu_get_kind (jmu) != TC_JMU_KIND_CHUNK || self->finished)
    return;

  offset = tc_jmu_get_int (jmu, "offset");
  if (offset != self->expected)
    {
      g_autofree char *text = g_strdup_printf ("chunk at %" G_GINT64_FORMAT
                                               ", expected %" G_GINT64_FORMAT,
                                               offset, self->expected);
      tc_stream_fail (stream, TC_CONDITION_BAD_FORMAT, text);
      return;
    }

  data = tc_jmu_dup_chunk (jmu);
  len = g_bytes_get_size (data);
  if (self->expected + (gint64) len > tc_transfer_get_size (self->transfer))
    {
      tc_stream_fail (stream, TC_CONDITION_POLICY_VIOLATION, "more bytes than offered");
      return;
    }

  self->expected += len;
  self->queued += len;
  g_queue_push_tail (&self->queue, g_steal_pointer (&data));
  if (self->queued >= HIGH_WATER)
    tc_stream_set_paused (stream, TRUE);
  write_next (self);
}

static void
stream_closed_cb (TcStream       *stream,
                  const GError   *error,
                  TcFileReceiver *self)
{
  /* The last bytes may still be on their way to the disk. */
  if (self->expected == tc_transfer_get_size (self->transfer) && error == NULL)
    return;

  if (error != NULL)
    finish (self, g_error_copy (error));
  else
    finish (self, g_error_new (G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("The sender closed the stream before the end")));
}

void
tc_file_receiver_start (TcFileReceiver *self)
{
  g_return_if_fail (TC_IS_FILE_RECEIVER (self));

  g_signal_connect_object (self->stream, "jmu", G_CALLBACK (stream_jmu_cb), self, 0);
  g_signal_connect_object (self->stream, "closed", G_CALLBACK (stream_closed_cb), self, 0);

  if (self->written == tc_transfer_get_size (self->transfer))
    complete (self);
}

void
tc_file_receiver_stop (TcFileReceiver *self)
{
  g_return_if_fail (TC_IS_FILE_RECEIVER (self));

  finish (self, g_error_new_literal (G_IO_ERROR, G_IO_ERROR_CANCELLED, _("Stopped")));
}

TcStream *
tc_file_receiver_get_stream (TcFileReceiver *self)
{
  g_return_val_if_fail (TC_IS_FILE_RECEIVER (self), NULL);
  return self->stream;
}

TcFileReceiver *
tc_file_receiver_new (TcTransfer  *transfer,
                      TcStream    *stream,
                      const char  *partial_path,
                      GError     **error)
{
  g_autoptr(TcFileReceiver) self = NULL;
  struct stat st;

  g_return_val_if_fail (TC_IS_TRANSFER (transfer), NULL);
  g_return_val_if_fail (TC_IS_STREAM (stream), NULL);

  self = g_object_new (TC_TYPE_FILE_RECEIVER, NULL);
  self->transfer = g_object_ref (transfer);
  self->stream = g_object_ref (stream);

  self->fd = g_open (partial_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (self->fd < 0 || fstat (self->fd, &st) != 0)
    {
      int saved = errno;
      g_propagate_error (error, disk_error (saved, _("Could not open the partial file")));
      return NULL;
    }

  self->written = self->expected = st.st_size;
  self->output = g_unix_output_stream_new (self->fd, FALSE);
  tc_transfer_set_done (transfer, self->written);

  return g_steal_pointer (&self);
}

static void
tc_file_receiver_dispose (GObject *object)
{
  TcFileReceiver *self = TC_FILE_RECEIVER (object);

  g_cancellable_cancel (self->cancellable);
  if (self->stream != NULL)
    g_signal_handlers_disconnect_by_data (self->stream, self);

  G_OBJECT_CLASS (tc_file_receiver_parent_class)->dispose (object);
}

static void
tc_file_receiver_finalize (GObject *object)
{
  TcFileReceiver *self = TC_FILE_RECEIVER (object);

  g_clear_object (&self->output);
  if (self->fd >= 0)
    close (self->fd);
  g_queue_clear_full (&self->queue, (GDestroyNotify) g_bytes_unref);
  g_clear_pointer (&self->writing, g_bytes_unref);
  g_clear_object (&self->stream);
  g_clear_object (&self->transfer);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tc_file_receiver_parent_class)->finalize (object);
}

static void
tc_file_receiver_class_init (TcFileReceiverClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_file_receiver_dispose;
  object_class->finalize = tc_file_receiver_finalize;

  signals[FINISHED] =
    g_signal_new ("finished", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
tc_file_receiver_init (TcFileReceiver *self)
{
  self->cancellable = g_cancellable_new ();
  self->fd = -1;
  g_queue_init (&self->queue);
}
