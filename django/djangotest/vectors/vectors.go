// Package vectors loads the test vectors real Django wrote (testdata/: the
// Django 3.2 file this project generates, and the 5.2 and 6.0 files from
// shared/vectors) for table tests in every package. Values are parsed with
// the py JSON decoder so Python's values survive exactly (big ints, floats,
// key order). It imports nothing of this module but pickle/py, so any
// package's tests can use it.
package vectors

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// File is one vector file.
type File struct {
	Path    string // relative to the repository root
	Version string // "3.2", "5.2", "6.0"
}

// Files are the vector files, oldest Django first.
var Files = []File{
	{Path: "testdata/django-3.2.jsonl", Version: "3.2"},
	{Path: "testdata/vectors/django-5.2.jsonl", Version: "5.2"},
	{Path: "testdata/vectors/django-6.0.jsonl", Version: "6.0"},
}

// Case is one line of a vector file.
type Case struct {
	File File
	Line int
	ID   string
	Kind string
	// Settings, Input and Expected are the case's objects (empty dicts
	// when absent).
	Settings, Input, Expected *py.Dict
	// PythonRepr is repr() of the case's Python value, when recorded.
	PythonRepr string
	// Deterministic is false for cases whose bytes depend on randomness.
	Deterministic bool
	// Raw is the line as written.
	Raw []byte
}

// Name is "version/id", for subtest names.
func (c *Case) Name() string { return c.File.Version + "/" + c.ID }

// Root returns the repository root (the folder holding go.mod).
func Root() string {
	_, here, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(here), "..", "..", ".."))
}

// Load returns every case of the given kinds (all kinds when none given)
// from all vector files. A missing or unreadable file fails the test.
func Load(t testing.TB, kinds ...string) []*Case {
	t.Helper()
	want := map[string]bool{}
	for _, k := range kinds {
		want[k] = true
	}
	var out []*Case
	for _, f := range Files {
		data, err := os.ReadFile(filepath.Join(Root(), f.Path))
		if err != nil {
			t.Fatalf("vectors: %v", err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(make([]byte, 1<<20), 64<<20)
		line := 0
		for sc.Scan() {
			line++
			raw := bytes.TrimSpace(sc.Bytes())
			if len(raw) == 0 {
				continue
			}
			c, err := parse(f, line, raw)
			if err != nil {
				t.Fatalf("vectors: %s:%d: %v", f.Path, line, err)
			}
			if len(want) == 0 || want[c.Kind] {
				out = append(out, c)
			}
		}
		if err := sc.Err(); err != nil {
			t.Fatalf("vectors: %s: %v", f.Path, err)
		}
	}
	return out
}

func parse(f File, line int, raw []byte) (*Case, error) {
	v, err := py.DecodeJSONUTF8(raw)
	if err != nil {
		return nil, err
	}
	d, ok := v.Dict()
	if !ok {
		return nil, fmt.Errorf("not an object")
	}
	c := &Case{File: f, Line: line, Raw: append([]byte(nil), raw...), Deterministic: true}
	c.ID = Str(d, "id")
	c.Kind = Str(d, "kind")
	c.PythonRepr = Str(d, "python_repr")
	c.Settings = Dict(d, "settings")
	c.Input = Dict(d, "input")
	c.Expected = Dict(d, "expected")
	if det, ok := d.GetStr("deterministic"); ok {
		if b, isBool := det.Bool(); isBool && !b {
			c.Deterministic = false
		}
	}
	return c, nil
}

// Str returns the str under key, or "".
func Str(d *py.Dict, key string) string {
	if d == nil {
		return ""
	}
	v, _ := d.GetStr(key)
	s, _ := v.Str()
	return s
}

// Dict returns the dict under key, or an empty dict.
func Dict(d *py.Dict, key string) *py.Dict {
	if d != nil {
		if v, ok := d.GetStr(key); ok {
			if dd, ok := v.Dict(); ok {
				return dd
			}
		}
	}
	return py.NewDict(0)
}

// Get returns the value under key.
func Get(d *py.Dict, key string) (py.Value, bool) {
	if d == nil {
		return py.None, false
	}
	return d.GetStr(key)
}

// Int returns the int under key (0 when absent or not an int; floats are
// truncated).
func Int(d *py.Dict, key string) int64 {
	v, _ := Get(d, key)
	if i, ok := v.Int(); ok {
		return i
	}
	if f, ok := v.Float(); ok {
		return int64(f)
	}
	return 0
}

// Float returns the number under key as a float64.
func Float(d *py.Dict, key string) float64 {
	v, _ := Get(d, key)
	if f, ok := v.Float(); ok {
		return f
	}
	if i, ok := v.Int(); ok {
		return float64(i)
	}
	return math.NaN()
}

// SameJSON reports whether two JSON texts hold the same value: objects
// compared as sets of members, arrays in order, numbers by value (ints
// exactly), strings exactly. It tells where they differ.
func SameJSON(a, b []byte) (bool, string) {
	var x, y any
	da := json.NewDecoder(bytes.NewReader(a))
	da.UseNumber()
	db := json.NewDecoder(bytes.NewReader(b))
	db.UseNumber()
	if err := da.Decode(&x); err != nil {
		return false, "left: " + err.Error()
	}
	if err := db.Decode(&y); err != nil {
		return false, "right: " + err.Error()
	}
	return same(x, y, "$")
}

func same(x, y any, path string) (bool, string) {
	switch xv := x.(type) {
	case map[string]any:
		yv, ok := y.(map[string]any)
		if !ok || len(xv) != len(yv) {
			return false, path + ": object differs"
		}
		for k, v := range xv {
			w, ok := yv[k]
			if !ok {
				return false, path + "." + k + ": missing"
			}
			if ok, where := same(v, w, path+"."+k); !ok {
				return false, where
			}
		}
		return true, ""
	case []any:
		yv, ok := y.([]any)
		if !ok || len(xv) != len(yv) {
			return false, path + ": array differs"
		}
		for i := range xv {
			if ok, where := same(xv[i], yv[i], path+"["+strconv.Itoa(i)+"]"); !ok {
				return false, where
			}
		}
		return true, ""
	case json.Number:
		yv, ok := y.(json.Number)
		if !ok {
			return false, path + ": number vs other"
		}
		if xv == yv {
			return true, ""
		}
		isInt := func(n json.Number) bool { return !strings.ContainsAny(string(n), ".eE") }
		if isInt(xv) && isInt(yv) {
			return false, fmt.Sprintf("%s: %s != %s", path, xv, yv)
		}
		fx, e1 := strconv.ParseFloat(string(xv), 64)
		fy, e2 := strconv.ParseFloat(string(yv), 64)
		if e1 != nil || e2 != nil || fx != fy {
			return false, fmt.Sprintf("%s: %s != %s", path, xv, yv)
		}
		return true, ""
	default:
		if x != y {
			return false, fmt.Sprintf("%s: %v != %v", path, x, y)
		}
		return true, ""
	}
}
