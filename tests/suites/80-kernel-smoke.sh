#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: yes
# Kernel smoke test, run on the host and on every vmtest kernel: what sipwall's
# data path relies on is there (bpffs, BTF, veth, clsact, native XDP on veth)
# and an XDP and a TC program load on this kernel's verifier, attach and see
# real traffic between two namespaces.
. "$(dirname "$0")/../lib.sh"
need_root

tag=$(sw_tag)
ns1=sw-${tag}-a ns2=sw-${tag}-b
if1=${tag}a if2=${tag}b
own_tmp=
if [ -n "${SW_TEST_TMP:-}" ]; then
	tmp=$SW_TEST_TMP/kernel-smoke-$tag
	mkdir -p "$tmp"
else
	tmp=$(mktemp -d)
fi
own_tmp=$tmp
cleanup() {
	ip netns del "$ns1" 2>/dev/null
	ip netns del "$ns2" 2>/dev/null
	rm -rf "$own_tmp"
}
trap cleanup EXIT
in1() { nsenter --net="/run/netns/$ns1" "$@"; }
in2() { nsenter --net="/run/netns/$ns2" "$@"; }

# map_u64 MAP_ID: the counter at key 0 (maps carry BTF, so bpftool prints a number).
map_u64() {
	bpftool -j map lookup id "$1" key 0 0 0 0 2>/dev/null |
		sed -n 's/.*"value": *\([0-9][0-9]*\).*/\1/p'
}
# prog_map_id PROG_ID: the one map a smoke program uses.
prog_map_id() {
	bpftool prog show id "$1" 2>/dev/null | sed -n 's/.*map_ids \([0-9]*\).*/\1/p'
}

echo "# kernel $(uname -r)"
check "bpffs mounted at /sys/fs/bpf" mountpoint -q /sys/fs/bpf
check "kernel BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux

obj=$SW_TOP/build/obj/vmtest/smoke.bpf.o
if [ ! -f "$obj" ]; then
	if command -v clang >/dev/null; then
		clang -target bpf -O2 -g -I"/usr/include/$(uname -m)-linux-gnu" \
			-c "$SW_TOP/vmtest/smoke.bpf.c" -o "$tmp/smoke.bpf.o" && obj=$tmp/smoke.bpf.o
	fi
fi
if [ ! -f "$obj" ]; then
	skip "no smoke.bpf.o (make build/obj/vmtest/smoke.bpf.o) and no clang to build it"
	finish
	exit $?
fi

ip netns add "$ns1" && ip netns add "$ns2" || { fail "create namespaces"; finish; exit 1; }
# veth is a module on distribution kernels: this proves the modprobe path too.
check "veth pair across two namespaces" \
	ip link add "$if1" netns "$ns1" type veth peer name "$if2" netns "$ns2"
# One ip process per namespace: a process start costs up to a second under TCG.
ip -n "$ns1" -batch - <<<"addr add 10.201.0.1/24 dev $if1
link set $if1 up
link set lo up"
ip -n "$ns2" -batch - <<<"addr add 10.201.0.2/24 dev $if2
link set $if2 up
link set lo up"

check "native XDP program loads and attaches on veth" \
	ip -n "$ns2" link set dev "$if2" xdpdrv obj "$obj" sec xdp
xdp_id=$(ip -n "$ns2" -d link show dev "$if2" | sed -n 's/.*prog\/xdp id \([0-9]*\).*/\1/p')
check "veth reports the attached XDP program" test -n "$xdp_id"

check "clsact qdisc (sch_ingress)" tc -n "$ns2" qdisc add dev "$if2" clsact
check "TC ingress program loads and attaches (cls_bpf)" \
	tc -n "$ns2" filter add dev "$if2" ingress bpf direct-action obj "$obj" sec tc
tc_id=$(tc -n "$ns2" filter show dev "$if2" ingress | sed -n 's/.* id \([0-9]*\).*/\1/p' | head -n 1)

check "ping across the veth with both programs attached" \
	in1 busybox ping -c 3 -W 2 -q 10.201.0.2

xdp_n=0 tc_n=0
[ -z "$xdp_id" ] || xdp_n=$(map_u64 "$(prog_map_id "$xdp_id")")
[ -z "$tc_id" ] || tc_n=$(map_u64 "$(prog_map_id "$tc_id")")
check "XDP program counted the pings (${xdp_n:-none})" test "${xdp_n:-0}" -ge 3
check "TC program counted the pings (${tc_n:-none})" test "${tc_n:-0}" -ge 3

check "XDP program detaches" ip -n "$ns2" link set dev "$if2" xdpdrv off
finish
