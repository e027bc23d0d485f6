/* cli.h — the pieces of `zs`, the operator's command line (tools/zs.c is its main).
 *
 * Everything it knows about APIs comes from the API table (common/api.h): commands, their
 * parameters, types and allowed values, query fields. Single-threaded; nothing here is
 * shared between threads.
 *
 * Exit status of a command: CLI_OK (0) the API answered 2xx, CLI_FAILED (1) it answered an
 * error or could not be reached, CLI_USAGE (2) the command line was wrong.
 */
#ifndef ZS_CLI_H
#define ZS_CLI_H
#include "api.h"
#include <stdbool.h>

enum { CLI_OK = 0, CLI_FAILED = 1, CLI_USAGE = 2 };

typedef enum { CLI_OUT_AUTO, CLI_OUT_JSON, CLI_OUT_TABLE } cli_output_t;

/* ---- cli_call.c: calling APIs, the stored session ------------------------------------ */

/* The suite's URL: $ZS_URL, else the one stored by `zs login`, else http://127.0.0.1:8080.
 * Static storage. */
const char *cli_base_url(void);

/* The session uuid: $ZS_SESSION, else the stored one when it was issued by cli_base_url()
 * (a kept session is never sent to another suite), else NULL. Static storage. */
const char *cli_session(void);

/* The folder of zs's files ($XDG_CONFIG_HOME/zs or ~/.config/zs), created 0700 when `make`.
 * Writes it to out[size]; returns 0, or -1 when there is no home to put it in. */
int cli_config_dir(char *out, size_t size, bool make);

/* Calls `api` with argv's name=value words (values are JSON when they parse as JSON, else
 * strings; a repeated name makes a list). Async APIs are followed to their result. Prints
 * the answer as `out` says. Returns a CLI_* status. */
int cli_call(const zs_api_t *api, int argc, char **argv, cli_output_t out);

/* zs login <account> [password]: hashes the password (asks for it on the terminal when
 * absent), logs in, stores {url, session, account} 0600 in the config folder. */
int cli_login(int argc, char **argv, cli_output_t out);

/* zs logout: ends the stored session on the server and forgets it. */
int cli_logout(void);

/* ---- cli_print.c: output -------------------------------------------------------------- */

/* Prints an API's answer. Query answers ({"inventories": [...]}) become an aligned table
 * (columns: `fields` when given — a JSON array of names, else every scalar field seen, in
 * the resource's order) unless `out` is CLI_OUT_JSON; anything else is indented JSON. An
 * error answer goes to stderr as one line ("zs: CODE: description: details"), or with
 * CLI_OUT_JSON as the JSON body on stdout. `body` is borrowed. */
void cli_print(const zs_api_t *api, const json_t *body, const json_t *fields, bool ok, cli_output_t out);

/* ---- cli_help.c: help ----------------------------------------------------------------- */

void cli_usage(FILE *to);
/* Lists every API, one line each; `filter` (a substring, case-insensitive) or NULL. */
void cli_list(const char *filter);
/* zs help <API>: its route, flags, parameters (type, required, bounds, allowed values) and,
 * for queries, the queryable fields. Returns a CLI_* status. */
int cli_help_api(const char *name);

/* ---- cli_complete.c: completion --------------------------------------------------------- */

/* Candidates for the last word of `line` (the text up to the cursor; words are separated by
 * spaces): commands and API names for the first word, API names after `help`, parameter
 * names ("name=") after an API, queryable fields after "q=" ("q=field"). Each candidate is a
 * whole word; those that end a word end with a space. `emit` is called for each. */
void cli_complete(const char *line, void (*emit)(const char *candidate, void *arg), void *arg);

/* ---- cli_shell.c: interactive mode ---------------------------------------------------- */

/* The interactive shell (libedit): line editing, history kept in the config folder, tab
 * completion. Returns the status of the last command. */
int cli_shell(cli_output_t out);

/* Runs one command line given as words (what main and the shell share). */
int cli_run(int argc, char **argv, cli_output_t out);

#endif
