package cache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// scanCount is the COUNT hint of each SCAN call: how many keys one page
// holds, roughly.
const scanCount = 200

// redisClient is a Client over go-redis: one server, Django's primary plus
// replicas (writes to the first, reads from a random other one; spec §6.2,
// §7.5 DefaultClient), Sentinel (a FailoverClient) or Cluster.
type redisClient struct {
	write redis.UniversalClient
	// reads are the clients reads go to; empty means write.
	reads []redis.UniversalClient
	// owned are closed by Close (write and reads, once each).
	owned []redis.UniversalClient
	// seconds says TTLs are sent as EX seconds (Django's RedisCache)
	// rather than PX milliseconds (django-redis), spec §6.2, §7.2.
	seconds bool
	// where names the server(s) in error messages (no credentials).
	where string
	// replicaWrites retries failed writes on reads, then write
	// (Config.ReplicaWrites).
	replicaWrites bool
}

var _ BoundedClient = (*redisClient)(nil)

func (c *redisClient) reader() redis.UniversalClient {
	switch len(c.reads) {
	case 0:
		return c.write
	case 1:
		return c.reads[0]
	}
	return c.reads[rand.IntN(len(c.reads))]
}

// wrap classifies a go-redis error: an error reply is ErrServer, a closed
// client ErrClosed, a cancelled caller context stays itself, and anything
// else (network, timeouts, pool) is ErrUnavailable.
func (c *redisClient) wrap(ctx context.Context, op string, err error) error {
	var reply redis.Error
	switch {
	case errors.As(err, &reply):
		return fmt.Errorf("%w: redis %s at %s: %w", ErrServer, op, c.where, err)
	case errors.Is(err, redis.ErrClosed):
		return fmt.Errorf("%w: redis %s", ErrClosed, op)
	case ctx.Err() != nil && errors.Is(err, ctx.Err()):
		return fmt.Errorf("cache: redis %s at %s: %w", op, c.where, err)
	}
	return fmt.Errorf("%w: redis %s at %s: %w", ErrUnavailable, op, c.where, err)
}

// Get is GET key. A key holding another Redis type (WRONGTYPE) is not a
// session: a miss.
func (c *redisClient) Get(ctx context.Context, key string) (Item, bool, error) {
	return c.GetBounded(ctx, key, 0)
}

// GetBounded is GETRANGE key 0 limit: one round trip whose reply holds at
// most limit+1 bytes, so a value longer than limit is seen as such without
// being read. GETRANGE answers "" for a missing key, so an empty value is
// a miss too; WRONGTYPE is a miss, as for Get. limit ≤ 0 is GET.
func (c *redisClient) GetBounded(ctx context.Context, key string, limit int) (Item, bool, error) {
	op, rc := "GET", c.reader()
	var cmd *redis.StringCmd
	if limit > 0 {
		op, cmd = "GETRANGE", rc.GetRange(ctx, key, 0, int64(limit))
	} else {
		cmd = rc.Get(ctx, key)
	}
	b, err := cmd.Bytes()
	switch {
	case err == nil:
	case errors.Is(err, redis.Nil), redis.HasErrorPrefix(err, "WRONGTYPE"):
		return Item{}, false, nil
	default:
		return Item{}, false, c.wrap(ctx, op, err)
	}
	if limit > 0 && (len(b) == 0 || len(b) > limit) {
		return Item{}, false, nil
	}
	return Item{Value: b}, true, nil
}

// setArgs builds SET key value PX ms|EX s [NX|XX].
func (c *redisClient) setArgs(key string, it Item, ttl time.Duration, cond string) []any {
	args := make([]any, 0, 6)
	args = append(args, "set", key, it.Value)
	if c.seconds {
		s := int64((ttl + time.Second - 1) / time.Second)
		args = append(args, "ex", s)
	} else {
		ms := int64((ttl + time.Millisecond - 1) / time.Millisecond)
		args = append(args, "px", ms)
	}
	if cond != "" {
		args = append(args, cond)
	}
	return args
}

// set runs SET with a condition; ok is false when the condition failed.
func (c *redisClient) set(ctx context.Context, op, key string, it Item, ttl time.Duration, cond string) (bool, error) {
	if ttl <= 0 {
		return false, fmt.Errorf("cache: redis %s: non-positive TTL %v", op, ttl)
	}
	args := c.setArgs(key, it, ttl, cond)
	var tried []int // server indexes: 0 is write, i ≥ 1 is reads[i-1]
	for i := 0; ; {
		srv := c.write
		if i > 0 {
			srv = c.reads[i-1]
		}
		err := srv.Process(ctx, redis.NewStatusCmd(ctx, args...))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, redis.Nil):
			return false, nil
		}
		n := 1 + len(c.reads)
		if !c.replicaWrites || len(tried) >= n || ctx.Err() != nil || errors.Is(err, redis.ErrClosed) {
			return false, c.wrap(ctx, op, err)
		}
		tried = append(tried, i)
		i = nextServer(tried, n)
	}
}

// nextServer is django-redis's get_next_client_index for a write after the
// servers in tried failed: a random untried one while some are left, then
// the first (so the first is tried twice before giving up).
func nextServer(tried []int, n int) int {
	if len(tried) >= n {
		return 0
	}
	untried := make([]int, 0, n-len(tried))
	for i := range n {
		if !slices.Contains(tried, i) {
			untried = append(untried, i)
		}
	}
	return untried[rand.IntN(len(untried))]
}

// Set is SET key value PX ms (django-redis) or EX s (Django's RedisCache).
func (c *redisClient) Set(ctx context.Context, key string, it Item, ttl time.Duration) error {
	_, err := c.set(ctx, "SET", key, it, ttl, "")
	return err
}

// Add is SET ... NX.
func (c *redisClient) Add(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.set(ctx, "SET NX", key, it, ttl, "nx")
}

// Replace is SET ... XX: atomic where Django does GET then SET.
func (c *redisClient) Replace(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.set(ctx, "SET XX", key, it, ttl, "xx")
}

// Delete is DEL key.
func (c *redisClient) Delete(ctx context.Context, key string) (bool, error) {
	n, err := c.write.Del(ctx, key).Result()
	if err != nil {
		return false, c.wrap(ctx, "DEL", err)
	}
	return n > 0, nil
}

// Exists is EXISTS key (read from a replica when there are some, as
// Django's has_key).
func (c *redisClient) Exists(ctx context.Context, key string) (bool, error) {
	n, err := c.reader().Exists(ctx, key).Result()
	if err != nil {
		return false, c.wrap(ctx, "EXISTS", err)
	}
	return n > 0, nil
}

// Scan walks SCAN MATCH pattern on the read server (every primary of a
// Cluster), fetching each page's values and TTLs in one pipeline.
func (c *redisClient) Scan(ctx context.Context, pattern string, fn func(string, Item) error) error {
	return c.ScanBounded(ctx, pattern, 0, fn)
}

// ScanBounded is Scan fetching the values with GETRANGE key 0 limit (limit >
// 0): a value longer than limit is reported with a nil Value.
func (c *redisClient) ScanBounded(ctx context.Context, pattern string, limit int, fn func(string, Item) error) error {
	if cc, ok := c.write.(*redis.ClusterClient); ok {
		// Every primary holds a part of the keyspace. ForEachMaster runs
		// concurrently; scan them one after the other instead, so fn is
		// never called concurrently.
		var masters []*redis.Client
		var mu sync.Mutex
		err := cc.ForEachMaster(ctx, func(_ context.Context, m *redis.Client) error {
			mu.Lock()
			masters = append(masters, m)
			mu.Unlock()
			return nil
		})
		if err != nil {
			return c.wrap(ctx, "CLUSTER NODES", err)
		}
		for _, m := range masters {
			if err := c.scanOne(ctx, m, pattern, limit, fn); err != nil {
				return err
			}
		}
		return nil
	}
	return c.scanOne(ctx, c.reader(), pattern, limit, fn)
}

func (c *redisClient) scanOne(ctx context.Context, rc redis.Cmdable, pattern string, limit int, fn func(string, Item) error) error {
	var cursor uint64
	for {
		keys, next, err := rc.Scan(ctx, cursor, pattern, scanCount).Result()
		if err != nil {
			return c.wrap(ctx, "SCAN", err)
		}
		if len(keys) > 0 {
			if err := c.fetch(ctx, rc, keys, limit, fn); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// fetch reads GET (GETRANGE key 0 limit when limit > 0) and PTTL of keys in
// one pipeline and calls fn for those still present.
func (c *redisClient) fetch(ctx context.Context, rc redis.Cmdable, keys []string, limit int, fn func(string, Item) error) error {
	op := "GET"
	if limit > 0 {
		op = "GETRANGE"
	}
	pipe := rc.Pipeline()
	gets := make([]*redis.StringCmd, len(keys))
	ttls := make([]*redis.DurationCmd, len(keys))
	for i, k := range keys {
		if limit > 0 {
			gets[i] = pipe.GetRange(ctx, k, 0, int64(limit))
		} else {
			gets[i] = pipe.Get(ctx, k)
		}
		ttls[i] = pipe.PTTL(ctx, k)
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		var reply redis.Error
		if !errors.As(err, &reply) {
			return c.wrap(ctx, op, err)
		}
		// An error reply for one key (WRONGTYPE) only skips that key.
	}
	for i, k := range keys {
		b, err := gets[i].Bytes()
		if err != nil {
			continue
		}
		d, terr := ttls[i].Result()
		if limit > 0 {
			if terr == nil && d == -2 {
				// PTTL -2: the key is gone (GETRANGE read it as "").
				continue
			}
			if len(b) > limit {
				b = nil
			}
		}
		it := Item{Value: b}
		if terr == nil {
			switch {
			case d > 0:
				it.TTL = d
			case d == -1:
				// PTTL -1: no expiry (go-redis keeps -1 as a Duration).
				it.TTL = -1
			}
		}
		if err := fn(k, it); err != nil {
			return err
		}
	}
	return nil
}

// Close closes every connection pool of the client.
func (c *redisClient) Close() error {
	var errs []error
	for _, rc := range c.owned {
		if err := rc.Close(); err != nil && !errors.Is(err, redis.ErrClosed) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
