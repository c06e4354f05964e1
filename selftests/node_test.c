// SPDX-License-Identifier: GPL-2.0
/*
 * Node id and name over the "cohort" generic netlink family: set and get
 * through libcohort, validation with extack messages, privilege checks,
 * change events, and the rule that the id cannot change under bound
 * actors.
 *
 * All tests share the VM's root namespace node, which the runner set to
 * id 1 "root": each test saves what it found and puts it back in the
 * teardown, which the harness runs even after a failed assertion. Children
 * that drop privileges never use ASSERT_*: they report by exit status, so
 * that a failure in them can never run the (privileged) teardown.
 *
 * A few malformed requests cannot be expressed through the library (names
 * of 64 bytes and more, attributes of the wrong size, unknown attributes);
 * those go over a raw netlink socket built here.
 */
#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "kselftest_harness.h"
#include "libcohort.h"

#define NOBODY		65534
#define MAX_HANDLES	4

/* ---- small helpers ---- */

static int node_set(struct cohort *c, uint32_t fields, uint32_t id,
		    const char *name)
{
	struct cohort_node n;

	memset(&n, 0, sizeof(n));
	n.fields = fields;
	n.id = id;
	if (name)
		snprintf(n.name, sizeof(n.name), "%s", name);
	return cohort_node_set(c, &n);
}

/*
 * Does @msg mention @word as a word of its own (letters around it do not
 * count, "_" and punctuation do)? "invalid" must not pass for "id", but
 * "COHORT_A_NODE_ID" and "node id" must. A plural "s" is allowed.
 */
static bool mentions(const char *msg, const char *word)
{
	size_t n = strlen(word);
	const char *p;

	for (p = msg; (p = strcasestr(p, word)); p++) {
		const char *end = p + n;

		if (p > msg && isalpha((unsigned char)p[-1]))
			continue;
		if (*end == 's' || *end == 'S')
			end++;
		if (isalpha((unsigned char)*end))
			continue;
		return true;
	}
	return false;
}

/* ---- raw generic netlink, for what the library cannot send ---- */

struct raw_nl {
	int fd;
	uint16_t family;
	uint32_t seq;
};

struct raw_reply {
	int error;		/* 0 or -errno from the ack */
	char msg[256];		/* extack message, "" if none */
	int offs;		/* extack offset of the bad attribute, or -1 */
	uint16_t family;	/* CTRL_ATTR_FAMILY_ID, from a family reply */
};

struct raw_req {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char attrs[512];
};

/* Offset of the first attribute, as the kernel counts it in extack. */
#define RAW_ATTR_OFFS	(NLMSG_HDRLEN + GENL_HDRLEN)

static void raw_put(struct raw_req *r, uint16_t type, const void *data,
		    uint16_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)r + NLMSG_ALIGN(r->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	r->n.nlmsg_len = NLMSG_ALIGN(r->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void raw_init(struct raw_req *r, uint16_t family, uint8_t cmd)
{
	memset(r, 0, sizeof(*r));
	r->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	r->n.nlmsg_type = family;
	r->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r->g.cmd = cmd;
	r->g.version = COHORT_GENL_VERSION;
}

/* Walk the attributes in [p, end) and keep those a test looks at. */
static void raw_parse(struct raw_reply *out, const char *p, const char *end,
		      bool extack)
{
	while (p + NLA_HDRLEN <= end) {
		const struct nlattr *a = (const void *)p;
		const char *data = p + NLA_HDRLEN;
		int len = a->nla_len - NLA_HDRLEN;

		if (a->nla_len < NLA_HDRLEN || p + a->nla_len > end)
			break;
		if (extack && a->nla_type == NLMSGERR_ATTR_MSG)
			snprintf(out->msg, sizeof(out->msg), "%.*s", len, data);
		else if (extack && a->nla_type == NLMSGERR_ATTR_OFFS && len == 4)
			memcpy(&out->offs, data, 4);
		else if (!extack && a->nla_type == CTRL_ATTR_FAMILY_ID && len >= 2)
			memcpy(&out->family, data, 2);
		p += NLA_ALIGN(a->nla_len);
	}
}

/* Handle one received message; true once the ack for @seq arrived. */
static bool raw_handle(struct raw_reply *out, const struct nlmsghdr *n,
		       uint32_t seq)
{
	const struct nlmsgerr *e = NLMSG_DATA(n);
	const char *end = (const char *)n + n->nlmsg_len;
	const char *tlv;

	if (n->nlmsg_seq != seq)
		return false;
	if (n->nlmsg_type != NLMSG_ERROR) {
		raw_parse(out, (const char *)NLMSG_DATA(n) + GENL_HDRLEN, end,
			  false);
		return false;
	}
	out->error = e->error;
	if (!(n->nlmsg_flags & NLM_F_ACK_TLVS))
		return true;
	tlv = (const char *)e + sizeof(*e);
	if (!(n->nlmsg_flags & NLM_F_CAPPED))
		tlv += NLMSG_ALIGN(e->msg.nlmsg_len - NLMSG_HDRLEN);
	raw_parse(out, tlv, end, true);
	return true;
}

static int raw_transact(struct raw_nl *nl, struct raw_req *r,
			struct raw_reply *out)
{
	static char buf[16384];
	bool done = false;
	ssize_t len;

	memset(out, 0, sizeof(*out));
	out->offs = -1;
	r->n.nlmsg_seq = ++nl->seq;
	if (send(nl->fd, r, r->n.nlmsg_len, 0) < 0)
		return -errno;
	while (!done) {
		struct nlmsghdr *n = (void *)buf;

		len = recv(nl->fd, buf, sizeof(buf), 0);
		if (len < 0)
			return -errno;
		for (; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len))
			done |= raw_handle(out, n, r->n.nlmsg_seq);
	}
	return 0;
}

static int raw_open(struct raw_nl *nl)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	struct raw_reply rep;
	struct raw_req r;
	int one = 1, ret;

	nl->seq = (uint32_t)time(NULL);
	nl->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (nl->fd < 0)
		return -errno;
	/* Extack on, and acks without a copy of our request. */
	if (bind(nl->fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one)) ||
	    setsockopt(nl->fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one)) ||
	    setsockopt(nl->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)))
		return -errno;
	raw_init(&r, GENL_ID_CTRL, CTRL_CMD_GETFAMILY);
	r.g.version = 1;
	raw_put(&r, CTRL_ATTR_FAMILY_NAME, COHORT_GENL_NAME,
		sizeof(COHORT_GENL_NAME));
	ret = raw_transact(nl, &r, &rep);
	if (ret)
		return ret;
	if (rep.error)
		return rep.error;
	nl->family = rep.family;
	return nl->family ? 0 : -ENOENT;
}

/* ---- fixture ---- */

FIXTURE(node) {
	struct cohort *nl;		/* netlink-only admin handle */
	struct cohort *ev;		/* event subscriber, if any */
	struct cohort *h[MAX_HANDLES];	/* /dev/cohort handles (actors) */
	struct cohort_node saved;	/* what to restore */
};

FIXTURE_SETUP(node)
{
	int ret;

	if (access("/dev/cohort", F_OK))
		SKIP(return, "/dev/cohort missing: module not loaded");
	if (geteuid())
		SKIP(return, "needs root (CAP_NET_ADMIN) to set the node");
	ret = cohort_open_netlink(&self->nl);
	ASSERT_EQ(0, ret) {
		TH_LOG("cohort_open_netlink: %s", strerror(-ret));
	}
	ret = cohort_node_get(self->nl, &self->saved);
	ASSERT_EQ(0, ret) {
		TH_LOG("cohort_node_get: %s %s", strerror(-ret),
		       cohort_errmsg(self->nl));
	}
}

FIXTURE_TEARDOWN(node)
{
	uint32_t fields = self->saved.fields &
			  (COHORT_NODE_F_ID | COHORT_NODE_F_NAME);
	struct cohort_node now;
	int i, ret;

	/* Bound actors would make restoring the id fail with EBUSY. */
	for (i = 0; i < MAX_HANDLES; i++)
		if (self->h[i])
			cohort_close(self->h[i]);
	if (self->ev)
		cohort_close(self->ev);
	if (fields) {
		ret = node_set(self->nl, fields, self->saved.id,
			       self->saved.name);
		EXPECT_EQ(0, ret) {
			TH_LOG("restoring the node: %s %s", strerror(-ret),
			       cohort_errmsg(self->nl));
		}
		EXPECT_EQ(0, cohort_node_get(self->nl, &now));
		EXPECT_EQ(self->saved.id, now.id);
		EXPECT_STREQ(self->saved.name, now.name);
	}
	cohort_close(self->nl);
}

static void assert_node(struct __test_metadata *_metadata, struct cohort *c,
			uint32_t id, const char *name)
{
	struct cohort_node n;
	int ret;

	ret = cohort_node_get(c, &n);
	ASSERT_EQ(0, ret) {
		TH_LOG("cohort_node_get: %s", strerror(-ret));
	}
	ASSERT_TRUE(n.fields & COHORT_NODE_F_ID);
	ASSERT_EQ(id, n.id);
	ASSERT_TRUE(n.fields & COHORT_NODE_F_NAME);
	ASSERT_STREQ(name, n.name);
}

static uint32_t actors(struct __test_metadata *_metadata, struct cohort *c)
{
	struct cohort_node n;

	ASSERT_EQ(0, cohort_node_get(c, &n));
	ASSERT_TRUE(n.fields & COHORT_NODE_F_ACTORS);
	return n.actors;
}

/* Open handle @i and, if @bind, make it an actor with one clock op. */
static void handle_open(struct __test_metadata *_metadata,
			FIXTURE_DATA(node) *self, int i, bool bind)
{
	uint64_t t;

	ASSERT_EQ(0, cohort_open(&self->h[i]));
	if (bind)
		ASSERT_EQ(0, cohort_lamport_tick(self->h[i], &t));
}

static void handle_close(FIXTURE_DATA(node) *self, int i)
{
	cohort_close(self->h[i]);
	self->h[i] = NULL;
}

/* ---- set and get ---- */

TEST_F(node, set_then_get)
{
	char longest[COHORT_NAME_MAX];
	struct cohort_node n;

	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_ID | COHORT_NODE_F_NAME,
			      4242, "node-a.b_C9"));
	assert_node(_metadata, self->nl, 4242, "node-a.b_C9");

	/* Fields not named are left alone. */
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_NAME, 0, "renamed"));
	assert_node(_metadata, self->nl, 4242, "renamed");
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_ID, 4243, NULL));
	assert_node(_metadata, self->nl, 4243, "renamed");

	/* Both ends of the ranges. */
	memset(longest, 'z', sizeof(longest) - 1);
	longest[sizeof(longest) - 1] = '\0';
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_ID | COHORT_NODE_F_NAME,
			      UINT32_MAX, longest));
	assert_node(_metadata, self->nl, UINT32_MAX, longest);
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_ID | COHORT_NODE_F_NAME,
			      1, "a"));
	assert_node(_metadata, self->nl, 1, "a");

	/* A get reports the clocks and actors too. */
	ASSERT_EQ(0, cohort_node_get(self->nl, &n));
	ASSERT_TRUE(n.fields & COHORT_NODE_F_ACTORS);
	ASSERT_TRUE(n.fields & COHORT_NODE_F_LAMPORT);
}

/* An actor handle can read the node as well as a netlink-only one. */
TEST_F(node, get_from_actor_handle)
{
	handle_open(_metadata, self, 0, false);
	assert_node(_metadata, self->h[0], self->saved.id, self->saved.name);
}

/* ---- validation ---- */

/* Only [A-Za-z0-9._-]: Latin-1 letters (0xe9) are not letters here. */
static const char *const bad_names[] = {
	"", "a b", "x/y", "tab\there", "colon:", "new\nline", "caf\xc3\xa9",
	"caf\xe9", "\xc0", " lead", "trail ", "*",
};

TEST_F(node, bad_name_refused)
{
	char toolong[COHORT_NAME_MAX + 1];
	const char *msg;
	unsigned int i;
	struct cohort_node n;
	int ret;

	for (i = 0; i < ARRAY_SIZE(bad_names); i++) {
		ret = node_set(self->nl, COHORT_NODE_F_NAME, 0, bad_names[i]);
		msg = cohort_errmsg(self->nl);
		ASSERT_EQ(-EINVAL, ret) {
			TH_LOG("name \"%s\": %s", bad_names[i], strerror(-ret));
		}
		ASSERT_TRUE(mentions(msg, "name")) {
			TH_LOG("name \"%s\": message \"%s\"", bad_names[i], msg);
		}
		assert_node(_metadata, self->nl, self->saved.id,
			    self->saved.name);
	}

	/* 64 bytes without room for the NUL: the library must say so. */
	memset(&n, 0, sizeof(n));
	n.fields = COHORT_NODE_F_NAME;
	memset(toolong, 'a', sizeof(toolong));
	memcpy(n.name, toolong, sizeof(n.name));
	ret = cohort_node_set(self->nl, &n);
	msg = cohort_errmsg(self->nl);
	ASSERT_TRUE(ret == -EINVAL || ret == -ENAMETOOLONG) {
		TH_LOG("64-byte name: %s", strerror(-ret));
	}
	ASSERT_TRUE(mentions(msg, "name")) {
		TH_LOG("64-byte name: message \"%s\"", msg);
	}
	assert_node(_metadata, self->nl, self->saved.id, self->saved.name);
}

TEST_F(node, id_zero_refused)
{
	const char *msg;
	int ret;

	ret = node_set(self->nl, COHORT_NODE_F_ID, 0, NULL);
	msg = cohort_errmsg(self->nl);
	ASSERT_EQ(-EINVAL, ret);
	ASSERT_TRUE(mentions(msg, "id")) {
		TH_LOG("message \"%s\"", msg);
	}
	/* Nothing of a refused request is applied, not even a good name. */
	ret = node_set(self->nl, COHORT_NODE_F_ID | COHORT_NODE_F_NAME, 0,
		       "fine");
	ASSERT_EQ(-EINVAL, ret);
	assert_node(_metadata, self->nl, self->saved.id, self->saved.name);
}

struct raw_case {
	const char *what;
	uint16_t type;		/* 0: send no attribute at all */
	const void *data;
	uint16_t len;
	const char *word;	/* the message or offset must name this */
};

static void raw_refused(struct __test_metadata *_metadata,
			FIXTURE_DATA(node) *self, struct raw_nl *nl,
			const struct raw_case *t)
{
	struct raw_reply rep;
	struct raw_req r;
	bool named;

	raw_init(&r, nl->family, COHORT_CMD_NODE_SET);
	if (t->type)
		raw_put(&r, t->type, t->data, t->len);
	ASSERT_EQ(0, raw_transact(nl, &r, &rep));
	ASSERT_EQ(-EINVAL, rep.error) {
		TH_LOG("%s: %s", t->what, strerror(-rep.error));
	}
	/*
	 * The attribute is named either in the text or, for policy
	 * failures, by the offset the kernel points at.
	 */
	named = !t->word || mentions(rep.msg, t->word) ||
		(t->type && rep.offs == RAW_ATTR_OFFS);
	ASSERT_TRUE(named) {
		TH_LOG("%s: message \"%s\" offset %d", t->what, rep.msg,
		       rep.offs);
	}
	assert_node(_metadata, self->nl, self->saved.id, self->saved.name);
}

TEST_F(node, bad_attributes_raw)
{
	static char name64[COHORT_NAME_MAX + 1], name100[101];
	uint16_t id16 = 7;
	uint64_t id64 = 7;
	uint32_t id0 = 0;
	const struct raw_case cases[] = {
		{ "64-byte name", COHORT_A_NODE_NAME, name64, sizeof(name64), "name" },
		{ "100-byte name", COHORT_A_NODE_NAME, name100, sizeof(name100), "name" },
		{ "name without NUL", COHORT_A_NODE_NAME, "abc", 3, "name" },
		{ "empty name", COHORT_A_NODE_NAME, "", 1, "name" },
		{ "16-bit id", COHORT_A_NODE_ID, &id16, sizeof(id16), "id" },
		{ "64-bit id", COHORT_A_NODE_ID, &id64, sizeof(id64), "id" },
		{ "id 0", COHORT_A_NODE_ID, &id0, sizeof(id0), "id" },
		{ "unknown attribute", 200, &id0, sizeof(id0), NULL },
		{ "read-only attribute", COHORT_A_NODE_ACTORS, &id0, sizeof(id0), NULL },
	};
	struct raw_case none = { "no attribute", 0, NULL, 0, NULL };
	struct raw_reply rep;
	struct raw_req r;
	struct raw_nl nl;
	unsigned int i;

	memset(name64, 'a', sizeof(name64) - 1);
	memset(name100, 'b', sizeof(name100) - 1);
	ASSERT_EQ(0, raw_open(&nl));
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		raw_refused(_metadata, self, &nl, &cases[i]);

	/* "at least one of" id and name: the message says which. */
	raw_refused(_metadata, self, &nl, &none);
	raw_init(&r, nl.family, COHORT_CMD_NODE_SET);
	ASSERT_EQ(0, raw_transact(&nl, &r, &rep));
	ASSERT_TRUE(mentions(rep.msg, "id") || mentions(rep.msg, "name")) {
		TH_LOG("no attribute: message \"%s\"", rep.msg);
	}

	/* The raw path itself works: a well-formed get is answered. */
	raw_init(&r, nl.family, COHORT_CMD_NODE_GET);
	ASSERT_EQ(0, raw_transact(&nl, &r, &rep));
	ASSERT_EQ(0, rep.error);
	close(nl.fd);
}

/*
 * QUEUE_ADD with an owner that has no mapping in the caller's user
 * namespace: EINVAL, the extack offset at the attribute that is unmapped,
 * and no queue made.
 */
TEST_F(node, queue_owner_unmapped)
{
	const uint32_t fine = 0, unmapped = UINT32_MAX;
	const char *name = "node-test-owner";
	struct raw_reply rep;
	struct raw_req r;
	struct raw_nl nl;
	int at_uid, at_gid, i;

	ASSERT_EQ(0, raw_open(&nl));
	for (i = 0; i < 2; i++) {
		raw_init(&r, nl.family, COHORT_CMD_QUEUE_ADD);
		raw_put(&r, COHORT_A_QUEUE_NAME, name, strlen(name) + 1);
		at_uid = NLMSG_ALIGN(r.n.nlmsg_len);
		raw_put(&r, COHORT_A_QUEUE_UID, i ? &fine : &unmapped, 4);
		at_gid = NLMSG_ALIGN(r.n.nlmsg_len);
		raw_put(&r, COHORT_A_QUEUE_GID, i ? &unmapped : &fine, 4);
		ASSERT_EQ(0, raw_transact(&nl, &r, &rep));
		ASSERT_EQ(-EINVAL, rep.error);
		ASSERT_EQ(i ? at_gid : at_uid, rep.offs) {
			TH_LOG("unmapped %s: message \"%s\" offset %d",
			       i ? "gid" : "uid", rep.msg, rep.offs);
		}
	}
	raw_init(&r, nl.family, COHORT_CMD_QUEUE_GET);
	raw_put(&r, COHORT_A_QUEUE_NAME, name, strlen(name) + 1);
	ASSERT_EQ(0, raw_transact(&nl, &r, &rep));
	ASSERT_EQ(-ENOENT, rep.error);
	close(nl.fd);
}

/* MSG_BIND or MSG_UNBIND of @port on @nl: the kernel's error (0: none). */
static int raw_port(struct raw_nl *nl, uint8_t cmd, uint32_t port,
		    struct raw_reply *rep)
{
	struct raw_req r;
	int ret;

	raw_init(&r, nl->family, cmd);
	raw_put(&r, COHORT_A_MSG_PORT, &port, sizeof(port));
	ret = raw_transact(nl, &r, rep);
	return ret ?: rep->error;
}

/*
 * A message port belongs to one socket: binding it again from there
 * changes nothing, another socket gets EADDRINUSE until it is unbound.
 */
TEST_F(node, msg_port_owner)
{
	const uint32_t port = 4242;
	struct raw_nl a, b;
	struct raw_reply rep;

	ASSERT_EQ(0, raw_open(&a));
	ASSERT_EQ(0, raw_open(&b));
	ASSERT_EQ(0, raw_port(&a, COHORT_CMD_MSG_BIND, port, &rep));
	ASSERT_EQ(0, raw_port(&a, COHORT_CMD_MSG_BIND, port, &rep));
	ASSERT_EQ(-EADDRINUSE, raw_port(&b, COHORT_CMD_MSG_BIND, port, &rep));
	ASSERT_TRUE(mentions(rep.msg, "another")) {
		TH_LOG("EADDRINUSE: message \"%s\"", rep.msg);
	}
	ASSERT_EQ(-ENOENT, raw_port(&b, COHORT_CMD_MSG_UNBIND, port, &rep));
	/* One unbind, however often bound. */
	ASSERT_EQ(0, raw_port(&a, COHORT_CMD_MSG_UNBIND, port, &rep));
	ASSERT_EQ(-ENOENT, raw_port(&a, COHORT_CMD_MSG_UNBIND, port, &rep));
	ASSERT_EQ(0, raw_port(&b, COHORT_CMD_MSG_BIND, port, &rep));
	close(a.fd);
	close(b.fd);
}

/*
 * Dump @cmd of @family on a socket of its own, which reads 4 KiB at a
 * time so that the dump comes in small parts, and run @between(@c, @arg)
 * once the first is read: 1 if a part says the dump was interrupted
 * (NLM_F_DUMP_INTR), 0 if none does, -EMSGSIZE if fewer than three parts
 * held entries (netlink makes the second while the first is read, so
 * only the third comes after @between), -EBADMSG if a message runs past
 * its datagram, or another -errno.
 */
static int raw_dump_flagged(uint16_t family, uint8_t cmd,
			    int (*between)(struct cohort *, uint32_t),
			    struct cohort *c, uint32_t arg)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 5 };
	int fd, parts = 0, flagged = 0, done = 0, ret = 0, entries;
	static char buf[4096];
	struct raw_req r;
	ssize_t len;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -errno;
	raw_init(&r, family, cmd);
	r.n.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    send(fd, &r, r.n.nlmsg_len, 0) < 0)
		ret = -errno;
	while (!ret && !done) {
		struct nlmsghdr *n = (void *)buf;

		len = recv(fd, buf, sizeof(buf), 0);
		if (len < 0) {
			ret = -errno;
			break;
		}
		for (entries = 0; NLMSG_OK(n, len); n = NLMSG_NEXT(n, len)) {
			done |= n->nlmsg_type == NLMSG_DONE ||
				n->nlmsg_type == NLMSG_ERROR;
			entries |= n->nlmsg_type == family;
			flagged |= !!(n->nlmsg_flags & NLM_F_DUMP_INTR);
		}
		if (len)
			ret = -EBADMSG;
		else if (entries && !parts++ && between)
			ret = between(c, arg);
	}
	close(fd);
	if (!ret && parts < 3)
		ret = -EMSGSIZE;
	return ret ?: flagged;
}

/*
 * A peer dump across a peer's removal says so, and its messages stay
 * whole; alone, it is not flagged.
 */
TEST_F(node, peer_dump_interrupted)
{
	const uint32_t first = 900, n = COHORT_MAX_PEERS;
	struct raw_nl nl;
	uint32_t i;
	int ret;

	ASSERT_EQ(0, raw_open(&nl));
	close(nl.fd);
	for (i = 0; i < n; i++) {
		ret = cohort_peer_add(self->nl, first + i,
				      htonl(0xc6120000 | (200 + i)), 0);
		ASSERT_EQ(0, ret) {
			TH_LOG("peer add %u: %s", first + i, strerror(-ret));
		}
	}
	ret = raw_dump_flagged(nl.family, COHORT_CMD_PEER_GET, NULL, NULL, 0);
	EXPECT_EQ(0, ret);
	ret = raw_dump_flagged(nl.family, COHORT_CMD_PEER_GET, cohort_peer_del,
			       self->nl, first);
	EXPECT_EQ(1, ret);
	for (i = 1; i < n; i++)
		ASSERT_EQ(0, cohort_peer_del(self->nl, first + i));
}

/* ---- privilege ---- */

/* Child side; the exit status names the step that went wrong. */
static int unprivileged_child(uint32_t want_id)
{
	struct cohort *c = NULL;
	struct cohort_node n;

	if (setgroups(0, NULL) || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 10;
	if (cohort_open_netlink(&c))
		return 11;
	if (cohort_node_get(c, &n) || n.id != want_id)
		return 12;
	if (node_set(c, COHORT_NODE_F_ID, 777, NULL) != -EPERM)
		return 13;
	if (node_set(c, COHORT_NODE_F_NAME, 0, "evil") != -EPERM)
		return 14;
	cohort_close(c);
	return 0;
}

TEST_F(node, unprivileged_set_refused_get_works)
{
	int status = 0;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(unprivileged_child(self->saved.id));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	/* 10 drop, 11 open, 12 get, 13 set id allowed, 14 set name allowed */
	ASSERT_EQ(0, WEXITSTATUS(status));
	assert_node(_metadata, self->nl, self->saved.id, self->saved.name);
}

/* ---- events ---- */

/* Wait up to @ms for a NODE_NTF carrying @id and @name. */
static bool wait_node_event(struct cohort *ev, int fd, uint32_t id,
			    const char *name, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	static struct cohort_event e;
	const struct cohort_node *n = &e.node;
	int ret;

	for (;;) {
		ret = cohort_event_next(ev, &e);
		if (ret == -EAGAIN) {
			/* poll() returning 0 means the time is up. */
			if (poll(&p, 1, ms) <= 0)
				return false;
			continue;
		}
		if (ret)
			return false;
		if (e.cmd == COHORT_CMD_NODE_NTF && (n->fields & COHORT_NODE_F_ID) &&
		    n->id == id && !strcmp(n->name, name))
			return true;
	}
}

TEST_F(node, change_event)
{
	int fd = -1;

	ASSERT_EQ(0, cohort_open_netlink(&self->ev));
	ASSERT_EQ(0, cohort_events_subscribe(self->ev, &fd));
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_ID | COHORT_NODE_F_NAME,
			      4343, "evt-1"));
	ASSERT_TRUE(wait_node_event(self->ev, fd, 4343, "evt-1", 3000));
	/* A name-only change is announced with the full state. */
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_NAME, 0, "evt-2"));
	ASSERT_TRUE(wait_node_event(self->ev, fd, 4343, "evt-2", 3000));
	/* A refused change announces nothing. */
	ASSERT_EQ(-EINVAL, node_set(self->nl, COHORT_NODE_F_NAME, 0, "a b"));
	ASSERT_FALSE(wait_node_event(self->ev, fd, 4343, "a b", 300));
}

/* ---- ids and bound actors ---- */

TEST_F(node, id_busy_while_actor_bound)
{
	uint64_t actor = 0, t = 0;
	uint32_t node = 0, base;

	base = actors(_metadata, self->nl);
	if (base)
		SKIP(return, "%u actors of other processes on this node", base);

	/* An open handle that did nothing is not bound yet. */
	handle_open(_metadata, self, 0, false);
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_ID, 5151, NULL));
	ASSERT_EQ(0U, actors(_metadata, self->nl));

	/* Its first clock operation binds it to id 5151. */
	ASSERT_EQ(0, cohort_lamport_tick(self->h[0], &t));
	ASSERT_EQ(1U, actors(_metadata, self->nl));
	ASSERT_EQ(-EBUSY, node_set(self->nl, COHORT_NODE_F_ID, 5252, NULL));
	ASSERT_STRNE("", cohort_errmsg(self->nl));
	/* A refused request changes nothing, the name included. */
	ASSERT_EQ(-EBUSY, node_set(self->nl,
				   COHORT_NODE_F_ID | COHORT_NODE_F_NAME,
				   5252, "half"));
	assert_node(_metadata, self->nl, 5151, self->saved.name);
	/* The name is not part of actor ids: it may change. */
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_NAME, 0, "busy-ok"));
	assert_node(_metadata, self->nl, 5151, "busy-ok");

	/* Once the actor is gone the id is free to change. */
	handle_close(self, 0);
	ASSERT_EQ(0U, actors(_metadata, self->nl));
	ASSERT_EQ(0, node_set(self->nl, COHORT_NODE_F_ID, 5252, NULL));
	assert_node(_metadata, self->nl, 5252, "busy-ok");

	/* New actors carry the new id. */
	handle_open(_metadata, self, 1, false);
	ASSERT_EQ(0, cohort_actor_id(self->h[1], &actor, &node));
	ASSERT_EQ(5252U, node);
	ASSERT_EQ(5252ULL, actor >> 32);
}

TEST_F(node, actors_counted)
{
	uint32_t base = actors(_metadata, self->nl);

	handle_open(_metadata, self, 0, true);
	handle_open(_metadata, self, 1, true);
	ASSERT_EQ(base + 2, actors(_metadata, self->nl));
	/* Opened but never used: not an actor yet. */
	handle_open(_metadata, self, 2, false);
	ASSERT_EQ(base + 2, actors(_metadata, self->nl));
	handle_close(self, 0);
	ASSERT_EQ(base + 1, actors(_metadata, self->nl));
	handle_close(self, 1);
	handle_close(self, 2);
	ASSERT_EQ(base, actors(_metadata, self->nl));
}

TEST_HARNESS_MAIN
