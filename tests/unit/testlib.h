/* Common includes for cmocka unit tests. */
#ifndef TRIAGED_TESTLIB_H
#define TRIAGED_TESTLIB_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#endif
