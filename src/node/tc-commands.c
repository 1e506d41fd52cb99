/* tc-commands.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "tc-address.h"
#include "tc-commands-private.h"

typedef int (*CommandFunc) (Context            *ctx,
                            const char * const *args,
                            guint               n_args,
                            ContactAction       action);

typedef struct
{
  const char    *name;
  const char    *usage;
  guint          min_args;
  guint          max_args;   /* G_MAXUINT: the last one takes the rest */
  CommandFunc    func;
  ContactAction  action;
} Command;

/* Text from peers reaches a terminal: control characters are shown escaped
 * so that a message can neither fake lines nor send terminal sequences. */
#define append_sanitized _tc_commands_append_sanitized

void
_tc_commands_append_sanitized (GString    *str,
                               const char *text)
{
  g_autofree char *valid = NULL;

  if (text == NULL)
    return;

  if (!g_utf8_validate (text, -1, NULL))
    text = valid = g_utf8_make_valid (text, -1);

  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == '\n')
        g_string_append (str, "\\n");
      else if (c == '\r')
        g_string_append (str, "\\r");
      else if (c == '\t')
        g_string_append (str, "\\t");
      else if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029)
        g_string_append_printf (str, "\\u%04x", c);
      else
        g_string_append_unichar (str, c);
    }
}

/* What the user typed, short enough for an error line. */
char *
_tc_commands_shorten_argument (const char *arg)
{
  g_autoptr(GString) str = g_string_new (NULL);
  g_autofree char *clipped = NULL;

  /* As long as tc_address_redact()'s form. */
  if (g_utf8_validate (arg, -1, NULL) && g_utf8_strlen (arg, -1) > 10)
    {
      clipped = g_utf8_substring (arg, 0, 8);
      append_sanitized (str, clipped);
      g_string_append (str, "…");
    }
  else
    {
      append_sanitized (str, arg);
    }

  return g_string_free (g_steal_pointer (&str), FALSE);
}

#define fail _tc_commands_fail

int
_tc_commands_fail (GString    *err,
                   int         status,
                   const char *format,
                   ...)
{
  g_autofree char *message = NULL;
  va_list args;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);

  g_strstrip (g_strdelimit (message, "\r\n", ' '));
  g_string_append_printf (err, "torchat: %s\n", message);

  return status;
}

char *
_tc_commands_join_rest (const char * const *args,
                        guint               from,
                        guint               n_args)
{
  if (from >= n_args)
    return NULL;

  return g_strjoinv (" ", (char **) args + from);
}

char *
_tc_commands_normalize_argument (Context    *ctx,
                                 const char *arg)
{
  return _tc_commands_normalize (arg, ctx->err);
}

char *
_tc_commands_normalize (const char *arg,
                        GString    *err)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *shown = NULL;
  char *address;

  address = tc_address_normalize (arg, &error);
  if (address == NULL)
    {
      shown = _tc_commands_shorten_argument (arg);
      fail (err, TC_EXIT_FAILED, "%s: %s", shown, error->message);
    }

  return address;
}

void
_tc_commands_append_json (Context  *ctx,
                          JsonNode *root)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autofree char *data = NULL;

  json_generator_set_pretty (generator, FALSE);
  json_generator_set_root (generator, root);
  data = json_generator_to_data (generator, NULL);
  g_string_append (ctx->out, data);
  g_string_append_c (ctx->out, '\n');
}

void
_tc_commands_add_nullable_string (JsonBuilder *builder,
                                  const char  *name,
                                  const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
add_date (JsonBuilder *builder,
          const char  *name,
          GDateTime   *date)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autofree char *iso = NULL;

  if (date != NULL)
    {
      utc = g_date_time_to_utc (date);
      iso = g_date_time_format_iso8601 (utc);
    }

  _tc_commands_add_nullable_string (builder, name, iso);
}

void
_tc_commands_build_message (JsonBuilder *builder,
                            TcMessage   *message)
{
  gboolean outgoing;

  outgoing = tc_message_get_direction (message) == TC_MESSAGE_DIRECTION_OUTGOING;

  json_builder_begin_object (builder);
  _tc_commands_add_nullable_string (builder, "id", tc_message_get_id (message));
  _tc_commands_add_nullable_string (builder, "direction", outgoing ? "outgoing" : "incoming");
  _tc_commands_add_nullable_string (builder, "state",
                       tc_message_state_to_string (tc_message_get_state (message)));
  add_date (builder, "date", tc_message_get_date (message));
  add_date (builder, "received-date", tc_message_get_received_date (message));
  _tc_commands_add_nullable_string (builder, "text", tc_message_get_text (message));
  json_builder_end_object (builder);
}

static int
command_id (Context            *ctx,
            const char * const *args,
            guint               n_args,
            ContactAction       action)
{
  const char *address = tc_node_get_address (ctx->node);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      _tc_commands_add_nullable_string (builder, "address", address);
      json_builder_set_member_name (builder, "listen-port");
      json_builder_add_int_value (builder, tc_node_get_listen_port (ctx->node));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      _tc_commands_append_json (ctx, root);
    }
  else
    {
      g_string_append_printf (ctx->out, "%s\n", address);
    }

  return TC_EXIT_OK;
}

GStrv
_tc_commands_send_texts (const char * const *args,
                         guint               n_args,
                         const char         *stdin_text)
{
  g_autoptr(GStrvBuilder) texts = g_strv_builder_new ();
  g_auto(GStrv) lines = NULL;

  if (n_args != 2 || !g_str_equal (args[1], "-"))
    {
      g_autofree char *joined = _tc_commands_join_rest (args, 1, n_args);

      g_strv_builder_add (texts, joined);
      return g_strv_builder_end (texts);
    }

  lines = g_strsplit (stdin_text ? stdin_text : "", "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = lines[i];
      gsize len = strlen (line);

      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
      if (len > 0)
        g_strv_builder_add (texts, line);
    }

  return g_strv_builder_end (texts);
}

void
_tc_commands_send_output (gboolean   json,
                          GPtrArray *messages,
                          GString   *out)
{
  g_autoptr(JsonBuilder) builder = NULL;
  g_autoptr(JsonNode) root = NULL;
  Context ctx = { .out = out };

  if (!json)
    return;

  builder = json_builder_new ();
  json_builder_begin_array (builder);
  for (guint i = 0; i < messages->len; i++)
    _tc_commands_build_message (builder, g_ptr_array_index (messages, i));
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  _tc_commands_append_json (&ctx, root);
}

static int
command_send (Context            *ctx,
              const char * const *args,
              guint               n_args,
              ContactAction       action)
{
  g_autofree char *address = NULL;
  g_auto(GStrv) texts = NULL;
  g_autoptr(GPtrArray) messages = NULL;
  g_autoptr(GError) error = NULL;

  if (!(address = _tc_commands_normalize_argument (ctx, args[0])))
    return TC_EXIT_FAILED;

  texts = _tc_commands_send_texts (args, n_args, ctx->stdin_text);
  if (texts[0] == NULL)
    return fail (ctx->err, TC_EXIT_FAILED, _("Nothing to send: standard input has no text"));

  messages = tc_node_send_messages (ctx->node, address, (const char * const *) texts, &error);
  if (messages == NULL)
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  _tc_commands_send_output (ctx->json, messages, ctx->out);

  return TC_EXIT_OK;
}

/* "status" alone: what the node says about itself, storage included. */
static int
show_status (Context *ctx)
{
  const char *failure = tc_store_get_failure (tc_node_get_store (ctx->node));
  const char *presence = tc_presence_to_string (tc_node_get_presence (ctx->node));
  const char *text = tc_node_get_status_text (ctx->node);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      _tc_commands_add_nullable_string (builder, "presence", presence);
      _tc_commands_add_nullable_string (builder, "status-text", text);
      _tc_commands_add_nullable_string (builder, "storage", failure != NULL ? "failing" : "ok");
      _tc_commands_add_nullable_string (builder, "storage-error", failure);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      _tc_commands_append_json (ctx, root);
    }
  else
    {
      g_string_append_printf (ctx->out, "%s%s%s\n", presence,
                              text != NULL && *text != '\0' ? ": " : "",
                              text != NULL ? text : "");
      if (failure != NULL)
        g_string_append_printf (ctx->out, _("Storage: failing: %s\n"), failure);
      else
        g_string_append (ctx->out, _("Storage: ok\n"));
    }

  return TC_EXIT_OK;
}

static int
command_status (Context            *ctx,
                const char * const *args,
                guint               n_args,
                ContactAction       action)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  TcPresence presence;

  if (n_args == 0)
    return show_status (ctx);

  text = _tc_commands_join_rest (args, 1, n_args);
  /* tc_commands_check() let only settable values through. */
  if (!tc_presence_from_string (args[0], &presence))
    g_return_val_if_reached (TC_EXIT_USAGE);

  if (!tc_node_set_status (ctx->node, presence, text, &error))
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  return TC_EXIT_OK;
}

static int
command_profile (Context            *ctx,
                 const char * const *args,
                 guint               n_args,
                 ContactAction       action)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = _tc_commands_join_rest (args, 1, n_args);

  if (!tc_node_set_profile (ctx->node, args[0], text, &error))
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  return TC_EXIT_OK;
}

/* "tor": how far Tor has come, for scripts and for people waiting. */
static int
command_tor (Context            *ctx,
             const char * const *args,
             guint               n_args,
             ContactAction       action)
{
  TcTor *tor = tc_node_get_tor (ctx->node);
  g_auto(GStrv) log = NULL;

  if (tor == NULL)
    {
      if (ctx->json)
        g_string_append (ctx->out, "{\"mode\":\"socks\"}\n");
      else
        g_string_append (ctx->out, _("Using the SOCKS port of a Tor run by you; the onion "
                                     "service is published in its torrc\n"));
      return TC_EXIT_OK;
    }

  log = tc_tor_dup_log (tor);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_object (builder);
      _tc_commands_add_nullable_string (builder, "mode", tc_tor_get_managed (tor) ? "managed" : "control");
      _tc_commands_add_nullable_string (builder, "state", tc_tor_state_to_string (tc_tor_get_state (tor)));
      json_builder_set_member_name (builder, "bootstrap-progress");
      json_builder_add_int_value (builder, tc_tor_get_bootstrap_progress (tor));
      _tc_commands_add_nullable_string (builder, "bootstrap-summary", tc_tor_get_bootstrap_summary (tor));
      _tc_commands_add_nullable_string (builder, "socks-address", tc_tor_get_socks_address (tor));
      json_builder_set_member_name (builder, "onion-published");
      json_builder_add_boolean_value (builder, tc_tor_get_onion_published (tor));
      json_builder_set_member_name (builder, "reachable");
      json_builder_add_boolean_value (builder, tc_tor_get_reachable (tor));
      _tc_commands_add_nullable_string (builder, "last-error", tc_tor_get_last_error (tor));
      json_builder_set_member_name (builder, "log");
      json_builder_begin_array (builder);
      for (guint i = 0; log[i] != NULL; i++)
        json_builder_add_string_value (builder, log[i]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      _tc_commands_append_json (ctx, root);
      return TC_EXIT_OK;
    }

  g_string_append_printf (ctx->out, "%s %u%%%s%s%s\n",
                          tc_tor_state_to_string (tc_tor_get_state (tor)),
                          tc_tor_get_bootstrap_progress (tor),
                          tc_tor_get_bootstrap_summary (tor) ? " (" : "",
                          tc_tor_get_bootstrap_summary (tor) ? tc_tor_get_bootstrap_summary (tor) : "",
                          tc_tor_get_bootstrap_summary (tor) ? ")" : "");
  g_string_append_printf (ctx->out, "%s\n",
                          tc_tor_get_reachable (tor) ? _("Your onion service is reachable") :
                          tc_tor_get_onion_published (tor) ? _("Your onion service is being published") :
                          _("Your onion service is not published yet"));
  if (tc_tor_get_last_error (tor) != NULL)
    g_string_append_printf (ctx->out, _("Last error: %s\n"), tc_tor_get_last_error (tor));

  return TC_EXIT_OK;
}

static int
command_bridges (Context            *ctx,
                 const char * const *args,
                 guint               n_args,
                 ContactAction       action)
{
  g_autoptr(GError) error = NULL;

  if (n_args == 0)
    {
      g_auto(GStrv) bridges = tc_node_dup_bridges (ctx->node);

      for (guint i = 0; bridges != NULL && bridges[i] != NULL; i++)
        g_string_append_printf (ctx->out, "%s\n", bridges[i]);
      return TC_EXIT_OK;
    }

  /* "bridges none" clears; otherwise each argument is one bridge line. */
  if (!tc_node_set_bridges (ctx->node,
                            n_args == 1 && g_str_equal (args[0], "none") ? NULL : args,
                            &error))
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  return TC_EXIT_OK;
}

static int
command_proxy (Context            *ctx,
               const char * const *args,
               guint               n_args,
               ContactAction       action)
{
  g_autoptr(GError) error = NULL;

  if (n_args == 0)
    {
      g_autofree char *proxy = tc_node_dup_proxy (ctx->node);

      if (proxy != NULL)
        g_string_append_printf (ctx->out, "%s\n", proxy);
      return TC_EXIT_OK;
    }

  if (!tc_node_set_proxy (ctx->node, g_str_equal (args[0], "none") ? NULL : args[0], &error))
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  return TC_EXIT_OK;
}

static int
command_quit (Context            *ctx,
              const char * const *args,
              guint               n_args,
              ContactAction       action)
{
  *ctx->quit = TRUE;
  return TC_EXIT_OK;
}

static int
command_transfer (Context            *ctx,
                  const char * const *args,
                  guint               n_args,
                  ContactAction       action)
{
  return _tc_commands_run_transfer (ctx->node, args[-1], args, n_args, ctx->json,
                                    ctx->out, ctx->err);
}

static const Command commands[] = {
  { "id", "id", 0, 0, command_id, NULL },
  { "add", "add ADDRESS [NICK] [GREETING]", 1, G_MAXUINT, _tc_commands_add, NULL },
  { "accept", "accept ADDRESS", 1, 1, _tc_commands_contact_action, tc_node_accept_contact },
  { "decline", "decline ADDRESS", 1, 1, _tc_commands_contact_action, tc_node_decline_contact },
  { "block", "block ADDRESS", 1, 1, _tc_commands_contact_action, tc_node_block_contact },
  { "remove", "remove ADDRESS", 1, 1, _tc_commands_contact_action, tc_node_remove_contact },
  { "retry", "retry ADDRESS", 1, 1, _tc_commands_contact_action, tc_node_retry_contact },
  { "send", "send ADDRESS TEXT|-", 2, G_MAXUINT, command_send, NULL },
  { "contacts", "contacts", 0, 0, _tc_commands_contacts, NULL },
  { "history", "history ADDRESS", 1, 1, _tc_commands_history, NULL },
  { "search", "search TEXT [ADDRESS]", 1, 2, _tc_commands_search, NULL },
  { "status", "status [available|away|xa|dnd [TEXT]]", 0, G_MAXUINT, command_status, NULL },
  { "profile", "profile NAME [TEXT]", 1, G_MAXUINT, command_profile, NULL },
  { "tor", "tor", 0, 0, command_tor, NULL },
  { "bridges", "bridges [none | LINE…]", 0, G_MAXUINT, command_bridges, NULL },
  { "proxy", "proxy [none | socks5://IP:PORT | https://IP:PORT]", 0, 1, command_proxy, NULL },
  { "send-file", "send-file ADDRESS PATH", 2, 2, command_transfer, NULL },
  { "transfers", "transfers", 0, 0, command_transfer, NULL },
  { "accept-file", "accept-file TID [DIR]", 1, 2, command_transfer, NULL },
  { "decline-file", "decline-file TID", 1, 1, command_transfer, NULL },
  { "cancel-file", "cancel-file TID", 1, 1, command_transfer, NULL },
  { "download-dir", "download-dir [DIR]", 0, 1, command_transfer, NULL },
  { "quit", "quit", 0, 0, command_quit, NULL },
};

static const Command *
find_command (const char *name)
{
  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    {
      if (g_str_equal (commands[i].name, name))
        return &commands[i];
    }

  return NULL;
}

int
tc_commands_check (const char * const *argv,
                   GString            *err)
{
  const Command *command;
  TcPresence presence;
  guint n_args;

  g_return_val_if_fail (err != NULL, TC_EXIT_USAGE);

  if (argv == NULL || argv[0] == NULL)
    return fail (err, TC_EXIT_USAGE, _("No command given; see “torchat --help”"));

  for (guint i = 0; argv[i] != NULL; i++)
    {
      if (!g_utf8_validate (argv[i], -1, NULL))
        return fail (err, TC_EXIT_USAGE, _("Argument %u is not valid UTF-8"), i + 1);
    }

  if (!(command = find_command (argv[0])))
    {
      g_autofree char *shown = _tc_commands_shorten_argument (argv[0]);

      return fail (err, TC_EXIT_USAGE,
                   _("Unknown command “%s”; see “torchat --help”"), shown);
    }

  n_args = g_strv_length ((char **) argv) - 1;
  if (n_args < command->min_args || n_args > command->max_args)
    return fail (err, TC_EXIT_USAGE, _("Usage: torchat %s"), command->usage);

  if (g_str_equal (command->name, "status") && n_args > 0 &&
      (!tc_presence_from_string (argv[1], &presence) || presence == TC_PRESENCE_OFFLINE))
    {
      g_autofree char *shown = _tc_commands_shorten_argument (argv[1]);

      return fail (err, TC_EXIT_USAGE,
                   _("“%s” is not a status; use available, away, xa or dnd"), shown);
    }

  return TC_EXIT_OK;
}

char **
tc_commands_resolve_paths (const char * const *argv)
{
  char **copy = g_strdupv ((char **) argv);
  guint n = copy ? g_strv_length (copy) : 0;
  guint index = 0;

  if (n == 3 && (g_str_equal (copy[0], "send-file") || g_str_equal (copy[0], "accept-file")))
    index = 2;
  else if (n == 2 && g_str_equal (copy[0], "download-dir"))
    index = 1;

  if (index != 0 && !g_path_is_absolute (copy[index]))
    {
      g_autofree char *cwd = g_get_current_dir ();
      char *path = g_canonicalize_filename (copy[index], cwd);

      g_free (copy[index]);
      copy[index] = path;
    }

  return copy;
}

gboolean
tc_commands_wants_stdin (const char * const *argv)
{
  return argv != NULL &&
         argv[0] != NULL && g_str_equal (argv[0], "send") &&
         g_strv_length ((char **) argv) == 3 && g_str_equal (argv[2], "-");
}

int
tc_commands_run (TcNode             *node,
                 const char * const *argv,
                 gboolean            json,
                 const char         *stdin_text,
                 GString            *out,
                 GString            *err,
                 gboolean           *quit)
{
  Context ctx = { node, json, stdin_text, out, err, quit };
  const Command *command;
  gboolean unused_quit;
  int status;

  g_return_val_if_fail (TC_IS_NODE (node), TC_EXIT_FAILED);
  g_return_val_if_fail (out != NULL, TC_EXIT_FAILED);
  g_return_val_if_fail (err != NULL, TC_EXIT_FAILED);

  if (quit == NULL)
    ctx.quit = &unused_quit;
  *ctx.quit = FALSE;

  if ((status = tc_commands_check (argv, err)) != TC_EXIT_OK)
    return status;

  command = find_command (argv[0]);
  return command->func (&ctx, argv + 1, g_strv_length ((char **) argv) - 1, command->action);
}
