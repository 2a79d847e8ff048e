#include "http/urlpath.h"

#include <string.h>

static int hexdigit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static int segment_ok(const char *seg, size_t n)
{
    return n > 0 && !(n == 1 && seg[0] == '.') && !(n == 2 && seg[0] == '.' && seg[1] == '.');
}

int urlpath_decode(const char *raw, char *out, size_t cap)
{
    size_t o = 0, seg_start = 0;
    for (size_t i = 0; raw[i]; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = hexdigit(raw[i + 1]), lo = hi < 0 ? -1 : hexdigit(raw[i + 2]);
            if (hi < 0 || lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            if (c == '/' || c == 0)
                return -1;
            i += 2;
        } else if (c == '/') {
            if (!segment_ok(out + seg_start, o - seg_start))
                return -1;
            seg_start = o + 1;
        }
        if (c < 0x20 || c == 0x7f || c == '\\' || o + 1 >= cap)
            return -1;
        out[o++] = (char)c;
    }
    out[o] = '\0';
    return o == 0 || segment_ok(out + seg_start, o - seg_start) ? 0 : -1;
}
