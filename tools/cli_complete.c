/* cli_complete.c — completion candidates from the API table (shared by the interactive
 * shell and the `zs __complete` helper behind the bash and zsh scripts). */
#include "cli.h"
#include <stdio.h>
#include <string.h>

static const char *const commands[] = {"help", "list", "login", "logout", NULL};
static const char *const query_params[] = {"q", "limit", "start", "sortBy", "sortDirection",
                                           "fields", "count", "replyWithCount", NULL};

static bool starts(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static void offer(const char *cand, const char *prefix, const char *suffix,
                  void (*emit)(const char *, void *), void *arg)
{
    char word[512];
    snprintf(word, sizeof word, "%s%s", cand, suffix);
    if (starts(word, prefix))
        emit(word, arg);
}

static void api_names(const char *word, void (*emit)(const char *, void *), void *arg)
{
    for (size_t i = 0; i < zs_api_count(); i++)
        if (zs_api_at(i)->method)
            offer(zs_api_at(i)->name, word, " ", emit, arg);
}

void cli_complete(const char *line, void (*emit)(const char *candidate, void *arg), void *arg)
{
    char words[8][256];
    int n = 0;
    const char *p = line;
    /* the words before the last one (at most 8 are looked at); skip -o <format> */
    for (;;) {
        while (*p == ' ')
            p++;
        size_t len = strcspn(p, " ");
        if (p[len] == '\0')
            break;   /* the last word: the one being completed */
        if (n < 8)
            snprintf(words[n++], sizeof words[0], "%.*s", (int)len, p);
        p += len;
    }
    const char *word = p;
    int first = 0;
    while (first + 1 < n && strcmp(words[first], "-o") == 0)
        first += 2;
    if (first < n && strcmp(words[first], "-o") == 0) {   /* completing the format itself */
        offer("json", word, " ", emit, arg);
        offer("table", word, " ", emit, arg);
        return;
    }
    if (first >= n) {
        for (const char *const *c = commands; *c; c++)
            offer(*c, word, " ", emit, arg);
        api_names(word, emit, arg);
        return;
    }
    const char *cmd = words[first];
    if (strcmp(cmd, "help") == 0) {
        if (n - first == 1)
            api_names(word, emit, arg);
        return;
    }
    const zs_api_t *api = zs_api_find(cmd);
    if (!api || !api->method)
        return;
    if (starts(word, "q=") && api->resource) {
        char cand[300];
        for (const zs_field_t *f = api->resource->fields; f->name; f++) {
            if (f->hidden)
                continue;
            snprintf(cand, sizeof cand, "q=%s", f->name);
            offer(cand, word, "", emit, arg);
        }
        for (const zs_join_t *j = api->resource->joins; j && j->name; j++) {
            snprintf(cand, sizeof cand, "q=%s.", j->name);
            offer(cand, word, "", emit, arg);
        }
        return;
    }
    if (strchr(word, '='))
        return;   /* a value: nothing to offer */
    for (const zs_param_t *q = api->params; q && q->name; q++)
        offer(q->name, word, "=", emit, arg);
    if (api->flags & ZS_API_QUERY)
        for (const char *const *q = query_params; *q; q++)
            offer(*q, word, "=", emit, arg);
}
