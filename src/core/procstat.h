/* procstat.h - this process's resource use, read from Linux /proc (the
 * process_* metrics). Each returns -1 when the value cannot be read. */
#ifndef TESSERA_CORE_PROCSTAT_H
#define TESSERA_CORE_PROCSTAT_H

#include <stdint.h>

int64_t procstat_rss_bytes(void);  /* resident set size */
int64_t procstat_open_fds(void);   /* entries of /proc/self/fd */
double procstat_start_time(void);  /* seconds since the epoch */
double procstat_cpu_seconds(void); /* user + system CPU time */

#endif
