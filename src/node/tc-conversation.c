/* tc-conversation.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-conversation.h"

#define PAGE_SIZE 64
#define MAX_PAGES 4

typedef struct
{
  guint      number;
  GPtrArray *items;   /* TcMessage, strong references */
} Page;

struct _TcConversation
{
  GObject     parent_instance;

  TcStore    *store;
  char       *peer;
  guint       n_items;

  /* Page*, most recently used first; at most MAX_PAGES. */
  GQueue      pages;
  /* Row keys by page number, -1 where unknown: the first of every page
   * read, the last of every full page read. Positions never shift (new
   * messages go at the end; a deletion reloads), so they stay true, and
   * the next or previous page is read by key, at the same cost at any
   * depth. */
  GArray     *first_keys;
  GArray     *last_keys;

  /* Every TcMessage handed out or cached and still alive, by direction and
   * id, without a reference: a weak notify removes it. This is what gives
   * the same object back for an id while a view holds it. */
  GHashTable *live;
};

static void list_model_iface_init (GListModelInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TcConversation, tc_conversation, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (G_TYPE_LIST_MODEL, list_model_iface_init))

enum {
  PROP_0,
  PROP_STORE,
  PROP_PEER,
  PROP_N_ITEMS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
live_key (TcMessageDirection  direction,
          const char         *id)
{
  return g_strconcat (direction == TC_MESSAGE_DIRECTION_OUTGOING ? "o:" : "i:", id, NULL);
}

static char *
message_key (TcMessage *message)
{
  return live_key (tc_message_get_direction (message), tc_message_get_id (message));
}

static void
message_gone_cb (gpointer  data,
                 GObject  *where_the_object_was)
{
  TcConversation *self = data;
  TcMessage *message = (TcMessage *) where_the_object_was;
  g_autofree char *key = NULL;

  /* Weak notifies run in dispose, before the message's fields are freed. */
  key = message_key (message);
  if (g_hash_table_lookup (self->live, key) == (gpointer) message)
    g_hash_table_remove (self->live, key);
}

static void
track (TcConversation *self,
       TcMessage      *message)
{
  g_autofree char *key = message_key (message);
  TcMessage *old = g_hash_table_lookup (self->live, key);

  if (old == message)
    return;

  if (old != NULL)
    g_object_weak_unref (G_OBJECT (old), message_gone_cb, self);

  g_object_weak_ref (G_OBJECT (message), message_gone_cb, self);
  g_hash_table_replace (self->live, g_steal_pointer (&key), message);
}

static gboolean
untrack_cb (gpointer key,
            gpointer value,
            gpointer user_data)
{
  g_object_weak_unref (value, message_gone_cb, user_data);
  return TRUE;
}

static void
page_free (Page *page)
{
  g_clear_pointer (&page->items, g_ptr_array_unref);
  g_free (page);
}

static void
clear_pages (TcConversation *self)
{
  Page *page;

  while ((page = g_queue_pop_head (&self->pages)))
    page_free (page);

  g_array_set_size (self->first_keys, 0);
  g_array_set_size (self->last_keys, 0);
}

static gint64
get_key (GArray *keys,
         guint   number)
{
  return number < keys->len ? g_array_index (keys, gint64, number) : -1;
}

static void
set_key (GArray *keys,
         guint   number,
         gint64  key)
{
  if (number >= keys->len)
    {
      guint old = keys->len;

      g_array_set_size (keys, number + 1);
      for (guint i = old; i <= number; i++)
        g_array_index (keys, gint64, i) = -1;
    }

  g_array_index (keys, gint64, number) = key;
}

/* By key from a neighbour whose key is known; else by offset from the
 * nearer end. */
static GPtrArray *
read_page (TcConversation  *self,
           guint            number,
           GError         **error)
{
  guint start = number * PAGE_SIZE;
  gint64 first = -1, last = -1;
  GPtrArray *messages;
  gint64 key;

  if (number > 0 && (key = get_key (self->last_keys, number - 1)) >= 0)
    messages = tc_store_list_page (self->store, self->peer, TC_STORE_PAGE_AFTER, key,
                                   PAGE_SIZE, &first, &last, error);
  else if ((key = get_key (self->first_keys, number + 1)) >= 0)
    messages = tc_store_list_page (self->store, self->peer, TC_STORE_PAGE_BEFORE, key,
                                   PAGE_SIZE, &first, &last, error);
  else if (start <= self->n_items / 2 || start >= self->n_items)
    messages = tc_store_list_page (self->store, self->peer, TC_STORE_PAGE_FROM_START, start,
                                   PAGE_SIZE, &first, &last, error);
  else
    {
      /* Counted from the store's newest end: while a batch of stored
       * messages is appended one by one, the store is ahead of n_items. */
      guint stored = tc_store_count_messages (self->store, self->peer);
      guint end = MIN (start + PAGE_SIZE, self->n_items);

      messages = tc_store_list_page (self->store, self->peer, TC_STORE_PAGE_FROM_END,
                                     MAX (stored, end) - end, end - start, &first, &last, error);
    }

  if (messages == NULL)
    return NULL;

  if (first >= 0)
    set_key (self->first_keys, number, first);
  if (messages->len == PAGE_SIZE)
    set_key (self->last_keys, number, last);

  return messages;
}

static Page *
find_page (TcConversation *self,
           guint           number)
{
  for (GList *l = self->pages.head; l != NULL; l = l->next)
    {
      Page *page = l->data;

      if (page->number == number)
        {
          g_queue_unlink (&self->pages, l);
          g_queue_push_head_link (&self->pages, l);
          return page;
        }
    }

  return NULL;
}

static void
drop_page (TcConversation *self,
           Page           *page)
{
  g_queue_remove (&self->pages, page);
  page_free (page);
}

/* Rows that belong to a live object refresh it instead of replacing it, so
 * that a reload reaches the rows on screen. */
static Page *
load_page (TcConversation *self,
           guint           number)
{
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;
  Page *page;

  messages = read_page (self, number, &error);
  if (messages == NULL)
    {
      g_warning ("Could not read the conversation: %s", error->message);
      return NULL;
    }

  for (guint i = 0; i < messages->len; i++)
    {
      TcMessage *fresh = g_ptr_array_index (messages, i);
      g_autofree char *key = message_key (fresh);
      TcMessage *held = g_hash_table_lookup (self->live, key);

      if (held == NULL)
        {
          track (self, fresh);
          continue;
        }

      tc_message_set_state (held, tc_message_get_state (fresh));
      tc_message_set_received_date (held, tc_message_get_received_date (fresh));
      g_ptr_array_index (messages, i) = g_object_ref (held);
      g_object_unref (fresh);
    }

  page = g_new0 (Page, 1);
  page->number = number;
  page->items = g_steal_pointer (&messages);
  g_queue_push_head (&self->pages, page);

  while (self->pages.length > MAX_PAGES)
    page_free (g_queue_pop_tail (&self->pages));

  return page;
}

/* Like GListStore: items-changed first, then notify::n-items. */
static void
items_changed (TcConversation *self,
               guint           position,
               guint           removed,
               guint           added)
{
  g_list_model_items_changed (G_LIST_MODEL (self), position, removed, added);
  if (removed != added)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_N_ITEMS]);
}

static GType
tc_conversation_get_item_type (GListModel *model)
{
  return TC_TYPE_MESSAGE;
}

static guint
tc_conversation_get_n_items (GListModel *model)
{
  return TC_CONVERSATION (model)->n_items;
}

static gpointer
tc_conversation_get_item (GListModel *model,
                          guint       position)
{
  TcConversation *self = TC_CONVERSATION (model);
  guint number = position / PAGE_SIZE;
  guint offset = position % PAGE_SIZE;
  Page *page;

  if (position >= self->n_items)
    return NULL;

  page = find_page (self, number);

  /* A page read before later messages were stored is short: read it again. */
  if (page != NULL && offset >= page->items->len)
    {
      drop_page (self, page);
      page = NULL;
    }

  if (page == NULL)
    page = load_page (self, number);

  if (page == NULL || offset >= page->items->len)
    return NULL;

  return g_object_ref (g_ptr_array_index (page->items, offset));
}

static void
list_model_iface_init (GListModelInterface *iface)
{
  iface->get_item_type = tc_conversation_get_item_type;
  iface->get_n_items = tc_conversation_get_n_items;
  iface->get_item = tc_conversation_get_item;
}

static void
tc_conversation_constructed (GObject *object)
{
  TcConversation *self = TC_CONVERSATION (object);

  G_OBJECT_CLASS (tc_conversation_parent_class)->constructed (object);

  g_return_if_fail (TC_IS_STORE (self->store));
  g_return_if_fail (self->peer != NULL);

  self->n_items = tc_store_count_messages (self->store, self->peer);
}

static void
tc_conversation_dispose (GObject *object)
{
  TcConversation *self = TC_CONVERSATION (object);

  clear_pages (self);
  g_hash_table_foreach_remove (self->live, untrack_cb, self);

  G_OBJECT_CLASS (tc_conversation_parent_class)->dispose (object);
}

static void
tc_conversation_finalize (GObject *object)
{
  TcConversation *self = TC_CONVERSATION (object);

  g_clear_pointer (&self->live, g_hash_table_unref);
  g_clear_pointer (&self->first_keys, g_array_unref);
  g_clear_pointer (&self->last_keys, g_array_unref);
  g_clear_object (&self->store);
  g_clear_pointer (&self->peer, g_free);

  G_OBJECT_CLASS (tc_conversation_parent_class)->finalize (object);
}

static void
tc_conversation_get_property (GObject    *object,
                              guint       prop_id,
                              GValue     *value,
                              GParamSpec *pspec)
{
  TcConversation *self = TC_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_STORE:
      g_value_set_object (value, self->store);
      break;

    case PROP_PEER:
      g_value_set_string (value, self->peer);
      break;

    case PROP_N_ITEMS:
      g_value_set_uint (value, self->n_items);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_conversation_set_property (GObject      *object,
                              guint         prop_id,
                              const GValue *value,
                              GParamSpec   *pspec)
{
  TcConversation *self = TC_CONVERSATION (object);

  switch (prop_id)
    {
    case PROP_STORE:
      self->store = g_value_dup_object (value);
      break;

    case PROP_PEER:
      self->peer = g_value_dup_string (value);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_conversation_class_init (TcConversationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = tc_conversation_constructed;
  object_class->dispose = tc_conversation_dispose;
  object_class->finalize = tc_conversation_finalize;
  object_class->get_property = tc_conversation_get_property;
  object_class->set_property = tc_conversation_set_property;

  properties[PROP_STORE] =
    g_param_spec_object ("store", NULL, NULL,
                         TC_TYPE_STORE,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_PEER] =
    g_param_spec_string ("peer", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_N_ITEMS] =
    g_param_spec_uint ("n-items", NULL, NULL,
                       0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tc_conversation_init (TcConversation *self)
{
  g_queue_init (&self->pages);
  self->first_keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->last_keys = g_array_new (FALSE, FALSE, sizeof (gint64));
  self->live = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
}

TcConversation *
tc_conversation_new (TcStore    *store,
                     const char *peer)
{
  g_return_val_if_fail (TC_IS_STORE (store), NULL);
  g_return_val_if_fail (peer != NULL, NULL);

  return g_object_new (TC_TYPE_CONVERSATION,
                       "store", store,
                       "peer", peer,
                       NULL);
}

const char *
tc_conversation_get_peer (TcConversation *self)
{
  g_return_val_if_fail (TC_IS_CONVERSATION (self), NULL);

  return self->peer;
}

void
tc_conversation_append (TcConversation *self,
                        TcMessage      *message)
{
  guint position;
  Page *page;

  g_return_if_fail (TC_IS_CONVERSATION (self));
  g_return_if_fail (TC_IS_MESSAGE (message));
  g_return_if_fail (g_strcmp0 (tc_message_get_peer (message), self->peer) == 0);

  track (self, message);

  position = self->n_items;

  /* Only a cached page that ends exactly here can take it; otherwise the
   * message is read from the store when asked for. */
  for (GList *l = self->pages.head; l != NULL; l = l->next)
    {
      page = l->data;
      if (page->number == position / PAGE_SIZE &&
          page->items->len == position % PAGE_SIZE)
        {
          g_ptr_array_add (page->items, g_object_ref (message));
          break;
        }
    }

  self->n_items = position + 1;
  items_changed (self, position, 0, 1);
}

void
tc_conversation_update_state (TcConversation *self,
                              const char     *id,
                              TcMessageState  state,
                              GDateTime      *received_date)
{
  g_autofree char *outgoing = NULL;
  g_autofree char *incoming = NULL;
  TcMessage *message;

  g_return_if_fail (TC_IS_CONVERSATION (self));
  g_return_if_fail (id != NULL);

  /* Only outgoing messages change state; an incoming message with the same
   * id (the peer chooses those) must not be touched first. */
  outgoing = live_key (TC_MESSAGE_DIRECTION_OUTGOING, id);
  message = g_hash_table_lookup (self->live, outgoing);
  if (message == NULL)
    {
      incoming = live_key (TC_MESSAGE_DIRECTION_INCOMING, id);
      message = g_hash_table_lookup (self->live, incoming);
    }

  if (message == NULL)
    return;

  g_object_freeze_notify (G_OBJECT (message));
  tc_message_set_state (message, state);
  if (received_date != NULL)
    tc_message_set_received_date (message, received_date);
  g_object_thaw_notify (G_OBJECT (message));
}

void
tc_conversation_reload (TcConversation *self)
{
  guint removed;

  g_return_if_fail (TC_IS_CONVERSATION (self));

  removed = self->n_items;
  clear_pages (self);
  self->n_items = tc_store_count_messages (self->store, self->peer);

  if (removed > 0 || self->n_items > 0)
    items_changed (self, 0, removed, self->n_items);
}
