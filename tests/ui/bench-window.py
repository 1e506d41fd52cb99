#!/usr/bin/python3
# bench-window.py: the real window on a profile of 1,000 contacts and a
# conversation of 100,000 messages, against the same window on an empty
# profile (docs/benchmarks.md). A benchmark: it reports, it does not judge.
#
# Environment: TORCHAT_BINARY, TORCHAT_BENCH_PROFILE (bench-window-profile),
# GSETTINGS_SCHEMA_DIR; BENCH_CONTACTS, BENCH_MESSAGES to change the size;
# BENCH_PERF=file to record where the scrolling time goes (perf record, with
# BENCH_PERF_ARGS, default -g),
# BENCH_LOG=file to keep the window's log with its frame times.
# The renderer is cairo (GSK_RENDERER, set by the agent), under Xvfb. Both
# profiles are then opened once more without the accessibility bus
# (GTK_A11Y=none), for what the accessibility objects cost.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
import shutil
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tcui  # noqa: E402

CONTACTS = int(os.environ.get("BENCH_CONTACTS", "1000"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "100000"))
NEWEST = "Message number %d, the newest" % MESSAGES


def rss_kib(pid):
    """VmRSS, and its parts: anonymous memory (heap, GSlice, stacks),
    mapped files (libraries, fonts, icon caches) and shared memory (the X
    server's MIT-SHM images), in KiB."""
    parts = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key = line.split(":")[0]
            if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                parts[key] = int(line.split()[1])
    return parts


def frames(instance):
    """(end time in s, duration in ms) of every frame the window logged."""
    out = []
    with open(os.path.join(instance.dir, "torchat.log"), errors="replace") as f:
        for line in f:
            if line.startswith("tc-frame "):
                _, ms, end = line.split()
                out.append((int(end) / 1e6, float(ms)))
    return out


def first_frame(instance):
    launched = instance.call("launched")["monotonic"]
    logged = tcui.wait_until(lambda: frames(instance), what="a first frame")
    return (logged[0][0] - launched) * 1000


def settle(instance, seconds=3):
    time.sleep(seconds)
    return rss_kib(instance.call("pid")["pid"])


def run(tmp, name, contacts, messages):
    profile = os.path.join(tmp, name, "profile")
    os.makedirs(profile, mode=0o700)
    start = time.monotonic()
    made = subprocess.run([os.environ["TORCHAT_BENCH_PROFILE"], profile, str(contacts), str(messages)],
                          capture_output=True, text=True, timeout=600)
    if made.returncode != 0:
        raise RuntimeError(made.stderr)
    tcui.note("%s: profile of %d contacts, %d messages made in %.1f s" %
              (name, contacts, messages, time.monotonic() - start))
    # No Tor: a SOCKS port nothing listens on; the window does not wait for it.
    instance = tcui.Instance(name, tmp, ["--listen", "127.0.0.1:0", "--socks", "127.0.0.1:9"],
                             bench=True, profile=profile)
    result = {"first_frame_ms": first_frame(instance), "rss_idle_kib": settle(instance)}
    result["profile"] = profile
    if messages:
        # Where "Busy" is, for the run without the accessibility bus.
        result["busy_at"] = instance.call("find", role="label", name="Busy")["items"][0]["extents"]
        clicked = instance.call("click", role="label", name="Busy")["clicked"]
        instance.call("wait", role="label", name=NEWEST, timeout=30)
        result["click_to_newest_ms"] = (time.monotonic() - clicked) * 1000
        # What finding a label costs the observer, for the figure above.
        start = time.monotonic()
        instance.call("wait", role="label", name=NEWEST, timeout=30)
        result["observe_ms"] = (time.monotonic() - start) * 1000
        result["rss_open_kib"] = settle(instance, 2)
        perf = None
        if os.environ.get("BENCH_PERF"):
            # Where the scrolling time goes: perf record -g on the window.
            args = os.environ.get("BENCH_PERF_ARGS", "-g").split()
            perf = subprocess.Popen(["perf", "record", "-q", *args, "-o", os.environ["BENCH_PERF"],
                                     "-p", str(instance.call("pid")["pid"])],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(1)
        scroll = instance.call("scroll", role="list", name="Messages", clicks=300, delay=16)
        if perf is not None:
            perf.send_signal(2)
            perf.wait(timeout=60)
        time.sleep(1)
        during = [ms for end, ms in frames(instance) if scroll["start"] <= end <= scroll["end"] + 0.5]
        result["scroll_frames"] = len(during)
        if during:
            during.sort()
            result["scroll_median_ms"] = statistics.median(during)
            result["scroll_p95_ms"] = during[int(len(during) * 0.95) - 1 if len(during) > 1 else 0]
            result["scroll_max_ms"] = during[-1]
            result["scroll_slow"] = sum(1 for ms in during if ms > 16)
        result["rss_scrolled_kib"] = settle(instance, 2)
        if os.environ.get("BENCH_LOG"):
            shutil.copyfile(os.path.join(instance.dir, "torchat.log"), os.environ["BENCH_LOG"])
    instance.stop()
    return result


def child_pid(parent, comm):
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                fields = f.read().rsplit(")", 1)[1].split()
            with open("/proc/%s/comm" % entry) as f:
                name = f.read().strip()
        except OSError:
            continue
        if int(fields[1]) == parent and name == comm:
            return int(entry)
    return None


def run_without_a11y(tmp, name, profile, busy_at=None):
    """The same window with GTK_A11Y=none, as without any accessibility
    bus: nothing can observe it, so the conversation is opened by clicking
    where "Busy" was in the observed run, and the RSS read 3 s later."""
    directory = os.path.join(tmp, name + "-no-a11y")
    os.makedirs(os.path.join(directory, "run"), mode=0o700)
    xvfb = tcui.Xvfb(directory)
    env = dict(os.environ, DISPLAY=xvfb.display, GTK_A11Y="none", GSK_RENDERER="cairo",
               XDG_RUNTIME_DIR=os.path.join(directory, "run"))
    for key in ("DBUS_SESSION_BUS_ADDRESS", "AT_SPI_BUS_ADDRESS", "WAYLAND_DISPLAY"):
        env.pop(key, None)
    log = open(os.path.join(directory, "torchat.log"), "w")
    session = subprocess.Popen(["dbus-run-session", "--", tcui.binary(), "--profile", profile,
                                "--listen", "127.0.0.1:0", "--socks", "127.0.0.1:9"],
                               env=env, stdout=log, stderr=log)
    result = {}
    try:
        pid = tcui.wait_until(lambda: child_pid(session.pid, "torchat"), what="torchat")
        wid = subprocess.run(["xdotool", "search", "--sync", "--onlyvisible", "--pid", str(pid),
                              "--name", "^TORChat$"], env=env, capture_output=True, text=True,
                             timeout=60).stdout.split()[-1]
        time.sleep(3)
        result["rss_idle_kib"] = rss_kib(pid)
        if busy_at:
            x, y, w, h = busy_at
            subprocess.run(["xdotool", "mousemove", "--window", wid, str(x + w // 2),
                            str(y + h // 2), "click", "1", "mousemove", "1279", "799"],
                           env=env, timeout=30, check=True)
            time.sleep(3)
            result["rss_open_kib"] = rss_kib(pid)
        os.kill(pid, 15)
        session.wait(timeout=60)
    finally:
        if session.poll() is None:
            session.kill()
            session.wait()
        xvfb.stop()
    return result


def main():
    tcui.require_tools()
    tmp = tcui.make_tmpdir("torchat-bench-window-")
    try:
        empty = run(tmp, "empty", 0, 0)
        full = run(tmp, "full", CONTACTS, MESSAGES)
        empty_bare = run_without_a11y(tmp, "empty", empty["profile"])
        full_bare = run_without_a11y(tmp, "full", full["profile"], full.get("busy_at"))
    finally:
        tcui.remove_tmpdir(tmp)

    print("window benchmark, %s, GSK_RENDERER=cairo under Xvfb, load average %s" %
          (time.strftime("%Y-%m-%d %H:%M"), " ".join(open("/proc/loadavg").read().split()[:3])))
    print("%-44s %10s %10s" % ("", "empty", "%d/%d" % (CONTACTS, MESSAGES)))
    print("%-44s %10.0f %10.0f" % ("launch to first frame (ms)", empty["first_frame_ms"],
                                   full["first_frame_ms"]))
    def mib(parts, key="VmRSS"):
        return parts[key] / 1024

    def split(label, e, f):
        print("%-44s %10s %10s" % (label, e and "%.1f/%.1f/%.1f" % (mib(e, "RssAnon"), mib(e, "RssFile"),
                                                                    mib(e, "RssShmem")) or "",
                                   "%.1f/%.1f/%.1f" % (mib(f, "RssAnon"), mib(f, "RssFile"),
                                                       mib(f, "RssShmem"))))

    print("%-44s %10.1f %10.1f" % ("RSS after start (MiB)", mib(empty["rss_idle_kib"]),
                                   mib(full["rss_idle_kib"])))
    split("  anon/file/shmem (MiB)", empty["rss_idle_kib"], full["rss_idle_kib"])
    print("%-44s %10s %10.0f" % ("click to newest message seen (ms, AT-SPI)", "",
                                 full["click_to_newest_ms"]))
    print("%-44s %10s %10.0f" % ("  of which one look through AT-SPI (ms)", "", full["observe_ms"]))
    print("%-44s %10s %10.1f" % ("RSS after opening it (MiB)", "", mib(full["rss_open_kib"])))
    split("  anon/file/shmem (MiB)", None, full["rss_open_kib"])
    print("%-44s %10s %10.1f" % ("  above the empty profile (MiB)", "",
                                 mib(full["rss_open_kib"]) - mib(empty["rss_idle_kib"])))
    if "scroll_median_ms" in full:
        print("%-44s %10s %10s" % ("scrolling back: frames", "", full["scroll_frames"]))
        print("%-44s %10s %4.1f/%4.1f/%4.1f" % ("  frame time median/p95/max (ms)", "",
                                                 full["scroll_median_ms"], full["scroll_p95_ms"],
                                                 full["scroll_max_ms"]))
        print("%-44s %10s %10s" % ("  frames over 16 ms", "", full["scroll_slow"]))
    print("%-44s %10s %10.1f" % ("RSS after scrolling (MiB)", "", mib(full["rss_scrolled_kib"])))
    print("without the accessibility bus (GTK_A11Y=none; opened by a click where \"Busy\" was)")
    print("%-44s %10.1f %10.1f" % ("RSS after start (MiB)", mib(empty_bare["rss_idle_kib"]),
                                   mib(full_bare["rss_idle_kib"])))
    if "rss_open_kib" in full_bare:
        print("%-44s %10s %10.1f" % ("RSS after opening it (MiB)", "", mib(full_bare["rss_open_kib"])))
        print("%-44s %10s %10.1f" % ("  above the empty profile (MiB)", "",
                                     mib(full_bare["rss_open_kib"]) - mib(empty_bare["rss_idle_kib"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
