/* commit.c - replies that wait until their session record is durable. */
#include "api/api.h"

#include <string.h>

static void on_recorded(void *ctx, int ok)
{
    http_request *req = ctx;
    if (!ok) {
        err_t e;
        err_set(&e, ERR_UNAVAILABLE, "the session could not be recorded, so no token was issued; retry");
        http_reply_error(req, &e);
    }
    http_resume(req);
}

void api_reply_after_commit(api_worker *w, http_request *req, buf_t *reply,
                            const store_session *record, const store_audit *audit)
{
    http_add_header(req, "Cache-Control", "no-store");
    http_suspend(req);
    http_reply_json(req, 200, reply);
    if (recorder_submit(w->app->rec, record, audit, on_recorded, req) != 0) {
        err_t e;
        err_set(&e, ERR_UNAVAILABLE, "the server is overloaded; retry shortly");
        http_reply_error(req, &e);
        http_resume(req);
    }
}
