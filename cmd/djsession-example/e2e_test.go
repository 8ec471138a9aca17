package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/backends"
	"github.com/djsession/djsession/backends/testenv"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
)

// TestEndToEnd runs the test project's Django over HTTP (runserver) and this
// example service side by side on one store, and drives both with real
// HTTP clients holding cookie jars: a login on either side is recognised by
// the other, a logout on either side ends it on both, and a password change
// on Django ends the other sessions of that user on the Go side too.
func TestEndToEnd(t *testing.T) {
	djangotest.Require(t)
	if testing.Short() {
		t.Skip("starts servers")
	}
	bin := filepath.Join(t.TempDir(), "djsession-example")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	t.Run("db-sqlite", func(t *testing.T) {
		e2e(t, bin, backendSetup{engine: "db", databaseURL: "sqlite:///" + filepath.Join(t.TempDir(), "e2e.sqlite3")})
	})
	t.Run("db-postgres", func(t *testing.T) {
		e2e(t, bin, backendSetup{engine: "db", databaseURL: testenv.PostgresDB(t)})
	})
	t.Run("cache-redis", func(t *testing.T) {
		prefix := "e2e" + randHex(t, 6)
		cacheURL := testenv.RedisURL()
		t.Cleanup(func() { clearCache(t, cacheURL, prefix) })
		e2e(t, bin, backendSetup{
			engine: "cache", databaseURL: "sqlite:///" + filepath.Join(t.TempDir(), "users.sqlite3"),
			cacheURL: cacheURL, keyPrefix: prefix,
		})
	})
}

type backendSetup struct {
	engine, databaseURL, cacheURL, keyPrefix string
}

func randHex(t *testing.T, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func waitPort(t *testing.T, addr string, d time.Duration) {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("%s did not start listening", addr)
}

func e2e(t *testing.T, bin string, b backendSetup) {
	secret := "django-insecure-e2e-" + randHex(t, 8)
	env := djangotest.Env{
		"DJANGO_SECRET_KEY": secret,
		"SESSION_ENGINE":    b.engine,
		"DATABASE_URL":      b.databaseURL,
	}
	if b.cacheURL != "" {
		env["CACHE_URL"] = b.cacheURL
		env["KEY_PREFIX"] = b.keyPrefix
	}
	djangotest.MustBatch(t, env, djangotest.Op{Name: "migrate"},
		djangotest.Op{Name: "create_user", Params: map[string]any{"username": "alice", "password": "pw-one"}})

	// Django over HTTP.
	djPort := freePort(t)
	dj := exec.Command(djangotest.Python, "manage.py", "runserver", "--noreload", fmt.Sprintf("127.0.0.1:%d", djPort))
	dj.Dir = djangotest.ProjectDir()
	dj.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "PYTHONUNBUFFERED=1"}
	for k, v := range env {
		dj.Env = append(dj.Env, k+"="+v)
	}
	djLog := &strings.Builder{}
	dj.Stdout, dj.Stderr = djLog, djLog
	if err := dj.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dj.Process.Kill(); dj.Wait() })
	djURL := fmt.Sprintf("http://127.0.0.1:%d", djPort)

	// The Go service on the same store.
	args := []string{"--listen", "127.0.0.1:0", "--secret-key", secret, "--engine", b.engine, "--database", b.databaseURL}
	if b.cacheURL != "" {
		args = append(args, "--cache", b.cacheURL, "--key-prefix", b.keyPrefix)
	}
	gs := exec.Command(bin, args...)
	gs.Env = []string{"PATH=" + os.Getenv("PATH")}
	stdout, _ := gs.StdoutPipe()
	goLog := &strings.Builder{}
	gs.Stderr = goLog
	if err := gs.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gs.Process.Kill(); gs.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("Go service did not start: %v\n%s", err, goLog)
	}
	goURL := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	waitPort(t, strings.TrimPrefix(djURL, "http://"), 30*time.Second)
	defer func() {
		if t.Failed() {
			t.Logf("Django log:\n%s\nGo log:\n%s", djLog, goLog)
		}
	}()

	a, bob := newClient(t), newClient(t)
	who := func(c *http.Client, base string) map[string]any {
		t.Helper()
		var out map[string]any
		call(t, c, "GET", base+"/whoami/", nil, 200, &out)
		return out
	}
	mustUser := func(c *http.Client, base, what string, want bool) {
		t.Helper()
		w := who(c, base)
		if got := w["authenticated"] == true; got != want {
			t.Fatalf("%s: authenticated=%v, want %v (%v)", what, got, want, w)
		}
	}
	creds := map[string]string{"username": "alice", "password": "pw-one"}

	// Log in on Django, recognised by Go.
	call(t, a, "POST", djURL+"/login/", creds, 200, nil)
	mustUser(a, goURL, "Go after a Django login", true)
	if w := who(a, goURL); w["user_id"] != who(a, djURL)["user_id"] {
		t.Fatalf("Go and Django disagree on the user: %v", w)
	}
	// Log out on Go: anonymous on both.
	call(t, a, "POST", goURL+"/logout/", nil, 200, nil)
	mustUser(a, goURL, "Go after a Go logout", false)
	mustUser(a, djURL, "Django after a Go logout", false)
	// Log in on Go, recognised by Django.
	call(t, a, "POST", goURL+"/login/", creds, 200, nil)
	mustUser(a, djURL, "Django after a Go login", true)
	// Log out on Django: anonymous on both.
	call(t, a, "POST", djURL+"/logout/", nil, 200, nil)
	mustUser(a, goURL, "Go after a Django logout", false)
	mustUser(a, djURL, "Django after a Django logout", false)
	// A wrong password is refused by the Go side.
	call(t, a, "POST", goURL+"/login/", map[string]string{"username": "alice", "password": "nope"}, 401, nil)

	// Password change on Django: the other session of that user ends.
	call(t, a, "POST", goURL+"/login/", creds, 200, nil)
	call(t, bob, "POST", djURL+"/login/", creds, 200, nil)
	call(t, bob, "POST", djURL+"/change-password/", map[string]string{"password": "pw-two"}, 200, nil)
	mustUser(bob, djURL, "Django for the session that changed the password", true)
	mustUser(bob, goURL, "Go for the session that changed the password", true)
	mustUser(a, goURL, "Go for another session after the password change", false)
	mustUser(a, djURL, "Django for another session after the password change", false)
	// The new password works through Go, and Django accepts that login.
	call(t, a, "POST", goURL+"/login/", map[string]string{"username": "alice", "password": "pw-two"}, 200, nil)
	mustUser(a, djURL, "Django after a Go login with the new password", true)
}

func newClient(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second}
}

func call(t *testing.T, c *http.Client, method, url string, body any, wantStatus int, out any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != wantStatus {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, resp.StatusCode, wantStatus, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, raw)
		}
	}
}

// clearCache deletes what a test left under its key prefix.
func clearCache(t *testing.T, cacheURL, prefix string) {
	s := django.DefaultSettings("cleanup")
	st, closer, err := backends.Open(context.Background(), backends.Config{
		Engine: "cache", Settings: s, CacheURL: cacheURL, Cache: backends.CacheOptions{KeyPrefix: prefix},
	})
	if err != nil {
		return
	}
	defer closer.Close()
	var keys []string
	st.List(context.Background(), func(in django.Info) error { keys = append(keys, in.SessionKey); return nil })
	for _, k := range keys {
		st.Delete(context.Background(), k)
	}
}
