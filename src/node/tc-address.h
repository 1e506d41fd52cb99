/* tc-address.h: Tor v3 onion addresses
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* 56 base32 characters and ".onion" */
#define TC_ADDRESS_LEN 62
#define TC_PUBLIC_KEY_LEN 32

#define TC_ADDRESS_ERROR (tc_address_error_quark ())

typedef enum {
  TC_ADDRESS_ERROR_EMPTY,
  TC_ADDRESS_ERROR_LENGTH,          /* not 56 characters (v2 addresses land here) */
  TC_ADDRESS_ERROR_CHARACTER,       /* not base32 */
  TC_ADDRESS_ERROR_CHECKSUM,        /* a typo, almost always */
  TC_ADDRESS_ERROR_VERSION,         /* version byte is not 3 */
} TcAddressError;

GQuark    tc_address_error_quark      (void);

/* Strict check of the wire form: lowercase, with ".onion", valid checksum
 * and version. */
gboolean  tc_address_is_valid         (const char   *address);

/* What a user typed or pasted: surrounding spaces, upper case, a missing
 * ".onion", a "torchat:" or "http://" prefix are forgiven; anything else is
 * an error that says what is wrong. Returns the wire form. */
char     *tc_address_normalize        (const char   *input,
                                       GError      **error);

char     *tc_address_from_public_key  (const guint8  public_key[TC_PUBLIC_KEY_LEN]);
gboolean  tc_address_get_public_key   (const char   *address,
                                       guint8        public_key[TC_PUBLIC_KEY_LEN]);

/* A short form safe for logs at default level, e.g. "abcdef…". */
char     *tc_address_redact           (const char   *address);

G_END_DECLS
