/* tc-peer-connect.c: connecting out through Tor, with back-off
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <glib/gi18n.h>

#include "tc-peer-private.h"
#include "tc-socks.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS (5 * 60 * 1000)
/* Soon again after "offline", see retry_quickly(). */
#define QUICK_RETRY_MS 5000
#define FRESH_ONION_WINDOW_US (2 * 60 * G_USEC_PER_SEC)
/* Background retries that may start in any one second, over all peers:
 * see reserve_slot(). */
#define RETRIES_PER_SECOND 5
/* A little more than tor's own SocksTimeout (2 minutes), so that tor's
 * answer, which says why, normally comes first. */
#define CONNECT_TIMEOUT_S 150


/* One connection attempt: the timeout cancels it, and a result that is
 * not for the peer's current attempt is dropped. */
typedef struct
{
  TcPeer       *peer;
  GCancellable *cancellable;
  guint         timeout;
  gboolean      timed_out;
} ConnectAttempt;

static gboolean
connect_timeout_cb (gpointer user_data)
{
  ConnectAttempt *attempt = user_data;

  attempt->timeout = 0;
  attempt->timed_out = TRUE;
  g_cancellable_cancel (attempt->cancellable);

  return G_SOURCE_REMOVE;
}

static void
connect_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  ConnectAttempt *attempt = user_data;
  g_autoptr(TcPeer) self = attempt->peer;
  g_autoptr(GCancellable) cancellable = attempt->cancellable;
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TcStream) stream = NULL;
  gboolean timed_out = attempt->timed_out;

  g_clear_handle_id (&attempt->timeout, g_source_remove);
  g_free (attempt);

  connection = tc_socks_connect_finish (result, &error);

  /* Closed or disposed meanwhile: the node may be gone already. */
  if (self->connecting != cancellable)
    return;

  g_clear_object (&self->connecting);

  if (connection == NULL)
    {
      TcContact *contact = _tc_peer_get_contact (self);

      if (timed_out)
        {
          g_clear_error (&error);
          g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("Tor did not answer in time"));
        }

      g_debug ("Could not reach %s: %s", self->redacted, error->message);
      if (contact != NULL)
        tc_contact_set_last_error (contact, tc_socks_error_describe (error));
      _tc_peer_schedule_retry (self, error);
      return;
    }

  if (self->active != NULL || !_tc_peer_wants_stream (self))
    return;

  stream = tc_stream_new (G_IO_STREAM (connection),
                          self->identity,
                          TC_STREAM_ROLE_INITIATOR, self->address);
  _tc_peer_track_stream (self, stream);
  tc_stream_start (stream);
}

static void
connect_now (TcPeer *self)
{
  ConnectAttempt *attempt;

  if (self->retry_due == 0)
    _tc_peer_set_next_attempt (self, 0);
  if (self->active != NULL || self->connecting != NULL || !_tc_peer_wants_stream (self))
    return;

  for (guint i = 0; i < self->streams->len; i++)
    if (tc_stream_get_role (g_ptr_array_index (self->streams, i)) == TC_STREAM_ROLE_INITIATOR)
      return;

  self->connecting = g_cancellable_new ();

  attempt = g_new0 (ConnectAttempt, 1);
  attempt->peer = g_object_ref (self);
  attempt->cancellable = g_object_ref (self->connecting);
  attempt->timeout = g_timeout_add_seconds (CONNECT_TIMEOUT_S, connect_timeout_cb, attempt);

  tc_socks_connect_async (tc_peer_host_get_socks_address (self->host),
                          self->address, TC_VIRTUAL_PORT, NULL,
                          attempt->cancellable, connect_cb, attempt);
}

/* Shown in the contact details: when the next attempt starts. */
void
_tc_peer_set_next_attempt (TcPeer *self,
                           gint64  usec)
{
  TcContact *contact = _tc_peer_get_contact (self);

  if (contact != NULL)
    tc_contact_set_next_attempt (contact, usec);
}

/* One timer for every peer's retry, not a main-loop source each: with a
 * thousand contacts offline, the main loop walked a thousand timeouts at
 * every turn (about 13 % of the window's main thread while it scrolled).
 * The peers waiting, soonest first; a peer is in it while its retry_due
 * is set, and leaves it when it is disposed (tc-peer.c). */
static GQueue retries = G_QUEUE_INIT;
static GSource *retry_timer;

/* How many retries are due in each second (monotonic seconds → count).
 * Without a limit, a thousand contacts offline since the start, backing
 * off in step, came due within a few seconds of each other: each failed
 * attempt is main-loop work (the attempt, the contact's properties, the
 * rows showing them), and in the window a wave of them made the one
 * frame over 16 ms while scrolling (docs/benchmarks.md, Window). A retry
 * takes the first second at or after its due time with a slot left, and
 * a place in it after those already there; so every "tries again at"
 * shown is when the attempt really starts. On the real network the limit
 * also spares Tor a burst of descriptor fetches and circuits. Attempts the
 * user asks for, and those at the start and after a network change, do
 * not wait. */
static GHashTable *retry_seconds;

static gint64
reserve_slot (TcPeer *self,
              gint64  due)
{
  gint64 second = due / G_USEC_PER_SEC;
  guint taken;

  if (retry_seconds == NULL)
    retry_seconds = g_hash_table_new (NULL, NULL);

  while ((taken = GPOINTER_TO_UINT (g_hash_table_lookup (retry_seconds,
                                                         GSIZE_TO_POINTER (second)))) >= RETRIES_PER_SECOND)
    second++;
  g_hash_table_insert (retry_seconds, GSIZE_TO_POINTER (second), GUINT_TO_POINTER (taken + 1));
  self->retry_second = second;

  return MAX (due, second * G_USEC_PER_SEC + (gint64) taken * (G_USEC_PER_SEC / RETRIES_PER_SECOND));
}

static void
release_slot (TcPeer *self)
{
  gpointer key = GSIZE_TO_POINTER (self->retry_second);
  guint taken = GPOINTER_TO_UINT (g_hash_table_lookup (retry_seconds, key));

  if (taken <= 1)
    g_hash_table_remove (retry_seconds, key);
  else
    g_hash_table_insert (retry_seconds, key, GUINT_TO_POINTER (taken - 1));
}

static gboolean
retry_timer_dispatch (GSource     *source,
                      GSourceFunc  callback,
                      gpointer     user_data)
{
  gint64 now = g_source_get_time (source);

  /* One at a time: a retry may schedule or cancel others. */
  while (!g_queue_is_empty (&retries))
    {
      TcPeer *peer = g_queue_peek_head (&retries);

      if (peer->retry_due > now)
        break;
      g_queue_pop_head (&retries);
      release_slot (peer);
      peer->retry_due = 0;
      connect_now (peer);
    }

  if (g_queue_is_empty (&retries))
    g_source_set_ready_time (source, -1);
  else
    g_source_set_ready_time (source, ((TcPeer *) g_queue_peek_head (&retries))->retry_due);

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs retry_timer_funcs = {
  .dispatch = retry_timer_dispatch,
};

static gint
compare_due (gconstpointer a,
             gconstpointer b,
             gpointer      user_data)
{
  gint64 da = ((const TcPeer *) a)->retry_due, db = ((const TcPeer *) b)->retry_due;

  return da < db ? -1 : da > db;
}

/* Returns how long until the retry, which may be later than @delay_ms. */
static gint64
add_retry (TcPeer *self,
           guint   delay_ms)
{
  gint64 now = g_get_monotonic_time ();

  if (retry_timer == NULL)
    {
      retry_timer = g_source_new (&retry_timer_funcs, sizeof (GSource));
      g_source_set_static_name (retry_timer, "TcPeer retries");
      g_source_set_ready_time (retry_timer, -1);
      g_source_attach (retry_timer, NULL);
    }

  self->retry_due = reserve_slot (self, now + (gint64) delay_ms * 1000);
  g_queue_insert_sorted (&retries, self, compare_due, NULL);
  if (g_queue_peek_head (&retries) == self)
    g_source_set_ready_time (retry_timer, self->retry_due);

  return self->retry_due - now;
}

void
_tc_peer_cancel_retry (TcPeer *self)
{
  if (self->retry_due == 0)
    return;

  self->retry_due = 0;
  g_queue_remove (&retries, self);
  release_slot (self);
  /* A timer that fires early finds nothing due and sets the next time. */
}

/* Whether "the peer is offline" may well be wrong soon. Right after an
 * onion service is first published, its descriptor is not on the
 * directories yet (the first upload waits for the introduction points), so
 * Tor says "descriptor not found" or "introduction failed" for a contact
 * who is starting up. While our own descriptor is not uploaded yet, we are
 * starting up too, likely with contacts that started with us: retry soon,
 * for a while. Otherwise a few quick retries catch a contact who has just
 * come online. */
static gboolean
retry_quickly (TcPeer       *self,
               const GError *error)
{
  if (!tc_socks_error_is_offline (error))
    return FALSE;

  if (tc_peer_host_get_onion_new (self->host))
    {
      gint64 now = g_get_monotonic_time ();

      if (self->fresh_since == 0)
        self->fresh_since = now;
      if (now - self->fresh_since < FRESH_ONION_WINDOW_US)
        return TRUE;
    }

  if (self->quick_retries == 0)
    return FALSE;

  self->quick_retries--;
  return TRUE;
}

/* Exponential back-off with jitter, so that a node coming back online is not
 * hit by all its contacts in the same second. */
void
_tc_peer_schedule_retry (TcPeer       *self,
                         const GError *error)
{
  guint delay;
  gint64 wait;

  if (self->retry_due != 0 || !_tc_peer_wants_stream (self))
    return;

  self->backoff_ms = CLAMP (self->backoff_ms * 2, BACKOFF_MIN_MS, BACKOFF_MAX_MS);
  delay = self->backoff_ms / 2 + g_random_int_range (0, self->backoff_ms / 2 + 1);
  if (delay > QUICK_RETRY_MS && retry_quickly (self, error))
    delay = QUICK_RETRY_MS;
  if (self->refused_ms > 0)
    delay = MAX (delay, self->refused_ms / 2 + g_random_int_range (0, self->refused_ms / 2 + 1));
  wait = add_retry (self, delay);
  _tc_peer_set_next_attempt (self, g_get_real_time () + wait);
}

void
tc_peer_connect (TcPeer   *self,
                 gboolean  now)
{
  g_return_if_fail (TC_IS_PEER (self));

  if (now)
    {
      self->backoff_ms = 0;
      _tc_peer_cancel_retry (self);
    }

  if (self->retry_due == 0)
    connect_now (self);
}

void
tc_peer_retry (TcPeer *self)
{
  g_return_if_fail (TC_IS_PEER (self));

  self->backoff_ms = 0;
  self->refused_ms = 0;
  self->quick_retries = TC_PEER_QUICK_RETRIES;
  self->fresh_since = 0;
  _tc_peer_cancel_retry (self);

  /* An attempt still waiting may be on tor's old view of the peer. */
  if (self->connecting != NULL && self->active == NULL)
    {
      g_cancellable_cancel (self->connecting);
      g_clear_object (&self->connecting);
    }

  connect_now (self);
}
