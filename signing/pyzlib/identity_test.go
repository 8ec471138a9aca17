package pyzlib

import (
	"bytes"
	"compress/flate"
	"compress/zlib"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// goInflate decompresses a zlib stream with Go's compress/zlib.
func goInflate(z []byte) ([]byte, error) {
	r, err := zlib.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(r)
}

// TestCompressMatchesCPython compares Compress with CPython's
// zlib.compress byte for byte over a corpus of sessions, the bench
// inputs, random, repetitive and text data from 0 to 200 KB, at levels
// 0..9; every stream must also decompress (Go's compress/zlib, CPython,
// and our Decompress) to the input, and our Decompress must read
// CPython's streams.
func TestCompressMatchesCPython(t *testing.T) {
	py := startPython(t)
	identity := zlibIdentity(t, py)
	items := benchJSONInputs(t, py)
	nSessions := 300
	if raceEnabled || testing.Short() {
		nSessions = 60
	}
	items = append(items, sessionCorpus(t, py, nSessions, 1)...)
	items = append(items, byteCorpus(7, raceEnabled || testing.Short())...)

	var total int
	for _, it := range items {
		total += len(it.data)
	}
	t.Logf("corpus: %d inputs, %d bytes", len(items), total)

	var report []string
	for level := 0; level <= 9; level++ {
		match := 0
		var mismatched []string
		for _, it := range items {
			want := py.mustCall(t, 'C', level, it.data)
			got, err := Compress(nil, it.data, level)
			if err != nil {
				t.Fatalf("%s level %d: %v", it.name, level, err)
			}
			if bytes.Equal(got, want) {
				match++
			} else {
				mismatched = append(mismatched, it.name)
				// Not identical: it must still be a valid stream for
				// CPython.
				back, err := py.call('D', 0, got)
				if err != nil || !bytes.Equal(back, it.data) {
					t.Errorf("%s level %d: CPython cannot read our stream: %v", it.name, level, err)
				}
				// Level 0 follows CPython's stored-block split up to 300 KB
				// only (see deflateStored).
				if identity && (level > 0 || len(it.data) <= 300000) {
					t.Errorf("%s level %d: not byte-identical to zlib.compress (ours %d bytes, CPython %d)",
						it.name, level, len(got), len(want))
				}
			}
			if back, err := goInflate(got); err != nil || !bytes.Equal(back, it.data) {
				t.Errorf("%s level %d: compress/zlib cannot read our stream: %v", it.name, level, err)
			}
			if back, err := Decompress(nil, got, -1); err != nil || !bytes.Equal(back, it.data) {
				t.Errorf("%s level %d: Decompress(Compress) failed: %v", it.name, level, err)
			}
			if back, err := Decompress(nil, want, len(it.data)); err != nil || !bytes.Equal(back, it.data) {
				t.Errorf("%s level %d: Decompress(CPython's stream) failed: %v", it.name, level, err)
			}
		}
		line := fmt.Sprintf("level %d: %d/%d byte-identical (%.1f%%)", level, match, len(items), 100*float64(match)/float64(len(items)))
		if len(mismatched) > 0 {
			sort.Strings(mismatched)
			if len(mismatched) > 8 {
				mismatched = append(mismatched[:8], "...")
			}
			line += "; differ: " + strings.Join(mismatched, " ")
		}
		report = append(report, line)
	}
	for _, l := range report {
		t.Log(l)
	}
}

// TestDeflateMatchesCPythonRaw checks the raw DEFLATE body against
// zlib.compressobj(level, DEFLATED, -15).compress(data) + flush(), the
// form gzip and django-redis's compressors use.
func TestDeflateMatchesCPythonRaw(t *testing.T) {
	py := startPython(t)
	if !zlibIdentity(t, py) {
		t.Skip("CPython does not link madler zlib 1.2/1.3: byte identity is not defined")
	}
	items := byteCorpus(11, true)
	for _, level := range []int{1, 6, 9} {
		for _, it := range items {
			want := py.mustCall(t, 'R', level, it.data)
			got, err := Deflate(nil, it.data, level)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s level %d: raw deflate differs from CPython's", it.name, level)
			}
			back, n, err := Inflate([]byte("prefix"), append(bytes.Clone(want), "trailing"...), -1)
			if err != nil || !bytes.Equal(back, append([]byte("prefix"), it.data...)) || n != len(want) {
				t.Errorf("%s level %d: Inflate: n=%d of %d, err %v", it.name, level, n, len(want), err)
			}
			fr := flate.NewReader(bytes.NewReader(got))
			if back, err := io.ReadAll(fr); err != nil || !bytes.Equal(back, it.data) {
				t.Errorf("%s level %d: compress/flate cannot read our stream: %v", it.name, level, err)
			}
		}
	}
}

// TestDjangoVectorsByteIdentical checks every compressed token that real
// Django (3.2, 5.2, 6.0) wrote in testdata: its zlib payload decompresses,
// and compressing the data again at level 6 gives the very same bytes
// (spec §2.6). It needs no Python.
func TestDjangoVectorsByteIdentical(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "vectors", "*.jsonl"))
	more, _ := filepath.Glob(filepath.Join("..", "..", "testdata", "*.jsonl"))
	files = append(files, more...)
	tokRE := regexp.MustCompile(`"\.(eJ[A-Za-z0-9_-]+)`)
	checked := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, m := range tokRE.FindAllSubmatch(raw, -1) {
			tok := string(m[1])
			if seen[tok] {
				continue
			}
			seen[tok] = true
			z, err := base64.RawURLEncoding.DecodeString(tok)
			if err != nil {
				continue
			}
			data, err := Decompress(nil, z, 1<<20)
			goData, goErr := goInflate(z)
			if (err == nil) != (goErr == nil) || (err == nil && !bytes.Equal(data, goData)) {
				t.Errorf("%s: %.20s...: Decompress err %v, compress/zlib err %v", f, tok, err, goErr)
				continue
			}
			if err != nil {
				continue // a deliberately corrupt token of an error case
			}
			got, _ := Compress(nil, data, 6)
			if !bytes.Equal(got, z) {
				t.Errorf("%s: %.20s...: Compress(data, 6) differs from Django's bytes", f, tok)
			}
			checked++
		}
	}
	if checked < 10 {
		t.Fatalf("only %d Django tokens checked; testdata missing?", checked)
	}
	t.Logf("%d Django-made compressed payloads reproduced byte for byte", checked)
}

// TestBenchSessionVector checks the session_data Django 3.2 wrote for the
// benchmark session in bench/inputs.json: its payload is exactly
// Compress(session JSON, 6).
func TestBenchSessionVector(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "bench", "inputs.json"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`"session_data": "\.([A-Za-z0-9_-]+):`).FindSubmatch(raw)
	if m == nil {
		t.Fatal("no session_data in bench/inputs.json")
	}
	z, err := base64.RawURLEncoding.DecodeString(string(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Compress(nil, []byte(sessionJSON), 6)
	if err != nil || !bytes.Equal(got, z) {
		t.Fatalf("Compress(session, 6) = %x, Django wrote %x", got, z)
	}
	back, err := Decompress(nil, z, 198)
	if err != nil || string(back) != sessionJSON {
		t.Fatalf("Decompress = %q, %v", back, err)
	}
}
