#!/usr/bin/python3
"""Time Django's own signing and session codec on the inputs in bench/inputs.json.

    /usr/bin/python3 bench/django_timing.py                       # Django ns/op
    go test -run '^$' -bench . ./... > /tmp/go.txt
    /usr/bin/python3 bench/django_timing.py --go-bench /tmp/go.txt  # plus Django/Go ratios
    /usr/bin/python3 bench/django_timing.py --write-inputs        # regenerate bench/inputs.json

Prints one line per operation, `django <BenchmarkName> <ns/op>`, named after the Go benchmark
that times the same operation on the same input (bench/inputs.json, key "benchmarks"):

    BenchmarkLoadsSmall / BenchmarkDumpsSmall    signing.loads / signing.dumps, ~200-byte session dict
    BenchmarkLoadsLarge / BenchmarkDumpsLarge    the same on a ~3 KB compressible dict, compress=True
    BenchmarkSessionDecode / BenchmarkSessionEncode   db SessionStore().decode / encode (JSON
                                                 serializer), ~260 bytes of session_data

Then `zlib <BenchmarkName> <ns/op>` for the two session operations: the one C zlib call each
makes (zlib.decompress of the payload, zlib.compress(json, 6)) timed alone, the part of Django's
figure that is the C library's; go test -tags zlibfloor -bench . ./bench/zlibfloor/ times the same
libraries from Go next to signing/pyzlib.

With --go-bench FILE (output of `go test -bench`), also prints
`ratio <BenchmarkName> <django/go> (django N ns/op, go M ns/op)` for every name found in FILE
(when a name occurs more than once, e.g. with -count, the fastest Go run is used).
All timings come from one process: timeit, autoranged, best of --repeat runs.
"""

import argparse
import json
import os
import re
import sys
import time
import timeit
import warnings

warnings.simplefilter("ignore")

HERE = os.path.dirname(os.path.abspath(__file__))
INPUTS = os.path.join(HERE, "inputs.json")

SECRET_KEY = "bench-secret-key-0123456789abcdefghijklmnopqrstuvwxyz-djsession"
T0 = 1700000000
AUTH_HASH = "f623faabdde81d502de01cd248edbc77a88b2cba55a0439639728ea62c7abf2a"
SIGNING_SALT = "django.core.signing"
SESSION_SALT = "django.contrib.sessions.SessionStore"

import django  # noqa: E402
from django.conf import settings  # noqa: E402

settings.configure(
    SECRET_KEY=SECRET_KEY,
    USE_TZ=True,
    INSTALLED_APPS=["django.contrib.contenttypes", "django.contrib.auth", "django.contrib.sessions"],
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    SESSION_SERIALIZER="django.contrib.sessions.serializers.JSONSerializer",
)
django.setup()

from django.contrib.sessions.backends.db import SessionStore  # noqa: E402
from django.core import signing  # noqa: E402


def small_dict():
    """A logged-in session: the three auth keys plus one small app key (~200 JSON bytes)."""
    return {
        "_auth_user_id": "1",
        "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
        "_auth_user_hash": AUTH_HASH,
        "cart_items": [101, 205, 307],
    }


def large_dict():
    """~3 KB of repetitive JSON that zlib shrinks well."""
    items = [{"sku": "SKU-%04d" % i, "name": "Item number %d" % i, "qty": i % 5 + 1,
              "price": round(9.99 + i, 2), "tags": ["sale", "new"]} for i in range(34)]
    return {"_auth_user_id": "1", "cart": {"items": items, "coupon": None, "currency": "EUR"}}


def at_t0(fn):
    """Run fn with Django's signing clock at T0 so the recorded tokens are reproducible."""
    real = time.time
    time.time = lambda: float(T0)
    try:
        return fn()
    finally:
        time.time = real


def build_inputs():
    small, large = small_dict(), large_dict()
    enc = lambda d, c: at_t0(lambda: signing.dumps(d, key=SECRET_KEY, salt=SIGNING_SALT, compress=c))
    session_data = at_t0(lambda: SessionStore().encode(small))
    b = {}
    for size, d, compress in (("Small", small, False), ("Large", large, True)):
        token = enc(d, compress)
        common = {"salt": SIGNING_SALT, "compress": compress, "obj": d, "signed": token,
                  "obj_json_len": len(json.dumps(d, separators=(",", ":")))}
        b["BenchmarkLoads" + size] = dict({"op": "signing.loads", "max_age": None}, **common)
        b["BenchmarkDumps" + size] = dict({"op": "signing.dumps"}, **common)
    sess = {"salt": SESSION_SALT, "serializer": "json", "compress": True, "session_dict": small,
            "session_data": session_data, "session_data_len": len(session_data)}
    b["BenchmarkSessionDecode"] = dict({"op": "SessionStore.decode"}, **sess)
    b["BenchmarkSessionEncode"] = dict({"op": "SessionStore.encode"}, **sess)
    return {
        "about": "Inputs shared by bench/django_timing.py and the Go benchmarks of the same names. "
                 "Tokens were made by Django %s at timestamp %d with secret_key; "
                 "regenerate with bench/django_timing.py --write-inputs." % (django.get_version(), T0),
        "secret_key": SECRET_KEY,
        "timestamp": T0,
        "benchmarks": b,
    }


def load_inputs():
    with open(INPUTS, encoding="utf-8") as f:
        data = json.load(f)
    if data["secret_key"] != SECRET_KEY:
        sys.exit("inputs.json secret_key differs from this script's; run --write-inputs")
    fresh = build_inputs()["benchmarks"]
    for name, spec in data["benchmarks"].items():
        for field in ("signed", "session_data"):
            if field in spec and spec[field] != fresh[name][field]:
                print("warning: %s.%s differs from what this Django makes" % (name, field), file=sys.stderr)
    return data


def ops(data):
    """name -> zero-argument callable doing exactly one operation."""
    b = data["benchmarks"]
    key = data["secret_key"]
    out = {}
    for size in ("Small", "Large"):
        ls, ds = b["BenchmarkLoads" + size], b["BenchmarkDumps" + size]
        out["BenchmarkLoads" + size] = (
            lambda s=ls: signing.loads(s["signed"], key=key, salt=s["salt"], max_age=s["max_age"]))
        out["BenchmarkDumps" + size] = (
            lambda s=ds: signing.dumps(s["obj"], key=key, salt=s["salt"], compress=s["compress"]))
    dec, enc = b["BenchmarkSessionDecode"], b["BenchmarkSessionEncode"]
    store = SessionStore()
    out["BenchmarkSessionDecode"] = lambda s=dec: store.decode(s["session_data"])
    out["BenchmarkSessionEncode"] = lambda s=enc: store.encode(s["session_dict"])
    # Same results as Django made them (sanity check before timing).
    assert out["BenchmarkLoadsSmall"]() == b["BenchmarkLoadsSmall"]["obj"]
    assert out["BenchmarkLoadsLarge"]() == b["BenchmarkLoadsLarge"]["obj"]
    assert out["BenchmarkSessionDecode"]() == dec["session_dict"]
    return out


def zlib_ops(data):
    """name -> the C zlib call inside that session operation, alone, on the same bytes."""
    import zlib

    from django.core.signing import JSONSerializer

    b = data["benchmarks"]
    js = JSONSerializer().dumps(b["BenchmarkSessionEncode"]["session_dict"])
    payload = b["BenchmarkSessionDecode"]["session_data"].split(":", 1)[0]
    assert payload.startswith("."), "the typical session is compressed"
    z = signing.b64_decode(payload[1:].encode())
    assert zlib.decompress(z) == js and zlib.compress(js) == z
    return {
        "BenchmarkSessionDecode": lambda: zlib.decompress(z),
        "BenchmarkSessionEncode": lambda: zlib.compress(js),
    }


def time_ns(fn, repeat):
    timer = timeit.Timer(fn)
    number, _ = timer.autorange()
    best = min(timer.repeat(repeat=repeat, number=number))
    return best / number * 1e9


GO_LINE = re.compile(r"^(Benchmark[^\s/]+?)(?:-\d+)?\s+\d+\s+([0-9.]+) ns/op")


def parse_go_bench(path):
    best = {}
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = GO_LINE.match(line.strip())
            if m:
                name, ns = m.group(1), float(m.group(2))
                best[name] = min(ns, best.get(name, ns))
    return best


def main(argv=None):
    ap = argparse.ArgumentParser(description="Django signing/session timings (ns/op)")
    ap.add_argument("--go-bench", metavar="FILE", help="`go test -bench` output to compare with")
    ap.add_argument("--repeat", type=int, default=5, help="timeit repeats; the best is kept")
    ap.add_argument("--write-inputs", action="store_true", help="regenerate bench/inputs.json and exit")
    args = ap.parse_args(argv)
    if args.write_inputs:
        with open(INPUTS, "w", encoding="utf-8") as f:
            json.dump(build_inputs(), f, indent=1, ensure_ascii=False)
            f.write("\n")
        print("wrote %s" % INPUTS)
        return 0
    data = load_inputs()
    results = {}
    for name, fn in ops(data).items():
        results[name] = time_ns(fn, args.repeat)
        print("django %s %.1f" % (name, results[name]))
    for name, fn in zlib_ops(data).items():
        print("zlib %s %.1f" % (name, time_ns(fn, args.repeat)))
    if args.go_bench:
        go = parse_go_bench(args.go_bench)
        matched = [n for n in results if n in go]
        if not matched:
            print("no benchmark in %s matches %s" % (args.go_bench, ", ".join(results)), file=sys.stderr)
        for name in matched:
            print("ratio %s %.2f (django %.1f ns/op, go %.1f ns/op)"
                  % (name, results[name] / go[name], results[name], go[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
