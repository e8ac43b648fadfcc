// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd's DoS guard (sipd/guard.c) on its own: every ban trigger, the trusted
 * and inside exemptions, the message-rate and per-source dialog bounds, the
 * fixed-size source table, and the "guard"/"limits" config keys with their
 * JSON-path errors. The ban callback records what the daemon would write to
 * sw_bans; tests/unit-guard/test_guard_maps.c checks the real map write.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "msgs.h"
#include "sipd/config.h"
#include "sipd/guard.h"

#define S    1000000000ull
#define T0   (1000 * S)
#define EVIL "203.0.113.66"

struct rec {
	unsigned int n;
	struct sipd_guard_ban last;
	int ret; /* what the callback returns */
};

static int rec_ban(void *ctx, const struct sipd_guard_ban *b, uint64_t now_ns)
{
	struct rec *r = ctx;

	(void)now_ns;
	r->n++;
	r->last = *b;
	return r->ret;
}

struct env {
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec rec;
};

static const char *base_json = "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
			       " \"limits\": {\"max_msg_rate\": 10, \"max_msg_burst\": 20,"
			       "   \"max_calls_per_source\": 3},"
			       " \"guard\": {\"trusted\": [\"192.0.2.0/24\", \"2001:db8:7::/48\"],"
			       "   \"ban_ttl_s\": 30, \"ban_prefix_v6\": 64,"
			       "   \"malformed\": {\"count\": 3, \"window_s\": 10},"
			       "   \"auth_failures\": {\"count\": 4, \"window_s\": 10},"
			       "   \"not_found\": {\"count\": 5, \"window_s\": 10},"
			       "   \"max_sources\": %u}}";

static void env_up(struct env *e, unsigned int max_sources)
{
	char json[1024], err[512];

	memset(e, 0, sizeof(*e));
	snprintf(json, sizeof(json), base_json, max_sources);
	if (sipd_config_parse(json, "t", &e->cfg, err, sizeof(err)))
		fail_msg("%s", err);
	e->g = sipd_guard_new(e->cfg, rec_ban, &e->rec);
	assert_non_null(e->g);
}

static void env_down(struct env *e)
{
	sipd_guard_free(e->g);
	sipd_config_free(e->cfg);
}

static int setup(void **state)
{
	struct env *e = malloc(sizeof(*e));

	env_up(e, 1024);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	env_down(*state);
	free(*state);
	return 0;
}

static void addr(const char *s, uint8_t a[16])
{
	assert_int_equal(sw_addr_parse(s, a), 0);
}

/* An OPTIONS request from src with a User-Agent. */
static void req_from(struct sip_msg *m, const char *src, const char *ua)
{
	t_req(m, "OPTIONS", "cid-scan", 0, NULL, 1);
	addr(src, m->src.addr);
	snprintf(m->user_agent, sizeof(m->user_agent), "%s", ua);
}

/* A response with status to method, sent to dst (the requester). */
static void resp_to(struct sip_msg *m, const char *dst, int status, const char *method)
{
	t_resp(m, status, method, "cid-auth", 0, BTAG, 1);
	addr(dst, m->dst.addr);
}

static enum sw_sip_reason message(struct env *e, const struct sip_msg *m, uint64_t now)
{
	char d[256] = "";

	return sipd_guard_message(e->g, m, now, d, sizeof(d));
}

static enum sw_sip_reason admit(struct env *e, const char *src, uint64_t now)
{
	uint8_t a[16];
	char d[256];

	addr(src, a);
	return sipd_guard_admit(e->g, a, now, d, sizeof(d));
}

static void malformed(struct env *e, const char *src, uint64_t now)
{
	uint8_t a[16];

	addr(src, a);
	sipd_guard_malformed(e->g, a, 5060, SW_SIP_R_BAD_CSEQ, now);
}

/* --- triggers --- */

static void test_scanner_ua_bans_first_message(void **state)
{
	struct env *e = *state;
	struct sip_msg m;
	uint8_t a[16];

	req_from(&m, EVIL, "friendly-scanner");
	assert_int_equal(message(e, &m, T0), SW_SIP_R_SCANNER);
	assert_int_equal(e->rec.n, 1);
	assert_int_equal(e->rec.last.reason, SW_BAN_SCANNER_UA);
	assert_int_equal(e->rec.last.ttl_s, 30);
	assert_int_equal(e->rec.last.plen, 128);
	addr(EVIL, a);
	assert_memory_equal(e->rec.last.addr, a, 16);
	assert_non_null(strstr(e->rec.last.detail, "friendly-scanner"));
	/* sipd itself drops the source's next datagrams until the ban ends */
	assert_int_equal(admit(e, EVIL, T0 + S), SW_SIP_R_BANNED);
	assert_int_equal(admit(e, EVIL, T0 + 29 * S), SW_SIP_R_BANNED);
	assert_int_equal(admit(e, EVIL, T0 + 31 * S), SW_SIP_R_ACCEPTED);
}

static void test_scanner_ua_globs_case_insensitive(void **state)
{
	static const char *const bad[] = {"SIPVicious 0.3.4", "sipcli/v1.8", "VaxSIPUserAgent/3.1",
					  "Friendly-Scanner"};
	static const char *const good[] = {"Asterisk PBX 20.1", "sipp", "Linphone/5.2 (friendly)"};
	struct env *e = *state;
	struct sip_msg m;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		req_from(&m, EVIL, bad[i]);
		assert_int_equal(message(e, &m, T0), SW_SIP_R_SCANNER);
	}
	assert_int_equal(e->rec.n, 4);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		req_from(&m, "203.0.113.67", good[i]);
		assert_int_equal(message(e, &m, T0), SW_SIP_R_ACCEPTED);
	}
	req_from(&m, "203.0.113.67", "");
	assert_int_equal(message(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(e->rec.n, 4);
}

static void test_scanner_ua_configurable(void **state)
{
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	struct sip_msg m;
	char err[256], d[256];

	(void)state;
	assert_int_equal(sipd_config_parse("{\"guard\": {\"scanner_user_agents\": [\"evil-*\"]}}",
					   "t", &cfg, err, sizeof(err)),
			 0);
	g = sipd_guard_new(cfg, rec_ban, &r);
	req_from(&m, EVIL, "friendly-scanner");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	req_from(&m, EVIL, "evil-bot 1.0");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	assert_int_equal(r.n, 1);
	sipd_guard_free(g);
	sipd_config_free(cfg);
	/* [] turns the trigger off */
	assert_int_equal(sipd_config_parse("{\"guard\": {\"scanner_user_agents\": []}}", "t", &cfg,
					   err, sizeof(err)),
			 0);
	assert_int_equal(cfg->guard.scanner_ua.n, 0);
	sipd_config_free(cfg);
}

static void test_malformed_n_within_t(void **state)
{
	struct env *e = *state;

	malformed(e, EVIL, T0);
	malformed(e, EVIL, T0 + S);
	assert_int_equal(e->rec.n, 0);
	malformed(e, EVIL, T0 + 2 * S);
	assert_int_equal(e->rec.n, 1);
	assert_int_equal(e->rec.last.reason, SW_BAN_MALFORMED);
	assert_non_null(strstr(e->rec.last.detail, "sip_bad_cseq"));
}

static void test_malformed_window_expires(void **state)
{
	struct env *e = *state;

	/* two, then two more after the 10 s window: never 3 within 10 s */
	malformed(e, EVIL, T0);
	malformed(e, EVIL, T0 + S);
	malformed(e, EVIL, T0 + 11 * S);
	malformed(e, EVIL, T0 + 12 * S);
	assert_int_equal(e->rec.n, 0);
	malformed(e, EVIL, T0 + 13 * S);
	assert_int_equal(e->rec.n, 1);
}

static void test_auth_failures(void **state)
{
	struct env *e = *state;
	struct sip_msg m;
	int i;

	/* 401/407/403 to REGISTER or INVITE count; to OPTIONS they do not */
	resp_to(&m, EVIL, 401, "OPTIONS");
	for (i = 0; i < 10; i++)
		assert_int_equal(message(e, &m, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(e->rec.n, 0);
	resp_to(&m, EVIL, 401, "REGISTER");
	message(e, &m, T0);
	resp_to(&m, EVIL, 407, "INVITE");
	message(e, &m, T0);
	resp_to(&m, EVIL, 403, "REGISTER");
	message(e, &m, T0);
	assert_int_equal(e->rec.n, 0);
	resp_to(&m, EVIL, 401, "REGISTER");
	assert_int_equal(message(e, &m, T0 + S), SW_SIP_R_ACCEPTED);
	assert_int_equal(e->rec.n, 1);
	assert_int_equal(e->rec.last.reason, SW_BAN_AUTH_FAILURES);
	/* the requester (the response's destination) is banned, not the
	 * server that answered */
	addr(EVIL, m.src.addr);
	assert_memory_equal(e->rec.last.addr, m.src.addr, 16);
	/* a 200 is not a failure */
	resp_to(&m, "203.0.113.70", 200, "REGISTER");
	for (i = 0; i < 10; i++)
		message(e, &m, T0);
	assert_int_equal(e->rec.n, 1);
}

static void test_not_found_enumeration(void **state)
{
	struct env *e = *state;
	struct sip_msg m;
	int i;

	resp_to(&m, EVIL, 404, "INVITE");
	for (i = 0; i < 4; i++)
		message(e, &m, T0 + (uint64_t)i * S);
	assert_int_equal(e->rec.n, 0);
	message(e, &m, T0 + 5 * S);
	assert_int_equal(e->rec.n, 1);
	assert_int_equal(e->rec.last.reason, SW_BAN_NOT_FOUND);
	assert_string_equal(sipd_ban_reason_name(e->rec.last.reason), "user_enumeration");
}

static void test_trusted_never_banned(void **state)
{
	struct env *e = *state;
	struct sipd_guard_stats st;
	struct sip_msg m;
	int i;

	/* a scanner UA from a trusted network: the message is still dropped,
	 * the network is not banned */
	req_from(&m, "192.0.2.9", "sipvicious");
	assert_int_equal(message(e, &m, T0), SW_SIP_R_SCANNER);
	for (i = 0; i < 50; i++) {
		malformed(e, "192.0.2.9", T0);
		malformed(e, "2001:db8:7:1::5", T0);
	}
	resp_to(&m, "192.0.2.9", 404, "INVITE");
	for (i = 0; i < 50; i++)
		message(e, &m, T0);
	assert_int_equal(e->rec.n, 0);
	sipd_guard_get_stats(e->g, &st);
	assert_int_equal(st.trusted_spared, 1);
	/* and never rate limited */
	for (i = 0; i < 1000; i++)
		assert_int_equal(admit(e, "192.0.2.9", T0), SW_SIP_R_ACCEPTED);
}

static void test_inside_not_banned_unless_configured(void **state)
{
	struct env *e = *state;
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	char err[256];
	uint8_t a[16];
	int i;

	for (i = 0; i < 10; i++)
		malformed(e, BOB, T0);
	assert_int_equal(e->rec.n, 0);
	assert_int_equal(sipd_config_parse("{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
					   " \"guard\": {\"ban_inside\": true}}",
					   "t", &cfg, err, sizeof(err)),
			 0);
	g = sipd_guard_new(cfg, rec_ban, &r);
	addr(BOB, a);
	for (i = 0; i < 5; i++)
		sipd_guard_malformed(g, a, 5060, SW_SIP_R_PARSE_ERROR, T0);
	assert_int_equal(r.n, 1);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void test_v6_ban_prefix(void **state)
{
	struct env *e = *state;
	struct sip_msg m;
	uint8_t want[16];

	req_from(&m, "2001:db8:99:1:aaaa:bbbb:cccc:dddd", "sipcli");
	assert_int_equal(message(e, &m, T0), SW_SIP_R_SCANNER);
	assert_int_equal(e->rec.n, 1);
	assert_int_equal(e->rec.last.plen, 64);
	addr("2001:db8:99:1::", want);
	assert_memory_equal(e->rec.last.addr, want, 16);
	/* another host of the same /64 is covered by sipd's ban too */
	assert_int_equal(admit(e, "2001:db8:99:1::77", T0 + S), SW_SIP_R_BANNED);
	assert_int_equal(admit(e, "2001:db8:99:2::77", T0 + S), SW_SIP_R_ACCEPTED);
}

static void test_disabled_guard(void **state)
{
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	struct sip_msg m;
	char err[256], d[256];
	uint8_t a[16];
	int i;

	(void)state;
	assert_int_equal(
		sipd_config_parse("{\"guard\": {\"enabled\": false}}", "t", &cfg, err, sizeof(err)),
		0);
	g = sipd_guard_new(cfg, rec_ban, &r);
	req_from(&m, EVIL, "friendly-scanner");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	addr(EVIL, a);
	for (i = 0; i < 5000; i++)
		assert_int_equal(sipd_guard_admit(g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	assert_int_equal(r.n, 0);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void test_ban_callback_error_counted(void **state)
{
	struct env *e = *state;
	struct sipd_guard_stats st;
	struct sip_msg m;

	e->rec.ret = -28; /* ENOSPC: the map is full */
	req_from(&m, EVIL, "friendly-scanner");
	assert_int_equal(message(e, &m, T0), SW_SIP_R_SCANNER);
	sipd_guard_get_stats(e->g, &st);
	assert_int_equal(st.ban_errors, 1);
	assert_int_equal(st.bans[SW_BAN_SCANNER_UA], 1);
	/* sipd still refuses the source itself */
	assert_int_equal(admit(e, EVIL, T0 + S), SW_SIP_R_BANNED);
}

/* --- what one spoofed datagram may not do --- */

/* A guard on its own config (json), recording into r. */
static struct sipd_guard *guard_on(const char *json, struct sipd_config **cfg, struct rec *r)
{
	char err[256];

	if (sipd_config_parse(json, "t", cfg, err, sizeof(err)))
		fail_msg("%s", err);
	return sipd_guard_new(*cfg, rec_ban, r);
}

static void test_scanner_spares_source_with_live_calls(void **state)
{
	struct env *e = *state;
	struct sipd_guard_stats st;
	struct sip_msg m;
	uint8_t a[16];
	char d[256];

	addr(EVIL, a);
	assert_int_equal(sipd_guard_call_start(e->g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	/* a forged OPTIONS claiming that source: dropped, not banned */
	req_from(&m, EVIL, "friendly-scanner");
	assert_int_equal(message(e, &m, T0 + S), SW_SIP_R_SCANNER);
	assert_int_equal(e->rec.n, 0);
	sipd_guard_get_stats(e->g, &st);
	assert_int_equal(st.refused[SIPD_BAN_SPARED], 1);
	assert_int_equal(st.bans[SW_BAN_SCANNER_UA], 0);
	/* its messages still pass */
	assert_int_equal(admit(e, EVIL, T0 + 2 * S), SW_SIP_R_ACCEPTED);
	/* the counting triggers spare it too */
	malformed(e, EVIL, T0 + 2 * S);
	malformed(e, EVIL, T0 + 2 * S);
	malformed(e, EVIL, T0 + 2 * S);
	assert_int_equal(e->rec.n, 0);
	/* another address of the same IPv4 /24 is another source */
	req_from(&m, "203.0.113.67", "friendly-scanner");
	assert_int_equal(message(e, &m, T0 + 2 * S), SW_SIP_R_SCANNER);
	assert_int_equal(e->rec.n, 1);
	/* once the call has ended, the source is bannable again */
	sipd_guard_call_end(e->g, a);
	req_from(&m, EVIL, "friendly-scanner");
	assert_int_equal(message(e, &m, T0 + 3 * S), SW_SIP_R_SCANNER);
	assert_int_equal(e->rec.n, 2);
	assert_memory_equal(e->rec.last.src, a, 16);
}

static void test_scanner_spares_peer_network(void **state)
{
	struct sipd_guard_stats st;
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	struct sip_msg m;
	char d[256];

	(void)state;
	g = guard_on("{\"networks\": {\"peers\": [{\"cidr\": \"198.51.100.0/24\", \"check\":"
		     " \"address\"}, {\"cidr\": \"2001:db8:5::/48\", \"check\": \"strict\"}]}}",
		     &cfg, &r);
	req_from(&m, "198.51.100.20", "sipvicious");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	req_from(&m, "2001:db8:5:1::9", "sipvicious");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	assert_int_equal(r.n, 0);
	sipd_guard_get_stats(g, &st);
	assert_int_equal(st.refused[SIPD_BAN_SPARED], 2);
	/* next door is not a peer */
	req_from(&m, "198.51.101.20", "sipvicious");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	assert_int_equal(r.n, 1);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void test_wide_ban_prefix_spares_network_with_calls(void **state)
{
	struct sipd_guard_stats st;
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	struct sip_msg m;
	uint8_t a[16];
	char d[256];

	(void)state;
	/* bans cover a /24, sources are counted per /32: a call from .7
	 * spares the whole /24 a forged datagram from .5 would ban */
	g = guard_on("{\"guard\": {\"ban_prefix_v4\": 24}}", &cfg, &r);
	addr("203.0.113.7", a);
	assert_int_equal(sipd_guard_call_start(g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	req_from(&m, "203.0.113.5", "sipvicious");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	assert_int_equal(r.n, 0);
	sipd_guard_get_stats(g, &st);
	assert_int_equal(st.refused[SIPD_BAN_SPARED], 1);
	sipd_guard_call_end(g, a);
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	assert_int_equal(r.n, 1);
	assert_int_equal(r.last.plen, 96 + 24);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void test_scanner_spares_trusted_overlap(void **state)
{
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	struct sip_msg m;
	char d[256];

	(void)state;
	/* a /16 ban would cover the trusted /24 */
	g = guard_on("{\"guard\": {\"ban_prefix_v4\": 16, \"trusted\": [\"192.0.2.0/24\"]}}", &cfg,
		     &r);
	req_from(&m, "192.0.77.1", "sipvicious");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	assert_int_equal(r.n, 0);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void scanner_from(struct sipd_guard *g, unsigned int i, uint64_t now)
{
	struct sip_msg m;
	char src[32], d[256];

	snprintf(src, sizeof(src), "100.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255, i & 255);
	req_from(&m, src, "friendly-scanner");
	assert_int_equal(sipd_guard_message(g, &m, now, d, sizeof(d)), SW_SIP_R_SCANNER);
}

static void test_ban_rate_limited(void **state)
{
	struct sipd_guard_stats st;
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	unsigned int i;

	(void)state;
	g = guard_on("{\"guard\": {\"max_bans_per_s\": 2, \"max_bans_burst\": 3}}", &cfg, &r);
	for (i = 0; i < 100; i++)
		scanner_from(g, i, T0);
	assert_int_equal(r.n, 3);
	sipd_guard_get_stats(g, &st);
	assert_int_equal(st.refused[SIPD_BAN_RATE], 97);
	assert_int_equal(st.bans[SW_BAN_SCANNER_UA], 3);
	/* 2/s: a second later, two more */
	for (i = 100; i < 200; i++)
		scanner_from(g, i, T0 + S);
	assert_int_equal(r.n, 5);
	/* never more than the burst after a pause */
	for (i = 200; i < 300; i++)
		scanner_from(g, i, T0 + 3600 * S);
	assert_int_equal(r.n, 8);
	sipd_guard_free(g);
	sipd_config_free(cfg);
	/* the default: 10/s, burst 20; 0 = no bound */
	g = guard_on("{}", &cfg, &r);
	r.n = 0;
	for (i = 0; i < 1000; i++)
		scanner_from(g, i, T0);
	assert_int_equal(r.n, 20);
	sipd_guard_free(g);
	sipd_config_free(cfg);
	g = guard_on("{\"guard\": {\"max_bans_per_s\": 0}}", &cfg, &r);
	r.n = 0;
	for (i = 0; i < 1000; i++)
		scanner_from(g, i, T0);
	assert_int_equal(r.n, 1000);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void test_ban_map_headroom(void **state)
{
	struct sipd_guard_stats st;
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	unsigned int i;

	(void)state;
	g = guard_on("{\"guard\": {\"max_bans_per_s\": 0}}", &cfg, &r);
	/* 10 % of 100 entries stay free: 89 held, one more ban fits */
	sipd_guard_set_ban_fill(g, 89, 100);
	for (i = 0; i < 5; i++)
		scanner_from(g, i, T0);
	assert_int_equal(r.n, 1);
	sipd_guard_get_stats(g, &st);
	assert_int_equal(st.refused[SIPD_BAN_HEADROOM], 4);
	/* the daemon counted the map again: room again */
	sipd_guard_set_ban_fill(g, 50, 100);
	scanner_from(g, 10, T0);
	assert_int_equal(r.n, 2);
	/* a full-size list: automatic bans stop at 90 % of 65,536 */
	sipd_guard_set_ban_fill(g, 0, 65536);
	r.n = 0;
	for (i = 0; i < 66000; i++)
		scanner_from(g, 1000 + i, T0);
	assert_int_equal(r.n, 65536 - 65536 / 10); /* 58,983 */
	sipd_guard_get_stats(g, &st);
	assert_int_equal(st.refused[SIPD_BAN_HEADROOM], 4 + 66000 - r.n);
	sipd_guard_free(g);
	sipd_config_free(cfg);
	/* a failed map write does not count as an entry */
	g = guard_on("{\"guard\": {\"max_bans_per_s\": 0}}", &cfg, &r);
	sipd_guard_set_ban_fill(g, 89, 100);
	r.ret = -28;
	r.n = 0;
	scanner_from(g, 1, T0);
	scanner_from(g, 2, T0);
	assert_int_equal(r.n, 2);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

/* --- per-source accounting and ban prefixes --- */

static void test_source_prefix_v6_accounting(void **state)
{
	struct env *e = *state;
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	uint8_t a[16], k[16], want[16];
	char d[256];
	int i;

	/* the default /64: one bucket for the whole /64 */
	addr("2001:db8:1:2:aaaa::1", a);
	assert_int_equal(sipd_guard_source_key(e->cfg, a, k), 64);
	addr("2001:db8:1:2::", want);
	assert_memory_equal(k, want, 16);
	addr("203.0.113.9", a);
	assert_int_equal(sipd_guard_source_key(e->cfg, a, k), 128);
	assert_memory_equal(k, a, 16);
	for (i = 0; i < 20; i++)
		assert_int_equal(admit(e, "2001:db8:1:2::1", T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(admit(e, "2001:db8:1:2::2", T0), SW_SIP_R_RATE_LIMITED);
	assert_int_equal(admit(e, "2001:db8:1:3::1", T0), SW_SIP_R_ACCEPTED);
	/* calls per source likewise: 3 from one /64 */
	for (i = 0; i < 3; i++) {
		snprintf(d, sizeof(d), "2001:db8:9:9::%d", i + 1);
		addr(d, a);
		assert_int_equal(sipd_guard_call_start(e->g, a, T0, d, sizeof(d)),
				 SW_SIP_R_ACCEPTED);
	}
	addr("2001:db8:9:9::99", a);
	assert_int_equal(sipd_guard_call_start(e->g, a, T0, d, sizeof(d)), SW_SIP_R_DIALOG_LIMIT);

	/* /128 and an IPv4 /24 on request */
	g = guard_on("{\"limits\": {\"source_prefix_v6\": 128, \"source_prefix_v4\": 24,"
		     " \"max_msg_rate\": 1, \"max_msg_burst\": 1}}",
		     &cfg, &r);
	addr("2001:db8:1:2::1", a);
	assert_int_equal(sipd_guard_admit(g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	addr("2001:db8:1:2::2", a);
	assert_int_equal(sipd_guard_admit(g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	addr("198.51.100.1", a);
	assert_int_equal(sipd_guard_admit(g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	addr("198.51.100.200", a);
	assert_int_equal(sipd_guard_admit(g, a, T0, d, sizeof(d)), SW_SIP_R_RATE_LIMITED);
	assert_int_equal(sipd_guard_source_key(cfg, a, k), 96 + 24);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void test_default_ban_prefix_v6_is_64(void **state)
{
	struct sipd_config *cfg;
	struct sipd_guard *g;
	struct rec r = {0};
	struct sip_msg m;
	uint8_t want[16], full[16];
	char d[256];

	(void)state;
	g = guard_on("{}", &cfg, &r);
	assert_int_equal(cfg->guard.ban_prefix_v6, 64);
	req_from(&m, "2001:db8:42:7:1:2:3:4", "sipcli");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	assert_int_equal(r.last.plen, 64);
	addr("2001:db8:42:7::", want);
	assert_memory_equal(r.last.addr, want, 16);
	/* the unmasked source goes along for the map (its own ban prefix) */
	addr("2001:db8:42:7:1:2:3:4", full);
	assert_memory_equal(r.last.src, full, 16);
	sipd_guard_free(g);
	sipd_config_free(cfg);
	/* /128 bans with /64 accounting: sipd drops only the banned host */
	g = guard_on("{\"guard\": {\"ban_prefix_v6\": 128}}", &cfg, &r);
	req_from(&m, "2001:db8:42:7::1", "sipcli");
	assert_int_equal(sipd_guard_message(g, &m, T0, d, sizeof(d)), SW_SIP_R_SCANNER);
	addr("2001:db8:42:7::1", full);
	assert_int_equal(sipd_guard_admit(g, full, T0 + S, d, sizeof(d)), SW_SIP_R_BANNED);
	addr("2001:db8:42:7::2", full);
	assert_int_equal(sipd_guard_admit(g, full, T0 + S, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

/* --- the ban map is the one truth --- */

static int map_state; /* what the fake sw_bans says: 1, 0 or -errno */
static unsigned int map_checks;

static int fake_check(void *ctx, const uint8_t src[16])
{
	(void)ctx;
	(void)src;
	map_checks++;
	return map_state;
}

static void test_ban_lifted_via_map(void **state)
{
	struct env *e = *state;
	struct sipd_guard_stats st;
	struct sip_msg m;
	int i;

	sipd_guard_set_hooks(e->g, fake_check, NULL);
	map_checks = 0;
	map_state = 1;
	req_from(&m, EVIL, "friendly-scanner");
	assert_int_equal(message(e, &m, T0), SW_SIP_R_SCANNER);
	/* right after the ban: sipd's memory, no lookup */
	assert_int_equal(admit(e, EVIL, T0 + S / 10), SW_SIP_R_BANNED);
	assert_int_equal(map_checks, 0);
	/* still in the map: banned, and looked up at most twice a second */
	for (i = 0; i < 100; i++)
		assert_int_equal(admit(e, EVIL, T0 + S + (uint64_t)i * (S / 100)), SW_SIP_R_BANNED);
	assert_true(map_checks >= 1 && map_checks <= 2);
	/* the map cannot tell (no ban list): sipd's memory holds */
	map_state = -2;
	assert_int_equal(admit(e, EVIL, T0 + 3 * S), SW_SIP_R_BANNED);
	/* sipwall ban del: gone from the map, lifted within a second */
	map_state = 0;
	assert_int_equal(admit(e, EVIL, T0 + 3 * S + S / 4), SW_SIP_R_BANNED);
	assert_int_equal(admit(e, EVIL, T0 + 4 * S), SW_SIP_R_ACCEPTED);
	sipd_guard_get_stats(e->g, &st);
	assert_int_equal(st.bans_lifted, 1);
	assert_true(st.ban_checks >= 3);
	/* and stays lifted without more lookups */
	map_checks = 0;
	for (i = 0; i < 10; i++)
		assert_int_equal(admit(e, EVIL, T0 + 5 * S), SW_SIP_R_ACCEPTED);
	assert_int_equal(map_checks, 0);
}

/* --- bounds --- */

static void test_rate_bound(void **state)
{
	struct env *e = *state;
	int i, ok = 0;

	/* burst 20 at once, then rate_limited */
	for (i = 0; i < 20; i++)
		assert_int_equal(admit(e, EVIL, T0), SW_SIP_R_ACCEPTED);
	assert_int_equal(admit(e, EVIL, T0), SW_SIP_R_RATE_LIMITED);
	/* another source has its own bucket */
	assert_int_equal(admit(e, "203.0.113.99", T0), SW_SIP_R_ACCEPTED);
	/* 10/s: half a second later, 5 more */
	for (i = 0; i < 20; i++)
		ok += admit(e, EVIL, T0 + S / 2) == SW_SIP_R_ACCEPTED;
	assert_int_equal(ok, 5);
	/* never more than the burst after a long pause */
	ok = 0;
	for (i = 0; i < 100; i++)
		ok += admit(e, EVIL, T0 + 3600 * S) == SW_SIP_R_ACCEPTED;
	assert_int_equal(ok, 20);
}

static void test_rate_bound_off(void **state)
{
	struct sipd_config *cfg;
	struct sipd_guard *g;
	char err[256], d[256];
	uint8_t a[16];
	int i;

	(void)state;
	assert_int_equal(sipd_config_parse("{\"limits\": {\"max_msg_rate\": 0}}", "t", &cfg, err,
					   sizeof(err)),
			 0);
	g = sipd_guard_new(cfg, rec_ban, NULL);
	addr(EVIL, a);
	for (i = 0; i < 10000; i++)
		assert_int_equal(sipd_guard_admit(g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	sipd_guard_free(g);
	sipd_config_free(cfg);
}

static void test_dialogs_per_source(void **state)
{
	struct env *e = *state;
	uint8_t a[16], t[16];
	char d[256];
	int i;

	addr(EVIL, a);
	for (i = 0; i < 3; i++)
		assert_int_equal(sipd_guard_call_start(e->g, a, T0, d, sizeof(d)),
				 SW_SIP_R_ACCEPTED);
	assert_int_equal(sipd_guard_call_start(e->g, a, T0, d, sizeof(d)), SW_SIP_R_DIALOG_LIMIT);
	assert_non_null(strstr(d, "max_calls_per_source"));
	sipd_guard_call_end(e->g, a);
	assert_int_equal(sipd_guard_call_start(e->g, a, T0, d, sizeof(d)), SW_SIP_R_ACCEPTED);
	/* trusted sources are not bounded per source */
	addr("192.0.2.1", t);
	for (i = 0; i < 100; i++)
		assert_int_equal(sipd_guard_call_start(e->g, t, T0, d, sizeof(d)),
				 SW_SIP_R_ACCEPTED);
}

static void test_source_table_bounded(void **state)
{
	struct sipd_guard_stats st;
	struct env e;
	char src[64];
	unsigned int i;

	(void)state;
	env_up(&e, 64);
	/* 100,000 distinct sources through a 64-entry table */
	for (i = 0; i < 100000; i++) {
		snprintf(src, sizeof(src), "100.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
			 i & 255);
		admit(&e, src, T0 + i);
	}
	sipd_guard_get_stats(e.g, &st);
	assert_int_equal(st.table_size, 64);
	assert_true(st.sources <= 64);
	assert_true(st.evictions >= 100000 - 64);
	/* a source with live calls is never evicted: its count holds */
	{
		uint8_t a[16];
		char d[256];

		addr(EVIL, a);
		for (i = 0; i < 3; i++)
			sipd_guard_call_start(e.g, a, T0, d, sizeof(d));
		for (i = 0; i < 100000; i++) {
			snprintf(src, sizeof(src), "100.%u.%u.%u", (i >> 16) & 255, (i >> 8) & 255,
				 i & 255);
			admit(&e, src, T0 + S + i);
		}
		assert_int_equal(sipd_guard_call_start(e.g, a, T0, d, sizeof(d)),
				 SW_SIP_R_DIALOG_LIMIT);
	}
	env_down(&e);
}

static void test_reconfig_keeps_or_resizes(void **state)
{
	struct env *e = *state;
	struct sipd_config *n;
	struct sipd_guard_stats st;
	char err[256];

	malformed(e, EVIL, T0);
	malformed(e, EVIL, T0);
	assert_int_equal(
		sipd_config_parse("{\"guard\": {\"malformed\": {\"count\": 3, \"window_s\": 10},"
				  " \"max_sources\": 1024}}",
				  "t", &n, err, sizeof(err)),
		0);
	assert_int_equal(sipd_guard_reconfig(e->g, n), 0);
	sipd_config_free(e->cfg);
	e->cfg = n;
	malformed(e, EVIL, T0 + S); /* same table: the third one bans */
	assert_int_equal(e->rec.n, 1);
	assert_int_equal(
		sipd_config_parse("{\"guard\": {\"max_sources\": 100}}", "t", &n, err, sizeof(err)),
		0);
	assert_int_equal(sipd_guard_reconfig(e->g, n), 0);
	sipd_config_free(e->cfg);
	e->cfg = n;
	sipd_guard_get_stats(e->g, &st);
	assert_int_equal(st.table_size, 128);
}

/* --- config --- */

static void test_config_defaults(void **state)
{
	struct sipd_config *c;

	(void)state;
	assert_int_equal(sipd_config_default(&c), 0);
	assert_true(c->guard.enabled);
	assert_int_equal(c->guard.ban_ttl_s, 3600);
	assert_int_equal(c->guard.malformed.count, 5);
	assert_int_equal(c->guard.auth_failures.count, 10);
	assert_int_equal(c->guard.not_found.count, 20);
	assert_true(c->guard.scanner_ua.n >= 5);
	assert_int_equal(c->guard.flood.set, 0);
	assert_int_equal(c->max_calls_per_source, 1000);
	assert_int_equal(c->max_pinholes_per_call, 64);
	assert_int_equal(c->max_msg_rate, 500);
	assert_int_equal(c->guard.ban_prefix_v4, 32);
	assert_int_equal(c->guard.ban_prefix_v6, 64);
	assert_int_equal(c->source_prefix_v4, 32);
	assert_int_equal(c->source_prefix_v6, 64);
	assert_int_equal(c->guard.max_bans_per_s, 10);
	assert_int_equal(c->guard.max_bans_burst, 20);
	assert_int_equal(c->guard.ban_map_headroom, 10);
	sipd_config_free(c);
}

static void test_config_flood(void **state)
{
	struct sipd_config *c;
	char err[256];

	(void)state;
	assert_int_equal(sipd_config_parse("{\"guard\": {\"flood\": {\"rate\": 20, \"burst\": 40,"
					   " \"prefix_v6\": 56, \"ports\": [5060, 5080]}}}",
					   "t", &c, err, sizeof(err)),
			 0);
	assert_true(c->guard.flood.set);
	assert_int_equal(c->guard.flood.rate, 20);
	assert_int_equal(c->guard.flood.burst, 40);
	assert_int_equal(c->guard.flood.prefix_v4, 32);
	assert_int_equal(c->guard.flood.prefix_v6, 56);
	assert_int_equal(c->guard.flood.ports[0], 5060);
	assert_int_equal(c->guard.flood.ports[1], 5080);
	assert_int_equal(c->guard.flood.ports[2], 0);
	sipd_config_free(c);
}

static void test_config_errors(void **state)
{
	static const struct {
		const char *json, *want;
	} bad[] = {
		{"{\"guard\": {\"nope\": 1}}", "t: guard.nope: unknown key"},
		{"{\"guard\": {\"enabled\": 1}}", "t: guard.enabled: expected true or false"},
		{"{\"guard\": {\"trusted\": [\"10.0.0.1/8\"]}}",
		 "t: guard.trusted[0]: bad network"},
		{"{\"guard\": {\"malformed\": {\"count\": 3, \"window_s\": 0}}}",
		 "t: guard.malformed.window_s: must be at least 1"},
		{"{\"guard\": {\"auth_failures\": {\"every\": 3}}}",
		 "t: guard.auth_failures.every: unknown key"},
		{"{\"guard\": {\"not_found\": 20}}", "t: guard.not_found: expected an object"},
		{"{\"guard\": {\"ban_prefix_v4\": 4}}", "t: guard.ban_prefix_v4: must be 8-32"},
		{"{\"guard\": {\"ban_prefix_v6\": 129}}",
		 "t: guard.ban_prefix_v6: out of range 0..128"},
		{"{\"guard\": {\"max_sources\": 2}}", "t: guard.max_sources: must be at least 16"},
		{"{\"guard\": {\"scanner_user_agents\": [\"a\", 7]}}",
		 "t: guard.scanner_user_agents[1]: expected a string"},
		{"{\"guard\": {\"flood\": {\"ports\": [5060, 0]}}}",
		 "t: guard.flood.ports[1]: expected a port number 1-65535"},
		{"{\"guard\": {\"flood\": {\"ports\": [1, 2, 3, 4, 5]}}}",
		 "t: guard.flood.ports: 1 to 4 ports"},
		{"{\"guard\": {\"flood\": {\"burst\": 0}}}",
		 "t: guard.flood.burst: must be at least 1"},
		{"{\"guard\": {\"flood\": {\"prefix_v4\": 33}}}",
		 "t: guard.flood.prefix_v4: out of range 0..32"},
		{"{\"limits\": {\"max_pinholes_per_call\": 65}}",
		 "t: limits.max_pinholes_per_call: out of range 0..64"},
		{"{\"limits\": {\"max_calls_per_source\": 0}}",
		 "t: limits.max_calls_per_source: must be at least 1"},
		{"{\"limits\": {\"max_msg_burst\": -1}}", "t: limits.max_msg_burst: out of range"},
		{"{\"limits\": {\"source_prefix_v4\": 0}}",
		 "t: limits.source_prefix_v4: must be 1-32"},
		{"{\"limits\": {\"source_prefix_v4\": 33}}",
		 "t: limits.source_prefix_v4: out of range 0..32"},
		{"{\"limits\": {\"source_prefix_v6\": 0}}",
		 "t: limits.source_prefix_v6: must be 1-128"},
		{"{\"limits\": {\"source_prefix_v6\": 129}}",
		 "t: limits.source_prefix_v6: out of range 0..128"},
		{"{\"limits\": {\"source_prefix_v6\": \"64\"}}",
		 "t: limits.source_prefix_v6: expected"},
		{"{\"guard\": {\"max_bans_per_s\": 1000001}}",
		 "t: guard.max_bans_per_s: out of range 0..1000000"},
		{"{\"guard\": {\"max_bans_burst\": 0}}",
		 "t: guard.max_bans_burst: must be at least 1"},
		{"{\"guard\": {\"ban_map_headroom\": 91}}",
		 "t: guard.ban_map_headroom: out of range 0..90"},
	};
	struct sipd_config *c;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_not_equal(sipd_config_parse(bad[i].json, "t", &c, err, sizeof(err)), 0);
		assert_null(c);
		if (strncmp(err, bad[i].want, strlen(bad[i].want)))
			fail_msg("%s: got \"%s\", want \"%s...\"", bad[i].json, err, bad[i].want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_scanner_ua_bans_first_message),
		T(test_scanner_ua_globs_case_insensitive),
		cmocka_unit_test(test_scanner_ua_configurable),
		T(test_malformed_n_within_t),
		T(test_malformed_window_expires),
		T(test_auth_failures),
		T(test_not_found_enumeration),
		T(test_trusted_never_banned),
		T(test_inside_not_banned_unless_configured),
		T(test_v6_ban_prefix),
		cmocka_unit_test(test_disabled_guard),
		T(test_ban_callback_error_counted),
		T(test_scanner_spares_source_with_live_calls),
		cmocka_unit_test(test_scanner_spares_peer_network),
		cmocka_unit_test(test_wide_ban_prefix_spares_network_with_calls),
		cmocka_unit_test(test_scanner_spares_trusted_overlap),
		cmocka_unit_test(test_ban_rate_limited),
		cmocka_unit_test(test_ban_map_headroom),
		T(test_source_prefix_v6_accounting),
		cmocka_unit_test(test_default_ban_prefix_v6_is_64),
		T(test_ban_lifted_via_map),
		T(test_rate_bound),
		cmocka_unit_test(test_rate_bound_off),
		T(test_dialogs_per_source),
		cmocka_unit_test(test_source_table_bounded),
		T(test_reconfig_keeps_or_resizes),
		cmocka_unit_test(test_config_defaults),
		cmocka_unit_test(test_config_flood),
		cmocka_unit_test(test_config_errors),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
