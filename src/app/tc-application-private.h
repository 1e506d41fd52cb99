/* tc-application-private.h: what the parts of TcApplication share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-application.h"
#include "tc-control.h"
#include "tc-notifier.h"
#include "tc-window.h"

G_BEGIN_DECLS

struct _TcApplication
{
  AdwApplication  parent_instance;

  char           *profile_dir;
  TcNode         *node;
  TcControl      *control;
  TcNotifier     *notifier;
  GError         *node_error;
  GSettings      *settings;

  /* Until the profile is open: the locked node, and the passphrase from
   * --passphrase-file if one was given (then no unlock window). */
  TcNode         *locked_node;
  const char     *passphrase;
  gsize           passphrase_length;
  GDestroyNotify  passphrase_wipe;
  gpointer        passphrase_data;
  GtkWidget      *unlock_window;

  /* From the command line; override the Tor mode of the settings. */
  gboolean        node_options;
  char           *opt_listen;
  char           *opt_socks;
  char           *opt_tor_control;
  char           *opt_tor_password;
  char           *opt_tor_binary;
  char           *opt_tor_config;

  /* TcContact → timeout source: "Typing…" ends even if the peer never says. */
  GHashTable     *typing_timeouts;

  guint           sigterm_source;
  guint           sigint_source;

  /* The Background portal (tc-application-background.c). */
  GCancellable   *background_cancellable;
  GDBusConnection *background_bus;
  char           *background_path;
  guint           background_response_id;
  /* A request waits for the main window to come and be mapped, or for
   * its Wayland handle; background_serial tells a cancelled one. */
  guint           background_window_timeout;
  GdkToplevel    *background_exported;
  guint           background_serial;
  gulong          close_action_handler;

  guint           holding : 1;
  guint           stopping : 1;
};

/* tc-application.c */
TcWindow *tc_application_get_main_window   (TcApplication *self);
/* Quits as Ctrl+Q does: windows go, streams are closed, tor stops. */
void      tc_application_stop              (TcApplication *self);

/* tc-application-actions.c: the app.* actions and their shortcuts. */
void      tc_application_add_actions       (TcApplication *self);

/* tc-application-background.c: asks the Background portal, inside a
 * sandbox, whenever the close action is (or becomes) "background". */
void      tc_application_background_start  (TcApplication *self);
void      tc_application_background_stop   (TcApplication *self);

G_END_DECLS
