#!/bin/sh
# The flatpak suite: builds and installs the Flatpak (flatpak/build-test.sh),
# then drives it from outside the sandbox (test-flatpak.py) on a private X
# server and session bus. Prints TAP.
#
# Usage: run.sh SOURCE_DIR BUILD_DIR
# The headless node that writes to the sandboxed app is the host's build:
# TORCHAT_BINARY and TORCHAT_TEST_SOCKS, by default from BUILD_DIR.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

src=$(cd "${1:?usage: run.sh SOURCE_DIR BUILD_DIR}" && pwd)
build=$(cd "${2:?usage: run.sh SOURCE_DIR BUILD_DIR}" && pwd)

export TORCHAT_BINARY="${TORCHAT_BINARY:-$build/src/torchat}"
export TORCHAT_TEST_SOCKS="${TORCHAT_TEST_SOCKS:-$build/tests/tc-test-socks}"

# debootstrap lives in /usr/sbin, and building the runtime needs root; a
# runtime already in the cache does not.
export PATH="$PATH:/usr/sbin:/sbin"

# Flatpak needs unprivileged user namespaces (or a setuid bwrap). Without
# them nothing here can be tested: say so and fail, never skip.
for tool in flatpak flatpak-builder bwrap debootstrap Xvfb dbus-run-session; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "Bail out! $tool is missing: install the packages of .ci/setup.sh test"
    exit 1
  fi
done
if ! err=$(bwrap --unshare-user --unshare-pid --unshare-net --ro-bind / / true 2>&1); then
  echo "Bail out! THE FLATPAK SUITE CANNOT RUN ON THIS MACHINE: bwrap cannot make a sandbox" \
       "(no user namespaces?): $err"
  exit 1
fi

# The cache survives the throwaway HOME below.
if [ -z "${TORCHAT_FLATPAK_CACHE:-}" ]; then
  if mkdir -p /var/cache/torchat-flatpak 2>/dev/null && [ -w /var/cache/torchat-flatpak ]; then
    TORCHAT_FLATPAK_CACHE=/var/cache/torchat-flatpak
  else
    TORCHAT_FLATPAK_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/torchat-flatpak
  fi
fi
export TORCHAT_FLATPAK_CACHE

tmp=$(mktemp -d "${TMPDIR:-/tmp}/torchat-flatpak.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -m 0700 "$tmp/home" "$tmp/run"
export HOME="$tmp/home" XDG_RUNTIME_DIR="$tmp/run"
unset XDG_DATA_HOME XDG_CONFIG_HOME XDG_CACHE_HOME DBUS_SESSION_BUS_ADDRESS DISPLAY \
      WAYLAND_DISPLAY NO_AT_BRIDGE GTK_A11Y GSETTINGS_BACKEND G_DEBUG || true
# The portal backend is picked for the desktop; the GTK one forwards
# notifications to org.freedesktop.Notifications, the test's server.
export XDG_CURRENT_DESKTOP=GNOME
export TORCHAT_FLATPAK_WORK="$build/flatpak-test" TORCHAT_SOURCE_DIR="$src" TORCHAT_TMP="$tmp"

dbus-run-session -- /usr/bin/python3 "$src/tests/flatpak/test-flatpak.py"
