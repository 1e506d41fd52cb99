/* tc-tor-publish.c: the onion service (ADD_ONION) and descriptor fetches (HSFETCH)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>

#include "tc-address.h"
#include "tc-tor-private.h"
#include "tc-types.h"

static void
add_onion_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TcTor) self = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = NULL;
  const char *expected;

  reply = tc_tor_control_command_finish (TC_TOR_CONTROL (object), result, &error);
  if (reply == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED) ||
          TC_TOR_CONTROL (object) != self->control)
        return;
      _tc_tor_set_string_prop (self, &self->last_error, error->message, PROP_LAST_ERROR);
      g_warning ("Tor refused to publish the onion service: %s", error->message);
      return;
    }

  expected = tc_identity_get_address (self->identity);
  for (guint i = 0; reply[i] != NULL; i++)
    {
      g_autofree char *address = NULL;

      if (!g_str_has_prefix (reply[i], "ServiceID="))
        continue;

      address = g_strconcat (reply[i] + strlen ("ServiceID="), ".onion", NULL);
      if (!g_str_equal (address, expected))
        {
          /* Tor and we disagree on what our key means: never run like that. */
          g_autofree char *ours = tc_address_redact (expected);
          g_autofree char *theirs = tc_address_redact (address);
          g_autofree char *message = g_strdup_printf (_("Tor published %s instead of our address %s"),
                                                      theirs, ours);

          g_warning ("%s", message);
          _tc_tor_set_string_prop (self, &self->last_error, message, PROP_LAST_ERROR);
          _tc_tor_set_state (self, TC_TOR_STATE_FAILED);
          return;
        }

      _tc_tor_set_bool_prop (self, &self->published, TRUE, PROP_ONION_PUBLISHED);
      return;
    }

  g_warning ("Tor's answer to ADD_ONION had no ServiceID");
}

void
_tc_tor_publish_now (TcTor *self)
{
  g_autofree char *blob = NULL;
  g_autofree char *ports = NULL;
  g_autofree char *command = NULL;

  if (self->control == NULL || self->identity == NULL || self->local_port == 0 ||
      self->published)
    return;

  /* Not printf with the key: vasprintf builds the text in a buffer of its
   * own (on the stack, or freed unwiped) before the copy it returns. */
  blob = tc_identity_dup_tor_key_blob (self->identity);
  ports = g_strdup_printf ("Port=%u,127.0.0.1:%u", TC_VIRTUAL_PORT, self->local_port);
  command = g_strconcat ("ADD_ONION ", blob, " ", ports, NULL);
  tc_tor_control_command_async (self->control, command, self->cancellable,
                                add_onion_cb, g_object_ref (self));
  /* The onion key: our copies go as soon as the command has its own. */
  explicit_bzero (blob, strlen (blob));
  explicit_bzero (command, strlen (command));
}

static void
hsfetch_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) reply = tc_tor_control_command_finish (TC_TOR_CONTROL (object), result, &error);

  if (reply == NULL)
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

void
tc_tor_fetch_descriptor_async (TcTor               *self,
                               const char          *address,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *service = NULL;
  g_autofree char *command = NULL;

  g_return_if_fail (TC_IS_TOR (self));
  g_return_if_fail (address != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, tc_tor_fetch_descriptor_async);

  if (self->control == NULL || tc_tor_control_is_closed (self->control))
    {
      g_task_return_new_error (task, TC_TOR_ERROR, TC_TOR_ERROR_FAILED,
                               _("Tor’s control port is not connected"));
      return;
    }

  /* The service id: the address without ".onion", checked to be one word
   * so that nothing else reaches the control port. */
  service = g_str_has_suffix (address, ".onion") ?
            g_strndup (address, strlen (address) - strlen (".onion")) : g_strdup (address);
  for (const char *c = service; *c != '\0'; c++)
    {
      if (!g_ascii_isalnum (*c))
        {
          g_task_return_new_error (task, TC_TOR_ERROR, TC_TOR_ERROR_FAILED,
                                   _("Not an onion address"));
          return;
        }
    }

  command = g_strdup_printf ("HSFETCH %s", service);
  tc_tor_control_command_async (self->control, command, cancellable,
                                hsfetch_cb, g_steal_pointer (&task));
}

gboolean
tc_tor_fetch_descriptor_finish (TcTor         *self,
                                GAsyncResult  *result,
                                GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

void
tc_tor_publish (TcTor      *self,
                TcIdentity *identity,
                guint       local_port)
{
  g_return_if_fail (TC_IS_TOR (self));
  g_return_if_fail (TC_IS_IDENTITY (identity));

  g_set_object (&self->identity, identity);
  self->local_port = local_port;

  if (self->socks_address != NULL)
    _tc_tor_publish_now (self);
}
