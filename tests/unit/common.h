/* SPDX-License-Identifier: GPL-2.0-only */
/* Shared pieces of the sipd parser unit tests: a well-formed INVITE built
 * from one macro per line, so a test changes exactly one thing. */
#ifndef SW_TESTS_UNIT_COMMON_H
#define SW_TESTS_UNIT_COMMON_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sipd/sipmsg.h"
#include "sipd/sdp.h"

#define L_INV	  "INVITE sip:bob@example.com SIP/2.0\r\n"
#define L_VIA	  "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK776asdhds\r\n"
#define L_MF	  "Max-Forwards: 70\r\n"
#define L_TO	  "To: Bob <sip:bob@example.com>\r\n"
#define L_FROM	  "From: Alice <sip:alice@example.org>;tag=1928301774\r\n"
#define L_CID	  "Call-ID: a84b4c76e66710@pc33.example.org\r\n"
#define L_CSEQ	  "CSeq: 314159 INVITE\r\n"
#define L_CONTACT "Contact: <sip:alice@pc33.example.org>\r\n"
#define L_CL0	  "Content-Length: 0\r\n"
#define STD	  L_VIA L_MF L_TO L_FROM L_CID L_CSEQ L_CONTACT
#define END	  "\r\n"

#define SDP_V4                                               \
	"v=0\r\n"                                            \
	"o=alice 2890844526 2890844526 IN IP4 192.0.2.1\r\n" \
	"s=-\r\n"                                            \
	"c=IN IP4 192.0.2.1\r\n"                             \
	"t=0 0\r\n"                                          \
	"m=audio 49170 RTP/AVP 0\r\n"                        \
	"a=rtpmap:0 PCMU/8000\r\n"

static struct sip_msg test_msg;

/* Parse with the default (strict) limits; returns 0 or -reason. */
static inline int parse_lim(const char *s, size_t len, const struct sip_limits *lim)
{
	int r = sipmsg_parse_datagram(s, len, lim, &test_msg, NULL);

	if (r)
		assert_true(test_msg.err_detail[0] != 0); /* a drop says why */
	return r;
}

static inline int parse(const char *s)
{
	struct sip_limits lim;

	sip_limits_default(&lim);
	return parse_lim(s, strlen(s), &lim);
}

/* headers (without Content-Length) + body with a correct Content-Length. */
static inline int parse_body(const char *hdrs, const char *ctype, const char *body)
{
	static char buf[65536];
	int n = snprintf(buf, sizeof(buf), "%sContent-Type: %s\r\nContent-Length: %zu\r\n\r\n%s",
			 hdrs, ctype, strlen(body), body);

	assert_true(n > 0 && (size_t)n < sizeof(buf));
	return parse(buf);
}

#endif
