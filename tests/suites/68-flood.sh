#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# SIP DoS in network namespaces (tests/lab/lab.sh): sipwall XDP on fw's
# veths with the flood guard and ban list, sipd inline on NFQUEUE with its
# guard. Host only (SIPp, NFQUEUE, native XDP on veth).
#
# 1. A scanner (spoofer namespace, untrusted) sends one OPTIONS with
#    User-Agent friendly-scanner: sipd bans its address in sw_bans; its later
#    media and SIP are dropped by XDP as dropped_banned; the ban (TTL 4 s)
#    is gone on time and the source passes again.
# 2. While a SIPp UAC in a trusted network makes calls with RTP through the
#    firewall, tests/flood/sipflood sends INVITEs and OPTIONS from 1,000
#    spoofed sources at full speed (bounded: FLOOD_PACKETS, FLOOD_SECS) from
#    the outside namespace to a second inside host (10.201.2.3, no SIP
#    listener: SIPp's UAS must only see the legitimate calls it counts).
#    Asserted: >= 99 % of the calls complete with media both ways, every
#    flood packet is accounted for (XDP dropped_flood + passed_signalling +
#    veth drops on the way = packets sent), sipd's VmHWM stays under
#    SIPD_RSS_MAX_KB, sipd bounded what reached it (sip_dialog_limit).
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

for t in sipp iptables nsenter bpftool; do
	command -v "$t" >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
if [ -w . ]; then
	make -s build/bin/sipd build/bin/sipwall build/bin/sipflood >/dev/null 2>&1 ||
		{ echo "skip: build failed (make)"; exit 77; }
fi
for b in build/bin/sipd build/bin/sipwall build/bin/sipflood; do
	[ -x "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

CALLS=${FLOOD_CALLS:-100}
FLOOD_PACKETS=${FLOOD_PACKETS:-3000000}
FLOOD_SECS=${FLOOD_SECS:-8}
FLOOD_SOURCES=1000
BAN_TTL=4
SIPD_RSS_MAX_KB=${SIPD_RSS_MAX_KB:-65536}
PY=/usr/bin/python3

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
T4=10.201.2.3 # the flood's target: a second inside host, nothing on 5060
in_i ip addr add $T4/24 dev i0
if ! lab_attach >"$LAB_TMP/attach.log" 2>&1; then
	cat "$LAB_TMP/attach.log"
	fail "sipwall attach native on fw's veths"
	finish
	exit 1
fi
ok "sipwall attached (native XDP) on fw's outside and inside interfaces"

CFG=$LAB_TMP/sipd.json
GUARD='"limits": { "max_calls": 3000, "max_calls_per_source": 2, "max_msg_rate": 20, "max_msg_burst": 40 },
  "guard": {
    "trusted": [ "10.201.1.0/24", "10.201.2.0/24" ],
    "ban_ttl_s": '$BAN_TTL',
    "flood": { "rate": 5, "burst": 10, "ports": [ 5060 ] }
  },
  "events": { "output": "-", "drop_log_per_s": 20, "drop_summary_s": 2 }'
lab_config "$CFG" "$GUARD"
# bye_grace_s 0: a pair's next call opens its own pinholes on the same
# ports, so each call's CDR counts its own RTP.
sed -i 's/"bye_grace_s": 1 }/"bye_grace_s": 0, "early_dialog_s": 5 }/' "$CFG"
check "sipd config with guard and limits is valid" build/bin/sipd --check-config "$CFG"
if ! lab_sipd_start "$CFG"; then
	cat "$LAB_TMP/sipd.log"
	fail "sipd run inline"
	finish
	exit 1
fi
ok "sipd inline on NFQUEUE"
check "sipd wrote the flood settings and trusted networks (guard_sync)" \
	lab_wait_for 3 grep -q '"event":"guard_sync","ts_ns":[0-9]*,"trusted":2,"flood_rate":5' "$LAB_TMP/events.jsonl"
cfgdump=$(bpftool map dump pinned "$LAB_PIN/sw_config" -j 2>/dev/null)
check "sw_config: flood guard on, 5/s burst 10" $PY -c '
import json, sys
e = json.loads(sys.argv[1])[0]
v = e["formatted"]["value"] if "formatted" in e else e["value"]
assert v["flood_rate"] == 5 and v["flood_burst"] == 10 and v["flags"] & 2, v' "$cfgdump"

# sw_bans entries whose key is ADDR (v4-mapped), via bpftool.
ban_count() {
	bpftool map dump pinned "$LAB_PIN/sw_bans" -j 2>/dev/null | $PY -c '
import ipaddress, json, sys
want = ipaddress.IPv4Address(sys.argv[1]).packed
n = 0
for e in json.load(sys.stdin):
    k = e["formatted"]["key"]["addr"] if "formatted" in e else e["key"]
    b = bytes(int(x, 16) if isinstance(x, str) else x for x in k)
    n += b[12:] == want and b[10:12] == b"\xff\xff"
print(n)' "$1"
}
banned_pkts() { lab_stat dropped_banned; }

# --- 1. a scanner is banned after its first message; the ban expires ------
scan_send() {
	in_ns "$NS_S" timeout 5 $PY - "$S4" "$I4" "$1" <<'PYEOF'
import socket, sys, random
src, dst, ua = sys.argv[1:4]
msg = ("OPTIONS sip:100@%s SIP/2.0\r\nVia: SIP/2.0/UDP %s:5060;branch=z9hG4bK%x\r\n"
       "Max-Forwards: 70\r\nFrom: <sip:100@%s>;tag=%x\r\nTo: <sip:100@%s>\r\n"
       "Call-ID: %x@scan\r\nCSeq: 1 OPTIONS\r\nUser-Agent: %s\r\nContent-Length: 0\r\n\r\n") % (
       dst, src, random.getrandbits(32), src, random.getrandbits(32), dst,
       random.getrandbits(48), ua)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((src, 5060)); s.sendto(msg.encode(), (dst, 5060))
PYEOF
}
lab_sip_listen "$NS_I" $I4 5060 2 >"$LAB_TMP/listen.scan" &
lp=$!
sleep 0.5
scan_send "friendly-scanner"
t_ban=$(date +%s.%N)
wait $lp
expect_eq "the scanner's OPTIONS never reached inside" "$(grep -c OPTIONS "$LAB_TMP/listen.scan")" 0
check "sipd logged a ban: scanner_user_agent for $S4" \
	grep -q "\"event\":\"ban\".*\"src\":\"$S4\",\"reason\":\"scanner_user_agent\"" "$LAB_TMP/events.jsonl"
expect_eq "sw_bans holds $S4" "$(ban_count $S4)" 1
b0=$(banned_pkts)
lab_udp_send "$NS_S" $S4 $I4 16000 20 16000
expect_eq "later media from the banned source dropped (dropped_banned)" $(( $(banned_pkts) - b0 )) 20
b0=$(banned_pkts)
scan_send "Asterisk PBX"
sleep 0.2
expect_eq "later SIP from the banned source dropped by XDP, whatever its User-Agent" $(( $(banned_pkts) - b0 )) 1
# on time: still there before the TTL, gone (sipd removes it) soon after
$PY -c "import time,sys; time.sleep(max(0, float(sys.argv[1]) + $BAN_TTL - 1 - time.time()))" "$t_ban"
expect_eq "ban still in place 1 s before its TTL" "$(ban_count $S4)" 1
unbanned() { [ "$(ban_count $S4)" -eq 0 ]; }
check "ban gone within 2 s after its TTL ($BAN_TTL s)" lab_wait_for 3 unbanned
gone=$($PY -c "import time,sys; print('%.1f' % (time.time() - float(sys.argv[1])))" "$t_ban")
echo "# ban seen gone ${gone} s after it was set (ttl $BAN_TTL s, polled every 0.1 s + bpftool)"
check "ban_expire event for $S4" grep -q "\"event\":\"ban_expire\".*\"src\":\"$S4\"" "$LAB_TMP/events.jsonl"
b0=$(banned_pkts)
lab_udp_send "$NS_S" $S4 $I4 16000 10 16000
expect_eq "after expiry the source is no longer dropped as banned" $(( $(banned_pkts) - b0 )) 0

# --- 2. calls with media from a trusted network under a flood ------------
# SIPp 3.6 streams every call's RTP from its -mp port, so concurrent calls
# of one instance would share a pinhole: PAIRS UAC/UAS pairs instead, each
# on its own addresses (10.201.1.1N -> 10.201.2.1N), each making
# CALLS/PAIRS calls one after the other.
PAIRS=10
PER=$(( CALLS / PAIRS ))
CALLS=$(( PER * PAIRS ))
uacs=() uass=()
for n in $(seq 0 $((PAIRS - 1))); do
	in_o ip addr add 10.201.1.1$n/24 dev o0
	in_i ip addr add 10.201.2.1$n/24 dev i0
done
UAS_SF=$(lab_scenario uas.xml)
UAC_SF=$(lab_scenario uac.xml)
pings=()
for n in $(seq 0 $((PAIRS - 1))); do
	in_o ping -c1 -W2 -I 10.201.1.1$n 10.201.2.1$n >/dev/null 2>&1 &
	pings+=($!)
done
wait "${pings[@]}"
for n in $(seq 0 $((PAIRS - 1))); do
	uip=10.201.1.1$n sip=10.201.2.1$n
	( cd "$LAB_TMP" && exec nsenter --net="/run/netns/$NS_I" sipp -sf "$UAS_SF" -i $sip -p 5060 \
		-mi $sip -mp 16000 -m "$PER" -nostdin -timeout 90s \
		-trace_err -error_file "$LAB_TMP/fuas$n-err.log" >"$LAB_TMP/fuas$n.out" 2>&1 ) &
	uass+=($!)
	LAB_PIDS+=($!)
done
sleep 0.5
for n in $(seq 0 $((PAIRS - 1))); do
	uip=10.201.1.1$n sip=10.201.2.1$n
	( cd "$LAB_TMP" && exec timeout 90 nsenter --net="/run/netns/$NS_O" sipp "$sip:5060" -sf "$UAC_SF" \
		-i $uip -p 5060 -mi $uip -mp 12000 -m "$PER" -l 1 -r 2 \
		-nostdin -timeout 80s -timeout_error -recv_timeout 10000 -max_retrans 5 -d 1000 \
		-trace_stat -stf "$LAB_TMP/uac$n-stat.csv" -fd 1 \
		-trace_err -error_file "$LAB_TMP/fuac$n-err.log" >"$LAB_TMP/fuac$n.out" 2>&1 ) &
	uacs+=($!)
	LAB_PIDS+=($!)
done
sleep 2

declare -A before after
snap() {
	local r
	local -n arr=$1
	for r in dropped_flood passed_signalling passed_trusted dropped_banned passed_pinhole; do
		arr[$r]=$(lab_stat $r)
	done
	# veth counts what its peer's XDP ring refused as the sender's tx_dropped
	arr[o0_drop]=$(in_o ip -j -s link show o0 | $PY -c \
		'import json,sys; print(json.load(sys.stdin)[0]["stats64"]["tx"]["dropped"])')
}
snap before
out=$(in_o timeout $((FLOOD_SECS + 10)) build/bin/sipflood --dst $T4 --src-base 10.202.0.1 \
	--sources $FLOOD_SOURCES --packets "$FLOOD_PACKETS" --seconds "$FLOOD_SECS")
rc=$?
echo "# sipflood: $out"
expect_eq "sipflood ran" $rc 0
sent=$(sed -n 's/.*sent=\([0-9]*\).*/\1/p' <<<"$out")
sleep 1
snap after
d() { echo $(( ${after[$1]} - ${before[$1]} )); }
echo "# XDP during the flood: dropped_flood=$(d dropped_flood) passed_signalling=$(d passed_signalling) passed_trusted=$(d passed_trusted) passed_pinhole=$(d passed_pinhole) veth_drops=$(d o0_drop)"
check "the flood was sent at speed (${sent:-0} packets from $FLOOD_SOURCES sources)" test "${sent:-0}" -ge 20000
expect_eq "every flood packet accounted for: dropped_flood + passed_signalling + veth drops = sent" \
	$(( $(d dropped_flood) + $(d passed_signalling) + $(d o0_drop) )) "${sent:-0}"
check "the flood guard dropped most of it ($(d dropped_flood) dropped_flood)" \
	test "$(d dropped_flood)" -ge $(( (${sent:-0} - $(d o0_drop)) * 9 / 10 ))
# each source: at most burst 10 + 5/s for the flood's duration (+1 s slack)
max_pass=$(( FLOOD_SOURCES * (10 + 5 * (FLOOD_SECS + 2)) ))
check "passed_signalling bounded by burst + rate per source ($(d passed_signalling) <= $max_pass)" \
	test "$(d passed_signalling)" -le $max_pass
check "the trusted UAC's signalling passed as passed_trusted ($(d passed_trusted))" test "$(d passed_trusted)" -gt 0

uac_rc=0
for p in "${uacs[@]}"; do wait "$p" || uac_rc=$?; done
for _ in $(seq 1 100); do
	alive=0
	for p in "${uass[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
	[ $alive -eq 0 ] && break
	sleep 0.1
done
for p in "${uass[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
succ=$($PY - "$LAB_TMP"/uac*-stat.csv <<'PYEOF'
import sys
n = 0
for f in sys.argv[1:]:
    rows = [l.rstrip("\n").split(";") for l in open(f) if l.strip()]
    n += int(rows[-1][rows[0].index("SuccessfulCall(C)")])
print(n)
PYEOF
)
echo "# SIPp UAC exit $uac_rc, successful calls ${succ:-?} of $CALLS"
check "SIPp UAC: >= 99 % of $CALLS calls succeeded under the flood (${succ:-0})" \
	test "${succ:-0}" -ge $(( (CALLS * 99 + 99) / 100 ))
# With media: the call's CDR (call_end) counts RTP on its pinholes; both
# directions need their own pinhole with packets.
media_ok=$($PY - "$LAB_TMP/events.jsonl" "$O4" <<'PYEOF'
import json, sys
n = 0
for l in open(sys.argv[1]):
    try:
        e = json.loads(l)
    except ValueError:
        continue
    if e.get("event") != "call_end" or not e.get("from", "").startswith("alice@10.201.1.1"):
        continue
    ph = e.get("pinholes", [])
    sides = {p["side"] for p in ph if p["kind"] in ("rtp", "rtp_rtcp_mux") and p["packets"] > 0}
    n += sides == {0, 1}
print(n)
PYEOF
)
check "calls ended with RTP through pinholes in both directions: $media_ok of $CALLS" \
	test "${media_ok:-0}" -ge $(( (CALLS * 99 + 99) / 100 ))
hwm=$(awk '/VmHWM/ { print $2 }' /proc/$LAB_SIPD_PID/status 2>/dev/null)
rss=$(awk '/VmRSS/ { print $2 }' /proc/$LAB_SIPD_PID/status 2>/dev/null)
echo "# sipd memory: VmRSS ${rss:-?} kB, VmHWM ${hwm:-?} kB (bound $SIPD_RSS_MAX_KB kB)"
check "sipd alive after the flood" kill -0 "$LAB_SIPD_PID"
check "sipd peak memory (VmHWM ${hwm:-?} kB) under $SIPD_RSS_MAX_KB kB" test "${hwm:-999999999}" -le "$SIPD_RSS_MAX_KB"
check "sipd bounded the flood's dialogs (sip_dialog_limit or sip_rate_limited)" \
	grep -q '"sip_dialog_limit"\|"sip_rate_limited"' "$LAB_TMP/events.jsonl"
check "drop logs rate-limited with a drop_summary" \
	lab_wait_for 4 grep -q '"event":"drop_summary"' "$LAB_TMP/events.jsonl"
drops=$(grep -c '"event":"message_drop"' "$LAB_TMP/events.jsonl")
echo "# message_drop lines: $drops"
check "message_drop lines bounded (20/s): $drops" test "$drops" -le $(( 20 * (FLOOD_SECS + 30) ))
lab_sipd_stop
finish
