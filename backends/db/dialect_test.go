package db

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
)

// ddlSnippet collects the SQL Django's schema editor runs to create an
// AbstractBaseSession model with each db_table in input: what migrate
// runs for django_session and for a custom session model.
const ddlSnippet = `
from django.db import connection
from django.contrib.sessions.base_session import AbstractBaseSession
out = []
for i, table in enumerate(input):
    meta = type("Meta", (), {"app_label": "djsddl", "db_table": table})
    model = type("DDLSession%d" % i, (AbstractBaseSession,), {"__module__": __name__, "Meta": meta})
    with connection.schema_editor(collect_sql=True) as editor:
        editor.create_model(model)
    out.append(editor.collected_sql)
result = out
`

// TestCreateTableSQLMatchesDjango compares CreateTableSQL with the DDL of
// Django 3.2's schema editor on each database, for Django's table, a
// custom one, and names long enough that Django shortens the index names.
func TestCreateTableSQLMatchesDjango(t *testing.T) {
	djangotest.Require(t)
	tables := []string{
		"django_session",
		"my_sessions",
		"a_very_long_table_name_for_sessions_that_goes_past_the_limit_of_identifiers",
		"_0_leading_underscore_table_with_a_name_long_enough_to_be_shortened_somewhere",
	}
	for _, c := range []struct {
		dialect Dialect
		url     string
	}{
		{SQLite, "sqlite://:memory:"},
		{PostgreSQL, testenv.PostgresURL()},
		{MySQL, testenv.MySQLURL()},
	} {
		t.Run(c.dialect.String(), func(t *testing.T) {
			requireServer(t, c.url)
			raw := djangotest.Snippet(t, djangotest.Env{"DATABASE_URL": c.url}, ddlSnippet, tables)
			var want [][]string
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			for i, table := range tables {
				got := CreateTableSQL(c.dialect, table)
				if len(got) != len(want[i]) {
					t.Fatalf("%s: %d statements, Django runs %d:\n%q\n%q", table, len(got), len(want[i]), got, want[i])
				}
				for j := range got {
					if got[j]+";" != want[i][j] {
						t.Errorf("%s statement %d:\n got  %s\n want %s", table, j, got[j], want[i][j])
					}
				}
			}
		})
	}
}

// requireServer skips (or fails, see testenv.Require) when the database
// of a URL does not answer.
func requireServer(t *testing.T, u string) {
	t.Helper()
	s := django.DefaultSettings("x")
	st, err := Open(u, s)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	testenv.Require(t, "database "+testenv.Redact(u), st.DB().PingContext(ctx))
}

// TestSQLiteDateTimeText checks the expire_date text against Python's
// str(datetime) rule, derived by hand: "YYYY-MM-DD HH:MM:SS", then
// ".ffffff" (always six digits) only when microseconds are not zero. The
// interop test checks the same against rows Django wrote.
func TestSQLiteDateTimeText(t *testing.T) {
	for _, c := range []struct {
		t    time.Time
		want string
	}{
		{time.Date(2024, 2, 29, 13, 45, 30, 0, time.UTC), "2024-02-29 13:45:30"},
		{time.Date(2024, 2, 29, 13, 45, 30, 123456789, time.UTC), "2024-02-29 13:45:30.123456"},
		{time.Date(2024, 2, 29, 13, 45, 30, 24800000, time.UTC), "2024-02-29 13:45:30.024800"},
		{time.Date(2024, 2, 29, 13, 45, 30, 999, time.UTC), "2024-02-29 13:45:30"},
		{time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC), "0001-01-01 00:00:00.000001"},
		{time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC), "9999-12-31 23:59:59.999999"},
	} {
		if got := string(appendSQLiteDateTime(nil, naiveWall(c.t, time.UTC))); got != c.want {
			t.Errorf("%v: got %q, want %q", c.t, got, c.want)
		}
	}
}

// TestIndexName checks Django's index-name rule on hand-derived cases:
// md5("django_session"+"expire_date")[:8] = a5c62663 (as sqlmigrate
// prints), and the shortening at PostgreSQL's 63 characters.
func TestIndexName(t *testing.T) {
	if got := indexName(SQLite, "django_session", "expire_date", ""); got != "django_session_expire_date_a5c62663" {
		t.Errorf("got %q", got)
	}
	if got := indexName(PostgreSQL, "django_session", "session_key", "_like"); got != "django_session_session_key_c0390e0f_like" {
		t.Errorf("got %q", got)
	}
	long := "a_very_long_table_name_for_sessions_that_goes_past_the_limit_of_identifiers"
	if got := indexName(PostgreSQL, long, "expire_date", ""); got != "a_very_long_table_name_for_expire_date_f41f8d8a" || len(got) > 63 {
		t.Errorf("got %q", got)
	}
}
