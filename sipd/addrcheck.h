/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which addresses an SDP body may name as media endpoints, and on which side
 * they lie. A pinhole's destination and its allowed sources come from SDP,
 * so SDP from anyone could otherwise aim the firewall at loopback, multicast,
 * the firewall itself, or (from the outside) at any inside host.
 */
#ifndef SIPD_ADDRCHECK_H
#define SIPD_ADDRCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "sipd/config.h"
#include "sipd/host.h"
#include "sipd/sdp.h"

/* What an address (v4-mapped for IPv4) is, as far as a media endpoint or a
 * datagram source goes. stated_v4 0: an IPv4 address that the SDP wrote as
 * IN IP6 ::ffff:a.b.c.d (refused: one address, two spellings, and the sides
 * and families are judged by the spelling). */
enum sipd_addr_kind {
	SIPD_ADDR_UNICAST = 0, /* the only kind a media endpoint may be */
	SIPD_ADDR_UNSPECIFIED, /* 0.0.0.0/8, :: */
	SIPD_ADDR_LOOPBACK,
	SIPD_ADDR_LINK_LOCAL,
	SIPD_ADDR_MULTICAST,
	SIPD_ADDR_BROADCAST,
	SIPD_ADDR_RESERVED, /* 240.0.0.0/4 */
	SIPD_ADDR_V4_MAPPED,
	SIPD_ADDR_V4_COMPAT,
};
enum sipd_addr_kind sipd_addr_kind(const uint8_t addr[16], int stated_v4);
const char *sipd_addr_kind_name(enum sipd_addr_kind k);

/*
 * One stream of an SDP body that carries media (port != 0, not on hold):
 * its address and a=rtcp address are not special, not the firewall's own,
 * a=rtcp stays on the RTP address's family and side, and an inside address
 * is named only by a message from the inside (from_inside). 0,
 * -SW_SIP_R_BAD_MEDIA_ADDRESS or -SW_SIP_R_WRONG_SIDE with detail filled.
 */
int sipd_media_check(const struct sdp_media *md, const struct sipd_config *cfg,
		     const struct sipd_host *h, int from_inside, char *detail, size_t len);

#endif /* SIPD_ADDRCHECK_H */
