/* tc-a11y.h: accessibility fixes for what GTK 4.8 gets wrong
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* GTK 4.8 names a button with a mnemonic label "_Add Add" (its label
 * property, underline and all, then its label child). Resetting the
 * property leaves the child's text, "Add". Fixes every such button under
 * @root. */
void tc_a11y_fix_button_names (GtkWidget *root);

G_END_DECLS
