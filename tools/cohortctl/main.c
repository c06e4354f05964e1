// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl: administration, status and monitoring for the cohort module.
 *
 *   cohortctl [ OPTIONS ] OBJECT { COMMAND | help }
 *
 * Exit status: 0 on success, 1 for usage and kernel errors, 2 when the
 * cohort generic netlink family is missing (module not loaded).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohortctl.h"

bool json_out;
bool pretty_out;
bool stats_out;

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: cohortctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
		"       cohortctl { -V[ersion] | help }\n"
		"where  OBJECT := { node | peer | link | member | route | ping | msg |\n"
		"                   queue | topic | monitor }\n"
		"       OPTIONS := { -j[son] | -p[retty] | -s[tatistics] | -V[ersion] |\n"
		"                    -h[elp] }\n");
}

/* iproute2 style: @arg is a non-empty abbreviation of @word. */
bool matches(const char *arg, const char *word)
{
	size_t len = strlen(arg);

	return len && len <= strlen(word) && !strncmp(arg, word, len);
}

/* A decimal number in [min, max]; no sign, no spaces, nothing after it. */
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (*s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

/* -s, --stats, -statistics, as iproute2 accepts after the object too. */
bool is_stats_opt(const char *arg)
{
	if (!strcmp(arg, "-s") || !strcmp(arg, "--stats"))
		return true;
	return arg[0] == '-' && arg[1] && matches(arg + 1, "statistics");
}

/* A dotted quad into network byte order. */
int parse_ipv4(const char *s, uint32_t *addr)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return -EINVAL;
	*addr = a.s_addr;
	return 0;
}

/* @buf holds at least INET_ADDRSTRLEN bytes. */
const char *fmt_ipv4(uint32_t addr, char *buf)
{
	struct in_addr a = { .s_addr = addr };

	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("Error: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* Report a failed library call; returns the exit status to use. */
int kernel_error(struct cohort *c, int err)
{
	const char *msg = cohort_errmsg(c);

	if (!*msg)
		msg = strerror(-err);
	if (err == -ENOENT) {
		fprintf(stderr, "Error: %s: is the cohort module loaded?\n",
			msg);
		return EXIT_NOMODULE;
	}
	if (err == -EPERM && !*cohort_errmsg(c))
		fprintf(stderr, "Error: %s (CAP_NET_ADMIN is needed)\n", msg);
	else
		fprintf(stderr, "Error: %s\n", msg);
	return EXIT_USAGE;
}

int open_netlink(struct cohort **c)
{
	int err = cohort_open_netlink(c);

	if (err < 0) {
		fprintf(stderr, "Error: %s\n", strerror(-err));
		return EXIT_USAGE;
	}
	return 0;
}

static int do_help(int argc, char **argv)
{
	usage(stdout);
	return 0;
}

static const struct object {
	const char *name;
	int (*fn)(int argc, char **argv);
} objects[] = {
	{ "node",	do_node },
	{ "peer",	do_peer },
	{ "link",	do_link },
	{ "member",	do_member },
	{ "route",	do_route },
	{ "ping",	do_ping },
	{ "msg",	do_msg },
	{ "queue",	do_queue },
	{ "topic",	do_topic },
	{ "monitor",	do_monitor },
	{ "help",	do_help },
};

static int dispatch(int argc, char **argv)
{
	size_t i;

	for (i = 0; i < sizeof(objects) / sizeof(objects[0]); i++)
		if (matches(argv[0], objects[i].name))
			return objects[i].fn(argc - 1, argv + 1);
	return usage_error("object \"%s\" is unknown. Try \"cohortctl help\".",
			   argv[0]);
}

static const struct option long_opts[] = {
	{ "json",	no_argument,	NULL,	'j' },
	{ "pretty",	no_argument,	NULL,	'p' },
	{ "stats",	no_argument,	NULL,	's' },
	{ "statistics",	no_argument,	NULL,	's' },
	{ "version",	no_argument,	NULL,	'V' },
	{ "help",	no_argument,	NULL,	'h' },
	{ NULL,		0,		NULL,	0 },
};

int main(int argc, char **argv)
{
	int opt;

	/* '+': options end at the object, so "monitor -c N" reaches it. */
	while ((opt = getopt_long(argc, argv, "+jpsVh", long_opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'j':
			json_out = true;
			break;
		case 'p':
			pretty_out = true;
			break;
		case 's':
			stats_out = true;
			break;
		case 'V':
			printf("cohortctl %s\n", COHORT_VERSION);
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc < 1) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return dispatch(argc, argv);
}
