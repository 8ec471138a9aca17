package django_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest/vectors"
	"github.com/djsession/djsession/pickle/py"
)

// benchSession loads the shared benchmark input (bench/inputs.json, made by
// Django 3.2 and timed against Django by bench/django_timing.py).
func benchSession(b *testing.B, name string) (*django.Codec, *py.Dict, string) {
	b.Helper()
	raw, err := os.ReadFile(filepath.Join(vectors.Root(), "bench", "inputs.json"))
	if err != nil {
		b.Fatal(err)
	}
	var in struct {
		SecretKey  string `json:"secret_key"`
		Timestamp  int64  `json:"timestamp"`
		Benchmarks map[string]struct {
			SessionDict json.RawMessage `json:"session_dict"`
			SessionData string          `json:"session_data"`
		} `json:"benchmarks"`
	}
	if err := json.Unmarshal(raw, &in); err != nil {
		b.Fatal(err)
	}
	c := in.Benchmarks[name]
	s := django.DefaultSettings(in.SecretKey)
	at := time.Unix(in.Timestamp, 0)
	s.Clock = func() time.Time { return at }
	codec, err := django.NewCodec(s)
	if err != nil {
		b.Fatal(err)
	}
	v, err := py.DecodeJSONUTF8(c.SessionDict)
	if err != nil {
		b.Fatal(err)
	}
	d, _ := v.Dict()
	return codec, d, c.SessionData
}

func BenchmarkSessionDecode(b *testing.B) {
	codec, want, data := benchSession(b, "BenchmarkSessionDecode")
	got, err := codec.Decode(data)
	if err != nil || !py.DictOf(got).Equal(py.DictOf(want)) {
		b.Fatalf("decode: %v", err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := codec.Decode(data); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSessionEncode(b *testing.B) {
	codec, d, _ := benchSession(b, "BenchmarkSessionEncode")
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := codec.Encode(d); err != nil {
			b.Fatal(err)
		}
	}
}
