// SPDX-License-Identifier: GPL-2.0-only
/* status and stats: read-only views of the pinned state, text or JSON. */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <xdp/libxdp.h>

#include "loader/sipwall.h"

struct live {
	const char *attach; /* what libxdp (or tc) says now */
	char buf[96];
	__u32 dispatcher_id;
	int present;	/* 1 attached, 0 not, -1 cannot tell from here */
	int this_netns; /* 1 this namespace, 0 another, -1 unknown (schema 1) */
};

/*
 * The attachment as the kernel sees it now, not as recorded. Read-only: a
 * record of another network namespace is reported as such (its ifindex
 * means nothing here), never looked up, never touched.
 */
static void live_state(const struct sw_iface_info *info, const struct sw_netns *ns, struct live *l)
{
	struct xdp_multiprog *mp;
	struct xdp_program *p;
	char name[IF_NAMESIZE];
	__u32 found;
	int err;

	memset(l, 0, sizeof(*l));
	l->present = -1;
	l->this_netns = sw_iface_in_netns(info, ns);
	if (l->this_netns == 0) {
		snprintf(l->buf, sizeof(l->buf), "in another network namespace (netns inode %u)",
			 info->netns_ino);
		l->attach = l->buf;
		return;
	}
	if (!if_indextoname(info->ifindex, name) || strncmp(name, info->name, sizeof(info->name))) {
		l->attach = l->this_netns == 1
				    ? "interface gone (deleted, renamed or moved to another netns)"
				    : "network namespace not recorded (older sipwall); not here";
		if (l->this_netns == 1)
			l->present = 0;
		return;
	}
	if (info->mode == SW_MODE_TC) {
		l->present = sw_tc_prog_id((int)info->ifindex, true) == info->prog_id;
		l->attach = l->present ? "tc clsact ingress" : "not attached (TC filter gone)";
		goto out;
	}
	err = sw_xdp_lookup((int)info->ifindex, info->prog_id, &found, NULL);
	if (err) {
		snprintf(l->buf, sizeof(l->buf), "unknown (cannot look up XDP programs: %s%s)",
			 strerror(-err), err == -EPERM ? ", needs CAP_SYS_ADMIN" : "");
		l->attach = l->buf;
		return;
	}
	if (!found) {
		l->present = 0;
		l->attach = "not attached (XDP program gone)";
		goto out;
	}
	l->present = 1;
	mp = xdp_multiprog__get_from_ifindex((int)info->ifindex);
	if (libxdp_get_error(mp) || !mp) {
		l->attach = "attached";
	} else if (xdp_multiprog__is_legacy(mp)) {
		l->attach = "single program (dispatcher unavailable)";
		xdp_multiprog__close(mp);
	} else {
		p = xdp_multiprog__main_prog(mp);
		l->dispatcher_id = p ? xdp_program__id(p) : 0;
		l->attach = "libxdp dispatcher";
		xdp_multiprog__close(mp);
	}
out:
	if (l->this_netns < 0 && l->present == 1) {
		/* A schema 1 record that does run here: say so. */
		snprintf(l->buf, sizeof(l->buf), "%s (network namespace not recorded)", l->attach);
		l->attach = l->buf;
	} else if (l->this_netns < 0) {
		/* Not here, but it may well run in the namespace that wrote it. */
		l->present = -1;
		l->attach = "network namespace not recorded (older sipwall); not attached here";
	}
}

struct status_ctx {
	json_object *arr;
	const struct sw_netns *ns;
	const char *pin_path;
	unsigned int n;
};

static json_object *tristate(int v)
{
	return v < 0 ? NULL : json_object_new_boolean(v);
}

static int status_iface_cb(const struct sw_iface_info *info, void *vctx)
{
	struct status_ctx *c = vctx;
	__u16 vids[64];
	int nv = 0, i;
	struct live l;

	live_state(info, c->ns, &l);
	/* VLAN devices recorded for forwarding: ifindexes of this namespace */
	if ((info->flags & SW_IF_FORWARD) && l.this_netns == 1)
		nv = sw_fwd_vlans_list(c->pin_path, (int)info->ifindex, vids, 64);
	if (c->arr) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "name", json_object_new_string(info->name));
		json_object_object_add(o, "ifindex", json_object_new_int64(info->ifindex));
		json_object_object_add(o, "mode", json_object_new_string(sw_mode_name(info->mode)));
		json_object_object_add(o, "attach", json_object_new_string(l.attach));
		json_object_object_add(o, "attached", tristate(l.present));
		json_object_object_add(o, "this_netns", tristate(l.this_netns));
		json_object_object_add(o, "netns_ino", json_object_new_int64(info->netns_ino));
		json_object_object_add(o, "netns_cookie",
				       json_object_new_uint64(info->netns_cookie));
		json_object_object_add(o, "prog_id", json_object_new_int64(info->prog_id));
		json_object_object_add(o, "egress_prog_id",
				       json_object_new_int64(info->egress_prog_id));
		json_object_object_add(o, "priority", json_object_new_int64(info->priority));
		json_object_object_add(o, "forward",
				       json_object_new_boolean(!!(info->flags & SW_IF_FORWARD)));
		json_object_object_add(o, "dispatcher_id", json_object_new_int64(l.dispatcher_id));
		if (info->flags & SW_IF_FORWARD) {
			json_object *va = json_object_new_array();

			for (i = 0; i < nv; i++)
				json_object_array_add(va, json_object_new_int64(vids[i]));
			json_object_object_add(o, "forward_vlans", va);
		}
		json_object_array_add(c->arr, o);
	} else {
		char prio[16] = "-", egress[16] = "-";

		if (info->mode != SW_MODE_TC)
			snprintf(prio, sizeof(prio), "%u", info->priority);
		if (info->egress_prog_id)
			snprintf(egress, sizeof(egress), "%u", info->egress_prog_id);
		if (!c->n)
			printf("%-15s %7s %-8s %8s %8s %5s  %s\n", "IFACE", "IFINDEX", "MODE",
			       "PROG", "EGRESS", "PRIO", "ATTACH");
		printf("%-15s %7u %-8s %8u %8s %5s  %s", info->name, info->ifindex,
		       sw_mode_name(info->mode), info->prog_id, egress, prio, l.attach);
		if (l.dispatcher_id)
			printf(" (id %u)", l.dispatcher_id);
		if (info->flags & SW_IF_FORWARD)
			printf(", forwarding in XDP");
		for (i = 0; i < nv; i++)
			printf("%s%u", i ? "," : " (802.1Q VLANs ", vids[i]);
		if (nv)
			printf(")");
		printf("\n");
	}
	c->n++;
	return 0;
}

/*
 * What the sipd serving this pin path last wrote (sw_sipd_status_path):
 * the transports it inspects and the SIP it cannot inspect. NULL when no
 * sipd runs (no file) or the file cannot be read.
 */
static json_object *sipd_state(const char *pin_path, char *path, size_t len)
{
	json_object *o;

	if (sw_sipd_status_path(pin_path, path, len) || access(path, R_OK))
		return NULL;
	o = json_object_from_file(path);
	if (o && !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = NULL;
	}
	return o;
}

static long long jint(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v))
		return 0;
	if (b && !json_object_object_get_ex(v, b, &v))
		return 0;
	return json_object_get_int64(v);
}

static const char *jstr(json_object *o, const char *a, const char *b)
{
	json_object *v = NULL;

	if (!json_object_object_get_ex(o, a, &v) || (b && !json_object_object_get_ex(v, b, &v)))
		return "";
	return json_object_get_string(v);
}

/* Replication state (docs/ha.md), when sipd runs with "cluster" on. */
static void print_cluster(json_object *st)
{
	json_object *cl = NULL, *en = NULL;

	if (!json_object_object_get_ex(st, "cluster", &cl) ||
	    !json_object_object_get_ex(cl, "enabled", &en) || !json_object_get_boolean(en)) {
		printf("  cluster: off\n");
		return;
	}
	printf("  cluster: node %s, %s %s; queue %lld/%lld; %lld remote pinholes; %lld other "
	       "nodes alive\n",
	       jstr(st, "cluster", "node_id"),
	       json_object_get_boolean(json_object_object_get(cl, "connected"))
		       ? "connected to"
		       : "NOT connected, last",
	       jstr(st, "cluster", "redis")[0] ? jstr(st, "cluster", "redis") : "-",
	       jint(st, "cluster", "queue_depth"), jint(st, "cluster", "queue_len"),
	       jint(st, "cluster", "remote_pinholes"), jint(st, "cluster", "owners_alive"));
	printf("    published %lld (errors %lld, dropped %lld), applied %lld of %lld received "
	       "(bad %lld, stale %lld, conflicts %lld), resyncs %lld (last %lld records in "
	       "%lld ms), reconnects %lld\n",
	       jint(st, "cluster", "published"), jint(st, "cluster", "publish_errors"),
	       jint(st, "cluster", "queue_dropped"), jint(st, "cluster", "applied"),
	       jint(st, "cluster", "received"), jint(st, "cluster", "bad_records"),
	       jint(st, "cluster", "stale"), jint(st, "cluster", "conflicts"),
	       jint(st, "cluster", "resyncs"), jint(st, "cluster", "last_resync_records"),
	       jint(st, "cluster", "last_resync_ms"), jint(st, "cluster", "disconnects"));
	if (jstr(st, "cluster", "last_error")[0])
		printf("    last problem: %s\n", jstr(st, "cluster", "last_error"));
}

static void print_sipd(json_object *st, const char *path)
{
	json_object *tr = NULL, *un = NULL, *top = NULL;
	long long age = (long long)time(NULL) - jint(st, "updated_unix", NULL);

	printf("sipd: pid %lld, state %llds old (%s)\n", jint(st, "pid", NULL), age, path);
	printf("  transports inspected:");
	if (json_object_object_get_ex(st, "transports", &tr) &&
	    json_object_is_type(tr, json_type_array))
		for (size_t i = 0; i < json_object_array_length(tr); i++)
			printf(" %s", json_object_get_string(json_object_array_get_idx(tr, i)));
	printf("\n  tcp: %lld connections, %lld bytes buffered, %lld messages (%lld over "
	       "WebSocket), %lld segments rejected, %lld resets\n",
	       jint(st, "tcp", "connections"), jint(st, "tcp", "buffered_bytes"),
	       jint(st, "tcp", "messages"), jint(st, "tcp", "ws_messages"),
	       jint(st, "tcp", "rejected"), jint(st, "tcp", "resets"));
	json_object_object_get_ex(st, "uninspectable", &un);
	printf("  uninspectable SIP (%s): %lld TLS and %lld WSS connections from %lld peers",
	       un && json_object_object_get_ex(un, "action", &tr) ? json_object_get_string(tr)
								  : "?",
	       jint(st, "uninspectable", "tls"), jint(st, "uninspectable", "wss"),
	       jint(st, "uninspectable", "peers"));
	if (un && json_object_object_get_ex(un, "top_peers", &top) &&
	    json_object_is_type(top, json_type_array) && json_object_array_length(top)) {
		printf(":");
		for (size_t i = 0; i < json_object_array_length(top); i++) {
			json_object *p = json_object_array_get_idx(top, i), *ad = NULL;

			json_object_object_get_ex(p, "addr", &ad);
			printf(" %s (%lld)", ad ? json_object_get_string(ad) : "?",
			       jint(p, "connections", NULL));
		}
	}
	printf("\n");
	print_cluster(st);
	if (jint(st, "uninspectable", "tls") + jint(st, "uninspectable", "wss") > 0)
		printf("  note: calls signalled over TLS/WSS get no pinholes from inline "
		       "inspection; drive them through the control API or set "
		       "\"uninspectable\": \"drop\"\n");
}

int do_status(const struct sw_args *a)
{
	struct status_ctx c = {0};
	struct sw_netns ns;
	struct sw_config cfg = {};
	struct sw_maps m;
	unsigned int count = 0;
	struct bpf_map_info pi = {};
	__u32 pilen = sizeof(pi);
	bool prealloc;
	json_object *root = NULL, *st = NULL;
	char st_path[512];
	int err, ret = SW_EXIT_FAIL;

	err = sw_netns_self(&ns);
	if (err) {
		pr_err("cannot identify this network namespace: %s", strerror(-err));
		return SW_EXIT_FAIL;
	}
	c.ns = &ns;
	c.pin_path = a->pin_path;
	if (sw_open_maps_or_report(a->pin_path, &m))
		return SW_EXIT_FAIL;
	err = sw_config_read(&m, &cfg);
	if (!err)
		err = sw_pinhole_count(&m, &count);
	if (!err)
		err = bpf_obj_get_info_by_fd(m.pinholes, &pi, &pilen) ? -errno : 0;
	if (err) {
		pr_err("cannot read the maps pinned under %s: %s", a->pin_path, strerror(-err));
		goto out;
	}
	prealloc = !(pi.map_flags & BPF_F_NO_PREALLOC);
	if (a->json) {
		root = json_object_new_object();
		c.arr = json_object_new_array();
		json_object_object_add(root, "pin_path", json_object_new_string(a->pin_path));
		json_object_object_add(root, "schema_version", json_object_new_int64(cfg.version));
		json_object_object_add(root, "media_lo", json_object_new_int64(cfg.media_lo));
		json_object_object_add(root, "media_hi", json_object_new_int64(cfg.media_hi));
		json_object_object_add(root, "pinholes", json_object_new_int64(count));
		json_object_object_add(root, "max_pinholes",
				       json_object_new_int64(cfg.max_pinholes));
		json_object_object_add(root, "pinholes_preallocated",
				       json_object_new_boolean(prealloc));
		if (cfg.flags & SW_CFG_DSCP) {
			json_object *d = json_object_new_object();

			json_object_object_add(d, "audio", json_object_new_int64(cfg.dscp_audio));
			json_object_object_add(d, "video", json_object_new_int64(cfg.dscp_video));
			json_object_object_add(root, "dscp", d);
		} else {
			json_object_object_add(root, "dscp", NULL);
		}
		json_object_object_add(root, "interfaces", c.arr);
	} else {
		printf("pin path %s (schema v%u)\nmedia ports %u-%u; pinholes %u of %u (%s)\n",
		       a->pin_path, cfg.version, cfg.media_lo, cfg.media_hi, count,
		       cfg.max_pinholes, prealloc ? "preallocated" : "allocated on demand");
		if (cfg.flags & SW_CFG_DSCP)
			printf("dscp marking of pinholed media (XDP): audio %d, video %d "
			       "(-1 = kept)\n",
			       cfg.dscp_audio < 64 ? cfg.dscp_audio : -1,
			       cfg.dscp_video < 64 ? cfg.dscp_video : -1);
	}
	err = sw_iface_foreach(&m, status_iface_cb, &c);
	if (err) {
		pr_err("cannot read sw_ifaces: %s", strerror(-err));
		goto out;
	}
	st = sipd_state(a->pin_path, st_path, sizeof(st_path));
	if (root) {
		json_object_object_add(root, "sipd", st);
		st = NULL;
		printf("%s\n",
		       json_object_to_json_string_ext(
			       root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		if (!c.n)
			printf("no interfaces attached\n");
		if (st)
			print_sipd(st, st_path);
		else
			printf("sipd: not running for this pin path (no %s)\n", st_path);
	}
	json_object_put(st);
	ret = SW_EXIT_OK;
out:
	json_object_put(root);
	sw_maps_close(&m);
	return ret;
}

int do_stats(const struct sw_args *a)
{
	struct sw_stat st[SW_R_MAX];
	struct sw_maps m;
	json_object *root;
	unsigned int r;
	int err;

	if (sw_open_maps_or_report(a->pin_path, &m))
		return SW_EXIT_FAIL;
	err = sw_stats_read(&m, st);
	if (err) {
		sw_maps_close(&m);
		pr_err("cannot read sw_stats under %s: %s", a->pin_path, strerror(-err));
		return SW_EXIT_FAIL;
	}
	if (a->json) {
		root = json_object_new_object();
		for (r = 0; r < SW_R_MAX; r++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "packets", json_object_new_uint64(st[r].packets));
			json_object_object_add(o, "bytes", json_object_new_uint64(st[r].bytes));
			json_object_object_add(root, sw_reason_name(r), o);
		}
		/* Every key a reason (scripts iterate them): the DoS summary
		 * is in `flood show --json` and `ban list --json`. */
		sw_maps_close(&m);
		printf("%s\n", json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY));
		json_object_put(root);
		return SW_EXIT_OK;
	}
	printf("%-28s %12s %16s\n", "REASON", "PACKETS", "BYTES");
	for (r = 0; r < SW_R_MAX; r++)
		printf("%-28s %12llu %16llu\n", sw_reason_name(r),
		       (unsigned long long)st[r].packets, (unsigned long long)st[r].bytes);
	sw_dos_stats(&m);
	sw_maps_close(&m);
	return SW_EXIT_OK;
}
