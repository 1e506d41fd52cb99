/* tc-jmu-file.c: the file transfer JMUs (docs/protocol.md section 15)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "tc-address.h"
#include "tc-file-base64.h"
#include "tc-file-buffer.h"
#include "tc-jmu-private.h"

#define MAX_NAME_LEN 255
#define MAX_MIME_LEN 255
#define MAX_ERROR_TEXT_LEN 1024
#define SHA256_HEX_LEN 64


gboolean
tc_jmu_is_tid (const char *str)
{
  gsize len;

  if (str == NULL)
    return FALSE;

  len = strlen (str);
  if (len < TC_TID_MIN_LEN || len > TC_TID_MAX_LEN)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (str[i]) && str[i] != '_' && str[i] != '-')
      return FALSE;

  return TRUE;
}

static const char *
member_string (JsonObject *object,
               const char *member)
{
  JsonNode *node = json_object_get_member (object, member);

  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);

  return NULL;
}

/* A JSON integer (not 1.0, not 1e3) from 0 to 2^53 - 1, else -1. */
static gint64
member_size (JsonObject *object,
             const char *member)
{
  JsonNode *node = json_object_get_member (object, member);
  gint64 v;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_INT64)
    return -1;

  v = json_node_get_int (node);
  return v >= 0 && v <= TC_FILE_MAX_SIZE ? v : -1;
}

static gboolean
is_sha256_hex (const char *str)
{
  if (str == NULL || strlen (str) != SHA256_HEX_LEN)
    return FALSE;

  for (const char *p = str; *p != '\0'; p++)
    if (!g_ascii_isdigit (*p) && !(*p >= 'a' && *p <= 'f'))
      return FALSE;

  return TRUE;
}

static gboolean
check_text_len (const char *str,
                gsize       min,
                gsize       max)
{
  gsize len;

  if (str == NULL)
    return FALSE;

  len = strlen (str);
  return len >= min && len <= max;
}

/* Standard padded base64, canonical, not empty: any length. */
static gboolean
is_chunk_base64 (const char *str)
{
  gsize len, pad = 0, n_bytes;

  if (str == NULL || (len = strlen (str)) == 0 || len % 4 != 0)
    return FALSE;

  if (str[len - 1] == '=')
    pad = str[len - 2] == '=' ? 2 : 1;
  n_bytes = len / 4 * 3 - pad;

  return _tc_jmu_is_base64_of (str, n_bytes);
}

gboolean
_tc_jmu_check_file_fields (JsonObject  *object,
                           TcJmuKind    kind,
                           JsonNode    *value,
                           GError     **error)
{
  const char *key = _tc_jmu_kind_key (kind);
  JsonObject *v;

  if (kind == TC_JMU_KIND_CHUNK)
    {
      if (!is_chunk_base64 (member_string (object, "chunk")))
        return _tc_jmu_bad_format (error, "chunk", "non-empty base64");
      if (member_size (object, "offset") < 0)
        return _tc_jmu_bad_format (error, "offset", "an integer from 0 to 2^53-1");
      return TRUE;
    }

  if (value == NULL || !JSON_NODE_HOLDS_OBJECT (value))
    return _tc_jmu_bad_format (error, key, "an object");

  v = json_node_get_object (value);
  if (!tc_jmu_is_tid (member_string (v, "id")))
    return _tc_jmu_bad_format (error, "id", "16 to 64 of A-Z a-z 0-9 _ -");

  switch (kind)
    {
    case TC_JMU_KIND_FILE_OFFER:
      if (!check_text_len (member_string (v, "name"), 1, MAX_NAME_LEN))
        return _tc_jmu_bad_format (error, "name", "a string of 1 to 255 bytes");
      if (member_size (v, "size") < 0)
        return _tc_jmu_bad_format (error, "size", "an integer from 0 to 2^53-1");
      if (!is_sha256_hex (member_string (v, "sha256")))
        return _tc_jmu_bad_format (error, "sha256", "64 lowercase hex digits");
      if (!check_text_len (member_string (v, "mime"), 1, MAX_MIME_LEN))
        return _tc_jmu_bad_format (error, "mime", "a string of 1 to 255 bytes");
      return TRUE;

    case TC_JMU_KIND_FILE_ACCEPT:
      if (member_size (v, "offset") < 0)
        return _tc_jmu_bad_format (error, "offset", "an integer from 0 to 2^53-1");
      return TRUE;

    case TC_JMU_KIND_FILE_ERROR:
      /* An unknown error is accepted and taken as io-error. */
      if (!check_text_len (member_string (v, "error"), 1, 64))
        return _tc_jmu_bad_format (error, "error", "an error name");
      if (json_object_has_member (v, "text") &&
          !check_text_len (member_string (v, "text"), 0, MAX_ERROR_TEXT_LEN))
        return _tc_jmu_bad_format (error, "text", "a string of at most 1024 bytes");
      return TRUE;

    case TC_JMU_KIND_FILE_DECLINE:
    case TC_JMU_KIND_FILE_DONE:
    case TC_JMU_KIND_FILE_CANCEL:
      return TRUE;

    default:
      g_assert_not_reached ();
    }
}

/* The fast path: a chunk line exactly as the builder writes it is taken
 * apart without a JSON parser, and its base64 decoded straight from the
 * line into a pooled buffer (one pass, no copy of the text). */

static gboolean
take (const char **p,
      const char  *end,
      const char  *literal)
{
  gsize n = strlen (literal);

  if ((gsize) (end - *p) < n || memcmp (*p, literal, n) != 0)
    return FALSE;

  *p += n;
  return TRUE;
}

TcJmu *
_tc_jmu_parse_chunk_fast (const char *line,
                          gsize       length)
{
  const char *p = line, *end = line + length;
  const char *b64, *b64_end, *from;
  g_autofree char *from_str = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  gint64 offset = 0;
  guint8 *buffer;
  gssize n;

  if (!take (&p, end, "{\"chunk\":\""))
    return NULL;

  /* Up to the first quote; anything but base64 in between (an escape, say)
   * fails the decoding below and goes the general way. */
  b64 = p;
  b64_end = memchr (p, '"', end - p);
  if (b64_end == NULL || b64_end == b64 || (b64_end - b64) % 4 != 0)
    return NULL;
  p = b64_end;
  if (!take (&p, end, "\",\"offset\":"))
    return NULL;

  /* Digits without a leading zero, at most 16 of them. */
  if (p >= end || !g_ascii_isdigit (*p) || (*p == '0' && p + 1 < end && g_ascii_isdigit (p[1])))
    return NULL;
  for (int i = 0; p < end && g_ascii_isdigit (*p); p++, i++)
    {
      if (i == 16)
        return NULL;
      offset = offset * 10 + (*p - '0');
    }
  if (offset > TC_FILE_MAX_SIZE || !take (&p, end, ",\"from\":\""))
    return NULL;

  from = p;
  while (p < end && *p != '"' && *p != '\\')
    p++;
  if (p - from > 100 || !take (&p, end, "\"}") || p != end)
    return NULL;

  from_str = g_strndup (from, p - 2 - from);
  /* A valid address: otherwise the general path gives the precise error. */
  if (!tc_address_is_valid (from_str))
    return NULL;

  buffer = tc_file_buffer_alloc ((b64_end - b64) / 4 * 3);
  n = _tc_file_base64_decode (b64, b64_end - b64, buffer);
  if (n < 0)
    {
      tc_file_buffer_free (buffer);
      return NULL;
    }

  root = json_node_new (JSON_NODE_OBJECT);
  object = json_object_new ();
  json_object_set_int_member (object, "offset", offset);
  json_object_set_string_member (object, "from", from_str);
  json_node_take_object (root, object);

  return _tc_jmu_new_chunk (root, tc_file_buffer_to_bytes (buffer, n));
}

/* Accessors */

gint64
tc_jmu_get_int (TcJmu      *self,
                const char *member)
{
  JsonObject *object;

  g_return_val_if_fail (self != NULL, -1);

  object = tc_jmu_get_kind (self) == TC_JMU_KIND_CHUNK ?
           tc_jmu_get_object (self) : tc_jmu_get_value_object (self);
  if (object == NULL)
    return -1;

  return member_size (object, member);
}

const char *
tc_jmu_get_file_id (TcJmu *self)
{
  JsonObject *object;

  g_return_val_if_fail (self != NULL, NULL);

  object = tc_jmu_get_value_object (self);
  return object ? member_string (object, "id") : NULL;
}

GBytes *
tc_jmu_dup_chunk (TcJmu *self)
{
  const char *str;
  guint8 *data;
  gssize len;

  g_return_val_if_fail (self != NULL, NULL);

  if (tc_jmu_get_kind (self) != TC_JMU_KIND_CHUNK)
    return NULL;
  if (_tc_jmu_get_chunk (self) != NULL)
    return g_bytes_ref (_tc_jmu_get_chunk (self));
  if ((str = tc_jmu_get_string (self, "chunk")) == NULL)
    return NULL;

  data = g_malloc (strlen (str) / 4 * 3 + 1);
  len = _tc_file_base64_decode (str, strlen (str), data);
  if (len < 0)
    {
      g_free (data);
      return NULL;
    }

  return g_bytes_new_take (data, len);
}


/* Builders */

static void
add_string (JsonBuilder *b,
            const char  *member,
            const char  *value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_string_value (b, value);
}

static void
add_int (JsonBuilder *b,
         const char  *member,
         gint64       value)
{
  json_builder_set_member_name (b, member);
  json_builder_add_int_value (b, value);
}

char *
tc_jmu_build_open_file (const char *version,
                        const char *tid,
                        const char *from,
                        const char *to)
{
  JsonBuilder *b;

  g_return_val_if_fail (version != NULL && tid != NULL, NULL);
  g_return_val_if_fail (from != NULL && to != NULL, NULL);

  b = _tc_jmu_builder_begin ();
  add_string (b, "version", version);
  add_string (b, "open", "file");
  add_string (b, "file", tid);
  add_string (b, "from", from);
  add_string (b, "to", to);
  return _tc_jmu_builder_finish (b);
}

static JsonBuilder *
begin_file (const char *key,
            const char *tid)
{
  JsonBuilder *b = _tc_jmu_builder_begin ();

  json_builder_set_member_name (b, key);
  json_builder_begin_object (b);
  add_string (b, "id", tid);
  return b;
}

static char *
finish_file (JsonBuilder *b,
             const char  *from)
{
  json_builder_end_object (b);
  add_string (b, "from", from);
  return _tc_jmu_builder_finish (b);
}

char *
tc_jmu_build_file_offer (const char *tid,
                         const char *name,
                         gint64      size,
                         const char *sha256,
                         const char *mime,
                         const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (tid != NULL && name != NULL && sha256 != NULL, NULL);
  g_return_val_if_fail (from != NULL, NULL);

  b = begin_file ("file-offer", tid);
  add_string (b, "name", name);
  add_int (b, "size", size);
  add_string (b, "sha256", sha256);
  add_string (b, "mime", mime ? mime : "application/octet-stream");
  return finish_file (b, from);
}

char *
tc_jmu_build_file_accept (const char *tid,
                          gint64      offset,
                          const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (tid != NULL && from != NULL, NULL);

  b = begin_file ("file-accept", tid);
  add_int (b, "offset", offset);
  return finish_file (b, from);
}

char *
tc_jmu_build_file_id (TcJmuKind   kind,
                      const char *tid,
                      const char *from)
{
  g_return_val_if_fail (kind == TC_JMU_KIND_FILE_DECLINE ||
                        kind == TC_JMU_KIND_FILE_DONE ||
                        kind == TC_JMU_KIND_FILE_CANCEL, NULL);
  g_return_val_if_fail (tid != NULL && from != NULL, NULL);

  return finish_file (begin_file (_tc_jmu_kind_key (kind), tid), from);
}

char *
tc_jmu_build_file_error (const char *tid,
                         const char *error,
                         const char *text,
                         const char *from)
{
  JsonBuilder *b;

  g_return_val_if_fail (tid != NULL && error != NULL && from != NULL, NULL);

  b = begin_file ("file-error", tid);
  add_string (b, "error", error);
  if (text != NULL)
    add_string (b, "text", text);
  return finish_file (b, from);
}


gsize
tc_jmu_chunk_line_max (gsize       length,
                       const char *from)
{
  g_return_val_if_fail (from != NULL, 0);

  /* {"chunk":"…","offset":N,"from":"…"}\n and a NUL. */
  return strlen ("{\"chunk\":\"\",\"offset\":,\"from\":\"\"}\n") + 1 +
         (length + 2) / 3 * 4 + 16 + strlen (from);
}

gsize
tc_jmu_write_chunk (const guint8 *data,
                    gsize         length,
                    gint64        offset,
                    const char   *from,
                    char         *out)
{
  static const char head[] = "{\"chunk\":\"";
  char *o = out;

  g_return_val_if_fail (data != NULL && length > 0, 0);
  g_return_val_if_fail (offset >= 0 && offset <= TC_FILE_MAX_SIZE, 0);
  g_return_val_if_fail (from != NULL && out != NULL, 0);

  memcpy (o, head, sizeof head - 1);
  o += sizeof head - 1;
  o += _tc_file_base64_encode (data, length, o);
  /* 16 digits at most (2^53 - 1), as tc_jmu_chunk_line_max() counts. */
  o += sprintf (o, "\",\"offset\":%" G_GINT64_FORMAT ",\"from\":\"%s\"}\n", offset, from);

  return o - out;
}

char *
tc_jmu_build_chunk (const guint8 *data,
                    gsize         length,
                    gint64        offset,
                    const char   *from)
{
  char *line;

  g_return_val_if_fail (data != NULL && length > 0, NULL);
  g_return_val_if_fail (from != NULL, NULL);

  line = g_malloc (tc_jmu_chunk_line_max (length, from));
  tc_jmu_write_chunk (data, length, offset, from, line);

  return line;
}
