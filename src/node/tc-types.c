/* tc-types.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-types.h"

/* The strings are the wire and command-line names. */
static const char * const contact_states[] = {
  "requested", "pending", "accepted", "declined", "blocked", NULL
};
static const char * const presences[] = {
  "offline", "available", "away", "xa", "dnd", NULL
};
static const char * const message_states[] = {
  "queued", "sent", "delivered", "failed", "received", NULL
};
static const char * const typings[] = {
  "active", "composing", "paused", NULL
};

static const char * const transfer_states[] = {
  "offered", "waiting", "active", "paused", "done", "failed", "cancelled",
  "declined", NULL
};

static gboolean
lookup (const char * const *names,
        const char         *str,
        int                *value)
{
  if (str == NULL)
    return FALSE;

  for (int i = 0; names[i] != NULL; i++)
    {
      if (g_str_equal (names[i], str))
        {
          *value = i;
          return TRUE;
        }
    }

  return FALSE;
}

#define DEFINE_ENUM_STRINGS(Type, name, table)                          \
  const char *                                                          \
  name##_to_string (Type value)                                         \
  {                                                                     \
    g_return_val_if_fail ((guint) value < G_N_ELEMENTS (table) - 1, NULL); \
    return table[value];                                                \
  }                                                                     \
  gboolean                                                              \
  name##_from_string (const char *str,                                  \
                      Type       *value)                                \
  {                                                                     \
    int v;                                                              \
    if (!lookup (table, str, &v))                                       \
      return FALSE;                                                     \
    *value = (Type) v;                                                  \
    return TRUE;                                                        \
  }

DEFINE_ENUM_STRINGS (TcContactState, tc_contact_state, contact_states)
DEFINE_ENUM_STRINGS (TcPresence, tc_presence, presences)
DEFINE_ENUM_STRINGS (TcMessageState, tc_message_state, message_states)
DEFINE_ENUM_STRINGS (TcTyping, tc_typing, typings)
DEFINE_ENUM_STRINGS (TcTransferState, tc_transfer_state, transfer_states)
