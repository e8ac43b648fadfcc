// SPDX-License-Identifier: GPL-2.0-only
/*
 * bench/gen: the benchmark's in-kernel traffic source and its two helpers.
 *
 * swgen_xdp runs under BPF_PROG_TEST_RUN with BPF_F_TEST_XDP_LIVE_FRAMES: the
 * kernel hands it pages from a recycled pool (whatever the previous run left
 * in them), so it rewrites the whole frame from the template, picks the
 * destination, fixes both checksums (conntrack checks UDP's) and redirects
 * out of the generator's veth. swgen_drop is the floor (drops without
 * reading the packet); swgen_sink drops generated frames at the sink so the
 * sink's stack never sees them, and passes everything else.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "bench/gen/swgen.h"

const volatile struct swgen_params swgen = {};

static __always_inline __u16 csum_fold(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

SEC("xdp")
int swgen_xdp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *udp = (void *)(ip + 1);
	__u16 *w;
	__u32 i = 0, s, daddr;
	__u16 dport, sport;
	int k;

	if (data + SWGEN_FRAME_LEN > end)
		return XDP_ABORTED;

		/* 60 bytes: seven 8-byte words and one 4-byte word. */
#pragma unroll
	for (k = 0; k < 7; k++)
		((__u64 *)data)[k] = ((const volatile __u64 *)swgen.frame)[k];
	((__u32 *)data)[14] = ((const volatile __u32 *)swgen.frame)[14];

	if (swgen.n > 1)
		i = bpf_get_prandom_u32() % swgen.n;
	daddr = swgen.daddr + i / swgen.per_addr;
	dport = swgen.dport + i % swgen.per_addr;
	sport = swgen.sport;
	if (swgen.sport_span)
		sport += bpf_get_prandom_u32() % swgen.sport_span;

	ip->daddr = bpf_htonl(daddr);
	ip->check = 0;
	udp->dest = bpf_htons(dport);
	udp->source = bpf_htons(sport);
	udp->check = 0;

	s = 0;
	w = (__u16 *)ip;
#pragma unroll
	for (k = 0; k < 10; k++)
		s += w[k];
	ip->check = csum_fold(s);

	/* Pseudo header (addresses, protocol, UDP length), header, payload. */
	s = bpf_htons(IPPROTO_UDP) + udp->len;
#pragma unroll
	for (k = 6; k < 10; k++)
		s += w[k];
	w = (__u16 *)udp;
#pragma unroll
	for (k = 0; k < (8 + SWGEN_PAYLOAD_LEN) / 2; k++)
		s += w[k];
	udp->check = csum_fold(s) ?: 0xffff;

	return bpf_redirect(swgen.ifindex, 0);
}

SEC("xdp")
int swgen_drop(struct xdp_md *ctx)
{
	return XDP_DROP;
}

/* The floor of any program that looks at the packet: read one word of the
 * frame's first cache line (the UDP destination port, byte 36 of an
 * untagged IPv4 frame) and drop. What it costs over swgen_drop is the
 * frame's first line arriving in this CPU's cache, which no filter can
 * avoid. */
SEC("xdp")
int swgen_touch(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u16 *w = data + 36;

	if ((void *)(w + 1) > end)
		return XDP_DROP;
	/* data-dependent, so the read stays (no frame has this port) */
	return *(volatile __u16 *)w == 0xfffe ? XDP_PASS : XDP_DROP;
}

SEC("xdp")
int swgen_sink(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	__u32 *magic = (void *)ip + sizeof(*ip) + sizeof(struct udphdr);

	if ((void *)(magic + 1) > end)
		return XDP_PASS;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->ihl != 5 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	return *magic == SWGEN_MAGIC ? XDP_DROP : XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
