package cache

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ShardReplicas is the number of ring points per node of django-redis's
// HashRing (spec §7.5).
const ShardReplicas = 128

// HashRing is django-redis's consistent-hash ring (django_redis.hash_ring,
// used by ShardClient; spec §7.5): each node owns 128 points, the SHA-256
// of "node:i" for i in 0..127; a key belongs to the node of the greatest
// point not above the key's SHA-256 (a predecessor lookup), wrapping to the
// last point when the key hashes below every point. Points compare as
// their hex digests do, which is the order of the raw digests.
//
// Node names are the LOCATION strings exactly as Django has them
// (e.g. "redis://127.0.0.1:6379/1"): a different spelling of the same
// server moves keys. Names should be distinct (django-redis keeps one
// connection per name).
type HashRing struct {
	points []ringPoint
	nodes  []string
}

type ringPoint struct {
	hash [sha256.Size]byte
	node int
}

// NewHashRing returns the ring of nodes.
func NewHashRing(nodes []string) *HashRing {
	r := &HashRing{nodes: append([]string(nil), nodes...)}
	r.points = make([]ringPoint, 0, len(nodes)*ShardReplicas)
	for n, name := range nodes {
		for i := range ShardReplicas {
			r.points = append(r.points, ringPoint{sha256.Sum256([]byte(name + ":" + strconv.Itoa(i))), n})
		}
	}
	sort.SliceStable(r.points, func(i, j int) bool {
		return bytes.Compare(r.points[i].hash[:], r.points[j].hash[:]) < 0
	})
	return r
}

// HashTag returns the part of key that is hashed: for a key matching
// Python's re.match(r".*\{(.*)\}.*", key), the captured group (greedy:
// from the last "{" before the last "}" to that "}", within the first
// line, as "." does not match a newline); otherwise key itself.
func HashTag(key string) string {
	line := key
	if i := strings.IndexByte(line, '\n'); i >= 0 {
		line = line[:i]
	}
	j := strings.LastIndexByte(line, '}')
	if j < 0 {
		return key
	}
	i := strings.LastIndexByte(line[:j], '{')
	if i < 0 {
		return key
	}
	return line[i+1 : j]
}

// NodeIndex returns the index in the node list of the node that holds the
// final cache key (after KEY_FUNCTION, e.g. ":1:foo"), or -1 for an empty
// ring.
func (r *HashRing) NodeIndex(key string) int {
	if len(r.points) == 0 {
		return -1
	}
	h := sha256.Sum256([]byte(HashTag(key)))
	// bisect_right: the number of points <= h.
	idx := sort.Search(len(r.points), func(i int) bool {
		return bytes.Compare(r.points[i].hash[:], h[:]) > 0
	}) - 1
	if idx < 0 {
		idx = len(r.points) - 1 // Python's points[-1]
	}
	return r.points[idx].node
}

// Node returns the name of the node that holds key ("" for an empty
// ring).
func (r *HashRing) Node(key string) string {
	i := r.NodeIndex(key)
	if i < 0 {
		return ""
	}
	return r.nodes[i]
}

// shardClient is django-redis's ShardClient: every key lives on the node
// the HashRing picks; listing fans out to every node.
type shardClient struct {
	ring  *HashRing
	nodes []*redisClient
}

var _ BoundedClient = (*shardClient)(nil)

func (c *shardClient) node(key string) *redisClient { return c.nodes[c.ring.NodeIndex(key)] }

func (c *shardClient) Get(ctx context.Context, key string) (Item, bool, error) {
	return c.node(key).Get(ctx, key)
}

func (c *shardClient) GetBounded(ctx context.Context, key string, limit int) (Item, bool, error) {
	return c.node(key).GetBounded(ctx, key, limit)
}

func (c *shardClient) Set(ctx context.Context, key string, it Item, ttl time.Duration) error {
	return c.node(key).Set(ctx, key, it, ttl)
}

func (c *shardClient) Add(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.node(key).Add(ctx, key, it, ttl)
}

func (c *shardClient) Replace(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.node(key).Replace(ctx, key, it, ttl)
}

func (c *shardClient) Delete(ctx context.Context, key string) (bool, error) {
	return c.node(key).Delete(ctx, key)
}

func (c *shardClient) Exists(ctx context.Context, key string) (bool, error) {
	return c.node(key).Exists(ctx, key)
}

// Scan scans every node in turn, reporting only the keys a node owns (two
// nodes naming the same server would otherwise report its keys twice).
func (c *shardClient) Scan(ctx context.Context, pattern string, fn func(string, Item) error) error {
	return c.ScanBounded(ctx, pattern, 0, fn)
}

// ScanBounded is Scan with each node's ScanBounded.
func (c *shardClient) ScanBounded(ctx context.Context, pattern string, limit int, fn func(string, Item) error) error {
	for i, n := range c.nodes {
		err := n.ScanBounded(ctx, pattern, limit, func(key string, it Item) error {
			if c.ring.NodeIndex(key) != i {
				return nil
			}
			return fn(key, it)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func (c *shardClient) Close() error {
	var errs []error
	for _, n := range c.nodes {
		errs = append(errs, n.Close())
	}
	return errors.Join(errs...)
}
