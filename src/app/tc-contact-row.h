/* tc-contact-row.h: one row of the contact list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gtk/gtk.h>

#include "tc-contact.h"

G_BEGIN_DECLS

#define TC_TYPE_CONTACT_ROW (tc_contact_row_get_type ())

G_DECLARE_FINAL_TYPE (TcContactRow, tc_contact_row, TC, CONTACT_ROW, GtkWidget)

GtkWidget *tc_contact_row_new                (void);
TcContact *tc_contact_row_get_item           (TcContactRow *self);
void       tc_contact_row_set_item           (TcContactRow *self,
                                              TcContact    *item);

/* The line under a contact's name, also used as the conversation's
 * subtitle: their request state, else typing, status text or presence. */
char      *tc_contact_row_describe_contact   (TcContact    *contact);
/* The contact's connection in a sentence, for the details and the row's
 * tooltip: connected, connecting, or offline with the node's last error
 * and when it tries next. */
char      *tc_contact_row_describe_connection (TcContact   *contact);

G_END_DECLS
