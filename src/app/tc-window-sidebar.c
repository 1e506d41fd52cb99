/* tc-window-sidebar.c: the contact list's order and filter, and the
 * banner that says the profile cannot store changes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-window-private.h"

/* Sorting: requests first, then by recent activity (the newest message
 * first), declined and blocked addresses last; by name among equals. */
static int
contact_rank_cb (TcContact      *contact,
                 TcContactState  state,
                 gpointer        user_data)
{
  switch (state)
    {
    case TC_CONTACT_STATE_PENDING:
      return 0;
    case TC_CONTACT_STATE_ACCEPTED:
    case TC_CONTACT_STATE_REQUESTED:
      return 1;
    case TC_CONTACT_STATE_DECLINED:
    case TC_CONTACT_STATE_BLOCKED:
    default:
      return 2;
    }
}

static GtkSorter *
create_contact_sorter (void)
{
  GtkExpression *params[1];
  GtkMultiSorter *sorter = gtk_multi_sorter_new ();
  GtkNumericSorter *recent;
  GtkExpression *rank;

  params[0] = gtk_property_expression_new (TC_TYPE_CONTACT, NULL, "state");
  rank = gtk_cclosure_expression_new (G_TYPE_INT, NULL, 1, params,
                                      G_CALLBACK (contact_rank_cb), NULL, NULL);
  gtk_multi_sorter_append (sorter, GTK_SORTER (gtk_numeric_sorter_new (rank)));
  recent = gtk_numeric_sorter_new (gtk_property_expression_new (TC_TYPE_CONTACT, NULL,
                                                                "last-activity"));
  gtk_numeric_sorter_set_sort_order (recent, GTK_SORT_DESCENDING);
  gtk_multi_sorter_append (sorter, GTK_SORTER (recent));
  gtk_multi_sorter_append (sorter, GTK_SORTER (gtk_string_sorter_new (
    gtk_property_expression_new (TC_TYPE_CONTACT, NULL, "display-name"))));
  gtk_multi_sorter_append (sorter, GTK_SORTER (gtk_string_sorter_new (
    gtk_property_expression_new (TC_TYPE_CONTACT, NULL, "address"))));

  return GTK_SORTER (sorter);
}

/* The search: a part of the name or of the address. */
static GtkFilter *
create_contact_filter (TcWindow *self)
{
  GtkAnyFilter *any = gtk_any_filter_new ();
  const char *props[] = { "display-name", "address" };

  for (guint i = 0; i < G_N_ELEMENTS (props); i++)
    {
      GtkStringFilter *filter = gtk_string_filter_new (
        gtk_property_expression_new (TC_TYPE_CONTACT, NULL, props[i]));

      gtk_string_filter_set_match_mode (filter, GTK_STRING_FILTER_MATCH_MODE_SUBSTRING);
      gtk_string_filter_set_ignore_case (filter, TRUE);
      g_object_bind_property (self->search_entry, "text", filter, "search", G_BINDING_SYNC_CREATE);
      gtk_multi_filter_append (GTK_MULTI_FILTER (any), GTK_FILTER (filter));
    }

  return GTK_FILTER (any);
}

/* A sort list model does not watch its items, and keeps what its sorter
 * read of each item until the item is replaced. The node announces a
 * contact as replaced by itself when its last activity changes; a new
 * state (a request accepted, an address blocked) moves it between the
 * groups too, so then the order is made anew, with a new sorter (a
 * changed signal of the same one would reuse what it read). */
static gboolean
resort_cb (gpointer data)
{
  TcWindow *self = data;
  g_autoptr(GtkSorter) sorter = create_contact_sorter ();

  self->resort_source = 0;
  gtk_sort_list_model_set_sorter (self->sorted_contacts, sorter);

  return G_SOURCE_REMOVE;
}

/* Once the node is done with the change. */
static void
contact_state_cb (TcWindow *self)
{
  if (self->resort_source == 0)
    self->resort_source = g_idle_add (resort_cb, self);
}

static void
contacts_changed_cb (TcWindow   *self,
                     guint       position,
                     guint       removed,
                     guint       added,
                     GListModel *model)
{
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(TcContact) contact = g_list_model_get_item (model, i);

      if (g_signal_handler_find (contact, G_SIGNAL_MATCH_FUNC | G_SIGNAL_MATCH_DATA,
                                 0, 0, NULL, contact_state_cb, self) == 0)
        g_signal_connect_object (contact, "notify::state",
                                 G_CALLBACK (contact_state_cb), self,
                                 G_CONNECT_SWAPPED);
    }
}

guint
_tc_window_find_contact_position (TcWindow  *self,
                                  TcContact *contact)
{
  GListModel *model = G_LIST_MODEL (self->sorted_contacts);
  guint n_items = g_list_model_get_n_items (model);

  for (guint i = 0; contact != NULL && i < n_items; i++)
    {
      g_autoptr(TcContact) item = g_list_model_get_item (model, i);

      if (item == contact)
        return i;
    }

  return GTK_INVALID_LIST_POSITION;
}

/* The store cannot write (the disk is full, the profile is read-only):
 * nothing that arrives or is sent now is kept until it can again. Said
 * above the contacts, like Tor's state, and gone once a write succeeds. */
static void
store_failure_cb (TcWindow *self)
{
  const char *failure = tc_store_get_failure (tc_node_get_store (self->node));

  if (failure != NULL)
    {
      g_autofree char *tooltip = NULL;

      /* Translators: %s is the database's error, as in "database or disk is full" */
      tooltip = g_strdup_printf (_("The database said: %s"), failure);
      if (g_strcmp0 (gtk_widget_get_tooltip_text (GTK_WIDGET (self->storage_banner_label)), tooltip) != 0)
        gtk_widget_set_tooltip_text (GTK_WIDGET (self->storage_banner_label), tooltip);
    }
  gtk_revealer_set_reveal_child (self->storage_banner, failure != NULL);
  if (failure == NULL)
    _tc_window_mark_read (self);
}

void
_tc_window_init_sidebar (TcWindow *self)
{
  GListModel *contacts = tc_node_get_contacts (self->node);
  TcStore *store = tc_node_get_store (self->node);

  self->sorted_contacts =
    gtk_sort_list_model_new (G_LIST_MODEL (gtk_filter_list_model_new (g_object_ref (contacts),
                                                                      create_contact_filter (self))),
                             create_contact_sorter ());

  g_signal_connect_object (contacts, "items-changed",
                           G_CALLBACK (contacts_changed_cb), self,
                           G_CONNECT_SWAPPED);
  contacts_changed_cb (self, 0, 0, g_list_model_get_n_items (contacts), contacts);

  if (store != NULL)
    {
      g_signal_connect_object (store, "notify::failure",
                               G_CALLBACK (store_failure_cb), self,
                               G_CONNECT_SWAPPED);
      store_failure_cb (self);
    }
}

void
_tc_window_dispose_sidebar (TcWindow *self)
{
  GListModel *contacts;
  guint n_items;

  if (self->node == NULL)
    return;

  contacts = tc_node_get_contacts (self->node);
  n_items = g_list_model_get_n_items (contacts);
  for (guint i = 0; i < n_items; i++)
    {
      g_autoptr(TcContact) contact = g_list_model_get_item (contacts, i);

      /* Only this file's: a signal group of the window has its own. */
      g_signal_handlers_disconnect_by_func (contact, contact_state_cb, self);
    }
  if (tc_node_get_store (self->node) != NULL)
    g_signal_handlers_disconnect_by_func (tc_node_get_store (self->node), store_failure_cb, self);
  g_clear_handle_id (&self->resort_source, g_source_remove);
}
