// SPDX-License-Identifier: GPL-2.0-only
/* sipd.json parsing: a full good config, each error with its JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lib/swmap.h"
#include "sipd/config.h"

static const char *good =
	"{\n"
	"  \"pin_path\": \"/sys/fs/bpf/sw-x\",\n"
	"  \"queue\": {\"num\": 3, \"count\": 2, \"fail_open\": true, \"busy_poll_us\": 50,\n"
	"             \"workers\": 2},\n"
	"  \"networks\": {\"inside\": [\"10.1.0.0/16\", \"fd00:1::/64\"],\n"
	"     \"default_check\": \"strict\",\n"
	"     \"peers\": [{\"cidr\": \"198.51.100.0/24\", \"check\": \"address\"},\n"
	"                 {\"cidr\": \"198.51.100.128/25\", \"check\": \"symmetric\"}]},\n"
	"  \"limits\": {\"max_msg_len\": 8000, \"max_headers\": 60, \"max_line_len\": 1000,\n"
	"     \"max_via\": 10, \"strict\": false, \"allow_trailing\": false, \"max_calls\": 5},\n"
	"  \"timeouts\": {\"bye_grace_s\": 1, \"idle_s\": 30, \"max_call_s\": 600,\n"
	"     \"silent_dialog_s\": 40, \"early_dialog_s\": 50},\n"
	"  \"filters\": [\n"
	"    {\"name\": \"no-options\", \"match\": {\"method\": \"OPTIONS\", \"direction\": "
	"\"inbound\"}, \"action\": \"drop\"},\n"
	"    {\"match\": {\"source\": [\"203.0.113.0/24\"], \"user_agent\": "
	"\"friendly-scanner*\",\n"
	"                 \"header\": \"x-evil\", \"content_type\": \"application/sdp\",\n"
	"                 \"from_user\": \"1*\", \"from_domain\": \"*.example\",\n"
	"                 \"to_user\": [\"bob\", \"carol\"], \"to_domain\": \"inside.example\",\n"
	"                 \"message\": \"request\"}, \"action\": \"allow\"}\n"
	"  ],\n"
	"  \"default_action\": \"drop\",\n"
	"  \"whitelist\": {\"bob\": {\"allow_from\": [\"alice@*\"]},\n"
	"                \"carol\": {\"enabled\": false, \"allow_from\": \"x@y\"}},\n"
	"  \"events\": {\"output\": \"\", \"drop_log_per_s\": 5, \"drop_summary_s\": 10}\n"
	"}\n";

static void test_good(void **state)
{
	struct sipd_config *c, *d;
	uint8_t a[16];
	char err[512] = "";

	(void)state;
	assert_int_equal(sipd_config_parse(good, "good.json", &c, err, sizeof(err)), 0);
	assert_string_equal(c->pin_path, "/sys/fs/bpf/sw-x");
	assert_int_equal(c->queue.num, 3);
	assert_int_equal(c->queue.count, 2);
	assert_true(c->queue.fail_open);
	assert_int_equal(c->queue.busy_poll_us, 50);
	assert_int_equal(c->queue.workers, 2);
	assert_int_equal(c->n_inside, 2);
	assert_int_equal(c->n_peers, 2);
	assert_int_equal(c->limits.max_msg_len, 8000);
	assert_int_equal(c->limits.max_via, 10);
	assert_false(c->limits.strict);
	assert_false(c->limits.allow_trailing);
	assert_int_equal(c->max_calls, 5);
	assert_int_equal(c->timeouts.bye_grace_s, 1);
	assert_int_equal(c->timeouts.idle_s, 30);
	assert_int_equal(c->timeouts.max_call_s, 600);
	assert_int_equal(c->timeouts.silent_dialog_s, 40);
	assert_int_equal(c->timeouts.early_dialog_s, 50);
	assert_int_equal(c->n_rules, 2);
	assert_string_equal(c->rules[0].name, "no-options");
	assert_string_equal(c->rules[1].name, "filters[1]");
	assert_int_equal(c->rules[0].action, SIPD_ACT_DROP);
	assert_int_equal(c->rules[0].match.methods, 1u << SIPD_M_OPTIONS);
	assert_int_equal(c->rules[0].match.directions, SIPD_DIR_INBOUND);
	assert_int_equal(c->rules[1].match.to_user.n, 2);
	assert_int_equal(c->rules[1].match.kind, SIPD_KIND_REQUEST);
	assert_int_equal(c->default_action, SIPD_ACT_DROP);
	assert_int_equal(c->n_whitelist, 2);
	assert_string_equal(c->events.output, "");

	/* direction and check mode lookups (longest prefix wins) */
	sw_addr_parse("10.1.2.3", a);
	assert_true(sipd_config_is_inside(c, a));
	sw_addr_parse("fd00:1::9", a);
	assert_true(sipd_config_is_inside(c, a));
	sw_addr_parse("198.51.100.1", a);
	assert_false(sipd_config_is_inside(c, a));
	assert_int_equal(sipd_config_check_for(c, a), SW_CHECK_ADDRESS);
	sw_addr_parse("198.51.100.200", a);
	assert_int_equal(sipd_config_check_for(c, a), SW_CHECK_SYMMETRIC);
	sw_addr_parse("192.0.2.1", a);
	assert_int_equal(sipd_config_check_for(c, a), SW_CHECK_STRICT);

	/* dup re-parses the same text */
	d = sipd_config_dup(c);
	assert_non_null(d);
	assert_int_equal(d->n_rules, 2);
	assert_string_equal(d->origin, "good.json");
	sipd_config_free(d);
	sipd_config_free(c);
}

static void test_defaults(void **state)
{
	struct sipd_config *c;

	(void)state;
	assert_int_equal(sipd_config_default(&c), 0);
	assert_string_equal(c->pin_path, SW_PIN_ROOT_DEFAULT);
	assert_int_equal(c->queue.count, 1);
	assert_false(c->queue.fail_open);
	assert_int_equal(c->queue.busy_poll_us, 0);
	assert_int_equal(c->queue.workers, 1);
	assert_int_equal(c->default_check, SW_CHECK_STRICT);
	assert_true(c->limits.strict);
	assert_int_equal(c->limits.max_msg_len, SIP_MAX_MSG_LEN);
	assert_int_equal(c->timeouts.bye_grace_s, 2);
	assert_int_equal(c->default_action, SIPD_ACT_ALLOW);
	assert_string_equal(c->events.output, "-");
	/* SIP over UDP and TCP on 5060 inspected, TLS on 5061 counted, passed. */
	assert_true(c->sip.udp && c->sip.tcp && !c->sip.ws);
	assert_int_equal(c->sip.udp_ports.n, 1);
	assert_int_equal(c->sip.udp_ports.port[0], 5060);
	assert_int_equal(c->sip.tcp_ports.port[0], 5060);
	assert_int_equal(c->sip.tls_ports.port[0], 5061);
	assert_int_equal(c->sip.ws_ports.n, 0);
	assert_false(c->sip.uninspectable_drop);
	assert_int_equal(c->tcp.max_connections, 4096);
	assert_int_equal(c->tcp.max_rejects, 8);
	assert_true(c->tcp.reset);
	sipd_config_free(c);
}

static void test_transports(void **state)
{
	struct sipd_config *c;
	char err[512] = "";

	(void)state;
	assert_int_equal(sipd_config_parse("{\"transports\": [\"tcp\", \"ws\"], \"sip_ports\": "
					   "{\"tcp\": [5060, 5080], \"ws\": [8080], \"wss\": "
					   "[8443]}, \"uninspectable\": \"drop\", \"tcp\": "
					   "{\"idle_s\": 60, \"max_rejects\": 3}}",
					   "t.json", &c, err, sizeof(err)),
			 0);
	assert_false(c->sip.udp);
	assert_true(c->sip.tcp && c->sip.ws);
	assert_int_equal(c->sip.tcp_ports.n, 2);
	assert_int_equal(c->sip.tcp_ports.port[1], 5080);
	assert_true(sipd_port_list_has(&c->sip.ws_ports, 8080));
	assert_true(sipd_port_list_has(&c->sip.wss_ports, 8443));
	assert_false(sipd_port_list_has(&c->sip.wss_ports, 8080));
	assert_true(c->sip.uninspectable_drop);
	assert_int_equal(c->tcp.idle_s, 60);
	assert_int_equal(c->tcp.max_rejects, 3);
	sipd_config_free(c);
}

/* Each bad document and the exact error it must give. */
static const struct {
	const char *json, *err;
} bad[] = {
	{"{\"filters\": [{\"action\": \"drop\"}, {\"action\": \"allow\"}, "
	 "{\"match\": {\"method\": \"FOO\"}, \"action\": \"drop\"}]}",
	 "t.json: filters[2].match.method: unknown method \"FOO\""},
	{"{\"filters\": [{\"match\": {\"method\": [\"INVITE\", \"FOO\"]}, \"action\": \"drop\"}]}",
	 "t.json: filters[0].match.method[1]: unknown method \"FOO\""},
	{"{\"bogus\": 1}", "t.json: bogus: unknown key"},
	{"{\"limits\": {\"max_msgs\": 1}}", "t.json: limits.max_msgs: unknown key"},
	{"{\"filters\": [{\"match\": {\"methd\": \"BYE\"}, \"action\": \"drop\"}]}",
	 "t.json: filters[0].match.methd: unknown key"},
	{"{\"filters\": [{\"action\": \"reject\"}]}",
	 "t.json: filters[0].action: unknown action \"reject\" (allow, drop)"},
	{"{\"filters\": [{\"match\": {}}]}", "t.json: filters[0]: missing \"action\""},
	{"{\"filters\": {}}", "t.json: filters: expected an array of rules"},
	{"{\"networks\": {\"inside\": [\"10.0.0.1/8\"]}}",
	 "t.json: networks.inside[0]: bad network \"10.0.0.1/8\" (want ADDR/LEN, host bits zero)"},
	{"{\"networks\": {\"inside\": \"10.0.0.0/33\"}}",
	 "t.json: networks.inside: bad network \"10.0.0.0/33\" (want ADDR/LEN, host bits zero)"},
	{"{\"networks\": {\"peers\": [{\"cidr\": \"10.0.0.0/8\", \"check\": \"loose\"}]}}",
	 "t.json: networks.peers[0].check: unknown check mode \"loose\" (strict, address, "
	 "symmetric)"},
	{"{\"networks\": {\"peers\": [{\"cidr\": \"10.0.0.0/8\"}]}}",
	 "t.json: networks.peers[0]: missing \"check\""},
	{"{\"timeouts\": {\"idle_s\": -5}}", "t.json: timeouts.idle_s: out of range 0..86400"},
	{"{\"timeouts\": {\"idle_s\": \"60\"}}", "t.json: timeouts.idle_s: expected an integer"},
	{"{\"queue\": {\"count\": 0}}", "t.json: queue.count: must be at least 1"},
	{"{\"queue\": {\"fail_open\": 1}}", "t.json: queue.fail_open: expected true or false"},
	{"{\"queue\": {\"busy_poll_us\": 10001}}",
	 "t.json: queue.busy_poll_us: out of range 0..10000"},
	{"{\"queue\": {\"workers\": 0}}", "t.json: queue.workers: must be at least 1"},
	{"{\"queue\": {\"count\": 2, \"workers\": 3}}",
	 "t.json: queue: workers 3 exceeds count 2: each worker serves its own queues"},
	{"{\"limits\": {\"max_headers\": 0}}", "t.json: limits.max_headers: must be at least 1"},
	{"{\"pin_path\": \"relative\"}", "t.json: pin_path: must be an absolute path"},
	{"{\"filters\": [{\"match\": {\"direction\": \"sideways\"}, \"action\": \"drop\"}]}",
	 "t.json: filters[0].match.direction: unknown direction \"sideways\" (inbound, outbound, "
	 "internal, transit)"},
	{"{\"filters\": [{\"match\": {\"to_user\": []}, \"action\": \"drop\"}]}",
	 "t.json: filters[0].match.to_user: empty list (omit the key to match anything)"},
	{"{\"whitelist\": {\"bob\": {\"enabled\": true}}}",
	 "t.json: whitelist.bob: missing \"allow_from\""},
	{"{\"whitelist\": {\"bob\": {\"allow_from\": [\"a@b\", 3]}}}",
	 "t.json: whitelist.bob.allow_from[1]: expected a string"},
	{"{\"transports\": [\"udp\", \"sctp\"]}",
	 "t.json: transports[1]: unknown transport \"sctp\" (udp, tcp or ws)"},
	{"{\"transports\": \"tls\"}",
	 "t.json: transports: \"tls\" is encrypted and cannot be inspected on the wire (see "
	 "\"uninspectable\", docs/tcp.md)"},
	{"{\"transports\": [\"udp\", \"ws\"]}",
	 "t.json: transports: \"ws\" needs ports in sip_ports.ws"},
	{"{\"sip_ports\": {\"tcp\": []}}",
	 "t.json: transports: \"tcp\" needs ports in sip_ports.tcp"},
	{"{\"sip_ports\": {\"ws\": [8080, 8080]}}",
	 "t.json: sip_ports.ws[1]: port 8080 listed twice"},
	{"{\"sip_ports\": {\"tls\": [5060]}}", "t.json: sip_ports: port 5060 is both tcp and tls"},
	{"{\"sip_ports\": {\"ws\": [80], \"wss\": [80]}}",
	 "t.json: sip_ports: port 80 is both ws and wss"},
	{"{\"sip_ports\": {\"udp\": [0]}}",
	 "t.json: sip_ports.udp[0]: expected a port number 1-65535"},
	{"{\"sip_ports\": {\"sctp\": [5060]}}", "t.json: sip_ports.sctp: unknown key"},
	{"{\"uninspectable\": \"reject\"}", "t.json: uninspectable: expected \"pass\" or \"drop\""},
	{"{\"tcp\": {\"max_connections\": 0}}", "t.json: tcp.max_connections: must be at least 1"},
	{"{\"tcp\": {\"max_connection_bytes\": 100}}",
	 "t.json: tcp.max_connection_bytes: must be at least 3000 (two segments)"},
	{"{\"tcp\": {\"reset\": \"yes\"}}", "t.json: tcp.reset: expected true or false"},
	{"[]", "t.json: (top): expected an object"},
	{"{\"queue\": {\"num\": 1,}", "t.json: line 1 column 21: unexpected character"},
	{"{\n\"queue\": {\n", "t.json: line 3 column 1: unexpected end of input"},
	{"{} {}", "t.json: line 1 column 4: unexpected character"},
	{"{\"cluster\": {\"enabled\": true}}",
	 "t.json: cluster.redis: required when enabled (or sentinels)"},
	{"{\"cluster\": {\"node_id\": \"a b\"}}",
	 "t.json: cluster.node_id: 1 to 31 of A-Z a-z 0-9 . _ -"},
	{"{\"cluster\": {\"redis\": \"10.0.0.1\"}}",
	 "t.json: cluster.redis: \"10.0.0.1\" is not host:port"},
	{"{\"cluster\": {\"redis\": [\"10.0.0.1:0\"]}}",
	 "t.json: cluster.redis[0]: \"10.0.0.1:0\" is not host:port"},
	{"{\"cluster\": {\"enabled\": true, \"node_id\": \"a\", \"redis\": \"r:6379\", "
	 "\"sentinels\": \"s:26379\", \"master_name\": \"m\"}}",
	 "t.json: cluster.sentinels: either redis or sentinels, not both"},
	{"{\"cluster\": {\"enabled\": true, \"node_id\": \"a\", \"sentinels\": \"s:26379\"}}",
	 "t.json: cluster.master_name: required with sentinels"},
	{"{\"cluster\": {\"credentials_file\": \"creds\"}}",
	 "t.json: cluster.credentials_file: must be an absolute path"},
	{"{\"cluster\": {\"password\": \"x\"}}", "t.json: cluster.password: unknown key"},
	{"{\"cluster\": {\"heartbeat_ms\": 1000, \"owner_timeout_ms\": 1500}}",
	 "t.json: cluster.owner_timeout_ms: must be at least twice heartbeat_ms (1000)"},
	{"{\"cluster\": {\"key_prefix\": \"a b\"}}",
	 "t.json: cluster.key_prefix: only A-Z a-z 0-9 : _ . -"},
	{"{\"cluster\": {\"cpu\": 1024}}", "t.json: cluster.cpu: out of range 0..1023"},
	{"{\"cluster\": {\"cpu\": -1}}", "t.json: cluster.cpu: out of range 0..1023"},
	{"{\"cluster\": {\"cpu\": \"1\"}}", "t.json: cluster.cpu: expected an integer"},
};

static void test_errors(void **state)
{
	struct sipd_config *c;
	char err[512];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		c = (void *)1;
		assert_int_not_equal(sipd_config_parse(bad[i].json, "t.json", &c, err, sizeof(err)),
				     0);
		assert_null(c);
		if (strcmp(err, bad[i].err))
			fail_msg("case %zu: got '%s', want '%s'", i, err, bad[i].err);
	}
}

static void test_cluster(void **state)
{
	struct sipd_config *c;
	char err[512] = "";

	(void)state;
	assert_int_equal(sipd_config_parse("{}", "t.json", &c, err, sizeof(err)), 0);
	assert_false(c->cluster.enabled); /* off by default */
	assert_string_equal(c->cluster.key_prefix, "sipwall:");
	assert_int_equal(c->cluster.cpu, -1); /* replication threads unpinned */
	sipd_config_free(c);
	assert_int_equal(
		sipd_config_parse("{\"cluster\": {\"cpu\": 1}}", "t.json", &c, err, sizeof(err)),
		0);
	assert_int_equal(c->cluster.cpu, 1);
	sipd_config_free(c);
	assert_int_equal(
		sipd_config_parse("{\"cluster\": {\"enabled\": true, \"node_id\": \"fw-a\", "
				  "\"redis\": [\"10.0.0.1:6379\", \"[fd00::1]:6380\"], "
				  "\"credentials_file\": \"/etc/sipwall/redis.cred\"}}",
				  "t.json", &c, err, sizeof(err)),
		0);
	assert_int_equal(c->cluster.n_redis, 2);
	assert_string_equal(c->cluster.redis[1], "[fd00::1]:6380");
	sipd_config_free(c);
}

static void test_load_file(void **state)
{
	char path[] = "/tmp/sw-config-XXXXXX", err[512];
	struct sipd_config *c;
	int fd;

	(void)state;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_true(write(fd, good, strlen(good)) == (ssize_t)strlen(good));
	close(fd);
	assert_int_equal(sipd_config_load(path, &c, err, sizeof(err)), 0);
	assert_string_equal(c->origin, path);
	sipd_config_free(c);
	unlink(path);
	assert_int_not_equal(sipd_config_load(path, &c, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "No such file"));
}

/* The example shipped in etc/ must parse (SW_ETC_CONFIG from the build). */
static void test_example(void **state)
{
	struct sipd_config *c;
	char err[512];

	(void)state;
	if (sipd_config_load(SW_ETC_CONFIG, &c, err, sizeof(err)))
		fail_msg("%s", err);
	assert_true(c->n_rules > 0);
	sipd_config_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),	   cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_errors),	   cmocka_unit_test(test_cluster),
		cmocka_unit_test(test_load_file),  cmocka_unit_test(test_example),
		cmocka_unit_test(test_transports),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
