/* tc-tor-control.h: an asynchronous client for Tor's control port
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define TC_TOR_CONTROL_ERROR (tc_tor_control_error_quark ())

typedef enum {
  TC_TOR_CONTROL_ERROR_FAILED,        /* tor answered 4xx/5xx: message is tor's text, code in the prefix */
  TC_TOR_CONTROL_ERROR_AUTH,          /* authentication refused or impossible */
  TC_TOR_CONTROL_ERROR_PROTOCOL,      /* a reply we cannot parse */
  TC_TOR_CONTROL_ERROR_CLOSED,        /* the connection dropped */
} TcTorControlError;

#define TC_TYPE_TOR_CONTROL (tc_tor_control_get_type ())

G_DECLARE_FINAL_TYPE (TcTorControl, tc_tor_control, TC, TOR_CONTROL, GObject)

/* Signals:
 *   event (const char *name, const char *line, GStrv data_lines)
 *        an asynchronous 650 event; @line is the whole first line after
 *        "650 " or "650-" (e.g. "STATUS_CLIENT NOTICE BOOTSTRAP PROGRESS=…"),
 *        @name its first word, @data_lines the lines of a multi-line event
 *        (may be NULL)
 *   closed (GError *error)
 *        the connection is gone (error NULL after tc_tor_control_close())
 *
 * Commands are queued: each is sent when the previous reply is complete, so
 * callers may issue several at once.
 */
GQuark        tc_tor_control_error_quark    (void);

/* @address: "HOST:PORT" with a literal IP, or an absolute path of a unix
 * socket, optionally prefixed "unix:". */
void          tc_tor_control_connect_async  (const char           *address,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
TcTorControl *tc_tor_control_connect_finish (GAsyncResult         *result,
                                             GError              **error);

/* PROTOCOLINFO, then AUTHENTICATE with the best method tor offers:
 * NULL, SAFECOOKIE (HMAC-SHA256 per control-spec), COOKIE, or
 * HASHEDPASSWORD when @password is not NULL. */
void          tc_tor_control_authenticate_async  (TcTorControl        *self,
                                                  const char          *password,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean      tc_tor_control_authenticate_finish (TcTorControl        *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

/* Sends one command line (without CRLF; a multi-line command such as
 * "+LOADCONF" may contain "\r\n" and must end with "\r\n."). Returns the
 * reply as a GStrv of its lines with the status code and separator removed
 * (a data block "250+key=" gives "key=" followed by its lines). A 4xx/5xx
 * reply is a TC_TOR_CONTROL_ERROR_FAILED error whose message is
 * "NNN tor's text". */
void          tc_tor_control_command_async  (TcTorControl         *self,
                                             const char           *command,
                                             GCancellable         *cancellable,
                                             GAsyncReadyCallback   callback,
                                             gpointer              user_data);
char        **tc_tor_control_command_finish (TcTorControl         *self,
                                             GAsyncResult         *result,
                                             GError              **error);

/* GETINFO of one key; returns its value (a multi-line value joined with
 * "\n"). */
void          tc_tor_control_get_info_async  (TcTorControl        *self,
                                              const char          *key,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
char         *tc_tor_control_get_info_finish (TcTorControl        *self,
                                              GAsyncResult        *result,
                                              GError             **error);

/* Helpers for the common commands (all plain wrappers of command_async). */
char         *tc_tor_control_quote          (const char           *string);

void          tc_tor_control_close          (TcTorControl         *self);
gboolean      tc_tor_control_is_closed      (TcTorControl         *self);

G_END_DECLS
