/* tc-peer.c: a peer's streams, its contact's state, and the JMUs that change it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tc-address.h"
#include "tc-peer-private.h"

/* Two streams opened from opposite sides closer together than this are a
 * race, settled by address order; otherwise the newer one wins. */
#define RACE_WINDOW_US (30 * G_USEC_PER_SEC)
/* A peer that refused with resource-constraint (busy, or its disk is full)
 * is tried again after this back-off, doubled at each refusal, even though
 * its streams became ready. */
#define REFUSED_MIN_MS 1000
#define REFUSED_MAX_MS (30 * 1000)

G_DEFINE_FINAL_TYPE (TcPeer, tc_peer, G_TYPE_OBJECT)

enum {
  MESSAGE_RECEIVED,
  CONTACT_REQUEST,
  CONTACT_CHANGED,
  CHAT_READY,
  FILE_JMU,
  IDLE,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void stream_ready_cb      (TcStream     *stream,
                                  TcPeer       *self);
static void stream_closed_cb     (TcStream     *stream,
                                  const GError *error,
                                  TcPeer       *self);
static void stream_jmu_cb        (TcStream     *stream,
                                  TcJmu        *jmu,
                                  TcPeer       *self);

TcContact *
_tc_peer_get_contact (TcPeer *self)
{
  return tc_peer_host_lookup_contact (self->host, self->address);
}

const char *
_tc_peer_own_address (TcPeer *self)
{
  return tc_identity_get_address (self->identity);
}

/* Whether the contact's state needs a stream from our side. */
gboolean
_tc_peer_wants_stream (TcPeer *self)
{
  TcContact *contact = _tc_peer_get_contact (self);

  if (contact == NULL || !tc_peer_host_get_running (self->host))
    return FALSE;

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_REQUESTED:
    case TC_CONTACT_STATE_ACCEPTED:
      return TRUE;
    case TC_CONTACT_STATE_DECLINED:
      return tc_contact_get_answer_pending (contact);
    case TC_CONTACT_STATE_PENDING:
    case TC_CONTACT_STATE_BLOCKED:
    default:
      return FALSE;
    }
}

/* Saves @contact and commits; logs and returns FALSE on failure. */
gboolean
_tc_peer_save_contact (TcPeer    *self,
                       TcContact *contact)
{
  g_autoptr(GError) error = NULL;

  if (!tc_store_save_contact (self->store, contact, &error))
    tc_store_rollback (self->store);
  else if (tc_store_commit (self->store, &error))
    return TRUE;

  g_warning ("Could not save a contact: %s", error->message);
  return FALSE;
}

void
_tc_peer_emit_message_received (TcPeer    *self,
                                TcContact *contact,
                                TcMessage *message)
{
  g_signal_emit (self, signals[MESSAGE_RECEIVED], 0, contact, message);
}

/* What a fresh stream owes the peer, by the contact's state. */
static void
greet (TcPeer *self)
{
  TcContact *contact = _tc_peer_get_contact (self);
  g_autofree char *line = NULL;

  if (contact == NULL || self->active == NULL)
    return;

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_REQUESTED:
      {
        const char *name = tc_peer_host_get_name (self->host);

        line = tc_jmu_build_contact_request (name ? name : "",
                                             tc_contact_get_greeting (contact) ?
                                             tc_contact_get_greeting (contact) : "",
                                             _tc_peer_own_address (self));
        tc_stream_send (self->active, line);
      }
      break;

    case TC_CONTACT_STATE_ACCEPTED:
      if (tc_contact_get_answer_pending (contact))
        {
          line = tc_jmu_build_contact_accept (_tc_peer_own_address (self));
          tc_stream_send (self->active, line);
          tc_contact_set_answer_pending (contact, FALSE);
          _tc_peer_save_contact (self, contact);
        }
      tc_peer_send_presence (self);
      _tc_peer_send_outbox (self);
      g_signal_emit (self, signals[CHAT_READY], 0);
      break;

    case TC_CONTACT_STATE_DECLINED:
      if (tc_contact_get_answer_pending (contact))
        {
          line = tc_jmu_build_contact_decline (_tc_peer_own_address (self));
          tc_stream_send (self->active, line);
          tc_contact_set_answer_pending (contact, FALSE);
          _tc_peer_save_contact (self, contact);
          tc_stream_close (self->active);
        }
      break;

    case TC_CONTACT_STATE_PENDING:
    case TC_CONTACT_STATE_BLOCKED:
    default:
      break;
    }
}

static void
handle_contact_request (TcPeer *self,
                        TcJmu  *jmu)
{
  TcContact *contact = _tc_peer_get_contact (self);
  JsonObject *request = tc_jmu_get_value_object (jmu);
  const char *name = json_object_get_string_member (request, "name");
  const char *text = json_object_get_string_member (request, "text");
  gboolean is_new = FALSE;

  if (contact == NULL)
    {
      contact = tc_peer_host_add_stranger (self->host, self->address);
      tc_contact_set_connected (contact, TRUE);
      is_new = TRUE;
    }

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_ACCEPTED:
      {
        /* They lost our answer: send it again, and only it (a greeting
         * would re-send the whole outbox at every request). */
        g_autofree char *line = tc_jmu_build_contact_accept (_tc_peer_own_address (self));

        tc_stream_send (self->active, line);
      }
      return;

    case TC_CONTACT_STATE_REQUESTED:
      /* Both asked: that is a yes from both. */
      tc_contact_set_state (contact, TC_CONTACT_STATE_ACCEPTED);
      tc_contact_set_answer_pending (contact, TRUE);
      tc_contact_set_name (contact, name);
      _tc_peer_save_contact (self, contact);
      g_signal_emit (self, signals[CONTACT_CHANGED], 0, contact);
      greet (self);
      return;

    case TC_CONTACT_STATE_DECLINED:
      if (tc_contact_get_answer_pending (contact))
        {
          greet (self);
          return;
        }
      /* A declined peer may ask again. */
      tc_contact_set_state (contact, TC_CONTACT_STATE_PENDING);
      is_new = TRUE;
      break;

    case TC_CONTACT_STATE_BLOCKED:
      return;

    case TC_CONTACT_STATE_PENDING:
    default:
      break;
    }

  /* A repeated request costs a disk sync only when it says something new. */
  if (is_new || g_strcmp0 (tc_contact_get_name (contact), name) != 0 ||
      g_strcmp0 (tc_contact_get_greeting (contact), text) != 0)
    {
      tc_contact_set_name (contact, name);
      tc_contact_set_greeting (contact, text);
      _tc_peer_save_contact (self, contact);
    }

  if (is_new)
    g_signal_emit (self, signals[CONTACT_REQUEST], 0, contact);
}

static void
handle_answer (TcPeer    *self,
               TcJmuKind  kind)
{
  TcContact *contact = _tc_peer_get_contact (self);
  TcStore *store = self->store;
  g_autoptr(GError) error = NULL;

  if (contact == NULL || tc_contact_get_state (contact) != TC_CONTACT_STATE_REQUESTED)
    return;

  if (kind == TC_JMU_KIND_CONTACT_ACCEPT)
    {
      tc_contact_set_state (contact, TC_CONTACT_STATE_ACCEPTED);
      _tc_peer_save_contact (self, contact);
      g_signal_emit (self, signals[CONTACT_CHANGED], 0, contact);
      greet (self);
      return;
    }

  tc_contact_set_state (contact, TC_CONTACT_STATE_DECLINED);
  if (!tc_store_fail_outbox (store, self->address, &error))
    g_warning ("Could not mark messages to %s failed: %s", self->redacted, error->message);
  _tc_peer_save_contact (self, contact);
  if (tc_peer_host_peek_conversation (self->host, self->address))
    tc_conversation_reload (tc_peer_host_peek_conversation (self->host, self->address));
  g_signal_emit (self, signals[CONTACT_CHANGED], 0, contact);
}

static void
stream_jmu_cb (TcStream *stream,
               TcJmu    *jmu,
               TcPeer   *self)
{
  /* A handler may end in the node dropping this peer, or the stream. */
  G_GNUC_UNUSED g_autoptr(TcPeer) hold_peer = g_object_ref (self);
  G_GNUC_UNUSED g_autoptr(TcStream) hold_stream = g_object_ref (stream);
  TcContact *contact = _tc_peer_get_contact (self);
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  if (stream != self->active)
    return;

  /* Strangers share one budget, so that many identities together cannot
   * flood the node; accepted contacts only have their stream's own limit. */
  if ((contact == NULL || tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED) &&
      !tc_admission_take_token (self->admission))
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, "node busy");
      return;
    }

  if (kind == TC_JMU_KIND_CONTACT_REQUEST)
    {
      handle_contact_request (self, jmu);
      return;
    }

  if (kind == TC_JMU_KIND_CONTACT_ACCEPT || kind == TC_JMU_KIND_CONTACT_DECLINE)
    {
      handle_answer (self, kind);
      return;
    }

  /* Until accepted, nothing else is acted on: no receipt, so the sender
   * keeps its messages queued until we accept. */
  if (contact == NULL || tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED)
    return;

  switch (kind)
    {
    case TC_JMU_KIND_MESSAGE:
      _tc_peer_handle_message (self, jmu);
      break;

    case TC_JMU_KIND_RECEIPT:
      _tc_peer_handle_receipt (self, jmu);
      break;

    case TC_JMU_KIND_STATUS:
      {
        TcPresence presence = TC_PRESENCE_AVAILABLE;

        tc_presence_from_string (tc_jmu_get_value_string (jmu), &presence);
        tc_contact_set_presence (contact, presence);
        tc_contact_set_status_text (contact, tc_jmu_get_string (jmu, "text"));
      }
      break;

    case TC_JMU_KIND_PROFILE:
      {
        JsonObject *profile = tc_jmu_get_value_object (jmu);

        tc_contact_set_name (contact, json_object_get_string_member (profile, "name"));
        tc_contact_set_profile_text (contact, json_object_get_string_member (profile, "text"));
        self->contact_dirty = TRUE;
      }
      break;

    case TC_JMU_KIND_FILE_OFFER:
    case TC_JMU_KIND_FILE_ACCEPT:
    case TC_JMU_KIND_FILE_DECLINE:
    case TC_JMU_KIND_FILE_DONE:
    case TC_JMU_KIND_FILE_ERROR:
    case TC_JMU_KIND_FILE_CANCEL:
      g_signal_emit (self, signals[FILE_JMU], 0, jmu);
      break;

    case TC_JMU_KIND_TYPING:
      {
        TcTyping typing = TC_TYPING_ACTIVE;

        tc_typing_from_string (tc_jmu_get_value_string (jmu), &typing);
        /* "composing" again: still typing; a notification all the same,
         * so that the window's timeout starts over. */
        if (tc_contact_get_typing (contact) == typing)
          g_object_notify (G_OBJECT (contact), "typing");
        else
          tc_contact_set_typing (contact, typing);
      }
      break;

    default:
      break;
    }
}

static void
set_connected (TcPeer   *self,
               gboolean  connected)
{
  TcContact *contact = _tc_peer_get_contact (self);

  if (contact == NULL)
    return;

  tc_contact_set_connected (contact, connected);
  if (!connected)
    {
      tc_contact_set_presence (contact, TC_PRESENCE_OFFLINE);
      tc_contact_set_typing (contact, TC_TYPING_ACTIVE);
    }
  else
    {
      tc_contact_set_last_error (contact, NULL);
    }
}

static void
stream_closed_cb (TcStream     *stream,
                  const GError *error,
                  TcPeer       *self)
{
  G_GNUC_UNUSED g_autoptr(TcStream) hold = g_object_ref (stream);
  /* A handler of "idle" below may drop the owner's reference. */
  G_GNUC_UNUSED g_autoptr(TcPeer) hold_peer = g_object_ref (self);
  TcContact *contact = _tc_peer_get_contact (self);

  g_signal_handlers_disconnect_by_data (stream, self);
  /* What it brought is stored now; its receipts are lost with it (the
   * sender writes those messages again and gets them as duplicates). */
  if (self->pending_stream == stream)
    _tc_peer_finish_burst (self);
  tc_admission_remove_stream (self->admission, stream);
  g_ptr_array_remove (self->streams, stream);
  g_debug ("Stream with %s closed: %s", self->redacted, error ? error->message : "cleanly");

  if (stream == self->active)
    {
      self->active = NULL;
      set_connected (self, FALSE);
    }
  else if (self->active != NULL)
    {
      /* A duplicate that lost: the active stream carries on. */
      return;
    }

  if (error != NULL && contact != NULL)
    tc_contact_set_last_error (contact, error->message);

  if (g_error_matches (error, TC_JMU_ERROR, TC_CONDITION_RESOURCE_CONSTRAINT))
    self->refused_ms = CLAMP (self->refused_ms * 2, REFUSED_MIN_MS, REFUSED_MAX_MS);

  if (_tc_peer_wants_stream (self))
    _tc_peer_schedule_retry (self, error);
  else if (tc_peer_is_idle (self))
    g_signal_emit (self, signals[IDLE], 0);
}

/* Which of two streams to the same peer survives. */
static gboolean
new_stream_wins (TcPeer   *self,
                 TcStream *old,
                 TcStream *new)
{
  const char *old_opener, *new_opener;

  if (tc_stream_get_role (old) == tc_stream_get_role (new))
    return TRUE;

  if (tc_stream_get_created (new) - tc_stream_get_created (old) > RACE_WINDOW_US)
    return TRUE;

  old_opener = tc_stream_get_role (old) == TC_STREAM_ROLE_INITIATOR ?
               _tc_peer_own_address (self) : self->address;
  new_opener = tc_stream_get_role (new) == TC_STREAM_ROLE_INITIATOR ?
               _tc_peer_own_address (self) : self->address;

  return strcmp (new_opener, old_opener) < 0;
}

/* Settles @stream against every other stream to this peer. Returns FALSE
 * when @stream lost. */
static gboolean
settle_duplicates (TcPeer   *self,
                   TcStream *stream)
{
  g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < self->streams->len; i++)
    {
      TcStream *other = g_ptr_array_index (self->streams, i);

      if (other != stream && tc_stream_get_state (other) <= TC_STREAM_STATE_READY)
        g_ptr_array_add (others, g_object_ref (other));
    }

  for (guint i = 0; i < others->len; i++)
    {
      TcStream *other = g_ptr_array_index (others, i);

      if (!new_stream_wins (self, other, stream))
        {
          tc_stream_fail (stream, TC_CONDITION_CONFLICT, "a stream is already open");
          return FALSE;
        }
    }

  for (guint i = 0; i < others->len; i++)
    tc_stream_fail (g_ptr_array_index (others, i), TC_CONDITION_CONFLICT,
                    "replaced by a newer stream");

  return TRUE;
}

static void
stream_ready_cb (TcStream *stream,
                 TcPeer   *self)
{
  G_GNUC_UNUSED g_autoptr(TcPeer) hold_peer = g_object_ref (self);
  G_GNUC_UNUSED g_autoptr(TcStream) hold_stream = g_object_ref (stream);

  if (tc_stream_get_role (stream) == TC_STREAM_ROLE_INITIATOR &&
      !settle_duplicates (self, stream))
    return;

  self->active = stream;
  self->backoff_ms = 0;
  self->quick_retries = TC_PEER_QUICK_RETRIES;
  self->fresh_since = 0;
  _tc_peer_cancel_retry (self);
  g_debug ("Stream with %s ready", self->redacted);
  set_connected (self, TRUE);
  greet (self);
}

void
_tc_peer_track_stream (TcPeer   *self,
                       TcStream *stream)
{
  g_ptr_array_add (self->streams, g_object_ref (stream));
  tc_admission_add_stream (self->admission, stream);
  g_signal_connect_object (stream, "ready", G_CALLBACK (stream_ready_cb), self, 0);
  g_signal_connect_object (stream, "jmu", G_CALLBACK (stream_jmu_cb), self, 0);
  g_signal_connect_object (stream, "batch-done", G_CALLBACK (_tc_peer_batch_done_cb), self, 0);
  g_signal_connect_object (stream, "closed", G_CALLBACK (stream_closed_cb), self, 0);
}

gboolean
tc_peer_adopt_stream (TcPeer   *self,
                      TcStream *stream)
{
  TcContact *contact = _tc_peer_get_contact (self);

  g_return_val_if_fail (TC_IS_PEER (self), FALSE);

  if (contact != NULL && tc_contact_get_state (contact) == TC_CONTACT_STATE_BLOCKED)
    {
      tc_stream_fail (stream, TC_CONDITION_NOT_AUTHORIZED, NULL);
      return FALSE;
    }

  if (!tc_admission_admit_peer_stream (self->admission, stream, self->streams->len))
    return FALSE;

  if (!settle_duplicates (self, stream))
    return FALSE;

  _tc_peer_track_stream (self, stream);
  return TRUE;
}

void
tc_peer_contact_changed (TcPeer *self)
{
  TcContact *contact = _tc_peer_get_contact (self);

  g_return_if_fail (TC_IS_PEER (self));

  if (contact == NULL || tc_contact_get_state (contact) == TC_CONTACT_STATE_BLOCKED)
    {
      tc_peer_close (self);
      return;
    }

  tc_contact_set_connected (contact, self->active != NULL);
  if (self->active != NULL)
    greet (self);
  else
    tc_peer_connect (self, TRUE);
}

void
tc_peer_send_presence (TcPeer *self)
{
  TcContact *contact = _tc_peer_get_contact (self);
  g_autofree char *status = NULL;
  g_autofree char *profile = NULL;

  g_return_if_fail (TC_IS_PEER (self));

  if (self->active == NULL || contact == NULL ||
      tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED)
    return;

  status = tc_peer_host_build_status (self->host);
  profile = tc_peer_host_build_profile (self->host);
  tc_stream_send (self->active, status);
  tc_stream_send (self->active, profile);
}

void
tc_peer_send_typing (TcPeer   *self,
                     TcTyping  typing)
{
  TcContact *contact = _tc_peer_get_contact (self);
  g_autofree char *line = NULL;

  g_return_if_fail (TC_IS_PEER (self));

  if (self->active == NULL || contact == NULL ||
      tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED)
    return;

  line = tc_jmu_build_typing (tc_typing_to_string (typing), _tc_peer_own_address (self));
  tc_stream_send (self->active, line);
}

void
tc_peer_close (TcPeer *self)
{
  g_autoptr(GPtrArray) streams = NULL;

  g_return_if_fail (TC_IS_PEER (self));

  _tc_peer_cancel_retry (self);
  g_cancellable_cancel (self->connecting);
  g_clear_object (&self->connecting);

  streams = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->streams->len; i++)
    g_ptr_array_add (streams, g_object_ref (g_ptr_array_index (self->streams, i)));
  for (guint i = 0; i < streams->len; i++)
    tc_stream_close (g_ptr_array_index (streams, i));
}

void
tc_peer_abort (TcPeer      *self,
               TcCondition  condition)
{
  g_autoptr(GPtrArray) streams = NULL;

  g_return_if_fail (TC_IS_PEER (self));

  _tc_peer_cancel_retry (self);
  g_cancellable_cancel (self->connecting);
  g_clear_object (&self->connecting);

  /* Nothing of ours runs for them any more: they only say goodbye. */
  streams = g_steal_pointer (&self->streams);
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  self->active = NULL;
  for (guint i = 0; i < streams->len; i++)
    {
      TcStream *stream = g_ptr_array_index (streams, i);

      g_signal_handlers_disconnect_by_data (stream, self);
      tc_admission_remove_stream (self->admission, stream);
      tc_stream_fail (stream, condition, NULL);
    }
}

gboolean
tc_peer_is_idle (TcPeer *self)
{
  g_return_val_if_fail (TC_IS_PEER (self), TRUE);

  return self->streams->len == 0 && self->connecting == NULL && self->retry_due == 0;
}

const char *
tc_peer_get_address (TcPeer *self)
{
  g_return_val_if_fail (TC_IS_PEER (self), NULL);
  return self->address;
}

TcStream *
tc_peer_get_stream (TcPeer *self)
{
  g_return_val_if_fail (TC_IS_PEER (self), NULL);
  return self->active;
}

guint
tc_peer_get_n_streams (TcPeer *self)
{
  g_return_val_if_fail (TC_IS_PEER (self), 0);
  return self->streams->len;
}

TcPeer *
tc_peer_new (TcPeerHost  *host,
             TcStore     *store,
             TcIdentity  *identity,
             TcAdmission *admission,
             const char  *address)
{
  TcPeer *self;

  g_return_val_if_fail (TC_IS_PEER_HOST (host), NULL);
  g_return_val_if_fail (TC_IS_STORE (store), NULL);
  g_return_val_if_fail (TC_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (TC_IS_ADMISSION (admission), NULL);
  g_return_val_if_fail (address != NULL, NULL);

  self = g_object_new (TC_TYPE_PEER, NULL);
  self->host = host;
  self->store = g_object_ref (store);
  self->identity = g_object_ref (identity);
  self->admission = g_object_ref (admission);
  self->address = g_strdup (address);
  self->redacted = tc_address_redact (address);

  return self;
}

static void
tc_peer_dispose (GObject *object)
{
  TcPeer *self = TC_PEER (object);

  /* Uncommitted writes stay in the store's transaction, committed with the
   * next commit; no receipt for them, so the sender writes them again. */
  g_clear_handle_id (&self->commit_source, g_source_remove);
  g_clear_object (&self->pending_stream);
  self->pending_since = 0;

  /* Its streams end too, and say why: their reads and ping timers would
   * keep them open otherwise. */
  tc_peer_abort (self, TC_CONDITION_SYSTEM_SHUTDOWN);

  G_OBJECT_CLASS (tc_peer_parent_class)->dispose (object);
}

static void
tc_peer_finalize (GObject *object)
{
  TcPeer *self = TC_PEER (object);

  /* Off the shared retry timer, whatever scheduled one after dispose. */
  _tc_peer_cancel_retry (self);
  g_ptr_array_unref (self->streams);
  g_ptr_array_unref (self->new_messages);
  g_ptr_array_unref (self->receipts_due);
  g_ptr_array_unref (self->receipts_received);
  g_clear_object (&self->store);
  g_clear_object (&self->identity);
  g_clear_object (&self->admission);
  g_free (self->address);
  g_free (self->redacted);

  G_OBJECT_CLASS (tc_peer_parent_class)->finalize (object);
}

static void
tc_peer_class_init (TcPeerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_peer_dispose;
  object_class->finalize = tc_peer_finalize;

  signals[MESSAGE_RECEIVED] =
    g_signal_new ("message-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 2, TC_TYPE_CONTACT, TC_TYPE_MESSAGE);
  signals[CONTACT_REQUEST] =
    g_signal_new ("contact-request", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, TC_TYPE_CONTACT);
  signals[CONTACT_CHANGED] =
    g_signal_new ("contact-changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, TC_TYPE_CONTACT);
  signals[CHAT_READY] =
    g_signal_new ("chat-ready", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
  signals[FILE_JMU] =
    g_signal_new ("file-jmu", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, TC_TYPE_JMU);
  signals[IDLE] =
    g_signal_new ("idle", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}

static void
tc_peer_init (TcPeer *self)
{
  self->quick_retries = TC_PEER_QUICK_RETRIES;
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  self->new_messages = g_ptr_array_new_with_free_func (g_object_unref);
  self->receipts_due = g_ptr_array_new_with_free_func (g_free);
  self->receipts_received = g_ptr_array_new_with_free_func (g_free);
}
