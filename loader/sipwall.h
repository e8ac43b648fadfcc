/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The sipwall CLI: parsed arguments shared by the commands, and the logging
 * every command reports through.
 */
#ifndef SW_LOADER_SIPWALL_H
#define SW_LOADER_SIPWALL_H

#include <stdbool.h>
#include <stdint.h>

#include "lib/swmap.h"

/* Exit codes (docs/cli.md). */
#define SW_EXIT_OK    0
#define SW_EXIT_FAIL  1 /* the operation failed; nothing was changed */
#define SW_EXIT_USAGE 2 /* bad command line */

/* attach --mode */
enum sw_cli_mode {
	SW_CLI_MODE_AUTO = 0,
	SW_CLI_MODE_NATIVE,
	SW_CLI_MODE_GENERIC,
	SW_CLI_MODE_TC,
};

struct sw_args {
	const char *pin_path;
	const char *iface;
	enum sw_cli_mode mode;
	bool media_set;
	uint16_t media_lo, media_hi;
	bool max_set;
	uint32_t max_pinholes;
	bool prealloc; /* attach --prealloc: sw_pinholes preallocated */
	bool no_egress;
	bool if_not_attached; /* attach: exit 0 if already attached alike */
	bool forward;	      /* attach --forward: XDP forwarding of pinholed media */
	bool forward_force;   /* ... even with NAT rules in the namespace */
	bool dscp_set;	      /* attach --dscp given */
	bool dscp_on;
	uint8_t dscp_audio, dscp_video; /* SW_DSCP_KEEP: leave as is */
	bool json;
	const char *dst;
	const char *src[SW_MAX_SOURCES];
	unsigned int nsrc;
	unsigned int check;
	int verbose;
	/* ban / trusted / flood (loader/ban.c); 0 = not given */
	const char *pos; /* the positional argument, whatever it names */
	bool ttl_set;
	uint32_t ttl_s;
	unsigned int reason; /* enum sw_ban_reason, default manual */
	bool sig_ports_set;
	uint16_t sig_ports[SW_SIG_PORTS];
	bool rate_set, burst_set;
	uint32_t rate, burst;
	uint8_t prefix_v4, prefix_v6, ban_prefix_v4, ban_prefix_v6;
};

/* tc filter identity of our clsact filters (handle and priority). */
#define SW_TC_HANDLE 0x5357
#define SW_TC_PRIO   0x5357

extern const char *sw_cmd_name; /* "attach", "pinhole add", ... */
extern int sw_verbose;

void pr_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void pr_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Commands: return an SW_EXIT_* code, having reported any error. */
int do_attach(const struct sw_args *a);
int do_detach(const struct sw_args *a);
int do_status(const struct sw_args *a);
int do_stats(const struct sw_args *a);
int do_pinhole_add(const struct sw_args *a);
int do_pinhole_del(const struct sw_args *a);
int do_pinhole_list(const struct sw_args *a);
int do_ban_add(const struct sw_args *a);
int do_ban_del(const struct sw_args *a);
int do_ban_list(const struct sw_args *a);
int do_ban_gc(const struct sw_args *a);
int do_trusted_add(const struct sw_args *a);
int do_trusted_del(const struct sw_args *a);
int do_trusted_list(const struct sw_args *a);
int do_flood_set(const struct sw_args *a);
int do_flood_show(const struct sw_args *a);

/* Shared by the commands (common.c). */
int sw_need_root(void);
int sw_open_maps_or_report(const char *pin_path, struct sw_maps *m);
const char *sw_mode_name(uint32_t mode);
/* Flood-guard and ban-list activity after the `stats` table (ban.c). */
void sw_dos_stats(const struct sw_maps *m);
/* Program id of sipwall's clsact filter on ifindex (attach.c), 0 if none. */
uint32_t sw_tc_prog_id(int ifindex, bool ingress);
/* XDP on ifindex (attach.c): *found = prog_id if attached there, else 0 (with
 * prog_id 0: any sipwall_xdp). 0 or -errno; -EPERM without CAP_SYS_ADMIN. */
int sw_xdp_lookup(int ifindex, uint32_t prog_id, uint32_t *found, bool *legacy);
/* attach --forward's checks (forward.c): mode, namespace, NAT rules, veth.
 * 0 go ahead, else a reported -errno. */
struct sw_netns;
int sw_forward_check(const struct sw_args *a, const struct sw_netns *ns);
/* fd of the map pinned as root/name, or -1 with errno (bpf_obj_get). */
int sw_pinned_fd(const char *root, const char *name);
/* sw_fwd_vlans: record the 802.1Q VLAN devices on lower (add) or forget
 * them, and set SW_CFG_FWD_VLANS while the map holds any; the number
 * recorded, or -errno (reported). */
int sw_fwd_vlans_sync(const char *pin_path, const char *iface, int lower, bool add);
/* The VIDs recorded for lower (at most max), for status. */
int sw_fwd_vlans_list(const char *pin_path, int lower, __u16 *vids, int max);

#endif /* SW_LOADER_SIPWALL_H */
