#!/bin/sh
# Runs a test on a private session bus with its own GNOME Keyring, unlocked,
# in a temporary home: nothing of the user's keyring is touched.
#   run-with-keyring.sh PROGRAM ARGS…
# Without dbus-run-session or gnome-keyring-daemon the program runs anyway
# and skips (TC_KEYRING_READY unset).
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

if ! command -v dbus-run-session >/dev/null || ! command -v gnome-keyring-daemon >/dev/null; then
  exec "$@"
fi

dir=$(mktemp -d "${TMPDIR:-/tmp}/torchat-keyring-XXXXXX")
trap 'rm -rf "$dir"' EXIT
mkdir -m 700 "$dir/data" "$dir/runtime"
export XDG_DATA_HOME="$dir/data" XDG_RUNTIME_DIR="$dir/runtime" HOME="$dir"
# Under LeakSanitizer, whole stacks, so that .ci/lsan.supp's entry for the
# D-Bus messages GDBus still holds at exit can match (a short test: the
# slower unwinding costs nothing here).
if [ -n "${ASAN_OPTIONS:-}" ]; then
  export ASAN_OPTIONS="$ASAN_OPTIONS:fast_unwind_on_malloc=0"
fi

# The daemon ends with the session bus; the test's G_DEBUG=fatal-warnings
# and malloc checks are for TORChat, not for it.
dbus-run-session -- sh -c '
  printf "keyring-of-the-test" | env -u G_DEBUG -u MALLOC_CHECK_ -u MALLOC_PERTURB_ \
    gnome-keyring-daemon --unlock --components=secrets \
    --daemonize >/dev/null 2>&1 && export TC_KEYRING_READY=1
  exec "$@"' sh "$@"
