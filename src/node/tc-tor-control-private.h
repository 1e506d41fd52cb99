/* tc-tor-control-private.h: what the files of TcTorControl share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-tor-control.h"

G_BEGIN_DECLS

/* How a line of a reply or event arrived: its separator, or part of a data
 * block. get_info needs this to tell "key=" + data from "key=" empty. */
typedef enum {
  LINE_MID = '-',
  LINE_DATA_START = '+',
  LINE_END = ' ',
  LINE_DATA = 'd',
} LineKind;

typedef struct {
  guint       code;
  GPtrArray  *lines;
  GByteArray *kinds;
} Reply;

/* Every command is treated as a secret: ADD_ONION carries the onion
 * service's private key, AUTHENTICATE the password or cookie. Each copy of
 * one (the queued string, the output buffer, the buffer being written) is
 * wiped as soon as it is not needed, and never left behind by a realloc. */
typedef struct {
  char         *command;        /* wiped and freed once it is in outbuf */
  char         *key;            /* GETINFO only */
  GCancellable *cancellable;
  gulong        cancel_id;
  gboolean      sent;
  gboolean      returned;       /* cancelled while in flight: its reply is dropped */
} Pending;

typedef enum {
  DATA_NONE,
  DATA_REPLY,
  DATA_EVENT,
} DataTarget;

struct _TcTorControl
{
  GObject       parent_instance;

  GIOStream    *io;
  GInputStream *input;
  GOutputStream *output;
  GCancellable *cancellable;
  GMainContext *context;

  GByteArray   *inbuf;
  GString      *outbuf;
  gboolean      writing;

  GQueue        pending;        /* of GTask; the head is in flight once sent */
  Reply        *reply;          /* being received */
  Reply        *event;          /* being received */
  DataTarget    data_target;

  gboolean      closed;
};

void         _tc_tor_control_reply_free           (gpointer      data);
const char  *_tc_tor_control_reply_last_line      (Reply        *reply);
char       **_tc_tor_control_reply_dup_lines      (Reply        *reply,
                                                   guint         first,
                                                   guint         end);
void         _tc_tor_control_process_input        (TcTorControl *self);

void         _tc_tor_control_close_with_new_error (TcTorControl *self,
                                                   int           code,
                                                   const char   *format,
                                                   ...) G_GNUC_PRINTF (3, 4);
void         _tc_tor_control_finish_reply         (TcTorControl *self,
                                                   Reply        *reply);
void         _tc_tor_control_emit_event           (TcTorControl *self,
                                                   Reply        *event);

G_END_DECLS
