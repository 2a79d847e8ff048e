/* main.c - process-wide set-up, then subcommand dispatch. */
#include "cli/cli.h"
#include "http/client.h"

int main(int argc, char **argv)
{
    http_client_global_init(); /* before any thread: libcurl's global state */
    int code = cli_main(argc, argv);
    http_client_global_cleanup();
    return code;
}
