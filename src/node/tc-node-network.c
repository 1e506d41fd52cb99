/* tc-node-network.c: listening, the streams that come in, starting and
 * stopping, and the Tor the node goes through
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-node-private.h"

#define STOP_TIMEOUT_MS 10000
#define DEFAULT_SOCKS "127.0.0.1:9050"

static gboolean
parse_host_port (const char      *host_port,
                 GSocketAddress **out,
                 GError         **error)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  g_autofree char *host = NULL;
  guint16 port;
  g_autoptr(GInetAddress) inet = NULL;

  connectable = g_network_address_parse (host_port, 0, error);
  if (connectable == NULL)
    return FALSE;

  host = g_strdup (g_network_address_get_hostname (G_NETWORK_ADDRESS (connectable)));
  port = g_network_address_get_port (G_NETWORK_ADDRESS (connectable));

  /* Only literal addresses: a name would mean a DNS lookup. */
  if (g_str_equal (host, "localhost"))
    inet = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  else
    inet = g_inet_address_new_from_string (host);

  if (inet == NULL)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an IP address and port, e.g. 127.0.0.1:9050"),
                   host_port);
      return FALSE;
    }

  *out = g_inet_socket_address_new (inet, port);
  return TRUE;
}

gboolean
tc_node_set_listen_address (TcNode      *self,
                            const char  *host_port,
                            GError     **error)
{
  GSocketAddress *address = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  g_return_val_if_fail (!self->running, FALSE);

  if (!parse_host_port (host_port, &address, error))
    return FALSE;

  g_clear_object (&self->listen_address);
  self->listen_address = address;

  return TRUE;
}

gboolean
tc_node_set_socks_address (TcNode      *self,
                           const char  *host_port,
                           GError     **error)
{
  g_autoptr(GSocketAddress) address = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  if (!parse_host_port (host_port, &address, error))
    return FALSE;

  g_free (self->socks_address);
  self->socks_address = g_strdup (host_port);
  g_set_object (&self->socks, address);

  return TRUE;
}

static void
handshake_authenticated_cb (TcStream *stream,
                            TcNode   *self)
{
  G_GNUC_UNUSED g_autoptr(TcStream) hold = g_object_ref (stream);
  TcPeer *peer;

  g_signal_handlers_disconnect_by_data (stream, self);

  if (!tc_admission_admit_stream (self->admission, stream))
    return;

  if (tc_stream_get_file_id (stream) != NULL)
    {
      tc_transfer_manager_adopt_stream (self->transfers, stream);
      return;
    }

  peer = _tc_node_ensure_peer (self, tc_stream_get_peer (stream));
  if (!tc_peer_adopt_stream (peer, stream) && tc_peer_is_idle (peer))
    _tc_node_peer_idle (self, peer);
}

static gboolean
incoming_cb (GSocketService    *service,
             GSocketConnection *connection,
             GObject           *source_object,
             TcNode            *self)
{
  g_autoptr(TcStream) stream = NULL;

  stream = tc_stream_new (G_IO_STREAM (connection), self->identity,
                          TC_STREAM_ROLE_RECEIVER, NULL);

  if (!tc_admission_admit_handshake (self->admission, stream))
    return TRUE;

  g_signal_connect_object (stream, "authenticated",
                           G_CALLBACK (handshake_authenticated_cb), self, 0);
  tc_stream_start (stream);

  return TRUE;
}

static void
network_changed_cb (GNetworkMonitor *monitor,
                    gboolean         available,
                    TcNode          *self)
{
  gboolean was = self->network_available;

  self->network_available = available;
  if (available && !was && self->running)
    {
      g_message ("The network is back: reconnecting");
      tc_node_reconnect_all (self);
    }
}

gboolean
tc_node_start (TcNode  *self,
               GError **error)
{
  g_autoptr(GSocketAddress) effective = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  g_return_val_if_fail (!self->running, FALSE);
  g_return_val_if_fail (self->identity != NULL, FALSE);

  if (self->socks_address == NULL &&
      !tc_node_set_socks_address (self, DEFAULT_SOCKS, error))
    return FALSE;

  self->service = g_socket_service_new ();
  if (!g_socket_listener_add_address (G_SOCKET_LISTENER (self->service),
                                      self->listen_address,
                                      G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                      NULL, &effective, error))
    {
      g_clear_object (&self->service);
      return FALSE;
    }

  self->listen_port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective));
  g_signal_connect_object (self->service, "incoming", G_CALLBACK (incoming_cb), self, 0);
  g_socket_service_start (self->service);

  self->monitor = g_object_ref (g_network_monitor_get_default ());
  self->network_available = g_network_monitor_get_network_available (self->monitor);
  g_signal_connect_object (self->monitor, "network-changed",
                           G_CALLBACK (network_changed_cb), self, 0);

  self->running = TRUE;
  _tc_node_notify (self, TC_NODE_PROP_LISTEN_PORT);
  _tc_node_notify (self, TC_NODE_PROP_RUNNING);

  if (self->tor != NULL)
    {
      tc_tor_publish (self->tor, self->identity, self->listen_port);
      tc_tor_start (self->tor);
    }

  tc_node_reconnect_all (self);

  return TRUE;
}

void
tc_node_reconnect_all (TcNode *self)
{
  g_return_if_fail (TC_IS_NODE (self));

  if (!self->running)
    return;

  for (guint i = 0; i < g_list_model_get_n_items (G_LIST_MODEL (self->contacts)); i++)
    {
      g_autoptr(TcContact) contact = g_list_model_get_item (G_LIST_MODEL (self->contacts), i);

      tc_peer_connect (_tc_node_ensure_peer (self, tc_contact_get_address (contact)), TRUE);
    }
}

typedef struct {
  guint timeout;
  guint waiting;
} StopData;

static void
stop_data_free (StopData *data)
{
  g_clear_handle_id (&data->timeout, g_source_remove);
  g_free (data);
}

static void
stop_finish_now (GTask *task)
{
  TcNode *self = g_task_get_source_object (task);
  g_autoptr(GError) error = NULL;

  if (self->tor != NULL)
    tc_tor_stop (self->tor);

  if (!tc_store_commit (self->store, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

static void
stop_stream_closed_cb (TcStream     *stream,
                       const GError *error,
                       GTask        *task)
{
  StopData *data = g_task_get_task_data (task);

  g_signal_handlers_disconnect_by_data (stream, task);
  if (--data->waiting == 0 && !g_task_get_completed (task))
    {
      g_clear_handle_id (&data->timeout, g_source_remove);
      stop_finish_now (task);
    }
  g_object_unref (task);
}

static gboolean
stop_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  StopData *data = g_task_get_task_data (task);

  data->timeout = 0;
  if (!g_task_get_completed (task))
    stop_finish_now (task);

  return G_SOURCE_REMOVE;
}

void
tc_node_stop_async (TcNode              *self,
                    GCancellable        *cancellable,
                    GAsyncReadyCallback  callback,
                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GPtrArray) peers = NULL;
  StopData *data;
  GHashTableIter iter;
  gpointer value;

  g_return_if_fail (TC_IS_NODE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_node_stop_async);
  data = g_new0 (StopData, 1);
  g_task_set_task_data (task, data, (GDestroyNotify) stop_data_free);

  if (self->running)
    {
      self->running = FALSE;
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      _tc_node_notify (self, TC_NODE_PROP_RUNNING);
    }

  tc_admission_fail_handshakes (self->admission, TC_CONDITION_SYSTEM_SHUTDOWN);

  tc_transfer_manager_stop_all (self->transfers);

  peers = g_ptr_array_new_with_free_func (g_object_unref);
  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    g_ptr_array_add (peers, g_object_ref (value));

  for (guint i = 0; i < peers->len; i++)
    {
      TcPeer *peer = g_ptr_array_index (peers, i);
      TcStream *stream = tc_peer_get_stream (peer);

      if (stream != NULL)
        {
          data->waiting++;
          g_signal_connect (stream, "closed", G_CALLBACK (stop_stream_closed_cb),
                            g_object_ref (task));
        }
      tc_peer_close (peer);
    }

  if (data->waiting == 0)
    stop_finish_now (task);
  else
    data->timeout = g_timeout_add (STOP_TIMEOUT_MS, stop_timeout_cb, task);
}

gboolean
tc_node_stop_finish (TcNode        *self,
                     GAsyncResult  *result,
                     GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
tor_socks_changed_cb (TcTor      *tor,
                      GParamSpec *pspec,
                      TcNode     *self)
{
  const char *socks = tc_tor_get_socks_address (tor);
  g_autoptr(GError) error = NULL;

  if (socks == NULL || g_strcmp0 (socks, self->socks_address) == 0)
    return;

  if (!tc_node_set_socks_address (self, socks, &error))
    g_warning ("Tor's SOCKS port is unusable: %s", error->message);
}

/* Contacts were unreachable while tor was starting: try them now rather than
 * after their back-off. */
static void
tor_state_changed_cb (TcTor      *tor,
                      GParamSpec *pspec,
                      TcNode     *self)
{
  if (tc_tor_get_state (tor) == TC_TOR_STATE_READY)
    tc_node_reconnect_all (self);
}

static char **
dup_bridges_setting (TcNode *self)
{
  g_autofree char *bridges = tc_store_dup_setting (self->store, "tor-bridges");

  return bridges ? g_strsplit (bridges, "\n", -1) : NULL;
}

gboolean
tc_node_setup_tor (TcNode      *self,
                   const char  *socks,
                   const char  *control,
                   const char  *password,
                   const char  *tor_binary,
                   const char  *tor_config,
                   GError     **error)
{
  g_autoptr(TcTor) tor = NULL;
  g_auto(GStrv) bridges = NULL;
  g_autofree char *proxy = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  g_return_val_if_fail (!self->running && self->tor == NULL, FALSE);

  /* SOCKS only: the user runs tor and publishes the onion service. */
  if (socks != NULL)
    return tc_node_set_socks_address (self, socks, error);

  if (control != NULL)
    {
      tor = tc_tor_new_external (control, password);
    }
  else
    {
      g_autofree char *state_dir = g_build_filename (self->profile_dir, "tor", NULL);

      tor = tc_tor_new_managed (state_dir, tor_binary, tor_config);
      bridges = dup_bridges_setting (self);
      proxy = tc_store_dup_setting (self->store, "tor-proxy");

      /* A bridge setting that became invalid (say, obfs4proxy was removed)
       * stops the start: going on without bridges could show a censor that
       * this user runs Tor. */
      if (!tc_tor_set_bridges (tor, (const char * const *) bridges, error) ||
          !tc_tor_set_proxy (tor, proxy, error))
        return FALSE;
    }

  self->tor = g_steal_pointer (&tor);
  g_signal_connect_object (self->tor, "notify::socks-address",
                           G_CALLBACK (tor_socks_changed_cb), self, 0);
  g_signal_connect_object (self->tor, "notify::state",
                           G_CALLBACK (tor_state_changed_cb), self, 0);
  _tc_node_notify (self, TC_NODE_PROP_TOR);

  return TRUE;
}

TcTor *
tc_node_get_tor (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->tor;
}

gboolean
tc_node_set_bridges (TcNode              *self,
                     const char * const  *lines,
                     GError             **error)
{
  g_autofree char *joined = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  if (self->tor == NULL || !tc_tor_get_managed (self->tor))
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                           _("Bridges are settings of the Tor that TORChat starts itself"));
      return FALSE;
    }

  if (!tc_tor_set_bridges (self->tor, lines, error))
    return FALSE;

  joined = lines && lines[0] ? g_strjoinv ("\n", (char **) lines) : NULL;
  if (!tc_store_set_setting (self->store, "tor-bridges", joined, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!tc_store_commit (self->store, error))
    return FALSE;

  if (self->running)
    tc_tor_restart (self->tor);

  return TRUE;
}

gboolean
tc_node_set_proxy (TcNode      *self,
                   const char  *uri,
                   GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  if (self->tor == NULL || !tc_tor_get_managed (self->tor))
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                           _("The proxy is a setting of the Tor that TORChat starts itself"));
      return FALSE;
    }

  if (!tc_tor_set_proxy (self->tor, uri, error))
    return FALSE;

  if (!tc_store_set_setting (self->store, "tor-proxy", uri, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!tc_store_commit (self->store, error))
    return FALSE;

  if (self->running)
    tc_tor_restart (self->tor);

  return TRUE;
}

char **
tc_node_dup_bridges (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return dup_bridges_setting (self);
}

char *
tc_node_dup_proxy (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return tc_store_dup_setting (self->store, "tor-proxy");
}

GSocketAddress *
_tc_node_get_socks_address (TcNode *self)
{
  return self->socks;
}
