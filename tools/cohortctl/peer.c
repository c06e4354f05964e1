// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl peer: the configured neighbours of this node.
 *
 *   cohortctl peer add id ID addr ADDR [ port PORT ]
 *   cohortctl peer del id ID
 *   cohortctl peer show [ id ID ]
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cohortctl.h"

struct peer_args {
	uint32_t id;
	uint32_t addr;
	uint32_t port;
	bool has_id, has_addr;
};

static int peer_usage(FILE *f, int ret)
{
	fprintf(f,
		"Usage: cohortctl peer add id ID addr ADDR [ port PORT ]\n"
		"       cohortctl peer del id ID\n"
		"       cohortctl peer show [ id ID ]\n"
		"where  ID := 1..4294967295, the peer's node id\n"
		"       ADDR := the peer's IPv4 address\n"
		"       PORT := 1..65535 (default %d)\n", COHORT_DEFAULT_PORT);
	return ret;
}

/* Keywords allowed by @what: "i" id, "a" addr, "p" port. */
static int parse_args(int argc, char **argv, const char *what,
		      struct peer_args *a)
{
	for (; argc > 0; argc -= 2, argv += 2) {
		const char *kw = argv[0], *val = argv[1];

		if (matches(kw, "id") && strchr(what, 'i')) {
			if (argc < 2 || parse_u32(val, 1, UINT32_MAX, &a->id))
				return usage_error("invalid id \"%s\" (expected 1..%u).",
						   argc < 2 ? "" : val, UINT32_MAX);
			a->has_id = true;
		} else if (matches(kw, "addr") && strchr(what, 'a')) {
			if (argc < 2 || parse_ipv4(val, &a->addr))
				return usage_error("invalid addr \"%s\" (expected an IPv4 address).",
						   argc < 2 ? "" : val);
			a->has_addr = true;
		} else if (matches(kw, "port") && strchr(what, 'p')) {
			if (argc < 2 || parse_u32(val, 1, UINT16_MAX, &a->port))
				return usage_error("invalid port \"%s\" (expected 1..%u).",
						   argc < 2 ? "" : val, UINT16_MAX);
		} else {
			return usage_error("unknown argument \"%s\". Try \"cohortctl peer help\".",
					   kw);
		}
	}
	return 0;
}

static int peer_add(int argc, char **argv)
{
	struct peer_args a = { 0 };
	struct cohort *c;
	int ret;

	ret = parse_args(argc, argv, "iap", &a);
	if (ret)
		return ret;
	if (!a.has_id || !a.has_addr)
		return usage_error("peer add needs id and addr. Try \"cohortctl peer help\".");
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_peer_add(c, a.id, a.addr, a.port);
	if (ret < 0)
		ret = kernel_error(c, ret);
	cohort_close(c);
	return ret;
}

static int peer_del(int argc, char **argv)
{
	struct peer_args a = { 0 };
	struct cohort *c;
	int ret;

	ret = parse_args(argc, argv, "i", &a);
	if (ret)
		return ret;
	if (!a.has_id)
		return usage_error("peer del needs id. Try \"cohortctl peer help\".");
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_peer_del(c, a.id);
	if (ret < 0)
		ret = kernel_error(c, ret);
	cohort_close(c);
	return ret;
}

static void peer_print(const struct cohort_peer *p, bool stats)
{
	char buf[INET_ADDRSTRLEN];

	if (json_out) {
		json_obj_open(NULL);
		json_u64("id", p->id);
		json_str("addr", fmt_ipv4(p->addr, buf));
		json_u64("port", p->port);
		json_obj_close();
	} else {
		printf("peer %u addr %s port %u\n", p->id, fmt_ipv4(p->addr, buf),
		       p->port);
	}
}

/* One peer (@has_id) or all of them, each through @print. */
int peers_print(bool has_id, uint32_t id, peer_print_fn print, bool stats)
{
	struct cohort_peer one, *v = NULL;
	struct cohort *c;
	size_t n = 0, i;
	int ret;

	ret = open_netlink(&c);
	if (ret)
		return ret;
	if (has_id) {
		ret = cohort_peer_get(c, id, &one);
		v = &one;
		n = 1;
	} else {
		ret = cohort_peer_list(c, &v, &n);
	}
	if (ret < 0) {
		ret = kernel_error(c, ret);
	} else {
		if (json_out)
			json_arr_open(NULL);
		for (i = 0; i < n; i++)
			print(&v[i], stats);
		if (json_out)
			json_arr_close();
	}
	if (v != &one)
		free(v);
	cohort_close(c);
	return ret;
}

static int peer_show(int argc, char **argv)
{
	struct peer_args a = { 0 };
	int ret;

	ret = parse_args(argc, argv, "i", &a);
	if (ret)
		return ret;
	return peers_print(a.has_id, a.id, peer_print, false);
}

int do_peer(int argc, char **argv)
{
	/* "OBJECT COMMAND help" as well as "OBJECT help" */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return peer_usage(stdout, 0);
	if (argc < 1 || matches(argv[0], "show") || matches(argv[0], "list"))
		return peer_show(argc ? argc - 1 : 0, argv + 1);
	if (matches(argv[0], "add"))
		return peer_add(argc - 1, argv + 1);
	if (matches(argv[0], "del") || matches(argv[0], "delete"))
		return peer_del(argc - 1, argv + 1);
	if (matches(argv[0], "help"))
		return peer_usage(stdout, 0);
	return usage_error("unknown command \"%s\". Try \"cohortctl peer help\".",
			   argv[0]);
}
