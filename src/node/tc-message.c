/* tc-message.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-enum-types.h"
#include "tc-message.h"

struct _TcMessage
{
  GObject             parent_instance;

  char               *id;
  char               *peer;
  char               *text;
  GDateTime          *date;
  GDateTime          *received_date;
  TcMessageDirection  direction;
  TcMessageState      state;
};

G_DEFINE_FINAL_TYPE (TcMessage, tc_message, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ID,
  PROP_PEER,
  PROP_TEXT,
  PROP_DIRECTION,
  PROP_DATE,
  PROP_RECEIVED_DATE,
  PROP_STATE,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
date_equal (GDateTime *a,
            GDateTime *b)
{
  if (a == NULL || b == NULL)
    return a == b;

  return g_date_time_equal (a, b);
}

static void
tc_message_constructed (GObject *object)
{
  TcMessage *self = TC_MESSAGE (object);

  G_OBJECT_CLASS (tc_message_parent_class)->constructed (object);

  /* Views sort and label by date: a message always has one, even when the
   * sender's was missing. */
  if (self->date == NULL)
    self->date = self->received_date != NULL ?
                 g_date_time_ref (self->received_date) :
                 g_date_time_new_now_utc ();
}

static void
tc_message_finalize (GObject *object)
{
  TcMessage *self = TC_MESSAGE (object);

  g_clear_pointer (&self->id, g_free);
  g_clear_pointer (&self->peer, g_free);
  g_clear_pointer (&self->text, g_free);
  g_clear_pointer (&self->date, g_date_time_unref);
  g_clear_pointer (&self->received_date, g_date_time_unref);

  G_OBJECT_CLASS (tc_message_parent_class)->finalize (object);
}

static void
tc_message_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  TcMessage *self = TC_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      g_value_set_string (value, self->id);
      break;

    case PROP_PEER:
      g_value_set_string (value, self->peer);
      break;

    case PROP_TEXT:
      g_value_set_string (value, self->text);
      break;

    case PROP_DIRECTION:
      g_value_set_enum (value, self->direction);
      break;

    case PROP_DATE:
      g_value_set_boxed (value, self->date);
      break;

    case PROP_RECEIVED_DATE:
      g_value_set_boxed (value, self->received_date);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_message_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  TcMessage *self = TC_MESSAGE (object);

  switch (prop_id)
    {
    case PROP_ID:
      self->id = g_value_dup_string (value);
      break;

    case PROP_PEER:
      self->peer = g_value_dup_string (value);
      break;

    case PROP_TEXT:
      self->text = g_value_dup_string (value);
      break;

    case PROP_DIRECTION:
      self->direction = g_value_get_enum (value);
      break;

    case PROP_DATE:
      self->date = g_value_dup_boxed (value);
      break;

    case PROP_RECEIVED_DATE:
      tc_message_set_received_date (self, g_value_get_boxed (value));
      break;

    case PROP_STATE:
      tc_message_set_state (self, g_value_get_enum (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_message_class_init (TcMessageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags construct_only = G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS;
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->constructed = tc_message_constructed;
  object_class->finalize = tc_message_finalize;
  object_class->get_property = tc_message_get_property;
  object_class->set_property = tc_message_set_property;

  properties[PROP_ID] =
    g_param_spec_string ("id", NULL, NULL, NULL, construct_only);

  properties[PROP_PEER] =
    g_param_spec_string ("peer", NULL, NULL, NULL, construct_only);

  properties[PROP_TEXT] =
    g_param_spec_string ("text", NULL, NULL, NULL, construct_only);

  properties[PROP_DIRECTION] =
    g_param_spec_enum ("direction", NULL, NULL,
                       TC_TYPE_MESSAGE_DIRECTION,
                       TC_MESSAGE_DIRECTION_INCOMING,
                       construct_only);

  properties[PROP_DATE] =
    g_param_spec_boxed ("date", NULL, NULL, G_TYPE_DATE_TIME, construct_only);

  properties[PROP_RECEIVED_DATE] =
    g_param_spec_boxed ("received-date", NULL, NULL, G_TYPE_DATE_TIME, flags);

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       TC_TYPE_MESSAGE_STATE,
                       TC_MESSAGE_STATE_QUEUED,
                       flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tc_message_init (TcMessage *self)
{
  self->state = TC_MESSAGE_STATE_QUEUED;
}

TcMessage *
tc_message_new (const char         *id,
                const char         *peer,
                const char         *text,
                TcMessageDirection  direction,
                GDateTime          *date,
                GDateTime          *received_date,
                TcMessageState      state)
{
  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (peer != NULL, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  return g_object_new (TC_TYPE_MESSAGE,
                       "id", id,
                       "peer", peer,
                       "text", text,
                       "direction", direction,
                       "date", date,
                       "received-date", received_date,
                       "state", state,
                       NULL);
}

const char *
tc_message_get_id (TcMessage *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE (self), NULL);

  return self->id;
}

const char *
tc_message_get_peer (TcMessage *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE (self), NULL);

  return self->peer;
}

const char *
tc_message_get_text (TcMessage *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE (self), NULL);

  return self->text;
}

TcMessageDirection
tc_message_get_direction (TcMessage *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE (self), TC_MESSAGE_DIRECTION_INCOMING);

  return self->direction;
}

GDateTime *
tc_message_get_date (TcMessage *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE (self), NULL);

  return self->date;
}

GDateTime *
tc_message_get_received_date (TcMessage *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE (self), NULL);

  return self->received_date;
}

void
tc_message_set_received_date (TcMessage *self,
                              GDateTime *date)
{
  g_return_if_fail (TC_IS_MESSAGE (self));

  if (date_equal (self->received_date, date))
    return;

  g_clear_pointer (&self->received_date, g_date_time_unref);
  if (date != NULL)
    self->received_date = g_date_time_ref (date);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_RECEIVED_DATE]);
}

TcMessageState
tc_message_get_state (TcMessage *self)
{
  g_return_val_if_fail (TC_IS_MESSAGE (self), TC_MESSAGE_STATE_QUEUED);

  return self->state;
}

void
tc_message_set_state (TcMessage      *self,
                      TcMessageState  state)
{
  g_return_if_fail (TC_IS_MESSAGE (self));

  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}
