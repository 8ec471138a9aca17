// Package djangotest drives the real Django of the test machine from Go
// tests: the project in testdata/djangoproject, its djs.py operations
// (write and read sessions, log users in, get_user, clearsessions, run a
// Python snippet) and manage.py commands, with the settings given as
// environment variables.
//
// A test that needs Django skips with a visible reason when /usr/bin/python3
// or Django (or a database driver the settings need) is missing, and fails
// instead when DJSESSION_REQUIRE_SERVICES=1.
package djangotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// Python is the interpreter with Django 3.2 and its companions installed
// (the pyenv python3 first on PATH has no Django).
const Python = "/usr/bin/python3"

// exitMissingModule is djs.py's exit status for a missing Python module.
const exitMissingModule = 77

// RequireVar makes a missing Python or Django a failure instead of a skip.
const RequireVar = "DJSESSION_REQUIRE_SERVICES"

// Env is the Django settings environment of one run: variable → value, as
// testdata/djangoproject/djsproject/settings.py reads them
// (DJANGO_SECRET_KEY, SESSION_ENGINE, DATABASE_URL, USE_TZ, TIME_ZONE,
// SESSION_SERIALIZER, SESSION_FILE_PATH, CACHE_URL, ...). Nothing else of
// the test's own environment reaches Django except PATH, HOME, LANG and
// TMPDIR.
type Env map[string]string

// With returns a copy of e with more variables set.
func (e Env) With(kv ...string) Env {
	out := make(Env, len(e)+len(kv)/2)
	for k, v := range e {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

func (e Env) environ() []string {
	out := []string{"PYTHONDONTWRITEBYTECODE=1", "PYTHONIOENCODING=utf-8"}
	for _, k := range []string{"PATH", "HOME", "LANG", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			out = append(out, k+"="+v)
		}
	}
	for k, v := range e {
		out = append(out, k+"="+v)
	}
	return out
}

// ProjectDir returns the path of testdata/djangoproject: found from this
// source file, or (when built with -trimpath) by walking up from the
// working directory, which go test sets to the package's folder.
func ProjectDir() string {
	rel := filepath.Join("testdata", "djangoproject")
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Join(filepath.Dir(file), "..", "..", rel)
		if _, err := os.Stat(dir); err == nil {
			return dir
		}
	}
	wd, err := os.Getwd()
	if err != nil {
		return rel
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, rel, "djs.py")); err == nil {
			return filepath.Join(dir, rel)
		}
		if filepath.Dir(dir) == dir {
			return rel
		}
	}
}

// skipOrFail is the rule for a missing tool.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv(RequireVar) == "1" {
		t.Fatalf("%s (%s=1)", reason, RequireVar)
	}
	t.Skipf("%s (set %s=1 to make this a failure)", reason, RequireVar)
}

var (
	djangoOnce    sync.Once
	djangoVersion string
	djangoErr     error
)

// Require stops the test (skip, or fail under DJSESSION_REQUIRE_SERVICES=1)
// unless Python with Django is installed, and returns Django's version.
func Require(t testing.TB) string {
	t.Helper()
	djangoOnce.Do(func() {
		if _, err := os.Stat(Python); err != nil {
			djangoErr = fmt.Errorf("%s not available: %w", Python, err)
			return
		}
		out, err := exec.Command(Python, "-c", "import django; print(django.get_version())").CombinedOutput()
		if err != nil {
			djangoErr = fmt.Errorf("Django is not importable by %s: %v: %s", Python, err, strings.TrimSpace(string(out)))
			return
		}
		djangoVersion = strings.TrimSpace(string(out))
	})
	if djangoErr != nil {
		skipOrFail(t, djangoErr.Error())
	}
	return djangoVersion
}

// Op is one djs.py operation: its name and parameters (djs.py's docstring
// lists them).
type Op struct {
	Name   string
	Params map[string]any
}

// Result is one operation's JSON result.
type Result json.RawMessage

// Err returns the Python exception an operation raised, or nil.
func (r Result) Err() error {
	var e struct {
		Error   string `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(r, &e) != nil || e.Error == "" {
		return nil
	}
	return fmt.Errorf("django: %s: %s", e.Error, e.Message)
}

// Decode unmarshals the result into v.
func (r Result) Decode(v any) error { return json.Unmarshal(r, v) }

// MustDecode decodes r into a T, failing the test (with the result's text)
// when it does not fit.
func MustDecode[T any](t testing.TB, r Result) T {
	t.Helper()
	var v T
	if err := r.Decode(&v); err != nil {
		t.Fatalf("decoding %s: %v", r, err)
	}
	return v
}

// Field returns the raw JSON of one field of an object result, or nil.
func (r Result) Field(name string) json.RawMessage {
	var m map[string]json.RawMessage
	if json.Unmarshal(r, &m) != nil {
		return nil
	}
	return m[name]
}

// Batch runs ops in one Python process (Django starts once) and returns
// their results in order. An operation that raised has a Result whose Err
// is set; the batch goes on. A failure of the process itself fails the
// test, and a missing Python module skips it (or fails it, see Require).
func Batch(t testing.TB, env Env, ops ...Op) []Result {
	t.Helper()
	Require(t)
	list := make([]map[string]any, len(ops))
	for i, op := range ops {
		m := make(map[string]any, len(op.Params)+1)
		for k, v := range op.Params {
			m[k] = v
		}
		m["op"] = op.Name
		list[i] = m
	}
	in, err := json.Marshal(list)
	if err != nil {
		t.Fatalf("djangotest: encoding ops: %v", err)
	}
	out := run(t, env, in, filepath.Join(ProjectDir(), "djs.py"), "batch")
	var results []json.RawMessage
	if err := json.Unmarshal(out, &results); err != nil {
		t.Fatalf("djangotest: djs.py batch printed no JSON array: %v\n%s", err, out)
	}
	if len(results) != len(ops) {
		t.Fatalf("djangotest: %d results for %d ops", len(results), len(ops))
	}
	res := make([]Result, len(results))
	for i, r := range results {
		res[i] = Result(r)
	}
	return res
}

// MustBatch is Batch that fails the test when any operation raised.
func MustBatch(t testing.TB, env Env, ops ...Op) []Result {
	t.Helper()
	res := Batch(t, env, ops...)
	for i, r := range res {
		if err := r.Err(); err != nil {
			t.Fatalf("djangotest: op %d (%s): %v", i, ops[i].Name, err)
		}
	}
	return res
}

// Run runs one operation in its own process and fails the test if it
// raised.
func Run(t testing.TB, env Env, name string, params map[string]any) Result {
	t.Helper()
	return MustBatch(t, env, Op{Name: name, Params: params})[0]
}

// Snippet runs Python code with Django set up (djs.py's eval operation):
// the code sees `input` (decoded from the JSON of input, with djs.py's
// $-tagged types), `settings` and `session_store(key=None)`, and sets
// `result`, which comes back in the JSON normal form.
func Snippet(t testing.TB, env Env, code string, input any) json.RawMessage {
	t.Helper()
	r := Run(t, env, "eval", map[string]any{"code": code, "input": input})
	return r.Field("result")
}

// Manage runs `manage.py args...` and returns its standard output.
func Manage(t testing.TB, env Env, args ...string) []byte {
	t.Helper()
	Require(t)
	return run(t, env, nil, append([]string{filepath.Join(ProjectDir(), "manage.py")}, args...)...)
}

func run(t testing.TB, env Env, stdin []byte, args ...string) []byte {
	t.Helper()
	cmd := exec.Command(Python, args...)
	cmd.Dir = ProjectDir()
	cmd.Env = env.environ()
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == exitMissingModule {
			skipOrFail(t, strings.TrimSpace(stderr.String()))
		}
		t.Fatalf("djangotest: %s %s: %v\nstderr:\n%s\nstdout:\n%s", Python, strings.Join(args, " "), err, stderr.String(), out)
	}
	return out
}
