package pyzlib

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
)

// pyServer is one /usr/bin/python3 process answering requests over its
// stdin/stdout, so a test can ask CPython's zlib many questions cheaply.
//
// Request:  op byte, level byte, uint32 length, data.
// Response: status byte (0 ok, 1 error), uint32 length, data.
//
//	'C' zlib.compress(data, level)
//	'R' zlib.compressobj(level, DEFLATED, -15): compress(data) + flush()
//	'D' zlib.decompress(data)
//	'S' json.dumps(json.loads(data), separators=(",", ":")) as Django's
//	    JSONSerializer writes it (spec §2.6)
//	'V' zlib.ZLIB_RUNTIME_VERSION
type pyServer struct {
	cmd *exec.Cmd
	in  *bufio.Writer
	out *bufio.Reader
	mu  sync.Mutex
}

const pyServerScript = `
import sys, zlib, json, struct
inp, out = sys.stdin.buffer, sys.stdout.buffer
def reply(status, data):
    out.write(struct.pack(">BI", status, len(data))); out.write(data); out.flush()
while True:
    hdr = inp.read(6)
    if len(hdr) < 6:
        break
    op, level, n = struct.unpack(">BBI", hdr)
    data = inp.read(n)
    try:
        if op == ord("C"):
            reply(0, zlib.compress(data, level))
        elif op == ord("R"):
            c = zlib.compressobj(level, zlib.DEFLATED, -15)
            reply(0, c.compress(data) + c.flush())
        elif op == ord("D"):
            reply(0, zlib.decompress(data))
        elif op == ord("S"):
            reply(0, json.dumps(json.loads(data), separators=(",", ":")).encode("latin-1"))
        elif op == ord("V"):
            reply(0, zlib.ZLIB_RUNTIME_VERSION.encode())
        else:
            reply(1, b"bad op")
    except Exception as e:
        reply(1, repr(e).encode())
`

// startPython starts the CPython helper or skips the test (fails it when
// DJSESSION_REQUIRE_SERVICES=1).
func startPython(t testing.TB) *pyServer {
	t.Helper()
	const py = "/usr/bin/python3"
	if _, err := os.Stat(py); err != nil {
		if os.Getenv("DJSESSION_REQUIRE_SERVICES") == "1" {
			t.Fatalf("%s is required (DJSESSION_REQUIRE_SERVICES=1): %v", py, err)
		}
		t.Skipf("skipping: %s not found, CPython's zlib is the oracle", py)
	}
	cmd := exec.Command(py, "-c", pyServerScript)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", py, err)
	}
	s := &pyServer{cmd: cmd, in: bufio.NewWriterSize(stdin, 1<<16), out: bufio.NewReaderSize(stdout, 1<<16)}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	return s
}

var errPython = errors.New("python raised")

// call sends one request and returns CPython's answer.
func (s *pyServer) call(op byte, level int, data []byte) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var hdr [6]byte
	hdr[0] = op
	hdr[1] = byte(level)
	binary.BigEndian.PutUint32(hdr[2:], uint32(len(data)))
	s.in.Write(hdr[:])
	s.in.Write(data)
	if err := s.in.Flush(); err != nil {
		return nil, err
	}
	var rh [5]byte
	if _, err := io.ReadFull(s.out, rh[:]); err != nil {
		return nil, fmt.Errorf("python helper died: %w", err)
	}
	body := make([]byte, binary.BigEndian.Uint32(rh[1:]))
	if _, err := io.ReadFull(s.out, body); err != nil {
		return nil, err
	}
	if rh[0] != 0 {
		return nil, fmt.Errorf("%w: %s", errPython, body)
	}
	return body, nil
}

func (s *pyServer) mustCall(t testing.TB, op byte, level int, data []byte) []byte {
	t.Helper()
	b, err := s.call(op, level, data)
	if err != nil {
		t.Fatalf("python %c: %v", op, err)
	}
	return b
}

// zlibIdentity reports whether CPython links a zlib whose deflate output
// this package reproduces (madler zlib 1.2.x / 1.3.x, not zlib-ng).
func zlibIdentity(t testing.TB, s *pyServer) bool {
	v := string(s.mustCall(t, 'V', 0, nil))
	t.Logf("CPython's zlib runtime version: %s", v)
	return (strings.HasPrefix(v, "1.2.") || strings.HasPrefix(v, "1.3.")) && !strings.Contains(v, "ng")
}
