/* Calendar arithmetic (pure). */
#pragma once

#include "lib/types.h"

#define NSEC_PER_SEC ((uint64_t)1000000000)
#define NSEC_PER_MSEC ((uint64_t)1000000)
#define NSEC_PER_USEC ((uint64_t)1000)

/* Seconds since 1970-01-01 00:00:00 UTC for a proleptic Gregorian date and
 * time, or -1 when a field is out of range. */
int64_t time_from_civil(int year, int month, int day, int hour, int min, int sec);
