#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# SIP over TCP through the lab (tests/lab/lab.sh): sipd inline on NFQUEUE
# judges TCP segments on the SIP ports (sipd/core.c handle_tcp, stream.h).
# SIPp calls over TCP with RTP through the pinholes, a big INVITE in several
# segments, a filtered INVITE that never reaches the UAS however often TCP
# retransmits it (and the reset after tcp.max_rejects), a sipd restart over a
# live connection, TLS connections counted as uninspectable, a Via that lies
# about the transport, and SIP over plain WebSocket.
# Host only: needs SIPp, iptables (xt_bpf, NFQUEUE), curl, native XDP on veth.
# SECTIONS="rules calls" runs only those (development); default: all.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

for t in sipp iptables ip6tables nsenter curl; do
	command -v "$t" >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
for b in build/bin/sipd build/bin/sipwall; do
	[ -x "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

SECTIONS=${SECTIONS:-"rules calls big filter evasion restart tls via ws passive"}
# evasion builds its segments with scapy.
/usr/bin/python3 -c 'import scapy' 2>/dev/null || NO_SCAPY=1
want() { case " $SECTIONS " in *" $1 "*) return 0 ;; esac; return 1; }

lab_tag=$(sw_tag)
source tests/lab/lab.sh
trap 'lab_down' EXIT
trap 'exit 130' INT TERM

if ! lab_up; then
	fail "lab namespaces up"
	finish
	exit 1
fi
ok "lab namespaces up ($lab_tag)"
if ! lab_attach >"$LAB_TMP/attach.log" 2>&1; then
	cat "$LAB_TMP/attach.log"
	fail "sipwall attach native on fw's veths"
	finish
	exit 1
fi
ok "sipwall attached (native XDP) on fw's outside and inside interfaces"

has_pinhole() { lab_pinholes | grep "^$1 " >/dev/null; }
no_pinholes() { [ -z "$(lab_pinholes)" ]; }

M=127.0.0.1:9870
metric() { local v; v=$(lab_metric $M "$1"); echo "${v:-none}"; }
drops() { metric "sipd_sip_drops_total{reason=\"$1\"}"; }
LAB_QUEUE=$(( (RANDOM % 30000) + 1000 ))
export LAB_QUEUE
CFG=$LAB_TMP/sipd.json
# config FILE [json fragment]: the lab config with metrics on, plus the fragment.
config() { lab_config "$1" "\"metrics\": { \"listen\": \"$M\" }${2:+,
  $2}"; }
config "$CFG"

# restart CONFIG [sipd args]: a fresh sipd (counters and streams start at 0).
restart() {
	local cfg=$1; shift
	lab_sipd_stop
	if lab_sipd_start "$cfg" "$@" && lab_wait_for 3 test "$(metric sipd_tcp_resets_total)" != none; then
		return 0
	fi
	tail -20 "$LAB_TMP/sipd.log"
	return 1
}
# mark: events from here on (events_since "$mark").
mark() { wc -l <"$LAB_TMP/events.jsonl" 2>/dev/null || echo 0; }
events_since() { tail -n +$(($1 + 1)) "$LAB_TMP/events.jsonl"; }
# ev_has MARK REGEX: an event since MARK matches.
ev_has() { events_since "$1" | grep -q -- "$2"; }

# Calls' media from their call_end events (each pinhole's packets): one line
# per call ended since MARK, "CALLID OPENS CLOSES RTP0 RTP1 REASON ADOPTED"
# (pinhole_open/close events of the call, packets through the RTP pinholes
# of side 0 and side 1).
calls_since() {
	events_since "$1" | "$LAB_PY" -c '
import json, sys
opens, closes, ends = {}, {}, []
for line in sys.stdin:
    try:
        e = json.loads(line)
    except ValueError:
        continue
    ev, cid = e.get("event"), e.get("call_id", "")
    if ev == "pinhole_open":
        opens[cid] = opens.get(cid, 0) + 1
    elif ev == "pinhole_close":
        closes[cid] = closes.get(cid, 0) + 1
    elif ev == "call_end":
        ends.append(e)
for e in ends:
    cid = e["call_id"]
    rtp = {0: 0, 1: 0}
    for p in e.get("pinholes", []):
        if p.get("kind") in ("rtp", "rtp+rtcp"):
            rtp[p["side"]] += p["packets"]
    print(cid, opens.get(cid, 0), closes.get(cid, 0), rtp[0], rtp[1], e.get("reason"),
          "adopted" if e.get("adopted") else "-")'
}

# The TCP rules' packet counters (iptables and ip6tables) by comment:
# "PAYLOAD CTL DROP SYN" summed over both families.
tcp_rule_pkts() {
	{ in_f iptables -nvxL SIPWALL; in_f ip6tables -nvxL SIPWALL; } | awk '
		/SIP over TCP to sipd/ { p += $1 }
		/end of a SIP TCP stream/ { c += $1 }
		/outside a tracked connection/ { d += $1 }
		/TLS\/WSS, counted/ { s += $1 }
		END { print p + 0, c + 0, d + 0, s + 0 }'
}
# Every TCP packet with port 5060 through fw (mangle PREROUTING counters).
tcp_all_pkts() {
	{ in_f iptables -t mangle -nvxL PREROUTING; in_f ip6tables -t mangle -nvxL PREROUTING; } |
		awk '/sipwall-lab: TCP 5060/ { n += $1 } END { print n + 0 }'
}
for ipt in iptables ip6tables; do
	in_f $ipt -t mangle -A PREROUTING -p tcp -m multiport --ports 5060 \
		-m comment --comment "sipwall-lab: TCP 5060"
done

# --- a. rules: the TCP rules for both families, nothing left after remove ---
rules_state() { for ipt in iptables ip6tables; do in_f $ipt -S; done | grep -i sipwall; }
if want rules; then
	check "rules install" in_f build/bin/sipd rules install -c "$CFG"
	for ipt in iptables ip6tables; do
		s=$(in_f $ipt -S SIPWALL)
		fam=IPv4; [ $ipt = ip6tables ] && fam=IPv6
		for dir in dport sport; do
			expect_eq "$fam: TCP $dir 5060 payload of established connections queued (xt_bpf)" \
				"$(echo "$s" | grep -c -- "-p tcp -m tcp --$dir 5060 -m conntrack --ctstate ESTABLISHED -m bpf --bytecode .*-j NFQUEUE --queue-num $LAB_QUEUE")" 1
			expect_eq "$fam: TCP $dir 5060 FIN/RST of established connections queued" \
				"$(echo "$s" | grep -c -- "-p tcp -m tcp --$dir 5060 ! --tcp-flags FIN,RST NONE -m conntrack --ctstate ESTABLISHED .*-j NFQUEUE --queue-num $LAB_QUEUE")" 1
			expect_eq "$fam: TCP $dir 5060 payload outside an established connection dropped" \
				"$(echo "$s" | grep -c -- "-p tcp -m tcp --$dir 5060 -m conntrack ! --ctstate ESTABLISHED -m bpf --bytecode .*-j DROP")" 1
		done
		expect_eq "$fam: SYN to the TLS port 5061 queued (counted)" \
			"$(echo "$s" | grep -c -- "-p tcp -m tcp --dport 5061 --tcp-flags FIN,SYN,RST,ACK SYN .*-j NFQUEUE --queue-num $LAB_QUEUE")" 1
		expect_eq "$fam: every TCP rule on a SIP/TLS port, none other" \
			"$(echo "$s" | grep -c -- "-p tcp")" 7
	done
	# The payload matches differ per family (IPv4 IHL, IPv6 fixed header).
	v4bc=$(in_f iptables -S SIPWALL | sed -n 's/.*--bytecode "\([^"]*\)".*/\1/p' | sort -u)
	v6bc=$(in_f ip6tables -S SIPWALL | sed -n 's/.*--bytecode "\([^"]*\)".*/\1/p' | sort -u)
	check "one payload program per family, different ones" \
		test "$(echo "$v4bc" | grep -c .)" = 1 -a "$(echo "$v6bc" | grep -c .)" = 1 -a "$v4bc" != "$v6bc"
	# Ports from the config: a second TCP port gets the same three rules.
	config "$LAB_TMP/ports.json" '"sip_ports": { "udp": [5060], "tcp": [5060, 5080], "tls": [5061, 5081] }'
	check "rules install with sip_ports.tcp [5060, 5080], tls [5061, 5081]" \
		in_f build/bin/sipd rules install -c "$LAB_TMP/ports.json"
	expect_eq "TCP rules for 5080 too, both directions, both families" \
		"$(rules_state | grep -c -- "-p tcp -m tcp --[ds]port 5080 ")" 12
	expect_eq "TLS SYN rule for 5081 too" \
		"$(rules_state | grep -c -- "-p tcp -m tcp --dport 5081 --tcp-flags FIN,SYN,RST,ACK SYN")" 2
	config "$LAB_TMP/notcp.json" '"transports": ["udp"]'
	check "rules install with transports [\"udp\"]" in_f build/bin/sipd rules install -c "$LAB_TMP/notcp.json"
	expect_eq "transports [\"udp\"]: no TCP payload rule" \
		"$(rules_state | grep -c -- "-p tcp .*--ctstate ESTABLISHED -m bpf")" 0
	check "rules remove" in_f build/bin/sipd rules remove
	expect_eq "nothing of sipwall left in iptables/ip6tables" "$(rules_state | grep -c .)" 0
fi

if ! lab_sipd_start "$CFG"; then
	cat "$LAB_TMP/sipd.log"
	fail "sipd run inline"
	finish
	exit 1
fi
ok "sipd inline on NFQUEUE"

UAS=$(lab_scenario uas.xml)
UAC=$(lab_scenario uac.xml)

# tcp_calls WHAT FAM TRANSPORT CALLS: SIPp calls over TCP; each call's RTP
# both ways through its pinholes (call_end packets), its 4 pinholes opened
# and closed, nothing left after the BYE grace.
tcp_calls() {
	local what=$1 fam=$2 t=$3 n=$4 m0 c good uas=$UAS
	local -a topt=(-t "$t") uopt=()
	if [ "$t" = tn ]; then
		# A socket per call: SIPp refuses its default -max_socket 50000
		# above ulimit -n. The UAC closes each call's connection at its
		# end, which fails a UAS call still in its final timewait: the
		# UAS here has none. One call every 3 s: a call's pinholes are
		# gone (BYE grace) before the next reuses its media ports (else
		# the next call takes them over and the call_end of the first
		# reports no packets).
		topt+=(-max_socket 64)
		uopt=(-rp 3000)
		uas=$LAB_TMP/uas-tn.xml
		sed '/<timewait/d' "$UAS" >"$uas"
	fi
	m0=$(mark)
	lab_uas "$fam" "$uas" "$n" "${topt[@]}"
	lab_uac "$fam" "$UAC" "$n" "${topt[@]}" "${uopt[@]}"
	expect_eq "$what: $n call(s) completed, 0 failed (SIPp UAC)" $? 0
	lab_uas_wait
	expect_eq "$what: SIPp UAS exit status" $? 0
	check "$what: no pinhole left after the BYE grace" lab_wait_for 5 no_pinholes
	c=$(calls_since "$m0")
	echo "$c" | sed 's/^/# call /'
	expect_eq "$what: call_end events" "$(echo "$c" | grep -c .)" "$n"
	good=$(echo "$c" | awk '$2 == 4 && $3 == 4' | grep -c .)
	expect_eq "$what: 4 pinhole_open and 4 pinhole_close events, for each call" "$good" "$n"
	good=$(echo "$c" | awk '$4 > 10 && $5 > 10' | grep -c .)
	expect_eq "$what: RTP both ways through the pinholes (>10 packets each side), for each call" \
		"$good" "$n"
	good=$(echo "$c" | awk '$6 == "bye"' | grep -c .)
	expect_eq "$what: every call ended by its BYE" "$good" "$n"
}

# --- b. SIPp calls over TCP: t1 IPv4/IPv6, tn IPv4 (5 connections) ---------
if want calls; then
	nop0=$(lab_stat dropped_no_pinhole)
	for ipt in iptables ip6tables; do in_f $ipt -Z SIPWALL; in_f $ipt -t mangle -Z PREROUTING; done
	tcp_calls "TCP t1 IPv4" 4 t1 1
	# SIPp binds 5060 at both ends: the same 4-tuple again, a new connection
	# (sipd forgot the first one at its FINs; it never sees the SYN).
	tcp_calls "TCP t1 IPv4 again (same ports, new connection)" 4 t1 1
	tcp_calls "TCP t1 IPv6" 6 t1 1
	LAB_RTP_MS=1000 tcp_calls "TCP tn IPv4 (a connection per call)" 4 tn 5
	expect_eq "no RTP of these calls met a missing pinhole" \
		$(( $(lab_stat dropped_no_pinhole) - nop0 )) 0
	# 8 calls, 6 messages each (INVITE 180 200 ACK BYE 200), each one send().
	sipmsgs=48
	read -r qp qc qd _ <<<"$(tcp_rule_pkts)"
	all=$(tcp_all_pkts)
	echo "# TCP port 5060 packets through fw: $all; queued: $qp with payload + $qc FIN/RST;" \
		"dropped outside a connection: $qd; SIP messages: $sipmsgs"
	echo "# fraction of TCP packets queued: $(( (qp + qc) * 100 / (all ? all : 1) ))%"
	expect_eq "sipd framed every SIP message (sipd_tcp_messages_total{transport=\"tcp\"})" \
		"$(metric 'sipd_tcp_messages_total{transport="tcp"}')" $sipmsgs
	check "payload segments queued ($qp) <= SIP messages ($sipmsgs): no pure ACK in the queue" \
		test "$qp" -le $sipmsgs -a "$qp" -gt 0
	check "FIN/RST queued ($qc): at most 2 per connection (8), at least 1" \
		test "$qc" -ge 1 -a "$qc" -le 16
	check "most TCP packets ($all) never went to the queue ($((qp + qc)) did)" \
		test $((qp + qc)) -lt $((all * 3 / 4))
	expect_eq "no payload dropped outside a tracked connection" "$qd" 0
	expect_eq "nothing dropped by sipd (sipd_tcp_segments_total rejected)" \
		"$(metric 'sipd_tcp_segments_total{kind="rejected"}')" 0
fi

# --- c. a 4 KB INVITE over TCP, MTU 1500: several segments ------------------
# The queue gets each segment as the wire carries it (sipd does not ask for
# GSO packets): the INVITE is several payload segments, framed once.
if want big; then
	lab_mtu 1500
	big=$(lab_scenario uac.xml 60)
	for fam in 4 6; do
		w="IPv$fam 4 KB INVITE over TCP"
		restart "$CFG" || fail "sipd restarted for the big INVITE"
		for ipt in iptables ip6tables; do in_f $ipt -Z SIPWALL; done
		m0=$(mark)
		lab_uas $fam "$UAS" 1 -t t1
		LAB_RTP_MS=1500 lab_uac $fam "$big" 1 -t t1 -trace_msg -message_file "$LAB_TMP/big-uac$fam.msg"
		expect_eq "$w: call completed" $? 0
		lab_uas_wait
		isz=$(sed -n 's/^Content-Length: *\([0-9]*\).*/\1/p' "$LAB_TMP/big-uac$fam.msg" | sort -n | tail -1)
		check "$w: its body alone is over 4000 bytes (${isz:-?}): several segments at MSS 1448" \
			test "${isz:-0}" -gt 4000
		read -r qp qc _ _ <<<"$(tcp_rule_pkts)"
		segs=$(metric 'sipd_tcp_segments_total{kind="all"}')
		echo "# payload segments queued: $qp, sipd segments: $segs, messages: 6"
		check "$w: more payload segments queued ($qp) than messages (6): the INVITE spanned several" \
			test "$qp" -ge 8
		check "$w: sipd saw them as segments too (sipd_tcp_segments_total all $segs >= 8)" \
			test "$segs" != none -a "${segs/none/0}" -ge 8
		expect_eq "$w: 6 messages framed (the INVITE once)" \
			"$(metric 'sipd_tcp_messages_total{transport="tcp"}')" 6
		check "$w: pinholes closed after the BYE" lab_wait_for 5 no_pinholes
		c=$(calls_since "$m0")
		echo "$c" | sed 's/^/# call /'
		expect_eq "$w: 4 pinholes opened and closed, RTP passed both ways" \
			"$(echo "$c" | awk '$2 == 4 && $3 == 4 && $4 > 10 && $5 > 10' | grep -c .)" 1
		check "$w: no parse or truncation drop" \
			test "$(events_since "$m0" | grep -c 'sip_body_truncated\|sip_parse_error\|sip_bad_content_length')" = 0
	done
fi

# listen_start NS ADDR PORT SECS OUT [args]: siptcp.py listen in the background.
listen_start() {
	local ns=$1 addr=$2 port=$3 secs=$4 o=$5; shift 5
	lab_siptcp "$ns" listen "$addr" "$port" "$secs" "$@" >"$o" 2>&1 &
	LP=$!
	LAB_PIDS+=("$LP")
	sleep 0.5
}

# --- d. a filtered INVITE over TCP never reaches the UAS --------------------
NOEVIL='"filters": [ { "name": "no-evil", "match": { "user_agent": ["evil-ua*"] }, "action": "drop" } ]'
NOEVIL_CFG=$NOEVIL
if want filter; then
	config "$LAB_TMP/filter.json" "$NOEVIL"
	restart "$LAB_TMP/filter.json" || fail "sipd restarted with the filter"
	# Default max_rejects (8): 15 s of retransmissions (RTO 0.2 s doubling:
	# 6 within 12.6 s), every one dropped, no reset yet.
	listen_start "$NS_I" $I4 5060 17 "$LAB_TMP/filter-srv.log"
	lab_siptcp "$NS_O" send $O4 $I4 5060 15 --ua evil-ua/1.0 >"$LAB_TMP/filter-cli.log" 2>&1
	wait $LP
	sed 's/^/# client: /' "$LAB_TMP/filter-cli.log"
	sed 's/^/# server: /' "$LAB_TMP/filter-srv.log"
	check "filtered INVITE: client connected and sent it" grep -q '^sent ' "$LAB_TMP/filter-cli.log"
	check "filtered INVITE: the connection reached the UAS (handshake passes)" \
		grep -q '^conn ' "$LAB_TMP/filter-srv.log"
	expect_eq "filtered INVITE: never reached the UAS in 15 s of retransmissions" \
		"$(grep -c '^msg ' "$LAB_TMP/filter-srv.log")" 0
	expect_eq "filtered INVITE: dropped once by the filter (sip_filter_drop)" "$(drops sip_filter_drop)" 1
	rj=$(drops sip_stream_rejected)
	check "filtered INVITE: its retransmissions dropped as sip_stream_rejected ($rj >= 3)" \
		test "${rj/none/0}" -ge 3
	check "filtered INVITE: with max_rejects 8, no reset within 15 s (client saw: $(tail -1 "$LAB_TMP/filter-cli.log"))" \
		test "$(metric sipd_tcp_resets_total)" = 0 -a "$(tail -1 "$LAB_TMP/filter-cli.log")" = quiet
	check "message_drop event named the filter" \
		grep -q '"event":"message_drop".*"sip_filter_drop".*no-evil' "$LAB_TMP/events.jsonl"

	# max_rejects 3: the third retransmission dropped ends the connection.
	config "$LAB_TMP/reset.json" "$NOEVIL, \"tcp\": { \"max_rejects\": 3 }"
	restart "$LAB_TMP/reset.json" || fail "sipd restarted with tcp.max_rejects 3"
	listen_start "$NS_I" $I4 5060 12 "$LAB_TMP/reset-srv.log"
	lab_siptcp "$NS_O" send $O4 $I4 5060 10 --ua evil-ua/1.0 >"$LAB_TMP/reset-cli.log" 2>&1
	wait $LP
	sed 's/^/# client: /' "$LAB_TMP/reset-cli.log"
	sed 's/^/# server: /' "$LAB_TMP/reset-srv.log"
	expect_eq "max_rejects 3: the INVITE never reached the UAS" \
		"$(grep -c '^msg ' "$LAB_TMP/reset-srv.log")" 0
	rs=$(metric sipd_tcp_resets_total)
	expect_eq "max_rejects 3: sipd reset the connection once (sipd_tcp_resets_total)" "$rs" 1
	expect_eq "max_rejects 3: 3 retransmissions dropped, the 4th reset it (segments rejected, sip_stream_rejected)" \
		"$(metric 'sipd_tcp_segments_total{kind="rejected"}')/$(drops sip_stream_rejected)" 3/4
	expect_eq "max_rejects 3: the reset counted as a give-up" \
		"$(metric 'sipd_tcp_gave_up_total{reason="reset"}')" 1
	expect_eq "max_rejects 3: the client saw the reset (ConnectionResetError)" \
		"$(tail -1 "$LAB_TMP/reset-cli.log")" reset
	check "max_rejects 3: the UAS saw the reset too" grep -q '^reset' "$LAB_TMP/reset-srv.log"
	expect_eq "max_rejects 3: no RST send error" \
		"$(grep -c 'sending a TCP reset' "$LAB_TMP/sipd.log")" 0
	# An allowed INVITE on a new connection still passes.
	listen_start "$NS_I" $I4 5060 4 "$LAB_TMP/allow-srv.log"
	lab_siptcp "$NS_O" send $O4 $I4 5060 2 --ua friendly/1.0 >"$LAB_TMP/allow-cli.log" 2>&1
	wait $LP
	expect_eq "an allowed INVITE on a new connection reached the UAS" \
		"$(grep -c '^msg INVITE ' "$LAB_TMP/allow-srv.log")" 1
	restart "$CFG" || fail "sipd restarted with the plain config"
fi

# --- d2. the filtered INVITE in two hand-made segments, in and out of order -
# The inline rules never queue the handshake: sipd meets the connection at
# its first segment with payload, which with --reorder is the INVITE's
# second half. The receiver must never get the whole INVITE either way
# (siptcp.py raw sends both segments three times; "acked" is how much of it
# the UAS's kernel acknowledged).
if want evasion && [ -n "${NO_SCAPY:-}" ]; then
	skip "hand-made segments: python3-scapy missing (scripts/deps.sh)"
elif want evasion; then
	config "$LAB_TMP/filter.json" "$NOEVIL_CFG"
	restart "$LAB_TMP/filter.json" || fail "sipd restarted with the filter"
	# The outside kernel knows nothing of the hand-made connection: keep its
	# RSTs (to the SYN-ACK and the UAS's ACKs) off the wire.
	for ipt in iptables ip6tables; do
		in_o $ipt -A OUTPUT -p tcp --dport 5060 --tcp-flags RST RST -j DROP
	done
	for case in "inorder:evil-ua/2.0:" "reorder:evil-ua/2.0:--reorder" "reorder-allowed:friendly/2.0:--reorder"; do
		IFS=: read -r name ua ro <<<"$case"
		listen_start "$NS_I" $I4 5060 7 "$LAB_TMP/raw-$name-srv.log"
		# shellcheck disable=SC2086
		lab_siptcp "$NS_O" raw $O4 $I4 5060 4 --split 200 --ua "$ua" $ro >"$LAB_TMP/raw-$name-cli.log" 2>&1
		wait $LP
		sed "s/^/# $name client: /" "$LAB_TMP/raw-$name-cli.log"
		sed "s/^/# $name server: /" "$LAB_TMP/raw-$name-srv.log"
		check "raw $name: handshake made" grep -q '^handshake' "$LAB_TMP/raw-$name-cli.log"
		got=$(grep -c '^msg INVITE ' "$LAB_TMP/raw-$name-srv.log")
		# This connection's drops (an earlier test's orphaned connection
		# may still retransmit its INVITE to the new sipd).
		port=$(awk '$1 == "conn" { print $3; exit }' "$LAB_TMP/raw-$name-srv.log")
		fd=$(events_since 0 | grep '"event":"message_drop".*"sip_filter_drop"' | grep -c "\"src\":\"$O4:${port:-none}\"")
		case $name in
		*allowed)
			expect_eq "raw $name: an allowed INVITE, second half first, reached the UAS whole" "$got" 1
			expect_eq "raw $name: not dropped" "$fd" 0
			;;
		*)
			expect_eq "raw $name: the filtered INVITE in two segments never reached the UAS" "$got" 0
			expect_eq "raw $name: dropped by the filter once, its retransmissions rejected" "$fd" 1
			;;
		esac
	done
	for ipt in iptables ip6tables; do
		in_o $ipt -D OUTPUT -p tcp --dport 5060 --tcp-flags RST RST -j DROP
	done
	restart "$CFG" || fail "sipd restarted with the plain config"
fi

# --- e. sipd restarted mid-call over a live TCP connection ------------------
if want restart; then
	m0=$(mark)
	lab_uas 4 "$UAS" 1 -t t1
	LAB_RTP_MS=8000 lab_uac 4 "$UAC" 1 -t t1 &
	uac=$!
	if lab_wait_for 6 has_pinhole $I4:16000; then
		ok "restart: call up over TCP, pinholes open"
	else
		fail "restart: no pinhole for the call"
	fi
	sleep 1
	lab_sipd_stop
	check "restart: pinholes stay while sipd is down (SIGTERM, no --close-on-exit)" has_pinhole $I4:16000
	p1=$(lab_pinhole_packets $I4:16000)
	sleep 1
	p2=$(lab_pinhole_packets $I4:16000)
	check "restart: media flows on with sipd down (${p1:-none} -> ${p2:-none})" test "${p2:-0}" -gt "${p1:-0}"
	m1=$(mark)
	lab_sipd_start "$CFG"
	check "restart: sipd started again" test $? -eq 0
	check "restart: the new sipd adopted the call (call_adopt event)" \
		lab_wait_for 3 ev_has "$m1" '"event":"call_adopt"'
	wait $uac
	expect_eq "restart: call over the same TCP connection completed, 0 failed" $? 0
	lab_uas_wait
	check "restart: the BYE closed the adopted call's pinholes" lab_wait_for 5 no_pinholes
	c=$(events_since "$m1" | grep '"event":"call_end"')
	echo "$c" | sed 's/^/# /'
	check "restart: call_end reason bye, adopted" ev_has "$m1" '"event":"call_end".*"reason":"bye".*"adopted":true'
	check "restart: pinhole_close events from the new sipd" \
		test "$(events_since "$m1" | grep -c '"event":"pinhole_close"')" -ge 4
	bm=$(metric 'sipd_tcp_messages_total{transport="tcp"}')
	check "restart: the new sipd framed the BYE and its 200 from mid-stream ($bm >= 2)" \
		test "${bm/none/0}" -ge 2
fi

# --- f. TLS: connections counted as uninspectable; "drop" refuses them ------
if want tls; then
	restart "$CFG" || fail "sipd restarted for TLS"
	m0=$(mark)
	listen_start "$NS_I" $I4 5061 4 "$LAB_TMP/tls-srv.log"
	lab_siptcp "$NS_O" connect $I4 5061 3 >"$LAB_TMP/tls-cli.log" 2>&1
	wait $LP
	expect_eq "TLS port: the connection is made (uninspectable: pass)" "$(cat "$LAB_TMP/tls-cli.log")" connected
	expect_eq "TLS port: counted (sipd_uninspectable_connections_total tls)" \
		"$(metric 'sipd_uninspectable_connections_total{transport="tls"}')" 1
	check "TLS port: an uninspectable event (transport tls, action pass)" \
		ev_has "$m0" '"event":"uninspectable".*"transport":"tls".*"action":"pass"'
	config "$LAB_TMP/tlsdrop.json" '"uninspectable": "drop"'
	restart "$LAB_TMP/tlsdrop.json" || fail "sipd restarted with uninspectable drop"
	listen_start "$NS_I" $I4 5061 6 "$LAB_TMP/tls2-srv.log"
	lab_siptcp "$NS_O" connect $I4 5061 3 >"$LAB_TMP/tls2-cli.log" 2>&1
	wait $LP
	expect_eq "uninspectable drop: the TLS connect times out" "$(cat "$LAB_TMP/tls2-cli.log")" connect-timeout
	expect_eq "uninspectable drop: the listener never got it" "$(grep -c '^conn' "$LAB_TMP/tls2-srv.log")" 0
	d=$(drops sip_uninspectable)
	check "uninspectable drop: counted as sip_uninspectable ($d >= 1: the SYN and its retries)" \
		test "${d/none/0}" -ge 1
	expect_eq "uninspectable drop: one connect attempt ($d SYNs) counts as one connection" \
		"$(metric 'sipd_uninspectable_connections_total{transport="tls"}')" 1
	restart "$CFG" || fail "sipd restarted with the plain config"
fi

# --- g. a Via that names UDP on a message that came over TCP ---------------
if want via; then
	listen_start "$NS_I" $I4 5060 4 "$LAB_TMP/via-srv.log"
	lab_siptcp "$NS_O" send $O4 $I4 5060 2 --via UDP >"$LAB_TMP/via-cli.log" 2>&1
	wait $LP
	expect_eq "Via UDP over TCP: never reached the UAS" "$(grep -c '^msg ' "$LAB_TMP/via-srv.log")" 0
	expect_eq "Via UDP over TCP: dropped as sip_transport_mismatch" "$(drops sip_transport_mismatch)" 1
	check "Via UDP over TCP: message_drop event says why" \
		grep -q '"sip_transport_mismatch".*top Via transport UDP on a message that came over TCP' "$LAB_TMP/events.jsonl"
	listen_start "$NS_I" $I4 5060 4 "$LAB_TMP/via2-srv.log"
	lab_siptcp "$NS_O" send $O4 $I4 5060 2 --via TCP >"$LAB_TMP/via2-cli.log" 2>&1
	wait $LP
	expect_eq "Via TCP over TCP: reached the UAS" "$(grep -c '^msg INVITE ' "$LAB_TMP/via2-srv.log")" 1
fi

# --- h. SIP over plain WebSocket (RFC 7118) ---------------------------------
if want ws; then
	config "$LAB_TMP/ws.json" '"transports": ["udp", "tcp", "ws"], "sip_ports": { "udp": [5060], "tcp": [5060], "ws": [8080] }'
	restart "$LAB_TMP/ws.json" || fail "sipd restarted with transports ws"
	expect_eq "ws: port 8080 gets the TCP rules" \
		"$(rules_state | grep -c -- "-p tcp -m tcp --[ds]port 8080 ")" 12
	m0=$(mark)
	listen_start "$NS_I" $I4 8080 6 "$LAB_TMP/ws-srv.log" --ws --answer
	lab_siptcp "$NS_O" send $O4 $I4 8080 4 --ws --media 12000 >"$LAB_TMP/ws-cli.log" 2>&1
	p_ws=$(lab_pinholes)
	wait $LP
	sed 's/^/# client: /' "$LAB_TMP/ws-cli.log"
	sed 's/^/# server: /' "$LAB_TMP/ws-srv.log"
	check "ws: the handshake (101) passed" grep -q '^upgraded' "$LAB_TMP/ws-cli.log"
	expect_eq "ws: the INVITE reached the server in a WebSocket frame" \
		"$(grep -c '^msg INVITE ' "$LAB_TMP/ws-srv.log")" 1
	expect_eq "ws: the 200 OK reached the client" "$(grep -c '^msg SIP/2.0 200' "$LAB_TMP/ws-cli.log")" 1
	expect_eq "ws: sipd_tcp_messages_total{transport=\"ws\"}" \
		"$(metric 'sipd_tcp_messages_total{transport="ws"}')" 2
	check "ws: pinholes opened from the SDP in the frames" \
		ev_has "$m0" "\"event\":\"pinhole_open\".*\"dst\":\"$I4:16000\""
	echo "$p_ws" | sed 's/^/# ws pinhole /'
	# The WebSocket call never sends a BYE: its pinholes would be adopted by
	# the next sipd and hold the media ports later sections use.
	lab_sipd_stop
	for dst in $(lab_pinholes | awk '{ print $1 }'); do
		in_f "$LAB_SIPWALL" pinhole del --dst "$dst" --pin-path "$LAB_PIN" >/dev/null
	done
	check "ws: its pinholes removed by hand" no_pinholes
	restart "$CFG" || fail "sipd restarted with the plain config"
fi

# --- clean exit and exact removal -------------------------------------------
lab_sipd_stop
check "rules remove" in_f build/bin/sipd rules remove
expect_eq "nothing of sipwall left in iptables" "$(rules_state | grep -c .)" 0

# --- passive: a TCP call sipd only observes (AF_PACKET on fo), no queue ----
# Both directions cross fo; sipd reassembles what it sees and opens the
# call's pinholes, so the XDP program lets its RTP through.
if want passive; then
	if lab_sipd_passive "$CFG" fo; then
		ok "sipd --passive on fw's outside interface"
		pp0=$(lab_stat passed_pinhole)
		m0=$(mark)
		lab_uas 4 "$UAS" 1 -t t1
		LAB_RTP_MS=1500 lab_uac 4 "$UAC" 1 -t t1
		expect_eq "passive: TCP call completed" $? 0
		lab_uas_wait
		check "passive: RTP passed through pinholes sipd opened from the TCP stream it saw" \
			test $(( $(lab_stat passed_pinhole) - pp0 )) -gt 20
		check "passive: pinholes closed after the BYE" lab_wait_for 10 no_pinholes
		check "passive: the call's pinholes were opened (pinhole_open events)" \
			ev_has "$m0" '"event":"pinhole_open"'
		lab_sipd_stop
		check "passive: the summary counts TCP segments" \
			grep -Eq 'passive: [0-9]+ packets, [0-9]+ SIP \([1-9][0-9]* TCP segments\), 0 would have been dropped' \
			"$LAB_TMP/sipd.log"
	else
		tail -20 "$LAB_TMP/sipd.log"
		fail "sipd --passive on fw's outside interface"
	fi
fi

finish
