// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd against an attacker outside (docs/security.md), on REAL pinned maps
 * with the real XDP program judging the media: forged answers, roles
 * claimed by tags, special and wrong-side media addresses, spoofed inside
 * sources, hijacking a live call's destination, and the budgets nobody
 * outside may exhaust (calls, transactions, pinholes, Timer B expiry).
 * Needs root and BPF; every test is skipped otherwise.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/bpf.h>
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>

#include "dgram.h"
#include "msgs.h"
#include "sipd/config.h"
#include "sipd/guard.h"
#include "sipd/sipd.h"
#include "tests/common/bpfenv.h"

#define S	1000000000ull
#define ATTACK	"198.51.100.66" /* outside, not a party of any call */
#define ATTACK6 "2001:db8::66"
#define BOB6	"fd00:1::5"
#define UNUSED	"10.1.0.99" /* inside, nobody there */

static uint64_t T0;

/* lo faces the inside here, so any other ifindex is an outside one. */
static const char *cfg_json =
	"{\"networks\": {\"inside\": [\"10.1.0.0/16\", \"fd00:1::/64\"]},"
	" \"media\": {\"open_at_offer\": \"off\"},"
	" \"security\": {\"inside_interfaces\": [\"lo\"]},"
	" \"timeouts\": {\"bye_grace_s\": 2, \"idle_s\": 300, \"max_call_s\": 0,"
	"   \"silent_dialog_s\": 3600, \"early_dialog_s\": 0}}";

static int setup(void **state)
{
	return bpfenv_setup(state, "sw-sec", cfg_json);
}

static void set_src(struct sip_msg *m, const char *src, const char *dst)
{
	t_addr(src, m->src.addr);
	t_addr(dst, m->dst.addr);
}

static void branch(struct sip_msg *m, const char *b)
{
	snprintf(m->via_branch, sizeof(m->via_branch), "%s", b);
}

/* Alice (outside) calls Bob (inside): INVITE, 200, ACK; media live. */
static void establish(struct bpfenv *e, const char *cid, uint16_t aport, uint16_t bport)
{
	struct sip_msg m;

	t_req(&m, "INVITE", cid, 0, NULL, 1);
	branch(&m, "z9hG4bK-live");
	t_with_sdp(&m, ALICE, aport, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", cid, 0, BTAG, 1);
	branch(&m, "z9hG4bK-live");
	t_with_sdp(&m, BOB, bport, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_req(&m, "ACK", cid, 0, BTAG, 1);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_xdp(e, ALICE, aport, BOB, bport), XDP_PASS);
}

/* An offer from the attacker to an inside address, then the attacker's own
 * forged 200 naming an inside destination: nothing opens. */
static void test_forged_answer_from_outside(void **state)
{
	struct bpfenv *e = *state;
	static const char *methods[] = {"UPDATE", "INVITE"};
	struct sip_msg m;
	struct sipd_stats st;
	unsigned int i;

	NEED_ENV(e);
	for (i = 0; i < 2; i++) {
		int v6;

		for (v6 = 0; v6 < 2; v6++) {
			const char *att = v6 ? ATTACK6 : ATTACK, *bob = v6 ? BOB6 : BOB;
			char cid[32];

			snprintf(cid, sizeof(cid), "forge-%s-v%d", methods[i], v6 ? 6 : 4);

			t_req(&m, methods[i], cid, 0, i ? NULL : "invented", 1);
			set_src(&m, att, bob);
			branch(&m, "z9hG4bK-forge");
			t_with_sdp(&m, att, 4000, SDP_SENDRECV);
			assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED); /* an offer */
			/* the attacker answers it itself, naming Bob's 11211 */
			t_resp(&m, 200, methods[i], cid, 0, "invented", 1);
			set_src(&m, att, bob);
			branch(&m, "z9hG4bK-forge");
			t_with_sdp(&m, bob, 11211, SDP_SENDRECV);
			assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_RESPONSE);
			assert_int_equal(bpfenv_get(e, bob, 11211, &(struct sw_pinhole){0}),
					 -ENOENT);
			assert_int_equal(bpfenv_xdp(e, att, 4000, bob, 11211), XDP_DROP);
		}
	}
	assert_int_equal(bpfenv_count(e), 0);
	/* the offers went nowhere: no call_start, and Timer B/F ends them */
	fflush(e->evf);
	assert_null(strstr(e->evbuf, "\"event\":\"call_start\""));
	sipd_tick(e->d, T0 + 33 * S);
	sipd_get_stats(e->d, &st);
	assert_int_equal(st.calls_active, 0);
	assert_int_equal(st.calls_unanswered, 4);
	fflush(e->evf);
	assert_null(strstr(e->evbuf, "\"event\":\"call_end\""));
}

/* A response with the right addresses but another branch or CSeq does not
 * belong to the request, and neither does the right one from elsewhere. */
static void test_response_must_match(void **state)
{
	struct bpfenv *e = *state;
	struct sip_msg m;

	NEED_ENV(e);
	t_req(&m, "INVITE", "match-1", 0, NULL, 1);
	branch(&m, "z9hG4bK-a1");
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "match-1", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	branch(&m, "z9hG4bK-other");
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_RESPONSE);
	branch(&m, "z9hG4bK-a1");
	m.cseq = 2;
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_RESPONSE);
	m.cseq = 1;
	t_addr(BOB2, m.src.addr);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_RESPONSE);
	assert_int_equal(bpfenv_count(e), 0);
	/* a 403 that matches nothing counts toward no ban either */
	t_resp(&m, 403, "INVITE", "match-x", 0, BTAG, 1);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_RESPONSE);
	/* the real one */
	t_resp(&m, 200, "INVITE", "match-1", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	branch(&m, "z9hG4bK-a1");
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 4);
	/* its retransmission still matches; after Timer B + 32 s it does not */
	assert_int_equal(bpfenv_msg(e, &m, T0 + 10 * S), SW_SIP_R_ACCEPTED);
	sipd_tick(e->d, T0 + 60 * S);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 60 * S), SW_SIP_R_UNMATCHED_RESPONSE);
}

/* With security.unmatched_responses "pass" a forged response is passed but
 * believed in nothing. */
static void test_unmatched_pass_mode(void **state)
{
	struct bpfenv e;
	struct sip_msg m;

	NEED_ENV(*state);
	assert_int_equal(bpfenv_up(&e, "sw-sec",
				   "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
				   " \"security\": {\"unmatched_responses\": \"pass\"}}",
				   0),
			 0);
	t_req(&m, "UPDATE", "pass-1", 0, "x", 1);
	set_src(&m, ATTACK, UNUSED);
	t_with_sdp(&m, ATTACK, 4000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "UPDATE", "pass-1", 0, "x", 1);
	set_src(&m, ATTACK, UNUSED);
	t_with_sdp(&m, BOB, 11211, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(&e), 0);
	bpfenv_down(&e);
}

/* SDP naming addresses no call may use, or an inside one from outside. */
static void test_media_addresses(void **state)
{
	struct bpfenv *e = *state;
	static const struct {
		const char *addr;
		int said_v6; /* written as IN IP6 */
		enum sw_sip_reason want;
	} rows[] = {
		{"127.0.0.1", 0, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"224.0.0.1", 0, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"239.1.2.3", 0, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"255.255.255.255", 0, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"169.254.7.7", 0, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"0.1.2.3", 0, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"240.0.0.9", 0, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"::1", 1, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"ff02::1", 1, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"fe80::1", 1, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"::ffff:198.51.100.10", 1, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"::198.51.100.10", 1, SW_SIP_R_BAD_MEDIA_ADDRESS},
		{"10.1.0.7", 0, SW_SIP_R_WRONG_SIDE},  /* inside, from outside */
		{"fd00:1::7", 1, SW_SIP_R_WRONG_SIDE}, /* the same in IPv6 */
		{"0.0.0.0", 0, SW_SIP_R_ACCEPTED},     /* hold */
		{"203.0.113.5", 0, SW_SIP_R_ACCEPTED}, /* a third outside party */
	};
	struct ifaddrs *ifa, *i;
	struct sip_msg m;
	unsigned int r;
	char own[64] = "";

	NEED_ENV(e);
	for (r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		struct sipd_stats st;
		char cid[32];
		uint64_t before;

		snprintf(cid, sizeof(cid), "addr-%u", r);
		sipd_get_stats(e->d, &st);
		before = st.media_refused[rows[r].want];
		t_req(&m, "INVITE", cid, 0, NULL, 1);
		t_with_sdp(&m, rows[r].addr, 16000, SDP_SENDRECV);
		if (rows[r].said_v6 && sw_addr_is_v4(m.sdp.media[0].addr))
			m.sdp.media[0].addr_v6_mapped = 1; /* as sdp.c marks it */
		/* the message passes: only the stream is refused */
		assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
		t_resp(&m, 200, "INVITE", cid, 0, BTAG, 1);
		t_with_sdp(&m, BOB, (uint16_t)(12000 + 2 * r), SDP_SENDRECV);
		assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
		sipd_get_stats(e->d, &st);
		if (rows[r].want != SW_SIP_R_ACCEPTED) {
			if (st.media_refused[rows[r].want] != before + 1)
				fail_msg("c=%s: not refused as %s", rows[r].addr,
					 sw_sip_reason_name(rows[r].want));
			/* no pinhole in either direction for that m= line */
			assert_int_equal(bpfenv_get(e, BOB, (uint16_t)(12000 + 2 * r),
						    &(struct sw_pinhole){0}),
					 -ENOENT);
		} else if (strcmp(rows[r].addr, "0.0.0.0")) {
			assert_int_equal(bpfenv_get(e, BOB, (uint16_t)(12000 + 2 * r),
						    &(struct sw_pinhole){0}),
					 0);
		}
	}
	{
		struct sipd_stats st;
		unsigned int open = bpfenv_count(e);

		sipd_get_stats(e->d, &st);
		assert_int_equal(st.media_refused[SW_SIP_R_BAD_MEDIA_ADDRESS], 12);
		assert_int_equal(st.media_refused[SW_SIP_R_WRONG_SIDE], 2);
		assert_int_equal(open, 4); /* only the third outside party's call */
		fflush(e->evf);
		assert_non_null(strstr(e->evbuf, "\"event\":\"media_refused\""));
	}
	/* a=rtcp on another family, or on the other side of the RTP address */
	t_req(&m, "INVITE", "rtcp-1", 1, BTAG, 1);
	m.to_tag[0] = '\0';
	t_with_sdp(&m, BOB, 13000, SDP_SENDRECV);
	t_addr(BOB6, m.sdp.media[0].rtcp_addr);
	{
		struct sipd_stats st;

		assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
		t_addr(ALICE, m.sdp.media[0].rtcp_addr);
		assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
		sipd_get_stats(e->d, &st);
		assert_int_equal(st.media_refused[SW_SIP_R_BAD_MEDIA_ADDRESS], 14);
		t_addr(BOB2, m.sdp.media[0].rtcp_addr);
		assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
		sipd_get_stats(e->d, &st);
		assert_int_equal(st.media_refused[SW_SIP_R_BAD_MEDIA_ADDRESS], 14);
	}
	/* an inside party may name an outside address (its own NAT'd peer) */
	t_req(&m, "INVITE", "rtcp-2", 1, BTAG, 1);
	m.to_tag[0] = '\0';
	t_with_sdp(&m, "203.0.113.5", 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	/* the firewall's own (non-loopback) address */
	if (!getifaddrs(&ifa)) {
		for (i = ifa; i && !own[0]; i = i->ifa_next) {
			if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
			    !(i->ifa_flags & IFF_LOOPBACK))
				inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr,
					  own, sizeof(own));
		}
		freeifaddrs(ifa);
	}
	if (own[0] && strncmp(own, "10.1.", 5)) {
		struct sipd_stats st;

		t_req(&m, "INVITE", "own-1", 0, NULL, 1);
		t_with_sdp(&m, own, 16000, SDP_SENDRECV);
		assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
		sipd_get_stats(e->d, &st);
		assert_int_equal(st.media_refused[SW_SIP_R_BAD_MEDIA_ADDRESS], 15);
	} else {
		fprintf(stderr,
			"no outside-looking IPv4 address on this host: own-address row skipped\n");
	}
	assert_int_equal(bpfenv_count(e), 4); /* the third outside party's call alone */
}

/* Roles are bound to sides: a BYE carrying the callee's tags from outside
 * is not the callee's. */
static void test_roles_bound_to_sides(void **state)
{
	struct bpfenv *e = *state;
	struct sip_msg m;

	NEED_ENV(e);
	establish(e, "role-1", 16000, 12000);
	t_req(&m, "BYE", "role-1", 1, BTAG, 9);
	set_src(&m, ATTACK, ALICE);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_WRONG_SIDE);
	/* a re-INVITE "from Bob" sent from outside, moving Bob's media */
	t_req(&m, "INVITE", "role-1", 1, BTAG, 10);
	set_src(&m, ATTACK, ALICE);
	t_with_sdp(&m, ATTACK, 4000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_WRONG_SIDE);
	sipd_tick(e->d, T0 + 5 * S);
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	/* the real BYE from Bob ends it */
	t_req(&m, "BYE", "role-1", 1, BTAG, 11);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 6 * S), SW_SIP_R_ACCEPTED);
}

/* An answer carried in a request (ACK after an offer in the 200) counts
 * only from where the offer went. */
static void test_answer_from_where_offer_went(void **state)
{
	struct bpfenv *e = *state;
	struct sip_msg m;

	NEED_ENV(e);
	t_req(&m, "INVITE", "late-1", 0, NULL, 1); /* no SDP: late offer */
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "late-1", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 0);
	t_req(&m, "ACK", "late-1", 0, BTAG, 1);
	set_src(&m, ATTACK, BOB);
	t_with_sdp(&m, ATTACK, 4000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_ANSWER);
	assert_int_equal(bpfenv_count(e), 0);
	t_req(&m, "ACK", "late-1", 0, BTAG, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, ATTACK, 4000, BOB, 12000), XDP_DROP);
}

static size_t dgram(uint8_t *pkt, const char *src, const char *dst, const char *start,
		    const char *ttag, unsigned int cseq, const char *method, const char *cid,
		    const char *sdp_ip, unsigned int sdp_port)
{
	char t[2048];
	int v6 = strchr(src, ':') != NULL;
	size_t n = sip_text(t, sizeof(t), start, v6 ? "[2001:db8::66]" : ATTACK, "att", ttag, cseq,
			    method, cid, sdp_ip, sdp_ip && strchr(sdp_ip, ':'), sdp_port);

	return ip_udp(pkt, src, dst, t, n);
}

/*
 * The attack on a live call: an UPDATE of an unknown Call-ID to Bob (he
 * answers 481), then an UPDATE to an unused inside address and a forged
 * 200 naming Bob's live media port, as from that address and as from Bob
 * himself (spoofed on an outside interface). Bob's pinhole stays the call's.
 */
static void test_hijack_live_call(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_pkt_meta outside = {.indev = 9999}, inside = {.indev = if_nametoindex("lo")};
	struct sw_pinhole v;
	struct sip_msg m;
	enum sw_sip_reason why;
	uint8_t pkt[4096];
	size_t len;

	NEED_ENV(e);
	establish(e, "victim", 16000, 12000);
	/* 1. UPDATE to Bob with an unknown Call-ID; Bob answers 481 */
	t_req(&m, "UPDATE", "hj-1", 0, "att-tag", 1);
	set_src(&m, ATTACK, BOB);
	t_with_sdp(&m, ATTACK, 4000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 481, "UPDATE", "hj-1", 0, "att-tag", 1);
	set_src(&m, BOB, ATTACK);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	/* 2. UPDATE to an unused inside address, forged 200 "from" it */
	t_req(&m, "UPDATE", "hj-2", 0, "att-tag", 1);
	set_src(&m, ATTACK, UNUSED);
	t_with_sdp(&m, ATTACK, 4000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	/* from the attacker's own address: not where the UPDATE went */
	t_resp(&m, 200, "UPDATE", "hj-2", 0, "att-tag", 1);
	set_src(&m, ATTACK, ATTACK);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_RESPONSE);
	/* "from" the unused address (no interface known: replay): the SDP
	 * is not Bob's own, so Bob's live destination is not taken over */
	set_src(&m, UNUSED, ATTACK);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_PINHOLE_FAILED);
	/* on the wire the spoofed inside source arrives on an outside
	 * interface: dropped before anything reads it */
	len = dgram(pkt, UNUSED, ATTACK, "SIP/2.0 200 OK", "b", 1, "UPDATE", "hj-2", BOB, 12000);
	sipd_handle_packet_meta(e->d, pkt, len, &outside, T0, &why);
	assert_int_equal(why, SW_SIP_R_SPOOFED_SOURCE);
	/* 3. the same "from Bob himself" (which could take over): spoofed */
	len = dgram(pkt, ATTACK, BOB, "UPDATE sip:bob@10.1.0.5 SIP/2.0", "bt", 1, "UPDATE", "hj-3",
		    ATTACK, 4000);
	sipd_handle_packet_meta(e->d, pkt, len, &outside, T0, &why);
	assert_int_equal(why, SW_SIP_R_ACCEPTED);
	len = dgram(pkt, BOB, ATTACK, "SIP/2.0 200 OK", "bt", 1, "UPDATE", "hj-3", BOB, 12000);
	sipd_handle_packet_meta(e->d, pkt, len, &outside, T0, &why);
	assert_int_equal(why, SW_SIP_R_SPOOFED_SOURCE);
	/* the victim's pinhole is untouched, its media still flows */
	assert_int_equal(bpfenv_get(e, BOB, 12000, &v), 0);
	assert_int_equal(v.call_hash, sw_fnv1a64("victim", 6));
	assert_int_equal(ntohs(v.src[0].port), 16000);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, ATTACK, 4000, BOB, 12000), XDP_DROP);
	/* Bob's real 200 arrives on the inside interface and is believed
	 * (and, naming his own port, may take it over: his own word) */
	sipd_handle_packet_meta(e->d, pkt, len, &inside, T0, &why);
	assert_int_equal(why, SW_SIP_R_ACCEPTED);
	/* the firewall's own addresses and multicast never source SIP */
	len = dgram(pkt, "224.0.0.5", BOB, "OPTIONS sip:bob@10.1.0.5 SIP/2.0", NULL, 1, "OPTIONS",
		    "mc-1", NULL, 0);
	sipd_handle_packet_meta(e->d, pkt, len, &outside, T0, &why);
	assert_int_equal(why, SW_SIP_R_SPOOFED_SOURCE);
	len = dgram(pkt, "127.0.0.1", BOB, "OPTIONS sip:bob@10.1.0.5 SIP/2.0", NULL, 1, "OPTIONS",
		    "lo-1", NULL, 0);
	sipd_handle_packet_meta(e->d, pkt, len, &outside, T0, &why);
	assert_int_equal(why, SW_SIP_R_SPOOFED_SOURCE);
	/* the 481'd call leaves with SIP's timers, not after an hour */
	sipd_tick(e->d, T0 + 40 * S);
	{
		struct sipd_stats st;

		sipd_get_stats(e->d, &st);
		assert_int_equal(st.calls_active, 1 + 1); /* victim + hj-3 (answered) */
	}
}

/* The call table and the transaction table keep a share for inside and
 * trusted sources; per-source shares count IPv6 per /64. */
static void test_budgets(void **state)
{
	struct bpfenv e;
	struct sip_msg m;
	unsigned int i;
	char cid[32], a6[64];

	NEED_ENV(*state);
	assert_int_equal(bpfenv_up(&e, "sw-sec",
				   "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
				   " \"limits\": {\"max_calls\": 10},"
				   " \"security\": {\"reserved_percent\": 20,"
				   "   \"max_transactions_per_source\": 5}}",
				   0),
			 0);
	/* 8 outside calls fit; a 9th makes room by ending the oldest one
	 * nobody answered; once all are answered, the next is refused;
	 * inside ones still fit */
	for (i = 0; i < 9; i++) {
		snprintf(cid, sizeof(cid), "cap-%u", i);
		snprintf(a6, sizeof(a6), "198.51.100.%u", 100 + i);
		t_req(&m, "INVITE", cid, 0, NULL, 1);
		t_addr(a6, m.src.addr);
		t_with_sdp(&m, a6, 16000, SDP_SENDRECV);
		assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	}
	{
		struct sipd_stats st;

		sipd_get_stats(e.d, &st);
		assert_int_equal(st.calls_evicted, 1);
		assert_int_equal(st.calls_active, 8);
	}
	for (i = 1; i < 9; i++) {
		snprintf(cid, sizeof(cid), "cap-%u", i);
		snprintf(a6, sizeof(a6), "198.51.100.%u", 100 + i);
		t_resp(&m, 180, "INVITE", cid, 0, BTAG, 1);
		t_addr(a6, m.dst.addr);
		assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	}
	t_req(&m, "INVITE", "cap-9", 0, NULL, 1);
	t_addr("198.51.100.120", m.src.addr);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_DIALOG_LIMIT);
	for (i = 0; i < 2; i++) {
		snprintf(cid, sizeof(cid), "in-%u", i);
		t_req(&m, "INVITE", cid, 1, BTAG, 1);
		m.to_tag[0] = '\0';
		assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	}
	/* 5 transactions from one IPv6 /64, wherever in it; then refused */
	for (i = 0; i < 6; i++) {
		snprintf(cid, sizeof(cid), "tx-%u", i);
		snprintf(a6, sizeof(a6), "2001:db8:0:1::%x", 0x10 + i * 0x1111);
		t_req(&m, "MESSAGE", cid, 0, NULL, 1);
		t_addr(a6, m.src.addr);
		assert_int_equal(bpfenv_msg(&e, &m, T0),
				 i < 5 ? SW_SIP_R_ACCEPTED : SW_SIP_R_TRANSACTION_LIMIT);
	}
	/* a final response frees its request's share at once (the answered
	 * transaction stays for retransmissions, out of the count) */
	t_resp(&m, 200, "MESSAGE", "tx-0", 0, BTAG, 1);
	t_addr("2001:db8:0:1::10", m.dst.addr);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	t_req(&m, "MESSAGE", "tx-5", 0, NULL, 1);
	t_addr("2001:db8:0:1::5565", m.src.addr);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	t_req(&m, "MESSAGE", "tx-6", 0, NULL, 1);
	t_addr("2001:db8:0:1::6676", m.src.addr);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_TRANSACTION_LIMIT);
	/* the next /64 has its own share */
	t_req(&m, "MESSAGE", "tx-other", 0, NULL, 1);
	t_addr("2001:db8:0:2::1", m.src.addr);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	/* after 64*T1 the transactions are gone and the share is back */
	sipd_tick(e.d, T0 + 33 * S);
	t_req(&m, "MESSAGE", "tx-later", 0, NULL, 1);
	t_addr("2001:db8:0:1::99", m.src.addr);
	assert_int_equal(bpfenv_msg(&e, &m, T0 + 33 * S), SW_SIP_R_ACCEPTED);
	/* the ringing calls end with early_dialog_s (180 s): room again */
	sipd_tick(e.d, T0 + 200 * S);
	t_req(&m, "INVITE", "cap-late", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(&e, &m, T0 + 200 * S), SW_SIP_R_ACCEPTED);
	bpfenv_down(&e);
}

/* Pinholes of calls from one outside source are bounded. */
static void test_pinholes_per_source(void **state)
{
	struct bpfenv e;
	struct sip_msg m;
	unsigned int i;
	char cid[32];

	NEED_ENV(*state);
	assert_int_equal(bpfenv_up(&e, "sw-sec",
				   "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
				   " \"security\": {\"max_pinholes_per_source\": 10}}",
				   0),
			 0);
	for (i = 0; i < 3; i++) {
		snprintf(cid, sizeof(cid), "php-%u", i);
		t_req(&m, "INVITE", cid, 0, NULL, 1);
		t_with_sdp(&m, ALICE, (uint16_t)(16000 + 10 * i), SDP_SENDRECV);
		assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
		t_resp(&m, 200, "INVITE", cid, 0, BTAG, 1);
		t_with_sdp(&m, BOB, (uint16_t)(12000 + 10 * i), SDP_SENDRECV);
		assert_int_equal(bpfenv_msg(&e, &m, T0),
				 i < 2 ? SW_SIP_R_ACCEPTED : SW_SIP_R_PINHOLE_LIMIT);
	}
	assert_int_equal(bpfenv_count(&e), 8);
	bpfenv_down(&e);
}

#define PBX "10.1.0.50"

/* A request of party from_addr to to_addr in call cid with SDP. */
static void req_sdp(struct sip_msg *m, const char *method, const char *cid, const char *ftag,
		    const char *ttag, uint32_t cseq, const char *from, const char *to,
		    const char *sdp_addr, uint16_t port)
{
	t_base(m, cid, ftag, ttag, cseq, method);
	m->is_request = 1;
	set_src(m, from, to);
	m->src.port = m->dst.port = 5060;
	snprintf(m->via_branch, sizeof(m->via_branch), "z9hG4bK-%s-%u-%s", cid, cseq, ftag);
	if (sdp_addr)
		t_with_sdp(m, sdp_addr, port, SDP_SENDRECV);
}

/* Its response from to_addr, with SDP. */
static void resp_sdp(struct sip_msg *m, int status, const char *method, const char *cid,
		     const char *ftag, const char *ttag, uint32_t cseq, const char *from,
		     const char *to, const char *sdp_addr, uint16_t port)
{
	req_sdp(m, method, cid, ftag, ttag, cseq, to, from, sdp_addr, port);
	m->is_request = 0;
	m->status = status;
	set_src(m, from, to);
}

/*
 * A B2BUA (inside PBX) bridges Alice (outside) and Bob (inside), then
 * re-INVITEs both legs for direct media: each leg then wants the same two
 * destinations with the same sources. The first leg takes Bob's destination
 * over from the second (the PBX is a party of that call), the second shares
 * both; each leg's end removes only its claim.
 */
static void test_b2bua_direct_media(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_stats st;
	struct sw_pinhole v;
	struct sip_msg m;

	NEED_ENV(e);
	/* leg 1: Alice -> PBX, anchored at PBX:20000 */
	req_sdp(&m, "INVITE", "leg1", "a1", NULL, 1, ALICE, PBX, ALICE, 16000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "leg1", "a1", "p1", 1, PBX, ALICE, PBX, 20000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	/* leg 2: PBX -> Bob, anchored at PBX:20002 */
	req_sdp(&m, "INVITE", "leg2", "p2", NULL, 1, PBX, BOB, PBX, 20002);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "leg2", "p2", "b2", 1, BOB, PBX, BOB, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, PBX, 20000), XDP_PASS);
	/* direct media: PBX tells Alice "Bob is at BOB:12000" */
	req_sdp(&m, "INVITE", "leg1", "p1", "a1", 2, PBX, ALICE, BOB, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "leg1", "p1", "a1", 2, ALICE, PBX, ALICE, 16000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	/* and Bob "Alice is at ALICE:16000" */
	req_sdp(&m, "INVITE", "leg2", "p2", "b2", 2, PBX, BOB, ALICE, 16000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "leg2", "p2", "b2", 2, BOB, PBX, BOB, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	sipd_get_stats(e->d, &st);
	assert_int_equal(st.pinholes_shared, 4); /* RTP and RTCP both ways */
	assert_int_equal(st.pinholes_taken_over, 2);
	/* media flows directly, both ways; the PBX's anchor no longer */
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, BOB, 12000, ALICE, 16000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, PBX, 20002, BOB, 12000), XDP_DROP);
	assert_int_equal(bpfenv_xdp(e, ATTACK, 4000, BOB, 12000), XDP_DROP);
	/* leg 1 ends first: leg 2 keeps the shared destinations */
	req_sdp(&m, "BYE", "leg1", "a1", "p1", 3, ALICE, PBX, NULL, 0);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 2 * S), SW_SIP_R_ACCEPTED);
	sipd_tick(e->d, T0 + 5 * S);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &v), 0);
	assert_int_equal(v.call_hash, sw_fnv1a64("leg2", 4)); /* handed over */
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, BOB, 12000, ALICE, 16000), XDP_PASS);
	/* then leg 2: the last claim goes, and the pinholes with it */
	req_sdp(&m, "BYE", "leg2", "b2", "p2", 3, BOB, PBX, NULL, 0);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 6 * S), SW_SIP_R_ACCEPTED);
	sipd_tick(e->d, T0 + 9 * S);
	assert_int_equal(bpfenv_count(e), 0);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_DROP);
	/* each CDR counted the media it carried */
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"reason\":\"shared\""));
}

/*
 * A multi-homed inside UA signals from one address and receives media on
 * another, reusing its port: a new call it answers takes the destination
 * over from an older call that lost its BYE (same vouched-for peer); an
 * unrelated inside host cannot; a dead owner gives way after
 * timeouts.takeover_idle_s.
 */
static void test_port_reuse_takeover(void **state)
{
	struct bpfenv *e = *state;
	const char *media = "10.1.0.77";
	struct sw_pinhole v;
	struct sip_msg m;

	NEED_ENV(e);
	/* call 1: Alice -> Bob, whose SDP names media 10.1.0.77:12000 */
	req_sdp(&m, "INVITE", "reuse-1", "a1", NULL, 1, ALICE, BOB, ALICE, 16000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "reuse-1", "a1", "b1", 1, BOB, ALICE, media, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	/* its BYE is lost. Call 2 from another caller: same port again */
	req_sdp(&m, "INVITE", "reuse-2", "c1", NULL, 1, "203.0.113.9", BOB, "203.0.113.9", 18000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "reuse-2", "c1", "b2", 1, BOB, "203.0.113.9", media, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(e, media, 12000, &v), 0);
	assert_int_equal(v.call_hash, sw_fnv1a64("reuse-2", 7));
	assert_int_equal(ntohs(v.src[0].port), 18000);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, media, 12000), XDP_DROP);
	/* another inside host answering with that address: refused */
	req_sdp(&m, "INVITE", "reuse-3", "d1", NULL, 1, ALICE, BOB2, ALICE, 16100);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 2 * S), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "reuse-3", "d1", "e1", 1, BOB2, ALICE, media, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 2 * S), SW_SIP_R_PINHOLE_FAILED);
	assert_int_equal(bpfenv_get(e, media, 12000, &v), 0);
	assert_int_equal(v.call_hash, sw_fnv1a64("reuse-2", 7));
	/* ... until reuse-2 has been silent (SIP and media) for 8 s (no
	 * packet passed it here: its last_seen_ns is 0) */
	assert_int_equal(bpfenv_msg(e, &m, T0 + 12 * S), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(e, media, 12000, &v), 0);
	assert_int_equal(v.call_hash, sw_fnv1a64("reuse-3", 7));
	assert_int_equal(bpfenv_xdp(e, ALICE, 16100, media, 12000), XDP_PASS);
	/* a live owner (media just passed) is not dead, whatever the SIP */
	req_sdp(&m, "INVITE", "reuse-4", "f1", NULL, 1, ALICE, "10.1.0.8", ALICE, 16200);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 30 * S), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "reuse-4", "f1", "g1", 1, "10.1.0.8", ALICE, media, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 30 * S), SW_SIP_R_PINHOLE_FAILED);
}

/* Requests with made-up tags or from another source than the party they
 * name: a BYE ends nothing, a CANCEL cancels nothing, a second "initial"
 * INVITE replaces no offer, junk requests make no dialogs. */
static void test_claimed_requests_change_nothing(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_stats st;
	struct sip_msg m;
	unsigned int i;

	NEED_ENV(e);
	/* Bob (inside) calls Alice (outside): the callee is outside, so the
	 * side check alone cannot tell Alice from an attacker */
	req_sdp(&m, "INVITE", "rv-1", "bt", NULL, 1, BOB, ALICE, BOB, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "rv-1", "bt", "at", 1, ALICE, BOB, ALICE, 16000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	/* spoofed BYE with made-up tags */
	req_sdp(&m, "BYE", "rv-1", "made", "up", 5, ATTACK, BOB, NULL, 0);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	/* BYE "from Alice" with Alice's tag but not Bob's as To */
	req_sdp(&m, "BYE", "rv-1", "at", "nope", 6, ATTACK, BOB, NULL, 0);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	sipd_tick(e->d, T0 + 5 * S);
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	sipd_get_stats(e->d, &st);
	assert_int_equal(st.requests_ignored, 2);

	/* ringing call: a CANCEL not from the caller, or not naming the
	 * INVITE's branch, cancels nothing; the answer still opens media */
	req_sdp(&m, "INVITE", "rv-2", "bt2", NULL, 1, BOB, ALICE, BOB, 12100);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	req_sdp(&m, "CANCEL", "rv-2", "whatever", NULL, 1, ATTACK, ALICE, NULL, 0);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	req_sdp(&m, "CANCEL", "rv-2", "bt2", NULL, 1, BOB, ALICE, NULL, 0);
	branch(&m, "z9hG4bK-other");
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	/* eight INFO requests with made-up dialog tags */
	for (i = 0; i < 8; i++) {
		char tag[16];

		snprintf(tag, sizeof(tag), "junk%u", i);
		req_sdp(&m, "INFO", "rv-2", tag, "x", 2 + i, ATTACK, BOB, NULL, 0);
		assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	}
	/* an "initial INVITE" retransmission from elsewhere with its own SDP */
	req_sdp(&m, "INVITE", "rv-2", "att", NULL, 1, ATTACK, ALICE, ATTACK, 4000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "rv-2", "bt2", "at2", 1, ALICE, BOB, ALICE, 16100);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(e, ALICE, 16100, &(struct sw_pinhole){0}), 0);
	assert_int_equal(bpfenv_xdp(e, BOB, 12100, ALICE, 16100), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16100, BOB, 12100), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, ATTACK, 4000, BOB, 12100), XDP_DROP);
	/* the caller's real CANCEL (its branch) still works on a new call */
	req_sdp(&m, "INVITE", "rv-3", "bt3", NULL, 1, BOB, ALICE, BOB, 12200);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	req_sdp(&m, "CANCEL", "rv-3", "bt3", NULL, 1, BOB, ALICE, NULL, 0);
	snprintf(m.via_branch, sizeof(m.via_branch), "z9hG4bK-rv-3-1-bt3");
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	sipd_get_stats(e->d, &st);
	assert_int_equal(st.calls_active, 2);
}

/* An a=rtcp address beside a=rtcp-mux is checked too: the peer that does
 * not mux uses it as the allowed RTCP source. */
static void test_rtcp_addr_with_mux(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_stats st;
	struct sip_msg m;

	NEED_ENV(e);
	t_req(&m, "INVITE", "mux-1", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	m.sdp.media[0].rtcp_mux = 1;
	t_addr("127.0.0.1", m.sdp.media[0].rtcp_addr);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	sipd_get_stats(e->d, &st);
	assert_int_equal(st.media_refused[SW_SIP_R_BAD_MEDIA_ADDRESS], 1);
	t_resp(&m, 200, "INVITE", "mux-1", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 0);
}

/* The outside callee of a live answered call is as valuable as a caller:
 * one spoofed scanner datagram from its address bans nothing. */
static void test_callee_not_banned_by_one_datagram(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_guard_stats gs;
	struct sip_msg m;

	NEED_ENV(e);
	req_sdp(&m, "INVITE", "gv-1", "bt", NULL, 1, BOB, ALICE, BOB, 12000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	resp_sdp(&m, 200, "INVITE", "gv-1", "bt", "at", 1, ALICE, BOB, ALICE, 16000);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	req_sdp(&m, "OPTIONS", "gv-scan", "s1", NULL, 1, ALICE, BOB, NULL, 0);
	snprintf(m.user_agent, sizeof(m.user_agent), "friendly-scanner");
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_SCANNER);
	sipd_get_guard_stats(e->d, &gs);
	assert_int_equal(gs.bans[SW_BAN_SCANNER_UA], 0);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	/* a source with nothing live is banned as before */
	set_src(&m, ATTACK, BOB);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_SCANNER);
	sipd_get_guard_stats(e->d, &gs);
	assert_int_equal(gs.bans[SW_BAN_SCANNER_UA], 1);
}

/*
 * media.open_at_offer "inside" (the default): Bob's INVITE from inside opens
 * Bob's own destination at once, from the address the INVITE went to (any
 * port), so Alice's RTP just before her 200 passes; the answer narrows it to
 * her exact source. An offer from outside opens nothing; a rejected offer
 * leaves nothing; "off" opens nothing.
 */
static void test_open_at_offer(void **state)
{
	struct bpfenv e;
	struct sw_pinhole v;
	struct sip_msg m;

	NEED_ENV(*state);
	assert_int_equal(bpfenv_up(&e, "sw-sec",
				   "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
				   " \"timeouts\": {\"bye_grace_s\": 0}}",
				   0),
			 0);
	req_sdp(&m, "INVITE", "oao-1", "bt", NULL, 1, BOB, ALICE, BOB, 12000);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(&e), 2); /* Bob's RTP and RTCP */
	assert_int_equal(bpfenv_get(&e, BOB, 12000, &v), 0);
	assert_int_equal(v.src[0].check, SW_CHECK_ADDRESS);
	assert_int_equal(bpfenv_xdp(&e, ALICE, 16000, BOB, 12000), XDP_PASS); /* early RTP */
	assert_int_equal(bpfenv_xdp(&e, ALICE, 16001, BOB, 12001), XDP_PASS);
	assert_int_equal(bpfenv_xdp(&e, ATTACK, 16000, BOB, 12000), XDP_DROP);
	resp_sdp(&m, 200, "INVITE", "oao-1", "bt", "at", 1, ALICE, BOB, ALICE, 16000);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(&e), 4);
	assert_int_equal(bpfenv_get(&e, BOB, 12000, &v), 0);
	assert_int_equal(v.src[0].check, SW_CHECK_STRICT); /* narrowed */
	assert_int_equal(bpfenv_xdp(&e, ALICE, 16002, BOB, 12000), XDP_DROP);
	/* an offer from outside opens nothing before its answer */
	req_sdp(&m, "INVITE", "oao-2", "at2", NULL, 1, ALICE, BOB, ALICE, 16100);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(&e, ALICE, 16100, &v), -ENOENT);
	/* a rejected inside offer leaves nothing */
	req_sdp(&m, "INVITE", "oao-3", "bt3", NULL, 1, BOB, ALICE, BOB, 12200);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(&e, BOB, 12200, &v), 0);
	resp_sdp(&m, 486, "INVITE", "oao-3", "bt3", "at3", 1, ALICE, BOB, NULL, 0);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(&e, BOB, 12200, &v), -ENOENT);
	/* a re-offer (Bob moves to 12400) opens from Alice's known media at once */
	req_sdp(&m, "INVITE", "oao-1", "bt", "at", 2, BOB, ALICE, BOB, 12400);
	assert_int_equal(bpfenv_msg(&e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(&e, BOB, 12400, &v), 0);
	assert_int_equal(ntohs(v.src[0].port), 16000);
	assert_int_equal(v.src[0].check, SW_CHECK_STRICT);
	bpfenv_down(&e);
	/* "off": nothing at the offer */
	assert_int_equal(bpfenv_up(&e, "sw-sec",
				   "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
				   " \"media\": {\"open_at_offer\": \"off\"}}",
				   0),
			 0);
	req_sdp(&m, "INVITE", "oao-4", "bt", NULL, 1, BOB, ALICE, BOB, 12000);
	assert_int_equal(bpfenv_msg(&e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(&e), 0);
	assert_int_equal(bpfenv_xdp(&e, ALICE, 16000, BOB, 12000), XDP_DROP);
	bpfenv_down(&e);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, bpfenv_teardown)

int main(void)
{
	T0 = (sw_monotonic_ns() / S + 1000000) * S;
	const struct CMUnitTest tests[] = {
		T(test_forged_answer_from_outside),
		T(test_response_must_match),
		T(test_unmatched_pass_mode),
		T(test_media_addresses),
		T(test_roles_bound_to_sides),
		T(test_answer_from_where_offer_went),
		T(test_hijack_live_call),
		T(test_budgets),
		T(test_pinholes_per_source),
		T(test_b2bua_direct_media),
		T(test_port_reuse_takeover),
		T(test_claimed_requests_change_nothing),
		T(test_rtcp_addr_with_mux),
		T(test_callee_not_banned_by_one_datagram),
		T(test_open_at_offer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
