/* tc-jmu.c: JSON message units, the TORChat wire codec
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tc-address.h"
#include "tc-jmu-private.h"

#define MAX_MID_LEN 128
#define MAX_TOKEN_LEN 128
#define MIN_SID_LEN 8
#define MAX_SID_LEN 64

struct _TcJmu
{
  gatomicrefcount  ref_count;
  TcJmuKind        kind;
  JsonNode        *root;
  GBytes          *chunk;          /* a chunk's bytes, when decoded by the fast path */
};

G_DEFINE_BOXED_TYPE (TcJmu, tc_jmu, tc_jmu_ref, tc_jmu_unref)

G_DEFINE_QUARK (tc-jmu-error-quark, tc_jmu_error)

static const char * const conditions[] = {
  "bad-format",
  "conflict",
  "connection-timeout",
  "host-unknown",
  "improper-addressing",
  "internal-server-error",
  "invalid-from",
  "invalid-json",
  "not-authorized",
  "policy-violation",
  "reset",
  "resource-constraint",
  "system-shutdown",
  "unsupported-encoding",
  "unsupported-message-type",
  "unsupported-version",
};

G_STATIC_ASSERT (G_N_ELEMENTS (conditions) == TC_N_CONDITIONS);

/* Indexed by TcJmuKind; "ack" appears twice, its value tells the kinds
 * apart. */
static const char * const kind_names[] = {
  "unknown",
  "open",
  "ack",
  "close-ack",
  "auth",
  "ready",
  "message",
  "receipt",
  "status",
  "profile",
  "typing",
  "contact-request",
  "contact-accept",
  "contact-decline",
  "ping",
  "pong",
  "close",
  "error",
  "file-offer",
  "file-accept",
  "file-decline",
  "file-done",
  "file-error",
  "file-cancel",
  "chunk",
};

G_STATIC_ASSERT (G_N_ELEMENTS (kind_names) == TC_JMU_N_KINDS);

static const char * const kind_keys[] = {
  "open", "ack", "auth", "ready", "message", "receipt", "status", "profile",
  "typing", "contact-request", "contact-accept", "contact-decline", "ping",
  "pong", "close", "error", "file-offer", "file-accept", "file-decline",
  "file-done", "file-error", "file-cancel", "chunk",
};

static const TcJmuKind kind_key_kinds[] = {
  TC_JMU_KIND_OPEN, TC_JMU_KIND_ACK, TC_JMU_KIND_AUTH, TC_JMU_KIND_READY,
  TC_JMU_KIND_MESSAGE, TC_JMU_KIND_RECEIPT, TC_JMU_KIND_STATUS,
  TC_JMU_KIND_PROFILE, TC_JMU_KIND_TYPING, TC_JMU_KIND_CONTACT_REQUEST,
  TC_JMU_KIND_CONTACT_ACCEPT, TC_JMU_KIND_CONTACT_DECLINE, TC_JMU_KIND_PING,
  TC_JMU_KIND_PONG, TC_JMU_KIND_CLOSE, TC_JMU_KIND_ERROR,
  TC_JMU_KIND_FILE_OFFER, TC_JMU_KIND_FILE_ACCEPT, TC_JMU_KIND_FILE_DECLINE,
  TC_JMU_KIND_FILE_DONE, TC_JMU_KIND_FILE_ERROR, TC_JMU_KIND_FILE_CANCEL,
  TC_JMU_KIND_CHUNK,
};

G_STATIC_ASSERT (G_N_ELEMENTS (kind_keys) == G_N_ELEMENTS (kind_key_kinds));

static const char * const statuses[] = { "available", "away", "xa", "dnd", NULL };
static const char * const typings[] = { "composing", "paused", "active", NULL };
static const char * const stream_types[] = { "message", "file", NULL };

const char *
tc_condition_to_string (TcCondition condition)
{
  g_return_val_if_fail ((guint) condition < TC_N_CONDITIONS, NULL);

  return conditions[condition];
}

gboolean
tc_condition_from_string (const char  *str,
                          TcCondition *condition)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < TC_N_CONDITIONS; i++)
    {
      if (g_str_equal (str, conditions[i]))
        {
          if (condition != NULL)
            *condition = (TcCondition) i;
          return TRUE;
        }
    }

  return FALSE;
}

const char *
tc_jmu_kind_to_string (TcJmuKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (kind_names), NULL);

  return kind_names[kind];
}

const char *
_tc_jmu_kind_key (TcJmuKind kind)
{
  if (kind == TC_JMU_KIND_CLOSE_ACK)
    return "ack";

  for (guint i = 0; i < G_N_ELEMENTS (kind_key_kinds); i++)
    if (kind_key_kinds[i] == kind)
      return kind_keys[i];

  return NULL;
}

static gboolean
parse_u16 (const char  *str,
           gsize        length,
           guint       *value)
{
  guint v = 0;

  if (length == 0)
    return FALSE;

  for (gsize i = 0; i < length; i++)
    {
      if (!g_ascii_isdigit (str[i]))
        return FALSE;
      v = v * 10 + (str[i] - '0');
      if (v > G_MAXUINT16)
        return FALSE;
    }

  *value = v;
  return TRUE;
}

gboolean
tc_version_parse (const char *str,
                  guint      *major,
                  guint      *minor)
{
  const char *dot;
  guint ma, mi;

  if (str == NULL || (dot = strchr (str, '.')) == NULL)
    return FALSE;

  if (!parse_u16 (str, dot - str, &ma) ||
      !parse_u16 (dot + 1, strlen (dot + 1), &mi))
    return FALSE;

  if (major != NULL)
    *major = ma;
  if (minor != NULL)
    *minor = mi;

  return TRUE;
}

int
tc_version_compare (guint major_a,
                    guint minor_a,
                    guint major_b,
                    guint minor_b)
{
  if (major_a != major_b)
    return major_a < major_b ? -1 : 1;
  if (minor_a != minor_b)
    return minor_a < minor_b ? -1 : 1;
  return 0;
}

/* NULL-safe typed access to members. */

static const char *
node_get_string (JsonNode *node)
{
  if (node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
      json_node_get_value_type (node) == G_TYPE_STRING)
    return json_node_get_string (node);

  return NULL;
}

static gboolean
node_is_true (JsonNode *node)
{
  return node != NULL && JSON_NODE_HOLDS_VALUE (node) &&
         json_node_get_value_type (node) == G_TYPE_BOOLEAN &&
         json_node_get_boolean (node);
}

static const char *
object_get_string (JsonObject *object,
                   const char *member)
{
  return node_get_string (json_object_get_member (object, member));
}

static gboolean
string_in (const char         *str,
           const char * const *set)
{
  return str != NULL && g_strv_contains (set, str);
}

static gboolean
is_mid (const char *str)
{
  gsize len;

  if (str == NULL)
    return FALSE;

  len = strlen (str);
  return len >= 1 && len <= MAX_MID_LEN;
}

static gboolean
is_sid (const char *str)
{
  gsize len;

  if (str == NULL)
    return FALSE;

  len = strlen (str);
  if (len < MIN_SID_LEN || len > MAX_SID_LEN)
    return FALSE;

  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (str[i]) && str[i] != '_' && str[i] != '-')
      return FALSE;

  return TRUE;
}

static int
base64_value (char c)
{
  static const char alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  const char *p;

  if (c == '\0' || (p = strchr (alphabet, c)) == NULL)
    return -1;

  return p - alphabet;
}

/* Standard base64 with padding, in its canonical form (unused bits zero),
 * of exactly @n_bytes bytes. */
gboolean
_tc_jmu_is_base64_of (const char *str,
              gsize       n_bytes)
{
  gsize len = 4 * ((n_bytes + 2) / 3);
  gsize pad = (3 - n_bytes % 3) % 3;
  int last = 0;

  if (str == NULL || strlen (str) != len)
    return FALSE;

  for (gsize i = 0; i < len - pad; i++)
    if ((last = base64_value (str[i])) < 0)
      return FALSE;

  for (gsize i = len - pad; i < len; i++)
    if (str[i] != '=')
      return FALSE;

  if ((pad == 1 && (last & 0x3) != 0) || (pad == 2 && (last & 0xf) != 0))
    return FALSE;

  return TRUE;
}

static gboolean
fail (GError      **error,
      TcCondition   condition,
      const char   *reason)
{
  g_set_error_literal (error, TC_JMU_ERROR, condition, reason);
  return FALSE;
}

gboolean
_tc_jmu_bad_format (GError     **error,
            const char  *member,
            const char  *expected)
{
  g_set_error (error, TC_JMU_ERROR, TC_CONDITION_BAD_FORMAT,
               "\"%s\" must be %s", member, expected);
  return FALSE;
}

/* The checks whose failure has a condition other than bad-format. They run
 * before any bad-format check so that the more telling condition wins. */
static gboolean
check_own_conditions (JsonObject  *object,
                      TcJmuKind    kind,
                      GError     **error)
{
  JsonNode *from = json_object_get_member (object, "from");

  if (from != NULL && !tc_address_is_valid (node_get_string (from)))
    return fail (error, TC_CONDITION_INVALID_FROM, "\"from\" is not a valid address");

  if (kind == TC_JMU_KIND_OPEN || kind == TC_JMU_KIND_ACK)
    {
      if (!tc_version_parse (object_get_string (object, "version"), NULL, NULL))
        return fail (error, TC_CONDITION_UNSUPPORTED_VERSION,
                     "\"version\" must be \"major.minor\"");
    }

  if (kind == TC_JMU_KIND_OPEN &&
      !string_in (object_get_string (object, "open"),
                  stream_types))
    return fail (error, TC_CONDITION_UNSUPPORTED_MESSAGE_TYPE,
                 "\"open\" must be \"message\" or \"file\"");

  if (kind == TC_JMU_KIND_AUTH)
    {
      const char *method = object_get_string (object, "auth");

      if (method != NULL && !g_str_equal (method, "ed25519"))
        return fail (error, TC_CONDITION_NOT_AUTHORIZED,
                     "only \"ed25519\" authentication is supported");
    }

  return TRUE;
}

static gboolean
check_name_text (JsonNode    *value,
                 const char  *key,
                 GError     **error)
{
  JsonObject *object;

  if (value == NULL || !JSON_NODE_HOLDS_OBJECT (value))
    return _tc_jmu_bad_format (error, key, "an object");

  object = json_node_get_object (value);
  if (object_get_string (object, "name") == NULL)
    return _tc_jmu_bad_format (error, "name", "a string");
  if (object_get_string (object, "text") == NULL)
    return _tc_jmu_bad_format (error, "text", "a string");

  return TRUE;
}

static gboolean
check_optional_text (JsonObject  *object,
                     GError     **error)
{
  if (json_object_has_member (object, "text") &&
      object_get_string (object, "text") == NULL)
    return _tc_jmu_bad_format (error, "text", "a string when present");

  return TRUE;
}

static gboolean
check_token (const char  *token,
             const char  *key,
             GError     **error)
{
  if (token == NULL || strlen (token) > MAX_TOKEN_LEN)
    return _tc_jmu_bad_format (error, key, "a string of at most 128 bytes");

  return TRUE;
}

static gboolean
check_fields (JsonObject  *object,
              TcJmuKind    kind,
              GError     **error)
{
  const char *key = _tc_jmu_kind_key (kind);
  JsonNode *value = key ? json_object_get_member (object, key) : NULL;
  const char *value_string = node_get_string (value);

  if (kind != TC_JMU_KIND_ERROR && kind != TC_JMU_KIND_UNKNOWN &&
      !json_object_has_member (object, "from"))
    return _tc_jmu_bad_format (error, "from", "present");

  switch (kind)
    {
    case TC_JMU_KIND_UNKNOWN:
      return TRUE;

    case TC_JMU_KIND_OPEN:
      if (object_get_string (object, "to") == NULL)
        return _tc_jmu_bad_format (error, "to", "a string");
      if (g_str_equal (value_string, "file") &&
          !tc_jmu_is_tid (object_get_string (object, "file")))
        return _tc_jmu_bad_format (error, "file", "a transfer id");
      return TRUE;

    case TC_JMU_KIND_ACK:
      if (object_get_string (object, "to") == NULL)
        return _tc_jmu_bad_format (error, "to", "a string");
      if (!is_sid (object_get_string (object, "id")))
        return _tc_jmu_bad_format (error, "id", "8 to 64 of A-Z a-z 0-9 _ -");
      if (!_tc_jmu_is_base64_of (object_get_string (object, "challenge"), TC_CHALLENGE_LEN))
        return _tc_jmu_bad_format (error, "challenge", "base64 of 32 bytes");
      return TRUE;

    case TC_JMU_KIND_CLOSE_ACK:
      if (g_strcmp0 (value_string, "close") != 0)
        return _tc_jmu_bad_format (error, "ack", "true or \"close\"");
      return TRUE;

    case TC_JMU_KIND_AUTH:
      if (value_string == NULL)
        return _tc_jmu_bad_format (error, "auth", "a string");
      if (!_tc_jmu_is_base64_of (object_get_string (object, "signature"), TC_SIGNATURE_LEN))
        return _tc_jmu_bad_format (error, "signature", "base64 of 64 bytes");
      return TRUE;

    case TC_JMU_KIND_MESSAGE:
      {
        g_autoptr(GDateTime) date = NULL;

        if (value_string == NULL)
          return _tc_jmu_bad_format (error, "message", "a string");
        if (!is_mid (object_get_string (object, "id")))
          return _tc_jmu_bad_format (error, "id", "a string of 1 to 128 bytes");
        if (object_get_string (object, "to") == NULL)
          return _tc_jmu_bad_format (error, "to", "a string");
        date = tc_jmu_parse_date (object_get_string (object, "date"));
        if (date == NULL)
          return _tc_jmu_bad_format (error, "date", "an RFC 3339 date in UTC");
        return TRUE;
      }

    case TC_JMU_KIND_RECEIPT:
      if (!is_mid (value_string))
        return _tc_jmu_bad_format (error, "receipt", "a string of 1 to 128 bytes");
      return TRUE;

    case TC_JMU_KIND_STATUS:
      if (!string_in (value_string, statuses))
        return _tc_jmu_bad_format (error, "status", "available, away, xa or dnd");
      return check_optional_text (object, error);

    case TC_JMU_KIND_PROFILE:
      return check_name_text (value, "profile", error);

    case TC_JMU_KIND_TYPING:
      if (!string_in (value_string, typings))
        return _tc_jmu_bad_format (error, "typing", "composing, paused or active");
      return TRUE;

    case TC_JMU_KIND_CONTACT_REQUEST:
      return check_name_text (value, "contact-request", error);

    case TC_JMU_KIND_READY:
    case TC_JMU_KIND_CONTACT_ACCEPT:
    case TC_JMU_KIND_CONTACT_DECLINE:
    case TC_JMU_KIND_CLOSE:
      if (!node_is_true (value))
        return _tc_jmu_bad_format (error, key, "true");
      return TRUE;

    case TC_JMU_KIND_PING:
    case TC_JMU_KIND_PONG:
      return check_token (value_string, key, error);

    case TC_JMU_KIND_ERROR:
      /* An unknown condition is still an error: the stream takes it as
       * "reset" and must not answer it with an error of its own. */
      if (value_string == NULL || *value_string == '\0')
        return _tc_jmu_bad_format (error, "error", "a condition");
      return check_optional_text (object, error);

    case TC_JMU_KIND_FILE_OFFER:
    case TC_JMU_KIND_FILE_ACCEPT:
    case TC_JMU_KIND_FILE_DECLINE:
    case TC_JMU_KIND_FILE_DONE:
    case TC_JMU_KIND_FILE_ERROR:
    case TC_JMU_KIND_FILE_CANCEL:
    case TC_JMU_KIND_CHUNK:
      return _tc_jmu_check_file_fields (object, kind, value, error);

    default:
      g_assert_not_reached ();
    }
}

static gboolean
find_kind (JsonObject  *object,
           TcJmuKind   *out_kind,
           GError     **error)
{
  TcJmuKind kind = TC_JMU_KIND_UNKNOWN;
  guint n_keys = 0;

  /* Duplicate members were already collapsed by json-glib, which keeps the
   * last value; a key repeated is therefore one kind key, not two. */
  for (guint i = 0; i < G_N_ELEMENTS (kind_keys); i++)
    {
      if (json_object_has_member (object, kind_keys[i]))
        {
          kind = kind_key_kinds[i];
          n_keys++;
        }
    }

  if (n_keys > 1)
    return fail (error, TC_CONDITION_BAD_FORMAT, "more than one kind");

  /* An "ack" with a value that is neither true nor "close" is checked as a
   * close-ack, which only asks for "from", and fails there as bad-format. */
  if (kind == TC_JMU_KIND_ACK &&
      !node_is_true (json_object_get_member (object, "ack")))
    kind = TC_JMU_KIND_CLOSE_ACK;

  *out_kind = kind;
  return TRUE;
}

TcJmu *
tc_jmu_parse (const char  *line,
              gsize        length,
              GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  g_autoptr(TcJmu) self = NULL;
  JsonNode *root;
  JsonObject *object;
  TcJmuKind kind;

  g_return_val_if_fail (line != NULL || length == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  /* A chunk as the builder writes it is plain ASCII: it needs no UTF-8
   * check and gets the same answer from the fast path. */
  if ((self = _tc_jmu_parse_chunk_fast (line, length)) != NULL)
    return g_steal_pointer (&self);

  /* g_utf8_validate_len() also refuses NUL bytes. */
  if (length > G_MAXSSIZE || !g_utf8_validate_len (line, length, NULL))
    {
      fail (error, TC_CONDITION_UNSUPPORTED_ENCODING, "not UTF-8");
      return NULL;
    }

  switch (_tc_jmu_scan_json (line, length))
    {
    case TC_JMU_SCAN_OK:
      break;
    case TC_JMU_SCAN_SYNTAX:
      fail (error, TC_CONDITION_INVALID_JSON, "not JSON");
      return NULL;
    case TC_JMU_SCAN_TOO_DEEP:
      fail (error, TC_CONDITION_POLICY_VIOLATION, "JSON nested too deep");
      return NULL;
    case TC_JMU_SCAN_ENCODING:
      fail (error, TC_CONDITION_UNSUPPORTED_ENCODING,
            "a string holds NUL or an unpaired surrogate");
      return NULL;
    default:
      g_assert_not_reached ();
    }

  parser = json_parser_new_immutable ();
  if (!json_parser_load_from_data (parser, line, length, &local_error))
    {
      fail (error, TC_CONDITION_INVALID_JSON, "not JSON");
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      fail (error, TC_CONDITION_INVALID_JSON, "not a JSON object");
      return NULL;
    }

  object = json_node_get_object (root);
  if (!find_kind (object, &kind, error) ||
      !check_own_conditions (object, kind, error) ||
      !check_fields (object, kind, error))
    return NULL;

  return _tc_jmu_new (kind, root);
}

TcJmu *
_tc_jmu_new (TcJmuKind  kind,
             JsonNode  *root)
{
  TcJmu *self = g_new0 (TcJmu, 1);

  g_atomic_ref_count_init (&self->ref_count);
  self->kind = kind;
  self->root = json_node_ref (root);

  return self;
}

TcJmu *
_tc_jmu_new_chunk (JsonNode *root,
                   GBytes   *data)
{
  TcJmu *self = _tc_jmu_new (TC_JMU_KIND_CHUNK, root);

  self->chunk = data;
  return self;
}

GBytes *
_tc_jmu_get_chunk (TcJmu *self)
{
  return self->chunk;
}

TcJmu *
tc_jmu_ref (TcJmu *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  g_atomic_ref_count_inc (&self->ref_count);

  return self;
}

void
tc_jmu_unref (TcJmu *self)
{
  g_return_if_fail (self != NULL);

  if (g_atomic_ref_count_dec (&self->ref_count))
    {
      json_node_unref (self->root);
      g_clear_pointer (&self->chunk, g_bytes_unref);
      g_free (self);
    }
}

TcJmuKind
tc_jmu_get_kind (TcJmu *self)
{
  g_return_val_if_fail (self != NULL, TC_JMU_KIND_UNKNOWN);

  return self->kind;
}

JsonObject *
tc_jmu_get_object (TcJmu *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return json_node_get_object (self->root);
}

const char *
tc_jmu_get_string (TcJmu      *self,
                   const char *member)
{
  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (member != NULL, NULL);

  return object_get_string (json_node_get_object (self->root), member);
}

const char *
tc_jmu_get_from (TcJmu *self)
{
  return tc_jmu_get_string (self, "from");
}

static JsonNode *
get_value (TcJmu *self)
{
  const char *key = _tc_jmu_kind_key (self->kind);

  if (key == NULL)
    return NULL;

  return json_object_get_member (json_node_get_object (self->root), key);
}

JsonObject *
tc_jmu_get_value_object (TcJmu *self)
{
  JsonNode *value;

  g_return_val_if_fail (self != NULL, NULL);

  value = get_value (self);
  if (value == NULL || !JSON_NODE_HOLDS_OBJECT (value))
    return NULL;

  return json_node_get_object (value);
}

const char *
tc_jmu_get_value_string (TcJmu *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  /* A chunk's text is not kept by the fast path: its bytes are, for
   * tc_jmu_dup_chunk(). NULL for every chunk, however it was parsed. */
  if (self->kind == TC_JMU_KIND_CHUNK)
    return NULL;

  return node_get_string (get_value (self));
}

static GBytes *
dup_base64 (TcJmu      *self,
            TcJmuKind   kind,
            const char *member)
{
  const char *str;
  guchar *data;
  gsize len;

  if (self->kind != kind || (str = tc_jmu_get_string (self, member)) == NULL)
    return NULL;

  data = g_base64_decode (str, &len);
  return g_bytes_new_take (data, len);
}

GBytes *
tc_jmu_dup_challenge (TcJmu *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return dup_base64 (self, TC_JMU_KIND_ACK, "challenge");
}

GBytes *
tc_jmu_dup_signature (TcJmu *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return dup_base64 (self, TC_JMU_KIND_AUTH, "signature");
}

char *
tc_jmu_format_date (GDateTime *date)
{
  g_autoptr(GDateTime) utc = NULL;

  g_return_val_if_fail (date != NULL, NULL);

  utc = g_date_time_to_utc (date);
  return g_strdup_printf ("%04d-%02d-%02dT%02d:%02d:%02dZ",
                          g_date_time_get_year (utc),
                          g_date_time_get_month (utc),
                          g_date_time_get_day_of_month (utc),
                          g_date_time_get_hour (utc),
                          g_date_time_get_minute (utc),
                          g_date_time_get_second (utc));
}

static gboolean
take_digits (const char **p,
             int          n,
             int         *value)
{
  int v = 0;

  for (int i = 0; i < n; i++)
    {
      if (!g_ascii_isdigit ((*p)[i]))
        return FALSE;
      v = v * 10 + ((*p)[i] - '0');
    }

  *p += n;
  *value = v;
  return TRUE;
}

static gboolean
take_char (const char **p,
           const char  *accepted)
{
  if (**p == '\0' || strchr (accepted, **p) == NULL)
    return FALSE;

  (*p)++;
  return TRUE;
}

GDateTime *
tc_jmu_parse_date (const char *str)
{
  g_autoptr(GDateTime) whole = NULL;
  const char *p = str;
  int year, month, day, hour, minute, second;
  int usec = 0;

  if (str == NULL)
    return NULL;

  if (!take_digits (&p, 4, &year) || !take_char (&p, "-") ||
      !take_digits (&p, 2, &month) || !take_char (&p, "-") ||
      !take_digits (&p, 2, &day) || !take_char (&p, "Tt") ||
      !take_digits (&p, 2, &hour) || !take_char (&p, ":") ||
      !take_digits (&p, 2, &minute) || !take_char (&p, ":") ||
      !take_digits (&p, 2, &second))
    return NULL;

  if (*p == '.')
    {
      int scale = 100000;

      p++;
      if (!g_ascii_isdigit (*p))
        return NULL;
      for (; g_ascii_isdigit (*p); p++, scale /= 10)
        usec += (*p - '0') * scale;
    }

  if (g_str_equal (p, "+00:00"))
    p += strlen ("+00:00");
  else if (!take_char (&p, "Zz"))
    return NULL;
  if (*p != '\0')
    return NULL;

  if (hour > 23 || minute > 59 || second > 60)
    return NULL;

  /* A leap second is kept as the last instant of the minute before it. */
  if (second == 60)
    {
      second = 59;
      usec = G_USEC_PER_SEC - 1;
    }

  whole = g_date_time_new_utc (year, month, day, hour, minute, second);
  if (whole == NULL)
    return NULL;

  return g_date_time_add (whole, usec);
}
