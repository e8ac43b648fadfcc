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

/* Why addr (v4-mapped for IPv4) can never be a unicast media endpoint:
 * "loopback", "multicast", ... or NULL if it can. stated_v4 0: an IPv4
 * address that the SDP wrote as IN IP6 ::ffff:a.b.c.d (refused: one
 * address, two spellings, and the sides and families are judged by the
 * spelling). */
const char *sipd_addr_special(const uint8_t addr[16], int stated_v4);

/* Why a datagram source can never be genuine (multicast, broadcast,
 * unspecified, ...), or NULL. Loopback is judged by the caller. */
const char *sipd_src_special(const uint8_t addr[16]);

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
