/* site.h - the demo host site of `tessera demo`: a stand-in for a customer's
 * web app, on its own origin. Two demo users sign in to it; its backend
 * trades the demo Embed access token for session tokens at Tessera's
 * POST /api/v1/public/token over real HTTP, exactly as the Superblocks
 * documentation shows a host doing; its page embeds the demo app. */
#ifndef TESSERA_DEMO_SITE_H
#define TESSERA_DEMO_SITE_H

#include "core/err.h"
#include "store/store.h"

typedef struct {
    char tessera_url[256];     /* Tessera's base URL */
    char app_id[STORE_ID_MAX];
    char group_id[STORE_ID_MAX];
    char embed_token[64];      /* a secret: used only in the backend call */
} demo_site_config;

typedef struct demo_site demo_site;

/* Starts listening on listen ("HOST:PORT", port 0 = any). NULL with *e.
 * Serves 503 until demo_site_configure() is called. */
demo_site *demo_site_start(const char *listen, err_t *e);
/* Sets what the site talks to (copied); call once, before printing its URL. */
void demo_site_configure(demo_site *s, const demo_site_config *cfg);
/* "http://localhost:PORT": the site's origin (allowed to embed the app). */
const char *demo_site_url(const demo_site *s);
void demo_site_stop(demo_site *s);

#endif
