package dbcache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/testenv"
)

// globCases are (pattern, key, match) triples whose answers follow Redis's
// stringmatchlen; TestGlobMatchesRedis checks them against a real server.
var globCases = []struct {
	pattern, key string
	want         bool
}{
	{"", "", true},
	{"", "a", false},
	{"*", "", true},
	{"*", "anything", true},
	{"a*", "a", true},
	{"a*", "ba", false},
	{"*a", "bba", true},
	{"*a", "bab", false},
	{"a*b*c", "axxbyyc", true},
	{"a*b*c", "axxbyy", false},
	{"a**b", "ab", true},
	{"a*a*a*a*a*a*a*b", strings.Repeat("a", 60), false},
	{"?", "x", true},
	{"?", "", false},
	{"?", "xy", false},
	{"h?llo", "hello", true},
	{"h?llo", "hllo", false},
	{"h[ae]llo", "hallo", true},
	{"h[ae]llo", "hillo", false},
	{"h[^e]llo", "hallo", true},
	{"h[^e]llo", "hello", false},
	{"h[a-b]llo", "hbllo", true},
	{"h[b-a]llo", "hallo", true},
	{"h[a-b]llo", "hcllo", false},
	{"[*]", "*", true},
	{"[*]", "x", false},
	{"[?]x", "?x", true},
	{"[?]x", "ax", false},
	{"[[]", "[", true},
	{"a[[]b*", "a[b:1", true},
	{`\*`, "*", true},
	{`\*`, "a", false},
	{`a\`, `a\`, true},
	{`[\]]`, "]", true},
	{`[\-]`, "-", true},
	{"[a-]", "]", true},
	{"[a-]", "_", true},
	{"[a-]", "b", false},
	{"[]", "a", false},
	{"[^]", "a", true},
	{"[abc", "b", true},
	{"[abc", "d", false},
	{":1:django.contrib.sessions.cache*", ":1:django.contrib.sessions.cacheabc", true},
	{":1:django.contrib.sessions.cache*", ":1:django.contrib.sessions.cached_dbabc", true},
	{":1:django.contrib.sessions.cache*", ":1:django.contrib.sessions.cach", false},
	{"Case*", "case", false},
	{"é*", "é!", true},
	{"?", "é", false}, // two bytes
	{"??", "é", true},
}

func TestGlobMatch(t *testing.T) {
	for _, c := range globCases {
		if got := globMatch(c.pattern, c.key); got != c.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", c.pattern, c.key, got, c.want)
		}
	}
}

// TestGlobMatchesRedis asks a real Redis (SCAN MATCH) the same questions.
func TestGlobMatchesRedis(t *testing.T) {
	opt, err := redis.ParseURL(testenv.RedisURL())
	if err != nil {
		t.Fatal(err)
	}
	opt.DialTimeout, opt.MaxRetries = time.Second, -1
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	testenv.Require(t, "Redis at "+testenv.Redact(testenv.RedisURL()), rc.Ping(ctx).Err())
	var b [6]byte
	_, _ = rand.Read(b[:])
	prefix := "djs-glob-" + hex.EncodeToString(b[:]) + ":"
	keys := map[string]bool{}
	for _, c := range globCases {
		keys[c.key] = true
	}
	for k := range keys {
		if err := rc.Set(ctx, prefix+k, "1", time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		for k := range keys {
			rc.Del(context.Background(), prefix+k)
		}
	})
	for _, c := range globCases {
		var matched []string
		iter := rc.Scan(ctx, 0, prefix+c.pattern, 1000).Iterator()
		for iter.Next(ctx) {
			matched = append(matched, strings.TrimPrefix(iter.Val(), prefix))
		}
		if err := iter.Err(); err != nil {
			t.Fatal(err)
		}
		var ours []string
		for k := range keys {
			if globMatch(prefix+c.pattern, prefix+k) {
				ours = append(ours, k)
			}
		}
		sort.Strings(matched)
		sort.Strings(ours)
		if strings.Join(matched, "\x00") != strings.Join(ours, "\x00") {
			t.Errorf("pattern %q: Redis matches %q, we match %q", c.pattern, matched, ours)
		}
	}
}

func TestLiteralPrefix(t *testing.T) {
	for _, c := range []struct{ pattern, want string }{
		{"", ""},
		{"*", ""},
		{"abc", "abc"},
		{"abc*", "abc"},
		{"ab?c", "ab"},
		{"a[*]b[?]c[[]d*", "a*b?c[d"},
		{"a[bc]d", "a"},
		{"a[^b]d", "a"},
		{`a\*b*`, "a*b"},
		{`a\`, `a\`},
		{"a[b", "a"},
		{codec.MakePattern("django.contrib.sessions.cache*", "my*pre?fix[", 2, nil), "my*pre?fix[:2:django.contrib.sessions.cache"},
	} {
		got := literalPrefix(c.pattern)
		if got != c.want {
			t.Errorf("literalPrefix(%q) = %q, want %q", c.pattern, got, c.want)
		}
		// Every key the pattern matches starts with the prefix.
		if globMatch(c.pattern, got+"zz") && !strings.HasPrefix(got+"zz", got) {
			t.Errorf("%q", c.pattern)
		}
	}
}

// FuzzGlob: globMatch and literalPrefix never panic, and a key the pattern
// matches starts with the literal prefix.
func FuzzGlob(f *testing.F) {
	for _, c := range globCases {
		f.Add(c.pattern, c.key)
	}
	f.Fuzz(func(t *testing.T, pattern, key string) {
		if len(pattern) > 200 || len(key) > 200 {
			return
		}
		if globMatch(pattern, key) && !strings.HasPrefix(key, literalPrefix(pattern)) {
			t.Fatalf("%q matches %q but not its literal prefix %q", pattern, key, literalPrefix(pattern))
		}
	})
}
