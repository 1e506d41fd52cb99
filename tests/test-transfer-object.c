/* test-transfer-object.c: TcTransfer as views bind to it, and its row in
 * the profile's database
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>

#include "tc-store-transfers.h"
#include "tc-transfer.h"

#define PEER "aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4bqead.onion"

static void
count_cb (GObject    *object,
          GParamSpec *pspec,
          guint      *count)
{
  (*count)++;
}

static void
test_notify (void)
{
  g_autoptr(TcTransfer) transfer = tc_transfer_new ("Tx7Qe0sLrVq3xT9kLm2Pz4Wb",
                                                    TC_MESSAGE_DIRECTION_INCOMING, PEER);
  guint state = 0, done = 0, name = 0, speed = 0;

  g_signal_connect (transfer, "notify::state", G_CALLBACK (count_cb), &state);
  g_signal_connect (transfer, "notify::done", G_CALLBACK (count_cb), &done);
  g_signal_connect (transfer, "notify::name", G_CALLBACK (count_cb), &name);
  g_signal_connect (transfer, "notify::speed", G_CALLBACK (count_cb), &speed);

  g_assert_cmpint (tc_transfer_get_state (transfer), ==, TC_TRANSFER_STATE_WAITING);
  tc_transfer_set_state (transfer, TC_TRANSFER_STATE_WAITING);
  g_assert_cmpuint (state, ==, 0);
  tc_transfer_set_state (transfer, TC_TRANSFER_STATE_ACTIVE);
  g_assert_cmpuint (state, ==, 1);

  tc_transfer_set_name (transfer, "a.txt");
  tc_transfer_set_name (transfer, "a.txt");
  g_assert_cmpuint (name, ==, 1);
  g_object_set (transfer, "name", "b.txt", NULL);
  g_assert_cmpuint (name, ==, 2);

  /* Bytes flowing: "done" notifies, but not for every chunk. */
  tc_transfer_set_size (transfer, 1000000);
  done = 0;
  for (gint64 i = 1; i <= 1000; i++)
    tc_transfer_set_done (transfer, i * 1000);
  g_assert_cmpuint (done, >=, 1);
  g_assert_cmpuint (done, <, 100);
  g_assert_cmpint (tc_transfer_get_done (transfer), ==, 1000000);

  /* Leaving "active" brings "done" up to date and the speed to zero. */
  tc_transfer_set_state (transfer, TC_TRANSFER_STATE_PAUSED);
  g_assert_cmpfloat (tc_transfer_get_speed (transfer), ==, 0);
  g_assert_false (tc_transfer_is_finished (transfer));
  tc_transfer_set_state (transfer, TC_TRANSFER_STATE_DONE);
  g_assert_true (tc_transfer_is_finished (transfer));
}

static void
test_store (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("torchat-transfer-XXXXXX", &error);
  g_autofree char *path = g_build_filename (dir, "torchat.db", NULL);
  g_autoptr(TcStore) store = NULL;
  g_autoptr(TcTransfer) out = tc_transfer_new ("Tx7Qe0sLrVq3xT9kLm2Pz4Wb",
                                               TC_MESSAGE_DIRECTION_OUTGOING, PEER);
  g_autoptr(TcTransfer) in = tc_transfer_new ("Tx7Qe0sLrVq3xT9kLm2Pz4Wb",
                                              TC_MESSAGE_DIRECTION_INCOMING, PEER);
  g_autoptr(GPtrArray) loaded = NULL;
  TcTransfer *t;

  g_assert_no_error (error);
  store = tc_store_open (path, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tc_store_get_schema_version (store), >=, 2);

  tc_transfer_set_name (out, "Ünïcødé.pdf");
  tc_transfer_set_size (out, G_GINT64_CONSTANT (5000000000));
  tc_transfer_set_mime (out, "application/pdf");
  tc_transfer_set_path (out, "/home/me/Ünïcødé.pdf");
  tc_transfer_set_state (out, TC_TRANSFER_STATE_OFFERED);
  tc_transfer_set_created (out, 1764670000);
  tc_transfer_set_name (in, "same-tid-other-direction");
  tc_transfer_set_state (in, TC_TRANSFER_STATE_FAILED);
  tc_transfer_set_error (in, "The disk is full");
  tc_transfer_set_directory (in, "/tmp");
  tc_transfer_set_created (in, 1764670001);

  g_assert_true (tc_store_save_transfer (store, out, &error));
  g_assert_true (tc_store_save_transfer (store, in, &error));
  /* Saving again replaces the row. */
  tc_transfer_set_state (out, TC_TRANSFER_STATE_PAUSED);
  g_assert_true (tc_store_save_transfer (store, out, &error));
  g_assert_true (tc_store_commit (store, &error));
  g_assert_no_error (error);
  g_clear_object (&store);

  store = tc_store_open (path, &error);
  g_assert_no_error (error);
  loaded = tc_store_load_transfers (store, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (loaded->len, ==, 2);

  t = g_ptr_array_index (loaded, 0);
  g_assert_cmpint (tc_transfer_get_direction (t), ==, TC_MESSAGE_DIRECTION_OUTGOING);
  g_assert_cmpstr (tc_transfer_get_name (t), ==, "Ünïcødé.pdf");
  g_assert_cmpint (tc_transfer_get_size (t), ==, G_GINT64_CONSTANT (5000000000));
  g_assert_cmpint (tc_transfer_get_state (t), ==, TC_TRANSFER_STATE_PAUSED);
  g_assert_cmpstr (tc_transfer_get_path (t), ==, "/home/me/Ünïcødé.pdf");
  g_assert_null (tc_transfer_get_sha256 (t));
  t = g_ptr_array_index (loaded, 1);
  g_assert_cmpint (tc_transfer_get_direction (t), ==, TC_MESSAGE_DIRECTION_INCOMING);
  g_assert_cmpstr (tc_transfer_get_error (t), ==, "The disk is full");
  g_assert_cmpstr (tc_transfer_get_directory (t), ==, "/tmp");

  g_assert_true (tc_store_delete_transfers (store, PEER, &error));
  g_assert_true (tc_store_commit (store, &error));
  g_clear_pointer (&loaded, g_ptr_array_unref);
  loaded = tc_store_load_transfers (store, &error);
  g_assert_cmpuint (loaded->len, ==, 0);

  g_clear_object (&store);
  {
    g_autofree char *wal = g_strconcat (path, "-wal", NULL);
    g_autofree char *shm = g_strconcat (path, "-shm", NULL);
    g_unlink (wal);
    g_unlink (shm);
  }
  g_unlink (path);
  g_rmdir (dir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/transfer-object/notify", test_notify);
  g_test_add_func ("/transfer-object/store", test_store);

  return g_test_run ();
}
