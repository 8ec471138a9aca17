package cache

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
)

// closedPort returns a loopback address nothing listens on.
func closedPort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// silentServer accepts connections and never answers; it closes them when
// the test ends.
func silentServer(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().String()
}

// TestDeadServers: a closed port and a server that accepts and never
// answers give ErrUnavailable within the configured timeouts, never a
// hang, for every operation.
func TestDeadServers(t *testing.T) {
	s, _ := storetest.Settings()
	for _, tc := range []struct {
		name  string
		url   func(t *testing.T) string
		opts  []Option
		limit time.Duration
	}{
		{"redis-closed", func(t *testing.T) string { return "redis://" + closedPort(t) + "/0" }, nil, time.Second},
		{"redis-silent-defaults", func(t *testing.T) string { return "redis://" + silentServer(t) + "/0" }, nil,
			DefaultDialTimeout + DefaultReadTimeout + 500*time.Millisecond},
		{"redis-silent", func(t *testing.T) string { return "redis://" + silentServer(t) + "/0" },
			[]Option{WithReadTimeout(150 * time.Millisecond)}, time.Second},
		{"redis-silent-replicas", func(t *testing.T) string {
			return "redis://" + silentServer(t) + "," + silentServer(t) + "/0"
		}, []Option{WithReadTimeout(150 * time.Millisecond)}, time.Second},
		{"redis-silent-shard", func(t *testing.T) string {
			return "redis://" + silentServer(t) + "," + silentServer(t) + "/0?client_class=django_redis.client.ShardClient"
		}, []Option{WithReadTimeout(150 * time.Millisecond)}, time.Second},
		{"memcached-closed", func(t *testing.T) string { return "memcache://" + closedPort(t) }, nil, time.Second},
		{"memcached-silent", func(t *testing.T) string { return "memcache://" + silentServer(t) },
			[]Option{WithReadTimeout(150 * time.Millisecond)}, time.Second},
		{"memcached-silent-defaults", func(t *testing.T) string { return "pylibmc://" + silentServer(t) }, nil,
			DefaultReadTimeout + 500*time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Open(tc.url(t), s, tc.opts...)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			key, _ := django.NewSessionKey()
			ops := map[string]func(ctx context.Context) error{
				"Load": func(ctx context.Context) error { _, _, err := st.Load(ctx, key); return err },
				"Save": func(ctx context.Context) error { return st.Save(ctx, record(key, 60), true) },
				"Exists": func(ctx context.Context) error {
					_, err := st.Exists(ctx, key)
					return err
				},
				"Delete": func(ctx context.Context) error { return st.Delete(ctx, key) },
			}
			for name, op := range ops {
				start := time.Now()
				err := op(context.Background())
				took := time.Since(start)
				if !errors.Is(err, ErrUnavailable) {
					t.Errorf("%s: %v, want ErrUnavailable", name, err)
				}
				if took > tc.limit {
					t.Errorf("%s took %v, limit %v", name, took, tc.limit)
				}
			}
		})
	}
}

// TestContextDeadline: the caller's deadline, when shorter, wins.
func TestContextDeadline(t *testing.T) {
	s, _ := storetest.Settings()
	st, err := Open("redis://"+silentServer(t)+"/0", s, WithReadTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err = st.Load(ctx, "abcdefgh12345678")
	if err == nil || time.Since(start) > time.Second {
		t.Fatalf("Load with a 100 ms deadline: %v after %v", err, time.Since(start))
	}
}

func TestClosedStore(t *testing.T) {
	s, _ := storetest.Settings()
	rs, _ := openRedis(t, s)
	ms, _ := openMemcached(t, s)
	ctx := testCtx(t)
	for name, st := range map[string]*Store{"redis": rs, "memcached": ms} {
		key, _ := django.NewSessionKey()
		if err := st.Save(ctx, record(key, 60), true); err != nil {
			t.Fatal(err)
		}
		st.Close()
		if _, _, err := st.Load(ctx, key); !errors.Is(err, ErrClosed) {
			t.Errorf("%s: Load after Close: %v", name, err)
		}
	}
}
