package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache/dbcache"
	"github.com/djsession/djsession/django"
)

// Tests of the store commands on the cache and cached_db engines against
// real servers: Redis at $DJSESSION_REDIS_URL (default
// redis://127.0.0.1:6379/0) and memcached at $DJSESSION_MEMCACHED_ADDR
// (default 127.0.0.1:11211). A missing server skips, or fails with
// DJSESSION_REQUIRE_SERVICES=1.

// serviceAddr returns $envVar, or def when it is unset.
func serviceAddr(envVar, def string) string {
	v := os.Getenv(envVar)
	if v == "" {
		v = def
	}
	return v
}

// requireServer dials addr, skipping (or failing, when services are
// required) when nothing answers.
func requireServer(t *testing.T, what, addr string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		return
	}
	msg := fmt.Sprintf("%s at %s unavailable: %v", what, addr, err)
	if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg + " (set DJSESSION_REQUIRE_SERVICES=1 to make this a failure)")
}

func randomPrefix(t *testing.T) string {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	return "djstest" + hex.EncodeToString(b[:])
}

// redisGet returns the raw bytes of key, as `redis-cli GET` prints them
// (without its newline), speaking RESP directly.
func redisGet(t *testing.T, redisURL, key string) ([]byte, bool) {
	t.Helper()
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	r := bufio.NewReader(c)
	send := func(args ...string) string {
		var b strings.Builder
		fmt.Fprintf(&b, "*%d\r\n", len(args))
		for _, a := range args {
			fmt.Fprintf(&b, "$%d\r\n%s\r\n", len(a), a)
		}
		if _, err := io.WriteString(c, b.String()); err != nil {
			t.Fatal(err)
		}
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSuffix(line, "\r\n")
	}
	if pw, ok := u.User.Password(); ok {
		if line := send("AUTH", pw); line != "+OK" {
			t.Fatalf("redis AUTH: %q", line)
		}
	}
	if db := strings.TrimPrefix(u.Path, "/"); db != "" {
		if line := send("SELECT", db); line != "+OK" {
			t.Fatalf("redis SELECT: %q", line)
		}
	}
	line := send("GET", key)
	if line == "$-1" {
		return nil, false
	}
	n, err := strconv.Atoi(strings.TrimPrefix(line, "$"))
	if err != nil || !strings.HasPrefix(line, "$") {
		t.Fatalf("redis GET: %q", line)
	}
	buf := make([]byte, n+2)
	if _, err := io.ReadFull(r, buf); err != nil {
		t.Fatal(err)
	}
	return buf[:n], true
}

func TestRedisStoreCommands(t *testing.T) {
	redisURL := serviceAddr("DJSESSION_REDIS_URL", "redis://127.0.0.1:6379/0")
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	requireServer(t, "Redis", u.Host)
	prefix := randomPrefix(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"django-redis pickle", nil},
		{"django-redis json+zlib", []string{"--cache-serializer", "json", "--cache-compressor", "zlib"}},
		{"django RedisCache", []string{"--cache-format", "django"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := []string{"DJANGO_SECRET_KEY=cache-test-key-0001", "SESSION_ENGINE=cache", "CACHE_URL=" + redisURL}
			prefixArg := "--key-prefix=" + prefix + strings.ReplaceAll(tc.name, " ", "_")
			args := append([]string{prefixArg, "--cookie-age", "300"}, tc.args...)
			key := createSession(t, env, `{"_auth_user_id":"9","cart":[1,2]}`, args...)
			t.Cleanup(func() { runCLI(t, append([]string{"rm", key}, args...), env, "") })
			cliCase{args: append([]string{"get", key}, args...), env: env, stdout: `{"_auth_user_id":"9","cart":[1,2]}` + "\n"}.check(t)

			// The raw value, as redis-cli GET prints it, decodes.
			cacheKey := strings.TrimPrefix(prefixArg, "--key-prefix=") + ":1:django.contrib.sessions.cache" + key
			raw, ok := redisGet(t, redisURL, cacheKey)
			if !ok {
				t.Fatalf("no Redis key %s", cacheKey)
			}
			expectDecoded(t, append([]string{"decode", "--engine", "cache"}, tc.args...), string(raw)+"\n",
				[]byte(`{"_auth_user_id":"9","cart":[1,2]}`))

			got := lsJSON(t, env, args...)
			e, ok := got[key]
			if len(got) != 1 || !ok || e.UserID == nil || *e.UserID != "9" || e.ExpireDate == nil {
				t.Fatalf("ls: %+v", got)
			}
			exp, err := time.Parse(time.RFC3339Nano, *e.ExpireDate)
			if d := time.Until(exp); err != nil || d < 200*time.Second || d > 301*time.Second {
				t.Fatalf("ls expire_date %s: %v, %v from now (TTL 300)", *e.ExpireDate, err, d)
			}
			out, _ := storeRun(t, env, "", 0, append([]string{"set", key, `{"_auth_user_id":"10"}`}, args...)...)
			if !strings.Contains(out, `"user_id":"10"`) {
				t.Fatalf("set printed %q", out)
			}
			cliCase{args: append([]string{"get", key}, args...), env: env, stdout: `{"_auth_user_id":"10"}` + "\n"}.check(t)
			storeRun(t, env, "", 0, append([]string{"clearsessions"}, args...)...)
			storeRun(t, env, "", 0, append([]string{"rm", key}, args...)...)
			storeRun(t, env, "", 1, append([]string{"rm", key}, args...)...)
			storeRun(t, env, "", 1, append([]string{"get", key}, args...)...)
			storeRun(t, env, "", 1, append([]string{"set", key, "{}"}, args...)...)
		})
	}
}

func TestMemcachedStoreCommands(t *testing.T) {
	addr := serviceAddr("DJSESSION_MEMCACHED_ADDR", "127.0.0.1:11211")
	requireServer(t, "memcached", addr)
	env := []string{"DJANGO_SECRET_KEY=cache-test-key-0002", "SESSION_ENGINE=cache", "CACHE_URL=memcache://" + addr}
	args := []string{"--key-prefix=" + randomPrefix(t), "--cookie-age", "300"}
	key := createSession(t, env, `{"m":1}`, args...)
	t.Cleanup(func() { runCLI(t, append([]string{"rm", key}, args...), env, "") })
	cliCase{args: append([]string{"get", key}, args...), env: env, stdout: `{"m":1}` + "\n"}.check(t)
	storeRun(t, env, "", 0, append([]string{"set", key, `{"m":2}`}, args...)...)
	cliCase{args: append([]string{"get", key}, args...), env: env, stdout: `{"m":2}` + "\n"}.check(t)
	_, errOut := storeRun(t, env, "", 2, append([]string{"ls"}, args...)...)
	if !strings.Contains(errOut, "cannot list") {
		t.Fatalf("ls on memcached: %q", errOut)
	}
	storeRun(t, env, "", 0, append([]string{"rm", key}, args...)...)
	storeRun(t, env, "", 1, append([]string{"get", key}, args...)...)
	// An address where nothing listens is a store error (exit 2), not
	// "no such session".
	_, errOut = storeRun(t, []string{"DJANGO_SECRET_KEY=x-123456", "SESSION_ENGINE=cache", "CACHE_URL=memcache://127.0.0.1:1"},
		"", 2, "get", key)
	if !strings.Contains(errOut, "store") {
		t.Fatalf("get on a dead server: %q", errOut)
	}
}

// TestCachedDBStoreCommands runs cached_db over a copy of the sample SQLite
// database and Redis: the row and the cache entry are both written.
func TestCachedDBStoreCommands(t *testing.T) {
	redisURL := serviceAddr("DJSESSION_REDIS_URL", "redis://127.0.0.1:6379/0")
	u, err := url.Parse(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	requireServer(t, "Redis", u.Host)
	_, m, dbEnv := copySampleDB(t)
	prefix := randomPrefix(t)
	env := append(dbEnv, "SESSION_ENGINE=cached_db", "CACHE_URL="+redisURL)
	args := []string{"--key-prefix=" + prefix}
	key := createSession(t, env, `{"_auth_user_id":"1"}`, args...)
	t.Cleanup(func() { runCLI(t, append([]string{"rm", key}, args...), env, "") })
	if _, ok := redisGet(t, redisURL, prefix+":1:django.contrib.sessions.cached_db"+key); !ok {
		t.Fatal("cached_db create wrote no cache entry")
	}
	cliCase{args: append([]string{"get", key}, args...), env: env, stdout: `{"_auth_user_id":"1"}` + "\n"}.check(t)
	// The row is there too: the db engine reads it.
	dbOnly := append(append([]string{}, dbEnv...), "SESSION_ENGINE=db")
	cliCase{args: []string{"get", key}, env: dbOnly, stdout: `{"_auth_user_id":"1"}` + "\n"}.check(t)
	got := lsJSON(t, env, append(args, "--now="+jsonInt(m.Now))...)
	if _, ok := got[key]; !ok || len(got) != len(m.Sessions)+1 {
		t.Fatalf("ls: %+v", got)
	}
	storeRun(t, env, "", 0, append([]string{"clearsessions", "--now=" + jsonInt(m.Now)}, args...)...)
	storeRun(t, env, "", 0, append([]string{"rm", key}, args...)...)
	storeRun(t, env, "", 1, append([]string{"get", key}, args...)...)
	storeRun(t, dbOnly, "", 1, "get", key)
}

// TestDjangoCacheStoreCommands runs the store commands on the cache engine
// over Django's FileBasedCache (filecache://, which cannot list its keys)
// and DatabaseCache (dbcache://TABLE in DATABASE_URL's database, a SQLite
// file here; its table made as createcachetable makes it).
func TestDjangoCacheStoreCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "cache")
	dbPath := filepath.Join(t.TempDir(), "cache.sqlite3")
	setup, err := dbcache.Open("sqlite:///"+dbPath, "djs_cache", django.DefaultSettings("x"), dbcache.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := setup.CreateTable(t.Context()); err != nil {
		t.Fatal(err)
	}
	setup.Close()
	for _, tc := range []struct {
		name   string
		env    []string
		listed bool
	}{
		{"filecache", []string{"CACHE_URL=filecache://" + dir}, false},
		{"dbcache", []string{"CACHE_URL=dbcache://djs_cache?max_entries=1000", "DATABASE_URL=sqlite:///" + dbPath}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env := append([]string{"DJANGO_SECRET_KEY=cache-test-key-0003", "SESSION_ENGINE=cache"}, tc.env...)
			args := []string{"--cookie-age", "300", "--now", "1800000000"}
			key := createSession(t, env, `{"f":1}`, args...)
			cliCase{args: append([]string{"get", key}, args...), env: env, stdout: `{"f":1}` + "\n"}.check(t)
			storeRun(t, env, "", 0, append([]string{"set", key, `{"f":2}`}, args...)...)
			cliCase{args: append([]string{"get", key}, args...), env: env, stdout: `{"f":2}` + "\n"}.check(t)
			if tc.listed {
				got := lsJSON(t, env, args...)
				if e, ok := got[key]; !ok || len(got) != 1 || e.ExpireDate == nil || *e.ExpireDate != "2027-01-15T08:05:00+00:00" {
					t.Fatalf("ls: %+v", got)
				}
			} else if _, errOut := storeRun(t, env, "", 2, append([]string{"ls"}, args...)...); !strings.Contains(errOut, "cannot list") {
				t.Fatalf("ls on the file cache: %q", errOut)
			}
			// Django keeps the entry at its expiry instant (expires < now is
			// expired), not a second later.
			storeRun(t, env, "", 0, "get", key, "--now", "1800000300")
			storeRun(t, env, "", 1, "get", key, "--now", "1800000301")
			// Reading it then deleted it, as Django's get does.
			storeRun(t, env, "", 1, append([]string{"rm", key}, args...)...)
			key = createSession(t, env, `{"f":3}`, args...)
			storeRun(t, env, "", 0, append([]string{"rm", key}, args...)...)
			storeRun(t, env, "", 1, append([]string{"get", key}, args...)...)
		})
	}
	// The table lives in the database: no DATABASE_URL is a configuration error.
	_, errOut := storeRun(t, []string{"DJANGO_SECRET_KEY=x-123456", "SESSION_ENGINE=cache", "CACHE_URL=dbcache://djs_cache"}, "", 2, "get", "abcdefghijklmnop")
	if !strings.Contains(errOut, "DATABASE_URL") {
		t.Fatalf("dbcache without a database: %q", errOut)
	}
}
