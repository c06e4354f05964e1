/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _COHORT_GENL_H
#define _COHORT_GENL_H

int cohort_genl_init(void);
void cohort_genl_exit(void);

#endif /* _COHORT_GENL_H */
