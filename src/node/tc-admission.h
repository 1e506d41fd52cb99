/* tc-admission.h: which connections a node takes, and how fast strangers
 * may talk to it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-stream.h"

G_BEGIN_DECLS

#define TC_TYPE_ADMISSION (tc_admission_get_type ())

G_DECLARE_FINAL_TYPE (TcAdmission, tc_admission, TC, ADMISSION, GObject)

/* The node's defaults. */
#define TC_ADMISSION_MAX_HANDSHAKES 64     /* receiver streams not yet authenticated */
#define TC_ADMISSION_MAX_STREAMS 512       /* chat streams, all peers together */
#define TC_ADMISSION_MAX_PER_PEER 4        /* chat streams to one address */
/* JMUs shared by every peer that is not an accepted contact, on top of
 * each stream's own limit: many strangers together must not be able to
 * flood the node either. */
#define TC_ADMISSION_RATE_BURST 5000.0
#define TC_ADMISSION_RATE_PER_SECOND 1000.0

/* Every refusal fails the stream with resource-constraint (and a text that
 * says which limit) and returns FALSE. */
TcAdmission *tc_admission_new                (void);
void         tc_admission_set_limits         (TcAdmission *self,
                                              guint        max_handshakes,
                                              guint        max_streams,
                                              guint        max_per_peer);
/* The strangers' budget: @burst JMUs at once, refilled at @per_second. */
void         tc_admission_set_rate           (TcAdmission *self,
                                              double       burst,
                                              double       per_second);

/* A receiver stream that has just connected: kept until it authenticates
 * or closes. */
gboolean     tc_admission_admit_handshake    (TcAdmission *self,
                                              TcStream    *stream);
guint        tc_admission_get_n_handshakes   (TcAdmission *self);
/* Fails every stream still in its handshake with @condition. */
void         tc_admission_fail_handshakes    (TcAdmission *self,
                                              TcCondition  condition);

/* An authenticated chat stream, against the limit of all chat streams. */
gboolean     tc_admission_admit_stream       (TcAdmission *self,
                                              TcStream    *stream);
/* One more chat stream to a peer that has @n_streams already. */
gboolean     tc_admission_admit_peer_stream  (TcAdmission *self,
                                              TcStream    *stream,
                                              guint        n_streams);
/* The chat streams counted against the limit: a peer adds every stream it
 * holds and removes it when it lets it go. */
void         tc_admission_add_stream         (TcAdmission *self,
                                              TcStream    *stream);
void         tc_admission_remove_stream      (TcAdmission *self,
                                              TcStream    *stream);
guint        tc_admission_get_n_streams      (TcAdmission *self);

/* One JMU from the strangers' budget; FALSE when it is spent. */
gboolean     tc_admission_take_token         (TcAdmission *self);

G_END_DECLS
