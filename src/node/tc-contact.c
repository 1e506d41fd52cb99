/* tc-contact.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-contact.h"
#include "tc-enum-types.h"

#define SHORT_ADDRESS_CHARS 8

struct _TcContact
{
  GObject         parent_instance;

  char           *address;
  char           *nickname;
  char           *name;
  char           *profile_text;
  char           *greeting;
  char           *display_name;
  char           *status_text;
  char           *last_error;
  TcContactState  state;
  TcPresence      presence;
  TcTyping        typing;
  guint           unread;
  gint64          last_activity;
  gint64          next_attempt;
  guint           connected : 1;
  guint           answer_pending : 1;
};

G_DEFINE_FINAL_TYPE (TcContact, tc_contact, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_ADDRESS,
  PROP_NICKNAME,
  PROP_NAME,
  PROP_PROFILE_TEXT,
  PROP_GREETING,
  PROP_DISPLAY_NAME,
  PROP_STATE,
  PROP_PRESENCE,
  PROP_STATUS_TEXT,
  PROP_TYPING,
  PROP_CONNECTED,
  PROP_ANSWER_PENDING,
  PROP_LAST_ERROR,
  PROP_UNREAD,
  PROP_LAST_ACTIVITY,
  PROP_NEXT_ATTEMPT,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
compute_display_name (TcContact *self)
{
  const char *end;

  if (self->nickname != NULL && self->nickname[0] != '\0')
    return g_strdup (self->nickname);

  if (self->name != NULL && self->name[0] != '\0')
    return g_strdup (self->name);

  if (self->address == NULL)
    return g_strdup ("");

  if (g_utf8_strlen (self->address, -1) <= SHORT_ADDRESS_CHARS)
    return g_strdup (self->address);

  end = g_utf8_offset_to_pointer (self->address, SHORT_ADDRESS_CHARS);
  return g_strdup_printf ("%.*s…", (int) (end - self->address), self->address);
}

static void
update_display_name (TcContact *self)
{
  g_autofree char *display_name = compute_display_name (self);

  if (g_strcmp0 (display_name, self->display_name) == 0)
    return;

  g_free (self->display_name);
  self->display_name = g_steal_pointer (&display_name);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_DISPLAY_NAME]);
}

static gboolean
set_string (char       **field,
            const char  *value)
{
  if (g_strcmp0 (*field, value) == 0)
    return FALSE;

  g_free (*field);
  *field = g_strdup (value);
  return TRUE;
}

static void
tc_contact_constructed (GObject *object)
{
  TcContact *self = TC_CONTACT (object);

  G_OBJECT_CLASS (tc_contact_parent_class)->constructed (object);

  self->display_name = compute_display_name (self);
}

static void
tc_contact_finalize (GObject *object)
{
  TcContact *self = TC_CONTACT (object);

  g_clear_pointer (&self->address, g_free);
  g_clear_pointer (&self->nickname, g_free);
  g_clear_pointer (&self->name, g_free);
  g_clear_pointer (&self->profile_text, g_free);
  g_clear_pointer (&self->greeting, g_free);
  g_clear_pointer (&self->display_name, g_free);
  g_clear_pointer (&self->status_text, g_free);
  g_clear_pointer (&self->last_error, g_free);

  G_OBJECT_CLASS (tc_contact_parent_class)->finalize (object);
}

static void
tc_contact_get_property (GObject    *object,
                         guint       prop_id,
                         GValue     *value,
                         GParamSpec *pspec)
{
  TcContact *self = TC_CONTACT (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      g_value_set_string (value, self->address);
      break;

    case PROP_NICKNAME:
      g_value_set_string (value, self->nickname);
      break;

    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;

    case PROP_PROFILE_TEXT:
      g_value_set_string (value, self->profile_text);
      break;

    case PROP_GREETING:
      g_value_set_string (value, self->greeting);
      break;

    case PROP_DISPLAY_NAME:
      g_value_set_string (value, self->display_name);
      break;

    case PROP_STATE:
      g_value_set_enum (value, self->state);
      break;

    case PROP_PRESENCE:
      g_value_set_enum (value, self->presence);
      break;

    case PROP_STATUS_TEXT:
      g_value_set_string (value, self->status_text);
      break;

    case PROP_TYPING:
      g_value_set_enum (value, self->typing);
      break;

    case PROP_CONNECTED:
      g_value_set_boolean (value, self->connected);
      break;

    case PROP_ANSWER_PENDING:
      g_value_set_boolean (value, self->answer_pending);
      break;

    case PROP_LAST_ERROR:
      g_value_set_string (value, self->last_error);
      break;

    case PROP_UNREAD:
      g_value_set_uint (value, self->unread);
      break;

    case PROP_LAST_ACTIVITY:
      g_value_set_int64 (value, self->last_activity);
      break;

    case PROP_NEXT_ATTEMPT:
      g_value_set_int64 (value, self->next_attempt);
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_contact_set_property (GObject      *object,
                         guint         prop_id,
                         const GValue *value,
                         GParamSpec   *pspec)
{
  TcContact *self = TC_CONTACT (object);

  switch (prop_id)
    {
    case PROP_ADDRESS:
      self->address = g_value_dup_string (value);
      break;

    case PROP_NICKNAME:
      tc_contact_set_nickname (self, g_value_get_string (value));
      break;

    case PROP_NAME:
      tc_contact_set_name (self, g_value_get_string (value));
      break;

    case PROP_PROFILE_TEXT:
      tc_contact_set_profile_text (self, g_value_get_string (value));
      break;

    case PROP_GREETING:
      tc_contact_set_greeting (self, g_value_get_string (value));
      break;

    case PROP_STATE:
      tc_contact_set_state (self, g_value_get_enum (value));
      break;

    case PROP_PRESENCE:
      tc_contact_set_presence (self, g_value_get_enum (value));
      break;

    case PROP_STATUS_TEXT:
      tc_contact_set_status_text (self, g_value_get_string (value));
      break;

    case PROP_TYPING:
      tc_contact_set_typing (self, g_value_get_enum (value));
      break;

    case PROP_CONNECTED:
      tc_contact_set_connected (self, g_value_get_boolean (value));
      break;

    case PROP_ANSWER_PENDING:
      tc_contact_set_answer_pending (self, g_value_get_boolean (value));
      break;

    case PROP_LAST_ERROR:
      tc_contact_set_last_error (self, g_value_get_string (value));
      break;

    case PROP_UNREAD:
      tc_contact_set_unread (self, g_value_get_uint (value));
      break;

    case PROP_LAST_ACTIVITY:
      tc_contact_set_last_activity (self, g_value_get_int64 (value));
      break;

    case PROP_NEXT_ATTEMPT:
      tc_contact_set_next_attempt (self, g_value_get_int64 (value));
      break;

    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
tc_contact_class_init (TcContactClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GParamFlags flags = G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY;

  object_class->constructed = tc_contact_constructed;
  object_class->finalize = tc_contact_finalize;
  object_class->get_property = tc_contact_get_property;
  object_class->set_property = tc_contact_set_property;

  properties[PROP_ADDRESS] =
    g_param_spec_string ("address", NULL, NULL,
                         NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);

  properties[PROP_NICKNAME] =
    g_param_spec_string ("nickname", NULL, NULL, NULL, flags);

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, NULL, NULL, flags);

  properties[PROP_PROFILE_TEXT] =
    g_param_spec_string ("profile-text", NULL, NULL, NULL, flags);

  properties[PROP_GREETING] =
    g_param_spec_string ("greeting", NULL, NULL, NULL, flags);

  properties[PROP_DISPLAY_NAME] =
    g_param_spec_string ("display-name", NULL, NULL,
                         NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  properties[PROP_STATE] =
    g_param_spec_enum ("state", NULL, NULL,
                       TC_TYPE_CONTACT_STATE,
                       TC_CONTACT_STATE_REQUESTED,
                       flags);

  properties[PROP_PRESENCE] =
    g_param_spec_enum ("presence", NULL, NULL,
                       TC_TYPE_PRESENCE,
                       TC_PRESENCE_OFFLINE,
                       flags);

  properties[PROP_STATUS_TEXT] =
    g_param_spec_string ("status-text", NULL, NULL, NULL, flags);

  properties[PROP_TYPING] =
    g_param_spec_enum ("typing", NULL, NULL,
                       TC_TYPE_TYPING,
                       TC_TYPING_ACTIVE,
                       flags);

  properties[PROP_CONNECTED] =
    g_param_spec_boolean ("connected", NULL, NULL, FALSE, flags);

  properties[PROP_ANSWER_PENDING] =
    g_param_spec_boolean ("answer-pending", NULL, NULL, FALSE, flags);

  properties[PROP_LAST_ERROR] =
    g_param_spec_string ("last-error", NULL, NULL, NULL, flags);

  properties[PROP_UNREAD] =
    g_param_spec_uint ("unread", NULL, NULL, 0, G_MAXUINT, 0, flags);

  properties[PROP_LAST_ACTIVITY] =
    g_param_spec_int64 ("last-activity", NULL, NULL, 0, G_MAXINT64, 0, flags);

  properties[PROP_NEXT_ATTEMPT] =
    g_param_spec_int64 ("next-attempt", NULL, NULL, 0, G_MAXINT64, 0, flags);

  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
tc_contact_init (TcContact *self)
{
  self->state = TC_CONTACT_STATE_REQUESTED;
  self->presence = TC_PRESENCE_OFFLINE;
  self->typing = TC_TYPING_ACTIVE;
}

TcContact *
tc_contact_new (const char *address)
{
  g_return_val_if_fail (address != NULL, NULL);

  return g_object_new (TC_TYPE_CONTACT,
                       "address", address,
                       NULL);
}

const char *
tc_contact_get_address (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->address;
}

const char *
tc_contact_get_nickname (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->nickname;
}

void
tc_contact_set_nickname (TcContact  *self,
                         const char *nickname)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (!set_string (&self->nickname, nickname))
    return;

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NICKNAME]);
  update_display_name (self);
  g_object_thaw_notify (G_OBJECT (self));
}

const char *
tc_contact_get_name (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->name;
}

void
tc_contact_set_name (TcContact  *self,
                     const char *name)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (!set_string (&self->name, name))
    return;

  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
  update_display_name (self);
  g_object_thaw_notify (G_OBJECT (self));
}

const char *
tc_contact_get_profile_text (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->profile_text;
}

void
tc_contact_set_profile_text (TcContact  *self,
                             const char *text)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (set_string (&self->profile_text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PROFILE_TEXT]);
}

const char *
tc_contact_get_greeting (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->greeting;
}

void
tc_contact_set_greeting (TcContact  *self,
                         const char *greeting)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (set_string (&self->greeting, greeting))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_GREETING]);
}

const char *
tc_contact_get_display_name (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->display_name;
}

TcContactState
tc_contact_get_state (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), TC_CONTACT_STATE_REQUESTED);

  return self->state;
}

void
tc_contact_set_state (TcContact      *self,
                      TcContactState  state)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (self->state == state)
    return;

  self->state = state;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATE]);
}

TcPresence
tc_contact_get_presence (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), TC_PRESENCE_OFFLINE);

  return self->presence;
}

void
tc_contact_set_presence (TcContact  *self,
                         TcPresence  presence)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (self->presence == presence)
    return;

  self->presence = presence;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PRESENCE]);
}

const char *
tc_contact_get_status_text (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->status_text;
}

void
tc_contact_set_status_text (TcContact  *self,
                            const char *text)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (set_string (&self->status_text, text))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_STATUS_TEXT]);
}

TcTyping
tc_contact_get_typing (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), TC_TYPING_ACTIVE);

  return self->typing;
}

void
tc_contact_set_typing (TcContact *self,
                       TcTyping   typing)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (self->typing == typing)
    return;

  self->typing = typing;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_TYPING]);
}

gboolean
tc_contact_get_connected (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), FALSE);

  return self->connected;
}

void
tc_contact_set_connected (TcContact *self,
                          gboolean   connected)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  connected = !!connected;
  if (self->connected == connected)
    return;

  self->connected = connected;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CONNECTED]);
}

gboolean
tc_contact_get_answer_pending (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), FALSE);

  return self->answer_pending;
}

void
tc_contact_set_answer_pending (TcContact *self,
                               gboolean   pending)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  pending = !!pending;
  if (self->answer_pending == pending)
    return;

  self->answer_pending = pending;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ANSWER_PENDING]);
}

const char *
tc_contact_get_last_error (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), NULL);

  return self->last_error;
}

void
tc_contact_set_last_error (TcContact  *self,
                           const char *error)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (set_string (&self->last_error, error))
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ERROR]);
}

guint
tc_contact_get_unread (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), 0);

  return self->unread;
}

void
tc_contact_set_unread (TcContact *self,
                       guint      unread)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  if (self->unread == unread)
    return;

  self->unread = unread;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
}

gint64
tc_contact_get_last_activity (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), 0);

  return self->last_activity;
}

void
tc_contact_set_last_activity (TcContact *self,
                              gint64     usec)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  usec = MAX (usec, 0);
  if (self->last_activity == usec)
    return;

  self->last_activity = usec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LAST_ACTIVITY]);
}

gint64
tc_contact_get_next_attempt (TcContact *self)
{
  g_return_val_if_fail (TC_IS_CONTACT (self), 0);

  return self->next_attempt;
}

void
tc_contact_set_next_attempt (TcContact *self,
                             gint64     usec)
{
  g_return_if_fail (TC_IS_CONTACT (self));

  usec = MAX (usec, 0);
  if (self->next_attempt == usec)
    return;

  self->next_attempt = usec;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NEXT_ATTEMPT]);
}
