/* tc-tor-private.h: what the files of TcTor share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-tor-control.h"
#include "tc-tor.h"

G_BEGIN_DECLS

struct _TcTor
{
  GObject        parent_instance;

  gboolean       managed;
  char          *state_dir;
  char          *tor_binary;
  char          *extra_torrc;
  char          *control_address;
  char          *password;
  char         **bridges;
  char          *proxy;

  /* One run: a process (managed) and a control connection. */
  GCancellable  *cancellable;
  GSubprocess   *process;
  TcTorControl  *control;
  guint          port_poll_source;
  gint64         port_poll_deadline;
  guint          restart_source;
  guint          backoff_ms;

  TcTorState     state;
  guint          progress;
  char          *summary;
  char          *socks_address;
  gboolean       reachable;
  gboolean       published;
  char          *last_error;
  GQueue         log;

  TcIdentity    *identity;
  guint          local_port;
};

enum {
  PROP_0,
  PROP_STATE,
  PROP_BOOTSTRAP_PROGRESS,
  PROP_BOOTSTRAP_SUMMARY,
  PROP_SOCKS_ADDRESS,
  PROP_REACHABLE,
  PROP_ONION_PUBLISHED,
  PROP_LAST_ERROR,
  PROP_MANAGED,
  N_PROPS
};

void     _tc_tor_set_string_prop (TcTor       *self,
                                  char       **field,
                                  const char  *value,
                                  guint        prop);
void     _tc_tor_set_bool_prop   (TcTor       *self,
                                  gboolean    *field,
                                  gboolean     value,
                                  guint        prop);
void     _tc_tor_set_state       (TcTor       *self,
                                  TcTorState   state);
void     _tc_tor_set_progress    (TcTor       *self,
                                  guint        progress,
                                  const char  *summary);
void     _tc_tor_add_log_line    (TcTor       *self,
                                  const char  *line);

/* tc-tor-events.c */
void     _tc_tor_event_cb        (TcTorControl  *control,
                                  const char    *name,
                                  const char    *line,
                                  char         **data_lines,
                                  TcTor         *self);
void     _tc_tor_bootstrap_phase_cb (GObject      *object,
                                     GAsyncResult *result,
                                     gpointer      user_data);

/* tc-tor-torrc.c */
gboolean _tc_tor_write_torrc     (TcTor       *self,
                                  GError     **error);

/* tc-tor-publish.c */
void     _tc_tor_publish_now     (TcTor       *self);

G_END_DECLS
