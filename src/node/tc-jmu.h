/* tc-jmu.h: JSON message units, the TORChat wire codec
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <json-glib/json-glib.h>

G_BEGIN_DECLS

/* Longest line accepted, not counting its "\n". */
#define TC_JMU_MAX_LINE 1048576
#define TC_CHALLENGE_LEN 32
#define TC_SIGNATURE_LEN 64

/* The 16 stream error conditions; also the codes of TC_JMU_ERROR. */
typedef enum {
  TC_CONDITION_BAD_FORMAT,
  TC_CONDITION_CONFLICT,
  TC_CONDITION_CONNECTION_TIMEOUT,
  TC_CONDITION_HOST_UNKNOWN,
  TC_CONDITION_IMPROPER_ADDRESSING,
  TC_CONDITION_INTERNAL_SERVER_ERROR,
  TC_CONDITION_INVALID_FROM,
  TC_CONDITION_INVALID_JSON,
  TC_CONDITION_NOT_AUTHORIZED,
  TC_CONDITION_POLICY_VIOLATION,
  TC_CONDITION_RESET,
  TC_CONDITION_RESOURCE_CONSTRAINT,
  TC_CONDITION_SYSTEM_SHUTDOWN,
  TC_CONDITION_UNSUPPORTED_ENCODING,
  TC_CONDITION_UNSUPPORTED_MESSAGE_TYPE,
  TC_CONDITION_UNSUPPORTED_VERSION,
} TcCondition;

#define TC_N_CONDITIONS (TC_CONDITION_UNSUPPORTED_VERSION + 1)
#define TC_JMU_ERROR (tc_jmu_error_quark ())

typedef enum {
  TC_JMU_KIND_UNKNOWN,         /* no kind key this node knows */
  TC_JMU_KIND_OPEN,
  TC_JMU_KIND_ACK,             /* handshake answer, "ack": true */
  TC_JMU_KIND_CLOSE_ACK,       /* "ack": "close" */
  TC_JMU_KIND_AUTH,
  TC_JMU_KIND_READY,
  TC_JMU_KIND_MESSAGE,
  TC_JMU_KIND_RECEIPT,
  TC_JMU_KIND_STATUS,
  TC_JMU_KIND_PROFILE,
  TC_JMU_KIND_TYPING,
  TC_JMU_KIND_CONTACT_REQUEST,
  TC_JMU_KIND_CONTACT_ACCEPT,
  TC_JMU_KIND_CONTACT_DECLINE,
  TC_JMU_KIND_PING,
  TC_JMU_KIND_PONG,
  TC_JMU_KIND_CLOSE,
  TC_JMU_KIND_ERROR,
  /* File transfer (docs/protocol.md section 15). */
  TC_JMU_KIND_FILE_OFFER,
  TC_JMU_KIND_FILE_ACCEPT,
  TC_JMU_KIND_FILE_DECLINE,
  TC_JMU_KIND_FILE_DONE,
  TC_JMU_KIND_FILE_ERROR,
  TC_JMU_KIND_FILE_CANCEL,
  TC_JMU_KIND_CHUNK,
} TcJmuKind;

#define TC_JMU_N_KINDS (TC_JMU_KIND_CHUNK + 1)

typedef struct _TcJmu TcJmu;

#define TC_TYPE_JMU (tc_jmu_get_type ())

GQuark        tc_jmu_error_quark          (void);
GType         tc_jmu_get_type             (void) G_GNUC_CONST;

const char   *tc_condition_to_string      (TcCondition    condition);
gboolean      tc_condition_from_string    (const char    *str,
                                           TcCondition   *condition);
const char   *tc_jmu_kind_to_string       (TcJmuKind      kind);

/* "major.minor", each a decimal integer that fits in 16 bits; leading zeros
 * are ignored. */
gboolean      tc_version_parse            (const char    *str,
                                           guint         *major,
                                           guint         *minor);
int           tc_version_compare          (guint          major_a,
                                           guint          minor_a,
                                           guint          major_b,
                                           guint          minor_b);

/* Decodes one line (without its "\n"). Checks, in this order: UTF-8
 * (unsupported-encoding), JSON syntax and object-ness (invalid-json), the
 * number of kind keys (bad-format), then the kind's fields: the fields with a
 * condition of their own first (from: invalid-from, version:
 * unsupported-version, open: unsupported-message-type), then bad-format for
 * anything else missing or mistyped. The error code is a TcCondition. A JSON
 * object with no known kind key gives TC_JMU_KIND_UNKNOWN, not an error. */
TcJmu        *tc_jmu_parse                (const char    *line,
                                           gsize          length,
                                           GError       **error);

TcJmu        *tc_jmu_ref                  (TcJmu         *self);
void          tc_jmu_unref                (TcJmu         *self);
TcJmuKind     tc_jmu_get_kind             (TcJmu         *self);
JsonObject   *tc_jmu_get_object           (TcJmu         *self);
/* NULL when absent or not a string. */
const char   *tc_jmu_get_string           (TcJmu         *self,
                                           const char    *member);
const char   *tc_jmu_get_from             (TcJmu         *self);
/* For kinds whose value is an object (profile, contact-request). */
JsonObject   *tc_jmu_get_value_object     (TcJmu         *self);
/* The kind key's value when it is a string (message text, receipt MID,
 * status, typing, ping and pong token, error condition); NULL for a chunk,
 * whose bytes tc_jmu_dup_chunk() gives. */
const char   *tc_jmu_get_value_string     (TcJmu         *self);
/* Decoded base64 members, checked by tc_jmu_parse(). */
GBytes       *tc_jmu_dup_challenge        (TcJmu         *self);
GBytes       *tc_jmu_dup_signature        (TcJmu         *self);

/* Builders. Each returns one line of UTF-8 JSON ended by "\n", members in
 * the order shown in docs/protocol.md. Optional arguments may be NULL. */
char         *tc_jmu_build_open           (const char    *version,
                                           const char    *type,
                                           const char    *from,
                                           const char    *to);
char         *tc_jmu_build_ack            (const char    *version,
                                           const char    *from,
                                           const char    *to,
                                           const char    *sid,
                                           const char    *challenge_b64);
char         *tc_jmu_build_auth           (const char    *from,
                                           const char    *signature_b64);
char         *tc_jmu_build_ready          (const char    *from);
char         *tc_jmu_build_message        (const char    *text,
                                           const char    *mid,
                                           const char    *from,
                                           const char    *to,
                                           const char    *date);
char         *tc_jmu_build_receipt        (const char    *mid,
                                           const char    *from);
char         *tc_jmu_build_status         (const char    *status,
                                           const char    *text,
                                           const char    *from);
char         *tc_jmu_build_profile        (const char    *name,
                                           const char    *text,
                                           const char    *from);
char         *tc_jmu_build_typing         (const char    *typing,
                                           const char    *from);
char         *tc_jmu_build_contact_request(const char    *name,
                                           const char    *text,
                                           const char    *from);
char         *tc_jmu_build_contact_accept (const char    *from);
char         *tc_jmu_build_contact_decline(const char    *from);
char         *tc_jmu_build_ping           (const char    *token,
                                           const char    *from);
char         *tc_jmu_build_pong           (const char    *token,
                                           const char    *from);
char         *tc_jmu_build_close          (const char    *from);
char         *tc_jmu_build_close_ack      (const char    *from);
char         *tc_jmu_build_error          (TcCondition    condition,
                                           const char    *text,
                                           const char    *from);

/* The bytes signed in the handshake: "torchat-auth:SID:C:A:B". */
char         *tc_jmu_auth_payload         (const char    *sid,
                                           const char    *challenge_b64,
                                           const char    *initiator,
                                           const char    *receiver);

/* "2026-11-22T10:04:05Z" (RFC 3339, UTC, whole seconds); parsing accepts
 * fractions and requires "Z" or an offset of zero. */
char         *tc_jmu_format_date          (GDateTime     *date);
GDateTime    *tc_jmu_parse_date           (const char    *str);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcJmu, tc_jmu_unref)

/* File transfer, in tc-jmu-file.c. */

/* Transfer identifiers: 16 to 64 of A-Z a-z 0-9 _ -. */
#define TC_TID_MIN_LEN 16
#define TC_TID_MAX_LEN 64
/* Largest size an offer may name: 2^53 - 1, exact in every JSON reader. */
#define TC_FILE_MAX_SIZE G_GINT64_CONSTANT (9007199254740991)
/* Bytes a sender puts in one chunk; its line stays well under 1 MiB. */
#define TC_CHUNK_SIZE (512 * 1024)

gboolean      tc_jmu_is_tid               (const char    *str);
/* The value object's integer member (size, offset), or -1. */
gint64        tc_jmu_get_int              (TcJmu         *self,
                                           const char    *member);
/* The "id" of the value object of a file-* JMU. */
const char   *tc_jmu_get_file_id          (TcJmu         *self);
/* The decoded bytes of a chunk; its offset is tc_jmu_get_int (jmu, "offset"). */
GBytes       *tc_jmu_dup_chunk            (TcJmu         *self);

char         *tc_jmu_build_open_file      (const char    *version,
                                           const char    *tid,
                                           const char    *from,
                                           const char    *to);
char         *tc_jmu_build_file_offer     (const char    *tid,
                                           const char    *name,
                                           gint64         size,
                                           const char    *sha256,
                                           const char    *mime,
                                           const char    *from);
char         *tc_jmu_build_file_accept    (const char    *tid,
                                           gint64         offset,
                                           const char    *from);
/* file-decline, file-done, file-cancel: @kind says which. */
char         *tc_jmu_build_file_id        (TcJmuKind      kind,
                                           const char    *tid,
                                           const char    *from);
char         *tc_jmu_build_file_error     (const char    *tid,
                                           const char    *error,
                                           const char    *text,
                                           const char    *from);
/* Base64-encodes @data itself, without json-glib: chunks are most of the
 * bytes a node writes. */
char         *tc_jmu_build_chunk          (const guint8  *data,
                                           gsize          length,
                                           gint64         offset,
                                           const char    *from);
/* The same line (with its "\n" and a NUL) written into @out, which has
 * room for tc_jmu_chunk_line_max() bytes; returns its length without the
 * NUL. Senders write several lines into one buffer this way. */
gsize         tc_jmu_chunk_line_max       (gsize          length,
                                           const char    *from);
gsize         tc_jmu_write_chunk          (const guint8  *data,
                                           gsize          length,
                                           gint64         offset,
                                           const char    *from,
                                           char          *out);

G_END_DECLS
