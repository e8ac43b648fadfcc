#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Interim demo (until sipd drives pinholes from a real call): builds the
# outside/fw/inside lab in private network namespaces, attaches sipwall to
# fw's outside interface, shows a media packet dropped, then passing after
# `sipwall pinhole add`, and a spoofed one still dropped; prints status,
# pinholes and counters. Everything it made is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
SW_TOP=$PWD
source tests/lib.sh
source tests/netns/lab.sh

[ "$(id -u)" -eq 0 ] || { echo "demo: must run as root" >&2; exit 1; }
SW=$SW_TOP/build/bin/sipwall
[ -x "$SW" ] || { echo "demo: $SW not built (run make)" >&2; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

TAG=$(sw_tag)
PIN=/sys/fs/bpf/sipwall-demo-$TAG
NL_TMP=$(mktemp -d "${TMPDIR:-/tmp}/sipwall-demo.XXXXXX")
cleanup() {
	set +e
	nl_down
	rm -rf "$PIN" "$NL_TMP"
	echo "== cleaned up (namespaces $TAG-*, pin path $PIN)"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '\n== %s\n' "$*"; }
run() { printf '$ sipwall %s\n' "$*"; nl_f "$SW" "$@" --pin-path "$PIN"; }
# arrived DPORT SRC SPORT: how many of that flow inside has received.
arrived() { nl_got "$@"; }
send_and_show() {
	local ns=$1 desc=$2 dport=$3 src=$4 sport=$5 before
	shift 5
	before=$(arrived "$dport" "$src" "$sport" || true)
	nl_send "$ns" "$@"
	nl_barrier
	printf '   %s: sent 3, inside received %d\n' "$desc" \
		$(( $(arrived "$dport" "$src" "$sport" || true) - before ))
}

say "lab: outside $NL_O4 --- fw (sipwall on '$NL_FW_OUT') --- inside $NL_I4, spoofer $NL_S4"
nl_up "$TAG"
nl_recv 5999,10000-10010 120
nl_warm

say "attach sipwall (native XDP; the TC egress learner too)"
run attach "$NL_FW_OUT" --mode native --media-ports 10000-20000

say "RTP to inside:10000 with no pinhole"
send_and_show "$NL_O" "outside:4000 -> inside:10000" 10000 $NL_O4 4000 \
	--dst $NL_I4 --dport 10000 --sport 4000 --count 3

say "open a pinhole: only outside:4000 may send to inside:10000"
run pinhole add --dst $NL_I4:10000 --src $NL_O4:4000 --check strict
send_and_show "$NL_O" "outside:4000 -> inside:10000" 10000 $NL_O4 4000 \
	--dst $NL_I4 --dport 10000 --sport 4000 --count 3
send_and_show "$NL_S" "spoofer forging outside's address, port 4001" 10000 $NL_O4 4001 \
	--raw --src $NL_O4 --sport 4001 --dst $NL_I4 --dport 10000 --count 3
send_and_show "$NL_S" "spoofer from its own address" 10000 $NL_S4 4000 \
	--dst $NL_I4 --dport 10000 --sport 4000 --count 3

say "IPv6 too"
run pinhole add --dst "[$NL_I6]:10002" --src "[$NL_O6]:4000"
send_and_show "$NL_O" "[outside]:4000 -> [inside]:10002" 10002 $NL_O6 4000 \
	--dst $NL_I6 --dport 10002 --sport 4000 --count 3

say "status"
run status
say "pinholes"
run pinhole list
say "counters"
run stats
say "bpftool sees the same pinhole map (named fields)"
echo "\$ bpftool map dump pinned $PIN/sw_pinholes | head -20"
bpftool map dump pinned "$PIN/sw_pinholes" | head -20 || true

say "detach (pinholes stay pinned for the next attach)"
run detach "$NL_FW_OUT"
