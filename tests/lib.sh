# SPDX-License-Identifier: GPL-2.0-only
# Shared helpers for suite scripts: source it, call ok/fail/skip, end with finish.
SW_PASS=0 SW_FAIL=0 SW_SKIP=0
SW_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SW_SHARED=${SW_SHARED:-$SW_TOP/../shared}
ok()   { SW_PASS=$((SW_PASS + 1)); echo "ok - $*"; }
fail() { SW_FAIL=$((SW_FAIL + 1)); echo "FAIL - $*"; }
skip() { SW_SKIP=$((SW_SKIP + 1)); echo "skip - $*"; }
# check DESC CMD...: ok if CMD succeeds.
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# expect_eq DESC GOT WANT
expect_eq() { if [ "$2" == "$3" ]; then ok "$1"; else fail "$1 (got '$2', want '$3')"; fi; }
finish() {
	echo "$SW_PASS passed, $SW_FAIL failed, $SW_SKIP skipped"
	[ "$SW_FAIL" -eq 0 ]
}
need_root() { [ "$(id -u)" -eq 0 ] || { echo "skip: needs root"; exit 77; }; }
# A short unique tag for netns/link names so suites and developers never collide.
sw_tag() { printf 's%04x' $(( ($$ + RANDOM) % 65536 )); }
