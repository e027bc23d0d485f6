/* target.c — see target.h. */
#include "target.h"
#include "config.h"
#include <arpa/inet.h>
#include <ctype.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* An address as 16 bytes (IPv4 as ::ffff:a.b.c.d), so one prefix test serves both. */
typedef struct {
    unsigned char b[16];
} addr16_t;

static void from_v4(addr16_t *a, const struct in_addr *v4)
{
    memset(a->b, 0, 10);
    a->b[10] = a->b[11] = 0xff;
    memcpy(a->b + 12, v4, 4);
}

static bool is_v4(const addr16_t *a)
{
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return memcmp(a->b, mapped, 12) == 0;
}

static bool in_prefix(const addr16_t *a, const addr16_t *net, int bits)
{
    for (int i = 0; i < 16 && bits > 0; i++, bits -= 8) {
        unsigned char mask = bits >= 8 ? 0xff : (unsigned char)(0xff << (8 - bits));
        if ((a->b[i] & mask) != (net->b[i] & mask))
            return false;
    }
    return true;
}

/* "a.b.c.d/n" or "x::y/n" (no "/n": a single address) into net/bits (IPv4 bits + 96). */
static bool parse_cidr(const char *text, addr16_t *net, int *bits)
{
    char buf[INET6_ADDRSTRLEN + 8];
    snprintf(buf, sizeof buf, "%s", text);
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = '\0';
    struct in_addr v4;
    struct in6_addr v6;
    int max;
    if (inet_pton(AF_INET, buf, &v4) == 1) {
        from_v4(net, &v4);
        max = 32;
    } else if (inet_pton(AF_INET6, buf, &v6) == 1) {
        memcpy(net->b, &v6, 16);
        max = 128;
    } else {
        return false;
    }
    char *end = NULL;
    long n = slash ? strtol(slash + 1, &end, 10) : max;
    if ((slash && (*end || end == slash + 1)) || n < 0 || n > max)
        return false;
    *bits = (int)n + (max == 32 ? 96 : 0);
    return true;
}

typedef struct {
    const char *cidr, *why;
    addr16_t net;   /* cidr parsed, once (parse_ranges): each delivery is judged, and */
    int bits;       /* parsing the table each time was a visible share of the broker's CPU */
} range_t;

/* Refused unless allowed (target.h). */
static range_t private_ranges[] = {
    {.cidr = "0.0.0.0/8", .why = "a 'this network' address"},
    {.cidr = "10.0.0.0/8", .why = "a private address"},
    {.cidr = "100.64.0.0/10", .why = "a shared (CGNAT) address"},
    {.cidr = "169.254.0.0/16", .why = "a link-local address (cloud metadata lives there)"},
    {.cidr = "172.16.0.0/12", .why = "a private address"},
    {.cidr = "192.0.0.0/24", .why = "an IETF protocol address"},
    {.cidr = "192.168.0.0/16", .why = "a private address"},
    {.cidr = "198.18.0.0/15", .why = "a benchmarking address"},
    {.cidr = "224.0.0.0/3", .why = "a multicast or reserved address"},
    {.cidr = "::/128", .why = "the unspecified address"},
    {.cidr = "64:ff9b::/96", .why = "a NAT64 address"},
    {.cidr = "fc00::/7", .why = "a unique-local address"},
    {.cidr = "fe80::/10", .why = "a link-local address"},
    {.cidr = "ff00::/8", .why = "a multicast address"},
    {.cidr = NULL},
};
static range_t loopback_ranges[] = {
    {.cidr = "127.0.0.0/8", .why = "a loopback address"},
    {.cidr = "::1/128", .why = "a loopback address"},
    {.cidr = NULL},
};

static pthread_once_t ranges_parsed = PTHREAD_ONCE_INIT;

static void parse_table(range_t *r)
{
    for (; r->cidr; r++)
        if (!parse_cidr(r->cidr, &r->net, &r->bits))
            abort();   /* the tables above are constants: a typo there is a build defect */
}

static void parse_ranges(void)
{
    parse_table(private_ranges);
    parse_table(loopback_ranges);
}

static const char *in_ranges(const addr16_t *a, const range_t *r)
{
    pthread_once(&ranges_parsed, parse_ranges);
    for (; r->cidr; r++)
        if (in_prefix(a, &r->net, r->bits))
            return r->why;
    return NULL;
}

static bool truthy(const char *v)
{
    return v && (strcasecmp(v, "true") == 0 || strcmp(v, "1") == 0 || strcasecmp(v, "yes") == 0);
}

/* `a` as text into text[INET6_ADDRSTRLEN] (IPv4 dotted when mapped); returns text. */
static const char *address_text(const addr16_t *a, char *text)
{
    if (is_v4(a))
        inet_ntop(AF_INET, a->b + 12, text, INET6_ADDRSTRLEN);
    else
        inet_ntop(AF_INET6, a->b, text, INET6_ADDRSTRLEN);
    return text;
}

/* The policy for an address (and the URL's host name, for listed names). */
static bool allowed(const char *host, const addr16_t *a, char *why, size_t size)
{
    const char *allow = zs_config_get("webhook.allow", NULL);
    if (allow && *allow) {
        char list[2048];
        snprintf(list, sizeof list, "%s", allow);
        for (char *save, *e = strtok_r(list, ", ", &save); e; e = strtok_r(NULL, ", ", &save)) {
            addr16_t net;
            int bits;
            if (parse_cidr(e, &net, &bits) ? in_prefix(a, &net, bits) : host && strcasecmp(e, host) == 0)
                return true;
        }
        char text[INET6_ADDRSTRLEN];
        snprintf(why, size, "%s (%s) is not in the webhook allow-list", address_text(a, text),
                 host ? host : "?");
        return false;
    }
    const char *bad = in_ranges(a, private_ranges);
    if (!bad && !truthy(zs_config_get("webhook.allow-loopback", NULL)))
        bad = in_ranges(a, loopback_ranges);
    if (!bad)
        return true;
    char text[INET6_ADDRSTRLEN];
    snprintf(why, size, "%s (%s) is %s; list it in webhook.allow to send hooks there",
             address_text(a, text), host ? host : "?", bad);
    return false;
}

bool target_address_allowed(const char *host, const struct sockaddr *sa, char *why, size_t size)
{
    addr16_t a;
    if (sa->sa_family == AF_INET) {
        from_v4(&a, &((const struct sockaddr_in *)sa)->sin_addr);
    } else if (sa->sa_family == AF_INET6) {
        memcpy(a.b, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
    } else {
        snprintf(why, size, "hooks go over IPv4 or IPv6 only");
        return false;
    }
    return allowed(host, &a, why, size);
}

const char *target_url_refusal(const char *url, char *host_out, size_t size)
{
    static _Thread_local char why[256];
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    const char *refusal = NULL;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        refusal = "the URL cannot be parsed";
    else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK
             || (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
        refusal = "only http and https URLs are accepted";
    else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK || !*host)
        refusal = "the URL has no usable host";
    if (!refusal) {
        char name[256];
        size_t n = strlen(host);
        if (host[0] == '[' && n > 2 && host[n - 1] == ']')   /* [v6] */
            snprintf(name, sizeof name, "%.*s", (int)(n - 2), host + 1);
        else
            snprintf(name, sizeof name, "%s", host);
        for (char *c = name; *c; c++)
            *c = (char)tolower((unsigned char)*c);
        size_t len = strlen(name);
        if (len > 1 && name[len - 1] == '.')   /* "127.0.0.3." is still that address */
            name[len - 1] = '\0';
        if (host_out)
            snprintf(host_out, size, "%s", name);
        struct in_addr v4;
        struct in6_addr v6;
        addr16_t a;
        bool literal = false;
        if (inet_pton(AF_INET, name, &v4) == 1) {
            from_v4(&a, &v4);
            literal = true;
        } else if (inet_pton(AF_INET6, name, &v6) == 1) {
            memcpy(a.b, &v6, 16);
            literal = true;
        }
        if (literal && !allowed(name, &a, why, sizeof why))
            refusal = why;
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return refusal;
}
