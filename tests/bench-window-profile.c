/* bench-window-profile.c: a profile for the window benchmark
 *
 * Usage: bench-window-profile DIR CONTACTS MESSAGES
 *
 * Creates a plaintext profile in DIR with CONTACTS accepted contacts; the
 * first, named "Busy", has a conversation of MESSAGES messages in both
 * directions and of realistic lengths, one a minute, the newest last
 * ("Message number MESSAGES …"). Prints Busy's address.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "tc-address.h"
#include "tc-node.h"
#include "tc-store-private.h"

static const char * const words[] = {
  "see", "you", "at", "seven", "the", "library", "tomorrow", "maybe", "we",
  "could", "take", "the", "train", "instead", "of", "walking", "all", "way",
  "did", "read", "that", "article", "about", "onion", "services", "yes",
};

static void
check (gboolean  ok,
       GError   *error)
{
  if (!ok)
    {
      g_printerr ("bench-window-profile: %s\n", error ? error->message : "failed");
      exit (1);
    }
}

static char *
random_address (GRand *rand)
{
  guint8 key[TC_PUBLIC_KEY_LEN];

  for (guint i = 0; i < sizeof key; i++)
    key[i] = g_rand_int_range (rand, 0, 256);

  return tc_address_from_public_key (key);
}

/* Between 2 and 40 words: most chat lines are short, some are not. */
static char *
random_text (GRand *rand,
             guint  number,
             guint  total)
{
  GString *text = g_string_new (NULL);
  guint n = g_rand_int_range (rand, 0, 10) < 8 ? g_rand_int_range (rand, 2, 12)
                                                : g_rand_int_range (rand, 12, 40);

  if (number == total)
    g_string_append_printf (text, "Message number %u, the newest", number);
  else
    for (guint i = 0; i < n; i++)
      g_string_append_printf (text, "%s%s", i ? " " : "",
                              words[g_rand_int_range (rand, 0, G_N_ELEMENTS (words))]);

  return g_string_free (text, FALSE);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) node = NULL;
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *busy = NULL;
  TcStore *store;
  guint contacts, messages;

  if (argc != 4)
    {
      g_printerr ("usage: bench-window-profile DIR CONTACTS MESSAGES\n");
      return 2;
    }
  contacts = atoi (argv[2]);
  messages = atoi (argv[3]);

  node = tc_node_new (argv[1], &error);
  check (node != NULL, error);
  store = tc_node_get_store (node);

  for (guint i = 0; i < contacts; i++)
    {
      g_autofree char *address = random_address (rand);
      g_autofree char *name = i == 0 ? g_strdup ("Busy") : g_strdup_printf ("Contact %u", i);
      g_autoptr(TcContact) contact = tc_contact_new (address);

      tc_contact_set_nickname (contact, name);
      tc_contact_set_state (contact, TC_CONTACT_STATE_ACCEPTED);
      check (tc_store_save_contact (store, contact, &error), error);
      if (i == 0)
        busy = g_strdup (address);
    }
  check (tc_store_commit (store, &error), error);

  for (guint i = 1; i <= messages; i++)
    {
      g_autofree char *id = g_strdup_printf ("bench-%u", i);
      g_autofree char *text = random_text (rand, i, messages);
      g_autoptr(GDateTime) date = g_date_time_add_minutes (now, (gint) i - (gint) messages);
      gboolean outgoing = g_rand_boolean (rand) && i != messages;
      g_autoptr(TcMessage) message = NULL;
      gboolean duplicate;

      message = tc_message_new (id, busy, text,
                                outgoing ? TC_MESSAGE_DIRECTION_OUTGOING : TC_MESSAGE_DIRECTION_INCOMING,
                                date, date,
                                outgoing ? TC_MESSAGE_STATE_DELIVERED : TC_MESSAGE_STATE_RECEIVED);
      if (outgoing)
        check (tc_store_add_outgoing (store, message, &error) &&
               tc_store_set_message_state (store, busy, id, TC_MESSAGE_STATE_DELIVERED, &error),
               error);
      else
        check (tc_store_add_incoming (store, message, &duplicate, &error), error);

      if (i % 10000 == 0)
        check (tc_store_commit (store, &error), error);
    }
  check (tc_store_commit (store, &error), error);
  /* A profile used for a while has its search index built in idle
   * moments; indexing 100,000 messages at the window's first start would
   * fill the database's page cache then and be measured as the window's. */
  check (_tc_store_index_now (store, &error), error);

  g_print ("%s\n", busy);

  return 0;
}
