/* cli — subcommands of the lienthong executable. Each takes (argc, argv) starting at the
 * command's name and returns the process exit code (0 ok, 1 error, 2 usage). */
#ifndef CLI_H
#define CLI_H

#include "lt_config.h"

#define CLI_VERSION "0.1.0"

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *help;
} cli_command;

int cli_serve(int argc, char **argv);
int cli_check_config(int argc, char **argv);
int cli_token(int argc, char **argv);
int cli_import(int argc, char **argv);
int cli_backup(int argc, char **argv);
int cli_verify_audit(int argc, char **argv);

/* Loads the config; on failure prints the one-line error and returns NULL. */
lt_config *cli_load_config(const char *path);
/* Prints "lienthong: <detail>" to stderr and returns 1. */
int cli_error(const char *what, const char *detail);

#endif
