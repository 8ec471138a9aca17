package cache

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/bradfitz/gomemcache/memcache"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
)

// memcacheMaxRelative is the longest expiration memcached reads as a
// number of seconds; larger values are Unix times. Django's memcached
// backends add the current time to longer timeouts (get_backend_timeout).
const memcacheMaxRelative = 30 * 24 * 3600

// memcacheClient is a Client over gomemcache (text protocol). Keys follow
// Django's memcached rules (ValidateKey): at most 250 characters, no
// control characters or spaces.
type memcacheClient struct {
	mc    *memcache.Client
	conns *connTracker
	where string
	now   func() time.Time
}

var _ BoundedClient = (*memcacheClient)(nil)

// ValidateKey is Django's memcached validate_key (spec §6.1): an invalid
// key is codec.ErrInvalidKey (Django's InvalidCacheKey).
func (c *memcacheClient) ValidateKey(key string) error { return codec.ValidateMemcachedKey(key) }

func (c *memcacheClient) wrap(op string, err error) error {
	switch {
	case c.conns.isClosed():
		return fmt.Errorf("%w: memcached %s", ErrClosed, op)
	case errors.Is(err, memcache.ErrServerError):
		return fmt.Errorf("%w: memcached %s at %s: %w", ErrServer, op, c.where, err)
	case errors.Is(err, memcache.ErrMalformedKey):
		return fmt.Errorf("cache: memcached %s: %w", op, codec.ErrInvalidKey)
	}
	return fmt.Errorf("%w: memcached %s at %s: %w", ErrUnavailable, op, c.where, err)
}

func (c *memcacheClient) check(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("cache: memcached %s: %w", op, err)
	}
	if c.conns.isClosed() {
		return fmt.Errorf("%w: memcached %s", ErrClosed, op)
	}
	return nil
}

// Get is "get key". A key memcached cannot hold is a miss, as Django's
// session backends read InvalidCacheKey.
func (c *memcacheClient) Get(ctx context.Context, key string) (Item, bool, error) {
	if err := c.check(ctx, "get"); err != nil {
		return Item{}, false, err
	}
	it, err := c.mc.Get(key)
	switch {
	case err == nil:
		return Item{Value: it.Value, Flags: it.Flags}, true, nil
	case errors.Is(err, memcache.ErrCacheMiss), errors.Is(err, memcache.ErrMalformedKey):
		return Item{}, false, nil
	}
	return Item{}, false, c.wrap("get", err)
}

// GetBounded is Get, then a value longer than limit bytes (limit > 0), or
// an empty one, is a miss. gomemcache reads a value whole: what bounds it
// is memcached's item size limit (-I, 1 MiB by default).
func (c *memcacheClient) GetBounded(ctx context.Context, key string, limit int) (Item, bool, error) {
	it, found, err := c.Get(ctx, key)
	if err != nil || !found {
		return Item{}, false, err
	}
	if limit > 0 && (len(it.Value) == 0 || len(it.Value) > limit) {
		return Item{}, false, nil
	}
	return it, true, nil
}

// expiration converts a TTL as Django's get_backend_timeout does: whole
// seconds, and past 30 days an absolute Unix time.
func (c *memcacheClient) expiration(ttl time.Duration) int32 {
	s := int64((ttl + time.Second - 1) / time.Second)
	if s > memcacheMaxRelative {
		s += c.now().Unix()
	}
	if s > math.MaxInt32 {
		s = math.MaxInt32
	}
	return int32(s)
}

func (c *memcacheClient) item(key string, it Item, ttl time.Duration) *memcache.Item {
	return &memcache.Item{Key: key, Value: it.Value, Flags: it.Flags, Expiration: c.expiration(ttl)}
}

func (c *memcacheClient) store(ctx context.Context, op string, key string, it Item, ttl time.Duration,
	do func(*memcache.Item) error) (bool, error) {
	if err := c.check(ctx, op); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, fmt.Errorf("cache: memcached %s: non-positive TTL %v", op, ttl)
	}
	err := do(c.item(key, it, ttl))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, memcache.ErrNotStored):
		return false, nil
	}
	return false, c.wrap(op, err)
}

// Set is "set key flags exptime".
func (c *memcacheClient) Set(ctx context.Context, key string, it Item, ttl time.Duration) error {
	_, err := c.store(ctx, "set", key, it, ttl, c.mc.Set)
	return err
}

// Add is "add": stored only if absent.
func (c *memcacheClient) Add(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.store(ctx, "add", key, it, ttl, c.mc.Add)
}

// Replace is "replace": stored only if present.
func (c *memcacheClient) Replace(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.store(ctx, "replace", key, it, ttl, c.mc.Replace)
}

// Delete is "delete key".
func (c *memcacheClient) Delete(ctx context.Context, key string) (bool, error) {
	if err := c.check(ctx, "delete"); err != nil {
		return false, err
	}
	err := c.mc.Delete(key)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, memcache.ErrCacheMiss), errors.Is(err, memcache.ErrMalformedKey):
		return false, nil
	}
	return false, c.wrap("delete", err)
}

// Exists is a get, as Django's has_key for memcached: memcached has no
// cheaper test.
func (c *memcacheClient) Exists(ctx context.Context, key string) (bool, error) {
	_, found, err := c.Get(ctx, key)
	return found, err
}

// Scan is not possible: memcached cannot list its keys.
func (c *memcacheClient) Scan(context.Context, string, func(string, Item) error) error {
	return fmt.Errorf("%w: memcached cannot list its keys, so cache sessions stored there cannot be listed", django.ErrNotSupported)
}

// ScanBounded is not possible either.
func (c *memcacheClient) ScanBounded(ctx context.Context, pattern string, _ int, fn func(string, Item) error) error {
	return c.Scan(ctx, pattern, fn)
}

// Close closes the client's connections; later calls fail with ErrClosed.
func (c *memcacheClient) Close() error {
	c.conns.closeAll()
	return nil
}

// connTracker remembers the connections gomemcache dials (it has no Close
// of its own) so Close can end them, and refuses new ones afterwards.
type connTracker struct {
	dialTimeout time.Duration
	mu          sync.Mutex
	conns       map[*trackedConn]struct{}
	closed      bool
}

func newConnTracker(dialTimeout time.Duration) *connTracker {
	return &connTracker{dialTimeout: dialTimeout, conns: map[*trackedConn]struct{}{}}
}

func (t *connTracker) isClosed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.closed
}

// dial connects with the tracker's own dial timeout; gomemcache's context
// would cut it at the read/write timeout.
func (t *connTracker) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	if t.isClosed() {
		return nil, ErrClosed
	}
	d := net.Dialer{Timeout: t.dialTimeout}
	nc, err := d.DialContext(context.WithoutCancel(ctx), network, addr)
	if err != nil {
		return nil, err
	}
	tc := &trackedConn{Conn: nc, t: t}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		nc.Close()
		return nil, ErrClosed
	}
	t.conns[tc] = struct{}{}
	return tc, nil
}

func (t *connTracker) closeAll() {
	t.mu.Lock()
	t.closed = true
	conns := t.conns
	t.conns = map[*trackedConn]struct{}{}
	t.mu.Unlock()
	for c := range conns {
		c.Conn.Close()
	}
}

type trackedConn struct {
	net.Conn
	t    *connTracker
	once sync.Once
}

func (c *trackedConn) Close() error {
	c.once.Do(func() {
		c.t.mu.Lock()
		delete(c.t.conns, c)
		c.t.mu.Unlock()
	})
	return c.Conn.Close()
}

// memcacheServer is one memcached address and the name the Python client
// hashes it under.
type memcacheServer struct {
	name string // "host:port" as pymemcache's HashClient names it, or the socket path
	addr net.Addr
}

// rendezvousSelector is pymemcache's HashClient server choice (used by
// Django's PyMemcacheCache): rendezvous hashing, the server whose
// murmur3_32("<name>-<key>", seed 0) is highest, ties to the greatest
// name.
type rendezvousSelector struct {
	servers []memcacheServer
}

func (s *rendezvousSelector) PickServer(key string) (net.Addr, error) {
	if len(s.servers) == 0 {
		return nil, memcache.ErrNoServers
	}
	best, bestScore := -1, int64(-1)
	for i, srv := range s.servers {
		score := int64(murmur3Str(srv.name + "-" + key))
		if score > bestScore || score == bestScore && srv.name > s.servers[best].name {
			best, bestScore = i, score
		}
	}
	return s.servers[best].addr, nil
}

func (s *rendezvousSelector) Each(fn func(net.Addr) error) error {
	for _, srv := range s.servers {
		if err := fn(srv.addr); err != nil {
			return err
		}
	}
	return nil
}

// murmur3Str is pymemcache's murmur3_32(s, 0): MurmurHash3 x86_32 over the
// code points of s, each taken modulo 256 (its ord(c) & 0xff), with the
// length in code points.
func murmur3Str(s string) uint32 {
	var data []byte
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		data = []byte(s)
	} else {
		for _, r := range s {
			data = append(data, byte(r))
		}
	}
	return murmur3(data, 0)
}

// murmur3 is MurmurHash3 x86_32.
func murmur3(data []byte, seed uint32) uint32 {
	const c1, c2 = 0xcc9e2d51, 0x1b873593
	h := seed
	n := len(data) &^ 3
	for i := 0; i < n; i += 4 {
		k := uint32(data[i]) | uint32(data[i+1])<<8 | uint32(data[i+2])<<16 | uint32(data[i+3])<<24
		k *= c1
		k = k<<15 | k>>17
		k *= c2
		h ^= k
		h = h<<13 | h>>19
		h = h*5 + 0xe6546b64
	}
	var k uint32
	switch len(data) & 3 {
	case 3:
		k = uint32(data[n+2]) << 16
		fallthrough
	case 2:
		k |= uint32(data[n+1]) << 8
		fallthrough
	case 1:
		k |= uint32(data[n])
		k *= c1
		k = k<<15 | k>>17
		k *= c2
		h ^= k
	}
	h ^= uint32(len(data))
	h ^= h >> 16
	h *= 0x85ebca6b
	h ^= h >> 13
	h *= 0xc2b2ae35
	h ^= h >> 16
	return h
}

// modulaSelector is pylibmc's server choice with its default behaviors
// (libmemcached: hash "default", Bob Jenkins' one-at-a-time, and
// distribution "modula"): server number hash(key) mod the number of
// servers, in LOCATION order.
type modulaSelector struct {
	servers []memcacheServer
}

func (s *modulaSelector) PickServer(key string) (net.Addr, error) {
	if len(s.servers) == 0 {
		return nil, memcache.ErrNoServers
	}
	return s.servers[oneAtATime(key)%uint32(len(s.servers))].addr, nil
}

func (s *modulaSelector) Each(fn func(net.Addr) error) error {
	for _, srv := range s.servers {
		if err := fn(srv.addr); err != nil {
			return err
		}
	}
	return nil
}

// oneAtATime is Bob Jenkins' one-at-a-time hash over the key's bytes,
// libmemcached's MEMCACHED_HASH_DEFAULT.
func oneAtATime(key string) uint32 {
	var h uint32
	for i := 0; i < len(key); i++ {
		h += uint32(key[i])
		h += h << 10
		h ^= h >> 6
	}
	h += h << 3
	h ^= h >> 11
	h += h << 15
	return h
}
