#!/usr/bin/env python3
# Prints "N passed, N failed, N skipped" from meson test logs, first for
# each suite ("  ui: ..."), then for all of them under LABEL.
# SPDX-License-Identifier: GPL-3.0-or-later
import json
import sys

args = sys.argv[1:]
total = args and args[0] == "--total"
if total:
    args = args[1:]
    label = "total"
else:
    label = args.pop()

def count(counts, result):
    if result in ("OK", "EXPECTEDFAIL"):
        counts[0] += 1
    elif result == "SKIP":
        counts[2] += 1
    else:
        counts[1] += 1


def line(name, counts):
    return f"{name}: {counts[0]} passed, {counts[1]} failed, {counts[2]} skipped"


overall = [0, 0, 0]
suites = {}
for path in args:
    try:
        with open(path) as f:
            for entry in f:
                test = json.loads(entry)
                result = test.get("result")
                count(overall, result)
                # "torchat:ui+tor / ui-tor-screen": the test counts in each suite.
                name = test.get("name", "")
                if ":" in name and " / " in name:
                    for suite in name.split(":", 1)[1].split(" / ", 1)[0].split("+"):
                        count(suites.setdefault(suite, [0, 0, 0]), result)
    except FileNotFoundError:
        overall[1] += 1
        print(f"{path}: missing", file=sys.stderr)

if not total:
    for suite in sorted(suites):
        print("  " + line(suite, suites[suite]))
print(line(label, overall))
failed = overall[1]
sys.exit(1 if failed else 0)
