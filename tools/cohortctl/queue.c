// SPDX-License-Identifier: GPL-2.0
/*
 * cohortctl queue, topic: the queues and topics of this node, and a
 * producer and a consumer for tests and debugging.
 *
 *   cohortctl queue add NAME [ ATTR ]...
 *   cohortctl { queue | topic } del NAME	topic del NAME sub SUB
 *   cohortctl { queue | topic } { show | stats } [ NAME ]
 *   cohortctl queue send NAME [ OPTS ] MSG...	topic pub NAME [ OPTS ] MSG...
 *   cohortctl queue recv NAME [ OPTS ]		topic sub NAME [ sub SUB ] [ OPTS ]
 *   (send, recv, pub and sub also take NAME@NODE: that node's queue)
 *
 *   queue jobs home 1 mode 0600 uid 0 gid 0 persistent system max-msgs 1024
 *   max-bytes 1048576 max-size 16384 ack-timeout 30000 max-deliveries 0
 *       depth 2 bytes 10 in-flight 1 consumers 1 producers 0
 *   id 7 delivery 9 sender 1:3 prio 0 deliveries 1 lamport 4 "hello"
 *
 * A consumer says "# receiving from queue NAME (home N)" on stderr once it
 * is attached, so that a script knows when to start producing.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cohortctl.h"

#define DEFAULT_MODE	0600
#define RECV_BATCH	16
#define PER_LINE	4

struct kind {
	uint32_t kind;
	const char *word;	/* "queue" or "topic" */
	const char *send;	/* its producer command */
	const char *recv;	/* its consumer command */
};

static const struct kind queue_kind = {
	COHORT_QUEUE, "queue", "send", "recv",
};

static const struct kind topic_kind = {
	COHORT_TOPIC, "topic", "pub", "sub",
};

static int kind_usage(const struct kind *k, FILE *f, int ret)
{
	bool topic = k->kind == COHORT_TOPIC;
	const char *w = k->word;

	fprintf(f,
		"Usage: cohortctl %s add NAME [ ATTR ]...\n"
		"       cohortctl %s del NAME%s\n"
		"       cohortctl [ -j ] %s { show | stats } [ NAME ]\n"
		"       cohortctl %s %s NAME [ prio P ] [ ttl MS ] [ key K ] [ count N ]\n"
		"                     [ timeout MS ] [ create ] [ -- ] MSG...\n"
		"       cohortctl [ -j ] %s %s NAME%s [ count N ] [ timeout MS ] [ ack | nack ]\n"
		"                     [ ring BYTES ] [ prefetch N ]%s\n",
		w, w, topic ? " [ sub SUB ]" : "", w, w, k->send, w, k->recv,
		topic ? " [ sub SUB ]" : "",
		topic ? " [ filter VALUE[/MASK] ]" : "");
	fprintf(f,
		"where  NAME := 1..%d characters of [A-Za-z0-9._-]; %s and %s also take\n"
		"               NAME@NODE, the %s of that node\n"
		"       ATTR := { persistent | mode OCTAL | uid N | gid N | max-msgs N |\n"
		"                 max-bytes N | max-size N | ack-timeout MS |\n"
		"                 max-deliveries N | dlq NAME%s }\n"
		"       persistent: keep messages while no consumer is attached\n"
		"       mode: permission bits 0..0777 (default %04o); uid, gid: owner (0)\n"
		"       max-msgs, max-bytes: held at most%s (default %d, %u)\n"
		"       max-size: longest message, 1..%d bytes\n"
		"       ack-timeout: ms before an unacked message is redelivered\n"
		"       max-deliveries: attempts before the dead-letter queue dlq (0: no limit)\n",
		COHORT_NAME_MAX - 1, k->send, k->recv, w,
		topic ? " |\n                 overflow { drop-old | reject }" : "",
		DEFAULT_MODE, topic ? " per subscription" : "",
		COHORT_QDEF_MAX_MSGS, COHORT_QDEF_MAX_BYTES, COHORT_QMSG_MAX);
	if (topic)
		fputs("       overflow: a full subscription drops its oldest message (default)\n"
		      "                 or refuses the publish\n"
		      "       sub SUB: a durable subscription, which keeps messages while\n"
		      "                nobody consumes it\n"
		      "       filter: the subscription keeps only messages whose key has\n"
		      "               (key & MASK) == VALUE; MASK defaults to 0xffffffff\n", f);
	fprintf(f,
		"       show: attributes, depth, in-flight, consumers; stats: all counters\n"
		"       %s: each MSG in order, COUNT times (1); P := 0..%d, higher first;\n"
		"            ttl: dropped if not delivered within MS; key: what\n"
		"            subscription filters look at (K, VALUE, MASK: decimal\n"
		"            or 0x hex); timeout: longest wait\n"
		"            for room (forever); create: a %s with defaults, mode %04o\n"
		"       %s: COUNT messages (forever); timeout: longest wait for each,\n"
		"            exit 1 when it passes; ack, nack: settle each after printing;\n"
		"            ring: through a receive ring of BYTES (a power of two);\n"
		"            prefetch: messages a home on another node sends ahead,\n"
		"            1..%d (the default is the most; 1 with ack shares out\n"
		"            slow work)\n",
		k->send, COHORT_QPRIO_MAX, w, DEFAULT_MODE, k->recv,
		COHORT_QPREFETCH_MAX);
	return ret;
}

static int arg_error(const struct kind *k, const char *arg)
{
	return usage_error("unknown argument \"%s\". Try \"cohortctl %s help\".",
			   arg, k->word);
}

static const char *kind_name(uint32_t kind)
{
	switch (kind) {
	case COHORT_QUEUE:
		return "queue";
	case COHORT_TOPIC:
		return "topic";
	}
	return "unknown";
}

static const char *overflow_name(uint32_t overflow)
{
	switch (overflow) {
	case COHORT_OVERFLOW_BLOCK:
		return "block";
	case COHORT_OVERFLOW_DROP_OLD:
		return "drop-old";
	case COHORT_OVERFLOW_REJECT:
		return "reject";
	}
	return "unknown";
}

static const char *event_name(uint32_t event)
{
	switch (event) {
	case COHORT_QEVENT_ADD:
		return "add";
	case COHORT_QEVENT_DEL:
		return "del";
	case COHORT_QEVENT_SUB_ADD:
		return "sub-add";
	case COHORT_QEVENT_SUB_DEL:
		return "sub-del";
	}
	return "unknown";
}

/* monitor: "queue jobs add", "topic news sub-del keep" */
void queue_event_print(const struct cohort_qevent *e)
{
	if (json_out) {
		json_obj_open(NULL);
		json_str("event", "queue");
		json_str("kind", kind_name(e->kind));
		json_str("name", e->name);
		json_str("op", event_name(e->event));
		if (e->sub[0])
			json_str("sub", e->sub);
		json_obj_close();
	} else {
		printf("%s %s %s%s%s\n", kind_name(e->kind), e->name,
		       event_name(e->event), e->sub[0] ? " " : "", e->sub);
	}
}

static int check_name(const char *name, const char *what)
{
	if (!*name || strlen(name) >= COHORT_NAME_MAX)
		return usage_error("invalid %s \"%s\" (1..%d characters).", what,
				   name, COHORT_NAME_MAX - 1);
	return 0;
}

/* A name to open: NAME or NAME@NODE. */
static int check_qname(const char *name)
{
	const char *at = strchr(name, '@');

	if (!at)
		return check_name(name, "name");
	if (at == name || !at[1] || at - name >= COHORT_NAME_MAX ||
	    strlen(at) >= sizeof(((struct cohort_queue_open *)0)->name) -
			  COHORT_NAME_MAX)
		return usage_error("invalid name \"%s\" (NAME or NAME@NODE).",
				   name);
	return 0;
}

/*
 * A failed netlink request. ENOENT is also how a missing module shows:
 * ask for the node to tell the two apart.
 */
static int nl_error(struct cohort *c, int err, const char *name)
{
	char msg[256];
	struct cohort_node node;

	if (err != -ENOENT)
		return kernel_error(c, err);
	snprintf(msg, sizeof(msg), "%s", cohort_errmsg(c));
	if (cohort_node_get(c, &node) == -ENOENT)
		return kernel_error(c, -ENOENT);
	if (*msg)
		fprintf(stderr, "Error: %s\n", msg);
	else
		fprintf(stderr, "Error: no queue or topic \"%s\"\n", name);
	return EXIT_USAGE;
}

/* ---- add ---- */

struct add_args {
	struct cohort_queue_attr attr;
	uint32_t mode, uid, gid;
};

static const struct num_opt {
	const char *kw;
	size_t off;
	uint32_t min, max;
} num_opts[] = {
	{ "uid",		offsetof(struct add_args, uid), 0, UINT32_MAX },
	{ "gid",		offsetof(struct add_args, gid), 0, UINT32_MAX },
	{ "max-msgs",		offsetof(struct add_args, attr.max_msgs),
	  1, COHORT_QMAX_MAX_MSGS },
	{ "max-bytes",		offsetof(struct add_args, attr.max_bytes),
	  1, COHORT_QMAX_MAX_BYTES },
	{ "max-size",		offsetof(struct add_args, attr.max_msg_size),
	  1, COHORT_QMSG_MAX },
	{ "ack-timeout",	offsetof(struct add_args, attr.ack_timeout_ms),
	  1, UINT32_MAX },
	{ "max-deliveries",	offsetof(struct add_args, attr.max_deliveries),
	  0, UINT32_MAX },
};

/* Permission bits in octal, as chmod takes them. */
static int parse_mode(const char *s, uint32_t *mode)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '7')
		return -EINVAL;
	v = strtoul(s, &end, 8);
	if (*end || v > 0777)
		return -ERANGE;
	*mode = v;
	return 0;
}

static bool is_add_keyword(const struct kind *k, const char *kw)
{
	size_t i;

	for (i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++)
		if (matches(kw, num_opts[i].kw))
			return true;
	return matches(kw, "mode") || matches(kw, "dlq") ||
	       (k->kind == COHORT_TOPIC && matches(kw, "overflow"));
}

/* The value of add keyword @kw. */
static int parse_add_kv(const char *kw, const char *val, struct add_args *a)
{
	size_t i;

	for (i = 0; i < sizeof(num_opts) / sizeof(num_opts[0]); i++) {
		const struct num_opt *o = &num_opts[i];

		if (!matches(kw, o->kw))
			continue;
		if (parse_u32(val, o->min, o->max,
			      (uint32_t *)((char *)a + o->off)))
			return usage_error("invalid %s \"%s\" (expected %u..%u).",
					   o->kw, val, o->min, o->max);
		return 0;
	}
	if (matches(kw, "mode")) {
		if (parse_mode(val, &a->mode))
			return usage_error("invalid mode \"%s\" (expected octal 0..0777).",
					   val);
	} else if (matches(kw, "dlq")) {
		if (check_name(val, "dlq"))
			return EXIT_USAGE;
		strcpy(a->attr.dlq, val);
	} else if (!strcmp(val, "drop-old")) {
		a->attr.overflow = COHORT_OVERFLOW_DROP_OLD;
	} else if (!strcmp(val, "reject")) {
		a->attr.overflow = COHORT_OVERFLOW_REJECT;
	} else {
		return usage_error("invalid overflow \"%s\" (expected drop-old or reject).",
				   val);
	}
	return 0;
}

static int q_add(const struct kind *k, int argc, char **argv)
{
	struct add_args a = { .mode = DEFAULT_MODE };
	const char *name;
	struct cohort *c;
	int ret;

	if (argc < 1)
		return usage_error("%s add needs NAME. Try \"cohortctl %s help\".",
				   k->word, k->word);
	name = argv[0];
	if (check_name(name, "name"))
		return EXIT_USAGE;
	for (argc--, argv++; argc > 0; argc--, argv++) {
		if (matches(argv[0], "persistent")) {
			a.attr.flags |= COHORT_QA_PERSISTENT;
			continue;
		}
		if (!is_add_keyword(k, argv[0]))
			return arg_error(k, argv[0]);
		if (argc < 2)
			return usage_error("argument \"%s\" needs a value.",
					   argv[0]);
		ret = parse_add_kv(argv[0], argv[1], &a);
		if (ret)
			return ret;
		argc--, argv++;
	}
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = cohort_queue_add(c, name, k->kind, a.mode, a.uid, a.gid, &a.attr);
	if (ret < 0)
		ret = nl_error(c, ret, name);
	cohort_close(c);
	return ret;
}

/* ---- show, stats, del ---- */

/* Queue @name of kind @k, or all queues; prints errors, returns exit code. */
static int fetch(struct cohort *c, const struct kind *k, const char *name,
		 struct cohort_queue_info **v, size_t *n)
{
	int ret;

	if (!name) {
		ret = cohort_queue_list(c, v, n);
		return ret < 0 ? nl_error(c, ret, "") : 0;
	}
	*v = calloc(1, sizeof(**v));
	if (!*v)
		return usage_error("out of memory");
	*n = 1;
	ret = cohort_queue_get(c, name, *v);
	if (ret < 0)
		return nl_error(c, ret, name);
	if ((*v)->kind != k->kind)
		return usage_error("\"%s\" is a %s. Try \"cohortctl %s\".", name,
				   kind_name((*v)->kind), kind_name((*v)->kind));
	return 0;
}

static const char *const qstat_names[COHORT_A_QSTATS_MAX + 1] = {
	[COHORT_A_QSTATS_DEPTH]		= "depth",
	[COHORT_A_QSTATS_BYTES]		= "bytes",
	[COHORT_A_QSTATS_INFLIGHT]	= "inflight",
	[COHORT_A_QSTATS_CONSUMERS]	= "consumers",
	[COHORT_A_QSTATS_PRODUCERS]	= "producers",
	[COHORT_A_QSTATS_ENQUEUED]	= "enqueued",
	[COHORT_A_QSTATS_DELIVERED]	= "delivered",
	[COHORT_A_QSTATS_ACKED]		= "acked",
	[COHORT_A_QSTATS_REDELIVERED]	= "redelivered",
	[COHORT_A_QSTATS_DROPPED]	= "dropped",
	[COHORT_A_QSTATS_EXPIRED]	= "expired",
	[COHORT_A_QSTATS_DEAD_LETTERED]	= "dead_lettered",
	[COHORT_A_QSTATS_REJECTED]	= "rejected",
	[COHORT_A_QSTATS_FILTERED]	= "filtered",
};

/* The levels of show: "depth 2 bytes 10 in-flight 1 consumers 1 ..." */
static void levels_text(const struct cohort_qstats *st, bool producers)
{
	const uint64_t *v = st->v;

	printf("depth %" PRIu64 " bytes %" PRIu64 " in-flight %" PRIu64
	       " consumers %" PRIu64, v[COHORT_A_QSTATS_DEPTH],
	       v[COHORT_A_QSTATS_BYTES], v[COHORT_A_QSTATS_INFLIGHT],
	       v[COHORT_A_QSTATS_CONSUMERS]);
	if (producers)
		printf(" producers %" PRIu64, v[COHORT_A_QSTATS_PRODUCERS]);
	putchar('\n');
}

static void levels_json(const struct cohort_qstats *st, bool producers)
{
	int i;

	for (i = COHORT_A_QSTATS_DEPTH; i <= COHORT_A_QSTATS_PRODUCERS; i++)
		if (producers || i != COHORT_A_QSTATS_PRODUCERS)
			json_u64(qstat_names[i], st->v[i]);
}

static void show_text(const struct cohort_queue_info *q)
{
	const struct cohort_queue_attr *a = &q->attr;
	size_t i;

	printf("%s %s home %u mode %04o uid %u gid %u%s%s", kind_name(q->kind),
	       q->name, q->home, q->mode, q->uid, q->gid,
	       a->flags & COHORT_QA_PERSISTENT ? " persistent" : "",
	       a->flags & COHORT_QA_SYSTEM ? " system" : "");
	printf(" max-msgs %u max-bytes %u max-size %u ack-timeout %u max-deliveries %u",
	       a->max_msgs, a->max_bytes, a->max_msg_size, a->ack_timeout_ms,
	       a->max_deliveries);
	if (a->dlq[0])
		printf(" dlq %s", a->dlq);
	if (q->kind == COHORT_TOPIC)
		printf(" overflow %s", overflow_name(a->overflow));
	fputs("\n    ", stdout);
	levels_text(&q->stats, true);
	for (i = 0; i < q->nsubs; i++) {
		printf("    sub %s ", q->subs[i].name[0] ? q->subs[i].name :
		       "(non-durable)");
		if (q->subs[i].filter_mask)
			printf("filter %#x/%#x ", q->subs[i].filter_value,
			       q->subs[i].filter_mask);
		levels_text(&q->subs[i].stats, false);
	}
}

/* "name": the subscription's, null when it is not durable. */
static void sub_name_json(const struct cohort_queue_sub *s)
{
	if (s->name[0])
		json_str("name", s->name);
	else
		json_null("name");
}

/* "filter": its value and mask, null when it keeps everything. */
static void sub_filter_json(const struct cohort_queue_sub *s)
{
	if (!s->filter_mask) {
		json_null("filter");
		return;
	}
	json_obj_open("filter");
	json_u64("value", s->filter_value);
	json_u64("mask", s->filter_mask);
	json_obj_close();
}

static void show_json(const struct cohort_queue_info *q)
{
	const struct cohort_queue_attr *a = &q->attr;
	char mode[8];
	size_t i;

	snprintf(mode, sizeof(mode), "%04o", q->mode);
	json_obj_open(NULL);
	json_str("name", q->name);
	json_str("kind", kind_name(q->kind));
	json_u64("home", q->home);
	json_str("mode", mode);
	json_u64("uid", q->uid);
	json_u64("gid", q->gid);
	json_bool("persistent", a->flags & COHORT_QA_PERSISTENT);
	json_bool("system", a->flags & COHORT_QA_SYSTEM);
	json_u64("max_msgs", a->max_msgs);
	json_u64("max_bytes", a->max_bytes);
	json_u64("max_msg_size", a->max_msg_size);
	json_u64("ack_timeout_ms", a->ack_timeout_ms);
	json_u64("max_deliveries", a->max_deliveries);
	if (a->dlq[0])
		json_str("dlq", a->dlq);
	else
		json_null("dlq");
	if (q->kind == COHORT_TOPIC)
		json_str("overflow", overflow_name(a->overflow));
	levels_json(&q->stats, true);
	if (q->kind == COHORT_TOPIC) {
		json_arr_open("subs");
		for (i = 0; i < q->nsubs; i++) {
			json_obj_open(NULL);
			sub_name_json(&q->subs[i]);
			sub_filter_json(&q->subs[i]);
			levels_json(&q->subs[i].stats, false);
			json_obj_close();
		}
		json_arr_close();
	}
	json_obj_close();
}

/* The totals, PER_LINE a line, each line starting with @indent. */
static void totals_text(const struct cohort_qstats *st, const char *indent)
{
	int i, n = 0;

	for (i = COHORT_A_QSTATS_ENQUEUED; i <= COHORT_A_QSTATS_MAX; i++) {
		fputs(n % PER_LINE ? " " : indent, stdout);
		printf("%s %" PRIu64, qstat_names[i], st->v[i]);
		if (++n % PER_LINE == 0)
			putchar('\n');
	}
	if (n % PER_LINE)
		putchar('\n');
}

static void qstats_json(const struct cohort_qstats *st)
{
	int i;

	json_obj_open("stats");
	for (i = COHORT_A_QSTATS_PAD + 1; i <= COHORT_A_QSTATS_MAX; i++)
		json_u64(qstat_names[i], st->v[i]);
	json_obj_close();
}

static void stats_text(const struct cohort_queue_info *q)
{
	size_t i;

	printf("%s %s\n", kind_name(q->kind), q->name);
	totals_text(&q->stats, "    ");
	for (i = 0; i < q->nsubs; i++) {
		printf("    sub %s\n", q->subs[i].name[0] ? q->subs[i].name :
		       "(non-durable)");
		totals_text(&q->subs[i].stats, "        ");
	}
}

static void stats_json(const struct cohort_queue_info *q)
{
	size_t i;

	json_obj_open(NULL);
	json_str("name", q->name);
	json_str("kind", kind_name(q->kind));
	qstats_json(&q->stats);
	if (q->kind == COHORT_TOPIC) {
		json_arr_open("subs");
		for (i = 0; i < q->nsubs; i++) {
			json_obj_open(NULL);
			sub_name_json(&q->subs[i]);
			qstats_json(&q->subs[i].stats);
			json_obj_close();
		}
		json_arr_close();
	}
	json_obj_close();
}

static int q_show(const struct kind *k, int argc, char **argv, bool stats)
{
	struct cohort_queue_info *v = NULL;
	const char *name = NULL;
	struct cohort *c;
	size_t n = 0, i;
	int ret;

	if (argc > 1)
		return arg_error(k, argv[1]);
	if (argc == 1) {
		name = argv[0];
		if (check_name(name, "name"))
			return EXIT_USAGE;
	}
	ret = open_netlink(&c);
	if (ret)
		return ret;
	ret = fetch(c, k, name, &v, &n);
	if (!ret) {
		if (json_out)
			json_arr_open(NULL);
		for (i = 0; i < n; i++) {
			if (v[i].kind != k->kind)
				continue;
			if (json_out)
				(stats ? stats_json : show_json)(&v[i]);
			else
				(stats ? stats_text : show_text)(&v[i]);
		}
		if (json_out)
			json_arr_close();
	}
	cohort_queue_list_free(v, n);
	cohort_close(c);
	return ret;
}

static int q_del(const struct kind *k, int argc, char **argv)
{
	struct cohort_queue_info *v = NULL;
	const char *sub = NULL;
	struct cohort *c;
	size_t n = 0;
	int ret;

	if (argc < 1)
		return usage_error("%s del needs NAME. Try \"cohortctl %s help\".",
				   k->word, k->word);
	if (check_name(argv[0], "name"))
		return EXIT_USAGE;
	if (argc > 1) {
		if (k->kind != COHORT_TOPIC || strcmp(argv[1], "sub"))
			return arg_error(k, argv[1]);
		if (argc != 3)
			return usage_error("sub needs one SUB. Try \"cohortctl topic help\".");
		sub = argv[2];
		if (check_name(sub, "subscription"))
			return EXIT_USAGE;
	}
	ret = open_netlink(&c);
	if (ret)
		return ret;
	/* "queue del" must not delete a topic, nor the other way round. */
	ret = fetch(c, k, argv[0], &v, &n);
	if (!ret) {
		ret = cohort_queue_del(c, argv[0], sub);
		if (ret < 0)
			ret = nl_error(c, ret, argv[0]);
	}
	cohort_queue_list_free(v, n);
	cohort_close(c);
	return ret;
}

/* ---- the data path ---- */

/*
 * A failed open or data call, without the line's end: ioctls carry no
 * message, errno says it all.
 */
static void data_error_msg(const struct kind *k, const char *name, int err)
{
	const char *w = k->word;

	switch (err) {
	case -ENOENT:
		fprintf(stderr, "Error: no %s \"%s\"", w, name);
		break;
	case -EEXIST:
		fprintf(stderr, "Error: \"%s\" is not a %s", name, w);
		break;
	case -EACCES:
		fprintf(stderr, "Error: the mode of %s \"%s\" does not allow this",
			w, name);
		break;
	case -EAGAIN:
		fprintf(stderr, "Error: %s \"%s\" is full", w, name);
		break;
	case -ETIMEDOUT:
		fprintf(stderr, "Error: %s \"%s\" stayed full", w, name);
		break;
	case -EIDRM:
		fprintf(stderr, "Error: %s \"%s\" was deleted", w, name);
		break;
	case -EMSGSIZE:
		fprintf(stderr, "Error: message longer than the max-size of %s \"%s\"",
			w, name);
		break;
	case -EHOSTUNREACH:
		fprintf(stderr, "Error: the home node of %s \"%s\" is unreachable",
			w, name);
		break;
	case -ENXIO:
		fputs("Error: this node has no id (cohortctl node set id ID)",
		      stderr);
		break;
	default:
		fprintf(stderr, "Error: %s \"%s\": %s", w, name, strerror(-err));
	}
}

static int data_error(const struct kind *k, const char *name, int err)
{
	data_error_msg(k, name, err);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

/* /dev/cohort and a descriptor on the queue; prints errors. */
static int q_open(const struct kind *k, const char *name, uint32_t role,
		  uint32_t flags, uint32_t ack, const char *sub,
		  const uint32_t *filter, uint32_t prefetch, struct cohort **c,
		  int *fd, uint32_t *home)
{
	int ret = cohort_open(c);

	if (ret < 0) {
		fprintf(stderr, "Error: /dev/%s: %s%s\n", COHORT_DEVICE_NAME,
			strerror(-ret), ret == -ENOENT ?
			": is the cohort module loaded?" : "");
		return ret == -ENOENT ? EXIT_NOMODULE : EXIT_USAGE;
	}
	cohort_queue_set_prefetch(*c, prefetch);	/* parse_recv() checked it */
	if (filter)
		ret = cohort_topic_subscribe_filter(*c, name, sub, filter[1],
						    filter[0], ack, flags, fd,
						    home);
	else
		ret = cohort_queue_open(*c, name, k->kind, role,
					flags | COHORT_QO_CLOEXEC, NULL,
					DEFAULT_MODE, ack, sub, fd, home);
	if (ret < 0) {
		if (*cohort_errmsg(*c)) {
			fprintf(stderr, "Error: %s\n", cohort_errmsg(*c));
		} else if (ret == -EEXIST && sub && *sub) {
			fprintf(stderr,
				"Error: subscription \"%s\" of \"%s\" was made with a different filter, which it keeps; or \"%s\" is not a topic\n",
				sub, name, name);
		} else {
			data_error(k, name, ret);
		}
		cohort_close(*c);
		return EXIT_USAGE;
	}
	return 0;
}

struct send_args {
	uint32_t prio, ttl, key, count, timeout;
	bool has_timeout, create;
	char **msgs;
	size_t nmsgs;
};

/* A key, mask or value: decimal, or hex after 0x. */
static int parse_key(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!strncmp(s, "0x", 2) || !strncmp(s, "0X", 2)) {
		if (!isxdigit((unsigned char)s[2]))
			return -EINVAL;
		errno = 0;
		v = strtoull(s, &end, 16);
		if (errno || *end || v > UINT32_MAX)
			return -ERANGE;
		*out = v;
		return 0;
	}
	return parse_u32(s, 0, UINT32_MAX, out);
}

/* VALUE or VALUE/MASK (MASK 0xffffffff): @f gets the value, then the mask. */
static int parse_filter(char *s, uint32_t *f)
{
	char *slash = strchr(s, '/');
	int ret;

	f[1] = UINT32_MAX;
	if (slash)
		*slash = '\0';
	ret = parse_key(s, &f[0]);
	if (slash) {
		*slash = '/';
		ret = ret ?: parse_key(slash + 1, &f[1]);
	}
	if (!ret && (f[0] & ~f[1] || !f[1]))
		ret = -EINVAL;
	return ret;
}

/* Options first; "--" or the first other word starts the messages. */
static int parse_send(const struct kind *k, int argc, char **argv,
		      struct send_args *a)
{
	static const struct {
		const char *kw;
		size_t off;
		uint32_t min, max;
	} opts[] = {
		{ "prio", offsetof(struct send_args, prio), 0, COHORT_QPRIO_MAX },
		{ "ttl", offsetof(struct send_args, ttl), 1, UINT32_MAX },
		{ "count", offsetof(struct send_args, count), 1, UINT32_MAX },
		{ "timeout", offsetof(struct send_args, timeout), 0, INT32_MAX },
	};
	size_t i;

	for (; argc > 0; argc--, argv++) {
		if (!strcmp(argv[0], "--")) {
			argc--, argv++;
			break;
		}
		if (!strcmp(argv[0], "create")) {
			a->create = true;
			continue;
		}
		if (!strcmp(argv[0], "key")) {
			if (argc < 2 || parse_key(argv[1], &a->key))
				return usage_error("invalid key \"%s\" (expected 0..%#x).",
						   argc < 2 ? "" : argv[1],
						   UINT32_MAX);
			argc--, argv++;
			continue;
		}
		for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
			if (!strcmp(argv[0], opts[i].kw))
				break;
		if (i == sizeof(opts) / sizeof(opts[0]))
			break;
		if (argc < 2 || parse_u32(argv[1], opts[i].min, opts[i].max,
					  (uint32_t *)((char *)a + opts[i].off)))
			return usage_error("invalid %s \"%s\" (expected %u..%u).",
					   opts[i].kw, argc < 2 ? "" : argv[1],
					   opts[i].min, opts[i].max);
		a->has_timeout |= opts[i].off == offsetof(struct send_args, timeout);
		argc--, argv++;
	}
	if (argc < 1)
		return usage_error("%s %s needs at least one MSG. Try \"cohortctl %s help\".",
				   k->word, k->send, k->word);
	a->msgs = argv;
	a->nmsgs = argc;
	return 0;
}

/*
 * Messages [from, from + n) of the repeated list; returns how many went or
 * -errno. The batch call has no TTL, so with one they go one by one.
 */
static int send_some(int fd, const struct send_args *a, size_t from, size_t n)
{
	struct iovec iov[COHORT_QBATCH_MAX];
	int timeout = a->has_timeout ? (int)a->timeout : COHORT_WAIT_FOREVER;
	size_t i, sent;
	int ret;

	if (a->ttl || a->key) {
		const char *m = a->msgs[from % a->nmsgs];

		ret = cohort_queue_send_key(fd, m, strlen(m), a->prio, a->ttl,
					    a->key, timeout);
		return ret < 0 ? ret : 1;
	}
	if (n > COHORT_QBATCH_MAX)
		n = COHORT_QBATCH_MAX;
	for (i = 0; i < n; i++) {
		iov[i].iov_base = a->msgs[(from + i) % a->nmsgs];
		iov[i].iov_len = strlen(iov[i].iov_base);
	}
	ret = cohort_queue_send_batch(fd, iov, n, a->prio, timeout, &sent);
	return ret < 0 ? ret : (int)sent;
}

static int q_send(const struct kind *k, int argc, char **argv)
{
	struct send_args a = { .count = 1 };
	size_t total, done = 0;
	const char *name;
	struct cohort *c;
	int fd, ret;

	if (argc < 1)
		return usage_error("%s %s needs NAME. Try \"cohortctl %s help\".",
				   k->word, k->send, k->word);
	name = argv[0];
	if (check_qname(name))
		return EXIT_USAGE;
	ret = parse_send(k, argc - 1, argv + 1, &a);
	if (ret)
		return ret;
	total = (size_t)a.count * a.nmsgs;
	ret = q_open(k, name, COHORT_QR_PRODUCE,
		     a.create ? COHORT_QO_CREATE : 0, 0, NULL, NULL, 0, &c,
		     &fd, NULL);
	if (ret)
		return ret;
	while (done < total) {
		ret = send_some(fd, &a, done, total - done);
		if (ret < 0)
			break;
		done += ret;
	}
	if (ret < 0) {
		data_error_msg(k, name, ret);
		fprintf(stderr, " (%zu of %zu messages sent)\n", done, total);
		ret = EXIT_USAGE;
	} else {
		ret = 0;
	}
	close(fd);
	cohort_close(c);
	return ret;
}

struct recv_args {
	uint32_t count, timeout;
	bool has_timeout;
	uint32_t op;		/* enum cohort_ack_op, 0: no acks */
	const char *sub;
	uint32_t ring;		/* bytes of a receive ring, 0: none */
	uint32_t prefetch;	/* 0: the default */
	bool has_filter;
	uint32_t filter[2];	/* value, mask */
};

static int parse_recv(const struct kind *k, int argc, char **argv,
		      struct recv_args *a)
{
	for (; argc > 0; argc--, argv++) {
		const char *kw = argv[0];

		if (matches(kw, "ack") || matches(kw, "nack")) {
			if (a->op)
				return usage_error("ack and nack exclude each other.");
			a->op = kw[0] == 'a' ? COHORT_QACK_ACK : COHORT_QACK_NACK;
			continue;
		}
		if (argc < 2)
			return matches(kw, "count") || matches(kw, "timeout") ||
			       matches(kw, "ring") || matches(kw, "prefetch") ||
			       (k->kind == COHORT_TOPIC &&
				(matches(kw, "sub") || matches(kw, "filter"))) ?
			       usage_error("argument \"%s\" needs a value.", kw) :
			       arg_error(k, kw);
		if (matches(kw, "count")) {
			if (parse_u32(argv[1], 1, UINT32_MAX, &a->count))
				return usage_error("invalid count \"%s\" (expected 1..%u).",
						   argv[1], UINT32_MAX);
		} else if (matches(kw, "timeout")) {
			if (parse_u32(argv[1], 0, INT32_MAX, &a->timeout))
				return usage_error("invalid timeout \"%s\" (expected 0..%d ms).",
						   argv[1], INT32_MAX);
			a->has_timeout = true;
		} else if (matches(kw, "ring")) {
			if (parse_u32(argv[1], COHORT_QRING_MIN,
				      COHORT_QRING_MAX, &a->ring) ||
			    a->ring & (a->ring - 1))
				return usage_error("invalid ring \"%s\" (a power of two, %u..%u bytes).",
						   argv[1], COHORT_QRING_MIN,
						   COHORT_QRING_MAX);
		} else if (matches(kw, "prefetch")) {
			if (parse_u32(argv[1], 1, COHORT_QPREFETCH_MAX,
				      &a->prefetch))
				return usage_error("invalid prefetch \"%s\" (expected 1..%d).",
						   argv[1],
						   COHORT_QPREFETCH_MAX);
		} else if (k->kind == COHORT_TOPIC && matches(kw, "sub")) {
			if (check_name(argv[1], "subscription"))
				return EXIT_USAGE;
			a->sub = argv[1];
		} else if (k->kind == COHORT_TOPIC && matches(kw, "filter")) {
			if (parse_filter(argv[1], a->filter))
				return usage_error("invalid filter \"%s\" (VALUE[/MASK], MASK not 0, VALUE within it).",
						   argv[1]);
			a->has_filter = true;
		} else {
			return arg_error(k, kw);
		}
		argc--, argv++;
	}
	return 0;
}

/* Buffers for one batch: payloads and vector stamps of the largest size. */
struct rx_batch {
	struct cohort_qmsg_in in[RECV_BATCH];
	uint8_t data[RECV_BATCH][COHORT_QMSG_MAX];
	struct cohort_vc_entry vc[RECV_BATCH][COHORT_VC_MAX_ENTRIES];
	uint64_t ids[RECV_BATCH];
};

static void msg_json(const struct cohort_qmsg_in *m,
		     const struct cohort_vc_entry *vc)
{
	uint32_t i;

	json_obj_open(NULL);
	json_u64("id", m->msg_id);
	json_u64("delivery", m->delivery_id);
	json_u64("sender", m->sender);
	json_u64("sender_node", m->sender >> 32);
	json_u64("prio", m->prio);
	json_u64("key", m->key);
	json_u64("deliveries", m->deliveries);
	json_bool("redelivered", m->flags & COHORT_QM_REDELIVERED);
	/* Stamp too wide for this receiver's vector: not merged. */
	json_bool("unmerged", m->flags & COHORT_QM_UNMERGED);
	json_u64("lamport", m->lamport);
	json_arr_open("vclock");
	for (i = 0; i < m->vc_len; i++) {
		json_obj_open(NULL);
		json_u64("id", vc[i].id);
		json_u64("counter", vc[i].counter);
		json_obj_close();
	}
	json_arr_close();
	json_u64("enqueue_ns", m->enqueue_ns);
	json_bytes("payload", (const void *)(uintptr_t)m->data, m->len);
	json_obj_close();
}

static void msg_text(const struct cohort_qmsg_in *m)
{
	printf("id %" PRIu64 " delivery %" PRIu64 " sender %u:%u prio %u key %#x deliveries %u lamport %" PRIu64 " ",
	       (uint64_t)m->msg_id, (uint64_t)m->delivery_id,
	       (uint32_t)(m->sender >> 32), (uint32_t)m->sender, m->prio,
	       m->key, m->deliveries, (uint64_t)m->lamport);
	if (m->flags & COHORT_QM_UNMERGED)
		fputs("unmerged ", stdout);
	json_quote((const void *)(uintptr_t)m->data, m->len);
	putchar('\n');
}

/* Receive and print one batch; returns how many or -errno. */
static int recv_batch(int fd, struct rx_batch *b, size_t n, int timeout)
{
	size_t i;
	int got;

	for (i = 0; i < n; i++)
		b->in[i] = (struct cohort_qmsg_in) {
			.data = (uintptr_t)b->data[i],
			.cap = COHORT_QMSG_MAX,
			.vc_ptr = (uintptr_t)b->vc[i],
			.vc_cap = COHORT_VC_MAX_ENTRIES,
		};
	got = cohort_queue_recv(fd, b->in, n, timeout);
	for (i = 0; got > 0 && i < (size_t)got; i++) {
		if (json_out)
			msg_json(&b->in[i], b->vc[i]);
		else
			msg_text(&b->in[i]);
		b->ids[i] = b->in[i].delivery_id;
	}
	fflush(stdout);
	return got;
}

/* Ack or nack the @n deliveries just printed. */
static int settle(int fd, struct rx_batch *b, size_t n, uint32_t op)
{
	size_t done;
	int ret;

	ret = cohort_queue_ack_batch(fd, op, b->ids, n, &done);
	if (ret < 0)
		fprintf(stderr, "Error: %s of delivery %" PRIu64 ": %s\n",
			op == COHORT_QACK_ACK ? "ack" : "nack", b->ids[done],
			strerror(-ret));
	return ret < 0 ? EXIT_USAGE : 0;
}

static int recv_loop(const struct kind *k, const char *name, int fd,
		     const struct recv_args *a)
{
	int timeout = a->has_timeout ? (int)a->timeout : COHORT_WAIT_FOREVER;
	/*
	 * Zeroed: valgrind cannot see what the _IO ioctls write, and would
	 * call every payload byte uninitialised.
	 */
	struct rx_batch *b = calloc(1, sizeof(*b));
	uint32_t seen = 0;
	size_t n;
	int ret = 0;

	if (!b)
		return usage_error("out of memory");
	while (!ret && (!a->count || seen < a->count)) {
		n = a->count && a->count - seen < RECV_BATCH ?
		    a->count - seen : RECV_BATCH;
		ret = recv_batch(fd, b, n, timeout);
		if (ret == -EAGAIN || ret == -ETIMEDOUT) {
			fprintf(stderr, "Error: no message within %d ms\n",
				timeout);
			ret = EXIT_USAGE;
		} else if (ret < 0) {
			ret = data_error(k, name, ret);
		} else {
			seen += ret;
			ret = a->op ? settle(fd, b, ret, a->op) : 0;
		}
	}
	free(b);
	return ret;
}

/* A ring record as QRECV would have filled it in. */
static void rec_to_in(const struct cohort_qrec *rec, struct cohort_qmsg_in *m)
{
	*m = (struct cohort_qmsg_in) {
		.data = (uintptr_t)cohort_qrec_data(rec),
		.len = rec->data_len,
		.msg_id = rec->msg_id,
		.delivery_id = rec->delivery_id,
		.sender = rec->sender,
		.enqueue_ns = rec->enqueue_ns,
		.lamport = rec->lamport,
		.vc_len = rec->vc_len,
		.prio = rec->prio,
		.deliveries = rec->deliveries,
		.flags = rec->flags,
		.key = rec->key,
	};
}

/* recv_loop() through a receive ring: records printed where they are. */
static int recv_ring(const struct kind *k, const char *name, int fd,
		     const struct recv_args *a)
{
	int timeout = a->has_timeout ? (int)a->timeout : COHORT_WAIT_FOREVER;
	const struct cohort_qrec *rec;
	struct cohort_qmsg_in m;
	struct cohort_ring *r;
	uint32_t seen = 0;
	uint64_t id;
	size_t done;
	int ret;

	ret = cohort_ring_open(fd, a->ring, &r);
	if (ret)
		return data_error(k, name, ret);
	while (!a->count || seen < a->count) {
		rec = cohort_ring_next(r);
		if (!rec) {
			ret = cohort_ring_wait(r, timeout);
			if (ret == -EAGAIN || ret == -ETIMEDOUT) {
				fprintf(stderr, "Error: no message within %d ms\n",
					timeout);
				ret = EXIT_USAGE;
				break;
			}
			if (ret < 0) {
				ret = data_error(k, name, ret);
				break;
			}
			continue;
		}
		rec_to_in(rec, &m);
		if (json_out)
			msg_json(&m, cohort_qrec_vc(rec));
		else
			msg_text(&m);
		fflush(stdout);
		id = m.delivery_id;
		ret = a->op ? cohort_queue_ack_batch(fd, a->op, &id, 1, &done) : 0;
		if (ret < 0) {
			fprintf(stderr, "Error: %s of delivery %" PRIu64 ": %s\n",
				a->op == COHORT_QACK_ACK ? "ack" : "nack", id,
				strerror(-ret));
			ret = EXIT_USAGE;
			break;
		}
		cohort_ring_release(r, rec);
		seen++;
	}
	cohort_ring_close(r);
	return ret;
}

static int q_recv(const struct kind *k, int argc, char **argv)
{
	struct recv_args a = { 0 };
	const char *name;
	struct cohort *c;
	uint32_t home;
	int fd, ret;

	if (argc < 1)
		return usage_error("%s %s needs NAME. Try \"cohortctl %s help\".",
				   k->word, k->recv, k->word);
	name = argv[0];
	if (check_qname(name))
		return EXIT_USAGE;
	ret = parse_recv(k, argc - 1, argv + 1, &a);
	if (ret)
		return ret;
	ret = q_open(k, name, COHORT_QR_CONSUME, 0,
		     a.op ? COHORT_ACK_EXPLICIT : COHORT_ACK_NONE, a.sub,
		     a.has_filter ? a.filter : NULL, a.prefetch, &c, &fd,
		     &home);
	if (ret)
		return ret;
	fprintf(stderr, "# receiving from %s %s (home %u)%s\n", k->word, name,
		home, a.ring ? " through a ring" : "");
	fflush(stderr);
	ret = a.ring ? recv_ring(k, name, fd, &a) : recv_loop(k, name, fd, &a);
	close(fd);
	cohort_close(c);
	return ret;
}

static int do_kind(const struct kind *k, int argc, char **argv)
{
	bool topic = k->kind == COHORT_TOPIC;

	/* "OBJECT COMMAND help" as well as "OBJECT help" */
	if (argc > 1 && !strcmp(argv[1], "help"))
		return kind_usage(k, stdout, 0);
	if (argc < 1 || matches(argv[0], "show") || matches(argv[0], "list"))
		return q_show(k, argc ? argc - 1 : 0, argv + 1, false);
	if (matches(argv[0], "stats") || matches(argv[0], "statistics"))
		return q_show(k, argc - 1, argv + 1, true);
	if (matches(argv[0], "add"))
		return q_add(k, argc - 1, argv + 1);
	if (matches(argv[0], "del") || matches(argv[0], "delete"))
		return q_del(k, argc - 1, argv + 1);
	if (topic ? matches(argv[0], "pub") || matches(argv[0], "publish") :
		    matches(argv[0], "send"))
		return q_send(k, argc - 1, argv + 1);
	if (topic ? matches(argv[0], "sub") || matches(argv[0], "subscribe") :
		    matches(argv[0], "recv") || matches(argv[0], "receive"))
		return q_recv(k, argc - 1, argv + 1);
	if (matches(argv[0], "help"))
		return kind_usage(k, stdout, 0);
	return usage_error("unknown command \"%s\". Try \"cohortctl %s help\".",
			   argv[0], k->word);
}

int do_queue(int argc, char **argv)
{
	return do_kind(&queue_kind, argc, argv);
}

int do_topic(int argc, char **argv)
{
	return do_kind(&topic_kind, argc, argv);
}
