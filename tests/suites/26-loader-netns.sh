#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sipwall attach/detach/status across network namespaces sharing one pin
# root (sw_ifaces is keyed by namespace and ifindex): two namespaces attach a
# v0 with the same ifindex, each sees its own and the other's as "in another
# network namespace"; status and detach from a namespace that cannot see an
# interface change nothing; detach without CAP_SYS_ADMIN fails and changes
# nothing; attach --if-not-attached; a schema 1 sw_ifaces (key ifindex) is
# read by status and upgraded by attach; a schema 2 sw_pinholes (184-byte
# values) is refused.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

need_root
SW=${SIPWALL:-$SW_TOP/build/bin/sipwall}
[ -x "$SW" ] || { echo "skip: $SW not built (run make)"; finish; exit 77; }
mountpoint -q /sys/fs/bpf || { echo "skip: bpffs not mounted"; finish; exit 77; }
command -v setpriv >/dev/null || { echo "skip: setpriv (util-linux) not installed"; finish; exit 77; }

TAG=$(sw_tag)
NSA=$TAG-lna
NSB=$TAG-lnb
NSC=$TAG-lnc
PIN=/sys/fs/bpf/sipwall-t26-$TAG
TMP=$(mktemp -d "${SW_TEST_TMP:-${TMPDIR:-/tmp}}/sipwall-t26.XXXXXX")
cleanup() {
	ip netns del "$NSA" 2>/dev/null
	ip netns del "$NSB" 2>/dev/null
	ip netns del "$NSC" 2>/dev/null
	rm -rf "$PIN" "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for n in "$NSA" "$NSB" "$NSC"; do
	ip netns add "$n" || { fail "netns $n"; finish; exit 1; }
done
# The same commands in A and B give v0 the same ifindex in both.
for n in "$NSA" "$NSB"; do
	ip -n "$n" link add v0 type veth peer name v1 && ip -n "$n" link set v0 up &&
		ip -n "$n" link set v1 up || { fail "veth in $n"; finish; exit 1; }
done
# C has a v0 too, with another ifindex (another pair first takes the next ones).
ip -n "$NSC" link add x0 type veth peer name x1 && ip -n "$NSC" link add v0 type veth peer name v1 ||
	{ fail "veth in $NSC"; finish; exit 1; }

P=(--pin-path "$PIN")
inns() { local n=$1; shift; nsenter --net="/run/netns/$n" "$@"; }
sw() { local n=$1; shift; inns "$n" "$SW" "$@" "${P[@]}"; }
# run NS WANT_RC PATTERN DESC -- ARGS...: exit code, one matching message.
run() {
	local n=$1 want=$2 pat=$3 desc=$4 rc
	shift 5
	inns "$n" "$SW" "$@" "${P[@]}" >"$TMP/out" 2>"$TMP/err"
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
json() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# iface_field NS FIELD: FIELD of this namespace's record, as status --json in NS sees it
iface_field() { sw "$1" status --json | json "[i['$2'] for i in d['interfaces'] if i['this_netns']]"; }
xdp_id() { inns "$1" ip -d link show v0 | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p'; }
nrec() { sw "$1" status --json | json "len(d['interfaces'])"; }
netns_ino() { stat -L -c %i "/run/netns/$1"; }

IDX_A=$(ip -n "$NSA" -o link show v0 | cut -d: -f1)
IDX_B=$(ip -n "$NSB" -o link show v0 | cut -d: -f1)
expect_eq "v0 has the same ifindex in both namespaces" "$IDX_A" "$IDX_B"

# --- two namespaces, one pin root ----------------------------------------------------
run "$NSA" 0 'attached to v0' "attach v0 in A" -- attach v0 --mode native
run "$NSB" 0 'attached to v0' "attach v0 (same ifindex) in B under the same pin root" -- attach v0 --mode native
ID_A=$(xdp_id "$NSA")
ID_B=$(xdp_id "$NSB")
check "both namespaces run their own XDP program" test -n "$ID_A" -a -n "$ID_B" -a "$ID_A" != "$ID_B"
expect_eq "two records in sw_ifaces" "$(nrec "$NSA")" 2
expect_eq "A's status: its own v0 is A's program" "$(iface_field "$NSA" prog_id)" "[$ID_A]"
expect_eq "B's status: its own v0 is B's program" "$(iface_field "$NSB" prog_id)" "[$ID_B]"
expect_eq "A's record names A's netns inode" "$(iface_field "$NSA" netns_ino)" "[$(netns_ino "$NSA")]"
expect_eq "A's status: own v0 attached" "$(iface_field "$NSA" attached)" "[True]"
expect_eq "A's status: B's v0 is in another namespace, attached unknown (null)" \
	"$(sw "$NSA" status --json | json "[(i['attach'], i['attached']) for i in d['interfaces'] if i['prog_id'] == $ID_B]")" \
	"[('in another network namespace (netns inode $(netns_ino "$NSB"))', None)]"
run "$NSA" 0 "in another network namespace \\(netns inode $(netns_ino "$NSB")\\)" "status text names the other namespace" -- status
run "$NSA" 1 'v0 is already attached' "attach v0 twice in A is still refused" -- attach v0

# --- status and detach from a namespace that cannot see the interface -------------------
bpftool map dump pinned "$PIN/sw_ifaces" -j >"$TMP/before.json" 2>/dev/null
run "$NSC" 0 'in another network namespace' "status from a third namespace" -- status
run "$NSC" 1 "v0 is not attached in this network namespace; .* another one \\(netns inode" \
	"detach v0 from a namespace with another v0 fails" -- detach v0
if ! ip link show v0 >/dev/null 2>&1; then
	"$SW" detach v0 "${P[@]}" >"$TMP/out" 2>"$TMP/err"
	expect_eq "detach v0 from the host namespace (no v0 there) exits 1" "$?" 1
	check "  ... naming the other namespace" grep -q 'in another one (netns inode' "$TMP/err"
	"$SW" status "${P[@]}" >/dev/null
	expect_eq "status from the host namespace exits 0" "$?" 0
else
	skip "the host has a v0: detach from the host namespace not tried"
fi
bpftool map dump pinned "$PIN/sw_ifaces" -j >"$TMP/after.json" 2>/dev/null
check "sw_ifaces unchanged by status and the refused detaches" cmp -s "$TMP/before.json" "$TMP/after.json"
expect_eq "A's XDP program still attached" "$(xdp_id "$NSA")" "$ID_A"
expect_eq "B's XDP program still attached" "$(xdp_id "$NSB")" "$ID_B"

# --- detach without CAP_SYS_ADMIN ---------------------------------------------------------
nocap() { local n=$1; shift; inns "$n" setpriv --inh-caps -sys_admin --bounding-set -sys_admin -- "$SW" "$@" "${P[@]}"; }
nocap "$NSA" detach v0 >"$TMP/out" 2>"$TMP/err"
expect_eq "detach without CAP_SYS_ADMIN exits 1" "$?" 1
check "  ... one error naming CAP_SYS_ADMIN" bash -c "[ \$(wc -l <$TMP/err) = 1 ] && grep -q 'needs CAP_SYS_ADMIN' $TMP/err"
check "  ... and not claiming the program is gone" bash -c "! grep -q 'no longer attached' $TMP/out $TMP/err"
expect_eq "  ... XDP still attached" "$(xdp_id "$NSA")" "$ID_A"
check "  ... egress learner still attached" bash -c "nsenter --net=/run/netns/$NSA tc filter show dev v0 egress | grep -q sipwall"
expect_eq "  ... record kept" "$(iface_field "$NSA" prog_id)" "[$ID_A]"
nocap "$NSA" status --json >"$TMP/out" 2>"$TMP/err"
expect_eq "status without CAP_SYS_ADMIN exits 0" "$?" 0
expect_eq "  ... and says it cannot tell (attached null), not gone" \
	"$(json "[i['attached'] for i in d['interfaces'] if i['this_netns']]" <"$TMP/out")" "[None]"

# --- attach --if-not-attached -------------------------------------------------------------
run "$NSA" 0 "v0 is already attached under .* program id $ID_A\\); nothing to do" \
	"--if-not-attached on a live attachment: exit 0, says so" -- attach v0 --if-not-attached
run "$NSA" 0 'nothing to do' "--if-not-attached with the same explicit settings" -- attach v0 --if-not-attached --mode native --media-ports 10000-20000
expect_eq "  ... same program, nothing re-attached" "$(xdp_id "$NSA")" "$ID_A"
run "$NSA" 1 'with other settings \(mode native' "--if-not-attached with another mode fails" -- attach v0 --if-not-attached --mode tc
run "$NSA" 1 'with other settings' "--if-not-attached without the egress learner fails" -- attach v0 --if-not-attached --no-egress
run "$NSA" 1 '--media-ports 20000-20100 differs' "--if-not-attached with another range fails" -- attach v0 --if-not-attached --media-ports 20000-20100
inns "$NSA" ip link set dev v0 xdp off
run "$NSA" 1 'no longer attached; run .sipwall detach v0. first' "--if-not-attached when the program was removed behind its back" -- attach v0 --if-not-attached
run "$NSA" 0 'detached from v0' "detach after the program was removed: record cleared (verified gone)" -- detach v0
run "$NSA" 0 'attached to v0' "--if-not-attached on a free interface attaches" -- attach v0 --if-not-attached --mode native
ID_A=$(xdp_id "$NSA")
check "  ... XDP attached" test -n "$ID_A"

# --- independent detach --------------------------------------------------------------------
run "$NSB" 0 'detached from v0' "detach v0 in B" -- detach v0
expect_eq "B's XDP program gone" "$(xdp_id "$NSB")" ""
expect_eq "A's XDP program untouched by B's detach" "$(xdp_id "$NSA")" "$ID_A"
expect_eq "A's record remains, alone" "$(sw "$NSA" status --json | json "[(i['name'], i['prog_id'], i['this_netns']) for i in d['interfaces']]")" "[('v0', $ID_A, True)]"
run "$NSB" 1 'v0 is not attached in this network namespace' "detach v0 in B again names A's" -- detach v0
run "$NSA" 0 'detached from v0' "detach v0 in A" -- detach v0
run "$NSA" 0 'no interfaces attached' "no records left" -- status

# --- schema 1 pin root: sw_ifaces keyed by ifindex alone ------------------------------------
# Replace sw_ifaces by a map of the old layout holding A's live attachment.
run "$NSA" 0 'attached to v0' "attach v0 in A (for the schema 1 record)" -- attach v0 --mode native
ID_A=$(xdp_id "$NSA")
EG_A=$(iface_field "$NSA" egress_prog_id | tr -d '[]')
[ -n "$EG_A" ] || EG_A=0
rec=$(/usr/bin/python3 -c "
import struct,sys
v = struct.pack('<6IQ16s', $IDX_A, 1, $ID_A, $EG_A, 10, 2, 1, b'v0')
print(' '.join(str(b) for b in v))")
rm -f "$PIN/sw_ifaces"
if bpftool map create "$PIN/sw_ifaces" type hash key 4 value 48 entries 64 name sw_ifaces &&
	bpftool map update pinned "$PIN/sw_ifaces" key $(/usr/bin/python3 -c "import struct; print(' '.join(str(b) for b in struct.pack('<I', $IDX_A)))") value $rec; then
	run "$NSB" 0 'network namespace not recorded \(older sipwall\); not attached here' "status in B reads a schema 1 record, not claiming it gone" -- status
	run "$NSA" 0 '(single program|libxdp dispatcher).*\(network namespace not recorded\)' "status in A: the schema 1 record runs here" -- status
	run "$NSB" 1 'not attached' "detach in B does not take A's schema 1 record" -- detach v0
	check "  ... it upgraded sw_ifaces, keeping A's record" grep -q 'upgraded .*sw_ifaces to schema 2.*1 record(s), 0 verified in this network namespace' "$TMP/out"
	expect_eq "  ... A's XDP program untouched" "$(xdp_id "$NSA")" "$ID_A"
	run "$NSA" 0 "nothing to do" "attach --if-not-attached in A finds its (netns 0) record attached" -- attach v0 --if-not-attached
	expect_eq "  ... the record now names A's namespace" "$(iface_field "$NSA" netns_ino)" "[$(netns_ino "$NSA")]"
	expect_eq "  ... sw_ifaces has the new key" "$(bpftool map show pinned "$PIN/sw_ifaces" -j | json "d['bytes_key']")" 16
	run "$NSA" 0 'detached from v0' "detach after the upgrade" -- detach v0
	expect_eq "  ... XDP gone" "$(xdp_id "$NSA")" ""
else
	fail "cannot build a schema 1 sw_ifaces with bpftool"
fi

# --- schema 2 pin root: one 184-byte value per pinhole --------------------------------------
# Schema 3 split the pinholes into sw_pinholes (64-byte hot values), sw_ph_srcs
# and sw_calls: an older pin root is refused with what to do, never half used.
rm -rf "$PIN"
mkdir -p "$PIN"
if bpftool map create "$PIN/sw_pinholes" type hash key 20 value 184 entries 64 name sw_pinholes flags 1; then
	run "$NSA" 1 'pinhole layout of an older sipwall \(schema 2 or before.*remove the pin root' \
		"attach refuses a schema 2 sw_pinholes" -- attach v0 --mode native
	expect_eq "  ... nothing attached" "$(xdp_id "$NSA")" ""
	expect_eq "  ... nothing pinned beside it" "$(ls "$PIN" | tr '\n' ' ')" "sw_pinholes "
else
	fail "cannot build a schema 2 sw_pinholes with bpftool"
fi
rm -rf "$PIN"

finish
