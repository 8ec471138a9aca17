package codec

import (
	"errors"
	"strconv"
	"strings"
	"testing"
)

// Hand-derived from spec §6.1 / §7.1.
func TestMakeKey(t *testing.T) {
	for _, c := range []struct {
		key, prefix string
		version     int
		want        string
	}{
		{SessionCachePrefix + "abc", "", 1, ":1:django.contrib.sessions.cacheabc"},
		{CachedDBPrefix + "abc", "", 1, ":1:django.contrib.sessions.cached_dbabc"},
		{"k", "myapp", 3, "myapp:3:k"},
		{"k", "site:ü", -2, "site:ü:-2:k"},
	} {
		if got := MakeKey(c.key, c.prefix, c.version); got != c.want {
			t.Errorf("MakeKey(%q, %q, %d) = %q, want %q", c.key, c.prefix, c.version, got, c.want)
		}
	}
	if r, ok := ReverseKey(":1:django.contrib.sessions.cacheabc"); !ok || r != "django.contrib.sessions.cacheabc" {
		t.Errorf("ReverseKey = %q, %v", r, ok)
	}
	if r, ok := ReverseKey("a:1:b:c"); !ok || r != "b:c" {
		t.Errorf("ReverseKey keeps later colons: %q, %v", r, ok)
	}
	if _, ok := ReverseKey("nocolon:x"); ok {
		t.Error("ReverseKey of a one-colon key")
	}
	custom := func(key, prefix string, version int) string { return prefix + "|" + key }
	if got := MakePattern("s*", "p*", 1, custom); got != "p[*]|s*" {
		t.Errorf("MakePattern with a KeyFunc = %q", got)
	}
}

// django-redis 5.2's make_key / make_pattern and Django 3.2's
// memcache_key_warnings, run in Python.
const pyKeyScript = `
need("django", "django_redis")
import django
from django.conf import settings
settings.configure(CACHES={"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": "redis://127.0.0.1:1/0"}})
django.setup()
from django.core.cache import caches
from django.core.cache.backends.base import memcache_key_warnings
from django_redis.cache import RedisCache
for line in sys.stdin:
    c = json.loads(line)
    r = {"name": c["name"], "kind": c["kind"]}
    if c["kind"] == "warnings":
        r["out"] = json.dumps(list(memcache_key_warnings(c["name"])))
    else:
        prefix, version = c.get("extra", ""), int(c.get("flags", 0))
        cache = RedisCache("redis://127.0.0.1:1/0", {"KEY_PREFIX": prefix, "VERSION": version})
        r["data"] = str(cache.client.make_key(c["name"]))
        r["out"] = str(cache.client.make_pattern(c["name"]))
    print(json.dumps(r))
`

func TestKeysMatchPython(t *testing.T) {
	var req []pyCase
	for _, p := range []struct {
		pattern, prefix string
		version         uint32
	}{
		{SessionCachePrefix + "*", "", 1}, {SessionCachePrefix + "*", "a*b?[c]", 3}, {"x?", "site:ü", 2}, {"*", "[[", 10},
	} {
		req = append(req, pyCase{Name: p.pattern, Kind: "pattern", Extra: p.prefix, Flags: p.version})
	}
	keys := []string{
		":1:" + SessionCachePrefix + "abcdefgh12345678", "with space", "tab\t", "del\x7f", "nul\x00", "ok!~",
		strings.Repeat("k", 250), strings.Repeat("k", 251), strings.Repeat("é", 250), strings.Repeat("é", 251) + " ",
		"ünïcode", "nbsp\u00a0", "quote'\"",
	}
	for _, k := range keys {
		req = append(req, pyCase{Name: k, Kind: "warnings"})
	}
	res := pyLines(t, pyKeyScript, req)
	if len(res) != len(req) {
		t.Fatalf("python answered %d of %d", len(res), len(req))
	}
	for i, r := range res {
		if r.Kind == "pattern" {
			v := int(req[i].Flags)
			if got := MakeKey(req[i].Name, req[i].Extra, v); got != r.Data {
				t.Errorf("MakeKey(%q, %q, %d) = %q, django-redis %q", req[i].Name, req[i].Extra, v, got, r.Data)
			}
			if got := MakePattern(req[i].Name, req[i].Extra, v, nil); got != r.Out {
				t.Errorf("MakePattern(%q, %q, %d) = %q, django-redis %q", req[i].Name, req[i].Extra, v, got, r.Out)
			}
			continue
		}
		w := MemcacheKeyWarnings(r.Name)
		got := "[]"
		if len(w) > 0 {
			var q []string
			for _, s := range w {
				q = append(q, strconv.Quote(s))
			}
			got = "[" + strings.Join(q, ", ") + "]"
		}
		if !sameJSON(t, []byte(got), []byte(r.Out)) {
			t.Errorf("MemcacheKeyWarnings(%q) = %s, Django %s", r.Name, got, r.Out)
		}
		err := ValidateMemcachedKey(r.Name)
		if (err != nil) != (len(w) > 0) || (err != nil && !errors.Is(err, ErrInvalidKey)) {
			t.Errorf("ValidateMemcachedKey(%q) = %v", r.Name, err)
		}
	}
}
