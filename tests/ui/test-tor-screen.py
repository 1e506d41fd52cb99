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
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402


def start_network(tmp):
    script = os.environ["TORCHAT_TOR_NETWORK"]
    env = dict(os.environ, TORNET_OWNER_PID=str(os.getpid()))
    for attempt in range(2):
        directory = os.path.join(tmp, "tornet%d" % attempt)
        result = subprocess.run(["/bin/sh", script, "start", directory], capture_output=True,
                                text=True, env=env, timeout=300)
        if result.returncode == 77:
            raise tcui.Skip("no tor")
        if result.returncode == 0:
            note(result.stderr.strip())
            return directory, result.stdout.strip()
        note("the private Tor network did not come up: " + result.stderr[-2000:])
        subprocess.run(["/bin/sh", script, "stop", directory], capture_output=True, timeout=120)
    raise RuntimeError("the private Tor network did not come up twice")


def stop_network(directory):
    subprocess.run(["/bin/sh", os.environ["TORCHAT_TOR_NETWORK"], "stop", directory],
                   capture_output=True, timeout=120)


def tor_processes(profile):
    """PIDs of the tors running with a torrc in @profile."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if os.path.join(profile, "tor") in cmdline and "tor" in cmdline.split(" ")[0]:
            found.append(int(pid))
    return found


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
        check(tor_processes(c.profile), "the window's own tor runs")
        c.call("key", keys=["ctrl+q"])
        code = c.call("wait_exit", timeout=40)["code"]
        check(code == 0, "torchat quit with %d" % code)
        wait_until(lambda: not tor_processes(c.profile), timeout=20, what="its tor to stop")

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
        directory, torrc = start_network(tmp)
        screen = TorScreen(tmp, torrc)
    except tcui.Skip as e:
        print("1..0 # SKIP %s" % e, flush=True)
        return 0
    except Exception as e:
        print("Bail out! %s" % e, flush=True)
        if directory:
            stop_network(directory)
        return 1
    try:
        before = tap.failed
        tap.case("tor-progress", screen.progress)
        if tap.failed > before:
            screen.carol.dump_logs()
        tap.case("quit-stops-tor", screen.quit_stops_tor)
    finally:
        screen.stop()
        stop_network(directory)
        if not tap.failed:
            tcui.remove_tmpdir(tmp)
        else:
            note("kept " + tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
