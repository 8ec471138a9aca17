package testenv

import (
	"context"
	"database/sql"
	"net/url"
	"strings"
	"testing"
)

func TestDefaults(t *testing.T) {
	t.Setenv(PostgresURLVar, "")
	t.Setenv(RedisURLVar, "redis://elsewhere:1/2")
	if PostgresURL() != DefaultPostgresURL {
		t.Errorf("PostgresURL() = %q", PostgresURL())
	}
	if RedisURL() != "redis://elsewhere:1/2" {
		t.Errorf("RedisURL() = %q", RedisURL())
	}
}

func TestRedact(t *testing.T) {
	if got := Redact("postgres://u:secret@h/db"); strings.Contains(got, "secret") {
		t.Errorf("Redact kept the password: %s", got)
	}
	if got := Redact("postgres://u@h/db"); got != "postgres://u@h/db" {
		t.Errorf("Redact changed a URL without password: %s", got)
	}
}

func TestRequireSkips(t *testing.T) {
	t.Setenv(RequireVar, "")
	skipped := false
	t.Run("inner", func(t *testing.T) {
		defer func() { skipped = t.Skipped() }()
		Require(t, "nothing", context.DeadlineExceeded)
	})
	if !skipped {
		t.Fatal("Require did not skip")
	}
}

// TestPostgresDB: the database exists during the test and is gone after.
func TestPostgresDB(t *testing.T) {
	var u string
	t.Run("make", func(t *testing.T) {
		u = PostgresDB(t)
		db, err := sql.Open("postgres", u)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if _, err := db.Exec("CREATE TABLE t (x int)"); err != nil {
			t.Fatal(err)
		}
	})
	if u == "" {
		t.Skip("no PostgreSQL")
	}
	db, err := sql.Open("postgres", PostgresURL())
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p, _ := url.Parse(u)
	var n int
	if err := db.QueryRow("SELECT count(*) FROM pg_database WHERE datname = $1", strings.TrimPrefix(p.Path, "/")).Scan(&n); err != nil || n != 0 {
		t.Fatalf("database %s left behind (%d, %v)", p.Path, n, err)
	}
}

func TestMySQLDB(t *testing.T) {
	var name string
	t.Run("make", func(t *testing.T) {
		u := MySQLDB(t)
		p, _ := url.Parse(u)
		name = strings.TrimPrefix(p.Path, "/")
		if !strings.HasPrefix(name, "djs_") {
			t.Fatalf("database name %q", name)
		}
	})
	if name == "" {
		t.Skip("no MySQL")
	}
}
