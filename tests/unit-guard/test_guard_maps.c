// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd's guard against REAL pinned maps: the data path object is loaded
 * through its skeleton with a private pin root; sipd bans into sw_bans and
 * the real XDP program (BPF_PROG_TEST_RUN) then drops the banned source's
 * media with dropped_banned. Also: trusted networks and flood settings
 * written into sw_trusted/sw_config at start and reload, expired bans
 * removed with a ban_expire event, the per-call pinhole bound and the
 * per-source dialog bound through the whole message path.
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
#include <sys/wait.h>
#include <time.h>
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
#include "sipd/guard.h"
#include "sipd/metrics.h"
#include "sipd/sipd.h"
#include "sipwall.skel.h"
#include "tests/common/bpfenv.h"

#define S      1000000000ull
#define EVIL   "203.0.113.66"
#define FRIEND "192.0.2.10"

static const char *cfg_json =
	"{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
	" \"limits\": {\"max_calls_per_source\": 2, \"max_pinholes_per_call\": 2},"
	" \"timeouts\": {\"bye_grace_s\": 0},"
	" \"guard\": {\"trusted\": [\"192.0.2.0/24\"], \"ban_ttl_s\": 1,"
	"   \"malformed\": {\"count\": 3, \"window_s\": 10},"
	"   \"flood\": {\"rate\": 20, \"burst\": 40, \"ports\": [5060, 5080]}}}";

static int setup(void **state)
{
	return bpfenv_setup(state, "sw-ug", cfg_json);
}

/* Long bans, the default ban rate (10/s, burst 20) and headroom (10 %). */
static const char *spoof_json = "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
				" \"guard\": {\"malformed\": {\"count\": 3, \"window_s\": 10},"
				"   \"flood\": {\"rate\": 0, \"ports\": [5060]}}}";

static int setup_spoof(void **state)
{
	return bpfenv_setup(state, "sw-ugs", spoof_json);
}

/* No ban rate bound: only the headroom stands between a flood and a full list. */
static int setup_norate(void **state)
{
	return bpfenv_setup(state, "sw-ugn",
			    "{\"guard\": {\"max_bans_per_s\": 0,"
			    " \"flood\": {\"rate\": 0, \"ports\": [5060]}}}");
}

static uint64_t stat_pkts(struct bpfenv *e, unsigned int reason)
{
	struct sw_stat st[SW_R_MAX];

	assert_int_equal(sw_stats_read(&e->maps, st), 0);
	return st[reason].packets;
}

/* SIP text from src:5060 to dst:5060 as the IP datagram NFQUEUE hands sipd. */
static enum sw_sip_reason datagram(struct bpfenv *e, const char *src, const char *dst,
				   const char *text)
{
	struct pb_spec s = {.src = src,
			    .dst = dst,
			    .sport = 5060,
			    .dport = 5060,
			    .payload = (int)strlen(text),
			    .v6 = strchr(src, ':') != NULL};
	enum sw_sip_reason why;
	struct pb_pkt p;
	size_t l2 = 14, l3 = s.v6 ? 40 : 20;

	assert_int_equal(pb_build(&s, &p), 0);
	memcpy(p.b + l2 + l3 + 8, text, strlen(text));
	sipd_handle_packet(e->d, p.b + l2, p.len - l2, sw_monotonic_ns(), &why);
	return why;
}

static void options_text(char *buf, size_t cap, const char *src, const char *ua)
{
	snprintf(buf, cap,
		 "OPTIONS sip:100@10.1.0.5 SIP/2.0\r\n"
		 "Via: SIP/2.0/UDP %s:5060;branch=z9hG4bK-1\r\n"
		 "Max-Forwards: 70\r\n"
		 "From: <sip:100@%s>;tag=1\r\n"
		 "To: <sip:100@10.1.0.5>\r\n"
		 "Call-ID: scan-%s\r\n"
		 "CSeq: 1 OPTIONS\r\n"
		 "User-Agent: %s\r\n"
		 "Content-Length: 0\r\n\r\n",
		 src, src, src, ua);
}

/* The real sipwall CLI on the test's pin root; its exit code, -1 without it. */
static int sipwall_cli(struct bpfenv *e, const char *args)
{
	char cmd[512];
	int rc;

	if (access("build/bin/sipwall", X_OK))
		return -1;
	snprintf(cmd, sizeof(cmd), "build/bin/sipwall %s --pin-path %s >/dev/null", args, e->root);
	rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int count_one(const struct sw_ban_key *k, const struct sw_ban *v, void *ctx)
{
	(void)k;
	(void)v;
	(*(unsigned int *)ctx)++;
	return 0;
}

static unsigned int bans_in_map(struct bpfenv *e)
{
	unsigned int n = 0;

	assert_int_equal(sw_ban_foreach(&e->maps, count_one, &n), 0);
	return n;
}

/* Scanner OPTIONS from n spoofed sources 100.x.y.z, as fast as sipd takes them. */
static void spoofed_scanners(struct bpfenv *e, unsigned int n)
{
	char src[32], text[1024];
	unsigned int i;

	for (i = 0; i < n; i++) {
		snprintf(src, sizeof(src), "100.%u.%u.%u", 64 + ((i >> 16) & 63), (i >> 8) & 255,
			 i & 255);
		options_text(text, sizeof(text), src, "friendly-scanner");
		assert_int_equal(datagram(e, src, BOB, text), SW_SIP_R_SCANNER);
	}
}

static int events_have(struct bpfenv *e, const char *needle)
{
	fflush(e->evf);
	return e->evbuf && strstr(e->evbuf, needle) != NULL;
}

static void test_scanner_banned_in_map_and_xdp_drops(void **state)
{
	struct bpfenv *e = *state;
	struct sw_ban b;
	uint64_t before, now;
	uint8_t a[16];
	char text[1024];

	NEED_ENV(e);
	/* before: media from EVIL meets no pinhole */
	assert_int_equal(bpfenv_xdp(e, EVIL, 4000, BOB, 16000), XDP_DROP);
	before = stat_pkts(e, SW_R_DROPPED_BANNED);

	options_text(text, sizeof(text), EVIL, "friendly-scanner");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_SCANNER);
	t_addr(EVIL, a);
	assert_int_equal(sw_ban_get(&e->maps, a, &b), 0);
	assert_int_equal(b.reason, SW_BAN_SCANNER_UA);
	now = sw_monotonic_ns();
	assert_true(b.expires_ns > now && b.expires_ns <= now + S);
	assert_true(events_have(e, "\"event\":\"ban\""));
	assert_true(events_have(e, "\"reason\":\"scanner_user_agent\""));

	/* the XDP program now drops the source: media and signalling */
	assert_int_equal(bpfenv_xdp(e, EVIL, 4000, BOB, 16000), XDP_DROP);
	assert_int_equal(bpfenv_xdp(e, EVIL, 5060, BOB, 5060), XDP_DROP);
	assert_int_equal(stat_pkts(e, SW_R_DROPPED_BANNED) - before, 2);
	/* sipd refuses what still reaches it */
	options_text(text, sizeof(text), EVIL, "Asterisk");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_BANNED);
}

static void test_ban_expires_and_is_removed(void **state)
{
	struct bpfenv *e = *state;
	struct sw_ban b;
	struct timespec ts = {1, 200000000};
	uint64_t before;
	uint8_t a[16];
	char text[1024];

	NEED_ENV(e);
	options_text(text, sizeof(text), EVIL, "sipvicious");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_SCANNER);
	t_addr(EVIL, a);
	assert_int_equal(sw_ban_get(&e->maps, a, &b), 0);
	nanosleep(&ts, NULL); /* ban_ttl_s is 1 */
	before = stat_pkts(e, SW_R_DROPPED_BANNED);
	/* expired: XDP ignores it even before sipd removes it */
	bpfenv_xdp(e, EVIL, 5060, BOB, 5060);
	assert_int_equal(stat_pkts(e, SW_R_DROPPED_BANNED), before);
	sipd_tick(e->d, sw_monotonic_ns());
	assert_int_equal(sw_ban_get(&e->maps, a, &b), -ENOENT);
	assert_true(events_have(e, "\"event\":\"ban_expire\""));
	options_text(text, sizeof(text), EVIL, "Asterisk");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_ACCEPTED);
}

static void test_malformed_ban_through_datagrams(void **state)
{
	struct bpfenv *e = *state;
	struct sw_ban b;
	uint8_t a[16];
	int i;

	NEED_ENV(e);
	t_addr("203.0.113.80", a);
	for (i = 0; i < 2; i++)
		assert_int_equal(datagram(e, "203.0.113.80", BOB, "INVITE garbage\r\n\r\n"),
				 SW_SIP_R_BAD_START_LINE);
	assert_int_equal(sw_ban_get(&e->maps, a, &b), -ENOENT);
	datagram(e, "203.0.113.80", BOB, "INVITE garbage\r\n\r\n");
	assert_int_equal(sw_ban_get(&e->maps, a, &b), 0);
	assert_int_equal(b.reason, SW_BAN_MALFORMED);
}

static void test_trusted_and_flood_written(void **state)
{
	struct bpfenv *e = *state;
	struct sw_config c;
	struct sipd_config *n;
	char err[512], text[1024];
	uint8_t a[16];

	NEED_ENV(e);
	t_addr(FRIEND, a);
	assert_int_equal(sw_trusted_match(&e->maps, a), 1);
	t_addr(EVIL, a);
	assert_int_equal(sw_trusted_match(&e->maps, a), 0);
	assert_int_equal(sw_config_read(&e->maps, &c), 0);
	assert_int_equal(c.flood_rate, 20);
	assert_int_equal(c.flood_burst, 40);
	assert_int_equal(c.sig_ports[0], 5060);
	assert_int_equal(c.sig_ports[1], 5080);
	assert_true(c.flags & SW_CFG_FLOOD_GUARD);
	assert_true(events_have(e, "\"event\":\"guard_sync\""));

	/* a trusted scanner is not banned */
	options_text(text, sizeof(text), FRIEND, "friendly-scanner");
	assert_int_equal(datagram(e, FRIEND, BOB, text), SW_SIP_R_SCANNER);
	t_addr(FRIEND, a);
	{
		struct sw_ban b;

		assert_int_equal(sw_ban_get(&e->maps, a, &b), -ENOENT);
	}

	/* reload: the old trusted network leaves sw_trusted, flood off */
	assert_int_equal(sipd_config_parse("{\"guard\": {\"trusted\": [\"198.18.0.0/15\"],"
					   " \"flood\": {\"rate\": 0}}}",
					   "t", &n, err, sizeof(err)),
			 0);
	assert_int_equal(sipd_reload(e->d, n, err, sizeof(err)), 0);
	sipd_config_free(n);
	assert_int_equal(sw_trusted_match(&e->maps, a), 0);
	t_addr("198.19.1.1", a);
	assert_int_equal(sw_trusted_match(&e->maps, a), 1);
	assert_int_equal(sw_config_read(&e->maps, &c), 0);
	assert_false(c.flags & SW_CFG_FLOOD_GUARD);
}

static void test_pinholes_per_call_bound(void **state)
{
	struct bpfenv *e = *state;
	enum sw_sip_reason why;
	struct sip_msg m;
	unsigned int n = 0;

	NEED_ENV(e);
	/* RTP + RTCP for each side = 4 pinholes > limits.max_pinholes_per_call 2 */
	t_req(&m, "INVITE", "cid-ph", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	sipd_handle_msg(e->d, &m, sw_monotonic_ns(), &why);
	assert_int_equal(why, SW_SIP_R_ACCEPTED);
	t_resp(&m, 200, "INVITE", "cid-ph", 0, BTAG, 1);
	t_with_sdp(&m, BOB, 18000, SDP_SENDRECV);
	sipd_handle_msg(e->d, &m, sw_monotonic_ns(), &why);
	assert_int_equal(why, SW_SIP_R_PINHOLE_LIMIT);
	assert_int_equal(sw_pinhole_count(&e->maps, &n), 0);
	assert_int_equal(n, 0);
	assert_true(events_have(e, "sip_pinhole_limit"));
}

static void test_dialogs_per_source_bound(void **state)
{
	struct bpfenv *e = *state;
	enum sw_sip_reason why;
	struct sip_msg m;
	char cid[32];
	int i;

	NEED_ENV(e);
	for (i = 0; i < 3; i++) {
		snprintf(cid, sizeof(cid), "cid-lim-%d", i);
		t_req(&m, "INVITE", cid, 0, NULL, 1);
		sipd_handle_msg(e->d, &m, sw_monotonic_ns(), &why);
		assert_int_equal(why, i < 2 ? SW_SIP_R_ACCEPTED : SW_SIP_R_DIALOG_LIMIT);
	}
	/* one call ends (rejected): the source may start another */
	t_resp(&m, 486, "INVITE", "cid-lim-0", 0, BTAG, 1);
	sipd_handle_msg(e->d, &m, sw_monotonic_ns(), &why);
	assert_int_equal(why, SW_SIP_R_ACCEPTED);
	t_req(&m, "INVITE", "cid-lim-3", 0, NULL, 1);
	sipd_handle_msg(e->d, &m, sw_monotonic_ns(), &why);
	assert_int_equal(why, SW_SIP_R_ACCEPTED);
}

static void test_spoofed_scanners_leave_manual_and_real_bans(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_guard_stats st;
	struct timespec ts = {0, 300000000};
	struct sw_ban b;
	uint8_t a[16];
	unsigned int n;
	int rc;

	NEED_ENV(e);
	spoofed_scanners(e, 66000);
	n = bans_in_map(e);
	sipd_get_guard_stats(e->d, &st);
	fprintf(stderr, "66,000 spoofed scanner sources: %u bans, %llu refused by rate\n", n,
		(unsigned long long)st.refused[SIPD_BAN_RATE]);
	/* burst 20 plus 10/s for however long the flood took */
	assert_true(n >= 20 && n < 200);
	assert_int_equal(st.refused[SIPD_BAN_RATE] + n, 66000);
	assert_true(events_have(e, "\"event\":\"ban_refused\""));
	assert_true(events_have(e, "\"cause\":\"rate\""));

	/* the admin's ban goes in */
	rc = sipwall_cli(e, "ban add 198.51.100.77 --ttl 600");
	if (rc < 0)
		skip();
	assert_int_equal(rc, 0);
	t_addr("198.51.100.77", a);
	assert_int_equal(sw_ban_get(&e->maps, a, &b), 0);
	assert_int_equal(b.reason, SW_BAN_MANUAL);
	assert_int_equal(bpfenv_xdp(e, "198.51.100.76", 5060, BOB, 5060), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, "198.51.100.77", 5060, BOB, 5060), XDP_DROP);

	/* and so does a real trigger's, once the bucket has a token again */
	nanosleep(&ts, NULL);
	t_addr("203.0.113.90", a);
	datagram(e, "203.0.113.90", BOB, "INVITE garbage\r\n\r\n");
	datagram(e, "203.0.113.90", BOB, "INVITE garbage\r\n\r\n");
	datagram(e, "203.0.113.90", BOB, "INVITE garbage\r\n\r\n");
	assert_int_equal(sw_ban_get(&e->maps, a, &b), 0);
	assert_int_equal(b.reason, SW_BAN_MALFORMED);
	assert_int_equal(bpfenv_xdp(e, "203.0.113.90", 5060, BOB, 5060), XDP_DROP);
}

static void test_headroom_keeps_room_for_manual_bans(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_guard_stats st;
	struct sipd_ban_counts bc;
	struct sw_ban b;
	uint8_t a[16];
	unsigned int n;
	int rc;

	NEED_ENV(e);
	sipd_get_ban_counts(e->d, &bc);
	assert_int_equal(bc.capacity, SW_BANS_MAX);
	spoofed_scanners(e, 66000);
	n = bans_in_map(e);
	sipd_get_guard_stats(e->d, &st);
	fprintf(stderr,
		"66,000 spoofed scanner sources, no rate bound: %u bans, %llu refused (headroom)\n",
		n, (unsigned long long)st.refused[SIPD_BAN_HEADROOM]);
	assert_int_equal(n, SW_BANS_MAX - SW_BANS_MAX / 10);
	assert_int_equal(st.refused[SIPD_BAN_HEADROOM], 66000 - n);
	assert_true(events_have(e, "\"cause\":\"headroom\""));
	sipd_get_ban_counts(e->d, &bc);
	assert_int_equal(bc.entries, n);
	assert_int_equal(bc.active[SW_BAN_SCANNER_UA], n);

	/* a real trigger is refused too, and still dropped by sipd */
	datagram(e, "203.0.113.91", BOB, "INVITE garbage\r\n\r\n");
	/* 6,553 entries stay free for the admin */
	rc = sipwall_cli(e, "ban add 198.51.100.78");
	if (rc < 0)
		skip();
	assert_int_equal(rc, 0);
	t_addr("198.51.100.78", a);
	assert_int_equal(sw_ban_get(&e->maps, a, &b), 0);
	assert_int_equal(bpfenv_xdp(e, "198.51.100.79", 5060, BOB, 5060), XDP_PASS);
	assert_int_equal(bpfenv_xdp(e, "198.51.100.78", 5060, BOB, 5060), XDP_DROP);
}

static void test_ban_del_lifts_sipds_ban(void **state)
{
	struct bpfenv *e = *state;
	struct timespec ts = {0, 600000000};
	struct sipd_guard_stats st;
	char text[1024];
	uint8_t a[16];
	int rc;

	NEED_ENV(e);
	options_text(text, sizeof(text), EVIL, "friendly-scanner");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_SCANNER);
	options_text(text, sizeof(text), EVIL, "Asterisk");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_BANNED);
	nanosleep(&ts, NULL);
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_BANNED);
	assert_int_equal(bpfenv_xdp(e, EVIL, 5060, BOB, 5060), XDP_DROP);

	rc = sipwall_cli(e, "ban del " EVIL);
	if (rc < 0)
		skip();
	assert_int_equal(rc, 0);
	/* the data path at once, sipd within a second */
	assert_int_equal(bpfenv_xdp(e, EVIL, 5060, BOB, 5060), XDP_PASS);
	nanosleep(&ts, NULL);
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_ACCEPTED);
	sipd_get_guard_stats(e->d, &st);
	assert_int_equal(st.bans_lifted, 1);

	/* sipwall ban add: the data path drops the source (sipd sees nothing) */
	assert_int_equal(sipwall_cli(e, "ban add " EVIL), 0);
	assert_int_equal(bpfenv_xdp(e, EVIL, 5060, BOB, 5060), XDP_DROP);
	t_addr(EVIL, a);
	assert_int_equal(sw_ban_del(&e->maps, a), 0);
}

static double ms_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) * 1e3 + (double)(t.tv_nsec - t0->tv_nsec) / 1e6;
}

static void test_metrics_scrape_never_walks_bans(void **state)
{
	struct bpfenv *e = *state;
	struct sipd_metrics_opts o = {.listen = "127.0.0.1:39879", .queue = 0, .nqueues = 1};
	struct sipd_ban_counts bc, bc2;
	struct sipd_metrics *m;
	struct sipd *d;
	struct sw_ban v = {.reason = SW_BAN_MANUAL, .prefixlen = 128};
	struct timespec t0;
	char err[256], want[96], *body;
	double ms, best = 1e9;
	size_t len;
	unsigned int i;

	NEED_ENV(e);
	/* a full list, written behind sipd's back */
	for (i = 0; i < SW_BANS_MAX; i++) {
		struct sw_ban_key k = {{0}};

		k.addr[10] = k.addr[11] = 0xff;
		k.addr[12] = 100;
		k.addr[13] = (uint8_t)(i >> 16);
		k.addr[14] = (uint8_t)(i >> 8);
		k.addr[15] = (uint8_t)i;
		assert_int_equal(bpf_map_update_elem(e->maps.bans, &k, &v, BPF_ANY), 0);
	}
	/* a sipd started now counts it once, whole */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	d = sipd_new(e->cfg, e->root, e->ev, err, sizeof(err));
	assert_non_null(d);
	fprintf(stderr, "sipd_new with %u bans: %.1f ms\n", SW_BANS_MAX, ms_since(&t0));
	sipd_get_ban_counts(d, &bc);
	assert_int_equal(bc.entries, SW_BANS_MAX);
	assert_int_equal(bc.active[SW_BAN_MANUAL], SW_BANS_MAX);
	assert_int_equal(bc.entries_read, SW_BANS_MAX);

	o.pin_root = e->root;
	m = sipd_metrics_open(&o, d, err, sizeof(err));
	assert_non_null(m);
	for (i = 0; i < 10; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		body = sipd_metrics_render(m, &len);
		ms = ms_since(&t0);
		best = ms < best ? ms : best;
		assert_non_null(body);
		snprintf(want, sizeof(want), "sipwall_bans_active{reason=\"manual\"} %u\n",
			 SW_BANS_MAX);
		assert_non_null(strstr(body, want));
		free(body);
	}
	fprintf(stderr, "scrape with %u bans: best %.3f ms of 10\n", SW_BANS_MAX, best);
	/* the scrapes read no ban entry */
	sipd_get_ban_counts(d, &bc2);
	assert_int_equal(bc2.entries_read, bc.entries_read);

	/* one tick reads one bounded step of the list */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sipd_tick(d, sw_monotonic_ns());
	fprintf(stderr, "tick with %u bans: %.3f ms\n", SW_BANS_MAX, ms_since(&t0));
	sipd_get_ban_counts(d, &bc2);
	assert_true(bc2.entries_read > bc.entries_read);
	assert_true(bc2.entries_read - bc.entries_read <= SIPD_BAN_SCAN_PER_TICK + 256);
	assert_int_equal(bc2.entries, SW_BANS_MAX);
	sipd_metrics_close(m);
	sipd_free(d);
}

/* The default guard.malformed (5 within 60 s), no flood guard. */
static int setup_keepalive(void **state)
{
	return bpfenv_setup(state, "sw-ugk",
			    "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
			    " \"guard\": {\"flood\": {\"rate\": 0, \"ports\": [5060]}}}");
}

static struct sipd_metrics *ka_metrics;

/* One UDP payload (any octets, NULs too) from src:5060 to dst:5060 with a
 * real UDP checksum, through sipd_handle_packet and, as `sipd run` does,
 * the metrics' per-message count. */
static enum sipd_verdict payload_to_sipd(struct bpfenv *e, const char *src, const char *dst,
					 const void *pl, size_t plen, enum sw_sip_reason *why)
{
	static uint8_t pkt[4096];
	size_t n = ip_udp(pkt, src, dst, pl, plen);
	enum sipd_verdict v = sipd_handle_packet(e->d, pkt, n, sw_monotonic_ns(), why);

	sipd_metrics_observe(ka_metrics, pkt, n, v);
	return v;
}

/* A phone that pings its registrar: every keep-alive is passed and counted
 * as one, creates nothing, writes no event and feeds no ban trigger; near
 * misses stay malformed, and the real trigger still bans on its 5th. */
static void test_keepalives_pass_and_never_ban(void **state)
{
	static const uint8_t stun[] = {0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
				       3,    4,	   5,	 6,    7,    8,	   9,	 10,   11, 12};
	static const struct {
		const void *p;
		size_t len;
	} ka[] = {
		{"\r\n\r\n", 4}, {"\r\n", 2}, {"  \t ", 4},	    {"\0", 1},
		{"\0\0\0", 3},	 {"", 0},     {stun, sizeof(stun)},
	};
	static const char *const near[] = {"\r\n\r\nX", "\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n\r\n",
					   "INVITE garbage\r\n\r\n", "\r\n \r\nOPTIONS\r\n"};
	static const char *const phone[] = {"203.0.113.90", "2001:db8:90::1"};
	struct bpfenv *e = *state;
	struct sipd_metrics_opts o = {.listen = "127.0.0.1:39878", .queue = 0, .nqueues = 1};
	char err[256], want[96], *body;
	size_t len;
	struct sipd_guard_stats gs0, gs;
	struct sipd_stats s0, s;
	enum sw_sip_reason why;
	struct sw_ban b;
	uint8_t a[16];
	size_t evlen;
	unsigned int i, k, r, n = 0, nstun = 0;

	NEED_ENV(e);
	o.pin_root = e->root;
	ka_metrics = sipd_metrics_open(&o, e->d, err, sizeof(err));
	assert_non_null(ka_metrics);
	sipd_get_stats(e->d, &s0);
	sipd_get_guard_stats(e->d, &gs0);
	fflush(e->evf);
	evlen = e->evlen;
	/* 30 rounds of every kind from an IPv4 and an IPv6 phone: 420 pings,
	 * far past guard.malformed's 5 */
	for (r = 0; r < 30; r++)
		for (k = 0; k < 2; k++)
			for (i = 0; i < sizeof(ka) / sizeof(ka[0]); i++) {
				why = SW_SIP_R_MAX;
				assert_int_equal(
					payload_to_sipd(e, phone[k], BOB, ka[i].p, ka[i].len, &why),
					SIPD_ACCEPT);
				assert_int_equal(why, SW_SIP_R_ACCEPTED);
				n++;
				nstun += ka[i].p == stun;
			}
	sipd_get_stats(e->d, &s);
	assert_int_equal(s.keepalives - s0.keepalives, n);
	assert_int_equal(s.keepalives_stun - s0.keepalives_stun, nstun);
	/* not SIP messages, no state, no drop */
	assert_int_equal(s.messages, s0.messages);
	assert_int_equal(s.accepted, s0.accepted);
	assert_memory_equal(s.dropped, s0.dropped, sizeof(s.dropped));
	assert_int_equal(s.calls_active, 0);
	assert_int_equal(s.transactions_active, 0);
	sipd_get_guard_stats(e->d, &gs);
	assert_int_equal(gs.sources, gs0.sources); /* no per-source entry */
	assert_memory_equal(gs.bans, gs0.bans, sizeof(gs.bans));
	fflush(e->evf);
	assert_int_equal(e->evlen, evlen); /* no event line */
	for (k = 0; k < 2; k++) {
		t_addr(phone[k], a);
		assert_int_equal(sw_ban_get(&e->maps, a, &b), -ENOENT);
	}
	assert_int_equal(bpfenv_xdp(e, phone[0], 5060, BOB, 5060), XDP_PASS);
	/* /metrics: their own family, not SIP messages of an unknown method */
	body = sipd_metrics_render(ka_metrics, &len);
	assert_non_null(body);
	snprintf(want, sizeof(want), "sipd_keepalives_total{kind=\"crlf\"} %u\n", n - nstun);
	assert_non_null(strstr(body, want));
	snprintf(want, sizeof(want), "sipd_keepalives_total{kind=\"stun\"} %u\n", nstun);
	assert_non_null(strstr(body, want));
	assert_non_null(strstr(body, "sipd_sip_messages_total{method=\"unknown\",kind=\"request\","
				     "verdict=\"accepted\"} 0\n"));
	free(body);

	/* near misses are not keep-alives: 4 malformed, pings in between */
	for (i = 0; i < sizeof(near) / sizeof(near[0]); i++) {
		assert_int_equal(payload_to_sipd(e, phone[0], BOB, near[i], strlen(near[i]), &why),
				 SIPD_DROP);
		assert_true(why == SW_SIP_R_PARSE_ERROR || why == SW_SIP_R_BAD_START_LINE);
		assert_int_equal(payload_to_sipd(e, phone[0], BOB, "\r\n\r\n", 4, &why),
				 SIPD_ACCEPT);
	}
	t_addr(phone[0], a);
	assert_int_equal(sw_ban_get(&e->maps, a, &b), -ENOENT);
	sipd_get_stats(e->d, &s);
	assert_int_equal(s.keepalives - s0.keepalives, n + 4);
	assert_int_equal(s.messages - s0.messages, 4);
	/* the 5th malformed datagram bans: the pings counted nothing */
	assert_int_equal(payload_to_sipd(e, phone[0], BOB, "garbage\r\n\r\n", 11, &why), SIPD_DROP);
	assert_int_equal(sw_ban_get(&e->maps, a, &b), 0);
	assert_int_equal(b.reason, SW_BAN_MALFORMED);
	/* a banned phone's pings now stop at the data path */
	assert_int_equal(bpfenv_xdp(e, phone[0], 5060, BOB, 5060), XDP_DROP);
	sipd_metrics_close(ka_metrics);
	ka_metrics = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, bpfenv_teardown)
		T(test_scanner_banned_in_map_and_xdp_drops),
		T(test_ban_expires_and_is_removed),
		T(test_malformed_ban_through_datagrams),
		T(test_trusted_and_flood_written),
		T(test_pinholes_per_call_bound),
		T(test_dialogs_per_source_bound),
		cmocka_unit_test_setup_teardown(test_spoofed_scanners_leave_manual_and_real_bans,
						setup_spoof, bpfenv_teardown),
		cmocka_unit_test_setup_teardown(test_headroom_keeps_room_for_manual_bans,
						setup_norate, bpfenv_teardown),
		cmocka_unit_test_setup_teardown(test_ban_del_lifts_sipds_ban, setup_spoof,
						bpfenv_teardown),
		cmocka_unit_test_setup_teardown(test_metrics_scrape_never_walks_bans, setup_spoof,
						bpfenv_teardown),
		cmocka_unit_test_setup_teardown(test_keepalives_pass_and_never_ban, setup_keepalive,
						bpfenv_teardown),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
