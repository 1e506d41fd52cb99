#!/bin/sh
# Checks that po/POTFILES.in lists, in sorted order, exactly the files that
# have translatable strings.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

top=${1:-$(dirname "$0")/..}
cd "$top"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

grep -v '^#' po/POTFILES.in | sed '/^[[:space:]]*$/d' > "$tmp/listed"

{
  find src -name '*.c' -exec grep -lE '(^|[^A-Za-z0-9_])[NCQ]?_\(' {} +
  find src -name '*.ui' -exec grep -l 'translatable="yes"' {} +
  find data -name '*.desktop.in.in' -o -name '*.metainfo.xml.in.in' -o -name '*.gschema.xml'
} | sed 's|^\./||' | LC_ALL=C sort -u > "$tmp/found"

status=0

if ! LC_ALL=C sort -c "$tmp/listed" 2>/dev/null; then
  echo "po/POTFILES.in is not sorted (LC_ALL=C sort)"
  status=1
fi

missing=$(LC_ALL=C sort -u "$tmp/listed" | LC_ALL=C comm -13 - "$tmp/found")
if [ -n "$missing" ]; then
  echo "Files with translatable strings missing from po/POTFILES.in:"
  echo "$missing"
  status=1
fi

for f in $(cat "$tmp/listed"); do
  if [ ! -f "$f" ]; then
    echo "po/POTFILES.in lists a file that does not exist: $f"
    status=1
  fi
done

[ $status -eq 0 ] && echo "po/POTFILES.in lists all $(wc -l < "$tmp/found") files with translatable strings"
exit $status
