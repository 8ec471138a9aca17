package auth_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"testing"

	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/djangotest/vectors"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
)

func secretOf(t *testing.T, c *vectors.Case) string {
	if b := vectors.Str(c.Settings, "SECRET_KEY_bytes_b64"); b != "" {
		raw, err := base64.StdEncoding.DecodeString(b)
		if err != nil {
			t.Fatal(err)
		}
		return string(raw)
	}
	return vectors.Str(c.Settings, "SECRET_KEY")
}

// TestAuthHashVectors: every auth_hash case of Django 3.2, 5.2 and 6.0 —
// the current hash, 3.2's legacy SHA-1 hash and 4.1.8+'s fallback hashes.
func TestAuthHashVectors(t *testing.T) {
	counts := map[string]int{}
	for _, c := range vectors.Load(t, "auth_hash") {
		t.Run(c.Name(), func(t *testing.T) {
			pw := vectors.Str(c.Input, "password_hash")
			secret := secretOf(t, c)
			alg := vectors.Str(c.Expected, "algorithm")
			if got, want := auth.SessionAuthHash(pw, secret, alg), vectors.Str(c.Expected, "session_auth_hash"); got != want {
				t.Errorf("hash %s, Django %s", got, want)
			}
			if want := vectors.Str(c.Expected, "legacy_sha1_hash"); want != "" {
				if got := auth.SessionAuthHash(pw, secret, "sha1"); got != want {
					t.Errorf("legacy hash %s, Django %s", got, want)
				}
			}
			if fb, ok := vectors.Get(c.Expected, "fallback_hashes"); ok {
				keys, _ := vectors.Get(c.Settings, "SECRET_KEY_FALLBACKS")
				for i, h := range fb.Items() {
					k, _ := keys.Items()[i].Str()
					want, _ := h.Str()
					if got := auth.SessionAuthHash(pw, k, "sha256"); got != want {
						t.Errorf("fallback %d: %s, Django %s", i, got, want)
					}
				}
			}
			counts[c.File.Version]++
		})
	}
	t.Logf("auth_hash cases per Django version: %v", counts)
	for _, v := range []string{"3.2", "5.2", "6.0"} {
		if counts[v] == 0 {
			t.Errorf("no auth_hash case for Django %s", v)
		}
	}
}

// oneUser is a loader holding a single user.
func oneUser(u *auth.User) auth.UserLoader {
	return auth.UserLoaderFunc(func(_ context.Context, id string) (*auth.User, error) {
		if u != nil && id == u.ID {
			c := *u
			return &c, nil
		}
		return nil, auth.ErrNoUser
	})
}

// TestGetUserVectors: Django 3.2's own get_user() verdicts on sessions
// (current hash, legacy SHA-1 hash, wrong hash, empty hash, unknown
// backend) and whether it kept the session.
func TestGetUserVectors(t *testing.T) {
	n := 0
	for _, c := range vectors.Load(t, "session_data") {
		if vectors.Str(c.Input, "method") != "get_user" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			s := django.DefaultSettings(secretOf(t, c))
			s.LegacySHA1 = c.File.Version == "3.2"
			user := vectors.Dict(c.Input, "user")
			u := &auth.User{ID: strconv.FormatInt(vectors.Int(user, "id"), 10), Password: vectors.Str(user, "password_hash"), IsActive: true}
			cfg := &auth.Config{Settings: s, Users: oneUser(u)}
			v, err := auth.Verify(t.Context(), vectors.Dict(c.Input, "session_dict"), cfg)
			if err != nil {
				t.Fatal(err)
			}
			gu := vectors.Dict(c.Expected, "get_user")
			wantAuth, _ := vectors.Get(gu, "authenticated")
			if b, _ := wantAuth.Bool(); b != v.Authenticated {
				t.Fatalf("authenticated %v, Django %v (%s)", v.Authenticated, b, v.Reason())
			}
			kept, _ := vectors.Get(c.Expected, "session_kept")
			if b, _ := kept.Bool(); b == v.Flush {
				t.Errorf("flush %v, Django kept the session: %v", v.Flush, b)
			}
			n++
		})
	}
	if n == 0 {
		t.Fatal("no get_user case found")
	}
}

// TestLoginVectors: a session Django 3.2's login() wrote is verified by
// us, and our hash for that user equals the one Django wrote.
func TestLoginVectors(t *testing.T) {
	n := 0
	for _, c := range vectors.Load(t, "session_data") {
		if vectors.Str(c.Input, "method") != "login" {
			continue
		}
		t.Run(c.Name(), func(t *testing.T) {
			s := django.DefaultSettings(secretOf(t, c))
			s.LegacySHA1 = true
			if vectors.Str(c.Settings, "DEFAULT_HASHING_ALGORITHM") == "sha1" {
				s.WriteLegacyFormat = true
			}
			user := vectors.Dict(c.Input, "user")
			u := &auth.User{ID: strconv.FormatInt(vectors.Int(user, "id"), 10), Password: vectors.Str(user, "password_hash"), IsActive: true}
			cfg := &auth.Config{Settings: s, Users: oneUser(u)}
			if got, want := cfg.CurrentHash(u), vectors.Str(c.Expected, "session_auth_hash"); got != want {
				t.Errorf("hash %s, Django %s", got, want)
			}
			v, err := auth.Verify(t.Context(), vectors.Dict(c.Expected, "decoded"), cfg)
			if err != nil || !v.Authenticated {
				t.Fatalf("Django's login not verified: %v %s", err, v.Reason())
			}
			n++
		})
	}
	if n == 0 {
		t.Fatal("no login case found")
	}
}

func newSession(t *testing.T, s *django.Settings, key string) (*django.Session, django.Store) {
	t.Helper()
	if s.SessionFilePath == "" {
		s.SessionFilePath = t.TempDir()
	}
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	return django.NewSession(context.Background(), st, s, key), st
}

// TestRefusals: a changed password, an inactive user, a deleted user, a
// wrong backend and a forged hash are each refused, with the reason.
func TestRefusals(t *testing.T) {
	s, _ := storetest.Settings()
	alice := &auth.User{ID: "7", Password: "pbkdf2_sha256$1$salt$abc=", IsActive: true}
	cfg := &auth.Config{Settings: s, Users: oneUser(alice)}
	sess, st := newSession(t, s, "")
	sess.Set("cart", py.Int(3))
	if err := auth.Login(t.Context(), sess, alice, "", cfg); err != nil {
		t.Fatal(err)
	}
	key := sess.SessionKey()
	check := func(name string, cfg *auth.Config, data *py.Dict, want auth.Rule) {
		t.Helper()
		v, err := auth.Verify(t.Context(), data, cfg)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if v.Authenticated || v.Rule != want {
			t.Errorf("%s: authenticated %v rule %q, want refused by %q", name, v.Authenticated, v.Rule, want)
		}
	}
	data, _, _ := st.Load(t.Context(), key)
	if v, _ := auth.Verify(t.Context(), data, cfg); !v.Authenticated || v.Rule != auth.RuleCurrentKey {
		t.Fatalf("fresh login not verified: %s", v.Reason())
	}
	changed := *alice
	changed.Password = "pbkdf2_sha256$1$salt$new="
	check("changed password", &auth.Config{Settings: s, Users: oneUser(&changed)}, data, auth.RuleHashMismatch)
	inactive := *alice
	inactive.IsActive = false
	check("inactive user", &auth.Config{Settings: s, Users: oneUser(&inactive)}, data, auth.RuleInactive)
	check("deleted user", &auth.Config{Settings: s, Users: oneUser(nil)}, data, auth.RuleNoUser)
	check("wrong backend", &auth.Config{Settings: s, Users: oneUser(alice), AuthenticationBackends: []string{"myapp.Other"}}, data, auth.RuleUnknownBackend)
	forged := data.Clone()
	forged.SetStr(django.AuthHashKey, py.Str(auth.SessionAuthHash(alice.Password, "guessed-secret", "sha256")))
	check("forged hash", cfg, forged, auth.RuleHashMismatch)
	sha1 := data.Clone()
	sha1.SetStr(django.AuthHashKey, py.Str(auth.SessionAuthHash(alice.Password, s.SecretKey, "sha1")))
	check("SHA-1 hash without LegacySHA1 (Django 4.0+)", cfg, sha1, auth.RuleHashMismatch)
	s.LegacySHA1 = true
	if v, _ := auth.Verify(t.Context(), sha1, cfg); !v.Authenticated || v.Rule != auth.RuleLegacySHA1 {
		t.Errorf("SHA-1 hash with LegacySHA1: %s", v.Reason())
	}
	s.LegacySHA1 = false
	anon := py.NewDict(0)
	check("anonymous", cfg, anon, auth.RuleAnonymous)
	// GetUser flushes on a mismatch, as Django does.
	bad, _ := newSession(t, s, key)
	if v, err := auth.GetUser(t.Context(), bad, &auth.Config{Settings: s, Users: oneUser(&changed)}); err != nil || v.Authenticated {
		t.Fatalf("GetUser after password change: %v %v", v.Authenticated, err)
	}
	if bad.SessionKey() != "" {
		t.Error("GetUser must flush a session whose hash failed")
	}
	if _, found, _ := st.Load(t.Context(), key); found {
		t.Error("the flushed session's record is still there")
	}
}

// TestFallbackKeyRotates: a session made under an old SECRET_KEY is
// accepted through SECRET_KEY_FALLBACKS, and GetUser cycles the key and
// stores the current hash (Django 4.1.8+).
func TestFallbackKeyRotates(t *testing.T) {
	old, _ := storetest.Settings()
	old.SecretKey = "old-secret"
	u := &auth.User{ID: "1", Password: "md5$s$0123", IsActive: true}
	sess, _ := newSession(t, old, "")
	if err := auth.Login(t.Context(), sess, u, "", &auth.Config{Settings: old, Users: oneUser(u)}); err != nil {
		t.Fatal(err)
	}
	rotated := *old
	rotated.SecretKey = "new-secret"
	rotated.SecretKeyFallbacks = []string{"other", "old-secret"}
	cfg := &auth.Config{Settings: &rotated, Users: oneUser(u)}
	// The session_data itself was signed with the old key, which the
	// codec also accepts through the fallbacks.
	s2, _ := newSession(t, &rotated, sess.SessionKey())
	v, err := auth.GetUser(t.Context(), s2, cfg)
	if err != nil || !v.Authenticated || v.Rule != auth.RuleFallbackKey || v.FallbackIndex != 1 {
		t.Fatalf("fallback: %v %s", err, v.Reason())
	}
	if s2.SessionKey() == sess.SessionKey() {
		t.Error("a fallback match must cycle the key")
	}
	if h, _ := s2.GetStr(django.AuthHashKey); h != auth.SessionAuthHash(u.Password, "new-secret", "sha256") {
		t.Error("the hash must be rewritten with the current key")
	}
}

// TestLoginSemantics: login keeps anonymous data under a new key, keeps
// the key for the same user, flushes for another user; logout flushes;
// update_session_auth_hash keeps the changer logged in.
func TestLoginSemantics(t *testing.T) {
	s, _ := storetest.Settings()
	a := &auth.User{ID: "1", Password: "pbkdf2_sha256$1$a$a=", IsActive: true}
	b := &auth.User{ID: "2", Password: "pbkdf2_sha256$1$b$b=", IsActive: true}
	cfg := &auth.Config{Settings: s, Users: oneUser(a)}
	sess, st := newSession(t, s, "")
	sess.Set("cart", py.Int(1))
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	anonKey := sess.SessionKey()
	if err := auth.Login(t.Context(), sess, a, "", cfg); err != nil {
		t.Fatal(err)
	}
	if sess.SessionKey() == anonKey {
		t.Error("login must cycle the key of an anonymous session")
	}
	if !sess.Has("cart") {
		t.Error("login must keep the anonymous session's data")
	}
	if ok, _ := st.Exists(t.Context(), anonKey); ok {
		t.Error("the pre-login record must be gone")
	}
	keyA := sess.SessionKey()
	if err := auth.Login(t.Context(), sess, a, "", cfg); err != nil {
		t.Fatal(err)
	}
	if sess.SessionKey() != keyA {
		t.Error("logging the same user in again keeps the key")
	}
	if err := auth.Login(t.Context(), sess, b, "", cfg); err != nil {
		t.Fatal(err)
	}
	if sess.Has("cart") || sess.SessionKey() == keyA {
		t.Error("login of another user must flush the session")
	}
	if id, _ := sess.GetStr(django.AuthUserIDKey); id != "2" {
		t.Errorf("user id %q", id)
	}
	keyB := sess.SessionKey()
	b2 := *b
	b2.Password = "pbkdf2_sha256$1$b$changed="
	if err := auth.UpdateSessionAuthHash(t.Context(), sess, &b2, cfg); err != nil {
		t.Fatal(err)
	}
	data, found, _ := st.Load(t.Context(), sess.SessionKey())
	if !found || sess.SessionKey() == keyB {
		t.Fatal("update_session_auth_hash must cycle and save")
	}
	if v, _ := auth.Verify(t.Context(), data, &auth.Config{Settings: s, Users: oneUser(&b2)}); !v.Authenticated {
		t.Errorf("after update_session_auth_hash: %s", v.Reason())
	}
	if err := auth.Logout(t.Context(), sess); err != nil {
		t.Fatal(err)
	}
	if sess.SessionKey() != "" || !sess.IsEmpty() {
		t.Error("logout must flush")
	}
}
