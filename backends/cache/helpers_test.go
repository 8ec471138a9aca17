package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
)

// testPrefix returns a fresh KEY_PREFIX, so tests sharing a Redis or
// memcached server never see each other's keys.
func testPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "djs-test-" + hex.EncodeToString(b[:])
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// redisURL returns the test Redis server's URL ($DJSESSION_REDIS_URL),
// skipping (or failing, with DJSESSION_REQUIRE_SERVICES=1) when it does
// not answer.
func redisURL(t testing.TB) string {
	t.Helper()
	u := testenv.RedisURL()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("%s: %v", testenv.RedisURLVar, err)
	}
	opt.DialTimeout, opt.MaxRetries = time.Second, -1
	rc := redis.NewClient(opt)
	defer rc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	testenv.Require(t, "Redis at "+testenv.Redact(u), rc.Ping(ctx).Err())
	return u
}

// adminRedis is a plain go-redis client on the test server, for setting up
// and checking what the store wrote.
func adminRedis(t testing.TB, u string) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	rc := redis.NewClient(opt)
	t.Cleanup(func() { rc.Close() })
	return rc
}

// deletePrefix removes every key starting with prefix (SCAN + DEL).
func deletePrefix(t testing.TB, rc *redis.Client, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	iter := rc.Scan(ctx, 0, prefix+"*", 500).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		t.Errorf("cleaning up %s*: %v", prefix, err)
		return
	}
	if len(keys) > 0 {
		if err := rc.Del(ctx, keys...).Err(); err != nil {
			t.Errorf("cleaning up %s*: %v", prefix, err)
		}
	}
}

// memcachedAddr returns the test memcached's host:port
// ($DJSESSION_MEMCACHED_ADDR), skipping or failing when it does not answer.
func memcachedAddr(t testing.TB) string {
	t.Helper()
	addr := testenv.MemcachedAddr()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.SetDeadline(time.Now().Add(time.Second))
		_, err = c.Write([]byte("version\r\n"))
		if err == nil {
			buf := make([]byte, 64)
			var n int
			n, err = c.Read(buf)
			if err == nil && !strings.HasPrefix(string(buf[:n]), "VERSION") {
				err = &net.AddrError{Err: "not a memcached server", Addr: addr}
			}
		}
		c.Close()
	}
	testenv.Require(t, "memcached at "+addr, err)
	return addr
}

// openRedis opens a store on the test Redis with a fresh KEY_PREFIX whose
// keys are deleted when the test ends.
func openRedis(t testing.TB, s *django.Settings, opts ...Option) (*Store, string) {
	t.Helper()
	u := redisURL(t)
	prefix := testPrefix()
	st, err := Open(u, s, append([]Option{WithKeyPrefix(prefix)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	rc := adminRedis(t, u)
	t.Cleanup(func() {
		st.Close()
		deletePrefix(t, rc, prefix)
	})
	return st, prefix
}

// openMemcached opens a store on the test memcached with a fresh
// KEY_PREFIX; the entries it wrote are deleted when the test ends
// (memcached cannot list them).
func openMemcached(t testing.TB, s *django.Settings, opts ...Option) (*Store, string) {
	t.Helper()
	addr := memcachedAddr(t)
	prefix := testPrefix()
	opts = append([]Option{WithKeyPrefix(prefix)}, opts...)
	inner, err := Open("pymemcache://"+addr, s, opts...)
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingClient{Client: inner.Client(), keys: map[string]bool{}}
	st := newStore(rec, s, inner.Format(), collect(opts))
	st.owned = true // Close closes the memcached client, as Open's store does
	t.Cleanup(func() {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		for k := range rec.keys {
			// A test that closed the store leaves its entries to expire.
			if _, err := rec.Client.Delete(context.Background(), k); err != nil && !errors.Is(err, ErrClosed) {
				t.Errorf("cleanup: %v", err)
			}
		}
		inner.Close()
	})
	return st, prefix
}

// recordingClient remembers the keys written through it.
type recordingClient struct {
	Client
	mu   sync.Mutex
	keys map[string]bool
}

func (c *recordingClient) note(key string) {
	c.mu.Lock()
	c.keys[key] = true
	c.mu.Unlock()
}

func (c *recordingClient) ValidateKey(key string) error {
	if v, ok := c.Client.(keyValidator); ok {
		return v.ValidateKey(key)
	}
	return nil
}

func (c *recordingClient) Set(ctx context.Context, key string, it Item, ttl time.Duration) error {
	c.note(key)
	return c.Client.Set(ctx, key, it, ttl)
}

func (c *recordingClient) Add(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	c.note(key)
	return c.Client.Add(ctx, key, it, ttl)
}

func (c *recordingClient) Replace(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	c.note(key)
	return c.Client.Replace(ctx, key, it, ttl)
}

// withDB returns u with its database number replaced.
func withDB(t testing.TB, u string, db string) string {
	t.Helper()
	p, err := url.Parse(u)
	if err != nil {
		t.Fatal(err)
	}
	p.Path = "/" + db
	return p.String()
}
