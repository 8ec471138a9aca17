package main

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// These tests call the parser and run in-process; main_test.go runs the
// built binary.

func TestParseArgs(t *testing.T) {
	for _, tc := range []struct {
		name  string
		argv  []string
		cmd   string
		args  []string
		flags map[string][]string
		err   string
	}{
		{name: "flags before and after", argv: []string{"--json", "sign", "v", "--salt", "s"},
			cmd: "sign", args: []string{"v"}, flags: map[string][]string{"json": {"true"}, "salt": {"s"}}},
		{name: "equals form", argv: []string{"sign", "--salt=a=b", "v"},
			cmd: "sign", args: []string{"v"}, flags: map[string][]string{"salt": {"a=b"}}},
		{name: "empty value by equals", argv: []string{"sign", "--salt=", "v"},
			cmd: "sign", args: []string{"v"}, flags: map[string][]string{"salt": {""}}},
		{name: "empty value as next arg", argv: []string{"sign", "--salt", "", "v"},
			cmd: "sign", args: []string{"v"}, flags: map[string][]string{"salt": {""}}},
		{name: "value may start with dash", argv: []string{"--now", "-1.5", "sign", "v"},
			cmd: "sign", args: []string{"v"}, flags: map[string][]string{"now": {"-1.5"}}},
		{name: "repeatable", argv: []string{"--fallback-key", "a", "unsign", "--fallback-key=b", "x"},
			cmd: "unsign", args: []string{"x"}, flags: map[string][]string{"fallback-key": {"a", "b"}}},
		{name: "lone dash is an argument", argv: []string{"dumps", "-"},
			cmd: "dumps", args: []string{"-"}, flags: map[string][]string{}},
		{name: "double dash ends flags", argv: []string{"sign", "--", "--salt", "-x"},
			cmd: "sign", args: []string{"--salt", "-x"}, flags: map[string][]string{}},
		{name: "bool with value", argv: []string{"--json=false", "x"},
			cmd: "x", flags: map[string][]string{"json": {"false"}}},
		{name: "-h", argv: []string{"-h"}, flags: map[string][]string{"help": {"true"}}},
		{name: "unknown long", argv: []string{"--nope", "x"}, err: "unknown flag --nope"},
		{name: "unknown short", argv: []string{"-x"}, err: "unknown flag -x"},
		{name: "unknown with value hides value", argv: []string{"--secret=hunter2"}, err: "unknown flag --secret"},
		{name: "missing value", argv: []string{"sign", "v", "--salt"}, err: "--salt needs a value"},
		{name: "bad bool", argv: []string{"--json=maybe"}, err: "--json takes no value"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := parseArgs(tc.argv)
			if tc.err != "" {
				var ee *exitError
				if !errors.As(err, &ee) || ee.code != exitUsage || !strings.Contains(ee.msg, tc.err) {
					t.Fatalf("err = %v, want usage error containing %q", err, tc.err)
				}
				if strings.Contains(ee.msg, "hunter2") {
					t.Fatalf("error repeats a flag value: %q", ee.msg)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.cmd != tc.cmd || !reflect.DeepEqual(p.args, tc.args) && len(p.args)+len(tc.args) > 0 {
				t.Fatalf("cmd, args = %q %q, want %q %q", p.cmd, p.args, tc.cmd, tc.args)
			}
			if !reflect.DeepEqual(p.flags, tc.flags) {
				t.Fatalf("flags = %v, want %v", p.flags, tc.flags)
			}
		})
	}
}

func TestParseUnixTime(t *testing.T) {
	for _, tc := range []struct {
		in   string
		sec  int64
		nsec int64
		err  bool
	}{
		{in: "1700000000", sec: 1700000000},
		{in: "1700000005.5", sec: 1700000005, nsec: 500000000},
		{in: "1700000000.000000001", sec: 1700000000, nsec: 1},
		{in: "1700000000.0000000019", sec: 1700000000, nsec: 1}, // cut at ns
		{in: "0.25", sec: 0, nsec: 250000000},
		{in: ".25", sec: 0, nsec: 250000000},
		{in: "5.", sec: 5},
		{in: "-1.25", sec: -2, nsec: 750000000},
		{in: "-3", sec: -3},
		{in: "", err: true},
		{in: ".", err: true},
		{in: "1e9", err: true},
		{in: "12a", err: true},
		{in: "+5", err: true},
		{in: "1.2.3", err: true},
		{in: "99999999999999999999999", err: true},
	} {
		got, err := parseUnixTime(tc.in)
		if tc.err {
			if err == nil {
				t.Errorf("parseUnixTime(%q) = %v, want error", tc.in, got)
			}
			continue
		}
		if err != nil || !got.Equal(time.Unix(tc.sec, tc.nsec)) {
			t.Errorf("parseUnixTime(%q) = %v, %v; want %v", tc.in, got, err, time.Unix(tc.sec, tc.nsec))
		}
	}
}

func TestParseMaxAge(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"12": 12 * time.Second, "0": 0, "0.5": 500 * time.Millisecond, "-1": -time.Second,
	} {
		if got, err := parseMaxAge(in); err != nil || got != want {
			t.Errorf("parseMaxAge(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "x", "1s", "9999999999999999999"} {
		if _, err := parseMaxAge(in); err == nil {
			t.Errorf("parseMaxAge(%q): want error", in)
		}
	}
}

func mustOptions(t *testing.T, argv, env []string) *Options {
	t.Helper()
	p, err := parseArgs(argv)
	if err != nil {
		t.Fatal(err)
	}
	o, err := newOptions(p, env)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestOptionsFlagsWinOverEnv(t *testing.T) {
	env := []string{
		"DJANGO_SECRET_KEY=from-env", "DJANGO_SECRET_KEY_FALLBACKS=e1,,e2",
		"SESSION_ENGINE=django.contrib.sessions.backends.cache", "DATABASE_URL=sqlite:///env.db",
		"CACHE_URL=redis://env:6379/1", "SESSION_FILE_PATH=/env", "SESSION_SERIALIZER=pickle",
	}
	o := mustOptions(t, []string{"x"}, env)
	if o.SecretKey != "from-env" || !reflect.DeepEqual(o.FallbackKeys, []string{"e1", "e2"}) {
		t.Fatalf("env: key %q fallbacks %q", o.SecretKey, o.FallbackKeys)
	}
	if e, err := o.Engine(); e != "cache" || err != nil {
		t.Fatalf("env engine = %q, %v", e, err)
	}
	if s, _ := o.Serializer(); s != "pickle" || o.Database() != "sqlite:///env.db" || o.Cache() != "redis://env:6379/1" || o.FilePath() != "/env" {
		t.Fatalf("env options not read: %+v", o)
	}

	o = mustOptions(t, []string{"x", "--secret-key", "from-flag", "--fallback-key=f1", "--engine", "signed_cookies",
		"--database", "sqlite:///flag.db", "--cache=memcache://flag:11211", "--file-path", "/flag",
		"--serializer", "django.contrib.sessions.serializers.JSONSerializer"}, env)
	if o.SecretKey != "from-flag" || !reflect.DeepEqual(o.FallbackKeys, []string{"f1"}) {
		t.Fatalf("flags: key %q fallbacks %q", o.SecretKey, o.FallbackKeys)
	}
	if e, _ := o.Engine(); e != "signed_cookies" {
		t.Fatalf("flag engine = %q", e)
	}
	if s, _ := o.Serializer(); s != "json" || o.Database() != "sqlite:///flag.db" || o.Cache() != "memcache://flag:11211" || o.FilePath() != "/flag" {
		t.Fatalf("flag options did not win: %+v", o)
	}

	// An empty variable counts as unset; the last duplicate entry wins.
	o = mustOptions(t, []string{"x"}, []string{"DJANGO_SECRET_KEY=a", "DJANGO_SECRET_KEY=b", "SESSION_ENGINE="})
	if o.SecretKey != "b" {
		t.Fatalf("duplicate env: %q", o.SecretKey)
	}
	if e, _ := o.Engine(); e != "db" {
		t.Fatalf("default engine = %q", e)
	}
}

func TestOptionsDefaults(t *testing.T) {
	o := mustOptions(t, []string{"x"}, nil)
	if o.SecretKey != "" || o.FallbackKeys != nil || o.HasNow || o.JSON || o.LegacySHA1 {
		t.Fatalf("defaults: %+v", o)
	}
	// Django's defaults (spec §3.1, §7.3, §7.4, §6.1).
	if v, _ := o.Engine(); v != "db" {
		t.Error("engine", v)
	}
	if v, _ := o.Serializer(); v != "json" {
		t.Error("serializer", v)
	}
	if v, _ := o.CookieName(); v != "sessionid" {
		t.Error("cookie name", v)
	}
	if v, _ := o.CookieAge(); v != 1209600 {
		t.Error("cookie age", v)
	}
	if v, _ := o.CacheVersion(); v != 1 {
		t.Error("cache version", v)
	}
	if v, _ := o.CacheSerializer(); v != "pickle" {
		t.Error("cache serializer", v)
	}
	if v, _ := o.CacheCompressor(); v != "none" {
		t.Error("cache compressor", v)
	}
	if err := o.RequireSecret(); err == nil {
		t.Error("RequireSecret without a key: no error")
	}
}

func TestOptionsDottedNames(t *testing.T) {
	o := mustOptions(t, []string{"x", "--cache-serializer", "django_redis.serializers.json.JSONSerializer",
		"--cache-compressor", "django_redis.compressors.lz4.Lz4Compressor", "--cache-format", "pymemcache",
		"--cache-version", "3", "--key-prefix", "myapp", "--cookie-name", "sid", "--cookie-age", "60",
		"--engine", "django.contrib.sessions.backends.cached_db", "--now", "1700000005.5", "--json", "--legacy-sha1"}, nil)
	for _, c := range []struct {
		got  any
		want any
	}{
		{first(o.CacheSerializer()), "json"}, {first(o.CacheCompressor()), "lz4"}, {first(o.CacheFormat()), "pymemcache"},
		{first(o.CacheVersion()), 3}, {o.KeyPrefix(), "myapp"}, {first(o.CookieName()), "sid"},
		{first(o.CookieAge()), int64(60)}, {first(o.Engine()), "cached_db"},
		{o.Clock(), time.Unix(1700000005, 5e8)}, {o.JSON, true}, {o.LegacySHA1, true},
	} {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("got %v, want %v", c.got, c.want)
		}
	}
}

func first[T any](v T, _ error) T { return v }

func TestOptionsBadFlagValues(t *testing.T) {
	for _, argv := range [][]string{
		{"--engine", "django.contrib.sessions.backends.nope"}, {"--serializer", "yaml"},
		{"--cache-format", "memcached"}, {"--cache-version", "x"}, {"--cache-serializer", "xml"},
		{"--cache-compressor", "brotli"}, {"--cookie-age", "1.5"}, {"--cookie-name="},
		{"--now", "soon"}, {"--fallback-key="},
	} {
		p, err := parseArgs(append([]string{"x"}, argv...))
		if err != nil {
			t.Fatal(err)
		}
		_, err = newOptions(p, nil)
		var ee *exitError
		if !errors.As(err, &ee) || ee.code != exitUsage {
			t.Errorf("%q: err = %v, want a usage error", argv, err)
		}
	}
	// A bad value in the environment is only an error when a command reads it.
	o := mustOptions(t, []string{"x"}, []string{"SESSION_ENGINE=myproject.sessions", "SESSION_SERIALIZER=yaml"})
	if _, err := o.Engine(); err == nil || !strings.Contains(err.Error(), "$SESSION_ENGINE") {
		t.Errorf("env engine error = %v", err)
	}
	if _, err := o.Serializer(); err == nil {
		t.Error("env serializer yaml: no error")
	}
}

func TestRunInProcess(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"help"}, strings.NewReader(""), &out, &errb, nil); code != 0 || !strings.Contains(out.String(), "Commands:") {
		t.Fatalf("help: code %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run(nil, strings.NewReader(""), &out, &errb, nil); code != 2 || !strings.Contains(errb.String(), "no command") {
		t.Fatalf("no args: code %d, stderr %q", code, errb.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"frobnicate"}, strings.NewReader(""), &out, &errb, nil); code != 2 || !strings.Contains(errb.String(), `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: code %d, stderr %q", code, errb.String())
	}
}

// FuzzParseArgs: any argument list parses or fails with a usage error,
// never panics, and a failure never repeats what followed an "=".
func FuzzParseArgs(f *testing.F) {
	for _, s := range []string{
		"sign\x00foo\x00--secret-key=predictable-secret", "--now\x00-1.5\x00unsign\x00x:y",
		"--fallback-key\x00a\x00--fallback-key=b\x00loads\x00--\x00--salt", "-h", "--json=false\x00-\x00--",
		"--secret=hunter2", "--salt", "-x=hunter2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		argv := strings.Split(s, "\x00")
		p, err := parseArgs(argv)
		if err != nil {
			var ee *exitError
			if !errors.As(err, &ee) || ee.code != exitUsage {
				t.Fatalf("%q: not a usage error: %v", argv, err)
			}
			// The message must not depend on what follows an "=": the
			// same line with those values replaced fails the same way.
			masked := make([]string, len(argv))
			for i, a := range argv {
				// (A boolean flag's value decides whether it parses.)
				name, _, ok := strings.Cut(a, "=")
				if spec, known := knownFlags()[strings.TrimPrefix(name, "--")]; ok && strings.HasPrefix(a, "-") &&
					!(known && spec.kind == flagBool && strings.HasPrefix(name, "--")) {
					a = name + "=\x01masked"
				}
				masked[i] = a
			}
			var me *exitError
			if _, err2 := parseArgs(masked); errors.As(err2, &me) && me.msg != ee.msg {
				t.Fatalf("%q: message %q depends on a flag value (masked: %q)", argv, ee.msg, me.msg)
			}
			return
		}
		n := len(p.args)
		if p.cmd != "" {
			n++
		}
		for _, vs := range p.flags {
			n += len(vs)
		}
		if n > len(argv) {
			t.Fatalf("%q: more values (%d) than arguments", argv, n)
		}
	})
}

// FuzzParseUnixTime: never panics; a result has 0 <= ns < 1e9 and is within
// a nanosecond of the decimal text (ParseFloat is the check, so only where a
// float64 can tell, below 2^22 s).
func FuzzParseUnixTime(f *testing.F) {
	for _, s := range []string{"1700000005.5", "-1.25", ".5", "5.", "0", "123456800.000001", "1e9", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		sec, nsec, err := parseDecimalSeconds(s)
		if err != nil {
			return
		}
		if nsec < 0 || nsec >= 1e9 {
			t.Fatalf("%q: nsec %d", s, nsec)
		}
		want, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			t.Fatalf("%q accepted but not a float: %v", s, ferr)
		}
		if math.Abs(want) < 1<<22 {
			got := float64(sec) + float64(nsec)/1e9
			if math.Abs(got-want) > 2e-9 {
				t.Fatalf("%q: got %d s %d ns, float %v", s, sec, nsec, want)
			}
		}
	})
}

// FuzzRun runs whole command lines in-process: the exit code is 0, 1 or 2,
// nothing panics, and the secret never reaches stderr.
func FuzzRun(f *testing.F) {
	for _, s := range []string{
		"sign\x00foo", "unsign\x00foo:jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0",
		"--now\x001700000000\x00dumps\x00{\"foo\":\"bar\",\"baz\":1}",
		"loads\x00.eJwFwcERACAIwLCF-rCiILN47r-GyZVJsNgkxaFxoDgxcOHGxMKD_T7vhAml:1r31eq:cWrrlyJwdPYgP55b3ZfMQina7WM89uOdlmM6QHxJnMI",
		"unsign\x00--object\x00--timestamp\x00--max-age\x001\x00e30:1r31eq:x", "sign-cookie\x00color\x00blue\x00--legacy-salt",
		"unsign-cookie\x00color\x00blue:1r31eq:7E4NBRvjXkdCdzX-39r1iHcJUwkS7D1Xxwukv7c7idE", "dumps\x00-", "help\x00sign",
		"decode\x00eyJhIHRlc3Qga2V5IjoiYSB0ZXN0IHZhbHVlIn0:1r31eq:z3T5kuYwaLspnAAUpfRWpbinC-rn6c6P1Qf9PsCyZ2s",
		"decode\x00OWUzNTNmNWQxNTBjOWExZmM4MmQ3NzNhMDRmMjU4NmYwNDUyNGI2NDp7ImEgdGVzdCBrZXkiOiJhIHRlc3QgdmFsdWUifQ==",
		"decode\x00--engine\x00signed_cookies\x00--now\x001700000000\x00eyJhIjoxfQ:1r31eq:pVAB45FkFrfQZcqwro4L7cQbE6YwW_wjajAHKvti6Yc",
		"decode\x00--engine\x00cache\x00--base64\x00gAWVFQAAAAAAAAB9lCiMAWGUSwGMAWKUjAN0d2+UdS4=",
		"decode\x00--engine\x00cache\x00--cache-compressor\x00zlib\x00-", "encode\x00--engine\x00cache\x00--base64",
		"encode\x00--legacy-format\x00--serializer\x00pickle", "encode\x00--engine=signed_cookies",
		"create\x00--engine\x00file", "ls\x00--engine\x00file", "clearsessions\x00--engine\x00file\x00--now\x001900000000",
	} {
		f.Add(s, "[1,2]")
		f.Add(s, `{"a":1,"_auth_user_id":"3"}`)
	}
	const secret = "fuzz-secret-key-1c9e77"
	f.Fuzz(func(t *testing.T, s, stdin string) {
		// The file engine works in a fresh folder of its own, never in the
		// system's temporary folder; no DATABASE_URL or CACHE_URL is set.
		dir := t.TempDir()
		argv := strings.Split(s, "\x00")
		for _, a := range argv {
			// Never let a generated line point a store at a real place.
			if strings.HasPrefix(a, "--file-path") || strings.HasPrefix(a, "--database") ||
				a == "--cache" || strings.HasPrefix(a, "--cache=") {
				t.Skip("store location flags are not fuzzed")
			}
		}
		var out, errb bytes.Buffer
		code := run(argv, strings.NewReader(stdin), &out, &errb,
			[]string{"DJANGO_SECRET_KEY=" + secret, "DJANGO_SECRET_KEY_FALLBACKS=fuzz-fallback-key-0d2f", "SESSION_FILE_PATH=" + dir})
		if code < 0 || code > 2 {
			t.Fatalf("%q: exit %d", argv, code)
		}
		if strings.Contains(errb.String(), secret) || strings.Contains(errb.String(), "fuzz-fallback-key-0d2f") {
			t.Fatalf("%q: stderr repeats a secret: %q", argv, errb.String())
		}
		if strings.Contains(errb.String(), "internal error") {
			t.Fatalf("%q: %s", argv, errb.String())
		}
	})
}
