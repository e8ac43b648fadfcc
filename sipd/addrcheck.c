// SPDX-License-Identifier: GPL-2.0-only
/* Media addresses SDP may name (addrcheck.h). */
#include <stdio.h>
#include <string.h>

#include "lib/swmap.h"
#include "sipd/addrcheck.h"

static int v6_prefix(const uint8_t a[16], const uint8_t *p, unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;

	if (memcmp(a, p, full))
		return 0;
	return !rest || !((a[full] ^ p[full]) & (uint8_t)(0xff << (8 - rest)));
}

enum sipd_addr_kind sipd_addr_kind(const uint8_t a[16], int stated_v4)
{
	static const uint8_t zero[16], ll[2] = {0xfe, 0x80};

	if (sw_addr_is_v4(a)) {
		const uint8_t *v = a + 12;

		if (!stated_v4)
			return SIPD_ADDR_V4_MAPPED;
		if (v[0] == 0)
			return SIPD_ADDR_UNSPECIFIED;
		if (v[0] == 127)
			return SIPD_ADDR_LOOPBACK;
		if (v[0] == 169 && v[1] == 254)
			return SIPD_ADDR_LINK_LOCAL;
		if (v[0] >= 224 && v[0] <= 239)
			return SIPD_ADDR_MULTICAST;
		if (v[0] == 255 && v[1] == 255 && v[2] == 255 && v[3] == 255)
			return SIPD_ADDR_BROADCAST;
		if (v[0] >= 240)
			return SIPD_ADDR_RESERVED;
		return SIPD_ADDR_UNICAST;
	}
	if (!memcmp(a, zero, 16))
		return SIPD_ADDR_UNSPECIFIED;
	if (!memcmp(a, zero, 15) && a[15] == 1)
		return SIPD_ADDR_LOOPBACK;
	if (!memcmp(a, zero, 12))
		return SIPD_ADDR_V4_COMPAT;
	if (a[0] == 0xff)
		return SIPD_ADDR_MULTICAST;
	if (v6_prefix(a, ll, 10))
		return SIPD_ADDR_LINK_LOCAL;
	return SIPD_ADDR_UNICAST;
}

const char *sipd_addr_kind_name(enum sipd_addr_kind k)
{
	static const char *const names[] = {
		[SIPD_ADDR_UNICAST] = "unicast",
		[SIPD_ADDR_UNSPECIFIED] = "unspecified",
		[SIPD_ADDR_LOOPBACK] = "loopback",
		[SIPD_ADDR_LINK_LOCAL] = "link-local",
		[SIPD_ADDR_MULTICAST] = "multicast",
		[SIPD_ADDR_BROADCAST] = "broadcast",
		[SIPD_ADDR_RESERVED] = "reserved (240.0.0.0/4)",
		[SIPD_ADDR_V4_MAPPED] = "IPv4-mapped IPv6 address",
		[SIPD_ADDR_V4_COMPAT] = "IPv4-compatible IPv6 address",
	};

	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static int bad(char *detail, size_t len, const char *what, const uint8_t a[16], const char *why)
{
	char s[64];

	sw_addr_format(a, s, sizeof(s));
	snprintf(detail, len, "%s %s: %s", what, s, why);
	return -SW_SIP_R_BAD_MEDIA_ADDRESS;
}

static int check_one(const uint8_t a[16], int stated_v4, const struct sipd_host *h,
		     const char *what, char *detail, size_t len)
{
	enum sipd_addr_kind k = sipd_addr_kind(a, stated_v4);

	if (k != SIPD_ADDR_UNICAST)
		return bad(detail, len, what, a, sipd_addr_kind_name(k));
	if (h && sipd_host_is_own(h, a))
		return bad(detail, len, what, a, "an address of the firewall itself");
	return 0;
}

int sipd_media_check(const struct sdp_media *md, const struct sipd_config *cfg,
		     const struct sipd_host *h, int from_inside, char *detail, size_t len)
{
	static const uint8_t zero[16];
	char a[64];
	int err;

	if (!md->port || md->hold_addr)
		return 0;
	err = check_one(md->addr, !md->addr_v6_mapped, h, "media address", detail, len);
	if (err)
		return err;
	if (!from_inside && sipd_config_is_inside(cfg, md->addr)) {
		sw_addr_format(md->addr, a, sizeof(a));
		snprintf(detail, len,
			 "media address %s is inside (networks.inside) but the SDP came from "
			 "outside",
			 a);
		return -SW_SIP_R_WRONG_SIDE;
	}
	/* Checked with rtcp-mux too: a peer that does not mux uses it. */
	if (!memcmp(md->rtcp_addr, md->addr, 16) || !memcmp(md->rtcp_addr, zero, 16))
		return 0;
	/* a=rtcp carries its own family; an IPv4 one is stored v4-mapped. */
	err = check_one(md->rtcp_addr, !md->rtcp_v6_mapped, h, "a=rtcp address", detail, len);
	if (err)
		return err;
	if (sw_addr_is_v4(md->rtcp_addr) != sw_addr_is_v4(md->addr))
		return bad(detail, len, "a=rtcp address", md->rtcp_addr,
			   "not the family of the stream's c= address");
	if (sipd_config_is_inside(cfg, md->rtcp_addr) != sipd_config_is_inside(cfg, md->addr))
		return bad(detail, len, "a=rtcp address", md->rtcp_addr,
			   "not on the side of the stream's c= address");
	return 0;
}
