#!/usr/bin/env python3
# Prints "N passed, N failed, N skipped" from meson test logs.
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

passed = failed = skipped = 0
for path in args:
    try:
        with open(path) as f:
            for line in f:
                result = json.loads(line).get("result")
                if result in ("OK", "EXPECTEDFAIL"):
                    passed += 1
                elif result == "SKIP":
                    skipped += 1
                else:
                    failed += 1
    except FileNotFoundError:
        failed += 1
        print(f"{path}: missing", file=sys.stderr)

print(f"{label}: {passed} passed, {failed} failed, {skipped} skipped")
sys.exit(1 if failed else 0)
