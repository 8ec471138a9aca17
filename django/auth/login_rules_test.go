package auth_test

import (
	"encoding/json"
	"testing"

	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

// TestLoginDropsSessionCSRFToken: login() rotates the CSRF token (spec
// §4.3 step 5); under CSRF_USE_SESSIONS the token is the session's
// "_csrftoken", so a login must not carry the pre-login value — neither
// into the cycled session of an anonymous visitor nor into the kept
// session of a user logging in again. The rest of the data stays.
func TestLoginDropsSessionCSRFToken(t *testing.T) {
	s, _ := storetest.Settings()
	u := &auth.User{ID: "1", Password: "pbkdf2_sha256$1$a$a=", IsActive: true}
	cfg := &auth.Config{Settings: s, Users: oneUser(u)}
	sess, st := newSession(t, s, "")
	sess.Set(django.CSRFSessionKey, py.Str("pre-login-token"))
	sess.Set("cart", py.Int(1))
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	if err := auth.Login(t.Context(), sess, u, "", cfg); err != nil {
		t.Fatal(err)
	}
	data, found, err := st.Load(t.Context(), sess.SessionKey())
	if err != nil || !found {
		t.Fatalf("logged-in session not stored: %v", err)
	}
	if data.Has(py.Str(django.CSRFSessionKey)) {
		t.Error("login kept the pre-login CSRF token in the session")
	}
	if !data.Has(py.Str("cart")) {
		t.Error("login must keep the anonymous session's other data")
	}
	// Same user again: the key is kept (no flush, no cycle), the token
	// still goes.
	key := sess.SessionKey()
	sess.Set(django.CSRFSessionKey, py.Str("token-of-the-logged-in-page"))
	if err := auth.Login(t.Context(), sess, u, "", cfg); err != nil {
		t.Fatal(err)
	}
	if sess.SessionKey() != key {
		t.Fatal("logging the same user in again must keep the key")
	}
	data, _, _ = st.Load(t.Context(), key)
	if data.Has(py.Str(django.CSRFSessionKey)) {
		t.Error("a repeated login kept the CSRF token")
	}
	// Logout flushes: nothing is left, the token included.
	if err := auth.Logout(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists(t.Context(), key); ok || !sess.IsEmpty() {
		t.Error("logout must flush the session")
	}
}

// TestLoginWithoutBackendKey: Django's login() looks only at
// _auth_user_id (and the hash), not at _auth_user_backend: the same user
// with the current hash keeps the session, and only a missing or stale
// hash or another id flushes it.
func TestLoginWithoutBackendKey(t *testing.T) {
	s, _ := storetest.Settings()
	u := &auth.User{ID: "7", Password: "pbkdf2_sha256$1$a$a=", IsActive: true}
	cfg := &auth.Config{Settings: s, Users: oneUser(u)}
	h := cfg.CurrentHash(u)
	for _, c := range []struct {
		name string
		kv   []any
		want string // keep, flush
	}{
		{"id and hash, same user", []any{django.AuthUserIDKey, py.Str("7"), django.AuthHashKey, py.Str(h)}, "keep"},
		{"int id and hash, same user", []any{django.AuthUserIDKey, py.Int(7), django.AuthHashKey, py.Str(h)}, "keep"},
		{"id only, same user", []any{django.AuthUserIDKey, py.Str("7")}, "flush"},
		{"id and stale hash", []any{django.AuthUserIDKey, py.Str("7"), django.AuthHashKey, py.Str("00")}, "flush"},
		{"another user's id", []any{django.AuthUserIDKey, py.Str("8"), django.AuthHashKey, py.Str(h)}, "flush"},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := *s
			sc.SessionFilePath = "" // a folder of the subtest's own
			sess, _ := newSession(t, &sc, "")
			sess.Set("cart", py.Int(1))
			for i := 0; i < len(c.kv); i += 2 {
				sess.Set(c.kv[i].(string), c.kv[i+1].(py.Value))
			}
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			if got := loginOutcome(t, sess, u, cfg); got != c.want {
				t.Errorf("login: %s, Django would %s", got, c.want)
			}
		})
	}
}

// loginOutcome logs u in on sess and says what happened to it: "keep"
// (same key), "cycle" (new key, data kept) or "flush" (new key, data
// gone), judged by the "cart" entry every test session carries.
func loginOutcome(t *testing.T, sess *django.Session, u *auth.User, cfg *auth.Config) string {
	t.Helper()
	before := sess.SessionKey()
	if err := auth.Login(t.Context(), sess, u, "", cfg); err != nil {
		t.Fatal(err)
	}
	switch {
	case sess.SessionKey() == before:
		return "keep"
	case sess.Has("cart"):
		return "cycle"
	}
	return "flush"
}

// TestVerifyWithoutBackendKey: a session holding _auth_user_id but no
// _auth_user_backend is anonymous to get_user() and left alone, but its
// stored id is reported (`djsession whoami` prints it).
func TestVerifyWithoutBackendKey(t *testing.T) {
	s, _ := storetest.Settings()
	u := &auth.User{ID: "7", Password: "pbkdf2_sha256$1$a$a=", IsActive: true}
	cfg := &auth.Config{Settings: s, Users: oneUser(u)}
	d := py.NewDict(2)
	d.SetStr(django.AuthUserIDKey, py.Str("7"))
	d.SetStr(django.AuthHashKey, py.Str(cfg.CurrentHash(u)))
	v, err := auth.Verify(t.Context(), d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if !v.HasLogin || v.Login.UserID != "7" || v.Login.HasBackend {
		t.Errorf("stored login: has %v %+v", v.HasLogin, v.Login)
	}
	if v.Authenticated || v.Flush || v.Rotate || v.Rule != auth.RuleNoBackend {
		t.Errorf("verdict: authenticated %v flush %v rule %q", v.Authenticated, v.Flush, v.Rule)
	}
	// GetUser changes nothing either.
	sess, _ := newSession(t, s, "")
	sess.Set(django.AuthUserIDKey, py.Str("7"))
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	key := sess.SessionKey()
	if v, err := auth.GetUser(t.Context(), sess, cfg); err != nil || v.Authenticated || sess.SessionKey() != key || !sess.Has(django.AuthUserIDKey) {
		t.Errorf("GetUser: %v %v, key kept %v", v.Authenticated, err, sess.SessionKey() == key)
	}
	// UpdateSessionAuthHash writes no hash for it: Django's request.user
	// is anonymous there.
	if err := auth.UpdateSessionAuthHash(t.Context(), sess, u, cfg); err != nil {
		t.Fatal(err)
	}
	if h, _ := sess.GetStr(django.AuthHashKey); h != "" {
		t.Error("update_session_auth_hash wrote a hash for a session without a backend")
	}
}

// djangoAuthEnv is a Django 3.2 environment sharing a file-session folder
// with our file store, with a migrated SQLite user table.
func djangoAuthEnv(t *testing.T, secret string) (djangotest.Env, *django.Settings, django.Store) {
	t.Helper()
	djangotest.Require(t)
	dir := t.TempDir()
	env := djangotest.Env{
		"DJANGO_SECRET_KEY": secret,
		"SESSION_ENGINE":    "file",
		"SESSION_FILE_PATH": dir,
		"DATABASE_URL":      "sqlite:///" + dir + "/users.sqlite3",
	}
	djangotest.MustBatch(t, env, djangotest.Op{Name: "migrate"})
	s := django.DefaultSettings(secret)
	s.SessionFilePath = dir
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return env, s, st
}

// djangoAlice creates the user alice in Django and returns her as our
// auth.User, with a Config whose only user she is.
func djangoAlice(t *testing.T, env djangotest.Env, s *django.Settings) (*auth.User, *auth.Config) {
	t.Helper()
	alice := djangotest.MustDecode[struct {
		UserID       string `json:"user_id"`
		PasswordHash string `json:"password_hash"`
	}](t, djangotest.Run(t, env, "create_user", map[string]any{"username": "alice", "password": "pw"}))
	u := &auth.User{ID: alice.UserID, Password: alice.PasswordHash, IsActive: true}
	return u, &auth.Config{Settings: s, Users: oneUser(u)}
}

// TestLoginAndGetUserAsDjango: for sessions with and without
// _auth_user_backend (and the other shapes a session can have at login),
// Django 3.2's login() and ours do the same thing — keep, cycle or flush —
// and our Verify gives Django's get_user() verdict and its flush.
func TestLoginAndGetUserAsDjango(t *testing.T) {
	const secret = "django-insecure-login-rules-0123456789"
	env, s, st := djangoAuthEnv(t, secret)
	u, cfg := djangoAlice(t, env, s)
	h := cfg.CurrentHash(u)
	var intID any = json.Number(u.ID)
	cases := []struct {
		name string
		data map[string]any
	}{
		{"id and hash, no backend", map[string]any{django.AuthUserIDKey: u.ID, django.AuthHashKey: h}},
		{"int id and hash, no backend", map[string]any{django.AuthUserIDKey: intID, django.AuthHashKey: h}},
		{"id only", map[string]any{django.AuthUserIDKey: u.ID}},
		{"id and backend, no hash", map[string]any{django.AuthUserIDKey: u.ID, django.AuthBackendKey: auth.ModelBackend}},
		{"another id and hash, no backend", map[string]any{django.AuthUserIDKey: "999", django.AuthHashKey: h}},
		{"full login", map[string]any{django.AuthUserIDKey: u.ID, django.AuthBackendKey: auth.ModelBackend, django.AuthHashKey: h}},
		{"stale hash", map[string]any{django.AuthUserIDKey: u.ID, django.AuthBackendKey: auth.ModelBackend, django.AuthHashKey: "00"}},
		{"anonymous", map[string]any{}},
	}
	// Three copies of each session: one for Django's get_user, one for
	// Django's login, one for ours.
	var writes []djangotest.Op
	for _, c := range cases {
		data := map[string]any{"cart": 1}
		for k, v := range c.data {
			data[k] = v
		}
		for range 3 {
			writes = append(writes, djangotest.Op{Name: "write", Params: map[string]any{"data": data}})
		}
	}
	var keys []string
	for _, r := range djangotest.MustBatch(t, env, writes...) {
		keys = append(keys, djangotest.MustDecode[struct {
			SessionKey string `json:"session_key"`
		}](t, r).SessionKey)
	}
	var ops []djangotest.Op
	for i := range cases {
		ops = append(ops,
			djangotest.Op{Name: "get_user", Params: map[string]any{"session_key": keys[3*i]}},
			djangotest.Op{Name: "login", Params: map[string]any{"username": "alice", "password": "pw", "session_key": keys[3*i+1]}})
	}
	res := djangotest.MustBatch(t, env, ops...)
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			gu := djangotest.MustDecode[struct {
				Authenticated   bool    `json:"authenticated"`
				SessionKeyAfter *string `json:"session_key_after"`
			}](t, res[2*i])
			lg := djangotest.MustDecode[struct {
				SessionKey string         `json:"session_key"`
				Data       map[string]any `json:"data"`
			}](t, res[2*i+1])
			djangoLogin := "flush"
			if lg.SessionKey == keys[3*i+1] {
				djangoLogin = "keep"
			} else if _, ok := lg.Data["cart"]; ok {
				djangoLogin = "cycle"
			}
			djangoFlushed := gu.SessionKeyAfter == nil

			mine := keys[3*i+2]
			d, found, err := st.Load(t.Context(), mine)
			if err != nil || !found {
				t.Fatalf("Django's session not found: %v", err)
			}
			v, err := auth.Verify(t.Context(), d, cfg)
			if err != nil {
				t.Fatal(err)
			}
			if v.Authenticated != gu.Authenticated || v.Flush != djangoFlushed {
				t.Errorf("get_user: authenticated %v flush %v (%s); Django %v flush %v", v.Authenticated, v.Flush, v.Reason(), gu.Authenticated, djangoFlushed)
			}
			if _, hasID := c.data[django.AuthUserIDKey]; hasID && (!v.HasLogin || v.Login.UserID == "") {
				t.Errorf("the stored user id is not reported: %+v", v.Login)
			}
			sess := django.NewSession(t.Context(), st, s, mine)
			if got := loginOutcome(t, sess, u, cfg); got != djangoLogin {
				t.Errorf("login: we %s, Django %s", got, djangoLogin)
			}
			t.Logf("get_user authenticated=%v flushed=%v; login %s", gu.Authenticated, djangoFlushed, djangoLogin)
		})
	}
}

// csrfSteps runs requests through Django 3.2's SessionMiddleware,
// AuthenticationMiddleware and CsrfViewMiddleware with CSRF_USE_SESSIONS
// on, over the shared file sessions. A GET answers the token get_token()
// gives (what {% csrf_token %} renders); a POST sends the given token as
// csrfmiddlewaretoken. Each step reports the status, the body, the
// session key after it and the stored session.
const csrfSteps = `
import json
from django.test import RequestFactory, override_settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.http import HttpResponse

def view(request):
    return HttpResponse(json.dumps({
        "token": get_token(request) if request.method == "GET" else None,
        "user_id": str(request.user.pk) if request.user.is_authenticated else None,
    }))

def inner(request):
    csrf = CsrfViewMiddleware(view)
    response = csrf.process_request(request)
    if response is None:
        response = csrf.process_view(request, view, (), {})
    if response is None:
        response = view(request)
    return csrf.process_response(request, response)

handler = SessionMiddleware(AuthenticationMiddleware(inner))
rf = RequestFactory()
out = []
with override_settings(CSRF_USE_SESSIONS=True):
    for step in input["steps"]:
        kw = {}
        if step.get("session_key"):
            kw["HTTP_COOKIE"] = "sessionid=" + step["session_key"]
        if step["method"] == "GET":
            request = rf.get("/", **kw)
        else:
            request = rf.post("/", {"csrfmiddlewaretoken": step["token"]}, **kw)
        response = handler(request)
        cookie = response.cookies.get("sessionid")
        key = step.get("session_key")
        if cookie is not None and cookie.value:
            key = cookie.value
        out.append({
            "status": response.status_code,
            "body": json.loads(response.content) if response.status_code == 200 else None,
            "session_key": key,
            "session": dict(session_store(key).load()) if key else None,
        })
result = out
`

type csrfStep struct {
	Status int `json:"status"`
	Body   struct {
		Token  string  `json:"token"`
		UserID *string `json:"user_id"`
	} `json:"body"`
	SessionKey string         `json:"session_key"`
	Session    map[string]any `json:"session"`
}

func runCSRFSteps(t *testing.T, env djangotest.Env, steps ...map[string]any) []csrfStep {
	t.Helper()
	raw := djangotest.Snippet(t, env, csrfSteps, map[string]any{"steps": steps})
	var out []csrfStep
	if err := json.Unmarshal(raw, &out); err != nil || len(out) != len(steps) {
		t.Fatalf("%v: %s", err, raw)
	}
	return out
}

// TestLoginRotatesCSRFTokenWithDjango: with CSRF_USE_SESSIONS=True, a
// visitor gets a CSRF token from Django, logs in through us, and comes back
// to Django: the pre-login token is refused, a new page renders a new
// token, and a POST with it passes — Django's own rotate_token() outcome.
func TestLoginRotatesCSRFTokenWithDjango(t *testing.T) {
	const secret = "django-insecure-csrf-rotation-0123456789"
	env, s, st := djangoAuthEnv(t, secret)
	u, cfg := djangoAlice(t, env, s)

	// Anonymous: Django renders a form and the token works.
	before := runCSRFSteps(t, env, map[string]any{"method": "GET"})[0]
	oldToken, anonKey := before.Body.Token, before.SessionKey
	stored, _ := before.Session[django.CSRFSessionKey].(string)
	if before.Status != 200 || oldToken == "" || anonKey == "" || stored == "" {
		t.Fatalf("Django's anonymous page: %+v", before)
	}
	if r := runCSRFSteps(t, env, map[string]any{"method": "POST", "session_key": anonKey, "token": oldToken})[0]; r.Status != 200 {
		t.Fatalf("the anonymous token is refused before login: %d", r.Status)
	}

	// We log the visitor in.
	sess := django.NewSession(t.Context(), st, s, anonKey)
	if err := auth.Login(t.Context(), sess, u, "", cfg); err != nil {
		t.Fatal(err)
	}
	key := sess.SessionKey()
	d, found, err := st.Load(t.Context(), key)
	if err != nil || !found {
		t.Fatalf("logged-in session: %v", err)
	}
	if d.Has(py.Str(django.CSRFSessionKey)) {
		t.Error("the session logged in by Go still carries the pre-login CSRF token")
	}

	// Back to Django.
	after := runCSRFSteps(t, env,
		map[string]any{"method": "POST", "session_key": key, "token": oldToken},
		map[string]any{"method": "GET", "session_key": key},
	)
	if after[0].Status != 403 {
		t.Errorf("POST with the pre-login token after login: status %d, want 403", after[0].Status)
	}
	page := after[1]
	newStored, _ := page.Session[django.CSRFSessionKey].(string)
	if page.Status != 200 || page.Body.UserID == nil || *page.Body.UserID != u.ID {
		t.Fatalf("Django does not see the Go login: %+v", page)
	}
	if page.Body.Token == "" || newStored == "" || newStored == stored || page.SessionKey != key {
		t.Fatalf("Django did not issue a new token in the same session: %+v", page)
	}
	post := runCSRFSteps(t, env, map[string]any{"method": "POST", "session_key": key, "token": page.Body.Token})[0]
	if post.Status != 200 || post.Body.UserID == nil || *post.Body.UserID != u.ID {
		t.Errorf("POST with the new token: status %d, user %v", post.Status, post.Body.UserID)
	}
}
