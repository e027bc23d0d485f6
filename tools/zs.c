/* zs — the operator's command line, driven by the API table: every API of the suite is a
 * command, with help, an interactive shell, tables, a kept session (tools/cli.h).
 *
 *   zs --help                 usage;  zs help <API>: parameters, types, allowed values
 *   zs                        interactive shell (libedit: history, tab completion)
 *   zs [-o json|table] <API> [name=value ...]
 *   zs login <account> [pw]   keeps the session 0600 in $XDG_CONFIG_HOME/zs (~/.config/zs)
 *   zs __complete "<line>"    completion candidates (used by tools/completion/zs.bash, _zs)
 * Exit status: 0 success, 1 the API failed or was unreachable, 2 bad command line. */
#include "cli.h"
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void print_candidate(const char *cand, void *arg)
{
    (void)arg;
    printf("%s\n", cand);
}

int cli_run(int argc, char **argv, cli_output_t out)
{
    while (argc >= 2 && strcmp(argv[0], "-o") == 0) {
        if (strcmp(argv[1], "json") == 0)
            out = CLI_OUT_JSON;
        else if (strcmp(argv[1], "table") == 0)
            out = CLI_OUT_TABLE;
        else {
            fprintf(stderr, "zs: -o takes json or table, not %s\n", argv[1]);
            return CLI_USAGE;
        }
        argc -= 2;
        argv += 2;
    }
    if (argc == 0 || strcmp(argv[0], "-o") == 0) {
        cli_usage(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[0];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || (strcmp(cmd, "help") == 0 && argc == 1)) {
        cli_usage(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "help") == 0)
        return argc == 2 ? cli_help_api(argv[1]) : (cli_usage(stderr), CLI_USAGE);
    if (strcmp(cmd, "list") == 0) {
        cli_list(argc > 1 ? argv[1] : NULL);
        return CLI_OK;
    }
    if (strcmp(cmd, "login") == 0)
        return cli_login(argc - 1, argv + 1, out);
    if (strcmp(cmd, "logout") == 0)
        return cli_logout();
    if (strcmp(cmd, "__complete") == 0) {
        cli_complete(argc > 1 ? argv[1] : "", print_candidate, NULL);
        return CLI_OK;
    }
    const zs_api_t *api = zs_api_find(cmd);
    if (!api || !api->method) {
        fprintf(stderr, "zs: no API or command named %s (zs --help, zs list)\n", cmd);
        return CLI_USAGE;
    }
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return cli_help_api(api->name);
    return cli_call(api, argc - 1, argv + 1, out);
}

int main(int argc, char **argv)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    int rc;
    if (argc == 2 && strcmp(argv[1], "--version") == 0) {
        printf("zs (zstack-global) %zu APIs\n", zs_api_count());
        rc = CLI_OK;
    } else if (argc == 1 || (argc == 3 && strcmp(argv[1], "-o") == 0)) {
        cli_output_t out = CLI_OUT_AUTO;
        if (argc == 3)
            out = strcmp(argv[2], "json") == 0 ? CLI_OUT_JSON : strcmp(argv[2], "table") == 0 ? CLI_OUT_TABLE : out;
        rc = cli_shell(out);
    } else {
        rc = cli_run(argc - 1, argv + 1, CLI_OUT_AUTO);
    }
    curl_global_cleanup();
    return rc;
}
