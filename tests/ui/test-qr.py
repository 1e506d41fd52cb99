#!/usr/bin/python3
# test-qr.py: the own address as a QR code, as a friend would check it: the
# real torchat window on a new profile, "Show as QR Code" clicked in the
# empty state (and the main menu's item), the picture found through the
# accessibility tree by its name, and the screen read back with zbarimg
# (zbar-tools): the code holds exactly the address `torchat id` prints.
#
# Environment: TORCHAT_BINARY, GSETTINGS_SCHEMA_DIR; TORCHAT_SCREENSHOT_DIR
# (optional).
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note  # noqa: E402

QR_NAME = "QR code of your address"


def decode(instance, path):
    """What zbarimg reads in a screenshot of @instance's screen."""
    instance.call("mouse_away")
    time.sleep(0.5)
    instance.screenshot(path)
    result = subprocess.run(["zbarimg", "--quiet", "--raw", path], capture_output=True,
                            text=True, timeout=60)
    return result.returncode, result.stdout.strip().splitlines(), result.stderr.strip()


class QrTest:
    def __init__(self, tmp):
        self.tmp = tmp
        # No Tor is needed to show one's own address: a SOCKS port nothing
        # listens on.
        self.me = tcui.Instance("me", tmp, ["--listen", "127.0.0.1:0", "--socks", "127.0.0.1:9"])
        self.shots = os.environ.get("TORCHAT_SCREENSHOT_DIR")

    def no_code_before(self):
        me = self.me
        me.call("wait", role="label", name="No Contacts Yet", timeout=30)
        check(not me.call("find", role="image", name=QR_NAME)["items"],
              "no QR code is shown before it is asked for")
        code, lines, _err = decode(me, os.path.join(self.tmp, "before.png"))
        check(code != 0 and not lines, "zbarimg finds no code on the screen before: %r" % lines)

    def from_empty_state(self):
        me = self.me
        me.call("click", role="push button", name="Show as QR Code")
        item = me.call("wait", role="image", name=QR_NAME, timeout=15)["item"]
        check(item.get("description") == me.address,
              "the picture's accessible description is the address: %r" % item)
        w, h = item["extents"][2:]
        check(w >= 150 and h >= 150, "the code is big enough to scan: %dx%d" % (w, h))
        path = os.path.join(self.tmp, "qr.png")
        code, lines, err = decode(me, path)
        if self.shots:
            os.makedirs(self.shots, exist_ok=True)
            shutil.copy(path, os.path.join(self.shots, "qr-code.png"))
        check(code == 0, "zbarimg reads a code on the screen: %s" % err)
        check(lines == [me.address], "the code holds the address %s: %r" % (me.address, lines))
        me.call("wait", role="label", name=me.address, window="Your Address")
        me.call("key", keys=["Escape"])
        me.call("wait", role="image", name=QR_NAME, gone=True, timeout=10)

    def from_menu(self):
        me = self.me
        me.call("click", role="push button", name="Main Menu")
        me.call("click", role="menu item", name="Show Your Address as QR Code")
        me.call("wait", role="image", name=QR_NAME, timeout=15)
        code, lines, err = decode(me, os.path.join(self.tmp, "qr-menu.png"))
        check(code == 0 and lines == [me.address],
              "the menu's code holds the address too: %r %s" % (lines, err))

    def stop(self):
        self.me.stop()


def main():
    tcui.require_tools()
    if shutil.which("zbarimg") is None:
        print("1..0 # SKIP missing: zbarimg (zbar-tools)", flush=True)
        return 0
    tap = tcui.Tap()
    tmp = tcui.make_tmpdir("torchat-ui-qr-")
    test = None
    try:
        test = QrTest(tmp)
        for name, func in (("nothing to scan before it is asked for", test.no_code_before),
                           ("the empty state's button shows the address as a QR code that "
                            "reads back as the address", test.from_empty_state),
                           ("the main menu shows it too", test.from_menu)):
            before = tap.failed
            tap.case(name, func)
            if tap.failed > before:
                tree = test.me.try_call("dump")
                if tree:
                    note(tree["tree"])
                test.me.dump_logs()
    finally:
        if test is not None:
            test.stop()
        tcui.remove_tmpdir(tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
