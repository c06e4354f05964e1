/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels cohort builds for (6.1 to current), and
 * only those. Features are detected by kmod/Kbuild from the kernel's
 * headers, not read off LINUX_VERSION_CODE: distributions backport.
 */
#ifndef _COHORT_COMPAT_H
#define _COHORT_COMPAT_H

#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/socket.h>

/* 6.12 moved <asm/unaligned.h> to <linux/unaligned.h>. */
#ifdef COHORT_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * 6.5 taught TCP to take the pages of what it sends rather than copy them
 * (MSG_SPLICE_PAGES, through skb_splice_from_iter()); some older kernels
 * define the flag without that. Elsewhere frames are copied.
 */
#ifdef COHORT_HAVE_TCP_SPLICE
#define COHORT_MSG_SPLICE	MSG_SPLICE_PAGES
#else
#define COHORT_MSG_SPLICE	0
#endif

/* 6.3 made vm_flags read-only outside of helpers such as this one. */
#ifndef COHORT_HAVE_VM_FLAGS_CLEAR
#include <linux/mm_types.h>

static inline void vm_flags_clear(struct vm_area_struct *vma,
				  unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * 6.7 allocates shrinkers (shrinker_alloc()); before, the caller provided
 * one and registered it. Either way: registered, or NULL; freeing NULL is
 * nothing.
 */
typedef unsigned long (*cohort_shrink_fn)(struct shrinker *,
					  struct shrink_control *);

#ifdef COHORT_HAVE_SHRINKER_ALLOC
static inline struct shrinker *cohort_shrinker_new(const char *name,
						   cohort_shrink_fn count,
						   cohort_shrink_fn scan)
{
	struct shrinker *s = shrinker_alloc(0, "%s", name);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	shrinker_register(s);
	return s;
}

static inline void cohort_shrinker_free(struct shrinker *s)
{
	shrinker_free(s);
}
#else
static inline struct shrinker *cohort_shrinker_new(const char *name,
						   cohort_shrink_fn count,
						   cohort_shrink_fn scan)
{
	struct shrinker *s = kzalloc(sizeof(*s), GFP_KERNEL);

	if (!s)
		return NULL;
	s->count_objects = count;
	s->scan_objects = scan;
	s->seeks = DEFAULT_SEEKS;
	if (register_shrinker(s, "%s", name)) {
		kfree(s);
		return NULL;
	}
	return s;
}

static inline void cohort_shrinker_free(struct shrinker *s)
{
	if (!s)
		return;
	unregister_shrinker(s);
	kfree(s);
}
#endif

#endif /* _COHORT_COMPAT_H */
