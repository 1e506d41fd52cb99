/* tc-test-host.h: a TcPeerHost for tests: a table of contacts, never
 * running (its peers do not connect out; the test brings every stream)
 *
 * Header-only, like tc-test-harness.h, so the test stays one source file.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include "tc-jmu.h"
#include "tc-peer-host.h"

#define TC_TYPE_TEST_HOST (tc_test_host_get_type ())
G_DECLARE_FINAL_TYPE (TcTestHost, tc_test_host, TC, TEST_HOST, GObject)

struct _TcTestHost
{
  GObject     parent_instance;
  GHashTable *contacts;      /* address → TcContact */
  guint       strangers;     /* add_stranger() calls */
  char       *address;       /* our own */
  TcConversation *conversation;  /* the open one, if any (its peer's) */
};

static void tc_test_host_iface_init (TcPeerHostInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (TcTestHost, tc_test_host, G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (TC_TYPE_PEER_HOST, tc_test_host_iface_init))

static TcContact *
host_lookup_contact (TcPeerHost *host,
                     const char *address)
{
  return g_hash_table_lookup (TC_TEST_HOST (host)->contacts, address);
}

static TcContact *
host_add_stranger (TcPeerHost *host,
                   const char *address)
{
  TcTestHost *self = TC_TEST_HOST (host);
  TcContact *contact = tc_contact_new (address);

  tc_contact_set_state (contact, TC_CONTACT_STATE_PENDING);
  g_hash_table_insert (self->contacts, g_strdup (address), contact);
  self->strangers++;
  return contact;
}

static TcConversation *
host_peek_conversation (TcPeerHost *host,
                        const char *address)
{
  TcConversation *conversation = TC_TEST_HOST (host)->conversation;

  if (conversation != NULL && g_strcmp0 (tc_conversation_get_peer (conversation), address) == 0)
    return conversation;
  return NULL;
}

static gboolean
host_get_running (TcPeerHost *host)
{
  return FALSE;
}

static GSocketAddress *
host_get_socks_address (TcPeerHost *host)
{
  return NULL;
}

static gboolean
host_get_onion_new (TcPeerHost *host)
{
  return FALSE;
}

static const char *
host_get_name (TcPeerHost *host)
{
  return "Alice";
}

static char *
host_build_status (TcPeerHost *host)
{
  return tc_jmu_build_status ("away", "at lunch", TC_TEST_HOST (host)->address);
}

static char *
host_build_profile (TcPeerHost *host)
{
  return tc_jmu_build_profile ("Alice", "test profile", TC_TEST_HOST (host)->address);
}

static void
tc_test_host_iface_init (TcPeerHostInterface *iface)
{
  iface->lookup_contact = host_lookup_contact;
  iface->add_stranger = host_add_stranger;
  iface->peek_conversation = host_peek_conversation;
  iface->get_running = host_get_running;
  iface->get_socks_address = host_get_socks_address;
  iface->get_onion_new = host_get_onion_new;
  iface->get_name = host_get_name;
  iface->build_status = host_build_status;
  iface->build_profile = host_build_profile;
}

static void
tc_test_host_finalize (GObject *object)
{
  g_hash_table_unref (TC_TEST_HOST (object)->contacts);
  g_free (TC_TEST_HOST (object)->address);
  g_clear_object (&TC_TEST_HOST (object)->conversation);
  G_OBJECT_CLASS (tc_test_host_parent_class)->finalize (object);
}

static void
tc_test_host_class_init (TcTestHostClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tc_test_host_finalize;
}

static void
tc_test_host_init (TcTestHost *self)
{
  self->contacts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
}
