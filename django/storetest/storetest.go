// Package storetest is the conformance suite every django.Store runs: the
// behaviour Django's SessionBase expects of a backend (spec §3.3, §3.9),
// checked through django.Session so backends are tested the way callers
// use them.
//
// A backend's test calls Run with a Harness that makes fresh stores.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// Harness describes the store under test.
type Harness struct {
	// New returns a store configured with settings, empty of sessions from
	// other subtests (use t.Cleanup to remove what it made).
	New func(t *testing.T, settings *django.Settings) django.Store

	// RealTimeExpiry says the store expires records by the wall clock (a
	// cache TTL) rather than by settings.Clock; the expiry test then uses
	// a one-second age and waits.
	RealTimeExpiry bool
	// NoClearExpired says ClearExpired is a no-op (the store expires
	// records itself).
	NoClearExpired bool
	// NoList says the store cannot list sessions (ErrNotSupported) and
	// keeps nothing server-side (signed cookies).
	NoList bool
	// KeyIsData says the session key is the signed data itself (signed
	// cookies): it is not a 32-character random key, and cycle_key only
	// re-signs.
	KeyIsData bool
	// MaxAgeExpiry says expiry follows signing's max_age rule (valid while
	// the age is at most SESSION_COOKIE_AGE) instead of expire_date > now.
	MaxAgeExpiry bool
}

// Clock is a settable clock for the suite.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Settings returns the settings the suite uses: Django's defaults, a test
// SECRET_KEY and a clock starting at the current second.
func Settings() (*django.Settings, *Clock) {
	c := &Clock{now: time.Now().Truncate(time.Second)}
	s := django.DefaultSettings("storetest-secret-key-0123456789")
	s.Clock = c.Now
	return s, c
}

// Run runs the whole suite.
func Run(t *testing.T, h Harness) {
	t.Run("CreateLoad", func(t *testing.T) { testCreateLoad(t, h) })
	t.Run("Update", func(t *testing.T) { testUpdate(t, h) })
	t.Run("MissingIsNotFound", func(t *testing.T) { testMissing(t, h) })
	t.Run("SaveConflicts", func(t *testing.T) { testSaveConflicts(t, h) })
	t.Run("ExpiryBoundary", func(t *testing.T) { testExpiry(t, h) })
	t.Run("CycleKey", func(t *testing.T) { testCycleKey(t, h) })
	t.Run("Flush", func(t *testing.T) { testFlush(t, h) })
	t.Run("ConcurrentCreateSameKey", func(t *testing.T) { testConcurrentCreate(t, h) })
	t.Run("ClearExpired", func(t *testing.T) { testClearExpired(t, h) })
	t.Run("List", func(t *testing.T) { testList(t, h) })
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustEqual(t *testing.T, what string, got, want py.Value) {
	t.Helper()
	if !got.Equal(want) {
		t.Fatalf("%s: got %s, want %s", what, got.Repr(), want.Repr())
	}
}

// newSaved makes and saves a session holding the given str keys.
func newSaved(t *testing.T, st django.Store, s *django.Settings, kv ...string) *django.Session {
	t.Helper()
	sess := django.NewSession(ctx(t), st, s, "")
	for i := 0; i+1 < len(kv); i += 2 {
		sess.Set(kv[i], py.Str(kv[i+1]))
	}
	if err := sess.Save(false); err != nil {
		t.Fatalf("save new session: %v", err)
	}
	if !django.IsValidKey(sess.SessionKey()) {
		t.Fatalf("save gave no valid key: %q", sess.SessionKey())
	}
	return sess
}

func testCreateLoad(t *testing.T, h Harness) {
	s, _ := Settings()
	st := h.New(t, s)
	sess := django.NewSession(ctx(t), st, s, "")
	sess.Set("str", py.Str("väl\u2028ue"))
	sess.Set("int", py.Int(42))
	sess.Set("list", py.NewList(py.Int(1), py.Str("two")))
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	key := sess.SessionKey()
	if !h.KeyIsData && (len(key) != django.SessionKeyLength || !django.IsFileSafeKey(key)) {
		t.Fatalf("new key %q is not 32 chars of [a-z0-9]", key)
	}
	if !sess.Modified() {
		t.Error("a created session must be marked modified")
	}
	again := django.NewSession(ctx(t), st, s, key)
	if err := again.Load(); err != nil {
		t.Fatal(err)
	}
	if again.SessionKey() != key {
		t.Fatalf("stored session not found under %q", key)
	}
	v, _ := again.Get("str")
	mustEqual(t, "str", v, py.Str("väl\u2028ue"))
	v, _ = again.Get("int")
	mustEqual(t, "int", v, py.Int(42))
	v, _ = again.Get("list")
	mustEqual(t, "list", v, py.NewList(py.Int(1), py.Str("two")))
	if got := again.Keys(); fmt.Sprint(got) != "[str int list]" {
		t.Errorf("key order: %v", got)
	}
	ok, err := st.Exists(ctx(t), key)
	if err != nil || (!ok && !h.NoList) {
		// Signed cookies (NoList) never exist server side.
		t.Errorf("Exists(%q) = %v, %v", key, ok, err)
	}
}

func testUpdate(t *testing.T, h Harness) {
	s, _ := Settings()
	st := h.New(t, s)
	key := newSaved(t, st, s, "a", "1").SessionKey()
	sess := django.NewSession(ctx(t), st, s, key)
	sess.Set("b", py.Str("2"))
	sess.Delete("a")
	if err := sess.Save(false); err != nil {
		t.Fatal(err)
	}
	again := django.NewSession(ctx(t), st, s, sess.SessionKey())
	if _, ok := again.Get("a"); ok {
		t.Error("deleted key came back")
	}
	if v, _ := again.GetStr("b"); v != "2" {
		t.Errorf("updated value: %q", v)
	}
}

func testMissing(t *testing.T, h Harness) {
	s, _ := Settings()
	st := h.New(t, s)
	key, _ := django.NewSessionKey()
	data, found, err := st.Load(ctx(t), key)
	if err != nil || found || data != nil && data.Len() > 0 {
		t.Fatalf("Load(missing) = %v, %v, %v; want not found, nil", data, found, err)
	}
	sess := django.NewSession(ctx(t), st, s, key)
	if err := sess.Load(); err != nil {
		t.Fatal(err)
	}
	if sess.SessionKey() != "" {
		t.Error("an unknown key must be dropped, not adopted (session fixation)")
	}
	if err := st.Delete(ctx(t), key); err != nil {
		t.Errorf("deleting a missing session: %v", err)
	}
	short := django.NewSession(ctx(t), st, s, "abc")
	if short.SessionKey() != "" {
		t.Error("keys shorter than 8 characters must be dropped")
	}
}

func testSaveConflicts(t *testing.T, h Harness) {
	if h.NoList {
		t.Skip("the store has no server-side records")
	}
	s, _ := Settings()
	st := h.New(t, s)
	key := newSaved(t, st, s, "a", "1").SessionKey()
	d := py.NewDict(1)
	d.SetStr("x", py.Int(1))
	err := st.Save(ctx(t), &django.Record{SessionKey: key, Data: d, ExpireDate: s.Now().Add(time.Hour), ExpiryAge: 3600}, true)
	if !errors.Is(err, django.ErrCreateConflict) {
		t.Errorf("must-create save of an existing key: %v, want ErrCreateConflict", err)
	}
	missing, _ := django.NewSessionKey()
	err = st.Save(ctx(t), &django.Record{SessionKey: missing, Data: d, ExpireDate: s.Now().Add(time.Hour), ExpiryAge: 3600}, false)
	if !errors.Is(err, django.ErrUpdateMissing) {
		t.Errorf("update of a missing key: %v, want ErrUpdateMissing", err)
	}
	// The failed saves changed nothing.
	again := django.NewSession(ctx(t), st, s, key)
	if v, _ := again.GetStr("a"); v != "1" {
		t.Errorf("a failed must-create save overwrote the session: %q", v)
	}
	if _, found, _ := st.Load(ctx(t), missing); found {
		t.Error("a failed update created a record")
	}
}

func testExpiry(t *testing.T, h Harness) {
	s, clock := Settings()
	if h.RealTimeExpiry {
		s.SessionCookieAge = 1
	} else {
		s.SessionCookieAge = 60
	}
	st := h.New(t, s)
	key := newSaved(t, st, s, "a", "1").SessionKey()
	if h.RealTimeExpiry {
		if _, found, err := st.Load(ctx(t), key); err != nil || !found {
			t.Fatalf("fresh session not found: %v", err)
		}
		time.Sleep(2100 * time.Millisecond)
		if _, found, err := st.Load(ctx(t), key); err != nil || found {
			t.Fatalf("session past its age still found (err %v)", err)
		}
		return
	}
	clock.Advance(59 * time.Second)
	if _, found, err := st.Load(ctx(t), key); err != nil || !found {
		t.Fatalf("session 1 s before expiry not found: %v", err)
	}
	clock.Advance(1 * time.Second)
	if h.MaxAgeExpiry {
		// signing: expired only when age > max_age.
		if _, found, err := st.Load(ctx(t), key); err != nil || !found {
			t.Fatalf("session at exactly max_age not found: %v", err)
		}
		clock.Advance(time.Second / 2)
	}
	if _, found, err := st.Load(ctx(t), key); err != nil || found {
		t.Fatalf("session at its expiry date still found (err %v)", err)
	}
}

func testCycleKey(t *testing.T, h Harness) {
	s, _ := Settings()
	st := h.New(t, s)
	sess := newSaved(t, st, s, "keep", "me")
	old := sess.SessionKey()
	if err := sess.CycleKey(); err != nil {
		t.Fatal(err)
	}
	if (sess.SessionKey() == old && !h.KeyIsData) || !django.IsValidKey(sess.SessionKey()) {
		t.Fatalf("cycle_key kept key %q", old)
	}
	if v, _ := sess.GetStr("keep"); v != "me" {
		t.Error("cycle_key lost the data in memory")
	}
	again := django.NewSession(ctx(t), st, s, sess.SessionKey())
	if v, _ := again.GetStr("keep"); v != "me" {
		t.Error("cycle_key did not store the data under the new key")
	}
	if h.NoList {
		return
	}
	if _, found, _ := st.Load(ctx(t), old); found {
		t.Error("cycle_key left the old record")
	}
}

func testFlush(t *testing.T, h Harness) {
	s, _ := Settings()
	st := h.New(t, s)
	sess := newSaved(t, st, s, "user", "1")
	old := sess.SessionKey()
	if err := sess.Flush(); err != nil {
		t.Fatal(err)
	}
	if sess.SessionKey() != "" || !sess.IsEmpty() || !sess.Modified() {
		t.Fatalf("after flush: key %q empty %v modified %v", sess.SessionKey(), sess.IsEmpty(), sess.Modified())
	}
	if _, found, _ := st.Load(ctx(t), old); found && !h.NoList {
		t.Error("flush left the record")
	}
}

func testConcurrentCreate(t *testing.T, h Harness) {
	if h.NoList {
		t.Skip("the store has no server-side records")
	}
	s, _ := Settings()
	st := h.New(t, s)
	key, _ := django.NewSessionKey()
	const n = 8
	var wg sync.WaitGroup
	results := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := py.NewDict(1)
			d.SetStr("writer", py.Int(int64(i)))
			results[i] = st.Save(ctx(t), &django.Record{SessionKey: key, Data: d, ExpireDate: s.Now().Add(time.Hour), ExpiryAge: 3600}, true)
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range results {
		switch {
		case err == nil:
			won++
		case errors.Is(err, django.ErrCreateConflict):
		default:
			t.Errorf("concurrent create: %v", err)
		}
	}
	if won != 1 {
		t.Fatalf("%d concurrent must-create saves of one key succeeded, want exactly 1", won)
	}
}

func testClearExpired(t *testing.T, h Harness) {
	if h.NoClearExpired {
		t.Skip("the store expires records itself")
	}
	s, clock := Settings()
	s.SessionCookieAge = 60
	st := h.New(t, s)
	old := newSaved(t, st, s, "a", "old").SessionKey()
	clock.Advance(30 * time.Second)
	live := newSaved(t, st, s, "a", "live").SessionKey()
	clock.Advance(31 * time.Second)
	if err := st.ClearExpired(ctx(t)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := st.Exists(ctx(t), old); ok {
		t.Error("clear_expired kept an expired session")
	}
	if ok, _ := st.Exists(ctx(t), live); !ok {
		t.Error("clear_expired removed a live session")
	}
}

func testList(t *testing.T, h Harness) {
	s, _ := Settings()
	st := h.New(t, s)
	if h.NoList {
		if err := st.List(ctx(t), func(django.Info) error { return nil }); !errors.Is(err, django.ErrNotSupported) {
			t.Fatalf("List: %v, want ErrNotSupported", err)
		}
		return
	}
	want := map[string]string{}
	for i := range 3 {
		sess := newSaved(t, st, s, "n", fmt.Sprint(i))
		want[sess.SessionKey()] = fmt.Sprint(i)
	}
	got := map[string]string{}
	err := st.List(ctx(t), func(in django.Info) error {
		if in.Data != nil {
			v, _ := in.Data.GetStr("n")
			n, _ := v.Str()
			got[in.SessionKey] = n
		} else {
			got[in.SessionKey] = "<undecodable>"
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range want {
		if got[k] != v {
			keys := make([]string, 0, len(got))
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			t.Fatalf("listing misses %s=%s; listed %v", k, v, keys)
		}
	}
	stop := errors.New("stop")
	calls := 0
	err = st.List(ctx(t), func(django.Info) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Errorf("List must stop at the callback's error: calls %d, err %v", calls, err)
	}
}
