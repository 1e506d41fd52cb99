#!/usr/bin/python3
# test-tor-restart.py: the real torchat window on its own tor, on the
# private Tor network (tests/tor-network.sh). Once Tor is through and the
# address reachable, its tor is killed with SIGKILL: the sidebar says "Tor
# stopped and is restarting…" until the node's new tor (restarted with
# back-off) is through again, then the banner goes; the window stays on the
# contacts, not the first-run Tor screen. And a proxy that refuses brings
# the Tor screen's advice, which leads to the preferences, where clearing the
# proxy gets Tor through; the window then moves on by itself. Without any
# contact, the empty state shows the same banner when tor is killed.
#
# Environment: TORCHAT_BINARY, TORCHAT_TOR_NETWORK (tor-network.sh),
# GSETTINGS_SCHEMA_DIR.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import base64
import hashlib
import os
import shutil
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402

RESTARTING = "Tor stopped and is restarting…"
# tc_tor_page_describe(): what the sidebar's banner may say.
BANNER_TEXTS = (RESTARTING, "Tor is stopped", "Starting Tor…", "Connecting to Tor…",
                "Your address is reachable", "Publishing your address…", "Tor could not start")


def onion_address(key):
    """A well-formed v3 address (nobody runs it): the key, its checksum, 3."""
    checksum = hashlib.sha3_256(b".onion checksum" + key + b"\x03").digest()[:2]
    return base64.b32encode(key + checksum + b"\x03").decode().lower()


class TorRestart:
    def __init__(self, tmp, torrc):
        self.tmp = tmp
        self.torrc = torrc
        self.dave = tcui.Instance("dave", tmp, ["--tor-config", torrc])
        self.fay = None

    def proxy_fixed(self):
        """Tor through, then a proxy that refuses (set on the command line):
        after the patience (3 s here) the Tor screen comes with its advice;
        the user follows it to the preferences and clears the proxy there;
        once Tor is through again the window moves on by itself."""
        self.fay = f = tcui.Instance("fay", self.tmp, ["--tor-config", self.torrc],
                                     env={"TORCHAT_TOR_PATIENCE": "3"})
        f.call("wait", role="label", name="No Contacts Yet", timeout=240)
        sock, port = tcui.closed_port()
        try:
            result = f.cli("proxy", "socks5://127.0.0.1:%d" % port)
            check(result.returncode == 0, "proxy: " + result.stderr)
            f.call("wait", role="label", name="Tor has not got through yet.", timeout=30)
            f.call("wait", role="label", contains="If your network blocks Tor, use bridges")
            f.call("wait", role="label", contains="SOCKS5 proxy server at 127.0.0.1:%d" % port,
                   timeout=20)
            f.call("click", role="push button", name="Tor Settings…")
            f.call("wait", role="frame", name="Preferences")
            f.call("click", role="text", name="Proxy", window="Preferences")
            f.call("key", keys=["ctrl+a", "BackSpace", "Return"])
            wait_until(lambda: f.cli("proxy").stdout.strip() in ("", "none"), timeout=10,
                       what="the proxy to be gone: %r" % f.cli("proxy").stdout)
            f.call("key", keys=["Escape"])
            f.call("wait", role="frame", name="Preferences", gone=True)
            f.call("focus_window", title="TORChat")
            f.call("wait", role="label", name="No Contacts Yet", timeout=120)
            check(f.cli("tor").stdout.startswith("ready"), "through: %r" % f.cli("tor").stdout)
        finally:
            sock.close()

    def killed_empty(self):
        """Fay has no contacts yet: the "No Contacts Yet" page shows Tor's
        state too when her tor is killed, and drops it once Tor is back."""
        f = self.fay
        f.call("wait", role="label", name="No Contacts Yet", timeout=60)
        wait_until(lambda: "reachable" in f.cli("tor").stdout, timeout=240,
                   what="Fay's Tor to publish her address")
        f.call("wait", role="push button", name="Details", window="TORChat", gone=True, timeout=30)
        pids = tcui.tor_processes(f.profile)
        check(len(pids) == 1, "one tor of Fay's window: %r" % pids)
        os.kill(pids[0], signal.SIGKILL)
        f.call("wait", role="label", contains=RESTARTING, window="TORChat", timeout=15)
        f.call("wait", role="push button", name="Details", window="TORChat")
        check(f.call("find", role="label", name="No Contacts Yet", window="TORChat")["items"],
              "the window stays on the empty state")
        f.call("wait", role="push button", name="Details", window="TORChat", gone=True, timeout=120)
        f.stop()
        self.fay = None

    def through(self):
        d = self.dave
        # A contact, so that the window is the sidebar, not the empty state.
        check(d.cli("add", onion_address(bytes(range(32))), "Erin").returncode == 0, "add Erin")
        d.call("wait", role="label", name="Erin", timeout=240)
        status = wait_until(lambda: "reachable" in d.cli("tor").stdout and d.cli("tor").stdout,
                            timeout=240, what="Tor to get through and publish the address")
        note("torchat tor: " + status.strip().replace("\n", " | "))
        d.call("wait", role="push button", name="Details", window="TORChat", gone=True, timeout=30)

    def killed(self):
        d = self.dave
        pids = tcui.tor_processes(d.profile)
        check(len(pids) == 1, "one tor of the window's own: %r" % pids)
        os.kill(pids[0], signal.SIGKILL)
        killed = time.monotonic()
        d.call("wait", role="label", contains=RESTARTING, window="TORChat", timeout=15)
        note("the banner said it %.1f s after the kill" % (time.monotonic() - killed))
        # The way back to the Tor screen is offered, not forced.
        d.call("wait", role="push button", name="Details", window="TORChat")
        d.call("wait", role="label", name="Erin", window="TORChat")
        check(not d.call("find", role="progress bar", name="Tor Progress")["items"],
              "the window stays on the contacts")
        self.shot("tor-restarting.png")
        # What the banner says until it goes: "restarting" all along while
        # the new tor starts and bootstraps, never a first "Starting Tor…"
        # or "Connecting to Tor…"; then, maybe, "Publishing your address…".
        seen = []
        deadline = time.monotonic() + 120
        while d.call("find", role="push button", name="Details", window="TORChat")["items"]:
            check(time.monotonic() < deadline, "the banner went within 120 s: %r" % seen)
            for label in d.call("find", role="label", window="TORChat")["items"]:
                if label["name"].startswith(BANNER_TEXTS) and (not seen or seen[-1] != label["name"]):
                    seen.append(label["name"])
        note("back %.1f s after the kill; the banner said %r" % (time.monotonic() - killed, seen))
        # ("reachable" may show while the banner slides away.)
        check(all(t.startswith((RESTARTING, "Publishing your address…", "Your address is reachable"))
                  for t in seen), "only restarting, then publishing: %r" % seen)
        new = [p for p in tcui.tor_processes(d.profile) if p != pids[0]]
        check(new, "a new tor runs")
        check("reachable" in d.cli("tor").stdout, "torchat tor says reachable")

    def shot(self, name):
        shots = os.environ.get("TORCHAT_SCREENSHOT_DIR")
        if shots:
            os.makedirs(shots, exist_ok=True)
            self.dave.call("mouse_away")
            self.dave.screenshot(os.path.join(shots, name))

    def stop(self):
        if self.fay is not None:
            self.fay.stop()
        self.dave.stop()


def main():
    tcui.require_tools()
    if shutil.which("tor") is None:
        print("1..0 # SKIP no tor", flush=True)
        return 0
    tap = tcui.Tap()
    tmp = tcui.make_tmpdir("torchat-ui-tor-restart-")
    directory = None
    restart = None
    try:
        directory, torrc = tcui.start_tor_network(tmp)
        restart = TorRestart(tmp, torrc)
    except tcui.Skip as e:
        print("1..0 # SKIP %s" % e, flush=True)
        if directory:
            tcui.stop_tor_network(directory)
        return 0
    except Exception as e:
        print("Bail out! %s" % e, flush=True)
        if directory:
            tcui.stop_tor_network(directory)
        return 1
    try:
        failed = False
        for name in ("proxy_fixed", "killed_empty", "through", "killed"):
            if failed:
                tap.case(name, lambda: (_ for _ in ()).throw(tcui.Skip("an earlier step failed")))
                continue
            before = tap.failed
            tap.case(name.replace("_", "-"), getattr(restart, name))
            if tap.failed > before:
                failed = True
                tree = restart.dave.try_call("dump")
                if tree:
                    note(tree["tree"])
                restart.dave.dump_logs()
    finally:
        restart.stop()
        tcui.stop_tor_network(directory)
        if not tap.failed:
            tcui.remove_tmpdir(tmp)
        else:
            note("kept " + tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
