package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// djsScript is the test Django project's driver (testdata/djangoproject).
func djsScript(t testing.TB) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	p := filepath.Join(filepath.Dir(file), "..", "..", "testdata", "djangoproject", "djs.py")
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("test Django project: %v", err)
	}
	return p
}

// runDjango runs one djs.py batch (one Python process) with env and
// returns the results, one per op.
func runDjango(t testing.TB, env []string, ops []map[string]any) []json.RawMessage {
	t.Helper()
	havePython(t)
	in, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(pythonBin, djsScript(t), "batch")
	cmd.Env = append(append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1"), env...)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok && ee.ExitCode() == 77 {
		testenv.Require(t, "Django for "+pythonBin, err)
	}
	if err != nil {
		t.Fatalf("djs.py batch: %v\n%s", err, stderr.String())
	}
	var res []json.RawMessage
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("djs.py output %q: %v", out, err)
	}
	for i, r := range res {
		var e struct{ Error, Message string }
		if json.Unmarshal(r, &e) == nil && e.Error != "" {
			t.Fatalf("djs.py op %d: %s: %s", i, e.Error, e.Message)
		}
	}
	return res
}

// sameJSON compares two JSON texts as parsed values (numbers by text).
// djangoRW is what the interop eval snippets answer: per cache alias, the
// sessions Django read (normal form) and the keys of those it wrote.
type djangoRW struct {
	Read    map[string][]json.RawMessage `json:"read"`
	Written map[string][]string          `json:"written"`
}

// djangoReadWrite runs an eval snippet in Django with the given CACHES and
// SESSION_ENGINE=cache, and decodes its answer.
func djangoReadWrite(t testing.TB, caches map[string]any, code string, input map[string]any) djangoRW {
	t.Helper()
	cachesJSON, _ := json.Marshal(caches)
	res := runDjango(t, []string{"SESSION_ENGINE=cache", "DJS_CACHES=" + string(cachesJSON)}, []map[string]any{
		{"op": "eval", "code": code, "input": input},
	})
	var out struct {
		Result djangoRW `json:"result"`
	}
	if err := json.Unmarshal(res[0], &out); err != nil {
		t.Fatal(err)
	}
	return out.Result
}

func sameJSON(t testing.TB, a, b []byte) bool {
	t.Helper()
	parse := func(x []byte) any {
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("bad JSON %q: %v", x, err)
		}
		return v
	}
	return reflect.DeepEqual(parse(a), parse(b))
}

// Session data exchanged with Django: JSON-native values every serializer
// carries, and Python types only pickle carries ($-tagged for djs.py).
// ASCII only: py.DecodeJSON reads bytes as Latin-1, as Django's
// JSONSerializer does.
const (
	interopBase = `{"_auth_user_id": "42", "_auth_user_backend": "django.contrib.auth.backends.ModelBackend",
		"_auth_user_hash": "3f1c8e0a9b7d6c5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e",
		"count": 7, "ratio": 1.5, "big": 12345678901234567890, "items": [1, "x", null, true, false],
		"nested": {"a": {"b": []}}, "uni": "Zo\u00eb \ud83c\udf89 \u2028 \u043a\u043b\u044e\u0447", "_session_expiry": 3600}`
	interopExtra = djangotest.TypedJSON
)

// interopData returns the session dict of interopBase (and, with extra,
// interopExtra) as Go values.
func interopData(t testing.TB, extra bool) *py.Dict {
	t.Helper()
	v, err := py.DecodeJSON([]byte(interopBase))
	if err != nil {
		t.Fatal(err)
	}
	d, _ := v.Dict()
	if extra {
		for _, e := range djangotest.TypedData().Entries() {
			d.Set(e.Key, e.Value)
		}
	}
	return d
}

// interopInput returns the same data as djs.py input, keys in order.
// saveInteropSessions saves interopData(false), and interopData(true) when
// withExtra, as new sessions in st and returns their keys.
func saveInteropSessions(ctx context.Context, t testing.TB, st *Store, s *django.Settings, name string, withExtra bool) []string {
	t.Helper()
	var keys []string
	for _, extra := range []bool{false, true} {
		if extra && !withExtra {
			continue
		}
		sess := django.NewSession(ctx, st, s, "")
		for _, e := range interopData(t, extra).Entries() {
			k, _ := e.Key.Str()
			sess.Set(k, e.Value)
		}
		if err := sess.Save(false); err != nil {
			t.Fatalf("%s: save: %v", name, err)
		}
		keys = append(keys, sess.SessionKey())
	}
	return keys
}

func interopInput(extra bool) json.RawMessage {
	if !extra {
		return json.RawMessage(interopBase)
	}
	base := strings.TrimSuffix(strings.TrimSpace(interopBase), "}")
	return json.RawMessage(base + ", " + strings.TrimPrefix(strings.TrimSpace(interopExtra), "{"))
}

// The Django side of TestDjangoInterop, run in djs.py's eval: read the
// sessions we wrote, write sessions for us to read.
const interopEval = `
from django.test import override_settings
from importlib import import_module
SessionStore = import_module("django.contrib.sessions.backends.cache").SessionStore
out = {"read": {}, "written": {}}
for alias, keys in input["read"].items():
    with override_settings(SESSION_CACHE_ALIAS=alias):
        out["read"][alias] = [dict(SessionStore(k).load()) for k in keys]
for alias, datas in input["write"].items():
    with override_settings(SESSION_CACHE_ALIAS=alias):
        keys = []
        for data in datas:
            s = SessionStore()
            for k, v in data.items():
                s[k] = v
            s.save()
            keys.append(s.session_key)
        out["written"][alias] = keys
result = out
`

type interopAlias struct {
	name   string
	cache  map[string]any // the CACHES entry
	url    string         // our CACHE_URL
	opts   []Option
	pickle bool // the serializer carries Python types
	exact  bool // the stored bytes are deterministic (no compression)
	// deadFirst: LOCATION's first server is down and writes go on to the
	// next (REPLICA_READ_ONLY = False); deletes, not retried, fail.
	deadFirst bool
}

// deadFirstAlias is django-redis with LOCATION = [a server that is down,
// the test Redis] and REPLICA_READ_ONLY = False: Django's writes and ours
// land on the test Redis after the first server refuses them, and both
// read from it (the replica).
func deadFirstAlias(t *testing.T, ru, prefix string) interopAlias {
	u, err := url.Parse(ru)
	if err != nil || u.Scheme != "redis" {
		t.Fatalf("%s: want a redis:// URL (%v)", testenv.RedisURLVar, err)
	}
	deadAddr := "127.0.0.1:" + strconv.Itoa(freePort(t, false))
	q := url.Values{"replica_read_only": {"false"}, "dial_timeout": {"1s"}}
	if pw, ok := u.User.Password(); ok {
		q.Set("password", pw) // for every server of the list
	}
	dead := "redis://" + deadAddr + u.Path
	ours := "redis://" + deadAddr + "," + u.Host + u.Path + "?" + q.Encode()
	return interopAlias{
		name: "djr_replica_writes",
		cache: map[string]any{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": []string{dead, ru},
			"KEY_PREFIX": prefix, "OPTIONS": map[string]any{"REPLICA_READ_ONLY": false}},
		url: ours, pickle: true, exact: true, deadFirst: true,
	}
}

// TestDjangoInterop: Django 3.2 with django-redis 5.2 (pickle, json,
// msgpack × none, zlib, lzma, lz4) and Django's PyMemcacheCache and
// PyLibMCCache writes sessions through its cache backend and we read them;
// we write, and Django's SessionStore(key).load() reads ours. Where the
// value is deterministic the stored bytes (and memcached flags) must be
// identical.
func TestDjangoInterop(t *testing.T) {
	havePython(t)
	ru := redisURL(t)
	ma := memcachedAddr(t)
	prefix := testPrefix()
	t.Cleanup(func() { deletePrefix(t, adminRedis(t, ru), prefix) })
	var aliases []interopAlias
	for _, ser := range []string{"pickle", "json", "msgpack"} {
		for _, comp := range []string{"none", "zlib", "lzma", "lz4"} {
			cls := map[string]string{"pickle": "pickle.PickleSerializer", "json": "json.JSONSerializer", "msgpack": "msgpack.MSGPackSerializer"}[ser]
			opts := map[string]any{"SERIALIZER": "django_redis.serializers." + cls}
			if comp != "none" {
				opts["COMPRESSOR"] = map[string]string{"zlib": "django_redis.compressors.zlib.ZlibCompressor",
					"lzma": "django_redis.compressors.lzma.LzmaCompressor", "lz4": "django_redis.compressors.lz4.Lz4Compressor"}[comp]
			}
			aliases = append(aliases, interopAlias{
				name:   "djr_" + ser + "_" + comp,
				cache:  map[string]any{"BACKEND": "django_redis.cache.RedisCache", "LOCATION": ru, "KEY_PREFIX": prefix, "OPTIONS": opts},
				url:    ru,
				opts:   []Option{WithSerializer(ser), WithCompressor(comp)},
				pickle: ser == "pickle",
				exact:  comp == "none",
			})
		}
	}
	aliases = append(aliases, deadFirstAlias(t, ru, prefix),
		interopAlias{name: "pymemcache", cache: map[string]any{"BACKEND": "django.core.cache.backends.memcached.PyMemcacheCache",
			"LOCATION": ma, "KEY_PREFIX": prefix}, url: "pymemcache://" + ma, pickle: true, exact: true},
		interopAlias{name: "pylibmc", cache: map[string]any{"BACKEND": "django.core.cache.backends.memcached.PyLibMCCache",
			"LOCATION": ma, "KEY_PREFIX": prefix}, url: "pylibmc://" + ma, pickle: true, exact: true},
	)
	s, _ := storetest.Settings()
	s.Clock = nil // Django runs on the wall clock
	ctx := testCtx(t)
	caches := map[string]any{}
	stores := map[string]*Store{}
	read := map[string][]string{}
	write := map[string][]json.RawMessage{}
	for _, a := range aliases {
		caches[a.name] = a.cache
		st, err := Open(a.url, s, append([]Option{WithKeyPrefix(prefix)}, a.opts...)...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		stores[a.name] = st
		// Ours: [base, base+extra where the serializer carries it].
		read[a.name] = saveInteropSessions(ctx, t, st, s, a.name, a.pickle)
		write[a.name] = []json.RawMessage{interopInput(false)}
		if a.pickle {
			write[a.name] = append(write[a.name], interopInput(true))
		}
	}
	caches["default"] = caches[aliases[0].name]
	out := djangoReadWrite(t, caches, interopEval, map[string]any{"read": read, "write": write})
	for _, a := range aliases {
		t.Run(a.name, func(t *testing.T) {
			st := stores[a.name]
			t.Cleanup(func() {
				if a.deadFirst {
					return // deletes go to the dead server; deletePrefix cleans up
				}
				// memcached cannot delete by prefix: remove each session.
				for _, k := range append(append([]string(nil), read[a.name]...), out.Written[a.name]...) {
					if err := st.Delete(ctx, k); err != nil {
						t.Errorf("cleanup: %v", err)
					}
				}
			})
			// Django read ours.
			for i, got := range out.Read[a.name] {
				want, err := py.NormalJSON(py.DictOf(interopData(t, i == 1)))
				if err != nil {
					t.Fatal(err)
				}
				if !sameJSON(t, got, want) {
					t.Errorf("Django read our session %d as\n %s\nwant\n %s", i, got, want)
				}
			}
			if len(out.Read[a.name]) != len(read[a.name]) {
				t.Fatalf("Django read %d sessions", len(out.Read[a.name]))
			}
			// We read Django's.
			keys := out.Written[a.name]
			for i, key := range keys {
				d, found, err := st.Load(ctx, key)
				if err != nil || !found {
					t.Fatalf("Load(Django's session %d): %v %v", i, found, err)
				}
				got, _ := py.NormalJSON(py.DictOf(d))
				want, _ := py.NormalJSON(py.DictOf(interopData(t, i == 1)))
				if !sameJSON(t, got, want) {
					t.Errorf("we read Django's session %d as\n %s\nwant\n %s", i, got, want)
				}
			}
			// Same bytes (and flags) for the same dict, where deterministic.
			if a.exact {
				for i := range keys {
					ours, _, err1 := st.Client().Get(ctx, st.CacheKey(read[a.name][i]))
					theirs, _, err2 := st.Client().Get(ctx, st.CacheKey(keys[i]))
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					if !bytes.Equal(ours.Value, theirs.Value) || ours.Flags != theirs.Flags {
						t.Errorf("session %d: stored %x (flags %d), Django stored %x (flags %d)",
							i, ours.Value, ours.Flags, theirs.Value, theirs.Flags)
					}
				}
			}
			// TTL: _session_expiry 3600 → a timeout of 3600 s on both.
			if a.url == ru {
				rc := adminRedis(t, ru)
				for _, k := range []string{read[a.name][0], keys[0]} {
					ttl, err := rc.TTL(ctx, st.CacheKey(k)).Result()
					if err != nil || ttl < 3590*time.Second || ttl > 3600*time.Second {
						t.Errorf("TTL of %s: %v %v", k, ttl, err)
					}
				}
			}
		})
	}
}
