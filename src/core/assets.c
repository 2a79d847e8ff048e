#include "core/assets.h"

#include <string.h>

const asset *assets_find(const char *path)
{
    for (size_t i = 0; i < asset_count; i++)
        if (strcmp(asset_table[i].path, path) == 0)
            return &asset_table[i];
    return NULL;
}
