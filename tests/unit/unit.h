/* Minimal host unit-test framework: UNIT_TEST(name) { CHECK(...); } — every test
 * registers itself; the runner prints each failure with file and line. */
#pragma once

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

void unit_register(const char *name, void (*fn)(void));
void unit_fail(const char *file, int line, const char *expr);
extern int unit_checks;

#define UNIT_TEST(name)                                                        \
    static void name(void);                                                    \
    __attribute__((constructor)) static void unit_register_##name(void)       \
    {                                                                          \
        unit_register(#name, name);                                            \
    }                                                                          \
    static void name(void)

#define CHECK(cond)                                                            \
    do {                                                                       \
        unit_checks++;                                                         \
        if (!(cond))                                                           \
            unit_fail(__FILE__, __LINE__, #cond);                              \
    } while (0)

#define CHECK_EQ(a, b)                                                         \
    do {                                                                       \
        unit_checks++;                                                         \
        long long unit_a_ = (long long)(a), unit_b_ = (long long)(b);          \
        if (unit_a_ != unit_b_) {                                              \
            char unit_msg_[512];                                               \
            snprintf(unit_msg_, sizeof(unit_msg_), "%s == %s (%lld != %lld)",  \
                     #a, #b, unit_a_, unit_b_);                                \
            unit_fail(__FILE__, __LINE__, unit_msg_);                          \
        }                                                                      \
    } while (0)

#define CHECK_STR(a, b)                                                        \
    do {                                                                       \
        unit_checks++;                                                         \
        const char *unit_a_ = (a), *unit_b_ = (b);                             \
        if (strcmp(unit_a_, unit_b_) != 0) {                                   \
            char unit_msg_[512];                                               \
            snprintf(unit_msg_, sizeof(unit_msg_), "%s == %s (\"%s\" != \"%s\")", \
                     #a, #b, unit_a_, unit_b_);                                \
            unit_fail(__FILE__, __LINE__, unit_msg_);                          \
        }                                                                      \
    } while (0)
