/* tc-unlock-window.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>
#include <string.h>

#include "tc-a11y.h"
#include "tc-keyring.h"
#include "tc-profile-key.h"
#include "tc-unlock-window.h"

/* How long the keyring may take to answer before the page just waits for
 * the user; it never blocks the page. */
#define KEYRING_TIMEOUT_SECONDS 10

struct _TcUnlockWindow
{
  AdwApplicationWindow  parent_instance;

  TcNode               *node;
  char                 *profile_dir;
  gboolean              create;       /* a new profile: choose a passphrase */
  gboolean              busy;
  gboolean              from_keyring; /* the running unlock used its passphrase */
  GCancellable         *keyring_cancellable;
  guint                 keyring_timeout;

  AdwWindowTitle       *window_title;
  GtkLabel             *title_label;
  GtkLabel             *description_label;
  GtkEditable          *passphrase_row;
  GtkEditable          *confirm_row;
  GtkWidget            *strength_box;
  GtkLevelBar          *strength_bar;
  GtkLabel             *strength_label;
  GtkLabel             *error_label;
  GtkCheckButton       *remember_check;
  GtkWidget            *unlock_button;
  GtkSpinner           *spinner;
  GtkWidget            *skip_box;
};

G_DEFINE_FINAL_TYPE (TcUnlockWindow, tc_unlock_window, ADW_TYPE_APPLICATION_WINDOW)

enum {
  UNLOCKED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

guint
tc_unlock_window_rate_passphrase (const char  *text,
                                  const char **hint)
{
  gboolean lower = FALSE, upper = FALSE, digit = FALSE, other = FALSE;
  g_autoptr(GHashTable) seen = g_hash_table_new (NULL, NULL);
  guint length = 0;
  guint pool;
  double per_char, bits;
  guint score;

  for (const char *p = text; *p; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      length++;
      g_hash_table_add (seen, GUINT_TO_POINTER (c));
      if (g_unichar_islower (c))
        lower = TRUE;
      else if (g_unichar_isupper (c))
        upper = TRUE;
      else if (g_unichar_isdigit (c))
        digit = TRUE;
      else
        other = TRUE;
    }

  pool = (lower ? 26 : 0) + (upper ? 26 : 0) + (digit ? 10 : 0) + (other ? 33 : 0);
  /* About log2 of the pool: the bits a random character of it carries. */
  per_char = pool >= 95 ? 6.6 : pool >= 62 ? 5.9 : pool >= 52 ? 5.7 :
             pool >= 36 ? 5.2 : pool >= 26 ? 4.7 : pool > 0 ? 3.3 : 0;
  /* Repeats add little: "aaaaaaaaaaaa" is not twelve letters of secret. */
  bits = MIN (length, 2 * g_hash_table_size (seen)) * per_char;

  if (length == 0)
    score = 0;
  else if (bits < 36)
    score = 1;
  else if (bits < 56)
    score = 2;
  else if (bits < 80)
    score = 3;
  else
    score = 4;

  if (hint != NULL)
    {
      static const char *hints[] = {
        N_("Several unrelated words make a passphrase that is strong and easy to remember."),
        N_("Weak: easy to guess for someone who has your disk. Make it longer."),
        N_("Fair: a few more words or characters would make it much harder to guess."),
        N_("Good."),
        N_("Strong."),
      };

      *hint = _(hints[score]);
    }

  return score;
}

static void
show_error (TcUnlockWindow *self,
            const char     *message)
{
  gtk_label_set_text (self->error_label, message);
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
update_sensitivity (TcUnlockWindow *self)
{
  const char *text = gtk_editable_get_text (self->passphrase_row);
  gboolean ok = text[0] != '\0' && !self->busy;

  if (self->create)
    ok = ok && g_str_equal (text, gtk_editable_get_text (self->confirm_row));

  gtk_widget_set_sensitive (self->unlock_button, ok);
  gtk_widget_set_sensitive (GTK_WIDGET (self->passphrase_row), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->confirm_row), !self->busy);
  gtk_widget_set_sensitive (GTK_WIDGET (self->remember_check), !self->busy);
  gtk_widget_set_sensitive (self->skip_box, !self->busy);
  gtk_widget_set_visible (GTK_WIDGET (self->spinner), self->busy);
  gtk_spinner_set_spinning (self->spinner, self->busy);
}

static void
set_busy (TcUnlockWindow *self,
          gboolean        busy)
{
  self->busy = busy;
  update_sensitivity (self);
}

static void
entry_changed_cb (TcUnlockWindow *self)
{
  if (self->create)
    {
      const char *text = gtk_editable_get_text (self->passphrase_row);
      const char *confirm = gtk_editable_get_text (self->confirm_row);
      const char *hint;

      gtk_level_bar_set_value (self->strength_bar,
                               tc_unlock_window_rate_passphrase (text, &hint));
      if (confirm[0] != '\0' && !g_str_equal (text, confirm))
        hint = _("The two passphrases differ.");
      gtk_label_set_text (self->strength_label, hint);
    }

  update_sensitivity (self);
}

static void
stored_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  /* The profile is open either way; only the next start asks again. */
  if (!tc_keyring_store_finish (result, &error))
    g_warning ("Could not remember the passphrase in the keyring: %s", error->message);
}

static void
cleared_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!tc_keyring_clear_finish (result, &error))
    g_warning ("Could not remove the passphrase from the keyring: %s", error->message);
}

static void
wipe_entries (TcUnlockWindow *self)
{
  gtk_editable_set_text (self->passphrase_row, "");
  gtk_editable_set_text (self->confirm_row, "");
}

static void
unlocked_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(TcUnlockWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  gboolean from_keyring = self->from_keyring;

  self->from_keyring = FALSE;
  set_busy (self, FALSE);

  if (!tc_node_unlock_finish (TC_NODE (object), result, &error))
    {
      if (g_error_matches (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE))
        {
          if (from_keyring)
            {
              /* Changed elsewhere: the stored one is useless now. */
              tc_keyring_clear_async (self->profile_dir, NULL, cleared_cb, NULL);
              show_error (self, _("The passphrase remembered in the keyring no longer opens "
                                  "this profile. Type the passphrase."));
            }
          else
            {
              show_error (self, _("Wrong passphrase. Nothing was changed; try again."));
            }
          gtk_editable_select_region (self->passphrase_row, 0, -1);
          gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_row));
        }
      else
        {
          show_error (self, error->message);
        }
      return;
    }

  if (gtk_check_button_get_active (self->remember_check) && !from_keyring)
    {
      const char *text = gtk_editable_get_text (self->passphrase_row);

      if (text[0] != '\0')
        tc_keyring_store_async (self->profile_dir, text, strlen (text), NULL, stored_cb, NULL);
    }

  wipe_entries (self);
  g_signal_emit (self, signals[UNLOCKED], 0);
}

static void
start_unlock (TcUnlockWindow *self,
              const char     *passphrase,
              gsize           length)
{
  show_error (self, NULL);
  set_busy (self, TRUE);
  tc_node_unlock_async (self->node, passphrase, length, NULL, unlocked_cb, g_object_ref (self));
}

static void
unlock_clicked_cb (TcUnlockWindow *self)
{
  const char *text = gtk_editable_get_text (self->passphrase_row);

  if (self->busy || text[0] == '\0')
    return;
  if (self->create && !g_str_equal (text, gtk_editable_get_text (self->confirm_row)))
    return;

  /* The user answers; the keyring need not any more. */
  g_cancellable_cancel (self->keyring_cancellable);
  start_unlock (self, text, strlen (text));
}

static void
entry_activated_cb (TcUnlockWindow *self,
                    GtkWidget      *row)
{
  if (self->create && row == GTK_WIDGET (self->passphrase_row))
    gtk_widget_grab_focus (GTK_WIDGET (self->confirm_row));
  else
    unlock_clicked_cb (self);
}

static void
skip_clicked_cb (TcUnlockWindow *self)
{
  if (self->busy)
    return;

  wipe_entries (self);
  start_unlock (self, NULL, 0);
}

static void
looked_up_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  g_autoptr(TcUnlockWindow) self = user_data;
  g_autoptr(GError) error = NULL;
  char *passphrase;

  g_clear_handle_id (&self->keyring_timeout, g_source_remove);
  passphrase = tc_keyring_lookup_finish (result, &error);
  if (passphrase == NULL)
    {
      if (error != NULL && !g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No passphrase from the keyring: %s", error->message);
      return;
    }

  if (!self->busy && !tc_node_get_unlocked (self->node))
    {
      self->from_keyring = TRUE;
      gtk_check_button_set_active (self->remember_check, TRUE);
      start_unlock (self, passphrase, strlen (passphrase));
    }
  tc_keyring_free_passphrase (passphrase);
}

static gboolean
keyring_timeout_cb (gpointer user_data)
{
  TcUnlockWindow *self = user_data;

  self->keyring_timeout = 0;
  g_cancellable_cancel (self->keyring_cancellable);

  return G_SOURCE_REMOVE;
}

static GtkWidget *
find_descendant (GtkWidget *widget,
                 GType      type)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found;

      if (G_TYPE_CHECK_INSTANCE_TYPE (child, type))
        return child;
      if ((found = find_descendant (child, type)) != NULL)
        return found;
    }

  return NULL;
}

static void
name_peek_button (GtkText    *text,
                  GParamSpec *pspec,
                  GtkWidget  *button)
{
  gtk_accessible_update_property (GTK_ACCESSIBLE (button), GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  gtk_text_get_visibility (text) ? _("Hide Passphrase")
                                                                 : _("Show Passphrase"),
                                  -1);
}

static void
name_buttons_under (GtkWidget *widget,
                    GtkText   *text)
{
  for (GtkWidget *child = gtk_widget_get_first_child (widget);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      if (GTK_IS_BUTTON (child) && gtk_button_get_label (GTK_BUTTON (child)) == NULL)
        {
          GtkWidget *image = gtk_button_get_child (GTK_BUTTON (child));
          const char *icon = GTK_IS_IMAGE (image) ? gtk_image_get_icon_name (GTK_IMAGE (image)) : NULL;

          /* The eye: view-reveal-symbolic or view-conceal-symbolic. */
          if (icon != NULL && g_str_has_prefix (icon, "view-"))
            {
              name_peek_button (text, NULL, child);
              g_signal_connect_object (text, "notify::visibility",
                                       G_CALLBACK (name_peek_button), child, 0);
            }
          else if (gtk_widget_get_tooltip_text (child) != NULL)
            {
              gtk_accessible_update_property (GTK_ACCESSIBLE (child),
                                              GTK_ACCESSIBLE_PROPERTY_LABEL,
                                              gtk_widget_get_tooltip_text (child), -1);
            }
          continue;
        }

      name_buttons_under (child, text);
    }
}

void
tc_unlock_window_name_row_buttons (GtkWidget *row)
{
  GtkWidget *text;

  g_return_if_fail (ADW_IS_PASSWORD_ENTRY_ROW (row));

  if ((text = find_descendant (row, GTK_TYPE_TEXT)) != NULL)
    name_buttons_under (row, GTK_TEXT (text));
}

static void
tc_unlock_window_setup (TcUnlockWindow *self)
{
  const char *title;

  self->create = tc_node_get_profile_kind (self->node) == TC_PROFILE_KIND_NEW;

  if (self->create)
    {
      title = _("Protect Your Profile");
      gtk_label_set_text (self->description_label,
                          _("Choose a passphrase. Your messages, contacts and identity are "
                            "stored encrypted with it, and TORChat asks for it at every "
                            "start. There is no way to recover a forgotten passphrase."));
      gtk_button_set_label (GTK_BUTTON (self->unlock_button), _("_Create Profile"));
      entry_changed_cb (self);
    }
  else
    {
      title = _("Unlock Your Profile");
      gtk_label_set_text (self->description_label,
                          _("Your profile is encrypted. Type its passphrase to open it."));
      gtk_button_set_label (GTK_BUTTON (self->unlock_button), _("_Unlock"));
      gtk_widget_set_visible (GTK_WIDGET (self->confirm_row), FALSE);
      gtk_widget_set_visible (self->strength_box, FALSE);
      gtk_widget_set_visible (self->skip_box, FALSE);
      gtk_window_set_default_size (GTK_WINDOW (self), 520, 520);

      self->keyring_cancellable = g_cancellable_new ();
      self->keyring_timeout = g_timeout_add_seconds (KEYRING_TIMEOUT_SECONDS,
                                                     keyring_timeout_cb, self);
      tc_keyring_lookup_async (self->profile_dir, self->keyring_cancellable,
                               looked_up_cb, g_object_ref (self));
    }

  gtk_label_set_text (self->title_label, title);
  gtk_window_set_title (GTK_WINDOW (self), title);
  adw_window_title_set_title (self->window_title, _("TORChat"));
  tc_a11y_fix_button_names (GTK_WIDGET (self));
  /* The same for the check button: "Remember in the keyring", once. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->remember_check),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL,
                                  _("Remember in the keyring"), -1);
  gtk_widget_grab_focus (GTK_WIDGET (self->passphrase_row));
}

static void
tc_unlock_window_dispose (GObject *object)
{
  TcUnlockWindow *self = TC_UNLOCK_WINDOW (object);

  g_cancellable_cancel (self->keyring_cancellable);
  g_clear_handle_id (&self->keyring_timeout, g_source_remove);

  G_OBJECT_CLASS (tc_unlock_window_parent_class)->dispose (object);
}

static void
tc_unlock_window_finalize (GObject *object)
{
  TcUnlockWindow *self = TC_UNLOCK_WINDOW (object);

  g_clear_object (&self->keyring_cancellable);
  g_clear_object (&self->node);
  g_free (self->profile_dir);

  G_OBJECT_CLASS (tc_unlock_window_parent_class)->finalize (object);
}

static void
tc_unlock_window_class_init (TcUnlockWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_unlock_window_dispose;
  object_class->finalize = tc_unlock_window_finalize;

  signals[UNLOCKED] =
    g_signal_new ("unlocked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 0);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/torchat/TorChat/tc-unlock-window.ui");
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, window_title);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, title_label);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, description_label);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, passphrase_row);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, confirm_row);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, strength_box);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, strength_bar);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, strength_label);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, error_label);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, remember_check);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, unlock_button);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, spinner);
  gtk_widget_class_bind_template_child (widget_class, TcUnlockWindow, skip_box);
  gtk_widget_class_bind_template_callback (widget_class, entry_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, entry_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, unlock_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, skip_clicked_cb);
}

static void
tc_unlock_window_init (TcUnlockWindow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tc_unlock_window_name_row_buttons (GTK_WIDGET (self->passphrase_row));
  tc_unlock_window_name_row_buttons (GTK_WIDGET (self->confirm_row));
}

GtkWidget *
tc_unlock_window_new (GtkApplication *application,
                      TcNode         *node,
                      const char     *profile_dir)
{
  TcUnlockWindow *self;

  g_return_val_if_fail (TC_IS_NODE (node), NULL);

  self = g_object_new (TC_TYPE_UNLOCK_WINDOW, "application", application, NULL);
  self->node = g_object_ref (node);
  self->profile_dir = g_strdup (profile_dir);
  tc_unlock_window_setup (self);

  return GTK_WIDGET (self);
}
