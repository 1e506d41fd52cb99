/* tc-jmu-private.h: what the codec's parts share
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-jmu.h"

G_BEGIN_DECLS

TcJmu       *_tc_jmu_new                (TcJmuKind     kind,
                                         JsonNode     *root);
/* A chunk whose bytes the fast path decoded already (takes @data). */
TcJmu       *_tc_jmu_new_chunk          (JsonNode     *root,
                                         GBytes       *data);
GBytes      *_tc_jmu_get_chunk          (TcJmu        *self);
const char  *_tc_jmu_kind_key           (TcJmuKind     kind);
gboolean     _tc_jmu_is_base64_of       (const char   *str,
                                         gsize         n_bytes);
gboolean     _tc_jmu_bad_format         (GError      **error,
                                         const char   *member,
                                         const char   *expected);
/* An open builder object; _finish() ends it and returns the line. */
JsonBuilder *_tc_jmu_builder_begin      (void);
char        *_tc_jmu_builder_finish     (JsonBuilder  *builder);

/* tc-jmu-scan.c: strict JSON (RFC 8259). json-glib is lenient (comments,
 * single quotes, trailing garbage) and recursive; peers must not depend
 * on either, so lines are checked first. */
typedef enum {
  TC_JMU_SCAN_OK,
  TC_JMU_SCAN_SYNTAX,
  TC_JMU_SCAN_TOO_DEEP,
  TC_JMU_SCAN_ENCODING,         /* \u0000 or an unpaired surrogate */
} TcJmuScan;

TcJmuScan    _tc_jmu_scan_json          (const char   *s,
                                         gsize         n);

/* tc-jmu-file.c */
gboolean     _tc_jmu_check_file_fields  (JsonObject   *object,
                                         TcJmuKind     kind,
                                         JsonNode     *value,
                                         GError      **error);
/* A chunk line exactly as tc_jmu_build_chunk() writes it, decoded without
 * the general parser; NULL for anything else, which then takes the general
 * path and gets the same answer slower. */
TcJmu       *_tc_jmu_parse_chunk_fast   (const char   *line,
                                         gsize         length);

G_END_DECLS
