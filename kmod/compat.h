/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels cohort builds for (6.1 to current), and
 * only those. Features are detected by kmod/Kbuild from the kernel's
 * headers, not read off LINUX_VERSION_CODE: distributions backport.
 */
#ifndef _COHORT_COMPAT_H
#define _COHORT_COMPAT_H

/* 6.12 moved <asm/unaligned.h> to <linux/unaligned.h>. */
#ifdef COHORT_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
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

#endif /* _COHORT_COMPAT_H */
