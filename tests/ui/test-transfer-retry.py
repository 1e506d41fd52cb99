#!/usr/bin/python3
# test-transfer-retry.py: a file transfer that Bob's full disk pauses, and
# his "Retry" in the window once there is room again. Bob's download folder
# is a small tmpfs of its own; something else fills it while the file
# arrives (slowly, through the test SOCKS server); his window says why it
# paused and offers Retry; Retry while still full says so and changes
# nothing; the File Transfers window offers it too; once space is freed,
# Retry resumes from the partial file at once (only the missing bytes go)
# and the node completes it, checksum verified, the bytes equal to the
# sent file's. The file stream the full disk stopped ends at once.
#
# Mounting a tmpfs needs root (the tests run as root in CI); otherwise the
# test is skipped.
#
# Environment: TORCHAT_BINARY, TORCHAT_TEST_SOCKS, GSETTINGS_SCHEMA_DIR;
# TORCHAT_SCREENSHOT_DIR (optional) receives screenshots.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import errno
import json
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402

MB = 1024 * 1024
SIZE = 3 * MB
# Slow enough to fill the disk on the way, fast enough for the time limit.
RATE = 1 * MB


class Disk:
    """A 4 MiB tmpfs at @path, unmounted by umount() whatever happened."""

    def __init__(self, path):
        self.path = path
        self.mounted = False
        os.makedirs(path)
        if os.geteuid() != 0:
            raise tcui.Skip("mounting a small tmpfs needs root (id -u is %d)" % os.geteuid())
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m,mode=0700", "tmpfs", path],
                                capture_output=True, text=True)
        if result.returncode != 0:
            raise tcui.Skip("cannot mount a tmpfs: " + result.stderr.strip())
        self.mounted = True

    def fill(self):
        """Takes every free byte; returns the filler's path."""
        filler = os.path.join(self.path, "filler")
        zeros = b"\0" * 65536
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            while True:
                try:
                    os.write(fd, zeros)
                except OSError as e:
                    if e.errno != errno.ENOSPC:
                        raise
                    break
            # What is left after the last whole block.
            for size in (4096, 512, 1):
                while True:
                    try:
                        os.write(fd, b"\0" * size)
                    except OSError:
                        break
        finally:
            os.close(fd)
        return filler

    def umount(self):
        if self.mounted:
            # Lazily if something still has a file open there.
            if subprocess.run(["umount", self.path], capture_output=True).returncode != 0:
                subprocess.run(["umount", "-l", self.path], capture_output=True)
            self.mounted = False


class Retry(tcui.Pair):
    def __init__(self):
        super().__init__("torchat-ui-retry-")
        self.disk = None

    def transfer(self, who):
        result = who.cli("--json", "transfers")
        check(result.returncode == 0, "transfers: %s" % result.stderr)
        found = [t for t in json.loads(result.stdout) if t["id"] == self.tid]
        return found[0] if found else None

    def state(self, who):
        t = self.transfer(who)
        return t["state"] if t else None

    def streams_to_bob(self):
        """How many bytes the SOCKS server carried to Bob on each connection
        that has ended, in order."""
        name = self.bob.address[:8]
        with open(self.socks.log_path) as f:
            return [int(m.group(1)) for m in
                    (re.match(r"tc-test-socks: BYTES %s\S* (\d+)" % re.escape(name), line)
                     for line in f) if m]

    # The cases, in order.

    def small_disk(self):
        self.disk = Disk(os.path.join(self.tmp, "bob-disk"))
        result = self.bob.cli("download-dir", self.disk.path)
        check(result.returncode == 0, "bob's download folder: %s" % result.stderr)
        tcui.befriend(self)
        # Bob's side of the file streams, throttled.
        self.socks.add(self.bob.address, self.bob.port, RATE)

    def accept(self):
        a, b = self.alice, self.bob
        self.sent = os.path.join(self.tmp, "big.bin")
        with open(self.sent, "wb") as f:
            f.write(os.urandom(SIZE))
        result = a.cli("send-file", b.address, self.sent)
        check(result.returncode == 0, "send-file: %s" % result.stderr)
        self.tid = result.stdout.splitlines()[0].strip()
        b.call("click", role="label", name="Alice")
        b.call("wait", role="label", name="big.bin", timeout=30)
        self.ended_before = len(self.streams_to_bob())
        b.call("click", role="push button", name="Accept")
        wait_until(lambda: (self.transfer(b) or {}).get("done", 0) >= MB, timeout=30,
                   what="a first megabyte at Bob's")

    def disk_full_pauses(self):
        a, b = self.alice, self.bob
        self.filler = self.disk.fill()
        note("the disk is full: %s" % subprocess.run(["df", "-k", self.disk.path], capture_output=True,
                                                     text=True).stdout.splitlines()[-1])
        wait_until(lambda: self.state(b) == "paused" and self.state(a) == "paused", timeout=30,
                   what="the transfer to pause on both sides")
        self.paused_at = time.monotonic()
        theirs, ours = self.transfer(a), self.transfer(b)
        note("Alice: %s; Bob: %s" % (theirs.get("error"), ours.get("error")))
        check("disk-full" in (theirs.get("error") or ""), "Alice hears why: %r" % theirs)
        self.partial = ours["done"]
        check(MB <= self.partial < SIZE, "Bob keeps a partial file: %d" % self.partial)
        # The window says why, and offers to retry.
        b.call("wait", role="label", contains="Paused: Not enough space in", timeout=10)
        b.call("wait", role="push button", name="Retry")
        # All of it, wrapped over lines: the conversation's transfer list
        # is as tall as its rows at the width it has.
        clip = b.call("clip", role="label", contains="Paused: Not enough space in")
        note("the reason's line: %r" % clip)
        check(clip["visible"] == clip["extents"], "the reason is not cut off: %r" % clip)
        self.screenshot(b, "transfer-disk-full.png")
        # The file stream ends at once: the bytes on their way to a full
        # disk are not carried on (over Tor, minutes of a circuit).
        first = wait_until(lambda: self.streams_to_bob()[self.ended_before:], timeout=5,
                           what="the file stream to end")
        check(len(first) == 1, "one file stream so far: %r" % first)
        note("%d bytes carried to Bob on the first file stream, %d kept" % (first[0], self.partial))
        # What the stream had read ahead of the disk, not the whole file
        # (SIZE * 4 / 3 in base64) as when it ended by a close that waited.
        check(first[0] < self.partial * 4 // 3 + 3 * MB // 2,
              "no more than the bytes in flight: %d" % first[0])
        self.ended_before += 1

    def retry_while_full(self):
        b = self.bob
        b.call("click", role="push button", name="Retry")
        # A toast says how much is missing (the row's line says it after
        # "Paused: ").
        toast = wait_until(lambda: [l["name"] for l in
                                    b.call("find", role="label", contains="Not enough space in")["items"]
                                    if l["name"].startswith("Not enough space in")],
                           timeout=10, what="the toast that says why")
        note("toast: %r" % toast[0])
        t = self.transfer(b)
        check(t["state"] == "paused" and t["done"] == self.partial,
              "still paused, nothing lost: %r" % t)
        b.call("wait", role="push button", name="Retry")

    def transfers_window(self):
        """The File Transfers window says the same and offers Retry too."""
        b = self.bob
        b.call("focus_window", title="TORChat")
        b.call("key", keys=["ctrl+shift+t"])
        b.call("wait", role="frame", name="File Transfers")
        b.call("wait", role="label", contains="Paused: Not enough space in", window="File Transfers")
        b.call("wait", role="push button", name="Retry", window="File Transfers")
        b.call("click", role="push button", name="Close", window="File Transfers")
        b.call("wait", role="frame", name="File Transfers", gone=True)

    def retry_resumes(self):
        a, b = self.alice, self.bob
        # Alice offers again by herself, 2, 4, 8 s after each disk-full
        # answer: this far into it, her next offer is seconds away, and
        # what resumes at once is Bob's Retry.
        time.sleep(max(0, self.paused_at + 8 - time.monotonic()))
        os.unlink(self.filler)
        self.socks.add(self.bob.address, self.bob.port)
        clicked = b.call("click", role="push button", name="Retry")["clicked"]
        wait_until(lambda: (self.transfer(b) or {}).get("done", 0) > self.partial or
                   self.state(b) == "done", timeout=10, what="the transfer to go on")
        resumed = time.monotonic() - clicked
        note("resumed %.1f s after the click" % resumed)
        check(resumed < 4, "Retry resumed it at once (%.1f s)" % resumed)
        b.call("wait", role="push button", name="Retry", gone=True)
        wait_until(lambda: self.state(b) == "done" and self.state(a) == "done", timeout=30,
                   what="the transfer to complete on both sides")
        b.call("wait", role="label", contains="Received", timeout=10)
        received = self.transfer(b)["path"]
        check(os.path.dirname(received) == self.disk.path, "in Bob's folder: %s" % received)
        check(tcui.sha256(received) == tcui.sha256(self.sent), "the received file is the sent one")
        check([n for n in os.listdir(self.disk.path) if n.endswith(".part")] == [],
              "no partial file left")
        # Only the rest went again: the whole file once more would be at
        # least the partial file's base64 more.
        # Only the rest went again (base64, 4 bytes for 3).
        second = wait_until(lambda: self.streams_to_bob()[self.ended_before:], timeout=15,
                            what="the second file stream to end")
        note("%d bytes carried on the second file stream for %d missing"
             % (second[0], SIZE - self.partial))
        check(second[0] < (SIZE - self.partial) * 4 // 3 + 100000,
              "resumed from the partial file (%d bytes carried)" % second[0])
        self.screenshot(b, "transfer-retried.png")


def main():
    tcui.require_tools()
    # meson's timeout ends the test with SIGTERM: unmount all the same.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(1))
    tap = tcui.Tap()
    t = Retry()
    try:
        for name in ("small_disk", "accept", "disk_full_pauses", "retry_while_full",
                     "transfers_window", "retry_resumes"):
            before, skipped = tap.failed, t.disk is None
            tap.case(name.replace("_", " "), getattr(t, name))
            if tap.failed > before:
                t.dump()
                break
            if skipped and (t.disk is None or not t.disk.mounted):
                break
    finally:
        try:
            t.stop()
        finally:
            if t.disk is not None:
                t.disk.umount()
            tcui.remove_tmpdir(t.tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
