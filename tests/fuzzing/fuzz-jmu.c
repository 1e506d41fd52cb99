/* fuzz-jmu.c: libFuzzer target for the JMU decoder
 *
 * Besides not crashing, every line the decoder accepts must survive a trip
 * through the builders: rebuilding a parsed JMU gives a line that parses to
 * the same kind and rebuilds to the same bytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tc-jmu.h"

int LLVMFuzzerInitialize (int *argc, char ***argv);
int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

#define CHECK(cond) G_STMT_START { if (!(cond)) { \
  g_printerr ("%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
  abort (); } } G_STMT_END

static const char *
value_member (TcJmu      *jmu,
              const char *member)
{
  JsonObject *value = tc_jmu_get_value_object (jmu);
  JsonNode *node;

  CHECK (value != NULL);
  node = json_object_get_member (value, member);
  CHECK (node != NULL && json_node_get_value_type (node) == G_TYPE_STRING);

  return json_node_get_string (node);
}

/* The line the builders make for @jmu, or NULL for an unknown kind. */
static char *
rebuild (TcJmu *jmu)
{
  const char *value = tc_jmu_get_value_string (jmu);
  const char *from = tc_jmu_get_from (jmu);
  TcCondition condition;

  switch (tc_jmu_get_kind (jmu))
    {
    case TC_JMU_KIND_UNKNOWN:
      return NULL;
    case TC_JMU_KIND_OPEN:
      if (g_strcmp0 (value, "file") == 0)
        return tc_jmu_build_open_file (tc_jmu_get_string (jmu, "version"),
                                       tc_jmu_get_string (jmu, "file"), from,
                                       tc_jmu_get_string (jmu, "to"));
      return tc_jmu_build_open (tc_jmu_get_string (jmu, "version"), value, from,
                                tc_jmu_get_string (jmu, "to"));
    case TC_JMU_KIND_ACK:
      return tc_jmu_build_ack (tc_jmu_get_string (jmu, "version"), from,
                               tc_jmu_get_string (jmu, "to"),
                               tc_jmu_get_string (jmu, "id"),
                               tc_jmu_get_string (jmu, "challenge"));
    case TC_JMU_KIND_CLOSE_ACK:
      return tc_jmu_build_close_ack (from);
    case TC_JMU_KIND_AUTH:
      CHECK (g_strcmp0 (value, "ed25519") == 0);
      return tc_jmu_build_auth (from, tc_jmu_get_string (jmu, "signature"));
    case TC_JMU_KIND_READY:
      return tc_jmu_build_ready (from);
    case TC_JMU_KIND_MESSAGE:
      return tc_jmu_build_message (value, tc_jmu_get_string (jmu, "id"), from,
                                   tc_jmu_get_string (jmu, "to"),
                                   tc_jmu_get_string (jmu, "date"));
    case TC_JMU_KIND_RECEIPT:
      return tc_jmu_build_receipt (value, from);
    case TC_JMU_KIND_STATUS:
      return tc_jmu_build_status (value, tc_jmu_get_string (jmu, "text"), from);
    case TC_JMU_KIND_PROFILE:
      return tc_jmu_build_profile (value_member (jmu, "name"),
                                   value_member (jmu, "text"), from);
    case TC_JMU_KIND_TYPING:
      return tc_jmu_build_typing (value, from);
    case TC_JMU_KIND_CONTACT_REQUEST:
      return tc_jmu_build_contact_request (value_member (jmu, "name"),
                                           value_member (jmu, "text"), from);
    case TC_JMU_KIND_CONTACT_ACCEPT:
      return tc_jmu_build_contact_accept (from);
    case TC_JMU_KIND_CONTACT_DECLINE:
      return tc_jmu_build_contact_decline (from);
    case TC_JMU_KIND_PING:
      return tc_jmu_build_ping (value, from);
    case TC_JMU_KIND_PONG:
      return tc_jmu_build_pong (value, from);
    case TC_JMU_KIND_CLOSE:
      return tc_jmu_build_close (from);
    case TC_JMU_KIND_ERROR:
      /* A condition of a later version: accepted, but we cannot build it. */
      if (!tc_condition_from_string (value, &condition))
        return NULL;
      return tc_jmu_build_error (condition, tc_jmu_get_string (jmu, "text"), from);
    case TC_JMU_KIND_FILE_OFFER:
      CHECK (tc_jmu_get_int (jmu, "size") >= 0);
      return tc_jmu_build_file_offer (tc_jmu_get_file_id (jmu), value_member (jmu, "name"),
                                      tc_jmu_get_int (jmu, "size"),
                                      value_member (jmu, "sha256"),
                                      value_member (jmu, "mime"), from);
    case TC_JMU_KIND_FILE_ACCEPT:
      CHECK (tc_jmu_get_int (jmu, "offset") >= 0);
      return tc_jmu_build_file_accept (tc_jmu_get_file_id (jmu),
                                       tc_jmu_get_int (jmu, "offset"), from);
    case TC_JMU_KIND_FILE_DECLINE:
    case TC_JMU_KIND_FILE_DONE:
    case TC_JMU_KIND_FILE_CANCEL:
      CHECK (tc_jmu_is_tid (tc_jmu_get_file_id (jmu)));
      return tc_jmu_build_file_id (tc_jmu_get_kind (jmu), tc_jmu_get_file_id (jmu), from);
    case TC_JMU_KIND_FILE_ERROR:
      return tc_jmu_build_file_error (tc_jmu_get_file_id (jmu), value_member (jmu, "error"),
                                      json_object_has_member (tc_jmu_get_value_object (jmu), "text") ?
                                      value_member (jmu, "text") : NULL, from);
    case TC_JMU_KIND_CHUNK:
      {
        g_autoptr(GBytes) data = tc_jmu_dup_chunk (jmu);

        CHECK (data != NULL && g_bytes_get_size (data) > 0);
        CHECK (tc_jmu_get_int (jmu, "offset") >= 0);
        return tc_jmu_build_chunk (g_bytes_get_data (data, NULL), g_bytes_get_size (data),
                                   tc_jmu_get_int (jmu, "offset"), from);
      }
    default:
      abort ();
    }
}

static void
check_accepted (TcJmu *jmu)
{
  g_autofree char *line = NULL;
  g_autofree char *again = NULL;
  g_autoptr(TcJmu) reparsed = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) challenge = tc_jmu_dup_challenge (jmu);
  g_autoptr(GBytes) signature = tc_jmu_dup_signature (jmu);
  gsize len;

  CHECK ((challenge != NULL) == (tc_jmu_get_kind (jmu) == TC_JMU_KIND_ACK));
  CHECK (challenge == NULL || g_bytes_get_size (challenge) == TC_CHALLENGE_LEN);
  CHECK ((signature != NULL) == (tc_jmu_get_kind (jmu) == TC_JMU_KIND_AUTH));
  CHECK (signature == NULL || g_bytes_get_size (signature) == TC_SIGNATURE_LEN);

  line = rebuild (jmu);
  if (line == NULL)
    return;

  len = strlen (line);
  CHECK (len > 0 && line[len - 1] == '\n');
  for (gsize i = 0; i < len - 1; i++)
    CHECK ((guchar) line[i] >= 0x20);

  reparsed = tc_jmu_parse (line, len - 1, &error);
  if (reparsed == NULL)
    g_printerr ("rebuilt line rejected: %s\n", error->message);
  CHECK (reparsed != NULL);
  CHECK (tc_jmu_get_kind (reparsed) == tc_jmu_get_kind (jmu));
  CHECK (g_strcmp0 (tc_jmu_get_value_string (reparsed), tc_jmu_get_value_string (jmu)) == 0);
  CHECK (g_strcmp0 (tc_jmu_get_from (reparsed), tc_jmu_get_from (jmu)) == 0);

  again = rebuild (reparsed);
  CHECK (g_strcmp0 (again, line) == 0);
}

static void
check_version (const char *str)
{
  g_autofree char *canonical = NULL;
  guint major, minor, major2, minor2;

  if (!tc_version_parse (str, &major, &minor))
    return;

  CHECK (major <= G_MAXUINT16 && minor <= G_MAXUINT16);
  canonical = g_strdup_printf ("%u.%u", major, minor);
  CHECK (tc_version_parse (canonical, &major2, &minor2));
  CHECK (tc_version_compare (major, minor, major2, minor2) == 0);
}

static void
check_date (const char *str)
{
  g_autoptr(GDateTime) date = tc_jmu_parse_date (str);
  g_autoptr(GDateTime) again = NULL;
  g_autofree char *formatted = NULL;

  if (date == NULL)
    return;

  formatted = tc_jmu_format_date (date);
  again = tc_jmu_parse_date (formatted);
  CHECK (again != NULL);
  CHECK (g_date_time_to_unix (again) == g_date_time_to_unix (date));
}

int
LLVMFuzzerInitialize (int    *argc,
                      char ***argv)
{
  /* A critical is a bug the fuzzer should report, not a log line. */
  g_log_set_always_fatal (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING);
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  g_autoptr(TcJmu) jmu = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *str = NULL;

  if (size > TC_JMU_MAX_LINE)
    return 0;

  jmu = tc_jmu_parse ((const char *) data, size, &error);
  CHECK ((jmu == NULL) != (error == NULL));

  if (jmu != NULL)
    {
      check_accepted (jmu);
    }
  else
    {
      g_autofree char *answer = NULL;

      CHECK (error->domain == TC_JMU_ERROR);
      CHECK (error->code >= 0 && error->code < TC_N_CONDITIONS);
      /* The message is sent to the peer as the error's text. */
      answer = tc_jmu_build_error (error->code, error->message, NULL);
      CHECK (answer != NULL);
    }

  str = g_strndup ((const char *) data, size);
  check_version (str);
  check_date (str);

  return 0;
}
