package faulttest_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/middleware"
	"github.com/djsession/djsession/pickle/py"
)

// FaultsVar turns the suite on.
const faultsVar = "DJSESSION_FAULTS"

// requireFaults skips the test unless DJSESSION_FAULTS=1.
func requireFaults(t *testing.T) {
	t.Helper()
	if os.Getenv(faultsVar) != "1" {
		t.Skipf("fault-injection suite is off: set %s=1 to run it (it starts and kills its own "+
			"redis-server and memcached, terminates PostgreSQL backends and mounts tmpfs as root)", faultsVar)
	}
}

// quietRedis drops go-redis's own log lines ("failed to dial" for every
// call while a server is down); the tests check the errors themselves.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func init() { redis.SetLogger(quietRedis{}) }

// The limits the stores are opened with, and the slack a measured call may
// take beyond its limit (scheduling under -race on a loaded machine).
const (
	cacheDialTimeout  = 300 * time.Millisecond
	cacheReadTimeout  = 200 * time.Millisecond
	cacheWriteTimeout = 200 * time.Millisecond
	dbTimeout         = 500 * time.Millisecond
	slack             = 400 * time.Millisecond
)

// cacheLimit is the longest one cache store call may take while its server
// is dead or slow: the cache package documents "at most the dial timeout
// plus the read timeout" per operation.
const cacheLimit = cacheDialTimeout + cacheReadTimeout + slack

// settings returns Django's defaults with a test SECRET_KEY and the real
// clock (cache TTLs and PostgreSQL's expire_date run on it).
func settings() *django.Settings {
	return django.DefaultSettings("faulttest-secret-key-0123456789abcdef")
}

// testCtx is a bounded context for setup calls.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// freePort returns a loopback port nothing listens on right now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// server is a server process the test owns (redis-server, memcached),
// started, killed and restarted on one loopback port. Cleanup kills it.
type server struct {
	t    *testing.T
	name string
	argv []string
	addr string
	out  testenv.LogBuffer

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// startServer starts binary with args on port and waits until it accepts
// connections. A missing binary goes through testenv.Require.
func startServer(t *testing.T, binary string, port int, args ...string) *server {
	t.Helper()
	path, err := exec.LookPath(binary)
	testenv.Require(t, binary+" binary", err)
	s := &server{t: t, name: binary, argv: append([]string{path}, args...),
		addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port))}
	t.Cleanup(func() {
		s.kill()
		if t.Failed() {
			t.Logf("%s output:\n%s", s.name, s.out.String())
		}
	})
	s.start()
	return s
}

// start runs the server (again) and waits up to 5 s for its port.
func (s *server) start() {
	s.t.Helper()
	s.mu.Lock()
	if s.cmd != nil {
		s.mu.Unlock()
		s.t.Fatalf("%s is already running", s.name)
	}
	cmd := exec.Command(s.argv[0], s.argv[1:]...)
	cmd.Stdout, cmd.Stderr = &s.out, &s.out
	// The server dies with the test binary, even if it crashes.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		s.mu.Unlock()
		s.t.Fatalf("start %s: %v", s.name, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s.cmd, s.exited = cmd, exited
	s.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			s.t.Fatalf("%s exited at start: %s", s.name, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("%s not listening on %s after 5 s: %v", s.name, s.addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kill sends SIGKILL and waits until the process is gone (its sockets
// closed). It does nothing when the server is not running.
func (s *server) kill() {
	s.mu.Lock()
	cmd, exited := s.cmd, s.exited
	s.cmd, s.exited = nil, nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		s.t.Errorf("%s (pid %d) did not exit 10 s after SIGKILL", s.name, cmd.Process.Pid)
	}
}

// startRedis starts our own redis-server on a free loopback port, without
// persistence.
func startRedis(t *testing.T) *server {
	port := freePort(t)
	return startServer(t, "redis-server", port,
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--dir", t.TempDir(), "--protected-mode", "no")
}

// startMemcached starts our own memcached on a free loopback port (as
// root it must be told which user to run as).
func startMemcached(t *testing.T) *server {
	port := freePort(t)
	args := []string{"-p", strconv.Itoa(port), "-l", "127.0.0.1", "-U", "0", "-m", "16"}
	if os.Geteuid() == 0 {
		args = append(args, "-u", "root")
	}
	return startServer(t, "memcached", port, args...)
}

// proxy is a TCP proxy on loopback that forwards to upstream and can hold
// every server→client chunk for a configurable delay: a slow server. The
// delay is read when a chunk arrives; closing either side ends the pair,
// and a held chunk is dropped then.
type proxy struct {
	ln       net.Listener
	upstream string
	delay    atomic.Int64 // nanoseconds

	mu     sync.Mutex
	pairs  map[*pair]struct{}
	closed bool
	wg     sync.WaitGroup
}

type pair struct {
	client, server net.Conn
	done           chan struct{}
	once           sync.Once
}

func (p *pair) close() {
	p.once.Do(func() {
		close(p.done)
		p.client.Close()
		p.server.Close()
	})
}

// newProxy listens on a free loopback port; Cleanup closes the listener
// and every connection and waits for the proxy's goroutines.
func newProxy(t *testing.T, upstream string) *proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{ln: ln, upstream: upstream, pairs: map[*pair]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port.
func (p *proxy) Addr() string { return p.ln.Addr().String() }

// SetDelay sets how long each server→client chunk is held from now on.
func (p *proxy) SetDelay(d time.Duration) { p.delay.Store(int64(d)) }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		u, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
		if err != nil {
			c.Close()
			continue
		}
		pr := &pair{client: c, server: u, done: make(chan struct{})}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			pr.close()
			return
		}
		p.pairs[pr] = struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		go func() { // client → server, as is
			defer p.wg.Done()
			_, _ = io.Copy(u, c)
			p.drop(pr)
		}()
		go func() { // server → client, each chunk held for the delay
			defer p.wg.Done()
			defer p.drop(pr)
			buf := make([]byte, 32<<10)
			for {
				n, err := u.Read(buf)
				if n > 0 {
					if d := time.Duration(p.delay.Load()); d > 0 {
						tm := time.NewTimer(d)
						select {
						case <-tm.C:
						case <-pr.done:
							tm.Stop()
							return
						}
					}
					if _, werr := c.Write(buf[:n]); werr != nil {
						return
					}
				}
				if err != nil {
					return
				}
			}
		}()
	}
}

func (p *proxy) drop(pr *pair) {
	pr.close()
	p.mu.Lock()
	delete(p.pairs, pr)
	p.mu.Unlock()
}

func (p *proxy) close() {
	p.mu.Lock()
	p.closed = true
	pairs := p.pairs
	p.pairs = map[*pair]struct{}{}
	p.mu.Unlock()
	p.ln.Close()
	for pr := range pairs {
		pr.close()
	}
	p.wg.Wait()
}

// testUser is the one user of the app: "1", active, with a fixed encoded
// password (its auth hash is all that matters here).
var testUser = &auth.User{ID: "1", Password: "pbkdf2_sha256$1000000$faulttest$c2FtZS1oYXNoLWZvci1ldmVyeS1ydW4=", IsActive: true}

// app is a real HTTP server running middleware.Sessions and middleware.Auth
// over a store, with three views:
//
//	/whoami  read-only: the user id, or "anonymous"
//	/login   middleware.Login(testUser); 503 "login failed" if it fails
//	/touch   writes "touched" into the session
type app struct {
	url    string
	client *http.Client
	logs   *testenv.LogBuffer
	panics atomic.Int64
}

func newApp(t *testing.T, st django.Store, s *django.Settings) *app {
	t.Helper()
	a := &app{logs: &testenv.LogBuffer{}}
	logger := slog.New(slog.NewTextHandler(a.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	sessions := &middleware.Sessions{Store: st, Settings: s, Logger: logger}
	cfg := &auth.Config{Settings: s, Users: auth.UserLoaderFunc(func(_ context.Context, id string) (*auth.User, error) {
		if id == testUser.ID {
			u := *testUser
			return &u, nil
		}
		return nil, auth.ErrNoUser
	})}
	authn := &middleware.Auth{Config: cfg, Logger: logger}
	mux := http.NewServeMux()
	mux.HandleFunc("/whoami", func(w http.ResponseWriter, r *http.Request) {
		if u := middleware.User(r); u != nil {
			io.WriteString(w, u.ID)
			return
		}
		io.WriteString(w, "anonymous")
	})
	mux.HandleFunc("/login", func(w http.ResponseWriter, r *http.Request) {
		if err := middleware.Login(r, testUser, ""); err != nil {
			http.Error(w, "login failed", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "logged in")
	})
	mux.HandleFunc("/touch", func(w http.ResponseWriter, r *http.Request) {
		middleware.Session(r).Set("touched", py.Str(r.URL.Query().Get("v")))
		io.WriteString(w, "ok")
	})
	h := sessions.Handler(authn.Handler(mux))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				a.panics.Add(1)
				a.logs.Write([]byte(fmt.Sprintf("PANIC: %v\n", v)))
				http.Error(w, "panic", http.StatusInternalServerError)
			}
		}()
		h.ServeHTTP(w, r)
	}))
	a.url = srv.URL
	a.client = &http.Client{Timeout: 15 * time.Second}
	t.Cleanup(func() {
		a.client.CloseIdleConnections()
		srv.Close()
		if n := a.panics.Load(); n > 0 {
			t.Errorf("%d handler panics:\n%s", n, a.logs.String())
		}
	})
	return a
}

// result is one call of the traffic, to the store or over HTTP.
type result struct {
	op         string
	start, end time.Time
	err        error
	found      bool         // Load
	status     int          // HTTP
	body       string       // HTTP
	cookie     *http.Cookie // HTTP: the sessionid Set-Cookie, nil if none
}

func (r result) dur() time.Duration { return r.end.Sub(r.start) }

func (r result) String() string {
	s := fmt.Sprintf("%s after %v", r.op, r.dur().Round(time.Millisecond))
	if r.status != 0 {
		s += fmt.Sprintf(": %d %q", r.status, r.body)
		if r.cookie != nil {
			s += fmt.Sprintf(" Set-Cookie %s=%q", r.cookie.Name, r.cookie.Value)
		}
	}
	if r.err != nil {
		s += ": " + r.err.Error()
	} else if r.status == 0 {
		s += fmt.Sprintf(": ok found=%v", r.found)
	}
	return s
}

// get requests path with the session cookie key ("" for none).
func (a *app) get(path, key string) result {
	r := result{op: "GET " + path, start: time.Now()}
	defer func() { r.end = time.Now() }()
	req, err := http.NewRequest("GET", a.url+path, nil)
	if err != nil {
		r.err = err
		r.end = time.Now()
		return r
	}
	if key != "" {
		req.AddCookie(&http.Cookie{Name: django.DefaultSessionCookieName, Value: key})
	}
	resp, err := a.client.Do(req)
	if err != nil {
		r.err = err
		r.end = time.Now()
		return r
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	r.end = time.Now()
	r.status, r.body, r.err = resp.StatusCode, strings.TrimSpace(string(b)), err
	for _, c := range resp.Cookies() {
		if c.Name == django.DefaultSessionCookieName {
			r.cookie = c
		}
	}
	return r
}

// login logs testUser in over HTTP and returns the new session key.
func (a *app) login(t *testing.T) string {
	t.Helper()
	r := a.get("/login", "")
	if r.err != nil || r.status != 200 || r.cookie == nil || r.cookie.Value == "" {
		t.Fatalf("login on a healthy store: %s", r)
	}
	return r.cookie.Value
}

// wantUser checks a /whoami answer: 200, the body, no Set-Cookie (neither
// a new session nor a deleted one).
func wantUser(t *testing.T, r result, body string) {
	t.Helper()
	if r.err != nil || r.status != 200 || r.body != body || r.cookie != nil {
		t.Errorf("want 200 %q without Set-Cookie, got %s", body, r)
	}
}

// record is a session record that expires in an hour.
func record(key string, kv ...string) *django.Record {
	d := py.NewDict(len(kv) / 2)
	for i := 0; i+1 < len(kv); i += 2 {
		d.SetStr(kv[i], py.Str(kv[i+1]))
	}
	return &django.Record{SessionKey: key, Data: d, ExpireDate: time.Now().Add(time.Hour), ExpiryAge: 3600}
}

func newKey(t *testing.T) string {
	k, err := django.NewSessionKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// storeOps times the store calls of one key.
type storeOps struct {
	st  django.Store
	ctx context.Context
}

func (o storeOps) load(key string) result {
	r := result{op: "Load", start: time.Now()}
	_, r.found, r.err = o.st.Load(o.ctx, key)
	r.end = time.Now()
	return r
}

func (o storeOps) exists(key string) result {
	r := result{op: "Exists", start: time.Now()}
	r.found, r.err = o.st.Exists(o.ctx, key)
	r.end = time.Now()
	return r
}

func (o storeOps) save(rec *django.Record, mustCreate bool) result {
	r := result{op: "Save", start: time.Now()}
	if mustCreate {
		r.op = "Save(create)"
	}
	r.err = o.st.Save(o.ctx, rec, mustCreate)
	r.end = time.Now()
	return r
}

func (o storeOps) delete(key string) result {
	r := result{op: "Delete", start: time.Now()}
	r.err = o.st.Delete(o.ctx, key)
	r.end = time.Now()
	return r
}

// traffic runs workers that call their op in a loop, 5 ms apart, until
// stopped (at most 2,000 calls each) and records every result.
type traffic struct {
	stop    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	results []result
}

func startTraffic(ops ...func(i int) result) *traffic {
	tr := &traffic{stop: make(chan struct{})}
	for _, op := range ops {
		tr.wg.Add(1)
		go func() {
			defer tr.wg.Done()
			for i := range 2000 {
				r := op(i)
				tr.mu.Lock()
				tr.results = append(tr.results, r)
				tr.mu.Unlock()
				select {
				case <-tr.stop:
					return
				case <-time.After(5 * time.Millisecond):
				}
			}
		}()
	}
	return tr
}

// Stop ends the traffic and returns what it recorded.
func (tr *traffic) Stop() []result {
	close(tr.stop)
	tr.wg.Wait()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	return tr.results
}

// checkTiming reports every result that took longer than limit, and
// returns the slowest.
func checkTiming(t *testing.T, rs []result, limit time.Duration) (slowest result) {
	t.Helper()
	for _, r := range rs {
		if r.dur() > slowest.dur() {
			slowest = r
		}
		if r.dur() > limit {
			t.Errorf("took longer than %v: %s", limit, r)
		}
	}
	return slowest
}

// errIsAny reports whether err is one of targets.
func errIsAny(err error, targets ...error) bool {
	for _, target := range targets {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}
