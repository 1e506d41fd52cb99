/* tc-transfer-manager-actions.c: what the user does with transfers, and the
 * manager's life
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <sys/statvfs.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>

#include "tc-file-receiver.h"
#include "tc-file-sender.h"
#include "tc-store-transfers.h"
#include "tc-transfer-manager-private.h"

#define DOWNLOAD_DIR_SETTING "download-dir"

G_DEFINE_FINAL_TYPE (TcTransferManager, tc_transfer_manager, G_TYPE_OBJECT)

enum {
  OFFER_RECEIVED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
_tc_tm_emit_offer (TcTransferManager *self,
                   TcTransfer        *transfer)
{
  g_signal_emit (self, signals[OFFER_RECEIVED], 0, transfer);
}

GListModel *
tc_transfer_manager_get_model (TcTransferManager *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), NULL);
  return G_LIST_MODEL (self->transfers);
}

TcTransfer *
tc_transfer_manager_lookup (TcTransferManager  *self,
                            const char         *tid,
                            GError            **error)
{
  GListModel *model;
  TcTransfer *found = NULL;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), NULL);

  model = G_LIST_MODEL (self->transfers);
  for (guint i = 0; tid != NULL && i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TcTransfer) transfer = g_list_model_get_item (model, i);

      if (!g_str_equal (tc_transfer_get_id (transfer), tid))
        continue;

      if (found != NULL)
        {
          g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                       _("Two transfers have the id %s"), tid);
          return NULL;
        }
      found = transfer;  /* the store keeps it */
    }

  if (found == NULL)
    g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                 _("No transfer has the id “%s”"), tid ? tid : "");

  return found;
}

char *
tc_transfer_manager_dup_download_dir (TcTransferManager *self)
{
  char *dir;
  const char *xdg;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), NULL);

  dir = tc_store_dup_setting (tc_node_get_store (self->node), DOWNLOAD_DIR_SETTING);
  if (dir != NULL)
    return dir;

  xdg = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  if (xdg != NULL)
    return g_strdup (xdg);

  return g_build_filename (g_get_home_dir (), "Downloads", NULL);
}

gboolean
tc_transfer_manager_set_download_dir (TcTransferManager  *self,
                                      const char         *dir,
                                      GError            **error)
{
  TcStore *store;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), FALSE);

  if (dir != NULL && !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_autofree char *shown = g_filename_display_name (dir);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                   _("%s is not a folder"), shown);
      return FALSE;
    }

  store = tc_node_get_store (self->node);
  return tc_store_set_setting (store, DOWNLOAD_DIR_SETTING, dir, error) &&
         tc_store_commit (store, error);
}

static TcTransfer *
lookup_in_state (TcTransferManager  *self,
                 const char         *tid,
                 gboolean            incoming_only,
                 GError            **error)
{
  TcTransfer *transfer = tc_transfer_manager_lookup (self, tid, error);

  if (transfer == NULL)
    return NULL;

  if (incoming_only && _tc_tm_is_outgoing (transfer))
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                   _("Transfer %s is one you send"), tid);
      return NULL;
    }

  return transfer;
}

gboolean
_tc_tm_check_room (TcTransfer  *transfer,
                   GError     **error)
{
  const char *dir = tc_transfer_get_directory (transfer);
  gint64 need = tc_transfer_get_size (transfer) - _tc_tm_partial_offset (transfer);
  struct statvfs fs;

  if (dir == NULL || statvfs (dir, &fs) != 0 ||
      (gint64) fs.f_bavail * (gint64) fs.f_frsize >= need)
    return TRUE;

  {
    g_autofree char *shown = g_filename_display_name (dir);
    g_autofree char *needed = g_format_size (need);
    g_autofree char *have = g_format_size ((guint64) fs.f_bavail * fs.f_frsize);

    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NO_SPACE,
                 _("Not enough space in %s: %s needed, %s free"), shown, needed, have);
  }

  return FALSE;
}

/* A paused transfer retried in another folder: its partial file goes
 * along if it can be renamed there, else it starts over. */
static void
move_partial (TcTransfer *transfer,
              const char *dir)
{
  g_autofree char *from = _tc_tm_partial_path (transfer);
  g_autofree char *to = NULL;

  tc_transfer_set_directory (transfer, dir);
  to = _tc_tm_partial_path (transfer);
  if (g_rename (from, to) != 0 && errno != ENOENT)
    {
      g_debug ("Could not move a partial file (%s): starting over", g_strerror (errno));
      g_unlink (from);
    }
}

gboolean
tc_transfer_manager_accept (TcTransferManager  *self,
                            const char         *tid,
                            const char         *directory,
                            GError            **error)
{
  TcTransfer *transfer;
  TcTransferState state;
  g_autofree char *dir = NULL;
  g_autofree char *shown = NULL;
  g_autofree char *partial = NULL;
  g_autofree char *old_dir = NULL;
  g_autoptr(GError) room_error = NULL;
  gboolean retry;
  int fd;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), FALSE);

  if (!(transfer = lookup_in_state (self, tid, TRUE, error)))
    return FALSE;

  /* A paused one (the disk was full, say) is retried at once. */
  state = tc_transfer_get_state (transfer);
  retry = state == TC_TRANSFER_STATE_PAUSED;
  if (state != TC_TRANSFER_STATE_OFFERED && !retry)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                   _("Transfer %s is %s, not waiting for an answer"), tid,
                   tc_transfer_state_to_string (state));
      return FALSE;
    }

  if (directory != NULL)
    {
      dir = g_strdup (directory);
      shown = g_filename_display_name (dir);
      if (!g_path_is_absolute (dir) || !g_file_test (dir, G_FILE_TEST_IS_DIR))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY,
                       _("%s is not a folder"), shown);
          return FALSE;
        }
    }
  else if (retry && tc_transfer_get_directory (transfer) != NULL)
    {
      dir = g_strdup (tc_transfer_get_directory (transfer));
      shown = g_filename_display_name (dir);
    }
  else
    {
      dir = tc_transfer_manager_dup_download_dir (self);
      shown = g_filename_display_name (dir);
      /* A Flatpak sees the Downloads folder only when it is shared with it
       * (--filesystem=xdg-download, docs/architecture.md); one made here
       * otherwise would vanish with the sandbox, and the file with it. */
      if (!g_file_test (dir, G_FILE_TEST_IS_DIR) &&
          g_file_test ("/.flatpak-info", G_FILE_TEST_EXISTS))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                       _("%s is not shared with the TORChat sandbox: choose a download folder in Preferences"),
                       shown);
          return FALSE;
        }
      if (g_mkdir_with_parents (dir, 0700) != 0)
        {
          int saved = errno;
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not create %s: %s"), shown, g_strerror (saved));
          return FALSE;
        }
    }

  old_dir = g_strdup (tc_transfer_get_directory (transfer));
  if (retry && old_dir != NULL && g_strcmp0 (old_dir, dir) != 0)
    move_partial (transfer, dir);
  tc_transfer_set_directory (transfer, dir);
  partial = _tc_tm_partial_path (transfer);
  fd = g_open (partial, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0)
    {
      int saved = errno;
      if (!retry)
        tc_transfer_set_directory (transfer, NULL);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Cannot write in %s: %s"), shown, g_strerror (saved));
      return FALSE;
    }
  close (fd);

  if (!_tc_tm_check_room (transfer, &room_error))
    {
      /* Offered: as if not answered yet. Paused: stays so, with the
       * reason, its partial file kept for when there is room. */
      if (!retry)
        {
          if (_tc_tm_partial_offset (transfer) == 0)
            g_unlink (partial);
          tc_transfer_set_directory (transfer, NULL);
        }
      else
        {
          _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_PAUSED, room_error->message);
        }
      g_propagate_error (error, g_steal_pointer (&room_error));
      return FALSE;
    }

  _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_WAITING, NULL);
  _tc_tm_resend (self, transfer);

  return TRUE;
}

gboolean
tc_transfer_manager_decline (TcTransferManager  *self,
                             const char         *tid,
                             GError            **error)
{
  TcTransfer *transfer;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), FALSE);

  if (!(transfer = lookup_in_state (self, tid, TRUE, error)))
    return FALSE;

  if (tc_transfer_get_state (transfer) != TC_TRANSFER_STATE_OFFERED)
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                   _("Transfer %s is %s, not waiting for an answer"), tid,
                   tc_transfer_state_to_string (tc_transfer_get_state (transfer)));
      return FALSE;
    }

  _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_DECLINED, NULL);
  /* Owed otherwise: the sender's next offer is answered with it. */
  _tc_tm_send_chat (self, tc_transfer_get_peer (transfer),
                    tc_jmu_build_file_id (TC_JMU_KIND_FILE_DECLINE, tid,
                                          _tc_tm_own_address (self)));
  return TRUE;
}

gboolean
tc_transfer_manager_cancel (TcTransferManager  *self,
                            const char         *tid,
                            GError            **error)
{
  TcTransfer *transfer;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), FALSE);

  if (!(transfer = lookup_in_state (self, tid, FALSE, error)))
    return FALSE;

  if (tc_transfer_is_finished (transfer))
    {
      g_set_error (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                   _("Transfer %s is %s already"), tid,
                   tc_transfer_state_to_string (tc_transfer_get_state (transfer)));
      return FALSE;
    }

  _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_CANCELLED, NULL);
  _tc_tm_stop_streams (self, transfer);
  if (!_tc_tm_is_outgoing (transfer))
    {
      _tc_tm_remove_partial (transfer);
      tc_transfer_set_done (transfer, 0);
    }
  _tc_tm_send_chat (self, tc_transfer_get_peer (transfer),
                    tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, tid,
                                          _tc_tm_own_address (self)));
  return TRUE;
}

gboolean
tc_transfer_manager_load (TcTransferManager  *self,
                          GError            **error)
{
  g_autoptr(GPtrArray) transfers = NULL;

  g_return_val_if_fail (TC_IS_TRANSFER_MANAGER (self), FALSE);

  transfers = tc_store_load_transfers (tc_node_get_store (self->node), error);
  if (transfers == NULL)
    return FALSE;

  for (guint i = 0; i < transfers->len; i++)
    {
      TcTransfer *transfer = g_ptr_array_index (transfers, i);

      /* No stream survives a restart. */
      if (tc_transfer_get_state (transfer) == TC_TRANSFER_STATE_ACTIVE)
        tc_transfer_set_state (transfer, TC_TRANSFER_STATE_PAUSED);

      g_list_store_append (self->transfers, transfer);

      if (_tc_tm_is_outgoing (transfer) && !tc_transfer_is_finished (transfer) &&
          tc_transfer_get_sha256 (transfer) == NULL)
        _tc_tm_start_hash (self, transfer);
    }

  return TRUE;
}

static void
stop_everything (TcTransferManager *self,
                 const char        *peer)
{
  g_autoptr(GPtrArray) stop = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  gpointer key;

  g_hash_table_iter_init (&iter, self->senders);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (stop, g_object_ref (key));
  g_hash_table_iter_init (&iter, self->receivers);
  while (g_hash_table_iter_next (&iter, &key, NULL))
    g_ptr_array_add (stop, g_object_ref (key));

  for (guint i = 0; i < stop->len; i++)
    {
      TcTransfer *transfer = g_ptr_array_index (stop, i);

      if (peer == NULL || g_str_equal (tc_transfer_get_peer (transfer), peer))
        _tc_tm_stop_streams (self, transfer);
    }
}

void
tc_transfer_manager_stop_all (TcTransferManager *self)
{
  g_return_if_fail (TC_IS_TRANSFER_MANAGER (self));

  self->stopping = TRUE;
  g_hash_table_remove_all (self->retries);
  stop_everything (self, NULL);
}

void
tc_transfer_manager_forget_peer (TcTransferManager *self,
                                 const char        *address)
{
  GListModel *model;

  g_return_if_fail (TC_IS_TRANSFER_MANAGER (self));

  model = G_LIST_MODEL (self->transfers);
  for (guint i = 0; i < g_list_model_get_n_items (model); i++)
    {
      g_autoptr(TcTransfer) transfer = g_list_model_get_item (model, i);

      if (!g_str_equal (tc_transfer_get_peer (transfer), address) ||
          tc_transfer_is_finished (transfer))
        continue;

      g_hash_table_remove (self->retries, transfer);
      _tc_tm_set_state (self, transfer, TC_TRANSFER_STATE_CANCELLED,
                        _("The contact was removed"));
      if (!_tc_tm_is_outgoing (transfer))
        _tc_tm_remove_partial (transfer);
    }

  stop_everything (self, address);
}

TcTransferManager *
tc_transfer_manager_new (TcNode *node)
{
  TcTransferManager *self = g_object_new (TC_TYPE_TRANSFER_MANAGER, NULL);

  self->node = node;
  return self;
}

static void
tc_transfer_manager_dispose (GObject *object)
{
  TcTransferManager *self = TC_TRANSFER_MANAGER (object);

  self->stopping = TRUE;
  g_cancellable_cancel (self->cancellable);
  g_hash_table_remove_all (self->retries);
  g_hash_table_remove_all (self->senders);
  g_hash_table_remove_all (self->receivers);

  G_OBJECT_CLASS (tc_transfer_manager_parent_class)->dispose (object);
}

static void
tc_transfer_manager_finalize (GObject *object)
{
  TcTransferManager *self = TC_TRANSFER_MANAGER (object);

  g_hash_table_unref (self->senders);
  g_hash_table_unref (self->receivers);
  g_hash_table_unref (self->retries);
  g_hash_table_unref (self->backoff);
  g_clear_object (&self->transfers);
  g_clear_object (&self->cancellable);

  G_OBJECT_CLASS (tc_transfer_manager_parent_class)->finalize (object);
}

static void
tc_transfer_manager_class_init (TcTransferManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = tc_transfer_manager_dispose;
  object_class->finalize = tc_transfer_manager_finalize;

  signals[OFFER_RECEIVED] =
    g_signal_new ("offer-received", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, TC_TYPE_TRANSFER);
}

static void
remove_source (gpointer data)
{
  g_source_remove (GPOINTER_TO_UINT (data));
}

static void
tc_transfer_manager_init (TcTransferManager *self)
{
  self->transfers = g_list_store_new (TC_TYPE_TRANSFER);
  self->senders = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->receivers = g_hash_table_new_full (NULL, NULL, NULL, g_object_unref);
  self->retries = g_hash_table_new_full (NULL, NULL, NULL, remove_source);
  self->backoff = g_hash_table_new (NULL, NULL);
  self->cancellable = g_cancellable_new ();
}
