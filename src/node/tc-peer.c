/* tc-peer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-address.h"
#include "tc-node-private.h"
#include "tc-peer.h"
#include "tc-socks.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)
/* Soon again after "offline", see retry_quickly(). */
#define QUICK_RETRY_MS 5000
#define QUICK_RETRIES 3
#define FRESH_ONION_WINDOW_US (2 * 60 * G_USEC_PER_SEC)
/* A little more than tor's own SocksTimeout (2 minutes), so that tor's
 * answer, which says why, normally comes first. */
#define CONNECT_TIMEOUT_S 150
/* Two streams opened from opposite sides closer together than this are a
 * race, settled by address order; otherwise the newer one wins. */
#define RACE_WINDOW_US (30 * G_USEC_PER_SEC)
#define MAX_STREAMS_PER_PEER 4
/* A burst is committed once the main loop is idle, or after this long, or
 * with this many receipts waiting, whichever comes first. */
#define BURST_MAX_US (250 * 1000)
#define BURST_MAX_RECEIPTS 4096
/* A peer that refused with resource-constraint (busy, or its disk is full)
 * is tried again after this back-off, doubled at each refusal, even though
 * its streams became ready. */
#define REFUSED_MIN_MS 1000
#define REFUSED_MAX_MS (30 * 1000)

struct _TcPeer
{
  GObject        parent_instance;

  TcNode        *node;
  char          *address;
  char          *redacted;

  GPtrArray     *streams;        /* every stream to this address */
  TcStream      *active;         /* the ready one, if any */
  GCancellable  *connecting;
  guint          retry_source;
  guint          backoff_ms;
  guint          quick_retries;  /* left until a stream is ready again */
  gint64         fresh_since;    /* first quick retry while our onion was new */

  /* What one read from the active stream brought, acted on at batch-done,
   * once the store has committed. */
  GPtrArray     *new_messages;
  GPtrArray     *receipts_due;
  gboolean       contact_dirty;
  gboolean       batch_failed;   /* a write of this batch failed */
  /* Batches waiting for one commit (a burst): since when (0: none), the
   * store's generation then, the unread count before them, how many of
   * new_messages are counted in it, the stream for their receipts. */
  gint64         pending_since;
  guint64        pending_generation;
  guint          unread_before;
  guint          counted;
  TcStream      *pending_stream;
  guint          commit_source;
  guint          refused_ms;     /* back-off after resource-constraint */
};

G_DEFINE_FINAL_TYPE (TcPeer, tc_peer, G_TYPE_OBJECT)

static void set_next_attempt (TcPeer       *self,
                              gint64        usec);
static void schedule_retry (TcPeer       *self,
                            const GError *error);

static TcContact *
get_contact (TcPeer *self)
{
  return tc_node_lookup_contact (self->node, self->address);
}

static const char *
own_address (TcPeer *self)
{
  return tc_node_get_address (self->node);
}

/* Whether the contact's state needs a stream from our side. */
static gboolean
wants_stream (TcPeer *self)
{
  TcContact *contact = get_contact (self);

  if (contact == NULL || !tc_node_get_running (self->node))
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

static void
send_outbox (TcPeer *self)
{
  TcStore *store = tc_node_get_store (self->node);
  g_autoptr(GPtrArray) outbox = NULL;
  g_autoptr(GError) error = NULL;

  outbox = tc_store_list_outbox (store, self->address, &error);
  if (outbox == NULL)
    {
      g_warning ("Could not read the outbox for %s: %s", self->redacted, error->message);
      return;
    }

  tc_peer_send_messages (self, outbox);

  if (!tc_store_commit (store, &error))
    g_warning ("Could not store sent states for %s: %s", self->redacted, error->message);
}

/* What a fresh stream owes the peer, by the contact's state. */
static void
greet (TcPeer *self)
{
  TcContact *contact = get_contact (self);
  g_autofree char *line = NULL;

  if (contact == NULL || self->active == NULL)
    return;

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_REQUESTED:
      {
        const char *name = tc_node_get_name (self->node);

        line = tc_jmu_build_contact_request (name ? name : "",
                                             tc_contact_get_greeting (contact) ?
                                             tc_contact_get_greeting (contact) : "",
                                             own_address (self));
        tc_stream_send (self->active, line);
      }
      break;

    case TC_CONTACT_STATE_ACCEPTED:
      if (tc_contact_get_answer_pending (contact))
        {
          line = tc_jmu_build_contact_accept (own_address (self));
          tc_stream_send (self->active, line);
          tc_contact_set_answer_pending (contact, FALSE);
          _tc_node_save_contact (self->node, contact);
        }
      tc_peer_send_presence (self);
      send_outbox (self);
      tc_transfer_manager_peer_ready (tc_node_get_transfer_manager (self->node),
                                      self->address);
      break;

    case TC_CONTACT_STATE_DECLINED:
      if (tc_contact_get_answer_pending (contact))
        {
          line = tc_jmu_build_contact_decline (own_address (self));
          tc_stream_send (self->active, line);
          tc_contact_set_answer_pending (contact, FALSE);
          _tc_node_save_contact (self->node, contact);
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
  TcContact *contact = get_contact (self);
  JsonObject *request = tc_jmu_get_value_object (jmu);
  const char *name = json_object_get_string_member (request, "name");
  const char *text = json_object_get_string_member (request, "text");
  gboolean is_new = FALSE;

  if (contact == NULL)
    {
      contact = _tc_node_add_stranger (self->node, self->address);
      tc_contact_set_connected (contact, TRUE);
      is_new = TRUE;
    }

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_ACCEPTED:
      {
        /* They lost our answer: send it again, and only it (a greeting
         * would re-send the whole outbox at every request). */
        g_autofree char *line = tc_jmu_build_contact_accept (own_address (self));

        tc_stream_send (self->active, line);
      }
      return;

    case TC_CONTACT_STATE_REQUESTED:
      /* Both asked: that is a yes from both. */
      tc_contact_set_state (contact, TC_CONTACT_STATE_ACCEPTED);
      tc_contact_set_answer_pending (contact, TRUE);
      tc_contact_set_name (contact, name);
      _tc_node_save_contact (self->node, contact);
      _tc_node_emit_contact_changed (self->node, contact);
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
      _tc_node_save_contact (self->node, contact);
    }

  if (is_new)
    _tc_node_emit_contact_request (self->node, contact);
}

static void
handle_answer (TcPeer    *self,
               TcJmuKind  kind)
{
  TcContact *contact = get_contact (self);
  TcStore *store = tc_node_get_store (self->node);
  g_autoptr(GError) error = NULL;

  if (contact == NULL || tc_contact_get_state (contact) != TC_CONTACT_STATE_REQUESTED)
    return;

  if (kind == TC_JMU_KIND_CONTACT_ACCEPT)
    {
      tc_contact_set_state (contact, TC_CONTACT_STATE_ACCEPTED);
      _tc_node_save_contact (self->node, contact);
      _tc_node_emit_contact_changed (self->node, contact);
      greet (self);
      return;
    }

  tc_contact_set_state (contact, TC_CONTACT_STATE_DECLINED);
  if (!tc_store_fail_outbox (store, self->address, &error))
    g_warning ("Could not mark messages to %s failed: %s", self->redacted, error->message);
  _tc_node_save_contact (self->node, contact);
  if (_tc_node_peek_conversation (self->node, self->address))
    tc_conversation_reload (_tc_node_peek_conversation (self->node, self->address));
  _tc_node_emit_contact_changed (self->node, contact);
}

static void
handle_message (TcPeer *self,
                TcJmu  *jmu)
{
  TcStore *store = tc_node_get_store (self->node);
  g_autoptr(GDateTime) date = tc_jmu_parse_date (tc_jmu_get_string (jmu, "date"));
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(TcMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  const char *mid = tc_jmu_get_string (jmu, "id");
  const char *to = tc_jmu_get_string (jmu, "to");
  gboolean duplicate = FALSE;

  if (g_strcmp0 (to, own_address (self)) != 0)
    {
      tc_stream_fail (self->active, TC_CONDITION_IMPROPER_ADDRESSING, NULL);
      return;
    }

  message = tc_message_new (mid, self->address, tc_jmu_get_value_string (jmu),
                            TC_MESSAGE_DIRECTION_INCOMING, date, now,
                            TC_MESSAGE_STATE_RECEIVED);

  if (!tc_store_add_incoming (store, message, &duplicate, &error))
    {
      /* The batch is poisoned: batch-done sends no receipt for any of it,
       * and the sender writes it all again on the next stream. */
      if (!self->batch_failed)
        g_warning ("Could not store a message from %s: %s", self->redacted, error->message);
      self->batch_failed = TRUE;
      return;
    }

  g_ptr_array_add (self->receipts_due, g_strdup (mid));
  if (!duplicate)
    g_ptr_array_add (self->new_messages, g_steal_pointer (&message));
}

static void
handle_receipt (TcPeer *self,
                TcJmu  *jmu)
{
  TcStore *store = tc_node_get_store (self->node);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  const char *mid = tc_jmu_get_value_string (jmu);
  gboolean changed = FALSE;
  TcConversation *conversation;

  if (!tc_store_mark_delivered (store, self->address, mid, now, &changed, &error))
    {
      /* Poisoned batch: the peer's receipts come again after the message
       * is written again. */
      if (!self->batch_failed)
        g_warning ("Could not store a receipt from %s: %s", self->redacted, error->message);
      self->batch_failed = TRUE;
      return;
    }

  /* The peer stores again. */
  if (changed)
    self->refused_ms = 0;

  conversation = _tc_node_peek_conversation (self->node, self->address);
  if (changed && conversation != NULL)
    tc_conversation_update_state (conversation, mid, TC_MESSAGE_STATE_DELIVERED, now);
}

static void
stream_jmu_cb (TcStream *stream,
               TcJmu    *jmu,
               TcPeer   *self)
{
  /* A handler may end in the node dropping this peer, or the stream. */
  G_GNUC_UNUSED g_autoptr(TcPeer) hold_peer = g_object_ref (self);
  G_GNUC_UNUSED g_autoptr(TcStream) hold_stream = g_object_ref (stream);
  TcContact *contact = get_contact (self);
  TcJmuKind kind = tc_jmu_get_kind (jmu);

  if (stream != self->active)
    return;

  /* Strangers share one budget, so that many identities together cannot
   * flood the node; accepted contacts only have their stream's own limit. */
  if ((contact == NULL || tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED) &&
      !_tc_node_take_token (self->node))
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
      handle_message (self, jmu);
      break;

    case TC_JMU_KIND_RECEIPT:
      handle_receipt (self, jmu);
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
      tc_transfer_manager_handle_jmu (tc_node_get_transfer_manager (self->node),
                                      self->address, jmu);
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

/* A burst's batch fails: nothing of it (nor of the batches waiting for the
 * same commit) is on disk, no receipt goes out, and the stream ends so
 * that the sender writes it all again (docs/protocol.md, section 7). */
static void
burst_failed (TcPeer       *self,
              TcStream     *stream,
              const GError *error)
{
  TcContact *contact = get_contact (self);
  gboolean full = g_error_matches (error, TC_STORE_ERROR, TC_STORE_ERROR_FULL);

  g_warning ("Could not store what %s sent: %s", self->redacted, error->message);
  if (contact != NULL && self->pending_since != 0)
    tc_contact_set_unread (contact, self->unread_before);
  g_ptr_array_set_size (self->receipts_due, 0);
  g_ptr_array_set_size (self->new_messages, 0);
  self->counted = 0;
  self->pending_since = 0;
  g_clear_handle_id (&self->commit_source, g_source_remove);
  g_clear_object (&self->pending_stream);

  if (stream != NULL)
    tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT,
                    full ? "storage full" : "storage failed");
}

/* Commits what the batches of a burst wrote, then sends their receipts:
 * a receipt promises the message is on disk. */
static void
finish_burst (TcPeer *self)
{
  G_GNUC_UNUSED g_autoptr(TcPeer) hold = g_object_ref (self);
  g_autoptr(TcStream) stream = g_steal_pointer (&self->pending_stream);
  TcStore *store = tc_node_get_store (self->node);
  TcContact *contact = get_contact (self);
  g_autoptr(GError) error = NULL;

  g_clear_handle_id (&self->commit_source, g_source_remove);
  if (self->pending_since == 0)
    return;

  /* Someone else's failed write rolled the shared transaction back since:
   * these rows are gone even if the commit finds nothing to do. */
  if (tc_store_get_generation (store) != self->pending_generation)
    {
      g_set_error_literal (&error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED,
                           "rolled back with another write that failed");
      burst_failed (self, stream, error);
      return;
    }

  if (!tc_store_commit (store, &error))
    {
      burst_failed (self, stream, error);
      return;
    }

  self->pending_since = 0;
  self->counted = 0;

  for (guint i = 0; stream != NULL && i < self->receipts_due->len; i++)
    {
      g_autofree char *line = tc_jmu_build_receipt (g_ptr_array_index (self->receipts_due, i),
                                                    own_address (self));
      tc_stream_send (stream, line);
    }
  g_ptr_array_set_size (self->receipts_due, 0);

  if (self->new_messages->len > 0 && contact != NULL)
    {
      g_autoptr(GPtrArray) messages = g_steal_pointer (&self->new_messages);
      TcConversation *conversation = _tc_node_peek_conversation (self->node, self->address);

      self->new_messages = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < messages->len; i++)
        {
          if (conversation != NULL)
            tc_conversation_append (conversation, g_ptr_array_index (messages, i));
          _tc_node_emit_message_received (self->node, contact, g_ptr_array_index (messages, i));
        }
    }
  g_ptr_array_set_size (self->new_messages, 0);
}

static gboolean
commit_idle_cb (gpointer user_data)
{
  TcPeer *self = user_data;

  self->commit_source = 0;
  finish_burst (self);

  return G_SOURCE_REMOVE;
}

/* The JMUs of one read have been handled. Their writes join those of the
 * reads before it that wait for the same commit: the commit comes once
 * the main loop has nothing more to do (the burst is over), or when the
 * burst has waited BURST_MAX_US or holds BURST_MAX_RECEIPTS receipts. */
static void
stream_batch_done_cb (TcStream *stream,
                      TcPeer   *self)
{
  G_GNUC_UNUSED g_autoptr(TcPeer) hold = g_object_ref (self);
  G_GNUC_UNUSED g_autoptr(TcStream) hold_stream = g_object_ref (stream);
  TcStore *store = tc_node_get_store (self->node);
  TcContact *contact = get_contact (self);
  g_autoptr(GError) error = NULL;
  gboolean failed = self->batch_failed;
  gint64 now = g_get_monotonic_time ();

  self->batch_failed = FALSE;

  if (self->pending_since == 0)
    {
      /* No rollback can come between the writes of this batch and here:
       * they all ran in this one callback. */
      self->pending_since = now;
      self->pending_generation = tc_store_get_generation (store);
      self->unread_before = contact != NULL ? tc_contact_get_unread (contact) : 0;
    }
  if (self->pending_stream != stream)
    g_set_object (&self->pending_stream, stream);

  /* The unread count is stored with the messages it counts. */
  if (!failed && contact != NULL && self->new_messages->len > self->counted)
    {
      tc_contact_set_unread (contact, tc_contact_get_unread (contact) +
                             self->new_messages->len - self->counted);
      self->counted = self->new_messages->len;
      self->contact_dirty = TRUE;
    }

  if (!failed && self->contact_dirty && contact != NULL &&
      !tc_store_save_contact (store, contact, &error))
    failed = TRUE;
  self->contact_dirty = FALSE;

  if (failed)
    {
      /* End the poisoned batch: a failed save has its error already; a
       * failed message write's error is what the commit reports. */
      if (error != NULL)
        tc_store_rollback (store);
      else if (tc_store_commit (store, &error))
        g_set_error_literal (&error, TC_STORE_ERROR, TC_STORE_ERROR_FAILED, "storage failed");
      burst_failed (self, stream, error);
      return;
    }

  if (self->receipts_due->len >= BURST_MAX_RECEIPTS || now - self->pending_since >= BURST_MAX_US)
    {
      finish_burst (self);
      return;
    }

  if (self->commit_source == 0)
    self->commit_source = g_idle_add_full (G_PRIORITY_DEFAULT_IDLE, commit_idle_cb, self, NULL);
}

static void
set_connected (TcPeer   *self,
               gboolean  connected)
{
  TcContact *contact = get_contact (self);

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
  /* _tc_node_peer_idle() below may drop the node's reference. */
  G_GNUC_UNUSED g_autoptr(TcPeer) hold_peer = g_object_ref (self);
  TcContact *contact = get_contact (self);

  g_signal_handlers_disconnect_by_data (stream, self);
  /* What it brought is stored now; its receipts are lost with it (the
   * sender writes those messages again and gets them as duplicates). */
  if (self->pending_stream == stream)
    finish_burst (self);
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

  if (wants_stream (self))
    schedule_retry (self, error);
  else if (tc_peer_is_idle (self))
    _tc_node_peer_idle (self->node, self);
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
               own_address (self) : self->address;
  new_opener = tc_stream_get_role (new) == TC_STREAM_ROLE_INITIATOR ?
               own_address (self) : self->address;

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
  self->quick_retries = QUICK_RETRIES;
  self->fresh_since = 0;
  g_clear_handle_id (&self->retry_source, g_source_remove);
  g_debug ("Stream with %s ready", self->redacted);
  set_connected (self, TRUE);
  greet (self);
}

static void
track_stream (TcPeer   *self,
              TcStream *stream)
{
  g_ptr_array_add (self->streams, g_object_ref (stream));
  g_signal_connect_object (stream, "ready", G_CALLBACK (stream_ready_cb), self, 0);
  g_signal_connect_object (stream, "jmu", G_CALLBACK (stream_jmu_cb), self, 0);
  g_signal_connect_object (stream, "batch-done", G_CALLBACK (stream_batch_done_cb), self, 0);
  g_signal_connect_object (stream, "closed", G_CALLBACK (stream_closed_cb), self, 0);
}

gboolean
tc_peer_adopt_stream (TcPeer   *self,
                      TcStream *stream)
{
  TcContact *contact = get_contact (self);

  g_return_val_if_fail (TC_IS_PEER (self), FALSE);

  if (contact != NULL && tc_contact_get_state (contact) == TC_CONTACT_STATE_BLOCKED)
    {
      tc_stream_fail (stream, TC_CONDITION_NOT_AUTHORIZED, NULL);
      return FALSE;
    }

  if (self->streams->len >= MAX_STREAMS_PER_PEER)
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, "too many streams");
      return FALSE;
    }

  if (!settle_duplicates (self, stream))
    return FALSE;

  track_stream (self, stream);
  return TRUE;
}

/* One connection attempt: the timeout cancels it, and a result that is
 * not for the peer's current attempt is dropped. */
typedef struct
{
  TcPeer       *peer;
  GCancellable *cancellable;
  guint         timeout;
  gboolean      timed_out;
} ConnectAttempt;

static gboolean
connect_timeout_cb (gpointer user_data)
{
  ConnectAttempt *attempt = user_data;

  attempt->timeout = 0;
  attempt->timed_out = TRUE;
  g_cancellable_cancel (attempt->cancellable);

  return G_SOURCE_REMOVE;
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ConnectAttempt *attempt = user_data;
  g_autoptr(TcPeer) self = attempt->peer;
  g_autoptr(GCancellable) cancellable = attempt->cancellable;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TcStream) stream = NULL;
  gboolean timed_out = attempt->timed_out;

  g_clear_handle_id (&attempt->timeout, g_source_remove);
  g_free (attempt);

  connection = tc_socks_connect_finish (result, &error);

  /* Closed or disposed meanwhile: the node may be gone already. */
  if (self->connecting != cancellable)
    return;

  g_clear_object (&self->connecting);

  if (connection == NULL)
    {
      TcContact *contact = get_contact (self);

      if (timed_out)
        {
          g_clear_error (&error);
          g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("Tor did not answer in time"));
        }

      g_debug ("Could not reach %s: %s", self->redacted, error->message);
      if (contact != NULL)
        tc_contact_set_last_error (contact, tc_socks_error_describe (error));
      schedule_retry (self, error);
      return;
    }

  if (self->active != NULL || !wants_stream (self))
    return;

  stream = tc_stream_new (G_IO_STREAM (connection),
                          tc_node_get_identity (self->node),
                          TC_STREAM_ROLE_INITIATOR, self->address);
  track_stream (self, stream);
  tc_stream_start (stream);
}

static void
connect_now (TcPeer *self)
{
  ConnectAttempt *attempt;

  if (self->retry_source == 0)
    set_next_attempt (self, 0);
  if (self->active != NULL || self->connecting != NULL || !wants_stream (self))
    return;

  for (guint i = 0; i < self->streams->len; i++)
    if (tc_stream_get_role (g_ptr_array_index (self->streams, i)) == TC_STREAM_ROLE_INITIATOR)
      return;

  self->connecting = g_cancellable_new ();

  attempt = g_new0 (ConnectAttempt, 1);
  attempt->peer = g_object_ref (self);
  attempt->cancellable = g_object_ref (self->connecting);
  attempt->timeout = g_timeout_add_seconds (CONNECT_TIMEOUT_S, connect_timeout_cb, attempt);

  tc_socks_connect_async (_tc_node_get_socks_address (self->node),
                          self->address, TC_VIRTUAL_PORT,
                          attempt->cancellable, connect_cb, attempt);
}

/* Shown in the contact details: when the next attempt starts. */
static void
set_next_attempt (TcPeer *self,
                  gint64  usec)
{
  TcContact *contact = get_contact (self);

  if (contact != NULL)
    tc_contact_set_next_attempt (contact, usec);
}

static gboolean
retry_cb (gpointer user_data)
{
  TcPeer *self = user_data;

  self->retry_source = 0;
  connect_now (self);

  return G_SOURCE_REMOVE;
}

/* Whether "the peer is offline" may well be wrong soon. Right after an
 * onion service is first published, its descriptor is not on the
 * directories yet (the first upload waits for the introduction points), so
 * Tor says "descriptor not found" or "introduction failed" for a contact
 * who is starting up. While our own descriptor is not uploaded yet, we are
 * starting up too, likely with contacts that started with us: retry soon,
 * for a while. Otherwise a few quick retries catch a contact who has just
 * come online. */
static gboolean
retry_quickly (TcPeer       *self,
               const GError *error)
{
  TcTor *tor = tc_node_get_tor (self->node);

  if (!tc_socks_error_is_offline (error))
    return FALSE;

  if (tor != NULL && tc_tor_get_onion_published (tor) && !tc_tor_get_reachable (tor))
    {
      gint64 now = g_get_monotonic_time ();

      if (self->fresh_since == 0)
        self->fresh_since = now;
      if (now - self->fresh_since < FRESH_ONION_WINDOW_US)
        return TRUE;
    }

  if (self->quick_retries == 0)
    return FALSE;

  self->quick_retries--;
  return TRUE;
}

/* Exponential back-off with jitter, so that a node coming back online is not
 * hit by all its contacts in the same second. */
static void
schedule_retry (TcPeer       *self,
                const GError *error)
{
  guint delay;

  if (self->retry_source != 0 || !wants_stream (self))
    return;

  self->backoff_ms = CLAMP (self->backoff_ms * 2, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
  delay = self->backoff_ms / 2 + g_random_int_range (0, self->backoff_ms / 2 + 1);
  if (delay > QUICK_RETRY_MS && retry_quickly (self, error))
    delay = QUICK_RETRY_MS;
  if (self->refused_ms > 0)
    delay = MAX (delay, self->refused_ms / 2 + g_random_int_range (0, self->refused_ms / 2 + 1));
  self->retry_source = g_timeout_add (delay, retry_cb, self);
  set_next_attempt (self, g_get_real_time () + (gint64) delay * 1000);
}

void
tc_peer_connect (TcPeer   *self,
                 gboolean  now)
{
  g_return_if_fail (TC_IS_PEER (self));

  if (now)
    {
      self->backoff_ms = 0;
      g_clear_handle_id (&self->retry_source, g_source_remove);
    }

  if (self->retry_source == 0)
    connect_now (self);
}

void
tc_peer_retry (TcPeer *self)
{
  g_return_if_fail (TC_IS_PEER (self));

  self->backoff_ms = 0;
  self->refused_ms = 0;
  self->quick_retries = QUICK_RETRIES;
  self->fresh_since = 0;
  g_clear_handle_id (&self->retry_source, g_source_remove);

  /* An attempt still waiting may be on tor's old view of the peer. */
  if (self->connecting != NULL && self->active == NULL)
    {
      g_cancellable_cancel (self->connecting);
      g_clear_object (&self->connecting);
    }

  connect_now (self);
}

void
tc_peer_contact_changed (TcPeer *self)
{
  TcContact *contact = get_contact (self);

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

/* Writes @messages on the active stream, in order, then marks every queued
 * one sent with one statement: a burst costs one UPDATE, not one each. The
 * caller commits. */
void
tc_peer_send_messages (TcPeer    *self,
                       GPtrArray *messages)
{
  TcContact *contact = get_contact (self);
  TcConversation *conversation;
  g_autoptr(GError) error = NULL;
  gboolean any_queued = FALSE;

  g_return_if_fail (TC_IS_PEER (self));

  /* Messages to a contact that has not accepted yet are sent too: the peer
   * gives no receipt until its user accepts, so they stay in the outbox. */
  if (self->active == NULL || contact == NULL ||
      (tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED &&
       tc_contact_get_state (contact) != TC_CONTACT_STATE_REQUESTED))
    return;

  for (guint i = 0; i < messages->len; i++)
    {
      TcMessage *message = g_ptr_array_index (messages, i);
      g_autofree char *date = tc_jmu_format_date (tc_message_get_date (message));
      g_autofree char *line = tc_jmu_build_message (tc_message_get_text (message),
                                                    tc_message_get_id (message),
                                                    own_address (self), self->address, date);

      tc_stream_send (self->active, line);
      any_queued |= tc_message_get_state (message) == TC_MESSAGE_STATE_QUEUED;
    }

  if (!any_queued)
    return;

  /* Written already: a state that cannot be stored is only shown wrong
   * until the receipt comes. */
  if (!tc_store_mark_sent (tc_node_get_store (self->node), self->address, &error))
    g_warning ("Could not mark messages to %s sent: %s", self->redacted, error->message);

  conversation = _tc_node_peek_conversation (self->node, self->address);
  for (guint i = 0; i < messages->len; i++)
    {
      TcMessage *message = g_ptr_array_index (messages, i);

      if (tc_message_get_state (message) != TC_MESSAGE_STATE_QUEUED)
        continue;
      tc_message_set_state (message, TC_MESSAGE_STATE_SENT);
      if (conversation != NULL)
        tc_conversation_update_state (conversation, tc_message_get_id (message),
                                      TC_MESSAGE_STATE_SENT, NULL);
    }
}

void
tc_peer_send_message (TcPeer    *self,
                      TcMessage *message)
{
  g_autoptr(GPtrArray) messages = g_ptr_array_new ();

  g_return_if_fail (TC_IS_PEER (self));

  g_ptr_array_add (messages, message);
  tc_peer_send_messages (self, messages);
}

void
tc_peer_send_presence (TcPeer *self)
{
  TcContact *contact = get_contact (self);
  g_autofree char *status = NULL;
  g_autofree char *profile = NULL;

  g_return_if_fail (TC_IS_PEER (self));

  if (self->active == NULL || contact == NULL ||
      tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED)
    return;

  status = _tc_node_build_status (self->node);
  profile = _tc_node_build_profile (self->node);
  tc_stream_send (self->active, status);
  tc_stream_send (self->active, profile);
}

void
tc_peer_send_typing (TcPeer   *self,
                     TcTyping  typing)
{
  TcContact *contact = get_contact (self);
  g_autofree char *line = NULL;

  g_return_if_fail (TC_IS_PEER (self));

  if (self->active == NULL || contact == NULL ||
      tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED)
    return;

  line = tc_jmu_build_typing (tc_typing_to_string (typing), own_address (self));
  tc_stream_send (self->active, line);
}

void
tc_peer_close (TcPeer *self)
{
  g_autoptr(GPtrArray) streams = NULL;

  g_return_if_fail (TC_IS_PEER (self));

  g_clear_handle_id (&self->retry_source, g_source_remove);
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

  g_clear_handle_id (&self->retry_source, g_source_remove);
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
      tc_stream_fail (stream, condition, NULL);
    }
}

gboolean
tc_peer_is_idle (TcPeer *self)
{
  g_return_val_if_fail (TC_IS_PEER (self), TRUE);

  return self->streams->len == 0 && self->connecting == NULL && self->retry_source == 0;
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
tc_peer_new (TcNode     *node,
             const char *address)
{
  TcPeer *self = g_object_new (TC_TYPE_PEER, NULL);

  self->node = node;
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

  g_clear_handle_id (&self->retry_source, g_source_remove);
  if (self->connecting != NULL)
    g_cancellable_cancel (self->connecting);
  g_clear_object (&self->connecting);

  for (guint i = 0; i < self->streams->len; i++)
    g_signal_handlers_disconnect_by_data (g_ptr_array_index (self->streams, i), self);
  g_ptr_array_set_size (self->streams, 0);
  self->active = NULL;

  G_OBJECT_CLASS (tc_peer_parent_class)->dispose (object);
}

static void
tc_peer_finalize (GObject *object)
{
  TcPeer *self = TC_PEER (object);

  g_ptr_array_unref (self->streams);
  g_ptr_array_unref (self->new_messages);
  g_ptr_array_unref (self->receipts_due);
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
}

static void
tc_peer_init (TcPeer *self)
{
  self->quick_retries = QUICK_RETRIES;
  self->streams = g_ptr_array_new_with_free_func (g_object_unref);
  self->new_messages = g_ptr_array_new_with_free_func (g_object_unref);
  self->receipts_due = g_ptr_array_new_with_free_func (g_free);
}
