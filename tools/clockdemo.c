// SPDX-License-Identifier: GPL-2.0
/*
 * cohort-clockdemo: two processes on two nodes play ping-pong over UDP,
 * stamping each message with their Lamport and vector clocks from
 * /dev/cohort and applying the receive rules on arrival.
 *
 *   cohort-clockdemo serve PORT ROUNDS
 *   cohort-clockdemo ping ADDR PORT ROUNDS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libcohort.h"

/* On the wire: Lamport time, vector length, then (id, counter) pairs. */
struct stamp {
	uint64_t lamport;
	uint32_t len;
	uint32_t pad;
	struct cohort_vc_entry entry[16];
};

static void show(const char *who, const char *ev, uint64_t lamport,
		 const struct cohort_vector *v)
{
	uint32_t i;

	printf("%-6s %-4s lamport %-3" PRIu64 " vector [", who, ev, lamport);
	for (i = 0; i < v->len; i++)
		printf("%s%" PRIx64 ":%" PRIu64, i ? " " : "",
		       (uint64_t)v->entry[i].id, (uint64_t)v->entry[i].counter);
	printf("]\n");
	fflush(stdout);
}

static int stamp_send(struct cohort *c, const char *who, int fd,
		      const struct sockaddr_in *to)
{
	struct cohort_vector v;
	struct stamp s = {};
	int err;

	err = cohort_lamport_send(c, &s.lamport);
	if (!err)
		err = cohort_vclock_send(c, &v);
	if (err)
		return err;
	if (v.len > 16)
		return -E2BIG;
	s.len = v.len;
	memcpy(s.entry, v.entry, v.len * sizeof(v.entry[0]));
	show(who, "send", s.lamport, &v);
	if (sendto(fd, &s, sizeof(s), 0, (const struct sockaddr *)to,
		   sizeof(*to)) < 0)
		return -errno;
	return 0;
}

static int stamp_recv(struct cohort *c, const char *who, int fd,
		      struct sockaddr_in *from)
{
	socklen_t alen = sizeof(*from);
	struct cohort_vector in, out;
	struct stamp s;
	uint64_t now;
	ssize_t n;
	int err;

	n = recvfrom(fd, &s, sizeof(s), 0, (struct sockaddr *)from, &alen);
	if (n != sizeof(s) || s.len > 16)
		return n < 0 ? -errno : -EBADMSG;
	in.len = s.len;
	memcpy(in.entry, s.entry, s.len * sizeof(s.entry[0]));
	err = cohort_lamport_recv(c, s.lamport, &now);
	if (!err)
		err = cohort_vclock_recv(c, &in, &out);
	if (err)
		return err;
	show(who, "recv", now, &out);
	return 0;
}

static int tick(struct cohort *c, const char *who)
{
	struct cohort_vector v;
	uint64_t now;
	int err;

	err = cohort_lamport_tick(c, &now);
	if (!err)
		err = cohort_vclock_tick(c, &v);
	if (!err)
		show(who, "tick", now, &v);
	return err;
}

static int play(struct cohort *c, int fd, int serve, struct sockaddr_in *peer,
		int rounds)
{
	const char *who = serve ? "pong" : "ping";
	int i, err = 0;

	for (i = 0; i < rounds && !err; i++) {
		if (serve) {
			err = stamp_recv(c, who, fd, peer);
			if (!err && i % 2)
				err = tick(c, who);
			if (!err)
				err = stamp_send(c, who, fd, peer);
		} else {
			err = stamp_send(c, who, fd, peer);
			if (!err)
				err = stamp_recv(c, who, fd, peer);
		}
	}
	return err;
}

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET };
	int serve, fd, err, rounds;
	struct cohort *c;
	uint64_t actor;
	uint32_t node;

	serve = argc == 4 && !strcmp(argv[1], "serve");
	if (!serve && !(argc == 5 && !strcmp(argv[1], "ping"))) {
		fprintf(stderr, "usage: %s serve PORT ROUNDS | ping ADDR PORT ROUNDS\n",
			argv[0]);
		return 2;
	}
	rounds = atoi(argv[argc - 1]);
	addr.sin_port = htons(atoi(argv[argc - 2]));
	if (!serve && inet_pton(AF_INET, argv[2], &addr.sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", argv[2]);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || (serve && bind(fd, (struct sockaddr *)&addr, sizeof(addr)))) {
		perror("socket");
		return 1;
	}
	err = cohort_open(&c);
	if (!err)
		err = cohort_actor_id(c, &actor, &node);
	if (err) {
		fprintf(stderr, "cohort: %s\n", strerror(-err));
		return 1;
	}
	printf("%s: actor %" PRIx64 " on node %u\n", serve ? "pong" : "ping",
	       actor, node);
	err = play(c, fd, serve, &addr, rounds);
	if (err)
		fprintf(stderr, "error: %s\n", strerror(-err));
	cohort_close(c);
	close(fd);
	return err ? 1 : 0;
}
