/* tc-transfer-row.h: one file transfer, as a row: offer, progress, result
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_TRANSFER_ROW (tc_transfer_row_get_type ())

G_DECLARE_FINAL_TYPE (TcTransferRow, tc_transfer_row, TC, TRANSFER_ROW, GtkWidget)

/* Images up to this size get a thumbnail once received or sent. */
#define TC_TRANSFER_THUMBNAIL_MAX_BYTES (16 * 1024 * 1024)

GtkWidget  *tc_transfer_row_new          (TcNode     *node,
                                          TcTransfer *transfer);
TcTransfer *tc_transfer_row_get_transfer (TcTransferRow *self);

/* "1.2 MB of 5.0 MB · 300 kB/s · 10 seconds left" and the like. */
char       *tc_transfer_row_format_detail (TcTransfer *transfer);

G_END_DECLS
