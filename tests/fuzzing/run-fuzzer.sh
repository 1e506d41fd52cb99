#!/bin/sh
# Runs a libFuzzer target over its seed corpus for a bounded time.
#   run-fuzzer.sh FUZZER SEED_DIR ARTIFACT_DIR [libFuzzer options...]
# libFuzzer writes new inputs into its first corpus directory, so that one is
# a scratch directory and the seeds are only read. A crashing input is kept
# in ARTIFACT_DIR.
# SPDX-License-Identifier: GPL-3.0-or-later
set -eu

fuzzer=$1
seeds=$2
artifacts=$3
shift 3

work=$(mktemp -d "${TMPDIR:-/tmp}/torchat-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

mkdir -p "$artifacts"
if [ -d "$seeds" ]; then
  set -- "$@" "$work" "$seeds"
else
  set -- "$@" "$work"
fi

status=0
# libFuzzer reports a crash with 77 by default, which meson counts as a skip.
"$fuzzer" -error_exitcode=1 -artifact_prefix="$artifacts/" "$@" || status=$?
if [ "$status" -ne 0 ]; then
  echo "$(basename "$fuzzer") failed with status $status; inputs that crashed are in $artifacts" >&2
fi
exit "$status"
