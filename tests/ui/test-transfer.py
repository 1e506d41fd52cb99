#!/usr/bin/python3
# test-transfer.py: file transfer in two real torchat windows, each under its
# own Xvfb and D-Bus session, through the test SOCKS server. Alice offers
# files from outside (`torchat send-file`); Bob is notified, sees the offer
# in the conversation and answers it in his window.
#
# Environment: TORCHAT_BINARY, TORCHAT_TEST_SOCKS, GSETTINGS_SCHEMA_DIR;
# TORCHAT_SCREENSHOT_DIR (optional) receives screenshots.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402


def write_png(path, width, height):
    """A real PNG of noise: an image Bob's window can thumbnail, big enough
    (≈ 700 kB) to travel in several chunks."""
    raw = b"".join(b"\0" + os.urandom(width * 3) for _ in range(height))
    tcui.write_png(path, width, height, raw)


class Transfer(tcui.Pair):
    def __init__(self):
        super().__init__("torchat-ui-transfer-")
        self.downloads = os.path.join(self.tmp, "bob-downloads")
        os.makedirs(self.downloads)
        result = self.bob.cli("download-dir", self.downloads)
        check(result.returncode == 0, "bob's download folder: %s" % result.stderr)

    def transfers(self, who):
        result = who.cli("--json", "transfers")
        check(result.returncode == 0, "transfers: %s" % result.stderr)
        return json.loads(result.stdout)

    def send_file(self, path):
        result = self.alice.cli("send-file", self.bob.address, path)
        check(result.returncode == 0, "send-file: %s" % result.stderr)
        return result.stdout.splitlines()[0].strip()

    # The cases, in order.

    def become_contacts(self):
        check(self.alice.cli("add", self.bob.address, "Bob").returncode == 0, "alice adds bob")
        wait_until(lambda: self.bob.cli("accept", self.alice.address).returncode == 0,
                   what="bob to get alice's request")
        # Both windows list the other as a contact that can be written to.
        self.alice.call("wait", role="label", name="Bob", timeout=60)
        self.bob.call("wait", role="label", name="Alice", timeout=60)

    def offer_notifies(self):
        self.picture = os.path.join(self.tmp, "holiday.png")
        write_png(self.picture, 480, 480)
        self.tid = self.send_file(self.picture)
        size = os.path.getsize(self.picture)
        note("offered %s, %d bytes" % (self.tid, size))
        shown = wait_until(lambda: [n for n in self.bob.notifications("notify")
                                    if n["summary"] == "Alice wants to send you a file"],
                           timeout=60, what="the offer notification")
        check(shown[-1]["body"].startswith("holiday.png ("), "the body names the file: %r" % shown[-1]["body"])
        check("default" in shown[-1]["actions"], "clicking it is an action")
        self.notification_id = shown[-1]["id"]

    def notification_opens_offer(self):
        b = self.bob
        b.call("invoke_action", id=self.notification_id, action="default")
        b.call("wait", role="label", name="holiday.png")
        b.call("wait", role="label", contains="Wants to send you this file")
        b.call("wait", role="push button", name="Decline")
        self.screenshot(b, "transfer-offer.png")

    def accept(self):
        b = self.bob
        b.call("click", role="push button", name="Accept")
        b.call("wait", role="push button", name="Accept", gone=True)
        b.call("wait", role="label", contains="Received", timeout=60)
        b.call("wait", role="push button", name="Open File")
        b.call("wait", role="push button", name="Open Folder")
        # The thumbnail, named after the file.
        b.call("wait", role="image", name="holiday.png", timeout=30)
        received = os.path.join(self.downloads, "holiday.png")
        check(os.path.exists(received), "the file is in bob's download folder")
        check(tcui.sha256(received) == tcui.sha256(self.picture),
              "the received file has the same SHA-256")
        # The sender's view of it.
        done = [t for t in self.transfers(self.alice) if t["id"] == self.tid]
        check(done and done[0]["state"] == "done", "alice's transfer is done: %r" % done)
        self.screenshot(b, "transfer-received.png")

    def decline(self):
        a, b = self.alice, self.bob
        other = os.path.join(self.tmp, "notes.bin")
        with open(other, "wb") as f:
            f.write(os.urandom(300000))
        tid = self.send_file(other)
        b.call("wait", role="label", name="notes.bin", timeout=60)
        # The newest offer scrolls into view.
        b.call("wait", role="push button", name="Decline", timeout=10)
        b.call("click", role="push button", name="Decline")
        b.call("wait", role="label", contains="Declined")
        # Alice opens her conversation with Bob: her row says declined.
        a.call("click", role="label", name="Bob")
        a.call("wait", role="label", name="notes.bin")
        a.call("wait", role="label", contains="Declined", timeout=60)
        state = [t["state"] for t in self.transfers(a) if t["id"] == tid]
        check(state == ["declined"], "alice's transfer is declined: %r" % state)
        check(not os.path.exists(os.path.join(self.downloads, "notes.bin")), "nothing landed")

    def offered_by_alice(self, name):
        """Alice's outgoing transfer of a file called @name, once there."""
        return wait_until(lambda: [t for t in self.transfers(self.alice)
                                   if t["name"] == name and t["direction"] == "outgoing"],
                          timeout=30, what="alice's transfer of %s" % name)[0]

    def paste_file(self):
        """A file copied in a file manager (a text/uri-list on the
        clipboard) and pasted into the composer is sent, not pasted as
        text."""
        a, b = self.alice, self.bob
        if shutil.which("xclip") is None:
            raise tcui.Skip("xclip is not installed (.ci/setup.sh test installs it)")
        path = os.path.join(self.tmp, "pasted notes.txt")
        with open(path, "w") as f:
            f.write("copied in a file manager, pasted into the conversation\n" * 2000)
        env = dict(os.environ, DISPLAY=a.xvfb.display)
        # xclip owns the clipboard until it is killed.
        owner = subprocess.Popen(["xclip", "-selection", "clipboard", "-t", "text/uri-list", "-i"],
                                 stdin=subprocess.PIPE, env=env, text=True)
        try:
            owner.stdin.write(pathlib.Path(path).as_uri() + "\r\n")
            owner.stdin.close()
            a.call("click", role="text", name="Message")
            a.call("key", keys=["ctrl+v"])
            t = self.offered_by_alice("pasted notes.txt")
        finally:
            owner.terminate()
            owner.wait(10)
        check(t["peer"] == b.address and t["size"] == os.path.getsize(path),
              "the pasted file is offered to bob: %r" % t)
        a.call("wait", role="label", name="pasted notes.txt", timeout=30)
        b.call("wait", role="label", name="pasted notes.txt", timeout=60)
        # Not pasted as text: the composer is still empty.
        composer = a.call("find", role="text", name="Message")["items"]
        check(composer and not composer[0].get("text"), "the composer holds no text: %r" % composer)

    def file_chooser(self):
        """Send Files opens the file chooser; a path typed into its location
        (Ctrl+L) is sent."""
        a, b = self.alice, self.bob
        path = os.path.join(self.tmp, "chosen.bin")
        with open(path, "wb") as f:
            f.write(os.urandom(200000))
        a.call("click", role="push button", name="Send Files")
        # GTK 4.8 gives its file chooser dialog the role "filler".
        a.call("wait", role="filler", name="Send Files")
        a.call("focus_window", title="Send Files")
        a.call("key", keys=["ctrl+l"])
        # The location entry is there and holds the whole path before Enter.
        a.call("wait", role="text", window="Send Files")
        a.call("type", text=path)
        a.call("wait", role="text", window="Send Files", text_contains=path)
        # Enter goes to the typed file's folder and selects the file while
        # that folder loads; once it is shown, Enter again sends it, as for a
        # user who presses it twice. Whether it went is asked of the node:
        # walking the accessibility tree while the dialog is destroyed has
        # crashed GTK 4.8 here.
        for attempt in range(4):
            a.call("key", keys=["Return"])
            time.sleep(2)
            if [t for t in self.transfers(a) if t["name"] == "chosen.bin"]:
                break
        t = self.offered_by_alice("chosen.bin")
        check(t["peer"] == b.address and t["size"] == 200000,
              "the chosen file is offered to bob: %r" % t)
        b.call("wait", role="label", name="chosen.bin", timeout=60)

    def transfers_window(self):
        b = self.bob
        # Also in the main menu; Ctrl+Shift+T is its key.
        b.call("key", keys=["ctrl+shift+t"])
        b.call("wait", role="frame", name="File Transfers")
        b.call("wait", role="label", name="holiday.png", window="File Transfers")
        b.call("wait", role="label", name="notes.bin", window="File Transfers")
        self.screenshot(b, "transfers-window.png")


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    t = Transfer()
    try:
        for name in ("become_contacts", "offer_notifies", "notification_opens_offer", "accept",
                     "decline", "paste_file", "file_chooser", "transfers_window"):
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
