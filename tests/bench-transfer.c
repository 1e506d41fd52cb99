/* bench-transfer.c: file transfer throughput, CPU and memory
 *
 * Two real nodes on loopback behind tc-test-socks. For each size (default
 * 10 MB and 1 GB) a file goes from A to B; the same bytes are also copied
 * over a plain loopback socket (file → socket → file, 512 KiB reads, the
 * receiver writing to disk like B does), directly and through the same
 * SOCKS relay the nodes use, in the same run. Prints plain "key: value"
 * lines; see docs/benchmarks.md.
 *
 *   meson test -C BUILD --benchmark transfer -v
 *
 * Optional arguments: sizes in MB (default "10 1024"). With
 * BENCH_TRANSFER_DIR set (a tmpfs, say), the files are written there
 * instead of next to the profiles: that takes the disk out of the figures.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "tc-test-harness.h"

#define MB (1024 * 1024)
#define POLL_MS 100
#define BENCH_TIMEOUT 900.0
#define COPY_BLOCK (512 * 1024)

static void
fail (TcTestNet  *net,
      const char *what)
{
  tc_test_net_dump_logs (net);
  g_printerr ("bench-transfer: %s\n", what);
  tc_test_net_free (net);
  exit (1);
}

/* utime + stime of a process, in seconds. */
static double
cpu_seconds (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/stat", (int) pid);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;
  const char *close_paren;

  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      (close_paren = strrchr (contents, ')')) == NULL)
    return 0;

  fields = g_strsplit (close_paren + 2, " ", -1);
  /* Fields 14 and 15 of stat(5), counted from the state (field 3). */
  return (g_ascii_strtod (fields[11], NULL) + g_ascii_strtod (fields[12], NULL)) /
         sysconf (_SC_CLK_TCK);
}

/* VmHWM in kB. */
static guint64
peak_rss_kb (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", (int) pid);
  g_autofree char *contents = NULL;
  const char *line;

  if (!g_file_get_contents (path, &contents, NULL, NULL) ||
      (line = strstr (contents, "VmHWM:")) == NULL)
    return 0;

  return g_ascii_strtoull (line + strlen ("VmHWM:"), NULL, 10);
}

static void
reset_peak_rss (GPid pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/clear_refs", (int) pid);

  FILE *fp = fopen (path, "w");

  /* "5" resets VmHWM to the current RSS (Linux 4.0). Not
   * g_file_set_contents(): it would rename a new file over it. */
  if (fp == NULL || fputs ("5", fp) < 0 || fclose (fp) != 0)
    g_printerr ("bench-transfer: could not reset the peak RSS of %d\n", (int) pid);
}

static void
make_file (const char *path,
           gsize       size)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (1);
  g_autofree guint32 *block = g_new (guint32, MB / 4);
  FILE *fp = fopen (path, "wb");

  for (gsize done = 0; done < size; done += MB)
    {
      for (gsize i = 0; i < MB / 4; i++)
        block[i] = g_rand_int (rand);
      fwrite (block, 1, MIN ((gsize) MB, size - done), fp);
    }
  fclose (fp);
}

/* The plain copy: a thread writes the file into a socket, this one reads
 * it into another file. */
typedef struct {
  const char     *path;
  GSocketAddress *address;
  gboolean        socks;      /* connect through the SOCKS relay to @onion */
  const char     *onion;
  double          cpu;
} CopyData;

static gpointer
copy_sender (gpointer user_data)
{
  CopyData *data = user_data;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc (COPY_BLOCK);
  GOutputStream *out;
  struct rusage before, after;
  FILE *fp = fopen (data->path, "rb");
  gsize n;

  getrusage (RUSAGE_THREAD, &before);
  g_socket_client_set_enable_proxy (client, FALSE);
  connection = g_socket_client_connect (client, G_SOCKET_CONNECTABLE (data->address), NULL, &error);
  g_assert_no_error (error);
  out = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  if (data->socks)
    {
      /* SOCKS5, no authentication, CONNECT to the onion name. */
      guint8 hello[] = { 5, 1, 0 }, reply[10];
      GInputStream *in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
      g_autoptr(GByteArray) request = g_byte_array_new ();
      guint8 len = strlen (data->onion);
      guint8 port[2] = { 11009 >> 8, 11009 & 0xff };

      g_output_stream_write_all (out, hello, sizeof hello, NULL, NULL, &error);
      g_input_stream_read_all (in, reply, 2, NULL, NULL, &error);
      g_byte_array_append (request, (const guint8 *) "\x05\x01\x00\x03", 4);
      g_byte_array_append (request, &len, 1);
      g_byte_array_append (request, (const guint8 *) data->onion, len);
      g_byte_array_append (request, port, 2);
      g_output_stream_write_all (out, request->data, request->len, NULL, NULL, &error);
      g_input_stream_read_all (in, reply, 10, NULL, NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (reply[1], ==, 0);
    }

  while ((n = fread (buf, 1, COPY_BLOCK, fp)) > 0)
    {
      g_output_stream_write_all (out, buf, n, NULL, NULL, &error);
      g_assert_no_error (error);
    }
  fclose (fp);
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  getrusage (RUSAGE_THREAD, &after);
  data->cpu = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
              (after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
              ((after.ru_utime.tv_usec - before.ru_utime.tv_usec) +
               (after.ru_stime.tv_usec - before.ru_stime.tv_usec)) / 1e6;

  return NULL;
}

/* Seconds for the copy; *cpu_send and *cpu_recv the CPU of each end. */
static double
plain_copy (TcTestNet  *net,
            const char *path,
            const char *dest,
            gboolean    via_socks,
            double     *cpu_send,
            double     *cpu_recv)
{
  g_autoptr(GSocketListener) listener = g_socket_listener_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree guint8 *buf = g_malloc (COPY_BLOCK);
  g_autofree char *onion = NULL;
  CopyData data = { path, NULL, via_socks, NULL, 0 };
  struct rusage before, after;
  GThread *thread;
  GInputStream *in;
  FILE *fp;
  double t0, t1;
  gssize n;

  g_socket_listener_add_address (listener, any, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP,
                                 NULL, &bound, &error);
  g_assert_no_error (error);

  if (via_socks)
    {
      g_autofree char *map = NULL;
      g_autofree char *line = NULL;

      /* A name the relay maps to our listener, added to its map. */
      onion = g_strdup ("plaincopyplaincopyplaincopyplaincopyplaincopyplaincopy.onion");
      g_file_get_contents (net->map_path, &map, NULL, NULL);
      line = g_strdup_printf ("%s%s 127.0.0.1:%u\n", map ? map : "", onion,
                              g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound)));
      g_file_set_contents (net->map_path, line, -1, &error);
      g_assert_no_error (error);
      {
        g_autoptr(GInetAddress) lo = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
        data.address = g_inet_socket_address_new (lo, net->socks_port);
      }
      data.onion = onion;
    }
  else
    {
      data.address = g_object_ref (bound);
    }

  t0 = tc_test_now ();
  getrusage (RUSAGE_THREAD, &before);
  thread = g_thread_new ("copy", copy_sender, &data);
  connection = g_socket_listener_accept (listener, NULL, NULL, &error);
  g_assert_no_error (error);
  in = g_io_stream_get_input_stream (G_IO_STREAM (connection));
  fp = fopen (dest, "wb");
  while ((n = g_input_stream_read (in, buf, COPY_BLOCK, NULL, &error)) > 0)
    fwrite (buf, 1, n, fp);
  g_assert_no_error (error);
  fflush (fp);
  fsync (fileno (fp));
  fclose (fp);
  getrusage (RUSAGE_THREAD, &after);
  g_thread_join (thread);
  t1 = tc_test_now ();

  *cpu_send = data.cpu;
  *cpu_recv = (after.ru_utime.tv_sec - before.ru_utime.tv_sec) +
              (after.ru_stime.tv_sec - before.ru_stime.tv_sec) +
              ((after.ru_utime.tv_usec - before.ru_utime.tv_usec) +
               (after.ru_stime.tv_usec - before.ru_stime.tv_usec)) / 1e6;
  g_object_unref (data.address);
  g_unlink (dest);
  if (via_socks)
    tc_test_net_write_map (net);

  return t1 - t0;
}

static const char *
transfer_member (TcTestNode *node,
                 const char *tid,
                 const char *member,
                 gint64     *number)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "transfers");
  JsonArray *array = json_node_get_array (root);

  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *t = json_array_get_object_element (array, i);

      if (g_strcmp0 (json_object_get_string_member (t, "id"), tid) == 0)
        {
          if (number != NULL)
            *number = json_object_get_int_member (t, member);
          return number ? NULL : g_intern_string (json_object_get_string_member (t, member));
        }
    }

  return "(none)";
}

static void
bench_size (TcTestNet  *net,
            TcTestNode *a,
            TcTestNode *b,
            guint       size_mb)
{
  gsize size = (gsize) size_mb * MB;
  /* BENCH_TRANSFER_DIR (say a tmpfs) takes the disk out of the figures. */
  const char *base = g_getenv ("BENCH_TRANSFER_DIR") ? g_getenv ("BENCH_TRANSFER_DIR") : net->tmpdir;
  g_autofree char *path = g_build_filename (base, "bench.bin", NULL);
  g_autofree char *copy = g_build_filename (base, "copy.bin", NULL);
  g_autofree char *downloads = g_build_filename (base, "downloads", NULL);
  g_autofree char *out = NULL;
  g_autofree char *received = NULL;
  double cs, cr, plain, plain_socks, cs2, cr2, t0, t_bytes = 0, t_done, cpu_a, cpu_b;
  double deadline;
  char *nl;

  g_mkdir_with_parents (downloads, 0700);
  make_file (path, size);

  /* The page cache holds the file for every run alike. */
  plain = plain_copy (net, path, copy, FALSE, &cs, &cr);
  plain_socks = plain_copy (net, path, copy, TRUE, &cs2, &cr2);

  if (tc_test_run_cli (a, NULL, &out, NULL, "send-file", b->address, path) != 0)
    fail (net, "send-file failed");
  if ((nl = strchr (out, '\n')) != NULL)
    *nl = '\0';
  deadline = tc_test_now () + BENCH_TIMEOUT;
  while (g_strcmp0 (transfer_member (b, out, "state", NULL), "offered") != 0)
    {
      if (tc_test_now () > deadline)
        fail (net, "no offer");
      tc_test_sleep (POLL_MS);
    }

  reset_peak_rss (tc_test_node_pid (a));
  reset_peak_rss (tc_test_node_pid (b));
  cpu_a = cpu_seconds (tc_test_node_pid (a));
  cpu_b = cpu_seconds (tc_test_node_pid (b));
  t0 = tc_test_now ();
  if (tc_test_run_cli (b, NULL, NULL, NULL, "accept-file", out, downloads) != 0)
    fail (net, "accept-file failed");

  for (;;)
    {
      gint64 done = 0;
      const char *state = transfer_member (b, out, "state", NULL);

      transfer_member (b, out, "done", &done);
      if (t_bytes == 0 && done == (gint64) size)
        t_bytes = tc_test_now ();
      if (g_str_equal (state, "done") &&
          g_str_equal (transfer_member (a, out, "state", NULL), "done"))
        break;
      if (g_str_equal (state, "failed") || tc_test_now () > deadline)
        fail (net, "the transfer did not finish");
      tc_test_sleep (POLL_MS);
    }
  t_done = tc_test_now ();
  if (t_bytes == 0)
    t_bytes = t_done;
  cpu_a = cpu_seconds (tc_test_node_pid (a)) - cpu_a;
  cpu_b = cpu_seconds (tc_test_node_pid (b)) - cpu_b;

  g_print ("size-mb: %u\n", size_mb);
  g_print ("plain-copy-mb-per-s: %.0f\n", size / plain / MB);
  g_print ("plain-copy-cpu-s-per-gb: send %.2f, receive %.2f\n",
           cs * 1024 / size_mb, cr * 1024 / size_mb);
  g_print ("plain-copy-via-socks-mb-per-s: %.0f\n", size / plain_socks / MB);
  g_print ("torchat-bytes-mb-per-s: %.0f (all bytes on B's disk)\n", size / (t_bytes - t0) / MB);
  g_print ("torchat-done-mb-per-s: %.0f (checked and in place, both sides done)\n",
           size / (t_done - t0) / MB);
  g_print ("ratio-to-plain-copy: %.2f (bytes), %.2f (done)\n",
           plain / (t_bytes - t0), plain / (t_done - t0));
  g_print ("ratio-to-plain-copy-via-socks: %.2f (bytes)\n", plain_socks / (t_bytes - t0));
  g_print ("torchat-cpu-s-per-gb: sender %.2f, receiver %.2f (receiver includes the SHA-256 check)\n",
           cpu_a * 1024 / size_mb, cpu_b * 1024 / size_mb);
  g_print ("peak-rss-kb: sender %" G_GUINT64_FORMAT ", receiver %" G_GUINT64_FORMAT "\n",
           peak_rss_kb (tc_test_node_pid (a)), peak_rss_kb (tc_test_node_pid (b)));

  received = g_strdup (transfer_member (b, out, "path", NULL));
  g_unlink (received);
  g_unlink (path);
  g_rmdir (downloads);
}

int
main (int    argc,
      char **argv)
{
  TcTestNet *net;
  TcTestNode *a, *b;
  guint sizes[8] = { 10, 1024 };
  guint n_sizes = 2;

  if (argc > 1)
    {
      n_sizes = 0;
      for (int i = 1; i < argc && n_sizes < G_N_ELEMENTS (sizes); i++)
        sizes[n_sizes++] = (guint) g_ascii_strtoull (argv[i], NULL, 10);
    }

  if (tc_test_binary () == NULL || g_getenv ("TORCHAT_TEST_SOCKS") == NULL)
    {
      g_printerr ("bench-transfer: TORCHAT_BINARY and TORCHAT_TEST_SOCKS must be set\n");
      return 77;
    }

  net = tc_test_net_new ();
  net->quiet = TRUE;
  a = tc_test_net_add_node (net, "A");
  b = tc_test_net_add_node (net, "B");
  tc_test_make_friends (net, a, b);

  for (guint i = 0; i < n_sizes; i++)
    bench_size (net, a, b, sizes[i]);

  tc_test_net_free (net);
  return 0;
}
