/* main.c: the desktop app, a headless node, or a command for a running node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <glib-unix.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tc-address.h"
#include "tc-commands.h"
#include "tc-control.h"
#include "tc-keyring.h"
#include "tc-node.h"
#include "tc-passphrase-input.h"

#if HAVE_GUI
# include "tc-application.h"
#endif

static char *opt_profile;
static char *opt_listen;
static char *opt_socks;
static char *opt_tor_binary;
static char *opt_tor_control;
static char *opt_tor_password;
static char *opt_tor_config;
static char *opt_passphrase_file;
static char *opt_new_passphrase_file;
static gboolean opt_no_passphrase;
static gboolean opt_headless;
static gboolean opt_json;
static gboolean opt_version;
static gboolean opt_service;

static const GOptionEntry entries[] = {
  { "profile", 'p', 0, G_OPTION_ARG_FILENAME, &opt_profile,
    N_("Use the profile in DIR"), N_("DIR") },
  { "headless", 0, 0, G_OPTION_ARG_NONE, &opt_headless,
    N_("Run the node without a window"), NULL },
  { "listen", 0, 0, G_OPTION_ARG_STRING, &opt_listen,
    N_("Where the onion service reaches the node (default 127.0.0.1:0, any free port)"),
    N_("HOST:PORT") },
  { "socks", 0, 0, G_OPTION_ARG_STRING, &opt_socks,
    N_("Use only the SOCKS port of a Tor you run yourself (and publish the onion service in its torrc)"),
    N_("HOST:PORT") },
  { "tor-control", 0, 0, G_OPTION_ARG_STRING, &opt_tor_control,
    N_("Use the Tor whose control port is HOST:PORT or a socket PATH"),
    N_("HOST:PORT|PATH") },
  { "tor-control-password", 0, 0, G_OPTION_ARG_STRING, &opt_tor_password,
    N_("The password of that control port (default: cookie authentication)"), N_("PASSWORD") },
  { "tor-binary", 0, 0, G_OPTION_ARG_FILENAME, &opt_tor_binary,
    N_("The tor program TORChat starts (default: tor)"), N_("PATH") },
  { "tor-config", 0, 0, G_OPTION_ARG_FILENAME, &opt_tor_config,
    N_("A file of extra torrc lines for the Tor TORChat starts"), N_("FILE") },
  { "passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_passphrase_file,
    N_("Read the profile’s passphrase from FILE (without it, the window asks, and "
       "--headless and passphrase ask on the terminal)"), N_("FILE") },
  { "new-passphrase-file", 0, 0, G_OPTION_ARG_FILENAME, &opt_new_passphrase_file,
    N_("With passphrase: read the new passphrase from FILE"), N_("FILE") },
  { "no-passphrase", 0, 0, G_OPTION_ARG_NONE, &opt_no_passphrase,
    N_("With --headless on a new profile: create it without encryption"), NULL },
  { "json", 0, 0, G_OPTION_ARG_NONE, &opt_json,
    N_("Print a command’s answer as JSON on one line"), NULL },
  /* What the session bus runs for D-Bus activation (data/…service.in). */
  { "gapplication-service", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &opt_service,
    NULL, NULL },
  { "version", 0, 0, G_OPTION_ARG_NONE, &opt_version,
    N_("Print the version and exit"), NULL },
  { NULL }
};

typedef struct
{
  GMainLoop *loop;
  TcNode    *node;
  TcControl *control;
  gboolean   stopping;
  int        status;
} Headless;

static char *
dup_default_profile (void)
{
  return g_build_filename (g_get_user_data_dir (), "torchat", "default", NULL);
}

static int G_GNUC_PRINTF (1, 2)
usage_error (const char *format,
             ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_printerr ("torchat: %s\n", message);
  g_printerr (_("Try “torchat --help” for more information.\n"));

  return TC_EXIT_USAGE;
}

static GOptionContext *
create_option_context (void)
{
  g_autofree char *default_profile = dup_default_profile ();
  g_autofree char *description = NULL;
  GOptionContext *context;

  context = g_option_context_new (_("[COMMAND [ARGUMENTS…]]"));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  /* Everything after the command is its arguments, even if it starts
   * with "-". */
  g_option_context_set_strict_posix (context, TRUE);

  g_option_context_set_summary (context,
    _("TORChat: chat over Tor onion services, without servers.\n"
      "\n"
      "  torchat [--profile DIR] [--passphrase-file FILE] [--listen HOST:PORT]\n"
      "          [--socks HOST:PORT | --tor-control HOST:PORT|PATH | --tor-config FILE]\n"
      "      Run the desktop app on the profile; the Tor options override the\n"
      "      choice made in Preferences. With --passphrase-file the profile is\n"
      "      unlocked (or created encrypted) without the unlock page.\n"
      "  torchat --headless [--profile DIR] [--listen HOST:PORT]\n"
      "          [--socks HOST:PORT | --tor-control HOST:PORT|PATH | --tor-config FILE]\n"
      "      Run the node without any window; needs no display server and no\n"
      "      D-Bus session bus. By default it starts its own Tor.\n"
      "  torchat [--profile DIR] [--passphrase-file FILE] [--new-passphrase-file FILE]\n"
      "          passphrase\n"
      "      Change the profile’s passphrase, or encrypt a profile that has none;\n"
      "      the node running on it (headless or the window) goes on meanwhile.\n"
      "  torchat [--profile DIR] [--json] COMMAND [ARGUMENTS…]\n"
      "      Forward COMMAND to the node (headless or desktop app) running on\n"
      "      the profile."));

  description = g_strdup_printf (
    _("Commands:\n"
      "  id                              Print your onion address\n"
      "  add ADDRESS [NICK] [GREETING]   Ask ADDRESS to become your contact\n"
      "  accept ADDRESS                  Accept a contact request\n"
      "  decline ADDRESS                 Decline a contact request\n"
      "  block ADDRESS                   Refuse everything from ADDRESS\n"
      "  remove ADDRESS                  Remove a contact and delete its history\n"
      "  retry ADDRESS                   Try to reach a contact now (fetches its\n"
      "                                  onion descriptor again through Tor's\n"
      "                                  control port when there is one)\n"
      "  send ADDRESS TEXT               Send a message; with TEXT “-”, each line of\n"
      "                                  standard input is sent as one message\n"
      "  contacts                        One line per contact:\n"
      "                                  ADDRESS STATE PRESENCE NAME\n"
      "  history ADDRESS                 One line per message:\n"
      "                                  DATE TIME DIRECTION STATE TEXT, where\n"
      "                                  DIRECTION is > for sent, < for received\n"
      "  search TEXT [ADDRESS]           The newest 100 messages holding every\n"
      "                                  word of TEXT, as history does (with the\n"
      "                                  ADDRESS first when searching them all)\n"
      "  status [available|away|xa|dnd [TEXT]]\n"
      "                                  Set your status; alone, show it and\n"
      "                                  whether the profile can store\n"
      "  profile NAME [TEXT]             Set the name and text your contacts see\n"
      "  tor                             How far Tor has come, and whether your onion\n"
      "                                  service is reachable\n"
      "  bridges [none | LINE…]          Show or set the bridges of the Tor TORChat\n"
      "                                  starts (each LINE: [obfs4|snowflake] IP:PORT …)\n"
      "  proxy [none | URI]              Show or set the proxy that Tor goes through:\n"
      "                                  socks5://[USER:PASS@]IP:PORT or https://…\n"
      "  quit                            Stop the node cleanly\n"
      "\n"
      "A profile is encrypted with a passphrase, asked when it is created and at\n"
      "every start (--passphrase-file FILE, or on the terminal); --no-passphrase\n"
      "creates a profile anyone with access to the disk can read.\n"
      "\n"
      "With --json, id, contacts and history print one JSON value; add and send\n"
      "print the new contact and messages.\n"
      "\n"
      "The default profile is %s.\n"
      "\n"
      "Exit status: 0 success, 1 the command failed, 2 usage error,\n"
      "3 no node is running on the profile."),
    default_profile);
  g_option_context_set_description (context, description);

  return context;
}

/* Commands */

static char *
read_stdin (GError **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  char buffer[64 * 1024];

  for (;;)
    {
      gssize n = read (STDIN_FILENO, buffer, sizeof buffer);

      if (n == 0)
        break;

      if (n < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not read standard input: %s"), g_strerror (saved_errno));
          return NULL;
        }

      g_string_append_len (text, buffer, n);
    }

  /* D-Bus carries only UTF-8 text without NUL bytes. */
  if (!g_utf8_validate_len (text->str, text->len, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("Standard input is not UTF-8 text"));
      return NULL;
    }

  return g_string_free (g_steal_pointer (&text), FALSE);
}

static int
run_command (const char         *profile_dir,
             const char * const *command)
{
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  g_autofree char *input = NULL;
  g_auto(GStrv) resolved = NULL;
  int status;

  if ((status = tc_commands_check (command, err)) != TC_EXIT_OK)
    {
      g_printerr ("%s", err->str);
      return status;
    }

  if (tc_commands_wants_stdin (command))
    {
      g_autoptr(GError) error = NULL;

      if (!(input = read_stdin (&error)))
        {
          g_printerr ("torchat: %s\n", error->message);
          return TC_EXIT_FAILED;
        }
    }

  resolved = tc_commands_resolve_paths (command);
  status = tc_control_forward (profile_dir, (const char * const *) resolved, opt_json,
                               input, out, err);

  fputs (out->str, stdout);
  fflush (stdout);
  fputs (err->str, stderr);

  return status;
}

/* Profiles and passphrases */

/* The passphrase from --passphrase-file, else from the terminal. */
static TcPassphrase *
get_passphrase (const char  *file,
                const char  *question,
                gboolean     confirm,
                const char  *missing,
                GError     **error)
{
  if (file != NULL)
    return tc_passphrase_read_file (file, error);

  if (tc_passphrase_can_prompt ())
    return tc_passphrase_prompt (question, confirm, error);

  g_set_error_literal (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, missing);
  return NULL;
}

/* Opens the headless node's profile: creates a new one encrypted (or with
 * --no-passphrase, plaintext) and unlocks an encrypted one. A wrong
 * passphrase changes nothing on disk. */
static TcNode *
open_node (const char  *profile_dir,
           GError     **error)
{
  g_autoptr(TcNode) node = NULL;
  g_autoptr(TcPassphrase) passphrase = NULL;

  if (!(node = tc_node_new_locked (profile_dir, error)))
    return NULL;

  switch (tc_node_get_profile_kind (node))
    {
    case TC_PROFILE_KIND_NEW:
      if (opt_no_passphrase)
        break;
      passphrase = get_passphrase (opt_passphrase_file,
                                   _("Choose a passphrase for the new profile:"), TRUE,
                                   _("This is a new profile: give its passphrase with "
                                     "--passphrase-file FILE (or start in a terminal), or "
                                     "create it unencrypted with --no-passphrase"),
                                   error);
      if (passphrase == NULL)
        return NULL;
      break;

    case TC_PROFILE_KIND_PLAINTEXT:
      if (opt_passphrase_file != NULL)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                       _("The profile %s is not encrypted; “torchat --profile %s "
                         "passphrase” encrypts it"), profile_dir, profile_dir);
          return NULL;
        }
      break;

    case TC_PROFILE_KIND_ENCRYPTED:
      if (opt_no_passphrase)
        {
          g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                       _("The profile %s is encrypted; --no-passphrase only goes with "
                         "a new profile"), profile_dir);
          return NULL;
        }
      passphrase = get_passphrase (opt_passphrase_file, _("Passphrase of the profile:"), FALSE,
                                   _("The profile is encrypted: give its passphrase with "
                                     "--passphrase-file FILE, or start in a terminal"),
                                   error);
      if (passphrase == NULL)
        return NULL;
      break;
    }

  if (!tc_node_unlock (node, passphrase ? passphrase->text : NULL,
                       passphrase ? passphrase->length : 0, error))
    return NULL;

  return g_steal_pointer (&node);
}

/* After `torchat passphrase` changed it: a passphrase the window keeps in
 * the keyring for this profile becomes the new one, as after a change in
 * the window, so that the next start does not try the old one. Nothing is
 * stored where nothing was, and without a session bus (a server, a node
 * over SSH) there is no keyring to ask. */
static void
update_keyring (const char         *profile_dir,
                const TcPassphrase *passphrase)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *runtime_bus = g_build_filename (g_get_user_runtime_dir (), "bus", NULL);
  gboolean replaced = FALSE;

  if (g_getenv ("DBUS_SESSION_BUS_ADDRESS") == NULL &&
      !g_file_test (runtime_bus, G_FILE_TEST_EXISTS))
    return;

  if (tc_keyring_replace_sync (profile_dir, passphrase->text, passphrase->length,
                               &replaced, NULL, &error))
    {
      if (replaced)
        g_printerr (_("The passphrase kept in the keyring is the new one too\n"));
    }
  /* A session without a keyring keeps nothing. */
  else if (!g_error_matches (error, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN))
    g_printerr (_("torchat: The keyring may still hold the old passphrase (%s); the window "
                  "will then ask for the new one at its next start\n"), error->message);
}

/* `torchat passphrase` while a node (headless or the window) has the
 * profile open: the passphrases go to it over the control socket, and it
 * does the work without stopping. */
static int
run_passphrase_on_node (const char *profile_dir)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  g_autoptr(TcPassphrase) old = NULL;
  g_autoptr(TcPassphrase) new = NULL;
  TcProfileKind kind = TC_PROFILE_KIND_NEW;
  const char *missing = _("Give the new passphrase with --new-passphrase-file FILE, or run "
                          "the command in a terminal");
  int status;

  status = tc_control_get_profile_kind (profile_dir, &kind, err);
  if (status == TC_EXIT_NO_NODE)
    {
      /* The lock is taken, but nothing answers: a window still asking for
       * the passphrase, or a node starting or stopping. */
      g_printerr (_("torchat: The profile %s is in use, but its node takes no commands yet; "
                    "unlock it or let it start, then run the command again\n"), profile_dir);
      return TC_EXIT_FAILED;
    }
  if (status != TC_EXIT_OK)
    {
      g_printerr ("%s", err->str);
      return status;
    }

  if (kind == TC_PROFILE_KIND_PLAINTEXT)
    {
      if (opt_passphrase_file != NULL)
        return usage_error (_("The profile is not encrypted, so it has no passphrase yet: "
                              "give only --new-passphrase-file"));
      new = get_passphrase (opt_new_passphrase_file,
                            _("Choose a passphrase to encrypt the profile:"), TRUE,
                            missing, &error);
    }
  else
    {
      old = get_passphrase (opt_passphrase_file, _("Current passphrase:"), FALSE,
                            _("Give the current passphrase with --passphrase-file FILE, "
                              "or run the command in a terminal"), &error);
      if (old != NULL)
        new = get_passphrase (opt_new_passphrase_file, _("New passphrase:"), TRUE,
                              missing, &error);
    }

  if (new == NULL)
    {
      g_printerr ("torchat: %s\n", error->message);
      return g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED) ?
             TC_EXIT_USAGE : TC_EXIT_FAILED;
    }

  status = tc_control_change_passphrase (profile_dir, old ? old->text : NULL,
                                         old ? old->length : 0, new->text, new->length,
                                         out, err);
  /* The answers are for the user, like those of the stopped case. */
  g_printerr ("%s%s", out->str, err->str);
  if (status == TC_EXIT_OK && old != NULL)
    update_keyring (profile_dir, new);

  return status;
}

/* `torchat passphrase`: changes the passphrase of an encrypted profile, or
 * encrypts a plaintext one, on the running node or, with none, on the disk. */
static int
run_passphrase_command (const char         *profile_dir,
                        const char * const *command)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) node = NULL;
  g_autoptr(TcPassphrase) old = NULL;
  g_autoptr(TcPassphrase) new = NULL;
  const char *missing = _("Give the new passphrase with --new-passphrase-file FILE, or run "
                          "the command in a terminal");

  if (command[1] != NULL)
    return usage_error (_("passphrase takes no arguments; the passphrases come from "
                          "--passphrase-file and --new-passphrase-file, or the terminal"));

  if (!g_file_test (profile_dir, G_FILE_TEST_IS_DIR))
    {
      g_printerr (_("torchat: There is no profile in %s\n"), profile_dir);
      return TC_EXIT_FAILED;
    }

  if (!(node = tc_node_new_locked (profile_dir, &error)))
    {
      if (g_error_matches (error, TC_NODE_ERROR, TC_NODE_ERROR_PROFILE_BUSY))
        return run_passphrase_on_node (profile_dir);

      g_printerr ("torchat: %s\n", error->message);
      return TC_EXIT_FAILED;
    }

  switch (tc_node_get_profile_kind (node))
    {
    case TC_PROFILE_KIND_NEW:
      g_printerr (_("torchat: There is no profile in %s yet\n"), profile_dir);
      return TC_EXIT_FAILED;

    case TC_PROFILE_KIND_PLAINTEXT:
      if (opt_passphrase_file != NULL)
        return usage_error (_("The profile is not encrypted, so it has no passphrase yet: "
                              "give only --new-passphrase-file"));
      if (!(new = get_passphrase (opt_new_passphrase_file,
                                  _("Choose a passphrase to encrypt the profile:"),
                                  TRUE, missing, &error)) ||
          !tc_node_unlock (node, NULL, 0, &error) ||
          !tc_node_encrypt (node, new->text, new->length, &error))
        break;
      g_printerr (_("The profile is encrypted now\n"));
      return TC_EXIT_OK;

    case TC_PROFILE_KIND_ENCRYPTED:
      if (!(old = get_passphrase (opt_passphrase_file, _("Current passphrase:"), FALSE,
                                  _("Give the current passphrase with --passphrase-file FILE, "
                                    "or run the command in a terminal"), &error)) ||
          !(new = get_passphrase (opt_new_passphrase_file, _("New passphrase:"), TRUE,
                                  missing, &error)) ||
          !tc_node_change_passphrase (node, old->text, old->length,
                                      new->text, new->length, &error))
        break;
      g_printerr (_("The passphrase is changed\n"));
      update_keyring (profile_dir, new);
      return TC_EXIT_OK;
    }

  g_printerr ("torchat: %s\n", error->message);
  return g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED) ?
         TC_EXIT_USAGE : TC_EXIT_FAILED;
}

/* Headless */

static void
stop_cb (GObject      *object,
         GAsyncResult *result,
         gpointer      user_data)
{
  Headless *headless = user_data;
  g_autoptr(GError) error = NULL;

  if (!tc_node_stop_finish (TC_NODE (object), result, &error))
    {
      g_printerr ("torchat: %s\n", error->message);
      headless->status = TC_EXIT_FAILED;
    }

  g_main_loop_quit (headless->loop);
}

static void
headless_stop (Headless *headless)
{
  if (headless->stopping)
    {
      /* Asked twice: the user does not want to wait for the peers. */
      g_main_loop_quit (headless->loop);
      return;
    }

  headless->stopping = TRUE;
  tc_node_stop_async (headless->node, NULL, stop_cb, headless);
}

static void
stop_once_cb (gpointer user_data)
{
  headless_stop (user_data);
}

static gboolean
signal_cb (gpointer user_data)
{
  Headless *headless = user_data;

  /* No more commands while stopping. */
  g_clear_object (&headless->control);
  headless_stop (headless);

  return G_SOURCE_CONTINUE;
}

static void
quit_requested_cb (TcControl *control,
                   Headless  *headless)
{
  headless_stop (headless);
}

static char *
dup_listen_host (void)
{
  const char *colon;

  if (opt_listen == NULL || (colon = strrchr (opt_listen, ':')) == NULL)
    return g_strdup ("127.0.0.1");

  return g_strndup (opt_listen, colon - opt_listen);
}

static gboolean
node_options_given (void)
{
  return opt_listen != NULL || opt_socks != NULL || opt_tor_control != NULL ||
         opt_tor_password != NULL || opt_tor_binary != NULL || opt_tor_config != NULL;
}

static int
run_headless (const char *profile_dir)
{
  Headless headless = { 0 };
  g_autoptr(GError) error = NULL;
  g_autofree char *redacted = NULL;
  g_autofree char *host = NULL;
  guint sigint_id, sigterm_id;

  if (!(headless.node = open_node (profile_dir, &error)))
    {
      g_printerr ("torchat: %s\n", error->message);
      return g_error_matches (error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED) ?
             TC_EXIT_USAGE : TC_EXIT_FAILED;
    }

  if ((opt_listen != NULL && !tc_node_set_listen_address (headless.node, opt_listen, &error)) ||
      !tc_node_setup_tor (headless.node, opt_socks, opt_tor_control, opt_tor_password,
                          opt_tor_binary, opt_tor_config, &error))
    {
      g_printerr ("torchat: %s\n", error->message);
      g_clear_object (&headless.node);
      return TC_EXIT_USAGE;
    }

  if (!tc_node_start (headless.node, &error))
    {
      g_printerr ("torchat: %s\n", error->message);
      g_clear_object (&headless.node);
      return TC_EXIT_FAILED;
    }

  headless.loop = g_main_loop_new (NULL, FALSE);

  if (!(headless.control = tc_control_new (headless.node, &error)))
    {
      g_printerr ("torchat: %s\n", error->message);
      headless.status = TC_EXIT_FAILED;
      g_idle_add_once (stop_once_cb, &headless);
    }
  else
    {
      g_signal_connect (headless.control, "quit-requested",
                        G_CALLBACK (quit_requested_cb), &headless);

      redacted = tc_address_redact (tc_node_get_address (headless.node));
      host = dup_listen_host ();
      g_printerr ("TORChat node %s listening on %s:%u\n",
                  redacted, host, tc_node_get_listen_port (headless.node));
    }

  sigint_id = g_unix_signal_add (SIGINT, signal_cb, &headless);
  sigterm_id = g_unix_signal_add (SIGTERM, signal_cb, &headless);

  g_main_loop_run (headless.loop);

  g_source_remove (sigint_id);
  g_source_remove (sigterm_id);

  /* The node before the control: the control holds the last reference, and
   * releases the profile before it lets a waiting `torchat quit` return. */
  g_clear_object (&headless.node);
  g_clear_object (&headless.control);
  g_clear_pointer (&headless.loop, g_main_loop_unref);

  return headless.status;
}

/* Desktop app */

static int
run_gui (const char *profile_dir,
         char       *argv0)
{
#if HAVE_GUI
  g_autoptr(GApplication) app = tc_application_new (profile_dir);
  char *app_argv[] = { argv0, opt_service ? (char *) "--gapplication-service" : NULL, NULL };

  if (node_options_given ())
    tc_application_set_node_options (TC_APPLICATION (app), opt_listen, opt_socks,
                                      opt_tor_control, opt_tor_password,
                                      opt_tor_binary, opt_tor_config);

  if (opt_passphrase_file != NULL)
    {
      g_autoptr(GError) error = NULL;
      TcPassphrase *passphrase = tc_passphrase_read_file (opt_passphrase_file, &error);

      if (passphrase == NULL)
        {
          g_printerr ("torchat: %s\n", error->message);
          return TC_EXIT_FAILED;
        }
      tc_application_set_passphrase (TC_APPLICATION (app), passphrase->text, passphrase->length,
                                     (GDestroyNotify) tc_passphrase_free, passphrase);
    }

  /* The options were ours; the application gets none but the service
   * flag, which makes it wait for the Activate call that follows. */
  return g_application_run (app, opt_service ? 2 : 1, app_argv);
#else
  g_printerr (_("torchat: this build has no GUI; use --headless\n"));
  return TC_EXIT_FAILED;
#endif
}

static gboolean
make_profile_dir (const char *profile_dir)
{
  if (g_mkdir_with_parents (profile_dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_printerr (_("torchat: Could not create the profile directory %s: %s\n"),
                  profile_dir, g_strerror (saved_errno));
      return FALSE;
    }

  return TRUE;
}

int
main (int    argc,
      char **argv)
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *profile_dir = NULL;
  const char * const *command = NULL;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  g_set_prgname ("torchat");
  /* Over a file size limit (RLIMIT_FSIZE), a write fails with EFBIG and the
   * node says its disk is full, rather than being killed. */
  signal (SIGXFSZ, SIG_IGN);
  /* Standard output is for answers to commands only. */
  g_log_writer_default_set_use_stderr (TRUE);

  context = create_option_context ();
  if (!g_option_context_parse (context, &argc, &argv, &error))
    return usage_error ("%s", error->message);

  if (opt_version)
    {
      g_print ("torchat %s\n", PACKAGE_VERSION);
      return TC_EXIT_OK;
    }

  if (opt_profile != NULL && opt_profile[0] == '\0')
    return usage_error (_("--profile needs a directory"));

  if (opt_profile != NULL)
    profile_dir = g_canonicalize_filename (opt_profile, NULL);
  else
    profile_dir = dup_default_profile ();

  if (argc > 1)
    command = (const char * const *) argv + 1;

  if (command != NULL && g_str_equal (command[0], "passphrase"))
    {
      if (opt_headless || node_options_given () || opt_no_passphrase || opt_json)
        return usage_error (_("passphrase goes with --profile, --passphrase-file and "
                              "--new-passphrase-file only"));

      return run_passphrase_command (profile_dir, command);
    }

  if (opt_new_passphrase_file != NULL)
    return usage_error (_("--new-passphrase-file goes with the passphrase command"));

  if (command != NULL)
    {
      if (opt_passphrase_file != NULL || opt_no_passphrase)
        return usage_error (_("--passphrase-file and --no-passphrase open a profile; "
                              "a command goes to the node that has it open"));

      if (opt_headless || node_options_given ())
        return usage_error (_("--headless and the --listen, --socks and --tor-… options "
                              "start a node; they do not go with a command"));

      return run_command (profile_dir, command);
    }

  if (opt_json)
    return usage_error (_("--json goes with a command"));

  if (opt_passphrase_file != NULL && opt_no_passphrase)
    return usage_error (_("--passphrase-file and --no-passphrase exclude each other"));

  /* The window asks for the passphrase itself, or takes it from
   * --passphrase-file; skipping it is a choice made in the window. */
  if (!opt_headless && opt_no_passphrase)
    return usage_error (_("--no-passphrase goes with --headless; the window offers to "
                          "skip the passphrase itself"));

  if (opt_socks != NULL && (opt_tor_control != NULL || opt_tor_binary != NULL ||
                            opt_tor_config != NULL))
    return usage_error (_("--socks uses a Tor you run yourself; it does not go with "
                          "--tor-control, --tor-binary or --tor-config"));

  if (opt_tor_control != NULL && (opt_tor_binary != NULL || opt_tor_config != NULL))
    return usage_error (_("--tor-control uses a Tor you run yourself; it does not go with "
                          "--tor-binary or --tor-config"));

  if (opt_service && opt_headless)
    return usage_error (_("--gapplication-service starts the window; it does not go with --headless"));

  if (!make_profile_dir (profile_dir))
    return TC_EXIT_FAILED;

  if (opt_headless)
    return run_headless (profile_dir);

  return run_gui (profile_dir, argv[0]);
}
