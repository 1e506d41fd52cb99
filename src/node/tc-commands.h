/* tc-commands.h: the commands a script can run against a node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-node.h"

G_BEGIN_DECLS

/* Exit status of `torchat COMMAND`. */
typedef enum {
  TC_EXIT_OK      = 0,
  TC_EXIT_FAILED  = 1,  /* the command failed; the reason is on stderr */
  TC_EXIT_USAGE   = 2,
  TC_EXIT_NO_NODE = 3,  /* no node runs on the profile */
} TcExitStatus;

/* Checks the command's name and its number of arguments without a node, so
 * that the client reports usage errors even when no node runs. Returns
 * TC_EXIT_OK or TC_EXIT_USAGE (with a line in @err). */
int         tc_commands_check         (const char * const *argv,
                                       GString            *err);

/* A copy of @argv whose file and folder arguments (send-file PATH,
 * accept-file DIR, download-dir DIR) are absolute, taken from the client's
 * working directory: the node runs elsewhere. */
char      **tc_commands_resolve_paths (const char * const *argv);

/* Whether @argv reads standard input (its text argument is "-"). */
gboolean    tc_commands_wants_stdin   (const char * const *argv);

/* Runs one command against @node. @out receives what goes to standard
 * output, @err what goes to standard error: whole lines, each already
 * prefixed with "torchat: ". *quit is set when the command asks the node to
 * stop. Returns the exit status. */
int         tc_commands_run           (TcNode             *node,
                                       const char * const *argv,
                                       gboolean            json,
                                       const char         *stdin_text,
                                       GString            *out,
                                       GString            *err,
                                       gboolean           *quit);

/* The same without blocking the main loop: `send` stores and writes its
 * messages in slices (tc_node_send_messages_async()) and completes when
 * the last is stored; every other command completes at once. */
void        tc_commands_run_async     (TcNode             *node,
                                       const char * const *argv,
                                       gboolean            json,
                                       const char         *stdin_text,
                                       GAsyncReadyCallback callback,
                                       gpointer            user_data);
/* Appends the command's output to @out and @err; returns its status. */
int         tc_commands_run_finish    (GAsyncResult       *result,
                                       GString            *out,
                                       GString            *err,
                                       gboolean           *quit);

G_END_DECLS
