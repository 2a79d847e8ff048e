/* fuzz_http_headers.c - the pure functions Tessera's own code runs on
 * request header values: api_bearer (Authorization, src/api/api.h),
 * http_proxies_parse / http_forwarded_client (--trust-proxy and
 * X-Forwarded-For, src/http/forwarded.h) and admin_normalize_origin /
 * admin_origins_contain (an app's allowed origins, src/domain/admin.h).
 * (Cookie, Referer and query parsing are private to their handlers and
 * need a live request: the black-box suites cover them.)
 *
 * Input: a selector byte, then newline-separated fields.
 * - 0, "header": api_bearer accepts only "[spaces]Bearer <token>" (scheme
 *   case-insensitive); the token lies inside the header, is not empty, has
 *   no space at either end and only spaces follow it; a refusal is
 *   ERR_UNAUTHORIZED and quotes nothing of the header.
 * - 1, "proxies\npeer\nxff": a parsed list has 1..HTTP_MAX_PROXIES
 *   networks with prefixes that fit their family; the client address is
 *   the peer when the peer is not a trusted proxy (so a client can never
 *   choose its address), else the peer or an X-Forwarded-For entry in
 *   canonical form; always a terminated string in its buffer.
 * - 2, "origin\nlist": a normalised origin is the input lower-cased,
 *   http(s)://host[:port] with nothing else, normalises to itself, and is
 *   found in a list that holds it. */
#include <arpa/inet.h>
#include <strings.h>
#include <sys/socket.h>

#include "api/api.h"
#include "domain/admin.h"
#include "fuzz_util.h"
#include "http/forwarded.h"

static void fuzz_bearer(fuzz_reader *r)
{
    size_t n;
    char *header = fuzz_rest(r, &n);
    size_t len = 0;
    err_t e;
    const char *tok = api_bearer(header, &len, &e);
    if (tok == NULL) {
        FUZZ_CHECK(e.cls == ERR_UNAUTHORIZED && fuzz_detail_quotes_nothing(e.detail, header, n));
    } else {
        size_t lead = strspn(header, " ");
        FUZZ_CHECK(strncasecmp(header + lead, "Bearer ", 7) == 0);
        FUZZ_CHECK(tok >= header + lead + 7 && tok + len <= header + strlen(header));
        FUZZ_CHECK(len > 0 && tok[0] != ' ' && tok[len - 1] != ' ');
        FUZZ_CHECK(strspn(tok + len, " ") == strlen(tok + len));
        for (const char *p = header + lead + 7; p < tok; p++)
            FUZZ_CHECK(*p == ' ');
    }
    free(header);
}

/* 1 when text is an IP address literal written in canonical form. */
static int canonical_address(const char *text)
{
    unsigned char a[16];
    char again[INET6_ADDRSTRLEN];
    int family = inet_pton(AF_INET, text, a) == 1    ? AF_INET
                 : inet_pton(AF_INET6, text, a) == 1 ? AF_INET6
                                                     : 0;
    return family != 0 && inet_ntop(family, a, again, sizeof(again)) != NULL &&
           strcmp(again, text) == 0;
}

/* 1 when some comma-separated entry of xff has the canonical form addr. */
static int xff_names(const char *xff, const char *addr)
{
    unsigned char want[16], got[16];
    int wf = inet_pton(AF_INET, addr, want) == 1 ? AF_INET : AF_INET6;
    FUZZ_CHECK(inet_pton(wf, addr, want) == 1);
    for (const char *p = xff; *p;) {
        p += strspn(p, " ");
        size_t n = strcspn(p, ","), len = n;
        while (len > 0 && p[len - 1] == ' ')
            len--;
        char item[64];
        if (len < sizeof(item)) {
            snprintf(item, sizeof(item), "%.*s", (int)len, p);
            if (inet_pton(wf, item, got) == 1 && memcmp(got, want, wf == AF_INET ? 4 : 16) == 0)
                return 1;
        }
        p += n + (p[n] == ',');
    }
    return 0;
}

static void fuzz_forwarded(fuzz_reader *r)
{
    char *text = fuzz_field(r, NULL), *peer = fuzz_field(r, NULL), *xff = fuzz_rest(r, NULL);
    http_proxies *p = malloc(sizeof(*p));
    char *client = malloc(INET6_ADDRSTRLEN); /* the size the server uses; heap, for ASan */
    err_t e;
    FUZZ_CHECK(p != NULL && client != NULL);
    int parsed = http_proxies_parse(text, p, &e) == 0;
    if (parsed) {
        FUZZ_CHECK(p->n >= 1 && p->n <= HTTP_MAX_PROXIES);
        for (size_t i = 0; i < p->n; i++)
            FUZZ_CHECK((p->nets[i].family == AF_INET && p->nets[i].bits <= 32) ||
                       (p->nets[i].family == AF_INET6 && p->nets[i].bits <= 128));
    } else {
        FUZZ_CHECK(e.cls == ERR_INVALID_REQUEST);
    }
    http_forwarded_client(parsed ? p : NULL, peer, xff, client, INET6_ADDRSTRLEN);
    FUZZ_CHECK(memchr(client, '\0', INET6_ADDRSTRLEN) != NULL);
    if (!parsed || !http_proxies_contain(p, peer))
        FUZZ_CHECK(strncmp(client, peer, INET6_ADDRSTRLEN - 1) == 0);
    else if (strcmp(client, peer) != 0)
        FUZZ_CHECK(canonical_address(client) && xff_names(xff, client));
    (void)http_addr_is_loopback(client);
    free(client);
    free(p);
    free(xff);
    free(peer);
    free(text);
}

static void fuzz_origin(fuzz_reader *r)
{
    size_t n;
    char *in = fuzz_field(r, &n), *list = fuzz_rest(r, NULL);
    char *out = malloc(256), *again = malloc(256); /* the size admin.c uses */
    err_t e;
    FUZZ_CHECK(out != NULL && again != NULL);
    if (admin_normalize_origin(in, out, 256, &e) == 0) {
        size_t on = strlen(out);
        FUZZ_CHECK(on == strlen(in) && strncasecmp(in, out, on) == 0);
        FUZZ_CHECK(strncmp(out, "https://", 8) == 0 || strncmp(out, "http://", 7) == 0);
        const char *host = strstr(out, "://") + 3;
        FUZZ_CHECK(*host != '\0' && strpbrk(host, "/?#@\\ ") == NULL);
        for (const char *c = out; *c; c++)
            FUZZ_CHECK(!(*c >= 'A' && *c <= 'Z') && (unsigned char)*c > 0x20 && *c != 0x7f);
        FUZZ_CHECK(admin_normalize_origin(out, again, 256, &e) == 0 && strcmp(again, out) == 0);
        char *both = malloc(strlen(list) + on + 2);
        FUZZ_CHECK(both != NULL);
        sprintf(both, "%s\n%s", list, out);
        FUZZ_CHECK(admin_origins_contain(both, out, on));
        free(both);
    } else {
        FUZZ_CHECK(e.cls == ERR_INVALID_REQUEST);
    }
    /* the origin a browser sent, checked against an app's list */
    if (n > 0 && admin_origins_contain(list, in, n))
        FUZZ_CHECK(strstr(list, in) != NULL);
    free(again);
    free(out);
    free(list);
    free(in);
}

FUZZ_DEFAULT_INITIALIZE()

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fuzz_reader r = {data, size};
    switch (fuzz_byte(&r) % 3) {
    case 0:
        fuzz_bearer(&r);
        break;
    case 1:
        fuzz_forwarded(&r);
        break;
    default:
        fuzz_origin(&r);
        break;
    }
    return 0;
}
