// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * libcohort: receive rings. COHORT_IOC_QRING makes the ring, two mmaps
 * show it (the page of our head, writable; the rest read-only), and from
 * then on records are read in place: the only system call left is
 * COHORT_IOC_QFILL, when nothing is ready.
 *
 * Records are handed out in order and given back in order: giving one back
 * gives back all before it, so the head we publish is the end of the last
 * record given back.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "internal.h"

struct cohort_ring {
	int fd;
	struct cohort_qring_ctl *ctl;
	void *ro;
	size_t ro_len;
	const struct cohort_qring_status *status;
	const uint8_t *data;
	uint64_t mask;
	uint64_t head;		/* given back up to, as published */
	uint64_t next;		/* the next record to hand out */
};

COHORT_API int cohort_ring_open_size(int fd, uint32_t bytes, uint32_t rec_size,
				     struct cohort_ring **rp)
{
	struct cohort_qring_setup s = {
		.size = sizeof(s),
		.bytes = bytes,
		.rec_size = rec_size,
	};
	long page = sysconf(_SC_PAGESIZE);
	struct cohort_ring *r;
	int err;

	if (!rec_size)
		return -EINVAL;
	if (ioctl(fd, COHORT_IOC_QRING, &s) < 0)
		return -errno;
	/* The caller reads records with the header it has (cohort_qrec_vc()). */
	if (s.rec_size != rec_size)
		return -EPROTO;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->fd = fd;
	r->ctl = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (r->ctl == MAP_FAILED) {
		err = -errno;
		free(r);
		return err;
	}
	r->ro_len = s.ro_len;
	r->ro = mmap(NULL, s.ro_len, PROT_READ, MAP_SHARED, fd, s.ro_offset);
	if (r->ro == MAP_FAILED) {
		err = -errno;
		munmap(r->ctl, page);
		free(r);
		return err;
	}
	r->status = r->ro;
	r->data = (const uint8_t *)r->ro + s.data_offset;
	r->mask = bytes - 1;
	r->head = r->next = __atomic_load_n(&r->ctl->head, __ATOMIC_ACQUIRE);
	*rp = r;
	return 0;
}

/*
 * cohort_ring_open@LIBCOHORT_0, for programs linked before
 * cohort_ring_open_size() (libcohort.h now has cohort_ring_open() inline):
 * their cohort_qrec_vc() reads the first layout. Not for linking anew.
 */
int cohort_ring_open_v0(int fd, uint32_t bytes, struct cohort_ring **rp);
__asm__(".symver cohort_ring_open_v0,cohort_ring_open@LIBCOHORT_0");

COHORT_API int cohort_ring_open_v0(int fd, uint32_t bytes,
				   struct cohort_ring **rp)
{
	return cohort_ring_open_size(fd, bytes, COHORT_QREC_SIZE_VER0, rp);
}

COHORT_API void cohort_ring_close(struct cohort_ring *r)
{
	if (!r)
		return;
	munmap(r->ctl, sysconf(_SC_PAGESIZE));
	munmap(r->ro, r->ro_len);
	free(r);
}

static void publish(struct cohort_ring *r, uint64_t head)
{
	r->head = head;
	__atomic_store_n(&r->ctl->head, head, __ATOMIC_RELEASE);
}

COHORT_API const struct cohort_qrec *cohort_ring_next(struct cohort_ring *r)
{
	uint64_t tail = __atomic_load_n(&r->status->tail, __ATOMIC_ACQUIRE);
	const struct cohort_qrec *rec;

	if (r->next == tail)
		return NULL;
	rec = (const void *)(r->data + (r->next & r->mask));
	r->next += rec->len;
	return rec;
}

COHORT_API void cohort_ring_release(struct cohort_ring *r,
				    const struct cohort_qrec *rec)
{
	uint64_t off = (const uint8_t *)rec - r->data;
	uint64_t pos = r->head + ((off - r->head) & r->mask);

	publish(r, pos + rec->len);
}

COHORT_API int cohort_ring_wait(struct cohort_ring *r, int timeout_ms)
{
	struct cohort_qfill f = {
		.size = sizeof(f),
		.timeout_ms = timeout_ms,
	};

	if (r->next != r->head) {
		f.flags = COHORT_QFILL_NEXT;
		f.next = r->next;
	}
	return ioctl(r->fd, COHORT_IOC_QFILL, &f) < 0 ? -errno : 0;
}
