/* tc-peer-delivery.c: messages and receipts, and the burst commit that
 * keeps "a receipt means it is on disk"
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-peer-private.h"

/* A burst is committed once nothing more has come for BURST_QUIET_MS, or
 * after BURST_MAX_US, or with BURST_MAX_RECEIPTS receipts waiting,
 * whichever comes first. Quiet rather than idle: a burst arrives in reads
 * with gaps between them (the sender stores it in slices, the machine is
 * busy), and a commit in each gap costs a sync each. */
#define BURST_QUIET_MS 10
#define BURST_MAX_US (250 * 1000)
#define BURST_MAX_RECEIPTS 4096

void
_tc_peer_send_outbox (TcPeer *self)
{
  TcStore *store = self->store;
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

void
_tc_peer_handle_message (TcPeer *self,
                         TcJmu  *jmu)
{
  TcStore *store = self->store;
  g_autoptr(GDateTime) date = tc_jmu_parse_date (tc_jmu_get_string (jmu, "date"));
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(TcMessage) message = NULL;
  g_autoptr(GError) error = NULL;
  const char *mid = tc_jmu_get_string (jmu, "id");
  const char *to = tc_jmu_get_string (jmu, "to");
  gboolean duplicate = FALSE;

  if (g_strcmp0 (to, _tc_peer_own_address (self)) != 0)
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

/* Kept until the read has been handled: its receipts are applied
 * together (apply_receipts). */
void
_tc_peer_handle_receipt (TcPeer *self,
                         TcJmu  *jmu)
{
  const char *mid = tc_jmu_get_value_string (jmu);

  if (mid != NULL)
    g_ptr_array_add (self->receipts_received, g_strdup (mid));
}

/* The receipts of one read, in the transaction of its other writes: one
 * statement per 997 of them, or one each while the conversation is open,
 * which learns of every message that became delivered (not of unknown or
 * delivered ones), each once. */
static gboolean
apply_receipts (TcPeer  *self,
                GError **error)
{
  TcConversation *conversation = tc_peer_host_peek_conversation (self->host, self->address);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GPtrArray) changed = NULL;
  g_autoptr(GPtrArray) ids = g_steal_pointer (&self->receipts_received);
  guint n_changed = 0;

  self->receipts_received = g_ptr_array_new_with_free_func (g_free);
  if (conversation != NULL)
    changed = g_ptr_array_new_with_free_func (g_free);

  /* On failure the batch is poisoned: the receipts come again once the
   * messages are written again on the next stream. */
  if (!tc_store_mark_delivered_set (self->store, self->address, ids, now,
                                    &n_changed, changed, error))
    return FALSE;

  /* The peer stores again. */
  if (n_changed > 0)
    self->refused_ms = 0;

  for (guint i = 0; changed != NULL && i < changed->len; i++)
    tc_conversation_update_state (conversation, g_ptr_array_index (changed, i),
                                  TC_MESSAGE_STATE_DELIVERED, now);

  return TRUE;
}

/* A burst's batch fails: nothing of it (nor of the batches waiting for the
 * same commit) is on disk, no receipt goes out, and the stream ends so
 * that the sender writes it all again (docs/protocol.md, section 7). */
static void
burst_failed (TcPeer       *self,
              TcStream     *stream,
              const GError *error)
{
  TcContact *contact = _tc_peer_get_contact (self);
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
void
_tc_peer_finish_burst (TcPeer *self)
{
  G_GNUC_UNUSED g_autoptr(TcPeer) hold = g_object_ref (self);
  g_autoptr(TcStream) stream = g_steal_pointer (&self->pending_stream);
  TcStore *store = self->store;
  TcContact *contact = _tc_peer_get_contact (self);
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
                                                    _tc_peer_own_address (self));
      tc_stream_send (stream, line);
    }
  g_ptr_array_set_size (self->receipts_due, 0);

  if (self->new_messages->len > 0 && contact != NULL)
    {
      g_autoptr(GPtrArray) messages = g_steal_pointer (&self->new_messages);
      TcConversation *conversation = tc_peer_host_peek_conversation (self->host, self->address);

      self->new_messages = g_ptr_array_new_with_free_func (g_object_unref);
      for (guint i = 0; i < messages->len; i++)
        {
          if (conversation != NULL)
            tc_conversation_append (conversation, g_ptr_array_index (messages, i));
          _tc_peer_emit_message_received (self, contact, g_ptr_array_index (messages, i));
        }
    }
  g_ptr_array_set_size (self->new_messages, 0);
}

static gboolean
commit_quiet_cb (gpointer user_data)
{
  TcPeer *self = user_data;

  self->commit_source = 0;
  _tc_peer_finish_burst (self);

  return G_SOURCE_REMOVE;
}

/* The JMUs of one read have been handled. Their writes join those of the
 * reads before it that wait for the same commit: the commit comes once
 * the stream has been quiet for BURST_QUIET_MS (the burst is over), or
 * when the burst has waited BURST_MAX_US or holds BURST_MAX_RECEIPTS
 * receipts. */
void
_tc_peer_batch_done_cb (TcStream *stream,
                        TcPeer   *self)
{
  G_GNUC_UNUSED g_autoptr(TcPeer) hold = g_object_ref (self);
  G_GNUC_UNUSED g_autoptr(TcStream) hold_stream = g_object_ref (stream);
  TcStore *store = self->store;
  TcContact *contact = _tc_peer_get_contact (self);
  g_autoptr(GError) error = NULL;
  gboolean failed = self->batch_failed;
  gint64 now = g_get_monotonic_time ();

  self->batch_failed = FALSE;

  /* Written before the burst's generation is taken below, in this same
   * callback like every other write of the batch. */
  if (!failed && self->receipts_received->len > 0 && !apply_receipts (self, &error))
    failed = TRUE;
  g_ptr_array_set_size (self->receipts_received, 0);

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
      _tc_peer_finish_burst (self);
      return;
    }

  g_clear_handle_id (&self->commit_source, g_source_remove);
  self->commit_source = g_timeout_add_full (G_PRIORITY_DEFAULT_IDLE, BURST_QUIET_MS,
                                            commit_quiet_cb, self, NULL);
}

/* Writes @messages on the active stream, in order, then marks every queued
 * one sent with one statement: a burst costs one UPDATE, not one each. The
 * caller commits. */
void
tc_peer_send_messages (TcPeer    *self,
                       GPtrArray *messages)
{
  TcContact *contact = _tc_peer_get_contact (self);
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
                                                    _tc_peer_own_address (self), self->address, date);

      tc_stream_send (self->active, line);
      any_queued |= tc_message_get_state (message) == TC_MESSAGE_STATE_QUEUED;
    }

  if (!any_queued)
    return;

  /* Written already: a state that cannot be stored is only shown wrong
   * until the receipt comes. */
  if (!tc_store_mark_sent (self->store, self->address, &error))
    g_warning ("Could not mark messages to %s sent: %s", self->redacted, error->message);

  conversation = tc_peer_host_peek_conversation (self->host, self->address);
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
