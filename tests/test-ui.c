/* test-ui.c: the window as a user sees it, under Xvfb
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gstdio.h>

#include "tc-add-contact-dialog.h"
#include "tc-contact-row.h"
#include "tc-message-row.h"
#include "tc-node.h"
#include "tc-window.h"

#define TIMEOUT_MS 10000

typedef struct {
  char     *profile_dir;
  TcNode   *node;
  TcWindow *window;
} Fixture;

typedef gboolean (*Condition) (gpointer data);

static gboolean
wake_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

/* Runs the main loop until @condition holds, or fails after TIMEOUT_MS. */
static gboolean
iterate_until (Condition condition,
               gpointer  data)
{
  gint64 deadline = g_get_monotonic_time () + TIMEOUT_MS * 1000;
  guint wake = g_timeout_add (20, wake_cb, NULL);
  gboolean ok;

  while (!(ok = condition (data)) && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (wake);

  return ok;
}

/* Lets GTK lay out and draw what changed. */
static void
iterate_for (guint ms)
{
  gint64 deadline = g_get_monotonic_time () + ms * 1000;
  guint wake = g_timeout_add (10, wake_cb, NULL);

  while (g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, TRUE);

  g_source_remove (wake);
}

/* Widgets that are on screen: mapped and drawn with some size. */
static gboolean
is_shown (GtkWidget *widget)
{
  return gtk_widget_get_mapped (widget) &&
         gtk_widget_get_width (widget) > 0 &&
         gtk_widget_get_height (widget) > 0;
}

typedef gboolean (*Match) (GtkWidget *widget, gconstpointer data);

static GtkWidget *
find_widget (GtkWidget     *root,
             Match          match,
             gconstpointer  data)
{
  if (match (root, data))
    return root;

  for (GtkWidget *child = gtk_widget_get_first_child (root);
       child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_widget (child, match, data);

      if (found != NULL)
        return found;
    }

  return NULL;
}

static gboolean
match_label (GtkWidget     *widget,
             gconstpointer  text)
{
  return GTK_IS_LABEL (widget) && is_shown (widget) &&
         g_strcmp0 (gtk_label_get_label (GTK_LABEL (widget)), text) == 0;
}

static gboolean
match_type (GtkWidget     *widget,
            gconstpointer  type)
{
  return G_TYPE_CHECK_INSTANCE_TYPE (widget, GPOINTER_TO_SIZE (type)) && is_shown (widget);
}

static gboolean
match_window_title (GtkWidget     *widget,
                    gconstpointer  text)
{
  return ADW_IS_WINDOW_TITLE (widget) && is_shown (widget) &&
         g_strcmp0 (adw_window_title_get_title (ADW_WINDOW_TITLE (widget)), text) == 0;
}

static gboolean
match_button_label (GtkWidget     *widget,
                    gconstpointer  text)
{
  return GTK_IS_BUTTON (widget) && is_shown (widget) &&
         g_strcmp0 (gtk_button_get_label (GTK_BUTTON (widget)), text) == 0;
}

static GtkWidget *
find_label (gpointer    root,
            const char *text)
{
  return find_widget (GTK_WIDGET (root), match_label, text);
}

static GtkWidget *
find_shown (gpointer root,
            GType    type)
{
  return find_widget (GTK_WIDGET (root), match_type, GSIZE_TO_POINTER (type));
}

typedef struct {
  gpointer       root;
  Match          match;
  gconstpointer  data;
} Query;

static gboolean
query_found_cb (gpointer data)
{
  Query *query = data;

  return find_widget (query->root, query->match, query->data) != NULL;
}

static gboolean
query_gone_cb (gpointer data)
{
  return !query_found_cb (data);
}

/* The widget that @match finds once it is on screen, or NULL after
 * TIMEOUT_MS. */
static GtkWidget *
wait_for_widget (gpointer       root,
                 Match          match,
                 gconstpointer  data)
{
  Query query = { root, match, data };

  if (!iterate_until (query_found_cb, &query))
    return NULL;

  return find_widget (root, match, data);
}

static GtkWidget *
wait_for_label (gpointer    root,
                const char *text)
{
  return wait_for_widget (root, match_label, text);
}

static gboolean
wait_for_no_label (gpointer    root,
                   const char *text)
{
  Query query = { root, match_label, text };

  return iterate_until (query_gone_cb, &query);
}

static char *
make_address (guint8 fill)
{
  guint8 seed[TC_SEED_LEN];
  g_autoptr(TcIdentity) identity = NULL;

  memset (seed, fill, sizeof seed);
  identity = tc_identity_new_from_seed (seed);

  return g_strdup (tc_identity_get_address (identity));
}

static void
rm_rf (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        rm_rf (child);
      else
        g_unlink (child);
    }

  g_rmdir (path);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  fixture->profile_dir = g_dir_make_tmp ("torchat-ui-XXXXXX", &error);
  g_assert_no_error (error);

  fixture->node = tc_node_new (fixture->profile_dir, &error);
  g_assert_no_error (error);
  g_assert_nonnull (fixture->node);

  /* Nothing listens on port 1: outgoing connections fail at once and the
   * messages stay queued, without Tor. */
  tc_node_set_listen_address (fixture->node, "127.0.0.1:0", &error);
  g_assert_no_error (error);
  tc_node_set_socks_address (fixture->node, "127.0.0.1:1", &error);
  g_assert_no_error (error);
  tc_node_start (fixture->node, &error);
  g_assert_no_error (error);

  fixture->window = tc_window_new (NULL, fixture->node);
  gtk_window_set_default_size (GTK_WINDOW (fixture->window), 960, 640);
  gtk_window_present (GTK_WINDOW (fixture->window));
}

static void
stopped_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  gboolean *done = user_data;
  g_autoptr(GError) error = NULL;

  tc_node_stop_finish (TC_NODE (object), result, &error);
  g_assert_no_error (error);
  *done = TRUE;
}

static gboolean
flag_cb (gpointer data)
{
  return *(gboolean *) data;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  data)
{
  gboolean done = FALSE;

  gtk_window_destroy (GTK_WINDOW (fixture->window));

  tc_node_stop_async (fixture->node, NULL, stopped_cb, &done);
  g_assert_true (iterate_until (flag_cb, &done));
  g_clear_object (&fixture->node);

  rm_rf (fixture->profile_dir);
  g_free (fixture->profile_dir);
}

/* A fresh profile greets the user with their address to share. */
static void
test_empty_state (Fixture       *fixture,
                  gconstpointer  data)
{
  const char *address = tc_node_get_address (fixture->node);

  g_assert_nonnull (wait_for_label (fixture->window, "No Contacts Yet"));
  g_assert_nonnull (find_label (fixture->window, address));
  g_assert_null (find_shown (fixture->window, TC_TYPE_CONTACT_ROW));
}

/* Contact, conversation, composer, message: the path a user takes. */
static void
test_send_message (Fixture       *fixture,
                   gconstpointer  data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = make_address (7);
  const char *text = "Hello from the UI test";
  TcConversation *conversation;
  TcContact *contact;
  GtkWidget *name_label;
  GtkWidget *row;
  GtkWidget *entry;
  GtkWidget *text_label;
  GtkWidget *message_row;
  TcMessage *message;
  GtkWidget *icon;

  contact = tc_node_add_contact (fixture->node, address, "Alice", "Hi, it's me", &error);
  g_assert_no_error (error);
  g_assert_nonnull (contact);

  /* The contact list shows her, waiting for her answer. */
  name_label = wait_for_label (fixture->window, "Alice");
  g_assert_nonnull (name_label);
  row = gtk_widget_get_ancestor (name_label, TC_TYPE_CONTACT_ROW);
  g_assert_nonnull (row);
  g_assert_true (tc_contact_row_get_item (TC_CONTACT_ROW (row)) == contact);
  g_assert_nonnull (find_label (row, "Waiting for them to accept"));
  g_assert_true (wait_for_no_label (fixture->window, "No Contacts Yet"));

  /* Clicking the row selects it, which opens the conversation. */
  g_assert_true (gtk_widget_activate_action (row, "listitem.select", "(bb)", FALSE, FALSE));
  iterate_for (300);
  g_assert_true (tc_window_get_contact (fixture->window) == contact);
  g_assert_nonnull (find_widget (GTK_WIDGET (fixture->window), match_window_title, "Alice"));

  conversation = tc_node_get_conversation (fixture->node, address);
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 0);

  entry = find_shown (fixture->window, GTK_TYPE_ENTRY);
  g_assert_nonnull (entry);
  g_assert_true (gtk_widget_is_sensitive (entry));
  /* Ready to type. */
  g_assert_true (gtk_widget_is_ancestor (gtk_window_get_focus (GTK_WINDOW (fixture->window)), entry));

  /* Typing and pressing Enter, which makes the focused text emit
   * "activate", sends it. */
  gtk_editable_set_text (GTK_EDITABLE (entry), text);
  g_signal_emit_by_name (gtk_window_get_focus (GTK_WINDOW (fixture->window)), "activate");

  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (conversation)), ==, 1);
  g_assert_cmpstr (gtk_editable_get_text (GTK_EDITABLE (entry)), ==, "");

  text_label = wait_for_label (fixture->window, text);
  g_assert_nonnull (text_label);
  message_row = gtk_widget_get_ancestor (text_label, TC_TYPE_MESSAGE_ROW);
  g_assert_nonnull (message_row);

  /* The delivery sign matches the message's state: nothing reached her. */
  message = tc_message_row_get_item (TC_MESSAGE_ROW (message_row));
  g_assert_cmpstr (tc_message_get_text (message), ==, text);
  g_assert_cmpint (tc_message_get_direction (message), ==, TC_MESSAGE_DIRECTION_OUTGOING);
  g_assert_cmpint (tc_message_get_state (message), ==, TC_MESSAGE_STATE_QUEUED);
  icon = find_shown (message_row, GTK_TYPE_IMAGE);
  g_assert_nonnull (icon);
  g_assert_cmpstr (gtk_image_get_icon_name (GTK_IMAGE (icon)), ==, "tc-message-queued-symbolic");

  /* A state change reaches the row that shows the message. */
  tc_message_set_state (message, TC_MESSAGE_STATE_FAILED);
  iterate_for (50);
  g_assert_cmpstr (gtk_image_get_icon_name (GTK_IMAGE (icon)), ==, "dialog-error-symbolic");
}

static gboolean
dialog_gone_cb (gpointer data)
{
  GtkWidget **dialog = data;

  return *dialog == NULL;
}

static TcAddContactDialog *
find_dialog (void)
{
  GListModel *toplevels = gtk_window_get_toplevels ();
  guint n = g_list_model_get_n_items (toplevels);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GObject) window = g_list_model_get_item (toplevels, i);

      if (TC_IS_ADD_CONTACT_DIALOG (window) && gtk_widget_get_visible (GTK_WIDGET (window)))
        return TC_ADD_CONTACT_DIALOG (window);
    }

  return NULL;
}

static gboolean
dialog_shown_cb (gpointer data)
{
  TcAddContactDialog *dialog = find_dialog ();

  return dialog != NULL && gtk_widget_get_mapped (GTK_WIDGET (dialog));
}

static void
set_row_text (GtkWidget  *dialog,
              const char *title,
              const char *text)
{
  GtkWidget *label = find_label (dialog, title);
  GtkWidget *row;

  g_assert_nonnull (label);
  row = gtk_widget_get_ancestor (label, ADW_TYPE_ENTRY_ROW);
  g_assert_nonnull (row);
  gtk_editable_set_text (GTK_EDITABLE (row), text);
  iterate_for (50);
}

/* The add-contact dialog says what is wrong with an address as it is
 * typed, and adds a good one. */
static void
test_add_contact_dialog (Fixture       *fixture,
                         gconstpointer  data)
{
  g_autofree char *address = make_address (42);
  g_autofree char *typo = NULL;
  GtkWidget *dialog;
  GtkWidget *add_button;
  GtkWidget *error_label;
  TcContact *contact;

  g_assert_nonnull (wait_for_label (fixture->window, "No Contacts Yet"));
  g_assert_true (gtk_widget_activate_action (GTK_WIDGET (fixture->window), "win.add-contact", NULL));
  g_assert_true (iterate_until (dialog_shown_cb, NULL));
  dialog = GTK_WIDGET (find_dialog ());
  g_object_add_weak_pointer (G_OBJECT (dialog), (gpointer *) &dialog);

  add_button = wait_for_widget (dialog, match_button_label, "_Add");
  g_assert_nonnull (add_button);
  g_assert_false (gtk_widget_is_sensitive (add_button));

  /* One changed character breaks the checksum. */
  typo = g_strdup (address);
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  set_row_text (dialog, "Address", typo);
  g_assert_false (gtk_widget_is_sensitive (add_button));
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *normalized = tc_address_normalize (typo, &error);

    g_assert_null (normalized);
    error_label = find_label (dialog, error->message);
    g_assert_nonnull (error_label);
    g_assert_true (gtk_widget_has_css_class (error_label, "error"));
  }

  /* Half an address is not an error yet, just not enough. */
  set_row_text (dialog, "Address", "abcdef");
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_false (gtk_widget_is_sensitive (add_button));

  set_row_text (dialog, "Address", tc_node_get_address (fixture->node));
  g_assert_nonnull (find_label (dialog, "This is your own address"));
  g_assert_false (gtk_widget_is_sensitive (add_button));

  /* Pasted with a scheme and in capitals: forgiven. */
  {
    g_autofree char *upper = g_ascii_strup (address, -1);
    g_autofree char *pasted = g_strconcat ("  torchat:", upper, " ", NULL);

    set_row_text (dialog, "Address", pasted);
  }
  g_assert_false (gtk_widget_get_visible (error_label));
  g_assert_true (gtk_widget_is_sensitive (add_button));

  set_row_text (dialog, "Nickname (optional)", "Bob");
  gtk_widget_activate (add_button);
  g_assert_true (iterate_until (dialog_gone_cb, &dialog));

  contact = tc_node_lookup_contact (fixture->node, address);
  g_assert_nonnull (contact);
  g_assert_cmpstr (tc_contact_get_nickname (contact), ==, "Bob");
  g_assert_cmpint (tc_contact_get_state (contact), ==, TC_CONTACT_STATE_REQUESTED);

  /* The new contact's conversation is open. */
  g_assert_true (tc_window_get_contact (fixture->window) == contact);
  g_assert_nonnull (wait_for_label (fixture->window, "Bob"));
}

/* Someone asked us: the conversation offers Accept, Decline and Block, and
 * Accept makes them a contact. */
static void
test_contact_request (Fixture       *fixture,
                      gconstpointer  data)
{
  g_autofree char *address = make_address (99);
  g_autoptr(GError) error = NULL;
  TcContact *contact;
  GtkWidget *accept;

  contact = tc_node_add_contact (fixture->node, address, "Carol", NULL, &error);
  g_assert_no_error (error);
  /* As if her request had arrived. */
  tc_contact_set_state (contact, TC_CONTACT_STATE_PENDING);
  tc_contact_set_greeting (contact, "Carol from the library");

  g_assert_nonnull (wait_for_label (fixture->window, "Wants to be your contact"));
  g_assert_true (tc_window_select_address (fixture->window, address));
  g_assert_nonnull (wait_for_label (fixture->window, "Carol wants to be your contact"));
  g_assert_nonnull (wait_for_label (fixture->window, "Carol from the library"));
  g_assert_false (gtk_widget_is_sensitive (find_shown (fixture->window, GTK_TYPE_ENTRY)));

  accept = wait_for_widget (fixture->window, match_button_label, "_Accept");
  g_assert_nonnull (accept);
  gtk_widget_activate (accept);
  iterate_for (400);

  g_assert_cmpint (tc_contact_get_state (contact), ==, TC_CONTACT_STATE_ACCEPTED);
  g_assert_true (wait_for_no_label (fixture->window, "Carol wants to be your contact"));
  g_assert_true (gtk_widget_is_sensitive (find_shown (fixture->window, GTK_TYPE_ENTRY)));
}

int
main (int   argc,
      char *argv[])
{
  g_setenv ("GTK_A11Y", "none", TRUE);
  g_setenv ("GSETTINGS_BACKEND", "memory", TRUE);

  g_test_init (&argc, &argv, NULL);

  if (!gtk_init_check ())
    {
      g_test_skip ("No display: run under xvfb-run");
      return g_test_run ();
    }
  adw_init ();

  g_test_add ("/ui/empty-state", Fixture, NULL,
              fixture_set_up, test_empty_state, fixture_tear_down);
  g_test_add ("/ui/send-message", Fixture, NULL,
              fixture_set_up, test_send_message, fixture_tear_down);
  g_test_add ("/ui/add-contact-dialog", Fixture, NULL,
              fixture_set_up, test_add_contact_dialog, fixture_tear_down);
  g_test_add ("/ui/contact-request", Fixture, NULL,
              fixture_set_up, test_contact_request, fixture_tear_down);

  return g_test_run ();
}
