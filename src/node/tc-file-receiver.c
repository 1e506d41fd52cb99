/* tc-file-receiver.c
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
#include <nettle/sha2.h>

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
  GQueue         queue;        /* of GBytes, oldest first */
  GBytes        *writing;
  gsize          queued;       /* bytes in queue and writing */
  gint64         expected;     /* offset of the next chunk */
  gint64         written;      /* bytes in the file */
  gboolean       finished;
  GError        *finish_error;
  gboolean       writing_job;  /* a job runs in a worker thread */
  /* SHA-256 of the file so far, updated by the jobs (one at a time); the
   * part that was on disk before this stream is hashed by the first. */
  struct sha256_ctx sha;
  gint64         unhashed_prefix;
  char          *sha256;
};

typedef struct {
  int                fd;
  GBytes            *bytes;       /* NULL: only the prefix */
  gint64             prefix;
  struct sha256_ctx *sha;
} Job;

static void
job_free (Job *job)
{
  g_clear_pointer (&job->bytes, g_bytes_unref);
  g_free (job);
}

G_DEFINE_FINAL_TYPE (TcFileReceiver, tc_file_receiver, G_TYPE_OBJECT)

enum {
  FINISHED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void write_next (TcFileReceiver *self);

static void
emit_finished (TcFileReceiver *self)
{
  g_autoptr(GError) error = g_steal_pointer (&self->finish_error);

  g_object_ref (self);
  g_signal_emit (self, signals[FINISHED], 0, error);
  g_object_unref (self);
}

/* "finished" waits for a job still writing: until it is emitted nobody
 * may open the partial file again. */
static void
finish (TcFileReceiver *self,
        GError         *error)
{
  if (self->finished)
    {
      g_clear_error (&error);
      return;
    }

  self->finished = TRUE;
  self->finish_error = error;
  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->queue, (GDestroyNotify) g_bytes_unref);
  g_signal_handlers_disconnect_by_data (self->stream, self);
  /* Stopped for a reason of ours (the disk): ended at once, with the
   * condition, not with a close that reads and drops every chunk the
   * sender already has on the way until its close answer arrives, which
   * behind megabytes of Tor's and the kernel's buffers takes minutes. */
  if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    tc_stream_fail (self->stream, TC_CONDITION_RESOURCE_CONSTRAINT,
                    g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE) ?
                    "storage full" : "storage failed");
  else if (tc_stream_get_state (self->stream) == TC_STREAM_STATE_READY)
    tc_stream_close (self->stream);

  if (!self->writing_job)
    emit_finished (self);
}

static GError *
disk_error (int         saved,
            const char *what)
{
  if (saved == ENOSPC || saved == EDQUOT)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "%s: %s", what, g_strerror (saved));
  /* Larger than the file system takes (4 GiB on FAT): no room will help. */
  if (saved == EFBIG)
    return g_error_new (G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED, "%s: %s", what, g_strerror (saved));

  return g_error_new (G_IO_ERROR, g_io_error_from_errno (saved), "%s: %s", what,
                      g_strerror (saved));
}

static void
complete (TcFileReceiver *self)
{
  guint8 digest[SHA256_DIGEST_SIZE];
  GString *hex = g_string_new (NULL);

  if (fsync (self->fd) != 0)
    {
      int saved = errno;
      g_string_free (hex, TRUE);
      finish (self, disk_error (saved, _("Could not write the received file")));
      return;
    }

  sha256_digest (&self->sha, sizeof digest, digest);
  for (guint i = 0; i < sizeof digest; i++)
    g_string_append_printf (hex, "%02x", digest[i]);
  self->sha256 = g_string_free (hex, FALSE);

  finish (self, NULL);
}

/* In a worker thread: hashes what was on disk before (once), then
 * appends and hashes the job's bytes. The main thread does not touch the
 * file or the hash meanwhile. */
static void
job_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  Job *job = task_data;
  g_autofree guint8 *block = NULL;
  const guint8 *data;
  gsize len, done = 0;

  if (job->prefix > 0)
    {
      block = g_malloc (TC_CHUNK_SIZE);
      for (gint64 at = 0; at < job->prefix; )
        {
          gssize n = pread (job->fd, block, MIN (TC_CHUNK_SIZE, job->prefix - at), at);

          if (n < 0 && errno == EINTR)
            continue;
          if (n <= 0)
            {
              g_task_return_error (task, disk_error (n < 0 ? errno : EIO,
                                                     _("Could not read the partial file")));
              return;
            }
          sha256_update (job->sha, n, block);
          at += n;
        }
    }

  if (job->bytes == NULL)
    {
      g_task_return_int (task, 0);
      return;
    }

  data = g_bytes_get_data (job->bytes, &len);
  while (done < len)
    {
      gssize n = write (job->fd, data + done, len - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          /* Cut a partial chunk off, so that the file ends on bytes a
           * resume can trust. */
          if (done > 0 && ftruncate (job->fd, lseek (job->fd, 0, SEEK_END) - done) != 0)
            g_debug ("Could not trim the partial file");
          g_task_return_error (task, disk_error (saved, _("Could not write the received file")));
          return;
        }
      done += n;
    }

  sha256_update (job->sha, len, data);
  g_task_return_int (task, len);
}

static void write_next (TcFileReceiver *self);

static void
job_done_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  TcFileReceiver *self = TC_FILE_RECEIVER (object);
  g_autoptr(GError) error = NULL;
  gssize n = g_task_propagate_int (G_TASK (result), &error);

  self->writing_job = FALSE;
  g_clear_pointer (&self->writing, g_bytes_unref);

  if (self->finished)
    {
      emit_finished (self);
      return;
    }

  if (n < 0)
    {
      finish (self, g_steal_pointer (&error));
      return;
    }

  self->written += n;
  self->queued -= n;
  tc_transfer_set_done (self->transfer, self->written);
  if (self->queued < LOW_WATER)
    tc_stream_set_paused (self->stream, FALSE);

  if (self->written == tc_transfer_get_size (self->transfer) && g_queue_is_empty (&self->queue))
    complete (self);
  else
    write_next (self);
}

static void
run_job (TcFileReceiver *self,
         GBytes         *bytes)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, job_done_cb, NULL);
  Job *job = g_new0 (Job, 1);

  job->fd = self->fd;
  job->bytes = bytes;
  job->prefix = self->unhashed_prefix;
  job->sha = &self->sha;
  self->unhashed_prefix = 0;
  self->writing_job = TRUE;

  g_task_set_source_tag (task, run_job);
  g_task_set_task_data (task, job, (GDestroyNotify) job_free);
  g_task_run_in_thread (task, job_thread);
}

static void
write_next (TcFileReceiver *self)
{
  if (self->writing_job || self->finished || g_queue_is_empty (&self->queue))
    return;

  self->writing = g_queue_pop_head (&self->queue);
  run_job (self, g_bytes_ref (self->writing));
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

  /* Everything was there already (an empty file, or a resume of a
   * complete one): only the hash is left to do. */
  if (self->written == tc_transfer_get_size (self->transfer))
    run_job (self, NULL);
}

const char *
tc_file_receiver_get_sha256 (TcFileReceiver *self)
{
  g_return_val_if_fail (TC_IS_FILE_RECEIVER (self), NULL);
  return self->sha256;
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

  self->fd = g_open (partial_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (self->fd < 0 || fstat (self->fd, &st) != 0)
    {
      int saved = errno;
      g_propagate_error (error, disk_error (saved, _("Could not open the partial file")));
      return NULL;
    }

  self->written = self->expected = st.st_size;
  self->unhashed_prefix = st.st_size;
  sha256_init (&self->sha);
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

  g_free (self->sha256);
  g_clear_error (&self->finish_error);
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
