/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohortctl: administration tool for the cohort kernel module.
 */
#ifndef COHORTCTL_H
#define COHORTCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libcohort.h>

#ifndef COHORT_VERSION
#define COHORT_VERSION	"0.1.0"
#endif

/* Exit codes. */
#define EXIT_USAGE	1	/* bad command line or a kernel error */
#define EXIT_NOMODULE	2	/* the cohort family does not exist */

/* Global options (main.c). */
extern bool json_out;
extern bool pretty_out;
extern bool stats_out;	/* -s: counters too */

/* main.c: helpers shared by the objects. */
bool matches(const char *arg, const char *word);
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kernel_error(struct cohort *c, int err);
int open_netlink(struct cohort **c);
bool is_stats_opt(const char *arg);
int parse_ipv4(const char *s, uint32_t *addr);
const char *fmt_ipv4(uint32_t addr, char *buf);

/* One entry point per object. */
int do_node(int argc, char **argv);
int do_monitor(int argc, char **argv);
int do_peer(int argc, char **argv);
int do_link(int argc, char **argv);
int do_member(int argc, char **argv);
int do_route(int argc, char **argv);
int do_ping(int argc, char **argv);
int do_msg(int argc, char **argv);
int do_queue(int argc, char **argv);
int do_topic(int argc, char **argv);

/* link.c, member.c: names of states, also for monitor. */
const char *link_state_name(uint8_t state);
const char *member_state_name(uint8_t state);
void link_event_print(const struct cohort_peer *p);
void member_event_print(const struct cohort_member *m);
void queue_event_print(const struct cohort_qevent *e);
int member_fetch(struct cohort_member **v, size_t *n);

/* stats.c: counters, @last the highest COHORT_A_STATS_* to print. */
void stats_print_text(const struct cohort_stats *st, int last);
void stats_print_json(const struct cohort_stats *st, int last);
#define STATS_LINK_LAST	COHORT_A_STATS_HEARTBEATS_RX
#define STATS_NODE_LAST	COHORT_A_STATS_MAX

/* node.c: used by monitor too. */
void node_print_json(const struct cohort_node *n, const char *event);

/* json.c: a minimal streaming JSON writer on stdout. */
void json_obj_open(const char *key);
void json_obj_close(void);
void json_arr_open(const char *key);
void json_arr_close(void);
void json_u64(const char *key, uint64_t v);
void json_str(const char *key, const char *s);
void json_null(const char *key);
void json_bool(const char *key, bool v);
void json_double(const char *key, double v);
void json_bytes(const char *key, const void *buf, size_t len);
void json_quote(const void *buf, size_t len);

/* peer.c: fetch one peer or all and print each (peer and link show). */
typedef void (*peer_print_fn)(const struct cohort_peer *p, bool stats);
int peers_print(bool has_id, uint32_t id, peer_print_fn print, bool stats);

#endif /* COHORTCTL_H */
