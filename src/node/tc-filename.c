/* tc-filename.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <nettle/sha2.h>

#include "tc-filename.h"

#define MAX_NAME_BYTES 255
#define MAX_NUMBER 9999

/* Names that are devices on Windows, where the file may be copied next;
 * with any extension. */
static const char * const device_names[] = {
  "con", "prn", "aux", "nul",
  "com1", "com2", "com3", "com4", "com5", "com6", "com7", "com8", "com9",
  "lpt1", "lpt2", "lpt3", "lpt4", "lpt5", "lpt6", "lpt7", "lpt8", "lpt9",
  NULL
};

static gboolean
is_device_name (const char *name)
{
  g_autofree char *lower = g_ascii_strdown (name, -1);
  char *dot = strchr (lower, '.');

  if (dot != NULL)
    *dot = '\0';
  g_strchomp (lower);

  return g_strv_contains (device_names, lower);
}

/* Cuts @str to at most @max bytes on a character boundary. */
static void
truncate_utf8 (GString *str,
               gsize    max)
{
  const char *end;

  if (str->len <= max)
    return;

  end = g_utf8_find_prev_char (str->str, str->str + max + 1);
  g_string_truncate (str, end ? (gsize) (end - str->str) : 0);
}

char *
tc_filename_sanitize (const char *offered)
{
  g_autofree char *valid = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  const char *base, *p;

  if (offered == NULL)
    offered = "";

  valid = g_utf8_make_valid (offered, -1);

  /* Only what follows the last separator of any system. */
  base = valid;
  for (p = valid; *p != '\0'; p++)
    if (*p == '/' || *p == '\\')
      base = p + 1;

  for (p = base; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (g_unichar_iscntrl (c) || c == 0x2028 || c == 0x2029 || c == 0xfffd ||
          c == ':' || c == '*' || c == '?' || c == '"' || c == '<' || c == '>' ||
          c == '|')
        g_string_append_c (out, '_');
      else
        g_string_append_unichar (out, c);
    }

  /* Not hidden, and no trailing dots or spaces (which some systems drop). */
  while (out->len > 0 && (out->str[0] == '.' || out->str[0] == ' '))
    g_string_erase (out, 0, 1);
  while (out->len > 0 && (out->str[out->len - 1] == '.' || out->str[out->len - 1] == ' '))
    g_string_truncate (out, out->len - 1);

  if (out->len == 0)
    g_string_assign (out, _("file"));
  else if (is_device_name (out->str))
    g_string_prepend_c (out, '_');

  /* Room for " (9999)" within the limit of most file systems. */
  truncate_utf8 (out, MAX_NAME_BYTES - 8);

  return g_string_free (g_steal_pointer (&out), FALSE);
}

char *
tc_filename_numbered (const char *name,
                      guint       n)
{
  const char *dot;

  g_return_val_if_fail (name != NULL, NULL);

  if (n == 0)
    return g_strdup (name);

  dot = strrchr (name, '.');
  if (dot == NULL || dot == name)
    return g_strdup_printf ("%s (%u)", name, n);

  return g_strdup_printf ("%.*s (%u)%s", (int) (dot - name), name, n, dot);
}

/* rename() that fails with EEXIST rather than replace @to. */
static int
rename_noreplace (const char *from,
                  const char *to)
{
  if (renameat2 (AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE) == 0)
    return 0;

  if (errno != EINVAL && errno != ENOSYS)
    return -1;

  /* A file system without RENAME_NOREPLACE: link() never replaces either. */
  if (link (from, to) != 0)
    return -1;

  return g_unlink (from) == 0 || errno == ENOENT ? 0 : -1;
}

char *
tc_filename_move_into_place (const char  *partial,
                             const char  *directory,
                             const char  *name,
                             GError     **error)
{
  g_return_val_if_fail (partial != NULL && directory != NULL && name != NULL, NULL);

  for (guint n = 0; n <= MAX_NUMBER; n++)
    {
      g_autofree char *candidate = tc_filename_numbered (name, n);
      g_autofree char *path = g_build_filename (directory, candidate, NULL);

      if (rename_noreplace (partial, path) == 0)
        return g_steal_pointer (&path);

      if (errno != EEXIST)
        {
          int saved = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not move the received file into place: %s"),
                       g_strerror (saved));
          return NULL;
        }
    }

  g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
               _("Too many files named “%s” already"), name);
  return NULL;
}

#define HASH_BLOCK (1024 * 1024)

typedef struct {
  char   *path;
  gint64  size;
} HashData;

static void
hash_data_free (HashData *data)
{
  g_free (data->path);
  g_free (data);
}

static void
hash_thread (GTask        *task,
             gpointer      source_object,
             gpointer      task_data,
             GCancellable *cancellable)
{
  HashData *data = task_data;
  g_autofree guint8 *block = g_malloc (HASH_BLOCK);
  struct sha256_ctx ctx;
  guint8 digest[SHA256_DIGEST_SIZE];
  char hex[2 * SHA256_DIGEST_SIZE + 1];
  gint64 total = 0;
  int fd;

  fd = g_open (data->path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;
      g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                               _("Could not read %s: %s"), data->path, g_strerror (saved));
      return;
    }

  sha256_init (&ctx);
  for (;;)
    {
      gssize n = read (fd, block, HASH_BLOCK);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;
          close (fd);
          g_task_return_new_error (task, G_IO_ERROR, g_io_error_from_errno (saved),
                                   _("Could not read %s: %s"), data->path, g_strerror (saved));
          return;
        }
      if (n == 0)
        break;
      if (g_cancellable_is_cancelled (cancellable))
        {
          close (fd);
          g_task_return_error_if_cancelled (task);
          return;
        }
      sha256_update (&ctx, n, block);
      total += n;
    }
  close (fd);

  if (total != data->size)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The file has %lld bytes, not %lld"),
                               (long long) total, (long long) data->size);
      return;
    }

  sha256_digest (&ctx, sizeof digest, digest);
  for (guint i = 0; i < sizeof digest; i++)
    g_snprintf (hex + 2 * i, 3, "%02x", digest[i]);
  g_task_return_pointer (task, g_strdup (hex), g_free);
}

void
tc_file_sha256_async (const char          *path,
                      gint64               size,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  HashData *data = g_new0 (HashData, 1);

  data->path = g_strdup (path);
  data->size = size;
  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_file_sha256_async);
  g_task_set_task_data (task, data, (GDestroyNotify) hash_data_free);
  g_task_run_in_thread (task, hash_thread);
}

char *
tc_file_sha256_finish (GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}
