#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A brief libFuzzer run (45 s) over sipd's message path under ASan+UBSan,
# seeded with tests/unit/msgs and, when present, the shared SIP corpora
# (copied to a temp dir). Fails on any crash, sanitizer report, leak or
# broken invariant. `make fuzz` is the long run.
source "$(dirname "$0")/../lib.sh"
cd "$SW_TOP" || exit 1

FUZZ_SECS=${SW_FUZZ_SECS:-45}
if ! command -v clang >/dev/null; then
	echo "skip: clang not installed"
	exit 77
fi
if ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 &&
   ! ls /usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-"$(uname -m)".a >/dev/null 2>&1; then
	echo "skip: clang's libFuzzer runtime is not installed"
	exit 77
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if make -s build/bin/fuzz-sipmsg >"$tmp/build.log" 2>&1; then
	ok "build libFuzzer harness"
else
	cat "$tmp/build.log"; fail "build libFuzzer harness"; finish; exit 1
fi

mkdir -p "$tmp/corpus" "$tmp/art"
cp tests/unit/msgs/*.sip "$tmp/corpus/"
if [ -d "$SW_SHARED/corpora" ]; then
	for f in "$SW_SHARED"/corpora/rfc4475/*/* "$SW_SHARED"/corpora/rfc5118/*/*; do
		case $f in *.tsv | *.md) continue ;; esac
		cp "$f" "$tmp/corpus/seed-$(basename "$f")"
	done
	ok "seeded with own messages and ../shared corpora ($(ls "$tmp/corpus" | wc -l) files)"
else
	ok "seeded with own messages only (no ../shared corpora)"
fi
seeds=$(ls "$tmp/corpus" | wc -l)

# every seed alone first: a regression shows up as a crash on a known input
if build/bin/fuzz-sipmsg -runs=0 "$tmp/corpus" >"$tmp/seeds.log" 2>&1; then
	ok "all $seeds seeds run clean"
else
	tail -n 30 "$tmp/seeds.log"; fail "a seed crashes the message path"
fi

timeout $((FUZZ_SECS + 60)) build/bin/fuzz-sipmsg -max_total_time="$FUZZ_SECS" \
	-timeout=10 -rss_limit_mb=2048 -max_len=66000 -print_final_stats=1 \
	-artifact_prefix="$tmp/art/" "$tmp/corpus" >"$tmp/fuzz.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/fuzz.log")
if [ $rc -eq 0 ] && [ -z "$(ls "$tmp/art")" ]; then
	ok "fuzzed ${FUZZ_SECS}s: ${runs:-?} executions, no crash"
else
	tail -n 40 "$tmp/fuzz.log"
	ls -l "$tmp/art"
	fail "fuzzer found a problem (rc=$rc)"
fi
[ "${runs:-0}" -gt 1000 ] && ok "fuzzer made progress" || fail "fuzzer ran only ${runs:-0} inputs"

finish
