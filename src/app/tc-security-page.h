/* tc-security-page.h: the Security page of Preferences: change the
 * profile's passphrase, or encrypt a plaintext profile
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_SECURITY_PAGE (tc_security_page_get_type ())

G_DECLARE_FINAL_TYPE (TcSecurityPage, tc_security_page, TC, SECURITY_PAGE, AdwPreferencesPage)

GtkWidget *tc_security_page_new (TcNode     *node,
                                 const char *profile_dir);

G_END_DECLS
