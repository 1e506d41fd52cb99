/* tc-node-peers.c: the node's TcPeers, what they may ask of it (TcPeerHost)
 * and what they tell it; sending messages through them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-address.h"
#include "tc-node-private.h"

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

  contact = _tc_node_find_contact (self, address, error);
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
  conversation = g_hash_table_lookup (self->conversations, tc_contact_get_address (contact));
  peer = _tc_node_ensure_peer (self, tc_contact_get_address (contact));
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

void
_tc_node_broadcast_presence (TcNode *self)
{
  GHashTableIter iter;
  gpointer value;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    tc_peer_send_presence (value);
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

  contact = _tc_node_find_contact (self, address, error);
  if (contact == NULL)
    return FALSE;

  peer = _tc_node_ensure_peer (self, tc_contact_get_address (contact));
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

TcStream *
_tc_node_get_chat_stream (TcNode     *self,
                          const char *address)
{
  TcPeer *peer = g_hash_table_lookup (self->peers, address);

  return peer ? tc_peer_get_stream (peer) : NULL;
}

void
_tc_node_peer_idle (TcNode *self,
                    TcPeer *peer)
{
  if (!tc_node_lookup_contact (self, tc_peer_get_address (peer)))
    g_hash_table_remove (self->peers, tc_peer_get_address (peer));
}

/* What the peers tell the node */

static void
peer_message_received_cb (TcPeer    *peer,
                          TcContact *contact,
                          TcMessage *message,
                          TcNode    *self)
{
  note_activity (self, contact, message);
  _tc_node_emit_message_received (self, contact, message);
}

static void
peer_contact_request_cb (TcPeer    *peer,
                         TcContact *contact,
                         TcNode    *self)
{
  _tc_node_emit_contact_request (self, contact);
}

static void
peer_contact_changed_cb (TcPeer    *peer,
                         TcContact *contact,
                         TcNode    *self)
{
  _tc_node_emit_contact_changed (self, contact);
}

static void
peer_chat_ready_cb (TcPeer *peer,
                    TcNode *self)
{
  tc_transfer_manager_peer_ready (self->transfers, tc_peer_get_address (peer));
}

static void
peer_file_jmu_cb (TcPeer *peer,
                  TcJmu  *jmu,
                  TcNode *self)
{
  tc_transfer_manager_handle_jmu (self->transfers, tc_peer_get_address (peer), jmu);
}

static void
peer_idle_cb (TcPeer *peer,
              TcNode *self)
{
  _tc_node_peer_idle (self, peer);
}

TcPeer *
_tc_node_ensure_peer (TcNode     *self,
                      const char *address)
{
  TcPeer *peer = g_hash_table_lookup (self->peers, address);

  if (peer == NULL)
    {
      peer = tc_peer_new (TC_PEER_HOST (self), self->store, self->identity,
                          self->admission, address);
      g_signal_connect_object (peer, "message-received",
                               G_CALLBACK (peer_message_received_cb), self, 0);
      g_signal_connect_object (peer, "contact-request",
                               G_CALLBACK (peer_contact_request_cb), self, 0);
      g_signal_connect_object (peer, "contact-changed",
                               G_CALLBACK (peer_contact_changed_cb), self, 0);
      g_signal_connect_object (peer, "chat-ready", G_CALLBACK (peer_chat_ready_cb), self, 0);
      g_signal_connect_object (peer, "file-jmu", G_CALLBACK (peer_file_jmu_cb), self, 0);
      g_signal_connect_object (peer, "idle", G_CALLBACK (peer_idle_cb), self, 0);
      g_hash_table_insert (self->peers, g_strdup (address), peer);
    }

  return peer;
}

/* What the peers may ask of the node (TcPeerHost) */

static TcContact *
host_lookup_contact (TcPeerHost *host,
                     const char *address)
{
  return tc_node_lookup_contact (TC_NODE (host), address);
}

static TcContact *
host_add_stranger (TcPeerHost *host,
                   const char *address)
{
  g_autoptr(TcContact) contact = tc_contact_new (address);

  tc_contact_set_state (contact, TC_CONTACT_STATE_PENDING);
  _tc_node_append_contact (TC_NODE (host), contact);

  return contact;
}

static TcConversation *
host_peek_conversation (TcPeerHost *host,
                        const char *address)
{
  return g_hash_table_lookup (TC_NODE (host)->conversations, address);
}

static gboolean
host_get_running (TcPeerHost *host)
{
  return TC_NODE (host)->running;
}

static GSocketAddress *
host_get_socks_address (TcPeerHost *host)
{
  return _tc_node_get_socks_address (TC_NODE (host));
}

static gboolean
host_get_onion_new (TcPeerHost *host)
{
  TcTor *tor = TC_NODE (host)->tor;

  return tor != NULL && tc_tor_get_onion_published (tor) && !tc_tor_get_reachable (tor);
}

static const char *
host_get_name (TcPeerHost *host)
{
  return TC_NODE (host)->name;
}

static char *
host_build_status (TcPeerHost *host)
{
  TcNode *self = TC_NODE (host);

  return tc_jmu_build_status (tc_presence_to_string (self->presence),
                              self->status_text, tc_node_get_address (self));
}

static char *
host_build_profile (TcPeerHost *host)
{
  TcNode *self = TC_NODE (host);

  return tc_jmu_build_profile (self->name ? self->name : "",
                               self->profile_text ? self->profile_text : "",
                               tc_node_get_address (self));
}

void
_tc_node_peer_host_init (TcPeerHostInterface *iface)
{
  iface->lookup_contact = host_lookup_contact;
  iface->add_stranger = host_add_stranger;
  iface->peek_conversation = host_peek_conversation;
  iface->get_running = host_get_running;
  iface->get_socks_address = host_get_socks_address;
  iface->get_onion_new = host_get_onion_new;
  iface->get_name = host_get_name;
  iface->build_status = host_build_status;
  iface->build_profile = host_build_profile;
}
