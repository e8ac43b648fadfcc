#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sipd's Prometheus endpoint, scraped from a real sipd inline in the SIPp lab
# (tests/lab/lab.sh) while a call with media passes: format checked by
# promtool (Debian's prometheus package), values checked against the call,
# `sipwall stats` and the NFQUEUE table; loopback only; a silent client does
# not stall the packet loop; passive mode serves it too.
set -u
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"
need_root

for t in sipp iptables nsenter curl ss; do
	command -v "$t" >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
command -v promtool >/dev/null ||
	{ echo "skip: promtool missing (Debian package prometheus, scripts/deps.sh)"; exit 77; }
for b in build/bin/sipd build/bin/sipwall; do
	[ -x "$b" ] || { echo "skip: $b not built (make)"; exit 77; }
done
[ -x /usr/bin/python3 ] || { echo "skip: /usr/bin/python3 missing"; exit 77; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

lab_tag=$(sw_tag)
source tests/lab/lab.sh
trap 'lab_down' EXIT
trap 'exit 130' INT TERM

# --- config: the metrics keys, errors naming the JSON path ----------------
T=$(mktemp -d "${SW_TEST_TMP:-/tmp}/sw-metrics.XXXXXX")
trap 'lab_down; rm -rf "$T"' EXIT
cfg_err() { echo "$1" >"$T/c.json"; build/bin/sipd --check-config "$T/c.json" 2>&1 >/dev/null; }
check "metrics.listen on loopback is valid" \
	build/bin/sipd --check-config <(echo '{"metrics":{"listen":"127.0.0.1:9870"}}')
check "metrics.listen [::1] is valid" \
	build/bin/sipd --check-config <(echo '{"metrics":{"listen":"[::1]:9870"}}')
expect_eq "non-loopback refused without allow_remote" \
	"$(cfg_err '{"metrics":{"listen":"10.9.9.9:9870"}}' | grep -c 'metrics.listen: .*not a loopback')" 1
check "non-loopback accepted with allow_remote" \
	build/bin/sipd --check-config <(echo '{"metrics":{"allow_remote":true,"listen":"10.9.9.9:9870"}}')
expect_eq "port 0 refused" "$(cfg_err '{"metrics":{"listen":"127.0.0.1:0"}}' | grep -c 'metrics.listen: .*port')" 1
expect_eq "bare IPv6 refused" "$(cfg_err '{"metrics":{"listen":"::1:80"}}' | grep -c 'metrics.listen: .*brackets')" 1
expect_eq "unknown key named" "$(cfg_err '{"metrics":{"port":1}}' | grep -c 'metrics.port: unknown key')" 1
expect_eq "wrong type named" "$(cfg_err '{"metrics":{"listen":9870}}' | grep -c 'metrics.listen: expected a string')" 1

# --- the lab ---------------------------------------------------------------
if ! lab_up; then
	fail "lab namespaces up"
	finish
	exit 1
fi
if ! lab_attach >"$LAB_TMP/attach.log" 2>&1; then
	cat "$LAB_TMP/attach.log"
	fail "sipwall attach on fw's veths"
	finish
	exit 1
fi
ok "lab up ($lab_tag), sipwall attached"

PORT=$(( (RANDOM % 20000) + 30000 ))
CFG=$LAB_TMP/sipd.json
lab_config "$CFG" "\"filters\": [ { \"name\": \"no-message\", \"match\": { \"method\": \"MESSAGE\" }, \"action\": \"drop\" } ],
  \"metrics\": { \"listen\": \"127.0.0.1:$PORT\" }"
Q=$(sed -n 's/.*"num": \([0-9]*\).*/\1/p' "$CFG")
if ! lab_sipd_start "$CFG"; then
	cat "$LAB_TMP/sipd.log"
	fail "sipd inline with metrics starts"
	finish
	exit 1
fi
ok "sipd inline with metrics on 127.0.0.1:$PORT"

URL=http://127.0.0.1:$PORT
scrape() { in_f curl -sS --max-time 5 "$URL/metrics"; }
# value NAME{LABELS}: the sample's value (empty if absent).
value() { awk -v n="$1" '$1 == n { print $2; exit }' "$T/m"; }

check "sipd logs the endpoint" grep -q "metrics on http://127.0.0.1:$PORT/metrics" "$LAB_TMP/sipd.log"
expect_eq "listens on loopback only" \
	"$(in_f ss -Hltn "sport = :$PORT" | awk '{ print $4 }')" "127.0.0.1:$PORT"
in_f curl -sS --max-time 3 -o /dev/null -w '%{http_code}' "http://$F4O:$PORT/metrics" >/dev/null 2>&1
expect_eq "not reachable on fw's outside address" $? 7

scrape >"$T/m"
check "first scrape: promtool check metrics" promtool check metrics <"$T/m"
expect_eq "healthz" "$(in_f curl -s -o /dev/null -w '%{http_code}' "$URL/healthz")" 200
expect_eq "readyz (maps pinned, interfaces attached)" \
	"$(in_f curl -s -o /dev/null -w '%{http_code}' "$URL/readyz")" 200
expect_eq "unknown path: 404" "$(in_f curl -s -o /dev/null -w '%{http_code}' "$URL/nope")" 404
expect_eq "POST: 405" "$(in_f curl -s -o /dev/null -w '%{http_code}' -X POST "$URL/metrics")" 405
expect_eq "content type is the text format 0.0.4" \
	"$(in_f curl -sI "$URL/metrics" | tr -d '\r' | sed -n 's/^Content-Type: //p')" \
	"text/plain; version=0.0.4; charset=utf-8"
expect_eq "build info" "$(grep -c '^sipwall_build_info{version="[^"]*",schema="3",mode="inline"} 1$' "$T/m")" 1
expect_eq "every XDP reason present" "$(grep -c '^sipwall_xdp_packets_total{' "$T/m")" \
	"$(grep -c '^	X(' <(sed -n '/define SW_REASONS/,/^$/p' maps-schema/sipwall_maps.h))"
expect_eq "every SIP drop reason present" "$(grep -c '^sipd_sip_drops_total{' "$T/m")" \
	"$(( $(sed -n '/define SW_SIP_REASONS/,/^$/p' maps-schema/sipwall_maps.h | grep -c '^	X(') - 1 ))"
expect_eq "two interfaces attached" "$(value sipwall_interfaces_attached)" 2
expect_eq "maps readable" "$(value sipwall_maps_up)" 1
expect_eq "NFQUEUE $Q reported" "$(grep -c "^sipd_nfqueue_dropped_total{queue=\"$Q\"," "$T/m")" 2

# --- a call with media, a filtered MESSAGE --------------------------------
UAS=$(lab_scenario uas.xml)
UAC=$(lab_scenario uac.xml)
lab_uas 4 "$UAS" 1
lab_uac 4 "$UAC" 1
expect_eq "SIPp call with RTP through the firewall" $? 0
lab_uas_wait
lab_sip_send "$NS_O" $O4 $I4 MESSAGE
sleep 1.5 # BYE grace (1 s) then the tick closes the pinholes
scrape >"$T/m"
check "after the call: promtool check metrics" promtool check metrics <"$T/m"
ge() { [ -n "$2" ] && [ "${2%.*}" -ge "$3" ] && ok "$1 ($2 >= $3)" || fail "$1 (got '$2', want >= $3)"; }
ge "INVITE requests accepted" "$(value 'sipd_sip_messages_total{method="INVITE",kind="request",verdict="accepted"}')" 1
ge "INVITE responses accepted (CSeq method)" \
	"$(value 'sipd_sip_messages_total{method="INVITE",kind="response",verdict="accepted"}')" 2
ge "BYE accepted" "$(value 'sipd_sip_messages_total{method="BYE",kind="request",verdict="accepted"}')" 1
expect_eq "MESSAGE dropped by the filter" \
	"$(value 'sipd_sip_messages_total{method="MESSAGE",kind="request",verdict="dropped"}')" 1
expect_eq "drop reason sip_filter_drop" "$(value 'sipd_sip_drops_total{reason="sip_filter_drop"}')" 1
expect_eq "calls started" "$(value 'sipd_calls_total{event="started"}')" 1
expect_eq "calls ended" "$(value 'sipd_calls_total{event="ended"}')" 1
expect_eq "no call active" "$(value sipd_calls_active)" 0
ge "pinholes opened" "$(value 'sipd_pinhole_changes_total{change="opened"}')" 2
expect_eq "pinhole map empty after the call" "$(value sipwall_pinholes_open)" 0
expect_eq "pinhole map capacity (bpftool)" "$(value sipwall_pinholes_max)" \
	"$(bpftool map show pinned "$LAB_PIN/sw_pinholes" | sed -n 's/.*max_entries \([0-9]*\).*/\1/p')"
ge "XDP passed_pinhole (RTP)" "$(value 'sipwall_xdp_packets_total{reason="passed_pinhole"}')" 100
expect_eq "XDP passed_pinhole equals sipwall stats" \
	"$(value 'sipwall_xdp_packets_total{reason="passed_pinhole"}')" "$(lab_stat passed_pinhole)"
expect_eq "XDP dropped_no_pinhole equals sipwall stats" \
	"$(value 'sipwall_xdp_packets_total{reason="dropped_no_pinhole"}')" "$(lab_stat dropped_no_pinhole)"
expect_eq "no bans" "$(awk '/^sipwall_bans_active\{/ { s += $NF } END { print s + 0 }' "$T/m")" 0
# Queue counters are the kernel's own, read from this netns.
kq=$(in_f awk -v q="$Q" '$1 == q { print $6 }' /proc/net/netfilter/nfnetlink_queue)
expect_eq "queue_full drops match /proc/net/netfilter/nfnetlink_queue" \
	"$(value "sipd_nfqueue_dropped_total{queue=\"$Q\",cause=\"queue_full\"}")" "${kq:-missing}"

# --- a silent client must not stall the packet loop -----------------------
in_f timeout 8 /usr/bin/python3 -c '
import socket, sys, time
ss = [socket.create_connection(("127.0.0.1", int(sys.argv[1]))) for _ in range(12)]
time.sleep(6)' "$PORT" &
silent=$!
sleep 0.5
expect_eq "scrape while 12 silent clients hold connections" \
	"$(in_f curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$URL/healthz")" 200
lab_uas 4 "$UAS" 1
LAB_RTP_MS=1000 lab_uac 4 "$UAC" 1
expect_eq "a call passes meanwhile (packet loop not blocked)" $? 0
lab_uas_wait
wait $silent 2>/dev/null
scrape >"$T/m"
expect_eq "calls started after the second call" "$(value 'sipd_calls_total{event="started"}')" 2

# --- reload keeps the endpoint; stop closes it ----------------------------
kill -HUP "$LAB_SIPD_PID"
sleep 0.3
expect_eq "endpoint survives SIGHUP" "$(in_f curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$URL/healthz")" 200
lab_sipd_stop
in_f curl -s --max-time 2 -o /dev/null "$URL/healthz"
expect_eq "endpoint gone with sipd" $? 7

# --- passive mode ----------------------------------------------------------
lab_config "$CFG" "\"metrics\": { \"listen\": \"[::1]:$PORT\" }"
if lab_sipd_passive "$CFG" fo; then
	in_f curl -sS --max-time 5 "http://[::1]:$PORT/metrics" >"$T/m"
	check "passive: promtool check metrics" promtool check metrics <"$T/m"
	expect_eq "passive: mode label" "$(grep -c 'mode="passive"' "$T/m")" 1
	expect_eq "passive: no NFQUEUE series" "$(grep -c '^sipd_nfqueue' "$T/m")" 0
	lab_sipd_stop
else
	cat "$LAB_TMP/sipd.log"
	fail "passive sipd with metrics on [::1]"
fi

# --- address in use: clear error, no half start ----------------------------
in_f /usr/bin/python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(); time.sleep(4)' "$PORT" &
holder=$!
sleep 0.5
lab_config "$CFG" "\"metrics\": { \"listen\": \"127.0.0.1:$PORT\" }"
in_f timeout 5 build/bin/sipd run -c "$CFG" >/dev/null 2>"$T/err"
rc=$?
expect_eq "port in use: sipd exits 1" $rc 1
check "port in use: the error names it" grep -q "metrics: cannot listen on 127.0.0.1:$PORT: Address already in use" "$T/err"
kill $holder 2>/dev/null; wait $holder 2>/dev/null

finish
