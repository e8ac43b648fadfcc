// SPDX-License-Identifier: GPL-2.0-only
/*
 * The control API (sipd/control.c over sipd/ng.c) on REAL pinned maps with
 * the real XDP program judging the media: ng requests as Kamailio 5.6 sends
 * them (unsorted keys, trust-address, replace, ICE=remove) open the same
 * pinholes inline SIP would, the SDP comes back unchanged, answers may come
 * twice, delete ends the call after the BYE grace, what only a relay can do
 * is refused with nothing written, retransmissions are answered from the
 * cache, and a call driven by the controller ignores its inline SIP.
 * Needs root and BPF; every test is skipped otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/bpf.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "dgram.h"
#include "msgs.h"
#include "sipd/bencode.h"
#include "sipd/config.h"
#include "sipd/control.h"
#include "sipd/sipd.h"
#include "tests/common/bpfenv.h"

#define S      1000000000ull
#define ATTACK "198.51.100.66"

static const char *cfg_json =
	"{\"networks\": {\"inside\": [\"10.1.0.0/16\", \"fd00:1::/64\"]},"
	" \"media\": {\"open_at_offer\": \"off\"},"
	" \"control\": {\"controllers\": [\"127.0.0.1/32\"]},"
	" \"timeouts\": {\"bye_grace_s\": 2, \"idle_s\": 300, \"max_call_s\": 0,"
	"   \"silent_dialog_s\": 3600, \"early_dialog_s\": 0}}";

struct cenv {
	struct bpfenv *e;
	struct sipd_control *ctl;
	uint8_t out[SIPD_NG_MAX_DGRAM];
	size_t outlen;
	struct sipd_benc b;
	const struct sipd_benc_node *reply;
};

static int setup(void **state)
{
	static struct cenv c;
	char err[256];

	bpfenv_setup(state, "sw-ctl", cfg_json);
	if (!*state)
		return 0;
	memset(&c, 0, sizeof(c));
	c.e = *state;
	c.ctl = sipd_control_open(c.e->d, c.e->cfg, 0, err, sizeof(err));
	if (!c.ctl)
		fail_msg("sipd_control_open: %s", err);
	*state = &c;
	return 0;
}

static int teardown(void **state)
{
	struct cenv *c = *state;

	if (!c)
		return 0;
	sipd_control_close(c->ctl);
	*state = c->e;
	return bpfenv_teardown(state);
}

#define NEED_CENV()             \
	do {                    \
		if (!*state)    \
			skip(); \
	} while (0)

static struct sockaddr_storage from_addr(const char *a)
{
	struct sockaddr_storage ss = {0};
	struct sockaddr_in *in = (struct sockaddr_in *)&ss;

	in->sin_family = AF_INET;
	in->sin_port = htons(40000);
	inet_pton(AF_INET, a, &in->sin_addr);
	return ss;
}

/* Send "COOKIE dict" from a; 1 with a decoded reply, 0 without one. */
static int ng(struct cenv *c, const char *from, const char *req)
{
	struct sockaddr_storage ss = from_addr(from);
	const char *sp;
	int rc;

	c->outlen = sizeof(c->out);
	rc = sipd_control_process(c->ctl, (const uint8_t *)req, strlen(req), &ss, c->out,
				  &c->outlen);
	assert_true(rc >= 0);
	if (rc == 0)
		return 0;
	sp = memchr(c->out, ' ', c->outlen);
	assert_non_null(sp);
	c->reply = sipd_benc_decode(&c->b, sp + 1, c->outlen - (size_t)(sp + 1 - (char *)c->out));
	if (!c->reply)
		fail_msg("reply does not decode: %s", c->b.err);
	return 1;
}

static const char *rstr(struct cenv *c, const char *key)
{
	static char buf[512];
	const struct sipd_benc_node *n = sipd_benc_dict_get(c->reply, key);
	size_t len = 0;
	const uint8_t *p = n ? sipd_benc_str(n, &len) : NULL;

	if (!p)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)len, (const char *)p);
	return buf;
}

/* A bencoded string. */
static char *bs(char *buf, const char *s)
{
	sprintf(buf, "%zu:%s", strlen(s), s);
	return buf;
}

static void sdp_of(char *out, size_t len, const char *addr, uint16_t port)
{
	snprintf(out, len,
		 "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio %u RTP/AVP 8\r\na=rtpmap:8 PCMA/8000\r\n",
		 addr, addr, port);
}

static const char *rf_override; /* received-from of the next kam(), NULL: the party's */

/* An offer or answer as Kamailio's rtpengine_manage() sends it: keys not
 * sorted, its usual flags; extra is spliced into the dictionary. */
static void kam(char *out, size_t len, const char *cookie, const char *cmd, const char *cid,
		const char *ftag, const char *ttag, const char *sdp, const char *extra)
{
	char a[600], b[128], c[128], d[128], e[128], f[64];
	/* received-from: where the SIP came from (the caller's, the callee's) */
	const char *rf = rf_override ? rf_override : strcmp(cmd, "answer") ? ALICE : BOB;

	snprintf(out, len,
		 "%s d8:supportsl10:load limite3:sdp%s3:ICE6:remove5:flagsl13:trust-addresse"
		 "7:replacel6:origin18:session-connectione7:call-id%s13:received-froml3:IP4%se"
		 "8:from-tag%s%s%s%s7:command%se",
		 cookie, bs(a, sdp), bs(b, cid), bs(f, rf), bs(d, ftag), ttag ? "6:to-tag" : "",
		 ttag ? bs(e, ttag) : "", extra ? extra : "", bs(c, cmd));
}

/* Offer from Alice (outside) and answer from Bob (inside) by control. */
static void call_up(struct cenv *c, const char *cid, uint16_t aport, uint16_t bport)
{
	char sdp[400], req[2048];

	static unsigned int seq;
	char ck[16];

	/* A cookie per request: a repeated one is a retransmission. */
	snprintf(ck, sizeof(ck), "u%u", seq++);
	sdp_of(sdp, sizeof(sdp), ALICE, aport);
	kam(req, sizeof(req), ck, "offer", cid, "at1", NULL, sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	assert_string_equal(rstr(c, "sdp"), sdp);
	snprintf(ck, sizeof(ck), "u%u", seq++);
	sdp_of(sdp, sizeof(sdp), BOB, bport);
	kam(req, sizeof(req), ck, "answer", cid, "at1", "bt1", sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	assert_string_equal(rstr(c, "sdp"), sdp);
}

static void test_ping(void **state)
{
	struct cenv *c;

	NEED_CENV();
	c = *state;
	assert_int_equal(ng(c, "127.0.0.1", "p1 d7:command4:pinge"), 1);
	assert_string_equal(rstr(c, "result"), "pong");
	/* Nobody else is answered at all. */
	assert_int_equal(ng(c, ATTACK, "p2 d7:command4:pinge"), 0);
}

static void test_offer_answer_pinholes(void **state)
{
	struct cenv *c;
	struct sw_pinhole v;
	const char *ev;

	NEED_CENV();
	c = *state;
	call_up(c, "ctl-1@x", 12000, 16000);
	/* The warning says the SDP was left as it is (replace asked). */
	assert_non_null(rstr(c, "warning"));
	assert_non_null(strstr(rstr(c, "warning"), "replace ignored"));
	/* Both parties' destinations, each for the other's address only. */
	assert_int_equal(bpfenv_get(c->e, ALICE, 12000, &v), 0);
	assert_int_equal(bpfenv_get(c->e, BOB, 16000, &v), 0);
	assert_int_equal(bpfenv_xdp(c->e, BOB, 16000, ALICE, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(c->e, ALICE, 12000, BOB, 16000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(c->e, ATTACK, 12000, BOB, 16000), XDP_DROP);
	fflush(c->e->evf);
	ev = c->e->evbuf;
	assert_non_null(strstr(ev, "\"event\":\"call_start\",\"ts_ns\""));
	assert_non_null(strstr(ev, "\"how\":\"control\""));
	/* The parties by their received-from addresses. */
	assert_non_null(strstr(ev, "\"from\":\"" ALICE "\",\"to\":\"" BOB "\""));
}

static void test_answer_twice_and_delete(void **state)
{
	struct cenv *c;
	char sdp[400], req[2048];
	struct sw_pinhole v;
	unsigned int n;
	uint64_t now = sw_monotonic_ns();

	NEED_CENV();
	c = *state;
	call_up(c, "ctl-2@x", 12010, 16010);
	n = bpfenv_count(c->e);
	/* The callee's 200 OK retransmitted: Kamailio answers again. */
	sdp_of(sdp, sizeof(sdp), BOB, 16010);
	kam(req, sizeof(req), "c3", "answer", "ctl-2@x", "at1", "bt1", sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	assert_int_equal(bpfenv_count(c->e), n);
	/* delete without a to-tag: the whole call, after the BYE grace. */
	assert_int_equal(
		ng(c, "127.0.0.1", "c4 d8:from-tag3:at17:call-id7:ctl-2@x7:command6:deletee"), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	assert_int_equal(bpfenv_get(c->e, BOB, 16010, &v), 0); /* RTCP's grace */
	sipd_tick(c->e->d, now + 3 * S);
	assert_int_not_equal(bpfenv_get(c->e, BOB, 16010, &v), 0);
	assert_int_not_equal(bpfenv_get(c->e, ALICE, 12010, &v), 0);
	/* Unknown now. */
	assert_int_equal(
		ng(c, "127.0.0.1", "c5 d8:from-tag3:at17:call-id7:ctl-2@x7:command6:deletee"), 1);
	assert_string_equal(rstr(c, "result"), "error");
}

static void test_relay_features_refused(void **state)
{
	static const char *const extras[] = {
		"18:transport-protocol8:RTP/SAVP",
		"13:media-address11:192.0.2.10",
		"11:record-call3:yes",
		"4:DTLS7:passivx",
		"5:flagsl16:always-transcodee",
	};
	struct cenv *c;
	char sdp[400], req[2048], cid[32];
	unsigned int n;

	NEED_CENV();
	c = *state;
	n = bpfenv_count(c->e);
	sdp_of(sdp, sizeof(sdp), ALICE, 12020);
	for (unsigned int i = 0; i < sizeof(extras) / sizeof(extras[0]); i++) {
		snprintf(cid, sizeof(cid), "ctl-r%u@x", i);
		if (i == 4)
			/* its own flags list in place of Kamailio's */
			snprintf(
				req, sizeof(req),
				"r%u d7:command5:offer7:call-id%zu:%s8:from-tag3:at13:sdp%zu:%s%se",
				i, strlen(cid), cid, strlen(sdp), sdp, extras[i]);
		else
			kam(req, sizeof(req), cid, "offer", cid, "at1", NULL, sdp, extras[i]);
		assert_int_equal(ng(c, "127.0.0.1", req), 1);
		assert_string_equal(rstr(c, "result"), "error");
		assert_non_null(rstr(c, "error-reason"));
	}
	assert_non_null(strstr(rstr(c, "error-reason"), "always-transcode"));
	assert_int_equal(bpfenv_count(c->e), n); /* nothing written */
	/* An answer without its offer, and SDP that does not parse. */
	kam(req, sizeof(req), "r8", "answer", "ctl-none@x", "at1", "bt1", sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "error");
	kam(req, sizeof(req), "r9", "offer", "ctl-bad@x", "at1", NULL, "v=0\r\nm=audio x\r\n",
	    NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "error");
	assert_int_equal(bpfenv_count(c->e), n);
}

static void test_retransmission_cached(void **state)
{
	struct cenv *c;
	struct sipd_control_stats st;
	char sdp[400], req[2048], first[SIPD_NG_MAX_DGRAM];
	size_t flen;

	NEED_CENV();
	c = *state;
	sdp_of(sdp, sizeof(sdp), ALICE, 12030);
	kam(req, sizeof(req), "rt1", "offer", "ctl-rt@x", "at1", NULL, sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	memcpy(first, c->out, c->outlen);
	flen = c->outlen;
	sipd_control_get_stats(c->ctl, &st);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_int_equal(c->outlen, flen);
	assert_memory_equal(c->out, first, flen);
	{
		struct sipd_control_stats st2;

		sipd_control_get_stats(c->ctl, &st2);
		assert_int_equal(st2.offers, st.offers); /* not done twice */
		assert_int_equal(st2.ng.cache_hits, st.ng.cache_hits + 1);
	}
}

static void test_query_list_statistics(void **state)
{
	struct cenv *c;
	const struct sipd_benc_node *n, *m;
	int found = 0;

	NEED_CENV();
	c = *state;
	call_up(c, "ctl-q@x", 12040, 16040);
	assert_int_equal(bpfenv_xdp(c->e, BOB, 16040, ALICE, 12040), XDP_PASS);
	assert_int_equal(ng(c, "127.0.0.1", "q1 d7:call-id7:ctl-q@x7:command5:querye"), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	assert_string_equal(rstr(c, "driven-by"), "control");
	n = sipd_benc_dict_get(c->reply, "pinholes");
	assert_non_null(n);
	assert_int_equal(n->type, SIPD_BENC_LIST);
	assert_true(n->len >= 2);
	n = sipd_benc_dict_get(sipd_benc_dict_get(c->reply, "totals"), "RTP");
	assert_non_null(n);
	assert_true(sipd_benc_dict_get(n, "packets")->i >= 1); /* the one XDP passed */
	assert_int_equal(ng(c, "127.0.0.1", "q2 d7:command4:liste"), 1);
	n = sipd_benc_dict_get(c->reply, "calls");
	assert_non_null(n);
	SIPD_BENC_FOREACH(m, n)
	found |= sipd_benc_str_eq(m, "ctl-q@x");
	assert_true(found);
	assert_int_equal(ng(c, "127.0.0.1", "q3 d7:command10:statisticse"), 1);
	n = sipd_benc_dict_get(sipd_benc_dict_get(c->reply, "statistics"), "totalstatistics");
	assert_non_null(n);
	assert_true(sipd_benc_dict_get(n, "controlanswers")->i >= 1);
	assert_int_equal(ng(c, "127.0.0.1", "q4 d7:call-id9:nosuch@x07:command5:querye"), 1);
	assert_string_equal(rstr(c, "result"), "error");
}

/* The proxy's inside leg crosses the firewall as plain SIP with the same
 * Call-ID: sipd records it (so its responses match) and changes nothing. */
static void test_inline_sip_of_a_control_call(void **state)
{
	struct cenv *c;
	struct sip_msg m;
	struct sw_pinhole v;
	unsigned int n;

	NEED_CENV();
	c = *state;
	call_up(c, "ctl-both@x", 12050, 16050);
	n = bpfenv_count(c->e);
	t_req(&m, "INVITE", "ctl-both@x", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 12999, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(c->e, &m, sw_monotonic_ns()), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "ctl-both@x", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 16999, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(c->e, &m, sw_monotonic_ns()), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(c->e), n);
	assert_int_not_equal(bpfenv_get(c->e, BOB, 16999, &v), 0);
	assert_int_equal(bpfenv_get(c->e, BOB, 16050, &v), 0);
}

/* The other way round: a call sipd follows inline; the controller's offer
 * for it is answered ok, unchanged, and changes nothing. */
static void test_control_on_an_inline_call(void **state)
{
	struct cenv *c;
	struct sip_msg m;
	char sdp[400], req[2048];
	unsigned int n;

	NEED_CENV();
	c = *state;
	t_req(&m, "INVITE", "inl@x", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 12070, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(c->e, &m, sw_monotonic_ns()), SW_SIP_R_ACCEPTED);
	n = bpfenv_count(c->e);
	sdp_of(sdp, sizeof(sdp), ALICE, 12071);
	kam(req, sizeof(req), "inl1", "offer", "inl@x", ATAG, NULL, sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	assert_string_equal(rstr(c, "sdp"), sdp);
	assert_non_null(strstr(rstr(c, "warning"), "followed from inline SIP"));
	assert_int_equal(bpfenv_count(c->e), n);
}

/* ICE: the offerer's UDP candidates become more allowed sources of the
 * answerer's destination, special and other-side ones never. */
static void test_ice_candidates(void **state)
{
	struct cenv *c;
	char sdp[1200], req[3000], bsdp[400];
	struct sw_pinhole v;
	unsigned int n = 0;

	NEED_CENV();
	c = *state;
	snprintf(sdp, sizeof(sdp),
		 "v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
		 "m=audio 12060 RTP/AVP 8\r\n"
		 "a=candidate:1 1 UDP 2130706431 %s 12060 typ host\r\n"
		 "a=candidate:2 1 UDP 1694498815 203.0.113.7 40000 typ srflx raddr %s rport "
		 "12060\r\n"
		 "a=candidate:3 1 UDP 1 224.0.0.9 40002 typ relay raddr 0.0.0.0 rport 0\r\n"
		 "a=candidate:4 1 UDP 1 10.1.0.77 40004 typ host\r\n"
		 "a=candidate:5 1 TCP 1 203.0.113.8 40006 typ host\r\n",
		 ALICE, ALICE, ALICE, ALICE);
	kam(req, sizeof(req), "ice1", "offer", "ctl-ice@x", "at1", NULL, sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	sdp_of(bsdp, sizeof(bsdp), BOB, 16060);
	kam(req, sizeof(req), "ice2", "answer", "ctl-ice@x", "at1", "bt1", bsdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	assert_int_equal(bpfenv_get(c->e, BOB, 16060, &v), 0);
	for (unsigned int i = 0; i < SW_MAX_SOURCES; i++)
		n += !!(v.src[i].flags & SW_SRC_ACTIVE);
	assert_int_equal(n, 2); /* c= (= the host candidate) and the srflx one */
	assert_int_equal(bpfenv_xdp(c->e, "203.0.113.7", 40000, BOB, 16060), XDP_PASS);
	assert_int_equal(bpfenv_xdp(c->e, "10.1.0.77", 40004, BOB, 16060), XDP_DROP);
	assert_int_equal(bpfenv_xdp(c->e, "203.0.113.8", 40006, BOB, 16060), XDP_DROP);
}

/* A second call's answer names a destination call 1 holds: the answerer
 * (198.51.100.77, outside) neither is that destination nor a party of call
 * 1, and an outside party never gets an inside destination. Refused, call 1
 * keeps its media (found by review: the controller's address used to stand
 * in for every answerer, making each control call a "party" of the others). */
static void test_no_takeover_across_control_calls(void **state)
{
	struct cenv *c;
	char sdp[400], req[2048];

	NEED_CENV();
	c = *state;
	call_up(c, "victim@x", 12100, 16100);
	assert_int_equal(bpfenv_xdp(c->e, ALICE, 12100, BOB, 16100), XDP_PASS);
	rf_override = ATTACK;
	sdp_of(sdp, sizeof(sdp), ATTACK, 5000);
	kam(req, sizeof(req), "tk1", "offer", "evil@x", "et1", NULL, sdp, NULL);
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	assert_string_equal(rstr(c, "result"), "ok");
	rf_override = "198.51.100.77";
	sdp_of(sdp, sizeof(sdp), BOB, 16100);
	kam(req, sizeof(req), "tk2", "answer", "evil@x", "et1", "et2", sdp, NULL);
	rf_override = NULL;
	assert_int_equal(ng(c, "127.0.0.1", req), 1);
	/* Either refused, or the inside address refused as a stream: call 1's
	 * pinhole stays as it was. */
	assert_int_equal(bpfenv_xdp(c->e, ALICE, 12100, BOB, 16100), XDP_PASS);
	assert_int_equal(bpfenv_xdp(c->e, ATTACK, 5000, BOB, 16100), XDP_DROP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_offer_answer_pinholes),
		cmocka_unit_test(test_answer_twice_and_delete),
		cmocka_unit_test(test_relay_features_refused),
		cmocka_unit_test(test_retransmission_cached),
		cmocka_unit_test(test_query_list_statistics),
		cmocka_unit_test(test_inline_sip_of_a_control_call),
		cmocka_unit_test(test_ice_candidates),
		cmocka_unit_test(test_no_takeover_across_control_calls),
		cmocka_unit_test(test_control_on_an_inline_call),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
