#include "http/forwarded.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Parses an address literal (no brackets, no port) into family/addr. */
static int parse_addr(const char *text, int *family, unsigned char addr[16])
{
    memset(addr, 0, 16);
    if (inet_pton(AF_INET, text, addr) == 1) {
        *family = AF_INET;
        return 0;
    }
    if (inet_pton(AF_INET6, text, addr) == 1) {
        *family = AF_INET6;
        return 0;
    }
    return -1;
}

static int net_contains(const http_net *n, int family, const unsigned char addr[16])
{
    if (n->family != family)
        return 0;
    unsigned full = n->bits / 8, rest = n->bits % 8;
    if (memcmp(n->addr, addr, full) != 0)
        return 0;
    if (rest == 0)
        return 1;
    unsigned char mask = (unsigned char)(0xff << (8 - rest));
    return (n->addr[full] & mask) == (addr[full] & mask);
}

int http_proxies_parse(const char *text, http_proxies *out, err_t *e)
{
    memset(out, 0, sizeof(*out));
    const char *p = text;
    while (*p) {
        while (*p == ' ' || *p == ',')
            p++;
        if (*p == '\0')
            break;
        size_t len = strcspn(p, ", ");
        char item[64];
        if (len >= sizeof(item) || out->n == HTTP_MAX_PROXIES)
            return err_set(e, ERR_INVALID_REQUEST,
                           "--trust-proxy takes at most %d addresses or networks",
                           HTTP_MAX_PROXIES);
        memcpy(item, p, len);
        item[len] = '\0';
        p += len;
        http_net *n = &out->nets[out->n];
        char *slash = strchr(item, '/');
        long bits = -1;
        if (slash != NULL) {
            char *end;
            *slash = '\0';
            bits = strtol(slash + 1, &end, 10);
            if (slash[1] == '\0' || *end != '\0')
                bits = -2;
        }
        if (parse_addr(item, &n->family, n->addr) != 0)
            return err_set(e, ERR_INVALID_REQUEST, "--trust-proxy: '%s' is not an IP address",
                           item);
        long max = n->family == AF_INET ? 32 : 128;
        if (bits == -1)
            bits = max;
        if (bits < 0 || bits > max)
            return err_set(e, ERR_INVALID_REQUEST, "--trust-proxy: bad prefix length after %s",
                           item);
        n->bits = (unsigned)bits;
        out->n++;
    }
    if (out->n == 0)
        return err_set(e, ERR_INVALID_REQUEST,
                       "--trust-proxy needs an address or network, e.g. 127.0.0.1");
    return 0;
}

int http_proxies_contain(const http_proxies *p, const char *addr)
{
    int family;
    unsigned char a[16];
    if (p == NULL || parse_addr(addr, &family, a) != 0)
        return 0;
    for (size_t i = 0; i < p->n; i++)
        if (net_contains(&p->nets[i], family, a))
            return 1;
    return 0;
}

int http_addr_is_loopback(const char *addr)
{
    return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
           strncmp(addr, "::ffff:127.", 11) == 0;
}

/* The canonical text of an address literal into out[cap]; -1 if not one. */
static int canonical(const char *text, char *out, size_t cap)
{
    int family;
    unsigned char a[16];
    if (parse_addr(text, &family, a) != 0 || inet_ntop(family, a, out, (socklen_t)cap) == NULL)
        return -1;
    return 0;
}

void http_forwarded_client(const http_proxies *p, const char *peer, const char *xff, char *out,
                           size_t cap)
{
    snprintf(out, cap, "%s", peer);
    if (p == NULL || p->n == 0 || xff == NULL)
        return;
    size_t end = strlen(xff);
    while (http_proxies_contain(p, out)) {
        /* The next entry to the left of end. */
        while (end > 0 && (xff[end - 1] == ' ' || xff[end - 1] == ','))
            end--;
        if (end == 0)
            return;
        size_t start = end;
        while (start > 0 && xff[start - 1] != ',')
            start--;
        while (xff[start] == ' ')
            start++;
        char item[64], canon[64];
        size_t len = end - start;
        if (len >= sizeof(item))
            return;
        memcpy(item, xff + start, len);
        item[len] = '\0';
        if (canonical(item, canon, sizeof(canon)) != 0 || strlen(canon) >= cap)
            return; /* not an address: keep the last one a trusted hop vouched for */
        snprintf(out, cap, "%s", canon);
        end = start;
    }
}
