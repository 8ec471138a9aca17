// Package db is Django's database session engine
// (django.contrib.sessions.backends.db): each session is a row of the
// django_session table, read and written over database/sql exactly as
// Django does on SQLite, PostgreSQL and MySQL/MariaDB (spec §3.9.1), so a
// Go service and a Django site can share one table.
//
// Open takes a DATABASE_URL as dj-database-url reads it; New wraps a
// *sql.DB the caller configured. A Store is a django.Store: hand it to
// django.NewSession or the middleware.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// DefaultTable is the table of Django's Session model.
const DefaultTable = "django_session"

// ListPageSize is how many rows List reads per query: it pages through the
// table by session_key, never holding more than this many rows.
const ListPageSize = 500

// maxKeyLength is session_key's varchar(40): a longer key cannot be stored.
const maxKeyLength = 40

// ErrClosed is returned by a Store used after Close.
var ErrClosed = errors.New("db: store is closed")

// Store is Django's database SessionStore backend over database/sql. It is
// safe for concurrent use; statements are prepared once per connection, so
// Load is one round trip to the database. The Settings it was made with
// must not change afterwards.
//
// Times follow Django: "now" is Settings.Now() (Django's timezone.now()),
// never the database clock, and expire_date is written the way Django
// writes it for Settings.UseTZ and Settings.TimeZone.
type Store struct {
	db       *sql.DB
	owned    bool
	dialect  Dialect
	table    string
	settings *django.Settings
	codec    *django.Codec
	loc      *time.Location
	timeout  time.Duration
	prepare  bool

	queries [numQueries]string
	stmts   [numQueries]atomic.Pointer[sql.Stmt]
	mu      sync.Mutex // serializes preparing and Close
	closed  atomic.Bool
}

type query int

const (
	qLoad query = iota
	qExists
	qInsert
	qUpdate
	qDelete
	qClearExpired
	qListFirst
	qListNext
	qLoadExpiry
	numQueries
)

// Option configures Open and New.
type Option func(*options)

type options struct {
	table           string
	maxOpen         int
	maxIdle         int
	connMaxLifetime time.Duration
	connMaxIdleTime time.Duration
	timeout         time.Duration
	connectTimeout  time.Duration
	noPrepare       bool
	set             map[string]bool
}

func (o *options) mark(name string) {
	if o.set == nil {
		o.set = map[string]bool{}
	}
	o.set[name] = true
}

// WithTable sets the table name, for a custom session model's db_table
// (Django's AbstractBaseSession subclasses). The default is django_session.
func WithTable(name string) Option { return func(o *options) { o.table = name } }

// WithMaxOpenConns sets the pool's maximum open connections (Open only;
// default 20, and 1 for an in-memory SQLite database).
func WithMaxOpenConns(n int) Option {
	return func(o *options) { o.maxOpen = n; o.mark("maxOpen") }
}

// WithMaxIdleConns sets the pool's idle connections kept (Open only;
// default: as many as WithMaxOpenConns, so prepared statements survive).
func WithMaxIdleConns(n int) Option {
	return func(o *options) { o.maxIdle = n; o.mark("maxIdle") }
}

// WithConnMaxLifetime sets how long a connection is reused (Open only;
// default one hour).
func WithConnMaxLifetime(d time.Duration) Option {
	return func(o *options) { o.connMaxLifetime = d; o.mark("lifetime") }
}

// WithConnMaxIdleTime sets how long an idle connection is kept (Open only;
// default five minutes).
func WithConnMaxIdleTime(d time.Duration) Option {
	return func(o *options) { o.connMaxIdleTime = d; o.mark("idle") }
}

// WithTimeout bounds every store operation (a deadline on its context);
// zero, the default, leaves the caller's context alone.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithPreparedStatements(false) runs every query unprepared, for poolers
// that cannot keep prepared statements (PgBouncer in transaction mode
// before 1.21). The default, true, prepares each statement once per
// connection, so Load is one round trip; unprepared, lib/pq needs two
// (MySQL one with interpolateParams=true in the URL).
func WithPreparedStatements(prepare bool) Option {
	return func(o *options) { o.noPrepare = !prepare }
}

// WithConnectTimeout bounds establishing a connection (Open only; default
// 10 s, unless the URL sets connect_timeout (PostgreSQL) or timeout
// (MySQL)). SQLite ignores it; its busy timeout is the URL's _busy_timeout
// (default 5 s).
func WithConnectTimeout(d time.Duration) Option {
	return func(o *options) { o.connectTimeout = d; o.mark("connect") }
}

// Open connects to the database a DATABASE_URL names (see ParseURL) and
// returns its session store. The connection is made lazily: Open fails
// only on a bad URL or settings. Close releases the pool.
func Open(databaseURL string, settings *django.Settings, opts ...Option) (*Store, error) {
	cfg, err := ParseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	o := collect(opts)
	sqldb, memory, err := cfg.open(o)
	if err != nil {
		return nil, err
	}
	configurePool(sqldb, o, memory)
	s, err := newStore(sqldb, cfg.Dialect, settings, o)
	if err != nil {
		sqldb.Close()
		return nil, err
	}
	s.owned = true
	return s, nil
}

// Shared is what a list of Options says that other clients of the same
// database follow too (package dbcache): whether statements are prepared
// (WithPreparedStatements) and the per-operation timeout (WithTimeout).
type Shared struct {
	Prepare bool
	Timeout time.Duration
}

// SharedOptions returns what opts say of Shared's settings (prepared
// statements on by default, no timeout).
func SharedOptions(opts ...Option) Shared {
	o := collect(opts)
	return Shared{Prepare: !o.noPrepare, Timeout: o.timeout}
}

// OpenDB opens the connection pool a DATABASE_URL names, with the driver
// settings and pool sizes Open uses (the pool options apply; WithTable and
// the statement options do not), and returns it with its dialect. It is
// for other tables Django keeps in the same database (DatabaseCache's, in
// package dbcache). The caller closes the pool.
func OpenDB(databaseURL string, opts ...Option) (*sql.DB, Dialect, error) {
	cfg, err := ParseURL(databaseURL)
	if err != nil {
		return nil, 0, err
	}
	o := collect(opts)
	sqldb, memory, err := cfg.open(o)
	if err != nil {
		return nil, 0, err
	}
	configurePool(sqldb, o, memory)
	return sqldb, cfg.Dialect, nil
}

// New returns the session store over a *sql.DB the caller opened with the
// driver for dialect (go-sqlite3, lib/pq or go-sql-driver/mysql). For MySQL
// the DSN must set clientFoundRows=true (Django sets CLIENT.FOUND_ROWS too;
// without it an update that changes nothing looks like a missing session)
// and parseTime=true with loc=UTC. Close does not close db.
func New(db *sql.DB, dialect Dialect, settings *django.Settings, opts ...Option) (*Store, error) {
	if db == nil {
		return nil, fmt.Errorf("%w: nil *sql.DB", django.ErrImproperlyConfigured)
	}
	return newStore(db, dialect, settings, collect(opts))
}

func collect(opts []Option) *options {
	o := &options{table: DefaultTable}
	for _, opt := range opts {
		if opt != nil {
			opt(o)
		}
	}
	return o
}

func configurePool(db *sql.DB, o *options, memory bool) {
	maxOpen, maxIdle := 20, -1
	lifetime, idle := time.Hour, 5*time.Minute
	if o.set["maxOpen"] {
		maxOpen = o.maxOpen
	}
	if o.set["maxIdle"] {
		maxIdle = o.maxIdle
	}
	if o.set["lifetime"] {
		lifetime = o.connMaxLifetime
	}
	if o.set["idle"] {
		idle = o.connMaxIdleTime
	}
	if memory {
		// Every connection to ":memory:" is a database of its own: keep
		// exactly one, forever.
		maxOpen, maxIdle, lifetime, idle = 1, 1, 0, 0
	}
	if maxIdle < 0 {
		maxIdle = maxOpen
		if maxIdle <= 0 {
			maxIdle = 20
		}
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxLifetime(lifetime)
	db.SetConnMaxIdleTime(idle)
}

func newStore(db *sql.DB, dialect Dialect, settings *django.Settings, o *options) (*Store, error) {
	if !dialect.valid() {
		return nil, fmt.Errorf("%w: unknown database dialect %d", django.ErrImproperlyConfigured, int(dialect))
	}
	if settings == nil {
		return nil, fmt.Errorf("%w: nil settings", django.ErrImproperlyConfigured)
	}
	if o.table == "" || strings.ContainsRune(o.table, 0) || len(o.table) > 200 {
		return nil, fmt.Errorf("%w: bad session table name", django.ErrImproperlyConfigured)
	}
	codec, err := django.NewCodec(settings)
	if err != nil {
		return nil, err
	}
	s := &Store{
		db:       db,
		dialect:  dialect,
		table:    o.table,
		settings: settings,
		codec:    codec,
		loc:      settings.Location(),
		timeout:  o.timeout,
		prepare:  !o.noPrepare,
	}
	s.buildQueries()
	return s, nil
}

func (s *Store) buildQueries() {
	d := s.dialect
	t := d.Quote(s.table)
	key, data, exp := d.Quote("session_key"), d.Quote("session_data"), d.Quote("expire_date")
	p := d.Placeholder
	listExp := exp
	if d == SQLite {
		// Read the text Django wrote, not go-sqlite3's guess at a time.
		listExp = "CAST(" + exp + " AS TEXT)"
	}
	listCols := key + ", " + data + ", " + listExp
	limit := fmt.Sprintf(" ORDER BY %s LIMIT %d", key, ListPageSize)
	s.queries = [numQueries]string{
		qLoad:         "SELECT " + data + " FROM " + t + " WHERE " + key + " = " + p(1) + " AND " + exp + " > " + p(2),
		qExists:       "SELECT 1 FROM " + t + " WHERE " + key + " = " + p(1),
		qInsert:       "INSERT INTO " + t + " (" + key + ", " + data + ", " + exp + ") VALUES (" + p(1) + ", " + p(2) + ", " + p(3) + ")",
		qUpdate:       "UPDATE " + t + " SET " + data + " = " + p(1) + ", " + exp + " = " + p(2) + " WHERE " + key + " = " + p(3),
		qDelete:       "DELETE FROM " + t + " WHERE " + key + " = " + p(1),
		qClearExpired: "DELETE FROM " + t + " WHERE " + exp + " < " + p(1),
		qListFirst:    "SELECT " + listCols + " FROM " + t + limit,
		qListNext:     "SELECT " + listCols + " FROM " + t + " WHERE " + key + " > " + p(1) + limit,
		qLoadExpiry:   "SELECT " + data + ", " + listExp + " FROM " + t + " WHERE " + key + " = " + p(1) + " AND " + exp + " > " + p(2),
	}
}

// DB returns the underlying pool.
func (s *Store) DB() *sql.DB { return s.db }

// Dialect returns the database dialect.
func (s *Store) Dialect() Dialect { return s.dialect }

// Table returns the session table's name.
func (s *Store) Table() string { return s.table }

// Close closes the prepared statements, and the pool when Open made it.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Swap(true) {
		return nil
	}
	var errs []error
	for i := range s.stmts {
		if st := s.stmts[i].Swap(nil); st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.owned {
		errs = append(errs, s.db.Close())
	}
	return errors.Join(errs...)
}

// CreateTable creates the session table and its indexes with Django's own
// DDL (CreateTableSQL), in a transaction where the database allows it. It
// fails if the table exists; run it for tests and new deployments, or let
// Django's migrate do it.
func (s *Store) CreateTable(ctx context.Context) error {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("db: create table: %w", err)
	}
	defer tx.Rollback()
	for _, stmt := range CreateTableSQL(s.dialect, s.table) {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return fmt.Errorf("db: create table: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("db: create table: %w", err)
	}
	return nil
}

var noCancel context.CancelFunc = func() {}

func (s *Store) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	if ctx == nil {
		ctx = context.Background()
	}
	if s.timeout > 0 {
		return context.WithTimeout(ctx, s.timeout)
	}
	return ctx, noCancel
}

// stmt returns the prepared statement for q, preparing it on first use.
func (s *Store) stmt(ctx context.Context, q query) (*sql.Stmt, error) {
	if st := s.stmts[q].Load(); st != nil {
		return st, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return nil, ErrClosed
	}
	if st := s.stmts[q].Load(); st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, s.queries[q])
	if err != nil {
		return nil, err
	}
	s.stmts[q].Store(st)
	return st, nil
}

// queryRow runs q, prepared unless WithPreparedStatements(false).
func (s *Store) queryRow(ctx context.Context, q query, args ...any) (*sql.Row, error) {
	if !s.prepare {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		return s.db.QueryRowContext(ctx, s.queries[q], args...), nil
	}
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

// query runs q, prepared unless WithPreparedStatements(false).
func (s *Store) query(ctx context.Context, q query, args ...any) (*sql.Rows, error) {
	if !s.prepare {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		return s.db.QueryContext(ctx, s.queries[q], args...)
	}
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// exec runs q, prepared unless WithPreparedStatements(false).
func (s *Store) exec(ctx context.Context, q query, args ...any) (sql.Result, error) {
	if !s.prepare {
		if s.closed.Load() {
			return nil, ErrClosed
		}
		return s.db.ExecContext(ctx, s.queries[q], args...)
	}
	st, err := s.stmt(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

// plausibleKey reports whether key could be a stored session key: Django's
// 8-character minimum (spec §3.2), session_key's 40-character limit, and
// printable ASCII, the only characters session keys are made of. Anything
// else is "no such session" without asking the database, so a hostile
// cookie cannot turn into a database error.
func plausibleKey(key string) bool {
	if len(key) < 8 || len(key) > maxKeyLength {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] <= ' ' || key[i] > '~' {
			return false
		}
	}
	return true
}

// now returns Django's timezone.now() as the database parameter that
// expire_date is compared with.
func (s *Store) now() (any, error) { return s.timeArg(s.settings.Now()) }

// timeArg converts t to what Django binds for expire_date on this
// database (Dialect.TimeArg in the store's TIME_ZONE).
func (s *Store) timeArg(t time.Time) (any, error) { return s.dialect.TimeArg(t, s.loc) }

// readTime converts an expire_date read back into an instant
// (Dialect.ReadTime in the store's TIME_ZONE).
func (s *Store) readTime(v any) (time.Time, error) { return s.dialect.ReadTime(v, s.loc) }

// Load returns the session stored under key if its expire_date is after
// now (Django's _get_session_from_db then decode). A missing, expired or
// undecodable session (tampered, or signed with another SECRET_KEY) is
// not found; only database failures are errors. LoadState tells the last
// two apart.
func (s *Store) Load(ctx context.Context, key string) (*py.Dict, bool, error) {
	d, state, err := s.LoadState(ctx, key)
	return d, state == django.LoadFound, err
}

// LoadState is Load that reports a live row whose session_data fails
// verification as django.LoadCorrupt, which Session loads as Django does: empty,
// keeping the key (spec §3.9.1).
func (s *Store) LoadState(ctx context.Context, key string) (*py.Dict, django.LoadState, error) {
	if !plausibleKey(key) {
		return nil, django.LoadMissing, nil
	}
	now, err := s.now()
	if err != nil {
		return nil, django.LoadMissing, err
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	row, err := s.queryRow(ctx, qLoad, key, now)
	if err != nil {
		return nil, django.LoadMissing, fmt.Errorf("db: load session: %w", err)
	}
	var data string
	if err := row.Scan(&data); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, django.LoadMissing, nil
		}
		return nil, django.LoadMissing, fmt.Errorf("db: load session: %w", err)
	}
	d, err := s.codec.Decode(data)
	if err != nil {
		return nil, django.CorruptOrMissing(err), nil
	}
	return d, django.LoadFound, nil
}

// LoadExpiry is LoadState that also returns the row's expire_date (for
// LoadFound and LoadCorrupt), which cached_db needs to fill the cache for
// exactly the session's remaining life (Django's
// get_expiry_age(expiry=s.expire_date)).
func (s *Store) LoadExpiry(ctx context.Context, key string) (*py.Dict, time.Time, django.LoadState, error) {
	if !plausibleKey(key) {
		return nil, time.Time{}, django.LoadMissing, nil
	}
	now, err := s.now()
	if err != nil {
		return nil, time.Time{}, django.LoadMissing, err
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	row, err := s.queryRow(ctx, qLoadExpiry, key, now)
	if err != nil {
		return nil, time.Time{}, django.LoadMissing, fmt.Errorf("db: load session: %w", err)
	}
	var (
		data string
		raw  any
	)
	if err := row.Scan(&data, &raw); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, time.Time{}, django.LoadMissing, nil
		}
		return nil, time.Time{}, django.LoadMissing, fmt.Errorf("db: load session: %w", err)
	}
	exp, err := s.readTime(raw)
	if err != nil {
		return nil, time.Time{}, django.LoadMissing, fmt.Errorf("db: load session: %w", err)
	}
	d, err := s.codec.Decode(data)
	if err != nil {
		return nil, exp, django.CorruptOrMissing(err), nil
	}
	return d, exp, django.LoadFound, nil
}

// Exists reports whether a row with key exists, expired or not (Django's
// exists()).
func (s *Store) Exists(ctx context.Context, key string) (bool, error) {
	if !plausibleKey(key) {
		return false, nil
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	row, err := s.queryRow(ctx, qExists, key)
	if err != nil {
		return false, fmt.Errorf("db: session exists: %w", err)
	}
	var one int
	if err := row.Scan(&one); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, nil
		}
		return false, fmt.Errorf("db: session exists: %w", err)
	}
	return true, nil
}

// Save writes rec's row: session_data = encode(rec.Data) and expire_date =
// rec.ExpireDate. With mustCreate it INSERTs and a taken key is
// django.ErrCreateConflict (Django's CreateError); otherwise it UPDATEs
// and no matching row is django.ErrUpdateMissing (Django's UpdateError).
func (s *Store) Save(ctx context.Context, rec *django.Record, mustCreate bool) error {
	if rec == nil || rec.Data == nil {
		return errors.New("db: save session: nil record")
	}
	data, err := s.codec.Encode(rec.Data)
	if err != nil {
		return fmt.Errorf("db: save session: %w", err)
	}
	exp, err := s.timeArg(rec.ExpireDate)
	if err != nil {
		return fmt.Errorf("db: save session: %w", err)
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if mustCreate {
		if _, err := s.exec(ctx, qInsert, rec.SessionKey, data, exp); err != nil {
			if IsUniqueViolation(err) {
				return django.ErrCreateConflict
			}
			return fmt.Errorf("db: create session: %w", err)
		}
		return nil
	}
	res, err := s.exec(ctx, qUpdate, data, exp, rec.SessionKey)
	if err != nil {
		return fmt.Errorf("db: save session: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("db: save session: %w", err)
	}
	if n == 0 {
		return django.ErrUpdateMissing
	}
	return nil
}

// Delete deletes the row under key; a missing row is not an error.
func (s *Store) Delete(ctx context.Context, key string) error {
	if !plausibleKey(key) {
		return nil
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.exec(ctx, qDelete, key); err != nil {
		return fmt.Errorf("db: delete session: %w", err)
	}
	return nil
}

// ClearExpired deletes the rows whose expire_date is before now, as
// Django's clear_expired() and `manage.py clearsessions` do.
func (s *Store) ClearExpired(ctx context.Context) error {
	now, err := s.now()
	if err != nil {
		return err
	}
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	if _, err := s.exec(ctx, qClearExpired, now); err != nil {
		return fmt.Errorf("db: clear expired sessions: %w", err)
	}
	return nil
}

type listRow struct {
	key, data string
	exp       any
}

// List calls fn for every row in session_key order, expired rows included
// (Info.ExpireDate tells), reading ListPageSize rows per query so the table
// is never loaded whole and no connection is held while fn runs. Info.Data
// is nil for a row that does not decode. An error from fn stops the
// listing and is returned.
func (s *Store) List(ctx context.Context, fn func(django.Info) error) error {
	if ctx == nil {
		ctx = context.Background()
	}
	after, first := "", true
	page := make([]listRow, 0, ListPageSize)
	for {
		var err error
		page, err = s.listPage(ctx, page[:0], after, first)
		if err != nil {
			return fmt.Errorf("db: list sessions: %w", err)
		}
		for _, r := range page {
			info := django.Info{SessionKey: r.key}
			if t, err := s.readTime(r.exp); err == nil {
				info.ExpireDate = t
			}
			if d, err := s.codec.Decode(r.data); err == nil {
				info.Data = d
			}
			if err := fn(info); err != nil {
				return err
			}
		}
		if len(page) < ListPageSize {
			return nil
		}
		after, first = page[len(page)-1].key, false
	}
}

func (s *Store) listPage(ctx context.Context, page []listRow, after string, first bool) ([]listRow, error) {
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	var rows *sql.Rows
	var err error
	if first {
		rows, err = s.query(ctx, qListFirst)
	} else {
		rows, err = s.query(ctx, qListNext, after)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var r listRow
		if err := rows.Scan(&r.key, &r.data, &r.exp); err != nil {
			return nil, err
		}
		page = append(page, r)
	}
	return page, rows.Err()
}

var _ django.Store = (*Store)(nil)
