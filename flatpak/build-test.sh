#!/bin/sh
# Builds the app as a Flatpak on the Debian stand-in runtime, offline, and
# installs it into a user installation of its own:
#
#   sh flatpak/build-test.sh WORKDIR
#
# WORKDIR gets flatpak-user/ (FLATPAK_USER_DIR, with the runtimes and the
# app installed from a single-file bundle), repo/, build/ and
# io.github.torchat.TorChat.flatpak. What is worth keeping between runs lives
# in the cache directory ($TORCHAT_FLATPAK_CACHE, else /var/cache/torchat-flatpak
# when writable, else ~/.cache/torchat-flatpak): the runtime repository
# keyed by its package set, the module sources, flatpak-builder's state.
#
# The module sources are the upstream tarballs the modules pin by sha256;
# offline, `apt-get source` fetches the same tarballs from Debian's archive
# (a source's "x-debian-source" names its Debian file); they are checked
# against the pinned sha256 and put where flatpak-builder keeps downloads,
# and flatpak-builder runs with --disable-download.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

work=${1:?usage: build-test.sh WORKDIR}
top=$(cd "$(dirname "$0")/.." && pwd)
manifest=$top/flatpak/io.github.torchat.TorChat.debian.json
app_id=io.github.torchat.TorChat

if [ -n "${TORCHAT_FLATPAK_CACHE:-}" ]; then
  cache=$TORCHAT_FLATPAK_CACHE
elif mkdir -p /var/cache/torchat-flatpak 2>/dev/null && [ -w /var/cache/torchat-flatpak ]; then
  cache=/var/cache/torchat-flatpak
else
  cache=${XDG_CACHE_HOME:-$HOME/.cache}/torchat-flatpak
fi
mkdir -p "$cache" "$work"
work=$(cd "$work" && pwd)

# One build at a time uses the cache (two test runs on one machine).
exec 9>"$cache/lock"
flock 9

step () { echo "build-test.sh: $*" >&2; }

# 1. The module sources, from Debian's source packages.
mkdir -p "$cache/debian-src"
python3 - "$top/flatpak/modules" > "$work/sources.txt" <<'PY'
import json, os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    if not name.endswith(".json"):
        continue
    for src in json.load(open(os.path.join(d, name))).get("sources", []):
        if src.get("type") in ("archive", "file") and "x-debian-source" in src:
            print(src["x-debian-source"], os.path.basename(src["url"]), src["sha256"])
PY
while read -r debfile upstream sha; do
  if [ ! -f "$cache/debian-src/$debfile" ]; then
    step "apt-get source ${debfile%%_*}"
    # Only the upstream tarball is used: a Debian part that could not be
    # fetched (a mirror without it) does not matter once that is here.
    if ! (cd "$cache/debian-src" && apt-get source --download-only "${debfile%%_*}" >&2) &&
       [ ! -f "$cache/debian-src/$debfile" ]; then
      echo "build-test.sh: 'apt-get source ${debfile%%_*}' failed; deb-src entries must be" \
           "enabled in this machine's apt sources (sh .ci/setup.sh test does that)" >&2
      exit 1
    fi
  fi
  if ! echo "$sha  $cache/debian-src/$debfile" | sha256sum -c --quiet - >&2; then
    echo "build-test.sh: $debfile is not the tarball the manifest pins ($sha)" >&2
    exit 1
  fi
  # flatpak-builder's download directory, where it looks with --disable-download.
  mkdir -p "$cache/builder-state/downloads/$sha"
  cp -f "$cache/debian-src/$debfile" "$cache/builder-state/downloads/$sha/$upstream"
done < "$work/sources.txt"

# 2. The runtimes, built once per package set.
step "runtime"
runtime_repo=$(sh "$top/flatpak/debian-runtime.sh" "$cache")

export FLATPAK_USER_DIR=$work/flatpak-user
rm -rf "$FLATPAK_USER_DIR"
flatpak --user remote-add --no-gpg-verify torchat-debian "file://$runtime_repo"
step "install the runtimes"
flatpak --user install -y --noninteractive torchat-debian \
  io.github.torchat.Debian.Platform//12 io.github.torchat.Debian.Sdk//12 >&2

# 3. The app. The state directory keeps tor and libevent built between runs.
step "flatpak-builder"
flatpak-builder --user --disable-rofiles-fuse --disable-download \
  --state-dir="$cache/builder-state" \
  --force-clean --repo="$work/repo" "$work/build" "$manifest" >&2

# 4. Single-file bundles, installed as a user would install them: the app,
# and its translations (flatpak-builder puts them in the .Locale extension;
# this installation takes German too).
step "bundle"
flatpak build-bundle "$work/repo" "$work/$app_id.flatpak" "$app_id" >&2
flatpak build-bundle --runtime "$work/repo" "$work/$app_id.Locale.flatpak" "$app_id.Locale" >&2
flatpak --user config --set languages "en;de" >&2
flatpak --user install -y --noninteractive --bundle "$work/$app_id.flatpak" >&2
flatpak --user install -y --noninteractive --bundle "$work/$app_id.Locale.flatpak" >&2
flatpak --user info "$app_id" >&2
