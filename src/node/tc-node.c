/* tc-node.c: one profile's node: its lifetime, settings and properties
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

#include "tc-enum-types.h"
#include "tc-node-private.h"

G_DEFINE_FINAL_TYPE_WITH_CODE (TcNode, tc_node, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TC_TYPE_PEER_HOST, _tc_node_peer_host_init))
G_DEFINE_QUARK (tc-node-error-quark, tc_node_error)

enum {
  MESSAGE_RECEIVED,
  CONTACT_REQUEST,
  CONTACT_CHANGED,
  N_SIGNALS
};

static GParamSpec *properties[TC_NODE_N_PROPS];
static guint signals[N_SIGNALS];

void
_tc_node_notify (TcNode     *self,
                 TcNodeProp  prop)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[prop]);
}

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

  g_object_notify_by_pspec (G_OBJECT (self), properties[TC_NODE_PROP_ADDRESS]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[TC_NODE_PROP_UNLOCKED]);

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
  g_object_notify_by_pspec (G_OBJECT (self), properties[TC_NODE_PROP_ENCRYPTED]);
}

gboolean *
_tc_node_get_busy (TcNode *self)
{
  return &self->busy;
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
      g_object_notify_by_pspec (G_OBJECT (self), properties[TC_NODE_PROP_PRESENCE]);
    }

  if (set_str (&self->status_text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[TC_NODE_PROP_STATUS_TEXT]);

  _tc_node_broadcast_presence (self);

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
    g_object_notify_by_pspec (G_OBJECT (self), properties[TC_NODE_PROP_NAME]);
  if (set_str (&self->profile_text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[TC_NODE_PROP_PROFILE_TEXT]);

  _tc_node_broadcast_presence (self);

  return TRUE;
}

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

void
_tc_node_emit_message_received (TcNode    *self,
                                TcContact *contact,
                                TcMessage *message)
{
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
  tc_admission_fail_handshakes (self->admission, TC_CONDITION_SYSTEM_SHUTDOWN);

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
  g_clear_object (&self->admission);
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
    case TC_NODE_PROP_PROFILE_DIR:
      g_value_set_string (value, self->profile_dir);
      break;
    case TC_NODE_PROP_ADDRESS:
      g_value_set_string (value, self->identity ? tc_node_get_address (self) : NULL);
      break;
    case TC_NODE_PROP_PRESENCE:
      g_value_set_enum (value, self->presence);
      break;
    case TC_NODE_PROP_STATUS_TEXT:
      g_value_set_string (value, self->status_text);
      break;
    case TC_NODE_PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case TC_NODE_PROP_PROFILE_TEXT:
      g_value_set_string (value, self->profile_text);
      break;
    case TC_NODE_PROP_LISTEN_PORT:
      g_value_set_uint (value, self->listen_port);
      break;
    case TC_NODE_PROP_RUNNING:
      g_value_set_boolean (value, self->running);
      break;
    case TC_NODE_PROP_TOR:
      g_value_set_object (value, self->tor);
      break;
    case TC_NODE_PROP_UNLOCKED:
      g_value_set_boolean (value, self->identity != NULL);
      break;
    case TC_NODE_PROP_ENCRYPTED:
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
    case TC_NODE_PROP_PROFILE_DIR:
      self->profile_dir = g_value_dup_string (value);
      break;
    case TC_NODE_PROP_PRESENCE:
      ok = tc_node_set_status (self, g_value_get_enum (value), self->status_text, &error);
      break;
    case TC_NODE_PROP_STATUS_TEXT:
      ok = tc_node_set_status (self, self->presence, g_value_get_string (value), &error);
      break;
    case TC_NODE_PROP_NAME:
      ok = tc_node_set_profile (self, g_value_get_string (value), self->profile_text, &error);
      break;
    case TC_NODE_PROP_PROFILE_TEXT:
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

  properties[TC_NODE_PROP_PROFILE_DIR] =
    g_param_spec_string ("profile-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_PRESENCE] =
    g_param_spec_enum ("presence", NULL, NULL, TC_TYPE_PRESENCE, TC_PRESENCE_AVAILABLE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_STATUS_TEXT] =
    g_param_spec_string ("status-text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_PROFILE_TEXT] =
    g_param_spec_string ("profile-text", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_LISTEN_PORT] =
    g_param_spec_uint ("listen-port", NULL, NULL, 0, G_MAXUINT16, 0,
                       G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_RUNNING] =
    g_param_spec_boolean ("running", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[TC_NODE_PROP_TOR] =
    g_param_spec_object ("tor", NULL, NULL, TC_TYPE_TOR,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  properties[TC_NODE_PROP_UNLOCKED] =
    g_param_spec_boolean ("unlocked", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[TC_NODE_PROP_ENCRYPTED] =
    g_param_spec_boolean ("encrypted", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, TC_NODE_N_PROPS, properties);

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
  self->admission = tc_admission_new ();
  self->listen_address = g_inet_socket_address_new_from_string ("127.0.0.1", 0);
  self->presence = TC_PRESENCE_AVAILABLE;
  /* Empty until the profile is open (tc_transfer_manager_load()). */
  self->transfers = tc_transfer_manager_new (self);
}
