// Package testenv is what the backends' tests share: where the test
// servers are (environment variables with local defaults), the rule for a
// missing server (skip with a visible reason, or fail when
// DJSESSION_REQUIRE_SERVICES=1, as CI sets it), and fresh per-test
// databases on PostgreSQL and MySQL/MariaDB.
package testenv

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/lib/pq" // the "postgres" driver for PostgresDB
)

// The environment variables naming the test servers, and their defaults.
const (
	PostgresURLVar   = "DJSESSION_POSTGRES_URL"
	MySQLURLVar      = "DJSESSION_MYSQL_URL"
	RedisURLVar      = "DJSESSION_REDIS_URL"
	MemcachedAddrVar = "DJSESSION_MEMCACHED_ADDR"
	RequireVar       = "DJSESSION_REQUIRE_SERVICES"

	DefaultPostgresURL   = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
	DefaultMySQLURL      = "mysql://root@127.0.0.1:3306/test"
	DefaultRedisURL      = "redis://127.0.0.1:6379/0"
	DefaultMemcachedAddr = "127.0.0.1:11211"
)

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// PostgresURL is the PostgreSQL server tests use ($DJSESSION_POSTGRES_URL).
func PostgresURL() string { return env(PostgresURLVar, DefaultPostgresURL) }

// MySQLURL is the MySQL/MariaDB server tests use ($DJSESSION_MYSQL_URL).
func MySQLURL() string { return env(MySQLURLVar, DefaultMySQLURL) }

// RedisURL is the Redis server tests use ($DJSESSION_REDIS_URL).
func RedisURL() string { return env(RedisURLVar, DefaultRedisURL) }

// MemcachedAddr is the memcached host:port tests use
// ($DJSESSION_MEMCACHED_ADDR).
func MemcachedAddr() string { return env(MemcachedAddrVar, DefaultMemcachedAddr) }

// ServicesRequired reports DJSESSION_REQUIRE_SERVICES=1: a missing server
// or tool fails the test instead of skipping it.
func ServicesRequired() bool { return os.Getenv(RequireVar) == "1" }

// Require stops the test when err says that what (a server, a tool) is
// unavailable: t.Skip with the reason, or t.Fatal when services are
// required. It does nothing when err is nil.
func Require(t testing.TB, what string, err error) {
	t.Helper()
	if err == nil {
		return
	}
	msg := fmt.Sprintf("%s unavailable: %v", what, err)
	if ServicesRequired() {
		t.Fatalf("%s (%s=1)", msg, RequireVar)
	}
	t.Skipf("%s (set %s=1 to make this a failure)", msg, RequireVar)
}

// Redact returns u with any password replaced, for messages.
func Redact(u string) string {
	p, err := url.Parse(u)
	if err != nil || p.User == nil {
		return u
	}
	if _, ok := p.User.Password(); ok {
		p.User = url.UserPassword(p.User.Username(), "xxx")
	}
	return p.String()
}

// randomName returns "djs_" and 12 random hex digits.
func randomName() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "djs_" + hex.EncodeToString(b[:])
}

func adminContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 30*time.Second)
}

// PostgresDB creates a fresh database djs_<random> on the PostgreSQL server
// of PostgresURL, drops it when the test ends, and returns the URL of the
// new database (same server, user and parameters). An unreachable server
// goes through Require.
func PostgresDB(t testing.TB) string {
	t.Helper()
	admin := PostgresURL()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLVar, err)
	}
	db, err := sql.Open("postgres", admin)
	if err != nil {
		t.Fatalf("%s: %v", PostgresURLVar, err)
	}
	defer db.Close()
	ctx, cancel := adminContext()
	defer cancel()
	what := "PostgreSQL at " + Redact(admin)
	Require(t, what, db.PingContext(ctx))
	name := randomName()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("postgres", admin)
		if err != nil {
			t.Errorf("drop database %s: %v", name, err)
			return
		}
		defer db.Close()
		ctx, cancel := adminContext()
		defer cancel()
		// FORCE (PostgreSQL 13+) ends connections a test left open.
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// MySQLDB creates a fresh database djs_<random> (utf8mb4) on the
// MySQL/MariaDB server of MySQLURL, drops it when the test ends, and
// returns the URL of the new database. An unreachable server goes through
// Require.
func MySQLDB(t testing.TB) string {
	t.Helper()
	admin := MySQLURL()
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatalf("%s: %v", MySQLURLVar, err)
	}
	cfg := mysql.NewConfig()
	if u.User != nil {
		cfg.User = u.User.Username()
		cfg.Passwd, _ = u.User.Password()
	}
	port := 3306
	if p := u.Port(); p != "" {
		if port, err = strconv.Atoi(p); err != nil {
			t.Fatalf("%s: bad port: %v", MySQLURLVar, err)
		}
	}
	host := u.Hostname()
	if host == "" {
		host = "127.0.0.1"
	}
	cfg.Net, cfg.Addr = "tcp", net.JoinHostPort(host, strconv.Itoa(port))
	cfg.Timeout = 10 * time.Second
	conn, err := mysql.NewConnector(cfg)
	if err != nil {
		t.Fatalf("%s: %v", MySQLURLVar, err)
	}
	db := sql.OpenDB(conn)
	ctx, cancel := adminContext()
	defer cancel()
	Require(t, "MySQL at "+Redact(admin), db.PingContext(ctx))
	name := randomName()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci"); err != nil {
		db.Close()
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		defer db.Close()
		ctx, cancel := adminContext()
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	return u.String()
}

// SQLiteURL returns a DATABASE_URL (sqlite:////abs/path) for a new SQLite
// file in a temporary folder removed when the test ends.
func SQLiteURL(t testing.TB) string {
	t.Helper()
	path := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(t.TempDir())
	return "sqlite:///" + path + "/db.sqlite3"
}

// LogBuffer collects log output from concurrent writers (slog handlers,
// http.Server's ErrorLog, child processes) for a test to inspect.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *LogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *LogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
