/* tc-transfer-manager.c
 *
 * Who drives what (docs/protocol.md section 15): the sender offers again on
 * every ready chat stream until the transfer is finished, and the receiver
 * answers each offer from what it holds (the partial file's size, or
 * file-done, file-decline, file-cancel, file-error); a receiver also sends
 * file-accept again on every ready chat stream while it waits. So nothing
 * is lost with a stream or a restart, and the offset always comes from the
 * disk.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tc-address.h"
#include "tc-file-receiver.h"
#include "tc-file-sender.h"
#include "tc-filename.h"
#include "tc-node-private.h"
#include "tc-store-transfers.h"
#include "tc-transfer-manager-private.h"

#define TID_LEN 24
#define RETRY_MIN_MS 2000
#define RETRY_MAX_MS 60000

const char *
_tc_tm_own_address (TcTransferManager *self)
{
  return tc_node_get_address (self->node);
}

gboolean
_tc_tm_is_outgoing (TcTransfer *transfer)
{
  return tc_transfer_get_direction (transfer) == TC_MESSAGE_DIRECTION_OUTGOING;
}

gboolean
_tc_tm_save (TcTransferManager *self,
      TcTransfer        *transfer)
{
  TcStore *store = tc_node_get_store (self->node);
  g_autoptr(GError) error = NULL;

  if (!tc_store_save_transfer (store, transfer, &error) ||
      !tc_store_commit (store, &error))
    {
      g_warning ("Could not store a transfer: %s", error->message);
      return FALSE;
    }

  return TRUE;
}

void
_tc_tm_set_state (TcTransferManager *self,
           TcTransfer        *transfer,
           TcTransferState    state,
           const char        *error)
{
  tc_transfer_set_state (transfer, state);
  tc_transfer_set_error (transfer, error);
  _tc_tm_save (self, transfer);
}

/* Writes @line on the ready chat stream with @peer; FALSE when there is
 * none (the line is owed and goes out with the next greeting). */
gboolean
_tc_tm_send_chat (TcTransferManager *self,
           const char        *peer,
           char              *line)
{
  g_autofree char *owned = line;
  TcStream *stream = _tc_node_get_chat_stream (self->node, peer);

  if (stream == NULL || tc_stream_get_state (stream) != TC_STREAM_STATE_READY)
    return FALSE;

  tc_stream_send (stream, owned);
  return TRUE;
}

TcTransfer *
_tc_tm_find (TcTransferManager  *self,
      const char         *peer,
      const char         *tid,
      TcMessageDirection  direction)
{
  GListModel *model = G_LIST_MODEL (self->transfers);

  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TcTransfer) transfer = g_list_model_get_item (model, i);

      if (tc_transfer_get_direction (transfer) == direction &&
          g_str_equal (tc_transfer_get_id (transfer), tid) &&
          g_str_equal (tc_transfer_get_peer (transfer), peer))
        return transfer;  /* the store keeps it */
    }

  return NULL;
}

char *
_tc_tm_partial_path (TcTransfer *transfer)
{
  /* TIDs are the senders' choice: the sender's address keeps two senders'
   * partial files apart even if they chose the same TID. */
  g_autofree char *name = g_strdup_printf (".torchat-%.16s-%s.part",
                                           tc_transfer_get_peer (transfer),
                                           tc_transfer_get_id (transfer));

  return g_build_filename (tc_transfer_get_directory (transfer), name, NULL);
}

/* The resume offset: what the partial file holds. One that holds more than
 * the offer cannot be trusted and starts again from nothing. */
gint64
_tc_tm_partial_offset (TcTransfer *transfer)
{
  g_autofree char *path = _tc_tm_partial_path (transfer);
  struct stat st;

  if (g_stat (path, &st) != 0)
    return 0;

  if (st.st_size > tc_transfer_get_size (transfer))
    {
      if (truncate (path, 0) != 0)
        g_warning ("Could not empty an inconsistent partial file: %s", g_strerror (errno));
      return 0;
    }

  return st.st_size;
}

void
_tc_tm_remove_partial (TcTransfer *transfer)
{
  g_autofree char *path = NULL;

  if (tc_transfer_get_directory (transfer) == NULL)
    return;

  path = _tc_tm_partial_path (transfer);
  if (g_unlink (path) != 0 && errno != ENOENT)
    g_warning ("Could not remove a partial file: %s", g_strerror (errno));
}

static char *
build_offer (TcTransferManager *self,
             TcTransfer        *transfer)
{
  return tc_jmu_build_file_offer (tc_transfer_get_id (transfer),
                                  tc_transfer_get_name (transfer),
                                  tc_transfer_get_size (transfer),
                                  tc_transfer_get_sha256 (transfer),
                                  tc_transfer_get_mime (transfer),
                                  _tc_tm_own_address (self));
}

gboolean
_tc_tm_is_busy (TcTransferManager *self,
         TcTransfer        *transfer)
{
  return g_hash_table_contains (self->senders, transfer) ||
         g_hash_table_contains (self->receivers, transfer);
}

void
_tc_tm_stop_streams (TcTransferManager *self,
              TcTransfer        *transfer)
{
  TcFileSender *sender = g_hash_table_lookup (self->senders, transfer);
  TcFileReceiver *receiver = g_hash_table_lookup (self->receivers, transfer);

  g_hash_table_remove (self->retries, transfer);
  if (sender != NULL)
    tc_file_sender_stop (sender);
  if (receiver != NULL)
    tc_file_receiver_stop (receiver);
}

/* What a ready chat stream owes the peer for one transfer. */
void
_tc_tm_resend (TcTransferManager *self,
        TcTransfer        *transfer)
{
  const char *peer = tc_transfer_get_peer (transfer);
  TcTransferState state = tc_transfer_get_state (transfer);

  if (_tc_tm_is_busy (self, transfer))
    return;

  if (_tc_tm_is_outgoing (transfer))
    {
      if (tc_transfer_get_sha256 (transfer) == NULL)
        return;  /* still hashing */

      if (state == TC_TRANSFER_STATE_WAITING || state == TC_TRANSFER_STATE_OFFERED ||
          state == TC_TRANSFER_STATE_PAUSED || state == TC_TRANSFER_STATE_ACTIVE)
        {
          if (_tc_tm_send_chat (self, peer, build_offer (self, transfer)) &&
              state == TC_TRANSFER_STATE_WAITING)
            _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_OFFERED, NULL);
        }
      return;
    }

  if (state == TC_TRANSFER_STATE_WAITING || state == TC_TRANSFER_STATE_PAUSED)
    {
      g_autoptr(GError) error = NULL;

      /* Bytes are asked for only when there is room for them: after a full
       * disk the transfer waits, paused, and every offer of the sender is
       * answered with disk-full until space is back (protocol 15.4). */
      if (!_tc_tm_check_room (transfer, &error))
        {
          if (g_strcmp0 (tc_transfer_get_error (transfer), error->message) != 0 ||
              state != TC_TRANSFER_STATE_PAUSED)
            _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_PAUSED, error->message);
          _tc_tm_send_chat (self, peer, tc_jmu_build_file_error (tc_transfer_get_id (transfer),
                                                                 "disk-full",
                                                                 "not enough free space",
                                                                 _tc_tm_own_address (self)));
          return;
        }

      _tc_tm_send_chat (self, peer, tc_jmu_build_file_accept (tc_transfer_get_id (transfer),
                                                              _tc_tm_partial_offset (transfer),
                                                              _tc_tm_own_address (self)));
    }
}

void
tc_transfer_manager_peer_ready (TcTransferManager *self,
                                const char        *address)
{
  GListModel *model;

  g_return_if_fail (TC_IS_TRANSFER_MANAGER (self));

  model = G_LIST_MODEL (self->transfers);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TcTransfer) transfer = g_list_model_get_item (model, i);

      if (g_str_equal (tc_transfer_get_peer (transfer), address))
        _tc_tm_resend (self, transfer);
    }
}

/* Sending */

static gboolean
retry_cb (gpointer user_data)
{
  TcTransfer *transfer = user_data;
  TcTransferManager *self = g_object_get_data (G_OBJECT (transfer), "tc-manager");

  g_hash_table_steal (self->retries, transfer);
  _tc_tm_resend (self, transfer);

  return G_SOURCE_REMOVE;
}

/* A broken file stream: offer again soon, so that the receiver answers
 * with where to resume; later each time it breaks again. */
static void
schedule_retry (TcTransferManager *self,
                TcTransfer        *transfer)
{
  guint delay = GPOINTER_TO_UINT (g_hash_table_lookup (self->backoff, transfer));
  guint source;

  if (self->stopping || g_hash_table_contains (self->retries, transfer))
    return;

  delay = CLAMP (delay * 2, RETRY_MIN_MS, RETRY_MAX_MS);
  g_hash_table_insert (self->backoff, transfer, GUINT_TO_POINTER (delay));
  g_object_set_data (G_OBJECT (transfer), "tc-manager", self);
  source = g_timeout_add_full (G_PRIORITY_DEFAULT, delay, retry_cb,
                               g_object_ref (transfer), g_object_unref);
  g_hash_table_insert (self->retries, transfer, GUINT_TO_POINTER (source));
}

static void
sender_finished_cb (TcFileSender      *sender,
                    const GError      *error,
                    TcTransferManager *self)
{
  TcTransfer *transfer = tc_file_sender_get_transfer (sender);
  G_GNUC_UNUSED g_autoptr(TcFileSender) hold = g_object_ref (sender);

  g_hash_table_remove (self->senders, transfer);
  if (tc_transfer_is_finished (transfer))
    return;

  if (error == NULL)
    {
      /* Every byte is out; file-done or file-error comes on the chat
       * stream, or answers the next offer. */
      g_hash_table_remove (self->backoff, transfer);
      return;
    }

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ||
      g_error_matches (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED))
    {
      /* Our own file is gone or changed: nothing to resume. */
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED, error->message);
      _tc_tm_send_chat (self, tc_transfer_get_peer (transfer),
                 tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, tc_transfer_get_id (transfer),
                                       _tc_tm_own_address (self)));
      return;
    }

  g_debug ("Transfer %s: file stream ended early: %s", tc_transfer_get_id (transfer),
           error->message);
  _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_PAUSED, NULL);
  schedule_retry (self, transfer);
}

static void
handle_accept (TcTransferManager *self,
               const char        *peer,
               TcJmu             *jmu)
{
  const char *tid = tc_jmu_get_file_id (jmu);
  gint64 offset = tc_jmu_get_int (jmu, "offset");
  TcTransfer *transfer = _tc_tm_find (self, peer, tid, TC_MESSAGE_DIRECTION_OUTGOING);
  g_autoptr(TcFileSender) sender = NULL;
  GSocketAddress *socks;

  if (transfer == NULL || tc_transfer_get_state (transfer) == TC_TRANSFER_STATE_CANCELLED ||
      tc_transfer_get_state (transfer) == TC_TRANSFER_STATE_FAILED)
    {
      _tc_tm_send_chat (self, peer, tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, tid,
                                                   _tc_tm_own_address (self)));
      return;
    }

  if (tc_transfer_is_finished (transfer) || _tc_tm_is_busy (self, transfer) ||
      tc_transfer_get_sha256 (transfer) == NULL)
    return;

  if (offset > tc_transfer_get_size (transfer))
    {
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED,
                 _("The receiver asked for bytes beyond the end of the file"));
      _tc_tm_send_chat (self, peer, tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, tid,
                                                   _tc_tm_own_address (self)));
      return;
    }

  socks = _tc_node_get_socks_address (self->node);
  if (socks == NULL)
    return;

  g_hash_table_remove (self->retries, transfer);
  sender = tc_file_sender_new (transfer, tc_node_get_identity (self->node), socks, offset);
  g_debug ("Transfer %s: sending from %" G_GINT64_FORMAT, tid, offset);
  g_hash_table_insert (self->senders, transfer, g_object_ref (sender));
  g_signal_connect_object (sender, "finished", G_CALLBACK (sender_finished_cb), self, 0);
  tc_transfer_set_done (transfer, offset);
  _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_ACTIVE, NULL);
  tc_file_sender_start (sender);
}

static void
hash_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TcTransfer) transfer = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *sha256 = tc_file_sha256_finish (result, &error);
  TcTransferManager *self;

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = g_object_get_data (G_OBJECT (transfer), "tc-manager");
  if (self == NULL || tc_transfer_is_finished (transfer))
    return;

  if (sha256 == NULL)
    {
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED, error->message);
      return;
    }

  tc_transfer_set_sha256 (transfer, sha256);
  _tc_tm_save (self, transfer);
  _tc_tm_resend (self, transfer);
}

void
_tc_tm_start_hash (TcTransferManager *self,
            TcTransfer        *transfer)
{
  g_object_set_data (G_OBJECT (transfer), "tc-manager", self);
  tc_file_sha256_async (tc_transfer_get_path (transfer), tc_transfer_get_size (transfer),
                        self->cancellable, hash_done_cb, g_object_ref (transfer));
}

static char *
random_tid (void)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  guint8 buf[TID_LEN];
  char tid[TID_LEN + 1];

  if (getrandom (buf, sizeof buf, 0) != sizeof buf)
    g_error ("The system random source failed");

  for (gsize i = 0; i < sizeof buf; i++)
    tid[i] = alphabet[buf[i] & 63];
  tid[TID_LEN] = '\0';

  return g_strdup (tid);
}

static TcContact *
find_contact (TcTransferManager  *self,
              const char         *address,
              GError            **error)
{
  TcContact *contact = tc_node_lookup_contact (self->node, address);
  g_autofree char *shown = tc_address_redact (address);

  if (contact == NULL)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_UNKNOWN_CONTACT,
                   _("%s is not in your contacts"), shown);
      return NULL;
    }

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_ACCEPTED:
    case TC_CONTACT_STATE_REQUESTED:
      return contact;
    default:
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                   _("%s is %s: files go only to contacts"), shown,
                   tc_contact_state_to_string (tc_contact_get_state (contact)));
      return NULL;
    }
}

TcTransfer *
tc_transfer_manager_send_file (TcTransferManager  *self,
                               const char         *address,
                               const char         *path,
                               GError            **error)
{
  g_autoptr(TcTransfer) transfer = NULL;
  g_autoptr(GFileInfo) info = NULL;
  g_autoptr(GFile) file = NULL;
  g_autofree char *normalized = NULL;
  g_autofree char *name = NULL;
  g_autofree char *tid = NULL;
  g_autofree char *mime = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *type = NULL;
  int fd;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), NULL);
  g_return_val_if_fail (path != NULL, NULL);

  if (!(normalized = tc_address_normalize (address, error)))
    return NULL;
  if (g_str_equal (normalized, _tc_tm_own_address (self)))
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_SELF,
                   _("That is your own address"));
      return NULL;
    }
  if (!find_contact (self, normalized, error))
    return NULL;

  shown = g_filename_display_name (path);
  if (!g_path_is_absolute (path))
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                   _("%s: the path must be absolute"), shown);
      return NULL;
    }

  file = g_file_new_for_path (path);
  info = g_file_query_info (file, G_FILE_ATTRIBUTE_STANDARD_TYPE ","
                            G_FILE_ATTRIBUTE_STANDARD_SIZE,
                            G_FILE_QUERY_INFO_NONE, NULL, error);
  if (info == NULL)
    return NULL;

  if (g_file_info_get_file_type (info) == G_FILE_TYPE_DIRECTORY)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_IS_DIRECTORY,
                   _("%s is a folder; send the files in it one by one"), shown);
      return NULL;
    }
  if (g_file_info_get_file_type (info) != G_FILE_TYPE_REGULAR)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_REGULAR_FILE,
                   _("%s is not a regular file"), shown);
      return NULL;
    }

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not read %s: %s"), shown, g_strerror (saved));
      return NULL;
    }
  close (fd);

  name = g_filename_display_basename (path);
  if (strlen (name) > 255)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                   _("%s: the name is longer than 255 bytes"), shown);
      return NULL;
    }

  type = g_content_type_guess (name, NULL, 0, NULL);
  mime = type ? g_content_type_get_mime_type (type) : NULL;
  tid = random_tid ();

  transfer = tc_transfer_new (tid, TC_MESSAGE_DIRECTION_OUTGOING, normalized);
  tc_transfer_set_name (transfer, name);
  tc_transfer_set_size (transfer, g_file_info_get_size (info));
  tc_transfer_set_mime (transfer, mime ? mime : "application/octet-stream");
  tc_transfer_set_path (transfer, path);
  tc_transfer_set_created (transfer, g_get_real_time () / G_USEC_PER_SEC);
  tc_transfer_set_state (transfer, TC_TRANSFER_STATE_WAITING);

  {
    TcStore *store = tc_node_get_store (self->node);

    if (!tc_store_save_transfer (store, transfer, error) ||
        !tc_store_commit (store, error))
      return NULL;
  }

  g_list_store_append (self->transfers, transfer);
  _tc_tm_start_hash (self, transfer);

  /* The list holds it. */
  return transfer;
}

static void
handle_outcome (TcTransferManager *self,
                const char        *peer,
                TcJmu             *jmu)
{
  const char *tid = tc_jmu_get_file_id (jmu);
  TcTransfer *transfer = _tc_tm_find (self, peer, tid, TC_MESSAGE_DIRECTION_OUTGOING);
  JsonObject *value = tc_jmu_get_value_object (jmu);
  g_autofree char *text = NULL;

  if (transfer == NULL || tc_transfer_is_finished (transfer))
    return;

  switch (tc_jmu_get_kind (jmu))
    {
    case TC_JMU_KIND_FILE_DECLINE:
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_DECLINED, NULL);
      _tc_tm_stop_streams (self, transfer);
      break;

    case TC_JMU_KIND_FILE_DONE:
      /* Only once every byte went out: a "done" before proves nothing. The
       * stream may still be closing; the receiver has checked the file. */
      if (tc_transfer_get_done (transfer) != tc_transfer_get_size (transfer))
        return;
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_DONE, NULL);
      _tc_tm_stop_streams (self, transfer);
      break;

    case TC_JMU_KIND_FILE_ERROR:
      text = g_strdup_printf (_("The receiver reported %s%s%s"),
                              json_object_get_string_member (value, "error"),
                              json_object_has_member (value, "text") ? ": " : "",
                              json_object_has_member (value, "text") ?
                              json_object_get_string_member (value, "text") : "");
      if (g_strcmp0 (json_object_get_string_member (value, "error"), "disk-full") == 0)
        {
          /* Not final: the receiver keeps what it has and asks for the rest
           * once it has room; until then each offer is answered so. */
          _tc_tm_stop_streams (self, transfer);
          _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_PAUSED, text);
          schedule_retry (self, transfer);
          break;
        }
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_FAILED, text);
      _tc_tm_stop_streams (self, transfer);
      break;

    default:
      break;
    }
}

void
tc_transfer_manager_handle_jmu (TcTransferManager *self,
                                const char        *address,
                                TcJmu             *jmu)
{
  TcContact *contact;

  g_return_if_fail (TC_IS_TRANSFER_MANAGER (self));

  /* Like messages: nothing from a peer that is not an accepted contact is
   * acted on, so its offers stay with the sender until we accept. */
  contact = tc_node_lookup_contact (self->node, address);
  if (contact == NULL || tc_contact_get_state (contact) != TC_CONTACT_STATE_ACCEPTED)
    return;

  switch (tc_jmu_get_kind (jmu))
    {
    case TC_JMU_KIND_FILE_OFFER:
      _tc_tm_handle_offer (self, address, jmu);
      break;

    case TC_JMU_KIND_FILE_ACCEPT:
      handle_accept (self, address, jmu);
      break;

    case TC_JMU_KIND_FILE_DECLINE:
    case TC_JMU_KIND_FILE_DONE:
    case TC_JMU_KIND_FILE_ERROR:
      handle_outcome (self, address, jmu);
      break;

    case TC_JMU_KIND_FILE_CANCEL:
      {
        const char *tid = tc_jmu_get_file_id (jmu);
        TcTransfer *transfer = _tc_tm_find (self, address, tid, TC_MESSAGE_DIRECTION_OUTGOING);

        if (transfer == NULL)
          transfer = _tc_tm_find (self, address, tid, TC_MESSAGE_DIRECTION_INCOMING);
        if (transfer == NULL || tc_transfer_is_finished (transfer))
          return;

        _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_CANCELLED, _("Cancelled by the contact"));
        _tc_tm_stop_streams (self, transfer);
        if (!_tc_tm_is_outgoing (transfer))
          {
            _tc_tm_remove_partial (transfer);
            tc_transfer_set_done (transfer, 0);
          }
      }
      break;

    default:
      break;
    }
}
