package main

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Tests of the command-line contract's finer points (DESIGN.md, "The
// command-line contract"): which failures exit 1 and which 2, what stderr
// carries, what whoami prints for an odd stored login, and the pylibmc
// cache format.

const usageHint = "Run 'djsession help'"

// A value that cannot be a session (larger than the input limit, not
// base64 under --base64) is a rejected value: exit 1, no usage hint. Input
// to write (JSON for encode, create, set, dumps) that is too large or not
// JSON is a usage error: exit 2.
func TestValueErrorsExitOne(t *testing.T) {
	huge := strings.Repeat("a", maxInput+1)
	dk := "--secret-key=" + keyDjangoTests
	dir := t.TempDir()
	fileEnv := []string{"DJANGO_SECRET_KEY=" + keyDjangoTests, "SESSION_ENGINE=file", "SESSION_FILE_PATH=" + dir}
	key := createSession(t, fileEnv, `{"a":1}`)
	for _, c := range []struct {
		name  string
		args  []string
		env   []string
		stdin string
		code  int
		want  string
		hint  bool // the usage hint is expected
	}{
		{name: "decode db too large", args: []string{"decode", dk}, stdin: huge, code: 1, want: "bad value: larger than 16777216 bytes"},
		{name: "decode dash too large", args: []string{"decode", "-", dk}, stdin: huge, code: 1, want: "bad value: larger than"},
		{name: "decode cookie too large", args: []string{"decode", "--engine", "signed_cookies", dk}, stdin: huge, code: 1, want: "bad value: larger than"},
		{name: "decode cache too large", args: []string{"decode", "--engine", "cache"}, stdin: huge, code: 1, want: "bad value: larger than"},
		{name: "decode cache base64 too large", args: []string{"decode", "--engine", "cache", "--base64"}, stdin: huge, code: 1, want: "bad value: larger than"},
		{name: "decode not base64", args: []string{"decode", "--engine", "cache", "--base64", "!!!notb64"}, code: 1, want: "bad value: not base64"},
		{name: "decode not base64 stdin", args: []string{"decode", "--engine", "cached_db", "--base64"}, stdin: "!!!notb64\n", code: 1, want: "bad value: not base64"},
		{name: "decode not base64 pymemcache", args: []string{"decode", "--engine", "cache", "--cache-format", "pymemcache", "--base64", "a"},
			code: 1, want: "bad value: not base64"},
		// Input to write: exit 2, a plain message for the size.
		{name: "encode too large", args: []string{"encode", dk}, stdin: huge, code: 2, want: "JSON input on stdin is larger than 16777216 bytes"},
		{name: "encode cache too large", args: []string{"encode", "--engine", "cache"}, stdin: huge, code: 2, want: "larger than"},
		{name: "dumps too large", args: []string{"dumps", dk}, stdin: huge, code: 2, want: "larger than"},
		{name: "create too large", args: []string{"create"}, env: fileEnv, stdin: huge, code: 2, want: "larger than"},
		{name: "set too large", args: []string{"set", key}, env: fileEnv, stdin: huge, code: 2, want: "larger than"},
		// Real usage errors keep exit 2 and the hint.
		{name: "encode bad JSON", args: []string{"encode", "not json", dk}, code: 2, want: "JSON input", hint: true},
		{name: "create bad JSON", args: []string{"create", "{"}, env: fileEnv, code: 2, want: "JSON input", hint: true},
		{name: "decode bad flag", args: []string{"decode", "--base64", "x", dk}, code: 2, want: "--base64 applies", hint: true},
		{name: "decode two values", args: []string{"decode", "a", "b", dk}, code: 2, want: "usage: djsession decode", hint: true},
	} {
		t.Run(c.name, func(t *testing.T) {
			out, errOut, code := runCLI(t, c.args, c.env, c.stdin)
			if code != c.code || out != "" || !strings.Contains(errOut, c.want) {
				t.Fatalf("exit %d (want %d), stdout %q, stderr %q (want %q)", code, c.code, out, errOut, c.want)
			}
			if got := strings.Contains(errOut, usageHint); got != c.hint {
				t.Errorf("usage hint shown: %v, want %v: %q", got, c.hint, errOut)
			}
		})
	}
}

// No command's help may call it read-only when loading a session has
// Django's side effects; get and whoami say what they are. The file
// engine's deletion of an expired session file, which they document, is
// checked too.
func TestHelpSaysWhatLoadingWrites(t *testing.T) {
	for _, c := range commands {
		if strings.Contains(strings.ToLower(c.help), "read-only") {
			t.Errorf("help of %s says read-only", c.name)
		}
	}
	for _, name := range []string{"get", "whoami"} {
		out, _, code := runCLI(t, []string{"help", name}, nil, "")
		if code != 0 || !strings.Contains(out, "expired session's file is deleted") ||
			!strings.Contains(out, "copied into the cache") {
			t.Errorf("help %s does not say what loading writes:\n%s", name, out)
		}
	}
	for _, name := range []string{"get", "whoami"} {
		dir := t.TempDir()
		env := []string{"DJANGO_SECRET_KEY=file-store-test-key", "SESSION_ENGINE=file", "SESSION_FILE_PATH=" + dir}
		key := createSession(t, env, `{"a":1}`, "--now", t0, "--cookie-age", "60")
		path := filepath.Join(dir, "sessionid"+key)
		if _, err := os.Stat(path); err != nil {
			t.Fatal(err)
		}
		// An hour later the session has expired: loading it deletes the file.
		storeRun(t, env, "", 1, name, key, "--now", "1700003600", "--cookie-age", "60")
		if _, err := os.Stat(path); !os.IsNotExist(err) {
			t.Errorf("%s of an expired file session: the file is still there (%v)", name, err)
		}
	}
}

// go-redis logs each failed dial on stderr through its own logger; the
// CLI silences it, so stderr holds djsession's lines only. The stores'
// warnings (cached_db falling back to the database) come as
// "djsession: warning: ..." lines.
func TestStderrHoldsOnlyDjsessionLines(t *testing.T) {
	onlyOurs := func(t *testing.T, errOut string) {
		t.Helper()
		if errOut == "" {
			t.Fatal("stderr is empty")
		}
		for _, l := range strings.Split(strings.TrimSuffix(errOut, "\n"), "\n") {
			if !strings.HasPrefix(l, "djsession: ") {
				t.Errorf("stderr line not from djsession: %q", l)
			}
		}
	}
	// Nothing listens on port 1.
	const dead = "redis://127.0.0.1:1/0"
	env := []string{"DJANGO_SECRET_KEY=stderr-test-key-1", "SESSION_ENGINE=cache", "CACHE_URL=" + dead}
	_, errOut := storeRun(t, env, "", 2, "ls")
	onlyOurs(t, errOut)
	if !strings.Contains(errOut, "session store error") {
		t.Errorf("ls with Redis down: %q", errOut)
	}
	_, errOut = storeRun(t, env, "", 2, "get", strings.Repeat("a", 32))
	onlyOurs(t, errOut)

	// cached_db with the cache down reads the database, warning once per
	// failure in djsession's own form.
	_, m, dbEnv := copySampleDB(t)
	cdb := append(append([]string{}, dbEnv...), "SESSION_ENGINE=cached_db", "CACHE_URL="+dead)
	key := ""
	for _, s := range m.Sessions {
		if s.LiveAtNow {
			key = s.SessionKey
		}
	}
	out, errOut := storeRun(t, cdb, "", 0, "get", key, "--now="+jsonInt(m.Now))
	if !json.Valid([]byte(out)) {
		t.Fatalf("get: %q", out)
	}
	onlyOurs(t, errOut)
	if !strings.Contains(errOut, "djsession: warning: cached_db: reading the cache failed") {
		t.Errorf("cached_db with the cache down: no warning: %q", errOut)
	}
}

// whoami shows _auth_user_backend as stored: a str as is, any other value
// as stored (here an int, which is never an allowed backend), null when the
// session holds none, and never "" in place of what is there.
func TestWhoamiBackendAsStored(t *testing.T) {
	_, _, env := copySampleDB(t)
	for _, c := range []struct {
		name, data string
		backend    any
		userID     any
		reason     string
	}{
		{"int backend", `{"_auth_user_id":"1","_auth_user_backend":5,"_auth_user_hash":"x"}`, float64(5), "1", "AUTHENTICATION_BACKENDS"},
		{"empty backend", `{"_auth_user_id":"1","_auth_user_backend":"","_auth_user_hash":"x"}`, "", "1", "AUTHENTICATION_BACKENDS"},
		{"list backend", `{"_auth_user_id":7,"_auth_user_backend":["a"],"_auth_user_hash":"x"}`, []any{"a"}, "7", "AUTHENTICATION_BACKENDS"},
		{"other backend", `{"_auth_user_id":"1","_auth_user_backend":"myapp.Backend"}`, "myapp.Backend", "1", "AUTHENTICATION_BACKENDS"},
		{"no backend", `{"_auth_user_id":"1"}`, nil, "1", "backend"},
		{"anonymous", `{"cart":[1]}`, nil, nil, "no user in session"},
	} {
		t.Run(c.name, func(t *testing.T) {
			key := createSession(t, env, c.data)
			out, _ := storeRun(t, env, "", 0, "whoami", key)
			var v map[string]any
			if err := json.Unmarshal([]byte(out), &v); err != nil {
				t.Fatalf("%v: %q", err, out)
			}
			be, ok := v["backend"]
			if !ok || !jsonEqual(be, c.backend) || !jsonEqual(v["user_id"], c.userID) ||
				v["authenticated"] != false || !strings.Contains(v["reason"].(string), c.reason) {
				t.Errorf("whoami printed %s; want backend %#v, user_id %#v, reason %q", out, c.backend, c.userID, c.reason)
			}
		})
	}
}

func jsonEqual(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return string(x) == string(y)
}

// pylibmc is a --cache-format: Django's PyLibMCCache values. The expected
// bytes are pylibmc 1.6.3's Client.serialize of the same dicts (flags 1,
// a pickle at protocol 5); flags 9 is a pickle pylibmc stored
// zlib-compressed (min_compress_len), which the pymemcache format cannot
// read.
func TestPylibmcFormat(t *testing.T) {
	// pylibmc: serialize({'a': 1, 'b': 'two'}) -> (this, 1)
	const ab = "gAWVFQAAAAAAAAB9lCiMAWGUSwGMAWKUjAN0d2+UdS4="
	// pylibmc: serialize({'cart': [1, 2], '_auth_user_id': '1', 'n': None, 't': True})
	const cart = "gAWVMgAAAAAAAAB9lCiMBGNhcnSUXZQoSwFLAmWMDV9hdXRoX3VzZXJfaWSUjAExlIwBbpROjAF0lIh1Lg=="
	// zlib.compress of the cart pickle, as pylibmc stores it with FLAG_ZLIB.
	const cartZ = "eJxrYJ1qxAABtVM0eliSE4tKpsRO0fBm9GZK7eGNTywtyYgvLU4tis9MmdLDaAjEeVP8ehhLpnSU6gEAH/0T4g=="
	const cartJSON = `{"cart":[1,2],"_auth_user_id":"1","n":null,"t":true}` + "\n"
	runCases(t, []cliCase{
		{name: "encode", args: []string{"encode", "--engine", "cache", "--cache-format", "pylibmc", "--base64", `{"a":1,"b":"two"}`}, stdout: ab + "\n"},
		{name: "decode", args: []string{"decode", "--engine", "cache", "--cache-format", "pylibmc", "--base64", cart}, stdout: cartJSON},
		{name: "decode zlib", args: []string{"decode", "--engine", "cached_db", "--cache-format", "pylibmc", "--cache-flags", "9", "--base64", cartZ},
			stdout: cartJSON},
		{name: "pylibmc URL picks the format", args: []string{"decode", "--engine", "cache", "--cache", "pylibmc://127.0.0.1:11211",
			"--cache-flags", "9", "--base64", cartZ}, stdout: cartJSON},
		{name: "pymemcache cannot read zlib", args: []string{"decode", "--engine", "cache", "--cache-format", "pymemcache",
			"--cache-flags", "9", "--base64", cartZ}, code: 1, stderr: "bad value"},
		{name: "raw bytes on stdin", args: []string{"decode", "--engine", "cache", "--cache-format", "pylibmc"},
			stdin: string(mustB64(t, cart)) + "\n", stdout: cartJSON},
		{name: "no django-redis options", args: []string{"decode", "--engine", "cache", "--cache-format", "pylibmc",
			"--cache-serializer", "json", "x"}, code: 2, stderr: "applies only to --cache-format django-redis"},
	})
}

func mustB64(t *testing.T, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Against the real client: a session our store commands write with
// --cache-format pylibmc is read by pylibmc (as Django's PyLibMCCache
// reads it), and one pylibmc stores zlib-compressed is read by get.
func TestPylibmcStoreInterop(t *testing.T) {
	addr := serviceAddr("DJSESSION_MEMCACHED_ADDR", "127.0.0.1:11211")
	requireServer(t, "memcached", addr)
	py := requirePython(t, "pylibmc")
	prefix := randomPrefix(t)
	env := []string{"DJANGO_SECRET_KEY=pylibmc-test-key-1", "SESSION_ENGINE=cache", "CACHE_URL=memcache://" + addr}
	args := []string{"--cache-format", "pylibmc", "--key-prefix", prefix, "--cookie-age", "300"}
	key := createSession(t, env, `{"cart":[1,2],"u":"é"}`, args...)
	t.Cleanup(func() { runCLI(t, append([]string{"rm", key}, args...), env, "") })
	cacheKey := prefix + ":1:django.contrib.sessions.cache" + key
	const script = `
import json, sys, pylibmc
c = pylibmc.Client([sys.argv[1]])
print(json.dumps(c.get(sys.argv[2]), sort_keys=True))
c.set(sys.argv[2], {"big": "x" * 5000}, time=300, min_compress_len=100)
`
	cmd := exec.Command(py, "-c", script, addr, cacheKey)
	cmd.Dir = t.TempDir()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pylibmc: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != `{"cart": [1, 2], "u": "\u00e9"}` {
		t.Fatalf("pylibmc read %s", got)
	}
	// The pylibmc:// scheme selects the format by itself.
	u := url.URL{Scheme: "pylibmc", Host: addr}
	env2 := []string{"DJANGO_SECRET_KEY=pylibmc-test-key-1", "SESSION_ENGINE=cache", "CACHE_URL=" + u.String()}
	cliCase{args: []string{"get", key, "--key-prefix", prefix}, env: env2,
		stdout: `{"big":"` + strings.Repeat("x", 5000) + `"}` + "\n"}.check(t)
}

// filecache and dbcache are --cache-formats: a FileBasedCache file's bytes
// and DatabaseCache's value column. The expected values were printed by
// CPython 3.11 as Django 3.2's FileBasedCache._write_content and
// DatabaseCache._base_set build them: pickle.dumps(time.time() + timeout,
// 5) + zlib.compress(pickle.dumps(d, 5)) with time.time() = 1700000000 and
// timeout 300, and base64.b64encode(pickle.dumps(d, 5)).
func TestDjangoCacheFormats(t *testing.T) {
	const file = "gAWVCgAAAAAAAABHQdlU/IsAAAAueJxrYJ0qygABtVM0ehgTp3gz9jAmTelhLinPn1KqBwB32gja"
	const column = "gAWVFQAAAAAAAAB9lCiMAWGUSwGMAWKUjAN0d2+UdS4="
	const ab = `{"a":1,"b":"two"}`
	runCases(t, []cliCase{
		{name: "encode file", args: []string{"encode", "--engine", "cache", "--cache-format", "filecache", "--base64",
			"--now", "1700000000", "--cookie-age", "300", ab}, stdout: file + "\n"},
		{name: "decode file", args: []string{"decode", "--engine", "cache", "--cache-format", "filecache", "--base64",
			"--now", "1700000299", file}, stdout: ab + "\n"},
		// Django's get keeps an entry until expiry < time.time().
		{name: "decode file at its expiry", args: []string{"decode", "--engine", "cache", "--cache", "filecache:///var/tmp/c",
			"--base64", "--now", "1700000300", file}, stdout: ab + "\n"},
		{name: "decode expired file", args: []string{"decode", "--engine", "cache", "--cache-format", "filecache", "--base64",
			"--now", "1700000300.5", file}, code: 1, stderr: "expired"},
		{name: "decode empty file", args: []string{"decode", "--engine", "cache", "--cache-format", "filecache"},
			code: 1, stderr: "expired"},
		{name: "decode not a file", args: []string{"decode", "--engine", "cache", "--cache-format", "filecache", "nonsense"},
			code: 1, stderr: "bad value"},
		{name: "encode column", args: []string{"encode", "--engine", "cache", "--cache-format", "dbcache", ab}, stdout: column},
		{name: "decode column", args: []string{"decode", "--engine", "cached_db", "--cache", "dbcache://t"}, stdin: column + "\n",
			stdout: ab + "\n"},
		{name: "decode column not base64", args: []string{"decode", "--engine", "cache", "--cache-format", "dbcache", "a b"},
			code: 1, stderr: "bad value"},
		{name: "no django-redis options", args: []string{"decode", "--engine", "cache", "--cache-format", "filecache",
			"--cache-compressor", "zlib", "x"}, code: 2, stderr: "applies only to --cache-format django-redis"},
	})
}
