// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl msg: datagrams through the overlay, for tests and debugging.
 *
 *   cohortctl msg send NODE PORT [ TEXT ] [ src-port PORT ]
 *   cohortctl [ -j ] msg recv PORT [ -c COUNT ] [ -W TIMEOUT_MS ]
 *
 * recv binds PORT, says "# bound port PORT" on stderr once it is bound and
 * prints each message as it comes:
 *
 *   from 1:0 to port 9 hops 2 lamport 5 vclock [1:3 2:1] "text"
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohortctl.h"

static int msg_usage(FILE *f, int ret)
{
	fprintf(f,
		"Usage: cohortctl msg send NODE PORT [ TEXT ] [ src-port PORT ]\n"
		"       cohortctl [ -j ] msg recv PORT [ -c COUNT ] [ -W TIMEOUT_MS ]\n"
		"where  NODE := destination node id (this node's own id: local)\n"
		"       PORT := 1..4294967295\n"
		"       TEXT := the payload (default empty), at most %d bytes\n"
		"       COUNT := messages to receive before exiting (default: forever)\n"
		"       TIMEOUT_MS := longest wait for each message (default: forever);\n"
		"                     exit 1 when it passes\n", COHORT_MSG_MAX);
	return ret;
}

static int parse_port(const char *s, uint32_t *port)
{
	if (parse_u32(s, 1, UINT32_MAX, port))
		return usage_error("invalid port \"%s\" (expected 1..%u).", s,
				   UINT32_MAX);
	return 0;
}

static int msg_send(int argc, char **argv)
{
	uint32_t node, port, src_port = 0;
	const char *text = NULL;
	struct cohort *c;
	int ret;

	if (argc < 2)
		return usage_error("msg send needs NODE and PORT. Try \"cohortctl msg help\".");
	if (parse_u32(argv[0], 1, UINT32_MAX, &node))
		return usage_error("invalid node \"%s\" (expected 1..%u).",
				   argv[0], UINT32_MAX);
	ret = parse_port(argv[1], &port);
	if (ret)
		return ret;
	for (argc -= 2, argv += 2; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "src-port") && argc > 1) {
			argc--, argv++;
			ret = parse_port(argv[0], &src_port);
			if (ret)
				return ret;
		} else if (!text) {
			text = argv[0];
		} else {
			return usage_error("unknown argument \"%s\". Try \"cohortctl msg help\".",
					   argv[0]);
		}
	}
	if (!text)
		text = "";
	if (strlen(text) > COHORT_MSG_MAX)
		return usage_error("TEXT is longer than %d bytes.", COHORT_MSG_MAX);
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_msg_send(c, node, port, src_port, text, strlen(text));
	if (ret == -EHOSTUNREACH) {
		fprintf(stderr, "Error: node %u is unreachable\n", node);
		ret = EXIT_USAGE;
	} else if (ret == -EAGAIN) {
		fprintf(stderr, "Error: the queue to node %u is full, try again\n",
			node);
		ret = EXIT_USAGE;
	} else if (ret < 0) {
		ret = kernel_error(c, ret);
	}
	cohort_close(c);
	return ret;
}

/* The payload as a C string literal: printable ASCII, escapes, \ooo. */
static void print_escaped(const uint8_t *p, size_t len)
{
	size_t i;

	putchar('"');
	for (i = 0; i < len; i++) {
		switch (p[i]) {
		case '"':
			fputs("\\\"", stdout);
			break;
		case '\\':
			fputs("\\\\", stdout);
			break;
		case '\n':
			fputs("\\n", stdout);
			break;
		case '\t':
			fputs("\\t", stdout);
			break;
		case '\r':
			fputs("\\r", stdout);
			break;
		default:
			if (p[i] < 0x20 || p[i] >= 0x7f)
				printf("\\%03o", p[i]);
			else
				putchar(p[i]);
		}
	}
	putchar('"');
}

static void msg_print(const struct cohort_msg *m)
{
	uint32_t i;

	if (json_out) {
		json_obj_open(NULL);
		json_u64("src", m->src);
		json_u64("src_port", m->src_port);
		json_u64("port", m->port);
		json_u64("hops", m->hops);
		json_u64("lamport", m->lamport);
		json_arr_open("vclock");
		for (i = 0; i < m->vclock.len; i++) {
			json_obj_open(NULL);
			json_u64("id", m->vclock.entry[i].id);
			json_u64("counter", m->vclock.entry[i].counter);
			json_obj_close();
		}
		json_arr_close();
		json_bytes("payload", m->payload, m->len);
		json_obj_close();
	} else {
		printf("from %u:%u to port %u hops %u lamport %" PRIu64 " vclock [",
		       m->src, m->src_port, m->port, m->hops, m->lamport);
		for (i = 0; i < m->vclock.len; i++)
			printf("%s%llu:%llu", i ? " " : "",
			       (unsigned long long)m->vclock.entry[i].id,
			       (unsigned long long)m->vclock.entry[i].counter);
		fputs("] ", stdout);
		print_escaped(m->payload, m->len);
		putchar('\n');
	}
	fflush(stdout);
}

static int recv_loop(struct cohort *c, uint32_t count, int timeout)
{
	struct cohort_msg *m = malloc(sizeof(*m));
	uint32_t seen = 0;
	int ret = 0;

	if (!m)
		return usage_error("out of memory");
	while (!count || seen < count) {
		ret = cohort_msg_recv(c, m, timeout);
		if (ret == -ENOBUFS) {
			fprintf(stderr, "Warning: messages were lost (receive buffer overrun)\n");
			continue;
		}
		if (ret == -ETIMEDOUT || ret == -EAGAIN) {
			fprintf(stderr, "Error: no message within %d ms\n", timeout);
			ret = EXIT_USAGE;
			break;
		}
		if (ret < 0) {
			ret = kernel_error(c, ret);
			break;
		}
		msg_print(m);
		seen++;
	}
	free(m);
	return ret;
}

static int msg_recv(int argc, char **argv)
{
	uint32_t port, count = 0, timeout = 0;
	bool has_timeout = false;
	struct cohort *c;
	int ret;

	if (argc < 1)
		return usage_error("msg recv needs PORT. Try \"cohortctl msg help\".");
	ret = parse_port(argv[0], &port);
	if (ret)
		return ret;
	for (argc--, argv++; argc > 0; argc -= 2, argv += 2) {
		bool is_count = !strcmp(argv[0], "-c") || matches(argv[0], "count");

		if (!is_count && strcmp(argv[0], "-W") && !matches(argv[0], "timeout"))
			return usage_error("unknown argument \"%s\". Try \"cohortctl msg help\".",
					   argv[0]);
		if (argc < 2)
			return usage_error("argument \"%s\" needs a value.", argv[0]);
		if (parse_u32(argv[1], is_count ? 1 : 0, is_count ? UINT32_MAX : INT32_MAX,
			      is_count ? &count : &timeout))
			return usage_error("invalid value \"%s\" for %s.", argv[1],
					   argv[0]);
		if (!is_count)
			has_timeout = true;
	}
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_msg_bind(c, port);
	if (ret < 0) {
		ret = kernel_error(c, ret);
	} else {
		fprintf(stderr, "# bound port %u\n", port);
		fflush(stderr);
		ret = recv_loop(c, count, has_timeout ? (int)timeout : -1);
	}
	cohort_close(c);
	return ret;
}

int do_msg(int argc, char **argv)
{
	/* "OBJECT COMMAND help" as well as "OBJECT help" */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return msg_usage(stdout, 0);
	if (argc < 1 || matches(argv[0], "help"))
		return msg_usage(argc < 1 ? stderr : stdout, argc < 1 ? EXIT_USAGE : 0);
	if (matches(argv[0], "send"))
		return msg_send(argc - 1, argv + 1);
	if (matches(argv[0], "recv") || matches(argv[0], "receive"))
		return msg_recv(argc - 1, argv + 1);
	return usage_error("unknown command \"%s\". Try \"cohortctl msg help\".",
			   argv[0]);
}
