// SPDX-License-Identifier: GPL-2.0
/*
 * Per-network-namespace node state: identity, actor numbering and the
 * node-level logical clocks that the transport stamps on every frame.
 */
#include <linux/slab.h>
#include <net/netns/generic.h>

#include "node.h"

static unsigned int node_net_id __read_mostly;

struct cohort_node *cohort_node_get(const struct net *net)
{
	return net_generic(net, node_net_id);
}

/* An actor's id is the node id and a number never reused on this node. */
int cohort_node_bind_actor(struct cohort_node *node, u64 *actor_id)
{
	int err = 0;

	mutex_lock(&node->lock);
	if (!node->id) {
		err = -ENXIO;
	} else if (node->next_local == U32_MAX) {
		err = -EOVERFLOW;
	} else {
		node->actors++;
		*actor_id = (u64)node->id << 32 | ++node->next_local;
	}
	mutex_unlock(&node->lock);
	return err;
}

void cohort_node_unbind_actor(struct cohort_node *node)
{
	mutex_lock(&node->lock);
	node->actors--;
	mutex_unlock(&node->lock);
}

static int __net_init node_net_init(struct net *net)
{
	struct cohort_node *node = cohort_node_get(net);

	mutex_init(&node->lock);
	spin_lock_init(&node->clock_lock);
	return 0;
}

static void __net_exit node_net_exit(struct net *net)
{
	struct cohort_node *node = cohort_node_get(net);

	/* Actors hold a reference on the namespace: none can be left. */
	WARN_ON(node->actors);
	cohort_vector_free(&node->clocks.vc);
	mutex_destroy(&node->lock);
}

struct pernet_operations cohort_node_net_ops = {
	.init = node_net_init,
	.exit = node_net_exit,
	.id = &node_net_id,
	.size = sizeof(struct cohort_node),
};

/* Either may be NULL. An id cannot change under bound actors. */
int cohort_node_set(struct cohort_node *node, const u32 *id, const char *name,
		    struct netlink_ext_ack *extack)
{
	int err = 0;

	mutex_lock(&node->lock);
	if (id && *id != node->id && node->actors) {
		NL_SET_ERR_MSG_MOD(extack,
				   "node id cannot change while actors are bound to it");
		err = -EBUSY;
		goto out;
	}
	if (id)
		node->id = *id;
	if (name)
		strscpy(node->name, name, sizeof(node->name));
out:
	mutex_unlock(&node->lock);
	return err;
}
