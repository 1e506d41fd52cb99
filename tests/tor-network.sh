#!/bin/sh
# SPDX-License-Identifier: GPL-3.0-or-later
#
# A private Tor network on 127.0.0.1 for TORChat's end-to-end tests, built
# from nothing: one directory authority that is also a relay, and three
# more relays (an onion connection needs four distinct relays).  No relay
# exits, and every tor knows only our authority, so nothing leaves loopback.
#
#   tor-network.sh start DIR            build and start the network in DIR (a
#                                       new or empty directory); return once
#                                       every relay serves a consensus that
#                                       lists all four and their
#                                       microdescriptors; print the path of
#                                       DIR/client.torrc (the time taken goes
#                                       to standard error)
#   tor-network.sh stop [--clean] DIR   stop exactly the tors recorded in
#                                       DIR/pids and DIR/check/pids, wait for
#                                       them; --clean also removes DIR
#   tor-network.sh client-torrc DIR     print the torrc lines of a client
#   tor-network.sh check DIR            prove a started network works: two
#                                       client tors, one publishing an onion
#                                       service, the other connecting to it
#                                       through SOCKS; fails too if a tor has
#                                       a socket off 127.0.0.1
#   tor-network.sh selftest             start, check and stop --clean in a
#                                       temporary directory
#
# A client (a TORChat node's managed tor) joins with `%include
# DIR/client.torrc`, which is what `torchat --tor-config DIR/client.torrc`
# does.  Start clients only after `start` has returned.
#
# DIR/pids holds one PID a line; DIR/<node>/ holds each torrc, data
# directory, notice.log and stdout.log (early errors).  `start` writes the
# time it took to DIR/timing (milliseconds: start, ready).  A failed start
# shows the log of the tor that failed, stops what it started and leaves
# DIR for a look.
#
# Environment: TOR (default tor), TOR_GENCERT (default tor-gencert),
# TORNET_BASE_PORT (take free ports from there upwards instead of ports the
# kernel picks), TORNET_TIMEOUT (seconds to wait, default 90), TORNET_KEEP
# (if set, `check` keeps its clients' directories in DIR/check),
# TORNET_OWNER_PID (if set, the network's tors exit by themselves within
# seconds of that process, e.g. a test that gets killed before `stop`).
# Needs python3 (ports, readiness, the check's SOCKS client); exits 77 (a
# skip for meson) when tor, tor-gencert or python3 is missing.

set -u

prog=${0##*/}
TOR=${TOR:-tor}
TOR_GENCERT=${TOR_GENCERT:-tor-gencert}
timeout=${TORNET_TIMEOUT:-90}
nodes="auth relay1 relay2 relay3"
onion_port=11009

die ()
{
  printf '%s: %s\n' "$prog" "$*" >&2
  exit 1
}

note ()
{
  printf '%s: %s\n' "$prog" "$*" >&2
}

usage ()
{
  sed -n '/^#   tor-network.sh/,/^#$/s/^# \{0,1\}//p' "$0" >&2
  exit 2
}

now_ms ()
{
  echo $(( $(date +%s%N) / 1000000 ))
}

seconds ()
{
  awk -v ms="$1" 'BEGIN { printf "%.1f", ms / 1000 }'
}

need_tor ()
{
  for p in "$TOR" "$TOR_GENCERT" python3; do
    if ! command -v "$p" >/dev/null 2>&1; then
      note "$p not found: skipping"
      exit 77
    fi
  done
}

# N ports on 127.0.0.1 that nothing listens on, found by binding them all at
# once so they are distinct.
free_ports ()
{
  python3 - "$1" "${TORNET_BASE_PORT:-0}" <<'EOF'
import socket, sys
n, port = int(sys.argv[1]), int(sys.argv[2])
scan = port != 0
held = []
while len(held) < n:
    if port > 65535:
        sys.exit("no %d free ports from TORNET_BASE_PORT=%s" % (n, sys.argv[2]))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", port))
        held.append(s)
    except OSError:
        s.close()
        if not scan:
            raise
    if scan:
        port += 1
print(" ".join(str(s.getsockname()[1]) for s in held))
EOF
}

# A zombie still answers kill -0, and our own children stay zombies until
# this shell exits.
alive ()
{
  kill -0 "$1" 2>/dev/null || return 1
  [ -r "/proc/$1/stat" ] || return 0
  case $(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) in
    Z* | X* | '') return 1 ;;
  esac
  return 0
}

# Guards against a recycled PID: ours run with a torrc inside $absdir.
ours ()
{
  alive "$1" || return 1
  [ -r "/proc/$1/cmdline" ] || return 0
  case " $(tr '\0' ' ' <"/proc/$1/cmdline")" in
    *" $absdir/"*) return 0 ;;
  esac
  return 1
}

# Stops the PIDs listed in file $1, waits for them, then removes the file.
stop_pids ()
{
  [ -r "$1" ] || return 0
  list=
  # shellcheck disable=SC2013 # one PID a line
  for pid in $(cat "$1"); do
    if ours "$pid"; then
      kill -TERM "$pid" 2>/dev/null && list="$list $pid"
    fi
  done
  waited=0
  for pid in $list; do
    while ours "$pid"; do
      if [ "$waited" -ge 100 ]; then
        note "PID $pid ignores SIGTERM: SIGKILL"
        kill -KILL "$pid" 2>/dev/null
        break
      fi
      sleep 0.1
      waited=$((waited + 1))
    done
  done
  rm -f "$1"
}

show_log ()
{
  for f in "$1/stdout.log" "$1/notice.log"; do
    if [ -s "$f" ]; then
      printf '  --- tail of %s\n' "$f" >&2
      tail -n 15 "$f" | sed 's/^/  /' >&2
    fi
  done
}

# Starts tor on $1/torrc in the background and records its PID in $2.
launch ()
{
  "$TOR" -f "$1/torrc" --defaults-torrc /dev/null \
    </dev/null >"$1/stdout.log" 2>&1 &
  echo $! >>"$2"
  echo $! >"$1/launched-pid"
}

# Fails with its log if the tor of one of the node directories in $1 has
# exited.
check_alive ()
{
  for d in $1; do
    pid=$(cat "$d/launched-pid")
    if ! alive "$pid"; then
      note "tor in $d (PID $pid) exited"
      show_log "$d"
      return 1
    fi
  done
}

# Generates the keys of the node in $1 in the background.  DisableNetwork:
# this tor has no DirAuthority of ours yet.
keygen ()
{
  printf 'DataDirectory %s/data\nORPort 1\nDisableNetwork 1\nLog err stderr\n' \
    "$1" >"$1/keygen.torrc"
  "$TOR" --defaults-torrc /dev/null -f "$1/keygen.torrc" --list-fingerprint \
    </dev/null >"$1/keygen.log" 2>&1 &
}

dir_authority_line ()
{
  cat "$absdir/auth/dirauthority"
}

write_client_torrc ()
{
  cat <<EOF
# The private Tor network of tests/tor-network.sh in $absdir.
# Only its authority is known: no default authorities or fallbacks.
TestingTorNetwork 1
$(dir_authority_line)
UseDefaultFallbackDirs 0
PathsNeededToBuildCircuits 0.25
Schedulers Vanilla
# Loopback circuits take milliseconds, so a learnt timeout would be about
# 10 ms and a busy machine would time circuits out: keep the fixed 60 s.
LearnCircuitBuildTimeout 0
EOF
}

# Succeeds once every node, as a directory cache, serves a consensus that
# lists all relays as Fast, Stable HSDirs (and guards, but for the
# authority), and holds the
# microdescriptors of them all: a client then bootstraps from whichever
# node it asks first.  Prints what is missing.
network_ready ()
{
  python3 - "$absdir" "$nodes" <<'EOF'
import base64, hashlib, os, re, sys
absdir, nodes = sys.argv[1], sys.argv[2].split()
wanted = {"tc" + n for n in nodes}
flags_needed = {"Running", "Valid", "Fast", "Stable", "Guard", "HSDir", "V2Dir"}

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except FileNotFoundError:
        return ""

def cached_microdescs(data):
    digests, body = set(), None
    text = read(data + "/cached-microdescs") + read(data + "/cached-microdescs.new")
    for line in text.splitlines(keepends=True) + ["@end"]:
        if line.startswith("onion-key") or line.startswith("@"):
            if body:
                digest = hashlib.sha256("".join(body).encode()).digest()
                digests.add(base64.b64encode(digest).decode().rstrip("="))
            body = [line] if line.startswith("onion-key") else None
        elif body is not None:
            body.append(line)
    return digests

missing = []
for node in nodes:
    data = os.path.join(absdir, node, "data")
    consensus = read(data + "/cached-microdesc-consensus")
    if not consensus:
        missing.append("%s: no consensus yet" % node)
        continue
    usable, digests = set(), {}
    for entry in re.split(r"^r ", consensus, flags=re.M)[1:]:
        nick = entry.split()[0]
        m = re.search(r"^m (\S+)", entry, re.M)
        f = re.search(r"^s (.*)$", entry, re.M)
        needed = flags_needed - {"Guard"} if nick == "tcauth" else flags_needed
        if m and f and needed <= set(f.group(1).split()):
            usable.add(nick)
            digests[nick] = m.group(1)
    if not wanted <= usable:
        missing.append("%s: consensus lists %d of %d relays" % (node, len(wanted & usable), len(wanted)))
        continue
    have = cached_microdescs(data)
    lacking = [n for n in wanted if digests[n] not in have]
    if lacking:
        missing.append("%s: %d microdescriptors missing" % (node, len(lacking)))
print("; ".join(missing) or "ready")
sys.exit(1 if missing else 0)
EOF
}

start_cleanup ()
{
  status=$?
  trap - EXIT INT TERM HUP
  if [ "$started" -ne 1 ]; then
    note "start failed: stopping what was started"
    # Key generators are our own children, so their PIDs are still ours.
    for pid in $helpers; do
      kill -TERM "$pid" 2>/dev/null
    done
    stop_pids "$absdir/pids"
    [ "$status" -ne 0 ] || status=1
  fi
  exit "$status"
}

cmd_start ()
{
  need_tor
  dir=$1
  case ${TORNET_OWNER_PID:-0} in
    *[!0-9]*) die "TORNET_OWNER_PID is not a PID: $TORNET_OWNER_PID" ;;
  esac
  if [ -e "$dir" ] && [ -n "$(ls -A "$dir")" ]; then
    die "$dir exists and is not empty"
  fi
  mkdir -p "$dir" || die "cannot create $dir"
  absdir=$(cd "$dir" && pwd -P)
  t0=$(now_ms)
  started=0
  helpers=
  trap start_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP

  ports=$(free_ports 5) || die "no free ports"
  # shellcheck disable=SC2086 # a list of ports
  set -- $ports
  auth_or=$1 auth_dir=$2
  shift 2
  relay_or="$*"

  umask 077
  for n in $nodes; do
    mkdir -p "$absdir/$n/data/keys"
  done

  # Key generation is most of the set-up time: all of it at once.
  keys=$absdir/auth/data/keys
  printf 'tornet\n' | "$TOR_GENCERT" --create-identity-key --passphrase-fd 0 \
    -m 12 -a "127.0.0.1:$auth_dir" \
    -i "$keys/authority_identity_key" -s "$keys/authority_signing_key" \
    -c "$keys/authority_certificate" >"$absdir/auth/gencert.log" 2>&1 &
  gencert=$!
  keygens=
  for n in $nodes; do
    keygen "$absdir/$n"
    keygens="$keygens $!"
  done
  helpers="$gencert $keygens"
  wait "$gencert" || { cat "$absdir/auth/gencert.log" >&2; die "tor-gencert failed"; }
  failed=
  for pid in $keygens; do
    wait "$pid" || failed=yes
  done
  helpers=
  v3ident=$(sed -n 's/^fingerprint //p' "$keys/authority_certificate")
  [ -n "$v3ident" ] || die "no fingerprint in $keys/authority_certificate"
  for n in $nodes; do
    awk '{ print $2 }' "$absdir/$n/data/fingerprint" >"$absdir/$n/fingerprint" 2>/dev/null
    if [ -n "$failed" ] || [ ! -s "$absdir/$n/fingerprint" ]; then
      cat "$absdir/$n/keygen.log" >&2
      die "tor --list-fingerprint failed for $n"
    fi
  done

  # The relays are the guards, the authority is not.  It weighs far more
  # than the new relays (it alone has carried traffic when they publish),
  # so it is most circuits' last hop; were it the guard too, such circuits
  # would have to leave and re-enter it, which a relay refuses.
  guards=
  for n in $nodes; do
    [ "$n" = auth ] || guards="$guards${guards:+,}\$$(cat "$absdir/$n/fingerprint")"
  done

  echo "DirAuthority tcauth orport=$auth_or v3ident=$v3ident 127.0.0.1:$auth_dir $(cat "$absdir/auth/fingerprint")" \
    >"$absdir/auth/dirauthority"

  # shellcheck disable=SC2086 # a list of ports
  set -- $relay_or
  for n in $nodes; do
    d=$absdir/$n
    if [ "$n" = auth ]; then
      orport=$auth_or
    else
      orport=$1
      shift
    fi
    {
      cat <<EOF
# Written by tests/tor-network.sh: node $n of a private Tor network.
TestingTorNetwork 1
$(dir_authority_line)
UseDefaultFallbackDirs 0
DataDirectory $d/data
PidFile $d/pid
Log notice file $d/notice.log
Nickname tc$n
ContactInfo tornet@torchat.invalid
Address 127.0.0.1
AddressDisableIPv6 1
ORPort 127.0.0.1:$orport IPv4Only
SocksPort 0
AssumeReachable 1
ExitRelay 0
ExitPolicy reject *:*
Schedulers Vanilla
PathsNeededToBuildCircuits 0.25
ShutdownWaitLength 0
# A cache fetches each new consensus as soon as it is out, not at a random
# time in the interval: clients can ask any relay.
FetchDirInfoEarly 1
FetchDirInfoExtraEarly 1
EOF
      if [ -n "${TORNET_OWNER_PID:-}" ]; then
        echo "__OwningControllerProcess $TORNET_OWNER_PID"
      fi
      if [ "$n" = auth ]; then
        cat <<EOF
AuthoritativeDirectory 1
V3AuthoritativeDirectory 1
DirPort 127.0.0.1:$auth_dir
TestingDirAuthVoteGuard $guards
TestingDirAuthVoteGuardIsStrict 1
TestingDirAuthVoteHSDir *
# Every relay Stable from the start: onion services end their long-lived
# circuits at Stable relays, and the authority alone would be too few.
AuthDirVoteStableGuaranteeMinUptime 0
AuthDirVoteStableGuaranteeMTBF 0
TestingV3AuthInitialVotingInterval 5
TestingV3AuthInitialVoteDelay 2
TestingV3AuthInitialDistDelay 2
V3AuthVotingInterval 10
V3AuthVoteDelay 2
V3AuthDistDelay 2
EOF
      fi
    } >"$d/torrc"
  done

  write_client_torrc >"$absdir/client.torrc"

  : >"$absdir/pids"
  # The authority first, and the relays once it listens: a relay whose first
  # descriptor upload finds no authority may not try again for a long time.
  launch "$absdir/auth" "$absdir/pids"
  auth_deadline=$(( $(now_ms) + 20000 ))
  until python3 -c "import socket,sys; socket.create_connection(('127.0.0.1', int(sys.argv[1])), 1).close()" \
      "$auth_dir" 2>/dev/null; do
    check_alive "$absdir/auth" || die "the network did not come up"
    [ "$(now_ms)" -ge "$auth_deadline" ] && die "the authority did not open its DirPort"
    sleep 0.1
  done
  for n in $nodes; do
    [ "$n" = auth ] || launch "$absdir/$n" "$absdir/pids"
  done

  dirs=
  for n in $nodes; do
    dirs="$dirs $absdir/$n"
  done
  deadline=$(( $(now_ms) + timeout * 1000 ))
  nudge=$(( $(now_ms) + timeout * 500 ))
  until status=$(network_ready); do
    # Halfway and still short of a relay: SIGHUP makes every relay build and
    # upload its descriptor again.
    if [ -n "$nudge" ] && [ "$(now_ms)" -ge "$nudge" ]; then
      note "not ready after $(( timeout / 2 )) s ($status): asking the relays to publish again"
      for n in $nodes; do
        kill -HUP "$(cat "$absdir/$n/launched-pid")" 2>/dev/null || true
      done
      nudge=
    fi
    check_alive "$dirs" || die "the network did not come up"
    if [ "$(now_ms)" -ge "$deadline" ]; then
      note "not ready after $timeout s: $status"
      show_log "$absdir/auth"
      die "the network did not come up"
    fi
    sleep 0.25
  done
  check_alive "$dirs" || die "the network did not come up"

  t1=$(now_ms)
  echo "$t0 $t1" >"$absdir/timing"
  started=1
  echo "$absdir/client.torrc"
  note "4 relays in every node's consensus after $(seconds $((t1 - t0))) s"
}

cmd_stop ()
{
  [ -d "$1" ] || die "no directory $1"
  absdir=$(cd "$1" && pwd -P)
  stop_pids "$absdir/check/pids"
  [ -e "$absdir/pids" ] || note "nothing recorded in $absdir/pids"
  stop_pids "$absdir/pids"
  if [ "$2" = yes ]; then
    rm -rf "$absdir"
  fi
}

cmd_client_torrc ()
{
  [ -r "$1/client.torrc" ] || die "no $1/client.torrc: run start first"
  cat "$1/client.torrc"
}

# Fails if a socket of the tors in PID files $@ has an end off loopback.
loopback_only ()
{
  command -v ss >/dev/null 2>&1 || { note "no ss: loopback not checked"; return 0; }
  # shellcheck disable=SC2013 # one PID a line
  pids=$(cat "$@" | tr '\n' ' ')
  ss -tunapH | awk -v pids="$pids" '
    BEGIN { n = split(pids, p, " "); for (i = 1; i <= n; i++) want["pid=" p[i] ","] = 1 }
    {
      mine = 0
      for (k in want) if (index($0, k)) mine = 1
      if (!mine) next
      sockets++
      if ($5 !~ /^127\.0\.0\.1:[0-9]+$/ || $6 !~ /^(127\.0\.0\.1:[0-9]+|0\.0\.0\.0:\*|\*:\*)$/) {
        print "off loopback: " $0
        bad = 1
      }
    }
    END {
      if (sockets == 0) { print "no sockets of ours found"; exit 1 }
      exit bad
    }' >&2
}

check_cleanup ()
{
  status=$?
  trap - EXIT INT TERM HUP
  stop_pids "$cdir/pids"
  if [ "$status" -eq 0 ] && [ -z "${TORNET_KEEP:-}" ]; then
    rm -rf "$cdir"
  else
    note "client logs kept in $cdir"
  fi
  exit "$status"
}

cmd_check ()
{
  need_tor
  [ -r "$1/client.torrc" ] || die "no $1/client.torrc: run start first"
  absdir=$(cd "$1" && pwd -P)
  cdir=$absdir/check
  rm -rf "$cdir"
  umask 077
  mkdir -p "$cdir/service" "$cdir/user" || die "cannot create $cdir"
  : >"$cdir/pids"
  trap check_cleanup EXIT
  trap 'exit 130' INT
  trap 'exit 143' TERM HUP

  ports=$(free_ports 5) || die "no free ports"
  # shellcheck disable=SC2086 # a list of ports
  set -- $ports
  target=$5
  t0=$(now_ms)
  for c in service user; do
    cat >"$cdir/$c/torrc" <<EOF
DataDirectory $cdir/$c/data
Log notice file $cdir/$c/notice.log
SocksPort 127.0.0.1:$1
ControlPort 127.0.0.1:$2
CookieAuthentication 1
ClientOnly 1
__OwningControllerProcess $$
%include $absdir/client.torrc
EOF
    if [ "$c" = service ]; then
      cat >>"$cdir/$c/torrc" <<EOF
HiddenServiceDir $cdir/$c/onion
HiddenServicePort $onion_port 127.0.0.1:$target
EOF
    else
      socks=$1
    fi
    shift 2
    launch "$cdir/$c" "$cdir/pids"
  done

  deadline=$(( $(now_ms) + timeout * 1000 ))
  until [ -s "$cdir/service/onion/hostname" ]; do
    check_alive "$cdir/service $cdir/user" || die "a client tor failed"
    [ "$(now_ms)" -lt "$deadline" ] || die "the service tor wrote no hostname"
    sleep 0.1
  done
  onion=$(cat "$cdir/service/onion/hostname")

  # One process is both ends: it listens on the service's target port and
  # retries a SOCKS5 connection to the onion until a line comes back.
  tries=$(python3 - "$socks" "$target" "$onion" "$onion_port" "$timeout" <<'EOF'

import socket, struct, sys, threading, time
socks, target, onion, port, timeout = sys.argv[1:]
socks, target, port, timeout = int(socks), int(target), int(port), float(timeout)

srv = socket.socket()
srv.bind(("127.0.0.1", target))
srv.listen(4)

def serve():
    while True:
        c, _ = srv.accept()
        with c:
            line = c.makefile("rb").readline()
            c.sendall(b"pong " + line)

threading.Thread(target=serve, daemon=True).start()

def recv_exact(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            raise OSError("connection closed by tor")
        data += chunk
    return data

def attempt():
    with socket.create_connection(("127.0.0.1", socks), timeout=30) as s:
        s.sendall(b"\x05\x01\x00")
        if recv_exact(s, 2) != b"\x05\x00":
            return "SOCKS greeting refused"
        host = onion.encode()
        s.sendall(b"\x05\x01\x00\x03" + bytes([len(host)]) + host
                  + struct.pack(">H", port))
        reply = recv_exact(s, 4)
        if reply[1] != 0:
            return "SOCKS reply %02x" % reply[1]
        recv_exact(s, {1: 4, 4: 16}.get(reply[3], 0) + 2)
        s.sendall(b"ping tornet\n")
        got = s.makefile("rb").readline()
        return None if got == b"pong ping tornet\n" else "answer %r" % got

deadline = time.monotonic() + timeout
tries = 0
while True:
    tries += 1
    try:
        err = attempt()
    except OSError as e:
        err = str(e)
    if err is None:
        print(tries)
        sys.exit(0)
    if time.monotonic() > deadline:
        sys.exit("last error after %d tries: %s" % (tries, err))
    time.sleep(0.5)
EOF
) || {
    show_log "$cdir/service"
    show_log "$cdir/user"
    die "no connection to the onion service"
  }

  t1=$(now_ms)
  loopback_only "$absdir/pids" "$cdir/pids" || die "a tor has a socket off loopback"
  msg="onion connection through the private network $(seconds $((t1 - t0))) s after starting the clients ($tries SOCKS tries)"
  if [ -r "$absdir/timing" ]; then
    read -r n0 _ <"$absdir/timing"
    msg="$msg, $(seconds $((t1 - n0))) s after starting the network"
  fi
  note "$msg"
}

cmd_selftest ()
{
  need_tor
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/tornet.XXXXXX") || die "no temporary directory"
  "$0" start "$tmp/net" >/dev/null || { rm -rf "$tmp"; exit 1; }
  "$0" check "$tmp/net"
  status=$?
  "$0" stop "$tmp/net"
  if [ "$status" -eq 0 ]; then
    rm -rf "$tmp"
  else
    note "network kept in $tmp/net"
  fi
  exit "$status"
}

[ $# -ge 1 ] || usage
cmd=$1
shift
case $cmd in
  start)
    [ $# -eq 1 ] || usage
    cmd_start "$1"
    ;;
  stop)
    clean=no
    dir=
    for a in "$@"; do
      case $a in
        --clean) clean=yes ;;
        -*) usage ;;
        *) [ -z "$dir" ] || usage; dir=$a ;;
      esac
    done
    [ -n "$dir" ] || usage
    cmd_stop "$dir" "$clean"
    ;;
  client-torrc)
    [ $# -eq 1 ] || usage
    cmd_client_torrc "$1"
    ;;
  check)
    [ $# -eq 1 ] || usage
    cmd_check "$1"
    ;;
  selftest)
    [ $# -eq 0 ] || usage
    cmd_selftest
    ;;
  *)
    usage
    ;;
esac
