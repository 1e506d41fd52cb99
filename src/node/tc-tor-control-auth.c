/* tc-tor-control-auth.c: AUTHENTICATE with SAFECOOKIE, COOKIE or a password
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <glib/gi18n.h>

#include "tc-tor-control-private.h"

#define COOKIE_LEN 32
#define NONCE_LEN 32

#define SAFECOOKIE_SERVER_KEY "Tor safe cookie authentication server-to-controller hash"
#define SAFECOOKIE_CLIENT_KEY "Tor safe cookie authentication controller-to-server hash"

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
