/* resource.h — what a stored, queryable resource looks like: its fields, their types, which
 * are indexed, its joins. One static descriptor per resource (defined with the API table of
 * its domain, common/apis_<domain>.c, and declared in api.h); the store keeps indexes from it,
 * the query engine validates and compares with it, and replies are rendered through it.
 *
 * Records are jansson objects. Field values in a record, by type:
 *   ZS_FT_STRING  string            ZS_FT_INT   integer        ZS_FT_REAL  number
 *   ZS_FT_BOOL    true/false        ZS_FT_JSON  any JSON value (object, array...)
 *   ZS_FT_TIME    integer epoch ms in the record; rendered as ZStack's date string
 *   ZS_FT_EPOCH   integer epoch ms in the record; rendered as a JSON number
 * A field flagged `hidden` (a password hash...) is never rendered nor queryable.
 * Descriptors are immutable; any thread may use them.
 */
#ifndef ZS_RESOURCE_H
#define ZS_RESOURCE_H
#include <jansson.h>
#include <stdbool.h>

typedef enum {
    ZS_FT_STRING, ZS_FT_INT, ZS_FT_REAL, ZS_FT_BOOL, ZS_FT_JSON, ZS_FT_TIME, ZS_FT_EPOCH
} zs_ftype_t;

typedef struct {
    const char *name;
    zs_ftype_t type;
    bool indexed;      /* the store keeps a secondary index on it */
    bool hidden;       /* stored only: never rendered, never queryable */
} zs_field_t;

/* A dotted join: `q=<name>.<field>...` matches records whose `local` field equals the `remote`
 * field of a record of resource `resource` that matches the condition. */
typedef struct {
    const char *name;       /* "flowCollection" */
    const char *resource;   /* "TicketFlowCollection" */
    const char *local;      /* "flowCollectionUuid" */
    const char *remote;     /* "uuid" */
} zs_join_t;

/* The ZStack class of an object of a reply, for the `schema` map of X-JSON-Schema replies
 * (rest.md): the server class name the SDK maps to its own class, which members hold an
 * object or a list of objects of a class in turn (at any depth: the SDK leaves anything not
 * named in `schema` an untyped map), and a subclass for the objects that carry a given field
 * (a host added as KVM host is a KVMHostInventory). */
typedef struct zs_class zs_class_t;
typedef struct {
    const char *field;          /* a member holding an object or a list of objects... */
    const zs_class_t *klass;    /* ...of this class */
} zs_typed_t;
struct zs_class {
    const char *name;              /* "org.zstack.header.host.HostInventory" */
    const zs_typed_t *members;     /* typed members, terminated by {NULL}; NULL when none */
    const zs_class_t *variant;     /* the subclass of objects having `variant_field`, or NULL */
    const char *variant_field;
    /* The class's fields (ZStack's names, space-separated) our objects may lack: not
     * applicable here, or null (absent, rest.md) in some objects; inherited fields are the
     * base class's to list. Every other field of the class is always present. The OpenAPI
     * document publishes it; the SDK conformance test holds replies to it. NULL = none. */
    const char *may_lack;
};

typedef struct zs_resource {
    const char *name;         /* "SystemTag" */
    const char *collection;   /* LMDB database holding the records: "tags" */
    const char *fixed;        /* a condition every query of it carries ("type=System"), or NULL */
    const zs_class_t *klass;  /* class of its inventory (X-JSON-Schema), or NULL */
    const char *service;      /* owning service: "tags" */
    const char *vo;           /* ZStack resourceType of its records ("SystemTagVO"), or NULL */
    const zs_field_t *fields; /* terminated by a {NULL} entry; must include "uuid" */
    const zs_join_t *joins;   /* terminated by {NULL}, or NULL when none */
} zs_resource_t;

/* The field named `name`, or NULL (also NULL for hidden fields when `visible_only`). */
const zs_field_t *zs_resource_field(const zs_resource_t *res, const char *name, bool visible_only);

/* The join named `name`, or NULL. */
const zs_join_t *zs_resource_join(const zs_resource_t *res, const char *name);

/* A new JSON object: `rec` as clients see it — hidden fields dropped, TIME fields turned into
 * ZStack date strings, null fields omitted. When `fields` (a JSON array of names) is not NULL,
 * only those fields are kept. NULL when memory ran out. */
json_t *zs_resource_render(const zs_resource_t *res, const json_t *rec, const json_t *fields);

/* The account owning record `rec` of `res` (borrowed), or NULL when no account owns it
 * (admin-managed records): an account owns itself, else the record's accountUuid or
 * submitterUuid. */
const char *zs_record_owner(const zs_resource_t *res, const json_t *rec);

#endif
