/* tc-notifier.h: desktop notifications for messages and contact requests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_NOTIFIER (tc_notifier_get_type ())

G_DECLARE_FINAL_TYPE (TcNotifier, tc_notifier, TC, NOTIFIER, GObject)

/* Notifies unless the conversation is in view in a focused window of
 * @application. Clicking a notification activates "app.open-conversation"
 * with the address. @settings (may be NULL): the "notifications" and
 * "notification-hide-text" keys. The D-Bus calls run on a worker thread. */
TcNotifier *tc_notifier_new       (GtkApplication *application,
                                   TcNode         *node,
                                   GSettings      *settings);
/* Closes the notification for @address, once its conversation is seen. */
void        tc_notifier_withdraw  (TcNotifier     *self,
                                   const char     *address);

G_END_DECLS
