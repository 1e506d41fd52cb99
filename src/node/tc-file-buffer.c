/* tc-file-buffer.c: a small pool of big buffers
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-file-buffer.h"

/* What the pool keeps at most: a few transfers' worth of lines and
 * chunks, so the peak RSS stays a constant. */
#define POOL_MAX_BYTES (8 * 1024 * 1024)

typedef struct {
  gsize size;
  guint8 data[];
} Buffer;

static GMutex lock;
static GSList *pool;            /* of Buffer */
static gsize pool_bytes;

static Buffer *
buffer_of (guint8 *data)
{
  return (Buffer *) (data - G_STRUCT_OFFSET (Buffer, data));
}

guint8 *
tc_file_buffer_alloc (gsize size)
{
  Buffer *buffer = NULL;

  g_mutex_lock (&lock);
  for (GSList *l = pool; l != NULL; l = l->next)
    {
      Buffer *b = l->data;

      /* Not a huge one for a small need: that would waste the pool. */
      if (b->size >= size && b->size / 2 <= size)
        {
          buffer = b;
          pool = g_slist_delete_link (pool, l);
          pool_bytes -= b->size;
          break;
        }
    }
  g_mutex_unlock (&lock);

  if (buffer == NULL)
    {
      buffer = g_malloc (sizeof (Buffer) + size);
      buffer->size = size;
    }

  return buffer->data;
}

void
tc_file_buffer_free (guint8 *data)
{
  Buffer *buffer;

  if (data == NULL)
    return;

  buffer = buffer_of (data);
  g_mutex_lock (&lock);
  if (pool_bytes + buffer->size <= POOL_MAX_BYTES)
    {
      pool = g_slist_prepend (pool, buffer);
      pool_bytes += buffer->size;
      buffer = NULL;
    }
  g_mutex_unlock (&lock);

  g_free (buffer);
}

GBytes *
tc_file_buffer_to_bytes (guint8 *buffer,
                         gsize   length)
{
  g_return_val_if_fail (buffer != NULL, NULL);
  g_return_val_if_fail (length <= buffer_of (buffer)->size, NULL);

  return g_bytes_new_with_free_func (buffer, length, (GDestroyNotify) tc_file_buffer_free, buffer);
}
