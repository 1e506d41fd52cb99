/* tc-contact.h: one entry of the contact list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

#include "tc-types.h"

G_BEGIN_DECLS

#define TC_TYPE_CONTACT (tc_contact_get_type ())

G_DECLARE_FINAL_TYPE (TcContact, tc_contact, TC, CONTACT, GObject)

/* Properties (all notify only on change):
 *   address        string, construct-only, wire form
 *   nickname       string, local name given by the user (may be NULL)
 *   name           string, the peer's own profile name (may be NULL)
 *   profile-text   string, the peer's profile text (may be NULL)
 *   greeting       string, text of their contact request (may be NULL)
 *   display-name   string, read-only: nickname, else name, else short address
 *   state          TcContactState
 *   presence       TcPresence (TC_PRESENCE_OFFLINE when no stream)
 *   status-text    string (may be NULL)
 *   typing         TcTyping
 *   connected      boolean, an authenticated stream is up
 *   answer-pending boolean, our accept/decline still has to reach them
 *   last-error     string, why the last connection failed (may be NULL)
 *   unread         uint, incoming messages not yet seen by the user
 *   last-activity  int64, when the newest message of the conversation was
 *                  stored here (Unix microseconds), 0 without messages
 *   next-attempt   int64, when the node tries to connect again (Unix
 *                  microseconds), 0 while it is trying or not waiting
 */
TcContact      *tc_contact_new                (const char     *address);

const char     *tc_contact_get_address        (TcContact      *self);
const char     *tc_contact_get_nickname       (TcContact      *self);
void            tc_contact_set_nickname       (TcContact      *self,
                                               const char     *nickname);
const char     *tc_contact_get_name           (TcContact      *self);
void            tc_contact_set_name           (TcContact      *self,
                                               const char     *name);
const char     *tc_contact_get_profile_text   (TcContact      *self);
void            tc_contact_set_profile_text   (TcContact      *self,
                                               const char     *text);
const char     *tc_contact_get_greeting       (TcContact      *self);
void            tc_contact_set_greeting       (TcContact      *self,
                                               const char     *greeting);
const char     *tc_contact_get_display_name   (TcContact      *self);
TcContactState  tc_contact_get_state          (TcContact      *self);
void            tc_contact_set_state          (TcContact      *self,
                                               TcContactState  state);
TcPresence      tc_contact_get_presence       (TcContact      *self);
void            tc_contact_set_presence       (TcContact      *self,
                                               TcPresence      presence);
const char     *tc_contact_get_status_text    (TcContact      *self);
void            tc_contact_set_status_text    (TcContact      *self,
                                               const char     *text);
TcTyping        tc_contact_get_typing         (TcContact      *self);
void            tc_contact_set_typing         (TcContact      *self,
                                               TcTyping        typing);
gboolean        tc_contact_get_connected      (TcContact      *self);
void            tc_contact_set_connected      (TcContact      *self,
                                               gboolean        connected);
gboolean        tc_contact_get_answer_pending (TcContact      *self);
void            tc_contact_set_answer_pending (TcContact      *self,
                                               gboolean        pending);
const char     *tc_contact_get_last_error     (TcContact      *self);
void            tc_contact_set_last_error     (TcContact      *self,
                                               const char     *error);
guint           tc_contact_get_unread         (TcContact      *self);
void            tc_contact_set_unread         (TcContact      *self,
                                               guint           unread);
gint64          tc_contact_get_last_activity  (TcContact      *self);
void            tc_contact_set_last_activity  (TcContact      *self,
                                               gint64          usec);
gint64          tc_contact_get_next_attempt   (TcContact      *self);
void            tc_contact_set_next_attempt   (TcContact      *self,
                                               gint64          usec);

G_END_DECLS
