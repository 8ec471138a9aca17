"""Oracle for pickle/writer_test.go: CPython's own pickle, driven over stdin.

Reads one JSON object per line and writes one JSON object per line.

Mode "dump" (argv[1] == "dump"): each input line is
    {"v": TAGGED, "go": {"2": HEX, "3": HEX, "4": HEX, "5": HEX}}
TAGGED describes a Python value (see build()). The script builds the value
with fresh objects (sharing only what the tags share, plus CPython's own
singletons), and answers
    {"cpython": {"2": HEX, ...},        # pickle.dumps(value, p)
     "loads_ok": {"2": bool, ...},      # pickle.loads(go bytes) equals
                                        # pickle.loads(pickle.dumps(value, p)):
                                        # same types, same sharing, repr equal
     "order_ok": bool,                  # every set iterates in tag order, so
                                        # CPython's bytes are comparable
     "error": str}                      # when something failed

Mode "vectors": each input line is {"b64": BASE64 pickle}; the answer is
    {"tagged": TAGGED of pickle.loads(b), "proto": N,
     "redump": HEX of pickle.dumps(loads(b), N),
     "redump_same": that equals b}
"""
import base64
import collections
import datetime
import decimal
import json
import pickle
import pickletools
import struct
import sys
import uuid
import zoneinfo

import pytz


def build_tz(t, reg):
    if t is None:
        return None
    tag = t[0]
    if tag == "utc":
        return datetime.timezone.utc
    if tag == "fixed":
        off = datetime.timedelta(microseconds=t[1])
        tz = datetime.timezone(off, t[2]) if t[2] else datetime.timezone(off)
        if len(t) > 3 and t[3]:
            reg[t[3]] = tz
        return tz
    if tag == "tzref":
        return reg[t[1]]
    if tag == "pytz":
        return pytz.utc
    if tag == "zi":
        return zoneinfo.ZoneInfo(t[1])
    raise ValueError("bad tz tag %r" % (tag,))


class Order:
    ok = True


def build(t, reg, order):
    tag = t[0]
    ident = t[2] if tag in ("l", "t", "d", "od", "set", "fs") and len(t) > 2 else 0
    if tag == "N":
        return None
    if tag == "T":
        return True
    if tag == "F":
        return False
    if tag == "i":
        return int(t[1])
    if tag == "f":
        return struct.unpack(">d", bytes.fromhex(t[1]))[0]
    if tag == "s":
        return bytes.fromhex(t[1]).decode("utf-8", "surrogatepass")
    if tag == "y":
        return bytes.fromhex(t[1])
    if tag == "ba":
        return bytearray.fromhex(t[1])
    if tag == "ref":
        return reg[t[1]]
    if tag == "l":
        out = []
        if ident:
            reg[ident] = out
        out.extend(build(x, reg, order) for x in t[1])
        return out
    if tag == "t":
        out = tuple(build(x, reg, order) for x in t[1])
        if ident:
            reg[ident] = out
        return out
    if tag in ("d", "od"):
        out = {} if tag == "d" else collections.OrderedDict()
        if ident:
            reg[ident] = out
        for k, v in t[1]:
            out[build(k, reg, order)] = build(v, reg, order)
        return out
    if tag in ("set", "fs"):
        items = [build(x, reg, order) for x in t[1]]
        out = set(items) if tag == "set" else frozenset(items)
        if list(out) != items:
            order.ok = False
        if ident:
            reg[ident] = out
        return out
    if tag in ("dt", "date", "time", "td"):
        f = t[1]
        if tag == "dt":
            out = datetime.datetime(*f[:7], fold=f[7], tzinfo=build_tz(t[2], reg))
        elif tag == "date":
            out = datetime.date(*f)
        elif tag == "time":
            out = datetime.time(*f[:4], fold=f[4], tzinfo=build_tz(t[2], reg))
        else:
            out = datetime.timedelta(days=f[0], seconds=f[1], microseconds=f[2])
        if len(t) > 3 and t[3]:
            reg[t[3]] = out
        return out
    if tag == "dec":
        return decimal.Decimal(t[1])
    if tag == "uuid":
        return uuid.UUID(hex=t[1])
    raise ValueError("bad tag %r" % (tag,))


def same(a, b, pairs):
    """a equals b with the same types, the same floats bit for bit and the
    same sharing of containers."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, dict, set, frozenset, tuple, bytearray,
                      datetime.datetime, datetime.time)) and a is not None:
        if id(a) in pairs:
            return pairs[id(a)] is b
        pairs[id(a)] = b
    if isinstance(a, float):
        return struct.pack(">d", a) == struct.pack(">d", b)
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, pairs) for x, y in zip(a, b))
    if isinstance(a, dict):
        if len(a) != len(b):
            return False
        for (ka, va), (kb, vb) in zip(a.items(), b.items()):
            if not same(ka, kb, pairs) or not same(va, vb, pairs):
                return False
        return True
    if isinstance(a, (set, frozenset)):
        if a != b:
            return False
        bl = list(b)
        for x in a:
            if not any(same(x, y, {}) for y in bl if y == x):
                return False
        return True
    if isinstance(a, (datetime.datetime, datetime.time)):
        if repr(a) != repr(b) or type(a.tzinfo) is not type(b.tzinfo):
            return False
        return a.tzinfo is None or repr(a.tzinfo) == repr(b.tzinfo)
    if isinstance(a, decimal.Decimal):
        return str(a) == str(b)
    return a == b and repr(a) == repr(b)


def to_tagged(v):
    if v is None:
        return ["N"]
    if v is True:
        return ["T"]
    if v is False:
        return ["F"]
    t = type(v)
    if t is int:
        return ["i", str(v)]
    if t is float:
        return ["f", struct.pack(">d", v).hex()]
    if t is str:
        return ["s", v.encode("utf-8", "surrogatepass").hex()]
    if t is bytes:
        return ["y", v.hex()]
    if t is bytearray:
        return ["ba", v.hex()]
    if t is list:
        return ["l", [to_tagged(x) for x in v]]
    if t is tuple:
        return ["t", [to_tagged(x) for x in v]]
    if t is dict:
        return ["d", [[to_tagged(k), to_tagged(x)] for k, x in v.items()]]
    if t is collections.OrderedDict:
        return ["od", [[to_tagged(k), to_tagged(x)] for k, x in v.items()]]
    if t is set:
        return ["set", [to_tagged(x) for x in v]]
    if t is frozenset:
        return ["fs", [to_tagged(x) for x in v]]
    if t is decimal.Decimal:
        return ["dec", str(v)]
    if t is uuid.UUID:
        return ["uuid", v.hex]
    if t is datetime.datetime:
        return ["dt", [v.year, v.month, v.day, v.hour, v.minute, v.second,
                       v.microsecond, v.fold], tz_tagged(v.tzinfo)]
    if t is datetime.date:
        return ["date", [v.year, v.month, v.day], None]
    if t is datetime.time:
        return ["time", [v.hour, v.minute, v.second, v.microsecond, v.fold],
                tz_tagged(v.tzinfo)]
    if t is datetime.timedelta:
        return ["td", [v.days, v.seconds, v.microseconds], None]
    raise TypeError("cannot tag %r" % (t,))


def tz_tagged(tz):
    if tz is None:
        return None
    if tz is datetime.timezone.utc:
        return ["utc"]
    if isinstance(tz, datetime.timezone):
        off = tz.utcoffset(None)
        explicit = tz.__getinitargs__()
        return ["fixed", off // datetime.timedelta(microseconds=1),
                explicit[1] if len(explicit) > 1 else ""]
    if tz is pytz.utc:
        return ["pytz"]
    if isinstance(tz, zoneinfo.ZoneInfo):
        return ["zi", tz.key]
    raise TypeError("cannot tag tz %r" % (tz,))


def main():
    mode = sys.argv[1]
    out = sys.stdout
    for line in sys.stdin:
        case = json.loads(line)
        try:
            if mode == "dump":
                order = Order()
                v = build(case["v"], {}, order)
                res = {"cpython": {}, "loads_ok": {}, "order_ok": order.ok}
                for p in ("2", "3", "4", "5"):
                    mine = pickle.dumps(v, int(p))
                    res["cpython"][p] = mine.hex()
                    # The reference is CPython's own round trip, which drops
                    # what the protocol cannot carry (fold below protocol 4).
                    ref = pickle.loads(mine)
                    got = case["go"].get(p)
                    if got is not None:
                        try:
                            loaded = pickle.loads(bytes.fromhex(got))
                            ok = same(ref, loaded, {})
                        except Exception as e:  # noqa: BLE001
                            ok = False
                            res.setdefault("load_errors", {})[p] = repr(e)
                        res["loads_ok"][p] = ok
            else:
                b = base64.b64decode(case["b64"])
                v = pickle.loads(b)
                proto = max(op.proto for op, _, _ in pickletools.genops(b))
                if b[:1] == b"\x80":
                    proto = b[1]
                again = pickle.dumps(v, proto)
                res = {"tagged": to_tagged(v), "proto": proto,
                       "redump_same": again == b, "redump": again.hex()}
        except Exception as e:  # noqa: BLE001
            res = {"error": repr(e)}
        out.write(json.dumps(res) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
