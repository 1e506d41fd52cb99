/* tc-store-private.h: what only the store's tests may call
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-store.h"

G_BEGIN_DECLS

/* Runs raw SQL on the store's connection, outside the transaction rules. */
gboolean _tc_store_exec (TcStore     *self,
                         const char  *sql,
                         GError     **error);

G_END_DECLS
