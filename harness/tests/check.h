/* SPDX-License-Identifier: GPL-2.0 */
/* check.h - the CHECK() of the C unit tests: count, and print what failed. */
#ifndef MMT_TEST_CHECK_H
#define MMT_TEST_CHECK_H

#include <stdio.h>

static int failures, checks;

#define CHECK(cond, ...) do {						\
	checks++;							\
	if (!(cond)) {							\
		failures++;						\
		printf("not ok: %s:%d: ", __FILE__, __LINE__);		\
		printf(__VA_ARGS__);					\
		printf("\n");						\
	}								\
} while (0)

#endif /* MMT_TEST_CHECK_H */
