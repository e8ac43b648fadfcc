// SPDX-License-Identifier: GPL-2.0-only
/* SDP media extraction (sipd/sdp.c): what pinhole planning reads. */
#include <arpa/inet.h>

#include "common.h"

static struct sdp_session s;

static int sdp(const char *text)
{
	return sdp_parse(text, strlen(text), &s);
}

#define HEAD "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\n"

static void v4(const struct sdp_media *m, const char *a)
{
	uint8_t want[16] = {0};

	want[10] = want[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, a, want + 12), 1);
	assert_memory_equal(m->addr, want, 16);
	assert_true(m->addr_is_v4);
}

static void t_v4_session_c(void **st)
{
	(void)st;
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.10\r\nm=audio 49170 RTP/AVP 0 8\r\n"), 0);
	assert_int_equal(s.n_media, 1);
	assert_string_equal(s.media[0].type, "audio");
	v4(&s.media[0], "192.0.2.10");
	assert_int_equal(s.media[0].port, 49170);
	assert_int_equal(s.media[0].port_count, 1);
	assert_int_equal(s.media[0].rtcp_port, 49171);
	assert_memory_equal(s.media[0].rtcp_addr, s.media[0].addr, 16);
	assert_int_equal(s.media[0].dir, SDP_SENDRECV);
	assert_false(s.media[0].hold_addr);
	assert_false(s.media[0].rtcp_mux);
}

static void t_v6_and_media_c_overrides(void **st)
{
	uint8_t want[16];

	(void)st;
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.10\r\n"
				  "m=audio 22334 RTP/AVP 0\r\n"
				  "m=video 6024 RTP/AVP 107\r\nc=IN IP6 2001:db8::1\r\n"),
			 0);
	assert_int_equal(s.n_media, 2);
	v4(&s.media[0], "192.0.2.10");
	inet_pton(AF_INET6, "2001:db8::1", want);
	assert_memory_equal(s.media[1].addr, want, 16);
	assert_false(s.media[1].addr_is_v4);
	/* IPv4-mapped text in IN IP6 (RFC 5118 4.9) */
	assert_int_equal(sdp(HEAD "c=IN IP6 ::ffff:192.0.2.2\r\nm=audio 6000 RTP/AVP 2\r\n"), 0);
	v4(&s.media[0], "192.0.2.2");
}

static void t_media_c_only(void **st)
{
	(void)st;
	assert_int_equal(sdp(HEAD "m=audio 4000 RTP/AVP 0\r\nc=IN IP4 192.0.2.7\r\n"
				  "m=audio 5000 RTP/AVP 0\r\nc=IN IP4 192.0.2.8\r\n"),
			 0);
	v4(&s.media[0], "192.0.2.7");
	v4(&s.media[1], "192.0.2.8");
}

static void t_rtcp(void **st)
{
	uint8_t want[16] = {0};

	(void)st;
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"
				  "a=rtcp:53020\r\n"),
			 0);
	assert_int_equal(s.media[0].rtcp_port, 53020);
	assert_memory_equal(s.media[0].rtcp_addr, s.media[0].addr, 16);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"
				  "a=rtcp:53020 IN IP6 2001:db8::5\r\n"),
			 0);
	inet_pton(AF_INET6, "2001:db8::5", want);
	assert_memory_equal(s.media[0].rtcp_addr, want, 16);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"
				  "a=rtcp:x\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"
				  "a=rtcp:5 IN IP4\r\n"),
			 -SW_SIP_R_BAD_SDP);
}

static void t_rtcp_mux(void **st)
{
	(void)st;
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"
				  "a=rtcp-mux\r\na=rtcp:49170\r\n"),
			 0);
	assert_true(s.media[0].rtcp_mux);
	assert_int_equal(s.media[0].rtcp_port, 0);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 49170 RTP/AVP 0\r\n"
				  "a=rtcp-mux:1\r\n"),
			 -SW_SIP_R_BAD_SDP);
}

static void t_port_zero(void **st)
{
	(void)st;
	/* a declined stream needs no address */
	assert_int_equal(sdp(HEAD "m=audio 0 RTP/AVP 0\r\n"), 0);
	assert_int_equal(s.media[0].port, 0);
	assert_int_equal(s.media[0].rtcp_port, 0);
	/* but a live one does */
	assert_int_equal(sdp(HEAD "m=audio 4000 RTP/AVP 0\r\n"), -SW_SIP_R_BAD_SDP);
}

/* RFC 3264 6: a stream declined with port 0, in an offer or an answer, with
 * no format list (pjmedia) or an odd one; live streams keep the grammar. */
static void t_declined_streams(void **st)
{
	(void)st;
	/* answer: audio accepted, video declined without formats */
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.9\r\nm=audio 5000 RTP/AVP 0\r\n"
				  "m=video 0 RTP/AVP\r\n"),
			 0);
	assert_int_equal(s.n_media, 2);
	assert_int_equal(s.media[0].port, 5000);
	assert_int_equal(s.media[0].rtcp_port, 5001);
	v4(&s.media[0], "192.0.2.9");
	assert_string_equal(s.media[1].type, "video");
	assert_int_equal(s.media[1].port, 0);
	assert_int_equal(s.media[1].rtcp_port, 0);
	/* offer: a declined stream first, its own c= absent, the live one's at
	 * media level */
	assert_int_equal(sdp(HEAD "m=video 0 RTP/AVP\r\nm=audio 4000 RTP/AVP 8\r\n"
				  "c=IN IP4 192.0.2.1\r\n"),
			 0);
	assert_int_equal(s.n_media, 2);
	assert_int_equal(s.media[0].port, 0);
	assert_int_equal(s.media[1].port, 4000);
	/* the only stream, declined, no address anywhere */
	assert_int_equal(sdp(HEAD "m=video 0 RTP/AVP\r\n"), 0);
	assert_int_equal(sdp(HEAD "m=video 0 RTP/SAVPF"), 0); /* last line without CRLF */
	/* odd format lists behind port 0: not read */
	assert_int_equal(sdp(HEAD "m=video 0 RTP/AVP \r\n"), 0);
	assert_int_equal(sdp(HEAD "m=video 0 RTP/AVP  31\r\n"), 0);
	assert_int_equal(sdp(HEAD "m=application 0 UDP/BFCP *\r\n"), 0);
	assert_int_equal(sdp(HEAD "m=video 0/2 RTP/AVP\r\n"), 0);
	/* strict for the rest: a live stream needs a format */
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=video 4002 RTP/AVP\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=video 4002 RTP/AVP \r\n"),
			 -SW_SIP_R_BAD_SDP);
	/* and port 0 still needs media, port and proto, well formed */
	assert_int_equal(sdp(HEAD "m=video 0\r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "m=video 0 \r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "m=video  0 RTP/AVP\r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "m= 0 RTP/AVP\r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "m=vid@o 0 RTP/AVP\r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "m=video 0x RTP/AVP\r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "m=video 0/0 RTP/AVP\r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "m=video 0 RTP/AVP\x01\r\n"), -SW_SIP_R_BAD_SDP);
}

static void t_hold(void **st)
{
	(void)st;
	assert_int_equal(sdp(HEAD "c=IN IP4 0.0.0.0\r\nm=audio 4000 RTP/AVP 0\r\n"), 0);
	assert_true(s.media[0].hold_addr);
	assert_int_equal(sdp(HEAD "c=IN IP6 ::\r\nm=audio 4000 RTP/AVP 0\r\n"), 0);
	assert_true(s.media[0].hold_addr);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
				  "a=inactive\r\n"),
			 0);
	assert_false(s.media[0].hold_addr);
	assert_int_equal(s.media[0].dir, SDP_INACTIVE);
}

static void t_directions(void **st)
{
	(void)st;
	assert_int_equal(sdp(HEAD "a=sendonly\r\nc=IN IP4 192.0.2.1\r\n"
				  "m=audio 4000 RTP/AVP 0\r\n"
				  "m=video 4002 RTP/AVP 31\r\na=recvonly\r\n"
				  "m=video 4004 RTP/AVP 31\r\na=sendrecv\r\n"),
			 0);
	assert_int_equal(s.media[0].dir, SDP_SENDONLY); /* session level */
	assert_int_equal(s.media[1].dir, SDP_RECVONLY); /* media level wins */
	assert_int_equal(s.media[2].dir, SDP_SENDRECV);
	assert_string_equal(sdp_dir_name(SDP_INACTIVE), "inactive");
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"
				  "a=sendonly\r\na=recvonly\r\n"),
			 -SW_SIP_R_BAD_SDP);
}

static void t_port_counts(void **st)
{
	(void)st;
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=video 49170/2 RTP/AVP 31\r\n"), 0);
	assert_int_equal(s.media[0].port_count, 2);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=video 49170/0 RTP/AVP 31\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=video 65534/2 RTP/AVP 31\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=video 65536 RTP/AVP 31\r\n"),
			 -SW_SIP_R_BAD_SDP);
}

static void t_multicast_ttl(void **st)
{
	(void)st;
	assert_int_equal(sdp(HEAD "c=IN IP4 233.252.0.1/127\r\nm=audio 4000 RTP/AVP 0\r\n"), 0);
	v4(&s.media[0], "233.252.0.1");
}

static void t_garbage(void **st)
{
	char many[2048];
	size_t o;
	int i;

	(void)st;
	assert_int_equal(sdp(""), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp("hello world"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp("v=1\r\n"), -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm =video 3227 RTP/AVP 31\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 example.com\r\nm=audio 4000 RTP/AVP 0\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 2001:db8::1\r\nm=audio 4000 RTP/AVP 0\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4  192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\n\r\nm=audio 4000 RTP/AVP 0\r\n"),
			 -SW_SIP_R_BAD_SDP);
	assert_int_equal(sdp("v=0\r\ns=-\r\n"), -SW_SIP_R_BAD_SDP); /* no o= */
	o = snprintf(many, sizeof(many), HEAD "c=IN IP4 192.0.2.1\r\n");
	for (i = 0; i < SDP_MAX_MEDIA + 1; i++)
		o += snprintf(many + o, sizeof(many) - o, "m=audio %d RTP/AVP 0\r\n", 4000 + 2 * i);
	assert_int_equal(sdp(many), -SW_SIP_R_BAD_SDP);
	/* a last line without CRLF is fine (Content-Length cut, RFC 5118 4.8) */
	assert_int_equal(sdp(HEAD "c=IN IP4 192.0.2.1\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:0 PC"),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_v4_session_c), cmocka_unit_test(t_v6_and_media_c_overrides),
		cmocka_unit_test(t_media_c_only), cmocka_unit_test(t_rtcp),
		cmocka_unit_test(t_rtcp_mux),	  cmocka_unit_test(t_port_zero),
		cmocka_unit_test(t_hold),	  cmocka_unit_test(t_directions),
		cmocka_unit_test(t_port_counts),  cmocka_unit_test(t_multicast_ttl),
		cmocka_unit_test(t_garbage),	  cmocka_unit_test(t_declined_streams),
	};

	return cmocka_run_group_tests_name("sipd-sdp", tests, NULL, NULL);
}
