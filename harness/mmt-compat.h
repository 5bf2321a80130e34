/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mmt-compat.h - kernel uapi that is newer than Debian 12's headers (glibc
 * 2.36, linux-libc-dev 6.1), for workloads that probe it at run time.  Each
 * definition follows the upstream uapi; the mmt_/MMT_ names keep them from
 * clashing with a newer system header that has them.
 */
#ifndef MMT_COMPAT_H
#define MMT_COMPAT_H

#include <stdint.h>
#include <sys/ioctl.h>

/* PAGEMAP_SCAN on /proc/PID/pagemap (Linux 6.7, include/uapi/linux/fs.h) */
struct mmt_page_region {
	uint64_t start;
	uint64_t end;
	uint64_t categories;
};

struct mmt_pm_scan_arg {
	uint64_t size;
	uint64_t flags;
	uint64_t start;
	uint64_t end;
	uint64_t walk_end;
	uint64_t vec;
	uint64_t vec_len;
	uint64_t max_pages;
	uint64_t category_inverted;
	uint64_t category_mask;
	uint64_t category_anyof_mask;
	uint64_t return_mask;
};

#define MMT_PAGEMAP_SCAN	_IOWR('f', 16, struct mmt_pm_scan_arg)
#define MMT_PAGE_IS_PRESENT	(1ull << 3)
#define MMT_PAGE_IS_SWAPPED	(1ull << 4)
#define MMT_PAGE_IS_HUGE	(1ull << 6)	/* PMD-mapped THP or hugetlb */

#endif /* MMT_COMPAT_H */
