/* test-transfer.c: file transfer between real nodes through the test SOCKS
 * server
 *
 * Nodes A and B run as `torchat --headless` processes and are driven only by
 * the command line (`send-file`, `transfers`, `accept-file` …), as a user or
 * a script would. Files are checked byte for byte by their SHA-256.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <locale.h>
#include <sys/stat.h>

#include "tc-test-harness.h"

#define MB (1024 * 1024)

typedef struct
{
  TcTestNet  *net;
  TcTestNode *a;
  TcTestNode *b;
  char       *files;      /* what A sends */
  char       *downloads;  /* where B receives */
} Fixture;

#define WAIT_UNTIL(expr) TC_WAIT_UNTIL (f->net, expr, TC_TEST_TIMEOUT)
#define WAIT_LONG(expr) TC_WAIT_UNTIL (f->net, expr, 5 * TC_TEST_TIMEOUT)

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  if (tc_test_binary () == NULL || g_getenv ("TORCHAT_TEST_SOCKS") == NULL)
    {
      g_test_skip ("TORCHAT_BINARY and TORCHAT_TEST_SOCKS are not set");
      return;
    }

  f->net = tc_test_net_new ();
  f->a = tc_test_net_add_node (f->net, "A");
  f->b = tc_test_net_add_node (f->net, "B");
  f->files = g_build_filename (f->net->tmpdir, "files", NULL);
  f->downloads = g_build_filename (f->net->tmpdir, "downloads", NULL);
  g_assert_cmpint (g_mkdir (f->files, 0700), ==, 0);
  g_assert_cmpint (g_mkdir (f->downloads, 0700), ==, 0);
  tc_test_make_friends (f->net, f->a, f->b);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_pointer (&f->net, tc_test_net_free);
  g_free (f->files);
  g_free (f->downloads);
}

#define SKIP_WITHOUT_NODES()  \
  G_STMT_START {              \
    if (f->net == NULL)       \
      return;                 \
  } G_STMT_END

/* A file of @size pseudo-random bytes (a fixed seed per name). */
static char *
make_file (Fixture    *f,
           const char *name,
           gsize       size)
{
  g_autofree char *path = g_build_filename (f->files, name, NULL);
  g_autoptr(GRand) rand = g_rand_new_with_seed (g_str_hash (name));
  g_autofree guint32 *block = g_new (guint32, MB / 4);
  FILE *fp = fopen (path, "wb");

  g_assert_nonnull (fp);
  for (gsize done = 0; done < size; )
    {
      gsize n = MIN (size - done, (gsize) MB);

      for (gsize i = 0; i < MB / 4; i++)
        block[i] = g_rand_int (rand);
      g_assert_cmpuint (fwrite (block, 1, n, fp), ==, n);
      done += n;
    }
  g_assert_cmpint (fclose (fp), ==, 0);

  return g_steal_pointer (&path);
}

static char *
file_sha256 (const char *path)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  g_autofree guint8 *buf = g_malloc (MB);
  FILE *fp = fopen (path, "rb");
  gsize n;

  if (fp == NULL)
    return NULL;
  while ((n = fread (buf, 1, MB, fp)) > 0)
    g_checksum_update (checksum, buf, n);
  fclose (fp);

  return g_strdup (g_checksum_get_string (checksum));
}

/* `send-file`, which must succeed; returns the TID from its first line. */
static char *
send_file (TcTestNode *from,
           TcTestNode *to,
           const char *path)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  char *nl;
  int status;

  status = tc_test_run_cli (from, NULL, &out, &err, "send-file", to->address, path);
  if (status != 0)
    g_test_message ("send-file on %s: status %d: %s", from->name, status, err);
  g_assert_cmpint (status, ==, 0);
  if ((nl = strchr (out, '\n')) != NULL)
    *nl = '\0';
  g_assert_cmpuint (strlen (out), >=, 16);

  return g_steal_pointer (&out);
}

/* The transfer @tid in @node's `--json transfers`, or NULL. */
static JsonObject *
find_transfer (TcTestNode *node,
               const char *tid)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "transfers");
  JsonArray *array = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *t = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (t, "id"), tid) == 0)
        return json_object_ref (t);
    }

  return NULL;
}

static const char *
transfer_state (TcTestNode *node,
                const char *tid)
{
  g_autoptr(JsonObject) t = find_transfer (node, tid);

  return t ? g_intern_string (json_object_get_string_member (t, "state")) : "(none)";
}

static gint64
transfer_done (TcTestNode *node,
               const char *tid)
{
  g_autoptr(JsonObject) t = find_transfer (node, tid);

  return t ? json_object_get_int_member (t, "done") : -1;
}

#define STATE_IS(node, tid, s) (g_strcmp0 (transfer_state ((node), (tid)), (s)) == 0)

static int
cli_status (TcTestNode *node,
            char      **err,
            const char *a0,
            const char *a1,
            const char *a2)
{
  return tc_test_run_cli (node, NULL, NULL, err, a0, a1, a2);
}

/* Sends @path from A to B, B accepts into f->downloads; both must end done
 * and the received file must be @path's bytes. Returns the received path. */
static char *
send_and_receive (Fixture    *f,
                  const char *path,
                  const char *expected_name,
                  gboolean    long_wait)
{
  g_autofree char *tid = send_file (f->a, f->b, path);
  g_autofree char *sent_sha = file_sha256 (path);
  g_autoptr(JsonObject) offer = NULL;
  g_autoptr(JsonObject) got = NULL;
  g_autofree char *received_sha = NULL;
  struct stat st;

  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  offer = find_transfer (f->b, tid);
  g_assert_cmpstr (json_object_get_string_member (offer, "direction"), ==, "incoming");
  g_assert_cmpstr (json_object_get_string_member (offer, "peer"), ==, f->a->address);
  g_assert_cmpstr (json_object_get_string_member (offer, "name"), ==, expected_name);
  g_assert_cmpint (g_stat (path, &st), ==, 0);
  g_assert_cmpint (json_object_get_int_member (offer, "size"), ==, st.st_size);
  g_assert_true (STATE_IS (f->a, tid, "offered"));

  g_assert_cmpint (tc_test_run_cli (f->b, NULL, NULL, NULL, "accept-file", tid, f->downloads),
                   ==, 0);
  if (long_wait)
    WAIT_LONG (STATE_IS (f->b, tid, "done") && STATE_IS (f->a, tid, "done"));
  else
    WAIT_UNTIL (STATE_IS (f->b, tid, "done") && STATE_IS (f->a, tid, "done"));

  got = find_transfer (f->b, tid);
  g_assert_cmpint (json_object_get_int_member (got, "done"), ==, st.st_size);
  received_sha = file_sha256 (json_object_get_string_member (got, "path"));
  g_assert_cmpstr (received_sha, ==, sent_sha);

  return g_strdup (json_object_get_string_member (got, "path"));
}

/* Whether the SOCKS server was asked for a stream with an isolation name
 * (an RFC 1929 user name) starting with @prefix. */
static gboolean
socks_saw_user (TcTestNet  *net,
                const char *prefix)
{
  g_autofree char *contents = NULL;
  g_autofree char *needle = g_strdup_printf (" user %s", prefix);

  return g_file_get_contents (net->socks_log, &contents, NULL, NULL) &&
         strstr (contents, needle) != NULL;
}

static void
test_small (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *got = NULL;
  g_autofree char *got2 = NULL;
  g_autofree char *expected = NULL;

  SKIP_WITHOUT_NODES ();

  path = make_file (f, "notes.txt", 100000);
  got = send_and_receive (f, path, "notes.txt", FALSE);
  expected = g_build_filename (f->downloads, "notes.txt", NULL);
  g_assert_cmpstr (got, ==, expected);
  /* A small file shares the chat's circuit: no isolation name. */
  g_assert_false (socks_saw_user (f->net, "torchat-file-"));

  /* The same file again: no overwriting. */
  got2 = send_and_receive (f, path, "notes.txt", FALSE);
  g_free (expected);
  expected = g_build_filename (f->downloads, "notes (1).txt", NULL);
  g_assert_cmpstr (got2, ==, expected);
  g_assert_true (g_file_test (got, G_FILE_TEST_EXISTS));
}

static void
test_empty (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *got = NULL;

  SKIP_WITHOUT_NODES ();

  path = make_file (f, "empty", 0);
  got = send_and_receive (f, path, "empty", FALSE);
}

static void
test_large (Fixture       *f,
            gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *got = NULL;

  SKIP_WITHOUT_NODES ();

  path = make_file (f, "large.bin", 200 * MB);
  g_assert_false (socks_saw_user (f->net, "torchat-file-"));
  got = send_and_receive (f, path, "large.bin", TRUE);
  /* A large one asked Tor for a circuit of its own. */
  g_assert_true (socks_saw_user (f->net, "torchat-file-"));
}

static guint
count_files (const char *dir)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  guint n = 0;

  while (d && g_dir_read_name (d))
    n++;

  return n;
}

static void
test_decline (Fixture       *f,
              gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *tid = NULL;

  SKIP_WITHOUT_NODES ();

  path = make_file (f, "unwanted.bin", 5000);
  tid = send_file (f->a, f->b, path);
  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  g_assert_cmpint (cli_status (f->b, NULL, "decline-file", tid, NULL), ==, 0);
  WAIT_UNTIL (STATE_IS (f->a, tid, "declined"));
  g_assert_true (STATE_IS (f->b, tid, "declined"));
  /* Declined means nothing more: no accepting it afterwards. */
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", tid, f->downloads), ==, 1);
  g_assert_cmpuint (count_files (f->downloads), ==, 0);
}

/* A transfer throttled to @rate bytes/s so that it is caught mid-way. */
static char *
start_slow (Fixture    *f,
            const char *name,
            gsize       size,
            guint       rate,
            char      **out_path)
{
  g_autofree char *path = make_file (f, name, size);
  char *tid;

  f->b->rate = rate;
  tc_test_net_write_map (f->net);
  tid = send_file (f->a, f->b, path);
  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", tid, f->downloads), ==, 0);
  WAIT_UNTIL (transfer_done (f->b, tid) > (gint64) size / 5);
  if (out_path)
    *out_path = g_steal_pointer (&path);

  return tid;
}

static void
test_cancel (Fixture       *f,
             gconstpointer  data)
{
  gboolean by_sender = GPOINTER_TO_INT (data);
  g_autofree char *tid = NULL;
  TcTestNode *canceller;

  SKIP_WITHOUT_NODES ();

  tid = start_slow (f, "big.bin", 8 * MB, 1 * MB, NULL);
  canceller = by_sender ? f->a : f->b;
  g_assert_cmpint (cli_status (canceller, NULL, "cancel-file", tid, NULL), ==, 0);
  WAIT_UNTIL (STATE_IS (f->a, tid, "cancelled") && STATE_IS (f->b, tid, "cancelled"));

  /* Nothing under a final name, no partial file left behind. */
  tc_test_sleep (500);
  g_assert_cmpuint (count_files (f->downloads), ==, 0);
  /* And chat carries on. */
  g_assert_cmpint (tc_test_run_cli (f->a, NULL, NULL, NULL, "send", f->b->address, "still here"),
                   ==, 0);
  WAIT_UNTIL (tc_test_history_count (f->b, f->a->address, "in", NULL) == 1);
}

/* Bytes the SOCKS server carried to @node, all its connections together. */
static guint64
bytes_to (TcTestNet  *net,
          TcTestNode *node)
{
  g_autofree char *contents = NULL;
  g_autofree char *prefix = g_strdup_printf ("tc-test-socks: BYTES %.8s… ", node->address);
  g_auto(GStrv) lines = NULL;
  guint64 total = 0;

  if (!g_file_get_contents (net->socks_log, &contents, NULL, NULL))
    return 0;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], prefix))
      total += g_ascii_strtoull (lines[i] + strlen (prefix), NULL, 10);

  return total;
}

static void
test_resume (Fixture       *f,
             gconstpointer  data)
{
  gboolean kill_sender = GPOINTER_TO_INT (data);
  TcTestNode *victim;
  g_autofree char *path = NULL;
  g_autofree char *tid = NULL;
  g_autofree char *sent_sha = NULL;
  g_autofree char *received_sha = NULL;
  g_autoptr(JsonObject) got = NULL;
  gint64 before;
  gsize size = 12 * MB;

  SKIP_WITHOUT_NODES ();

  tid = start_slow (f, "resume.bin", size, 2 * MB, &path);
  victim = kill_sender ? f->a : f->b;
  tc_test_node_kill (victim);
  if (kill_sender)
    WAIT_UNTIL (STATE_IS (f->b, tid, "paused"));
  before = transfer_done (kill_sender ? f->b : f->a, tid);
  g_test_message ("killed %s at %" G_GINT64_FORMAT " bytes", victim->name, before);
  g_assert_cmpint (before, <, (gint64) size);

  /* Full speed from here: the rest must come quickly. */
  f->b->rate = 0;
  tc_test_node_start (f->net, victim);
  WAIT_LONG (STATE_IS (f->b, tid, "done") && STATE_IS (f->a, tid, "done"));

  got = find_transfer (f->b, tid);
  sent_sha = file_sha256 (path);
  received_sha = file_sha256 (json_object_get_string_member (got, "path"));
  g_assert_cmpstr (received_sha, ==, sent_sha);

  /* The rest was sent, not the whole file again: all connections to B
   * together carried less than the file and a half (the base64 of it is a
   * third larger than the file alone). */
  g_test_message ("%" G_GUINT64_FORMAT " bytes carried to B for %" G_GSIZE_FORMAT,
                  bytes_to (f->net, f->b), size);
  g_assert_cmpuint (bytes_to (f->net, f->b), <, size * 4 / 3 + size / 6 + 100000);
}

static void
test_checksum_mismatch (Fixture       *f,
                        gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *tid = NULL;
  g_autoptr(JsonObject) a_side = NULL;

  SKIP_WITHOUT_NODES ();

  f->b->corrupt_file = TRUE;
  tc_test_net_write_map (f->net);
  path = make_file (f, "corrupted.bin", 2 * MB);
  tid = send_file (f->a, f->b, path);
  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", tid, f->downloads), ==, 0);
  WAIT_UNTIL (STATE_IS (f->b, tid, "failed") && STATE_IS (f->a, tid, "failed"));

  a_side = find_transfer (f->a, tid);
  g_assert_nonnull (strstr (json_object_get_string_member (a_side, "error"), "checksum-mismatch"));
  /* Nothing under the final name, the partial file removed. */
  g_assert_cmpuint (count_files (f->downloads), ==, 0);
}

static void
test_bad_inputs (Fixture       *f,
                 gconstpointer  data)
{
  g_autofree char *err = NULL;
  g_autofree char *missing = NULL;
  g_autofree char *unreadable = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) list = NULL;
  TcTestNode *c;

  SKIP_WITHOUT_NODES ();

  missing = g_build_filename (f->files, "no-such-file", NULL);
  g_assert_cmpint (cli_status (f->a, &err, "send-file", f->b->address, missing), ==, 1);
  g_assert_nonnull (strstr (err, "no-such-file"));
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (cli_status (f->a, &err, "send-file", f->b->address, f->files), ==, 1);
  g_assert_nonnull (strstr (err, "folder"));
  g_clear_pointer (&err, g_free);

  unreadable = make_file (f, "secret", 10);
  g_assert_cmpint (g_chmod (unreadable, 0), ==, 0);
  if (access (unreadable, R_OK) != 0)
    {
      g_assert_cmpint (cli_status (f->a, &err, "send-file", f->b->address, unreadable), ==, 1);
      g_assert_nonnull (strstr (err, "secret"));
      g_clear_pointer (&err, g_free);
    }

  /* A typo in the address. */
  g_assert_cmpint (cli_status (f->a, &err, "send-file", "nosuchaddress.onion", missing), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_status (f->a, &err, "accept-file", "NoSuchTransfer0000", NULL), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_status (f->a, &err, "send-file", NULL, NULL), ==, 2);
  g_clear_pointer (&err, g_free);

  /* A stranger's offer is not acted on: C is nobody's contact. */
  c = tc_test_net_add_node (f->net, "C");
  g_assert_cmpint (cli_status (c, &err, "send-file", f->b->address, missing), ==, 1);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (cli_status (c, NULL, "add", f->b->address, NULL), ==, 0);
  {
    g_autofree char *path = make_file (f, "from-stranger", 1000);
    g_autofree char *tid = send_file (c, f->b, path);

    WAIT_UNTIL (tc_test_contact_is (f->b, c->address, "state", "pending"));
    tc_test_sleep (1000);
    g_assert_true (STATE_IS (f->b, tid, "(none)"));
    /* Once accepted, the waiting offer arrives. */
    g_assert_cmpint (cli_status (f->b, NULL, "accept", c->address, NULL), ==, 0);
    WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  }

  /* The node kept serving: the list still answers, chat still works. */
  list = tc_test_cli_json (f->b, "transfers");
  g_assert_true (JSON_NODE_HOLDS_ARRAY (list));
  g_assert_cmpint (tc_test_run_cli (f->a, NULL, NULL, NULL, "send", f->b->address, "ok"), ==, 0);
  WAIT_UNTIL (tc_test_history_count (f->b, f->a->address, "in", NULL) == 1);
}

static void
test_sanitized_name (Fixture       *f,
                     gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *got = NULL;
  g_autofree char *expected = NULL;

  SKIP_WITHOUT_NODES ();

  /* The sender's own file name, as a hostile peer could offer it, is
   * covered by the unit tests of tc-filename; over the wire the name is
   * the basename, and a hidden one is made visible. */
  path = make_file (f, ".bashrc", 300);
  got = send_and_receive (f, path, "bashrc", FALSE);
  expected = g_build_filename (f->downloads, "bashrc", NULL);
  g_assert_cmpstr (got, ==, expected);
}

static void
test_concurrent_with_chat (Fixture       *f,
                           gconstpointer  data)
{
  g_autofree char *p1 = NULL;
  g_autofree char *p2 = NULL;
  g_autofree char *t1 = NULL;
  g_autofree char *t2 = NULL;
  double sent_at;

  SKIP_WITHOUT_NODES ();

  p1 = make_file (f, "one.bin", 60 * MB);
  p2 = make_file (f, "two.bin", 60 * MB);
  /* Each stream to B at 16 MB/s, so that both files still flow when they
   * are looked at: unthrottled, loopback carried both in under a second
   * and the look could miss it. */
  f->b->rate = 16 * MB;
  tc_test_net_write_map (f->net);
  t1 = send_file (f->a, f->b, p1);
  t2 = send_file (f->a, f->b, p2);
  WAIT_UNTIL (STATE_IS (f->b, t1, "offered") && STATE_IS (f->b, t2, "offered"));
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", t1, f->downloads), ==, 0);
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", t2, f->downloads), ==, 0);
  WAIT_UNTIL (STATE_IS (f->b, t1, "active") && STATE_IS (f->b, t2, "active"));

  /* Messages go both ways while both files flow. */
  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *text = g_strdup_printf ("during %u", i);

      sent_at = tc_test_now ();
      g_assert_cmpint (tc_test_run_cli (f->a, NULL, NULL, NULL, "send", f->b->address, text),
                       ==, 0);
      g_assert_cmpint (tc_test_run_cli (f->b, NULL, NULL, NULL, "send", f->a->address, text),
                       ==, 0);
      WAIT_UNTIL (tc_test_history_count (f->b, f->a->address, "in", NULL) == i + 1 &&
                  tc_test_history_count (f->a, f->b->address, "in", NULL) == i + 1);
      g_test_message ("message %u delivered both ways in %.2f s", i, tc_test_now () - sent_at);
    }

  WAIT_LONG (STATE_IS (f->b, t1, "done") && STATE_IS (f->b, t2, "done") &&
             STATE_IS (f->a, t1, "done") && STATE_IS (f->a, t2, "done"));
  g_assert_cmpuint (count_files (f->downloads), ==, 2);
  f->b->rate = 0;
  tc_test_net_write_map (f->net);
}

static void
test_offline_offer (Fixture       *f,
                    gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *tid = NULL;

  SKIP_WITHOUT_NODES ();

  tc_test_node_quit (f->net, f->b);
  path = make_file (f, "later.txt", 20000);
  tid = send_file (f->a, f->b, path);
  tc_test_sleep (1000);
  g_assert_true (STATE_IS (f->a, tid, "waiting") || STATE_IS (f->a, tid, "offered"));

  /* A restarts too: the offer waits in its database. */
  tc_test_node_quit (f->net, f->a);
  tc_test_node_start (f->net, f->a);
  tc_test_node_start (f->net, f->b);
  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", tid, f->downloads), ==, 0);
  WAIT_UNTIL (STATE_IS (f->b, tid, "done") && STATE_IS (f->a, tid, "done"));
}

/* Restarts B in its own mount namespace with a tmpfs of @size_mb MiB as
 * @dir, its download folder (unshare maps the user to root in a user
 * namespace). FALSE, the test skipped, without user namespaces. */
static gboolean
restart_b_on_small_disk (Fixture    *f,
                         const char *dir,
                         guint       size_mb)
{
  g_autofree char *probe = NULL;
  g_autofree char *script = NULL;
  int status;

  g_assert_cmpint (g_mkdir (dir, 0700), ==, 0);
  probe = g_strdup_printf ("unshare -rm sh -c 'mount -t tmpfs -o size=%um tmpfs %s'", size_mb, dir);
  if (!g_spawn_command_line_sync (probe, NULL, NULL, &status, NULL) ||
      !g_spawn_check_wait_status (status, NULL))
    {
      g_test_skip ("no user namespaces to mount a small tmpfs in");
      return FALSE;
    }

  tc_test_node_quit (f->net, f->b);
  /* sh -c SCRIPT DIR torchat …: $0 is the folder, "$@" the node. */
  script = g_strdup_printf ("mount -t tmpfs -o size=%um tmpfs \"$0\" && exec \"$@\"", size_mb);
  {
    const char *argv[] = { "unshare", "-rm", "sh", "-c", script, dir, NULL };

    g_strfreev (f->b->wrapper);
    f->b->wrapper = g_strdupv ((char **) argv);
  }
  tc_test_node_start (f->net, f->b);
  WAIT_UNTIL (tc_test_contact_is (f->a, f->b->address, "connected", "true") ||
              tc_test_contact_is (f->a, f->b->address, "presence", "available"));

  return TRUE;
}

/* @path as B sees it in its mount namespace (unshare runs the node in the
 * same process, so its /proc/PID/root is that namespace's root). */
static char *
in_b (Fixture    *f,
      const char *path)
{
  return g_strdup_printf ("/proc/%d/root%s", (int) tc_test_node_pid (f->b), path);
}

static void
test_disk_full (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *tid = NULL;
  g_autofree char *small = g_build_filename (f ? f->downloads : "", "small-disk", NULL);
  g_autoptr(JsonObject) a_side = NULL;

  SKIP_WITHOUT_NODES ();

  if (!restart_b_on_small_disk (f, small, 1))
    return;

  path = make_file (f, "toobig.bin", 3 * MB);
  tid = send_file (f->a, f->b, path);
  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  /* The free space check refuses it at once with a clear reason… */
  {
    g_autofree char *err = NULL;

    g_assert_cmpint (cli_status (f->b, &err, "accept-file", tid, small), ==, 1);
    g_assert_nonnull (strstr (err, "space"));
  }
  g_assert_true (STATE_IS (f->b, tid, "offered"));

  /* …and two that fit one by one but not together fill the disk while
   * they are written: whichever runs out of room pauses with disk-full on
   * both sides (written side by side, both may), its partial file kept. */
  {
    g_autofree char *p1 = make_file (f, "fits1.bin", 700 * 1024);
    g_autofree char *p2 = make_file (f, "fits2.bin", 700 * 1024);
    g_autofree char *t1 = send_file (f->a, f->b, p1);
    g_autofree char *t2 = send_file (f->a, f->b, p2);
    const char *paused;

    /* Slow enough that the first has not filled the disk when the second
     * is accepted. */
    f->b->rate = 300 * 1024;
    tc_test_net_write_map (f->net);
    WAIT_UNTIL (STATE_IS (f->b, t1, "offered") && STATE_IS (f->b, t2, "offered"));
    g_assert_cmpint (cli_status (f->b, NULL, "accept-file", t1, small), ==, 0);
    g_assert_cmpint (cli_status (f->b, NULL, "accept-file", t2, small), ==, 0);
#define SETTLED(t) ((STATE_IS (f->a, t, "done") || STATE_IS (f->a, t, "paused")) && \
                    g_strcmp0 (transfer_state (f->a, t), transfer_state (f->b, t)) == 0)
    WAIT_UNTIL (SETTLED (t1) && SETTLED (t2));
    g_assert_true (STATE_IS (f->a, t1, "paused") || STATE_IS (f->a, t2, "paused"));
    paused = STATE_IS (f->a, t1, "paused") ? t1 : t2;
    a_side = find_transfer (f->a, paused);
    g_assert_nonnull (strstr (json_object_get_string_member (a_side, "error"), "disk-full"));
    g_test_message ("first %s, second %s", transfer_state (f->b, t1), transfer_state (f->b, t2));
  }

  /* B still serves: chat goes on. */
  g_assert_cmpint (tc_test_run_cli (f->a, NULL, NULL, NULL, "send", f->b->address, "ok"), ==, 0);
  WAIT_UNTIL (tc_test_history_count (f->b, f->a->address, "in", NULL) == 1);
}

/* The disk fills mid-way; the transfer pauses with the reason on both
 * sides, keeping what it has; a retry while still full is refused with a
 * clear error; once there is room it goes on by itself from the partial
 * file, and the file arrives intact. */
static void
test_disk_full_resume (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *tid = NULL;
  g_autofree char *small = g_build_filename (f ? f->downloads : "", "small-disk", NULL);
  g_autofree char *filler = NULL;
  g_autofree char *received = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonObject) a_side = NULL;
  g_autoptr(JsonObject) b_side = NULL;
  g_autoptr(JsonObject) got = NULL;
  gsize size = 3 * MB;
  gint64 partial;
  FILE *fp;

  SKIP_WITHOUT_NODES ();

  if (!restart_b_on_small_disk (f, small, 4))
    return;

  path = make_file (f, "resumed.bin", size);
  tid = send_file (f->a, f->b, path);
  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  f->b->rate = 1 * MB;
  tc_test_net_write_map (f->net);
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", tid, small), ==, 0);
  WAIT_UNTIL (transfer_done (f->b, tid) >= 2 * MB);

  /* Something else takes every free byte of B's disk. */
  {
    g_autofree char *dir = in_b (f, small);
    g_autofree guint8 *zeros = g_malloc0 (64 * 1024);

    filler = g_build_filename (dir, "filler", NULL);
    fp = fopen (filler, "wb");
    g_assert_nonnull (fp);
    setvbuf (fp, NULL, _IONBF, 0);
    while (fwrite (zeros, 1, 64 * 1024, fp) == 64 * 1024)
      ;
    fclose (fp);
  }

  WAIT_UNTIL (STATE_IS (f->b, tid, "paused") && STATE_IS (f->a, tid, "paused"));
  a_side = find_transfer (f->a, tid);
  b_side = find_transfer (f->b, tid);
  g_test_message ("A: %s; B: %s", json_object_get_string_member (a_side, "error"),
                  json_object_get_string_member (b_side, "error"));
  g_assert_nonnull (strstr (json_object_get_string_member (a_side, "error"), "disk-full"));
  g_assert_nonnull (strstr (json_object_get_string_member (b_side, "error"), "space"));
  partial = json_object_get_int_member (b_side, "done");
  g_assert_cmpint (partial, >=, 2 * MB);
  g_assert_cmpint (partial, <, (gint64) size);
  {
    g_autofree char *name = g_strdup_printf (".torchat-%.16s-%s.part", f->a->address, tid);
    g_autofree char *dir = in_b (f, small);
    g_autofree char *part = g_build_filename (dir, name, NULL);
    struct stat st;

    g_assert_cmpint (g_stat (part, &st), ==, 0);
    g_assert_cmpint (st.st_size, ==, partial);
  }

  /* Retrying while the disk is still full: refused, with the reason. */
  g_assert_cmpint (cli_status (f->b, &err, "accept-file", tid, NULL), ==, 1);
  g_assert_nonnull (strstr (err, "space"));
  g_assert_true (STATE_IS (f->b, tid, "paused"));

  /* Room again: it resumes by itself, from the partial file. */
  g_assert_cmpint (g_unlink (filler), ==, 0);
  f->b->rate = 0;
  tc_test_net_write_map (f->net);
  WAIT_UNTIL (STATE_IS (f->b, tid, "done") && STATE_IS (f->a, tid, "done"));

  got = find_transfer (f->b, tid);
  received = in_b (f, json_object_get_string_member (got, "path"));
  {
    g_autofree char *sent_sha = file_sha256 (path);
    g_autofree char *received_sha = file_sha256 (received);

    g_assert_cmpstr (received_sha, ==, sent_sha);
  }

  /* Only the rest was sent again: resending the whole file would carry at
   * least the partial file's base64 more. */
  g_test_message ("%" G_GUINT64_FORMAT " bytes carried to B for %" G_GSIZE_FORMAT
                  ", %" G_GINT64_FORMAT " kept", bytes_to (f->net, f->b), size, partial);
  g_assert_cmpuint (bytes_to (f->net, f->b), <, (size + (size - partial)) * 4 / 3 + 100000);
}

/* A file larger than B's file system takes (RLIMIT_FSIZE stands in for
 * FAT's 4 GiB: the same EFBIG): no room will ever help, so it fails at once
 * on both sides, named too-large, and leaves nothing behind. */
static void
test_too_large_for_fs (Fixture       *f,
                       gconstpointer  data)
{
  g_autofree char *path = NULL;
  g_autofree char *tid = NULL;
  g_autoptr(JsonObject) a_side = NULL;
  const char *argv[] = { "sh", "-c", "ulimit -f 2048 && trap '' XFSZ && exec \"$@\"", "sh", NULL };

  SKIP_WITHOUT_NODES ();

  tc_test_node_quit (f->net, f->b);
  g_strfreev (f->b->wrapper);
  f->b->wrapper = g_strdupv ((char **) argv);
  tc_test_node_start (f->net, f->b);
  WAIT_UNTIL (tc_test_contact_is (f->a, f->b->address, "connected", "true") ||
              tc_test_contact_is (f->a, f->b->address, "presence", "available"));

  path = make_file (f, "huge-for-fat.bin", 3 * MB);
  tid = send_file (f->a, f->b, path);
  WAIT_UNTIL (STATE_IS (f->b, tid, "offered"));
  g_assert_cmpint (cli_status (f->b, NULL, "accept-file", tid, f->downloads), ==, 0);
  WAIT_UNTIL (STATE_IS (f->b, tid, "failed") && STATE_IS (f->a, tid, "failed"));
  a_side = find_transfer (f->a, tid);
  g_assert_nonnull (strstr (json_object_get_string_member (a_side, "error"), "too-large"));
  g_assert_cmpuint (count_files (f->downloads), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  setlocale (LC_ALL, "");
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func, data) \
  g_test_add (path, Fixture, data, fixture_setup, func, fixture_teardown)

  ADD ("/transfer/small", test_small, NULL);
  ADD ("/transfer/empty", test_empty, NULL);
  ADD ("/transfer/large", test_large, NULL);
  ADD ("/transfer/sanitized-name", test_sanitized_name, NULL);
  ADD ("/transfer/decline", test_decline, NULL);
  ADD ("/transfer/cancel-by-sender", test_cancel, GINT_TO_POINTER (TRUE));
  ADD ("/transfer/cancel-by-receiver", test_cancel, GINT_TO_POINTER (FALSE));
  ADD ("/transfer/resume-after-sender-killed", test_resume, GINT_TO_POINTER (TRUE));
  ADD ("/transfer/resume-after-receiver-killed", test_resume, GINT_TO_POINTER (FALSE));
  ADD ("/transfer/checksum-mismatch", test_checksum_mismatch, NULL);
  ADD ("/transfer/bad-inputs", test_bad_inputs, NULL);
  ADD ("/transfer/offline-offer", test_offline_offer, NULL);
  ADD ("/transfer/two-files-and-chat", test_concurrent_with_chat, NULL);
  ADD ("/transfer/disk-full", test_disk_full, NULL);
  ADD ("/transfer/disk-full-resume", test_disk_full_resume, NULL);
  ADD ("/transfer/too-large-for-fs", test_too_large_for_fs, NULL);

  return g_test_run ();
}
