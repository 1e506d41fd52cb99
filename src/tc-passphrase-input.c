/* tc-passphrase-input.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "tc-passphrase-input.h"

#define MAX_PASSPHRASE 4096

static TcPassphrase *
passphrase_new (void)
{
  TcPassphrase *passphrase = g_new0 (TcPassphrase, 1);

  if (sodium_init () < 0 || !(passphrase->text = sodium_malloc (MAX_PASSPHRASE + 1)))
    g_error ("Out of memory for a passphrase");
  passphrase->text[0] = '\0';

  return passphrase;
}

void
tc_passphrase_free (TcPassphrase *passphrase)
{
  if (passphrase == NULL)
    return;

  g_clear_pointer (&passphrase->text, sodium_free);
  g_free (passphrase);
}

static void
strip_newline (TcPassphrase *passphrase)
{
  if (passphrase->length > 0 && passphrase->text[passphrase->length - 1] == '\n')
    passphrase->length--;
  if (passphrase->length > 0 && passphrase->text[passphrase->length - 1] == '\r')
    passphrase->length--;
  passphrase->text[passphrase->length] = '\0';
}

TcPassphrase *
tc_passphrase_read_file (const char  *path,
                         GError     **error)
{
  g_autoptr(TcPassphrase) passphrase = passphrase_new ();
  struct stat st;
  int fd;

  fd = g_open (path, O_RDONLY | O_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   _("Could not open the passphrase file %s: %s"), path, g_strerror (saved));
      return NULL;
    }

  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) && (st.st_mode & 0077) != 0)
    {
      close (fd);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The passphrase file %s can be read by other users. "
                     "Run “chmod 600 %s” and start again."), path, path);
      return NULL;
    }

  while (passphrase->length <= MAX_PASSPHRASE)
    {
      ssize_t n = read (fd, passphrase->text + passphrase->length,
                        MAX_PASSPHRASE + 1 - passphrase->length);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          close (fd);
          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                       _("Could not read the passphrase file %s: %s"), path, g_strerror (saved));
          return NULL;
        }
      if (n == 0)
        break;
      passphrase->length += n;
    }
  close (fd);

  if (passphrase->length > MAX_PASSPHRASE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The passphrase file %s is longer than %d bytes"), path, MAX_PASSPHRASE);
      return NULL;
    }

  strip_newline (passphrase);
  if (passphrase->length == 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   _("The passphrase file %s is empty"), path);
      return NULL;
    }

  return g_steal_pointer (&passphrase);
}

gboolean
tc_passphrase_can_prompt (void)
{
  return isatty (STDIN_FILENO);
}

static TcPassphrase *
ask (const char  *question,
     GError     **error)
{
  g_autoptr(TcPassphrase) passphrase = passphrase_new ();
  struct termios saved, quiet;
  gboolean echo_off;
  char c;

  /* Echo off before the question: what is typed after seeing it is never
   * shown, nor discarded by the flush. */
  echo_off = tcgetattr (STDIN_FILENO, &saved) == 0;
  if (echo_off)
    {
      quiet = saved;
      quiet.c_lflag &= ~(ECHO | ECHONL);
      echo_off = tcsetattr (STDIN_FILENO, TCSAFLUSH, &quiet) == 0;
    }
  if (!echo_off)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                           _("Could not turn off the terminal’s echo"));
      return NULL;
    }

  fprintf (stderr, "%s ", question);
  fflush (stderr);

  /* One byte at a time: nothing of the line stays in a stdio buffer. */
  for (;;)
    {
      ssize_t n = read (STDIN_FILENO, &c, 1);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0 || c == '\n')
        break;
      if (passphrase->length < MAX_PASSPHRASE)
        passphrase->text[passphrase->length++] = c;
    }
  c = 0;

  tcsetattr (STDIN_FILENO, TCSADRAIN, &saved);
  fputc ('\n', stderr);

  strip_newline (passphrase);
  if (passphrase->length == 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The passphrase is empty"));
      return NULL;
    }

  return g_steal_pointer (&passphrase);
}

TcPassphrase *
tc_passphrase_prompt (const char  *question,
                      gboolean     confirm,
                      GError     **error)
{
  g_autoptr(TcPassphrase) first = NULL;
  g_autoptr(TcPassphrase) second = NULL;

  if (!(first = ask (question, error)))
    return NULL;

  if (!confirm)
    return g_steal_pointer (&first);

  if (!(second = ask (_("The same passphrase again:"), error)))
    return NULL;

  if (first->length != second->length ||
      sodium_memcmp (first->text, second->text, first->length) != 0)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           _("The two passphrases differ"));
      return NULL;
    }

  return g_steal_pointer (&first);
}
