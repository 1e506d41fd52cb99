/* bench-store.c: how fast the store takes and gives back messages
 *
 * Run with `meson test -C _build --benchmark store -v`; TMPDIR chooses the
 * disk it measures. Everything runs twice, on a plaintext and on an
 * encrypted (SQLCipher) database, then the ratios; last, unlocking an
 * encrypted profile of 100,000 messages (Argon2id at its real cost, then
 * opening the database).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include <glib/gstdio.h>

#include <string.h>

#include "tc-conversation.h"
#include "tc-profile-key.h"
#include "tc-store.h"
#include "tc-store-private.h"

#define PEER "alice2hbsvwrsa7gp6ddvyxbp4kjlmkpftbjgzjhs4sljkqlsdqs7nad"
#define TEXT "A message of ordinary length, about as long as people write them."

/* The times of the current run, in the order reported. */
static GArray *times;
static GPtrArray *names;

static void
report (const char *what,
        guint       count,
        gint64      usec)
{
  g_print ("%-44s %8u in %8.1f ms  %10.0f /s\n",
           what, count, usec / 1000.0, count / (usec / (double) G_USEC_PER_SEC));
  g_array_append_val (times, usec);
  if (names->len < times->len)
    g_ptr_array_add (names, g_strdup (what));
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

static void
run (const guint8 *key,
     gboolean      keep,
     char        **kept_dir)
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
  store = tc_store_open_encrypted (path, key, &error);
  check (store != NULL, error);
  g_print ("%s database in %s\n", key ? "encrypted" : "plaintext", dir);

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
  if (keep)
    {
      *kept_dir = g_steal_pointer (&dir);
      return;
    }
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *file = g_build_filename (dir, files[i], NULL);
      g_unlink (file);
    }
  g_rmdir (dir);
}

/* "bench-store deep [N]": a conversation of N messages (1,000,000 by
 * default), plaintext: counting, keyset pages at any depth, the window's
 * model scrolled at the middle. Not in the meson benchmark (it takes a
 * minute to build). */
static void
run_deep (guint n)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("bench-store-deep-XXXXXX", &error);
  g_autofree char *path = NULL;
  g_autoptr(TcStore) store = NULL;
  g_autoptr(TcConversation) conversation = NULL;
  const char *files[] = { "torchat.db", "torchat.db-wal", "torchat.db-shm" };
  const guint depths[] = { 0, n / 2, n - 64 };
  guint total = 0;
  gint64 start;

  check (dir != NULL, error);
  path = g_build_filename (dir, "torchat.db", NULL);
  store = tc_store_open (path, &error);
  check (store != NULL, error);
  g_print ("== deep: %u messages in %s ==\n", n, dir);

  for (guint done = 0; done < n; done += 100000)
    {
      g_autofree char *prefix = g_strdup_printf ("deep%u", done);

      add_incoming (store, prefix, MIN (100000, n - done), FALSE);
    }

  start = g_get_monotonic_time ();
  for (guint i = 0; i < 100; i++)
    total = tc_store_count_messages (store, PEER);
  report ("count messages", 100, g_get_monotonic_time () - start);
  g_print ("  %u messages\n", total);

  /* The search index is built when the node is idle (tc-store-search.c):
   * here all at once, as after a restart with nothing indexed. */
  start = g_get_monotonic_time ();
  check (_tc_store_index_now (store, &error), error);
  report ("index every message (idle batches of 2,000)", n, g_get_monotonic_time () - start);

  /* Search: a word in 10 of them, and a word in every one. The 10 are not
   * indexed yet (the tail a search reads too), then indexed. */
  for (guint round = 0; round < 2; round++)
  {
    g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
    const char *words[] = { "zebra", "ordinary" };

    for (guint i = 0; i < 10; i++)
      {
        g_autofree char *id = g_strdup_printf ("rare-%u", i);
        g_autoptr(TcMessage) message = tc_message_new (id, PEER, "a zebra crossed the road",
                                                       TC_MESSAGE_DIRECTION_INCOMING, now, NULL,
                                                       TC_MESSAGE_STATE_RECEIVED);
        gboolean duplicate;

        if (round == 0)
          check (tc_store_add_incoming (store, message, &duplicate, &error), error);
      }
    check (tc_store_commit (store, &error), error);
    if (round == 1)
      check (_tc_store_index_now (store, &error), error);
    g_print ("  %u not indexed\n", _tc_store_count_unindexed (store));

    for (guint w = 0; w < G_N_ELEMENTS (words); w++)
      {
        g_autofree char *what = g_strdup_printf ("search \"%s\", newest 100%s", words[w],
                                                 round == 0 ? ", 10 not indexed" : "");
        guint found = 0;

        start = g_get_monotonic_time ();
        for (guint i = 0; i < 10; i++)
          {
            g_autoptr(GPtrArray) hits = tc_store_search (store, words[w], NULL, 100, &error);

            check (hits != NULL, error);
            found = hits->len;
          }
        report (what, 10, g_get_monotonic_time () - start);
        g_print ("  %u found\n", found);
      }
  }

  /* Right after a burst: 10,000 messages not indexed yet. */
  {
    g_autoptr(GPtrArray) hits = NULL;

    add_incoming (store, "burst", 10000, FALSE);
    g_print ("  %u not indexed\n", _tc_store_count_unindexed (store));
    start = g_get_monotonic_time ();
    hits = tc_store_search (store, "zebra", NULL, 100, &error);
    check (hits != NULL, error);
    report ("search \"zebra\", 10,000 not indexed", 1, g_get_monotonic_time () - start);
    g_print ("  %u found\n", hits->len);
    start = g_get_monotonic_time ();
    check (_tc_store_index_now (store, &error), error);
    report ("index them", 10000, g_get_monotonic_time () - start);
  }

  for (guint d = 0; d < G_N_ELEMENTS (depths); d++)
    {
      g_autofree char *what = NULL;
      g_autoptr(GPtrArray) anchor = NULL;
      gint64 first = -1, last = -1;

      /* The key of the row before the page, found once by offset. */
      anchor = tc_store_list_page (store, PEER, TC_STORE_PAGE_FROM_START, depths[d],
                                   64, &first, &last, &error);
      check (anchor != NULL && anchor->len > 0, error);

      what = g_strdup_printf ("keyset page of 64 after position %u", depths[d]);
      start = g_get_monotonic_time ();
      for (guint i = 0; i < 100; i++)
        {
          g_autoptr(GPtrArray) page = tc_store_list_page (store, PEER, TC_STORE_PAGE_AFTER,
                                                          first - 1, 64, NULL, NULL, &error);
          check (page != NULL && page->len == 64, error);
        }
      report (what, 100, g_get_monotonic_time () - start);

      g_free (what);
      what = g_strdup_printf ("keyset page of 64 before position %u", depths[d] + 64);
      start = g_get_monotonic_time ();
      for (guint i = 0; i < 100; i++)
        {
          g_autoptr(GPtrArray) page = tc_store_list_page (store, PEER, TC_STORE_PAGE_BEFORE,
                                                          last + 1, 64, NULL, NULL, &error);
          check (page != NULL && page->len == 64, error);
        }
      report (what, 100, g_get_monotonic_time () - start);
    }

  /* The window's model: open, jump to the middle (no key known: an offset
   * from the nearer end), then scroll 100 pages up by key. */
  start = g_get_monotonic_time ();
  conversation = tc_conversation_new (store, PEER);
  report ("open the conversation (count)", 1, g_get_monotonic_time () - start);
  start = g_get_monotonic_time ();
  g_object_unref (g_list_model_get_item (G_LIST_MODEL (conversation), n / 2));
  report ("jump to the middle (cold page)", 1, g_get_monotonic_time () - start);
  start = g_get_monotonic_time ();
  for (guint p = 1; p <= 100; p++)
    g_object_unref (g_list_model_get_item (G_LIST_MODEL (conversation), n / 2 - p * 64));
  report ("scroll up from the middle, per page", 100, g_get_monotonic_time () - start);
  g_clear_object (&conversation);

  g_clear_object (&store);
  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autofree char *file = g_build_filename (dir, files[i], NULL);
      g_unlink (file);
    }
  g_rmdir (dir);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcProfileKey) key = tc_profile_key_new (&error);
  g_autoptr(TcProfileKey) unlocked = NULL;
  g_autoptr(GArray) plain = NULL;
  g_autoptr(TcStore) store = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *header = NULL;
  g_autofree char *path = NULL;
  guint8 subkey[TC_PROFILE_SUBKEY_LEN];
  static const char passphrase[] = "a passphrase for the benchmark";
  gint64 start, kdf, open;
  guint total;

  if (argc > 1 && g_str_equal (argv[1], "deep"))
    {
      names = g_ptr_array_new_with_free_func (g_free);
      times = g_array_new (FALSE, FALSE, sizeof (gint64));
      run_deep (argc > 2 ? (guint) g_ascii_strtoull (argv[2], NULL, 10) : 1000000);
      g_clear_pointer (&times, g_array_unref);
      g_ptr_array_unref (names);
      return 0;
    }

  check (key != NULL, error);
  tc_profile_key_derive (key, TC_PROFILE_SUBKEY_DATABASE, subkey);
  names = g_ptr_array_new_with_free_func (g_free);

  g_print ("== plaintext ==\n");
  times = g_array_new (FALSE, FALSE, sizeof (gint64));
  run (NULL, FALSE, NULL);
  plain = g_steal_pointer (&times);

  g_print ("== encrypted ==\n");
  times = g_array_new (FALSE, FALSE, sizeof (gint64));
  run (subkey, TRUE, &dir);

  g_print ("== encrypted / plaintext (time ratio) ==\n");
  for (guint i = 0; i < times->len && i < plain->len; i++)
    g_print ("%-44s %8.2f\n", (char *) g_ptr_array_index (names, i),
             g_array_index (times, gint64, i) / (double) MAX (1, g_array_index (plain, gint64, i)));
  g_clear_pointer (&times, g_array_unref);

  /* Unlocking: the profile header at its real cost, then the database. */
  header = g_build_filename (dir, "profile.key", NULL);
  check (tc_profile_key_write (key, header, passphrase, strlen (passphrase), &error), error);
  path = g_build_filename (dir, "torchat.db", NULL);

  start = g_get_monotonic_time ();
  unlocked = tc_profile_key_unlock (header, passphrase, strlen (passphrase), NULL, &error);
  check (unlocked != NULL, error);
  kdf = g_get_monotonic_time () - start;
  tc_profile_key_derive (unlocked, TC_PROFILE_SUBKEY_DATABASE, subkey);
  start = g_get_monotonic_time ();
  store = tc_store_open_encrypted (path, subkey, &error);
  check (store != NULL, error);
  total = tc_store_count_messages (store, PEER);
  open = g_get_monotonic_time () - start;
  g_print ("== unlock ==\n");
  g_print ("Argon2id (t=3, m=256 MiB)                    %8.1f ms\n", kdf / 1000.0);
  g_print ("open the database, count %u messages     %8.1f ms\n", total, open / 1000.0);
  g_print ("unlock in all                                %8.1f ms\n", (kdf + open) / 1000.0);
  g_clear_object (&store);

  {
    const char *files[] = { "torchat.db", "torchat.db-wal", "torchat.db-shm", "profile.key" };

    for (guint i = 0; i < G_N_ELEMENTS (files); i++)
      {
        g_autofree char *file = g_build_filename (dir, files[i], NULL);
        g_unlink (file);
      }
    g_rmdir (dir);
  }
  g_ptr_array_unref (names);

  return 0;
}
