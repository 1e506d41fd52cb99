/* tc-tor-page.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <string.h>

#include "tc-a11y.h"
#include "tc-tor-page.h"

struct _TcTorPage
{
  GtkWidget       parent_instance;

  TcTor          *tor;
  GSignalGroup   *tor_signals;
  guint           patience;      /* seconds */
  guint           patience_source;
  guint           log_source;
  guint           help_source;   /* re-reads tor's log while stuck */
  TcTorState      last_state;
  gboolean        stuck;
  gboolean        impatient;     /* the patience ran out */
  gboolean        was_ready;     /* Tor got through since set_tor() */
  gboolean        recovering;    /* Tor stopped; not through again yet */

  AdwStatusPage  *status_page;
  GtkProgressBar *progress_bar;
  GtkLabel       *phase_label;
  GtkRevealer    *help_revealer;
  GtkLabel       *help_label;
  GtkLabel       *tor_says_label;
  GtkExpander    *log_expander;
  GtkTextView    *log_view;
};

G_DEFINE_FINAL_TYPE (TcTorPage, tc_tor_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_TOR,
  PROP_STUCK,
  PROP_PATIENCE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

const char *
tc_tor_page_describe (TcTor *tor)
{
  if (tor == NULL)
    return _("Using the Tor you run");

  switch (tc_tor_get_state (tor))
    {
    case TC_TOR_STATE_STOPPED:
      return _("Tor is stopped");
    case TC_TOR_STATE_STARTING:
      return _("Starting Tor…");
    case TC_TOR_STATE_BOOTSTRAPPING:
      return _("Connecting to Tor…");
    case TC_TOR_STATE_READY:
      return tc_tor_get_reachable (tor) ? _("Your address is reachable")
                                        : _("Publishing your address…");
    case TC_TOR_STATE_RESTARTING:
      return _("Tor stopped and is restarting…");
    case TC_TOR_STATE_FAILED:
    default:
      return _("Tor could not start");
    }
}

static const char *
tc_tor_page_describe_run (TcTorPage *self)
{
  if (self->tor != NULL && self->recovering)
    {
      switch (tc_tor_get_state (self->tor))
        {
        case TC_TOR_STATE_STARTING:
        case TC_TOR_STATE_BOOTSTRAPPING:
        case TC_TOR_STATE_RESTARTING:
          /* Until it is through again, a restart is a restart. */
          return _("Tor stopped and is restarting…");
        default:
          break;
        }
    }

  return tc_tor_page_describe (self->tor);
}

char *
tc_tor_page_dup_status (TcTorPage *self)
{
  g_return_val_if_fail (TC_IS_TOR_PAGE (self), NULL);

  if (self->tor != NULL && tc_tor_get_state (self->tor) == TC_TOR_STATE_BOOTSTRAPPING)
    /* Translators: "Connecting to Tor… 45 %" */
    return g_strdup_printf (_("%s %u %%"), tc_tor_page_describe_run (self),
                            tc_tor_get_bootstrap_progress (self->tor));

  return g_strdup (tc_tor_page_describe_run (self));
}

/* The last warning or error in tor's log, without its date: what tor
 * itself says is wrong (a proxy that refuses, a bridge it cannot reach). */
static char *
dup_tor_says (TcTor *tor)
{
  g_auto(GStrv) lines = NULL;

  if (tor == NULL)
    return NULL;

  lines = tc_tor_dup_log (tor);
  for (guint i = g_strv_length (lines); i > 0; i--)
    {
      const char *line = lines[i - 1];
      static const char * const marks[] = { "[warn] ", "[err] ", NULL };
      static const char * const words[] = { "WARN ", "ERR ", NULL };

      for (guint j = 0; marks[j] != NULL; j++)
        {
          const char *found = strstr (line, marks[j]);

          if (found != NULL)
            return g_strstrip (g_strdup (found + strlen (marks[j])));
        }
      /* An existing tor's log comes as control-port events. */
      for (guint j = 0; words[j] != NULL; j++)
        if (g_str_has_prefix (line, words[j]))
          return g_strstrip (g_strdup (line + strlen (words[j])));
    }

  return NULL;
}

static void
tc_tor_page_update_help (TcTorPage *self)
{
  TcTorState state = self->tor ? tc_tor_get_state (self->tor) : TC_TOR_STATE_STOPPED;
  const char *error = self->tor ? tc_tor_get_last_error (self->tor) : NULL;
  g_autofree char *help = NULL;
  g_autofree char *says = dup_tor_says (self->tor);

  if (state == TC_TOR_STATE_FAILED && error != NULL)
    /* Translators: %s is what went wrong, in Tor's or TORChat's words */
    help = g_strdup_printf (_("Tor could not start: %s"), error);
  else if (error != NULL)
    /* Translators: %s is what went wrong, in Tor's or TORChat's words */
    help = g_strdup_printf (_("Tor has not got through yet. The last problem: %s"), error);
  else
    help = g_strdup (_("Tor has not got through yet."));
  gtk_label_set_label (self->help_label, help);

  if (says != NULL)
    {
      /* Translators: %s is the last warning in Tor's log, in its words */
      g_autofree char *text = g_strdup_printf (_("Tor says: “%s”"), says);

      gtk_label_set_label (self->tor_says_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->tor_says_label), says != NULL);
}

static gboolean
help_refresh_cb (gpointer data)
{
  tc_tor_page_update_help (data);

  return G_SOURCE_CONTINUE;
}

static gboolean patience_cb (gpointer data);

static void
tc_tor_page_wait_patiently (TcTorPage *self)
{
  g_clear_handle_id (&self->patience_source, g_source_remove);
  self->impatient = FALSE;
  if (self->tor != NULL)
    self->patience_source = g_timeout_add_seconds (self->patience, patience_cb, self);
}

static void
tc_tor_page_update_log (TcTorPage *self)
{
  g_auto(GStrv) lines = NULL;
  g_autofree char *text = NULL;
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->log_view);
  GtkTextMark *mark;
  GtkTextIter end;

  if (self->tor == NULL)
    {
      gtk_text_buffer_set_text (buffer, "", -1);
      return;
    }

  lines = tc_tor_dup_log (self->tor);
  text = g_strjoinv ("\n", lines);
  gtk_text_buffer_set_text (buffer, text, -1);
  /* A mark, not an iter: the lines may not be laid out yet. */
  gtk_text_buffer_get_end_iter (buffer, &end);
  mark = gtk_text_buffer_get_mark (buffer, "tc-end");
  if (mark == NULL)
    mark = gtk_text_buffer_create_mark (buffer, "tc-end", &end, FALSE);
  else
    gtk_text_buffer_move_mark (buffer, mark, &end);
  gtk_text_view_scroll_to_mark (self->log_view, mark, 0, FALSE, 0, 0);
}

static gboolean
log_refresh_cb (gpointer data)
{
  tc_tor_page_update_log (data);

  return G_SOURCE_CONTINUE;
}

/* Tor's log has no change signal: read it while it is on show. */
static void
log_expanded_cb (TcTorPage *self)
{
  g_clear_handle_id (&self->log_source, g_source_remove);

  if (gtk_expander_get_expanded (self->log_expander))
    {
      tc_tor_page_update_log (self);
      self->log_source = g_timeout_add_seconds (1, log_refresh_cb, self);
    }
}

static void
tc_tor_page_update (TcTorPage *self)
{
  TcTorState state = TC_TOR_STATE_STOPPED;
  const char *summary = NULL;
  g_autofree char *progress = NULL;
  guint percent = 0;
  gboolean stuck;

  if (self->tor != NULL)
    {
      state = tc_tor_get_state (self->tor);
      percent = tc_tor_get_bootstrap_progress (self->tor);
      summary = tc_tor_get_bootstrap_summary (self->tor);
    }

  if (state == TC_TOR_STATE_READY)
    {
      g_clear_handle_id (&self->patience_source, g_source_remove);
      self->impatient = FALSE;
      self->was_ready = TRUE;
      self->recovering = FALSE;
    }
  else if (state == TC_TOR_STATE_RESTARTING)
    self->recovering = TRUE;

  /* Through once and then lost: the patience starts again. */
  if (self->last_state == TC_TOR_STATE_READY && state != TC_TOR_STATE_READY)
    tc_tor_page_wait_patiently (self);
  self->last_state = state;

  adw_status_page_set_title (self->status_page, tc_tor_page_describe_run (self));
  gtk_progress_bar_set_fraction (self->progress_bar, MIN (percent, 100) / 100.0);
  /* Translators: how far Tor has come, e.g. "45 %" */
  progress = g_strdup_printf (_("%u %%"), percent);
  gtk_progress_bar_set_text (self->progress_bar, progress);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->progress_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_NOW, (double) percent,
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, progress,
                                  -1);
  gtk_label_set_label (self->phase_label, summary != NULL ? summary : "");

  /* Stuck: Tor gave up, or took longer than the patience, or stopped
   * before it ever got through (a tor that exits at once, say). */
  stuck = state == TC_TOR_STATE_FAILED ||
          (state != TC_TOR_STATE_READY &&
           (self->impatient || (self->recovering && !self->was_ready)));

  tc_tor_page_update_help (self);
  gtk_revealer_set_reveal_child (self->help_revealer, stuck);
  if (stuck && self->help_source == 0)
    self->help_source = g_timeout_add_seconds (2, help_refresh_cb, self);
  else if (!stuck)
    g_clear_handle_id (&self->help_source, g_source_remove);

  if (stuck != self->stuck)
    {
      self->stuck = stuck;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STUCK]);
    }
}

static gboolean
patience_cb (gpointer data)
{
  TcTorPage *self = data;

  self->patience_source = 0;
  self->impatient = TRUE;
  tc_tor_page_update (self);

  return G_SOURCE_REMOVE;
}

static void
tor_notify_cb (TcTorPage *self)
{
  tc_tor_page_update (self);
}

static void
tc_tor_page_dispose (GObject *object)
{
  TcTorPage *self = (TcTorPage *)object;

  g_clear_handle_id (&self->patience_source, g_source_remove);
  g_clear_handle_id (&self->log_source, g_source_remove);
  g_clear_handle_id (&self->help_source, g_source_remove);
  if (self->tor_signals != NULL)
    g_signal_group_set_target (self->tor_signals, NULL);
  g_clear_object (&self->tor_signals);
  g_clear_object (&self->tor);

  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_TOR_PAGE);

  G_OBJECT_CLASS (tc_tor_page_parent_class)->dispose (object);
}

static void
tc_tor_page_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  TcTorPage *self = TC_TOR_PAGE (object);

  switch (prop_id)
    {
    case PROP_TOR:
      g_value_set_object (value, self->tor);
      break;

    case PROP_STUCK:
      g_value_set_boolean (value, self->stuck);
      break;

    case PROP_PATIENCE:
      g_value_set_uint (value, self->patience);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_tor_page_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  TcTorPage *self = TC_TOR_PAGE (object);

  switch (prop_id)
    {
    case PROP_TOR:
      tc_tor_page_set_tor (self, g_value_get_object (value));
      break;

    case PROP_PATIENCE:
      tc_tor_page_set_patience (self, g_value_get_uint (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_tor_page_class_init (TcTorPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_tor_page_dispose;
  object_class->get_property = tc_tor_page_get_property;
  object_class->set_property = tc_tor_page_set_property;

  properties[PROP_TOR] =
    g_param_spec_object ("tor", NULL, NULL,
                         TC_TYPE_TOR,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_STUCK] =
    g_param_spec_boolean ("stuck", NULL, NULL,
                          FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PATIENCE] =
    g_param_spec_uint ("patience", NULL, NULL,
                       1, G_MAXUINT / 1000, TC_TOR_PAGE_PATIENCE,
                       G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-tor-page.ui");
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, status_page);
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, progress_bar);
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, phase_label);
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, help_revealer);
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, help_label);
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, tor_says_label);
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, log_expander);
  gtk_widget_class_bind_template_child (widget_class, TcTorPage, log_view);
  gtk_widget_class_bind_template_callback (widget_class, log_expanded_cb);
}

/* TORCHAT_TOR_PATIENCE: seconds, for tests that cannot wait a minute. */
static guint
default_patience (void)
{
  const char *env = g_getenv ("TORCHAT_TOR_PATIENCE");
  guint64 value;

  if (env != NULL && g_ascii_string_to_unsigned (env, 10, 1, G_MAXUINT / 1000, &value, NULL))
    return (guint) value;

  return TC_TOR_PAGE_PATIENCE;
}

static void
tc_tor_page_init (TcTorPage *self)
{
  self->patience = default_patience ();
  gtk_widget_init_template (GTK_WIDGET (self));
  tc_a11y_fix_button_names (GTK_WIDGET (self));

  self->tor_signals = g_signal_group_new (TC_TYPE_TOR);
  g_signal_group_connect_object (self->tor_signals, "notify",
                                 G_CALLBACK (tor_notify_cb), self,
                                 G_CONNECT_SWAPPED);
  tc_tor_page_update (self);
}

GtkWidget *
tc_tor_page_new (void)
{
  return g_object_new (TC_TYPE_TOR_PAGE, NULL);
}

TcTor *
tc_tor_page_get_tor (TcTorPage *self)
{
  g_return_val_if_fail (TC_IS_TOR_PAGE (self), NULL);

  return self->tor;
}

void
tc_tor_page_set_tor (TcTorPage *self,
                     TcTor     *tor)
{
  g_return_if_fail (TC_IS_TOR_PAGE (self));
  g_return_if_fail (!tor || TC_IS_TOR (tor));

  if (!g_set_object (&self->tor, tor))
    return;

  g_signal_group_set_target (self->tor_signals, tor);
  self->was_ready = FALSE;
  self->recovering = tor != NULL && tc_tor_get_state (tor) == TC_TOR_STATE_RESTARTING;
  self->last_state = tor != NULL ? tc_tor_get_state (tor) : TC_TOR_STATE_STOPPED;
  tc_tor_page_wait_patiently (self);

  tc_tor_page_update (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TOR]);
}

gboolean
tc_tor_page_get_stuck (TcTorPage *self)
{
  g_return_val_if_fail (TC_IS_TOR_PAGE (self), FALSE);

  return self->stuck;
}

guint
tc_tor_page_get_patience (TcTorPage *self)
{
  g_return_val_if_fail (TC_IS_TOR_PAGE (self), TC_TOR_PAGE_PATIENCE);

  return self->patience;
}

void
tc_tor_page_set_patience (TcTorPage *self,
                          guint      seconds)
{
  g_return_if_fail (TC_IS_TOR_PAGE (self));
  g_return_if_fail (seconds > 0);

  if (self->patience == seconds)
    return;

  self->patience = seconds;
  /* Counted afresh from now, if Tor is still on its way. */
  if (self->patience_source != 0 || self->impatient)
    {
      tc_tor_page_wait_patiently (self);
      tc_tor_page_update (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATIENCE]);
}
