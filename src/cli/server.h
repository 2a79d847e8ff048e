/* server.h - the lifecycle of a running Tessera server, shared by
 * `tessera serve` and `tessera demo`. */
#ifndef TESSERA_CLI_SERVER_H
#define TESSERA_CLI_SERVER_H

#include "cli/args.h"

typedef struct server_state server_state;

/* Opens the store, keys, directory and recorder and starts listening.
 * Blocks SIGTERM/SIGINT for every thread (server_run takes them). Returns
 * an exit code; *st is set even on failure and must go to server_close. */
int server_open(server_state **st, const cli_args *a, const char *listen, const char *base_url);
/* The public base URL (the token issuer). */
const char *server_base_url(const server_state *st);
/* Applies store changes until SIGTERM/SIGINT, then drains requests in flight. */
void server_run(server_state *st);
/* Stops and frees everything (NULL is fine). */
void server_close(server_state *st);

#endif
