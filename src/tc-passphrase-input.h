/* tc-passphrase-input.h: passphrases for the command line, from a file or a
 * terminal without echo
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A passphrase in locked memory (sodium_malloc), wiped by
 * tc_passphrase_free(). */
typedef struct
{
  char  *text;      /* NUL-terminated */
  gsize  length;
} TcPassphrase;

void          tc_passphrase_free        (TcPassphrase  *passphrase);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TcPassphrase, tc_passphrase_free)

/* The whole file but one final newline ("\n" or "\r\n"); refuses an empty
 * passphrase and a regular file that other users can read. */
TcPassphrase *tc_passphrase_read_file   (const char    *path,
                                         GError       **error);
/* TRUE when standard input is a terminal to ask on. */
gboolean      tc_passphrase_can_prompt  (void);
/* Asks on the terminal with echo off; with @confirm, asks twice and
 * insists that both match. */
TcPassphrase *tc_passphrase_prompt      (const char    *question,
                                         gboolean       confirm,
                                         GError       **error);

G_END_DECLS
