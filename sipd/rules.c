// SPDX-License-Identifier: GPL-2.0-only
/*
 * `sipd rules install|remove|show`: the iptables rules that put SIP on the
 * NFQUEUE queues sipd reads. Everything lives in one dedicated chain,
 * SIPWALL, plus one jump to it from each configured built-in chain, so remove
 * takes out exactly what install added and install twice changes nothing.
 *
 * UDP on the SIP ports is queued whole. TCP on the SIP (and WebSocket) ports
 * is queued only for segments that carry payload, or FIN/RST, of a connection
 * conntrack tracks as established (the handshake was seen, so a blind
 * spoofer cannot be in it); payload outside one is dropped, so nothing
 * reaches a SIP server uninspected (TCP Fast Open data, a spoofed segment).
 * A SYN to a TLS or WSS port is queued so sipd counts what it cannot read.
 *
 * iptables, not nft: the nft `queue` statement is not built into every kernel,
 * while the xtables NFQUEUE target is (iptables-nft on Debian 12 drives it
 * through nft_compat). Every queue rule carries a conntrack match that matches
 * every state: its side effect is turning on netfilter defragmentation in the
 * namespace, so the queue sees whole SIP datagrams, never IP fragments of a big
 * INVITE. Accepted reassembled datagrams are refragmented on output.
 *
 * That match turns conntrack on for the whole namespace, media included:
 * every RTP flow would get an entry and pay for it per packet. So UDP to the
 * media range on the protected interfaces is marked untracked in the raw
 * table (chain SIPWALL_RAW, jumped to first from raw PREROUTING), which runs
 * after defragmentation and before conntrack. SIP stays tracked: the media
 * range may not hold a SIP port.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

#include "sipd/source.h"

#define SW_CHAIN  "SIPWALL"
#define SW_RAW	  "SIPWALL_RAW"
#define SW_CT_ALL "NEW,ESTABLISHED,RELATED,INVALID,UNTRACKED"

void sipd_rules_defaults(struct sipd_rules_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ports.port[0] = SIPD_SIP_PORT_DEFAULT;
	o->ports.n = 1;
	o->tcp_ports = o->ports;
	o->syn_ports.port[0] = 5061;
	o->syn_ports.n = 1;
	o->nqueues = 1;
	o->forward = 1;
	o->ipv4 = 1;
	o->ipv6 = 1;
	o->iptables = "iptables";
	o->ip6tables = "ip6tables";
}

/* Run argv; quiet: discard its stderr (probing). Returns the exit status, or
 * a negative errno when it could not run at all. */
static int run(char *const argv[], int quiet, int verbose)
{
	pid_t pid;
	int st;

	if (verbose) {
		fprintf(stderr, "+");
		for (int i = 0; argv[i]; i++)
			fprintf(stderr, " %s", argv[i]);
		fprintf(stderr, "\n");
	}
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		if (quiet) {
			int fd = open("/dev/null", O_WRONLY);

			if (fd >= 0) {
				dup2(fd, 2);
				dup2(fd, 1);
			}
		}
		execvp(argv[0], argv);
		fprintf(stderr, "sipd: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (!WIFEXITED(st))
		return -EINTR;
	return WEXITSTATUS(st) == 127 ? -ENOENT : WEXITSTATUS(st);
}

struct fam {
	const char *bin;
	const char *name;
};

static int families(const struct sipd_rules_opts *o, struct fam f[2])
{
	int n = 0;

	if (o->ipv4)
		f[n++] = (struct fam){o->iptables ?: "iptables", "IPv4"};
	if (o->ipv6)
		f[n++] = (struct fam){o->ip6tables ?: "ip6tables", "IPv6"};
	return n;
}

static const char *const builtin[] = {"FORWARD", "INPUT", "OUTPUT"};

static int chain_wanted(const struct sipd_rules_opts *o, int i)
{
	return i == 0 ? o->forward : i == 1 ? o->input : o->output;
}

static int chain_exists_in(const char *bin, const char *table, const char *chain)
{
	char *argv[] = {(char *)bin, "-w", "-t", (char *)table, "-n", "-L", (char *)chain, NULL};

	return run(argv, 1, 0) == 0;
}

static int jump_exists_in(const char *bin, const char *table, const char *from, const char *to)
{
	char *argv[] = {(char *)bin,  "-w", "-t",	(char *)table, "-C",
			(char *)from, "-j", (char *)to, NULL};

	return run(argv, 1, 0) == 0;
}

static int chain_exists(const char *bin)
{
	return chain_exists_in(bin, "filter", SW_CHAIN);
}

static int jump_exists(const char *bin, const char *chain)
{
	return jump_exists_in(bin, "filter", chain, SW_CHAIN);
}

static int fail(const struct fam *f, const char *what, int rc)
{
	if (rc == -ENOENT)
		fprintf(stderr, "sipd rules: %s not found (install iptables)\n", f->bin);
	else
		fprintf(stderr, "sipd rules: %s (%s): %s failed (exit %d)\n", f->bin, f->name, what,
			rc);
	return rc < 0 ? rc : -EIO;
}

/*
 * Classic BPF (xt_bpf, `-m bpf --bytecode`) that matches a TCP segment with
 * payload: pure ACKs, the bulk of a TCP connection's packets, never cost a
 * queue round trip. IPv4: total length - IHL*4 - data offset*4 > 0. IPv6:
 * payload length - data offset*4 > 0 when TCP follows the fixed header;
 * behind extension headers it matches (queued: sipd judges). A malformed
 * header makes the difference wrap and matches too.
 */
#define BPF_TCP_PAYLOAD_V4                                                                      \
	"13,40 0 0 2,2 0 0 0,177 0 0 0,80 0 0 12,84 0 0 240,116 0 0 2,12 0 0 0,7 0 0 0,96 0 0 " \
	"0,28 0 0 0,37 0 1 0,6 0 0 1,6 0 0 0"
#define BPF_TCP_PAYLOAD_V6                                                                     \
	"12,48 0 0 6,21 1 0 6,6 0 0 1,48 0 0 52,84 0 0 240,116 0 0 2,7 0 0 0,40 0 0 4,28 0 0 " \
	"0,37 0 1 0,6 0 0 1,6 0 0 0"

/* What one rule matches besides protocol and port. */
enum rule_kind {
	R_UDP,	       /* every datagram (conntrack match: defragmentation) */
	R_TCP_PAYLOAD, /* segments with payload of tracked connections */
	R_TCP_CTL,     /* FIN or RST of tracked connections (the stream ends) */
	R_TCP_DROP,    /* payload outside a tracked connection: dropped */
	R_TCP_SYN,     /* SYN to a TLS/WSS port: counted, uninspectable */
};

static int add_rule(const struct sipd_rules_opts *o, const struct fam *f, enum rule_kind k,
		    const char *dir, uint16_t port)
{
	int v6 = !strcmp(f->name, "IPv6");
	char ps[8], q[16];
	char *argv[40];
	int n = 0, rc;

	snprintf(ps, sizeof(ps), "%u", port);
	if (o->nqueues > 1)
		snprintf(q, sizeof(q), "%u:%u", o->queue, o->queue + o->nqueues - 1);
	else
		snprintf(q, sizeof(q), "%u", o->queue);
	argv[n++] = (char *)f->bin;
	argv[n++] = "-w";
	argv[n++] = "-A";
	argv[n++] = SW_CHAIN;
	argv[n++] = "-p";
	argv[n++] = k == R_UDP ? "udp" : "tcp";
	argv[n++] = (char *)dir;
	argv[n++] = ps;
	if (k == R_TCP_SYN) {
		argv[n++] = "--syn";
	} else if (k == R_TCP_CTL) {
		argv[n++] = "!";
		argv[n++] = "--tcp-flags";
		argv[n++] = "FIN,RST";
		argv[n++] = "NONE";
	}
	argv[n++] = "-m";
	argv[n++] = "conntrack";
	if (k == R_TCP_DROP)
		argv[n++] = "!";
	argv[n++] = "--ctstate";
	argv[n++] = k == R_UDP || k == R_TCP_SYN ? SW_CT_ALL : "ESTABLISHED";
	if (k == R_TCP_PAYLOAD || k == R_TCP_DROP) {
		argv[n++] = "-m";
		argv[n++] = "bpf";
		argv[n++] = "--bytecode";
		argv[n++] = v6 ? BPF_TCP_PAYLOAD_V6 : BPF_TCP_PAYLOAD_V4;
	}
	argv[n++] = "-m";
	argv[n++] = "comment";
	argv[n++] = "--comment";
	argv[n++] = k == R_UDP		 ? "sipwall: SIP to sipd"
		    : k == R_TCP_PAYLOAD ? "sipwall: SIP over TCP to sipd"
		    : k == R_TCP_CTL	 ? "sipwall: end of a SIP TCP stream to sipd"
		    : k == R_TCP_DROP	 ? "sipwall: SIP over TCP outside a tracked connection"
					 : "sipwall: SIP over TLS/WSS, counted by sipd";
	argv[n++] = "-j";
	if (k == R_TCP_DROP) {
		argv[n++] = "DROP";
	} else {
		argv[n++] = "NFQUEUE";
		argv[n++] = o->nqueues > 1 ? "--queue-balance" : "--queue-num";
		argv[n++] = q;
		if (o->fail_open)
			argv[n++] = "--queue-bypass";
	}
	argv[n] = NULL;
	rc = run(argv, 0, 0);
	return rc ? fail(f, "adding an NFQUEUE rule", rc) : 0;
}

/* Both directions of every port: requests to it, responses from it. */
static int add_port_rules(const struct sipd_rules_opts *o, const struct fam *f)
{
	static const char *const dirs[] = {"--dport", "--sport"};
	int rc = 0;

	for (unsigned int i = 0; i < o->ports.n && !rc; i++)
		for (int d = 0; d < 2 && !rc; d++)
			rc = add_rule(o, f, R_UDP, dirs[d], o->ports.port[i]);
	for (unsigned int i = 0; i < o->tcp_ports.n && !rc; i++)
		for (int d = 0; d < 2 && !rc; d++) {
			rc = add_rule(o, f, R_TCP_PAYLOAD, dirs[d], o->tcp_ports.port[i]);
			if (!rc)
				rc = add_rule(o, f, R_TCP_CTL, dirs[d], o->tcp_ports.port[i]);
			if (!rc)
				rc = add_rule(o, f, R_TCP_DROP, dirs[d], o->tcp_ports.port[i]);
		}
	for (unsigned int i = 0; i < o->syn_ports.n && !rc; i++)
		rc = add_rule(o, f, R_TCP_SYN, "--dport", o->syn_ports.port[i]);
	return rc;
}

/* SIPWALL_RAW: created or flushed, filled, jumped to first from raw
 * PREROUTING; with no media range, removed. */
static int raw_remove(const struct fam *f)
{
	char *del[] = {(char *)f->bin, "-w", "-t", "raw", "-D", "PREROUTING", "-j", SW_RAW, NULL};
	char *fl[] = {(char *)f->bin, "-w", "-t", "raw", "-F", SW_RAW, NULL};
	char *x[] = {(char *)f->bin, "-w", "-t", "raw", "-X", SW_RAW, NULL};
	int rc;

	for (int k = 0; k < 16 && jump_exists_in(f->bin, "raw", "PREROUTING", SW_RAW); k++) {
		rc = run(del, 0, 0);
		if (rc)
			return fail(f, "removing the raw PREROUTING jump", rc);
	}
	if (!chain_exists_in(f->bin, "raw", SW_RAW))
		return 0;
	rc = run(fl, 0, 0);
	if (!rc)
		rc = run(x, 0, 0);
	return rc ? fail(f, "deleting chain " SW_RAW, rc) : 0;
}

static int raw_rule(const struct sipd_rules_opts *o, const struct fam *f, const char *ifname)
{
	char range[16];
	char *argv[24];
	int n = 0, rc;

	snprintf(range, sizeof(range), "%u:%u", o->media_lo, o->media_hi);
	argv[n++] = (char *)f->bin;
	argv[n++] = "-w";
	argv[n++] = "-t";
	argv[n++] = "raw";
	argv[n++] = "-A";
	argv[n++] = SW_RAW;
	if (ifname) {
		argv[n++] = "-i";
		argv[n++] = (char *)ifname;
	}
	argv[n++] = "-p";
	argv[n++] = "udp";
	argv[n++] = "--dport";
	argv[n++] = range;
	argv[n++] = "-m";
	argv[n++] = "comment";
	argv[n++] = "--comment";
	argv[n++] = "sipwall: media untracked";
	argv[n++] = "-j";
	argv[n++] = "CT";
	argv[n++] = "--notrack";
	argv[n] = NULL;
	rc = run(argv, 0, 0);
	return rc ? fail(f, "adding a raw CT --notrack rule", rc) : 0;
}

static int raw_install(const struct sipd_rules_opts *o, const struct fam *f)
{
	char *mk[] = {(char *)f->bin, "-w", "-t", "raw", "-N", SW_RAW, NULL};
	char *fl[] = {(char *)f->bin, "-w", "-t", "raw", "-F", SW_RAW, NULL};
	char *jump[] = {(char *)f->bin, "-w", "-t", "raw",  "-I",
			"PREROUTING",	"1",  "-j", SW_RAW, NULL};
	int rc;

	if (!o->media_lo)
		return raw_remove(f);
	rc = run(chain_exists_in(f->bin, "raw", SW_RAW) ? fl : mk, 0, 0);
	if (rc)
		return fail(f, "creating chain " SW_RAW, rc);
	if (!o->n_media_ifs)
		rc = raw_rule(o, f, NULL);
	for (unsigned int i = 0; i < o->n_media_ifs && !rc; i++)
		rc = raw_rule(o, f, o->media_ifs[i]);
	if (rc)
		return rc;
	if (!jump_exists_in(f->bin, "raw", "PREROUTING", SW_RAW)) {
		rc = run(jump, 0, 0);
		if (rc)
			return fail(f, "adding the raw PREROUTING jump", rc);
	}
	return 0;
}

int sipd_rules_install(const struct sipd_rules_opts *o)
{
	struct fam fams[2];
	int nf = families(o, fams), rc;

	if (!(o->ports.n || o->tcp_ports.n) || !nf || !(o->forward || o->input || o->output)) {
		fprintf(stderr, "sipd rules: nothing to install (no port, family or chain)\n");
		return -EINVAL;
	}
	if ((unsigned int)o->queue + (o->nqueues ?: 1) - 1 > 65535) {
		fprintf(stderr, "sipd rules: queue range past 65535\n");
		return -EINVAL;
	}
	if (o->media_lo > o->media_hi) {
		fprintf(stderr, "sipd rules: media range %u-%u is empty\n", o->media_lo,
			o->media_hi);
		return -EINVAL;
	}
	/* SIP must stay tracked: conntrack defragments it for the queue. */
	for (unsigned int i = 0; o->media_lo && i < o->ports.n; i++)
		if (o->ports.port[i] >= o->media_lo && o->ports.port[i] <= o->media_hi) {
			fprintf(stderr,
				"sipd rules: SIP port %u lies in the media range %u-%u, which is "
				"left untracked; move one of them\n",
				o->ports.port[i], o->media_lo, o->media_hi);
			return -EINVAL;
		}
	for (int fi = 0; fi < nf; fi++) {
		const struct fam *f = &fams[fi];

		if (!chain_exists(f->bin)) {
			char *argv[] = {(char *)f->bin, "-w", "-N", SW_CHAIN, NULL};

			rc = run(argv, 0, 0);
			if (rc)
				return fail(f, "creating chain " SW_CHAIN, rc);
		} else {
			char *argv[] = {(char *)f->bin, "-w", "-F", SW_CHAIN, NULL};

			rc = run(argv, 0, 0);
			if (rc)
				return fail(f, "flushing chain " SW_CHAIN, rc);
		}
		rc = add_port_rules(o, f);
		if (rc)
			return rc;
		for (int c = 0; c < 3; c++) {
			char *argv[] = {(char *)f->bin, "-w",	  "-I", (char *)builtin[c], "1",
					"-j",		SW_CHAIN, NULL};

			if (!chain_wanted(o, c) || jump_exists(f->bin, builtin[c]))
				continue;
			rc = run(argv, 0, 0);
			if (rc)
				return fail(f, "adding the jump", rc);
		}
		/* A jump the config no longer wants goes away. */
		for (int c = 0; c < 3; c++) {
			char *argv[] = {(char *)f->bin, "-w",	  "-D", (char *)builtin[c],
					"-j",		SW_CHAIN, NULL};

			while (!chain_wanted(o, c) && jump_exists(f->bin, builtin[c]))
				if (run(argv, 0, 0))
					return fail(f, "removing a jump", 1);
		}
		rc = raw_install(o, f);
		if (rc)
			return rc;
	}
	return 0;
}

int sipd_rules_remove(const struct sipd_rules_opts *o)
{
	struct fam fams[2];
	int nf = families(o, fams), rc;

	for (int fi = 0; fi < nf; fi++) {
		const struct fam *f = &fams[fi];

		/* Jumps from every built-in chain, whatever the config says:
		 * remove must leave nothing of ours behind. */
		for (int c = 0; c < 3; c++) {
			char *argv[] = {(char *)f->bin, "-w",	  "-D", (char *)builtin[c],
					"-j",		SW_CHAIN, NULL};

			for (int k = 0; k < 16 && jump_exists(f->bin, builtin[c]); k++) {
				rc = run(argv, 0, 0);
				if (rc)
					return fail(f, "removing the jump", rc);
			}
		}
		if (chain_exists(f->bin)) {
			char *fl[] = {(char *)f->bin, "-w", "-F", SW_CHAIN, NULL};
			char *x[] = {(char *)f->bin, "-w", "-X", SW_CHAIN, NULL};

			rc = run(fl, 0, 0);
			if (!rc)
				rc = run(x, 0, 0);
			if (rc)
				return fail(f, "deleting chain " SW_CHAIN, rc);
		}
		rc = raw_remove(f);
		if (rc)
			return rc;
	}
	return 0;
}

int sipd_rules_show(const struct sipd_rules_opts *o)
{
	struct fam fams[2];
	int nf = families(o, fams), installed = 0;

	for (int fi = 0; fi < nf; fi++) {
		const struct fam *f = &fams[fi];
		char *argv[] = {(char *)f->bin, "-w", "-S", SW_CHAIN, NULL};

		printf("# %s (%s)\n", f->name, f->bin);
		if (!chain_exists(f->bin)) {
			printf("# chain %s not installed\n", SW_CHAIN);
			continue;
		}
		installed++;
		for (int c = 0; c < 3; c++)
			if (jump_exists(f->bin, builtin[c]))
				printf("-A %s -j %s\n", builtin[c], SW_CHAIN);
		fflush(stdout);
		run(argv, 0, 0);
		if (chain_exists_in(f->bin, "raw", SW_RAW)) {
			char *raw[] = {(char *)f->bin, "-w", "-t", "raw", "-S", SW_RAW, NULL};

			printf("# raw\n");
			if (jump_exists_in(f->bin, "raw", "PREROUTING", SW_RAW))
				printf("-A PREROUTING -j %s\n", SW_RAW);
			fflush(stdout);
			run(raw, 0, 0);
		}
	}
	return installed ? 0 : 1;
}
