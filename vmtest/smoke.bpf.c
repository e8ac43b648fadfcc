// SPDX-License-Identifier: GPL-2.0-only
/* The smallest programs that prove a kernel can run sipwall's kind of data
 * path: an XDP and a TC ingress program that count what they see and pass it.
 * tests/suites/80-kernel-smoke.sh attaches them on a veth in every vmtest
 * guest, independently of bpf/sipwall.bpf.c.
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} smoke_xdp_cnt SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} smoke_tc_cnt SEC(".maps");

static __always_inline void smoke_count(void *map)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(map, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
}

SEC("xdp")
int smoke_xdp(struct xdp_md *ctx)
{
	smoke_count(&smoke_xdp_cnt);
	return XDP_PASS;
}

SEC("tc")
int smoke_tc(struct __sk_buff *skb)
{
	smoke_count(&smoke_tc_cnt);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
