// SPDX-License-Identifier: GPL-2.0-only
/*
 * `sipd rules install|remove|show`: the iptables rules that put SIP on the
 * NFQUEUE queues sipd reads. Everything lives in one dedicated chain,
 * SIPWALL, plus one jump to it from each configured built-in chain, so remove
 * takes out exactly what install added and install twice changes nothing.
 *
 * iptables, not nft: the nft `queue` statement is not built into every kernel,
 * while the xtables NFQUEUE target is (iptables-nft on Debian 12 drives it
 * through nft_compat). Every queue rule carries a conntrack match that matches
 * every state: its side effect is turning on netfilter defragmentation in the
 * namespace, so the queue sees whole SIP datagrams, never IP fragments of a big
 * INVITE. Accepted reassembled datagrams are refragmented on output.
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
#define SW_CT_ALL "NEW,ESTABLISHED,RELATED,INVALID,UNTRACKED"

void sipd_rules_defaults(struct sipd_rules_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->ports.port[0] = SIPD_SIP_PORT_DEFAULT;
	o->ports.n = 1;
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

static int chain_exists(const char *bin)
{
	char *argv[] = {(char *)bin, "-w", "-n", "-L", SW_CHAIN, NULL};

	return run(argv, 1, 0) == 0;
}

static int jump_exists(const char *bin, const char *chain)
{
	char *argv[] = {(char *)bin, "-w", "-C", (char *)chain, "-j", SW_CHAIN, NULL};

	return run(argv, 1, 0) == 0;
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

static int add_queue_rule(const struct sipd_rules_opts *o, const struct fam *f, const char *dir,
			  uint16_t port)
{
	char ps[8], q[16];
	char *argv[24];
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
	argv[n++] = "udp";
	argv[n++] = (char *)dir;
	argv[n++] = ps;
	argv[n++] = "-m";
	argv[n++] = "conntrack";
	argv[n++] = "--ctstate";
	argv[n++] = SW_CT_ALL;
	argv[n++] = "-m";
	argv[n++] = "comment";
	argv[n++] = "--comment";
	argv[n++] = "sipwall: SIP to sipd";
	argv[n++] = "-j";
	argv[n++] = "NFQUEUE";
	argv[n++] = o->nqueues > 1 ? "--queue-balance" : "--queue-num";
	argv[n++] = q;
	if (o->fail_open)
		argv[n++] = "--queue-bypass";
	argv[n] = NULL;
	rc = run(argv, 0, 0);
	return rc ? fail(f, "adding the NFQUEUE rule", rc) : 0;
}

int sipd_rules_install(const struct sipd_rules_opts *o)
{
	struct fam fams[2];
	int nf = families(o, fams), rc;

	if (!o->ports.n || !nf || !(o->forward || o->input || o->output)) {
		fprintf(stderr, "sipd rules: nothing to install (no port, family or chain)\n");
		return -EINVAL;
	}
	if ((unsigned int)o->queue + (o->nqueues ?: 1) - 1 > 65535) {
		fprintf(stderr, "sipd rules: queue range past 65535\n");
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
		/* Both directions: requests to the port, responses from it. */
		for (unsigned int i = 0; i < o->ports.n; i++) {
			rc = add_queue_rule(o, f, "--dport", o->ports.port[i]);
			if (!rc)
				rc = add_queue_rule(o, f, "--sport", o->ports.port[i]);
			if (rc)
				return rc;
		}
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
	}
	return installed ? 0 : 1;
}
