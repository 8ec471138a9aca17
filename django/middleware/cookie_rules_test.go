package middleware_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"

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
}

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
}

// The three requests each configuration answers: a new session is set, the
// session the cookie names is flushed (the cookie is deleted), and an
// existing session the handler never touches is sent again (only with
// SESSION_SAVE_EVERY_REQUEST).
var cookieScenarios = []string{"set", "delete", "untouched"}

// cookieResponse is what a scenario produced: the session cookie's
// Set-Cookie header (without the "Set-Cookie: " part) and Vary.
type cookieResponse struct {
	SetCookie string `json:"set_cookie"`
	Vary      string `json:"vary"`
}

// djangoCookies is Django 3.2's SessionMiddleware answering the scenarios
// for each configuration, with the file engine.
const djangoCookies = `
from django.test import RequestFactory, override_settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse

def view(request):
    if request.path == "/set":
        request.session["a"] = 1
    elif request.path == "/delete":
        request.session.flush()
    return HttpResponse("ok")

out = []
for cfg in input["configs"]:
    cfg = dict(cfg)
    cfg["SESSION_COOKIE_DOMAIN"] = cfg["SESSION_COOKIE_DOMAIN"] or None
    cfg["SESSION_COOKIE_SAMESITE"] = cfg["SESSION_COOKIE_SAMESITE"] or False
    with override_settings(**cfg):
        name = cfg["SESSION_COOKIE_NAME"]
        row = {}
        for scenario in input["scenarios"]:
            kw = {}
            if scenario != "set":
                s = session_store()
                s["a"] = 1
                s.save()
                kw["HTTP_COOKIE"] = "%s=%s" % (name, s.session_key)
            response = SessionMiddleware(view)(RequestFactory().get("/" + scenario, **kw))
            morsel = response.cookies.get(name)
            row[scenario] = {
                "set_cookie": morsel.OutputString() if morsel is not None else "",
                "vary": response.get("Vary", ""),
            }
        out.append(row)
result = out
`

// goCookies is our middleware answering the same scenarios.
func goCookies(t *testing.T, c cookieConfig) map[string]cookieResponse {
	t.Helper()
	s := c.settings(t.TempDir())
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	m := &middleware.Sessions{Store: st, Settings: s}
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/set":
			middleware.Session(r).Set("a", py.Int(1))
		case "/delete":
			middleware.Session(r).Flush()
		}
		io.WriteString(w, "ok")
	}))
	out := map[string]cookieResponse{}
	for _, sc := range cookieScenarios {
		req := httptest.NewRequest("GET", "/"+sc, nil)
		if sc != "set" {
			sess := django.NewSession(t.Context(), st, s, "")
			sess.Set("a", py.Int(1))
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Cookie", c.Name+"="+sess.SessionKey())
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		resp := rec.Result()
		var got cookieResponse
		for _, line := range resp.Header.Values("Set-Cookie") {
			if strings.HasPrefix(line, c.Name+"=") {
				got.SetCookie = line
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

// sameCookie compares our Set-Cookie with Django's: the same attributes
// with the same values (SameSite spelt the same), except where the two are
// equal by RFC 6265: the session key (random), Expires in the future
// (computed from the clock; only its presence is compared), and a Domain's
// leading dot, which net/http drops and browsers ignore.
func sameCookie(scenario string, ours, django parsedCookie) error {
	if ours.name != django.name {
		return fmt.Errorf("name %q, Django %q", ours.name, django.name)
	}
	if (ours.value == "") != (django.value == "") || (ours.value != "" && len(ours.value) != len(django.value)) {
		return fmt.Errorf("value %q, Django %q", ours.value, django.value)
	}
	if len(ours.attrs) != len(django.attrs) {
		return fmt.Errorf("attributes differ")
	}
	for k, dv := range django.attrs {
		ov, ok := ours.attrs[k]
		switch {
		case !ok:
			return fmt.Errorf("no %s attribute", k)
		case k == "expires" && scenario != "delete":
		case k == "domain":
			if strings.TrimPrefix(ov, ".") != strings.TrimPrefix(dv, ".") {
				return fmt.Errorf("Domain=%s, Django Domain=%s", ov, dv)
			}
		case ov != dv:
			return fmt.Errorf("%s=%s, Django %s=%s", k, ov, k, dv)
		}
	}
	return nil
}

// TestSessionCookieAsDjango: for each combination of the session-cookie
// settings, the Set-Cookie header our middleware writes when it sets and
// when it deletes the cookie has the attributes Django 3.2's
// SessionMiddleware writes — Domain, Path, Secure, HttpOnly, Max-Age,
// Expires, SameSite in the setting's own spelling ("none" stays "none"),
// and the Secure that delete_cookie forces for __Secure-/__Host- names and
// SameSite=None in any case (spec §3.8) — and the same Vary, except where
// we follow Django 5.2.14+ (see TestVaryCookieWhenSetUnaccessed).
func TestSessionCookieAsDjango(t *testing.T) {
	djangotest.Require(t)
	env := djangotest.Env{"SESSION_ENGINE": "file", "SESSION_FILE_PATH": t.TempDir(),
		"DJANGO_SECRET_KEY": "django-insecure-cookie-rules-0123456789"}
	raw := djangotest.Snippet(t, env, djangoCookies, map[string]any{"configs": cookieConfigs, "scenarios": cookieScenarios})
	var theirs []map[string]cookieResponse
	if err := json.Unmarshal(raw, &theirs); err != nil || len(theirs) != len(cookieConfigs) {
		t.Fatalf("%v: %s", err, raw)
	}
	for i, c := range cookieConfigs {
		t.Run(fmt.Sprintf("%s,samesite=%q,domain=%q,secure=%v,browserclose=%v,saveevery=%v",
			c.Name, c.SameSite, c.Domain, c.Secure, c.BrowserClose, c.SaveEvery), func(t *testing.T) {
			ours := goCookies(t, c)
			for _, sc := range cookieScenarios {
				o, d := ours[sc], theirs[i][sc]
				if (o.SetCookie == "") != (d.SetCookie == "") {
					t.Errorf("%s: Set-Cookie %q, Django %q", sc, o.SetCookie, d.SetCookie)
					continue
				}
				if o.SetCookie != "" {
					if err := sameCookie(sc, parseSetCookie(o.SetCookie), parseSetCookie(d.SetCookie)); err != nil {
						t.Errorf("%s: %v\n    we %s\nDjango %s", sc, err, o.SetCookie, d.SetCookie)
					}
				}
				if sc == "untouched" && c.SaveEvery {
					// Django 3.2 adds no Vary here; 5.2.14+ does.
					if o.Vary != "Cookie" || d.Vary != "" {
						t.Errorf("untouched: Vary %q (want Cookie, the 5.2.14+ rule), Django 3.2 %q (want none)", o.Vary, d.Vary)
					}
				} else if o.Vary != d.Vary {
					t.Errorf("%s: Vary %q, Django %q", sc, o.Vary, d.Vary)
				}
			}
			t.Logf("set: %s | delete: %s", ours["set"].SetCookie, ours["delete"].SetCookie)
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
