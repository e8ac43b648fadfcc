// SPDX-License-Identifier: GPL-2.0-only
/*
 * Strict SIP grammar checks (RFC 3261 section 25, RFC 5118) on the raw
 * datagram. libosip2 is liberal (it accepts half of the invalid RFC 4475
 * messages) and loses what it does not keep (a second CSeq, spaces in <>), so
 * the checks the firewall relies on are made here, on bounded (ptr, len)
 * views, before libosip2 is given the message.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "validate.h"

static int fail(char *det, int reason, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(char *det, int reason, const char *fmt, ...)
{
	va_list ap;

	if (det) {
		va_start(ap, fmt);
		vsnprintf(det, SIPV_DET, fmt, ap);
		va_end(ap);
	}
	return -reason;
}

/* Printable excerpt of untrusted text for a detail string. */
static const char *excerpt(const char *s, size_t n, char *buf, size_t blen)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 5 < blen; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
			buf[o++] = c;
		else
			o += snprintf(buf + o, blen - o, "\\x%02x", c);
	}
	if (i < n && o + 4 <= blen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = 0;
	return buf;
}

#define EX(s, n) excerpt((s), (n), (char[48]){0}, 48)

/* RFC 3261 character classes, one table lookup each (this runs per octet). */
enum {
	C_ALNUM = 1 << 0,
	C_TOKEN = 1 << 1,  /* alphanum - . ! % * _ + ` ' ~ */
	C_MARK = 1 << 2,   /* - _ . ! ~ * ' ( ) */
	C_CALLID = 1 << 3, /* word: token chars + ( ) < > : \ / " [ ] ? { } */
	C_HEX = 1 << 4,
	C_DIGIT = 1 << 5,
};

#define ALNUM_RANGES(v) ['a' ... 'z'] = (v), ['A' ... 'Z'] = (v), ['0' ... '9'] = (v) | C_DIGIT

static const uint8_t cls[256] = {
	ALNUM_RANGES(C_ALNUM | C_TOKEN | C_CALLID),
	['-'] = C_TOKEN | C_MARK | C_CALLID,
	['.'] = C_TOKEN | C_MARK | C_CALLID,
	['!'] = C_TOKEN | C_MARK | C_CALLID,
	['%'] = C_TOKEN | C_CALLID,
	['*'] = C_TOKEN | C_MARK | C_CALLID,
	['_'] = C_TOKEN | C_MARK | C_CALLID,
	['+'] = C_TOKEN | C_CALLID,
	['`'] = C_TOKEN | C_CALLID,
	['\''] = C_TOKEN | C_MARK | C_CALLID,
	['~'] = C_TOKEN | C_MARK | C_CALLID,
	['('] = C_MARK | C_CALLID,
	[')'] = C_MARK | C_CALLID,
	['<'] = C_CALLID,
	['>'] = C_CALLID,
	[':'] = C_CALLID,
	['\\'] = C_CALLID,
	['/'] = C_CALLID,
	['"'] = C_CALLID,
	['['] = C_CALLID,
	[']'] = C_CALLID,
	['?'] = C_CALLID,
	['{'] = C_CALLID,
	['}'] = C_CALLID,
};

/* The punctuation each part of a URI allows besides its classes above. */
enum {
	U_ABS = 1 << 0,	  /* absoluteURI: - . _ ~ : / ? # [ ] @ ! $ & ' ( ) * + , ; = */
	U_USER = 1 << 1,  /* user: & = + $ , ; ? / */
	U_PASS = 1 << 2,  /* password: & = + $ , */
	U_PARAM = 1 << 3, /* param-unreserved: [ ] / : & + $ */
	U_HNV = 1 << 4,	  /* hnv-unreserved: [ ] / ? : + $ & = */
};

static const uint8_t uri_punct[256] = {
	['-'] = U_ABS,
	['.'] = U_ABS,
	['_'] = U_ABS,
	['~'] = U_ABS,
	[':'] = U_ABS | U_PARAM | U_HNV,
	['/'] = U_ABS | U_USER | U_PARAM | U_HNV,
	['?'] = U_ABS | U_USER | U_HNV,
	['#'] = U_ABS,
	['['] = U_ABS | U_PARAM | U_HNV,
	[']'] = U_ABS | U_PARAM | U_HNV,
	['@'] = U_ABS,
	['!'] = U_ABS,
	['$'] = U_ABS | U_USER | U_PASS | U_PARAM | U_HNV,
	['&'] = U_ABS | U_USER | U_PASS | U_PARAM | U_HNV,
	['\''] = U_ABS,
	['('] = U_ABS,
	[')'] = U_ABS,
	['*'] = U_ABS,
	['+'] = U_ABS | U_USER | U_PASS | U_PARAM | U_HNV,
	[','] = U_ABS | U_USER | U_PASS,
	[';'] = U_ABS | U_USER,
	['='] = U_ABS | U_USER | U_PASS | U_HNV,
};

static inline int is_alnum(unsigned char c)
{
	return cls[c] & C_ALNUM;
}

static inline int is_digit(unsigned char c)
{
	return cls[c] & C_DIGIT;
}

static inline int is_hex(unsigned char c)
{
	return (cls[c] & C_DIGIT) || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

static inline int is_token(unsigned char c)
{
	return cls[c] & C_TOKEN;
}

static inline int is_unreserved(unsigned char c)
{
	return cls[c] & (C_ALNUM | C_MARK);
}

static inline int is_wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

static inline int is_callid(unsigned char c)
{
	return cls[c] & C_CALLID;
}

static void skip_lws(const char *s, size_t n, size_t *i)
{
	while (*i < n && is_wsp(s[*i]))
		(*i)++;
}

static int ieq(const char *s, size_t n, const char *lit)
{
	return strlen(lit) == n && strncasecmp(s, lit, n) == 0;
}

/* --- framing ----------------------------------------------------------- */

/*
 * Header names sipd knows, with their lengths so a name as written is
 * compared only with the entries of its length (this runs per header).
 */
#define HDR(n, c, id)                   \
	{                               \
		n, sizeof(n) - 1, c, id \
	}
static const struct {
	const char *name;
	uint8_t len;
	char compact; /* 0: none */
	uint8_t id;
} hdr_table[] = {
	HDR("via", 'v', SIP_H_VIA),
	HDR("from", 'f', SIP_H_FROM),
	HDR("to", 't', SIP_H_TO),
	HDR("call-id", 'i', SIP_H_CALL_ID),
	HDR("cseq", 0, SIP_H_CSEQ),
	HDR("max-forwards", 0, SIP_H_MAX_FORWARDS),
	HDR("content-length", 'l', SIP_H_CONTENT_LENGTH),
	HDR("content-type", 'c', SIP_H_CONTENT_TYPE),
	HDR("contact", 'm', SIP_H_CONTACT),
	HDR("route", 0, SIP_H_ROUTE),
	HDR("record-route", 0, SIP_H_RECORD_ROUTE),
	HDR("date", 0, SIP_H_DATE),
	HDR("user-agent", 0, SIP_H_USER_AGENT),
	/* compact forms of headers sipd does not check (RFC 3261 7.3.3 and
	 * the IANA SIP parameters registry) */
	HDR("subject", 's', SIP_H_OTHER),
	HDR("supported", 'k', SIP_H_OTHER),
	HDR("content-encoding", 'e', SIP_H_OTHER),
	HDR("event", 'o', SIP_H_OTHER),
	HDR("refer-to", 'r', SIP_H_OTHER),
	HDR("referred-by", 'b', SIP_H_OTHER),
	HDR("allow-events", 'u', SIP_H_OTHER),
	HDR("session-expires", 'x', SIP_H_OTHER),
	HDR("identity", 'y', SIP_H_OTHER),
	HDR("identity-info", 'n', SIP_H_OTHER),
	HDR("accept-contact", 'a', SIP_H_OTHER),
	HDR("reject-contact", 'j', SIP_H_OTHER),
	HDR("request-disposition", 'd', SIP_H_OTHER),
};
#undef HDR

const char *sipv_header_long_name(const char *name, size_t len, uint8_t *id)
{
	unsigned char c0 = len ? name[0] | 0x20 : 0;
	size_t i;

	for (i = 0; len && i < sizeof(hdr_table) / sizeof(hdr_table[0]); i++) {
		if (len == 1 ? hdr_table[i].compact && c0 == (unsigned char)hdr_table[i].compact
			     : len == hdr_table[i].len &&
				       c0 == (unsigned char)hdr_table[i].name[0] &&
				       strncasecmp(name, hdr_table[i].name, len) == 0) {
			if (id)
				*id = hdr_table[i].id;
			return hdr_table[i].name;
		}
	}
	if (id)
		*id = SIP_H_OTHER;
	return NULL;
}

static void hdr_finish(struct sip_frame *f)
{
	struct sip_hdr *h;

	if (!f->n_hdr)
		return;
	h = &f->hdr[f->n_hdr - 1];
	while (h->val_len && is_wsp(h->val[h->val_len - 1]))
		h->val_len--;
}

int sipv_frame(const char *buf, size_t len, const struct sip_limits *lim, struct sip_frame *f,
	       char *det)
{
	size_t max_hdr = lim->max_headers, p = 0, line_no = 0, hdr_end = 0;
	size_t avail, rest, i;
	int got_end = 0;

	if (max_hdr > SIP_MAX_HEADERS)
		max_hdr = SIP_MAX_HEADERS;
	f->n_hdr = 0;
	f->scratch_len = 0;
	f->hdr_nul = 0;
	f->start = NULL;
	f->start_len = 0;
	for (i = 0; i < SIP_H__N; i++) {
		f->first[i] = -1;
		f->count[i] = 0;
	}
	if (len > lim->max_msg_len || len > SIP_MAX_MSG_LEN)
		return fail(det, SW_SIP_R_TOO_LARGE, "message is %zu octets, limit %u", len,
			    lim->max_msg_len < SIP_MAX_MSG_LEN ? lim->max_msg_len
							       : SIP_MAX_MSG_LEN);
	/* RFC 3261 7.5: CRLFs before the start line are ignored. */
	while (p < len && (buf[p] == '\r' || buf[p] == '\n'))
		p++;
	if (p == len)
		return fail(det, SW_SIP_R_PARSE_ERROR, "empty message");
	f->msg = buf + p;

	while (p < len) {
		const char *line = buf + p, *lf, *colon;
		size_t ll, full;

		lf = memchr(line, '\n', len - p);
		full = lf ? (size_t)(lf - line) + 1 : len - p;
		ll = lf ? (size_t)(lf - line) : len - p;
		if (ll && line[ll - 1] == '\r')
			ll--;
		else if (lf && lim->strict)
			/* RFC 3261 7: CRLF ends every line of the header
			 * section; a bare LF is read differently by different
			 * parsers (libosip2 takes it as part of the line). */
			return fail(det, line_no ? SW_SIP_R_BAD_HEADER : SW_SIP_R_BAD_START_LINE,
				    "line %zu ends in LF without CR", line_no + 1);
		line_no++;
		if (ll > lim->max_line_len)
			return fail(det, SW_SIP_R_LINE_TOO_LONG, "line %zu is %zu octets, limit %u",
				    line_no, ll, lim->max_line_len);
		if (!lf)
			return fail(det, SW_SIP_R_PARSE_ERROR, "no empty line after the headers");
		if (memchr(line, '\r', ll))
			return fail(det,
				    line_no == 1 ? SW_SIP_R_BAD_START_LINE : SW_SIP_R_BAD_HEADER,
				    "bare CR in line %zu", line_no);
		if (memchr(line, 0, ll))
			f->hdr_nul = 1;
		p += full;
		if (line_no == 1) {
			if (is_wsp(line[0]))
				return fail(det, SW_SIP_R_BAD_START_LINE,
					    "start line begins with white space");
			f->start = line;
			f->start_len = ll;
			continue;
		}
		if (ll == 0) {
			hdr_finish(f);
			hdr_end = p;
			got_end = 1;
			break;
		}
		if (is_wsp(line[0])) {
			/* folded continuation: CRLF 1*WSP becomes one SP */
			size_t j = 0;

			if (!f->n_hdr)
				return fail(det, SW_SIP_R_BAD_HEADER,
					    "continuation line before any header");
			while (j < ll && is_wsp(line[j]))
				j++;
			f->scratch[f->scratch_len++] = ' ';
			memcpy(f->scratch + f->scratch_len, line + j, ll - j);
			f->scratch_len += ll - j;
			f->hdr[f->n_hdr - 1].val_len += 1 + ll - j;
			continue;
		}
		hdr_finish(f);
		if (f->n_hdr >= max_hdr)
			return fail(det, SW_SIP_R_TOO_MANY_HEADERS, "more than %zu header fields",
				    max_hdr);
		colon = memchr(line, ':', ll);
		if (!colon)
			return fail(det, SW_SIP_R_BAD_HEADER, "line %zu has no ':' (%s)", line_no,
				    EX(line, ll));
		{
			struct sip_hdr *h = &f->hdr[f->n_hdr];
			size_t nl = colon - line, j;

			while (nl && is_wsp(line[nl - 1]))
				nl--;
			if (!nl)
				return fail(det, SW_SIP_R_BAD_HEADER,
					    "line %zu has an empty header name", line_no);
			for (j = 0; j < nl; j++)
				if (!is_token(line[j]))
					return fail(det, SW_SIP_R_BAD_HEADER,
						    "header name '%s' is not a token",
						    EX(line, nl));
			h->raw_name = line;
			h->raw_name_len = nl;
			h->name = sipv_header_long_name(line, nl, &h->id);
			j = colon - line + 1;
			while (j < ll && is_wsp(line[j]))
				j++;
			h->val = f->scratch + f->scratch_len;
			h->val_len = ll - j;
			memcpy(f->scratch + f->scratch_len, line + j, ll - j);
			f->scratch_len += ll - j;
			if (f->first[h->id] < 0)
				f->first[h->id] = f->n_hdr;
			f->count[h->id]++;
			f->n_hdr++;
		}
	}
	if (!got_end)
		return fail(det, SW_SIP_R_PARSE_ERROR, "no empty line after the headers");

	avail = len - hdr_end;
	f->body = buf + hdr_end;
	if (f->count[SIP_H_CONTENT_LENGTH] > 1)
		return fail(det, SW_SIP_R_BAD_CONTENT_LENGTH, "%u Content-Length headers",
			    f->count[SIP_H_CONTENT_LENGTH]);
	if (f->count[SIP_H_CONTENT_LENGTH] == 1) {
		const struct sip_hdr *h = &f->hdr[f->first[SIP_H_CONTENT_LENGTH]];
		unsigned long long cl = 0;

		if (!h->val_len)
			return fail(det, SW_SIP_R_BAD_CONTENT_LENGTH, "empty Content-Length");
		for (i = 0; i < h->val_len; i++) {
			if (!is_digit(h->val[i]))
				return fail(det, SW_SIP_R_BAD_CONTENT_LENGTH,
					    "Content-Length '%s' is not a number",
					    EX(h->val, h->val_len));
			if (cl <= SIP_MAX_MSG_LEN)
				cl = cl * 10 + (h->val[i] - '0');
		}
		if (cl > avail)
			return fail(det, SW_SIP_R_BODY_TRUNCATED,
				    "Content-Length %s but %zu body octets", EX(h->val, h->val_len),
				    avail);
		f->body_len = cl;
	} else {
		/* RFC 3261 18.3: over UDP the body runs to the end of the datagram */
		f->body_len = avail;
	}
	f->consumed = hdr_end + f->body_len;
	f->msg_len = f->consumed - (f->msg - buf);
	rest = len - f->consumed;
	f->trailing = 0;
	for (i = f->consumed; i < len; i++) {
		if (!strchr("\r\n \t", buf[i]) || !buf[i]) {
			f->trailing = rest;
			break;
		}
	}
	return 0;
}

/* --- start line -------------------------------------------------------- */

static int check_version(const char *s, size_t n, char *det)
{
	if (n == 7 && strncasecmp(s, "SIP/2.0", 7) == 0)
		return 0;
	return fail(det, SW_SIP_R_BAD_VERSION, "SIP version '%s' is not SIP/2.0", EX(s, n));
}

int sipv_start_line(const char *s, size_t n, int strict, struct sip_start *st, char *det)
{
	size_t i, e[4], el[4], ne = 0, empty = 0;

	memset(st, 0, sizeof(*st));
	if (n >= 4 && strncasecmp(s, "SIP/", 4) == 0) {
		const char *sp = memchr(s, ' ', n);
		size_t j, d;
		long code = 0;
		int r;

		if (!sp)
			return fail(det, SW_SIP_R_BAD_START_LINE, "status line has no status code");
		r = check_version(s, sp - s, det);
		if (r)
			return r;
		j = sp - s + 1;
		for (d = 0; j + d < n && is_digit(s[j + d]); d++)
			if (code < 100000)
				code = code * 10 + (s[j + d] - '0');
		if (d != 3 || code < 100 || code > 699)
			return fail(det, SW_SIP_R_BAD_STATUS,
				    "status code '%s' is not 3 digits in 100..699",
				    EX(s + j, d ? d : n - j));
		j += 3;
		if (j == n) {
			if (strict)
				return fail(det, SW_SIP_R_BAD_START_LINE,
					    "no SP after the status code");
		} else if (s[j] != ' ') {
			return fail(det, SW_SIP_R_BAD_STATUS, "status code followed by '%s'",
				    EX(s + j, n - j));
		}
		for (; j < n; j++) {
			unsigned char c = s[j];

			if ((c < 0x20 && c != '\t') || c == 0x7f)
				return fail(det, SW_SIP_R_BAD_START_LINE,
					    "control octet 0x%02x in reason phrase", c);
		}
		st->status = (int)code;
		return 0;
	}

	/* Request-Line = Method SP Request-URI SP SIP-Version */
	i = 0;
	while (i < n) {
		size_t b = i;

		while (i < n && s[i] != ' ')
			i++;
		if (i == b) {
			empty++;
		} else {
			if (ne < 4) {
				e[ne] = b;
				el[ne] = i - b;
			}
			ne++;
		}
		if (i < n) {
			i++;
			if (i == n)
				empty++; /* trailing SP */
		}
	}
	if (empty && strict)
		return fail(det, SW_SIP_R_BAD_START_LINE,
			    "request line has extra SP (leading, doubled or trailing)");
	if (ne != 3)
		return fail(det, SW_SIP_R_BAD_START_LINE,
			    "request line has %zu elements, not 3 (%s)", ne, EX(s, n));
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (c < 0x21 && c != ' ')
			return fail(det, SW_SIP_R_BAD_START_LINE,
				    "control octet 0x%02x in request line", c);
	}
	for (i = 0; i < el[0]; i++)
		if (!is_token(s[e[0] + i]))
			return fail(det, SW_SIP_R_BAD_START_LINE, "method '%s' is not a token",
				    EX(s + e[0], el[0]));
	{
		int r = check_version(s + e[2], el[2], det);

		if (r)
			return r;
	}
	st->is_request = 1;
	st->method = s + e[0];
	st->method_len = el[0];
	st->uri = s + e[1];
	st->uri_len = el[1];
	if (st->uri[0] == '<') {
		if (strict || st->uri_len < 2 || st->uri[st->uri_len - 1] != '>')
			return fail(det, SW_SIP_R_BAD_URI, "Request-URI enclosed in <>");
		st->uri++;
		st->uri_len -= 2;
	}
	return sipv_uri(st->uri, st->uri_len, strict ? SIPV_URI_NO_HEADERS : 0, NULL, det);
}

/* --- URIs -------------------------------------------------------------- */

/* '%' HEXDIG HEXDIG at s[*i]; advances. */
static int escaped(const char *s, size_t n, size_t *i)
{
	if (*i + 2 < n && is_hex(s[*i + 1]) && is_hex(s[*i + 2])) {
		*i += 3;
		return 1;
	}
	return 0;
}

/* IPv6reference body (between the brackets). RFC 5118 4.10: tolerate the
 * three-colon form the RFC 3261 ABNF bug allowed. */
static int ipv6_ok(const char *s, size_t n)
{
	char a[64], *t;
	unsigned char out[16];

	if (!n || n >= sizeof(a))
		return 0;
	memcpy(a, s, n);
	a[n] = 0;
	if (inet_pton(AF_INET6, a, out) == 1)
		return 1;
	t = strstr(a, ":::");
	if (t) {
		memmove(t + 2, t + 3, strlen(t + 3) + 1);
		return inet_pton(AF_INET6, a, out) == 1;
	}
	return 0;
}

/*
 * Dotted-quad digits and dots as inet_pton(AF_INET) takes them (four decimal
 * octets 0..255, no leading zeros, no empty octet), without the copy.
 */
static int ipv4_ok(const char *s, size_t n)
{
	unsigned int octets = 0, val = 0, digits = 0;
	size_t k;

	for (k = 0; k < n; k++) {
		if (is_digit(s[k])) {
			if (digits && !val)
				return 0;
			val = val * 10 + (s[k] - '0');
			if (val > 255)
				return 0;
			digits++;
		} else if (s[k] == '.' && digits) {
			if (++octets == 4)
				return 0;
			val = digits = 0;
		} else {
			return 0;
		}
	}
	return digits && octets == 3;
}

/*
 * host = hostname / IPv4address / IPv6reference at s[*i]; advances past it.
 * Sets h and hl to the host without brackets.
 */
static int parse_host(const char *s, size_t n, size_t *i, const char **h, size_t *hl)
{
	size_t b = *i, j;
	int all_num = 1, dots = 0;

	if (b < n && s[b] == '[') {
		const char *rb = memchr(s + b, ']', n - b);

		if (!rb || !ipv6_ok(s + b + 1, rb - s - b - 1))
			return -1;
		*h = s + b + 1;
		*hl = rb - s - b - 1;
		*i = rb - s + 1;
		return 0;
	}
	for (j = b; j < n && (is_alnum(s[j]) || s[j] == '-' || s[j] == '.'); j++) {
		if (!is_digit(s[j]) && s[j] != '.')
			all_num = 0;
		if (s[j] == '.')
			dots++;
	}
	if (j == b || s[b] == '.' || s[b] == '-' || s[j - 1] == '-')
		return -1;
	if (all_num) {
		if (j - b >= 16 || dots != 3 || !ipv4_ok(s + b, j - b))
			return -1;
	} else {
		size_t k;

		for (k = b + 1; k < j; k++)
			if (s[k] == '.' &&
			    (s[k - 1] == '.' || s[k - 1] == '-' || (k + 1 < j && s[k + 1] == '-')))
				return -1;
	}
	*h = s + b;
	*hl = j - b;
	*i = j;
	return 0;
}

static int parse_port(const char *s, size_t n, size_t *i, uint16_t *port)
{
	size_t b = *i;
	unsigned long v = 0;

	while (*i < n && is_digit(s[*i])) {
		v = v * 10 + (s[*i] - '0');
		if (v > 65535)
			return -1;
		(*i)++;
	}
	if (*i == b)
		return -1;
	*port = (uint16_t)v;
	return 0;
}

int sipv_uri(const char *s, size_t n, unsigned int flags, struct sip_uri_view *u, char *det)
{
	struct sip_uri_view tmp;
	size_t i = 0, sl, at, j;
	const char *r;
	int sip;

	if (!u)
		u = &tmp;
	memset(u, 0, sizeof(*u));
	if (!n || !((s[0] | 0x20) >= 'a' && (s[0] | 0x20) <= 'z'))
		return fail(det, SW_SIP_R_BAD_URI, "URI '%s' has no scheme", EX(s, n));
	while (i < n && (is_alnum(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.'))
		i++;
	if (i == n || s[i] != ':')
		return fail(det, SW_SIP_R_BAD_URI, "URI '%s' has no scheme", EX(s, n));
	sl = i < sizeof(u->scheme) - 1 ? i : sizeof(u->scheme) - 1;
	for (j = 0; j < sl; j++)
		u->scheme[j] = tolower((unsigned char)s[j]);
	sip = ieq(s, i, "sip") || ieq(s, i, "sips");
	r = s + i + 1;
	n -= i + 1;
	if (!n)
		return fail(det, SW_SIP_R_BAD_URI, "URI '%s' is empty after the scheme",
			    EX(s, i + 1));
	if (!sip) {
		/* absoluteURI (RFC 3986 characters) or tel: */
		for (j = 0; j < n; j++) {
			unsigned char c = r[j];

			if (c == '%') {
				if (!escaped(r, n, &j))
					return fail(det, SW_SIP_R_BAD_URI,
						    "bad %% escape in URI '%s'", EX(s, i + 1 + n));
				j--;
				continue;
			}
			if (!is_alnum(c) && !(uri_punct[c] & U_ABS))
				return fail(det, SW_SIP_R_BAD_URI,
					    "octet 0x%02x not allowed in URI '%s'", c,
					    EX(s, i + 1 + n));
		}
		return 0;
	}

	/* SIP-URI = "sip:" [ userinfo ] hostport uri-parameters [ headers ] */
	for (at = 0; at < n && r[at] != '@'; at++)
		;
	j = 0;
	if (at < n) {
		int in_pass = 0;

		if (at == 0)
			return fail(det, SW_SIP_R_BAD_URI, "empty user part in '%s'",
				    EX(s, i + 1 + n));
		u->user = r;
		for (j = 0; j < at; j++) {
			unsigned char c = r[j];

			if (c == ':' && !in_pass) {
				in_pass = 1;
				u->user_len = j;
				continue;
			}
			if (c == '%') {
				if (!escaped(r, at, &j))
					return fail(det, SW_SIP_R_BAD_URI,
						    "bad %% escape in user part of '%s'",
						    EX(s, i + 1 + n));
				j--;
				continue;
			}
			if (is_unreserved(c) || (uri_punct[c] & (in_pass ? U_PASS : U_USER)))
				continue;
			return fail(det, SW_SIP_R_BAD_URI,
				    "octet 0x%02x not allowed in user part of '%s'", c,
				    EX(s, i + 1 + n));
		}
		if (!in_pass)
			u->user_len = at;
		if (!u->user_len)
			return fail(det, SW_SIP_R_BAD_URI, "empty user part in '%s'",
				    EX(s, i + 1 + n));
		j = at + 1;
	}
	if (parse_host(r, n, &j, &u->host, &u->host_len))
		return fail(det, SW_SIP_R_BAD_URI, "bad host in URI '%s'", EX(s, i + 1 + n));
	if (j < n && r[j] == ':') {
		j++;
		if (parse_port(r, n, &j, &u->port))
			return fail(det, SW_SIP_R_BAD_URI,
				    "port in URI '%s' is not a number 0..65535", EX(s, i + 1 + n));
	}
	while (j < n && r[j] == ';') {
		size_t b = ++j;
		int eq = 0;

		for (; j < n && r[j] != ';' && r[j] != '?'; j++) {
			unsigned char c = r[j];

			if (c == '=' && !eq && j > b) {
				eq = 1;
				if (j + 1 >= n || r[j + 1] == ';' || r[j + 1] == '?')
					return fail(det, SW_SIP_R_BAD_URI,
						    "empty parameter value in URI '%s'",
						    EX(s, i + 1 + n));
				continue;
			}
			if (c == '%') {
				if (!escaped(r, n, &j))
					return fail(det, SW_SIP_R_BAD_URI,
						    "bad %% escape in URI '%s'", EX(s, i + 1 + n));
				j--;
				continue;
			}
			if (!is_unreserved(c) && !(uri_punct[c] & U_PARAM))
				return fail(det, SW_SIP_R_BAD_URI,
					    "octet 0x%02x not allowed in parameters of '%s'", c,
					    EX(s, i + 1 + n));
		}
		if (j == b)
			return fail(det, SW_SIP_R_BAD_URI, "empty parameter in URI '%s'",
				    EX(s, i + 1 + n));
	}
	if (j < n && r[j] == '?') {
		if (flags & SIPV_URI_NO_HEADERS)
			return fail(det, SW_SIP_R_BAD_URI, "URI headers (?...) not allowed here");
		for (j++; j < n; j++) {
			unsigned char c = r[j];

			if (c == '%') {
				if (!escaped(r, n, &j))
					return fail(det, SW_SIP_R_BAD_URI,
						    "bad %% escape in URI '%s'", EX(s, i + 1 + n));
				j--;
				continue;
			}
			if (!is_unreserved(c) && !(uri_punct[c] & U_HNV))
				return fail(det, SW_SIP_R_BAD_URI,
					    "octet 0x%02x not allowed in headers of '%s'", c,
					    EX(s, i + 1 + n));
		}
	}
	if (j != n)
		return fail(det, SW_SIP_R_BAD_URI, "unexpected '%c' in URI '%s'", r[j],
			    EX(s, i + 1 + n));
	return 0;
}

/* --- name-addr / addr-spec --------------------------------------------- */

/* quoted-string at s[*i] == '"'; advances past the closing quote. */
static int quoted(const char *s, size_t n, size_t *i)
{
	size_t j = *i + 1;

	while (j < n) {
		unsigned char c = s[j];

		if (c == '"') {
			*i = j + 1;
			return 0;
		}
		if (c == '\\') {
			if (j + 1 >= n || s[j + 1] == '\r' || s[j + 1] == '\n' ||
			    (unsigned char)s[j + 1] > 0x7f)
				return -1;
			j += 2;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return -1;
		j++;
	}
	return -1;
}

/* gen-value = token / host / quoted-string at s[*i]. */
static int gen_value(const char *s, size_t n, size_t *i)
{
	size_t b = *i;

	if (b < n && s[b] == '"')
		return quoted(s, n, i);
	while (*i < n && (is_token(s[*i]) || s[*i] == ':' || s[*i] == '[' || s[*i] == ']'))
		(*i)++;
	return *i == b ? -1 : 0;
}

/*
 * *( SEMI generic-param ) after an address or a Via; stops at ',' or end.
 * tag/branch: when name matches, the value is returned there (token only);
 * it may be repeated only with the same value.
 */
static int params(const char *s, size_t n, size_t *i, const char *want, const char **val,
		  size_t *vlen, const char *what, int bad, char *det)
{
	for (;;) {
		size_t b, nb, ne;

		skip_lws(s, n, i);
		if (*i >= n || s[*i] == ',')
			return 0;
		if (s[*i] != ';')
			return fail(det, bad, "%s: unexpected '%s'", what, EX(s + *i, n - *i));
		(*i)++;
		skip_lws(s, n, i);
		nb = *i;
		while (*i < n && is_token(s[*i]))
			(*i)++;
		ne = *i;
		if (ne == nb)
			return fail(det, bad, "%s: empty parameter", what);
		skip_lws(s, n, i);
		if (*i < n && s[*i] == '=') {
			(*i)++;
			skip_lws(s, n, i);
			b = *i;
			if (gen_value(s, n, i))
				return fail(det, bad, "%s: bad value of parameter '%s'", what,
					    EX(s + nb, ne - nb));
			if (want && ieq(s + nb, ne - nb, want)) {
				size_t k;

				for (k = b; k < *i; k++)
					if (!is_token(s[k]))
						return fail(det, bad, "%s: %s is not a token", what,
							    want);
				/* RFC 3261 7.3.1 allows a parameter name once; a
				 * callee copying a tagged To and adding its tag
				 * again sends "tag=1;tag=1". The same octets again
				 * (tags and branches compare case-sensitively)
				 * name nothing new and every reader takes that
				 * value; a different one is ambiguous. */
				if (*val && (*vlen != *i - b || memcmp(*val, s + b, *vlen)))
					return fail(det, bad,
						    "%s: two %s parameters with different values",
						    what, want);
				if (!*val) {
					*val = s + b;
					*vlen = *i - b;
				}
			}
		} else if (want && ieq(s + nb, ne - nb, want)) {
			return fail(det, bad, "%s: %s without a value", what, want);
		}
	}
}

int sipv_name_addr(const char *s, size_t n, size_t *pos, int strict, int bad, const char *what,
		   struct sip_nameaddr *na, char *det)
{
	size_t i = *pos, j, ub, ue;
	int r;

	memset(na, 0, sizeof(*na));
	skip_lws(s, n, &i);
	if (i >= n)
		return fail(det, bad, "%s: empty", what);
	if (s[i] == '"') {
		if (quoted(s, n, &i))
			return fail(det, bad, "%s: unterminated quoted display name", what);
		skip_lws(s, n, &i);
		if (i >= n || s[i] != '<')
			return fail(det, bad, "%s: no <URI> after the display name", what);
	} else if (s[i] != '<') {
		/* display-name = *(token LWS), or an addr-spec */
		for (j = i; j < n && (is_token(s[j]) || is_wsp(s[j])); j++)
			;
		if (j < n && s[j] == '<') {
			i = j;
		} else {
			/* addr-spec: URI up to ';' ',' or LWS; RFC 3261 20.10:
			 * a URI with ',' '?' or ';' must be in <> */
			ub = i;
			while (i < n && s[i] != ';' && s[i] != ',' && !is_wsp(s[i]))
				i++;
			ue = i;
			if (strict && memchr(s + ub, '?', ue - ub))
				return fail(det, bad, "%s: URI with '?' must be enclosed in <>",
					    what);
			r = sipv_uri(s + ub, ue - ub, strict ? SIPV_URI_NO_HEADERS : 0, &na->uri,
				     det);
			if (r && memchr(s + ub, '<', n - ub))
				return fail(
					det, bad,
					"%s: display name with non-token characters is not quoted",
					what);
			if (r)
				return r;
			goto params;
		}
	}
	/* name-addr: LAQUOT addr-spec RAQUOT, no LWS inside the brackets */
	i++;
	ub = i;
	while (i < n && s[i] != '>')
		i++;
	if (i >= n)
		return fail(det, bad, "%s: '<' without '>'", what);
	ue = i++;
	if (ue > ub && (is_wsp(s[ub]) || is_wsp(s[ue - 1]))) {
		if (strict)
			return fail(det, bad, "%s: white space inside <>", what);
		while (ub < ue && is_wsp(s[ub]))
			ub++;
		while (ue > ub && is_wsp(s[ue - 1]))
			ue--;
	}
	r = sipv_uri(s + ub, ue - ub, 0, &na->uri, det);
	if (r)
		return r;
params:
	r = params(s, n, &i, "tag", &na->tag, &na->tag_len, what, bad, det);
	if (r)
		return r;
	*pos = i;
	return 0;
}

int sipv_addr_list(const char *s, size_t n, int strict, int star_ok, const char *what, char *det)
{
	struct sip_nameaddr na;
	size_t i = 0;
	int r;

	if (star_ok) {
		skip_lws(s, n, &i);
		if (i < n && s[i] == '*') {
			i++;
			skip_lws(s, n, &i);
			if (i == n)
				return 0;
			return fail(det, SW_SIP_R_BAD_HEADER, "%s: '*' followed by more", what);
		}
		i = 0;
	}
	for (;;) {
		r = sipv_name_addr(s, n, &i, strict, SW_SIP_R_BAD_HEADER, what, &na, det);
		if (r)
			return r;
		if (i >= n)
			return 0;
		i++; /* ',' */
	}
}

/* --- Via --------------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)tolower((unsigned char)s[i]);
		h *= 0x100000001b3ULL;
	}
	return h;
}

int sipv_via(const char *s, size_t n, struct sip_via_list *vl, char *det)
{
	size_t i = 0;

	for (;;) {
		size_t b, k, te, vs;
		const char *host, *br = NULL;
		size_t hl, brl = 0;
		uint16_t port = 0;
		int r;

		/* sent-protocol = name SLASH version SLASH transport; SLASH may
		 * carry LWS (RFC 4475 wsinv) */
		skip_lws(s, n, &i);
		te = vs = i;
		for (k = 0; k < 3; k++) {
			b = i;
			while (i < n && is_token(s[i]))
				i++;
			if (i == b)
				return fail(det, SW_SIP_R_BAD_VIA, "Via: bad sent-protocol at '%s'",
					    EX(s + b, n - b));
			if (k == 0 && !ieq(s + b, i - b, "SIP"))
				return fail(det, SW_SIP_R_BAD_VIA, "Via: protocol '%s' is not SIP",
					    EX(s + b, i - b));
			if (k == 1 && !ieq(s + b, i - b, "2.0"))
				return fail(det, SW_SIP_R_BAD_VIA, "Via: version '%s' is not 2.0",
					    EX(s + b, i - b));
			if (k == 2 && vl->n == 0) {
				vl->top_transport = s + b;
				vl->top_transport_len = i - b;
			}
			te = i;
			skip_lws(s, n, &i);
			if (k < 2) {
				if (i >= n || s[i] != '/')
					return fail(det, SW_SIP_R_BAD_VIA,
						    "Via: bad sent-protocol");
				i++;
				skip_lws(s, n, &i);
			}
		}
		if (i == te)
			return fail(det, SW_SIP_R_BAD_VIA, "Via: no white space before sent-by");
		b = i;
		if (parse_host(s, n, &i, &host, &hl))
			return fail(det, SW_SIP_R_BAD_VIA, "Via: bad sent-by host '%s'",
				    EX(s + b, n - b));
		skip_lws(s, n, &i);
		if (i < n && s[i] == ':') {
			i++;
			skip_lws(s, n, &i);
			if (parse_port(s, n, &i, &port))
				return fail(det, SW_SIP_R_BAD_VIA,
					    "Via: sent-by port is not a number 0..65535");
		}
		r = params(s, n, &i, "branch", &br, &brl, "Via", SW_SIP_R_BAD_VIA, det);
		if (r)
			return r;
		if (vl->n == 0) {
			vl->top_branch = br;
			vl->top_branch_len = brl;
			vl->top = s + vs;
			vl->top_len = i - vs;
		}
		if (vl->n < SIPV_VIA_KEEP) {
			uint64_t h = 0;

			if (br) {
				char pb[8], d[5];
				unsigned int v = port, nd = 0, pl = 0;

				/* ":%u" of the port, without stdio */
				do {
					d[nd++] = '0' + v % 10;
					v /= 10;
				} while (v);
				pb[pl++] = ':';
				while (nd)
					pb[pl++] = d[--nd];

				h = fnv(0xcbf29ce484222325ULL, host, hl);
				h = fnv(h, pb, pl);
				h = fnv(h, ";", 1);
				h = fnv(h, br, brl);
				if (!h)
					h = 1;
			}
			vl->key[vl->n] = h;
		}
		vl->n++;
		if (i >= n)
			return 0;
		i++; /* ',' */
		skip_lws(s, n, &i);
		if (i >= n || s[i] == ',')
			return fail(det, SW_SIP_R_BAD_VIA, "Via: empty value in list");
	}
}

/* --- scalar headers ---------------------------------------------------- */

int sipv_cseq(const char *s, size_t n, uint32_t *num, const char **method, size_t *method_len,
	      char *det)
{
	size_t i = 0, b;
	uint64_t v = 0;

	while (i < n && is_digit(s[i])) {
		v = v * 10 + (s[i] - '0');
		if (v >= (1ULL << 31))
			return fail(det, SW_SIP_R_BAD_CSEQ, "CSeq number '%s' is not below 2^31",
				    EX(s, n));
		i++;
	}
	if (!i)
		return fail(det, SW_SIP_R_BAD_CSEQ, "CSeq '%s' has no number", EX(s, n));
	if (i >= n || !is_wsp(s[i]))
		return fail(det, SW_SIP_R_BAD_CSEQ, "CSeq '%s' has no method", EX(s, n));
	skip_lws(s, n, &i);
	b = i;
	while (i < n && is_token(s[i]))
		i++;
	if (i == b || i != n)
		return fail(det, SW_SIP_R_BAD_CSEQ, "CSeq method in '%s' is not a token", EX(s, n));
	*num = (uint32_t)v;
	*method = s + b;
	*method_len = i - b;
	return 0;
}

int sipv_max_forwards(const char *s, size_t n, int *mf, char *det)
{
	size_t i;
	unsigned long v = 0;

	if (!n)
		return fail(det, SW_SIP_R_BAD_MAX_FORWARDS, "empty Max-Forwards");
	for (i = 0; i < n; i++) {
		if (!is_digit(s[i]))
			return fail(det, SW_SIP_R_BAD_MAX_FORWARDS,
				    "Max-Forwards '%s' is not a number", EX(s, n));
		v = v * 10 + (s[i] - '0');
		if (v > 255)
			return fail(det, SW_SIP_R_BAD_MAX_FORWARDS,
				    "Max-Forwards '%s' is above 255", EX(s, n));
	}
	*mf = (int)v;
	return 0;
}

int sipv_call_id(const char *s, size_t n, char *det)
{
	size_t i, ats = 0;

	if (!n)
		return fail(det, SW_SIP_R_BAD_HEADER, "empty Call-ID");
	if (n > 255)
		return fail(det, SW_SIP_R_BAD_HEADER, "Call-ID is %zu octets, limit 255", n);
	for (i = 0; i < n; i++) {
		if (s[i] == '@') {
			if (ats++ || i == 0 || i == n - 1)
				return fail(det, SW_SIP_R_BAD_HEADER,
					    "Call-ID '%s' is not word[@word]", EX(s, n));
			continue;
		}
		if (!is_callid(s[i]))
			return fail(det, SW_SIP_R_BAD_HEADER, "octet 0x%02x not allowed in Call-ID",
				    (unsigned char)s[i]);
	}
	return 0;
}

/* rfc1123-date = wkday "," SP date1 SP time SP "GMT" (RFC 3261 20.17) */
int sipv_date(const char *s, size_t n, char *det)
{
	static const char *const wk[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
	static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
					  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
	/* "Sat, 15 Oct 2005 04:44:56 GMT" */
	static const char pat[] = "www, dd mmm yyyy dd:dd:dd GMT";
	size_t i;
	int ok = 0;

	if (n != sizeof(pat) - 1)
		goto bad;
	for (i = 0; i < 7; i++)
		ok |= strncmp(s, wk[i], 3) == 0;
	if (!ok)
		goto bad;
	ok = 0;
	for (i = 0; i < 12; i++)
		ok |= strncmp(s + 8, mon[i], 3) == 0;
	if (!ok)
		goto bad;
	for (i = 0; i < n; i++) {
		if (pat[i] == 'd' || pat[i] == 'y') {
			if (!is_digit(s[i]))
				goto bad;
		} else if (pat[i] != 'w' && pat[i] != 'm' && pat[i] != s[i]) {
			goto bad;
		}
	}
	return 0;
bad:
	return fail(det, SW_SIP_R_BAD_HEADER, "Date '%s' is not an RFC 1123 date in GMT", EX(s, n));
}

int sipv_content_type(const char *s, size_t n, char *type, size_t type_len, const char **boundary,
		      size_t *boundary_len, char *det)
{
	size_t i = 0, tb, te, sb, se, o = 0, k;

	*boundary = NULL;
	*boundary_len = 0;
	tb = i;
	while (i < n && is_token(s[i]))
		i++;
	te = i;
	skip_lws(s, n, &i);
	if (te == tb || i >= n || s[i] != '/')
		goto bad;
	i++;
	skip_lws(s, n, &i);
	sb = i;
	while (i < n && is_token(s[i]))
		i++;
	se = i;
	if (se == sb)
		goto bad;
	for (k = tb; k < te && o + 1 < type_len; k++)
		type[o++] = tolower((unsigned char)s[k]);
	if (o + 1 < type_len)
		type[o++] = '/';
	for (k = sb; k < se && o + 1 < type_len; k++)
		type[o++] = tolower((unsigned char)s[k]);
	type[o] = 0;
	for (;;) {
		size_t nb, ne, vb;

		skip_lws(s, n, &i);
		if (i >= n)
			return 0;
		if (s[i] != ';')
			goto bad;
		i++;
		skip_lws(s, n, &i);
		nb = i;
		while (i < n && is_token(s[i]))
			i++;
		ne = i;
		skip_lws(s, n, &i);
		if (ne == nb || i >= n || s[i] != '=')
			goto bad;
		i++;
		skip_lws(s, n, &i);
		vb = i;
		if (i < n && s[i] == '"') {
			if (quoted(s, n, &i))
				goto bad;
			if (ieq(s + nb, ne - nb, "boundary")) {
				*boundary = s + vb + 1;
				*boundary_len = i - vb - 2;
			}
		} else {
			while (i < n && is_token(s[i]))
				i++;
			if (i == vb)
				goto bad;
			if (ieq(s + nb, ne - nb, "boundary")) {
				*boundary = s + vb;
				*boundary_len = i - vb;
			}
		}
	}
bad:
	return fail(det, SW_SIP_R_BAD_HEADER, "Content-Type '%s' is malformed", EX(s, n));
}

/* Octets sipv_header_text() must look at: controls, DEL, '"' and '\\'. */
static const uint8_t text_special[256] = {
	[0x00 ... 0x08] = 1, [0x0a ... 0x1f] = 1, ['"'] = 1, ['\\'] = 1, [0x7f] = 1,
};

int sipv_header_text(const struct sip_hdr *h, char *det)
{
	size_t i;
	int inq = 0;

	for (i = 0; i < h->val_len; i++) {
		unsigned char c = h->val[i];

		if (!text_special[c])
			continue;
		if (inq && c == '\\') {
			i++;
			continue;
		}
		if (c == '"')
			inq = !inq;
		else if (((c < 0x20 && c != '\t') || c == 0x7f) && !inq)
			return fail(det, SW_SIP_R_BAD_HEADER, "control octet 0x%02x in header %s",
				    c, EX(h->raw_name, h->raw_name_len));
		else if (((c < 0x20 && c != '\t') || c == 0x7f) && inq)
			return fail(det, SW_SIP_R_BAD_HEADER,
				    "unescaped control octet 0x%02x in a quoted string of %s", c,
				    EX(h->raw_name, h->raw_name_len));
	}
	return 0;
}

/* --- all headers ------------------------------------------------------- */

static const struct sip_hdr *hget(const struct sip_frame *f, enum sip_hid id)
{
	return f->first[id] < 0 ? NULL : &f->hdr[f->first[id]];
}

int sipv_headers(const struct sip_frame *f, const struct sip_start *st,
		 const struct sip_limits *lim, struct sip_checked *c, char *det)
{
	static const struct {
		uint8_t id;
		const char *name;
	} single[] =
		{
			{SIP_H_CALL_ID, "Call-ID"},
			{SIP_H_CSEQ, "CSeq"},
			{SIP_H_FROM, "From"},
			{SIP_H_TO, "To"},
			{SIP_H_MAX_FORWARDS, "Max-Forwards"},
			{SIP_H_CONTENT_TYPE, "Content-Type"},
		},
	  required[] = {
		  /* RFC 3261 8.1.1 also requires Max-Forwards, but RFC 2543
		 * messages (RFC 4475 inv2543) lack it and are legal */
		  {SIP_H_TO, "To"},	{SIP_H_FROM, "From"}, {SIP_H_CALL_ID, "Call-ID"},
		  {SIP_H_CSEQ, "CSeq"}, {SIP_H_VIA, "Via"},
	  };
	const struct sip_hdr *h;
	unsigned int i, k, max_via;
	int r;

	memset(c, 0, sizeof(*c));
	c->max_forwards = -1;
	for (i = 0; i < sizeof(single) / sizeof(single[0]); i++)
		if (f->count[single[i].id] > 1)
			return fail(det, SW_SIP_R_DUPLICATE_HEADER, "%u %s headers",
				    f->count[single[i].id], single[i].name);
	for (i = 0; i < sizeof(required) / sizeof(required[0]); i++)
		if (!f->count[required[i].id])
			return fail(det, SW_SIP_R_MISSING_HEADER, "no %s header", required[i].name);
	for (i = 0; i < f->n_hdr; i++) {
		r = sipv_header_text(&f->hdr[i], det);
		if (r)
			return r;
	}

	h = hget(f, SIP_H_CSEQ);
	r = sipv_cseq(h->val, h->val_len, &c->cseq, &c->cseq_method, &c->cseq_method_len, det);
	if (r)
		return r;
	if (st->is_request && (c->cseq_method_len != st->method_len ||
			       memcmp(c->cseq_method, st->method, st->method_len)))
		return fail(det, SW_SIP_R_CSEQ_METHOD_MISMATCH,
			    "CSeq method %s != request method %s",
			    EX(c->cseq_method, c->cseq_method_len), EX(st->method, st->method_len));

	h = hget(f, SIP_H_MAX_FORWARDS);
	if (h) {
		r = sipv_max_forwards(h->val, h->val_len, &c->max_forwards, det);
		if (r)
			return r;
	}

	for (i = 0; i < f->n_hdr; i++) {
		if (f->hdr[i].id != SIP_H_VIA)
			continue;
		r = sipv_via(f->hdr[i].val, f->hdr[i].val_len, &c->via, det);
		if (r)
			return r;
	}

	for (k = 0; k < 2; k++) {
		size_t pos = 0;
		struct sip_nameaddr *na = k ? &c->to : &c->from;

		h = hget(f, k ? SIP_H_TO : SIP_H_FROM);
		r = sipv_name_addr(h->val, h->val_len, &pos, lim->strict, SW_SIP_R_BAD_FROM_TO,
				   k ? "To" : "From", na, det);
		if (r)
			return r;
		if (pos != h->val_len)
			return fail(det, SW_SIP_R_BAD_FROM_TO, "%s: more than one address",
				    k ? "To" : "From");
		if (na->tag && !na->tag_len)
			return fail(det, SW_SIP_R_BAD_FROM_TO, "%s: empty tag", k ? "To" : "From");
		/* dialogs are matched on whole tags: none is cut short */
		if (na->tag_len >= SIP_TAG_LEN)
			return fail(det, SW_SIP_R_BAD_FROM_TO, "%s: tag of %zu octets, limit %d",
				    k ? "To" : "From", na->tag_len, SIP_TAG_LEN - 1);
	}

	h = hget(f, SIP_H_CALL_ID);
	r = sipv_call_id(h->val, h->val_len, det);
	if (r)
		return r;

	for (i = 0; i < f->n_hdr; i++) {
		const struct sip_hdr *x = &f->hdr[i];

		if (x->id == SIP_H_CONTACT)
			r = sipv_addr_list(x->val, x->val_len, lim->strict, 1, "Contact", det);
		else if (x->id == SIP_H_ROUTE)
			r = sipv_addr_list(x->val, x->val_len, lim->strict, 0, "Route", det);
		else if (x->id == SIP_H_RECORD_ROUTE)
			r = sipv_addr_list(x->val, x->val_len, lim->strict, 0, "Record-Route", det);
		else if (x->id == SIP_H_DATE && lim->strict)
			r = sipv_date(x->val, x->val_len, det);
		else
			r = 0;
		if (r)
			return r;
	}

	h = hget(f, SIP_H_CONTENT_TYPE);
	if (h) {
		r = sipv_content_type(h->val, h->val_len, c->content_type, sizeof(c->content_type),
				      &c->boundary, &c->boundary_len, det);
		if (r)
			return r;
		if (f->body_len && !c->boundary && !strncmp(c->content_type, "multipart/", 10))
			return fail(det, SW_SIP_R_BAD_HEADER,
				    "multipart body without a boundary parameter");
	} else if (f->body_len) {
		return fail(det, SW_SIP_R_MISSING_HEADER, "no Content-Type for a %zu-octet body",
			    f->body_len);
	}

	if (st->is_request) {
		max_via = lim->max_via < SIPV_VIA_KEEP ? lim->max_via : SIPV_VIA_KEEP;
		if (c->via.n > max_via)
			return fail(det, SW_SIP_R_VIA_LOOP, "%u Via values, limit %u", c->via.n,
				    max_via);
		for (i = 1; i < c->via.n; i++) {
			if (!c->via.key[i])
				continue;
			for (k = 0; k < i; k++)
				if (c->via.key[k] == c->via.key[i])
					return fail(det, SW_SIP_R_VIA_LOOP,
						    "Via %u repeats sent-by and branch of Via %u",
						    i + 1, k + 1);
		}
	}
	return 0;
}
