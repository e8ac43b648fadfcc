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

#define S      1000000000ull
#define EVIL   "203.0.113.66"
#define FRIEND "192.0.2.10"

struct env {
	char root[128];
	struct sipwall *skel;
	struct sw_maps maps;
	struct sipd_config *cfg;
	struct sipd_events *ev;
	char *evbuf;
	size_t evlen;
	FILE *evf;
	struct sipd *d;
};

static int can_run = -1;

static const char *cfg_json =
	"{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
	" \"limits\": {\"max_calls_per_source\": 2, \"max_pinholes_per_call\": 2},"
	" \"timeouts\": {\"bye_grace_s\": 0},"
	" \"guard\": {\"trusted\": [\"192.0.2.0/24\"], \"ban_ttl_s\": 1,"
	"   \"malformed\": {\"count\": 3, \"window_s\": 10},"
	"   \"flood\": {\"rate\": 20, \"burst\": 40, \"ports\": [5060, 5080]}}}";

static void unpin(const char *root)
{
	static const char *const names[] = {SW_MAP_PINHOLES, SW_MAP_STATS,  SW_MAP_FRAGS,
					    SW_MAP_CONFIG,   SW_MAP_IFACES, SW_MAP_BANS,
					    SW_MAP_FLOOD,    SW_MAP_TRUSTED};
	char p[256];
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", root, names[i]);
		unlink(p);
	}
	rmdir(root);
}

static int env_up(struct env *e, const char *json)
{
	LIBBPF_OPTS(bpf_object_open_opts, opts);
	static int seq;
	char err[512];

	memset(e, 0, sizeof(*e));
	e->maps = (struct sw_maps)SW_MAPS_INIT;
	snprintf(e->root, sizeof(e->root), "/sys/fs/bpf/sw-ug-%d-%d", (int)getpid(), seq++);
	if (mkdir(e->root, 0700) && errno != EEXIST)
		return -errno;
	opts.pin_root_path = e->root;
	e->skel = sipwall__open_opts(&opts);
	if (!e->skel)
		return -errno;
	if (sipwall__load(e->skel))
		return -1;
	if (sw_maps_open(e->root, &e->maps))
		return -1;
	if (sipd_config_parse(json, "t", &e->cfg, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return -1;
	}
	e->evf = open_memstream(&e->evbuf, &e->evlen);
	e->ev = sipd_events_open_stream(e->evf);
	e->d = sipd_new(e->cfg, e->root, e->ev, err, sizeof(err));
	if (!e->d) {
		fprintf(stderr, "sipd_new: %s\n", err);
		return -1;
	}
	return 0;
}

static void env_down(struct env *e)
{
	sipd_free(e->d);
	sipd_events_close(e->ev);
	if (e->evf)
		fclose(e->evf);
	if (getenv("SW_TEST_EVENTS") && e->evbuf)
		fputs(e->evbuf, stderr);
	free(e->evbuf);
	sipd_config_free(e->cfg);
	sw_maps_close(&e->maps);
	if (e->skel)
		sipwall__destroy(e->skel);
	unpin(e->root);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));

	if (can_run == -1) {
		can_run = geteuid() == 0;
		if (can_run) {
			struct env probe;

			libbpf_set_print(NULL);
			can_run = env_up(&probe, cfg_json) == 0;
			env_down(&probe);
		}
	}
	if (!can_run || env_up(e, cfg_json)) {
		free(e);
		*state = NULL;
		return 0;
	}
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	if (*state) {
		env_down(*state);
		free(*state);
	}
	return 0;
}

#define NEED_ENV(e)                                                       \
	do {                                                              \
		if (!(e)) {                                               \
			fprintf(stderr, "needs root and BPF: skipped\n"); \
			skip();                                           \
		}                                                         \
	} while (0)

static uint64_t stat_pkts(struct env *e, unsigned int reason)
{
	struct sw_stat st[SW_R_MAX];

	assert_int_equal(sw_stats_read(&e->maps, st), 0);
	return st[reason].packets;
}

/* The real XDP program's verdict on one UDP packet. */
static int xdp(struct env *e, const char *src, uint16_t sport, const char *dst, uint16_t dport)
{
	struct pb_spec s = {.src = src,
			    .dst = dst,
			    .sport = sport,
			    .dport = dport,
			    .payload = 160,
			    .v6 = strchr(src, ':') != NULL};
	struct pb_pkt p;
	LIBBPF_OPTS(bpf_test_run_opts, o);

	assert_int_equal(pb_build(&s, &p), 0);
	o.data_in = p.b;
	o.data_size_in = (uint32_t)p.len;
	o.repeat = 1;
	assert_int_equal(bpf_prog_test_run_opts(bpf_program__fd(e->skel->progs.sipwall_xdp), &o),
			 0);
	return (int)o.retval;
}

/* SIP text from src:5060 to dst:5060 as the IP datagram NFQUEUE hands sipd. */
static enum sw_sip_reason datagram(struct env *e, const char *src, const char *dst,
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

static int events_have(struct env *e, const char *needle)
{
	fflush(e->evf);
	return e->evbuf && strstr(e->evbuf, needle) != NULL;
}

static void test_scanner_banned_in_map_and_xdp_drops(void **state)
{
	struct env *e = *state;
	struct sw_ban b;
	uint64_t before, now;
	uint8_t a[16];
	char text[1024];

	NEED_ENV(e);
	/* before: media from EVIL meets no pinhole */
	assert_int_equal(xdp(e, EVIL, 4000, BOB, 16000), XDP_DROP);
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
	assert_int_equal(xdp(e, EVIL, 4000, BOB, 16000), XDP_DROP);
	assert_int_equal(xdp(e, EVIL, 5060, BOB, 5060), XDP_DROP);
	assert_int_equal(stat_pkts(e, SW_R_DROPPED_BANNED) - before, 2);
	/* sipd refuses what still reaches it */
	options_text(text, sizeof(text), EVIL, "Asterisk");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_BANNED);
}

static void test_ban_expires_and_is_removed(void **state)
{
	struct env *e = *state;
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
	xdp(e, EVIL, 5060, BOB, 5060);
	assert_int_equal(stat_pkts(e, SW_R_DROPPED_BANNED), before);
	sipd_tick(e->d, sw_monotonic_ns());
	assert_int_equal(sw_ban_get(&e->maps, a, &b), -ENOENT);
	assert_true(events_have(e, "\"event\":\"ban_expire\""));
	options_text(text, sizeof(text), EVIL, "Asterisk");
	assert_int_equal(datagram(e, EVIL, BOB, text), SW_SIP_R_ACCEPTED);
}

static void test_malformed_ban_through_datagrams(void **state)
{
	struct env *e = *state;
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
	struct env *e = *state;
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
	struct env *e = *state;
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
	struct env *e = *state;
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
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
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
