#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: yes
# BPF_PROG_TEST_RUN packet tables for sipwall_xdp, sipwall_tc_in and the
# sipwall_tc_eg learner (tests/bpf/packets.c), incl. 10^6 pinholes, and
# XDP forwarding (-f) in a namespace with routes and neighbours. Each table
# row counts as one check here.
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

# XDP forwarding: the FIB lookups of BPF_PROG_TEST_RUN run in the caller's
# namespace, so the forward table runs in one made here (the addressing
# test_forward() in tests/bpf/packets.c expects).
FNS=sw-t20-$(sw_tag)
fwd_down() { ip netns del "$FNS" 2>/dev/null; }
trap fwd_down EXIT
trap 'exit 130' INT TERM
fwd_up() {
	local n i
	ip netns add "$FNS" || return 1
	fn() { nsenter --net="/run/netns/$FNS" "$@"; }
	fn ip link set lo up
	fn sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
		net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 >/dev/null || return 1
	for i in a:1 b:2 c:5 d:6; do
		n=${i#*:}
		fn ip link add fw${i%:*}0 type veth peer name fw${i%:*}1 || return 1
		fn ip link set fw${i%:*}0 up && fn ip link set fw${i%:*}1 up || return 1
		fn ip addr add 10.77.$n.1/24 dev fw${i%:*}0 || return 1
		fn ip -6 addr add fd77:$n::1/64 dev fw${i%:*}0 nodad || return 1
		[ "$n" = 1 ] && continue
		fn ip neigh replace 10.77.$n.2 lladdr 02:77:00:00:0$n:02 nud permanent dev fw${i%:*}0 &&
			fn ip -6 neigh replace fd77:$n::2 lladdr 02:77:00:00:0$n:02 nud permanent \
				dev fw${i%:*}0 || return 1
	done
	fn ip link set fwb0 mtu 1400 || return 1
	fn sysctl -qw net.ipv4.conf.fwc0.forwarding=0 >/dev/null || return 1
	fn ip route add 10.77.3.0/24 via 10.77.2.3 && fn ip -6 route add fd77:3::/64 via fd77:2::3 &&
		fn ip route add blackhole 10.77.4.0/24 && fn ip -6 route add blackhole fd77:4::/64 &&
		fn ip route add 10.77.7.0/24 via 10.77.2.2 &&
		fn ip -6 route add fd77:7::/64 via fd77:2::2 &&
		fn ip route add 10.77.7.0/24 via 10.77.6.2 table 177 &&
		fn ip -6 route add fd77:7::/64 via fd77:6::2 table 177 &&
		fn ip rule add from 10.9.9.77 lookup 177 &&
		fn ip -6 rule add from fd00::77 lookup 177 || return 1
}
if fwd_up; then
	fout=$(nsenter --net="/run/netns/$FNS" "$bin" -v -f 2>&1)
	frc=$?
	printf '%s\n' "$fout" | grep -E '^(ok|FAIL|skip) - |^test-bpf-packets: '
	if [[ $(printf '%s\n' "$fout" | tail -n 1) =~ ^test-bpf-packets:\ ([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
		SW_PASS=$((SW_PASS + BASH_REMATCH[1]))
		SW_FAIL=$((SW_FAIL + BASH_REMATCH[2]))
		SW_SKIP=$((SW_SKIP + BASH_REMATCH[3]))
		[ "$frc" -eq 0 ] || [ "${BASH_REMATCH[2]}" -gt 0 ] || fail "$bin -f exited $frc"
	else
		printf '%s\n' "$fout" | tail -n 20
		fail "$bin -f did not finish (rc $frc)"
	fi
else
	fail "forwarding test namespace setup"
fi
fwd_down
if [ -n "$root" ]; then
	check "private pin root $root removed" test ! -e "$root"
else
	fail "test program did not name its pin root"
fi
finish
