/* tc-address.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <glib/gi18n.h>
#include <nettle/sha3.h>

#include "tc-address.h"

/* rend-spec-v3 §6: base32 (PUBKEY | CHECKSUM | VERSION) + ".onion", with
 * CHECKSUM = SHA3-256 (".onion checksum" | PUBKEY | VERSION)[:2]. */
#define BASE32_LEN 56
#define RAW_LEN 35
#define ONION_SUFFIX ".onion"
#define VERSION 3

static const char base32_alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

G_DEFINE_QUARK (tc-address-error-quark, tc_address_error)

static int
base32_value (char c)
{
  if (c >= 'a' && c <= 'z')
    return c - 'a';
  if (c >= '2' && c <= '7')
    return c - '2' + 26;
  return -1;
}

static void
base32_encode (const guint8 raw[RAW_LEN],
               char         out[BASE32_LEN + 1])
{
  guint buffer = 0;
  guint bits = 0;
  guint n = 0;

  for (guint i = 0; i < RAW_LEN; i++)
    {
      buffer = (buffer << 8) | raw[i];
      bits += 8;
      while (bits >= 5)
        {
          bits -= 5;
          out[n++] = base32_alphabet[(buffer >> bits) & 31];
        }
    }

  /* 35 bytes are exactly 56 groups of five bits: nothing is left over. */
  g_assert (bits == 0 && n == BASE32_LEN);
  out[n] = '\0';
}

/* @in holds BASE32_LEN characters already checked to be base32. */
static void
base32_decode (const char *in,
               guint8      raw[RAW_LEN])
{
  guint buffer = 0;
  guint bits = 0;
  guint n = 0;

  for (guint i = 0; i < BASE32_LEN; i++)
    {
      buffer = (buffer << 5) | (guint) base32_value (in[i]);
      bits += 5;
      if (bits >= 8)
        {
          bits -= 8;
          raw[n++] = (buffer >> bits) & 0xff;
        }
    }
}

static void
compute_checksum (const guint8 public_key[TC_PUBLIC_KEY_LEN],
                  guint8       version,
                  guint8       checksum[2])
{
  static const char prefix[] = ".onion checksum";
  struct sha3_256_ctx ctx;
  guint8 digest[SHA3_256_DIGEST_SIZE];

  sha3_256_init (&ctx);
  sha3_256_update (&ctx, sizeof prefix - 1, (const guint8 *) prefix);
  sha3_256_update (&ctx, TC_PUBLIC_KEY_LEN, public_key);
  sha3_256_update (&ctx, 1, &version);
  sha3_256_digest (&ctx, sizeof digest, digest);

  checksum[0] = digest[0];
  checksum[1] = digest[1];
}

/* Checks the 56 characters before ".onion", which must be base32 already. */
static gboolean
check_base32_part (const char  *base32,
                   guint8       public_key[TC_PUBLIC_KEY_LEN],
                   GError     **error)
{
  guint8 raw[RAW_LEN];
  guint8 checksum[2];

  base32_decode (base32, raw);
  compute_checksum (raw, raw[RAW_LEN - 1], checksum);

  /* A typo in the last character changes the version byte as well, so a
   * wrong version only counts as such when the checksum is right. */
  if (memcmp (checksum, raw + TC_PUBLIC_KEY_LEN, 2) != 0)
    {
      g_set_error_literal (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_CHECKSUM,
                           _("This address has a typo: its checksum does not match"));
      return FALSE;
    }

  if (raw[RAW_LEN - 1] != VERSION)
    {
      g_set_error (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_VERSION,
                   _("This is a version %u onion address; only version 3 is supported"),
                   (guint) raw[RAW_LEN - 1]);
      return FALSE;
    }

  if (public_key != NULL)
    memcpy (public_key, raw, TC_PUBLIC_KEY_LEN);

  return TRUE;
}

static gboolean
parse_wire_form (const char *address,
                 guint8      public_key[TC_PUBLIC_KEY_LEN])
{
  if (address == NULL ||
      strlen (address) != TC_ADDRESS_LEN ||
      strcmp (address + BASE32_LEN, ONION_SUFFIX) != 0)
    return FALSE;

  for (guint i = 0; i < BASE32_LEN; i++)
    if (base32_value (address[i]) < 0)
      return FALSE;

  return check_base32_part (address, public_key, NULL);
}

gboolean
tc_address_is_valid (const char *address)
{
  return parse_wire_form (address, NULL);
}

gboolean
tc_address_get_public_key (const char *address,
                           guint8      public_key[TC_PUBLIC_KEY_LEN])
{
  g_return_val_if_fail (public_key != NULL, FALSE);

  return parse_wire_form (address, public_key);
}

char *
tc_address_from_public_key (const guint8 public_key[TC_PUBLIC_KEY_LEN])
{
  guint8 raw[RAW_LEN];
  char base32[BASE32_LEN + 1];

  g_return_val_if_fail (public_key != NULL, NULL);

  memcpy (raw, public_key, TC_PUBLIC_KEY_LEN);
  compute_checksum (public_key, VERSION, raw + TC_PUBLIC_KEY_LEN);
  raw[RAW_LEN - 1] = VERSION;
  base32_encode (raw, base32);

  return g_strconcat (base32, ONION_SUFFIX, NULL);
}

static gboolean
strip_prefix (char       **str,
              const char  *prefix)
{
  if (g_str_has_prefix (*str, prefix))
    {
      *str += strlen (prefix);
      return TRUE;
    }
  return FALSE;
}

static gboolean
strip_suffix (char       *str,
              const char *suffix)
{
  if (g_str_has_suffix (str, suffix))
    {
      str[strlen (str) - strlen (suffix)] = '\0';
      return TRUE;
    }
  return FALSE;
}

char *
tc_address_normalize (const char  *input,
                      GError     **error)
{
  g_autofree char *copy = NULL;
  char *s;
  glong length;

  if (input == NULL)
    {
      g_set_error_literal (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_EMPTY,
                           _("Enter an onion address"));
      return NULL;
    }

  if (!g_utf8_validate (input, -1, NULL))
    {
      g_set_error_literal (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_CHARACTER,
                           _("An onion address is plain text; this is not"));
      return NULL;
    }

  copy = g_utf8_strdown (input, -1);
  s = g_strstrip (copy);

  /* "torchat://" is how a link might look; "torchat:" is the URI form. */
  if (!strip_prefix (&s, "torchat:"))
    if (!strip_prefix (&s, "http://"))
      strip_prefix (&s, "https://");
  strip_prefix (&s, "//");
  strip_suffix (s, "/");
  strip_suffix (s, ONION_SUFFIX);

  if (*s == '\0')
    {
      g_set_error_literal (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_EMPTY,
                           _("Enter an onion address"));
      return NULL;
    }

  /* Characters before length: a wrong one is worth saying while the user
   * is still typing, the length only once they are done. */
  for (const char *p = s; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x80 && base32_value ((char) c) >= 0)
        continue;

      if (g_unichar_isspace (c))
        g_set_error_literal (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_CHARACTER,
                             _("Spaces are not allowed inside an onion address"));
      else
        {
          char utf8[7] = { 0 };

          g_unichar_to_utf8 (c, utf8);
          g_set_error (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_CHARACTER,
                       _("“%s” is not allowed in an onion address"), utf8);
        }
      return NULL;
    }

  length = (glong) strlen (s);
  if (length != BASE32_LEN)
    {
      if (length == 16)
        g_set_error (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_LENGTH,
                     _("An onion address has 56 characters before “.onion”; this one has %ld (old v2 addresses are not supported)"),
                     length);
      else
        g_set_error (error, TC_ADDRESS_ERROR, TC_ADDRESS_ERROR_LENGTH,
                     _("An onion address has 56 characters before “.onion”; this one has %ld"),
                     length);
      return NULL;
    }

  if (!check_base32_part (s, NULL, error))
    return NULL;

  return g_strconcat (s, ONION_SUFFIX, NULL);
}

char *
tc_address_redact (const char *address)
{
  if (address == NULL || *address == '\0')
    return g_strdup ("(none)");

  if (g_utf8_validate (address, -1, NULL))
    {
      char head[8 * 6 + 1];

      g_utf8_strncpy (head, address, 8);
      return g_strconcat (head, "…", NULL);
    }

  return g_strdup ("(invalid)");
}
