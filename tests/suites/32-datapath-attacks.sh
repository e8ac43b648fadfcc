#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Frames an outside attacker can send, end to end through the lab
# (tests/netns/lab.sh) with sipwall on fw's outside interface: stacked
# VID-0 VLAN tags, which the kernel strips however many there are, and
# UDP-Lite (IP protocol 136) into the media range. Each is first sent
# without sipwall, to show the lab delivers it to inside, then through
# native XDP and TC: nothing may arrive that no pinhole allows, and the
# counters must name why (dropped_vlan_depth, dropped_no_pinhole, ...).
# Frames are built with scapy (tests/netns/frames.py, /usr/bin/python3).
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
source "$SW_TOP/tests/netns/lab.sh"

need_root
SW=${SIPWALL:-$SW_TOP/build/bin/sipwall}
[ -x "$SW" ] || { echo "skip: $SW not built (run make)"; exit 77; }
mountpoint -q /sys/fs/bpf || { echo "skip: bpffs not mounted at /sys/fs/bpf"; exit 77; }
command -v nsenter >/dev/null || { echo "skip: nsenter missing"; exit 77; }
"$NL_PY" -c 'import scapy.all' 2>/dev/null || { echo "skip: $NL_PY has no scapy"; exit 77; }

TAG=$(sw_tag)
PIN=/sys/fs/bpf/sipwall-t32-$TAG
NL_TMP=$(mktemp -d "${SW_TEST_TMP:-${TMPDIR:-/tmp}}/sipwall-t32.XXXXXX")
cleanup() {
	nl_down
	rm -rf "$PIN" "$NL_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sw() { nl_f "$SW" "$@" --pin-path "$PIN"; }
json() { nl_json "$1"; }

declare -A SNAP
snap() {
	local r n
	while read -r r n; do SNAP[$r]=$n; done <<<"$(sw stats --json |
		json "'\n'.join('%s %d' % (k, v['packets']) for k, v in d.items())")"
}
delta() { echo $(( $(sw stats --json | json "d['$1']['packets']") - ${SNAP[$1]:-0} )); }

# flow DESC WANT_ARRIVED LOGPORT SRC SPORT -- CMD...: run CMD, wait for the
# barrier, count what inside logged of that flow (LOGPORT: 10000 for UDP,
# 10000/lite for UDP-Lite).
flow() {
	local desc=$1 want=$2 port=$3 src=$4 sport=$5 before got
	shift 6
	before=$(nl_got "$port" "$src" "$sport")
	"$@" || { fail "$desc: send failed"; return; }
	nl_barrier || { fail "$desc: barrier"; return; }
	got=$(( $(nl_got "$port" "$src" "$sport") - before ))
	expect_eq "$desc" "$got" "$want"
}

# frames ARGS...: frames.py from outside, straight onto its veth to fw's
# outside interface (a bridge port: the frame leaves exactly as built).
frames() {
	nl_o "$NL_PY" "$NL_DIR/frames.py" --iface of --dst-mac "$FO_MAC" "$@" \
		2>>"$NL_TMP/frames.log"
}

I4=$NL_I4 I6=$NL_I6 O4=$NL_O4 O6=$NL_O6
nl_up "$TAG" || { fail "lab setup"; finish; exit 1; }
nl_recv 5999,10000-10020 300 --lite || { fail "receiver"; finish; exit 1; }
nl_warm || { fail "lab reachability"; finish; exit 1; }
FO_MAC=$(ip -n "$NL_F" -o link show "$NL_FW_OUT" | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
[ -n "$FO_MAC" ] || { fail "MAC of fw's $NL_FW_OUT"; finish; exit 1; }
ok "lab up, fw's outside interface $FO_MAC"

# --- without sipwall: the kernel delivers all of these ----------------------
flow "no sipwall: 3 VID-0 tags stripped by the kernel, delivered" 2 10000 $O4 4100 -- \
	frames --tags 3 --src $O4 --dst $I4 --sport 4100 --dport 10000 --count 2
flow "no sipwall: 5 VID-0 tags (802.1ad outer) delivered" 1 10000 $O4 4101 -- \
	frames --tags 5 --outer-tpid 0x88a8 --src $O4 --dst $I4 --sport 4101 --dport 10000
flow "no sipwall: v6 in 3 VID-0 tags delivered" 1 10002 $O6 4102 -- \
	frames --tags 3 --src $O6 --dst $I6 --sport 4102 --dport 10002
flow "no sipwall: UDP-Lite to a media port delivered" 2 10004/lite $O4 4103 -- \
	frames --proto udplite --src $O4 --dst $I4 --sport 4103 --dport 10004 --count 2
flow "no sipwall: v6 UDP-Lite delivered" 1 10004/lite $O6 4104 -- \
	frames --proto udplite --src $O6 --dst $I6 --sport 4104 --dport 10004

# --- native XDP -----------------------------------------------------------------
check "attach native on fw's outside interface" sw attach "$NL_FW_OUT" --mode native
expect_eq "status: mode native" "$(sw status --json | json "d['interfaces'][0]['mode']")" native

snap
flow "xdp: 3 VID-0 tags to an unpinholed media port: not delivered" 0 10000 $O4 4100 -- \
	frames --tags 3 --src $O4 --dst $I4 --sport 4100 --dport 10000 --count 3
expect_eq "xdp: counted dropped_vlan_depth (3)" "$(delta dropped_vlan_depth)" 3

check "pinhole add strict $I4:10000 from $O4:4100" sw pinhole add --dst $I4:10000 --src $O4:4100
check "pinhole add strict [$I6]:10002 from [$O6]:4102" \
	sw pinhole add --dst "[$I6]:10002" --src "[$O6]:4102"
snap
flow "xdp: untagged, pinhole: delivered" 1 10000 $O4 4100 -- \
	nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4100
flow "xdp: 2 VID-0 tags, pinhole: judged and delivered" 2 10000 $O4 4100 -- \
	frames --tags 2 --src $O4 --dst $I4 --sport 4100 --dport 10000 --count 2
flow "xdp: 3 VID-0 tags, pinhole: still dropped (too deep to judge)" 0 10000 $O4 4100 -- \
	frames --tags 3 --src $O4 --dst $I4 --sport 4100 --dport 10000 --count 2
flow "xdp: 5 VID-0 tags, 802.1ad outer: dropped" 0 10000 $O4 4101 -- \
	frames --tags 5 --outer-tpid 0x88a8 --src $O4 --dst $I4 --sport 4101 --dport 10000
flow "xdp: v6 in 3 VID-0 tags, pinhole: dropped" 0 10002 $O6 4102 -- \
	frames --tags 3 --src $O6 --dst $I6 --sport 4102 --dport 10002
flow "xdp: 2 VID-0 tags from another port: dropped" 0 10000 $O4 4105 -- \
	frames --tags 2 --src $O4 --dst $I4 --sport 4105 --dport 10000
expect_eq "xdp: passed_pinhole = 3" "$(delta passed_pinhole)" 3
expect_eq "xdp: dropped_vlan_depth = 4" "$(delta dropped_vlan_depth)" 4
expect_eq "xdp: dropped_bad_source = 1" "$(delta dropped_bad_source)" 1

snap
flow "xdp: UDP-Lite to an unpinholed media port: not delivered" 0 10004/lite $O4 4103 -- \
	frames --proto udplite --src $O4 --dst $I4 --sport 4103 --dport 10004 --count 2
flow "xdp: v6 UDP-Lite to an unpinholed media port: not delivered" 0 10004/lite $O6 4104 -- \
	frames --proto udplite --src $O6 --dst $I6 --sport 4104 --dport 10004
expect_eq "xdp: UDP-Lite counted dropped_no_pinhole (3)" "$(delta dropped_no_pinhole)" 3
snap
flow "xdp: UDP-Lite through the UDP pinhole from its source: delivered" 1 10000/lite $O4 4100 -- \
	frames --proto udplite --src $O4 --dst $I4 --sport 4100 --dport 10000
flow "xdp: UDP-Lite to the pinhole from another port: dropped" 0 10000/lite $O4 4106 -- \
	frames --proto udplite --src $O4 --dst $I4 --sport 4106 --dport 10000
expect_eq "xdp: UDP-Lite passed_pinhole = 1" "$(delta passed_pinhole)" 1
expect_eq "xdp: UDP-Lite dropped_bad_source = 1" "$(delta dropped_bad_source)" 1
check "detach native" sw detach "$NL_FW_OUT"

# --- TC ingress: the stack has taken the outer tag out of the frame --------------
check "attach --mode tc" sw attach "$NL_FW_OUT" --mode tc
snap
flow "tc: 3 VID-0 tags, pinhole: dropped (the accelerated tag counts)" 0 10000 $O4 4100 -- \
	frames --tags 3 --src $O4 --dst $I4 --sport 4100 --dport 10000 --count 2
flow "tc: 2 VID-0 tags, pinhole: delivered" 1 10000 $O4 4100 -- \
	frames --tags 2 --src $O4 --dst $I4 --sport 4100 --dport 10000
flow "tc: UDP-Lite to an unpinholed media port: not delivered" 0 10004/lite $O4 4103 -- \
	frames --proto udplite --src $O4 --dst $I4 --sport 4103 --dport 10004
expect_eq "tc: dropped_vlan_depth = 2" "$(delta dropped_vlan_depth)" 2
expect_eq "tc: passed_pinhole = 1" "$(delta passed_pinhole)" 1
expect_eq "tc: dropped_no_pinhole = 1" "$(delta dropped_no_pinhole)" 1
check "detach tc" sw detach "$NL_FW_OUT"

finish
