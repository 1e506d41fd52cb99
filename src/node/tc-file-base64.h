/* tc-file-base64.h: standard padded base64 for file chunks, fast
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Decodes @len characters of canonical standard padded base64 (RFC 4648
 * section 4: no other character, "=" only at the end, the bits padding
 * leaves unused zero) into @out, which has room for len / 4 * 3 bytes.
 * Returns the number of bytes, or -1 when @str is not such base64. */
gssize _tc_file_base64_decode (const char   *str,
                               gsize         len,
                               guint8       *out);
/* Padded base64 of @data into @out, which has room for
 * (length + 2) / 3 * 4 characters; returns their number (no NUL). */
gsize  _tc_file_base64_encode (const guint8 *data,
                               gsize         length,
                               char         *out);

G_END_DECLS
