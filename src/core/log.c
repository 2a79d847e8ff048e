#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/clock.h"

static log_level log_min = LOG_INFO;

void log_set_level(log_level min)
{
    log_min = min;
}

void log_msg(log_level level, const char *msg, ...)
{
    static const char *names[] = {"debug", "info", "warn", "error"};
    if (level < log_min)
        return;
    char ts[21];
    clock_iso8601(clock_now(), ts);
    buf_t b;
    buf_init(&b, 8192);
    buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":", ts, names[level]);
    buf_json_string(&b, msg, strlen(msg));
    va_list ap;
    va_start(ap, msg);
    for (const char *k = va_arg(ap, const char *); k; k = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        buf_puts(&b, ",");
        buf_json_string(&b, k, strlen(k));
        buf_puts(&b, ":");
        buf_json_string(&b, v ? v : "", v ? strlen(v) : 0);
    }
    va_end(ap);
    buf_puts(&b, "}\n");
    fwrite(b.data, 1, b.len, stderr);
    buf_free(&b);
}
