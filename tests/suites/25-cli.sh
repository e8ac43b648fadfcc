#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The sipwall CLI: lib/ unit tests (cmocka), then every error path the
# loader promises (bad args, bad addresses and ranges, unknown interface,
# attaching twice, detaching what is not attached, contradicting the pinned
# maps, not root) on a veth in a private namespace with a private pin path:
# exit code, one message naming what was wrong, and nothing changed.
set -uo pipefail
source "$(dirname "$0")/../lib.sh"

UNIT=$SW_TOP/build/bin/test-unit-lib
if [ -x "$UNIT" ]; then
	check "lib unit tests (cmocka: addresses, endpoints, names, FNV-1a)" "$UNIT"
else
	skip "lib unit tests: $UNIT not built"
fi

need_root
SW=${SIPWALL:-$SW_TOP/build/bin/sipwall}
[ -x "$SW" ] || { echo "skip: $SW not built (run make)"; finish; exit 77; }
mountpoint -q /sys/fs/bpf || { echo "skip: bpffs not mounted"; finish; exit 77; }

TAG=$(sw_tag)
NS=$TAG-cli
PIN=/sys/fs/bpf/sipwall-t25-$TAG
PIN2=/sys/fs/bpf/sipwall-t25b-$TAG
TMP=$(mktemp -d "${SW_TEST_TMP:-${TMPDIR:-/tmp}}/sipwall-t25.XXXXXX")
cleanup() {
	ip netns del "$NS" 2>/dev/null
	rm -rf "$PIN" "$PIN2" "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ip netns add "$NS" || { fail "netns"; finish; exit 1; }
ip -n "$NS" link add v0 type veth peer name v1 && ip -n "$NS" link set v0 up &&
	ip -n "$NS" link set v1 up && ip -n "$NS" link set lo up || { fail "veth"; finish; exit 1; }

# run WANT_RC PATTERN DESC -- ARGS...: sipwall in the namespace; exit code and
# a message (stderr+stdout) matching PATTERN (grep -E).
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

# --- usage and help ------------------------------------------------------------
run 2 'missing COMMAND' "no command: exit 2" --
run 0 'pinhole add' "--help lists the commands" -- --help
for c in attach detach status stats "pinhole add" "pinhole del" "pinhole list"; do
	# shellcheck disable=SC2086
	run 0 "Usage: sipwall $c" "$c --help" -- $c --help
done
run 0 '--media-ports LO-HI' "attach --help shows its options" -- attach --help
run 0 '--check MODE' "pinhole add --help shows --check" -- pinhole add --help
run 2 "unknown command 'frobnicate'" "unknown command" -- frobnicate
run 2 "unknown command 'pinhole frob'" "unknown pinhole subcommand" -- pinhole frob
run 2 'missing subcommand' "pinhole without subcommand" -- pinhole
run 2 "unknown option '--bogus'" "unknown option" -- status --bogus
run 2 "unknown option '--json'" "option of another command is refused" -- attach v0 --json
run 2 "'--mode' needs an argument" "option missing its argument" -- attach v0 --mode
run 2 'missing IFACE' "attach without IFACE" -- attach
run 2 "unexpected argument 'v1'" "attach with two interfaces" -- attach v0 v1 "${P[@]}"
run 2 "--mode 'turbo'" "bad --mode" -- attach v0 --mode turbo "${P[@]}"
for r in 20000-10000 0-100 1-65536 abc 100 -100 10000- 1x-2; do
	run 2 "--media-ports '$r'" "bad --media-ports $r" -- attach v0 --media-ports "$r" "${P[@]}"
done
for n in 0 abc -1 99999999999; do
	run 2 "--max-pinholes '$n'" "bad --max-pinholes $n" -- attach v0 --max-pinholes "$n" "${P[@]}"
done
run 2 "--pin-path 'relative'" "relative --pin-path" -- status --pin-path relative
check "nothing was pinned by the refused commands" test ! -e "$PIN"

# --- attach errors, nothing changed ----------------------------------------------
run 1 "unknown interface 'nope0'" "attach unknown interface" -- attach nope0 "${P[@]}"
check "unknown interface left no pin path" test ! -e "$PIN"
run 1 'not on a bpf filesystem' "pin path outside bpffs" -- attach v0 --pin-path "$TMP/pins"
check "no directory created outside bpffs" test ! -e "$TMP/pins"
run 1 'no native XDP' "native on lo (no driver XDP) fails" -- attach lo --mode native "${P[@]}"
check "failed attach rolled back: no pinned maps, no pin path" test ! -e "$PIN"
run 1 'no sipwall maps pinned' "status before any attach" -- status "${P[@]}"
run 1 'no sipwall maps pinned' "pinhole list before any attach" -- pinhole list "${P[@]}"
run 1 'no sipwall maps pinned' "stats before any attach" -- stats "${P[@]}"
run 1 'no sipwall maps pinned' "detach before any attach" -- detach v0 "${P[@]}"
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null; then
	nsenter --net="/run/netns/$NS" setpriv --reuid=nobody --regid=nogroup --clear-groups \
		"$SW" attach v0 "${P[@]}" >"$TMP/out" 2>"$TMP/err"
	rc=$?
	expect_eq "attach as non-root exits 1" "$rc" 1
	check "non-root: 'must run as root'" grep -q 'must run as root' "$TMP/err"
else
	skip "non-root check: no nobody user or setpriv"
fi

# --- attach, then what must be refused while attached ------------------------------
run 0 'attached to v0' "attach v0" -- attach v0 --media-ports 10000-10999 --max-pinholes 1024 "${P[@]}"
ID=$(nsenter --net="/run/netns/$NS" "$SW" status --json "${P[@]}" |
	/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["interfaces"][0]["prog_id"])')
run 1 'v0 is already attached' "attach twice" -- attach v0 "${P[@]}"
run 1 'already runs sipwall_xdp' "attach again under another pin path" -- attach v0 --pin-path "$PIN2"
check "refused attach under another pin path left nothing" test ! -e "$PIN2"
run 0 "\"prog_id\":$ID" "status unchanged after the refused attaches" -- status --json "${P[@]}"
run 0 '"media_lo":10000' "status --json media range" -- status --json "${P[@]}"
run 0 '"max_pinholes":1024' "status --json max pinholes" -- status --json "${P[@]}"
run 0 'media ports 10000-10999; pinholes 0 of 1024 \(allocated on demand\)' "status text" -- status "${P[@]}"
run 0 '"pinholes_preallocated":false' "status --json: pinhole map on demand" -- status --json "${P[@]}"
run 1 '--prealloc: the pinned .*/sw_pinholes allocates on demand' "attach v1 --prealloc on an on-demand map" -- attach v1 --prealloc "${P[@]}"
run 1 '--max-pinholes 2048 differs' "attach v1 with a different --max-pinholes" -- attach v1 --max-pinholes 2048 "${P[@]}"
run 1 '--media-ports 20000-20100 differs' "attach v1 with a different --media-ports" -- attach v1 --media-ports 20000-20100 "${P[@]}"
run 0 '"name":"v0"' "refused v1 attaches recorded nothing" -- status --json "${P[@]}"
check "only v0 in sw_ifaces" test "$(nsenter --net="/run/netns/$NS" "$SW" status --json "${P[@]}" |
	/usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["interfaces"]))')" = 1
check "v1 has no XDP program" bash -c "! ip -n $NS link show v1 | grep -q prog/xdp"

# --- pinhole argument errors --------------------------------------------------------
run 2 '--dst IP:PORT is required' "pinhole add without --dst" -- pinhole add --src 10.0.0.2:4000 "${P[@]}"
run 2 'at least one --src' "pinhole add without --src" -- pinhole add --dst 10.0.0.1:10000 "${P[@]}"
for d in 10.0.0.1 10.0.0.1:0 10.0.0.1:65536 300.0.0.1:10000 fd00::1:10000 '[fd00::1]' 'host:10000' ''; do
	run 2 "--dst '${d//[/\\[}'" "bad --dst '$d'" -- pinhole add --dst "$d" --src 10.0.0.2:4000 "${P[@]}"
done
for s in 10.0.0.2:0 10.0.0.2:x '[10.0.0.2]:4000' 'fd00::2]' ''; do
	run 2 "--src '${s//[/\\[}'" "bad --src '$s'" -- pinhole add --dst 10.0.0.1:10000 --src "$s" "${P[@]}"
done
run 2 'strict needs a source port' "strict without source port" -- pinhole add --dst 10.0.0.1:10000 --src 10.0.0.2 "${P[@]}"
run 2 'different address families' "v6 source for a v4 destination" -- pinhole add --dst 10.0.0.1:10000 --src '[fd00::2]:4000' "${P[@]}"
run 2 "--check 'loose'" "bad --check" -- pinhole add --dst 10.0.0.1:10000 --src 10.0.0.2:4000 --check loose "${P[@]}"
run 2 'at most 4 sources' "five sources" -- pinhole add --dst 10.0.0.1:10000 --src 10.0.0.2:1 \
	--src 10.0.0.2:2 --src 10.0.0.2:3 --src 10.0.0.2:4 --src 10.0.0.2:5 "${P[@]}"
run 1 'outside the media range 10000-10999' "destination port outside the media range" -- pinhole add --dst 10.0.0.1:11000 --src 10.0.0.2:4000 "${P[@]}"
run 0 'pinhole 10.0.0.1:10000 added' "pinhole add v4" -- pinhole add --dst 10.0.0.1:10000 --src 10.0.0.2:4000 "${P[@]}"
run 0 'pinhole \[fd00::1\]:10002 added \(4 sources, address\)' "pinhole add v6, 4 sources" -- pinhole add --dst '[fd00::1]:10002' --src fd00::2 --src '[fd00::3]' --src '[fd00::4]:5' --src fd00::5 --check address "${P[@]}"
run 0 'pinhole 10.0.0.1:10004 added' "pinhole add v4-mapped spelling" -- pinhole add --dst '[::ffff:10.0.0.1]:10004' --src 10.0.0.2 --check symmetric "${P[@]}"
run 1 'already exists' "pinhole add twice" -- pinhole add --dst 10.0.0.1:10000 --src 10.0.0.2:4001 "${P[@]}"
run 0 '"port":4000' "the first add was kept" -- pinhole list --json "${P[@]}"
run 0 'fd00::2/address' "pinhole list text shows sources" -- pinhole list "${P[@]}"
run 0 '"check":"symmetric"' "pinhole list --json shows the check" -- pinhole list --json "${P[@]}"
run 1 'no pinhole for 10.0.0.1:10006' "pinhole del of a missing pinhole" -- pinhole del --dst 10.0.0.1:10006 "${P[@]}"
run 2 "--dst 'nope'" "pinhole del bad --dst" -- pinhole del --dst nope "${P[@]}"
run 0 'pinhole 10.0.0.1:10004 deleted' "pinhole del" -- pinhole del --dst 10.0.0.1:10004 "${P[@]}"
run 0 'pinholes 2 of 1024' "status counts pinholes" -- status "${P[@]}"
run 0 '"dropped_no_pinhole":' "stats --json names every reason" -- stats --json "${P[@]}"
run 0 'passed_not_media' "stats text" -- stats "${P[@]}"
for c in "status --json" "stats --json" "pinhole list --json"; do
	# shellcheck disable=SC2086
	check "$c is valid JSON" bash -c "nsenter --net=/run/netns/$NS $SW $c --pin-path $PIN | /usr/bin/python3 -m json.tool >/dev/null"
done

# --- detach ------------------------------------------------------------------------
run 1 'v1 is not attached' "detach an interface that is not attached" -- detach v1 "${P[@]}"
run 1 "unknown interface 'nope0'" "detach an unknown interface" -- detach nope0 "${P[@]}"
run 0 'detached from v0' "detach v0" -- detach v0 "${P[@]}"
check "v0 has no XDP program after detach" bash -c "! ip -n $NS link show v0 | grep -q prog/xdp"
check "v0 has no sipwall TC filter after detach" bash -c "! nsenter --net=/run/netns/$NS tc filter show dev v0 egress | grep -q sipwall"
run 1 'v0 is not attached' "detach twice" -- detach v0 "${P[@]}"
run 0 'no interfaces attached' "status after detach" -- status "${P[@]}"
run 0 'pinholes 2 of 1024' "pinholes survive detach" -- status "${P[@]}"
run 0 'attached to v0.*pinholes max 1024' "re-attach adopts the pinned size and range" -- attach v0 "${P[@]}"
run 0 'media ports 10000-10999' "re-attach kept the pinned media range" -- status "${P[@]}"
ip -n "$NS" link del v0
run 0 'v0 no longer exists; removed its record' "detach of a deleted interface drops its record" -- detach v0 "${P[@]}"
run 0 'no interfaces attached' "status after the stale record is gone" -- status "${P[@]}"

# --- a preallocated pinhole map (attach --prealloc) ---------------------------------
# map_flags as the kernel has them: BPF_F_NO_PREALLOC is 1.
map_flags() {
	bpftool map show pinned "$1/sw_pinholes" -j |
		/usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["flags"])'
}
expect_eq "the default pinhole map allocates on demand (BPF_F_NO_PREALLOC)" "$(map_flags "$PIN")" 1
ip -n "$NS" link add w0 type veth peer name w1 && ip -n "$NS" link set w0 up &&
	ip -n "$NS" link set w1 up || fail "veth w0/w1"
Q=(--pin-path "$PIN2")
run 0 'attached to w0' "attach w0 --prealloc" -- attach w0 --prealloc --max-pinholes 2048 "${Q[@]}"
expect_eq "--prealloc: sw_pinholes preallocated (flags 0)" "$(map_flags "$PIN2")" 0
run 0 'pinholes 0 of 2048 \(preallocated\)' "status text: preallocated" -- status "${Q[@]}"
run 0 '"pinholes_preallocated":true' "status --json: preallocated" -- status --json "${Q[@]}"
run 0 'pinhole 10.0.0.1:10000 added' "pinhole add in a preallocated map" -- pinhole add --dst 10.0.0.1:10000 --src 10.0.0.2:4000 "${Q[@]}"
run 0 'attached to w1' "attach w1 without --prealloc adopts the preallocated map" -- attach w1 "${Q[@]}"
run 0 'detached from w0' "detach w0" -- detach w0 "${Q[@]}"
run 0 'attached to w0' "re-attach w0 --prealloc on the preallocated map" -- attach w0 --prealloc "${Q[@]}"
run 0 'pinholes 1 of 2048 \(preallocated\)' "the pinhole and the preallocated map survived" -- status "${Q[@]}"

finish
