package testenv

import (
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
)

// Database is one of the database servers the tests run against.
type Database struct {
	Name string
	// URL makes a fresh, empty database (a file for SQLite), dropped when
	// the test ends.
	URL func(t testing.TB) string
	// Fast is a URL query that makes writes cheaper in tests, where
	// durability does not matter: go-sqlite3's synchronous=OFF, and
	// PostgreSQL's synchronous_commit=off (an unknown key lib/pq sends as
	// a run-time parameter).
	Fast string
}

// Databases are the databases Django's session and cache tables live in:
// SQLite, PostgreSQL and MySQL/MariaDB.
var Databases = []Database{
	{"sqlite", SQLiteURL, "_sync=OFF"},
	{"postgres", PostgresDB, "synchronous_commit=off"},
	{"mysql", MySQLDB, ""},
}

// FastURL makes a fresh database and returns its URL with Fast added.
func (d Database) FastURL(t testing.TB) string {
	t.Helper()
	u := d.URL(t)
	if d.Fast == "" {
		return u
	}
	if strings.Contains(u, "?") {
		return u + "&" + d.Fast
	}
	return u + "?" + d.Fast
}

// TZCase is a USE_TZ / TIME_ZONE combination. Europe/Paris makes an
// offset visible: with USE_TZ Django stores UTC, without it naive Paris
// time (spec §3.9.1).
type TZCase struct {
	Name  string
	UseTZ bool
	Zone  string // TIME_ZONE
	Loc   *time.Location
}

// TZCases are USE_TZ on and off, both with TIME_ZONE Europe/Paris; the
// test skips without a time zone database.
func TZCases(t testing.TB) []TZCase {
	t.Helper()
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Skipf("no tz database for Europe/Paris: %v", err)
	}
	return []TZCase{
		{"use_tz", true, "Europe/Paris", paris},
		{"local_time", false, "Europe/Paris", paris},
	}
}

// Apply sets USE_TZ and TIME_ZONE in s.
func (tc TZCase) Apply(s *django.Settings) {
	s.UseTZ = tc.UseTZ
	s.TimeZone = tc.Loc
}

// PyBool is USE_TZ as the Django test project's environment takes it.
func (tc TZCase) PyBool() string {
	if tc.UseTZ {
		return "1"
	}
	return "0"
}
