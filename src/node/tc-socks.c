/* tc-socks.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tc-socks.h"

#define SOCKS_VERSION 0x05
#define METHOD_NO_AUTH 0x00
#define METHOD_USERNAME 0x02
#define USERNAME_VERSION 0x01
#define METHOD_NONE_ACCEPTABLE 0xff
#define CMD_CONNECT 0x01
#define ATYP_IPV4 0x01
#define ATYP_DOMAIN 0x03
#define ATYP_IPV6 0x04
#define MAX_HOST_LEN 255

G_DEFINE_QUARK (tc-socks-error-quark, tc_socks_error)

typedef struct
{
  char              *host;
  char              *isolation;    /* the RFC 1929 user name, or NULL */
  guint16            port;
  GSocketAddress    *proxy;
  GSocketConnection *connection;
  gsize              expected;     /* bytes the pending read asks for */
  /* Large enough for the CONNECT request, the longest message we send or
   * read: 4 + 1 + 255 + 2 bytes. */
  guint8             buf[4 + 1 + MAX_HOST_LEN + 2];
} ConnectData;

static void
connect_data_free (gpointer data)
{
  ConnectData *self = data;

  g_free (self->host);
  g_free (self->isolation);
  g_clear_object (&self->proxy);
  g_clear_object (&self->connection);
  g_free (self);
}

static const char *
describe_code (int code)
{
  switch (code)
    {
    case TC_SOCKS_ERROR_GENERAL_FAILURE:
      return _("Tor could not make the connection");
    case TC_SOCKS_ERROR_NOT_ALLOWED:
      return _("Tor's settings do not allow this connection");
    case TC_SOCKS_ERROR_NETWORK_UNREACHABLE:
      return _("Tor cannot reach the network");
    case TC_SOCKS_ERROR_HOST_UNREACHABLE:
      return _("Your contact is unreachable right now");
    case TC_SOCKS_ERROR_CONNECTION_REFUSED:
      return _("Your contact refused the connection");
    case TC_SOCKS_ERROR_TTL_EXPIRED:
      return _("Connecting to your contact took too long");
    case TC_SOCKS_ERROR_COMMAND_NOT_SUPPORTED:
      return _("Tor refused the request as unsupported");
    case TC_SOCKS_ERROR_ADDRESS_NOT_SUPPORTED:
      return _("Tor does not support this kind of address");
    case TC_SOCKS_ERROR_ONION_NOT_FOUND:
      return _("Your contact is offline (their onion service is not published)");
    case TC_SOCKS_ERROR_ONION_INVALID:
      return _("Your contact's onion service published a description Tor cannot read");
    case TC_SOCKS_ERROR_INTRO_FAILED:
    case TC_SOCKS_ERROR_INTRO_TIMEOUT:
      return _("Your contact is offline or unreachable right now");
    case TC_SOCKS_ERROR_REND_FAILED:
      return _("Tor could not meet your contact's onion service (rendezvous failed)");
    case TC_SOCKS_ERROR_MISSING_CLIENT_AUTH:
      return _("Your contact's onion service requires client authorization");
    case TC_SOCKS_ERROR_WRONG_CLIENT_AUTH:
      return _("Your contact's onion service refused our client authorization");
    case TC_SOCKS_ERROR_BAD_ADDRESS:
      return _("This is not a valid onion address");
    case TC_SOCKS_ERROR_PROXY_UNREACHABLE:
      return _("Tor is not running or not ready");
    case TC_SOCKS_ERROR_PROTOCOL:
      return _("The SOCKS port does not answer like Tor");
    default:
      return _("The connection through Tor failed");
    }
}

const char *
tc_socks_error_describe (const GError *error)
{
  g_return_val_if_fail (error != NULL, NULL);

  if (error->domain != TC_SOCKS_ERROR)
    return error->message;

  return describe_code (error->code);
}

gboolean
tc_socks_error_is_offline (const GError *error)
{
  if (error == NULL || error->domain != TC_SOCKS_ERROR)
    return FALSE;

  switch (error->code)
    {
    case TC_SOCKS_ERROR_HOST_UNREACHABLE:
    case TC_SOCKS_ERROR_TTL_EXPIRED:
    case TC_SOCKS_ERROR_ONION_NOT_FOUND:
    case TC_SOCKS_ERROR_INTRO_FAILED:
    case TC_SOCKS_ERROR_REND_FAILED:
    case TC_SOCKS_ERROR_INTRO_TIMEOUT:
      return TRUE;
    default:
      return FALSE;
    }
}

static void
return_protocol_error (GTask      *task,
                       const char *message)
{
  g_task_return_new_error (task, TC_SOCKS_ERROR, TC_SOCKS_ERROR_PROTOCOL, "%s", message);
}

static void
read_bytes (GTask               *task,
            gsize                length,
            GAsyncReadyCallback  callback)
{
  ConnectData *data = g_task_get_task_data (task);
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (data->connection));

  g_assert (length <= sizeof data->buf);
  data->expected = length;
  g_input_stream_read_all_async (in, data->buf, length,
                                 g_task_get_priority (task),
                                 g_task_get_cancellable (task),
                                 callback, task);
}

/* A short read is the proxy closing the connection: an error, never a wait
 * for bytes that cannot come. */
static gboolean
read_finish (GTask        *task,
             GObject      *stream,
             GAsyncResult *result)
{
  ConnectData *data = g_task_get_task_data (task);
  GError *error = NULL;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (stream), result, &n, &error))
    {
      g_task_return_error (task, error);
      return FALSE;
    }

  if (n < data->expected)
    {
      return_protocol_error (task, _("The SOCKS proxy closed the connection"));
      return FALSE;
    }

  return TRUE;
}

static void
write_bytes (GTask               *task,
             gsize                length,
             GAsyncReadyCallback  callback)
{
  ConnectData *data = g_task_get_task_data (task);
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (data->connection));

  g_output_stream_write_all_async (out, data->buf, length,
                                   g_task_get_priority (task),
                                   g_task_get_cancellable (task),
                                   callback, task);
}

static gboolean
write_finish (GTask        *task,
              GObject      *stream,
              GAsyncResult *result)
{
  GError *error = NULL;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (stream), result, NULL, &error))
    {
      g_task_return_error (task, error);
      return FALSE;
    }

  return TRUE;
}

/* Each step of the exchange: once our bytes are written, the proxy's
 * answer of @length bytes goes to @next. Takes @task. */
static void
read_after_write (GObject             *stream,
                  GAsyncResult        *result,
                  GTask               *task,
                  gsize                length,
                  GAsyncReadyCallback  next)
{
  if (!write_finish (task, stream, result))
    {
      g_object_unref (task);
      return;
    }

  read_bytes (task, length, next);
}

static void
bound_address_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);

  if (!read_finish (task, object, result))
    return;

  g_task_return_pointer (task, g_steal_pointer (&data->connection), g_object_unref);
}

static void
bound_domain_length_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);

  if (!read_finish (task, object, result))
    return;

  read_bytes (task, data->buf[0] + 2, bound_address_cb);
  g_steal_pointer (&task);
}

static void
reply_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  guint8 rep, atyp;

  if (!read_finish (task, object, result))
    return;

  if (data->buf[0] != SOCKS_VERSION)
    {
      return_protocol_error (task, _("The SOCKS proxy does not speak SOCKS5"));
      return;
    }

  rep = data->buf[1];
  atyp = data->buf[3];

  if (rep != 0x00)
    {
      g_task_return_new_error (task, TC_SOCKS_ERROR, rep, "%s", describe_code (rep));
      return;
    }

  /* The bound address must be consumed: what follows is the peer's. */
  switch (atyp)
    {
    case ATYP_IPV4:
      read_bytes (task, 4 + 2, bound_address_cb);
      break;

    case ATYP_IPV6:
      read_bytes (task, 16 + 2, bound_address_cb);
      break;

    case ATYP_DOMAIN:
      read_bytes (task, 1, bound_domain_length_cb);
      break;

    default:
      return_protocol_error (task, _("The SOCKS proxy answered with an unknown address type"));
      return;
    }

  g_steal_pointer (&task);
}

static void
request_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  read_after_write (object, result, user_data, 4, reply_cb);
}

static void
send_request (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  gsize host_len = strlen (data->host);
  gsize len = 0;

  /* The name goes to the proxy as it is (ATYP 3): Tor resolves ".onion",
   * and nothing is ever looked up in DNS here. */
  data->buf[len++] = SOCKS_VERSION;
  data->buf[len++] = CMD_CONNECT;
  data->buf[len++] = 0x00;
  data->buf[len++] = ATYP_DOMAIN;
  data->buf[len++] = (guint8) host_len;
  memcpy (data->buf + len, data->host, host_len);
  len += host_len;
  data->buf[len++] = data->port >> 8;
  data->buf[len++] = data->port & 0xff;

  write_bytes (task, len, request_cb);
}

static void
auth_reply_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);

  if (!read_finish (task, object, result))
    return;

  /* Tor takes any name and password; one it refuses is a proxy that is
   * not Tor, or not configured for this. */
  if (data->buf[0] != USERNAME_VERSION || data->buf[1] != 0x00)
    {
      return_protocol_error (task, _("The SOCKS proxy refused the connection's isolation name"));
      return;
    }

  send_request (g_steal_pointer (&task));
}

static void
auth_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  read_after_write (object, result, user_data, 2, auth_reply_cb);
}

/* RFC 1929: the isolation name as user name, and a password Tor ignores
 * (it isolates by both, and one byte is the least RFC 1929 allows). */
static void
send_auth (GTask *task)
{
  ConnectData *data = g_task_get_task_data (task);
  gsize user_len = strlen (data->isolation);
  gsize len = 0;

  data->buf[len++] = USERNAME_VERSION;
  data->buf[len++] = (guint8) user_len;
  memcpy (data->buf + len, data->isolation, user_len);
  len += user_len;
  data->buf[len++] = 1;
  data->buf[len++] = '0';

  write_bytes (task, len, auth_cb);
}

static void
method_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);

  if (!read_finish (task, object, result))
    return;

  if (data->buf[0] != SOCKS_VERSION)
    {
      return_protocol_error (task, _("The SOCKS proxy does not speak SOCKS5"));
      return;
    }

  if (data->buf[1] == METHOD_USERNAME && data->isolation != NULL)
    {
      send_auth (g_steal_pointer (&task));
      return;
    }

  if (data->buf[1] != METHOD_NO_AUTH)
    {
      return_protocol_error (task, data->buf[1] == METHOD_NONE_ACCEPTABLE ?
                             _("The SOCKS proxy wants authentication") :
                             _("The SOCKS proxy chose a method we did not offer"));
      return;
    }

  send_request (g_steal_pointer (&task));
}

static void
greeting_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  read_after_write (object, result, user_data, 2, method_cb);
}

static void
proxy_connect_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  ConnectData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  data->connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);

  if (data->connection == NULL)
    {
      g_autofree char *where = NULL;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }

      where = g_socket_connectable_to_string (G_SOCKET_CONNECTABLE (data->proxy));
      g_task_return_new_error (task, TC_SOCKS_ERROR, TC_SOCKS_ERROR_PROXY_UNREACHABLE,
                               _("Could not reach Tor's SOCKS port %s: %s"),
                               where, error->message);
      return;
    }

  /* With an isolation name both methods are offered: Tor picks the user
   * name (and gives the stream a circuit of its own, IsolateSOCKSAuth is
   * on by default), a proxy without RFC 1929 still has "no auth". */
  data->buf[0] = SOCKS_VERSION;
  data->buf[1] = data->isolation != NULL ? 2 : 1;
  data->buf[2] = METHOD_NO_AUTH;
  data->buf[3] = METHOD_USERNAME;
  write_bytes (task, 2 + data->buf[1], greeting_cb);
  g_steal_pointer (&task);
}

void
tc_socks_connect_async (GSocketAddress      *proxy,
                        const char          *host,
                        guint16              port,
                        const char          *isolation,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketClient) client = NULL;
  ConnectData *data;
  gsize host_len;

  g_return_if_fail (G_IS_SOCKET_ADDRESS (proxy));
  g_return_if_fail (host != NULL);
  g_return_if_fail (!cancellable || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_socks_connect_async);

  host_len = strlen (host);
  if (host_len == 0 || host_len > MAX_HOST_LEN)
    {
      g_task_return_new_error (task, TC_SOCKS_ERROR, TC_SOCKS_ERROR_BAD_ADDRESS,
                               _("A host name for SOCKS5 has 1 to 255 bytes"));
      return;
    }

  if (isolation != NULL && (isolation[0] == '\0' || strlen (isolation) > MAX_HOST_LEN))
    {
      g_task_return_new_error (task, TC_SOCKS_ERROR, TC_SOCKS_ERROR_PROTOCOL,
                               _("An isolation name for SOCKS5 has 1 to 255 bytes"));
      return;
    }

  data = g_new0 (ConnectData, 1);
  data->host = g_strdup (host);
  data->isolation = g_strdup (isolation);
  data->port = port;
  data->proxy = g_object_ref (proxy);
  g_task_set_task_data (task, data, connect_data_free);

  /* The proxy itself is reached directly, whatever the desktop's proxy
   * settings say. */
  client = g_socket_client_new ();
  g_socket_client_set_enable_proxy (client, FALSE);
  g_socket_client_connect_async (client, G_SOCKET_CONNECTABLE (proxy), cancellable,
                                 proxy_connect_cb, g_steal_pointer (&task));
}

GSocketConnection *
tc_socks_connect_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == tc_socks_connect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
