package cache

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
)

// fileInterop is one cache folder shared by Django's FileBasedCache and
// our FileClient.
type fileInterop struct {
	dir    string
	caches map[string]any // Django's CACHES
	env    djangotest.Env // djs.py's settings: cache sessions in dir, users in SQLite
	s      *django.Settings
	st     *Store
}

func newFileInterop(t *testing.T) *fileInterop {
	t.Helper()
	djangotest.Require(t)
	const secret = "django-insecure-filecache-interop-0123456789"
	root := t.TempDir()
	dir := filepath.Join(root, "cache")
	caches := map[string]any{"default": map[string]any{
		"BACKEND":  "django.core.cache.backends.filebased.FileBasedCache",
		"LOCATION": dir,
	}}
	cachesJSON, _ := json.Marshal(caches)
	s := django.DefaultSettings(secret)
	st := fileInteropStore(t, dir, s, s.Now)
	return &fileInterop{
		dir:    dir,
		caches: caches,
		env: djangotest.Env{
			"DJANGO_SECRET_KEY": secret,
			"SESSION_ENGINE":    "cache",
			"DJS_CACHES":        string(cachesJSON),
			"DATABASE_URL":      "sqlite:///" + filepath.Join(root, "users.sqlite3"),
		},
		s:  s,
		st: st,
	}
}

// fileInteropStore is a Store on dir whose client runs on now.
func fileInteropStore(t *testing.T, dir string, s *django.Settings, now func() time.Time) *Store {
	t.Helper()
	c, err := NewFileClient(dir, FileOptions{Now: now})
	if err != nil {
		t.Fatal(err)
	}
	st, err := New(c, s, WithFormat(codec.DjangoPickle{}))
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// file returns the bytes of the session's file and the length of its
// expiry pickle, with the expiry.
func (fi *fileInterop) file(t *testing.T, key string) ([]byte, int, py.Value) {
	t.Helper()
	b, err := os.ReadFile(fi.st.Client().(*FileClient).Path(fi.st.CacheKey(key)))
	if err != nil {
		t.Fatalf("file of %s: %v", key, err)
	}
	exp, n, err := pickle.LoadPrefix(b, pickle.Limits{})
	if err != nil {
		t.Fatalf("expiry of %s: %v", key, err)
	}
	return b, n, exp
}

func (fi *fileInterop) exists(t *testing.T, key string) bool {
	t.Helper()
	ok, err := fi.st.Exists(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return ok
}

// TestFileInteropData: sessions of every pickled type go both ways
// through one FileBasedCache folder, and the pickle+zlib part of a file we
// write is byte-identical to Django's for the same dict, after an expiry
// pickle of the same form (a float, time.time() + 3600).
func TestFileInteropData(t *testing.T) {
	fi := newFileInterop(t)
	ctx := testCtx(t)
	before := float64(time.Now().Unix())
	ours := saveInteropSessions(ctx, t, fi.st, fi.s, "filecache", true)
	out := djangoReadWrite(t, fi.caches, interopEval, map[string]any{
		"read":  map[string][]string{"default": ours},
		"write": map[string][]json.RawMessage{"default": {interopInput(false), interopInput(true)}},
	})
	after := float64(time.Now().Unix() + 1)
	if len(out.Read["default"]) != len(ours) {
		t.Fatalf("Django read %d of our %d sessions", len(out.Read["default"]), len(ours))
	}
	for i, got := range out.Read["default"] {
		want, err := py.NormalJSON(py.DictOf(interopData(t, i == 1)))
		if err != nil {
			t.Fatal(err)
		}
		if !sameJSON(t, got, want) {
			t.Errorf("Django read our session %d as\n %s\nwant\n %s", i, got, want)
		}
	}
	theirs := out.Written["default"]
	if len(theirs) != 2 {
		t.Fatalf("Django wrote %v", theirs)
	}
	for i, key := range theirs {
		d, found, err := fi.st.Load(ctx, key)
		if err != nil || !found {
			t.Fatalf("Load(Django's session %d): %v %v", i, found, err)
		}
		got, _ := py.NormalJSON(py.DictOf(d))
		want, _ := py.NormalJSON(py.DictOf(interopData(t, i == 1)))
		if !sameJSON(t, got, want) {
			t.Errorf("we read Django's session %d as\n %s\nwant\n %s", i, got, want)
		}
		ourFile, ourN, ourExp := fi.file(t, ours[i])
		theirFile, theirN, theirExp := fi.file(t, key)
		if !bytes.Equal(ourFile[ourN:], theirFile[theirN:]) {
			t.Errorf("session %d: value part\n %x\nDjango's\n %x", i, ourFile[ourN:], theirFile[theirN:])
		}
		// _session_expiry 3600: both expire at time.time() + 3600, a
		// framed float pickle of the same length.
		for who, exp := range map[string]py.Value{"ours": ourExp, "Django's": theirExp} {
			f, ok := exp.Float()
			if !ok || f < before+3600 || f > after+3600 {
				t.Errorf("session %d: %s expiry %s, want a float in [%v, %v]", i, who, exp.Repr(), before+3600, after+3600)
			}
		}
		if ourN != theirN || !bytes.Equal(ourFile[:3], theirFile[:3]) {
			t.Errorf("session %d: expiry pickle %x, Django's %x", i, ourFile[:ourN], theirFile[:theirN])
		}
	}
}

// TestFileInteropSessions: Django's writes (plain, unicode, a login by
// django.contrib.auth.login) read as Django wrote them; our plain save of
// Django's login keeps it logged in for Django; exists and delete agree
// both ways; an expired file is expired (and deleted) on both sides.
func TestFileInteropSessions(t *testing.T) {
	fi := newFileInterop(t)
	ctx := testCtx(t)
	// Ours: a live session, one to be deleted by Django, one written by a
	// clock two hours behind, which expired an hour ago.
	live := saveInteropSessions(ctx, t, fi.st, fi.s, "live", false)[0]
	doomed := saveInteropSessions(ctx, t, fi.st, fi.s, "doomed", false)[0]
	past := fileInteropStore(t, fi.dir, fi.s, func() time.Time { return time.Now().Add(-2 * time.Hour) })
	stale := saveInteropSessions(ctx, t, past, fi.s, "stale", false)[0]
	if !fi.exists(t, live) || fi.exists(t, stale) {
		t.Fatalf("before Django: live %v, stale %v", fi.exists(t, live), fi.exists(t, stale))
	}
	// Exists deleted the stale file; write it again for Django.
	stale = saveInteropSessions(ctx, t, past, fi.s, "stale", false)[0]
	staleFile := fi.st.Client().(*FileClient).Path(fi.st.CacheKey(stale))

	op := func(name string, params map[string]any) djangotest.Op {
		return djangotest.Op{Name: name, Params: params}
	}
	key := func(k string) map[string]any { return map[string]any{"session_key": k} }
	res := djangotest.MustBatch(t, fi.env,
		op("migrate", nil),
		op("write", map[string]any{"data": map[string]any{"a": 1, "ü": "ключ 🎉", "l": []any{1, "x", nil}}}),
		op("write", map[string]any{"data": map[string]any{"n": 2}, "set_expiry": 300}),
		op("login", map[string]any{"username": "alice", "password": "pw", "data": map[string]any{"cart": []any{1, 2}}}),
		op("exists", key(stale)),
		op("read", key(stale)),
		op("exists", key(live)),
		op("read", key(live)),
		op("delete", key(doomed)),
	)
	type written struct {
		SessionKey string          `json:"session_key"`
		Data       json.RawMessage `json:"data"`
	}
	type read struct {
		Data     json.RawMessage `json:"data"`
		Survived bool            `json:"survived"`
		Exists   bool            `json:"exists"`
	}
	var keys []string
	for i, r := range res[1:4] {
		w := djangotest.MustDecode[written](t, r)
		d, found, err := fi.st.Load(ctx, w.SessionKey)
		if err != nil || !found {
			t.Fatalf("Django's session %d: found %v, %v", i, found, err)
		}
		got, _ := py.NormalJSON(py.DictOf(d))
		if !sameJSON(t, got, w.Data) {
			t.Errorf("Django's session %d: we read\n %s\nDjango wrote\n %s", i, got, w.Data)
		}
		keys = append(keys, w.SessionKey)
	}
	if djangotest.MustDecode[struct{ Exists bool }](t, res[4]).Exists {
		t.Error("Django: our expired session exists")
	}
	if r := djangotest.MustDecode[read](t, res[5]); r.Survived || string(r.Data) != "{}" {
		t.Errorf("Django read our expired session: %+v", r)
	}
	if fileExists(staleFile) {
		t.Error("Django left our expired file")
	}
	if !djangotest.MustDecode[struct{ Exists bool }](t, res[6]).Exists {
		t.Error("Django: our live session does not exist")
	}
	if r := djangotest.MustDecode[read](t, res[7]); !r.Survived || !r.Exists {
		t.Errorf("Django read our live session: %+v", r)
	} else if want, _ := py.NormalJSON(py.DictOf(interopData(t, false))); !sameJSON(t, r.Data, want) {
		t.Errorf("Django read our live session as\n %s\nwant\n %s", r.Data, want)
	}
	if fi.exists(t, doomed) {
		t.Error("a session Django deleted exists")
	}
	if _, found, err := fi.st.Load(ctx, doomed); found || err != nil {
		t.Errorf("a session Django deleted: found %v, %v", found, err)
	}

	// Our plain save of Django's login, our delete of Django's first
	// session, and Django's second seen two weeks on: expired, deleted.
	login := django.NewSession(ctx, fi.st, fi.s, keys[2])
	login.Set("from_go", py.Str("✓"))
	if err := login.Save(false); err != nil {
		t.Fatal(err)
	}
	if err := fi.st.Delete(ctx, keys[0]); err != nil {
		t.Fatal(err)
	}
	later := fileInteropStore(t, fi.dir, fi.s, func() time.Time { return time.Now().Add(15 * 24 * time.Hour) })
	if !fi.exists(t, keys[1]) {
		t.Fatal("Django's second session is not live now")
	}
	if _, found, err := later.Load(ctx, keys[1]); found || err != nil {
		t.Fatalf("Django's session, two weeks on: found %v, %v", found, err)
	}
	if fi.exists(t, keys[1]) {
		t.Error("the expired file of Django's session was kept")
	}
	res = djangotest.MustBatch(t, fi.env,
		op("get_user", key(keys[2])),
		op("read", key(keys[2])),
		op("exists", key(keys[0])),
		op("exists", key(keys[1])),
	)
	u := djangotest.MustDecode[struct {
		Username      string `json:"username"`
		Authenticated bool   `json:"authenticated"`
	}](t, res[0])
	if !u.Authenticated || u.Username != "alice" {
		t.Errorf("Django's get_user after our save: %+v", u)
	}
	r := djangotest.MustDecode[read](t, res[1])
	var data map[string]any
	if err := json.Unmarshal(r.Data, &data); err != nil || data["from_go"] != "✓" || data["_auth_user_id"] == nil {
		t.Errorf("Django read the login we saved as %s (%v)", r.Data, err)
	}
	for i, r := range res[2:] {
		if djangotest.MustDecode[struct{ Exists bool }](t, r).Exists {
			t.Errorf("Django: session %d we deleted exists", i)
		}
	}
}
