#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The rtpengine "ng" control protocol layer: the cmocka tests of
# sipd/bencode.c and sipd/ng.c (requests as Kamailio sends them, replies,
# retransmission cache, access list, UDP and Unix-socket round trips on
# loopback), plain and then under ASan+UBSan. No privileges needed.
# SW_BUILD picks the build directory (default build).
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP" || exit 1
. "$SW_TOP/tests/common/cmocka.sh"

B=${SW_BUILD:-build}
log=$(mktemp)
trap 'rm -f "$log"' EXIT

if make -s BUILD="$B" "$B/bin/test-bencode" "$B/bin/test-ng" >"$log" 2>&1; then
	ok "build ng unit tests"
else
	cat "$log"; fail "build ng unit tests"; finish; exit 1
fi
run_cmocka "$B/bin/test-bencode"
run_cmocka "$B/bin/test-ng"

if command -v clang >/dev/null; then
	if make -s SAN=1 build-san/bin/test-bencode build-san/bin/test-ng >"$log" 2>&1; then
		run_cmocka build-san/bin/test-bencode
		run_cmocka build-san/bin/test-ng
	else
		cat "$log"; fail "build ng unit tests with ASan+UBSan"
	fi
else
	skip "ASan+UBSan ng unit tests: clang not installed"
fi

finish
