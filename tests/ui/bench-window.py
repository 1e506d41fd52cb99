#!/usr/bin/python3
# bench-window.py: the real window on a profile of 1,000 contacts and a
# conversation of 100,000 messages, against the same window on an empty
# profile (docs/benchmarks.md). A benchmark: it reports, it does not judge.
#
# Environment: TORCHAT_BINARY, TORCHAT_BENCH_PROFILE (bench-window-profile),
# GSETTINGS_SCHEMA_DIR; BENCH_CONTACTS, BENCH_MESSAGES to change the size.
# The renderer is cairo (GSK_RENDERER, set by the agent), under Xvfb.
#
# SPDX-License-Identifier: GPL-3.0-or-later
import os
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
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


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
    if messages:
        clicked = instance.call("click", role="label", name="Busy")["clicked"]
        instance.call("wait", role="label", name=NEWEST, timeout=30)
        result["click_to_newest_ms"] = (time.monotonic() - clicked) * 1000
        # What finding a label costs the observer, for the figure above.
        start = time.monotonic()
        instance.call("wait", role="label", name=NEWEST, timeout=30)
        result["observe_ms"] = (time.monotonic() - start) * 1000
        result["rss_open_kib"] = settle(instance, 2)
        scroll = instance.call("scroll", role="list", name="Messages", clicks=300, delay=16)
        time.sleep(1)
        during = [ms for end, ms in frames(instance) if scroll["start"] <= end <= scroll["end"] + 0.5]
        result["scroll_frames"] = len(during)
        if during:
            during.sort()
            result["scroll_median_ms"] = statistics.median(during)
            result["scroll_p95_ms"] = during[int(len(during) * 0.95) - 1 if len(during) > 1 else 0]
            result["scroll_max_ms"] = during[-1]
        result["rss_scrolled_kib"] = settle(instance, 2)
    instance.stop()
    return result


def main():
    tcui.require_tools()
    tmp = tcui.make_tmpdir("torchat-bench-window-")
    try:
        empty = run(tmp, "empty", 0, 0)
        full = run(tmp, "full", CONTACTS, MESSAGES)
    finally:
        tcui.remove_tmpdir(tmp)

    print("window benchmark, %s, GSK_RENDERER=cairo under Xvfb" % time.strftime("%Y-%m-%d"))
    print("%-44s %10s %10s" % ("", "empty", "%d/%d" % (CONTACTS, MESSAGES)))
    print("%-44s %10.0f %10.0f" % ("launch to first frame (ms)", empty["first_frame_ms"],
                                   full["first_frame_ms"]))
    print("%-44s %10.1f %10.1f" % ("RSS after start (MiB)", empty["rss_idle_kib"] / 1024,
                                   full["rss_idle_kib"] / 1024))
    print("%-44s %10s %10.0f" % ("click to newest message seen (ms, AT-SPI)", "",
                                 full["click_to_newest_ms"]))
    print("%-44s %10s %10.0f" % ("  of which one look through AT-SPI (ms)", "", full["observe_ms"]))
    print("%-44s %10s %10.1f" % ("RSS after opening it (MiB)", "", full["rss_open_kib"] / 1024))
    print("%-44s %10s %10.1f" % ("  above the empty profile (MiB)", "",
                                 (full["rss_open_kib"] - empty["rss_idle_kib"]) / 1024))
    if "scroll_median_ms" in full:
        print("%-44s %10s %10s" % ("scrolling back: frames", "", full["scroll_frames"]))
        print("%-44s %10s %4.1f/%4.1f/%4.1f" % ("  frame time median/p95/max (ms)", "",
                                                 full["scroll_median_ms"], full["scroll_p95_ms"],
                                                 full["scroll_max_ms"]))
    print("%-44s %10s %10.1f" % ("RSS after scrolling (MiB)", "", full["rss_scrolled_kib"] / 1024))
    return 0


if __name__ == "__main__":
    sys.exit(main())
