/* tc-jmu-build.c: the lines the node writes
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tc-jmu-private.h"

static void
add_string (JsonBuilder *builder,
            const char  *member,
            const char  *value)
{
  if (value == NULL)
    return;

  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value);
}

static void
add_true (JsonBuilder *builder,
          const char  *member)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_boolean_value (builder, TRUE);
}

static void
add_name_text (JsonBuilder *builder,
               const char  *member,
               const char  *name,
               const char  *text)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_object (builder);
  add_string (builder, "name", name);
  add_string (builder, "text", text);
  json_builder_end_object (builder);
}

static JsonBuilder *
begin (void)
{
  JsonBuilder *builder = json_builder_new_immutable ();

  json_builder_begin_object (builder);
  return builder;
}

/* Ends the object and returns it as one line. The generator's output is
 * patched in two places, both inside strings since compact output has
 * nothing but ASCII outside them: json-glib 1.6 writes U+001F raw (its
 * escaping stops one short), and U+2028 and U+2029 are escaped so that no
 * reader splitting on Unicode line breaks sees two lines. */
static char *
finish (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  GString *line;
  gsize len;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  g_object_unref (builder);

  json_generator_set_root (generator, root);
  json = json_generator_to_data (generator, &len);

  line = g_string_sized_new (len + 1);
  for (gsize i = 0; i < len; i++)
    {
      guchar c = json[i];

      if (c < 0x20)
        {
          g_string_append_printf (line, "\\u%04x", c);
        }
      else if (c == 0xe2 && i + 2 < len && (guchar) json[i + 1] == 0x80 &&
               ((guchar) json[i + 2] == 0xa8 || (guchar) json[i + 2] == 0xa9))
        {
          g_string_append_printf (line, "\\u%04x", 0x2000 + (guchar) json[i + 2] - 0x80);
          i += 2;
        }
      else
        {
          g_string_append_c (line, c);
        }
    }
  g_string_append_c (line, '\n');

  return g_string_free (line, FALSE);
}

JsonBuilder *
_tc_jmu_builder_begin (void)
{
  return begin ();
}

char *
_tc_jmu_builder_finish (JsonBuilder *builder)
{
  return finish (builder);
}

char *
tc_jmu_build_open (const char *version,
                   const char *type,
                   const char *from,
                   const char *to)
{
  JsonBuilder *b;

  g_return_val_if_fail (version != NULL && type != NULL, NULL);
  g_return_val_if_fail (from != NULL && to != NULL, NULL);

  b = begin ();
  add_string (b, "version", version);
  add_string (b, "open", type);
  add_string (b, "from", from);
  add_string (b, "to", to);
  return finish (b);
}

char *
tc_jmu_build_ack (const char *version,
                  const char *from,
                  const char *to,
                  const char *sid,
                  const char *challenge_b64)
{
  JsonBuilder *b;

  g_return_val_if_fail (version != NULL && from != NULL && to != NULL, NULL);
  g_return_val_if_fail (sid != NULL && challenge_b64 != NULL, NULL);

  b = begin ();
  add_string (b, "version", version);
  add_true (b, "ack");
  add_string (b, "from", from);
  add_string (b, "to", to);
  add_string (b, "id", sid);
  add_string (b, "challenge", challenge_b64);
  return finish (b);
}

char *
tc_jmu_build_auth (const char *from,
                   const char *signature_b64)
{
  JsonBuilder *b;

  g_return_val_if_fail (from != NULL && signature_b64 != NULL, NULL);

  b = begin ();
  add_string (b, "auth", "ed25519");
  add_string (b, "from", from);
  add_string (b, "signature", signature_b64);
  return finish (b);
}

static char *
build_true (const char *key,
            const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (from != NULL, NULL);

  b = begin ();
  add_true (b, key);
  add_string (b, "from", from);
  return finish (b);
}

static char *
build_string (const char *key,
              const char *value,
              const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (value != NULL && from != NULL, NULL);

  b = begin ();
  add_string (b, key, value);
  add_string (b, "from", from);
  return finish (b);
}

char *
tc_jmu_build_ready (const char *from)
{
  return build_true ("ready", from);
}

char *
tc_jmu_build_message (const char *text,
                      const char *mid,
                      const char *from,
                      const char *to,
                      const char *date)
{
  JsonBuilder *b;

  g_return_val_if_fail (text != NULL && mid != NULL, NULL);
  g_return_val_if_fail (from != NULL && to != NULL && date != NULL, NULL);

  b = begin ();
  add_string (b, "message", text);
  add_string (b, "id", mid);
  add_string (b, "from", from);
  add_string (b, "to", to);
  add_string (b, "date", date);
  return finish (b);
}

char *
tc_jmu_build_receipt (const char *mid,
                      const char *from)
{
  return build_string ("receipt", mid, from);
}

char *
tc_jmu_build_status (const char *status,
                     const char *text,
                     const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (status != NULL && from != NULL, NULL);

  b = begin ();
  add_string (b, "status", status);
  add_string (b, "text", text);
  add_string (b, "from", from);
  return finish (b);
}

char *
tc_jmu_build_profile (const char *name,
                      const char *text,
                      const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (name != NULL && text != NULL && from != NULL, NULL);

  b = begin ();
  add_name_text (b, "profile", name, text);
  add_string (b, "from", from);
  return finish (b);
}

char *
tc_jmu_build_typing (const char *typing,
                     const char *from)
{
  return build_string ("typing", typing, from);
}

char *
tc_jmu_build_contact_request (const char *name,
                              const char *text,
                              const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (name != NULL && text != NULL && from != NULL, NULL);

  b = begin ();
  add_name_text (b, "contact-request", name, text);
  add_string (b, "from", from);
  return finish (b);
}

char *
tc_jmu_build_contact_accept (const char *from)
{
  return build_true ("contact-accept", from);
}

char *
tc_jmu_build_contact_decline (const char *from)
{
  return build_true ("contact-decline", from);
}

char *
tc_jmu_build_ping (const char *token,
                   const char *from)
{
  return build_string ("ping", token, from);
}

char *
tc_jmu_build_pong (const char *token,
                   const char *from)
{
  return build_string ("pong", token, from);
}

char *
tc_jmu_build_close (const char *from)
{
  return build_true ("close", from);
}

char *
tc_jmu_build_close_ack (const char *from)
{
  return build_string ("ack", "close", from);
}

char *
tc_jmu_build_error (TcCondition  condition,
                    const char  *text,
                    const char  *from)
{
  JsonBuilder *b;

  g_return_val_if_fail ((guint) condition < TC_N_CONDITIONS, NULL);

  b = begin ();
  add_string (b, "error", tc_condition_to_string (condition));
  add_string (b, "text", text);
  add_string (b, "from", from);
  return finish (b);
}

char *
tc_jmu_auth_payload (const char *sid,
                     const char *challenge_b64,
                     const char *initiator,
                     const char *receiver)
{
  g_return_val_if_fail (sid != NULL && challenge_b64 != NULL, NULL);
  g_return_val_if_fail (initiator != NULL && receiver != NULL, NULL);

  return g_strdup_printf ("torchat-auth:%s:%s:%s:%s",
                          sid, challenge_b64, initiator, receiver);
}
