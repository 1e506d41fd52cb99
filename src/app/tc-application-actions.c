/* tc-application-actions.c: the application's actions (app.*)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-application-private.h"
#include "tc-preferences-window.h"
#include "tc-qr-dialog.h"
#include "tc-security-page.h"

static void
quit_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  tc_application_stop (TC_APPLICATION (user_data));
}

static void
about_action (GSimpleAction *action,
              GVariant      *param,
              gpointer       user_data)
{
  TcApplication *self = user_data;
  static const char *developers[] = { "The TORChat developers", NULL };
  GtkWindow *window;

  window = gtk_application_get_active_window (GTK_APPLICATION (self));
  adw_show_about_window (window,
                         "application-name", _("TORChat"),
                         "application-icon", APP_ID,
                         "developer-name", _("The TORChat developers"),
                         "developers", developers,
                         "version", PACKAGE_VERSION,
                         "comments", _("Chat privately over Tor, without servers: every user runs their own onion service."),
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "translator-credits", _("translator-credits"),
                         NULL);
}

static void
help_action (GSimpleAction *action,
             GVariant      *param,
             gpointer       user_data)
{
  TcApplication *self = user_data;

  gtk_show_uri (gtk_application_get_active_window (GTK_APPLICATION (self)),
                "help:torchat", GDK_CURRENT_TIME);
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *param,
                    gpointer       user_data)
{
  TcApplication *self = user_data;
  GtkWidget *window;

  if (self->node == NULL)
    return;

  window = tc_preferences_window_new (GTK_WINDOW (tc_application_get_main_window (self)),
                                      self->node, self->settings, self->node_options);
  adw_preferences_window_add (ADW_PREFERENCES_WINDOW (window),
                              ADW_PREFERENCES_PAGE (tc_security_page_new (self->node,
                                                                          self->profile_dir)));
  adw_preferences_window_set_visible_page_name (ADW_PREFERENCES_WINDOW (window),
                                                g_variant_get_string (param, NULL));
  gtk_window_present (GTK_WINDOW (window));
}

static void
open_conversation_action (GSimpleAction *action,
                          GVariant      *param,
                          gpointer       user_data)
{
  TcApplication *self = user_data;
  TcWindow *window;

  g_application_activate (G_APPLICATION (self));

  window = tc_application_get_main_window (self);
  if (window != NULL)
    tc_window_select_address (window, g_variant_get_string (param, NULL));
}

/* The own address as a QR code, for a friend to scan from the screen. */
static void
show_address_qr_action (GSimpleAction *action,
                        GVariant      *param,
                        gpointer       user_data)
{
  TcApplication *self = user_data;
  GtkWidget *dialog;

  if (self->node == NULL || tc_node_get_address (self->node) == NULL)
    return;

  dialog = tc_qr_dialog_new (GTK_WINDOW (tc_application_get_main_window (self)),
                             tc_node_get_address (self->node));
  gtk_window_present (GTK_WINDOW (dialog));
}

void
tc_application_add_actions (TcApplication *self)
{
  static const GActionEntry entries[] = {
    { "quit", quit_action },
    { "about", about_action },
    { "help", help_action },
    { "open-conversation", open_conversation_action, "s" },
    { "preferences", preferences_action, "s" },
    { "show-address-qr", show_address_qr_action },
  };
  static const char *preferences_accels[] = { "<Primary>comma", NULL };
  static const char *quit_accels[] = { "<Primary>q", NULL };
  static const char *help_accels[] = { "F1", NULL };
  static const char *close_accels[] = { "<Primary>w", NULL };

  g_action_map_add_action_entries (G_ACTION_MAP (self), entries, G_N_ELEMENTS (entries), self);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.help", help_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "window.close", close_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (self), "app.preferences::general",
                                         preferences_accels);
}
