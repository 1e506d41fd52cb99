#!/bin/sh
# Builds the stand-in Platform and Sdk runtimes that the test manifest
# (io.github.torchat.TorChat.debian.json) uses instead of org.gnome.*: two
# debootstrap trees of Debian 12 packages, exported into an OSTree repository
# in the cache directory. A repository already built for the same package
# sets is reused.
#
# Usage: sh flatpak/debian-runtime.sh CACHE_DIR
# Prints the repository's path. The mirror is the one this machine's apt
# uses (its sources entries); nothing here names a package host.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

cache=${1:?usage: debian-runtime.sh CACHE_DIR}
suite=bookworm
branch=12
arch=$(flatpak --default-arch)
platform_id=io.github.torchat.Debian.Platform
sdk_id=io.github.torchat.Debian.Sdk

# What the app and tor need at run time. dbus-x11 and libegl1: without
# them GTK has no EGL ("libEGL not available in this sandbox") and the
# session bus address cannot be looked up under X11.
platform_pkgs="libglib2.0-0 libgtk-4-1 libgtk-4-bin libadwaita-1-0 libjson-glib-1.0-0
  libsqlite3-0 libnettle8 libhogweed6 libnotify4 libssl3 zlib1g liblzma5 libzstd1
  libcap2 libsecret-1-0 dbus-x11 libegl1 adwaita-icon-theme hicolor-icon-theme librsvg2-common
  fonts-cantarell fonts-dejavu-core fontconfig gsettings-desktop-schemas
  shared-mime-info ca-certificates"
# What building it needs: compilers, headers, meson, the gettext, itstool
# and yelp tooling of data/, po/ and help/, and what flatpak-builder calls
# itself (strip, debugedit, eu-strip, appstream-compose).
sdk_pkgs="$platform_pkgs gcc g++ make libc6-dev pkg-config meson ninja-build
  libglib2.0-dev libglib2.0-dev-bin libgtk-4-dev libadwaita-1-dev libjson-glib-dev
  libsqlite3-dev nettle-dev libnotify-dev libsecret-1-dev libssl-dev zlib1g-dev
  liblzma-dev libzstd-dev libcap-dev autoconf automake libtool tcl gettext itstool yelp-tools desktop-file-utils
  appstream appstream-util elfutils debugedit patch file xz-utils"

# The key: the package sets and this script (how the trees are made).
key=$( (printf '%s\n' "$suite" "$branch" "$arch" $platform_pkgs -- $sdk_pkgs; cat "$0") |
      sha256sum | cut -c1-16)
repo=$cache/debian-runtime-$key/repo
if [ -f "$cache/debian-runtime-$key/done" ]; then
  echo "$repo"
  exit 0
fi

# The mirror of this machine's first Debian entry, deb822 or one-line.
mirror=""
if [ -f /etc/apt/sources.list.d/debian.sources ]; then
  mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
           /etc/apt/sources.list.d/debian.sources | grep -v security | head -n1)
fi
if [ -z "$mirror" ]; then
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
           sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' |
           grep -v security | head -n1)
fi
if [ -z "$mirror" ]; then
  echo "debian-runtime.sh: no Debian mirror in this machine's apt sources" >&2
  exit 1
fi

work=$cache/debian-runtime-$key
# Runtimes of other package sets are not used any more.
rm -rf "$cache"/debian-runtime-*
mkdir -p "$work"
trap 'rm -rf "$work/rootfs" "$work/build"' EXIT

comma () { echo $* | tr ' ' ','; }

# One rootfs per runtime; the downloads are shared through debootstrap's
# cache directory.
mkdir -p "$cache/debootstrap-debs"
make_tree () {
  id=$1; pkgs=$2; kind=$3
  root=$work/rootfs/$id
  echo "debian-runtime.sh: debootstrap $id" >&2
  # A download can fail halfway: a second try reuses what arrived.
  for try in 1 2; do
    rm -rf "$root"
    if debootstrap --variant=minbase --merged-usr --components=main \
         --cache-dir="$cache/debootstrap-debs" \
         --include="$(comma $pkgs)" "$suite" "$root" "$mirror" >"$work/$id.log" 2>&1; then
      break
    fi
    echo "debian-runtime.sh: debootstrap $id failed (try $try):" >&2
    tail -n 30 "$work/$id.log" >&2
    [ "$try" = 2 ] && exit 1
  done

  # Flatpak mounts the runtime's files (usr/ here) as /usr; /etc comes
  # from its etc/.
  build=$work/build/$id
  mkdir -p "$build"
  mkdir -p "$build/files"  # build-export checks it; --runtime exports usr/
  mv "$root/usr" "$build/usr"
  cp -a "$root/etc" "$build/usr/etc"
  # Apps live in /app. flatpak makes the sandbox's ld.so.cache with this
  # ld.so.conf but without /etc/ld.so.conf.d, so it includes nothing.
  triplet=$(uname -m)-linux-gnu
  cat > "$build/usr/etc/ld.so.conf" <<CONF
include /run/flatpak/ld.so.conf.d/app-*.conf
include /app/etc/ld.so.conf
/app/lib
/app/lib/$triplet
include /run/flatpak/ld.so.conf.d/runtime-*.conf
/usr/lib/$triplet
/usr/lib
CONF
  # flatpak looks for ldconfig in PATH (/app/bin:/usr/bin).
  [ -e "$build/usr/bin/ldconfig" ] || ln -s ../sbin/ldconfig "$build/usr/bin/ldconfig"
  glib-compile-schemas "$build/usr/share/glib-2.0/schemas" 2>/dev/null || true
  rm -rf "$build/usr/share/doc" "$build/usr/share/man" "$build/usr/share/info"

  cat > "$build/metadata" <<META
[Runtime]
name=$id
runtime=$platform_id/$arch/$branch
sdk=$sdk_id/$arch/$branch

[Environment]
PKG_CONFIG_PATH=/app/lib/pkgconfig:/app/share/pkgconfig
META
  flatpak build-export --runtime --arch="$arch" --disable-sandbox \
    --subject="$kind from Debian $branch packages" \
    "$repo" "$build" "$branch" >&2
}

make_tree $platform_id "$platform_pkgs" "Platform"
make_tree $sdk_id "$sdk_pkgs" "Sdk"
flatpak build-update-repo "$repo" >&2
touch "$work/done"
echo "$repo"
