#!/usr/bin/python3
# bench-window.py: the real window on a profile of 1,000 contacts and a
# conversation of 100,000 messages, against the same window on an empty
# profile (docs/benchmarks.md). A benchmark: it reports, it does not judge.
#
# Environment: TORCHAT_BINARY, TORCHAT_BENCH_PROFILE (bench-window-profile),
# GSETTINGS_SCHEMA_DIR; BENCH_CONTACTS, BENCH_MESSAGES to change the size;
# BENCH_PERF=file to record where the scrolling time goes (perf record, with
# BENCH_PERF_ARGS, default -g),
# BENCH_LOG=file to keep the window's log with its frame times,
# BENCH_LIST_ROLE=list to measure a torchat from before the conversation
# became a grid view.
# The renderer is cairo (GSK_RENDERER, set by the agent), under Xvfb. Both
# profiles are then opened once more without the accessibility bus
# (GTK_A11Y=none), for what the accessibility objects cost.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import datetime
import os
import re
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
# The conversation's role: a table since it is a grid view; "list" for a
# torchat from before (e38aea8 and older), as docs/benchmarks.md compares.
LIST_ROLE = os.environ.get("BENCH_LIST_ROLE", "table")


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


def oldest_time_shown(instance):
    """The oldest message time in the conversation's view, from the time
    labels ("05:48" today, " 3 Dec, 05:48" this year; C locale), or None."""
    now = datetime.datetime.now()
    oldest = None
    # Only inside the view: GTK keeps a few rows out of sight (the first
    # one among them), which the accessibility tree still shows.
    _, top, _, height = instance.call("find", role=LIST_ROLE, name="Messages")["items"][0]["extents"]
    for item in instance.call("find", role="label")["items"]:
        name = item["name"].strip()
        y = item["extents"][1] + item["extents"][3] / 2
        if not top <= y <= top + height:
            continue
        try:
            if re.fullmatch(r"\d\d:\d\d", name):
                when = datetime.datetime.strptime(name, "%H:%M").replace(
                    year=now.year, month=now.month, day=now.day)
            elif re.fullmatch(r"\d{1,2} \w{3}, \d\d:\d\d", name):
                when = datetime.datetime.strptime(name, "%d %b, %H:%M").replace(year=now.year)
            else:
                continue
        except ValueError:
            continue
        oldest = when if oldest is None else min(oldest, when)
    return oldest


def frame_stats(result, key, instance, span):
    """Count, median, p95, max and frames over 16 ms of the frames the
    window logged from span["start"] to half a second after span["end"]."""
    during = sorted(ms for end, ms in frames(instance) if span["start"] <= end <= span["end"] + 0.5)
    result[key + "_frames"] = len(during)
    if during:
        result[key + "_median_ms"] = statistics.median(during)
        result[key + "_p95_ms"] = during[int(len(during) * 0.95) - 1 if len(during) > 1 else 0]
        result[key + "_max_ms"] = during[-1]
        result[key + "_slow"] = sum(1 for ms in during if ms > 16)


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
        before = oldest_time_shown(instance)
        scroll = instance.call("scroll", role=LIST_ROLE, name="Messages", clicks=300, delay=16)
        if perf is not None:
            perf.send_signal(2)
            perf.wait(timeout=60)
        time.sleep(1)
        frame_stats(result, "scroll", instance, scroll)
        result["rss_scrolled_kib"] = settle(instance, 2)
        # How far the scroll went: the profile has a message a minute.
        after = oldest_time_shown(instance)
        if before is not None and after is not None:
            result["scrolled_messages"] = (before - after).total_seconds() / 60
            result["scrolled_span"] = "%s to %s" % (before.strftime("%d %b %H:%M"), after.strftime("%d %b %H:%M"))
        # Then the scroll bar dragged from the bottom to the top in 2 s:
        # every step lands thousands of messages further back.
        drag = instance.call("drag", role=LIST_ROLE, name="Messages", ancestor=2, inset=4, steps=60, delay=33,
                             **{"from": [1, 1], "to": [1, 0]})
        time.sleep(1)
        frame_stats(result, "drag", instance, drag)
        reached = oldest_time_shown(instance)
        result["drag_reached"] = reached.strftime("%d %b %H:%M") if reached else "?"
        result["rss_dragged_kib"] = settle(instance, 2)
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
    def frame_lines(key, title):
        if key + "_median_ms" not in full:
            return
        print("%-44s %10s %10s" % (title, "", full[key + "_frames"]))
        print("%-44s %10s %4.1f/%4.1f/%4.1f" % ("  frame time median/p95/max (ms)", "",
                                                 full[key + "_median_ms"], full[key + "_p95_ms"],
                                                 full[key + "_max_ms"]))
        print("%-44s %10s %10s" % ("  frames over 16 ms", "", full[key + "_slow"]))

    frame_lines("scroll", "scrolling back 300 wheel notches: frames")
    if "scrolled_messages" in full:
        print("%-44s %10s %10.0f" % ("  scrolled back (messages, by their times)", "",
                                     full["scrolled_messages"]))
        print("%-44s %21s" % ("  oldest time shown before/after", full["scrolled_span"]))
    print("%-44s %10s %10.1f" % ("RSS after scrolling (MiB)", "", mib(full["rss_scrolled_kib"])))
    frame_lines("drag", "dragging the scroll bar to the top: frames")
    if "drag_reached" in full:
        print("%-44s %21s" % ("  oldest time shown after", full["drag_reached"]))
        print("%-44s %10s %10.1f" % ("RSS after dragging (MiB)", "", mib(full["rss_dragged_kib"])))
        print("%-44s %10s %10.1f" % ("  above the empty profile (MiB)", "",
                                     mib(full["rss_dragged_kib"]) - mib(empty["rss_idle_kib"])))
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
