#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: yes
# Data path end to end: namespaces outside, fw, inside and a spoofer (see
# tests/netns/lab.sh); sipwall attached on fw's outside interface; UDP sent
# from outside and the spoofer arrives in inside exactly when a pinhole
# allows it, and the counters agree with what was sent. Native XDP, TC and
# generic modes, every source-check mode (symmetric learning via the TC
# egress learner), IPv4 and IPv6, detach/re-attach, xdp-filter coexistence.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"
source "$SW_TOP/tests/netns/lab.sh"

need_root
SW=${SIPWALL:-$SW_TOP/build/bin/sipwall}
[ -x "$SW" ] || { echo "skip: $SW not built (run make)"; exit 77; }
mountpoint -q /sys/fs/bpf || { echo "skip: bpffs not mounted at /sys/fs/bpf"; exit 77; }
command -v nsenter >/dev/null || { echo "skip: nsenter missing"; exit 77; }

# In a vmtest guest (vmtest/run.sh sets SW_VMTEST_GUEST) every attach is a
# verifier run that takes 10-20 s under TCG. The guest keeps what depends on
# its kernel (the verifier, native XDP through libxdp's dispatcher, pinholes
# v4+v6, TC, symmetric learning, detach, xdp-filter coexistence) and leaves
# re-attach over pinned maps and generic XDP to the host run, unless
# SW_DATAPATH_FULL=1.
QUICK=0
[ -z "${SW_VMTEST_GUEST:-}" ] || [ "${SW_DATAPATH_FULL:-0}" = 1 ] || QUICK=1

TAG=$(sw_tag)
PIN=/sys/fs/bpf/sipwall-t30-$TAG
NL_TMP=$(mktemp -d "${SW_TEST_TMP:-${TMPDIR:-/tmp}}/sipwall-t30.XXXXXX")
XDPF_LOADED=0
cleanup() {
	[ "$XDPF_LOADED" = 1 ] && nl_f xdp-filter unload "$NL_FW_OUT" >/dev/null 2>&1
	nl_down
	rm -rf "$PIN" "$NL_TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

sw() { nl_f "$SW" "$@" --pin-path "$PIN"; }
json() { nl_json "$1"; }
# ph PORT KEY...: a field of the pinhole on PORT from pinhole list --json.
ph() { sw pinhole list --json | json "[p for p in d if p['port']==$1][0]$2"; }

declare -A SNAP
snap() {
	local r
	# No process substitution: vmtest guests may lack /dev/fd.
	while read -r r n; do SNAP[$r]=$n; done <<<"$(sw stats --json |
		json "'\n'.join('%s %d' % (k, v['packets']) for k, v in d.items())")"
}
delta() { echo $(( $(sw stats --json | json "d['$1']['packets']") - ${SNAP[$1]} )); }

# flow DESC WANT_ARRIVED DPORT SRC SPORT -- nl_send args: send, wait for the
# barrier, count what inside got of that flow.
flow() {
	local desc=$1 want=$2 dport=$3 src=$4 sport=$5 before got
	shift 6
	before=$(nl_got "$dport" "$src" "$sport")
	"$@" || { fail "$desc: send failed"; return; }
	nl_barrier || { fail "$desc: barrier"; return; }
	got=$(( $(nl_got "$dport" "$src" "$sport") - before ))
	expect_eq "$desc" "$got" "$want"
}

I4=$NL_I4 I6=$NL_I6 O4=$NL_O4 O6=$NL_O6 S4=$NL_S4 S6=$NL_S6
nl_up "$TAG" || { fail "lab setup"; finish; exit 1; }
nl_recv 5060,5999,10000-10020 600 || { fail "receiver"; finish; exit 1; }
nl_warm || { fail "lab reachability"; finish; exit 1; }
ok "lab up: outside, fw, inside, spoofer (v4+v6)"

# --- native XDP -----------------------------------------------------------
check "attach native on fw's outside interface" sw attach "$NL_FW_OUT" --mode native
expect_eq "status: mode native" "$(sw status --json | json "d['interfaces'][0]['mode']")" native
KIND=$(sw status --json | json "d['interfaces'][0]['attach']")
echo "# attach kind: $KIND"
expect_eq "status: program attached" "$(sw status --json | json "d['interfaces'][0]['attached']")" True

snap
flow "no pinhole: nothing arrives" 0 10000 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4000 --count 5
expect_eq "dropped_no_pinhole counts the 5" "$(delta dropped_no_pinhole)" 5
flow "non-media UDP passes untouched" 3 5060 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 5060 --sport 4000 --count 3
expect_eq "nothing counted as passed_pinhole" "$(delta passed_pinhole)" 0

# strict (v4)
check "pinhole add strict v4" sw pinhole add --dst $I4:10000 --src $O4:4000
snap
flow "strict: allowed source arrives" 5 10000 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4000 --count 5
flow "strict: other source port dropped" 0 10000 $O4 4001 -- \
	nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4001 --count 3
flow "strict: spoofer's own address dropped" 0 10000 $S4 4000 -- \
	nl_send "$NL_S" --dst $I4 --dport 10000 --sport 4000 --count 2
flow "strict: spoofer forging the peer address, wrong port, dropped" 0 10000 $O4 4002 -- \
	nl_send "$NL_S" --raw --src $O4 --sport 4002 --dst $I4 --dport 10000 --count 2
expect_eq "passed_pinhole = 5" "$(delta passed_pinhole)" 5
expect_eq "dropped_bad_source = 7" "$(delta dropped_bad_source)" 7
expect_eq "pinhole packets = 5" "$(ph 10000 "['packets']")" 5
expect_eq "pinhole bytes = 5 x 68 (L3)" "$(ph 10000 "['bytes']")" 340
expect_eq "pinhole drops = 7" "$(ph 10000 "['drops']")" 7

# address (v4)
check "pinhole add address v4" sw pinhole add --dst $I4:10002 --src $O4 --check address
snap
flow "address: any port of the peer arrives (4000)" 2 10002 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10002 --sport 4000 --count 2
flow "address: any port of the peer arrives (4009)" 2 10002 $O4 4009 -- \
	nl_send "$NL_O" --dst $I4 --dport 10002 --sport 4009 --count 2
flow "address: spoofer's own address dropped" 0 10002 $S4 4000 -- \
	nl_send "$NL_S" --dst $I4 --dport 10002 --sport 4000 --count 2
expect_eq "passed_pinhole = 4" "$(delta passed_pinhole)" 4
expect_eq "dropped_bad_source = 2" "$(delta dropped_bad_source)" 2

# several sources (forked early media)
check "pinhole add with two sources" sw pinhole add --dst $I4:10004 --src $O4:4000 --src $S4:4000
flow "two sources: first arrives" 2 10004 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10004 --sport 4000 --count 2
flow "two sources: second arrives" 2 10004 $S4 4000 -- \
	nl_send "$NL_S" --dst $I4 --dport 10004 --sport 4000 --count 2
flow "two sources: third party dropped" 0 10004 $S4 4001 -- \
	nl_send "$NL_S" --dst $I4 --dport 10004 --sport 4001 --count 1

# IPv6
check "pinhole add strict v6" sw pinhole add --dst "[$I6]:10006" --src "[$O6]:4000"
snap
flow "v6 strict: allowed source arrives" 3 10006 $O6 4000 -- \
	nl_send "$NL_O" --dst $I6 --dport 10006 --sport 4000 --count 3
flow "v6 strict: other port dropped" 0 10006 $O6 4001 -- \
	nl_send "$NL_O" --dst $I6 --dport 10006 --sport 4001 --count 2
flow "v6 strict: spoofer dropped" 0 10006 $S6 4000 -- \
	nl_send "$NL_S" --dst $I6 --dport 10006 --sport 4000 --count 2
flow "v6: no pinhole, dropped" 0 10008 $O6 4000 -- \
	nl_send "$NL_O" --dst $I6 --dport 10008 --sport 4000 --count 2
expect_eq "v6 passed_pinhole = 3" "$(delta passed_pinhole)" 3
expect_eq "v6 dropped_bad_source = 4" "$(delta dropped_bad_source)" 4
expect_eq "v6 dropped_no_pinhole = 2" "$(delta dropped_no_pinhole)" 2

# symmetric: learned on egress from what inside sends
check "pinhole add symmetric v4" sw pinhole add --dst $I4:10010 --src $O4 --check symmetric
flow "symmetric, not yet learned: SDP address checked (any port)" 1 10010 $O4 4100 -- \
	nl_send "$NL_O" --dst $I4 --dport 10010 --sport 4100 --count 1
snap
nl_send "$NL_I" --raw --src $I4 --sport 10010 --dst $O4 --dport 4200 --count 1 && nl_barrier
expect_eq "egress learner counted one learn" "$(delta egress_learned)" 1
expect_eq "source marked learned" "$(ph 10010 "['sources'][0]['learned']")" True
expect_eq "learned port 4200" "$(ph 10010 "['sources'][0]['port']")" 4200
flow "symmetric: learned source arrives" 2 10010 $O4 4200 -- \
	nl_send "$NL_O" --dst $I4 --dport 10010 --sport 4200 --count 2
flow "symmetric: old port now dropped" 0 10010 $O4 4100 -- \
	nl_send "$NL_O" --dst $I4 --dport 10010 --sport 4100 --count 2

check "pinhole add symmetric v6 (peer behind NAT: SDP address differs)" \
	sw pinhole add --dst "[$I6]:10012" --src fd00:1::99 --check symmetric
flow "symmetric v6, before learning: real address dropped" 0 10012 $O6 4300 -- \
	nl_send "$NL_O" --dst $I6 --dport 10012 --sport 4300 --count 1
nl_send "$NL_I" --raw --src $I6 --sport 10012 --dst $O6 --dport 4300 --count 1 && nl_barrier
expect_eq "learned the real v6 address" "$(ph 10012 "['sources'][0]['addr']")" $O6
flow "symmetric v6: learned source arrives" 2 10012 $O6 4300 -- \
	nl_send "$NL_O" --dst $I6 --dport 10012 --sport 4300 --count 2

DUMP=$(bpftool map dump pinned "$PIN/sw_pinholes" 2>&1)
check "bpftool map dump shows named fields" \
	grep -q '"call_hash"' <<<"$DUMP"
check "bpftool map dump shows sources with check and flags" \
	bash -c 'grep -q "\"check\"" <<<"$1" && grep -q "\"flags\"" <<<"$1"' _ "$DUMP"
NPH=$(sw status --json | json "d['pinholes']")
expect_eq "status counts 6 pinholes" "$NPH" 6

# --- detach / re-attach -----------------------------------------------------
check "detach" sw detach "$NL_FW_OUT"
expect_eq "status: no interfaces" "$(sw status --json | json "len(d['interfaces'])")" 0
flow "detached: media without pinhole passes" 2 10014 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10014 --sport 4000 --count 2
expect_eq "pinholes survive detach" "$(sw status --json | json "d['pinholes']")" 6
if [ $QUICK = 1 ]; then
	skip "re-attach over the pinned maps: left to the host run in a vmtest guest (SW_DATAPATH_FULL=1)"
else
	check "re-attach reuses the pinned maps" sw attach "$NL_FW_OUT" --mode native
	flow "re-attached: old pinhole still enforced (wrong port)" 0 10000 $O4 4001 -- \
		nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4001 --count 1
	flow "re-attached: old pinhole still passes its source" 1 10000 $O4 4000 -- \
		nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4000 --count 1
	expect_eq "pinhole counters carried over (5 + 1)" "$(ph 10000 "['packets']")" 6
	check "pinhole del" sw pinhole del --dst $I4:10004
	flow "deleted pinhole: dropped again" 0 10004 $O4 4000 -- \
		nl_send "$NL_O" --dst $I4 --dport 10004 --sport 4000 --count 1
	check "detach native" sw detach "$NL_FW_OUT"
fi

# --- TC ingress mode ----------------------------------------------------------
check "attach --mode tc" sw attach "$NL_FW_OUT" --mode tc
expect_eq "status: mode tc" "$(sw status --json | json "d['interfaces'][0]['mode']")" tc
expect_eq "status: tc filter seen live" "$(sw status --json | json "d['interfaces'][0]['attach']")" "tc clsact ingress"
snap
flow "tc: no pinhole dropped" 0 10014 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10014 --sport 4000 --count 2
flow "tc: strict pinhole passes" 2 10000 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4000 --count 2
flow "tc: strict wrong port dropped" 0 10000 $O4 4001 -- \
	nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4001 --count 2
flow "tc: v6 pinhole passes" 1 10006 $O6 4000 -- \
	nl_send "$NL_O" --dst $I6 --dport 10006 --sport 4000 --count 1
expect_eq "tc: dropped_no_pinhole = 2" "$(delta dropped_no_pinhole)" 2
expect_eq "tc: passed_pinhole = 3" "$(delta passed_pinhole)" 3
expect_eq "tc: dropped_bad_source = 2" "$(delta dropped_bad_source)" 2
check "detach tc" sw detach "$NL_FW_OUT"
check "tc filters gone after detach" \
	bash -c '! nsenter --net=/run/netns/$1 tc filter show dev $2 ingress | grep -q sipwall' _ "$NL_F" "$NL_FW_OUT"
flow "tc detached: pass-through" 1 10014 $O4 4000 -- \
	nl_send "$NL_O" --dst $I4 --dport 10014 --sport 4000 --count 1

# --- generic XDP ---------------------------------------------------------------
if [ $QUICK = 1 ]; then
	skip "generic XDP: left to the host run in a vmtest guest (SW_DATAPATH_FULL=1)"
else
	check "attach --mode generic --no-egress" sw attach "$NL_FW_OUT" --mode generic --no-egress
	expect_eq "status: mode generic" "$(sw status --json | json "d['interfaces'][0]['mode']")" generic
	flow "generic: no pinhole dropped" 0 10014 $O4 4000 -- \
		nl_send "$NL_O" --dst $I4 --dport 10014 --sport 4000 --count 2
	flow "generic: pinhole passes" 1 10000 $O4 4000 -- \
		nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4000 --count 1
	check "detach generic" sw detach "$NL_FW_OUT"
fi

# --- coexistence with xdp-filter through libxdp's dispatcher -------------------
check "attach native for coexistence" sw attach "$NL_FW_OUT" --mode native
KIND=$(sw status --json | json "d['interfaces'][0]['attach']")
if ! command -v xdp-filter >/dev/null; then
	skip "xdp-filter coexistence: xdp-filter not installed"
elif [ "$KIND" != "libxdp dispatcher" ]; then
	skip "xdp-filter coexistence: libxdp's dispatcher does not load on this kernel ($KIND; lockdown makes freplace EPERM) - runs in vmtest"
else
	if nl_f xdp-filter load --mode native "$NL_FW_OUT" && XDPF_LOADED=1 &&
		nl_f xdp-filter port --proto udp --mode dst 5060; then
		ok "xdp-filter loaded next to sipwall, dropping udp/5060"
		flow "xdp-filter drops its port" 0 5060 $O4 4000 -- \
			nl_send "$NL_O" --dst $I4 --dport 5060 --sport 4000 --count 2
		flow "sipwall still drops media without pinhole" 0 10014 $O4 4000 -- \
			nl_send "$NL_O" --dst $I4 --dport 10014 --sport 4000 --count 2
		flow "sipwall pinhole still passes (through both)" 2 10000 $O4 4000 -- \
			nl_send "$NL_O" --dst $I4 --dport 10000 --sport 4000 --count 2
		expect_eq "sipwall runs first (priority $(sw status --json | json "d['interfaces'][0]['priority']"))" \
			"$(sw status --json | json "d['interfaces'][0]['attached']")" True
		check "sipwall detach leaves xdp-filter" sw detach "$NL_FW_OUT"
		flow "xdp-filter still drops its port" 0 5060 $O4 4001 -- \
			nl_send "$NL_O" --dst $I4 --dport 5060 --sport 4001 --count 1
		flow "media passes once sipwall is gone" 1 10014 $O4 4000 -- \
			nl_send "$NL_O" --dst $I4 --dport 10014 --sport 4000 --count 1
		check "xdp-filter unload" nl_f xdp-filter unload "$NL_FW_OUT" && XDPF_LOADED=0
	else
		fail "xdp-filter did not load next to sipwall"
	fi
fi
sw status --json | json "len(d['interfaces'])" | grep -q '^0$' || sw detach "$NL_FW_OUT" >/dev/null

finish
