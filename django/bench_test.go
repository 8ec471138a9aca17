package django_test

import (
	"bytes"
	"compress/zlib"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest/vectors"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
	"github.com/djsession/djsession/signing/pyzlib"
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

// BenchmarkSessionDecodeSteps times, one at a time, the steps every
// decode of the typical session must take (spec §2.4–§2.6: check the
// HMAC-SHA256 of "payload:timestamp", base64-decode the payload, inflate
// it, parse the JSON), each with this project's code and with Go's
// standard library, on the same bytes as BenchmarkSessionDecode. It shows
// where decode's time goes and the floor the steps put under it.
func BenchmarkSessionDecodeSteps(b *testing.B) {
	_, _, data := benchSession(b, "BenchmarkSessionDecode")
	// session_data is ".<base64 zlib>:<timestamp>:<signature>".
	i := strings.LastIndexByte(data, ':')
	signed, payload := data[:i], data[1:strings.IndexByte(data, ':')]
	z, err := signing.B64Decode(payload)
	if err != nil {
		b.Fatal(err)
	}
	js, err := pyzlib.Decompress(nil, z, -1)
	if err != nil {
		b.Fatal(err)
	}
	mac := sessionMAC(b)
	benchHMAC(b, mac, signed)
	buf := make([]byte, 0, 1024)
	benchStep(b, "base64", func() error {
		_, err := base64.RawURLEncoding.AppendDecode(buf[:0], []byte(payload))
		return err
	})
	benchStep(b, "inflate/pyzlib", func() error {
		_, err := pyzlib.Decompress(buf[:0], z, 1<<20)
		return err
	})
	var zr io.ReadCloser
	benchStep(b, "inflate/stdlib", func() error {
		var err error
		if zr == nil {
			zr, err = zlib.NewReader(bytes.NewReader(z))
		} else {
			err = zr.(zlib.Resetter).Reset(bytes.NewReader(z), nil)
		}
		if err != nil {
			return err
		}
		out := bytes.NewBuffer(buf[:0])
		_, err = out.ReadFrom(zr)
		return err
	})
	benchStep(b, "json/py", func() error {
		_, err := py.DecodeJSON(js)
		return err
	})
	benchStep(b, "json/stdlib", func() error {
		var m map[string]any
		return json.Unmarshal(js, &m)
	})
}

// BenchmarkSessionEncodeSteps is BenchmarkSessionDecodeSteps for encode:
// JSON, deflate at level 6 (zlib's default, which Django's
// signing.dumps uses), base64 and the HMAC.
func BenchmarkSessionEncodeSteps(b *testing.B) {
	_, d, data := benchSession(b, "BenchmarkSessionEncode")
	js, err := py.EncodeJSON(py.DictOf(d))
	if err != nil {
		b.Fatal(err)
	}
	signed := data[:strings.LastIndexByte(data, ':')]
	z, err := pyzlib.Compress(nil, js, 6)
	if err != nil {
		b.Fatal(err)
	}
	mac := sessionMAC(b)
	buf := make([]byte, 0, 1024)
	benchStep(b, "json/py", func() error {
		_, err := py.AppendJSON(buf[:0], py.DictOf(d))
		return err
	})
	m := map[string]any{}
	if err := json.Unmarshal(js, &m); err != nil {
		b.Fatal(err)
	}
	benchStep(b, "json/stdlib", func() error {
		_, err := json.Marshal(m)
		return err
	})
	benchStep(b, "deflate/pyzlib", func() error {
		_, err := pyzlib.Compress(buf[:0], js, 6)
		return err
	})
	zw, _ := zlib.NewWriterLevel(io.Discard, 6)
	benchStep(b, "deflate/stdlib", func() error {
		out := bytes.NewBuffer(buf[:0])
		zw.Reset(out)
		if _, err := zw.Write(js); err != nil {
			return err
		}
		return zw.Close()
	})
	benchStep(b, "base64", func() error {
		base64.RawURLEncoding.AppendEncode(buf[:0], z)
		return nil
	})
	benchHMAC(b, mac, signed)
}

// benchStep runs f as the sub-benchmark name.
func benchStep(b *testing.B, name string, f func() error) {
	b.Run(name, func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := f(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// sessionMAC is the salted HMAC-SHA256 that signs session_data (spec
// §2.3): the key derived from the session salt + "signer".
func sessionMAC(b *testing.B) hash.Hash {
	mac, err := signing.NewSaltedHMAC(django.DefaultSettings("k").KeySalt()+"signer", []byte("key"), "sha256")
	if err != nil {
		b.Fatal(err)
	}
	return mac
}

// benchHMAC times mac over signed ("payload:timestamp").
func benchHMAC(b *testing.B, mac hash.Hash, signed string) {
	var sum [sha256.Size]byte
	benchStep(b, "hmac-sha256", func() error {
		mac.Reset()
		io.WriteString(mac, signed)
		mac.Sum(sum[:0])
		return nil
	})
}
