// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd.json -> struct sipd_config. Strict: unknown keys and wrong types are
 * errors naming the JSON path ("filters[2].match.method: ..."), and nothing
 * is returned unless the whole document is valid, so a bad reload can never
 * half-apply.
 */
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <ctype.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <json-c/json.h>

#include "lib/swmap.h"
#include "sipd/clrec.h"
#include "sipd/config.h"

static const char *const method_names[] = {
#define SIPD_X_M(m) #m,
	SIPD_METHODS(SIPD_X_M)
#undef SIPD_X_M
};

const char *sipd_method_name(unsigned int m)
{
	if (m < SIPD_M_MAX)
		return method_names[m];
	return m == SIPD_M_OTHER ? "OTHER" : "?";
}

int sipd_method_parse(const char *s)
{
	unsigned int i;

	for (i = 0; i < SIPD_M_MAX; i++)
		if (!strcmp(s, method_names[i]))
			return i;
	if (!strcmp(s, "OTHER"))
		return SIPD_M_OTHER;
	return -1;
}

uint32_t sipd_method_bit(const char *method)
{
	int m = sipd_method_parse(method);

	/* Methods are case-sensitive (RFC 3261 7.1): "invite" is an extension. */
	return 1u << (m < 0 ? SIPD_M_OTHER : m);
}

static const struct {
	const char *name;
	unsigned int bit;
} dir_names[] = {
	{"inbound", SIPD_DIR_INBOUND},
	{"outbound", SIPD_DIR_OUTBOUND},
	{"internal", SIPD_DIR_INTERNAL},
	{"transit", SIPD_DIR_TRANSIT},
};

const char *sipd_direction_name(unsigned int dir_bit)
{
	size_t i;

	for (i = 0; i < sizeof(dir_names) / sizeof(dir_names[0]); i++)
		if (dir_names[i].bit == dir_bit)
			return dir_names[i].name;
	return "?";
}

int sipd_cidr_parse(const char *s, struct sipd_cidr *out)
{
	char buf[64], *slash, *end;
	long plen;
	int v4, max, i;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	slash = strchr(buf, '/');
	if (slash)
		*slash = '\0';
	if (!buf[0] || sw_addr_parse(buf, out->addr))
		return -EINVAL;
	v4 = sw_addr_is_v4(out->addr) && strchr(buf, '.');
	max = v4 ? 32 : 128;
	if (slash) {
		errno = 0;
		plen = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || errno || plen < 0 || plen > max)
			return -EINVAL;
	} else {
		plen = max;
	}
	out->plen = (uint8_t)(v4 ? plen + 96 : plen);
	/* Host bits must be zero: "10.0.0.1/8" is almost always a typo. */
	for (i = out->plen; i < 128; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8)))
			return -EINVAL;
	return 0;
}

int sipd_cidr_match(const struct sipd_cidr *c, const uint8_t addr[16])
{
	unsigned int full = c->plen / 8, rest = c->plen % 8;

	if (memcmp(c->addr, addr, full))
		return 0;
	if (rest) {
		uint8_t mask = (uint8_t)(0xff00 >> rest);

		if ((c->addr[full] ^ addr[full]) & mask)
			return 0;
	}
	return 1;
}

int sipd_config_is_inside(const struct sipd_config *c, const uint8_t addr[16])
{
	unsigned int i;

	for (i = 0; i < c->n_inside; i++)
		if (sipd_cidr_match(&c->inside[i], addr))
			return 1;
	return 0;
}

unsigned int sipd_config_direction(const struct sipd_config *c, const uint8_t src[16],
				   const uint8_t dst[16])
{
	int si = sipd_config_is_inside(c, src), di = sipd_config_is_inside(c, dst);

	if (si)
		return di ? SIPD_DIR_INTERNAL : SIPD_DIR_OUTBOUND;
	return di ? SIPD_DIR_INBOUND : SIPD_DIR_TRANSIT;
}

uint8_t sipd_config_check_for(const struct sipd_config *c, const uint8_t addr[16])
{
	int best = -1;
	unsigned int i;
	uint8_t check = c->default_check;

	for (i = 0; i < c->n_peers; i++) {
		if (c->peers[i].net.plen > best && sipd_cidr_match(&c->peers[i].net, addr)) {
			best = c->peers[i].net.plen;
			check = c->peers[i].check;
		}
	}
	return check;
}

/* --- parsing --- */

struct pctx {
	char path[256]; /* JSON path of the value being parsed */
	char *err;
	size_t errlen;
	int failed;
};

static int perr(struct pctx *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int perr(struct pctx *p, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (p->failed)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(p->err, p->errlen, "%s: %s", p->path[0] ? p->path : "(top)", msg);
	p->failed = 1;
	return -EINVAL;
}

/* Push ".key" or "[i]" onto the path; returns the old length to pop to. */
static size_t push_key(struct pctx *p, const char *key)
{
	size_t n = strlen(p->path);

	snprintf(p->path + n, sizeof(p->path) - n, "%s%s", n ? "." : "", key);
	return n;
}

static size_t push_idx(struct pctx *p, size_t i)
{
	size_t n = strlen(p->path);

	snprintf(p->path + n, sizeof(p->path) - n, "[%zu]", i);
	return n;
}

static void pop(struct pctx *p, size_t n)
{
	p->path[n] = '\0';
}

/* The error of expr, evaluated with ".key" on the path (errors name it). */
#define AT_KEY(p, key, expr)                           \
	({                                             \
		size_t at_key_old_ = push_key(p, key); \
		int at_key_err_ = (expr);              \
		pop(p, at_key_old_);                   \
		at_key_err_;                           \
	})

/* Every key of obj must be in the NULL-terminated list. */
static int check_keys(struct pctx *p, struct json_object *obj, const char *const *allowed)
{
	json_object_object_foreach(obj, key, val)
	{
		const char *const *a;
		size_t n;

		(void)val;
		for (a = allowed; *a; a++)
			if (!strcmp(*a, key))
				break;
		if (!*a) {
			n = push_key(p, key);
			perr(p, "unknown key");
			pop(p, n);
			return -EINVAL;
		}
	}
	return 0;
}

static int want_object(struct pctx *p, struct json_object *v)
{
	if (!json_object_is_type(v, json_type_object))
		return perr(p, "expected an object");
	return 0;
}

typedef int (*key_cb)(struct pctx *p, const char *key, struct json_object *val, void *ctx);

/*
 * The object walk every section shares: o must be an object whose keys are
 * all in the NULL-terminated list; then cb(p, key, val, ctx) runs for each
 * key with the path pointing at it, stopping at the first error.
 */
static int walk_object(struct pctx *p, struct json_object *o, const char *const *allowed, key_cb cb,
		       void *ctx)
{
	size_t old;
	int err;

	if (want_object(p, o) || check_keys(p, o, allowed))
		return -EINVAL;
	json_object_object_foreach(o, key, val)
	{
		old = push_key(p, key);
		err = cb(p, key, val, ctx);
		pop(p, old);
		if (err)
			return err;
	}
	return 0;
}

static int get_uint(struct pctx *p, struct json_object *v, uint64_t max, uint64_t *out)
{
	int64_t x;

	if (!json_object_is_type(v, json_type_int))
		return perr(p, "expected an integer");
	errno = 0;
	x = json_object_get_int64(v);
	if (errno || x < 0 || (uint64_t)x > max)
		return perr(p, "out of range 0..%llu", (unsigned long long)max);
	*out = (uint64_t)x;
	return 0;
}

static int get_u32(struct pctx *p, struct json_object *v, uint32_t max, uint32_t *out)
{
	uint64_t x = 0;
	int err = get_uint(p, v, max, &x);

	*out = (uint32_t)x; /* 0 on error: the parse fails anyway */
	return err;
}

static int get_bool(struct pctx *p, struct json_object *v, int *out)
{
	if (!json_object_is_type(v, json_type_boolean))
		return perr(p, "expected true or false");
	*out = json_object_get_boolean(v);
	return 0;
}

static int get_str(struct pctx *p, struct json_object *v, char *out, size_t len, int allow_empty)
{
	const char *s;

	if (!json_object_is_type(v, json_type_string))
		return perr(p, "expected a string");
	s = json_object_get_string(v);
	if (!allow_empty && !s[0])
		return perr(p, "must not be empty");
	if (strlen(s) >= len)
		return perr(p, "longer than %zu characters", len - 1);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return perr(p, "contains a NUL character");
	strcpy(out, s);
	return 0;
}

/*
 * A string or an array of strings: calls cb(p, str, ctx) for each with the
 * path pointing at the element.
 */
typedef int (*str_cb)(struct pctx *p, const char *s, void *ctx);

static int each_str(struct pctx *p, struct json_object *v, str_cb cb, void *ctx)
{
	size_t i, n, old;
	int err;

	if (json_object_is_type(v, json_type_string)) {
		if (!json_object_get_string(v)[0])
			return perr(p, "must not be empty");
		return cb(p, json_object_get_string(v), ctx);
	}
	if (!json_object_is_type(v, json_type_array))
		return perr(p, "expected a string or an array of strings");
	n = json_object_array_length(v);
	if (n == 0)
		return perr(p, "empty list (omit the key to match anything)");
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);

		old = push_idx(p, i);
		if (!json_object_is_type(e, json_type_string))
			err = perr(p, "expected a string");
		else if (!json_object_get_string(e)[0])
			err = perr(p, "must not be empty");
		else
			err = cb(p, json_object_get_string(e), ctx);
		pop(p, old);
		if (err)
			return err;
	}
	return 0;
}

static int add_glob(struct pctx *p, const char *s, void *ctx)
{
	struct sipd_globs *g = ctx;
	char **nv;

	if (strlen(s) > 255)
		return perr(p, "pattern longer than 255 characters");
	nv = realloc(g->v, (g->n + 1) * sizeof(*nv));
	if (!nv)
		return perr(p, "out of memory");
	g->v = nv;
	g->v[g->n] = strdup(s);
	if (!g->v[g->n])
		return perr(p, "out of memory");
	g->n++;
	return 0;
}

static int add_header(struct pctx *p, const char *s, void *ctx)
{
	const char *c;

	/* A header name is an RFC 3261 token; globs allowed. */
	for (c = s; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == ':')
			return perr(p, "bad header name \"%s\"", s);
	return add_glob(p, s, ctx);
}

struct cidr_list {
	struct sipd_cidr *v;
	unsigned int n;
};

static int add_cidr(struct pctx *p, const char *s, void *ctx)
{
	struct cidr_list *l = ctx;
	struct sipd_cidr c, *nv;

	if (sipd_cidr_parse(s, &c))
		return perr(p, "bad network \"%s\" (want ADDR/LEN, host bits zero)", s);
	nv = realloc(l->v, (l->n + 1) * sizeof(*nv));
	if (!nv)
		return perr(p, "out of memory");
	l->v = nv;
	l->v[l->n++] = c;
	return 0;
}

static int add_method(struct pctx *p, const char *s, void *ctx)
{
	int m = sipd_method_parse(s);

	if (m < 0)
		return perr(p, "unknown method \"%s\"", s);
	*(uint32_t *)ctx |= 1u << m;
	return 0;
}

static int add_direction(struct pctx *p, const char *s, void *ctx)
{
	size_t i;

	for (i = 0; i < sizeof(dir_names) / sizeof(dir_names[0]); i++) {
		if (!strcmp(s, dir_names[i].name)) {
			*(unsigned int *)ctx |= dir_names[i].bit;
			return 0;
		}
	}
	return perr(p, "unknown direction \"%s\" (inbound, outbound, internal, transit)", s);
}

static int get_check(struct pctx *p, struct json_object *v, uint8_t *out)
{
	char s[32];
	unsigned int c;

	if (get_str(p, v, s, sizeof(s), 0))
		return -EINVAL;
	if (sw_check_parse(s, &c))
		return perr(p, "unknown check mode \"%s\" (strict, address, symmetric)", s);
	*out = (uint8_t)c;
	return 0;
}

static int get_action(struct pctx *p, struct json_object *v, int *out)
{
	char s[16];

	if (get_str(p, v, s, sizeof(s), 0))
		return -EINVAL;
	if (!strcmp(s, "allow"))
		*out = SIPD_ACT_ALLOW;
	else if (!strcmp(s, "drop"))
		*out = SIPD_ACT_DROP;
	else
		return perr(p, "unknown action \"%s\" (allow, drop)", s);
	return 0;
}

#define FIELD(name) (!strcmp(key, name))

static int queue_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	uint32_t x;
	int err = 0;

	if (FIELD("num")) {
		err = get_u32(p, val, 65535, &x);
		c->queue.num = (uint16_t)x;
	} else if (FIELD("count")) {
		err = get_u32(p, val, 64, &x);
		if (!err && x == 0)
			err = perr(p, "must be at least 1");
		c->queue.count = (uint16_t)x;
	} else if (FIELD("fail_open")) {
		err = get_bool(p, val, &c->queue.fail_open);
	} else if (FIELD("busy_poll_us")) {
		err = get_u32(p, val, SIPD_BUSY_POLL_US_MAX, &c->queue.busy_poll_us);
	} else if (FIELD("workers")) {
		err = get_u32(p, val, 64, &x);
		if (!err && x == 0)
			err = perr(p, "must be at least 1");
		c->queue.workers = (uint16_t)x;
	}
	return err;
}

static int parse_queue(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"num",	   "count",   "fail_open",
					   "busy_poll_us", "workers", NULL};

	if (walk_object(p, o, keys, queue_key, c))
		return -EINVAL;
	if (c->queue.workers > c->queue.count)
		return perr(p, "workers %u exceeds count %u: each worker serves its own queues",
			    c->queue.workers, c->queue.count);
	if ((uint32_t)c->queue.num + c->queue.count - 1 > 65535)
		return perr(p, "queues %u..%u exceed 65535", c->queue.num,
			    c->queue.num + c->queue.count - 1);
	return 0;
}

static int get_cidr(struct pctx *p, struct json_object *v, struct sipd_cidr *out)
{
	char s[64];

	if (get_str(p, v, s, sizeof(s), 0))
		return -EINVAL;
	if (sipd_cidr_parse(s, out))
		return perr(p, "bad network \"%s\" (want ADDR/LEN, host bits zero)", s);
	return 0;
}

static int parse_peers(struct pctx *p, struct json_object *v, struct sipd_config *c)
{
	static const char *const keys[] = {"cidr", "check", NULL};
	size_t i, n, old;
	int err = 0;

	if (!json_object_is_type(v, json_type_array))
		return perr(p, "expected an array of {\"cidr\", \"check\"}");
	n = json_object_array_length(v);
	c->peers = calloc(n ? n : 1, sizeof(*c->peers));
	if (!c->peers)
		return perr(p, "out of memory");
	for (i = 0; i < n && !err; i++) {
		struct json_object *e = json_object_array_get_idx(v, i), *x;
		struct sipd_peer_net *pn = &c->peers[i];

		old = push_idx(p, i);
		if (want_object(p, e) || check_keys(p, e, keys)) {
			err = -EINVAL;
		} else if (!json_object_object_get_ex(e, "cidr", &x)) {
			err = perr(p, "missing \"cidr\"");
		} else if (!json_object_object_get_ex(e, "check", &x)) {
			err = perr(p, "missing \"check\"");
		} else {
			json_object_object_get_ex(e, "cidr", &x);
			err = AT_KEY(p, "cidr", get_cidr(p, x, &pn->net));
			if (!err) {
				json_object_object_get_ex(e, "check", &x);
				err = AT_KEY(p, "check", get_check(p, x, &pn->check));
			}
		}
		pop(p, old);
		c->n_peers = i + 1;
	}
	return err;
}

static int networks_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	int err = 0;

	if (FIELD("inside")) {
		struct cidr_list l = {c->inside, c->n_inside};

		err = each_str(p, val, add_cidr, &l);
		c->inside = l.v;
		c->n_inside = l.n;
	} else if (FIELD("default_check")) {
		err = get_check(p, val, &c->default_check);
	} else if (FIELD("peers")) {
		err = parse_peers(p, val, c);
	}
	return err;
}

static int parse_networks(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"inside", "default_check", "peers", NULL};

	return walk_object(p, o, keys, networks_key, c);
}

/* limits.source_prefix_v4 (1-32) / _v6 (1-128): the per-source key. */
static int source_prefix(struct pctx *p, const char *key, struct json_object *val,
			 struct sipd_config *c)
{
	int v4 = FIELD("source_prefix_v4");
	uint32_t max = v4 ? 32 : 128, x = 0;
	int err = get_u32(p, val, max, &x);

	if (!err && !x)
		err = perr(p, "must be 1-%u", max);
	if (!err)
		*(v4 ? &c->source_prefix_v4 : &c->source_prefix_v6) = (uint8_t)x;
	return err;
}

static int limits_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	int err = 0;

	if (FIELD("max_msg_len"))
		err = get_u32(p, val, SIP_MAX_MSG_LEN, &c->limits.max_msg_len);
	else if (FIELD("max_headers"))
		err = get_u32(p, val, SIP_MAX_HEADERS, &c->limits.max_headers);
	else if (FIELD("max_line_len"))
		err = get_u32(p, val, SIP_MAX_LINE_LEN, &c->limits.max_line_len);
	else if (FIELD("max_via"))
		err = get_u32(p, val, SIP_MAX_VIA, &c->limits.max_via);
	else if (FIELD("strict"))
		err = get_bool(p, val, &c->limits.strict);
	else if (FIELD("allow_trailing"))
		err = get_bool(p, val, &c->limits.allow_trailing);
	else if (FIELD("max_calls"))
		err = get_u32(p, val, 10000000, &c->max_calls);
	else if (FIELD("max_calls_per_source"))
		err = get_u32(p, val, 10000000, &c->max_calls_per_source);
	else if (FIELD("max_pinholes_per_call"))
		err = get_u32(p, val, SIPD_MAX_PINHOLES_PER_CALL, &c->max_pinholes_per_call);
	else if (FIELD("max_msg_rate"))
		err = get_u32(p, val, 1000000, &c->max_msg_rate);
	else if (FIELD("max_msg_burst"))
		err = get_u32(p, val, 1000000, &c->max_msg_burst);
	else if (FIELD("source_prefix_v4") || FIELD("source_prefix_v6"))
		return source_prefix(p, key, val, c);
	/* A limit of 0 would drop every message: say so now
	 * (max_msg_rate 0 means no rate bound). */
	if (!err && !FIELD("strict") && !FIELD("allow_trailing") && !FIELD("max_msg_rate") &&
	    json_object_get_int64(val) == 0)
		err = perr(p, "must be at least 1");
	return err;
}

static int parse_limits(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"max_msg_len",
					   "max_headers",
					   "max_line_len",
					   "max_via",
					   "strict",
					   "allow_trailing",
					   "max_calls",
					   "max_calls_per_source",
					   "max_pinholes_per_call",
					   "max_msg_rate",
					   "max_msg_burst",
					   "source_prefix_v4",
					   "source_prefix_v6",
					   NULL};

	return walk_object(p, o, keys, limits_key, c);
}

static int timeouts_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	const uint32_t day = 86400;
	int err = 0;

	if (FIELD("bye_grace_s"))
		err = get_u32(p, val, 60, &c->timeouts.bye_grace_s);
	else if (FIELD("idle_s"))
		err = get_u32(p, val, day, &c->timeouts.idle_s);
	else if (FIELD("max_call_s"))
		err = get_u32(p, val, 7 * day, &c->timeouts.max_call_s);
	else if (FIELD("silent_dialog_s"))
		err = get_u32(p, val, 7 * day, &c->timeouts.silent_dialog_s);
	else if (FIELD("early_dialog_s"))
		err = get_u32(p, val, day, &c->timeouts.early_dialog_s);
	else if (FIELD("takeover_idle_s"))
		err = get_u32(p, val, day, &c->timeouts.takeover_idle_s);
	return err;
}

static int parse_timeouts(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {
		"bye_grace_s",	  "idle_s",	     "max_call_s", "silent_dialog_s",
		"early_dialog_s", "takeover_idle_s", NULL};

	return walk_object(p, o, keys, timeouts_key, c);
}

static int media_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	char mode[8];
	int err = 0;

	if (FIELD("open_at_offer")) {
		if (get_str(p, val, mode, sizeof(mode), 0))
			return perr(p, "expected \"off\", \"inside\" or \"all\"");
		if (!strcmp(mode, "off"))
			c->open_at_offer = SIPD_OAO_OFF;
		else if (!strcmp(mode, "inside"))
			c->open_at_offer = SIPD_OAO_INSIDE;
		else if (!strcmp(mode, "all"))
			c->open_at_offer = SIPD_OAO_ALL;
		else
			err = perr(p, "expected \"off\", \"inside\" or \"all\", not \"%s\"", mode);
	}
	return err;
}

static int parse_media(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"open_at_offer", NULL};

	return walk_object(p, o, keys, media_key, c);
}

int sipd_port_list_has(const struct sipd_port_list *l, uint16_t port)
{
	for (unsigned int i = 0; i < l->n; i++)
		if (l->port[i] == port)
			return 1;
	return 0;
}

/* An array of 0..SIPD_CFG_MAX_PORTS distinct ports 1-65535. */
static int get_ports(struct pctx *p, struct json_object *v, struct sipd_port_list *out)
{
	struct sipd_port_list l = {0};
	size_t i, n;

	if (!json_object_is_type(v, json_type_array))
		return perr(p, "expected an array of ports");
	n = json_object_array_length(v);
	if (n > SIPD_CFG_MAX_PORTS)
		return perr(p, "more than %d ports", SIPD_CFG_MAX_PORTS);
	for (i = 0; i < n; i++) {
		struct json_object *e = json_object_array_get_idx(v, i);
		size_t old = push_idx(p, i);
		int64_t x = json_object_is_type(e, json_type_int) ? json_object_get_int64(e) : 0;
		int err = 0;

		if (x < 1 || x > 65535)
			err = perr(p, "expected a port number 1-65535");
		else if (sipd_port_list_has(&l, (uint16_t)x))
			err = perr(p, "port %lld listed twice", (long long)x);
		pop(p, old);
		if (err)
			return err;
		l.port[l.n++] = (uint16_t)x;
	}
	*out = l;
	return 0;
}

static int add_transport(struct pctx *p, const char *s, void *ctx)
{
	struct sipd_config *c = ctx;

	if (!strcmp(s, "udp"))
		c->sip.udp = 1;
	else if (!strcmp(s, "tcp"))
		c->sip.tcp = 1;
	else if (!strcmp(s, "ws"))
		c->sip.ws = 1;
	else if (!strcmp(s, "tls") || !strcmp(s, "wss"))
		return perr(p,
			    "\"%s\" is encrypted and cannot be inspected on the wire "
			    "(see \"uninspectable\", docs/tcp.md)",
			    s);
	else
		return perr(p, "unknown transport \"%s\" (udp, tcp or ws)", s);
	return 0;
}

static int sip_ports_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;

	if (FIELD("udp"))
		return get_ports(p, val, &c->sip.udp_ports);
	if (FIELD("tcp"))
		return get_ports(p, val, &c->sip.tcp_ports);
	if (FIELD("ws"))
		return get_ports(p, val, &c->sip.ws_ports);
	if (FIELD("tls"))
		return get_ports(p, val, &c->sip.tls_ports);
	if (FIELD("wss"))
		return get_ports(p, val, &c->sip.wss_ports);
	return 0;
}

static int parse_sip_ports(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"udp", "tcp", "ws", "tls", "wss", NULL};

	return walk_object(p, o, keys, sip_ports_key, c);
}

static int tcp_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	uint64_t x = 0;
	int err = 0;

	if (FIELD("max_connections")) {
		err = get_u32(p, val, 1u << 20, &c->tcp.max_connections);
		if (!err && !c->tcp.max_connections)
			err = perr(p, "must be at least 1");
	} else if (FIELD("max_connection_bytes")) {
		err = get_u32(p, val, 16u << 20, &c->tcp.max_connection_bytes);
		if (!err && c->tcp.max_connection_bytes < 2 * 1500)
			err = perr(p, "must be at least 3000 (two segments)");
	} else if (FIELD("max_total_bytes")) {
		err = get_uint(p, val, 16ull << 30, &x);
		if (!err && x < 65536)
			err = perr(p, "must be at least 65536");
		c->tcp.max_total_bytes = x;
	} else if (FIELD("idle_s")) {
		err = get_u32(p, val, 86400 * 7, &c->tcp.idle_s);
		if (!err && !c->tcp.idle_s)
			err = perr(p, "must be at least 1");
	} else if (FIELD("gap_s")) {
		err = get_u32(p, val, 3600, &c->tcp.gap_s);
		if (!err && !c->tcp.gap_s)
			err = perr(p, "must be at least 1");
	} else if (FIELD("max_rejects")) {
		err = get_u32(p, val, 1000, &c->tcp.max_rejects);
		if (!err && !c->tcp.max_rejects)
			err = perr(p, "must be at least 1");
	} else if (FIELD("reset")) {
		err = get_bool(p, val, &c->tcp.reset);
	}
	return err;
}

static int parse_tcp(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {
		"max_connections", "max_connection_bytes", "max_total_bytes", "idle_s",
		"gap_s",	   "max_rejects",	   "reset",	      NULL};

	return walk_object(p, o, keys, tcp_key, c);
}

static int add_controller(struct pctx *p, const char *s, void *ctx)
{
	struct sipd_config *c = ctx;
	struct sipd_cidr cidr;
	char(*n)[64];

	if (strlen(s) >= 64 || sipd_cidr_parse(s, &cidr))
		return perr(p, "bad network \"%s\" (want ADDR/LEN, host bits zero)", s);
	if (c->control.n_controllers >= 32)
		return perr(p, "more than 32 controllers");
	n = realloc(c->control.controllers, (c->control.n_controllers + 1) * sizeof(*n));
	if (!n)
		return perr(p, "out of memory");
	c->control.controllers = n;
	strcpy(n[c->control.n_controllers++], s);
	return 0;
}

static int control_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;

	if (FIELD("listen"))
		return get_str(p, val, c->control.listen, sizeof(c->control.listen), 1);
	if (FIELD("unix")) {
		int err = get_str(p, val, c->control.unix_path, sizeof(c->control.unix_path), 1);

		if (!err && c->control.unix_path[0] && c->control.unix_path[0] != '/')
			err = perr(p, "must be an absolute path");
		return err;
	}
	if (FIELD("allow_remote"))
		return get_bool(p, val, &c->control.allow_remote);
	if (FIELD("controllers")) {
		c->control.n_controllers = 0;
		return each_str(p, val, add_controller, c);
	}
	return 0;
}

static int parse_control(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"listen", "unix", "allow_remote", "controllers", NULL};
	struct sockaddr_storage ss;
	unsigned int sl;
	char e[200];
	int err = walk_object(p, o, keys, control_key, c);

	if (err || !c->control.listen[0])
		return err;
	if (sipd_listen_parse(c->control.listen, c->control.allow_remote, &ss, &sl, e, sizeof(e)))
		return AT_KEY(p, "listen", perr(p, "%s", e));
	return 0;
}

static int add_ifname(struct pctx *p, const char *s, void *ctx)
{
	struct sipd_config *c = ctx;
	char(*n)[16];

	if (strlen(s) >= 16)
		return perr(p, "interface name \"%s\" longer than 15 characters", s);
	if (strchr(s, '/') || strchr(s, ' '))
		return perr(p, "\"%s\" is not an interface name", s);
	if (c->security.n_inside_ifs >= 64)
		return perr(p, "more than 64 interfaces");
	n = realloc(c->security.inside_ifs, (c->security.n_inside_ifs + 1) * sizeof(*n));
	if (!n)
		return perr(p, "out of memory");
	c->security.inside_ifs = n;
	strcpy(n[c->security.n_inside_ifs++], s);
	return 0;
}

static int security_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	char mode[8];
	int err = 0;

	if (FIELD("unmatched_responses")) {
		err = get_str(p, val, mode, sizeof(mode), 0);
		if (err)
			return perr(p, "expected \"drop\" or \"pass\"");
		if (!strcmp(mode, "drop"))
			c->security.unmatched_drop = 1;
		else if (!strcmp(mode, "pass"))
			c->security.unmatched_drop = 0;
		else
			err = perr(p, "expected \"drop\" or \"pass\", not \"%s\"", mode);
	} else if (FIELD("verify_checksums")) {
		err = get_bool(p, val, &c->security.verify_checksums);
	} else if (FIELD("spoof_check")) {
		err = get_bool(p, val, &c->security.spoof_check);
	} else if (FIELD("transaction_timeout_s")) {
		err = get_u32(p, val, 300, &c->security.transaction_timeout_s);
		if (!err && c->security.transaction_timeout_s < 4)
			err = perr(p, "must be at least 4 (SIP retransmits for 32 s)");
	} else if (FIELD("max_transactions")) {
		err = get_u32(p, val, 10000000, &c->security.max_transactions);
	} else if (FIELD("max_transactions_per_source")) {
		err = get_u32(p, val, 10000000, &c->security.max_transactions_per_source);
	} else if (FIELD("max_pinholes_per_source")) {
		err = get_u32(p, val, 10000000, &c->security.max_pinholes_per_source);
	} else if (FIELD("reserved_percent")) {
		err = get_u32(p, val, 90, &c->security.reserved_percent);
	} else if (FIELD("inside_interfaces")) {
		err = each_str(p, val, add_ifname, c);
	}
	if (!err &&
	    (FIELD("max_transactions") || FIELD("max_transactions_per_source") ||
	     FIELD("max_pinholes_per_source")) &&
	    json_object_get_int64(val) == 0)
		err = perr(p, "must be at least 1");
	return err;
}

static int parse_security(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"unmatched_responses",
					   "verify_checksums",
					   "spoof_check",
					   "transaction_timeout_s",
					   "max_transactions",
					   "max_transactions_per_source",
					   "max_pinholes_per_source",
					   "reserved_percent",
					   "inside_interfaces",
					   NULL};

	return walk_object(p, o, keys, security_key, c);
}

static int match_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_match *m = ctx;
	int err = 0;

	if (FIELD("source")) {
		struct cidr_list l = {m->source, m->n_source};

		err = each_str(p, val, add_cidr, &l);
		m->source = l.v;
		m->n_source = l.n;
	} else if (FIELD("direction")) {
		err = each_str(p, val, add_direction, &m->directions);
	} else if (FIELD("method")) {
		err = each_str(p, val, add_method, &m->methods);
	} else if (FIELD("message")) {
		char s[16];

		err = get_str(p, val, s, sizeof(s), 0);
		if (err)
			;
		else if (!strcmp(s, "request"))
			m->kind = SIPD_KIND_REQUEST;
		else if (!strcmp(s, "response"))
			m->kind = SIPD_KIND_RESPONSE;
		else
			err = perr(p, "unknown message kind \"%s\" (request, response)", s);
	} else if (FIELD("content_type")) {
		err = each_str(p, val, add_glob, &m->content_type);
	} else if (FIELD("from_user")) {
		err = each_str(p, val, add_glob, &m->from_user);
	} else if (FIELD("from_domain")) {
		err = each_str(p, val, add_glob, &m->from_domain);
	} else if (FIELD("to_user")) {
		err = each_str(p, val, add_glob, &m->to_user);
	} else if (FIELD("to_domain")) {
		err = each_str(p, val, add_glob, &m->to_domain);
	} else if (FIELD("user_agent")) {
		err = each_str(p, val, add_glob, &m->user_agent);
	} else if (FIELD("header")) {
		err = each_str(p, val, add_header, &m->header);
	}
	return err;
}

static int parse_match(struct pctx *p, struct json_object *o, struct sipd_match *m)
{
	static const char *const keys[] = {"source",	   "direction",	 "method",	"message",
					   "content_type", "from_user",	 "from_domain", "to_user",
					   "to_domain",	   "user_agent", "header",	NULL};

	return walk_object(p, o, keys, match_key, m);
}

static int parse_filters(struct pctx *p, struct json_object *v, struct sipd_config *c)
{
	static const char *const keys[] = {"name", "match", "action", NULL};
	size_t i, n, old;
	int err = 0;

	if (!json_object_is_type(v, json_type_array))
		return perr(p, "expected an array of rules");
	n = json_object_array_length(v);
	c->rules = calloc(n ? n : 1, sizeof(*c->rules));
	if (!c->rules)
		return perr(p, "out of memory");
	for (i = 0; i < n && !err; i++) {
		struct json_object *e = json_object_array_get_idx(v, i), *x;
		struct sipd_rule *r = &c->rules[i];

		c->n_rules = i + 1;
		old = push_idx(p, i);
		snprintf(r->name, sizeof(r->name), "filters[%zu]", i);
		if (want_object(p, e) || check_keys(p, e, keys)) {
			err = -EINVAL;
		} else if (!json_object_object_get_ex(e, "action", &x)) {
			err = perr(p, "missing \"action\"");
		} else {
			err = AT_KEY(p, "action", get_action(p, x, &r->action));
			if (!err && json_object_object_get_ex(e, "name", &x))
				err = AT_KEY(p, "name", get_str(p, x, r->name, sizeof(r->name), 0));
			if (!err && json_object_object_get_ex(e, "match", &x))
				err = AT_KEY(p, "match", parse_match(p, x, &r->match));
		}
		pop(p, old);
	}
	return err;
}

static int parse_whitelist(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"enabled", "allow_from", NULL};
	size_t n = 0, old;
	int err = 0;

	if (want_object(p, o))
		return -EINVAL;
	c->whitelist = calloc(json_object_object_length(o) + 1, sizeof(*c->whitelist));
	if (!c->whitelist)
		return perr(p, "out of memory");
	json_object_object_foreach(o, key, val)
	{
		struct sipd_wl_entry *w = &c->whitelist[n];
		struct json_object *x = NULL;

		c->n_whitelist = ++n;
		old = push_key(p, key);
		w->enabled = 1;
		if (!key[0] || strlen(key) >= sizeof(w->user))
			err = perr(p, "bad user name");
		else if (want_object(p, val) || check_keys(p, val, keys))
			err = -EINVAL;
		else if (!json_object_object_get_ex(val, "allow_from", &x))
			err = perr(p, "missing \"allow_from\"");
		if (!err) {
			strcpy(w->user, key);
			err = AT_KEY(p, "allow_from", each_str(p, x, add_glob, &w->allow_from));
		}
		if (!err && json_object_object_get_ex(val, "enabled", &x))
			err = AT_KEY(p, "enabled", get_bool(p, x, &w->enabled));
		pop(p, old);
		if (err)
			return err;
	}
	return 0;
}

static int events_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	int err = 0;

	if (FIELD("output"))
		err = get_str(p, val, c->events.output, sizeof(c->events.output), 1);
	else if (FIELD("drop_log_per_s"))
		err = get_u32(p, val, 100000, &c->events.drop_log_per_s);
	else if (FIELD("drop_summary_s"))
		err = get_u32(p, val, 86400, &c->events.drop_summary_s);
	return err;
}

static int parse_events(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"output", "drop_log_per_s", "drop_summary_s", NULL};

	return walk_object(p, o, keys, events_key, c);
}

/* Scanner User-Agents banned on their first request unless
 * guard.scanner_user_agents says otherwise (docs/dos.md). */
static const char *const default_scanner_ua[] = {
	"friendly-scanner*", "sipvicious*", "sipcli*", "sip-scan*", "VaxSIPUserAgent*",
	"sundayddr*",	     "iWar*",	    "SIVuS*",  "smap *",    "SIPScan*",
	"pplsip*",	     NULL};

static int trigger_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_trigger *t = ctx;
	int err = 0;

	if (FIELD("count")) {
		err = get_u32(p, val, 1000000, &t->count);
	} else if (FIELD("window_s")) {
		err = get_u32(p, val, 86400, &t->window_s);
		if (!err && !t->window_s)
			err = perr(p, "must be at least 1");
	}
	return err;
}

static int parse_trigger(struct pctx *p, struct json_object *o, struct sipd_trigger *t)
{
	static const char *const keys[] = {"count", "window_s", NULL};

	return walk_object(p, o, keys, trigger_key, t);
}

static int flood_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_guard_cfg *g = ctx;
	uint32_t x;
	size_t i, n;
	int err = 0;

	if (FIELD("rate")) {
		err = get_u32(p, val, 10000000, &g->flood.rate);
	} else if (FIELD("burst")) {
		err = get_u32(p, val, 10000000, &g->flood.burst);
		if (!err && !g->flood.burst)
			err = perr(p, "must be at least 1");
	} else if (FIELD("prefix_v4")) {
		err = get_u32(p, val, 32, &x);
		if (!err && !x)
			err = perr(p, "must be 1-32");
		g->flood.prefix_v4 = (uint8_t)x;
	} else if (FIELD("prefix_v6")) {
		err = get_u32(p, val, 128, &x);
		if (!err && !x)
			err = perr(p, "must be 1-128");
		g->flood.prefix_v6 = (uint8_t)x;
	} else if (FIELD("ports")) {
		if (!json_object_is_type(val, json_type_array)) {
			err = perr(p, "expected an array of ports");
		} else if (!(n = json_object_array_length(val)) || n > SW_SIG_PORTS) {
			err = perr(p, "1 to %d ports", SW_SIG_PORTS);
		} else {
			memset(g->flood.ports, 0, sizeof(g->flood.ports));
			for (i = 0; i < n && !err; i++) {
				size_t o2 = push_idx(p, i);
				struct json_object *e = json_object_array_get_idx(val, i);

				x = 0;
				if (!json_object_is_type(e, json_type_int) ||
				    json_object_get_int64(e) < 1 ||
				    json_object_get_int64(e) > 65535)
					err = perr(p, "expected a port number 1-65535");
				else
					x = (uint32_t)json_object_get_int64(e);
				g->flood.ports[i] = (uint16_t)x;
				pop(p, o2);
			}
		}
	}
	return err;
}

static int parse_flood(struct pctx *p, struct json_object *o, struct sipd_guard_cfg *g)
{
	static const char *const keys[] = {"rate",	"burst", "prefix_v4",
					   "prefix_v6", "ports", NULL};

	g->flood.set = 1;
	return walk_object(p, o, keys, flood_key, g);
}

static void free_globs(struct sipd_globs *g);

static int guard_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	struct sipd_guard_cfg *g = &c->guard;
	uint32_t x;
	int err = 0;

	if (FIELD("enabled")) {
		err = get_bool(p, val, &g->enabled);
	} else if (FIELD("trusted")) {
		struct cidr_list l = {g->trusted, g->n_trusted};

		err = each_str(p, val, add_cidr, &l);
		g->trusted = l.v;
		g->n_trusted = l.n;
	} else if (FIELD("ban_inside")) {
		err = get_bool(p, val, &g->ban_inside);
	} else if (FIELD("ban_ttl_s")) {
		err = get_u32(p, val, 365 * 86400, &g->ban_ttl_s);
	} else if (FIELD("ban_prefix_v4")) {
		err = get_u32(p, val, 32, &x);
		if (!err && x < 8)
			err = perr(p, "must be 8-32");
		g->ban_prefix_v4 = (uint8_t)x;
	} else if (FIELD("ban_prefix_v6")) {
		err = get_u32(p, val, 128, &x);
		if (!err && x < 16)
			err = perr(p, "must be 16-128");
		g->ban_prefix_v6 = (uint8_t)x;
	} else if (FIELD("scanner_user_agents")) {
		/* Replaces the built-in list; [] turns it off. */
		free_globs(&g->scanner_ua);
		memset(&g->scanner_ua, 0, sizeof(g->scanner_ua));
		if (!json_object_is_type(val, json_type_array) || json_object_array_length(val))
			err = each_str(p, val, add_glob, &g->scanner_ua);
	} else if (FIELD("malformed")) {
		err = parse_trigger(p, val, &g->malformed);
	} else if (FIELD("auth_failures")) {
		err = parse_trigger(p, val, &g->auth_failures);
	} else if (FIELD("not_found")) {
		err = parse_trigger(p, val, &g->not_found);
	} else if (FIELD("max_sources")) {
		err = get_u32(p, val, 1u << 22, &g->max_sources);
		if (!err && g->max_sources < 16)
			err = perr(p, "must be at least 16");
	} else if (FIELD("max_bans_per_s")) {
		err = get_u32(p, val, 1000000, &g->max_bans_per_s);
	} else if (FIELD("max_bans_burst")) {
		err = get_u32(p, val, 1000000, &g->max_bans_burst);
		if (!err && !g->max_bans_burst)
			err = perr(p, "must be at least 1");
	} else if (FIELD("ban_map_headroom")) {
		err = get_u32(p, val, 90, &g->ban_map_headroom);
	} else if (FIELD("flood")) {
		err = parse_flood(p, val, g);
	}
	return err;
}

static int parse_guard(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"enabled",
					   "trusted",
					   "ban_inside",
					   "ban_ttl_s",
					   "ban_prefix_v4",
					   "ban_prefix_v6",
					   "scanner_user_agents",
					   "malformed",
					   "auth_failures",
					   "not_found",
					   "max_sources",
					   "max_bans_per_s",
					   "max_bans_burst",
					   "ban_map_headroom",
					   "flood",
					   NULL};

	return walk_object(p, o, keys, guard_key, c);
}

static int set_guard_defaults(struct sipd_guard_cfg *g)
{
	const char *const *s;

	g->enabled = 1;
	g->ban_ttl_s = 3600;
	g->ban_prefix_v4 = 32;
	g->ban_prefix_v6 = 64;
	g->malformed = (struct sipd_trigger){5, 60};
	g->auth_failures = (struct sipd_trigger){10, 60};
	g->not_found = (struct sipd_trigger){20, 60};
	g->max_sources = 65536;
	g->max_bans_per_s = 10;
	g->max_bans_burst = 20;
	g->ban_map_headroom = 10;
	g->flood.rate = 50;
	g->flood.burst = 100;
	g->flood.prefix_v4 = 32;
	g->flood.prefix_v6 = 64;
	g->flood.ports[0] = 5060;
	g->flood.ports[1] = 5061;
	for (s = default_scanner_ua; *s; s++) {
		char **nv = realloc(g->scanner_ua.v, (g->scanner_ua.n + 1) * sizeof(*nv));

		if (!nv)
			return -ENOMEM;
		g->scanner_ua.v = nv;
		nv[g->scanner_ua.n] = strdup(*s);
		if (!nv[g->scanner_ua.n])
			return -ENOMEM;
		g->scanner_ua.n++;
	}
	return 0;
}

/* metrics.listen: "ADDR:PORT" or "[V6]:PORT", loopback unless allow_remote. */
int sipd_listen_parse(const char *s, int allow_remote, struct sockaddr_storage *ss,
		      unsigned int *sl, char *err, size_t errlen)
{
	char host[64];
	const char *colon, *h = s;
	size_t hl;
	unsigned long port;
	char *end;

	if (!s || !*s) {
		snprintf(err, errlen, "empty address (want \"127.0.0.1:9870\" or \"[::1]:9870\")");
		return -EINVAL;
	}
	if (*s == '[') {
		colon = strchr(s, ']');
		if (!colon || colon[1] != ':') {
			snprintf(err, errlen, "\"%s\": want \"[V6ADDR]:PORT\"", s);
			return -EINVAL;
		}
		h = s + 1;
		hl = (size_t)(colon - h);
		colon++;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon) {
			snprintf(err, errlen, "\"%s\": want \"ADDR:PORT\" (IPv6 in brackets)", s);
			return -EINVAL;
		}
		hl = (size_t)(colon - s);
	}
	if (!hl || hl >= sizeof(host)) {
		snprintf(err, errlen, "\"%s\": missing or overlong address", s);
		return -EINVAL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535 ||
	    !isdigit((unsigned char)colon[1])) {
		snprintf(err, errlen, "\"%s\": port must be 1-65535", s);
		return -EINVAL;
	}
	memset(ss, 0, sizeof(*ss));
	if (*s != '[') {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
			snprintf(err, errlen, "\"%s\": \"%s\" is not an IPv4 address", s, host);
			return -EINVAL;
		}
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*sl = sizeof(*sin);
		if (!allow_remote && (ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
			snprintf(err, errlen,
				 "\"%s\" is not a loopback address (set metrics.allow_remote to "
				 "expose it)",
				 s);
			return -EINVAL;
		}
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) {
			snprintf(err, errlen, "\"%s\": \"%s\" is not an IPv6 address", s, host);
			return -EINVAL;
		}
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*sl = sizeof(*sin6);
		if (!allow_remote && !IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr)) {
			snprintf(err, errlen,
				 "\"%s\" is not a loopback address (set metrics.allow_remote to "
				 "expose it)",
				 s);
			return -EINVAL;
		}
	}
	return 0;
}

static int metrics_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	int err = 0;

	if (FIELD("listen"))
		err = get_str(p, val, c->metrics.listen, sizeof(c->metrics.listen), 1);
	else if (FIELD("allow_remote"))
		err = get_bool(p, val, &c->metrics.allow_remote);
	return err;
}

static int parse_metrics(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"listen", "allow_remote", NULL};
	struct sockaddr_storage ss;
	unsigned int sl;
	char why[160];

	if (walk_object(p, o, keys, metrics_key, c))
		return -EINVAL;
	/* Checked once both keys are known: allow_remote may come second. */
	if (c->metrics.listen[0] && sipd_listen_parse(c->metrics.listen, c->metrics.allow_remote,
						      &ss, &sl, why, sizeof(why)))
		return AT_KEY(p, "listen", perr(p, "%s", why));
	return 0;
}

/* "host:port" or "[v6]:port": a Redis or Sentinel endpoint. */
int sipd_hostport_parse(const char *s, char *host, size_t hlen, uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	const char *h = s;
	size_t n;
	char *end;
	unsigned long v;

	if (!colon || colon == s)
		return -EINVAL;
	n = (size_t)(colon - s);
	if (s[0] == '[') {
		if (n < 3 || s[n - 1] != ']')
			return -EINVAL;
		h = s + 1;
		n -= 2;
	}
	if (n >= hlen)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)h[i]) || h[i] == '.' || h[i] == '-' || h[i] == ':'))
			return -EINVAL;
	errno = 0;
	v = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || colon[1] == '0' || v < 1 || v > 65535)
		return -EINVAL;
	memcpy(host, h, n);
	host[n] = '\0';
	*port = (uint16_t)v;
	return 0;
}

struct ep_list {
	char (*v)[80];
	unsigned int *n;
};

static int add_endpoint(struct pctx *p, const char *s, void *ctx)
{
	struct ep_list *l = ctx;
	char host[80];
	uint16_t port;

	if (*l->n >= SIPD_CLUSTER_MAX_EP)
		return perr(p, "at most %u addresses", SIPD_CLUSTER_MAX_EP);
	if (strlen(s) >= 80 || sipd_hostport_parse(s, host, sizeof(host), &port))
		return perr(p, "\"%s\" is not host:port", s);
	snprintf(l->v[(*l->n)++], 80, "%s", s);
	return 0;
}

static int cluster_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	int err = 0;

	if (FIELD("enabled")) {
		err = get_bool(p, val, &c->cluster.enabled);
	} else if (FIELD("node_id")) {
		err = get_str(p, val, c->cluster.node_id, sizeof(c->cluster.node_id), 0);
		if (!err && !clrec_node_ok(c->cluster.node_id))
			err = perr(p, "1 to 31 of A-Z a-z 0-9 . _ -");
	} else if (FIELD("redis")) {
		struct ep_list l = {c->cluster.redis, &c->cluster.n_redis};

		c->cluster.n_redis = 0;
		err = each_str(p, val, add_endpoint, &l);
	} else if (FIELD("sentinels")) {
		struct ep_list l = {c->cluster.sentinels, &c->cluster.n_sentinels};

		c->cluster.n_sentinels = 0;
		err = each_str(p, val, add_endpoint, &l);
	} else if (FIELD("master_name")) {
		err = get_str(p, val, c->cluster.master_name, sizeof(c->cluster.master_name), 0);
		if (!err && !clrec_node_ok(c->cluster.master_name))
			err = perr(p, "1 to 31 of A-Z a-z 0-9 . _ -");
	} else if (FIELD("key_prefix")) {
		err = get_str(p, val, c->cluster.key_prefix, sizeof(c->cluster.key_prefix), 0);
		for (const char *q = c->cluster.key_prefix; !err && *q; q++)
			if (!(isalnum((unsigned char)*q) || strchr(":_.-", *q)))
				err = perr(p, "only A-Z a-z 0-9 : _ . -");
	} else if (FIELD("credentials_file")) {
		err = get_str(p, val, c->cluster.credentials_file,
			      sizeof(c->cluster.credentials_file), 0);
		if (!err && c->cluster.credentials_file[0] != '/')
			err = perr(p, "must be an absolute path");
	} else if (FIELD("heartbeat_ms")) {
		err = get_u32(p, val, 60000, &c->cluster.heartbeat_ms);
		if (!err && c->cluster.heartbeat_ms < 50)
			err = perr(p, "at least 50");
	} else if (FIELD("owner_timeout_ms")) {
		err = get_u32(p, val, 600000, &c->cluster.owner_timeout_ms);
	} else if (FIELD("queue_len")) {
		err = get_u32(p, val, 1u << 20, &c->cluster.queue_len);
		if (!err && c->cluster.queue_len < 16)
			err = perr(p, "at least 16");
	} else if (FIELD("stream_maxlen")) {
		err = get_u32(p, val, 100000000, &c->cluster.stream_maxlen);
		if (!err && c->cluster.stream_maxlen < 1000)
			err = perr(p, "at least 1000");
	} else if (FIELD("tombstone_s")) {
		err = get_u32(p, val, 86400, &c->cluster.tombstone_s);
		if (!err && !c->cluster.tombstone_s)
			err = perr(p, "at least 1");
	} else if (FIELD("cpu")) {
		uint32_t cpu;

		err = get_u32(p, val, 1023, &cpu);
		if (!err)
			c->cluster.cpu = (int)cpu;
	}
	return err;
}

static int parse_cluster(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {"enabled",
					   "node_id",
					   "redis",
					   "sentinels",
					   "master_name",
					   "key_prefix",
					   "credentials_file",
					   "heartbeat_ms",
					   "owner_timeout_ms",
					   "queue_len",
					   "stream_maxlen",
					   "tombstone_s",
					   "cpu",
					   NULL};

	if (walk_object(p, o, keys, cluster_key, c))
		return -EINVAL;
	/* Checked once every key is known. */
	if (c->cluster.owner_timeout_ms < 2 * c->cluster.heartbeat_ms)
		return AT_KEY(p, "owner_timeout_ms",
			      perr(p, "must be at least twice heartbeat_ms (%u)",
				   c->cluster.heartbeat_ms));
	if (!c->cluster.enabled)
		return 0;
	if (c->cluster.n_redis && c->cluster.n_sentinels)
		return AT_KEY(p, "sentinels", perr(p, "either redis or sentinels, not both"));
	if (!c->cluster.n_redis && !c->cluster.n_sentinels)
		return AT_KEY(p, "redis", perr(p, "required when enabled (or sentinels)"));
	if (c->cluster.n_sentinels && !c->cluster.master_name[0])
		return AT_KEY(p, "master_name", perr(p, "required with sentinels"));
	return 0;
}

static void set_defaults(struct sipd_config *c)
{
	snprintf(c->pin_path, sizeof(c->pin_path), "%s", SW_PIN_ROOT_DEFAULT);
	c->queue.num = 0;
	c->queue.count = 1;
	c->queue.workers = 1;
	c->queue.fail_open = 0;
	c->queue.busy_poll_us = 0;
	c->default_check = SW_CHECK_STRICT;
	c->limits.max_msg_len = SIP_MAX_MSG_LEN;
	c->limits.max_headers = SIP_MAX_HEADERS;
	c->limits.max_line_len = SIP_MAX_LINE_LEN;
	c->limits.max_via = SIP_MAX_VIA;
	c->limits.strict = 1;
	c->limits.allow_trailing = 1;
	c->max_calls = 10000;
	c->max_calls_per_source = 1000;
	c->max_pinholes_per_call = SIPD_MAX_PINHOLES_PER_CALL;
	c->max_msg_rate = 500;
	c->max_msg_burst = 1000;
	c->source_prefix_v4 = 32;
	c->source_prefix_v6 = 64;
	c->timeouts.bye_grace_s = 2;
	snprintf(c->cluster.key_prefix, sizeof(c->cluster.key_prefix), "sipwall:");
	c->cluster.heartbeat_ms = 1000;
	c->cluster.owner_timeout_ms = 3000;
	c->cluster.queue_len = 65536;
	c->cluster.stream_maxlen = 1000000;
	c->cluster.tombstone_s = 300;
	c->cluster.cpu = -1;
	c->timeouts.idle_s = 120;
	c->timeouts.max_call_s = 4 * 3600;
	c->timeouts.silent_dialog_s = 3600;
	c->timeouts.early_dialog_s = 180;
	c->timeouts.takeover_idle_s = 8;
	c->default_action = SIPD_ACT_ALLOW;
	c->open_at_offer = SIPD_OAO_INSIDE;
	c->sip.udp = c->sip.tcp = 1;
	c->sip.udp_ports = (struct sipd_port_list){.port = {5060}, .n = 1};
	c->sip.tcp_ports = (struct sipd_port_list){.port = {5060}, .n = 1};
	c->sip.tls_ports = (struct sipd_port_list){.port = {5061}, .n = 1};
	c->tcp.max_connections = 4096;
	c->tcp.max_connection_bytes = 160u * 1024;
	c->tcp.max_total_bytes = 64ull << 20;
	c->tcp.idle_s = 900;
	c->tcp.gap_s = 10;
	c->tcp.max_rejects = 8;
	c->tcp.reset = 1;
	c->security.unmatched_drop = 1;
	c->security.verify_checksums = 1;
	c->security.spoof_check = 1;
	c->security.transaction_timeout_s = 32;
	c->security.max_transactions = 65536;
	c->security.max_transactions_per_source = 2000;
	c->security.max_pinholes_per_source = 2048;
	c->security.reserved_percent = 20;
	strcpy(c->events.output, "-");
	c->events.drop_log_per_s = 10;
	c->events.drop_summary_s = 60;
}

static int top_key(struct pctx *p, const char *key, struct json_object *val, void *ctx)
{
	struct sipd_config *c = ctx;
	int err = 0;

	if (FIELD("pin_path")) {
		err = get_str(p, val, c->pin_path, sizeof(c->pin_path), 0);
		if (!err && c->pin_path[0] != '/')
			err = perr(p, "must be an absolute path");
	} else if (FIELD("queue")) {
		err = parse_queue(p, val, c);
	} else if (FIELD("networks")) {
		err = parse_networks(p, val, c);
	} else if (FIELD("limits")) {
		err = parse_limits(p, val, c);
	} else if (FIELD("timeouts")) {
		err = parse_timeouts(p, val, c);
	} else if (FIELD("filters")) {
		err = parse_filters(p, val, c);
	} else if (FIELD("default_action")) {
		err = get_action(p, val, &c->default_action);
	} else if (FIELD("whitelist")) {
		err = parse_whitelist(p, val, c);
	} else if (FIELD("events")) {
		err = parse_events(p, val, c);
	} else if (FIELD("guard")) {
		err = parse_guard(p, val, c);
	} else if (FIELD("metrics")) {
		err = parse_metrics(p, val, c);
	} else if (FIELD("security")) {
		err = parse_security(p, val, c);
	} else if (FIELD("media")) {
		err = parse_media(p, val, c);
	} else if (FIELD("transports")) {
		c->sip.udp = c->sip.tcp = c->sip.ws = 0;
		err = each_str(p, val, add_transport, c);
	} else if (FIELD("sip_ports")) {
		err = parse_sip_ports(p, val, c);
	} else if (FIELD("uninspectable")) {
		char mode[8];

		err = get_str(p, val, mode, sizeof(mode), 0);
		if (!err && !strcmp(mode, "drop"))
			c->sip.uninspectable_drop = 1;
		else if (!err && !strcmp(mode, "pass"))
			c->sip.uninspectable_drop = 0;
		else
			err = perr(p, "expected \"pass\" or \"drop\"");
	} else if (FIELD("tcp")) {
		err = parse_tcp(p, val, c);
	} else if (FIELD("control")) {
		err = parse_control(p, val, c);
	} else if (FIELD("cluster")) {
		err = parse_cluster(p, val, c);
	}
	return err;
}

/* The transports' ports agree with each other (after the whole object). */
static int check_sip(struct pctx *p, const struct sipd_config *c)
{
	const struct sipd_port_list *tcp_like[] = {&c->sip.ws_ports, &c->sip.tls_ports,
						   &c->sip.wss_ports};
	static const char *const names[] = {"ws", "tls", "wss"};

	if (c->sip.udp && !c->sip.udp_ports.n)
		return AT_KEY(p, "transports", perr(p, "\"udp\" needs ports in sip_ports.udp"));
	if (c->sip.tcp && !c->sip.tcp_ports.n)
		return AT_KEY(p, "transports", perr(p, "\"tcp\" needs ports in sip_ports.tcp"));
	if (c->sip.ws && !c->sip.ws_ports.n)
		return AT_KEY(p, "transports", perr(p, "\"ws\" needs ports in sip_ports.ws"));
	/* One meaning per TCP port: SIP, WebSocket, TLS or WSS. */
	for (unsigned int i = 0; i < 3; i++)
		for (unsigned int k = 0; k < tcp_like[i]->n; k++) {
			uint16_t port = tcp_like[i]->port[k];

			if (sipd_port_list_has(&c->sip.tcp_ports, port))
				return AT_KEY(
					p, "sip_ports",
					perr(p, "port %u is both tcp and %s", port, names[i]));
			for (unsigned int j = i + 1; j < 3; j++)
				if (sipd_port_list_has(tcp_like[j], port))
					return AT_KEY(p, "sip_ports",
						      perr(p, "port %u is both %s and %s", port,
							   names[i], names[j]));
		}
	return 0;
}

static int parse_top(struct pctx *p, struct json_object *o, struct sipd_config *c)
{
	static const char *const keys[] = {
		"pin_path", "queue",	  "networks",	    "limits",
		"timeouts", "filters",	  "default_action", "whitelist",
		"events",   "guard",	  "metrics",	    "security",
		"media",    "transports", "sip_ports",	    "uninspectable",
		"tcp",	    "control",	  "cluster",	    NULL};

	return walk_object(p, o, keys, top_key, c) ?: check_sip(p, c);
}

static void free_globs(struct sipd_globs *g)
{
	unsigned int i;

	for (i = 0; i < g->n; i++)
		free(g->v[i]);
	free(g->v);
}

static void free_match(struct sipd_match *m)
{
	free(m->source);
	free_globs(&m->content_type);
	free_globs(&m->from_user);
	free_globs(&m->from_domain);
	free_globs(&m->to_user);
	free_globs(&m->to_domain);
	free_globs(&m->user_agent);
	free_globs(&m->header);
}

void sipd_config_free(struct sipd_config *c)
{
	unsigned int i;

	if (!c)
		return;
	free(c->inside);
	free(c->peers);
	free(c->security.inside_ifs);
	free(c->control.controllers);
	for (i = 0; i < c->n_rules; i++)
		free_match(&c->rules[i].match);
	free(c->rules);
	for (i = 0; i < c->n_whitelist; i++)
		free_globs(&c->whitelist[i].allow_from);
	free(c->whitelist);
	free(c->guard.trusted);
	free_globs(&c->guard.scanner_ua);
	free(c->json_text);
	free(c);
}

/* Line and column of byte offset off in s, for JSON syntax errors. */
static void line_col(const char *s, size_t off, int *line, int *col)
{
	size_t i;

	*line = 1;
	*col = 1;
	for (i = 0; i < off && s[i]; i++) {
		if (s[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

int sipd_config_parse(const char *json, const char *origin, struct sipd_config **out, char *err,
		      size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *root;
	struct sipd_config *c;
	struct pctx p = {.err = err, .errlen = errlen};
	size_t len = strlen(json);
	int line, col, ret;

	*out = NULL;
	if (!origin)
		origin = "<string>";
	tok = json_tokener_new();
	if (!tok) {
		snprintf(err, errlen, "%s: out of memory", origin);
		return -ENOMEM;
	}
	/* Strict JSON: no trailing commas, no single quotes. */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, json, (int)len);
	if (!root || json_tokener_get_parse_end(tok) < len) {
		enum json_tokener_error je = json_tokener_get_error(tok);
		size_t at = json_tokener_get_parse_end(tok);

		/* Trailing non-space text after the document is an error too. */
		while (root && at < len && strchr(" \t\r\n", json[at]))
			at++;
		if (!root || at < len) {
			line_col(json, at, &line, &col);
			snprintf(err, errlen, "%s: line %d column %d: %s", origin, line, col,
				 root			       ? "text after the JSON document"
				 : je == json_tokener_continue ? "unexpected end of input"
							       : json_tokener_error_desc(je));
			json_object_put(root);
			json_tokener_free(tok);
			return -EINVAL;
		}
	}
	json_tokener_free(tok);

	c = calloc(1, sizeof(*c));
	if (!c) {
		json_object_put(root);
		snprintf(err, errlen, "%s: out of memory", origin);
		return -ENOMEM;
	}
	set_defaults(c);
	if (set_guard_defaults(&c->guard)) {
		json_object_put(root);
		sipd_config_free(c);
		snprintf(err, errlen, "%s: out of memory", origin);
		return -ENOMEM;
	}
	snprintf(c->origin, sizeof(c->origin), "%s", origin);
	ret = parse_top(&p, root, c);
	json_object_put(root);
	if (!ret) {
		c->json_text = strdup(json);
		if (!c->json_text) {
			snprintf(err, errlen, "%s: out of memory", origin);
			ret = -ENOMEM;
		}
	} else {
		/* Prefix the origin: "FILE: json.path: what". */
		char tmp[512];

		snprintf(tmp, sizeof(tmp), "%s: %s", origin, err);
		snprintf(err, errlen, "%s", tmp);
	}
	if (ret) {
		sipd_config_free(c);
		return ret;
	}
	*out = c;
	return 0;
}

int sipd_config_load(const char *path, struct sipd_config **out, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0, cap = 0, n;
	FILE *f;
	int ret;

	*out = NULL;
	f = fopen(path, "r");
	if (!f) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	for (;;) {
		if (len + 4096 + 1 > cap) {
			char *nb;

			cap = cap ? cap * 2 : 8192;
			if (cap > (16u << 20)) {
				snprintf(err, errlen, "%s: larger than 16 MiB", path);
				ret = -EFBIG;
				goto out;
			}
			nb = realloc(buf, cap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				ret = -ENOMEM;
				goto out;
			}
			buf = nb;
		}
		n = fread(buf + len, 1, 4096, f);
		len += n;
		if (n < 4096)
			break;
	}
	if (ferror(f)) {
		ret = -EIO;
		snprintf(err, errlen, "%s: read error", path);
		goto out;
	}
	buf[len] = '\0';
	if (strlen(buf) != len) {
		ret = -EINVAL;
		snprintf(err, errlen, "%s: contains a NUL byte", path);
		goto out;
	}
	ret = sipd_config_parse(buf, path, out, err, errlen);
out:
	free(buf);
	fclose(f);
	return ret;
}

int sipd_config_default(struct sipd_config **out)
{
	char err[256];

	return sipd_config_parse("{}", "<defaults>", out, err, sizeof(err));
}

struct sipd_config *sipd_config_dup(const struct sipd_config *c)
{
	struct sipd_config *d;
	char err[512];

	if (!c || !c->json_text)
		return NULL;
	if (sipd_config_parse(c->json_text, c->origin, &d, err, sizeof(err)))
		return NULL;
	return d;
}
