/* tc-file-buffer.h: reused buffers for the bytes of file streams
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A buffer of at least @size bytes, from the pool when one fits. Chunk
 * lines and decoded chunks are 0.5-3 MB each: allocating them anew each
 * time makes the allocator hand the pages back to the kernel and fault them
 * in again, which cost more than the copies themselves. */
guint8 *tc_file_buffer_alloc    (gsize   size);
/* Back to the pool (or freed, when the pool holds enough). */
void    tc_file_buffer_free     (guint8 *buffer);
/* @length bytes of @buffer (from tc_file_buffer_alloc()) as GBytes that
 * return the buffer to the pool when the last reference goes, in any
 * thread. */
GBytes *tc_file_buffer_to_bytes (guint8 *buffer,
                                 gsize   length);

G_END_DECLS
