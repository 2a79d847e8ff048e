/* fuzz_util.h - what every libFuzzer target of tests/fuzz shares: the entry
 * points, an oracle check that aborts (libFuzzer then keeps the input as a
 * crash artifact), and a reader that cuts one input into a selector byte and
 * fields. Header-only (static inline): each fuzz_*.c is built on its own.
 * How to build and run: docs/FUZZING.md. */
#ifndef TESSERA_FUZZ_UTIL_H
#define TESSERA_FUZZ_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* An oracle that does not hold: print what and where, then abort, which
 * libFuzzer reports as a crash and saves the input for. */
#define FUZZ_CHECK(cond) ((cond) ? (void)0 : fuzz_fail(#cond, __FILE__, __LINE__))

static inline void fuzz_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "fuzz oracle failed: %s (%s:%d)\n", what, file, line);
    abort();
}

/* With TESSERA_FUZZ_VERBOSE set (tests/fuzz/run --replay -v), a target says
 * what it made of each input: accepted, or the refusal's detail. */
__attribute__((format(printf, 1, 2))) static inline void fuzz_note(const char *fmt, ...)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("TESSERA_FUZZ_VERBOSE") != NULL;
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

/* Tessera logs refusals at INFO; a fuzzer would print millions of them. */
static inline void fuzz_quiet_logs(void)
{
    log_set_level(LOG_ERROR);
}

/* The LLVMFuzzerInitialize of a target with nothing to set up but quiet
 * logs; a target with keys to load writes its own. */
#define FUZZ_DEFAULT_INITIALIZE()                                                                  \
    int LLVMFuzzerInitialize(int *argc, char ***argv)                                              \
    {                                                                                              \
        (void)argc;                                                                                \
        (void)argv;                                                                                \
        fuzz_quiet_logs();                                                                         \
        return 0;                                                                                  \
    }

/* The unread rest of an input. */
typedef struct {
    const uint8_t *p;
    size_t n;
} fuzz_reader;

/* The next byte, or 0 when the input is used up. */
static inline uint8_t fuzz_byte(fuzz_reader *r)
{
    if (r->n == 0)
        return 0;
    r->n--;
    return *r->p++;
}

/* The bytes up to the next '\n' (not included; the rest of the input when
 * there is none) as a new NUL-terminated string; *len gets the length, which
 * counts any NUL bytes inside. Caller frees. */
static inline char *fuzz_field(fuzz_reader *r, size_t *len)
{
    const uint8_t *nl = r->n ? memchr(r->p, '\n', r->n) : NULL;
    size_t n = nl ? (size_t)(nl - r->p) : r->n;
    char *s = malloc(n + 1);
    FUZZ_CHECK(s != NULL);
    if (n > 0)
        memcpy(s, r->p, n);
    s[n] = '\0';
    r->p += n + (nl != NULL);
    r->n -= n + (nl != NULL);
    if (len != NULL)
        *len = n;
    return s;
}

/* The rest of the input as a new NUL-terminated string (see fuzz_field). */
static inline char *fuzz_rest(fuzz_reader *r, size_t *len)
{
    size_t n = r->n;
    char *s = malloc(n + 1);
    FUZZ_CHECK(s != NULL);
    if (n > 0)
        memcpy(s, r->p, n);
    s[n] = '\0';
    r->p += n;
    r->n = 0;
    if (len != NULL)
        *len = n;
    return s;
}

/* 1 when the error detail quotes no piece of the input in[len]: no run of
 * 16 base64url characters of the detail (a fixed text has no word that
 * long) appears in it. Details are logged and returned to clients; a token,
 * a header or a key is a secret. */
static inline int fuzz_detail_quotes_nothing(const char *detail, const char *in, size_t len)
{
    const size_t run = 16;
    size_t dn = strlen(detail), alnum = 0;
    for (size_t i = 0; i < dn; i++) {
        unsigned char c = (unsigned char)detail[i];
        int b64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '-' || c == '_';
        alnum = b64 ? alnum + 1 : 0;
        if (alnum >= run && memmem(in, len, detail + i + 1 - run, run) != NULL)
            return 0;
    }
    return 1;
}

#endif
