# tcui.py: what the UI tests share: a torchat instance under its own Xvfb
# and D-Bus session, driven by tc-ui-agent.py, a test SOCKS server standing
# in for Tor, TAP output and screenshots.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
TIMEOUT = float(os.environ.get("TC_UI_TIMEOUT", "30"))
# The UI tests run on encrypted profiles, unlocked with --passphrase-file.
PASSPHRASE = "correct horse battery staple of the UI tests"


def require_tools():
    """Exits with a TAP skip when the UI test tools are missing."""
    missing = [tool for tool in ("Xvfb", "dbus-run-session", "xdotool") if shutil.which(tool) is None]
    try:
        import pyatspi  # noqa: F401
    except ImportError:
        missing.append("python3-pyatspi")
    if missing:
        print("1..0 # SKIP missing: " + ", ".join(missing), flush=True)
        sys.exit(0)


def binary():
    path = os.environ.get("TORCHAT_BINARY")
    if not path:
        raise SystemExit("TORCHAT_BINARY is not set")
    return path


def note(*args):
    for line in " ".join(str(a) for a in args).splitlines():
        print("# " + line, flush=True)


class Tap:
    """Minimal TAP: one line per case, a plan at the end."""

    def __init__(self):
        self.n = 0
        self.failed = 0

    def case(self, name, func, *args):
        self.n += 1
        start = time.monotonic()
        try:
            func(*args)
            print("ok %d %s" % (self.n, name), flush=True)
            note("%s took %.1f s" % (name, time.monotonic() - start))
        except Skip as e:
            print("ok %d %s # SKIP %s" % (self.n, name, e), flush=True)
        except Exception as e:
            self.failed += 1
            import traceback
            for line in traceback.format_exc().splitlines():
                print("# " + line, flush=True)
            print("not ok %d %s" % (self.n, name), flush=True)

    def done(self):
        print("1..%d" % self.n, flush=True)
        return 1 if self.failed else 0


class Skip(Exception):
    pass


def check(cond, message):
    if not cond:
        raise AssertionError(message)


def wait_until(func, timeout=TIMEOUT, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = func()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for " + what)
        time.sleep(0.2)


class Xvfb:
    """An X server of its own, on the display number it picks (-displayfd)."""

    def __init__(self, tmpdir, size="1280x800x24"):
        self.fbdir = os.path.join(tmpdir, "fb")
        os.makedirs(self.fbdir, exist_ok=True)
        r, w = os.pipe()
        self.proc = subprocess.Popen(
            ["Xvfb", "-displayfd", str(w), "-screen", "0", size, "-nolisten", "tcp",
             "-fbdir", self.fbdir, "-noreset"],
            pass_fds=[w], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(w)
        data = b""
        with os.fdopen(r, "rb") as f:
            while not data.endswith(b"\n"):
                chunk = f.read(1)
                if not chunk:
                    raise RuntimeError("Xvfb did not start")
                data += chunk
        self.display = ":" + data.decode().strip()

    def framebuffer(self):
        """(width, height, bytes per line, pixels) of the screen, 32-bit
        little-endian BGRX, from the XWD file Xvfb keeps in -fbdir."""
        with open(os.path.join(self.fbdir, "Xvfb_screen0"), "rb") as f:
            data = f.read()
        (header_size, _version, _format, _depth, width, height, _xoff, _byte_order, _unit,
         _bit_order, _pad, _bpp, bpl, _visual, _rmask, _gmask, _bmask, _bits, _entries,
         ncolors, *_rest) = struct.unpack(">25I", data[:100])
        offset = header_size + ncolors * 12
        return width, height, bpl, data[offset:offset + height * bpl]

    def pixels(self, x, y, width, height):
        """The raw pixels (BGRX) of a rectangle of the screen."""
        _, _, bpl, data = self.framebuffer()
        return b"".join(data[row * bpl + x * 4: row * bpl + (x + width) * 4]
                        for row in range(y, y + height))

    def screenshot(self, path):
        """Writes the screen as PNG."""
        width, height, bpl, pixels = self.framebuffer()
        # Only what windows cover: the root window stays black.
        top, bottom, left, right = height, -1, width, -1
        for y in range(height):
            line = pixels[y * bpl: y * bpl + width * 4]
            # Rows with only the pointer on black do not count.
            if len(line) - line.count(0) < 40 * 3:
                continue
            top, bottom = min(top, y), y
            stripped = line.rstrip(b"\0")
            right = max(right, (len(stripped) + 3) // 4 - 1)
            lead = len(line) - len(line.lstrip(b"\0"))
            left = min(left, lead // 4)
        if bottom < 0:
            top, bottom, left, right = 0, height - 1, 0, width - 1
        rows = []
        for y in range(top, bottom + 1):
            line = pixels[y * bpl + left * 4: y * bpl + (right + 1) * 4]
            row = bytearray(b"\0")
            # 32 bits per pixel, little-endian BGRX.
            for x in range(0, len(line), 4):
                row += bytes((line[x + 2], line[x + 1], line[x]))
            rows.append(bytes(row))
        write_png(path, right - left + 1, bottom - top + 1, b"".join(rows), level=9)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


class Socks:
    """tests/tc-test-socks.c: maps NAME.onion to loopback ports from a file."""

    def __init__(self, tmpdir):
        self.map_path = os.path.join(tmpdir, "socks-map")
        self.log_path = os.path.join(tmpdir, "socks.log")
        port_file = os.path.join(tmpdir, "socks-port")
        self.entries = {}
        self.write_map()
        self.proc = subprocess.Popen(
            [os.environ["TORCHAT_TEST_SOCKS"], "--map", self.map_path, "--port-file", port_file],
            stdout=subprocess.DEVNULL, stderr=open(self.log_path, "w"))
        self.port = int(wait_until(lambda: os.path.exists(port_file) and open(port_file).read().strip(),
                                   what="the SOCKS server's port"))
        self.address = "127.0.0.1:%d" % self.port

    def add(self, onion, port, rate=0):
        """@rate: bytes per second each way to @onion, 0 for no limit."""
        self.entries[onion] = (port, rate)
        self.write_map()

    def remove(self, onion):
        self.entries.pop(onion, None)
        self.write_map()

    def write_map(self):
        tmp = self.map_path + ".tmp"
        with open(tmp, "w") as f:
            for onion, (port, rate) in self.entries.items():
                f.write("%s 127.0.0.1:%d%s\n" % (onion, port, " %d" % rate if rate else ""))
        os.rename(tmp, self.map_path)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait()


class Instance:
    """One torchat window: its own Xvfb, `dbus-run-session`, notification
    server and profile, driven through tc-ui-agent.py."""

    def __init__(self, name, tmpdir, args, notify_delay=0, size="1280x800x24", bench=False,
                 profile=None, passphrase="", wait_id=True, env=None):
        """A new profile is encrypted with PASSPHRASE (or @passphrase), given
        through --passphrase-file; a @profile made elsewhere opens as it is
        unless a @passphrase is given; with passphrase=None the window asks
        (or the profile is plaintext). With wait_id=False the node may stay
        locked: no `torchat id` is awaited. The same @name again restarts on
        the same profile. @env: more environment variables for torchat."""
        if passphrase == "":
            passphrase = PASSPHRASE if profile is None else None
        self.name = name
        self.dir = os.path.join(tmpdir, name)
        os.makedirs(self.dir, exist_ok=True)
        self.profile = profile or os.path.join(self.dir, "profile")
        os.makedirs(self.profile, mode=0o700, exist_ok=True)
        if passphrase is not None:
            path = os.path.join(self.dir, "passphrase")
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(passphrase)
            args = ["--passphrase-file", path] + list(args)
        self.xvfb = Xvfb(self.dir, size)
        extra_env = env or {}
        env = dict(os.environ)
        env.update(extra_env)
        env["DISPLAY"] = self.xvfb.display
        env.pop("DBUS_SESSION_BUS_ADDRESS", None)
        env.pop("AT_SPI_BUS_ADDRESS", None)
        env.pop("WAYLAND_DISPLAY", None)
        env["XDG_RUNTIME_DIR"] = os.path.join(self.dir, "run")
        os.makedirs(env["XDG_RUNTIME_DIR"], mode=0o700, exist_ok=True)
        self.agent_log = open(os.path.join(self.dir, "agent.log"), "w")
        r, w = os.pipe()
        self.agent = subprocess.Popen(
            ["dbus-run-session", "--", "/usr/bin/python3", os.path.join(HERE, "tc-ui-agent.py"),
             "--dir", self.dir, "--reply-fd", str(w), "--notify-delay", str(notify_delay)] +
            (["--bench"] if bench else []) + ["--",
             binary(), "--profile", self.profile] + list(args),
            stdin=subprocess.PIPE, stdout=self.agent_log, stderr=self.agent_log,
            text=True, env=env, pass_fds=[w])
        os.close(w)
        self.replies = os.fdopen(r, "r")
        ready = self._read()
        if not ready.get("ok"):
            self.dump_logs()
            raise RuntimeError("%s did not start: %s" % (name, ready.get("error")))
        self.address = self.port = None
        if wait_id:
            self.address, self.port = self.read_id()
            if passphrase is not None:
                check(os.path.exists(os.path.join(self.profile, "profile.key")) and
                      not os.path.exists(os.path.join(self.profile, "identity.key")),
                      "%s's profile is encrypted" % name)

    def _read(self):
        line = self.replies.readline()
        if not line:
            return {"ok": False, "error": "the agent ended"}
        return json.loads(line)

    def call(self, cmd, **kwargs):
        kwargs["cmd"] = cmd
        start = time.monotonic()
        self.agent.stdin.write(json.dumps(kwargs) + "\n")
        self.agent.stdin.flush()
        reply = self._read()
        if os.environ.get("TC_UI_TIMING") and time.monotonic() - start > 2:
            note("%s: %s %r took %.1f s" % (self.name, cmd, kwargs, time.monotonic() - start))
        if not reply.get("ok"):
            raise AssertionError("%s: %s: %s" % (self.name, cmd, reply.get("error")))
        return reply

    def try_call(self, cmd, **kwargs):
        try:
            return self.call(cmd, **kwargs)
        except AssertionError:
            return None

    def cli(self, *args):
        return subprocess.run([binary(), "--profile", self.profile] + list(args),
                              capture_output=True, text=True, timeout=30)

    def read_id(self):
        def ask():
            result = self.cli("--json", "id")
            if result.returncode != 0:
                return None
            data = json.loads(result.stdout)
            return data.get("address"), data.get("listen-port")

        return wait_until(ask, what="%s's node to answer `id`" % self.name)

    def notifications(self, event=None):
        events = self.call("notifications")["events"]
        return [e for e in events if event is None or e["event"] == event]

    def screenshot(self, path):
        self.xvfb.screenshot(path)

    def dump_logs(self):
        for log in ("agent.log", "torchat.log"):
            path = os.path.join(self.dir, log)
            if os.path.exists(path):
                with open(path, errors="replace") as f:
                    text = f.read()[-4000:]
                note("--- %s %s ---\n%s" % (self.name, log, text))

    def stop(self):
        if self.agent.poll() is None:
            try:
                self.agent.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.agent.stdin.flush()
                self.agent.wait(timeout=30)
            except Exception:
                self.agent.kill()
                self.agent.wait()
        self.xvfb.stop()


def sha256(path):
    """The SHA-256 of a file, as lowercase hex (what the node reports)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_png(path, width, height, raw, level=1):
    """An RGB PNG from @raw: rows of 3-byte pixels, each row after a 0 byte
    (PNG's "no filter")."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body +
                struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))

    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" +
                chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
                chunk(b"IDAT", zlib.compress(raw, level)) + chunk(b"IEND", b""))


class Pair:
    """Alice and Bob: two windows on their own profiles, reaching each other
    through one test SOCKS server, with the names each side shows."""

    def __init__(self, prefix):
        self.tmp = make_tmpdir(prefix)
        self.socks = Socks(self.tmp)
        node_args = ["--listen", "127.0.0.1:0", "--socks", self.socks.address]
        self.alice = Instance("alice", self.tmp, node_args)
        self.bob = Instance("bob", self.tmp, node_args)
        for who in (self.alice, self.bob):
            self.socks.add(who.address, who.port)
        check(self.alice.cli("profile", "Alice").returncode == 0, "alice profile")
        check(self.bob.cli("profile", "Bob").returncode == 0, "bob profile")
        self.shots = os.environ.get("TORCHAT_SCREENSHOT_DIR")

    def screenshot(self, who, name):
        if self.shots:
            os.makedirs(self.shots, exist_ok=True)
            who.call("mouse_away")
            time.sleep(0.3)
            who.screenshot(os.path.join(self.shots, name))

    def stop(self):
        for who in (self.alice, self.bob):
            who.stop()
        self.socks.stop()

    def dump(self):
        for who in (self.alice, self.bob):
            # One the test stopped has only its logs.
            tree = who.try_call("dump") if who.agent.poll() is None else None
            if tree:
                note("--- %s's window ---\n%s" % (who.name, tree["tree"]))
            who.dump_logs()


def make_tmpdir(prefix):
    return tempfile.mkdtemp(prefix=prefix)


def remove_tmpdir(path):
    shutil.rmtree(path, ignore_errors=True)


# Helpers for the tests of restarts, Tor trouble and typing.

def befriend(pair, timeout=60):
    """Alice asks Bob and Bob accepts, on the command line (the dialog has
    its own test in test-flow.py); returns once both sides say "accepted"
    and see each other online."""
    a, b = pair.alice, pair.bob
    check(a.cli("add", b.address, "Bob").returncode == 0, "alice adds bob")
    wait_until(lambda: contact_line(b, a.address, "pending"), timeout=timeout,
               what="Alice's request to reach Bob")
    check(b.cli("accept", a.address).returncode == 0, "bob accepts alice")
    wait_until(lambda: online(a, b.address) and online(b, a.address),
               timeout=timeout, what="Alice and Bob to see each other online")


def contact_line(who, address, *words):
    """@who's `torchat contacts` line for @address if it has every one of
    @words, else None."""
    result = who.cli("contacts")
    if result.returncode != 0:
        return None
    for line in result.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == address and all(w in fields[1:] for w in words):
            return line
    return None


def online(who, address):
    """@who has @address as an accepted contact that is not offline."""
    line = contact_line(who, address, "accepted")
    return line is not None and line.split()[2] != "offline"


def closed_port():
    """A loopback TCP socket bound but never listening, and its port:
    connections to it are refused for as long as the socket is kept."""
    import socket
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    return sock, sock.getsockname()[1]


def start_tor_network(tmp):
    """tests/tor-network.sh start: the private Tor network on loopback;
    returns (directory, torrc for a client). Raises Skip without tor."""
    script = os.environ["TORCHAT_TOR_NETWORK"]
    env = dict(os.environ, TORNET_OWNER_PID=str(os.getpid()))
    for attempt in range(2):
        directory = os.path.join(tmp, "tornet%d" % attempt)
        result = subprocess.run(["/bin/sh", script, "start", directory], capture_output=True,
                                text=True, env=env, timeout=300)
        if result.returncode == 77:
            raise Skip("no tor")
        if result.returncode == 0:
            note(result.stderr.strip())
            return directory, result.stdout.strip()
        note("the private Tor network did not come up: " + result.stderr[-2000:])
        subprocess.run(["/bin/sh", script, "stop", directory], capture_output=True, timeout=120)
    raise RuntimeError("the private Tor network did not come up twice")


def stop_tor_network(directory):
    subprocess.run(["/bin/sh", os.environ["TORCHAT_TOR_NETWORK"], "stop", directory],
                   capture_output=True, timeout=120)


def tor_processes(profile):
    """PIDs of the tors running with a torrc in @profile (the window's own
    managed tor)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        words = [w.decode(errors="replace") for w in argv if w]
        if (words and os.path.basename(words[0]) == "tor" and
                any(w.startswith(os.path.join(profile, "")) for w in words)):
            found.append(int(pid))
    return found


class Headless:
    """`torchat --headless` on @who's profile (its window stopped first):
    the node without any window, on a new listening port."""

    def __init__(self, who, args):
        self.who = who
        self.log_path = os.path.join(who.dir, "headless.log")
        passphrase = os.path.join(who.dir, "passphrase")
        extra = ["--passphrase-file", passphrase] if os.path.exists(passphrase) else []
        env = dict(os.environ)
        env.pop("DISPLAY", None)
        self.proc = subprocess.Popen([binary(), "--headless", "--profile", who.profile] + extra +
                                     list(args),
                                     stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=open(self.log_path, "w"), env=env)
        self.address, self.port = who.read_id()

    def stop(self):
        if self.proc.poll() is None:
            self.who.cli("quit")
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode
