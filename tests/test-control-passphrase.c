/* test-control-passphrase.c: `torchat passphrase` through the control
 * socket, against a real node on a temporary profile
 *
 * The client side blocks, so it runs in a thread while this one runs the
 * node and the server, as in test-commands.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gio/gunixfdlist.h>
#include <glib-unix.h>
#include <glib/gstdio.h>

#include "tc-commands.h"
#include "tc-control.h"
#include "tc-node.h"

typedef struct
{
  char      *tmpdir;
  char      *profile;
  TcNode    *node;
  TcControl *control;
} Fixture;

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("torchat-control-passphrase-XXXXXX", &error);
  g_assert_no_error (error);
  f->profile = g_build_filename (f->tmpdir, "profile", NULL);
  g_assert_cmpint (g_mkdir (f->profile, 0700), ==, 0);

  /* A plaintext profile, open. */
  f->node = tc_node_new (f->profile, &error);
  g_assert_no_error (error);
  f->control = tc_control_new (f->node, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_object (&f->control);
  g_clear_object (&f->node);
  rm_rf (f->tmpdir);
  g_free (f->tmpdir);
  g_free (f->profile);
}

static gboolean
in_profile (Fixture    *f,
            const char *name)
{
  g_autofree char *path = g_build_filename (f->profile, name, NULL);

  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static GBytes *
read_profile_file (Fixture    *f,
                   const char *name)
{
  g_autofree char *path = g_build_filename (f->profile, name, NULL);
  char *contents = NULL;
  gsize length = 0;

  g_assert_true (g_file_get_contents (path, &contents, &length, NULL));
  return g_bytes_new_take (contents, length);
}

/* Running a blocking client in a thread */

typedef struct
{
  Fixture    *f;
  /* In: what to send. */
  const char *old;
  const char *new;
  GBytes     *raw;          /* instead: these bytes in the pipe */
  gboolean    keep_open;    /* the write end stays open */
  gboolean    no_fd;        /* a handle, but no descriptor with it */
  /* Out. */
  int         status;
  char       *out;
  char       *err;
  gboolean    ok;
  char       *message;
  TcProfileKind kind;
  gint        done;
} Call;

static void
call_clear (Call *call)
{
  g_clear_pointer (&call->out, g_free);
  g_clear_pointer (&call->err, g_free);
  g_clear_pointer (&call->message, g_free);
  g_clear_pointer (&call->raw, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Call, call_clear)

static void
run_in_thread (Call        *call,
               GThreadFunc  func)
{
  GThread *thread = g_thread_new ("client", func, call);

  while (!g_atomic_int_get (&call->done))
    g_main_context_iteration (NULL, TRUE);
  g_thread_join (thread);
}

static gpointer
change_thread (gpointer data)
{
  Call *call = data;
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);

  call->status = tc_control_change_passphrase (call->f->profile,
                                               call->old, call->old ? strlen (call->old) : 0,
                                               call->new, strlen (call->new), out, err);
  call->out = g_string_free (g_steal_pointer (&out), FALSE);
  call->err = g_string_free (g_steal_pointer (&err), FALSE);
  g_atomic_int_set (&call->done, 1);
  g_main_context_wakeup (NULL);

  return NULL;
}

static gpointer
kind_thread (gpointer data)
{
  Call *call = data;
  g_autoptr(GString) err = g_string_new (NULL);

  call->status = tc_control_get_profile_kind (call->f->profile, &call->kind, err);
  call->err = g_string_free (g_steal_pointer (&err), FALSE);
  g_atomic_int_set (&call->done, 1);
  g_main_context_wakeup (NULL);

  return NULL;
}

static void
close_fd (int *fd)
{
  if (*fd >= 0)
    close (*fd);
  *fd = -1;
}

/* A client that sends whatever call->raw holds, as a broken or hostile one
 * of the same user might. */
static gpointer
raw_thread (gpointer data)
{
  Call *call = data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GUnixFDList) fds = g_unix_fd_list_new ();
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autofree char *socket_path = tc_control_dup_socket_path (call->f->profile);
  g_autofree char *escaped = g_dbus_address_escape_value (socket_path);
  g_autofree char *address = g_strdup_printf ("unix:path=%s", escaped);
  int pipe_fds[2] = { -1, -1 };
  int handle = 0;

  g_main_context_push_thread_default (context);
  connection = g_dbus_connection_new_for_address_sync (address,
                                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT,
                                                       NULL, NULL, &error);
  g_assert_no_error (error);

  if (!call->no_fd)
    {
      gsize size = 0;
      gconstpointer bytes = call->raw ? g_bytes_get_data (call->raw, &size) : NULL;

      g_assert_true (g_unix_open_pipe (pipe_fds, FD_CLOEXEC, &error));
      if (size > 0)
        g_assert_cmpint (write (pipe_fds[1], bytes, size), ==, size);
      if (!call->keep_open)
        close_fd (&pipe_fds[1]);
      handle = g_unix_fd_list_append (fds, pipe_fds[0], &error);
      g_assert_no_error (error);
      close_fd (&pipe_fds[0]);
    }

  reply = g_dbus_connection_call_with_unix_fd_list_sync (connection, NULL,
                                                         TC_CONTROL_OBJECT_PATH,
                                                         TC_CONTROL_INTERFACE,
                                                         "ChangePassphrase",
                                                         g_variant_new ("(h)", handle),
                                                         G_VARIANT_TYPE ("(bs)"),
                                                         G_DBUS_CALL_FLAGS_NONE, 30 * 1000,
                                                         call->no_fd ? NULL : fds,
                                                         NULL, NULL, &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(bs)", &call->ok, &call->message);
  close_fd (&pipe_fds[1]);
  g_main_context_pop_thread_default (context);

  g_atomic_int_set (&call->done, 1);
  g_main_context_wakeup (NULL);

  return NULL;
}

static GBytes *
framed (const char *first,
        gssize      first_length,
        const char *second)
{
  GByteArray *array = g_byte_array_new ();
  const char *texts[] = { first, second };
  gsize lengths[] = { first_length >= 0 ? (gsize) first_length : strlen (first),
                      second ? strlen (second) : 0 };

  for (guint i = 0; i < G_N_ELEMENTS (texts) && texts[i] != NULL; i++)
    {
      guint32 le = GUINT32_TO_LE ((guint32) lengths[i]);

      g_byte_array_append (array, (const guint8 *) &le, 4);
      g_byte_array_append (array, (const guint8 *) texts[i], strlen (texts[i]));
    }

  return g_byte_array_free_to_bytes (array);
}

static void
assert_still_plaintext (Fixture *f)
{
  g_auto(Call) kind = { .f = f };

  g_assert_true (in_profile (f, "identity.key"));
  g_assert_false (in_profile (f, "profile.key"));
  g_assert_false (tc_node_get_encrypted (f->node));

  /* And the node still answers. */
  run_in_thread (&kind, kind_thread);
  g_assert_cmpint (kind.status, ==, TC_EXIT_OK);
  g_assert_cmpint (kind.kind, ==, TC_PROFILE_KIND_PLAINTEXT);
}

static void
expect_refused (Fixture    *f,
                Call       *call,
                const char *message)
{
  run_in_thread (call, raw_thread);
  g_assert_false (call->ok);
  g_assert_cmpstr (call->message, ==, message);
  assert_still_plaintext (f);
}

/* What a broken client may send gets a clear answer, never blocks the
 * node, and changes nothing. */
static void
test_bad_input (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *huge = g_strnfill (9000, 'x');

  {
    g_auto(Call) call = { .f = f, .no_fd = TRUE };
    expect_refused (f, &call, "The passphrases did not come with the call");
  }
  {
    /* Nothing written and the pipe still open: no waiting for more. */
    g_auto(Call) call = { .f = f, .keep_open = TRUE };
    expect_refused (f, &call, "The passphrases did not arrive whole");
  }
  {
    g_auto(Call) call = { .f = f };
    expect_refused (f, &call, "The passphrases are malformed");
  }
  {
    g_auto(Call) call = { .f = f, .raw = framed ("", 0, NULL) };
    expect_refused (f, &call, "The passphrases are malformed");
  }
  {
    /* A length beyond what follows. */
    g_auto(Call) call = { .f = f, .raw = framed ("short", 50, NULL) };
    expect_refused (f, &call, "The passphrases are malformed");
  }
  {
    /* Three records. */
    g_autoptr(GBytes) two = framed ("one", -1, "two");
    g_autoptr(GBytes) one = framed ("three", -1, NULL);
    g_autoptr(GByteArray) all = g_byte_array_new ();
    g_auto(Call) call = { .f = f };

    g_byte_array_append (all, g_bytes_get_data (two, NULL), g_bytes_get_size (two));
    g_byte_array_append (all, g_bytes_get_data (one, NULL), g_bytes_get_size (one));
    call.raw = g_bytes_new (all->data, all->len);
    expect_refused (f, &call, "The passphrases are malformed");
  }
  {
    g_auto(Call) call = { .f = f, .raw = g_bytes_new (huge, strlen (huge)) };
    expect_refused (f, &call, "The passphrases are too long");
  }
  {
    g_auto(Call) call = { .f = f, .raw = framed ("old", -1, "new") };
    expect_refused (f, &call, "The profile is not encrypted: it has no current passphrase");
  }
}

/* A plaintext profile encrypted through the socket, then its passphrase
 * changed: a wrong current one changes nothing, and afterwards only the new
 * one opens the profile. */
static void
test_encrypt_then_change (Fixture       *f,
                          gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TcNode) reopened = NULL;
  g_autoptr(GBytes) key_before = NULL;
  g_autoptr(GBytes) key_after = NULL;
  g_auto(Call) encrypt = { .f = f, .new = "first through the socket" };
  g_auto(Call) kind = { .f = f };
  g_auto(Call) no_old = { .f = f, .new = "anything" };
  g_auto(Call) wrong = { .f = f, .old = "not it", .new = "second through the socket" };
  g_auto(Call) change = { .f = f, .old = "first through the socket",
                          .new = "second through the socket" };

  run_in_thread (&encrypt, change_thread);
  g_assert_cmpint (encrypt.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (encrypt.out, ==, "The profile is encrypted now\n");
  g_assert_cmpstr (encrypt.err, ==, "");
  g_assert_true (tc_node_get_encrypted (f->node));
  g_assert_true (in_profile (f, "profile.key"));
  g_assert_false (in_profile (f, "identity.key"));

  run_in_thread (&kind, kind_thread);
  g_assert_cmpint (kind.status, ==, TC_EXIT_OK);
  g_assert_cmpint (kind.kind, ==, TC_PROFILE_KIND_ENCRYPTED);

  key_before = read_profile_file (f, "profile.key");
  run_in_thread (&no_old, change_thread);
  g_assert_cmpint (no_old.status, ==, TC_EXIT_FAILED);
  g_assert_cmpstr (no_old.err, ==,
                   "torchat: The profile is encrypted: give its current passphrase too\n");

  run_in_thread (&wrong, change_thread);
  g_assert_cmpint (wrong.status, ==, TC_EXIT_FAILED);
  g_assert_cmpstr (wrong.out, ==, "");
  g_assert_cmpstr (wrong.err, ==,
                   "torchat: The current passphrase is wrong; nothing was changed\n");
  key_after = read_profile_file (f, "profile.key");
  g_assert_true (g_bytes_equal (key_before, key_after));
  g_clear_pointer (&key_after, g_bytes_unref);

  run_in_thread (&change, change_thread);
  g_assert_cmpint (change.status, ==, TC_EXIT_OK);
  g_assert_cmpstr (change.out, ==, "The passphrase is changed\n");
  key_after = read_profile_file (f, "profile.key");
  g_assert_false (g_bytes_equal (key_before, key_after));
  g_assert_false (in_profile (f, "profile.key.new"));

  g_clear_object (&f->control);
  g_assert_finalize_object (g_steal_pointer (&f->node));

  reopened = tc_node_new_locked (f->profile, &error);
  g_assert_no_error (error);
  g_assert_false (tc_node_unlock (reopened, "first through the socket",
                                  strlen ("first through the socket"), &error));
  g_assert_error (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE);
  g_clear_error (&error);
  g_assert_true (tc_node_unlock (reopened, "second through the socket",
                                 strlen ("second through the socket"), &error));
  g_assert_no_error (error);
}

/* Without a node, the client says so and leaves the message to the caller. */
static void
test_no_node (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *tmpdir = g_dir_make_tmp ("torchat-control-passphrase-XXXXXX", &error);
  g_autoptr(GString) out = g_string_new (NULL);
  g_autoptr(GString) err = g_string_new (NULL);
  TcProfileKind kind = TC_PROFILE_KIND_NEW;

  g_assert_no_error (error);
  g_assert_cmpint (tc_control_get_profile_kind (tmpdir, &kind, err), ==, TC_EXIT_NO_NODE);
  g_assert_cmpstr (err->str, ==, "");
  g_assert_cmpint (tc_control_change_passphrase (tmpdir, NULL, 0, "new", 3, out, err), ==,
                   TC_EXIT_NO_NODE);
  g_assert_cmpstr (out->str, ==, "");
  g_assert_cmpstr (err->str, ==, "");
  g_rmdir (tmpdir);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/control/passphrase/bad-input", Fixture, NULL,
              fixture_setup, test_bad_input, fixture_teardown);
  g_test_add ("/control/passphrase/encrypt-then-change", Fixture, NULL,
              fixture_setup, test_encrypt_then_change, fixture_teardown);
  g_test_add_func ("/control/passphrase/no-node", test_no_node);

  return g_test_run ();
}
