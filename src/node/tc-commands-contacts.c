/* tc-commands-contacts.c: the commands about contacts and their messages:
 * add, accept, decline, block, remove, retry, contacts, history, search
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "tc-commands-private.h"

/* Pages of the history read at once, so a long history is not read in one
 * query. */
#define HISTORY_PAGE 500

#define fail _tc_commands_fail
#define append_sanitized _tc_commands_append_sanitized

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
build_contact (JsonBuilder *builder,
               TcNode      *node,
               TcContact   *contact)
{
  const char *address = tc_contact_get_address (contact);

  json_builder_begin_object (builder);
  _tc_commands_add_nullable_string (builder, "address", address);
  _tc_commands_add_nullable_string (builder, "nickname", tc_contact_get_nickname (contact));
  _tc_commands_add_nullable_string (builder, "name", tc_contact_get_name (contact));
  _tc_commands_add_nullable_string (builder, "display-name", tc_contact_get_display_name (contact));
  _tc_commands_add_nullable_string (builder, "state",
                       tc_contact_state_to_string (tc_contact_get_state (contact)));
  _tc_commands_add_nullable_string (builder, "presence",
                       tc_presence_to_string (tc_contact_get_presence (contact)));
  _tc_commands_add_nullable_string (builder, "status-text", tc_contact_get_status_text (contact));
  json_builder_set_member_name (builder, "connected");
  json_builder_add_boolean_value (builder, tc_contact_get_connected (contact));
  _tc_commands_add_nullable_string (builder, "greeting", tc_contact_get_greeting (contact));
  json_builder_set_member_name (builder, "outbox");
  json_builder_add_int_value (builder,
                              tc_store_count_outbox (tc_node_get_store (node), address));
  _tc_commands_add_nullable_string (builder, "last-error", tc_contact_get_last_error (contact));
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

int
_tc_commands_add (Context            *ctx,
                  const char * const *args,
                  guint               n_args,
                  ContactAction       action)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;
  g_autofree char *greeting = NULL;
  const char *nickname = NULL;
  TcContact *contact;

  if (!(address = _tc_commands_normalize_argument (ctx, args[0])))
    return TC_EXIT_FAILED;

  if (n_args > 1 && args[1][0] != '\0')
    nickname = args[1];
  greeting = _tc_commands_join_rest (args, 2, n_args);

  contact = tc_node_add_contact (ctx->node, address, nickname, greeting, &error);
  if (contact == NULL)
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

  if (ctx->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) root = NULL;

      build_contact (builder, ctx->node, contact);
      root = json_builder_get_root (builder);
      _tc_commands_append_json (ctx, root);
    }

  return TC_EXIT_OK;
}

int
_tc_commands_contact_action (Context            *ctx,
                             const char * const *args,
                             guint               n_args,
                             ContactAction       action)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = NULL;

  if (!(address = _tc_commands_normalize_argument (ctx, args[0])))
    return TC_EXIT_FAILED;

  if (!action (ctx->node, address, &error))
    return fail (ctx->err, TC_EXIT_FAILED, "%s", error->message);

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

int
_tc_commands_contacts (Context            *ctx,
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
      _tc_commands_append_json (ctx, root);

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

int
_tc_commands_history (Context            *ctx,
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

  if (!(address = _tc_commands_normalize_argument (ctx, args[0])))
    return TC_EXIT_FAILED;

  n_messages = tc_store_count_messages (store, address);
  if (n_messages == 0 && tc_node_lookup_contact (ctx->node, address) == NULL)
    {
      g_autofree char *shown = _tc_commands_shorten_argument (args[0]);

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
            _tc_commands_build_message (builder, g_ptr_array_index (page, i));
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
      _tc_commands_append_json (ctx, root);
    }

  return TC_EXIT_OK;
}

#define SEARCH_LIMIT 100

/* "search TEXT [ADDRESS]": the newest messages holding every word. */
int
_tc_commands_search (Context            *ctx,
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
        _tc_commands_build_message (builder, g_ptr_array_index (found, i));
      json_builder_end_array (builder);
      root = json_builder_get_root (builder);
      _tc_commands_append_json (ctx, root);
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
