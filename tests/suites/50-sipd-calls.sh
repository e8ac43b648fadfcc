#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# sipd's call logic: cmocka tests of config, filters and the dialog /
# offer-answer state machine; then sipd against the REAL BPF object with a
# private pin root (tests/unit-calls/test_pinhole.c: SIP datagrams in,
# pinholes in the map, media judged by the real XDP program, BYE + grace,
# idle, max duration, conflicts, map-full rollback, adoption after restart);
# then the same against an outside attacker (test_security.c: forged
# answers, roles, media addresses, spoofed sources, budgets); then
# `sipd --check-config` on good and bad files.
. "$(dirname "$0")/../lib.sh"
cd "$SW_TOP"

bins="build/bin/test-calls-config build/bin/test-calls-filter build/bin/test-calls-dialog build/bin/test-calls-maps build/bin/test-calls-security build/bin/test-calls-control build/bin/sipd"
if [ -w . ]; then
	# shellcheck disable=SC2086
	make -s $bins >/dev/null || { fail "build"; finish; exit 1; }
fi

# One ok/fail/skip per cmocka test case.
. "$SW_TOP/tests/common/cmocka.sh"

run_cmocka build/bin/test-calls-config
run_cmocka build/bin/test-calls-filter
run_cmocka build/bin/test-calls-dialog
if [ "$(id -u)" -eq 0 ]; then
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
fi
run_cmocka build/bin/test-calls-maps
run_cmocka build/bin/test-calls-security
run_cmocka build/bin/test-calls-control
# The map tests again under ASan+UBSan, LeakSanitizer on: a message refused
# mid-call puts the call back as it was (core.c call_restore), and what the
# message had allocated must go with it, not leak per refused message.
if ! command -v clang >/dev/null; then
	skip "ASan+UBSan map tests: clang not installed"
elif [ -w . ] && ! make -s SAN=1 build-san/bin/test-calls-maps build-san/bin/test-calls-security \
	build-san/bin/test-calls-control >/dev/null 2>&1; then
	fail "build the map tests with ASan+UBSan"
else
	for t in maps security control; do
		san_log=$(mktemp)
		if build-san/bin/test-calls-$t >"$san_log" 2>&1; then
			ok "asan+ubsan test-calls-$t: $(grep -c '^\[       OK \]' "$san_log") cases, no leak"
		else
			grep -A12 "ERROR\|runtime error\|FAILED" "$san_log" | head -40
			fail "asan+ubsan test-calls-$t"
		fi
		rm -f "$san_log"
	done
fi
# the map tests clean their private pin roots even when they fail
left=$(ls /sys/fs/bpf 2>/dev/null | grep -c "^sw-ut-\|^sw-sec-\|^sw-ctl-" || true)
[ "$(id -u)" -ne 0 ] || expect_eq "no private pin roots left behind" "$left" 0

# sipd --check-config: exit 0/1 and the JSON path of the bad key
tmp=${SW_TEST_TMP:-$(mktemp -d)}
trap '[ -n "${SW_TEST_TMP:-}" ] || rm -rf "$tmp"' EXIT
out=$(build/bin/sipd --check-config etc/sipd.json 2>&1)
expect_eq "check-config etc/sipd.json exit" "$?" 0
check "check-config says ok" grep -q "etc/sipd.json: ok" <<<"$out"
printf '{"filters": [{"action": "drop"}, {"action": "allow"}, {"match": {"method": "FOO"}, "action": "drop"}]}' >"$tmp/bad.json"
out=$(build/bin/sipd --check-config "$tmp/bad.json" 2>&1)
expect_eq "check-config bad method exit" "$?" 1
check "bad method names its JSON path" \
	grep -q 'bad.json: filters\[2\].match.method: unknown method "FOO"' <<<"$out"
printf '{"timeouts": {"idle": 5}}' >"$tmp/unk.json"
out=$(build/bin/sipd --check-config "$tmp/unk.json" 2>&1)
expect_eq "check-config unknown key exit" "$?" 1
check "unknown key named" grep -q 'unk.json: timeouts.idle: unknown key' <<<"$out"
out=$(build/bin/sipd --check-config "$tmp/missing.json" 2>&1)
expect_eq "check-config missing file exit" "$?" 1
out=$(build/bin/sipd --check-config 2>&1)
expect_eq "check-config without a file is a usage error" "$?" 2

finish
