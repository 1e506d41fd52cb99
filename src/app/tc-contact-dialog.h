/* tc-contact-dialog.h: one contact's details, connection and management
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_CONTACT_DIALOG (tc_contact_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TcContactDialog, tc_contact_dialog, TC, CONTACT_DIALOG, AdwWindow)

GtkWidget *tc_contact_dialog_new (GtkWindow *parent,
                                  TcNode    *node,
                                  TcContact *contact);

G_END_DECLS
