// SPDX-License-Identifier: GPL-2.0-only
/* pinhole add|del|list: manual pinholes (kind manual, no owning call). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <arpa/inet.h>
#include <linux/bpf.h>
#include <json-c/json.h>

#include "loader/sipwall.h"

static const char *kind_name(unsigned int kind)
{
	switch (kind) {
	case SW_KIND_RTP:
		return "rtp";
	case SW_KIND_RTCP:
		return "rtcp";
	case SW_KIND_RTP_RTCP_MUX:
		return "rtp_rtcp_mux";
	case SW_KIND_MANUAL:
		return "manual";
	}
	return "?";
}

/* "a.b.c.d:port" or "[v6]:port"; port 0 prints as the bare address. */
static void endpoint_format(const uint8_t addr[16], uint16_t port, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];

	sw_addr_format(addr, a, sizeof(a));
	if (!port)
		snprintf(buf, len, "%s", a);
	else if (sw_addr_is_v4(addr))
		snprintf(buf, len, "%s:%u", a, port);
	else
		snprintf(buf, len, "[%s]:%u", a, port);
}

static int parse_dst(const struct sw_args *a, struct sw_pinhole_key *k)
{
	uint8_t addr[16];
	uint16_t port;
	int err;

	err = sw_endpoint_parse(a->dst, addr, &port, 0);
	if (err) {
		pr_err("--dst '%s': expected IPv4:PORT or [IPv6]:PORT with PORT 1-65535", a->dst);
		return err;
	}
	sw_pinhole_key_init(k, addr, port);
	return 0;
}

int do_pinhole_add(const struct sw_args *a)
{
	struct sw_pinhole_key k;
	struct sw_pinhole v;
	struct sw_config cfg;
	struct sw_maps m;
	char dst[64];
	unsigned int i;
	uint16_t dport;
	int err, ret = SW_EXIT_FAIL;

	if (parse_dst(a, &k))
		return SW_EXIT_USAGE;
	dport = ntohs(k.port);
	if (!a->nsrc) {
		pr_err("at least one --src IP[:PORT] is required");
		return SW_EXIT_USAGE;
	}
	memset(&v, 0, sizeof(v));
	for (i = 0; i < a->nsrc; i++) {
		struct sw_source *s = &v.src[i];
		uint16_t port;

		if (sw_endpoint_parse(a->src[i], s->addr, &port, 1)) {
			pr_err("--src '%s': expected IPv4[:PORT] or IPv6 or [IPv6][:PORT]",
			       a->src[i]);
			return SW_EXIT_USAGE;
		}
		if (sw_addr_is_v4(s->addr) != sw_addr_is_v4(k.addr)) {
			pr_err("--src '%s' and --dst '%s' are different address families",
			       a->src[i], a->dst);
			return SW_EXIT_USAGE;
		}
		if (a->check == SW_CHECK_STRICT && !port) {
			pr_err("--src '%s': --check strict needs a source port (or use --check "
			       "address)",
			       a->src[i]);
			return SW_EXIT_USAGE;
		}
		s->port = htons(port);
		s->check = (uint8_t)a->check;
		s->flags = SW_SRC_ACTIVE;
	}
	v.created_ns = sw_monotonic_ns();
	v.kind = SW_KIND_MANUAL;
	endpoint_format(k.addr, dport, dst, sizeof(dst));

	if (sw_need_root() || sw_open_maps_or_report(a->pin_path, &m))
		return SW_EXIT_FAIL;
	if (!sw_config_read(&m, &cfg) && cfg.media_lo &&
	    (dport < cfg.media_lo || dport > cfg.media_hi)) {
		pr_err("--dst %s: port %u is outside the media range %u-%u, where nothing is "
		       "enforced",
		       dst, dport, cfg.media_lo, cfg.media_hi);
		goto out;
	}
	err = sw_pinhole_put(&m, &k, &v, BPF_NOEXIST);
	if (err == -EEXIST) {
		pr_err("a pinhole for %s already exists (sipwall pinhole del --dst %s first)", dst,
		       a->dst);
		goto out;
	}
	if (err == -E2BIG) {
		pr_err("the pinhole map is full (%u entries; attach with a larger --max-pinholes)",
		       cfg.max_pinholes);
		goto out;
	}
	if (err) {
		pr_err("cannot add the pinhole for %s: %s", dst, strerror(-err));
		goto out;
	}
	printf("sipwall: pinhole %s added (%u source%s, %s)\n", dst, a->nsrc,
	       a->nsrc == 1 ? "" : "s", sw_check_name(a->check));
	ret = SW_EXIT_OK;
out:
	sw_maps_close(&m);
	return ret;
}

int do_pinhole_del(const struct sw_args *a)
{
	struct sw_pinhole_key k;
	struct sw_maps m;
	char dst[64];
	int err;

	if (parse_dst(a, &k))
		return SW_EXIT_USAGE;
	endpoint_format(k.addr, ntohs(k.port), dst, sizeof(dst));
	if (sw_need_root() || sw_open_maps_or_report(a->pin_path, &m))
		return SW_EXIT_FAIL;
	err = sw_pinhole_del(&m, &k);
	sw_maps_close(&m);
	if (err == -ENOENT) {
		pr_err("no pinhole for %s", dst);
		return SW_EXIT_FAIL;
	}
	if (err) {
		pr_err("cannot delete the pinhole for %s: %s", dst, strerror(-err));
		return SW_EXIT_FAIL;
	}
	printf("sipwall: pinhole %s deleted\n", dst);
	return SW_EXIT_OK;
}

struct list_ctx {
	json_object *arr;
	uint64_t now;
	unsigned int n;
};

static int list_cb(const struct sw_pinhole_key *k, const struct sw_pinhole *v, void *vctx)
{
	struct list_ctx *c = vctx;
	char dst[64], src[64], addr[INET6_ADDRSTRLEN], call[SW_CALL_ID_LEN + 1];
	char srcs[4 * 80] = "";
	unsigned int i;

	memcpy(call, v->call_id, SW_CALL_ID_LEN);
	call[SW_CALL_ID_LEN] = '\0';
	endpoint_format(k->addr, ntohs(k->port), dst, sizeof(dst));

	if (c->arr) {
		json_object *o = json_object_new_object(), *sa = json_object_new_array();
		char hash[20];

		sw_addr_format(k->addr, addr, sizeof(addr));
		json_object_object_add(o, "dst", json_object_new_string(addr));
		json_object_object_add(o, "port", json_object_new_int(ntohs(k->port)));
		json_object_object_add(o, "proto", json_object_new_int(k->proto));
		json_object_object_add(o, "kind", json_object_new_string(kind_name(v->kind)));
		for (i = 0; i < SW_MAX_SOURCES; i++) {
			const struct sw_source *s = &v->src[i];
			json_object *so;

			if (!(s->flags & SW_SRC_ACTIVE))
				continue;
			so = json_object_new_object();
			sw_addr_format(s->addr, addr, sizeof(addr));
			json_object_object_add(so, "addr", json_object_new_string(addr));
			json_object_object_add(so, "port", json_object_new_int(ntohs(s->port)));
			json_object_object_add(so, "check",
					       json_object_new_string(sw_check_name(s->check)));
			json_object_object_add(so, "learned",
					       json_object_new_boolean(s->flags & SW_SRC_LEARNED));
			json_object_array_add(sa, so);
		}
		json_object_object_add(o, "sources", sa);
		json_object_object_add(o, "packets", json_object_new_uint64(v->packets));
		json_object_object_add(o, "bytes", json_object_new_uint64(v->bytes));
		json_object_object_add(o, "drops", json_object_new_uint64(v->drops));
		json_object_object_add(o, "last_seen_ns", json_object_new_uint64(v->last_seen_ns));
		json_object_object_add(o, "created_ns", json_object_new_uint64(v->created_ns));
		snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)v->call_hash);
		json_object_object_add(o, "call_hash", json_object_new_string(hash));
		json_object_object_add(o, "call_id", json_object_new_string(call));
		json_object_object_add(o, "media_idx", json_object_new_int(v->media_idx));
		json_object_object_add(o, "side", json_object_new_int(v->side));
		json_object_array_add(c->arr, o);
		c->n++;
		return 0;
	}

	for (i = 0; i < SW_MAX_SOURCES; i++) {
		const struct sw_source *s = &v->src[i];
		size_t l = strlen(srcs);

		if (!(s->flags & SW_SRC_ACTIVE))
			continue;
		endpoint_format(s->addr, ntohs(s->port), src, sizeof(src));
		snprintf(srcs + l, sizeof(srcs) - l, "%s%s/%s%s", l ? "," : "", src,
			 sw_check_name(s->check), s->flags & SW_SRC_LEARNED ? "(learned)" : "");
	}
	if (!c->n)
		printf("%-24s %-7s %10s %12s %8s %8s  %-40s %s\n", "DST", "KIND", "PACKETS",
		       "BYTES", "DROPS", "IDLE_S", "SOURCES", "CALL_ID");
	{
		char idle[24] = "-";

		if (v->last_seen_ns && c->now >= v->last_seen_ns)
			snprintf(idle, sizeof(idle), "%.1f", (c->now - v->last_seen_ns) / 1e9);
		printf("%-24s %-7s %10llu %12llu %8llu %8s  %-40s %s\n", dst, kind_name(v->kind),
		       (unsigned long long)v->packets, (unsigned long long)v->bytes,
		       (unsigned long long)v->drops, idle, srcs, *call ? call : "-");
	}
	c->n++;
	return 0;
}

int do_pinhole_list(const struct sw_args *a)
{
	struct list_ctx c = {.now = sw_monotonic_ns()};
	struct sw_maps m;
	int err;

	if (sw_open_maps_or_report(a->pin_path, &m))
		return SW_EXIT_FAIL;
	if (a->json)
		c.arr = json_object_new_array();
	err = sw_pinhole_foreach(&m, list_cb, &c);
	sw_maps_close(&m);
	if (err) {
		pr_err("cannot read sw_pinholes under %s: %s", a->pin_path, strerror(-err));
		json_object_put(c.arr);
		return SW_EXIT_FAIL;
	}
	if (c.arr) {
		printf("%s\n", json_object_to_json_string_ext(c.arr, JSON_C_TO_STRING_PRETTY));
		json_object_put(c.arr);
	} else if (!c.n) {
		printf("no pinholes\n");
	}
	return SW_EXIT_OK;
}
