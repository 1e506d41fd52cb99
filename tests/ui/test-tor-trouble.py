#!/usr/bin/python3
# test-tor-trouble.py: the real torchat window when its own Tor does not get
# through. A tor that exits at once (an error): the Tor screen says so at
# once, with what to try, and every action is reachable by the keyboard. A
# real tor whose upstream proxy refuses (a closed port on loopback: no
# network, no DNS): after the patience (TORCHAT_TOR_PATIENCE, shortened here
# from 60 s) the screen says Tor has not got through, with tor's own words.
#
# Environment: TORCHAT_BINARY, GSETTINGS_SCHEMA_DIR.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import shutil
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402

SUGGESTIONS = "If your network blocks Tor, use bridges"
DIES = "this tor stands in for a broken installation and exits at once"


def suggestions_shown(who):
    items = who.call("find", role="label", contains=SUGGESTIONS)["items"]
    if not items:
        return None
    text = items[0]["name"]
    for word in ("bridges", "obfs4", "Snowflake", "proxy", "control port"):
        check(word in text, "the advice names %s: %r" % (word, text))
    return text


def tab_to(who, name, limit=20):
    """Presses Tab until the element named @name has the focus; returns the
    names met on the way."""
    met = []
    for _ in range(limit):
        who.call("key", keys=["Tab"])
        time.sleep(0.15)
        item = who.call("focused", window="TORChat")["item"]
        met.append(item["name"] if item else None)
        if item and item["name"] == name:
            return met
    raise AssertionError("Tab never reached %r; it went %r" % (name, met))


class TorTrouble:
    def __init__(self, tmp):
        self.tmp = tmp
        self.instances = []

    def start(self, name, args, patience):
        who = tcui.Instance(name, self.tmp, ["--listen", "127.0.0.1:0"] + args,
                            env={"TORCHAT_TOR_PATIENCE": str(patience)})
        self.instances.append(who)
        return who

    def tor_exits(self):
        script = os.path.join(self.tmp, "tor-that-exits")
        with open(script, "w") as f:
            f.write("#!/bin/sh\necho \"Dec 02 12:00:00.000 [err] %s\"\nexit 1\n" % DIES)
        os.chmod(script, 0o755)
        # A patience far beyond this case: what shows is the error path.
        d = self.start("dies", ["--tor-binary", script], patience=600)
        d.call("wait", role="progress bar", name="Tor Progress", timeout=30)
        d.call("wait", role="label", contains="Tor has not got through yet. The last problem: Tor exited",
               timeout=20)
        d.call("wait", role="label", name="Tor says: “%s”" % DIES)
        suggestions_shown(d)
        # The title says what happens: it is tried again.
        d.call("wait", role="label", name="Tor stopped and is restarting…")
        check(d.call("find", role="label", name="No Contacts Yet")["items"] == [],
              "the Tor screen, not the empty state")
        self.shot(d, "tor-error.png")

        # Everything on it by the keyboard: the settings, the log, going on.
        met = tab_to(d, "Tor Settings…")
        note("Tab went: %r" % met)
        d.call("key", keys=["Return"])
        d.call("wait", role="frame", name="Preferences")
        d.call("wait", role="label", name="How TORChat Reaches Tor", window="Preferences")
        d.call("wait", role="label", name="Bridges", window="Preferences")
        d.call("wait", role="label", name="Proxy", window="Preferences")
        d.call("key", keys=["Escape"])
        d.call("wait", role="frame", name="Preferences", gone=True)
        d.call("focus_window", title="TORChat")
        tab_to(d, "Tor’s Log")
        d.call("key", keys=["space"])
        log = d.call("wait", role="text", name="Tor’s Log", text_contains=DIES)["item"]
        check(DIES in log.get("text", ""), "the log shows tor's words")
        tab_to(d, "Continue Without Waiting")
        d.call("key", keys=["space"])
        d.call("wait", role="label", name="No Contacts Yet")
        # The Tor screen made way; the node keeps trying, with back-off.
        d.call("wait", role="label", contains=SUGGESTIONS, gone=True)

    def proxy_refuses(self):
        if shutil.which("tor") is None:
            raise tcui.Skip("no tor")
        sock, port = tcui.closed_port()
        try:
            extra = os.path.join(self.tmp, "proxy.torrc")
            with open(extra, "w") as f:
                f.write("Socks5Proxy 127.0.0.1:%d\n" % port)
            patience = 20
            p = self.start("proxy", ["--tor-config", extra], patience=patience)
            launched = p.call("launched")["monotonic"]
            p.call("wait", role="progress bar", name="Tor Progress", timeout=30)
            # Before the patience runs out: progress, no advice yet.
            check(time.monotonic() - launched < patience - 5, "the window came up in time to check")
            check(not p.call("find", role="label", contains=SUGGESTIONS)["items"],
                  "no advice before %d s" % patience)
            check(tcui.tor_processes(p.profile), "a real tor runs for the window")
            p.call("wait", role="label", name="Tor has not got through yet.", timeout=patience + 30)
            waited = time.monotonic() - launched
            note("the advice came after %.1f s" % waited)
            check(waited >= patience - 1, "not before the patience: %.1f s" % waited)
            suggestions_shown(p)
            says = "Tor says: “The connection to the SOCKS5 proxy server at 127.0.0.1:%d just failed." % port
            p.call("wait", role="label", contains=says, timeout=20)
            p.call("wait", role="label", contains="Connecting to Tor")
            self.shot(p, "tor-timeout.png")
            tab_to(p, "Tor Settings…")
            p.call("key", keys=["ctrl+q"])
            code = p.call("wait_exit", timeout=40)["code"]
            check(code == 0, "torchat quit with %d" % code)
            wait_until(lambda: not tcui.tor_processes(p.profile), timeout=20, what="its tor to stop")
        finally:
            sock.close()

    def shot(self, who, name):
        shots = os.environ.get("TORCHAT_SCREENSHOT_DIR")
        if shots:
            os.makedirs(shots, exist_ok=True)
            who.call("mouse_away")
            time.sleep(0.3)
            who.screenshot(os.path.join(shots, name))

    def dump(self):
        for who in self.instances:
            tree = who.try_call("dump")
            if tree:
                note("--- %s's window ---\n%s" % (who.name, tree["tree"]))
            who.dump_logs()

    def stop(self):
        for who in self.instances:
            who.stop()


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    tmp = tcui.make_tmpdir("torchat-ui-tor-trouble-")
    trouble = TorTrouble(tmp)
    try:
        for name in ("tor_exits", "proxy_refuses"):
            before = tap.failed
            tap.case(name.replace("_", "-"), getattr(trouble, name))
            if tap.failed > before:
                trouble.dump()
    finally:
        trouble.stop()
        if not tap.failed:
            tcui.remove_tmpdir(tmp)
        else:
            note("kept " + tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
