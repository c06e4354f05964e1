// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl ping: round trips through the overlay, measured by the kernel.
 *
 *   cohortctl [ -j ] ping NODE [ -c COUNT ] [ -i INTERVAL_MS ] [ -W TIMEOUT_MS ]
 *
 * Exit status 0 when at least one reply came, 1 otherwise. SIGINT stops
 * early and still prints the summary.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cohortctl.h"

struct reply {
	uint32_t seq;
	uint32_t hops;
	double ms;
};

struct run {
	uint32_t node, count, interval, timeout;
	uint32_t sent;
	size_t n, cap;		/* replies */
	struct reply *r;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static int ping_usage(FILE *f, int ret)
{
	fprintf(f,
		"Usage: cohortctl [ -j ] ping NODE [ -c COUNT ] [ -i INTERVAL_MS ] [ -W TIMEOUT_MS ]\n"
		"where  NODE := node id to ping\n"
		"       COUNT := pings to send (default 4)\n"
		"       INTERVAL_MS := ms between pings (default 200)\n"
		"       TIMEOUT_MS := ms to wait for each reply (default 1000)\n");
	return ret;
}

static int parse_opt(const char *opt, const char *val, struct run *p)
{
	uint32_t *dst;

	if (!strcmp(opt, "-c") || matches(opt, "count"))
		dst = &p->count;
	else if (!strcmp(opt, "-i") || matches(opt, "interval"))
		dst = &p->interval;
	else if (!strcmp(opt, "-W") || matches(opt, "timeout"))
		dst = &p->timeout;
	else
		return usage_error("unknown argument \"%s\". Try \"cohortctl ping help\".",
				   opt);
	if (!val)
		return usage_error("argument \"%s\" needs a value.", opt);
	if (parse_u32(val, dst == &p->interval ? 0 : 1, INT32_MAX, dst))
		return usage_error("invalid value \"%s\" for %s (expected %d..%d).",
				   val, opt, dst == &p->interval ? 0 : 1,
				   INT32_MAX);
	return 0;
}

static int parse_args(int argc, char **argv, struct run *p)
{
	bool have_node = false;
	int ret;

	for (; argc > 0; argc--, argv++) {
		if (matches(argv[0], "help"))
			return ping_usage(stdout, -1);
		if (!have_node && argv[0][0] >= '0' && argv[0][0] <= '9') {
			if (parse_u32(argv[0], 1, UINT32_MAX, &p->node))
				return usage_error("invalid node \"%s\" (expected 1..%u).",
						   argv[0], UINT32_MAX);
			have_node = true;
			continue;
		}
		ret = parse_opt(argv[0], argc > 1 ? argv[1] : NULL, p);
		if (ret)
			return ret;
		argc--, argv++;
	}
	if (!have_node)
		return usage_error("ping needs a node id. Try \"cohortctl ping help\".");
	return 0;
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void sleep_ms(double ms)
{
	struct timespec ts;

	if (ms <= 0 || stop)
		return;
	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)((ms - ts.tv_sec * 1000.0) * 1e6);
	nanosleep(&ts, NULL);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of the sorted @v. */
static double pct(const double *v, size_t n, double p)
{
	size_t k = (size_t)(p / 100.0 * n + 0.999999);

	return v[k ? k - 1 : 0];
}

static void summary(const struct run *p)
{
	double loss = p->sent ? 100.0 * (p->sent - p->n) / p->sent : 0;
	double *v = NULL, sum = 0, st[5] = { 0 };
	size_t i;

	if (p->n)
		v = malloc(p->n * sizeof(*v));
	for (i = 0; v && i < p->n; i++) {
		v[i] = p->r[i].ms;
		sum += v[i];
	}
	if (v) {
		qsort(v, p->n, sizeof(*v), cmp_double);
		st[0] = v[0];
		st[1] = sum / p->n;
		st[2] = pct(v, p->n, 50);
		st[3] = pct(v, p->n, 99);
		st[4] = v[p->n - 1];
	}
	if (json_out) {
		json_obj_open(NULL);
		json_u64("node", p->node);
		json_u64("sent", p->sent);
		json_u64("received", p->n);
		json_double("loss_pct", loss);
		if (v) {
			json_obj_open("rtt_ms");
			json_double("min", st[0]);
			json_double("avg", st[1]);
			json_double("p50", st[2]);
			json_double("p99", st[3]);
			json_double("max", st[4]);
			json_obj_close();
		} else {
			json_null("rtt_ms");
		}
		json_arr_open("replies");
		for (i = 0; i < p->n; i++) {
			json_obj_open(NULL);
			json_u64("seq", p->r[i].seq);
			json_u64("hops", p->r[i].hops);
			json_double("rtt_ms", p->r[i].ms);
			json_obj_close();
		}
		json_arr_close();
		json_obj_close();
	} else {
		printf("--- node %u ping ---\n", p->node);
		printf("%u sent, %zu received, %.0f%% loss", p->sent, p->n, loss);
		if (v)
			printf(", rtt min/avg/p50/p99/max = %.3f/%.3f/%.3f/%.3f/%.3f ms",
			       st[0], st[1], st[2], st[3], st[4]);
		putchar('\n');
	}
	free(v);
}

/* One ping: 0 to go on, -1 to stop the run, or an exit code (error). */
static int one(struct cohort *c, struct run *p, uint32_t seq)
{
	uint64_t rtt = 0;
	uint32_t hops = 0;
	int ret;

	ret = cohort_ping(c, p->node, p->timeout, &rtt, &hops);
	if (ret == -EINTR)
		return -1;
	if (ret == -EHOSTUNREACH) {
		fprintf(stderr, "Error: node %u is unreachable\n", p->node);
		return EXIT_USAGE;
	}
	p->sent++;
	if (ret == -ETIMEDOUT || ret == -EAGAIN) {
		if (!json_out)
			printf("no reply from %u: seq=%u%s\n", p->node, seq,
			       ret == -EAGAIN ? " (queue full)" : "");
		return 0;
	}
	if (ret < 0)
		return kernel_error(c, ret);
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 64;
		void *r = realloc(p->r, cap * sizeof(*p->r));

		if (!r)
			return usage_error("out of memory");
		p->r = r;
		p->cap = cap;
	}
	p->r[p->n].seq = seq;
	p->r[p->n].hops = hops;
	p->r[p->n].ms = rtt / 1e6;
	if (!json_out)
		printf("reply from %u: seq=%u hops=%u time=%.3f ms\n", p->node,
		       seq, hops, p->r[p->n].ms);
	p->n++;
	fflush(stdout);
	return 0;
}

int do_ping(int argc, char **argv)
{
	struct run p = { .count = 4, .interval = 200, .timeout = 1000 };
	struct sigaction sa = { .sa_handler = on_signal };
	struct cohort *c;
	uint32_t seq;
	double t0;
	int ret;

	ret = parse_args(argc, argv, &p);
	if (ret)
		return ret < 0 ? 0 : ret;
	ret = open_netlink(&c);
	if (ret)
		return ret;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	for (seq = 1; seq <= p.count && !stop; seq++) {
		t0 = now_ms();
		ret = one(c, &p, seq);
		if (ret > 0)
			goto out;
		if (ret < 0)
			break;
		if (seq < p.count)
			sleep_ms(p.interval - (now_ms() - t0));
	}
	summary(&p);
	ret = p.n ? 0 : EXIT_USAGE;
out:
	cohort_close(c);
	free(p.r);
	return ret;
}
