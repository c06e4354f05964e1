// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl monitor: print events of the "events" multicast group live.
 *
 *   cohortctl [ -j ] monitor [ -c COUNT ]
 *
 *   node id 1 name a
 *   link 2 state up
 *   member 4 state reachable next-hop 2 hops 2
 *   queue jobs add
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

static void print_event(const struct cohort_event *ev)
{
	const struct cohort_node *n = &ev->node;

	switch (ev->cmd) {
	case COHORT_CMD_NODE_NTF:
		if (json_out) {
			node_print_json(n, "node");
		} else {
			printf("node id %u", n->id);
			if (n->fields & COHORT_NODE_F_NAME)
				printf(" name %s", n->name);
			putchar('\n');
		}
		break;
	case COHORT_CMD_LINK_NTF:
		link_event_print(&ev->link);
		break;
	case COHORT_CMD_MEMBER_NTF:
		member_event_print(&ev->member);
		break;
	case COHORT_CMD_QUEUE_NTF:
		queue_event_print(&ev->queue);
		break;
	default:
		if (json_out) {
			json_obj_open(NULL);
			json_str("event", "unknown");
			json_u64("cmd", ev->cmd);
			json_obj_close();
		} else {
			printf("event cmd %u\n", ev->cmd);
		}
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
	static struct cohort_event ev;
	int ret;

	while (!stop && (!count || *seen < count)) {
		ret = cohort_event_next(c, &ev);
		if (ret == -EAGAIN)
			return 0;
		if (ret == -ENOBUFS) {
			fprintf(stderr, "Warning: events were lost (receive buffer overrun)\n");
			continue;
		}
		if (ret < 0)
			return ret;
		print_event(&ev);
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
