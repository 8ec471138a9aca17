package dbcache

import (
	"fmt"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/django"
)

// Opener returns the cache.WithDatabaseCache function that opens a
// dbcache://TABLE CACHE_URL in the database databaseURL names (Django's
// DatabaseCache uses the default database): the URL's table and its
// ?max_entries= and ?cull_frequency= become Open's table and Options.
// backends.Open and cacheddb.Open pass it for their DATABASE_URL:
//
//	st, err := cache.Open("dbcache://my_cache_table", settings,
//		cache.WithDatabaseCache(dbcache.Opener(databaseURL, settings)))
func Opener(databaseURL string, settings *django.Settings, dbOpts ...db.Option) func(*cache.Config) (cache.Client, error) {
	return func(cfg *cache.Config) (cache.Client, error) {
		if databaseURL == "" {
			return nil, fmt.Errorf("%w: dbcache://%s is a table in the database: give a DATABASE_URL too", django.ErrImproperlyConfigured, cfg.Table)
		}
		return Open(databaseURL, cfg.Table, settings, Options{MaxEntries: cfg.MaxEntries, CullFrequency: cfg.CullFrequency}, dbOpts...)
	}
}

// CacheBackend reports cache.Database, so that cache.New picks
// codec.DjangoPickle as the format of a Store over c.
func (c *Client) CacheBackend() cache.Backend { return cache.Database }
