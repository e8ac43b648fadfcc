// SPDX-License-Identifier: GPL-2.0-only
/*
 * Strict bencode (see bencode.h). The decoder recurses once per nesting
 * level and stops at SIPD_BENC_MAX_DEPTH, so its stack use is bounded; nodes
 * come from the pool in struct sipd_benc in pre-order.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sipd/bencode.h"

struct dec {
	struct sipd_benc *b;
	const uint8_t *in;
	size_t len, pos;
};

__attribute__((format(printf, 3, 4))) static void fail(struct dec *d, size_t off, const char *fmt,
						       ...)
{
	int n;
	va_list ap;

	d->b->err_off = off;
	n = snprintf(d->b->err, sizeof(d->b->err), "offset %zu: ", off);
	if (n < 0 || (size_t)n >= sizeof(d->b->err))
		return;
	va_start(ap, fmt);
	vsnprintf(d->b->err + n, sizeof(d->b->err) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* A byte for a message: 'x' when printable, else \xNN. */
static const char *show(uint8_t c, char buf[8])
{
	if (c >= 0x20 && c < 0x7f && c != '\'')
		snprintf(buf, 8, "'%c'", c);
	else
		snprintf(buf, 8, "\\x%02x", c);
	return buf;
}

static int is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static int parse_int(struct dec *d, struct sipd_benc_node *n)
{
	size_t start = d->pos, p = d->pos + 1, digits;
	int neg = 0;
	uint64_t mag = 0, lim;
	char c[8];

	if (p < d->len && d->in[p] == '-') {
		neg = 1;
		p++;
	}
	lim = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	digits = p;
	while (p < d->len && is_digit(d->in[p])) {
		unsigned int v = d->in[p] - '0';

		if (mag > (lim - v) / 10) {
			fail(d, start, "integer out of the 64-bit range");
			return -1;
		}
		mag = mag * 10 + v;
		p++;
	}
	if (p == d->len) {
		fail(d, start, "integer runs past the end of the input");
		return -1;
	}
	if (p == digits) {
		fail(d, start, "integer without digits (got %s)", show(d->in[p], c));
		return -1;
	}
	if (d->in[p] != 'e') {
		fail(d, p, "integer not terminated by 'e' (got %s)", show(d->in[p], c));
		return -1;
	}
	if (d->in[digits] == '0' && (neg || p - digits > 1)) {
		fail(d, start, neg ? "integer \"-0\"" : "integer with a leading zero");
		return -1;
	}
	n->type = SIPD_BENC_INT;
	n->i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	d->pos = p + 1;
	return 0;
}

/* A string at d->pos: its bytes in *s, *slen. */
static int parse_str(struct dec *d, const uint8_t **s, uint32_t *slen)
{
	size_t start = d->pos, p = d->pos, left;
	uint64_t v = 0;
	char c[8];

	while (p < d->len && is_digit(d->in[p])) {
		if (v <= SIPD_BENC_MAX_INPUT)
			v = v * 10 + (uint64_t)(d->in[p] - '0');
		p++;
	}
	if (p == d->len) {
		fail(d, start, "string length runs past the end of the input");
		return -1;
	}
	if (d->in[p] != ':') {
		fail(d, p, "string length not followed by ':' (got %s)", show(d->in[p], c));
		return -1;
	}
	if (d->in[start] == '0' && p - start > 1) {
		fail(d, start, "string length with a leading zero");
		return -1;
	}
	left = d->len - p - 1;
	if (v > left) {
		if (p - start > 20)
			fail(d, start, "string length of %zu digits past the end of the input",
			     p - start);
		else
			fail(d, start,
			     "string length %.*s past the end of the input (%zu bytes left)",
			     (int)(p - start), (const char *)d->in + start, left);
		return -1;
	}
	*s = d->in + p + 1;
	*slen = (uint32_t)v;
	d->pos = p + 1 + v;
	return 0;
}

static struct sipd_benc_node *parse_value(struct dec *d, unsigned int depth);

static int parse_members(struct dec *d, struct sipd_benc_node *n, unsigned int depth)
{
	size_t start = d->pos;
	struct sipd_benc_node *last = NULL;
	int dict = d->in[d->pos] == 'd';
	char c[8];

	d->pos++;
	for (;;) {
		const uint8_t *key = NULL;
		uint32_t klen = 0;
		size_t koff = d->pos;
		struct sipd_benc_node *m;

		if (d->pos == d->len) {
			fail(d, start, "%s not terminated before the end of the input",
			     dict ? "dictionary" : "list");
			return -1;
		}
		if (d->in[d->pos] == 'e') {
			d->pos++;
			return 0;
		}
		if (dict) {
			if (!is_digit(d->in[d->pos])) {
				fail(d, d->pos, "dictionary key must be a byte string (got %s)",
				     show(d->in[d->pos], c));
				return -1;
			}
			if (parse_str(d, &key, &klen))
				return -1;
			for (m = n->first; m; m = m->next)
				if (m->klen == klen && !memcmp(m->key, key, klen)) {
					fail(d, koff, "duplicate dictionary key \"%.*s\"",
					     klen > 40 ? 40 : (int)klen, (const char *)key);
					return -1;
				}
			if (d->pos == d->len) {
				fail(d, koff, "dictionary key without a value");
				return -1;
			}
		}
		m = parse_value(d, depth + 1);
		if (!m)
			return -1;
		m->key = key;
		m->klen = klen;
		if (last)
			last->next = m;
		else
			n->first = m;
		last = m;
		n->len++;
	}
}

static struct sipd_benc_node *parse_value(struct dec *d, unsigned int depth)
{
	struct sipd_benc_node *n;
	uint8_t c = d->in[d->pos];
	char cs[8];

	if (depth > SIPD_BENC_MAX_DEPTH) {
		fail(d, d->pos, "nesting deeper than %d levels", SIPD_BENC_MAX_DEPTH);
		return NULL;
	}
	if (d->b->n == SIPD_BENC_MAX_NODES) {
		fail(d, d->pos, "more than %d values", SIPD_BENC_MAX_NODES);
		return NULL;
	}
	n = &d->b->node[d->b->n++];
	memset(n, 0, sizeof(*n));
	n->off = (uint32_t)d->pos;
	if (c == 'i') {
		if (parse_int(d, n))
			return NULL;
	} else if (is_digit(c)) {
		n->type = SIPD_BENC_STR;
		if (parse_str(d, &n->s, &n->len))
			return NULL;
	} else if (c == 'l' || c == 'd') {
		n->type = c == 'l' ? SIPD_BENC_LIST : SIPD_BENC_DICT;
		if (parse_members(d, n, depth))
			return NULL;
	} else {
		fail(d, d->pos, "unexpected byte %s (want a value: i, l, d or a digit)",
		     show(c, cs));
		return NULL;
	}
	return n;
}

const struct sipd_benc_node *sipd_benc_decode(struct sipd_benc *b, const void *in, size_t len)
{
	struct dec d = {.b = b, .in = in, .len = len};
	const struct sipd_benc_node *root;

	b->n = 0;
	b->err[0] = '\0';
	b->err_off = 0;
	if (!in || !len) {
		fail(&d, 0, "empty input");
		return NULL;
	}
	if (len > SIPD_BENC_MAX_INPUT) {
		fail(&d, 0, "input of %zu bytes, more than %d", len, SIPD_BENC_MAX_INPUT);
		return NULL;
	}
	root = parse_value(&d, 1);
	if (!root)
		return NULL;
	if (d.pos != len) {
		fail(&d, d.pos, "%zu trailing bytes after the value", len - d.pos);
		return NULL;
	}
	return root;
}

const char *sipd_benc_type_name(enum sipd_benc_type t)
{
	switch (t) {
	case SIPD_BENC_INT:
		return "integer";
	case SIPD_BENC_STR:
		return "string";
	case SIPD_BENC_LIST:
		return "list";
	case SIPD_BENC_DICT:
		return "dictionary";
	}
	return "?";
}

const struct sipd_benc_node *sipd_benc_dict_getn(const struct sipd_benc_node *d, const void *key,
						 size_t klen)
{
	const struct sipd_benc_node *m;

	if (!d || d->type != SIPD_BENC_DICT)
		return NULL;
	for (m = d->first; m; m = m->next)
		if (m->klen == klen && !memcmp(m->key, key, klen))
			return m;
	return NULL;
}

const struct sipd_benc_node *sipd_benc_dict_get(const struct sipd_benc_node *d, const char *key)
{
	return sipd_benc_dict_getn(d, key, strlen(key));
}

const uint8_t *sipd_benc_str(const struct sipd_benc_node *n, size_t *len)
{
	if (!n || n->type != SIPD_BENC_STR)
		return NULL;
	if (len)
		*len = n->len;
	return n->s;
}

int sipd_benc_str_eq(const struct sipd_benc_node *n, const char *s)
{
	size_t l = strlen(s);

	return n && n->type == SIPD_BENC_STR && n->len == l && !memcmp(n->s, s, l);
}

void sipd_benc_out_init(struct sipd_benc_out *o, void *buf, size_t cap)
{
	o->p = buf;
	o->cap = cap;
	o->len = 0;
	o->overflow = 0;
}

void sipd_benc_put_raw(struct sipd_benc_out *o, const void *p, size_t n)
{
	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return;
	}
	if (n)
		memcpy(o->p + o->len, p, n);
	o->len += n;
}

void sipd_benc_put_int(struct sipd_benc_out *o, int64_t v)
{
	char t[24];
	int n = snprintf(t, sizeof(t), "i%" PRId64 "e", v);

	sipd_benc_put_raw(o, t, (size_t)n);
}

void sipd_benc_put_str(struct sipd_benc_out *o, const void *p, size_t n)
{
	char t[24];
	int h = snprintf(t, sizeof(t), "%zu:", n);

	sipd_benc_put_raw(o, t, (size_t)h);
	sipd_benc_put_raw(o, p, n);
}

void sipd_benc_put_cstr(struct sipd_benc_out *o, const char *s)
{
	sipd_benc_put_str(o, s, strlen(s));
}

void sipd_benc_put_list(struct sipd_benc_out *o)
{
	sipd_benc_put_raw(o, "l", 1);
}

void sipd_benc_put_dict(struct sipd_benc_out *o)
{
	sipd_benc_put_raw(o, "d", 1);
}

void sipd_benc_put_end(struct sipd_benc_out *o)
{
	sipd_benc_put_raw(o, "e", 1);
}
