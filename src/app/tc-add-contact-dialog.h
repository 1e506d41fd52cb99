/* tc-add-contact-dialog.h: asks for an address, a nickname and a greeting
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_ADD_CONTACT_DIALOG (tc_add_contact_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TcAddContactDialog, tc_add_contact_dialog, TC, ADD_CONTACT_DIALOG, AdwWindow)

/* Signals:
 *   contact-added (TcContact *contact): the node accepted it; the dialog
 *                 closes right after.
 */
TcAddContactDialog *tc_add_contact_dialog_new (GtkWindow *parent,
                                               TcNode    *node);

G_END_DECLS
