/* tc-test-harness.h: running real nodes behind the test SOCKS server, or
 * on a private Tor network
 *
 * Shared by the integration and Tor network tests and the benchmarks.
 * Header-only (static inline functions) so each program stays a single
 * source file.
 *
 * Every process started here is a GSubprocess kept in a list and killed by
 * its own pid at the end; each child also asks the kernel for SIGKILL when
 * the test process dies, so an aborted test leaves nothing running.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>

#define TC_TEST_TIMEOUT 60.0

typedef struct _TcTestNet TcTestNet;

typedef struct
{
  TcTestNet   *net;
  char        *name;         /* "A", "B", … */
  char        *profile;
  char        *log_path;
  GSubprocess *proc;
  char        *address;
  guint        port;
  guint        rate;         /* SOCKS throttle, bytes/s, 0 for none */
  gboolean     corrupt_file; /* SOCKS changes a byte of file streams to it */
  char       **wrapper;      /* argv run in front of the node (strace …), or NULL */
  gboolean     plaintext;    /* --no-passphrase instead of --passphrase-file */
  /* SOCKS only, a tor the test runs and publishes the onion service in:
   * --socks this and --listen listen_only instead of the net's way. */
  char        *socks_only;
  char        *listen_only;
} TcTestNode;

struct _TcTestNet
{
  char        *tmpdir;
  char        *map_path;
  char        *socks_log;
  GSubprocess *socks;
  guint        socks_port;
  GPtrArray   *nodes;        /* TcTestNode */
  gboolean     quiet;        /* benchmark: no debug logs from the nodes */
  /* Profiles are encrypted with the passphrase in this file, unless the
   * net or the node says plaintext. */
  char        *passphrase_file;
  gboolean     plaintext;
  /* Without a SOCKS server (tc_test_net_new_tor()): the private Tor
   * network's directory and the torrc lines its clients include; each node
   * then runs its own tor with --tor-config. */
  char        *tornet_dir;
  char        *tor_config;
  GSubprocess *tornet_watchdog;
};

static pid_t tc_test_parent_pid;

static inline void
tc_test_child_setup (gpointer user_data)
{
  prctl (PR_SET_PDEATHSIG, SIGKILL);
  /* The test may have died before the line above. */
  if (getppid () != tc_test_parent_pid)
    _exit (127);
}

/* g_test_message() in a test, stderr in the benchmark. */
static inline void G_GNUC_PRINTF (1, 2)
tc_test_note (const char *format,
              ...)
{
  g_autofree char *text = NULL;
  va_list args;

  va_start (args, format);
  text = g_strdup_vprintf (format, args);
  va_end (args);

  if (g_test_initialized ())
    g_test_message ("%s", text);
  else
    g_printerr ("%s\n", text);
}

static inline const char *
tc_test_binary (void)
{
  return g_getenv ("TORCHAT_BINARY");
}

static inline double
tc_test_now (void)
{
  return g_get_monotonic_time () / (double) G_USEC_PER_SEC;
}

static inline gboolean
tc_test_timeout_cb (gpointer user_data)
{
  *(gboolean *) user_data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Sleeps while letting async operations of the default context run. */
static inline void
tc_test_sleep (guint ms)
{
  gboolean done = FALSE;

  g_timeout_add (ms, tc_test_timeout_cb, &done);
  while (!done)
    g_main_context_iteration (NULL, TRUE);
}

static inline GSubprocessLauncher *
tc_test_launcher (GSubprocessFlags flags)
{
  GSubprocessLauncher *launcher = g_subprocess_launcher_new (flags);

  tc_test_parent_pid = getpid ();
  g_subprocess_launcher_set_child_setup (launcher, tc_test_child_setup, NULL, NULL);
  /* A warning in a node is not a test failure by itself (a misbehaving peer
   * may cause one); criticals are, see tc_test_net_free(). */
  g_subprocess_launcher_setenv (launcher, "G_DEBUG", "gc-friendly", TRUE);

  return launcher;
}

static inline gboolean
tc_test_node_alive (TcTestNode *node)
{
  return node->proc != NULL && g_subprocess_get_identifier (node->proc) != NULL;
}

static inline GPid
tc_test_node_pid (TcTestNode *node)
{
  const char *id = node->proc ? g_subprocess_get_identifier (node->proc) : NULL;

  return id ? (GPid) g_ascii_strtoll (id, NULL, 10) : 0;
}

/* The end of a log, without the lines every command-line call causes. */
static inline char *
tc_test_tail (const char *path,
              gsize       max)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GString) kept = g_string_new (NULL);

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return g_strdup ("(no log)");

  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (strstr (lines[i], "Control client") != NULL)
        continue;
      g_string_append (kept, lines[i]);
      g_string_append_c (kept, '\n');
    }

  if (kept->len > max)
    return g_strdup (kept->str + kept->len - max);

  return g_string_free (g_steal_pointer (&kept), FALSE);
}

static inline int tc_test_run_cliv (TcTestNode         *node,
                                    const char         *input,
                                    char              **out,
                                    char              **err,
                                    const char * const *args);

/* What `tor --json` says, its log cut to the last lines: the node does not
 * write tor's log anywhere else. */
static inline char *
tc_test_tor_report (TcTestNode *node)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(GString) report = g_string_new (NULL);
  g_autofree char *out = NULL;
  g_autofree char *summary = NULL;
  const char * const args[] = { "--json", "tor", NULL };
  JsonObject *status;
  JsonArray *log = NULL;
  guint n;

  if (tc_test_run_cliv (node, NULL, &out, NULL, args) != 0 ||
      !json_parser_load_from_data (parser, out, -1, NULL) ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return g_strdup ("(no answer to `tor --json`)");

  status = json_node_get_object (json_parser_get_root (parser));
  if (json_object_has_member (status, "log"))
    log = json_array_ref (json_object_get_array_member (status, "log"));
  if (log != NULL)
    json_object_remove_member (status, "log");
  json_generator_set_root (generator, json_parser_get_root (parser));
  summary = json_generator_to_data (generator, NULL);
  g_string_append_printf (report, "%s\n", summary);

  n = log != NULL ? json_array_get_length (log) : 0;
  for (guint i = n > 25 ? n - 25 : 0; i < n; i++)
    g_string_append_printf (report, "  %s\n", json_array_get_string_element (log, i));
  g_clear_pointer (&log, json_array_unref);

  return g_string_free (g_steal_pointer (&report), FALSE);
}

/* Puts the end of every log in the TAP output, for failures. */
static inline void
tc_test_net_dump_logs (TcTestNet *net)
{
  tc_test_note ("test directory: %s", net->tmpdir);
  if (net->socks_log != NULL)
    {
      g_autofree char *socks = tc_test_tail (net->socks_log, 2000);

      tc_test_note ("--- socks log ---\n%s", socks);
    }
  for (guint i = 0; i < net->nodes->len; i++)
    {
      TcTestNode *node = g_ptr_array_index (net->nodes, i);
      g_autofree char *tail = tc_test_tail (node->log_path, 4000);

      tc_test_note ("--- node %s (%s) ---\n%s", node->name,
                      tc_test_node_alive (node) ? "running" : "not running", tail);
      if (net->tor_config != NULL && tc_test_node_alive (node))
        {
          g_autofree char *tor = tc_test_tor_report (node);

          tc_test_note ("--- tor of node %s ---\n%s", node->name, tor);
        }
    }
}

static inline void
tc_test_fail_with_logs (TcTestNet  *net,
                        const char *file,
                        int         line,
                        const char *func,
                        const char *what)
{
  tc_test_net_dump_logs (net);
  g_assertion_message (G_LOG_DOMAIN, file, line, func, what);
}

/* Every node that should run does: a crashed node fails the test at once
 * rather than after a long timeout. */
static inline void
tc_test_net_check_alive (TcTestNet  *net,
                         const char *file,
                         int         line,
                         const char *func)
{
  for (guint i = 0; i < net->nodes->len; i++)
    {
      TcTestNode *node = g_ptr_array_index (net->nodes, i);

      if (node->proc != NULL && !tc_test_node_alive (node))
        {
          g_autofree char *what = NULL;

          if (g_subprocess_get_if_signaled (node->proc))
            what = g_strdup_printf ("node %s died of signal %d", node->name,
                                    g_subprocess_get_term_sig (node->proc));
          else
            what = g_strdup_printf ("node %s exited with status %d", node->name,
                                    g_subprocess_get_exit_status (node->proc));
          tc_test_fail_with_logs (net, file, line, func, what);
        }
    }
}

/* Polls @expr every 100 ms until it holds; fails after @secs seconds. */
#define TC_WAIT_UNTIL(net, expr, secs)                                          \
  G_STMT_START {                                                                \
    double tc_deadline_ = tc_test_now () + (secs);                              \
    while (!(expr))                                                             \
      {                                                                         \
        tc_test_net_check_alive ((net), __FILE__, __LINE__, G_STRFUNC);         \
        if (tc_test_now () > tc_deadline_)                                      \
          tc_test_fail_with_logs ((net), __FILE__, __LINE__, G_STRFUNC,         \
                                  "timed out waiting for: " #expr); \
        tc_test_sleep (100);                                                    \
      }                                                                         \
  } G_STMT_END

/* Running the command line */

typedef struct
{
  GSubprocess *proc;
  gboolean     done;
  int          status;        /* exit status, -1 if killed by a signal */
  char        *out;
  char        *err;
} TcTestCli;

static inline void
tc_test_cli_free (TcTestCli *cli)
{
  g_clear_object (&cli->proc);
  g_free (cli->out);
  g_free (cli->err);
  g_free (cli);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcTestCli, tc_test_cli_free)

static inline void
tc_test_cli_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  TcTestCli *cli = user_data;
  GSubprocess *proc = G_SUBPROCESS (object);
  g_autoptr(GError) error = NULL;

  if (!g_subprocess_communicate_utf8_finish (proc, result, &cli->out, &cli->err, &error))
    {
      cli->err = g_strdup (error->message);
      cli->status = -1;
    }
  else if (g_subprocess_get_if_exited (proc))
    cli->status = g_subprocess_get_exit_status (proc);
  else
    cli->status = -1;

  cli->done = TRUE;
}

/* Starts `torchat --profile DIR ARGS…` without waiting for it. */
static inline TcTestCli *
tc_test_cli_start (TcTestNode         *node,
                   const char         *input,
                   const char * const *args)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GError) error = NULL;
  TcTestCli *cli = g_new0 (TcTestCli, 1);

  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                               G_SUBPROCESS_FLAGS_STDERR_PIPE |
                               (input ? G_SUBPROCESS_FLAGS_STDIN_PIPE : 0));
  g_ptr_array_add (argv, (char *) tc_test_binary ());
  g_ptr_array_add (argv, (char *) "--profile");
  g_ptr_array_add (argv, node->profile);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  cli->proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8_async (cli->proc, input, NULL, tc_test_cli_done_cb, cli);

  return cli;
}

static inline void
tc_test_cli_wait (TcTestCli *cli)
{
  while (!cli->done)
    g_main_context_iteration (NULL, TRUE);
}

/* Runs the command line against @node; returns its exit status and,
 * optionally, what it wrote. NULL-terminated arguments. */
static inline int
tc_test_run_cliv (TcTestNode         *node,
                  const char         *input,
                  char              **out,
                  char              **err,
                  const char * const *args)
{
  g_autoptr(TcTestCli) cli = tc_test_cli_start (node, input, args);
  int status;

  tc_test_cli_wait (cli);
  status = cli->status;
  if (out != NULL)
    *out = g_steal_pointer (&cli->out);
  if (err != NULL)
    *err = g_steal_pointer (&cli->err);

  return status;
}

#define tc_test_run_cli(node, input, out, err, ...) \
  tc_test_run_cliv ((node), (input), (out), (err), (const char * const[]) { __VA_ARGS__, NULL })

/* Runs a --json command that must succeed; returns the parsed answer. */
static inline JsonNode *
tc_test_cli_jsonv (TcTestNode         *node,
                   const char * const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  int status;

  g_ptr_array_add (argv, (char *) "--json");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (char *) args[i]);
  g_ptr_array_add (argv, NULL);

  status = tc_test_run_cliv (node, NULL, &out, &err, (const char * const *) argv->pdata);
  if (status != 0)
    {
      g_autofree char *what = g_strdup_printf ("torchat --json %s on %s: status %d: %s",
                                               args[0], node->name, status, err);

      tc_test_net_check_alive (node->net, __FILE__, __LINE__, G_STRFUNC);
      tc_test_fail_with_logs (node->net, __FILE__, __LINE__, G_STRFUNC, what);
    }

  json_parser_load_from_data (parser, out, -1, &error);
  g_assert_no_error (error);

  return json_node_ref (json_parser_get_root (parser));
}

#define tc_test_cli_json(node, ...) \
  tc_test_cli_jsonv ((node), (const char * const[]) { __VA_ARGS__, NULL })

/* The contact @address in @node's list, or NULL. */
static inline JsonObject *
tc_test_find_contact (TcTestNode *node,
                      const char *address)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "contacts");
  JsonArray *array;

  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  array = json_node_get_array (root);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *contact = json_array_get_object_element (array, i);

      g_assert_nonnull (contact);
      if (g_strcmp0 (json_object_get_string_member_with_default (contact, "address", NULL),
                     address) == 0)
        return json_object_ref (contact);
    }

  return NULL;
}

static inline guint
tc_test_count_contacts (TcTestNode *node)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "contacts");

  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  return json_array_get_length (json_node_get_array (root));
}

/* A string member of a contact, interned so a condition can compare it
 * without freeing; "(no contact)" when the contact is absent and
 * "(null)" when the member is null or missing. */
static inline const char *
tc_test_contact_get (TcTestNode *node,
                     const char *address,
                     const char *member)
{
  g_autoptr(JsonObject) contact = tc_test_find_contact (node, address);
  JsonNode *value;

  if (contact == NULL)
    return "(no contact)";

  value = json_object_get_member (contact, member);
  if (value == NULL || JSON_NODE_HOLDS_NULL (value))
    return "(null)";
  if (json_node_get_value_type (value) == G_TYPE_STRING)
    return g_intern_string (json_node_get_string (value));
  if (json_node_get_value_type (value) == G_TYPE_BOOLEAN)
    return json_node_get_boolean (value) ? "true" : "false";
  if (json_node_get_value_type (value) == G_TYPE_INT64)
    {
      g_autofree char *text = g_strdup_printf ("%" G_GINT64_FORMAT, json_node_get_int (value));
      return g_intern_string (text);
    }

  return "(other)";
}

#define tc_test_contact_is(node, address, member, value) \
  (g_strcmp0 (tc_test_contact_get ((node), (address), (member)), (value)) == 0)

/* The contact's outbox count, or -1 without such a contact. */
static inline gint64
tc_test_outbox (TcTestNode *node,
                const char *address)
{
  g_autoptr(JsonObject) contact = tc_test_find_contact (node, address);

  if (contact == NULL)
    return -1;

  return json_object_get_int_member_with_default (contact, "outbox", -1);
}

static inline JsonArray *
tc_test_history (TcTestNode *node,
                 const char *address)
{
  g_autoptr(JsonNode) root = tc_test_cli_json (node, "history", address);

  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  return json_array_ref (json_node_get_array (root));
}

/* The texts of @node's history with @address in @direction ("in" or "out"),
 * in history order; with @state, only messages in that state. */
static inline GPtrArray *
tc_test_history_texts (TcTestNode *node,
                       const char *address,
                       const char *direction,
                       const char *state)
{
  g_autoptr(JsonArray) history = tc_test_history (node, address);
  GPtrArray *texts = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; i < json_array_get_length (history); i++)
    {
      JsonObject *message = json_array_get_object_element (history, i);

      /* "in" also matches "incoming", "out" "outgoing". */
      if (!g_str_has_prefix (json_object_get_string_member_with_default (message, "direction", ""),
                             direction))
        continue;
      if (state != NULL &&
          g_strcmp0 (json_object_get_string_member_with_default (message, "state", NULL),
                     state) != 0)
        continue;
      g_ptr_array_add (texts,
                       g_strdup (json_object_get_string_member_with_default (message, "text", "")));
    }

  return texts;
}

static inline guint
tc_test_history_count (TcTestNode *node,
                       const char *address,
                       const char *direction,
                       const char *state)
{
  g_autoptr(GPtrArray) texts = tc_test_history_texts (node, address, direction, state);

  return texts->len;
}

/* The SOCKS server and its map */

static inline void
tc_test_net_write_map (TcTestNet *net)
{
  g_autoptr(GString) map = g_string_new (NULL);
  g_autoptr(GError) error = NULL;

  for (guint i = 0; i < net->nodes->len; i++)
    {
      TcTestNode *node = g_ptr_array_index (net->nodes, i);

      if (node->address == NULL || node->port == 0)
        continue;

      g_string_append_printf (map, "%s 127.0.0.1:%u", node->address, node->port);
      if (node->rate > 0)
        g_string_append_printf (map, " %u", node->rate);
      if (node->corrupt_file)
        g_string_append (map, " corrupt-file");
      g_string_append_c (map, '\n');
    }

  /* Atomic: the server may read it at any moment. */
  g_file_set_contents (net->map_path, map->str, map->len, &error);
  g_assert_no_error (error);
}

/* Lines of the SOCKS log with @event ("CONNECT" or "END") for @address,
 * whose name the log cuts to 8 characters; with @outcome, only those. */
static inline guint
tc_test_socks_count (TcTestNet  *net,
                     const char *event,
                     const char *address,
                     const char *outcome)
{
  g_autofree char *contents = NULL;
  g_autofree char *prefix = NULL;
  g_auto(GStrv) lines = NULL;
  guint n = 0;

  if (!g_file_get_contents (net->socks_log, &contents, NULL, NULL))
    return 0;

  prefix = g_strdup_printf ("tc-test-socks: %s %.8s…%s%s", event, address,
                            outcome ? " " : "", outcome ? outcome : "");
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    n += g_str_has_prefix (lines[i], prefix);

  return n;
}

static inline guint
tc_test_read_port_file (const char *path)
{
  g_autofree char *contents = NULL;
  guint64 port = 0;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return 0;
  if (!g_ascii_string_to_unsigned (g_strstrip (contents), 10, 1, G_MAXUINT16, &port, NULL))
    return 0;

  return (guint) port;
}

static inline TcTestNet *
tc_test_net_new (void)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *port_file = NULL;
  const char *socks_binary = g_getenv ("TORCHAT_TEST_SOCKS");
  TcTestNet *net = g_new0 (TcTestNet, 1);
  double deadline;

  net->nodes = g_ptr_array_new ();
  net->tmpdir = g_dir_make_tmp ("torchat-integration-XXXXXX", &error);
  g_assert_no_error (error);
  net->map_path = g_build_filename (net->tmpdir, "socks-map", NULL);
  net->socks_log = g_build_filename (net->tmpdir, "socks.log", NULL);
  port_file = g_build_filename (net->tmpdir, "socks-port", NULL);
  tc_test_net_write_map (net);

  g_assert_nonnull (socks_binary);
  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  g_subprocess_launcher_set_stderr_file_path (launcher, net->socks_log);
  net->socks = g_subprocess_launcher_spawn (launcher, &error, socks_binary,
                                            "--map", net->map_path,
                                            "--port-file", port_file,
                                            NULL);
  g_assert_no_error (error);

  deadline = tc_test_now () + TC_TEST_TIMEOUT;
  while ((net->socks_port = tc_test_read_port_file (port_file)) == 0)
    {
      g_assert_nonnull (g_subprocess_get_identifier (net->socks));
      g_assert_cmpfloat (tc_test_now (), <, deadline);
      tc_test_sleep (20);
    }

  return net;
}

/* The private Tor network */

static inline const char *
tc_test_tornet_script (void)
{
  static char *path;

  if (path == NULL && g_getenv ("TORCHAT_TOR_NETWORK") != NULL)
    path = g_strdup (g_getenv ("TORCHAT_TOR_NETWORK"));
  if (path == NULL && g_getenv ("G_TEST_SRCDIR") != NULL)
    path = g_build_filename (g_getenv ("G_TEST_SRCDIR"), "tor-network.sh", NULL);

  return path;
}

/* Why the private network cannot run here, or NULL if it can. */
static inline const char *
tc_test_tornet_missing (void)
{
  g_autofree char *tor = g_find_program_in_path ("tor");
  g_autofree char *gencert = g_find_program_in_path ("tor-gencert");
  g_autofree char *python = g_find_program_in_path ("python3");

  if (tc_test_binary () == NULL)
    return "TORCHAT_BINARY is not set";
  if (tc_test_tornet_script () == NULL ||
      !g_file_test (tc_test_tornet_script (), G_FILE_TEST_EXISTS))
    return "tests/tor-network.sh not found (set TORCHAT_TOR_NETWORK or G_TEST_SRCDIR)";
  if (tor == NULL || gencert == NULL)
    return "tor or tor-gencert is not installed (Debian package tor)";
  if (python == NULL)
    return "python3 is not installed (tests/tor-network.sh needs it)";

  return NULL;
}

/* A test directory and no SOCKS server; start the network with
 * tc_test_tornet_start(). */
static inline TcTestNet *
tc_test_net_new_tor (void)
{
  g_autoptr(GError) error = NULL;
  TcTestNet *net = g_new0 (TcTestNet, 1);

  net->nodes = g_ptr_array_new ();
  net->tmpdir = g_dir_make_tmp ("torchat-tor-XXXXXX", &error);
  g_assert_no_error (error);

  return net;
}

static inline gboolean
tc_test_tornet_start_once (TcTestNet  *net,
                           GError    **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) start = NULL;
  g_autofree char *pid = g_strdup_printf ("%d", (int) getpid ());
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE);
  /* The tors also end by themselves within seconds of this process, should
   * the watchdog die with it (SIGKILL of the whole process group). */
  g_subprocess_launcher_setenv (launcher, "TORNET_OWNER_PID", pid, TRUE);
  start = g_subprocess_launcher_spawn (launcher, error, "/bin/sh", tc_test_tornet_script (),
                                       "start", net->tornet_dir, NULL);
  if (start == NULL ||
      !g_subprocess_communicate_utf8 (start, NULL, NULL, &out, &err, error))
    return FALSE;

  if (!g_subprocess_get_if_exited (start) || g_subprocess_get_exit_status (start) != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   "tor-network.sh start failed (status %d): %s",
                   g_subprocess_get_if_exited (start) ? g_subprocess_get_exit_status (start) : -1,
                   err);
      return FALSE;
    }

  net->tor_config = g_strstrip (g_steal_pointer (&out));
  tc_test_note ("%s", g_strstrip (err));

  return TRUE;
}

/* Starts the private network under the test directory and waits until a
 * client can use it; FALSE with @error if it did not come up twice. The
 * network's tors are not our children, so PR_SET_PDEATHSIG cannot reach
 * them: a watchdog shell stops them if this process dies first (a failed
 * assertion aborts). */
static inline gboolean
tc_test_tornet_start (TcTestNet  *net,
                      GError    **error)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) first_error = NULL;
  g_autofree char *failed_dir = NULL;

  g_assert_null (net->tornet_dir);
  net->tornet_dir = g_build_filename (net->tmpdir, "tornet", NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDIN_PIPE |
                                        G_SUBPROCESS_FLAGS_STDOUT_SILENCE);
  net->tornet_watchdog = g_subprocess_launcher_spawn (launcher, error, "/bin/sh", "-c",
                                                      "read -r line; "
                                                      "[ \"$line\" = done ] || "
                                                      "exec /bin/sh \"$0\" stop \"$1\"",
                                                      tc_test_tornet_script (),
                                                      net->tornet_dir, NULL);
  if (net->tornet_watchdog == NULL)
    return FALSE;

  if (tc_test_tornet_start_once (net, &first_error))
    return TRUE;

  /* A network that misses a voting round on a busy machine may not come up
   * in time; a second one usually does. The failed one stays for a look. */
  tc_test_note ("the private Tor network did not come up, trying once more: %s",
                first_error->message);
  /* `start` stops what it started when it fails; in case it did not. */
  {
    g_autoptr(GSubprocess) stop = NULL;

    g_clear_object (&launcher);
    launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
    stop = g_subprocess_launcher_spawn (launcher, NULL, "/bin/sh", tc_test_tornet_script (),
                                        "stop", net->tornet_dir, NULL);
    if (stop != NULL)
      g_subprocess_wait (stop, NULL, NULL);
  }
  failed_dir = g_strdup_printf ("%s-failed", net->tornet_dir);
  if (g_rename (net->tornet_dir, failed_dir) != 0)
    {
      g_propagate_error (error, g_steal_pointer (&first_error));
      return FALSE;
    }

  return tc_test_tornet_start_once (net, error);
}

/* Seconds the network took to come up, from DIR/timing. */
static inline double
tc_test_tornet_start_seconds (TcTestNet *net)
{
  g_autofree char *path = g_build_filename (net->tornet_dir, "timing", NULL);
  g_autofree char *contents = NULL;
  g_auto(GStrv) fields = NULL;

  if (!g_file_get_contents (path, &contents, NULL, NULL))
    return -1;
  fields = g_strsplit (g_strstrip (contents), " ", -1);
  if (g_strv_length (fields) != 2)
    return -1;

  return (g_ascii_strtod (fields[1], NULL) - g_ascii_strtod (fields[0], NULL)) / 1000;
}

static inline void
tc_test_tornet_stop (TcTestNet *net)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSubprocess) stop = NULL;
  g_autoptr(GError) error = NULL;

  if (net->tornet_dir == NULL)
    return;

  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  stop = g_subprocess_launcher_spawn (launcher, &error, "/bin/sh", tc_test_tornet_script (),
                                      "stop", net->tornet_dir, NULL);
  if (stop == NULL || !g_subprocess_wait (stop, NULL, &error))
    tc_test_note ("could not stop the private Tor network: %s", error->message);

  if (net->tornet_watchdog != NULL)
    {
      GOutputStream *in = g_subprocess_get_stdin_pipe (net->tornet_watchdog);

      /* With the network stopped by now, the watchdog need not. */
      g_output_stream_write_all (in, "done\n", 5, NULL, NULL, NULL);
      g_output_stream_close (in, NULL, NULL);
      g_subprocess_wait (net->tornet_watchdog, NULL, NULL);
      g_clear_object (&net->tornet_watchdog);
    }

  g_clear_pointer (&net->tornet_dir, g_free);
}

/* A managed tor still running after its node has gone (a node killed with
 * SIGKILL cannot stop it): found by the PID file in the profile, and only
 * if that process runs on a torrc inside the profile. */
static inline void
tc_test_node_stop_orphan_tor (TcTestNode *node)
{
  g_autofree char *pid_path = g_build_filename (node->profile, "tor", "tor.pid", NULL);
  g_autofree char *contents = NULL;
  g_autofree char *cmdline_path = NULL;
  g_autofree char *cmdline = NULL;
  gsize len = 0;
  guint64 pid;

  if (!g_file_get_contents (pid_path, &contents, NULL, NULL) ||
      !g_ascii_string_to_unsigned (g_strstrip (contents), 10, 2, G_MAXINT, &pid, NULL))
    return;

  cmdline_path = g_strdup_printf ("/proc/%" G_GUINT64_FORMAT "/cmdline", pid);
  if (!g_file_get_contents (cmdline_path, &cmdline, &len, NULL))
    return;
  for (gsize i = 0; i + 1 < len; i++)
    if (cmdline[i] == '\0')
      cmdline[i] = ' ';
  if (strstr (cmdline, node->profile) == NULL)
    return;

  tc_test_note ("node %s left its tor (PID %" G_GUINT64_FORMAT ") running: stopping it",
                node->name, pid);
  kill ((pid_t) pid, SIGTERM);
  for (guint i = 0; i < 100 && g_file_test (cmdline_path, G_FILE_TEST_EXISTS); i++)
    g_usleep (50000);
  if (g_file_test (cmdline_path, G_FILE_TEST_EXISTS))
    kill ((pid_t) pid, SIGKILL);
}

/* Starts (or restarts) @node's process and waits until its control socket
 * answers. */
static inline void
tc_test_node_start (TcTestNet  *net,
                    TcTestNode *node)
{
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *socks = g_strdup_printf ("127.0.0.1:%u", net->socks_port);
  double deadline = tc_test_now () + TC_TEST_TIMEOUT;
  int fd;

  g_assert_false (tc_test_node_alive (node));
  g_clear_object (&node->proc);

  /* Appending: a restarted node's log follows the previous run's. */
  fd = open (node->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  g_assert_cmpint (fd, >=, 0);

  launcher = tc_test_launcher (G_SUBPROCESS_FLAGS_NONE);
  if (net->quiet)
    g_subprocess_launcher_unsetenv (launcher, "G_MESSAGES_DEBUG");
  else if (g_getenv ("TC_TEST_NODE_DEBUG") != NULL)
    g_subprocess_launcher_setenv (launcher, "G_MESSAGES_DEBUG", "all", TRUE);
  g_subprocess_launcher_take_stdout_fd (launcher, dup (fd));
  g_subprocess_launcher_take_stderr_fd (launcher, fd);

  for (guint i = 0; node->wrapper != NULL && node->wrapper[i] != NULL; i++)
    g_ptr_array_add (argv, node->wrapper[i]);
  g_ptr_array_add (argv, (char *) tc_test_binary ());
  g_ptr_array_add (argv, (char *) "--headless");
  g_ptr_array_add (argv, (char *) "--profile");
  g_ptr_array_add (argv, node->profile);
  if (node->plaintext)
    g_ptr_array_add (argv, (char *) "--no-passphrase");
  else
    {
      if (net->passphrase_file == NULL)
        {
          net->passphrase_file = g_build_filename (net->tmpdir, "passphrase", NULL);
          g_assert_true (g_file_set_contents_full (net->passphrase_file,
                                                   "a test passphrase, not a good one\n", -1,
                                                   G_FILE_SET_CONTENTS_NONE, 0600, NULL));
        }
      g_ptr_array_add (argv, (char *) "--passphrase-file");
      g_ptr_array_add (argv, net->passphrase_file);
    }
  if (node->socks_only != NULL)
    {
      g_ptr_array_add (argv, (char *) "--listen");
      g_ptr_array_add (argv, node->listen_only);
      g_ptr_array_add (argv, (char *) "--socks");
      g_ptr_array_add (argv, node->socks_only);
    }
  else if (net->tor_config != NULL)
    {
      /* The node's own tor, on the private network. */
      g_ptr_array_add (argv, (char *) "--tor-config");
      g_ptr_array_add (argv, net->tor_config);
    }
  else
    {
      g_ptr_array_add (argv, (char *) "--listen");
      g_ptr_array_add (argv, (char *) "127.0.0.1:0");
      g_ptr_array_add (argv, (char *) "--socks");
      g_ptr_array_add (argv, socks);
    }
  g_ptr_array_add (argv, NULL);
  node->proc = g_subprocess_launcher_spawnv (launcher, (const char * const *) argv->pdata, &error);
  g_assert_no_error (error);

  for (;;)
    {
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autofree char *out = NULL;
      JsonObject *id;

      if (tc_test_run_cli (node, NULL, &out, NULL, "--json", "id") == 0 &&
          json_parser_load_from_data (parser, out, -1, NULL) &&
          JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
        {
          id = json_node_get_object (json_parser_get_root (parser));
          g_free (node->address);
          node->address = g_strdup (json_object_get_string_member_with_default (id, "address", ""));
          node->port = json_object_get_int_member_with_default (id, "listen-port", 0);
          g_assert_cmpuint (strlen (node->address), ==, 62);
          g_assert_cmpuint (node->port, >, 0);
          break;
        }

      tc_test_net_check_alive (net, __FILE__, __LINE__, G_STRFUNC);
      if (tc_test_now () > deadline)
        tc_test_fail_with_logs (net, __FILE__, __LINE__, G_STRFUNC,
                                "node did not answer `id` in time");
      tc_test_sleep (50);
    }

  if (net->socks != NULL)
    tc_test_net_write_map (net);
}

/* A node with its profile directory, not started yet: set what differs
 * from the net's way, then tc_test_node_start(). */
static inline TcTestNode *
tc_test_net_new_node (TcTestNet  *net,
                      const char *name)
{
  TcTestNode *node = g_new0 (TcTestNode, 1);

  node->net = net;
  node->plaintext = net->plaintext;
  node->name = g_strdup (name);
  node->profile = g_build_filename (net->tmpdir, name, NULL);
  node->log_path = g_strdup_printf ("%s.log", node->profile);
  g_assert_cmpint (g_mkdir (node->profile, 0700), ==, 0);
  g_ptr_array_add (net->nodes, node);

  return node;
}

static inline TcTestNode *
tc_test_net_add_node (TcTestNet  *net,
                      const char *name)
{
  TcTestNode *node = tc_test_net_new_node (net, name);

  tc_test_node_start (net, node);

  return node;
}

/* Waits for @node's process to end, at most @secs seconds. */
static inline gboolean
tc_test_node_wait_exit (TcTestNode *node,
                        double      secs)
{
  double deadline = tc_test_now () + secs;

  while (tc_test_node_alive (node))
    {
      if (tc_test_now () > deadline)
        return FALSE;
      tc_test_sleep (20);
    }

  return TRUE;
}

/* kill -9 of that one process. */
static inline void
tc_test_node_kill (TcTestNode *node)
{
  g_assert_true (tc_test_node_alive (node));
  g_subprocess_force_exit (node->proc);
  g_assert_true (tc_test_node_wait_exit (node, TC_TEST_TIMEOUT));
  g_clear_object (&node->proc);
}

/* `torchat quit`, which must end the node cleanly. */
static inline void
tc_test_node_quit (TcTestNet  *net,
                   TcTestNode *node)
{
  g_autofree char *err = NULL;
  int status;

  status = tc_test_run_cli (node, NULL, NULL, &err, "quit");
  if (status != 0)
    tc_test_note ("quit on %s: status %d: %s", node->name, status, err);
  g_assert_cmpint (status, ==, 0);

  if (!tc_test_node_wait_exit (node, TC_TEST_TIMEOUT))
    tc_test_fail_with_logs (net, __FILE__, __LINE__, G_STRFUNC, "node did not quit");
  g_assert_true (g_subprocess_get_if_exited (node->proc));
  g_assert_cmpint (g_subprocess_get_exit_status (node->proc), ==, 0);
  g_clear_object (&node->proc);
}

static inline void
tc_test_rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir != NULL)
    {
      while ((name = g_dir_read_name (dir)) != NULL)
        {
          g_autofree char *child = g_build_filename (path, name, NULL);

          if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
              !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
            tc_test_rm_rf (child);
          else
            g_unlink (child);
        }
    }

  g_rmdir (path);
}

static inline void
tc_test_node_free (TcTestNode *node)
{
  if (tc_test_node_alive (node))
    {
      g_subprocess_force_exit (node->proc);
      g_subprocess_wait (node->proc, NULL, NULL);
    }
  g_clear_object (&node->proc);
  g_strfreev (node->wrapper);
  g_free (node->name);
  g_free (node->profile);
  g_free (node->log_path);
  g_free (node->address);
  g_free (node->socks_only);
  g_free (node->listen_only);
  g_free (node);
}

/* Kills everything that still runs; a CRITICAL in a node's log fails the
 * test. The directory stays when TC_TEST_KEEP is set. */
static inline void
tc_test_net_free (TcTestNet *net)
{
  gboolean critical = FALSE;

  for (guint i = 0; i < net->nodes->len; i++)
    {
      TcTestNode *node = g_ptr_array_index (net->nodes, i);
      g_autofree char *log = NULL;

      /* SIGTERM first: a node that ends by itself runs its exit path,
       * and under the sanitizers LeakSanitizer's check with it. */
      if (tc_test_node_alive (node))
        {
          g_subprocess_send_signal (node->proc, SIGTERM);
          if (!tc_test_node_wait_exit (node, 10))
            {
              tc_test_note ("node %s did not end on SIGTERM", node->name);
              g_subprocess_force_exit (node->proc);
            }
          g_subprocess_wait (node->proc, NULL, NULL);
        }

      if (g_file_get_contents (node->log_path, &log, NULL, NULL) &&
          strstr (log, "CRITICAL") != NULL)
        {
          tc_test_note ("node %s logged a CRITICAL", node->name);
          critical = TRUE;
        }

      /* AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer
       * reports (the sanitizer build). */
      if (log != NULL &&
          (strstr (log, "==ERROR: ") != NULL || strstr (log, "runtime error: ") != NULL))
        {
          tc_test_note ("node %s: the sanitizers found an error", node->name);
          critical = TRUE;
        }
    }

  if (critical)
    {
      tc_test_net_dump_logs (net);
      if (g_test_initialized ())
        g_test_fail ();
    }

  if (net->socks != NULL)
    {
      g_subprocess_force_exit (net->socks);
      g_subprocess_wait (net->socks, NULL, NULL);
      g_clear_object (&net->socks);
    }

  if (net->tor_config != NULL)
    {
      for (guint i = 0; i < net->nodes->len; i++)
        tc_test_node_stop_orphan_tor (g_ptr_array_index (net->nodes, i));
    }
  tc_test_tornet_stop (net);

  for (guint i = 0; i < net->nodes->len; i++)
    tc_test_node_free (g_ptr_array_index (net->nodes, i));
  g_ptr_array_unref (net->nodes);

  if (g_getenv ("TC_TEST_KEEP") == NULL && !critical)
    tc_test_rm_rf (net->tmpdir);
  else
    tc_test_note ("kept %s", net->tmpdir);

  g_free (net->tmpdir);
  g_free (net->map_path);
  g_free (net->passphrase_file);
  g_free (net->socks_log);
  g_free (net->tor_config);
  g_free (net);
}

/* A adds B, B accepts: both end accepted. */
static inline void
tc_test_make_friends (TcTestNet  *net,
                      TcTestNode *a,
                      TcTestNode *b)
{
  g_assert_cmpint (tc_test_run_cli (a, NULL, NULL, NULL, "add", b->address), ==, 0);
  TC_WAIT_UNTIL (net, tc_test_contact_is (b, a->address, "state", "pending"), TC_TEST_TIMEOUT);
  g_assert_cmpint (tc_test_run_cli (b, NULL, NULL, NULL, "accept", a->address), ==, 0);
  TC_WAIT_UNTIL (net, tc_test_contact_is (a, b->address, "state", "accepted"), TC_TEST_TIMEOUT);
  g_assert_true (tc_test_contact_is (b, a->address, "state", "accepted"));
}

/* "PREFIX0\nPREFIX1\n…" for a `send ADDRESS -` */
static inline char *
tc_test_numbered_lines (const char *prefix,
                        guint       n)
{
  GString *lines = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append_printf (lines, "%s%u\n", prefix, i);

  return g_string_free (lines, FALSE);
}
