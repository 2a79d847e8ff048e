#include "domain/signing_keys.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/hex.h"
#include "core/uuid.h"
#include "core/xalloc.h"
#include "crypto/crypto.h"
#include "jwt/b64url.h"

static int parse_hex_key(const char *s, unsigned char key[MASTER_KEY_LEN])
{
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
        n--;
    if (n != MASTER_KEY_LEN * 2)
        return -1;
    return hex_decode(s, key, MASTER_KEY_LEN);
}

static void default_key_path(const char *db_url, char *out, size_t cap)
{
    if (strncmp(db_url, "postgres://", 11) == 0 || strncmp(db_url, "postgresql://", 13) == 0)
        snprintf(out, cap, "tessera.key");
    else
        snprintf(out, cap, "%s.key", strncmp(db_url, "sqlite:", 7) == 0 ? db_url + 7 : db_url);
}

static int create_key_file(const char *path, unsigned char key[MASTER_KEY_LEN], err_t *e)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
        return errno == EEXIST ? 1 : err_set(e, ERR_INTERNAL, "cannot create master key file %s: %s", path, strerror(errno));
    crypto_random(key, MASTER_KEY_LEN);
    char hex[MASTER_KEY_LEN * 2 + 2];
    hex_encode(key, MASTER_KEY_LEN, hex);
    hex[MASTER_KEY_LEN * 2] = '\n';
    ssize_t w = write(fd, hex, MASTER_KEY_LEN * 2 + 1);
    int rc = (w == MASTER_KEY_LEN * 2 + 1 && fsync(fd) == 0) ? 0 : -1;
    close(fd);
    explicit_bzero(hex, sizeof(hex));
    if (rc != 0) {
        unlink(path);
        return err_set(e, ERR_INTERNAL, "cannot write master key file %s", path);
    }
    return 0;
}

static int read_key_file(const char *path, unsigned char key[MASTER_KEY_LEN], err_t *e)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return err_set(e, ERR_INTERNAL, "cannot open master key file %s: %s", path, strerror(errno));
    struct stat st;
    char text[160];
    ssize_t n = -1;
    int rc = -1;
    if (fstat(fd, &st) != 0 || (st.st_mode & 077) != 0) {
        err_set(e, ERR_INTERNAL, "master key file %s must not be accessible by group or others (chmod 600)", path);
        goto out;
    }
    n = read(fd, text, sizeof(text) - 1);
    if (n < 0) {
        err_set(e, ERR_INTERNAL, "cannot read master key file %s", path);
        goto out;
    }
    text[n] = '\0';
    if (parse_hex_key(text, key) != 0) {
        err_set(e, ERR_INTERNAL, "master key file %s must hold 64 hexadecimal characters", path);
        goto out;
    }
    rc = 0;
out:
    explicit_bzero(text, sizeof(text));
    close(fd);
    return rc;
}

/* Loads the master key: $TESSERA_MASTER_KEY (64 hex characters), else the
 * file $TESSERA_MASTER_KEY_FILE, else "<sqlite path>.key" (or "tessera.key"
 * for PostgreSQL); a missing file is created (mode 0600, new random key)
 * only when allow_create. A key file readable by group or others is refused. */
static int master_key_load(const char *db_url, int allow_create, unsigned char key[MASTER_KEY_LEN], err_t *e)
{
    const char *env = getenv("TESSERA_MASTER_KEY");
    if (env != NULL && env[0] != '\0') {
        if (parse_hex_key(env, key) != 0)
            return err_set(e, ERR_INVALID_REQUEST, "TESSERA_MASTER_KEY must be 64 hexadecimal characters");
        return 0;
    }
    char path[4096];
    const char *file = getenv("TESSERA_MASTER_KEY_FILE");
    if (file != NULL && file[0] != '\0')
        snprintf(path, sizeof(path), "%s", file);
    else
        default_key_path(db_url, path, sizeof(path));
    if (!allow_create)
        return read_key_file(path, key, e);
    int created = create_key_file(path, key, e);
    if (created < 0)
        return -1;
    return created == 0 ? 0 : read_key_file(path, key, e);
}

typedef struct {
    const unsigned char *master;
    char undecryptable[64]; /* kid of the first key the master key does not open */
} key_check;

static int count_key(void *ctx, const void *rec)
{
    (void)rec;
    (*(size_t *)ctx)++;
    return 0;
}

static int check_key(void *ctx, const void *rec)
{
    key_check *kc = ctx;
    const store_key *k = rec;
    if (strcmp(k->state, "retired") == 0)
        return 0;
    err_t ignore;
    jwt_key *key = signing_keys_open(k, kc->master, &ignore);
    if (key == NULL) {
        snprintf(kc->undecryptable, sizeof(kc->undecryptable), "%s", k->kid);
        return 1;
    }
    jwt_key_free(key);
    return 0;
}

int signing_keys_master_key(store *s, const char *db_url, unsigned char key[MASTER_KEY_LEN], err_t *e)
{
    size_t nkeys = 0;
    if (s->ops->key_each(s, count_key, &nkeys, e) != 0)
        return -1;
    if (master_key_load(db_url, nkeys == 0, key, e) != 0) {
        if (nkeys > 0) {
            char why[ERR_DETAIL_MAX];
            snprintf(why, sizeof(why), "%s", e->detail);
            err_set(e, e->cls, "%s; the database has signing keys sealed with a master key: restore "
                    "that key file or set TESSERA_MASTER_KEY", why);
        }
        return -1;
    }
    key_check kc = {key, ""};
    if (s->ops->key_each(s, check_key, &kc, e) != 0)
        return -1;
    if (kc.undecryptable[0] != '\0') {
        explicit_bzero(key, MASTER_KEY_LEN);
        return err_set(e, ERR_INTERNAL, "the master key does not decrypt signing key %s: wrong master key",
                       kc.undecryptable);
    }
    return 0;
}

static int find_active(void *ctx, const void *rec)
{
    const store_key *k = rec;
    if (strcmp(k->state, "active") == 0) {
        *(store_key *)ctx = *k;
        return 1;
    }
    return 0;
}

/* Generates, seals and stores a new active key; audit->target becomes its kid. */
static int insert_new_key(store *s, const unsigned char master[MASTER_KEY_LEN], store_audit *audit,
                          char kid_out[64], err_t *e)
{
    unsigned char rnd[9];
    char suffix[13];
    crypto_random(rnd, sizeof(rnd));
    b64url_encode(rnd, sizeof(rnd), suffix);
    store_key *k = xcalloc(1, sizeof(*k));
    buf_t priv, pub;
    buf_init(&priv, 4096);
    buf_init(&pub, STORE_JWK_MAX - 1);
    int rc = -1;
    snprintf(k->kid, sizeof(k->kid), "ts-%s", suffix);
    jwt_key *key = jwt_key_generate(JWT_ALG_ES256, k->kid, e);
    if (key == NULL)
        goto out;
    if (jwt_key_export_private(key, &priv) != 0 || jwt_key_export_public(key, &pub) != 0 ||
        priv.len + CRYPTO_AEAD_OVERHEAD > STORE_SEALED_MAX) {
        err_set(e, ERR_INTERNAL, "cannot export the new signing key");
        goto out;
    }
    crypto_aead_seal(master, k->kid, strlen(k->kid), priv.data, priv.len, k->sealed_private);
    k->sealed_len = priv.len + CRYPTO_AEAD_OVERHEAD;
    memcpy(k->public_jwk, pub.data, pub.len + 1);
    snprintf(k->alg, sizeof(k->alg), "ES256");
    snprintf(k->state, sizeof(k->state), "active");
    k->created_at = clock_now();
    snprintf(audit->target, sizeof(audit->target), "%s", k->kid);
    if (s->ops->key_insert(s, k, audit, e) != 0)
        goto out;
    if (kid_out)
        snprintf(kid_out, 64, "%s", k->kid);
    rc = 0;
out:
    if (priv.data)
        explicit_bzero(priv.data, priv.len);
    buf_free(&priv);
    buf_free(&pub);
    jwt_key_free(key);
    free(k);
    return rc;
}

/* Nodes starting at once on an empty database race here: the store keeps one
 * active key (key_insert), so the losers get ERR_CONFLICT, and the key the
 * winner made is theirs too. */
int signing_keys_ensure(store *s, const unsigned char master[MASTER_KEY_LEN], err_t *e)
{
    store_key *active = xcalloc(1, sizeof(*active));
    int rc = s->ops->key_each(s, find_active, active, e);
    if (rc == 0 && active->kid[0] == '\0') {
        store_audit audit = {.at = clock_now()};
        uuid_v7(audit.id);
        snprintf(audit.actor, sizeof(audit.actor), "system");
        snprintf(audit.action, sizeof(audit.action), "key.created");
        snprintf(audit.detail, sizeof(audit.detail), "{\"reason\":\"first start\"}");
        rc = insert_new_key(s, master, &audit, NULL, e);
        if (rc != 0 && e->cls == ERR_CONFLICT)
            rc = s->ops->key_each(s, find_active, active, e) == 0 && active->kid[0] != '\0' ? 0 : -1;
    }
    free(active);
    return rc;
}

int signing_keys_rotate(store *s, const unsigned char master[MASTER_KEY_LEN], const char *actor,
                        char new_kid[64], err_t *e)
{
    store_key *active = xcalloc(1, sizeof(*active));
    store_audit audit = {.at = clock_now()};
    int rc = -1;
    if (s->ops->key_each(s, find_active, active, e) != 0)
        goto out;
    uuid_v7(audit.id);
    snprintf(audit.actor, sizeof(audit.actor), "%s", actor);
    snprintf(audit.action, sizeof(audit.action), "key.rotated");
    snprintf(audit.detail, sizeof(audit.detail), "{\"previous_kid\":\"%s\"}", active->kid);
    /* The store retires the previous key in the same transaction. */
    if (insert_new_key(s, master, &audit, new_kid, e) != 0)
        goto out;
    rc = 0;
out:
    free(active);
    return rc;
}

jwt_key *signing_keys_open(const store_key *k, const unsigned char master[MASTER_KEY_LEN], err_t *e)
{
    if (k->sealed_len <= CRYPTO_AEAD_OVERHEAD || k->sealed_len > STORE_SEALED_MAX)
        return err_set(e, ERR_INTERNAL, "signing key %s has no private part", k->kid), NULL;
    jwt_alg alg = jwt_alg_from_name(k->alg);
    if (alg == 0)
        return err_set(e, ERR_INTERNAL, "signing key %s has unsupported algorithm", k->kid), NULL;
    size_t n = k->sealed_len - CRYPTO_AEAD_OVERHEAD;
    unsigned char *plain = xmalloc(n + 1);
    jwt_key *key = NULL;
    if (crypto_aead_open(master, k->kid, strlen(k->kid), k->sealed_private, k->sealed_len, plain) != 0) {
        err_set(e, ERR_INTERNAL, "signing key %s cannot be decrypted: wrong master key?", k->kid);
        goto out;
    }
    plain[n] = '\0';
    key = jwt_key_import_private((const char *)plain, n, alg, k->kid, e);
out:
    explicit_bzero(plain, n + 1);
    free(plain);
    return key;
}
