/* tc-file-base64.c: base64 for file chunks
 *
 * Chunks are nearly all of what a transfer costs in CPU besides SHA-256 and
 * the kernel's copies: a 1 GB file is 1.33 GB of base64 to write and to
 * check and decode. Tables do it a quad at a time anywhere; on x86 with
 * SSSE3 (every x86-64 CPU since 2008 but the first Opterons) 16 characters
 * at a time, checked, decoded and packed with a few byte shuffles.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include <string.h>

#include "tc-file-base64.h"

#if defined(__x86_64__) || defined(__i386__)
#define HAVE_SSSE3_PATH 1
#include <immintrin.h>
#endif

/* Base64, table-driven. dec[i][c] is the value of character c in place i
 * of a quad, shifted into position, or BAD; enc2[v] the two characters of
 * the 12 bits v. One pass decodes and checks: the BAD bits of a whole chunk
 * are or-ed together and looked at once at the end. */
#define BAD 0x80000000u

static const char alphabet[] =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static guint32 dec[4][256];
static guint16 enc2[4096];

static void
init_tables (void)
{
  static gsize initialized;

  if (g_once_init_enter (&initialized))
    {
      for (guint c = 0; c < 256; c++)
        dec[0][c] = dec[1][c] = dec[2][c] = dec[3][c] = BAD;
      for (guint i = 0; i < 64; i++)
        {
          guchar c = alphabet[i];

          dec[0][c] = i << 18;
          dec[1][c] = i << 12;
          dec[2][c] = i << 6;
          dec[3][c] = i;
        }
      for (guint v = 0; v < 4096; v++)
        {
          char pair[2] = { alphabet[v >> 6], alphabet[v & 63] };

          memcpy (&enc2[v], pair, 2);
        }
      g_once_init_leave (&initialized, 1);
    }
}

/* Decodes @len characters of standard padded base64 into @out, which has
 * room for len / 4 * 3 bytes. Returns the number of bytes, or -1 when @str
 * is not canonical padded base64 (a stray character, misplaced "=", unused
 * bits set). */
static gssize
decode_scalar (const char *str,
               gsize       len,
               guint8     *out,
               gboolean    bad_before)
{
  const guchar *q = (const guchar *) str;
  guint8 *o = out;
  guint32 bad = bad_before ? BAD : 0, v;

  if (len == 0 || len % 4 != 0)
    return -1;

  init_tables ();
  for (gsize i = len / 4 - 1; i > 0; i--, q += 4)
    {
      v = dec[0][q[0]] | dec[1][q[1]] | dec[2][q[2]] | dec[3][q[3]];
      bad |= v;
      o[0] = v >> 16;
      o[1] = v >> 8;
      o[2] = v;
      o += 3;
    }

  /* The last quad, with its padding. */
  if (q[3] != '=')
    {
      v = dec[0][q[0]] | dec[1][q[1]] | dec[2][q[2]] | dec[3][q[3]];
      o[0] = v >> 16;
      o[1] = v >> 8;
      o[2] = v;
      o += 3;
    }
  else if (q[2] != '=')
    {
      v = dec[0][q[0]] | dec[1][q[1]] | dec[2][q[2]];
      bad |= (v & 0xff) != 0 ? BAD : 0;
      o[0] = v >> 16;
      o[1] = v >> 8;
      o += 2;
    }
  else
    {
      v = dec[0][q[0]] | dec[1][q[1]];
      bad |= (v & 0xffff) != 0 ? BAD : 0;
      o[0] = v >> 16;
      o += 1;
    }
  bad |= v;

  return (bad & BAD) != 0 ? -1 : o - out;
}

/* Padded standard base64 of @data into @out; returns its length. */
static gsize
encode_scalar (const guint8 *data,
               gsize         length,
               char         *out)
{
  char *o = out;
  gsize i = 0;

  init_tables ();
  for (; i + 3 <= length; i += 3)
    {
      guint32 v = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];

      memcpy (o, &enc2[v >> 12], 2);
      memcpy (o + 2, &enc2[v & 0xfff], 2);
      o += 4;
    }

  if (i < length)
    {
      guint32 v = data[i] << 16;

      if (i + 1 < length)
        v |= data[i + 1] << 8;
      o[0] = alphabet[v >> 18];
      o[1] = alphabet[(v >> 12) & 63];
      o[2] = i + 1 < length ? alphabet[(v >> 6) & 63] : '=';
      o[3] = '=';
      o += 4;
    }

  return o - out;
}

/* The fast path: a chunk line exactly as the builder writes it is taken
 * apart without a JSON parser, and its base64 decoded straight from the
 * line into a pooled buffer (one pass, no copy of the text). */

#ifdef HAVE_SSSE3_PATH

/* Checks and decodes 16 characters at a time. A character is valid when
 * the class of its high nibble is not among the classes its low nibble
 * rules out (lut_lo: a bit per class where that low nibble is not in the
 * alphabet; lut_hi: the class bit of a high nibble); its value is itself
 * plus an offset chosen by the high nibble ("/" moved one class down to
 * tell it from "+"). Two multiply-adds pack the 6-bit values into 24-bit
 * groups, a shuffle puts their bytes in order. Stops 24 characters before
 * the end, so that the 16-byte stores stay inside @out and the padded last
 * quad is left to the tables. Returns the characters consumed. */
__attribute__((target ("ssse3")))
static gsize
decode_ssse3 (const guchar *in,
              gsize         len,
              guint8       *out,
              gboolean     *bad)
{
  const __m128i lut_lo = _mm_setr_epi8 (0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11,
                                        0x11, 0x11, 0x13, 0x1a, 0x1b, 0x1b, 0x1b, 0x1a);
  const __m128i lut_hi = _mm_setr_epi8 (0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08,
                                        0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10);
  const __m128i lut_roll = _mm_setr_epi8 (0, 16, 19, 4, -65, -65, -71, -71,
                                          0, 0, 0, 0, 0, 0, 0, 0);
  const __m128i nibble = _mm_set1_epi8 (0x0f);
  const __m128i slash = _mm_set1_epi8 ('/');
  const __m128i pairs = _mm_set1_epi32 (0x01400140);
  const __m128i quads = _mm_set1_epi32 (0x00011000);
  const __m128i order = _mm_setr_epi8 (2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1);
  __m128i invalid = _mm_setzero_si128 ();
  gsize i = 0;

  for (; i + 24 <= len; i += 16, out += 12)
    {
      __m128i v = _mm_loadu_si128 ((const __m128i *) (in + i));
      __m128i hi = _mm_and_si128 (_mm_srli_epi32 (v, 4), nibble);
      __m128i lo = _mm_and_si128 (v, nibble);

      invalid = _mm_or_si128 (invalid, _mm_and_si128 (_mm_shuffle_epi8 (lut_lo, lo),
                                                      _mm_shuffle_epi8 (lut_hi, hi)));
      v = _mm_add_epi8 (v, _mm_shuffle_epi8 (lut_roll,
                                             _mm_add_epi8 (hi, _mm_cmpeq_epi8 (v, slash))));
      v = _mm_madd_epi16 (_mm_maddubs_epi16 (v, pairs), quads);
      _mm_storeu_si128 ((__m128i *) out, _mm_shuffle_epi8 (v, order));
    }

  *bad = _mm_movemask_epi8 (_mm_cmpeq_epi8 (invalid, _mm_setzero_si128 ())) != 0xffff;
  return i;
}

/* 12 bytes into 16 characters at a time: a shuffle gives each 32-bit lane
 * its three bytes as (b1, b0, b2, b1), two masks and multiplies move the
 * four 6-bit fields into bytes of their own, and an offset chosen by each
 * value's range (a shuffle of a reduced value) makes them characters.
 * Reads 16 bytes per 12: stops 16 bytes before the end. Returns the bytes
 * consumed. */
__attribute__((target ("ssse3")))
static gsize
encode_ssse3 (const guint8 *in,
              gsize         length,
              char         *out)
{
  const __m128i spread = _mm_setr_epi8 (1, 0, 2, 1, 4, 3, 5, 4, 7, 6, 8, 7, 10, 9, 11, 10);
  const __m128i mask_hi = _mm_set1_epi32 (0x0fc0fc00);
  const __m128i mul_hi = _mm_set1_epi32 (0x04000040);
  const __m128i mask_lo = _mm_set1_epi32 (0x003f03f0);
  const __m128i mul_lo = _mm_set1_epi32 (0x01000010);
  const __m128i offsets = _mm_setr_epi8 (71, -4, -4, -4, -4, -4, -4, -4,
                                         -4, -4, -4, -19, -16, 65, 0, 0);
  gsize i = 0;

  for (; i + 16 <= length; i += 12, out += 16)
    {
      __m128i v = _mm_shuffle_epi8 (_mm_loadu_si128 ((const __m128i *) (in + i)), spread);
      __m128i idx = _mm_or_si128 (_mm_mulhi_epu16 (_mm_and_si128 (v, mask_hi), mul_hi),
                                  _mm_mullo_epi16 (_mm_and_si128 (v, mask_lo), mul_lo));
      /* 0 for 26..51, 1..12 for 52..63, 13 for 0..25. */
      __m128i range = _mm_or_si128 (_mm_subs_epu8 (idx, _mm_set1_epi8 (51)),
                                    _mm_and_si128 (_mm_cmpgt_epi8 (_mm_set1_epi8 (26), idx),
                                                   _mm_set1_epi8 (13)));

      _mm_storeu_si128 ((__m128i *) out, _mm_add_epi8 (idx, _mm_shuffle_epi8 (offsets, range)));
    }

  return i;
}

static gboolean
have_ssse3 (void)
{
  static gsize answer;

  if (g_once_init_enter (&answer))
    {
      __builtin_cpu_init ();
      g_once_init_leave (&answer, __builtin_cpu_supports ("ssse3") ? 2 : 1);
    }

  return answer == 2;
}

#endif

gssize
_tc_file_base64_decode (const char *str,
                        gsize       len,
                        guint8     *out)
{
  gsize done = 0;
  gboolean bad = FALSE;
  gssize n;

  if (len == 0 || len % 4 != 0)
    return -1;

#ifdef HAVE_SSSE3_PATH
  if (have_ssse3 ())
    done = decode_ssse3 ((const guchar *) str, len, out, &bad);
#endif

  n = decode_scalar (str + done, len - done, out + done / 4 * 3, bad);
  return n < 0 ? -1 : (gssize) (done / 4 * 3) + n;
}

gsize
_tc_file_base64_encode (const guint8 *data,
                        gsize         length,
                        char         *out)
{
  gsize done = 0;

#ifdef HAVE_SSSE3_PATH
  if (have_ssse3 ())
    done = encode_ssse3 (data, length, out);
#endif

  return done / 3 * 4 + encode_scalar (data + done, length - done, out + done / 3 * 4);
}
