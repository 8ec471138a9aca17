package cache

import (
	"encoding/json"
	"fmt"
	"regexp"
	"testing"
	"unicode/utf8"
)

// The examples of spec §7.5, computed with django-redis's HashRing [C].
func TestHashRingSpecExamples(t *testing.T) {
	ring := NewHashRing([]string{"redis://127.0.0.1:6379/1", "redis://127.0.0.1:6379/2"})
	for _, tc := range []struct{ key, node string }{
		{":1:foo", "redis://127.0.0.1:6379/1"},
		{"foo", "redis://127.0.0.1:6379/1"},
		{"bar", "redis://127.0.0.1:6379/2"},
		{":1:django.contrib.sessions.cacheabcdefgh12345678", "redis://127.0.0.1:6379/2"},
	} {
		if got := ring.Node(tc.key); got != tc.node {
			t.Errorf("Node(%q) = %q, want %q", tc.key, got, tc.node)
		}
	}
	if NewHashRing(nil).Node("x") != "" || NewHashRing(nil).NodeIndex("x") != -1 {
		t.Error("an empty ring must give no node")
	}
}

// Hash tags by hand from Python's re.match(r".*\{(.*)\}.*", key): greedy,
// "." stops at a newline.
func TestHashTag(t *testing.T) {
	for _, tc := range []struct{ key, want string }{
		{"plain", "plain"},
		{":1:{user1}.session", "user1"},
		{"{a}{b}", "b"},
		{"{a}b}", "a}b"},
		{"x{a{b}c", "b"},
		{"{}", ""},
		{"}{", "}{"},
		{"{a\n}", "{a\n}"},
		{"{a}\n{b}", "a"},
		{"no close {", "no close {"},
	} {
		if got := HashTag(tc.key); got != tc.want {
			t.Errorf("HashTag(%q) = %q, want %q", tc.key, got, tc.want)
		}
	}
}

// TestHashRingMatchesDjangoRedis compares server choice with django-redis
// 5.2's ShardClient.get_server_name for many keys and three nodes.
func TestHashRingMatchesDjangoRedis(t *testing.T) {
	nodes := []string{"redis://10.0.0.1:6379/0", "redis://10.0.0.2:6379/0", "rediss://:pw@cache-3.internal:6380/0"}
	var keys []string
	for i := range 2000 {
		keys = append(keys, fmt.Sprintf(":1:django.contrib.sessions.cache%032x", i*7919))
	}
	keys = append(keys, "", "{", "}", "{tag}x", "a{tag}b{c}", "x\n{y}", "{ü}", "é{ß}", ":9:{user:42}:cart")
	in, _ := json.Marshal(map[string]any{"nodes": nodes, "keys": keys})
	out := runPython(t, `
need("django_redis")
import json, sys
from django.conf import settings
settings.configure()
from django_redis.client.sharded import ShardClient
from django_redis.hash_ring import HashRing
p = json.load(sys.stdin)
ring = HashRing(p["nodes"])
# ShardClient.get_server_name without a connection: the same regex, then the ring.
class C: _findhash = ShardClient._findhash; _ring = ring
print(json.dumps([ShardClient.get_server_name(C, k) for k in p["keys"]]))
`, in)
	var want []string
	if err := json.Unmarshal(out, &want); err != nil {
		t.Fatalf("python output %q: %v", out, err)
	}
	ring := NewHashRing(nodes)
	counts := map[string]int{}
	for i, k := range keys {
		got := ring.Node(k)
		counts[got]++
		if got != want[i] {
			t.Errorf("Node(%q) = %q, django-redis %q", k, got, want[i])
		}
	}
	if len(counts) != 3 {
		t.Errorf("keys spread over %d nodes: %v", len(counts), counts)
	}
}

func BenchmarkHashRingNode(b *testing.B) {
	ring := NewHashRing([]string{"redis://a:6379/0", "redis://b:6379/0", "redis://c:6379/0"})
	b.ReportAllocs()
	for b.Loop() {
		ring.NodeIndex(":1:django.contrib.sessions.cacheabcdefghijklmnopqrstuvwxyz012345")
	}
}

// hashTagRE is django-redis's _findhash in Go's syntax; Go's regexp picks
// the same (leftmost, greedy-first) submatch as Python's re.match here.
var hashTagRE = regexp.MustCompile(`^.*\{(.*)\}`)

func FuzzHashTag(f *testing.F) {
	for _, s := range []string{"plain", ":1:{user1}.session", "{a}{b}", "{a}b}", "x{a{b}c", "{a\n}", "{a}\n{b}", "é{ß}"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		want := key
		if m := hashTagRE.FindStringSubmatch(key); m != nil {
			want = m[1]
		}
		if !utf8.ValidString(key) {
			// Python keys are text; only check we do not panic.
			HashTag(key)
			return
		}
		if got := HashTag(key); got != want {
			t.Fatalf("HashTag(%q) = %q, regexp %q", key, got, want)
		}
	})
}
