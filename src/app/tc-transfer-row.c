/* tc-transfer-row.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-a11y.h"
#include "tc-transfer-row.h"
#include "tc-window.h"

struct _TcTransferRow
{
  GtkWidget       parent_instance;

  TcNode         *node;
  TcTransfer     *transfer;
  GCancellable   *thumbnail_cancellable;
  gboolean        thumbnail_tried;

  GtkWidget      *box;
  GtkImage       *icon;
  GtkLabel       *name_label;
  GtkLabel       *detail_label;
  GtkWidget      *accept_button;
  GtkWidget      *decline_button;
  GtkWidget      *cancel_button;
  GtkWidget      *open_button;
  GtkWidget      *folder_button;
  GtkProgressBar *progress;
  GtkPicture     *thumbnail;
};

G_DEFINE_FINAL_TYPE (TcTransferRow, tc_transfer_row, GTK_TYPE_WIDGET)

static char *
format_time_left (double seconds)
{
  guint s = (guint) MIN (seconds + 0.5, (double) G_MAXUINT);

  if (s < 60)
    /* Translators: time left of a file transfer */
    return g_strdup_printf (ngettext ("%u second left", "%u seconds left", s), s);
  if (s < 3600)
    return g_strdup_printf (ngettext ("%u minute left", "%u minutes left", s / 60), s / 60);
  return g_strdup_printf (ngettext ("%u hour left", "%u hours left", s / 3600), s / 3600);
}

char *
tc_transfer_row_format_detail (TcTransfer *transfer)
{
  g_autofree char *size = g_format_size (tc_transfer_get_size (transfer));
  gboolean incoming = tc_transfer_get_direction (transfer) == TC_MESSAGE_DIRECTION_INCOMING;

  switch (tc_transfer_get_state (transfer))
    {
    case TC_TRANSFER_STATE_OFFERED:
      if (incoming)
        /* Translators: %s is a file size */
        return g_strdup_printf (_("%s · Wants to send you this file"), size);
      return g_strdup_printf (_("%s · Waiting for them to accept"), size);

    case TC_TRANSFER_STATE_WAITING:
      if (incoming)
        return g_strdup_printf (_("%s · Accepted, waiting for the sender"), size);
      return g_strdup_printf (_("%s · Waiting to send"), size);

    case TC_TRANSFER_STATE_ACTIVE:
      {
        g_autofree char *done = g_format_size (tc_transfer_get_done (transfer));
        g_autofree char *speed = NULL;
        g_autofree char *left = NULL;
        double rate = tc_transfer_get_speed (transfer);
        gint64 rest = tc_transfer_get_size (transfer) - tc_transfer_get_done (transfer);

        if (rate < 1)
          /* Translators: "1.2 MB of 5.0 MB" */
          return g_strdup_printf (_("%s of %s"), done, size);
        speed = g_format_size ((guint64) rate);
        left = format_time_left (rest > 0 ? rest / rate : 0);
        /* Translators: "1.2 MB of 5.0 MB · 300 kB/s · 10 seconds left" */
        return g_strdup_printf (_("%s of %s · %s/s · %s"), done, size, speed, left);
      }

    case TC_TRANSFER_STATE_PAUSED:
      {
        g_autofree char *done = g_format_size (tc_transfer_get_done (transfer));

        if (tc_transfer_get_error (transfer) != NULL)
          /* Translators: "1.2 MB of 5.0 MB · Paused: Not enough space in …" */
          return g_strdup_printf (_("%s of %s · Paused: %s"), done, size,
                                  tc_transfer_get_error (transfer));
        return g_strdup_printf (_("%s of %s · Paused, resumes when connected"), done, size);
      }

    case TC_TRANSFER_STATE_DONE:
      if (incoming)
        return g_strdup_printf (_("%s · Received"), size);
      return g_strdup_printf (_("%s · Sent"), size);

    case TC_TRANSFER_STATE_FAILED:
      if (tc_transfer_get_error (transfer) != NULL)
        /* Translators: %s says why a file transfer failed */
        return g_strdup_printf (_("Failed: %s"), tc_transfer_get_error (transfer));
      return g_strdup (_("Failed"));

    case TC_TRANSFER_STATE_CANCELLED:
      return g_strdup_printf (_("%s · Cancelled"), size);

    case TC_TRANSFER_STATE_DECLINED:
      return g_strdup_printf (_("%s · Declined"), size);

    default:
      return g_strdup (size);
    }
}

static void
show_error (TcTransferRow *self,
            GError        *error)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));

  if (TC_IS_WINDOW (root))
    tc_window_show_error (TC_WINDOW (root), error);
  else
    g_warning ("%s", error->message);
}

static TcTransferManager *
manager (TcTransferRow *self)
{
  return tc_node_get_transfer_manager (self->node);
}

static void
accept_clicked_cb (TcTransferRow *self)
{
  g_autoptr(GError) error = NULL;

  if (!tc_transfer_manager_accept (manager (self), tc_transfer_get_id (self->transfer), NULL, &error))
    show_error (self, error);
}

static void
decline_clicked_cb (TcTransferRow *self)
{
  g_autoptr(GError) error = NULL;

  if (!tc_transfer_manager_decline (manager (self), tc_transfer_get_id (self->transfer), &error))
    show_error (self, error);
}

static void
cancel_clicked_cb (TcTransferRow *self)
{
  g_autoptr(GError) error = NULL;

  if (!tc_transfer_manager_cancel (manager (self), tc_transfer_get_id (self->transfer), &error))
    show_error (self, error);
}

/* gtk_show_uri() goes through the OpenURI portal in a sandbox and to the
 * default application outside one. */
static void
show_file (TcTransferRow *self,
           GFile         *file)
{
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  g_autofree char *uri = g_file_get_uri (file);

  gtk_show_uri (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, uri, GDK_CURRENT_TIME);
}

static void
open_clicked_cb (TcTransferRow *self)
{
  const char *path = tc_transfer_get_path (self->transfer);
  g_autoptr(GFile) file = NULL;

  if (path == NULL)
    return;
  file = g_file_new_for_path (path);
  show_file (self, file);
}

static void
folder_clicked_cb (TcTransferRow *self)
{
  const char *path = tc_transfer_get_path (self->transfer);
  g_autoptr(GFile) file = NULL;
  g_autoptr(GFile) parent = NULL;

  if (path == NULL)
    return;
  file = g_file_new_for_path (path);
  parent = g_file_get_parent (file);
  if (parent != NULL)
    show_file (self, parent);
}

/* Thumbnails: decoded on a worker thread, only for images under a bound,
 * once the whole file is there. */
static void
load_texture_thread (GTask        *task,
                     gpointer      source,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;
  GdkTexture *texture = gdk_texture_new_from_filename (task_data, &error);

  if (texture == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, texture, g_object_unref);
}

static void
texture_loaded_cb (GObject      *source,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GdkTexture) texture = g_task_propagate_pointer (G_TASK (result), &error);
  TcTransferRow *self;

  if (texture == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_debug ("No thumbnail: %s", error->message);
      return;
    }

  self = TC_TRANSFER_ROW (source);
  gtk_picture_set_paintable (self->thumbnail, GDK_PAINTABLE (texture));
  gtk_picture_set_alternative_text (self->thumbnail, tc_transfer_get_name (self->transfer));
  /* GTK 4.8 does not name the picture after its alternative text. */
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->thumbnail),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, tc_transfer_get_name (self->transfer),
                                  -1);
  gtk_widget_set_visible (GTK_WIDGET (self->thumbnail), TRUE);
}

static void
maybe_load_thumbnail (TcTransferRow *self)
{
  const char *mime = tc_transfer_get_mime (self->transfer);
  const char *path = tc_transfer_get_path (self->transfer);
  g_autoptr(GTask) task = NULL;

  if (self->thumbnail_tried ||
      tc_transfer_get_state (self->transfer) != TC_TRANSFER_STATE_DONE ||
      path == NULL || mime == NULL || !g_str_has_prefix (mime, "image/") ||
      tc_transfer_get_size (self->transfer) > TC_TRANSFER_THUMBNAIL_MAX_BYTES)
    return;

  self->thumbnail_tried = TRUE;
  self->thumbnail_cancellable = g_cancellable_new ();
  task = g_task_new (self, self->thumbnail_cancellable, texture_loaded_cb, NULL);
  g_task_set_task_data (task, g_strdup (path), g_free);
  g_task_run_in_thread (task, load_texture_thread);
}

static void
update (TcTransferRow *self)
{
  TcTransfer *t = self->transfer;
  TcTransferState state = tc_transfer_get_state (t);
  gboolean incoming = tc_transfer_get_direction (t) == TC_MESSAGE_DIRECTION_INCOMING;
  gboolean offered = incoming && state == TC_TRANSFER_STATE_OFFERED;
  /* Paused for a reason of ours (a full disk): the user may retry now. */
  gboolean retry = incoming && state == TC_TRANSFER_STATE_PAUSED && tc_transfer_get_error (t) != NULL;
  gboolean have_file = state == TC_TRANSFER_STATE_DONE && tc_transfer_get_path (t) != NULL;
  gboolean moving = state == TC_TRANSFER_STATE_ACTIVE || state == TC_TRANSFER_STATE_PAUSED ||
                    (state == TC_TRANSFER_STATE_WAITING && incoming);
  gint64 size = tc_transfer_get_size (t);
  g_autofree char *detail = tc_transfer_row_format_detail (t);
  const char *icon;

  gtk_label_set_label (self->name_label, tc_transfer_get_name (t));
  gtk_label_set_label (self->detail_label, detail);

  gtk_widget_set_visible (self->accept_button, offered || retry);
  {
    const char *label = retry ? _("_Retry") : _("_Accept");

    if (g_strcmp0 (gtk_button_get_label (GTK_BUTTON (self->accept_button)), label) != 0)
      {
        gtk_button_set_label (GTK_BUTTON (self->accept_button), label);
        tc_a11y_fix_button_names (self->accept_button);
      }
  }
  gtk_widget_set_visible (self->decline_button, offered);
  gtk_widget_set_visible (self->cancel_button, !offered && !tc_transfer_is_finished (t));
  gtk_widget_set_visible (self->open_button, have_file);
  gtk_widget_set_visible (self->folder_button, have_file);

  gtk_widget_set_visible (GTK_WIDGET (self->progress), moving);
  gtk_progress_bar_set_fraction (self->progress,
                                 size > 0 ? (double) tc_transfer_get_done (t) / size : 0);

  if (state == TC_TRANSFER_STATE_FAILED)
    icon = "dialog-warning-symbolic";
  else if (state == TC_TRANSFER_STATE_DONE)
    icon = "emblem-ok-symbolic";
  else if (incoming)
    icon = "folder-download-symbolic";
  else
    icon = "send-to-symbolic";
  gtk_image_set_from_icon_name (self->icon, icon);

  maybe_load_thumbnail (self);
}

static void
tc_transfer_row_dispose (GObject *object)
{
  TcTransferRow *self = (TcTransferRow *)object;

  g_cancellable_cancel (self->thumbnail_cancellable);
  g_clear_object (&self->thumbnail_cancellable);
  if (self->transfer != NULL)
    g_signal_handlers_disconnect_by_data (self->transfer, self);
  g_clear_object (&self->transfer);
  g_clear_object (&self->node);
  gtk_widget_dispose_template (GTK_WIDGET (self), TC_TYPE_TRANSFER_ROW);

  G_OBJECT_CLASS (tc_transfer_row_parent_class)->dispose (object);
}

static void
tc_transfer_row_class_init (TcTransferRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = tc_transfer_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class, "/io/github/torchat/TorChat/tc-transfer-row.ui");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "transferrow");
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, box);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, icon);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, name_label);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, detail_label);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, accept_button);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, decline_button);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, open_button);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, folder_button);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, progress);
  gtk_widget_class_bind_template_child (widget_class, TcTransferRow, thumbnail);
  gtk_widget_class_bind_template_callback (widget_class, accept_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, decline_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, cancel_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, open_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, folder_clicked_cb);
}

static void
tc_transfer_row_init (TcTransferRow *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  tc_a11y_fix_button_names (GTK_WIDGET (self));
}

GtkWidget *
tc_transfer_row_new (TcNode     *node,
                     TcTransfer *transfer)
{
  TcTransferRow *self;

  g_return_val_if_fail (TC_IS_NODE (node), NULL);
  g_return_val_if_fail (TC_IS_TRANSFER (transfer), NULL);

  self = g_object_new (TC_TYPE_TRANSFER_ROW, NULL);
  self->node = g_object_ref (node);
  self->transfer = g_object_ref (transfer);
  g_signal_connect_object (transfer, "notify", G_CALLBACK (update), self, G_CONNECT_SWAPPED);
  update (self);

  return GTK_WIDGET (self);
}

TcTransfer *
tc_transfer_row_get_transfer (TcTransferRow *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER_ROW (self), NULL);

  return self->transfer;
}
