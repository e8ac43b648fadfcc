// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipwall CLI entry: one table of commands, one table of options; the
 * parser and every --help are generated from them, so help matches the code.
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/libbpf.h>
#include <xdp/libxdp.h>

#include "loader/sipwall.h"

const char *sw_cmd_name = "";
int sw_verbose;

enum opt_id {
	O_HELP = 'h',
	O_VERBOSE = 'v',
	O_PIN_PATH = 256,
	O_MODE,
	O_MEDIA,
	O_MAX,
	O_NO_EGRESS,
	O_IF_NOT_ATTACHED,
	O_JSON,
	O_DST,
	O_SRC,
	O_CHECK,
	O_TTL,
	O_REASON,
	O_SIG_PORTS,
	O_RATE,
	O_BURST,
	O_PREFIX_V4,
	O_PREFIX_V6,
	O_BAN_PREFIX_V4,
	O_BAN_PREFIX_V6,
	O_FORWARD,
	O_FORWARD_FORCE,
	O_DSCP,
	O_PREALLOC,
};

struct opt_def {
	enum opt_id id;
	const char *name;
	const char *metavar; /* NULL: no argument */
	const char *help;
};

static const struct opt_def opt_defs[] = {
	{O_MODE, "mode", "MODE",
	 "native|generic|tc|auto (default auto: native XDP if the driver has it, else generic)"},
	{O_MEDIA, "media-ports", "LO-HI",
	 "UDP destination ports enforced (default 10000-20000, or the pinned range)"},
	{O_MAX, "max-pinholes", "N",
	 "size of the pinhole map (default 65536, or the pinned map's size)"},
	{O_PREALLOC, "prealloc", NULL,
	 "preallocate the pinhole map: its memory (about 153 B x max-pinholes) is taken at "
	 "attach instead of per pinhole; fewer bytes per pinhole when full (docs/operations.md)"},
	{O_NO_EGRESS, "no-egress", NULL,
	 "do not attach the TC egress learner (symmetric pinholes then never learn)"},
	{O_FORWARD, "forward", NULL,
	 "forward media that passed its pinhole in XDP (FIB lookup + redirect to another "
	 "--forward interface), bypassing netfilter FORWARD/POSTROUTING, tc egress and qdiscs; "
	 "refused where NAT rules exist (docs/forwarding.md)"},
	{O_FORWARD_FORCE, "forward-force", NULL,
	 "--forward even though nft/iptables NAT rules exist in this namespace (they are "
	 "bypassed for forwarded media)"},
	{O_DSCP, "dscp", "on|off|A,V",
	 "DSCP marking of pinholed media in XDP, for the whole pin path: on (audio EF 46, video "
	 "AF41 34), off (default), or A,V (0-63, or - to keep a kind's)"},
	{O_IF_NOT_ATTACHED, "if-not-attached", NULL,
	 "succeed without change if IFACE is already attached here alike (same mode and "
	 "egress learner, program running)"},
	{O_DST, "dst", "IP:PORT", "protected media destination; [v6]:port for IPv6"},
	{O_SRC, "src", "IP[:PORT]",
	 "allowed source, repeat for up to 4 (port required for strict)"},
	{O_CHECK, "check", "MODE",
	 "source check for every --src: strict|address|symmetric (default strict)"},
	{O_TTL, "ttl", "SECONDS", "ban for this long (1-315360000; default: until ban del)"},
	{O_REASON, "reason", "R",
	 "why: manual (default), scanner_user_agent, malformed_messages, auth_failures, "
	 "user_enumeration or flood"},
	{O_SIG_PORTS, "sig-ports", "P[,P...]",
	 "SIP signalling UDP ports, up to 4 (default 5060,5061), or 'none'"},
	{O_RATE, "rate", "N", "flood guard: packets/s per source (0-1000000; 0 = off)"},
	{O_BURST, "burst", "N", "flood guard: bucket depth in packets (1-1000000; default = rate)"},
	{O_PREFIX_V4, "prefix-v4", "N", "flood guard: one bucket per IPv4 /N (1-32, default 32)"},
	{O_PREFIX_V6, "prefix-v6", "N", "flood guard: one bucket per IPv6 /N (1-128, default 64)"},
	{O_BAN_PREFIX_V4, "ban-prefix-v4", "N", "bans cover an IPv4 /N (1-32, default 32)"},
	{O_BAN_PREFIX_V6, "ban-prefix-v6", "N", "bans cover an IPv6 /N (1-128, default 128)"},
	{O_JSON, "json", NULL, "print JSON"},
	{O_PIN_PATH, "pin-path", "P", "pinned map directory (default " SW_PIN_ROOT_DEFAULT ")"},
	{O_VERBOSE, "verbose", NULL, "show libbpf/libxdp messages"},
	{O_HELP, "help", NULL, "show this help"},
};

#define COMMON_OPTS O_PIN_PATH, O_VERBOSE, O_HELP

struct cmd_def {
	const char *name;
	const char *positional; /* NULL: none */
	const char *summary;
	int (*run)(const struct sw_args *a);
	bool needs_dst;
	enum opt_id opts[14]; /* zero-terminated */
};

static const struct cmd_def cmd_defs[] = {
	{"attach",
	 "IFACE",
	 "attach the data path to IFACE (XDP or TC ingress, TC egress learner)",
	 do_attach,
	 false,
	 {O_MODE, O_MEDIA, O_MAX, O_PREALLOC, O_NO_EGRESS, O_FORWARD, O_FORWARD_FORCE, O_DSCP,
	  O_IF_NOT_ATTACHED, COMMON_OPTS}},
	{"detach",
	 "IFACE",
	 "detach what attach put on IFACE; pinned maps and pinholes stay",
	 do_detach,
	 false,
	 {COMMON_OPTS}},
	{"status",
	 NULL,
	 "show attached interfaces, programs, media range and pinhole count",
	 do_status,
	 false,
	 {O_JSON, COMMON_OPTS}},
	{"pinhole add",
	 NULL,
	 "add a manual pinhole letting --src send to --dst",
	 do_pinhole_add,
	 true,
	 {O_DST, O_SRC, O_CHECK, COMMON_OPTS}},
	{"pinhole del",
	 NULL,
	 "delete the pinhole for --dst",
	 do_pinhole_del,
	 true,
	 {O_DST, COMMON_OPTS}},
	{"pinhole list",
	 NULL,
	 "list pinholes with their sources and counters",
	 do_pinhole_list,
	 false,
	 {O_JSON, COMMON_OPTS}},
	{"stats",
	 NULL,
	 "packets and bytes per verdict reason, summed over CPUs; flood guard and bans",
	 do_stats,
	 false,
	 {O_JSON, COMMON_OPTS}},
	{"ban add",
	 "IP[/PREFIX]",
	 "drop media and signalling from a source (prefix = the configured ban prefix)",
	 do_ban_add,
	 false,
	 {O_TTL, O_REASON, COMMON_OPTS}},
	{"ban del", "IP[/PREFIX]", "lift the ban covering IP", do_ban_del, false, {COMMON_OPTS}},
	{"ban list",
	 NULL,
	 "list bans with their reason, remaining time and dropped packets",
	 do_ban_list,
	 false,
	 {O_JSON, COMMON_OPTS}},
	{"ban gc",
	 NULL,
	 "remove expired bans (sipd does this itself)",
	 do_ban_gc,
	 false,
	 {COMMON_OPTS}},
	{"trusted add",
	 "CIDR",
	 "exempt a network from the flood guard (and from bans)",
	 do_trusted_add,
	 false,
	 {COMMON_OPTS}},
	{"trusted del", "CIDR", "remove a trusted network", do_trusted_del, false, {COMMON_OPTS}},
	{"trusted list",
	 NULL,
	 "list trusted networks",
	 do_trusted_list,
	 false,
	 {O_JSON, COMMON_OPTS}},
	{"flood set",
	 NULL,
	 "set signalling ports, flood-guard rate/burst/prefixes and ban prefixes (live)",
	 do_flood_set,
	 false,
	 {O_SIG_PORTS, O_RATE, O_BURST, O_PREFIX_V4, O_PREFIX_V6, O_BAN_PREFIX_V4, O_BAN_PREFIX_V6,
	  COMMON_OPTS}},
	{"flood show",
	 NULL,
	 "show flood-guard settings and the sources it limits most",
	 do_flood_show,
	 false,
	 {O_JSON, COMMON_OPTS}},
};

/* Commands of two words: the group, then its subcommands. */
static const char *const cmd_groups[] = {"pinhole", "ban", "trusted", "flood"};

#define ARRAY_SIZE(x) (sizeof(x) / sizeof((x)[0]))

static void vlog(const char *level, const char *fmt, va_list ap)
{
	fprintf(stderr, "sipwall%s%s: %s", *sw_cmd_name ? " " : "", sw_cmd_name, level);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("", fmt, ap);
	va_end(ap);
}

void pr_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

void pr_debug(const char *fmt, ...)
{
	va_list ap;

	if (!sw_verbose)
		return;
	va_start(ap, fmt);
	vlog("debug: ", fmt, ap);
	va_end(ap);
}

/* libbpf and libxdp explain failures we report ourselves; quiet unless -v. */
static int lib_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!sw_verbose || (level == LIBBPF_DEBUG && sw_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int xdp_print(enum libxdp_print_level level, const char *fmt, va_list ap)
{
	if (!sw_verbose || (level == LIBXDP_DEBUG && sw_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static const struct opt_def *opt_find(enum opt_id id)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(opt_defs); i++)
		if (opt_defs[i].id == id)
			return &opt_defs[i];
	return NULL;
}

static void cmd_usage(FILE *f, const struct cmd_def *c)
{
	const enum opt_id *o;

	fprintf(f, "Usage: sipwall %s%s%s [options]\n%s.\n\nOptions:\n", c->name,
		c->positional ? " " : "", c->positional ? c->positional : "", c->summary);
	for (o = c->opts; *o; o++) {
		const struct opt_def *d = opt_find(*o);
		char lhs[64];

		if (*o == O_HELP || *o == O_VERBOSE)
			snprintf(lhs, sizeof(lhs), "-%c, --%s", *o, d->name);
		else
			snprintf(lhs, sizeof(lhs), "    --%s%s%s", d->name, d->metavar ? " " : "",
				 d->metavar ? d->metavar : "");
		fprintf(f, "  %-26s %s\n", lhs, d->help);
	}
}

static void main_usage(FILE *f)
{
	size_t i;

	fprintf(f, "Usage: sipwall COMMAND [options]   (sipwall COMMAND --help for its options)\n"
		   "SIP-aware media firewall: XDP/TC pinhole enforcement.\n\nCommands:\n");
	for (i = 0; i < ARRAY_SIZE(cmd_defs); i++) {
		char lhs[64];

		snprintf(lhs, sizeof(lhs), "%s%s%s", cmd_defs[i].name,
			 cmd_defs[i].positional ? " " : "",
			 cmd_defs[i].positional ? cmd_defs[i].positional : "");
		fprintf(f, "  %-20s %s\n", lhs, cmd_defs[i].summary);
	}
	fprintf(f, "\nExit status: 0 success, 1 failure (nothing changed), 2 bad command line.\n");
}

/* Strict decimal: digits only, no sign, no blanks, within [min, max]. */
static int parse_uint(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
	unsigned long v = 0;
	const char *p;

	if (!*s || strlen(s) > 10)
		return -EINVAL;
	for (p = s; *p; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(*p - '0');
	}
	if (v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

static int parse_range(const char *s, uint16_t *lo, uint16_t *hi)
{
	char buf[16];
	char *dash;
	unsigned long l, h;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (!dash)
		return -EINVAL;
	*dash = '\0';
	if (parse_uint(buf, 1, 65535, &l) || parse_uint(dash + 1, 1, 65535, &h) || l > h)
		return -EINVAL;
	*lo = (uint16_t)l;
	*hi = (uint16_t)h;
	return 0;
}

/* "5060,5061" (1 to SW_SIG_PORTS distinct ports) or "none"; unused slots 0. */
static int parse_ports(const char *s, uint16_t out[SW_SIG_PORTS])
{
	char buf[64], *tok, *save = NULL;
	unsigned long v;
	unsigned int n = 0, i;

	memset(out, 0, SW_SIG_PORTS * sizeof(out[0]));
	if (!strcmp(s, "none"))
		return 0;
	if (!*s || strlen(s) >= sizeof(buf) || s[strlen(s) - 1] == ',' || strstr(s, ",,"))
		return -EINVAL;
	strcpy(buf, s);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		if (n == SW_SIG_PORTS || parse_uint(tok, 1, 65535, &v))
			return -EINVAL;
		for (i = 0; i < n; i++)
			if (out[i] == v)
				return -EINVAL;
		out[n++] = (uint16_t)v;
	}
	return n ? 0 : -EINVAL;
}

static int apply_opt(struct sw_args *a, enum opt_id id, const char *arg)
{
	unsigned long v;

	switch (id) {
	case O_PIN_PATH:
		if (!*arg || arg[0] != '/' || strlen(arg) >= sizeof(((struct sw_maps *)0)->root)) {
			pr_err("--pin-path '%s': must be an absolute path shorter than %zu bytes",
			       arg, sizeof(((struct sw_maps *)0)->root));
			return -EINVAL;
		}
		a->pin_path = arg;
		return 0;
	case O_MODE:
		if (!strcmp(arg, "native"))
			a->mode = SW_CLI_MODE_NATIVE;
		else if (!strcmp(arg, "generic") || !strcmp(arg, "skb"))
			a->mode = SW_CLI_MODE_GENERIC;
		else if (!strcmp(arg, "tc"))
			a->mode = SW_CLI_MODE_TC;
		else if (!strcmp(arg, "auto"))
			a->mode = SW_CLI_MODE_AUTO;
		else {
			pr_err("--mode '%s': expected native, generic, tc or auto", arg);
			return -EINVAL;
		}
		return 0;
	case O_MEDIA:
		if (parse_range(arg, &a->media_lo, &a->media_hi)) {
			pr_err("--media-ports '%s': expected LO-HI with 1 <= LO <= HI <= 65535",
			       arg);
			return -EINVAL;
		}
		a->media_set = true;
		return 0;
	case O_MAX:
		if (parse_uint(arg, 1, 16777216, &v)) {
			pr_err("--max-pinholes '%s': expected a number from 1 to 16777216", arg);
			return -EINVAL;
		}
		a->max_pinholes = (uint32_t)v;
		a->max_set = true;
		return 0;
	case O_PREALLOC:
		a->prealloc = true;
		return 0;
	case O_NO_EGRESS:
		a->no_egress = true;
		return 0;
	case O_IF_NOT_ATTACHED:
		a->if_not_attached = true;
		return 0;
	case O_FORWARD:
		a->forward = true;
		return 0;
	case O_FORWARD_FORCE:
		a->forward = a->forward_force = true;
		return 0;
	case O_DSCP:
		a->dscp_set = true;
		if (!strcmp(arg, "off")) {
			a->dscp_on = false;
			return 0;
		}
		a->dscp_on = true;
		if (!strcmp(arg, "on")) {
			a->dscp_audio = SW_DSCP_AUDIO_DEFAULT;
			a->dscp_video = SW_DSCP_VIDEO_DEFAULT;
			return 0;
		}
		{
			char buf[16], *comma;
			unsigned long av, vv;

			if (strlen(arg) >= sizeof(buf) || !(comma = strchr(strcpy(buf, arg), ',')))
				goto bad_dscp;
			*comma = '\0';
			if (!strcmp(buf, "-"))
				av = SW_DSCP_KEEP;
			else if (parse_uint(buf, 0, 63, &av))
				goto bad_dscp;
			if (!strcmp(comma + 1, "-"))
				vv = SW_DSCP_KEEP;
			else if (parse_uint(comma + 1, 0, 63, &vv))
				goto bad_dscp;
			a->dscp_audio = (uint8_t)av;
			a->dscp_video = (uint8_t)vv;
			return 0;
		}
	bad_dscp:
		pr_err("--dscp '%s': expected on, off, or AUDIO,VIDEO with each 0-63 or -", arg);
		return -EINVAL;
	case O_JSON:
		a->json = true;
		return 0;
	case O_DST:
		a->dst = arg;
		return 0;
	case O_SRC:
		if (a->nsrc >= SW_MAX_SOURCES) {
			pr_err("--src '%s': at most %d sources per pinhole", arg, SW_MAX_SOURCES);
			return -EINVAL;
		}
		a->src[a->nsrc++] = arg;
		return 0;
	case O_CHECK:
		if (sw_check_parse(arg, &a->check)) {
			pr_err("--check '%s': expected strict, address or symmetric", arg);
			return -EINVAL;
		}
		return 0;
	case O_TTL:
		if (parse_uint(arg, 1, 315360000, &v)) {
			pr_err("--ttl '%s': expected seconds from 1 to 315360000 (10 years)", arg);
			return -EINVAL;
		}
		a->ttl_s = (uint32_t)v;
		a->ttl_set = true;
		return 0;
	case O_REASON:
		if (sw_ban_reason_parse(arg, &a->reason)) {
			pr_err("--reason '%s': expected manual, scanner_user_agent, "
			       "malformed_messages, auth_failures, user_enumeration or flood",
			       arg);
			return -EINVAL;
		}
		return 0;
	case O_SIG_PORTS:
		if (parse_ports(arg, a->sig_ports)) {
			pr_err("--sig-ports '%s': expected up to %d distinct ports 1-65535 "
			       "separated by commas, or none",
			       arg, SW_SIG_PORTS);
			return -EINVAL;
		}
		a->sig_ports_set = true;
		return 0;
	case O_RATE:
		if (parse_uint(arg, 0, 1000000, &v)) {
			pr_err("--rate '%s': expected packets/s from 0 (off) to 1000000", arg);
			return -EINVAL;
		}
		a->rate = (uint32_t)v;
		a->rate_set = true;
		return 0;
	case O_BURST:
		if (parse_uint(arg, 1, 1000000, &v)) {
			pr_err("--burst '%s': expected packets from 1 to 1000000", arg);
			return -EINVAL;
		}
		a->burst = (uint32_t)v;
		a->burst_set = true;
		return 0;
	case O_PREFIX_V4:
	case O_BAN_PREFIX_V4:
	case O_PREFIX_V6:
	case O_BAN_PREFIX_V6: {
		bool v4 = id == O_PREFIX_V4 || id == O_BAN_PREFIX_V4;

		if (parse_uint(arg, 1, v4 ? 32 : 128, &v)) {
			pr_err("--%s '%s': expected a prefix length from 1 to %d",
			       opt_find(id)->name, arg, v4 ? 32 : 128);
			return -EINVAL;
		}
		*(id == O_PREFIX_V4	  ? &a->prefix_v4
		  : id == O_PREFIX_V6	  ? &a->prefix_v6
		  : id == O_BAN_PREFIX_V4 ? &a->ban_prefix_v4
					  : &a->ban_prefix_v6) = (uint8_t)v;
		return 0;
	}
	case O_VERBOSE:
		a->verbose++;
		sw_verbose = a->verbose;
		return 0;
	case O_HELP:
		return 0;
	}
	return -EINVAL;
}

static int run_cmd(const struct cmd_def *c, int argc, char **argv)
{
	struct option longopts[ARRAY_SIZE(c->opts) + 1];
	char shortopts[8] = ":";
	struct sw_args a = {
		.pin_path = SW_PIN_ROOT_DEFAULT,
		.check = SW_CHECK_STRICT,
	};
	const enum opt_id *o;
	size_t n = 0;
	int opt;

	for (o = c->opts; *o; o++) {
		const struct opt_def *d = opt_find(*o);

		longopts[n++] = (struct option){
			d->name, d->metavar ? required_argument : no_argument, NULL, (int)d->id};
		if (*o == O_HELP || *o == O_VERBOSE) {
			size_t l = strlen(shortopts);

			shortopts[l] = (char)*o;
			shortopts[l + 1] = '\0';
		}
	}
	longopts[n] = (struct option){0};

	opterr = 0;
	optind = 1;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		if (opt == O_HELP) {
			cmd_usage(stdout, c);
			return SW_EXIT_OK;
		}
		if (opt == '?') {
			if (optopt)
				pr_err("unknown option '-%c' (see sipwall %s --help)", optopt,
				       c->name);
			else
				pr_err("unknown option '%s' (see sipwall %s --help)",
				       argv[optind - 1], c->name);
			return SW_EXIT_USAGE;
		}
		if (opt == ':') {
			pr_err("option '%s' needs an argument", argv[optind - 1]);
			return SW_EXIT_USAGE;
		}
		if (apply_opt(&a, (enum opt_id)opt, optarg))
			return SW_EXIT_USAGE;
	}

	if (c->positional) {
		if (optind >= argc) {
			pr_err("missing %s (see sipwall %s --help)", c->positional, c->name);
			return SW_EXIT_USAGE;
		}
		a.iface = a.pos = argv[optind++];
	}
	if (optind < argc) {
		pr_err("unexpected argument '%s' (see sipwall %s --help)", argv[optind], c->name);
		return SW_EXIT_USAGE;
	}
	if (c->needs_dst && !a.dst) {
		pr_err("--dst IP:PORT is required");
		return SW_EXIT_USAGE;
	}
	return c->run(&a);
}

/* "add, del or list" for a command group, from the command table. */
static const char *group_subcommands(const char *group)
{
	static char buf[128];
	const char *subs[ARRAY_SIZE(cmd_defs)];
	size_t i, n = 0, glen = strlen(group);

	for (i = 0; i < ARRAY_SIZE(cmd_defs); i++)
		if (!strncmp(cmd_defs[i].name, group, glen) && cmd_defs[i].name[glen] == ' ')
			subs[n++] = cmd_defs[i].name + glen + 1;
	buf[0] = '\0';
	for (i = 0; i < n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s",
			 i == 0	      ? ""
			 : i + 1 == n ? " or "
				      : ", ",
			 subs[i]);
	return buf;
}

int main(int argc, char **argv)
{
	char name[64];
	int skip = 1;
	size_t i;

	libbpf_set_print(lib_print);
	libxdp_set_print(xdp_print);

	if (argc < 2) {
		pr_err("missing COMMAND (see sipwall --help)");
		return SW_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		main_usage(stdout);
		return SW_EXIT_OK;
	}
	snprintf(name, sizeof(name), "%s", argv[1]);
	for (i = 0; i < ARRAY_SIZE(cmd_groups); i++) {
		if (strcmp(argv[1], cmd_groups[i]))
			continue;
		if (argc < 3 || argv[2][0] == '-') {
			if (argc >= 3 && (!strcmp(argv[2], "-h") || !strcmp(argv[2], "--help"))) {
				main_usage(stdout);
				return SW_EXIT_OK;
			}
			sw_cmd_name = cmd_groups[i];
			pr_err("missing subcommand: %s", group_subcommands(cmd_groups[i]));
			return SW_EXIT_USAGE;
		}
		snprintf(name, sizeof(name), "%s %s", argv[1], argv[2]);
		skip = 2;
	}
	for (i = 0; i < ARRAY_SIZE(cmd_defs); i++) {
		if (!strcmp(cmd_defs[i].name, name)) {
			sw_cmd_name = cmd_defs[i].name;
			/* getopt sees the command words as argv[0]. */
			return run_cmd(&cmd_defs[i], argc - skip, argv + skip);
		}
	}
	pr_err("unknown command '%s' (see sipwall --help)", name);
	return SW_EXIT_USAGE;
}
