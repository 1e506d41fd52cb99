#!/bin/sh
# TORChat developer entry point, used by README.md and .ci/run.
#   sh .ci/setup.sh run   install what is missing, build, run the app
#   sh .ci/setup.sh test  install what is missing, build, run every test suite
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

mode=${1:-run}
shift || true
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

build_pkgs="meson ninja-build pkg-config gcc libglib2.0-dev libjson-glib-dev
  libsqlcipher-dev libsodium-dev libsecret-1-dev nettle-dev libgtk-4-dev libadwaita-1-dev libnotify-dev
  gettext desktop-file-utils appstream itstool yelp-tools python3"
# The own address as a QR code (src/app/tc-qr-code.c).
build_pkgs="$build_pkgs libqrencode-dev"
test_pkgs="tor xvfb xauth dbus gnome-keyring clang libclang-rt-14-dev strace procps iproute2
  python3-pyatspi gir1.2-atspi-2.0 at-spi2-core xdotool"
# The QR code test reads the screen back with zbarimg.
test_pkgs="$test_pkgs zbar-tools"
# The transfer UI test puts a file URI on the clipboard with xclip.
test_pkgs="$test_pkgs xclip"
# The flatpak suite watches the app's portal calls with dbus-monitor.
test_pkgs="$test_pkgs dbus-bin"
# The flatpak suite: Flatpak and its builder, debootstrap for the Debian
# stand-in runtime, the portals on the test's session bus, and an X client
# (xmessage) to take the focus from the sandboxed window.
flatpak_pkgs="flatpak flatpak-builder bubblewrap debootstrap ostree xdg-desktop-portal
  xdg-desktop-portal-gtk python3-gi x11-utils"
# What flatpak-builder only recommends but runs: eu-strip (elfutils) for
# every module, patch and the unpackers for the sources.
flatpak_pkgs="$flatpak_pkgs elfutils patch xz-utils zstd"
# The Background portal (its backend is GNOME's) for the background check.
flatpak_pkgs="$flatpak_pkgs xdg-desktop-portal-gnome"
test_pkgs="$test_pkgs $flatpak_pkgs"

missing=""
pkgs=$build_pkgs
[ "$mode" = test ] && pkgs="$build_pkgs $test_pkgs"
for p in $pkgs; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
    missing="$missing $p"
  fi
done
if [ -n "$missing" ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  echo "Installing Debian packages:$missing"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi

# The flatpak suite builds tor and the other modules offline from the
# upstream tarballs that Debian's source packages carry (apt-get source):
# deb-src entries are added to this machine's own apt sources, so the
# repository names no package host.
enable_deb_src () {
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo=sudo
  changed=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    if grep -q '^Types:[[:space:]]*deb[[:space:]]*$' "$f"; then
      $sudo sed -i 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb deb-src/' "$f"
      changed=1
    fi
  done
  if [ -f /etc/apt/sources.list ] && ! grep -q '^deb-src ' /etc/apt/sources.list &&
     grep -q '^deb ' /etc/apt/sources.list; then
    sed -n 's/^deb /deb-src /p' /etc/apt/sources.list | $sudo tee -a /etc/apt/sources.list >/dev/null
    changed=1
  fi
  if [ -n "$changed" ]; then
    echo "Enabled deb-src in the apt sources"
    $sudo apt-get update -q
  fi
}
[ "$mode" = test ] && enable_deb_src

setup () {
  dir=$1; shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}

case "$mode" in
  run)
    setup _build
    meson compile -C _build
    exec ./_build/src/torchat "$@"
    ;;
  test)
    setup _build
    meson compile -C _build
    status=0
    # The UI test starts its own Xvfb and session bus (tests/meson.build);
    # the flatpak suite builds and installs the Flatpak first
    # (tests/flatpak/run.sh; cached between runs under /var/cache).
    meson test -C _build --print-errorlogs --num-processes 2 "$@" || status=1
    python3 .ci/summary.py _build/meson-logs/testlog.json main-build || status=1
    # The unit and integration suites again under AddressSanitizer and
    # UndefinedBehaviorSanitizer, LeakSanitizer at every exit (the nodes of
    # the integration tests end with SIGTERM so that theirs runs too): a
    # second build tree. Without the window: the node library and the CLI
    # are what the sanitizers are for here; the window is tested in _build.
    # Suppressions (system libraries only) in .ci/lsan.supp. G_SLICE: GLib
    # 2.74 hands out GObjects, GVariants and JSON nodes from its own slices,
    # where a leaked one is invisible to LeakSanitizer; plain malloc shows it.
    setup _asan -Db_sanitize=address,undefined -Db_lundef=false -Dgui=disabled
    meson compile -C _asan
    G_SLICE=always-malloc \
    ASAN_OPTIONS=halt_on_error=1:abort_on_error=1:detect_leaks=1 \
    UBSAN_OPTIONS=halt_on_error=1:abort_on_error=1:print_stacktrace=1 \
    LSAN_OPTIONS=suppressions="$top/.ci/lsan.supp":print_suppressions=0 \
      meson test -C _asan --print-errorlogs --num-processes 2 --suite unit --suite integration \
      || status=1
    python3 .ci/summary.py _asan/meson-logs/testlog.json sanitizers || status=1
    # libFuzzer targets need clang: a third build tree, also under
    # AddressSanitizer and UndefinedBehaviorSanitizer (tests/fuzzing).
    CC=clang setup _fuzz -Dfuzzing=true -Dgui=disabled
    meson compile -C _fuzz
    meson test -C _fuzz --print-errorlogs --suite fuzzing || status=1
    python3 .ci/summary.py _fuzz/meson-logs/testlog.json fuzzing || status=1
    python3 .ci/summary.py --total _build/meson-logs/testlog.json \
      _asan/meson-logs/testlog.json _fuzz/meson-logs/testlog.json
    exit $status
    ;;
  *)
    echo "usage: sh .ci/setup.sh run|test" >&2
    exit 2
    ;;
esac
