package file

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/django/djangotest/vectors"
	"github.com/djsession/djsession/pickle/py"
)

// interopEnv returns Django's settings for a file backend in a fresh
// folder, and our settings for the same folder and SECRET_KEY.
func interopEnv(t *testing.T) (djangotest.Env, *django.Settings) {
	djangotest.Require(t)
	const secret = "django-insecure-file-interop-0123456789"
	dir := t.TempDir()
	s := django.DefaultSettings(secret)
	s.SessionFilePath = dir
	return djangotest.Env{
		"DJANGO_SECRET_KEY": secret,
		"SESSION_ENGINE":    "django.contrib.sessions.backends.file",
		"SESSION_FILE_PATH": dir,
		"DATABASE_URL":      "sqlite:///" + dir + "/users.sqlite3",
	}, s
}

// TestInteropWithDjango: Django 3.2's file backend writes session files
// (plain, with an int expiry, an ISO expiry, a login) that our store reads,
// and reads the session files our store writes — both into one folder.
func TestInteropWithDjango(t *testing.T) {
	env, s := interopEnv(t)
	djangotest.MustBatch(t, env, djangotest.Op{Name: "migrate"})
	res := djangotest.MustBatch(t, env,
		djangotest.Op{Name: "write", Params: map[string]any{"data": map[string]any{"a": 1, "ü": "ключ 🎉"}}},
		djangotest.Op{Name: "write", Params: map[string]any{"data": map[string]any{"n": []any{1, 2}}, "set_expiry": 300}},
		djangotest.Op{Name: "write", Params: map[string]any{"data": map[string]any{"big": strings.Repeat("x y ", 3000)}}},
		djangotest.Op{Name: "login", Params: map[string]any{"username": "alice", "password": "pw", "data": map[string]any{"cart": 3}}},
	)
	st, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range res {
		var out struct {
			SessionKey string          `json:"session_key"`
			Data       json.RawMessage `json:"data"`
		}
		if err := r.Decode(&out); err != nil {
			t.Fatal(err)
		}
		d, found, err := st.Load(context.Background(), out.SessionKey)
		if err != nil || !found {
			t.Fatalf("session %d written by Django not found: %v", i, err)
		}
		mine, _ := py.NormalJSON(py.DictOf(d))
		if ok, where := vectors.SameJSON(mine, out.Data); !ok {
			t.Errorf("session %d differs at %s", i, where)
		}
	}
	// We write; Django reads.
	var keys []string
	var want [][]byte
	for _, mk := range []func(*django.Session){
		func(x *django.Session) { x.Set("from", py.Str("go ✓")) },
		func(x *django.Session) { x.Set("n", py.Int(7)); x.SetExpirySeconds(600) },
		// No ISO-string expiry here: that is Django 4.1+'s format, which
		// 3.2's get_expiry_age cannot compare (TypeError).
	} {
		sess := django.NewSession(context.Background(), st, s, "")
		mk(sess)
		if err := sess.Save(false); err != nil {
			t.Fatal(err)
		}
		keys = append(keys, sess.SessionKey())
		b, _ := py.NormalJSON(py.DictOf(sess.Data()))
		want = append(want, b)
	}
	var ops []djangotest.Op
	for _, k := range keys {
		ops = append(ops, djangotest.Op{Name: "read", Params: map[string]any{"session_key": k}})
	}
	for i, r := range djangotest.MustBatch(t, env, ops...) {
		var out struct {
			Data     json.RawMessage `json:"data"`
			Survived bool            `json:"survived"`
		}
		if err := r.Decode(&out); err != nil {
			t.Fatal(err)
		}
		if !out.Survived {
			t.Fatalf("Django did not find our session %d", i)
		}
		if ok, where := vectors.SameJSON(out.Data, want[i]); !ok {
			t.Errorf("Django read session %d differently at %s", i, where)
		}
	}
}

// TestInteropCorruptFileKeepsKey: Django's file load() and our Session agree
// on whether the key survives (spec §3.9.4): a file written with another
// SECRET_KEY and an empty file load as {} under the same key; an expired
// file does not keep its key (Django then makes a new one, we drop it).
func TestInteropCorruptFileKeepsKey(t *testing.T) {
	env, s := interopEnv(t)
	dir := s.SessionFilePath
	other := *s
	other.SecretKey = "another-secret-key-for-this-test"
	write := func(settings *django.Settings) string {
		st, err := New(settings)
		if err != nil {
			t.Fatal(err)
		}
		sess := django.NewSession(context.Background(), st, settings, "")
		sess.Set("a", py.Int(1))
		if err := sess.Save(false); err != nil {
			t.Fatal(err)
		}
		return sess.SessionKey()
	}
	empty, _ := django.NewSessionKey()
	if err := os.WriteFile(filepath.Join(dir, "sessionid"+empty), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	expired := write(s)
	old := time.Now().Add(-time.Duration(django.DefaultSessionCookieAge+60) * time.Second)
	if err := os.Chtimes(filepath.Join(dir, "sessionid"+expired), old, old); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, key string
		wantKept  bool
	}{
		{"corrupt", write(&other), true},
		{"empty", empty, true},
		{"expired", expired, false},
	}
	// We load first: Django's load of the expired file deletes it.
	expiredContent, err := os.ReadFile(filepath.Join(dir, "sessionid"+expired))
	if err != nil {
		t.Fatal(err)
	}
	st, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	ours := make([]bool, len(cases))
	var ops []djangotest.Op
	for i, c := range cases {
		sess := django.NewSession(context.Background(), st, s, c.key)
		if n := sess.Data().Len(); n != 0 {
			t.Errorf("%s: we loaded %d items, want {}", c.name, n)
		}
		ours[i] = sess.SessionKey() == c.key
		if c.name == "expired" {
			// Our load deleted it; put it back for Django's.
			if err := os.WriteFile(filepath.Join(dir, "sessionid"+c.key), expiredContent, 0o600); err != nil {
				t.Fatal(err)
			}
			if err := os.Chtimes(filepath.Join(dir, "sessionid"+c.key), old, old); err != nil {
				t.Fatal(err)
			}
		}
		ops = append(ops, djangotest.Op{Name: "read", Params: map[string]any{"session_key": c.key}})
	}
	for i, r := range djangotest.MustBatch(t, env, ops...) {
		var out struct {
			Data     json.RawMessage `json:"data"`
			Survived bool            `json:"survived"`
		}
		if err := r.Decode(&out); err != nil {
			t.Fatal(err)
		}
		c := cases[i]
		if out.Survived != c.wantKept || string(out.Data) != "{}" {
			t.Fatalf("%s: Django kept the key: %v, data %s (the test expects kept=%v, {})", c.name, out.Survived, out.Data, c.wantKept)
		}
		if ours[i] != out.Survived {
			t.Errorf("%s: we kept the key: %v, Django: %v", c.name, ours[i], out.Survived)
		}
	}
}
