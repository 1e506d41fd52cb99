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

/* The contact @address if it may be written to and every text is a valid
 * message: nothing is stored otherwise. */
static TcContact *
check_send (TcNode              *self,
            const char          *address,
            const char * const  *texts,
            GError             **error)
{
  TcContactState state;
  TcContact *contact;
  guint n_texts;

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

  return contact;
}

/* Stores texts[from] … texts[to - 1] in one commit and appends them to
 * @messages; on failure nothing of them is stored. */
static gboolean
store_slice (TcNode              *self,
             TcContact           *contact,
             const char * const  *texts,
             guint                from,
             guint                to,
             GDateTime           *now,
             GPtrArray           *messages,
             GError             **error)
{
  for (guint i = from; i < to; i++)
    {
      g_autofree char *mid = g_uuid_string_random ();
      TcMessage *message = tc_message_new (mid, tc_contact_get_address (contact), texts[i],
                                           TC_MESSAGE_DIRECTION_OUTGOING, now, NULL,
                                           TC_MESSAGE_STATE_QUEUED);

      g_ptr_array_add (messages, message);
      if (!tc_store_add_outgoing (self->store, message, error))
        {
          tc_store_rollback (self->store);
          g_ptr_array_set_size (messages, from);
          return FALSE;
        }
    }

  if (!tc_store_commit (self->store, error))
    {
      g_ptr_array_set_size (messages, from);
      return FALSE;
    }

  return TRUE;
}

/* Messages[from …], committed: shown, and written to the peer's stream if
 * it has one (marked sent in the store's open transaction: the caller
 * commits). */
static void
hand_over (TcNode    *self,
           TcContact *contact,
           GPtrArray *messages,
           guint      from)
{
  g_autoptr(GPtrArray) slice = g_ptr_array_new ();
  TcConversation *conversation;
  TcPeer *peer;

  if (from >= messages->len)
    return;

  note_activity (self, contact, g_ptr_array_index (messages, messages->len - 1));
  conversation = g_hash_table_lookup (self->conversations, tc_contact_get_address (contact));
  for (guint i = from; i < messages->len; i++)
    {
      g_ptr_array_add (slice, g_ptr_array_index (messages, i));
      if (conversation != NULL)
        tc_conversation_append (conversation, g_ptr_array_index (messages, i));
    }

  peer = _tc_node_ensure_peer (self, tc_contact_get_address (contact));
  tc_peer_send_messages (peer, slice);
}

static void
commit_sent_states (TcNode *self)
{
  g_autoptr(GError) error = NULL;

  /* The messages are stored; only their "sent" state may be lost, and the
   * receipt sets them delivered anyway. */
  if (!tc_store_commit (self->store, &error))
    g_warning ("Could not store sent states: %s", error->message);
}

GPtrArray *
tc_node_send_messages (TcNode              *self,
                       const char          *address,
                       const char * const  *texts,
                       GError             **error)
{
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GDateTime) now = NULL;
  TcContact *contact;

  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  g_return_val_if_fail (texts != NULL, NULL);

  if (!(contact = check_send (self, address, texts, error)))
    return NULL;

  /* All or nothing, in one commit: a burst costs one sync, not one each. */
  now = g_date_time_new_now_utc ();
  messages = g_ptr_array_new_with_free_func (g_object_unref);
  if (!store_slice (self, contact, texts, 0, g_strv_length ((char **) texts), now,
                    messages, error))
    return NULL;

  hand_over (self, contact, messages, 0);
  commit_sent_states (self);

  return g_steal_pointer (&messages);
}

/* A burst from tc_node_send_messages_async() is stored in slices, each
 * committed before it is written: the first of SEND_SLICE_FIRST messages,
 * so that the peer starts soon, each next one twice as big up to
 * SEND_SLICE_MAX, so that the burst costs few syncs and storing stays
 * ahead of the peer (which does more per message). The next slice is
 * stored once the stream has written all but SEND_BACKLOG bytes of the
 * ones before: the peer reads slice k while slice k + 1 is stored. */
#define SEND_SLICE_FIRST 250
#define SEND_SLICE_MAX 4000
#define SEND_BACKLOG (64 * 1024)

typedef struct
{
  TcNode     *node;
  char       *address;
  GStrv       texts;
  guint       n_texts;
  guint       done;        /* texts stored so far */
  guint       slice;       /* how many the next slice stores */
  GDateTime  *now;
  GPtrArray  *messages;
  TcStream   *waiting;     /* for this stream to write its backlog */
  gulong      written_id;
  gulong      closed_id;
} SendData;

static void
stop_waiting (SendData *data)
{
  if (data->waiting == NULL)
    return;

  g_clear_signal_handler (&data->written_id, data->waiting);
  g_clear_signal_handler (&data->closed_id, data->waiting);
  g_clear_object (&data->waiting);
}

static void
send_data_free (SendData *data)
{
  stop_waiting (data);
  g_clear_object (&data->node);
  g_free (data->address);
  g_strfreev (data->texts);
  g_clear_pointer (&data->now, g_date_time_unref);
  g_clear_pointer (&data->messages, g_ptr_array_unref);
  g_free (data);
}

static void schedule_slice (GTask *task);

static void
unref_task_notify (gpointer  task,
                   GClosure *closure)
{
  g_object_unref (task);
}

static void
backlog_written_cb (TcStream *stream,
                    GTask    *task)
{
  G_GNUC_UNUSED g_autoptr(GTask) hold = g_object_ref (task);
  SendData *data = g_task_get_task_data (task);

  if (tc_stream_get_pending_bytes (stream) > SEND_BACKLOG)
    return;

  stop_waiting (data);
  schedule_slice (task);
}

static void
backlog_closed_cb (TcStream     *stream,
                   const GError *error,
                   GTask        *task)
{
  G_GNUC_UNUSED g_autoptr(GTask) hold = g_object_ref (task);
  SendData *data = g_task_get_task_data (task);

  /* The rest is stored and waits for the next stream, as a queued burst. */
  stop_waiting (data);
  schedule_slice (task);
}

/* Stores and hands over the next slice; TRUE when the task has returned. */
static gboolean
send_next_slice (GTask *task)
{
  SendData *data = g_task_get_task_data (task);
  TcNode *self = data->node;
  g_autoptr(GError) error = NULL;
  TcContact *contact = NULL;
  TcStream *stream = NULL;
  TcPeer *peer;
  guint to;

  /* The contact may have been removed or blocked between two slices:
   * what is stored so far stays queued, as the error says. */
  if (self->store == NULL)
    g_set_error_literal (&error, TC_NODE_ERROR, TC_NODE_ERROR_FAILED, _("The node is stopping"));
  else
    contact = check_send (self, data->address, (const char * const[]) { NULL }, &error);

  /* No stream to write to: the rest in one commit, as one slice. */
  peer = g_hash_table_lookup (self->peers, data->address);
  if (peer != NULL)
    stream = tc_peer_get_stream (peer);
  if (stream == NULL)
    to = data->n_texts;
  else
    to = MIN (data->n_texts, data->done + data->slice);

  if (error == NULL &&
      store_slice (self, contact, (const char * const *) data->texts, data->done, to,
                   data->now, data->messages, &error))
    {
      guint from = data->done;

      data->done = to;
      data->slice = MIN (SEND_SLICE_MAX, data->slice * 2);
      hand_over (self, contact, data->messages, from);
      if (data->done < data->n_texts)
        return FALSE;

      commit_sent_states (self);
      g_task_return_pointer (task, g_ptr_array_ref (data->messages),
                             (GDestroyNotify) g_ptr_array_unref);
      return TRUE;
    }

  commit_sent_states (self);
  if (data->n_texts > 1)
    g_prefix_error (&error, _("Message %u: "), data->done + 1);
  if (data->done > 0)
    {
      g_autofree char *stored = g_strdup_printf (ngettext (" (the message before it is queued)",
                                                           " (the %u messages before it are queued)",
                                                           data->done), data->done);
      char *message = g_strconcat (error->message, stored, NULL);

      g_free (error->message);
      error->message = message;
    }
  g_task_return_error (task, g_steal_pointer (&error));
  return TRUE;
}

static gboolean
send_slice_cb (gpointer user_data)
{
  GTask *task = user_data;

  if (!send_next_slice (task))
    schedule_slice (task);

  return G_SOURCE_REMOVE;
}

/* The next slice, once the contact's stream (if any) has written its
 * backlog; at the priority of the streams' I/O. */
static void
schedule_slice (GTask *task)
{
  SendData *data = g_task_get_task_data (task);
  g_autoptr(GSource) source = NULL;
  TcPeer *peer = g_hash_table_lookup (data->node->peers, data->address);
  TcStream *stream = peer != NULL ? tc_peer_get_stream (peer) : NULL;

  if (stream != NULL && tc_stream_get_pending_bytes (stream) > SEND_BACKLOG)
    {
      data->waiting = g_object_ref (stream);
      data->written_id = g_signal_connect_data (stream, "written",
                                                G_CALLBACK (backlog_written_cb),
                                                g_object_ref (task),
                                                unref_task_notify, 0);
      data->closed_id = g_signal_connect_data (stream, "closed",
                                               G_CALLBACK (backlog_closed_cb),
                                               g_object_ref (task),
                                               unref_task_notify, 0);
      return;
    }

  source = g_idle_source_new ();
  g_source_set_priority (source, G_PRIORITY_DEFAULT);
  g_source_set_static_name (source, "[torchat] send slice");
  g_source_set_callback (source, send_slice_cb, g_object_ref (task), g_object_unref);
  g_source_attach (source, g_task_get_context (task));
}

void
tc_node_send_messages_async (TcNode              *self,
                             const char          *address,
                             const char * const  *texts,
                             GAsyncReadyCallback  callback,
                             gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GError) error = NULL;
  SendData *data;
  TcContact *contact;

  g_return_if_fail (TC_IS_NODE (self));
  g_return_if_fail (texts != NULL);

  task = g_task_new (self, NULL, callback, user_data);
  g_task_set_source_tag (task, tc_node_send_messages_async);

  if (!(contact = check_send (self, address, texts, &error)))
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  data = g_new0 (SendData, 1);
  data->node = g_object_ref (self);
  data->address = g_strdup (tc_contact_get_address (contact));
  data->texts = g_strdupv ((char **) texts);
  data->n_texts = g_strv_length (data->texts);
  data->slice = SEND_SLICE_FIRST;
  data->now = g_date_time_new_now_utc ();
  data->messages = g_ptr_array_new_with_free_func (g_object_unref);
  g_task_set_task_data (task, data, (GDestroyNotify) send_data_free);

  if (!send_next_slice (task))
    schedule_slice (task);
}

GPtrArray *
tc_node_send_messages_finish (TcNode        *self,
                              GAsyncResult  *result,
                              GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
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
