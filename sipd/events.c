// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON-lines event sink. Each line is built in a buffer and only whole lines
 * are handed to the stream, then flushed, so a reader tailing the file never
 * sees half an event. By default every event is flushed when it ends; in
 * batch mode (the daemon's packet loops) finished lines collect in an output
 * buffer and go out in one write at sipd_events_flush(), which the loop calls
 * after the verdicts of a batch of packets, or when the buffer fills.
 *
 * Formatting is on the message path (a call emits about ten events), so it
 * avoids stdio: numbers and IPv4 addresses are formatted by hand and JSON
 * strings are copied in runs.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

#include "lib/swmap.h"
#include "sipd/events.h"

#define EV_LINE_MAX 8192
#define EV_OUT_MAX  65536

struct sipd_events {
	FILE *f;
	int own;
	int batch;
	char line[EV_LINE_MAX];
	size_t len;
	int truncated;
	char out[EV_OUT_MAX]; /* whole lines not yet written (batch mode) */
	size_t out_len;
	/* drop log rate limit: a token bucket refilled every second */
	uint32_t per_s, summary_s;
	uint64_t window_start_ns, logged_in_window;
	uint64_t summary_start_ns;
	uint64_t suppressed[SW_SIP_R_MAX];
	uint64_t suppressed_total;
};

struct sipd_events *sipd_events_open(const char *path, char *err, size_t errlen)
{
	struct sipd_events *ev;
	FILE *f;

	if (!path || !strcmp(path, "-")) {
		ev = sipd_events_open_stream(stdout);
		if (!ev)
			snprintf(err, errlen, "events: out of memory");
		return ev;
	}
	f = fopen(path, "a");
	if (!f) {
		snprintf(err, errlen, "events output %s: %s", path, strerror(errno));
		return NULL;
	}
	ev = sipd_events_open_stream(f);
	if (!ev) {
		fclose(f);
		snprintf(err, errlen, "events: out of memory");
		return NULL;
	}
	ev->own = 1;
	return ev;
}

struct sipd_events *sipd_events_open_stream(FILE *f)
{
	struct sipd_events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return NULL;
	ev->f = f;
	ev->per_s = 10;
	ev->summary_s = 60;
	return ev;
}

void sipd_events_flush(struct sipd_events *ev)
{
	if (!ev || !ev->out_len)
		return;
	fwrite(ev->out, 1, ev->out_len, ev->f);
	fflush(ev->f);
	ev->out_len = 0;
}

void sipd_events_set_batch(struct sipd_events *ev, int on)
{
	if (!ev)
		return;
	if (!on)
		sipd_events_flush(ev);
	ev->batch = !!on;
}

void sipd_events_close(struct sipd_events *ev)
{
	if (!ev)
		return;
	sipd_events_flush(ev);
	if (ev->own)
		fclose(ev->f);
	else
		fflush(ev->f);
	free(ev);
}

void sipd_events_set_drop_limit(struct sipd_events *ev, uint32_t per_s, uint32_t summary_s)
{
	if (!ev)
		return;
	ev->per_s = per_s;
	ev->summary_s = summary_s;
}

static void put(struct sipd_events *ev, const char *s, size_t n)
{
	if (ev->len + n >= EV_LINE_MAX - 2) {
		ev->truncated = 1;
		return;
	}
	memcpy(ev->line + ev->len, s, n);
	ev->len += n;
}

static void puts_(struct sipd_events *ev, const char *s)
{
	put(ev, s, strlen(s));
}

/* 1: the byte goes into a JSON string as it is (printable ASCII but '"'
 * and '\\'); a table, as every octet of every string passes here. */
static const uint8_t json_plain_tab[256] = {
	[0x20 ... 0x21] = 1, /* '"' is 0x22 */
	[0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
	[0x5d ... 0x7e] = 1,
};

static int json_plain(unsigned char c)
{
	return json_plain_tab[c];
}

/* The escape of one byte that is not json_plain into esc; its length. */
static size_t json_esc(unsigned char c, char esc[8])
{
	static const char hex[] = "0123456789abcdef";

	if (c == '"' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	}
	/* SIP text from the wire is not trusted to be UTF-8. */
	memcpy(esc, "\\u00", 4);
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 15];
	return 6;
}

/* A JSON string literal; control bytes and non-UTF-8-safe bytes escaped. */
static void put_json_str(struct sipd_events *ev, const char *s)
{
	char esc[8];

	put(ev, "\"", 1);
	while (*s) {
		const char *run = s;

		while (json_plain((unsigned char)*s))
			s++;
		if (s > run)
			put(ev, run, (size_t)(s - run));
		if (!*s)
			break;
		put(ev, esc, json_esc((unsigned char)*s, esc));
		s++;
	}
	put(ev, "\"", 1);
}

void sipd_json_fputs(FILE *f, const char *s)
{
	char esc[8];

	fputc('"', f);
	for (; *s; s++) {
		if (json_plain((unsigned char)*s))
			fputc(*s, f);
		else
			fwrite(esc, 1, json_esc((unsigned char)*s, esc), f);
	}
	fputc('"', f);
}

/* "00".."99": two decimal digits per division (events carry 19-digit
 * nanosecond times and many addresses). */
static const char digits2[201] = "00010203040506070809101112131415161718192021222324"
				 "25262728293031323334353637383940414243444546474849"
				 "50515253545556575859606162636465666768697071727374"
				 "75767778798081828384858687888990919293949596979899";

/* Decimal digits of v into buf (at least 20 bytes), returns the length. */
static size_t fmt_u64(char *buf, uint64_t v)
{
	char tmp[20];
	size_t n = sizeof(tmp);

	while (v >= 100) {
		unsigned int r = (unsigned int)(v % 100);

		v /= 100;
		n -= 2;
		memcpy(tmp + n, digits2 + 2 * r, 2);
	}
	if (v >= 10) {
		n -= 2;
		memcpy(tmp + n, digits2 + 2 * v, 2);
	} else {
		tmp[--n] = (char)('0' + v);
	}
	memcpy(buf, tmp + n, sizeof(tmp) - n);
	return sizeof(tmp) - n;
}

/* One IPv4 octet in decimal, returns the length. */
static size_t fmt_octet(char *buf, unsigned int v)
{
	if (v >= 100) {
		buf[0] = (char)('0' + v / 100);
		memcpy(buf + 1, digits2 + 2 * (v % 100), 2);
		return 3;
	}
	if (v >= 10) {
		memcpy(buf, digits2 + 2 * v, 2);
		return 2;
	}
	buf[0] = (char)('0' + v);
	return 1;
}

static void put_u64(struct sipd_events *ev, uint64_t v)
{
	char num[20];

	put(ev, num, fmt_u64(num, v));
}

/* "a.b.c.d:port" or "[v6]:port", without the quotes; buf >= 64 bytes. */
static size_t fmt_addr_port(char *buf, const uint8_t a[16], uint16_t port)
{
	size_t n = 0;
	int i;

	if (sw_addr_is_v4(a)) {
		for (i = 12; i < 16; i++) {
			n += fmt_octet(buf + n, a[i]);
			buf[n++] = i < 15 ? '.' : ':';
		}
	} else {
		buf[n++] = '[';
		/* RFC 5952 text, as sw_addr_format gives it */
		if (!inet_ntop(AF_INET6, a, buf + n, 48))
			buf[n] = '\0';
		n += strlen(buf + n);
		buf[n++] = ']';
		buf[n++] = ':';
	}
	n += fmt_u64(buf + n, port);
	return n;
}

/* Keys are sipd's own literals (plain ASCII): no escaping to do. */
static void put_key(struct sipd_events *ev, const char *key)
{
	size_t n = strlen(key);

	if (ev->len + n + 4 >= EV_LINE_MAX - 2) {
		ev->truncated = 1;
		return;
	}
	ev->line[ev->len++] = ',';
	ev->line[ev->len++] = '"';
	memcpy(ev->line + ev->len, key, n);
	ev->len += n;
	ev->line[ev->len++] = '"';
	ev->line[ev->len++] = ':';
}

void ev_begin(struct sipd_events *ev, const char *name, uint64_t now_ns)
{
	if (!ev)
		return;
	ev->len = 0;
	ev->truncated = 0;
	puts_(ev, "{\"event\":\"");
	puts_(ev, name); /* a literal, like the keys */
	puts_(ev, "\",\"ts_ns\":");
	put_u64(ev, now_ns);
}

void ev_str(struct sipd_events *ev, const char *key, const char *val)
{
	if (!ev)
		return;
	put_key(ev, key);
	put_json_str(ev, val ? val : "");
}

void ev_u64(struct sipd_events *ev, const char *key, uint64_t val)
{
	if (!ev)
		return;
	put_key(ev, key);
	put_u64(ev, val);
}

void ev_i64(struct sipd_events *ev, const char *key, int64_t val)
{
	if (!ev)
		return;
	put_key(ev, key);
	if (val < 0) {
		put(ev, "-", 1);
		put_u64(ev, -(uint64_t)val);
	} else {
		put_u64(ev, (uint64_t)val);
	}
}

void ev_addr(struct sipd_events *ev, const char *key, const uint8_t addr[16], uint16_t port)
{
	if (!ev)
		return;
	put_key(ev, key);
	ev_put_addr(ev, addr, port);
}

void ev_key(struct sipd_events *ev, const char *key)
{
	if (ev)
		put_key(ev, key);
}

void ev_put_raw(struct sipd_events *ev, const char *s)
{
	if (ev)
		puts_(ev, s);
}

void ev_put_str(struct sipd_events *ev, const char *s)
{
	if (ev)
		put_json_str(ev, s ? s : "");
}

void ev_put_u64(struct sipd_events *ev, uint64_t v)
{
	if (ev)
		put_u64(ev, v);
}

void ev_put_addr(struct sipd_events *ev, const uint8_t addr[16], uint16_t port)
{
	char buf[80];
	size_t n;

	if (!ev)
		return;
	buf[0] = '"';
	n = 1 + fmt_addr_port(buf + 1, addr, port);
	buf[n++] = '"';
	put(ev, buf, n);
}

void ev_raw(struct sipd_events *ev, const char *key, const char *json)
{
	if (!ev)
		return;
	put_key(ev, key);
	puts_(ev, json);
}

void ev_end(struct sipd_events *ev)
{
	if (!ev)
		return;
	if (ev->truncated)
		puts_(ev, ",\"truncated\":true");
	/* put() keeps two bytes free for the closing brace and newline. */
	ev->line[ev->len++] = '}';
	ev->line[ev->len++] = '\n';
	if (ev->batch) {
		if (ev->out_len + ev->len > sizeof(ev->out))
			sipd_events_flush(ev);
		memcpy(ev->out + ev->out_len, ev->line, ev->len);
		ev->out_len += ev->len;
	} else {
		fwrite(ev->line, 1, ev->len, ev->f);
		fflush(ev->f);
	}
	ev->len = 0;
}

int ev_limit(struct sipd_events *ev, uint64_t now_ns, enum sw_sip_reason why)
{
	if (!ev)
		return 0;
	ev_tick(ev, now_ns);
	if (now_ns - ev->window_start_ns >= 1000000000ull || now_ns < ev->window_start_ns) {
		ev->window_start_ns = now_ns;
		ev->logged_in_window = 0;
	}
	if (ev->logged_in_window >= ev->per_s) {
		if ((unsigned int)why < SW_SIP_R_MAX)
			ev->suppressed[why]++;
		ev->suppressed_total++;
		return 0;
	}
	ev->logged_in_window++;
	return 1;
}

int ev_message_drop(struct sipd_events *ev, uint64_t now_ns, enum sw_sip_reason why,
		    const uint8_t src[16], uint16_t sport, const char *method, const char *call_id,
		    const char *detail)
{
	if (!ev_limit(ev, now_ns, why))
		return 0;
	ev_begin(ev, "message_drop", now_ns);
	ev_str(ev, "reason", sw_sip_reason_name(why));
	if (src)
		ev_addr(ev, "src", src, sport);
	if (method && method[0])
		ev_str(ev, "method", method);
	if (call_id && call_id[0])
		ev_str(ev, "call_id", call_id);
	if (detail && detail[0])
		ev_str(ev, "detail", detail);
	ev_end(ev);
	return 1;
}

void ev_tick(struct sipd_events *ev, uint64_t now_ns)
{
	unsigned int r;
	int first = 1;

	if (!ev)
		return;
	if (!ev->summary_start_ns || now_ns < ev->summary_start_ns)
		ev->summary_start_ns = now_ns;
	if (!ev->summary_s || now_ns - ev->summary_start_ns < ev->summary_s * 1000000000ull)
		return;
	ev->summary_start_ns = now_ns;
	if (!ev->suppressed_total)
		return;
	ev_begin(ev, "drop_summary", now_ns);
	ev_u64(ev, "suppressed", ev->suppressed_total);
	put_key(ev, "by_reason");
	put(ev, "{", 1);
	for (r = 0; r < SW_SIP_R_MAX; r++) {
		if (!ev->suppressed[r])
			continue;
		if (!first)
			put(ev, ",", 1);
		first = 0;
		put_json_str(ev, sw_sip_reason_name(r));
		put(ev, ":", 1);
		put_u64(ev, ev->suppressed[r]);
	}
	put(ev, "}", 1);
	ev_end(ev);
	memset(ev->suppressed, 0, sizeof(ev->suppressed));
	ev->suppressed_total = 0;
}
