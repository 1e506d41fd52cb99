#!/usr/bin/python3
# test-unread-restart.py: the unread badge survives a restart. Bob closes
# his window; his node runs headless while Alice writes him three messages
# from her window; when Bob's window starts again, Alice's row carries the
# badge "3" (and says so to a screen reader); opening the conversation
# clears it, and after another restart it stays cleared.
#
# Environment: TORCHAT_BINARY, TORCHAT_TEST_SOCKS, GSETTINGS_SCHEMA_DIR.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402

MESSAGES = ["First while your window is closed",
            "Second one, the node takes it",
            "Third and last for the badge"]


class Unread(tcui.Pair):
    def __init__(self):
        super().__init__("torchat-ui-unread-")
        self.node_args = ["--listen", "127.0.0.1:0", "--socks", self.socks.address]
        tcui.befriend(self)
        self.headless = None

    def row(self, who):
        """Alice's row in @who's sidebar, as a screen reader has it: the
        list's cell, which takes the keyboard focus."""
        rows = [r for r in who.call("find", contains="Alice, ", window="TORChat")["items"]
                if r["role"] == "table cell"]
        check(len(rows) == 1, "one row for Alice: %r" % rows)
        return rows[0]["name"]

    def restart_bob(self):
        self.bob.stop()
        self.bob = tcui.Instance("bob", self.tmp, self.node_args)
        self.socks.add(self.bob.address, self.bob.port)
        self.bob.call("wait", role="label", name="Alice", timeout=30)

    def no_badge_before(self):
        b = self.bob
        b.call("wait", role="label", name="Alice")
        name = self.row(b)
        check("unread" not in name, "no unread count yet: %r" % name)

    def messages_while_closed(self):
        a, b = self.alice, self.bob
        b.stop()
        self.headless = tcui.Headless(b, self.node_args)
        self.socks.add(self.headless.address, self.headless.port)
        a.call("click", role="label", name="Bob")
        a.call("click", role="text", name="Message")
        for text in MESSAGES:
            a.call("type", text=text)
            a.call("key", keys=["Return"])
            a.call("wait", role="label", name=text)
        # Bob's node has them, with no window to show them in.
        wait_until(lambda: all(t in b.cli("history", a.address).stdout for t in MESSAGES),
                   timeout=60, what="the three messages to reach Bob's headless node")
        a.call("wait", role="image", name="Delivered", timeout=30)
        check(self.headless.stop() == 0, "the headless node stopped cleanly")
        self.headless = None

    def badge_after_restart(self):
        self.restart_bob()
        b = self.bob
        b.call("wait", role="label", name="3", window="TORChat", timeout=20)
        name = wait_until(lambda: "unread" in self.row(b) and self.row(b),
                          timeout=10, what="the row to tell the count")
        note("Alice's row: %r" % name)
        check(name.endswith(", 3 unread messages"), "the row says 3 unread: %r" % name)
        # The last of them under her name.
        b.call("wait", role="label", name=MESSAGES[-1], window="TORChat")
        if self.shots:
            self.screenshot(b, "unread-badge.png")

    def opening_clears(self):
        b = self.bob
        b.call("click", role="label", name="Alice")
        for text in MESSAGES:
            b.call("wait", role="label", name=text, window="TORChat")
        b.call("wait", role="label", name="3", window="TORChat", gone=True, timeout=10)
        wait_until(lambda: "unread" not in self.row(b), timeout=10, what="the row to drop the count")

    def cleared_after_restart(self):
        self.restart_bob()
        b = self.bob
        # Give the window time to show whatever it would.
        b.call("wait", role="label", name="Available", window="TORChat", timeout=30)
        time.sleep(1.5)
        check(not b.call("find", role="label", name="3", window="TORChat")["items"],
              "no badge after the restart")
        name = self.row(b)
        check("unread" not in name, "no unread count after the restart: %r" % name)

    def stop(self):
        if self.headless is not None:
            self.headless.stop()
        super().stop()


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    try:
        unread = Unread()
    except Exception as e:
        print("Bail out! %s" % e, flush=True)
        return 1
    try:
        failed = False
        for name in ("no_badge_before", "messages_while_closed", "badge_after_restart",
                     "opening_clears", "cleared_after_restart"):
            if failed:
                tap.case(name, lambda: (_ for _ in ()).throw(tcui.Skip("an earlier step failed")))
                continue
            before = tap.failed
            tap.case(name.replace("_", "-"), getattr(unread, name))
            if tap.failed > before:
                failed = True
                unread.dump()
    finally:
        unread.stop()
        if not tap.failed:
            tcui.remove_tmpdir(unread.tmp)
        else:
            note("kept " + unread.tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
