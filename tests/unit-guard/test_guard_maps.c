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
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>
#include <netinet/in.h>

#include "msgs.h"
#include "pktbuild.h"
#include "sipd/config.h"
#include "sipd/events.h"
#include "sipd/guard.h"
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
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
