#!/usr/bin/python3
# tc-ui-agent.py: drives one running torchat from the outside, the way a
# person with a screen reader or a keyboard and mouse would.
#
# Run inside that instance's own `dbus-run-session`, with DISPLAY set to its
# own Xvfb:
#   tc-ui-agent.py --dir DIR --reply-fd FD [--notify-delay S] -- torchat ARGS…
# It starts the notification server (tc-notification-server.py) on the
# session bus, then torchat with accessibility on; the AT-SPI bus comes up by
# D-Bus activation on that session bus. Then it answers commands, one JSON
# object per line on standard input, with one JSON object per line on
# descriptor FD ({"ok": true, …} or {"ok": false, "error": …}).
#
# Elements are found by AT-SPI role name ("push button", "text", "label",
# "list item", …) and accessible name (exact, or a substring with
# "contains"), among those that are showing, in every window of the app.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import argparse
import json
import os
import signal
import subprocess
import sys
import time
import traceback

import pyatspi
from gi.repository import Gio, GLib

HERE = os.path.dirname(os.path.abspath(__file__))


def log(*args):
    print("agent:", *args, file=sys.stderr, flush=True)


class Agent:
    def __init__(self, args, command):
        self.dir = args.dir
        self.notify_log = os.path.join(self.dir, "notifications.jsonl")
        self.app_log = open(os.path.join(self.dir, "torchat.log"), "a")
        open(self.notify_log, "a").close()

        self.notifier = subprocess.Popen(
            ["/usr/bin/python3", os.path.join(HERE, "tc-notification-server.py"),
             "--log", self.notify_log, "--delay", str(args.notify_delay)],
            stdout=subprocess.PIPE, stderr=self.app_log, text=True)
        line = self.notifier.stdout.readline()
        if line.strip() != "ready":
            raise RuntimeError("the notification server did not start")

        env = dict(os.environ)
        for name in ("NO_AT_BRIDGE", "GTK_A11Y"):
            env.pop(name, None)
        env.setdefault("GDK_BACKEND", "x11")
        env.setdefault("GSK_RENDERER", "cairo")
        env.setdefault("GSETTINGS_BACKEND", "memory")
        if args.bench:
            env["TORCHAT_BENCH_FRAMES"] = "1"
        self.launched = time.monotonic()
        self.app = subprocess.Popen(command, stdout=self.app_log, stderr=self.app_log, env=env)
        self.app_name = os.path.basename(command[0])
        self.command = command

    # Finding

    def application(self, timeout=30):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.app.poll() is not None:
                raise RuntimeError("torchat exited with %d" % self.app.returncode)
            try:
                desktop = pyatspi.Registry.getDesktop(0)
                for i in range(desktop.childCount):
                    app = desktop.getChildAtIndex(i)
                    if app is not None and app.name == self.app_name:
                        if app.childCount > 0:
                            return app
            except Exception:
                pass
            time.sleep(0.2)
        raise RuntimeError("torchat did not appear on the accessibility bus")

    @staticmethod
    def showing(acc):
        # GTK 4.8 marks every widget "visible" and none "showing": what is
        # on screen has a size.
        try:
            x, y, w, h = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
            return w > 0 and h > 0
        except Exception:
            return True

    def walk(self, acc, depth=0):
        if acc is None or depth > 60:
            return
        yield acc
        try:
            n = acc.childCount
        except Exception:
            return
        for i in range(n):
            try:
                child = acc.getChildAtIndex(i)
            except Exception:
                continue
            # Hidden subtrees (other stack pages, closed popovers) are skipped.
            # Hidden subtrees (other stack pages, closed popovers) are skipped.
            if child is not None and self.showing(child):
                yield from self.walk(child, depth + 1)

    def find_all(self, role=None, name=None, contains=None, window=None):
        app = self.application()
        found = []
        mapped = self.mapped_titles()
        for i in range(app.childCount):
            top = app.getChildAtIndex(i)
            # A closed window may linger in the tree for a while.
            if top is None or not self.showing(top) or (top.name or "") not in mapped:
                continue
            if window is not None and window not in (top.name or ""):
                continue
            for acc in self.walk(top):
                try:
                    if role is not None and acc.getRoleName() != role:
                        continue
                    acc_name = acc.name or ""
                    if name is not None and acc_name != name:
                        continue
                    if contains is not None and contains not in acc_name:
                        continue
                except Exception:
                    continue
                if self.on_screen(acc, top):
                    found.append(acc)
        return found

    @staticmethod
    def on_screen(acc, top):
        """Hidden widgets keep their last extents in GTK 4.8: ask the window
        what is at a few points of the element (GTK picks among mapped
        widgets only) and accept the element, something inside it, or a
        container of it. Points on widgets without an accessible (an icon
        inside a button) answer nothing and do not count."""
        if acc == top:
            return True
        # Popovers are surfaces of their own, which the window's hit test
        # does not see; a closed one has no size.
        node = acc
        while node is not None and node != top:
            if node.getRoleName() == "menu":
                return True
            node = node.parent
        try:
            x, y, w, h = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
            comp = top.queryComponent()
        except Exception:
            return True
        answered = False
        for fx, fy in ((0.5, 0.5), (0.25, 0.5), (0.75, 0.5), (0.5, 0.25), (0.5, 0.75)):
            try:
                hit = comp.getAccessibleAtPoint(int(x + w * fx), int(y + h * fy), pyatspi.WINDOW_COORDS)
            except Exception:
                continue
            if hit is None:
                continue
            answered = True
            # Inside an entry, GTK picks its text widget, whose accessible
            # has no parent: that is the entry.
            if hit.parent is None and acc.getRoleName() == "text":
                return True
            for start, other in ((hit, acc), (acc, hit)):
                node = start
                while node is not None and node != top:
                    if node == other:
                        return True
                    node = node.parent
        return not answered

    def find(self, cmd):
        """The element, once it is on screen (a toast may cover it for a
        while), waiting at most cmd["timeout"] seconds."""
        deadline = time.monotonic() + cmd.get("timeout", 10)
        index = cmd.get("index", 0)
        while True:
            found = self.find_all(cmd.get("role"), cmd.get("name"), cmd.get("contains"),
                                  cmd.get("window"))
            if len(found) > index:
                return found[index]
            if time.monotonic() > deadline:
                raise LookupError("no %s named %r" % (cmd.get("role"), cmd.get("name") or cmd.get("contains")))
            time.sleep(0.2)

    @staticmethod
    def describe(acc):
        info = {"role": acc.getRoleName(), "name": acc.name or ""}
        try:
            states = acc.getState()
            info["states"] = [pyatspi.stateToString(s) for s in states.getStates()]
        except Exception:
            info["states"] = []
        try:
            text = acc.queryText()
            # GTK 4.8 answers "" to getText(0, -1).
            info["text"] = text.getText(0, text.characterCount)
        except Exception:
            pass
        try:
            info["value"] = acc.queryValue().currentValue
        except Exception:
            pass
        try:
            info["extents"] = list(acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS))
        except Exception:
            pass
        try:
            desc = acc.description
            if desc:
                info["description"] = desc
        except Exception:
            pass
        return info

    # Commands

    def cmd_find(self, cmd):
        return {"items": [self.describe(a) for a in
                          self.find_all(cmd.get("role"), cmd.get("name"), cmd.get("contains"),
                                        cmd.get("window"))]}

    def cmd_wait(self, cmd):
        deadline = time.monotonic() + cmd.get("timeout", 20)
        gone = cmd.get("gone", False)
        last = None
        while time.monotonic() < deadline:
            try:
                found = self.find_all(cmd.get("role"), cmd.get("name"), cmd.get("contains"),
                                      cmd.get("window"))
                if "text_contains" in cmd:
                    found = [a for a in found if cmd["text_contains"] in self.describe(a).get("text", "")]
                if "state" in cmd:
                    found = [a for a in found if cmd["state"] in self.describe(a)["states"]]
                if gone and not found:
                    return {}
                if not gone and found:
                    return {"item": self.describe(found[0])}
            except Exception as e:
                last = e
            time.sleep(0.15)
        raise TimeoutError("waited in vain for %s %r%s%s" % (
            cmd.get("role"), cmd.get("name") or cmd.get("contains"),
            " to go" if gone else "", ": %s" % last if last else ""))

    def cmd_click(self, cmd):
        acc = self.find(cmd)
        # A popover's positions are its own surface's, not the window's:
        # activate its items as a screen reader does.
        node = acc
        while node is not None and node.getRoleName() not in ("menu", "frame"):
            node = node.parent
        if node is not None and node.getRoleName() == "menu":
            cmd = dict(cmd, action=True)
        if cmd.get("action", False):
            action = acc.queryAction()
            action.doAction(0)
            return {}
        comp = acc.queryComponent()
        # GTK 4 only knows positions inside its window.
        x, y, w, h = comp.getExtents(pyatspi.WINDOW_COORDS)
        if w <= 0 or h <= 0:
            raise RuntimeError("not on screen: %r" % acc.name)
        wid = self.x_window(self.toplevel(acc).name)
        self.xdotool("mousemove", "--window", wid, str(x + w // 2), str(y + h // 2))
        clicked = time.monotonic()
        self.xdotool("click", "1")
        # A pointer left on a toast keeps it up (libadwaita pauses it).
        self.xdotool("mousemove", "1279", "799")
        return {"clicked": clicked}

    def mapped_titles(self):
        """Titles of the app's X windows that are mapped."""
        out = self.xdotool("search", "--all", "--onlyvisible", "--pid", str(self.app.pid),
                           "--name", ".", capture=True)
        titles = set()
        for wid in out.split():
            name = self.xdotool("getwindowname", wid, capture=True, check=False)
            if name:
                titles.add(name.strip())
        return titles

    @staticmethod
    def toplevel(acc):
        while True:
            parent = acc.parent
            if parent is None or parent.getRoleName() == "application":
                return acc
            acc = parent

    def x_window(self, title):
        out = self.xdotool("search", "--all", "--onlyvisible", "--pid", str(self.app.pid), "--name",
                           "^%s$" % title, capture=True)
        ids = out.split()
        # A tooltip has the app's title too.
        if len(ids) > 1:
            ids = [wid for wid in ids if not self.override_redirect(wid)] or ids
        if not ids:
            raise LookupError("no window titled %r" % title)
        return ids[-1]

    @staticmethod
    def window_info(wid):
        """xwininfo's answer for X window @wid, as a dict ({} without it)."""
        try:
            info = subprocess.run(["xwininfo", "-id", wid], capture_output=True, text=True,
                                  timeout=30).stdout
        except OSError:
            return {}
        values = {}
        for line in info.splitlines():
            key, _, value = line.strip().partition(":")
            values[key] = value.strip()
        return values

    def override_redirect(self, wid):
        return self.window_info(wid).get("Override Redirect State") == "yes"

    def cmd_hover(self, cmd):
        """Leaves the pointer over the middle of an element (where a tooltip
        comes up)."""
        acc = self.find(cmd)
        x, y, w, h = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        wid = self.x_window(self.toplevel(acc).name)
        self.xdotool("mousemove", "--window", wid, str(x + w // 2), str(y + h // 2))
        return {}

    def cmd_popups(self, cmd):
        """The app's mapped override-redirect X windows (tooltips), each as
        [x, y, width, height] on the screen."""
        out = self.xdotool("search", "--all", "--onlyvisible", "--pid", str(self.app.pid),
                           "--name", ".", capture=True)
        found = []
        for wid in out.split():
            values = self.window_info(wid)
            if values.get("Override Redirect State") != "yes":
                continue
            found.append([int(values[k]) for k in ("Absolute upper-left X", "Absolute upper-left Y",
                                                   "Width", "Height")])
        return {"windows": found}

    def cmd_clip(self, cmd):
        """An element's extents and the part of them its ancestors (a
        scrolled window, say) leave on screen."""
        acc = self.find(cmd)
        x, y, w, h = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        full = [x, y, w, h]
        x1, y1, x2, y2 = x, y, x + w, y + h
        node = acc.parent
        while node is not None and node.getRoleName() not in ("frame", "application"):
            try:
                px, py, pw, ph = node.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
            except Exception:
                px = None
            if px is not None and pw > 0 and ph > 0:
                x1, y1, x2, y2 = max(x1, px), max(y1, py), min(x2, px + pw), min(y2, py + ph)
            node = node.parent
        return {"extents": full, "visible": [x1, y1, max(0, x2 - x1), max(0, y2 - y1)]}

    def cmd_mouse_away(self, cmd):
        self.xdotool("mousemove", "1279", "799")
        return {}

    def cmd_focus(self, cmd):
        acc = self.find(cmd)
        acc.queryComponent().grabFocus()
        return {}

    def cmd_type(self, cmd):
        self.xdotool("type", "--delay", "8", "--", cmd["text"])
        return {}

    def cmd_key(self, cmd):
        self.xdotool("key", "--delay", "30", *cmd["keys"])
        return {}

    def cmd_focus_window(self, cmd):
        """Gives the X input focus to torchat's window titled cmd["title"]
        (without a window manager, focus only moves when asked)."""
        self.xdotool("windowfocus", "--sync", self.x_window(cmd["title"]))
        return {}

    def cmd_focused(self, cmd):
        """The element that has the keyboard focus, in the window titled
        cmd["window"] (any window of the app without it)."""
        app = self.application()
        for i in range(app.childCount):
            top = app.getChildAtIndex(i)
            if top is None or (cmd.get("window") and cmd["window"] not in (top.name or "")):
                continue
            for acc in self.walk(top):
                try:
                    if acc != top and acc.getState().contains(pyatspi.STATE_FOCUSED):
                        return {"item": self.describe(acc)}
                except Exception:
                    continue
        return {"item": None}

    def cmd_notifications(self, cmd):
        with open(self.notify_log) as f:
            return {"events": [json.loads(line) for line in f if line.strip()]}

    def cmd_invoke_action(self, cmd):
        bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        bus.call_sync("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                      "org.torchat.Test", "InvokeAction",
                      GLib.Variant("(us)", (cmd["id"], cmd.get("action", "default"))),
                      None, Gio.DBusCallFlags.NONE, 5000, None)
        return {}

    def cmd_probe(self, cmd):
        """What the window has at the centre of each element that matches,
        shown or not: for debugging a test."""
        out = []
        app = self.application()
        for i in range(app.childCount):
            top = app.getChildAtIndex(i)
            for acc in self.walk(top):
                if acc.getRoleName() == cmd.get("role") and acc.name == cmd.get("name"):
                    x, y, w, h = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
                    hit = top.queryComponent().getAccessibleAtPoint(x + w // 2, y + h // 2,
                                                                    pyatspi.WINDOW_COORDS)
                    chain = []
                    node = hit
                    while node is not None and len(chain) < 6:
                        chain.append("%s %r" % (node.getRoleName(), node.name))
                        node = node.parent
                    out.append({"extents": [x, y, w, h], "hit": chain})
        return {"probes": out}

    def cmd_notify_delay(self, cmd):
        bus = Gio.bus_get_sync(Gio.BusType.SESSION, None)
        bus.call_sync("org.freedesktop.Notifications", "/org/freedesktop/Notifications",
                      "org.torchat.Test", "SetDelay", GLib.Variant("(d)", (cmd["seconds"],)),
                      None, Gio.DBusCallFlags.NONE, 5000, None)
        return {}

    def cmd_ping(self, cmd):
        """How long the app takes to answer an accessibility query: its main
        loop serves them."""
        start = time.monotonic()
        app = self.application()
        for i in range(app.childCount):
            top = app.getChildAtIndex(i)
            if top is not None:
                top.getState()
                top.name
        return {"seconds": time.monotonic() - start}

    def cmd_launch_again(self, cmd):
        """Starts the same command a second time in this session: it hands
        over to the running window and ends."""
        env = dict(os.environ)
        for name in ("NO_AT_BRIDGE", "GTK_A11Y"):
            env.pop(name, None)
        result = subprocess.run(self.command, stdout=self.app_log, stderr=self.app_log, env=env,
                                timeout=30)
        return {"code": result.returncode}

    def cmd_launched(self, cmd):
        return {"monotonic": self.launched}

    def cmd_scroll(self, cmd):
        """Turns the mouse wheel over an element: cmd["clicks"] notches up
        (button 4) or down (5), one every cmd["delay"] ms."""
        acc = self.find(cmd)
        x, y, w, h = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        wid = self.x_window(self.toplevel(acc).name)
        self.xdotool("mousemove", "--window", wid, str(x + w // 2), str(y + h // 2))
        start = time.monotonic()
        self.xdotool("click", "--repeat", str(cmd.get("clicks", 100)), "--delay",
                     str(cmd.get("delay", 16)), "4" if cmd.get("up", True) else "5")
        return {"start": start, "end": time.monotonic()}

    def cmd_drag(self, cmd):
        """Drags with the left button across an element (cmd["ancestor"]
        levels above the one found): from cmd["from"] to cmd["to"], each [x, y] as
        fractions of its extents kept cmd["inset"] pixels inside, in
        cmd["steps"] moves cmd["delay"] ms apart."""
        acc = self.find(cmd)
        for _ in range(cmd.get("ancestor", 0)):
            acc = acc.parent
        x, y, w, h = acc.queryComponent().getExtents(pyatspi.WINDOW_COORDS)
        inset = cmd.get("inset", 0)
        wid = self.x_window(self.toplevel(acc).name)

        def point(fx, fy):
            px = min(max(x + round(fx * (w - 1)), x + inset), x + w - 1 - inset)
            py = min(max(y + round(fy * (h - 1)), y + inset), y + h - 1 - inset)
            return str(px), str(py)

        (fx0, fy0), (fx1, fy1) = cmd["from"], cmd["to"]
        steps = max(cmd.get("steps", 30), 1)
        # Moving there first shows an overlay scroll bar.
        self.xdotool("mousemove", "--window", wid, *point(fx0, fy0))
        time.sleep(0.5)
        self.xdotool("mousedown", "1")
        start = time.monotonic()
        for i in range(1, steps + 1):
            time.sleep(cmd.get("delay", 33) / 1000)
            self.xdotool("mousemove", "--window", wid,
                         *point(fx0 + (fx1 - fx0) * i / steps, fy0 + (fy1 - fy0) * i / steps))
        end = time.monotonic()
        self.xdotool("mouseup", "1")
        return {"start": start, "end": end}

    def cmd_pid(self, cmd):
        return {"pid": self.app.pid}

    def cmd_wait_exit(self, cmd):
        try:
            code = self.app.wait(timeout=cmd.get("timeout", 30))
        except subprocess.TimeoutExpired:
            raise TimeoutError("torchat did not exit")
        return {"code": code}

    def cmd_dump(self, cmd):
        lines = []
        app = self.application()

        def rec(acc, depth):
            try:
                lines.append("  " * depth + "%s %r%s" % (acc.getRoleName(), acc.name,
                                                         "" if self.showing(acc) else " (hidden)"))
                for i in range(acc.childCount):
                    child = acc.getChildAtIndex(i)
                    if child is not None and (self.showing(child) or cmd.get("all")):
                        rec(child, depth + 1)
            except Exception:
                pass

        rec(app, 0)
        return {"tree": "\n".join(lines)}

    def xdotool(self, *args, capture=False, check=True):
        result = subprocess.run(["xdotool", *args], capture_output=True, text=True, timeout=30)
        if not check:
            return result.stdout if result.returncode == 0 else None
        if result.returncode != 0 and not (args[0] == "search" and result.returncode == 1):
            raise RuntimeError("xdotool %s: %s" % (" ".join(args), result.stderr.strip()))
        return result.stdout if capture else None

    def stop(self):
        if self.app.poll() is None:
            self.app.send_signal(signal.SIGTERM)
            try:
                self.app.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.app.kill()
                self.app.wait()
        if self.notifier.poll() is None:
            self.notifier.terminate()
            self.notifier.wait()


def main():
    argv = sys.argv[1:]
    if "--" not in argv:
        print("usage: tc-ui-agent.py --dir DIR [--notify-delay S] -- torchat ARGS…", file=sys.stderr)
        return 2
    split = argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--notify-delay", type=float, default=0)
    parser.add_argument("--reply-fd", type=int, required=True)
    parser.add_argument("--bench", action="store_true")
    args = parser.parse_args(argv[:split])
    command = argv[split + 1:]

    # Services the session bus activates write to its standard output: the
    # answers have a descriptor of their own.
    out = os.fdopen(args.reply_fd, "w", buffering=1)
    os.set_inheritable(args.reply_fd, False)

    agent = Agent(args, command)
    try:
        agent.application(timeout=60)
        out.write(json.dumps({"ok": True, "ready": True}) + "\n")
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            if cmd.get("cmd") == "quit":
                break
            try:
                reply = getattr(agent, "cmd_" + cmd["cmd"])(cmd)
                reply["ok"] = True
            except Exception as e:
                reply = {"ok": False, "error": "%s: %s" % (type(e).__name__, e)}
                log(traceback.format_exc())
            out.write(json.dumps(reply) + "\n")
    except Exception as e:
        out.write(json.dumps({"ok": False, "error": "%s: %s" % (type(e).__name__, e)}) + "\n")
        log(traceback.format_exc())
    finally:
        agent.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
