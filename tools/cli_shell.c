/* cli_shell.c — `zs` alone: an interactive shell over libedit (readline interface). */
#include "cli.h"
#include <editline/readline.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WORDS 256
#define HISTORY_LINES 1000

static char **found;   /* completion candidates of the current <TAB> */
static size_t nfound, next_found;

static void collect(const char *cand, void *arg)
{
    (void)arg;
    char **more = realloc(found, (nfound + 1) * sizeof *found);
    if (!more)
        return;
    found = more;
    found[nfound++] = strdup(cand);
}

static char *generate(const char *text, int state)
{
    (void)text;
    if (state == 0)
        next_found = 0;
    return next_found < nfound ? strdup(found[next_found++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    for (size_t i = 0; i < nfound; i++)
        free(found[i]);
    free(found);
    found = NULL;
    nfound = 0;
    char *line = strndup(rl_line_buffer, (size_t)end);
    if (line)
        cli_complete(line, collect, NULL);
    free(line);
    rl_attempted_completion_over = 1;   /* never fall back to file names */
    return nfound ? rl_completion_matches(text, generate) : NULL;
}

/* Splits `line` into words (in place): blanks separate, '...' and "..." group, \ escapes.
 * Returns the count, or -1 on an unclosed quote. */
static int split(char *line, char **words, int max)
{
    int n = 0;
    char *r = line, *w = line;
    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            return n;
        if (n == max)
            return -1;
        words[n++] = w;
        char quote = 0;
        while (*r && (quote || (*r != ' ' && *r != '\t'))) {
            if (quote && *r == quote) {
                quote = 0;
                r++;
            } else if (!quote && (*r == '\'' || *r == '"')) {
                quote = *r++;
            } else if (*r == '\\' && r[1] && quote != '\'') {
                *w++ = r[1];
                r += 2;
            } else {
                *w++ = *r++;
            }
        }
        if (quote)
            return -1;
        bool end = !*r;
        *w++ = '\0';
        if (end)
            return n;
        r++;
    }
}

int cli_shell(cli_output_t out)
{
    char dir[4000], history[4100] = "";
    if (cli_config_dir(dir, sizeof dir, true) == 0)
        snprintf(history, sizeof history, "%s/history", dir);
    rl_readline_name = "zs";
    rl_basic_word_break_characters = " \t";
    rl_completion_append_character = '\0';
    rl_attempted_completion_function = complete;
    using_history();
    stifle_history(HISTORY_LINES);
    if (*history)
        read_history(history);
    printf("zs shell on %s — <TAB> completes, 'help' lists commands, 'exit' or Ctrl-D leaves\n",
           cli_base_url());
    int rc = CLI_OK;
    char *line;
    while ((line = readline("zs> ")) != NULL) {
        char *words[MAX_WORDS];
        if (*line)
            add_history(line);
        int n = split(line, words, MAX_WORDS);
        if (n < 0) {
            fprintf(stderr, "zs: unclosed quote or too many words\n");
            rc = CLI_USAGE;
        } else if (n > 0 && (strcmp(words[0], "exit") == 0 || strcmp(words[0], "quit") == 0)) {
            free(line);
            break;
        } else if (n == 2 && strcmp(words[0], "output") == 0) {
            out = strcmp(words[1], "json") == 0 ? CLI_OUT_JSON : strcmp(words[1], "table") == 0 ? CLI_OUT_TABLE
                                                                                               : CLI_OUT_AUTO;
        } else if (n == 1 && strcmp(words[0], "help") == 0) {
            cli_usage(stdout);
            printf("\nin the shell: the same commands without 'zs'; 'output json|table|auto'; 'exit'\n");
        } else if (n > 0) {
            rc = cli_run(n, words, out);
            if (rc != CLI_OK)
                printf("(exit status %d)\n", rc);
        }
        fflush(stdout);
        free(line);
    }
    if (*history)
        write_history(history);
    for (size_t i = 0; i < nfound; i++)
        free(found[i]);
    free(found);
    return rc;
}
