#include "domain/access_token.h"

#include <string.h>
#include <strings.h>

#include "crypto/crypto.h"
#include "jwt/b64url.h"

int access_token_type_valid(const char *type)
{
    return strcmp(type, "embed") == 0 || strcmp(type, "admin") == 0;
}

void access_token_generate(const char *type, char *value, char *prefix, char hash_hex[65])
{
    unsigned char raw[32];
    crypto_random(raw, sizeof(raw));
    memcpy(value, strcmp(type, "admin") == 0 ? "tsa_" : "tse_", 4);
    b64url_encode(raw, sizeof(raw), value + 4);
    memcpy(prefix, value, ACCESS_TOKEN_PREFIX_LEN);
    prefix[ACCESS_TOKEN_PREFIX_LEN] = '\0';
    crypto_sha256_hex(value, ACCESS_TOKEN_LEN, hash_hex);
    explicit_bzero(raw, sizeof(raw));
}

static int is_b64url(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
}

int access_token_from_header(const char *header, char hash_hex[65], err_t *e)
{
    if (header == NULL)
        return err_set(e, ERR_UNAUTHORIZED,
                       "missing Authorization header; send 'Authorization: Bearer <access token>'");
    while (*header == ' ' || *header == '\t')
        header++;
    if (*header == '\0')
        return err_set(e, ERR_UNAUTHORIZED, "Authorization header is empty");
    if (strncasecmp(header, "Bearer", 6) != 0 || (header[6] != ' ' && header[6] != '\0'))
        return err_set(e, ERR_UNAUTHORIZED, "Authorization header must use the Bearer scheme");
    const char *tok = header + 6;
    while (*tok == ' ')
        tok++;
    size_t n = strlen(tok);
    while (n > 0 && (tok[n - 1] == ' ' || tok[n - 1] == '\t'))
        n--;
    if (n == 0)
        return err_set(e, ERR_UNAUTHORIZED, "Authorization header has no token after 'Bearer'");
    int well_formed = n == ACCESS_TOKEN_LEN && tok[0] == 't' && tok[1] == 's' &&
                      (tok[2] == 'e' || tok[2] == 'a') && tok[3] == '_';
    for (size_t i = 4; well_formed && i < n; i++)
        well_formed = is_b64url(tok[i]);
    if (!well_formed)
        return err_set(e, ERR_UNAUTHORIZED, "the Bearer token is not a Tessera access token");
    crypto_sha256_hex(tok, n, hash_hex);
    return 0;
}
