#define _POSIX_C_SOURCE 200809L
#include "core/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t clock_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec;
}

int64_t clock_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

void clock_iso8601(int64_t t, char out[21])
{
    /* Clamped to 1970-01-01 .. 9999-12-31T23:59:59Z, so the text always fits
     * out[21] and is terminated: a time from outside (a claim of a signed
     * token) may be any 64-bit value, and strftime leaves out undefined when
     * a year of 5 or more digits does not fit. */
    time_t tt = (time_t)(t < 0 ? 0 : t > 253402300799 ? 253402300799 : t);
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL || strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
        snprintf(out, 21, "%s", t < 0 ? "1970-01-01T00:00:00Z" : "9999-12-31T23:59:59Z");
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return 0;
}

int clock_parse_iso8601(const char *s, int64_t *t)
{
    int y, mo, d, h = 0, mi = 0, sec = 0;
    size_t n = strlen(s);
    if (n < 10 || digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
        digits(s + 8, 2, &d))
        return -1;
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1])
        return -1;
    if (mo == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return -1;
    const char *p = s + 10;
    int64_t offset = 0;
    if (*p != '\0') {
        if ((*p != 'T' && *p != ' ') || digits(p + 1, 2, &h) || p[3] != ':' || digits(p + 4, 2, &mi))
            return -1;
        p += 6;
        if (*p == ':') {
            if (digits(p + 1, 2, &sec))
                return -1;
            p += 3;
            if (*p == '.') {
                p++;
                if (*p < '0' || *p > '9')
                    return -1;
                while (*p >= '0' && *p <= '9')
                    p++;
            }
        }
        if (h > 23 || mi > 59 || sec > 60)
            return -1;
        if (*p == 'Z' && p[1] == '\0') {
            offset = 0;
        } else if ((*p == '+' || *p == '-') && strlen(p) == 6 && p[3] == ':') {
            int oh, om;
            if (digits(p + 1, 2, &oh) || digits(p + 4, 2, &om) || oh > 23 || om > 59)
                return -1;
            offset = (oh * 60 + om) * 60 * (*p == '+' ? 1 : -1);
        } else {
            return -1;
        }
    }
    *t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset;
    return 0;
}
