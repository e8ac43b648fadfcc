#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# End-to-end: SIPp calls with RTP through a firewall namespace running the
# sipwall XDP program and sipd inline on NFQUEUE (tests/lab/lab.sh).
# Host only: needs SIPp, iptables NFQUEUE and native XDP on veth.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

for t in sipp iptables ip6tables nsenter; do
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

CFG=$LAB_TMP/sipd.json
NOMSG='"filters": [ { "name": "no-message", "match": { "method": "MESSAGE" }, "action": "drop" } ]'
# Two queues: the rules balance SIP over them, sipd binds both.
LAB_QUEUE=$(( (RANDOM % 30000) + 1000 )) LAB_QUEUES=2 lab_config "$CFG" "$NOMSG"
Q=$(sed -n 's/.*"num": \([0-9]*\).*/\1/p' "$CFG")

# --- rules: idempotent install, fail-closed / fail-open without sipd ------
rules_state() { for ipt in iptables ip6tables; do in_f $ipt -S; done | grep -i sipwall; }
check "rules install" in_f build/bin/sipd rules install -c "$CFG"
first=$(rules_state)
check "rules install again" in_f build/bin/sipd rules install -c "$CFG"
expect_eq "rules install is idempotent" "$(rules_state)" "$first"
expect_eq "one FORWARD jump per family" \
	"$( (in_f iptables -S FORWARD; in_f ip6tables -S FORWARD) | grep -c -- '-j SIPWALL')" 2
expect_eq "UDP queue rules carry the conntrack match (defrag)" \
	"$(in_f iptables -S SIPWALL | grep -c -- '-p udp .*ctstate.*NFQUEUE')" 2
# UDP both ways, TCP payload and FIN/RST both ways, the TLS SYN count.
expect_eq "two queues: every queue rule has --queue-balance $Q:$((Q + 1))" \
	"$(in_f iptables -S SIPWALL | grep -c -- "NFQUEUE --queue-balance $Q:$((Q + 1))")" 7
check "rules install --input --output" in_f build/bin/sipd rules install -c "$CFG" --input --output
expect_eq "jumps from INPUT and OUTPUT too" \
	"$(in_f iptables -S | grep -c -- '-A \(INPUT\|OUTPUT\|FORWARD\) -j SIPWALL')" 3
check "rules install (FORWARD only again)" in_f build/bin/sipd rules install -c "$CFG"
expect_eq "INPUT/OUTPUT jumps gone when no longer configured" \
	"$(in_f iptables -S | grep -c -- '-A \(INPUT\|OUTPUT\) -j SIPWALL')" 0
in_f build/bin/sipd rules install --queue 70000 2>"$LAB_TMP/err"
expect_eq "bad --queue: usage error" $? 2

# No sipd bound to the queue: fail-closed drops SIP, fail-open passes it.
sip_through() {
	local out=$LAB_TMP/listen.$1
	lab_sip_listen "$NS_I" $I4 5060 2 >"$out" &
	local lp=$!
	sleep 0.5
	lab_sip_send "$NS_O" $O4 $I4 OPTIONS
	wait $lp
	grep -c OPTIONS "$out"
}
expect_eq "fail-closed: SIP dropped while sipd is down" "$(sip_through closed)" 0
check "rules install --fail-open" in_f build/bin/sipd rules install -c "$CFG" --fail-open
expect_eq "fail-open: SIP bypasses the queue while sipd is down" "$(sip_through open)" 1
check "rules back to fail-closed" in_f build/bin/sipd rules install -c "$CFG"

if ! lab_sipd_start "$CFG"; then
	cat "$LAB_TMP/sipd.log"
	fail "sipd run inline"
	finish
	exit 1
fi
ok "sipd inline on NFQUEUE"

# --- a call: RTP both ways through pinholes, spoofing, BYE, late RTP ------
nop0=$(lab_stat dropped_no_pinhole)
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=3000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
lab_wait_for 6 has_pinhole $I4:16000
sleep 1
mid=$(lab_pinholes)
echo "$mid" | sed 's/^/# mid-call pinhole /'
expect_eq "4 pinholes during the call (RTP+RTCP each side)" "$(echo "$mid" | grep -c .)" 4
bad0=$(lab_stat dropped_bad_source)
lab_udp_send "$NS_S" $S4 $I4 16000 20 16000
expect_eq "spoofed RTP from a third namespace dropped (dropped_bad_source)" \
	$(( $(lab_stat dropped_bad_source) - bad0 )) 20
wait $uac
expect_eq "v4 call completed (SIPp UAC)" $? 0
lab_uas_wait
expect_eq "v4 call completed (SIPp UAS)" $? 0
in_rtp=$(echo "$mid" | awk -v d=$I4:16000 '$1 == d { print $3 }')
out_rtp=$(echo "$mid" | awk -v d=$O4:12000 '$1 == d { print $3 }')
check "RTP outside->inside passed through its pinhole (${in_rtp:-0} packets)" test "${in_rtp:-0}" -gt 10
check "RTP inside->outside passed through its pinhole (${out_rtp:-0} packets)" test "${out_rtp:-0}" -gt 10
expect_eq "no RTP packet of the call met a missing pinhole" \
	$(( $(lab_stat dropped_no_pinhole) - nop0 )) 0
check "no pinhole left after BYE (+grace)" lab_wait_for 5 no_pinholes
nop0=$(lab_stat dropped_no_pinhole)
lab_udp_send "$NS_O" $O4 $I4 16000 20 12000
expect_eq "late RTP after BYE dropped (dropped_no_pinhole)" \
	$(( $(lab_stat dropped_no_pinhole) - nop0 )) 20
grep -q '"event":"call_end".*"reason":"bye"' "$LAB_TMP/events.jsonl"
check "call_end event with reason bye" test $? -eq 0

# --- a method the config forbids never reaches the UAS --------------------
lab_sip_listen "$NS_I" $I4 5060 2 >"$LAB_TMP/listen.filter" &
lp=$!
sleep 0.5
lab_sip_send "$NS_O" $O4 $I4 MESSAGE
lab_sip_send "$NS_O" $O4 $I4 OPTIONS
wait $lp
expect_eq "forbidden MESSAGE never reached inside" "$(grep -c MESSAGE "$LAB_TMP/listen.filter")" 0
expect_eq "allowed OPTIONS reached inside" "$(grep -c OPTIONS "$LAB_TMP/listen.filter")" 1
check "message_drop sip_filter_drop logged" grep -q '"sip_filter_drop"' "$LAB_TMP/events.jsonl"

# --- SIGHUP: a bad config keeps the old one, a good one applies -----------
printf '{ "filters": [ { "match": { "method": "NOPE" }, "action": "drop" } ] }\n' >"$LAB_TMP/bad.json"
cp "$CFG" "$LAB_TMP/good.json"
cp "$LAB_TMP/bad.json" "$CFG"
kill -HUP "$LAB_SIPD_PID"
check "SIGHUP with a bad config: reload refused" lab_wait_for 3 grep -q "keeping the old configuration" "$LAB_TMP/sipd.log"
check "sipd still running after the bad reload" kill -0 "$LAB_SIPD_PID"
lab_sip_listen "$NS_I" $I4 5060 2 >"$LAB_TMP/listen.hup1" &
lp=$!; sleep 0.5; lab_sip_send "$NS_O" $O4 $I4 MESSAGE; wait $lp
expect_eq "old filter still applies after the bad reload" "$(grep -c MESSAGE "$LAB_TMP/listen.hup1")" 0
LAB_QUEUE=$Q LAB_QUEUES=2 lab_config "$CFG"
kill -HUP "$LAB_SIPD_PID"
check "SIGHUP with a good config: reloaded" lab_wait_for 3 grep -q "configuration reloaded" "$LAB_TMP/sipd.log"
lab_sip_listen "$NS_I" $I4 5060 2 >"$LAB_TMP/listen.hup2" &
lp=$!; sleep 0.5; lab_sip_send "$NS_O" $O4 $I4 MESSAGE; wait $lp
expect_eq "MESSAGE passes once the reload dropped the filter" "$(grep -c MESSAGE "$LAB_TMP/listen.hup2")" 1
cp "$LAB_TMP/good.json" "$CFG"
kill -HUP "$LAB_SIPD_PID"

# --- CANCEL and 486 leave no pinhole --------------------------------------
for kind in cancel busy; do
	lab_uas 4 "$(lab_scenario uas-$kind.xml)" 1
	lab_uac 4 "$(lab_scenario uac-$kind.xml)" 1
	expect_eq "$kind call flow completed" $? 0
	lab_uas_wait
	sleep 0.3
	expect_eq "$kind leaves no pinhole" "$(lab_pinholes | grep -c .)" 0
done

# --- re-INVITE moving the port moves the pinhole --------------------------
lab_uas 4 "$(lab_scenario uas-reinvite.xml)" 1
LAB_RTP_MS=1000 lab_uac 4 "$(lab_scenario uac-reinvite.xml)" 1 &
uac=$!
if lab_wait_for 8 has_pinhole $O4:12002; then
	ok "re-INVITE: pinhole for the new port $O4:12002"
	expect_eq "re-INVITE: old port's pinhole gone" "$(lab_pinholes | grep -c "^$O4:12000 ")" 0
else
	fail "re-INVITE: no pinhole for the new port ($(lab_pinholes | tr '\n' ';'))"
fi
wait $uac
expect_eq "re-INVITE call completed" $? 0
lab_uas_wait

# --- SIGKILL of sipd mid-call: media flows on, a new sipd closes on BYE ---
lab_wait_for 5 no_pinholes
lab_uas 4 "$(lab_scenario uas.xml)" 1
LAB_RTP_MS=5000 lab_uac 4 "$(lab_scenario uac.xml)" 1 &
uac=$!
sleep 1.5
kill -KILL "$LAB_SIPD_PID"
wait "$LAB_SIPD_PID" 2>/dev/null
LAB_SIPD_PID=
p1=$(lab_pinhole_packets $I4:16000)
sleep 1
p2=$(lab_pinhole_packets $I4:16000)
check "media keeps flowing with sipd killed (${p1:-none} -> ${p2:-none})" test "${p2:-0}" -gt "${p1:-0}"
lab_sipd_start "$CFG"
check "sipd restarted" test $? -eq 0
wait $uac
expect_eq "call across the sipd restart completed" $? 0
lab_uas_wait
check "restarted sipd closed the adopted call's pinholes on BYE" lab_wait_for 5 no_pinholes

# --- INVITE bigger than the MTU, IPv4 and IPv6 ----------------------------
for fam in 4 6; do
	pp0=$(lab_stat passed_pinhole)
	lab_uas $fam "$(lab_scenario uas.xml)" 1
	LAB_RTP_MS=1000 lab_uac $fam "$(lab_scenario uac.xml 60)" 1
	expect_eq "IPv$fam call with a $(( 60 * 62 / 1000 + 1 )) KB INVITE (fragmented) completed" $? 0
	lab_uas_wait
	check "IPv$fam big-INVITE call's RTP passed through pinholes" \
		test $(( $(lab_stat passed_pinhole) - pp0 )) -gt 10
done
check "queue saw the big INVITEs whole (no sip_parse/truncated drops)" \
	bash -c "! grep -q 'sip_body_truncated\|sip_parse_error' '$LAB_TMP/events.jsonl'"

check "big-INVITE calls' pinholes closed after BYE" lab_wait_for 5 no_pinholes

# options_burst N SRC...: N OPTIONS from outside to I4:5060, round robin
# over the source addresses (each bound to port 5060), as fast as they go.
options_burst() {
	local n=$1; shift
	in_o timeout 10 "$LAB_PY" - $I4 "$n" "$@" <<'PYEOF'
import socket, sys, random
dst, n, srcs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
socks = []
for src in srcs:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 22)
    s.bind((src, 5060))
    socks.append((src, s))
for i in range(n):
    src, s = socks[i % len(socks)]
    msg = ("OPTIONS sip:bob@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%x\r\n"
           "Max-Forwards: 70\r\nFrom: <sip:alice@%s>;tag=%x\r\nTo: <sip:bob@%s>\r\n"
           "Call-ID: burst-%d-%x@sipwall-lab\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n") % (
           dst, src, random.getrandbits(32), src, random.getrandbits(32), dst, i,
           random.getrandbits(32))
    s.sendto(msg.encode(), (dst, 5060))
PYEOF
}

# --- a burst: the queue is read in batches (recvmmsg), one verdict send per
# batch; every datagram still gets its own verdict (issue 16) ---------------
lab_sip_listen "$NS_I" $I4 5060 4 >"$LAB_TMP/listen.burst" &
lp=$!
sleep 0.5
options_burst 300 $O4
wait $lp
expect_eq "a burst of 300 OPTIONS: every one passed the queue" \
	"$(grep -c '^OPTIONS' "$LAB_TMP/listen.burst")" 300

# --- two workers: each queue on a socket of its own, served by its own
# thread (queue.workers, issue 16); calls and a burst over both queues -----
kill -TERM "$LAB_SIPD_PID"
wait "$LAB_SIPD_PID"
LAB_SIPD_PID=
in_f build/bin/sipd run -c "$CFG" --workers 3 >/dev/null 2>"$LAB_TMP/err"
expect_eq "--workers above the queue count refused" $? 1
check "  ... naming why" grep -q '3 workers for 2 queues' "$LAB_TMP/err"
if lab_sipd_start "$CFG" --workers 2; then
	ok "sipd inline with --workers 2"
	check "log says 2 workers" grep -q 'inline on NFQUEUE .*, 2 workers' "$LAB_TMP/sipd.log"
	# the kernel lists each queue with the port id of the socket bound to it
	ports=$(in_f awk -v a=$Q -v b=$((Q + 1)) '$1 == a || $1 == b { print $2 }' \
		/proc/net/netfilter/nfnetlink_queue | sort -u | grep -c .)
	expect_eq "queues $Q and $((Q + 1)) bound on two sockets" "$ports" 2
	for fam in 4 6; do
		nop0=$(lab_stat dropped_no_pinhole)
		lab_uas $fam "$(lab_scenario uas.xml)" 1
		LAB_RTP_MS=1500 lab_uac $fam "$(lab_scenario uac.xml)" 1
		expect_eq "workers: v$fam call completed" $? 0
		lab_uas_wait
		expect_eq "workers: no RTP of the v$fam call met a missing pinhole" \
			$(( $(lab_stat dropped_no_pinhole) - nop0 )) 0
		check "workers: v$fam pinholes closed after BYE" lab_wait_for 5 no_pinholes
	done
	# --queue-balance hashes the address pair: 8 source addresses spread
	# the burst over both queues (both workers at once)
	for k in $(seq 10 17); do in_o ip addr add 10.201.1.$k/24 dev o0 2>/dev/null; done
	acc0=$(in_f cat /proc/net/netfilter/nfnetlink_queue | awk -v a=$Q '$1 == a { print $8 }')
	acc1=$(in_f cat /proc/net/netfilter/nfnetlink_queue | awk -v a=$((Q + 1)) '$1 == a { print $8 }')
	lab_sip_listen "$NS_I" $I4 5060 4 >"$LAB_TMP/listen.wburst" &
	lp=$!
	sleep 0.5
	options_burst 400 $(seq -f "10.201.1.%g" 10 17)
	wait $lp
	expect_eq "workers: a burst of 400 OPTIONS from 8 sources: every one passed" \
		"$(grep -c '^OPTIONS' "$LAB_TMP/listen.wburst")" 400
	d0=$(( $(in_f cat /proc/net/netfilter/nfnetlink_queue | awk -v a=$Q '$1 == a { print $8 }') - acc0 ))
	d1=$(( $(in_f cat /proc/net/netfilter/nfnetlink_queue | awk -v a=$((Q + 1)) '$1 == a { print $8 }') - acc1 ))
	echo "# burst over queue $Q: $d0 packets, queue $((Q + 1)): $d1"
	check "workers: the burst used both queues ($d0 and $d1 packets)" test "$d0" -gt 0 -a "$d1" -gt 0
	kill -HUP "$LAB_SIPD_PID"
	check "workers: SIGHUP reload applied" lab_wait_for 5 \
		bash -c "[ \$(grep -c 'configuration reloaded' '$LAB_TMP/sipd.log') -ge 3 ]"
	check "workers: sipd still running after the reload" kill -0 "$LAB_SIPD_PID"
else
	cat "$LAB_TMP/sipd.log"
	fail "sipd inline with --workers 2"
	lab_sipd_start "$CFG"
fi

# --- clean exit and exact removal -----------------------------------------
kill -TERM "$LAB_SIPD_PID"
wait "$LAB_SIPD_PID"
expect_eq "sipd exits 0 on SIGTERM" $? 0
LAB_SIPD_PID=
summary=$(grep 'sipd: nfq: ' "$LAB_TMP/sipd.log" | tail -1)
echo "# $summary"
acc=$(sed -n 's/.*nfq: \([0-9]*\) accepted.*/\1/p' <<<"$summary")
sends=$(sed -n 's/.*batches, \([0-9]*\) verdict sends.*/\1/p' <<<"$summary")
check "nfq summary: no verdict errors" grep -q ' 0 verdict errors' <<<"$summary"
check "nfq: fewer verdict sends (${sends:-?}) than accepted packets (${acc:-?}): batched" \
	test "${sends:-0}" -gt 0 -a "${sends:-0}" -lt "${acc:-0}"
check "rules remove" in_f build/bin/sipd rules remove
expect_eq "nothing of sipwall left in iptables" "$(rules_state | grep -c .)" 0
check "rules remove again (idempotent)" in_f build/bin/sipd rules remove

# --- passive: AF_PACKET on fw's outside interface, no queue, no drops -----
# passive_call FAM WHAT: a call with a big (fragmented) INVITE that sipd only
# observes; its pinholes must still open and close. For IPv4 the kernel
# reassembles (fanout defrag); AF_PACKET does not reassemble IPv6: sipd does
# (sipd/reasm.c), else passive sees only the 200 OK and opens nothing.
passive_call() {
	local fam=$1 what=$2 pp0
	pp0=$(lab_stat passed_pinhole)
	lab_uas "$fam" "$(lab_scenario uas.xml)" 1
	LAB_RTP_MS=1500 lab_uac "$fam" "$(lab_scenario uac.xml 60)" 1
	expect_eq "passive: $what call (big INVITE, fragmented) completed" $? 0
	lab_uas_wait
	check "passive: $what RTP passed through pinholes sipd opened from what it saw" \
		test $(( $(lab_stat passed_pinhole) - pp0 )) -gt 20
	check "passive: $what pinholes closed after BYE" lab_wait_for 5 no_pinholes
}
if lab_sipd_passive "$CFG" fo; then
	ok "sipd --passive on fw's outside interface"
	passive_call 4 IPv4
	passive_call 6 IPv6
	lab_sipd_stop
	check "passive: summary counts the IPv6 INVITE reassembled, nothing given up" \
		grep -Eq 'fragments: [0-9]+ received, [1-9][0-9]* reassembled, [1-9][0-9]* SIP reassembled, 0 incomplete, 0 IPv4 skipped, dropped timeout 0 overlap 0 ' "$LAB_TMP/sipd.log"
else
	cat "$LAB_TMP/sipd.log"
	fail "sipd --passive on fw's outside interface"
fi

finish
