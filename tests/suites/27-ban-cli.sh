#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sipwall ban / trusted / flood: every argument error (exit code, one message
# naming what was wrong, nothing changed), list output text and JSON, bans
# and settings surviving detach/attach, and packets from a second namespace
# counted by the attached XDP program as dropped_banned, dropped_flood,
# passed_signalling and passed_trusted.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

need_root
SW=${SIPWALL:-$SW_TOP/build/bin/sipwall}
UDP=$SW_TOP/tests/netns/udp.py
[ -x "$SW" ] || { echo "skip: $SW not built (run make)"; finish; exit 77; }
mountpoint -q /sys/fs/bpf || { echo "skip: bpffs not mounted"; finish; exit 77; }
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "skip: python3 not installed"; finish; exit 77; }

TAG=$(sw_tag)
NS=$TAG-ban
NSA=$TAG-bana
PIN=/sys/fs/bpf/sipwall-t27-$TAG
TMP=$(mktemp -d "${SW_TEST_TMP:-${TMPDIR:-/tmp}}/sipwall-t27.XXXXXX")
cleanup() {
	ip netns del "$NS" 2>/dev/null
	ip netns del "$NSA" 2>/dev/null
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" && ip netns add "$NSA" || { fail "netns"; finish; exit 1; }
ip -n "$NS" link add v0 type veth peer name v1 netns "$NSA" &&
	ip -n "$NS" addr add 10.77.0.2/24 dev v0 && ip -n "$NSA" addr add 10.77.0.1/24 dev v1 &&
	ip -n "$NS" link set v0 up && ip -n "$NSA" link set v1 up &&
	ip -n "$NS" link set lo up || { fail "veth"; finish; exit 1; }

# run WANT_RC PATTERN DESC -- ARGS...: as in 25-cli.
run() {
	local want=$1 pat=$2 desc=$3 rc
	shift 4
	nsenter --net="/run/netns/$NS" "$SW" "$@" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "$desc: exit $rc, want $want ($(head -c 300 "$TMP/err"))"
	elif ! grep -Eqs -- "$pat" "$TMP/out" "$TMP/err"; then # no pipe: grep -q ending early would SIGPIPE cat (pipefail)
		fail "$desc: output does not match /$pat/: $(head -c 300 "$TMP/err" "$TMP/out")"
	elif [ "$want" != 0 ] && [ "$(wc -l <"$TMP/err")" -ne 1 ]; then
		fail "$desc: want exactly one error line, got: $(cat "$TMP/err")"
	else
		ok "$desc"
	fi
}
P=(--pin-path "$PIN")
sw() { nsenter --net="/run/netns/$NS" "$SW" "$@" "${P[@]}"; }
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
stat_of() { sw stats --json | json "d['$1']['packets']"; }

# --- usage ---------------------------------------------------------------------------
for c in "ban add" "ban del" "ban list" "ban gc" "trusted add" "trusted del" "trusted list" \
	"flood set" "flood show"; do
	# shellcheck disable=SC2086
	run 0 "Usage: sipwall $c" "$c --help" -- $c --help
done
run 2 'missing subcommand: add, del, list or gc' "ban without subcommand" -- ban
run 2 'missing subcommand: add, del or list' "trusted without subcommand" -- trusted
run 2 "unknown command 'ban frob'" "unknown ban subcommand" -- ban frob
run 2 'missing IP\[/PREFIX\]' "ban add without address" -- ban add "${P[@]}"
run 2 'missing CIDR' "trusted add without network" -- trusted add "${P[@]}"
run 1 'no sipwall maps pinned' "ban list before any attach" -- ban list "${P[@]}"
run 1 'no sipwall maps pinned' "flood set before any attach" -- flood set --rate 10 "${P[@]}"
check "nothing pinned by the refused commands" test ! -e "$PIN"

run 0 'attached to v0' "attach v0" -- attach v0 "${P[@]}"
run 0 'signalling ports: 5060,5061' "defaults: signalling ports" -- flood show "${P[@]}"
run 0 'flood guard: off' "defaults: flood guard off" -- flood show "${P[@]}"
run 0 'bans cover: IPv4 /32, IPv6 /64' "defaults: ban prefixes" -- flood show "${P[@]}"

# --- argument errors change nothing ----------------------------------------------------
for t in 0 -1 abc 315360001 1.5; do
	run 2 "--ttl '$t'" "bad --ttl $t" -- ban add 10.66.0.5 --ttl "$t" "${P[@]}"
done
run 2 "--reason 'grumpy'" "bad --reason" -- ban add 10.66.0.5 --reason grumpy "${P[@]}"
for a in 10.66.0.256 nope 10.66.0.5/33 10.66.0.5/ fd00::/129 '' 10.66.0.5/x; do
	run 2 "'${a}': expected" "bad ban address '$a'" -- ban add "$a" "${P[@]}"
done
run 2 'host bits set' "ban add with host bits" -- ban add 10.66.0.5/24 "${P[@]}"
run 2 'bans of IPv4 sources cover /32 here' "ban prefix other than the configured one" -- ban add 10.66.0.0/24 "${P[@]}"
run 2 'host bits set' "trusted add with host bits" -- trusted add 10.55.0.1/16 "${P[@]}"
run 2 "'10.55.0.0/40': prefix length out of range" "trusted add prefix out of range" -- trusted add 10.55.0.0/40 "${P[@]}"
for o in "--rate -1" "--rate 1000001" "--burst 0" "--prefix-v4 33" "--prefix-v6 0" \
	"--ban-prefix-v4 0" "--ban-prefix-v6 129" "--sig-ports 0" "--sig-ports 5060,5060" \
	"--sig-ports 1,2,3,4,5" "--sig-ports 5060," "--sig-ports x"; do
	# shellcheck disable=SC2086
	run 2 "${o%% *} '" "bad flood set $o" -- flood set $o "${P[@]}"
done
run 2 'nothing to set' "flood set without options" -- flood set "${P[@]}"
run 1 'signalling port 10000 lies in the media range 10000-20000' "signalling port in the media range" -- flood set --sig-ports 5060,10000 "${P[@]}"
run 1 'at most 1000 s of the rate' "bucket deeper than 1000 s" -- flood set --rate 10 --burst 20000 "${P[@]}"
run 0 'flood guard: off' "refused flood sets changed nothing" -- flood show "${P[@]}"
run 0 '^\[\]$' "refused ban adds added nothing" -- ban list --json "${P[@]}"
run 0 '^\[\]$' "refused trusted adds added nothing" -- trusted list --json "${P[@]}"

# --- settings, bans, trusted networks ---------------------------------------------------
run 0 'flood guard on: 5 packets/s, burst 5' "flood set --rate 5 (burst defaults to rate)" -- flood set --rate 5 "${P[@]}"
run 0 'banned 10.66.0.5 for 600 s \(scanner_user_agent\)' "ban add v4 with ttl and reason" -- ban add 10.66.0.5 --ttl 600 --reason scanner_user_agent "${P[@]}"
run 0 'banned fd00:66::/64 until' "ban add v6, no ttl (masked to the default /64)" -- ban add fd00:66::5 "${P[@]}"
run 0 'banned 10.66.0.9 ' "ban add with an explicit /32" -- ban add 10.66.0.9/32 "${P[@]}"
run 0 'trusted 10.55.0.0/16' "trusted add v4" -- trusted add 10.55.0.0/16 "${P[@]}"
run 0 'trusted fd00:55::/48' "trusted add v6" -- trusted add fd00:55::/48 "${P[@]}"
run 1 'overlaps the trusted network 10.55.0.0/16' "ban inside a trusted network refused" -- ban add 10.55.3.3 "${P[@]}"
run 1 '2 bans overlap 10.66.0.0/16 \(first 10.66.0.[59]\)' "trusted over a ban refused" -- trusted add 10.66.0.0/16 "${P[@]}"
run 1 '--ban-prefix-v4 24: 2 IPv4 bans keyed at /32 exist' "ban prefix change refused while bans exist" -- flood set --ban-prefix-v4 24 "${P[@]}"
run 1 'no ban for 10.66.0.6' "ban del of a missing ban" -- ban del 10.66.0.6 "${P[@]}"
run 1 '10.56.0.0/16 is not a trusted network' "trusted del of a missing network" -- trusted del 10.56.0.0/16 "${P[@]}"
sw ban list --json >"$TMP/bans.json"
expect_eq "ban list --json: three bans" "$(json 'len(d)' <"$TMP/bans.json")" 3
expect_eq "ban list --json: reason and ttl" \
	"$(json '[(b["reason"], b["expires_in_s"] is not None and 590 < b["expires_in_s"] <= 600) for b in d if b["source"] == "10.66.0.5"]' <"$TMP/bans.json")" \
	"[('scanner_user_agent', True)]"
expect_eq "ban list --json: a ban without ttl never expires" \
	"$(json '[b["expires_in_s"] for b in d if b["source"] == "fd00:66::/64"]' <"$TMP/bans.json")" "[None]"
run 0 'fd00:66::/64 +manual +never' "ban list text" -- ban list "${P[@]}"
run 0 '10.55.0.0/16' "trusted list text" -- trusted list "${P[@]}"
expect_eq "trusted list --json" "$(sw trusted list --json | json 'sorted(d)')" \
	"['10.55.0.0/16', 'fd00:55::/48']"

# --- packets from the other namespace ------------------------------------------------------
send() { # SRC COUNT: raw UDP to 10.77.0.2:5060 from SRC over the veth
	nsenter --net="/run/netns/$NSA" "$PY" "$UDP" send --raw --dst 10.77.0.2 --dport 5060 \
		--src "$1" --sport 5060 --count "$2"
}
b0=$(stat_of dropped_banned) f0=$(stat_of dropped_flood) s0=$(stat_of passed_signalling)
t0=$(stat_of passed_trusted)
send 10.66.0.5 7 && send 10.66.0.7 20 && send 10.55.9.9 12 ||
	fail "sending test packets"
expect_eq "banned source: 7 packets dropped_banned" "$(($(stat_of dropped_banned) - b0))" 7
expect_eq "ban counts its packets" \
	"$(sw ban list --json | json '[b["packets"] for b in d if b["source"] == "10.66.0.5"]')" "[7]"
expect_eq "flooding source: burst of 5 passed_signalling" "$(($(stat_of passed_signalling) - s0))" 5
# 20 sent at full speed: at 5/s at most one more token can accrue meanwhile
df=$(($(stat_of dropped_flood) - f0))
check "flooding source: the rest dropped_flood ($df of 20)" test "$df" -ge 14 -a "$df" -le 15
expect_eq "trusted source: 12 passed_trusted" "$(($(stat_of passed_trusted) - t0))" 12
run 0 '10.66.0.7 +1[45] dropped' "flood show names the limited source" -- flood show "${P[@]}"
run 0 '1 limited' "stats text shows flood guard activity" -- stats "${P[@]}"
run 0 'ban list: 3 active' "stats text shows the ban list" -- stats "${P[@]}"
check "stats --json: every key is a reason with packets" \
	test "$(sw stats --json | json 'all("packets" in v for v in d.values())')" = True
check "flood show --json: sources_limited >= 1" \
	test "$(sw flood show --json | json 'd["sources_limited"]')" -ge 1
expect_eq "flood show --json: the top source" \
	"$(sw flood show --json | json 'd["top"][0]["source"]')" 10.66.0.7

# --- survive detach/attach; lifting ---------------------------------------------------------
run 0 'detached from v0' "detach" -- detach v0 "${P[@]}"
run 0 'attached to v0' "re-attach" -- attach v0 "${P[@]}"
run 0 'flood guard: on, 5 packets/s, burst 5' "flood settings survive re-attach" -- flood show "${P[@]}"
expect_eq "bans survive re-attach" "$(sw ban list --json | json 'len(d)')" 3
b0=$(stat_of dropped_banned)
send 10.66.0.5 3 || fail "send after re-attach"
expect_eq "banned after re-attach" "$(($(stat_of dropped_banned) - b0))" 3
run 0 'ban on 10.66.0.5 lifted' "ban del" -- ban del 10.66.0.5 "${P[@]}"
s0=$(stat_of passed_signalling) b0=$(stat_of dropped_banned)
send 10.66.0.5 2 || fail "send after ban del"
expect_eq "lifted: passes again" "$(($(stat_of passed_signalling) - s0)),$(($(stat_of dropped_banned) - b0))" "2,0"
run 0 'banned 10.66.0.8 for 1 s' "short ban" -- ban add 10.66.0.8 --ttl 1 "${P[@]}"
sleep 1.2
run 0 '10.66.0.8 +manual +expired' "expired ban listed as expired" -- ban list "${P[@]}"
s0=$(stat_of passed_signalling)
send 10.66.0.8 1 || fail "send after expiry"
expect_eq "expired ban no longer drops" "$(($(stat_of passed_signalling) - s0))" 1
run 0 'removed 1 expired ban' "ban gc" -- ban gc "${P[@]}"
run 0 'ban on fd00:66::/64 lifted' "ban del v6 by an address in the /64" -- ban del fd00:66::77 "${P[@]}"
run 0 'ban on 10.66.0.9 lifted' "ban del with /32" -- ban del 10.66.0.9/32 "${P[@]}"
run 0 '^\[\]$' "ban list empty" -- ban list --json "${P[@]}"
run 0 'bans cover /24 and /64' "ban prefix change once no bans" -- flood set --ban-prefix-v4 24 "${P[@]}"
run 0 'banned 10.66.1.0/24' "bare address masked to the ban prefix" -- ban add 10.66.1.77 "${P[@]}"
b0=$(stat_of dropped_banned)
send 10.66.1.200 2 || fail "send into the banned /24"
expect_eq "the whole /24 is banned" "$(($(stat_of dropped_banned) - b0))" 2
run 0 'ban on 10.66.1.0/24 lifted' "ban del of the /24 by an address in it" -- ban del 10.66.1.5 "${P[@]}"
run 0 'fd00:55::/48 no longer trusted' "trusted del" -- trusted del fd00:55::/48 "${P[@]}"
run 0 'flood guard off' "flood set --rate 0 turns it off" -- flood set --rate 0 "${P[@]}"
for c in "ban list --json" "trusted list --json" "flood show --json" "stats --json"; do
	# shellcheck disable=SC2086
	check "$c is valid JSON" bash -c "nsenter --net=/run/netns/$NS $SW $c --pin-path $PIN | /usr/bin/python3 -m json.tool >/dev/null"
done
run 0 'detached from v0' "detach" -- detach v0 "${P[@]}"
finish
