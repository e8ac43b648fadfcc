#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The benchmarks end to end, once, short (bench/compare --quick, bench/phmem and
# bench/sipd-throughput --quick, about a minute): they must print their tables
# with numbers, so the harness cannot rot. The numbers are not judged here.
. "$(dirname "$0")/../lib.sh"
need_root
cd "$SW_TOP" || exit 1
for b in swgen sipd-tput sipwall sipd; do
	[ -x "build/bin/$b" ] || { echo "skip: build/bin/$b not built (make all)"; exit 77; }
done
for t in nft conntrack sipp ethtool; do
	command -v $t >/dev/null || { echo "skip: $t not installed (scripts/deps.sh)"; exit 77; }
done
[ "$(nproc)" -ge 2 ] || { echo "skip: needs 2 CPUs"; exit 77; }

T=${SW_TEST_TMP:-$(mktemp -d)}
# Pin directories present before this run belong to someone else.
ourpins() { ls -d /sys/fs/bpf/sipwall-bench-* /sys/fs/bpf/sipwall-tput-* 2>/dev/null | sort; }
ourpins >"$T/pins.before"
labns() { ip netns list | awk '{print $1}' | grep -E -- '-b[ofi]$' | sort; }
labns >"$T/ns.before"
out=$T/compare.out
timeout 240 bench/compare --quick --out "$T/compare.md" >"$out" 2>"$T/compare.err"
rc=$?
expect_eq "bench/compare --quick exits 0" "$rc" 0
[ "$rc" -eq 0 ] || tail -n 20 "$T/compare.err"
num='[0-9]+ \[[0-9]+-[0-9]+\]'
check "table: unsolicited media row, both floors, sipwall, helper, sets and forward measured" \
	grep -Eq "^\| unsolicited media, ns/pkt, 1 pinhole \| $num \([0-9.]+x\) \| $num \([0-9.]+x\) \| $num \(1\.00x\) \| $num \([0-9.]+x\) \| $num \([0-9.]+x\) \| $num \([0-9.]+x\) \|$" "$out"
check "table: pinhole row for sipwall, helper, sets and forward" \
	grep -Eq "^\| media through a pinhole, ns/pkt, 1 pinhole \| - \| - \| $num \(1\.00x\) \| $num \([0-9.]+x\) \| $num \([0-9.]+x\) \| $num \([0-9.]+x\) \|$" "$out"
check "table: 1,000 pinholes row (sipwall and sets)" \
	grep -Eq "^\| unsolicited media, ns/pkt, 1,000 pinholes \| - \| - \| $num \(1\.00x\) \| n/a \| $num" "$out"
check "table: install latency for sipwall and helper" \
	grep -Eq "^\| pinhole install latency p50, us [^|]*\| - \| - \| [0-9]+ \| [0-9]+ \| n/a \| n/a \|$" "$out"
check "table: SIPp calls/s with 0 failed for sipwall and helper" \
	grep -Eq "^\| SIPp calls/s [^|]*\| - \| - \| [0-9]+ offered, [0-9.]+ sustained \([0-9]+ calls, 0 failed\) \| [0-9]+ offered" "$out"
check "targets listed" grep -q "unsolicited media: helper / sipwall >= 5: [0-9.]* -> " "$out"
check "issue 15's targets listed" \
	grep -q "media through a pinhole with --forward >= 3x cheaper than the nft set, 1 pinhole (sets / forward): [0-9.]* -> " "$out"
check "no sanity check failed (flood never forwarded, pinhole media forwarded)" \
	bash -c "! grep -q '^FAIL' '$out'"
check "--out wrote the same table" cmp -s "$out" "$T/compare.md"
check "issue 16's p99 install latency target listed" \
	grep -Eq "^- install latency: sipwall p99 <= 2x helper p99 .*: [0-9a-z.]+ -> (met|MISSED)$" "$out"
check "unsolicited media against the first-line-read floor listed" \
	grep -Eq "^- \(no target\) unsolicited media: sipwall / first-line-read floor, 1 pinhole: [0-9.]+$" "$out"

# Kernel memory per pinhole (small N here; docs/benchmarks.md has 10^6).
out=$T/phmem.out
timeout 120 bench/phmem 20000 4 >"$out" 2>"$T/phmem.err"
expect_eq "bench/phmem 20000 4 exits 0" "$?" 0
check "phmem: memlock per map, slab and slab+vmalloc growth, 4 pinholes per call" \
	grep -Eq "^4 +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +-?[0-9.]+ +-?[0-9.]+$" "$out"
check "phmem: the same with --prealloc" \
	grep -Eq "^4 prealloc +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +-?[0-9.]+ +-?[0-9.]+$" "$out"
check "phmem: issue 15's memory targets, default and --prealloc" \
	test "$(grep -Ec '^- kernel memory per pinhole at 20000 pinholes, 4 per call, .* <= 200 B.*: -?[0-9]+ -> (met|MISSED)$' "$out")" = 4
check "phmem: no namespace or pin root left" \
	bash -c "! ip netns list | grep -q '^sw-phmem-' && ! ls -d /sys/fs/bpf/sipwall-phmem-* 2>/dev/null | grep -q ."

# --latency-only: the install latency rows and targets, no packet costs, exit 0.
out=$T/lat.out
timeout 120 bench/compare --latency-only --reps 1 --lat-calls 3 >"$out" 2>"$T/lat.err"
rc=$?
expect_eq "bench/compare --latency-only exits 0" "$rc" 0
[ "$rc" -eq 0 ] || tail -n 20 "$T/lat.err"
check "latency-only: sipwall and helper latency measured" \
	grep -Eq "^\| pinhole install latency p50, us [^|]*\| - \| - \| [0-9]+ \| [0-9]+ \| n/a \| n/a \|$" "$out"
check "latency-only: no packet cost measured" \
	bash -c "! grep -q 'compare: rep 1 .* ns/pkt' '$T/lat.err'"
check "latency-only: the p50 target as a met/MISSED line" \
	grep -Eq "^- install latency: sipwall p50 <= helper p50 .* -> (met|MISSED)$" "$out"

# sipd-tput -l: memory per live call.
out=$T/live.out
timeout 60 build/bin/sipd-tput -l 200 >"$out" 2>&1
expect_eq "sipd-tput -l 200 exits 0" "$?" 0
check "sipd-tput -l: heap and map bytes per live call" \
	grep -Eq "^sipd heap per live call .*: [0-9]+ bytes" "$out"
check "sipd-tput -l: the steady state once the setup transactions expired" \
	grep -Eq "^sipd heap per live call 40 s later .*: [0-9]+ bytes" "$out"

# sipd-tput -w: two worker threads on one sipd; it fails unless every
# message was accepted and every call opened and closed its pinholes.
out=$T/workers.out
timeout 120 build/bin/sipd-tput -w 2 -c 300 -n 2 >"$out" 2>&1
expect_eq "sipd-tput -w 2 exits 0 (exact counts after both threads)" "$?" 0
check "sipd-tput -w 2: the issue-16 worker target as a met/MISSED line" \
	grep -Eq "^- sipd-tput with 2 workers >= 1.7x the messages/s of 1 worker: [0-9.]+ .* -> (met|MISSED)$" "$out"
# The same under ThreadSanitizer: what the workers share is touched only
# under sipd's lock (sipd.h sipd_worker_handle).
if ! command -v clang >/dev/null; then
	skip "ThreadSanitizer build of sipd-tput: clang not installed"
elif ! make -s SAN=thread build-tsan/bin/sipd-tput >"$T/tsan.build" 2>&1; then
	tail -20 "$T/tsan.build"
	fail "ThreadSanitizer build of sipd-tput"
else
	TSAN_OPTIONS="halt_on_error=1 exitcode=66" timeout 300 build-tsan/bin/sipd-tput -w 2 -c 200 -n 2 \
		>"$out" 2>&1
	rc=$?
	[ "$rc" -eq 0 ] || grep -A30 -m1 "ThreadSanitizer" "$out" | head -40
	expect_eq "sipd-tput -w 2 under ThreadSanitizer: no data race, exact counts" "$rc" 0
fi

# sipd-tput -R -A: issue 17's SIP-path cost of replication, one process,
# replication attached and detached in alternating phases. It fails unless
# Redis took every record of the "on" phases and every call ended.
expect_eq "sipd-tput -A without -R is refused (exit 2)" \
	"$(build/bin/sipd-tput -A -c 10 -n 1 >/dev/null 2>"$T/alt.err"; echo $?)" 2
check "  ... naming what is missing" grep -q -- "-A needs -R HOST:PORT" "$T/alt.err"
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	rport=$(( (RANDOM % 20000) + 30000 ))
	mkdir -p "$T/redis"
	redis-server --bind 127.0.0.1 --port $rport --save "" --appendonly no --dir "$T/redis" \
		--daemonize no >"$T/redis.log" 2>&1 &
	rpid=$!
	trap 'kill $rpid 2>/dev/null' EXIT
	for _ in $(seq 1 50); do redis-cli -p $rport ping >/dev/null 2>&1 && break; sleep 0.1; done
	out=$T/alt.out
	timeout 120 build/bin/sipd-tput -c 200 -n 3 -R 127.0.0.1:$rport -A >"$out" 2>"$T/alt.err"
	expect_eq "sipd-tput -R -A exits 0 (every record published, every call ended)" "$?" 0
	check "sipd-tput -R -A: each round's on/off ratio" \
		grep -Eq "^on/off per round: [0-9.]+ \[[0-9.]+-[0-9.]+\]; records published 4800$" "$out"
	# -P: the SIP path on CPU 0, the cluster's threads on CPU 1 (cluster.cpu)
	timeout 120 build/bin/sipd-tput -c 100 -n 3 -R 127.0.0.1:$rport -A -P >"$out" 2>"$T/alt.err"
	expect_eq "sipd-tput -R -A -P exits 0" "$?" 0
	check "sipd-tput -R -A -P: each round's on/off ratio" \
		grep -Eq "^on/off per round: [0-9.]+ \[[0-9.]+-[0-9.]+\]; records published 2400$" "$out"
	kill $rpid 2>/dev/null
	wait $rpid 2>/dev/null
	timeout 30 build/bin/sipd-tput -c 10 -n 1 -R 127.0.0.1:$rport -A >/dev/null 2>"$T/alt.err"
	expect_eq "sipd-tput -R -A with no Redis there fails (exit 1)" "$?" 1
	check "  ... saying it is not connected" grep -q "not connected to Redis at 127.0.0.1:$rport" "$T/alt.err"
else
	skip "sipd-tput -R -A: redis-server not installed (scripts/deps.sh)"
fi

out=$T/sipd.out
timeout 180 bench/sipd-throughput --quick >"$out" 2>"$T/sipd.err"
expect_eq "bench/sipd-throughput --quick exits 0" "$?" 0
ratio="[0-9.]+ \[[0-9.]+-[0-9.]+\]"
check "sipd vs bare libosip2 messages/s" \
	grep -Eq "^\| sipd_handle_packet \(whole path, real maps\) \| $num \| $ratio \|$" "$out"
check "sipd with the calls' ends vs bare libosip2" \
	grep -Eq "^\| sipd_handle_packet \+ sipd_tick .* \| $num \| $ratio \|$" "$out"
check "pinhole install p50/p99" grep -Eq "^pinhole install .* p50 [0-9.]+ us, p99 [0-9.]+ us" "$out"
check "SIPp inline calls with 0 failed" grep -Eq "^highest rate with 0 failed calls: [0-9]+ calls/s" "$out"
check "sipd over TCP vs bare libosip2 messages/s" \
	grep -Eq "^\| sipd_handle_packet over TCP .* \| $num \| $ratio \|$" "$out"
check "SIPp inline calls over TCP with 0 failed" \
	grep -Eq "^highest TCP rate with 0 failed calls: [0-9]+ calls/s" "$out"
check "control API calls/s and answer latency" \
	grep -Eq "^control answer -> pinholes .* p50 [0-9.]+ us, p99 [0-9.]+ us" "$out"
check "issue 14's target as a met/MISSED line" \
	grep -Eq "^- ng control calls/s .*: [0-9]+ -> (met|MISSED)$" "$out"
check "issue 13's targets as met/MISSED lines" \
	test "$(grep -Ec '^- (TCP messages/s vs UDP|SIPp calls/s over TCP) .*: [0-9.]+ -> (met|MISSED)$' "$out")" -eq 2

# Nothing left behind: no lab namespace, no pin directory of ours.
labns >"$T/ns.after"
expect_eq "lab namespaces removed" "$(comm -13 "$T/ns.before" "$T/ns.after" | tr '\n' ' ')" ""
ourpins >"$T/pins.after"
expect_eq "pins removed" "$(comm -13 "$T/pins.before" "$T/pins.after" | tr '\n' ' ')" ""

check "bad option refused with exit 2" bash -c "bench/compare --reps 0 2>/dev/null; [ \$? -eq 2 ]"
check "unknown option named" bash -c "bench/compare --bogus 2>&1 | grep -q \"unknown option '--bogus'\""
[ -n "${SW_TEST_TMP:-}" ] || rm -rf "$T"
finish
