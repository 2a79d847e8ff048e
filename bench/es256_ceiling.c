/* es256_ceiling.c - the signing ceiling for bench/run: a bare HTTP server that
 * answers every POST with 200 and a fresh ES256-signed JWT, in the reply shape
 * of Tessera's token endpoint, and does nothing else (no Authorization check,
 * no JSON parse, no claims lookups, no store).
 *
 * HTTP is libmicrohttpd with the threading of src/http/server.c: one daemon
 * per worker, each with its own epoll thread (MHD_USE_EPOLL_INTERNAL_THREAD),
 * all bound to one port with SO_REUSEPORT, the same per-connection memory,
 * connection limit and idle timeout. Signing is OpenSSL 3 EVP: SHA-256 of
 * header.payload, ECDSA P-256, DER converted to r || s. Every worker has its
 * own EVP_PKEY (a copy parsed from the same DER) and keeps one EVP_PKEY_CTX
 * initialised for signing, so a request costs one hash and one signature.
 *
 * Build (bench/run does it):
 *   cc -O2 -o es256_ceiling bench/es256_ceiling.c \
 *      $(pkg-config --cflags --libs libmicrohttpd libcrypto) -lpthread
 * Run:
 *   es256_ceiling [--listen 127.0.0.1:PORT] [--workers N]     (defaults 127.0.0.1:0, 2)
 * Prints "listening on http://127.0.0.1:PORT" on stderr when ready, like
 * tessera serve; SIGTERM or SIGINT stops it. --check prints one token on
 * stdout and the public key (PEM) on stderr, then exits: a self-test (three tokens). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_WORKERS 64
#define MAX_CONNECTIONS 4096 /* as tessera serve: per process, split over the daemons */
#define IDLE_TIMEOUT 30
#define POOL_BYTES (64 * 1024)
#define TTL 86400

/* {"alg":"ES256","kid":"bench-ceiling","typ":"JWT"}: fixed, encoded once. */
static const char header_json[] = "{\"alg\":\"ES256\",\"kid\":\"bench-ceiling\",\"typ\":\"JWT\"}";
static char header_b64[128];
static size_t header_b64_len;

typedef struct {
    EVP_PKEY *pkey;     /* this worker's own copy */
    EVP_PKEY_CTX *sign; /* initialised once for signing */
    EVP_MD *sha256;
    unsigned id;
    uint64_t counter;   /* touched only by this worker's thread */
} worker;

static size_t b64url(const unsigned char *in, size_t n, char *out)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0, i = 0;
    for (; i + 3 <= n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
        out[o++] = tbl[v & 63];
    }
    if (n - i == 1) {
        uint32_t v = (uint32_t)in[i] << 16;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
    } else if (n - i == 2) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = tbl[v >> 18 & 63];
        out[o++] = tbl[v >> 12 & 63];
        out[o++] = tbl[v >> 6 & 63];
    }
    out[o] = '\0';
    return o;
}

/* The reply body {"access_token":"<JWT>","token_type":"Bearer","expires_in":86400}
 * into out (malloc'ed); returns its length or 0. */
static size_t make_reply(worker *w, char **out)
{
    char payload[512], jwt[1024];
    unsigned char md[32], der[80], sig[64];
    size_t derlen = sizeof(der);
    time_t now = time(NULL);
    uint64_t n = ++w->counter;
    int plen = snprintf(payload, sizeof(payload),
                        "{\"iss\":\"http://127.0.0.1\",\"aud\":\"tessera:session\","
                        "\"sub\":\"bench-user\",\"jti\":\"w%u-%llu\",\"iat\":%lld,\"exp\":%lld}",
                        w->id, (unsigned long long)n, (long long)now, (long long)now + TTL);
    size_t j = 0;
    memcpy(jwt, header_b64, header_b64_len);
    j = header_b64_len;
    jwt[j++] = '.';
    j += b64url((const unsigned char *)payload, (size_t)plen, jwt + j);
    unsigned int mdlen = 0;
    if (EVP_Digest(jwt, j, md, &mdlen, w->sha256, NULL) != 1 ||
        EVP_PKEY_sign(w->sign, der, &derlen, md, sizeof(md)) != 1)
        return 0;
    const unsigned char *p = der;
    ECDSA_SIG *es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
    if (es == NULL)
        return 0;
    const BIGNUM *r, *s;
    ECDSA_SIG_get0(es, &r, &s);
    int ok = BN_bn2binpad(r, sig, 32) == 32 && BN_bn2binpad(s, sig + 32, 32) == 32;
    ECDSA_SIG_free(es);
    if (!ok)
        return 0;
    jwt[j++] = '.';
    j += b64url(sig, sizeof(sig), jwt + j);
    size_t cap = j + 80;
    char *body = malloc(cap);
    if (body == NULL)
        return 0;
    int blen = snprintf(body, cap, "{\"access_token\":\"%s\",\"token_type\":\"Bearer\",\"expires_in\":%d}",
                        jwt, TTL);
    *out = body;
    return (size_t)blen;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, char *body, size_t len,
                             int owned)
{
    struct MHD_Response *resp =
        owned ? MHD_create_response_from_buffer_with_free_callback(len, body, free)
              : MHD_create_response_from_buffer(len, body, MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        if (owned)
            free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    enum MHD_Result ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    static int first_call;
    worker *w = cls;
    (void)url;
    (void)version;
    (void)upload_data;
    if (*con_cls == NULL) { /* headers only: the body (if any) follows */
        *con_cls = &first_call;
        return MHD_YES;
    }
    if (*upload_data_size > 0) { /* the body is read and dropped */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (strcmp(method, "POST") != 0) {
        static char na[] = "{\"error\":\"method_not_allowed\",\"error_description\":\"POST only\"}";
        return reply(conn, MHD_HTTP_METHOD_NOT_ALLOWED, na, sizeof(na) - 1, 0);
    }
    char *body = NULL;
    size_t len = make_reply(w, &body);
    if (len == 0) {
        static char se[] = "{\"error\":\"server_error\",\"error_description\":\"signing failed\"}";
        ERR_clear_error();
        return reply(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, se, sizeof(se) - 1, 0);
    }
    return reply(conn, MHD_HTTP_OK, body, len, 1);
}

static int worker_init(worker *w, unsigned id, const unsigned char *der, long derlen)
{
    const unsigned char *p = der;
    w->id = id;
    w->pkey = d2i_AutoPrivateKey(NULL, &p, derlen);
    w->sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (w->pkey == NULL || w->sha256 == NULL)
        return -1;
    w->sign = EVP_PKEY_CTX_new_from_pkey(NULL, w->pkey, NULL);
    if (w->sign == NULL || EVP_PKEY_sign_init(w->sign) != 1)
        return -1;
    return 0;
}

static int parse_listen(const char *s, struct sockaddr_in *sin)
{
    char host[64];
    const char *colon = strrchr(s, ':');
    if (colon == NULL || (size_t)(colon - s) >= sizeof(host))
        return -1;
    memcpy(host, s, (size_t)(colon - s));
    host[colon - s] = '\0';
    memset(sin, 0, sizeof(*sin));
    sin->sin_family = AF_INET;
    char *end;
    long port = strtol(colon + 1, &end, 10);
    if (*end != '\0' || port < 0 || port > 65535 || inet_pton(AF_INET, host, &sin->sin_addr) != 1)
        return -1;
    sin->sin_port = htons((uint16_t)port);
    return 0;
}

int main(int argc, char **argv)
{
    const char *listen = "127.0.0.1:0";
    unsigned nworkers = 2;
    int check = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--listen") == 0 && i + 1 < argc)
            listen = argv[++i];
        else if (strcmp(argv[i], "--workers") == 0 && i + 1 < argc)
            nworkers = (unsigned)atoi(argv[++i]);
        else if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else {
            fprintf(stderr, "usage: es256_ceiling [--listen 127.0.0.1:PORT] [--workers N] [--check]\n");
            return 2;
        }
    }
    if (nworkers < 1 || nworkers > MAX_WORKERS) {
        fprintf(stderr, "es256_ceiling: --workers must be 1 to %d\n", MAX_WORKERS);
        return 2;
    }
    struct sockaddr_in sin;
    if (parse_listen(listen, &sin) != 0) {
        fprintf(stderr, "es256_ceiling: --listen must be IPV4:PORT\n");
        return 2;
    }
    header_b64_len = b64url((const unsigned char *)header_json, sizeof(header_json) - 1, header_b64);

    /* One P-256 key, serialised once; each worker parses its own EVP_PKEY. */
    EVP_PKEY *key = EVP_EC_gen("P-256");
    unsigned char *der = NULL;
    int derlen = key ? i2d_PrivateKey(key, &der) : -1;
    if (derlen <= 0) {
        fprintf(stderr, "es256_ceiling: cannot make a P-256 key\n");
        return 1;
    }
    static worker workers[MAX_WORKERS];
    for (unsigned i = 0; i < nworkers; i++) {
        if (worker_init(&workers[i], i, der, derlen) != 0) {
            fprintf(stderr, "es256_ceiling: cannot set up signing\n");
            return 1;
        }
    }
    if (check) {
        for (int i = 0; i < 3; i++) { /* the reused EVP_PKEY_CTX signs again and again */
            char *body = NULL;
            if (make_reply(&workers[0], &body) == 0)
                return 1;
            printf("%s\n", body);
            free(body);
        }
        PEM_write_PUBKEY(stderr, key);
        return 0;
    }

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop, NULL); /* the daemons' threads inherit it */

    struct MHD_Daemon *daemons[MAX_WORKERS] = {0};
    unsigned per = MAX_CONNECTIONS / nworkers;
    int port = 0;
    for (unsigned i = 0; i < nworkers; i++) {
        daemons[i] = MHD_start_daemon(
            MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL, on_request, &workers[i],
            MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_LISTENING_ADDRESS_REUSE,
            (unsigned)1, MHD_OPTION_CONNECTION_LIMIT, per, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned)IDLE_TIMEOUT, MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)POOL_BYTES,
            MHD_OPTION_STRICT_FOR_CLIENT, 1, MHD_OPTION_END);
        if (daemons[i] == NULL) {
            fprintf(stderr, "es256_ceiling: cannot listen on %s\n", listen);
            return 1;
        }
        if (i == 0) { /* port 0: the others share the port the first one got */
            const union MHD_DaemonInfo *di = MHD_get_daemon_info(daemons[0], MHD_DAEMON_INFO_BIND_PORT);
            port = di ? di->port : 0;
            sin.sin_port = htons((uint16_t)port);
        }
    }
    char host[INET_ADDRSTRLEN];
    inet_ntop(AF_INET, &sin.sin_addr, host, sizeof(host));
    fprintf(stderr, "listening on http://%s:%d\n", host, port);

    int sig;
    sigwait(&stop, &sig);
    for (unsigned i = 0; i < nworkers; i++)
        MHD_stop_daemon(daemons[i]);
    for (unsigned i = 0; i < nworkers; i++) {
        EVP_PKEY_CTX_free(workers[i].sign);
        EVP_PKEY_free(workers[i].pkey);
        EVP_MD_free(workers[i].sha256);
    }
    OPENSSL_free(der);
    EVP_PKEY_free(key);
    return 0;
}
