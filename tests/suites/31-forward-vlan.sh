#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: yes
# XDP forwarding of 802.1Q-tagged media (attach --forward, sw_fwd_vlans)
# with real VLAN devices, in the lab of tests/netns/lab.sh plus VLANs:
#   outside br0.100 (VID 100, 10.1.11.2, fd00:11::2) -- fw fo.100 on fo
#   fw fi.200 on fi (VID 200, 10.1.12.1, fd00:12::1) -- inside if0.200 (.2)
# Outside reaches 10.1.12.2 and inside's untagged 10.1.2.130 / fd00:2::130
# through VLAN 100 (host routes), inside's 10.1.12.200 untagged (default).
# The loader records the VLAN devices at attach (bpftool shows them), status
# lists them; pinholed UDP tagged VID 100 -> tagged VID 200 (VID rewritten)
# arrives and is counted as forwarded, v4 and v6; untagged -> VID 200 and
# VID 100 -> untagged (a push or pop: the stack's) arrive counted as
# forward_fallback_vlan; a VLAN device added after the attach
# is the stack's (forward_fallback_vlan) until attach --if-not-attached
# records it; detach forgets the interface's VLANs. Needs a kernel with
# 802.1Q VLAN devices (this machine's host kernel has none: then it skips;
# vmtest guests have them).
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
source "$SW_TOP/tests/netns/lab.sh"

need_root
SW=${SIPWALL:-$SW_TOP/build/bin/sipwall}
[ -x "$SW" ] || { echo "skip: $SW not built (run make)"; exit 77; }
mountpoint -q /sys/fs/bpf || { echo "skip: bpffs not mounted at /sys/fs/bpf"; exit 77; }
for t in nsenter ethtool bpftool; do
	command -v "$t" >/dev/null || { echo "skip: $t missing (scripts/deps.sh)"; exit 77; }
done

TAG=$(sw_tag)
PIN=/sys/fs/bpf/sipwall-t31-$TAG
NL_TMP=$(mktemp -d "${SW_TEST_TMP:-${TMPDIR:-/tmp}}/sipwall-t31.XXXXXX")
PROBE=$TAG-vprobe
cleanup() {
	ip netns del "$PROBE" 2>/dev/null
	nl_down
	rm -rf "$PIN" "$NL_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 802.1Q VLAN devices at all? (CONFIG_VLAN_8021Q, module 8021q)
ip netns add "$PROBE" && ip -n "$PROBE" link add vp0 type veth peer name vp1 || {
	fail "probe namespace"
	finish
	exit 1
}
if ! ip -n "$PROBE" link add link vp0 name vp0.7 type vlan id 7 2>/dev/null; then
	echo "skip: this kernel ($(uname -r)) has no 802.1Q VLAN devices (CONFIG_VLAN_8021Q)"
	exit 77
fi
ip netns del "$PROBE"

sw() { nl_f "$SW" "$@" --pin-path "$PIN"; }
json() { nl_json "$1"; }
cnt() { sw stats --json | json "d['$1']['packets']"; }
fallbacks() {
	sw stats --json | json "sum(v['packets'] for k, v in d.items() if k.startswith('forward_fallback_'))"
}
vlan_entries() { bpftool map dump pinned "$PIN/sw_fwd_vlans" -j | json "len(d)"; }
# SW_CFG_FWD_VLANS (8) in sw_config's flags: 8 or 0.
vlan_flag() {
	bpftool map dump pinned "$PIN/sw_config" -j |
		json "(d[0]['formatted']['value'] if 'formatted' in d[0] else d[0]['value'])['flags'] & 8"
}

V4O=10.1.11.2 V4F=10.1.11.1 V4FI=10.1.12.1 V4I=10.1.12.2
V6O=fd00:11::2 V6F=fd00:11::1 V6FI=fd00:12::1 V6I=fd00:12::2

nl_up "$TAG" || { fail "lab setup"; finish; exit 1; }
# The VLAN devices, and tags in the frames: a veth hands a VLAN device's tag
# to its peer out of band (hardware offload) unless its txvlan is off, and
# XDP sees only what is in the frame (docs/forwarding.md).
{
	_nl_ip "$NL_O" "link add link br0 name br0.100 type vlan id 100" "link set br0.100 up" \
		"addr add $V4O/24 dev br0.100" "addr add $V6O/64 dev br0.100 nodad" \
		"route add $V4I/32 via $V4F" "route add $V6I/128 via $V6F" \
		"route add 10.1.2.130/32 via $V4F" "route add fd00:2::130/128 via $V6F" &&
		nl_o ethtool -K of txvlan off &&
		# a veth sender's UDP checksum is left to "the NIC" (CHECKSUM_PARTIAL),
		# which a frame forwarded in XDP never meets: filled in on of instead
		nl_o ethtool -K of tx off &&
		_nl_ip "$NL_F" "link add link fo name fo.100 type vlan id 100" "link set fo.100 up" \
			"addr add $V4F/24 dev fo.100" "addr add $V6F/64 dev fo.100 nodad" \
			"link add link fi name fi.200 type vlan id 200" "link set fi.200 up" \
			"addr add $V4FI/24 dev fi.200" "addr add $V6FI/64 dev fi.200 nodad" &&
		nl_f sysctl -qw net.ipv4.conf.all.rp_filter=0 "net.ipv4.conf.fo/100.rp_filter=0" &&
		nl_f ethtool -K fi txvlan off &&
		_nl_ip "$NL_I" "link add link if0 name if0.200 type vlan id 200" \
			"link set if0.200 up" "addr add $V4I/24 dev if0.200" \
			"addr add $V6I/64 dev if0.200 nodad" "addr add 10.1.12.200/24 dev if0.200" \
			"addr add 10.1.2.130/24 dev if0" "addr add fd00:2::130/64 dev if0 nodad" \
			"route add 10.1.11.0/24 via $V4FI" "route add fd00:11::/64 via $V6FI" &&
		nl_i ethtool -K if0 txvlan off &&
		# redirected frames reach a veth's peer only with NAPI there
		nl_i ethtool -K if0 gro on
} >"$NL_TMP/vlan.log" 2>&1 || {
	fail "VLAN devices in the lab: $(tail -n 3 "$NL_TMP/vlan.log")"
	finish
	exit 1
}
nl_recv 5999,10000-10020 600 || { fail "receiver"; finish; exit 1; }
nl_warm || { fail "lab reachability"; finish; exit 1; }
# Neighbours on the VLAN paths (a packet the FIB has no neighbour for takes
# the stack, which resolves it): non-media UDP until it arrives.
WSEQ=21000
warm() { # SRC DST
	local i seq
	for i in $(seq 50); do
		WSEQ=$((WSEQ + 1))
		seq=$WSEQ
		nl_send "$NL_O" --src "$1" --dst "$2" --dport 5999 --sport $seq || return 1
		sleep 0.1
		[ "$(nl_got 5999 "$1" $seq)" -ge 1 ] && return 0
	done
	return 1
}
warm $V4O $V4I && warm $V6O $V6I && warm "$NL_O4" 10.1.12.200 && warm $V4O 10.1.2.130 &&
	warm $V6O fd00:2::130 ||
	{ fail "VLAN paths reachable"; finish; exit 1; }
ok "lab up with 802.1Q VLANs 100 (outside-fw) and 200 (fw-inside)"

out=$(sw attach fo --forward --mode native 2>&1)
printf '%s\n' "$out" | sed 's/^/# /' | tail -n 30
check "attach fo --forward records its VLAN device" grep -q 'forwarding in XDP (1 802.1Q VLAN device)' <<<"$out"
out=$(sw attach fi --forward --mode native 2>&1)
check "attach fi --forward records its VLAN device" grep -q 'forwarding in XDP (1 802.1Q VLAN device)' <<<"$out"
expect_eq "sw_fwd_vlans: IN and OUT entry per VLAN device (bpftool)" "$(vlan_entries)" 4
expect_eq "sw_config: SW_CFG_FWD_VLANS set (forwarding looks VLAN egress up)" "$(vlan_flag)" 8
check "status lists the VLANs" bash -c "nsenter --net=/run/netns/$NL_F $SW status --pin-path $PIN | grep -q '^fo .*forwarding in XDP (802.1Q VLANs 100)'"
expect_eq "status --json: fi's forward_vlans" \
	"$(sw status --json | json "[i['forward_vlans'] for i in d['interfaces'] if i['name']=='fi'][0]")" "[200]"

# arrived DPORT SRC SPORT BASE WANT: datagrams of the flow since BASE, once
# WANT are in or after 2 s: the receiver reads its sockets one after the
# other, so the barrier's port may be read before this one's last ones.
arrived() {
	local n i
	for i in $(seq 20); do
		n=$(($(nl_got "$1" "$2" "$3") - $4))
		[ "$n" -ge "$5" ] && break
		sleep 0.1
	done
	echo "$n"
}

# flow DESC HOW SRC SPORT DST DPORT: 20 datagrams through a pinhole, all
# arrive; HOW xdp: all forwarded in XDP, no fallback; HOW stack: all
# forward_fallback_vlan (a tag to push or pop), none forwarded.
flow() {
	local desc=$1 how=$2 src=$3 sport=$4 dst=$5 dport=$6 f0 v0 b0 g0 d s
	d=$dst s=$src
	[[ $dst == *:* ]] && d="[$dst]"
	[[ $src == *:* ]] && s="[$src]"
	sw pinhole add --dst "$d:$dport" --src "$s:$sport" >/dev/null || { fail "$desc: pinhole add"; return; }
	f0=$(cnt forwarded) v0=$(cnt forward_fallback_vlan) b0=$(fallbacks)
	g0=$(nl_got "$dport" "$src" "$sport")
	nl_send "$NL_O" --src "$src" --sport "$sport" --dst "$dst" --dport "$dport" --count 20 ||
		{ fail "$desc: send"; return; }
	nl_barrier || { fail "$desc: barrier"; return; }
	expect_eq "$desc: 20 arrived" "$(arrived "$dport" "$src" "$sport" "$g0" 20)" 20
	if [ "$how" = xdp ]; then
		expect_eq "$desc: 20 forwarded in XDP" "$(($(cnt forwarded) - f0))" 20
		expect_eq "$desc: no fallback" "$(($(fallbacks) - b0))" 0
	else
		expect_eq "$desc: none forwarded in XDP" "$(($(cnt forwarded) - f0))" 0
		expect_eq "$desc: 20 forward_fallback_vlan" "$(($(cnt forward_fallback_vlan) - v0))" 20
	fi
}
flow "v4 VID 100 -> VID 200 (VID rewritten)" xdp $V4O 4000 $V4I 10000
flow "v6 VID 100 -> VID 200" xdp $V6O 4000 $V6I 10002
flow "v4 untagged -> VID 200 (a push: the stack's)" stack "$NL_O4" 4004 10.1.12.200 10004
flow "v4 VID 100 -> untagged (a pop: the stack's)" stack $V4O 4006 10.1.2.130 10006
flow "v6 VID 100 -> untagged" stack $V6O 4008 fd00:2::130 10008

# A VLAN device added after the attach: the stack's until recorded.
nl_o ip link add link br0 name br0.101 type vlan id 101 && nl_o ip link set br0.101 up &&
	nl_o ip addr add 10.1.13.2/24 dev br0.101 && nl_o ip route add 10.1.12.130/32 via 10.1.13.1 &&
	nl_f ip link add link fo name fo.101 type vlan id 101 && nl_f ip link set fo.101 up &&
	nl_f ip addr add 10.1.13.1/24 dev fo.101 && nl_f sysctl -qw "net.ipv4.conf.fo/101.rp_filter=0" &&
	nl_i ip addr add 10.1.12.130/24 dev if0.200 || fail "VLAN 101 added"
warm 10.1.13.2 10.1.12.130 || fail "VLAN 101 reachable"
sw pinhole add --dst 10.1.12.130:10010 --src 10.1.13.2:4010 >/dev/null || fail "pinhole on VLAN 101"
v0=$(cnt forward_fallback_vlan) g0=$(nl_got 10010 10.1.13.2 4010)
nl_send "$NL_O" --src 10.1.13.2 --sport 4010 --dst 10.1.12.130 --dport 10010 --count 10 && nl_barrier ||
	fail "VLAN 101 send"
expect_eq "VID 101 unrecorded: 10 arrived through the stack" "$(arrived 10010 10.1.13.2 4010 "$g0" 10)" 10
expect_eq "VID 101 unrecorded: forward_fallback_vlan 10" "$(($(cnt forward_fallback_vlan) - v0))" 10
out=$(sw attach fo --forward --mode native --if-not-attached 2>&1)
check "attach --if-not-attached records the new VLAN device" grep -q 'fo: 2 802.1Q VLAN devices recorded' <<<"$out"
expect_eq "sw_fwd_vlans: 6 entries" "$(vlan_entries)" 6
f0=$(cnt forwarded) g0=$(nl_got 10010 10.1.13.2 4010)
nl_send "$NL_O" --src 10.1.13.2 --sport 4010 --dst 10.1.12.130 --dport 10010 --count 10 && nl_barrier ||
	fail "VLAN 101 send"
expect_eq "VID 101 recorded: 10 arrived" "$(arrived 10010 10.1.13.2 4010 "$g0" 10)" 10
expect_eq "VID 101 recorded: 10 forwarded in XDP" "$(($(cnt forwarded) - f0))" 10

check "detach fo" sw detach fo
expect_eq "detach forgot fo's VLANs (fi's IN + OUT left)" "$(vlan_entries)" 2
expect_eq "SW_CFG_FWD_VLANS still set (fi's are left)" "$(vlan_flag)" 8
check "detach fi" sw detach fi
expect_eq "sw_fwd_vlans empty" "$(vlan_entries)" 0
expect_eq "SW_CFG_FWD_VLANS cleared with the last entry" "$(vlan_flag)" 0

finish
