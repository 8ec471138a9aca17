package cache

import (
	"context"
	"errors"
	"time"
)

// Errors of this package, to be tested with errors.Is.
var (
	// ErrUnavailable means the cache server could not be reached or did
	// not answer in time (refused connection, dial or read timeout, pool
	// exhausted). The Store returns it from Load too, where Django would
	// read a miss (spec §3.9.2): a Go caller must not take a session that
	// could not be read for one that does not exist.
	ErrUnavailable = errors.New("cache: server unavailable")
	// ErrServer means the server answered a command with an error reply
	// (a Redis error such as READONLY or NOAUTH, a memcached SERVER_ERROR).
	ErrServer = errors.New("cache: server error")
	// ErrClosed is returned by a client used after Close.
	ErrClosed = errors.New("cache: client is closed")
	// ErrInvalidURL reports a CACHE_URL this package cannot use.
	ErrInvalidURL = errors.New("cache: invalid CACHE_URL")
)

// Item is one stored cache value.
type Item struct {
	// Value is the stored bytes, in the format of the client that wrote
	// them (see package codec).
	Value []byte
	// Flags are memcached's item flags (the Python clients' type bits);
	// always 0 on Redis.
	Flags uint32
	// TTL is the remaining time to live, filled by Scan only: zero when
	// unknown, negative when the item never expires.
	TTL time.Duration
	// Expires is the instant the item expires, filled by Scan when the
	// server stores one (DatabaseCache's expires column); the zero Time
	// otherwise. Listing prefers it to now + TTL.
	Expires time.Time
}

// Client is the part of a cache server protocol a session Store uses. The
// implementations are Redis (one server, Django's primary plus replicas,
// Sentinel, Cluster, django-redis's ShardClient ring) and Memcached, made
// by Open; any other can be passed to New. Implementations are safe for
// concurrent use.
//
// Errors: a server that cannot be reached or does not answer in time is
// ErrUnavailable; an error reply is ErrServer; a key that the server
// cannot hold (memcached's key rules) is a miss for Get, Exists and Delete.
type Client interface {
	// Get returns the item under key; found is false when there is none.
	Get(ctx context.Context, key string) (it Item, found bool, err error)
	// Set stores it under key for ttl, which must be positive.
	Set(ctx context.Context, key string, it Item, ttl time.Duration) error
	// Add stores it only if key is absent (Redis SET NX, memcached add);
	// added is false when the key was taken.
	Add(ctx context.Context, key string, it Item, ttl time.Duration) (added bool, err error)
	// Replace stores it only if key is present (Redis SET XX, memcached
	// replace); replaced is false when there was nothing to replace.
	Replace(ctx context.Context, key string, it Item, ttl time.Duration) (replaced bool, err error)
	// Delete removes key; deleted is false when it was absent.
	Delete(ctx context.Context, key string) (deleted bool, err error)
	// Exists reports whether key is present.
	Exists(ctx context.Context, key string) (bool, error)
	// Scan calls fn with every key matching the Redis glob pattern and
	// its item (TTL filled), a page at a time, never listing all keys at
	// once (Redis SCAN, never KEYS). A key may be reported twice if the
	// keyspace is resized meanwhile; keys deleted meanwhile are skipped.
	// An error from fn stops the scan and is returned. Memcached cannot
	// list keys and returns django.ErrNotSupported.
	Scan(ctx context.Context, pattern string, fn func(key string, it Item) error) error
	// Close releases the client's connections.
	Close() error
}

// BoundedClient is a Client that can read a value without reading all of
// it. The Store uses it to apply WithMaxValueSize, so that a huge value
// planted under a session key costs at most the limit in memory; with a
// Client that is not a BoundedClient, the Store reads with Get and Scan
// and drops larger values after reading them. Open's clients are
// BoundedClients: Redis reads with GETRANGE key 0 limit instead of GET;
// memcached reads with get, bounded by the server's own item size limit
// (1 MiB by default), and drops larger values after the read.
type BoundedClient interface {
	Client
	// GetBounded is Get reading no more than limit+1 bytes of the value
	// (limit > 0): a value longer than limit bytes is a miss (found
	// false, no error), and so is an empty one (Redis GETRANGE cannot
	// tell it from a missing key, and no value format accepts it).
	// limit ≤ 0 is Get.
	GetBounded(ctx context.Context, key string, limit int) (it Item, found bool, err error)
	// ScanBounded is Scan reading no more than limit+1 bytes of each
	// value (limit > 0): a key whose value is longer than limit bytes is
	// reported with a nil Value. limit ≤ 0 is Scan.
	ScanBounded(ctx context.Context, pattern string, limit int, fn func(key string, it Item) error) error
}

// keyValidator is implemented by clients whose server restricts keys
// (memcached): the Store checks keys before using them.
type keyValidator interface {
	ValidateKey(key string) error
}
