package codec

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
)

// Cache key prefixes of Django's session backends (spec §3.9.2, §3.9.3):
// the cache key of a session is the prefix followed by the session key.
const (
	// SessionCachePrefix is KEY_PREFIX of django.contrib.sessions.backends.cache.
	SessionCachePrefix = "django.contrib.sessions.cache"
	// CachedDBPrefix is KEY_PREFIX of django.contrib.sessions.backends.cached_db.
	CachedDBPrefix = "django.contrib.sessions.cached_db"
)

// MemcacheMaxKeyLength is MEMCACHE_MAX_KEY_LENGTH: the longest key memcached
// accepts (Django counts characters, not bytes).
const MemcacheMaxKeyLength = 250

// KeyFunc is a cache KEY_FUNCTION: it makes the final key from the key,
// KEY_PREFIX and VERSION.
type KeyFunc func(key, prefix string, version int) string

// MakeKey is Django's default_key_func: "<prefix>:<version>:<key>"
// (spec §6.1). With Django's defaults (KEY_PREFIX "", VERSION 1) a cache
// session is at ":1:django.contrib.sessions.cache<session key>".
func MakeKey(key, prefix string, version int) string {
	return prefix + ":" + strconv.Itoa(version) + ":" + key
}

// globEscape is django-redis's glob_escape: each of * ? [ becomes [*] [?] [[].
func globEscape(s string) string {
	if !strings.ContainsAny(s, "*?[") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '*' || r == '?' || r == '[' {
			b.WriteByte('[')
			b.WriteRune(r)
			b.WriteByte(']')
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// MakePattern is django-redis's make_pattern (spec §7.1), the Redis glob
// pattern used by keys/iter_keys/delete_pattern (SCAN MATCH): the prefix
// (and version) with * ? [ escaped, the pattern itself as given, joined by
// keyFunc (nil means MakeKey). For every session of the cache backend:
// MakePattern(SessionCachePrefix+"*", prefix, version, nil).
func MakePattern(pattern, prefix string, version int, keyFunc KeyFunc) string {
	if keyFunc == nil {
		keyFunc = MakeKey
	}
	// The version is an int: escaping its text changes nothing.
	return keyFunc(pattern, globEscape(prefix), version)
}

// ReverseKey is django-redis's default_reverse_key: the text after the
// second ":" (the key given to MakeKey). ok is false when key has fewer
// than two colons.
func ReverseKey(key string) (string, bool) {
	parts := strings.SplitN(key, ":", 3)
	if len(parts) < 3 {
		return "", false
	}
	return parts[2], true
}

// MemcacheKeyWarnings returns the warnings Django's memcache_key_warnings
// gives for a final key (spec §6.1), in Django's words: one if it is longer
// than 250 characters, one if it contains a character below U+0021 or
// U+007F. Every backend only warns (CacheKeyWarning); memcached backends
// raise (see ValidateMemcachedKey).
func MemcacheKeyWarnings(key string) []string {
	var w []string
	if utf8.RuneCountInString(key) > MemcacheMaxKeyLength {
		w = append(w, fmt.Sprintf("Cache key will cause errors if used with memcached: %s (longer than %d)",
			py.Str(key).Repr(), MemcacheMaxKeyLength))
	}
	for _, r := range key {
		if r < 33 || r == 127 {
			w = append(w, "Cache key contains characters that will cause errors if used with memcached: "+
				py.Str(key).Repr())
			break
		}
	}
	return w
}

// ValidateMemcachedKey is the memcached backends' validate_key: the first
// warning of MemcacheKeyWarnings as an ErrInvalidKey error (Django's
// InvalidCacheKey), or nil.
func ValidateMemcachedKey(key string) error {
	if w := MemcacheKeyWarnings(key); len(w) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidKey, w[0])
	}
	return nil
}
