/* tc-node.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tc-address.h"
#include "tc-enum-types.h"
#include "tc-jmu.h"
#include "tc-node-private.h"
#include "tc-tor.h"

#define MAX_HANDSHAKES 64      /* streams not yet authenticated */
#define MAX_STREAMS 512       /* authenticated streams, all peers together */
#define STOP_TIMEOUT_MS 10000
#define DEFAULT_SOCKS "127.0.0.1:9050"
/* JMU rate shared by every peer that is not an accepted contact, on top of
 * each stream's own limit: many strangers together must not be able to
 * flood the node either. */
#define GLOBAL_RATE_BURST 5000.0
#define GLOBAL_RATE_PER_SECOND 1000.0

struct _TcNode
{
  GObject          parent_instance;

  char            *profile_dir;
  int              lock_fd;
  TcIdentity      *identity;             /* NULL while locked */
  TcStore         *store;                /* NULL while locked */
  TcProfileKind    profile_kind;
  gboolean         busy;                 /* an unlock or passphrase change runs */

  GListStore      *contacts;
  GHashTable      *contacts_by_address;   /* borrowed TcContact */
  GHashTable      *peers;                 /* address → TcPeer */
  GHashTable      *conversations;         /* address → TcConversation */
  GPtrArray       *handshakes;            /* receiver TcStreams not yet authenticated */
  TcTransferManager *transfers;

  GSocketService  *service;
  GSocketAddress  *listen_address;
  guint            listen_port;
  char            *socks_address;
  GSocketAddress  *socks;
  GNetworkMonitor *monitor;
  TcTor           *tor;
  gboolean         network_available;
  gboolean         running;

  double           tokens;
  gint64           tokens_time;

  TcPresence       presence;
  char            *status_text;
  char            *name;
  char            *profile_text;
};

G_DEFINE_FINAL_TYPE (TcNode, tc_node, G_TYPE_OBJECT)
G_DEFINE_QUARK (tc-node-error-quark, tc_node_error)

enum {
  PROP_0,
  PROP_PROFILE_DIR,
  PROP_ADDRESS,
  PROP_PRESENCE,
  PROP_STATUS_TEXT,
  PROP_NAME,
  PROP_PROFILE_TEXT,
  PROP_LISTEN_PORT,
  PROP_RUNNING,
  PROP_TOR,
  PROP_UNLOCKED,
  PROP_ENCRYPTED,
  N_PROPS
};

enum {
  MESSAGE_RECEIVED,
  CONTACT_REQUEST,
  CONTACT_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[N_PROPS];
static guint signals[N_SIGNALS];

/* g_set_str() is GLib 2.76. */
static gboolean
set_str (char       **ptr,
         const char  *value)
{
  if (g_strcmp0 (*ptr, value) == 0)
    return FALSE;

  g_free (*ptr);
  *ptr = g_strdup (value);
  return TRUE;
}

static TcPeer *
ensure_peer (TcNode     *self,
             const char *address)
{
  TcPeer *peer = g_hash_table_lookup (self->peers, address);

  if (peer == NULL)
    {
      peer = tc_peer_new (self, address);
      g_hash_table_insert (self->peers, g_strdup (address), peer);
    }

  return peer;
}

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

static gboolean
take_profile_lock (TcNode  *self,
                   GError **error)
{
  g_autofree char *path = g_build_filename (self->profile_dir, "lock", NULL);

  self->lock_fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (self->lock_fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not open %s: %s"), path, g_strerror (saved));
      return FALSE;
    }

  if (flock (self->lock_fd, LOCK_EX | LOCK_NB) < 0)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_PROFILE_BUSY,
                   _("Another TORChat is already running on profile %s"),
                   self->profile_dir);
      return FALSE;
    }

  return TRUE;
}

static void
load_settings (TcNode *self)
{
  g_autofree char *presence = tc_store_dup_setting (self->store, "presence");

  if (!tc_presence_from_string (presence, &self->presence) ||
      self->presence == TC_PRESENCE_OFFLINE)
    self->presence = TC_PRESENCE_AVAILABLE;

  self->status_text = tc_store_dup_setting (self->store, "status-text");
  self->name = tc_store_dup_setting (self->store, "name");
  self->profile_text = tc_store_dup_setting (self->store, "profile-text");
}

/* Takes the profile lock and finishes what a crash interrupted; reads no
 * secret. */
static gboolean
tc_node_open_locked (TcNode  *self,
                     GError **error)
{
  if (g_mkdir_with_parents (self->profile_dir, 0700) < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not create profile %s: %s"), self->profile_dir,
                   g_strerror (saved));
      return FALSE;
    }

  return take_profile_lock (self, error) &&
         tc_profile_recover (self->profile_dir, &self->profile_kind, error);
}

gboolean
_tc_node_take_profile (TcNode      *self,
                       TcIdentity  *identity,
                       TcStore     *store,
                       GError     **error)
{
  g_autoptr(GPtrArray) contacts = NULL;

  g_return_val_if_fail (self->identity == NULL, FALSE);

  contacts = tc_store_load_contacts (store, error);
  if (contacts == NULL)
    return FALSE;

  self->identity = g_object_ref (identity);
  self->store = g_object_ref (store);

  for (guint i = 0; i < contacts->len; i++)
    {
      TcContact *contact = g_ptr_array_index (contacts, i);

      g_hash_table_insert (self->contacts_by_address,
                           g_strdup (tc_contact_get_address (contact)), contact);
      g_list_store_append (self->contacts, contact);
    }

  load_settings (self);

  if (!tc_transfer_manager_load (self->transfers, error))
    return FALSE;

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ADDRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNLOCKED]);

  return TRUE;
}

TcNode *
tc_node_new (const char  *profile_dir,
             GError     **error)
{
  g_autoptr(TcNode) self = NULL;
  g_autoptr(TcIdentity) identity = NULL;
  g_autoptr(TcStore) store = NULL;

  g_return_val_if_fail (profile_dir != NULL, NULL);

  if (!(self = tc_node_new_locked (profile_dir, error)))
    return NULL;

  if (self->profile_kind == TC_PROFILE_KIND_ENCRYPTED)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_LOCKED,
                   _("The profile %s is encrypted: it opens with its passphrase"),
                   profile_dir);
      return NULL;
    }

  if (!tc_profile_open (self->profile_dir, self->profile_kind, NULL, 0,
                        &identity, &store, NULL, error))
    return NULL;

  _tc_node_set_profile_kind (self, TC_PROFILE_KIND_PLAINTEXT);
  if (!_tc_node_take_profile (self, identity, store, error))
    return NULL;

  return g_steal_pointer (&self);
}

TcNode *
tc_node_new_locked (const char  *profile_dir,
                    GError     **error)
{
  g_autoptr(TcNode) self = NULL;

  g_return_val_if_fail (profile_dir != NULL, NULL);

  self = g_object_new (TC_TYPE_NODE, "profile-dir", profile_dir, NULL);
  if (!tc_node_open_locked (self, error))
    return NULL;

  return g_steal_pointer (&self);
}

TcProfileKind
_tc_node_get_profile_kind (TcNode *self)
{
  return self->profile_kind;
}

void
_tc_node_set_profile_kind (TcNode        *self,
                           TcProfileKind  kind)
{
  if (self->profile_kind == kind)
    return;

  self->profile_kind = kind;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENCRYPTED]);
}

gboolean *
_tc_node_get_busy (TcNode *self)
{
  return &self->busy;
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
handshake_closed_cb (TcStream     *stream,
                     const GError *error,
                     TcNode       *self)
{
  /* The array may hold the last reference. */
  G_GNUC_UNUSED g_autoptr(TcStream) hold = g_object_ref (stream);

  g_signal_handlers_disconnect_by_data (stream, self);
  g_ptr_array_remove (self->handshakes, stream);
}

static guint
count_streams (TcNode *self)
{
  GHashTableIter iter;
  gpointer value;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    n += tc_peer_get_n_streams (value);

  return n;
}

static void
handshake_authenticated_cb (TcStream *stream,
                            TcNode   *self)
{
  G_GNUC_UNUSED g_autoptr(TcStream) hold = g_object_ref (stream);
  TcPeer *peer;

  g_signal_handlers_disconnect_by_data (stream, self);
  g_ptr_array_remove (self->handshakes, stream);

  if (count_streams (self) >= MAX_STREAMS)
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, NULL);
      return;
    }

  if (tc_stream_get_file_id (stream) != NULL)
    {
      tc_transfer_manager_adopt_stream (self->transfers, stream);
      return;
    }

  peer = ensure_peer (self, tc_stream_get_peer (stream));
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

  if (self->handshakes->len >= MAX_HANDSHAKES)
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, "too many connections");
      return TRUE;
    }

  g_ptr_array_add (self->handshakes, g_object_ref (stream));
  g_signal_connect_object (stream, "authenticated",
                           G_CALLBACK (handshake_authenticated_cb), self, 0);
  g_signal_connect_object (stream, "closed",
                           G_CALLBACK (handshake_closed_cb), self, 0);
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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LISTEN_PORT]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);

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

      tc_peer_connect (ensure_peer (self, tc_contact_get_address (contact)), TRUE);
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RUNNING]);
    }

  for (guint i = self->handshakes->len; i > 0; i--)
    tc_stream_fail (g_ptr_array_index (self->handshakes, i - 1),
                    TC_CONDITION_SYSTEM_SHUTDOWN, NULL);

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
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOR]);

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

/* User actions */

static char *
normalize_other (TcNode      *self,
                 const char  *address,
                 GError     **error)
{
  g_autofree char *normalized = tc_address_normalize (address, error);

  if (normalized == NULL)
    return NULL;

  if (g_str_equal (normalized, tc_identity_get_address (self->identity)))
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_SELF,
                           _("This is your own address"));
      return NULL;
    }

  return g_steal_pointer (&normalized);
}

static TcContact *
find_contact (TcNode      *self,
              const char  *address,
              GError     **error)
{
  g_autofree char *normalized = normalize_other (self, address, error);
  TcContact *contact;

  if (normalized == NULL)
    return NULL;

  contact = g_hash_table_lookup (self->contacts_by_address, normalized);
  if (contact == NULL)
    g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_UNKNOWN_CONTACT,
                         _("This address is not in your contacts"));

  return contact;
}

static gboolean
commit_contact (TcNode     *self,
                TcContact  *contact,
                GError    **error)
{
  if (!tc_store_save_contact (self->store, contact, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  return tc_store_commit (self->store, error);
}

static void
append_contact (TcNode    *self,
                TcContact *contact)
{
  g_hash_table_insert (self->contacts_by_address,
                       g_strdup (tc_contact_get_address (contact)), contact);
  g_list_store_append (self->contacts, contact);
}

TcContact *
tc_node_add_contact (TcNode      *self,
                     const char  *address,
                     const char  *nickname,
                     const char  *greeting,
                     GError     **error)
{
  g_autofree char *normalized = NULL;
  g_autoptr(TcContact) created = NULL;
  TcContact *contact;

  g_return_val_if_fail (TC_IS_NODE (self), NULL);

  normalized = normalize_other (self, address, error);
  if (normalized == NULL)
    return NULL;

  contact = g_hash_table_lookup (self->contacts_by_address, normalized);
  if (contact == NULL)
    {
      created = tc_contact_new (normalized);
      contact = created;
    }

  if (nickname != NULL && *nickname != '\0')
    tc_contact_set_nickname (contact, nickname);

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_ACCEPTED:
      break;

    case TC_CONTACT_STATE_PENDING:
      /* Adding someone who asked us is saying yes. */
      tc_contact_set_state (contact, TC_CONTACT_STATE_ACCEPTED);
      tc_contact_set_answer_pending (contact, TRUE);
      break;

    case TC_CONTACT_STATE_REQUESTED:
    case TC_CONTACT_STATE_DECLINED:
    case TC_CONTACT_STATE_BLOCKED:
    default:
      tc_contact_set_state (contact, TC_CONTACT_STATE_REQUESTED);
      tc_contact_set_answer_pending (contact, FALSE);
      tc_contact_set_greeting (contact, greeting);
      break;
    }

  if (!commit_contact (self, contact, error))
    return NULL;

  if (created != NULL)
    append_contact (self, created);

  tc_peer_contact_changed (ensure_peer (self, normalized));

  return contact;
}

static gboolean
answer_contact (TcNode          *self,
                const char      *address,
                TcContactState   state,
                GError         **error)
{
  TcContact *contact = find_contact (self, address, error);

  if (contact == NULL)
    return FALSE;

  if (state != TC_CONTACT_STATE_BLOCKED &&
      tc_contact_get_state (contact) != TC_CONTACT_STATE_PENDING)
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                           _("There is no contact request from this address to answer"));
      return FALSE;
    }

  tc_contact_set_state (contact, state);
  tc_contact_set_answer_pending (contact, state != TC_CONTACT_STATE_BLOCKED);

  if (state != TC_CONTACT_STATE_ACCEPTED &&
      !tc_store_fail_outbox (self->store, tc_contact_get_address (contact), error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!commit_contact (self, contact, error))
    return FALSE;

  tc_peer_contact_changed (ensure_peer (self, tc_contact_get_address (contact)));

  return TRUE;
}

gboolean
tc_node_accept_contact (TcNode      *self,
                        const char  *address,
                        GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  return answer_contact (self, address, TC_CONTACT_STATE_ACCEPTED, error);
}

gboolean
tc_node_decline_contact (TcNode      *self,
                         const char  *address,
                         GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  return answer_contact (self, address, TC_CONTACT_STATE_DECLINED, error);
}

gboolean
tc_node_block_contact (TcNode      *self,
                       const char  *address,
                       GError     **error)
{
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  /* Blocking works for strangers too: they get a contact entry that says so. */
  normalized = normalize_other (self, address, error);
  if (normalized == NULL)
    return FALSE;

  if (!g_hash_table_contains (self->contacts_by_address, normalized))
    {
      g_autoptr(TcContact) contact = tc_contact_new (normalized);

      tc_contact_set_state (contact, TC_CONTACT_STATE_BLOCKED);
      if (!commit_contact (self, contact, error))
        return FALSE;
      append_contact (self, contact);
    }

  if (!answer_contact (self, normalized, TC_CONTACT_STATE_BLOCKED, error))
    return FALSE;

  tc_transfer_manager_forget_peer (self->transfers, normalized);
  return TRUE;
}

gboolean
tc_node_remove_contact (TcNode      *self,
                        const char  *address,
                        GError     **error)
{
  TcContact *contact = find_contact (self, address, error);
  g_autofree char *normalized = NULL;
  g_autoptr(GError) local = NULL;
  TcConversation *conversation;
  TcPeer *peer;
  guint position;

  if (contact == NULL)
    return FALSE;

  normalized = g_strdup (tc_contact_get_address (contact));
  if (!tc_store_forget_peer (self->store, normalized, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!tc_store_commit (self->store, error))
    return FALSE;

  /* The deleted rows are overwritten (secure_delete); their copies in the
   * write-ahead log go with it. The deletion itself is done already. */
  if (!tc_store_checkpoint (self->store, &local))
    g_warning ("Removed a contact, but its history may stay in the database journal "
               "until the next checkpoint: %s", local->message);

  if (g_list_store_find (self->contacts, contact, &position))
    g_list_store_remove (self->contacts, position);
  g_hash_table_remove (self->contacts_by_address, normalized);

  /* A view still showing the conversation shows it empty; the cache
   * forgets it. */
  conversation = g_hash_table_lookup (self->conversations, normalized);
  if (conversation != NULL)
    {
      tc_conversation_reload (conversation);
      g_hash_table_remove (self->conversations, normalized);
    }

  peer = g_hash_table_lookup (self->peers, normalized);
  if (peer != NULL)
    tc_peer_contact_changed (peer);
  tc_transfer_manager_forget_peer (self->transfers, normalized);

  return TRUE;
}

static gboolean
check_text (const char  *text,
            GError     **error)
{
  if (!g_utf8_validate (text, -1, NULL) || *text == '\0')
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                           _("A message must be non-empty UTF-8 text"));
      return FALSE;
    }

  if (strlen (text) > TC_JMU_MAX_LINE / 2)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                   _("A message can have at most %u bytes"), TC_JMU_MAX_LINE / 2);
      return FALSE;
    }

  return TRUE;
}

/* The contact's "last-activity" follows its newest stored message: when it
 * was stored here, the sender's clock only for our own messages. A sorted
 * view of the contacts does not watch their properties: the contact is
 * announced as replaced by itself, so that such a view moves it. */
static void
note_activity (TcNode    *self,
               TcContact *contact,
               TcMessage *message)
{
  GDateTime *date = tc_message_get_received_date (message);
  guint position;
  gint64 usec;

  if (date == NULL)
    date = tc_message_get_date (message);
  usec = g_date_time_to_unix (date) * G_USEC_PER_SEC + g_date_time_get_microsecond (date);
  if (usec <= tc_contact_get_last_activity (contact))
    return;

  tc_contact_set_last_activity (contact, usec);
  if (g_list_store_find (self->contacts, contact, &position))
    g_list_model_items_changed (G_LIST_MODEL (self->contacts), position, 1, 1);
}

GPtrArray *
tc_node_send_messages (TcNode              *self,
                       const char          *address,
                       const char * const  *texts,
                       GError             **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GError) local = NULL;
  TcConversation *conversation;
  TcContact *contact;
  TcContactState state;
  TcPeer *peer;
  guint n_texts;

  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  g_return_val_if_fail (texts != NULL, NULL);

  contact = find_contact (self, address, error);
  if (contact == NULL)
    return NULL;

  state = tc_contact_get_state (contact);
  if (state != TC_CONTACT_STATE_ACCEPTED && state != TC_CONTACT_STATE_REQUESTED)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                   state == TC_CONTACT_STATE_PENDING ?
                   _("Accept the contact request before writing") :
                   _("Messages can’t be sent to a contact who is %s"),
                   tc_contact_state_to_string (state));
      return NULL;
    }

  n_texts = g_strv_length ((char **) texts);
  for (guint i = 0; i < n_texts; i++)
    {
      if (!check_text (texts[i], error))
        {
          if (n_texts > 1)
            g_prefix_error (error, _("Message %u: "), i + 1);
          return NULL;
        }
    }

  /* All or nothing, in one commit: a burst costs one sync, not one each. */
  now = g_date_time_new_now_utc ();
  messages = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < n_texts; i++)
    {
      g_autofree char *mid = g_uuid_string_random ();
      TcMessage *message = tc_message_new (mid, tc_contact_get_address (contact), texts[i],
                                           TC_MESSAGE_DIRECTION_OUTGOING, now, NULL,
                                           TC_MESSAGE_STATE_QUEUED);

      g_ptr_array_add (messages, message);
      if (!tc_store_add_outgoing (self->store, message, error))
        {
          tc_store_rollback (self->store);
          return NULL;
        }
    }

  if (!tc_store_commit (self->store, error))
    return NULL;

  if (messages->len > 0)
    note_activity (self, contact, g_ptr_array_index (messages, messages->len - 1));
  conversation = _tc_node_peek_conversation (self, tc_contact_get_address (contact));
  peer = ensure_peer (self, tc_contact_get_address (contact));
  for (guint i = 0; i < messages->len && conversation != NULL; i++)
    tc_conversation_append (conversation, g_ptr_array_index (messages, i));
  tc_peer_send_messages (peer, messages);

  /* The messages are stored; only their "sent" state may be lost, and the
   * receipt sets them delivered anyway. */
  if (!tc_store_commit (self->store, &local))
    g_warning ("Could not store sent states: %s", local->message);

  return g_steal_pointer (&messages);
}

TcMessage *
tc_node_send_message (TcNode      *self,
                      const char  *address,
                      const char  *text,
                      GError     **error)
{
  const char *texts[] = { text, NULL };
  g_autoptr(GPtrArray) messages = NULL;

  g_return_val_if_fail (text != NULL, NULL);

  messages = tc_node_send_messages (self, address, texts, error);
  if (messages == NULL)
    return NULL;

  return g_object_ref (g_ptr_array_index (messages, 0));
}

static void
broadcast_presence (TcNode *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    tc_peer_send_presence (value);
}

gboolean
tc_node_set_status (TcNode      *self,
                    TcPresence   presence,
                    const char  *text,
                    GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  if (presence == TC_PRESENCE_OFFLINE)
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                           _("The status is one of available, away, xa or dnd"));
      return FALSE;
    }

  if (!tc_store_set_setting (self->store, "presence", tc_presence_to_string (presence), error) ||
      !tc_store_set_setting (self->store, "status-text", text, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!tc_store_commit (self->store, error))
    return FALSE;

  if (self->presence != presence)
    {
      self->presence = presence;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE]);
    }

  if (set_str (&self->status_text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_TEXT]);

  broadcast_presence (self);

  return TRUE;
}

gboolean
tc_node_set_profile (TcNode      *self,
                     const char  *name,
                     const char  *text,
                     GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  if (!tc_store_set_setting (self->store, "name", name, error) ||
      !tc_store_set_setting (self->store, "profile-text", text, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!tc_store_commit (self->store, error))
    return FALSE;

  if (set_str (&self->name, name))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
  if (set_str (&self->profile_text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROFILE_TEXT]);

  broadcast_presence (self);

  return TRUE;
}

typedef struct {
  TcNode *node;
  char   *address;
} RetryData;

static void
retry_fetched_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  RetryData *data = user_data;
  g_autoptr(TcNode) self = data->node;
  g_autofree char *address = data->address;
  g_autoptr(GError) error = NULL;
  g_autofree char *redacted = tc_address_redact (address);
  TcPeer *peer;

  g_free (data);

  /* Connect in any case: without a fresh descriptor tor tries with what it
   * has. */
  if (!tc_tor_fetch_descriptor_finish (TC_TOR (object), result, &error))
    g_message ("Tor could not fetch the descriptor of %s again: %s", redacted, error->message);
  else
    g_debug ("Tor fetches the descriptor of %s again", redacted);

  peer = g_hash_table_lookup (self->peers, address);
  if (peer != NULL && self->running)
    tc_peer_retry (peer);
}

gboolean
tc_node_retry_contact (TcNode      *self,
                       const char  *address,
                       GError     **error)
{
  TcContact *contact;
  TcPeer *peer;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  contact = find_contact (self, address, error);
  if (contact == NULL)
    return FALSE;

  peer = ensure_peer (self, tc_contact_get_address (contact));
  if (self->tor != NULL && tc_tor_get_state (self->tor) == TC_TOR_STATE_READY &&
      tc_peer_get_stream (peer) == NULL)
    {
      RetryData *data = g_new0 (RetryData, 1);

      data->node = g_object_ref (self);
      data->address = g_strdup (tc_contact_get_address (contact));
      tc_tor_fetch_descriptor_async (self->tor, data->address, NULL, retry_fetched_cb, data);
      return TRUE;
    }

  tc_peer_retry (peer);
  return TRUE;
}

GPtrArray *
tc_node_search (TcNode      *self,
                const char  *text,
                const char  *address,
                guint        limit,
                GError     **error)
{
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                           _("The search text must be UTF-8"));
      return NULL;
    }

  /* A removed contact's history is gone; a typo is an error, not "nothing
   * found". */
  if (address != NULL && !(normalized = normalize_other (self, address, error)))
    return NULL;

  return tc_store_search (self->store, text, normalized, limit, error);
}

gboolean
tc_node_mark_read (TcNode      *self,
                   const char  *address,
                   GError     **error)
{
  TcContact *contact;
  guint unread;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  contact = find_contact (self, address, error);
  if (contact == NULL)
    return FALSE;

  unread = tc_contact_get_unread (contact);
  if (unread == 0)
    return TRUE;

  tc_contact_set_unread (contact, 0);
  if (!commit_contact (self, contact, error))
    {
      tc_contact_set_unread (contact, unread);
      return FALSE;
    }

  return TRUE;
}

void
tc_node_set_typing (TcNode     *self,
                    const char *address,
                    TcTyping    typing)
{
  TcPeer *peer;

  g_return_if_fail (TC_IS_NODE (self));

  peer = g_hash_table_lookup (self->peers, address);
  if (peer != NULL)
    tc_peer_send_typing (peer, typing);
}

/* Accessors */

const char *
tc_node_get_profile_dir (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->profile_dir;
}

const char *
tc_node_get_address (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->identity != NULL ? tc_identity_get_address (self->identity) : NULL;
}

TcIdentity *
tc_node_get_identity (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->identity;
}

TcStore *
tc_node_get_store (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->store;
}

guint
tc_node_get_listen_port (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), 0);
  return self->listen_port;
}

gboolean
tc_node_get_running (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  return self->running;
}

TcPresence
tc_node_get_presence (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), TC_PRESENCE_OFFLINE);
  return self->presence;
}

const char *
tc_node_get_status_text (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->status_text;
}

const char *
tc_node_get_name (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->name;
}

const char *
tc_node_get_profile_text (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->profile_text;
}

GListModel *
tc_node_get_contacts (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return G_LIST_MODEL (self->contacts);
}

TcContact *
tc_node_lookup_contact (TcNode     *self,
                        const char *address)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);

  if (address == NULL)
    return NULL;

  return g_hash_table_lookup (self->contacts_by_address, address);
}

TcConversation *
tc_node_get_conversation (TcNode     *self,
                          const char *address)
{
  TcConversation *conversation;

  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  conversation = g_hash_table_lookup (self->conversations, address);
  if (conversation == NULL)
    {
      conversation = tc_conversation_new (self->store, address);
      g_hash_table_insert (self->conversations, g_strdup (address), conversation);
    }

  return conversation;
}

/* For TcPeer */

GSocketAddress *
_tc_node_get_socks_address (TcNode *self)
{
  return self->socks;
}

TcStream *
_tc_node_get_chat_stream (TcNode     *self,
                          const char *address)
{
  TcPeer *peer = g_hash_table_lookup (self->peers, address);

  return peer ? tc_peer_get_stream (peer) : NULL;
}

GListModel *
tc_node_get_transfers (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return tc_transfer_manager_get_model (self->transfers);
}

TcTransferManager *
tc_node_get_transfer_manager (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  return self->transfers;
}

TcConversation *
_tc_node_peek_conversation (TcNode     *self,
                            const char *address)
{
  return g_hash_table_lookup (self->conversations, address);
}

TcContact *
_tc_node_add_stranger (TcNode     *self,
                       const char *address)
{
  g_autoptr(TcContact) contact = tc_contact_new (address);

  tc_contact_set_state (contact, TC_CONTACT_STATE_PENDING);
  append_contact (self, contact);

  return contact;
}

gboolean
_tc_node_save_contact (TcNode    *self,
                       TcContact *contact)
{
  g_autoptr(GError) error = NULL;

  if (!commit_contact (self, contact, &error))
    {
      g_warning ("Could not save a contact: %s", error->message);
      return FALSE;
    }

  return TRUE;
}

gboolean
_tc_node_take_token (TcNode *self)
{
  gint64 now = g_get_monotonic_time ();

  self->tokens = MIN (GLOBAL_RATE_BURST, self->tokens +
                      (now - self->tokens_time) * GLOBAL_RATE_PER_SECOND / G_USEC_PER_SEC);
  self->tokens_time = now;

  if (self->tokens < 1.0)
    return FALSE;

  self->tokens -= 1.0;
  return TRUE;
}

void
_tc_node_emit_message_received (TcNode    *self,
                                TcContact *contact,
                                TcMessage *message)
{
  note_activity (self, contact, message);
  g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, contact, message);
}

void
_tc_node_emit_contact_request (TcNode    *self,
                               TcContact *contact)
{
  g_signal_emit (self, signals[CONTACT_REQUEST], 0, contact);
}

void
_tc_node_emit_contact_changed (TcNode    *self,
                               TcContact *contact)
{
  g_signal_emit (self, signals[CONTACT_CHANGED], 0, contact);
}

void
_tc_node_peer_idle (TcNode *self,
                    TcPeer *peer)
{
  if (!tc_node_lookup_contact (self, tc_peer_get_address (peer)))
    g_hash_table_remove (self->peers, tc_peer_get_address (peer));
}

char *
_tc_node_build_status (TcNode *self)
{
  return tc_jmu_build_status (tc_presence_to_string (self->presence),
                              self->status_text, tc_node_get_address (self));
}

char *
_tc_node_build_profile (TcNode *self)
{
  return tc_jmu_build_profile (self->name ? self->name : "",
                               self->profile_text ? self->profile_text : "",
                               tc_node_get_address (self));
}

/* GObject */

static void
tc_node_dispose (GObject *object)
{
  TcNode *self = TC_NODE (object);
  GHashTableIter iter;
  gpointer value;

  if (self->service != NULL)
    {
      g_socket_service_stop (self->service);
      g_socket_listener_close (G_SOCKET_LISTENER (self->service));
      g_clear_object (&self->service);
    }

  if (self->tor != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->tor, self);
      tc_tor_stop (self->tor);
      g_clear_object (&self->tor);
    }

  if (self->monitor != NULL)
    g_signal_handlers_disconnect_by_data (self->monitor, self);
  g_clear_object (&self->monitor);

  /* A node that goes away without tc_node_stop_async() still ends its
   * streams: their reads and timers would keep them open otherwise. */
  for (guint i = 0; i < self->handshakes->len; i++)
    {
      TcStream *stream = g_ptr_array_index (self->handshakes, i);

      g_signal_handlers_disconnect_by_data (stream, self);
      tc_stream_fail (stream, TC_CONDITION_SYSTEM_SHUTDOWN, NULL);
    }
  g_ptr_array_set_size (self->handshakes, 0);

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    tc_peer_abort (value, TC_CONDITION_SYSTEM_SHUTDOWN);
  g_hash_table_remove_all (self->peers);
  g_hash_table_remove_all (self->conversations);
  if (self->transfers != NULL)
    g_object_run_dispose (G_OBJECT (self->transfers));
  g_clear_object (&self->transfers);

  G_OBJECT_CLASS (tc_node_parent_class)->dispose (object);
}

static void
tc_node_finalize (GObject *object)
{
  TcNode *self = TC_NODE (object);
  g_autoptr(GError) error = NULL;

  if (self->store != NULL && !tc_store_commit (self->store, &error))
    g_warning ("Could not store the last changes: %s", error->message);

  g_clear_object (&self->store);
  g_clear_object (&self->identity);
  g_clear_object (&self->contacts);
  g_clear_object (&self->socks);
  g_clear_object (&self->listen_address);
  g_hash_table_unref (self->contacts_by_address);
  g_hash_table_unref (self->peers);
  g_hash_table_unref (self->conversations);
  g_ptr_array_unref (self->handshakes);
  g_free (self->socks_address);
  g_free (self->status_text);
  g_free (self->name);
  g_free (self->profile_text);
  g_free (self->profile_dir);

  if (self->lock_fd >= 0)
    close (self->lock_fd);

  G_OBJECT_CLASS (tc_node_parent_class)->finalize (object);
}

static void
tc_node_get_property (GObject    *object,
                      guint       prop_id,
                      GValue     *value,
                      GParamSpec *pspec)
{
  TcNode *self = TC_NODE (object);

  switch (prop_id)
    {
    case PROP_PROFILE_DIR:
      g_value_set_string (value, self->profile_dir);
      break;
    case PROP_ADDRESS:
      g_value_set_string (value, self->identity ? tc_node_get_address (self) : NULL);
      break;
    case PROP_PRESENCE:
      g_value_set_enum (value, self->presence);
      break;
    case PROP_STATUS_TEXT:
      g_value_set_string (value, self->status_text);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_PROFILE_TEXT:
      g_value_set_string (value, self->profile_text);
      break;
    case PROP_LISTEN_PORT:
      g_value_set_uint (value, self->listen_port);
      break;
    case PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case PROP_TOR:
      g_value_set_object (value, self->tor);
      break;
    case PROP_UNLOCKED:
      g_value_set_boolean (value, self->identity != NULL);
      break;
    case PROP_ENCRYPTED:
      g_value_set_boolean (value, self->profile_kind == TC_PROFILE_KIND_ENCRYPTED);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_node_set_property (GObject      *object,
                      guint         prop_id,
                      const GValue *value,
                      GParamSpec   *pspec)
{
  TcNode *self = TC_NODE (object);
  g_autoptr(GError) error = NULL;
  gboolean ok = TRUE;

  switch (prop_id)
    {
    case PROP_PROFILE_DIR:
      self->profile_dir = g_value_dup_string (value);
      break;
    case PROP_PRESENCE:
      ok = tc_node_set_status (self, g_value_get_enum (value), self->status_text, &error);
      break;
    case PROP_STATUS_TEXT:
      ok = tc_node_set_status (self, self->presence, g_value_get_string (value), &error);
      break;
    case PROP_NAME:
      ok = tc_node_set_profile (self, g_value_get_string (value), self->profile_text, &error);
      break;
    case PROP_PROFILE_TEXT:
      ok = tc_node_set_profile (self, self->name, g_value_get_string (value), &error);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }

  /* A property cannot fail: the value stays what it was, and the log says
   * why. Callers who want the error call the setter. */
  if (!ok)
    g_warning ("Could not set %s: %s", pspec->name, error->message);
}

static void
tc_node_class_init (TcNodeClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_node_dispose;
  object_class->finalize = tc_node_finalize;
  object_class->get_property = tc_node_get_property;
  object_class->set_property = tc_node_set_property;

  properties[PROP_PROFILE_DIR] =
    g_param_spec_string ("profile-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[PROP_PRESENCE] =
    g_param_spec_enum ("presence", NULL, NULL, TC_TYPE_PRESENCE, TC_PRESENCE_AVAILABLE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STATUS_TEXT] =
    g_param_spec_string ("status-text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PROFILE_TEXT] =
    g_param_spec_string ("profile-text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_LISTEN_PORT] =
    g_param_spec_uint ("listen-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_TOR] =
    g_param_spec_object ("tor", NULL, NULL, TC_TYPE_TOR,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[PROP_UNLOCKED] =
    g_param_spec_boolean ("unlocked", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENCRYPTED] =
    g_param_spec_boolean ("encrypted", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  signals[MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, TC_TYPE_CONTACT, TC_TYPE_MESSAGE);
  signals[CONTACT_REQUEST] =
    g_signal_new ("contact-request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, TC_TYPE_CONTACT);
  signals[CONTACT_CHANGED] =
    g_signal_new ("contact-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, TC_TYPE_CONTACT);
}

static void
tc_node_init (TcNode *self)
{
  self->lock_fd = -1;
  self->contacts = g_list_store_new (TC_TYPE_CONTACT);
  self->contacts_by_address = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->conversations = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->handshakes = g_ptr_array_new_with_free_func (g_object_unref);
  self->listen_address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  self->presence = TC_PRESENCE_AVAILABLE;
  self->tokens = GLOBAL_RATE_BURST;
  self->tokens_time = g_get_monotonic_time ();
  /* Empty until the profile is open (tc_transfer_manager_load()). */
  self->transfers = tc_transfer_manager_new (self);
}

/* The name the user gives a contact locally; NULL or "" goes back to the
 * peer's own name. The contact keeps its old name if it cannot be stored. */
gboolean
tc_node_rename_contact (TcNode      *self,
                        const char  *address,
                        const char  *nickname,
                        GError     **error)
{
  TcContact *contact;
  g_autofree char *old = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  contact = find_contact (self, address, error);
  if (contact == NULL)
    return FALSE;

  old = g_strdup (tc_contact_get_nickname (contact));
  tc_contact_set_nickname (contact, nickname != NULL && nickname[0] != '\0' ? nickname : NULL);
  if (!commit_contact (self, contact, error))
    {
      tc_contact_set_nickname (contact, old);
      return FALSE;
    }

  return TRUE;
}
