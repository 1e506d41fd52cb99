/* tc-profile.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <sodium.h>

#include "tc-profile.h"
#include "tc-store-private.h"

/* The encrypted copy of the database while a plaintext profile is being
 * encrypted; it becomes torchat.db once profile.key exists. */
#define ENCRYPTING_SUFFIX ".encrypting"
#define NEW_SUFFIX ".new"

static char *
profile_path (const char *dir,
              const char *name,
              const char *suffix)
{
  g_autofree char *file = g_strconcat (name, suffix, NULL);

  return g_build_filename (dir, file, NULL);
}

static gboolean
set_errno_error (GError     **error,
                 int          saved,
                 const char  *what,
                 const char  *path)
{
  g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
               "%s %s: %s", what, path, g_strerror (saved));
  return FALSE;
}

static gboolean
sync_dir (const char  *dir,
          GError     **error)
{
  int fd = g_open (dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);

  if (fd < 0)
    return set_errno_error (error, errno, _("Could not open"), dir);

  if (fsync (fd) < 0)
    {
      int saved = errno;

      close (fd);
      return set_errno_error (error, saved, _("Could not write"), dir);
    }

  close (fd);
  return TRUE;
}

static gboolean
sync_file (const char  *path,
           GError     **error)
{
  int fd = g_open (path, O_RDWR | O_CLOEXEC, 0);

  if (fd < 0)
    return set_errno_error (error, errno, _("Could not open"), path);

  if (fsync (fd) < 0)
    {
      int saved = errno;

      close (fd);
      return set_errno_error (error, saved, _("Could not write"), path);
    }

  close (fd);
  return TRUE;
}

/* Overwrites the file with zeros, syncs, removes it. On a filesystem that
 * writes in place (ext4, xfs) the old contents are gone from the disk; on a
 * copy-on-write one or through an SSD's remapping they may survive, which
 * docs/architecture.md says. A missing file is fine. */
static gboolean
wipe_file (const char  *path,
           GError     **error)
{
  static const guint8 zeros[64 * 1024];
  struct stat st;
  off_t done = 0;
  int fd;

  fd = g_open (path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW, 0);
  if (fd < 0)
    {
      if (errno == ENOENT)
        return TRUE;
      return set_errno_error (error, errno, _("Could not open"), path);
    }

  if (fstat (fd, &st) < 0)
    {
      int saved = errno;

      close (fd);
      return set_errno_error (error, saved, _("Could not read"), path);
    }

  while (S_ISREG (st.st_mode) && done < st.st_size)
    {
      size_t chunk = MIN ((off_t) sizeof zeros, st.st_size - done);
      ssize_t n = pwrite (fd, zeros, chunk, done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved = n < 0 ? errno : EIO;

          close (fd);
          return set_errno_error (error, saved, _("Could not overwrite"), path);
        }
      done += n;
    }

  if (fsync (fd) < 0)
    {
      int saved = errno;

      close (fd);
      return set_errno_error (error, saved, _("Could not overwrite"), path);
    }
  close (fd);

  if (g_unlink (path) < 0 && errno != ENOENT)
    return set_errno_error (error, errno, _("Could not remove"), path);

  return TRUE;
}

static gboolean
remove_file (const char  *path,
             GError     **error)
{
  if (g_unlink (path) < 0 && errno != ENOENT)
    return set_errno_error (error, errno, _("Could not remove"), path);

  return TRUE;
}

/* Temporary file, fsync, rename, fsync of the directory. */
static gboolean
write_header (const char  *dir,
              GBytes      *header,
              GError     **error)
{
  g_autofree char *path = profile_path (dir, TC_PROFILE_KEY_FILE, "");
  g_autofree char *tmp = profile_path (dir, TC_PROFILE_KEY_FILE, NEW_SUFFIX);
  gsize size = 0;
  const guint8 *data = g_bytes_get_data (header, &size);
  gsize done = 0;
  int fd;

  fd = g_open (tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0)
    return set_errno_error (error, errno, _("Could not save the profile key"), tmp);
  if (fchmod (fd, 0600) < 0)
    {
      int saved = errno;

      close (fd);
      return set_errno_error (error, saved, _("Could not save the profile key"), tmp);
    }

  while (done < size)
    {
      ssize_t n = write (fd, data + done, size - done);

      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0)
        {
          int saved = errno;

          close (fd);
          g_unlink (tmp);
          return set_errno_error (error, saved, _("Could not save the profile key"), tmp);
        }
      done += n;
    }

  if (fsync (fd) < 0)
    {
      int saved = errno;

      close (fd);
      g_unlink (tmp);
      return set_errno_error (error, saved, _("Could not save the profile key"), tmp);
    }
  close (fd);

  if (g_rename (tmp, path) < 0)
    {
      int saved = errno;

      g_unlink (tmp);
      return set_errno_error (error, saved, _("Could not save the profile key"), path);
    }

  return sync_dir (dir, error);
}

/* After the commit point: the plaintext goes, the encrypted copy takes its
 * place. Every step may be repeated after a crash. */
static gboolean
complete_encryption (const char  *dir,
                     GError     **error)
{
  g_autofree char *db = profile_path (dir, TC_PROFILE_DATABASE_FILE, "");
  g_autofree char *wal = profile_path (dir, TC_PROFILE_DATABASE_FILE, "-wal");
  g_autofree char *shm = profile_path (dir, TC_PROFILE_DATABASE_FILE, "-shm");
  g_autofree char *journal = profile_path (dir, TC_PROFILE_DATABASE_FILE, "-journal");
  g_autofree char *encrypting = profile_path (dir, TC_PROFILE_DATABASE_FILE, ENCRYPTING_SUFFIX);
  g_autofree char *identity = profile_path (dir, TC_PROFILE_IDENTITY_FILE, "");
  g_autofree char *encrypting_journal = profile_path (dir, TC_PROFILE_DATABASE_FILE,
                                                      ENCRYPTING_SUFFIX "-journal");

  /* A journal of the copy here means its export never committed, but the
   * header is only written after the copy is complete and synced: it is
   * what SQLite left of a finished transaction. */
  if (!remove_file (encrypting_journal, error))
    return FALSE;

  if (g_file_test (encrypting, G_FILE_TEST_EXISTS))
    {
      if (!wipe_file (wal, error) ||
          !wipe_file (journal, error) ||
          !remove_file (shm, error) ||
          !wipe_file (db, error))
        return FALSE;

      if (g_rename (encrypting, db) < 0)
        return set_errno_error (error, errno, _("Could not put the encrypted database in place"), db);

      if (!sync_dir (dir, error))
        return FALSE;
    }

  return wipe_file (identity, error) && sync_dir (dir, error);
}

gboolean
tc_profile_recover (const char     *dir,
                    TcProfileKind  *kind,
                    GError        **error)
{
  g_autofree char *key = profile_path (dir, TC_PROFILE_KEY_FILE, "");
  g_autofree char *key_new = profile_path (dir, TC_PROFILE_KEY_FILE, NEW_SUFFIX);
  g_autofree char *identity = profile_path (dir, TC_PROFILE_IDENTITY_FILE, "");
  g_autofree char *db = profile_path (dir, TC_PROFILE_DATABASE_FILE, "");
  g_autofree char *encrypting = profile_path (dir, TC_PROFILE_DATABASE_FILE, ENCRYPTING_SUFFIX);
  /* SQLite's rollback journal of the attached copy, during the export. */
  g_autofree char *encrypting_journal = profile_path (dir, TC_PROFILE_DATABASE_FILE,
                                                      ENCRYPTING_SUFFIX "-journal");

  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (kind != NULL, FALSE);

  /* A header that was never renamed into place: its passphrase was never
   * confirmed to the user. */
  if (!remove_file (key_new, error))
    return FALSE;

  if (g_file_test (key, G_FILE_TEST_EXISTS))
    {
      /* Nothing plaintext is wiped on the word of a damaged header. */
      if ((g_file_test (encrypting, G_FILE_TEST_EXISTS) ||
           g_file_test (identity, G_FILE_TEST_EXISTS)) &&
          !tc_profile_key_check_file (key, error))
        return FALSE;

      if (!complete_encryption (dir, error))
        {
          g_prefix_error (error, _("Could not finish encrypting the profile: "));
          return FALSE;
        }
      *kind = TC_PROFILE_KIND_ENCRYPTED;
      return TRUE;
    }

  /* Before the commit point the plaintext profile is whole. */
  if (!wipe_file (encrypting, error) || !wipe_file (encrypting_journal, error))
    return FALSE;

  if (g_file_test (identity, G_FILE_TEST_EXISTS) || g_file_test (db, G_FILE_TEST_EXISTS))
    *kind = TC_PROFILE_KIND_PLAINTEXT;
  else
    *kind = TC_PROFILE_KIND_NEW;

  return TRUE;
}

/* SQLite would follow the umask, and gives its -wal and -shm files the
 * database's mode. */
static gboolean
create_private_file (const char  *path,
                     GError     **error)
{
  int fd = g_open (path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

  if (fd < 0)
    return set_errno_error (error, errno, _("Could not create"), path);

  if (fchmod (fd, 0600) < 0)
    {
      int saved = errno;

      close (fd);
      return set_errno_error (error, saved, _("Could not make private"), path);
    }

  if (close (fd) < 0)
    return set_errno_error (error, errno, _("Could not create"), path);

  return TRUE;
}

static TcStore *
open_database (const char     *dir,
               TcProfileKey   *key,
               GError        **error)
{
  g_autofree char *db = profile_path (dir, TC_PROFILE_DATABASE_FILE, "");
  guint8 *subkey = NULL;
  TcStore *store;

  if (!create_private_file (db, error))
    return NULL;

  if (key == NULL)
    return tc_store_open (db, error);

  if (!(subkey = sodium_malloc (TC_PROFILE_SUBKEY_LEN)))
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                           _("Out of memory for the profile key"));
      return NULL;
    }

  tc_profile_key_derive (key, TC_PROFILE_SUBKEY_DATABASE, subkey);
  store = tc_store_open_encrypted (db, subkey, error);
  sodium_free (subkey);

  return store;
}

static TcIdentity *
open_identity (TcProfileKey  *key,
               GError       **error)
{
  guint8 *subkey;
  TcIdentity *identity;

  if (!(subkey = sodium_malloc (TC_PROFILE_SUBKEY_LEN)))
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                           _("Out of memory for the profile key"));
      return NULL;
    }

  tc_profile_key_derive (key, TC_PROFILE_SUBKEY_IDENTITY, subkey);
  identity = tc_identity_new_from_sealed (tc_profile_key_get_sealed_identity (key), subkey, error);
  sodium_free (subkey);

  return identity;
}

static void
seal_identity (TcProfileKey *key,
               TcIdentity   *identity)
{
  guint8 *subkey = sodium_malloc (TC_PROFILE_SUBKEY_LEN);
  guint8 sealed[TC_PROFILE_SEALED_IDENTITY_LEN];

  /* 32 bytes from a fresh process: failing here is failing everywhere. */
  g_assert (subkey != NULL);

  tc_profile_key_derive (key, TC_PROFILE_SUBKEY_IDENTITY, subkey);
  tc_identity_seal (identity, subkey, sealed);
  tc_profile_key_set_sealed_identity (key, sealed);
  sodium_free (subkey);
}

/* A test may ask for a cheaper KDF (TORCHAT_TEST_KDF="OPSLIMIT:MEMLIMIT"). */
static void
apply_test_kdf_cost (TcProfileKey *key)
{
  const char *cost = g_getenv ("TORCHAT_TEST_KDF");
  guint64 ops, mem;
  char *end = NULL;

  if (cost == NULL)
    return;

  ops = g_ascii_strtoull (cost, &end, 10);
  if (end == NULL || *end != ':')
    return;
  mem = g_ascii_strtoull (end + 1, NULL, 10);
  if (ops >= 1 && mem >= 8192)
    _tc_profile_key_set_kdf_cost (key, ops, mem);
}

TcProfileKey *
tc_profile_prepare_encryption (TcIdentity  *identity,
                               const char  *passphrase,
                               gsize        length,
                               GBytes     **header,
                               GError     **error)
{
  g_autoptr(TcProfileKey) key = NULL;

  g_return_val_if_fail (TC_IS_IDENTITY (identity), NULL);
  g_return_val_if_fail (header != NULL, NULL);

  if (!(key = tc_profile_key_new (error)))
    return NULL;

  apply_test_kdf_cost (key);
  seal_identity (key, identity);

  if (!(*header = tc_profile_key_seal_header (key, passphrase, length, error)))
    return NULL;

  return g_steal_pointer (&key);
}

gboolean
tc_profile_open (const char     *dir,
                 TcProfileKind   kind,
                 const char     *passphrase,
                 gsize           length,
                 TcIdentity    **identity,
                 TcStore       **store,
                 GCancellable   *cancellable,
                 GError        **error)
{
  g_autofree char *key_path = profile_path (dir, TC_PROFILE_KEY_FILE, "");
  g_autoptr(TcIdentity) new_identity = NULL;
  g_autoptr(TcProfileKey) key = NULL;
  g_autoptr(TcStore) new_store = NULL;

  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (identity != NULL && store != NULL, FALSE);

  switch (kind)
    {
    case TC_PROFILE_KIND_NEW:
      if (passphrase == NULL)
        {
          g_autofree char *path = profile_path (dir, TC_PROFILE_IDENTITY_FILE, "");

          if (!(new_identity = tc_identity_load_or_create (path, error)))
            return FALSE;
          break;
        }
      else
        {
          g_autoptr(GBytes) header = NULL;

          /* The profile key first: a crash before the database exists
           * leaves an encrypted profile with an empty history. */
          if (!(new_identity = tc_identity_new_random (error)) ||
              !(key = tc_profile_prepare_encryption (new_identity, passphrase, length,
                                                     &header, error)) ||
              !write_header (dir, header, error))
            return FALSE;
        }
      break;

    case TC_PROFILE_KIND_PLAINTEXT:
      {
        g_autofree char *path = profile_path (dir, TC_PROFILE_IDENTITY_FILE, "");

        if (passphrase != NULL)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         _("The profile %s is not encrypted, so it has no passphrase"), dir);
            return FALSE;
          }

        /* A database without a key file: a new identity, as before
         * profiles were encrypted. */
        if (!(new_identity = tc_identity_load_or_create (path, error)))
          return FALSE;
      }
      break;

    case TC_PROFILE_KIND_ENCRYPTED:
      if (passphrase == NULL)
        {
          g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_WRONG_PASSPHRASE,
                               _("The profile is encrypted: it needs its passphrase"));
          return FALSE;
        }
      if (!(key = tc_profile_key_unlock (key_path, passphrase, length, cancellable, error)) ||
          !(new_identity = open_identity (key, error)))
        return FALSE;
      break;

    default:
      g_assert_not_reached ();
    }

  if (!(new_store = open_database (dir, key, error)))
    return FALSE;

  *identity = g_steal_pointer (&new_identity);
  *store = g_steal_pointer (&new_store);
  return TRUE;
}

gboolean
tc_profile_change_passphrase (const char    *dir,
                              const char    *old_passphrase,
                              gsize          old_length,
                              const char    *new_passphrase,
                              gsize          new_length,
                              GCancellable  *cancellable,
                              GError       **error)
{
  g_autofree char *key_path = profile_path (dir, TC_PROFILE_KEY_FILE, "");
  g_autoptr(TcProfileKey) key = NULL;
  g_autoptr(GBytes) header = NULL;

  g_return_val_if_fail (dir != NULL, FALSE);

  if (new_passphrase == NULL || new_length == 0)
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_EMPTY_PASSPHRASE,
                           _("The new passphrase is empty"));
      return FALSE;
    }

  if (!(key = tc_profile_key_unlock (key_path, old_passphrase, old_length, cancellable, error)))
    return FALSE;

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return FALSE;

  /* The same profile key, wrapped anew: the database and the identity stay
   * as they are. The cost of new headers is what this build uses. */
  _tc_profile_key_set_kdf_cost (key, TC_PROFILE_KEY_DEFAULT_OPSLIMIT,
                                TC_PROFILE_KEY_DEFAULT_MEMLIMIT);
  apply_test_kdf_cost (key);

  if (!(header = tc_profile_key_seal_header (key, new_passphrase, new_length, error)))
    return FALSE;

  return write_header (dir, header, error);
}

gboolean
tc_profile_finish_encryption (const char    *dir,
                              TcStore       *store,
                              TcProfileKey  *key,
                              GBytes        *header,
                              GError       **error)
{
  g_autofree char *db = profile_path (dir, TC_PROFILE_DATABASE_FILE, "");
  g_autofree char *encrypting = profile_path (dir, TC_PROFILE_DATABASE_FILE, ENCRYPTING_SUFFIX);
  g_autofree char *key_path = profile_path (dir, TC_PROFILE_KEY_FILE, "");
  g_autofree char *encrypting_journal = profile_path (dir, TC_PROFILE_DATABASE_FILE,
                                                      ENCRYPTING_SUFFIX "-journal");
  guint8 *subkey;
  gboolean ok;

  g_return_val_if_fail (dir != NULL, FALSE);
  g_return_val_if_fail (TC_IS_STORE (store), FALSE);
  g_return_val_if_fail (TC_IS_PROFILE_KEY (key), FALSE);
  g_return_val_if_fail (header != NULL, FALSE);

  if (g_file_test (key_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                   _("The profile %s is already encrypted"), dir);
      return FALSE;
    }

  if (!(subkey = sodium_malloc (TC_PROFILE_SUBKEY_LEN)))
    {
      g_set_error_literal (error, TC_PROFILE_KEY_ERROR, TC_PROFILE_KEY_ERROR_NO_MEMORY,
                           _("Out of memory for the profile key"));
      return FALSE;
    }
  tc_profile_key_derive (key, TC_PROFILE_SUBKEY_DATABASE, subkey);

  /* 1. The encrypted copy, complete and on disk. A crash from here to the
   * header leaves the plaintext profile as it was (tc_profile_recover()
   * removes the copy). */
  ok = wipe_file (encrypting, error) && wipe_file (encrypting_journal, error);
  if (ok)
    {
      ok = create_private_file (encrypting, error) &&
           _tc_store_export_encrypted (store, encrypting, subkey, error) &&
           sync_file (encrypting, error);
    }

  /* 2. The commit point: from the rename of profile.key on, the profile is
   * the encrypted one, and only its passphrase opens it. */
  if (ok)
    ok = _tc_store_checkpoint (store, error) && write_header (dir, header, error);

  if (!ok)
    {
      g_autoptr(GError) cleanup_error = NULL;

      if (!wipe_file (encrypting, &cleanup_error))
        g_warning ("%s", cleanup_error->message);
      sodium_free (subkey);
      return FALSE;
    }

  /* 3. Put the copy in place and wipe the plaintext; done again by
   * tc_profile_recover() if this is interrupted. */
  _tc_store_close (store);
  ok = complete_encryption (dir, error) &&
       _tc_store_reopen (store, db, subkey, error);
  sodium_free (subkey);

  return ok;
}
