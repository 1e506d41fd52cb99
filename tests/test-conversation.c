/* test-conversation.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "tc-conversation.h"

#define PEER  "alice2hbsvwrsa7gp6ddvyxbp4kjlmkpftbjgzjhs4sljkqlsdqs7nad"
#define OTHER "bob4oxrkhyh6zqbjc4r5wsjrljlvvglmdqe3fnqhqewtfbmvzdpvid"
#define N_MESSAGES 1000

/* What the conversation may keep: 4 pages of 64. Anything near 1,000 would
 * mean every message stays in memory. */
#define MAX_CACHED 256

typedef struct
{
  char           *dir;
  TcStore        *store;
  TcConversation *conversation;
} Fixture;

typedef struct
{
  guint count;
  guint position;
  guint removed;
  guint added;
} ItemsChanged;

/* Counts TcMessage objects alive among those the model handed out. */
static guint live_messages;

static void
message_finalized_cb (gpointer  data,
                      GObject  *where_the_object_was)
{
  live_messages--;
}

static void
count_live (TcMessage *message)
{
  static GQuark counted;

  if (counted == 0)
    counted = g_quark_from_static_string ("test-counted");

  if (g_object_get_qdata (G_OBJECT (message), counted) != NULL)
    return;

  g_object_set_qdata (G_OBJECT (message), counted, GINT_TO_POINTER (TRUE));
  g_object_weak_ref (G_OBJECT (message), message_finalized_cb, NULL);
  live_messages++;
}

static char *
message_id (guint i)
{
  return g_strdup_printf ("m%04u", i);
}

static TcMessage *
new_message (const char         *peer,
             guint               i,
             TcMessageDirection  direction)
{
  g_autoptr(GDateTime) date = g_date_time_new_now_utc ();
  g_autofree char *id = message_id (i);

  return tc_message_new (id, peer, "text", direction, date, NULL,
                         direction == TC_MESSAGE_DIRECTION_INCOMING ?
                         TC_MESSAGE_STATE_RECEIVED : TC_MESSAGE_STATE_QUEUED);
}

/* Even positions incoming, odd ones outgoing and queued; another peer's
 * messages in between must not show. */
static void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  f->dir = g_dir_make_tmp ("test-conversation-XXXXXX", &error);
  g_assert_no_error (error);
  path = g_build_filename (f->dir, "torchat.db", NULL);
  f->store = tc_store_open (path, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < N_MESSAGES; i++)
    {
      g_autoptr(TcMessage) message = NULL;
      g_autoptr(TcMessage) other = NULL;

      if (i % 2 == 0)
        {
          gboolean duplicate;

          message = new_message (PEER, i, TC_MESSAGE_DIRECTION_INCOMING);
          g_assert_true (tc_store_add_incoming (f->store, message, &duplicate, &error));
        }
      else
        {
          message = new_message (PEER, i, TC_MESSAGE_DIRECTION_OUTGOING);
          g_assert_true (tc_store_add_outgoing (f->store, message, &error));
        }

      other = new_message (OTHER, i, TC_MESSAGE_DIRECTION_OUTGOING);
      g_assert_true (tc_store_add_outgoing (f->store, other, &error));
    }

  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);

  f->conversation = tc_conversation_new (f->store, PEER);
  live_messages = 0;
}

static void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_assert_finalize_object (f->conversation);
  g_assert_finalize_object (f->store);

  /* Nothing the model made outlives it unless a test still holds it. */
  g_assert_cmpuint (live_messages, ==, 0);

  dir = g_dir_open (f->dir, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *path = g_build_filename (f->dir, name, NULL);
      g_unlink (path);
    }
  g_rmdir (f->dir);
  g_free (f->dir);
}

static TcMessage *
get_item (Fixture *f,
          guint    position)
{
  TcMessage *message = g_list_model_get_item (G_LIST_MODEL (f->conversation), position);

  g_assert_true (TC_IS_MESSAGE (message));
  count_live (message);
  return message;
}

static void
items_changed_cb (GListModel   *model,
                  guint         position,
                  guint         removed,
                  guint         added,
                  ItemsChanged *changed)
{
  changed->count++;
  changed->position = position;
  changed->removed = removed;
  changed->added = added;
}

static void
notify_count_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *count)
{
  (*count)++;
}

static void
test_order (Fixture       *f,
            gconstpointer  data)
{
  GListModel *model = G_LIST_MODEL (f->conversation);

  g_assert_cmpstr (tc_conversation_get_peer (f->conversation), ==, PEER);
  g_assert_true (g_list_model_get_item_type (model) == TC_TYPE_MESSAGE);
  g_assert_cmpuint (g_list_model_get_n_items (model), ==, N_MESSAGES);

  /* Backwards too, as a view scrolled to the end does. */
  for (guint pass = 0; pass < 2; pass++)
    {
      for (guint n = 0; n < N_MESSAGES; n++)
        {
          guint i = pass == 0 ? n : N_MESSAGES - 1 - n;
          g_autoptr(TcMessage) message = get_item (f, i);
          g_autofree char *id = message_id (i);

          g_assert_cmpstr (tc_message_get_id (message), ==, id);
          g_assert_cmpstr (tc_message_get_peer (message), ==, PEER);
          g_assert_cmpint (tc_message_get_direction (message), ==,
                           i % 2 == 0 ? TC_MESSAGE_DIRECTION_INCOMING : TC_MESSAGE_DIRECTION_OUTGOING);
        }
    }

  g_assert_null (g_list_model_get_item (model, N_MESSAGES));
  g_assert_null (g_list_model_get_item (model, G_MAXUINT));
}

/* Pages read by key from a neighbour, or by offset from the nearer end:
 * whatever the order of the jumps, every position holds its message. */
static void
test_jumps (Fixture       *f,
            gconstpointer  data)
{
  GRand *rand = g_rand_new_with_seed (42);
  guint starts[] = { N_MESSAGES * 3 / 4, N_MESSAGES / 2 + 1, N_MESSAGES - 1, 5 };

  for (guint s = 0; s < G_N_ELEMENTS (starts); s++)
    {
      g_autoptr(TcConversation) fresh = tc_conversation_new (f->store, PEER);

      /* From a jump, backwards to the start, then forwards to the end. */
      for (gint i = starts[s]; i >= 0; i--)
        {
          g_autoptr(TcMessage) message = g_list_model_get_item (G_LIST_MODEL (fresh), i);
          g_autofree char *id = message_id (i);

          g_assert_cmpstr (tc_message_get_id (message), ==, id);
        }
      for (guint i = starts[s]; i < N_MESSAGES; i++)
        {
          g_autoptr(TcMessage) message = g_list_model_get_item (G_LIST_MODEL (fresh), i);
          g_autofree char *id = message_id (i);

          g_assert_cmpstr (tc_message_get_id (message), ==, id);
        }
    }

  for (guint n = 0; n < 500; n++)
    {
      guint i = g_rand_int_range (rand, 0, N_MESSAGES);
      g_autoptr(TcMessage) message = get_item (f, i);
      g_autofree char *id = message_id (i);

      g_assert_cmpstr (tc_message_get_id (message), ==, id);
    }

  g_rand_free (rand);
}

static void
test_same_object (Fixture       *f,
                  gconstpointer  data)
{
  g_autoptr(TcMessage) first = get_item (f, 5);
  g_autoptr(TcMessage) again = get_item (f, 5);

  g_assert_true (first == again);
  g_clear_object (&again);

  /* Its page leaves the cache, the object stays the one the view holds. */
  for (guint i = 0; i < N_MESSAGES; i++)
    g_object_unref (get_item (f, i));

  again = get_item (f, 5);
  g_assert_true (first == again);
  g_assert_cmpstr (tc_message_get_id (again), ==, "m0005");
}

static void
test_bounded (Fixture       *f,
              gconstpointer  data)
{
  for (guint i = 0; i < N_MESSAGES; i++)
    g_object_unref (get_item (f, i));

  g_assert_cmpuint (live_messages, >, 0);
  g_assert_cmpuint (live_messages, <=, MAX_CACHED);

  for (guint i = N_MESSAGES; i > 0; i--)
    g_object_unref (get_item (f, i - 1));

  g_assert_cmpuint (live_messages, <=, MAX_CACHED);
}

static void
test_append (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TcMessage) message = new_message (PEER, N_MESSAGES, TC_MESSAGE_DIRECTION_OUTGOING);
  g_autoptr(TcMessage) item = NULL;
  g_autoptr(GError) error = NULL;
  ItemsChanged changed = { 0 };
  guint n_items_notified = 0;

  g_signal_connect (f->conversation, "items-changed", G_CALLBACK (items_changed_cb), &changed);
  g_signal_connect (f->conversation, "notify::n-items", G_CALLBACK (notify_count_cb), &n_items_notified);

  /* With the last page cached and without. */
  g_object_unref (get_item (f, N_MESSAGES - 1));

  g_assert_true (tc_store_add_outgoing (f->store, message, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  tc_conversation_append (f->conversation, message);

  g_assert_cmpuint (changed.count, ==, 1);
  g_assert_cmpuint (changed.position, ==, N_MESSAGES);
  g_assert_cmpuint (changed.removed, ==, 0);
  g_assert_cmpuint (changed.added, ==, 1);
  g_assert_cmpuint (n_items_notified, ==, 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, N_MESSAGES + 1);

  item = get_item (f, N_MESSAGES);
  g_assert_true (item == message);
  g_clear_object (&item);
  g_clear_object (&message);

  /* Evict every page, then append: it is read from the store. */
  for (guint i = 0; i < 5 * 64; i++)
    g_object_unref (get_item (f, i));

  message = new_message (PEER, N_MESSAGES + 1, TC_MESSAGE_DIRECTION_INCOMING);
  g_assert_true (tc_store_add_incoming (f->store, message, NULL, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  tc_conversation_append (f->conversation, message);
  g_clear_object (&message);

  g_assert_cmpuint (changed.count, ==, 2);
  g_assert_cmpuint (changed.position, ==, N_MESSAGES + 1);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, N_MESSAGES + 2);

  item = get_item (f, N_MESSAGES + 1);
  g_assert_cmpstr (tc_message_get_id (item), ==, "m1001");
  g_assert_cmpint (tc_message_get_state (item), ==, TC_MESSAGE_STATE_RECEIVED);
  g_clear_object (&item);
  item = get_item (f, N_MESSAGES);
  g_assert_cmpstr (tc_message_get_id (item), ==, "m1000");
}

static void
test_update_state (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(TcMessage) held = get_item (f, 501);
  g_autoptr(TcMessage) other = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  guint state_notified = 0;
  guint date_notified = 0;
  gboolean changed;

  g_assert_cmpint (tc_message_get_state (held), ==, TC_MESSAGE_STATE_QUEUED);
  g_signal_connect (held, "notify::state", G_CALLBACK (notify_count_cb), &state_notified);
  g_signal_connect (held, "notify::received-date", G_CALLBACK (notify_count_cb), &date_notified);

  /* A state without a date keeps the date. */
  g_assert_true (tc_store_set_message_state (f->store, PEER, "m0501", TC_MESSAGE_STATE_SENT, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  tc_conversation_update_state (f->conversation, "m0501", TC_MESSAGE_STATE_SENT, NULL);
  g_assert_cmpuint (state_notified, ==, 1);
  g_assert_cmpuint (date_notified, ==, 0);
  g_assert_cmpint (tc_message_get_state (held), ==, TC_MESSAGE_STATE_SENT);

  g_assert_true (tc_store_mark_delivered (f->store, PEER, "m0501", now, &changed, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  tc_conversation_update_state (f->conversation, "m0501", TC_MESSAGE_STATE_DELIVERED, now);
  g_assert_cmpuint (state_notified, ==, 2);
  g_assert_cmpuint (date_notified, ==, 1);
  g_assert_cmpint (tc_message_get_state (held), ==, TC_MESSAGE_STATE_DELIVERED);
  g_assert_true (g_date_time_equal (tc_message_get_received_date (held), now));

  /* Unknown ids and messages nobody holds are fine; the latter come back
   * from the store with the new state. */
  tc_conversation_update_state (f->conversation, "nope", TC_MESSAGE_STATE_DELIVERED, now);
  for (guint i = 0; i < N_MESSAGES; i++)
    g_object_unref (get_item (f, i));
  g_assert_true (tc_store_mark_delivered (f->store, PEER, "m0003", now, &changed, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  tc_conversation_update_state (f->conversation, "m0003", TC_MESSAGE_STATE_DELIVERED, now);
  other = get_item (f, 3);
  g_assert_cmpint (tc_message_get_state (other), ==, TC_MESSAGE_STATE_DELIVERED);

  g_assert_cmpuint (state_notified, ==, 2);
}

static void
test_reload (Fixture       *f,
             gconstpointer  data)
{
  g_autoptr(TcMessage) held = get_item (f, 1);
  g_autoptr(TcMessage) again = NULL;
  g_autoptr(GError) error = NULL;
  ItemsChanged changed = { 0 };
  guint state_notified = 0;

  g_signal_connect (f->conversation, "items-changed", G_CALLBACK (items_changed_cb), &changed);
  g_signal_connect (held, "notify::state", G_CALLBACK (notify_count_cb), &state_notified);

  /* The contact declined: the store fails the outbox behind our back. */
  g_assert_true (tc_store_fail_outbox (f->store, PEER, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  tc_conversation_reload (f->conversation);

  g_assert_cmpuint (changed.count, ==, 1);
  g_assert_cmpuint (changed.position, ==, 0);
  g_assert_cmpuint (changed.removed, ==, N_MESSAGES);
  g_assert_cmpuint (changed.added, ==, N_MESSAGES);

  again = get_item (f, 1);
  g_assert_true (again == held);
  g_assert_cmpint (tc_message_get_state (held), ==, TC_MESSAGE_STATE_FAILED);
  g_assert_cmpuint (state_notified, ==, 1);
  g_clear_object (&again);

  g_assert_true (tc_store_delete_history (f->store, PEER, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  tc_conversation_reload (f->conversation);

  g_assert_cmpuint (changed.count, ==, 2);
  g_assert_cmpuint (changed.removed, ==, N_MESSAGES);
  g_assert_cmpuint (changed.added, ==, 0);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->conversation)), ==, 0);
  g_assert_null (g_list_model_get_item (G_LIST_MODEL (f->conversation), 0));
}

/* A batch of messages stored at once, then appended one by one, the way a
 * peer hands over what it read from a stream: a view reads the newest item
 * after each append (the sidebar's last message). The store is ahead of
 * the model meanwhile; positions counted from its newest end are not the
 * model's. */
static void
test_append_burst (Fixture       *f,
                   gconstpointer  data)
{
  g_autoptr(GPtrArray) burst = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GError) error = NULL;
  const guint n = 200;

  for (guint i = 0; i < n; i++)
    {
      TcMessage *message = new_message (PEER, N_MESSAGES + i, TC_MESSAGE_DIRECTION_OUTGOING);

      g_assert_true (tc_store_add_outgoing (f->store, message, &error));
      g_ptr_array_add (burst, message);
    }
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(TcMessage) newest = NULL;
      g_autofree char *id = message_id (N_MESSAGES + i);

      tc_conversation_append (f->conversation, g_ptr_array_index (burst, i));
      newest = get_item (f, N_MESSAGES + i);
      g_assert_cmpstr (tc_message_get_id (newest), ==, id);
    }
  g_clear_pointer (&burst, g_ptr_array_unref);

  /* And every position still holds its own message. */
  for (guint i = 0; i < N_MESSAGES + n; i += 7)
    {
      g_autoptr(TcMessage) item = get_item (f, i);
      g_autofree char *id = message_id (i);

      g_assert_cmpstr (tc_message_get_id (item), ==, id);
    }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/conversation/" name, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("order", test_order);
  ADD ("jumps", test_jumps);
  ADD ("same-object", test_same_object);
  ADD ("bounded", test_bounded);
  ADD ("append", test_append);
  ADD ("append-burst", test_append_burst);
  ADD ("update-state", test_update_state);
  ADD ("reload", test_reload);

#undef ADD

  return g_test_run ();
}
