/* tc-store-transfers.h: file transfers in the profile's database
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-store.h"
#include "tc-transfer.h"

G_BEGIN_DECLS

/* Every transfer, oldest first. */
GPtrArray   *tc_store_load_transfers        (TcStore             *self,
                                             GError             **error);
/* Inserts or replaces; part of the open transaction like every write. */
gboolean     tc_store_save_transfer         (TcStore             *self,
                                             TcTransfer          *transfer,
                                             GError             **error);
gboolean     tc_store_delete_transfers      (TcStore             *self,
                                             const char          *peer,
                                             GError             **error);

G_END_DECLS
