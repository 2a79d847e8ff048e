#include "core/procstat.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Reads a small /proc file into out[cap] (NUL-terminated); 0 or -1. */
static int read_small(const char *path, char *out, size_t cap)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    size_t n = fread(out, 1, cap - 1, f);
    fclose(f);
    out[n] = '\0';
    return n > 0 ? 0 : -1;
}

int64_t procstat_rss_bytes(void)
{
    char text[256];
    long long size, resident;
    if (read_small("/proc/self/statm", text, sizeof(text)) != 0 ||
        sscanf(text, "%lld %lld", &size, &resident) != 2)
        return -1;
    return (int64_t)resident * sysconf(_SC_PAGESIZE);
}

int64_t procstat_open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (d == NULL)
        return -1;
    int64_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the directory stream's own descriptor */
}

/* Field `field` (1-based, as in proc(5)) of /proc/self/stat, for fields
 * after the command name (which may hold spaces). */
static int stat_field(int field, unsigned long long *out)
{
    char text[1024];
    if (read_small("/proc/self/stat", text, sizeof(text)) != 0)
        return -1;
    char *p = strrchr(text, ')');
    if (p == NULL)
        return -1;
    p++;
    for (int i = 3; i <= field; i++) {
        char *end;
        while (*p == ' ')
            p++;
        if (i == field) {
            *out = strtoull(p, &end, 10);
            return end == p ? -1 : 0;
        }
        p = strchr(p, ' ');
        if (p == NULL)
            return -1;
    }
    return -1;
}

/* btime of /proc/stat: the boot time, seconds since the epoch. Read line by
 * line: the "intr" line before it can be long. */
static double boot_time(void)
{
    FILE *f = fopen("/proc/stat", "r");
    if (f == NULL)
        return -1;
    char *line = NULL;
    size_t cap = 0;
    double t = -1;
    while (getline(&line, &cap, f) > 0) {
        if (strncmp(line, "btime ", 6) == 0) {
            t = strtod(line + 6, NULL);
            break;
        }
    }
    free(line);
    fclose(f);
    return t;
}

double procstat_start_time(void)
{
    unsigned long long start;
    long ticks = sysconf(_SC_CLK_TCK);
    double boot = boot_time();
    if (stat_field(22, &start) != 0 || boot < 0 || ticks <= 0)
        return -1;
    return boot + (double)start / (double)ticks;
}

double procstat_cpu_seconds(void)
{
    unsigned long long user, sys;
    long ticks = sysconf(_SC_CLK_TCK);
    if (stat_field(14, &user) != 0 || stat_field(15, &sys) != 0 || ticks <= 0)
        return -1;
    return (double)(user + sys) / (double)ticks;
}
