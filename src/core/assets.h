/* assets.h - files compiled into the binary: web/ (as "web/...") and the SQL
 * migrations (as "migrations/<dialect>/NNN_name.sql"). Data is NUL-terminated
 * (not counted in len) and lives as long as the process. */
#ifndef TESSERA_CORE_ASSETS_H
#define TESSERA_CORE_ASSETS_H

#include <stddef.h>

typedef struct {
    const char *path;
    const unsigned char *data;
    size_t len;
} asset;

extern const asset asset_table[]; /* sorted by path, ended by {NULL} */
extern const size_t asset_count;

/* The asset at exactly path, or NULL. */
const asset *assets_find(const char *path);

#endif
