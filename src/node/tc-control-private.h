/* tc-control-private.h: shared by tc-control.c and tc-control-passphrase.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-control.h"

G_BEGIN_DECLS

char            *_tc_control_dup_dbus_address  (const char            *socket_path,
                                                GError               **error);
/* A connection to the node on @profile_dir, or NULL with @status set and
 * the reason in @err (TC_EXIT_NO_NODE when nothing listens there). */
GDBusConnection *_tc_control_connect           (const char            *profile_dir,
                                                GString               *err,
                                                int                   *status);
/* Serves GetProfileKind and ChangePassphrase. */
void             _tc_control_passphrase_method (TcNode                *node,
                                                const char            *method_name,
                                                GDBusMethodInvocation *invocation);

G_END_DECLS
