#!/usr/bin/python3
# test-contact-state.py: a contact's connection state in the real window
# (issue 6). Bob's torchat stops while Alice's next attempt meets a port
# that never answers: she sees him "Connecting…"; then nobody listens there:
# "Offline"; a retry that hangs again leaves him "Offline" (a contact
# whose last try failed is retried in the background); the details and
# the row's tooltip give the node's last error in words and a retry time ahead that moves on after each attempt,
# the tooltip changing on screen under the pointer. A message written
# meanwhile waits; Bob comes back by himself and it is delivered (its
# state's tooltip, under the pointer, never keeps the old words). Bob stops
# again, a second message waits, Bob starts but cannot reach Alice by
# himself; her "Try Now" reaches him at once, well before the retry time
# shown, and the second message is delivered.
#
# Environment: TORCHAT_BINARY, TORCHAT_TEST_SOCKS, GSETTINGS_SCHEMA_DIR;
# TORCHAT_SCREENSHOT_DIR (optional) receives screenshots.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import datetime
import json
import os
import re
import shutil
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402

QUEUED = "Written while Bob is away"
QUEUED_TOO = "Written while Bob is away again"
TRIES_AGAIN = re.compile(r"tries again at (\d\d):(\d\d):(\d\d)")


def shown_time(text):
    """The "tries again at HH:MM:SS" of @text as a datetime (today or, just
    after midnight, tomorrow), or None."""
    m = TRIES_AGAIN.search(text or "")
    if m is None:
        return None
    now = datetime.datetime.now()
    at = now.replace(hour=int(m.group(1)), minute=int(m.group(2)), second=int(m.group(3)),
                     microsecond=0)
    if at < now - datetime.timedelta(hours=12):
        at += datetime.timedelta(days=1)
    return at


class Silent:
    """A loopback port that takes connections and never says a word."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.held = []
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self):
        self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()
        for conn in self.held:
            conn.close()


class ContactState(tcui.Pair):
    def __init__(self):
        super().__init__("torchat-ui-state-")
        self.node_args = ["--listen", "127.0.0.1:0", "--socks", self.socks.address]

    def contact(self, who, address):
        result = who.cli("--json", "contacts")
        check(result.returncode == 0, "contacts: %s" % result.stderr)
        for c in json.loads(result.stdout):
            if c["address"] == address:
                return c
        return None

    def row(self):
        """Bob's row in Alice's sidebar, as a screen reader has it: the
        list's cell, which takes the keyboard focus."""
        rows = [r for r in self.alice.call("find", contains="Bob, ", window="TORChat")["items"]
                if r["role"] == "table cell"]
        check(len(rows) == 1, "one row for Bob: %r" % rows)
        return rows[0]

    # The cases, in order.

    def online(self):
        a = self.alice
        tcui.befriend(self)
        a.call("click", role="label", name="Bob")
        a.call("wait", role="label", name="Available", window="TORChat", timeout=30)

    def connecting(self):
        """Bob's torchat stops; Alice's next attempt reaches something that
        takes the connection and says nothing: she is connecting."""
        a = self.alice
        silent = Silent()
        try:
            self.socks.add(self.bob.address, silent.port)
            self.bob.stop()
            a.call("wait", role="label", name="Connecting…", window="TORChat", timeout=30)
            row = wait_until(lambda: self.row().get("description", "").startswith("Connecting…") and
                             self.row(), timeout=10, what="the row to say it is connecting")
            note("row: %r" % row)
            check(row["name"] == "Bob, Connecting…", "a screen reader hears it: %r" % row)
        finally:
            silent.close()

    def offline(self):
        a = self.alice
        # Where Bob was: nobody listens there now.
        self.socks.add(self.bob.address, self.bob.port)
        a.call("wait", role="label", name="Offline", window="TORChat", timeout=30)
        note("row: %r" % self.row())

    def stays_offline(self):
        """A contact whose last try failed stays "Offline" while the node
        tries again: Alice's retry meets the silent port again and hangs
        there, and the row still says "Offline", its description the last
        error; once that try fails too, the next retry time."""
        a = self.alice
        silent = Silent()
        try:
            self.socks.add(self.bob.address, silent.port)
            wait_until(lambda: silent.held, timeout=40, what="Alice's retry to reach the silent port")
            # Under way, and it stays under way (nothing answers there).
            for _ in range(3):
                row = self.row()
                note("row during the retry: %r" % row)
                check(row["name"] == "Bob, Offline", "still offline to a screen reader: %r" % row)
                check(row.get("description", "").startswith("Offline. The last try failed: "),
                      "the description keeps the last error: %r" % row)
                check(not a.call("find", role="label", name="Connecting…", window="TORChat")["items"],
                      "nothing in the window says \"Connecting…\"")
                time.sleep(0.5)
            check(silent.held, "the retry is still under way")
        finally:
            self.socks.add(self.bob.address, self.bob.port)
            silent.close()
        wait_until(lambda: "tries again at" in self.row().get("description", ""), timeout=30,
                   what="the row to name the next try")
        check(self.row()["name"] == "Bob, Offline", "offline after that try too: %r" % self.row())

    def details_say_when(self):
        """The details: the node's last error in words and a retry time that
        lies ahead, and that moves on after each attempt."""
        a = self.alice
        a.call("click", role="push button", name="Contact Menu")
        a.call("click", role="menu item", name="Contact Details")
        a.call("wait", role="frame", name="Contact Details")
        first = self.tries_again(after=None)
        check("The last try failed: " in first[1], "the details say why: %r" % first[1])
        self.screenshot(a, "contact-offline.png")
        second = self.tries_again(after=first[0])
        note("first %r, then %r" % (first[1], second[1]))
        # Where nobody listens: the node's error, in words.
        check("The last try failed: Your contact refused the connection." in second[1],
              "the details say why, in words: %r" % second[1])

    def tries_again(self, after, timeout=40, ahead=0):
        """Waits for the details to name a retry time later than @after (and
        at least @ahead seconds away); returns (time, text)."""
        a = self.alice

        def shown():
            for item in a.call("find", role="label", contains="tries again at",
                               window="Contact Details")["items"]:
                at = shown_time(item["name"])
                now = datetime.datetime.now()
                if at is None or (after is not None and at <= after):
                    continue
                # A real time ahead: not in the past, not far off.
                check(at >= now.replace(microsecond=0) - datetime.timedelta(seconds=1),
                      "the retry time %s is not past (now %s)" % (at.time(), now.time()))
                check(at <= now + datetime.timedelta(minutes=6), "the retry time is near: %s" % at)
                if at >= now + datetime.timedelta(seconds=ahead):
                    return at, item["name"]
            return None

        return wait_until(shown, timeout=timeout, what="a retry time after %s" % after)

    def hover_tooltip(self, role, name):
        """Leaves the pointer on an element of Alice's main window; returns
        where its tooltip is and what it shows."""
        a = self.alice
        if shutil.which("xwininfo") is None:
            raise tcui.Skip("xwininfo (x11-utils) is not installed")
        a.call("hover", role=role, name=name, window="TORChat")
        popup = wait_until(lambda: a.call("popups")["windows"], timeout=10, what="the tooltip")[0]
        # Drawn once it is mapped.
        time.sleep(0.5)
        return popup, a.xvfb.pixels(*popup)

    def tooltip_changed(self, popup, before, may_go=False):
        """The tooltip at @popup no longer shows @before: it shows the new
        state or, with @may_go, it is gone (its widget was replaced), never
        the old words."""
        a = self.alice
        time.sleep(0.5)
        popups = a.call("popups")["windows"]
        if may_go and not popups:
            note("the tooltip went with the widget it belonged to")
            return
        check(popups, "the tooltip is still up")
        # A longer text makes a wider tooltip: compare what it covers now.
        check(popups[0] != popup or a.xvfb.pixels(*popups[0]) != before,
              "the tooltip on screen changed with the state")

    def tooltip_follows(self):
        """The sidebar row says the same under the pointer, and the tooltip
        on screen changes with the state."""
        a = self.alice
        a.call("click", role="push button", name="Close", window="Contact Details")
        a.call("wait", role="frame", name="Contact Details", gone=True)
        row = self.row()
        check(row.get("description", "").startswith("Offline. The last try failed:") or
              row.get("description", "").startswith("Connecting…"),
              "the row describes the connection: %r" % row)
        popup, before = self.hover_tooltip(row["role"], row["name"])
        note("tooltip at %r" % popup)
        description = row["description"]
        # The next attempt changes the words (the time, or "Connecting…").
        wait_until(lambda: self.row()["description"] != description, timeout=40,
                   what="the row's description to change")
        self.tooltip_changed(popup, before)
        if self.shots:
            a.screenshot(os.path.join(self.shots, "contact-tooltip.png"))
        a.call("mouse_away")

    def write(self, text):
        a = self.alice
        # Without a window manager the keyboard goes where it is told.
        a.call("focus_window", title="TORChat")
        a.call("click", role="text", name="Message")
        a.call("type", text=text)
        a.call("key", keys=["Return"])
        a.call("wait", role="label", name=text)
        a.call("wait", role="image", name="Waiting to be sent")
        check(self.contact(a, self.bob.address)["outbox"] == 1, "one message in Alice's outbox")

    def message_waits(self):
        self.write(QUEUED)

    def comes_back(self):
        """Bob comes back by himself while the pointer rests on the message's
        "Waiting to be sent": it is delivered, and the tooltip there is
        looked at (state_tooltip_follows)."""
        a = self.alice
        self.state_tooltip = None
        try:
            popup, before = self.hover_tooltip("image", "Waiting to be sent")
        except tcui.Skip:
            popup = None
        self.bob = tcui.Instance("bob", self.tmp, self.node_args)
        self.socks.add(self.bob.address, self.bob.port)
        wait_until(lambda: not a.call("find", role="image", name="Waiting to be sent")["items"],
                   timeout=30, what="the message to be delivered")
        a.call("wait", role="image", name="Delivered")
        if popup is not None:
            try:
                self.tooltip_changed(popup, before, may_go=True)
                self.state_tooltip = "ok"
            except AssertionError as e:
                self.state_tooltip = str(e)
        a.call("mouse_away")

    def state_tooltip_follows(self):
        """The message state's tooltip under the pointer changed with the
        state (or went with its widget)."""
        if self.state_tooltip is None:
            raise tcui.Skip("xwininfo (x11-utils) is not installed")
        check(self.state_tooltip == "ok", self.state_tooltip)

    def offline_again(self):
        a = self.alice
        a.call("wait", role="label", name="Available", window="TORChat", timeout=30)
        self.bob.stop()
        a.call("wait", role="label", name="Offline", window="TORChat", timeout=30)
        self.write(QUEUED_TOO)

    def try_now(self):
        """Bob is back, but cannot reach Alice by himself (the SOCKS server
        does not know her now): "Try Now" reaches him at once."""
        a = self.alice
        self.socks.remove(a.address)
        self.bob = tcui.Instance("bob", self.tmp, self.node_args)
        a.call("click", role="push button", name="Contact Menu")
        a.call("click", role="menu item", name="Contact Details")
        a.call("wait", role="frame", name="Contact Details")
        # A retry some seconds ahead, so that "at once" means something;
        # until then Alice's attempts still go to Bob's old port.
        at, text = self.tries_again(after=None, ahead=6, timeout=60)
        note("waiting: %r" % text)
        self.socks.add(self.bob.address, self.bob.port)
        check(not self.contact(a, self.bob.address)["connected"], "still offline for Alice")
        clicked = a.call("click", role="push button", name="Try Now", window="Contact Details")
        a.call("wait", role="label", name="Connected", window="Contact Details", timeout=10)
        now = datetime.datetime.now()
        note("connected %.1f s after the click, %.1f s before the retry"
             % (time.monotonic() - clicked["clicked"], (at - now).total_seconds()))
        check(now < at, "connected before the retry time %s (now %s)" % (at.time(), now.time()))
        a.call("wait", role="push button", name="Try Now", window="Contact Details", gone=True)
        a.call("click", role="push button", name="Close", window="Contact Details")
        a.call("wait", role="frame", name="Contact Details", gone=True)
        a.call("focus_window", title="TORChat")
        a.call("wait", role="label", name="Available", window="TORChat", timeout=10)
        self.socks.add(a.address, a.port)

    def delivered(self):
        a = self.alice
        a.call("wait", role="image", name="Waiting to be sent", gone=True, timeout=30)
        check(len(a.call("find", role="image", name="Delivered")["items"]) == 2,
              "both messages delivered")
        wait_until(lambda: QUEUED_TOO in self.bob.cli("history", a.address).stdout, timeout=10,
                   what="the message in Bob's history")
        check(self.contact(a, self.bob.address)["outbox"] == 0, "Alice's outbox is empty")


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    t = ContactState()
    try:
        for name in ("online", "connecting", "offline", "stays_offline", "details_say_when", "tooltip_follows",
                     "message_waits", "comes_back", "state_tooltip_follows", "offline_again",
                     "try_now", "delivered"):
            before = tap.failed
            tap.case(name.replace("_", " "), getattr(t, name))
            if tap.failed > before:
                t.dump()
                break
    finally:
        t.stop()
        tcui.remove_tmpdir(t.tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
