/* tc-file-sender.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tc-file-buffer.h"
#include "tc-file-sender.h"
#include "tc-socks.h"
#include "tc-stream.h"

/* A worker thread reads a batch of chunks with one pread() and encodes
 * them into one buffer of lines, which the stream writes without a copy:
 * one thread hop and one write per 1 MiB of the file, not per chunk. The
 * next batch is read while the stream still has one batch to write, so the
 * socket never waits for the disk and at most two batches (about 3 MB of
 * lines) are in memory, whatever the file's size. Four chunks a batch were
 * no faster and held 5 MB more. */
#define BATCH_CHUNKS 2
#define BATCH_SIZE (BATCH_CHUNKS * TC_CHUNK_SIZE)
#define CONNECT_TIMEOUT_S 150
/* Bytes still to send above which a file stream gets its own circuit. */
#define OWN_CIRCUIT_FROM (2 * 1024 * 1024)

struct _TcFileSender
{
  GObject         parent_instance;

  TcTransfer     *transfer;
  TcIdentity     *identity;
  GSocketAddress *socks;
  GCancellable   *cancellable;
  TcStream       *stream;
  int             fd;
  gsize           high_water;   /* one batch of lines */
  gint64          offset;
  gboolean        reading;
  gboolean        closing;
  gboolean        finished;
  guint           connect_timeout;
};

typedef struct {
  int     fd;
  gint64  offset;
  gsize   length;
  char   *from;
  gsize   line_max;
} ReadJob;

typedef struct {
  GBytes *lines;
  gsize   length;               /* bytes of the file */
} ReadResult;

static void
read_job_free (ReadJob *job)
{
  g_free (job->from);
  g_free (job);
}

static void
read_result_free (ReadResult *result)
{
  g_clear_pointer (&result->lines, g_bytes_unref);
  g_free (result);
}

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

/* In a worker thread: the file never changes its offset (pread), the main
 * thread does not touch the descriptor meanwhile. */
static void
read_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  ReadJob *job = task_data;
  guint8 *block = tc_file_buffer_alloc (job->length);
  guint8 *lines = NULL;
  ReadResult *result;
  gsize done = 0, n_lines = 0;

  while (done < job->length)
    {
      gssize n = pread (job->fd, block + done, job->length - done, job->offset + done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          tc_file_buffer_free (block);
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Could not read the file: %s"), g_strerror (saved));
          return;
        }
      if (n == 0)
        {
          tc_file_buffer_free (block);
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_FAILED, "%s",
                                   _("The file became shorter while it was being sent"));
          return;
        }
      done += n;
    }

  lines = tc_file_buffer_alloc ((job->length + TC_CHUNK_SIZE - 1) / TC_CHUNK_SIZE * job->line_max);
  for (gsize at = 0; at < job->length; at += TC_CHUNK_SIZE)
    n_lines += tc_jmu_write_chunk (block + at, MIN (TC_CHUNK_SIZE, job->length - at),
                                   job->offset + at, job->from, (char *) lines + n_lines);
  tc_file_buffer_free (block);

  result = g_new0 (ReadResult, 1);
  result->lines = tc_file_buffer_to_bytes (lines, n_lines);
  result->length = job->length;
  g_task_return_pointer (task, result, (GDestroyNotify) read_result_free);
}

static void
read_done_cb (GObject      *object,
              GAsyncResult *res,
              gpointer      user_data)
{
  TcFileSender *self = TC_FILE_SENDER (object);
  g_autoptr(GError) error = NULL;
  ReadResult *result = g_task_propagate_pointer (G_TASK (res), &error);

  self->reading = FALSE;
  if (self->finished)
    {
      g_clear_pointer (&result, read_result_free);
      return;
    }

  if (result == NULL)
    {
      finish (self, g_steal_pointer (&error));
      return;
    }

  tc_stream_send_bytes (self->stream, result->lines);
  self->offset += result->length;
  read_result_free (result);
  tc_transfer_set_done (self->transfer, self->offset);
  pump (self);
}

static void
pump (TcFileSender *self)
{
  gint64 size = tc_transfer_get_size (self->transfer);
  g_autoptr(GTask) task = NULL;
  ReadJob *job;

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

  if (tc_stream_get_pending_bytes (self->stream) > self->high_water)
    return;

  job = g_new0 (ReadJob, 1);
  job->fd = self->fd;
  job->offset = self->offset;
  job->length = MIN (BATCH_SIZE, size - self->offset);
  job->from = g_strdup (tc_identity_get_address (self->identity));
  job->line_max = tc_jmu_chunk_line_max (TC_CHUNK_SIZE, job->from);

  self->reading = TRUE;
  task = g_task_new (self, NULL, read_done_cb, NULL);
  g_task_set_source_tag (task, pump);
  g_task_set_task_data (task, job, (GDestroyNotify) read_job_free);
  g_task_run_in_thread (task, read_thread);
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
  g_autoptr(GError) error = NULL;
  g_autofree char *isolation = NULL;
  struct stat st;

  g_return_if_fail (TC_IS_FILE_SENDER (self));

  self->fd = g_open (tc_transfer_get_path (self->transfer), O_RDONLY | O_CLOEXEC, 0);
  if (self->fd < 0 || fstat (self->fd, &st) != 0)
    {
      int saved = errno;

      g_set_error (&error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not open the file: %s"), g_strerror (saved));
    }
  else if (!S_ISREG (st.st_mode) || st.st_size != tc_transfer_get_size (self->transfer))
    {
      g_set_error (&error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The file changed since it was offered"));
    }

  if (error != NULL)
    {
      finish (self, g_steal_pointer (&error));
      return;
    }

  /* A large file gets a circuit of its own (Tor isolates streams by
   * SOCKS user name): its cells neither queue in front of the chat's on
   * the way, nor share the chat circuit's congestion window. That costs a
   * rendezvous (a second or more on the real network), which a small file
   * would mostly spend waiting: it shares the chat's circuit. */
  if (tc_transfer_get_size (self->transfer) - self->offset > OWN_CIRCUIT_FROM)
    isolation = g_strdup_printf ("torchat-file-%s", tc_transfer_get_id (self->transfer));
  self->connect_timeout = g_timeout_add_seconds (CONNECT_TIMEOUT_S, connect_timeout_cb, self);
  tc_socks_connect_async (self->socks, tc_transfer_get_peer (self->transfer),
                          TC_VIRTUAL_PORT, isolation, self->cancellable, connect_cb,
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
  self->high_water = BATCH_CHUNKS * tc_jmu_chunk_line_max (TC_CHUNK_SIZE,
                                                           tc_identity_get_address (identity));

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
  if (self->fd >= 0)
    close (self->fd);

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
  self->fd = -1;
}
