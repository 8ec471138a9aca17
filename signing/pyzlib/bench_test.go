package pyzlib

import (
	"bytes"
	"compress/zlib"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

// sessionJSON is the session_dict of BenchmarkSessionDecode in
// bench/inputs.json as Django's JSONSerializer writes it (spec §2.6).
const sessionJSON = `{"_auth_user_id":"1","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"f623faabdde81d502de01cd248edbc77a88b2cba55a0439639728ea62c7abf2a","cart_items":[101,205,307]}`

// benchInputs returns the payloads the benchmarks use: the ~200-byte
// session, the ~3 KB session of BenchmarkLoadsLarge, and 64 KB of text.
func benchInputs(tb testing.TB) []struct {
	name string
	data []byte
} {
	tb.Helper()
	large := largeSession(tb)
	text := textCorpus(64 << 10)
	return []struct {
		name string
		data []byte
	}{
		{"Session198", []byte(sessionJSON)},
		{fmt.Sprintf("Session%d", len(large)), large},
		{"Text64K", text},
	}
}

// largeSession is the obj of BenchmarkLoadsLarge compacted. Go's
// json.Compact keeps key order and the file is ASCII, so this equals
// Django's serialisation.
func largeSession(tb testing.TB) []byte {
	tb.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "bench", "inputs.json"))
	if err != nil {
		tb.Fatalf("read bench inputs: %v", err)
	}
	var in struct {
		Benchmarks map[string]struct {
			Obj json.RawMessage `json:"obj"`
		} `json:"benchmarks"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		tb.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, in.Benchmarks["BenchmarkLoadsLarge"].Obj); err != nil {
		tb.Fatal(err)
	}
	return buf.Bytes()
}

// textCorpus returns n bytes of Go source from GOROOT, a stand-in for
// large text-like payloads.
func textCorpus(n int) []byte {
	var out []byte
	root := filepath.Join(runtime.GOROOT(), "src", "net", "http")
	ents, _ := os.ReadDir(root)
	for _, e := range ents {
		if len(out) >= n {
			break
		}
		if b, err := os.ReadFile(filepath.Join(root, e.Name())); err == nil && !e.IsDir() {
			out = append(out, b...)
		}
	}
	for len(out) < n { // no GOROOT sources: fall back to repeated JSON
		out = append(out, sessionJSON...)
	}
	return out[:n]
}

func BenchmarkCompressSession(b *testing.B) {
	for _, in := range benchInputs(b) {
		b.Run(in.name+"/pyzlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			dst := make([]byte, 0, len(in.data)+1024)
			for b.Loop() {
				dst, _ = Compress(dst[:0], in.data, 6)
			}
		})
		b.Run(in.name+"/compress_zlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			var buf bytes.Buffer
			w, _ := zlib.NewWriterLevel(&buf, 6)
			for b.Loop() {
				buf.Reset()
				w.Reset(&buf)
				w.Write(in.data)
				w.Close()
			}
		})
	}
}

func BenchmarkDecompressSession(b *testing.B) {
	for _, in := range benchInputs(b) {
		z, _ := Compress(nil, in.data, 6)
		b.Run(in.name+"/pyzlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			dst := make([]byte, 0, len(in.data))
			for b.Loop() {
				var err error
				if dst, err = Decompress(dst[:0], z, -1); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/compress_zlib", func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(in.data)))
			rd := bytes.NewReader(z)
			r, _ := zlib.NewReader(rd)
			dst := make([]byte, 0, len(in.data))
			for b.Loop() {
				rd.Reset(z)
				r.(zlib.Resetter).Reset(rd, nil)
				buf := bytes.NewBuffer(dst[:0])
				if _, err := io.Copy(buf, r); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
