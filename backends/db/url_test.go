package db

import (
	"errors"
	"net/url"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseURL: expected values derived by hand from dj-database-url's
// parse(): NAME = unquote(path[1:]), USER/PASSWORD unquoted, HOST
// lower-cased unless percent-encoded (then unquoted as written), the query
// through parse_qs (last value wins, empty values dropped, "+" a space),
// "sqlite://:memory:" and an empty SQLite path meaning ":memory:".
func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Config
	}{
		{"sqlite:///relative.db", Config{Dialect: SQLite, Scheme: "sqlite", Name: "relative.db"}},
		{"sqlite:////abs/path.db", Config{Dialect: SQLite, Scheme: "sqlite", Name: "/abs/path.db"}},
		{"sqlite://:memory:", Config{Dialect: SQLite, Scheme: "sqlite", Name: ":memory:"}},
		{"sqlite://", Config{Dialect: SQLite, Scheme: "sqlite", Name: ":memory:"}},
		{"sqlite:///:memory:", Config{Dialect: SQLite, Scheme: "sqlite", Name: ":memory:"}},
		{"sqlite:////tmp/my%20db.sqlite3?mode=ro", Config{Dialect: SQLite, Scheme: "sqlite", Name: "/tmp/my db.sqlite3",
			Options: url.Values{"mode": {"ro"}}}},
		{"SQLite:///x.db#frag", Config{Dialect: SQLite, Scheme: "sqlite", Name: "x.db"}},
		{"postgres://user:p%40ss%3Aword@DB.Example.com:6543/my%2Fdb?sslmode=require&sslmode=verify-full&empty=",
			Config{Dialect: PostgreSQL, Scheme: "postgres", Name: "my/db", User: "user", Password: "p@ss:word",
				Host: "db.example.com", Port: 6543, Options: url.Values{"sslmode": {"verify-full"}}}},
		{"postgresql://u@localhost/db", Config{Dialect: PostgreSQL, Scheme: "postgresql", Name: "db", User: "u", Host: "localhost"}},
		{"pgsql://u:@h/db", Config{Dialect: PostgreSQL, Scheme: "pgsql", Name: "db", User: "u", Host: "h"}},
		{"postgres://%2Fvar%2Frun%2FPostgresql/db", Config{Dialect: PostgreSQL, Scheme: "postgres", Name: "db", Host: "/var/run/Postgresql"}},
		{"postgres://u@[::1]:5433/db", Config{Dialect: PostgreSQL, Scheme: "postgres", Name: "db", User: "u", Host: "::1", Port: 5433}},
		{"postgres:///db?application_name=a+b%21", Config{Dialect: PostgreSQL, Scheme: "postgres", Name: "db",
			Options: url.Values{"application_name": {"a b!"}}}},
		{"mysql://root:pw@127.0.0.1:3306/test?charset=utf8mb4", Config{Dialect: MySQL, Scheme: "mysql", Name: "test",
			User: "root", Password: "pw", Host: "127.0.0.1", Port: 3306, Options: url.Values{"charset": {"utf8mb4"}}}},
		{"mysql2://a@b/c", Config{Dialect: MySQL, Scheme: "mysql2", Name: "c", User: "a", Host: "b"}},
		{"mariadb://a@b/c", Config{Dialect: MySQL, Scheme: "mariadb", Name: "c", User: "a", Host: "b"}},
		{"postgres://u:p@ss@h/db", Config{Dialect: PostgreSQL, Scheme: "postgres", Name: "db", User: "u", Password: "p@ss", Host: "h"}},
		{"postgres://h/%zz", Config{Dialect: PostgreSQL, Scheme: "postgres", Name: "%zz", Host: "h"}},
	} {
		got, err := ParseURL(c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		if c.want.Options == nil {
			c.want.Options = url.Values{}
		}
		if !reflect.DeepEqual(*got, c.want) {
			t.Errorf("%s:\n got  %+v\n want %+v", c.in, *got, c.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, c := range []struct {
		in   string
		want error
	}{
		{"oracle://u@h/db", ErrUnknownScheme},
		{"redis://h/0", ErrUnknownScheme},
		{"no-scheme", ErrBadURL},
		{"://x", ErrBadURL},
		{"/path/to/db.sqlite3", ErrBadURL},
		{"postgres://h:port/db", ErrBadURL},
		{"postgres://h:70000/db", ErrBadURL},
		{"postgres://h:-1/db", ErrBadURL},
		{"postgres://[::1/db", ErrBadURL},
		{"postgres://[::1]x/db", ErrBadURL},
		{"postgres://" + strings.Repeat("a", MaxURLLength), ErrBadURL},
	} {
		_, err := ParseURL(c.in)
		if !errors.Is(err, c.want) {
			t.Errorf("%.40s: %v, want %v", c.in, err, c.want)
		}
	}
	// The password never shows in an error.
	_, err := ParseURL("postgres://u:s3cret@h:x/db")
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v", err)
	}
}

func TestConfigString(t *testing.T) {
	c, err := ParseURL("postgres://u:s3cret@h:5432/db?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.String(); got != "postgres://u:***@h:5432/db?sslmode=disable" {
		t.Errorf("got %q", got)
	}
}

func TestDriverConfig(t *testing.T) {
	c, _ := ParseURL("postgres://u:it's\\x@%2Ftmp%2Fsock/db?sslmode=disable&currentSchema=app")
	if got, want := c.postgresDSN(5*time.Second),
		`connect_timeout='5' dbname='db' host='/tmp/sock' password='it\'s\\x' search_path='app' sslmode='disable' user='u'`; got != want {
		t.Errorf("postgres DSN:\n got  %s\n want %s", got, want)
	}
	c, _ = ParseURL("postgres://h/db")
	if got := c.postgresDSN(0); os.Getenv("PGSSLMODE") == "" && !strings.Contains(got, "sslmode='prefer'") {
		t.Errorf("sslmode should default to psycopg2's prefer: %s", got)
	}

	c, _ = ParseURL("mysql://root:pw@db.local:3307/app?charset=utf8mb4&readTimeout=2s&clientFoundRows=false&loc=Local")
	cfg, err := c.mysqlConfig(3 * time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.User != "root" || cfg.Passwd != "pw" || cfg.Net != "tcp" || cfg.Addr != "db.local:3307" || cfg.DBName != "app" {
		t.Errorf("mysql config: %+v", cfg)
	}
	if !cfg.ClientFoundRows || !cfg.ParseTime || cfg.Loc != time.UTC || cfg.Timeout != 3*time.Second || cfg.ReadTimeout != 2*time.Second {
		t.Errorf("mysql config forced/parsed fields: %+v", cfg)
	}
	c, _ = ParseURL("mysql://root@%2Frun%2Fmysqld%2Fmysqld.sock/app")
	if cfg, _ := c.mysqlConfig(0); cfg.Net != "unix" || cfg.Addr != "/run/mysqld/mysqld.sock" {
		t.Errorf("mysql socket: %s %s", cfg.Net, cfg.Addr)
	}
	c, _ = ParseURL("mysql://root@h/app?ssl-ca=/ca.pem")
	if _, err := c.mysqlConfig(0); !errors.Is(err, ErrBadURL) {
		t.Errorf("ssl-ca: %v", err)
	}

	for _, tc := range []struct{ in, dsn string }{
		{"sqlite:////tmp/a?b#c%d.db", "file:/tmp/a"},
		{"sqlite:////tmp/a%3Fb%23c%25d.db?_busy_timeout=100", "file:/tmp/a%3fb%23c%25d.db?_busy_timeout=100"},
		{"sqlite://:memory:", "file::memory:"},
	} {
		c, _ := ParseURL(tc.in)
		if dsn, _ := c.sqliteDSN(); dsn != tc.dsn {
			t.Errorf("%s: dsn %q, want %q", tc.in, dsn, tc.dsn)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"sqlite:///relative.db", "sqlite:////abs/path.db", "sqlite://:memory:", "sqlite://",
		"postgres://user:p%40ss@host:5432/db?sslmode=require", "postgres://%2Fvar%2Frun/db",
		"mysql://root@[::1]:3306/test?charset=utf8mb4", "pgsql://u:@h/db", "oracle://x",
		"postgres://u:p@ss@h:1/d?a=1&a=2&b=", "mysql://%zz@h/%",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseURL(s)
		if err != nil {
			if c != nil {
				t.Fatal("config with an error")
			}
			return
		}
		if !c.Dialect.valid() {
			t.Fatalf("invalid dialect %v", c.Dialect)
		}
		if c.Password != "" && len(c.Password) > 3 && strings.Contains(c.String(), c.Password) && !strings.Contains(c.User+c.Host+c.Name+c.Options.Encode(), c.Password) {
			t.Fatalf("String shows the password: %s", c.String())
		}
		switch c.Dialect {
		case SQLite:
			c.sqliteDSN()
		case PostgreSQL:
			c.postgresDSN(time.Second)
		case MySQL:
			c.mysqlConfig(time.Second)
		}
	})
}
