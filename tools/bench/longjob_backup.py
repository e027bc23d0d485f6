#!/usr/bin/env python3
"""Backup speed of the APIBackupDatabaseMsg long job on a tag store of N records.

  python3 tools/bench/longjob_backup.py [count]      (default 100000; ZS_BIN, default build/bin)

Fills a fresh data directory's tag store with zs-bench-fill_tags (straight into LMDB, before
any service runs), starts a stack on it, runs one backup job and prints the copy time of the
tag store (from the job's jobResult) as MB/s and records/s, and the whole job's figures.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tests", "e2e"))
import zstest  # noqa: E402


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100000
    bin_dir = os.environ.get("ZS_BIN", "build/bin")
    data = tempfile.mkdtemp(prefix="zs-bench-backup-")
    subprocess.run([os.path.join(bin_dir, "zs-bench-fill_tags"), data, str(count), os.path.join(data, "rows.csv")],
                   check=True, stdout=subprocess.DEVNULL)
    os.remove(os.path.join(data, "rows.csv"))
    stack = zstest.Stack(bin_dir, data)
    try:
        stack.start_all()
        ctx = zstest.Context(stack)
        ctx.admin = ctx.login()
        t0 = time.time()
        r = ctx.call("POST", "/longjobs", {"params": {"jobName": "APIBackupDatabaseMsg"}})
        assert r.status == 200, r
        juuid = r.body["inventory"]["uuid"]
        job = zstest.wait_for(lambda: (lambda j: j if j["state"] in ("Succeeded", "Failed") else None)(
            ctx.get("/longjobs/" + juuid).body["inventories"][0]), 600, "the backup")
        wall = time.time() - t0
        assert job["state"] == "Succeeded", job
        result = json.loads(job["jobResult"])
        tags = next(s for s in result["stores"] if s["name"] == "tags")
        src = os.path.getsize(os.path.join(data, "tags", "data.mdb"))
        secs = max(tags["ms"], 1) / 1000.0
        print("tag store: %d records, %.1f MB on disk, %.1f MB copied (compacted) in %d ms: "
              "%.0f MB/s, %.0f records/s" % (count, src / 1e6, tags["bytes"] / 1e6, tags["ms"],
                                             tags["bytes"] / 1e6 / secs, count / secs))
        print("whole backup: %d stores, %.1f MB in %d ms (job wall time incl. polling %.2f s)" % (
            len(result["stores"]), result["totalBytes"] / 1e6, result["totalMs"], wall))
    finally:
        stack.stop()
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
