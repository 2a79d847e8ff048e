/* log.h - one JSON object per line on stderr.
 *
 * log_msg(LOG_INFO, "session issued", "org_id", id, "request_id", rid, NULL)
 * Fields are string key/value pairs ended by NULL. Never pass a secret: the
 * logger cannot tell one from an id. */
#ifndef TESSERA_CORE_LOG_H
#define TESSERA_CORE_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } log_level;

void log_set_level(log_level min);
void log_msg(log_level level, const char *msg, ...) __attribute__((sentinel));

#endif
