#!/usr/bin/python3
# A notification server for the flatpak test: owns org.freedesktop.Notifications
# on the (private) session bus and writes every Notify call as one JSON line
# to the file given as its argument, with the caller's process, so the test
# can tell that the notification came through the portal.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import os
import sys

from gi.repository import Gio, GLib

INTERFACE = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="GetCapabilities">
      <arg type="as" direction="out"/>
    </method>
    <method name="Notify">
      <arg type="s" name="app_name" direction="in"/>
      <arg type="u" name="replaces_id" direction="in"/>
      <arg type="s" name="app_icon" direction="in"/>
      <arg type="s" name="summary" direction="in"/>
      <arg type="s" name="body" direction="in"/>
      <arg type="as" name="actions" direction="in"/>
      <arg type="a{sv}" name="hints" direction="in"/>
      <arg type="i" name="expire_timeout" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification">
      <arg type="u" name="id" direction="in"/>
    </method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/>
      <arg type="s" direction="out"/>
      <arg type="s" direction="out"/>
      <arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed">
      <arg type="u"/>
      <arg type="u"/>
    </signal>
    <signal name="ActionInvoked">
      <arg type="u"/>
      <arg type="s"/>
    </signal>
  </interface>
</node>
"""

log_path = sys.argv[1]
# The test asks for a click by writing "ID ACTION" lines to this file.
click_path = log_path + ".click"
clicks_done = 0
next_id = 1
connection_ = None


def caller_exe(connection, sender):
    try:
        pid = connection.call_sync(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "GetConnectionUnixProcessID", GLib.Variant("(s)", (sender,)),
            GLib.VariantType("(u)"), Gio.DBusCallFlags.NONE, -1, None).unpack()[0]
        return os.path.basename(os.readlink("/proc/%d/exe" % pid))
    except (GLib.Error, OSError):
        return ""


def method_call(connection, sender, path, interface, method, params, invocation):
    global next_id
    if method == "GetCapabilities":
        invocation.return_value(GLib.Variant("(as)", (["actions", "body"],)))
    elif method == "GetServerInformation":
        invocation.return_value(GLib.Variant("(ssss)", ("tc-test", "TORChat", "1", "1.2")))
    elif method == "CloseNotification":
        invocation.return_value(None)
    elif method == "Notify":
        (app_name, replaces_id, icon, summary, body, actions, hints, timeout) = params.unpack()
        nid = replaces_id or next_id
        next_id += 1
        record = {
            "id": nid,
            "app_name": app_name,
            "summary": summary,
            "body": body,
            "actions": actions,
            "desktop_entry": hints.get("desktop-entry", ""),
            "caller": caller_exe(connection, sender),
        }
        with open(log_path, "a") as log:
            log.write(json.dumps(record) + "\n")
        invocation.return_value(GLib.Variant("(u)", (nid,)))


def poll_clicks():
    global clicks_done
    try:
        with open(click_path) as f:
            lines = [line.split() for line in f if line.strip()]
    except OSError:
        return True
    for nid, action in lines[clicks_done:]:
        connection_.emit_signal(None, "/org/freedesktop/Notifications",
                                "org.freedesktop.Notifications", "ActionInvoked",
                                GLib.Variant("(us)", (int(nid), action)))
    clicks_done = len(lines)
    return True


def bus_acquired(connection, name):
    global connection_
    connection_ = connection
    GLib.timeout_add(200, poll_clicks)
    info = Gio.DBusNodeInfo.new_for_xml(INTERFACE).interfaces[0]
    connection.register_object("/org/freedesktop/Notifications", info, method_call, None, None)


def name_acquired(connection, name):
    with open(log_path, "a"):
        pass  # the file exists once the name is ours


def name_lost(connection, name):
    sys.exit("notification-server: could not own org.freedesktop.Notifications")


Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                 Gio.BusNameOwnerFlags.DO_NOT_QUEUE,
                 bus_acquired, name_acquired, name_lost)
GLib.MainLoop().run()
