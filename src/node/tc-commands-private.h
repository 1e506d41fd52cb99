/* tc-commands-private.h: what the command files share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

#include "tc-commands.h"

G_BEGIN_DECLS

typedef struct
{
  TcNode     *node;
  gboolean    json;
  const char *stdin_text;
  GString    *out;
  GString    *err;
  gboolean   *quit;
} Context;

typedef gboolean (*ContactAction) (TcNode      *node,
                                   const char  *address,
                                   GError     **error);

/* tc-commands.c: helpers of the command functions */
char *_tc_commands_shorten_argument    (const char         *arg);
char *_tc_commands_join_rest           (const char * const *args,
                                        guint               from,
                                        guint               n_args);
char *_tc_commands_normalize_argument  (Context            *ctx,
                                        const char         *arg);
void  _tc_commands_append_json         (Context            *ctx,
                                        JsonNode           *root);
void  _tc_commands_add_nullable_string (JsonBuilder        *builder,
                                        const char         *name,
                                        const char         *value);
void  _tc_commands_build_message       (JsonBuilder        *builder,
                                        TcMessage          *message);

/* tc-commands-contacts.c: add, accept, decline, block, remove, retry,
 * contacts, history, search; the CommandFunc of tc-commands.c. */
int   _tc_commands_add                 (Context            *ctx,
                                        const char * const *args,
                                        guint               n_args,
                                        ContactAction       action);
int   _tc_commands_contact_action      (Context            *ctx,
                                        const char * const *args,
                                        guint               n_args,
                                        ContactAction       action);
int   _tc_commands_contacts            (Context            *ctx,
                                        const char * const *args,
                                        guint               n_args,
                                        ContactAction       action);
int   _tc_commands_history             (Context            *ctx,
                                        const char * const *args,
                                        guint               n_args,
                                        ContactAction       action);
int   _tc_commands_search              (Context            *ctx,
                                        const char * const *args,
                                        guint               n_args,
                                        ContactAction       action);

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
