#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# XDP forwarding (attach --forward) and untracked media (sipd rules install's
# raw CT --notrack) in the SIPp lab (tests/lab/lab.sh): the NAT refusal and
# --forward-force; pinholed UDP forwarded in XDP both ways, v4 and v6, and
# arriving; the veth peer's NAPI; SIPp calls through sipd inline with every
# pinholed RTP packet forwarded or under a named fallback, 0 failed calls;
# conntrack -L: SIP tracked, media not (and tracked again with --no-notrack);
# generic XDP forwarding; the refusals (NAT, --mode tc, a second namespace).
# Host only: needs SIPp, iptables, nft, conntrack, ethtool, native XDP on veth.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

for t in sipp iptables ip6tables nft conntrack ethtool nsenter; do
	command -v "$t" >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
for b in build/bin/sipd build/bin/sipwall; do
	[ -x "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

lab_tag=$(sw_tag)
source tests/lab/lab.sh
trap 'lab_down' EXIT
trap 'exit 130' INT TERM

SW=build/bin/sipwall
sw() { in_f "$SW" "$@" --pin-path "$LAB_PIN"; }
fwd_stats() { lab_stat forwarded; }
# The named fallbacks, summed.
fallbacks() {
	sw stats --json | /usr/bin/python3 -c 'import json,sys
d = json.load(sys.stdin)
print(sum(v["packets"] for k, v in d.items() if k.startswith("forward_fallback_")))'
}
fallback_list() {
	sw stats --json | /usr/bin/python3 -c 'import json,sys
d = json.load(sys.stdin)
print(" ".join("%s=%d" % (k, v["packets"]) for k, v in d.items()
               if k.startswith("forward_fallback_") and v["packets"]))'
}
# Datagrams fw's IP stack forwarded (/proc/net/snmp of fw's namespace).
fwd_dgrams() {
	in_f awk '/^Ip:/ && !h { for (i = 1; i <= NF; i++) n[i] = $i; h = 1; next }
		/^Ip:/ { for (i = 1; i <= NF; i++) if (n[i] == "ForwDatagrams") print $i }' /proc/net/snmp
}
# UDP datagrams a namespace's stack refused for a bad checksum.
udp_inerr() {
	in_ns "$1" awk '/^Udp:/ && !h { for (i = 1; i <= NF; i++) n[i] = $i; h = 1; next }
		/^Udp:/ { for (i = 1; i <= NF; i++) if (n[i] == "InCsumErrors") print $i }' /proc/net/snmp
}
# udp_flow NS SRC SPORT DSTNS DST DPORT COUNT: COUNT datagrams sent, the number that arrived.
udp_flow() {
	local out=$LAB_TMP/count.$$
	lab_udp_count "$4" "$5" "$6" 3 >"$out" &
	local cp=$!
	sleep 0.5
	lab_udp_send "$1" "$2" "$5" "$6" "$7" "$3"
	wait $cp
	cat "$out"
}

if ! lab_up; then
	fail "lab namespaces up"
	finish
	exit 1
fi
ok "lab namespaces up ($lab_tag)"
# Senders on a veth hand it UDP with a partial checksum (CHECKSUM_PARTIAL:
# "the NIC completes it"); the stack keeps that state across veth and its
# own forwarding, but a frame redirected in XDP is rebuilt from its bytes
# and the receiver finds the checksum wrong (UdpInErrors). On a wire every
# frame has its full checksum: make the lab's senders compute it
# (docs/forwarding.md, "veth").
for e in "$NS_O o0" "$NS_O os" "$NS_I i0" "$NS_S s0"; do
	in_ns ${e% *} ethtool -K ${e#* } tx off >/dev/null 2>&1
done

# --- NAT in the namespace: refused, unless forced -------------------------
in_f nft add table ip swnat &&
	in_f nft add chain ip swnat post '{ type nat hook postrouting priority 100; }' &&
	in_f nft add rule ip swnat post oifname fo masquerade
sw attach fo --mode native --forward >"$LAB_TMP/nat.out" 2>&1
expect_eq "attach --forward refused with a NAT rule in the namespace" $? 1
check "the refusal names the NAT rule and --forward-force" \
	grep -q "1 nft and 0 iptables-legacy NAT rule.*--forward-force" "$LAB_TMP/nat.out"
check "nothing attached after the refusal" \
	bash -c '! nsenter --net=/run/netns/$1 ip link show fo | grep -q xdp' _ "$NS_F"
check "attach --forward-force accepted" sw attach fo --mode native --forward-force
check "detach the forced attach" sw detach fo
in_f nft delete table ip swnat
sw attach fo --mode tc --forward >"$LAB_TMP/tc.out" 2>&1
expect_eq "attach --forward --mode tc refused" $? 1

# --- attach --forward on both interfaces ------------------------------------
if ! lab_attach --forward --dscp on >"$LAB_TMP/attach.log" 2>&1; then
	cat "$LAB_TMP/attach.log"
	fail "sipwall attach --forward on fw's veths"
	finish
	exit 1
fi
ok "sipwall attached (native XDP, --forward) on fo and fi"
check "attach warns about the veth peer's NAPI" grep -q "peer has NAPI" "$LAB_TMP/attach.log"
check "status: DSCP marking audio 46, video 34" \
	bash -c 'nsenter --net=/run/netns/$1 "$2" status --pin-path "$3" | grep -q "audio 46, video 34"' _ "$NS_F" "$SW" "$LAB_PIN"
expect_eq "status: both interfaces forward" \
	"$(sw status --json | /usr/bin/python3 -c 'import json,sys; print(sum(i["forward"] for i in json.load(sys.stdin)["interfaces"]))')" 2
check "sw_fwd_devs holds fo and fi" \
	test "$(bpftool map dump pinned "$LAB_PIN/sw_fwd_devs" 2>/dev/null | grep -c '^key')" -eq 2

in_o "$SW" attach os --mode native --forward --pin-path "$LAB_PIN" >"$LAB_TMP/ns.out" 2>&1
expect_eq "attach --forward refused in a second namespace under the same pin path" $? 1
check "the refusal says why" grep -q "in another network namespace" "$LAB_TMP/ns.out"
check "pinhole add v4 outside->inside" sw pinhole add --dst $I4:10000 --src $O4:4000
check "pinhole add v4 inside->outside" sw pinhole add --dst $O4:12010 --src $I4:16010
check "pinhole add v6 outside->inside" sw pinhole add --dst "[$I6]:10002" --src "[$O6]:4000"

# The redirect out of fi is received by i0 (inside), out of fo by o0: the
# peers need NAPI (GRO or an XDP program), else the kernel drops the frames.
in_i ethtool -K i0 gro off >/dev/null 2>&1
f0=$(fwd_stats) fb0=$(fallbacks)
got=$(udp_flow "$NS_O" $O4 4000 "$NS_I" $I4 10000 20)
fw=$(( $(fwd_stats) - f0 )) fb=$(( $(fallbacks) - fb0 ))
expect_eq "peer i0 without NAPI: 20 forwarded in XDP or fallbacks ($fw + $fb)" $((fw + fb)) 20
echo "# peer i0 without GRO/XDP: $got of 20 arrived ($fb through the stack: $(fallback_list))"
expect_eq "peer i0 without NAPI: the frames forwarded in XDP are lost (documented)" \
	"$got" "$fb"
in_i ethtool -K i0 gro on >/dev/null && in_o ethtool -K o0 gro on >/dev/null
ok "GRO on the peers i0 and o0 (NAPI)"

f0=$(fwd_stats) p0=$(lab_stat passed_pinhole) fb0=$(fallbacks)
expect_eq "v4 outside->inside: 50 sent, 50 arrived" \
	"$(udp_flow "$NS_O" $O4 4000 "$NS_I" $I4 10000 50)" 50
expect_eq "v4 inside->outside: 30 sent, 30 arrived" \
	"$(udp_flow "$NS_I" $I4 16010 "$NS_O" $O4 12010 30)" 30
expect_eq "v6 outside->inside: 40 sent, 40 arrived" \
	"$(udp_flow "$NS_O" $O6 4000 "$NS_I" $I6 10002 40)" 40
fw=$(( $(fwd_stats) - f0 )) fb=$(( $(fallbacks) - fb0 ))
echo "# forwarded $fw, fallbacks $fb ($(fallback_list))"
expect_eq "all 120 forwarded in XDP or a named fallback" $((fw + fb)) 120
check "at most the first packet of each flow falls back (no neighbour yet): $fb" test "$fb" -le 3
expect_eq "none merely passed to the stack (passed_pinhole)" $(( $(lab_stat passed_pinhole) - p0 )) 0
d0=$(fwd_dgrams) f0=$(fwd_stats)
udp_flow "$NS_O" $O4 4000 "$NS_I" $I4 10000 10 >/dev/null
expect_eq "fw's stack forwarded none of 10 more (Ip ForwDatagrams +0, forwarded +10)" \
	"$(( $(fwd_dgrams) - d0 ))/$(( $(fwd_stats) - f0 ))" 0/10
b0=$(lab_stat dropped_bad_source)
expect_eq "spoofer to the pinhole: nothing arrives" \
	"$(udp_flow "$NS_S" $S4 4000 "$NS_I" $I4 10000 10)" 0
expect_eq "spoofer dropped (dropped_bad_source)" $(( $(lab_stat dropped_bad_source) - b0 )) 10
for d in $I4:10000 $O4:12010 "[$I6]:10002"; do sw pinhole del --dst "$d" >/dev/null; done

# --- SIPp calls through sipd, media forwarded in XDP ------------------------
CFG=$LAB_TMP/sipd.json
lab_config "$CFG"
if ! lab_sipd_start "$CFG"; then
	cat "$LAB_TMP/sipd.log"
	fail "sipd run inline"
	finish
	exit 1
fi
ok "sipd inline on NFQUEUE (rules installed)"
expect_eq "raw PREROUTING jumps to SIPWALL_RAW first (v4)" \
	"$(in_f iptables -t raw -S PREROUTING | sed -n 2p)" "-A PREROUTING -j SIPWALL_RAW"
expect_eq "notrack rules for UDP 10000-20000 on fo and fi (v4 + v6)" \
	"$( (in_f iptables -t raw -S SIPWALL_RAW; in_f ip6tables -t raw -S SIPWALL_RAW) |
		grep -c -- '-i f[oi] -p udp -m udp --dport 10000:20000 .*-j CT --notrack')" 4
first=$( (in_f iptables -t raw -S; in_f ip6tables -t raw -S) | grep -c SIPWALL)
check "rules install again" in_f build/bin/sipd rules install -c "$CFG"
expect_eq "rules install is idempotent (raw)" \
	"$( (in_f iptables -t raw -S; in_f ip6tables -t raw -S) | grep -c SIPWALL)" "$first"
in_f build/bin/sipd rules install -c "$CFG" --media-ports 5000-6000 2>"$LAB_TMP/err"
expect_eq "a media range holding the SIP port is refused" $? 1
check "the refusal left no rule behind (all or nothing)" \
	bash -c '! (nsenter --net=/run/netns/$1 iptables -S; nsenter --net=/run/netns/$1 iptables -t raw -S) | grep -q SIPWALL' _ "$NS_F"
check "rules install back" in_f build/bin/sipd rules install -c "$CFG"

in_f conntrack -F >/dev/null 2>&1
# The endpoints count the call's RTP by DSCP (m=audio: EF with --dscp on).
for e in "$NS_I 16000" "$NS_O 12000"; do
	in_ns ${e% *} nft add table ip swdscp &&
		in_ns ${e% *} nft add chain ip swdscp in '{ type filter hook prerouting priority 0; }' &&
		in_ns ${e% *} nft add rule ip swdscp in udp dport ${e#* } ip dscp ef counter &&
		in_ns ${e% *} nft add rule ip swdscp in udp dport ${e#* } ip dscp != ef counter
done
# dscp_count NS ef|other: RTP packets counted by that rule
dscp_count() {
	in_ns "$1" nft list chain ip swdscp in | awk -v w="$2" '
		/dscp ef counter/ && w == "ef" { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }
		/dscp != ef counter/ && w == "other" { for (i = 1; i <= NF; i++) if ($i == "packets") print $(i + 1) }'
}
CALLS=20
f0=$(fwd_stats) p0=$(lab_stat passed_pinhole) fb0=$(fallbacks)
np0=$(lab_stat dropped_no_pinhole) bs0=$(lab_stat dropped_bad_source)
ie0=$(( $(udp_inerr "$NS_I") + $(udp_inerr "$NS_O") ))
lab_uas 4 "$(lab_scenario uas.xml)" $CALLS
LAB_RTP_MS=800 lab_uac 4 "$(lab_scenario uac.xml)" $CALLS -l 1 -r 4 &
uac=$!
# conntrack mid-call: SIP tracked, media not
sleep 2
in_f conntrack -L -p udp >"$LAB_TMP/ct.mid" 2>/dev/null
wait $uac
expect_eq "$CALLS calls completed (SIPp UAC exit status)" $? 0
lab_uas_wait
expect_eq "$CALLS calls completed (SIPp UAS exit status)" $? 0
grep -hE "Successful call|Failed call" "$LAB_TMP/uac.out" 2>/dev/null | tail -n 2 | sed 's/^/# SIPp: /'
expect_eq "$CALLS successful calls, 0 failed (SIPp)" \
	"$(grep -h "Successful call" "$LAB_TMP/uac.out" | tail -n 1 | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')/$(grep -h "Failed call" "$LAB_TMP/uac.out" | tail -n 1 | awk -F'|' '{ gsub(/ /, "", $3); print $3 }')" "$CALLS/0"
fw=$(( $(fwd_stats) - f0 )) pp=$(( $(lab_stat passed_pinhole) - p0 )) fb=$(( $(fallbacks) - fb0 ))
echo "# calls: forwarded $fw, fallbacks $fb ($(fallback_list)), passed_pinhole $pp"
# SIPp's rtp_stream: 50 packets/s each way for LAB_RTP_MS; the last ones of
# a call may never be sent.
check "RTP of the calls forwarded in XDP ($fw, want >= $((CALLS * 2 * 30)))" test "$fw" -ge $((CALLS * 2 * 30))
expect_eq "every pinholed RTP packet forwarded or a named fallback (passed_pinhole +0)" "$pp" 0
check "fallbacks are a small share (no_neigh before a first ARP at most: $fb)" test "$fb" -le $((CALLS * 2))
expect_eq "the endpoints' stacks found no bad checksum in the forwarded RTP (Udp InCsumErrors +0)" \
	$(( $(udp_inerr "$NS_I") + $(udp_inerr "$NS_O") - ie0 )) 0
expect_eq "no RTP met a missing pinhole or a wrong source" \
	"$(( $(lab_stat dropped_no_pinhole) - np0 ))/$(( $(lab_stat dropped_bad_source) - bs0 ))" 0/0
ef_i=$(dscp_count "$NS_I" ef) ot_i=$(dscp_count "$NS_I" other)
ef_o=$(dscp_count "$NS_O" ef) ot_o=$(dscp_count "$NS_O" other)
echo "# RTP by DSCP: inside EF $ef_i other $ot_i; outside EF $ef_o other $ot_o"
check "audio RTP arrives marked EF, both ways ($ef_i in, $ef_o out)" \
	test "${ef_i:-0}" -ge $((CALLS * 30)) -a "${ef_o:-0}" -ge $((CALLS * 30))
expect_eq "no call RTP arrives unmarked" "${ot_i:-x}/${ot_o:-x}" 0/0
sed 's/^/# conntrack mid-call: /' "$LAB_TMP/ct.mid" | head -n 6
check "conntrack tracks SIP (dport=5060)" grep -q "dport=5060" "$LAB_TMP/ct.mid"
expect_eq "conntrack has no media flow (ports 10000-20000)" \
	"$(grep -cE 'port=(1[0-9]{4}|20000) ' "$LAB_TMP/ct.mid")" 0

# --- generic XDP: the redirect goes through the egress device's queue -------
for ifc in fo fi; do sw detach $ifc >/dev/null; done
check "attach --mode generic --forward on fo and fi" \
	bash -c 'for i in fo fi; do nsenter --net=/run/netns/$1 "$2" attach $i --mode generic --forward --pin-path "$3" >/dev/null 2>&1 || exit 1; done' _ "$NS_F" "$SW" "$LAB_PIN"
check "pinhole add v4 outside->inside" sw pinhole add --dst $I4:10020 --src $O4:4020
f0=$(fwd_stats) fb0=$(fallbacks)
expect_eq "generic: 30 sent, 30 arrived" "$(udp_flow "$NS_O" $O4 4020 "$NS_I" $I4 10020 30)" 30
expect_eq "generic: all 30 forwarded in XDP or a named fallback" \
	$(( $(fwd_stats) - f0 + $(fallbacks) - fb0 )) 30
sw pinhole del --dst $I4:10020 >/dev/null

# --- without --forward: media through the stack, still untracked -----------
for ifc in fo fi; do sw detach $ifc >/dev/null; done
check "re-attach without --forward" lab_attach
ct_call() {
	in_f conntrack -F >/dev/null 2>&1
	lab_uas 4 "$(lab_scenario uas.xml)" 1
	LAB_RTP_MS=2000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
	local u=$!
	sleep 1.5
	in_f conntrack -L -p udp >"$LAB_TMP/ct.$1" 2>/dev/null
	wait $u
	local rc=$?
	lab_uas_wait
	return $rc
}
f0=$(fwd_stats)
check "a call with media through the stack" ct_call notrack
expect_eq "not forwarded in XDP without --forward" $(( $(fwd_stats) - f0 )) 0
check "conntrack tracks SIP" grep -q "dport=5060" "$LAB_TMP/ct.notrack"
expect_eq "conntrack has no media flow (untracked in raw)" \
	"$(grep -cE 'port=(1[0-9]{4}|20000) ' "$LAB_TMP/ct.notrack")" 0
check "rules install --no-notrack" in_f build/bin/sipd rules install -c "$CFG" --no-notrack
check "--no-notrack removes SIPWALL_RAW" \
	bash -c '! nsenter --net=/run/netns/$1 iptables -t raw -S | grep -q SIPWALL_RAW' _ "$NS_F"
check "a call with --no-notrack" ct_call track
check "with --no-notrack the media flows are tracked (the check can fail)" \
	grep -qE 'port=(1[0-9]{4}|20000) ' "$LAB_TMP/ct.track"
lab_sipd_stop
check "rules remove" in_f build/bin/sipd rules remove -c "$CFG"
check "rules remove leaves nothing of ours (filter and raw, v4 and v6)" \
	bash -c '! (for t in filter raw; do nsenter --net=/run/netns/$1 iptables -t $t -S; nsenter --net=/run/netns/$1 ip6tables -t $t -S; done) | grep -q SIPWALL' _ "$NS_F"
finish
