/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Strict SIP checks that run on the raw datagram, before and beside libosip2:
 * framing and limits (so libosip2 never sees an oversized line or header
 * list), Content-Length, the start line, and the grammar of the headers sipd
 * relies on (RFC 3261 section 25, RFC 5118). Every function returns 0 or
 * -SW_SIP_R_x and writes what was wrong into det (a detail string).
 *
 * Pure functions over (pointer, length): no allocation, no libosip2, so the
 * unit tests and the fuzzer can drive each one directly.
 */
#ifndef SIPD_VALIDATE_H
#define SIPD_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "sipmsg.h"

/* Headers the checks know; everything else is SIP_H_OTHER. */
enum sip_hid {
	SIP_H_OTHER = 0,
	SIP_H_VIA,
	SIP_H_FROM,
	SIP_H_TO,
	SIP_H_CALL_ID,
	SIP_H_CSEQ,
	SIP_H_MAX_FORWARDS,
	SIP_H_CONTENT_LENGTH,
	SIP_H_CONTENT_TYPE,
	SIP_H_CONTACT,
	SIP_H_ROUTE,
	SIP_H_RECORD_ROUTE,
	SIP_H_DATE,
	SIP_H_USER_AGENT,
	SIP_H__N,
};

struct sip_hdr {
	const char *name;     /* lowercase long form (static) or NULL if unknown */
	const char *raw_name; /* as written, points into the datagram */
	size_t raw_name_len;
	const char *val; /* unfolded (CRLF+WSP -> SP), trimmed; in scratch */
	size_t val_len;
	uint8_t id; /* enum sip_hid */
};

/* One message framed out of a datagram. */
struct sip_frame {
	const char *msg;   /* first octet of the start line */
	const char *start; /* start line without CRLF */
	size_t start_len;
	const char *body; /* after the empty line; points into the datagram */
	size_t body_len;  /* Content-Length, or the rest of the datagram */
	size_t msg_len;	  /* start line .. end of body */
	size_t consumed;  /* leading CRLFs + msg_len */
	size_t trailing;  /* octets after the body that are not CR/LF/SP/HT */
	int hdr_nul;	  /* a NUL octet somewhere in the header section */
	unsigned int n_hdr;
	struct sip_hdr hdr[SIP_MAX_HEADERS];
	int16_t first[SIP_H__N];  /* index of the first occurrence, -1 */
	uint16_t count[SIP_H__N]; /* header fields (not comma-separated values) */
	size_t scratch_len;
	char scratch[SIP_MAX_MSG_LEN + 1];
};

struct sip_start {
	int is_request;
	const char *method; /* requests */
	size_t method_len;
	const char *uri; /* requests, without <> when non-strict stripped them */
	size_t uri_len;
	int status; /* responses */
};

struct sip_uri_view {
	char scheme[16];  /* lowercase, truncated */
	const char *user; /* sip/sips: user part, escaped as written */
	size_t user_len;
	const char *host; /* sip/sips: host (IPv6 without the brackets) */
	size_t host_len;
	uint16_t port; /* 0 when absent */
};

struct sip_nameaddr {
	struct sip_uri_view uri;
	const char *tag; /* tag parameter value, NULL when absent */
	size_t tag_len;
};

/* Cap on what sipv_via keeps for loop detection (limits may not exceed it). */
#define SIPV_VIA_KEEP 256

struct sip_via_list {
	unsigned int n;		     /* Via values seen (all headers) */
	uint64_t key[SIPV_VIA_KEEP]; /* hash of sent-by + branch, 0 = no branch */
	const char *top_branch;	     /* branch of the first Via, NULL if none */
	size_t top_branch_len;
	const char *top; /* the first Via value (of a comma list) */
	size_t top_len;
	const char *top_transport; /* its sent-protocol transport ("UDP", "TCP", "WS"...) */
	size_t top_transport_len;
};

/* What the header checks extract, besides pass/fail. */
struct sip_checked {
	uint32_t cseq;
	const char *cseq_method;
	size_t cseq_method_len;
	int max_forwards; /* -1 when absent */
	struct sip_nameaddr from, to;
	struct sip_via_list via;
	char content_type[SIP_TOKEN_LEN]; /* lowercase type/subtype, "" when absent */
	const char *boundary;		  /* multipart boundary parameter, NULL if none */
	size_t boundary_len;
};

#define SIPV_DET 128

/* Framing: limits, lines, header fields, Content-Length, body, trailing data. */
int sipv_frame(const char *buf, size_t len, const struct sip_limits *lim, struct sip_frame *f,
	       char *det);
int sipv_start_line(const char *s, size_t n, int strict, struct sip_start *st, char *det);

#define SIPV_URI_NO_HEADERS (1u << 0) /* ?headers not allowed (Request-URI) */
/* The whole of s must be one URI; -SW_SIP_R_BAD_URI otherwise. */
int sipv_uri(const char *s, size_t n, unsigned int flags, struct sip_uri_view *u, char *det);
/*
 * One name-addr / addr-spec with its parameters, starting at *pos, stopping
 * before a top-level ',' (lists) or at the end. bad = the reason for a
 * structural error (BAD_FROM_TO, BAD_HEADER); a bad URI is BAD_URI.
 */
int sipv_name_addr(const char *s, size_t n, size_t *pos, int strict, int bad, const char *what,
		   struct sip_nameaddr *na, char *det);
/* A whole Contact / Route / Record-Route value (comma list; Contact may be "*"). */
int sipv_addr_list(const char *s, size_t n, int strict, int star_ok, const char *what, char *det);
/* One Via header value (possibly comma-separated), appended to vl. */
int sipv_via(const char *s, size_t n, struct sip_via_list *vl, char *det);
int sipv_cseq(const char *s, size_t n, uint32_t *num, const char **method, size_t *method_len,
	      char *det);
int sipv_max_forwards(const char *s, size_t n, int *mf, char *det);
int sipv_call_id(const char *s, size_t n, char *det);
int sipv_date(const char *s, size_t n, char *det);
int sipv_content_type(const char *s, size_t n, char *type, size_t type_len, const char **boundary,
		      size_t *boundary_len, char *det);
/* Control octets outside quoted strings in any header value. */
int sipv_header_text(const struct sip_hdr *h, char *det);

/*
 * All header checks in order: duplicates of single-value headers, required
 * headers, CSeq (and its method against the request's), Max-Forwards, Via,
 * From/To, Call-ID, Contact/Route/Record-Route, Date, Content-Type, Via loop
 * (requests).
 */
int sipv_headers(const struct sip_frame *f, const struct sip_start *st,
		 const struct sip_limits *lim, struct sip_checked *c, char *det);

/* Lowercase long name of a header name as written (compact forms expanded);
 * NULL when sipd has no table entry for it. */
const char *sipv_header_long_name(const char *name, size_t len, uint8_t *id);

#endif /* SIPD_VALIDATE_H */
