package soaktest

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cacheddb"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// The environment variables that shape the soak.
const (
	soakVar     = "DJSESSION_SOAK"          // "1" runs TestSoak
	timeVar     = "DJSESSION_SOAK_TIME"     // time per backend: "10s", or seconds
	clientsVar  = "DJSESSION_SOAK_CLIENTS"  // concurrent clients per backend
	backendsVar = "DJSESSION_SOAK_BACKENDS" // comma-separated subset of backends
)

var (
	clientsFlag = flag.Int("soak.clients", 0, "concurrent clients per backend (default $"+clientsVar+" or 32)")
	timeFlag    = flag.Duration("soak.time", 0, "soak time per backend (default $"+timeVar+" or 10s)")
)

const (
	defaultClients = 32
	defaultTime    = 10 * time.Second
	// poolSize is the number of sessions the loads and saves pick from.
	poolSize = 1000
	// growthLimit is how much the mean HeapInuse of the run's last third
	// may exceed its first third's (after warm-up) before the soak fails.
	growthLimit = 1.5
	// maxTimeoutShare is the share of operations that may time out (the
	// stores' own bounds, e.g. cache.DefaultReadTimeout) before the soak
	// fails: a loaded machine stalls a few; a broken store times out many.
	// Any other error fails the soak.
	maxTimeoutShare = 0.001
	// The mix, in percent: the rest are create-then-delete (login, logout).
	loadPercent = 80
	savePercent = 15
)

func numClients(tb testing.TB) int {
	if *clientsFlag > 0 {
		return *clientsFlag
	}
	if v := os.Getenv(clientsVar); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10000 {
			tb.Fatalf("%s=%q: want a number of clients from 1 to 10000", clientsVar, v)
		}
		return n
	}
	return defaultClients
}

func soakTime(tb testing.TB) time.Duration {
	if *timeFlag > 0 {
		return *timeFlag
	}
	v := os.Getenv(timeVar)
	if v == "" {
		return defaultTime
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		secs, ferr := strconv.ParseFloat(v, 64)
		if ferr != nil {
			tb.Fatalf("%s=%q: want a duration (10s) or seconds", timeVar, v)
		}
		d = time.Duration(secs * float64(time.Second))
	}
	if d <= 0 || d > 24*time.Hour {
		tb.Fatalf("%s=%q: want a duration from 0 to 24h", timeVar, v)
	}
	return d
}

// backend is one store configuration the soak drives.
type backend struct {
	name string
	// open returns a fresh, empty store on its own folder, database or key
	// prefix, removed (and the store closed) when tb ends. A server that
	// is down goes through testenv.Require.
	open func(tb testing.TB, s *django.Settings) django.Store
}

var backends = []backend{
	{"file", openFile},
	{"db-sqlite", openSQLite},
	{"db-postgres", func(tb testing.TB, s *django.Settings) django.Store { return openDB(tb, testenv.PostgresDB(tb), s) }},
	{"db-mysql", func(tb testing.TB, s *django.Settings) django.Store { return openDB(tb, testenv.MySQLDB(tb), s) }},
	{"cache-redis", openRedis},
	{"cache-memcached", openMemcached},
	{"cached_db", openCachedDB},
}

// selected returns the backends $DJSESSION_SOAK_BACKENDS names, or all.
func selected(tb testing.TB) []backend {
	v := strings.TrimSpace(os.Getenv(backendsVar))
	if v == "" {
		return backends
	}
	var out []backend
	for _, name := range strings.Split(v, ",") {
		name = strings.TrimSpace(name)
		found := false
		for _, b := range backends {
			if b.name == name {
				out = append(out, b)
				found = true
			}
		}
		if !found {
			names := make([]string, len(backends))
			for i, b := range backends {
				names[i] = b.name
			}
			tb.Fatalf("%s: unknown backend %q (have %s)", backendsVar, name, strings.Join(names, ", "))
		}
	}
	return out
}

func adminCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 60*time.Second)
}

func closeAtEnd(tb testing.TB, c io.Closer) {
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Errorf("closing the store: %v", err)
		}
	})
}

func openFile(tb testing.TB, s *django.Settings) django.Store {
	s.SessionFilePath = tb.TempDir()
	st, err := file.New(s)
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

// openSQLite uses WAL, the journal mode a site serving concurrent requests
// from SQLite runs (with the rollback journal every write blocks readers).
func openSQLite(tb testing.TB, s *django.Settings) django.Store {
	return openDB(tb, testenv.SQLiteURL(tb)+"?_journal_mode=WAL", s)
}

func openDB(tb testing.TB, url string, s *django.Settings) django.Store {
	st, err := db.Open(url, s)
	if err != nil {
		tb.Fatal(err)
	}
	closeAtEnd(tb, st)
	ctx, cancel := adminCtx()
	defer cancel()
	if err := st.CreateTable(ctx); err != nil {
		tb.Fatal(err)
	}
	return st
}

// keyPrefix returns a fresh KEY_PREFIX, so the soak never touches other
// users of the server.
func keyPrefix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return "djs-soak-" + hex.EncodeToString(b[:])
}

// redisPrefix checks that the test Redis answers and arranges for every key
// under a fresh prefix to be deleted when tb ends (after the store closes:
// cleanups run last-registered first). It returns the URL and the prefix.
func redisPrefix(tb testing.TB) (url, prefix string) {
	url = testenv.RedisURL()
	opt, err := redis.ParseURL(url)
	if err != nil {
		tb.Fatalf("%s: %v", testenv.RedisURLVar, err)
	}
	opt.DialTimeout = 2 * time.Second
	rc := redis.NewClient(opt)
	ctx, cancel := adminCtx()
	defer cancel()
	if err := rc.Ping(ctx).Err(); err != nil {
		rc.Close()
		testenv.Require(tb, "Redis at "+testenv.Redact(url), err)
	}
	prefix = keyPrefix()
	tb.Cleanup(func() {
		defer rc.Close()
		ctx, cancel := adminCtx()
		defer cancel()
		var keys []string
		iter := rc.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if err := iter.Err(); err != nil {
			tb.Errorf("cleaning up %s*: %v", prefix, err)
			return
		}
		for len(keys) > 0 {
			n := min(len(keys), 1000)
			if err := rc.Del(ctx, keys[:n]...).Err(); err != nil {
				tb.Errorf("cleaning up %s*: %v", prefix, err)
				return
			}
			keys = keys[n:]
		}
	})
	return url, prefix
}

func openRedis(tb testing.TB, s *django.Settings) django.Store {
	url, prefix := redisPrefix(tb)
	st, err := cache.Open(url, s, cache.WithKeyPrefix(prefix))
	if err != nil {
		tb.Fatal(err)
	}
	closeAtEnd(tb, st)
	return st
}

// openMemcached stores under a fresh prefix. Memcached cannot list keys:
// the soak deletes the sessions it made, and anything left behind expires
// with SESSION_COOKIE_AGE, which the soak keeps short.
func openMemcached(tb testing.TB, s *django.Settings) django.Store {
	addr := testenv.MemcachedAddr()
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err == nil {
		c.Close()
	}
	testenv.Require(tb, "memcached at "+addr, err)
	st, err := cache.Open("pymemcache://"+addr, s, cache.WithKeyPrefix(keyPrefix()))
	if err != nil {
		tb.Fatal(err)
	}
	closeAtEnd(tb, st)
	ctx, cancel := adminCtx()
	defer cancel()
	_, _, err = st.Load(ctx, "soakavailabilitycheck00000000000")
	testenv.Require(tb, "memcached at "+addr, err)
	return st
}

// openCachedDB puts Redis in front of PostgreSQL, the usual production
// pairing.
func openCachedDB(tb testing.TB, s *django.Settings) django.Store {
	dbURL := testenv.PostgresDB(tb)
	url, prefix := redisPrefix(tb)
	st, err := cacheddb.Open(dbURL, url, s, nil, []cache.Option{cache.WithKeyPrefix(prefix)})
	if err != nil {
		tb.Fatal(err)
	}
	closeAtEnd(tb, st)
	ctx, cancel := adminCtx()
	defer cancel()
	if err := st.DB().(*db.Store).CreateTable(ctx); err != nil {
		tb.Fatal(err)
	}
	return st
}

// soakSettings are Django's defaults with a session age just long enough
// for the run, so whatever a cache keeps after a crashed run expires soon.
func soakSettings(run time.Duration) *django.Settings {
	s := django.DefaultSettings("djsession-soak-secret-key-0123456789abcdef")
	s.SessionCookieAge = int((run + 10*time.Minute) / time.Second)
	return s
}

// errLost is a pool session that a load did not find: the store lost it.
var errLost = errors.New("a stored session was not found")

// mix is the workload on one store: loads and load-modify-saves of a pool
// of sessions, and create-then-delete of new ones, all through
// django.Session as a request handler does.
type mix struct {
	st   django.Store
	s    *django.Settings
	pool []string
}

// fill gives a session what a logged-in user's session holds (about 400
// bytes of session_data).
func fill(sess *django.Session, user int) {
	sess.Set("_auth_user_id", py.Str(strconv.Itoa(user)))
	sess.Set("_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"))
	sess.Set("_auth_user_hash", py.Str(fmt.Sprintf("%064x", user)))
	sess.Set("django_language", py.Str("en"))
	sess.Set("cart", py.NewList(py.Int(int64(user%97)), py.Int(7), py.Str("SKU-"+strconv.Itoa(user))))
	sess.Set("last_seen", py.Int(time.Now().Unix()))
}

func (m *mix) load(ctx context.Context, key string) (*django.Session, error) {
	sess := django.NewSession(ctx, m.st, m.s, key)
	if err := sess.Load(); err != nil {
		return nil, err
	}
	if _, ok := sess.GetStr("_auth_user_id"); !ok || sess.SessionKey() != key {
		return nil, errLost
	}
	return sess, nil
}

func (m *mix) save(ctx context.Context, key string, n int64) error {
	sess, err := m.load(ctx, key)
	if err != nil {
		return err
	}
	sess.Set("last_seen", py.Int(n))
	return sess.Save(false)
}

func (m *mix) createDelete(ctx context.Context, user int) error {
	sess := django.NewSession(ctx, m.st, m.s, "")
	fill(sess, user)
	if err := sess.Save(false); err != nil {
		return err
	}
	// Logout: flush deletes the record without reading it.
	return django.NewSession(ctx, m.st, m.s, sess.SessionKey()).Flush()
}

// preload creates the pool with clients goroutines and deletes it when tb
// ends.
func (m *mix) preload(ctx context.Context, tb testing.TB, clients int) {
	m.pool = make([]string, poolSize)
	errs := make([]error, poolSize)
	parallel(clients, poolSize, func(i int) {
		sess := django.NewSession(ctx, m.st, m.s, "")
		fill(sess, i)
		if errs[i] = sess.Save(false); errs[i] == nil {
			m.pool[i] = sess.SessionKey()
		}
	})
	tb.Cleanup(func() {
		ctx, cancel := adminCtx()
		defer cancel()
		var n atomic.Int64
		parallel(clients, poolSize, func(i int) {
			if m.pool[i] != "" && m.st.Delete(ctx, m.pool[i]) != nil {
				n.Add(1)
			}
		})
		if n.Load() > 0 {
			tb.Errorf("cleaning up: %d sessions not deleted", n.Load())
		}
	})
	failed := 0
	var first error
	for _, err := range errs {
		if err != nil {
			failed++
			first = cmp.Or(first, err)
		}
	}
	if failed > 0 {
		tb.Fatalf("creating the session pool: %d of %d saves failed; first: %v", failed, poolSize, first)
	}
}

// parallel runs fn(0..n-1) on g goroutines.
func parallel(g, n int, fn func(i int)) {
	var wg sync.WaitGroup
	var next atomic.Int64
	for range g {
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

// stats are one client's (or, merged, a run's) measurements.
type stats struct {
	all, load, save, create histogram
	errors, timeouts        int64
	firstErr, firstTimeout  error
}

// isTimeout reports an operation that ran out of time or found the server
// unreachable, as opposed to one that went wrong.
func isTimeout(err error) bool {
	var ne net.Error
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, cache.ErrUnavailable) ||
		errors.As(err, &ne) && ne.Timeout()
}

func (s *stats) failed(err error) {
	if isTimeout(err) {
		s.timeouts++
		s.firstTimeout = cmp.Or(s.firstTimeout, err)
		return
	}
	s.errors++
	s.firstErr = cmp.Or(s.firstErr, err)
}

func (s *stats) merge(o *stats) {
	s.all.merge(&o.all)
	s.load.merge(&o.load)
	s.save.merge(&o.save)
	s.create.merge(&o.create)
	s.errors += o.errors
	s.timeouts += o.timeouts
	s.firstErr = cmp.Or(s.firstErr, o.firstErr)
	s.firstTimeout = cmp.Or(s.firstTimeout, o.firstTimeout)
}

// run drives the mix with clients goroutines, each doing operations while
// next() says so, and returns the merged measurements.
func (m *mix) run(ctx context.Context, clients int, next func() bool) *stats {
	per := make([]stats, clients) // allocated up front: recording never allocates
	seed := uint64(time.Now().UnixNano())
	var wg sync.WaitGroup
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st := &per[c]
			rng := mrand.New(mrand.NewPCG(seed, uint64(c)))
			for n := int64(0); next(); n++ {
				key := m.pool[rng.IntN(len(m.pool))]
				r := rng.IntN(100)
				h := &st.load
				start := time.Now()
				var err error
				switch {
				case r < loadPercent:
					_, err = m.load(ctx, key)
				case r < loadPercent+savePercent:
					h = &st.save
					err = m.save(ctx, key, n)
				default:
					h = &st.create
					err = m.createDelete(ctx, rng.IntN(1_000_000))
				}
				d := time.Since(start)
				h.record(d)
				st.all.record(d)
				if err != nil {
					st.failed(err)
				}
			}
		}()
	}
	wg.Wait()
	total := &stats{}
	for i := range per {
		total.merge(&per[i])
	}
	return total
}

// sampler records HeapInuse right after a garbage collection (and the live
// heap that collection found) every interval until stopped.
type sampler struct {
	heap, live []uint64
	stop, done chan struct{}
}

func startSampler(every time.Duration, expect int) *sampler {
	sm := &sampler{
		heap: make([]uint64, 0, expect+4),
		live: make([]uint64, 0, expect+4),
		stop: make(chan struct{}),
		done: make(chan struct{}),
	}
	go func() {
		defer close(sm.done)
		tick := time.NewTicker(every)
		defer tick.Stop()
		var ms runtime.MemStats
		sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
		for {
			select {
			case <-sm.stop:
				return
			case <-tick.C:
			}
			// After a collection HeapInuse is the heap the run holds on
			// to; between collections it swings with the garbage (up to
			// GOGC=100's twice the live heap), which would hide growth
			// or fake it. One forced GC a second is noise next to the
			// many the mix triggers itself.
			runtime.GC()
			runtime.ReadMemStats(&ms)
			metrics.Read(sample)
			var live uint64
			if sample[0].Value.Kind() == metrics.KindUint64 {
				live = sample[0].Value.Uint64()
			}
			sm.heap = append(sm.heap, ms.HeapInuse)
			sm.live = append(sm.live, live)
		}
	}()
	return sm
}

func (sm *sampler) finish() {
	close(sm.stop)
	<-sm.done
}

// result is one backend's row of the table.
type result struct {
	name        string
	clients     int
	elapsed     time.Duration
	st          *stats
	heapFirst   float64 // mean HeapInuse of the first third after warm-up
	heapLast    float64 // mean HeapInuse of the last third
	heapJudged  bool
	liveLast    uint64
	heapSamples []uint64
}

func (r *result) opsPerSec() float64 { return float64(r.st.all.n) / r.elapsed.Seconds() }

// mib formats byte counts as MiB with one decimal.
func mib(v []uint64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = fmt.Sprintf("%.1f", float64(x)/(1<<20))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f", float64(d)/float64(time.Millisecond)) }

const tableHeader = "backend          clients      ops     ops/s  p50 ms  p99 ms   max ms  p99 load  p99 save  p99 c+d  heap MiB 1st->last  growth  live MiB  errors  timeouts"

func (r *result) row() string {
	growth := "n/a"
	heap := "n/a"
	if r.heapJudged {
		growth = fmt.Sprintf("%.2fx", r.heapLast/r.heapFirst)
		heap = fmt.Sprintf("%.1f -> %.1f", r.heapFirst/(1<<20), r.heapLast/(1<<20))
	}
	return fmt.Sprintf("%-16s %7d %8d %9.0f %7s %7s %8s %9s %9s %8s  %17s  %6s  %8.1f  %6d  %8d",
		r.name, r.clients, r.st.all.n, r.opsPerSec(), ms(r.st.all.quantile(0.5)), ms(r.st.all.quantile(0.99)),
		ms(time.Duration(r.st.all.max)),
		ms(r.st.load.quantile(0.99)), ms(r.st.save.quantile(0.99)), ms(r.st.create.quantile(0.99)),
		heap, growth, float64(r.liveLast)/(1<<20), r.st.errors, r.st.timeouts)
}

// soak runs one backend for d with clients clients and checks it: no
// operation failed and the heap did not grow.
func soak(t *testing.T, be backend, clients int, d time.Duration) *result {
	s := soakSettings(d)
	st := be.open(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), d+10*time.Minute)
	defer cancel()
	m := &mix{st: st, s: s}
	m.preload(ctx, t, clients)

	runtime.GC()
	sm := startSampler(time.Second, int(d/time.Second))
	start := time.Now()
	deadline := start.Add(d)
	res := m.run(ctx, clients, func() bool { return time.Now().Before(deadline) })
	elapsed := time.Since(start)
	sm.finish()

	r := &result{name: be.name, clients: clients, elapsed: elapsed, st: res, heapSamples: sm.heap}
	r.heapFirst, r.heapLast, r.heapJudged = heapGrowth(sm.heap)
	if n := len(sm.live); n > 0 {
		r.liveLast = sm.live[n-1]
	}
	t.Logf("%s: HeapInuse MiB each second %s; live heap MiB %s", be.name, mib(sm.heap), mib(sm.live))
	if res.all.n == 0 {
		t.Errorf("%s: no operation finished in %v", be.name, d)
	}
	if res.errors > 0 {
		t.Errorf("%s: %d of %d operations failed; first: %v", be.name, res.errors, res.all.n, res.firstErr)
	}
	if res.timeouts > 0 {
		msg := fmt.Sprintf("%s: %d of %d operations timed out (limit %.1f%%); first: %v",
			be.name, res.timeouts, res.all.n, 100*maxTimeoutShare, res.firstTimeout)
		if float64(res.timeouts) > maxTimeoutShare*float64(res.all.n) {
			t.Error(msg)
		} else {
			t.Log(msg)
		}
	}
	switch {
	case !r.heapJudged:
		t.Logf("%s: %d heap samples are too few to judge growth (soak at least 5s)", be.name, len(sm.heap))
	case r.heapLast > growthLimit*r.heapFirst:
		t.Errorf("%s: the heap grew: mean HeapInuse %.1f MiB in the last third, %.1f MiB in the first (limit %.1fx); MiB each second %s",
			be.name, r.heapLast/(1<<20), r.heapFirst/(1<<20), growthLimit, mib(sm.heap))
	}
	return r
}

// TestSoak holds concurrent clients on each backend for a fixed time and
// prints throughput, latency and heap; it fails on any failed operation,
// too many timeouts or a growing heap. Opt-in: DJSESSION_SOAK=1.
func TestSoak(t *testing.T) {
	if os.Getenv(soakVar) != "1" {
		t.Skipf("the soak takes minutes and needs the test servers: set %s=1 to run it", soakVar)
	}
	clients, d := numClients(t), soakTime(t)
	var rows []*result
	for _, be := range selected(t) {
		t.Run(be.name, func(t *testing.T) {
			r := soak(t, be, clients, d)
			t.Logf("%s\n%s", tableHeader, r.row())
			rows = append(rows, r)
		})
	}
	var b strings.Builder
	fmt.Fprintf(&b, "soak: %d clients, %v per backend, mix %d%% load / %d%% save / %d%% create+delete, %d pooled sessions, GOMAXPROCS %d\n",
		clients, d, loadPercent, savePercent, 100-loadPercent-savePercent, poolSize, runtime.GOMAXPROCS(0))
	b.WriteString(tableHeader)
	for _, r := range rows {
		b.WriteString("\n" + r.row())
	}
	t.Log(b.String())
}

// BenchmarkSoak runs the soak's mix as a benchmark: each iteration is one
// operation handed to one of the clients (DJSESSION_SOAK_CLIENTS or
// -soak.clients, default 32). It reports throughput and latency
// percentiles; ns/op is wall time per operation across all clients.
func BenchmarkSoak(b *testing.B) {
	clients := numClients(b)
	for _, be := range selected(b) {
		b.Run(be.name, func(b *testing.B) {
			b.ReportAllocs()
			s := soakSettings(time.Hour)
			st := be.open(b, s)
			ctx, cancel := context.WithTimeout(context.Background(), time.Hour)
			defer cancel()
			m := &mix{st: st, s: s}
			m.preload(ctx, b, clients)

			work := make(chan struct{}, clients)
			var res *stats
			done := make(chan struct{})
			go func() {
				defer close(done)
				res = m.run(ctx, clients, func() bool { _, ok := <-work; return ok })
			}()
			start := time.Now()
			for b.Loop() {
				work <- struct{}{}
			}
			close(work)
			<-done
			elapsed := time.Since(start)
			if res.errors > 0 {
				b.Errorf("%d of %d operations failed; first: %v", res.errors, res.all.n, res.firstErr)
			}
			if float64(res.timeouts) > maxTimeoutShare*float64(res.all.n) {
				b.Errorf("%d of %d operations timed out; first: %v", res.timeouts, res.all.n, res.firstTimeout)
			}
			b.ReportMetric(float64(res.all.n)/elapsed.Seconds(), "ops/s")
			b.ReportMetric(float64(res.all.quantile(0.5)), "p50-ns")
			b.ReportMetric(float64(res.all.quantile(0.99)), "p99-ns")
		})
	}
}

// TestIsTimeout: which failures count as timeouts rather than errors.
func TestIsTimeout(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("load: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("%w: memcached get: i/o timeout", cache.ErrUnavailable), true},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, true},
		{&net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}, false},
		{errLost, false},
		{fmt.Errorf("save: %w", django.ErrUpdateMissing), false},
		{context.Canceled, false},
	} {
		if got := isTimeout(tc.err); got != tc.want {
			t.Errorf("isTimeout(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
