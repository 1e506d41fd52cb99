/* tc-qr-code.h: a text as a QR code, drawn as a paintable
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define TC_TYPE_QR_CODE (tc_qr_code_get_type ())

G_DECLARE_FINAL_TYPE (TcQrCode, tc_qr_code, TC, QR_CODE, GObject)

/* Encodes @text (UTF-8, stored as its bytes) with libqrencode at error
 * correction level M. The paintable draws dark modules on white, with the
 * four-module quiet zone, in whole device pixels per module where the size
 * allows, so that a camera can read it from the screen in any theme. */
TcQrCode   *tc_qr_code_new         (const char  *text,
                                    GError     **error);
const char *tc_qr_code_get_text    (TcQrCode    *self);
/* The modules across one side (21 for version 1, 4 more per version). */
int         tc_qr_code_get_size    (TcQrCode    *self);
gboolean    tc_qr_code_get_module  (TcQrCode    *self,
                                    int          x,
                                    int          y);

G_END_DECLS
