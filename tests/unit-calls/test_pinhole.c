// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd against REAL pinned maps: the data path object is loaded through its
 * skeleton with a private pin root, sipd writes pinholes into its maps, and
 * media packets are judged by the real XDP program (BPF_PROG_TEST_RUN).
 * Covers the datagram path (IPv4/IPv6 SIP text), BYE + grace, idle and
 * max-duration expiry, conflicts with manual pinholes and other calls,
 * map-full rollback, re-INVITE moves, reload, and adoption after a restart.
 * Needs root and BPF; every test is skipped otherwise.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include "dgram.h"
#include "msgs.h"
#include "pktbuild.h"
#include "sipd/config.h"
#include "sipd/events.h"
#include "sipd/sipd.h"
#include "sipwall.skel.h"
#include "tests/common/bpfenv.h"

#define S 1000000000ull
/* The test clock runs far ahead of CLOCK_MONOTONIC, so the map's
 * last_seen_ns (stamped by the XDP program) never falls inside it and the
 * idle logic sees media only as counter changes, as in replay. */
static uint64_t T0;

static const char *cfg_json =
	"{\"networks\": {\"inside\": [\"10.1.0.0/16\", \"fd00:1::/64\"]},"
	" \"media\": {\"open_at_offer\": \"off\"},"
	" \"timeouts\": {\"bye_grace_s\": 2, \"idle_s\": 30, \"max_call_s\": 0,"
	"   \"silent_dialog_s\": 0, \"early_dialog_s\": 0},"
	" \"filters\": [{\"name\": \"no-options\", \"match\": {\"method\": \"OPTIONS\"},"
	"   \"action\": \"drop\"}]}";

static int setup(void **state)
{
	return bpfenv_setup(state, "sw-ut", cfg_json);
}

/* Alice's INVITE (port aport), Bob's 200 (port bport), ACK. */
static void establish2(struct bpfenv *e, const char *cid, uint16_t aport, uint16_t bport,
		       uint64_t now)
{
	struct sip_msg m;

	t_req(&m, "INVITE", cid, 0, NULL, 1);
	t_with_sdp(&m, ALICE, aport, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, now), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", cid, 0, BTAG, 1);
	t_with_sdp(&m, BOB, bport, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, now), SW_SIP_R_ACCEPTED);
	t_req(&m, "ACK", cid, 0, BTAG, 1);
	assert_int_equal(bpfenv_msg(e, &m, now), SW_SIP_R_ACCEPTED);
}

static void establish(struct bpfenv *e, const char *cid, uint16_t bport, uint64_t now)
{
	establish2(e, cid, 16000, bport, now);
}

static void bye(struct bpfenv *e, const char *cid, uint64_t now)
{
	struct sip_msg m;

	t_req(&m, "BYE", cid, 1, BTAG, 7);
	assert_int_equal(bpfenv_msg(e, &m, now), SW_SIP_R_ACCEPTED);
}

/* --- SIP text in IP/UDP datagrams --- */

static enum sw_sip_reason send_sip(struct bpfenv *e, const char *src, const char *dst,
				   const char *text, size_t n, uint64_t now)
{
	uint8_t pkt[4096];
	enum sw_sip_reason why;
	size_t len = ip_udp(pkt, src, dst, text, n);

	sipd_handle_packet(e->d, pkt, len, now, &why);
	return why;
}

static void test_datagram_call_v4(void **state)
{
	struct bpfenv *e = *state;
	struct sw_pinhole v;
	char t[2048];
	size_t n;
	const char *cid = "dgram-v4@outside.example";
	uint64_t h = sw_fnv1a64(cid, strlen(cid));

	NEED_ENV(e);
	n = sip_text(t, sizeof(t), "INVITE sip:bob@inside.example SIP/2.0", ALICE, ATAG, NULL, 1,
		     "INVITE", cid, ALICE, 0, 16000);
	assert_int_equal(send_sip(e, ALICE, BOB, t, n, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 0); /* an offer opens nothing */
	n = sip_text(t, sizeof(t), "SIP/2.0 200 OK", ALICE, ATAG, BTAG, 1, "INVITE", cid, BOB, 0,
		     12000);
	assert_int_equal(send_sip(e, BOB, ALICE, t, n, T0), SW_SIP_R_ACCEPTED);
	/* written before the 200 was released */
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &v), 0);
	assert_int_equal(v.call_hash, h);
	assert_string_equal(v.call_id, cid);
	assert_int_equal(v.kind, SW_KIND_RTP);
	assert_int_equal(v.media, SW_MEDIA_AUDIO); /* m=audio: DSCP marking's kind */
	assert_int_equal(v.src[0].check, SW_CHECK_STRICT);
	assert_int_equal(ntohs(v.src[0].port), 16000);
	assert_int_equal(bpfenv_get(e, ALICE, 16001, &v), 0);
	assert_int_equal(ntohs(v.src[0].port), 12001);
	/* the real data path agrees */
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, BOB, 12000, ALICE, 16000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, "198.51.100.66", 16000, BOB, 12000), XDP_DROP);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16002, BOB, 12000), XDP_DROP);

	n = sip_text(t, sizeof(t), "BYE sip:bob@inside.example SIP/2.0", ALICE, ATAG, BTAG, 2,
		     "BYE", cid, NULL, 0, 0);
	assert_int_equal(send_sip(e, ALICE, BOB, t, n, T0 + 10 * S), SW_SIP_R_ACCEPTED);
	sipd_tick(e->d, T0 + 11 * S);
	assert_int_equal(bpfenv_count(e), 4); /* grace: trailing RTCP */
	assert_int_equal(bpfenv_xdp(e, BOB, 12001, ALICE, 16001), XDP_PASS);
	sipd_tick(e->d, T0 + 12 * S);
	assert_int_equal(bpfenv_count(e), 0);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_DROP);
	/* the CDR carries the counters read before deletion */
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"event\":\"call_end\""));
	assert_non_null(strstr(e->evbuf, "\"reason\":\"bye\""));
	assert_non_null(strstr(e->evbuf, "\"packets\":4,"));
	assert_non_null(strstr(e->evbuf, "\"event\":\"pinhole_open\""));
}

static void test_datagram_v6_and_bad(void **state)
{
	struct bpfenv *e = *state;
	const char *a6 = "2001:db8::10", *b6 = "fd00:1::5";
	const char *cid = "dgram-v6@outside.example";
	struct sipd_stats st;
	uint8_t junk[64] = {0x45, 0, 0, 200};
	enum sw_sip_reason why;
	char t[2048];
	size_t n;

	NEED_ENV(e);
	n = sip_text(t, sizeof(t), "INVITE sip:bob@inside.example SIP/2.0", "[2001:db8::10]", ATAG,
		     NULL, 1, "INVITE", cid, a6, 1, 16000);
	assert_int_equal(send_sip(e, a6, b6, t, n, T0), SW_SIP_R_ACCEPTED);
	n = sip_text(t, sizeof(t), "SIP/2.0 200 OK", "[2001:db8::10]", ATAG, BTAG, 1, "INVITE", cid,
		     b6, 1, 12000);
	assert_int_equal(send_sip(e, b6, a6, t, n, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_xdp(e, a6, 16000, b6, 12000), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, "2001:db8::99", 16000, b6, 12000), XDP_DROP);

	/* malformed IP, and a datagram that is not SIP */
	sipd_handle_packet(e->d, junk, sizeof(junk), T0, &why);
	assert_int_equal(why, SW_SIP_R_BAD_PACKET);
	sipd_handle_packet(e->d, junk, 3, T0, &why);
	assert_int_equal(why, SW_SIP_R_BAD_PACKET);
	{
		/* a forged 200 whose UDP checksum is wrong is not acted on,
		 * IPv4 and IPv6; a zero IPv6 checksum is invalid too */
		uint8_t pkt[4096];
		size_t len;
		struct sw_pinhole v;

		n = sip_text(t, sizeof(t), "SIP/2.0 200 OK", "[2001:db8::10]", ATAG, BTAG, 1,
			     "INVITE", cid, b6, 1, 12400);
		len = ip_udp(pkt, b6, a6, t, n);
		pkt[len - 1] ^= 0x20;
		sipd_handle_packet(e->d, pkt, len, T0, &why);
		assert_int_equal(why, SW_SIP_R_BAD_CHECKSUM);
		len = ip_udp(pkt, b6, a6, t, n);
		pkt[46] = pkt[47] = 0;
		sipd_handle_packet(e->d, pkt, len, T0, &why);
		assert_int_equal(why, SW_SIP_R_BAD_CHECKSUM);
		assert_int_equal(bpfenv_get(e, b6, 12400, &v), -ENOENT);
		n = sip_text(t, sizeof(t), "OPTIONS sip:bob@inside.example SIP/2.0", ALICE, ATAG,
			     NULL, 1, "OPTIONS", "csum-v4", NULL, 0, 0);
		len = ip_udp(pkt, ALICE, BOB, t, n);
		pkt[27] ^= 1;
		sipd_handle_packet(e->d, pkt, len, T0, &why);
		assert_int_equal(why, SW_SIP_R_BAD_CHECKSUM);
		/* IPv4 without a checksum (0) is allowed: judged on content */
		len = ip_udp(pkt, ALICE, BOB, t, n);
		pkt[26] = pkt[27] = 0;
		sipd_handle_packet(e->d, pkt, len, T0, &why);
		assert_int_equal(why, SW_SIP_R_FILTER_DROP);
	}
	assert_int_not_equal(send_sip(e, ALICE, BOB, "hello", 5, T0), SW_SIP_R_ACCEPTED);
	/* OPTIONS is forbidden by the config's filter */
	n = sip_text(t, sizeof(t), "OPTIONS sip:bob@inside.example SIP/2.0", ALICE, ATAG, NULL, 1,
		     "OPTIONS", "o1", NULL, 0, 0);
	assert_int_equal(send_sip(e, ALICE, BOB, t, n, T0), SW_SIP_R_FILTER_DROP);
	sipd_get_stats(e->d, &st);
	assert_int_equal(st.dropped[SW_SIP_R_BAD_PACKET], 2);
	assert_int_equal(st.dropped[SW_SIP_R_FILTER_DROP], 2);
	assert_int_equal(st.dropped[SW_SIP_R_BAD_CHECKSUM], 3);
	assert_int_equal(st.calls_active, 1);
	assert_int_equal(st.pinholes_active, 4);
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"reason\":\"sip_filter_drop\""));
	assert_non_null(strstr(e->evbuf, "\"detail\":\"no-options\""));
}

static void test_idle_and_max_duration(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_config *c;
	char err[512];

	NEED_ENV(e);
	establish(e, "idle-1", 12000, T0);
	sipd_tick(e->d, T0 + 29 * S);
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	sipd_tick(e->d, T0 + 30 * S); /* media moved since: not idle */
	assert_int_equal(bpfenv_count(e), 4);
	sipd_tick(e->d, T0 + 59 * S);
	assert_int_equal(bpfenv_count(e), 4);
	sipd_tick(e->d, T0 + 60 * S); /* 30 s without a packet */
	assert_int_equal(bpfenv_count(e), 0);
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"reason\":\"idle\""));

	/* max duration, set by a reload that keeps the running call */
	establish(e, "max-1", 12000, T0);
	assert_int_equal(sipd_config_parse("{\"timeouts\": {\"idle_s\": 0, \"max_call_s\": 100}}",
					   "t2", &c, err, sizeof(err)),
			 0);
	assert_int_equal(sipd_reload(e->d, c, err, sizeof(err)), 0);
	sipd_config_free(c);
	assert_int_equal(bpfenv_count(e), 4);
	sipd_tick(e->d, T0 + 99 * S);
	assert_int_equal(bpfenv_count(e), 4);
	sipd_tick(e->d, T0 + 100 * S);
	assert_int_equal(bpfenv_count(e), 0);
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"reason\":\"max_duration\""));
	assert_non_null(strstr(e->evbuf, "\"event\":\"config_reload\""));
}

static void test_bad_reload_keeps_config(void **state)
{
	struct bpfenv *e = *state;
	char path[] = "/tmp/sw-reload-XXXXXX", err[512];
	struct sip_msg m;
	int fd;

	NEED_ENV(e);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, "{\"filters\": [{\"action\": \"maybe\"}]}", 34) == 34);
	close(fd);
	establish(e, "reload-1", 12000, T0);
	assert_int_not_equal(sipd_reload_file(e->d, path, err, sizeof(err)), 0);
	unlink(path);
	assert_non_null(strstr(err, "filters[0].action: unknown action"));
	assert_int_equal(sipd_get_config(e->d)->n_rules, 1); /* old config */
	t_req(&m, "OPTIONS", "o2", 0, NULL, 1);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_FILTER_DROP);
	assert_int_equal(bpfenv_count(e), 4); /* the call is untouched */
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"ok\":false"));
}

static void test_reinvite_moves_map(void **state)
{
	struct bpfenv *e = *state;
	struct sw_pinhole v;
	struct sip_msg m;

	NEED_ENV(e);
	establish(e, "move-1", 12000, T0);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);
	t_req(&m, "INVITE", "move-1", 1, BTAG, 1);
	t_with_sdp(&m, BOB, 12020, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(e, BOB, 12020, &v), -ENOENT);
	t_resp(&m, 200, "INVITE", "move-1", 1, BTAG, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &v), -ENOENT);
	assert_int_equal(bpfenv_get(e, BOB, 12020, &v), 0);
	assert_int_equal(v.side, 0); /* Bob offered this time */
	/* Alice's pinhole changed its source: updated, counters kept */
	assert_int_equal(bpfenv_get(e, ALICE, 16000, &v), 0);
	assert_int_equal(ntohs(v.src[0].port), 12020);
	assert_int_equal(v.created_ns, T0);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12020), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_DROP);
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"event\":\"pinhole_update\""));
}

static void test_conflicts(void **state)
{
	struct bpfenv *e = *state;
	struct sw_pinhole_key k;
	struct sw_pinhole v = {0}, got;
	struct sip_msg m;
	uint8_t a[16];

	NEED_ENV(e);
	/* a manual pinhole on Alice's media port: never touched */
	t_addr(ALICE, a);
	sw_pinhole_key_init(&k, a, 16000);
	t_addr("192.0.2.1", v.src[0].addr);
	v.src[0].flags = SW_SRC_ACTIVE;
	v.kind = SW_KIND_MANUAL;
	assert_int_equal(sw_pinhole_put(&e->maps, &k, &v, BPF_ANY), 0);
	t_req(&m, "INVITE", "cf-1", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "cf-1", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_PINHOLE_FAILED);
	assert_int_equal(bpfenv_count(e), 1); /* nothing half-applied */
	assert_int_equal(sw_pinhole_get(&e->maps, &k, &got), 0);
	assert_int_equal(got.call_hash, 0);
	assert_int_equal(got.kind, SW_KIND_MANUAL);
	/* the admin removes it; the retransmitted 200 now succeeds, which
	 * also shows the failed attempt left no dialog state behind */
	assert_int_equal(sw_pinhole_del(&e->maps, &k), 0);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_count(e), 4);

	/* An outside party naming Bob's live destination in its own SDP gets
	 * that stream refused: cf-2's INVITE comes from Alice (outside) and
	 * says it receives at Bob's 12000, an inside address (sip_wrong_side);
	 * the call goes on, and Bob's answer opens nothing for that m= line. */
	t_req(&m, "INVITE", "cf-2", 0, NULL, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "cf-2", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12100, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	{
		struct sipd_stats st;

		sipd_get_stats(e->d, &st);
		assert_int_equal(st.media_refused[SW_SIP_R_WRONG_SIDE], 1);
	}
	assert_int_equal(bpfenv_count(e), 4);
	assert_int_equal(bpfenv_get(e, BOB, 12100, &got), -ENOENT);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &got), 0);
	assert_int_equal(ntohs(got.src[0].port), 16000); /* still cf-1's */
	assert_int_equal(got.call_hash, sw_fnv1a64("cf-1", 4));

	/* Another inside host naming Bob's live destination is refused too:
	 * only Bob's own SDP may take it over. */
	t_req(&m, "INVITE", "cf-2b", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16300, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "cf-2b", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	t_addr(BOB2, m.src.addr);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_UNMATCHED_RESPONSE);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &got), 0);
	assert_int_equal(got.call_hash, sw_fnv1a64("cf-1", 4));

	/* Bob himself answering a new call with the media port cf-1 still
	 * holds (a UA reusing its port while the old pinhole lingers): the
	 * SDP comes from Bob's own address, so cf-3 takes it over. */
	t_req(&m, "INVITE", "cf-3", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16100, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "cf-3", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &got), 0);
	assert_int_equal(ntohs(got.src[0].port), 16100);
	assert_int_equal(got.call_hash, sw_fnv1a64("cf-3", 4));
	/* cf-1 keeps Alice's side; Bob's two went to cf-3 (2 + 4) */
	assert_int_equal(bpfenv_count(e), 6);
	/* cf-1 ending does not touch what cf-3 took over */
	bye(e, "cf-1", T0 + S);
	sipd_tick(e->d, T0 + 4 * S);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &got), 0);
	assert_int_equal(got.call_hash, sw_fnv1a64("cf-3", 4));
	assert_int_equal(bpfenv_count(e), 4);

	/* A destination of a call in its BYE grace is taken over by any
	 * party that may name it (as before): cf-3 says BYE, then another
	 * inside host offers Bob's 12000 to Alice in cf-4. */
	bye(e, "cf-3", T0 + 5 * S);
	t_req(&m, "INVITE", "cf-4", 1, BTAG, 1);
	m.to_tag[0] = '\0';
	t_addr(BOB2, m.src.addr);
	t_with_sdp(&m, BOB, 12000, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 5 * S), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "cf-4", 1, BTAG, 1);
	m.to_tag[0] = '\0';
	snprintf(m.to_tag, sizeof(m.to_tag), "a-tag-4");
	t_with_sdp(&m, ALICE, 16200, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(e, &m, T0 + 5 * S), SW_SIP_R_ACCEPTED);
	assert_int_equal(bpfenv_get(e, BOB, 12000, &got), 0);
	assert_int_equal(got.call_hash, sw_fnv1a64("cf-4", 4));
	sipd_tick(e->d, T0 + 9 * S); /* cf-3 closes, not touching cf-4's */
	assert_int_equal(bpfenv_get(e, BOB, 12000, &got), 0);
	assert_int_equal(got.call_hash, sw_fnv1a64("cf-4", 4));
}

static void test_map_full_rolls_back(void **state)
{
	struct bpfenv small;
	struct sipd_stats st;
	struct sip_msg m;

	(void)state;
	NEED_ENV(*state);
	assert_int_equal(bpfenv_up(&small, "sw-ut", cfg_json, 6), 0);
	establish(&small, "full-1", 12000, T0);
	assert_int_equal(bpfenv_count(&small), 4);
	t_req(&m, "INVITE", "full-2", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16100, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(&small, &m, T0), SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "full-2", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 12100, SDP_SENDRECV);
	assert_int_equal(bpfenv_msg(&small, &m, T0), SW_SIP_R_PINHOLE_FAILED);
	assert_int_equal(bpfenv_count(&small), 4); /* partial batch undone */
	sipd_get_stats(small.d, &st);
	assert_int_equal(st.map_errors, 1);
	fflush(small.evf);
	assert_non_null(strstr(small.evbuf, "pinhole map full"));
	bpfenv_down(&small);
}

static void test_adoption_after_restart(void **state)
{
	struct bpfenv *e = *state;
	struct sw_pinhole_key k;
	struct sw_pinhole v = {0};
	struct sipd_stats st;
	char err[512];
	uint8_t a[16];

	NEED_ENV(e);
	establish(e, "adopt-1@outside.example", 12000, T0);
	establish2(e, "adopt-2", 16200, 12200, T0);
	t_addr("192.0.2.50", a);
	sw_pinhole_key_init(&k, a, 14000);
	v.src[0].flags = SW_SRC_ACTIVE;
	v.kind = SW_KIND_MANUAL;
	assert_int_equal(sw_pinhole_put(&e->maps, &k, &v, BPF_ANY), 0);
	assert_int_equal(bpfenv_count(e), 9);

	/* "SIGKILL": the daemon's memory is gone, the maps are not */
	sipd_free(e->d);
	e->d = sipd_new(e->cfg, e->root, e->ev, err, sizeof(err));
	assert_non_null(e->d);
	sipd_get_stats(e->d, &st);
	assert_int_equal(st.calls_adopted, 2);
	assert_int_equal(st.pinholes_active, 8);
	assert_int_equal(bpfenv_count(e), 9);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_PASS);

	/* a later BYE closes the adopted call after the grace */
	bye(e, "adopt-1@outside.example", T0 + 5 * S);
	sipd_tick(e->d, T0 + 6 * S);
	assert_int_equal(bpfenv_count(e), 9);
	sipd_tick(e->d, T0 + 7 * S);
	assert_int_equal(bpfenv_count(e), 5);
	assert_int_equal(bpfenv_xdp(e, ALICE, 16000, BOB, 12000), XDP_DROP);
	/* the other expires on idle (no media for idle_s); manual stays */
	sipd_tick(e->d, T0 + 31 * S);
	assert_int_equal(bpfenv_count(e), 1);
	assert_int_equal(sw_pinhole_get(&e->maps, &k, &v), 0);
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"event\":\"call_adopt\""));
	assert_non_null(strstr(e->evbuf, "\"adopted\":true"));
}

/* The admin replaces one of a live call's pinholes by a manual one: the
 * call's end (read-and-delete in one step) puts the manual one back and
 * leaves its counters out of the call's CDR. */
static void test_manual_replacing_ours(void **state)
{
	struct bpfenv *e = *state;
	struct sw_pinhole_key k;
	struct sw_pinhole v = {0}, got;
	uint8_t a[16];

	NEED_ENV(e);
	establish(e, "mr-1", 12000, T0);
	assert_int_equal(bpfenv_count(e), 4);
	t_addr(ALICE, a);
	sw_pinhole_key_init(&k, a, 16000);
	t_addr("192.0.2.1", v.src[0].addr);
	v.src[0].flags = SW_SRC_ACTIVE;
	v.kind = SW_KIND_MANUAL;
	v.packets = 777;
	assert_int_equal(sw_pinhole_put(&e->maps, &k, &v, BPF_ANY), 0);
	bye(e, "mr-1", T0 + S);
	sipd_tick(e->d, T0 + 4 * S);
	assert_int_equal(bpfenv_count(e), 1);
	assert_int_equal(sw_pinhole_get(&e->maps, &k, &got), 0);
	assert_int_equal(got.kind, SW_KIND_MANUAL);
	assert_int_equal(got.call_hash, 0);
	assert_int_equal(got.packets, 777);
	fflush(e->evf);
	assert_non_null(strstr(e->evbuf, "\"event\":\"call_end\""));
	/* no packet counter of an event took the manual pinhole's (the call
	 * had no media: 777 would be the manual one's); a bare "777" can be
	 * part of a timestamp */
	assert_null(strstr(e->evbuf, "\"packets\":777"));
	assert_non_null(strstr(e->evbuf, "\"packets\":0"));
}

/* lib/swmap.h splits a pinhole over sw_pinholes, sw_ph_srcs and sw_calls
 * and joins it back; the maps hold each part once. */
static void test_split_maps(void **state)
{
	struct bpfenv *e = *state;
	struct sw_pinhole_key k, k2;
	struct sw_pinhole v = {0}, got;
	struct sw_pinhole_hot hot;
	struct sw_ph_srcs more;
	struct sw_call call;
	unsigned int i, removed = 9;
	uint8_t a[16];

	NEED_ENV(e);
	t_addr(ALICE, a);
	sw_pinhole_key_init(&k, a, 16100);
	sw_pinhole_key_init(&k2, a, 16102);
	for (i = 0; i < SW_MAX_SOURCES; i++) {
		t_addr("192.0.2.1", v.src[i].addr);
		v.src[i].addr[15] = (uint8_t)(10 + i);
		v.src[i].port = htons((uint16_t)(4000 + i));
		v.src[i].check = SW_CHECK_STRICT;
		v.src[i].flags = SW_SRC_ACTIVE;
	}
	snprintf(v.call_id, sizeof(v.call_id), "split-call@example.org");
	v.call_hash = sw_fnv1a64(v.call_id, strlen(v.call_id));
	v.kind = SW_KIND_RTP;
	v.media = SW_MEDIA_AUDIO;
	v.media_idx = 2;
	v.side = 1;
	v.created_ns = 1234 * S + 5;
	assert_int_equal(sw_pinhole_put(&e->maps, &k, &v, BPF_NOEXIST), 0);
	/* the hot value says there is more; the sources and owner are there */
	assert_int_equal(bpf_map_lookup_elem(e->maps.pinholes, &k, &hot), 0);
	assert_true(hot.flags & SW_PH_MORE);
	assert_true(hot.flags & SW_PH_ANSWER);
	assert_int_equal(hot.created_s, 1234);
	assert_int_equal(bpf_map_lookup_elem(e->maps.ph_srcs, &k, &more), 0);
	assert_int_equal(bpf_map_lookup_elem(e->maps.calls, &v.call_hash, &call), 0);
	assert_string_equal(call.call_id, "split-call@example.org");
	assert_int_equal(sw_pinhole_get(&e->maps, &k, &got), 0);
	assert_memory_equal(got.src, v.src, sizeof(v.src));
	assert_string_equal(got.call_id, v.call_id);
	assert_int_equal(got.media_idx, 2);
	assert_int_equal(got.side, 1);
	assert_int_equal(got.created_ns, 1234 * S);
	/* NOEXIST on a live pinhole leaves its extra sources alone */
	v.src[3].port = htons(9999);
	assert_int_equal(sw_pinhole_put(&e->maps, &k, &v, BPF_NOEXIST), -EEXIST);
	assert_int_equal(sw_pinhole_get(&e->maps, &k, &got), 0);
	assert_int_equal(got.src[3].port, htons(4003));
	/* an update down to one source drops the extra entry */
	memset(&v.src[1], 0, 3 * sizeof(v.src[0]));
	assert_int_equal(sw_pinhole_put(&e->maps, &k, &v, BPF_EXIST), 0);
	assert_int_not_equal(bpf_map_lookup_elem(e->maps.ph_srcs, &k, &more), 0);
	assert_int_equal(sw_pinhole_get(&e->maps, &k, &got), 0);
	assert_false(got.src[1].flags & SW_SRC_ACTIVE);
	/* a second pinhole of the call shares the owner record */
	assert_int_equal(sw_pinhole_put(&e->maps, &k2, &v, BPF_NOEXIST), 0);
	assert_int_equal(sw_pinhole_del(&e->maps, &k), 0);
	assert_int_equal(sw_call_gc(&e->maps, &removed), 0);
	assert_int_equal(removed, 0);
	assert_int_equal(sw_pinhole_take(&e->maps, &k2, &got), 0);
	assert_int_equal(got.call_hash, v.call_hash);
	/* its last pinhole gone, the garbage collection takes the record */
	assert_int_equal(sw_call_gc(&e->maps, &removed), 0);
	assert_int_equal(removed, 1);
	assert_int_not_equal(bpf_map_lookup_elem(e->maps.calls, &v.call_hash, &call), 0);
	assert_int_equal(bpfenv_count(e), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, bpfenv_teardown)

int main(void)
{
	T0 = (sw_monotonic_ns() / S + 1000000) * S;
	const struct CMUnitTest tests[] = {
		T(test_datagram_call_v4),      T(test_datagram_v6_and_bad),
		T(test_idle_and_max_duration), T(test_bad_reload_keeps_config),
		T(test_reinvite_moves_map),    T(test_conflicts),
		T(test_map_full_rolls_back),   T(test_adoption_after_restart),
		T(test_manual_replacing_ours), T(test_split_maps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
