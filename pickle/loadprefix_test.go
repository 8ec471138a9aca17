package pickle

import (
	"encoding/hex"
	"os/exec"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// TestLoadPrefixAsPickleLoad checks LoadPrefix against CPython's
// pickle.load on a file holding a pickle followed by other bytes (what
// FileBasedCache writes, read as it reads, from open(path, "rb")): CPython
// reports the value's repr and f.tell() after the load, and LoadPrefix
// must take the same number of bytes. The last input is a frame that
// declares two bytes more than its STOP: from a file CPython stops at STOP.
func TestLoadPrefixAsPickleLoad(t *testing.T) {
	rdNeedPython(t)
	const script = `
import json, pickle, sys, tempfile, zlib
for line in sys.stdin:
    expr, proto = json.loads(line)
    if proto < 0:
        data = bytes.fromhex(expr)
    else:
        data = pickle.dumps(eval(expr), proto) + zlib.compress(pickle.dumps({"a": 1}, proto))
    with tempfile.TemporaryFile() as tmp:
        tmp.write(data)
        tmp.flush()
        tmp.seek(0)
        with open(tmp.fileno(), "rb", closefd=False) as f:
            got = pickle.load(f)
            print(json.dumps([data.hex(), f.tell(), repr(got)]), flush=True)
`
	var inputs [][2]any
	for _, expr := range []string{"None", "1700000000.25", "0", "2**70", "-1.5", "'x'*300", "[1.0]*2000"} {
		for proto := 0; proto <= 5; proto++ {
			inputs = append(inputs, [2]any{expr, proto})
		}
	}
	inputs = append(inputs, [2]any{hex.EncodeToString([]byte("\x80\x05\x95\x04\x00\x00\x00\x00\x00\x00\x00N.xx\x78rest")), -1})
	outs := pyStream[[2]any, [3]any](t, exec.Command(rdPython, "-c", script), inputs)
	for i, o := range outs {
		data, err := hex.DecodeString(o[0].(string))
		if err != nil {
			t.Fatal(err)
		}
		want := int(o[1].(float64))
		v, n, err := LoadPrefix(data, Limits{})
		if err != nil || n != want || v.Repr() != o[2].(string) && len(v.Repr()) < 200 {
			t.Errorf("%v: LoadPrefix = %s, %d, %v; CPython read %s taking %d bytes", inputs[i], v.Repr(), n, err, o[2], want)
		}
		// The rest is the zlib stream CPython wrote after it.
		if n < len(data) && data[n] != 0x78 && i < len(outs)-1 {
			t.Errorf("%v: byte %d after the pickle is %#x, want zlib's 0x78", inputs[i], n, data[n])
		}
	}
}

// TestLoadPrefixErrors: a load that fails takes no bytes.
func TestLoadPrefixErrors(t *testing.T) {
	for _, in := range []string{"", "\x80\x05", "\x80\x05\x95\x0a\x00\x00\x00\x00\x00\x00\x00G", "N"} {
		if v, n, err := LoadPrefix([]byte(in), Limits{}); err == nil || n != 0 || v != py.None {
			t.Errorf("LoadPrefix(%q) = %s, %d, %v; want an error and 0", in, v.Repr(), n, err)
		}
	}
	v, n, err := LoadPrefix([]byte("N.rest"), Limits{})
	if err != nil || n != 2 || v != py.None {
		t.Errorf("LoadPrefix(N.rest) = %s, %d, %v", v.Repr(), n, err)
	}
}
