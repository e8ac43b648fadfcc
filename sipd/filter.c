// SPDX-License-Identifier: GPL-2.0-only
/*
 * Filter rules and the caller whitelist. Globs are fnmatch(3) patterns;
 * domains, Content-Type, User-Agent and header names compare without case
 * (they are case-insensitive in SIP), users compare exactly (RFC 3261 19.1.4).
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "sipd/filter.h"

static int glob_any(const struct sipd_globs *g, const char *s, int flags)
{
	unsigned int i;

	for (i = 0; i < g->n; i++)
		if (fnmatch(g->v[i], s, flags) == 0)
			return 1;
	return 0;
}

static int header_present(const struct sipd_globs *g, const char *names)
{
	const char *n;

	/* NUL-separated list ending in an empty name. */
	for (n = names; *n; n += strlen(n) + 1)
		if (glob_any(g, n, FNM_CASEFOLD))
			return 1;
	return 0;
}

int sipd_match(const struct sipd_match *m, const struct sip_msg *msg, unsigned int dir)
{
	unsigned int i;
	int hit;

	if (m->kind == SIPD_KIND_REQUEST && !msg->is_request)
		return 0;
	if (m->kind == SIPD_KIND_RESPONSE && msg->is_request)
		return 0;
	if (m->directions && !(m->directions & dir))
		return 0;
	if (m->methods && !(m->methods & sipd_method_bit(msg->method)))
		return 0;
	if (m->n_source) {
		for (hit = 0, i = 0; i < m->n_source && !hit; i++)
			hit = sipd_cidr_match(&m->source[i], msg->src.addr);
		if (!hit)
			return 0;
	}
	if (m->content_type.n && !glob_any(&m->content_type, msg->content_type, FNM_CASEFOLD))
		return 0;
	if (m->from_user.n && !glob_any(&m->from_user, msg->from_user, 0))
		return 0;
	if (m->from_domain.n && !glob_any(&m->from_domain, msg->from_host, FNM_CASEFOLD))
		return 0;
	if (m->to_user.n && !glob_any(&m->to_user, msg->to_user, 0))
		return 0;
	if (m->to_domain.n && !glob_any(&m->to_domain, msg->to_host, FNM_CASEFOLD))
		return 0;
	if (m->user_agent.n && !glob_any(&m->user_agent, msg->user_agent, FNM_CASEFOLD))
		return 0;
	if (m->header.n && !header_present(&m->header, msg->header_names))
		return 0;
	return 1;
}

int sipd_filter_eval(const struct sipd_config *c, const struct sip_msg *msg, unsigned int dir,
		     int *rule)
{
	unsigned int i;

	for (i = 0; i < c->n_rules; i++) {
		if (sipd_match(&c->rules[i].match, msg, dir)) {
			*rule = (int)i;
			return c->rules[i].action;
		}
	}
	*rule = -1;
	return c->default_action;
}

int sipd_whitelist_ok(const struct sipd_config *c, const struct sip_msg *msg, unsigned int dir)
{
	char from[2 * SIP_TOKEN_LEN + 2];
	unsigned int i;

	if (dir != SIPD_DIR_INBOUND || !msg->is_request || msg->to_tag[0] ||
	    strcmp(msg->method, "INVITE"))
		return 1;
	for (i = 0; i < c->n_whitelist; i++) {
		const struct sipd_wl_entry *w = &c->whitelist[i];

		if (!w->enabled || strcmp(w->user, msg->to_user))
			continue;
		snprintf(from, sizeof(from), "%s@%s", msg->from_user, msg->from_host);
		return glob_any(&w->allow_from, from, FNM_CASEFOLD);
	}
	return 1;
}

int sipd_policy(const struct sipd_config *c, const struct sip_msg *msg, unsigned int dir,
		char *detail, size_t len)
{
	int rule;

	if (sipd_filter_eval(c, msg, dir, &rule) != SIPD_ACT_ALLOW) {
		snprintf(detail, len, "%s", rule < 0 ? "default_action" : c->rules[rule].name);
		return -SW_SIP_R_FILTER_DROP;
	}
	if (!sipd_whitelist_ok(c, msg, dir)) {
		snprintf(detail, len, "whitelist of %s", msg->to_user);
		return -SW_SIP_R_NOT_WHITELISTED;
	}
	return 0;
}
