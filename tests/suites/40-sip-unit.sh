#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sipd message path: the cmocka unit tests (plain, then ASan+UBSan) and
# `sipd check` over tests/unit/msgs, whose file names say the expected reason
# ("accepted.x.sip", "sip_bad_cseq.x.sip", "keepalive.x.sip").
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP" || exit 1

log=$(mktemp)
trap 'rm -f "$log"' EXIT

if make -s build/bin/sipd sipd-unit-bins >"$log" 2>&1; then
	ok "build sipd and unit tests"
else
	cat "$log"; fail "build sipd and unit tests"; finish; exit 1
fi

run_units() { # DIR LABEL
	local t
	for t in "$1"/test-sipd-*; do
		[ -x "$t" ] || continue
		if "$t" >"$log" 2>&1; then
			ok "$2 $(basename "$t"): $(grep -c '^\[       OK \]' "$log") cases"
		else
			cat "$log"; fail "$2 $(basename "$t")"
		fi
	done
}
run_units build/bin plain

if command -v clang >/dev/null; then
	if make -s SAN=1 sipd-unit-bins >"$log" 2>&1; then
		run_units build-san/bin asan+ubsan
	else
		cat "$log"; fail "build unit tests with ASan+UBSan"
	fi
else
	skip "ASan+UBSan unit tests: clang not installed"
fi

# sipd check over our own messages
n=0
for f in tests/unit/msgs/*.sip; do
	want=$(basename "$f"); want=${want%%.*}
	line=$(build/bin/sipd check "$f" | head -n 1)
	got=$(sed -n 's/.*"reason":"\([^"]*\)".*/\1/p' <<<"$line")
	expect_eq "check $(basename "$f")" "$got" "$want"
	n=$((n + 1))
done
[ "$n" -ge 20 ] && ok "$n own messages checked" || fail "only $n messages in tests/unit/msgs"

out=$(build/bin/sipd check tests/unit/msgs/accepted.invite-sdp-v4.sip)
check "v4 INVITE: audio 16384, rtcp 16391 from a=rtcp" \
	grep -q '"type":"audio","addr":"198.51.100.7","port":16384,"port_count":1,"rtcp_port":16391' <<<"$out"
check "v4 INVITE: video port 0 has no RTCP" grep -q '"type":"video","addr":"198.51.100.7","port":0,"port_count":1,"rtcp_port":0' <<<"$out"
out=$(build/bin/sipd check tests/unit/msgs/accepted.200-sdp-v6.sip)
check "v6 200 OK: IPv6 address, rtcp-mux" \
	grep -q '"addr":"2001:db8::b","port":17000,"port_count":1,"rtcp_port":0,"rtcp_addr":"2001:db8::b","rtcp_mux":true' <<<"$out"
check "v6 200 OK: status 200" grep -q '"status":200' <<<"$out"
out=$(build/bin/sipd check tests/unit/msgs/accepted.reinvite-hold.sip)
check "hold: c=0.0.0.0 and a=inactive" grep -q '"dir":"inactive","hold_addr":true' <<<"$out"
out=$(build/bin/sipd check tests/unit/msgs/accepted.multipart-sdp.sip)
check "multipart: SDP part found" grep -q '"port":16384' <<<"$out"
out=$(build/bin/sipd check tests/unit/msgs/keepalive.crlfcrlf.sip tests/unit/msgs/keepalive.stun-binding.sip)
check "keep-alive CRLFCRLF: accepted as a keep-alive" \
	grep -q '"verdict":"accept","reason":"keepalive","keepalive":"crlf"' <<<"$out"
check "keep-alive STUN Binding: accepted as a keep-alive" \
	grep -q '"verdict":"accept","reason":"keepalive","keepalive":"stun"' <<<"$out"
out=$(build/bin/sipd check tests/unit/msgs/accepted.200-declined-video.sip)
check "declined video: audio kept, video port 0" \
	grep -q '"port":17000.*"type":"video","addr":"198.51.100.9","port":0' <<<"$out"
out=$(build/bin/sipd check tests/unit/msgs/sip_cseq_method_mismatch.sip)
check "drop detail names the problem" grep -q '"detail":"CSeq method INVITE != request method OPTIONS"' <<<"$out"

# exit status: verdicts are data (0), usage and I/O errors are 2
build/bin/sipd check tests/unit/msgs/sip_bad_via.sip >/dev/null; expect_eq "check exit on a drop" "$?" 0
build/bin/sipd check >/dev/null 2>&1; expect_eq "check without FILE" "$?" 2
build/bin/sipd check /nonexistent/x.sip >/dev/null 2>"$log"; expect_eq "check on a missing file" "$?" 2
check "missing file is named" grep -q "/nonexistent/x.sip" "$log"
build/bin/sipd check --bogus x >/dev/null 2>&1; expect_eq "check with an unknown option" "$?" 2
build/bin/sipd --help | grep -q "check" ; expect_eq "sipd --help" "$?" 0
build/bin/sipd frobnicate >/dev/null 2>&1; expect_eq "unknown command" "$?" 2
out=$(build/bin/sipd check - <tests/unit/msgs/accepted.bye.sip)
check "check reads stdin" grep -q '"method":"BYE"' <<<"$out"

finish
