package cache

import (
	"bytes"
	"compress/zlib"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing/pyzlib"
)

// fileClock is a settable clock for FileOptions.Now.
type fileClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fileClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fileClock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

func (c *fileClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newFileClient(t testing.TB, dir string, o FileOptions) *FileClient {
	t.Helper()
	c, err := NewFileClient(dir, o)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// fileStore is a Store over a FileClient in a fresh folder, with the
// values pickled as Django's FileBasedCache pickles them.
func fileStore(t testing.TB, s *django.Settings, o FileOptions) (*Store, *FileClient) {
	t.Helper()
	c := newFileClient(t, filepath.Join(t.TempDir(), "cache"), o)
	st, err := New(c, s, WithFormat(codec.DjangoPickle{}))
	if err != nil {
		t.Fatal(err)
	}
	return st, c
}

// TestFileConformance runs the store suite over FileBasedCache files with
// the suite's clock. Django keeps an entry whose expiry equals now
// (exp < time.time() is false): MaxAgeExpiry.
func TestFileConformance(t *testing.T) {
	storetest.Run(t, storetest.Harness{
		New: func(t *testing.T, s *django.Settings) django.Store {
			// No culling during the suite (it keeps hundreds of sessions).
			st, _ := fileStore(t, s, FileOptions{MaxEntries: 1 << 30, Now: s.Now})
			return st
		},
		NoClearExpired: true,
		NoList:         true,
		MaxAgeExpiry:   true,
	})
}

func TestFileConflicts(t *testing.T) {
	s, _ := storetest.Settings()
	st, _ := fileStore(t, s, FileOptions{Now: s.Now})
	conflicts(t, st)
}

// pickleHex are CPython's bytes (spec §6.3, §9.8): pickle.dumps(x, 5) and
// zlib.compress(pickle.dumps({'a': 1}, 5)).
const (
	expiryPickleHex = "8005950a000000000000004741d954fc402000002e" // 1700000000.5
	nonePickleHex   = "80054e2e"
	dictA1Hex       = "8005950a000000000000007d948c0161944b01732e"
	dictA1ZlibHex   = "789c6b609dcac50001b5537a1813a7783316eb01002ca604a5"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestFileBytes: the file of a key is <dir>/<md5(key)>.djcache holding
// CPython's bytes for time.time() + timeout and the zlib of the value.
func TestFileBytes(t *testing.T) {
	clock := &fileClock{now: time.Unix(1699999000, 5e8)}
	dir := filepath.Join(t.TempDir(), "a", "b")
	c := newFileClient(t, dir, FileOptions{Now: clock.Now})
	ctx := testCtx(t)
	key := ":1:django.contrib.sessions.cacheabc"
	if err := c.Set(ctx, key, Item{Value: unhex(t, dictA1Hex)}, 1000*time.Second); err != nil {
		t.Fatal(err)
	}
	sum := md5.Sum([]byte(key))
	path := filepath.Join(dir, hex.EncodeToString(sum[:])+".djcache")
	if c.Path(key) != path || c.Dir() != dir {
		t.Fatalf("Path = %s, Dir = %s; want %s in %s", c.Path(key), c.Dir(), path, dir)
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if want := expiryPickleHex + dictA1ZlibHex; hex.EncodeToString(got) != want {
		t.Fatalf("file holds %x, want %s", got, want)
	}
	it, found, err := c.Get(ctx, key)
	if err != nil || !found || hex.EncodeToString(it.Value) != dictA1Hex || it.Flags != 0 {
		t.Fatalf("Get = %x %d, %v, %v", it.Value, it.Flags, found, err)
	}
	// Timeout 0 is Django's -1: an entry that is already expired.
	if err := c.Set(ctx, key, Item{Value: unhex(t, dictA1Hex)}, 0); err != nil {
		t.Fatal(err)
	}
	got, _ = os.ReadFile(path)
	if v, _, err := pickle.LoadPrefix(got, pickle.Limits{}); err != nil || !v.Equal(py.Float(1699998999.5)) {
		t.Fatalf("expiry of timeout 0: %s, %v", v.Repr(), err)
	}
	if _, found, _ := c.Get(ctx, key); found {
		t.Fatal("an entry set with timeout 0 was found")
	}
}

// TestFileModes: the folder (with its parents) is made 0700 on the first
// write, not before; entries are 0600; no temporary file stays behind.
func TestFileModes(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "x", "y")
	c := newFileClient(t, dir, FileOptions{})
	ctx := testCtx(t)
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("NewFileClient touched the folder: %v", err)
	}
	// Reads of a missing folder are misses.
	if _, found, err := c.Get(ctx, "k"); found || err != nil {
		t.Fatalf("Get in a missing folder: %v %v", found, err)
	}
	if ok, err := c.Exists(ctx, "k"); ok || err != nil {
		t.Fatalf("Exists in a missing folder: %v %v", ok, err)
	}
	if ok, err := c.Delete(ctx, "k"); ok || err != nil {
		t.Fatalf("Delete in a missing folder: %v %v", ok, err)
	}
	if ok, err := c.Replace(ctx, "k", Item{Value: []byte("v")}, time.Minute); ok || err != nil {
		t.Fatalf("Replace in a missing folder: %v %v", ok, err)
	}
	if ok, err := c.Add(ctx, "k", Item{Value: []byte("v")}, time.Minute); !ok || err != nil {
		t.Fatalf("Add: %v %v", ok, err)
	}
	for _, d := range []string{filepath.Join(root, "x"), dir} {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm() != 0o700 || !fi.IsDir() {
			t.Fatalf("%s: %v, %v; want a 0700 folder", d, fi.Mode(), err)
		}
	}
	if err := c.Set(ctx, "k2", Item{Value: []byte("v")}, time.Minute); err != nil {
		t.Fatal(err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 2 {
		t.Fatalf("folder holds %v, %v; want the 2 entries only", ents, err)
	}
	for _, e := range ents {
		fi, _ := e.Info()
		if !strings.HasSuffix(e.Name(), ".djcache") || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v", e.Name(), fi.Mode())
		}
	}
	// Django deletes the folder at any time: the next write makes it again.
	if err := os.RemoveAll(filepath.Join(root, "x")); err != nil {
		t.Fatal(err)
	}
	if err := c.Set(ctx, "k", Item{Value: []byte("v")}, time.Minute); err != nil {
		t.Fatalf("Set after the folder was deleted: %v", err)
	}
	// A relative folder is made absolute.
	rel := newFileClient(t, "some/rel", FileOptions{})
	if !filepath.IsAbs(rel.Dir()) || !strings.HasSuffix(rel.Dir(), filepath.Join("some", "rel")) {
		t.Errorf("Dir() = %q", rel.Dir())
	}
}

func TestFileOptionsInvalid(t *testing.T) {
	for _, tc := range []struct {
		dir string
		o   FileOptions
	}{
		{"", FileOptions{}},
		{"/d", FileOptions{CullFrequency: -2}},
	} {
		if _, err := NewFileClient(tc.dir, tc.o); !errors.Is(err, django.ErrImproperlyConfigured) {
			t.Errorf("NewFileClient(%q, %+v) = %v", tc.dir, tc.o, err)
		}
	}
	c := newFileClient(t, "/d", FileOptions{CullFrequency: CullAll})
	if c.maxEntries != 300 || c.cullFrequency != CullAll {
		t.Errorf("defaults: %d %d", c.maxEntries, c.cullFrequency)
	}
	c = newFileClient(t, "/d", FileOptions{})
	if c.maxEntries != 300 || c.cullFrequency != 3 {
		t.Errorf("defaults: %d %d", c.maxEntries, c.cullFrequency)
	}
	// Django's MAX_ENTRIES = 0.
	if c = newFileClient(t, "/d", FileOptions{MaxEntries: -1}); c.maxEntries != 0 {
		t.Errorf("MaxEntries -1: %d", c.maxEntries)
	}
}

// writeEntry writes a cache file by hand: head (an expiry pickle or
// anything) followed by the zlib stream of value (none when value is nil).
func writeEntry(t testing.TB, c *FileClient, key string, head, value []byte) string {
	t.Helper()
	if err := os.MkdirAll(c.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	b := append([]byte(nil), head...)
	if value != nil {
		b, _ = pyzlib.Compress(b, value, 6)
	}
	p := c.Path(key)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func dumps(t testing.TB, v py.Value) []byte {
	t.Helper()
	b, err := pickle.Dumps(v, 5)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// TestFileExpiry: Django's _is_expired, exp < time.time(): an entry is
// live up to and including its expiry instant, expired after it, and then
// deleted by Get and by Exists.
func TestFileExpiry(t *testing.T) {
	t0 := time.Unix(1700000000, 0)
	clock := &fileClock{now: t0}
	c := newFileClient(t, t.TempDir(), FileOptions{Now: clock.Now})
	ctx := testCtx(t)
	val := unhex(t, dictA1Hex)
	for _, probe := range []string{"get", "exists"} {
		clock.Set(t0)
		if err := c.Set(ctx, probe, Item{Value: val}, time.Minute); err != nil {
			t.Fatal(err)
		}
		live := func() bool {
			if probe == "get" {
				_, found, err := c.Get(ctx, probe)
				if err != nil {
					t.Fatal(err)
				}
				return found
			}
			ok, err := c.Exists(ctx, probe)
			if err != nil {
				t.Fatal(err)
			}
			return ok
		}
		for _, tc := range []struct {
			at   time.Duration
			live bool
		}{
			{59 * time.Second, true},
			{60*time.Second - time.Microsecond, true},
			{60 * time.Second, true}, // exp == now: not below
			{60*time.Second + time.Microsecond, false},
		} {
			clock.Set(t0.Add(tc.at))
			if got := live(); got != tc.live {
				t.Fatalf("%s at +%v: live %v, want %v", probe, tc.at, got, tc.live)
			}
		}
		if fileExists(c.Path(probe)) {
			t.Fatalf("%s left the expired file", probe)
		}
	}

	// Hand-written expiries, read at t0: what Python's comparison says.
	clock.Set(t0)
	for _, tc := range []struct {
		name string
		exp  py.Value
		live bool
	}{
		{"None", py.None, true},
		{"float future", py.Float(1700000000.25), true},
		{"float past", py.Float(1699999999.75), false},
		{"float equal", py.Float(1700000000), true},
		{"NaN", py.Float(math.NaN()), true},
		{"+inf", py.Float(math.Inf(1)), true},
		{"-inf", py.Float(math.Inf(-1)), false},
		{"int past", py.Int(1), false},
		{"int equal", py.Int(1700000000), true},
		{"int future", py.Int(1700000001), true},
		{"big int", py.BigInt(new(big.Int).Lsh(big.NewInt(1), 70)), true},
		{"negative big int", py.BigInt(new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 70))), false},
		{"True", py.Bool(true), false},
	} {
		for _, probe := range []string{"get", "exists"} {
			p := writeEntry(t, c, tc.name, dumps(t, tc.exp), val)
			var live bool
			var err error
			if probe == "get" {
				var it Item
				it, live, err = c.Get(ctx, tc.name)
				if live && !bytes.Equal(it.Value, val) {
					t.Errorf("%s: Get = %x", tc.name, it.Value)
				}
			} else {
				live, err = c.Exists(ctx, tc.name)
			}
			if err != nil || live != tc.live {
				t.Errorf("%s (%s): live %v, %v; want %v", tc.name, probe, live, err, tc.live)
			}
			if fileExists(p) != tc.live {
				t.Errorf("%s (%s): file kept %v", tc.name, probe, fileExists(p))
			}
		}
	}
}

// TestFileEmptyAndMalformed: an empty file is expired (deleted); a file
// whose expiry or value cannot be read is a miss that stays in place,
// which Add and Replace leave alone and Set and Delete do not.
func TestFileEmptyAndMalformed(t *testing.T) {
	clock := &fileClock{now: time.Unix(1700000000, 0)}
	s, _ := storetest.Settings()
	st, c := fileStore(t, s, FileOptions{Now: clock.Now})
	ctx := testCtx(t)
	key, _ := django.NewSessionKey()
	ck := st.CacheKey(key)
	dict := unhex(t, dictA1Hex)
	future := dumps(t, py.Float(1800000000))

	p := writeEntry(t, c, ck, nil, nil)
	if _, found, err := st.Load(ctx, key); found || err != nil || fileExists(p) {
		t.Fatalf("empty file: found %v, %v, kept %v", found, err, fileExists(p))
	}
	writeEntry(t, c, ck, nil, nil)
	if ok, err := c.Exists(ctx, ck); ok || err != nil || fileExists(p) {
		t.Fatalf("empty file: Exists %v, %v, kept %v", ok, err, fileExists(p))
	}
	writeEntry(t, c, ck, nil, nil)
	if ok, err := c.Add(ctx, ck, Item{Value: dict}, time.Minute); !ok || err != nil {
		t.Fatalf("Add over an empty file: %v %v", ok, err)
	}

	zlibOf := func(b []byte) []byte { z, _ := pyzlib.Compress(nil, b, 6); return z }
	for _, tc := range []struct {
		name string
		file []byte
		// exists: the expiry is fine (Exists true), only the value is bad
		exists bool
	}{
		{"garbage", []byte("garbage"), false},
		{"one byte", []byte{0x80}, false},
		// CPython raises EOFError here, which Django takes for expiry 0.
		{"cut between opcodes", []byte{0x80, 0x05}, false},
		{"cut float", unhex(t, expiryPickleHex)[:15], false},
		{"str expiry", append(dumps(t, py.Str("soon")), zlibOf(dict)...), false},
		{"list expiry", append(dumps(t, py.NewList(py.Int(1))), zlibOf(dict)...), false},
		{"zlib alone", zlibOf(dict), false},
		{"no value", future, true},
		{"value not zlib", append(append([]byte(nil), future...), "not zlib"...), true},
		{"value cut", append(append([]byte(nil), future...), zlibOf(dict)[:10]...), true},
		{"bad checksum", append(append([]byte(nil), future...), append(zlibOf(dict)[:len(zlibOf(dict))-1], 0)...), true},
		{"value empty", append(append([]byte(nil), future...), zlibOf(nil)...), true},
		{"value not a dict", append(append([]byte(nil), future...), zlibOf(dumps(t, py.Int(5)))...), true},
		{"value not a pickle", append(append([]byte(nil), future...), zlibOf([]byte("plain"))...), true},
		{"long expiry pickle", append(dumps(t, py.Str(strings.Repeat("x", 2000))), zlibOf(dict)...), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reset := func() {
				if err := os.WriteFile(p, tc.file, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			reset()
			if _, found, err := st.Load(ctx, key); found || err != nil {
				t.Fatalf("Load: found %v, %v", found, err)
			}
			if !fileExists(p) {
				t.Fatal("Load deleted the file")
			}
			if ok, err := c.Exists(ctx, ck); ok != tc.exists || err != nil || !fileExists(p) {
				t.Fatalf("Exists = %v, %v (kept %v); want %v", ok, err, fileExists(p), tc.exists)
			}
			if ok, err := c.Add(ctx, ck, Item{Value: dict}, time.Minute); ok || err != nil {
				t.Fatalf("Add over it: %v %v", ok, err)
			}
			if got, _ := os.ReadFile(p); !bytes.Equal(got, tc.file) {
				t.Fatal("Add changed the file")
			}
			if ok, err := c.Replace(ctx, ck, Item{Value: dict}, time.Minute); ok != tc.exists || err != nil {
				t.Fatalf("Replace = %v, %v; want %v", ok, err, tc.exists)
			}
			reset()
			if ok, err := c.Delete(ctx, ck); !ok || err != nil || fileExists(p) {
				t.Fatalf("Delete: %v %v", ok, err)
			}
			reset()
			if err := c.Set(ctx, ck, Item{Value: dict}, time.Minute); err != nil {
				t.Fatal(err)
			}
			if d, found, err := st.Load(ctx, key); !found || err != nil || d.Len() != 1 {
				t.Fatalf("Load after Set: %v %v", found, err)
			}
		})
	}
}

// TestFileBounds: what GetBounded reads. A value of exactly limit bytes is
// found, one more is a miss; a file larger than any value of limit bytes
// can make is a miss without being read (a 16 GiB sparse file), and a
// zlib bomb is a miss after at most limit bytes of output.
func TestFileBounds(t *testing.T) {
	c := newFileClient(t, t.TempDir(), FileOptions{})
	ctx := testCtx(t)
	exp := dumps(t, py.Float(4e9))
	// Incompressible values: the file is as large as zlib makes it.
	rnd := make([]byte, 5000)
	for i := range rnd {
		rnd[i] = byte((i*7919 + i*i*31) >> 3)
	}
	writeEntry(t, c, "exact", exp, rnd)
	if it, found, err := c.GetBounded(ctx, "exact", len(rnd)); !found || err != nil || !bytes.Equal(it.Value, rnd) {
		t.Fatalf("value of exactly the limit: %v %v", found, err)
	}
	if _, found, err := c.GetBounded(ctx, "exact", len(rnd)-1); found || err != nil {
		t.Fatalf("value over the limit: %v %v", found, err)
	}
	if it, found, err := c.GetBounded(ctx, "exact", 0); !found || err != nil || !bytes.Equal(it.Value, rnd) {
		t.Fatalf("limit 0 is Get: %v %v", found, err)
	}
	// A file just over the bound of a small limit is not read.
	p := writeEntry(t, c, "big", exp, nil)
	pad := make([]byte, maxExpiryPickle+int(zlibBound(100))+1-len(exp))
	f, _ := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	f.Write(pad)
	f.Close()
	if _, found, err := c.GetBounded(ctx, "big", 100); found || err != nil {
		t.Fatalf("oversized file: %v %v", found, err)
	}

	// 16 GiB, sparse: reading it would take minutes.
	p = writeEntry(t, c, "huge", exp, []byte("x"))
	if err := os.Truncate(p, 16<<30); err != nil {
		t.Skipf("no sparse file here: %v", err)
	}
	start := time.Now()
	for _, get := range []func() (Item, bool, error){
		func() (Item, bool, error) { return c.Get(ctx, "huge") },
		func() (Item, bool, error) { return c.GetBounded(ctx, "huge", DefaultMaxValueSize) },
	} {
		if _, found, err := get(); found || err != nil {
			t.Fatalf("16 GiB file: %v %v", found, err)
		}
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("refusing a huge file took %v", d)
	}
	os.Remove(p)

	// A zlib bomb: 64 MiB of zeros in 64 KiB.
	var z bytes.Buffer
	z.Write(exp)
	zw, _ := zlib.NewWriterLevel(&z, zlib.BestSpeed)
	zeros := make([]byte, 1<<20)
	for range 64 {
		zw.Write(zeros)
	}
	zw.Close()
	if z.Len() > 1<<20 {
		t.Fatalf("bomb of %d bytes", z.Len())
	}
	if err := os.WriteFile(c.Path("bomb"), z.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	if _, found, err := c.GetBounded(ctx, "bomb", 1<<20); found || err != nil {
		t.Fatalf("bomb: %v %v", found, err)
	}
	runtime.ReadMemStats(&after)
	if n := after.TotalAlloc - before.TotalAlloc; n > 16<<20 {
		t.Errorf("reading the bomb with a 1 MiB limit allocated %d bytes", n)
	}
	if _, found, err := c.Get(ctx, "bomb"); found || err != nil {
		t.Fatalf("bomb, Get: %v %v", found, err)
	}
}

// TestFileErrors: a file system error is an error, not a miss.
func TestFileErrors(t *testing.T) {
	root := t.TempDir()
	ctx := testCtx(t)
	// The folder is under a regular file: ENOTDIR.
	if err := os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	c := newFileClient(t, filepath.Join(root, "file", "cache"), FileOptions{})
	if _, _, err := c.Get(ctx, "k"); err == nil {
		t.Error("Get under a file: no error")
	}
	if _, err := c.Exists(ctx, "k"); err == nil {
		t.Error("Exists under a file: no error")
	}
	if err := c.Set(ctx, "k", Item{Value: []byte("v")}, time.Minute); err == nil {
		t.Error("Set under a file: no error")
	}
	if _, err := c.Add(ctx, "k", Item{Value: []byte("v")}, time.Minute); err == nil {
		t.Error("Add under a file: no error")
	}

	c = newFileClient(t, filepath.Join(root, "cache"), FileOptions{})
	if err := os.MkdirAll(c.Dir(), 0o700); err != nil {
		t.Fatal(err)
	}
	// A folder, a FIFO and a symlink loop where the entry should be.
	if err := os.Mkdir(c.Path("dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	// mkfifo(1), not syscall.Mkfifo, which Windows has not.
	if out, err := exec.Command("mkfifo", c.Path("fifo")).CombinedOutput(); err != nil {
		t.Fatalf("mkfifo: %v %s", err, out)
	}
	if err := os.Symlink(c.Path("loop"), c.Path("loop")); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"dir", "fifo", "loop"} {
		done := make(chan struct{})
		go func() {
			defer close(done)
			if _, found, err := c.Get(ctx, key); found || err == nil {
				t.Errorf("Get of a %s: %v %v", key, found, err)
			}
			if ok, err := c.Exists(ctx, key); ok || err == nil {
				t.Errorf("Exists of a %s: %v %v", key, ok, err)
			}
			if _, err := c.Add(ctx, key, Item{Value: []byte("v")}, time.Minute); err == nil {
				t.Errorf("Add over a %s: no error", key)
			}
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("reading a %s blocked", key)
		}
	}
	if _, _, err := c.Get(ctx, "dir"); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("Get of a folder: %v, want fs.ErrInvalid", err)
	}
	// Culling never counts or deletes folders.
	if names, err := c.cacheFiles(); err != nil || len(names) != 2 {
		t.Errorf("cache files %v, %v; want the FIFO and the loop", names, err)
	}

	if os.Geteuid() != 0 {
		locked := newFileClient(t, filepath.Join(root, "locked"), FileOptions{})
		if err := locked.Set(ctx, "k", Item{Value: []byte("v")}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(locked.Dir(), 0); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.Chmod(locked.Dir(), 0o700) })
		if _, _, err := locked.Get(ctx, "k"); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Get in an unreadable folder: %v, want fs.ErrPermission", err)
		}
		if _, err := locked.Exists(ctx, "k"); !errors.Is(err, fs.ErrPermission) {
			t.Errorf("Exists in an unreadable folder: %v", err)
		}
	} else {
		t.Log("running as root: the permission-denied case is not testable")
	}

	// Closed, and no listing.
	if err := c.Scan(ctx, "*", nil); !errors.Is(err, django.ErrNotSupported) {
		t.Errorf("Scan: %v", err)
	}
	if err := c.ScanBounded(ctx, "*", 10, nil); !errors.Is(err, django.ErrNotSupported) {
		t.Errorf("ScanBounded: %v", err)
	}
	s, _ := storetest.Settings()
	st, err := New(c, s, WithFormat(codec.DjangoPickle{}))
	if err != nil {
		t.Fatal(err)
	}
	if err := st.List(ctx, func(django.Info) error { return nil }); !errors.Is(err, django.ErrNotSupported) {
		t.Errorf("List: %v", err)
	}
	c.Close()
	if _, _, err := c.Get(ctx, "k"); !errors.Is(err, ErrClosed) {
		t.Errorf("Get after Close: %v", err)
	}
	if err := c.Set(ctx, "k", Item{}, time.Minute); !errors.Is(err, ErrClosed) {
		t.Errorf("Set after Close: %v", err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	c2 := newFileClient(t, root, FileOptions{})
	if _, err := c2.Exists(cctx, "k"); !errors.Is(err, context.Canceled) {
		t.Errorf("Exists with a cancelled context: %v", err)
	}
}

// countEntries counts the *.djcache files in dir.
func countEntries(t testing.TB, dir string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*.djcache"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range m {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() && !strings.HasPrefix(filepath.Base(p), ".") {
			n++
		}
	}
	return n
}

// TestFileCull: Django's _cull before every write: from MaxEntries files
// on, int(n/CULL_FREQUENCY) random ones go (all with CULL_FREQUENCY 0);
// other files are neither counted nor deleted.
// TestFileCullZeroMaxEntries: Django's MAX_ENTRIES = 0 culls before every
// write (num_entries < 0 never holds): with CULL_FREQUENCY 2, the writes
// find 0, 1, 2, 2, ... files and delete int(n/2) of them.
func TestFileCullZeroMaxEntries(t *testing.T) {
	c := newFileClient(t, t.TempDir(), FileOptions{MaxEntries: -1, CullFrequency: 2})
	ctx := testCtx(t)
	for i, want := range []int{1, 2, 2, 2, 2} {
		if err := c.Set(ctx, fmt.Sprint("k", i), Item{Value: []byte("v")}, time.Minute); err != nil {
			t.Fatal(err)
		}
		if n := countEntries(t, c.Dir()); n != want {
			t.Fatalf("after write %d: %d files, want %d", i+1, n, want)
		}
	}
}

func TestFileCull(t *testing.T) {
	for _, tc := range []struct {
		freq      int
		afterFull int // files after the write that finds 10
	}{
		{0, 10 - 10/3 + 1}, // Django's default 3
		{2, 10 - 5 + 1},
		{1, 1},
		{CullAll, 1},
		{11, 10 + 1}, // int(10/11) = 0: nothing culled
	} {
		t.Run(fmt.Sprint(tc.freq), func(t *testing.T) {
			c := newFileClient(t, t.TempDir(), FileOptions{MaxEntries: 10, CullFrequency: tc.freq})
			ctx := testCtx(t)
			if err := os.MkdirAll(c.Dir(), 0o700); err != nil {
				t.Fatal(err)
			}
			others := []string{".hidden.djcache", "tmp123", "notes.txt"}
			for _, n := range others {
				if err := os.WriteFile(filepath.Join(c.Dir(), n), nil, 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Mkdir(filepath.Join(c.Dir(), "sub.djcache"), 0o700); err != nil {
				t.Fatal(err)
			}
			for i := range 10 {
				if ok, err := c.Add(ctx, fmt.Sprint("k", i), Item{Value: []byte("v")}, time.Minute); !ok || err != nil {
					t.Fatal(ok, err)
				}
				if n := countEntries(t, c.Dir()); n != i+1 {
					t.Fatalf("after %d writes: %d files", i+1, n)
				}
			}
			if err := c.Set(ctx, "k10", Item{Value: []byte("v")}, time.Minute); err != nil {
				t.Fatal(err)
			}
			if n := countEntries(t, c.Dir()); n != tc.afterFull {
				t.Fatalf("after the write that found 10 files: %d, want %d", n, tc.afterFull)
			}
			if !fileExists(c.Path("k10")) {
				t.Fatal("the new entry was culled")
			}
			for _, n := range append(others, "sub.djcache") {
				if !fileExists(filepath.Join(c.Dir(), n)) {
					t.Fatalf("cull deleted %s", n)
				}
			}
		})
	}
}

// TestFileAddNoClobber: Add writes only where no live entry is, and of
// concurrent Adds of one key by separate clients (as by separate
// processes: they share no lock) exactly one wins and its value stays.
func TestFileAddNoClobber(t *testing.T) {
	dir := t.TempDir()
	ctx := testCtx(t)
	clock := &fileClock{now: time.Unix(1700000000, 0)}
	c := newFileClient(t, dir, FileOptions{Now: clock.Now})
	if ok, err := c.Add(ctx, "k", Item{Value: []byte("first")}, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	if ok, err := c.Add(ctx, "k", Item{Value: []byte("second")}, time.Minute); ok || err != nil {
		t.Fatal(ok, err)
	}
	if it, _, _ := c.Get(ctx, "k"); string(it.Value) != "first" {
		t.Fatalf("Add overwrote a live entry: %q", it.Value)
	}
	clock.Advance(61 * time.Second)
	if ok, err := c.Add(ctx, "k", Item{Value: []byte("third")}, time.Minute); !ok || err != nil {
		t.Fatalf("Add over an expired entry: %v %v", ok, err)
	}
	if it, _, _ := c.Get(ctx, "k"); string(it.Value) != "third" {
		t.Fatalf("after Add over an expired entry: %q", it.Value)
	}
	if ok, err := c.Replace(ctx, "k", Item{Value: []byte("fourth")}, time.Minute); !ok || err != nil {
		t.Fatal(ok, err)
	}
	clock.Advance(61 * time.Second)
	if ok, err := c.Replace(ctx, "k", Item{Value: []byte("fifth")}, time.Minute); ok || err != nil || fileExists(c.Path("k")) {
		t.Fatalf("Replace of an expired entry: %v %v (file kept %v)", ok, err, fileExists(c.Path("k")))
	}

	for round := range 20 {
		key := fmt.Sprint("race", round)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var winners []string
		for g := range 8 {
			other := newFileClient(t, dir, FileOptions{Now: clock.Now})
			wg.Add(1)
			go func() {
				defer wg.Done()
				v := fmt.Sprint("writer", g)
				ok, err := other.Add(ctx, key, Item{Value: []byte(v)}, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners = append(winners, v)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(winners) != 1 {
			t.Fatalf("round %d: winners %v", round, winners)
		}
		if it, _, _ := c.Get(ctx, key); string(it.Value) != winners[0] {
			t.Fatalf("round %d: entry holds %q, winner %s", round, it.Value, winners[0])
		}
	}
	// No temporary file left behind.
	if m, _ := filepath.Glob(filepath.Join(dir, "tmp*")); len(m) != 0 {
		t.Fatalf("left behind: %v", m)
	}
}

// TestFileRemoveStale: an expired file is deleted only if it is still the
// one that was read: one renamed over it meanwhile survives.
func TestFileRemoveStale(t *testing.T) {
	c := newFileClient(t, t.TempDir(), FileOptions{})
	p := writeEntry(t, c, "k", nil, nil)
	old, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	fresh := filepath.Join(c.Dir(), "tmpfresh")
	if err := os.WriteFile(fresh, []byte("new"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(fresh, p); err != nil {
		t.Fatal(err)
	}
	c.removeExpired("k", old)
	if b, err := os.ReadFile(p); err != nil || string(b) != "new" {
		t.Fatalf("the fresh file: %q, %v", b, err)
	}
	cur, _ := os.Stat(p)
	c.removeExpired("k", cur)
	if fileExists(p) {
		t.Fatal("the stale file was kept")
	}
}

// FuzzFileGet: any file content is a value, a miss or (never) a panic;
// Get and Exists agree on the expiry.
func FuzzFileGet(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0x80, 0x05})
	f.Add(append(unhex(f, expiryPickleHex), unhex(f, dictA1ZlibHex)...))
	f.Add(append(unhex(f, nonePickleHex), unhex(f, dictA1ZlibHex)...))
	dir := f.TempDir()
	c := newFileClient(f, dir, FileOptions{Now: func() time.Time { return time.Unix(1700000000, 0) }})
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		for _, get := range []func() (Item, bool, error){
			func() (Item, bool, error) { return c.GetBounded(ctx, "k", 64) },
			func() (Item, bool, error) { return c.Get(ctx, "k") },
		} {
			if err := os.WriteFile(filepath.Join(dir, c.Path("k")[len(dir)+1:]), data, 0o600); err != nil {
				t.Fatal(err)
			}
			it, found, err := get()
			if err != nil || found && len(it.Value) == 0 {
				t.Fatalf("Get: %v %x %v", found, it.Value, err)
			}
			if found {
				if ok, err := c.Exists(ctx, "k"); !ok || err != nil {
					t.Fatalf("found by Get, Exists %v %v", ok, err)
				}
			}
		}
		// The same bytes as a whole file for FileEntryFormat (djsession
		// decode): a value exactly when the client's Get has one that
		// unpickles.
		if err := os.WriteFile(c.Path("k"), data, 0o600); err != nil {
			t.Fatal(err)
		}
		it, found, _ := c.Get(ctx, "k")
		v, err := FileEntryFormat{Now: c.now}.Decode(data, 0)
		want, werr := codec.DjangoPickle{}.Decode(it.Value, 0)
		if found && werr == nil {
			if err != nil || !v.Equal(want) {
				t.Fatalf("FileEntryFormat = %v, %v; Get's value unpickles to %v", v, err, want)
			}
		} else if err == nil {
			t.Fatalf("FileEntryFormat read %v where Get found %v (%v)", v, found, werr)
		}
	})
}

// TestFileDeleteFolder: a folder under an entry's name is not removed by
// Delete (Django's os.remove raises IsADirectoryError).
func TestFileDeleteFolder(t *testing.T) {
	c := newFileClient(t, t.TempDir(), FileOptions{})
	if err := os.MkdirAll(c.Path("k"), 0o700); err != nil {
		t.Fatal(err)
	}
	if deleted, err := c.Delete(testCtx(t), "k"); deleted || !errors.Is(err, fs.ErrInvalid) {
		t.Fatalf("Delete of a folder = %v, %v; want an fs.ErrInvalid error", deleted, err)
	}
	if fi, err := os.Stat(c.Path("k")); err != nil || !fi.IsDir() {
		t.Fatalf("the folder is gone: %v", err)
	}
}
