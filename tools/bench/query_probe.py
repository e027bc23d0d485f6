#!/usr/bin/env python3
"""query_probe — the measuring half of bench_query.sh (which fills the store and starts the stack).

  query_probe.py <gateway url> <admin password> <rows csv> <sqlite file> <requests> <seconds>

Loads the rows the filler wrote into an SQLite table with indexes on resourceUuid and tag, then
asks both the stack (HTTP GET through the gateway, one keep-alive connection, sequential
requests) and SQLite (same process as this client, indexed table, same rows) the same questions
for random existing values: q=resourceUuid=<one> and q=tag=<one>. Every answer is checked
(row count) outside the timed part. Prints "name: value unit" lines."""
import csv
import hashlib
import http.client
import json
import random
import sqlite3
import sys
import time
import urllib.parse


def pct(samples, p):
    s = sorted(samples)
    return s[min(len(s) - 1, int(len(s) * p / 100.0))]


def main():
    url, password, rows_csv, db_path, requests, seconds = sys.argv[1:7]
    requests, seconds = int(requests), float(seconds)
    # -- the SQLite reference: the same rows, indexed ------------------------------------------
    t0 = time.time()
    db = sqlite3.connect(db_path)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("CREATE TABLE tags (uuid TEXT PRIMARY KEY, resourceUuid TEXT, resourceType TEXT, "
               "tag TEXT, type TEXT, createDate INTEGER)")
    resources, tags = [], []
    with open(rows_csv, newline="") as f:
        rows = list(csv.reader(f))
    db.executemany("INSERT INTO tags VALUES (?,?,?,?,?,?)", rows)
    db.execute("CREATE INDEX tags_resource ON tags(resourceUuid)")
    db.execute("CREATE INDEX tags_tag ON tags(tag)")
    db.commit()
    rng = random.Random(42)
    for row in rng.sample(rows, min(requests, len(rows))):
        resources.append(row[1])
        tags.append(row[3])
    per_resource = sum(1 for r in rows if r[1] == rows[0][1])
    nrows = len(rows)
    del rows
    print("query_sqlite_load_%d_rows: %.1f s" % (nrows, time.time() - t0))

    questions = [("resourceUuid", resources, per_resource), ("tag", tags, 1)]

    # the connection is opened after the load: an idle keep-alive connection is closed
    u = urllib.parse.urlparse(url)
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    def call(method, path, body=None, headers=None, retry=True):
        try:
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers or {})
            r = conn.getresponse()
            return r.status, r.read()
        except (http.client.RemoteDisconnected, ConnectionError):
            # the gateway closes a keep-alive connection left idle (while replies were checked)
            conn.close()
            if not retry:
                raise
            return call(method, path, body, headers, False)

    status, body = call("PUT", "/zstack/v1/accounts/login",
                        {"logInByAccount": {"accountName": "admin",
                                            "password": hashlib.sha512(password.encode()).hexdigest()}},
                        {"Content-Type": "application/json"})
    assert status == 200, (status, body)
    auth = {"Authorization": "OAuth " + json.loads(body)["inventory"]["uuid"]}

    # -- through the stack -----------------------------------------------------------------------
    for field, values, expect in questions:
        # warm-up: a few requests so the connection and the page cache are not what is measured
        for v in values[:50]:
            call("GET", "/zstack/v1/system-tags?q=" + urllib.parse.quote("%s=%s" % (field, v)), headers=auth)
        lat, replies = [], []
        end = time.time() + seconds
        for v in values:
            path = "/zstack/v1/system-tags?q=" + urllib.parse.quote("%s=%s" % (field, v))
            t = time.perf_counter()
            status, body = call("GET", path, headers=auth)
            lat.append((time.perf_counter() - t) * 1000)
            replies.append((status, body))
            if time.time() > end:
                break
        for status, body in replies:
            assert status == 200, (status, body[:300])
            n = len(json.loads(body)["inventories"])
            assert n == expect, (field, n, expect)
        print("query_http_%s_p50: %.3f ms" % (field, pct(lat, 50)))
        print("query_http_%s_p99: %.3f ms" % (field, pct(lat, 99)))
        print("query_http_%s_requests: %d requests" % (field, len(lat)))

    # -- SQLite, same questions, same values --------------------------------------------------------
    for field, values, expect in questions:
        sql = "SELECT * FROM tags WHERE %s = ?" % field
        for v in values[:50]:
            db.execute(sql, (v,)).fetchall()
        lat = []
        end = time.time() + seconds
        for v in values:
            t = time.perf_counter()
            got = db.execute(sql, (v,)).fetchall()
            lat.append((time.perf_counter() - t) * 1000)
            assert len(got) == expect, (field, len(got), expect)
            if time.time() > end:
                break
        print("query_sqlite_%s_p50: %.3f ms" % (field, pct(lat, 50)))
        print("query_sqlite_%s_p99: %.3f ms" % (field, pct(lat, 99)))
    db.close()
    conn.close()


if __name__ == "__main__":
    main()
