package hostiletest

import (
	"context"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/djsession/djsession/backends/cache"
	"github.com/djsession/djsession/backends/cache/codec"
	"github.com/djsession/djsession/backends/cache/dbcache"
	"github.com/djsession/djsession/backends/cacheddb"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/backends/signedcookies"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/middleware"
	"github.com/djsession/djsession/django/storetest"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// The bounds every input must stay within, per entry point call.
const (
	// timeLimit bounds one call (one Load, one request, one CLI run).
	timeLimit = 2 * time.Second
	// allocLimit bounds the bytes allocated during one in-process call
	// (runtime.MemStats.TotalAlloc delta).
	allocLimit = 64 << 20
)

// limitTime is timeLimit, stretched under the race detector (5–10×
// slower for CPU-bound code).
func limitTime() time.Duration {
	if raceEnabled {
		return 10 * timeLimit
	}
	return timeLimit
}

// Outcomes an entry point must produce.
const (
	reject = "reject"
	accept = "accept"
	anyOK  = "any"
)

// want returns what an entry point where the entry's MAC applies (applies)
// must do with it; everywhere else every entry is rejected.
func (e loaded) want(applies bool) string {
	if !applies || e.Expect == "" {
		return reject
	}
	return e.Expect
}

func (e loaded) serializer() string {
	if e.Serializer == "" {
		return "json"
	}
	return e.Serializer
}

// bounds records the worst time and allocation seen and fails calls over
// the limits.
type bounds struct {
	mu         sync.Mutex
	calls      int
	byEntry    map[string]time.Duration // total time per entry name
	maxDur     time.Duration
	maxDurAt   string
	maxAlloc   uint64
	maxAllocAt string
}

// run calls f, turning a panic into a test failure, and checks its time
// and (when alloc is set) its allocations. In-process calls run one at a
// time, so the TotalAlloc delta is theirs (plus the HTTP client's and
// server's work for the request).
func (b *bounds) run(t *testing.T, what string, f func()) {
	t.Helper()
	var m0, m1 runtime.MemStats
	runtime.ReadMemStats(&m0)
	start := time.Now()
	p := func() (p any) {
		defer func() { p = recover() }()
		f()
		return nil
	}()
	d := time.Since(start)
	runtime.ReadMemStats(&m1)
	alloc := m1.TotalAlloc - m0.TotalAlloc
	if p != nil {
		t.Errorf("%s: panic: %v", what, p)
	}
	b.record(t, what, d, alloc)
}

func (b *bounds) record(t *testing.T, what string, d time.Duration, alloc uint64) {
	t.Helper()
	b.mu.Lock()
	b.calls++
	if b.byEntry == nil {
		b.byEntry = map[string]time.Duration{}
	}
	name, _, _ := strings.Cut(what, ": ")
	b.byEntry[name] += d
	if d > b.maxDur {
		b.maxDur, b.maxDurAt = d, what
	}
	if alloc > b.maxAlloc {
		b.maxAlloc, b.maxAllocAt = alloc, what
	}
	b.mu.Unlock()
	if d > limitTime() {
		t.Errorf("%s: took %v (limit %v)", what, d, limitTime())
	}
	if alloc > allocLimit {
		t.Errorf("%s: allocated %d MiB (limit %d MiB)", what, alloc>>20, allocLimit>>20)
	}
}

// slowest returns the n entries that took the most time in all, for the
// log.
func (b *bounds) slowest(n int) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	names := make([]string, 0, len(b.byEntry))
	for k := range b.byEntry {
		names = append(names, k)
	}
	sort.Slice(names, func(i, j int) bool { return b.byEntry[names[i]] > b.byEntry[names[j]] })
	var out []string
	for _, k := range names[:min(n, len(names))] {
		out = append(out, fmt.Sprintf("%s %v", k, b.byEntry[k].Round(time.Millisecond)))
	}
	return strings.Join(out, ", ")
}

// secrets returns the strings no error, log line or stderr may contain
// for value: SECRET_KEY, and the MAC a token-shaped value should have
// carried under each salt, unless the value itself carries it.
func secrets(value string) []string {
	out := []string{secretKey}
	i := strings.LastIndexByte(value, ':')
	if i <= 0 {
		return out
	}
	for _, s := range macSigners {
		if sig := s.Signature(value[:i]); !strings.Contains(value, sig) {
			out = append(out, sig)
		}
	}
	return out
}

var macSigners = func() []*signing.TimestampSigner {
	var out []*signing.TimestampSigner
	for _, salt := range []string{sessionSalt, cookieSalt} {
		s, err := signing.NewTimestampSigner([]byte(secretKey), &signing.Options{Salt: salt})
		if err != nil {
			panic(err)
		}
		out = append(out, s)
	}
	return out
}()

func checkNoSecret(t *testing.T, what, text string, forbidden []string) {
	t.Helper()
	for _, s := range forbidden {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s: output contains a secret or an expected MAC (%d chars): %.200q", what, len(s), text)
		}
	}
}

// engines are the five session engines, built for one SESSION_SERIALIZER.
type engines struct {
	settings *django.Settings
	file     *file.Store
	db       *db.Store
	cookies  *signedcookies.Store
	cache    *cache.Store
	cachedDB *cacheddb.Store
}

// cacheEngines are the cache and cached_db engines for one cache format.
type cacheEngines struct {
	cache    *cache.Store
	cachedDB *cacheddb.Store
}

type fixture struct {
	ctx       context.Context
	redisURL  string
	prefix    string
	engines   map[string]*engines      // by serializer
	caches    map[string]*cacheEngines // by CacheFormat.String()
	handlers  map[django.Store]http.Handler
	servers   map[django.Store]*httptest.Server
	client    *http.Client
	logs      testenv.LogBuffer // middleware (slog) and http.Server logs
	userLoads atomic.Int64
	b         bounds
	// djangoCaches are the cache engine over Django's FileBasedCache and
	// DatabaseCache (SQLite in memory), which hold bare pickles: the
	// corpus's "django" (RedisCache) pickles are planted there too.
	djangoCaches map[string]*cache.Store
}

func fixedClock() time.Time { return time.Unix(corpusTime+60, 0) }

func newSettings(t *testing.T, ser string) *django.Settings {
	s, _ := storetest.Settings()
	s.SecretKey = secretKey
	s.Clock = fixedClock
	s.SessionFilePath = t.TempDir()
	if ser == "pickle" {
		s.SessionSerializer = django.PickleSerializer{}
	}
	return s
}

func newFixture(t *testing.T) *fixture {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	fx := &fixture{
		ctx:      ctx,
		redisURL: testenv.RedisURL(),
		prefix:   fmt.Sprintf("djs-hostile-%d-%d", os.Getpid(), time.Now().UnixNano()),
		engines:  map[string]*engines{},
		caches:   map[string]*cacheEngines{},
		handlers: map[django.Store]http.Handler{},
		servers:  map[django.Store]*httptest.Server{},
		client:   &http.Client{Timeout: 30 * time.Second},
	}
	for _, ser := range []string{"json", "pickle"} {
		s := newSettings(t, ser)
		e := &engines{settings: s}
		var err error
		if e.file, err = file.New(s); err != nil {
			t.Fatal(err)
		}
		// In memory: a file database spends most of this test in fsync.
		if e.db, err = db.Open("sqlite://:memory:", s); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { e.db.Close() })
		if err := e.db.CreateTable(ctx); err != nil {
			t.Fatal(err)
		}
		if e.cookies, err = signedcookies.New(s); err != nil {
			t.Fatal(err)
		}
		e.cache = fx.openCache(t, s, CacheFormat{Format: "django-redis"}, codec.SessionCachePrefix)
		cdb := fx.openCache(t, s, CacheFormat{Format: "django-redis"}, codec.CachedDBPrefix)
		if e.cachedDB, err = cacheddb.New(e.db, cdb, s, cacheddb.WithLogger(fx.logger())); err != nil {
			t.Fatal(err)
		}
		fx.engines[ser] = e
	}
	fx.djangoCaches = fx.openDjangoCaches(t, fx.engines["json"].settings)
	// Redis must answer (or the test is skipped, or fails in CI).
	_, err := fx.engines["json"].cache.Client().Exists(ctx, fx.prefix+":probe")
	testenv.Require(t, "Redis at "+testenv.Redact(fx.redisURL), err)
	t.Cleanup(func() { fx.cleanRedis(t) })
	return fx
}

func (fx *fixture) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(&fx.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func (fx *fixture) openCache(t *testing.T, s *django.Settings, f CacheFormat, sessionPrefix string) *cache.Store {
	// Generous network timeouts: the 17 MiB value must not time out on a
	// loaded CI machine (a timeout is an error, where the test wants to
	// see the decoder's verdict).
	st, err := cache.Open(fx.redisURL, s, cache.WithKeyPrefix(fx.prefix), cache.WithFormatName(f.Format),
		cache.WithSerializer(f.Serializer), cache.WithCompressor(f.Compressor), cache.WithSessionPrefix(sessionPrefix),
		cache.WithReadTimeout(20*time.Second), cache.WithWriteTimeout(20*time.Second))
	if err != nil {
		t.Fatalf("cache.Open(%s): %v", f, err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// openDjangoCaches returns the cache engine over a FileBasedCache folder
// and a DatabaseCache table.
func (fx *fixture) openDjangoCaches(t *testing.T, s *django.Settings) map[string]*cache.Store {
	fc, err := cache.NewFileClient(t.TempDir(), cache.FileOptions{MaxEntries: 1 << 30, Now: s.Now})
	if err != nil {
		t.Fatal(err)
	}
	dc, err := dbcache.Open("sqlite://:memory:", "djs_cache", s, dbcache.Options{MaxEntries: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dc.Close() })
	if err := dc.CreateTable(fx.ctx); err != nil {
		t.Fatal(err)
	}
	stores := map[string]*cache.Store{}
	for name, c := range map[string]cache.Client{"filebased": fc, "database": dc} {
		if stores[name], err = cache.New(c, s); err != nil {
			t.Fatal(err)
		}
	}
	return stores
}

// cachesFor returns the cache engines reading format f.
func (fx *fixture) cachesFor(t *testing.T, f CacheFormat) *cacheEngines {
	k := f.String()
	if c, ok := fx.caches[k]; ok {
		return c
	}
	s := fx.engines["json"].settings
	c := &cacheEngines{cache: fx.openCache(t, s, f, codec.SessionCachePrefix)}
	var err error
	cdb := fx.openCache(t, s, f, codec.CachedDBPrefix)
	if c.cachedDB, err = cacheddb.New(fx.engines["json"].db, cdb, s, cacheddb.WithLogger(fx.logger())); err != nil {
		t.Fatal(err)
	}
	fx.caches[k] = c
	return c
}

// cleanRedis deletes every key under the test's KEY_PREFIX.
func (fx *fixture) cleanRedis(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := fx.engines["json"].cache.Client()
	var keys []string
	if err := c.Scan(ctx, fx.prefix+":*", func(k string, _ cache.Item) error {
		keys = append(keys, k)
		return nil
	}); err != nil {
		t.Errorf("cleaning Redis: %v", err)
	}
	for _, k := range keys {
		if _, err := c.Delete(ctx, k); err != nil {
			t.Errorf("cleaning Redis: %v", err)
		}
	}
}

// handler returns Sessions(Auth(h)) over st, where h reports whether the
// request is authenticated and whether its session holds no data.
func (fx *fixture) handler(st django.Store, s *django.Settings) http.Handler {
	if h, ok := fx.handlers[st]; ok {
		return h
	}
	users := auth.UserLoaderFunc(func(ctx context.Context, id string) (*auth.User, error) {
		fx.userLoads.Add(1)
		return nil, auth.ErrNoUser
	})
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		v := middleware.Verdict(r)
		sess := middleware.Session(r)
		// empty: no data. A rejected row or file may keep its key (Django's
		// db, file and cached_db load it as {} under the same key).
		fmt.Fprintf(w, "authenticated=%t empty=%t", v != nil && v.Authenticated, sess == nil || sess.Data().Len() == 0)
	})
	h := (&middleware.Sessions{Store: st, Settings: s, Logger: fx.logger()}).Handler(
		(&middleware.Auth{Config: &auth.Config{Settings: s, Users: users}, Logger: fx.logger()}).Handler(inner))
	fx.handlers[st] = h
	return h
}

func (fx *fixture) server(t *testing.T, st django.Store, s *django.Settings) *httptest.Server {
	if srv, ok := fx.servers[st]; ok {
		return srv
	}
	srv := httptest.NewUnstartedServer(fx.handler(st, s))
	srv.Config.MaxHeaderBytes = 8 << 20 // let the 1 MiB+ cookies reach the middleware
	srv.Config.ErrorLog = log.New(&fx.logs, "http.Server: ", 0)
	srv.Start()
	t.Cleanup(srv.Close)
	fx.servers[st] = srv
	return srv
}

// headerSafe reports whether an HTTP client can send v in a header line
// (no control characters but tab).
func headerSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// request sends cookie as sessionid through the middleware over st: over
// HTTP when the value can be sent, else straight to the handler (a proxy
// or another server could deliver what Go's client refuses to send).
func (fx *fixture) request(t *testing.T, what string, st django.Store, s *django.Settings, cookie, want string) {
	t.Helper()
	var (
		status  int
		body    string
		cookies []string
		err     error
	)
	h := fx.handler(st, s)
	srv := fx.server(t, st, s)
	fx.b.run(t, what, func() {
		if headerSafe(cookie) {
			req, _ := http.NewRequestWithContext(fx.ctx, "GET", srv.URL+"/", nil)
			req.Header["Cookie"] = []string{"sessionid=" + cookie}
			resp, rerr := fx.client.Do(req)
			if rerr != nil {
				err = rerr
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			status, body, cookies = resp.StatusCode, string(b), resp.Header.Values("Set-Cookie")
			return
		}
		req := httptest.NewRequest("GET", "/", nil)
		req.Header["Cookie"] = []string{"sessionid=" + cookie}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		status, body, cookies = rec.Code, rec.Body.String(), rec.Result().Header.Values("Set-Cookie")
	})
	if err != nil {
		t.Errorf("%s: request failed (a panic in the handler closes the connection): %v", what, err)
		return
	}
	if status != http.StatusOK {
		t.Errorf("%s: status %d, want 200 (body %.200q)", what, status, body)
		return
	}
	if strings.Contains(body, "authenticated=true") {
		t.Errorf("%s: the request is authenticated", what)
	}
	empty := strings.Contains(body, "empty=true")
	switch want {
	case reject:
		if !empty {
			t.Errorf("%s: the session was loaded (%s), want it rejected", what, body)
		}
	case accept:
		if empty {
			t.Errorf("%s: the session was rejected, want it loaded (a control entry or a value Django reads)", what)
		}
	}
	for _, line := range cookies {
		c, perr := http.ParseSetCookie(line)
		if perr != nil {
			t.Errorf("%s: unparsable Set-Cookie %.200q", what, line)
			continue
		}
		deletion := c.Name == "sessionid" && c.Value == "" && (c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Unix(86400, 0))))
		if !deletion || want == accept {
			t.Errorf("%s: Set-Cookie %.200q, want none or a deletion", what, line)
		}
	}
}

// load calls st.Load(key) and checks the contract: nil error, and found
// only where the entry must be accepted.
func (fx *fixture) load(t *testing.T, what string, st django.Store, key, want string, forbidden []string) {
	t.Helper()
	var (
		d     *py.Dict
		found bool
		err   error
	)
	fx.b.run(t, what, func() { d, found, err = st.Load(fx.ctx, key) })
	if err != nil {
		t.Errorf("%s: error %v, want not found and a nil error", what, err)
		checkNoSecret(t, what, err.Error(), forbidden)
		return
	}
	switch want {
	case reject:
		if found {
			t.Errorf("%s: found %d keys, want not found", what, d.Len())
		}
	case accept:
		if !found || d == nil || d.Len() == 0 {
			t.Errorf("%s: not found, want the session loaded (a control entry or a value Django reads)", what)
		}
	}
}

// plantRow saves a session under key in st, then replaces its
// session_data with data, as an attacker with write access to the table
// (or a bug elsewhere) would.
func (fx *fixture) plantRow(t *testing.T, st *db.Store, key string, data []byte) {
	t.Helper()
	rec := &django.Record{SessionKey: key, Data: py.NewDict(0), ExpireDate: fixedClock().Add(24 * time.Hour), ExpiryAge: 86400}
	if err := st.Save(fx.ctx, rec, true); err != nil {
		t.Fatalf("plant row: %v", err)
	}
	if _, err := st.DB().ExecContext(fx.ctx, "UPDATE "+st.Table()+" SET session_data = ? WHERE session_key = ?", string(data), key); err != nil {
		t.Fatalf("plant row: %v", err)
	}
}

func (fx *fixture) plantCache(t *testing.T, st *cache.Store, key string, data []byte) bool {
	t.Helper()
	if err := st.Client().Set(fx.ctx, st.CacheKey(key), cache.Item{Value: data}, 5*time.Minute); err != nil {
		t.Errorf("plant cache value: %v", err)
		return false
	}
	return true
}

func (fx *fixture) unplantCache(t *testing.T, st *cache.Store, key string) {
	t.Helper()
	if _, err := st.Client().Delete(fx.ctx, st.CacheKey(key)); err != nil {
		t.Errorf("delete cache value: %v", err)
	}
}

func newKey(t *testing.T) string {
	k, err := django.NewSessionKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// heavy reports entries that cost real work to reject: bombs inflate to
// the 8 or 16 MiB limit, and the largest values parse megabytes. Under the
// race detector (5–10 times slower, and nothing to find in a decoder that
// runs on one goroutine) each goes through one Load per decoder instead of
// every entry point, so that the suite stays within CI's time; the full
// run is `go test` without -race.
func (e loaded) heavy() bool {
	return len(e.value) >= 100_000 || strings.Contains(e.Name, "bomb") || strings.HasPrefix(e.Name, "json/many-")
}

// text feeds a text entry (a cookie value or session_data) to every
// in-process entry point.
func (fx *fixture) text(t *testing.T, e loaded) {
	light := raceEnabled && e.heavy()
	es := fx.engines[e.serializer()]
	s := es.settings
	v := string(e.value)
	forbidden := secrets(v)
	asSession := e.want(e.Signed == "session" || e.Signed == "legacy")
	asCookie := e.want(e.Signed == "cookie")

	// The value as the sessionid cookie: the session key of every engine.
	fx.load(t, e.Name+": signed_cookies Load", es.cookies, v, asCookie, forbidden)
	for _, c := range []struct {
		name string
		st   django.Store
	}{{"file", es.file}, {"db", es.db}, {"cache", es.cache}, {"cached_db", es.cachedDB}} {
		fx.load(t, e.Name+": "+c.name+" Load(value as key)", c.st, v, reject, forbidden)
		if !light {
			fx.request(t, e.Name+": middleware over "+c.name+", value as cookie", c.st, s, v, reject)
		}
	}
	if !light {
		fx.request(t, e.Name+": middleware over signed_cookies", es.cookies, s, v, asCookie)
	}

	// The value as stored session_data: a django_session row (db,
	// cached_db) and a session file. The middleware's handling of a store
	// that finds nothing is the same for every engine: it runs over the
	// planted row of db only (each request decodes the value again, and
	// the bombs make that the cost of this test).
	key := newKey(t)
	fx.plantRow(t, es.db, key, e.value)
	fx.load(t, e.Name+": db Load(planted row)", es.db, key, asSession, forbidden)
	if !light {
		fx.request(t, e.Name+": middleware over db, planted row", es.db, s, key, asSession)
		fx.load(t, e.Name+": cached_db Load(planted row)", es.cachedDB, key, asSession, forbidden)
		fx.unplantCache(t, es.cachedDB.Cache(), key) // an accepted control fills the cache
	}
	if err := es.db.Delete(fx.ctx, key); err != nil {
		t.Errorf("delete planted row: %v", err)
	}
	if light {
		return
	}

	path := filepath.Join(es.file.Dir(), s.SessionCookieName+key)
	if err := os.WriteFile(path, e.value, 0o600); err != nil {
		t.Fatal(err)
	}
	fx.load(t, e.Name+": file Load(planted file)", es.file, key, asSession, forbidden)
	os.Remove(path)
}

// cacheEntry plants a raw cache value where the cache and cached_db
// engines read it.
func (fx *fixture) cacheEntry(t *testing.T, e loaded) {
	if e.Cache.Format == "pymemcache" {
		return // memcached items; the CLI reads them (TestHostileCLI)
	}
	if e.Cache.Format == "django" {
		// A bare pickle: also what a FileBasedCache file (after its expiry)
		// and a DatabaseCache row (under its base64) hold.
		for _, name := range []string{"filebased", "database"} {
			st := fx.djangoCaches[name]
			key := newKey(t)
			if fx.plantCache(t, st, key, e.value) {
				fx.load(t, fmt.Sprintf("%s: cache (%s) Load(planted value)", e.Name, name), st, key, e.want(true), []string{secretKey})
				fx.unplantCache(t, st, key)
			}
		}
	}
	ce := fx.cachesFor(t, *e.Cache)
	s := fx.engines["json"].settings
	want := e.want(true)
	light := raceEnabled && e.heavy()
	for _, c := range []struct {
		name string
		st   django.Store
		cs   *cache.Store
	}{{"cache", ce.cache, ce.cache}, {"cached_db", ce.cachedDB, ce.cachedDB.Cache()}} {
		key := newKey(t)
		if !fx.plantCache(t, c.cs, key, e.value) {
			continue
		}
		what := fmt.Sprintf("%s: %s (%s) Load(planted value)", e.Name, c.name, e.Cache)
		if light && c.name != "cache" {
			fx.unplantCache(t, c.cs, key)
			continue
		}
		fx.load(t, what, c.st, key, want, []string{secretKey})
		if c.name == "cache" && !light {
			fx.request(t, fmt.Sprintf("%s: middleware over cache (%s), planted value", e.Name, e.Cache), c.st, s, key, want)
		}
		fx.unplantCache(t, c.cs, key)
	}
}

// TestHostileCorpusInProcess feeds every corpus entry to the middleware
// (over file, db on SQLite, signed_cookies, cache and cached_db on Redis;
// the cache engine over FileBasedCache and DatabaseCache for the pickles)
// and to each store's Load, with the value as the cookie and planted where
// the store reads it.
func TestHostileCorpusInProcess(t *testing.T) {
	corpus := loadCorpus(t)
	fx := newFixture(t)
	start := time.Now()
	counts := map[string]int{}
	for _, e := range corpus {
		counts[e.Kind+"/"+e.want(true)]++
		switch e.Kind {
		case "text":
			fx.text(t, e)
		case "cache":
			fx.cacheEntry(t, e)
		}
	}
	if n := fx.userLoads.Load(); n != 0 {
		t.Errorf("the auth middleware looked up a user %d times; no corpus entry carries a login", n)
	}
	logs := fx.logs.String()
	if strings.Contains(logs, "panic") {
		t.Errorf("server or middleware logs mention a panic:\n%.2000s", logs)
	}
	forbidden := []string{secretKey}
	for _, e := range corpus {
		if e.Kind == "text" {
			forbidden = append(forbidden, secrets(string(e.value))[1:]...)
		}
	}
	checkNoSecret(t, "middleware logs", logs, forbidden)
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Logf("entries %s: %d", k, counts[k])
	}
	t.Logf("%d calls in %v; slowest %v (%s); most allocated %.1f MiB (%s)", fx.b.calls, time.Since(start).Round(time.Millisecond),
		fx.b.maxDur.Round(time.Microsecond), fx.b.maxDurAt, float64(fx.b.maxAlloc)/(1<<20), fx.b.maxAllocAt)
	t.Logf("most time in all: %s", fx.b.slowest(8))
}
