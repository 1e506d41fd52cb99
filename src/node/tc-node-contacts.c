/* tc-node-contacts.c: what the user does with contacts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-address.h"
#include "tc-node-private.h"

char *
_tc_node_normalize_other (TcNode      *self,
                          const char  *address,
                          GError     **error)
{
  g_autofree char *normalized = tc_address_normalize (address, error);

  if (normalized == NULL)
    return NULL;

  if (g_str_equal (normalized, tc_identity_get_address (self->identity)))
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_SELF,
                           _("This is your own address"));
      return NULL;
    }

  return g_steal_pointer (&normalized);
}

TcContact *
_tc_node_find_contact (TcNode      *self,
                       const char  *address,
                       GError     **error)
{
  g_autofree char *normalized = _tc_node_normalize_other (self, address, error);
  TcContact *contact;

  if (normalized == NULL)
    return NULL;

  contact = g_hash_table_lookup (self->contacts_by_address, normalized);
  if (contact == NULL)
    g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_UNKNOWN_CONTACT,
                         _("This address is not in your contacts"));

  return contact;
}

gboolean
_tc_node_commit_contact (TcNode     *self,
                         TcContact  *contact,
                         GError    **error)
{
  if (!tc_store_save_contact (self->store, contact, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  return tc_store_commit (self->store, error);
}

void
_tc_node_append_contact (TcNode    *self,
                         TcContact *contact)
{
  g_hash_table_insert (self->contacts_by_address,
                       g_strdup (tc_contact_get_address (contact)), contact);
  g_list_store_append (self->contacts, contact);
}

TcContact *
tc_node_add_contact (TcNode      *self,
                     const char  *address,
                     const char  *nickname,
                     const char  *greeting,
                     GError     **error)
{
  g_autofree char *normalized = NULL;
  g_autoptr(TcContact) created = NULL;
  TcContact *contact;

  g_return_val_if_fail (TC_IS_NODE (self), NULL);

  normalized = _tc_node_normalize_other (self, address, error);
  if (normalized == NULL)
    return NULL;

  contact = g_hash_table_lookup (self->contacts_by_address, normalized);
  if (contact == NULL)
    {
      created = tc_contact_new (normalized);
      contact = created;
    }

  if (nickname != NULL && *nickname != '\0')
    tc_contact_set_nickname (contact, nickname);

  switch (tc_contact_get_state (contact))
    {
    case TC_CONTACT_STATE_ACCEPTED:
      break;

    case TC_CONTACT_STATE_PENDING:
      /* Adding someone who asked us is saying yes. */
      tc_contact_set_state (contact, TC_CONTACT_STATE_ACCEPTED);
      tc_contact_set_answer_pending (contact, TRUE);
      break;

    case TC_CONTACT_STATE_REQUESTED:
    case TC_CONTACT_STATE_DECLINED:
    case TC_CONTACT_STATE_BLOCKED:
    default:
      tc_contact_set_state (contact, TC_CONTACT_STATE_REQUESTED);
      tc_contact_set_answer_pending (contact, FALSE);
      tc_contact_set_greeting (contact, greeting);
      break;
    }

  if (!_tc_node_commit_contact (self, contact, error))
    return NULL;

  if (created != NULL)
    _tc_node_append_contact (self, created);

  tc_peer_contact_changed (_tc_node_ensure_peer (self, normalized));

  return contact;
}

static gboolean
answer_contact (TcNode          *self,
                const char      *address,
                TcContactState   state,
                GError         **error)
{
  TcContact *contact = _tc_node_find_contact (self, address, error);

  if (contact == NULL)
    return FALSE;

  if (state != TC_CONTACT_STATE_BLOCKED &&
      tc_contact_get_state (contact) != TC_CONTACT_STATE_PENDING)
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_NOT_ALLOWED,
                           _("There is no contact request from this address to answer"));
      return FALSE;
    }

  tc_contact_set_state (contact, state);
  tc_contact_set_answer_pending (contact, state != TC_CONTACT_STATE_BLOCKED);

  if (state != TC_CONTACT_STATE_ACCEPTED &&
      !tc_store_fail_outbox (self->store, tc_contact_get_address (contact), error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!_tc_node_commit_contact (self, contact, error))
    return FALSE;

  tc_peer_contact_changed (_tc_node_ensure_peer (self, tc_contact_get_address (contact)));

  return TRUE;
}

gboolean
tc_node_accept_contact (TcNode      *self,
                        const char  *address,
                        GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  return answer_contact (self, address, TC_CONTACT_STATE_ACCEPTED, error);
}

gboolean
tc_node_decline_contact (TcNode      *self,
                         const char  *address,
                         GError     **error)
{
  g_return_val_if_fail (TC_IS_NODE (self), FALSE);
  return answer_contact (self, address, TC_CONTACT_STATE_DECLINED, error);
}

gboolean
tc_node_block_contact (TcNode      *self,
                       const char  *address,
                       GError     **error)
{
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  /* Blocking works for strangers too: they get a contact entry that says so. */
  normalized = _tc_node_normalize_other (self, address, error);
  if (normalized == NULL)
    return FALSE;

  if (!g_hash_table_contains (self->contacts_by_address, normalized))
    {
      g_autoptr(TcContact) contact = tc_contact_new (normalized);

      tc_contact_set_state (contact, TC_CONTACT_STATE_BLOCKED);
      if (!_tc_node_commit_contact (self, contact, error))
        return FALSE;
      _tc_node_append_contact (self, contact);
    }

  if (!answer_contact (self, normalized, TC_CONTACT_STATE_BLOCKED, error))
    return FALSE;

  tc_transfer_manager_forget_peer (self->transfers, normalized);
  return TRUE;
}

gboolean
tc_node_remove_contact (TcNode      *self,
                        const char  *address,
                        GError     **error)
{
  TcContact *contact = _tc_node_find_contact (self, address, error);
  g_autofree char *normalized = NULL;
  g_autoptr(GError) local = NULL;
  TcConversation *conversation;
  TcPeer *peer;
  guint position;

  if (contact == NULL)
    return FALSE;

  normalized = g_strdup (tc_contact_get_address (contact));
  if (!tc_store_forget_peer (self->store, normalized, error))
    {
      tc_store_rollback (self->store);
      return FALSE;
    }

  if (!tc_store_commit (self->store, error))
    return FALSE;

  /* The deleted rows are overwritten (secure_delete); their copies in the
   * write-ahead log go with it. The deletion itself is done already. */
  if (!tc_store_checkpoint (self->store, &local))
    g_warning ("Removed a contact, but its history may stay in the database journal "
               "until the next checkpoint: %s", local->message);

  if (g_list_store_find (self->contacts, contact, &position))
    g_list_store_remove (self->contacts, position);
  g_hash_table_remove (self->contacts_by_address, normalized);

  /* A view still showing the conversation shows it empty; the cache
   * forgets it. */
  conversation = g_hash_table_lookup (self->conversations, normalized);
  if (conversation != NULL)
    {
      tc_conversation_reload (conversation);
      g_hash_table_remove (self->conversations, normalized);
    }

  peer = g_hash_table_lookup (self->peers, normalized);
  if (peer != NULL)
    tc_peer_contact_changed (peer);
  tc_transfer_manager_forget_peer (self->transfers, normalized);

  return TRUE;
}

/* The name the user gives a contact locally; NULL or "" goes back to the
 * peer's own name. The contact keeps its old name if it cannot be stored. */
gboolean
tc_node_rename_contact (TcNode      *self,
                        const char  *address,
                        const char  *nickname,
                        GError     **error)
{
  TcContact *contact;
  g_autofree char *old = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  contact = _tc_node_find_contact (self, address, error);
  if (contact == NULL)
    return FALSE;

  old = g_strdup (tc_contact_get_nickname (contact));
  tc_contact_set_nickname (contact, nickname != NULL && nickname[0] != '\0' ? nickname : NULL);
  if (!_tc_node_commit_contact (self, contact, error))
    {
      tc_contact_set_nickname (contact, old);
      return FALSE;
    }

  return TRUE;
}

gboolean
tc_node_mark_read (TcNode      *self,
                   const char  *address,
                   GError     **error)
{
  TcContact *contact;
  guint unread;

  g_return_val_if_fail (TC_IS_NODE (self), FALSE);

  contact = _tc_node_find_contact (self, address, error);
  if (contact == NULL)
    return FALSE;

  unread = tc_contact_get_unread (contact);
  if (unread == 0)
    return TRUE;

  tc_contact_set_unread (contact, 0);
  if (!_tc_node_commit_contact (self, contact, error))
    {
      tc_contact_set_unread (contact, unread);
      return FALSE;
    }

  return TRUE;
}

GPtrArray *
tc_node_search (TcNode      *self,
                const char  *text,
                const char  *address,
                guint        limit,
                GError     **error)
{
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (TC_IS_NODE (self), NULL);
  g_return_val_if_fail (text != NULL, NULL);

  if (!g_utf8_validate (text, -1, NULL))
    {
      g_set_error_literal (error, TC_NODE_ERROR, TC_NODE_ERROR_INVALID_ARGUMENT,
                           _("The search text must be UTF-8"));
      return NULL;
    }

  /* A removed contact's history is gone; a typo is an error, not "nothing
   * found". */
  if (address != NULL && !(normalized = _tc_node_normalize_other (self, address, error)))
    return NULL;

  return tc_store_search (self->store, text, normalized, limit, error);
}

TcContact *
tc_node_lookup_contact (TcNode     *self,
                        const char *address)
{
  g_return_val_if_fail (TC_IS_NODE (self), NULL);

  if (address == NULL)
    return NULL;

  return g_hash_table_lookup (self->contacts_by_address, address);
}
