/* tc-filename.h: names for received files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* A name safe to create in a directory, from a name a peer offered: the
 * last component only, no control characters, not hidden, not a device
 * name, at most 255 bytes, never empty. */
char      *tc_filename_sanitize          (const char  *offered);
/* "name.ext" for @n == 0, else "name (n).ext". */
char      *tc_filename_numbered          (const char  *name,
                                          guint        n);
/* Renames @partial to @name in @directory without overwriting anything:
 * "name (1).ext", "name (2).ext" … when taken. Returns the path used. */
char      *tc_filename_move_into_place   (const char  *partial,
                                          const char  *directory,
                                          const char  *name,
                                          GError     **error);

/* SHA-256 of the first @size bytes of @path, lowercase hex, in a worker
 * thread; fails if the file is shorter or longer. */
void       tc_file_sha256_async          (const char          *path,
                                          gint64               size,
                                          GCancellable        *cancellable,
                                          GAsyncReadyCallback  callback,
                                          gpointer             user_data);
char      *tc_file_sha256_finish         (GAsyncResult        *result,
                                          GError             **error);

G_END_DECLS
