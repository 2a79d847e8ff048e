#include "core/uuid.h"

#include <stdio.h>
#include <stdint.h>
#include <string.h>

#include "core/clock.h"

#include "crypto/crypto.h"

void uuid_format(const unsigned char b[16], char out[UUID_STR_LEN])
{
    static const char hex[] = "0123456789abcdef";
    size_t o = 0;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            out[o++] = '-';
        out[o++] = hex[b[i] >> 4];
        out[o++] = hex[b[i] & 15];
    }
    out[o] = '\0';
}

void uuid_v4(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    crypto_random(b, sizeof(b));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void uuid_v7(char out[UUID_STR_LEN])
{
    unsigned char b[16];
    uint64_t ms = (uint64_t)clock_now_ms();
    crypto_random(b + 6, sizeof(b) - 6);
    for (int i = 0; i < 6; i++)
        b[i] = (unsigned char)(ms >> (40 - 8 * i));
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x70);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    uuid_format(b, out);
}

void uuid_from_name(const char *ns, const char *name, char out[UUID_STR_LEN])
{
    unsigned char digest[32];
    crypto_sha256_parts(ns, strlen(ns) + 1, name, strlen(name), digest);
    digest[6] = (unsigned char)((digest[6] & 0x0f) | 0x80);
    digest[8] = (unsigned char)((digest[8] & 0x3f) | 0x80);
    uuid_format(digest, out);
}

int uuid_is_valid(const char *s)
{
    for (int i = 0; i < 36; i++) {
        char c = s[i];
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (c != '-')
                return 0;
        } else if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'))) {
            return 0;
        }
    }
    return s[36] == '\0';
}
