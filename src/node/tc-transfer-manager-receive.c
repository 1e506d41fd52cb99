/* tc-transfer-manager-receive.c: the receiving side of the transfer
 * manager: offers, the file streams it adopts, the received file's fate
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <sys/statvfs.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tc-file-receiver.h"
#include "tc-filename.h"
#include "tc-node-private.h"
#include "tc-transfer-manager-private.h"

/* Offers from one contact still waiting for an answer, at most. */
#define MAX_OPEN_OFFERS 256

/* Receiving */

/* The receiver has every byte on disk and their hash. */
static void
received (TcTransferManager *self,
          TcTransfer        *transfer,
          const char        *sha256)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *partial = _tc_tm_partial_path (transfer);
  g_autofree char *final = NULL;
  const char *tid = tc_transfer_get_id (transfer);
  const char *peer = tc_transfer_get_peer (transfer);

  if (!g_str_equal (sha256, tc_transfer_get_sha256 (transfer)))
    {
      const char *text = _("The received file does not match its checksum");

      g_message ("Transfer %s: checksum mismatch", tid);
      _tc_tm_remove_partial (transfer);
      tc_transfer_set_done (transfer, 0);
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED, text);
      _tc_tm_send_chat (self, peer, tc_jmu_build_file_error (tid, "checksum-mismatch", text,
                                                             _tc_tm_own_address (self)));
      return;
    }

  final = tc_filename_move_into_place (partial, tc_transfer_get_directory (transfer),
                                       tc_transfer_get_name (transfer), &error);
  if (final == NULL)
    {
      _tc_tm_remove_partial (transfer);
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED, error->message);
      _tc_tm_send_chat (self, peer, tc_jmu_build_file_error (tid, "io-error", error->message,
                                                             _tc_tm_own_address (self)));
      return;
    }

  tc_transfer_set_path (transfer, final);
  _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_DONE, NULL);
  _tc_tm_send_chat (self, peer, tc_jmu_build_file_id (TC_JMU_KIND_FILE_DONE, tid,
                                                      _tc_tm_own_address (self)));
}

static void
receiver_finished_cb (TcFileReceiver    *receiver,
                      const GError      *error,
                      TcTransferManager *self)
{
  G_GNUC_UNUSED g_autoptr(TcFileReceiver) hold = g_object_ref (receiver);
  TcTransfer *transfer = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_hash_table_iter_init (&iter, self->receivers);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (value == receiver)
      transfer = key;
  if (transfer == NULL)
    return;

  g_object_ref (transfer);
  g_hash_table_remove (self->receivers, transfer);

  if (tc_transfer_is_finished (transfer))
    ;
  else if (error == NULL)
    received (self, transfer, tc_file_receiver_get_sha256 (receiver));
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE))
    {
      /* The partial file ends on the last whole chunk (a short write is
       * cut off): kept, so that the transfer resumes from it once there is
       * room again, by itself or with accept-file (protocol 15.4). */
      g_message ("Transfer %s: the disk is full", tc_transfer_get_id (transfer));
      tc_transfer_set_done (transfer, _tc_tm_partial_offset (transfer));
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_PAUSED, error->message);
      _tc_tm_send_chat (self, tc_transfer_get_peer (transfer),
                 tc_jmu_build_file_error (tc_transfer_get_id (transfer), "disk-full",
                                          error->message, _tc_tm_own_address (self)));
    }
  else if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED))
    {
      /* EFBIG: the folder's file system takes no file this large. */
      _tc_tm_remove_partial (transfer);
      tc_transfer_set_done (transfer, 0);
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED, error->message);
      _tc_tm_send_chat (self, tc_transfer_get_peer (transfer),
                 tc_jmu_build_file_error (tc_transfer_get_id (transfer), "too-large",
                                          "larger than the receiver's file system takes",
                                          _tc_tm_own_address (self)));
    }
  else
    {
      g_debug ("Transfer %s: file stream ended early: %s", tc_transfer_get_id (transfer),
               error->message);
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_PAUSED, NULL);
    }

  g_object_unref (transfer);
}

void
tc_transfer_manager_adopt_stream (TcTransferManager *self,
                                  TcStream          *stream)
{
  const char *peer = tc_stream_get_peer (stream);
  const char *tid = tc_stream_get_file_id (stream);
  TcContact *contact = tc_node_lookup_contact (self->node, peer);
  g_autoptr(TcFileReceiver) receiver = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *partial = NULL;
  TcTransfer *transfer;
  TcTransferState state;

  g_return_if_fail (TC_IS_TRANSFER_MANAGER (self));

  transfer = _tc_tm_find (self, peer, tid, TC_MESSAGE_DIRECTION_INCOMING);
  state = transfer ? tc_transfer_get_state (transfer) : TC_TRANSFER_STATE_DECLINED;
  if (contact == NULL || tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED ||
      (state != TC_TRANSFER_STATE_WAITING && state != TC_TRANSFER_STATE_PAUSED &&
       state != TC_TRANSFER_STATE_ACTIVE))
    {
      tc_stream_fail (stream, TC_CONDITION_NOT_AUTHORIZED, "no such transfer accepted");
      return;
    }

  if (g_hash_table_contains (self->receivers, transfer))
    {
      tc_stream_fail (stream, TC_CONDITION_RESOURCE_CONSTRAINT, "transfer already has a stream");
      return;
    }

  _tc_tm_partial_offset (transfer);  /* trims an inconsistent partial file */
  partial = _tc_tm_partial_path (transfer);
  receiver = tc_file_receiver_new (transfer, stream, partial, &error);
  if (receiver == NULL)
    {
      tc_stream_fail (stream, TC_CONDITION_RESET, NULL);
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED, error->message);
      _tc_tm_send_chat (self, peer, tc_jmu_build_file_error (tid, "io-error", error->message,
                                                      _tc_tm_own_address (self)));
      return;
    }

  g_debug ("Transfer %s: receiving from %" G_GINT64_FORMAT, tid, tc_transfer_get_done (transfer));
  g_hash_table_insert (self->receivers, transfer, g_object_ref (receiver));
  g_signal_connect_object (receiver, "finished", G_CALLBACK (receiver_finished_cb), self, 0);
  _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_ACTIVE, NULL);
  tc_file_receiver_start (receiver);
}

static guint
count_open_offers (TcTransferManager *self,
                   const char        *peer)
{
  GListModel *model = G_LIST_MODEL (self->transfers);
  guint n = 0;

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TcTransfer) transfer = g_list_model_get_item (model, i);

      n += !_tc_tm_is_outgoing (transfer) && !tc_transfer_is_finished (transfer) &&
           g_str_equal (tc_transfer_get_peer (transfer), peer);
    }

  return n;
}

void
_tc_tm_handle_offer (TcTransferManager *self,
                     const char        *peer,
                     TcJmu             *jmu)
{
  JsonObject *offer = tc_jmu_get_value_object (jmu);
  const char *tid = tc_jmu_get_file_id (jmu);
  TcTransfer *known = _tc_tm_find (self, peer, tid, TC_MESSAGE_DIRECTION_INCOMING);
  g_autoptr(TcTransfer) transfer = NULL;
  g_autofree char *name = NULL;
  gint64 size = tc_jmu_get_int (jmu, "size");

  if (known != NULL)
    {
      /* The sender offers again until it hears the outcome. */
      switch (tc_transfer_get_state (known))
        {
        case TC_TRANSFER_STATE_DONE:
          _tc_tm_send_chat (self, peer, tc_jmu_build_file_id (TC_JMU_KIND_FILE_DONE, tid,
                                                       _tc_tm_own_address (self)));
          break;
        case TC_TRANSFER_STATE_DECLINED:
          _tc_tm_send_chat (self, peer, tc_jmu_build_file_id (TC_JMU_KIND_FILE_DECLINE, tid,
                                                       _tc_tm_own_address (self)));
          break;
        case TC_TRANSFER_STATE_CANCELLED:
          _tc_tm_send_chat (self, peer, tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, tid,
                                                       _tc_tm_own_address (self)));
          break;
        case TC_TRANSFER_STATE_FAILED:
          _tc_tm_send_chat (self, peer, tc_jmu_build_file_error (tid, "io-error",
                                                          tc_transfer_get_error (known),
                                                          _tc_tm_own_address (self)));
          break;
        case TC_TRANSFER_STATE_WAITING:
        case TC_TRANSFER_STATE_PAUSED:
        case TC_TRANSFER_STATE_ACTIVE:
          _tc_tm_resend (self, known);
          break;
        case TC_TRANSFER_STATE_OFFERED:
        default:
          break;
        }
      return;
    }

  if (size > TC_TRANSFER_MAX_INCOMING)
    {
      _tc_tm_send_chat (self, peer, tc_jmu_build_file_error (tid, "too-large",
                                                      "larger than this node accepts",
                                                      _tc_tm_own_address (self)));
      return;
    }

  if (count_open_offers (self, peer) >= MAX_OPEN_OFFERS)
    {
      _tc_tm_send_chat (self, peer, tc_jmu_build_file_id (TC_JMU_KIND_FILE_DECLINE, tid,
                                                   _tc_tm_own_address (self)));
      return;
    }

  name = tc_filename_sanitize (json_object_get_string_member (offer, "name"));
  transfer = tc_transfer_new (tid, TC_MESSAGE_DIRECTION_INCOMING, peer);
  tc_transfer_set_name (transfer, name);
  tc_transfer_set_size (transfer, size);
  tc_transfer_set_sha256 (transfer, json_object_get_string_member (offer, "sha256"));
  tc_transfer_set_mime (transfer, json_object_get_string_member (offer, "mime"));
  tc_transfer_set_created (transfer, g_get_real_time () / G_USEC_PER_SEC);
  tc_transfer_set_state (transfer, TC_TRANSFER_STATE_OFFERED);
  if (!_tc_tm_save (self, transfer))
    return;  /* no answer: the sender offers again later */

  g_list_store_append (self->transfers, transfer);
  _tc_tm_emit_offer (self, transfer);
}
