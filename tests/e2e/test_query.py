"""The query language of rest.md ("Query APIs") through the real gateway, on system tags, user
tags, accounts and management nodes: every operator and parameter, the 400 errors, tag
conditions on accounts, and the proof (from zs-tags' debug log) that an indexed query reads
only the records it returns.

Every query is scoped by a resourceType or name prefix of this module's own, so that records
other tests create in the shared stack cannot change the answers."""
import calendar
import os
import re
import time
import urllib.parse
import uuid as uuidlib

from zstest import wait_for

RT = "QueryProbeVO"        # resource type of this module's tags (outside the suite: accepted as given)
BIG_RT = "QueryBulkVO"     # 1040 tags, for the default limit
R1, R2, R3 = ("%032x" % (0xA1 + i) for i in range(3))
TAGS = {R1: ["qp::alpha", "qp::beta", "qp::k=v"], R2: ["qp::gamma", "qp::x>y"], R3: ["qp::a_c", "qp::abc"]}
BIG = [("%032x" % (0xB0 + i), ["qb::%04d" % (i * 260 + j) for j in range(260)]) for i in range(4)]
SETUP = {}


def query(ctx, path, *params, session=None):
    """GET path with the given (name, value) parameters, repeated names allowed."""
    qs = urllib.parse.urlencode(list(params), quote_via=urllib.parse.quote)
    return ctx.get(path + ("?" + qs if qs else ""), session=session)


def ok(ctx, path, *params, session=None):
    r = query(ctx, path, *params, session=session)
    assert r.status == 200, (params, r)
    return r.body


def tags_of(body):
    return sorted(i["tag"] for i in body["inventories"])


def bad(ctx, path, *params, naming):
    r = query(ctx, path, *params)
    assert r.status == 400, (params, r)
    assert r.error["code"] == "SYS.1007", r
    assert naming in r.error["details"], (naming, r.error)
    return r.error["details"]


def setup(ctx):
    if SETUP:
        return SETUP
    for ruuid, tags in TAGS.items():
        r = ctx.call("POST", "/system-tags/%s/tags" % ruuid, {"params": {"resourceType": RT, "tags": tags}})
        assert r.status == 200, r
    for ruuid, tags in BIG:
        r = ctx.call("POST", "/system-tags/%s/tags" % ruuid, {"params": {"resourceType": BIG_RT, "tags": tags}})
        assert r.status == 200, r
    for ruuid, tag in ((R1, "qp::user-one"), (R2, "qp::user-two")):
        r = ctx.call("POST", "/user-tags", {"params": {"resourceType": RT, "resourceUuid": ruuid, "tag": tag}})
        assert r.status == 200, r
    SETUP["all"] = ok(ctx, "/system-tags", ("q", "resourceType=" + RT))["inventories"]
    return SETUP


def scoped(ctx, *conds, path="/system-tags", extra=()):
    return ok(ctx, path, ("q", "resourceType=" + RT), *[("q", c) for c in conds], *extra)


# -- operators ---------------------------------------------------------------------------------

def test_query_equality_and_split_order(ctx):
    setup(ctx)
    assert tags_of(scoped(ctx)) == sorted(sum(TAGS.values(), []))
    assert tags_of(scoped(ctx, "tag=qp::alpha")) == ["qp::alpha"]
    assert tags_of(scoped(ctx, "tag!=qp::alpha")) == sorted(t for t in sum(TAGS.values(), []) if t != "qp::alpha")
    # the value may hold '=' and '>': "=" is tried before ">" and the split is at its first occurrence
    assert tags_of(scoped(ctx, "tag=qp::k=v")) == ["qp::k=v"]
    assert tags_of(scoped(ctx, "tag=qp::x>y")) == ["qp::x>y"]
    # "!=" is tried before "=": "tag=qp::k!=v" is field "tag=qp::k" != "v" -> unknown field, named
    bad(ctx, "/system-tags", ("q", "tag=qp::k!=v"), naming="field[tag=qp::k]")
    bad(ctx, "/system-tags", ("q", "tag=a>=b"), naming="field[tag=a]")
    # ">" and "<" (strings bytewise); "=" is tried before ">", so "tag>qp::k=v" names field "tag>qp::k"
    assert tags_of(scoped(ctx, "tag>qp::l")) == ["qp::x>y"]
    bad(ctx, "/system-tags", ("q", "tag>qp::k=v"), naming="field[tag>qp::k]")
    assert tags_of(scoped(ctx, "tag<qp::abc")) == ["qp::a_c"]
    assert tags_of(scoped(ctx, "tag>=qp::gamma", "tag<=qp::k=v")) == ["qp::gamma", "qp::k=v"]
    assert tags_of(scoped(ctx, "resourceUuid=" + R2)) == ["qp::gamma", "qp::x>y"]
    assert scoped(ctx, "tag=qp::nothing")["inventories"] == []


def test_query_in_and_not_in(ctx):
    setup(ctx)
    assert tags_of(scoped(ctx, "tag?=qp::alpha,qp::gamma,qp::none")) == ["qp::alpha", "qp::gamma"]
    assert tags_of(scoped(ctx, "resourceUuid!?=%s,%s" % (R1, R2))) == ["qp::a_c", "qp::abc"]
    assert tags_of(scoped(ctx, "tag?=qp::beta")) == ["qp::beta"]


def test_query_like(ctx):
    setup(ctx)
    assert tags_of(scoped(ctx, "tag~=qp::a%")) == ["qp::a_c", "qp::abc", "qp::alpha"]
    assert tags_of(scoped(ctx, "tag~=%a")) == ["qp::alpha", "qp::beta", "qp::gamma"]
    # '_' is exactly one character: matches both "a_c" and "abc"; "%" also matches nothing
    assert tags_of(scoped(ctx, "tag~=qp::a_c")) == ["qp::a_c", "qp::abc"]
    assert tags_of(scoped(ctx, "tag~=qp::abc%")) == ["qp::abc"]
    assert tags_of(scoped(ctx, "tag~=qp::_____")) == ["qp::alpha", "qp::gamma"]
    assert tags_of(scoped(ctx, "tag!~=qp::%a%", "resourceUuid=" + R1)) == ["qp::k=v"]


def test_query_null_forms_on_accounts(ctx):
    tag = uuidlib.uuid4().hex[:8]
    with_desc = ctx.call("POST", "/accounts", {"params": {"name": "qn-%s-d" % tag, "password": "password-123",
                                                          "description": "has one"}})
    assert with_desc.status == 200, with_desc
    without = ctx.create_account("qn-%s-n" % tag)
    mine = ("q", "name~=qn-%s-%%" % tag)

    def names(*conds):
        body = ok(ctx, "/accounts", mine, *[("q", c) for c in conds])
        return sorted(a["name"] for a in body["inventories"])
    d, n = "qn-%s-d" % tag, without["name"]
    assert names() == [d, n]
    assert names("description is null") == [n]
    assert names("description=null") == [n]            # the seed's form
    assert names("description not null") == [d]
    assert names("description!=null") == [d]
    # like SQL, a null field satisfies no comparison, negated ones included
    assert names("description!=other") == [d]


def test_query_numbers_and_booleans(ctx):
    setup(ctx)
    assert len(scoped(ctx, "inherent=false")["inventories"]) == 7
    assert scoped(ctx, "inherent=true")["inventories"] == []
    assert len(scoped(ctx, "inherent!=true")["inventories"]) == 7
    bad(ctx, "/system-tags", ("q", "inherent=maybe"), naming="inherent")
    # integers: the management nodes' pid
    nodes = ok(ctx, "/management-nodes")["inventories"]
    assert nodes and all(isinstance(n["pid"], int) for n in nodes), nodes
    pid = nodes[0]["pid"]
    assert [n["uuid"] for n in ok(ctx, "/management-nodes", ("q", "pid=%d" % pid))["inventories"]] == [nodes[0]["uuid"]]
    assert all(n["pid"] > pid for n in ok(ctx, "/management-nodes", ("q", "pid>%d" % pid))["inventories"])
    assert len(ok(ctx, "/management-nodes", ("q", "pid>=1"))["inventories"]) == len(nodes)
    bad(ctx, "/management-nodes", ("q", "pid>12x"), naming="is not an integer")


def test_query_timestamps_in_three_forms(ctx):
    setup(ctx)
    first = ok(ctx, "/system-tags", ("q", "resourceType=" + RT), ("sort", "+createDate"))["inventories"][0]
    json_form = first["createDate"]                      # "Jan 6, 2017 3:51:16 AM"
    t = time.strptime(json_form, "%b %d, %Y %I:%M:%S %p")
    sql_form = time.strftime("%Y-%m-%d %H:%M:%S", t)
    epoch_ms = calendar.timegm(t) * 1000                 # the suite renders UTC
    total = len(SETUP["all"])
    for form in (json_form, sql_form, str(epoch_ms)):
        # the rendered date is cut to the second, so the tag lies in [form, form + 1 s)
        assert len(scoped(ctx, "createDate>=" + form)["inventories"]) == total, form
        assert scoped(ctx, "createDate<" + form)["inventories"] == [], form
    assert first["uuid"] in [i["uuid"] for i in
                             scoped(ctx, "createDate>=" + str(epoch_ms), "createDate<" + str(epoch_ms + 1000))["inventories"]]
    assert scoped(ctx, "createDate>2100-01-01 00:00:00")["inventories"] == []
    assert len(scoped(ctx, "createDate<Jan 1, 2100 12:00:00 AM")["inventories"]) == total
    assert len(scoped(ctx, "createDate~=%s%%" % sql_form[:4])["inventories"]) >= 1   # LIKE reads SQL form
    bad(ctx, "/system-tags", ("q", "createDate>yesterday"), naming="is not a timestamp")


# -- parameters --------------------------------------------------------------------------------

def test_query_limit_start_count(ctx):
    setup(ctx)
    big = ("q", "resourceType=" + BIG_RT)
    body = ok(ctx, "/system-tags", big)
    assert len(body["inventories"]) == 1000 and "total" not in body        # default limit
    assert len(ok(ctx, "/system-tags", big, ("limit", "100000"))["inventories"]) == 1040
    body = ok(ctx, "/system-tags", big, ("limit", "3"), ("start", "1038"), ("replyWithCount", "true"))
    assert body["total"] == 1040 and len(body["inventories"]) == 2, body
    assert ok(ctx, "/system-tags", big, ("count", "true")) == {"total": 1040}
    assert ok(ctx, "/system-tags", big, ("q", "tag~=qb::00%"), ("count", "true")) == {"total": 100}
    page = ok(ctx, "/system-tags", big, ("sort", "+tag"), ("start", "10"), ("limit", "5"))["inventories"]
    assert [i["tag"] for i in page] == ["qb::%04d" % i for i in range(10, 15)]
    assert ok(ctx, "/system-tags", big, ("limit", "0"), ("replyWithCount", "true")) == {"inventories": [], "total": 1040}
    bad(ctx, "/system-tags", ("limit", "100001"), naming="limit")
    bad(ctx, "/system-tags", ("limit", "ten"), naming="query parameter[limit]")
    bad(ctx, "/system-tags", ("limit", "-1"), naming="query parameter[limit]")
    bad(ctx, "/system-tags", ("start", "1.5"), naming="query parameter[start]")
    bad(ctx, "/system-tags", ("count", "yes"), naming="query parameter[count]")


def test_query_sort_both_spellings(ctx):
    setup(ctx)
    every = sorted(sum(TAGS.values(), []))
    asc = [("sort", "+tag")], [("sort", "tag")], [("sortBy", "tag"), ("sortDirection", "asc")], [("sortBy", "tag")]
    desc = [("sort", "-tag")], [("sortBy", "tag"), ("sortDirection", "desc")]
    for extra in asc:
        assert [i["tag"] for i in scoped(ctx, extra=extra)["inventories"]] == every, extra
    for extra in desc:
        assert [i["tag"] for i in scoped(ctx, extra=extra)["inventories"]] == every[::-1], extra
    # a raw '+' in the URL decodes to a space and still means ascending
    r = ctx.get("/system-tags?q=resourceType=%s&sort=+tag" % RT)
    assert [i["tag"] for i in r.body["inventories"]] == every, r
    bad(ctx, "/system-tags", ("sort", "-nosuch"), naming="nosuch")
    bad(ctx, "/system-tags", ("sortBy", "tag"), ("sortDirection", "up"), naming="sortDirection")


def test_query_fields_comma_and_repeated(ctx):
    setup(ctx)
    for extra in ([("fields", "uuid,tag")], [("fields", "uuid"), ("fields", "tag")], [("fields", "uuid, tag")]):
        invs = scoped(ctx, extra=extra)["inventories"]
        assert invs and all(set(i) == {"uuid", "tag"} for i in invs), (extra, invs[:2])
    bad(ctx, "/system-tags", ("fields", "uuid,nosuch"), naming="nosuch")
    bad(ctx, "/system-tags", ("fields", "accountUuid"), naming="accountUuid")    # hidden field


def test_query_group_by(ctx):
    setup(ctx)
    body = scoped(ctx, extra=[("groupBy", "resourceUuid"), ("count", "true")])
    assert body["total"] == 7
    assert body["groups"] == [{"resourceUuid": R1, "count": 3}, {"resourceUuid": R2, "count": 2},
                              {"resourceUuid": R3, "count": 2}], body
    invs = scoped(ctx, extra=[("groupBy", "resourceUuid")])["inventories"]
    assert sorted(i["resourceUuid"] for i in invs) == [R1, R2, R3]
    body = scoped(ctx, extra=[("groupBy", "resourceUuid"), ("count", "true"), ("sort", "-resourceUuid"), ("limit", "1")])
    assert body["groups"] == [{"resourceUuid": R3, "count": 2}], body


def test_query_one_by_uuid_and_user_tags(ctx):
    setup(ctx)
    one = SETUP["all"][0]
    assert ok(ctx, "/system-tags/" + one["uuid"])["inventories"] == [one]
    assert ok(ctx, "/system-tags/" + "0" * 32) == {"inventories": []}
    assert ok(ctx, "/system-tags/" + one["uuid"], ("q", "tag=other")) == {"inventories": []}
    assert ok(ctx, "/system-tags/a!=b") == {"inventories": []}         # no condition syntax in a path
    users = ok(ctx, "/user-tags", ("q", "resourceType=" + RT))["inventories"]
    assert sorted(u["tag"] for u in users) == ["qp::user-one", "qp::user-two"]
    assert all(u["type"] == "User" and "inherent" not in u for u in users)
    assert ok(ctx, "/user-tags/" + users[0]["uuid"])["inventories"] == [users[0]]
    assert tags_of(ok(ctx, "/user-tags", ("q", "resourceType=" + RT), ("q", "tag~=%two"))) == ["qp::user-two"]
    # user tags have no "inherent": a typo is an error, never a silent empty result
    bad(ctx, "/user-tags", ("q", "inherent=false"), naming="field[inherent]")


def test_query_errors_name_what_is_wrong(ctx):
    bad(ctx, "/system-tags", ("q", "tga=x"), naming="field[tga]")
    bad(ctx, "/accounts", ("q", "nmae=admin"), naming="field[nmae]")
    bad(ctx, "/accounts", ("q", "passwordHash!=x"), naming="field[passwordHash]")   # hidden: not queryable
    bad(ctx, "/system-tags", ("q", "justtext"), naming="condition[justtext]")
    bad(ctx, "/system-tags", ("q", "=x"), naming="no field name")
    bad(ctx, "/system-tags", ("q", "tag=x"), ("q", "nosuch.field=1"), naming="nosuch")
    bad(ctx, "/system-tags", *[("q", "tag!=x%d" % i) for i in range(65)], naming="at most 64")
    assert ok(ctx, "/system-tags", *[("q", "tag!=x%d" % i) for i in range(64)], ("limit", "1"))
    bad(ctx, "/system-tags", ("q", "tag=" + "x" * 4100), naming="longer than 4096")
    bad(ctx, "/system-tags", ("q", "__systemTag__ is null"), naming="__systemTag__")
    bad(ctx, "/system-tags", ("groupBy", "nosuch"), naming="groupBy")


# -- tag conditions on another service's resource ------------------------------------------------

def test_query_tag_conditions_on_accounts(ctx):
    tag = uuidlib.uuid4().hex[:8]
    accts = {k: ctx.create_account("qt-%s-%s" % (tag, k)) for k in ("gold", "silver", "plain")}
    for k in ("gold", "silver"):
        r = ctx.call("POST", "/system-tags", {"params": {"resourceType": "AccountVO", "resourceUuid": accts[k]["uuid"],
                                                         "tag": "qtier::%s::%s" % (tag, k)}})
        assert r.status == 200, r
    r = ctx.call("POST", "/user-tags", {"params": {"resourceType": "AccountVO", "resourceUuid": accts["plain"]["uuid"],
                                                   "tag": "qnote::%s" % tag}})
    assert r.status == 200, r
    mine = ("q", "name~=qt-%s-%%" % tag)

    def names(*conds, path="/accounts"):
        body = ok(ctx, path, mine, *[("q", c) for c in conds])
        return sorted(a["name"].rsplit("-", 1)[1] for a in body["inventories"])
    gold = "qtier::%s::gold" % tag
    silver = "qtier::%s::silver" % tag
    assert names() == ["gold", "plain", "silver"]
    assert names("__systemTag__=" + gold) == ["gold"]
    assert names("__systemTag__!=" + gold) == ["plain", "silver"]          # carries no such tag
    assert names("__systemTag__~=qtier::%s::%%" % tag) == ["gold", "silver"]
    assert names("__systemTag__!~=qtier::%s::%%" % tag) == ["plain"]
    assert names("__systemTag__?=%s,%s" % (gold, silver)) == ["gold", "silver"]
    assert names("__systemTag__!?=%s,%s" % (gold, silver)) == ["plain"]
    assert names("__systemTag__>=" + silver) == ["silver"]
    assert names("__systemTag__<" + silver) == ["gold"]
    assert names("__userTag__=qnote::" + tag) == ["plain"]
    assert names("__userTag__!=qnote::" + tag) == ["gold", "silver"]
    assert names("__userTag__=" + gold) == []                              # a system tag is no user tag
    assert names("__systemTag__~=qtier::%s::%%" % tag, "__userTag__!~=%") == ["gold", "silver"]
    # the tag condition combines with count and paging like any other
    assert ok(ctx, "/accounts", mine, ("q", "__systemTag__~=qtier::%s::%%" % tag), ("count", "true")) == {"total": 2}
    # and works on the tags themselves and on management nodes (none carries these tags)
    assert ok(ctx, "/management-nodes", ("q", "__systemTag__=" + gold))["inventories"] == []
    assert ok(ctx, "/management-nodes", ("q", "__systemTag__!=" + gold), ("count", "true"))["total"] >= 1


# -- the index is used: records examined, from zs-tags' debug log --------------------------------

class DebugLog:
    """Restarts zs-tags with ZS_LOG_LEVEL=debug; each query then logs
    "query <Resource> plan=<plan> examined=<n>" before it answers."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.stack = ctx.stack
        self.path = os.path.join(self.stack.data, "log", "tags.log")
        self.old = self.stack.env.get("ZS_LOG_LEVEL")

    def __enter__(self):
        self.stack.env["ZS_LOG_LEVEL"] = "debug"
        self.stack.restart("tags")
        self.ready()
        return self

    def ready(self):
        self.stack.wait_ready()
        wait_for(lambda: self.ctx.get("/system-tags?limit=1").status == 200, 20, "zs-tags to answer")

    def __exit__(self, *exc):
        if self.old is None:
            self.stack.env.pop("ZS_LOG_LEVEL", None)
        else:
            self.stack.env["ZS_LOG_LEVEL"] = self.old
        self.stack.restart("tags")
        self.ready()

    def run(self, ctx, *params, path="/system-tags", resource="SystemTag"):
        """Runs the query; returns (reply body, plan, examined)."""
        with open(self.path, "rb") as f:
            f.seek(0, os.SEEK_END)
            mark = f.tell()
        body = ok(ctx, path, *params)
        with open(self.path, "rb") as f:
            f.seek(mark)
            lines = f.read().decode(errors="replace")
        found = re.findall(r"query %s plan=(\S+) examined=(\d+)" % resource, lines)
        assert len(found) == 1, lines
        return body, found[0][0], int(found[0][1])


def test_query_indexed_conditions_examine_only_matches(ctx):
    setup(ctx)
    big_total = 1040
    with DebugLog(ctx) as log:
        # a scan reads every tag of the store (all the suite's tags, at least the 1040 bulk ones)
        body, plan, examined = log.run(ctx, ("q", "lastOpDate>0"), ("count", "true"))
        assert plan in ("scan", "index:type") and examined >= big_total and examined >= body["total"], (plan, examined)
        # = on an indexed field: exactly the one match
        body, plan, examined = log.run(ctx, ("q", "tag=qb::0517"))
        assert [i["tag"] for i in body["inventories"]] == ["qb::0517"]
        assert (plan, examined) == ("index:tag", 1)
        # = on resourceUuid with 260 tags; replyWithCount reads the 260 matches, nothing else
        body, plan, examined = log.run(ctx, ("q", "resourceUuid=" + BIG[1][0]), ("limit", "5"), ("replyWithCount", "true"))
        assert body["total"] == 260 and len(body["inventories"]) == 5
        assert (plan, examined) == ("index:resourceUuid", 260)
        # without the total, the walk stops with the page
        body, plan, examined = log.run(ctx, ("q", "resourceUuid=" + BIG[1][0]), ("limit", "5"))
        assert (plan, examined) == ("index:resourceUuid", 5)
        # ?= reads the members of the set
        body, plan, examined = log.run(ctx, ("q", "tag?=qb::0001,qb::0999,qb::none"))
        assert (plan, examined, len(body["inventories"])) == ("index:tag", 2, 2)
        # prefix LIKE walks the index range of the prefix
        body, plan, examined = log.run(ctx, ("q", "tag~=qb::012%"))
        assert (plan, examined, len(body["inventories"])) == ("index:tag", 10, 10)
        # a range on an indexed field
        body, plan, examined = log.run(ctx, ("q", "tag>=qb::0100"), ("q", "tag<qb::0130"))
        assert (plan, examined, len(body["inventories"])) == ("index:tag", 30, 30)
        # count=true reads the matches of the index (the view's fixed type=System must be checked)
        body, plan, examined = log.run(ctx, ("q", "resourceUuid=" + BIG[2][0]), ("count", "true"))
        assert (body, plan, examined) == ({"total": 260}, "index:resourceUuid", 260)
        # the most selective index wins when several apply
        body, plan, examined = log.run(ctx, ("q", "resourceType=" + BIG_RT), ("q", "tag=qb::0005"))
        assert (plan, examined) == ("index:tag", 1)
        # the uuid is a key: one get
        uuid = SETUP["all"][0]["uuid"]
        body, plan, examined = log.run(ctx, ("q", "uuid=" + uuid))
        assert (plan, examined, len(body["inventories"])) == ("key:uuid", 1, 1)
        # a non-prefix LIKE cannot use the index: it scans (the plan is honest)
        body, plan, examined = log.run(ctx, ("q", "tag~=%0517"))
        assert plan.startswith("index:type") or plan == "scan", plan
        assert examined >= big_total
