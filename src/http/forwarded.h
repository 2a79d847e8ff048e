/* forwarded.h - the client address of a request that came through trusted
 * reverse proxies (`tessera serve --trust-proxy`).
 *
 * X-Forwarded-For is believed only as far as trusted hops vouch for it:
 * starting from the connection's peer, while the address in hand is a
 * trusted proxy, the next address to the left in X-Forwarded-For becomes
 * the client (what nginx calls real_ip_recursive). So a client cannot
 * choose its address by sending the header itself: the proxy appends the
 * address it saw, which is the rightmost untrusted one. With no trusted
 * proxies (the default) the header is ignored. */
#ifndef TESSERA_HTTP_FORWARDED_H
#define TESSERA_HTTP_FORWARDED_H

#include <stddef.h>

#include "core/err.h"

#define HTTP_MAX_PROXIES 16

typedef struct {
    int family;             /* AF_INET or AF_INET6 */
    unsigned char addr[16]; /* network byte order; 4 bytes used for IPv4 */
    unsigned bits;          /* prefix length */
} http_net;

typedef struct {
    http_net nets[HTTP_MAX_PROXIES];
    size_t n;
} http_proxies;

/* Parses "ADDR[/BITS][,ADDR[/BITS]...]" (IPv4 or IPv6, spaces allowed after
 * commas) into *out. 0, or -1 with ERR_INVALID_REQUEST naming the bad entry. */
int http_proxies_parse(const char *text, http_proxies *out, err_t *e);

/* 1 when the address text addr is inside one of the networks. */
int http_proxies_contain(const http_proxies *p, const char *addr);

/* 1 when the address text is a loopback address (127.0.0.0/8, ::1, or
 * 127.x mapped into IPv6). */
int http_addr_is_loopback(const char *addr);

/* The client address of a request from peer carrying X-Forwarded-For xff
 * (NULL when absent), in canonical text form, into out[cap]. */
void http_forwarded_client(const http_proxies *p, const char *peer, const char *xff, char *out,
                           size_t cap);

#endif
