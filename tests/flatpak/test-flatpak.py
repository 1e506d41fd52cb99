#!/usr/bin/python3
# The Flatpak as a user gets it, driven from outside the sandbox: built and
# installed from a bundle (flatpak/build-test.sh), started with `flatpak run`
# on a private X server and session bus (tests/flatpak/run.sh), it shows its
# window on the accessibility bus, runs its own tor inside the sandbox, keeps
# its profile in the sandbox's data directory, and a message from a headless
# node on the host arrives and raises a notification through the portal.
# Under LANGUAGE=de the window speaks German (the Locale extension).
#
# Prints TAP. SPDX-License-Identifier: GPL-3.0-or-later
import atexit
import json
import os
import re
import signal
import subprocess
import sys
import time

APP_ID = "io.github.torchat.TorChat"
SRC = os.environ["TORCHAT_SOURCE_DIR"]
WORK = os.environ["TORCHAT_FLATPAK_WORK"]
TMP = os.environ["TORCHAT_TMP"]
HOME = os.environ["HOME"]
TORCHAT = os.environ.get("TORCHAT_BINARY", "")
TEST_SOCKS = os.environ.get("TORCHAT_TEST_SOCKS", "")
SANDBOX_PROFILE = os.path.join(HOME, ".var", "app", APP_ID, "data", "torchat", "default")

count = 0
failed = 0
children = []


def diag(text):
    for line in str(text).rstrip().splitlines():
        print("# " + line)
    sys.stdout.flush()


def ok(cond, name, why=""):
    global count, failed
    count += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", count, name))
    if not cond:
        failed += 1
        if why:
            diag(why)
    sys.stdout.flush()
    return cond


def bail(text):
    print("Bail out! " + text)
    sys.stdout.flush()
    cleanup()
    sys.exit(1)


def wait_for(predicate, timeout, interval=0.25):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > end:
            return value
        time.sleep(interval)


def spawn(argv, log, **kwargs):
    out = open(os.path.join(TMP, log), "w")
    proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, **kwargs)
    children.append(proc)
    return proc


def log_tail(log, lines=25):
    try:
        with open(os.path.join(TMP, log)) as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


def flatpak(*args, timeout=120, env=None):
    return subprocess.run(["flatpak", "--user"] + list(args), capture_output=True,
                          text=True, timeout=timeout, env=env)


def instance():
    """The running app's instance (`flatpak ps` can still list ended ones)."""
    r = subprocess.run(["flatpak", "ps", "--columns=instance,child-pid,application"],
                       capture_output=True, text=True, timeout=30)
    for line in reversed(r.stdout.splitlines()):
        fields = line.split()
        if len(fields) == 3 and fields[2] == APP_ID and fields[1].isdigit() and \
                os.path.exists("/proc/%s" % fields[1]):
            return fields[0]
    return None


def sandbox_torchat(*args):
    """`torchat COMMAND` inside the running app's sandbox (`flatpak enter`, as
    README says: a second `flatpak run` is a sandbox of its own, whose peer
    credentials the control socket cannot check)."""
    inst = instance()
    if inst is None:
        return subprocess.CompletedProcess(args, 3, "", "the app is not running")
    # `flatpak enter` keeps the caller's environment: name the profile.
    return subprocess.run(["flatpak", "enter", inst, "/app/bin/torchat",
                           "--profile", SANDBOX_PROFILE] + list(args),
                          capture_output=True, text=True, timeout=60)


def host_torchat(profile, *args):
    return subprocess.run([TORCHAT, "--profile", profile] + list(args), capture_output=True,
                          text=True, timeout=60)


def cleanup():
    subprocess.run(["flatpak", "--user", "kill", APP_ID], capture_output=True)
    for proc in reversed(children):
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()


# Whatever happens, nothing started here outlives the test.
atexit.register(cleanup)

# --- build and install -------------------------------------------------------

start = time.monotonic()
build = subprocess.run(["sh", os.path.join(SRC, "flatpak", "build-test.sh"), WORK],
                       stdout=open(os.path.join(TMP, "build.log"), "w"),
                       stderr=subprocess.STDOUT)
diag("build-test.sh took %.0f s" % (time.monotonic() - start))
if not ok(build.returncode == 0, "the Flatpak builds on the Debian runtime and installs "
          "from its bundle", log_tail("build.log", 40)):
    bail("nothing to test without the Flatpak")

os.environ["FLATPAK_USER_DIR"] = os.path.join(WORK, "flatpak-user")

info = flatpak("info", "--show-permissions", APP_ID)
perms = info.stdout
# fallback-x11 is shown with the x11 it implies.
expected = {
    "shared": {"network", "ipc"},
    "sockets": {"wayland", "fallback-x11", "x11"},
    "devices": {"dri"},
}
got = {}
for line in perms.splitlines():
    m = re.match(r"^(\w[\w-]*)=(.*);?$", line.strip())
    if m:
        got[m.group(1)] = {v for v in m.group(2).split(";") if v}
ok(all(got.get(k, set()) == v for k, v in expected.items()) and
   got.get("filesystems") == {"xdg-download"} and "[Session Bus Policy]" not in perms and
   "[System Bus Policy]" not in perms,
   "the sandbox has network, IPC, Wayland with X11 fallback, DRI and the Downloads "
   "folder, and no other files or bus names", perms)

# --- a private display, and the session services the sandbox talks to --------

read_fd, write_fd = os.pipe()
xvfb = subprocess.Popen(["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24",
                         "-nolisten", "tcp"], pass_fds=(write_fd,),
                        stdout=subprocess.DEVNULL,
                        stderr=open(os.path.join(TMP, "xvfb.log"), "w"))
children.append(xvfb)
os.close(write_fd)
# Xvfb writes the number and the newline apart: read both before closing,
# or the second write fails and Xvfb exits.
display = b""
while not display.endswith(b"\n"):
    chunk = os.read(read_fd, 64)
    if not chunk:
        break
    display += chunk
os.close(read_fd)
display = display.decode().strip()
if not display:
    bail("Xvfb did not start")
os.environ["DISPLAY"] = ":" + display

# Services the bus starts (the portals, the accessibility bus) see DISPLAY too.
subprocess.run(["dbus-update-activation-environment", "DISPLAY", "XDG_CURRENT_DESKTOP",
                "XDG_RUNTIME_DIR", "HOME"], check=False)

notify_log = os.path.join(TMP, "notifications.jsonl")
spawn(["/usr/bin/python3", os.path.join(SRC, "tests", "flatpak", "notification-server.py"),
       notify_log], "notification-server.log")
if not wait_for(lambda: os.path.exists(notify_log), 10):
    bail("the notification server did not start: " + log_tail("notification-server.log"))


def notifications():
    try:
        with open(notify_log) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


import pyatspi  # noqa: E402  (after the bus has DISPLAY)


def accessible_apps():
    desktop = pyatspi.Registry.getDesktop(0)
    return [desktop.getChildAtIndex(i) for i in range(desktop.childCount)]


def walk(node, depth=0):
    if node is None or depth > 60:
        return
    yield node
    try:
        n = node.childCount
    except Exception:
        return
    for i in range(n):
        try:
            child = node.getChildAtIndex(i)
        except Exception:
            continue
        yield from walk(child, depth + 1)


def find_window(title_pred):
    for app in accessible_apps():
        try:
            for i in range(app.childCount):
                window = app.getChildAtIndex(i)
                if window is not None and window.getRoleName() in ("frame", "window") \
                        and title_pred(window.name):
                    return window
        except Exception:
            continue
    return None


def texts(window):
    """Every name and label text a user can read in the window."""
    seen = set()
    for node in walk(window):
        try:
            if node.name:
                seen.add(node.name)
            text = node.queryText()
            seen.add(text.getText(0, text.characterCount))
        except Exception:
            pass
    return seen


def sandboxed(pid):
    try:
        with open("/proc/%d/root/.flatpak-info" % pid) as f:
            return "name=%s" % APP_ID in f.read()
    except OSError:
        return False


def sandbox_processes(name):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/comm" % entry) as f:
                comm = f.read().strip()
        except OSError:
            continue
        if comm == name and sandboxed(int(entry)):
            found.append(int(entry))
    return found


def start_app(log, extra_env=None):
    env = dict(os.environ)
    env["GSK_RENDERER"] = "cairo"
    env.update(extra_env or {})
    # The profile is encrypted; without the file the window would ask. The
    # app's own data directory is visible inside the sandbox at this path.
    passphrase = os.path.join(HOME, ".var", "app", APP_ID, "data", "test-passphrase")
    if not os.path.exists(passphrase):
        os.makedirs(os.path.dirname(passphrase), exist_ok=True)
        with open(os.open(passphrase, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
            f.write("passphrase of the flatpak test")
    return spawn(["flatpak", "--user", "run", APP_ID, "--passphrase-file", passphrase],
                 log, env=env)


def stop_app(proc):
    # Like a user quitting (Ctrl+Q): the node stops tor and commits its store.
    sandbox_torchat("quit")
    try:
        proc.wait(30)
        return True
    except subprocess.TimeoutExpired:
        diag("the app did not quit within 30 s; killing it")
        inst = instance()
        if inst:
            subprocess.run(["flatpak", "kill", inst], capture_output=True, timeout=30)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)
        return False


# GSettings inside the sandbox: GLib's keyfile backend, in the app's own
# config directory.
KEYFILE = os.path.join(HOME, ".var", "app", APP_ID, "config", "glib-2.0", "settings", "keyfile")


def close_action():
    try:
        with open(KEYFILE) as f:
            for line in f:
                if line.startswith("close-action="):
                    return line.split("=", 1)[1].strip().strip("'")
    except OSError:
        pass
    return None


def background_permission():
    """What the permission store holds for the app in the Background
    portal's table (None: not asked yet)."""
    # The permission store is per session bus: no --user here.
    r = subprocess.run(["flatpak", "permission-show", APP_ID], capture_output=True, text=True,
                       timeout=60)
    for line in r.stdout.splitlines():
        fields = line.split()
        if fields[:3] == ["background", "background", APP_ID]:
            return fields[3] if len(fields) > 3 else ""
    return None


# The user chose "keep running in the background" (Preferences) before.
os.makedirs(os.path.dirname(KEYFILE), exist_ok=True)
with open(KEYFILE, "w") as f:
    f.write("[io/github/torchat/TorChat]\nclose-action='background'\n")

# --- the app in the sandbox ----------------------------------------------------

# A GNOME session has its XDG folders (xdg-user-dirs); the sandbox sees the
# Downloads one through --filesystem=xdg-download.
DOWNLOADS = os.path.join(HOME, "Downloads")
os.makedirs(DOWNLOADS, exist_ok=True)
os.makedirs(os.path.join(HOME, ".config"), exist_ok=True)
with open(os.path.join(HOME, ".config", "user-dirs.dirs"), "w") as f:
    f.write('XDG_DOWNLOAD_DIR="$HOME/Downloads"\n')

# What the app asks the portals, as the portal sees it.
spawn(["dbus-monitor", "--session",
       "type='method_call',interface='org.freedesktop.portal.Background',member='RequestBackground'"],
      "portal-calls.log")
app = start_app("app.log")
window = wait_for(lambda: find_window(lambda name: name == "TORChat"), 60)
ok(window is not None, "the window appears on the accessibility bus from inside the sandbox",
   log_tail("app.log") + log_tail("xvfb.log"))
if window is None:
    bail("no window")

tors = wait_for(lambda: sandbox_processes("tor"), 60)
ok(bool(tors), "the app starts its own tor inside the sandbox", log_tail("app.log"))

# The Background portal records the app's first request (no dialog when
# nothing was decided before).
granted = wait_for(lambda: background_permission() == "yes", 30)
ok(bool(granted) and close_action() == "background",
   "with the close action \"background\" the app asks the Background portal, which allows it",
   "permission: %r, close-action: %r\n%s" % (background_permission(), close_action(),
                                             log_tail("app.log")))


def background_parent():
    """The parent window of the app's RequestBackground call ("x11:XID"),
    and the title of that X window."""
    with open(os.path.join(TMP, "portal-calls.log"), errors="replace") as f:
        found = re.search(r'member=RequestBackground\n\s*string "([^"]*)"', f.read())
    if found is None:
        return None, None
    parent = found.group(1)
    if not parent.startswith("x11:"):
        return parent, None
    info = subprocess.run(["xwininfo", "-id", "0x" + parent[4:]], capture_output=True, text=True,
                          timeout=30).stdout
    title = re.search(r'xwininfo: Window id: \S+ "(.*)"', info)
    return parent, title.group(1) if title else None


# A dialog the portal shows then sits on TORChat's window.
parent, title = background_parent()
ok(parent is not None and title == "TORChat",
   "the Background request names the app's window as its parent",
   "parent window %r, titled %r\n%s" % (parent, title, log_tail("portal-calls.log")))

ok(os.path.isdir(os.path.join(SANDBOX_PROFILE, "tor")) and
   any(n.endswith(".db") or n.startswith("profile") for n in os.listdir(SANDBOX_PROFILE)) and
   not os.path.exists(os.path.join(HOME, ".local", "share", "torchat")),
   "the profile lives in the sandbox's data directory, not in the home directory",
   "%s: %s" % (SANDBOX_PROFILE, os.listdir(SANDBOX_PROFILE)
               if os.path.isdir(SANDBOX_PROFILE) else "missing"))

last = {}


def succeeds(key, run):
    """For wait_for: the finished process if it succeeded, else False."""
    last[key] = run()
    return last[key].returncode == 0 and last[key].stdout and last[key]


ident = wait_for(lambda: succeeds("id", lambda: sandbox_torchat("--json", "id")), 30, 1)
ok(bool(ident), "`torchat id` in the app's sandbox reaches the running app",
   last["id"].stdout + last["id"].stderr)
if not ident:
    bail("no address")
diag("torchat --json id: %r %r" % (ident.stdout, ident.stderr))
ident = json.loads(ident.stdout)
address, listen_port = ident["address"], ident["listen-port"]
diag("the sandboxed node listens on 127.0.0.1:%d" % listen_port)

# --- a message from a headless node outside ---------------------------------

if not (TORCHAT and TEST_SOCKS):
    bail("TORCHAT_BINARY and TORCHAT_TEST_SOCKS are needed for the headless node")

# The sandbox shares the network namespace (--share=network): the test SOCKS
# server, standing in for Tor, splices the headless node to the app's port.
socks_map = os.path.join(TMP, "socks.map")
socks_port_file = os.path.join(TMP, "socks.port")
with open(socks_map, "w") as f:
    f.write("%s 127.0.0.1:%d\n" % (address, listen_port))
spawn([TEST_SOCKS, "--map", socks_map, "--port-file", socks_port_file], "socks.log")
socks_port = wait_for(lambda: os.path.exists(socks_port_file) and
                      open(socks_port_file).read().strip(), 10)
if not socks_port:
    bail("the test SOCKS server did not start: " + log_tail("socks.log"))

bob = os.path.join(TMP, "bob")
os.makedirs(bob, mode=0o700)
bob_passphrase = os.path.join(TMP, "bob.passphrase")
with open(os.open(bob_passphrase, os.O_WRONLY | os.O_CREAT, 0o600), "w") as f:
    f.write("correct horse battery staple\n")
spawn([TORCHAT, "--headless", "--profile", bob, "--passphrase-file", bob_passphrase,
       "--socks", "127.0.0.1:" + socks_port, "--listen", "127.0.0.1:0"], "bob.log")
bob_id = wait_for(lambda: succeeds("bob", lambda: host_torchat(bob, "id")), 30)
if not bob_id:
    bail("the headless node did not start: " + log_tail("bob.log"))
bob_address = bob_id.stdout.strip()
host_torchat(bob, "profile", "Bob")

# A notification is for a user who is in another window: another X client
# takes the focus (without a window manager the app keeps it otherwise).
other = spawn(["xmessage", "-geometry", "200x60+1000+700", "another window"], "xmessage.log")
other_id = wait_for(lambda: subprocess.run(["xdotool", "search", "--classname", "xmessage"],
                                           capture_output=True, text=True).stdout.split(), 10)
if other_id:
    subprocess.run(["xdotool", "windowfocus", "--sync", other_id[0]], timeout=10, check=False)


def window_active():
    try:
        return window.getState().contains(pyatspi.STATE_ACTIVE)
    except Exception:
        return None


wait_for(lambda: window_active() is False, 10)
ok(window_active() is False, "another window takes the focus from the app",
   "xmessage: %s" % other_id)

host_torchat(bob, "add", address, "Alice", "Hello, it is Bob")
request = wait_for(lambda: [n for n in notifications() if "Bob" in n["summary"]], 30)
ok(bool(request), "a contact request from the headless node raises a notification",
   log_tail("app.log") + log_tail("bob.log") + log_tail("socks.log"))

accepted = sandbox_torchat("accept", bob_address)
contacts = sandbox_torchat("contacts")
ok(accepted.returncode == 0 and
   any(line.startswith(bob_address) and " accepted " in line + " "
       for line in contacts.stdout.splitlines()),
   "the request is accepted from inside the sandbox",
   accepted.stderr + contacts.stdout + contacts.stderr)

text = "A message from outside the sandbox"
host_torchat(bob, "send", address, text)


def delivered():
    r = sandbox_torchat("history", bob_address)
    return r.returncode == 0 and text in r.stdout and r


arrived = wait_for(delivered, 30, 1)
ok(bool(arrived), "the message arrives in the sandboxed app's history",
   log_tail("app.log") + log_tail("bob.log"))

receipt = wait_for(lambda: (lambda r: re.search(r">\s+delivered\b.*" + text, r.stdout) and r)(
    host_torchat(bob, "history", address)), 30, 1)
ok(bool(receipt), "the sender gets the receipt: the message was written to disk in the sandbox",
   host_torchat(bob, "history", address).stdout)

note = wait_for(lambda: [n for n in notifications() if text in n["body"]], 30)
ok(bool(note), "the message raises a notification", json.dumps(notifications(), indent=1))
if note:
    n = note[-1]
    ok(n["caller"].startswith("xdg-desktop-portal") and
       n["desktop_entry"] in (APP_ID, APP_ID + ".desktop") or n["app_name"] == APP_ID,
       "the notification came through the portal, on behalf of %s" % APP_ID, json.dumps(n))
    ok("Bob" in n["summary"], "the notification names the sender", json.dumps(n))

    # The user clicks it: the portal hands the click to the app, which opens
    # the conversation, where the message is (the sidebar shows it too, as
    # the contact's last message: once before the click, twice after).
    def times_shown():
        found = 0
        for node in walk(window):
            try:
                seen = node.name or ""
                if text not in seen:
                    t = node.queryText()
                    seen = t.getText(0, t.characterCount)
                found += text in seen
            except Exception:
                pass
        return found

    before = times_shown()
    with open(notify_log + ".click", "a") as f:
        f.write("%d default\n" % n["id"])
    after = wait_for(lambda: times_shown() > before and times_shown(), 15)
    ok(bool(after), "clicking the notification opens the conversation with the message",
       "shown %d times before the click, %s after; actions: %s" % (before, after, n["actions"]))

# --- a file from outside lands in the user's Downloads folder ---------------

sent_path = os.path.join(TMP, "notes from Bob.txt")
sent_bytes = os.urandom(300 * 1024)
with open(sent_path, "wb") as f:
    f.write(sent_bytes)
offer = host_torchat(bob, "send-file", address, sent_path)
tid = offer.stdout.split("\n")[0].strip() if offer.returncode == 0 else ""


def sandbox_transfer():
    r = sandbox_torchat("--json", "transfers")
    try:
        return next((t for t in json.loads(r.stdout) if t["id"] == tid), None)
    except (ValueError, KeyError):
        return None


offered = tid and wait_for(lambda: (sandbox_transfer() or {}).get("state") == "offered", 30, 1)
accepted = offered and sandbox_torchat("accept-file", tid)
done = accepted and accepted.returncode == 0 and \
    wait_for(lambda: (sandbox_transfer() or {}).get("state") == "done", 30, 1)
landed = os.path.join(DOWNLOADS, "notes from Bob.txt")
ok(bool(done) and os.path.isfile(landed) and open(landed, "rb").read() == sent_bytes,
   "a file sent to the sandboxed app and accepted lands in the user's Downloads folder",
   "offer: %r\naccept: %r\ntransfer: %r\nDownloads: %s" % (
       offer.stdout + offer.stderr, accepted and (accepted.stdout + accepted.stderr),
       sandbox_transfer(), os.listdir(DOWNLOADS)))

quit_ok = stop_app(app)
ok(quit_ok and not sandbox_processes("tor"), "`torchat quit` ends the app and its tor",
   "quit by itself: %s; tor: %s" % (quit_ok, sandbox_processes("tor")))

# --- running in the background refused --------------------------------------

# The user said no in the system settings (Apps): the next start is told so,
# and closing the window quits again.
subprocess.run(["flatpak", "permission-set", "background", "background", APP_ID, "no"],
               capture_output=True, text=True, timeout=60)
app = start_app("app-denied.log")
window = wait_for(lambda: find_window(lambda name: name == "TORChat"), 60)
heading = "Running in the Background Is Not Allowed"
told = wait_for(lambda: window is not None and
                any(heading in t for app_ in accessible_apps() for t in texts(app_)), 30)
ok(bool(told) and wait_for(lambda: close_action() == "quit", 10),
   "refused by the Background portal, the app says so and closing the window quits",
   "permission: %r, close-action: %r\n%s" % (background_permission(), close_action(),
                                             log_tail("app-denied.log")))
stop_app(app)

# --- German ----------------------------------------------------------------


def po_translations(path):
    """msgid → msgstr of the complete, single-line entries of a .po file."""
    table = {}
    entry = {}
    key = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("msgid "):
                entry = {"msgid": line[6:].strip('"')}
                key = "msgid"
            elif line.startswith("msgstr "):
                entry["msgstr"] = line[7:].strip('"')
                key = "msgstr"
            elif line.startswith('"') and key:
                entry[key] = entry.get(key, "") + line.strip('"')
            elif not line:
                if entry.get("msgid") and entry.get("msgstr"):
                    table[entry["msgid"]] = entry["msgstr"]
                entry, key = {}, None
    if entry.get("msgid") and entry.get("msgstr"):
        table[entry["msgid"]] = entry["msgstr"]
    return table


de = po_translations(os.path.join(SRC, "po", "de.po"))
app = start_app("app-de.log", {"LANGUAGE": "de", "LANG": "C.UTF-8", "LC_ALL": ""})
window = wait_for(lambda: find_window(lambda name: name == de.get("TORChat", "TORChat")), 60)
shown = wait_for(lambda: window is not None and texts(window), 10) or set()
german = sorted(s for s in shown if s in de.values() and s not in de.keys())
english = sorted(s for s in shown if s in de.keys() and de[s] != s)
ok(window is not None and len(german) >= 3 and not english,
   "under LANGUAGE=de the window shows its labels in German",
   "window: %s\nGerman: %s\nstill English: %s\n%s" % (window is not None, german, english,
                                                     log_tail("app-de.log")))
if german:
    diag("German labels: " + ", ".join(german[:6]))
stop_app(app)

cleanup()
print("1..%d" % count)
sys.exit(1 if failed else 0)
