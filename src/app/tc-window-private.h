/* tc-window-private.h: what the files of TcWindow share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-search-page.h"
#include "tc-tor-page.h"
#include "tc-window.h"

G_BEGIN_DECLS

struct _TcWindow
{
  AdwApplicationWindow  parent_instance;

  TcNode               *node;
  TcContact            *contact;
  TcConversation       *conversation;
  GSettings            *settings;

  GBindingGroup        *contact_bindings;
  GSignalGroup         *contact_signals;
  GSimpleActionGroup   *contact_actions;

  GtkSortListModel     *sorted_contacts;
  guint                 resort_source;
  GtkSingleSelection   *contact_selection;
  GtkNoSelection       *message_selection;
  /* Unsent composer text per contact address. */
  GHashTable           *drafts;

  guint                 typing_pause_source;
  TcTyping              typing_sent;
  gint64                typing_sent_at;   /* monotonic, µs */
  gboolean              restoring_draft;
  gboolean              updating_selection;
  /* Set while the contact list handles a key press: its selection follows
   * the arrow keys, and the focus stays there (tc_window_set_contact()).
   * The idle that ends it runs once the press is handled. */
  guint                 sidebar_key_source;
  gboolean              stick_to_bottom;
  gboolean              scrolling;
  guint                 stick_frames;
  guint                 stick_tick;
  /* A message to bring into view (a search result), instead of the
   * bottom; GTK_INVALID_LIST_POSITION when none. */
  guint                 scroll_target;

  /* The Tor screen: shown on a first run until Tor is ready, or when
   * asked for. */
  gboolean              tor_was_ready;
  gboolean              tor_page_wanted;
  gboolean              tor_page_dismissed;
  gboolean              tor_page_for_trouble;  /* shown because Tor was stuck */
  GSignalGroup         *tor_signals;
  gint64                frame_start;

  AdwToastOverlay      *toast_overlay;
  TcTorPage            *tor_page;
  GtkRevealer          *tor_banner;
  GtkLabel             *tor_banner_label;
  GtkRevealer          *storage_banner;
  GtkLabel             *storage_banner_label;
  GtkStack             *main_stack;
  GtkLabel             *empty_address_label;
  AdwLeaflet           *leaflet;
  GtkWidget            *sidebar;
  GtkWidget            *content;
  GtkLabel             *own_address_label;
  GtkGridView          *contact_list;
  GtkSearchBar         *search_bar;
  GtkSearchEntry       *search_entry;
  AdwWindowTitle       *conversation_title;
  GtkWidget            *contact_menu_button;
  GtkWidget            *conversation_search_button;
  GtkSearchBar         *message_search_bar;
  GtkSearchEntry       *message_search_entry;
  GtkStack             *conversation_stack;
  TcSearchPage         *conversation_search_page;
  GtkWidget            *search_dialog;
  GtkStack             *content_stack;
  GtkRevealer          *request_revealer;
  GtkLabel             *request_label;
  GtkLabel             *greeting_label;
  GtkScrolledWindow    *message_scroller;
  GtkGridView          *message_list;
  GtkLabel             *conversation_notice;
  GtkTextView          *composer;
  GtkLabel             *composer_placeholder;
  GtkWidget            *send_button;
  GtkWidget            *transfer_list;
};

/* tc-window.c */
void   _tc_window_mark_read                (TcWindow       *self);
void   _tc_window_update_main_page         (TcWindow       *self);
guint  _tc_window_find_contact_position    (TcWindow       *self,
                                            TcContact      *contact);

/* tc-window-sidebar.c: the contact list's order and filter, the storage
 * banner */
void   _tc_window_init_sidebar             (TcWindow       *self);
void   _tc_window_dispose_sidebar          (TcWindow       *self);

/* tc-window-actions.c: the win. and contact. actions and their keys */
void   _tc_window_class_init_actions       (GtkWidgetClass *widget_class);
void   _tc_window_init_actions             (TcWindow       *self);

/* tc-window-conversation.c: the message list's scrolling and the composer */
void   _tc_window_class_init_conversation  (GtkWidgetClass *widget_class);
void   _tc_window_init_conversation        (TcWindow       *self);
void   _tc_window_send_typing              (TcWindow       *self,
                                            TcTyping        typing);
char  *_tc_window_dup_composer_text        (TcWindow       *self);
void   _tc_window_set_composer_text        (TcWindow       *self,
                                            const char     *text);
/* Brings the message at @position into view and marks it for a moment. */
void   _tc_window_scroll_to_message        (TcWindow       *self,
                                            guint           position);

/* tc-window-search.c: the history's search and going to a result */
void   _tc_window_class_init_search        (GtkWidgetClass *widget_class);
void   _tc_window_init_search              (TcWindow       *self);
void   _tc_window_dispose_search           (TcWindow       *self);
void   _tc_window_close_conversation_search (TcWindow      *self);

/* tc-window-transfers.c: files into a conversation and its transfers */
void   _tc_window_class_init_transfers     (GtkWidgetClass *widget_class);
void   _tc_window_init_transfers           (TcWindow       *self);

/* Keeps the newest message in view for the next frames, while the rows
 * settle. */
void   _tc_window_stick_for_frames         (TcWindow       *self);

G_END_DECLS
