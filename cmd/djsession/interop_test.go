package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// TestSessionDjangoInterop has real Django 3.2 (/usr/bin/python3, with
// django-redis and pymemcache) read what `encode` printed, and `decode`
// read what Django wrote, in both directions: session_data (JSON and
// pickle, current and legacy formats, SHA-1 format S), signed-cookie
// sessions (SHA-256 and the SHA-1 --legacy-format), django-redis cache
// values (every serializer; compressors zlib, lzma, lz4), pymemcache
// items, FileBasedCache files and DatabaseCache value columns.
func TestSessionDjangoInterop(t *testing.T) {
	py := requirePython(t, "django, django_redis, pymemcache, msgpack, lz4")
	const key = "interop-secret-key-\u00e9-0123456789"
	k := "--secret-key=" + key

	type goValue struct {
		name   string
		op     map[string]any // the Python op, without "data"
		args   []string       // encode's arguments (the dict on stdin)
		dict   string
		binary bool // raw cache bytes: passed to Python as base64
	}
	small := `{"a":1,"b":"two","_auth_user_id":"1"}`
	unicode := `{"name":"Zoë Ñandú","emoji":"🎉🐍","ctrl":"tab\tnl\n\"q\"\\","nul":"a\u0000b","ü-key":"ключ","big":18446744073709551615,"f":-0.0}`
	large := `{"blob":"` + strings.Repeat("lorem ipsum dolor sit amet ", 80) + `","n":[1,2,3]}`
	var ours []goValue
	for _, d := range []struct{ name, dict string }{{"small", small}, {"unicode", unicode}, {"large", large}} {
		for _, ser := range []string{"json", "pickle"} {
			ours = append(ours,
				goValue{name: "session_data " + ser + " " + d.name, dict: d.dict,
					op:   map[string]any{"op": "session_decode", "serializer": ser},
					args: []string{"encode", k, "--serializer", ser}},
				goValue{name: "session_data legacy " + ser + " " + d.name, dict: d.dict,
					op:   map[string]any{"op": "session_decode", "serializer": ser},
					args: []string{"encode", k, "--serializer", ser, "--legacy-format"}},
				goValue{name: "cookie " + ser + " " + d.name, dict: d.dict,
					op:   map[string]any{"op": "cookie_load", "serializer": ser},
					args: []string{"encode", k, "--serializer", ser, "--engine", "signed_cookies"}},
				goValue{name: "cookie sha1 " + ser + " " + d.name, dict: d.dict,
					op:   map[string]any{"op": "cookie_load", "serializer": ser},
					args: []string{"encode", k, "--serializer", ser, "--engine", "signed_cookies", "--legacy-format"}},
			)
		}
		for _, cache := range []struct{ ser, comp string }{
			{"pickle", "none"}, {"pickle", "zlib"}, {"pickle", "lzma"}, {"pickle", "lz4"},
			{"json", "none"}, {"json", "zlib"}, {"msgpack", "none"}, {"msgpack", "lz4"},
		} {
			ours = append(ours, goValue{name: "django-redis " + cache.ser + "+" + cache.comp + " " + d.name, dict: d.dict, binary: true,
				op:   map[string]any{"op": "redis_decode", "serializer": cache.ser, "compressor": cache.comp},
				args: []string{"encode", "--engine", "cache", "--cache-serializer", cache.ser, "--cache-compressor", cache.comp}})
		}
		ours = append(ours, goValue{name: "pymemcache " + d.name, dict: d.dict, binary: true,
			op:   map[string]any{"op": "memcache_decode", "flags": 1},
			args: []string{"encode", "--engine", "cache", "--cache-format", "pymemcache"}},
			goValue{name: "filecache " + d.name, dict: d.dict, binary: true,
				op:   map[string]any{"op": "filecache_decode"},
				args: []string{"encode", "--engine", "cache", "--cache-format", "filecache"}},
			goValue{name: "dbcache " + d.name, dict: d.dict,
				op:   map[string]any{"op": "dbcache_decode"},
				args: []string{"encode", "--engine", "cache", "--cache", "dbcache://t"}})
	}

	var ops []map[string]any
	for _, v := range ours {
		out, errOut, code := runCLI(t, v.args, nil, v.dict)
		if code != 0 {
			t.Fatalf("%s: %q: exit %d, stderr %q", v.name, v.args, code, errOut)
		}
		op := map[string]any{}
		for kk, vv := range v.op {
			op[kk] = vv
		}
		if v.binary {
			op["data_b64"] = base64.StdEncoding.EncodeToString([]byte(out))
		} else {
			op["data"] = strings.TrimSuffix(out, "\n")
		}
		ops = append(ops, op)
	}
	// What Django writes, for decode: the same dicts built in Python, plus a
	// pickle-only dict of Python types.
	type djValue struct {
		name string
		args []string // decode's arguments, the value on stdin
	}
	var theirs []djValue
	for _, d := range []struct{ name, dict string }{{"small", small}, {"unicode", unicode}, {"large", large}, {"types", ""}} {
		for _, ser := range []string{"json", "pickle"} {
			if d.name == "types" && ser == "json" {
				continue
			}
			for _, form := range []string{"current", "legacy", "sha1"} {
				ops = append(ops, map[string]any{"op": "session_encode", "serializer": ser, "form": form, "dict": d.dict})
				theirs = append(theirs, djValue{name: "session_data " + form + " " + ser + " " + d.name,
					args: []string{"decode", k, "--serializer", ser}})
			}
			for _, form := range []string{"current", "sha1"} {
				ops = append(ops, map[string]any{"op": "cookie_save", "serializer": ser, "form": form, "dict": d.dict})
				theirs = append(theirs, djValue{name: "cookie " + form + " " + ser + " " + d.name,
					args: []string{"decode", k, "--serializer", ser, "--engine", "signed_cookies"}})
			}
		}
		for _, cache := range []struct{ ser, comp string }{
			{"pickle", "none"}, {"pickle", "zlib"}, {"pickle", "lzma"}, {"pickle", "lz4"},
			{"json", "zlib"}, {"msgpack", "lz4"},
		} {
			if d.name == "types" && cache.ser != "pickle" {
				continue
			}
			ops = append(ops, map[string]any{"op": "redis_encode", "serializer": cache.ser, "compressor": cache.comp, "dict": d.dict})
			theirs = append(theirs, djValue{name: "django-redis " + cache.ser + "+" + cache.comp + " " + d.name,
				args: []string{"decode", "--engine", "cache", "--cache-serializer", cache.ser, "--cache-compressor", cache.comp}})
		}
		ops = append(ops, map[string]any{"op": "memcache_encode", "dict": d.dict})
		theirs = append(theirs, djValue{name: "pymemcache " + d.name, args: []string{"decode", "--engine", "cached_db", "--cache-format", "pymemcache"}})
		ops = append(ops, map[string]any{"op": "filecache_encode", "dict": d.dict})
		theirs = append(theirs, djValue{name: "filecache " + d.name, args: []string{"decode", "--engine", "cache", "--cache", "filecache:///unused"}})
		ops = append(ops, map[string]any{"op": "dbcache_encode", "dict": d.dict})
		theirs = append(theirs, djValue{name: "dbcache " + d.name, args: []string{"decode", "--engine", "cache", "--cache-format", "dbcache"}})
	}

	results := runDjangoOps(t, py, key, ops)
	for i, v := range ours {
		r := results[i]
		if r.Error != "" || !sameJSON(r.Value, []byte(v.dict)) {
			t.Errorf("Django read our %s as %s (error %q), want %s", v.name, r.Value, r.Error, v.dict)
		}
	}
	for j, v := range theirs {
		r := results[len(ours)+j]
		if r.Error != "" {
			t.Errorf("%s: Django failed: %s", v.name, r.Error)
			continue
		}
		var stdin string
		if r.DataB64 != "" {
			raw, err := base64.StdEncoding.DecodeString(r.DataB64)
			if err != nil {
				t.Fatal(err)
			}
			stdin = string(raw)
		} else {
			stdin = r.Data + "\n"
		}
		out, errOut, code := runCLI(t, v.args, nil, stdin)
		// Python's normal form of its own dict is the oracle.
		if code != 0 || !sameJSON([]byte(out), r.Value) {
			t.Errorf("decode of Django's %s: exit %d, stdout %q, stderr %q, want %s", v.name, code, out, errOut, r.Value)
		}
	}
	t.Logf("%d values of ours read by Django, %d of Django's read by us", len(ours), len(theirs))
}

// djangoResult is one op's answer: the value read (in the JSON normal
// form), or what Django wrote (text or base64 bytes) and the normal form of
// the dict it wrote.
type djangoResult struct {
	Value   json.RawMessage `json:"value"`
	Data    string          `json:"data"`
	DataB64 string          `json:"data_b64"`
	Error   string          `json:"error"`
}

func runDjangoOps(t *testing.T, py, key string, ops []map[string]any) []djangoResult {
	t.Helper()
	in, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, "-c", djangoInteropScript, key)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PYTHONIOENCODING=utf-8", "PYTHONHASHSEED=0"}
	cmd.Stdin = bytes.NewReader(in)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	if err := cmd.Run(); err != nil {
		t.Fatalf("python: %v\n%s", err, e.String())
	}
	var results []djangoResult
	if err := json.Unmarshal(o.Bytes(), &results); err != nil || len(results) != len(ops) {
		t.Fatalf("python output (%v): %d results for %d ops\n%s\n%s", err, len(results), len(ops), o.String(), e.String())
	}
	return results
}

// djangoInteropScript runs each op with Django 3.2's own classes:
// SessionStore.encode/decode/_legacy_encode (db backend), the
// signed_cookies SessionStore, django-redis's DefaultClient encode/decode
// logic over its serializer and compressor classes, and pymemcache's
// pickle_serde. normal() is the JSON normal form of vectors/README.md.
const djangoInteropScript = `
import base64, datetime, decimal, json, sys, uuid
from django.conf import settings
import os, tempfile
settings.configure(SECRET_KEY=sys.argv[1], INSTALLED_APPS=["django.contrib.sessions"], USE_TZ=True,
    DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    CACHES={"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache", "LOCATION": tempfile.mkdtemp()},
            "db": {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "djs_cache"}})
import django
django.setup()
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
call_command("createcachetable", verbosity=0)
from django.core import signing
from django.contrib.sessions.backends.db import SessionStore as DBStore
from django.contrib.sessions.backends.signed_cookies import SessionStore as CookieStore
from django.contrib.sessions.serializers import JSONSerializer, PickleSerializer
from django_redis.exceptions import CompressorError
from django_redis.serializers.pickle import PickleSerializer as RPickle
from django_redis.serializers.json import JSONSerializer as RJSON
from django_redis.serializers.msgpack import MSGPackSerializer as RMsgpack
from django_redis.compressors.identity import IdentityCompressor
from django_redis.compressors.zlib import ZlibCompressor
from django_redis.compressors.lzma import LzmaCompressor
from django_redis.compressors.lz4 import Lz4Compressor
from pymemcache import serde

SERIALIZERS = {"json": JSONSerializer, "pickle": PickleSerializer}
RSER = {"pickle": RPickle, "json": RJSON, "msgpack": RMsgpack}
RCOMP = {"none": IdentityCompressor, "zlib": ZlibCompressor, "lzma": LzmaCompressor, "lz4": Lz4Compressor}

def types_dict():
    return {
        "aware": datetime.datetime(2024, 2, 29, 13, 45, 30, 123456, tzinfo=datetime.timezone.utc),
        "naive": datetime.datetime(2020, 1, 1), "date": datetime.date(1999, 12, 31),
        "time": datetime.time(23, 59, 59, 5), "dec": decimal.Decimal("12345.6789"),
        "set": {3, 1, 2}, "fs": frozenset({"b", "a"}), "tuple": (1, "two", 3.0),
        "bytes": b"\x00\xffbin", "uuid": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "big": 2**70, "neg": -2**64, "uni": "Zo\u00eb \U0001f389", "nested": {"k": [1, {"x": None}], 5: "int key"},
        "_auth_user_id": "1",
    }

def normal(v):
    if isinstance(v, dict):
        return {str(k): normal(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [normal(x) for x in v]
    if isinstance(v, (set, frozenset)):
        items = [normal(x) for x in v]
        return sorted(items, key=lambda x: json.dumps(x))
    if isinstance(v, (datetime.datetime, datetime.date, datetime.time)):
        return v.isoformat()
    if isinstance(v, (decimal.Decimal, uuid.UUID)):
        return str(v)
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode()
    return v

def the_dict(op):
    return types_dict() if op["dict"] == "" else json.loads(op["dict"])

def raw(op):
    return base64.b64decode(op["data_b64"])

def run(op):
    kind = op["op"]
    if kind == "session_decode":
        s = DBStore()
        s.serializer = SERIALIZERS[op["serializer"]]
        d = s.decode(op["data"])
        if not d:
            raise ValueError("decode gave {}")
        return {"value": normal(d)}
    if kind == "session_encode":
        d = the_dict(op)
        s = DBStore()
        s.serializer = SERIALIZERS[op["serializer"]]
        if op["form"] == "legacy":
            data = s._legacy_encode(d)
        elif op["form"] == "sha1":  # format S signed with SHA-1, as 3.1.0 wrote with DEFAULT_HASHING_ALGORITHM = "sha1"
            data = signing.TimestampSigner(salt=s.key_salt, algorithm="sha1").sign_object(d, serializer=s.serializer, compress=True)
        else:
            data = s.encode(d)
        return {"data": data, "value": normal(d)}
    if kind == "cookie_load":
        s = CookieStore(session_key=op["data"])
        s.serializer = SERIALIZERS[op["serializer"]]
        d = s.load()
        if not d:
            raise ValueError("load gave {}")
        return {"value": normal(d)}
    if kind == "cookie_save":
        d = the_dict(op)
        ser = SERIALIZERS[op["serializer"]]
        if op["form"] == "sha1":
            data = signing.TimestampSigner(salt="django.contrib.sessions.backends.signed_cookies", algorithm="sha1").sign_object(
                d, serializer=ser, compress=True)
        else:
            s = CookieStore()
            s.serializer = ser
            for k, x in d.items():
                s[k] = x
            s.save()
            data = s.session_key
        return {"data": data, "value": normal(d)}
    if kind == "redis_decode":  # django_redis.client.DefaultClient.decode
        value = raw(op)
        try:
            value = int(value)
        except (ValueError, TypeError):
            try:
                value = RCOMP[op["compressor"]]({}).decompress(value)
            except CompressorError:
                pass
            value = RSER[op["serializer"]]({}).loads(value)
        return {"value": normal(value)}
    if kind == "redis_encode":  # DefaultClient.encode
        d = the_dict(op)
        data = RCOMP[op["compressor"]]({}).compress(RSER[op["serializer"]]({}).dumps(d))
        return {"data_b64": base64.b64encode(data).decode(), "value": normal(d)}
    if kind == "memcache_decode":
        return {"value": normal(serde.pickle_serde.deserialize("k", raw(op), op["flags"]))}
    if kind == "memcache_encode":
        d = the_dict(op)
        data, flags = serde.pickle_serde.serialize("k", d)
        if flags != 1:
            raise ValueError("flags %d" % flags)
        return {"data_b64": base64.b64encode(data).decode(), "value": normal(d)}
    if kind == "filecache_decode":  # the file's bytes under a key's name, then FileBasedCache.get
        c = caches["default"]
        with open(c._key_to_file("k"), "wb") as f:
            f.write(raw(op))
        v = c.get("k", "MISSING")
        if v == "MISSING":
            raise ValueError("FileBasedCache.get missed")
        return {"value": normal(v)}
    if kind == "filecache_encode":  # FileBasedCache.set, then the file's bytes
        c = caches["default"]
        d = the_dict(op)
        c.set("k", d, 300)
        with open(c._key_to_file("k"), "rb") as f:
            return {"data_b64": base64.b64encode(f.read()).decode(), "value": normal(d)}
    if kind == "dbcache_decode":  # the value column's text under a live row, then DatabaseCache.get
        c = caches["db"]
        c.set("k", 0, 300)
        with connection.cursor() as cur:
            cur.execute("UPDATE djs_cache SET value = %s WHERE cache_key = %s", [op["data"], c.make_key("k")])
        return {"value": normal(c.get("k"))}
    if kind == "dbcache_encode":  # DatabaseCache.set, then the value column's text
        c = caches["db"]
        d = the_dict(op)
        c.set("k", d, 300)
        with connection.cursor() as cur:
            cur.execute("SELECT value FROM djs_cache WHERE cache_key = %s", [c.make_key("k")])
            return {"data": cur.fetchone()[0], "value": normal(d)}
    raise ValueError("unknown op " + kind)

out = []
for op in json.load(sys.stdin):
    try:
        out.append(run(op))
    except Exception as e:
        out.append({"error": "%s: %s" % (type(e).__name__, e)})
json.dump(out, sys.stdout)
`
