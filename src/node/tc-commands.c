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

/* Pages of the history read at once, so a long history is not read in one
 * query. */
#define HISTORY_PAGE 500

typedef struct
{
  TcNode     *node;
  gboolean    json;
  const char *stdin_text;
  GString    *out;
  GString    *err;
  gboolean   *quit;
} Context;

typedef gboolean (*ContactAction) (TcNode      *node,
                                   const char  *address,
                                   GError     **error);

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
static char *
shorten_argument (const char *arg)
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

static char *
join_rest (const char * const *args,
           guint               from,
           guint               n_args)
{
  if (from >= n_args)
    return NULL;

  return g_strjoinv (" ", (char **) args + from);
}

static char *
normalize_argument (Context    *ctx,
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
      shown = shorten_argument (arg);
      fail (err, TC_EXIT_FAILED, "%s: %s", shown, error->message);
    }

  return address;
}

static void
append_json (Context  *ctx,
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

static void
add_nullable_string (JsonBuilder *builder,
                     const char  *name,
                     const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static char *
format_local_date (GDateTime *date)
{
  g_autoptr(GDateTime) local = NULL;

  if (date == NULL)
    return NULL;

  local = g_date_time_to_local (date);
  return g_date_time_format (local, "%Y-%m-%d %H:%M:%S");
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

  add_nullable_string (builder, name, iso);
}

static void
build_contact (JsonBuilder *builder,
               TcNode      *node,
               TcContact   *contact)
{
  const char *address = tc_contact_get_address (contact);

  json_builder_begin_object (builder);
  add_nullable_string (builder, "address", address);
  add_nullable_string (builder, "nickname", tc_contact_get_nickname (contact));
  add_nullable_string (builder, "name", tc_contact_get_name (contact));
  add_nullable_string (builder, "display-name", tc_contact_get_display_name (contact));
  add_nullable_string (builder, "state",
                       tc_contact_state_to_string (tc_contact_get_state (contact)));
  add_nullable_string (builder, "presence",
                       tc_presence_to_string (tc_contact_get_presence (contact)));
  add_nullable_string (builder, "status-text", tc_contact_get_status_text (contact));
  json_builder_set_member_name (builder, "connected");
  json_builder_add_boolean_value (builder, tc_contact_get_connected (contact));
  add_nullable_string (builder, "greeting", tc_contact_get_greeting (contact));
  json_builder_set_member_name (builder, "outbox");
  json_builder_add_int_value (builder,
                              tc_store_count_outbox (tc_node_get_store (node), address));
  add_nullable_string (builder, "last-error", tc_contact_get_last_error (contact));
  json_builder_end_object (builder);
}

static void
build_message (JsonBuilder *builder,
               TcMessage   *message)
{
  gboolean outgoing;

  outgoing = tc_message_get_direction (message) == TC_MESSAGE_DIRECTION_OUTGOING;

  json_builder_begin_object (builder);
  add_nullable_string (builder, "id", tc_message_get_id (message));
  add_nullable_string (builder, "direction", outgoing ? "outgoing" : "incoming");
  add_nullable_string (builder, "state",
                       tc_message_state_to_string (tc_message_get_state (message)));
  add_date (builder, "date", tc_message_get_date (message));
  add_date (builder, "received-date", tc_message_get_received_date (message));
  add_nullable_string (builder, "text", tc_message_get_text (message));
  json_builder_end_object (builder);
}

static void
append_message_line (Context   *ctx,
                     TcMessage *message)
{
  g_autofree char *date = format_local_date (tc_message_get_date (message));
  gboolean outgoing;

  outgoing = tc_message_get_direction (message) == TC_MESSAGE_DIRECTION_OUTGOING;

  g_string_append_printf (ctx->out, "%s %s %s ",
                          date ? date : "-",
                          outgoing ? ">" : "<",
                          tc_message_state_to_string (tc_message_get_state (message)));
  append_sanitized (ctx->out, tc_message_get_text (message));
  g_string_append_c (ctx->out, '\n');
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
      add_nullable_string (builder, "address", address);
      json_builder_set_member_name (builder, "listen-port");
      json_builder_add_int_value (builder, tc_node_get_listen_port (ctx->node));
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      append_json (ctx, root);
    }
  else
    {
      g_string_append_printf (ctx->out, "%s\n", address);
    }

  return TC_EXIT_OK;
}

static int
command_add (Context            *ctx,
             const char * const *args,
             guint               n_args,
             ContactAction       action)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *greeting = NULL;
  const char *nickname = NULL;
  TcContact *contact;

  if (!(address = normalize_argument (ctx, args[0])))
    return TC_EXIT_FAILED;

  if (n_args > 1 && args[1][0] != '\0')
    nickname = args[1];
  greeting = join_rest (args, 2, n_args);

  contact = tc_node_add_contact (ctx->node, address, nickname, greeting, &error);
  if (contact == NULL)
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      build_contact (builder, ctx->node, contact);
      root = json_builder_get_root (builder);
      append_json (ctx, root);
    }

  return TC_EXIT_OK;
}

static int
command_contact_action (Context            *ctx,
                        const char * const *args,
                        guint               n_args,
                        ContactAction       action)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;

  if (!(address = normalize_argument (ctx, args[0])))
    return TC_EXIT_FAILED;

  if (!action (ctx->node, address, &error))
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

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
      g_autofree char *joined = join_rest (args, 1, n_args);

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
    build_message (builder, g_ptr_array_index (messages, i));
  json_builder_end_array (builder);
  root = json_builder_get_root (builder);
  append_json (&ctx, root);
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

  if (!(address = normalize_argument (ctx, args[0])))
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

static int
compare_contacts (gconstpointer a,
                  gconstpointer b)
{
  TcContact *ca = *(TcContact **) a;
  TcContact *cb = *(TcContact **) b;
  int cmp;

  cmp = g_utf8_collate (tc_contact_get_display_name (ca),
                        tc_contact_get_display_name (cb));
  if (cmp != 0)
    return cmp;

  return g_strcmp0 (tc_contact_get_address (ca), tc_contact_get_address (cb));
}

static int
command_contacts (Context            *ctx,
                  const char * const *args,
                  guint               n_args,
                  ContactAction       action)
{
  GListModel *model = tc_node_get_contacts (ctx->node);
  g_autoptr(GPtrArray) contacts = g_ptr_array_new_with_free_func (g_object_unref);
  guint n_items = g_list_model_get_n_items (model);

  for (guint i = 0; i < n_items; i++)
    g_ptr_array_add (contacts, g_list_model_get_item (model, i));
  g_ptr_array_sort (contacts, compare_contacts);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < contacts->len; i++)
        build_contact (builder, ctx->node, g_ptr_array_index (contacts, i));
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      append_json (ctx, root);

      return TC_EXIT_OK;
    }

  for (guint i = 0; i < contacts->len; i++)
    {
      TcContact *contact = g_ptr_array_index (contacts, i);
      const char *name = tc_contact_get_nickname (contact);

      if (name == NULL || name[0] == '\0')
        name = tc_contact_get_name (contact);

      g_string_append_printf (ctx->out, "%s %s %s",
                              tc_contact_get_address (contact),
                              tc_contact_state_to_string (tc_contact_get_state (contact)),
                              tc_presence_to_string (tc_contact_get_presence (contact)));
      if (name != NULL && name[0] != '\0')
        {
          g_string_append_c (ctx->out, ' ');
          append_sanitized (ctx->out, name);
        }
      g_string_append_c (ctx->out, '\n');
    }

  return TC_EXIT_OK;
}

static int
command_history (Context            *ctx,
                 const char * const *args,
                 guint               n_args,
                 ContactAction       action)
{
  TcStore *store = tc_node_get_store (ctx->node);
  g_autoptr(JsonBuilder) builder = NULL;
  g_autofree char *address = NULL;
  gsize out_start = ctx->out->len;
  gint64 last_key = -1;
  guint n_messages;

  if (!(address = normalize_argument (ctx, args[0])))
    return TC_EXIT_FAILED;

  n_messages = tc_store_count_messages (store, address);
  if (n_messages == 0 && tc_node_lookup_contact (ctx->node, address) == NULL)
    {
      g_autofree char *shown = shorten_argument (args[0]);

      return fail (ctx->err, TC_EXIT_FAILED,
                   _("%s: not in your contacts and no history"), shown);
    }

  if (ctx->json)
    {
      builder = json_builder_new ();
      json_builder_begin_array (builder);
    }

  /* By key, page after page: the same cost for every page. */
  for (guint offset = 0; offset < n_messages; offset += HISTORY_PAGE)
    {
      g_autoptr(GPtrArray) page = NULL;
      g_autoptr(GError) error = NULL;

      page = tc_store_list_page (store, address, TC_STORE_PAGE_AFTER, last_key,
                                 HISTORY_PAGE, NULL, &last_key, &error);
      if (page == NULL)
        {
          g_string_truncate (ctx->out, out_start);
          return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);
        }

      for (guint i = 0; i < page->len; i++)
        {
          if (builder != NULL)
            build_message (builder, g_ptr_array_index (page, i));
          else
            append_message_line (ctx, g_ptr_array_index (page, i));
        }

      if (page->len < HISTORY_PAGE)
        break;
    }

  if (builder != NULL)
    {
      g_autoptr(JsonNode) root = NULL;

      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      append_json (ctx, root);
    }

  return TC_EXIT_OK;
}

#define SEARCH_LIMIT 100

/* "search TEXT [ADDRESS]": the newest messages holding every word. */
static int
command_search (Context            *ctx,
                const char * const *args,
                guint               n_args,
                ContactAction       action)
{
  g_autoptr(GPtrArray) found = NULL;
  g_autoptr(GError) error = NULL;

  found = tc_node_search (ctx->node, args[0], n_args > 1 ? args[1] : NULL, SEARCH_LIMIT, &error);
  if (found == NULL)
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; i < found->len; i++)
        build_message (builder, g_ptr_array_index (found, i));
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      append_json (ctx, root);
    }
  else
    {
      for (guint i = 0; i < found->len; i++)
        {
          TcMessage *message = g_ptr_array_index (found, i);

          /* Across conversations, whose it is. */
          if (n_args == 1)
            g_string_append_printf (ctx->out, "%s ", tc_message_get_peer (message));
          append_message_line (ctx, message);
        }
    }

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
      add_nullable_string (builder, "presence", presence);
      add_nullable_string (builder, "status-text", text);
      add_nullable_string (builder, "storage", failure != NULL ? "failing" : "ok");
      add_nullable_string (builder, "storage-error", failure);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      append_json (ctx, root);
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

  text = join_rest (args, 1, n_args);
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
  g_autofree char *text = join_rest (args, 1, n_args);

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
      add_nullable_string (builder, "mode", tc_tor_get_managed (tor) ? "managed" : "control");
      add_nullable_string (builder, "state", tc_tor_state_to_string (tc_tor_get_state (tor)));
      json_builder_set_member_name (builder, "bootstrap-progress");
      json_builder_add_int_value (builder, tc_tor_get_bootstrap_progress (tor));
      add_nullable_string (builder, "bootstrap-summary", tc_tor_get_bootstrap_summary (tor));
      add_nullable_string (builder, "socks-address", tc_tor_get_socks_address (tor));
      json_builder_set_member_name (builder, "onion-published");
      json_builder_add_boolean_value (builder, tc_tor_get_onion_published (tor));
      json_builder_set_member_name (builder, "reachable");
      json_builder_add_boolean_value (builder, tc_tor_get_reachable (tor));
      add_nullable_string (builder, "last-error", tc_tor_get_last_error (tor));
      json_builder_set_member_name (builder, "log");
      json_builder_begin_array (builder);
      for (guint i = 0; log[i] != NULL; i++)
        json_builder_add_string_value (builder, log[i]);
      json_builder_end_array (builder);
      json_builder_end_object (builder);
      root = json_builder_get_root (builder);
      append_json (ctx, root);
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
  { "add", "add ADDRESS [NICK] [GREETING]", 1, G_MAXUINT, command_add, NULL },
  { "accept", "accept ADDRESS", 1, 1, command_contact_action, tc_node_accept_contact },
  { "decline", "decline ADDRESS", 1, 1, command_contact_action, tc_node_decline_contact },
  { "block", "block ADDRESS", 1, 1, command_contact_action, tc_node_block_contact },
  { "remove", "remove ADDRESS", 1, 1, command_contact_action, tc_node_remove_contact },
  { "retry", "retry ADDRESS", 1, 1, command_contact_action, tc_node_retry_contact },
  { "send", "send ADDRESS TEXT|-", 2, G_MAXUINT, command_send, NULL },
  { "contacts", "contacts", 0, 0, command_contacts, NULL },
  { "history", "history ADDRESS", 1, 1, command_history, NULL },
  { "search", "search TEXT [ADDRESS]", 1, 2, command_search, NULL },
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
      g_autofree char *shown = shorten_argument (argv[0]);

      return fail (err, TC_EXIT_USAGE,
                   _("Unknown command “%s”; see “torchat --help”"), shown);
    }

  n_args = g_strv_length ((char **) argv) - 1;
  if (n_args < command->min_args || n_args > command->max_args)
    return fail (err, TC_EXIT_USAGE, _("Usage: torchat %s"), command->usage);

  if (g_str_equal (command->name, "status") && n_args > 0 &&
      (!tc_presence_from_string (argv[1], &presence) || presence == TC_PRESENCE_OFFLINE))
    {
      g_autofree char *shown = shorten_argument (argv[1]);

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
