#!/usr/bin/python3
# test-search.py: searching the history in the window, as a person would:
# Ctrl+F in a long conversation finds a message far above what is loaded,
# choosing the result shows it; a word that is nowhere says so; the search
# through every conversation from the main menu. Then the disk of Bob's
# profile fills (a small tmpfs of its own, where the test may mount one):
# the window says so, and stops saying so once there is room again.
#
# Environment: TORCHAT_BINARY, TORCHAT_TEST_SOCKS, GSETTINGS_SCHEMA_DIR.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402

COUNT = 400
# Far above the newest: the conversation keeps a few pages of 64 in memory.
DEEP = 7
SPECIAL = "Message number %d of a long conversation, about the xylophone lesson" % DEEP
NEWEST = "Message number %d of a long conversation" % COUNT


def line(i):
    return SPECIAL if i == DEEP else "Message number %d of a long conversation" % i


class Search(tcui.Pair):
    def __init__(self):
        # tcui.Pair, with Bob's profile on a disk of its own when possible.
        self.tmp = tcui.make_tmpdir("torchat-ui-search-")
        self.disk = os.path.join(self.tmp, "bob-disk")
        os.makedirs(self.disk)
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs", self.disk],
                                 capture_output=True, text=True)
        self.mounted = mounted.returncode == 0
        if not self.mounted:
            note("no disk of its own for Bob: " + mounted.stderr.strip())
        self.socks = tcui.Socks(self.tmp)
        node_args = ["--listen", "127.0.0.1:0", "--socks", self.socks.address]
        self.alice = tcui.Instance("alice", self.tmp, node_args)
        self.bob = tcui.Instance("bob", self.tmp, node_args, profile=os.path.join(self.disk, "profile"),
                                 passphrase=tcui.PASSPHRASE)
        for who in (self.alice, self.bob):
            self.socks.add(who.address, who.port)
        check(self.alice.cli("profile", "Alice").returncode == 0, "alice profile")
        check(self.bob.cli("profile", "Bob").returncode == 0, "bob profile")
        self.shots = os.environ.get("TORCHAT_SCREENSHOT_DIR")

    def stop(self):
        super().stop()
        if self.mounted:
            subprocess.run(["umount", self.disk])

    def shown(self, text):
        """How many labels on Bob's screen read @text (the sidebar's preview
        of the last message is one of them)."""
        return len(self.bob.call("find", role="label", name=text, window="TORChat")["items"])

    def long_history(self):
        a, b = self.alice, self.bob
        check(a.cli("add", b.address, "Bob").returncode == 0, "alice adds bob")
        wait_until(lambda: b.cli("accept", a.address).returncode == 0, what="bob to get alice's request")
        b.call("wait", role="label", name="Alice", timeout=60)
        lines = "".join(line(i) + "\n" for i in range(1, COUNT + 1))
        sent = subprocess.run([tcui.binary(), "--profile", a.profile, "send", b.address, "-"],
                              input=lines, capture_output=True, text=True, timeout=60)
        check(sent.returncode == 0, "send -: " + sent.stderr)
        wait_until(lambda: NEWEST in b.cli("history", a.address).stdout,
                   timeout=120, what="the messages to reach Bob")
        b.call("click", role="label", contains="Alice")
        # Opened at the newest; the one to find is far above.
        wait_until(lambda: self.shown(NEWEST) == 2, what="the newest message in view")
        check(self.shown(SPECIAL) == 0, "the deep message is not in view")

    def search_conversation(self):
        b = self.bob
        b.call("key", keys=["ctrl+f"])
        b.call("wait", role="entry", name="Search in Conversation")
        b.call("type", text="xylophone")
        b.call("wait", role="label", name="1 message found")
        result = b.call("wait", role="list item", contains="xylophone")["item"]
        note("result: " + result["name"])
        check("Alice" in result["name"], "the result names who wrote it: %r" % result["name"])
        self.screenshot(b, "search-conversation.png")
        b.call("click", role="label", name=SPECIAL)
        # The search closes; the conversation shows the message, scrolled
        # there from the bottom.
        b.call("wait", role="entry", name="Search in Conversation", gone=True)
        b.call("wait", role="label", name=SPECIAL, timeout=10)
        wait_until(lambda: self.shown(NEWEST) == 1, what="the view to leave the newest message")
        item = b.call("wait", role="label", name=SPECIAL)["item"]
        list_box = b.call("find", role="table", name="Messages")["items"][0]["extents"]
        top, height = item["extents"][1], item["extents"][3]
        check(list_box[1] <= top and top + height <= list_box[1] + list_box[3],
              "the message is inside the conversation's view: %r in %r" % (item["extents"], list_box))

    def nothing_found(self):
        b = self.bob
        # The header's button opens the same search.
        b.call("click", role="push button", name="Search in Conversation")
        b.call("wait", role="entry", name="Search in Conversation")
        b.call("type", text="zebracornish")
        b.call("wait", role="label", name="No Messages Found")
        b.call("wait", role="label", name="No message in this conversation holds all of these words.")
        b.call("key", keys=["Escape"])
        b.call("wait", role="entry", name="Search in Conversation", gone=True)
        b.call("wait", role="label", name="No Messages Found", gone=True)
        b.call("wait", role="label", name=SPECIAL)

    def search_everywhere(self):
        b = self.bob
        b.call("key", keys=["Escape"])
        b.call("wait", role="label", name="No Conversation Selected")
        b.call("click", role="push button", name="Main Menu")
        b.call("click", role="menu item", name="Search Messages…")
        b.call("wait", role="frame", name="Search Messages")
        b.call("wait", role="entry", name="Search All Conversations", window="Search Messages")
        b.call("type", text="zebracornish")
        b.call("wait", role="label", name="No message holds all of these words.", window="Search Messages")
        b.call("key", keys=["ctrl+a", "BackSpace"])
        b.call("type", text="XYLOPHONE lesson")
        b.call("wait", role="label", name="1 message found", window="Search Messages")
        b.call("wait", role="label", name="Alice", window="Search Messages")
        b.call("click", role="label", name=SPECIAL, window="Search Messages")
        b.call("wait", role="frame", name="Search Messages", gone=True)
        b.call("focus_window", title="TORChat")
        b.call("wait", role="label", name=SPECIAL, window="TORChat", timeout=10)
        check(self.shown(NEWEST) == 1, "the conversation opened at the message, not at the bottom")

    def disk_full(self):
        a, b = self.alice, self.bob
        if not self.mounted:
            raise tcui.Skip("the test cannot mount a small disk for the profile")
        banner = "Messages cannot be saved"
        check(not b.call("find", role="label", contains=banner)["items"], "no banner while all is well")
        # Fill it: what is left for the profile is nothing.
        filler = os.path.join(self.disk, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while True:
                os.write(fd, b"\0" * 65536)
        except OSError:
            pass
        finally:
            os.close(fd)
        note("the profile's disk is full: %s" % subprocess.run(["df", "-h", self.disk], capture_output=True,
                                                               text=True).stdout.splitlines()[-1])
        try:
            # The database may still have room it took before (its log is
            # reused): what arrives fills that first.
            filler_text = " ".join(["Written while Bob's disk is full"] * 100)
            for burst in range(20):
                lines = "".join("%d %s\n" % (burst * 20 + i, filler_text) for i in range(20))
                sent = subprocess.run([tcui.binary(), "--profile", a.profile, "send", b.address, "-"],
                                      input=lines, capture_output=True, text=True, timeout=60)
                check(sent.returncode == 0, "send -: " + sent.stderr)
                if b.try_call("wait", role="label", contains=banner, timeout=5):
                    break
            note("full after %d bursts of 20 messages of 3 KB" % (burst + 1))
            b.call("wait", role="label", contains=banner, timeout=30)
            self.screenshot(b, "storage-failing.png")
        finally:
            os.unlink(filler)
        # Room again: the next change stored takes the banner away.
        started = time.monotonic()
        wait_until(lambda: b.cli("profile", "Bob").returncode == 0, what="Bob's node to store again")
        b.call("wait", role="label", contains=banner, gone=True, timeout=30)
        note("the banner went %.1f s after there was room" % (time.monotonic() - started))
        # And nothing was lost: Alice sends again what Bob could not store.
        def stored():
            return sum(1 for line in b.cli("history", a.address).stdout.splitlines()
                       if "Written while Bob" in line)

        wait_until(lambda: stored() == (burst + 1) * 20,
                   timeout=180, what="every message to reach Bob")


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    try:
        search = Search()
    except Exception as e:
        print("Bail out! %s" % e, flush=True)
        return 1
    try:
        failed = False
        for name in ("long_history", "search_conversation", "nothing_found", "search_everywhere",
                     "disk_full"):
            if failed:
                tap.case(name, lambda: (_ for _ in ()).throw(tcui.Skip("an earlier step failed")))
                continue
            before = tap.failed
            tap.case(name.replace("_", "-"), getattr(search, name))
            if tap.failed > before:
                failed = True
                search.dump()
    finally:
        search.stop()
        if not tap.failed:
            tcui.remove_tmpdir(search.tmp)
        else:
            note("kept " + search.tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
