/* tc-transfer.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-enum-types.h"
#include "tc-transfer.h"

/* "done" notifies at most this often while bytes flow; the speed is taken
 * over a window of about two seconds. */
#define NOTIFY_INTERVAL_US (G_USEC_PER_SEC / 5)
#define SPEED_WINDOW_US (2 * G_USEC_PER_SEC)

struct _TcTransfer
{
  GObject             parent_instance;

  char               *id;
  TcMessageDirection  direction;
  char               *peer;
  char               *name;
  gint64              size;
  char               *sha256;
  char               *mime;
  gint64              done;
  double              speed;
  TcTransferState     state;
  char               *error;
  char               *path;
  char               *directory;
  gint64              created;

  gint64              notified_time;
  gint64              window_time;
  gint64              window_done;
};

G_DEFINE_FINAL_TYPE (TcTransfer, tc_transfer, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_DIRECTION,
  PROP_PEER,
  PROP_NAME,
  PROP_SIZE,
  PROP_SHA256,
  PROP_MIME,
  PROP_DONE,
  PROP_SPEED,
  PROP_STATE,
  PROP_ERROR,
  PROP_PATH,
  PROP_DIRECTORY,
  PROP_CREATED,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
set_str (char       **ptr,
         const char  *value)
{
  if (g_strcmp0 (*ptr, value) == 0)
    return FALSE;

  g_free (*ptr);
  *ptr = g_strdup (value);
  return TRUE;
}

TcTransfer *
tc_transfer_new (const char         *id,
                 TcMessageDirection  direction,
                 const char         *peer)
{
  g_return_val_if_fail (id != NULL && peer != NULL, NULL);

  return g_object_new (TC_TYPE_TRANSFER, "id", id, "direction", direction,
                       "peer", peer, NULL);
}

gboolean
tc_transfer_is_finished (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), TRUE);

  return self->state == TC_TRANSFER_STATE_DONE ||
         self->state == TC_TRANSFER_STATE_FAILED ||
         self->state == TC_TRANSFER_STATE_CANCELLED ||
         self->state == TC_TRANSFER_STATE_DECLINED;
}

void
tc_transfer_set_done (TcTransfer *self,
                      gint64      done)
{
  gint64 now = g_get_monotonic_time ();

  g_return_if_fail (TC_IS_TRANSFER (self));

  if (self->done == done)
    return;

  if (done < self->done || self->window_time == 0)
    {
      self->window_time = now;
      self->window_done = done;
    }
  else if (now - self->window_time >= SPEED_WINDOW_US / 4)
    {
      double speed = (done - self->window_done) * (double) G_USEC_PER_SEC /
                     (now - self->window_time);

      /* Half the old window, half the new one: steady without lagging. */
      self->speed = self->speed > 0 ? (self->speed + speed) / 2 : speed;
      if (now - self->window_time >= SPEED_WINDOW_US)
        {
          self->window_time = now;
          self->window_done = done;
        }
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
    }

  self->done = done;
  if (now - self->notified_time >= NOTIFY_INTERVAL_US || done == self->size)
    {
      self->notified_time = now;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DONE]);
    }
}

void
tc_transfer_set_state (TcTransfer      *self,
                       TcTransferState  state)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (self->state == state)
    return;

  self->state = state;
  /* A throttled "done" catches up, and the speed of a stopped transfer is
   * zero. */
  self->notified_time = g_get_monotonic_time ();
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DONE]);
  if (state != TC_TRANSFER_STATE_ACTIVE)
    {
      self->speed = 0;
      self->window_time = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SPEED]);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

void
tc_transfer_set_size (TcTransfer *self,
                      gint64      size)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (self->size == size)
    return;
  self->size = size;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SIZE]);
}

void
tc_transfer_set_created (TcTransfer *self,
                         gint64      created)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (self->created == created)
    return;
  self->created = created;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CREATED]);
}

void
tc_transfer_set_name (TcTransfer *self,
                      const char *value)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (set_str (&self->name, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
}

void
tc_transfer_set_sha256 (TcTransfer *self,
                        const char *value)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (set_str (&self->sha256, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHA256]);
}

void
tc_transfer_set_mime (TcTransfer *self,
                      const char *value)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (set_str (&self->mime, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MIME]);
}

void
tc_transfer_set_error (TcTransfer *self,
                       const char *value)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (set_str (&self->error, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ERROR]);
}

void
tc_transfer_set_path (TcTransfer *self,
                      const char *value)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (set_str (&self->path, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PATH]);
}

void
tc_transfer_set_directory (TcTransfer *self,
                           const char *value)
{
  g_return_if_fail (TC_IS_TRANSFER (self));

  if (set_str (&self->directory, value))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DIRECTORY]);
}

const char *
tc_transfer_get_id (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->id;
}

TcMessageDirection
tc_transfer_get_direction (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), 0);
  return self->direction;
}

const char *
tc_transfer_get_peer (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->peer;
}

const char *
tc_transfer_get_name (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->name;
}

gint64
tc_transfer_get_size (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), 0);
  return self->size;
}

const char *
tc_transfer_get_sha256 (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->sha256;
}

const char *
tc_transfer_get_mime (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->mime;
}

gint64
tc_transfer_get_done (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), 0);
  return self->done;
}

double
tc_transfer_get_speed (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), 0);
  return self->speed;
}

TcTransferState
tc_transfer_get_state (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), 0);
  return self->state;
}

const char *
tc_transfer_get_error (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->error;
}

const char *
tc_transfer_get_path (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->path;
}

const char *
tc_transfer_get_directory (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), NULL);
  return self->directory;
}

gint64
tc_transfer_get_created (TcTransfer *self)
{
  g_return_val_if_fail (TC_IS_TRANSFER (self), 0);
  return self->created;
}

static void
tc_transfer_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  TcTransfer *self = TC_TRANSFER (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;
    case PROP_DIRECTION:
      g_value_set_enum (value, self->direction);
      break;
    case PROP_PEER:
      g_value_set_string (value, self->peer);
      break;
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    case PROP_SIZE:
      g_value_set_int64 (value, self->size);
      break;
    case PROP_SHA256:
      g_value_set_string (value, self->sha256);
      break;
    case PROP_MIME:
      g_value_set_string (value, self->mime);
      break;
    case PROP_DONE:
      g_value_set_int64 (value, self->done);
      break;
    case PROP_SPEED:
      g_value_set_double (value, self->speed);
      break;
    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;
    case PROP_ERROR:
      g_value_set_string (value, self->error);
      break;
    case PROP_PATH:
      g_value_set_string (value, self->path);
      break;
    case PROP_DIRECTORY:
      g_value_set_string (value, self->directory);
      break;
    case PROP_CREATED:
      g_value_set_int64 (value, self->created);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_transfer_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  TcTransfer *self = TC_TRANSFER (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;
    case PROP_DIRECTION:
      self->direction = g_value_get_enum (value);
      break;
    case PROP_PEER:
      self->peer = g_value_dup_string (value);
      break;
    case PROP_NAME:
      tc_transfer_set_name (self, g_value_get_string (value));
      break;
    case PROP_SIZE:
      tc_transfer_set_size (self, g_value_get_int64 (value));
      break;
    case PROP_SHA256:
      tc_transfer_set_sha256 (self, g_value_get_string (value));
      break;
    case PROP_MIME:
      tc_transfer_set_mime (self, g_value_get_string (value));
      break;
    case PROP_DONE:
      tc_transfer_set_done (self, g_value_get_int64 (value));
      break;
    case PROP_STATE:
      tc_transfer_set_state (self, g_value_get_enum (value));
      break;
    case PROP_ERROR:
      tc_transfer_set_error (self, g_value_get_string (value));
      break;
    case PROP_PATH:
      tc_transfer_set_path (self, g_value_get_string (value));
      break;
    case PROP_DIRECTORY:
      tc_transfer_set_directory (self, g_value_get_string (value));
      break;
    case PROP_CREATED:
      tc_transfer_set_created (self, g_value_get_int64 (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_transfer_finalize (GObject *object)
{
  TcTransfer *self = TC_TRANSFER (object);
  g_free (self->id);
  g_free (self->peer);
  g_free (self->name);
  g_free (self->sha256);
  g_free (self->mime);
  g_free (self->error);
  g_free (self->path);
  g_free (self->directory);

  G_OBJECT_CLASS (tc_transfer_parent_class)->finalize (object);
}

static void
tc_transfer_class_init (TcTransferClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags co = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  GParamFlags rw = G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS;
  GParamFlags ro = G_PARAM_READABLE | G_PARAM_STATIC_STRINGS;

  object_class->get_property = tc_transfer_get_property;
  object_class->set_property = tc_transfer_set_property;
  object_class->finalize = tc_transfer_finalize;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL, co);
  properties[PROP_DIRECTION] =
    g_param_spec_enum ("direction", NULL, NULL, TC_TYPE_MESSAGE_DIRECTION,
                       TC_MESSAGE_DIRECTION_OUTGOING, co);
  properties[PROP_PEER] =
    g_param_spec_string ("peer", NULL, NULL, NULL, co);
  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, rw);
  properties[PROP_SIZE] =
    g_param_spec_int64 ("size", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_SHA256] =
    g_param_spec_string ("sha256", NULL, NULL, NULL, rw);
  properties[PROP_MIME] =
    g_param_spec_string ("mime", NULL, NULL, NULL, rw);
  properties[PROP_DONE] =
    g_param_spec_int64 ("done", NULL, NULL, 0, G_MAXINT64, 0, rw);
  properties[PROP_SPEED] =
    g_param_spec_double ("speed", NULL, NULL, 0, G_MAXDOUBLE, 0, ro);
  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL, TC_TYPE_TRANSFER_STATE,
                       TC_TRANSFER_STATE_WAITING, rw);
  properties[PROP_ERROR] =
    g_param_spec_string ("error", NULL, NULL, NULL, rw);
  properties[PROP_PATH] =
    g_param_spec_string ("path", NULL, NULL, NULL, rw);
  properties[PROP_DIRECTORY] =
    g_param_spec_string ("directory", NULL, NULL, NULL, rw);
  properties[PROP_CREATED] =
    g_param_spec_int64 ("created", NULL, NULL, 0, G_MAXINT64, 0, rw);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tc_transfer_init (TcTransfer *self)
{
  self->state = TC_TRANSFER_STATE_WAITING;
  self->direction = TC_MESSAGE_DIRECTION_OUTGOING;
}
