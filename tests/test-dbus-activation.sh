#!/bin/sh
# D-Bus activation as the desktop does it (DBusActivatable=true): the session
# bus starts torchat from the service file that data/ installs, the window
# appears after Activate, and the app.quit action ends it.
# Usage: test-dbus-activation.sh TORCHAT SERVICE_FILE SCHEMA_DIR
# SPDX-License-Identifier: GPL-3.0-or-later
set -u

torchat=$1
service=$2
schemas=$3
app_id=io.github.torchat.TorChat
obj=/io/github/torchat/TorChat

for tool in Xvfb dbus-run-session gdbus xdotool; do
  command -v "$tool" >/dev/null || { echo "Bail out! $tool is missing"; exit 1; }
done

tmp=$(mktemp -d)
xvfb_pid=""
cleanup () {
  [ -n "$xvfb_pid" ] && kill "$xvfb_pid" 2>/dev/null
  # GTK may start the document portal, which mounts its FUSE file system
  # in the throwaway home.
  for m in "$tmp"/home/.cache/doc "$tmp"/home/.cache/*/doc; do
    [ -d "$m" ] && fusermount -uz "$m" 2>/dev/null
  done
  rm -rf "$tmp" 2>/dev/null || true
}
trap cleanup EXIT

mkdir -p "$tmp/home" "$tmp/share/dbus-1/services" "$tmp/config/glib-2.0/settings"
# The installed service file, with the binary of this build.
sed "s|^Exec=[^ ]*|Exec=$torchat|" "$service" > "$tmp/share/dbus-1/services/$app_id.service"
# SOCKS mode towards a closed port: no tor is started, nothing leaves the host.
cat > "$tmp/config/glib-2.0/settings/keyfile" <<KEYS
[io/github/torchat/TorChat]
tor-mode='socks'
tor-socks-address='127.0.0.1:9'
KEYS

Xvfb -displayfd 3 -screen 0 1024x768x24 -nolisten tcp 3>"$tmp/display" 2>/dev/null &
xvfb_pid=$!
i=0
while [ ! -s "$tmp/display" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
[ -s "$tmp/display" ] || { echo "Bail out! Xvfb did not start"; exit 1; }

echo "1..4"
# The TAP lines on fd 3; the bus's own stdout, which the services it starts
# inherit (gnome-keyring-daemon prints GNOME_KEYRING_CONTROL=… there), goes
# to stderr.
env -u DBUS_SESSION_BUS_ADDRESS DISPLAY=":$(cat "$tmp/display")" HOME="$tmp/home" \
  XDG_DATA_HOME="$tmp/home/.local/share" XDG_CONFIG_HOME="$tmp/config" \
  XDG_DATA_DIRS="$tmp/share:/usr/share" GSETTINGS_BACKEND=keyfile \
  GSETTINGS_SCHEMA_DIR="$schemas" NO_AT_BRIDGE=1 \
  dbus-run-session -- sh -c '
    app_id=$1 obj=$2 home=$3
    if gdbus call --session --timeout 30 --dest "$app_id" --object-path "$obj" \
         --method org.freedesktop.Application.Activate "{}" >/dev/null; then
      echo "ok 1 - the session bus starts torchat and Activate returns" >&3
    else
      echo "not ok 1 - the session bus starts torchat and Activate returns" >&3
    fi
    i=0
    while [ $i -lt 60 ] && ! xdotool search --onlyvisible --name "." >/dev/null 2>&1; do
      sleep 0.5; i=$((i + 1))
    done
    if xdotool search --onlyvisible --name "." >/dev/null 2>&1; then
      echo "ok 2 - a window of the app is shown (the first-run window on a new profile)" >&3
    else
      echo "not ok 2 - a window of the app is shown (the first-run window on a new profile)" >&3
    fi
    if [ -d "$home/.local/share/torchat/default" ]; then
      echo "ok 3 - the default profile is used" >&3
    else
      echo "not ok 3 - the default profile is used" >&3
    fi
    owned=$(gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
              --method org.freedesktop.DBus.NameHasOwner "$app_id" 2>/dev/null)
    gdbus call --session --timeout 30 --dest "$app_id" --object-path "$obj" \
      --method org.freedesktop.Application.ActivateAction "quit" "[]" "{}" >/dev/null
    i=0
    while [ $i -lt 60 ] && gdbus call --session --dest org.freedesktop.DBus \
            --object-path /org/freedesktop/DBus --method org.freedesktop.DBus.NameHasOwner \
            "$app_id" 2>/dev/null | grep -q true; do
      sleep 0.5; i=$((i + 1))
    done
    if echo "$owned" | grep -q true &&
       gdbus call --session --dest org.freedesktop.DBus --object-path /org/freedesktop/DBus \
         --method org.freedesktop.DBus.NameHasOwner "$app_id" 2>/dev/null | grep -q false; then
      echo "ok 4 - app.quit through D-Bus ends it" >&3
    else
      echo "not ok 4 - app.quit through D-Bus ends it" >&3
    fi
  ' sh "$app_id" "$obj" "$tmp/home" 3>&1 >&2
