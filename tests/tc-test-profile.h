/* tc-test-profile.h: a profile directory for the profile tests
 *
 * Header-only, shared by test-profile.c and test-profile-disk.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <string.h>

#include <glib/gstdio.h>

#include "tc-node.h"
#include "tc-profile.h"
#include "tc-store.h"

#define PASS1 "first passphrase"
#define PASS2 "second passphrase, longer"

typedef struct
{
  char *dir;
  char *profile;
  char *peer;       /* a contact's address */
} Fixture;

static inline void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)))
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static inline void
fixture_set_up (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcIdentity) peer = tc_identity_new_random (&error);

  g_assert_no_error (error);
  f->dir = g_dir_make_tmp ("test-profile-XXXXXX", &error);
  g_assert_no_error (error);
  f->profile = g_build_filename (f->dir, "profile", NULL);
  f->peer = g_strdup (tc_identity_get_address (peer));
}

static inline void
fixture_tear_down (Fixture       *f,
                   gconstpointer  data)
{
  rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->profile);
  g_free (f->peer);
}

static inline char *
profile_file (Fixture    *f,
              const char *name)
{
  return g_build_filename (f->profile, name, NULL);
}

static inline TcNode *
open_locked (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  TcNode *node = tc_node_new_locked (f->profile, &error);

  g_assert_no_error (error);
  g_assert_nonnull (node);
  return node;
}

static inline TcNode *
open_with (Fixture    *f,
           const char *passphrase)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) node = open_locked (f);

  tc_node_unlock (node, passphrase, passphrase ? strlen (passphrase) : 0, &error);
  g_assert_no_error (error);
  g_assert_true (tc_node_get_unlocked (node));
  return g_steal_pointer (&node);
}

/* A contact, @n messages to it and @n from it, all committed. */
static inline void
fill (Fixture *f,
      TcNode  *node,
      guint    n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) texts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) sent = NULL;
  TcStore *store = tc_node_get_store (node);
  TcContact *contact;

  contact = tc_node_add_contact (node, f->peer, "Peer nick", "hello, a greeting", &error);
  g_assert_no_error (error);
  g_assert_nonnull (contact);

  for (guint i = 0; i < n; i++)
    g_ptr_array_add (texts, g_strdup_printf ("outgoing message %u", i));
  g_ptr_array_add (texts, NULL);
  sent = tc_node_send_messages (node, f->peer, (const char * const *) texts->pdata, &error);
  g_assert_no_error (error);

  for (guint i = 0; i < n; i++)
    {
      g_autofree char *id = g_strdup_printf ("in-%u", i);
      g_autofree char *text = g_strdup_printf ("incoming message %u", i);
      g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
      g_autoptr(TcMessage) message = tc_message_new (id, f->peer, text,
                                                     TC_MESSAGE_DIRECTION_INCOMING,
                                                     now, NULL, TC_MESSAGE_STATE_RECEIVED);
      gboolean duplicate = TRUE;

      g_assert_true (tc_store_add_incoming (store, message, &duplicate, &error));
      g_assert_no_error (error);
      g_assert_false (duplicate);
    }
  g_assert_true (tc_store_commit (store, &error));
  g_assert_no_error (error);
}

