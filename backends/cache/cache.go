// Package cache is Django's cache session engine
// (django.contrib.sessions.backends.cache, spec §3.9.2) over Redis,
// Memcached, and Django's FileBasedCache (FileClient) and DatabaseCache
// (package dbcache): each session is one cache entry at
// KEY_FUNCTION("django.contrib.sessions.cache" + session_key, KEY_PREFIX,
// VERSION), holding the session dict in the cache client's own value
// format (django-redis, Django's RedisCache, pymemcache or pylibmc; for
// the file and database caches, the bare pickle, codec.DjangoPickle; see
// package codec) with the session's expiry age as the entry's TTL.
//
// Open takes a CACHE_URL as django-environ reads it; New wraps any Client.
// The cached_db engine (package cacheddb) uses the same machinery with the
// prefix "django.contrib.sessions.cached_db".
//
// Differences from Django, on purpose:
//
//   - Django reads any exception from cache.get as a miss. Load returns a
//     server that cannot be reached or does not answer in time as an error
//     (ErrUnavailable), because django.Store callers must not take an
//     unreadable session for a missing one; a value that does not decode
//     is a miss, as in Django.
//   - A plain save is Redis SET XX (memcached replace, an UPDATE of a live
//     row in a DatabaseCache): atomic, where Django does get then set. A
//     session deleted in between is ErrUpdateMissing, never resurrected.
//     FileClient keeps that promise between the goroutines of one process
//     only: another process (Django) deleting the file between its check
//     and its rename has Django's own window.
//   - A timeout ≤ 0 deletes (plain save) or writes nothing (must-create
//     save), as django-redis does, on every server.
//   - A stored value longer than WithMaxValueSize (DefaultMaxValueSize,
//     8 MiB) is a miss, and Redis never sends more of it than the limit
//     (GETRANGE instead of GET); Django reads a value of any size.
//
// With django-redis's HerdClient (WithHerd, or
// ?client_class=django_redis.client.HerdClient) sessions are stored and
// read as HerdClient stores and reads them (spec §7.5, package codec's
// EncodeHerd, DecodeHerd and HerdMiss): wrapped with their deadline, with
// CACHE_HERD_TIMEOUT more seconds of TTL, and a read past the deadline is
// a miss at random, then always. Without it, a wrapped value is no
// session, as it is to Django with another client (which loads the tuple,
// not a session dict).
package cache

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// MaxSessionKeyLength bounds the session keys the Store looks up: a longer
// cookie value is "no session" without a round trip. Django's keys have 32
// characters.
const MaxSessionKeyLength = 256

// DefaultMaxValueSize is the largest stored value the Store reads unless
// WithMaxValueSize says otherwise: 8 MiB, the order of the signing
// package's DefaultMaxDecompressedSize, for the same reasons. The limit
// must never refuse a session Django itself would read: Django caps
// neither session data nor cache values, and applications park carts,
// form-wizard state or cached API data in sessions (hundreds of KB are
// seen in the wild, single-digit MB rarely), which 8 MiB as stored clears
// with room to spare. But a value planted under a session key can be as
// large as Redis allows (512 MB), and refusing it must not cost that much
// memory: with the limit, one Load reads at most 8 MiB + 1 byte.
// (Memcached's own item limit is 1 MiB by default.) The value formats
// refuse more, but only after the read: the pickle reader any pickle over
// 8 MiB (pickle.DefaultLimits.MaxInput), every format a decompressed
// value over codec.DefaultMaxSize (16 MiB). A larger WithMaxValueSize, or
// none, raises those two bounds of the store's format along with it.
const DefaultMaxValueSize = 8 << 20

// ErrInvalidSessionKey is returned by Save for a key that cannot be stored
// (shorter than 8 characters, too long, or not a valid cache key).
var ErrInvalidSessionKey = errors.New("cache: invalid session key")

// Store is a django.Store over a cache Client. It is safe for concurrent
// use.
type Store struct {
	client   Client
	format   codec.Format
	settings *django.Settings
	owned    bool

	sessionPrefix string
	keyPrefix     string
	version       int
	keyFunc       codec.KeyFunc
	// head is the cache key of the empty session key with Django's
	// default KEY_FUNCTION: "<KEY_PREFIX>:<VERSION>:<session prefix>".
	head     string
	validate func(string) error
	// maxValue is the longest stored value read; 0 means no limit.
	maxValue int

	// herd is django-redis's HerdClient: values are read and written
	// through herdFormat's EncodeHerd and DecodeHerd, with herdTimeout
	// (CACHE_HERD_TIMEOUT) seconds; randIntN is HerdMiss's randomness.
	herd        bool
	herdTimeout int
	herdFormat  codec.DjangoRedis
	randIntN    func(n int) int
}

var _ django.Store = (*Store)(nil)

// New returns the Store over client. The value format is WithFormat's, or
// WithFormatName's, or by default django-redis's for a Redis client,
// codec.DjangoPickle for a FileClient or a client whose CacheBackend
// method says FileBased or Database (package dbcache's), and pymemcache's
// for a memcached one (made by Open) or any other client. Close does not
// close client.
func New(client Client, settings *django.Settings, opts ...Option) (*Store, error) {
	if client == nil {
		return nil, fmt.Errorf("%w: nil cache client", django.ErrImproperlyConfigured)
	}
	if settings == nil {
		return nil, fmt.Errorf("%w: no settings", django.ErrImproperlyConfigured)
	}
	o := collect(opts)
	backend := Memcached
	switch c := client.(type) {
	case *redisClient, *shardClient:
		backend = Redis
	case *FileClient:
		backend = FileBased
	case interface{ CacheBackend() Backend }:
		backend = c.CacheBackend()
	}
	f, err := o.resolveFormat(backend)
	if err != nil {
		return nil, err
	}
	if err := o.checkHerd(f); err != nil {
		return nil, err
	}
	return newStore(client, settings, f, o), nil
}

func newStore(client Client, settings *django.Settings, f codec.Format, o *options) *Store {
	s := &Store{
		client:        client,
		format:        f,
		settings:      settings,
		sessionPrefix: o.sessionPrefix,
		keyPrefix:     o.keyPrefix,
		version:       o.version,
		keyFunc:       o.keyFunc,
		maxValue:      o.maxValueSize,
	}
	switch {
	case s.maxValue == 0:
		s.maxValue = DefaultMaxValueSize
	case s.maxValue < 0:
		s.maxValue = 0
	}
	f = readBoundFormat(f, s.maxValue)
	s.format = f
	if s.sessionPrefix == "" {
		s.sessionPrefix = codec.SessionCachePrefix
	}
	if s.version == 0 {
		s.version = 1
	}
	s.head = s.keyPrefix + ":" + strconv.Itoa(s.version) + ":" + s.sessionPrefix
	if v, ok := client.(keyValidator); ok {
		s.validate = v.ValidateKey
	}
	if df, ok := herdFormat(f); ok && o.herd {
		s.herd, s.herdTimeout, s.herdFormat, s.randIntN = true, o.herdTimeout, df, rand.IntN
	}
	return s
}

// Herd reports whether the store reads and writes values as django-redis's
// HerdClient, and its CACHE_HERD_TIMEOUT in seconds (see WithHerd).
func (s *Store) Herd() (herdTimeout int, ok bool) { return s.herdTimeout, s.herd }

// MaxValueSize returns the longest stored value the store reads, in bytes
// (0: no limit); see WithMaxValueSize.
func (s *Store) MaxValueSize() int { return s.maxValue }

// Client returns the store's cache client.
func (s *Store) Client() Client { return s.client }

// Format returns the value format.
func (s *Store) Format() codec.Format { return s.format }

// SessionPrefix returns the cache key prefix of sessions
// ("django.contrib.sessions.cache" or, for cached_db,
// "django.contrib.sessions.cached_db").
func (s *Store) SessionPrefix() string { return s.sessionPrefix }

// Close closes the client if Open made it.
func (s *Store) Close() error {
	if s.owned {
		return s.client.Close()
	}
	return nil
}

// CacheKey returns the cache key of a session: KEY_FUNCTION(session prefix
// + sessionKey, KEY_PREFIX, VERSION), by default
// ":1:django.contrib.sessions.cache<sessionKey>" (spec §3.9.2, §6.1).
func (s *Store) CacheKey(sessionKey string) string {
	if s.keyFunc == nil {
		return s.head + sessionKey
	}
	return s.keyFunc(s.sessionPrefix+sessionKey, s.keyPrefix, s.version)
}

// key returns the cache key of sessionKey, or false when no session can be
// stored under it.
func (s *Store) key(sessionKey string) (string, bool) {
	if !django.IsValidKey(sessionKey) || len(sessionKey) > MaxSessionKeyLength {
		return "", false
	}
	k := s.CacheKey(sessionKey)
	if s.validate != nil && s.validate(k) != nil {
		return "", false
	}
	return k, true
}

// decode reads a stored value as Django's cache.get does; ok is false for
// anything but a dict, and, with HerdClient, for a value HerdMiss makes a
// miss.
func (s *Store) decode(it Item) (*py.Dict, bool) {
	if !s.herd {
		v, err := s.format.Decode(it.Value, it.Flags)
		if err != nil {
			return nil, false
		}
		return v.Dict()
	}
	d, deadline, wrapped, ok := s.decodeHerd(it)
	if !ok || (wrapped && codec.HerdMiss(s.settings.Now().Unix(), deadline, s.herdTimeout, s.randIntN)) {
		return nil, false
	}
	return d, true
}

// decodeHerd reads a value stored by HerdClient: the session dict, and
// whether it was wrapped with a deadline (Unix seconds).
func (s *Store) decodeHerd(it Item) (d *py.Dict, deadline int64, wrapped, ok bool) {
	v, deadline, wrapped, err := s.herdFormat.DecodeHerd(it.Value)
	if err != nil {
		return nil, 0, false, false
	}
	d, ok = v.Dict()
	return d, deadline, wrapped, ok
}

// get reads the value under the cache key ck, bounded by the store's
// limit: a longer value is a miss, and a BoundedClient does not even read
// it.
func (s *Store) get(ctx context.Context, ck string) (Item, bool, error) {
	if s.maxValue <= 0 {
		return s.client.Get(ctx, ck)
	}
	var it Item
	var found bool
	var err error
	if b, ok := s.client.(BoundedClient); ok {
		it, found, err = b.GetBounded(ctx, ck, s.maxValue)
	} else {
		it, found, err = s.client.Get(ctx, ck)
	}
	if err != nil || !found || len(it.Value) > s.maxValue {
		return Item{}, false, err
	}
	return it, true, nil
}

// scan is the client's Scan, bounded by the store's limit: a value longer
// than the limit comes with a nil Value, and a BoundedClient does not read
// it.
func (s *Store) scan(ctx context.Context, pattern string, fn func(string, Item) error) error {
	if s.maxValue <= 0 {
		return s.client.Scan(ctx, pattern, fn)
	}
	bounded := func(key string, it Item) error {
		if len(it.Value) > s.maxValue {
			it.Value = nil
		}
		return fn(key, it)
	}
	if b, ok := s.client.(BoundedClient); ok {
		return b.ScanBounded(ctx, pattern, s.maxValue, bounded)
	}
	return s.client.Scan(ctx, pattern, bounded)
}

// Load returns the session under key. A missing or expired entry, a value
// longer than the store's limit (WithMaxValueSize), or a value that does
// not decode to a dict, is not found; a server failure is an error (see
// the package doc for how this differs from Django).
func (s *Store) Load(ctx context.Context, key string) (*py.Dict, bool, error) {
	ctx = orBackground(ctx)
	ck, ok := s.key(key)
	if !ok {
		return nil, false, nil
	}
	it, found, err := s.get(ctx, ck)
	if err != nil || !found {
		return nil, false, err
	}
	d, ok := s.decode(it)
	if !ok {
		return nil, false, nil
	}
	return d, true, nil
}

// Exists reports whether the cache holds an entry for key (Django's
// exists(): "prefix + key in cache").
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	ctx = orBackground(ctx)
	ck, ok := s.key(key)
	if !ok {
		return false, nil
	}
	return s.client.Exists(ctx, ck)
}

// item returns the cache key and the stored item of rec, and its TTL for an
// age > 0 (age seconds; with HerdClient, the value wrapped with its
// deadline, now + age, and CACHE_HERD_TIMEOUT seconds more TTL). An age
// ≤ 0 stores nothing, but the value is encoded all the same, as
// django-redis encodes before it deletes: an unwritable session fails.
func (s *Store) item(rec *django.Record, age int) (string, Item, time.Duration, error) {
	if rec == nil || rec.Data == nil {
		return "", Item{}, 0, errors.New("cache: save session: nil record")
	}
	ck, ok := s.key(rec.SessionKey)
	if !ok {
		return "", Item{}, 0, fmt.Errorf("%w %q", ErrInvalidSessionKey, rec.SessionKey)
	}
	var (
		b     []byte
		flags uint32
		err   error
		ttl   = time.Duration(age) * time.Second
	)
	if s.herd && age > 0 {
		// HerdClient.set: deadline int(time.time()) + timeout, TTL timeout
		// + CACHE_HERD_TIMEOUT (spec §7.5).
		b, err = s.herdFormat.EncodeHerd(py.DictOf(rec.Data), s.settings.Now().Unix()+int64(age))
		ttl = time.Duration(int64(age)+int64(s.herdTimeout)) * time.Second
	} else {
		b, flags, err = s.format.Encode(py.DictOf(rec.Data))
	}
	if err != nil {
		return "", Item{}, 0, fmt.Errorf("cache: save session: %w", err)
	}
	return ck, Item{Value: b, Flags: flags}, ttl, nil
}

// Save writes rec with rec.ExpiryAge as the TTL (spec §3.9.2). With
// mustCreate it adds (SET NX / memcached add) and a taken key is
// django.ErrCreateConflict; otherwise it replaces (SET XX / memcached
// replace) and a missing entry is django.ErrUpdateMissing. An age ≤ 0
// stores nothing: a must-create save only checks the key is free, a plain
// save deletes the entry.
func (s *Store) Save(ctx context.Context, rec *django.Record, mustCreate bool) error {
	ctx = orBackground(ctx)
	ck, it, ttl, err := s.item(rec, rec.ExpiryAge)
	if err != nil {
		return err
	}
	if rec.ExpiryAge <= 0 {
		if mustCreate {
			taken, err := s.client.Exists(ctx, ck)
			if err != nil {
				return err
			}
			if taken {
				return django.ErrCreateConflict
			}
			return nil
		}
		deleted, err := s.client.Delete(ctx, ck)
		if err != nil {
			return err
		}
		if !deleted {
			return django.ErrUpdateMissing
		}
		return nil
	}
	if mustCreate {
		added, err := s.client.Add(ctx, ck, it, ttl)
		if err != nil {
			return err
		}
		if !added {
			return django.ErrCreateConflict
		}
		return nil
	}
	replaced, err := s.client.Replace(ctx, ck, it, ttl)
	if err != nil {
		return err
	}
	if !replaced {
		return django.ErrUpdateMissing
	}
	return nil
}

// Set writes data under key unconditionally with a TTL of age seconds
// (Django's cache.set); age ≤ 0 deletes the entry. The cached_db engine
// fills and refreshes its cache with it.
func (s *Store) Set(ctx context.Context, key string, data *py.Dict, age int) error {
	ctx = orBackground(ctx)
	ck, it, ttl, err := s.item(&django.Record{SessionKey: key, Data: data}, age)
	if err != nil {
		return err
	}
	if age <= 0 {
		_, err := s.client.Delete(ctx, ck)
		return err
	}
	return s.client.Set(ctx, ck, it, ttl)
}

// Delete removes the entry of key; a missing entry is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	ctx = orBackground(ctx)
	ck, ok := s.key(key)
	if !ok {
		return nil
	}
	_, err := s.client.Delete(ctx, ck)
	return err
}

// ClearExpired does nothing: the cache expires entries itself (Django's
// clear_expired is a no-op for this engine).
func (s *Store) ClearExpired(context.Context) error { return nil }

// List calls fn for each session in the cache, found by SCAN with
// django-redis's escaped key pattern (spec §7.1), never KEYS. ExpireDate
// is now plus the entry's TTL (zero for none); Data is nil for a value
// that does not decode or is longer than the store's limit (which is not
// read whole). With HerdClient, a wrapped value's ExpireDate is its
// deadline (the session's expiry as Django computed it; the entry lives
// CACHE_HERD_TIMEOUT seconds longer) and its Data is read whatever the
// deadline: listing draws no random misses. Memcached cannot list
// (django.ErrNotSupported), nor can a custom KEY_FUNCTION that does not
// end with the key.
func (s *Store) List(ctx context.Context, fn func(django.Info) error) error {
	ctx = orBackground(ctx)
	head := s.head
	if s.keyFunc != nil {
		head = s.keyFunc(s.sessionPrefix, s.keyPrefix, s.version)
		if s.keyFunc(s.sessionPrefix+"probe", s.keyPrefix, s.version) != head+"probe" {
			return fmt.Errorf("%w: the custom KEY_FUNCTION does not end with the key, so sessions cannot be listed", django.ErrNotSupported)
		}
	}
	pattern := codec.MakePattern(s.sessionPrefix+"*", s.keyPrefix, s.version, s.keyFunc)
	// "django.contrib.sessions.cache*" also matches the cached_db prefix.
	var other string
	if s.sessionPrefix != codec.CachedDBPrefix && strings.HasPrefix(codec.CachedDBPrefix, s.sessionPrefix) {
		other = codec.CachedDBPrefix[len(s.sessionPrefix):]
	}
	return s.scan(ctx, pattern, func(key string, it Item) error {
		sk, ok := strings.CutPrefix(key, head)
		if !ok || !django.IsValidKey(sk) || (other != "" && strings.HasPrefix(sk, other)) {
			return nil
		}
		info := django.Info{SessionKey: sk}
		switch {
		case it.TTL < 0:
		case !it.Expires.IsZero():
			info.ExpireDate = it.Expires
		case it.TTL > 0:
			info.ExpireDate = s.settings.Now().Add(it.TTL)
		}
		if !s.herd {
			if d, ok := s.decode(it); ok {
				info.Data = d
			}
		} else if d, deadline, wrapped, ok := s.decodeHerd(it); ok {
			info.Data = d
			if wrapped {
				info.ExpireDate = time.Unix(deadline, 0)
			}
		}
		return fn(info)
	})
}

// orBackground guards against a nil context, which go-redis cannot take.
func orBackground(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}
