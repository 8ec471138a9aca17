package cache

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/djsession/djsession/backends/testenv"
)

// pythonBin has Django 3.2, django-redis 5.2, redis-py, pymemcache and
// pylibmc installed (Debian packages).
const pythonBin = "/usr/bin/python3"

// pythonPrelude defines need(): a missing module exits 77.
const pythonPrelude = `
import sys, json
def need(*mods):
    import importlib
    for m in mods:
        try:
            importlib.import_module(m)
        except Exception as e:
            sys.stderr.write("missing python module %s: %s\n" % (m, e))
            sys.exit(77)
`

func havePython(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(pythonBin); err != nil {
		testenv.Require(t, pythonBin, err)
	}
}

// runPython runs script with input on stdin and returns its stdout.
func runPython(t testing.TB, script string, input []byte, env ...string) []byte {
	t.Helper()
	havePython(t)
	cmd := exec.Command(pythonBin, "-c", pythonPrelude+script)
	cmd.Stdin = bytes.NewReader(input)
	cmd.Env = append(append(os.Environ(), "PYTHONDONTWRITEBYTECODE=1"), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() == 77 {
		testenv.Require(t, "python module", errors.New(stderr.String()))
	}
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	return out
}
