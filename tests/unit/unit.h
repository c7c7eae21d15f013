/* unit.h - what every cmocka unit test includes. */
#ifndef PYSANDBOX_UNIT_H
#define PYSANDBOX_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

/* assert that the n bytes at hay contain the NUL-terminated needle */
#define assert_contains(hay, needle) assert_non_null(strstr((hay), (needle)))
#define assert_not_contains(hay, needle) assert_null(strstr((hay), (needle)))

#endif
