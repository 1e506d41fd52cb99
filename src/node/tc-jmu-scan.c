/* tc-jmu-scan.c: the strict JSON syntax check every line passes first
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "config.h"

#include "tc-jmu-private.h"

/* JMUs nest two levels deep; the limit keeps a hostile line such as a
 * megabyte of "[" from exhausting json-glib's recursive parser. */
#define MAX_DEPTH 32

typedef struct {
  const char *s;
  gsize       n;
  gsize       i;
} Scanner;

static void
skip_ws (Scanner *sc)
{
  while (sc->i < sc->n &&
         (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
          sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
    sc->i++;
}

static gboolean
scan_hex4 (Scanner *sc,
           guint   *value)
{
  guint v = 0;

  if (sc->n - sc->i < 4)
    return FALSE;

  for (int k = 0; k < 4; k++)
    {
      int d = g_ascii_xdigit_value (sc->s[sc->i + k]);

      if (d < 0)
        return FALSE;
      v = (v << 4) | d;
    }

  sc->i += 4;
  *value = v;
  return TRUE;
}

static TcJmuScan
scan_string (Scanner *sc)
{
  if (sc->i >= sc->n || sc->s[sc->i] != '"')
    return TC_JMU_SCAN_SYNTAX;
  sc->i++;

  while (sc->i < sc->n)
    {
      guchar c = sc->s[sc->i];
      guint cp, low;

      if (c == '"')
        {
          sc->i++;
          return TC_JMU_SCAN_OK;
        }

      if (c < 0x20)
        return TC_JMU_SCAN_SYNTAX;

      if (c != '\\')
        {
          sc->i++;
          continue;
        }

      if (++sc->i >= sc->n)
        return TC_JMU_SCAN_SYNTAX;

      c = sc->s[sc->i++];
      if (c != '\0' && strchr ("\"\\/bfnrt", c) != NULL)
        continue;
      if (c != 'u' || !scan_hex4 (sc, &cp))
        return TC_JMU_SCAN_SYNTAX;

      if (cp == 0 || (cp >= 0xdc00 && cp <= 0xdfff))
        return TC_JMU_SCAN_ENCODING;

      if (cp >= 0xd800 && cp <= 0xdbff)
        {
          if (sc->n - sc->i < 2 || sc->s[sc->i] != '\\' || sc->s[sc->i + 1] != 'u')
            return TC_JMU_SCAN_ENCODING;
          sc->i += 2;
          if (!scan_hex4 (sc, &low))
            return TC_JMU_SCAN_SYNTAX;
          if (low < 0xdc00 || low > 0xdfff)
            return TC_JMU_SCAN_ENCODING;
        }
    }

  return TC_JMU_SCAN_SYNTAX;
}

static gboolean
scan_digits (Scanner *sc)
{
  gsize start = sc->i;

  while (sc->i < sc->n && g_ascii_isdigit (sc->s[sc->i]))
    sc->i++;

  return sc->i > start;
}

static TcJmuScan
scan_number (Scanner *sc)
{
  if (sc->i < sc->n && sc->s[sc->i] == '-')
    sc->i++;

  if (sc->i < sc->n && sc->s[sc->i] == '0')
    sc->i++;
  else if (!scan_digits (sc))
    return TC_JMU_SCAN_SYNTAX;

  if (sc->i < sc->n && sc->s[sc->i] == '.')
    {
      sc->i++;
      if (!scan_digits (sc))
        return TC_JMU_SCAN_SYNTAX;
    }

  if (sc->i < sc->n && (sc->s[sc->i] == 'e' || sc->s[sc->i] == 'E'))
    {
      sc->i++;
      if (sc->i < sc->n && (sc->s[sc->i] == '+' || sc->s[sc->i] == '-'))
        sc->i++;
      if (!scan_digits (sc))
        return TC_JMU_SCAN_SYNTAX;
    }

  return TC_JMU_SCAN_OK;
}

static TcJmuScan
scan_literal (Scanner    *sc,
              const char *word)
{
  gsize len = strlen (word);

  if (sc->n - sc->i < len || memcmp (sc->s + sc->i, word, len) != 0)
    return TC_JMU_SCAN_SYNTAX;

  sc->i += len;
  return TC_JMU_SCAN_OK;
}

static TcJmuScan
scan_member_name (Scanner *sc)
{
  TcJmuScan r;

  skip_ws (sc);
  if ((r = scan_string (sc)) != TC_JMU_SCAN_OK)
    return r;

  skip_ws (sc);
  if (sc->i >= sc->n || sc->s[sc->i] != ':')
    return TC_JMU_SCAN_SYNTAX;
  sc->i++;

  return TC_JMU_SCAN_OK;
}

TcJmuScan
_tc_jmu_scan_json (const char *s,
                   gsize       n)
{
  Scanner sc = { s, n, 0 };
  char stack[MAX_DEPTH];
  int depth = 0;
  gboolean want_value = TRUE;
  TcJmuScan r;

  for (;;)
    {
      skip_ws (&sc);

      if (want_value)
        {
          if (sc.i >= n)
            return TC_JMU_SCAN_SYNTAX;

          switch (s[sc.i])
            {
            case '{':
            case '[':
              if (depth == MAX_DEPTH)
                return TC_JMU_SCAN_TOO_DEEP;
              stack[depth++] = s[sc.i++];
              skip_ws (&sc);
              if (sc.i < n && s[sc.i] == (stack[depth - 1] == '{' ? '}' : ']'))
                {
                  sc.i++;
                  depth--;
                  want_value = FALSE;
                  continue;
                }
              if (stack[depth - 1] == '{' && (r = scan_member_name (&sc)) != TC_JMU_SCAN_OK)
                return r;
              continue;

            case '"':
              r = scan_string (&sc);
              break;

            case 't':
              r = scan_literal (&sc, "true");
              break;

            case 'f':
              r = scan_literal (&sc, "false");
              break;

            case 'n':
              r = scan_literal (&sc, "null");
              break;

            default:
              r = scan_number (&sc);
              break;
            }

          if (r != TC_JMU_SCAN_OK)
            return r;
          want_value = FALSE;
          continue;
        }

      if (depth == 0)
        return sc.i == n ? TC_JMU_SCAN_OK : TC_JMU_SCAN_SYNTAX;

      if (sc.i >= n)
        return TC_JMU_SCAN_SYNTAX;

      if (s[sc.i] == ',')
        {
          sc.i++;
          if (stack[depth - 1] == '{' && (r = scan_member_name (&sc)) != TC_JMU_SCAN_OK)
            return r;
          want_value = TRUE;
        }
      else if (s[sc.i] == (stack[depth - 1] == '{' ? '}' : ']'))
        {
          sc.i++;
          depth--;
        }
      else
        {
          return TC_JMU_SCAN_SYNTAX;
        }
    }
}
