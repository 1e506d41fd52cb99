/* tc-transfer-manager.h: every file transfer of a node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-jmu.h"
#include "tc-stream.h"
#include "tc-transfer.h"

G_BEGIN_DECLS

typedef struct _TcNode TcNode;

#define TC_TYPE_TRANSFER_MANAGER (tc_transfer_manager_get_type ())

G_DECLARE_FINAL_TYPE (TcTransferManager, tc_transfer_manager, TC, TRANSFER_MANAGER, GObject)

/* Largest file a node accepts an offer for (its own limit; the wire allows
 * up to TC_FILE_MAX_SIZE). */
#define TC_TRANSFER_MAX_INCOMING G_GINT64_CONSTANT (1099511627776)  /* 1 TiB */

/* Signals:
 *   offer-received (TcTransfer *)   a contact offers a file (for the
 *                                   notifier); the transfer is in the model */
TcTransferManager *tc_transfer_manager_new         (TcNode             *node);
gboolean           tc_transfer_manager_load        (TcTransferManager  *self,
                                                    GError            **error);
/* A GListModel of TcTransfer, oldest first. */
GListModel        *tc_transfer_manager_get_model   (TcTransferManager  *self);
/* By TID; NULL if unknown. An error when two transfers share the TID
 * (peers choose incoming TIDs): then the one of @peer if given. */
TcTransfer        *tc_transfer_manager_lookup      (TcTransferManager  *self,
                                                    const char         *tid,
                                                    GError            **error);

/* Where received files land: the profile's setting, else the XDG Downloads
 * folder. */
char              *tc_transfer_manager_dup_download_dir (TcTransferManager *self);
gboolean           tc_transfer_manager_set_download_dir (TcTransferManager *self,
                                                         const char        *dir,
                                                         GError           **error);

/* User actions; errors are for the user as they are. send_file()'s
 * transfer belongs to the list of transfers. */
TcTransfer        *tc_transfer_manager_send_file   (TcTransferManager  *self,
                                                    const char         *address,
                                                    const char         *path,
                                                    GError            **error);
gboolean           tc_transfer_manager_accept      (TcTransferManager  *self,
                                                    const char         *tid,
                                                    const char         *directory,
                                                    GError            **error);
gboolean           tc_transfer_manager_decline     (TcTransferManager  *self,
                                                    const char         *tid,
                                                    GError            **error);
gboolean           tc_transfer_manager_cancel      (TcTransferManager  *self,
                                                    const char         *tid,
                                                    GError            **error);

/* Hooks for the node and its peers. */
/* A file-* JMU on the chat stream with @address. */
void               tc_transfer_manager_handle_jmu  (TcTransferManager  *self,
                                                    const char         *address,
                                                    TcJmu              *jmu);
/* The chat stream with an accepted contact is ready: what waits for it. */
void               tc_transfer_manager_peer_ready  (TcTransferManager  *self,
                                                    const char         *address);
/* An authenticated incoming "open": "file" stream. */
void               tc_transfer_manager_adopt_stream (TcTransferManager *self,
                                                     TcStream          *stream);
/* Stops every stream (the node is stopping); transfers stay resumable. */
void               tc_transfer_manager_stop_all    (TcTransferManager  *self);
/* The contact was removed or blocked: its transfers end. */
void               tc_transfer_manager_forget_peer (TcTransferManager  *self,
                                                    const char         *address);

G_END_DECLS
