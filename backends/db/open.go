package db

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
	"github.com/mattn/go-sqlite3"
)

// defaultConnectTimeout bounds connecting when neither the URL nor
// WithConnectTimeout says.
const defaultConnectTimeout = 10 * time.Second

// open makes the pool for c. memory reports an in-memory SQLite database,
// which must live on exactly one connection.
func (c *Config) open(o *options) (db *sql.DB, memory bool, err error) {
	connect := defaultConnectTimeout
	if o.set["connect"] {
		connect = o.connectTimeout
	}
	switch c.Dialect {
	case SQLite:
		dsn, memory := c.sqliteDSN()
		db, err := sql.Open("sqlite3", dsn)
		if err != nil {
			return nil, false, fmt.Errorf("db: open %s: %w", c, err)
		}
		return db, memory, nil
	case PostgreSQL:
		conn, err := pq.NewConnector(c.postgresDSN(connect))
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s: %w", ErrBadURL, c, err)
		}
		if o.timeout > 0 {
			// lib/pq answers a context deadline by asking the server to
			// cancel and then waits for its reply: a server that stops
			// answering would hold the call. A read deadline on the
			// socket bounds every wait for the server to the store's
			// timeout; the broken connection is then dropped.
			conn.Dialer(deadlineDialer{read: o.timeout})
		}
		return sql.OpenDB(conn), false, nil
	case MySQL:
		cfg, err := c.mysqlConfig(connect)
		if err != nil {
			return nil, false, err
		}
		if o.timeout > 0 && cfg.ReadTimeout == 0 {
			cfg.ReadTimeout = o.timeout // as for PostgreSQL: bound waits for a silent server
		}
		conn, err := mysql.NewConnector(cfg)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s: %w", ErrBadURL, c, err)
		}
		return sql.OpenDB(conn), false, nil
	}
	return nil, false, fmt.Errorf("%w: %s", ErrUnknownScheme, c.Scheme)
}

var _ = sqlite3.SQLiteDriver{} // the "sqlite3" driver registers itself

// deadlineDialer dials PostgreSQL connections whose every read must
// complete within read.
type deadlineDialer struct {
	d    net.Dialer
	read time.Duration
}

func (dd deadlineDialer) Dial(network, address string) (net.Conn, error) {
	return dd.DialContext(context.Background(), network, address)
}

func (dd deadlineDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return dd.DialContext(ctx, network, address)
}

func (dd deadlineDialer) DialContext(ctx context.Context, network, address string) (net.Conn, error) {
	c, err := dd.d.DialContext(ctx, network, address)
	if err != nil {
		return nil, err
	}
	return &deadlineConn{Conn: c, read: dd.read}, nil
}

// deadlineConn sets a read deadline before each read.
type deadlineConn struct {
	net.Conn
	read time.Duration
}

func (c *deadlineConn) Read(b []byte) (int, error) {
	if err := c.Conn.SetReadDeadline(time.Now().Add(c.read)); err != nil {
		return 0, err
	}
	return c.Conn.Read(b)
}

// sqliteDSN returns go-sqlite3's "file:" URI for the database file, the
// URL's query parameters passed through (go-sqlite3's own _busy_timeout,
// _journal_mode, ... and SQLite's mode=ro, ...).
func (c *Config) sqliteDSN() (dsn string, memory bool) {
	params := url.Values{}
	for k, v := range c.Options {
		params[k] = v
	}
	memory = c.Name == ":memory:" || params.Get("mode") == "memory"
	path := c.Name
	if c.Name == ":memory:" {
		path = ":memory:"
	} else {
		// In a file: URI "?" and "#" end the path and "%" escapes.
		path = strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	}
	dsn = "file:" + path
	if len(params) > 0 {
		dsn += "?" + params.Encode()
	}
	return dsn, memory
}

// postgresDSN returns lib/pq's key=value connection string. Parameters the
// URL does not set take libpq's defaults where lib/pq's differ: sslmode
// "prefer" (psycopg2's, so Django and Go connect alike).
func (c *Config) postgresDSN(connect time.Duration) string {
	kv := map[string]string{}
	for k := range c.Options {
		kv[k] = c.Options.Get(k)
	}
	if c.Host != "" {
		kv["host"] = c.Host
	}
	if c.Port != 0 {
		kv["port"] = strconv.Itoa(c.Port)
	}
	if c.User != "" {
		kv["user"] = c.User
	}
	if c.Password != "" {
		kv["password"] = c.Password
	}
	if c.Name != "" {
		kv["dbname"] = c.Name
	}
	if s, ok := kv["currentSchema"]; ok {
		// dj-database-url turns currentSchema into "-c search_path=...".
		delete(kv, "currentSchema")
		kv["search_path"] = s
	}
	if _, ok := kv["sslmode"]; !ok && os.Getenv("PGSSLMODE") == "" {
		kv["sslmode"] = "prefer"
	}
	if _, ok := kv["connect_timeout"]; !ok && connect > 0 {
		secs := int((connect + time.Second - 1) / time.Second)
		kv["connect_timeout"] = strconv.Itoa(secs)
	}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(k)
		b.WriteString("='")
		b.WriteString(strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(kv[k]))
		b.WriteByte('\'')
	}
	return b.String()
}

// mysqlConfig returns go-sql-driver/mysql's configuration. The URL's query
// parameters are read as that driver's DSN parameters (tls, charset,
// readTimeout, ...; unknown ones become session variables). Three are
// forced, because the store depends on them: clientFoundRows (an UPDATE
// that changes nothing still counts its row, as Django's connection sets
// CLIENT.FOUND_ROWS), parseTime, and loc=UTC (expire_date is naive; the
// store converts wall clocks itself).
func (c *Config) mysqlConfig(connect time.Duration) (*mysql.Config, error) {
	q := url.Values{}
	for k := range c.Options {
		switch k {
		case "ssl-ca":
			// dj-database-url's spelling of a CA file; the driver
			// needs a registered TLS config for that, so refuse
			// rather than connect without it.
			return nil, fmt.Errorf("%w: ssl-ca is not supported; use tls=true|skip-verify|preferred", ErrBadURL)
		default:
			q.Set(k, c.Options.Get(k))
		}
	}
	cfg, err := mysql.ParseDSN("/?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrBadURL, c, err)
	}
	cfg.User = c.User
	cfg.Passwd = c.Password
	cfg.DBName = c.Name
	switch {
	case strings.HasPrefix(c.Host, "/"):
		cfg.Net, cfg.Addr = "unix", c.Host
	default:
		host := c.Host
		if host == "" {
			host = "127.0.0.1"
		}
		port := c.Port
		if port == 0 {
			port = 3306
		}
		cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(host, strconv.Itoa(port))
	}
	cfg.ClientFoundRows = true
	cfg.ParseTime = true
	cfg.Loc = time.UTC
	if _, ok := c.Options["timeout"]; !ok && connect > 0 {
		cfg.Timeout = connect
	}
	return cfg, nil
}
