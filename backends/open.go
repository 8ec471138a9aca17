// Package backends opens a django.Store for a SESSION_ENGINE from
// connection strings in the Django ecosystem's syntax (DATABASE_URL as
// dj-database-url writes it, CACHE_URL as django-environ writes it). Each
// engine lives in its own package below this one and can be used directly.
package backends

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/dbcache"
	"github.com/djsession/djsession/backends/cacheddb"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/backends/signedcookies"
	"github.com/djsession/djsession/django"
)

// The engine names, as the last part of Django's SESSION_ENGINE.
const (
	EngineDB            = "db"
	EngineCache         = "cache"
	EngineCachedDB      = "cached_db"
	EngineFile          = "file"
	EngineSignedCookies = "signed_cookies"
)

// ErrUnknownEngine is returned for a SESSION_ENGINE this module does not
// implement.
var ErrUnknownEngine = errors.New("backends: unknown session engine")

// NormalizeEngine maps a short name ("db") or Django's dotted path
// ("django.contrib.sessions.backends.db") to the short name. An empty name
// is Django's default, db.
func NormalizeEngine(name string) (string, error) {
	n := strings.TrimSpace(name)
	if n == "" {
		return EngineDB, nil
	}
	n = strings.TrimPrefix(n, "django.contrib.sessions.backends.")
	switch n {
	case EngineDB, EngineCache, EngineCachedDB, EngineFile, EngineSignedCookies:
		return n, nil
	case "signed-cookies", "signedcookies":
		return EngineSignedCookies, nil
	case "cached-db", "cacheddb":
		return EngineCachedDB, nil
	}
	return "", fmt.Errorf("%w %q (want db, cache, cached_db, file or signed_cookies)", ErrUnknownEngine, name)
}

// Config says which store to open.
type Config struct {
	// Engine is SESSION_ENGINE (short or dotted name).
	Engine string
	// Settings are the Django settings; required.
	Settings *django.Settings
	// DatabaseURL is DATABASE_URL, for db and cached_db.
	DatabaseURL string
	// CacheURL is CACHE_URL, for cache and cached_db.
	CacheURL string
	// Cache holds the cache client's options (format, KEY_PREFIX, VERSION,
	// django-redis SERIALIZER/COMPRESSOR).
	Cache CacheOptions
}

// CacheOptions are the cache settings a cache-backed store needs.
type CacheOptions struct {
	// Format is the client that wrote the values: "django-redis" (the
	// default for redis URLs), "django" (Django's RedisCache), "pymemcache"
	// (the default for memcache URLs) or "pylibmc".
	Format string
	// KeyPrefix and Version are KEY_PREFIX and VERSION (default 1).
	KeyPrefix string
	Version   int
	// Serializer and Compressor are django-redis's SERIALIZER and
	// COMPRESSOR: "pickle" (default), "json", "msgpack"; "none" (default),
	// "zlib", "gzip", "lzma", "lz4", "zstd".
	Serializer, Compressor string
}

// opener opens one engine's store.
type opener func(ctx context.Context, cfg Config) (django.Store, io.Closer, error)

var openers = map[string]opener{
	EngineCache: func(_ context.Context, cfg Config) (django.Store, io.Closer, error) {
		st, err := cache.Open(cfg.CacheURL, cfg.Settings,
			cache.WithFormatName(cfg.Cache.Format), cache.WithKeyPrefix(cfg.Cache.KeyPrefix), cache.WithVersion(cfg.Cache.Version),
			cache.WithSerializer(cfg.Cache.Serializer), cache.WithCompressor(cfg.Cache.Compressor),
			cache.WithDatabaseCache(dbcache.Opener(cfg.DatabaseURL, cfg.Settings)))
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	},
	EngineCachedDB: func(_ context.Context, cfg Config) (django.Store, io.Closer, error) {
		st, err := cacheddb.Open(cfg.DatabaseURL, cfg.CacheURL, cfg.Settings, nil, []cache.Option{
			cache.WithFormatName(cfg.Cache.Format), cache.WithKeyPrefix(cfg.Cache.KeyPrefix), cache.WithVersion(cfg.Cache.Version),
			cache.WithSerializer(cfg.Cache.Serializer), cache.WithCompressor(cfg.Cache.Compressor)})
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	},
	EngineDB: func(_ context.Context, cfg Config) (django.Store, io.Closer, error) {
		if cfg.DatabaseURL == "" {
			return nil, nil, fmt.Errorf("%w: the db engine needs a DATABASE_URL", django.ErrImproperlyConfigured)
		}
		st, err := db.Open(cfg.DatabaseURL, cfg.Settings)
		if err != nil {
			return nil, nil, err
		}
		return st, st, nil
	},
	EngineFile: func(_ context.Context, cfg Config) (django.Store, io.Closer, error) {
		st, err := file.New(cfg.Settings)
		return st, nopCloser{}, err
	},
	EngineSignedCookies: func(_ context.Context, cfg Config) (django.Store, io.Closer, error) {
		st, err := signedcookies.New(cfg.Settings)
		return st, nopCloser{}, err
	},
}

// Open returns the store for cfg and a Closer that releases its connections.
func Open(ctx context.Context, cfg Config) (django.Store, io.Closer, error) {
	if cfg.Settings == nil {
		return nil, nil, fmt.Errorf("%w: no settings", django.ErrImproperlyConfigured)
	}
	engine, err := NormalizeEngine(cfg.Engine)
	if err != nil {
		return nil, nil, err
	}
	open, ok := openers[engine]
	if !ok {
		return nil, nil, fmt.Errorf("%w %q: not available in this build", ErrUnknownEngine, engine)
	}
	return open(ctx, cfg)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
