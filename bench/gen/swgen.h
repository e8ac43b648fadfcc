/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The live-frames generator's contract between its XDP program and its
 * loader (bench/gen/swgen.c). One 60-byte IPv4/UDP frame template; per frame
 * the program picks i in [0, n) and sends to daddr + i / per_addr,
 * dport + i % per_addr, from sport (+ a random offset below sport_span).
 */
#ifndef SW_BENCH_SWGEN_H
#define SW_BENCH_SWGEN_H

#include <linux/types.h>

#define SWGEN_FRAME_LEN	  60 /* 14 Ethernet + 20 IPv4 + 8 UDP + 18 payload */
#define SWGEN_PAYLOAD_LEN 18
#define SWGEN_MAGIC	  0x4e475753u /* "SWGN" in memory order: the sink drops it */

struct swgen_params {
	__u8 frame[64];	  /* template; checksums are recomputed per frame */
	__u32 ifindex;	  /* redirect target (the generator's veth) */
	__u32 n;	  /* destinations to spread over (>= 1) */
	__u32 per_addr;	  /* destinations per address (ports), >= 1 */
	__u32 daddr;	  /* first destination address, host order */
	__u16 dport;	  /* first destination port, host order */
	__u16 sport;	  /* source port, host order */
	__u16 sport_span; /* 0: fixed source port */
	__u16 pad;
};

#endif /* SW_BENCH_SWGEN_H */
