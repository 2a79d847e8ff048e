/* tessera demo - seeds a demo organization and serves Tessera together
 * with a demo host site on its own origin (docs/EMBED.md, README). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/commands.h"
#include "cli/server.h"
#include "core/assets.h"
#include "core/clock.h"
#include "core/mime.h"
#include "demo/site.h"
#include "crypto/crypto.h"
#include "domain/admin.h"
#include "jwt/b64url.h"

#define DEMO_ORG "Demo Org"
#define DEMO_APP "Demo app"
#define DEMO_GROUP "Demo viewers"
#define DEMO_OWNER "admin@demo.example"

/* The demo app's files, from the assets compiled in (web/demo-app/). */
static size_t demo_app_files(store_app_file *files, size_t max)
{
    static const char prefix[] = "web/demo-app/";
    size_t n = 0;
    for (size_t i = 0; i < asset_count && n < max; i++) {
        if (strncmp(asset_table[i].path, prefix, sizeof(prefix) - 1) != 0)
            continue;
        store_app_file *f = &files[n++];
        memset(f, 0, sizeof(*f));
        snprintf(f->path, sizeof(f->path), "%s", asset_table[i].path + sizeof(prefix) - 1);
        snprintf(f->content_type, sizeof(f->content_type), "%s", mime_type_for(f->path));
        f->data = asset_table[i].data;
        f->len = asset_table[i].len;
    }
    return n;
}

/* Finds or creates the demo org, app, group and grant; deploys the demo
 * app; creates a new Embed token. Fills cfg. */
/* The console's demo owner, with a new random password each run. */
static int console_owner(const admin_ctx *c, const char *org_id, char password[23], err_t *e)
{
    unsigned char raw[16];
    store_user u;
    err_t miss;
    crypto_random(raw, sizeof(raw));
    b64url_encode(raw, sizeof(raw), password);
    if (c->store->ops->user_find_email(c->store, org_id, DEMO_OWNER, &u, &miss) == 0)
        return admin_user_set_password(c, org_id, u.id, password, e);
    return admin_user_add(c, org_id, DEMO_OWNER, "Demo Owner", "owner", password, &u, e);
}

static int seed(store *s, const char *site_origin, demo_site_config *cfg, char console_password[23],
                err_t *e)
{
    admin_ctx c = {s, "demo", "", ""};
    store_org org;
    store_app app;
    store_group group;
    store_token tok;
    store_app_version version;
    store_app_file files[64];
    if (admin_find_org(s, DEMO_ORG, &org, e) != 0 && admin_org_create(&c, DEMO_ORG, &org, e) != 0)
        return -1;
    if (admin_find_app(s, org.id, DEMO_APP, &app, e) == 0) {
        if (strstr(app.allowed_origins, site_origin) == NULL)
            return err_set(e, ERR_CONFLICT,
                           "this database's demo app does not allow %s; run the demo on a fresh --db",
                           site_origin);
    } else {
        const char *origins[] = {site_origin};
        if (admin_app_create(&c, org.id, DEMO_APP, "sso", origins, 1, &app, e) != 0)
            return -1;
    }
    if (admin_find_group(s, org.id, DEMO_GROUP, &group, e) != 0 &&
        admin_group_create(&c, org.id, DEMO_GROUP, &group, e) != 0)
        return -1;
    if (admin_group_grant(&c, org.id, group.id, app.id, "apps:view", e) != 0 ||
        admin_app_deploy_files(&c, org.id, app.id, files, demo_app_files(files, 64), &version, e) != 0 ||
        admin_token_create(&c, org.id, "Demo host site", "embed", clock_now() + 86400 * 90,
                           STORE_RATE_DEFAULT, 0, &tok, cfg->embed_token, e) != 0)
        return -1;
    if (console_owner(&c, org.id, console_password, e) != 0)
        return -1;
    snprintf(cfg->app_id, sizeof(cfg->app_id), "%s", app.id);
    snprintf(cfg->group_id, sizeof(cfg->group_id), "%s", group.id);
    return 0;
}

/* The demo site listens next to Tessera: same host, next port (0 stays 0). */
static void default_site_listen(const char *listen, char *out, size_t cap)
{
    const char *colon = strrchr(listen, ':');
    long port = colon ? strtol(colon + 1, NULL, 10) : 8080;
    snprintf(out, cap, "%.*s:%ld", colon ? (int)(colon - listen) : 9, colon ? listen : "127.0.0.1",
             port == 0 ? 0 : port + 1);
}

int cmd_demo(int argc, char **argv)
{
    static const char *const values[] = {"listen", "site-listen", "workers", NULL};
    cli_args a;
    if (cli_parse(argc, argv, values, NULL, &a) != 0 ||
        cli_require_pos(&a, 0, "tessera demo [--listen ADDR:PORT] [--site-listen ADDR:PORT]") != 0)
        return CLI_USAGE;
    const char *listen = cli_opt(&a, "listen") ? cli_opt(&a, "listen") : "127.0.0.1:8080";
    char site_listen[96];
    if (cli_opt(&a, "site-listen"))
        snprintf(site_listen, sizeof(site_listen), "%s", cli_opt(&a, "site-listen"));
    else
        default_site_listen(listen, site_listen, sizeof(site_listen));

    server_state *st;
    demo_site *site = NULL;
    store *s = NULL;
    demo_site_config cfg = {0};
    char console_password[23] = "";
    err_t e;
    int code = server_open(&st, &a, listen, NULL);
    if (code != CLI_OK)
        goto out;
    code = CLI_FAIL;
    if ((site = demo_site_start(site_listen, &e)) == NULL || (s = cli_open_store(&a, &e)) == NULL ||
        seed(s, demo_site_url(site), &cfg, console_password, &e) != 0) {
        cli_fail_err(&e);
        goto out;
    }
    snprintf(cfg.tessera_url, sizeof(cfg.tessera_url), "%s", server_base_url(st));
    demo_site_configure(site, &cfg);
    s->ops->close(s);
    s = NULL;
    fprintf(stderr,
            "\n  Tessera demo is running.\n\n"
            "  Open the demo host site:  %s\n"
            "  Sign in as Ada Admin (metadata isAdmin: true, Delete enabled) or\n"
            "  Victor Viewer (isAdmin: false, Delete disabled) and see the embedded app.\n\n"
            "  Admin console:            %s/console/\n"
            "      sign in as %s with password %s\n\n"
            "  Tessera itself:           %s   (app %s)\n"
            "  Stop with Ctrl-C.\n\n",
            demo_site_url(site), server_base_url(st), DEMO_OWNER, console_password, server_base_url(st),
            cfg.app_id);
    fprintf(stderr, "demo site on %s\n", demo_site_url(site));
    fflush(stderr);
    server_run(st);
    code = CLI_OK;
out:
    if (s)
        s->ops->close(s);
    demo_site_stop(site);
    server_close(st);
    explicit_bzero(cfg.embed_token, sizeof(cfg.embed_token));
    explicit_bzero(console_password, sizeof(console_password));
    return code;
}
