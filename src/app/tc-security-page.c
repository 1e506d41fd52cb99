/* tc-security-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tc-a11y.h"
#include "tc-keyring.h"
#include "tc-profile-key.h"
#include "tc-security-page.h"
#include "tc-unlock-window.h"

struct _TcSecurityPage
{
  AdwPreferencesPage    parent_instance;

  TcNode               *node;
  char                 *profile_dir;
  gboolean              busy;
  char                 *keyring_update;  /* the new passphrase, while the keyring is asked */

  AdwPreferencesGroup  *group;
  GtkEditable          *old_row;
  GtkEditable          *new_row;
  GtkEditable          *confirm_row;
  GtkLabel             *hint_label;
  GtkLabel             *status_label;
  GtkSpinner           *spinner;
  GtkWidget            *apply_button;
};

G_DEFINE_FINAL_TYPE (TcSecurityPage, tc_security_page, ADW_TYPE_PREFERENCES_PAGE)

static void
show_status (TcSecurityPage *self,
             const char     *message,
             gboolean        error)
{
  gtk_label_set_text (self->status_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), message != NULL);
  if (error)
    gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
}

static void
changed_cb (TcSecurityPage *self)
{
  gboolean encrypted = tc_node_get_encrypted (self->node);
  const char *old = gtk_editable_get_text (self->old_row);
  const char *new = gtk_editable_get_text (self->new_row);
  const char *confirm = gtk_editable_get_text (self->confirm_row);
  const char *hint;
  gboolean ok;

  tc_unlock_window_rate_passphrase (new, &hint);
  if (confirm[0] != '\0' && !g_str_equal (new, confirm))
    hint = _("The two new passphrases differ.");
  gtk_label_set_text (self->hint_label, hint);

  ok = !self->busy && new[0] != '\0' && g_str_equal (new, confirm) &&
       (!encrypted || old[0] != '\0');
  gtk_widget_set_sensitive (self->apply_button, ok);
  gtk_widget_set_sensitive (GTK_WIDGET (self->old_row), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->new_row), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->confirm_row), !self->busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
}

static void
update_mode (TcSecurityPage *self)
{
  if (tc_node_get_encrypted (self->node))
    {
      adw_preferences_group_set_description (self->group,
        _("Your profile is encrypted with a passphrase. Changing it takes effect at once; "
          "the old one no longer opens the profile."));
      gtk_button_set_label (GTK_BUTTON (self->apply_button), _("_Change Passphrase"));
      gtk_widget_set_visible (GTK_WIDGET (self->old_row), TRUE);
    }
  else
    {
      adw_preferences_group_set_description (self->group,
        _("This profile is not encrypted: anyone who gets this computer’s disk or a backup "
          "of it can read your history and contacts and can pretend to be you. Choose a "
          "passphrase to encrypt it; the plaintext copy is removed."));
      gtk_button_set_label (GTK_BUTTON (self->apply_button), _("_Encrypt This Profile"));
      gtk_widget_set_visible (GTK_WIDGET (self->old_row), FALSE);
    }
  tc_a11y_fix_button_names (self->apply_button);
  changed_cb (self);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!tc_keyring_store_finish (result, &error))
    g_warning ("Could not update the passphrase in the keyring: %s", error->message);
}

static void
wipe_string (char **text)
{
  if (*text != NULL)
    {
      memset (*text, 0, strlen (*text));
      g_clear_pointer (text, g_free);
    }
}

/* A passphrase that was remembered is replaced by the new one; nothing is
 * stored if none was. */
static void
keyring_looked_up_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(TcSecurityPage) self = user_data;
  g_autoptr(GError) error = NULL;
  char *old = tc_keyring_lookup_finish (result, &error);

  if (old != NULL && self->keyring_update != NULL)
    tc_keyring_store_async (self->profile_dir, self->keyring_update,
                            strlen (self->keyring_update), NULL, stored_cb, NULL);
  if (old != NULL)
    tc_keyring_free_passphrase (old);
  wipe_string (&self->keyring_update);
}

static void
done (TcSecurityPage *self,
      gboolean        ok,
      GError         *error)
{
  self->busy = FALSE;

  if (ok)
    {
      wipe_string (&self->keyring_update);
      self->keyring_update = g_strdup (gtk_editable_get_text (self->new_row));
      tc_keyring_lookup_async (self->profile_dir, NULL, keyring_looked_up_cb,
                               g_object_ref (self));
      gtk_editable_set_text (self->old_row, "");
      gtk_editable_set_text (self->new_row, "");
      gtk_editable_set_text (self->confirm_row, "");
    }

  if (ok)
    show_status (self, tc_node_get_encrypted (self->node) ?
                 _("The passphrase is changed.") : NULL, FALSE);
  else if (g_error_matches (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE))
    show_status (self, _("The current passphrase is wrong. Nothing was changed."), TRUE);
  else
    show_status (self, error->message, TRUE);

  update_mode (self);
}

static void
changed_passphrase_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(TcSecurityPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = tc_node_change_passphrase_finish (TC_NODE (object), result, &error);

  done (self, ok, error);
}

static void
encrypted_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TcSecurityPage) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean ok = tc_node_encrypt_finish (TC_NODE (object), result, &error);

  done (self, ok, error);
  if (ok)
    show_status (self, _("The profile is encrypted."), FALSE);
}

static void
apply_clicked_cb (TcSecurityPage *self)
{
  const char *old = gtk_editable_get_text (self->old_row);
  const char *new = gtk_editable_get_text (self->new_row);

  if (self->busy || !gtk_widget_get_sensitive (self->apply_button))
    return;

  self->busy = TRUE;
  show_status (self, NULL, FALSE);
  changed_cb (self);

  if (tc_node_get_encrypted (self->node))
    tc_node_change_passphrase_async (self->node, old, strlen (old), new, strlen (new), NULL,
                                     changed_passphrase_cb, g_object_ref (self));
  else
    tc_node_encrypt_async (self->node, new, strlen (new), NULL,
                           encrypted_cb, g_object_ref (self));
}

static void
tc_security_page_finalize (GObject *object)
{
  TcSecurityPage *self = TC_SECURITY_PAGE (object);

  wipe_string (&self->keyring_update);
  g_clear_object (&self->node);
  g_free (self->profile_dir);

  G_OBJECT_CLASS (tc_security_page_parent_class)->finalize (object);
}

static void
tc_security_page_class_init (TcSecurityPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = tc_security_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/torchat/TorChat/tc-security-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, group);
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, old_row);
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, new_row);
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, confirm_row);
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, hint_label);
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, status_label);
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, spinner);
  gtk_widget_class_bind_template_child (widget_class, TcSecurityPage, apply_button);
  gtk_widget_class_bind_template_callback (widget_class, changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, apply_clicked_cb);
}

static void
tc_security_page_init (TcSecurityPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tc_unlock_window_name_row_buttons (GTK_WIDGET (self->old_row));
  tc_unlock_window_name_row_buttons (GTK_WIDGET (self->new_row));
  tc_unlock_window_name_row_buttons (GTK_WIDGET (self->confirm_row));
}

GtkWidget *
tc_security_page_new (TcNode     *node,
                      const char *profile_dir)
{
  TcSecurityPage *self;

  g_return_val_if_fail (TC_IS_NODE (node), NULL);

  self = g_object_new (TC_TYPE_SECURITY_PAGE, NULL);
  self->node = g_object_ref (node);
  self->profile_dir = g_strdup (profile_dir);
  g_signal_connect_object (node, "notify::encrypted", G_CALLBACK (update_mode), self,
                           G_CONNECT_SWAPPED);
  update_mode (self);

  return GTK_WIDGET (self);
}
