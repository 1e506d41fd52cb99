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

#include "tc-profile-key.h"
#include "tc-store.h"

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
