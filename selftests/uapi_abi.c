// SPDX-License-Identifier: GPL-2.0
/*
 * ABI layout of uapi/linux/cohort.h, pinned at compile time.
 *
 * uapi_abi.sh builds this file for -m32 and -m64. The expected numbers are
 * the same for both: a 32-bit process must be able to hand the kernel the
 * very same bytes (compat_ptr_ioctl does no translation). The checks are
 * negative-size arrays so that they work in plain C99, and main() prints
 * the layout so the script can also diff the two builds at run time.
 */
#include <stddef.h>
#include <stdio.h>
#include <linux/cohort.h>

#define ABI_CHECK(name, cond)	typedef char abi_##name[(cond) ? 1 : -1]
#define ABI_SIZE(s, size)	ABI_CHECK(size_##s, sizeof(struct s) == (size))
#define ABI_FIELD(s, f, off, len)					\
	ABI_CHECK(off_##s##_##f, offsetof(struct s, f) == (off));	\
	ABI_CHECK(len_##s##_##f, sizeof(((struct s *)0)->f) == (len))

ABI_SIZE(cohort_actor, 24);
ABI_FIELD(cohort_actor, size, 0, 4);
ABI_FIELD(cohort_actor, flags, 4, 4);
ABI_FIELD(cohort_actor, actor_id, 8, 8);
ABI_FIELD(cohort_actor, node_id, 16, 4);
ABI_FIELD(cohort_actor, __reserved, 20, 4);

ABI_SIZE(cohort_lamport, 16);
ABI_FIELD(cohort_lamport, size, 0, 4);
ABI_FIELD(cohort_lamport, op, 4, 4);
ABI_FIELD(cohort_lamport, time, 8, 8);

/* Arrays of entries cross the boundary, so the stride matters too. */
ABI_SIZE(cohort_vc_entry, 16);
ABI_FIELD(cohort_vc_entry, id, 0, 8);
ABI_FIELD(cohort_vc_entry, counter, 8, 8);

ABI_SIZE(cohort_vclock, 40);
ABI_FIELD(cohort_vclock, size, 0, 4);
ABI_FIELD(cohort_vclock, op, 4, 4);
ABI_FIELD(cohort_vclock, in_len, 8, 4);
ABI_FIELD(cohort_vclock, out_cap, 12, 4);
ABI_FIELD(cohort_vclock, in_ptr, 16, 8);
ABI_FIELD(cohort_vclock, out_ptr, 24, 8);
ABI_FIELD(cohort_vclock, out_len, 32, 4);
ABI_FIELD(cohort_vclock, __reserved, 36, 4);

/* Receive rings: the record is memory a 32-bit process reads as well. */
ABI_SIZE(cohort_qring_setup, 40);
ABI_FIELD(cohort_qring_setup, bytes, 8, 4);
ABI_FIELD(cohort_qring_setup, rec_size, 12, 4);
ABI_FIELD(cohort_qring_setup, ro_offset, 16, 8);
ABI_FIELD(cohort_qring_setup, ro_len, 24, 8);
ABI_FIELD(cohort_qring_setup, data_offset, 32, 8);
ABI_SIZE(cohort_qring_ctl, 8);
ABI_SIZE(cohort_qring_status, 8);
ABI_SIZE(cohort_qrec, 80);
ABI_FIELD(cohort_qrec, len, 0, 4);
ABI_FIELD(cohort_qrec, flags, 4, 4);
ABI_FIELD(cohort_qrec, data_len, 8, 4);
ABI_FIELD(cohort_qrec, vc_len, 12, 4);
ABI_FIELD(cohort_qrec, msg_id, 16, 8);
ABI_FIELD(cohort_qrec, delivery_id, 24, 8);
ABI_FIELD(cohort_qrec, sender, 32, 8);
ABI_FIELD(cohort_qrec, enqueue_ns, 40, 8);
ABI_FIELD(cohort_qrec, lamport, 48, 8);
ABI_FIELD(cohort_qrec, expire_ns, 56, 8);
ABI_FIELD(cohort_qrec, prio, 64, 4);
ABI_FIELD(cohort_qrec, deliveries, 68, 4);
ABI_FIELD(cohort_qrec, key, COHORT_QREC_SIZE_VER0, 4);
ABI_FIELD(cohort_qrec, __reserved, 76, 4);
ABI_SIZE(cohort_qfill, 24);
ABI_FIELD(cohort_qfill, timeout_ms, 8, 4);
ABI_FIELD(cohort_qfill, count, 12, 4);
ABI_FIELD(cohort_qfill, next, 16, 8);

/* Queues: the message descriptors, and the open that grew a filter. */
ABI_SIZE(cohort_qmsg_out, 24);
ABI_FIELD(cohort_qmsg_out, ttl_ms, 16, 4);
ABI_FIELD(cohort_qmsg_out, key, 20, 4);
ABI_SIZE(cohort_qmsg_in, 88);
ABI_FIELD(cohort_qmsg_in, flags, 80, 4);
ABI_FIELD(cohort_qmsg_in, key, 84, 4);
ABI_SIZE(cohort_queue_open, 280);
ABI_FIELD(cohort_queue_open, attr, 172, 96);
ABI_FIELD(cohort_queue_open, filter_mask, COHORT_QUEUE_OPEN_SIZE_VER0, 4);
ABI_FIELD(cohort_queue_open, filter_value, 272, 4);
ABI_FIELD(cohort_queue_open, prefetch, COHORT_QUEUE_OPEN_SIZE_VER1, 4);

/* Numbers that old binaries have compiled in and that may never move. */
ABI_CHECK(ioc_actor, COHORT_IOC_ACTOR == 0xC080);
ABI_CHECK(ioc_lamport, COHORT_IOC_LAMPORT == 0xC081);
ABI_CHECK(ioc_vclock, COHORT_IOC_VCLOCK == 0xC082);
ABI_CHECK(ioc_qring, COHORT_IOC_QRING == 0xC087);
ABI_CHECK(ioc_qfill, COHORT_IOC_QFILL == 0xC088);
ABI_CHECK(op_read, COHORT_CLOCK_READ == 0);
ABI_CHECK(op_tick, COHORT_CLOCK_TICK == 1);
ABI_CHECK(op_send, COHORT_CLOCK_SEND == 2);
ABI_CHECK(op_recv, COHORT_CLOCK_RECV == 3);
ABI_CHECK(name_max, COHORT_NAME_MAX == 64);
ABI_CHECK(vc_max, COHORT_VC_MAX_ENTRIES >= 64);
ABI_CHECK(genl_name, sizeof(COHORT_GENL_NAME) == sizeof("cohort"));
ABI_CHECK(cmd_get, COHORT_CMD_NODE_GET == 1);
ABI_CHECK(cmd_set, COHORT_CMD_NODE_SET == 2);
ABI_CHECK(cmd_ntf, COHORT_CMD_NODE_NTF == 3);
ABI_CHECK(a_node_id, COHORT_A_NODE_ID == 2);
ABI_CHECK(a_node_name, COHORT_A_NODE_NAME == 3);
ABI_CHECK(a_node_actors, COHORT_A_NODE_ACTORS == 4);
ABI_CHECK(a_node_lamport, COHORT_A_NODE_LAMPORT == 5);
ABI_CHECK(a_node_vclock, COHORT_A_NODE_VCLOCK == 6);
ABI_CHECK(a_vclock_entry, COHORT_A_VCLOCK_ENTRY == 1);
ABI_CHECK(a_vc_id, COHORT_A_VC_ID == 2);
ABI_CHECK(a_vc_counter, COHORT_A_VC_COUNTER == 3);

#define SHOW_SIZE(s)							\
	printf("%s size %lu\n", #s, (unsigned long)sizeof(struct s))
#define SHOW_FIELD(s, f)						\
	printf("%s.%s %lu %lu\n", #s, #f,				\
	       (unsigned long)offsetof(struct s, f),			\
	       (unsigned long)sizeof(((struct s *)0)->f))

int main(void)
{
	SHOW_SIZE(cohort_actor);
	SHOW_FIELD(cohort_actor, size);
	SHOW_FIELD(cohort_actor, flags);
	SHOW_FIELD(cohort_actor, actor_id);
	SHOW_FIELD(cohort_actor, node_id);
	SHOW_FIELD(cohort_actor, __reserved);
	SHOW_SIZE(cohort_lamport);
	SHOW_FIELD(cohort_lamport, size);
	SHOW_FIELD(cohort_lamport, op);
	SHOW_FIELD(cohort_lamport, time);
	SHOW_SIZE(cohort_vc_entry);
	SHOW_FIELD(cohort_vc_entry, id);
	SHOW_FIELD(cohort_vc_entry, counter);
	SHOW_SIZE(cohort_vclock);
	SHOW_FIELD(cohort_vclock, size);
	SHOW_FIELD(cohort_vclock, op);
	SHOW_FIELD(cohort_vclock, in_len);
	SHOW_FIELD(cohort_vclock, out_cap);
	SHOW_FIELD(cohort_vclock, in_ptr);
	SHOW_FIELD(cohort_vclock, out_ptr);
	SHOW_FIELD(cohort_vclock, out_len);
	SHOW_FIELD(cohort_vclock, __reserved);
	SHOW_SIZE(cohort_qring_setup);
	SHOW_FIELD(cohort_qring_setup, ro_offset);
	SHOW_FIELD(cohort_qring_setup, data_offset);
	SHOW_SIZE(cohort_qrec);
	SHOW_FIELD(cohort_qrec, msg_id);
	SHOW_FIELD(cohort_qrec, expire_ns);
	SHOW_FIELD(cohort_qrec, deliveries);
	SHOW_FIELD(cohort_qrec, key);
	SHOW_SIZE(cohort_qmsg_out);
	SHOW_FIELD(cohort_qmsg_out, key);
	SHOW_SIZE(cohort_qmsg_in);
	SHOW_FIELD(cohort_qmsg_in, key);
	SHOW_SIZE(cohort_queue_open);
	SHOW_FIELD(cohort_queue_open, filter_mask);
	SHOW_FIELD(cohort_queue_open, prefetch);
	SHOW_SIZE(cohort_qfill);
	SHOW_FIELD(cohort_qfill, next);
	printf("ioctl %#lx %#lx %#lx\n", (unsigned long)COHORT_IOC_ACTOR,
	       (unsigned long)COHORT_IOC_LAMPORT,
	       (unsigned long)COHORT_IOC_VCLOCK);
	return 0;
}
