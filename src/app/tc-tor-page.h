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
 *   stuck          boolean, read-only: Tor failed, stopped before it ever
 *                  got through, or did not get through (again) within
 *                  "patience" seconds; the page then says what to try
 *   patience       uint, seconds: TC_TOR_PAGE_PATIENCE, or the
 *                  TORCHAT_TOR_PATIENCE environment variable (for tests)
 *
 * The "Tor Settings…" button activates "app.preferences" with "tor"; the
 * "Continue" button "win.hide-tor-page". */
#define TC_TOR_PAGE_PATIENCE 60

GtkWidget  *tc_tor_page_new          (void);
TcTor      *tc_tor_page_get_tor      (TcTorPage *self);
void        tc_tor_page_set_tor      (TcTorPage *self,
                                      TcTor     *tor);
gboolean    tc_tor_page_get_stuck    (TcTorPage *self);
guint       tc_tor_page_get_patience (TcTorPage *self);
void        tc_tor_page_set_patience (TcTorPage *self,
                                      guint      seconds);
/* The state in words, for the page's title and the sidebar's banner. */
const char *tc_tor_page_describe     (TcTor     *tor);
/* The same for the page's Tor, knowing its history: after Tor stopped it
 * says "restarting" until Tor is through again; with the progress while
 * bootstrapping ("Connecting to Tor… 45 %"). */
char       *tc_tor_page_dup_status   (TcTorPage *self);

G_END_DECLS
