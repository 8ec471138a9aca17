package middleware_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/middleware"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// countingStore counts loads and can fail, around a real file store.
type countingStore struct {
	django.Store
	loads atomic.Int32
	fail  atomic.Bool
}

var errDown = errors.New("store down")

func (c *countingStore) Load(ctx context.Context, key string) (*py.Dict, bool, error) {
	c.loads.Add(1)
	if c.fail.Load() {
		return nil, false, errDown
	}
	return c.Store.Load(ctx, key)
}

func (c *countingStore) Save(ctx context.Context, rec *django.Record, mustCreate bool) error {
	if c.fail.Load() {
		return errDown
	}
	return c.Store.Save(ctx, rec, mustCreate)
}

func setup(t *testing.T) (*django.Settings, *countingStore, *middleware.Sessions) {
	s, _ := storetest.Settings()
	s.SessionFilePath = t.TempDir()
	fs, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	st := &countingStore{Store: fs}
	return s, st, &middleware.Sessions{Store: st, Settings: s}
}

func do(h http.Handler, cookie string) *http.Response {
	req := httptest.NewRequest("GET", "/", nil)
	if cookie != "" {
		req.AddCookie(&http.Cookie{Name: "sessionid", Value: cookie})
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if c.Name == "sessionid" {
			return c
		}
	}
	return nil
}

func TestUntouchedSessionCostsNothing(t *testing.T) {
	_, st, m := setup(t)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "hi") }))
	resp := do(h, "abcdefghijklmnopqrstuvwxyz012345")
	if st.loads.Load() != 0 {
		t.Error("a handler that never looks must not load the session")
	}
	if sessionCookie(resp) != nil || resp.Header.Get("Vary") != "" {
		t.Errorf("untouched session changed the response: %v", resp.Header)
	}
}

func TestSetThenRead(t *testing.T) {
	_, _, m := setup(t)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := middleware.Session(r)
		if r.URL.Query().Get("set") != "" {
			sess.Set("color", py.Str("blue"))
		}
		v, _ := sess.GetStr("color")
		io.WriteString(w, v)
	}))
	req := httptest.NewRequest("GET", "/?set=1", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	resp := rec.Result()
	c := sessionCookie(resp)
	if c == nil || len(c.Value) != 32 || c.MaxAge != 1209600 || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.Expires.IsZero() {
		t.Fatalf("Set-Cookie: %v", resp.Header["Set-Cookie"])
	}
	if resp.Header.Get("Vary") != "Cookie" {
		t.Errorf("Vary: %q", resp.Header.Get("Vary"))
	}
	resp2 := do(h, c.Value)
	body, _ := io.ReadAll(resp2.Body)
	if string(body) != "blue" {
		t.Errorf("second request read %q", body)
	}
	if sessionCookie(resp2) != nil {
		t.Error("an unmodified session must not be re-sent")
	}
	if resp2.Header.Get("Vary") != "Cookie" {
		t.Error("an accessed session adds Vary: Cookie")
	}
}

func TestFlushDeletesCookie(t *testing.T) {
	_, st, m := setup(t)
	set := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { middleware.Session(r).Set("a", py.Int(1)) }))
	key := sessionCookie(do(set, "")).Value
	flush := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { middleware.Session(r).Flush() }))
	resp := do(flush, key)
	c := sessionCookie(resp)
	if c == nil || c.Value != "" || c.MaxAge >= 0 {
		t.Fatalf("cookie not deleted: %v", resp.Header["Set-Cookie"])
	}
	if !strings.Contains(resp.Header.Get("Set-Cookie"), "; expires=Thu, 01 Jan 1970 00:00:00 GMT;") {
		t.Errorf("deletion: %s", resp.Header.Get("Set-Cookie"))
	}
	if resp.Header.Get("Vary") != "Cookie" {
		t.Error("deleting the cookie adds Vary: Cookie (Django 3.0+)")
	}
	if ok, _ := st.Exists(context.Background(), key); ok {
		t.Error("flush left the record")
	}
}

func TestNoSaveOn5xx(t *testing.T) {
	_, _, m := setup(t)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		middleware.Session(r).Set("a", py.Int(1))
		w.WriteHeader(503)
	}))
	resp := do(h, "")
	if resp.StatusCode != 503 || sessionCookie(resp) != nil {
		t.Errorf("a 5xx response must not save the session: %v", resp.Header)
	}
}

func TestBrowserSessionCookieAndSaveEveryRequest(t *testing.T) {
	s, _, m := setup(t)
	s.SessionExpireAtBrowserClose = true
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { middleware.Session(r).Set("a", py.Int(1)) }))
	resp := do(h, "")
	raw := resp.Header.Get("Set-Cookie")
	if raw == "" || strings.Contains(strings.ToLower(raw), "max-age") || strings.Contains(strings.ToLower(raw), "expires") {
		t.Errorf("browser-session cookie carries an age: %s", raw)
	}
	s.SessionExpireAtBrowserClose = false
	s.SessionSaveEveryRequest = true
	key := sessionCookie(resp).Value
	read := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	if c := sessionCookie(do(read, key)); c == nil || c.Value != key {
		t.Error("SESSION_SAVE_EVERY_REQUEST must refresh the cookie")
	}
}

func TestConcurrentDeleteIs400(t *testing.T) {
	_, st, m := setup(t)
	set := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { middleware.Session(r).Set("a", py.Int(1)) }))
	key := sessionCookie(do(set, "")).Value
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := middleware.Session(r)
		sess.Load()
		// Another request logs out meanwhile.
		st.Delete(context.Background(), key)
		sess.Set("b", py.Int(2))
		io.WriteString(w, "body that must not be sent")
	}))
	resp := do(h, key)
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || strings.Contains(string(body), "must not") {
		t.Fatalf("status %d body %q", resp.StatusCode, body)
	}
}

func TestStoreDownIsAnonymousAndUnsaved(t *testing.T) {
	s, st, m := setup(t)
	u := &auth.User{ID: "1", Password: "md5$a$b", IsActive: true}
	a := &middleware.Auth{Config: &auth.Config{Settings: s, Users: auth.UserLoaderFunc(func(context.Context, string) (*auth.User, error) { return u, nil })}}
	login := m.Handler(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := middleware.Login(r, u, ""); err != nil {
			t.Error(err)
		}
	})))
	key := sessionCookie(do(login, "")).Value
	st.fail.Store(true)
	who := m.Handler(a.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if middleware.User(r) != nil {
			t.Error("a session the store could not load must be anonymous")
		}
		middleware.Session(r).Set("x", py.Int(1))
	})))
	resp := do(who, key)
	if resp.StatusCode != 200 || sessionCookie(resp) != nil {
		t.Errorf("status %d cookie %v", resp.StatusCode, sessionCookie(resp))
	}
	st.fail.Store(false)
	if data, found, _ := st.Load(context.Background(), key); !found || data.Has(py.Str("x")) {
		t.Error("the unloadable session was overwritten")
	}
}

func TestAuthFlow(t *testing.T) {
	s, _, m := setup(t)
	users := map[string]*auth.User{"1": {ID: "1", Password: "pbkdf2_sha256$1$a$a=", IsActive: true}}
	loads := 0
	cfg := &auth.Config{Settings: s, Users: auth.UserLoaderFunc(func(_ context.Context, id string) (*auth.User, error) {
		loads++
		if u, ok := users[id]; ok {
			c := *u
			return &c, nil
		}
		return nil, auth.ErrNoUser
	})}
	a := &middleware.Auth{Config: cfg}
	mux := http.NewServeMux()
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := middleware.Login(r, users["1"], ""); err != nil {
			t.Error(err)
		}
	})
	mux.HandleFunc("/logout", func(w http.ResponseWriter, r *http.Request) { middleware.Logout(r) })
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		middleware.User(r)
		if u := middleware.User(r); u != nil {
			io.WriteString(w, u.ID)
		} else {
			io.WriteString(w, "anonymous")
		}
	})
	h := m.Handler(a.Handler(mux))
	get := func(path, cookie string) (*http.Response, string) {
		req := httptest.NewRequest("GET", path, nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "sessionid", Value: cookie})
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Result(), string(b)
	}
	resp, _ := get("/login", "")
	key := sessionCookie(resp).Value
	loads = 0
	if _, body := get("/whoami", key); body != "1" {
		t.Fatalf("whoami after login: %q", body)
	}
	if loads != 1 {
		t.Errorf("the user row was loaded %d times in one request", loads)
	}
	// Password changed elsewhere: anonymous, and the session is flushed.
	users["1"].Password = "pbkdf2_sha256$1$a$changed="
	resp, body := get("/whoami", key)
	if body != "anonymous" {
		t.Fatalf("after a password change: %q", body)
	}
	if c := sessionCookie(resp); c == nil || c.Value != "" {
		t.Error("a session failing its hash check is flushed and its cookie deleted")
	}
	resp, _ = get("/login", "")
	key = sessionCookie(resp).Value
	resp, _ = get("/logout", key)
	if c := sessionCookie(resp); c == nil || c.Value != "" {
		t.Error("logout deletes the cookie")
	}
	if _, body := get("/whoami", key); body != "anonymous" {
		t.Errorf("after logout: %q", body)
	}
}

// TestHandlerSessionCookieReplaced: a cookie of the session cookie's name
// set by the handler is replaced by the middleware's, as Django's
// response.cookies[name] is, and other cookies stay.
func TestHandlerSessionCookieReplaced(t *testing.T) {
	_, _, m := setup(t)
	set := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "theme", Value: "dark"})
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "from-the-handler"})
		w.Header().Add("Set-Cookie", " sessionid =also-the-handler")
		http.SetCookie(w, &http.Cookie{Name: "sessionid2", Value: "kept"})
		middleware.Session(r).Set("a", py.Int(1))
	}))
	resp := do(set, "")
	var names []string
	for _, c := range resp.Cookies() {
		names = append(names, c.Name+"="+c.Value)
	}
	key := sessionCookie(resp)
	if key == nil || len(key.Value) != 32 || len(names) != 3 || names[0] != "theme=dark" || names[1] != "sessionid2=kept" {
		t.Fatalf("cookies: %q", names)
	}
	// Deleting the cookie (an emptied session) replaces it too.
	flush := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "from-the-handler"})
		middleware.Session(r).Flush()
	}))
	resp = do(flush, key.Value)
	if v := resp.Header.Values("Set-Cookie"); len(v) != 1 || !strings.HasPrefix(v[0], `sessionid=""; expires=Thu, 01 Jan 1970`) {
		t.Errorf("Set-Cookie after flush: %q", v)
	}
	// Untouched, the handler's cookie is all there is (Django sends none).
	own := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sessionid", Value: "handler"})
	}))
	if v := do(own, key.Value).Header.Values("Set-Cookie"); len(v) != 1 || v[0] != "sessionid=handler" {
		t.Errorf("untouched session: %q", v)
	}
}

func TestVaryMerges(t *testing.T) {
	_, _, m := setup(t)
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding, cookie")
		middleware.Session(r).Get("a")
	}))
	if v := do(h, "").Header.Values("Vary"); len(v) != 1 || v[0] != "Accept-Encoding, cookie" {
		t.Errorf("Vary: %v", v)
	}
}

func TestCookieParsingAsDjango(t *testing.T) {
	_, _, m := setup(t)
	var seen string
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = middleware.Session(r).SessionKey() }))
	for header, want := range map[string]string{
		`sessionid=abcdefgh12345678`:                             "abcdefgh12345678",
		`a=1; sessionid="abcdefgh12345678" ; b=2`:                "abcdefgh12345678",
		`sessionid=first1234567; other=x; sessionid=second12345`: "second12345", // later wins, as parse_cookie
		`sessionid=short`:                                        "",
		`xsessionid=abcdefgh12345678`:                            "",
		``:                                                       "",
	} {
		req := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			req.Header.Set("Cookie", header)
		}
		h.ServeHTTP(httptest.NewRecorder(), req)
		if seen != want {
			t.Errorf("Cookie %q: session key %q, want %q", header, seen, want)
		}
	}
}

// TestCorruptSessionKeepsCookieAndLogs: a session file that fails
// verification loads empty under the same key, as Django's file backend
// loads it: the cookie is left alone (Django sends no Set-Cookie here) and
// the middleware logs what Django logs to django.security.SuspiciousSession,
// without the key or the data.
func TestCorruptSessionKeepsCookieAndLogs(t *testing.T) {
	s, _ := storetest.Settings()
	s.SessionFilePath = t.TempDir()
	fs, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := django.NewSessionKey()
	const planted = "eyJhIjoxfQ:1r31eq:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	if err := os.WriteFile(filepath.Join(s.SessionFilePath, "sessionid"+key), []byte(planted), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m := &middleware.Sessions{Store: fs, Settings: s, Logger: slog.New(slog.NewTextHandler(&logs, nil))}
	var gotKey string
	var n int
	h := m.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sess := middleware.Session(r)
		n = sess.Data().Len()
		gotKey = sess.SessionKey()
	}))
	resp := do(h, key)
	if n != 0 || gotKey != key {
		t.Fatalf("handler saw %d items under key %q, want 0 under the cookie's key", n, gotKey)
	}
	if c := resp.Header.Values("Set-Cookie"); len(c) != 0 {
		t.Errorf("Set-Cookie %q; Django leaves the cookie alone", c)
	}
	if got := resp.Header.Get("Vary"); got != "Cookie" {
		t.Errorf("Vary %q, want Cookie", got)
	}
	line := logs.String()
	if !strings.Contains(line, "level=WARN") || !strings.Contains(line, "session data corrupted") ||
		!strings.Contains(line, "django.security.SuspiciousSession") {
		t.Errorf("log %q", line)
	}
	if strings.Contains(line, key) || strings.Contains(line, planted[:10]) {
		t.Errorf("the log carries the key or the data: %q", line)
	}
}
