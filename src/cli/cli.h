/* cli.h - the `tessera` command line (docs/CLI.md). */
#ifndef TESSERA_CLI_CLI_H
#define TESSERA_CLI_CLI_H

/* Exit codes: 0 success, 1 failure, 2 bad usage. */
enum { CLI_OK = 0, CLI_FAIL = 1, CLI_USAGE = 2 };

int cli_main(int argc, char **argv);

#endif
