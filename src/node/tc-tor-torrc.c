/* tc-tor-torrc.c: the torrc of a managed tor, its bridges and proxy
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>

#include "tc-tor-private.h"
#include "tc-types.h"

static gboolean
validate_bridge_line (const char  *line,
                      char       **transport,
                      GError     **error)
{
  g_auto(GStrv) words = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  const char *endpoint;

  *transport = NULL;

  for (const char *p = line; *p != '\0'; p++)
    if (g_ascii_iscntrl (*p))
      goto bad;

  words = g_strsplit_set (line, " \t", -1);
  if (words[0] == NULL || *words[0] == '\0')
    goto bad;

  endpoint = words[0];
  if (!g_ascii_isdigit (words[0][0]) && words[0][0] != '[')
    {
      if (!g_str_equal (words[0], "obfs4") && !g_str_equal (words[0], "snowflake"))
        {
          g_set_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE,
                       _("Unknown bridge type “%s”: TORChat supports obfs4 and snowflake bridges"),
                       words[0]);
          return FALSE;
        }
      *transport = g_strdup (words[0]);
      endpoint = words[1];
    }

  if (endpoint == NULL)
    goto bad;

  address = g_network_address_parse (endpoint, 0, NULL);
  if (address == NULL ||
      !g_hostname_is_ip_address (g_network_address_get_hostname (G_NETWORK_ADDRESS (address))) ||
      g_network_address_get_port (G_NETWORK_ADDRESS (address)) == 0)
    goto bad;

  if (g_strcmp0 (*transport, "obfs4") == 0 &&
      (strstr (line, "cert=") == NULL || strstr (line, "iat-mode=") == NULL))
    {
      g_set_error_literal (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE,
                           _("An obfs4 bridge line needs its cert= and iat-mode= parts"));
      g_clear_pointer (transport, g_free);
      return FALSE;
    }

  return TRUE;

bad:
  g_clear_pointer (transport, g_free);
  g_set_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE,
               _("“%s” is not a bridge line: expected [obfs4|snowflake] IP:PORT [FINGERPRINT] [options]"),
               line);
  return FALSE;
}

static const char *
transport_client (const char *transport)
{
  if (g_str_equal (transport, "obfs4"))
    return "obfs4proxy";
  return "snowflake-client";
}

gboolean
tc_tor_set_bridges (TcTor               *self,
                    const char * const  *lines,
                    GError             **error)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();

  g_return_val_if_fail (TC_IS_TOR (self), FALSE);

  for (guint i = 0; lines != NULL && lines[i] != NULL; i++)
    {
      g_autofree char *line = g_strstrip (g_strdup (lines[i]));
      g_autofree char *transport = NULL;

      if (*line == '\0')
        continue;
      if (g_str_has_prefix (line, "Bridge "))
        memmove (line, line + 7, strlen (line + 7) + 1);

      if (!validate_bridge_line (line, &transport, error))
        return FALSE;

      if (transport != NULL)
        {
          g_autofree char *client = g_find_program_in_path (transport_client (transport));

          if (client == NULL)
            {
              g_set_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_BRIDGE,
                           _("%s bridges need %s, which is not installed"),
                           transport, transport_client (transport));
              return FALSE;
            }
        }

      g_strv_builder_add (builder, line);
    }

  g_strfreev (self->bridges);
  self->bridges = g_strv_builder_end (builder);

  return TRUE;
}

gboolean
tc_tor_set_proxy (TcTor       *self,
                  const char  *uri,
                  GError     **error)
{
  g_autoptr(GUri) parsed = NULL;
  const char *scheme;

  g_return_val_if_fail (TC_IS_TOR (self), FALSE);

  if (uri == NULL || *uri == '\0')
    {
      g_clear_pointer (&self->proxy, g_free);
      return TRUE;
    }

  parsed = g_uri_parse (uri, G_URI_FLAGS_HAS_PASSWORD, NULL);
  scheme = parsed ? g_uri_get_scheme (parsed) : NULL;
  if (parsed == NULL ||
      (g_strcmp0 (scheme, "socks5") != 0 && g_strcmp0 (scheme, "https") != 0) ||
      g_uri_get_host (parsed) == NULL || g_uri_get_port (parsed) <= 0 ||
      !g_hostname_is_ip_address (g_uri_get_host (parsed)))
    {
      g_set_error (error, TC_TOR_ERROR, TC_TOR_ERROR_BAD_PROXY,
                   _("“%s” is not a proxy: expected socks5://[user:password@]IP:PORT or https://[user:password@]IP:PORT"),
                   uri);
      return FALSE;
    }

  g_free (self->proxy);
  self->proxy = g_strdup (uri);

  return TRUE;
}

static void
append_proxy (TcTor   *self,
              GString *torrc)
{
  g_autoptr(GUri) uri = g_uri_parse (self->proxy, G_URI_FLAGS_HAS_PASSWORD, NULL);
  const char *user = g_uri_get_user (uri);
  const char *password = g_uri_get_password (uri);
  gboolean socks = g_str_equal (g_uri_get_scheme (uri), "socks5");

  g_string_append_printf (torrc, "%s %s:%d\n", socks ? "Socks5Proxy" : "HTTPSProxy",
                          g_uri_get_host (uri), g_uri_get_port (uri));
  if (user == NULL)
    return;

  if (socks)
    g_string_append_printf (torrc, "Socks5ProxyUsername %s\nSocks5ProxyPassword %s\n",
                            user, password ? password : "");
  else
    g_string_append_printf (torrc, "HTTPSProxyAuthenticator %s:%s\n",
                            user, password ? password : "");
}

gboolean
_tc_tor_write_torrc (TcTor   *self,
                     GError **error)
{
  g_autoptr(GString) torrc = g_string_new (NULL);
  g_autofree char *data_dir = g_build_filename (self->state_dir, "data", NULL);
  g_autofree char *port_file = g_build_filename (self->state_dir, "control-port", NULL);
  g_autofree char *path = g_build_filename (self->state_dir, "torrc", NULL);
  g_autofree char *defaults = g_build_filename (self->state_dir, "torrc-defaults", NULL);
  g_autofree char *pid_file = g_build_filename (self->state_dir, "tor.pid", NULL);
  gboolean obfs4 = FALSE, snowflake = FALSE;

  if (g_mkdir_with_parents (data_dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create %s: %s"), data_dir, g_strerror (saved));
      return FALSE;
    }

  g_string_append (torrc, "# Written by TORChat at every start: edits are lost.\n");
  g_string_append_printf (torrc, "DataDirectory %s\n", data_dir);
  g_string_append (torrc, "SocksPort 127.0.0.1:auto ExtendedErrors\n");
  g_string_append (torrc, "ControlPort 127.0.0.1:auto\n");
  g_string_append_printf (torrc, "ControlPortWriteToFile %s\n", port_file);
  g_string_append_printf (torrc, "PidFile %s\n", pid_file);
  g_string_append (torrc, "CookieAuthentication 1\n");
  g_string_append_printf (torrc, "__OwningControllerProcess %d\n", (int) getpid ());
  g_string_append (torrc, "ClientOnly 1\n");
  g_string_append (torrc, "Log notice stdout\n");

  for (guint i = 0; self->bridges != NULL && self->bridges[i] != NULL; i++)
    {
      obfs4 |= g_str_has_prefix (self->bridges[i], "obfs4 ");
      snowflake |= g_str_has_prefix (self->bridges[i], "snowflake ");
    }

  if (self->bridges != NULL && self->bridges[0] != NULL)
    {
      g_string_append (torrc, "UseBridges 1\n");
      if (obfs4)
        {
          g_autofree char *client = g_find_program_in_path ("obfs4proxy");
          g_string_append_printf (torrc, "ClientTransportPlugin obfs4 exec %s\n",
                                  client ? client : "/usr/bin/obfs4proxy");
        }
      if (snowflake)
        {
          g_autofree char *client = g_find_program_in_path ("snowflake-client");
          g_string_append_printf (torrc, "ClientTransportPlugin snowflake exec %s\n",
                                  client ? client : "/usr/bin/snowflake-client");
        }
      for (guint i = 0; self->bridges[i] != NULL; i++)
        g_string_append_printf (torrc, "Bridge %s\n", self->bridges[i]);
    }

  if (self->proxy != NULL)
    append_proxy (self, torrc);

  if (self->extra_torrc != NULL)
    g_string_append_printf (torrc, "%%include %s\n", self->extra_torrc);

  return g_file_set_contents_full (defaults, "", 0, G_FILE_SET_CONTENTS_CONSISTENT, 0600, error) &&
         g_file_set_contents_full (path, torrc->str, torrc->len,
                                   G_FILE_SET_CONTENTS_CONSISTENT, 0600, error);
}
