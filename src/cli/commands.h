/* commands.h - one entry point per command; argv holds what follows the
 * command's words. Each returns the process exit code. */
#ifndef TESSERA_CLI_COMMANDS_H
#define TESSERA_CLI_COMMANDS_H

#include <jansson.h>

int cmd_serve(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_import(int argc, char **argv);
int cmd_demo(int argc, char **argv);
int cmd_org_create(int argc, char **argv);
int cmd_org_list(int argc, char **argv);
int cmd_org_update(int argc, char **argv);
int cmd_user_add(int argc, char **argv);
int cmd_user_passwd(int argc, char **argv);
int cmd_session_list(int argc, char **argv);
int cmd_session_revoke(int argc, char **argv);
int cmd_idp_add(int argc, char **argv);
int cmd_idp_list(int argc, char **argv);
int cmd_idp_remove(int argc, char **argv);
int cmd_user_list(int argc, char **argv);
int cmd_token_create(int argc, char **argv);
int cmd_token_list(int argc, char **argv);
int cmd_token_update(int argc, char **argv);
int cmd_token_revoke(int argc, char **argv);
int cmd_group_create(int argc, char **argv);
int cmd_group_list(int argc, char **argv);
int cmd_group_grant(int argc, char **argv);
int cmd_group_add_member(int argc, char **argv);
int cmd_app_create(int argc, char **argv);
int cmd_app_list(int argc, char **argv);
int cmd_app_deploy(int argc, char **argv);
int cmd_keys_list(int argc, char **argv);
int cmd_keys_rotate(int argc, char **argv);
int cmd_audit(int argc, char **argv);

/* Prints doc as one compact JSON line on stdout and releases it. */
void cli_print_json(json_t *doc);

#endif
