// Package dbcache is Django's DatabaseCache (django.core.cache.backends.db,
// spec §6.3) as a cache.Client: the table `manage.py createcachetable`
// makes, read and written as Django 3.2 reads and writes it, so that a Go
// service and a Django site can share sessions kept in the cache session
// engine (spec §3.9.2) over a database cache.
//
// The table (LOCATION) has three columns: cache_key (varchar(255), the
// primary key), value (text: the standard base64, with padding, of the
// value's pickle, protocol 5) and expires (a DateTimeField, stored as
// Django stores DateTimeFields on each database for USE_TZ and TIME_ZONE,
// spec §3.9.1: naive text on SQLite, timestamptz on PostgreSQL, naive
// datetime(6) on MySQL/MariaDB). The Item values this Client takes and
// hands out are the bare pickles: the base64 is the Client's business, so
// the Store's format is codec.DjangoPickle.
//
// Operations, as DatabaseCache does them ("now" is Settings.Now(), never
// the database's clock; expires is written as floor(now + ttl) to the
// second, Django's utcfromtimestamp(time() + timeout) without its
// microseconds):
//
//   - Get reads the row; one whose expires < now is a miss and is deleted
//     (get_many; at the very instant of expires, to the microsecond as
//     timezone.now() has it, the row is still served). A deletion that
//     fails (a read-only user) leaves it a miss, not an error.
//   - Exists is "expires > now without its microseconds" (has_key), so at
//     that instant Exists already says gone, as Django's has_key does.
//   - Set, Add and Replace first count the rows and cull when there are
//     more than MaxEntries (_base_set, _cull): delete the expired rows,
//     then, if still too many, the count/CullFrequency rows whose keys sort
//     first (the database's ORDER BY cache_key), or every row for CullAll.
//     Set then writes the row whatever it held; Add writes only if there is
//     no row or the row expired before the current second; Replace (not a
//     DatabaseCache method: the Store's plain save, Django's "get() is not
//     None, then set()") writes only over a live row.
//   - Delete deletes the row, expired or not, and reports whether there was
//     one.
//   - Scan pages through the rows in cache_key order, restricted with LIKE
//     to the pattern's literal prefix, matches the whole Redis glob in Go,
//     and skips expired rows (DatabaseCache cannot list keys; this is what
//     the session Store's List needs).
//
// Differences from Django, on purpose:
//
//   - Base64 is decoded strictly: only the standard alphabet with correct
//     padding, no whitespace, line breaks or data after the padding (as
//     Python's b64decode(validate=True) reads it). Django 6.1 validates
//     likewise (spec §6.3); Django ≤ 6.0 discards characters outside the
//     alphabet and data after the padding. Everything Django writes passes.
//     A value that does not decode is a miss for Get (no error, as the
//     session engine reads any exception from cache.get as a miss) and a
//     nil Item.Value for Scan.
//   - Writes are single statements, each atomic, instead of Django's SELECT
//     then UPDATE or INSERT in a transaction: Set updates, else inserts
//     (and updates if a concurrent insert won); Add inserts, else updates
//     only a row whose expires is before the current second; Replace
//     updates only where expires > now. The rows they leave are Django's,
//     but two concurrent Adds of one expired key cannot both succeed (in
//     Django both can), and SQLite never fails a write by upgrading a read
//     lock.
//   - Database errors are returned (cache.ErrUnavailable for a database that
//     cannot be reached or does not answer in time). Django's set and add
//     swallow a DatabaseError (add returns False, set nothing); Add here
//     returns false only for a key that is taken.
//   - An expires that cannot be read (NULL in a hand-made table, SQLite text
//     that is no datetime, PostgreSQL's infinity) makes the row expired for
//     Get, Exists and Scan, where Django raises (TypeError, ValueError). Add
//     and Replace leave the comparison to the database, which never
//     overwrites a NULL.
//   - A key the table cannot hold (more than 255 characters, NUL, invalid
//     UTF-8) is refused by ValidateKey, so the Store treats it as no
//     session; Django would send it to the database (which fails the write
//     on PostgreSQL and MySQL).
//   - An expires Django wrote for timeout=None (datetime.max) is read as
//     "never" (Scan's TTL −1); this Client never writes one, as cache.Client
//     has no TTL for "never".
//
// As in Django, keys compare under the database's rules: on MySQL/MariaDB
// the cache_key column's collation (utf8mb4_general_ci by default) makes
// "Key" and "key" one row, and cull order and Scan order are the
// collation's. Session keys are lower-case letters and digits, so sessions
// never notice. Every write counts the table first (SELECT COUNT(*)), as
// Django does, which costs a scan of a large PostgreSQL table.
package dbcache

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
	"github.com/mattn/go-sqlite3"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/django"
)

// CullAll is Options.CullFrequency for Django's CULL_FREQUENCY = 0: a cull
// empties the table.
const CullAll = cache.CullAll

// Django's BaseCache defaults, as for cache.FileClient.
const (
	// DefaultMaxEntries is MAX_ENTRIES's default.
	DefaultMaxEntries = cache.DefaultMaxEntries
	// DefaultCullFrequency is CULL_FREQUENCY's default.
	DefaultCullFrequency = cache.DefaultCullFrequency
)

// MaxKeyLength is cache_key's varchar(255): the most characters a key can
// have.
const MaxKeyLength = 255

// ScanPageSize is how many rows Scan reads per query.
const ScanPageSize = 500

// scanPageBytes bounds the value bytes Scan holds for one page: a page
// ends early once it has read this many.
const scanPageBytes = 32 << 20

// maxWriteAttempts bounds Set's update-then-insert loop against concurrent
// inserts and deletes of the same key.
const maxWriteAttempts = 5

// Options are the DatabaseCache settings of one cache.
type Options struct {
	// MaxEntries is OPTIONS["MAX_ENTRIES"]: a write culls first when the
	// table has more rows than this. 0 is Django's default, 300; a
	// negative value is Django's MAX_ENTRIES = 0 (cull before every write
	// to a non-empty table).
	MaxEntries int
	// CullFrequency is OPTIONS["CULL_FREQUENCY"]: a cull deletes
	// 1/CullFrequency of the rows. 0 is Django's default, 3; CullAll is
	// Django's 0 (empty the table). Other negative values are refused.
	// As in Django, 1 culls only the expired rows (its OFFSET count finds
	// no key to delete below).
	CullFrequency int
	// Unprepared runs every query unprepared, for poolers that cannot
	// keep prepared statements (PgBouncer in transaction mode before
	// 1.21), as db.WithPreparedStatements(false) does for the session
	// table (and, passed to Open, for this Client). By default the reads
	// (Get, Exists) and the row count of every write are prepared once,
	// so that a Get is one round trip on PostgreSQL.
	Unprepared bool
	// Timeout bounds each operation (a deadline on its context; for Scan,
	// on each page); 0 leaves the caller's context alone. Open also passes
	// it to db.OpenDB as db.WithTimeout, so a silent server cannot hold a
	// call.
	Timeout time.Duration
}

// Client is a DatabaseCache table as a cache.Client (and a
// cache.BoundedClient). It is safe for concurrent use; the Settings it was
// made with must not change afterwards.
type Client struct {
	db       *sql.DB
	owned    bool
	dialect  db.Dialect
	table    string
	settings *django.Settings
	loc      *time.Location
	timeout  time.Duration

	maxEntries    int
	cullFrequency int // > 0, or CullAll

	q          queries
	closed     atomic.Bool
	unprepared bool
	mu         sync.Mutex // guards preparing and closing stmts
	stmts      sync.Map   // query text → *sql.Stmt
}

var _ cache.BoundedClient = (*Client)(nil)

type queries struct {
	get, getBounded, exists, deleteExpired                   string
	count, cullExpired, cullKey, cullBelow, clear            string
	update, updateIfExpired, updateIfLive, insert, deleteKey string
	scanCols, scanColsBounded, scanFrom                      string
}

// New returns the Client over table in a *sql.DB the caller opened with
// the driver for d (go-sqlite3, lib/pq or go-sql-driver/mysql). For MySQL
// the DSN must set clientFoundRows=true, parseTime=true and loc=UTC, as
// for db.New. Close does not close sqldb.
func New(sqldb *sql.DB, d db.Dialect, table string, settings *django.Settings, o Options) (*Client, error) {
	if sqldb == nil {
		return nil, fmt.Errorf("%w: nil *sql.DB", django.ErrImproperlyConfigured)
	}
	switch d {
	case db.SQLite, db.PostgreSQL, db.MySQL:
	default:
		return nil, fmt.Errorf("%w: unknown database dialect %d", django.ErrImproperlyConfigured, int(d))
	}
	if settings == nil {
		return nil, fmt.Errorf("%w: nil settings", django.ErrImproperlyConfigured)
	}
	if table == "" || strings.ContainsRune(table, 0) || len(table) > 200 || !utf8.ValidString(table) {
		return nil, fmt.Errorf("%w: bad cache table name", django.ErrImproperlyConfigured)
	}
	c := &Client{
		db:         sqldb,
		dialect:    d,
		table:      table,
		settings:   settings,
		loc:        settings.Location(),
		timeout:    o.Timeout,
		unprepared: o.Unprepared,
	}
	var err error
	if c.maxEntries, c.cullFrequency, err = cache.Culling(o.MaxEntries, o.CullFrequency); err != nil {
		return nil, fmt.Errorf("dbcache: %w", err)
	}
	c.buildQueries()
	return c, nil
}

// Open opens the database a DATABASE_URL names (db.OpenDB, with dbOpts for
// the pool) and returns the Client over table in it. dbOpts also stand for
// o where o leaves a setting alone: db.WithPreparedStatements(false) sets
// Unprepared, db.WithTimeout is the Timeout when o has none, so the
// options given for a session database reach its cache table too. The
// connection is made lazily. Close closes the pool.
func Open(databaseURL, table string, settings *django.Settings, o Options, dbOpts ...db.Option) (*Client, error) {
	shared := db.SharedOptions(dbOpts...)
	if !shared.Prepare {
		o.Unprepared = true
	}
	if o.Timeout == 0 {
		o.Timeout = shared.Timeout
	}
	if o.Timeout > 0 {
		dbOpts = append([]db.Option{db.WithTimeout(o.Timeout)}, dbOpts...)
	}
	sqldb, d, err := db.OpenDB(databaseURL, dbOpts...)
	if err != nil {
		return nil, err
	}
	c, err := New(sqldb, d, table, settings, o)
	if err != nil {
		sqldb.Close()
		return nil, err
	}
	c.owned = true
	return c, nil
}

func (c *Client) buildQueries() {
	d := c.dialect
	t := d.Quote(c.table)
	key, val, exp := d.Quote("cache_key"), d.Quote("value"), d.Quote("expires")
	p := d.Placeholder
	readExp := exp
	if d == db.SQLite {
		// The text Django wrote, not go-sqlite3's guess at a time.
		readExp = "CAST(" + exp + " AS TEXT)"
	}
	var valLen string
	switch d {
	case db.SQLite:
		valLen = "length(CAST(" + val + " AS BLOB))"
	case db.PostgreSQL:
		valLen = "octet_length(" + val + ")"
	default:
		valLen = "LENGTH(" + val + ")"
	}
	bounded := func(n int) string { return "CASE WHEN " + valLen + " <= " + p(n) + " THEN " + val + " END" }
	set := "UPDATE " + t + " SET " + val + " = " + p(1) + ", " + exp + " = " + p(2) + " WHERE " + key + " = " + p(3)
	c.q = queries{
		get:           "SELECT " + readExp + ", " + val + " FROM " + t + " WHERE " + key + " = " + p(1),
		getBounded:    "SELECT " + readExp + ", " + bounded(1) + " FROM " + t + " WHERE " + key + " = " + p(2),
		exists:        "SELECT " + readExp + " FROM " + t + " WHERE " + key + " = " + p(1),
		deleteExpired: "DELETE FROM " + t + " WHERE " + key + " = " + p(1) + " AND " + exp + " < " + p(2),

		count:       "SELECT COUNT(*) FROM " + t,
		cullExpired: "DELETE FROM " + t + " WHERE " + exp + " < " + p(1),
		cullKey:     "SELECT " + key + " FROM " + t + " ORDER BY " + key + " LIMIT 1 OFFSET " + p(1),
		cullBelow:   "DELETE FROM " + t + " WHERE " + key + " < " + p(1),
		clear:       "DELETE FROM " + t,

		update:          set,
		updateIfExpired: set + " AND " + exp + " < " + p(4),
		updateIfLive:    set + " AND " + exp + " > " + p(4),
		insert:          "INSERT INTO " + t + " (" + key + ", " + val + ", " + exp + ") VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")",
		deleteKey:       "DELETE FROM " + t + " WHERE " + key + " = " + p(1),

		scanCols:        "SELECT " + key + ", " + readExp + ", " + val,
		scanColsBounded: "SELECT " + key + ", " + readExp + ", " + bounded(1),
		scanFrom:        " FROM " + t,
	}
}

// CreateTableSQL returns the statements Django 3.2's `manage.py
// createcachetable --dry-run` prints for table on this database: the
// CREATE TABLE, on several lines, and the index on expires, named
// "<table>_expires" (Django does not shorten it), each ending with ";".
// Django's quote_name does not double a quote character inside a name;
// Quote does, so a name holding one gives SQL that works where Django's
// would not.
func CreateTableSQL(d db.Dialect, table string) []string {
	q := d.Quote
	var valueType, expiresType string
	switch d {
	case db.PostgreSQL:
		valueType, expiresType = "text", "timestamp with time zone"
	case db.MySQL:
		valueType, expiresType = "longtext", "datetime(6)"
	default:
		valueType, expiresType = "text", "datetime"
	}
	create := "CREATE TABLE " + q(table) + " (\n" +
		"    " + q("cache_key") + " varchar(255) NOT NULL PRIMARY KEY,\n" +
		"    " + q("value") + " " + valueType + " NOT NULL,\n" +
		"    " + q("expires") + " " + expiresType + " NOT NULL\n" +
		");"
	index := "CREATE INDEX " + q(table+"_expires") + " ON " + q(table) + " (" + q("expires") + ");"
	return []string{create, index}
}

// CreateTable creates the cache table with CreateTableSQL's statements, in
// a transaction where the database allows it (MySQL commits DDL at once).
// It fails if the table exists (Django's createcachetable skips it
// instead).
func (c *Client) CreateTable(ctx context.Context) error {
	if c.closed.Load() {
		return cache.ErrClosed
	}
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	tx, err := c.db.BeginTx(ctx, nil)
	if err != nil {
		return c.wrap("create table", err)
	}
	defer tx.Rollback()
	for _, stmt := range CreateTableSQL(c.dialect, c.table) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return c.wrap("create table", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return c.wrap("create table", err)
	}
	return nil
}

// DB returns the pool.
func (c *Client) DB() *sql.DB { return c.db }

// Dialect returns the database dialect.
func (c *Client) Dialect() db.Dialect { return c.dialect }

// Table returns the cache table's name (LOCATION).
func (c *Client) Table() string { return c.table }

// Close makes the Client unusable (cache.ErrClosed) and closes the pool
// when Open made it.
func (c *Client) Close() error {
	if c.closed.Swap(true) {
		return nil
	}
	c.mu.Lock()
	c.stmts.Range(func(q, st any) bool {
		st.(*sql.Stmt).Close()
		c.stmts.Delete(q)
		return true
	})
	c.mu.Unlock()
	if c.owned {
		return c.db.Close()
	}
	return nil
}

// queryRow runs the query q, prepared on first use unless Unprepared (a
// statement that fails to prepare runs unprepared, where its error shows).
func (c *Client) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	if c.unprepared {
		return c.db.QueryRowContext(ctx, q, args...)
	}
	if st, ok := c.stmts.Load(q); ok {
		return st.(*sql.Stmt).QueryRowContext(ctx, args...)
	}
	// Prepared outside the lock, so a slow server holds up no one else;
	// a statement prepared twice meanwhile is closed again.
	prepared, err := c.db.PrepareContext(ctx, q)
	if err != nil {
		return c.db.QueryRowContext(ctx, q, args...)
	}
	c.mu.Lock()
	if c.closed.Load() {
		c.mu.Unlock()
		prepared.Close()
		return c.db.QueryRowContext(ctx, q, args...)
	}
	st, loaded := c.stmts.LoadOrStore(q, prepared)
	c.mu.Unlock()
	if loaded {
		prepared.Close()
	}
	return st.(*sql.Stmt).QueryRowContext(ctx, args...)
}

// ValidateKey refuses a key the cache_key column cannot hold: more than
// MaxKeyLength characters, a NUL, or invalid UTF-8 (codec.ErrInvalidKey).
// The session Store calls it before using a key, and treats a refused one
// as no session.
func (c *Client) ValidateKey(key string) error {
	switch {
	case !utf8.ValidString(key):
		return fmt.Errorf("%w: not valid UTF-8", codec.ErrInvalidKey)
	case strings.IndexByte(key, 0) >= 0:
		return fmt.Errorf("%w: contains NUL", codec.ErrInvalidKey)
	case utf8.RuneCountInString(key) > MaxKeyLength:
		return fmt.Errorf("%w: longer than %d characters", codec.ErrInvalidKey, MaxKeyLength)
	}
	return nil
}

var noCancel context.CancelFunc = func() {}

func (c *Client) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	if c.timeout > 0 {
		return context.WithTimeout(ctx, c.timeout)
	}
	return ctx, noCancel
}

// wrap names the operation in a database error, and marks one that says
// the database cannot be reached or did not answer in time as
// cache.ErrUnavailable.
func (c *Client) wrap(op string, err error) error {
	if errors.Is(err, cache.ErrClosed) || errors.Is(err, cache.ErrUnavailable) {
		return err
	}
	if unavailable(err) {
		return fmt.Errorf("dbcache: %s: %w: %w", op, cache.ErrUnavailable, err)
	}
	return fmt.Errorf("dbcache: %s: %w", op, err)
}

// unavailable reports an error that means the database could not be
// reached or did not answer in time: a network error, a broken
// connection, a deadline, PostgreSQL's connection-exception and
// operator-intervention classes (08, 57) and too_many_connections,
// MySQL's too many connections and shutdown, SQLite's busy, locked and
// cannot-open.
func unavailable(err error) bool {
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, mysql.ErrInvalidConn) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		code := string(pe.Code)
		return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "57") || code == "53300"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1040 || me.Number == 1053
	}
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.Code == sqlite3.ErrBusy || se.Code == sqlite3.ErrLocked || se.Code == sqlite3.ErrCantOpen
	}
	var sep *sqlite3.Error
	if errors.As(err, &sep) {
		return sep.Code == sqlite3.ErrBusy || sep.Code == sqlite3.ErrLocked || sep.Code == sqlite3.ErrCantOpen
	}
	return false
}

// now is Django's timezone.now(): the settings' clock at Python's
// microsecond precision, so that expiry comparisons tie where Django's do.
func (c *Client) now() time.Time { return c.settings.Now().Truncate(time.Microsecond) }

// timeArg is what Django binds for a DateTimeField holding t.
func (c *Client) timeArg(t time.Time) (any, error) { return c.dialect.TimeArg(t, c.loc) }

// never reports an expires Django wrote for timeout=None: datetime.max
// without its microseconds, 9999-12-31 23:59:59 as a naive wall clock in
// the Client's zone (or later).
func (c *Client) never(e time.Time) bool {
	w := e.In(c.loc)
	wall := time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(), 0, time.UTC)
	return !wall.Before(datetimeMax)
}

// datetimeMax is Python's datetime.max without its microseconds, as a wall
// clock.
var datetimeMax = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// readExpires reads an expires column value; ok is false when it cannot
// be read (see the package doc).
func (c *Client) readExpires(v any) (time.Time, bool) {
	t, err := c.dialect.ReadTime(v, c.loc)
	return t, err == nil
}

// decodeValue is the value column as the pickle it holds: strict standard
// base64 (see the package doc); ok is false for anything else and for an
// empty value.
func decodeValue(s string) ([]byte, bool) {
	if s == "" || strings.ContainsAny(s, "\r\n") {
		return nil, false
	}
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || len(b) == 0 {
		return nil, false
	}
	return b, true
}

// encodedLimit is the longest base64 text (with padding) of at most limit
// bytes: a longer text decodes to more than limit bytes, or not at all.
func encodedLimit(limit int) int64 {
	return 4 * ((int64(limit) + 2) / 3)
}

// Get returns the pickle stored under key. A missing row, an expired one
// (deleted on the way, as get_many does), and a value that is not base64
// are misses.
func (c *Client) Get(ctx context.Context, key string) (cache.Item, bool, error) {
	return c.get(ctx, key, 0)
}

// GetBounded is Get that does not read a value whose pickle would be
// longer than limit bytes (limit > 0): it is a miss, and so is an empty
// value. limit ≤ 0 is Get.
func (c *Client) GetBounded(ctx context.Context, key string, limit int) (cache.Item, bool, error) {
	return c.get(ctx, key, limit)
}

func (c *Client) get(ctx context.Context, key string, limit int) (cache.Item, bool, error) {
	if c.closed.Load() {
		return cache.Item{}, false, cache.ErrClosed
	}
	if c.ValidateKey(key) != nil {
		return cache.Item{}, false, nil
	}
	now := c.now()
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	var row *sql.Row
	if limit > 0 {
		row = c.queryRow(ctx, c.q.getBounded, encodedLimit(limit), key)
	} else {
		row = c.queryRow(ctx, c.q.get, key)
	}
	var (
		rawExp any
		value  sql.NullString
	)
	if err := row.Scan(&rawExp, &value); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return cache.Item{}, false, nil
		}
		return cache.Item{}, false, c.wrap("get", err)
	}
	exp, ok := c.readExpires(rawExp)
	if !ok {
		return cache.Item{}, false, nil
	}
	if exp.Before(now) {
		// Django's get_many deletes the expired keys it read; the
		// condition keeps a row another client refreshed meanwhile. The
		// row is expired whether or not that works (a read-only user or
		// replica, a timeout): a failed delete is not a failed read, as
		// FileClient's is not (Django's session engine reads its error as
		// a miss too).
		if nowArg, err := c.timeArg(now); err == nil {
			_, _ = c.db.ExecContext(ctx, c.q.deleteExpired, key, nowArg)
		}
		return cache.Item{}, false, nil
	}
	if !value.Valid {
		return cache.Item{}, false, nil
	}
	b, ok := decodeValue(value.String)
	if !ok || (limit > 0 && len(b) > limit) {
		return cache.Item{}, false, nil
	}
	return cache.Item{Value: b}, true, nil
}

// Exists reports whether a row for key has expires > now without its
// microseconds (has_key).
func (c *Client) Exists(ctx context.Context, key string) (bool, error) {
	if c.closed.Load() {
		return false, cache.ErrClosed
	}
	if c.ValidateKey(key) != nil {
		return false, nil
	}
	now := c.settings.Now().Truncate(time.Second)
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	var rawExp any
	if err := c.queryRow(ctx, c.q.exists, key).Scan(&rawExp); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, c.wrap("exists", err)
	}
	exp, ok := c.readExpires(rawExp)
	return ok && exp.After(now), nil
}

// Delete deletes the row of key, expired or not; deleted reports whether
// there was one (Django's delete return value).
func (c *Client) Delete(ctx context.Context, key string) (bool, error) {
	if c.closed.Load() {
		return false, cache.ErrClosed
	}
	if c.ValidateKey(key) != nil {
		return false, nil
	}
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	res, err := c.db.ExecContext(ctx, c.q.deleteKey, key)
	if err != nil {
		return false, c.wrap("delete", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, c.wrap("delete", err)
	}
	return n > 0, nil
}

// write is what Set, Add and Replace bind: the value column, expires, and
// the two "now"s they compare with.
type write struct {
	value          string
	expires        any
	now, nowSecond any
}

// prepare validates key and computes the write of it for ttl: expires =
// floor(now + ttl) to the second; a ttl of 0 is −1 s, as Django's
// get_backend_timeout makes it.
func (c *Client) prepare(key string, it cache.Item, ttl time.Duration) (write, error) {
	if err := c.ValidateKey(key); err != nil {
		return write{}, err
	}
	if ttl == 0 {
		ttl = -time.Second
	}
	now := c.now()
	var w write
	var err error
	if w.expires, err = c.timeArg(now.Add(ttl).Truncate(time.Second)); err != nil {
		return write{}, err
	}
	if w.now, err = c.timeArg(now); err != nil {
		return write{}, err
	}
	if w.nowSecond, err = c.timeArg(now.Truncate(time.Second)); err != nil {
		return write{}, err
	}
	w.value = base64.StdEncoding.EncodeToString(it.Value) // ValueFormat.Encode
	return w, nil
}

// cull is _base_set's count and _cull: with more than maxEntries rows,
// delete the expired ones (expires < now without its microseconds), then,
// still too many, the rows below the (count/cullFrequency)-th key in
// cache_key order; with CullAll, every row.
func (c *Client) cull(ctx context.Context, w write) error {
	var num int64
	if err := c.queryRow(ctx, c.q.count).Scan(&num); err != nil {
		return err
	}
	if num <= int64(c.maxEntries) {
		return nil
	}
	if c.cullFrequency == CullAll {
		_, err := c.db.ExecContext(ctx, c.q.clear)
		return err
	}
	if _, err := c.db.ExecContext(ctx, c.q.cullExpired, w.nowSecond); err != nil {
		return err
	}
	if err := c.db.QueryRowContext(ctx, c.q.count).Scan(&num); err != nil {
		return err
	}
	if num <= int64(c.maxEntries) {
		return nil
	}
	var last string
	if err := c.db.QueryRowContext(ctx, c.q.cullKey, num/int64(c.cullFrequency)).Scan(&last); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		return err
	}
	_, err := c.db.ExecContext(ctx, c.q.cullBelow, last)
	return err
}

// exec runs a write statement and returns the rows it matched.
func (c *Client) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.db.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// begin starts a write: closed check, key and times, context, cull.
func (c *Client) begin(ctx context.Context, op, key string, it cache.Item, ttl time.Duration) (context.Context, context.CancelFunc, write, error) {
	if c.closed.Load() {
		return nil, nil, write{}, cache.ErrClosed
	}
	w, err := c.prepare(key, it, ttl)
	if err != nil {
		return nil, nil, write{}, fmt.Errorf("dbcache: %s: %w", op, err)
	}
	ctx, cancel := c.opContext(ctx)
	if err := c.cull(ctx, w); err != nil {
		cancel()
		return nil, nil, write{}, c.wrap(op+": cull", err)
	}
	return ctx, cancel, w, nil
}

// Set writes it under key for ttl whatever the row held (set).
func (c *Client) Set(ctx context.Context, key string, it cache.Item, ttl time.Duration) error {
	ctx, cancel, w, err := c.begin(ctx, "set", key, it, ttl)
	if err != nil {
		return err
	}
	defer cancel()
	for range maxWriteAttempts {
		n, err := c.exec(ctx, c.q.update, w.value, w.expires, key)
		if err != nil {
			return c.wrap("set", err)
		}
		if n > 0 {
			return nil
		}
		if _, err := c.exec(ctx, c.q.insert, key, w.value, w.expires); err == nil {
			return nil
		} else if !db.IsUniqueViolation(err) {
			return c.wrap("set", err)
		}
		// Another client inserted the key meanwhile: update it.
	}
	return fmt.Errorf("dbcache: set: key %.40q changed %d times under concurrent writes", key, maxWriteAttempts)
}

// Add writes it under key for ttl if there is no row, or the row's expires
// is before the current second (add); added is false when the key is
// taken.
func (c *Client) Add(ctx context.Context, key string, it cache.Item, ttl time.Duration) (bool, error) {
	ctx, cancel, w, err := c.begin(ctx, "add", key, it, ttl)
	if err != nil {
		return false, err
	}
	defer cancel()
	_, err = c.exec(ctx, c.q.insert, key, w.value, w.expires)
	if err == nil {
		return true, nil
	}
	if !db.IsUniqueViolation(err) {
		return false, c.wrap("add", err)
	}
	n, err := c.exec(ctx, c.q.updateIfExpired, w.value, w.expires, key, w.nowSecond)
	if err != nil {
		return false, c.wrap("add", err)
	}
	return n > 0, nil
}

// Replace writes it under key for ttl only over a live row (expires >
// now); replaced is false when there is none. It culls first, as the set
// of Django's session save does.
func (c *Client) Replace(ctx context.Context, key string, it cache.Item, ttl time.Duration) (bool, error) {
	ctx, cancel, w, err := c.begin(ctx, "replace", key, it, ttl)
	if err != nil {
		return false, err
	}
	defer cancel()
	n, err := c.exec(ctx, c.q.updateIfLive, w.value, w.expires, key, w.now)
	if err != nil {
		return false, c.wrap("replace", err)
	}
	return n > 0, nil
}

// Scan calls fn with every live row whose key matches the Redis glob
// pattern (see ScanBounded).
func (c *Client) Scan(ctx context.Context, pattern string, fn func(key string, it cache.Item) error) error {
	return c.ScanBounded(ctx, pattern, 0, fn)
}

type scanRow struct {
	key   string
	exp   any
	value sql.NullString
}

// ScanBounded calls fn, in cache_key order, with every row whose key
// matches the Redis glob pattern and whose expires is after now, and its
// item: the pickle (nil when the value is not base64 or, with limit > 0,
// when it would be longer than limit bytes, which is then not read), and
// TTL = expires − now (−1 for datetime.max, "never"). It reads
// ScanPageSize rows per query (fewer when their values are large),
// restricted with LIKE to the pattern's literal prefix, and holds no
// connection while fn runs. An error from fn stops the scan and is
// returned.
func (c *Client) ScanBounded(ctx context.Context, pattern string, limit int, fn func(key string, it cache.Item) error) error {
	if c.closed.Load() {
		return cache.ErrClosed
	}
	if ctx == nil {
		ctx = context.Background()
	}
	prefix := literalPrefix(pattern)
	after, first := "", true
	page := make([]scanRow, 0, ScanPageSize)
	for {
		var full bool
		var err error
		page, full, err = c.scanPage(ctx, page[:0], prefix, limit, after, first)
		if err != nil {
			return c.wrap("scan", err)
		}
		now := c.now()
		for _, r := range page {
			if !globMatch(pattern, r.key) {
				continue
			}
			exp, ok := c.readExpires(r.exp)
			if !ok || !exp.After(now) {
				continue
			}
			it := cache.Item{TTL: exp.Sub(now), Expires: exp}
			if c.never(exp) {
				it.TTL, it.Expires = -1, time.Time{}
			}
			if r.value.Valid {
				if b, ok := decodeValue(r.value.String); ok && (limit <= 0 || len(b) <= limit) {
					it.Value = b
				}
			}
			if err := fn(r.key, it); err != nil {
				return err
			}
		}
		if !full {
			return nil
		}
		after, first = page[len(page)-1].key, false
	}
}

// likeEscape escapes s for LIKE ... ESCAPE '!'.
func likeEscape(s string) string {
	return strings.NewReplacer("!", "!!", "%", "!%", "_", "!_").Replace(s)
}

// scanPage reads the next page: rows with cache_key > after (all, for the
// first page) and LIKE prefix%, in cache_key order. full reports that
// there may be more rows.
func (c *Client) scanPage(ctx context.Context, page []scanRow, prefix string, limit int, after string, first bool) ([]scanRow, bool, error) {
	ctx, cancel := c.opContext(ctx)
	defer cancel()
	d := c.dialect
	key := d.Quote("cache_key")
	var args []any
	var b strings.Builder
	if limit > 0 {
		b.WriteString(c.q.scanColsBounded)
		args = append(args, encodedLimit(limit))
	} else {
		b.WriteString(c.q.scanCols)
	}
	b.WriteString(c.q.scanFrom)
	var conds []string
	if !first {
		args = append(args, after)
		conds = append(conds, key+" > "+d.Placeholder(len(args)))
	}
	if prefix != "" {
		args = append(args, likeEscape(prefix)+"%")
		conds = append(conds, key+" LIKE "+d.Placeholder(len(args))+" ESCAPE '!'")
	}
	if len(conds) > 0 {
		b.WriteString(" WHERE " + strings.Join(conds, " AND "))
	}
	b.WriteString(" ORDER BY " + key + " LIMIT " + strconv.Itoa(ScanPageSize))
	rows, err := c.db.QueryContext(ctx, b.String(), args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	n, bytes := 0, 0
	for rows.Next() {
		var r scanRow
		var k sql.NullString
		if err := rows.Scan(&k, &r.exp, &r.value); err != nil {
			return nil, false, err
		}
		n++
		if !k.Valid {
			continue // a NULL key (a hand-made table) sorts first and is no key
		}
		r.key = k.String
		page = append(page, r)
		bytes += len(r.value.String)
		if bytes >= scanPageBytes {
			// Enough held: the next page starts after this row.
			return page, true, nil
		}
	}
	if err := rows.Err(); err != nil {
		return nil, false, err
	}
	return page, n == ScanPageSize && len(page) > 0, nil
}
