/* tc-commands-private.h: what the command files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-commands.h"

G_BEGIN_DECLS

/* Text from peers, safe for a terminal (control characters escaped). */
void _tc_commands_append_sanitized (GString            *str,
                                    const char         *text);

/* tc-commands-transfers.c: send-file, transfers, accept-file, decline-file,
 * cancel-file, download-dir. Same contract as tc_commands_run(). */
int  _tc_commands_run_transfer     (TcNode             *node,
                                    const char         *name,
                                    const char * const *args,
                                    guint               n_args,
                                    gboolean            json,
                                    GString            *out,
                                    GString            *err);

G_END_DECLS
