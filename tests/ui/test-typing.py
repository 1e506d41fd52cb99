#!/usr/bin/python3
# test-typing.py: "Typing…" in the real torchat windows of Alice and Bob
# (each under its own Xvfb and D-Bus session, through the test SOCKS server).
# It shows on Bob's contact row and conversation header while Alice types,
# ends on her pause (she says "paused" 5 s after her last keystroke), ends
# 20 s after the last "composing" when she never says more (her window is
# stopped with SIGSTOP, her stream stays up), and ends at once when her
# message arrives (docs/architecture.md); and it stays while she keeps
# typing for longer than those 20 s (she says "composing" again every 10 s).
#
# Environment: TORCHAT_BINARY, TORCHAT_TEST_SOCKS, GSETTINGS_SCHEMA_DIR.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note  # noqa: E402

TYPING = "Typing…"
PAUSE = 5        # src/app/tc-window-conversation.c: TYPING_PAUSE_SECONDS
TIMEOUT = 20     # docs/architecture.md: 20 s after the last "composing"


class Typing(tcui.Pair):
    def __init__(self):
        super().__init__("torchat-ui-typing-")
        tcui.befriend(self)

    def shown(self, who):
        """Where @who's window says "Typing…": the row, the header."""
        return len(who.call("find", role="label", name=TYPING, window="TORChat")["items"])

    def open_conversations(self):
        a, b = self.alice, self.bob
        a.call("click", role="label", name="Bob")
        a.call("wait", role="text", name="Message")
        b.call("click", role="label", name="Alice")
        b.call("wait", role="text", name="Message")
        # Available, and nobody types yet.
        b.call("wait", role="label", name="Available")
        check(self.shown(b) == 0, "no Typing… before Alice types")

    def typing_then_pause(self):
        a, b = self.alice, self.bob
        a.call("click", role="text", name="Message")
        a.call("type", text="Let me think about")
        last_key = time.monotonic()
        b.call("wait", role="label", name=TYPING, timeout=15)
        # The sidebar row and the conversation's header both say it.
        tcui.wait_until(lambda: self.shown(b) == 2, timeout=10, what="Typing… in row and header")
        # Still typing a second after the last keystroke: a pause is longer.
        time.sleep(max(0, last_key + 2 - time.monotonic()))
        check(self.shown(b) == 2, "Typing… stays while Alice merely hesitates")
        b.call("wait", role="label", name=TYPING, gone=True, timeout=PAUSE + 8)
        ended = time.monotonic() - last_key
        note("Typing… ended %.1f s after the last keystroke" % ended)
        # Her pause ended it, not Bob's 20 s timeout.
        check(PAUSE - 1 <= ended < TIMEOUT - 5, "ended by the pause: %.1f s" % ended)
        # Typing on shows it again.
        a.call("type", text=" it")
        b.call("wait", role="label", name=TYPING, timeout=15)

    def long_typing(self):
        a, b = self.alice, self.bob
        b.call("wait", role="label", name=TYPING, gone=True, timeout=PAUSE + 8)
        a.call("type", text=" and")
        b.call("wait", role="label", name=TYPING, timeout=15)
        # A long message: a keystroke a second, for longer than the timeout.
        start = time.monotonic()
        while time.monotonic() - start < TIMEOUT + 7:
            a.call("type", text=".")
            time.sleep(1)
            shown = self.shown(b)
            check(shown == 2, "Typing… all along while Alice keeps typing; at %.1f s: %d" % (
                time.monotonic() - start, shown))

    def timeout_without_word(self):
        a, b = self.alice, self.bob
        # From a pause, so that the next keystroke sends a new "composing".
        b.call("wait", role="label", name=TYPING, gone=True, timeout=PAUSE + 8)
        pid = a.call("pid")["pid"]
        a.call("type", text=" more")
        b.call("wait", role="label", name=TYPING, timeout=15)
        # Bob's clock started when that "composing" came, just before now.
        composing = time.monotonic()
        # Alice's window stops dead before her pause: no "paused", nothing
        # more. Her stream stays open (pings come after 120 s): she stays
        # online.
        os.kill(pid, signal.SIGSTOP)
        try:
            time.sleep(max(0, composing + PAUSE + 3 - time.monotonic()))
            check(self.shown(b) == 2, "Typing… stays while Alice says nothing")
            b.call("wait", role="label", name=TYPING, gone=True, timeout=TIMEOUT + 10)
            ended = time.monotonic() - composing
            note("Typing… ended %.1f s after the last composing, Alice silent" % ended)
            check(ended >= TIMEOUT - 3, "ended by the timeout: %.1f s" % ended)
            check(b.call("find", role="label", name="Available", window="TORChat")["items"],
                  "Alice is still online: the timeout ended it, not a lost stream")
        finally:
            os.kill(pid, signal.SIGCONT)

    def message_ends_it(self):
        a, b = self.alice, self.bob
        a.call("key", keys=["ctrl+a", "BackSpace"])
        a.call("type", text="Here it comes")
        b.call("wait", role="label", name=TYPING, timeout=15)
        a.call("key", keys=["Return"])
        b.call("wait", role="label", name="Here it comes", timeout=30)
        arrived = time.monotonic()
        b.call("wait", role="label", name=TYPING, gone=True, timeout=PAUSE)
        note("Typing… ended %.1f s after the message showed" % (time.monotonic() - arrived))
        check(time.monotonic() - arrived < 2, "at once with the message")


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    try:
        typing = Typing()
    except Exception as e:
        print("Bail out! %s" % e, flush=True)
        return 1
    try:
        failed = False
        for name in ("open_conversations", "typing_then_pause", "long_typing", "timeout_without_word",
                     "message_ends_it"):
            if failed:
                tap.case(name, lambda: (_ for _ in ()).throw(tcui.Skip("an earlier step failed")))
                continue
            before = tap.failed
            tap.case(name.replace("_", "-"), getattr(typing, name))
            if tap.failed > before:
                failed = True
                typing.dump()
    finally:
        typing.stop()
        if not tap.failed:
            tcui.remove_tmpdir(typing.tmp)
        else:
            note("kept " + typing.tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
