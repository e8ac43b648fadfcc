// SPDX-License-Identifier: GPL-2.0-only
/* Strict validation: at least one message per drop reason of the parse path,
 * plus the grammar helpers of sipd/validate.c on their own. */
#include <stdlib.h>

#include "common.h"
#include "sipd/validate.h"

#define EXPECT(reason, msg) assert_int_equal(parse(msg), -SW_SIP_R_##reason)

static void t_accept_base(void **st)
{
	(void)st;
	assert_int_equal(parse(L_INV STD L_CL0 END), 0);
	assert_string_equal(test_msg.err_detail, "");
}

static void t_parse_error(void **st)
{
	(void)st;
	EXPECT(PARSE_ERROR, "");
	EXPECT(PARSE_ERROR, "\r\n\r\n");
	/* headers never end (RFC 4475 baddn as archived) */
	EXPECT(PARSE_ERROR, L_INV STD L_CL0);
	assert_non_null(strstr(test_msg.err_detail, "empty line"));
}

static void t_too_large(void **st)
{
	struct sip_limits lim;
	char *big = malloc(70000);

	(void)st;
	memset(big, 'a', 70000);
	sip_limits_default(&lim);
	assert_int_equal(parse_lim(big, 70000, &lim), -SW_SIP_R_TOO_LARGE);
	lim.max_msg_len = 100;
	assert_int_equal(parse_lim(L_INV STD L_CL0 END, strlen(L_INV STD L_CL0 END), &lim),
			 -SW_SIP_R_TOO_LARGE);
	free(big);
}

static void t_too_many_headers(void **st)
{
	static char buf[16384];
	size_t o;
	int i;

	(void)st;
	o = snprintf(buf, sizeof(buf), "%s", L_INV STD);
	for (i = 0; i < 130; i++)
		o += snprintf(buf + o, sizeof(buf) - o, "X-H%d: v\r\n", i);
	snprintf(buf + o, sizeof(buf) - o, "%s", L_CL0 END);
	EXPECT(TOO_MANY_HEADERS, buf);
}

static void t_line_too_long(void **st)
{
	static char buf[16384];
	size_t o;

	(void)st;
	o = snprintf(buf, sizeof(buf), "%sSubject: ", L_INV STD);
	memset(buf + o, 'x', 5000);
	o += 5000;
	snprintf(buf + o, sizeof(buf) - o, "\r\n%s", L_CL0 END);
	EXPECT(LINE_TOO_LONG, buf);
}

static void t_bad_start_line(void **st)
{
	(void)st;
	EXPECT(BAD_START_LINE, "INVITE  sip:bob@example.com SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_START_LINE, "INVITE sip:bob@example.com SIP/2.0 \r\n" STD L_CL0 END);
	EXPECT(BAD_START_LINE, "INVITE sip:bob@example.com; lr SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_START_LINE, "INV(TE sip:bob@example.com SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_START_LINE, " INVITE sip:bob@example.com SIP/2.0\r\n" STD L_CL0 END);
}

static void t_bad_version(void **st)
{
	(void)st;
	EXPECT(BAD_VERSION, "INVITE sip:bob@example.com SIP/3.0\r\n" STD L_CL0 END);
	EXPECT(BAD_VERSION, "SIP/2.1 200 OK\r\n" STD L_CL0 END);
}

static void t_bad_status(void **st)
{
	(void)st;
	EXPECT(BAD_STATUS, "SIP/2.0 4294967301 big\r\n" STD L_CL0 END);
	EXPECT(BAD_STATUS, "SIP/2.0 099 low\r\n" STD L_CL0 END);
	EXPECT(BAD_STATUS, "SIP/2.0 700 high\r\n" STD L_CL0 END);
	EXPECT(BAD_STATUS, "SIP/2.0 2x0 OK\r\n" STD L_CL0 END);
	assert_int_equal(parse("SIP/2.0 699 Top\r\n" STD L_CL0 END), 0);
	assert_int_equal(parse("SIP/2.0 100 \r\n" STD L_CL0 END), 0);
}

static void t_bad_cseq(void **st)
{
	(void)st;
	EXPECT(BAD_CSEQ,
	       L_INV L_VIA L_MF L_TO L_FROM L_CID "CSeq: 2147483648 INVITE\r\n" L_CL0 END);
	EXPECT(BAD_CSEQ, L_INV L_VIA L_MF L_TO L_FROM L_CID "CSeq: INVITE\r\n" L_CL0 END);
	EXPECT(BAD_CSEQ, L_INV L_VIA L_MF L_TO L_FROM L_CID "CSeq: 12\r\n" L_CL0 END);
	assert_int_equal(
		parse(L_INV L_VIA L_MF L_TO L_FROM L_CID "CSeq: 2147483647 INVITE\r\n" L_CL0 END),
		0);
	assert_int_equal(test_msg.cseq, 2147483647u);
}

static void t_cseq_method_mismatch(void **st)
{
	(void)st;
	EXPECT(CSEQ_METHOD_MISMATCH, "OPTIONS sip:bob@example.com SIP/2.0\r\n" STD L_CL0 END);
	assert_non_null(strstr(test_msg.err_detail, "OPTIONS"));
	/* methods are case-sensitive (RFC 3261 7.1) */
	EXPECT(CSEQ_METHOD_MISMATCH,
	       L_INV L_VIA L_MF L_TO L_FROM L_CID "CSeq: 1 invite\r\n" L_CL0 END);
}

static void t_bad_content_length(void **st)
{
	(void)st;
	EXPECT(BAD_CONTENT_LENGTH, L_INV STD "Content-Length: -1\r\n" END);
	EXPECT(BAD_CONTENT_LENGTH, L_INV STD "Content-Length: 0\r\nl: 0\r\n" END);
	EXPECT(BAD_CONTENT_LENGTH, L_INV STD "Content-Length: 1e3\r\n" END);
}

static void t_body_truncated(void **st)
{
	(void)st;
	EXPECT(BODY_TRUNCATED, L_INV STD "Content-Type: text/plain\r\n"
					 "Content-Length: 10\r\n" END "abc");
	EXPECT(BODY_TRUNCATED, L_INV STD "Content-Length: 99999999999999999999\r\n" END);
}

static void t_missing_header(void **st)
{
	(void)st;
	EXPECT(MISSING_HEADER, L_INV L_VIA L_MF L_TO L_FROM L_CSEQ L_CL0 END);
	assert_non_null(strstr(test_msg.err_detail, "Call-ID"));
	EXPECT(MISSING_HEADER, L_INV L_MF L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(MISSING_HEADER, L_INV L_VIA L_MF L_FROM L_CID L_CSEQ L_CL0 END);
	/* a body needs a Content-Type */
	EXPECT(MISSING_HEADER, L_INV STD "Content-Length: 3\r\n" END "abc");
	/* Max-Forwards may be absent (RFC 2543 peers, RFC 4475 inv2543) */
	assert_int_equal(parse(L_INV L_VIA L_TO L_FROM L_CID L_CSEQ L_CL0 END), 0);
	assert_int_equal(test_msg.max_forwards, -1);
}

static void t_duplicate_header(void **st)
{
	(void)st;
	EXPECT(DUPLICATE_HEADER, L_INV STD L_CID L_CL0 END);
	EXPECT(DUPLICATE_HEADER, L_INV STD "i: other@x\r\n" L_CL0 END);
	EXPECT(DUPLICATE_HEADER, L_INV STD "t: sip:carol@example.net\r\n" L_CL0 END);
	EXPECT(DUPLICATE_HEADER, L_INV STD "Max-Forwards: 5\r\n" L_CL0 END);
	/* Via and Contact may repeat */
	assert_int_equal(parse(L_INV STD L_CONTACT
			       "Via: SIP/2.0/UDP 192.0.2.9;branch=z9hG4bKx\r\n" L_CL0 END),
			 0);
}

static void t_bad_header(void **st)
{
	(void)st;
	EXPECT(BAD_HEADER, L_INV STD "No colon here\r\n" L_CL0 END);
	EXPECT(BAD_HEADER, L_INV STD "Bad Name: x\r\n" L_CL0 END);
	EXPECT(BAD_HEADER, L_INV STD "Date: Fri, 01 Jan 2010 16:00:00 EST\r\n" L_CL0 END);
	EXPECT(BAD_HEADER, L_INV STD "Contact: sip:a@b?Route=x\r\n" L_CL0 END);
	EXPECT(BAD_HEADER, L_INV STD "Contact: <sip:a@b>;;\r\n" L_CL0 END);
	EXPECT(BAD_HEADER, L_INV L_VIA L_MF L_TO L_FROM "Call-ID: a b\r\n" L_CSEQ L_CL0 END);
	EXPECT(BAD_HEADER, L_INV STD "Content-Type: sdp\r\nContent-Length: 3\r\n" END "v=0");
	EXPECT(BAD_HEADER, L_INV STD "Content-Type: multipart/mixed\r\n"
				     "Content-Length: 3\r\n" END "abc");
	{
		static const char ctl[] = L_INV STD "Subject: a\x01z\r\n" L_CL0 END;

		EXPECT(BAD_HEADER, ctl);
	}
	assert_int_equal(parse(L_INV STD "Date: Sat, 13 Nov 2010 23:29:00 GMT\r\n"
					 "Contact: *\r\n" L_CL0 END),
			 0);
}

static void t_bad_max_forwards(void **st)
{
	(void)st;
	EXPECT(BAD_MAX_FORWARDS,
	       L_INV L_VIA "Max-Forwards: 256\r\n" L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_MAX_FORWARDS,
	       L_INV L_VIA "Max-Forwards: -1\r\n" L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	assert_int_equal(
		parse(L_INV L_VIA "Max-Forwards: 0255\r\n" L_TO L_FROM L_CID L_CSEQ L_CL0 END), 0);
	assert_int_equal(test_msg.max_forwards, 255);
}

static void t_bad_via(void **st)
{
	(void)st;
	EXPECT(BAD_VIA, L_INV
	       "Via: SIP/2.0/UDP 192.0.2.15;;,;,,\r\n" L_MF L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_VIA, L_INV
	       "Via: SIP/1.0/UDP host;branch=z9hG4bK1\r\n" L_MF L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_VIA, L_INV "Via: SIP/2.0/UDP\r\n" L_MF L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_VIA,
	       L_INV "Via: SIP/2.0/UDP host:99999\r\n" L_MF L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_VIA,
	       L_INV "Via: SIP/2.0/UDP host;branch=\r\n" L_MF L_TO L_FROM L_CID L_CSEQ L_CL0 END);
}

static void t_bad_uri(void **st)
{
	(void)st;
	EXPECT(BAD_URI, "INVITE <sip:bob@example.com> SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_URI, "INVITE sip:2001:db8::10 SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_URI, "INVITE sip:bob@example.com?Route=x SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_URI, "INVITE sip:bob@[2001:db8::zz] SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_URI, "INVITE sip:b%4@example.com SIP/2.0\r\n" STD L_CL0 END);
	EXPECT(BAD_URI, "INVITE bob SIP/2.0\r\n" STD L_CL0 END);
	/* a bad URI inside From/To is BAD_URI too */
	EXPECT(BAD_URI,
	       L_INV L_VIA L_MF "To: <sip:bob@exa mple.com>\r\n" L_FROM L_CID L_CSEQ L_CL0 END);
}

static void t_bad_from_to(void **st)
{
	(void)st;
	EXPECT(BAD_FROM_TO, L_INV L_VIA L_MF
	       "To: \"Bob <sip:bob@example.com>\r\n" L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_FROM_TO,
	       L_INV L_VIA L_MF "To: < sip:bob@example.com >\r\n" L_FROM L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_FROM_TO, L_INV L_VIA L_MF L_TO
	       "From: Bell, Alexander <sip:a@example.com>;tag=4\r\n" L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_FROM_TO,
	       L_INV L_VIA L_MF L_TO "From: <sip:a@example.com>;tag=\r\n" L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_FROM_TO, L_INV L_VIA L_MF L_TO
	       "From: <sip:a@example.com>;tag=1;tag=2\r\n" L_CID L_CSEQ L_CL0 END);
	EXPECT(BAD_FROM_TO, L_INV L_VIA L_MF
	       "To: <sip:a@example.com>, <sip:b@example.com>\r\n" L_FROM L_CID L_CSEQ L_CL0 END);
}

/* A tag or branch repeated with the same value (a callee copying a tagged To
 * and appending its tag again): accepted in both modes; a repeat with
 * another value, even one differing only in case, is still dropped. */
#define R200(to, via)                                                                    \
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 192.0.2.1:5060;" via "\r\n" to "\r\n" L_FROM \
	"Call-ID: a84b4c76e66710@pc33.example.org\r\nCSeq: 2 INFO\r\n" L_CL0 END

static void t_repeated_param(void **st)
{
	static const struct {
		const char *msg;
		int want;
		const char *to_tag, *branch;
	} t[] = {
		{R200("To: <sip:bob@example.com>;tag=1", "branch=z9hG4bK1"), 0, "1", "z9hG4bK1"},
		{R200("To: <sip:bob@example.com>;tag=1;tag=1", "branch=z9hG4bK1"), 0, "1",
		 "z9hG4bK1"},
		{R200("To: Bob <sip:bob@example.com> ; tag=8321 ;TAG=8321;x=y", "branch=z9hG4bK1"),
		 0, "8321", "z9hG4bK1"},
		{R200("t: <sip:bob@example.com>;tag=a;tag=a;tag=a", "branch=z9hG4bK1"), 0, "a",
		 "z9hG4bK1"},
		{R200("To: <sip:bob@example.com>;tag=1", "branch=z9hG4bK1;branch=z9hG4bK1"), 0, "1",
		 "z9hG4bK1"},
		{R200("To: <sip:bob@example.com>;tag=1;tag=2", "branch=z9hG4bK1"),
		 -SW_SIP_R_BAD_FROM_TO, NULL, NULL},
		{R200("To: <sip:bob@example.com>;tag=abc;tag=ABC", "branch=z9hG4bK1"),
		 -SW_SIP_R_BAD_FROM_TO, NULL, NULL},
		{R200("To: <sip:bob@example.com>;tag=1;tag=11", "branch=z9hG4bK1"),
		 -SW_SIP_R_BAD_FROM_TO, NULL, NULL},
		{R200("To: <sip:bob@example.com>;tag=1;tag", "branch=z9hG4bK1"),
		 -SW_SIP_R_BAD_FROM_TO, NULL, NULL},
		{R200("To: <sip:bob@example.com>;tag=1;tag=\"1\"", "branch=z9hG4bK1"),
		 -SW_SIP_R_BAD_FROM_TO, NULL, NULL},
		{R200("To: <sip:bob@example.com>;tag=1", "branch=z9hG4bK1;branch=z9hG4bK2"),
		 -SW_SIP_R_BAD_VIA, NULL, NULL},
		{R200("To: <sip:bob@example.com>;tag=1", "branch=z9hG4bKa;branch=z9hG4bKA"),
		 -SW_SIP_R_BAD_VIA, NULL, NULL},
	};
	struct sip_limits lim;
	size_t i;
	int strict;

	(void)st;
	for (strict = 0; strict < 2; strict++) {
		sip_limits_default(&lim);
		lim.strict = strict;
		for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
			int r = parse_lim(t[i].msg, strlen(t[i].msg), &lim);

			if (r != t[i].want)
				fail_msg("case %zu (%s): %d, want %d: %s", i,
					 strict ? "strict" : "lax", r, t[i].want,
					 test_msg.err_detail);
			if (r)
				continue;
			assert_string_equal(test_msg.to_tag, t[i].to_tag);
			assert_string_equal(test_msg.via_branch, t[i].branch);
		}
	}
	/* the From tag and a Contact's tag likewise */
	EXPECT(ACCEPTED, L_INV L_VIA L_MF L_TO
	       "From: <sip:a@example.com>;tag=19;tag=19\r\n" L_CID L_CSEQ L_CL0 END);
	assert_string_equal(test_msg.from_tag, "19");
	EXPECT(ACCEPTED, L_INV L_VIA L_MF L_TO L_FROM L_CID L_CSEQ
	       "Contact: <sip:a@192.0.2.1>;tag=x;tag=x\r\n" L_CL0 END);
	EXPECT(BAD_HEADER, L_INV L_VIA L_MF L_TO L_FROM L_CID L_CSEQ
	       "Contact: <sip:a@192.0.2.1>;tag=x;tag=y\r\n" L_CL0 END);
}

static void t_via_loop(void **st)
{
	static char buf[16384];
	struct sip_limits lim;
	size_t o;
	int i;

	(void)st;
	EXPECT(VIA_LOOP, L_INV L_VIA "Via: SIP/2.0/UDP 192.0.2.7;branch=z9hG4bKa\r\n" L_VIA L_MF
				 L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	assert_non_null(strstr(test_msg.err_detail, "repeats"));
	/* same sent-by, other branch: a spiral, not a loop */
	assert_int_equal(parse(L_INV L_VIA
			       "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bKb\r\n" L_MF L_TO
				       L_FROM L_CID L_CSEQ L_CL0 END),
			 0);
	/* depth */
	o = snprintf(buf, sizeof(buf), "%s", L_INV);
	for (i = 0; i < 12; i++)
		o += snprintf(buf + o, sizeof(buf) - o,
			      "Via: SIP/2.0/UDP h%d.example.com;branch=z9hG4bK%d\r\n", i, i);
	snprintf(buf + o, sizeof(buf) - o, "%s", L_MF L_TO L_FROM L_CID L_CSEQ L_CL0 END);
	sip_limits_default(&lim);
	assert_int_equal(parse_lim(buf, strlen(buf), &lim), 0);
	assert_int_equal(test_msg.via_count, 12);
	lim.max_via = 10;
	assert_int_equal(parse_lim(buf, strlen(buf), &lim), -SW_SIP_R_VIA_LOOP);
	/* responses carry the request's Vias: no loop check */
	assert_int_equal(parse("SIP/2.0 200 OK\r\n" L_VIA L_VIA L_TO L_FROM L_CID L_CSEQ L_CL0 END),
			 0);
}

static void t_bad_sdp(void **st)
{
	(void)st;
	assert_int_equal(parse_body(L_INV STD, "application/sdp", "garbage\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(parse_body(L_INV STD, "application/sdp",
				    "v=0\r\no=a 1 1 IN IP4 192.0.2.1\r\ns=-\r\n"
				    "m=audio 49170 RTP/AVP 0\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_non_null(strstr(test_msg.err_detail, "c="));
}

static void t_trailing_data(void **st)
{
	static const char two[] = L_INV STD L_CL0 END L_INV STD L_CL0 END;
	struct sip_limits lim;
	size_t used = 0;

	(void)st;
	sip_limits_default(&lim);
	assert_int_equal(sipmsg_parse_datagram(two, strlen(two), &lim, &test_msg, &used), 0);
	assert_int_equal(used, strlen(L_INV STD L_CL0 END));
	assert_int_equal(test_msg.trailing_len, strlen(two) - used);
	lim.allow_trailing = 0;
	assert_int_equal(parse_lim(two, strlen(two), &lim), -SW_SIP_R_TRAILING_DATA);
	/* CRLF keep-alive padding is not trailing data */
	lim.allow_trailing = 0;
	assert_int_equal(parse_lim(L_INV STD L_CL0 END "\r\n\r\n",
				   strlen(L_INV STD L_CL0 END "\r\n\r\n"), &lim),
			 0);
}

static void t_lax(void **st)
{
	struct sip_limits lim;
	static const char m1[] = L_INV STD "Date: Fri, 01 Jan 2010 16:00:00 EST\r\n" L_CL0 END;
	static const char m2[] = "INVITE sip:bob@example.com?Route=x SIP/2.0\r\n" STD L_CL0 END;

	(void)st;
	sip_limits_default(&lim);
	lim.strict = 0;
	assert_int_equal(parse_lim(m1, strlen(m1), &lim), 0);
	assert_int_equal(parse_lim(m2, strlen(m2), &lim), 0);
	lim.strict = 1;
	assert_int_equal(parse_lim(m1, strlen(m1), &lim), -SW_SIP_R_BAD_HEADER);
	assert_int_equal(parse_lim(m2, strlen(m2), &lim), -SW_SIP_R_BAD_URI);
}

/* --- helpers on their own --- */

static void t_uri_helper(void **st)
{
	struct sip_uri_view u;
	char det[SIPV_DET];

	(void)st;
	assert_int_equal(sipv_uri("sips:alice:pw@[2001:db8::1]:5061;transport=tls", 46, 0, &u, det),
			 0);
	assert_string_equal(u.scheme, "sips");
	assert_int_equal(u.user_len, 5);
	assert_memory_equal(u.host, "2001:db8::1", 11);
	assert_int_equal(u.port, 5061);
	/* RFC 5118 4.10: three colons are tolerated */
	assert_int_equal(sipv_uri("sip:[2001:db8:::192.0.2.1]", 26, 0, &u, det), 0);
	assert_int_equal(sipv_uri("tel:+1-201-555-0123", 19, 0, &u, det), 0);
	assert_int_equal(sipv_uri("sip:host:70000", 14, 0, &u, det), -SW_SIP_R_BAD_URI);
	assert_int_equal(sipv_uri("sip:a@256.1.1.1", 15, 0, &u, det), -SW_SIP_R_BAD_URI);
	assert_int_equal(sipv_uri("sip:@host", 9, 0, &u, det), -SW_SIP_R_BAD_URI);
	assert_int_equal(sipv_uri("sip:h;=x", 8, 0, &u, det), -SW_SIP_R_BAD_URI);
}

static void t_via_helper(void **st)
{
	static const char v[] = "SIP  /  2.0 / UDP  host.example.com : 5070 ; "
				"branch = z9hG4bK1 , SIP/2.0/TCP [2001:db8::1];"
				"received=2001:db8::9;branch=z9hG4bK2";
	struct sip_via_list vl;
	char det[SIPV_DET];

	(void)st;
	memset(&vl, 0, sizeof(vl));
	assert_int_equal(sipv_via(v, strlen(v), &vl, det), 0);
	assert_int_equal(vl.n, 2);
	assert_int_equal(vl.top_branch_len, 8);
	assert_memory_equal(vl.top_branch, "z9hG4bK1", 8);
	assert_true(vl.key[0] != vl.key[1]);
}

static void t_name_addr_helper(void **st)
{
	static const char a[] = "\"J \\\"R\\\"\" <sip:j@example.com;lr> ; tag = abc ; q=0.5";
	struct sip_nameaddr na;
	char det[SIPV_DET];
	size_t pos = 0;

	(void)st;
	assert_int_equal(
		sipv_name_addr(a, strlen(a), &pos, 1, SW_SIP_R_BAD_FROM_TO, "To", &na, det), 0);
	assert_int_equal(pos, strlen(a));
	assert_int_equal(na.tag_len, 3);
	assert_memory_equal(na.tag, "abc", 3);
	assert_string_equal(na.uri.scheme, "sip");
}

static void t_header_names(void **st)
{
	(void)st;
	assert_string_equal(sipv_header_long_name("i", 1, NULL), "call-id");
	assert_string_equal(sipv_header_long_name("V", 1, NULL), "via");
	assert_string_equal(sipv_header_long_name("CONTENT-LENGTH", 14, NULL), "content-length");
	assert_null(sipv_header_long_name("X-Foo", 5, NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_accept_base),
		cmocka_unit_test(t_parse_error),
		cmocka_unit_test(t_too_large),
		cmocka_unit_test(t_too_many_headers),
		cmocka_unit_test(t_line_too_long),
		cmocka_unit_test(t_bad_start_line),
		cmocka_unit_test(t_bad_version),
		cmocka_unit_test(t_bad_status),
		cmocka_unit_test(t_bad_cseq),
		cmocka_unit_test(t_cseq_method_mismatch),
		cmocka_unit_test(t_bad_content_length),
		cmocka_unit_test(t_body_truncated),
		cmocka_unit_test(t_missing_header),
		cmocka_unit_test(t_duplicate_header),
		cmocka_unit_test(t_bad_header),
		cmocka_unit_test(t_bad_max_forwards),
		cmocka_unit_test(t_bad_via),
		cmocka_unit_test(t_bad_uri),
		cmocka_unit_test(t_bad_from_to),
		cmocka_unit_test(t_repeated_param),
		cmocka_unit_test(t_via_loop),
		cmocka_unit_test(t_bad_sdp),
		cmocka_unit_test(t_trailing_data),
		cmocka_unit_test(t_lax),
		cmocka_unit_test(t_uri_helper),
		cmocka_unit_test(t_via_helper),
		cmocka_unit_test(t_name_addr_helper),
		cmocka_unit_test(t_header_names),
	};

	return cmocka_run_group_tests_name("sipd-validate", tests, NULL, NULL);
}
