/* tc-control-passphrase.c: `torchat passphrase` on a running node, both ends
 *
 * The passphrases never travel inside a D-Bus message: GDBus copies a
 * message into buffers it frees without wiping. The client writes them into
 * a pipe, closes its end and passes the other over the socket (the "h"
 * argument); the node reads them straight into locked memory. In the pipe
 * each passphrase is a 32-bit little-endian length and its bytes: the
 * current one first when there is one, then the new one.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib/gi18n-lib.h>
#include <sodium.h>

#include "tc-commands.h"
#include "tc-control-private.h"

/* As tc-passphrase-input.c reads at most. */
#define MAX_PASSPHRASE 4096
#define MAX_SECRETS (2 * (4 + MAX_PASSPHRASE))
/* Encrypting copies the whole database; let a big one take its time. */
#define PASSPHRASE_CALL_TIMEOUT_MS (10 * 60 * 1000)

typedef struct
{
  guchar *bytes;      /* sodium_malloc */
  gsize   length;
  /* Into bytes; old is NULL when only one passphrase came. */
  const char *old;
  gsize       old_length;
  const char *new;
  gsize       new_length;
} Secrets;

static void
secrets_free (Secrets *secrets)
{
  g_clear_pointer (&secrets->bytes, sodium_free);
  g_free (secrets);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Secrets, secrets_free)

static guchar *
secret_alloc (gsize size)
{
  guchar *bytes;

  if (sodium_init () < 0 || !(bytes = sodium_malloc (size)))
    g_error ("Out of memory for a passphrase");

  return bytes;
}

/* Node side */

static gboolean
read_all (int      fd,
          Secrets *secrets,
          GError **error)
{
  for (;;)
    {
      ssize_t n = read (fd, secrets->bytes + secrets->length, MAX_SECRETS + 1 - secrets->length);

      if (n < 0 && errno == EINTR)
        continue;
      /* The client closed its end before calling: all of it is there, and a
       * pipe still open for writing must not block the node. */
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The passphrases did not arrive whole"));
          return FALSE;
        }
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not read the passphrases: %s"), g_strerror (saved_errno));
          return FALSE;
        }
      if (n == 0)
        return TRUE;

      secrets->length += n;
      if (secrets->length > MAX_SECRETS)
        {
          g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("The passphrases are too long"));
          return FALSE;
        }
    }
}

static gboolean
take_one (Secrets     *secrets,
          gsize       *offset,
          const char **text,
          gsize       *length)
{
  guint32 n;

  if (secrets->length - *offset < 4)
    return FALSE;

  n = secrets->bytes[*offset] | secrets->bytes[*offset + 1] << 8 |
      secrets->bytes[*offset + 2] << 16 | (guint32) secrets->bytes[*offset + 3] << 24;
  *offset += 4;
  if (n == 0 || n > MAX_PASSPHRASE || n > secrets->length - *offset)
    return FALSE;

  *text = (const char *) secrets->bytes + *offset;
  *length = n;
  *offset += n;

  return TRUE;
}

static Secrets *
receive_secrets (GDBusMethodInvocation  *invocation,
                 GError                **error)
{
  GUnixFDList *fds = g_dbus_message_get_unix_fd_list (g_dbus_method_invocation_get_message (invocation));
  g_autoptr(Secrets) secrets = g_new0 (Secrets, 1);
  gint32 handle = -1;
  gsize offset = 0;
  gboolean ok;
  int fd;

  g_variant_get (g_dbus_method_invocation_get_parameters (invocation), "(h)", &handle);
  if (fds == NULL || handle < 0 || handle >= g_unix_fd_list_get_length (fds))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The passphrases did not come with the call"));
      return NULL;
    }

  if ((fd = g_unix_fd_list_get (fds, handle, error)) < 0)
    return NULL;

  secrets->bytes = secret_alloc (MAX_SECRETS + 1);
  ok = g_unix_set_fd_nonblocking (fd, TRUE, error) && read_all (fd, secrets, error);
  close (fd);
  if (!ok)
    return NULL;

  if (!take_one (secrets, &offset, &secrets->new, &secrets->new_length))
    goto malformed;
  if (offset < secrets->length)
    {
      secrets->old = secrets->new;
      secrets->old_length = secrets->new_length;
      if (!take_one (secrets, &offset, &secrets->new, &secrets->new_length))
        goto malformed;
    }
  if (offset != secrets->length)
    goto malformed;

  return g_steal_pointer (&secrets);

malformed:
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       _("The passphrases are malformed"));
  return NULL;
}

static void
return_result (GDBusMethodInvocation *invocation,
               gboolean               ok,
               const char            *message)
{
  g_autofree char *valid = g_utf8_make_valid (message, -1);

  g_dbus_method_invocation_return_value (invocation, g_variant_new ("(bs)", ok, valid));
}

static void
return_error (GDBusMethodInvocation *invocation,
              const GError          *error)
{
  if (g_error_matches (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE))
    return_result (invocation, FALSE, _("The current passphrase is wrong; nothing was changed"));
  else
    return_result (invocation, FALSE, error->message);
}

static void
changed_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GDBusMethodInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  if (!tc_node_change_passphrase_finish (TC_NODE (object), result, &error))
    {
      g_debug ("Change of passphrase through the control socket failed");
      return_error (invocation, error);
      return;
    }

  g_debug ("The passphrase was changed through the control socket");
  return_result (invocation, TRUE, _("The passphrase is changed"));
}

static void
encrypted_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GDBusMethodInvocation) invocation = user_data;
  g_autoptr(GError) error = NULL;

  if (!tc_node_encrypt_finish (TC_NODE (object), result, &error))
    {
      return_error (invocation, error);
      return;
    }

  g_debug ("The profile was encrypted through the control socket");
  return_result (invocation, TRUE, _("The profile is encrypted now"));
}

static void
change_passphrase (TcNode                *node,
                   GDBusMethodInvocation *invocation)
{
  g_autoptr(Secrets) secrets = NULL;
  g_autoptr(GError) error = NULL;
  gboolean encrypted = tc_node_get_encrypted (node);

  if (!(secrets = receive_secrets (invocation, &error)))
    {
      return_error (invocation, error);
      return;
    }

  /* The window may have encrypted the profile since the client asked. */
  if (encrypted && secrets->old == NULL)
    {
      return_result (invocation, FALSE,
                     _("The profile is encrypted: give its current passphrase too"));
      return;
    }
  if (!encrypted && secrets->old != NULL)
    {
      return_result (invocation, FALSE,
                     _("The profile is not encrypted: it has no current passphrase"));
      return;
    }

  /* Both copy the passphrases before they return. */
  if (encrypted)
    tc_node_change_passphrase_async (node, secrets->old, secrets->old_length,
                                     secrets->new, secrets->new_length, NULL,
                                     changed_cb, g_object_ref (invocation));
  else
    tc_node_encrypt_async (node, secrets->new, secrets->new_length, NULL,
                           encrypted_cb, g_object_ref (invocation));
}

void
_tc_control_passphrase_method (TcNode                *node,
                               const char            *method_name,
                               GDBusMethodInvocation *invocation)
{
  if (g_str_equal (method_name, "GetProfileKind"))
    g_dbus_method_invocation_return_value (invocation,
                                           g_variant_new ("(s)",
                                                          tc_node_get_encrypted (node) ?
                                                          "encrypted" : "plaintext"));
  else
    change_passphrase (node, invocation);
}

/* Client side */

static GVariant *
call (const char   *profile_dir,
      const char   *method,
      GVariant     *parameters,
      const char   *reply_type,
      GUnixFDList  *fds,
      int           timeout_ms,
      GString      *err,
      int          *status)
{
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) no_node = g_string_new (NULL);
  GVariant *reply;

  g_variant_ref_sink (parameters);
  if (!(connection = _tc_control_connect (profile_dir, no_node, status)))
    {
      if (*status != TC_EXIT_NO_NODE)
        g_string_append (err, no_node->str);
      g_variant_unref (parameters);
      return NULL;
    }

  reply = g_dbus_connection_call_with_unix_fd_list_sync (connection, NULL,
                                                         TC_CONTROL_OBJECT_PATH,
                                                         TC_CONTROL_INTERFACE,
                                                         method, parameters,
                                                         G_VARIANT_TYPE (reply_type),
                                                         G_DBUS_CALL_FLAGS_NONE, timeout_ms,
                                                         fds, NULL, NULL, &error);
  g_variant_unref (parameters);
  if (reply == NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_string_append_printf (err, _("torchat: The node on profile %s did not answer: %s\n"),
                              profile_dir, error->message);
      *status = TC_EXIT_FAILED;
      return NULL;
    }

  *status = TC_EXIT_OK;
  return reply;
}

int
tc_control_get_profile_kind (const char    *profile_dir,
                             TcProfileKind *kind,
                             GString       *err)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GVariant) reply = NULL;
  int status;

  g_return_val_if_fail (profile_dir != NULL, TC_EXIT_FAILED);
  g_return_val_if_fail (kind != NULL, TC_EXIT_FAILED);
  g_return_val_if_fail (err != NULL, TC_EXIT_FAILED);

  g_main_context_push_thread_default (context);
  reply = call (profile_dir, "GetProfileKind", g_variant_new ("()"), "(s)", NULL,
                60 * 1000, err, &status);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);

  if (reply != NULL)
    {
      const char *name = NULL;

      g_variant_get (reply, "(&s)", &name);
      *kind = g_str_equal (name, "encrypted") ? TC_PROFILE_KIND_ENCRYPTED
                                              : TC_PROFILE_KIND_PLAINTEXT;
    }

  return status;
}

static void
put_one (guchar     *bytes,
         gsize      *offset,
         const char *text,
         gsize       length)
{
  bytes[(*offset)++] = length & 0xff;
  bytes[(*offset)++] = (length >> 8) & 0xff;
  bytes[(*offset)++] = (length >> 16) & 0xff;
  bytes[(*offset)++] = (length >> 24) & 0xff;
  memcpy (bytes + *offset, text, length);
  *offset += length;
}

/* The read end of a pipe that holds the passphrases, its write end closed. */
static int
make_pipe (const char  *old_passphrase,
           gsize        old_length,
           const char  *new_passphrase,
           gsize        new_length,
           GError     **error)
{
  guchar *bytes = secret_alloc (MAX_SECRETS);
  gsize length = 0, done = 0;
  int fds[2];

  if (old_passphrase != NULL)
    put_one (bytes, &length, old_passphrase, old_length);
  put_one (bytes, &length, new_passphrase, new_length);

  /* Non-blocking: nobody reads before the call, so a pipe too small for
   * all of it must fail rather than hang. */
  if (!g_unix_open_pipe (fds, FD_CLOEXEC, error))
    {
      sodium_free (bytes);
      return -1;
    }

  if (!g_unix_set_fd_nonblocking (fds[1], TRUE, error))
    goto failed;

  while (done < length)
    {
      ssize_t n = write (fds[1], bytes + done, length - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved_errno = errno;

          g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                       _("Could not pass the passphrases to the node: %s"),
                       g_strerror (saved_errno));
          goto failed;
        }
      done += n;
    }

  sodium_free (bytes);
  close (fds[1]);

  return fds[0];

failed:
  sodium_free (bytes);
  close (fds[0]);
  close (fds[1]);
  return -1;
}

int
tc_control_change_passphrase (const char *profile_dir,
                              const char *old_passphrase,
                              gsize       old_length,
                              const char *new_passphrase,
                              gsize       new_length,
                              GString    *out,
                              GString    *err)
{
  g_autoptr(GMainContext) context = NULL;
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *message = NULL;
  gboolean ok = FALSE;
  int status;
  int fd;
  int handle;

  g_return_val_if_fail (profile_dir != NULL, TC_EXIT_FAILED);
  g_return_val_if_fail (new_passphrase != NULL, TC_EXIT_FAILED);
  g_return_val_if_fail (out != NULL && err != NULL, TC_EXIT_FAILED);

  if (new_length == 0 || new_length > MAX_PASSPHRASE ||
      (old_passphrase != NULL && (old_length == 0 || old_length > MAX_PASSPHRASE)))
    {
      g_string_append (err, _("torchat: A passphrase is empty or too long\n"));
      return TC_EXIT_FAILED;
    }

  if ((fd = make_pipe (old_passphrase, old_length, new_passphrase, new_length, &error)) < 0)
    {
      g_string_append_printf (err, "torchat: %s\n", error->message);
      return TC_EXIT_FAILED;
    }

  fds = g_unix_fd_list_new ();
  handle = g_unix_fd_list_append (fds, fd, &error);
  close (fd);
  if (handle < 0)
    {
      g_string_append_printf (err, "torchat: %s\n", error->message);
      return TC_EXIT_FAILED;
    }

  context = g_main_context_new ();
  g_main_context_push_thread_default (context);
  reply = call (profile_dir, "ChangePassphrase", g_variant_new ("(h)", handle), "(bs)", fds,
                PASSPHRASE_CALL_TIMEOUT_MS, err, &status);
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);

  if (reply == NULL)
    return status;

  g_variant_get (reply, "(b&s)", &ok, &message);
  if (!ok)
    {
      g_string_append_printf (err, "torchat: %s\n", message);
      return TC_EXIT_FAILED;
    }

  g_string_append_printf (out, "%s\n", message);
  return TC_EXIT_OK;
}
