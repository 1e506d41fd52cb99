/* test-socks.c: the SOCKS5 client against a scripted proxy and the real tor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "tc-socks.h"
#include "tc-types.h"

#define ONION "bobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbobbo.onion"
#define TRAILER "the peer speaks first\n"

/* How the scripted proxy behaves after the client's greeting. */
typedef enum {
  MODE_REPLY,                 /* the whole exchange, with the chosen reply */
  MODE_SILENT,                /* never answers the greeting */
  MODE_CLOSE_AFTER_GREETING,
  MODE_CLOSE_AFTER_METHOD,    /* closes instead of answering CONNECT */
  MODE_CLOSE_IN_REPLY,        /* 3 of the 4 bytes of the reply header */
  MODE_CLOSE_IN_ADDRESS,      /* the header, half the bound address */
  MODE_NOT_SOCKS5,            /* an HTTP server, say */
} Mode;

typedef struct {
  GSocketService *service;
  GSocketAddress *address;
  gint            connections;
  gint            finished;

  /* What the proxy does, set before the client connects. */
  Mode            mode;
  guint8          method;     /* answer to the greeting */
  guint8          auth_status;  /* answer to RFC 1929, when method is 0x02 */
  guint8          rep;
  guint8          atyp;       /* of the bound address in the reply */

  /* What it saw, written by the handler thread. */
  GMutex          lock;
  GByteArray     *greeting;
  GByteArray     *auth;
  GByteArray     *request;
  GByteArray     *received;   /* after a successful reply */
} Fixture;

static gboolean
read_exact (GInputStream *in,
            guint8       *buf,
            gsize         length)
{
  gsize n = 0;

  return g_input_stream_read_all (in, buf, length, &n, NULL, NULL) && n == length;
}

static void
record (Fixture      *f,
        GByteArray   *array,
        const guint8 *data,
        gsize         length)
{
  g_mutex_lock (&f->lock);
  g_byte_array_append (array, data, length);
  g_mutex_unlock (&f->lock);
}

static void
read_to_end (Fixture      *f,
             GInputStream *in,
             GByteArray   *into)
{
  guint8 buf[256];
  gssize n;

  while ((n = g_input_stream_read (in, buf, sizeof buf, NULL, NULL)) > 0)
    if (into != NULL)
      record (f, into, buf, n);
}

/* The bound address of a reply, in the form @atyp asks for. */
static gsize
append_bound_address (guint8 *buf,
                      guint8  atyp)
{
  static const guint8 ipv6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x01 };
  static const char domain[] = "bound.example";
  gsize len = 0;

  switch (atyp)
    {
    case 0x01:
      buf[len++] = 192;
      buf[len++] = 0;
      buf[len++] = 2;
      buf[len++] = 1;
      break;

    case 0x03:
      buf[len++] = strlen (domain);
      memcpy (buf + len, domain, strlen (domain));
      len += strlen (domain);
      break;

    case 0x04:
      memcpy (buf + len, ipv6, sizeof ipv6);
      len += sizeof ipv6;
      break;

    default:
      g_assert_not_reached ();
    }

  buf[len++] = 0x12;
  buf[len++] = 0x34;

  return len;
}

static void
serve (Fixture           *f,
       GSocketConnection *connection)
{
  GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  GOutputStream *out = g_io_stream_get_output_stream (G_IO_STREAM (connection));
  guint8 buf[512];
  gsize len = 0;

  if (!read_exact (in, buf, 2) || buf[1] == 0 || !read_exact (in, buf + 2, buf[1]))
    return;
  record (f, f->greeting, buf, 2 + buf[1]);

  switch (f->mode)
    {
    case MODE_SILENT:
      read_to_end (f, in, NULL);
      return;

    case MODE_CLOSE_AFTER_GREETING:
      return;

    case MODE_NOT_SOCKS5:
      g_output_stream_write_all (out, "HTTP/1.1 400 Bad Request\r\n\r\n", 28, NULL, NULL, NULL);
      return;

    case MODE_REPLY:
    case MODE_CLOSE_AFTER_METHOD:
    case MODE_CLOSE_IN_REPLY:
    case MODE_CLOSE_IN_ADDRESS:
    default:
      break;
    }

  buf[0] = 0x05;
  buf[1] = f->method;
  if (!g_output_stream_write_all (out, buf, 2, NULL, NULL, NULL))
    return;

  /* RFC 1929: 01 ULEN USER PLEN PASS, answered with 01 STATUS. */
  if (f->method == 0x02)
    {
      gsize at;

      if (!read_exact (in, buf, 2) || !read_exact (in, buf + 2, buf[1] + 1))
        return;
      at = 2 + buf[1];
      if (!read_exact (in, buf + at + 1, buf[at]))
        return;
      record (f, f->auth, buf, at + 1 + buf[at]);

      buf[0] = 0x01;
      buf[1] = f->auth_status;
      if (!g_output_stream_write_all (out, buf, 2, NULL, NULL, NULL) || f->auth_status != 0x00)
        return;
    }
  else if (f->method != 0x00)
    return;

  /* The client always names the host: 05 01 00 03 LEN NAME PORT. */
  if (!read_exact (in, buf, 5) || !read_exact (in, buf + 5, buf[4] + 2))
    return;
  record (f, f->request, buf, 5 + buf[4] + 2);

  if (f->mode == MODE_CLOSE_AFTER_METHOD)
    return;

  buf[len++] = 0x05;
  buf[len++] = f->rep;
  buf[len++] = 0x00;
  buf[len++] = f->atyp;
  len += append_bound_address (buf + len, f->atyp);

  if (f->mode == MODE_CLOSE_IN_REPLY)
    len = 3;
  else if (f->mode == MODE_CLOSE_IN_ADDRESS)
    len = 4 + 2;
  else if (f->rep == 0x00)
    {
      /* In the same write: the client must not read past its reply. */
      memcpy (buf + len, TRAILER, strlen (TRAILER));
      len += strlen (TRAILER);
    }

  if (!g_output_stream_write_all (out, buf, len, NULL, NULL, NULL))
    return;

  if (f->mode == MODE_REPLY && f->rep == 0x00)
    read_to_end (f, in, f->received);
}

static gboolean
run_cb (GThreadedSocketService *service,
        GSocketConnection      *connection,
        GObject                *source_object,
        gpointer                user_data)
{
  Fixture *f = user_data;

  g_atomic_int_inc (&f->connections);
  serve (f, connection);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_atomic_int_inc (&f->finished);

  return TRUE;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GError) error = NULL;

  g_mutex_init (&f->lock);
  f->greeting = g_byte_array_new ();
  f->auth = g_byte_array_new ();
  f->request = g_byte_array_new ();
  f->received = g_byte_array_new ();
  f->mode = MODE_REPLY;
  f->method = 0x00;
  f->atyp = 0x01;

  f->service = g_threaded_socket_service_new (4);
  g_socket_listener_add_address (G_SOCKET_LISTENER (f->service), any,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &f->address, &error);
  g_assert_no_error (error);
  g_signal_connect (f->service, "run", G_CALLBACK (run_cb), f);
  g_socket_service_start (f->service);
}

static void
wait_for_handlers (Fixture *f)
{
  gint64 deadline = g_get_monotonic_time () + 10 * G_USEC_PER_SEC;

  while (g_atomic_int_get (&f->finished) < g_atomic_int_get (&f->connections))
    {
      g_assert_cmpint (g_get_monotonic_time (), <, deadline);
      g_main_context_iteration (NULL, FALSE);
      g_usleep (1000);
    }
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  wait_for_handlers (f);
  g_socket_service_stop (f->service);
  g_socket_listener_close (G_SOCKET_LISTENER (f->service));
  g_clear_object (&f->service);
  g_clear_object (&f->address);
  g_byte_array_unref (f->greeting);
  g_byte_array_unref (f->auth);
  g_byte_array_unref (f->request);
  g_byte_array_unref (f->received);
  g_mutex_clear (&f->lock);
}

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

static GSocketConnection *
socks_connect_isolated (GSocketAddress  *proxy,
                        const char      *host,
                        const char      *isolation,
                        GCancellable    *cancellable,
                        GError         **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  tc_socks_connect_async (proxy, host, TC_VIRTUAL_PORT, isolation, cancellable, result_cb, &result);
  while (result == NULL)
    g_main_context_iteration (NULL, TRUE);

  return tc_socks_connect_finish (result, error);
}

static GSocketConnection *
socks_connect (GSocketAddress  *proxy,
               const char      *host,
               GCancellable    *cancellable,
               GError         **error)
{
  return socks_connect_isolated (proxy, host, NULL, cancellable, error);
}

static void
test_request_bytes (Fixture       *f,
                    gconstpointer  data)
{
  static const guint8 greeting[] = { 0x05, 0x01, 0x00 };
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GByteArray) expected = g_byte_array_new ();
  g_autoptr(GError) error = NULL;
  guint8 head[] = { 0x05, 0x01, 0x00, 0x03, strlen (ONION) };
  guint8 port[] = { 0x2b, 0x01 };   /* 11009, big-endian */

  connection = socks_connect (f->address, ONION, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection);

  /* No DNS: the name itself goes to the proxy. */
  g_byte_array_append (expected, head, sizeof head);
  g_byte_array_append (expected, (const guint8 *) ONION, strlen (ONION));
  g_byte_array_append (expected, port, sizeof port);

  g_mutex_lock (&f->lock);
  g_assert_cmpmem (f->greeting->data, f->greeting->len, greeting, sizeof greeting);
  g_assert_cmpmem (f->request->data, f->request->len, expected->data, expected->len);
  g_mutex_unlock (&f->lock);
}

/* Whatever the form of the bound address, the peer's first bytes, sent in
 * the same segment as the reply, reach the caller intact, and the caller's
 * reach the peer. */
static void
test_bound_address (Fixture       *f,
                    gconstpointer  data)
{
  static const guint8 types[] = { 0x01, 0x03, 0x04 };

  for (guint i = 0; i < G_N_ELEMENTS (types); i++)
    {
      g_autoptr(GSocketConnection) connection = NULL;
      g_autoptr(GError) error = NULL;
      char buf[sizeof TRAILER] = { 0 };
      gsize n = 0;

      f->atyp = types[i];
      g_byte_array_set_size (f->received, 0);

      connection = socks_connect (f->address, ONION, NULL, &error);
      g_assert_no_error (error);

      g_input_stream_read_all (g_io_stream_get_input_stream (G_IO_STREAM (connection)),
                               buf, strlen (TRAILER), &n, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpstr (buf, ==, TRAILER);

      g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (connection)),
                                 "hello", 5, NULL, NULL, &error);
      g_assert_no_error (error);
      g_io_stream_close (G_IO_STREAM (connection), NULL, &error);
      g_assert_no_error (error);

      wait_for_handlers (f);
      g_assert_cmpmem (f->received->data, f->received->len, "hello", 5);
    }
}

static const struct {
  guint8   rep;
  gboolean offline;
} replies[] = {
  { 0x01, FALSE }, /* general failure */
  { 0x02, FALSE }, /* not allowed */
  { 0x03, FALSE }, /* network unreachable */
  { 0x04, TRUE },  /* host unreachable */
  { 0x05, FALSE }, /* connection refused */
  { 0x06, TRUE },  /* TTL expired */
  { 0x07, FALSE }, /* command not supported */
  { 0x08, FALSE }, /* address type not supported */
  { 0xF0, TRUE },  /* descriptor not found */
  { 0xF1, FALSE }, /* descriptor unparsable */
  { 0xF2, TRUE },  /* introduction failed */
  { 0xF3, TRUE },  /* rendezvous failed */
  { 0xF4, FALSE }, /* client authorization missing */
  { 0xF5, FALSE }, /* client authorization wrong */
  { 0xF6, FALSE }, /* bad address */
  { 0xF7, TRUE },  /* introduction timed out */
};

static void
test_reply_codes (Fixture       *f,
                  gconstpointer  data)
{
  GHashTable *sentences = g_hash_table_new (g_str_hash, g_str_equal);

  for (guint i = 0; i < G_N_ELEMENTS (replies); i++)
    {
      g_autoptr(GSocketConnection) connection = NULL;
      g_autoptr(GError) error = NULL;
      const char *sentence;

      f->rep = replies[i].rep;
      connection = socks_connect (f->address, ONION, NULL, &error);

      g_assert_null (connection);
      g_assert_error (error, TC_SOCKS_ERROR, replies[i].rep);
      if (tc_socks_error_is_offline (error) != replies[i].offline)
        g_error ("reply 0x%02X: is_offline should be %d", replies[i].rep, replies[i].offline);

      sentence = tc_socks_error_describe (error);
      g_assert_nonnull (sentence);
      g_assert_cmpstr (error->message, ==, sentence);
      g_hash_table_add (sentences, (gpointer) sentence);
    }

  /* One sentence per code, except that two codes both mean "offline or
   * unreachable right now". */
  g_assert_cmpuint (g_hash_table_size (sentences), ==, G_N_ELEMENTS (replies) - 1);
  g_hash_table_unref (sentences);

  {
    g_autoptr(GError) error = g_error_new_literal (TC_SOCKS_ERROR, TC_SOCKS_ERROR_ONION_NOT_FOUND, "");

    g_assert_cmpstr (tc_socks_error_describe (error), ==,
                     "Your contact is offline (their onion service is not published)");
    g_clear_error (&error);

    error = g_error_new_literal (TC_SOCKS_ERROR, TC_SOCKS_ERROR_BAD_ADDRESS, "");
    g_assert_cmpstr (tc_socks_error_describe (error), ==, "This is not a valid onion address");
    g_clear_error (&error);

    error = g_error_new_literal (TC_SOCKS_ERROR, TC_SOCKS_ERROR_INTRO_TIMEOUT, "");
    g_assert_cmpstr (tc_socks_error_describe (error), ==,
                     "Your contact is offline or unreachable right now");
    g_clear_error (&error);

    /* Not ours: its own message, and not a sign of being offline. */
    error = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "Socket I/O timed out");
    g_assert_cmpstr (tc_socks_error_describe (error), ==, "Socket I/O timed out");
    g_assert_false (tc_socks_error_is_offline (error));
  }
}

static void
assert_protocol_error (Fixture    *f,
                       Mode        mode,
                       const char *in_message)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  f->mode = mode;
  connection = socks_connect (f->address, ONION, NULL, &error);

  g_assert_null (connection);
  g_assert_error (error, TC_SOCKS_ERROR, TC_SOCKS_ERROR_PROTOCOL);
  g_assert_false (tc_socks_error_is_offline (error));
  if (in_message != NULL && strstr (error->message, in_message) == NULL)
    g_error ("“%s” does not say “%s”", error->message, in_message);
}

static void
test_proxy_closes (Fixture       *f,
                   gconstpointer  data)
{
  assert_protocol_error (f, MODE_CLOSE_AFTER_GREETING, "closed");
  assert_protocol_error (f, MODE_CLOSE_AFTER_METHOD, "closed");
  assert_protocol_error (f, MODE_CLOSE_IN_REPLY, "closed");

  for (guint8 atyp = 0x01; atyp <= 0x04; atyp++)
    {
      if (atyp == 0x02)
        continue;
      f->atyp = atyp;
      assert_protocol_error (f, MODE_CLOSE_IN_ADDRESS, "closed");
    }
}

static void
test_not_socks5 (Fixture       *f,
                 gconstpointer  data)
{
  assert_protocol_error (f, MODE_NOT_SOCKS5, NULL);

  f->method = 0xff;
  assert_protocol_error (f, MODE_REPLY, "authentication");

  /* Username and password: we offered neither. */
  f->method = 0x02;
  assert_protocol_error (f, MODE_REPLY, NULL);
}

static void
test_host_too_long (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *host = g_strnfill (256, 'a');

  connection = socks_connect (f->address, host, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, TC_SOCKS_ERROR, TC_SOCKS_ERROR_BAD_ADDRESS);
  g_clear_error (&error);

  /* 255 bytes is the most SOCKS5 carries, and is sent as it is. */
  host[255] = '\0';
  connection = socks_connect (f->address, host, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (f->request->len, ==, 5 + 255 + 2);
  g_assert_cmpuint (f->request->data[4], ==, 255);
  g_assert_cmpint (g_atomic_int_get (&f->connections), ==, 1);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (user_data);
  return G_SOURCE_REMOVE;
}

/* A proxy that never answers: the caller's cancellable ends the wait. */
static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  f->mode = MODE_SILENT;
  g_timeout_add (200, cancel_cb, cancellable);
  connection = socks_connect (f->address, ONION, cancellable, &error);

  g_assert_null (connection);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_cmpuint (f->greeting->len, ==, 3);
}

/* With an isolation name the client offers RFC 1929 besides "no auth";
 * a proxy that takes it gets the name as user name, one that does not
 * still connects the stream, one that refuses the name fails it. */
static void
test_isolation (Fixture       *f,
                gconstpointer  data)
{
  static const guint8 greeting[] = { 0x05, 0x02, 0x00, 0x02 };
  static const guint8 auth[] = { 0x01, 14, 't', 'o', 'r', 'c', 'h', 'a', 't', '-', 'f', 'i', 'l', 'e',
                                 '-', '7', 0x01, '0' };
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  f->method = 0x02;
  connection = socks_connect_isolated (f->address, ONION, "torchat-file-7", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  wait_for_handlers (f);

  g_mutex_lock (&f->lock);
  g_assert_cmpmem (f->greeting->data, f->greeting->len, greeting, sizeof greeting);
  g_assert_cmpmem (f->auth->data, f->auth->len, auth, sizeof auth);
  /* The CONNECT request follows as without a name. */
  g_assert_cmpuint (f->request->len, ==, 5 + strlen (ONION) + 2);
  g_assert_cmpmem (f->request->data + 5, strlen (ONION), ONION, strlen (ONION));
  g_mutex_unlock (&f->lock);
}

static void
test_isolation_not_taken (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  f->method = 0x00;
  connection = socks_connect_isolated (f->address, ONION, "torchat-file-7", NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (connection);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  wait_for_handlers (f);

  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->auth->len, ==, 0);
  g_assert_cmpuint (f->request->len, ==, 5 + strlen (ONION) + 2);
  g_mutex_unlock (&f->lock);
}

static void
test_isolation_refused (Fixture       *f,
                        gconstpointer  data)
{
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  f->method = 0x02;
  f->auth_status = 0x01;
  connection = socks_connect_isolated (f->address, ONION, "torchat-file-7", NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, TC_SOCKS_ERROR, TC_SOCKS_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The SOCKS proxy refused the connection's isolation name");

  /* Without a name, a proxy that wants one is refused as before. */
  g_clear_error (&error);
  connection = socks_connect (f->address, ONION, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, TC_SOCKS_ERROR, TC_SOCKS_ERROR_PROTOCOL);
  g_assert_cmpstr (error->message, ==, "The SOCKS proxy chose a method we did not offer");

  g_mutex_lock (&f->lock);
  g_assert_cmpuint (f->request->len, ==, 0);
  g_mutex_unlock (&f->lock);
}

static void
test_nothing_listening (void)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *where = NULL;

  /* Bound but not listening: the port stays ours and refuses. */
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (socket, any, FALSE, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (socket, &error);
  g_assert_no_error (error);

  connection = socks_connect (bound, ONION, NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, TC_SOCKS_ERROR, TC_SOCKS_ERROR_PROXY_UNREACHABLE);
  g_assert_false (tc_socks_error_is_offline (error));
  g_assert_cmpstr (tc_socks_error_describe (error), ==, "Tor is not running or not ready");

  where = g_strdup_printf ("Could not reach Tor's SOCKS port 127.0.0.1:%u: ",
                           g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
  g_assert_true (g_str_has_prefix (error->message, where));
}

/* The real tor */

static void
line_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  GAsyncResult **out = user_data;

  *out = g_object_ref (result);
}

/* Reads tor's log until it says on which port its SOCKS listener opened. */
static guint16
wait_for_socks_port (GDataInputStream *log,
                     GString          *seen)
{
  gint64 deadline = g_get_monotonic_time () + 60 * G_USEC_PER_SEC;
  const char *marker = "Opened Socks listener connection (ready) on 127.0.0.1:";

  for (;;)
    {
      g_autoptr(GCancellable) cancellable = g_cancellable_new ();
      g_autoptr(GAsyncResult) result = NULL;
      g_autoptr(GError) error = NULL;
      g_autofree char *line = NULL;
      const char *found;

      g_data_input_stream_read_line_async (log, G_PRIORITY_DEFAULT, cancellable, line_cb, &result);
      while (result == NULL)
        {
          if (g_get_monotonic_time () > deadline)
            g_cancellable_cancel (cancellable);
          g_main_context_iteration (NULL, TRUE);
        }

      line = g_data_input_stream_read_line_finish_utf8 (log, result, NULL, &error);
      if (line == NULL)
        return 0;
      g_string_append_printf (seen, "%s\n", line);

      found = strstr (line, marker);
      if (found != NULL)
        {
          guint64 port = 0;

          g_assert_true (g_ascii_string_to_unsigned (found + strlen (marker), 10, 1,
                                                     G_MAXUINT16, &port, NULL));
          return (guint16) port;
        }
    }
}

static void
remove_tree (GFile *file)
{
  g_autoptr(GFileEnumerator) children = NULL;

  children = g_file_enumerate_children (file, G_FILE_ATTRIBUTE_STANDARD_NAME,
                                        G_FILE_QUERY_INFO_NOFOLLOW_SYMLINKS, NULL, NULL);
  if (children != NULL)
    {
      GFile *child = NULL;

      while (g_file_enumerator_iterate (children, NULL, &child, NULL, NULL) && child != NULL)
        remove_tree (child);
    }

  g_file_delete (file, NULL, NULL);
}

static gboolean
tick_cb (gpointer user_data)
{
  return G_SOURCE_CONTINUE;
}

static void
test_real_tor (void)
{
  g_autofree char *tor_binary = g_find_program_in_path ("tor");
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *torrc = NULL;
  g_autofree char *contents = NULL;
  g_autoptr(GSubprocess) tor = NULL;
  g_autoptr(GDataInputStream) log = NULL;
  g_autoptr(GString) seen = g_string_new (NULL);
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) proxy = NULL;
  g_autoptr(GSocketConnection) connection = NULL;
  guint tick;
  guint16 port;

  if (tor_binary == NULL)
    {
      g_test_skip ("tor is not installed");
      return;
    }

  dir = g_dir_make_tmp ("torchat-test-socks-XXXXXX", &error);
  g_assert_no_error (error);

  /* With DisableNetwork tor opens no SOCKS listener, so this tor belongs to
   * a private test network whose only authority is a closed loopback port:
   * it never leaves this machine. It checks onion addresses before any
   * circuit is needed. */
  torrc = g_build_filename (dir, "torrc", NULL);
  contents = g_strdup_printf ("DataDirectory %s/data\n"
                              "TestingTorNetwork 1\n"
                              "DirAuthority nowhere orport=1 no-v2 "
                              "v3ident=0000000000000000000000000000000000000001 127.0.0.1:2 "
                              "0000000000000000000000000000000000000002\n"
                              "UseDefaultFallbackDirs 0\n"
                              "ClientUseIPv6 0\n"
                              "SocksPort 127.0.0.1:auto ExtendedErrors\n"
                              "Log notice stdout\n"
                              /* tor ends with the test, even if it fails */
                              "__OwningControllerProcess %d\n",
                              dir, (int) getpid ());
  g_file_set_contents (torrc, contents, -1, &error);
  g_assert_no_error (error);

  tor = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_MERGE,
                          &error, tor_binary, "-f", torrc, "--defaults-torrc", "/dev/null", NULL);
  g_assert_no_error (error);
  log = g_data_input_stream_new (g_subprocess_get_stdout_pipe (tor));

  /* Lets the deadline in wait_for_socks_port() be noticed. */
  tick = g_timeout_add (100, tick_cb, NULL);
  port = wait_for_socks_port (log, seen);
  g_source_remove (tick);
  if (port == 0)
    g_error ("tor did not open its SOCKS port:\n%s", seen->str);

  proxy = g_inet_socket_address_new (loopback, port);
  connection = socks_connect (proxy, "aaaa.onion", NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, TC_SOCKS_ERROR, TC_SOCKS_ERROR_BAD_ADDRESS);
  g_assert_false (tc_socks_error_is_offline (error));
  g_assert_cmpstr (tc_socks_error_describe (error), ==, "This is not a valid onion address");

  /* Tor takes the isolation name (RFC 1929) and answers the request. */
  g_clear_error (&error);
  connection = socks_connect_isolated (proxy, "aaaa.onion", "torchat-file-7", NULL, &error);
  g_assert_null (connection);
  g_assert_error (error, TC_SOCKS_ERROR, TC_SOCKS_ERROR_BAD_ADDRESS);

  g_subprocess_force_exit (tor);
  g_subprocess_wait (tor, NULL, NULL);
  g_clear_object (&log);

  {
    g_autoptr(GFile) top = g_file_new_for_path (dir);

    remove_tree (top);
  }
}

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  ADD ("/socks/request-bytes", test_request_bytes);
  ADD ("/socks/bound-address", test_bound_address);
  ADD ("/socks/reply-codes", test_reply_codes);
  ADD ("/socks/proxy-closes", test_proxy_closes);
  ADD ("/socks/not-socks5", test_not_socks5);
  ADD ("/socks/host-too-long", test_host_too_long);
  ADD ("/socks/cancel", test_cancel);
  ADD ("/socks/isolation", test_isolation);
  ADD ("/socks/isolation-not-taken", test_isolation_not_taken);
  ADD ("/socks/isolation-refused", test_isolation_refused);
  g_test_add_func ("/socks/nothing-listening", test_nothing_listening);
  g_test_add_func ("/socks/real-tor", test_real_tor);

  return g_test_run ();
}
