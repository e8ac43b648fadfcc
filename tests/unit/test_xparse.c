// SPDX-License-Identifier: GPL-2.0-only
/*
 * Two parsers, one answer. sipd takes the method, status, Call-ID and top Via
 * branch from libosip2 and the From/To tags, users and hosts from validate.c's
 * name-addr parser. Here every message sipd accepts (strict and lax) from
 * tests/unit/msgs and, when present, ../shared/corpora is also parsed whole
 * by libosip2 on its own, and every field must be the same both ways.
 */
#include <dirent.h>
#include <stdlib.h>

#include <osipparser2/osip_parser.h>

#include "common.h"

static const char *const dirs[] = {
	"tests/unit/msgs",
	"../shared/corpora/rfc4475/valid",
	"../shared/corpora/rfc4475/invalid",
	"../shared/corpora/rfc4475/variants",
	"../shared/corpora/rfc5118/valid",
	"../shared/corpora/rfc5118/invalid",
	"../shared/corpora/rfc5118/variants",
};

static char buf[SIP_MAX_MSG_LEN + 1];
static unsigned int compared, osip_refused, files;

static void same(const char *file, const char *what, const char *sipd, const char *osip)
{
	if (!osip)
		osip = "";
	if (strcmp(sipd, osip))
		fail_msg("%s: %s is '%s' in sipd, '%s' in libosip2", file, what, sipd, osip);
}

static int sip_scheme(const char *s)
{
	return !strcmp(s, "sip") || !strcmp(s, "sips");
}

static void one_addr(const char *file, const char *what, osip_from_t *a, const char *scheme,
		     const char *tag, const char *user, const char *host)
{
	osip_generic_param_t *t = NULL;
	char w[32];

	osip_from_get_tag(a, &t);
	snprintf(w, sizeof(w), "%s tag", what);
	same(file, w, tag, t ? t->gvalue : NULL);
	/* an escaped NUL ends libosip2's unescaped string, '?' in sipd's */
	if (!sip_scheme(scheme) || !a->url || strchr(user, '?'))
		return;
	snprintf(w, sizeof(w), "%s user", what);
	same(file, w, user, a->url->username);
	snprintf(w, sizeof(w), "%s host", what);
	same(file, w, host, a->url->host);
}

static void compare(const char *file, const char *data, size_t len)
{
	osip_message_t *m;
	char cid[sizeof(test_msg.call_id)];
	osip_via_t *via;
	osip_generic_param_t *br = NULL;

	assert_int_equal(osip_message_init(&m), 0);
	/* libosip2 alone refuses some messages sipd accepts (RFC 4475 novelsc,
	 * intmeth; in lax mode lwsstart, whose parse it ends without a Call-ID) */
	if (osip_message_parse(m, data, len) || !m->call_id || !m->cseq || !m->from || !m->to ||
	    !osip_list_get(&m->vias, 0)) {
		osip_refused++;
		osip_message_free(m);
		return;
	}
	if (test_msg.is_request)
		same(file, "method", test_msg.method, m->sip_method);
	else
		assert_int_equal(test_msg.status, m->status_code);
	snprintf(cid, sizeof(cid), "%s%s%s", m->call_id->number, m->call_id->host ? "@" : "",
		 m->call_id->host ? m->call_id->host : "");
	same(file, "Call-ID", test_msg.call_id, cid);
	assert_int_equal(test_msg.cseq, strtoul(m->cseq->number, NULL, 10));
	one_addr(file, "From", m->from, test_msg.from_uri_scheme, test_msg.from_tag,
		 test_msg.from_user, test_msg.from_host);
	one_addr(file, "To", m->to, test_msg.to_uri_scheme, test_msg.to_tag, test_msg.to_user,
		 test_msg.to_host);
	via = osip_list_get(&m->vias, 0);
	osip_via_param_get_byname(via, "branch", &br);
	same(file, "top Via branch", test_msg.via_branch, br ? br->gvalue : NULL);
	compared++;
	osip_message_free(m);
}

static void t_parsers_agree(void **st)
{
	unsigned int d;

	(void)st;
	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		DIR *dir = opendir(dirs[d]);
		struct dirent *e;

		if (!dir)
			continue;
		while ((e = readdir(dir))) {
			char path[512];
			size_t len, used;
			FILE *f;
			int strict;

			if (e->d_name[0] == '.' || strstr(e->d_name, ".md") ||
			    strstr(e->d_name, ".tsv"))
				continue;
			snprintf(path, sizeof(path), "%s/%s", dirs[d], e->d_name);
			f = fopen(path, "rb");
			if (!f)
				continue;
			len = fread(buf, 1, sizeof(buf), f);
			fclose(f);
			files++;
			for (strict = 0; strict < 2; strict++) {
				struct sip_limits lim;

				sip_limits_default(&lim);
				lim.strict = strict;
				if (sipmsg_parse_datagram(buf, len, &lim, &test_msg, &used))
					continue;
				compare(path, buf, used);
			}
		}
		closedir(dir);
	}
	print_message("%u files, %u accepted messages compared, %u refused by libosip2 alone\n",
		      files, compared, osip_refused);
	/* tests/unit/msgs alone has 7 accepted messages, twice (strict, lax) */
	assert_true(compared >= 14);
}

/* A tag or branch repeated with the same value, which sipd accepts: libosip2
 * must parse the message too (not just be skipped) and read the same tag and
 * branch, in both modes. */
static void t_repeated_params_agree(void **st)
{
	static const char *const files[] = {
		"tests/unit/msgs/accepted.200-repeated-to-tag.sip",
		"tests/unit/msgs/accepted.bye-repeated-branch.sip",
	};
	unsigned int i;
	int strict;

	(void)st;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		FILE *f = fopen(files[i], "rb");
		size_t len, used;

		assert_non_null(f);
		len = fread(buf, 1, sizeof(buf), f);
		fclose(f);
		for (strict = 0; strict < 2; strict++) {
			struct sip_limits lim;
			unsigned int before = compared;

			sip_limits_default(&lim);
			lim.strict = strict;
			assert_int_equal(sipmsg_parse_datagram(buf, len, &lim, &test_msg, &used),
					 0);
			compare(files[i], buf, used);
			assert_int_equal(compared, before + 1);
		}
	}
	assert_string_equal(test_msg.from_tag, "a-42");
	assert_string_equal(test_msg.via_branch, "z9hG4bK-sw-5");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(t_parsers_agree),
		cmocka_unit_test(t_repeated_params_agree),
	};

	parser_init();
	return cmocka_run_group_tests_name("sipd-xparse", tests, NULL, NULL);
}
