// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace node state: identity, actor numbering and the
 * node-level logical clocks that the transport stamps on every frame.
 */
#include <linux/ctype.h>
#include <linux/slab.h>
#include <net/netns/generic.h>

#include "node.h"
#include "queue_remote.h"

static unsigned int node_net_id __read_mostly;

struct cohort_node *cohort_node_get(const struct net *net)
{
	return net_generic(net, node_net_id);
}

/* ASCII letters, digits, '.', '_', '-' (isalnum() also takes Latin-1). */
bool cohort_node_name_valid(const char *name)
{
	for (; *name; name++) {
		if (!isascii(*name) ||
		    !(isalnum(*name) || strchr("._-", *name)))
			return false;
	}
	return true;
}

/*
 * An actor's id is the node id and a local number that no live actor has.
 * Numbers are handed out cyclically, so one is reused only after 2^32
 * others, and never while its actor lives.
 */
int cohort_node_bind_actor(struct cohort_node *node, u64 *actor_id)
{
	u32 num;
	int err;

	mutex_lock(&node->lock);
	if (!node->id) {
		err = -ENXIO;
		goto out;
	}
	err = xa_alloc_cyclic(&node->actor_nums, &num, NULL,
			      XA_LIMIT(1, U32_MAX), &node->next_num,
			      GFP_KERNEL_ACCOUNT);
	if (err < 0)
		goto out;
	err = 0;
	node->actors++;
	*actor_id = (u64)node->id << 32 | num;
out:
	mutex_unlock(&node->lock);
	return err;
}

void cohort_node_unbind_actor(struct cohort_node *node, u64 actor_id)
{
	mutex_lock(&node->lock);
	xa_erase(&node->actor_nums, (u32)actor_id);
	node->actors--;
	mutex_unlock(&node->lock);
}

/*
 * Either may be NULL. The id cannot change under bound actors, whose ids
 * embed it. The node clocks stay as they are: an old id's entry is history.
 */
int cohort_node_set_locked(struct cohort_node *node, const u32 *id,
			   const char *name)
{
	lockdep_assert_held(&node->lock);

	if (id && *id != node->id && node->actors)
		return -EBUSY;
	if (id)
		node->id = *id;
	if (name)
		strscpy(node->name, name, sizeof(node->name));
	return 0;
}

static int __net_init node_net_init(struct net *net)
{
	struct cohort_node *node = cohort_node_get(net);
	int err;

	mutex_init(&node->lock);
	xa_init_flags(&node->actor_nums, XA_FLAGS_ALLOC1);
	spin_lock_init(&node->clock_lock);
	err = cohort_clocks_init(&node->clocks, GFP_KERNEL);
	if (err)
		return err;
	err = cohort_transport_init(&node->tp, net, node);
	if (err)
		goto err_clocks;
	err = cohort_qmgr_init(&node->qm, node);
	if (err)
		goto err_transport;
	return 0;

err_transport:
	cohort_transport_exit(&node->tp);
err_clocks:
	cohort_clocks_free(&node->clocks);
	return err;
}

static void __net_exit node_net_exit(struct net *net)
{
	struct cohort_node *node = cohort_node_get(net);

	/* Queue frames stop before the transport, queues go after it. */
	cohort_qremote_stop(&node->qm);
	cohort_transport_exit(&node->tp);
	cohort_qmgr_exit(&node->qm);
	/* Actors hold a reference on the namespace: none can be left. */
	WARN_ON(node->actors);
	xa_destroy(&node->actor_nums);
	cohort_clocks_free(&node->clocks);
	mutex_destroy(&node->lock);
}

struct pernet_operations cohort_node_net_ops = {
	.init = node_net_init,
	.exit = node_net_exit,
	.id = &node_net_id,
	.size = sizeof(struct cohort_node),
};
