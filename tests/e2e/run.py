#!/usr/bin/env python3
"""Runs the end-to-end suite against one shared stack of the real processes.

  python3 tests/e2e/run.py [name-filter ...]
ZS_BIN selects the binaries (default build/bin). Ends with "N passed, N failed"; a sanitizer
report or a process that does not exit cleanly at the end counts as a failure.
"""
import importlib.util
import os
import shutil
import sys
import tempfile
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import zstest  # noqa: E402


def load_tests(filters):
    tests = []
    for fname in sorted(os.listdir(HERE)):
        if not (fname.startswith("test_") and fname.endswith(".py")):
            continue
        spec = importlib.util.spec_from_file_location(fname[:-3], os.path.join(HERE, fname))
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        for name, fn in vars(mod).items():
            if name.startswith("test_") and callable(fn):
                full = "%s.%s" % (fname[:-3], name)
                if not filters or any(f in full for f in filters):
                    tests.append((full, fn, fn.__code__.co_firstlineno))
    # definition order inside a module
    tests.sort(key=lambda t: (t[0].split(".")[0], t[2]))
    return tests


def main():
    filters = sys.argv[1:]
    bin_dir = os.environ.get("ZS_BIN", "build/bin")
    data = tempfile.mkdtemp(prefix="zs-e2e-")
    stack = zstest.Stack(bin_dir, data)
    passed = failed = 0
    started = time.time()
    try:
        stack.start_all()
        ctx = zstest.Context(stack)
        ctx.admin = ctx.login()
        for name, fn, _ in load_tests(filters):
            t0 = time.time()
            try:
                fn(ctx)
                passed += 1
                print("ok   %-60s %.2fs" % (name, time.time() - t0), flush=True)
            except Exception:
                failed += 1
                print("FAIL %-60s %.2fs" % (name, time.time() - t0), flush=True)
                traceback.print_exc()
                sys.stdout.flush()
    except Exception:
        failed += 1
        print("FAIL the stack did not start")
        traceback.print_exc()
    finally:
        for problem in stack.stop():
            failed += 1
            print("FAIL clean shutdown: " + problem)
        for report in stack.sanitizer_reports():
            failed += 1
            print("FAIL sanitizer report " + report)
            with open(report, errors="replace") as f:
                print(f.read()[:6000])
    if failed:
        print("logs kept in " + data)
        for f in sorted(os.listdir(os.path.join(data, "log"))):
            path = os.path.join(data, "log", f)
            with open(path, errors="replace") as fh:
                lines = fh.readlines()[-15:]
            print("---- %s (last lines)" % f)
            print("".join(lines))
    else:
        shutil.rmtree(data, ignore_errors=True)
    print("e2e: %.0fs" % (time.time() - started))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
