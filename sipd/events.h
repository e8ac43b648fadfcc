/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The event sink: one JSON object per line (stdout or a file). Drop logs are
 * rate-limited (a flood cannot fill a disk); what was not logged is counted
 * and reported in a periodic drop_summary line.
 */
#ifndef SIPD_EVENTS_H
#define SIPD_EVENTS_H

#include <stdint.h>
#include <stdio.h>

#include "sipwall_maps.h"

struct sipd_events;

/* path: "-" = stdout, a file name (opened for append). */
struct sipd_events *sipd_events_open(const char *path, char *err, size_t errlen);
/* Write to an open stream the caller keeps owning (tests: open_memstream). */
struct sipd_events *sipd_events_open_stream(FILE *f);
void sipd_events_close(struct sipd_events *ev);
/* per_s: message_drop lines per second (0 = none); summary_s: period of
 * the drop_summary line (0 = never). */
void sipd_events_set_drop_limit(struct sipd_events *ev, uint32_t per_s, uint32_t summary_s);

/*
 * One event line: ev_begin() starts {"event":NAME,"ts_ns":NOW, then ev_str/
 * ev_u64/... add fields, ev_end() closes and flushes. NULL ev: all no-ops.
 */
void ev_begin(struct sipd_events *ev, const char *name, uint64_t now_ns);
void ev_str(struct sipd_events *ev, const char *key, const char *val);
void ev_u64(struct sipd_events *ev, const char *key, uint64_t val);
void ev_i64(struct sipd_events *ev, const char *key, int64_t val);
void ev_addr(struct sipd_events *ev, const char *key, const uint8_t addr[16], uint16_t port);
void ev_raw(struct sipd_events *ev, const char *key, const char *json);
void ev_end(struct sipd_events *ev);

/* Building a nested value in place: ev_key() writes ,"key": and the ev_put_*
 * calls append raw JSON text, a string literal, a number, or a quoted
 * "addr:port" ("[v6]:port"). */
void ev_key(struct sipd_events *ev, const char *key);
void ev_put_raw(struct sipd_events *ev, const char *s);
void ev_put_str(struct sipd_events *ev, const char *s);
void ev_put_u64(struct sipd_events *ev, uint64_t v);
void ev_put_addr(struct sipd_events *ev, const uint8_t addr[16], uint16_t port);

/* The same JSON string literal (quotes included, escaped as in events) to a
 * stdio stream: sipd's state file. */
void sipd_json_fputs(FILE *f, const char *s);

/* Batch mode: ev_end() queues whole lines; sipd_events_flush() writes them
 * (also when the queue is full, on close, and when batch mode goes off). */
void sipd_events_set_batch(struct sipd_events *ev, int on);
void sipd_events_flush(struct sipd_events *ev);

/* A dropped SIP message; rate-limited. Returns 1 if it was logged. */
int ev_message_drop(struct sipd_events *ev, uint64_t now_ns, enum sw_sip_reason why,
		    const uint8_t src[16], uint16_t sport, const char *method, const char *call_id,
		    const char *detail);
/* Emits drop_summary when the period elapsed and something was suppressed. */
/* The drop log's rate limit for other lines that a flood could multiply
 * (media_refused): 1 = write the line now, 0 = counted under why for the
 * next drop_summary. */
int ev_limit(struct sipd_events *ev, uint64_t now_ns, enum sw_sip_reason why);
void ev_tick(struct sipd_events *ev, uint64_t now_ns);

#endif /* SIPD_EVENTS_H */
