package signing

// Shared test helpers: loading the Django-made vector files, converting
// their values, fixed clocks, and running Django 3.2 under /usr/bin/python3.

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
)

// vectorFile is one file of Django-made cases.
type vectorFile struct {
	Path     string
	Version  string // "3.2", "5.2", "6.0"
	Optional bool   // the 3.2 file is generated separately and may be absent
}

var vectorFiles = []vectorFile{
	{Path: "../testdata/vectors/django-5.2.jsonl", Version: "5.2"},
	{Path: "../testdata/vectors/django-6.0.jsonl", Version: "6.0"},
	{Path: "../testdata/django-3.2.jsonl", Version: "3.2", Optional: true},
}

// signingKinds are the case kinds this package covers.
var signingKinds = []string{"signer", "signing.dumps", "signing.loads", "signed_cookie"}

// vectorCase is one line of a vector file, parsed with the py JSON decoder
// so that Python's values (big ints, floats, key order) survive exactly.
type vectorCase struct {
	File     vectorFile
	Line     int
	ID       string
	Kind     string
	Settings *py.Dict
	Input    *py.Dict
	Expected *py.Dict
}

// asciiJSON rewrites UTF-8 JSON text to the ASCII-only form Python's
// json.dumps writes (non-ASCII code points as \uXXXX, astral ones as
// surrogate pairs), which py.DecodeJSON (a Latin-1 reader, like Django's)
// reads back to the same strings. Non-ASCII bytes can only occur inside
// JSON strings, so the rewrite is always valid.
func asciiJSON(b []byte) []byte {
	var out bytes.Buffer
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r < 0x80:
			out.WriteByte(b[0])
		case r > 0xffff:
			r -= 0x10000
			fmt.Fprintf(&out, `\u%04x\u%04x`, 0xd800+(r>>10), 0xdc00+(r&0x3ff))
		default:
			fmt.Fprintf(&out, `\u%04x`, r)
		}
		b = b[n:]
	}
	return out.Bytes()
}

// pyFromJSON decodes UTF-8 JSON text (as Go or Python test data holds it)
// into a py.Value.
func pyFromJSON(t testing.TB, text string) py.Value {
	t.Helper()
	v, err := py.DecodeJSON(asciiJSON([]byte(text)))
	if err != nil {
		t.Fatalf("decode %q: %v", text, err)
	}
	return v
}

// jsonOf returns Django's JSON bytes for v, the form values are compared in.
func jsonOf(t testing.TB, v py.Value) string {
	t.Helper()
	b, err := py.EncodeJSON(v)
	if err != nil {
		t.Fatalf("EncodeJSON: %v", err)
	}
	return string(b)
}

var (
	vectorsOnce  sync.Once
	vectorsCache map[string][]vectorCase // by version
	vectorsErr   error
)

// loadVectors returns the signing cases of every vector file present, keyed
// by Django version. A missing optional file is logged, not fatal.
func loadVectors(t testing.TB) map[string][]vectorCase {
	t.Helper()
	vectorsOnce.Do(func() {
		vectorsCache = map[string][]vectorCase{}
		for _, vf := range vectorFiles {
			cases, err := readVectorFile(vf)
			if errors.Is(err, os.ErrNotExist) && vf.Optional {
				continue
			}
			if err != nil {
				vectorsErr = err
				return
			}
			vectorsCache[vf.Version] = cases
		}
	})
	if vectorsErr != nil {
		t.Fatal(vectorsErr)
	}
	for _, vf := range vectorFiles {
		if _, ok := vectorsCache[vf.Version]; !ok {
			t.Logf("vector file %s absent: Django %s cases not run", vf.Path, vf.Version)
		}
	}
	return vectorsCache
}

func readVectorFile(vf vectorFile) ([]vectorCase, error) {
	f, err := os.Open(vf.Path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var cases []vectorCase
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		text := bytes.TrimSpace(sc.Bytes())
		if len(text) == 0 {
			continue
		}
		v, err := py.DecodeJSON(asciiJSON(text))
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", vf.Path, line, err)
		}
		d, ok := v.Dict()
		if !ok {
			return nil, fmt.Errorf("%s:%d: not an object", vf.Path, line)
		}
		c := vectorCase{File: vf, Line: line, ID: dstr(d, "id"), Kind: dstr(d, "kind")}
		if !isSigningKind(c.Kind) {
			continue
		}
		c.Settings, c.Input, c.Expected = ddict(d, "settings"), ddict(d, "input"), ddict(d, "expected")
		cases = append(cases, c)
	}
	return cases, sc.Err()
}

func isSigningKind(k string) bool {
	for _, s := range signingKinds {
		if s == k {
			return true
		}
	}
	return false
}

// Accessors for decoded vector objects; missing keys give zero values.

func dget(d *py.Dict, k string) (py.Value, bool) {
	if d == nil {
		return py.None, false
	}
	return d.GetStr(k)
}

func dstr(d *py.Dict, k string) string {
	v, _ := dget(d, k)
	s, _ := v.Str()
	return s
}

func ddict(d *py.Dict, k string) *py.Dict {
	v, _ := dget(d, k)
	if dd, ok := v.Dict(); ok {
		return dd
	}
	return py.NewDict(0)
}

func dhas(d *py.Dict, k string) bool {
	v, ok := dget(d, k)
	return ok && !v.IsNone()
}

func dbool(d *py.Dict, k string) bool {
	v, _ := dget(d, k)
	return v.Truthy()
}

// dfloat returns a number field (int or float) and whether it is set.
func dfloat(d *py.Dict, k string) (float64, bool) {
	v, ok := dget(d, k)
	if !ok {
		return 0, false
	}
	if i, ok := v.Int(); ok {
		return float64(i), true
	}
	if f, ok := v.Float(); ok {
		return f, true
	}
	return 0, false
}

func dstrings(d *py.Dict, k string) ([]string, bool) {
	v, ok := dget(d, k)
	if !ok || v.IsNone() {
		return nil, false
	}
	var out []string
	for _, it := range v.Items() {
		s, _ := it.Str()
		out = append(out, s)
	}
	return out, true
}

// fixedClock returns a Clock stopped at the Unix time secs (fractions kept).
func fixedClock(secs float64) Clock {
	whole := math.Floor(secs)
	t := time.Unix(int64(whole), int64(math.Round((secs-whole)*1e9)))
	return func() time.Time { return t }
}

// seconds converts a Python max_age number to a Duration.
func seconds(f float64) time.Duration { return time.Duration(math.Round(f * float64(time.Second))) }

// assertNoLeak fails if err's text contains any of the given strings
// (secrets, expected MACs, received MACs).
func assertNoLeak(t testing.TB, err error, secrets ...string) {
	t.Helper()
	if err == nil {
		return
	}
	msg := err.Error()
	for _, s := range secrets {
		if len(s) >= 4 && strings.Contains(msg, s) {
			t.Errorf("error text %q leaks %q", msg, s)
		}
	}
}

// macOf returns the part after the last sep of a signed value: the MAC.
func macOf(signed, sep string) string {
	if i := strings.LastIndex(signed, sep); i >= 0 {
		return signed[i+len(sep):]
	}
	return ""
}

const pythonPath = "/usr/bin/python3"

// requirePython skips (or, with DJSESSION_REQUIRE_SERVICES=1, fails) when
// Django 3.2 under /usr/bin/python3 is not available.
func requirePython(t testing.TB) {
	t.Helper()
	missing := func(why string) {
		if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
			t.Fatalf("Django interop needed (DJSESSION_REQUIRE_SERVICES=1): %s", why)
		}
		t.Skipf("skipping Django interop: %s", why)
	}
	if _, err := os.Stat(pythonPath); err != nil {
		missing(pythonPath + " not found")
	}
	out, err := pythonCmd(t, "import django; print(django.get_version())").CombinedOutput()
	if err != nil {
		missing("cannot import django with " + pythonPath + ": " + strings.TrimSpace(string(out)))
	}
}

// pythonCmd runs code in an isolated interpreter (-I: no user site, no
// current directory on sys.path) from an empty directory.
func pythonCmd(t testing.TB, code string) *exec.Cmd {
	cmd := exec.Command(pythonPath, "-I", "-c", code)
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PYTHONIOENCODING=utf-8")
	return cmd
}

// djangoOp is one request to the Django 3.2 helper script below.
type djangoOp struct {
	Op        string  `json:"op"` // loads, unsign, unsign_object, get_signed_cookie, salted_hmac, b64_decode
	Class     string  `json:"class,omitempty"`
	Token     string  `json:"token,omitempty"`
	KeyB64    string  `json:"key_b64,omitempty"`
	Salt      *string `json:"salt,omitempty"`
	Sep       string  `json:"sep,omitempty"`
	Algorithm string  `json:"algorithm,omitempty"`
	MaxAge    *int64  `json:"max_age,omitempty"`
	Name      string  `json:"name,omitempty"`
	Value     string  `json:"value,omitempty"`
}

// djangoResult is the answer to one djangoOp: the result as Django's
// compact JSON (for objects) or text, or the exception's class name.
type djangoResult struct {
	JSON  string `json:"json"`
	Text  string `json:"text"`
	Error string `json:"error"`
	Msg   string `json:"message"`
}

// djangoScript answers a JSON list of djangoOp read from stdin with a JSON
// list of djangoResult, using the real Django 3.2 under /usr/bin/python3.
const djangoScript = `
import base64, json, sys
from django.conf import settings
settings.configure(SECRET_KEY="placeholder-secret-key-for-settings")
import django
django.setup()
from django.core import signing
from django.http import HttpRequest
from django.utils.crypto import salted_hmac

def key(op):
    return base64.b64decode(op["key_b64"])

def run(op):
    kind = op["op"]
    kw = {}
    if "salt" in op:
        kw["salt"] = op["salt"]
    if kind == "loads":
        return "json", signing.loads(op["token"], key=key(op), max_age=op.get("max_age"), **kw)
    if kind == "b64_decode":
        return "text", base64.b64encode(signing.b64_decode(op.get("value", "").encode())).decode()
    if kind == "salted_hmac":
        return "text", salted_hmac(op["salt"], op["value"], key(op), algorithm=op["algorithm"]).hexdigest()
    if kind == "get_signed_cookie":
        settings.SECRET_KEY = key(op)
        req = HttpRequest()
        req.COOKIES[op["name"]] = op["token"]
        return "text", req.get_signed_cookie(op["name"], salt=op.get("salt", ""), max_age=op.get("max_age"))
    cls = {"Signer": signing.Signer, "TimestampSigner": signing.TimestampSigner}[op["class"]]
    if op.get("sep"):
        kw["sep"] = op["sep"]
    if op.get("algorithm"):
        kw["algorithm"] = op["algorithm"]
    signer = cls(key(op), **kw)
    extra = {}
    if op["class"] == "TimestampSigner" and op.get("max_age") is not None:
        extra["max_age"] = op["max_age"]
    if kind == "unsign":
        return "text", signer.unsign(op["token"], **extra)
    if kind == "unsign_object":
        return "json", signer.unsign_object(op["token"], **extra)
    raise RuntimeError("unknown op " + kind)

out = []
for op in json.load(sys.stdin):
    try:
        how, res = run(op)
        if how == "json":
            out.append({"json": json.dumps(res, separators=(",", ":"))})
        else:
            out.append({"text": res})
    except Exception as e:
        out.append({"error": type(e).__name__, "message": str(e)})
json.dump(out, sys.stdout)
`

// runDjango sends ops to Django 3.2 in one process and returns its answers.
func runDjango(t testing.TB, ops []djangoOp) []djangoResult {
	t.Helper()
	requirePython(t)
	in, err := json.Marshal(ops)
	if err != nil {
		t.Fatal(err)
	}
	cmd := pythonCmd(t, djangoScript)
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("django helper: %v\n%s", err, stderr.String())
	}
	var res []djangoResult
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("django helper output: %v\n%s", err, out)
	}
	if len(res) != len(ops) {
		t.Fatalf("django helper: %d answers for %d ops", len(res), len(ops))
	}
	return res
}

func b64key(k []byte) string { return base64.StdEncoding.EncodeToString(k) }

func strPtr(s string) *string { return &s }

func int64Ptr(i int64) *int64 { return &i }

// testdataPath resolves a path relative to the repository root.
func testdataPath(parts ...string) string {
	return filepath.Join(append([]string{".."}, parts...)...)
}
