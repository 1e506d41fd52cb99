/* tc-control.h: the node's control socket, through which `torchat COMMAND`
 * reaches a running node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_CONTROL_INTERFACE "io.github.torchat.Control"
#define TC_CONTROL_OBJECT_PATH "/io/github/torchat/Control"

#define TC_TYPE_CONTROL (tc_control_get_type ())

G_DECLARE_FINAL_TYPE (TcControl, tc_control, TC, CONTROL, GObject)

/* Properties:
 *   node          TcNode, construct-only
 *
 * Signals:
 *   quit-requested ()  the `quit` command ran; its answer was sent. The
 *                      owner stops the node and quits.
 */

/* Listens on a peer-to-peer D-Bus socket "control" in the node's profile
 * directory (mode 0600, peers of the same user only) and runs the commands
 * of tc-commands.h that arrive there. Disposing it closes the socket. */
TcControl  *tc_control_new          (TcNode             *node,
                                     GError            **error);
TcNode     *tc_control_get_node     (TcControl          *self);

/* "<profile_dir>/control" */
char       *tc_control_dup_socket_path (const char      *profile_dir);

/* The client side: runs @argv on the node that runs on @profile_dir and
 * fills @out and @err as tc_commands_run() does. Blocks; safe to call from
 * any thread. Returns the command's exit status, or TC_EXIT_NO_NODE when no
 * node listens there. After a successful `quit`, waits (at most 15 s) until
 * the node has gone. */
int         tc_control_forward      (const char         *profile_dir,
                                     const char * const *argv,
                                     gboolean            json,
                                     const char         *stdin_text,
                                     GString            *out,
                                     GString            *err);

/* The passphrase of the node running on @profile_dir, from the client side
 * (tc-control-passphrase.c); both block, like tc_control_forward().
 *
 * tc_control_get_profile_kind() sets @kind to ENCRYPTED or PLAINTEXT.
 * tc_control_change_passphrase() changes the passphrase of an encrypted
 * profile from @old_passphrase to @new_passphrase, or, with a NULL
 * @old_passphrase, encrypts a plaintext one with @new_passphrase; the node
 * runs Argon2id in a thread and keeps serving meanwhile. The passphrases go
 * through a pipe whose end is passed over the socket, so no D-Bus message
 * (and no buffer of GDBus's) ever holds them. A line for the user goes to
 * @out on success and to @err otherwise; a wrong @old_passphrase fails and
 * changes nothing. Both return a TC_EXIT_ status, TC_EXIT_NO_NODE (and
 * nothing in @err) when no node listens on the profile. */
int         tc_control_get_profile_kind  (const char     *profile_dir,
                                          TcProfileKind  *kind,
                                          GString        *err);
int         tc_control_change_passphrase (const char     *profile_dir,
                                          const char     *old_passphrase,
                                          gsize           old_length,
                                          const char     *new_passphrase,
                                          gsize           new_length,
                                          GString        *out,
                                          GString        *err);

G_END_DECLS
