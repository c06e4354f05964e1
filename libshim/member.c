// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: members, every node this node knows of with its route
 * (MEMBER_GET dump). MEMBER_NTF events carry the same attributes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/netlink.h>
#include <netlink/attr.h>
#include <netlink/msg.h>
#include <netlink/genl/genl.h>

#include "internal.h"

int cohort_parse_member(struct nlmsghdr *nlh, struct cohort_member *m)
{
	struct nlattr *tb[COHORT_A_MEMBER_MAX + 1];
	uint64_t v;
	int ret;

	memset(m, 0, sizeof(*m));
	if (genlmsg_parse(nlh, 0, tb, COHORT_A_MEMBER_MAX, NULL) < 0)
		return -EPROTO;
	if (!tb[COHORT_A_MEMBER_ID] ||
	    cohort_attr_u32(tb[COHORT_A_MEMBER_ID], &m->id))
		return -EPROTO;
	if (tb[COHORT_A_MEMBER_NAME]) {
		ret = cohort_attr_name(tb[COHORT_A_MEMBER_NAME], m->name);
		if (ret < 0)
			return ret;
	}
	if (tb[COHORT_A_MEMBER_STATE]) {
		if (cohort_attr_uint(tb[COHORT_A_MEMBER_STATE], &v) ||
		    v > UINT8_MAX)
			return -EPROTO;
		m->state = v;
	}
	if (tb[COHORT_A_MEMBER_NEXT_HOP] &&
	    cohort_attr_u32(tb[COHORT_A_MEMBER_NEXT_HOP], &m->next_hop))
		return -EPROTO;
	if (tb[COHORT_A_MEMBER_HOPS] &&
	    cohort_attr_u32(tb[COHORT_A_MEMBER_HOPS], &m->hops))
		return -EPROTO;
	return 0;
}

struct member_list {
	struct cohort_member *v;
	size_t n, cap;
};

static int member_entry(struct nlmsghdr *nlh, void *arg)
{
	struct member_list *l = arg;

	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 16;
		void *p = realloc(l->v, cap * sizeof(*l->v));

		if (!p)
			return -ENOMEM;
		l->v = p;
		l->cap = cap;
	}
	if (cohort_parse_member(nlh, &l->v[l->n]) < 0)
		return -EPROTO;
	l->n++;
	return 0;
}

static void member_reset(void *arg)
{
	((struct member_list *)arg)->n = 0;
}

COHORT_API int cohort_member_list(struct cohort *c,
				  struct cohort_member **members, size_t *n)
{
	struct member_list l = { 0 };
	int ret;

	if (!c || !members || !n)
		return -EINVAL;
	*members = NULL;
	*n = 0;
	cohort_clear_errmsg(c);
	ret = cohort_nl_ensure(c);
	if (ret < 0)
		return ret;
	ret = cohort_nl_dump(c, COHORT_CMD_MEMBER_GET, member_entry,
			     member_reset, &l);
	if (ret < 0) {
		free(l.v);
		return ret;
	}
	*members = l.v;
	*n = l.n;
	return 0;
}
