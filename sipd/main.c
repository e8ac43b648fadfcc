// SPDX-License-Identifier: GPL-2.0-only
/*
 * sipd: subcommand dispatch. `check` is implemented here; run, replay, rules
 * and --check-config are stubs the daemon's engineer fills in (marked STUB).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "lib/swmap.h"
#include "config.h"
#include "sipmsg.h"
#include "srccmd.h"

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: sipd COMMAND [options]\n"
		"\n"
		"Commands:\n"
		"  run -c CONFIG [--passive IFACE]   inspect SIP inline on NFQUEUE (or passively)\n"
		"  replay [-c CONFIG] CAPTURE        feed a pcap/pcapng through sipd and the XDP "
		"program\n"
		"  rules install|remove|show         manage the iptables NFQUEUE rule\n"
		"  check [--lax] [--no-trailing] FILE...\n"
		"                                    classify raw SIP messages (one UDP payload "
		"per\n"
		"                                    file, '-' = stdin): one JSON line per "
		"message\n"
		"  --check-config FILE               validate a sipd.json\n"
		"  --help                            this text\n"
		"\n"
		"check: --lax accepts what RFC 4475 allows liberally (strict is the default);\n"
		"--no-trailing drops a datagram with octets after its first message.\n"
		"A keep-alive (CRLFs, spaces, NULs, STUN Binding) is \"reason\":\"keepalive\".\n"
		"Exit status of check: 0 when every file was classified (verdicts are data),\n"
		"2 on usage or I/O errors.\n");
}

/* run, replay and rules own a packet source: sipd/srccmd.c. */
static int cmd_run(int argc, char **argv)
{
	return sipd_cmd_run(argc, argv);
}

static int cmd_replay(int argc, char **argv)
{
	return sipd_cmd_replay(argc, argv);
}

static int cmd_rules(int argc, char **argv)
{
	return sipd_cmd_rules(argc, argv);
}

/* Exit 0 valid, 1 invalid (the error names the JSON path), 2 usage. */
static int cmd_check_config(int argc, char **argv)
{
	struct sipd_config *cfg;
	char err[512];
	int i, bad = 0;

	/* argv[0] is "--check-config" itself. */
	if (argc < 2) {
		fprintf(stderr, "Usage: sipd --check-config FILE...\n");
		return 2;
	}
	for (i = 1; i < argc; i++) {
		if (sipd_config_load(argv[i], &cfg, err, sizeof(err))) {
			fprintf(stderr, "sipd: %s\n", err);
			bad = 1;
			continue;
		}
		printf("%s: ok (%u filter rules, default %s, %u inside networks, %u whitelisted "
		       "users)\n",
		       argv[i], cfg->n_rules,
		       cfg->default_action == SIPD_ACT_ALLOW ? "allow" : "drop", cfg->n_inside,
		       cfg->n_whitelist);
		sipd_config_free(cfg);
	}
	return bad;
}

/* ---- END STUB ---------------------------------------------------------- */

/* The whole file (at most cap octets plus one, so "too large" is visible). */
static char *slurp(const char *path, size_t cap, size_t *len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
	char *buf;
	size_t n;

	if (!f)
		return NULL;
	buf = malloc(cap + 1);
	if (!buf) {
		if (f != stdin)
			fclose(f);
		errno = ENOMEM;
		return NULL;
	}
	n = fread(buf, 1, cap + 1, f);
	if (ferror(f)) {
		int e = errno ? errno : EIO;

		free(buf);
		if (f != stdin)
			fclose(f);
		errno = e;
		return NULL;
	}
	if (f != stdin)
		fclose(f);
	*len = n;
	return buf;
}

static json_object *media_json(const struct sip_msg *m)
{
	json_object *arr = json_object_new_array();
	int i;

	if (!m->has_sdp)
		return arr;
	for (i = 0; i < m->sdp.n_media; i++) {
		const struct sdp_media *md = &m->sdp.media[i];
		json_object *o = json_object_new_object();
		char a[64];

		json_object_object_add(o, "type", json_object_new_string(md->type));
		sw_addr_format(md->addr, a, sizeof(a));
		json_object_object_add(o, "addr", json_object_new_string(a));
		json_object_object_add(o, "port", json_object_new_int(md->port));
		json_object_object_add(o, "port_count", json_object_new_int(md->port_count));
		json_object_object_add(o, "rtcp_port", json_object_new_int(md->rtcp_port));
		sw_addr_format(md->rtcp_addr, a, sizeof(a));
		json_object_object_add(o, "rtcp_addr", json_object_new_string(a));
		json_object_object_add(o, "rtcp_mux", json_object_new_boolean(md->rtcp_mux));
		json_object_object_add(o, "dir", json_object_new_string(sdp_dir_name(md->dir)));
		json_object_object_add(o, "hold_addr", json_object_new_boolean(md->hold_addr));
		json_object_array_add(arr, o);
	}
	return arr;
}

static void print_line(json_object *o)
{
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static int cmd_check(int argc, char **argv)
{
	struct sip_limits lim;
	int i, rc = 0;

	sip_limits_default(&lim);
	for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
		if (!strcmp(argv[i], "--lax")) {
			lim.strict = 0;
		} else if (!strcmp(argv[i], "--no-trailing")) {
			lim.allow_trailing = 0;
		} else if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else {
			fprintf(stderr, "sipd check: unknown option '%s'\n", argv[i]);
			return 2;
		}
	}
	if (i >= argc) {
		fprintf(stderr, "sipd check: no FILE given (see sipd --help)\n");
		return 2;
	}
	sipmsg_global_init();
	for (; i < argc; i++) {
		struct sip_msg *m = calloc(1, sizeof(*m));
		json_object *o;
		size_t len = 0, used = 0;
		char *buf;
		int r, ka;

		if (!m) {
			fprintf(stderr, "sipd check: out of memory\n");
			return 2;
		}
		buf = slurp(argv[i], lim.max_msg_len, &len);
		if (!buf) {
			fprintf(stderr, "sipd check: %s: %s\n", argv[i], strerror(errno));
			free(m);
			rc = 2;
			continue;
		}
		ka = sipmsg_keepalive((const uint8_t *)buf, len);
		if (ka) {
			/* not SIP: sipd passes it unparsed (sipmsg.h) */
			o = json_object_new_object();
			json_object_object_add(o, "file", json_object_new_string(argv[i]));
			json_object_object_add(o, "verdict", json_object_new_string("accept"));
			json_object_object_add(o, "reason", json_object_new_string("keepalive"));
			json_object_object_add(o, "keepalive",
					       json_object_new_string(sipmsg_keepalive_name(ka)));
			json_object_object_add(
				o, "detail",
				json_object_new_string(
					ka == SIP_KA_STUN ? "STUN Binding keep-alive (RFC 5626 "
							    "8.4), passed without parsing"
							  : "CRLF keep-alive (RFC 5626 3.5.1), "
							    "passed without parsing"));
			json_object_object_add(o, "method", json_object_new_string(""));
			json_object_object_add(o, "call_id", json_object_new_string(""));
			json_object_object_add(o, "media", json_object_new_array());
			print_line(o);
			free(buf);
			free(m);
			continue;
		}
		r = sipmsg_parse_datagram(buf, len, &lim, m, &used);
		o = json_object_new_object();
		json_object_object_add(o, "file", json_object_new_string(argv[i]));
		json_object_object_add(o, "verdict", json_object_new_string(r ? "drop" : "accept"));
		json_object_object_add(o, "reason", json_object_new_string(sw_sip_reason_name(-r)));
		json_object_object_add(o, "detail", json_object_new_string(m->err_detail));
		json_object_object_add(o, "method", json_object_new_string(m->method));
		if (!r && !m->is_request)
			json_object_object_add(o, "status", json_object_new_int(m->status));
		json_object_object_add(o, "call_id", json_object_new_string(m->call_id));
		json_object_object_add(o, "media", media_json(m));
		if (m->trailing_len)
			json_object_object_add(o, "trailing",
					       json_object_new_int64((int64_t)m->trailing_len));
		print_line(o);
		if (!r && m->trailing_len) {
			/* RFC 3261 18.1.1: one message per UDP datagram. The
			 * rest is not parsed; a receiver ignores it too. */
			o = json_object_new_object();
			json_object_object_add(o, "file", json_object_new_string(argv[i]));
			json_object_object_add(o, "index", json_object_new_int(1));
			json_object_object_add(o, "verdict", json_object_new_string("ignore"));
			json_object_object_add(
				o, "reason",
				json_object_new_string(sw_sip_reason_name(SW_SIP_R_TRAILING_DATA)));
			json_object_object_add(
				o, "detail",
				json_object_new_string(
					"octets after the first message of a UDP datagram are not "
					"parsed (RFC 3261 18.1.1)"));
			json_object_object_add(o, "offset", json_object_new_int64((int64_t)used));
			print_line(o);
		}
		free(buf);
		free(m);
	}
	fflush(stdout);
	return rc;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "check"))
		return cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "replay"))
		return cmd_replay(argc - 1, argv + 1);
	if (!strcmp(cmd, "rules"))
		return cmd_rules(argc - 1, argv + 1);
	if (!strcmp(cmd, "--check-config"))
		return cmd_check_config(argc - 1, argv + 1);
	fprintf(stderr, "sipd: unknown command '%s' (see sipd --help)\n", cmd);
	return 2;
}
