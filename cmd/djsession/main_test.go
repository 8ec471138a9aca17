package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The tests in this file run the built binary as a subprocess: what a user
// or a script sees (stdout, stderr, exit code).

var djsessionBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "djsession-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	djsessionBin = filepath.Join(dir, "djsession")
	if out, err := exec.Command("go", "build", "-o", djsessionBin, ".").CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building djsession: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// runCLI runs the binary with exactly env as its environment.
func runCLI(t *testing.T, args, env []string, stdin string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(djsessionBin, args...)
	cmd.Env = append([]string{}, env...)
	if cmd.Env == nil {
		cmd.Env = []string{}
	}
	cmd.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var xe *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &xe):
		code = xe.ExitCode()
	default:
		t.Fatalf("running djsession: %v", err)
	}
	return o.String(), e.String(), code
}

// secretsOf returns the secret keys a case hands the program, in flags or
// in the environment, so that no message can be checked to repeat them.
func secretsOf(args, env []string) []string {
	var s []string
	for i, a := range args {
		for _, f := range []string{"--secret-key", "--fallback-key"} {
			if a == f && i+1 < len(args) {
				s = append(s, args[i+1])
			} else if v, ok := strings.CutPrefix(a, f+"="); ok {
				s = append(s, v)
			}
		}
	}
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "DJANGO_SECRET_KEY="); ok {
			s = append(s, v)
		} else if v, ok := strings.CutPrefix(kv, "DJANGO_SECRET_KEY_FALLBACKS="); ok {
			s = append(s, strings.Split(v, ",")...)
		}
	}
	return s
}

// cliCase is one run of the binary. With code 0, stdout must equal stdout
// exactly and stderr must be empty; otherwise stdout must be empty and
// stderr must contain stderr. Either way no secret may appear in stderr.
type cliCase struct {
	name   string
	args   []string
	env    []string
	stdin  string
	stdout string
	stderr string
	code   int
}

func (c cliCase) check(t *testing.T) {
	t.Helper()
	out, errOut, code := runCLI(t, c.args, c.env, c.stdin)
	if code != c.code {
		t.Fatalf("args %q: exit %d, want %d\nstdout: %q\nstderr: %q", c.args, code, c.code, out, errOut)
	}
	if c.code == 0 {
		if out != c.stdout {
			t.Errorf("args %q: stdout\n got %q\nwant %q", c.args, out, c.stdout)
		}
		if errOut != "" {
			t.Errorf("args %q: stderr not empty: %q", c.args, errOut)
		}
	} else {
		if out != "" {
			t.Errorf("args %q: stdout not empty on failure: %q", c.args, out)
		}
		if !strings.Contains(errOut, c.stderr) {
			t.Errorf("args %q: stderr %q does not contain %q", c.args, errOut, c.stderr)
		}
	}
	for _, s := range secretsOf(c.args, c.env) {
		if len(s) >= 4 && strings.Contains(errOut, s) {
			t.Errorf("args %q: stderr repeats a secret key: %q", c.args, errOut)
		}
	}
}

func runCases(t *testing.T, cases []cliCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { c.check(t) })
	}
}

const (
	keyPredictable = "predictable-secret"      // spec §9.2, §9.3
	keyDjangoTests = "django_tests_secret_key" // Django's test SECRET_KEY, spec §9
)

// k is the --secret-key flag for keyPredictable.
var k = "--secret-key=" + keyPredictable

// Signer / TimestampSigner: spec §9.2 (3.1+ SHA-256 column, and the ≤3.0
// SHA-1 column for --algorithm sha1 and --legacy-sha1).
func TestSignUnsignSpec(t *testing.T) {
	const fooSig = "jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0"
	const fooSHA1 = "foo:sH9B01cZcJ9FoT_jEVkRkNULrl8"
	const helloTS = "hello:1r31eq:ESnvh0UG3MKjmlEh8oOo4AB3aBbzEzE2OxtKdYRmPIU"
	runCases(t, []cliCase{
		{name: "sign", args: []string{"sign", "foo", k}, stdout: "foo:" + fooSig + "\n"},
		{name: "flags first", args: []string{k, "sign", "foo"}, stdout: "foo:" + fooSig + "\n"},
		{name: "sep slash", args: []string{"sign", "--sep", "/", "foo", k}, stdout: "foo/" + fooSig + "\n"},
		{name: "sep word", args: []string{"sign", "--sep=*sep*", "foo", k}, stdout: "foo*sep*" + fooSig + "\n"},
		{name: "sep comma", args: []string{"sign", "foo", "--sep", ",", k}, stdout: "foo," + fooSig + "\n"},
		{name: "key byte e7", args: []string{"sign", "foo", "--secret-key", "\xe7"},
			stdout: "foo:EE4qGC5MEKyQG5msxYA0sBohAxLC0BJf8uRhemh0BGU\n"},
		{name: "SECRET_KEY from env", args: []string{"sign", "foo"}, env: []string{"DJANGO_SECRET_KEY=" + keyDjangoTests},
			stdout: "foo:EASQ3YXgyZj15RTV7AOC6xbFsVHM8SORDEUA3kDWNCY\n"},
		{name: "salt", args: []string{"sign", "hello", "--salt", "extra-salt", k},
			stdout: "hello:g8YZrsJ1xXg4hGFgU2uc4ff9ZZRKt3ReprMkjND8TfM\n"},
		{name: "empty salt is the default", args: []string{"sign", "foo", "--salt=", k}, stdout: "foo:" + fooSig + "\n"},
		{name: "default salt spelled out", args: []string{"sign", "foo", "--salt", "django.core.signing.Signer", k},
			stdout: "foo:" + fooSig + "\n"},
		{name: "timestamp", args: []string{"sign", "--timestamp", "hello", k, "--now", "1700000000"}, stdout: helloTS + "\n"},
		{name: "timestamp fractional now", args: []string{"sign", "--timestamp", "hello", k, "--now=1700000000.75"},
			stdout: helloTS + "\n"},
		{name: "sha512", args: []string{"sign", "hello", "--algorithm", "sha512", k},
			stdout: "hello:Usf3uVQOZ9m6uPfVonKR-EBXjPe7bjMbp3_Fq8MfsptgkkM1ojidN0BxYaT5HAEN1VzO9_jVu7R-VkqknHYNvw\n"},
		{name: "sha1", args: []string{"sign", "foo", "--algorithm", "sha1", k}, stdout: fooSHA1 + "\n"},
		{name: "sha1 timestamp", args: []string{"sign", "hello", "--algorithm", "sha1", "--timestamp", "--now", "1700000000", k},
			stdout: "hello:1r31eq:VimKT4VTBkllBKsR4bagtKLBnf0\n"},

		{name: "unsign", args: []string{"unsign", "foo:" + fooSig, k}, stdout: "foo\n"},
		{name: "unsign sep", args: []string{"unsign", "foo/" + fooSig, "--sep=/", k}, stdout: "foo\n"},
		// Django 3.2.25: Signer(key="predictable-secret").sign("3098247:529:087:").
		{name: "unsign value with separators", args: []string{"unsign", "3098247:529:087::2HDEBJvc5zAnVJjTJGWZzie4pjRtOlgm8RQSRYEXB6Q", k},
			stdout: "3098247:529:087:\n"},
		{name: "unsign timestamp", args: []string{"unsign", "--timestamp", helloTS, k}, stdout: "hello\n"},
		{name: "unsign timestamp token as plain signer", args: []string{"unsign", helloTS, "--salt", "django.core.signing.TimestampSigner", k},
			stdout: "hello:1r31eq\n"},
		{name: "unsign sha1 rejected by default", args: []string{"unsign", fooSHA1, k}, code: 1, stderr: "bad signature"},
		{name: "unsign sha1 with --algorithm sha1", args: []string{"unsign", fooSHA1, "--algorithm", "sha1", k}, stdout: "foo\n"},
		{name: "unsign sha1 with --legacy-sha1", args: []string{"--legacy-sha1", "unsign", fooSHA1, k}, stdout: "foo\n"},
		// Django 3.1–3.2 consulted SHA-1 whatever algorithm was asked for (spec §2.4).
		{name: "unsign sha1 with --legacy-sha1 and sha512", args: []string{"unsign", fooSHA1, "--legacy-sha1", "--algorithm", "sha512", k},
			stdout: "foo\n"},
		{name: "unsign tampered", args: []string{"unsign", "fox:" + fooSig, k}, code: 1, stderr: "bad signature"},
		{name: "unsign wrong salt", args: []string{"unsign", "foo:" + fooSig, "--salt", "other", k}, code: 1, stderr: "bad signature"},
		{name: "unsign no separator", args: []string{"unsign", "foo", k}, code: 1, stderr: "bad signature"},
		{name: "unsign timestamp missing", args: []string{"unsign", "--timestamp", "foo:" + fooSig, "--salt", "django.core.signing.Signer", k},
			code: 1, stderr: "bad payload"},
	})
}

// The timestamp window of spec §9.2 [T]: TimestampSigner(key="predictable-key")
// signed at t=123456789, unsigned at t=123456800 (age 11). The token was made
// by Django 3.2.25 with time.time() = 123456789. Age = now (with its fraction)
// − whole-second timestamp, rejected when > max_age (spec §2.5).
func TestTimestampWindow(t *testing.T) {
	const token = "value:8M0kX:hIhdQ-isO8cvOKav5fNUAKj6Z_DMKR70-qBxA3yPeNo"
	kk := "--secret-key=predictable-key"
	u := func(now, maxAge string) []string {
		return []string{"unsign", "--timestamp", token, kk, "--now", now, "--max-age", maxAge}
	}
	runCases(t, []cliCase{
		{name: "sign at a fractional instant", args: []string{"sign", "--timestamp", "value", kk, "--now", "123456789.9"}, stdout: token + "\n"},
		{name: "max-age 12", args: u("123456800", "12"), stdout: "value\n"},
		{name: "max-age 11 (equal)", args: u("123456800", "11"), stdout: "value\n"},
		{name: "max-age 10", args: u("123456800", "10"), code: 1, stderr: "signature expired"},
		{name: "half a second past", args: u("123456800.5", "11"), code: 1, stderr: "signature expired"},
		{name: "fractional max-age equal", args: u("123456800.5", "11.5"), stdout: "value\n"},
		{name: "one microsecond past", args: u("123456800.000001", "11"), code: 1, stderr: "signature expired"},
		{name: "max-age 0 same second", args: u("123456789", "0"), stdout: "value\n"},
		{name: "max-age 0 later in the second", args: u("123456789.5", "0"), code: 1, stderr: "signature expired"},
		{name: "no max-age never expires", args: []string{"unsign", "--timestamp", token, kk, "--now", "999999999999"}, stdout: "value\n"},
		{name: "bad max-age", args: u("123456800", "12s"), code: 2, stderr: "--max-age"},
	})
}

// signing.dumps / loads: spec §9.3 (3.1+ column), key predictable-secret, t=1700000000.
func TestDumpsLoadsSpec(t *testing.T) {
	const dictTok = "eyJmb28iOiJiYXIiLCJiYXoiOjF9:1r31eq:17iNO78HbYFKLu_OSS5m1dNcPFP-jgzpJbfDPdASZPU"
	const strTok = "ImEgc3RyaW5nIFx1MjAxOSI:1r31eq:C-6pDfbzODCU0KKvAqZ3gM1HEiGh_ts62GpcZ34GU6M"
	// Django 3.2.25, dumps({"n": 2**70, "f": 1e16, "z": -0.0, "ü": [1.5e-07, 0.30000000000000004]},
	// key="predictable-secret") at t=1700000000, and the same with salt="".
	const numTok = "eyJuIjoxMTgwNTkxNjIwNzE3NDExMzAzNDI0LCJmIjoxZSsxNiwieiI6LTAuMCwiXHUwMGZjIjpbMS41ZS0wNywwLjMwMDAwMDAwMDAwMDAwMDA0XX0:1r31eq:qbZfuYXd7k8wh8SeNCrthB5Ba8N03iquFwhSthv2BL4"
	const numTokEmptySalt = "eyJuIjoxMTgwNTkxNjIwNzE3NDExMzAzNDI0LCJmIjoxZSsxNiwieiI6LTAuMCwiXHUwMGZjIjpbMS41ZS0wNywwLjMwMDAwMDAwMDAwMDAwMDA0XX0:1r31eq:1AFxmLgTY4ed7b7c8p-OF0dJla-W3rFFNtnaWNJmPb4"
	const numJSON = `{"n": 1180591620717411303424, "f": 1e16, "z": -0.0, "ü": [1.5e-07, 0.30000000000000004]}`
	const numNormal = `{"n":1180591620717411303424,"f":1e+16,"z":-0.0,"ü":[1.5e-07,0.30000000000000004]}`
	const djangoCompressed = ".eJwFwcERACAIwLCF-rCiILN47r-GyZVJsNgkxaFxoDgxcOHGxMKD_T7vhAml:1r31eq:cWrrlyJwdPYgP55b3ZfMQina7WM89uOdlmM6QHxJnMI"
	now := "--now=1700000000"
	runCases(t, []cliCase{
		{name: "dict", args: []string{"dumps", `{"foo":"bar","baz":1}`, k, now}, stdout: dictTok + "\n"},
		{name: "dict from stdin", args: []string{"dumps", k, now}, stdin: "{\"foo\": \"bar\", \"baz\": 1}\n", stdout: dictTok + "\n"},
		{name: "dict from stdin dash", args: []string{"dumps", "-", k, now}, stdin: `{"foo":"bar","baz":1}`, stdout: dictTok + "\n"},
		{name: "escaped string", args: []string{"dumps", `"a string \u2019"`, k, now}, stdout: strTok + "\n"},
		{name: "UTF-8 string", args: []string{"dumps", "\"a string \u2019\"", k, now}, stdout: strTok + "\n"},
		{name: "compress not worth it", args: []string{"dumps", "[1,2]", "--compress", k, now},
			stdout: "WzEsMl0:1r31eq:SHu0sswG1ngHKEh1bXQyitrjAPPpZWeAQBTYaZ9ZVfY\n"},
		{name: "big int, floats, non-ASCII key", args: []string{"dumps", numJSON, k, now}, stdout: numTok + "\n"},
		{name: "salt empty as dumps(salt='')", args: []string{"dumps", numJSON, "--salt", "", k, now}, stdout: numTokEmptySalt + "\n"},

		{name: "loads keeps key order", args: []string{"loads", dictTok, k}, stdout: `{"foo":"bar","baz":1}` + "\n"},
		{name: "loads string", args: []string{"loads", strTok, k}, stdout: "\"a string \u2019\"\n"},
		{name: "loads numbers", args: []string{"loads", numTok, k}, stdout: numNormal + "\n"},
		{name: "loads salt empty", args: []string{"loads", numTokEmptySalt, "--salt=", k}, stdout: numNormal + "\n"},
		{name: "loads salt empty is not the dumps default", args: []string{"loads", numTok, "--salt=", k}, code: 1, stderr: "bad signature"},
		{name: "loads Django's compressed", args: []string{"loads", djangoCompressed, k},
			stdout: "[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19]\n"},
		{name: "loads max-age ok", args: []string{"loads", dictTok, k, "--now", "1700000100", "--max-age", "100"},
			stdout: `{"foo":"bar","baz":1}` + "\n"},
		{name: "loads max-age expired", args: []string{"loads", dictTok, k, "--now", "1700000100", "--max-age", "99.5"},
			code: 1, stderr: "signature expired"},
		{name: "loads wrong key", args: []string{"loads", dictTok, "--secret-key", "another-secret"}, code: 1, stderr: "bad signature"},
		{name: "loads wrong salt", args: []string{"loads", dictTok, "--salt", "x", k}, code: 1, stderr: "bad signature"},
		{name: "loads fallback key", args: []string{"loads", dictTok, "--secret-key", "new-key-0000", "--fallback-key", keyPredictable},
			stdout: `{"foo":"bar","baz":1}` + "\n"},
	})

	// Legacy loads [T] (spec §9.2): a SHA-1 token, rejected by Django 4.0+,
	// accepted by 3.1–3.2 (--legacy-sha1) and with --algorithm sha1.
	const legacy = "ImEgc3RyaW5nIFx1MjAyMCI:1k1beT:ZfNhN1kdws7KosUleOvuYroPHEc"
	dk := "--secret-key=" + keyDjangoTests
	runCases(t, []cliCase{
		{name: "legacy rejected", args: []string{"loads", legacy, dk}, code: 1, stderr: "bad signature"},
		{name: "legacy with --legacy-sha1", args: []string{"loads", legacy, dk, "--legacy-sha1"}, stdout: "\"a string \u2020\"\n"},
		{name: "legacy with --algorithm sha1", args: []string{"loads", legacy, dk, "--algorithm", "sha1"}, stdout: "\"a string \u2020\"\n"},
	})
}

// Our compressed tokens differ from CPython's zlib output (spec §2.6), so
// the test is that they round-trip and carry the "." flag.
func TestDumpsCompressRoundTrip(t *testing.T) {
	list := `["compress me","compress me","compress me","compress me","compress me","compress me"]`
	out, errOut, code := runCLI(t, []string{"dumps", list, "--compress", k, "--now", "1700000000"}, nil, "")
	if code != 0 || !strings.HasPrefix(out, ".") || !strings.HasSuffix(out, "\n") {
		t.Fatalf("dumps --compress: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	token := strings.TrimSuffix(out, "\n")
	cliCase{name: "loads", args: []string{"loads", token, k}, stdout: list + "\n"}.check(t)

	// Real Django reads it too, when it is installed.
	py := requirePython(t, "django")
	script := `import sys
from django.conf import settings
settings.configure(SECRET_KEY="unused")
from django.core import signing
print(signing.loads(sys.argv[1], key=sys.argv[2]))`
	cmd := exec.Command(py, "-c", script, token, keyPredictable)
	cmd.Dir = t.TempDir()
	got, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(got)) != "["+strings.Repeat("'compress me', ", 5)+"'compress me']" {
		t.Fatalf("Django loads of our token: %v\n%s", err, got)
	}
}

// requirePython returns /usr/bin/python3 when it can import module, and
// skips (or, with DJSESSION_REQUIRE_SERVICES=1, fails) otherwise.
func requirePython(t *testing.T, module string) string {
	t.Helper()
	const py = "/usr/bin/python3"
	cmd := exec.Command(py, "-c", "import "+module)
	cmd.Dir = t.TempDir()
	if err := cmd.Run(); err != nil {
		msg := fmt.Sprintf("%s with module %s not available: %v", py, module, err)
		if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	return py
}

// sign_object / unsign_object (--object).
func TestSignObject(t *testing.T) {
	// Django 3.2.25: Signer(key="predictable-secret").sign_object({"b": [1, 2], "a": "é"}).
	const tok = "eyJiIjpbMSwyXSwiYSI6Ilx1MDBlOSJ9:0QU8vFl050k_sT5PwQFO0SHOMPcn5egw6xDiNsQtoKM"
	runCases(t, []cliCase{
		{name: "sign object", args: []string{"sign", "--object", `{"b": [1, 2], "a": "é"}`, k}, stdout: tok + "\n"},
		{name: "sign object escaped", args: []string{"sign", "--object", `{"b":[1,2],"a":"\u00e9"}`, k}, stdout: tok + "\n"},
		{name: "unsign object", args: []string{"unsign", "--object", tok, k}, stdout: `{"b":[1,2],"a":"é"}` + "\n"},
		{name: "unsign without --object prints the payload", args: []string{"unsign", tok, k},
			stdout: "eyJiIjpbMSwyXSwiYSI6Ilx1MDBlOSJ9\n"},
		{name: "unsign object bad payload", args: []string{"unsign", "--object", "foo:jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0", k},
			code: 1, stderr: "bad payload"},
		{name: "bad JSON", args: []string{"sign", "--object", `{"a":}`, k}, code: 2, stderr: "JSON"},
	})
}

// Signed cookies: spec §9.4, SECRET_KEY django_tests_secret_key, t=1700000000.
func TestCookiesSpec(t *testing.T) {
	const v2 = "blue:1r31eq:7E4NBRvjXkdCdzX-39r1iHcJUwkS7D1Xxwukv7c7idE"
	const legacy = "blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-E"
	const legacyPepper = "blue:1r31eq:GDJGqSUTSxOq24_h7dYIFfXxKXwpO6m2Ge_Ejkm7zUk"
	const legacySHA1 = "blue:1r31eq:L9-tWdBPVJvxQoGUl8AYsmfDAa4"
	env := []string{"DJANGO_SECRET_KEY=" + keyDjangoTests}
	now := "--now=1700000000"
	runCases(t, []cliCase{
		{name: "sign v2", args: []string{"sign-cookie", "color", "blue", now}, env: env, stdout: v2 + "\n"},
		{name: "sign legacy", args: []string{"sign-cookie", "color", "blue", "--legacy-salt", now}, env: env, stdout: legacy + "\n"},
		{name: "sign legacy pepper", args: []string{"sign-cookie", "--salt", "pepper", "color", "blue", "--legacy-salt", now}, env: env,
			stdout: legacyPepper + "\n"},
		{name: "unsign v2", args: []string{"unsign-cookie", "color", v2}, env: env, stdout: "blue\n"},
		{name: "unsign v2 only", args: []string{"unsign-cookie", "color", v2, "--no-legacy-salt"}, env: env, stdout: "blue\n"},
		{name: "unsign legacy", args: []string{"unsign-cookie", "color", legacy}, env: env, stdout: "blue\n"},
		{name: "unsign legacy refused", args: []string{"unsign-cookie", "color", legacy, "--no-legacy-salt"}, env: env,
			code: 1, stderr: "bad signature"},
		{name: "unsign legacy pepper", args: []string{"unsign-cookie", "color", legacyPepper, "--salt", "pepper"}, env: env, stdout: "blue\n"},
		{name: "unsign pepper without salt", args: []string{"unsign-cookie", "color", legacyPepper}, env: env, code: 1, stderr: "bad signature"},
		{name: "unsign other name", args: []string{"unsign-cookie", "colour", v2}, env: env, code: 1, stderr: "bad signature"},
		{name: "unsign SHA-1 cookie", args: []string{"unsign-cookie", "color", legacySHA1}, env: env, code: 1, stderr: "bad signature"},
		{name: "unsign SHA-1 cookie legacy-sha1", args: []string{"unsign-cookie", "color", legacySHA1, "--legacy-sha1"}, env: env,
			stdout: "blue\n"},
		{name: "max-age ok", args: []string{"unsign-cookie", "color", v2, "--max-age", "60", "--now", "1700000060"}, env: env,
			stdout: "blue\n"},
		{name: "max-age expired by a fraction", args: []string{"unsign-cookie", "color", v2, "--max-age", "60", "--now", "1700000060.5"},
			env: env, code: 1, stderr: "signature expired"},
		{name: "max-age expired", args: []string{"unsign-cookie", "color", v2, "--max-age", "60", "--now", "1700000061"}, env: env,
			code: 1, stderr: "signature expired"},
		{name: "fallback key", args: []string{"unsign-cookie", "color", v2, "--secret-key", "rotated-key-1111"}, env: []string{
			"DJANGO_SECRET_KEY_FALLBACKS=old-1111," + keyDjangoTests}, stdout: "blue\n"},
	})
}

// Flags win over the environment (DESIGN.md).
func TestFlagsWinOverEnv(t *testing.T) {
	const fooTok = "foo:jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0" // key predictable-secret, spec §9.2
	runCases(t, []cliCase{
		{name: "env key", args: []string{"sign", "foo"}, env: []string{"DJANGO_SECRET_KEY=" + keyPredictable}, stdout: fooTok + "\n"},
		{name: "flag key wins", args: []string{"sign", "foo", k}, env: []string{"DJANGO_SECRET_KEY=the-wrong-key"}, stdout: fooTok + "\n"},
		{name: "env fallbacks", args: []string{"unsign", fooTok, "--secret-key", "current-0000"},
			env: []string{"DJANGO_SECRET_KEY_FALLBACKS=older-0000," + keyPredictable}, stdout: "foo\n"},
		{name: "flag fallbacks replace env", args: []string{"unsign", fooTok, "--secret-key", "current-0000", "--fallback-key", "older-0000"},
			env: []string{"DJANGO_SECRET_KEY_FALLBACKS=" + keyPredictable}, code: 1, stderr: "bad signature"},
		{name: "repeated fallback flags", args: []string{"unsign", fooTok, "--fallback-key", "older-0000", "--secret-key", "current-0000",
			"--fallback-key=" + keyPredictable}, stdout: "foo\n"},
		{name: "fallbacks never sign", args: []string{"sign", "foo", "--secret-key", "current-0000", "--fallback-key", keyPredictable},
			stdout: "foo:HW5G1Rpj3E5rXYXwhyJwGFkJxjunJN-e0iNqZinFG48\n"}, // Django 3.2.25, Signer(key="current-0000")
		{name: "bad env engine is not read by sign", args: []string{"sign", "foo", k}, env: []string{"SESSION_ENGINE=myproject.sessions"},
			stdout: fooTok + "\n"},
		{name: "bad flag engine", args: []string{"sign", "foo", k, "--engine", "myproject.sessions"}, code: 2, stderr: "--engine"},
		{name: "dotted engine flag accepted", args: []string{"sign", "foo", k, "--engine", "django.contrib.sessions.backends.file"},
			stdout: fooTok + "\n"},
		{name: "empty flag key wins over env", args: []string{"sign", "foo", "--secret-key="}, env: []string{"DJANGO_SECRET_KEY=" + keyPredictable},
			code: 2, stderr: "no secret key"},
		{name: "empty env key is no key", args: []string{"sign", "foo"}, env: []string{"DJANGO_SECRET_KEY="}, code: 2, stderr: "no secret key"},
	})
}

// Usage and configuration errors exit 2; nothing goes to stdout.
func TestUsageErrors(t *testing.T) {
	runCases(t, []cliCase{
		{name: "no command", args: nil, code: 2, stderr: "no command"},
		{name: "unknown command", args: []string{"frobnicate", k}, code: 2, stderr: `unknown command "frobnicate"`},
		{name: "unknown flag", args: []string{"sign", "foo", k, "--sault", "x"}, code: 2, stderr: "unknown flag --sault"},
		{name: "unknown flag with value", args: []string{"sign", "foo", "--secret=" + keyPredictable}, code: 2, stderr: "unknown flag --secret"},
		{name: "single dash flag", args: []string{"sign", "-x", k}, code: 2, stderr: "unknown flag -x"},
		{name: "flag of another command", args: []string{"sign", "foo", k, "--max-age", "5"}, code: 2, stderr: "--max-age does not apply to sign"},
		{name: "missing flag value", args: []string{"sign", "foo", "--secret-key"}, code: 2, stderr: "--secret-key needs a value"},
		{name: "missing secret", args: []string{"sign", "foo"}, code: 2, stderr: "no secret key"},
		{name: "missing secret loads", args: []string{"loads", "x:y:z"}, code: 2, stderr: "no secret key"},
		{name: "missing secret cookie", args: []string{"unsign-cookie", "a", "b"}, code: 2, stderr: "no secret key"},
		{name: "too many args", args: []string{"sign", "a", "b", k}, code: 2, stderr: "usage: djsession sign VALUE"},
		{name: "too few args", args: []string{"sign-cookie", "a", k}, code: 2, stderr: "usage: djsession sign-cookie NAME VALUE"},
		{name: "unsafe sep", args: []string{"sign", "foo", "--sep", "abc", k}, code: 2, stderr: "unsafe separator"},
		{name: "empty sep", args: []string{"sign", "foo", "--sep", "", k}, code: 2, stderr: "unsafe separator"},
		{name: "bad algorithm", args: []string{"sign", "foo", "--algorithm", "md6", k}, code: 2, stderr: "--algorithm"},
		{name: "bad now", args: []string{"sign", "foo", "--now", "yesterday", k}, code: 2, stderr: "--now"},
		{name: "max-age without timestamp", args: []string{"unsign", "foo:x", "--max-age", "5", k}, code: 2, stderr: "--max-age needs --timestamp"},
		{name: "compress without object", args: []string{"sign", "foo", "--compress", k}, code: 2, stderr: "--compress needs --object"},
		{name: "dumps bad JSON", args: []string{"dumps", "{", k}, code: 2, stderr: "JSON"},
		{name: "dumps trailing garbage", args: []string{"dumps", "[1] x", k}, code: 2, stderr: "JSON"},
		{name: "dumps not UTF-8", args: []string{"dumps", "\"\xff\"", k}, code: 2, stderr: "UTF-8"},
		{name: "dumps empty stdin", args: []string{"dumps", k}, stdin: "", code: 2, stderr: "JSON"},
		{name: "bad bool", args: []string{"sign", "foo", k, "--json=perhaps"}, code: 2, stderr: "--json"},
		{name: "help of unknown", args: []string{"help", "nope"}, code: 2, stderr: "unknown command"},
	})
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"sign", "--help"}, {"help", "dumps"}} {
		out, errOut, code := runCLI(t, args, nil, "")
		if code != 0 || errOut != "" || !strings.Contains(out, "Usage: djsession") {
			t.Errorf("%q: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	out, _, _ := runCLI(t, []string{"help"}, nil, "")
	for _, c := range commands {
		if !strings.Contains(out, "  "+c.name+" ") {
			t.Errorf("help does not list %s", c.name)
		}
	}
	for _, f := range globalFlags {
		if !strings.Contains(out, "--"+f.name) || f.env != "" && !strings.Contains(out, "$"+f.env) {
			t.Errorf("help does not list --%s / %s", f.name, f.env)
		}
	}
	out, _, _ = runCLI(t, []string{"help", "unsign-cookie"}, nil, "")
	if !strings.Contains(out, "--no-legacy-salt") || strings.Contains(out, "--compress") {
		t.Errorf("help unsign-cookie lists the wrong flags:\n%s", out)
	}
}

// vectorCase is one line of testdata/vectors/django-*.jsonl (format in
// /work/shared/vectors/README.md); inputs are kept raw to keep key order.
type vectorCase struct {
	ID       string                     `json:"id"`
	Django   string                     `json:"django"`
	Kind     string                     `json:"kind"`
	Settings map[string]json.RawMessage `json:"settings"`
	Input    map[string]json.RawMessage `json:"input"`
	Expected map[string]json.RawMessage `json:"expected"`
	// PythonRepr is repr() of the Python value, when the case has one.
	PythonRepr string `json:"python_repr"`
}

func loadVectors(t *testing.T) []vectorCase {
	t.Helper()
	var all []vectorCase
	for _, name := range []string{"django-5.2.jsonl", "django-6.0.jsonl"} {
		f, err := os.Open(filepath.Join("..", "..", "testdata", "vectors", name))
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var c vectorCase
			if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			all = append(all, c)
		}
		f.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return all
}

func (c *vectorCase) str(t *testing.T, m map[string]json.RawMessage, key string) (string, bool) {
	t.Helper()
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		// A number (timestamp, max_age): keep its JSON text.
		return string(raw), true
	}
	return s, true
}

// keyArgs returns the flags for the case's secret key and fallback keys.
func (c *vectorCase) keyArgs(t *testing.T) []string {
	t.Helper()
	var args []string
	if s, ok := c.str(t, c.Input, "key"); ok {
		args = append(args, "--secret-key="+s)
	} else if b64, ok := c.str(t, c.Input, "key_bytes_b64"); ok {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.IndexByte(b, 0) >= 0 {
			t.Skip("the key holds a NUL byte, which no command-line argument or environment variable can carry")
		}
		args = append(args, "--secret-key="+string(b))
	} else if s, ok := c.str(t, c.Settings, "SECRET_KEY"); ok {
		args = append(args, "--secret-key="+s)
	}
	if raw, ok := c.Input["fallback_keys"]; ok {
		var fks []string
		if err := json.Unmarshal(raw, &fks); err != nil {
			t.Fatalf("%s: fallback_keys: %v", c.ID, err)
		}
		for _, fk := range fks {
			args = append(args, "--fallback-key="+fk)
		}
	}
	if raw, ok := c.Settings["SECRET_KEY_FALLBACKS"]; ok {
		var fks []string
		if err := json.Unmarshal(raw, &fks); err != nil {
			t.Fatalf("%s: SECRET_KEY_FALLBACKS: %v", c.ID, err)
		}
		for _, fk := range fks {
			args = append(args, "--fallback-key="+fk)
		}
	}
	return args
}

// clockArgs returns --now for the case's timestamp or now.
func (c *vectorCase) clockArgs(t *testing.T) []string {
	for _, key := range []string{"timestamp", "now"} {
		if v, ok := c.str(t, c.Input, key); ok {
			return []string{"--now=" + v}
		}
	}
	return nil
}

// errorCase maps a vector's expected error to our exit code and message.
func errorCase(t *testing.T, c *vectorCase) (int, string) {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	raw, _ := json.Marshal(c.Expected)
	_ = json.Unmarshal(raw, &e)
	switch e.Error {
	case "SignatureExpired":
		return 1, "signature expired"
	case "BadSignature":
		return 1, "bad signature"
	case "ValueError":
		return 2, ""
	default: // zlib.error, JSONDecodeError, binascii.Error, ...: a verified but bad payload
		return 1, "bad payload"
	}
}

// sameJSON compares two JSON texts by value (numbers as their text).
func sameJSON(a, b []byte) bool {
	dec := func(x []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(x))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	va, ea := dec(a)
	vb, eb := dec(b)
	return ea == nil && eb == nil && reflect.DeepEqual(va, vb)
}

// TestDjangoVectors runs the signer, signing.dumps, signing.loads and
// signed_cookie cases made by Django 5.2.17 and 6.0.8 through the binary.
// Byte-exact where Django is deterministic; Django's compressed tokens
// (CPython zlib) are checked by reading them back instead.
func TestDjangoVectors(t *testing.T) {
	ran := 0
	for _, vc := range loadVectors(t) {
		c := vc
		var run func(t *testing.T)
		switch c.Kind {
		case "signer":
			run = func(t *testing.T) { vectorSigner(t, &c) }
		case "signing.dumps":
			run = func(t *testing.T) { vectorDumps(t, &c) }
		case "signing.loads":
			run = func(t *testing.T) { vectorLoads(t, &c) }
		case "signed_cookie":
			run = func(t *testing.T) { vectorCookie(t, &c) }
		default:
			continue
		}
		ran++
		t.Run(c.Django+"/"+c.ID, run)
	}
	if ran < 80 {
		t.Fatalf("only %d signing vectors found", ran)
	}
}

func vectorSigner(t *testing.T, c *vectorCase) {
	method, _ := c.str(t, c.Input, "method")
	class, _ := c.str(t, c.Input, "class")
	args := []string{}
	if class == "TimestampSigner" {
		args = append(args, "--timestamp")
	}
	if s, ok := c.str(t, c.Input, "salt"); ok {
		args = append(args, "--salt="+s)
	}
	if s, ok := c.str(t, c.Input, "sep"); ok {
		args = append(args, "--sep="+s)
	}
	if s, ok := c.str(t, c.Input, "algorithm"); ok {
		args = append(args, "--algorithm="+s)
	}
	args = append(args, c.keyArgs(t)...)
	args = append(args, c.clockArgs(t)...)
	switch method {
	case "__init__": // an unsafe separator: a configuration error
		code, _ := errorCase(t, c)
		args = []string{"sign", "x", "--secret-key=some-key-1234"}
		if s, ok := c.str(t, c.Input, "sep"); ok {
			args = append(args, "--sep="+s)
		}
		cliCase{args: args, code: code, stderr: "unsafe separator"}.check(t)
	case "sign", "sign_object":
		signed, _ := c.str(t, c.Expected, "signed")
		var value, unsigned string
		var unsignArgs []string
		if method == "sign" {
			value, _ = c.str(t, c.Input, "value")
			unsigned, _ = c.str(t, c.Expected, "unsigned")
			unsigned += "\n"
		} else {
			value = string(c.Input["obj"])
			args = append(args, "--object")
			if s, _ := c.str(t, c.Input, "compress"); s == "true" {
				args = append(args, "--compress")
			}
			unsignArgs = []string{"--object"}
		}
		if !strings.HasPrefix(signed, ".") { // Django's zlib bytes are CPython's own
			cliCase{args: append(append([]string{"sign"}, args...), "--", value), stdout: signed + "\n"}.check(t)
		}
		// Reading Django's value back.
		var uargs []string
		for _, a := range args {
			if a != "--object" && a != "--compress" {
				uargs = append(uargs, a)
			}
		}
		uargs = append(append(append([]string{"unsign"}, uargs...), unsignArgs...), "--", signed)
		if method == "sign" {
			cliCase{args: uargs, stdout: unsigned}.check(t)
		} else {
			out, errOut, code := runCLI(t, uargs, nil, "")
			if code != 0 || !sameJSON([]byte(out), c.Expected["unsigned"]) {
				t.Fatalf("unsign --object: exit %d, stdout %q, stderr %q, want %s", code, out, errOut, c.Expected["unsigned"])
			}
		}
	case "unsign":
		signed, _ := c.str(t, c.Input, "signed")
		if s, ok := c.str(t, c.Input, "max_age"); ok {
			args = append(args, "--max-age="+s)
		}
		uargs := append(append([]string{"unsign"}, args...), "--", signed)
		if _, isErr := c.Expected["error"]; isErr {
			code, msg := errorCase(t, c)
			cliCase{args: uargs, code: code, stderr: msg}.check(t)
		} else {
			unsigned, _ := c.str(t, c.Expected, "unsigned")
			cliCase{args: uargs, stdout: unsigned + "\n"}.check(t)
		}
	default:
		t.Fatalf("unknown signer method %q", method)
	}
}

func vectorDumps(t *testing.T, c *vectorCase) {
	if s, _ := c.str(t, c.Input, "serializer"); s != "django.core.signing.JSONSerializer" {
		t.Skipf("serializer %s", s)
	}
	args := []string{"dumps"}
	args = append(args, c.keyArgs(t)...)
	args = append(args, c.clockArgs(t)...)
	if s, ok := c.str(t, c.Input, "salt"); ok {
		args = append(args, "--salt="+s)
	}
	loadArgs := append([]string{"loads"}, args[1:]...)
	if s, _ := c.str(t, c.Input, "compress"); s == "true" {
		args = append(args, "--compress")
	}
	signed, _ := c.str(t, c.Expected, "signed")
	if !strings.HasPrefix(signed, ".") {
		// The object goes in on stdin, as the file holds it (UTF-8, unescaped).
		cliCase{args: args, stdin: string(c.Input["obj"]), stdout: signed + "\n"}.check(t)
	}
	out, errOut, code := runCLI(t, append(loadArgs, "--", signed), nil, "")
	if code != 0 || !sameJSON([]byte(out), c.Expected["loads"]) {
		t.Fatalf("loads: exit %d, stdout %q, stderr %q, want %s", code, out, errOut, c.Expected["loads"])
	}
}

func vectorLoads(t *testing.T, c *vectorCase) {
	args := []string{"loads"}
	args = append(args, c.keyArgs(t)...)
	args = append(args, c.clockArgs(t)...)
	if s, ok := c.str(t, c.Input, "salt"); ok {
		args = append(args, "--salt="+s)
	}
	if s, ok := c.str(t, c.Input, "max_age"); ok {
		args = append(args, "--max-age="+s)
	}
	signed, _ := c.str(t, c.Input, "signed")
	args = append(args, "--", signed)
	if _, isErr := c.Expected["error"]; isErr {
		code, msg := errorCase(t, c)
		cliCase{args: args, code: code, stderr: msg}.check(t)
		return
	}
	out, errOut, code := runCLI(t, args, nil, "")
	if code != 0 || !sameJSON([]byte(out), c.Expected["obj"]) {
		t.Fatalf("exit %d, stdout %q, stderr %q, want %s", code, out, errOut, c.Expected["obj"])
	}
}

func vectorCookie(t *testing.T, c *vectorCase) {
	name, _ := c.str(t, c.Input, "name")
	salt, _ := c.str(t, c.Input, "salt")
	keys := c.keyArgs(t)
	if method, _ := c.str(t, c.Input, "method"); method == "get_signed_cookie" {
		args := append([]string{"unsign-cookie", "--salt=" + salt}, keys...)
		args = append(args, c.clockArgs(t)...)
		if s, ok := c.str(t, c.Input, "max_age"); ok {
			args = append(args, "--max-age="+s)
		}
		if fb, ok := c.str(t, c.Settings, "SIGNED_COOKIE_LEGACY_SALT_FALLBACK"); ok && fb == "false" {
			args = append(args, "--no-legacy-salt")
		}
		cookie, _ := c.str(t, c.Input, "cookie_value")
		args = append(args, "--", name, cookie)
		if _, isErr := c.Expected["error"]; isErr {
			code, msg := errorCase(t, c)
			cliCase{args: args, code: code, stderr: msg}.check(t)
			return
		}
		plain, _ := c.str(t, c.Expected, "plain")
		cliCase{args: args, stdout: plain + "\n"}.check(t)
		return
	}
	value, _ := c.str(t, c.Input, "value")
	args := append([]string{"sign-cookie", "--salt=" + salt}, keys...)
	args = append(args, c.clockArgs(t)...)
	if scheme, _ := c.str(t, c.Expected, "signer_salt_scheme"); scheme == "legacy" {
		args = append(args, "--legacy-salt")
	}
	cookie, _ := c.str(t, c.Expected, "cookie_value")
	cliCase{args: append(args, "--", name, value), stdout: cookie + "\n"}.check(t)
	// And read back (without a clock: no max age).
	plain, _ := c.str(t, c.Expected, "plain")
	cliCase{args: append(append([]string{"unsign-cookie", "--salt=" + salt}, keys...), "--", name, cookie), stdout: plain + "\n"}.check(t)
}

// TestNoSecretInStderr runs failing commands with distinctive keys in every
// place a key can come from and checks stderr never repeats them.
func TestNoSecretInStderr(t *testing.T) {
	const s1, s2, s3 = "SeCrEt-flag-7f3a9c", "SeCrEt-env-51e0bd", "SeCrEt-fallback-99a2"
	env := []string{"DJANGO_SECRET_KEY=" + s2, "DJANGO_SECRET_KEY_FALLBACKS=" + s3}
	for _, args := range [][]string{
		{"unsign", "foo:bad"}, {"unsign", "foo:bad", "--secret-key", s1}, {"loads", "x:1r31eq:abc", "--secret-key=" + s1},
		// Django 3.2.25: TimestampSigner(key=s2).sign("x") at t=1700000000, here expired.
		{"unsign-cookie", "n", "v:1r31eq:abc"}, {"unsign", "--timestamp", "--max-age", "1", "--now", "1700000002",
			"x:1r31eq:w2z3Bg9p2nOjXv6LpF2A8J5Rh0SgHhe8xZL0NJ0MhAI"},
		{"sign", "x", "--sep", "a", "--secret-key", s1}, {"sign", "x", "--algorithm", "nope", "--fallback-key", s1},
		{"--secret=" + s1}, {"-secret-key=" + s1, "sign", "x"}, {"sign", "x", "y", "--secret-key", s1},
	} {
		_, errOut, code := runCLI(t, args, env, "")
		if code == 0 {
			t.Errorf("%q: exit 0", args)
		}
		for _, s := range []string{s1, s2, s3} {
			if strings.Contains(errOut, s) {
				t.Errorf("%q: stderr repeats a secret: %q", args, errOut)
			}
		}
	}
}

// readmeCommand is one djsession command line in a fenced code block of
// README.md, with the output the README shows for it (the "# ..." comment
// line right after it, up to a run of two spaces; "" when none).
type readmeCommand struct {
	line, want string
}

// readmeCommands returns the djsession commands of README.md's code blocks,
// in order ("go run ./cmd/djsession" counts as djsession).
func readmeCommands(text string) []readmeCommand {
	var cmds []readmeCommand
	inBlock := false
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "```") {
			inBlock = !inBlock
			continue
		}
		if !inBlock {
			continue
		}
		l = strings.TrimSpace(strings.TrimPrefix(l, "$ "))
		if rest, ok := strings.CutPrefix(l, "# "); ok {
			if n := len(cmds); n > 0 && cmds[n-1].want == "" {
				if i := strings.Index(rest, "  "); i >= 0 {
					rest = rest[:i]
				}
				cmds[n-1].want = rest
			}
			continue
		}
		if rest, ok := strings.CutPrefix(l, "go run ./cmd/djsession "); ok {
			cmds = append(cmds, readmeCommand{line: "djsession " + rest})
		} else if strings.HasPrefix(l, "djsession ") {
			cmds = append(cmds, readmeCommand{line: l})
		} else if l != "" {
			// Any other line ends the output comment of the last command.
			if n := len(cmds); n > 0 && cmds[n-1].want == "" {
				cmds[n-1].want = "-"
			}
		}
	}
	return cmds
}

// TestReadme runs the djsession commands of README.md with the built binary:
// the first must succeed, and every one shown with its output must print it.
func TestReadme(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Skipf("no README.md yet: %v", err)
	}
	cmds := readmeCommands(string(data))
	if len(cmds) == 0 {
		t.Fatal("README.md has no djsession command in a code block")
	}
	checked := 0
	defer func() { t.Logf("%d README commands run, %d outputs compared", len(cmds), checked) }()
	for i, c := range cmds {
		cmd := exec.Command("/bin/sh", "-c", c.line)
		cmd.Dir = filepath.Join("..", "..") // README paths are relative to the repository
		cmd.Env = []string{"PATH=" + filepath.Dir(djsessionBin) + ":/usr/bin:/bin"}
		var o, e bytes.Buffer
		cmd.Stdout, cmd.Stderr = &o, &e
		err := cmd.Run()
		if i == 0 && err != nil {
			t.Fatalf("README's first command %q: %v\nstdout %q\nstderr %q", c.line, err, o.String(), e.String())
		}
		if c.want == "" || c.want == "-" {
			continue
		}
		checked++
		if strings.TrimSuffix(o.String(), "\n") != c.want {
			t.Errorf("README command %q: stdout %q, README shows %q (err %v, stderr %q)", c.line, o.String(), c.want, err, e.String())
		}
	}
}
