/* tc-qr-dialog.h: the own address as a QR code, to be scanned from the screen
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define TC_TYPE_QR_DIALOG (tc_qr_dialog_get_type ())

G_DECLARE_FINAL_TYPE (TcQrDialog, tc_qr_dialog, TC, QR_DIALOG, AdwWindow)

GtkWidget *tc_qr_dialog_new (GtkWindow  *parent,
                             const char *address);

G_END_DECLS
