/* test-peer.c: one TcPeer on its own, without a node: a host of the test's
 * own, a real SQLite store, and real streams over socket pairs whose other
 * end the test drives as the remote node
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gstdio.h>

#include "tc-admission.h"
#include "tc-peer.h"
#include "tc-store-private.h"
#include "tc-test-host.h"
#include "tc-test-socket.h"

#define TIMEOUT_US (20 * G_USEC_PER_SEC)

/* The fixture */

typedef struct {
  char        *dir;
  char        *db_path;
  TcStore     *store;
  TcStore     *reader;       /* a second connection: sees only what is committed */
  TcIdentity  *local;
  TcIdentity  *remote;
  TcTestHost  *host;
  TcAdmission *admission;
  TcPeer      *peer;
  GPtrArray   *received;     /* TcMessage, from "message-received" */
  guint        requests;
  guint        chat_ready;
  guint        idle;
  guint        tick;
} Fixture;

/* The remote node's end of one stream. */
typedef struct {
  TcStream  *local;          /* the peer's end */
  TcStream  *stream;         /* ours */
  GPtrArray *jmus;           /* TcJmu received */
  GError    *closed;
  gboolean   ready;
  gboolean   refused;        /* tc_peer_adopt_stream() said no */
  TcPeer    *peer;
} Remote;

static TcIdentity *
identity_from (guint8 base)
{
  guint8 seed[TC_SEED_LEN];

  for (guint i = 0; i < sizeof seed; i++)
    seed[i] = base + i;
  return tc_identity_new_from_seed (seed);
}

static const char *
remote_address (Fixture *f)
{
  return tc_identity_get_address (f->remote);
}

static gboolean
tick_cb (gpointer data)
{
  return G_SOURCE_CONTINUE;
}

static void
message_received_cb (TcPeer    *peer,
                     TcContact *contact,
                     TcMessage *message,
                     Fixture   *f)
{
  g_assert_cmpstr (tc_contact_get_address (contact), ==, tc_peer_get_address (peer));
  g_ptr_array_add (f->received, g_object_ref (message));
}

static void
count_cb (TcPeer *peer,
          guint  *counter)
{
  (*counter)++;
}

static void
request_cb (TcPeer    *peer,
            TcContact *contact,
            Fixture   *f)
{
  g_assert_cmpint (tc_contact_get_state (contact), ==, TC_CONTACT_STATE_PENDING);
  f->requests++;
}

static TcPeer *
new_peer (Fixture    *f,
          const char *address)
{
  TcPeer *peer = tc_peer_new (TC_PEER_HOST (f->host), f->store, f->local, f->admission, address);

  g_signal_connect (peer, "message-received", G_CALLBACK (message_received_cb), f);
  g_signal_connect (peer, "contact-request", G_CALLBACK (request_cb), f);
  g_signal_connect (peer, "chat-ready", G_CALLBACK (count_cb), &f->chat_ready);
  g_signal_connect (peer, "idle", G_CALLBACK (count_cb), &f->idle);
  return peer;
}

/* A contact of the host in @state, stored. */
static TcContact *
add_contact (Fixture        *f,
             const char     *address,
             TcContactState  state)
{
  TcContact *contact = tc_contact_new (address);
  g_autoptr(GError) error = NULL;

  tc_contact_set_state (contact, state);
  g_hash_table_insert (f->host->contacts, g_strdup (address), contact);
  g_assert_true (tc_store_save_contact (f->store, contact, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  return contact;
}

static void
fixture_setup (Fixture       *f,
               gconstpointer  data)
{
  g_autoptr(GError) error = NULL;

  f->dir = g_dir_make_tmp ("torchat-test-peer-XXXXXX", &error);
  g_assert_no_error (error);
  f->db_path = g_build_filename (f->dir, "torchat.db", NULL);
  f->store = tc_store_open (f->db_path, &error);
  g_assert_no_error (error);
  f->reader = tc_store_open (f->db_path, &error);
  g_assert_no_error (error);

  f->local = identity_from (0x10);
  f->remote = identity_from (0x70);
  f->host = g_object_new (TC_TYPE_TEST_HOST, NULL);
  f->host->address = g_strdup (tc_identity_get_address (f->local));
  f->admission = tc_admission_new ();
  f->received = g_ptr_array_new_with_free_func (g_object_unref);
  f->peer = new_peer (f, remote_address (f));
  /* Timers inside the streams need the loop to wake up now and then. */
  f->tick = g_timeout_add (50, tick_cb, NULL);
}

static void
fixture_teardown (Fixture       *f,
                  gconstpointer  data)
{
  g_clear_handle_id (&f->tick, g_source_remove);
  g_clear_object (&f->peer);
  g_clear_object (&f->admission);
  g_clear_object (&f->host);
  g_clear_object (&f->store);
  g_clear_object (&f->reader);
  g_clear_object (&f->local);
  g_clear_object (&f->remote);
  g_ptr_array_unref (f->received);

  /* The store's files and the directory. */
  {
    g_autoptr(GDir) dir = g_dir_open (f->dir, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
      {
        g_autofree char *path = g_build_filename (f->dir, name, NULL);
        g_unlink (path);
      }
  }
  g_rmdir (f->dir);
  g_free (f->db_path);
  g_free (f->dir);
}

#define WAIT_FOR(cond) G_STMT_START {                                      \
    gint64 deadline_ = g_get_monotonic_time () + TIMEOUT_US;               \
    while (!(cond))                                                        \
      {                                                                    \
        if (g_get_monotonic_time () > deadline_)                           \
          g_error ("Timed out waiting for %s", #cond);                     \
        g_main_context_iteration (NULL, TRUE);                             \
      }                                                                    \
  } G_STMT_END

/* Streams */

/* What the node does with a receiver stream that authenticated. */
static void
authenticated_cb (TcStream *stream,
                  Remote   *r)
{
  r->refused = !tc_peer_adopt_stream (r->peer, stream);
}

static void
remote_ready_cb (TcStream *stream,
                 Remote   *r)
{
  r->ready = TRUE;
}

static void
remote_jmu_cb (TcStream *stream,
               TcJmu    *jmu,
               Remote   *r)
{
  g_ptr_array_add (r->jmus, tc_jmu_ref (jmu));
}

static void
remote_closed_cb (TcStream     *stream,
                  const GError *error,
                  Remote       *r)
{
  r->closed = error ? g_error_copy (error)
                    : g_error_new_literal (G_IO_ERROR, G_IO_ERROR_FAILED, "clean");
}

/* A stream from @identity to the peer's node, handed to @peer once it
 * authenticated, as the node does; returns once it is ready or refused. */
static Remote *
remote_open (Fixture    *f,
             TcPeer     *peer,
             TcIdentity *identity)
{
  Remote *r = g_new0 (Remote, 1);
  g_autoptr(GIOStream) local_io = NULL;
  g_autoptr(GIOStream) remote_io = NULL;

  tc_test_socket_pair (&local_io, &remote_io);

  r->peer = peer;
  r->jmus = g_ptr_array_new_with_free_func ((GDestroyNotify) tc_jmu_unref);
  r->local = tc_stream_new (local_io, f->local, TC_STREAM_ROLE_RECEIVER, NULL);
  r->stream = tc_stream_new (remote_io, identity, TC_STREAM_ROLE_INITIATOR,
                             tc_identity_get_address (f->local));
  g_signal_connect (r->local, "authenticated", G_CALLBACK (authenticated_cb), r);
  g_signal_connect (r->stream, "ready", G_CALLBACK (remote_ready_cb), r);
  g_signal_connect (r->stream, "jmu", G_CALLBACK (remote_jmu_cb), r);
  g_signal_connect (r->stream, "closed", G_CALLBACK (remote_closed_cb), r);

  tc_stream_start (r->local);
  tc_stream_start (r->stream);
  WAIT_FOR (r->ready || r->closed != NULL);

  return r;
}

static void
remote_free (Remote *r)
{
  g_signal_handlers_disconnect_by_data (r->local, r);
  g_signal_handlers_disconnect_by_data (r->stream, r);
  g_clear_object (&r->local);
  g_clear_object (&r->stream);
  g_ptr_array_unref (r->jmus);
  g_clear_error (&r->closed);
  g_free (r);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Remote, remote_free)

static guint
count_kind (Remote    *r,
            TcJmuKind  kind)
{
  guint n = 0;

  for (guint i = 0; i < r->jmus->len; i++)
    n += tc_jmu_get_kind (g_ptr_array_index (r->jmus, i)) == kind;
  return n;
}

/* How often the value of a JMU of @kind was @value. */
static guint
count_value (Remote     *r,
             TcJmuKind   kind,
             const char *value)
{
  guint n = 0;

  for (guint i = 0; i < r->jmus->len; i++)
    {
      TcJmu *jmu = g_ptr_array_index (r->jmus, i);

      if (tc_jmu_get_kind (jmu) == kind)
        n += kind == TC_JMU_KIND_MESSAGE ? g_strcmp0 (tc_jmu_get_string (jmu, "id"), value) == 0
                                         : g_strcmp0 (tc_jmu_get_value_string (jmu), value) == 0;
    }
  return n;
}

static void
remote_send_message (Fixture    *f,
                     Remote     *r,
                     TcIdentity *from,
                     const char *mid,
                     const char *text)
{
  g_autofree char *line = tc_jmu_build_message (text, mid, tc_identity_get_address (from),
                                                tc_identity_get_address (f->local),
                                                "2026-11-22T10:00:00Z");
  tc_stream_send (r->stream, line);
}

static void
remote_send_receipt (Remote     *r,
                     const char *mid)
{
  g_autofree char *line = tc_jmu_build_receipt (mid, tc_stream_get_peer (r->local));
  tc_stream_send (r->stream, line);
}

static TcMessage *
queue_outgoing (Fixture    *f,
                const char *mid,
                const char *text)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;
  TcMessage *message = tc_message_new (mid, remote_address (f), text,
                                       TC_MESSAGE_DIRECTION_OUTGOING, now, NULL,
                                       TC_MESSAGE_STATE_QUEUED);

  g_assert_true (tc_store_add_outgoing (f->store, message, &error));
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);
  return message;
}

static TcMessageState
stored_state (TcStore    *store,
              const char *peer,
              const char *mid)
{
  g_autoptr(TcMessage) message = tc_store_lookup_message (store, peer, mid);

  g_assert_nonnull (message);
  return tc_message_get_state (message);
}

/* The tests */

/* An accepted contact's stream is adopted and greeted: our status and
 * profile, then the outbox; the contact shows connected, and a receipt
 * makes the message delivered. */
static void
test_greeting (Fixture       *f,
               gconstpointer  data)
{
  TcContact *contact = add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  g_autoptr(TcMessage) queued = queue_outgoing (f, "out-1", "hello from the outbox");
  g_autoptr(Remote) r = remote_open (f, f->peer, f->remote);
  TcJmu *first;

  g_assert_true (r->ready);
  g_assert_false (r->refused);
  g_assert_true (tc_peer_get_stream (f->peer) == r->local);
  g_assert_cmpuint (tc_peer_get_n_streams (f->peer), ==, 1);
  g_assert_cmpuint (tc_admission_get_n_streams (f->admission), ==, 1);
  g_assert_true (tc_contact_get_connected (contact));
  g_assert_cmpuint (f->chat_ready, ==, 1);

  WAIT_FOR (count_kind (r, TC_JMU_KIND_MESSAGE) == 1);
  first = g_ptr_array_index (r->jmus, 0);
  g_assert_cmpint (tc_jmu_get_kind (first), ==, TC_JMU_KIND_STATUS);
  g_assert_cmpstr (tc_jmu_get_value_string (first), ==, "away");
  g_assert_cmpuint (count_kind (r, TC_JMU_KIND_PROFILE), ==, 1);
  g_assert_cmpuint (count_value (r, TC_JMU_KIND_MESSAGE, "out-1"), ==, 1);
  g_assert_cmpint (stored_state (f->reader, remote_address (f), "out-1"), ==,
                   TC_MESSAGE_STATE_SENT);

  remote_send_receipt (r, "out-1");
  WAIT_FOR (stored_state (f->reader, remote_address (f), "out-1") == TC_MESSAGE_STATE_DELIVERED);
  g_assert_cmpuint (tc_store_count_outbox (f->store, remote_address (f)), ==, 0);
}

/* A blocked contact's stream is refused with not-authorized. */
static void
test_blocked (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(Remote) r = NULL;

  add_contact (f, remote_address (f), TC_CONTACT_STATE_BLOCKED);
  r = remote_open (f, f->peer, f->remote);

  g_assert_true (r->refused);
  WAIT_FOR (r->closed != NULL);
  g_assert_false (r->ready);
  g_assert_error (r->closed, TC_JMU_ERROR, TC_CONDITION_NOT_AUTHORIZED);
  g_assert_null (tc_peer_get_stream (f->peer));
  g_assert_cmpuint (tc_admission_get_n_streams (f->admission), ==, 0);
}

/* An incoming message is receipted only once it is committed: when the
 * receipt arrives, a second connection to the database sees the message.
 * The message is announced once, and counted unread. */
static void
test_receipt_after_commit (Fixture       *f,
                           gconstpointer  data)
{
  TcContact *contact = add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  g_autoptr(Remote) r = remote_open (f, f->peer, f->remote);
  g_autoptr(TcMessage) stored = NULL;

  remote_send_message (f, r, f->remote, "in-1", "hello Alice");
  WAIT_FOR (count_kind (r, TC_JMU_KIND_RECEIPT) == 1);

  g_assert_cmpuint (count_value (r, TC_JMU_KIND_RECEIPT, "in-1"), ==, 1);
  stored = tc_store_lookup_message (f->reader, remote_address (f), "in-1");
  g_assert_nonnull (stored);
  g_assert_cmpstr (tc_message_get_text (stored), ==, "hello Alice");
  g_assert_cmpint (tc_message_get_direction (stored), ==, TC_MESSAGE_DIRECTION_INCOMING);
  g_assert_false (tc_store_in_transaction (f->store));

  g_assert_cmpuint (f->received->len, ==, 1);
  g_assert_cmpstr (tc_message_get_id (g_ptr_array_index (f->received, 0)), ==, "in-1");
  g_assert_cmpuint (tc_contact_get_unread (contact), ==, 1);
}

/* The same message again (the sender lost the receipt): stored once,
 * announced once, receipted again. */
static void
test_duplicate (Fixture       *f,
                gconstpointer  data)
{
  TcContact *contact = add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  g_autoptr(Remote) r = remote_open (f, f->peer, f->remote);

  remote_send_message (f, r, f->remote, "dup-1", "once");
  WAIT_FOR (count_value (r, TC_JMU_KIND_RECEIPT, "dup-1") == 1);
  remote_send_message (f, r, f->remote, "dup-1", "once");
  WAIT_FOR (count_value (r, TC_JMU_KIND_RECEIPT, "dup-1") == 2);

  g_assert_cmpuint (tc_store_count_messages (f->reader, remote_address (f)), ==, 1);
  g_assert_cmpuint (f->received->len, ==, 1);
  g_assert_cmpuint (tc_contact_get_unread (contact), ==, 1);
}

/* Until a receipt comes, the outbox goes out again on every new stream;
 * after it, never again. */
static void
test_outbox_resent (Fixture       *f,
                    gconstpointer  data)
{
  g_autoptr(TcMessage) queued = NULL;
  Remote *r;

  add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  queued = queue_outgoing (f, "out-2", "say it again");

  for (guint round = 0; round < 2; round++)
    {
      r = remote_open (f, f->peer, f->remote);
      WAIT_FOR (count_value (r, TC_JMU_KIND_MESSAGE, "out-2") == 1);
      /* No receipt: the stream ends, the message stays in the outbox. */
      tc_stream_close (r->stream);
      WAIT_FOR (r->closed != NULL && tc_peer_get_n_streams (f->peer) == 0);
      g_assert_cmpuint (tc_store_count_outbox (f->store, remote_address (f)), ==, 1);
      remote_free (r);
    }
  /* Nothing left to do and no contact state that wants a stream from us
   * (the host does not run): the owner may drop the peer. */
  g_assert_cmpuint (f->idle, ==, 2);
  g_assert_null (tc_peer_get_stream (f->peer));
  g_assert_cmpuint (tc_admission_get_n_streams (f->admission), ==, 0);

  r = remote_open (f, f->peer, f->remote);
  WAIT_FOR (count_value (r, TC_JMU_KIND_MESSAGE, "out-2") == 1);
  remote_send_receipt (r, "out-2");
  WAIT_FOR (stored_state (f->reader, remote_address (f), "out-2") == TC_MESSAGE_STATE_DELIVERED);
  tc_stream_close (r->stream);
  WAIT_FOR (r->closed != NULL && tc_peer_get_n_streams (f->peer) == 0);
  remote_free (r);

  /* A round trip on a new stream: our receipt comes after anything the
   * greeting would have sent. */
  r = remote_open (f, f->peer, f->remote);
  remote_send_message (f, r, f->remote, "ping-1", "are you there");
  WAIT_FOR (count_value (r, TC_JMU_KIND_RECEIPT, "ping-1") == 1);
  g_assert_cmpuint (count_kind (r, TC_JMU_KIND_PROFILE), ==, 1);
  g_assert_cmpuint (count_kind (r, TC_JMU_KIND_MESSAGE), ==, 0);
  remote_free (r);
}

/* The disk fills during a burst: no receipt for anything that is not
 * committed, the stream is refused with resource-constraint, and once
 * there is room the same burst is taken, each message once. */
static void
test_full_disk (Fixture       *f,
                gconstpointer  data)
{
  g_autofree char *filler = g_strnfill (1500, 'x');
  g_autoptr(GError) error = NULL;
  GLogLevelFlags old_fatal;
  const guint n = 60;
  guint receipted = 0;
  Remote *r;

  add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  /* The full disk is logged with warnings: expected here. */
  old_fatal = g_log_set_always_fatal (G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
  g_assert_true (_tc_store_exec (f->store, "PRAGMA max_page_count = 1", &error));
  g_assert_no_error (error);

  r = remote_open (f, f->peer, f->remote);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *mid = g_strdup_printf ("burst-%02u", i);
      g_autofree char *text = g_strdup_printf ("m%02u %s", i, filler);

      remote_send_message (f, r, f->remote, mid, text);
    }
  WAIT_FOR (r->closed != NULL);
  g_test_message ("refused with: %s", r->closed->message);
  g_assert_error (r->closed, TC_JMU_ERROR, TC_CONDITION_RESOURCE_CONSTRAINT);
  g_assert_nonnull (strstr (r->closed->message, "storage"));

  /* A receipt promises the message is on disk. */
  for (guint i = 0; i < r->jmus->len; i++)
    {
      TcJmu *jmu = g_ptr_array_index (r->jmus, i);
      g_autoptr(TcMessage) stored = NULL;

      if (tc_jmu_get_kind (jmu) != TC_JMU_KIND_RECEIPT)
        continue;
      receipted++;
      stored = tc_store_lookup_message (f->reader, remote_address (f),
                                        tc_jmu_get_value_string (jmu));
      g_assert_nonnull (stored);
    }
  g_test_message ("%u of %u receipted, %u on disk", receipted, n,
                  tc_store_count_messages (f->reader, remote_address (f)));
  g_assert_cmpuint (receipted, ==, tc_store_count_messages (f->reader, remote_address (f)));
  g_assert_cmpuint (receipted, <, n);
  WAIT_FOR (tc_peer_get_n_streams (f->peer) == 0);
  remote_free (r);

  /* Room again: the sender writes the whole burst again on a new stream. */
  g_assert_true (_tc_store_exec (f->store, "PRAGMA max_page_count = 1073741823", &error));
  g_assert_no_error (error);
  r = remote_open (f, f->peer, f->remote);
  for (guint i = 0; i < n; i++)
    {
      g_autofree char *mid = g_strdup_printf ("burst-%02u", i);
      g_autofree char *text = g_strdup_printf ("m%02u %s", i, filler);

      remote_send_message (f, r, f->remote, mid, text);
    }
  WAIT_FOR (count_kind (r, TC_JMU_KIND_RECEIPT) == n || r->closed != NULL);
  g_assert_null (r->closed);
  g_log_set_always_fatal (old_fatal);

  g_assert_cmpuint (tc_store_count_messages (f->reader, remote_address (f)), ==, n);
  g_assert_cmpuint (f->received->len, ==, n);
  g_assert_null (tc_store_get_failure (f->store));
  remote_free (r);
}

/* Strangers share one budget of JMUs: spent, the stream is refused as
 * busy. An accepted contact is not held to it. */
static void
test_strangers_rate (Fixture       *f,
                     gconstpointer  data)
{
  g_autoptr(TcIdentity) friend = identity_from (0xc0);
  g_autoptr(TcPeer) friend_peer = NULL;
  g_autoptr(Remote) r = NULL;
  g_autoptr(Remote) fr = NULL;
  TcContact *contact;

  tc_admission_set_rate (f->admission, 3, 0);
  r = remote_open (f, f->peer, f->remote);
  g_assert_true (r->ready);

  for (guint i = 0; i < 3; i++)
    {
      g_autofree char *line = tc_jmu_build_contact_request ("Bob", "hi, it's Bob", remote_address (f));
      tc_stream_send (r->stream, line);
    }
  WAIT_FOR (f->requests == 1);
  contact = tc_peer_host_lookup_contact (TC_PEER_HOST (f->host), remote_address (f));
  g_assert_nonnull (contact);
  g_assert_cmpuint (f->host->strangers, ==, 1);
  g_assert_cmpstr (tc_contact_get_name (contact), ==, "Bob");
  g_assert_cmpstr (tc_contact_get_greeting (contact), ==, "hi, it's Bob");

  /* The fourth JMU finds the budget spent. */
  remote_send_message (f, r, f->remote, "spam-1", "buy now");
  WAIT_FOR (r->closed != NULL);
  g_assert_error (r->closed, TC_JMU_ERROR, TC_CONDITION_RESOURCE_CONSTRAINT);
  g_assert_nonnull (strstr (r->closed->message, "busy"));
  g_assert_cmpuint (f->requests, ==, 1);
  g_assert_cmpuint (count_kind (r, TC_JMU_KIND_RECEIPT), ==, 0);
  g_assert_cmpuint (tc_store_count_messages (f->reader, remote_address (f)), ==, 0);

  /* The stranger's request is stored, pending. */
  {
    g_autoptr(GPtrArray) contacts = tc_store_load_contacts (f->reader, NULL);

    g_assert_nonnull (contacts);
    g_assert_cmpuint (contacts->len, ==, 1);
    g_assert_cmpint (tc_contact_get_state (g_ptr_array_index (contacts, 0)), ==,
                     TC_CONTACT_STATE_PENDING);
  }

  add_contact (f, tc_identity_get_address (friend), TC_CONTACT_STATE_ACCEPTED);
  friend_peer = new_peer (f, tc_identity_get_address (friend));
  fr = remote_open (f, friend_peer, friend);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *mid = g_strdup_printf ("friend-%u", i);
      remote_send_message (f, fr, friend, mid, "still welcome");
    }
  WAIT_FOR (count_kind (fr, TC_JMU_KIND_RECEIPT) == 5 || fr->closed != NULL);
  g_assert_null (fr->closed);
}

/* The admission limits: streams per peer, chat streams in all, streams in
 * their handshake. */
static void
test_admission (Fixture       *f,
                gconstpointer  data)
{
  g_autoptr(Remote) first = NULL;
  g_autoptr(Remote) second = NULL;

  add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  tc_admission_set_limits (f->admission, 1, 1, 1);

  first = remote_open (f, f->peer, f->remote);
  g_assert_true (first->ready);
  second = remote_open (f, f->peer, f->remote);
  g_assert_true (second->refused);
  WAIT_FOR (second->closed != NULL);
  g_assert_error (second->closed, TC_JMU_ERROR, TC_CONDITION_RESOURCE_CONSTRAINT);
  g_assert_nonnull (strstr (second->closed->message, "too many streams"));
  /* The first one carries on. */
  g_assert_true (tc_peer_get_stream (f->peer) == first->local);
  g_assert_null (first->closed);

  /* One chat stream in all, taken. */
  {
    g_autoptr(GIOStream) io = NULL;
    g_autoptr(GIOStream) other_io = NULL;
    g_autoptr(GIOStream) spare = NULL;
    g_autoptr(TcStream) stream = NULL;
    g_autoptr(TcStream) waiting = NULL;

    tc_test_socket_pair (&io, &other_io);
    stream = tc_stream_new (io, f->local, TC_STREAM_ROLE_RECEIVER, NULL);
    g_assert_false (tc_admission_admit_stream (f->admission, stream));
    g_assert_cmpint (tc_stream_get_state (stream), >=, TC_STREAM_STATE_CLOSING);

    /* One handshake at a time. */
    waiting = tc_stream_new (other_io, f->local, TC_STREAM_ROLE_RECEIVER, NULL);
    g_assert_true (tc_admission_admit_handshake (f->admission, waiting));
    g_assert_cmpuint (tc_admission_get_n_handshakes (f->admission), ==, 1);
    g_clear_object (&stream);
    g_clear_object (&io);
    tc_test_socket_pair (&io, &spare);
    stream = tc_stream_new (io, f->local, TC_STREAM_ROLE_RECEIVER, NULL);
    g_assert_false (tc_admission_admit_handshake (f->admission, stream));
    g_assert_cmpint (tc_stream_get_state (stream), >=, TC_STREAM_STATE_CLOSING);

    tc_admission_fail_handshakes (f->admission, TC_CONDITION_SYSTEM_SHUTDOWN);
    WAIT_FOR (tc_admission_get_n_handshakes (f->admission) == 0);
  }
}

static void
count_notify_cb (GObject    *object,
                 GParamSpec *pspec,
                 guint      *counter)
{
  (*counter)++;
}

/* Several receipts in one read, with an unknown id, one twice and one for
 * a message delivered before: each named message becomes delivered once,
 * on disk and in the open conversation (one notify::state each); the
 * others are not touched, and the stream goes on. */
static void
test_receipt_set (Fixture       *f,
                  gconstpointer  data)
{
  static const char * const receipts[] = {
    "set-0", "set-1", "no-such-id", "set-1", "set-2", "set-done", "set-3",
  };
  g_autoptr(GDateTime) before = g_date_time_new_from_iso8601 ("2026-11-01T10:00:00Z", NULL);
  g_autoptr(GPtrArray) queued = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GPtrArray) shown = g_ptr_array_new_with_free_func (g_object_unref);
  g_autoptr(GString) lines = g_string_new (NULL);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(Remote) r = NULL;
  g_autoptr(GError) error = NULL;
  guint state_notes[6] = { 0 };
  guint all_notes[6] = { 0 };
  guint batches = 0;
  gboolean changed = FALSE;

  add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  for (guint i = 0; i < 5; i++)
    {
      g_autofree char *mid = g_strdup_printf ("set-%u", i);
      g_ptr_array_add (queued, queue_outgoing (f, mid, "one of a set"));
    }
  g_ptr_array_add (queued, queue_outgoing (f, "set-done", "delivered before"));
  g_assert_true (tc_store_mark_delivered (f->store, remote_address (f), "set-done", before,
                                          &changed, &error));
  g_assert_true (changed);
  g_assert_true (tc_store_commit (f->store, &error));
  g_assert_no_error (error);

  /* The window shows the conversation. */
  f->host->conversation = tc_conversation_new (f->store, remote_address (f));
  g_assert_cmpuint (g_list_model_get_n_items (G_LIST_MODEL (f->host->conversation)), ==, 6);
  for (guint i = 0; i < 6; i++)
    g_ptr_array_add (shown, g_list_model_get_item (G_LIST_MODEL (f->host->conversation), i));

  r = remote_open (f, f->peer, f->remote);
  WAIT_FOR (count_kind (r, TC_JMU_KIND_MESSAGE) == 5);
  g_assert_cmpuint (count_value (r, TC_JMU_KIND_MESSAGE, "set-done"), ==, 0);
  for (guint i = 0; i < 5; i++)
    g_assert_cmpint (tc_message_get_state (g_ptr_array_index (shown, i)), ==, TC_MESSAGE_STATE_SENT);

  for (guint i = 0; i < 6; i++)
    {
      g_signal_connect (g_ptr_array_index (shown, i), "notify::state",
                        G_CALLBACK (count_notify_cb), &state_notes[i]);
      g_signal_connect (g_ptr_array_index (shown, i), "notify",
                        G_CALLBACK (count_notify_cb), &all_notes[i]);
    }
  g_signal_connect (r->local, "batch-done", G_CALLBACK (count_cb), &batches);

  /* One write, so one read. */
  for (guint i = 0; i < G_N_ELEMENTS (receipts); i++)
    {
      g_autofree char *line = tc_jmu_build_receipt (receipts[i], tc_stream_get_peer (r->local));
      g_string_append (lines, line);
    }
  bytes = g_string_free_to_bytes (g_steal_pointer (&lines));
  tc_stream_send_bytes (r->stream, bytes);

  WAIT_FOR (stored_state (f->reader, remote_address (f), "set-3") == TC_MESSAGE_STATE_DELIVERED);
  g_assert_cmpuint (batches, ==, 1);

  for (guint i = 0; i < 4; i++)
    {
      TcMessage *message = g_ptr_array_index (shown, i);
      g_autoptr(TcMessage) stored = tc_store_lookup_message (f->reader, remote_address (f),
                                                             tc_message_get_id (message));

      g_assert_cmpint (tc_message_get_state (stored), ==, TC_MESSAGE_STATE_DELIVERED);
      g_assert_cmpint (tc_message_get_state (message), ==, TC_MESSAGE_STATE_DELIVERED);
      g_assert_cmpuint (state_notes[i], ==, 1);
      g_assert_nonnull (tc_message_get_received_date (message));
      g_assert_true (g_date_time_equal (tc_message_get_received_date (message),
                                        tc_message_get_received_date (stored)));
    }

  /* set-4 had no receipt; set-done keeps the date of its first one. */
  g_assert_cmpint (stored_state (f->reader, remote_address (f), "set-4"), ==, TC_MESSAGE_STATE_SENT);
  g_assert_cmpint (tc_message_get_state (g_ptr_array_index (shown, 4)), ==, TC_MESSAGE_STATE_SENT);
  g_assert_cmpuint (all_notes[4], ==, 0);
  g_assert_cmpuint (all_notes[5], ==, 0);
  {
    g_autoptr(TcMessage) done = tc_store_lookup_message (f->reader, remote_address (f), "set-done");

    g_assert_true (g_date_time_equal (tc_message_get_received_date (done), before));
  }
  g_assert_cmpuint (tc_store_count_outbox (f->store, remote_address (f)), ==, 1);
  g_assert_null (tc_store_lookup_message (f->reader, remote_address (f), "no-such-id"));

  /* The same receipts again change nothing and tell nobody. */
  tc_stream_send_bytes (r->stream, bytes);
  remote_send_message (f, r, f->remote, "after-set", "still there");
  WAIT_FOR (count_value (r, TC_JMU_KIND_RECEIPT, "after-set") == 1);
  g_assert_null (r->closed);
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (state_notes[i], ==, 1);
  g_assert_cmpuint (all_notes[5], ==, 0);
  g_assert_cmpuint (tc_store_count_outbox (f->reader, remote_address (f)), ==, 1);

  /* The counters go with this function; the messages stay in the
   * conversation. */
  for (guint i = 0; i < 6; i++)
    g_signal_handlers_disconnect_matched (g_ptr_array_index (shown, i), G_SIGNAL_MATCH_FUNC,
                                          0, 0, NULL, count_notify_cb, NULL);
  g_signal_handlers_disconnect_by_data (r->local, &batches);
}

/* A peer that goes away ends its streams, and says why. */
static void
test_dispose (Fixture       *f,
              gconstpointer  data)
{
  g_autoptr(Remote) r = NULL;

  add_contact (f, remote_address (f), TC_CONTACT_STATE_ACCEPTED);
  r = remote_open (f, f->peer, f->remote);
  g_assert_true (r->ready);
  WAIT_FOR (count_kind (r, TC_JMU_KIND_PROFILE) == 1);

  g_assert_finalize_object (g_steal_pointer (&f->peer));
  WAIT_FOR (r->closed != NULL);
  g_assert_error (r->closed, TC_JMU_ERROR, TC_CONDITION_SYSTEM_SHUTDOWN);
  g_assert_cmpuint (tc_admission_get_n_streams (f->admission), ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_setup, func, fixture_teardown)

  ADD ("/peer/greeting", test_greeting);
  ADD ("/peer/blocked", test_blocked);
  ADD ("/peer/receipt-after-commit", test_receipt_after_commit);
  ADD ("/peer/duplicate", test_duplicate);
  ADD ("/peer/outbox-resent", test_outbox_resent);
  ADD ("/peer/receipt-set", test_receipt_set);
  ADD ("/peer/full-disk", test_full_disk);
  ADD ("/peer/strangers-rate", test_strangers_rate);
  ADD ("/peer/admission", test_admission);
  ADD ("/peer/dispose", test_dispose);

  return g_test_run ();
}
