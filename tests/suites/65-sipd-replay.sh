#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# `sipd replay` (and the sources' cmocka unit tests: UDP view, fragment
# reassembly, TCP/WebSocket stream framing, encapsulations): generated captures of one call (Ethernet, raw
# IP, pcapng, IPv4/IPv6, big INVITE, SIP in IP fragments, a malformed
# message, keep-alives, a declined stream, a repeated tag, inside tunnels,
# GRE, ERSPAN, PPPoE and VLAN tags; SIP over TCP in segments, retransmitted
# and out of order, a TLS connection) through
# sipd and the real XDP program (BPF_PROG_TEST_RUN on maps in a private pin
# path). The capture is built with known contents, so every count in the
# summary is exact.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

SIPD=build/bin/sipd
PY=/usr/bin/python3
[ -x "$SIPD" ] || { echo "skip: $SIPD not built (make)"; exit 77; }
"$PY" -c 'import scapy' 2>/dev/null || { echo "skip: python3-scapy missing (scripts/deps.sh)"; exit 77; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

T=${SW_TEST_TMP:-}
[ -n "$T" ] && T=$(mktemp -d "$T/replay.XXXXXX") || T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

pins_before=$(ls -d /sys/fs/bpf/sipwall-replay-* 2>/dev/null | sort)

# The datagram helpers every source uses (cmocka).
if [ -x build/bin/test-sources ]; then
	check "unit: sipd/source.c (ports, UDP view v4/v6, fragments)" build/bin/test-sources
else
	skip "unit: build/bin/test-sources not built"
fi
# IP fragment reassembly (sipd/reasm.c), one result per case.
. "$SW_TOP/tests/common/cmocka.sh"
run_cmocka build/bin/test-reasm
# SIP over TCP and WebSocket reassembly and framing (sipd/stream.c), also
# under ASan+UBSan: it takes bytes off the wire.
run_cmocka build/bin/test-stream
if command -v clang >/dev/null; then
	if make -s SAN=1 build-san/bin/test-stream >"$T/san.log" 2>&1; then
		if build-san/bin/test-stream >"$T/san-run.log" 2>&1; then
			ok "asan+ubsan test-stream: $(grep -c '^\[       OK \]' "$T/san-run.log") cases"
		else
			cat "$T/san-run.log"; fail "asan+ubsan test-stream"
		fi
	else
		cat "$T/san.log"; fail "build test-stream with ASan+UBSan"
	fi
else
	skip "ASan+UBSan test-stream: clang not installed"
fi
# The encapsulation decoder (sipd/decap.c) with the UDP view.
run_cmocka build/bin/test-decap

# field JSON PATH: a value from the summary, e.g. field "$j" media.by_reason.passed_pinhole
field() {
	"$PY" -c '
import json, sys
v = json.loads(sys.argv[1])
for k in sys.argv[2].split("."):
    v = v.get(k, 0) if isinstance(v, dict) else 0
print(v)' "$1" "$2"
}

# One call: 5 SIP messages, 4 pinholes opened and closed, 40 RTP passed,
# 10 spoofed (bad source), 10 late (no pinhole).
expect_call() {
	local what=$1 j=$2 msgs=${3:-5}
	expect_eq "$what: SIP messages" "$(field "$j" sip.messages)" "$msgs"
	expect_eq "$what: calls started/ended" "$(field "$j" calls.started)/$(field "$j" calls.ended)" 1/1
	expect_eq "$what: pinholes opened/closed" \
		"$(field "$j" pinholes.opened)/$(field "$j" pinholes.closed)" 4/4
	expect_eq "$what: RTP passed through pinholes" "$(field "$j" media.by_reason.passed_pinhole)" 40
	expect_eq "$what: spoofed RTP dropped" "$(field "$j" media.by_reason.dropped_bad_source)" 10
	expect_eq "$what: RTP after BYE+grace dropped" "$(field "$j" media.by_reason.dropped_no_pinhole)" 10
}

# replay_variant VARIANT: build a capture with mkcapture.py's options
# VARIANT ("ether" = none), replay it; the summary in $j, or fail.
replay_variant() {
	local args=$1
	[ "$args" = ether ] && args=""
	# shellcheck disable=SC2086
	if ! "$PY" tests/lab/mkcapture.py "$T/call.pcap" $args 2>"$T/mk.err"; then
		cat "$T/mk.err"
		fail "build capture ($1)"
		return 1
	fi
	if ! j=$("$SIPD" replay "$T/call.pcap" 2>"$T/err"); then
		cat "$T/err"
		fail "replay ($1)"
		return 1
	fi
}

for variant in "ether" "--v6" "--link raw" "--link raw --v6" "--ng" "--link raw --ng" "--big" \
	"--big --v6 --ng"; do
	replay_variant "$variant" && expect_call "$variant" "$j"
done

# SIP in IP fragments (scapy fragment()/fragment6()): the INVITE and its
# 200 OK reassembled, then the same call as above; in reverse order and
# behind IPv6 extension headers too.
frag_ok() {
	local what=$1 j=$2
	expect_call "$what" "$j"
	expect_eq "$what: INVITE and 200 OK reassembled" \
		"$(field "$j" fragments.reassembled)/$(field "$j" fragments.sip_reassembled)" 2/2
	expect_eq "$what: nothing given up or left over" \
		"$(field "$j" fragments.dropped.overlap)$(field "$j" fragments.dropped.timeout)$(field "$j" fragments.dropped.malformed)$(field "$j" fragments.incomplete_at_end)" 0000
}
for variant in "--frag" "--frag --v6" "--frag --ng --reverse" "--frag --v6 --ext --reverse --link raw"; do
	replay_variant "$variant" || continue
	frag_ok "$variant" "$j"
	case $variant in
	*--reverse*) ;;
	*) expect_eq "$variant: every fragment kept out of the data path" \
		"$(field "$j" fragments.sip)/$(field "$j" media.other_udp)" \
		"$(field "$j" fragments.received)/0" ;;
	esac
done

# An INVITE whose two fragments overlap with different bytes (an evasion
# attempt): the datagram is dropped by name, no second call, the first
# call's media as before.
for fam in "" "--v6"; do
	replay_variant "--frag --overlap $fam" || continue
	expect_call "overlapping fragments${fam:+ $fam}" "$j"
	expect_eq "overlapping fragments${fam:+ $fam}: datagram dropped as overlap" \
		"$(field "$j" fragments.dropped.overlap)" 1
	expect_eq "overlapping fragments${fam:+ $fam}: only the good INVITE and 200 OK reassembled" \
		"$(field "$j" fragments.reassembled)" 2
done

# Captured on a mirror port, a tunnel or a DSL uplink: every packet of the
# call wrapped (mkcapture.py --encap), the same call, pinholes and media
# verdicts as the plain capture, every packet found under its encapsulation
# and nothing skipped.
no_skips() {
	"$PY" -c '
import json, sys
s = json.loads(sys.argv[1])["skipped"]
print(",".join("%s=%s" % kv for kv in sorted(s.items()) if kv[1]) or "none")' "$1"
}
encap_ok() {
	local what=$1 j=$2 kind=$3 n
	n=$(field "$j" packets)
	local tunnels=${4:-$n}
	expect_call "$what" "$j"
	expect_eq "$what: every packet under $kind" "$(field "$j" "encapsulated.$kind")" "$n"
	expect_eq "$what: packets inside a tunnel" "$(field "$j" encapsulated.packets)" "$tunnels"
	expect_eq "$what: nothing skipped" "$(no_skips "$j")" none
}
for variant in "ipip:ip_in_ip" "ipip --v6:ip_in_ip" "ip6in4 --link raw:ip_in_ip" \
	"ip6ip6:ip_in_ip" "ip6ip6 --v6 --ng:ip_in_ip" "gre:gre" "gre --v6 --outer6:gre" \
	"gre-key:gre" "gre-key --v6 --link raw:gre" "gretap:gre_ethernet" \
	"gretap --v6 --outer6:gre_ethernet" "erspan2:erspan" "erspan2 --v6:erspan" \
	"erspan3:erspan" "erspan3 --v6 --outer6:erspan" "pppoe:pppoe" "pppoe --v6:pppoe" \
	"qinq:vlan:0" "qinq --v6:vlan:0" "vlan3:vlan:0"; do
	IFS=: read -r args kind tunnels <<<"$variant"
	replay_variant "--encap $args" && encap_ok "--encap $args" "$j" "$kind" "$tunnels"
done
# Four nested encapsulations (the limit): GRE in IPv4 in a gretap frame in
# IPv6; and the INVITE and 200 OK as IP fragments inside tunnels, which the
# reassembly puts together as without the tunnel.
replay_variant "--encap gre,ipip,gretap,ip6ip6" &&
	encap_ok "4 nested encapsulations" "$j" gre_ethernet
for args in "--encap erspan3 --frag" "--encap gre-key,ip6ip6 --frag --v6" "--encap pppoe --frag --v6"; do
	replay_variant "$args" || continue
	encap_ok "$args" "$j" "$(case $args in *erspan3*) echo erspan ;; *gre*) echo gre ;; *) echo pppoe ;; esac)"
	expect_eq "$args: INVITE and 200 OK reassembled inside the tunnel" \
		"$(field "$j" fragments.sip_reassembled)" 2
done
# Five: too deep, every packet counted by name, no call.
replay_variant "--encap ipip,gre,gretap,erspan3,ip6ip6" &&
	expect_eq "5 nested encapsulations: every packet skipped as encap_too_deep, no call" \
		"$(field "$j" skipped.encap_too_deep)/$(field "$j" calls.started)/$(field "$j" sip.messages)" 65/0/0
# Headers that cannot be read (GRE cut in its key, ERSPAN II and III cut
# short, GRE version 1, PPPoE length past the frame): one reason each, the
# call next to them as before.
replay_variant "--bad-encap" && {
	expect_call "undecodable encapsulations" "$j"
	expect_eq "undecodable encapsulations: counted by reason" "$(no_skips "$j")" \
		"erspan_truncated=2,gre_truncated=1,gre_unsupported=1,pppoe_malformed=1"
}

"$PY" tests/lab/mkcapture.py "$T/bad.pcap" --bad
j=$("$SIPD" replay "$T/bad.pcap")
expect_call "malformed message" "$j" 6
expect_eq "malformed message dropped by name" "$(field "$j" sip.dropped.sip_bad_cseq)" 1

# Real-world patterns (docs/sip-validation.md): keep-alive pings from the
# phone during the call (7 CRLFCRLF, a CRLF, a NUL, a STUN Binding request),
# a video stream the callee declines with "m=video 0 RTP/AVP" (no format
# list), and a 200 OK to the BYE that repeats its To tag. Each passes: the
# keep-alives unparsed and counted apart (not as SIP messages), nothing is
# dropped, nobody is banned (10 pings > guard.malformed's 5), the call and
# its audio pinholes as above.
for variant in "--keepalives" "--keepalives --v6 --ng" "--declined --retag" \
	"--keepalives --declined --retag --v6"; do
	replay_variant "$variant" || continue
	expect_call "$variant" "$j"
	case $variant in
	*--keepalives*) kas=10 ;;
	*) kas=0 ;;
	esac
	expect_eq "$variant: keep-alives counted" "$(field "$j" sip.keepalives)" $kas
	expect_eq "$variant: every SIP message accepted" "$(field "$j" sip.accepted)" 5
	expect_eq "$variant: nothing dropped" "$(field "$j" sip.dropped)" "{}"
	"$SIPD" replay --events "$T/call.pcap" >"$T/events" 2>"$T/err"
	expect_eq "$variant: no ban (nor refused ban), no drop event" \
		"$(grep -c -e '"event":"ban' -e '"event":"message_drop"' "$T/events")" 0
done

# SIP over TCP (mkcapture.py --tcp): the same call on one connection, the
# handshake, each message in segments and the receiver's ACK, FIN both
# ways; the media is the UDP of the plain call. Every TCP packet is on the
# SIP port (tcp.segments = packets - 60 media); each message framed once;
# retransmitted segments (--retrans: every message's last segment twice)
# counted as retransmits, swapped ones (--reorder: each message's first two)
# as out of order, nothing given up. Replay sees the handshake, so every
# direction starts at its SYN's sequence number and each swapped pair is
# out of order, the first message's too.
gave_up() {
	"$PY" -c '
import json, sys
g = json.loads(sys.argv[1])["tcp"]["gave_up"]
print(",".join("%s=%s" % kv for kv in sorted(g.items()) if kv[1]) or "none")' "$1"
}
tcp_ok() {
	local what=$1 j=$2 segs=$3 retrans=${4:-0} ooo=${5:-0}
	expect_call "$what" "$j"
	expect_eq "$what: TCP segments (every packet but the 60 RTP)" \
		"$(field "$j" tcp.segments)/$(( $(field "$j" packets) - 60 ))" "$segs/$segs"
	expect_eq "$what: 5 messages framed from the stream" "$(field "$j" tcp.messages)" 5
	expect_eq "$what: every SIP message accepted" "$(field "$j" sip.accepted)" 5
	expect_eq "$what: retransmits/out of order" \
		"$(field "$j" tcp.retransmits)/$(field "$j" tcp.out_of_order)" "$retrans/$ooo"
	expect_eq "$what: nothing rejected or reset" \
		"$(field "$j" tcp.rejected)/$(field "$j" tcp.resets)" 0/0
	expect_eq "$what: nothing given up" "$(gave_up "$j")" none
}
# variant:segments:retransmits:out_of_order. One segment a message: 3
# handshake + 5 x (message + ACK) + 3 closing; --segment 100 (IPv4): the
# INVITE 430 octets (5 segments), 200 OK 396 (4), ACK 279, BYE 279, 200 243
# (3 each).
for variant in "--tcp:16" "--tcp --v6:16" "--tcp --link raw --ng:16" "--tcp --retrans:21:5" \
	"--tcp --segment 100:29" "--tcp --segment 100 --wrap:29" \
	"--tcp --segment 300 --reorder:18:0:2" \
	"--tcp --segment 100 --retrans --reorder:34:5:5" \
	"--tcp --segment 100 --retrans --reorder --wrap --v6 --link raw:-:5:5"; do
	IFS=: read -r args segs retrans ooo <<<"$variant"
	replay_variant "$args" || continue
	[ "$segs" = - ] && segs=$(( $(field "$j" packets) - 60 ))
	tcp_ok "$args" "$j" "$segs" "${retrans:-0}" "${ooo:-0}"
done
# A TLS connection (its handshake and first record to 5061): counted as
# uninspectable, never read, the call next to it as before.
replay_variant "--tcp --tls" && {
	tcp_ok "--tcp --tls" "$j" 20
	expect_eq "--tcp --tls: one TLS connection counted uninspectable" \
		"$(field "$j" tcp.uninspectable.tls)/$(field "$j" tcp.uninspectable.wss)" 1/0
}
# A filter dropping the INVITE: no call, no pinhole; the INVITE's
# retransmission and everything after it from the UAC (ACK and BYE, twice
# each) is rejected. The capture's 200 OK answers an INVITE that never went
# through (sip_unmatched_response), so the UAS's direction is rejected too:
# the 200's retransmission and the BYE's 200 twice.
cat >"$T/deny-tcp.json" <<'EOF2'
{ "filters": [ { "name": "no-invite", "match": { "method": "INVITE", "message": "request" }, "action": "drop" } ] }
EOF2
"$PY" tests/lab/mkcapture.py "$T/tcp.pcap" --tcp --retrans
j=$("$SIPD" replay -c "$T/deny-tcp.json" "$T/tcp.pcap")
expect_eq "TCP, INVITE filtered: dropped by name once" "$(field "$j" sip.dropped.sip_filter_drop)" 1
expect_eq "TCP, INVITE filtered: no pinhole opened" "$(field "$j" pinholes.opened)" 0
expect_eq "TCP, INVITE filtered: its 200 OK dropped as unmatched" \
	"$(field "$j" sip.dropped.sip_unmatched_response)" 1
expect_eq "TCP, INVITE filtered: 5 + 3 later segments rejected (tcp.rejected, sip_stream_rejected)" \
	"$(field "$j" tcp.rejected)/$(field "$j" sip.dropped.sip_stream_rejected)" 8/8
expect_eq "TCP, INVITE filtered: all 60 media packets dropped" "$(field "$j" media.dropped)" 60

# --events: every event on stdout, the summary last.
"$PY" tests/lab/mkcapture.py "$T/call.pcap"
"$SIPD" replay --events "$T/call.pcap" >"$T/events" 2>"$T/err"
expect_eq "--events: exit status" $? 0
expect_eq "--events: pinhole_open events" "$(grep -c '"event":"pinhole_open"' "$T/events")" 4
expect_eq "--events: pinhole_close events" "$(grep -c '"event":"pinhole_close"' "$T/events")" 4
expect_eq "--events: one media event per media packet" "$(grep -c '"event":"media"' "$T/events")" 60
expect_eq "--events: spoofed packets named dropped_bad_source" \
	"$(grep '"event":"media"' "$T/events" | grep -c '"reason":"dropped_bad_source"')" 10
# call_start is written when the INVITE is first answered (its 200, 50 ms in).
expect_eq "--events: capture clock in events" \
	"$(grep -m1 '"event":"call_start"' "$T/events" | grep -c '"ts_ns":1700000000050000000')" 1
check "--events: summary is the last line" bash -c "tail -n1 '$T/events' | grep -q '^{\"capture\"'"

# A config applies: a filter dropping INVITE leaves no call and no pinhole.
cat >"$T/deny.json" <<'EOF'
{ "filters": [ { "name": "no-invite", "match": { "method": "INVITE", "message": "request" }, "action": "drop" } ] }
EOF
j=$("$SIPD" replay -c "$T/deny.json" "$T/call.pcap")
expect_eq "config filter: INVITE dropped by name" "$(field "$j" sip.dropped.sip_filter_drop)" 1
expect_eq "config filter: no pinhole opened" "$(field "$j" pinholes.opened)" 0
expect_eq "config filter: all 60 media packets dropped" "$(field "$j" media.dropped)" 60

# Bad input: one clear error, non-zero exit, nothing left behind.
"$SIPD" replay "$T/missing.pcap" 2>"$T/err"
check "missing capture: non-zero exit" test $? -ne 0
check "missing capture: error names the file" grep -q "missing.pcap" "$T/err"
printf 'not a capture\n' >"$T/junk.pcap"
"$SIPD" replay "$T/junk.pcap" 2>"$T/err"
check "not a capture: non-zero exit" test $? -ne 0
printf '{ "timeouts": { "bye_grace_s": "x" } }\n' >"$T/badcfg.json"
"$SIPD" replay -c "$T/badcfg.json" "$T/call.pcap" >/dev/null 2>"$T/err"
check "bad config: non-zero exit" test $? -ne 0
check "bad config: error names the key" grep -q "bye_grace_s" "$T/err"
"$SIPD" replay --media-ports 9-3 "$T/call.pcap" 2>/dev/null
expect_eq "bad --media-ports: usage exit" $? 2
expect_eq "no private pin path left behind" \
	"$(ls -d /sys/fs/bpf/sipwall-replay-* 2>/dev/null | sort)" "$pins_before"

# SIPp's own RTP capture, when the shared corpus is there: all outside the
# default media range (port 6000), so XDP passes it as not media.
g711=$SW_SHARED/corpora/sipp/pcap/g711a.pcap
if [ -r "$g711" ]; then
	j=$("$SIPD" replay "$g711")
	expect_eq "SIPp g711a.pcap: every packet judged" \
		"$(field "$j" media.by_reason.passed_not_media)" "$(field "$j" packets)"
else
	skip "SIPp g711a.pcap: ../shared/corpora not present"
fi

finish
