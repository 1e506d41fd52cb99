/* tc-preferences-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-a11y.h"
#include "tc-preferences-window.h"

struct _TcPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  TcNode               *node;
  GSettings            *settings;

  AdwEntryRow          *name_row;
  AdwEntryRow          *profile_text_row;
  GtkLabel             *profile_error;
  GtkSwitch            *notifications_switch;
  GtkSwitch            *hide_text_switch;
  AdwComboRow          *close_row;
  AdwActionRow         *download_row;
  GtkLabel             *override_label;
  AdwComboRow          *mode_row;
  AdwEntryRow          *control_row;
  AdwEntryRow          *socks_row;
  GtkWidget            *bridges_group;
  GtkTextView          *bridges_view;
  GtkLabel             *bridges_error;
  GtkWidget            *proxy_group;
  AdwEntryRow          *proxy_row;
  GtkLabel             *proxy_error;
  GtkListBox           *blocked_list;
};

G_DEFINE_FINAL_TYPE (TcPreferencesWindow, tc_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

static const char * const tor_modes[] = { "managed", "control", "socks", NULL };
static const char * const close_actions[] = { "quit", "background", NULL };

static void
show_error (GtkLabel     *label,
            const GError *error)
{
  gtk_label_set_label (label, error ? error->message : NULL);
  gtk_widget_set_visible (GTK_WIDGET (label), error != NULL);
}

static void
profile_apply_cb (TcPreferencesWindow *self)
{
  g_autoptr(GError) error = NULL;
  const char *name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->profile_text_row));

  if (!tc_node_set_profile (self->node, name, text, &error))
    show_error (self->profile_error, error);
  else
    show_error (self->profile_error, NULL);
}

static void
bridges_apply_cb (TcPreferencesWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) split = NULL;
  g_autofree char *text = NULL;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->bridges_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  text = gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
  split = g_strsplit (text, "\n", -1);
  for (guint i = 0; split[i] != NULL; i++)
    {
      g_strstrip (split[i]);
      if (split[i][0] != '\0')
        g_ptr_array_add (lines, g_strdup (split[i]));
    }
  g_ptr_array_add (lines, NULL);

  if (!tc_node_set_bridges (self->node, (const char * const *) lines->pdata, &error))
    {
      gtk_label_set_label (self->bridges_error, error->message);
      return;
    }

  gtk_label_set_label (self->bridges_error,
                       lines->len > 1 ? _("Tor restarts with these bridges.")
                                      : _("Tor restarts without bridges."));
}

static void
proxy_apply_cb (TcPreferencesWindow *self)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->proxy_row))));

  if (!tc_node_set_proxy (self->node, uri[0] != '\0' ? uri : NULL, &error))
    show_error (self->proxy_error, error);
  else
    show_error (self->proxy_error, NULL);
}

static void
mode_changed_cb (TcPreferencesWindow *self)
{
  guint mode = adw_combo_row_get_selected (self->mode_row);

  gtk_widget_set_visible (GTK_WIDGET (self->control_row), mode == 1);
  gtk_widget_set_visible (GTK_WIDGET (self->socks_row), mode == 2);
}

static gboolean
string_to_index (GValue   *value,
                 GVariant *variant,
                 gpointer  user_data)
{
  const char * const *names = user_data;
  const char *name = g_variant_get_string (variant, NULL);

  for (guint i = 0; names[i] != NULL; i++)
    {
      if (g_str_equal (names[i], name))
        {
          g_value_set_uint (value, i);
          return TRUE;
        }
    }

  return FALSE;
}

static GVariant *
index_to_string (const GValue       *value,
                 const GVariantType *type,
                 gpointer            user_data)
{
  const char * const *names = user_data;
  guint index = g_value_get_uint (value);

  if (index >= g_strv_length ((char **) names))
    return NULL;

  return g_variant_new_string (names[index]);
}

static gboolean
folder_to_subtitle (GValue   *value,
                    GVariant *variant,
                    gpointer  user_data)
{
  const char *folder = g_variant_get_string (variant, NULL);

  if (folder[0] == '\0')
    folder = g_get_user_special_dir (G_USER_DIRECTORY_DOWNLOAD);
  if (folder == NULL)
    folder = g_get_home_dir ();

  g_value_set_string (value, folder);

  return TRUE;
}

static void
folder_chosen_cb (GtkNativeDialog     *chooser,
                  int                  response,
                  TcPreferencesWindow *self)
{
  if (response == GTK_RESPONSE_ACCEPT && self->settings != NULL)
    {
      g_autoptr(GFile) folder = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = folder ? g_file_get_path (folder) : NULL;

      if (path != NULL)
        g_settings_set_string (self->settings, "download-folder", path);
    }

  gtk_native_dialog_destroy (chooser);
  g_object_unref (chooser);
  g_object_unref (self);
}

static void
choose_download_cb (TcPreferencesWindow *self)
{
  GtkFileChooserNative *chooser;

  /* Through the file chooser portal where there is one. */
  chooser = gtk_file_chooser_native_new (_("Download Folder"), GTK_WINDOW (self),
                                         GTK_FILE_CHOOSER_ACTION_SELECT_FOLDER,
                                         _("_Select"), _("_Cancel"));
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (chooser), TRUE);
  g_signal_connect (chooser, "response", G_CALLBACK (folder_chosen_cb), g_object_ref (self));
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (chooser));
}

static gboolean
is_blocked_cb (TcContact      *contact,
               TcContactState  state,
               gpointer        user_data)
{
  return state == TC_CONTACT_STATE_BLOCKED;
}

static void
unblock_clicked_cb (GtkButton           *button,
                    TcPreferencesWindow *self)
{
  TcContact *contact = g_object_get_data (G_OBJECT (button), "tc-contact");
  g_autoptr(GError) error = NULL;

  /* Unblocking is forgetting: they may ask again. */
  if (!tc_node_remove_contact (self->node, tc_contact_get_address (contact), &error))
    adw_preferences_window_add_toast (ADW_PREFERENCES_WINDOW (self), adw_toast_new (error->message));
}

static GtkWidget *
create_blocked_row (gpointer item,
                    gpointer user_data)
{
  TcPreferencesWindow *self = user_data;
  TcContact *contact = item;
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *button = gtk_button_new_with_mnemonic (_("_Unblock"));
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), tc_contact_get_display_name (contact));
  gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
  /* GTK 4.8 would put a label before the button's own text; whom it
   * unblocks goes in the description. */
  tc_a11y_fix_button_names (button);
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION,
                                  tc_contact_get_display_name (contact), -1);
  g_object_set_data_full (G_OBJECT (button), "tc-contact", g_object_ref (contact), g_object_unref);
  g_signal_connect_object (button, "clicked", G_CALLBACK (unblock_clicked_cb), self, 0);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);

  return row;
}

static void
tc_preferences_window_setup_blocked (TcPreferencesWindow *self)
{
  GtkExpression *state = gtk_property_expression_new (TC_TYPE_CONTACT, NULL, "state");
  GtkExpression *blocked = gtk_cclosure_expression_new (G_TYPE_BOOLEAN, NULL, 1, &state,
                                                        G_CALLBACK (is_blocked_cb), NULL, NULL);
  GtkFilterListModel *model;
  GtkWidget *placeholder;

  model = gtk_filter_list_model_new (g_object_ref (tc_node_get_contacts (self->node)),
                                     GTK_FILTER (gtk_bool_filter_new (blocked)));
  gtk_list_box_bind_model (self->blocked_list, G_LIST_MODEL (model), create_blocked_row, self, NULL);
  g_object_unref (model);

  placeholder = gtk_label_new (_("Nobody is blocked"));
  gtk_widget_add_css_class (placeholder, "dim-label");
  gtk_widget_set_margin_top (placeholder, 12);
  gtk_widget_set_margin_bottom (placeholder, 12);
  gtk_list_box_set_placeholder (self->blocked_list, placeholder);
}

static void
tc_preferences_window_dispose (GObject *object)
{
  TcPreferencesWindow *self = (TcPreferencesWindow *)object;

  g_clear_object (&self->node);
  g_clear_object (&self->settings);

  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_PREFERENCES_WINDOW);

  G_OBJECT_CLASS (tc_preferences_window_parent_class)->dispose (object);
}

static void
tc_preferences_window_class_init (TcPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_preferences_window_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-preferences-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, name_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, profile_text_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, profile_error);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, notifications_switch);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, hide_text_switch);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, close_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, download_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, override_label);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, mode_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, control_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, socks_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, bridges_group);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, bridges_view);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, bridges_error);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, proxy_group);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, proxy_row);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, proxy_error);
  gtk_widget_class_bind_template_child (widget_class, TcPreferencesWindow, blocked_list);
  gtk_widget_class_bind_template_callback (widget_class, profile_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, bridges_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, proxy_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, mode_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, choose_download_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
tc_preferences_window_init (TcPreferencesWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tc_a11y_fix_button_names (GTK_WIDGET (self));
}

static void
tc_preferences_window_setup (TcPreferencesWindow *self,
                             gboolean             node_options)
{
  TcTor *tor = tc_node_get_tor (self->node);
  gboolean managed = tor != NULL && tc_tor_get_managed (tor);
  g_auto(GStrv) bridges = tc_node_dup_bridges (self->node);
  g_autofree char *bridge_text = NULL;
  g_autofree char *proxy = tc_node_dup_proxy (self->node);

  gtk_editable_set_text (GTK_EDITABLE (self->name_row), tc_node_get_name (self->node) ?: "");
  gtk_editable_set_text (GTK_EDITABLE (self->profile_text_row),
                         tc_node_get_profile_text (self->node) ?: "");

  bridge_text = bridges ? g_strjoinv ("\n", bridges) : g_strdup ("");
  gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->bridges_view), bridge_text, -1);
  gtk_editable_set_text (GTK_EDITABLE (self->proxy_row), proxy ? proxy : "");
  /* Bridges and the proxy belong to the Tor that TORChat starts. */
  gtk_widget_set_sensitive (self->bridges_group, managed);
  gtk_widget_set_sensitive (self->proxy_group, managed);
  gtk_widget_set_visible (GTK_WIDGET (self->override_label), node_options);
  tc_preferences_window_setup_blocked (self);

  if (self->settings == NULL)
    {
      gtk_widget_set_sensitive (GTK_WIDGET (self->notifications_switch), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->hide_text_switch), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->close_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->download_row), FALSE);
      gtk_widget_set_sensitive (GTK_WIDGET (self->mode_row), FALSE);
      mode_changed_cb (self);
      return;
    }

  g_settings_bind (self->settings, "notifications", self->notifications_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notification-hide-text", self->hide_text_switch, "active",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "notifications", self->hide_text_switch, "sensitive",
                   G_SETTINGS_BIND_GET);
  g_settings_bind_with_mapping (self->settings, "close-action", self->close_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, string_to_index, index_to_string,
                                (gpointer) close_actions, NULL);
  g_settings_bind_with_mapping (self->settings, "download-folder", self->download_row, "subtitle",
                                G_SETTINGS_BIND_GET, folder_to_subtitle, NULL, NULL, NULL);
  g_settings_bind_with_mapping (self->settings, "tor-mode", self->mode_row, "selected",
                                G_SETTINGS_BIND_DEFAULT, string_to_index, index_to_string,
                                (gpointer) tor_modes, NULL);
  g_settings_bind (self->settings, "tor-control-address", self->control_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  g_settings_bind (self->settings, "tor-socks-address", self->socks_row, "text",
                   G_SETTINGS_BIND_DEFAULT);
  mode_changed_cb (self);
}

GtkWidget *
tc_preferences_window_new (GtkWindow *parent,
                           TcNode    *node,
                           GSettings *settings,
                           gboolean   node_options)
{
  TcPreferencesWindow *self;

  g_return_val_if_fail (!parent || GTK_IS_WINDOW (parent), NULL);
  g_return_val_if_fail (TC_IS_NODE (node), NULL);
  g_return_val_if_fail (!settings || G_IS_SETTINGS (settings), NULL);

  self = g_object_new (TC_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       NULL);
  self->node = g_object_ref (node);
  if (settings != NULL)
    self->settings = g_object_ref (settings);
  tc_preferences_window_setup (self, node_options);

  return GTK_WIDGET (self);
}
