/* test-filename.c: names and places for received files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tc-filename.h"

static void
test_sanitize (void)
{
  static const struct { const char *offered; const char *expected; } cases[] = {
    { "report.pdf", "report.pdf" },
    { "../../.bashrc", "bashrc" },
    { "/etc/passwd", "passwd" },
    { "C:\\Windows\\system.ini", "system.ini" },
    { "dir/", "file" },
    { "..", "file" },
    { ".", "file" },
    { "", "file" },
    { "   ", "file" },
    { ".hidden", "hidden" },
    { "trailing. . ", "trailing" },
    { "CON", "_CON" },
    { "nul.txt", "_nul.txt" },
    { "com1.tar.gz", "_com1.tar.gz" },
    { "console.txt", "console.txt" },
    { "a\nb\tc\x1b[31m.txt", "a_b_c_[31m.txt" },
    { "what?*<>|\":.txt", "what_______.txt" },
    { "Ünïcødé ✓.png", "Ünïcødé ✓.png" },
    { "line\xe2\x80\xa8sep", "line_sep" },
    { "bad\xff\xfeutf8", "bad__utf8" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = tc_filename_sanitize (cases[i].offered);

      g_assert_cmpstr (got, ==, cases[i].expected);
    }

  /* Long names are cut on a character boundary, with room for " (9999)". */
  {
    g_autoptr(GString) longname = g_string_new (NULL);
    g_autofree char *got = NULL;

    for (guint i = 0; i < 200; i++)
      g_string_append (longname, "é");
    got = tc_filename_sanitize (longname->str);
    g_assert_cmpuint (strlen (got), <=, 247);
    g_assert_true (g_utf8_validate (got, -1, NULL));
  }
}

static void
test_numbered (void)
{
  static const struct { const char *name; guint n; const char *expected; } cases[] = {
    { "photo.jpg", 0, "photo.jpg" },
    { "photo.jpg", 1, "photo (1).jpg" },
    { "archive.tar.gz", 2, "archive.tar (2).gz" },
    { "README", 3, "README (3)" },
    { "_con", 1, "_con (1)" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *got = tc_filename_numbered (cases[i].name, cases[i].n);

      g_assert_cmpstr (got, ==, cases[i].expected);
    }
}

static void
test_move_into_place (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = g_dir_make_tmp ("torchat-filename-XXXXXX", &error);
  g_autofree char *partial = g_build_filename (dir, ".part", NULL);
  g_autofree char *existing = g_build_filename (dir, "a.txt", NULL);
  g_autofree char *contents = NULL;
  const char *names[] = { "a.txt", "a (1).txt", "a (2).txt" };

  g_assert_no_error (error);
  g_file_set_contents (existing, "old", -1, &error);
  g_assert_no_error (error);

  for (guint i = 1; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *got = NULL;
      g_autofree char *expected = g_build_filename (dir, names[i], NULL);

      g_file_set_contents (partial, "new", -1, &error);
      g_assert_no_error (error);
      got = tc_filename_move_into_place (partial, dir, "a.txt", &error);
      g_assert_no_error (error);
      g_assert_cmpstr (got, ==, expected);
      g_assert_false (g_file_test (partial, G_FILE_TEST_EXISTS));
    }

  /* Nothing was overwritten. */
  g_file_get_contents (existing, &contents, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (contents, ==, "old");

  /* A missing partial file is an error, not a crash. */
  g_assert_null (tc_filename_move_into_place (partial, dir, "b.txt", &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);

  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      g_autofree char *path = g_build_filename (dir, names[i], NULL);
      g_unlink (path);
    }
  g_rmdir (dir);
}

static void
sha_cb (GObject      *object,
        GAsyncResult *result,
        gpointer      user_data)
{
  GError *error = NULL;
  char **out = user_data;

  out[0] = tc_file_sha256_finish (result, &error);
  out[1] = error ? g_strdup (error->message) : g_strdup ("");
  g_clear_error (&error);
}

static void
test_sha256 (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  int fd = g_file_open_tmp ("torchat-sha-XXXXXX", &path, &error);
  char *out[2] = { NULL, NULL };

  g_assert_no_error (error);
  g_assert_cmpint (write (fd, "hello world", 11), ==, 11);
  close (fd);

  tc_file_sha256_async (path, 11, NULL, sha_cb, out);
  while (out[1] == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_cmpstr (out[0], ==, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9");
  g_clear_pointer (&out[0], g_free);
  g_clear_pointer (&out[1], g_free);

  /* The size must be what was offered. */
  tc_file_sha256_async (path, 12, NULL, sha_cb, out);
  while (out[1] == NULL)
    g_main_context_iteration (NULL, TRUE);
  g_assert_null (out[0]);
  g_assert_cmpstr (out[1], !=, "");
  g_free (out[1]);

  g_unlink (path);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/filename/sanitize", test_sanitize);
  g_test_add_func ("/filename/numbered", test_numbered);
  g_test_add_func ("/filename/move-into-place", test_move_into_place);
  g_test_add_func ("/filename/sha256", test_sha256);

  return g_test_run ();
}
