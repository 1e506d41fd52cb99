/* tc-tor-control.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <gio/gunixsocketaddress.h>

#include "tc-tor-control-private.h"

#define READ_CHUNK (16 * 1024)

G_DEFINE_FINAL_TYPE (TcTorControl, tc_tor_control, G_TYPE_OBJECT)

G_DEFINE_QUARK (tc-tor-control-error-quark, tc_tor_control_error)

enum {
  EVENT,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void maybe_send_next (TcTorControl *self);

static void
wipe_string (char **str)
{
  if (*str != NULL)
    {
      explicit_bzero (*str, strlen (*str));
      g_clear_pointer (str, g_free);
    }
}

static void
wipe_gstring (GString *string)
{
  explicit_bzero (string->str, string->allocated_len);
  g_string_free (string, TRUE);
}

static void
pending_free (gpointer data)
{
  Pending *p = data;

  if (p->cancel_id != 0)
    g_signal_handler_disconnect (p->cancellable, p->cancel_id);
  g_clear_object (&p->cancellable);
  wipe_string (&p->command);
  g_free (p->key);
  g_free (p);
}

static Pending *
pending_mark_returned (GTask *task)
{
  Pending *p = g_task_get_task_data (task);

  p->returned = TRUE;
  if (p->cancel_id != 0)
    {
      g_signal_handler_disconnect (p->cancellable, p->cancel_id);
      p->cancel_id = 0;
    }

  return p;
}

static void
pending_return_error (GTask  *task,
                      GError *error)
{
  pending_mark_returned (task);
  g_task_return_error (task, error);
}

static void
close_with_error (TcTorControl *self,
                  const GError *error)
{
  g_autoptr(TcTorControl) hold = NULL;
  GQueue pending;
  GTask *task;
  gboolean first = TRUE;

  if (self->closed)
    return;

  hold = g_object_ref (self);
  self->closed = TRUE;
  g_cancellable_cancel (self->cancellable);
  if (self->io != NULL)
    g_io_stream_close (self->io, NULL, NULL);

  /* Steal the queue first: callbacks may run while we fail each task. */
  pending = self->pending;
  g_queue_init (&self->pending);

  while ((task = g_queue_pop_head (&pending)) != NULL)
    {
      Pending *p = g_task_get_task_data (task);

      if (!p->returned)
        {
          if (first && p->sent && error != NULL &&
              g_error_matches (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_PROTOCOL))
            pending_return_error (task, g_error_copy (error));
          else
            pending_return_error (task,
                                  g_error_new_literal (TC_TOR_CONTROL_ERROR,
                                                       TC_TOR_CONTROL_ERROR_CLOSED,
                                                       error != NULL ? error->message
                                                                     : _("The connection to Tor's control port was closed")));
        }

      first = FALSE;
      g_object_unref (task);
    }

  g_signal_emit (self, signals[CLOSED], 0, error);
}

void
_tc_tor_control_close_with_new_error (TcTorControl *self,
                                      int           code,
                                      const char   *format,
                                      ...)
{
  g_autoptr(GError) error = NULL;
  va_list args;

  va_start (args, format);
  error = g_error_new_valist (TC_TOR_CONTROL_ERROR, code, format, args);
  va_end (args);

  close_with_error (self, error);
}

/* Output */

typedef struct {
  TcTorControl *self;
  char         *data;
  gsize         size;
  gsize         allocated;
} WriteOp;

static void flush_output (TcTorControl *self);

static void
write_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  WriteOp *op = user_data;
  g_autoptr(TcTorControl) self = op->self;
  g_autoptr(GError) error = NULL;

  explicit_bzero (op->data, op->allocated);
  g_free (op->data);
  g_free (op);

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (!self->closed)
        _tc_tor_control_close_with_new_error (self, TC_TOR_CONTROL_ERROR_CLOSED,
                              _("Lost the connection to Tor's control port: %s"),
                              error->message);
      return;
    }

  self->writing = FALSE;
  flush_output (self);
}

static void
flush_output (TcTorControl *self)
{
  WriteOp *op;

  if (self->writing || self->closed || self->outbuf->len == 0)
    return;

  op = g_new0 (WriteOp, 1);
  op->self = g_object_ref (self);
  op->size = self->outbuf->len;
  op->allocated = self->outbuf->allocated_len;
  op->data = g_string_free (self->outbuf, FALSE);
  self->outbuf = g_string_new (NULL);
  self->writing = TRUE;

  g_output_stream_write_all_async (self->output, op->data, op->size, G_PRIORITY_DEFAULT,
                                   self->cancellable, write_cb, op);
}

/* Appends @command and CRLF to outbuf. Growing a GString reallocs and
 * leaves the old buffer, command and all, in freed memory: grow it here
 * instead, into a new buffer, and wipe the old one. */
static void
append_command (TcTorControl *self,
                const char   *command)
{
  gsize needed = self->outbuf->len + strlen (command) + 3;

  if (needed > self->outbuf->allocated_len)
    {
      GString *bigger = g_string_sized_new (needed);

      g_string_append_len (bigger, self->outbuf->str, self->outbuf->len);
      wipe_gstring (self->outbuf);
      self->outbuf = bigger;
    }

  g_string_append (self->outbuf, command);
  g_string_append (self->outbuf, "\r\n");
}

/* The queue */

static void
maybe_send_next (TcTorControl *self)
{
  while (!self->closed)
    {
      GTask *task = g_queue_peek_head (&self->pending);
      Pending *p;

      if (task == NULL)
        return;

      p = g_task_get_task_data (task);
      if (p->sent)
        return;

      if (p->returned || g_cancellable_is_cancelled (p->cancellable))
        {
          g_queue_pop_head (&self->pending);
          if (!p->returned)
            {
              pending_mark_returned (task);
              g_task_return_error_if_cancelled (task);
            }
          g_object_unref (task);
          continue;
        }

      p->sent = TRUE;
      append_command (self, p->command);
      wipe_string (&p->command);
      flush_output (self);
      return;
    }
}

static gboolean
reap_cancelled_cb (gpointer user_data)
{
  TcTorControl *self = user_data;
  g_autoptr(GPtrArray) done = g_ptr_array_new_with_free_func (g_object_unref);
  GList *next;

  for (GList *l = self->pending.head; l != NULL; l = next)
    {
      GTask *task = l->data;
      Pending *p = g_task_get_task_data (task);

      next = l->next;
      if (p->returned || !g_cancellable_is_cancelled (p->cancellable))
        continue;

      /* A command already sent stays at the head until tor answers it. */
      if (p->sent)
        {
          g_ptr_array_add (done, g_object_ref (task));
        }
      else
        {
          g_queue_delete_link (&self->pending, l);
          g_ptr_array_add (done, task);
        }
    }

  for (guint i = 0; i < done->len; i++)
    {
      GTask *task = g_ptr_array_index (done, i);

      pending_mark_returned (task);
      g_task_return_error_if_cancelled (task);
    }

  return G_SOURCE_REMOVE;
}

static void
command_cancelled_cb (GCancellable *cancellable,
                      TcTorControl *self)
{
  GSource *source;

  /* Never complete tasks inside the cancellable's emission. */
  source = g_idle_source_new ();
  g_source_set_static_name (source, "[torchat] tor control cancel");
  g_source_set_callback (source, reap_cancelled_cb, g_object_ref (self), g_object_unref);
  g_source_attach (source, self->context);
  g_source_unref (source);
}

static void
enqueue (TcTorControl        *self,
         char                *command,
         char                *key,
         gpointer             source_tag,
         GCancellable        *cancellable,
         GAsyncReadyCallback  callback,
         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Pending *p;

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, source_tag);

  p = g_new0 (Pending, 1);
  p->command = command;
  p->key = key;
  p->cancellable = cancellable != NULL ? g_object_ref (cancellable) : NULL;
  g_task_set_task_data (task, p, pending_free);

  if (self->closed)
    {
      p->returned = TRUE;
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_CLOSED,
                               _("The connection to Tor's control port is closed"));
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    {
      p->returned = TRUE;
      return;
    }

  if (cancellable != NULL)
    p->cancel_id = g_signal_connect (cancellable, "cancelled",
                                     G_CALLBACK (command_cancelled_cb), self);

  g_queue_push_tail (&self->pending, g_steal_pointer (&task));
  maybe_send_next (self);
}

/* Input */

void
_tc_tor_control_finish_reply (TcTorControl *self,
                              Reply        *reply)
{
  g_autoptr(GTask) task = NULL;
  GTask *head;
  Pending *p;

  head = g_queue_peek_head (&self->pending);
  if (head == NULL || !((Pending *) g_task_get_task_data (head))->sent)
    {
      g_debug ("Tor sent a reply (%u) nobody asked for", reply->code);
      _tc_tor_control_reply_free (reply);
      return;
    }

  task = g_queue_pop_head (&self->pending);
  p = g_task_get_task_data (task);
  maybe_send_next (self);

  if (p->returned)
    {
      _tc_tor_control_reply_free (reply);
      return;
    }

  pending_mark_returned (task);
  if (reply->code >= 200 && reply->code < 300)
    g_task_return_pointer (task, reply, _tc_tor_control_reply_free);
  else
    {
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED,
                               "%u %s", reply->code, _tc_tor_control_reply_last_line (reply));
      _tc_tor_control_reply_free (reply);
    }
}

void
_tc_tor_control_emit_event (TcTorControl *self,
                            Reply        *event)
{
  g_auto(GStrv) words = NULL;
  g_auto(GStrv) data_lines = NULL;
  const char *line = g_ptr_array_index (event->lines, 0);
  guint end = event->lines->len;

  /* A multi-line event ends with "650 OK", which says nothing. */
  if (end > 1 && event->kinds->data[end - 1] == LINE_END &&
      g_str_equal (g_ptr_array_index (event->lines, end - 1), "OK"))
    end--;

  if (end > 1)
    data_lines = _tc_tor_control_reply_dup_lines (event, 1, end);

  words = g_strsplit (line, " ", 2);
  g_signal_emit (self, signals[EVENT], 0,
                 words[0] != NULL ? words[0] : "", line, data_lines);
}


typedef struct {
  GWeakRef self;
  guint8   buffer[READ_CHUNK];
} ReadOp;

static void start_read (TcTorControl *self);

static void
read_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  ReadOp *op = user_data;
  g_autoptr(TcTorControl) self = g_weak_ref_get (&op->self);
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (self == NULL || self->closed)
    goto out;

  if (n < 0)
    {
      _tc_tor_control_close_with_new_error (self, TC_TOR_CONTROL_ERROR_CLOSED,
                            _("Lost the connection to Tor's control port: %s"),
                            error->message);
      goto out;
    }

  if (n == 0)
    {
      _tc_tor_control_close_with_new_error (self, TC_TOR_CONTROL_ERROR_CLOSED,
                            _("Tor closed the control connection"));
      goto out;
    }

  g_byte_array_append (self->inbuf, op->buffer, n);
  _tc_tor_control_process_input (self);
  if (!self->closed)
    start_read (self);

out:
  g_weak_ref_clear (&op->self);
  g_free (op);
}

static void
start_read (TcTorControl *self)
{
  ReadOp *op = g_new (ReadOp, 1);

  /* A weak reference: dropping the last reference closes the connection. */
  g_weak_ref_init (&op->self, self);
  g_input_stream_read_async (self->input, op->buffer, sizeof op->buffer,
                             G_PRIORITY_DEFAULT, self->cancellable, read_cb, op);
}

/* Object */

static void
tc_tor_control_dispose (GObject *object)
{
  TcTorControl *self = TC_TOR_CONTROL (object);

  if (!self->closed)
    {
      self->closed = TRUE;
      g_cancellable_cancel (self->cancellable);
      if (self->io != NULL)
        g_io_stream_close (self->io, NULL, NULL);
    }

  G_OBJECT_CLASS (tc_tor_control_parent_class)->dispose (object);
}

static void
tc_tor_control_finalize (GObject *object)
{
  TcTorControl *self = TC_TOR_CONTROL (object);

  g_queue_clear_full (&self->pending, g_object_unref);
  g_clear_pointer (&self->reply, _tc_tor_control_reply_free);
  g_clear_pointer (&self->event, _tc_tor_control_reply_free);
  g_byte_array_unref (self->inbuf);
  wipe_gstring (self->outbuf);
  g_clear_object (&self->io);
  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (tc_tor_control_parent_class)->finalize (object);
}

static void
tc_tor_control_class_init (TcTorControlClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_tor_control_dispose;
  object_class->finalize = tc_tor_control_finalize;

  signals[EVENT] =
    g_signal_new ("event", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 3,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_STRING | G_SIGNAL_TYPE_STATIC_SCOPE,
                  G_TYPE_STRV | G_SIGNAL_TYPE_STATIC_SCOPE);
  signals[CLOSED] =
    g_signal_new ("closed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1,
                  G_TYPE_ERROR | G_SIGNAL_TYPE_STATIC_SCOPE);
}

static void
tc_tor_control_init (TcTorControl *self)
{
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
  self->inbuf = g_byte_array_new ();
  self->outbuf = g_string_new (NULL);
  g_queue_init (&self->pending);
}

/* Connecting */

static GSocketAddress *
parse_address (const char  *address,
               GError     **error)
{
  g_autoptr(GInetAddress) inet = NULL;
  g_autofree char *host = NULL;
  const char *colon;
  guint64 port;

  if (address == NULL || *address == '\0')
    goto invalid;

  if (g_str_has_prefix (address, "unix:"))
    address += strlen ("unix:");

  if (address[0] == '/')
    return g_unix_socket_address_new (address);

  colon = strrchr (address, ':');
  if (colon == NULL ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL))
    goto invalid;

  if (address[0] == '[' && colon - address >= 2 && colon[-1] == ']')
    host = g_strndup (address + 1, colon - address - 2);
  else
    host = g_strndup (address, colon - address);
  if (g_ascii_strcasecmp (host, "localhost") == 0)
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (host);
  if (inet == NULL)
    goto invalid;

  return g_inet_socket_address_new (inet, port);

invalid:
  g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
               _("\"%s\" is not a control port address (IP:PORT or unix:/PATH)"),
               address != NULL ? address : "");
  return NULL;
}

static void
connected_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  TcTorControl *self;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (connection == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_prefix_error (&error, _("Cannot connect to Tor's control port at %s: "),
                        (const char *) g_task_get_task_data (task));
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (g_task_return_error_if_cancelled (task))
    return;

  self = g_object_new (TC_TYPE_TOR_CONTROL, NULL);
  self->io = G_IO_STREAM (g_steal_pointer (&connection));
  self->input = g_io_stream_get_input_stream (self->io);
  self->output = g_io_stream_get_output_stream (self->io);
  start_read (self);

  g_task_return_pointer (task, self, g_object_unref);
}

void
tc_tor_control_connect_async (const char          *address,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocketClient) client = NULL;
  GError *error = NULL;

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_tor_control_connect_async);

  socket_address = parse_address (address, &error);
  if (socket_address == NULL)
    {
      g_task_return_error (task, error);
      return;
    }

  g_task_set_task_data (task, g_strdup (address), g_free);

  client = g_socket_client_new ();
  /* Tor's control port is local: no system proxy in between, ever. */
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (socket_address),
                                 cancellable, connected_cb, g_steal_pointer (&task));
}

TcTorControl *
tc_tor_control_connect_finish (GAsyncResult  *result,
                               GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tc_tor_control_connect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* Commands */

void
tc_tor_control_command_async (TcTorControl        *self,
                              const char          *command,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  gboolean multi_line;

  g_return_if_fail (TC_IS_TOR_CONTROL (self));
  g_return_if_fail (command != NULL);

  multi_line = command[0] == '+';
  if ((multi_line && !g_str_has_suffix (command, "\r\n.")) ||
      (!multi_line && strpbrk (command, "\r\n") != NULL) ||
      command[0] == '\0')
    {
      g_task_report_new_error (self, callback, user_data, tc_tor_control_command_async,
                               G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Not a valid Tor control command"));
      return;
    }

  enqueue (self, g_strdup (command), NULL, tc_tor_control_command_async,
           cancellable, callback, user_data);
}


void
tc_tor_control_get_info_async (TcTorControl        *self,
                               const char          *key,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_return_if_fail (TC_IS_TOR_CONTROL (self));
  g_return_if_fail (key != NULL);

  if (*key == '\0' || strpbrk (key, " \r\n") != NULL)
    {
      g_task_report_new_error (self, callback, user_data, tc_tor_control_get_info_async,
                               G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("Not a valid GETINFO key"));
      return;
    }

  enqueue (self, g_strconcat ("GETINFO ", key, NULL), g_strdup (key),
           tc_tor_control_get_info_async, cancellable, callback, user_data);
}


void
tc_tor_control_close (TcTorControl *self)
{
  g_return_if_fail (TC_IS_TOR_CONTROL (self));

  close_with_error (self, NULL);
}

gboolean
tc_tor_control_is_closed (TcTorControl *self)
{
  g_return_val_if_fail (TC_IS_TOR_CONTROL (self), TRUE);

  return self->closed;
}
