// SPDX-License-Identifier: GPL-2.0
/*
 * cohort: distributed-computing primitives as kernel services.
 *
 * Init order: the buffer pools (with a debugfs directory for their
 * counters), per-namespace state, then the character device and the
 * netlink family that reach it. Exit runs in reverse so that no request can
 * arrive once the state behind it is going away.
 */
#include <linux/debugfs.h>
#include <linux/module.h>
#include <net/genetlink.h>

#include "buf.h"
#include "chardev.h"
#include "genl.h"
#include "node.h"
#include "transport.h"

static struct dentry *cohort_debugfs;

static int __init cohort_init(void)
{
	int err;

	cohort_debugfs = debugfs_create_dir(KBUILD_MODNAME, NULL);
	err = cohort_buf_module_init(cohort_debugfs);
	if (err)
		goto err_debugfs;
	err = cohort_transport_module_init();
	if (err)
		goto err_buf;
	err = register_pernet_device(&cohort_node_net_ops);
	if (err)
		goto err_transport;
	err = cohort_chardev_init();
	if (err)
		goto err_pernet;
	err = cohort_genl_init();
	if (err)
		goto err_chardev;
	return 0;

err_chardev:
	cohort_chardev_exit();
err_pernet:
	unregister_pernet_device(&cohort_node_net_ops);
err_transport:
	cohort_transport_module_exit();
err_buf:
	cohort_buf_module_exit();
err_debugfs:
	debugfs_remove_recursive(cohort_debugfs);
	return err;
}

static void __exit cohort_exit(void)
{
	cohort_genl_exit();
	cohort_chardev_exit();
	unregister_pernet_device(&cohort_node_net_ops);
	cohort_transport_module_exit();
	cohort_buf_module_exit();
	debugfs_remove_recursive(cohort_debugfs);
}

module_init(cohort_init);
module_exit(cohort_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("cohort: distributed-computing primitives as kernel services");
MODULE_AUTHOR("The cohort developers");
MODULE_ALIAS_GENL_FAMILY(COHORT_GENL_NAME);
