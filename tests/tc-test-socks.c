/* tc-test-socks.c: a loopback SOCKS5 server standing in for Tor in tests
 *
 * Usage: tc-test-socks --map FILE [--port-file FILE]
 *
 * Listens on 127.0.0.1, port 0, and prints its port. Each CONNECT to
 * "NAME.onion" port 11009 re-reads FILE, whose lines are
 * "NAME.onion HOST:PORT [BYTES_PER_SECOND]", and splices the client to that
 * loopback port, optionally throttled in both directions. A last field
 * "corrupt-file" makes the server change one byte of the base64 of a file
 * stream ("open": "file") going to that name, once, after its first
 * 100,000 bytes: a sender whose chunk got corrupted. The map is read
 * per connection so a test can add nodes or take one offline by editing it.
 * A CONNECT to an IPv4 address is only served for 127.0.0.1. Nothing ever
 * leaves the loopback interface.
 *
 * Takes "no authentication" and, as Tor does, RFC 1929 user names (any
 * name and password: Tor isolates streams by them), preferring the latter.
 *
 * Logs on stderr, one line per event, names cut to 8 characters:
 *   CONNECT abcdefgh… ok 127.0.0.1:PORT [user NAME] | unknown | refused | failed
 *   END abcdefgh…      when a spliced connection is over
 *   BYTES abcdefgh… N  then: how many bytes went from the client to it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib-unix.h>

#define ONION_PORT 11009
/* Big enough that a 1 GB file is not 65,000 main-loop round trips: the
 * relay stands in for tor and should not be what a benchmark measures. */
#define PUMP_CHUNK (256 * 1024)

/* RFC 1928 reply codes */
enum {
  REP_SUCCEEDED = 0x00,
  REP_GENERAL_FAILURE = 0x01,
  REP_NOT_ALLOWED = 0x02,
  REP_HOST_UNREACHABLE = 0x04,
  REP_CONNECTION_REFUSED = 0x05,
  REP_COMMAND_NOT_SUPPORTED = 0x07,
  REP_ADDRESS_TYPE_NOT_SUPPORTED = 0x08,
};

typedef struct _Client Client;

typedef struct
{
  Client        *client;
  GInputStream  *in;
  GOutputStream *out;
  GSocket       *out_socket;
  guint8         buf[PUMP_CHUNK];
  gboolean       done;
} Pump;

struct _Client
{
  gint               ref_count;
  GSocketConnection *downstream;
  GSocketConnection *upstream;
  GCancellable      *cancellable;
  guint8             buf[512];
  guint8             cmd;
  guint8             atyp;
  char              *name;      /* redacted form, for logs */
  char              *host;      /* what the client asked for */
  char              *user;      /* RFC 1929 user name (Tor: the isolation), or NULL */
  gsize              auth_len;  /* of the RFC 1929 field being read */
  guint16            port;
  guint              rate;      /* bytes per second per direction, 0: no limit */
  gboolean           corrupt;   /* change one byte of a file stream */
  gboolean           is_file;
  gboolean           corrupted;
  guint64            forwarded; /* bytes from the client to the target */
  Pump               pumps[2];
  gboolean           spliced;
  gboolean           closed;
};

static const char *map_path;

static Client *
client_ref (Client *client)
{
  client->ref_count++;
  return client;
}

static void
client_unref (Client *client)
{
  if (--client->ref_count > 0)
    return;

  g_clear_object (&client->downstream);
  g_clear_object (&client->upstream);
  g_clear_object (&client->cancellable);
  g_free (client->name);
  g_free (client->user);
  g_free (client->host);
  g_free (client);
}

static void
client_close (Client *client)
{
  if (client->closed)
    return;
  client->closed = TRUE;

  g_cancellable_cancel (client->cancellable);
  if (client->spliced)
    {
      fprintf (stderr, "tc-test-socks: END %s\n", client->name);
      fprintf (stderr, "tc-test-socks: BYTES %s %" G_GUINT64_FORMAT "\n",
               client->name, client->forwarded);
    }
  g_io_stream_close (G_IO_STREAM (client->downstream), NULL, NULL);
  if (client->upstream != NULL)
    g_io_stream_close (G_IO_STREAM (client->upstream), NULL, NULL);
}

static char *
redact (const char *name)
{
  g_autofree char *head = NULL;

  if (g_utf8_strlen (name, -1) <= 8)
    return g_strdup (name);

  head = g_utf8_substring (name, 0, 8);
  return g_strconcat (head, "…", NULL);
}

/* Splicing: one pump per direction. An end of stream is passed on as a
 * half-close so the far side sees the disconnection; an error tears down
 * both directions at once. */

static void pump_read (Pump *pump);

static gboolean
pump_resume_cb (gpointer user_data)
{
  Pump *pump = user_data;

  pump_read (pump);
  client_unref (pump->client);

  return G_SOURCE_REMOVE;
}

static void
pump_write_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Pump *pump = user_data;
  Client *client = pump->client;
  gsize written = 0;

  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, &written, NULL))
    {
      client_close (client);
      client_unref (client);
      return;
    }

  if (client->rate > 0)
    {
      guint delay = (guint) MAX (1, written * 1000 / client->rate);

      /* The reference moves to the timeout. */
      g_timeout_add (delay, pump_resume_cb, pump);
      return;
    }

  pump_read (pump);
  client_unref (client);
}

/* A base64 letter followed by another one becomes the next letter: still
 * valid base64 in canonical form, other bytes. */
static void
corrupt_file_stream (Client *client,
                     guint8 *buf,
                     gssize  n)
{
  if (client->forwarded == (guint64) n &&
      g_strstr_len ((const char *) buf, n, "\"open\":\"file\"") != NULL)
    client->is_file = TRUE;

  if (!client->is_file || client->corrupted || client->forwarded < 100000)
    return;

  for (gssize i = 0; i + 1 < n; i++)
    {
      if (buf[i] >= 'A' && buf[i] < 'Z' && g_ascii_isalnum (buf[i + 1]))
        {
          buf[i]++;
          client->corrupted = TRUE;
          g_printerr ("tc-test-socks: CORRUPT %s at byte %" G_GUINT64_FORMAT "\n",
                      client->name, client->forwarded - n + i);
          return;
        }
    }
}

static void
pump_read_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Pump *pump = user_data;
  Client *client = pump->client;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, NULL);

  if (n < 0)
    {
      client_close (client);
    }
  else if (n == 0)
    {
      pump->done = TRUE;
      g_socket_shutdown (pump->out_socket, FALSE, TRUE, NULL);
      if (client->pumps[0].done && client->pumps[1].done)
        client_close (client);
    }
  else
    {
      if (pump == &client->pumps[0])
        {
          client->forwarded += n;
          if (client->corrupt)
            corrupt_file_stream (client, pump->buf, n);
        }

      g_output_stream_write_all_async (pump->out, pump->buf, n,
                                       G_PRIORITY_DEFAULT,
                                       client->cancellable,
                                       pump_write_cb,
                                       pump);
      client_ref (client);
    }

  client_unref (client);
}

static void
pump_read (Pump *pump)
{
  Client *client = pump->client;
  gsize chunk = sizeof pump->buf;

  if (client->closed)
    return;

  /* Small chunks keep a throttled stream smooth. */
  if (client->rate > 0)
    chunk = CLAMP (client->rate / 20, 64, sizeof pump->buf);

  g_input_stream_read_async (pump->in, pump->buf, chunk,
                             G_PRIORITY_DEFAULT,
                             client->cancellable,
                             pump_read_cb,
                             pump);
  client_ref (client);
}

static void
start_splice (Client *client)
{
  GSocketConnection *ends[2] = { client->downstream, client->upstream };

  client->spliced = TRUE;

  for (guint i = 0; i < 2; i++)
    {
      Pump *pump = &client->pumps[i];

      pump->client = client;
      pump->in = g_io_stream_get_input_stream (G_IO_STREAM (ends[i]));
      pump->out = g_io_stream_get_output_stream (G_IO_STREAM (ends[1 - i]));
      pump->out_socket = g_socket_connection_get_socket (ends[1 - i]);
      pump_read (pump);
    }
}

/* The SOCKS5 exchange */

static void
reply_then_close_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  Client *client = user_data;

  g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL);
  client_close (client);
  client_unref (client);
}

static void
reply_then_splice_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  Client *client = user_data;

  if (g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL))
    start_splice (client);
  else
    client_close (client);

  client_unref (client);
}

/* Sends a reply with a bound address of 127.0.0.1:@bound_port. */
static void
send_reply (Client  *client,
            guint8   rep,
            guint16  bound_port)
{
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->downstream));

  client->buf[0] = 0x05;
  client->buf[1] = rep;
  client->buf[2] = 0x00;
  client->buf[3] = 0x01;
  client->buf[4] = 127;
  client->buf[5] = 0;
  client->buf[6] = 0;
  client->buf[7] = 1;
  client->buf[8] = bound_port >> 8;
  client->buf[9] = bound_port & 0xff;

  g_output_stream_write_all_async (out, client->buf, 10,
                                   G_PRIORITY_DEFAULT,
                                   client->cancellable,
                                   rep == REP_SUCCEEDED ? reply_then_splice_cb
                                                        : reply_then_close_cb,
                                   client_ref (client));
}

static void
fail (Client     *client,
      guint8      rep,
      const char *what)
{
  fprintf (stderr, "tc-test-socks: CONNECT %s %s\n", client->name, what);
  send_reply (client, rep, 0);
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Client *client = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GSocketAddress) local = NULL;
  GSocketConnection *upstream;
  guint16 bound_port = 0;

  upstream = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);

  if (upstream == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
        fail (client, REP_CONNECTION_REFUSED, "refused");
      else if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        fail (client, REP_GENERAL_FAILURE, "failed");
      client_unref (client);
      return;
    }

  client->upstream = upstream;
  /* The 30 s are for connecting: Tor does not end a quiet stream, and
   * neither do we (a peer may say nothing for minutes between pings). */
  g_socket_set_timeout (g_socket_connection_get_socket (upstream), 0);
  local = g_socket_connection_get_local_address (upstream, NULL);
  if (G_IS_INET_SOCKET_ADDRESS (local))
    bound_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (local));

  {
    g_autoptr(GSocketAddress) remote = g_socket_connection_get_remote_address (upstream, NULL);
    guint port = G_IS_INET_SOCKET_ADDRESS (remote) ?
      g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (remote)) : 0;

    if (client->user != NULL)
      fprintf (stderr, "tc-test-socks: CONNECT %s ok 127.0.0.1:%u user %s\n",
               client->name, port, client->user);
    else
      fprintf (stderr, "tc-test-socks: CONNECT %s ok 127.0.0.1:%u\n", client->name, port);
  }

  send_reply (client, REP_SUCCEEDED, bound_port);
  client_unref (client);
}

/* Looks @name up in the map file. Returns the loopback port, or 0. */
static guint16
map_lookup (const char *name,
            guint      *rate,
            gboolean   *corrupt)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;

  *rate = 0;
  *corrupt = FALSE;

  if (!g_file_get_contents (map_path, &contents, NULL, NULL))
    return 0;

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      g_autofree char *with_suffix = NULL;
      const char *colon;
      guint64 port = 0;
      guint n_fields;

      if (fields[0] == NULL || fields[0][0] == '\0' || fields[0][0] == '#')
        continue;

      n_fields = g_strv_length (fields);
      if (n_fields < 2)
        continue;

      if (g_str_has_suffix (fields[0], ".onion"))
        with_suffix = g_strdup (fields[0]);
      else
        with_suffix = g_strconcat (fields[0], ".onion", NULL);

      if (g_ascii_strcasecmp (with_suffix, name) != 0)
        continue;

      colon = strrchr (fields[1], ':');
      if (colon == NULL)
        return 0;

      {
        g_autofree char *host = g_strndup (fields[1], colon - fields[1]);

        if (!g_str_equal (host, "127.0.0.1") && !g_str_equal (host, "localhost"))
          return 0;
      }

      if (!g_ascii_string_to_unsigned (colon + 1, 10, 1, G_MAXUINT16, &port, NULL))
        return 0;

      *corrupt = g_str_equal (fields[n_fields - 1], "corrupt-file");

      if (n_fields >= 3)
        {
          guint64 r = 0;

          if (g_ascii_string_to_unsigned (fields[2], 10, 1, G_MAXUINT, &r, NULL))
            *rate = (guint) r;
        }

      return (guint16) port;
    }

  return 0;
}

static void
handle_connect (Client *client)
{
  g_autoptr(GSocketClient) socket_client = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GSocketAddress) target = NULL;
  guint16 port = 0;

  if (client->cmd != 0x01)
    {
      fail (client, REP_COMMAND_NOT_SUPPORTED, "unsupported-command");
      return;
    }

  if (client->atyp == 0x03)
    {
      if (!g_str_has_suffix (client->host, ".onion") || client->port != ONION_PORT)
        {
          fail (client, REP_HOST_UNREACHABLE, "unknown");
          return;
        }

      port = map_lookup (client->host, &client->rate, &client->corrupt);
      if (port == 0)
        {
          fail (client, REP_HOST_UNREACHABLE, "unknown");
          return;
        }
    }
  else
    {
      if (!g_str_equal (client->host, "127.0.0.1"))
        {
          fail (client, REP_NOT_ALLOWED, "not-allowed");
          return;
        }
      port = client->port;
    }

  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  target = g_inet_socket_address_new (loopback, port);
  socket_client = g_socket_client_new ();
  g_socket_client_set_timeout (socket_client, 30);
  g_socket_client_connect_async (socket_client,
                                 G_SOCKET_CONNECTABLE (target),
                                 client->cancellable,
                                 connect_cb,
                                 client_ref (client));
}

static void read_exactly (Client              *client,
                          gsize                length,
                          GAsyncReadyCallback  callback);

static void
address_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Client *client = user_data;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, NULL) || n == 0)
    goto out;

  if (client->atyp == 0x01)
    {
      client->host = g_strdup_printf ("%u.%u.%u.%u",
                                      client->buf[0], client->buf[1],
                                      client->buf[2], client->buf[3]);
      client->port = (client->buf[4] << 8) | client->buf[5];
    }
  else
    {
      /* buf[0] is the length byte, read before. */
      gsize len = client->buf[0];

      client->host = g_strndup ((const char *) client->buf + 1, len);
      client->port = (client->buf[1 + len] << 8) | client->buf[2 + len];
      if (strlen (client->host) != len || !g_utf8_validate (client->host, -1, NULL))
        {
          g_clear_pointer (&client->host, g_free);
          client->host = g_strdup ("?");
        }
    }

  client->name = redact (client->host);
  handle_connect (client);

out:
  if (client->name == NULL)
    client_close (client);
  client_unref (client);
}

static void
domain_length_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  Client *client = user_data;
  gsize n = 0;

  if (g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, NULL) && n == 1
      && client->buf[0] > 0)
    {
      GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (client->downstream));

      /* Keep the length byte in buf[0]. */
      g_input_stream_read_all_async (in, client->buf + 1, client->buf[0] + 2,
                                     G_PRIORITY_DEFAULT, client->cancellable,
                                     address_cb, client_ref (client));
    }
  else
    {
      client_close (client);
    }

  client_unref (client);
}

static void
request_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Client *client = user_data;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, NULL) || n != 4
      || client->buf[0] != 0x05)
    {
      client_close (client);
      client_unref (client);
      return;
    }

  client->cmd = client->buf[1];
  client->atyp = client->buf[3];

  switch (client->atyp)
    {
    case 0x01:
      read_exactly (client, 4 + 2, address_cb);
      break;

    case 0x03:
      read_exactly (client, 1, domain_length_cb);
      break;

    default:
      client->name = g_strdup ("(ipv6)");
      fail (client, REP_ADDRESS_TYPE_NOT_SUPPORTED, "unsupported-address");
      break;
    }

  client_unref (client);
}

static void
method_reply_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Client *client = user_data;

  if (g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL))
    read_exactly (client, 4, request_cb);
  else
    client_close (client);

  client_unref (client);
}

/* RFC 1929: 01 ULEN, then USER PLEN, then PASS, each read with
 * read_exactly(). Like Tor, any name and password are taken; the name is
 * logged with the CONNECT. */
static gboolean
read_finish (Client       *client,
             GObject      *object,
             GAsyncResult *result,
             gsize         wanted)
{
  gsize n = 0;

  if (g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, NULL) && n == wanted)
    return TRUE;

  client_close (client);
  client_unref (client);
  return FALSE;
}

static void
password_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Client *client = user_data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->downstream));

  if (!read_finish (client, object, result, client->auth_len))
    return;

  client->buf[0] = 0x01;
  client->buf[1] = 0x00;
  g_output_stream_write_all_async (out, client->buf, 2, G_PRIORITY_DEFAULT, client->cancellable,
                                   method_reply_cb, client_ref (client));
  client_unref (client);
}

static void
user_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Client *client = user_data;

  /* The name and the password's length byte. */
  if (!read_finish (client, object, result, client->auth_len + 1))
    return;

  client->user = g_strndup ((const char *) client->buf, client->auth_len);
  client->auth_len = client->buf[client->auth_len];
  if (client->auth_len == 0)
    {
      client_close (client);
      client_unref (client);
      return;
    }
  read_exactly (client, client->auth_len, password_cb);
  client_unref (client);
}

static void
auth_head_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Client *client = user_data;

  if (!read_finish (client, object, result, 2))
    return;
  if (client->buf[0] != 0x01 || client->buf[1] == 0)
    {
      client_close (client);
      client_unref (client);
      return;
    }

  client->auth_len = client->buf[1];
  read_exactly (client, client->auth_len + 1, user_cb);
  client_unref (client);
}

static void
auth_method_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Client *client = user_data;

  if (g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, NULL))
    read_exactly (client, 2, auth_head_cb);
  else
    client_close (client);

  client_unref (client);
}

static void
methods_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  Client *client = user_data;
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (client->downstream));
  gboolean no_auth = FALSE, user_pass = FALSE;
  GAsyncReadyCallback next;
  gsize n = 0;

  if (!g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, NULL) || n == 0)
    {
      client_close (client);
      client_unref (client);
      return;
    }

  for (gsize i = 0; i < n; i++)
    {
      no_auth |= client->buf[i] == 0x00;
      user_pass |= client->buf[i] == 0x02;
    }

  /* Tor prefers the user name when it is offered. */
  client->buf[0] = 0x05;
  client->buf[1] = user_pass ? 0x02 : no_auth ? 0x00 : 0xff;
  next = user_pass ? auth_method_cb : no_auth ? method_reply_cb : reply_then_close_cb;
  g_output_stream_write_all_async (out, client->buf, 2,
                                   G_PRIORITY_DEFAULT, client->cancellable,
                                   next, client_ref (client));
  client_unref (client);
}

static void
greeting_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  Client *client = user_data;
  gsize n = 0;

  if (g_input_stream_read_all_finish (G_INPUT_STREAM (object), result, &n, NULL) && n == 2
      && client->buf[0] == 0x05 && client->buf[1] > 0)
    read_exactly (client, client->buf[1], methods_cb);
  else
    client_close (client);

  client_unref (client);
}

static void
read_exactly (Client              *client,
              gsize                length,
              GAsyncReadyCallback  callback)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (client->downstream));

  g_assert (length <= sizeof client->buf);
  g_input_stream_read_all_async (in, client->buf, length,
                                 G_PRIORITY_DEFAULT, client->cancellable,
                                 callback, client_ref (client));
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             gpointer           user_data)
{
  Client *client = g_new0 (Client, 1);

  client->ref_count = 1;
  client->downstream = g_object_ref (connection);
  client->cancellable = g_cancellable_new ();
  read_exactly (client, 2, greeting_cb);
  client_unref (client);

  return TRUE;
}

static gboolean
quit_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int    argc,
      char **argv)
{
  g_autofree char *port_file = NULL;
  g_autofree char *map_file = NULL;
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GSocketService) service = NULL;
  g_autoptr(GSocketAddress) any = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  g_autoptr(GInetAddress) loopback = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port_text = NULL;
  guint port;
  const GOptionEntry entries[] = {
    { "map", 0, 0, G_OPTION_ARG_FILENAME, &map_file, "Names to loopback ports", "FILE" },
    { "port-file", 0, 0, G_OPTION_ARG_FILENAME, &port_file, "Where to write the port", "FILE" },
    { NULL }
  };

  context = g_option_context_new ("- SOCKS5 server for TORChat tests");
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "tc-test-socks: %s\n", error->message);
      return 2;
    }
  if (map_file == NULL)
    {
      fprintf (stderr, "tc-test-socks: --map is required\n");
      return 2;
    }
  map_path = map_file;

  loop = g_main_loop_new (NULL, FALSE);
  service = g_socket_service_new ();
  loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  any = g_inet_socket_address_new (loopback, 0);
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (service), any,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &effective, &error))
    {
      fprintf (stderr, "tc-test-socks: %s\n", error->message);
      return 1;
    }
  port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));

  g_signal_connect (service, "incoming", G_CALLBACK (incoming_cb), NULL);
  g_socket_service_start (service);

  port_text = g_strdup_printf ("%u\n", port);
  /* g_file_set_contents() writes a temporary file and renames it: a reader
   * never sees a half-written port. */
  if (port_file != NULL && !g_file_set_contents (port_file, port_text, -1, &error))
    {
      fprintf (stderr, "tc-test-socks: %s\n", error->message);
      return 1;
    }
  g_print ("%s", port_text);
  fflush (stdout);

  g_unix_signal_add (SIGTERM, quit_cb, loop);
  g_unix_signal_add (SIGINT, quit_cb, loop);
  g_main_loop_run (loop);

  g_socket_service_stop (service);

  return 0;
}
