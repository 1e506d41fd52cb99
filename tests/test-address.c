/* test-address.c
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include <nettle/sha3.h>

#include "tc-address.h"

/* From Tor's src/test/test_hs_common.c (test_build_address): the public key
 * of 32 bytes 0x42 gives this address, made there with the reference
 * hs_build_address.py script that follows proposal 224. */
#define TOR_KEY_BYTE 0x42
#define TOR_KEY_ADDRESS "ijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbeeqscijbezhid.onion"

/* Also from test_hs_common.c (test_validate_address): one valid address and
 * two with a bad checksum, the latter taken by Tor from proposal 224. */
#define TOR_VALID "p3xnclpu4mu22dwaurjtsybyqk4xfjmcfz6z62yl24uwmhjatiwnlnad.onion"
#define TOR_BAD_CHECKSUM_1 "l5satjgud6gucryazcyvyvhuxhr74u6ygigiuyixe3a6ysis67ororad"
#define TOR_BAD_CHECKSUM_2 "btojiu7nu5y5iwut64eufevogqdw4wmqzugnoluw232r4t3ecsfv37ad"

/* The Tor Project's own v2 address, long retired: 16 characters. */
#define V2_ADDRESS "expyuzz4wqqyqhjn.onion"

/* Builds an address from raw parts independently of tc-address.c, so that
 * a version byte other than 3 can carry a correct checksum. */
static char *
build_address (const guint8 public_key[32],
               guint8       version)
{
  static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
  static const char prefix[] = ".onion checksum";
  struct sha3_256_ctx ctx;
  guint8 digest[SHA3_256_DIGEST_SIZE];
  guint8 raw[35];
  GString *out = g_string_new (NULL);

  sha3_256_init (&ctx);
  sha3_256_update (&ctx, strlen (prefix), (const guint8 *) prefix);
  sha3_256_update (&ctx, 32, public_key);
  sha3_256_update (&ctx, 1, &version);
  sha3_256_digest (&ctx, sizeof digest, digest);

  memcpy (raw, public_key, 32);
  raw[32] = digest[0];
  raw[33] = digest[1];
  raw[34] = version;

  /* 280 bits, 5 at a time, most significant first. */
  for (guint bit = 0; bit < 35 * 8; bit += 5)
    {
      guint value = 0;

      for (guint k = 0; k < 5; k++)
        {
          guint b = bit + k;
          value = (value << 1) | ((raw[b / 8] >> (7 - b % 8)) & 1);
        }
      g_string_append_c (out, alphabet[value]);
    }

  g_string_append (out, ".onion");
  return g_string_free (out, FALSE);
}

static void
test_tor_vector (void)
{
  guint8 key[TC_PUBLIC_KEY_LEN];
  guint8 back[TC_PUBLIC_KEY_LEN];
  g_autofree char *address = NULL;

  memset (key, TOR_KEY_BYTE, sizeof key);
  address = tc_address_from_public_key (key);
  g_assert_cmpstr (address, ==, TOR_KEY_ADDRESS);
  g_assert_cmpuint (strlen (address), ==, TC_ADDRESS_LEN);
  g_assert_true (tc_address_is_valid (address));

  g_assert_true (tc_address_get_public_key (TOR_KEY_ADDRESS, back));
  g_assert_cmpmem (back, sizeof back, key, sizeof key);

  g_assert_true (tc_address_is_valid (TOR_VALID));
}

static void
test_valid (void)
{
  guint8 key[TC_PUBLIC_KEY_LEN] = { 0 };
  g_autofree char *built = NULL;

  /* The independent builder agrees with tc-address.c and with Tor. */
  memset (key, TOR_KEY_BYTE, sizeof key);
  built = build_address (key, 3);
  g_assert_cmpstr (built, ==, TOR_KEY_ADDRESS);

  g_assert_true (tc_address_is_valid (TOR_KEY_ADDRESS));
  g_assert_true (tc_address_is_valid (TOR_VALID));
}

static void
test_invalid (void)
{
  guint8 key[TC_PUBLIC_KEY_LEN];
  guint8 out[TC_PUBLIC_KEY_LEN];
  g_autofree char *v4 = NULL;
  g_autofree char *typo = NULL;
  g_autofree char *bad_char = NULL;
  g_autofree char *upper = NULL;
  g_autofree char *spaced = NULL;
  g_autofree char *bare = NULL;

  memset (key, TOR_KEY_BYTE, sizeof key);

  g_assert_false (tc_address_is_valid (NULL));
  g_assert_false (tc_address_is_valid (""));
  g_assert_false (tc_address_is_valid (".onion"));
  g_assert_false (tc_address_is_valid (V2_ADDRESS));
  g_assert_false (tc_address_is_valid (TOR_BAD_CHECKSUM_1 ".onion"));
  g_assert_false (tc_address_is_valid (TOR_BAD_CHECKSUM_2 ".onion"));
  /* Tor's own too-long case: one extra character. */
  g_assert_false (tc_address_is_valid ("p3xnclpu4mu22dwaurjtsybyqk4xfjmcfz6z62yl24uwmhjatiwnlnadb.onion"));
  g_assert_false (tc_address_is_valid ("????????????????????????????????????????????????????????.onion"));

  /* The wire form is strict: no upper case, no missing suffix, no spaces. */
  upper = g_ascii_strup (TOR_KEY_ADDRESS, -1);
  g_assert_false (tc_address_is_valid (upper));
  bare = g_strndup (TOR_KEY_ADDRESS, 56);
  g_assert_false (tc_address_is_valid (bare));
  spaced = g_strconcat (" ", TOR_KEY_ADDRESS, NULL);
  g_assert_false (tc_address_is_valid (spaced));

  /* One letter changed. */
  typo = g_strdup (TOR_KEY_ADDRESS);
  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  g_assert_false (tc_address_is_valid (typo));
  g_assert_false (tc_address_get_public_key (typo, out));

  bad_char = g_strdup (TOR_KEY_ADDRESS);
  bad_char[3] = '1';
  g_assert_false (tc_address_is_valid (bad_char));

  /* A well-formed address of a version that is not 3. */
  v4 = build_address (key, 4);
  g_assert_cmpuint (strlen (v4), ==, TC_ADDRESS_LEN);
  g_assert_cmpstr (v4, !=, TOR_KEY_ADDRESS);
  g_assert_false (tc_address_is_valid (v4));
  g_assert_false (tc_address_get_public_key (v4, out));
}

static void
assert_normalizes (const char *input,
                   const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = tc_address_normalize (input, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (address, ==, expected);
  g_assert_true (tc_address_is_valid (address));
}

static void
assert_normalize_fails (const char *input,
                        int         code,
                        const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *address = tc_address_normalize (input, &error);

  g_assert_null (address);
  g_assert_error (error, TC_ADDRESS_ERROR, code);
  if (message != NULL)
    g_assert_cmpstr (error->message, ==, message);
}

static void
test_normalize (void)
{
  const char *a = TOR_KEY_ADDRESS;
  g_autofree char *base = g_strndup (a, 56);
  g_autofree char *upper = g_ascii_strup (a, -1);
  g_autofree char *input = NULL;

  assert_normalizes (a, a);
  assert_normalizes (base, a);
  assert_normalizes (upper, a);

  input = g_strdup_printf ("  \t%s\n ", a);
  assert_normalizes (input, a);
  g_clear_pointer (&input, g_free);

  input = g_strdup_printf ("torchat:%s", base);
  assert_normalizes (input, a);
  g_clear_pointer (&input, g_free);

  input = g_strdup_printf ("TORCHAT:%s", a);
  assert_normalizes (input, a);
  g_clear_pointer (&input, g_free);

  input = g_strdup_printf ("torchat://%s", a);
  assert_normalizes (input, a);
  g_clear_pointer (&input, g_free);

  input = g_strdup_printf ("http://%s/", a);
  assert_normalizes (input, a);
  g_clear_pointer (&input, g_free);

  input = g_strdup_printf (" https://%s/ ", upper);
  assert_normalizes (input, a);
  g_clear_pointer (&input, g_free);

  input = g_strdup_printf ("%s/", base);
  assert_normalizes (input, a);
  g_clear_pointer (&input, g_free);
}

static void
test_normalize_errors (void)
{
  g_autofree char *typo = g_strdup (TOR_KEY_ADDRESS);
  g_autofree char *one = g_strdup (TOR_KEY_ADDRESS);
  g_autofree char *eight = g_strndup (TOR_KEY_ADDRESS, 56);
  g_autofree char *inner_space = g_strdup (TOR_KEY_ADDRESS);
  g_autofree char *v4 = NULL;
  g_autofree char *v4_message = NULL;
  guint8 key[TC_PUBLIC_KEY_LEN];

  assert_normalize_fails (NULL, TC_ADDRESS_ERROR_EMPTY, NULL);
  assert_normalize_fails ("", TC_ADDRESS_ERROR_EMPTY, NULL);
  assert_normalize_fails ("   ", TC_ADDRESS_ERROR_EMPTY, NULL);
  assert_normalize_fails ("http://", TC_ADDRESS_ERROR_EMPTY, NULL);
  assert_normalize_fails (".onion", TC_ADDRESS_ERROR_EMPTY, NULL);

  assert_normalize_fails (V2_ADDRESS, TC_ADDRESS_ERROR_LENGTH,
                          "An onion address has 56 characters before “.onion”; "
                          "this one has 16 (old v2 addresses are not supported)");
  assert_normalize_fails ("abcdef", TC_ADDRESS_ERROR_LENGTH,
                          "An onion address has 56 characters before “.onion”; "
                          "this one has 6");
  assert_normalize_fails ("p3xnclpu4mu22dwaurjtsybyqk4xfjmcfz6z62yl24uwmhjatiwnlnadb",
                          TC_ADDRESS_ERROR_LENGTH,
                          "An onion address has 56 characters before “.onion”; "
                          "this one has 57");

  one[20] = '1';
  assert_normalize_fails (one, TC_ADDRESS_ERROR_CHARACTER,
                          "“1” is not allowed in an onion address");
  eight[0] = '8';
  assert_normalize_fails (eight, TC_ADDRESS_ERROR_CHARACTER,
                          "“8” is not allowed in an onion address");
  /* A bad character is reported before the length, while the user types. */
  assert_normalize_fails ("abc0", TC_ADDRESS_ERROR_CHARACTER,
                          "“0” is not allowed in an onion address");
  assert_normalize_fails ("abcé", TC_ADDRESS_ERROR_CHARACTER,
                          "“é” is not allowed in an onion address");
  inner_space[30] = ' ';
  assert_normalize_fails (inner_space, TC_ADDRESS_ERROR_CHARACTER, NULL);
  assert_normalize_fails ("\xff\xfe", TC_ADDRESS_ERROR_CHARACTER, NULL);

  typo[10] = typo[10] == 'a' ? 'b' : 'a';
  assert_normalize_fails (typo, TC_ADDRESS_ERROR_CHECKSUM,
                          "This address has a typo: its checksum does not match");
  assert_normalize_fails (TOR_BAD_CHECKSUM_1, TC_ADDRESS_ERROR_CHECKSUM, NULL);
  assert_normalize_fails (TOR_BAD_CHECKSUM_2, TC_ADDRESS_ERROR_CHECKSUM, NULL);

  memset (key, TOR_KEY_BYTE, sizeof key);
  v4 = build_address (key, 4);
  assert_normalize_fails (v4, TC_ADDRESS_ERROR_VERSION, NULL);
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *address = tc_address_normalize (v4, &error);

    g_assert_null (address);
    v4_message = g_strdup (error->message);
  }
  g_assert_nonnull (strstr (v4_message, "version 4"));
}

static void
test_round_trip (void)
{
  for (guint i = 0; i < 200; i++)
    {
      guint8 key[TC_PUBLIC_KEY_LEN];
      guint8 back[TC_PUBLIC_KEY_LEN];
      g_autofree char *address = NULL;
      g_autofree char *independent = NULL;
      g_autofree char *normalized = NULL;

      for (guint k = 0; k < sizeof key; k++)
        key[k] = (guint8) g_test_rand_int_range (0, 256);

      address = tc_address_from_public_key (key);
      g_assert_cmpuint (strlen (address), ==, TC_ADDRESS_LEN);
      g_assert_true (g_str_has_suffix (address, ".onion"));
      g_assert_true (tc_address_is_valid (address));

      independent = build_address (key, 3);
      g_assert_cmpstr (address, ==, independent);

      normalized = tc_address_normalize (address, NULL);
      g_assert_cmpstr (normalized, ==, address);

      memset (back, 0, sizeof back);
      g_assert_true (tc_address_get_public_key (address, back));
      g_assert_cmpmem (back, sizeof back, key, sizeof key);
    }
}

static void
test_redact (void)
{
  g_autofree char *redacted = tc_address_redact (TOR_KEY_ADDRESS);
  g_autofree char *none = tc_address_redact (NULL);
  g_autofree char *empty = tc_address_redact ("");
  g_autofree char *shorter = tc_address_redact ("abc");

  g_assert_cmpstr (redacted, ==, "ijbeeqsc…");
  g_assert_null (strstr (redacted, "zhid"));
  g_assert_cmpstr (none, ==, "(none)");
  g_assert_cmpstr (empty, ==, "(none)");
  g_assert_cmpstr (shorter, ==, "abc…");
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/address/tor-vector", test_tor_vector);
  g_test_add_func ("/address/valid", test_valid);
  g_test_add_func ("/address/invalid", test_invalid);
  g_test_add_func ("/address/normalize", test_normalize);
  g_test_add_func ("/address/normalize-errors", test_normalize_errors);
  g_test_add_func ("/address/round-trip", test_round_trip);
  g_test_add_func ("/address/redact", test_redact);

  return g_test_run ();
}
