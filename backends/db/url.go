package db

import (
	"errors"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Errors from ParseURL and Open.
var (
	// ErrUnknownScheme is returned for a DATABASE_URL whose scheme names no
	// database this package speaks.
	ErrUnknownScheme = errors.New("db: unsupported DATABASE_URL scheme")
	// ErrBadURL is returned for a DATABASE_URL that cannot be read.
	ErrBadURL = errors.New("db: malformed DATABASE_URL")
)

// MaxURLLength bounds the DATABASE_URL ParseURL reads.
const MaxURLLength = 8192

// schemes maps the DATABASE_URL schemes dj-database-url gives to Django's
// SQLite, PostgreSQL and MySQL engines (plus "mariadb", a common spelling)
// to their dialect.
var schemes = map[string]Dialect{
	"sqlite":     SQLite,
	"postgres":   PostgreSQL,
	"postgresql": PostgreSQL,
	"pgsql":      PostgreSQL,
	"postgis":    PostgreSQL,
	"mysql":      MySQL,
	"mysql2":     MySQL,
	"mysqlgis":   MySQL,
	"mariadb":    MySQL,
}

// Config is a DATABASE_URL read as dj-database-url reads it into Django's
// DATABASES entry.
type Config struct {
	// Dialect is the database the scheme names.
	Dialect Dialect
	// Scheme is the URL scheme as written, lower-cased.
	Scheme string
	// Name is NAME: the database name, or for SQLite the file path
	// (relative to the working directory unless it starts with "/") or
	// ":memory:".
	Name string
	// User and Password are USER and PASSWORD, percent-decoded.
	User, Password string
	// Host is HOST, lower-cased unless it was percent-encoded (a socket
	// path such as "/var/run/postgresql" is written %2Fvar%2Frun%2Fpostgresql);
	// "" means the driver's default.
	Host string
	// Port is PORT; 0 means the driver's default.
	Port int
	// Options are the query parameters (Django's OPTIONS), handed to the
	// driver; as dj-database-url, the last value of a repeated key wins and
	// empty values are dropped.
	Options url.Values
}

// String returns the configuration as a URL with the password hidden,
// for messages.
func (c *Config) String() string {
	if c.Dialect == SQLite {
		return "sqlite:///" + c.Name
	}
	var b strings.Builder
	b.WriteString(c.Scheme)
	b.WriteString("://")
	if c.User != "" {
		b.WriteString(url.PathEscape(c.User))
		if c.Password != "" {
			b.WriteString(":***")
		}
		b.WriteByte('@')
	}
	if strings.HasPrefix(c.Host, "/") {
		b.WriteString(url.PathEscape(c.Host))
	} else {
		b.WriteString(c.Host)
	}
	if c.Port != 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(c.Port))
	}
	b.WriteByte('/')
	b.WriteString(url.PathEscape(c.Name))
	if len(c.Options) > 0 {
		b.WriteByte('?')
		b.WriteString(c.Options.Encode())
	}
	return b.String()
}

// ParseURL reads a DATABASE_URL as dj-database-url does:
//
//	sqlite:///relative/path.db     NAME "relative/path.db"
//	sqlite:////abs/path.db         NAME "/abs/path.db"
//	sqlite://:memory:, sqlite://   an in-memory database
//	postgres://user:pass@host:5432/name?sslmode=require
//	postgresql://, pgsql://, postgis://   the same
//	mysql://user:pass@host:3306/name?charset=utf8mb4   (mysql2://, mariadb://)
//
// User, password, host and path are percent-decoded; the query parameters
// become Options. Unknown schemes give ErrUnknownScheme, unreadable URLs
// ErrBadURL. Error texts never contain the password.
func ParseURL(databaseURL string) (*Config, error) {
	if len(databaseURL) > MaxURLLength {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrBadURL, MaxURLLength)
	}
	if databaseURL == "sqlite://:memory:" {
		// Special-cased by dj-database-url too: ":memory:" is no host:port.
		return &Config{Dialect: SQLite, Scheme: "sqlite", Name: ":memory:", Options: url.Values{}}, nil
	}
	scheme, rest, ok := strings.Cut(databaseURL, "://")
	if !ok || scheme == "" {
		return nil, fmt.Errorf("%w: no scheme:// (want e.g. postgres://user@host/name or sqlite:///path.db)", ErrBadURL)
	}
	scheme = strings.ToLower(scheme)
	dialect, ok := schemes[scheme]
	if !ok {
		names := make([]string, 0, len(schemes))
		for s := range schemes {
			names = append(names, s)
		}
		sort.Strings(names)
		return nil, fmt.Errorf("%w %q; supported: %s", ErrUnknownScheme, printable(scheme), strings.Join(names, ", "))
	}
	// urlsplit: the fragment, then the query, then the netloc up to the
	// first "/".
	rest, _, _ = strings.Cut(rest, "#")
	rest, query, _ := strings.Cut(rest, "?")
	netloc, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		netloc, path = rest[:i], rest[i:]
	}
	c := &Config{Dialect: dialect, Scheme: scheme, Options: parseQuery(query)}
	if path != "" {
		c.Name = unquote(path[1:], false)
	}
	if dialect == SQLite {
		if c.Name == "" {
			c.Name = ":memory:"
		}
		return c, nil
	}
	hostport := netloc
	if i := strings.LastIndexByte(netloc, '@'); i >= 0 {
		userinfo := netloc[:i]
		hostport = netloc[i+1:]
		user, pass, hasPass := strings.Cut(userinfo, ":")
		c.User = unquote(user, false)
		if hasPass {
			c.Password = unquote(pass, false)
		}
	}
	host, port, err := splitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	if strings.Contains(host, "%") {
		c.Host = unquote(host, false)
	} else {
		c.Host = strings.ToLower(host)
	}
	c.Port = port
	return c, nil
}

// splitHostPort splits "host", "host:port", "[v6]" or "[v6]:port".
func splitHostPort(hp string) (host string, port int, err error) {
	portStr := ""
	if strings.HasPrefix(hp, "[") {
		end := strings.IndexByte(hp, ']')
		if end < 0 {
			return "", 0, fmt.Errorf("%w: unclosed [ in host", ErrBadURL)
		}
		host = hp[1:end]
		after := hp[end+1:]
		if after != "" {
			if after[0] != ':' {
				return "", 0, fmt.Errorf("%w: junk after ] in host", ErrBadURL)
			}
			portStr = after[1:]
		}
	} else if i := strings.LastIndexByte(hp, ':'); i >= 0 {
		host, portStr = hp[:i], hp[i+1:]
	} else {
		host = hp
	}
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 0 || n > 65535 || portStr[0] == '+' || portStr[0] == '-' {
			return "", 0, fmt.Errorf("%w: port %q is not a number 0-65535", ErrBadURL, printable(portStr))
		}
		port = n
	}
	return host, port, nil
}

// parseQuery reads a query string as Python's parse_qs: "&"-separated
// pairs, "+" is a space, %XX decoded leniently, pairs with an empty value
// dropped; the last value of a key is kept.
func parseQuery(q string) url.Values {
	v := url.Values{}
	for _, pair := range strings.Split(q, "&") {
		if pair == "" {
			continue
		}
		k, val, _ := strings.Cut(pair, "=")
		if val == "" {
			continue
		}
		v.Set(unquote(k, true), unquote(val, true))
	}
	return v
}

// unquote percent-decodes s as Python's urllib.parse.unquote: an invalid
// escape is kept as it is, and the bytes are read as UTF-8 with
// replacement characters. plus also turns "+" into a space (unquote_plus).
func unquote(s string, plus bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		case c == '+' && plus:
			b = append(b, ' ')
		default:
			b = append(b, c)
		}
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	default:
		return c - 'A' + 10
	}
}

// printable shortens and sanitizes a piece of input for an error message.
func printable(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	return s
}
