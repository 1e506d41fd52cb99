/* bench-store.c: how fast the store takes and gives back messages
 *
 * Run with `meson test -C _build --benchmark store -v`; TMPDIR chooses the
 * disk it measures.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>

#include "tc-store.h"

#define PEER "alice2hbsvwrsa7gp6ddvyxbp4kjlmkpftbjgzjhs4sljkqlsdqs7nad"
#define TEXT "A message of ordinary length, about as long as people write them."

static void
report (const char *what,
        guint       count,
        gint64      usec)
{
  g_print ("%-44s %8u in %8.1f ms  %10.0f /s\n",
           what, count, usec / 1000.0, count / (usec / (double) G_USEC_PER_SEC));
}

static void
check (gboolean  ok,
       GError   *error)
{
  if (!ok)
    g_error ("%s", error ? error->message : "failed");
}

static gint64
add_incoming (TcStore    *store,
              const char *prefix,
              guint       count,
              gboolean    commit_each)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  GError *error = NULL;
  gint64 start = g_get_monotonic_time ();

  for (guint i = 0; i < count; i++)
    {
      g_autofree char *id = g_strdup_printf ("%s-%u", prefix, i);
      g_autoptr(TcMessage) message = NULL;
      gboolean duplicate;

      message = tc_message_new (id, PEER, TEXT, TC_MESSAGE_DIRECTION_INCOMING,
                                now, NULL, TC_MESSAGE_STATE_RECEIVED);
      check (tc_store_add_incoming (store, message, &duplicate, &error), error);
      if (commit_each)
        check (tc_store_commit (store, &error), error);
    }
  check (tc_store_commit (store, &error), error);

  return g_get_monotonic_time () - start;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bench-store-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(TcStore) store = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GPtrArray) outbox = NULL;
  const char *files[] = { "torchat.db", "torchat.db-wal", "torchat.db-shm" };
  gint64 start;
  guint total = 0;

  check (dir != NULL, error);
  path = g_build_filename (dir, "torchat.db", NULL);
  store = tc_store_open (path, &error);
  check (store != NULL, error);
  g_print ("database in %s\n", dir);

  report ("incoming, one commit", 10000, add_incoming (store, "a", 10000, FALSE));
  report ("incoming, one commit (again)", 10000, add_incoming (store, "b", 10000, FALSE));
  report ("incoming, a commit each", 200, add_incoming (store, "c", 200, TRUE));

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 10000; i++)
    {
      g_autofree char *id = g_strdup_printf ("out-%u", i);
      g_autoptr(TcMessage) message = NULL;

      message = tc_message_new (id, PEER, TEXT, TC_MESSAGE_DIRECTION_OUTGOING,
                                now, NULL, TC_MESSAGE_STATE_QUEUED);
      check (tc_store_add_outgoing (store, message, &error), error);
    }
  check (tc_store_commit (store, &error), error);
  report ("outgoing, one commit", 10000, g_get_monotonic_time () - start);

  start = g_get_monotonic_time ();
  outbox = tc_store_list_outbox (store, PEER, &error);
  check (outbox != NULL, error);
  report ("list outbox", outbox->len, g_get_monotonic_time () - start);

  start = g_get_monotonic_time ();
  for (guint i = 0; i < outbox->len; i++)
    {
      TcMessage *message = g_ptr_array_index (outbox, i);
      gboolean changed;

      check (tc_store_mark_delivered (store, PEER, tc_message_get_id (message),
                                      now, &changed, &error), error);
    }
  check (tc_store_commit (store, &error), error);
  report ("receipts, one commit", outbox->len, g_get_monotonic_time () - start);

  report ("incoming, one commit (to 100,000)", 69800, add_incoming (store, "d", 69800, FALSE));

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 100; i++)
    total = tc_store_count_messages (store, PEER);
  report ("count messages (100,000 stored)", 100, g_get_monotonic_time () - start);
  g_print ("  %u messages\n", total);

  {
    const guint offsets[] = { 0, total / 2, total - 64 };

    for (guint o = 0; o < G_N_ELEMENTS (offsets); o++)
      {
        g_autofree char *what = g_strdup_printf ("page of 64 at offset %u", offsets[o]);

        start = g_get_monotonic_time ();
        for (guint i = 0; i < 100; i++)
          {
            g_autoptr(GPtrArray) page = tc_store_list_messages (store, PEER, offsets[o], 64, &error);
            check (page != NULL && page->len == 64, error);
          }
        report (what, 100, g_get_monotonic_time () - start);
      }
  }

  g_clear_object (&store);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *file = g_build_filename (dir, files[i], NULL);
      g_unlink (file);
    }
  g_rmdir (dir);

  return 0;
}
