/* bench-soak.c: two nodes exchanging messages for a long while
 *
 * Two real `torchat --headless` nodes behind tc-test-socks (plaintext
 * profiles). A sends B a steady stream (RATE messages a second, one
 * `send B -` a second); B answers every tenth second with as many. Every
 * RESTART_S seconds B is stopped and started again (`quit`, then a new
 * process): A sees its stream end and reconnects, and B's outbox and A's
 * queue their messages meanwhile. Every 10 s the resident memory (VmRSS)
 * and open file descriptors of A, the long-lived node, are sampled; the
 * slopes of a least-squares line through the samples are printed. At the
 * end every message must have arrived exactly once, in both directions.
 * Not part of any test run; see docs/benchmarks.md.
 *
 *   TORCHAT_BINARY=_bench/src/torchat TORCHAT_TEST_SOCKS=_bench/tests/tc-test-socks \
 *     _bench/tests/bench-soak [SECONDS]      (default 600)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib/gstdio.h>

#include "tc-test-harness.h"

#define RATE 20
#define RESTART_S 60
#define SAMPLE_S 10
#define DRAIN_TIMEOUT 300.0

static void
fail (TcTestNet  *net,
      const char *what)
{
  tc_test_net_dump_logs (net);
  g_printerr ("bench-soak: %s\n", what);
  tc_test_net_free (net);
  exit (1);
}

/* A "Name:   N kB" line of /proc/PID/status. */
static double
status_kib (TcTestNode *node,
            const char *name)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/status", tc_test_node_pid (node));
  g_autofree char *status = NULL;
  g_auto(GStrv) lines = NULL;

  if (!g_file_get_contents (path, &status, NULL, NULL))
    return -1;

  lines = g_strsplit (status, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], name))
      return g_ascii_strtod (lines[i] + strlen (name), NULL);

  return -1;
}

static double
open_fds (TcTestNode *node)
{
  g_autofree char *path = g_strdup_printf ("/proc/%d/fd", tc_test_node_pid (node));
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  guint n = 0;

  while (dir != NULL && g_dir_read_name (dir) != NULL)
    n++;

  return dir != NULL ? (double) n : -1;
}

static double
rss_kib (TcTestNode *node)
{
  return status_kib (node, "VmRSS:");
}

/* Least-squares slope of @y over @x, per hour of @x in seconds. */
static double
slope_per_hour (GArray *x,
                GArray *y)
{
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  guint n = x->len;

  for (guint i = 0; i < n; i++)
    {
      double xi = g_array_index (x, double, i), yi = g_array_index (y, double, i);

      sx += xi;
      sy += yi;
      sxx += xi * xi;
      sxy += xi * yi;
    }

  if (n < 2 || n * sxx - sx * sx == 0)
    return 0;

  return (n * sxy - sx * sy) / (n * sxx - sx * sx) * 3600;
}

static double
array_min (GArray *y)
{
  double m = G_MAXDOUBLE;

  for (guint i = 0; i < y->len; i++)
    m = MIN (m, g_array_index (y, double, i));

  return m;
}

static double
array_max (GArray *y)
{
  double m = -G_MAXDOUBLE;

  for (guint i = 0; i < y->len; i++)
    m = MAX (m, g_array_index (y, double, i));

  return m;
}

static void
send_lines (TcTestNet  *net,
            TcTestNode *from,
            TcTestNode *to,
            const char *prefix,
            guint       first,
            guint       n)
{
  g_autoptr(GString) lines = g_string_new (NULL);

  for (guint i = first; i < first + n; i++)
    g_string_append_printf (lines, "%s%u\n", prefix, i);

  if (tc_test_run_cli (from, lines->str, NULL, NULL, "send", to->address, "-") != 0)
    fail (net, "send failed");
}

/* PREFIX0 … PREFIX(n-1) arrived on @node from @peer, each once. */
static void
check_once (TcTestNet  *net,
            TcTestNode *node,
            TcTestNode *peer,
            const char *prefix,
            guint       n)
{
  g_autoptr(GPtrArray) texts = tc_test_history_texts (node, peer->address, "in", NULL);
  g_autofree guint8 *seen = g_malloc0 (MAX (n, 1));
  guint total = 0, duplicates = 0;

  for (guint i = 0; i < texts->len; i++)
    {
      const char *text = g_ptr_array_index (texts, i);
      guint64 k;

      if (!g_str_has_prefix (text, prefix) ||
          !g_ascii_string_to_unsigned (text + strlen (prefix), 10, 0, n - 1, &k, NULL))
        continue;
      total++;
      if (seen[k]++)
        duplicates++;
    }

  printf ("%s-received-on-%s: %u of %u, duplicates %u\n", prefix, node->name,
          total - duplicates, n, duplicates);
  if (total - duplicates != n || duplicates != 0)
    fail (net, "a message did not arrive exactly once");
}

int
main (int   argc,
      char *argv[])
{
  guint seconds = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 600;
  g_autoptr(GArray) t = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) rss = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) fds = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) anon = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) file = g_array_new (FALSE, FALSE, sizeof (double));
  g_autoptr(GArray) db = g_array_new (FALSE, FALSE, sizeof (double));
  g_autofree char *db_path = NULL;
  guint sent_ab = 0, sent_ba = 0, restarts = 0;
  TcTestNet *net;
  TcTestNode *a, *b;
  double start, next_sample, next_restart, deadline;

  if (tc_test_binary () == NULL || g_getenv ("TORCHAT_TEST_SOCKS") == NULL)
    {
      g_printerr ("bench-soak: set TORCHAT_BINARY and TORCHAT_TEST_SOCKS\n");
      return 77;
    }

  net = tc_test_net_new ();
  /* BENCH_SOAK_DEBUG=1: the nodes log at debug level (with
   * TC_TEST_NODE_DEBUG=1), and A's memory lines are shown at the end. */
  net->quiet = g_getenv ("BENCH_SOAK_DEBUG") == NULL;
  net->plaintext = TRUE;
  a = tc_test_net_add_node (net, "A");
  b = tc_test_net_add_node (net, "B");
  tc_test_make_friends (net, a, b);

  printf ("soak: %u s, %u messages/s from A, %u every 10 s from B, B restarted every %u s\n",
          seconds, RATE, RATE, RESTART_S);
  db_path = g_build_filename (a->profile, "torchat.db", NULL);
  start = tc_test_now ();
  next_sample = start;
  next_restart = start + RESTART_S;
  deadline = start + seconds;

  for (guint tick = 0; tc_test_now () < deadline; tick++)
    {
      double now = tc_test_now ();

      send_lines (net, a, b, "ab", sent_ab, RATE);
      sent_ab += RATE;
      if (tick % 10 == 5 && tc_test_node_alive (b))
        {
          send_lines (net, b, a, "ba", sent_ba, RATE);
          sent_ba += RATE;
        }

      if (now >= next_sample)
        {
          double x = now - start, r = rss_kib (a), d = open_fds (a);
          double an = status_kib (a, "RssAnon:"), fi = status_kib (a, "RssFile:");
          GStatBuf st;
          double size = g_stat (db_path, &st) == 0 ? st.st_size / 1024.0 : -1;

          g_array_append_val (t, x);
          g_array_append_val (rss, r);
          g_array_append_val (fds, d);
          g_array_append_val (anon, an);
          g_array_append_val (file, fi);
          g_array_append_val (db, size);
          printf ("sample %4.0f s: A VmRSS %.0f kB (anonymous %.0f, files %.0f), %.0f fds, "
                  "database %.0f kB; B VmRSS %.0f kB, %.0f fds; A outbox %" G_GINT64_FORMAT "\n",
                  x, r, an, fi, d, size, rss_kib (b), open_fds (b), tc_test_outbox (a, b->address));
          fflush (stdout);
          next_sample += SAMPLE_S;
        }

      if (now >= next_restart)
        {
          tc_test_node_quit (net, b);
          tc_test_sleep (2000);
          tc_test_node_start (net, b);
          restarts++;
          next_restart += RESTART_S;
        }

      tc_test_net_check_alive (net, __FILE__, __LINE__, G_STRFUNC);
      tc_test_sleep ((guint) MAX (0, (start + tick + 1 - tc_test_now ()) * 1000));
    }

  /* Drain: everything queued gets through. */
  {
    double drain = tc_test_now () + DRAIN_TIMEOUT;

    while (tc_test_outbox (a, b->address) > 0 || tc_test_outbox (b, a->address) > 0)
      {
        if (tc_test_now () > drain)
          fail (net, "the outboxes did not empty");
        tc_test_sleep (200);
      }
  }

  printf ("sent: %u A to B, %u B to A, %u restarts of B\n", sent_ab, sent_ba, restarts);
  check_once (net, b, a, "ab", sent_ab);
  check_once (net, a, b, "ba", sent_ba);
  printf ("A VmRSS: %.0f to %.0f kB over %u samples, slope %.0f kB/hour\n",
          array_min (rss), array_max (rss), rss->len, slope_per_hour (t, rss));
  printf ("A open fds: %.0f to %.0f, slope %.2f per hour\n",
          array_min (fds), array_max (fds), slope_per_hour (t, fds));
  printf ("A RssAnon: %.0f to %.0f kB, slope %.0f kB/hour; RssFile: %.0f to %.0f kB, "
          "slope %.0f kB/hour\n",
          array_min (anon), array_max (anon), slope_per_hour (t, anon),
          array_min (file), array_max (file), slope_per_hour (t, file));
  printf ("A torchat.db: %.0f to %.0f kB, slope %.0f kB/hour\n",
          array_min (db), array_max (db), slope_per_hour (t, db));

  if (!net->quiet)
    {
      g_autofree char *log = NULL;

      if (g_file_get_contents (a->log_path, &log, NULL, NULL))
        {
          g_auto(GStrv) lines = g_strsplit (log, "\n", -1);
          guint shown = 0;

          for (guint i = 0; lines[i] != NULL; i++)
            if (strstr (lines[i], "Memory: SQLite") != NULL && shown++ % 6 == 0)
              printf ("A: %s\n", lines[i]);
        }
    }

  tc_test_net_free (net);
  return 0;
}
