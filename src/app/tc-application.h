/* tc-application.h: the desktop application around one node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <adwaita.h>

#include "tc-node.h"

G_BEGIN_DECLS

#define TC_TYPE_APPLICATION (tc_application_get_type ())

G_DECLARE_FINAL_TYPE (TcApplication, tc_application, TC, APPLICATION, AdwApplication)

/* @profile_dir: the profile to run, or NULL for the default one. */
GApplication *tc_application_new         (const char    *profile_dir);
const char   *tc_application_get_profile_dir (TcApplication *self);
/* NULL until startup, and when the profile could not be opened. */
TcNode       *tc_application_get_node    (TcApplication *self);

G_END_DECLS
