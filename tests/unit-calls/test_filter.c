// SPDX-License-Identifier: GPL-2.0-only
/* Filters: every match kind, first match wins, default action, whitelist. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "msgs.h"
#include "sipd/config.h"
#include "sipd/filter.h"

static struct sipd_config *cfg(const char *json)
{
	struct sipd_config *c;
	char err[512];

	if (sipd_config_parse(json, "t", &c, err, sizeof(err)))
		fail_msg("%s", err);
	return c;
}

/* Action for msg under a one-rule config "match" -> drop, default allow. */
static int verdict(const char *match, const struct sip_msg *m)
{
	char json[1024];
	struct sipd_config *c;
	unsigned int dir;
	char detail[128];
	int r;

	snprintf(json, sizeof(json),
		 "{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
		 " \"filters\": [{\"name\": \"r\", \"match\": %s, \"action\": \"drop\"}]}",
		 match);
	c = cfg(json);
	dir = sipd_config_direction(c, m->src.addr, m->dst.addr);
	r = sipd_policy(c, m, dir, detail, sizeof(detail));
	sipd_config_free(c);
	return r;
}

#define DROPPED(match, m) assert_int_equal(verdict(match, m), -SW_SIP_R_FILTER_DROP)
#define PASSED(match, m)  assert_int_equal(verdict(match, m), 0)

static void test_match_kinds(void **state)
{
	struct sip_msg m, r;

	(void)state;
	t_req(&m, "INVITE", "c1", 0, NULL, 1);
	t_with_sdp(&m, ALICE, 16000, SDP_SENDRECV);
	snprintf(m.user_agent, sizeof(m.user_agent), "friendly-scanner 1.0");
	memcpy(m.header_names, "via\0from\0x-evil\0\0", 18);
	t_resp(&r, 200, "INVITE", "c1", 0, BTAG, 1);

	DROPPED("{\"method\": \"INVITE\"}", &m);
	PASSED("{\"method\": [\"BYE\", \"OPTIONS\"]}", &m);
	DROPPED("{\"method\": \"INVITE\"}", &r); /* responses: CSeq method */
	DROPPED("{\"message\": \"request\"}", &m);
	PASSED("{\"message\": \"request\"}", &r);
	DROPPED("{\"message\": \"response\"}", &r);
	DROPPED("{\"direction\": \"inbound\"}", &m); /* alice -> bob */
	PASSED("{\"direction\": \"inbound\"}", &r);  /* bob -> alice */
	DROPPED("{\"direction\": [\"outbound\", \"internal\"]}", &r);
	DROPPED("{\"source\": \"198.51.100.0/24\"}", &m);
	PASSED("{\"source\": [\"192.0.2.0/24\", \"2001:db8::/32\"]}", &m);
	DROPPED("{\"content_type\": \"application/*\"}", &m);
	PASSED("{\"content_type\": \"text/*\"}", &m);
	DROPPED("{\"from_user\": \"ali*\"}", &m);
	PASSED("{\"from_user\": \"ALICE\"}", &m);	       /* users are case-sensitive */
	DROPPED("{\"from_domain\": \"OUTSIDE.example\"}", &m); /* hosts are not */
	DROPPED("{\"to_user\": [\"carol\", \"b?b\"]}", &m);
	PASSED("{\"to_domain\": \"*.other\"}", &m);
	DROPPED("{\"user_agent\": \"friendly-scanner*\"}", &m);
	PASSED("{\"user_agent\": \"sipvicious*\"}", &m);
	DROPPED("{\"header\": \"X-Evil\"}", &m);
	PASSED("{\"header\": \"x-other\"}", &m);
	/* all criteria of one rule must match */
	DROPPED("{\"method\": \"INVITE\", \"from_user\": \"alice\"}", &m);
	PASSED("{\"method\": \"INVITE\", \"from_user\": \"mallory\"}", &m);
}

static void test_first_match_and_default(void **state)
{
	struct sipd_config *c;
	struct sip_msg m;
	int rule;

	(void)state;
	c = cfg("{\"filters\": ["
		" {\"name\": \"allow-alice\", \"match\": {\"from_user\": \"alice\"}, \"action\": "
		"\"allow\"},"
		" {\"name\": \"drop-invite\", \"match\": {\"method\": \"INVITE\"}, \"action\": "
		"\"drop\"}],"
		" \"default_action\": \"drop\"}");
	t_req(&m, "INVITE", "c1", 0, NULL, 1);
	assert_int_equal(sipd_filter_eval(c, &m, SIPD_DIR_TRANSIT, &rule), SIPD_ACT_ALLOW);
	assert_int_equal(rule, 0); /* first match wins over the later drop */
	snprintf(m.from_user, sizeof(m.from_user), "mallory");
	assert_int_equal(sipd_filter_eval(c, &m, SIPD_DIR_TRANSIT, &rule), SIPD_ACT_DROP);
	assert_int_equal(rule, 1);
	t_req(&m, "OPTIONS", "c2", 0, NULL, 1);
	snprintf(m.from_user, sizeof(m.from_user), "mallory");
	assert_int_equal(sipd_filter_eval(c, &m, SIPD_DIR_TRANSIT, &rule), SIPD_ACT_DROP);
	assert_int_equal(rule, -1); /* the default */
	sipd_config_free(c);

	c = cfg("{}");
	assert_int_equal(sipd_filter_eval(c, &m, SIPD_DIR_TRANSIT, &rule), SIPD_ACT_ALLOW);
	assert_int_equal(rule, -1);
	sipd_config_free(c);
}

static void test_whitelist(void **state)
{
	struct sipd_config *c;
	struct sip_msg m;
	char detail[128];

	(void)state;
	c = cfg("{\"networks\": {\"inside\": [\"10.1.0.0/16\"]},"
		" \"whitelist\": {\"bob\": {\"allow_from\": [\"carol@*\", \"*@trusted.example\"]},"
		"   \"dave\": {\"enabled\": false, \"allow_from\": \"nobody@x\"}}}");
	/* alice@outside.example calls bob: not on his list */
	t_req(&m, "INVITE", "c1", 0, NULL, 1);
	assert_int_equal(sipd_policy(c, &m, SIPD_DIR_INBOUND, detail, sizeof(detail)),
			 -SW_SIP_R_NOT_WHITELISTED);
	assert_string_equal(detail, "whitelist of bob");
	snprintf(m.from_host, sizeof(m.from_host), "trusted.example");
	assert_int_equal(sipd_policy(c, &m, SIPD_DIR_INBOUND, detail, sizeof(detail)), 0);
	snprintf(m.from_user, sizeof(m.from_user), "carol");
	snprintf(m.from_host, sizeof(m.from_host), "anywhere");
	assert_int_equal(sipd_policy(c, &m, SIPD_DIR_INBOUND, detail, sizeof(detail)), 0);
	/* only inbound initial INVITEs are judged */
	t_req(&m, "INVITE", "c1", 0, NULL, 1);
	assert_true(sipd_whitelist_ok(c, &m, SIPD_DIR_OUTBOUND));
	t_req(&m, "INVITE", "c1", 0, BTAG, 2); /* re-INVITE in dialog */
	assert_true(sipd_whitelist_ok(c, &m, SIPD_DIR_INBOUND));
	t_req(&m, "MESSAGE", "c1", 0, NULL, 1);
	assert_true(sipd_whitelist_ok(c, &m, SIPD_DIR_INBOUND));
	/* a disabled list lets everyone through; users without one too */
	t_req(&m, "INVITE", "c1", 0, NULL, 1);
	snprintf(m.to_user, sizeof(m.to_user), "dave");
	assert_true(sipd_whitelist_ok(c, &m, SIPD_DIR_INBOUND));
	snprintf(m.to_user, sizeof(m.to_user), "erin");
	assert_true(sipd_whitelist_ok(c, &m, SIPD_DIR_INBOUND));
	sipd_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_match_kinds),
		cmocka_unit_test(test_first_match_and_default),
		cmocka_unit_test(test_whitelist),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
