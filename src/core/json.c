#include "core/json.h"

#include <string.h>

size_t json_nesting_depth(const char *text, size_t len)
{
    size_t depth = 0, max = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == '{' || c == '[') {
            if (++depth > max)
                max = depth;
        } else if ((c == '}' || c == ']') && depth > 0) {
            depth--;
        }
    }
    return max;
}

json_t *json_parse_strict(const char *text, size_t len, size_t max_depth, size_t flags, err_t *e)
{
    if (len == 0)
        return err_set(e, ERR_INVALID_REQUEST, "request body is empty; expected a JSON object"), NULL;
    if (memchr(text, '\0', len) != NULL)
        return err_set(e, ERR_INVALID_REQUEST, "request body contains a NUL byte"), NULL;
    if (json_nesting_depth(text, len) > max_depth)
        return err_set(e, ERR_INVALID_REQUEST, "JSON nested deeper than %zu levels", max_depth), NULL;
    json_error_t je;
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES | flags, &je);
    if (root == NULL) {
        /* je.text may quote input; report the kind and position only. */
        const char *what = "malformed JSON";
        if (strstr(je.text, "duplicate"))
            what = "duplicate object key in JSON";
        else if (strstr(je.text, "UTF-8") || strstr(je.text, "Invalid"))
            what = "invalid UTF-8 or escape in JSON";
        else if (strstr(je.text, "too big"))
            what = "number out of range in JSON";
        err_set(e, ERR_INVALID_REQUEST, "%s at line %d, column %d", what, je.line, je.column);
    }
    return root;
}

/* Skips whitespace from i; returns the new index. */
static size_t skip_ws(const char *t, size_t len, size_t i)
{
    while (i < len && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n' || t[i] == '\r'))
        i++;
    return i;
}

size_t json_value_end(const char *t, size_t len, size_t i)
{
    if (i >= len)
        return len;
    if (t[i] == '"') {
        for (i++; i < len; i++) {
            if (t[i] == '\\')
                i++;
            else if (t[i] == '"')
                return i + 1;
        }
        return len;
    }
    if (t[i] == '{' || t[i] == '[') {
        size_t depth = 0;
        for (; i < len; i++) {
            char c = t[i];
            if (c == '"') {
                i = json_value_end(t, len, i) - 1;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if (c == '}' || c == ']') {
                if (--depth == 0)
                    return i + 1;
            }
        }
        return len;
    }
    while (i < len && t[i] != ',' && t[i] != '}' && t[i] != ']' && t[i] != ' ' && t[i] != '\t' &&
           t[i] != '\n' && t[i] != '\r')
        i++;
    return i;
}

/* 1 when the JSON string literal lit[n] (quotes included) decodes to key. */
static int key_equals(const char *lit, size_t n, const char *key, size_t klen)
{
    if (memchr(lit, '\\', n) == NULL)
        return n - 2 == klen && memcmp(lit + 1, key, klen) == 0;
    json_t *decoded = json_loadb(lit, n, JSON_DECODE_ANY, NULL);
    int eq = json_is_string(decoded) && json_string_length(decoded) == klen &&
             memcmp(json_string_value(decoded), key, klen) == 0;
    json_decref(decoded);
    return eq;
}

int json_raw_member(const char *text, size_t len, const char *key, size_t *off, size_t *vlen)
{
    size_t i = skip_ws(text, len, 0);
    if (i >= len || text[i] != '{')
        return -1;
    i++;
    size_t klen = strlen(key);
    for (;;) {
        i = skip_ws(text, len, i);
        if (i >= len || text[i] != '"')
            return -1;
        size_t kend = json_value_end(text, len, i) - 1;
        int match = key_equals(text + i, kend + 1 - i, key, klen);
        i = skip_ws(text, len, kend + 1);
        if (i >= len || text[i] != ':')
            return -1;
        i = skip_ws(text, len, i + 1);
        size_t vend = json_value_end(text, len, i);
        if (match) {
            *off = i;
            *vlen = vend - i;
            return 0;
        }
        i = skip_ws(text, len, vend);
        if (i >= len || text[i] != ',')
            return -1;
        i++;
    }
}
