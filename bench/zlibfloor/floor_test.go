//go:build zlibfloor && cgo

package zlibfloor_test

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/djsession/djsession/bench/zlibfloor"
	"github.com/djsession/djsession/signing/pyzlib"
)

// inputs are the JSON payloads of bench/inputs.json as Django's
// JSONSerializer writes them (compact, key order kept; the file is ASCII),
// with the typical logged-in session first.
func inputs(tb testing.TB) [][]byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "inputs.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var in struct {
		Benchmarks map[string]struct {
			Obj         json.RawMessage `json:"obj"`
			SessionDict json.RawMessage `json:"session_dict"`
		} `json:"benchmarks"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		tb.Fatal(err)
	}
	var out [][]byte
	for _, r := range []json.RawMessage{
		in.Benchmarks["BenchmarkSessionDecode"].SessionDict,
		in.Benchmarks["BenchmarkLoadsLarge"].Obj,
	} {
		var buf bytes.Buffer
		if err := json.Compact(&buf, r); err != nil || buf.Len() == 0 {
			tb.Fatalf("bench input: %v (%d bytes)", err, buf.Len())
		}
		out = append(out, buf.Bytes())
	}
	return out
}

// TestDeflateMatchesCZlib: pyzlib.Compress writes the C zlib's bytes at
// every level, on the bench inputs and on data with long, short and no
// matches. Level 0 is compared below 32 KB only: past that, zlib sizes
// stored blocks by the output space each deflate call is given, and
// pyzlib splits them as CPython's growing output buffer does (checked
// against CPython in signing/pyzlib), not as one large buffer here does.
func TestDeflateMatchesCZlib(t *testing.T) {
	cases := inputs(t)
	r := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 5000)
	for i := range random {
		random[i] = byte(r.Uint32())
	}
	words := []string{"sku", "name", "qty", "price", "_auth_user_id", "cart", "é", "\x00"}
	var text []byte
	for len(text) < 70000 {
		text = append(text, words[r.IntN(len(words))]...)
		text = append(text, byte('0'+r.IntN(10)))
	}
	cases = append(cases, random, text, bytes.Repeat([]byte("ab"), 40000), []byte("x"))
	dst := make([]byte, 0, 200000)
	for _, in := range cases {
		for level := 0; level <= 9; level++ {
			if level == 0 && len(in) >= 32<<10 {
				continue
			}
			want, err := zlibfloor.ZlibDeflate(in, dst, level, 1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := pyzlib.Compress(nil, in, level)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%d bytes at level %d: pyzlib wrote %d bytes, C zlib %d, and they differ", len(in), level, len(got), len(want))
			}
		}
	}
}

// TestInflateAgrees: the three inflaters give the same bytes for zlib's
// and libdeflate's streams.
func TestInflateAgrees(t *testing.T) {
	buf := make([]byte, 0, 200000)
	for _, in := range inputs(t) {
		z1, err := zlibfloor.ZlibDeflate(in, make([]byte, 0, 2*len(in)+64), 6, 1)
		if err != nil {
			t.Fatal(err)
		}
		z2, err := zlibfloor.LibdeflateDeflate(in, make([]byte, 0, 2*len(in)+64), 6, 1)
		if err != nil {
			t.Fatal(err)
		}
		for _, z := range [][]byte{z1, z2} {
			for name, inflate := range map[string]func([]byte) ([]byte, error){
				"zlib":       func(z []byte) ([]byte, error) { return zlibfloor.ZlibInflate(z, buf, 1) },
				"libdeflate": func(z []byte) ([]byte, error) { return zlibfloor.LibdeflateInflate(z, buf, 1) },
				"pyzlib":     func(z []byte) ([]byte, error) { return pyzlib.Decompress(nil, z, -1) },
			} {
				got, err := inflate(z)
				if err != nil || !bytes.Equal(got, in) {
					t.Errorf("%s: %d-byte input: err %v, output differs: %v", name, len(in), err, !bytes.Equal(got, in))
				}
			}
		}
	}
	if _, err := zlibfloor.ZlibInflate([]byte("not zlib"), buf, 1); err == nil {
		t.Error("C zlib inflated garbage without an error")
	}
}

// BenchmarkInflate inflates the typical session's payload (about 150
// bytes of zlib, level 6) with each library.
func BenchmarkInflate(b *testing.B) {
	in := inputs(b)[0]
	z, err := pyzlib.Compress(nil, in, 6)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, 0, 4096)
	b.Run("pyzlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pyzlib.Decompress(buf[:0], z, 1<<20); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zlib", func(b *testing.B) {
		if _, err := zlibfloor.ZlibInflate(z, buf, b.N); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("libdeflate", func(b *testing.B) {
		if _, err := zlibfloor.LibdeflateInflate(z, buf, b.N); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkDeflate compresses the typical session's JSON at level 6 with
// each library (libdeflate's bytes differ from zlib's).
func BenchmarkDeflate(b *testing.B) {
	in := inputs(b)[0]
	buf := make([]byte, 0, 4096)
	b.Run("pyzlib", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := pyzlib.Compress(buf[:0], in, 6); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("zlib", func(b *testing.B) {
		if _, err := zlibfloor.ZlibDeflate(in, buf, 6, b.N); err != nil {
			b.Fatal(err)
		}
	})
	b.Run("libdeflate", func(b *testing.B) {
		if _, err := zlibfloor.LibdeflateDeflate(in, buf, 6, b.N); err != nil {
			b.Fatal(err)
		}
	})
}
