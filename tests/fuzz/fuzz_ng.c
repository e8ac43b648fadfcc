// SPDX-License-Identifier: GPL-2.0-only
/*
 * libFuzzer harness of sipd/ng.c (and sipd/bencode.c under it) through
 * sipd_ng_process, the function the sockets feed. An input is up to 8
 * records separated by two NUL bytes; a record is one control byte and one
 * datagram. The control byte picks the source (bits 0-1: 127.0.0.1,
 * [::1], a Unix-socket peer, or 192.0.2.1 which is not a controller; bit 2:
 * another port) and advances a fake clock (bits 4-7, 5 s each) so the
 * retransmission cache expires within an input. Each input gets a fresh
 * instance, so a finding reproduces alone. For offers and answers the
 * handler first runs sipd's own screening (sipd_ctl_screen, control.c's
 * refusals and warnings) and SDP parse; then it echoes what it got
 * (unknown keys, call-id, SDP, counts) through every reply call, and fails
 * or warns when the call-id says so.
 *
 * Checked besides sanitizer reports: a source that is not a controller gets
 * no reply; a datagram without a valid cookie gets none either and every
 * other one gets exactly one, which starts with the cookie and a space and
 * decodes with our decoder as a dictionary whose "result" is ok, pong or
 * error (an error has "error-reason" and nothing else); a repeated (cookie,
 * source) within the cache TTL gets the same bytes; the handler sees only
 * valid requests; the counters add up.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "sipd/control.h"
#include "sipd/ng.h"
#include "sipd/sdp.h"

#define REQUIRE(x)               \
	do {                     \
		if (!(x))        \
			abort(); \
	} while (0)

#define MAX_RECORDS 8
#define SEC	    1000000000ULL
#define TTL_MS	    30000

static uint64_t now;

static uint64_t fuzz_clock(void)
{
	return now;
}

static int nonempty(const struct sipd_ng_str *s)
{
	return s->p && s->len;
}

static int handler(void *ctx, const struct sipd_ng_req *q, struct sipd_ng_reply *r)
{
	char id = q->call_id.p && q->call_id.len ? (char)q->call_id.p[0] : 0;

	(void)ctx;
	/* the layer answers ping and refuses incomplete requests itself */
	REQUIRE(q->cmd > SIPD_NG_PING && q->cmd < SIPD_NG_CMD_MAX);
	if (q->cmd == SIPD_NG_OFFER || q->cmd == SIPD_NG_ANSWER)
		REQUIRE(nonempty(&q->call_id) && nonempty(&q->from_tag) && nonempty(&q->sdp));
	if (q->cmd == SIPD_NG_ANSWER)
		REQUIRE(nonempty(&q->to_tag));
	if (q->cmd == SIPD_NG_DELETE)
		REQUIRE(nonempty(&q->call_id) && nonempty(&q->from_tag));
	if (q->cmd == SIPD_NG_QUERY)
		REQUIRE(nonempty(&q->call_id));
	REQUIRE(q->n_other <= SIPD_NG_MAX_OTHER && q->flags.n <= SIPD_NG_MAX_LIST);
	REQUIRE(!q->received_from.af || q->received_from.af == AF_INET ||
		q->received_from.af == AF_INET6);

	if (q->cmd == SIPD_NG_OFFER || q->cmd == SIPD_NG_ANSWER) {
		/* sipd's own first steps for these (control.c): what a relay
		 * alone could do is refused, the SDP must parse */
		char why[200], warn[CTL_WARN_LEN] = "";
		const char *no = sipd_ctl_screen(q, why, sizeof(why), warn);
		static struct sdp_session sess;

		REQUIRE(strlen(warn) < CTL_WARN_LEN);
		if (no) {
			REQUIRE(no == why && why[0]);
			return sipd_ng_reply_error(r, "%s", no);
		}
		if (sdp_parse((const char *)q->sdp.p, q->sdp.len, &sess) == 0)
			REQUIRE(sess.n_media <= SDP_MAX_MEDIA);
		if (warn[0])
			sipd_ng_reply_warning(r, "%s", warn);
	}
	if (q->sdp.p)
		sipd_ng_reply_bytes(r, "sdp", q->sdp.p, q->sdp.len);
	if (q->call_id.p)
		sipd_ng_reply_bytes(r, "call-id", q->call_id.p, q->call_id.len);
	sipd_ng_reply_open_list(r, "echo");
	for (unsigned int i = 0; i < q->n_other; i++)
		sipd_ng_reply_bytes(r, NULL, q->other[i].key.p, q->other[i].key.len);
	sipd_ng_reply_close(r);
	sipd_ng_reply_open_dict(r, "counts");
	sipd_ng_reply_int(r, "flags", q->flags.n);
	sipd_ng_reply_int(r, "replace", q->replace.n);
	sipd_ng_reply_int(r, "limit", q->limit);
	sipd_ng_reply_open_list(r, "direction");
	for (unsigned int i = 0; q->has_direction && i < 2; i++)
		sipd_ng_reply_bytes(r, NULL, q->direction[i].p, q->direction[i].len);
	/* both left open: closed at the end */
	switch (id) {
	case 'E':
		return sipd_ng_reply_error(r, "call %c refused", id);
	case 'W':
		return sipd_ng_reply_warning(r, "call %c warned", id);
	case 'X':
		return -EIO;
	case 'D':
		return sipd_ng_reply_int(r, "direction", 1); /* duplicate key: not built */
	}
	return 0;
}

struct seen {
	int src;
	uint8_t cookie[SIPD_NG_MAX_COOKIE];
	size_t clen;
	uint64_t t; /* when the reply was made */
	uint8_t *reply;
	size_t rlen;
};

static struct sipd_benc dec;
static uint8_t out[SIPD_NG_MAX_DGRAM];

static struct sockaddr_storage source(int which, int alt)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (which == 0 || which == 3) {
		struct sockaddr_in *sin = (struct sockaddr_in *)&ss;

		sin->sin_family = AF_INET;
		sin->sin_port = htons(alt ? 5061 : 5060);
		sin->sin_addr.s_addr = htonl(which == 0 ? 0x7f000001 : 0xc0000201);
	} else if (which == 1) {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(alt ? 5061 : 5060);
		sin6->sin6_addr.s6_addr[15] = 1;
	} else {
		struct sockaddr_un *sun = (struct sockaddr_un *)&ss;

		sun->sun_family = AF_UNIX;
		strcpy(sun->sun_path, alt ? "/run/a.sock" : "/run/b.sock");
	}
	return ss;
}

/* The cookie sipd must find in d[0..n), or 0 if there is none. */
static size_t cookie_len(const uint8_t *d, size_t n)
{
	for (size_t i = 0; i < n && i <= SIPD_NG_MAX_COOKIE; i++) {
		if (d[i] == ' ')
			return i;
		if (d[i] < 0x21 || d[i] > 0x7e)
			return 0;
	}
	return 0;
}

static void check_reply(const uint8_t *d, size_t clen, size_t olen)
{
	const struct sipd_benc_node *root, *res, *m;

	REQUIRE(olen > clen + 1 && olen <= SIPD_NG_MAX_DGRAM);
	REQUIRE(!memcmp(out, d, clen) && out[clen] == ' ');
	root = sipd_benc_decode(&dec, out + clen + 1, olen - clen - 1);
	REQUIRE(root && root->type == SIPD_BENC_DICT);
	res = sipd_benc_dict_get(root, "result");
	REQUIRE(sipd_benc_str_eq(res, "ok") || sipd_benc_str_eq(res, "pong") ||
		sipd_benc_str_eq(res, "error"));
	if (sipd_benc_str_eq(res, "error")) {
		REQUIRE(root->len == 2);
		REQUIRE(sipd_benc_str(sipd_benc_dict_get(root, "error-reason"), NULL));
	}
	if (sipd_benc_str_eq(res, "pong"))
		REQUIRE(root->len == 1);
	/* sorted keys */
	for (m = root->first; m && m->next; m = m->next) {
		uint32_t k = m->klen < m->next->klen ? m->klen : m->next->klen;
		int c = memcmp(m->key, m->next->key, k);

		REQUIRE(c < 0 || (c == 0 && m->klen < m->next->klen));
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sipd_ng_handler h = {.command = handler};
	struct sipd_ng_opts o = {.now_ns = fuzz_clock, .cache_ttl_ms = TTL_MS, .cache_max = 16};
	struct seen seen[MAX_RECORDS];
	unsigned int nseen = 0, nrec = 0, nreplied = 0, nunauth = 0, nbad = 0;
	const struct sipd_ng_stats *st;
	struct sipd_ng *ng;
	char err[256];
	size_t pos = 0;

	now = 1000 * SEC;
	ng = sipd_ng_open(&o, &h, err, sizeof(err));
	REQUIRE(ng);
	while (pos < size && nrec < MAX_RECORDS) {
		const uint8_t *rec = data + pos, *end = NULL;
		size_t left = size - pos, n, clen, olen = sizeof(out);
		struct sockaddr_storage from;
		uint8_t ctl = rec[0];
		int which = ctl & 3, rc;

		for (size_t i = 1; i + 1 < left; i++)
			if (!rec[i] && !rec[i + 1]) {
				end = rec + i;
				break;
			}
		n = (end ? (size_t)(end - rec) : left) - 1;
		pos += n + 1 + (end ? 2 : 0);
		nrec++;
		now += (uint64_t)(ctl >> 4) * 5 * SEC;
		from = source(which, ctl & 4);
		rc = sipd_ng_process(ng, rec + 1, n, &from, out, &olen);
		clen = cookie_len(rec + 1, n);
		if (which == 3) {
			REQUIRE(rc == 0 && olen == 0);
			nunauth++;
			continue;
		}
		if (!clen) {
			REQUIRE(rc == 0 && olen == 0);
			nbad++;
			continue;
		}
		REQUIRE(rc == 1);
		nreplied++;
		check_reply(rec + 1, clen, olen);
		/* a retransmission within the TTL: the same bytes */
		{
			struct seen *s = NULL;
			int src = which * 2 + !!(ctl & 4);

			for (unsigned int i = 0; i < nseen; i++)
				if (seen[i].src == src && seen[i].clen == clen &&
				    !memcmp(seen[i].cookie, rec + 1, clen))
					s = &seen[i];
			if (s && now < s->t + (uint64_t)TTL_MS * 1000000ULL) {
				REQUIRE(s->rlen == olen && !memcmp(s->reply, out, olen));
				continue;
			}
			if (!s) {
				s = &seen[nseen++];
				s->src = src;
				s->clen = clen;
				memcpy(s->cookie, rec + 1, clen);
			} else {
				free(s->reply);
			}
			s->t = now;
			s->reply = malloc(olen);
			REQUIRE(s->reply);
			memcpy(s->reply, out, olen);
			s->rlen = olen;
		}
	}
	st = sipd_ng_stats(ng);
	REQUIRE(st->received == nrec);
	REQUIRE(st->replied == nreplied);
	REQUIRE(st->dropped_unauthorised == nunauth);
	REQUIRE(st->dropped_bad_cookie == nbad);
	REQUIRE(st->handler_calls <= nreplied);
	for (unsigned int i = 0; i < nseen; i++)
		free(seen[i].reply);
	sipd_ng_close(ng);
	return 0;
}
