/* test-jmu.c: the wire codec against docs/protocol.md
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>
#include <nettle/eddsa.h>
#include <nettle/sha2.h>

#include "tc-address.h"
#include "tc-file-base64.h"
#include "tc-identity.h"
#include "tc-jmu.h"

/* The test vectors of docs/protocol.md: A has the seed 00 01 … 1f, B the
 * seed 20 21 … 3f; the challenge is the bytes 40 41 … 5f. */
#define A "aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4bqead.onion"
#define B "fgwlvykbxtfpbmrodkkngtily43b4utnbp7bfsexss6jgiuwnxluewad.onion"
#define PUBLIC_A "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
#define EXPANDED_A "3894eea49c580aef816935762be049559d6d1440dede12e6a125f1841fff8e6f" \
                   "a9d71862a3e5746b571be3d187b0041046f52ebd850c7cbd5fde8ee38473b649"
#define PUBLIC_B "29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7"
#define SID "Vq3xT9_kLm-2"
#define CHALLENGE "QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8="
#define ACK_LINE "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A \
                 "\",\"id\":\"" SID "\",\"challenge\":\"" CHALLENGE "\"}\n"
#define PAYLOAD "torchat-auth:" SID ":" CHALLENGE ":" A ":" B
#define SIGNATURE "OMoOaEq4sIFz0nooMsFm6Tu+RzqOdxaWyLCGU4QQa6fXvt8xfPuQELQp2eVNF4RFkFk3Cynd1LSqsxJ1I0XmBA=="
#define TOR_KEY_BLOB "ED25519-V3:OJTupJxYCu+BaTV2K+BJVZ1tFEDe3hLmoSXxhB//jm+p1xhio+V0a1cb49GHsAQQRvUuvYUMfL1f3o7jhHO2SQ=="
#define AUTH_LINE "{\"auth\":\"ed25519\",\"from\":\"" A "\",\"signature\":\"" SIGNATURE "\"}\n"

#define DATE "2026-11-22T10:04:05Z"
/* File transfer vectors (docs/protocol.md section 15.7): "hello world". */
#define TID "Tx7Qe0sLrVq3xT9kLm2Pz4Wb"
#define HELLO_SHA256 "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"

/* A valid address whose checksum is wrong: B with one letter changed. */
#define BAD_CHECKSUM "fgwlvykbxtfpbmrodkkngtily43b4utnbp7bfsexss6jgiuwnxluexad.onion"

static char *
hex (const guint8 *data,
     gsize         len)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);

  return g_string_free (s, FALSE);
}

static TcJmu *
parse_ok (const char *line,
          TcJmuKind   kind)
{
  g_autoptr(GError) error = NULL;
  TcJmu *jmu;

  jmu = tc_jmu_parse (line, strlen (line), &error);
  if (error != NULL)
    g_test_message ("line: %s", line);
  g_assert_no_error (error);
  g_assert_nonnull (jmu);
  g_assert_cmpstr (tc_jmu_kind_to_string (tc_jmu_get_kind (jmu)), ==,
                   tc_jmu_kind_to_string (kind));

  return jmu;
}

static void
assert_condition_len (const char  *line,
                      gsize        length,
                      TcCondition  condition)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcJmu) jmu = NULL;

  jmu = tc_jmu_parse (line, length, &error);
  if (error == NULL || error->code != (int) condition)
    g_test_message ("line: %.*s; expected %s, got %s", (int) length, line,
                    tc_condition_to_string (condition),
                    error ? tc_condition_to_string (error->code) : "success");
  g_assert_error (error, TC_JMU_ERROR, (int) condition);
  g_assert_null (jmu);
}

static void
assert_condition (const char  *line,
                  TcCondition  condition)
{
  assert_condition_len (line, strlen (line), condition);
}

/* Builders end lines with "\n"; the parser takes them without. */
static TcJmu *
parse_built (const char *line,
             TcJmuKind   kind)
{
  g_autofree char *body = NULL;
  gsize len = strlen (line);

  g_assert_cmpuint (len, >, 1);
  g_assert_cmpint (line[len - 1], ==, '\n');
  g_assert_true (g_utf8_validate (line, len, NULL));
  /* No raw control character: json-glib 1.6 leaves U+001F unescaped. */
  for (gsize i = 0; i < len - 1; i++)
    g_assert_cmpint ((guchar) line[i], >=, 0x20);

  body = g_strndup (line, len - 1);
  return parse_ok (body, kind);
}

static void
test_condition_strings (void)
{
  static const char * const names[] = {
    "bad-format", "conflict", "connection-timeout", "host-unknown",
    "improper-addressing", "internal-server-error", "invalid-from",
    "invalid-json", "not-authorized", "policy-violation", "reset",
    "resource-constraint", "system-shutdown", "unsupported-encoding",
    "unsupported-message-type", "unsupported-version",
  };
  TcCondition condition;

  g_assert_cmpuint (G_N_ELEMENTS (names), ==, TC_N_CONDITIONS);

  for (guint i = 0; i < TC_N_CONDITIONS; i++)
    {
      g_assert_cmpstr (tc_condition_to_string (i), ==, names[i]);
      g_assert_true (tc_condition_from_string (names[i], &condition));
      g_assert_cmpint (condition, ==, i);
    }

  g_assert_false (tc_condition_from_string ("Bad-Format", &condition));
  g_assert_false (tc_condition_from_string ("", &condition));
  g_assert_false (tc_condition_from_string (NULL, &condition));

  g_assert_cmpstr (tc_jmu_kind_to_string (TC_JMU_KIND_CONTACT_REQUEST), ==,
                   "contact-request");
  g_assert_cmpstr (tc_jmu_kind_to_string (TC_JMU_KIND_UNKNOWN), ==, "unknown");
}

static void
test_encoding (void)
{
  static const char nul[] = "{\"ping\":\"a\0b\",\"from\":\"" A "\"}";

  assert_condition ("{\"ping\":\"\xff\",\"from\":\"" A "\"}",
                    TC_CONDITION_UNSUPPORTED_ENCODING);
  /* Overlong "/" and a lone continuation byte. */
  assert_condition ("{\"ping\":\"\xc0\xaf\"}", TC_CONDITION_UNSUPPORTED_ENCODING);
  assert_condition ("\x80{}", TC_CONDITION_UNSUPPORTED_ENCODING);
  /* A UTF-16 surrogate encoded in UTF-8 (CESU-8). */
  assert_condition ("{\"a\":\"\xed\xa0\x80\"}", TC_CONDITION_UNSUPPORTED_ENCODING);
  assert_condition_len (nul, sizeof nul - 1, TC_CONDITION_UNSUPPORTED_ENCODING);
  assert_condition_len ("{}\0", 3, TC_CONDITION_UNSUPPORTED_ENCODING);

  /* Escapes that would decode to text json-glib cannot hold as UTF-8. */
  assert_condition ("{\"message\":\"a\\u0000b\"}", TC_CONDITION_UNSUPPORTED_ENCODING);
  assert_condition ("{\"message\":\"\\ud800\"}", TC_CONDITION_UNSUPPORTED_ENCODING);
  assert_condition ("{\"message\":\"\\udc00x\"}", TC_CONDITION_UNSUPPORTED_ENCODING);
  assert_condition ("{\"message\":\"\\ud800\\u0041\"}", TC_CONDITION_UNSUPPORTED_ENCODING);
}

static void
test_invalid_json (void)
{
  static const char * const lines[] = {
    "[]",
    "\"x\"",
    "{",
    "",
    " ",
    "42",
    "null",
    "{\"a\":1}{}",
    "{\"a\":1} x",
    "{\"a\":'x'}",
    "{a:1}",
    "{\"a\":1,}",
    "[1,]",
    "{\"a\" 1}",
    "{\"a\":1 /* c */}",
    "// c\n{}",
    "var x = {}",
    "{\"a\":01}",
    "{\"a\":.5}",
    "{\"a\":1.}",
    "{\"a\":1e}",
    "{\"a\":+1}",
    "{\"a\":0x10}",
    "{\"a\":NaN}",
    "{\"a\":tru}",
    "{\"a\":\"tab\there\"}",
    "{\"a\":\"\\x41\"}",
    "{\"a\":\"\\u12\"}",
    "{\"a\":\"open",
    "{\"a\":[1,2}",
    "{\"a\":{\"b\":1]}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    assert_condition (lines[i], TC_CONDITION_INVALID_JSON);
}

static void
test_valid_json (void)
{
  g_autoptr(TcJmu) jmu = NULL;
  g_autoptr(TcJmu) ping = NULL;

  /* Every JSON form, no kind key: unknown, not an error. */
  jmu = parse_ok (" \t{ \"x\" : -0.5e+3 , \"y\":[true,false,null,{},[],0,-0,1E2],"
                  "\"z\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\" }\r",
                  TC_JMU_KIND_UNKNOWN);
  g_assert_cmpstr (tc_jmu_get_string (jmu, "z"), ==,
                   "\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
  g_assert_null (tc_jmu_get_from (jmu));
  g_assert_null (tc_jmu_get_value_string (jmu));
  g_assert_null (tc_jmu_get_value_object (jmu));

  ping = parse_ok ("{\"ping\":\"\\u2028x\",\"from\":\"" A "\"}", TC_JMU_KIND_PING);
  g_assert_cmpstr (tc_jmu_get_value_string (ping), ==, "\xe2\x80\xa8x");
}

static void
test_depth (void)
{
  GString *deep = g_string_new ("{\"a\":");
  g_autoptr(TcJmu) jmu = NULL;

  /* 32 levels, counting the outer object, are allowed. */
  for (int i = 0; i < 31; i++)
    g_string_append_c (deep, '[');
  for (int i = 0; i < 31; i++)
    g_string_append_c (deep, ']');
  g_string_append_c (deep, '}');
  jmu = parse_ok (deep->str, TC_JMU_KIND_UNKNOWN);

  g_string_assign (deep, "{\"a\":");
  for (int i = 0; i < 32; i++)
    g_string_append (deep, "{\"b\":");
  g_string_append (deep, "1");
  for (int i = 0; i < 33; i++)
    g_string_append_c (deep, '}');
  assert_condition (deep->str, TC_CONDITION_POLICY_VIOLATION);

  /* What would overflow the stack of a recursive parser. */
  g_string_assign (deep, "{\"a\":");
  while (deep->len < TC_JMU_MAX_LINE)
    g_string_append_c (deep, '[');
  assert_condition (deep->str, TC_CONDITION_POLICY_VIOLATION);

  g_string_free (deep, TRUE);
}

static void
test_kinds (void)
{
  g_autoptr(TcJmu) open = NULL;
  g_autoptr(TcJmu) file = NULL;
  g_autoptr(TcJmu) ack = NULL;
  g_autoptr(TcJmu) auth = NULL;
  g_autoptr(TcJmu) ready = NULL;
  g_autoptr(TcJmu) message = NULL;
  g_autoptr(TcJmu) receipt = NULL;
  g_autoptr(TcJmu) status = NULL;
  g_autoptr(TcJmu) profile = NULL;
  g_autoptr(TcJmu) typing = NULL;
  g_autoptr(TcJmu) request = NULL;
  g_autoptr(TcJmu) accept = NULL;
  g_autoptr(TcJmu) decline = NULL;
  g_autoptr(TcJmu) ping = NULL;
  g_autoptr(TcJmu) pong = NULL;
  g_autoptr(TcJmu) close = NULL;
  g_autoptr(TcJmu) close_ack = NULL;
  g_autoptr(TcJmu) error = NULL;
  g_autoptr(TcJmu) early_error = NULL;
  g_autoptr(TcJmu) unknown_error = NULL;
  g_autoptr(GBytes) challenge = NULL;
  g_autoptr(GBytes) signature = NULL;
  JsonObject *value;

  open = parse_ok ("{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"" A "\",\"to\":\"" B "\"}",
                   TC_JMU_KIND_OPEN);
  g_assert_cmpstr (tc_jmu_get_value_string (open), ==, "message");
  g_assert_cmpstr (tc_jmu_get_from (open), ==, A);
  g_assert_cmpstr (tc_jmu_get_string (open, "to"), ==, B);
  g_assert_cmpstr (tc_jmu_get_string (open, "version"), ==, "1.0");
  g_assert_null (tc_jmu_dup_challenge (open));

  /* The codec leaves "to" to the stream: any string passes here. */
  file = parse_ok ("{\"version\":\"7.3\",\"open\":\"file\",\"file\":\"" TID "\",\"from\":\"" A "\",\"to\":\"x\"}",
                   TC_JMU_KIND_OPEN);
  g_assert_cmpstr (tc_jmu_get_value_string (file), ==, "file");

  ack = parse_ok (ACK_LINE, TC_JMU_KIND_ACK);
  g_assert_cmpstr (tc_jmu_get_string (ack, "id"), ==, SID);
  challenge = tc_jmu_dup_challenge (ack);
  g_assert_cmpuint (g_bytes_get_size (challenge), ==, TC_CHALLENGE_LEN);
  for (guint i = 0; i < TC_CHALLENGE_LEN; i++)
    g_assert_cmpuint (((const guint8 *) g_bytes_get_data (challenge, NULL))[i], ==, 0x40 + i);
  g_assert_null (tc_jmu_dup_signature (ack));

  auth = parse_ok (AUTH_LINE, TC_JMU_KIND_AUTH);
  signature = tc_jmu_dup_signature (auth);
  g_assert_cmpuint (g_bytes_get_size (signature), ==, TC_SIGNATURE_LEN);
  g_assert_cmpstr (tc_jmu_get_value_string (auth), ==, "ed25519");

  ready = parse_ok ("{\"ready\":true,\"from\":\"" B "\"}", TC_JMU_KIND_READY);

  message = parse_ok ("{\"message\":\"hi\",\"id\":\"m1\",\"from\":\"" A "\",\"to\":\"" B "\","
                      "\"date\":\"" DATE "\"}", TC_JMU_KIND_MESSAGE);
  g_assert_cmpstr (tc_jmu_get_value_string (message), ==, "hi");
  g_assert_cmpstr (tc_jmu_get_string (message, "id"), ==, "m1");
  g_assert_cmpstr (tc_jmu_get_string (message, "date"), ==, DATE);
  g_assert_null (tc_jmu_get_value_object (message));

  receipt = parse_ok ("{\"receipt\":\"m1\",\"from\":\"" B "\"}", TC_JMU_KIND_RECEIPT);
  g_assert_cmpstr (tc_jmu_get_value_string (receipt), ==, "m1");

  status = parse_ok ("{\"status\":\"dnd\",\"from\":\"" A "\"}", TC_JMU_KIND_STATUS);
  g_assert_cmpstr (tc_jmu_get_value_string (status), ==, "dnd");
  g_assert_null (tc_jmu_get_string (status, "text"));

  profile = parse_ok ("{\"profile\":{\"name\":\"Alice\",\"text\":\"\"},\"from\":\"" A "\"}",
                      TC_JMU_KIND_PROFILE);
  value = tc_jmu_get_value_object (profile);
  g_assert_nonnull (value);
  g_assert_cmpstr (json_object_get_string_member (value, "name"), ==, "Alice");
  g_assert_null (tc_jmu_get_value_string (profile));

  typing = parse_ok ("{\"typing\":\"paused\",\"from\":\"" A "\"}", TC_JMU_KIND_TYPING);
  g_assert_cmpstr (tc_jmu_get_value_string (typing), ==, "paused");

  request = parse_ok ("{\"contact-request\":{\"name\":\"Alice\",\"text\":\"Hello\"},\"from\":\"" A "\"}",
                      TC_JMU_KIND_CONTACT_REQUEST);
  value = tc_jmu_get_value_object (request);
  g_assert_cmpstr (json_object_get_string_member (value, "text"), ==, "Hello");

  accept = parse_ok ("{\"contact-accept\":true,\"from\":\"" A "\"}", TC_JMU_KIND_CONTACT_ACCEPT);
  decline = parse_ok ("{\"contact-decline\":true,\"from\":\"" A "\"}", TC_JMU_KIND_CONTACT_DECLINE);

  ping = parse_ok ("{\"ping\":\"\",\"from\":\"" A "\"}", TC_JMU_KIND_PING);
  g_assert_cmpstr (tc_jmu_get_value_string (ping), ==, "");
  pong = parse_ok ("{\"pong\":\"t1\",\"from\":\"" B "\"}", TC_JMU_KIND_PONG);
  g_assert_cmpstr (tc_jmu_get_value_string (pong), ==, "t1");

  close = parse_ok ("{\"close\":true,\"from\":\"" A "\"}", TC_JMU_KIND_CLOSE);
  close_ack = parse_ok ("{\"ack\":\"close\",\"from\":\"" B "\"}", TC_JMU_KIND_CLOSE_ACK);
  g_assert_cmpstr (tc_jmu_get_value_string (close_ack), ==, "close");

  error = parse_ok ("{\"error\":\"conflict\",\"text\":\"replaced\",\"from\":\"" A "\"}",
                    TC_JMU_KIND_ERROR);
  g_assert_cmpstr (tc_jmu_get_value_string (error), ==, "conflict");
  g_assert_cmpstr (tc_jmu_get_string (error, "text"), ==, "replaced");

  /* Before the handshake an error may come without "from". */
  early_error = parse_ok ("{\"error\":\"unsupported-version\"}", TC_JMU_KIND_ERROR);
  /* A condition from a later version is still an error. */
  unknown_error = parse_ok ("{\"error\":\"teapot\",\"from\":\"" A "\"}", TC_JMU_KIND_ERROR);
  g_assert_cmpstr (tc_jmu_get_value_string (unknown_error), ==, "teapot");
  g_assert_null (tc_jmu_get_from (early_error));
}

static void
test_bad_format (void)
{
  static const char * const lines[] = {
    /* missing from, for every kind that needs it */
    "{\"version\":\"1.0\",\"open\":\"message\",\"to\":\"" B "\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"to\":\"" A "\",\"id\":\"" SID "\",\"challenge\":\"" CHALLENGE "\"}",
    "{\"auth\":\"ed25519\",\"signature\":\"" SIGNATURE "\"}",
    "{\"ready\":true}",
    "{\"message\":\"hi\",\"id\":\"m1\",\"to\":\"" B "\",\"date\":\"" DATE "\"}",
    "{\"receipt\":\"m1\"}",
    "{\"status\":\"away\"}",
    "{\"profile\":{\"name\":\"a\",\"text\":\"b\"}}",
    "{\"typing\":\"active\"}",
    "{\"contact-request\":{\"name\":\"a\",\"text\":\"b\"}}",
    "{\"contact-accept\":true}",
    "{\"contact-decline\":true}",
    "{\"ping\":\"t\"}",
    "{\"pong\":\"t\"}",
    "{\"close\":true}",
    "{\"ack\":\"close\"}",

    /* open */
    "{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"" A "\"}",
    "{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"" A "\",\"to\":5}",

    /* ack */
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"id\":\"" SID "\",\"challenge\":\"" CHALLENGE "\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"challenge\":\"" CHALLENGE "\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"short\",\"challenge\":\"" CHALLENGE "\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"has space\",\"challenge\":\"" CHALLENGE "\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\""
      "0123456789012345678901234567890123456789012345678901234567890123x\",\"challenge\":\"" CHALLENGE "\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":12345678,\"challenge\":\"" CHALLENGE "\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"" SID "\"}",
    /* 31 bytes, 33 bytes, no padding, URL-safe alphabet, stray bits */
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"" SID "\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXg==\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"" SID "\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9g\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"" SID "\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"" SID "\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xd_l8=\"}",
    "{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\",\"id\":\"" SID "\",\"challenge\":\"QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl9=\"}",
    "{\"ack\":false,\"from\":\"" B "\"}",
    "{\"ack\":\"closed\",\"from\":\"" B "\"}",
    "{\"ack\":1,\"from\":\"" B "\"}",

    /* auth */
    "{\"auth\":25519,\"from\":\"" A "\",\"signature\":\"" SIGNATURE "\"}",
    "{\"auth\":\"ed25519\",\"from\":\"" A "\"}",
    "{\"auth\":\"ed25519\",\"from\":\"" A "\",\"signature\":\"not base64!\"}",
    "{\"auth\":\"ed25519\",\"from\":\"" A "\",\"signature\":\"" CHALLENGE "\"}",

    /* ready, contact-accept, contact-decline, close want true */
    "{\"ready\":false,\"from\":\"" B "\"}",
    "{\"ready\":\"true\",\"from\":\"" B "\"}",
    "{\"contact-accept\":1,\"from\":\"" A "\"}",
    "{\"contact-decline\":null,\"from\":\"" A "\"}",
    "{\"close\":{},\"from\":\"" A "\"}",

    /* message */
    "{\"message\":5,\"id\":\"m1\",\"from\":\"" A "\",\"to\":\"" B "\",\"date\":\"" DATE "\"}",
    "{\"message\":\"hi\",\"from\":\"" A "\",\"to\":\"" B "\",\"date\":\"" DATE "\"}",
    "{\"message\":\"hi\",\"id\":\"\",\"from\":\"" A "\",\"to\":\"" B "\",\"date\":\"" DATE "\"}",
    "{\"message\":\"hi\",\"id\":1,\"from\":\"" A "\",\"to\":\"" B "\",\"date\":\"" DATE "\"}",
    "{\"message\":\"hi\",\"id\":\"m1\",\"from\":\"" A "\",\"date\":\"" DATE "\"}",
    "{\"message\":\"hi\",\"id\":\"m1\",\"from\":\"" A "\",\"to\":\"" B "\"}",
    "{\"message\":\"hi\",\"id\":\"m1\",\"from\":\"" A "\",\"to\":\"" B "\",\"date\":\"2026-11-22T10:04:05+01:00\"}",
    "{\"message\":\"hi\",\"id\":\"m1\",\"from\":\"" A "\",\"to\":\"" B "\",\"date\":\"2026-11-22 10:04:05Z\"}",
    "{\"message\":\"hi\",\"id\":\"m1\",\"from\":\"" A "\",\"to\":\"" B "\",\"date\":1795341845}",

    /* receipt */
    "{\"receipt\":\"\",\"from\":\"" B "\"}",
    "{\"receipt\":7,\"from\":\"" B "\"}",

    /* status */
    "{\"status\":\"busy\",\"from\":\"" A "\"}",
    "{\"status\":\"Away\",\"from\":\"" A "\"}",
    "{\"status\":\"away\",\"text\":3,\"from\":\"" A "\"}",
    "{\"status\":\"away\",\"text\":null,\"from\":\"" A "\"}",

    /* profile, contact-request */
    "{\"profile\":\"Alice\",\"from\":\"" A "\"}",
    "{\"profile\":{\"name\":\"Alice\"},\"from\":\"" A "\"}",
    "{\"profile\":{\"text\":\"x\"},\"from\":\"" A "\"}",
    "{\"profile\":{\"name\":1,\"text\":\"x\"},\"from\":\"" A "\"}",
    "{\"contact-request\":{\"name\":\"Alice\"},\"from\":\"" A "\"}",
    "{\"contact-request\":[],\"from\":\"" A "\"}",

    /* typing */
    "{\"typing\":\"idle\",\"from\":\"" A "\"}",
    "{\"typing\":true,\"from\":\"" A "\"}",

    /* ping, pong */
    "{\"ping\":1,\"from\":\"" A "\"}",
    "{\"pong\":null,\"from\":\"" A "\"}",

    /* error */
    "{\"error\":\"\",\"from\":\"" A "\"}",
    "{\"error\":7}",
    "{\"error\":\"reset\",\"text\":[]}",

    /* two kind keys */
    "{\"ping\":\"t\",\"pong\":\"t\",\"from\":\"" A "\"}",
    "{\"message\":\"hi\",\"id\":\"m1\",\"from\":\"" A "\",\"to\":\"" B "\",\"date\":\"" DATE "\",\"receipt\":\"m1\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    assert_condition (lines[i], TC_CONDITION_BAD_FORMAT);
}

static void
test_limits (void)
{
  g_autofree char *s128 = g_strnfill (128, 'x');
  g_autofree char *s129 = g_strnfill (129, 'x');
  g_autofree char *s64 = g_strnfill (64, 'x');
  g_autofree char *line = NULL;
  g_autoptr(TcJmu) jmu = NULL;

  line = g_strdup_printf ("{\"ping\":\"%s\",\"from\":\"" A "\"}", s128);
  g_clear_pointer (&jmu, tc_jmu_unref);
  jmu = parse_ok (line, TC_JMU_KIND_PING);
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("{\"pong\":\"%s\",\"from\":\"" A "\"}", s129);
  assert_condition (line, TC_CONDITION_BAD_FORMAT);

  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("{\"receipt\":\"%s\",\"from\":\"" A "\"}", s128);
  g_clear_pointer (&jmu, tc_jmu_unref);
  jmu = parse_ok (line, TC_JMU_KIND_RECEIPT);
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("{\"receipt\":\"%s\",\"from\":\"" A "\"}", s129);
  assert_condition (line, TC_CONDITION_BAD_FORMAT);

  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("{\"message\":\"\",\"id\":\"%s\",\"from\":\"" A "\",\"to\":\"" B "\","
                          "\"date\":\"" DATE "\"}", s128);
  g_clear_pointer (&jmu, tc_jmu_unref);
  jmu = parse_ok (line, TC_JMU_KIND_MESSAGE);
  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("{\"message\":\"\",\"id\":\"%s\",\"from\":\"" A "\",\"to\":\"" B "\","
                          "\"date\":\"" DATE "\"}", s129);
  assert_condition (line, TC_CONDITION_BAD_FORMAT);

  /* Lengths are in bytes: 65 characters of 2 bytes are too many. */
  {
    GString *wide = g_string_new (NULL);

    for (int i = 0; i < 65; i++)
      g_string_append (wide, "é");
    g_clear_pointer (&line, g_free);
    line = g_strdup_printf ("{\"receipt\":\"%s\",\"from\":\"" A "\"}", wide->str);
    assert_condition (line, TC_CONDITION_BAD_FORMAT);
    g_string_free (wide, TRUE);
  }

  g_clear_pointer (&line, g_free);
  line = g_strdup_printf ("{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\","
                          "\"id\":\"%s\",\"challenge\":\"" CHALLENGE "\"}", s64);
  g_clear_pointer (&jmu, tc_jmu_unref);
  jmu = parse_ok (line, TC_JMU_KIND_ACK);
  g_clear_pointer (&line, g_free);
  line = g_strdup ("{\"version\":\"1.0\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\","
                   "\"id\":\"aZ09_-aZ\",\"challenge\":\"" CHALLENGE "\"}");
  g_clear_pointer (&jmu, tc_jmu_unref);
  jmu = parse_ok (line, TC_JMU_KIND_ACK);
}

static void
test_invalid_from (void)
{
  static const char * const lines[] = {
    "{\"ready\":true,\"from\":5}",
    "{\"ready\":true,\"from\":null}",
    "{\"ready\":true,\"from\":[\"" A "\"]}",
    "{\"ready\":true,\"from\":\"\"}",
    "{\"ready\":true,\"from\":\"" BAD_CHECKSUM "\"}",
    "{\"ready\":true,\"from\":\"FGWLVYKBXTFPBMRODKKNGTILY43B4UTNBP7BFSEXSS6JGIUWNXLUEWAD.onion\"}",
    "{\"ready\":true,\"from\":\"fgwlvykbxtfpbmrodkkngtily43b4utnbp7bfsexss6jgiuwnxluewad\"}",
    "{\"ready\":true,\"from\":\" " B "\"}",
    "{\"ready\":true,\"from\":\"expyuzz4wqqyqhjn.onion\"}",
    "{\"error\":\"reset\",\"from\":\"nobody\"}",
    "{\"error\":\"teapot\",\"from\":\"nobody\"}",
    "{\"hello\":1,\"from\":\"nobody\"}",
    "{\"ping\":\"t\",\"from\":{}}",
    "{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"nobody\",\"to\":\"" B "\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (lines); i++)
    assert_condition (lines[i], TC_CONDITION_INVALID_FROM);
}

static void
test_unsupported_version (void)
{
  static const char * const versions[] = {
    "", "1", "1.", ".1", "1.0.0", "-1.0", "a.b", "99999.0", " 1.0", "1.0 ",
  };

  for (guint i = 0; i < G_N_ELEMENTS (versions); i++)
    {
      g_autofree char *open = g_strdup_printf (
        "{\"version\":\"%s\",\"open\":\"message\",\"from\":\"" A "\",\"to\":\"" B "\"}",
        versions[i]);
      g_autofree char *ack = g_strdup_printf (
        "{\"version\":\"%s\",\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\","
        "\"id\":\"" SID "\",\"challenge\":\"" CHALLENGE "\"}", versions[i]);

      assert_condition (open, TC_CONDITION_UNSUPPORTED_VERSION);
      assert_condition (ack, TC_CONDITION_UNSUPPORTED_VERSION);
    }

  assert_condition ("{\"open\":\"message\",\"from\":\"" A "\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_VERSION);
  assert_condition ("{\"version\":1.0,\"open\":\"message\",\"from\":\"" A "\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_VERSION);
  assert_condition ("{\"ack\":true,\"from\":\"" B "\",\"to\":\"" A "\","
                    "\"id\":\"" SID "\",\"challenge\":\"" CHALLENGE "\"}",
                    TC_CONDITION_UNSUPPORTED_VERSION);
}

static void
test_unsupported_message_type (void)
{
  assert_condition ("{\"version\":\"1.0\",\"open\":\"chat\",\"from\":\"" A "\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_MESSAGE_TYPE);
  assert_condition ("{\"version\":\"1.0\",\"open\":\"Message\",\"from\":\"" A "\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_MESSAGE_TYPE);
  assert_condition ("{\"version\":\"1.0\",\"open\":1,\"from\":\"" A "\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_MESSAGE_TYPE);
  assert_condition ("{\"version\":\"1.0\",\"open\":null,\"from\":\"" A "\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_MESSAGE_TYPE);
}

static void
test_not_authorized (void)
{
  assert_condition ("{\"auth\":\"rsa\",\"from\":\"" A "\",\"signature\":\"" SIGNATURE "\"}",
                    TC_CONDITION_NOT_AUTHORIZED);
  assert_condition ("{\"auth\":\"\",\"from\":\"" A "\",\"signature\":\"" SIGNATURE "\"}",
                    TC_CONDITION_NOT_AUTHORIZED);
}

static void
test_precedence (void)
{
  /* A field with a condition of its own beats bad-format… */
  assert_condition ("{\"open\":\"message\",\"from\":\"" A "\"}",
                    TC_CONDITION_UNSUPPORTED_VERSION);
  assert_condition ("{\"message\":\"hi\",\"from\":\"nobody\",\"to\":\"" B "\",\"date\":\"" DATE "\"}",
                    TC_CONDITION_INVALID_FROM);
  assert_condition ("{\"open\":\"message\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_VERSION);
  assert_condition ("{\"version\":\"1.0\",\"open\":\"chat\"}",
                    TC_CONDITION_UNSUPPORTED_MESSAGE_TYPE);
  assert_condition ("{\"auth\":\"rsa\",\"from\":\"" A "\"}",
                    TC_CONDITION_NOT_AUTHORIZED);
  assert_condition ("{\"ack\":\"maybe\",\"from\":7}",
                    TC_CONDITION_INVALID_FROM);
  assert_condition ("{\"error\":\"teapot\",\"from\":7}",
                    TC_CONDITION_INVALID_FROM);

  /* …and among them: from, then version, then the kind's own value. */
  assert_condition ("{\"version\":\"x\",\"open\":\"chat\",\"from\":\"nobody\",\"to\":\"" B "\"}",
                    TC_CONDITION_INVALID_FROM);
  assert_condition ("{\"version\":\"x\",\"open\":\"chat\",\"from\":\"" A "\",\"to\":\"" B "\"}",
                    TC_CONDITION_UNSUPPORTED_VERSION);
  assert_condition ("{\"auth\":\"rsa\",\"from\":\"nobody\"}",
                    TC_CONDITION_INVALID_FROM);

  /* The number of kind keys is checked before any field. */
  assert_condition ("{\"version\":\"x\",\"open\":\"chat\",\"close\":true,\"from\":\"nobody\"}",
                    TC_CONDITION_BAD_FORMAT);

  /* Encoding before syntax, syntax before everything else. */
  assert_condition ("{\"ready\":true,\"from\":\"\xff\"", TC_CONDITION_UNSUPPORTED_ENCODING);
  assert_condition ("{\"ready\":true,\"from\":\"nobody\"", TC_CONDITION_INVALID_JSON);
}

static void
test_duplicate_and_unknown (void)
{
  g_autoptr(TcJmu) dup = NULL;
  g_autoptr(TcJmu) empty = NULL;
  g_autoptr(TcJmu) future = NULL;
  g_autoptr(TcJmu) extra = NULL;

  /* json-glib keeps the last of duplicate members (documented). */
  dup = parse_ok ("{\"ping\":\"first\",\"ping\":\"last\",\"from\":\"" A "\"}", TC_JMU_KIND_PING);
  g_assert_cmpstr (tc_jmu_get_value_string (dup), ==, "last");

  empty = parse_ok ("{}", TC_JMU_KIND_UNKNOWN);
  future = parse_ok ("{\"x-voice-call\":{\"size\":1},\"from\":\"" A "\"}", TC_JMU_KIND_UNKNOWN);
  g_assert_cmpstr (tc_jmu_get_from (future), ==, A);

  extra = parse_ok ("{\"typing\":\"active\",\"from\":\"" A "\",\"x-new\":[1,{\"y\":null}],\"to\":5}",
                    TC_JMU_KIND_TYPING);
}

static void
test_round_trip (void)
{
  /* Text that must survive: line breaks of every kind, quotes, controls,
   * non-ASCII and characters outside the BMP. */
  static const char text[] = "line 1\nline 2\r\n\u2028\u2029 \"q\" \\ / \t\x01\x1f\x7f é ✓ 😀";
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *date = tc_jmu_format_date (now);
  struct {
    char      *line;
    TcJmuKind  kind;
    const char *value;
  } cases[] = {
    { tc_jmu_build_open ("1.0", "message", A, B), TC_JMU_KIND_OPEN, "message" },
    { tc_jmu_build_open_file ("1.0", TID, A, B), TC_JMU_KIND_OPEN, "file" },
    { tc_jmu_build_ack ("1.0", B, A, SID, CHALLENGE), TC_JMU_KIND_ACK, NULL },
    { tc_jmu_build_auth (A, SIGNATURE), TC_JMU_KIND_AUTH, "ed25519" },
    { tc_jmu_build_ready (B), TC_JMU_KIND_READY, NULL },
    { tc_jmu_build_message (text, "mid-1", A, B, date), TC_JMU_KIND_MESSAGE, text },
    { tc_jmu_build_receipt ("mid-1", B), TC_JMU_KIND_RECEIPT, "mid-1" },
    { tc_jmu_build_status ("away", text, A), TC_JMU_KIND_STATUS, "away" },
    { tc_jmu_build_status ("xa", NULL, A), TC_JMU_KIND_STATUS, "xa" },
    { tc_jmu_build_profile ("Ålice", text, A), TC_JMU_KIND_PROFILE, NULL },
    { tc_jmu_build_typing ("composing", A), TC_JMU_KIND_TYPING, "composing" },
    { tc_jmu_build_contact_request ("Ålice", text, A), TC_JMU_KIND_CONTACT_REQUEST, NULL },
    { tc_jmu_build_contact_accept (A), TC_JMU_KIND_CONTACT_ACCEPT, NULL },
    { tc_jmu_build_contact_decline (A), TC_JMU_KIND_CONTACT_DECLINE, NULL },
    { tc_jmu_build_ping ("tok", A), TC_JMU_KIND_PING, "tok" },
    { tc_jmu_build_pong ("tok", B), TC_JMU_KIND_PONG, "tok" },
    { tc_jmu_build_close (A), TC_JMU_KIND_CLOSE, NULL },
    { tc_jmu_build_close_ack (B), TC_JMU_KIND_CLOSE_ACK, "close" },
    { tc_jmu_build_error (TC_CONDITION_RESET, text, A), TC_JMU_KIND_ERROR, "reset" },
    { tc_jmu_build_error (TC_CONDITION_INVALID_JSON, NULL, NULL), TC_JMU_KIND_ERROR, "invalid-json" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(TcJmu) jmu = parse_built (cases[i].line, cases[i].kind);

      g_assert_cmpstr (tc_jmu_get_value_string (jmu), ==, cases[i].value);
      /* U+2028 and U+2029 are written as escapes, never raw. */
      g_assert_null (strstr (cases[i].line, "\u2028"));
      g_assert_null (strstr (cases[i].line, "\u2029"));
    }

  {
    g_autoptr(TcJmu) message = parse_built (cases[5].line, TC_JMU_KIND_MESSAGE);
    g_autoptr(TcJmu) status = parse_built (cases[7].line, TC_JMU_KIND_STATUS);
    g_autoptr(TcJmu) plain = parse_built (cases[8].line, TC_JMU_KIND_STATUS);
    g_autoptr(TcJmu) profile = parse_built (cases[9].line, TC_JMU_KIND_PROFILE);
    g_autoptr(TcJmu) request = parse_built (cases[11].line, TC_JMU_KIND_CONTACT_REQUEST);
    g_autoptr(TcJmu) error = parse_built (cases[18].line, TC_JMU_KIND_ERROR);
    g_autoptr(TcJmu) early = parse_built (cases[19].line, TC_JMU_KIND_ERROR);

    g_assert_cmpstr (tc_jmu_get_string (message, "id"), ==, "mid-1");
    g_assert_cmpstr (tc_jmu_get_from (message), ==, A);
    g_assert_cmpstr (tc_jmu_get_string (message, "to"), ==, B);
    g_assert_cmpstr (tc_jmu_get_string (message, "date"), ==, date);
    g_assert_cmpstr (tc_jmu_get_string (status, "text"), ==, text);
    g_assert_null (tc_jmu_get_string (plain, "text"));
    g_assert_cmpstr (json_object_get_string_member (tc_jmu_get_value_object (profile), "name"), ==, "Ålice");
    g_assert_cmpstr (json_object_get_string_member (tc_jmu_get_value_object (profile), "text"), ==, text);
    g_assert_cmpstr (json_object_get_string_member (tc_jmu_get_value_object (request), "text"), ==, text);
    g_assert_cmpstr (tc_jmu_get_string (error, "text"), ==, text);
    g_assert_null (tc_jmu_get_from (early));
    g_assert_false (json_object_has_member (tc_jmu_get_object (early), "text"));
  }

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    g_free (cases[i].line);
}

static void
test_build_exact (void)
{
  g_autofree char *open = tc_jmu_build_open ("1.0", "message", A, B);
  g_autofree char *ack = tc_jmu_build_ack ("1.0", B, A, SID, CHALLENGE);
  g_autofree char *auth = tc_jmu_build_auth (A, SIGNATURE);
  g_autofree char *message = tc_jmu_build_message ("a\nb\u2028c", "m1", A, B, DATE);
  g_autofree char *status = tc_jmu_build_status ("away", "out", A);
  g_autofree char *error = tc_jmu_build_error (TC_CONDITION_HOST_UNKNOWN, NULL, NULL);
  g_autofree char *close_ack = tc_jmu_build_close_ack (B);

  g_assert_cmpstr (open, ==, "{\"version\":\"1.0\",\"open\":\"message\",\"from\":\"" A "\",\"to\":\"" B "\"}\n");
  g_assert_cmpstr (ack, ==, ACK_LINE);
  g_assert_cmpstr (auth, ==, AUTH_LINE);
  g_assert_cmpstr (message, ==, "{\"message\":\"a\\nb\\u2028c\",\"id\":\"m1\",\"from\":\"" A "\","
                   "\"to\":\"" B "\",\"date\":\"" DATE "\"}\n");
  g_assert_cmpstr (status, ==, "{\"status\":\"away\",\"text\":\"out\",\"from\":\"" A "\"}\n");
  g_assert_cmpstr (error, ==, "{\"error\":\"host-unknown\"}\n");
  g_assert_cmpstr (close_ack, ==, "{\"ack\":\"close\",\"from\":\"" B "\"}\n");
}

static void
test_version (void)
{
  static const struct {
    const char *str;
    guint major, minor;
  } good[] = {
    { "1.0", 1, 0 },
    { "1.1", 1, 1 },
    { "1.01", 1, 1 },
    { "001.000", 1, 0 },
    { "0.9", 0, 9 },
    { "65535.65535", 65535, 65535 },
    { "00000000000000000000012.3", 12, 3 },
  };
  static const char * const bad[] = {
    "1", "1.", ".1", ".", "", "-1.0", "+1.0", "1.-0", "1.0.0", "a.b", "1.a",
    "99999.0", "65536.0", "1.65536", " 1.0", "1.0 ", "1 .0", "1,0", "1.0\n",
    "4294967297.0", "١.٠",
  };
  static const struct {
    const char *a, *b;
    int cmp;
  } order[] = {
    { "1.0", "1.1", -1 },
    { "2.4", "2.13", -1 },
    { "2.13", "12.3", -1 },
    { "1.01", "1.1", 0 },
    { "1.10", "1.9", 1 },
    { "2.0", "1.99", 1 },
    { "0.9", "1.0", -1 },
  };
  guint major, minor;

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_assert_true (tc_version_parse (good[i].str, &major, &minor));
      g_assert_cmpuint (major, ==, good[i].major);
      g_assert_cmpuint (minor, ==, good[i].minor);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      if (tc_version_parse (bad[i], &major, &minor))
        g_error ("accepted version \"%s\"", bad[i]);
    }
  g_assert_false (tc_version_parse (NULL, &major, &minor));

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      guint a_major, a_minor, b_major, b_minor;
      int cmp;

      g_assert_true (tc_version_parse (order[i].a, &a_major, &a_minor));
      g_assert_true (tc_version_parse (order[i].b, &b_major, &b_minor));
      cmp = tc_version_compare (a_major, a_minor, b_major, b_minor);
      g_assert_cmpint (CLAMP (cmp, -1, 1), ==, order[i].cmp);
      cmp = tc_version_compare (b_major, b_minor, a_major, a_minor);
      g_assert_cmpint (CLAMP (cmp, -1, 1), ==, -order[i].cmp);
    }
}

static void
test_date (void)
{
  static const struct {
    const char *str;
    gint64 unix_time;
    int usec;
  } good[] = {
    { "2026-11-22T10:04:05Z", 1795341845, 0 },
    { "2026-11-22t10:04:05z", 1795341845, 0 },
    { "2026-11-22T10:04:05+00:00", 1795341845, 0 },
    { "2026-11-22T10:04:05.5Z", 1795341845, 500000 },
    { "2026-11-22T10:04:05.123456789Z", 1795341845, 123456 },
    { "1970-01-01T00:00:00Z", 0, 0 },
    { "2024-02-29T23:59:59Z", 1709251199, 0 },
    /* A leap second stays within its minute. */
    { "2016-12-31T23:59:60Z", 1483228799, 999999 },
  };
  static const char * const bad[] = {
    "", "2026-11-22", "2026-11-22T10:04:05", "2026-11-22T10:04Z",
    "2026-11-22T10:04:05+01:00", "2026-11-22T10:04:05-00:00",
    "2026-11-22T10:04:05+0000", "2026-11-22 10:04:05Z", "2026-11-22T10:04:05.Z",
    "2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-11-31T00:00:00Z",
    "2026-11-22T24:00:00Z", "2026-11-22T10:60:00Z", "2026-11-22T10:04:61Z",
    "0000-01-01T00:00:00Z", "26-11-22T10:04:05Z", "2026-11-22T10:04:05ZZ",
    "+2026-11-22T10:04:05Z", "2026-1-22T10:04:05Z", " 2026-11-22T10:04:05Z",
    "2026-11-22T10:04:05Z ", "1795341845",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GDateTime) date = tc_jmu_parse_date (good[i].str);

      g_assert_nonnull (date);
      g_assert_cmpint (g_date_time_to_unix (date), ==, good[i].unix_time);
      g_assert_cmpint (g_date_time_get_microsecond (date), ==, good[i].usec);
      g_assert_cmpint (g_date_time_get_utc_offset (date), ==, 0);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GDateTime) date = tc_jmu_parse_date (bad[i]);

      if (date != NULL)
        g_error ("accepted date \"%s\"", bad[i]);
    }
  g_assert_null (tc_jmu_parse_date (NULL));

  {
    g_autoptr(GTimeZone) tz = g_time_zone_new_offset (-5 * 3600);
    g_autoptr(GDateTime) local = g_date_time_new (tz, 2026, 11, 22, 5, 4, 5.75);
    g_autoptr(GDateTime) early = g_date_time_new_utc (9, 1, 2, 3, 4, 5);
    g_autofree char *str = tc_jmu_format_date (local);
    g_autofree char *early_str = tc_jmu_format_date (early);
    g_autoptr(GDateTime) back = tc_jmu_parse_date (str);

    /* Whole seconds, in UTC. */
    g_assert_cmpstr (str, ==, "2026-11-22T10:04:05Z");
    g_assert_cmpint (g_date_time_to_unix (back), ==, g_date_time_to_unix (local));
    g_assert_cmpstr (early_str, ==, "0009-01-02T03:04:05Z");
  }
}

static void
test_auth_payload (void)
{
  g_autofree char *payload = tc_jmu_auth_payload (SID, CHALLENGE, A, B);

  g_assert_cmpstr (payload, ==, PAYLOAD);
  g_assert_cmpstr (payload, ==,
                   "torchat-auth:Vq3xT9_kLm-2:QEFCQ0RFRkdISUpLTE1OT1BRUlNUVVZXWFlaW1xdXl8=:"
                   "aoqqpp7tzyil4hlq3umoos6atft6jvrqtosq2xy53sdgiesvgg4bqead.onion:"
                   "fgwlvykbxtfpbmrodkkngtily43b4utnbp7bfsexss6jgiuwnxluewad.onion");
  g_assert_cmpuint (strlen (payload), ==, 13 + 12 + 1 + 44 + 1 + 62 + 1 + 62);
}

static void
test_vectors (void)
{
  guint8 seed_a[32], seed_b[32], public_a[32], public_b[32];
  guint8 expanded[64], signature[64];
  g_autofree char *public_a_hex = NULL;
  g_autofree char *public_b_hex = NULL;
  g_autofree char *expanded_hex = NULL;
  g_autofree char *address_a = NULL;
  g_autofree char *address_b = NULL;
  g_autofree char *ack_line = NULL;
  g_autofree char *payload = NULL;
  g_autofree char *signature_b64 = NULL;
  g_autofree char *auth_line = NULL;
  g_autoptr(TcJmu) ack = NULL;
  g_autoptr(TcJmu) auth = NULL;
  g_autoptr(GBytes) sent = NULL;
  struct sha512_ctx sha;

  for (int i = 0; i < 32; i++)
    {
      seed_a[i] = i;
      seed_b[i] = 0x20 + i;
    }

  ed25519_sha512_public_key (public_a, seed_a);
  ed25519_sha512_public_key (public_b, seed_b);
  public_a_hex = hex (public_a, 32);
  public_b_hex = hex (public_b, 32);
  g_assert_cmpstr (public_a_hex, ==, PUBLIC_A);
  g_assert_cmpstr (public_b_hex, ==, PUBLIC_B);

  sha512_init (&sha);
  sha512_update (&sha, sizeof seed_a, seed_a);
  sha512_digest (&sha, sizeof expanded, expanded);
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  expanded_hex = hex (expanded, 64);
  g_assert_cmpstr (expanded_hex, ==, EXPANDED_A);

  address_a = tc_address_from_public_key (public_a);
  address_b = tc_address_from_public_key (public_b);
  g_assert_cmpstr (address_a, ==, A);
  g_assert_cmpstr (address_b, ==, B);
  g_assert_true (tc_address_is_valid (A));
  g_assert_true (tc_address_is_valid (B));
  g_assert_false (tc_address_is_valid (BAD_CHECKSUM));

  /* B answers A's open with the example ack; A signs. */
  ack_line = tc_jmu_build_ack ("1.0", address_b, address_a, SID, CHALLENGE);
  g_assert_cmpstr (ack_line, ==, ACK_LINE);
  ack = parse_built (ack_line, TC_JMU_KIND_ACK);

  payload = tc_jmu_auth_payload (tc_jmu_get_string (ack, "id"),
                                 tc_jmu_get_string (ack, "challenge"),
                                 address_a, tc_jmu_get_from (ack));
  g_assert_cmpstr (payload, ==, PAYLOAD);

  ed25519_sha512_sign (public_a, seed_a, strlen (payload), (const guint8 *) payload, signature);
  signature_b64 = g_base64_encode (signature, sizeof signature);
  g_assert_cmpstr (signature_b64, ==, SIGNATURE);

  auth_line = tc_jmu_build_auth (address_a, signature_b64);
  g_assert_cmpstr (auth_line, ==, AUTH_LINE);
  auth = parse_built (auth_line, TC_JMU_KIND_AUTH);
  sent = tc_jmu_dup_signature (auth);
  g_assert_cmpmem (g_bytes_get_data (sent, NULL), g_bytes_get_size (sent),
                   signature, sizeof signature);

  g_assert_true (ed25519_sha512_verify (public_a, strlen (payload),
                                        (const guint8 *) payload, signature));
  /* Neither B's key nor a payload with the roles swapped verifies. */
  g_assert_false (ed25519_sha512_verify (public_b, strlen (payload),
                                         (const guint8 *) payload, signature));
  {
    g_autofree char *swapped = tc_jmu_auth_payload (SID, CHALLENGE, B, A);

    g_assert_false (ed25519_sha512_verify (public_a, strlen (swapped),
                                           (const guint8 *) swapped, signature));
  }
}

/* The same vectors through TcIdentity, the code that really signs. */
static void
test_vectors_identity (void)
{
  g_autoptr(TcIdentity) identity = NULL;
  g_autofree char *expanded_hex = NULL;
  g_autofree char *blob = NULL;
  g_autofree char *signature_b64 = NULL;
  guint8 seed[TC_SEED_LEN], expanded[TC_EXPANDED_KEY_LEN], signature[64];
  const char *payload = PAYLOAD;

  for (int i = 0; i < TC_SEED_LEN; i++)
    seed[i] = i;

  identity = tc_identity_new_from_seed (seed);
  g_assert_cmpstr (tc_identity_get_address (identity), ==, A);

  tc_identity_get_expanded_key (identity, expanded);
  expanded_hex = hex (expanded, sizeof expanded);
  g_assert_cmpstr (expanded_hex, ==, EXPANDED_A);

  blob = tc_identity_dup_tor_key_blob (identity);
  g_assert_cmpstr (blob, ==, TOR_KEY_BLOB);

  tc_identity_sign (identity, (const guint8 *) payload, strlen (payload), signature);
  signature_b64 = g_base64_encode (signature, sizeof signature);
  g_assert_cmpstr (signature_b64, ==, SIGNATURE);
  g_assert_true (tc_identity_verify (A, (const guint8 *) payload, strlen (payload), signature));
  g_assert_false (tc_identity_verify (B, (const guint8 *) payload, strlen (payload), signature));
}

static void
test_file_vectors (void)
{
  static const struct { const char *built; const char *expected; TcJmuKind kind; } v[] = {
    { NULL, "{\"version\":\"1.0\",\"open\":\"file\",\"file\":\"" TID "\",\"from\":\"" A
            "\",\"to\":\"" B "\"}\n", TC_JMU_KIND_OPEN },
    { NULL, "{\"file-offer\":{\"id\":\"" TID "\",\"name\":\"hello.txt\",\"size\":11,\"sha256\":\""
            HELLO_SHA256 "\",\"mime\":\"text/plain\"},\"from\":\"" A "\"}\n", TC_JMU_KIND_FILE_OFFER },
    { NULL, "{\"file-accept\":{\"id\":\"" TID "\",\"offset\":6},\"from\":\"" B "\"}\n",
      TC_JMU_KIND_FILE_ACCEPT },
    { NULL, "{\"file-decline\":{\"id\":\"" TID "\"},\"from\":\"" B "\"}\n", TC_JMU_KIND_FILE_DECLINE },
    { NULL, "{\"file-done\":{\"id\":\"" TID "\"},\"from\":\"" B "\"}\n", TC_JMU_KIND_FILE_DONE },
    { NULL, "{\"file-error\":{\"id\":\"" TID "\",\"error\":\"checksum-mismatch\",\"text\":"
            "\"the file does not match its checksum\"},\"from\":\"" B "\"}\n", TC_JMU_KIND_FILE_ERROR },
    { NULL, "{\"file-cancel\":{\"id\":\"" TID "\"},\"from\":\"" A "\"}\n", TC_JMU_KIND_FILE_CANCEL },
    { NULL, "{\"chunk\":\"aGVsbG8g\",\"offset\":0,\"from\":\"" A "\"}\n", TC_JMU_KIND_CHUNK },
    { NULL, "{\"chunk\":\"d29ybGQ=\",\"offset\":6,\"from\":\"" A "\"}\n", TC_JMU_KIND_CHUNK },
  };
  char *built[G_N_ELEMENTS (v)];

  built[0] = tc_jmu_build_open_file ("1.0", TID, A, B);
  built[1] = tc_jmu_build_file_offer (TID, "hello.txt", 11, HELLO_SHA256, "text/plain", A);
  built[2] = tc_jmu_build_file_accept (TID, 6, B);
  built[3] = tc_jmu_build_file_id (TC_JMU_KIND_FILE_DECLINE, TID, B);
  built[4] = tc_jmu_build_file_id (TC_JMU_KIND_FILE_DONE, TID, B);
  built[5] = tc_jmu_build_file_error (TID, "checksum-mismatch",
                                      "the file does not match its checksum", B);
  built[6] = tc_jmu_build_file_id (TC_JMU_KIND_FILE_CANCEL, TID, A);
  built[7] = tc_jmu_build_chunk ((const guint8 *) "hello world", 6, 0, A);
  built[8] = tc_jmu_build_chunk ((const guint8 *) "hello world" + 6, 5, 6, A);

  for (guint i = 0; i < G_N_ELEMENTS (v); i++)
    {
      g_autoptr(TcJmu) jmu = NULL;

      g_assert_cmpstr (built[i], ==, v[i].expected);
      jmu = parse_built (built[i], v[i].kind);
      if (v[i].kind == TC_JMU_KIND_OPEN)
        g_assert_cmpstr (tc_jmu_get_string (jmu, "file"), ==, TID);
      else if (v[i].kind != TC_JMU_KIND_CHUNK)
        g_assert_cmpstr (tc_jmu_get_file_id (jmu), ==, TID);
      g_free (built[i]);
    }

  /* What the chunks carry, and the offer's numbers. */
  {
    g_autoptr(TcJmu) chunk = parse_ok ("{\"chunk\":\"d29ybGQ=\",\"offset\":6,\"from\":\"" A "\"}",
                                       TC_JMU_KIND_CHUNK);
    g_autoptr(GBytes) data = tc_jmu_dup_chunk (chunk);
    g_autoptr(TcJmu) offer = parse_ok ("{\"file-offer\":{\"id\":\"" TID "\",\"name\":\"a\",\"size\":"
                                       "9007199254740991,\"sha256\":\"" HELLO_SHA256 "\",\"mime\":\"x\"},"
                                       "\"from\":\"" A "\"}", TC_JMU_KIND_FILE_OFFER);

    g_assert_cmpmem (g_bytes_get_data (data, NULL), g_bytes_get_size (data), "world", 5);
    g_assert_cmpint (tc_jmu_get_int (chunk, "offset"), ==, 6);
    g_assert_cmpint (tc_jmu_get_int (offer, "size"), ==, TC_FILE_MAX_SIZE);
  }
}

static void
test_file_bad_format (void)
{
#define OFFER(fields) "{\"file-offer\":{" fields "},\"from\":\"" A "\"}"
#define GOOD_SHA "\"sha256\":\"" HELLO_SHA256 "\""
  static const char * const bad[] = {
    /* ids */
    "{\"file-done\":{\"id\":\"short\"},\"from\":\"" A "\"}",
    "{\"file-done\":{\"id\":\"Tx7Qe0sLrVq3xT9k/../..\"},\"from\":\"" A "\"}",
    "{\"file-done\":{},\"from\":\"" A "\"}",
    "{\"file-done\":\"" TID "\",\"from\":\"" A "\"}",
    "{\"file-done\":{\"id\":\"" TID "\"}}",
    /* offers: size, name, checksum, type */
    OFFER ("\"id\":\"" TID "\",\"name\":\"a\",\"size\":-1," GOOD_SHA ",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"name\":\"a\",\"size\":9007199254740992," GOOD_SHA ",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"name\":\"a\",\"size\":1.5," GOOD_SHA ",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"name\":\"a\",\"size\":1e3," GOOD_SHA ",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"name\":\"a\",\"size\":\"11\"," GOOD_SHA ",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"name\":\"\",\"size\":11," GOOD_SHA ",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"size\":11," GOOD_SHA ",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"name\":\"a\",\"size\":11,\"sha256\":\"B94D\",\"mime\":\"x\""),
    OFFER ("\"id\":\"" TID "\",\"name\":\"a\",\"size\":11," GOOD_SHA),
    /* accept offsets, errors */
    "{\"file-accept\":{\"id\":\"" TID "\"},\"from\":\"" B "\"}",
    "{\"file-accept\":{\"id\":\"" TID "\",\"offset\":-6},\"from\":\"" B "\"}",
    "{\"file-error\":{\"id\":\"" TID "\"},\"from\":\"" B "\"}",
    "{\"file-error\":{\"id\":\"" TID "\",\"error\":\"\"},\"from\":\"" B "\"}",
    "{\"file-error\":{\"id\":\"" TID "\",\"error\":\"io-error\",\"text\":5},\"from\":\"" B "\"}",
    /* chunks: empty, not base64, not canonical, unpadded, no offset */
    "{\"chunk\":\"\",\"offset\":0,\"from\":\"" A "\"}",
    "{\"chunk\":\"d29ybGQ\",\"offset\":0,\"from\":\"" A "\"}",
    "{\"chunk\":\"d29ybGR=\",\"offset\":0,\"from\":\"" A "\"}",
    "{\"chunk\":\"d29y-GQ=\",\"offset\":0,\"from\":\"" A "\"}",
    "{\"chunk\":\"d29ybGQ=\",\"from\":\"" A "\"}",
    "{\"chunk\":\"d29ybGQ=\",\"offset\":-1,\"from\":\"" A "\"}",
    "{\"chunk\":\"d29ybGQ=\",\"offset\":01,\"from\":\"" A "\"}",
    "{\"chunk\":true,\"offset\":0,\"from\":\"" A "\"}",
    /* two kinds; an open "file" without its id */
    "{\"chunk\":\"d29ybGQ=\",\"offset\":0,\"close\":true,\"from\":\"" A "\"}",
    "{\"version\":\"1.0\",\"open\":\"file\",\"from\":\"" A "\",\"to\":\"" B "\"}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      /* "01" is not JSON at all. */
      TcCondition expected = strstr (bad[i], ":01,") ? TC_CONDITION_INVALID_JSON
                                                     : TC_CONDITION_BAD_FORMAT;
      assert_condition (bad[i], expected);
    }

  /* A chunk from someone with a broken address is invalid-from, fast path
   * or not. */
  assert_condition ("{\"chunk\":\"d29ybGQ=\",\"offset\":0,\"from\":\"" BAD_CHECKSUM "\"}",
                    TC_CONDITION_INVALID_FROM);
  /* An unknown error name is accepted (taken as io-error by nodes). */
  g_autoptr(TcJmu) jmu = parse_ok ("{\"file-error\":{\"id\":\"" TID "\",\"error\":\"cosmic-ray\"},"
                                   "\"from\":\"" B "\"}", TC_JMU_KIND_FILE_ERROR);
#undef OFFER
#undef GOOD_SHA
}

/* The chunk fast path answers exactly like the general parser. */
static void
test_chunk_fast_path (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree guint8 *data = g_malloc (TC_CHUNK_SIZE);

  for (gsize i = 0; i < TC_CHUNK_SIZE; i++)
    data[i] = g_rand_int (rand);

  for (guint round = 0; round < 200; round++)
    {
      gsize len = round == 0 ? TC_CHUNK_SIZE : g_rand_int_range (rand, 1, 300);
      g_autofree char *line = tc_jmu_build_chunk (data, len, round * 1000, A);
      gsize n = strlen (line) - 1;
      g_autoptr(TcJmu) jmu = NULL;
      g_autoptr(GBytes) got = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) fast_error = NULL;

      g_assert_cmpuint (n, <=, TC_JMU_MAX_LINE);
      jmu = tc_jmu_parse (line, n, &error);
      g_assert_no_error (error);
      got = tc_jmu_dup_chunk (jmu);
      g_assert_cmpmem (g_bytes_get_data (got, NULL), g_bytes_get_size (got), data, len);
      g_assert_cmpint (tc_jmu_get_int (jmu, "offset"), ==, round * 1000);

      /* One byte changed anywhere: the same verdict as a parse that skips
       * the fast path (the line with a leading space). */
      if (round > 0)
        {
          g_autofree char *mutated = g_strdup (line);
          g_autofree char *spaced = NULL;
          g_autoptr(TcJmu) a = NULL;
          g_autoptr(TcJmu) b = NULL;
          g_autoptr(GError) error_b = NULL;
          gsize pos = g_rand_int_range (rand, 0, n);

          mutated[pos] = "A=\"0-,9}x"[g_rand_int_range (rand, 0, 9)];
          spaced = g_strconcat (" ", mutated, NULL);
          a = tc_jmu_parse (mutated, n, &fast_error);
          b = tc_jmu_parse (spaced, n + 1, &error_b);
          g_assert_true ((a == NULL) == (b == NULL));
          if (a == NULL)
            g_assert_cmpint (fast_error->code, ==, error_b->code);
          else
            {
              g_autoptr(GBytes) da = tc_jmu_dup_chunk (a);
              g_autoptr(GBytes) db = tc_jmu_dup_chunk (b);

              g_assert_cmpint (tc_jmu_get_kind (a), ==, tc_jmu_get_kind (b));
              if (da != NULL || db != NULL)
                g_assert_true (g_bytes_equal (da, db));
            }
        }
    }
}

/* The chunk codec (tables, and 16 characters at a time where the CPU has
 * SSSE3) against GLib's: the same base64 for every length, the same bytes
 * back, and "canonical padded base64" decided exactly as re-encoding what
 * GLib decodes would, for every byte value in every place of a string long
 * enough to go through both paths. */
static void
test_chunk_base64 (void)
{
  g_autoptr(GRand) rand = g_rand_new_with_seed (11);
  static const gsize sizes[] = { 1000, 4099, 65536, TC_CHUNK_SIZE };
  g_autofree guint8 *data = g_malloc (TC_CHUNK_SIZE);
  g_autofree guint8 *back = g_malloc (TC_CHUNK_SIZE + 16);
  g_autofree char *text = g_malloc (TC_CHUNK_SIZE / 3 * 4 + 8);
  g_autofree char *base = NULL;

  for (gsize i = 0; i < TC_CHUNK_SIZE; i++)
    data[i] = g_rand_int (rand);

  for (gsize k = 0; k < 200 + G_N_ELEMENTS (sizes); k++)
    {
      gsize len = k < 200 ? k : sizes[k - 200];
      g_autofree char *want = g_base64_encode (data, len);
      gsize n = _tc_file_base64_encode (data, len, text);

      g_assert_cmpmem (text, n, want, strlen (want));
      if (len > 0)
        g_assert_cmpint (_tc_file_base64_decode (text, n, back), ==, len);
      if (len > 0)
        g_assert_cmpmem (back, len, data, len);
    }

  base = g_base64_encode (data, 46);  /* 64 characters, two of them "=" */
  for (gsize pos = 0; pos < strlen (base); pos++)
    for (guint c = 1; c < 256; c++)
      {
        g_autofree char *s = g_strdup (base);
        g_autofree guchar *ref = NULL;
        g_autofree char *again = NULL;
        gsize ref_len;
        gssize got;

        s[pos] = c;
        ref = g_base64_decode (s, &ref_len);
        again = g_base64_encode (ref, ref_len);
        got = _tc_file_base64_decode (s, strlen (s), back);
        if (g_str_equal (again, s))
          {
            g_assert_cmpint (got, ==, ref_len);
            g_assert_cmpmem (back, got, ref, ref_len);
          }
        else if (got >= 0)
          g_error ("%s accepted as canonical base64 (byte %u at %" G_GSIZE_FORMAT ")", s, c, pos);
      }
}

static void
test_boxed (void)
{
  TcJmu *jmu = parse_ok ("{\"ready\":true,\"from\":\"" B "\"}", TC_JMU_KIND_READY);
  TcJmu *copy;
  JsonObject *object = tc_jmu_get_object (jmu);

  g_assert_true (G_TYPE_IS_BOXED (TC_TYPE_JMU));
  g_assert_cmpstr (g_type_name (TC_TYPE_JMU), ==, "TcJmu");

  copy = g_boxed_copy (TC_TYPE_JMU, jmu);
  g_assert_true (copy == jmu);
  tc_jmu_unref (jmu);

  /* Still alive through the copy's reference. */
  g_assert_true (tc_jmu_get_object (copy) == object);
  g_assert_cmpstr (tc_jmu_get_from (copy), ==, B);
  g_boxed_free (TC_TYPE_JMU, copy);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/jmu/condition-strings", test_condition_strings);
  g_test_add_func ("/jmu/parse/unsupported-encoding", test_encoding);
  g_test_add_func ("/jmu/parse/invalid-json", test_invalid_json);
  g_test_add_func ("/jmu/parse/valid-json", test_valid_json);
  g_test_add_func ("/jmu/parse/depth", test_depth);
  g_test_add_func ("/jmu/parse/kinds", test_kinds);
  g_test_add_func ("/jmu/parse/bad-format", test_bad_format);
  g_test_add_func ("/jmu/parse/limits", test_limits);
  g_test_add_func ("/jmu/parse/invalid-from", test_invalid_from);
  g_test_add_func ("/jmu/parse/unsupported-version", test_unsupported_version);
  g_test_add_func ("/jmu/parse/unsupported-message-type", test_unsupported_message_type);
  g_test_add_func ("/jmu/parse/not-authorized", test_not_authorized);
  g_test_add_func ("/jmu/parse/precedence", test_precedence);
  g_test_add_func ("/jmu/parse/duplicate-and-unknown", test_duplicate_and_unknown);
  g_test_add_func ("/jmu/build/round-trip", test_round_trip);
  g_test_add_func ("/jmu/build/exact", test_build_exact);
  g_test_add_func ("/jmu/version", test_version);
  g_test_add_func ("/jmu/date", test_date);
  g_test_add_func ("/jmu/auth-payload", test_auth_payload);
  g_test_add_func ("/jmu/vectors", test_vectors);
  g_test_add_func ("/jmu/vectors-identity", test_vectors_identity);
  g_test_add_func ("/jmu/boxed", test_boxed);
  g_test_add_func ("/jmu/file/vectors", test_file_vectors);
  g_test_add_func ("/jmu/file/bad-format", test_file_bad_format);
  g_test_add_func ("/jmu/file/chunk-fast-path", test_chunk_fast_path);
  g_test_add_func ("/jmu/file/chunk-base64", test_chunk_base64);

  return g_test_run ();
}
