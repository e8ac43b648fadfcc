// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A deliberately drifted object for the layout test's negative case: the
 * same struct names as maps-schema/sipwall_maps.h with port and proto
 * swapped in sw_pinhole_key and one field too many in sw_stat.
 * test-btf-layout must fail on it. Never loaded.
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

struct sw_pinhole_key {
	__u8 addr[16];
	__u8 proto;
	__u8 pad;
	__be16 port;
};

struct sw_stat {
	__u64 packets;
	__u64 bytes;
	__u64 extra;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, struct sw_pinhole_key);
	__type(value, struct sw_stat);
} sw_pinholes SEC(".maps");

SEC("xdp")
int drift(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
