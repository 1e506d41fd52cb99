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

/* A line "torchat: MESSAGE" (newlines made spaces) in @err; returns
 * @status. */
int  _tc_commands_fail             (GString            *err,
                                    int                 status,
                                    const char         *format,
                                    ...) G_GNUC_PRINTF (3, 4);

/* The address @arg stands for, or NULL with a line in @err. */
char *_tc_commands_normalize       (const char         *arg,
                                    GString            *err);

/* The texts of `send ADDRESS TEXT…` (@args from ADDRESS on): the rest of
 * the arguments as one, or with TEXT "-" every non-empty line of
 * @stdin_text. */
GStrv _tc_commands_send_texts      (const char * const *args,
                                    guint               n_args,
                                    const char         *stdin_text);

/* What `send` prints for @messages (a JSON array with --json). */
void _tc_commands_send_output      (gboolean            json,
                                    GPtrArray          *messages,
                                    GString            *out);

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
