package main

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"
)

// Tests of the store commands (get, ls, set, create, rm, clearsessions) on
// the file and signed_cookies engines, through the built binary.

const t0 = "1700000000" // 2023-11-14T22:13:20+00:00

// lsEntry is one element of `ls --json`.
type lsEntry struct {
	SessionKey string  `json:"session_key"`
	ExpireDate *string `json:"expire_date"`
	UserID     *string `json:"user_id"`
	Corrupt    bool    `json:"corrupt"`
}

// storeRun runs a store command; it fails the test on an unexpected exit.
func storeRun(t *testing.T, env []string, stdin string, wantCode int, args ...string) (string, string) {
	t.Helper()
	out, errOut, code := runCLI(t, args, env, stdin)
	if code != wantCode {
		t.Fatalf("%q: exit %d, want %d\nstdout %q\nstderr %q", args, code, wantCode, out, errOut)
	}
	if wantCode != 0 && out != "" {
		t.Fatalf("%q: stdout not empty on failure: %q", args, out)
	}
	return out, errOut
}

// lsJSON runs ls and returns the entries by session key.
func lsJSON(t *testing.T, env []string, args ...string) map[string]lsEntry {
	t.Helper()
	out, _ := storeRun(t, env, "", 0, append([]string{"ls"}, args...)...)
	if !strings.HasSuffix(out, "]\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("ls: not one JSON array line: %q", out)
	}
	var entries []lsEntry
	if err := json.Unmarshal([]byte(out), &entries); err != nil {
		t.Fatalf("ls: %v: %q", err, out)
	}
	m := map[string]lsEntry{}
	for _, e := range entries {
		if _, dup := m[e.SessionKey]; dup {
			t.Fatalf("ls lists %s twice", e.SessionKey)
		}
		m[e.SessionKey] = e
	}
	return m
}

func strp(s string) *string { return &s }

var djangoKey = regexp.MustCompile(`^[a-z0-9]{32}$`)

// createSession runs create and returns the new key.
func createSession(t *testing.T, env []string, dict string, args ...string) string {
	t.Helper()
	out, _ := storeRun(t, env, "", 0, append([]string{"create", dict}, args...)...)
	key := strings.TrimSuffix(out, "\n")
	if !djangoKey.MatchString(key) || !strings.HasSuffix(out, "\n") {
		t.Fatalf("create printed %q, want a 32-character key and a newline", out)
	}
	return key
}

// TestFileStoreCommands walks one session folder through every store
// command. Expected dates are computed by hand from spec §3.4: no
// _session_expiry means SESSION_COOKIE_AGE (1209600 s, 14 days) from the
// save; the file backend's expiry runs from the file's mtime, which the
// store stamps with --now.
func TestFileStoreCommands(t *testing.T) {
	dir := t.TempDir()
	env := []string{"DJANGO_SECRET_KEY=file-store-test-key", "SESSION_ENGINE=file", "SESSION_FILE_PATH=" + dir}

	a := createSession(t, env, `{"_auth_user_id":"42","cart":[1,2]}`, "--now", t0)
	// create reads stdin too; --cookie-name names the files.
	out, _ := storeRun(t, env, `{"n": 1}`+"\n", 0, "create", "--now", "1700000100")
	b := strings.TrimSuffix(out, "\n")
	c := createSession(t, env, `{"_auth_user_id": 7}`, "--now", t0) // an int id, as some code stores
	for _, k := range []string{a, b, c} {
		if _, err := os.Stat(filepath.Join(dir, "sessionid"+k)); err != nil {
			t.Fatalf("no session file for %s: %v", k, err)
		}
	}
	if a == b || b == c || a == c {
		t.Fatal("create returned a key twice")
	}

	// The session file holds session_data that decode reads.
	content, err := os.ReadFile(filepath.Join(dir, "sessionid"+a))
	if err != nil {
		t.Fatal(err)
	}
	cliCase{args: []string{"decode", "--engine=file", string(content)}, env: env,
		stdout: `{"_auth_user_id":"42","cart":[1,2]}` + "\n"}.check(t)

	want := map[string]lsEntry{
		a: {SessionKey: a, ExpireDate: strp("2023-11-28T22:13:20+00:00"), UserID: strp("42")},
		b: {SessionKey: b, ExpireDate: strp("2023-11-28T22:15:00+00:00")},
		c: {SessionKey: c, ExpireDate: strp("2023-11-28T22:13:20+00:00"), UserID: strp("7")},
	}
	if got := lsJSON(t, env, "--now", t0); !reflect.DeepEqual(got, want) {
		t.Fatalf("ls:\n got %+v\nwant %+v", got, want)
	}
	if got := lsJSON(t, env, "--now", t0, "--json"); !reflect.DeepEqual(got, want) {
		t.Fatalf("ls --json:\n got %+v\nwant %+v", got, want)
	}

	runCases(t, []cliCase{
		{name: "get", args: []string{"get", a, "--now", "1700000010"}, env: env, stdout: `{"_auth_user_id":"42","cart":[1,2]}` + "\n"},
		{name: "get missing", args: []string{"get", strings.Repeat("x", 32), "--now", t0}, env: env, code: 1, stderr: "no such session"},
		{name: "get bad key", args: []string{"get", "../../etc/passwd", "--now", t0}, env: env, code: 1, stderr: "no such session"},
		{name: "get short key", args: []string{"get", "abc", "--now", t0}, env: env, code: 1, stderr: "no such session"},
		{name: "get other secret", args: []string{"get", a, "--now", t0, "--secret-key", "another-key-123"}, env: env,
			code: 1, stderr: "session data corrupted"},
		{name: "get fallback secret", args: []string{"get", a, "--now", t0, "--secret-key", "another-key-123",
			"--fallback-key", "file-store-test-key"}, env: env, stdout: `{"_auth_user_id":"42","cart":[1,2]}` + "\n"},
		{name: "set missing", args: []string{"set", strings.Repeat("y", 32), `{}`, "--now", t0}, env: env, code: 1, stderr: "no such session"},
		{name: "set not an object", args: []string{"set", a, `"x"`, "--now", t0}, env: env, code: 2, stderr: "JSON object"},
		{name: "set too few args", args: []string{"set"}, env: env, code: 2, stderr: "usage: djsession set"},
		{name: "ls takes no args", args: []string{"ls", "x"}, env: env, code: 2, stderr: "usage: djsession ls"},
	})

	// set replaces the data and saves as Django does: the expiry comes from
	// the new _session_expiry (an ISO string, as Django 4.1+ stores
	// set_expiry(datetime); an int expiry never expires a file session,
	// Django's quirk).
	const exp = "2023-11-14T22:24:10+00:00" // 1700000650
	out, _ = storeRun(t, env, "", 0, "set", a, `{"_auth_user_id":"43","_session_expiry":"`+exp+`"}`, "--now", "1700000050")
	if !sameJSON([]byte(out), []byte(`{"session_key":"`+a+`","expire_date":"2023-11-14T22:24:10+00:00","user_id":"43"}`)) {
		t.Fatalf("set printed %q", out)
	}
	cliCase{name: "get after set", args: []string{"get", a, "--now", "1700000060"}, env: env,
		stdout: `{"_auth_user_id":"43","_session_expiry":"` + exp + `"}` + "\n"}.check(t)
	// From stdin, with format L (--legacy-format), which get still reads.
	storeRun(t, env, `{"_auth_user_id":"42"}`, 0, "set", b, "-", "--now", "1700000100", "--legacy-format")
	content, err = os.ReadFile(filepath.Join(dir, "sessionid"+b))
	if err != nil || strings.Contains(string(content), ":") {
		t.Fatalf("--legacy-format did not write format L: %q %v", content, err)
	}
	cliCase{name: "get format L", args: []string{"get", b, "--now", "1700000100"}, env: env,
		stdout: `{"_auth_user_id":"42"}` + "\n"}.check(t)

	// An undecodable file is listed as corrupt.
	corrupt := "corruptsession0000000000000000zz"
	if err := os.WriteFile(filepath.Join(dir, "sessionid"+corrupt), []byte("not session data"), 0o600); err != nil {
		t.Fatal(err)
	}
	got := lsJSON(t, env, "--now", "1700000100")
	if e := got[corrupt]; !e.Corrupt || e.UserID != nil || len(got) != 4 {
		t.Fatalf("ls with a corrupt file: %+v", got)
	}
	if got[a].Corrupt || got[b].Corrupt || *got[b].UserID != "42" {
		t.Fatalf("ls after set: %+v", got)
	}

	// rm: once, then no such session.
	out, _ = storeRun(t, env, "", 0, "rm", c)
	if out != `{"session_key":"`+c+`","deleted":true}`+"\n" {
		t.Fatalf("rm printed %q", out)
	}
	storeRun(t, env, "", 1, "rm", c)
	storeRun(t, env, "", 1, "rm", "../escape-attempt-00000000")

	// clearsessions: nothing is expired at 1700000100; past a's expiry
	// (1700000650) only a goes; past b's two weeks b goes too. The corrupt
	// file stays: its expiry would run from its mtime, the real time of
	// this test run, which is later than these --now instants.
	out, _ = storeRun(t, env, "", 0, "clearsessions", "--now", "1700000100")
	if !sameJSON([]byte(out), []byte(`{"engine":"file","cleared":true,"message":"expired sessions deleted"}`)) {
		t.Fatalf("clearsessions printed %q", out)
	}
	if got := lsJSON(t, env, "--now", "1700000100"); len(got) != 3 {
		t.Fatalf("clearsessions removed live sessions: %+v", got)
	}
	storeRun(t, env, "", 0, "clearsessions", "--now", "1700000651")
	got = lsJSON(t, env, "--now", "1700000651")
	if _, ok := got[a]; ok || len(got) != 2 {
		t.Fatalf("after clearing at 1700000651: %+v", got)
	}
	storeRun(t, env, "", 0, "clearsessions", "--now", "1701209701")
	got = lsJSON(t, env, "--now", "1701209701")
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	if !reflect.DeepEqual(keys, []string{corrupt}) {
		t.Fatalf("after clearing two weeks later: %v", keys)
	}
	// get of an expired session is no session (and, as Django's load(),
	// deletes its file).
	d := createSession(t, env, `{}`, "--now", t0)
	storeRun(t, env, "", 1, "get", d, "--now", "1701209601")
	if _, err := os.Stat(filepath.Join(dir, "sessionid"+d)); !os.IsNotExist(err) {
		t.Fatalf("expired session file kept after get: %v", err)
	}

	// --cookie-name names the files.
	e := createSession(t, env, `{}`, "--cookie-name", "sid")
	if _, err := os.Stat(filepath.Join(dir, "sid"+e)); err != nil {
		t.Fatal(err)
	}
	storeRun(t, env, "", 0, "get", e, "--cookie-name", "sid")
	storeRun(t, env, "", 1, "get", e)
}

// TestFileStoreConfig covers configuration errors of the store commands.
func TestFileStoreConfig(t *testing.T) {
	dir := t.TempDir()
	env := []string{"DJANGO_SECRET_KEY=file-store-test-key", "SESSION_FILE_PATH=" + dir}
	runCases(t, []cliCase{
		{name: "missing folder", args: []string{"ls", "--engine", "file", "--file-path", filepath.Join(dir, "nope")}, env: env,
			code: 2, stderr: "doesn't exist"},
		{name: "no secret", args: []string{"ls", "--engine", "file"}, env: []string{"SESSION_FILE_PATH=" + dir},
			code: 2, stderr: "no secret key"},
		{name: "db without database", args: []string{"get", "abcdefgh12345678"}, env: env, code: 2, stderr: "DATABASE_URL"},
		{name: "cache without cache", args: []string{"ls", "--engine", "cache"}, env: env, code: 2, stderr: "CACHE_URL"},
		{name: "cached_db without database", args: []string{"create", "{}", "--engine", "cached_db"}, env: env,
			code: 2, stderr: "DATABASE_URL"},
		{name: "bad env engine", args: []string{"ls"}, env: append(env, "SESSION_ENGINE=myproject.sessions"), code: 2,
			stderr: "$SESSION_ENGINE"},
		{name: "legacy format for signed cookies store", args: []string{"create", "{}", "--engine", "signed_cookies", "--legacy-format"},
			env: env, code: 2, stderr: "--legacy-format applies"},
		{name: "clearsessions cache", args: []string{"clearsessions", "--engine", "cache"}, env: env,
			stdout: `{"engine":"cache","cleared":false,"message":"the cache expires sessions by itself; there is nothing to clear"}` + "\n"},
		{name: "clearsessions signed cookies", args: []string{"clearsessions", "--engine", "django.contrib.sessions.backends.signed_cookies"},
			env: env, stdout: `{"engine":"signed_cookies","cleared":false,"message":"signed-cookie sessions live in browsers; there is nothing to clear"}` + "\n"},
		{name: "ls signed cookies", args: []string{"ls", "--engine", "signed_cookies"}, env: env, code: 2,
			stderr: "signed-cookie sessions live in browsers; there is nothing on the server to list"},
		{name: "rm signed cookies", args: []string{"rm", "x", "--engine", "signed_cookies"}, env: env, code: 2,
			stderr: "signed-cookie sessions live in browsers"},
	})
	// A configuration error that usage text would not fix has no usage hint.
	_, errOut, _ := runCLI(t, []string{"ls", "--engine", "signed_cookies"}, env, "")
	if strings.Contains(errOut, "djsession help") {
		t.Errorf("ls signed_cookies: stderr has a usage hint: %q", errOut)
	}
}

// TestSignedCookieStoreCommands: with signed_cookies the session key is the
// cookie itself (spec §3.9.5).
func TestSignedCookieStoreCommands(t *testing.T) {
	env := []string{"DJANGO_SECRET_KEY=" + keyDjangoTests, "SESSION_ENGINE=signed_cookies"}
	out, _ := storeRun(t, env, "", 0, "create", `{"a":1,"b":"two"}`, "--now", t0)
	// The signed_cookies_session/dha_sha1 dict of Django 3.2, signed with
	// SHA-256 at 1700000000 (Django 3.2's cookie with the default algorithm).
	cookie := strings.TrimSuffix(out, "\n")
	enc, _ := storeRun(t, env, "", 0, "encode", `{"a":1,"b":"two"}`, "--now", t0)
	if out != enc {
		t.Fatalf("create printed %q, encode %q", out, enc)
	}
	runCases(t, []cliCase{
		{name: "get", args: []string{"get", cookie, "--now", t0}, env: env, stdout: `{"a":1,"b":"two"}` + "\n"},
		{name: "get expired", args: []string{"get", cookie, "--now", "1701209601"}, env: env, code: 1,
			stderr: "no such session: signature expired"},
		{name: "get short cookie-age", args: []string{"get", cookie, "--now", "1700000061", "--cookie-age", "60"}, env: env, code: 1,
			stderr: "signature expired"},
		{name: "get tampered", args: []string{"get", "x" + cookie, "--now", t0}, env: env, code: 1, stderr: "no such session: bad signature"},
		{name: "set tampered", args: []string{"set", "x" + cookie, `{}`, "--now", t0}, env: env, code: 1, stderr: "bad signature"},
	})
	out, _ = storeRun(t, env, "", 0, "set", cookie, `{"_auth_user_id":"5"}`, "--now", "1700000100")
	var rec lsEntry
	if err := json.Unmarshal([]byte(out), &rec); err != nil || rec.UserID == nil || *rec.UserID != "5" ||
		rec.ExpireDate == nil || *rec.ExpireDate != "2023-11-28T22:15:00+00:00" || rec.SessionKey == cookie {
		t.Fatalf("set printed %q (%v)", out, err)
	}
	cliCase{name: "get new cookie", args: []string{"get", rec.SessionKey, "--now", "1700000100"}, env: env,
		stdout: `{"_auth_user_id":"5"}` + "\n"}.check(t)
}

// TestLsTableFormat checks the terminal table through lsTable directly
// (a pipe is never a terminal).
func TestLsTableFormat(t *testing.T) {
	dir := t.TempDir()
	env := []string{"DJANGO_SECRET_KEY=table-test-key", "SESSION_ENGINE=file", "SESSION_FILE_PATH=" + dir}
	a := createSession(t, env, `{"_auth_user_id":"42"}`, "--now", t0)
	if err := os.WriteFile(filepath.Join(dir, "sessionidbadbadbadbad"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb strings.Builder
	code := run([]string{"ls", "--now", "1701209700"}, strings.NewReader(""), &forceTerminal{&out}, &errb, env)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "SESSION_KEY") || lines[3] != "2 session(s)" {
		t.Fatalf("table:\n%s", out.String())
	}
	col := strings.Index(lines[0], "EXPIRE_DATE")
	for _, l := range lines[1:3] {
		switch {
		case strings.HasPrefix(l, a):
			if l[col:] != "2023-11-28T22:13:20+00:00 (expired)  42" {
				t.Errorf("row %q", l)
			}
		case strings.HasPrefix(l, "badbadbadbad"):
			// A corrupt file's expiry runs from its mtime, as Django
			// computes it (and clears it once past).
			if !strings.HasSuffix(l, "(corrupt)") || l[col:col+2] != "20" {
				t.Errorf("row %q", l)
			}
		default:
			t.Errorf("unexpected row %q", l)
		}
	}
}

// forceTerminal is a writer that says it is a terminal.
type forceTerminal struct{ io.Writer }

func (forceTerminal) IsTerminal() bool { return true }

// TestProgressLine: a slow clear on a terminal shows a progress line on
// stderr, finished with a newline; a quick one, or one whose stderr is not
// a terminal, prints nothing.
func TestProgressLine(t *testing.T) {
	defer func(d, tick time.Duration) { progressDelay, progressTick = d, tick }(progressDelay, progressTick)
	progressDelay, progressTick = 20*time.Millisecond, 5*time.Millisecond
	slow := func() error { time.Sleep(100 * time.Millisecond); return nil }
	var b strings.Builder
	inv := &invocation{stderr: forceTerminal{&b}}
	if err := inv.withProgress("clearing expired sessions", slow); err != nil {
		t.Fatal(err)
	}
	if out := b.String(); !strings.HasPrefix(out, "\rdjsession: clearing expired sessions... ") ||
		!strings.Contains(out, "done (0s)") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("progress output %q", out)
	}
	b.Reset()
	if err := inv.withProgress("x", func() error { return nil }); err != nil || b.Len() != 0 {
		t.Fatalf("quick work printed %q (%v)", b.String(), err)
	}
	inv.stderr = &b
	if err := inv.withProgress("x", slow); err != nil || b.Len() != 0 {
		t.Fatalf("non-terminal stderr got %q (%v)", b.String(), err)
	}
}
