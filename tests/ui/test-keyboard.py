#!/usr/bin/python3
# test-keyboard.py: the contact list by keyboard, as a keyboard or
# screen-reader user goes through it: Tab into the list, the arrow keys
# walk it (each contact's conversation shows while the focus stays in the
# list, and the focused cell says whose it is), Enter goes on to write.
# The real torchat window on a profile of a few contacts
# (tests/bench-window-profile), driven with xdotool, observed through
# AT-SPI.
#
# Environment: TORCHAT_BINARY, TORCHAT_BENCH_PROFILE, GSETTINGS_SCHEMA_DIR.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check  # noqa: E402

CONTACTS = ["Busy", "Contact 1", "Contact 2", "Contact 3"]


class KeyboardTest:
    def __init__(self, tmp):
        profile = os.path.join(tmp, "profile")
        os.makedirs(profile, mode=0o700)
        subprocess.run([os.environ["TORCHAT_BENCH_PROFILE"], profile, str(len(CONTACTS)), "3"],
                       check=True, capture_output=True, timeout=120)
        # No Tor is needed to read one's contacts.
        self.me = tcui.Instance("me", tmp, ["--listen", "127.0.0.1:0", "--socks", "127.0.0.1:9"],
                                profile=profile)
        self.me.call("wait", role="label", name="Busy", timeout=30)

    def focused(self):
        return self.me.call("focused")["item"] or {}

    def key(self, *keys):
        self.me.call("key", keys=list(keys))
        time.sleep(0.3)

    def tab_to_list(self):
        for _ in range(20):
            if self.focused().get("role") == "table cell":
                break
            self.key("Tab")
        item = self.focused()
        check(item.get("role") == "table cell", "Tab reaches the contact list: %r" % item)
        return item

    def tab_into_list(self):
        item = self.tab_to_list()
        check(item.get("name", "").startswith("Busy, "),
              "the focused cell is named after its contact: %r" % item.get("name"))

    def arrows_walk(self):
        for name in CONTACTS[1:]:
            self.key("Down")
            item = self.focused()
            check(item.get("role") == "table cell" and item.get("name", "").startswith(name + ", "),
                  "Down moves the focus to %s: %r" % (name, item))
            check("selected" in item.get("states", []), "and selects it: %r" % item)
            # Its name twice: in the list and as the conversation's title.
            tcui.wait_until(lambda: len(self.me.call("find", role="label", name=name)["items"]) >= 2,
                            timeout=10, what="%s's conversation shows beside the list" % name)
        self.key("Up")
        item = self.focused()
        check(item.get("name", "").startswith(CONTACTS[-2] + ", "),
              "Up moves back to %s: %r" % (CONTACTS[-2], item))

    def enter_writes(self):
        self.key("Return")
        item = self.focused()
        check(item.get("role") == "text" and item.get("name") == "Message",
              "Enter on a contact goes on to the message composer: %r" % item)
        self.me.call("type", text="typed by keyboard")
        tcui.wait_until(lambda: self.focused().get("text") == "typed by keyboard",
                        timeout=10, what="the composer takes the text")

    def click_after_tab(self):
        """A Tab out of the list, then a click: the conversation opens to
        write, as any click on a contact does."""
        self.tab_to_list()
        # In GTK 4.8 Tab goes from cell to cell, then on out of the list.
        for _ in range(len(CONTACTS) + 1):
            self.key("Tab")
            if self.focused().get("role") != "table cell":
                break
        check(self.focused().get("role") != "table cell", "Tab leaves the list: %r" % self.focused())
        self.me.call("click", role="label", name=CONTACTS[0])
        tcui.wait_until(lambda: self.focused().get("name") == "Message", timeout=10,
                        what="the click on %s to go on to the composer" % CONTACTS[0])

    def stop(self):
        self.me.stop()


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    tmp = tcui.make_tmpdir("torchat-ui-keyboard-")
    test = None
    try:
        test = KeyboardTest(tmp)
        for name, func in (("Tab reaches the contact list, whose cells say whose they are",
                            test.tab_into_list),
                           ("the arrow keys walk the list and show each conversation, the "
                            "focus staying in the list", test.arrows_walk),
                           ("Enter goes on to write to the contact", test.enter_writes),
                           ("after a Tab out of the list, a click on a contact goes on to "
                            "write", test.click_after_tab)):
            before = tap.failed
            tap.case(name, func)
            if tap.failed > before:
                test.me.dump_logs()
    finally:
        if test is not None:
            test.stop()
        tcui.remove_tmpdir(tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
