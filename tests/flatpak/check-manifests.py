#!/usr/bin/env python3
# Checks the Flatpak manifests as a Flathub reviewer would: the Flathub and
# the test manifest differ only in runtime and SDK; every module source is
# pinned (an archive by sha256, git by commit); finish-args give network,
# IPC, Wayland with X11 fallback, DRI and the Downloads folder (received
# files land there, docs/architecture.md), and no other file system or bus
# access.
# Prints TAP. SPDX-License-Identifier: GPL-3.0-or-later
import json
import os
import sys

top = sys.argv[1]
flatpak_dir = os.path.join(top, "flatpak")
count = failed = 0


def ok(cond, name, why=""):
    global count, failed
    count += 1
    print("%s %d - %s" % ("ok" if cond else "not ok", count, name))
    if not cond:
        failed += 1
        for line in str(why).splitlines():
            print("# " + line)


def load(name):
    with open(os.path.join(flatpak_dir, name)) as f:
        return json.load(f)


flathub = load("io.github.torchat.TorChat.json")
test = load("io.github.torchat.TorChat.debian.json")
runtime_keys = {"runtime", "runtime-version", "sdk"}
differ = sorted(k for k in set(flathub) | set(test) if flathub.get(k) != test.get(k))
ok(set(differ) <= runtime_keys, "the manifests differ only in runtime and SDK", differ)
ok(flathub.get("runtime") == "org.gnome.Platform" and flathub.get("sdk") == "org.gnome.Sdk",
   "the Flathub manifest builds on org.gnome.Platform and org.gnome.Sdk")

args = flathub.get("finish-args", [])
wanted = {"--share=network", "--share=ipc", "--socket=wayland", "--socket=fallback-x11",
          "--device=dri", "--filesystem=xdg-download"}
ok(set(args) == wanted, "finish-args are network, IPC, Wayland, X11 fallback, DRI and Downloads",
   "extra: %s\nmissing: %s" % (sorted(set(args) - wanted), sorted(wanted - set(args))))
ok(not any(a.startswith(("--filesystem", "--talk-name", "--own-name", "--system-talk-name",
                         "--socket=x11", "--socket=session-bus", "--device=all"))
           and a != "--filesystem=xdg-download" for a in args),
   "no file system beyond Downloads, no bus name, full X11 or device access")

modules = []
for m in flathub["modules"]:
    modules.append(load(m) if isinstance(m, str) else m)
names = [m["name"] for m in modules]
ok(names[-1] == "torchat" and {"tor", "libevent"} <= set(names),
   "tor and libevent are modules, built before the app", names)
for m in modules:
    for src in m.get("sources", []):
        kind = src.get("type")
        if kind in ("archive", "file"):
            pinned = len(src.get("sha256", "")) == 64 and src.get("url", "").startswith("https://")
            what = src.get("url")
        elif kind == "git":
            pinned = len(src.get("commit", "")) == 40
            what = src.get("url")
        else:
            pinned = kind == "dir" and m["name"] == "torchat"
            what = kind
        ok(pinned, "module %s: its source %s is pinned" % (m["name"], what), json.dumps(src))
        if kind == "archive":
            ok("x-debian-source" in src,
               "module %s: the offline test build knows its Debian source" % m["name"])

print("1..%d" % count)
sys.exit(1 if failed else 0)
