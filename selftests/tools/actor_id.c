// SPDX-License-Identifier: GPL-2.0
/*
 * actor_id: open one /dev/cohort handle in the caller's namespace, bind it
 * and print "ACTOR_ID NODE_ID" in decimal. Used by the shell scenarios.
 *
 *	actor_id			print and close
 *	actor_id --hold			print, then keep the handle until
 *					SIGTERM/SIGINT/SIGHUP
 *	actor_id --hold --leave-netns	as --hold, but move this process back
 *					to the initial network namespace after
 *					binding, so the handle is the only
 *					thing still tied to the node
 *
 * On the terminating signal a held handle does one more clock operation
 * (its node may have been deleted meanwhile: that must be safe) and prints
 * "tick RC" before closing. Exit status: 0 ok, 1 error, 2 bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "libcohort.h"

static int leave_netns(void)
{
	int fd, ret;

	fd = open("/proc/1/ns/net", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = setns(fd, CLONE_NEWNET) ? -errno : 0;
	close(fd);
	return ret;
}

/* Block the signals first so one that arrives early is not lost. */
static int wait_for_signal(const sigset_t *set)
{
	int sig = 0;

	if (sigwait(set, &sig))
		return -1;
	return sig;
}

static void hold(struct cohort *c, const sigset_t *set)
{
	uint64_t now = 0;
	int ret;

	wait_for_signal(set);
	ret = cohort_lamport_tick(c, &now);
	printf("tick %d\n", ret);
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int do_hold = 0, do_leave = 0, ret, i;
	struct cohort *c = NULL;
	uint64_t actor = 0;
	uint32_t node = 0;
	sigset_t set;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--hold")) {
			do_hold = 1;
		} else if (!strcmp(argv[i], "--leave-netns")) {
			do_leave = 1;
		} else {
			fprintf(stderr, "usage: %s [--hold [--leave-netns]]\n",
				argv[0]);
			return 2;
		}
	}

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);

	ret = cohort_open(&c);
	if (ret) {
		fprintf(stderr, "actor_id: cohort_open: %s\n", strerror(-ret));
		return 1;
	}
	ret = cohort_actor_id(c, &actor, &node);
	if (ret) {
		fprintf(stderr, "actor_id: cohort_actor_id: %s\n", strerror(-ret));
		cohort_close(c);
		return 1;
	}
	if (do_leave) {
		ret = leave_netns();
		if (ret) {
			fprintf(stderr, "actor_id: setns: %s\n", strerror(-ret));
			cohort_close(c);
			return 1;
		}
	}

	printf("%" PRIu64 " %" PRIu32 "\n", actor, node);
	fflush(stdout);
	if (do_hold)
		hold(c, &set);
	cohort_close(c);
	return 0;
}
