#!/usr/bin/python3
# test-flow.py: two real torchat windows, each under its own Xvfb and D-Bus
# session, reach each other through the test SOCKS server and are used as two
# people would: through the accessibility tree, the mouse and the keyboard.
#
# Environment: TORCHAT_BINARY, TORCHAT_TEST_SOCKS, GSETTINGS_SCHEMA_DIR;
# TORCHAT_SCREENSHOT_DIR (optional) receives screenshots.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import base64
import hashlib
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402
from tcui import check, note, wait_until  # noqa: E402

HELLO = "Hello Bob, this is Alice from the UI test"
SECOND = "Are you there? Second message"
THIRD = "A third one while the notification server hangs"
REPLY = "Hi Alice! Bob here, reading you"


def onion_address(key):
    """A well-formed v3 address (nobody runs it): the key, its checksum, 3."""
    checksum = hashlib.sha3_256(b".onion checksum" + key + b"\x03").digest()[:2]
    return base64.b32encode(key + checksum + b"\x03").decode().lower()


class Flow(tcui.Pair):
    def __init__(self):
        super().__init__("torchat-ui-flow-")

    # The cases, in order: each builds on the one before.

    def wrong_address(self):
        a = self.alice
        a.call("click", role="push button", name="Add Contact")
        a.call("wait", role="text", name="Address", window="Add Contact")
        a.call("click", role="text", name="Address", window="Add Contact")
        # One character off: a typo that only the checksum catches.
        typo = self.bob.address[:10] + ("a" if self.bob.address[10] != "a" else "b") + self.bob.address[11:]
        a.call("type", text=typo)
        expected = a.cli("add", typo)
        check(expected.returncode == 1, "the node refuses the typo on the command line too")
        message = expected.stderr.strip()
        if message.startswith("torchat: "):
            message = message[len("torchat: "):]
        # The command line names the (redacted) address first.
        if "…: " in message:
            message = message.split("…: ", 1)[1]
        a.call("wait", role="label", name=message, window="Add Contact")
        add = a.call("find", role="push button", name="Add", window="Add Contact")["items"]
        check(add and "sensitive" not in add[0]["states"], "Add is not offered for a typo")

    def add_contact(self):
        a = self.alice
        a.call("key", keys=["ctrl+a", "BackSpace"])
        a.call("type", text=self.bob.address)
        a.call("wait", role="label", contains="typo", window="Add Contact", gone=True)
        a.call("click", role="text", name="Nickname (optional)", window="Add Contact")
        a.call("type", text="Bob")
        a.call("wait", role="push button", name="Add", window="Add Contact", state="sensitive")
        a.call("click", role="push button", name="Add", window="Add Contact")
        a.call("wait", role="frame", name="Add Contact", gone=True)
        # What a window manager would do: the main window has the focus again.
        a.call("focus_window", title="TORChat")
        # The toast says what happened: queued, or on its way.
        toast = a.call("wait", role="label", contains="equest to Bob")["item"]
        note("toast: " + toast["name"])
        a.call("wait", role="label", name="Waiting for them to accept")

    def request_arrives(self):
        b = self.bob
        b.call("wait", role="label", name="Wants to be your contact", timeout=60)
        request = wait_until(lambda: [n for n in b.notifications("notify")
                                      if n["summary"] == "Alice wants to be your contact"],
                             what="the contact request notification")
        check(request[0]["app_icon"] == "io.github.torchat.TorChat", "the app's icon")

    def accept(self):
        b = self.bob
        b.call("click", role="label", name="Wants to be your contact")
        b.call("wait", role="label", name="Alice wants to be your contact")
        b.call("click", role="push button", name="Accept")
        b.call("wait", role="push button", name="Accept", gone=True)
        self.screenshot(b, "request-accepted.png")
        # Alice's side learns it: no more "Waiting for them to accept".
        self.alice.call("wait", role="label", name="Waiting for them to accept", gone=True, timeout=60)

    def send_in_view(self):
        a, b = self.alice, self.bob
        before = len(b.notifications("notify"))
        a.call("click", role="text", name="Message")
        a.call("type", text=HELLO)
        a.call("key", keys=["Return"])
        a.call("wait", role="label", name=HELLO)
        b.call("wait", role="label", name=HELLO, timeout=60)
        # Bob reads Alice's conversation in his focused window: no
        # notification for it.
        time.sleep(1.5)
        new = [n for n in b.notifications("notify")[before:] if "message" in n["summary"]]
        check(not new, "no notification while the conversation is in view: %r" % new)

    def send_not_in_view(self):
        a, b = self.alice, self.bob
        b.call("key", keys=["Escape"])
        b.call("wait", role="label", name="No Conversation Selected")
        a.call("type", text=SECOND)
        a.call("key", keys=["Return"])
        shown = wait_until(lambda: [n for n in b.notifications("notify")
                                    if n["summary"] == "New message from Alice"],
                           what="the message notification")
        check(shown[-1]["body"] == SECOND, "the body is the message: %r" % shown[-1]["body"])
        check("default" in shown[-1]["actions"], "clicking it is an action")
        self.notification_id = shown[-1]["id"]
        # The unread badge in the sidebar.
        b.call("wait", role="label", name="1")

    def click_notification(self):
        b = self.bob
        b.call("invoke_action", id=self.notification_id, action="default")
        b.call("wait", role="label", name=SECOND)
        # Seen: withdrawn.
        wait_until(lambda: [n for n in b.notifications("close") if n["id"] == self.notification_id],
                   what="the notification to be withdrawn")

    def hung_notification_server(self):
        a, b = self.alice, self.bob
        b.call("notify_delay", seconds=10)
        b.call("key", keys=["Escape"])
        b.call("wait", role="label", name="No Conversation Selected")
        before = len(b.notifications("notify"))
        a.call("type", text=THIRD)
        a.call("key", keys=["Return"])
        wait_until(lambda: len(b.notifications("notify")) > before, what="the third notification")
        asked = time.monotonic()
        # The server holds its answer for 10 s; the window keeps working.
        ping = b.call("ping")["seconds"]
        check(ping < 2, "the window answered in %.1f s" % ping)
        b.call("click", role="label", contains="Alice")
        b.call("wait", role="label", name=THIRD, timeout=5)
        elapsed = time.monotonic() - asked
        check(elapsed < 8, "the conversation opened within %.1f s, before the server answered" % elapsed)
        b.call("notify_delay", seconds=0)

    def reply_delivered(self):
        a, b = self.alice, self.bob
        b.call("click", role="text", name="Message")
        b.call("type", text=REPLY)
        b.call("key", keys=["Return"])
        a.call("wait", role="label", name=REPLY, timeout=60)
        # Read where it arrived: no unread badge for the open conversation.
        a.call("wait", role="label", name="1", gone=True)
        # Bob's receipts reached Alice: her messages show as delivered.
        a.call("wait", role="image", name="Delivered", timeout=60)
        b.call("wait", role="image", name="Delivered", timeout=60)
        # The day's separator above its first message.
        a.call("wait", role="label", name="Today")
        # The add-contact toast has had its time.
        a.try_call("wait", role="label", contains="equest to Bob", gone=True, timeout=15)
        self.screenshot(a, "conversation.png")

    def preferences(self):
        a = self.alice
        a.call("key", keys=["ctrl+comma"])
        a.call("wait", role="frame", name="Preferences")
        name = a.call("wait", role="text", name="Name", window="Preferences")["item"]
        check(name.get("text") == "Alice", "the profile name: %r" % name.get("text"))
        self.screenshot(a, "preferences.png")
        a.call("click", role="page tab", name="Tor", window="Preferences")
        # This run's Tor came from the command line; the choice is for later.
        a.call("wait", role="label", name="This time TORChat uses the Tor given on the command line.",
               window="Preferences")
        a.call("wait", role="label", name="Applied the next time TORChat starts.", window="Preferences")
        self.screenshot(a, "preferences-tor.png")
        a.call("key", keys=["Escape"])
        a.call("wait", role="frame", name="Preferences", gone=True)
        a.call("focus_window", title="TORChat")

    def hide_text(self):
        a, b = self.alice, self.bob
        b.call("key", keys=["ctrl+comma"])
        b.call("wait", role="frame", name="Preferences")
        b.call("click", role="check box", name="Hide Message Text", window="Preferences")
        b.call("wait", role="check box", name="Hide Message Text", window="Preferences", state="checked")
        b.call("key", keys=["Escape"])
        b.call("wait", role="frame", name="Preferences", gone=True)
        b.call("focus_window", title="TORChat")
        b.call("key", keys=["Escape"])
        b.call("wait", role="label", name="No Conversation Selected")
        self.screenshot(b, "main-window.png")
        before = len(b.notifications("notify"))
        a.call("click", role="text", name="Message")
        a.call("type", text="Nobody reads this over your shoulder")
        a.call("key", keys=["Return"])
        shown = wait_until(lambda: b.notifications("notify")[before:], what="the notification")
        check(shown[-1]["summary"].endswith("from Alice"), "who wrote: %r" % shown[-1]["summary"])
        check(shown[-1]["body"] == "", "no text: %r" % shown[-1]["body"])

    def typing(self):
        a, b = self.alice, self.bob
        b.call("click", role="label", contains="Alice")
        a.call("click", role="text", name="Message")
        a.call("type", text="I am typing something lo")
        b.call("wait", role="label", name="Typing…", timeout=30)
        a.call("type", text="ng")
        a.call("key", keys=["Return"])
        b.call("wait", role="label", name="I am typing something long", timeout=30)
        # The message is the end of typing it.
        b.call("wait", role="label", name="Typing…", gone=True, timeout=5)
        # Shift+Enter starts a new line; Enter sends both lines as one message.
        a.call("type", text="First line")
        a.call("key", keys=["shift+Return"])
        a.call("type", text="second line")
        a.call("key", keys=["Return"])
        b.call("wait", role="label", name="First line\nsecond line", timeout=30)
        # The last message under the name in the sidebar, on one line.
        a.call("wait", role="label", name="You: First line second line")
        b.call("wait", role="label", name="First line second line")

    def long_conversation(self):
        a, b = self.alice, self.bob
        b.call("key", keys=["Escape"])
        b.call("wait", role="label", name="No Conversation Selected")
        lines = "".join("Message number %d of a long conversation\n" % i for i in range(1, 301))
        sent = subprocess.run([tcui.binary(), "--profile", a.profile, "send", b.address, "-"],
                              input=lines, capture_output=True, text=True, timeout=60)
        check(sent.returncode == 0, "send -: " + sent.stderr)
        wait_until(lambda: "Message number 300 " in b.cli("history", a.address).stdout,
                   timeout=90, what="the 300 messages to reach Bob")
        b.call("click", role="label", contains="Alice")
        # The newest at the bottom, in view; the oldest far above.
        b.call("wait", role="label", name="Message number 300 of a long conversation", timeout=15)
        old = b.call("find", role="label", name="Message number 1 of a long conversation")["items"]
        check(not old, "the oldest message is not what the conversation opens at")
        self.screenshot(b, "long-conversation.png")
        # And it stays there as new ones arrive.
        sent = a.cli("send", b.address, "And one more at the end")
        check(sent.returncode == 0, "send: " + sent.stderr)
        b.call("wait", role="label", name="And one more at the end", timeout=30)
        # Unless Bob scrolled up to read: then the view stays where he is.
        b.call("scroll", role="table", name="Messages", clicks=40, delay=20)
        time.sleep(1)

        def shown(text):
            # The sidebar shows the last message too: one label is the preview.
            return len(b.call("find", role="label", name=text)["items"])

        wait_until(lambda: shown("And one more at the end") == 1, what="the view to scroll up")
        sent = a.cli("send", b.address, "Arrives while Bob reads older ones")
        check(sent.returncode == 0, "send: " + sent.stderr)
        wait_until(lambda: "Arrives while Bob reads" in b.cli("history", a.address).stdout,
                   what="the message to reach Bob")
        wait_until(lambda: shown("Arrives while Bob reads older ones") == 1, what="the preview")
        time.sleep(1)
        check(shown("Arrives while Bob reads older ones") == 1, "the view did not jump to the bottom")

    def search(self):
        b = self.bob
        # With no conversation open, Ctrl+F searches the contacts.
        b.call("key", keys=["Escape"])
        b.call("wait", role="label", name="No Conversation Selected")
        b.call("key", keys=["ctrl+f"])
        b.call("wait", role="entry", name="Search Contacts")
        b.call("type", text="zzz-nobody")
        b.call("wait", role="label", name="Alice", gone=True)
        b.call("key", keys=["ctrl+a", "BackSpace"])
        b.call("type", text=self.alice.address[:8])
        b.call("wait", role="label", name="Alice")
        b.call("key", keys=["Escape"])

    def recent_first(self):
        a, b = self.alice, self.bob
        b.call("key", keys=["Escape"])
        b.call("wait", role="label", name="No Conversation Selected")
        carol = onion_address(bytes(range(32)))

        def above(upper, lower):
            tops = {}
            for name in (upper, lower):
                rows = b.call("find", role="label", name=name, window="TORChat")["items"]
                check(len(rows) == 1, "one row named %s: %r" % (name, rows))
                tops[name] = rows[0]["extents"][1]
            return tops[upper] < tops[lower]

        # Bob writes to a new contact: the newest conversation comes first.
        check(b.cli("add", carol, "Carol").returncode == 0, "add Carol")
        sent = b.cli("send", carol, "Are you on TORChat yet?")
        check(sent.returncode == 0, "send to Carol: " + sent.stderr)
        b.call("wait", role="label", name="Carol")
        wait_until(lambda: above("Carol", "Alice"), what="Carol above Alice")
        # A new message from Alice, the older conversation, moves her up.
        sent = a.cli("send", b.address, "Back to the top of your list")
        check(sent.returncode == 0, "send: " + sent.stderr)
        wait_until(lambda: above("Alice", "Carol"), timeout=60, what="Alice above Carol")
        # A new state moves a contact too, with no message: Carol again
        # first, then blocked, below Alice.
        sent = b.cli("send", carol, "Still there?")
        check(sent.returncode == 0, "send to Carol: " + sent.stderr)
        wait_until(lambda: above("Carol", "Alice"), what="Carol above Alice again")
        check(b.cli("block", carol).returncode == 0, "block Carol")
        wait_until(lambda: above("Alice", "Carol"), timeout=10, what="blocked Carol below Alice")
        check(b.cli("remove", carol).returncode == 0, "remove Carol")
        b.call("wait", role="label", name="Carol", gone=True)

    def second_launch(self):
        b = self.bob
        result = b.call("launch_again")
        check(result["code"] == 0, "the second launch exits with %d" % result["code"])
        frames = [f for f in b.call("find", role="frame")["items"] if f["name"] == "TORChat"]
        check(len(frames) == 1, "still one window: %r" % frames)

    def contact_details(self):
        a, b = self.alice, self.bob
        b.call("click", role="label", contains="Alice")
        b.call("click", role="push button", name="Contact Menu")
        b.call("click", role="menu item", name="Contact Details")
        b.call("wait", role="frame", name="Contact Details")
        b.call("wait", role="label", name=a.address, window="Contact Details")
        b.call("wait", role="label", name="Connected", window="Contact Details")
        self.screenshot(b, "contact-details.png")
        b.call("click", role="text", name="Name", window="Contact Details")
        b.call("key", keys=["ctrl+a"])
        b.call("type", text="Alice L.")
        b.call("key", keys=["Return"])
        b.call("wait", role="label", name="Alice L.", window="TORChat")
        b.call("click", role="push button", name="Block", window="Contact Details")
        b.call("wait", role="label", name="Blocked: they cannot reach you", window="Contact Details")
        b.call("key", keys=["Escape"])
        b.call("wait", role="frame", name="Contact Details", gone=True)
        b.call("focus_window", title="TORChat")

    def blocked_list(self):
        b = self.bob
        b.call("key", keys=["ctrl+comma"])
        b.call("wait", role="frame", name="Preferences")
        b.call("click", role="page tab", name="Blocked", window="Preferences")
        unblock = b.call("wait", role="push button", name="Unblock", window="Preferences")["item"]
        check(unblock.get("description") == "Alice L.", "whom it unblocks: %r" % unblock)
        b.call("click", role="push button", name="Unblock", window="Preferences")
        b.call("wait", role="label", name="Nobody is blocked", window="Preferences")
        b.call("key", keys=["Escape"])
        b.call("wait", role="frame", name="Preferences", gone=True)
        b.call("focus_window", title="TORChat")
        # Forgotten: Bob has no contact left.
        b.call("wait", role="label", name="No Contacts Yet")

    def accessible_names(self):
        for who in (self.alice, self.bob):
            for role in ("push button", "toggle button", "image", "text", "entry", "check box"):
                for item in who.call("find", role=role)["items"]:
                    name = item["name"]
                    check(name and not name.startswith("Gtk") and "_" not in name,
                          "%s: a %s without a proper name: %r" % (who.name, role, name))


def main():
    tcui.require_tools()
    tap = tcui.Tap()
    try:
        flow = Flow()
    except Exception as e:
        print("Bail out! %s" % e, flush=True)
        return 1
    try:
        cases = ["wrong_address", "add_contact", "request_arrives", "accept", "send_in_view",
                 "send_not_in_view", "click_notification", "hung_notification_server",
                 "reply_delivered", "preferences", "hide_text", "typing", "long_conversation",
                 "search", "recent_first", "second_launch", "contact_details", "blocked_list", "accessible_names"]
        failed = False
        for name in cases:
            if failed:
                tap.case(name, lambda: (_ for _ in ()).throw(tcui.Skip("an earlier step failed")))
                continue
            before = tap.failed
            tap.case(name.replace("_", "-"), getattr(flow, name))
            if tap.failed > before:
                failed = True
                flow.dump()
    finally:
        flow.stop()
        if not tap.failed:
            tcui.remove_tmpdir(flow.tmp)
        else:
            note("kept " + flow.tmp)
    return tap.done()


if __name__ == "__main__":
    sys.exit(main())
