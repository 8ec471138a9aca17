package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// pythonBin is the interpreter that has Django 3.2, django-redis 5.2,
// pymemcache, pylibmc, msgpack and lz4 installed.
const pythonBin = "/usr/bin/python3"

// exitMissingModule is the exit status the scripts use when an import fails.
const exitMissingModule = 77

// skipOrFail skips the test, or fails it when DJSESSION_REQUIRE_SERVICES=1.
func skipOrFail(t testing.TB, reason string) {
	t.Helper()
	if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
		t.Fatal(reason)
	}
	t.Skip(reason)
}

// pythonPrelude turns a failed import into exitMissingModule.
const pythonPrelude = `
import sys, json, base64, re
sys.setrecursionlimit(20000)
_json_dumps = json.dumps
def _dumps(*a, **k):
    # Lone surrogates as \\udxxx escapes, as py.NormalJSON writes them.
    return re.sub("[\ud800-\udfff]", lambda m: "\\u%04x" % ord(m.group()), _json_dumps(*a, **k))
json.dumps = _dumps
def need(*mods):
    import importlib
    for m in mods:
        try:
            importlib.import_module(m)
        except Exception as e:
            sys.stderr.write("missing python module %s: %s\n" % (m, e))
            sys.exit(77)
`

// runPython runs script with input on stdin and returns stdout.
func runPython(t testing.TB, script string, input []byte) []byte {
	t.Helper()
	if _, err := os.Stat(pythonBin); err != nil {
		skipOrFail(t, pythonBin+" not available")
	}
	cmd := exec.Command(pythonBin, "-c", pythonPrelude+script)
	cmd.Stdin = bytes.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == exitMissingModule {
			skipOrFail(t, strings.TrimSpace(stderr.String()))
		}
		t.Fatalf("python failed: %v\n%s", err, stderr.String())
	}
	return out
}

// pyCase is one line exchanged with the Python helper scripts.
type pyCase struct {
	Name  string `json:"name"`
	Kind  string `json:"kind,omitempty"`
	Data  string `json:"data,omitempty"` // base64
	Out   string `json:"out,omitempty"`  // base64
	Flags uint32 `json:"flags,omitempty"`
	Err   string `json:"err,omitempty"`
	Extra string `json:"extra,omitempty"`
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func unb64(t testing.TB, s string) []byte {
	t.Helper()
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		t.Fatalf("bad base64 %q: %v", s, err)
	}
	return b
}

// pyLines runs a script that reads JSON lines of pyCase on stdin and writes
// one JSON line per result.
func pyLines(t testing.TB, script string, in []pyCase) []pyCase {
	t.Helper()
	var buf bytes.Buffer
	for _, c := range in {
		b, _ := json.Marshal(c)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	out := runPython(t, script, buf.Bytes())
	var res []pyCase
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		var c pyCase
		if err := json.Unmarshal(line, &c); err != nil {
			t.Fatalf("bad python output %q: %v", line, err)
		}
		res = append(res, c)
	}
	return res
}
