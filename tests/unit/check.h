/* check.h — the unit-test harness: one binary per test file, no framework.
 *
 * CHECK(condition, format, ...) records a failure with file and line and goes
 * on; TEST(name) declares a test function; RUN(name) runs it. main() ends with
 * CHECK_SUMMARY(), which prints "<binary>: N passed, N failed" (the line
 * tests/run.sh adds up) and returns the exit status. */
#ifndef MAILLAGE_CHECK_H
#define MAILLAGE_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed, check_failed, check_current_failed;
static const char *check_current_test = "";

#define CHECK(condition, ...)                                                                      \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            check_current_failed = 1;                                                              \
            fprintf(stderr, "FAIL %s (%s:%d): %s: ", check_current_test, __FILE__, __LINE__,       \
                    #condition);                                                                   \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
        }                                                                                          \
    } while (0)

#define CHECK_STRING(actual, expected)                                                             \
    CHECK((actual) && strcmp((actual), (expected)) == 0, "got \"%s\", expected \"%s\"",            \
          (actual) ? (actual) : "(null)", (expected))

#define CHECK_NEAR(actual, expected, tolerance)                                                    \
    CHECK(fabs((double)(actual) - (double)(expected)) <= (tolerance), "got %.10g, expected %.10g", \
          (double)(actual), (double)(expected))

#define TEST(name) static void name(void)

#define RUN(name)                                                                                  \
    do {                                                                                           \
        check_current_test = #name;                                                                \
        check_current_failed = 0;                                                                  \
        name();                                                                                    \
        if (check_current_failed)                                                                  \
            check_failed++;                                                                        \
        else                                                                                       \
            check_passed++;                                                                        \
    } while (0)

#define CHECK_SUMMARY(program)                                                                     \
    (printf("%s: %d passed, %d failed\n", (program), check_passed, check_failed), fflush(stdout),  \
     check_failed ? 1 : 0)

#endif
