#!/usr/bin/python3
# test-tor-screen.py: a first start of the real torchat on the private Tor
# network (tests/tor-network.sh): the window shows Tor's progress while its
# own tor bootstraps, then the empty state once Tor is through; quitting
# stops that tor.
#
# Environment: TORCHAT_BINARY, TORCHAT_TOR_NETWORK (tor-network.sh),
# GSETTINGS_SCHEMA_DIR; TORCHAT_SCREENSHOT_DIR (optional).
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402


class TorScreen:
    def __init__(self, tmp, torrc):
        self.tmp = tmp
        self.carol = tcui.Instance("carol", tmp, ["--tor-config", torrc])
        self.shots = os.environ.get("TORCHAT_SCREENSHOT_DIR")

    def progress(self):
        c = self.carol
        # A first run: the Tor screen, not "No Contacts Yet".
        c.call("wait", role="progress bar", name="Tor Progress", timeout=30)
        seen = set()
        shot = False

        def through():
            nonlocal shot
            items = c.call("find", role="progress bar", name="Tor Progress")["items"]
            if not items:
                return True
            value = items[0].get("value")
            if value is not None:
                seen.add(value)
                if 0 < value < 100 and not shot and self.shots:
                    os.makedirs(self.shots, exist_ok=True)
                    c.call("click", role="label", contains="Log")
                    c.call("mouse_away")
                    time.sleep(0.5)
                    c.screenshot(os.path.join(self.shots, "tor-screen.png"))
                    shot = True
            return False

        wait_until(through, timeout=240, what="Tor to get through")
        note("progress seen: %s" % sorted(seen))
        check(any(0 < v < 100 for v in seen), "the bar showed Tor on its way: %r" % sorted(seen))
        c.call("wait", role="label", name="No Contacts Yet", timeout=30)

    def quit_stops_tor(self):
        c = self.carol
        check(tcui.tor_processes(c.profile), "the window's own tor runs")
        c.call("key", keys=["ctrl+q"])
        code = c.call("wait_exit", timeout=40)["code"]
        check(code == 0, "torchat quit with %d" % code)
        wait_until(lambda: not tcui.tor_processes(c.profile), timeout=20, what="its tor to stop")

    def stop(self):
        self.carol.stop()


def main():
    tcui.require_tools()
    if shutil.which("tor") is None:
        print("1..0 # SKIP no tor", flush=True)
        return 0
    tap = tcui.Tap()
    tmp = tcui.make_tmpdir("torchat-ui-tor-")
    directory = None
    screen = None
    try:
        directory, torrc = tcui.start_tor_network(tmp)
        screen = TorScreen(tmp, torrc)
    except tcui.Skip as e:
        print("1..0 # SKIP %s" % e, flush=True)
        return 0
    except Exception as e:
        print("Bail out! %s" % e, flush=True)
        if directory:
            tcui.stop_tor_network(directory)
        return 1
    try:
        before = tap.failed
        tap.case("tor-progress", screen.progress)
        if tap.failed > before:
            screen.carol.dump_logs()
        tap.case("quit-stops-tor", screen.quit_stops_tor)
    finally:
        screen.stop()
        tcui.stop_tor_network(directory)
        if not tap.failed:
            tcui.remove_tmpdir(tmp)
        else:
            note("kept " + tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
