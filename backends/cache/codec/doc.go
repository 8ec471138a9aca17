// Package codec turns a Python value (a session dict, usually) into the bytes
// a Django cache client stores in Redis or Memcached, and back, exactly as
// the Python clients do. It does no I/O: the Redis and Memcached backends
// hand it the stored bytes (and, for Memcached, the item flags).
//
// Four client formats are covered (spec §6.2, §6.3, §7.2–7.4):
//
//   - DjangoRedis: django-redis's DefaultClient (ints raw, everything else
//     SERIALIZER then COMPRESSOR; reading tries int(), then decompression,
//     keeping the raw bytes when they are not in the compressor's format).
//   - DjangoRedisCache: Django's own django.core.cache.backends.redis (4.0+).
//   - PyMemcache: Django's PyMemcacheCache (pymemcache's pickle_serde flags).
//   - PyLibMC: Django's PyLibMCCache (pylibmc's native flags and zlib).
//
// django-redis's HerdClient stores values as DjangoRedis does, wrapped with a
// deadline: DjangoRedis.EncodeHerd, DjangoRedis.DecodeHerd and HerdMiss
// (herd.go) carry its format and its stale/miss rule; the cache Store
// applies them (cache.WithHerd).
//
// Plus the pieces they are built from: Compressor (identity, zlib, gzip, lzma,
// lz4, zstd), Serializer (pickle, Django's JSON, msgpack) and the cache key
// functions (MakeKey, MakePattern, key validation).
//
// Everything read here is attacker-reachable: decompression is bounded by a
// size limit and never allocates past it, parsers never panic, and errors
// are the sentinel values below, to be tested with errors.Is.
package codec

import "errors"

// Sentinel errors. Errors returned by this package wrap one of these (and,
// for pickle failures, also the pickle package's sentinel).
var (
	// ErrNotCompressed means the data is not in the compressor's format:
	// what django-redis raises as CompressorError, upon which DjangoRedis
	// keeps the raw bytes (spec §7.2).
	ErrNotCompressed = errors.New("codec: data is not in the compressor's format")

	// ErrCorrupt means compressed data that Python rejects with an error the
	// django-redis compressor does not catch (a truncated gzip member is
	// EOFError, a bad deflate stream in it zlib.error; spec §7.4). Reading
	// fails instead of falling back to the raw bytes.
	ErrCorrupt = errors.New("codec: corrupt compressed data")

	// ErrTooLarge means a value would exceed the size limit once
	// decompressed (or is larger than the limit as stored).
	ErrTooLarge = errors.New("codec: value exceeds the size limit")

	// ErrMalformed means bytes that the serializer cannot read (bad pickle,
	// JSON, msgpack, UTF-8 or integer text).
	ErrMalformed = errors.New("codec: malformed value")

	// ErrUnsupported means a value the format cannot write (Python raises
	// TypeError or ValueError there), or stored data using a feature this
	// package does not implement (a msgpack extension type, an .xz filter
	// other than LZMA2).
	ErrUnsupported = errors.New("codec: unsupported value")

	// ErrFlags means Memcached item flags the client library rejects.
	ErrFlags = errors.New("codec: unknown memcached flags")

	// ErrInvalidKey means a cache key memcached cannot store (Django's
	// InvalidCacheKey, spec §6.1).
	ErrInvalidKey = errors.New("codec: invalid cache key")
)

// DefaultMaxSize is the size limit used when a format's or compressor's limit
// is zero or negative: 16 MiB of serialized (decompressed) bytes. Django
// sessions are a few kilobytes; Redis allows 512 MB per value.
const DefaultMaxSize = 16 << 20

func limitOrDefault(limit int) int {
	if limit <= 0 {
		return DefaultMaxSize
	}
	return limit
}
