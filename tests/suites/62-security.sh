#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Security: attacks an outside party can mount through the real data path
# (tests/lab/lab.sh: sipwall XDP on fw's veths, sipd inline on NFQUEUE with
# the shipped etc/sipd.json policy), each asserting the SECURE outcome, and
# each followed by a legitimate SIPp call with RTP that must complete with
# media through its pinholes. Attack packets come from
# tests/security/attack.py (raw sockets: forged sources, bad checksums).
#
#   A  outside-only pinholes: a forged offer/answer exchange from outside
#      (UPDATE or INVITE, IPv4 and IPv6, forged inside source, bad UDP
#      checksum) must open no pinhole into the inside.
#   B  special media destinations in a real SIPp exchange (loopback,
#      multicast, broadcast, the firewall itself, v4-mapped, link-local,
#      a=rtcp elsewhere; 0.0.0.0 = hold) open no pinhole.
#   C  hijack of a live call's media destination by a forged exchange.
#   D  call table exhaustion from 11 IPv6 addresses of one /112.
#   E  pinhole map exhaustion and event flood.
#   F  ban abuse: forged 403s toward a trunk, a forged scanner OPTIONS
#      from a live call's source.
#
# Another change implements the defences: the reason names asserted
# (sip_unmatched_response, sip_spoofed_source, sip_bad_checksum,
# sip_wrong_side, sip_bad_media_address) are the intended ones.
# SECTEST_CASES="A B" runs only some cases. Host only (SIPp, NFQUEUE, XDP).
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

CASES=${SECTEST_CASES:-A B C D E F}
want() { [[ " $CASES " == *" $1 "* ]]; }
SEC=$SW_TOP/tests/security
PY=/usr/bin/python3
SUITE_T0=$(date +%s)

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
# Extra hosts. T4/T6: an inside host with no SIP listener. U4/U6: an unused
# inside address (no host). TR4: a trunk in the spoofer namespace (outside).
# AE4: the spoofer's address for the pinhole flood (E).
T4=10.201.2.3 T6=fd00:201:2::3 U4=10.201.2.77 U6=fd00:201:2::77
TR4=10.201.3.20 AE4=10.201.3.30
in_i ip addr add $T4/24 dev i0
in_i ip -6 addr add $T6/64 dev i0 nodad
in_s ip addr add $TR4/24 dev s0
in_s ip addr add $AE4/24 dev s0
D6S=()
for n in $(seq 1 11); do
	D6S+=("fd00:201:3::a:$(printf '%x' "$n")")
	in_s ip -6 addr add "${D6S[-1]}/64" dev s0 nodad
done
if ! lab_attach >"$LAB_TMP/attach.log" 2>&1; then
	cat "$LAB_TMP/attach.log"
	fail "sipwall attach native on fw's veths"
	finish
	exit 1
fi
ok "sipwall attached (native XDP) on fw's outside and inside interfaces"
# The outside namespace is the attacker's internet: it forwards what the
# spoofer sends even with a source that is outside's own (the live call's
# O4, case F), as a network without source filtering does.
lab_sysctl "$NS_O" net.ipv4.conf.all.accept_local=1
lab_sysctl "$NS_O" net.ipv4.conf.os.accept_local=1
FO_MAC=$(in_f ip -o link show fo | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')

# --- config: the shipped etc/sipd.json, with the lab's addresses ----------
# mkcfg FILE [python statements on c]: etc/sipd.json with the lab's pin path,
# queue, inside networks, events on stdout (LAB_TMP/events.jsonl), metrics
# on fw's loopback and bye_grace_s 1 (as lab_config); everything else as
# shipped (filters, default_action drop, limits, guard defaults).
LAB_QUEUE=$(( (RANDOM % 30000) + 1000 ))
METRICS=127.0.0.1:9870
mkcfg() {
	$PY - "$1" "$LAB_PIN" "$LAB_QUEUE" "$METRICS" "${2:-}" <<'PYEOF'
import json, sys
out, pin, q, metrics, extra = sys.argv[1:6]
c = json.load(open("etc/sipd.json"))
c["pin_path"] = pin
c["queue"] = {"num": int(q), "count": 1, "fail_open": False}
c["networks"]["inside"] = ["10.201.2.0/24", "fd00:201:2::/64"]
c["timeouts"]["bye_grace_s"] = 1
c["events"]["output"] = "-"
c["metrics"] = {"listen": metrics}
exec(extra)
json.dump(c, open(out, "w"), indent=1)
PYEOF
}
CFG=$LAB_TMP/sipd.json
mkcfg "$CFG"
check "sipd config (shipped etc/sipd.json + lab addresses) is valid" build/bin/sipd --check-config "$CFG"
if ! lab_sipd_start "$CFG" --close-on-exit; then
	cat "$LAB_TMP/sipd.log"
	fail "sipd run inline"
	finish
	exit 1
fi
ok "sipd inline on NFQUEUE"
EV=$LAB_TMP/events.jsonl

# --- helpers ---------------------------------------------------------------
atk() { local ns=$1; shift; in_ns "$ns" timeout 30 $PY "$SEC/attack.py" "$@"; }
no_pinholes() { [ -z "$(lab_pinholes)" ]; }
# sipd_restart CONFIG: stop sipd (--close-on-exit closes its calls), start it
# again; lab_sipd_start waits for a fresh "inline on NFQUEUE" line.
sipd_restart() {
	lab_sipd_stop
	cat "$LAB_TMP/sipd.log" >>"$LAB_TMP/sipd-all.log"
	: >"$LAB_TMP/sipd.log"
	lab_sipd_start "$1" --close-on-exit
}
has_pinhole() { lab_pinholes | awk -v d="$1" '$1 == d { f = 1 } END { exit !f }'; }
no_pinhole() { ! has_pinhole "$1"; }
pinhole_count() {
	in_f "$LAB_SIPWALL" status --json --pin-path "$LAB_PIN" |
		$PY -c 'import json,sys; print(json.load(sys.stdin)["pinholes"])'
}
ev_mark() { stat -c %s "$EV"; }
metrics_snap() { in_f timeout 5 $PY "$SEC/attack.py" metrics "http://$METRICS/metrics"; }
# opened_to MARK ADDR [PORT]: pinhole_open/update events for ADDR since MARK
opened_to() {
	$PY "$SEC/attack.py" opened "$EV" --from-byte "$1" |
		awk -v a="$2" -v p="${3:-}" '$1 == a && (p == "" || $2 == p)' | grep -c .
}
# reasons_since MARK METRICS_BEFORE: "REASON N" drops since then (events
# message_drop/drop_summary since MARK, or /metrics deltas: the larger).
reasons_since() {
	local now
	now=$(metrics_snap)
	$PY - "$2" "$now" "$($PY "$SEC/attack.py" drops "$EV" --from-byte "$1")" <<'PYEOF'
import sys
def rd(s):
    d = {}
    for l in s.splitlines():
        p = l.split()
        if len(p) == 2 and p[1].isdigit():
            d[p[0]] = int(p[1])
    return d
before, after, ev = rd(sys.argv[1]), rd(sys.argv[2]), rd(sys.argv[3])
out = {r: max(after.get(r, 0) - before.get(r, 0), ev.get(r, 0)) for r in set(after) | set(ev)}
for r in sorted(out):
    if out[r] > 0:
        print(r, out[r])
PYEOF
}
# expect_reason DESC MARK METRICS_BEFORE REASON...: one of REASONs was counted
expect_reason() {
	local d=$1 mark=$2 mb=$3 got r; shift 3
	got=$(reasons_since "$mark" "$mb")
	for r in "$@"; do
		if grep -q "^$r [1-9]" <<<"$got"; then
			ok "$d ($r)"
			return
		fi
	done
	fail "$d (want one of: $*; drops seen: $(tr '\n' ' ' <<<"${got:-none}"))"
}
# attacker_rtp NS SRC SPORT DST DPORT: datagrams of 20 sent that arrived
attacker_rtp() {
	local ns=$1 src=$2 sport=$3 dst=$4 dport=$5 out=$LAB_TMP/rtp.$RANDOM lp
	lab_udp_count "$NS_I" "$dst" "$dport" 2 >"$out" &
	lp=$!
	sleep 0.4
	lab_udp_send "$ns" "$src" "$dst" "$dport" 20 "$sport"
	wait $lp
	cat "$out"
}
uas_stop() { # bounded: 3 s for SIPp's UAS to end by itself
	local i
	[ -n "${LAB_UAS_PID:-}" ] || return 0
	for i in $(seq 1 30); do kill -0 "$LAB_UAS_PID" 2>/dev/null || break; sleep 0.1; done
	kill "$LAB_UAS_PID" 2>/dev/null
	wait "$LAB_UAS_PID"
	local rc=$?
	LAB_UAS_PID=
	return $rc
}
UAS_SF=$(lab_scenario uas.xml)
UAC_SF=$(lab_scenario uac.xml)
# legit_call WHAT [FAM] [RTP_MS]: a SIPp call outside -> inside with RTP
# both ways; asserts SIPp's success and packets through both pinholes.
legit_call() {
	local what=$1 fam=${2:-4} ms=${3:-2500} ia=$I4 oa=$O4 uac rc mid pin pout
	[ "$fam" = 6 ] && ia="[$I6]" oa="[$O6]"
	lab_wait_for 4 no_pinhole "$ia:16000"
	lab_uas "$fam" "$UAS_SF" 1
	LAB_RTP_MS=$ms lab_uac "$fam" "$UAC_SF" 1 &
	uac=$!
	lab_wait_for 6 has_pinhole "$ia:16000"
	sleep 1.5
	mid=$(lab_pinholes)
	[ -n "${LEGIT_HOOK:-}" ] && $LEGIT_HOOK
	wait $uac
	rc=$?
	uas_stop
	pin=$(awk -v d="$ia:16000" '$1 == d { print $3 }' <<<"$mid")
	pout=$(awk -v d="$oa:12000" '$1 == d { print $3 }' <<<"$mid")
	expect_eq "$what: legit SIPp call (IPv$fam) completed" $rc 0
	check "$what: legit call's RTP through its pinholes (in ${pin:-none}, out ${pout:-none})" \
		test "${pin:-0}" -gt 10 -a "${pout:-0}" -gt 10
}
# no_inside_pinhole WHAT MARK ADDR PORT: neither in the map nor ever opened
no_inside_pinhole() {
	local what=$1 mark=$2 a=$3 p=$4 la=$3
	[[ "$a" == *:* ]] && la="[$a]"
	sleep 0.3
	local opened map
	opened=$(( $(opened_to "$mark" "$a" "$p") + $(opened_to "$mark" "$a" $((p + 1))) ))
	map=$(lab_pinholes | awk -v a="$la:$p" -v b="$la:$((p + 1))" '$1 == a || $1 == b' | grep -c .)
	check "$what: no pinhole for $la:$p/$((p + 1)) (map $map, opened events $opened)" \
		test "$map" -eq 0 -a "$opened" -eq 0
}
A_REASONS="sip_unmatched_response sip_spoofed_source sip_bad_checksum sip_wrong_side"

# --- A. outside-only pinholes ---------------------------------------------
# a_case WHAT NS ATK_ADDR INSIDE PORT [attack.py exchange args]: a forged
# exchange whose answer names INSIDE:PORT; then the attacker's RTP from
# ATK_ADDR:4000 (the offer's c=/m=) to INSIDE:PORT.
a_case() {
	local what=$1 ns=$2 aa=$3 ia=$4 port=$5 mark mb out n; shift 5
	mark=$(ev_mark) mb=$(metrics_snap)
	out=$(atk "$ns" exchange --offer-c "$aa" --offer-port 4000 --answer-c "$ia" \
		--answer-port "$port" --tag "A-$port" "$@")
	echo "# A $what: $out"
	no_inside_pinhole "A $what" "$mark" "$ia" "$port"
	n=$(attacker_rtp "$ns" "$aa" 4000 "$ia" "$port")
	expect_eq "A $what: attacker RTP to $ia:$port not delivered" "$n" 0
	expect_reason "A $what: the forged exchange dropped with a named reason" "$mark" "$mb" $A_REASONS
}
if want A; then
	echo "# --- A. outside-only pinholes"
	a_case "UPDATE+forged 200 (IPv4, outside ns)" "$NS_O" $O4 $I4 11211 --src $O4 --dst $I4
	a_case "UPDATE+forged 200 to an inside host with no SIP listener" "$NS_O" $O4 $I4 11221 \
		--src $O4 --dst $T4
	a_case "INVITE+forged 200 (IPv4)" "$NS_O" $O4 $I4 11231 --method INVITE --src $O4 --dst $T4
	a_case "UPDATE+forged 200 (IPv6)" "$NS_O" $O6 $I6 11241 --src $O6 --dst $I6
	a_case "INVITE+forged 200 (IPv6)" "$NS_O" $O6 $I6 11251 --method INVITE --src $O6 --dst $T6
	# The answer claims the inside host's own address as source (it arrives
	# on fw's outside interface); sent to another inside host's port 5062
	# (queued by --sport 5060) since a forged source cannot receive replies.
	a_case "UPDATE from spoofer + 200 forged from inside source $T4 (IPv4)" "$NS_S" $S4 $I4 11261 \
		--src $S4 --dst $T4 --answer-src $T4 --answer-dst $I4 --answer-dport 5062
	a_case "UPDATE from spoofer + 200 forged from inside source $T6 (IPv6)" "$NS_S" $S6 $I6 11271 \
		--src $S6 --dst $T6 --answer-src $T6 --answer-dst $I6 --answer-dport 5062
	a_case "UPDATE+forged 200 with bad UDP checksums (IPv4)" "$NS_O" $O4 $I4 11281 \
		--src $O4 --dst $T4 --bad-checksum
	a_case "UPDATE+forged 200 with bad UDP checksums (IPv6)" "$NS_S" $S6 $I6 11291 \
		--src $S6 --dst $T6 --bad-checksum
	legit_call "A"
	legit_call "A" 6
fi

# --- B. special media destinations in a real exchange ---------------------
# b_case WHAT FAM ANS_C ANS_EXTRA OFFER_C CHECK_ADDR...: SIPp UAC outside ->
# SIPp UAS inside whose 200 OK SDP says c=IN ANS_C (and ANS_EXTRA), the
# INVITE's c=IN OFFER_C ("" = the UAC's own); no pinhole to any CHECK_ADDR.
b_case() {
	local what=$1 fam=$2 ansc=$3 extra=$4 offc=$5 mark mb rc a n bad=0 desc=""; shift 5
	local uas=$LAB_TMP/uas-b.xml uac=$LAB_TMP/uac-b.xml
	[ -n "$offc" ] || { offc="IP4 $O4"; [ "$fam" = 6 ] && offc="IP6 $O6"; }
	awk -v c="$ansc" -v x="$extra" '{
		if ($0 == "@ANS_EXTRA@") { if (x != "") print "      " x }
		else { gsub("@ANS_C@", c); print } }' "$SEC/uas-sdp.xml" >"$uas"
	sed "s/@OFFER_C@/$offc/" "$SEC/uac-sdp.xml" >"$uac"
	mark=$(ev_mark) mb=$(metrics_snap)
	lab_uas "$fam" "$uas" 1
	LAB_RTP_MS=300 lab_uac "$fam" "$uac" 1 -recv_timeout 2500 -max_retrans 2
	rc=$?
	uas_stop
	sleep 0.3
	for a in "$@"; do
		n=$(opened_to "$mark" "$a")
		desc+=" $a ($n opened)"
		[ "$n" -eq 0 ] || bad=1
	done
	check "B $what: no pinhole opened to$desc" test $bad -eq 0
	expect_reason "B $what: named reason" "$mark" "$mb" sip_bad_media_address
	echo "# B $what: SIPp UAC exit $rc"
}
if want B; then
	echo "# --- B. special media destinations"
	b_case "answer c=127.0.0.1" 4 "IP4 127.0.0.1" "" "" 127.0.0.1
	b_case "answer c=224.0.0.1 (multicast)" 4 "IP4 224.0.0.1" "" "" 224.0.0.1
	b_case "answer c=255.255.255.255" 4 "IP4 255.255.255.255" "" "" 255.255.255.255
	b_case "answer c=the firewall's inside address $F4I" 4 "IP4 $F4I" "" "" $F4I
	b_case "answer c=::ffff:$I4 in IPv6 SDP" 6 "IP6 ::ffff:$I4" "" "" $I4 "::ffff:$I4"
	b_case "answer c=fe80::1 (link-local)" 6 "IP6 fe80::1" "" "" fe80::1
	b_case "answer c=ff02::1 (multicast)" 6 "IP6 ff02::1" "" "" ff02::1
	b_case "answer a=rtcp naming an outside third address" 4 "IP4 $I4" \
		"a=rtcp:16001 IN IP4 10.201.1.9" "" 10.201.1.9
	b_case "answer a=rtcp naming the other family" 4 "IP4 $I4" \
		"a=rtcp:16001 IN IP6 fd00:201:1::9" "" fd00:201:1::9
	b_case "offer from outside with c=224.0.0.1" 4 "IP4 $I4" "" "IP4 224.0.0.1" 224.0.0.1
	# hold: no pinhole, and the call itself is fine
	mark=$(ev_mark)
	awk -v c="IP4 0.0.0.0" '{ if ($0 != "@ANS_EXTRA@") { gsub("@ANS_C@", c); print } }' \
		"$SEC/uas-sdp.xml" >"$LAB_TMP/uas-hold.xml"
	sed "s/@OFFER_C@/IP4 $O4/" "$SEC/uac-sdp.xml" >"$LAB_TMP/uac-hold.xml"
	lab_uas 4 "$LAB_TMP/uas-hold.xml" 1
	LAB_RTP_MS=300 lab_uac 4 "$LAB_TMP/uac-hold.xml" 1 -recv_timeout 2500
	expect_eq "B answer c=0.0.0.0 (hold): call completed" $? 0
	uas_stop
	expect_eq "B answer c=0.0.0.0 (hold): no pinhole opened" \
		"$($PY "$SEC/attack.py" opened "$EV" --from-byte "$mark" | grep -c .)" 0
	legit_call "B"
fi

# --- C. hijack of a live call's media --------------------------------------
c_attack() {
	local owner_before owner n p1 p2 bs0 mark
	mark=$(ev_mark)
	in_f "$LAB_SIPWALL" pinhole list --json --pin-path "$LAB_PIN" >"$LAB_TMP/ph-c0.json"
	owner_before=$($PY "$SEC/attack.py" pinhole-owner "$LAB_TMP/ph-c0.json" $I4 16000)
	echo "# C: $I4:16000 owned by $owner_before"
	# probe: an UPDATE with an unknown Call-ID to the UA's address (a port
	# nothing answers on: SIPp's UAS would count it as a call of its own)
	atk "$NS_S" exchange --src $S4 --dst $I4 --offer-c $S4 --offer-port 4000 --no-answer --tag C-probe >/dev/null
	# an UPDATE to an unused inside address, and a forged 200 naming the
	# UA's live media port: once from the attacker, once with the UA's own
	# address forged as source (the "same endpoint" takeover rule)
	atk "$NS_S" exchange --src $S4 --dst $U4 --offer-c $S4 --offer-port 4000 \
		--answer-c $I4 --answer-port 16000 --tag C-hijack >/dev/null
	atk "$NS_S" exchange --src $S4 --dst $U4 --offer-c $S4 --offer-port 4000 \
		--answer-c $I4 --answer-port 16000 --answer-src $I4 --answer-dst $T4 --tag C-hijack-spoof >/dev/null
	sleep 0.3
	in_f "$LAB_SIPWALL" pinhole list --json --pin-path "$LAB_PIN" >"$LAB_TMP/ph-c1.json"
	owner=$($PY "$SEC/attack.py" pinhole-owner "$LAB_TMP/ph-c1.json" $I4 16000)
	check "C: $I4:16000 still owned by the legit call ($owner_before -> $owner)" \
		test "$owner" = "$owner_before" -a "$owner" != none
	check "C: no pinhole event moved $I4:16000 to an attacker call" \
		test "$($PY "$SEC/attack.py" opened "$EV" --from-byte "$mark" | grep -c "^$I4 16000 C-")" -eq 0
	bs0=$(lab_stat dropped_bad_source)
	lab_udp_send "$NS_S" $S4 $I4 16000 20 4000
	expect_eq "C: attacker RTP $S4:4000 -> $I4:16000 not delivered (dropped_bad_source)" \
		$(( $(lab_stat dropped_bad_source) - bs0 )) 20
	# after the attacker stopped, only the legit RTP (SIPp, 50/s) counts
	p1=$(lab_pinhole_packets $I4:16000)
	sleep 0.5
	p2=$(lab_pinhole_packets $I4:16000)
	check "C: the legit call's RTP keeps flowing into $I4:16000 (${p1:-none} -> ${p2:-none})" \
		test "${p2:-0}" -ge "$(( ${p1:-0} + 10 ))"
}
if want C; then
	echo "# --- C. hijack of a live call's media"
	LEGIT_HOOK=c_attack legit_call "C (under attack)" 4 4000
	LEGIT_HOOK= legit_call "C (after)"
fi

# --- D. call table exhaustion ----------------------------------------------
if want D; then
	echo "# --- D. call table exhaustion (limits.max_calls 500, max_calls_per_source 100)"
	mkcfg "$LAB_TMP/sipd-d.json" 'c["limits"]["max_calls"] = 500; c["limits"]["max_calls_per_source"] = 100'
	if sipd_restart "$LAB_TMP/sipd-d.json"; then
		srcs=$(IFS=,; echo "${D6S[*]}")
		mark=$(ev_mark) mb=$(metrics_snap)
		out=$(atk "$NS_S" exchange --srcs "$srcs" --src "${D6S[0]}" --dst $I6 --no-answer \
			--count 550 --rate 1500 --seconds 5 --tag D-upd)
		echo "# D UPDATEs: $out"
		sleep 1
		echo "# D after UPDATEs: $(grep -c '"how":"midcall"' "$EV") midcall call_start, drops: $(reasons_since "$mark" "$mb" | tr '\n' ' ')"
		m1=$(ev_mark)
		legit_call "D (after 550 unanswered UPDATEs from one /112)"
		check "D: no sip_dialog_limit for the legit INVITE" \
			test "$(tail -c +$((m1 + 1)) "$EV" | grep '"message_drop"' | grep -c "sip_dialog_limit.*@$O4")" -eq 0
		out=$(atk "$NS_S" exchange --srcs "$srcs" --src "${D6S[0]}" --dst $U6 --method INVITE \
			--no-answer --count 550 --rate 1500 --seconds 5 --tag D-inv)
		echo "# D INVITEs: $out"
		sleep 1
		m1=$(ev_mark)
		legit_call "D (after 550 more unanswered INVITEs to $U6)"
		check "D: no sip_dialog_limit for the legit INVITE" \
			test "$(tail -c +$((m1 + 1)) "$EV" | grep '"message_drop"' | grep -c "sip_dialog_limit.*@$O4")" -eq 0
		echo "# D drops: $(reasons_since "$mark" "$mb" | tr '\n' ' ')"
	else
		cat "$LAB_TMP/sipd.log"
		fail "D: sipd with max_calls 500"
	fi
	sipd_restart "$CFG" || fail "sipd restarted with the shipped config"
fi

# --- E. pinhole map exhaustion + event flood -------------------------------
if want E; then
	echo "# --- E. pinhole map exhaustion and event flood"
	lab_wait_for 4 no_pinholes
	ph0=$(pinhole_count)
	ev0=$(ev_mark) mb=$(metrics_snap)
	out=$(atk "$NS_S" exchange --src $AE4 --dst $T4 --offer-c $AE4 --offer-port 4000 \
		--answer-c $I4 --answer-cs "$I4,$T4,$U4,10.201.2.78" --answer-port 10000 \
		--mlines 4 --port-count 4 --spread --count 1100 --rate 2200 --seconds 3 --tag E)
	echo "# E: $out"
	sleep 2
	ph1=$(pinhole_count)
	ev1=$(ev_mark)
	expect_eq "E: pinhole map count did not grow from 1,100 forged 64-pinhole exchanges ($ph0 -> $ph1)" \
		"$ph1" "$ph0"
	check "E: events file grew by less than 1 MB ($(( (ev1 - ev0) / 1024 )) KB)" \
		test $((ev1 - ev0)) -lt 1048576
	expect_reason "E: forged exchanges dropped with a named reason" "$ev0" "$mb" $A_REASONS
	legit_call "E (after the pinhole flood)"
	# --close-on-exit: the flood's pinholes go with the old sipd
	sipd_restart "$CFG" || fail "sipd restarted with the shipped config"
fi

# --- F. ban abuse ------------------------------------------------------------
banned() { # banned ADDR: 1 if sw_bans holds ADDR
	in_f "$LAB_SIPWALL" ban list --json --pin-path "$LAB_PIN" | $PY -c '
import json, sys
want = sys.argv[1]
print(int(any(b["source"].split("/")[0] == want for b in json.load(sys.stdin))))' "$1"
}
f_options() {
	local b0 p1 p2
	b0=$(lab_stat dropped_banned)
	p1=$(lab_pinhole_packets $I4:16000)
	# the spoofed scanner OPTIONS claims the live call's source O4; sent to
	# port 5070 of the UA's address (SIPp's UAS would take it as a call)
	atk "$NS_S" request --src $O4 --dst $I4 --dport 5070 --user-agent "friendly-scanner" --tag F-scan >/dev/null
	sleep 1
	p2=$(lab_pinhole_packets $I4:16000)
	expect_eq "F: a forged scanner OPTIONS did not ban the live call's source $O4" "$(banned $O4)" 0
	expect_eq "F: no packet of $O4 dropped as banned" $(( $(lab_stat dropped_banned) - b0 )) 0
	check "F: the call's RTP kept flowing for 1 s after it (${p1:-none} -> ${p2:-none}, >= +20 at 50/s)" \
		test "${p2:-0}" -ge "$(( ${p1:-0} + 20 ))"
}
if want F; then
	echo "# --- F. ban abuse"
	ps0=$(lab_stat passed_signalling)
	out=$(atk "$NS_O" response --src $O4 --dst $TR4 --status 403 --count 12 --via-mac "$FO_MAC" --ifname o0)
	echo "# F: XDP passed_signalling +$(( $(lab_stat passed_signalling) - ps0 )) for the 403s"
	echo "# F: $out (hairpin through fw's outside interface toward trunk $TR4)"
	sleep 1
	expect_eq "F: twelve forged 403s (ban threshold 10) did not ban the trunk $TR4" "$(banned $TR4)" 0
	grep "\"event\":\"ban\"" "$EV" | sed 's/^/# F ban event: /' | tail -n 3
	LEGIT_HOOK=f_options legit_call "F (scanner OPTIONS forged from its source)" 4 4000
	LEGIT_HOOK=
	grep "\"event\":\"ban\"" "$EV" | sed 's/^/# F ban event: /' | tail -n 3
fi

check "sipd still running" kill -0 "$LAB_SIPD_PID"
echo "# suite took $(( $(date +%s) - SUITE_T0 )) s"
finish
