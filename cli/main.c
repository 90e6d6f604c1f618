/* lienthong — the one executable (API.md §1): a table of subcommands.
 * Exit codes: 0 success, 1 a user-facing error (one line on stderr), 2 usage error. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const cli_command commands[] = {
    {"serve", cli_serve, "run the gateway in the foreground"},
    {"check-config", cli_check_config, "validate the config and every file it points to"},
    {"token", cli_token, "print a signed JWT made with a configured key"},
    {"import", cli_import, "push a file through the ingest pipeline"},
    {"backup", cli_backup, "consistent hot copy of the warehouse"},
    {"verify-audit", cli_verify_audit, "re-compute the audit hash chain"},
};

static int usage(FILE *f)
{
    fprintf(f, "usage: lienthong COMMAND --config FILE [options]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-14s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nrun 'lienthong COMMAND --help' for a command's options\n");
    return f == stdout ? 0 : 2;
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return usage(stderr);
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
        return usage(stdout);
    if (strcmp(argv[1], "--version") == 0) {
        printf("lienthong %s\n", CLI_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].fn(argc - 1, argv + 1);
    fprintf(stderr, "lienthong: unknown command '%s'\n", argv[1]);
    return usage(stderr);
}
