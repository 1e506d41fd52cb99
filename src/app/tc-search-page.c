/* tc-search-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>

#include "tc-search-page.h"

/* As many as the user can look through; the newest first. */
#define MAX_RESULTS 100
/* Characters of a message shown in a result, around the first word found. */
#define SNIPPET_CHARS 96
#define SNIPPET_BEFORE 32

struct _TcSearchPage
{
  GtkWidget      parent_instance;

  TcNode        *node;
  char          *address;
  char          *text;

  GtkStack      *stack;
  AdwStatusPage *empty_page;
  GtkLabel      *count_label;
  GtkListBox    *list;
};

G_DEFINE_FINAL_TYPE (TcSearchPage, tc_search_page, GTK_TYPE_WIDGET)

enum {
  MESSAGE_ACTIVATED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The words of the search, lower case, as the store's full-text search
 * splits them: letters and digits. */
static GPtrArray *
split_words (const char *text)
{
  GPtrArray *words = g_ptr_array_new_with_free_func (g_free);
  g_autofree gunichar *chars = NULL;
  glong n = 0;
  glong start = -1;

  chars = g_utf8_to_ucs4_fast (text, -1, &n);
  for (glong i = 0; i <= n; i++)
    {
      gboolean word_char = i < n && g_unichar_isalnum (chars[i]);

      if (word_char && start < 0)
        start = i;
      else if (!word_char && start >= 0)
        {
          gunichar *word = g_new0 (gunichar, i - start + 1);

          for (glong j = start; j < i; j++)
            word[j - start] = g_unichar_tolower (chars[j]);
          g_ptr_array_add (words, word);
          start = -1;
        }
    }

  return words;
}

static gboolean
matches_at (const gunichar *line,
            glong           n,
            glong           at,
            const gunichar *word,
            glong          *length)
{
  glong i;

  for (i = 0; word[i] != 0; i++)
    if (at + i >= n || g_unichar_tolower (line[at + i]) != word[i])
      return FALSE;

  *length = i;
  return i > 0;
}

static glong
utf8_offset (const gunichar *chars,
             glong           n)
{
  g_autofree char *text = g_ucs4_to_utf8 (chars, n, NULL, NULL, NULL);

  return text ? (glong) strlen (text) : 0;
}

/* One line of the message: all of it when short, else the part around the
 * first word found; the words found in bold. */
static char *
make_snippet (const char     *text,
              GPtrArray      *words,
              PangoAttrList **attrs)
{
  g_autofree gunichar *line = NULL;
  g_autofree char *middle = NULL;
  glong n = 0, start = 0, end, first = -1, prefix_bytes;
  GString *snippet;

  line = g_utf8_to_ucs4_fast (text, -1, &n);
  for (glong i = 0; i < n; i++)
    if (line[i] == '\n' || line[i] == '\r' || line[i] == '\t')
      line[i] = ' ';

  for (glong i = 0; i < n && first < 0; i++)
    for (guint w = 0; w < words->len && first < 0; w++)
      {
        glong length;

        if (matches_at (line, n, i, g_ptr_array_index (words, w), &length))
          first = i;
      }

  if (n > SNIPPET_CHARS && first > SNIPPET_BEFORE)
    start = MIN (first - SNIPPET_BEFORE, n - SNIPPET_CHARS);
  end = MIN (n, start + SNIPPET_CHARS);

  snippet = g_string_new (start > 0 ? "…" : "");
  prefix_bytes = snippet->len;
  middle = g_ucs4_to_utf8 (line + start, end - start, NULL, NULL, NULL);
  g_string_append (snippet, middle ? middle : "");
  if (end < n)
    g_string_append (snippet, "…");

  *attrs = pango_attr_list_new ();
  for (glong i = start; i < end; i++)
    for (guint w = 0; w < words->len; w++)
      {
        PangoAttribute *bold;
        glong length;

        if (!matches_at (line, n, i, g_ptr_array_index (words, w), &length) || i + length > end)
          continue;

        bold = pango_attr_weight_new (PANGO_WEIGHT_BOLD);
        bold->start_index = prefix_bytes + utf8_offset (line + start, i - start);
        bold->end_index = bold->start_index + utf8_offset (line + i, length);
        pango_attr_list_insert (*attrs, bold);
        i += length - 1;
        break;
      }

  return g_string_free (snippet, FALSE);
}

static char *
format_date (GDateTime *date)
{
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) now = NULL;

  if (date == NULL)
    return g_strdup ("");

  local = g_date_time_to_local (date);
  now = g_date_time_new_now_local ();

  if (g_date_time_get_year (local) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now))
    /* Translators: when a search result was written today, see g_date_time_format() */
    return g_date_time_format (local, _("%H:%M"));
  if (g_date_time_get_year (local) == g_date_time_get_year (now))
    /* Translators: when a search result of this year was written */
    return g_date_time_format (local, _("%e %b"));

  /* Translators: when a search result of another year was written */
  return g_date_time_format (local, _("%e %b %Y"));
}

static char *
describe_author (TcSearchPage *self,
                 TcMessage    *message)
{
  TcContact *contact = tc_node_lookup_contact (self->node, tc_message_get_peer (message));
  const char *name = contact ? tc_contact_get_display_name (contact) : tc_message_get_peer (message);

  if (tc_message_get_direction (message) == TC_MESSAGE_DIRECTION_INCOMING)
    return g_strdup (name);
  if (self->address != NULL)
    return g_strdup (_("You"));

  /* Translators: a message you sent, in search results; %s is the contact's name */
  return g_strdup_printf (_("You to %s"), name);
}

static GtkWidget *
create_result_row (TcSearchPage *self,
                   TcMessage    *message,
                   GPtrArray    *words)
{
  g_autofree char *author = describe_author (self, message);
  g_autofree char *date = format_date (tc_message_get_date (message));
  g_autofree char *snippet = NULL;
  g_autofree char *accessible = NULL;
  PangoAttrList *attrs = NULL;
  GtkWidget *row, *box, *top, *label;

  snippet = make_snippet (tc_message_get_text (message), words, &attrs);

  box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 3);
  gtk_widget_add_css_class (box, "search-result");
  top = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  gtk_box_append (GTK_BOX (box), top);

  label = gtk_label_new (author);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (label, TRUE);
  gtk_widget_add_css_class (label, "heading");
  gtk_box_append (GTK_BOX (top), label);

  label = gtk_label_new (date);
  gtk_widget_add_css_class (label, "dim-label");
  gtk_widget_add_css_class (label, "caption");
  gtk_box_append (GTK_BOX (top), label);

  label = gtk_label_new (snippet);
  gtk_label_set_xalign (GTK_LABEL (label), 0);
  gtk_label_set_wrap (GTK_LABEL (label), TRUE);
  gtk_label_set_wrap_mode (GTK_LABEL (label), PANGO_WRAP_WORD_CHAR);
  gtk_label_set_lines (GTK_LABEL (label), 2);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_label_set_attributes (GTK_LABEL (label), attrs);
  pango_attr_list_unref (attrs);
  gtk_box_append (GTK_BOX (box), label);

  row = gtk_list_box_row_new ();
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  g_object_set_data_full (G_OBJECT (row), "tc-message", g_object_ref (message), g_object_unref);

  /* Translators: a search result for a screen reader: who, when, the text */
  accessible = g_strdup_printf (_("%s, %s: %s"), author, date, snippet);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);

  return row;
}

static void
clear_results (TcSearchPage *self)
{
  GtkWidget *child;

  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self->list))) != NULL)
    gtk_list_box_remove (self->list, child);
}

static gboolean
has_words (const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    if (g_unichar_isalnum (g_utf8_get_char (p)))
      return TRUE;

  return FALSE;
}

static void
tc_search_page_run (TcSearchPage *self)
{
  g_autoptr(GPtrArray) results = NULL;
  g_autoptr(GPtrArray) words = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *count = NULL;

  clear_results (self);

  if (self->node == NULL || !has_words (self->text))
    {
      gtk_stack_set_visible_child_name (self->stack, "hint");
      return;
    }

  /* The store's full-text search: an index, not a walk through the
   * history; it answers at once even for a long one. */
  results = tc_node_search (self->node, self->text, self->address, MAX_RESULTS, &error);
  if (results == NULL)
    {
      adw_status_page_set_description (self->empty_page, error->message);
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  if (results->len == 0)
    {
      adw_status_page_set_description (self->empty_page,
                                       self->address != NULL
                                       ? _("No message in this conversation holds all of these words.")
                                       : _("No message holds all of these words."));
      gtk_stack_set_visible_child_name (self->stack, "empty");
      return;
    }

  words = split_words (self->text);
  for (guint i = 0; i < results->len; i++)
    gtk_list_box_append (self->list, create_result_row (self, g_ptr_array_index (results, i), words));

  if (results->len >= MAX_RESULTS)
    /* Translators: over a list of search results cut at %u */
    count = g_strdup_printf (_("The newest %u messages found"), results->len);
  else
    count = g_strdup_printf (ngettext ("%u message found", "%u messages found", results->len),
                             results->len);
  gtk_label_set_label (self->count_label, count);
  gtk_stack_set_visible_child_name (self->stack, "results");
}

static void
row_activated_cb (TcSearchPage  *self,
                  GtkListBoxRow *row,
                  GtkListBox    *list)
{
  TcMessage *message = g_object_get_data (G_OBJECT (row), "tc-message");

  if (message != NULL)
    g_signal_emit (self, signals[MESSAGE_ACTIVATED], 0, message);
}

static void
tc_search_page_dispose (GObject *object)
{
  TcSearchPage *self = (TcSearchPage *)object;

  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_SEARCH_PAGE);
  g_clear_object (&self->node);
  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->text, g_free);

  G_OBJECT_CLASS (tc_search_page_parent_class)->dispose (object);
}

static void
tc_search_page_class_init (TcSearchPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_search_page_dispose;

  /**
   * TcSearchPage::message-activated:
   * @message: the TcMessage of the result
   *
   * The user chose a result: show it in its conversation.
   */
  signals[MESSAGE_ACTIVATED] =
    g_signal_new ("message-activated",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, TC_TYPE_MESSAGE);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-search-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TcSearchPage, stack);
  gtk_widget_class_bind_template_child (widget_class, TcSearchPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, TcSearchPage, count_label);
  gtk_widget_class_bind_template_child (widget_class, TcSearchPage, list);
  gtk_widget_class_bind_template_callback (widget_class, row_activated_cb);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
tc_search_page_init (TcSearchPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

GtkWidget *
tc_search_page_new (void)
{
  return g_object_new (TC_TYPE_SEARCH_PAGE, NULL);
}

void
tc_search_page_set_node (TcSearchPage *self,
                         TcNode       *node)
{
  g_return_if_fail (TC_IS_SEARCH_PAGE (self));
  g_return_if_fail (node == NULL || TC_IS_NODE (node));

  if (g_set_object (&self->node, node))
    tc_search_page_run (self);
}

void
tc_search_page_set_address (TcSearchPage *self,
                            const char   *address)
{
  g_return_if_fail (TC_IS_SEARCH_PAGE (self));

  if (g_strcmp0 (self->address, address) == 0)
    return;

  g_free (self->address);
  self->address = g_strdup (address);
  tc_search_page_run (self);
}

const char *
tc_search_page_get_address (TcSearchPage *self)
{
  g_return_val_if_fail (TC_IS_SEARCH_PAGE (self), NULL);

  return self->address;
}

void
tc_search_page_set_text (TcSearchPage *self,
                         const char   *text)
{
  g_return_if_fail (TC_IS_SEARCH_PAGE (self));

  g_free (self->text);
  self->text = g_strdup (text);
  tc_search_page_run (self);
}

gboolean
tc_search_page_activate_first (TcSearchPage *self)
{
  GtkListBoxRow *row;

  g_return_val_if_fail (TC_IS_SEARCH_PAGE (self), FALSE);

  row = gtk_list_box_get_row_at_index (self->list, 0);
  if (row == NULL || !gtk_widget_get_mapped (GTK_WIDGET (row)))
    return FALSE;

  row_activated_cb (self, row, self->list);
  return TRUE;
}
