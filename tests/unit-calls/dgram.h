/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * SIP text in IPv4/IPv6 + UDP datagrams (no L2: what NFQUEUE hands sipd),
 * with real IP and UDP checksums, for the tests that feed
 * sipd_handle_packet().
 */
#ifndef SW_TESTS_DGRAM_H
#define SW_TESTS_DGRAM_H

#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include "msgs.h"

static inline size_t sip_text(char *buf, size_t cap, const char *start, const char *via_host,
			      const char *ftag, const char *ttag, unsigned int cseq,
			      const char *method, const char *cid, const char *sdp_ip, int sdp_v6,
			      unsigned int sdp_port)
{
	char body[512] = "";
	size_t n;

	if (sdp_ip)
		snprintf(body, sizeof(body),
			 "v=0\r\no=- 1 1 IN IP%d %s\r\ns=-\r\nc=IN IP%d %s\r\n"
			 "t=0 0\r\nm=audio %u RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n",
			 sdp_v6 ? 6 : 4, sdp_ip, sdp_v6 ? 6 : 4, sdp_ip, sdp_port);
	n = (size_t)snprintf(buf, cap,
			     "%s\r\n"
			     "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-%s-%u-%s\r\n"
			     "Max-Forwards: 70\r\n"
			     "From: <sip:alice@outside.example>;tag=%s\r\n"
			     "To: <sip:bob@inside.example>%s%s\r\n"
			     "Call-ID: %s\r\n"
			     "CSeq: %u %s\r\n"
			     "Contact: <sip:alice@%s>\r\n"
			     "%s"
			     "Content-Length: %zu\r\n\r\n%s",
			     start, via_host, ftag, cseq, method, ftag, ttag ? ";tag=" : "",
			     ttag ? ttag : "", cid, cseq, method, via_host,
			     sdp_ip ? "Content-Type: application/sdp\r\n" : "", strlen(body), body);
	return n;
}

static inline uint16_t csum16(const uint8_t *p, size_t n)
{
	uint32_t s = 0;
	size_t i;

	for (i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* IPv4 or IPv6 + UDP around payload (no L2: what NFQUEUE hands sipd). */
static inline size_t ip_udp(uint8_t *out, const char *src, const char *dst, const char *pl,
			    size_t plen)
{
	uint8_t s[16], d[16];
	size_t hl, ulen = 8 + plen;
	int v6 = strchr(src, ':') != NULL;
	uint8_t *u;

	t_addr(src, s);
	t_addr(dst, d);
	memset(out, 0, 48);
	if (v6) {
		hl = 40;
		out[0] = 0x60;
		out[4] = (uint8_t)(ulen >> 8);
		out[5] = (uint8_t)ulen;
		out[6] = IPPROTO_UDP;
		out[7] = 64;
		memcpy(out + 8, s, 16);
		memcpy(out + 24, d, 16);
	} else {
		hl = 20;
		out[0] = 0x45;
		out[2] = (uint8_t)((hl + ulen) >> 8);
		out[3] = (uint8_t)(hl + ulen);
		out[8] = 64;
		out[9] = IPPROTO_UDP;
		memcpy(out + 12, s + 12, 4);
		memcpy(out + 16, d + 12, 4);
		uint16_t c = csum16(out, 20);
		out[10] = (uint8_t)(c >> 8);
		out[11] = (uint8_t)c;
	}
	u = out + hl;
	u[0] = 5060 >> 8;
	u[1] = 5060 & 0xff;
	u[2] = 5060 >> 8;
	u[3] = 5060 & 0xff;
	u[4] = (uint8_t)(ulen >> 8);
	u[5] = (uint8_t)ulen;
	memcpy(u + 8, pl, plen);
	{
		/* the real UDP checksum: sipd verifies it */
		uint8_t ph[4096 + 48];
		size_t pn = 0;
		uint16_t c;

		memcpy(ph, v6 ? out + 8 : out + 12, v6 ? 32 : 8);
		pn = v6 ? 32 : 8;
		ph[pn++] = 0;
		ph[pn++] = IPPROTO_UDP;
		ph[pn++] = (uint8_t)(ulen >> 8);
		ph[pn++] = (uint8_t)ulen;
		memcpy(ph + pn, u, ulen);
		c = csum16(ph, pn + ulen);
		if (!c)
			c = 0xffff;
		u[6] = (uint8_t)(c >> 8);
		u[7] = (uint8_t)c;
	}
	return hl + ulen;
}

#endif /* SW_TESTS_DGRAM_H */
