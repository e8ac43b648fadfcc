// SPDX-License-Identifier: GPL-2.0-only
/*
 * JSON-lines event sink. Lines are built in a buffer and written with one
 * fwrite + fflush, so a reader tailing the file never sees half an event.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/swmap.h"
#include "sipd/events.h"

#define EV_LINE_MAX 8192

struct sipd_events {
	FILE *f;
	int own;
	char line[EV_LINE_MAX];
	size_t len;
	int truncated;
	/* drop log rate limit: a token bucket refilled every second */
	uint32_t per_s, summary_s;
	uint64_t window_start_ns, logged_in_window;
	uint64_t summary_start_ns;
	uint64_t suppressed[SW_SIP_R_MAX];
	uint64_t suppressed_total;
};

struct sipd_events *sipd_events_open(const char *path, char *err,
				     size_t errlen)
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
		snprintf(err, errlen, "events output %s: %s", path,
			 strerror(errno));
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

void sipd_events_close(struct sipd_events *ev)
{
	if (!ev)
		return;
	if (ev->own)
		fclose(ev->f);
	else
		fflush(ev->f);
	free(ev);
}

void sipd_events_set_drop_limit(struct sipd_events *ev, uint32_t per_s,
				uint32_t summary_s)
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

/* A JSON string literal; control bytes and non-UTF-8-safe bytes escaped. */
static void put_json_str(struct sipd_events *ev, const char *s)
{
	char esc[8];

	put(ev, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			put(ev, esc, 2);
		} else if (c < 0x20 || c >= 0x7f) {
			/* SIP text from the wire is not trusted to be UTF-8. */
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			put(ev, esc, 6);
		} else {
			put(ev, (const char *)&c, 1);
		}
	}
	put(ev, "\"", 1);
}

static void put_key(struct sipd_events *ev, const char *key)
{
	put(ev, ",", 1);
	put_json_str(ev, key);
	put(ev, ":", 1);
}

void ev_begin(struct sipd_events *ev, const char *name, uint64_t now_ns)
{
	char num[32];

	if (!ev)
		return;
	ev->len = 0;
	ev->truncated = 0;
	puts_(ev, "{\"event\":");
	put_json_str(ev, name);
	snprintf(num, sizeof(num), ",\"ts_ns\":%" PRIu64, now_ns);
	puts_(ev, num);
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
	char num[32];

	if (!ev)
		return;
	put_key(ev, key);
	snprintf(num, sizeof(num), "%" PRIu64, val);
	puts_(ev, num);
}

void ev_i64(struct sipd_events *ev, const char *key, int64_t val)
{
	char num[32];

	if (!ev)
		return;
	put_key(ev, key);
	snprintf(num, sizeof(num), "%" PRId64, val);
	puts_(ev, num);
}

void ev_addr(struct sipd_events *ev, const char *key, const uint8_t addr[16],
	     uint16_t port)
{
	char a[64], s[80];

	if (!ev)
		return;
	sw_addr_format(addr, a, sizeof(a));
	if (sw_addr_is_v4(addr))
		snprintf(s, sizeof(s), "%s:%u", a, port);
	else
		snprintf(s, sizeof(s), "[%s]:%u", a, port);
	ev_str(ev, key, s);
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
	fwrite(ev->line, 1, ev->len, ev->f);
	fflush(ev->f);
	ev->len = 0;
}

int ev_message_drop(struct sipd_events *ev, uint64_t now_ns,
		    enum sw_sip_reason why, const uint8_t src[16],
		    uint16_t sport, const char *method, const char *call_id,
		    const char *detail)
{
	if (!ev)
		return 0;
	ev_tick(ev, now_ns);
	if (now_ns - ev->window_start_ns >= 1000000000ull ||
	    now_ns < ev->window_start_ns) {
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
	char buf[64];
	unsigned int r;
	int first = 1;

	if (!ev)
		return;
	if (!ev->summary_start_ns || now_ns < ev->summary_start_ns)
		ev->summary_start_ns = now_ns;
	if (!ev->summary_s ||
	    now_ns - ev->summary_start_ns < ev->summary_s * 1000000000ull)
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
		snprintf(buf, sizeof(buf), ":%" PRIu64, ev->suppressed[r]);
		puts_(ev, buf);
	}
	put(ev, "}", 1);
	ev_end(ev);
	memset(ev->suppressed, 0, sizeof(ev->suppressed));
	ev->suppressed_total = 0;
}
