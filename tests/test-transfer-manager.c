/* test-transfer-manager.c: what a node does with the file JMUs a peer
 * sends on the chat stream, one by one
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "tc-identity.h"
#include "tc-node.h"

#define SHA "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

typedef struct {
  char              *dir;
  char              *downloads;
  TcNode            *node;
  TcTransferManager *manager;
  char              *friend;     /* accepted contact */
  char              *stranger;   /* not a contact */
  char              *blocked;
  guint              n_offers;
} Fixture;

static char *
address_from (guint8 fill)
{
  guint8 seed[TC_SEED_LEN];
  g_autoptr(TcIdentity) identity = NULL;

  memset (seed, fill, sizeof seed);
  identity = tc_identity_new_from_seed (seed);
  return g_strdup (tc_identity_get_address (identity));
}

static void
offer_cb (TcTransferManager *manager,
          TcTransfer        *transfer,
          Fixture           *f)
{
  f->n_offers++;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *profile = NULL;

  f->dir = g_dir_make_tmp ("torchat-tm-XXXXXX", &error);
  g_assert_no_error (error);
  profile = g_build_filename (f->dir, "profile", NULL);
  f->downloads = g_build_filename (f->dir, "downloads", NULL);
  g_assert_cmpint (g_mkdir (f->downloads, 0700), ==, 0);
  f->node = tc_node_new (profile, &error);
  g_assert_no_error (error);
  f->manager = tc_node_get_transfer_manager (f->node);
  g_signal_connect (f->manager, "offer-received", G_CALLBACK (offer_cb), f);

  f->friend = address_from (1);
  f->stranger = address_from (2);
  f->blocked = address_from (3);
  g_assert_nonnull (tc_node_add_contact (f->node, f->friend, NULL, NULL, &error));
  g_assert_no_error (error);
  /* As if the friend's contact-accept had come. */
  tc_contact_set_state (tc_node_lookup_contact (f->node, f->friend), TC_CONTACT_STATE_ACCEPTED);
  g_assert_true (tc_node_block_contact (f->node, f->blocked, &error));
  g_assert_no_error (error);
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->node);
  rm_rf (f->dir);
  g_free (f->dir);
  g_free (f->downloads);
  g_free (f->friend);
  g_free (f->stranger);
  g_free (f->blocked);
}

/* Hands @line (as a builder wrote it) to the manager as if @from sent it. */
static void
receive (Fixture    *f,
         const char *from,
         char       *line)
{
  g_autofree char *owned = line;
  g_autoptr(GError) error = NULL;
  g_autoptr(TcJmu) jmu = tc_jmu_parse (line, strlen (line) - 1, &error);

  g_assert_no_error (error);
  tc_transfer_manager_handle_jmu (f->manager, from, jmu);
}

static guint
n_transfers (Fixture *f)
{
  return g_list_model_get_n_items (tc_node_get_transfers (f->node));
}

static TcTransfer *
lookup (Fixture    *f,
        const char *tid)
{
  return tc_transfer_manager_lookup (f->manager, tid, NULL);
}

static void
test_offers (Fixture       *f,
             gconstpointer  data)
{
  TcTransfer *t;

  /* A hostile name is made harmless, and the offer is kept once. */
  receive (f, f->friend, tc_jmu_build_file_offer ("Tid0000000000000001", "../../.bashrc", 11,
                                                  SHA, "text/plain", f->friend));
  receive (f, f->friend, tc_jmu_build_file_offer ("Tid0000000000000001", "../../.bashrc", 11,
                                                  SHA, "text/plain", f->friend));
  g_assert_cmpuint (n_transfers (f), ==, 1);
  g_assert_cmpuint (f->n_offers, ==, 1);
  t = lookup (f, "Tid0000000000000001");
  g_assert_cmpstr (tc_transfer_get_name (t), ==, "bashrc");
  g_assert_cmpint (tc_transfer_get_direction (t), ==, TC_MESSAGE_DIRECTION_INCOMING);
  g_assert_cmpint (tc_transfer_get_state (t), ==, TC_TRANSFER_STATE_OFFERED);
  g_assert_cmpstr (tc_transfer_get_peer (t), ==, f->friend);

  /* Refused: too large, from a stranger, from a blocked address. */
  receive (f, f->friend, tc_jmu_build_file_offer ("Tid0000000000000002", "huge.iso",
                                                  TC_TRANSFER_MAX_INCOMING + 1, SHA,
                                                  "application/octet-stream", f->friend));
  receive (f, f->stranger, tc_jmu_build_file_offer ("Tid0000000000000003", "spam.exe", 11,
                                                    SHA, "application/x-msdownload", f->stranger));
  receive (f, f->blocked, tc_jmu_build_file_offer ("Tid0000000000000004", "spam.exe", 11,
                                                   SHA, "application/x-msdownload", f->blocked));
  g_assert_cmpuint (n_transfers (f), ==, 1);
  g_assert_cmpuint (f->n_offers, ==, 1);

  /* Answers for transfers we never offered change nothing. */
  receive (f, f->friend, tc_jmu_build_file_id (TC_JMU_KIND_FILE_DONE, "Tid0000000000000009", f->friend));
  receive (f, f->friend, tc_jmu_build_file_accept ("Tid0000000000000009", 5, f->friend));
  receive (f, f->friend, tc_jmu_build_file_error ("Tid0000000000000009", "disk-full", NULL, f->friend));
  receive (f, f->friend, tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, "Tid0000000000000009", f->friend));
  g_assert_cmpuint (n_transfers (f), ==, 1);

  /* A peer's file-done cannot finish an incoming transfer. */
  receive (f, f->friend, tc_jmu_build_file_id (TC_JMU_KIND_FILE_DONE, "Tid0000000000000001", f->friend));
  g_assert_cmpint (tc_transfer_get_state (t), ==, TC_TRANSFER_STATE_OFFERED);
}

static void
test_answers (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *partial = NULL;
  g_autofree char *notadir = g_build_filename (f->dir, "profile", "torchat.db", NULL);
  TcTransfer *t;

  receive (f, f->friend, tc_jmu_build_file_offer ("Tid0000000000000001", "a.txt", 11, SHA,
                                                  "text/plain", f->friend));
  receive (f, f->friend, tc_jmu_build_file_offer ("Tid0000000000000002", "b.txt", 11, SHA,
                                                  "text/plain", f->friend));

  /* Accepting into something that is not a folder: a clear error, the
   * offer still waits. */
  g_assert_false (tc_transfer_manager_accept (f->manager, "Tid0000000000000001", notadir, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_DIRECTORY);
  g_clear_error (&error);
  g_assert_false (tc_transfer_manager_accept (f->manager, "nope", f->downloads, &error));
  g_clear_error (&error);
  t = lookup (f, "Tid0000000000000001");
  g_assert_cmpint (tc_transfer_get_state (t), ==, TC_TRANSFER_STATE_OFFERED);

  g_assert_true (tc_transfer_manager_accept (f->manager, "Tid0000000000000001", f->downloads, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tc_transfer_get_state (t), ==, TC_TRANSFER_STATE_WAITING);
  {
    g_autofree char *name = g_strdup_printf (".torchat-%.16s-Tid0000000000000001.part", f->friend);

    partial = g_build_filename (f->downloads, name, NULL);
  }
  g_assert_true (g_file_test (partial, G_FILE_TEST_IS_REGULAR));
  /* Answered once only. */
  g_assert_false (tc_transfer_manager_accept (f->manager, "Tid0000000000000001", f->downloads, &error));
  g_clear_error (&error);

  g_assert_true (tc_transfer_manager_decline (f->manager, "Tid0000000000000002", &error));
  g_assert_cmpint (tc_transfer_get_state (lookup (f, "Tid0000000000000002")), ==,
                   TC_TRANSFER_STATE_DECLINED);

  /* The sender cancels: the partial file goes. */
  receive (f, f->friend, tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, "Tid0000000000000001", f->friend));
  g_assert_cmpint (tc_transfer_get_state (t), ==, TC_TRANSFER_STATE_CANCELLED);
  g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));

  /* Everything survives a restart of the node. */
  {
    g_autofree char *profile = g_strdup (tc_node_get_profile_dir (f->node));

    g_clear_object (&f->node);
    f->node = tc_node_new (profile, &error);
    g_assert_no_error (error);
    f->manager = tc_node_get_transfer_manager (f->node);
    g_assert_cmpuint (n_transfers (f), ==, 2);
    g_assert_cmpint (tc_transfer_get_state (lookup (f, "Tid0000000000000001")), ==,
                     TC_TRANSFER_STATE_CANCELLED);
    g_assert_cmpint (tc_transfer_get_state (lookup (f, "Tid0000000000000002")), ==,
                     TC_TRANSFER_STATE_DECLINED);
  }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

#define ADD(name, func) \
  g_test_add ("/transfer-manager/" name, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("offers", test_offers);
  ADD ("answers", test_answers);

  return g_test_run ();
}
