/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Differences between the kernels cohort builds for (6.1 to current), and
 * only those. Features are detected (Kbuild greps of the headers, see
 * Kbuild) rather than read off LINUX_VERSION_CODE wherever possible, since
 * distribution kernels backport.
 */
#ifndef _COHORT_COMPAT_H
#define _COHORT_COMPAT_H

#include <linux/version.h>

#endif /* _COHORT_COMPAT_H */
