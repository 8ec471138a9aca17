package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"sync"
)

// SQLUsers loads users from Django's user table through database/sql: by
// default auth_user(id, password, is_active, username). For a custom user
// model set the table and column names. The *sql.DB's driver must be
// imported by the program (backends/db imports SQLite, PostgreSQL and
// MySQL drivers).
type SQLUsers struct {
	DB *sql.DB
	// Dollar selects PostgreSQL's $1 placeholders; otherwise ? is used
	// (SQLite, MySQL).
	Dollar bool

	Table          string // "auth_user"
	PKColumn       string // "id"
	PasswordColumn string // "password"
	// IsActiveColumn may be "" for a model without is_active (Django then
	// treats every user as active).
	IsActiveColumn string // "is_active"
	// UsernameColumn may be "" when there is none to show.
	UsernameColumn string // "username"
	// IntegerPK says the primary key is an integer (AutoField,
	// BigAutoField, the default): an id that is not decimal digits is no
	// user, without a query, as Django's to_python would refuse it.
	IntegerPK bool

	once sync.Once
	stmt *sql.Stmt // the prepared LoadUser query; nil if preparing failed
}

// NewSQLUsers returns a loader for Django's default auth_user table.
func NewSQLUsers(db *sql.DB, dollar bool) *SQLUsers {
	return &SQLUsers{
		DB: db, Dollar: dollar,
		Table: "auth_user", PKColumn: "id", PasswordColumn: "password",
		IsActiveColumn: "is_active", UsernameColumn: "username", IntegerPK: true,
	}
}

var identRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$`)

func (s *SQLUsers) query() (string, error) {
	for _, id := range []string{s.Table, s.PKColumn, s.PasswordColumn} {
		if !identRE.MatchString(id) {
			return "", fmt.Errorf("auth: invalid SQL identifier %q", id)
		}
	}
	cols := s.PasswordColumn
	for _, opt := range []string{s.IsActiveColumn, s.UsernameColumn} {
		if opt == "" {
			cols += ", NULL"
			continue
		}
		if !identRE.MatchString(opt) {
			return "", fmt.Errorf("auth: invalid SQL identifier %q", opt)
		}
		cols += ", " + opt
	}
	ph := "?"
	if s.Dollar {
		ph = "$1"
	}
	return fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", cols, s.Table, s.PKColumn, ph), nil
}

// FindUser reads the user whose UsernameColumn (Django's USERNAME_FIELD)
// is username, for a login form. It returns ErrNoUser when there is none.
func (s *SQLUsers) FindUser(ctx context.Context, username string) (*User, error) {
	if s.UsernameColumn == "" || !identRE.MatchString(s.UsernameColumn) || !identRE.MatchString(s.PKColumn) || !identRE.MatchString(s.Table) {
		return nil, fmt.Errorf("auth: no valid username column configured")
	}
	ph := "?"
	if s.Dollar {
		ph = "$1"
	}
	var id string
	q := fmt.Sprintf("SELECT %s FROM %s WHERE %s = %s", s.PKColumn, s.Table, s.UsernameColumn, ph)
	err := s.DB.QueryRowContext(ctx, q, username).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("auth: finding user: %w", err)
	}
	return s.LoadUser(ctx, id)
}

// LoadUser reads the user with primary key id.
func (s *SQLUsers) LoadUser(ctx context.Context, id string) (*User, error) {
	if s.IntegerPK {
		if _, err := strconv.ParseInt(id, 10, 64); err != nil {
			return nil, ErrNoUser
		}
	}
	q, err := s.query()
	if err != nil {
		return nil, err
	}
	// Prepared once: the user row is read on every authenticated request.
	s.once.Do(func() { s.stmt, _ = s.DB.PrepareContext(context.Background(), q) })
	var (
		password string
		active   sql.NullBool
		username sql.NullString
		row      *sql.Row
	)
	if s.stmt != nil {
		row = s.stmt.QueryRowContext(ctx, id)
	} else {
		row = s.DB.QueryRowContext(ctx, q, id)
	}
	err = row.Scan(&password, &active, &username)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoUser
	}
	if err != nil {
		return nil, fmt.Errorf("auth: loading user: %w", err)
	}
	return &User{
		ID:       id,
		Password: password,
		IsActive: !active.Valid || active.Bool,
		Username: username.String,
	}, nil
}
