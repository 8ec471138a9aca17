package signing

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/djsession/djsession/pickle/py"
)

// benchInput is one entry of bench/inputs.json, shared with
// bench/django_timing.py so that Go and Django time the same work.
type benchInput struct {
	Op       string          `json:"op"`
	Salt     string          `json:"salt"`
	Compress bool            `json:"compress"`
	Obj      json.RawMessage `json:"obj"`
	Signed   string          `json:"signed"`
}

type benchCase struct {
	signer *TimestampSigner
	obj    py.Value
	token  string // Django's token (Loads) or the expected output (Dumps)
	comp   bool
}

// loadBench returns the named case from bench/inputs.json, or, when that
// file is absent, a built-in equivalent: a logged-in session dict of ~200
// bytes of JSON (small) or a ~3 KB compressible dict (large).
func loadBench(b *testing.B, name string) benchCase {
	b.Helper()
	raw, err := os.ReadFile(testdataPath("bench", "inputs.json"))
	if err == nil {
		var file struct {
			SecretKey  string                `json:"secret_key"`
			Timestamp  float64               `json:"timestamp"`
			Benchmarks map[string]benchInput `json:"benchmarks"`
		}
		if err := json.Unmarshal(raw, &file); err != nil {
			b.Fatal(err)
		}
		in, ok := file.Benchmarks[name]
		if !ok {
			b.Fatalf("bench/inputs.json has no %s", name)
		}
		s, err := NewTimestampSigner([]byte(file.SecretKey), &Options{Salt: in.Salt, Clock: fixedClock(file.Timestamp)})
		if err != nil {
			b.Fatal(err)
		}
		return benchCase{signer: s, obj: pyFromJSON(b, string(in.Obj)), token: in.Signed, comp: in.Compress}
	}
	b.Logf("bench/inputs.json absent (%v): using built-in inputs", err)
	s, _ := NewTimestampSigner([]byte("bench-secret-key"), &Options{Salt: DumpsSalt, Clock: fixedClock(1700000000)})
	c := benchCase{signer: s, obj: sessionDict(strings.Repeat("f623faab", 8))}
	if strings.HasSuffix(name, "Large") {
		c.obj, c.comp = largeDict(), true
	}
	c.token, _ = s.SignObject(c.obj, c.comp)
	return c
}

func benchLoads(b *testing.B, name string) {
	c := loadBench(b, name)
	v, err := c.signer.UnsignObject(c.token)
	if err != nil || jsonOf(b, v) != jsonOf(b, c.obj) {
		b.Fatalf("Loads(%.30q…) = %v, %v", c.token, v, err)
	}
	b.SetBytes(int64(len(c.token)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.signer.UnsignObject(c.token); err != nil {
			b.Fatal(err)
		}
	}
}

func benchDumps(b *testing.B, name string) {
	c := loadBench(b, name)
	got, err := c.signer.SignObject(c.obj, c.comp)
	if err != nil {
		b.Fatal(err)
	}
	// Django's exact bytes where zlib is not involved (spec §2.6).
	if !strings.HasPrefix(c.token, ".") && got != c.token {
		b.Fatalf("Dumps = %.40q…, want Django's %.40q…", got, c.token)
	}
	b.SetBytes(int64(len(got)))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.signer.SignObject(c.obj, c.comp); err != nil {
			b.Fatal(err)
		}
	}
}

// The Loads/Dumps benchmarks time what a session backend does per request:
// a TimestampSigner built once (salt "django.core.signing"), then
// UnsignObject / SignObject, i.e. signing.loads / signing.dumps.
func BenchmarkLoadsSmall(b *testing.B) { benchLoads(b, "BenchmarkLoadsSmall") }
func BenchmarkLoadsLarge(b *testing.B) { benchLoads(b, "BenchmarkLoadsLarge") }
func BenchmarkDumpsSmall(b *testing.B) { benchDumps(b, "BenchmarkDumpsSmall") }
func BenchmarkDumpsLarge(b *testing.B) { benchDumps(b, "BenchmarkDumpsLarge") }

// BenchmarkLoadsOneShot is the package-level Loads, which derives the keys
// on every call.
func BenchmarkLoadsOneShot(b *testing.B) {
	c := loadBench(b, "BenchmarkLoadsSmall")
	raw, _ := os.ReadFile(testdataPath("bench", "inputs.json"))
	var file struct {
		SecretKey string `json:"secret_key"`
	}
	_ = json.Unmarshal(raw, &file)
	key := []byte(file.SecretKey)
	if len(key) == 0 {
		b.Skip("needs bench/inputs.json")
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Loads(c.token, key, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUnsign is the MAC check alone.
func BenchmarkUnsign(b *testing.B) {
	s := mustTimestampSigner(b, &Options{Clock: fixedClock(1700000000)})
	tok := s.Sign(strings.Repeat("v", 300))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.Unsign(tok); err != nil {
			b.Fatal(err)
		}
	}
}
