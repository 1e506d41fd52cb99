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
/* Node options from the command line (any may be NULL); they override the
 * Tor mode chosen in Preferences. Before the application runs. */
void          tc_application_set_node_options (TcApplication *self,
                                               const char    *listen,
                                               const char    *socks,
                                               const char    *tor_control,
                                               const char    *tor_password,
                                               const char    *tor_binary,
                                               const char    *tor_config);
gboolean      tc_application_get_node_options (TcApplication *self);
void          tc_application_set_passphrase   (TcApplication  *self,
                                               const char     *passphrase,
                                               gsize           length,
                                               GDestroyNotify  wipe,
                                               gpointer        wipe_data);
/* NULL when the schema is not installed. */
GSettings    *tc_application_get_settings (TcApplication *self);
/* NULL until startup, and when the profile could not be opened. */
TcNode       *tc_application_get_node    (TcApplication *self);

G_END_DECLS
