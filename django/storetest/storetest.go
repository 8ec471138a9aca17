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
	"math/rand/v2"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
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
	// a two-second age and waits.
	RealTimeExpiry bool
	// NoClearExpired says ClearExpired is a no-op (the store expires
	// records itself).
	NoClearExpired bool
	// NoList says the store cannot list sessions (ErrNotSupported):
	// memcached, signed cookies.
	NoList bool
	// KeyIsData says the session key is the signed data itself (signed
	// cookies): it is not a 32-character random key, nothing is kept
	// server-side (no conflicts, no deletion), and cycle_key only re-signs.
	KeyIsData bool
	// MaxAgeExpiry says a session is still valid at exactly its expiry
	// instant and gone after it: signing's max_age rule (valid while the
	// age is at most SESSION_COOKIE_AGE), and the "expires < now is
	// expired" test of Django's FileBasedCache and DatabaseCache get,
	// instead of expire_date > now.
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
	t.Run("ConcurrentUse", func(t *testing.T) { testConcurrentUse(t, h) })
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
	if err != nil || (!ok && !h.KeyIsData) {
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
	wantState(t, st, key, django.LoadMissing)
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
	if h.KeyIsData {
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
		// Two seconds, so a loaded machine still reads the fresh session
		// back before it expires.
		s.SessionCookieAge = 2
	} else {
		s.SessionCookieAge = 60
	}
	st := h.New(t, s)
	key := newSaved(t, st, s, "a", "1").SessionKey()
	if h.RealTimeExpiry {
		if _, found, err := st.Load(ctx(t), key); err != nil || !found {
			t.Fatalf("fresh session not found: %v", err)
		}
		time.Sleep(3100 * time.Millisecond)
		if _, found, err := st.Load(ctx(t), key); err != nil || found {
			t.Fatalf("session past its age still found (err %v)", err)
		}
		return
	}
	clock.Advance(59 * time.Second)
	if _, found, err := st.Load(ctx(t), key); err != nil || !found {
		t.Fatalf("session 1 s before expiry not found: %v", err)
	}
	wantState(t, st, key, django.LoadFound)
	clock.Advance(1 * time.Second)
	if h.MaxAgeExpiry {
		// Expired only after the expiry instant (age > max_age).
		if _, found, err := st.Load(ctx(t), key); err != nil || !found {
			t.Fatalf("session at exactly max_age not found: %v", err)
		}
		clock.Advance(time.Second / 2)
	}
	if _, found, err := st.Load(ctx(t), key); err != nil || found {
		t.Fatalf("session at its expiry date still found (err %v)", err)
	}
	wantState(t, st, key, django.LoadMissing)
}

// wantState checks, for a store that is a django.StateLoader, that
// LoadState agrees with Load: an expired or missing session is
// LoadMissing (never LoadCorrupt), a live one LoadFound with data.
func wantState(t *testing.T, st django.Store, key string, want django.LoadState) {
	t.Helper()
	sl, ok := st.(django.StateLoader)
	if !ok {
		return
	}
	d, got, err := sl.LoadState(ctx(t), key)
	if err != nil || got != want || (got == django.LoadFound) != (d != nil) {
		t.Fatalf("LoadState = %v (data %v), %v; want %v", got, d != nil, err, want)
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
	if h.KeyIsData {
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
	if _, found, _ := st.Load(ctx(t), old); found && !h.KeyIsData {
		t.Error("flush left the record")
	}
}

func testConcurrentCreate(t *testing.T, h Harness) {
	if h.KeyIsData {
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

// The bounds of ConcurrentUse: concurrentWorkers goroutines of at most
// opsPerWorker operations each, stopping early once opsBudget has passed
// so a slow store (fsync per write, a loaded CI machine) still finishes in
// about that time; CI runs the suite for ~20 store configurations.
const (
	concurrentWorkers = 16
	opsPerWorker      = 50
	opsBudget         = 700 * time.Millisecond
	// Up to burstRounds rounds of every worker plain-saving one session at
	// once while burstReaders goroutines load it; rounds after the first
	// only while less than burstBudget has passed since the start.
	burstRounds  = 3
	burstBudget  = 1000 * time.Millisecond
	burstReaders = 4
	// blobRepeat makes the contended value a few KiB, so a store that
	// writes it in pieces shows a torn value.
	blobRepeat = 256
	// maxReported caps the failures reported one by one.
	maxReported = 10
)

// owned is a session only one ConcurrentUse worker touches, with what the
// worker last saved in it.
type owned struct {
	key   string
	owner string // unique per session, so signed cookies differ too
	seq   int
}

func (o owned) value() string { return fmt.Sprintf("%s.%d", o.owner, o.seq) }

// fill sets the session to o's data.
func (o owned) fill(sess *django.Session) {
	sess.Set("owner", py.Str(o.owner))
	sess.Set("seq", py.Int(int64(o.seq)))
	sess.Set("v", py.Str(o.value()))
}

// check compares loaded data with o's.
func (o owned) check(d *py.Dict) error {
	owner, _ := d.GetStr("owner")
	seq, _ := d.GetStr("seq")
	v, _ := d.GetStr("v")
	if d.Len() != 3 || !owner.Equal(py.Str(o.owner)) || !seq.Equal(py.Int(int64(o.seq))) || !v.Equal(py.Str(o.value())) {
		return fmt.Errorf("session %.40q holds %s, want owner %q seq %d", o.key, py.DictOf(d).Repr(), o.owner, o.seq)
	}
	return nil
}

// fillShared sets the session to the complete value of writer token tok:
// every field derives from tok, so a mix of two writers is detectable.
func fillShared(sess *django.Session, tok string) {
	sess.Set("writer", py.Str(tok))
	for i := range 4 {
		sess.Set(fmt.Sprintf("f%d", i), py.Str(fmt.Sprintf("%s/%d", tok, i)))
	}
	sess.Set("blob", py.Str(strings.Repeat(tok+";", blobRepeat)))
}

// sharedToken returns the writer token of a value fillShared wrote, or an
// error when the value is not one writer's complete value.
func sharedToken(d *py.Dict) (string, error) {
	w, _ := d.GetStr("writer")
	tok, ok := w.Str()
	bad := !ok || d.Len() != 6
	for i := range 4 {
		v, _ := d.GetStr(fmt.Sprintf("f%d", i))
		bad = bad || !v.Equal(py.Str(fmt.Sprintf("%s/%d", tok, i)))
	}
	blob, _ := d.GetStr("blob")
	bad = bad || !blob.Equal(py.Str(strings.Repeat(tok+";", blobRepeat)))
	if bad {
		r := py.DictOf(d).Repr()
		if len(r) > 200 {
			r = r[:200] + "..."
		}
		return "", fmt.Errorf("contended session holds a torn or foreign value: %s", r)
	}
	return tok, nil
}

// concurrentRun is the state one ConcurrentUse run shares.
type concurrentRun struct {
	t   *testing.T
	h   Harness
	s   *django.Settings
	st  django.Store
	ctx context.Context

	failures atomic.Int32

	mu      sync.Mutex
	created []string        // every key a create or cycle_key returned
	gone    []string        // keys deleted or cycled away
	live    []owned         // the workers' sessions at the end
	tokens  map[string]bool // every value ever written to the shared session

	shared string   // the session all workers plain-save ("" for KeyIsData)
	last   []string // per worker: its last successful write to shared
}

func (c *concurrentRun) fail(format string, args ...any) {
	c.t.Helper()
	if c.failures.Add(1) <= maxReported {
		c.t.Errorf(format, args...)
	}
}

func (c *concurrentRun) note(list *[]string, key string) {
	c.mu.Lock()
	*list = append(*list, key)
	c.mu.Unlock()
}

// load loads key through a Session and returns its data, or an error when
// the store fails or the session is not found.
func (c *concurrentRun) load(key string) (*py.Dict, error) {
	sess := django.NewSession(c.ctx, c.st, c.s, key)
	if err := sess.Load(); err != nil {
		return nil, err
	}
	if sess.SessionKey() != key {
		return nil, fmt.Errorf("session %.40q not found", key)
	}
	return sess.Data(), nil
}

// isGone checks that key has no record: Load does not find it and Exists
// says no.
// loadChecked loads o's session through a Session and checks it holds
// what o last wrote.
func (c *concurrentRun) loadChecked(o owned) (*django.Session, error) {
	sess := django.NewSession(c.ctx, c.st, c.s, o.key)
	if err := sess.Load(); err != nil {
		return nil, err
	}
	return sess, o.check(sess.Data())
}

func (c *concurrentRun) isGone(key string) error {
	if _, found, err := c.st.Load(c.ctx, key); err != nil || found {
		return fmt.Errorf("removed session %.40q: Load found %v, err %v", key, found, err)
	}
	if ok, err := c.st.Exists(c.ctx, key); err != nil || ok {
		return fmt.Errorf("removed session %.40q: Exists %v, err %v", key, ok, err)
	}
	return nil
}

// sharedValue loads the shared session and returns its writer token.
func (c *concurrentRun) sharedValue() (string, error) {
	d, err := c.load(c.shared)
	if err != nil {
		return "", err
	}
	tok, err := sharedToken(d)
	if err != nil {
		return "", err
	}
	c.mu.Lock()
	known := c.tokens[tok]
	c.mu.Unlock()
	if !known {
		return "", fmt.Errorf("contended session holds %q, which no writer wrote", tok)
	}
	return tok, nil
}

// writeShared plain-saves writer token tok into the shared session, as a
// request that replaces the whole session without reading it.
func (c *concurrentRun) writeShared(tok string) error {
	c.mu.Lock()
	c.tokens[tok] = true
	c.mu.Unlock()
	sess := django.NewSession(c.ctx, c.st, c.s, c.shared)
	sess.Clear() // no load: the data is replaced whole
	fillShared(sess, tok)
	if err := sess.Save(false); err != nil {
		return fmt.Errorf("plain save of the contended session: %w", err)
	}
	if sess.SessionKey() != c.shared {
		return fmt.Errorf("plain save moved the contended session to %.40q", sess.SessionKey())
	}
	return nil
}

// worker runs a random mix of operations on sessions of its own (and
// plain saves of the shared one) until opsPerWorker or the deadline.
func (c *concurrentRun) worker(g int, seed uint64, deadline time.Time) {
	rng := rand.New(rand.NewPCG(seed, uint64(g)))
	var mine []owned
	defer func() {
		c.mu.Lock()
		c.live = append(c.live, mine...)
		c.mu.Unlock()
	}()
	for i := 0; i < opsPerWorker && time.Now().Before(deadline); i++ {
		var (
			op  string
			err error
		)
		switch r := rng.IntN(100); {
		case len(mine) == 0 || r < 20:
			op = "create"
			o := owned{owner: fmt.Sprintf("w%d-%d", g, i)}
			sess := django.NewSession(c.ctx, c.st, c.s, "")
			o.fill(sess)
			if err = sess.Save(false); err == nil {
				o.key = sess.SessionKey()
				if !django.IsValidKey(o.key) {
					err = fmt.Errorf("created key %.40q", o.key)
					break
				}
				c.note(&c.created, o.key)
				mine = append(mine, o)
			}
		case r < 45:
			op = "load"
			o := mine[rng.IntN(len(mine))]
			var d *py.Dict
			if d, err = c.load(o.key); err == nil {
				err = o.check(d)
			}
			if err == nil && c.shared != "" && r < 35 {
				op = "load shared"
				_, err = c.sharedValue()
			}
		case r < 65:
			op = "update"
			n := rng.IntN(len(mine))
			o := mine[n]
			var sess *django.Session
			if sess, err = c.loadChecked(o); err != nil {
				break
			}
			o.seq++
			o.fill(sess)
			if err = sess.Save(false); err != nil {
				break
			}
			if !c.h.KeyIsData && sess.SessionKey() != o.key {
				err = fmt.Errorf("a plain save moved %.40q to %.40q", o.key, sess.SessionKey())
				break
			}
			o.key = sess.SessionKey()
			mine[n] = o
		case r < 77:
			op = "cycle_key"
			n := rng.IntN(len(mine))
			o := mine[n]
			var sess *django.Session
			if sess, err = c.loadChecked(o); err != nil {
				break
			}
			if err = sess.CycleKey(); err != nil {
				break
			}
			old := o.key
			o.key = sess.SessionKey()
			mine[n] = o
			if !c.h.KeyIsData {
				if o.key == old || !django.IsValidKey(o.key) {
					err = fmt.Errorf("cycle_key of %.40q gave %.40q", old, o.key)
					break
				}
				c.note(&c.created, o.key)
				c.note(&c.gone, old)
				if err = c.isGone(old); err != nil {
					break
				}
			}
			var d *py.Dict
			if d, err = c.load(o.key); err == nil {
				err = o.check(d)
			}
		case r < 89:
			op = "delete"
			n := rng.IntN(len(mine))
			o := mine[n]
			mine = append(mine[:n], mine[n+1:]...)
			// Half the deletes race other requests' plain saves of the
			// session: whatever the order, once all are done the session
			// is gone (a save either ran before the delete or found
			// nothing to update).
			var racing *racingSaves
			if !c.h.KeyIsData && rng.IntN(2) == 0 {
				op = "delete racing plain saves"
				racing = c.startRacingSaves(o)
				time.Sleep(time.Duration(rng.IntN(500)) * time.Microsecond)
			}
			if rng.IntN(2) == 0 {
				sess := django.NewSession(c.ctx, c.st, c.s, o.key)
				err = sess.Flush() // logout: clear, delete the record, drop the key
			} else {
				err = c.st.Delete(c.ctx, o.key)
			}
			if racing != nil {
				if serr := racing.wait(); err == nil {
					err = serr
				}
			}
			if err != nil || c.h.KeyIsData {
				break
			}
			c.note(&c.gone, o.key)
			if err = c.isGone(o.key); err != nil {
				break
			}
			// A request still holding the session saves it: Django's
			// UpdateError, and the record stays gone.
			sess := django.NewSession(c.ctx, c.st, c.s, o.key)
			sess.Clear()
			o.fill(sess)
			if err = sess.Save(false); !errors.Is(err, django.ErrUpdateMissing) {
				err = fmt.Errorf("plain save of deleted %.40q: %v, want ErrUpdateMissing", o.key, err)
				break
			}
			err = c.isGone(o.key)
		default:
			if c.shared == "" {
				op = "load"
				o := mine[rng.IntN(len(mine))]
				var d *py.Dict
				if d, err = c.load(o.key); err == nil {
					err = o.check(d)
				}
				break
			}
			op = "save shared"
			tok := fmt.Sprintf("w%d.%d", g, i)
			if err = c.writeShared(tok); err == nil {
				c.last[g] = tok
			}
		}
		if err != nil {
			c.fail("worker %d, operation %d (%s): %v", g, i, op, err)
			return
		}
	}
}

// racingSaves are plain saves of one session running while it is deleted.
type racingSaves struct {
	wg       sync.WaitGroup
	mu       sync.Mutex
	err      error
	racers   int
	attempts int
}

// startRacingSaves starts two goroutines that plain-save o (as requests
// holding the session would) until the store says it is gone.
func (c *concurrentRun) startRacingSaves(o owned) *racingSaves {
	r := &racingSaves{racers: 2, attempts: 20}
	for range r.racers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			for range r.attempts {
				sess := django.NewSession(c.ctx, c.st, c.s, o.key)
				sess.Clear() // no load: the request already had the data
				o.fill(sess)
				err := sess.Save(false)
				if errors.Is(err, django.ErrUpdateMissing) {
					return
				}
				if err != nil {
					r.mu.Lock()
					if r.err == nil {
						r.err = fmt.Errorf("plain save racing the delete of %.40q: %w", o.key, err)
					}
					r.mu.Unlock()
					return
				}
			}
		}()
	}
	return r
}

// wait waits for the racing saves and returns the first unexpected error.
func (r *racingSaves) wait() error {
	r.wg.Wait()
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// parallel runs fn for 0..n-1 on concurrentWorkers goroutines.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range concurrentWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// testConcurrentUse drives one store from many goroutines at once (run it
// under -race): creates, loads, updates, cycle_key and deletes of each
// worker's own sessions, and plain saves of one shared session. It checks
// that no key is handed out twice, that cycle_key moves the data and
// removes the old key, that a deleted session stays deleted (also when the
// delete races other requests' plain saves of it, and when a request that
// still holds it saves afterwards: ErrUpdateMissing), and that concurrent
// plain saves of one session leave one writer's complete last value (last
// writer wins; never a mix or a torn value, also as readers see it).
//
// KeyIsData stores keep nothing server-side: only the create, load,
// update and cycle_key data checks apply. Sessions live an hour, so
// RealTimeExpiry stores expire nothing during the run.
func testConcurrentUse(t *testing.T, h Harness) {
	s, _ := Settings()
	// Long enough that nothing expires during the run, on the settings
	// clock or (RealTimeExpiry) on the store's own.
	s.SessionCookieAge = 3600
	st := h.New(t, s)
	seed := uint64(time.Now().UnixNano())
	c := &concurrentRun{t: t, h: h, s: s, st: st, ctx: ctx(t), tokens: map[string]bool{},
		last: make([]string, concurrentWorkers)}
	if !h.KeyIsData {
		first := django.NewSession(c.ctx, st, s, "")
		c.tokens["init"] = true
		fillShared(first, "init")
		if err := first.Save(false); err != nil {
			t.Fatalf("create the contended session: %v", err)
		}
		c.shared = first.SessionKey()
		c.created = append(c.created, c.shared)
	}

	start := time.Now()
	deadline := start.Add(opsBudget)
	var wg sync.WaitGroup
	for g := range concurrentWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.worker(g, seed, deadline)
		}()
	}
	wg.Wait()
	mixed := time.Since(start)
	bursts := 0

	// Concurrent plain saves of one session: the survivor is the last
	// write of one of the workers (each worker's writes are sequential, so
	// an earlier write of a worker cannot outlive its later one).
	if c.shared != "" && c.failures.Load() == 0 {
		want := map[string]bool{}
		for _, tok := range c.last {
			if tok != "" {
				want[tok] = true
			}
		}
		if len(want) == 0 {
			want["init"] = true
		}
		if tok, err := c.sharedValue(); err != nil {
			c.fail("after the mixed run: %v", err)
		} else if !want[tok] {
			c.fail("after the mixed run the contended session holds %q, not any worker's last write %v", tok, want)
		}
		for round := 0; round < burstRounds && (round == 0 || time.Since(start) < burstBudget); round++ {
			c.burst(round)
			bursts++
		}
	}
	burst := time.Since(start)

	// Everything the run left: live sessions hold their last data, removed
	// ones stay removed, and no key was handed out twice.
	if c.failures.Load() == 0 {
		parallel(len(c.live), func(i int) {
			o := c.live[i]
			d, err := c.load(o.key)
			if err == nil {
				err = o.check(d)
			}
			if err != nil {
				c.fail("at the end: %v", err)
			}
		})
		parallel(len(c.gone), func(i int) {
			if err := c.isGone(c.gone[i]); err != nil {
				c.fail("at the end: %v", err)
			}
		})
	}
	seen := make(map[string]bool, len(c.created))
	for _, k := range c.created {
		if seen[k] {
			c.fail("key %.40q was handed out twice", k)
		}
		seen[k] = true
	}
	if !h.NoList && !h.KeyIsData && c.failures.Load() == 0 {
		listed := map[string]bool{}
		err := st.List(c.ctx, func(in django.Info) error { listed[in.SessionKey] = true; return nil })
		if err != nil {
			c.fail("List: %v", err)
		}
		for _, o := range c.live {
			if !listed[o.key] {
				c.fail("List misses live session %.40q", o.key)
			}
		}
		for _, k := range c.gone {
			if listed[k] {
				c.fail("List shows removed session %.40q", k)
			}
		}
	}
	if n := c.failures.Load(); n > maxReported {
		t.Errorf("... and %d more failures", n-maxReported)
	}
	t.Logf("seed %d: %d workers, mixed run %v (%d keys created, %d removed, %d live), %d bursts by %v, total %v",
		seed, concurrentWorkers, mixed.Round(time.Millisecond), len(c.created), len(c.gone), len(c.live),
		bursts, burst.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
}

// burst has every worker plain-save the shared session at the same moment
// while readers load it: readers see only complete values, and the
// survivor is one of this round's writes.
func (c *concurrentRun) burst(round int) {
	begin := make(chan struct{})
	done := make(chan struct{})
	var writers, readers sync.WaitGroup
	want := map[string]bool{}
	for g := range concurrentWorkers {
		tok := fmt.Sprintf("b%d.w%d", round, g)
		want[tok] = true
		writers.Add(1)
		go func() {
			defer writers.Done()
			<-begin
			if err := c.writeShared(tok); err != nil {
				c.fail("burst %d, writer %d: %v", round, g, err)
			}
		}()
	}
	for r := range burstReaders {
		readers.Add(1)
		go func() {
			defer readers.Done()
			<-begin
			for {
				if _, err := c.sharedValue(); err != nil {
					c.fail("burst %d, reader %d: %v", round, r, err)
					return
				}
				select {
				case <-done:
					return
				case <-time.After(time.Millisecond):
					// Leave the CPU to the writers on a small machine.
				}
			}
		}()
	}
	close(begin)
	writers.Wait()
	close(done)
	readers.Wait()
	tok, err := c.sharedValue()
	switch {
	case err != nil:
		c.fail("after burst %d: %v", round, err)
	case !want[tok]:
		c.fail("after burst %d the contended session holds %q, not one of this round's writes", round, tok)
	}
}
