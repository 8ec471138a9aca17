package db

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/go-sql-driver/mysql"
	"github.com/lib/pq"
	"github.com/mattn/go-sqlite3"
)

// Dialect is the database behind a Store: what SQL it speaks and how
// Django stores expire_date in it (spec §3.9.1).
type Dialect int

// The databases Django's built-in backends cover and this package speaks.
const (
	// SQLite: expire_date is "datetime" text, naive ("YYYY-MM-DD
	// HH:MM:SS[.ffffff]", UTC with USE_TZ, else local time in TIME_ZONE).
	SQLite Dialect = iota + 1
	// PostgreSQL: expire_date is "timestamp with time zone".
	PostgreSQL
	// MySQL and MariaDB: expire_date is "datetime(6)", naive (UTC with
	// USE_TZ, else local time in TIME_ZONE).
	MySQL
)

// String returns the dialect's name as dj-database-url schemes spell it.
func (d Dialect) String() string {
	switch d {
	case SQLite:
		return "sqlite"
	case PostgreSQL:
		return "postgresql"
	case MySQL:
		return "mysql"
	}
	return "Dialect(" + strconv.Itoa(int(d)) + ")"
}

func (d Dialect) valid() bool { return d >= SQLite && d <= MySQL }

// Quote quotes an identifier as Django's quote_name does, doubling an
// embedded quote character so no name can break out of it.
func (d Dialect) Quote(name string) string {
	if d == MySQL {
		return "`" + strings.ReplaceAll(name, "`", "``") + "`"
	}
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}

// Placeholder returns the n-th (1-based) bind parameter.
func (d Dialect) Placeholder(n int) string {
	if d == PostgreSQL {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// maxNameLength is Django's connection.ops.max_name_length(): the longest
// identifier the database takes (None on SQLite, where Django uses 200).
func (d Dialect) maxNameLength() int {
	switch d {
	case PostgreSQL:
		return 63
	case MySQL:
		return 64
	}
	return 200
}

// CreateTableSQL returns the statements Django's migration
// sessions.0001_initial runs to create table on this database (as
// `manage.py sqlmigrate sessions 0001` prints them, without the
// transaction), with the index names Django derives from the table name
// (spec §3.9.1): the table, the expire_date index, and on PostgreSQL the
// varchar_pattern_ops index Django adds for the primary key.
func CreateTableSQL(d Dialect, table string) []string {
	q := d.Quote
	var dataType, dateType string
	switch d {
	case PostgreSQL:
		dataType, dateType = "text", "timestamp with time zone"
	case MySQL:
		dataType, dateType = "longtext", "datetime(6)"
	default:
		dataType, dateType = "text", "datetime"
	}
	stmts := []string{fmt.Sprintf("CREATE TABLE %s (%s varchar(40) NOT NULL PRIMARY KEY, %s %s NOT NULL, %s %s NOT NULL)",
		q(table), q("session_key"), q("session_data"), dataType, q("expire_date"), dateType)}
	if d == PostgreSQL {
		stmts = append(stmts, fmt.Sprintf("CREATE INDEX %s ON %s (%s varchar_pattern_ops)",
			q(indexName(d, table, "session_key", "_like")), q(table), q("session_key")))
	}
	stmts = append(stmts, fmt.Sprintf("CREATE INDEX %s ON %s (%s)",
		q(indexName(d, table, "expire_date", "")), q(table), q("expire_date")))
	return stmts
}

// indexName is Django's BaseDatabaseSchemaEditor._create_index_name for one
// column: table_column_<8 hex of md5(table+column)><suffix>, shortened to
// the database's identifier limit the way Django shortens it.
func indexName(d Dialect, table, column, suffix string) string {
	sum := md5.Sum([]byte(table + column))
	hashSuffix := hex.EncodeToString(sum[:])[:8] + suffix
	maxLen := d.maxNameLength()
	name := table + "_" + column + "_" + hashSuffix
	if len(name) <= maxLen {
		return name
	}
	if len(hashSuffix) > maxLen/3 {
		hashSuffix = hashSuffix[:maxLen/3]
	}
	other := (maxLen-len(hashSuffix))/2 - 1
	name = truncate(table, other) + "_" + truncate(column, other) + "_" + hashSuffix
	if name[0] == '_' || name[0] >= '0' && name[0] <= '9' {
		name = "D" + name[:len(name)-1]
	}
	return name
}

// truncate cuts s to n characters (Python slices count code points).
func truncate(s string, n int) string {
	i := 0
	for j := range s {
		if i == n {
			return s[:j]
		}
		i++
	}
	return s
}

// minYear and maxYear bound the datetimes Python (and so Django) can store.
const minYear, maxYear = 1, 9999

// ErrExpireDateRange is returned by Save for an expire_date outside the
// years 1–9999, which no Python datetime can hold.
var ErrExpireDateRange = errors.New("db: expire_date outside the years 1-9999")

// TimeArg converts t to what Django binds for a DateTimeField
// (expire_date, DatabaseCache's expires) on this database, with loc the
// wall clock of naive datetimes (UTC with USE_TZ, else TIME_ZONE;
// Settings.Location): the instant for PostgreSQL's timestamptz, the naive
// wall clock for MySQL's datetime(6), and that wall clock as Python's
// str(datetime) text for SQLite (spec §3.9.1). A time whose wall clock is
// outside the years 1–9999 is ErrExpireDateRange.
func (d Dialect) TimeArg(t time.Time, loc *time.Location) (any, error) {
	w := naiveWall(t, loc)
	if w.Year() < minYear || w.Year() > maxYear {
		return nil, ErrExpireDateRange
	}
	switch d {
	case PostgreSQL:
		return t.Truncate(time.Microsecond).UTC(), nil
	case MySQL:
		return w, nil
	default:
		return string(appendSQLiteDateTime(make([]byte, 0, 26), w)), nil
	}
}

// ReadTime converts a DateTimeField value read back through this
// database's driver into an instant; loc is as for TimeArg.
func (d Dialect) ReadTime(v any, loc *time.Location) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		if d == PostgreSQL {
			return x.In(loc), nil
		}
		// A naive datetime: its wall clock is in loc.
		return time.Date(x.Year(), x.Month(), x.Day(), x.Hour(), x.Minute(), x.Second(), x.Nanosecond(), loc), nil
	case string:
		return django.ParseISODateTime(x, loc)
	case []byte:
		return django.ParseISODateTime(string(x), loc)
	case nil:
		return time.Time{}, errors.New("db: datetime is NULL")
	}
	return time.Time{}, fmt.Errorf("db: unexpected datetime type %T", v)
}

// naiveWall returns t's wall clock in loc as a time.Time in UTC: the naive
// datetime Django writes to SQLite and MySQL (UTC with USE_TZ, local time
// in TIME_ZONE without), at Python's microsecond precision.
func naiveWall(t time.Time, loc *time.Location) time.Time {
	w := t.In(loc)
	return time.Date(w.Year(), w.Month(), w.Day(), w.Hour(), w.Minute(), w.Second(),
		w.Nanosecond()/1000*1000, time.UTC)
}

// appendSQLiteDateTime appends what Django's SQLite backend writes for a
// naive datetime: Python's str(datetime), "YYYY-MM-DD HH:MM:SS" plus
// ".ffffff" when the microseconds are not zero. Django compares
// expire_date as this text, so the query parameter must use it too.
func appendSQLiteDateTime(b []byte, w time.Time) []byte {
	b = appendInt(b, w.Year(), 4)
	b = append(b, '-')
	b = appendInt(b, int(w.Month()), 2)
	b = append(b, '-')
	b = appendInt(b, w.Day(), 2)
	b = append(b, ' ')
	b = appendInt(b, w.Hour(), 2)
	b = append(b, ':')
	b = appendInt(b, w.Minute(), 2)
	b = append(b, ':')
	b = appendInt(b, w.Second(), 2)
	if us := w.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = appendInt(b, us, 6)
	}
	return b
}

func appendInt(b []byte, v, width int) []byte {
	var buf [8]byte
	i := len(buf)
	for v > 0 || i > len(buf)-width {
		i--
		buf[i] = byte('0' + v%10)
		v /= 10
	}
	return append(b, buf[i:]...)
}

// IsUniqueViolation reports a duplicate primary key, by each driver's error
// code (never by message): SQLite's SQLITE_CONSTRAINT_PRIMARYKEY or
// _UNIQUE, PostgreSQL's unique_violation (23505), MySQL's ER_DUP_ENTRY
// (1062) or ER_DUP_ENTRY_WITH_KEY_NAME (1586).
func IsUniqueViolation(err error) bool {
	var se sqlite3.Error
	if errors.As(err, &se) {
		return se.ExtendedCode == sqlite3.ErrConstraintPrimaryKey || se.ExtendedCode == sqlite3.ErrConstraintUnique
	}
	var sep *sqlite3.Error
	if errors.As(err, &sep) {
		return sep.ExtendedCode == sqlite3.ErrConstraintPrimaryKey || sep.ExtendedCode == sqlite3.ErrConstraintUnique
	}
	var pe *pq.Error
	if errors.As(err, &pe) {
		return pe.Code == "23505"
	}
	var me *mysql.MySQLError
	if errors.As(err, &me) {
		return me.Number == 1062 || me.Number == 1586
	}
	return false
}
