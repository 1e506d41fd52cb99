/* tc-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-a11y.h"
#include "tc-add-contact-dialog.h"
#include "tc-contact-row.h"
#include "tc-message-row.h"
#include "tc-tor-page.h"
#include "tc-window-private.h"

G_DEFINE_FINAL_TYPE (TcWindow, tc_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  PROP_0,
  PROP_NODE,
  PROP_CONTACT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

void
_tc_window_mark_read (TcWindow *self)
{
  TcStore *store = tc_node_get_store (self->node);
  g_autoptr(GError) error = NULL;

  if (self->contact == NULL || !gtk_window_is_active (GTK_WINDOW (self)))
    return;

  /* While the store cannot write, the count it keeps stays: marking it
   * read again and again on every message would only fail again. Done
   * once it stores again (tc-window-sidebar.c). */
  if (store != NULL && tc_store_get_failure (store) != NULL)
    return;

  /* Folded on the contact list, the conversation is not on screen. */
  if (adw_leaflet_get_folded (self->leaflet) &&
      adw_leaflet_get_visible_child (self->leaflet) != self->content)
    return;

  /* Stored, so that the count survives a restart. */
  if (!tc_node_mark_read (self->node, tc_contact_get_address (self->contact), &error))
    g_warning ("Could not store that the conversation was read: %s", error->message);
}

/* An address wrapped over lines must not gain a hyphen it does not have. */
static void
set_no_hyphens (GtkLabel *label)
{
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_insert_hyphens_new (FALSE));
  gtk_label_set_attributes (label, attrs);
  pango_attr_list_unref (attrs);
}

static void
tc_window_update_own_address (TcWindow *self)
{
  const char *address = tc_node_get_address (self->node);

  gtk_label_set_label (self->own_address_label, address);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->own_address_label), address);
  gtk_label_set_label (self->empty_address_label, address);
}

static void
tc_window_update_presence_action (TcWindow *self)
{
  GAction *action = g_action_map_lookup_action (G_ACTION_MAP (self), "presence");
  const char *presence = tc_presence_to_string (tc_node_get_presence (self->node));

  if (action != NULL && presence != NULL)
    g_simple_action_set_state (G_SIMPLE_ACTION (action), g_variant_new_string (presence));
}

static void
tc_window_update_contact_state (TcWindow *self)
{
  g_autofree char *subtitle = NULL;
  g_autofree char *request = NULL;
  const char *notice = NULL;
  const char *greeting = NULL;
  TcContactState state = TC_CONTACT_STATE_DECLINED;
  gboolean can_write;
  GAction *action;

  if (self->contact != NULL)
    {
      state = tc_contact_get_state (self->contact);
      subtitle = tc_contact_row_describe_contact (self->contact);
      greeting = tc_contact_get_greeting (self->contact);
      /* Translators: %s is the name of a person asking to be a contact */
      request = g_strdup_printf (_("%s wants to be your contact"),
                                 tc_contact_get_display_name (self->contact));

      switch (state)
        {
        case TC_CONTACT_STATE_REQUESTED:
          notice = _("They have not accepted your request yet. Messages are delivered once they do.");
          break;
        case TC_CONTACT_STATE_DECLINED:
          notice = _("This person is not your contact: messages cannot be sent.");
          break;
        case TC_CONTACT_STATE_BLOCKED:
          notice = _("You blocked this person: they cannot reach you.");
          break;
        case TC_CONTACT_STATE_PENDING:
        case TC_CONTACT_STATE_ACCEPTED:
        default:
          break;
        }
    }

  adw_window_title_set_subtitle (self->conversation_title, subtitle);
  gtk_widget_set_visible (self->contact_menu_button, self->contact != NULL);

  gtk_label_set_label (self->request_label, request);
  gtk_label_set_label (self->greeting_label, greeting);
  gtk_widget_set_visible (GTK_WIDGET (self->greeting_label), greeting != NULL && greeting[0] != '\0');
  gtk_revealer_set_reveal_child (self->request_revealer,
                                 self->contact != NULL && state == TC_CONTACT_STATE_PENDING);

  gtk_label_set_label (self->conversation_notice, notice);
  gtk_widget_set_visible (GTK_WIDGET (self->conversation_notice), notice != NULL);

  can_write = self->contact != NULL &&
              (state == TC_CONTACT_STATE_ACCEPTED || state == TC_CONTACT_STATE_REQUESTED);
  gtk_widget_set_sensitive (GTK_WIDGET (self->composer), can_write);
  gtk_widget_set_sensitive (self->send_button,
                            can_write && gtk_text_buffer_get_char_count (gtk_text_view_get_buffer (self->composer)) > 0);

  action = g_action_map_lookup_action (G_ACTION_MAP (self->contact_actions), "accept");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               self->contact != NULL && state == TC_CONTACT_STATE_PENDING);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->contact_actions), "decline");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               self->contact != NULL && state == TC_CONTACT_STATE_PENDING);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->contact_actions), "block");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action),
                               self->contact != NULL && state != TC_CONTACT_STATE_BLOCKED);
  action = g_action_map_lookup_action (G_ACTION_MAP (self->contact_actions), "remove");
  g_simple_action_set_enabled (G_SIMPLE_ACTION (action), self->contact != NULL);
}

static void
contact_notify_cb (TcWindow   *self,
                   GParamSpec *pspec,
                   TcContact  *contact)
{
  if (g_str_equal (pspec->name, "unread"))
    {
      if (tc_contact_get_unread (contact) > 0)
        _tc_window_mark_read (self);
      return;
    }

  tc_window_update_contact_state (self);
}

void
_tc_window_update_main_page (TcWindow *self)
{
  TcTor *tor = tc_node_get_tor (self->node);
  guint n_contacts = g_list_model_get_n_items (tc_node_get_contacts (self->node));
  TcTorState state = tor ? tc_tor_get_state (tor) : TC_TOR_STATE_READY;
  gboolean first_run;
  const char *page;

  if (state == TC_TOR_STATE_READY)
    self->tor_was_ready = TRUE;
  /* Shown because Tor was stuck, and now it is through: done. */
  if (state == TC_TOR_STATE_READY && self->tor_page_for_trouble)
    {
      self->tor_page_for_trouble = FALSE;
      self->tor_page_wanted = FALSE;
    }

  /* A new user sees how Tor is doing until it is; later, the banner in
   * the sidebar says it. */
  first_run = tor != NULL && !self->tor_was_ready && !self->tor_page_dismissed && n_contacts == 0;

  if (tor != NULL && (self->tor_page_wanted || first_run))
    page = "tor";
  else
    page = n_contacts > 0 ? "main" : "empty";
  gtk_stack_set_visible_child_name (self->main_stack, page);

  gtk_revealer_set_reveal_child (self->tor_banner,
                                 tor != NULL && (state != TC_TOR_STATE_READY || !tc_tor_get_reachable (tor)));
  if (tor != NULL)
    {
      g_autofree char *text = tc_tor_page_dup_status (self->tor_page);

      gtk_label_set_label (self->tor_banner_label, text);
    }
}

static void
tor_notify_cb (TcWindow *self)
{
  _tc_window_update_main_page (self);
}

static void
tor_page_stuck_cb (TcWindow *self)
{
  /* Stuck: the banner's words alone are not enough. */
  if (tc_tor_page_get_stuck (self->tor_page) && !self->tor_page_dismissed)
    {
      self->tor_page_wanted = TRUE;
      self->tor_page_for_trouble = TRUE;
      _tc_window_update_main_page (self);
    }
}

static void
contacts_items_changed_cb (TcWindow   *self,
                           guint       position,
                           guint       removed,
                           guint       added,
                           GListModel *model)
{
  _tc_window_update_main_page (self);
}

void
tc_window_set_contact (TcWindow  *self,
                       TcContact *contact)
{
  TcConversation *conversation = NULL;
  const char *draft = NULL;

  g_return_if_fail (TC_IS_WINDOW (self));
  g_return_if_fail (contact == NULL || TC_IS_CONTACT (contact));

  if (self->contact == contact)
    return;

  if (self->contact != NULL)
    {
      g_autofree char *text = _tc_window_dup_composer_text (self);

      if (text[0] != '\0')
        g_hash_table_insert (self->drafts,
                             g_strdup (tc_contact_get_address (self->contact)),
                             g_steal_pointer (&text));
      else
        g_hash_table_remove (self->drafts, tc_contact_get_address (self->contact));

      _tc_window_send_typing (self, TC_TYPING_ACTIVE);
      g_clear_handle_id (&self->typing_pause_source, g_source_remove);
    }

  g_set_object (&self->contact, contact);
  self->typing_sent = TC_TYPING_ACTIVE;
  _tc_window_close_conversation_search (self);

  if (contact != NULL)
    {
      conversation = tc_node_get_conversation (self->node, tc_contact_get_address (contact));
      draft = g_hash_table_lookup (self->drafts, tc_contact_get_address (contact));
    }

  g_binding_group_set_source (self->contact_bindings, contact);
  g_signal_group_set_target (self->contact_signals, contact);

  if (g_set_object (&self->conversation, conversation))
    {
      self->stick_to_bottom = TRUE;
      self->scroll_target = GTK_INVALID_LIST_POSITION;
      gtk_no_selection_set_model (self->message_selection, G_LIST_MODEL (conversation));
      _tc_window_stick_for_frames (self);
    }

  self->restoring_draft = TRUE;
  _tc_window_set_composer_text (self, draft ? draft : "");
  self->restoring_draft = FALSE;

  self->updating_selection = TRUE;
  gtk_single_selection_set_selected (self->contact_selection,
                                     _tc_window_find_contact_position (self, contact));
  self->updating_selection = FALSE;
  gtk_stack_set_visible_child_name (self->content_stack, contact ? "conversation" : "none");
  if (contact == NULL)
    adw_window_title_set_title (self->conversation_title, NULL);
  tc_window_update_contact_state (self);

  /* Clicked, or opened by the window: show it and write. Walked to with
   * the arrow keys: the focus stays in the list, where the leaflet would
   * take it from (it moves the focus into the child it shows), and Enter
   * opens it (contact_activate_cb()). */
  if (contact != NULL && self->sidebar_key_source == 0)
    {
      adw_leaflet_set_visible_child (self->leaflet, self->content);
      gtk_widget_grab_focus (GTK_WIDGET (self->composer));
    }
  if (contact != NULL)
    _tc_window_mark_read (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONTACT]);
}

static void
selection_changed_cb (TcWindow           *self,
                      GParamSpec         *pspec,
                      GtkSingleSelection *selection)
{
  TcContact *selected = gtk_single_selection_get_selected_item (selection);
  guint position;

  if (self->updating_selection)
    return;

  /* A new message moves its contact in the sorted list: still open. */
  if (selected == NULL && self->contact != NULL &&
      (position = _tc_window_find_contact_position (self, self->contact)) != GTK_INVALID_LIST_POSITION)
    {
      self->updating_selection = TRUE;
      gtk_single_selection_set_selected (selection, position);
      self->updating_selection = FALSE;
      return;
    }

  tc_window_set_contact (self, selected);
}

static void
contact_activate_cb (TcWindow    *self,
                     guint        position,
                     GtkGridView *list)
{
  g_autoptr(TcContact) contact = g_list_model_get_item (G_LIST_MODEL (self->sorted_contacts), position);

  tc_window_set_contact (self, contact);
  adw_leaflet_set_visible_child (self->leaflet, self->content);
  gtk_widget_grab_focus (GTK_WIDGET (self->composer));
}

static gboolean
sidebar_key_handled_cb (gpointer data)
{
  TcWindow *self = data;

  self->sidebar_key_source = 0;
  return G_SOURCE_REMOVE;
}

/* Not until the key's release: a Tab leaves the list before it, and the
 * release goes elsewhere. */
static gboolean
contact_list_key_pressed_cb (TcWindow *self)
{
  if (self->sidebar_key_source == 0)
    self->sidebar_key_source = g_idle_add_full (G_PRIORITY_HIGH, sidebar_key_handled_cb,
                                                self, NULL);
  return GDK_EVENT_PROPAGATE;
}

static void
leaflet_visible_child_cb (TcWindow *self)
{
  /* Back on the list of a folded window: deselect, so that tapping the
   * same contact again opens it. */
  if (adw_leaflet_get_folded (self->leaflet) &&
      !adw_leaflet_get_child_transition_running (self->leaflet) &&
      adw_leaflet_get_visible_child (self->leaflet) == self->sidebar)
    tc_window_set_contact (self, NULL);

  _tc_window_mark_read (self);
}

static void
node_address_cb (TcWindow *self)
{
  tc_window_update_own_address (self);
}

static void
node_presence_cb (TcWindow *self)
{
  tc_window_update_presence_action (self);
}

static void
contact_request_cb (TcWindow  *self,
                    TcContact *contact,
                    TcNode    *node)
{
  g_autofree char *title = NULL;
  AdwToast *toast;

  /* Translators: %s is the name of a person asking to be a contact */
  title = g_strdup_printf (_("%s wants to be your contact"), tc_contact_get_display_name (contact));
  toast = adw_toast_new (title);
  adw_toast_set_button_label (toast, _("_View"));
  adw_toast_set_action_name (toast, "win.open-contact");
  adw_toast_set_action_target_value (toast, g_variant_new_string (tc_contact_get_address (contact)));
  adw_toast_overlay_add_toast (self->toast_overlay, toast);
}

/* For docs/benchmarks.md: with TORCHAT_BENCH_FRAMES set, how long each
 * frame took from its first phase to the end of painting, on stderr. */
static void
frame_begin_cb (GdkFrameClock *clock,
                TcWindow      *self)
{
  self->frame_start = g_get_monotonic_time ();
}

static void
frame_end_cb (GdkFrameClock *clock,
              TcWindow      *self)
{
  if (self->frame_start != 0)
    g_printerr ("tc-frame %.3f %" G_GINT64_FORMAT "\n",
                (g_get_monotonic_time () - self->frame_start) / 1000.0, g_get_monotonic_time ());
  self->frame_start = 0;
}

static void
realize_cb (TcWindow *self)
{
  GdkFrameClock *clock = gtk_widget_get_frame_clock (GTK_WIDGET (self));

  if (g_getenv ("TORCHAT_BENCH_FRAMES") == NULL || clock == NULL)
    return;

  g_signal_connect_object (clock, "before-paint", G_CALLBACK (frame_begin_cb), self, 0);
  g_signal_connect_object (clock, "after-paint", G_CALLBACK (frame_end_cb), self, 0);
}

static void
is_active_cb (TcWindow *self)
{
  _tc_window_mark_read (self);
}

static void
tc_window_constructed (GObject *object)
{
  TcWindow *self = (TcWindow *)object;
  g_autoptr(GSettingsSchema) schema = NULL;
  GSettingsSchemaSource *source;
  GListModel *contacts;
  G_OBJECT_CLASS (tc_window_parent_class)->constructed (object);

  g_assert (TC_IS_NODE (self->node));

  _tc_window_init_actions (self);
  _tc_window_init_transfers (self);
  _tc_window_init_search (self);

  contacts = tc_node_get_contacts (self->node);
  _tc_window_init_sidebar (self);
  self->contact_selection = gtk_single_selection_new (g_object_ref (G_LIST_MODEL (self->sorted_contacts)));
  gtk_single_selection_set_autoselect (self->contact_selection, FALSE);
  gtk_single_selection_set_can_unselect (self->contact_selection, TRUE);
  gtk_single_selection_set_selected (self->contact_selection, GTK_INVALID_LIST_POSITION);
  g_signal_connect_object (self->contact_selection, "notify::selected-item",
                           G_CALLBACK (selection_changed_cb), self,
                           G_CONNECT_SWAPPED);
  gtk_grid_view_set_model (self->contact_list, GTK_SELECTION_MODEL (self->contact_selection));
  /* Before the list's own key bindings, which move the selection. */
  {
    GtkEventController *keys = gtk_event_controller_key_new ();

    gtk_event_controller_set_propagation_phase (keys, GTK_PHASE_CAPTURE);
    g_signal_connect_object (keys, "key-pressed", G_CALLBACK (contact_list_key_pressed_cb),
                             self, G_CONNECT_SWAPPED);
    gtk_widget_add_controller (GTK_WIDGET (self->contact_list), keys);
  }

  g_signal_connect_object (contacts, "items-changed",
                           G_CALLBACK (contacts_items_changed_cb), self,
                           G_CONNECT_SWAPPED);
  contacts_items_changed_cb (self, 0, 0, 0, contacts);

  g_signal_connect_object (self->node, "notify::address",
                           G_CALLBACK (node_address_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->node, "notify::presence",
                           G_CALLBACK (node_presence_cb), self,
                           G_CONNECT_SWAPPED);
  g_signal_connect_object (self->node, "contact-request",
                           G_CALLBACK (contact_request_cb), self,
                           G_CONNECT_SWAPPED);
  tc_tor_page_set_tor (self->tor_page, tc_node_get_tor (self->node));
  g_signal_group_set_target (self->tor_signals, tc_node_get_tor (self->node));
  _tc_window_update_main_page (self);
  tc_window_update_own_address (self);
  tc_window_update_presence_action (self);
  tc_window_update_contact_state (self);

  source = g_settings_schema_source_get_default ();
  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, APP_ID, TRUE);
  /* Run from the build tree, the schema may not be installed. */
  if (schema != NULL)
    {
      self->settings = g_settings_new_full (schema, NULL, NULL);
      g_settings_bind (self->settings, "window-width", self, "default-width", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-height", self, "default-height", G_SETTINGS_BIND_DEFAULT);
      g_settings_bind (self->settings, "window-maximized", self, "maximized", G_SETTINGS_BIND_DEFAULT);
    }
}

static void
tc_window_dispose (GObject *object)
{
  TcWindow *self = (TcWindow *)object;

  g_clear_handle_id (&self->typing_pause_source, g_source_remove);
  g_clear_handle_id (&self->sidebar_key_source, g_source_remove);
  if (self->stick_tick != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->stick_tick);
      self->stick_tick = 0;
    }

  /* The node outlives the window: nothing of it may call back into a
   * disposed window. */
  _tc_window_dispose_sidebar (self);
  _tc_window_dispose_search (self);
  if (self->node != NULL)
    {
      g_signal_handlers_disconnect_by_data (self->node, self);
      g_signal_handlers_disconnect_by_data (tc_node_get_contacts (self->node), self);
    }
  if (self->contact_selection != NULL)
    g_signal_handlers_disconnect_by_data (self->contact_selection, self);
  if (self->message_selection != NULL)
    g_signal_handlers_disconnect_by_data (self->message_selection, self);

  if (self->contact_bindings != NULL)
    g_binding_group_set_source (self->contact_bindings, NULL);
  if (self->contact_signals != NULL)
    g_signal_group_set_target (self->contact_signals, NULL);
  if (self->tor_signals != NULL)
    g_signal_group_set_target (self->tor_signals, NULL);


  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_WINDOW);

  g_clear_object (&self->contact_selection);
  g_clear_object (&self->sorted_contacts);
  g_clear_object (&self->message_selection);
  g_clear_object (&self->contact_bindings);
  g_clear_object (&self->contact_signals);
  g_clear_object (&self->tor_signals);
  g_clear_object (&self->contact_actions);
  g_clear_object (&self->conversation);
  g_clear_object (&self->contact);
  g_clear_object (&self->settings);
  g_clear_pointer (&self->drafts, g_hash_table_unref);

  G_OBJECT_CLASS (tc_window_parent_class)->dispose (object);
}

static void
tc_window_finalize (GObject *object)
{
  TcWindow *self = (TcWindow *)object;

  g_clear_object (&self->node);

  G_OBJECT_CLASS (tc_window_parent_class)->finalize (object);
}

static void
tc_window_get_property (GObject    *object,
                        guint       prop_id,
                        GValue     *value,
                        GParamSpec *pspec)
{
  TcWindow *self = TC_WINDOW (object);

  switch (prop_id)
    {
    case PROP_NODE:
      g_value_set_object (value, self->node);
      break;

    case PROP_CONTACT:
      g_value_set_object (value, self->contact);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_window_set_property (GObject      *object,
                        guint         prop_id,
                        const GValue *value,
                        GParamSpec   *pspec)
{
  TcWindow *self = TC_WINDOW (object);

  switch (prop_id)
    {
    case PROP_NODE:
      self->node = g_value_dup_object (value);
      break;

    case PROP_CONTACT:
      tc_window_set_contact (self, g_value_get_object (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_window_class_init (TcWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->constructed = tc_window_constructed;
  object_class->dispose = tc_window_dispose;
  object_class->finalize = tc_window_finalize;
  object_class->get_property = tc_window_get_property;
  object_class->set_property = tc_window_set_property;

  properties[PROP_NODE] =
    g_param_spec_object ("node", NULL, NULL,
                         TC_TYPE_NODE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_CONTACT] =
    g_param_spec_object ("contact", NULL, NULL,
                         TC_TYPE_CONTACT,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (TC_TYPE_CONTACT_ROW);
  g_type_ensure (TC_TYPE_MESSAGE_ROW);
  g_type_ensure (TC_TYPE_TOR_PAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TcWindow, toast_overlay);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, tor_page);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, tor_banner);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, tor_banner_label);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, storage_banner);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, storage_banner_label);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, main_stack);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, empty_address_label);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, leaflet);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, sidebar);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, content);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, own_address_label);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, contact_list);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, search_bar);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, search_entry);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, conversation_title);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, contact_menu_button);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, content_stack);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, request_revealer);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, request_label);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, greeting_label);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, message_scroller);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, message_list);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, conversation_notice);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, composer);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, composer_placeholder);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, send_button);
  gtk_widget_class_bind_template_child (widget_class, TcWindow, transfer_list);
  gtk_widget_class_bind_template_callback (widget_class, contact_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, tor_page_stuck_cb);
  gtk_widget_class_bind_template_callback (widget_class, leaflet_visible_child_cb);
  _tc_window_class_init_conversation (widget_class);
  _tc_window_class_init_transfers (widget_class);
  _tc_window_class_init_search (widget_class);

  _tc_window_class_init_actions (widget_class);
}

static void
tc_window_init (TcWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tc_a11y_fix_button_names (GTK_WIDGET (self));
  set_no_hyphens (self->empty_address_label);
  set_no_hyphens (self->own_address_label);

  self->drafts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->typing_sent = TC_TYPING_ACTIVE;
  self->scroll_target = GTK_INVALID_LIST_POSITION;

  self->message_selection = gtk_no_selection_new (NULL);
  gtk_grid_view_set_model (self->message_list, GTK_SELECTION_MODEL (self->message_selection));
  _tc_window_init_conversation (self);

  self->contact_actions = g_simple_action_group_new ();
  gtk_widget_insert_action_group (GTK_WIDGET (self), "contact", G_ACTION_GROUP (self->contact_actions));

  self->contact_bindings = g_binding_group_new ();
  g_binding_group_bind (self->contact_bindings, "display-name",
                        self->conversation_title, "title",
                        G_BINDING_SYNC_CREATE);
  self->tor_signals = g_signal_group_new (TC_TYPE_TOR);
  g_signal_group_connect_object (self->tor_signals, "notify",
                                 G_CALLBACK (tor_notify_cb), self,
                                 G_CONNECT_SWAPPED);
  self->contact_signals = g_signal_group_new (TC_TYPE_CONTACT);
  g_signal_group_connect_object (self->contact_signals, "notify",
                                 G_CALLBACK (contact_notify_cb), self,
                                 G_CONNECT_SWAPPED);

  g_signal_connect (self, "notify::is-active", G_CALLBACK (is_active_cb), NULL);
  g_signal_connect (self, "realize", G_CALLBACK (realize_cb), NULL);
}

TcWindow *
tc_window_new (GtkApplication *application,
               TcNode         *node)
{
  g_return_val_if_fail (!application || GTK_IS_APPLICATION (application), NULL);
  g_return_val_if_fail (TC_IS_NODE (node), NULL);

  return g_object_new (TC_TYPE_WINDOW,
                       "application", application,
                       "node", node,
                       NULL);
}

TcNode *
tc_window_get_node (TcWindow *self)
{
  g_return_val_if_fail (TC_IS_WINDOW (self), NULL);

  return self->node;
}

TcContact *
tc_window_get_contact (TcWindow *self)
{
  g_return_val_if_fail (TC_IS_WINDOW (self), NULL);

  return self->contact;
}

gboolean
tc_window_select_address (TcWindow   *self,
                          const char *address)
{
  TcContact *contact;

  g_return_val_if_fail (TC_IS_WINDOW (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);

  contact = tc_node_lookup_contact (self->node, address);
  if (contact == NULL)
    return FALSE;

  tc_window_set_contact (self, contact);
  adw_leaflet_set_visible_child (self->leaflet, self->content);

  return TRUE;
}

void
tc_window_add_toast (TcWindow   *self,
                     const char *text)
{
  g_return_if_fail (TC_IS_WINDOW (self));
  g_return_if_fail (text != NULL);

  adw_toast_overlay_add_toast (self->toast_overlay, adw_toast_new (text));
}

void
tc_window_show_error (TcWindow     *self,
                      const GError *error)
{
  g_return_if_fail (TC_IS_WINDOW (self));
  g_return_if_fail (error != NULL);

  tc_window_add_toast (self, error->message);
}

gboolean
tc_window_is_conversation_in_view (TcWindow   *self,
                                   const char *address)
{
  g_return_val_if_fail (TC_IS_WINDOW (self), FALSE);

  if (self->contact == NULL || address == NULL ||
      !g_str_equal (tc_contact_get_address (self->contact), address))
    return FALSE;

  if (!gtk_window_is_active (GTK_WINDOW (self)) ||
      !gtk_widget_get_mapped (GTK_WIDGET (self->message_list)))
    return FALSE;

  /* Folded on the contact list, the conversation is not on screen. */
  if (adw_leaflet_get_folded (self->leaflet) &&
      adw_leaflet_get_visible_child (self->leaflet) != self->content)
    return FALSE;

  return TRUE;
}
