/* tc-keyring.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <libsecret/secret.h>

#include "tc-keyring.h"

static const SecretSchema *
get_schema (void)
{
  static const SecretSchema schema = {
    "io.github.torchat.TorChat.Profile", SECRET_SCHEMA_NONE,
    {
      { "profile", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
  };

  return &schema;
}

/* One item per profile, named by its canonical directory. */
static char *
canonical (const char *profile_dir)
{
  return g_canonicalize_filename (profile_dir, NULL);
}

/* The Secret Service stores text: a passphrase is UTF-8 without NUL. */
static gboolean
check_text (const char  *passphrase,
            gsize        length,
            GError     **error)
{
  if (length == 0 || memchr (passphrase, '\0', length) != NULL ||
      !g_utf8_validate_len (passphrase, length, NULL))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("Only a passphrase of UTF-8 text can be kept in the keyring"));
      return FALSE;
    }

  return TRUE;
}

static char *
make_label (const char *dir)
{
  return g_strdup_printf (_("TORChat profile passphrase (%s)"), dir);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
tc_keyring_store_async (const char          *profile_dir,
                        const char          *passphrase,
                        gsize                length,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *label = NULL;
  g_autoptr(SecretValue) value = NULL;
  GError *error = NULL;

  g_return_if_fail (profile_dir != NULL);
  g_return_if_fail (passphrase != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_keyring_store_async);

  if (!check_text (passphrase, length, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  dir = canonical (profile_dir);
  label = make_label (dir);
  value = secret_value_new (passphrase, length, "text/plain");
  secret_password_store_binary (get_schema (), SECRET_COLLECTION_DEFAULT, label, value,
                                cancellable, stored_cb, g_steal_pointer (&task),
                                "profile", dir, NULL);
}

gboolean
tc_keyring_store_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
looked_up_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;
  char *passphrase;

  passphrase = secret_password_lookup_nonpageable_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, passphrase, (GDestroyNotify) secret_password_free);
}

void
tc_keyring_lookup_async (const char          *profile_dir,
                         GCancellable        *cancellable,
                         GAsyncReadyCallback  callback,
                         gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *dir = NULL;

  g_return_if_fail (profile_dir != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_keyring_lookup_async);

  dir = canonical (profile_dir);
  secret_password_lookup (get_schema (), cancellable, looked_up_cb, g_steal_pointer (&task),
                          "profile", dir, NULL);
}

char *
tc_keyring_lookup_finish (GAsyncResult  *result,
                          GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

void
tc_keyring_free_passphrase (char *passphrase)
{
  secret_password_free (passphrase);
}

static void
cleared_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  secret_password_clear_finish (result, &error);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
tc_keyring_clear_async (const char          *profile_dir,
                        GCancellable        *cancellable,
                        GAsyncReadyCallback  callback,
                        gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *dir = NULL;

  g_return_if_fail (profile_dir != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_keyring_clear_async);

  dir = canonical (profile_dir);
  secret_password_clear (get_schema (), cancellable, cleared_cb, g_steal_pointer (&task),
                         "profile", dir, NULL);
}

gboolean
tc_keyring_clear_finish (GAsyncResult  *result,
                         GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
tc_keyring_replace_sync (const char    *profile_dir,
                         const char    *passphrase,
                         gsize          length,
                         gboolean      *replaced,
                         GCancellable  *cancellable,
                         GError       **error)
{
  g_autofree char *dir = NULL;
  g_autofree char *label = NULL;
  g_autoptr(SecretValue) value = NULL;
  GError *search_error = NULL;
  GList *items;

  g_return_val_if_fail (profile_dir != NULL, FALSE);
  g_return_val_if_fail (passphrase != NULL, FALSE);
  g_return_val_if_fail (replaced != NULL, FALSE);

  *replaced = FALSE;
  dir = canonical (profile_dir);
  /* Only whether an item exists: no secret is read and nothing unlocked. */
  items = secret_password_search_sync (get_schema (), SECRET_SEARCH_NONE, cancellable,
                                       &search_error, "profile", dir, NULL);
  if (search_error != NULL)
    {
      g_list_free_full (items, g_object_unref);
      g_propagate_error (error, search_error);
      return FALSE;
    }
  if (items == NULL)
    return TRUE;
  g_list_free_full (items, g_object_unref);

  if (!check_text (passphrase, length, error))
    return FALSE;
  label = make_label (dir);
  value = secret_value_new (passphrase, length, "text/plain");
  if (!secret_password_store_binary_sync (get_schema (), SECRET_COLLECTION_DEFAULT, label, value,
                                          cancellable, error, "profile", dir, NULL))
    return FALSE;

  *replaced = TRUE;
  return TRUE;
}
