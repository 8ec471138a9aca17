// Package cacheddb is Django's cached_db session engine
// (django.contrib.sessions.backends.cached_db, spec §3.9.3): the database
// store (package db) is the record, and a cache (package cache, with the
// key prefix "django.contrib.sessions.cached_db") sits in front of it for
// reads.
//
//   - Load reads the cache; on a miss (or any cache error, as Django) it
//     reads the database and fills the cache for the row's remaining life,
//     get_expiry_age(expiry=expire_date).
//   - Save writes the database (create/update semantics of the db store),
//     then the cache; a cache write error is logged, not returned (Django
//     5.1+).
//   - Delete deletes both; Exists asks the cache, then the database;
//     ClearExpired and List are the database's.
//
// One difference from Django: a failed cache fill during Load is logged and
// the database's data returned, where Django would raise.
package cacheddb

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/cache/dbcache"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// ExpiryLoader is implemented by a database store that can return a
// session's expire_date with its data. With it, Load fills the cache for
// exactly the row's remaining life, as Django does; without it, the cache
// is filled only when the session's own _session_expiry says when it ends.
type ExpiryLoader interface {
	LoadExpiry(ctx context.Context, key string) (data *py.Dict, expireDate time.Time, state django.LoadState, err error)
}

// Store is the cached_db engine. It is safe for concurrent use.
type Store struct {
	db       django.Store
	cache    *cache.Store
	settings *django.Settings
	logger   *slog.Logger
	closers  []io.Closer
}

var _ django.Store = (*Store)(nil)

// Option configures New and Open.
type Option func(*Store)

// WithLogger sets where cache errors are logged (default slog.Default()),
// Django's logger "django.contrib.sessions".
func WithLogger(l *slog.Logger) Option { return func(s *Store) { s.logger = l } }

// New returns the engine over a database store and a cache store. The cache
// store should use the cached_db key prefix
// (cache.WithSessionPrefix(codec.CachedDBPrefix)), as Open arranges; Close
// closes neither.
func New(dbStore django.Store, cacheStore *cache.Store, settings *django.Settings, opts ...Option) (*Store, error) {
	if dbStore == nil || cacheStore == nil || settings == nil {
		return nil, fmt.Errorf("%w: cached_db needs a database store, a cache store and settings", django.ErrImproperlyConfigured)
	}
	s := &Store{db: dbStore, cache: cacheStore, settings: settings, logger: slog.Default()}
	for _, o := range opts {
		if o != nil {
			o(s)
		}
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}
	return s, nil
}

// Open opens the database a DATABASE_URL names and the cache a CACHE_URL
// names (with the cached_db key prefix) and returns the engine over them;
// Close closes both.
func Open(databaseURL, cacheURL string, settings *django.Settings, dbOpts []db.Option, cacheOpts []cache.Option, opts ...Option) (*Store, error) {
	d, err := db.Open(databaseURL, settings, dbOpts...)
	if err != nil {
		return nil, err
	}
	c, err := cache.Open(cacheURL, settings, append([]cache.Option{cache.WithSessionPrefix(codec.CachedDBPrefix),
		cache.WithDatabaseCache(dbcache.Opener(databaseURL, settings, dbOpts...))}, cacheOpts...)...)
	if err != nil {
		d.Close()
		return nil, err
	}
	s, err := New(d, c, settings, opts...)
	if err != nil {
		d.Close()
		c.Close()
		return nil, err
	}
	s.closers = []io.Closer{c, d}
	return s, nil
}

// DB returns the database store.
func (s *Store) DB() django.Store { return s.db }

// Cache returns the cache store.
func (s *Store) Cache() *cache.Store { return s.cache }

// Close closes what Open opened.
func (s *Store) Close() error {
	var errs []error
	for _, c := range s.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

// Load reads the cache, then the database on a miss, filling the cache
// with the database's data (Django's read-through load). A row that fails
// verification is not found here; LoadState tells it apart.
func (s *Store) Load(ctx context.Context, key string) (*py.Dict, bool, error) {
	d, state, err := s.LoadState(ctx, key)
	return d, state == django.LoadFound, err
}

// LoadState is Load that reports a database row that fails verification
// as django.LoadCorrupt. As Django does, the empty dict its decode gives is
// then cached for the row's remaining life, so later loads find an empty
// session under the same key.
func (s *Store) LoadState(ctx context.Context, key string) (*py.Dict, django.LoadState, error) {
	data, found, err := s.cache.Load(ctx, key)
	if err == nil && found {
		return data, django.LoadFound, nil
	}
	if err != nil {
		// Django reads any cache error as a miss; the database decides.
		s.logger.WarnContext(ctx, "cached_db: reading the cache failed; using the database", "error", err)
	}
	var (
		expire time.Time
		state  django.LoadState
	)
	switch db := s.db.(type) {
	case ExpiryLoader:
		data, expire, state, err = db.LoadExpiry(ctx, key)
	case django.StateLoader:
		data, state, err = db.LoadState(ctx, key)
	default:
		data, found, err = s.db.Load(ctx, key)
		if found {
			state = django.LoadFound
		}
	}
	if err != nil || state == django.LoadMissing {
		return nil, django.LoadMissing, err
	}
	if state == django.LoadCorrupt || data == nil {
		data = py.NewDict(0)
	}
	s.fill(ctx, key, data, expire)
	if state == django.LoadCorrupt {
		return nil, django.LoadCorrupt, nil
	}
	return data, django.LoadFound, nil
}

// fill caches data read from the database for the session's remaining
// life: the row's expire_date, or without it the data's own expiry date
// (none: not cached). A cache error is logged, as Django logs it.
func (s *Store) fill(ctx context.Context, key string, data *py.Dict, expire time.Time) {
	now := s.settings.Now()
	if expire.IsZero() {
		// Without the row's expire_date, only an explicit expiry date in
		// the data says how long the entry may live.
		exp, _ := data.GetStr(django.ExpiryKey)
		if _, isDate := exp.Str(); !isDate {
			if _, isDT := exp.DateTime(); !isDT {
				return
			}
		}
		expire = django.ExpiryDate(s.settings, now, exp)
	}
	age := django.ExpiryAge(s.settings, now, py.FromTime(expire, true, py.UTC))
	if err := s.cache.Set(ctx, key, data, age); err != nil {
		s.logger.ErrorContext(ctx, "cached_db: error saving to cache", "error", err)
	}
}

// Exists reports whether the cache or the database has the session
// (a cache error falls through to the database).
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if ok, err := s.cache.Exists(ctx, key); err == nil && ok {
		return true, nil
	}
	return s.db.Exists(ctx, key)
}

// Save writes the database (django.ErrCreateConflict and
// django.ErrUpdateMissing come from there), then sets the cache entry for
// rec.ExpiryAge seconds. A cache error is logged and not returned, as
// Django 5.1+ does ("Error saving to cache").
func (s *Store) Save(ctx context.Context, rec *django.Record, mustCreate bool) error {
	if err := s.db.Save(ctx, rec, mustCreate); err != nil {
		return err
	}
	var err error
	if mustCreate {
		err = s.cache.Set(ctx, rec.SessionKey, rec.Data, rec.ExpiryAge)
	} else {
		// A plain save only replaces an entry that is still there: a
		// delete (logout) racing this save must not be undone by a cache
		// write after it (Django has that race). A missing entry is
		// refilled from the database by the next load.
		cr := *rec
		err = s.cache.Save(ctx, &cr, false)
		if errors.Is(err, django.ErrUpdateMissing) {
			err = nil
		}
	}
	if err != nil {
		s.logger.ErrorContext(ctx, "cached_db: error saving to cache", "error", err)
	}
	return nil
}

// Delete deletes the row, then the cache entry. A cache error is returned:
// a stale entry would keep a deleted (logged-out) session alive.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.db.Delete(ctx, key); err != nil {
		return err
	}
	return s.cache.Delete(ctx, key)
}

// ClearExpired deletes the expired rows (the cache expires its entries).
func (s *Store) ClearExpired(ctx context.Context) error { return s.db.ClearExpired(ctx) }

// List lists the database's sessions.
func (s *Store) List(ctx context.Context, fn func(django.Info) error) error {
	return s.db.List(ctx, fn)
}
