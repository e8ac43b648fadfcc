#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A brief libFuzzer run (45 s) over sipd's message path under ASan+UBSan,
# seeded with tests/unit/msgs and, when present, the shared SIP corpora
# (copied to a temp dir), then 20 s each of the IP fragment reassembler and
# the TCP/WebSocket stream framer. Fails on any crash, sanitizer report, leak or
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

# sipd/reasm.c (passive mode hands it fragments off the wire): a shorter run,
# seeded with one IPv4 and one IPv6 datagram in two fragments each (records of
# tests/fuzz/fuzz_reasm.c: flags, id, offset/8 (2), length-1 (2), fill, clock).
REASM_SECS=${SW_FUZZ_REASM_SECS:-20}
if make -s build/bin/fuzz-reasm >"$tmp/build.log" 2>&1; then
	ok "build reassembly fuzz harness"
	mkdir -p "$tmp/rcorpus" "$tmp/rart"
	printf '\004\000\000\000\017\000\101\000\000\000\002\000\007\000\102\000' \
		>"$tmp/rcorpus/v4-two"
	printf '\007\001\000\000\017\000\103\000\003\001\002\000\007\000\104\000' \
		>"$tmp/rcorpus/v6-ext-two"
	timeout $((REASM_SECS + 60)) build/bin/fuzz-reasm -max_total_time="$REASM_SECS" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$tmp/rart/" "$tmp/rcorpus" >"$tmp/rfuzz.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/rfuzz.log")
	if [ $rc -eq 0 ] && [ -z "$(ls "$tmp/rart")" ] && [ "${runs:-0}" -gt 1000 ]; then
		ok "fuzzed reassembly ${REASM_SECS}s: ${runs} executions, no crash"
	else
		tail -n 40 "$tmp/rfuzz.log"
		ls -l "$tmp/rart"
		fail "reassembly fuzzer found a problem or made no progress (rc=$rc, ${runs:-0} runs)"
	fi
else
	cat "$tmp/build.log"; fail "build reassembly fuzz harness"
fi

# sipd/stream.c (SIP over TCP and WebSocket, segments off the wire): 20 s,
# seeded with a request and its response on a plain connection and a
# WebSocket handshake with one frame (records of tests/fuzz/fuzz_stream.c:
# op, flags, where (2), length-1 (2), chunk, clock).
STREAM_SECS=${SW_FUZZ_STREAM_SECS:-20}
if make -s build/bin/fuzz-stream >"$tmp/build.log" 2>&1; then
	ok "build stream fuzz harness"
	mkdir -p "$tmp/scorpus" "$tmp/sart"
	printf '\000\000\000\000\377\000\020\000\004\000\000\000\177\000\320\000' \
		>"$tmp/scorpus/tcp-request-response"
	printf '\002\000\000\000\377\000\000\000\006\000\000\000\177\000\000\000\002\000\000\000\377\000\020\000' \
		>"$tmp/scorpus/ws-handshake-frame"
	timeout $((STREAM_SECS + 60)) build/bin/fuzz-stream -max_total_time="$STREAM_SECS" \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$tmp/sart/" "$tmp/scorpus" >"$tmp/sfuzz.log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/sfuzz.log")
	if [ $rc -eq 0 ] && [ -z "$(ls "$tmp/sart")" ] && [ "${runs:-0}" -gt 1000 ]; then
		ok "fuzzed stream framing ${STREAM_SECS}s: ${runs} executions, no crash"
	else
		tail -n 40 "$tmp/sfuzz.log"
		ls -l "$tmp/sart"
		fail "stream fuzzer found a problem or made no progress (rc=$rc, ${runs:-0} runs)"
	fi
else
	cat "$tmp/build.log"; fail "build stream fuzz harness"
fi

finish
