/* tc-transfer-manager-private.h: what the manager's source files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-node-private.h"
#include "tc-transfer-manager.h"

G_BEGIN_DECLS

struct _TcTransferManager
{
  GObject       parent_instance;

  TcNode       *node;
  GListStore   *transfers;
  GHashTable   *senders;      /* TcTransfer → TcFileSender */
  GHashTable   *receivers;    /* TcTransfer → TcFileReceiver */
  GHashTable   *retries;      /* TcTransfer → source id of the next offer */
  GHashTable   *backoff;      /* TcTransfer → last delay in ms */
  GCancellable *cancellable;
  gboolean      stopping;
};

const char *_tc_tm_own_address    (TcTransferManager *self);
gboolean    _tc_tm_is_outgoing     (TcTransfer        *transfer);
gboolean    _tc_tm_is_busy         (TcTransferManager *self,
                                    TcTransfer        *transfer);
/* Saves and commits; logs a failure. */
gboolean    _tc_tm_save            (TcTransferManager *self,
                                    TcTransfer        *transfer);
void        _tc_tm_set_state       (TcTransferManager *self,
                                    TcTransfer        *transfer,
                                    TcTransferState    state,
                                    const char        *error);
/* Takes @line; FALSE when no chat stream with @peer is ready. */
gboolean    _tc_tm_send_chat       (TcTransferManager *self,
                                    const char        *peer,
                                    char              *line);
TcTransfer *_tc_tm_find            (TcTransferManager *self,
                                    const char        *peer,
                                    const char        *tid,
                                    TcMessageDirection direction);
char       *_tc_tm_partial_path    (TcTransfer        *transfer);
gint64      _tc_tm_partial_offset  (TcTransfer        *transfer);
void        _tc_tm_remove_partial  (TcTransfer        *transfer);
void        _tc_tm_stop_streams    (TcTransferManager *self,
                                    TcTransfer        *transfer);
void        _tc_tm_resend          (TcTransferManager *self,
                                    TcTransfer        *transfer);
void        _tc_tm_start_hash      (TcTransferManager *self,
                                    TcTransfer        *transfer);
void        _tc_tm_emit_offer      (TcTransferManager *self,
                                    TcTransfer        *transfer);
/* Whether the transfer's folder has room for the bytes still missing. */
gboolean    _tc_tm_check_room      (TcTransfer        *transfer,
                                    GError           **error);

/* tc-transfer-manager-receive.c */
void        _tc_tm_handle_offer    (TcTransferManager *self,
                                    const char        *peer,
                                    TcJmu             *jmu);

G_END_DECLS
