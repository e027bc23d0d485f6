/* cli_help.c — `zs --help`, `zs list`, `zs help <API>`, all from the API table. */
#define _GNU_SOURCE   /* strcasestr */
#include "cli.h"
#include <stdio.h>
#include <string.h>
#include <strings.h>

void cli_usage(FILE *to)
{
    fprintf(to,
        "zs — the command line of the ZStack system-global and ticket APIs\n"
        "\n"
        "usage:\n"
        "  zs                                  interactive shell (tab completes APIs, parameters, q= fields)\n"
        "  zs [-o json|table] <API> [name=value ...]\n"
        "                                      call an API; async ones are followed to their result\n"
        "  zs help <API>                       its parameters (types, required, allowed values) and query fields\n"
        "  zs list [text]                      every API (whose name contains text)\n"
        "  zs login <account> [password]       log in; the session is kept (0600) in $XDG_CONFIG_HOME/zs\n"
        "                                      (default ~/.config/zs); asks for the password when absent\n"
        "  zs logout                           end the kept session\n"
        "  zs --help | --version\n"
        "\n"
        "values are JSON when they parse as JSON (42, true, [\"a\",\"b\"], {...}), else text; a repeated\n"
        "name makes a list (q=state=Running q=name~=backup%%). Queries print aligned tables (fields=a,b picks\n"
        "the columns); -o json prints the answer as JSON for scripts.\n"
        "\n"
        "environment: ZS_URL (default: the URL of the kept session, else http://127.0.0.1:8080),\n"
        "             ZS_SESSION (a session uuid; wins over the kept one)\n"
        "exit status: 0 the API succeeded, 1 it failed or could not be reached, 2 bad command line\n");
}

void cli_list(const char *filter)
{
    for (size_t i = 0; i < zs_api_count(); i++) {
        const zs_api_t *a = zs_api_at(i);
        if (!a->method || (filter && !strcasestr(a->name, filter)))
            continue;
        printf("%-32s %-6s %s%s%s%s\n", a->name, a->method, a->flags & ZS_API_ROOT ? "" : "/zstack/v1",
               a->path, a->action ? "  " : "", a->action ? a->action : "");
    }
}

static const char *type_name(zs_ptype_t t)
{
    static const char *const names[] = {"string", "integer", "number", "boolean", "uuid",
                                        "list of strings", "object", "array", "any JSON",
                                        "IP or host name", "tag", "resource type"};
    return (size_t)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static const char *field_type(zs_ftype_t t)
{
    static const char *const names[] = {"string", "integer", "number", "boolean", "JSON",
                                        "date", "epoch ms"};
    return (size_t)t < sizeof names / sizeof names[0] ? names[t] : "?";
}

static void print_param(const zs_param_t *p)
{
    printf("  %-24s %-16s %s", p->name, type_name(p->type), p->required ? "required" : "optional");
    if (p->min || p->max) {
        bool text = p->type == ZS_P_STRING || p->type == ZS_P_ADDRESS || p->type == ZS_P_TAG
                    || p->type == ZS_P_RESOURCE_TYPE;
        const char *unit = text ? " chars" : p->type == ZS_P_INT ? "" : " items";
        if (p->max)
            printf(", %ld..%ld%s", p->min, p->max, unit);
        else
            printf(", at least %ld%s", p->min, unit);
    }
    if (p->choices) {
        printf(", one of:");
        for (const char *const *c = p->choices; *c; c++)
            printf(" %s", *c);
    }
    printf("\n");
}

int cli_help_api(const char *name)
{
    const zs_api_t *api = zs_api_find(name);
    if (!api || !api->method) {
        fprintf(stderr, "zs: no API named %s (zs list shows them)\n", name);
        return CLI_USAGE;
    }
    printf("%s  (%s)\n", api->name, api->klass ? api->klass : "-");
    printf("  %s %s%s%s%s%s\n", api->method, api->flags & ZS_API_ROOT ? "" : "/zstack/v1", api->path,
           api->action ? "  body key: " : "", api->action ? api->action : "",
           api->flags & ZS_API_ROOT ? "  (?Action=...)" : "");
    printf("  %s%s%s\n", api->flags & ZS_API_ASYNC ? "async (followed to its result)" : "sync",
           api->flags & ZS_API_NO_SESSION ? ", no session needed" : "",
           api->flags & ZS_API_ADMIN ? ", admin accounts only" : "");
    bool any = false;
    for (const zs_param_t *p = api->params; p && p->name; p++) {
        if (!any)
            printf("\nparameters:\n");
        any = true;
        print_param(p);
    }
    if (api->flags & ZS_API_CREATE)
        printf("  %-24s %-16s optional\n  %-24s %-16s optional\n", "systemTags", "list of strings",
               "userTags", "list of strings");
    if ((api->flags & ZS_API_QUERY) && api->resource) {
        printf("\nquery parameters:\n"
               "  q=<field><op><value>      repeatable; op: = != > >= < <= ?= (in, a,b) !?= ~= (like, %%) !~=\n"
               "                            also q=<field> is null, q=<field> not null\n"
               "  limit=N start=N           paging (default limit 1000)\n"
               "  sortBy=<field> sortDirection=asc|desc\n"
               "  fields=a,b                only these fields (and table columns)\n"
               "  count=true replyWithCount=true\n"
               "\nqueryable fields of %s:\n", api->resource->name);
        for (const zs_field_t *f = api->resource->fields; f->name; f++)
            if (!f->hidden)
                printf("  %-24s %s%s\n", f->name, field_type(f->type), f->indexed ? ", indexed" : "");
        for (const zs_join_t *j = api->resource->joins; j && j->name; j++)
            printf("  %-24s join to %s (q=%s.<field>...)\n", j->name, j->resource, j->name);
    }
    return CLI_OK;
}
