/* tc-tor-control.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <glib/gi18n.h>
#include <gio/gunixsocketaddress.h>

#include "tc-tor-control.h"

#define READ_CHUNK (16 * 1024)
#define MAX_LINE (1024 * 1024)
#define COOKIE_LEN 32
#define NONCE_LEN 32

#define SAFECOOKIE_SERVER_KEY "Tor safe cookie authentication server-to-controller hash"
#define SAFECOOKIE_CLIENT_KEY "Tor safe cookie authentication controller-to-server hash"

/* How a line of a reply or event arrived: its separator, or part of a data
 * block. get_info needs this to tell "key=" + data from "key=" empty. */
typedef enum {
  LINE_MID = '-',
  LINE_DATA_START = '+',
  LINE_END = ' ',
  LINE_DATA = 'd',
} LineKind;

typedef struct {
  guint       code;
  GPtrArray  *lines;
  GByteArray *kinds;
} Reply;

/* Every command is treated as a secret: ADD_ONION carries the onion
 * service's private key, AUTHENTICATE the password or cookie. Each copy of
 * one (the queued string, the output buffer, the buffer being written) is
 * wiped as soon as it is not needed, and never left behind by a realloc. */
typedef struct {
  char         *command;        /* wiped and freed once it is in outbuf */
  char         *key;            /* GETINFO only */
  GCancellable *cancellable;
  gulong        cancel_id;
  gboolean      sent;
  gboolean      returned;       /* cancelled while in flight: its reply is dropped */
} Pending;

typedef enum {
  DATA_NONE,
  DATA_REPLY,
  DATA_EVENT,
} DataTarget;

struct _TcTorControl
{
  GObject       parent_instance;

  GIOStream    *io;
  GInputStream *input;
  GOutputStream *output;
  GCancellable *cancellable;
  GMainContext *context;

  GByteArray   *inbuf;
  GString      *outbuf;
  gboolean      writing;

  GQueue        pending;        /* of GTask; the head is in flight once sent */
  Reply        *reply;          /* being received */
  Reply        *event;          /* being received */
  DataTarget    data_target;

  gboolean      closed;
};

G_DEFINE_FINAL_TYPE (TcTorControl, tc_tor_control, G_TYPE_OBJECT)

G_DEFINE_QUARK (tc-tor-control-error-quark, tc_tor_control_error)

enum {
  EVENT,
  CLOSED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void maybe_send_next (TcTorControl *self);

static Reply *
reply_new (guint code)
{
  Reply *reply = g_new0 (Reply, 1);

  reply->code = code;
  reply->lines = g_ptr_array_new_with_free_func (g_free);
  reply->kinds = g_byte_array_new ();

  return reply;
}

static void
reply_free (gpointer data)
{
  Reply *reply = data;

  if (reply == NULL)
    return;

  g_ptr_array_unref (reply->lines);
  g_byte_array_unref (reply->kinds);
  g_free (reply);
}

static void
reply_add (Reply      *reply,
           const char *text,
           LineKind    kind)
{
  guint8 k = kind;

  g_ptr_array_add (reply->lines, g_strdup (text));
  g_byte_array_append (reply->kinds, &k, 1);
}

static const char *
reply_last_line (Reply *reply)
{
  return reply->lines->len > 0 ? g_ptr_array_index (reply->lines, reply->lines->len - 1) : "";
}

static char **
reply_dup_lines (Reply *reply,
                 guint  first,
                 guint  end)
{
  GStrvBuilder *builder = g_strv_builder_new ();
  char **strv;

  for (guint i = first; i < end; i++)
    g_strv_builder_add (builder, g_ptr_array_index (reply->lines, i));

  strv = g_strv_builder_end (builder);
  g_strv_builder_unref (builder);

  return strv;
}

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

static void
close_with_new_error (TcTorControl *self,
                      int           code,
                      const char   *format,
                      ...) G_GNUC_PRINTF (3, 4);

static void
close_with_new_error (TcTorControl *self,
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
        close_with_new_error (self, TC_TOR_CONTROL_ERROR_CLOSED,
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

static void
finish_reply (TcTorControl *self,
              Reply        *reply)
{
  g_autoptr(GTask) task = NULL;
  GTask *head;
  Pending *p;

  head = g_queue_peek_head (&self->pending);
  if (head == NULL || !((Pending *) g_task_get_task_data (head))->sent)
    {
      g_debug ("Tor sent a reply (%u) nobody asked for", reply->code);
      reply_free (reply);
      return;
    }

  task = g_queue_pop_head (&self->pending);
  p = g_task_get_task_data (task);
  maybe_send_next (self);

  if (p->returned)
    {
      reply_free (reply);
      return;
    }

  pending_mark_returned (task);
  if (reply->code >= 200 && reply->code < 300)
    g_task_return_pointer (task, reply, reply_free);
  else
    {
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED,
                               "%u %s", reply->code, reply_last_line (reply));
      reply_free (reply);
    }
}

static void
emit_event (TcTorControl *self,
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
    data_lines = reply_dup_lines (event, 1, end);

  words = g_strsplit (line, " ", 2);
  g_signal_emit (self, signals[EVENT], 0,
                 words[0] != NULL ? words[0] : "", line, data_lines);
}

static void
handle_line (TcTorControl *self,
             const char   *line)
{
  Reply **target;
  guint code;
  char sep;

  if (self->data_target != DATA_NONE)
    {
      Reply *reply = self->data_target == DATA_EVENT ? self->event : self->reply;

      if (g_str_equal (line, "."))
        self->data_target = DATA_NONE;
      else
        reply_add (reply, line[0] == '.' ? line + 1 : line, LINE_DATA);
      return;
    }

  if (!g_ascii_isdigit (line[0]) || !g_ascii_isdigit (line[1]) ||
      !g_ascii_isdigit (line[2]) ||
      (line[3] != '\0' && line[3] != ' ' && line[3] != '-' && line[3] != '+'))
    {
      close_with_new_error (self, TC_TOR_CONTROL_ERROR_PROTOCOL,
                            _("Tor's control port sent a line we cannot parse"));
      return;
    }

  code = (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
  sep = line[3] != '\0' ? line[3] : ' ';

  /* Events (6xx) may come at any time, even between a command and its
   * reply: they never belong to the command. */
  target = code >= 600 && code < 700 ? &self->event : &self->reply;
  if (*target == NULL)
    *target = reply_new (code);
  else if ((*target)->code != code && sep == ' ')
    (*target)->code = code;

  reply_add (*target, line[3] != '\0' ? line + 4 : "", sep);

  if (sep == '+')
    {
      self->data_target = target == &self->event ? DATA_EVENT : DATA_REPLY;
    }
  else if (sep == ' ')
    {
      Reply *done = g_steal_pointer (target);

      if (target == &self->event)
        {
          emit_event (self, done);
          reply_free (done);
        }
      else
        {
          finish_reply (self, done);
        }
    }
}

static void
process_input (TcTorControl *self)
{
  gsize start = 0;

  while (!self->closed)
    {
      const guint8 *data = self->inbuf->data + start;
      gsize avail = self->inbuf->len - start;
      const guint8 *nl = memchr (data, '\n', avail);
      g_autofree char *line = NULL;
      gsize len;

      if (nl == NULL)
        {
          if (avail > MAX_LINE)
            close_with_new_error (self, TC_TOR_CONTROL_ERROR_PROTOCOL,
                                  _("Tor's control port sent a line longer than 1 MiB"));
          break;
        }

      len = nl - data;
      start += len + 1;
      if (len > MAX_LINE)
        {
          close_with_new_error (self, TC_TOR_CONTROL_ERROR_PROTOCOL,
                                _("Tor's control port sent a line longer than 1 MiB"));
          break;
        }

      if (len > 0 && data[len - 1] == '\r')
        len--;
      line = g_strndup ((const char *) data, len);
      handle_line (self, line);
    }

  if (start > 0)
    g_byte_array_remove_range (self->inbuf, 0, MIN (start, self->inbuf->len));
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
      close_with_new_error (self, TC_TOR_CONTROL_ERROR_CLOSED,
                            _("Lost the connection to Tor's control port: %s"),
                            error->message);
      goto out;
    }

  if (n == 0)
    {
      close_with_new_error (self, TC_TOR_CONTROL_ERROR_CLOSED,
                            _("Tor closed the control connection"));
      goto out;
    }

  g_byte_array_append (self->inbuf, op->buffer, n);
  process_input (self);
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
  g_clear_pointer (&self->reply, reply_free);
  g_clear_pointer (&self->event, reply_free);
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

char **
tc_tor_control_command_finish (TcTorControl  *self,
                               GAsyncResult  *result,
                               GError       **error)
{
  Reply *reply;
  char **lines;

  g_return_val_if_fail (TC_IS_TOR_CONTROL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, tc_tor_control_command_async), NULL);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply == NULL)
    return NULL;

  lines = reply_dup_lines (reply, 0, reply->lines->len);
  reply_free (reply);

  return lines;
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

char *
tc_tor_control_get_info_finish (TcTorControl  *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  Reply *reply;
  Pending *p;
  g_autofree char *prefix = NULL;
  char *value = NULL;

  g_return_val_if_fail (TC_IS_TOR_CONTROL (self), NULL);
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_async_result_is_tagged (result, tc_tor_control_get_info_async), NULL);

  reply = g_task_propagate_pointer (G_TASK (result), error);
  if (reply == NULL)
    return NULL;

  p = g_task_get_task_data (G_TASK (result));
  prefix = g_strconcat (p->key, "=", NULL);

  for (guint i = 0; i < reply->lines->len && value == NULL; i++)
    {
      const char *line = g_ptr_array_index (reply->lines, i);
      guint8 kind = reply->kinds->data[i];

      if (kind == LINE_DATA || !g_str_has_prefix (line, prefix))
        continue;

      if (kind == LINE_DATA_START)
        {
          GString *joined = g_string_new (NULL);

          for (guint j = i + 1; j < reply->lines->len && reply->kinds->data[j] == LINE_DATA; j++)
            {
              if (j > i + 1)
                g_string_append_c (joined, '\n');
              g_string_append (joined, g_ptr_array_index (reply->lines, j));
            }
          value = g_string_free (joined, FALSE);
        }
      else
        {
          value = g_strdup (line + strlen (prefix));
        }
    }

  reply_free (reply);

  if (value == NULL)
    g_set_error (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_PROTOCOL,
                 _("Tor's answer to GETINFO %s has no value"), p->key);

  return value;
}

/* Authentication */

enum {
  METHOD_NULL = 1 << 0,
  METHOD_HASHEDPASSWORD = 1 << 1,
  METHOD_COOKIE = 1 << 2,
  METHOD_SAFECOOKIE = 1 << 3,
};

typedef enum {
  AUTH_NULL,
  AUTH_PASSWORD,
  AUTH_COOKIE,
  AUTH_SAFECOOKIE,
} AuthMethod;

typedef struct {
  char       *password;
  char       *cookie_path;
  guint       methods;
  AuthMethod  method;
  guint8      cookie[COOKIE_LEN];
  guint8      client_nonce[NONCE_LEN];
} AuthData;

static void
auth_data_free (gpointer data)
{
  AuthData *auth = data;

  if (auth->password != NULL)
    explicit_bzero (auth->password, strlen (auth->password));
  g_free (auth->password);
  g_free (auth->cookie_path);
  explicit_bzero (auth->cookie, sizeof auth->cookie);
  g_free (auth);
}

static char *
hex_encode (const guint8 *data,
            gsize         len)
{
  static const char digits[] = "0123456789ABCDEF";
  char *hex = g_malloc (len * 2 + 1);

  for (gsize i = 0; i < len; i++)
    {
      hex[2 * i] = digits[data[i] >> 4];
      hex[2 * i + 1] = digits[data[i] & 0xf];
    }
  hex[len * 2] = '\0';

  return hex;
}

/* Returns the decoded length, or -1. */
static gssize
hex_decode (const char *hex,
            gsize       hex_len,
            guint8     *out,
            gsize       out_size)
{
  if (hex_len % 2 != 0 || hex_len / 2 > out_size)
    return -1;

  for (gsize i = 0; i < hex_len; i += 2)
    {
      int hi = g_ascii_xdigit_value (hex[i]);
      int lo = g_ascii_xdigit_value (hex[i + 1]);

      if (hi < 0 || lo < 0)
        return -1;
      out[i / 2] = (hi << 4) | lo;
    }

  return hex_len / 2;
}

/* A control-spec QuotedString starting at @p (which is '"'). */
static char *
unquote (const char  *p,
         const char **end)
{
  GString *out = g_string_new (NULL);

  g_assert (*p == '"');

  for (p++; *p != '\0' && *p != '"'; p++)
    {
      if (*p != '\\')
        {
          g_string_append_c (out, *p);
          continue;
        }

      p++;
      switch (*p)
        {
        case '\0':
          g_string_free (out, TRUE);
          return NULL;
        case 'n':
          g_string_append_c (out, '\n');
          break;
        case 'r':
          g_string_append_c (out, '\r');
          break;
        case 't':
          g_string_append_c (out, '\t');
          break;
        case '0': case '1': case '2': case '3':
        case '4': case '5': case '6': case '7':
          {
            guint value = 0;
            int n = 0;

            while (n < 3 && *p >= '0' && *p <= '7')
              {
                value = value * 8 + (*p - '0');
                p++;
                n++;
              }
            p--;
            g_string_append_c (out, (char) (value & 0xff));
          }
          break;
        default:
          g_string_append_c (out, *p);
          break;
        }
    }

  if (*p != '"')
    {
      g_string_free (out, TRUE);
      return NULL;
    }

  *end = p + 1;
  return g_string_free (out, FALSE);
}

/* "METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/path"" */
static gboolean
parse_auth_line (const char *line,
                 AuthData   *auth)
{
  const char *p = line;

  while (*p != '\0')
    {
      const char *key = p;
      const char *eq;
      g_autofree char *value = NULL;

      if (*p == ' ')
        {
          p++;
          continue;
        }

      eq = p + strcspn (p, "= ");
      if (*eq != '=')
        {
          /* A bare word: nothing we need. */
          p = eq;
          continue;
        }

      if (eq[1] == '"')
        {
          value = unquote (eq + 1, &p);
          if (value == NULL)
            return FALSE;
        }
      else
        {
          const char *space = strchr (eq + 1, ' ');

          p = space != NULL ? space : eq + 1 + strlen (eq + 1);
          value = g_strndup (eq + 1, p - (eq + 1));
        }

      if ((gsize) (eq - key) == strlen ("METHODS") && strncmp (key, "METHODS", eq - key) == 0)
        {
          g_auto(GStrv) methods = g_strsplit (value, ",", -1);

          for (guint i = 0; methods[i] != NULL; i++)
            {
              if (g_str_equal (methods[i], "NULL"))
                auth->methods |= METHOD_NULL;
              else if (g_str_equal (methods[i], "HASHEDPASSWORD"))
                auth->methods |= METHOD_HASHEDPASSWORD;
              else if (g_str_equal (methods[i], "COOKIE"))
                auth->methods |= METHOD_COOKIE;
              else if (g_str_equal (methods[i], "SAFECOOKIE"))
                auth->methods |= METHOD_SAFECOOKIE;
            }
        }
      else if ((gsize) (eq - key) == strlen ("COOKIEFILE") && strncmp (key, "COOKIEFILE", eq - key) == 0)
        {
          g_free (auth->cookie_path);
          auth->cookie_path = g_steal_pointer (&value);
        }
    }

  return TRUE;
}

static void
authenticate_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AuthData *auth = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = NULL;

  reply = tc_tor_control_command_finish (TC_TOR_CONTROL (object), result, &error);
  if (reply != NULL)
    {
      g_task_return_boolean (task, TRUE);
      return;
    }

  if (!g_error_matches (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  switch (auth->method)
    {
    case AUTH_PASSWORD:
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                               _("Tor refused the password"));
      break;

    case AUTH_COOKIE:
    case AUTH_SAFECOOKIE:
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                               _("Tor refused the cookie from %s (%s)"),
                               auth->cookie_path, error->message);
      break;

    case AUTH_NULL:
    default:
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                               _("Tor refused the connection: %s"), error->message);
      break;
    }
}

static void
send_authenticate (GTask      *task,
                   AuthMethod  method,
                   const char *argument)
{
  TcTorControl *self = g_task_get_source_object (task);
  AuthData *auth = g_task_get_task_data (task);
  g_autofree char *command = NULL;

  auth->method = method;
  command = argument != NULL ? g_strconcat ("AUTHENTICATE ", argument, NULL)
                             : g_strdup ("AUTHENTICATE");
  tc_tor_control_command_async (self, command, g_task_get_cancellable (task),
                                authenticate_cb, task);
  explicit_bzero (command, strlen (command));
}

static void
safecookie_hmac (const char   *key,
                 const guint8 *cookie,
                 const guint8 *client_nonce,
                 const guint8 *server_nonce,
                 gsize         server_nonce_len,
                 guint8        digest[32])
{
  GHmac *hmac = g_hmac_new (G_CHECKSUM_SHA256, (const guchar *) key, strlen (key));
  gsize len = 32;

  g_hmac_update (hmac, cookie, COOKIE_LEN);
  g_hmac_update (hmac, client_nonce, NONCE_LEN);
  g_hmac_update (hmac, server_nonce, server_nonce_len);
  g_hmac_get_digest (hmac, digest, &len);
  g_hmac_unref (hmac);
}

static gboolean
equal_in_constant_time (const guint8 *a,
                        const guint8 *b,
                        gsize         len)
{
  guint8 diff = 0;

  for (gsize i = 0; i < len; i++)
    diff |= a[i] ^ b[i];

  return diff == 0;
}

/* "AUTHCHALLENGE SERVERHASH=<hex> SERVERNONCE=<hex>" */
static gboolean
find_hex_keyword (const char  *line,
                  const char  *keyword,
                  guint8      *out,
                  gsize        out_size,
                  gsize       *out_len)
{
  g_autofree char *needle = g_strconcat (" ", keyword, "=", NULL);
  const char *start = strstr (line, needle);
  gssize len;

  if (start == NULL)
    return FALSE;

  start += strlen (needle);
  len = hex_decode (start, strcspn (start, " "), out, out_size);
  if (len <= 0)
    return FALSE;

  *out_len = len;
  return TRUE;
}

static void
authchallenge_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AuthData *auth = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = NULL;
  const char *line = NULL;
  guint8 server_hash[32];
  guint8 server_nonce[256];
  guint8 expected[32];
  guint8 client_hash[32];
  gsize hash_len = 0;
  gsize nonce_len = 0;
  g_autofree char *hex = NULL;

  reply = tc_tor_control_command_finish (TC_TOR_CONTROL (object), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_FAILED))
        g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                                 _("Tor refused the cookie challenge: %s"), error->message);
      else
        g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; reply[i] != NULL && line == NULL; i++)
    if (g_str_has_prefix (reply[i], "AUTHCHALLENGE "))
      line = reply[i];

  if (line == NULL ||
      !find_hex_keyword (line, "SERVERHASH", server_hash, sizeof server_hash, &hash_len) ||
      hash_len != sizeof server_hash ||
      !find_hex_keyword (line, "SERVERNONCE", server_nonce, sizeof server_nonce, &nonce_len))
    {
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_PROTOCOL,
                               _("Tor's answer to the cookie challenge cannot be parsed"));
      return;
    }

  safecookie_hmac (SAFECOOKIE_SERVER_KEY, auth->cookie, auth->client_nonce,
                   server_nonce, nonce_len, expected);
  if (!equal_in_constant_time (expected, server_hash, sizeof expected))
    {
      /* Whoever answers does not know the cookie: it is not our tor. */
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                               _("The control port did not prove it knows Tor's cookie"));
      return;
    }

  safecookie_hmac (SAFECOOKIE_CLIENT_KEY, auth->cookie, auth->client_nonce,
                   server_nonce, nonce_len, client_hash);
  hex = hex_encode (client_hash, sizeof client_hash);
  send_authenticate (g_steal_pointer (&task), AUTH_SAFECOOKIE, hex);
}

static void
authenticate_with_password (GTask *task)
{
  AuthData *auth = g_task_get_task_data (task);
  g_autofree char *quoted = tc_tor_control_quote (auth->password);

  send_authenticate (task, AUTH_PASSWORD, quoted);
  explicit_bzero (quoted, strlen (quoted));
}

static void
cookie_loaded_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AuthData *auth = g_task_get_task_data (task);
  TcTorControl *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;
  g_autofree char *contents = NULL;
  gsize length = 0;

  if (!g_file_load_contents_finish (G_FILE (object), result, &contents, &length, NULL, &error) ||
      length != COOKIE_LEN)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      if (auth->password != NULL && (auth->methods & METHOD_HASHEDPASSWORD) != 0)
        {
          authenticate_with_password (g_steal_pointer (&task));
          return;
        }

      if (error != NULL)
        g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                                 _("Cannot read Tor's cookie file %s: %s"),
                                 auth->cookie_path, error->message);
      else
        g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                                 _("Cannot read Tor's cookie file %s: it has %llu bytes, not %d"),
                                 auth->cookie_path, (unsigned long long) length, COOKIE_LEN);
      return;
    }

  memcpy (auth->cookie, contents, COOKIE_LEN);
  explicit_bzero (contents, length);

  if (g_task_return_error_if_cancelled (task))
    return;

  if ((auth->methods & METHOD_SAFECOOKIE) != 0)
    {
      g_autofree char *hex = NULL;
      g_autofree char *command = NULL;
      GCancellable *cancellable;

      if (getrandom (auth->client_nonce, NONCE_LEN, 0) != NONCE_LEN)
        {
          int saved = errno;

          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Could not get random bytes: %s"), g_strerror (saved));
          return;
        }

      auth->method = AUTH_SAFECOOKIE;
      hex = hex_encode (auth->client_nonce, NONCE_LEN);
      command = g_strconcat ("AUTHCHALLENGE SAFECOOKIE ", hex, NULL);
      cancellable = g_task_get_cancellable (task);
      tc_tor_control_command_async (self, command, cancellable,
                                    authchallenge_cb, g_steal_pointer (&task));
    }
  else
    {
      g_autofree char *hex = hex_encode (auth->cookie, COOKIE_LEN);

      send_authenticate (g_steal_pointer (&task), AUTH_COOKIE, hex);
      explicit_bzero (hex, strlen (hex));
    }
}

static void
protocolinfo_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  AuthData *auth = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = NULL;
  gboolean found = FALSE;

  reply = tc_tor_control_command_finish (TC_TOR_CONTROL (object), result, &error);
  if (reply == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  for (guint i = 0; reply[i] != NULL; i++)
    {
      if (!g_str_has_prefix (reply[i], "AUTH "))
        continue;

      found = TRUE;
      if (!parse_auth_line (reply[i] + strlen ("AUTH "), auth))
        {
          found = FALSE;
          break;
        }
    }

  if (!found)
    {
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_PROTOCOL,
                               _("Tor did not say how to authenticate"));
      return;
    }

  if ((auth->methods & METHOD_NULL) != 0)
    {
      send_authenticate (g_steal_pointer (&task), AUTH_NULL, NULL);
    }
  else if ((auth->methods & (METHOD_SAFECOOKIE | METHOD_COOKIE)) != 0 &&
           auth->cookie_path != NULL)
    {
      g_autoptr(GFile) file = g_file_new_for_path (auth->cookie_path);
      GCancellable *cancellable = g_task_get_cancellable (task);

      g_file_load_contents_async (file, cancellable, cookie_loaded_cb,
                                  g_steal_pointer (&task));
    }
  else if ((auth->methods & METHOD_HASHEDPASSWORD) != 0)
    {
      if (auth->password != NULL)
        authenticate_with_password (g_steal_pointer (&task));
      else
        g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                                 _("Tor's control port needs a password (use --tor-control-password)"));
    }
  else
    {
      g_task_return_new_error (task, TC_TOR_CONTROL_ERROR, TC_TOR_CONTROL_ERROR_AUTH,
                               _("Tor's control port offers no way to authenticate that TORChat knows"));
    }
}

void
tc_tor_control_authenticate_async (TcTorControl        *self,
                                   const char          *password,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  AuthData *auth;

  g_return_if_fail (TC_IS_TOR_CONTROL (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_tor_control_authenticate_async);

  auth = g_new0 (AuthData, 1);
  auth->password = g_strdup (password);
  g_task_set_task_data (task, auth, auth_data_free);

  tc_tor_control_command_async (self, "PROTOCOLINFO 1", cancellable,
                                protocolinfo_cb, g_steal_pointer (&task));
}

gboolean
tc_tor_control_authenticate_finish (TcTorControl  *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (TC_IS_TOR_CONTROL (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  g_return_val_if_fail (g_async_result_is_tagged (result, tc_tor_control_authenticate_async), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Helpers */

char *
tc_tor_control_quote (const char *string)
{
  GString *out;

  g_return_val_if_fail (string != NULL, NULL);

  out = g_string_sized_new (strlen (string) + 2);
  g_string_append_c (out, '"');

  for (const guchar *p = (const guchar *) string; *p != '\0'; p++)
    {
      switch (*p)
        {
        case '"':
          g_string_append (out, "\\\"");
          break;
        case '\\':
          g_string_append (out, "\\\\");
          break;
        case '\n':
          g_string_append (out, "\\n");
          break;
        case '\r':
          g_string_append (out, "\\r");
          break;
        case '\t':
          g_string_append (out, "\\t");
          break;
        default:
          if (*p < 0x20 || *p == 0x7f)
            g_string_append_printf (out, "\\%03o", *p);
          else
            g_string_append_c (out, *p);
          break;
        }
    }

  g_string_append_c (out, '"');

  return g_string_free (out, FALSE);
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
