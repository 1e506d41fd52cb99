#!/usr/bin/python3
# test-passphrase.py: the encrypted profile as a user meets it in the real
# torchat window, each start under its own Xvfb and D-Bus session: choose a
# passphrase on first run, the unlock page at the next start (a wrong
# passphrase says so and changes no file), change it in Preferences, skip
# it (a plaintext profile), then encrypt that one from Preferences, and
# change its passphrase with `torchat passphrase` while the window runs.
# On every page, every button has an accessible name (the eye of each
# passphrase row included).
#
# Environment: TORCHAT_BINARY, GSETTINGS_SCHEMA_DIR; TORCHAT_SCREENSHOT_DIR
# (optional) receives the unlock page's screenshot.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import base64
import hashlib
import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note  # noqa: E402

FIRST = "lantern orbit velvet cactus"
SECOND = "granite whisper meadow tuba"
WRONG = "lantern orbit velvet cactuz"
THIRD = "copper lagoon thistle banjo"
# Nothing listens there: the node only needs somewhere to send through.
NODE_ARGS = ["--listen", "127.0.0.1:0", "--socks", "127.0.0.1:9"]


def onion(seed):
    """A well-formed v3 address (the public key is just 32 bytes here)."""
    key = hashlib.sha256(seed.encode()).digest()
    checksum = hashlib.sha3_256(b".onion checksum" + key + b"\x03").digest()[:2]
    return base64.b32encode(key + checksum + b"\x03").decode().lower() + ".onion"


def profile_hashes(profile):
    """Every file of the profile and its SHA-256, the lock file aside."""
    out = {}
    for root, _dirs, files in os.walk(profile):
        for name in files:
            path = os.path.join(root, name)
            with open(path, "rb") as f:
                out[os.path.relpath(path, profile)] = hashlib.sha256(f.read()).hexdigest()
    return out


class Passphrase:
    def __init__(self):
        self.tmp = tcui.make_tmpdir("torchat-ui-passphrase-")
        self.shots = os.environ.get("TORCHAT_SCREENSHOT_DIR")
        self.app = None
        self.friend = onion("friend of dana")

    def screenshot(self, name):
        if self.shots:
            os.makedirs(self.shots, exist_ok=True)
            self.app.call("mouse_away")
            time.sleep(0.3)
            self.app.screenshot(os.path.join(self.shots, name))

    def start(self, name, passphrase=None):
        self.app = tcui.Instance(name, self.tmp, NODE_ARGS, passphrase=passphrase, wait_id=False)
        return self.app

    def quit(self):
        a = self.app
        # What a window manager would do after a dialog: focus the window.
        a.call("focus_window", title="TORChat")
        a.call("key", keys=["ctrl+q"])
        code = a.call("wait_exit")["code"]
        check(code == 0, "torchat exits with %d" % code)
        a.stop()
        self.app = None

    def stop(self):
        if self.app is not None:
            self.app.stop()

    def dump(self):
        if self.app is not None:
            tree = self.app.try_call("dump")
            if tree:
                note("--- window ---\n%s" % tree["tree"])
            self.app.dump_logs()

    def type_into(self, name, text, window=None):
        a = self.app
        a.call("click", role="text", name=name, window=window)
        a.call("key", keys=["ctrl+a", "BackSpace"])
        a.call("type", text=text)

    def all_buttons_named(self, window, page):
        """Every button on screen in @window has a name a screen reader can
        say; the eye of a passphrase row shows the text and says so."""
        a = self.app
        buttons = []
        for role in ("push button", "toggle button"):
            buttons += a.call("find", role=role, window=window)["items"]
        # GTK 4.8 calls a button without a name after its icon's class.
        unnamed = [b for b in buttons
                   if not b["name"].strip() or re.match(r"(Gtk|Adw)[A-Z]\w*$", b["name"])]
        check(not unnamed, "%s: buttons without a name: %r" % (page, unnamed))
        eyes = [b for b in buttons if b["name"] == "Show Passphrase"]
        check(eyes, "%s: no Show Passphrase button among %r" %
              (page, sorted(b["name"] for b in buttons)))
        return len(buttons)

    def eye_toggles(self, window):
        """The first eye shows the passphrase and is then named after
        hiding it; clicked again, it hides it."""
        a = self.app
        a.call("click", role="push button", name="Show Passphrase", window=window)
        a.call("wait", role="push button", name="Hide Passphrase", window=window, timeout=5)
        a.call("click", role="push button", name="Hide Passphrase", window=window)
        a.call("wait", role="push button", name="Hide Passphrase", window=window, gone=True,
               timeout=5)

    def write_secret(self, name, text):
        path = os.path.join(self.tmp, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        return path

    def main_window(self):
        a = self.app
        a.call("wait", role="push button", name="Add Contact", timeout=30)
        a.address, a.port = a.read_id()

    # The cases, in order.

    def first_run_choose(self):
        a = self.start("dana")
        a.call("wait", role="label", name="Protect Your Profile")
        a.call("wait", role="push button", name="Continue Without a Passphrase")
        n = self.all_buttons_named("Protect Your Profile", "the first-run page")
        check(len([b for b in a.call("find", role="push button", name="Show Passphrase",
                                     window="Protect Your Profile")["items"]]) == 2,
              "both passphrase rows have their eye")
        note("%d buttons on the first-run page, all named" % n)
        create = a.call("find", role="push button", name="Create Profile")["items"]
        check(create and "sensitive" not in create[0]["states"], "nothing to create yet")
        self.type_into("Passphrase", "abc123")
        a.call("wait", role="label", contains="Weak", timeout=5)
        self.type_into("Passphrase", FIRST)
        a.call("wait", role="label", name="Strong.", timeout=5)
        self.type_into("Confirm Passphrase", FIRST[:-1])
        a.call("wait", role="label", name="The two passphrases differ.")
        create = a.call("find", role="push button", name="Create Profile")["items"]
        check(create and "sensitive" not in create[0]["states"], "differing passphrases are refused")
        a.call("type", text=FIRST[-1])
        a.call("wait", role="push button", name="Create Profile", state="sensitive")
        self.screenshot("first-run.png")
        a.call("click", role="push button", name="Create Profile")
        self.main_window()
        files = os.listdir(a.profile)
        check("profile.key" in files and "identity.key" not in files,
              "an encrypted profile: %r" % files)
        result = a.cli("add", self.friend, "Friendly Fran")
        check(result.returncode == 0, "add: %s" % result.stderr)
        a.call("wait", role="label", name="Friendly Fran")
        self.quit()

    def wrong_passphrase(self):
        a = self.start("dana")
        a.call("wait", role="label", name="Unlock Your Profile")
        check(not a.call("find", role="push button", name="Continue Without a Passphrase")["items"],
              "an existing profile cannot skip its passphrase")
        self.all_buttons_named("Unlock Your Profile", "the unlock page")
        before = profile_hashes(a.profile)
        self.type_into("Passphrase", WRONG)
        self.eye_toggles("Unlock Your Profile")
        a.call("click", role="push button", name="Unlock")
        a.call("wait", role="alert", name="Wrong passphrase. Nothing was changed; try again.")
        after = profile_hashes(a.profile)
        check(before == after, "the wrong passphrase changed files: %r → %r" % (before, after))
        check(a.cli("id").returncode != 0, "a locked node answers no command")
        self.screenshot("unlock.png")

    def right_passphrase(self):
        a = self.app
        self.type_into("Passphrase", FIRST)
        a.call("click", role="push button", name="Unlock")
        self.main_window()
        a.call("wait", role="label", name="Friendly Fran")
        contacts = a.cli("contacts")
        check(self.friend in contacts.stdout, "the contact is there: %r" % contacts.stdout)

    def change_passphrase(self):
        a = self.app
        a.call("key", keys=["ctrl+comma"])
        a.call("wait", role="frame", name="Preferences")
        a.call("click", role="page tab", name="Security", window="Preferences")
        a.call("wait", role="push button", name="Change Passphrase", window="Preferences")
        self.all_buttons_named("Preferences", "the security page")
        self.type_into("Current Passphrase", WRONG, window="Preferences")
        self.type_into("New Passphrase", SECOND, window="Preferences")
        self.type_into("Confirm New Passphrase", SECOND, window="Preferences")
        a.call("click", role="push button", name="Change Passphrase", window="Preferences")
        a.call("wait", role="alert", name="The current passphrase is wrong. Nothing was changed.",
               window="Preferences")
        self.type_into("Current Passphrase", FIRST, window="Preferences")
        self.type_into("New Passphrase", SECOND, window="Preferences")
        self.type_into("Confirm New Passphrase", SECOND, window="Preferences")
        a.call("click", role="push button", name="Change Passphrase", window="Preferences")
        a.call("wait", role="alert", name="The passphrase is changed.", window="Preferences")
        a.call("key", keys=["Escape"])
        a.call("wait", role="frame", name="Preferences", gone=True)
        self.quit()

    def only_new_works(self):
        a = self.start("dana")
        a.call("wait", role="label", name="Unlock Your Profile")
        self.type_into("Passphrase", FIRST)
        a.call("click", role="push button", name="Unlock")
        a.call("wait", role="alert", name="Wrong passphrase. Nothing was changed; try again.")
        self.type_into("Passphrase", SECOND)
        a.call("key", keys=["Return"])
        self.main_window()
        a.call("wait", role="label", name="Friendly Fran")
        self.quit()

    def passphrase_file(self):
        # --passphrase-file: no page; the right one opens the window...
        a = self.start("dana", passphrase=SECOND)
        self.main_window()
        check(not a.call("find", role="label", name="Unlock Your Profile")["items"],
              "no unlock page with --passphrase-file")
        self.quit()
        # ...a wrong one says why in a window and changes nothing.
        before = profile_hashes(os.path.join(self.tmp, "dana", "profile"))
        a = self.start("dana", passphrase=FIRST)
        a.call("wait", role="label", name="Could Not Open Your Profile")
        check(profile_hashes(a.profile) == before, "the wrong passphrase file changed files")
        a.call("click", role="push button", name="Close")
        code = a.call("wait_exit")["code"]
        check(code == 0, "closing exits with %d" % code)
        a.stop()
        self.app = None

    def skip(self):
        a = self.start("erin")
        a.call("wait", role="label", name="Protect Your Profile")
        a.call("wait", role="label", contains="can pretend to be you")
        a.call("click", role="push button", name="Continue Without a Passphrase")
        self.main_window()
        files = os.listdir(a.profile)
        check("identity.key" in files and "profile.key" not in files,
              "a plaintext profile: %r" % files)
        self.quit()
        # The next start opens it without asking.
        a = self.start("erin")
        self.main_window()
        check(not a.call("find", role="label", name="Unlock Your Profile")["items"],
              "a plaintext profile has no unlock page")

    def encrypt(self):
        a = self.app
        a.call("key", keys=["ctrl+comma"])
        a.call("wait", role="frame", name="Preferences")
        a.call("click", role="page tab", name="Security", window="Preferences")
        a.call("wait", role="push button", name="Encrypt This Profile", window="Preferences")
        self.all_buttons_named("Preferences", "the security page of a plaintext profile")
        self.type_into("New Passphrase", FIRST, window="Preferences")
        self.type_into("Confirm New Passphrase", FIRST, window="Preferences")
        a.call("click", role="push button", name="Encrypt This Profile", window="Preferences")
        a.call("wait", role="alert", name="The profile is encrypted.", window="Preferences")
        files = os.listdir(a.profile)
        check("profile.key" in files and "identity.key" not in files,
              "encrypted in place: %r" % files)
        a.call("wait", role="push button", name="Change Passphrase", window="Preferences")
        a.call("key", keys=["Escape"])
        self.quit()
        a = self.start("erin")
        a.call("wait", role="label", name="Unlock Your Profile")
        self.type_into("Passphrase", FIRST)
        a.call("click", role="push button", name="Unlock")
        self.main_window()

    def cli_while_window_runs(self):
        # `torchat passphrase` goes to the window's node, which stays open.
        a = self.app
        old = self.write_secret("first", FIRST)
        wrong = self.write_secret("wrong", WRONG)
        new = self.write_secret("third", THIRD)
        key = os.path.join(a.profile, "profile.key")
        with open(key, "rb") as f:
            before = hashlib.sha256(f.read()).hexdigest()
        result = a.cli("--passphrase-file", wrong, "--new-passphrase-file", new, "passphrase")
        check(result.returncode == 1 and "wrong" in result.stderr,
              "a wrong current passphrase: %d %r" % (result.returncode, result.stderr))
        with open(key, "rb") as f:
            check(hashlib.sha256(f.read()).hexdigest() == before, "profile.key unchanged")
        result = a.cli("--passphrase-file", old, "--new-passphrase-file", new, "passphrase")
        check(result.returncode == 0 and "changed" in result.stderr,
              "the change: %d %r" % (result.returncode, result.stderr))
        check(a.cli("id").returncode == 0, "the window's node still answers")
        a.call("wait", role="push button", name="Add Contact")
        self.quit()
        a = self.start("erin")
        a.call("wait", role="label", name="Unlock Your Profile")
        self.type_into("Passphrase", FIRST)
        a.call("click", role="push button", name="Unlock")
        a.call("wait", role="alert", name="Wrong passphrase. Nothing was changed; try again.")
        self.type_into("Passphrase", THIRD)
        a.call("click", role="push button", name="Unlock")
        self.main_window()
        self.quit()


def main():
    tcui.require_tools()
    t = tcui.Tap()
    p = Passphrase()
    try:
        for name in ("first_run_choose", "wrong_passphrase", "right_passphrase",
                     "change_passphrase", "only_new_works", "passphrase_file", "skip", "encrypt",
                     "cli_while_window_runs"):
            before = t.failed
            t.case(name.replace("_", " "), getattr(p, name))
            if t.failed != before:
                p.dump()
                break
    finally:
        p.stop()
        tcui.remove_tmpdir(p.tmp)
    return t.done()


if __name__ == "__main__":
    sys.exit(main())
