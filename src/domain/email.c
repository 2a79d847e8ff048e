#include "domain/email.h"

#include <string.h>

static int is_atext(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return 1;
    return c != '\0' && strchr("!#$%&'*+/=?^_`{|}~-", c) != NULL;
}

static int is_label_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
}

static int check_local(const char *s, size_t n, err_t *e)
{
    if (n == 0 || n > 64)
        return err_set(e, ERR_INVALID_REQUEST, "email local part must be 1 to 64 characters");
    if (s[0] == '"')
        return err_set(e, ERR_INVALID_REQUEST, "email with a quoted local part is not supported");
    if (s[0] == '.' || s[n - 1] == '.')
        return err_set(e, ERR_INVALID_REQUEST, "email local part must not start or end with '.'");
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' && s[i + 1] == '.')
            return err_set(e, ERR_INVALID_REQUEST, "email local part must not contain '..'");
        if (c != '.' && !is_atext(c))
            return err_set(e, ERR_INVALID_REQUEST, "email local part contains a character that is not allowed");
    }
    return 0;
}

static int check_domain(const char *s, size_t n, err_t *e)
{
    size_t labels = 0, start = 0;
    int tld_numeric = 1;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && s[i] != '.') {
            if (!is_label_char((unsigned char)s[i]))
                return err_set(e, ERR_INVALID_REQUEST, "email domain contains a character that is not allowed");
            continue;
        }
        size_t len = i - start;
        if (len == 0 || len > 63)
            return err_set(e, ERR_INVALID_REQUEST, "email domain has an empty or over-long label");
        if (s[start] == '-' || s[i - 1] == '-')
            return err_set(e, ERR_INVALID_REQUEST, "email domain label must not start or end with '-'");
        tld_numeric = 1;
        for (size_t j = start; j < i; j++)
            if (s[j] < '0' || s[j] > '9')
                tld_numeric = 0;
        labels++;
        start = i + 1;
    }
    if (labels < 2)
        return err_set(e, ERR_INVALID_REQUEST, "email domain must have at least two labels");
    if (tld_numeric)
        return err_set(e, ERR_INVALID_REQUEST, "email domain must not be an IP address");
    return 0;
}

int email_normalize(const char *in, size_t len, char out[STORE_EMAIL_MAX], err_t *e)
{
    if (len == 0)
        return err_set(e, ERR_INVALID_REQUEST, "email is empty");
    if (len > 254)
        return err_set(e, ERR_INVALID_REQUEST, "email is longer than 254 characters");
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)in[i];
        if (c >= 0x80)
            return err_set(e, ERR_INVALID_REQUEST, "email must be ASCII; internationalized addresses are not supported");
        if (c <= 0x20 || c == 0x7f)
            return err_set(e, ERR_INVALID_REQUEST, "email must not contain spaces or control characters");
    }
    const char *at = memchr(in, '@', len);
    if (at == NULL)
        return err_set(e, ERR_INVALID_REQUEST, "email must contain '@'");
    size_t local_len = (size_t)(at - in);
    if (memchr(at + 1, '@', len - local_len - 1) != NULL && in[0] != '"')
        return err_set(e, ERR_INVALID_REQUEST, "email must contain exactly one '@'");
    if (check_local(in, local_len, e) != 0 || check_domain(at + 1, len - local_len - 1, e) != 0)
        return -1;
    for (size_t i = 0; i < len; i++)
        out[i] = (in[i] >= 'A' && in[i] <= 'Z') ? (char)(in[i] - 'A' + 'a') : in[i];
    out[len] = '\0';
    return 0;
}
