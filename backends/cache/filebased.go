package cache

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing/pyzlib"
)

// Django's defaults for MAX_ENTRIES and CULL_FREQUENCY
// (django/core/cache/backends/base.py), for FileClient and package dbcache.
const (
	DefaultMaxEntries    = 300
	DefaultCullFrequency = 3
)

// Culling resolves the MaxEntries and CullFrequency options of FileClient
// and package dbcache: 0 gives Django's default for either, a negative
// MaxEntries is Django's MAX_ENTRIES = 0 (returned as 0), and CullAll
// (Django's CULL_FREQUENCY = 0, which deletes every entry) is returned as
// it is. A CullFrequency below CullAll is django.ErrImproperlyConfigured.
func Culling(maxEntries, cullFrequency int) (int, int, error) {
	switch {
	case maxEntries == 0:
		maxEntries = DefaultMaxEntries
	case maxEntries < 0:
		maxEntries = 0
	}
	switch {
	case cullFrequency == 0:
		cullFrequency = DefaultCullFrequency
	case cullFrequency < CullAll:
		return 0, 0, fmt.Errorf("%w: CULL_FREQUENCY %d (use CullAll for Django's 0)", django.ErrImproperlyConfigured, cullFrequency)
	}
	return maxEntries, cullFrequency, nil
}

// fileSuffix ends the name of every cache file (FileBasedCache.cache_suffix).
const fileSuffix = ".djcache"

// maxExpiryPickle is the longest expiry pickle read at the start of a
// cache file. Django writes 21 bytes (a float, framed) or 4 (None); a file
// whose pickle does not end within this many bytes is malformed.
const maxExpiryPickle = 1024

// expiryLimits bound the load of the expiry pickle.
var expiryLimits = pickle.Limits{MaxInput: maxExpiryPickle, MaxDepth: 16, MaxContainerLen: 64, MaxTotalItems: 256}

// zlibLevel is zlib.compress's default level, which Django uses.
const zlibLevel = 6

// FileOptions are the OPTIONS of Django's FileBasedCache that shape the
// files (spec §6.3).
type FileOptions struct {
	// MaxEntries is MAX_ENTRIES: a write that finds this many cache
	// files or more culls first. 0 is Django's 300; a negative value is
	// Django's MAX_ENTRIES = 0 (cull before every write).
	MaxEntries int
	// CullFrequency is CULL_FREQUENCY: a cull deletes
	// int(files/CullFrequency) files chosen at random. 0 is Django's 3;
	// CullAll is Django's 0, which deletes every cache file.
	CullFrequency int
	// Now is the clock for expiry times; nil is time.Now (the Store
	// passes Settings.Now).
	Now func() time.Time
}

// FileClient is Django's file-based cache
// (django.core.cache.backends.filebased.FileBasedCache, spec §6.3) as a
// cache Client: the entry of a final cache key is the file
// <dir>/<md5(key) hex>.djcache holding the pickle of its expiry time
// (time.time() + timeout as a float, or None: never) immediately followed
// by zlib.compress(value pickle) at level 6. Items carry the bare pickle
// of the value (codec.DjangoPickle is their format); Flags are ignored and
// read as 0. A Store over it (New with WithFormat(codec.DjangoPickle{}))
// reads and writes the sessions of Django's cache session engine
// (spec §3.9.2) configured with FileBasedCache, in the same folder as
// Django, byte for byte: the value part of a file is the one Django
// writes for the same dict.
//
// Reading follows FileBasedCache: a missing file (or folder) is a miss; an
// empty file is expired (Django reads it as expiry 0); an expiry that is
// an int, bool or float below now is expired (an equal one is not; NaN
// never expires) and the file is deleted by Get and Exists, as Django's
// get and has_key delete it; None never expires. Where Django raises, we
// read a miss and leave the file in place: an expiry that is no pickle,
// is truncated, or is not a number (a str, say), and a value that is not a
// valid zlib stream (or holds nothing). Django's session engine reads an
// exception of cache.get as a miss too (spec §3.9.2), so sessions load
// alike; we do not delete what we cannot read, because it is not ours to
// judge (Django does not delete it either). Exists, Add and Replace read
// only the expiry, as has_key does: a file whose expiry cannot be read is
// absent to Exists, and Add does not overwrite it (ErrCreateConflict to a
// Store; Django's add would raise) nor Replace replace it; a live expiry
// before a bad value exists, and Replace replaces it. Set and Delete act
// whatever the file holds, as Django's do. One difference:
// CPython raises EOFError, which Django reads as expired, for a pickle cut
// exactly between two opcodes ("\x80\x05"); we read every cut pickle as
// malformed (a miss that keeps the file): only an empty file is expired.
//
// Bounds (Django has none): GetBounded(limit) reads no file larger than
// the zlib bound of limit plus 1 KiB for the expiry (a miss, without
// reading it), and no value whose pickle decompresses to more than limit
// bytes (a miss, decompression stops there); Get bounds both by
// codec.DefaultMaxSize. An expiry pickle must end within its first 1 KiB.
// A path that is not a regular file (a folder, a FIFO) is an error, as
// Django's open() raises for a folder; it is never opened.
//
// Writing follows FileBasedCache.set: the folder is created (0700, also
// when it was deleted meanwhile), the cache is culled, the content is
// written to a temporary file in the folder (mode 0600, named tmp* like
// mkstemp's, so never *.djcache) and renamed over the entry, so a reader
// never sees a partial file. The temporary file is not synced, as Django
// does not: after a power loss an entry may be empty (expired) or missing.
// Culling counts the *.djcache files of the folder (not hidden ones, as
// Python's glob; not folders); from MaxEntries on it deletes all of them
// (CullAll) or a random int(n/CullFrequency). Expiry written = now (float
// seconds, as CPython's time.time() computes it from the clock) + ttl
// seconds; a ttl of 0 writes now - 1, as Django's timeout 0 does.
//
// Concurrency: safe for concurrent use by goroutines and by other
// processes on the same folder, Django included. Add never clobbers an
// entry another writer created meanwhile: the new file is hard-linked to
// the entry's name (link(2) fails when the name exists) instead of
// renamed; only on a file system without hard links does Add fall back to
// Django's check-then-rename. Within one FileClient, Set, Add, Replace,
// Delete and the deletion of an expired entry are serialized per key, so
// Replace (present-and-live check, then rename) cannot undo a Delete of
// the same client, and an expired file is deleted only if it is still the
// file that was read (across processes, only if it still is one stat
// before the unlink; Django deletes by name). Across processes Replace
// has the window Django's own save has (get, then set): a delete by
// another process between the check and the rename is undone. Linux's
// renameat2(RENAME_EXCHANGE), as package file uses, would close it; it
// needs a Linux-only file.
type FileClient struct {
	dir           string
	maxEntries    int
	cullFrequency int
	now           func() time.Time
	closed        atomic.Bool
	locks         [64]sync.Mutex
}

var _ BoundedClient = (*FileClient)(nil)

// NewFileClient returns the client of the cache folder dir (LOCATION),
// made absolute as os.path.abspath does. The folder is not touched here:
// it is created, mode 0700, when an entry is first written, as Django's
// _createdir creates it before every write. An empty dir (Django's: the
// working directory) or a CullFrequency below
// CullAll is django.ErrImproperlyConfigured.
func NewFileClient(dir string, o FileOptions) (*FileClient, error) {
	if dir == "" {
		return nil, fmt.Errorf("%w: the file-based cache needs a folder (LOCATION)", django.ErrImproperlyConfigured)
	}
	maxEntries, cullFrequency, err := Culling(o.MaxEntries, o.CullFrequency)
	if err != nil {
		return nil, fmt.Errorf("file-based cache: %w", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, fmt.Errorf("%w: file-based cache folder: %v", django.ErrImproperlyConfigured, err)
	}
	c := &FileClient{dir: abs, maxEntries: maxEntries, cullFrequency: cullFrequency, now: o.Now}
	if c.now == nil {
		c.now = time.Now
	}
	return c, nil
}

// Dir returns the cache folder (absolute).
func (c *FileClient) Dir() string { return c.dir }

// Path returns the file of the final cache key key:
// <dir>/<md5(key) hex>.djcache (FileBasedCache._key_to_file, spec §6.3).
func (c *FileClient) Path(key string) string {
	path, _ := c.locate(key)
	return path
}

// locate returns the file of key and the lock that serializes its writes.
func (c *FileClient) locate(key string) (string, *sync.Mutex) {
	sum := md5.Sum([]byte(key))
	return filepath.Join(c.dir, hex.EncodeToString(sum[:])+fileSuffix), &c.locks[sum[0]%uint8(len(c.locks))]
}

func (c *FileClient) ready(ctx context.Context) error {
	if c.closed.Load() {
		return ErrClosed
	}
	if ctx != nil {
		return ctx.Err()
	}
	return nil
}

func fileErr(err error) error { return fmt.Errorf("cache: file-based cache: %w", err) }

// entryState is what the expiry at the start of a cache file says.
type entryState uint8

const (
	entryMissing   entryState = iota
	entryLive                 // None, or a number not below now
	entryExpired              // empty, or a number below now: deleted on sight
	entryMalformed            // no pickle, cut, or not a number: a miss, kept
)

// pySeconds is CPython's time.time() for t: nanoseconds since the epoch
// divided by 1e9 as a double (_PyTime_AsSecondsDouble).
func pySeconds(t time.Time) float64 {
	if y := t.Year(); y < 1678 || y > 2261 {
		// Outside UnixNano's range.
		return float64(t.Unix()) + float64(t.Nanosecond())/1e9
	}
	ns := t.UnixNano()
	if ns%1e9 == 0 {
		return float64(ns / 1e9)
	}
	return float64(ns) / 1e9
}

// classify reads the expiry pickle at the start of head (the first bytes
// of a cache file) as FileBasedCache._is_expired does, and returns the
// state and the pickle's length.
func (c *FileClient) classify(head []byte) (entryState, int) {
	return classifyAt(head, pySeconds(c.now()))
}

// classifyAt is classify with now as CPython's time.time().
func classifyAt(head []byte, now float64) (entryState, int) {
	if len(head) == 0 {
		// pickle.load raises EOFError: Django takes the expiry for 0.
		return entryExpired, 0
	}
	if len(head) > maxExpiryPickle {
		head = head[:maxExpiryPickle]
	}
	v, n, err := pickle.LoadPrefix(head, expiryLimits)
	if err != nil {
		return entryMalformed, 0
	}
	var below bool
	switch v.Kind() {
	case py.NoneKind:
		return entryLive, n
	case py.FloatKind:
		f, _ := v.Float()
		below = f < now // false for NaN, as in Python
	case py.BoolKind:
		b, _ := v.Bool()
		below = (b && 1 < now) || (!b && 0 < now)
	case py.IntKind:
		// Python compares an int with a float exactly.
		i, _ := v.BigInt()
		below = new(big.Float).SetInt(i).Cmp(big.NewFloat(now)) < 0
	default:
		// Django: TypeError from the comparison.
		return entryMalformed, 0
	}
	if below {
		return entryExpired, n
	}
	return entryLive, n
}

// openEntry opens the cache file path for reading; f is nil when there is none.
// A path that is not a regular file is an error: it is checked before the
// open, and again after it (the open does not block, so a FIFO swapped in
// meanwhile cannot hold it).
func openEntry(path string) (f *os.File, fi fs.FileInfo, err error) {
	fi, err = os.Stat(path)
	if err == nil && !fi.Mode().IsRegular() {
		return nil, nil, fileErr(fmt.Errorf("%s is not a regular file: %w", path, fs.ErrInvalid))
	}
	if err == nil {
		// Non-blocking, so that a FIFO swapped in after the Stat cannot
		// hold the open; the file's type is checked again below.
		f, err = os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	}
	if err == nil {
		if fi, err = f.Stat(); err == nil && !fi.Mode().IsRegular() {
			err = fmt.Errorf("%s is not a regular file: %w", path, fs.ErrInvalid)
		}
		if err != nil {
			f.Close()
		}
	}
	switch {
	case err == nil:
		return f, fi, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil, nil
	}
	return nil, nil, fileErr(err)
}

// readHead reads up to maxExpiryPickle bytes from the start of f.
func readHead(f *os.File) ([]byte, error) {
	buf := make([]byte, maxExpiryPickle)
	n, err := io.ReadFull(f, buf)
	if err != nil && err != io.EOF && err != io.ErrUnexpectedEOF {
		return nil, fileErr(err)
	}
	return buf[:n], nil
}

// probe returns the state of the entry at path from its expiry alone (as
// has_key reads it), and the file's info.
func (c *FileClient) probe(path string) (entryState, fs.FileInfo, error) {
	f, fi, err := openEntry(path)
	if f == nil {
		return entryMissing, nil, err
	}
	defer f.Close()
	head, err := readHead(f)
	if err != nil {
		return entryMissing, nil, err
	}
	st, _ := c.classify(head)
	return st, fi, nil
}

// removeStale deletes path if it still is the file fi (one that was read
// expired), so that an entry written meanwhile survives; the caller holds
// the key's lock. Errors are ignored: the entry is expired whether or not
// it can be deleted (a read-only folder of Django's, say).
func removeStale(path string, fi fs.FileInfo) {
	if cur, err := os.Stat(path); err == nil && os.SameFile(cur, fi) {
		_ = os.Remove(path)
	}
}

// removeExpired is removeStale taking the key's lock.
func (c *FileClient) removeExpired(key string, fi fs.FileInfo) {
	path, mu := c.locate(key)
	mu.Lock()
	removeStale(path, fi)
	mu.Unlock()
}

// zlibBound is zlib's compressBound: the longest zlib stream of n bytes.
func zlibBound(n int) int64 {
	m := int64(n)
	return m + m>>12 + m>>14 + m>>25 + 13
}

// Get returns the value pickle of key, read as GetBounded reads it with
// codec.DefaultMaxSize.
func (c *FileClient) Get(ctx context.Context, key string) (Item, bool, error) {
	return c.get(ctx, key, codec.DefaultMaxSize)
}

// GetBounded is Get reading a value pickle of at most limit bytes (limit
// ≤ 0 is Get): a file larger than a limit-byte value can be is a miss
// without being read, a value that decompresses to more than limit bytes
// (or to nothing) is a miss, and decompression stops at the limit.
func (c *FileClient) GetBounded(ctx context.Context, key string, limit int) (Item, bool, error) {
	if limit <= 0 {
		limit = codec.DefaultMaxSize
	}
	return c.get(ctx, key, limit)
}

func (c *FileClient) get(ctx context.Context, key string, limit int) (Item, bool, error) {
	if err := c.ready(ctx); err != nil {
		return Item{}, false, err
	}
	path, _ := c.locate(key)
	f, fi, err := openEntry(path)
	if f == nil {
		return Item{}, false, err
	}
	defer f.Close()
	bound := maxExpiryPickle + zlibBound(limit)
	if fi.Size() > bound {
		return Item{}, false, nil
	}
	// The file may have grown since (Django's touch rewrites in place):
	// read one byte past the bound at most.
	var buf bytes.Buffer
	buf.Grow(int(fi.Size()) + bytes.MinRead)
	if _, err := buf.ReadFrom(io.LimitReader(f, bound+1)); err != nil {
		return Item{}, false, fileErr(err)
	}
	data := buf.Bytes()
	if int64(len(data)) > bound {
		return Item{}, false, nil
	}
	st, n := c.classify(data)
	switch st {
	case entryExpired:
		f.Close()
		c.removeExpired(key, fi)
		return Item{}, false, nil
	case entryMalformed:
		return Item{}, false, nil
	}
	v, err := pyzlib.Decompress(nil, data[n:], limit)
	if err != nil || len(v) == 0 {
		return Item{}, false, nil
	}
	return Item{Value: v}, true, nil
}

// Exists reports whether key has a live entry, reading only its expiry
// (FileBasedCache.has_key): an expired file is deleted. A file whose
// expiry cannot be read is reported absent and kept.
func (c *FileClient) Exists(ctx context.Context, key string) (bool, error) {
	if err := c.ready(ctx); err != nil {
		return false, err
	}
	path, _ := c.locate(key)
	st, fi, err := c.probe(path)
	if err != nil {
		return false, err
	}
	if st == entryExpired {
		c.removeExpired(key, fi)
	}
	return st == entryLive, nil
}

// content returns what a file of the value pickle holds with ttl.
func (c *FileClient) content(value []byte, ttl time.Duration) ([]byte, error) {
	return fileContent(value, pySeconds(c.now()), ttl)
}

// fileContent is the file of the value pickle written at now (CPython's
// time.time()) with ttl: the pickle of the expiry, now + ttl (now - 1 for
// a ttl of 0, Django's timeout 0, ticket 21147), then the zlib stream.
func fileContent(value []byte, now float64, ttl time.Duration) ([]byte, error) {
	exp := now
	if ttl == 0 {
		exp--
	} else {
		exp += ttl.Seconds()
	}
	b, err := pickle.AppendDumps(make([]byte, 0, 32+len(value)), py.Float(exp), pickle.HighestProtocol)
	if err != nil {
		return nil, fileErr(err)
	}
	b, err = pyzlib.Compress(b, value, zlibLevel)
	if err != nil {
		return nil, fileErr(err)
	}
	return b, nil
}

// ErrEntryExpired is returned (wrapped) by FileEntryFormat.Decode for a
// file whose expiry has passed: Django's get deletes it and misses.
var ErrEntryExpired = errors.New("cache: the cache entry has expired")

// FileEntryFormat is the whole content of a FileBasedCache file as a
// codec.Format (the expiry pickle, then the zlib stream of the value's
// pickle, spec §6.3), for a tool that holds a file's bytes rather than a
// FileClient: djsession's decode and encode. Flags are ignored.
type FileEntryFormat struct {
	// Now is the clock for expiry times; nil is time.Now.
	Now func() time.Time
	// TTL is the time to live Encode writes (its expiry is now + TTL);
	// it must be positive.
	TTL time.Duration
	// MaxSize bounds the value's pickle read; 0 is codec.DefaultMaxSize.
	MaxSize int
}

func (f FileEntryFormat) now() float64 {
	if f.Now == nil {
		return pySeconds(time.Now())
	}
	return pySeconds(f.Now())
}

// Encode returns the file FileBasedCache.set writes for v with f.TTL,
// byte for byte but for the expiry, which is now + TTL.
func (f FileEntryFormat) Encode(v py.Value) ([]byte, uint32, error) {
	if f.TTL <= 0 {
		return nil, 0, fmt.Errorf("%w: FileEntryFormat needs a positive TTL", django.ErrImproperlyConfigured)
	}
	b, _, err := (codec.DjangoPickle{}).Encode(v)
	if err != nil {
		return nil, 0, err
	}
	b, err = fileContent(b, f.now(), f.TTL)
	return b, 0, err
}

// Decode reads a file as FileBasedCache.get does: an empty file or an
// expiry before now is ErrEntryExpired; an expiry that is no number, or a
// value that does not inflate, is codec.ErrMalformed; more than MaxSize
// bytes of value pickle is codec.ErrTooLarge.
func (f FileEntryFormat) Decode(data []byte, _ uint32) (py.Value, error) {
	st, n := classifyAt(data, f.now())
	switch st {
	case entryExpired:
		return py.None, ErrEntryExpired
	case entryMalformed:
		return py.None, fmt.Errorf("%w: the file does not start with a pickled expiry time", codec.ErrMalformed)
	}
	limit := f.MaxSize
	if limit <= 0 {
		limit = codec.DefaultMaxSize
	}
	value, err := pyzlib.Decompress(nil, data[n:], limit)
	switch {
	case errors.Is(err, pyzlib.ErrTooLarge):
		return py.None, fmt.Errorf("%w (over %d bytes)", codec.ErrTooLarge, limit)
	case err != nil:
		return py.None, fmt.Errorf("%w: the value is not a zlib stream: %v", codec.ErrMalformed, err)
	}
	return codec.DjangoPickle{MaxSize: limit}.Decode(value, 0)
}

// Set writes it under key for ttl (FileBasedCache.set): cull, temporary
// file, rename over the entry.
func (c *FileClient) Set(ctx context.Context, key string, it Item, ttl time.Duration) error {
	if err := c.ready(ctx); err != nil {
		return err
	}
	content, err := c.content(it.Value, ttl)
	if err != nil {
		return err
	}
	path, mu := c.locate(key)
	mu.Lock()
	defer mu.Unlock()
	_, err = c.write(path, content, false)
	return err
}

// Add writes it under key only if there is no live entry
// (FileBasedCache.add: has_key, deleting an expired file, then set), and
// never over an entry another writer created meanwhile: the file is
// linked to the entry's name, which fails if the name exists. A file
// whose expiry cannot be read is not overwritten (added is false).
func (c *FileClient) Add(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.writeIf(ctx, key, it, ttl, true)
}

// Replace writes it under key only if there is a live entry (Django's
// session save: get, then set); an expired entry is deleted and not
// replaced.
func (c *FileClient) Replace(ctx context.Context, key string, it Item, ttl time.Duration) (bool, error) {
	return c.writeIf(ctx, key, it, ttl, false)
}

// writeIf is Add (absent) or Replace (!absent): under the key's lock it
// reads the entry's expiry, deletes an expired file, and writes only over
// no live entry (linked, never clobbering) or only over a live one.
func (c *FileClient) writeIf(ctx context.Context, key string, it Item, ttl time.Duration, absent bool) (bool, error) {
	if err := c.ready(ctx); err != nil {
		return false, err
	}
	content, err := c.content(it.Value, ttl)
	if err != nil {
		return false, err
	}
	path, mu := c.locate(key)
	mu.Lock()
	defer mu.Unlock()
	st, fi, err := c.probe(path)
	if err != nil {
		return false, err
	}
	if st == entryExpired {
		removeStale(path, fi)
	}
	if absent && (st == entryLive || st == entryMalformed) || !absent && st != entryLive {
		return false, nil
	}
	return c.write(path, content, absent)
}

// write creates the folder, culls, and puts content at path through a
// temporary file: renamed over path, or with exclusive, linked to path
// (false when path exists). The caller holds path's lock.
func (c *FileClient) write(path string, content []byte, exclusive bool) (bool, error) {
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return false, fileErr(err)
	}
	if err := c.cull(); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(c.dir, "tmp*")
	if err != nil {
		return false, fileErr(err)
	}
	name := tmp.Name()
	_, err = tmp.Write(content)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(name)
		return false, fileErr(err)
	}
	if !exclusive {
		if err := os.Rename(name, path); err != nil {
			os.Remove(name)
			return false, fileErr(err)
		}
		return true, nil
	}
	err = os.Link(name, path)
	switch {
	case err == nil:
		os.Remove(name)
		return true, nil
	case errors.Is(err, fs.ErrExist):
		os.Remove(name)
		return false, nil
	case errors.Is(err, errors.ErrUnsupported) || errors.Is(err, syscall.EPERM):
		// No hard links here (FAT, some network file systems): check,
		// then rename, as Django's add does.
		if _, err := os.Lstat(path); !errors.Is(err, fs.ErrNotExist) {
			os.Remove(name)
			if err != nil {
				return false, fileErr(err)
			}
			return false, nil
		}
		if err := os.Rename(name, path); err != nil {
			os.Remove(name)
			return false, fileErr(err)
		}
		return true, nil
	}
	os.Remove(name)
	return false, fileErr(err)
}

// cacheFiles lists the cache files of the folder as Python's
// glob.glob1(dir, "*.djcache") does (hidden names excluded), leaving out
// folders. A missing folder has none.
func (c *FileClient) cacheFiles() ([]string, error) {
	d, err := os.Open(c.dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fileErr(err)
	}
	defer d.Close()
	var names []string
	for {
		ents, err := d.ReadDir(256)
		for _, e := range ents {
			n := e.Name()
			if strings.HasSuffix(n, fileSuffix) && !strings.HasPrefix(n, ".") && !e.IsDir() {
				names = append(names, n)
			}
		}
		if err == io.EOF {
			return names, nil
		}
		if err != nil {
			return nil, fileErr(err)
		}
	}
}

// cull makes room as FileBasedCache._cull does: with MaxEntries cache
// files or more, delete all of them (CullAll) or int(n/CullFrequency)
// chosen at random. A file deleted meanwhile by someone else is no error.
func (c *FileClient) cull() error {
	names, err := c.cacheFiles()
	if err != nil || len(names) < c.maxEntries {
		return err
	}
	k := len(names)
	if c.cullFrequency != CullAll {
		k = len(names) / c.cullFrequency
		// A random sample of k: the first k of a partial shuffle.
		for i := range k {
			j := i + rand.IntN(len(names)-i)
			names[i], names[j] = names[j], names[i]
		}
	}
	for _, n := range names[:k] {
		if err := os.Remove(filepath.Join(c.dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fileErr(err)
		}
	}
	return nil
}

// Delete removes key's file whatever its expiry (FileBasedCache.delete);
// deleted is false when there was none.
func (c *FileClient) Delete(ctx context.Context, key string) (bool, error) {
	if err := c.ready(ctx); err != nil {
		return false, err
	}
	path, mu := c.locate(key)
	mu.Lock()
	defer mu.Unlock()
	// os.Remove would also remove an empty folder of that name; Django's
	// os.remove raises for one (IsADirectoryError), and so do we.
	if fi, err := os.Lstat(path); err == nil && fi.IsDir() {
		return false, fileErr(fmt.Errorf("%s is a folder: %w", path, fs.ErrInvalid))
	}
	err := os.Remove(path)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, fileErr(err)
}

// errFileScan is Scan's answer.
func errFileScan() error {
	return fmt.Errorf("%w: the file-based cache names its files by the md5 of the key, so its keys cannot be listed", django.ErrNotSupported)
}

// Scan cannot list keys: the files are named by a hash of the key. It
// returns django.ErrNotSupported, as memcached's does.
func (c *FileClient) Scan(context.Context, string, func(string, Item) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return errFileScan()
}

// ScanBounded is Scan: django.ErrNotSupported.
func (c *FileClient) ScanBounded(context.Context, string, int, func(string, Item) error) error {
	if c.closed.Load() {
		return ErrClosed
	}
	return errFileScan()
}

// Close marks the client closed: later calls return ErrClosed. It holds
// no resources.
func (c *FileClient) Close() error {
	c.closed.Store(true)
	return nil
}
