// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd/ng.c: requests as Kamailio's rtpengine module sends them (offer,
 * answer, delete, ...), ping answered by the layer, unknown commands, missing
 * and malformed keys, garbage, the reply API (sorted keys, nesting, errors,
 * warnings, overflow), the retransmission cache (byte-for-byte repeats, per
 * source, expiry, eviction), the access list, and a real round trip over UDP
 * on 127.0.0.1 and over a Unix datagram socket.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
#include <cmocka.h>

#include "sipd/ng.h"

#define SEC 1000000000ULL

static uint64_t fake_now = 1000 * SEC;

static uint64_t fake_clock(void)
{
	return fake_now;
}

/* What the test handler saw and how it answers. */
enum mode { ECHO_SDP, NESTED, FAIL_ERRNO, FAIL_REASON, DUP_KEY, RESERVED, WARN, BIG };

struct th {
	enum mode mode;
	unsigned int calls;
	enum sipd_ng_cmd cmd;
	char call_id[64], from_tag[64], to_tag[64], sdp[1024];
	int has_to_tag;
	struct sipd_ng_req req; /* pointers valid during the call only */
};

static void cpy(char *dst, size_t n, const struct sipd_ng_str *s)
{
	size_t l = s->p ? (s->len < n - 1 ? s->len : n - 1) : 0;

	if (l)
		memcpy(dst, s->p, l);
	dst[l] = '\0';
}

static int handler(void *ctx, const struct sipd_ng_req *q, struct sipd_ng_reply *r)
{
	struct th *t = ctx;
	static const char *const tags[] = {"a", "b"};
	static char big[70000];

	t->calls++;
	t->cmd = q->cmd;
	t->req = *q;
	cpy(t->call_id, sizeof(t->call_id), &q->call_id);
	cpy(t->from_tag, sizeof(t->from_tag), &q->from_tag);
	cpy(t->to_tag, sizeof(t->to_tag), &q->to_tag);
	cpy(t->sdp, sizeof(t->sdp), &q->sdp);
	t->has_to_tag = q->to_tag.p != NULL;
	switch (t->mode) {
	case ECHO_SDP:
		if (q->sdp.p)
			sipd_ng_reply_bytes(r, "sdp", q->sdp.p, q->sdp.len);
		return 0;
	case NESTED:
		sipd_ng_reply_int(r, "created", 1402064111);
		sipd_ng_reply_open_dict(r, "totals");
		sipd_ng_reply_open_dict(r, "RTP");
		sipd_ng_reply_int(r, "packets", 705);
		sipd_ng_reply_int(r, "bytes", 100287);
		sipd_ng_reply_close(r);
		sipd_ng_reply_close(r);
		sipd_ng_reply_strlist(r, "tags", tags, 2);
		sipd_ng_reply_open_list(r, "calls");
		sipd_ng_reply_open_dict(r, NULL);
		sipd_ng_reply_str(r, "call-id", "x");
		return sipd_ng_reply_close(r); /* "calls" left open */
	case FAIL_ERRNO:
		sipd_ng_reply_str(r, "sdp", "dropped");
		return -ENOENT;
	case FAIL_REASON:
		sipd_ng_reply_str(r, "sdp", "dropped");
		sipd_ng_reply_error(r, "unknown call-id %s", t->call_id);
		return 0;
	case DUP_KEY:
		sipd_ng_reply_str(r, "sdp", "a");
		sipd_ng_reply_str(r, "sdp", "b");
		sipd_ng_reply_str(r, "more", "c");
		return 0;
	case RESERVED:
		return sipd_ng_reply_str(r, "result", "pong");
	case WARN:
		sipd_ng_reply_open_dict(r, "inner");
		sipd_ng_reply_warning(r, "call %s not found", t->call_id);
		sipd_ng_reply_int(r, "n", 1);
		return 0;
	case BIG:
		memset(big, 'x', sizeof(big));
		sipd_ng_reply_bytes(r, "sdp", big, 60000);
		return 0;
	}
	return 0;
}

static struct th th;
static struct sipd_ng_handler hdl = {.command = handler, .ctx = &th};
static uint8_t out[SIPD_NG_MAX_DGRAM + 1];
static size_t outlen;

static struct sockaddr_storage v4(const char *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin->sin_family = AF_INET;
	sin->sin_port = htons(port);
	assert_int_equal(inet_pton(AF_INET, a, &sin->sin_addr), 1);
	return ss;
}

static struct sockaddr_storage v6(const char *a, uint16_t port)
{
	struct sockaddr_storage ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof(ss));
	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = htons(port);
	assert_int_equal(inet_pton(AF_INET6, a, &sin6->sin6_addr), 1);
	return ss;
}

static struct sipd_ng *open_ng(const struct sipd_ng_opts *o)
{
	char err[256] = "";
	struct sipd_ng *ng = sipd_ng_open(o, &hdl, err, sizeof(err));

	if (!ng)
		print_error("open: %s\n", err);
	assert_non_null(ng);
	memset(&th, 0, sizeof(th));
	return ng;
}

static struct sipd_ng *open_default(void)
{
	struct sipd_ng_opts o = {.now_ns = fake_clock};

	return open_ng(&o);
}

/* Process msg[0..len) from `from`: the rc; the reply NUL-terminated in out. */
static int send_from(struct sipd_ng *ng, const void *msg, size_t len,
		     const struct sockaddr_storage *from)
{
	int rc;

	outlen = sizeof(out) - 1;
	rc = sipd_ng_process(ng, msg, len, from, out, &outlen);
	out[rc == 1 ? outlen : 0] = '\0';
	return rc;
}

static int send_lo(struct sipd_ng *ng, const char *msg)
{
	struct sockaddr_storage lo = v4("127.0.0.1", 40000);

	return send_from(ng, msg, strlen(msg), &lo);
}

/* The reply to msg (from 127.0.0.1:40000) is exactly want. */
static void expect_reply(struct sipd_ng *ng, const char *msg, const char *want)
{
	assert_int_equal(send_lo(ng, msg), 1);
	assert_string_equal((char *)out, want);
}

/* The reply to msg is an error with exactly this reason. */
static void expect_error(struct sipd_ng *ng, const char *cookie_msg, const char *reason)
{
	char want[512];
	const char *sp = strchr(cookie_msg, ' ');

	snprintf(want, sizeof(want), "%.*s d12:error-reason%zu:%s6:result5:errore",
		 (int)(sp - cookie_msg), cookie_msg, strlen(reason), reason);
	expect_reply(ng, cookie_msg, want);
}

static void test_ping(void **state)
{
	struct sipd_ng *ng = open_default();

	(void)state;
	expect_reply(ng, "5323_1 d7:command4:pinge", "5323_1 d6:result4:ponge");
	assert_int_equal(th.calls, 0); /* the layer answers ping */
	assert_int_equal(sipd_ng_stats(ng)->commands[SIPD_NG_PING], 1);
	assert_int_equal(sipd_ng_stats(ng)->replied, 1);
	sipd_ng_close(ng);
}

/* An offer as Kamailio 5.6's rtpengine_offer("replace-origin
 * replace-session-connection ICE=remove trust-address") sends it: keys in
 * the module's order, not sorted. */
#define SDP_OFFER                                                                         \
	"v=0\r\no=- 1 1 IN IP4 198.51.100.7\r\ns=-\r\nc=IN IP4 198.51.100.7\r\nt=0 0\r\n" \
	"m=audio 16384 RTP/AVP 0 8 101\r\na=rtpmap:101 telephone-event/8000\r\n"
#define SDP_LEN "135"

static const char kam_offer[] = "58421_3 d"
				"3:sdp" SDP_LEN ":" SDP_OFFER "5:flagsl13:trust-address"
				"e"
				"7:replacel6:origin18:session-connection"
				"e"
				"3:ICE6:remove"
				"8:supportsl10:load limit"
				"e"
				"13:received-froml3:IP412:198.51.100.7"
				"e"
				"7:call-id24:a84b4c76e66710@pc33.test"
				"10:via-branch7:z9hG4bK"
				"8:from-tag10:1928301774"
				"5:label6:caller"
				"7:command5:offer"
				"e";

static void test_kamailio_offer(void **state)
{
	struct sipd_ng *ng = open_default();
	const struct sipd_ng_req *q = &th.req;

	(void)state;
	assert_int_equal(strlen(SDP_OFFER), atoi(SDP_LEN));
	expect_reply(ng, kam_offer, "58421_3 d6:result2:ok3:sdp" SDP_LEN ":" SDP_OFFER "e");
	assert_int_equal(th.calls, 1);
	assert_int_equal(th.cmd, SIPD_NG_OFFER);
	assert_string_equal(th.call_id, "a84b4c76e66710@pc33.test");
	assert_string_equal(th.from_tag, "1928301774");
	assert_string_equal(th.sdp, SDP_OFFER);
	assert_false(th.has_to_tag);
	assert_int_equal(q->flags.n, 1);
	assert_memory_equal(q->flags.v[0].p, "trust-address", 13);
	assert_int_equal(q->replace.n, 2);
	assert_memory_equal(q->replace.v[1].p, "session-connection", 18);
	assert_int_equal(q->ice.len, 6);
	assert_memory_equal(q->ice.p, "remove", 6);
	assert_int_equal(q->supports.n, 1);
	assert_int_equal(q->received_from.af, AF_INET);
	assert_int_equal(q->received_from.addr[10], 0xff);
	assert_int_equal(q->received_from.addr[12], 198);
	assert_memory_equal(q->via_branch.p, "z9hG4bK", 7);
	assert_false(q->has_direction);
	assert_int_equal(q->delete_delay, -1);
	/* the key the layer does not know is handed on */
	assert_int_equal(q->n_other, 1);
	assert_memory_equal(q->other[0].key.p, "label", 5);
	assert_true(sipd_benc_str_eq(q->other[0].val, "caller"));
	assert_memory_equal(q->cookie.p, "58421_3", 7);
	assert_int_equal(sipd_ng_stats(ng)->handler_calls, 1);
	assert_int_equal(sipd_ng_stats(ng)->commands[SIPD_NG_OFFER], 1);
	sipd_ng_close(ng);
}

static void test_more_keys(void **state)
{
	struct sipd_ng *ng = open_default();
	const struct sipd_ng_req *q = &th.req;

	(void)state;
	/* spaces for dashes, as rtpengine's own documentation spells them */
	assert_int_equal(send_lo(ng, "k d7:command5:offer7:call-id1:c8:from-tag1:f3:sdp3:v=0"
				     "13:received froml3:IP611:2001:db8::1e"
				     "13:media address9:192.0.2.1"
				     "18:transport protocol9:RTP/SAVPF"
				     "9:directionl4:priv3:pube"
				     "8:rtcp-muxl5:demux6:accepte"
				     "4:SDES3:off4:DTLS7:passive11:record call3:yes"
				     "14:address family3:IP6"
				     "5:codecd5:stripl3:allee"
				     "12:delete delayi0e"
				     "e"),
			 1);
	assert_int_equal(th.calls, 1);
	assert_int_equal(q->received_from.af, AF_INET6);
	assert_int_equal(q->received_from.addr[0], 0x20);
	assert_int_equal(q->received_from.addr[15], 1);
	assert_memory_equal(q->media_address.p, "192.0.2.1", 9);
	assert_memory_equal(q->transport_protocol.p, "RTP/SAVPF", 9);
	assert_true(q->has_direction);
	assert_memory_equal(q->direction[1].p, "pub", 3);
	assert_int_equal(q->rtcp_mux.n, 2);
	assert_int_equal(q->sdes.n, 1); /* one string counts as one entry */
	assert_memory_equal(q->dtls.p, "passive", 7);
	assert_memory_equal(q->record_call.p, "yes", 3);
	assert_memory_equal(q->address_family.p, "IP6", 3);
	assert_non_null(q->codec);
	assert_non_null(sipd_benc_dict_get(q->codec, "strip"));
	assert_int_equal(q->delete_delay, 0);
	assert_int_equal(q->n_other, 0);
	sipd_ng_close(ng);
}

static void test_answer_delete(void **state)
{
	struct sipd_ng *ng = open_default();

	(void)state;
	expect_reply(ng,
		     "a1 d7:command6:answer7:call-id1:c8:from-tag1:f6:to-tag1:t3:sdp5:v=0\r\n"
		     "5:flagsl13:trust-addressee",
		     "a1 d6:result2:ok3:sdp5:v=0\r\ne");
	assert_int_equal(th.cmd, SIPD_NG_ANSWER);
	assert_string_equal(th.to_tag, "t");
	expect_error(ng, "a2 d7:command6:answer7:call-id1:c8:from-tag1:f3:sdp3:v=0e",
		     "missing key to-tag");
	assert_int_equal(th.calls, 1);
	/* delete without to-tag (rtpengine_delete() of a call never answered) */
	expect_reply(ng, "d1 d7:command6:delete7:call-id1:c8:from-tag1:fe", "d1 d6:result2:oke");
	assert_int_equal(th.calls, 2);
	assert_int_equal(th.cmd, SIPD_NG_DELETE);
	assert_false(th.has_to_tag);
	expect_reply(ng,
		     "d2 d7:command6:delete7:call-id1:c8:from-tag1:f6:to-tag1:t5:flagsl5:fatalee",
		     "d2 d6:result2:oke");
	assert_true(th.has_to_tag);
	expect_error(ng, "d3 d7:command6:delete7:call-id1:ce", "missing key from-tag");
	expect_error(ng, "d4 d7:command6:delete8:from-tag1:fe", "missing key call-id");
	expect_reply(ng, "q1 d7:command5:query7:call-id1:ce", "q1 d6:result2:oke");
	expect_error(ng, "q2 d7:command5:querye", "missing key call-id");
	expect_reply(ng, "l1 d7:command4:list5:limiti10ee", "l1 d6:result2:oke");
	assert_int_equal(th.req.limit, 10);
	expect_reply(ng, "l2 d7:command4:list5:limit2:32e", "l2 d6:result2:oke");
	assert_int_equal(th.req.limit, 32);
	expect_error(ng, "l3 d7:command4:list5:limiti0ee", "key limit: must be more than 0");
	expect_reply(ng, "s1 d7:command10:statisticse", "s1 d6:result2:oke");
	assert_int_equal(th.cmd, SIPD_NG_STATISTICS);
	assert_int_equal(th.calls, 7);
	assert_int_equal(sipd_ng_stats(ng)->err_request, 5);
	sipd_ng_close(ng);
}

static void test_unknown_command(void **state)
{
	struct sipd_ng *ng = open_default();

	(void)state;
	expect_error(ng, "u1 d7:command7:frobnice", "unknown command \"frobnic\"");
	expect_error(ng, "u2 d7:command15:start recordinge", "unknown command \"start recording\"");
	expect_error(ng, "u3 d7:command4:PINGe", "unknown command \"PING\"");
	expect_error(ng, "u4 d7:command3:a\"be", "unknown command \"a?b\"");
	assert_int_equal(th.calls, 0);
	assert_int_equal(sipd_ng_stats(ng)->err_unknown_command, 4);
	sipd_ng_close(ng);
}

static void test_missing_and_bad_keys(void **state)
{
	struct sipd_ng *ng = open_default();

	(void)state;
	expect_error(ng, "m1 d7:call-id1:ce", "missing key command");
	expect_error(ng, "m2 d7:command5:offer8:from-tag1:f3:sdp3:v=0e", "missing key call-id");
	expect_error(ng, "m3 d7:command5:offer7:call-id1:c3:sdp3:v=0e", "missing key from-tag");
	expect_error(ng, "m4 d7:command5:offer7:call-id1:c8:from-tag1:fe", "missing key sdp");
	expect_error(ng, "m5 d7:command5:offer7:call-id0:8:from-tag1:f3:sdp3:v=0e",
		     "empty call-id");
	expect_error(ng, "m6 d7:commandi1ee", "key command: want a string, got an integer");
	expect_error(ng, "m7 d7:command5:offer7:call-idle8:from-tag1:f3:sdp3:v=0e",
		     "key call-id: want a string, got a list");
	expect_error(ng, "m8 d7:command4:ping5:flags1:xe",
		     "key flags: want a list of strings, got a string");
	expect_error(ng, "m9 d7:command4:ping5:flagsl1:xi1eee",
		     "key flags: entry 2 is an integer, want a string");
	expect_error(ng, "m10 d7:command4:ping9:directionl1:aee",
		     "key direction: want a list of 2 strings");
	expect_error(ng, "m11 d7:command4:ping13:received-froml3:IP51:xee",
		     "key received-from: address family is neither IP4 nor IP6");
	expect_error(ng, "m12 d7:command4:ping13:received-froml3:IP47:2001::1ee",
		     "key received-from: \"2001::1\" is not an IPv4 address");
	expect_error(ng, "m13 d7:command4:ping13:received-froml3:IP69:127.0.0.1ee",
		     "key received-from: \"127.0.0.1\" is not an IPv6 address");
	expect_error(ng, "m14 d7:command4:ping13:media-address4:nopee",
		     "key media-address: \"nope\" is not an IP address");
	expect_error(ng, "m15 d7:command4:ping5:codec3:alle",
		     "key codec: want a dictionary, got a string");
	expect_error(ng, "m16 d7:command4:ping12:delete-delayi-1ee",
		     "key delete-delay: must not be negative");
	expect_error(ng, "m17 d7:command4:ping14:address-family3:IP5e",
		     "key address-family: want IP4 or IP6");
	expect_error(ng, "m18 d7:command4:ping5:limit2:1xe", "key limit: want an integer");
	/* one key in two spellings is one key twice */
	expect_error(ng, "m19 d7:command4:ping10:via-branch1:a10:via branch1:be",
		     "duplicate key via-branch");
	assert_int_equal(th.calls, 0);
	assert_int_equal(sipd_ng_stats(ng)->err_request, 19);
	sipd_ng_close(ng);
}

static void test_bounds_of_requests(void **state)
{
	struct sipd_ng *ng = open_default();
	static char msg[8192];
	size_t n;

	(void)state;
	n = (size_t)snprintf(msg, sizeof(msg), "b1 d7:command4:ping5:flagsl");
	for (int i = 0; i < SIPD_NG_MAX_LIST + 1; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "1:x");
	snprintf(msg + n, sizeof(msg) - n, "ee");
	expect_error(ng, msg, "key flags: more than 32 entries");
	n = (size_t)snprintf(msg, sizeof(msg), "b2 d7:command4:ping");
	for (int i = 0; i < SIPD_NG_MAX_OTHER + 1; i++)
		n += (size_t)snprintf(msg + n, sizeof(msg) - n, "3:k%02di1e", i);
	snprintf(msg + n, sizeof(msg) - n, "e");
	expect_error(ng, msg, "more than 64 unrecognised keys");
	sipd_ng_close(ng);
}

static void test_garbage(void **state)
{
	struct sipd_ng *ng = open_default();
	static uint8_t big[SIPD_NG_MAX_DGRAM + 10];
	struct sockaddr_storage lo = v4("127.0.0.1", 40000);
	const struct sipd_ng_stats *st = sipd_ng_stats(ng);
	unsigned int seed = 3;

	(void)state;
	expect_error(
		ng, "g1 d7:command4:ping",
		"bad bencode: offset 0: dictionary not terminated before the end of the input");
	expect_error(ng, "g2 ", "bad bencode: offset 0: empty input");
	expect_error(ng, "g3 d7:command4:pingee",
		     "bad bencode: offset 17: 1 trailing bytes after the value");
	expect_error(ng, "g4 l7:command4:pinge", "the message is a list, want a dictionary");
	expect_error(
		ng, "g5 {\"command\":\"ping\"}",
		"bad bencode: offset 0: unexpected byte '{' (want a value: i, l, d or a digit)");
	expect_error(
		ng, "g6  d7:command4:pinge",
		"bad bencode: offset 0: unexpected byte ' ' (want a value: i, l, d or a digit)");
	assert_int_equal(st->err_decode, 6);
	/* without a cookie there is nobody to answer */
	assert_int_equal(send_lo(ng, "d7:command4:pinge"), 0);
	assert_int_equal(send_lo(ng, " d7:command4:pinge"), 0);
	assert_int_equal(send_lo(ng, ""), 0);
	assert_int_equal(send_from(ng, "a\x01 de", 5, &lo), 0);
	memset(big, 'c', 65);
	big[65] = ' ';
	assert_int_equal(send_from(ng, big, 66, &lo), 0); /* cookie of 65 bytes */
	big[64] = ' ';
	assert_int_equal(send_from(ng, big, 66, &lo), 1); /* 64 is fine */
	assert_int_equal(st->dropped_bad_cookie, 5);
	/* too large */
	memcpy(big, "huge d", 6);
	memset(big + 6, 'x', sizeof(big) - 6);
	assert_int_equal(send_from(ng, big, sizeof(big), &lo), 1);
	assert_string_equal((char *)out, "huge d12:error-reason50:request of 65545 bytes or more, "
					 "the limit is 655356:result5:errore");
	assert_int_equal(st->err_too_large, 1);
	/* random bytes after a cookie: always a well-formed error */
	for (int i = 0; i < 500; i++) {
		size_t n = 5 + (size_t)(rand_r(&seed) % 200);

		snprintf((char *)big, 5, "r%03d", i);
		big[4] = ' ';
		for (size_t k = 5; k < n; k++)
			big[k] = (uint8_t) "dlie0123456789:x"[rand_r(&seed) % 16];
		assert_int_equal(send_from(ng, big, n, &lo), 1);
		assert_memory_equal(out, big, 5);
		assert_non_null(strstr((char *)out, "6:result"));
	}
	assert_int_equal(th.calls, 0);
	sipd_ng_close(ng);
}

static void test_reply_api(void **state)
{
	struct sipd_ng *ng = open_default();
	(void)state;
	th.mode = NESTED;
	expect_reply(ng, "n1 d7:command5:query7:call-id1:ce",
		     "n1 d5:callsld7:call-id1:xee7:createdi1402064111e6:result2:ok"
		     "4:tagsl1:a1:be6:totalsd3:RTPd5:bytesi100287e7:packetsi705eeee");
	th.mode = FAIL_ERRNO;
	expect_error(ng, "n2 d7:command5:query7:call-id1:ce",
		     "internal error: No such file or directory");
	th.mode = FAIL_REASON;
	expect_error(ng, "n3 d7:command5:query7:call-id2:c9e", "unknown call-id c9");
	th.mode = DUP_KEY;
	expect_error(ng, "n4 d7:command5:query7:call-id1:ce",
		     "reply not built: duplicate key \"sdp\"");
	th.mode = RESERVED;
	expect_error(ng, "n5 d7:command5:query7:call-id1:ce",
		     "reply not built: key result is the layer's");
	th.mode = WARN;
	expect_reply(ng, "n6 d7:command6:delete7:call-id1:c8:from-tag1:fe",
		     "n6 d5:innerd1:ni1ee6:result2:ok7:warning16:call c not founde");
	assert_int_equal(sipd_ng_stats(ng)->err_handler, 2);
	assert_int_equal(sipd_ng_stats(ng)->err_reply, 2);
	sipd_ng_close(ng);
}

static void test_no_handler(void **state)
{
	struct sipd_ng_opts o = {.now_ns = fake_clock};
	char err[128];
	struct sipd_ng *ng = sipd_ng_open(&o, NULL, err, sizeof(err));

	(void)state;
	assert_non_null(ng);
	expect_reply(ng, "p d7:command4:pinge", "p d6:result4:ponge");
	expect_error(ng, "o d7:command5:query7:call-id1:ce", "command query not implemented");
	sipd_ng_close(ng);
}

static void test_reply_too_large(void **state)
{
	struct sipd_ng *ng = open_default();
	struct sockaddr_storage lo = v4("127.0.0.1", 40000);
	const char *q = "t1 d7:command5:query7:call-id1:ce";
	uint8_t small[64];
	size_t n;

	(void)state;
	th.mode = BIG;
	assert_int_equal(send_lo(ng, q), 1);
	assert_int_equal(outlen, 60000 + strlen("t1 d6:result2:ok3:sdp60000:e"));
	n = sizeof(small);
	assert_int_equal(sipd_ng_process(ng, (const uint8_t *)"t2 d7:command5:query7:call-id1:ce",
					 33, &lo, small, &n),
			 1);
	assert_int_equal(n, 64);
	assert_memory_equal(small,
			    "t2 d12:error-reason26:reply larger than 64 bytes6:result5:errore", 64);
	n = 10;
	assert_int_equal(sipd_ng_process(ng, (const uint8_t *)"t3 d7:command5:query7:call-id1:ce",
					 33, &lo, small, &n),
			 -ENOSPC);
	assert_int_equal(sipd_ng_stats(ng)->err_reply, 2);
	sipd_ng_close(ng);
}

static void test_cache(void **state)
{
	struct sipd_ng *ng = open_default();
	struct sockaddr_storage a = v4("127.0.0.1", 40000), b = v4("127.0.0.1", 40001);
	const char *msg = kam_offer;
	uint8_t first[1024];
	size_t firstlen;
	const struct sipd_ng_stats *st = sipd_ng_stats(ng);

	(void)state;
	assert_int_equal(send_from(ng, msg, strlen(msg), &a), 1);
	memcpy(first, out, outlen);
	firstlen = outlen;
	/* a retransmission: the same bytes, no second call */
	fake_now += 1 * SEC;
	assert_int_equal(send_from(ng, msg, strlen(msg), &a), 1);
	assert_int_equal(outlen, firstlen);
	assert_memory_equal(out, first, firstlen);
	assert_int_equal(th.calls, 1);
	assert_int_equal(st->cache_hits, 1);
	/* the cookie names the request, whatever the body says now */
	assert_int_equal(send_from(ng, "58421_3 d7:command4:pinge", 25, &a), 1);
	assert_memory_equal(out, first, firstlen);
	/* another source with the same cookie is another request */
	assert_int_equal(send_from(ng, msg, strlen(msg), &b), 1);
	assert_int_equal(th.calls, 2);
	/* errors are cached too */
	expect_error(ng, "e1 d7:command5:offere", "missing key call-id");
	expect_error(ng, "e1 d7:command4:pinge", "missing key call-id");
	/* after the TTL the cookie is new again */
	fake_now += 30 * SEC;
	assert_int_equal(send_from(ng, msg, strlen(msg), &a), 1);
	assert_int_equal(th.calls, 3);
	assert_int_equal(st->cache_hits, 3);
	assert_int_equal(st->replied, 7);
	sipd_ng_close(ng);
}

static void test_cache_bounds(void **state)
{
	struct sipd_ng_opts o = {.now_ns = fake_clock, .cache_max = 2, .cache_ttl_ms = 1000};
	struct sipd_ng *ng = open_ng(&o);
	const struct sipd_ng_stats *st = sipd_ng_stats(ng);

	(void)state;
	expect_reply(ng, "c1 d7:command5:query7:call-id1:ce", "c1 d6:result2:oke");
	expect_reply(ng, "c2 d7:command5:query7:call-id1:ce", "c2 d6:result2:oke");
	expect_reply(ng, "c3 d7:command5:query7:call-id1:ce", "c3 d6:result2:oke");
	assert_int_equal(th.calls, 3);
	assert_int_equal(st->cache_evicted, 1);
	assert_int_equal(st->cache_entries, 2);
	expect_reply(ng, "c1 d7:command5:query7:call-id1:ce", "c1 d6:result2:oke"); /* evicted */
	assert_int_equal(th.calls, 4);
	expect_reply(ng, "c3 d7:command5:query7:call-id1:ce", "c3 d6:result2:oke"); /* cached */
	assert_int_equal(th.calls, 4);
	fake_now += 2 * SEC;
	expect_reply(ng, "c3 d7:command5:query7:call-id1:ce", "c3 d6:result2:oke");
	assert_int_equal(th.calls, 5);
	assert_int_equal(st->cache_entries, 1);
	sipd_ng_close(ng);

	/* a byte budget: two 60 KB replies do not fit in 100 KB */
	o = (struct sipd_ng_opts){.now_ns = fake_clock, .cache_bytes = 100000};
	ng = open_ng(&o);
	st = sipd_ng_stats(ng);
	th.mode = BIG;
	assert_int_equal(send_lo(ng, "b1 d7:command5:query7:call-id1:ce"), 1);
	assert_int_equal(send_lo(ng, "b2 d7:command5:query7:call-id1:ce"), 1);
	assert_int_equal(st->cache_entries, 1);
	assert_int_equal(st->cache_evicted, 1);
	sipd_ng_close(ng);
}

static void test_access(void **state)
{
	const char *const ctl[] = {"127.0.0.1/32", "::1"};
	struct sipd_ng_opts o = {.now_ns = fake_clock, .controllers = ctl, .n_controllers = 2};
	struct sipd_ng *ng = open_ng(&o);
	struct sockaddr_storage ok4 = v4("127.0.0.1", 1), ok6 = v6("::1", 1),
				other_lo = v4("127.0.0.2", 1), remote = v4("192.0.2.1", 1),
				mapped = v6("::ffff:127.0.0.1", 1), remote6 = v6("2001:db8::1", 1);
	struct sockaddr_storage un = {.ss_family = AF_UNIX};
	const char *ping = "x d7:command4:pinge";
	const struct sipd_ng_stats *st = sipd_ng_stats(ng);

	(void)state;
	assert_int_equal(send_from(ng, ping, strlen(ping), &ok4), 1);
	assert_int_equal(send_from(ng, ping, strlen(ping), &ok6), 1);
	assert_int_equal(send_from(ng, ping, strlen(ping), &mapped), 1);
	assert_int_equal(send_from(ng, ping, strlen(ping), &un), 1);
	/* dropped, not answered, not even parsed */
	assert_int_equal(send_from(ng, ping, strlen(ping), &other_lo), 0);
	assert_int_equal(send_from(ng, ping, strlen(ping), &remote), 0);
	assert_int_equal(send_from(ng, ping, strlen(ping), &remote6), 0);
	assert_int_equal(send_from(ng, "garbage", 7, &remote), 0);
	assert_int_equal(outlen, 0);
	assert_int_equal(st->dropped_unauthorised, 4);
	assert_int_equal(st->received, 8);
	assert_int_equal(st->replied, 4);
	/* ::ffff:127.0.0.1 is 127.0.0.1: the same source, a retransmission */
	assert_int_equal(st->cache_hits, 1);
	assert_int_equal(st->commands[SIPD_NG_PING], 3);
	sipd_ng_close(ng);

	/* remote controllers need allow_remote */
	{
		const char *const rem[] = {"192.0.2.0/24", "2001:db8::/32"};
		char err[256];

		o = (struct sipd_ng_opts){.controllers = rem, .n_controllers = 2};
		assert_null(sipd_ng_open(&o, &hdl, err, sizeof(err)));
		assert_string_equal(err,
				    "control: controller \"192.0.2.0/24\" is not loopback (set "
				    "control.allow_remote to admit it)");
		o.allow_remote = 1;
		ng = open_ng(&o);
		assert_int_equal(send_from(ng, ping, strlen(ping), &remote), 1);
		assert_int_equal(send_from(ng, ping, strlen(ping), &remote6), 1);
		assert_int_equal(send_from(ng, ping, strlen(ping), &ok4), 0);
		sipd_ng_close(ng);
	}
	/* default: loopback only */
	ng = open_default();
	assert_int_equal(send_from(ng, ping, strlen(ping), &other_lo), 1);
	assert_int_equal(send_from(ng, ping, strlen(ping), &ok6), 1);
	assert_int_equal(send_from(ng, ping, strlen(ping), &remote), 0);
	sipd_ng_close(ng);
}

static void open_fails(const struct sipd_ng_opts *o, const char *want)
{
	char err[256] = "";

	assert_null(sipd_ng_open(o, &hdl, err, sizeof(err)));
	assert_string_equal(err, want);
}

static void test_open_errors(void **state)
{
	const char *const bad1[] = {"10.0.0.1/8"};
	const char *const bad2[] = {"10.0.0.0/33"};
	const char *const bad3[] = {"nope"};
	const char *const bad4[] = {"::1/"};

	(void)state;
	open_fails(
		&(struct sipd_ng_opts){.controllers = bad1, .n_controllers = 1, .allow_remote = 1},
		"control: controller \"10.0.0.1/8\" has bits set past its prefix");
	open_fails(
		&(struct sipd_ng_opts){.controllers = bad2, .n_controllers = 1, .allow_remote = 1},
		"control: controller \"10.0.0.0/33\": bad prefix length");
	open_fails(&(struct sipd_ng_opts){.controllers = bad3, .n_controllers = 1},
		   "control: controller \"nope\" is not an address or CIDR");
	open_fails(&(struct sipd_ng_opts){.controllers = bad4, .n_controllers = 1},
		   "control: controller \"::1/\": bad prefix length");
	open_fails(&(struct sipd_ng_opts){.listen = "192.0.2.1:22222"},
		   "control: listen \"192.0.2.1:22222\" is not a loopback address (set "
		   "control.allow_remote to expose it)");
	open_fails(&(struct sipd_ng_opts){.listen = "127.0.0.1"},
		   "control: listen \"127.0.0.1\": want \"ADDR:PORT\" or \"[V6ADDR]:PORT\" (port "
		   "0-65535)");
	open_fails(&(struct sipd_ng_opts){.listen = "::1:22222"},
		   "control: listen \"::1:22222\": want \"ADDR:PORT\" or \"[V6ADDR]:PORT\" (port "
		   "0-65535)");
	open_fails(&(struct sipd_ng_opts){.listen = "127.0.0.1:65536"},
		   "control: listen \"127.0.0.1:65536\": want \"ADDR:PORT\" or \"[V6ADDR]:PORT\" "
		   "(port 0-65535)");
	open_fails(&(struct sipd_ng_opts){.unix_path = "/nonexistent-dir/ng.sock"},
		   "control: cannot bind /nonexistent-dir/ng.sock: No such file or directory");
	open_fails(&(struct sipd_ng_opts){.unix_path = "/etc/passwd"},
		   "control: /etc/passwd exists and is not a socket");
}

/* A real datagram on 127.0.0.1 through fill/poll/service. */
static void test_udp_round_trip(void **state)
{
	struct sipd_ng_opts o = {.listen = "127.0.0.1:0"};
	struct sipd_ng *ng = open_ng(&o);
	struct sockaddr_in to = {.sin_family = AF_INET};
	struct pollfd p[SIPD_NG_MAX_POLLFD];
	unsigned int n;
	char buf[2048];
	ssize_t r;
	int c;

	(void)state;
	to.sin_port = htons(sipd_ng_udp_port(ng));
	to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_true(to.sin_port != 0);
	c = socket(AF_INET, SOCK_DGRAM, 0);
	assert_true(c >= 0);
	for (int round = 0; round < 2; round++) { /* the second is a retransmission */
		assert_int_equal(sendto(c, kam_offer, strlen(kam_offer), 0, (struct sockaddr *)&to,
					sizeof(to)),
				 (ssize_t)strlen(kam_offer));
		n = sipd_ng_fill(ng, p, SIPD_NG_MAX_POLLFD);
		assert_int_equal(n, 1);
		assert_int_equal(poll(p, n, 2000), 1);
		sipd_ng_service(ng, p, n);
		r = recv(c, buf, sizeof(buf) - 1, MSG_DONTWAIT);
		assert_true(r > 0);
		buf[r] = '\0';
		assert_string_equal(buf, "58421_3 d6:result2:ok3:sdp" SDP_LEN ":" SDP_OFFER "e");
	}
	assert_int_equal(th.calls, 1);
	assert_int_equal(sipd_ng_stats(ng)->cache_hits, 1);
	/* nothing pending: service returns at once */
	p[0].revents = POLLIN;
	sipd_ng_service(ng, p, n);
	assert_int_equal(sipd_ng_stats(ng)->received, 2);
	assert_int_equal(sipd_ng_stats(ng)->recv_errors, 0);
	close(c);
	sipd_ng_close(ng);
}

static void test_unix_round_trip(void **state)
{
	char dir[] = "/tmp/test-ng.XXXXXX";
	struct sockaddr_un srv = {.sun_family = AF_UNIX}, cli = {.sun_family = AF_UNIX};
	struct sipd_ng_opts o = {0};
	struct sipd_ng *ng;
	struct pollfd p[SIPD_NG_MAX_POLLFD];
	struct stat st;
	unsigned int n;
	char buf[256];
	ssize_t r;
	int c, anon;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(srv.sun_path, sizeof(srv.sun_path), "%s/ng.sock", dir);
	snprintf(cli.sun_path, sizeof(cli.sun_path), "%s/cli.sock", dir);
	o.unix_path = srv.sun_path;
	ng = open_ng(&o);
	assert_int_equal(stat(srv.sun_path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_int_equal(st.st_mode & 0777, 0660);
	c = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(bind(c, (struct sockaddr *)&cli, sizeof(cli)), 0);
	assert_int_equal(
		sendto(c, "u1 d7:command4:pinge", 20, 0, (struct sockaddr *)&srv, sizeof(srv)), 20);
	/* an unnamed sender cannot get a reply: counted, not processed */
	anon = socket(AF_UNIX, SOCK_DGRAM, 0);
	assert_int_equal(
		sendto(anon, "u2 d7:command4:pinge", 20, 0, (struct sockaddr *)&srv, sizeof(srv)),
		20);
	n = sipd_ng_fill(ng, p, SIPD_NG_MAX_POLLFD);
	assert_int_equal(n, 1);
	assert_int_equal(poll(p, n, 2000), 1);
	sipd_ng_service(ng, p, n);
	r = recv(c, buf, sizeof(buf) - 1, MSG_DONTWAIT);
	assert_int_equal(r, 19);
	buf[r] = '\0';
	assert_string_equal(buf, "u1 d6:result4:ponge");
	assert_int_equal(sipd_ng_stats(ng)->dropped_unaddressable, 1);
	assert_int_equal(sipd_ng_stats(ng)->replied, 1);
	close(anon);
	close(c);
	/* a socket left behind is replaced; close removes it */
	sipd_ng_close(ng);
	assert_int_equal(stat(srv.sun_path, &st), -1);
	ng = open_ng(&o);
	{
		struct sipd_ng *again = open_ng(&o); /* takes the path over */

		sipd_ng_close(again);
	}
	sipd_ng_close(ng);
	unlink(cli.sun_path);
	assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ping),
		cmocka_unit_test(test_kamailio_offer),
		cmocka_unit_test(test_more_keys),
		cmocka_unit_test(test_answer_delete),
		cmocka_unit_test(test_unknown_command),
		cmocka_unit_test(test_missing_and_bad_keys),
		cmocka_unit_test(test_bounds_of_requests),
		cmocka_unit_test(test_garbage),
		cmocka_unit_test(test_reply_api),
		cmocka_unit_test(test_no_handler),
		cmocka_unit_test(test_reply_too_large),
		cmocka_unit_test(test_cache),
		cmocka_unit_test(test_cache_bounds),
		cmocka_unit_test(test_access),
		cmocka_unit_test(test_open_errors),
		cmocka_unit_test(test_udp_round_trip),
		cmocka_unit_test(test_unix_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
