#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: yes
# BPF_PROG_TEST_RUN packet tables for sipwall_xdp, sipwall_tc_in and the
# sipwall_tc_eg learner (tests/bpf/packets.c), incl. 10^6 pinholes. Each
# table row counts as one check here.
. "$(dirname "$0")/../lib.sh"
need_root
cd "$SW_TOP"

bin=build/bin/test-bpf-packets
if [ ! -x "$bin" ] && [ -w . ]; then
	make -s "$bin" >/dev/null || { fail "build $bin"; finish; exit 1; }
fi
[ -x "$bin" ] || { fail "$bin missing (build it on the host first)"; finish; exit 1; }
mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf

out=$("$bin" -v 2>&1)
rc=$?
printf '%s\n' "$out" | grep -E '^(ok|FAIL|skip) - |^test-bpf-packets: '
if [[ $(printf '%s\n' "$out" | tail -n 1) =~ ^test-bpf-packets:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
	SW_PASS=$((SW_PASS + BASH_REMATCH[1]))
	SW_FAIL=$((SW_FAIL + BASH_REMATCH[2]))
	SW_SKIP=$((SW_SKIP + BASH_REMATCH[3]))
	[ "$rc" -eq 0 ] || [ "${BASH_REMATCH[2]}" -gt 0 ] || fail "$bin exited $rc"
else
	printf '%s\n' "$out" | tail -n 20
	fail "$bin did not finish (rc $rc)"
fi
root=$(printf '%s\n' "$out" | sed -n 's/^pin root //p')
if [ -n "$root" ]; then
	check "private pin root $root removed" test ! -e "$root"
else
	fail "test program did not name its pin root"
fi
finish
