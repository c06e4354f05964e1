// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl monitor: print events of the "events" multicast group live.
 *
 *   cohortctl [ -j ] monitor [ -c COUNT ]
 *
 * Runs until SIGINT or SIGTERM, or until COUNT events were printed. Signals
 * are blocked except while waiting in ppoll(), so a signal is never lost
 * between the check of the stop flag and the wait.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cohortctl.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int monitor_usage(FILE *f, int ret)
{
	fprintf(f, "Usage: cohortctl [ -j[son] ] monitor [ -c COUNT ]\n"
		   "where  COUNT := 1..4294967295 events to print before exiting\n");
	return ret;
}

static int parse_args(int argc, char **argv, uint32_t *count)
{
	for (; argc > 0; argc--, argv++) {
		if (matches(argv[0], "help"))
			return monitor_usage(stdout, -1);
		if (strcmp(argv[0], "-c") && strcmp(argv[0], "--count") &&
		    !matches(argv[0], "count"))
			return usage_error("unknown argument \"%s\". Try \"cohortctl monitor help\".",
					   argv[0]);
		if (argc < 2)
			return usage_error("argument \"%s\" needs a value.",
					   argv[0]);
		argc--, argv++;
		if (parse_u32(argv[0], 1, UINT32_MAX, count))
			return usage_error("invalid count \"%s\" (expected 1..%u).",
					   argv[0], UINT32_MAX);
	}
	return 0;
}

static void print_event(uint8_t cmd, const struct cohort_node *n)
{
	if (cmd != COHORT_CMD_NODE_NTF) {
		if (json_out) {
			json_obj_open(NULL);
			json_str("event", "unknown");
			json_u64("cmd", cmd);
			json_obj_close();
		} else {
			printf("event cmd %u\n", cmd);
		}
	} else if (json_out) {
		node_print_json(n, "node");
	} else {
		printf("node id %u", n->id);
		if (n->fields & COHORT_NODE_F_NAME)
			printf(" name %s", n->name);
		putchar('\n');
	}
	fflush(stdout);
}

static void setup_signals(sigset_t *waitmask)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	sigdelset(waitmask, SIGINT);
	sigdelset(waitmask, SIGTERM);
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

/* Print queued events; returns 0 once the queue is empty or COUNT reached. */
static int drain(struct cohort *c, uint32_t count, uint32_t *seen)
{
	struct cohort_node node;
	uint8_t cmd;
	int ret;

	while (!stop && (!count || *seen < count)) {
		ret = cohort_event_next(c, &cmd, &node);
		if (ret == -EAGAIN)
			return 0;
		if (ret == -ENOBUFS) {
			fprintf(stderr, "Warning: events were lost (receive buffer overrun)\n");
			continue;
		}
		if (ret < 0)
			return ret;
		print_event(cmd, &node);
		(*seen)++;
	}
	return 0;
}

static int run(struct cohort *c, int fd, uint32_t count)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	sigset_t waitmask;
	uint32_t seen = 0;
	int ret;

	setup_signals(&waitmask);
	while (!stop && (!count || seen < count)) {
		ret = drain(c, count, &seen);
		if (ret < 0)
			return kernel_error(c, ret);
		if (stop || (count && seen >= count))
			break;
		if (ppoll(&pfd, 1, NULL, &waitmask) < 0 && errno != EINTR) {
			fprintf(stderr, "Error: poll: %s\n", strerror(errno));
			return EXIT_USAGE;
		}
	}
	return 0;
}

int do_monitor(int argc, char **argv)
{
	struct cohort *c;
	uint32_t count = 0;
	int fd, ret;

	ret = parse_args(argc, argv, &count);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_events_subscribe(c, &fd);
	if (ret < 0)
		ret = kernel_error(c, ret);
	else
		ret = run(c, fd, count);
	cohort_close(c);
	return ret;
}
