#!/usr/bin/python3
# tc-notification-server.py: a small org.freedesktop.Notifications server for
# the UI tests, on the session bus it is started in.
#
# Usage: tc-notification-server.py --log FILE [--delay SECONDS]
#
# Each Notify and CloseNotification is written to FILE as one JSON line
# ({"event": "notify", "id": …, "replaces_id": …, "summary": …, "body": …,
# "actions": […], "hints": {…}} or {"event": "close", "id": …}) when it
# arrives; with --delay the answer comes only that many seconds later, as from
# a hung server. The extra interface org.torchat.Test has InvokeAction(u, s),
# which emits ActionInvoked as if the user clicked, SetDelay(d) and Quit().
#
# SPDX-License-Identifier: GPL-3.0-or-later
import argparse
import json
import sys

from gi.repository import Gio, GLib

XML = """
<node>
  <interface name="org.freedesktop.Notifications">
    <method name="GetCapabilities"><arg type="as" direction="out"/></method>
    <method name="Notify">
      <arg type="s" direction="in"/><arg type="u" direction="in"/>
      <arg type="s" direction="in"/><arg type="s" direction="in"/>
      <arg type="s" direction="in"/><arg type="as" direction="in"/>
      <arg type="a{sv}" direction="in"/><arg type="i" direction="in"/>
      <arg type="u" direction="out"/>
    </method>
    <method name="CloseNotification"><arg type="u" direction="in"/></method>
    <method name="GetServerInformation">
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
      <arg type="s" direction="out"/><arg type="s" direction="out"/>
    </method>
    <signal name="NotificationClosed"><arg type="u"/><arg type="u"/></signal>
    <signal name="ActionInvoked"><arg type="u"/><arg type="s"/></signal>
  </interface>
  <interface name="org.torchat.Test">
    <method name="InvokeAction"><arg type="u" direction="in"/><arg type="s" direction="in"/></method>
    <method name="SetDelay"><arg type="d" direction="in"/></method>
    <method name="Quit"/>
  </interface>
</node>
"""

PATH = "/org/freedesktop/Notifications"


class Server:
    def __init__(self, log, delay):
        self.log = open(log, "a", buffering=1)
        self.delay = delay
        self.next_id = 1
        self.connection = None
        self.loop = GLib.MainLoop()

    def write(self, record):
        self.log.write(json.dumps(record) + "\n")

    def answer(self, invocation, value):
        if self.delay > 0:
            GLib.timeout_add(int(self.delay * 1000), lambda: invocation.return_value(value) and False)
        else:
            invocation.return_value(value)

    def emit(self, name, params):
        self.connection.emit_signal(None, PATH, "org.freedesktop.Notifications", name, params)

    def method_call(self, connection, sender, path, interface, method, params, invocation):
        args = params.unpack()
        if method == "GetCapabilities":
            invocation.return_value(GLib.Variant("(as)", (["actions", "body", "persistence"],)))
        elif method == "GetServerInformation":
            invocation.return_value(GLib.Variant("(ssss)", ("tc-notification-server", "TORChat", "1", "1.2")))
        elif method == "Notify":
            app, replaces, icon, summary, body, actions, hints, timeout = args
            nid = replaces if replaces != 0 else self.next_id
            if replaces == 0:
                self.next_id += 1
            self.write({"event": "notify", "id": nid, "replaces_id": replaces, "app_name": app,
                        "app_icon": icon, "summary": summary, "body": body, "actions": actions,
                        "hints": {k: str(v) for k, v in hints.items()},
                        "time": GLib.get_monotonic_time() / 1e6})
            self.answer(invocation, GLib.Variant("(u)", (nid,)))
        elif method == "CloseNotification":
            (nid,) = args
            self.write({"event": "close", "id": nid, "time": GLib.get_monotonic_time() / 1e6})
            self.emit("NotificationClosed", GLib.Variant("(uu)", (nid, 3)))
            self.answer(invocation, None)
        elif method == "InvokeAction":
            nid, action = args
            self.emit("ActionInvoked", GLib.Variant("(us)", (nid, action)))
            invocation.return_value(None)
        elif method == "SetDelay":
            (self.delay,) = args
            invocation.return_value(None)
        elif method == "Quit":
            invocation.return_value(None)
            GLib.idle_add(self.loop.quit)

    def bus_acquired(self, connection, name):
        self.connection = connection
        info = Gio.DBusNodeInfo.new_for_xml(XML)
        for iface in info.interfaces:
            connection.register_object(PATH, iface, self.method_call, None, None)

    def name_acquired(self, connection, name):
        print("ready", flush=True)

    def name_lost(self, connection, name):
        print("tc-notification-server: could not own " + name, file=sys.stderr)
        self.loop.quit()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--log", required=True)
    parser.add_argument("--delay", type=float, default=0)
    args = parser.parse_args()

    server = Server(args.log, args.delay)
    Gio.bus_own_name(Gio.BusType.SESSION, "org.freedesktop.Notifications",
                     Gio.BusNameOwnerFlags.NONE, server.bus_acquired,
                     server.name_acquired, server.name_lost)
    server.loop.run()


if __name__ == "__main__":
    main()
