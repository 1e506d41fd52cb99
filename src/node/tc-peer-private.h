/* tc-peer-private.h: what the files of TcPeer share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-jmu.h"
#include "tc-peer.h"

G_BEGIN_DECLS

/* Quick retries after "offline", see tc-peer-connect.c. */
#define TC_PEER_QUICK_RETRIES 3

struct _TcPeer
{
  GObject        parent_instance;

  TcPeerHost    *host;
  TcStore       *store;
  TcIdentity    *identity;
  TcAdmission   *admission;
  char          *address;
  char          *redacted;

  GPtrArray     *streams;        /* every stream to this address */
  TcStream      *active;         /* the ready one, if any */
  GCancellable  *connecting;
  gint64         retry_due;     /* monotonic µs of the next retry, 0: none */
  gint64         retry_second;  /* the second whose retry slot it holds */
  guint          backoff_ms;
  guint          quick_retries;  /* left until a stream is ready again */
  gint64         fresh_since;    /* first quick retry while our onion was new */

  /* What one read from the active stream brought, acted on at batch-done,
   * once the store has committed. */
  GPtrArray     *new_messages;
  GPtrArray     *receipts_due;
  GPtrArray     *receipts_received;  /* ids, applied as a set at batch-done */
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

/* tc-peer.c */
TcContact  *_tc_peer_get_contact           (TcPeer       *self);
const char *_tc_peer_own_address           (TcPeer       *self);
gboolean    _tc_peer_wants_stream          (TcPeer       *self);
gboolean    _tc_peer_save_contact          (TcPeer       *self,
                                            TcContact    *contact);
void        _tc_peer_track_stream          (TcPeer       *self,
                                            TcStream     *stream);
void        _tc_peer_emit_message_received (TcPeer       *self,
                                            TcContact    *contact,
                                            TcMessage    *message);

/* tc-peer-delivery.c */
void        _tc_peer_send_outbox           (TcPeer       *self);
void        _tc_peer_handle_message        (TcPeer       *self,
                                            TcJmu        *jmu);
void        _tc_peer_handle_receipt        (TcPeer       *self,
                                            TcJmu        *jmu);
void        _tc_peer_batch_done_cb         (TcStream     *stream,
                                            TcPeer       *self);
/* Commits what the batches of a burst wrote, then sends their receipts. */
void        _tc_peer_finish_burst          (TcPeer       *self);

/* tc-peer-connect.c */
void        _tc_peer_set_next_attempt      (TcPeer       *self,
                                            gint64        usec);
void        _tc_peer_cancel_retry          (TcPeer       *self);
void        _tc_peer_schedule_retry        (TcPeer       *self,
                                            const GError *error);

G_END_DECLS
