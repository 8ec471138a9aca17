package middleware_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/middleware"
	"github.com/djsession/djsession/pickle/py"
)

// exactCookies runs one request through the middleware with settings s
// (clock fixed at now): handler action "set" stores a value and calls
// expiry (if not nil) on the session, "delete" flushes the session the
// request's cookie names. It returns the Set-Cookie headers with the
// session key masked as "<key>", and Vary.
func exactCookies(t *testing.T, s *django.Settings, now time.Time, action string, expiry func(*django.Session)) ([]string, string) {
	t.Helper()
	s.SessionFilePath = t.TempDir()
	s.Clock = func() time.Time { return now }
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	m := &middleware.Sessions{Store: st, Settings: s}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := middleware.Session(r)
		switch action {
		case "set":
			sess.Set("a", py.Int(1))
			if expiry != nil {
				expiry(sess)
			}
		case "delete":
			sess.Flush()
		}
		io.WriteString(w, "ok")
	}))
	req := httptest.NewRequest("GET", "/", nil)
	if action == "delete" {
		sess := django.NewSession(t.Context(), st, s, "")
		sess.Set("a", py.Int(1))
		if err := sess.Save(false); err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Cookie", s.SessionCookieName+"="+sess.SessionKey())
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var out []string
	for _, line := range rec.Result().Header.Values("Set-Cookie") {
		masked, err := maskKey(line)
		if err != nil {
			t.Fatalf("%s: %v", line, err)
		}
		out = append(out, masked)
	}
	return out, rec.Result().Header.Get("Vary")
}

// TestDeletionHeaderSpec: with Django's default cookie settings, flushing
// the session the request names deletes the cookie with exactly the header
// of spec §9.5 (a spec vector, from Django's own middleware test, not run
// against Django here), and Vary: Cookie. The old net/http-based writer
// wrote `sessionid=; Path=/; Expires=...; Max-Age=0; SameSite=Lax`.
func TestDeletionHeaderSpec(t *testing.T) {
	s := django.DefaultSettings("django-insecure-cookie-header-0123456789")
	got, vary := exactCookies(t, s, time.Unix(1700000000, 0), "delete", nil)
	const want = `sessionid=""; expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Path=/; SameSite=Lax`
	if len(got) != 1 || got[0] != want {
		t.Errorf("deletion:\n got %q\nwant %q", got, want)
	}
	if vary != "Cookie" {
		t.Errorf("Vary %q, want Cookie", vary)
	}
}

// TestSetCookieHeaderExact: headers setting the cookie, hand-derived from
// Python's Morsel.OutputString rule (spec §2.7 "Cookie header details":
// attributes by lower-case name, lower-case expires = http_date(now +
// Max-Age) in whole seconds, Max-Age = get_expiry_age() as it is). The
// first is the spec's own example (with the key masked), at a clock with
// a fraction of a second, which http_date drops.
func TestSetCookieHeaderExact(t *testing.T) {
	now := time.Unix(1700000000, 750e6) // Tue, 14 Nov 2023 22:13:20.75 GMT
	for _, tc := range []struct {
		name   string
		adjust func(*django.Settings)
		expiry func(*django.Session)
		want   string
	}{
		{"spec §2.7 example", nil, nil,
			"sessionid=<key>; expires=Tue, 28 Nov 2023 22:13:20 GMT; HttpOnly; Max-Age=1209600; Path=/; SameSite=Lax"},
		{"every attribute, leading-dot Domain", func(s *django.Settings) {
			s.SessionCookieDomain, s.SessionCookiePath, s.SessionCookieSecure, s.SessionCookieSameSite = ".example.com", "/app", true, "none"
		}, nil,
			"sessionid=<key>; Domain=.example.com; expires=Tue, 28 Nov 2023 22:13:20 GMT; HttpOnly; Max-Age=1209600; Path=/app; SameSite=none; Secure"},
		{"no HttpOnly, no SameSite, no Path", func(s *django.Settings) {
			s.SessionCookieHTTPOnly, s.SessionCookieSameSite, s.SessionCookiePath = false, "", ""
		}, nil,
			"sessionid=<key>; expires=Tue, 28 Nov 2023 22:13:20 GMT; Max-Age=1209600"},
		{"set_expiry(-10)", nil, func(sess *django.Session) { sess.SetExpirySeconds(-10) },
			"sessionid=<key>; expires=Tue, 14 Nov 2023 22:13:10 GMT; HttpOnly; Max-Age=-10; Path=/; SameSite=Lax"},
		{"expiry at now: age 0", nil, func(sess *django.Session) { sess.SetExpiryAt(now) },
			"sessionid=<key>; expires=Tue, 14 Nov 2023 22:13:20 GMT; HttpOnly; Max-Age=0; Path=/; SameSite=Lax"},
		{"SESSION_EXPIRE_AT_BROWSER_CLOSE", func(s *django.Settings) { s.SessionExpireAtBrowserClose = true }, nil,
			"sessionid=<key>; HttpOnly; Path=/; SameSite=Lax"},
		{"set_expiry(0)", nil, func(sess *django.Session) { sess.SetExpirySeconds(0) },
			"sessionid=<key>; HttpOnly; Path=/; SameSite=Lax"},
	} {
		s := django.DefaultSettings("django-insecure-cookie-header-0123456789")
		if tc.adjust != nil {
			tc.adjust(s)
		}
		got, _ := exactCookies(t, s, now, "set", tc.expiry)
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}

// TestSetCookieParsesInGo: every header the Django comparison's settings
// produce is read by net/http's http.ParseSetCookie (what the hostile
// tests use) as the cookie meant: the name, the key or (deletion) an empty
// value, and Max-Age 1209600 or, for Max-Age ≤ 0, "delete now" (-1).
func TestSetCookieParsesInGo(t *testing.T) {
	for _, c := range cookieConfigs {
		for sc, got := range goCookies(t, c) {
			if got.SetCookie == "" {
				continue
			}
			pc, err := http.ParseSetCookie(got.SetCookie)
			if err != nil {
				t.Errorf("%+v %s: %q: %v", c, sc, got.SetCookie, err)
				continue
			}
			deletion := sc == "delete"
			wantAge := 1209600
			switch {
			case c.BrowserClose || (c.SetExpiry != nil && *c.SetExpiry == 0):
				wantAge = 0
			case (c.SetExpiry != nil && *c.SetExpiry < 0) || (c.Age != nil && *c.Age <= 0):
				wantAge = -1
			}
			if deletion {
				wantAge = -1
			}
			if pc.Name != c.Name || (pc.Value == "") != deletion || pc.MaxAge != wantAge || pc.Path != c.Path {
				t.Errorf("%+v %s: %q parsed as %+v", c, sc, got.SetCookie, pc)
			}
		}
	}
}

// TestUnwritableCookieSettings: a SESSION_COOKIE_NAME that is not an HTTP
// token (net/http refuses it; Django raises CookieError for most, and
// writes a ':' that Go clients refuse), or a SESSION_COOKIE_DOMAIN or PATH
// with ';', a control or a non-ASCII character (Django copies them in
// unchecked and breaks the header), sends no Set-Cookie at all, logs why,
// and still answers the request.
func TestUnwritableCookieSettings(t *testing.T) {
	for _, tc := range []struct {
		name   string
		adjust func(*django.Settings)
	}{
		{"name with ':'", func(s *django.Settings) { s.SessionCookieName = "session:id" }},
		{"name with a space", func(s *django.Settings) { s.SessionCookieName = "session id" }},
		// (A name with '=' cannot even be read back from a Cookie header:
		// the request below carries a cookie named "session", as
		// parse_cookie reads it, so there is nothing to delete.)
		{"name with '='", func(s *django.Settings) { s.SessionCookieName = "session=id" }},
		{"name non-ASCII", func(s *django.Settings) { s.SessionCookieName = "sessión" }},
		{"domain with ';'", func(s *django.Settings) { s.SessionCookieDomain = "example.com; Secure" }},
		{"path with CR LF", func(s *django.Settings) { s.SessionCookiePath = "/\r\nX-Injected: 1" }},
		{"path non-ASCII", func(s *django.Settings) { s.SessionCookiePath = "/café" }},
		{"path with DEL", func(s *django.Settings) { s.SessionCookiePath = "/\x7f" }},
	} {
		for _, action := range []string{"set", "delete"} {
			s := django.DefaultSettings("django-insecure-cookie-header-0123456789")
			s.SessionFilePath = t.TempDir()
			st, err := file.New(s)
			if err != nil {
				t.Fatal(err)
			}
			// Settings.Validate refuses all but the ':' name (Python
			// accepts it, net/http does not); the middleware guards the
			// header itself for settings changed after validation.
			tc.adjust(s)
			if err := s.Validate(); (err == nil) != strings.Contains(tc.name, "':'") {
				t.Errorf("%s: Validate: %v", tc.name, err)
			}
			var logs bytes.Buffer
			m := &middleware.Sessions{Store: st, Settings: s, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
			h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if action == "set" {
					middleware.Session(r).Set("a", py.Int(1))
				} else {
					middleware.Session(r).Flush()
				}
				io.WriteString(w, "ok")
			}))
			req := httptest.NewRequest("GET", "/", nil)
			if action == "delete" {
				// The raw header: the middleware reads the cookie as
				// Django's parse_cookie does, whatever the name.
				req.Header.Set("Cookie", s.SessionCookieName+"=abcdefghijklmnopqrstuvwxyz012345")
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if sc := rec.Result().Header.Values("Set-Cookie"); len(sc) != 0 || rec.Code != 200 || rec.Body.String() != "ok" {
				t.Errorf("%s, %s: %d %q, Set-Cookie %q (want 200 ok, none)", tc.name, action, rec.Code, rec.Body.String(), sc)
			}
			if action == "delete" && strings.Contains(s.SessionCookieName, "=") {
				continue
			}
			if !strings.Contains(logs.String(), "no session cookie sent") {
				t.Errorf("%s, %s: nothing logged: %q", tc.name, action, logs.String())
			}
		}
	}
}
