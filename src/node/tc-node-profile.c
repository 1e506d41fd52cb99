/* tc-node-profile.c: unlocking a node's profile, its passphrase, encrypting it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <sodium.h>

#include "tc-node-private.h"

typedef struct
{
  char          *dir;
  TcProfileKind  kind;
  char          *passphrase;      /* sodium_malloc, NUL-terminated */
  gsize          length;
  char          *new_passphrase;  /* sodium_malloc */
  gsize          new_length;
  TcIdentity    *identity;
  TcStore       *store;
  TcProfileKey  *key;
  GBytes        *header;
} ProfileTask;

static void
profile_task_free (ProfileTask *data)
{
  g_free (data->dir);
  g_clear_pointer (&data->passphrase, sodium_free);
  g_clear_pointer (&data->new_passphrase, sodium_free);
  g_clear_object (&data->identity);
  g_clear_object (&data->store);
  g_clear_object (&data->key);
  g_clear_pointer (&data->header, g_bytes_unref);
  g_free (data);
}

static char *
dup_secret (const char *text,
            gsize       length)
{
  char *copy;

  if (text == NULL)
    return NULL;

  if (sodium_init () < 0 || !(copy = sodium_malloc (length + 1)))
    g_error ("Out of memory for a passphrase");

  memcpy (copy, text, length);
  copy[length] = '\0';
  return copy;
}

static gboolean
check_not_busy (TcNode  *self,
                GError **error)
{
  if (*_tc_node_get_busy (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_PENDING,
                           _("The profile is already being unlocked or changed"));
      return FALSE;
    }

  return TRUE;
}

static void
set_busy (TcNode   *self,
          gboolean  busy)
{
  *_tc_node_get_busy (self) = busy;
}

TcProfileKind
tc_node_get_profile_kind (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), TC_PROFILE_KIND_NEW);

  return _tc_node_get_profile_kind (self);
}

gboolean
tc_node_get_unlocked (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  return tc_node_get_identity (self) != NULL;
}

gboolean
tc_node_get_encrypted (TcNode *self)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  return _tc_node_get_profile_kind (self) == TC_PROFILE_KIND_ENCRYPTED;
}

/* Unlock */

static void
unlock_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ProfileTask *data = task_data;
  GError *error = NULL;

  if (!tc_profile_open (data->dir, data->kind, data->passphrase, data->length,
                        &data->identity, &data->store, cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
finish_unlock (TcNode       *self,
               ProfileTask  *data,
               GError      **error)
{
  if (data->kind == TC_PROFILE_KIND_NEW)
    _tc_node_set_profile_kind (self, data->passphrase != NULL ?
                                     TC_PROFILE_KIND_ENCRYPTED : TC_PROFILE_KIND_PLAINTEXT);

  return _tc_node_take_profile (self, data->identity, data->store, error);
}

static void
unlock_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TcNode *self = g_task_get_source_object (task);
  ProfileTask *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  set_busy (self, FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), &error) ||
      !finish_unlock (self, data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
check_unlock_args (TcNode      *self,
                   const char  *passphrase,
                   GError     **error)
{
  if (!check_not_busy (self, error))
    return FALSE;

  if (tc_node_get_unlocked (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           _("The profile is already unlocked"));
      return FALSE;
    }

  return TRUE;
}

static ProfileTask *
profile_task_new (TcNode     *self,
                  const char *passphrase,
                  gsize       length)
{
  ProfileTask *data = g_new0 (ProfileTask, 1);

  data->dir = g_strdup (tc_node_get_profile_dir (self));
  data->kind = _tc_node_get_profile_kind (self);
  data->passphrase = dup_secret (passphrase, length);
  data->length = length;

  return data;
}

void
tc_node_unlock_async (TcNode              *self,
                      const char          *passphrase,
                      gsize                length,
                      GCancellable        *cancellable,
                      GAsyncReadyCallback  callback,
                      gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;
  GError *error = NULL;

  g_return_if_fail (TC_IS_NODE (self));
  g_return_if_fail (passphrase != NULL || length == 0);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_node_unlock_async);

  if (!check_unlock_args (self, passphrase, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  /* The worker owns the secrets; the outer task only reports. */
  worker = g_task_new (NULL, cancellable, unlock_done_cb, g_steal_pointer (&task));
  g_task_set_task_data (worker, profile_task_new (self, passphrase, length),
                        (GDestroyNotify) profile_task_free);
  set_busy (self, TRUE);
  g_task_run_in_thread (worker, unlock_thread);
}

gboolean
tc_node_unlock_finish (TcNode        *self,
                       GAsyncResult  *result,
                       GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
tc_node_unlock (TcNode      *self,
                const char  *passphrase,
                gsize        length,
                GError     **error)
{
  ProfileTask *data;
  gboolean ok;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  g_return_val_if_fail (passphrase != NULL || length == 0, FALSE);

  if (!check_unlock_args (self, passphrase, error))
    return FALSE;

  data = profile_task_new (self, passphrase, length);
  ok = tc_profile_open (data->dir, data->kind, data->passphrase, data->length,
                        &data->identity, &data->store, NULL, error) &&
       finish_unlock (self, data, error);
  profile_task_free (data);

  return ok;
}

/* Change of passphrase */

static gboolean
check_change_args (TcNode  *self,
                   GError **error)
{
  if (!check_not_busy (self, error))
    return FALSE;

  if (!tc_node_get_encrypted (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           _("The profile is not encrypted: it has no passphrase to change"));
      return FALSE;
    }

  return TRUE;
}

static void
change_thread (GTask        *task,
               gpointer      source_object,
               gpointer      task_data,
               GCancellable *cancellable)
{
  ProfileTask *data = task_data;
  GError *error = NULL;

  if (!tc_profile_change_passphrase (data->dir, data->passphrase, data->length,
                                     data->new_passphrase, data->new_length,
                                     cancellable, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static void
change_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  GError *error = NULL;

  set_busy (g_task_get_source_object (task), FALSE);

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
tc_node_change_passphrase_async (TcNode              *self,
                                 const char          *old_passphrase,
                                 gsize                old_length,
                                 const char          *new_passphrase,
                                 gsize                new_length,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;
  ProfileTask *data;
  GError *error = NULL;

  g_return_if_fail (TC_IS_NODE (self));
  g_return_if_fail (old_passphrase != NULL && new_passphrase != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_node_change_passphrase_async);

  if (!check_change_args (self, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  data = profile_task_new (self, old_passphrase, old_length);
  data->new_passphrase = dup_secret (new_passphrase, new_length);
  data->new_length = new_length;

  worker = g_task_new (NULL, cancellable, change_done_cb, g_steal_pointer (&task));
  g_task_set_task_data (worker, data, (GDestroyNotify) profile_task_free);
  set_busy (self, TRUE);
  g_task_run_in_thread (worker, change_thread);
}

gboolean
tc_node_change_passphrase_finish (TcNode        *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
tc_node_change_passphrase (TcNode      *self,
                           const char  *old_passphrase,
                           gsize        old_length,
                           const char  *new_passphrase,
                           gsize        new_length,
                           GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  g_return_val_if_fail (old_passphrase != NULL && new_passphrase != NULL, FALSE);

  if (!check_change_args (self, error))
    return FALSE;

  return tc_profile_change_passphrase (tc_node_get_profile_dir (self),
                                       old_passphrase, old_length,
                                       new_passphrase, new_length, NULL, error);
}

/* Encrypting a plaintext profile */

static gboolean
check_encrypt_args (TcNode      *self,
                    gsize        length,
                    GError     **error)
{
  if (!check_not_busy (self, error))
    return FALSE;

  if (tc_node_get_encrypted (self))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                           _("The profile is already encrypted"));
      return FALSE;
    }

  if (!tc_node_get_unlocked (self))
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_LOCKED,
                           _("Open the profile before encrypting it"));
      return FALSE;
    }

  if (length == 0)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_EMPTY_PASSPHRASE,
                           _("The passphrase is empty"));
      return FALSE;
    }

  return TRUE;
}

static void
encrypt_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  ProfileTask *data = task_data;
  GError *error = NULL;

  if (!(data->key = tc_profile_prepare_encryption (data->identity, data->passphrase,
                                                   data->length, &data->header, &error)))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static gboolean
finish_encryption (TcNode       *self,
                   ProfileTask  *data,
                   GError      **error)
{
  if (!tc_profile_finish_encryption (data->dir, tc_node_get_store (self),
                                     data->key, data->header, error))
    return FALSE;

  _tc_node_set_profile_kind (self, TC_PROFILE_KIND_ENCRYPTED);
  return TRUE;
}

static void
encrypt_done_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  TcNode *self = g_task_get_source_object (task);
  ProfileTask *data = g_task_get_task_data (G_TASK (result));
  GError *error = NULL;

  set_busy (self, FALSE);

  /* The rewrite itself runs here, between two turns of the main loop, so
   * that nothing writes to the database while it is copied. */
  if (!g_task_propagate_boolean (G_TASK (result), &error) ||
      !finish_encryption (self, data, &error))
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

void
tc_node_encrypt_async (TcNode              *self,
                       const char          *passphrase,
                       gsize                length,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GTask) worker = NULL;
  ProfileTask *data;
  GError *error = NULL;

  g_return_if_fail (TC_IS_NODE (self));
  g_return_if_fail (passphrase != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_node_encrypt_async);

  if (!check_encrypt_args (self, length, &error))
    {
      g_task_return_error (task, error);
      return;
    }

  data = profile_task_new (self, passphrase, length);
  data->identity = g_object_ref (tc_node_get_identity (self));

  worker = g_task_new (NULL, cancellable, encrypt_done_cb, g_steal_pointer (&task));
  g_task_set_task_data (worker, data, (GDestroyNotify) profile_task_free);
  set_busy (self, TRUE);
  g_task_run_in_thread (worker, encrypt_thread);
}

gboolean
tc_node_encrypt_finish (TcNode        *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

gboolean
tc_node_encrypt (TcNode      *self,
                 const char  *passphrase,
                 gsize        length,
                 GError     **error)
{
  ProfileTask *data;
  gboolean ok;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  g_return_val_if_fail (passphrase != NULL, FALSE);

  if (!check_encrypt_args (self, length, error))
    return FALSE;

  data = profile_task_new (self, passphrase, length);
  data->identity = g_object_ref (tc_node_get_identity (self));
  ok = (data->key = tc_profile_prepare_encryption (data->identity, data->passphrase,
                                                   data->length, &data->header, error)) &&
       finish_encryption (self, data, error);
  profile_task_free (data);

  return ok;
}
