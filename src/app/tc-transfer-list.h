/* tc-transfer-list.h: the file transfers with one contact, or all of them
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_TRANSFER_LIST (tc_transfer_list_get_type ())

G_DECLARE_FINAL_TYPE (TcTransferList, tc_transfer_list, TC, TRANSFER_LIST, GtkWidget)

/* Properties:
 *   node   TcNode: whose transfers
 *   peer   string: only those with this address; NULL for all
 *   empty  boolean, read-only: no transfer to show
 * The list is hidden while empty. */
GtkWidget  *tc_transfer_list_new      (void);
void        tc_transfer_list_set_node (TcTransferList *self,
                                       TcNode         *node);
void        tc_transfer_list_set_peer (TcTransferList *self,
                                       const char     *peer);
const char *tc_transfer_list_get_peer (TcTransferList *self);
gboolean    tc_transfer_list_is_empty (TcTransferList *self);

G_END_DECLS
