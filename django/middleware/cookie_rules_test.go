package middleware_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/django/middleware"
	"github.com/djsession/djsession/pickle/py"
)

// cookieConfig is one set of session-cookie settings, as Django names them.
type cookieConfig struct {
	Name         string `json:"SESSION_COOKIE_NAME"`
	Domain       string `json:"SESSION_COOKIE_DOMAIN"` // "" = None
	Path         string `json:"SESSION_COOKIE_PATH"`
	Secure       bool   `json:"SESSION_COOKIE_SECURE"`
	HTTPOnly     bool   `json:"SESSION_COOKIE_HTTPONLY"`
	SameSite     string `json:"SESSION_COOKIE_SAMESITE"` // "" = False
	BrowserClose bool   `json:"SESSION_EXPIRE_AT_BROWSER_CLOSE"`
	SaveEvery    bool   `json:"SESSION_SAVE_EVERY_REQUEST"`
	Age          *int   `json:"SESSION_COOKIE_AGE,omitempty"` // nil = the default two weeks
	// SetExpiry is not a setting: the /set view calls set_expiry(n).
	SetExpiry *int `json:"set_expiry,omitempty"`
}

func intp(n int) *int { return &n }

func (c cookieConfig) settings(dir string) *django.Settings {
	s := django.DefaultSettings("django-insecure-cookie-rules-0123456789")
	s.SessionFilePath = dir
	s.SessionCookieName = c.Name
	s.SessionCookieDomain = c.Domain
	s.SessionCookiePath = c.Path
	s.SessionCookieSecure = c.Secure
	s.SessionCookieHTTPOnly = c.HTTPOnly
	s.SessionCookieSameSite = c.SameSite
	s.SessionExpireAtBrowserClose = c.BrowserClose
	s.SessionSaveEveryRequest = c.SaveEvery
	if c.Age != nil {
		s.SessionCookieAge = *c.Age
	}
	return s
}

var cookieConfigs = []cookieConfig{
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax"},
	{Name: "sessionid", Domain: ".example.com", Path: "/app", Secure: true, SameSite: "Strict"},
	{Name: "sessionid", Domain: "example.com", Path: "/", HTTPOnly: true, SameSite: "none"},
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "None"},
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "NONE", Secure: true},
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: ""},
	{Name: "__Secure-sid", Path: "/", HTTPOnly: true, SameSite: "LAX"},
	{Name: "__Host-sid", Path: "/", HTTPOnly: true, SameSite: "strict"},
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax", BrowserClose: true},
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax", SaveEvery: true},
	{Name: "sessionid", Domain: ".example.com", Path: "/", HTTPOnly: true, SameSite: "Lax"},
	{Name: "sessionid", Path: "", HTTPOnly: false, SameSite: "Lax"},
	// Sessions already expired when saved: Max-Age is get_expiry_age() as
	// it is, negative here, and expires that far in the past. (An age of
	// exactly 0 cannot be set up here: SESSION_COOKIE_AGE=0 is
	// Settings.SessionCookieAge's "default" and set_expiry(0) means a
	// browser-session cookie; the deletion has Max-Age=0, and
	// TestCookieHeaderZeroAge checks the writer.)
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax", SetExpiry: intp(-10)},
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax", Age: intp(-30)},
	// With SESSION_SAVE_EVERY_REQUEST the untouched session, expired by
	// SESSION_COOKIE_AGE=-30 when loaded, is replaced by a new empty one
	// under a new key, saved and sent with Max-Age=-30.
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax", Age: intp(-30), SaveEvery: true},
	// set_expiry(0): a browser-session cookie whatever the setting.
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax", SetExpiry: intp(0)},
	{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Strict", Secure: true, BrowserClose: true, SaveEvery: true},
}

// The three requests each configuration answers: a new session is set, the
// session the cookie names is flushed (the cookie is deleted), and an
// existing session the handler never touches is sent again (only with
// SESSION_SAVE_EVERY_REQUEST).
var cookieScenarios = []string{"set", "delete", "untouched"}

// cookieResponse is what a scenario produced: the session cookie's
// Set-Cookie header (without the "Set-Cookie: " part), whether it carries
// the key the request sent, and Vary.
type cookieResponse struct {
	SetCookie string `json:"set_cookie"`
	SameKey   bool   `json:"same_key"`
	Vary      string `json:"vary"`
}

// djangoCookies is Django 3.2's SessionMiddleware answering the scenarios
// for each configuration, with the file engine, its clock (the time.time()
// that expires is computed from) fixed at input["now"].
const djangoCookies = `
from unittest import mock
import django.contrib.sessions.middleware as session_middleware
from django.test import RequestFactory, override_settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse

set_expiry = None

def view(request):
    if request.path == "/set":
        request.session["a"] = 1
        if set_expiry is not None:
            request.session.set_expiry(set_expiry)
    elif request.path == "/delete":
        request.session.flush()
    return HttpResponse("ok")

out = []
for cfg in input["configs"]:
    cfg = dict(cfg)
    set_expiry = cfg.pop("set_expiry", None)
    cfg["SESSION_COOKIE_DOMAIN"] = cfg["SESSION_COOKIE_DOMAIN"] or None
    cfg["SESSION_COOKIE_SAMESITE"] = cfg["SESSION_COOKIE_SAMESITE"] or False
    with override_settings(**cfg), mock.patch.object(session_middleware, "time") as clock:
        clock.time.return_value = input["now"]
        name = cfg["SESSION_COOKIE_NAME"]
        row = {}
        for scenario in input["scenarios"]:
            kw, sent = {}, None
            if scenario != "set":
                s = session_store()
                s["a"] = 1
                s.save()
                sent = s.session_key
                kw["HTTP_COOKIE"] = "%s=%s" % (name, sent)
            response = SessionMiddleware(view)(RequestFactory().get("/" + scenario, **kw))
            morsel = response.cookies.get(name)
            row[scenario] = {
                "set_cookie": morsel.OutputString() if morsel is not None else "",
                "same_key": morsel is not None and morsel.value == sent,
                "vary": response.get("Vary", ""),
            }
        out.append(row)
result = out
`

// cookieNow is the clock of the Django comparison, on both sides: a whole
// second and a half (exact as a Python float, so both floor it alike), an
// hour ahead of the real time, so that our file store, which compares a
// session file's mtime with this clock, never sees a file written during
// the test as written in its future (Django compares with the real clock).
func cookieNow() time.Time {
	return time.Unix(time.Now().Add(time.Hour).Unix(), 5e8)
}

// goCookies is our middleware answering the same scenarios, with the clock
// at now (the zero Time: the real clock).
func goCookies(t *testing.T, c cookieConfig) map[string]cookieResponse {
	t.Helper()
	return goCookiesAt(t, c, time.Time{})
}

func goCookiesAt(t *testing.T, c cookieConfig, now time.Time) map[string]cookieResponse {
	t.Helper()
	s := c.settings(t.TempDir())
	if !now.IsZero() {
		s.Clock = func() time.Time { return now }
	}
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	m := &middleware.Sessions{Store: st, Settings: s}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/set":
			middleware.Session(r).Set("a", py.Int(1))
			if c.SetExpiry != nil {
				middleware.Session(r).SetExpirySeconds(*c.SetExpiry)
			}
		case "/delete":
			middleware.Session(r).Flush()
		}
		io.WriteString(w, "ok")
	}))
	out := map[string]cookieResponse{}
	for _, sc := range cookieScenarios {
		req := httptest.NewRequest("GET", "/"+sc, nil)
		sent := ""
		if sc != "set" {
			sess := django.NewSession(t.Context(), st, s, "")
			sess.Set("a", py.Int(1))
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			sent = sess.SessionKey()
			req.Header.Set("Cookie", c.Name+"="+sent)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		var got cookieResponse
		for _, line := range resp.Header.Values("Set-Cookie") {
			if strings.HasPrefix(line, c.Name+"=") {
				got.SetCookie = line
				got.SameKey = sent != "" && parseSetCookie(line).value == sent
			}
		}
		got.Vary = resp.Header.Get("Vary")
		out[sc] = got
	}
	return out
}

// parsedCookie is a Set-Cookie header as name, value and attributes
// (lower-cased names; a flag has the value "").
type parsedCookie struct {
	name, value string
	attrs       map[string]string
}

func parseSetCookie(line string) parsedCookie {
	parts := strings.Split(line, ";")
	name, value, _ := strings.Cut(strings.TrimSpace(parts[0]), "=")
	if value == `""` { // Python's SimpleCookie quotes an empty value
		value = ""
	}
	p := parsedCookie{name: name, value: value, attrs: map[string]string{}}
	for _, a := range parts[1:] {
		k, v, _ := strings.Cut(strings.TrimSpace(a), "=")
		p.attrs[strings.ToLower(k)] = v
	}
	return p
}

func (p parsedCookie) String() string {
	keys := make([]string, 0, len(p.attrs))
	for k := range p.attrs {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	fmt.Fprintf(&b, "%s=%q", p.name, p.value)
	for _, k := range keys {
		fmt.Fprintf(&b, " %s=%q", k, p.attrs[k])
	}
	return b.String()
}

// sessionKeyShape is what a session key the middleware sends looks like:
// 32 characters of [a-z0-9] (get_random_string(32, VALID_KEY_CHARS)).
var sessionKeyShape = regexp.MustCompile(`^[a-z0-9]{32}$`)

// maskKey replaces the session key in a Set-Cookie header with "<key>", so
// that two headers with different random keys compare byte for byte; it
// fails if the value is neither a session key nor the deletion's "".
func maskKey(line string) (string, error) {
	if line == "" {
		return "", nil
	}
	name, rest, _ := strings.Cut(line, "=")
	value, attrs, _ := strings.Cut(rest, ";")
	if value == `""` {
		return line, nil
	}
	if !sessionKeyShape.MatchString(value) {
		return "", fmt.Errorf("value %q is not a session key", value)
	}
	if attrs != "" {
		attrs = ";" + attrs
	}
	return name + "=<key>" + attrs, nil
}

// TestSessionCookieAsDjango: for each combination of the session-cookie
// settings (Domain with and without a leading dot, Path, Secure, HttpOnly,
// SameSite in several spellings, __Secure-/__Host- names, browser-session
// cookies, SESSION_SAVE_EVERY_REQUEST, sessions whose expiry age is zero
// or negative when saved), the Set-Cookie header our middleware writes
// when it sets, deletes or re-sends the cookie is byte for byte the one
// Django 3.2's SessionMiddleware writes, with both clocks fixed at the
// same moment and the random session key masked (the key is checked for
// its shape, and for being the key the request sent exactly when
// Django's is) — and Vary is the same, except where we follow Django
// 5.2.14+ (see TestVaryCookieWhenSetUnaccessed).
func TestSessionCookieAsDjango(t *testing.T) {
	djangotest.Require(t)
	env := djangotest.Env{"SESSION_ENGINE": "file", "SESSION_FILE_PATH": t.TempDir(),
		"DJANGO_SECRET_KEY": "django-insecure-cookie-rules-0123456789"}
	now := cookieNow()
	raw := djangotest.Snippet(t, env, djangoCookies, map[string]any{
		"configs": cookieConfigs, "scenarios": cookieScenarios,
		"now": float64(now.Unix()) + 0.5,
	})
	var theirs []map[string]cookieResponse
	if err := json.Unmarshal(raw, &theirs); err != nil || len(theirs) != len(cookieConfigs) {
		t.Fatalf("%v: %s", err, raw)
	}
	for i, c := range cookieConfigs {
		age, expiry := "default", "none"
		if c.Age != nil {
			age = fmt.Sprint(*c.Age)
		}
		if c.SetExpiry != nil {
			expiry = fmt.Sprint(*c.SetExpiry)
		}
		t.Run(fmt.Sprintf("%s,samesite=%q,domain=%q,path=%q,secure=%v,httponly=%v,browserclose=%v,saveevery=%v,age=%s,set_expiry=%s",
			c.Name, c.SameSite, c.Domain, c.Path, c.Secure, c.HTTPOnly, c.BrowserClose, c.SaveEvery, age, expiry), func(t *testing.T) {
			ours := goCookiesAt(t, c, now)
			for _, sc := range cookieScenarios {
				o, d := ours[sc], theirs[i][sc]
				om, oerr := maskKey(o.SetCookie)
				dm, derr := maskKey(d.SetCookie)
				switch {
				case oerr != nil || derr != nil:
					t.Errorf("%s: ours %v, Django %v\n    we %s\nDjango %s", sc, oerr, derr, o.SetCookie, d.SetCookie)
				case om != dm:
					t.Errorf("%s: Set-Cookie differs\n    we %s\nDjango %s", sc, o.SetCookie, d.SetCookie)
				case o.SameKey != d.SameKey:
					t.Errorf("%s: re-sent the request's key %v, Django %v", sc, o.SameKey, d.SameKey)
				}
				if sc == "untouched" && c.SaveEvery && d.SetCookie != "" && d.Vary == "" {
					// Django 3.2 adds no Vary here; 5.2.14+ does.
					if o.Vary != "Cookie" {
						t.Errorf("untouched: Vary %q (want Cookie, the 5.2.14+ rule), Django 3.2 %q", o.Vary, d.Vary)
					}
				} else if o.Vary != d.Vary {
					t.Errorf("%s: Vary %q, Django %q", sc, o.Vary, d.Vary)
				}
			}
			t.Logf("set: %s | delete: %s | untouched: %s", ours["set"].SetCookie, ours["delete"].SetCookie, ours["untouched"].SetCookie)
		})
	}
}

// TestSameSiteAnyCase: SESSION_COOKIE_SAMESITE is accepted in any case, as
// Django compares it lower-cased, and written as spelt; "none" in any case
// forces Secure on the deletion.
func TestSameSiteAnyCase(t *testing.T) {
	for _, v := range []string{"none", "NONE", "nOnE", "None"} {
		c := cookieConfig{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: v}
		if err := c.settings(t.TempDir()).Validate(); err != nil {
			t.Fatalf("%q refused: %v", v, err)
		}
		got := goCookies(t, c)
		set, del := parseSetCookie(got["set"].SetCookie), parseSetCookie(got["delete"].SetCookie)
		if set.attrs["samesite"] != v || del.attrs["samesite"] != v {
			t.Errorf("%q written as %q / %q", v, set.attrs["samesite"], del.attrs["samesite"])
		}
		if _, secure := del.attrs["secure"]; !secure {
			t.Errorf("SameSite=%s: the deletion must be Secure: %s", v, got["delete"].SetCookie)
		}
		if _, secure := set.attrs["secure"]; secure {
			t.Errorf("SameSite=%s: setting the cookie follows SESSION_COOKIE_SECURE only: %s", v, got["set"].SetCookie)
		}
	}
}

// TestDeletionSecureForPrefixedNames: delete_cookie forces Secure for a
// __Secure- or __Host- cookie name, which browsers ignore without it, and
// the deletion carries no HttpOnly, Path/Domain/SameSite from the settings
// (spec §3.8); a plain name with SameSite=Lax gets no Secure.
func TestDeletionSecureForPrefixedNames(t *testing.T) {
	for name, wantSecure := range map[string]bool{"__Secure-sid": true, "__Host-sid": true, "sessionid": false, "_Secure-sid": false} {
		c := cookieConfig{Name: name, Domain: "example.com", Path: "/app", HTTPOnly: true, SameSite: "Lax"}
		got := parseSetCookie(goCookies(t, c)["delete"].SetCookie)
		_, secure := got.attrs["secure"]
		_, httpOnly := got.attrs["httponly"]
		if secure != wantSecure || httpOnly || got.attrs["path"] != "/app" || got.attrs["domain"] != "example.com" ||
			got.attrs["samesite"] != "Lax" || got.attrs["max-age"] != "0" || got.attrs["expires"] != "Thu, 01 Jan 1970 00:00:00 GMT" {
			t.Errorf("%s: deletion %s (want Secure %v, no HttpOnly)", name, got, wantSecure)
		}
	}
}

// TestSetCookieAttributes: setting the cookie carries Domain, Path,
// Secure and HttpOnly from the settings, each only when set.
func TestSetCookieAttributes(t *testing.T) {
	for _, c := range []cookieConfig{
		{Name: "sessionid", Domain: "example.com", Path: "/app", Secure: true, HTTPOnly: true, SameSite: "Strict"},
		{Name: "sessionid", Path: "/", SameSite: ""},
	} {
		got := parseSetCookie(goCookies(t, c)["set"].SetCookie)
		_, secure := got.attrs["secure"]
		_, httpOnly := got.attrs["httponly"]
		_, hasSameSite := got.attrs["samesite"]
		if got.attrs["domain"] != c.Domain || got.attrs["path"] != c.Path || secure != c.Secure || httpOnly != c.HTTPOnly ||
			got.attrs["samesite"] != c.SameSite || hasSameSite != (c.SameSite != "") || got.attrs["max-age"] != "1209600" {
			t.Errorf("%+v: %s", c, got)
		}
		if _, ok := got.attrs["domain"]; ok != (c.Domain != "") {
			t.Errorf("%+v: Domain present %v", c, ok)
		}
	}
}

// TestVaryCookieWhenSetUnaccessed: with SESSION_SAVE_EVERY_REQUEST a
// session the handler never touched is saved and its cookie sent again;
// we add Vary: Cookie then, as Django 5.2.14+/6.0.5+ do (spec §3.8,
// CVE-2026-35192), where Django ≤5.2.13 (3.2 included) add it only for an
// accessed session. An untouched session that is not saved adds nothing.
func TestVaryCookieWhenSetUnaccessed(t *testing.T) {
	c := cookieConfig{Name: "sessionid", Path: "/", HTTPOnly: true, SameSite: "Lax", SaveEvery: true}
	got := goCookies(t, c)["untouched"]
	if got.SetCookie == "" || got.Vary != "Cookie" {
		t.Errorf("SESSION_SAVE_EVERY_REQUEST, untouched session: Set-Cookie %q, Vary %q (want Cookie)", got.SetCookie, got.Vary)
	}
	c.SaveEvery = false
	got = goCookies(t, c)["untouched"]
	if got.SetCookie != "" || got.Vary != "" {
		t.Errorf("untouched, not saved: Set-Cookie %q, Vary %q (want neither)", got.SetCookie, got.Vary)
	}
}
