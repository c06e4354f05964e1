/* SPDX-License-Identifier: GPL-2.0 */
/*
 * cohortctl: administration tool for the cohort kernel module.
 */
#ifndef COHORTCTL_H
#define COHORTCTL_H

#include <stdbool.h>
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

/* main.c: helpers shared by the objects. */
bool matches(const char *arg, const char *word);
int parse_u32(const char *s, uint32_t min, uint32_t max, uint32_t *out);
int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int kernel_error(struct cohort *c, int err);
int open_netlink(struct cohort **c);

/* One entry point per object. */
int do_node(int argc, char **argv);
int do_monitor(int argc, char **argv);

/* node.c: used by monitor too. */
void node_print_json(const struct cohort_node *n, const char *event);

/* json.c: a minimal streaming JSON writer on stdout. */
void json_obj_open(const char *key);
void json_obj_close(void);
void json_arr_open(const char *key);
void json_arr_close(void);
void json_u64(const char *key, uint64_t v);
void json_str(const char *key, const char *s);

#endif /* COHORTCTL_H */
