/* tc-tor-page.h: how far Tor has come, and what to try when it does not
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tc-tor.h"

G_BEGIN_DECLS

#define TC_TYPE_TOR_PAGE (tc_tor_page_get_type ())

G_DECLARE_FINAL_TYPE (TcTorPage, tc_tor_page, TC, TOR_PAGE, GtkWidget)

/* Properties:
 *   tor            TcTor (may be NULL)
 *   stuck          boolean, read-only: Tor failed, or did not get through
 *                  within TC_TOR_PAGE_PATIENCE seconds
 *
 * The "Tor Settings…" button activates "app.preferences" with "tor"; the
 * "Continue" button "win.hide-tor-page". */
#define TC_TOR_PAGE_PATIENCE 60

GtkWidget  *tc_tor_page_new          (void);
TcTor      *tc_tor_page_get_tor      (TcTorPage *self);
void        tc_tor_page_set_tor      (TcTorPage *self,
                                      TcTor     *tor);
gboolean    tc_tor_page_get_stuck    (TcTorPage *self);
/* The state in words, for the page's title and the sidebar's banner. */
const char *tc_tor_page_describe     (TcTor     *tor);

G_END_DECLS
