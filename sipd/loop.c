// SPDX-License-Identifier: GPL-2.0-only
/*
 * The event loop of the live sources (nfq.c, passive.c): one thread polls the
 * source's descriptor, a signalfd and a timerfd. SIGHUP reloads, SIGTERM and
 * SIGINT end the loop, the timer drives the sink's tick. Kept apart from
 * source.c, whose datagram helpers link on their own in unit tests.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>

#include "lib/swmap.h"
#include "sipd/source.h"

static int block_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	if (sigprocmask(SIG_BLOCK, set, NULL) < 0)
		return -errno;
	return 0;
}

int sipd_loop_fds(sigset_t *set, unsigned int tick_ms, int *sfd, int *tfd)
{
	struct itimerspec its = {0};
	int err;

	*sfd = *tfd = -1;
	err = block_signals(set);
	if (err)
		goto fail;
	*sfd = signalfd(-1, set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (*sfd < 0) {
		err = -errno;
		goto fail;
	}
	*tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (*tfd < 0) {
		err = -errno;
		goto fail;
	}
	if (!tick_ms)
		tick_ms = SIPD_TICK_MS_DEFAULT;
	its.it_interval.tv_sec = tick_ms / 1000;
	its.it_interval.tv_nsec = (long)(tick_ms % 1000) * 1000000;
	its.it_value = its.it_interval;
	if (timerfd_settime(*tfd, 0, &its, NULL) < 0) {
		err = -errno;
		goto fail;
	}
	return 0;
fail:
	fprintf(stderr, "sipd: signal/timer setup: %s\n", strerror(-err));
	if (*sfd >= 0)
		close(*sfd);
	if (*tfd >= 0)
		close(*tfd);
	*sfd = *tfd = -1;
	return err;
}

/* Calls into the sink while workers run (nfq.c) hold its lock. */
static void sink_lock(const struct sipd_sink *s)
{
	if (s->lock)
		s->lock(s->ctx);
}

static void sink_unlock(const struct sipd_sink *s)
{
	if (s->unlock)
		s->unlock(s->ctx);
}

/* Returns 1 to stop the loop, 0 to go on. */
static int loop_signal(int sfd, const struct sipd_sink *s)
{
	struct signalfd_siginfo si;

	while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			int err;

			sink_lock(s);
			err = s->reload ? s->reload(s->ctx) : 0;
			sink_unlock(s);

			if (err)
				fprintf(stderr,
					"sipd: reload failed (%s), keeping the old configuration\n",
					strerror(-err));
			else
				fprintf(stderr, "sipd: configuration reloaded\n");
			continue;
		}
		fprintf(stderr, "sipd: %s, exiting\n", strsignal(si.ssi_signo));
		return 1;
	}
	return 0;
}

static void loop_tick(int tfd, const struct sipd_sink *s)
{
	uint64_t n;

	if (read(tfd, &n, sizeof(n)) == sizeof(n) && s->tick) {
		sink_lock(s);
		s->tick(s->ctx, sw_monotonic_ns());
		sink_unlock(s);
	}
}

int sipd_loop_run(int fd, int sfd, int tfd, const struct sipd_sink *s, int (*drain)(void *ctx),
		  void *ctx, unsigned int busy_poll_us)
{
	uint64_t spin_until = 0; /* busy polling until then (monotonic ns) */

	for (;;) {
		struct pollfd p[3 + SIPD_AUX_MAX_FDS] = {
			{.fd = fd, .events = POLLIN},
			{.fd = sfd, .events = POLLIN},
			{.fd = tfd, .events = POLLIN},
		};
		unsigned int naux = 0;
		int timeout = -1, n;

		if (s->aux) {
			sink_lock(s);
			naux = s->aux->fill(s->aux->ctx, p + 3, SIPD_AUX_MAX_FDS);
			sink_unlock(s);
		}

		/* Busy polling: right after traffic, look again without
		 * sleeping, so the next packet (a call's 200 OK after its
		 * INVITE) does not pay for a thread wake-up. */
		if (spin_until && sw_monotonic_ns() < spin_until)
			timeout = 0;
		else
			spin_until = 0;
		if (poll(p, 3 + naux, timeout) < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		/* The queue first: no timer, signal or aux work in front of
		 * a packet that is waiting for its verdict. */
		if (p[0].revents) {
			n = drain(ctx);
			if (n < 0)
				return n;
			/* Events of the batch go out after its verdicts. */
			if (s->flush) {
				sink_lock(s);
				s->flush(s->ctx);
				sink_unlock(s);
			}
			if (n > 0 && busy_poll_us)
				spin_until = sw_monotonic_ns() + (uint64_t)busy_poll_us * 1000;
		}
		if (p[1].revents && loop_signal(sfd, s))
			return 0;
		if (p[2].revents)
			loop_tick(tfd, s);
		if (naux) {
			sink_lock(s);
			s->aux->service(s->aux->ctx, p + 3, naux);
			sink_unlock(s);
		}
	}
}
