/* cli_print.c — answers as aligned tables (queries) or indented JSON. */
#include "cli.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX 48   /* longer cells are cut ("…"); -o json shows everything */

/* The text of a scalar cell (malloc'd), or NULL for objects and arrays. */
static char *cell_text(const json_t *v)
{
    if (!v || json_is_null(v))
        return strdup("");
    if (json_is_string(v))
        return strdup(json_string_value(v));
    if (json_is_object(v) || json_is_array(v))
        return NULL;
    return json_dumps(v, JSON_ENCODE_ANY);
}

/* Display width of UTF-8 text (code points; good enough for the ASCII of inventories). */
static size_t width(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

static void cut(char *s)
{
    size_t n = 0;
    for (char *p = s; *p; p++) {
        if (((unsigned char)*p & 0xC0) != 0x80 && ++n > CELL_MAX) {
            strcpy(p, "…");
            return;
        }
    }
    for (char *p = s; *p; p++)   /* one line per row */
        if (*p == '\n' || *p == '\t' || *p == '\r')
            *p = ' ';
}

static void add_column(json_t *cols, const char *name)
{
    size_t i;
    json_t *c;
    json_array_foreach(cols, i, c)
        if (strcmp(json_string_value(c), name) == 0)
            return;
    json_array_append_new(cols, json_string(name));
}

/* The columns: `fields` when given; else scalar fields seen in rows, resource order first. */
static json_t *columns_of(const zs_api_t *api, const json_t *rows, const json_t *fields)
{
    if (json_array_size(fields))
        return json_deep_copy(fields);
    json_t *cols = json_array();
    size_t i;
    json_t *row;
    if (api && api->resource)
        for (const zs_field_t *f = api->resource->fields; f->name; f++)
            json_array_foreach(rows, i, row) {
                json_t *v = json_object_get(row, f->name);
                if (v && !json_is_object(v) && !json_is_array(v)) {
                    add_column(cols, f->name);
                    break;
                }
            }
    json_array_foreach(rows, i, row) {
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)row, k, v)
            if (!json_is_object(v) && !json_is_array(v))
                add_column(cols, k);
    }
    return cols;
}

static void print_table(const zs_api_t *api, const json_t *rows, const json_t *fields)
{
    json_t *cols = columns_of(api, rows, fields);
    size_t ncol = json_array_size(cols), nrow = json_array_size(rows);
    if (ncol == 0) {
        printf("(%zu rows)\n", nrow);
        json_decref(cols);
        return;
    }
    size_t *w = calloc(ncol, sizeof *w);
    char **cells = calloc(ncol * (nrow ? nrow : 1), sizeof *cells);
    for (size_t c = 0; c < ncol; c++) {
        const char *name = json_string_value(json_array_get(cols, c));
        w[c] = width(name);
        for (size_t r = 0; r < nrow; r++) {
            char *t = cell_text(json_object_get(json_array_get(rows, r), name));
            if (!t)
                t = strdup("{…}");
            cut(t);
            cells[r * ncol + c] = t;
            if (width(t) > w[c])
                w[c] = width(t);
        }
    }
    for (size_t c = 0; c < ncol; c++) {
        const char *name = json_string_value(json_array_get(cols, c));
        printf("%s%-*s", c ? "  " : "", c + 1 < ncol ? (int)w[c] : 0, name);
    }
    printf("\n");
    for (size_t c = 0; c < ncol; c++) {
        printf("%s", c ? "  " : "");
        for (size_t k = 0; k < w[c]; k++)
            putchar('-');
    }
    printf("\n");
    for (size_t r = 0; r < nrow; r++) {
        for (size_t c = 0; c < ncol; c++) {
            const char *t = cells[r * ncol + c];
            size_t pad = c + 1 < ncol ? w[c] - width(t) : 0;
            printf("%s%s%*s", c ? "  " : "", t, (int)pad, "");
            free(cells[r * ncol + c]);
        }
        printf("\n");
    }
    free(cells);
    free(w);
    json_decref(cols);
}

void cli_print(const zs_api_t *api, const json_t *body, const json_t *fields, bool ok, cli_output_t out)
{
    if (!ok) {
        const json_t *e = json_object_get(body, "error");
        if (out != CLI_OUT_JSON && e) {
            fprintf(stderr, "zs: %s: %s%s%s\n", json_string_value(json_object_get(e, "code")) ?: "error",
                    json_string_value(json_object_get(e, "description")) ?: "",
                    json_object_get(e, "details") ? ": " : "",
                    json_string_value(json_object_get(e, "details")) ?: "");
        } else {   /* -o json: scripts read the error body where they read answers */
            char *text = body ? json_dumps(body, JSON_INDENT(2)) : NULL;
            fprintf(text ? stdout : stderr, "%s\n", text ? text : "zs: the answer was not JSON");
            free(text);
        }
        return;
    }
    const json_t *rows = json_object_get(body, "inventories");
    bool query = api && (api->flags & ZS_API_QUERY);
    if (out == CLI_OUT_TABLE || (out == CLI_OUT_AUTO && query && json_is_array(rows))) {
        if (json_is_array(rows)) {
            print_table(api, rows, fields);
            const json_t *total = json_object_get(body, "total");
            if (json_is_integer(total))
                printf("(%lld in all)\n", (long long)json_integer_value(total));
            return;
        }
        const json_t *inv = json_object_get(body, "inventory");
        if (json_is_object(inv)) {   /* one record: a two-column table of its fields */
            json_t *one = json_pack("[O]", inv);
            print_table(api, one, fields);
            json_decref(one);
            return;
        }
    }
    char *text = body ? json_dumps(body, JSON_INDENT(2)) : NULL;
    printf("%s\n", text ? text : "{}");
    free(text);
}
