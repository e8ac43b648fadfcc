/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The seam between packet sources (NFQUEUE inline, AF_PACKET passive, pcap
 * replay) and the SIP logic. Every source hands whole IP datagrams carrying
 * UDP to sipd_handle_packet() and applies the verdict it returns, after the
 * map writes it made, so a pinhole exists before the message is released.
 */
#ifndef SIPD_SIPD_H
#define SIPD_SIPD_H

#include <stddef.h>
#include <stdint.h>

#include "sipwall_maps.h"

struct sipd;		/* daemon state: config, dialogs, maps, event sink */
struct sipd_config;	/* parsed sipd.json (config.h) */

enum sipd_verdict {
	SIPD_ACCEPT = 1,
	SIPD_DROP = 0,
};

/*
 * ip/len: one IPv4 or IPv6 datagram (no L2 header) with a UDP payload.
 * now_ns: CLOCK_MONOTONIC, or the capture's clock in replay.
 * *why is set to the named reason (SW_SIP_R_ACCEPTED when accepted).
 */
enum sipd_verdict sipd_handle_packet(struct sipd *d, const uint8_t *ip,
				     size_t len, uint64_t now_ns,
				     enum sw_sip_reason *why);

/* Periodic work: idle/max-duration/silent-dialog expiry, BYE grace. */
void sipd_tick(struct sipd *d, uint64_t now_ns);

#endif /* SIPD_SIPD_H */
