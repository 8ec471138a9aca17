package hostiletest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"testing"
)

// The fixed test keys and constants the corpus is signed with (documented
// in testdata/hostile/README.md). None of them is a real secret.
const (
	// secretKey is SECRET_KEY for every signed corpus entry.
	secretKey = "djsession-hostile-corpus-key-not-a-secret-0123456789"
	// corpusTime is the signing timestamp of every signed entry; tests
	// run their clock at corpusTime+60 so that no cookie is expired.
	corpusTime = 1700000000
	// sessionSalt is session_data's salt for Django's SessionStore (spec §3.5).
	sessionSalt = "django.contrib.sessions.SessionStore"
	// legacySalt is format L's hash salt (spec §3.5).
	legacySalt = "django.contrib.sessionsSessionStore"
	// cookieSalt is the signed_cookies engine's salt (spec §3.9.5).
	cookieSalt = "django.contrib.sessions.backends.signed_cookies"

	corpusFile = "../../testdata/hostile/corpus.jsonl"
)

// CacheFormat says which cache client wrote a cache entry (spec §6.2, §7).
type CacheFormat struct {
	// Format is "django-redis", "django" (Django's RedisCache) or
	// "pymemcache".
	Format string `json:"format"`
	// Serializer and Compressor are django-redis's SERIALIZER and
	// COMPRESSOR short names ("" = pickle, none).
	Serializer string `json:"serializer,omitempty"`
	Compressor string `json:"compressor,omitempty"`
	// Flags are pymemcache's item flags (nil = 1, a pickle).
	Flags *uint32 `json:"flags,omitempty"`
}

// String names the format the way the CLI flags would.
func (f CacheFormat) String() string {
	s := f.Format
	if f.Serializer != "" {
		s += "/" + f.Serializer
	}
	if f.Compressor != "" {
		s += "/" + f.Compressor
	}
	if f.Flags != nil {
		s += fmt.Sprintf("/flags=%d", *f.Flags)
	}
	return s
}

// Entry is one line of corpus.jsonl.
type Entry struct {
	// Name is unique, "group/what".
	Name string `json:"name"`
	// What says what the input is and why it is hostile.
	What string `json:"what"`
	// Kind is "text" (a cookie value or session_data string) or "cache"
	// (a raw cache value).
	Kind string `json:"kind"`
	// Signed says which MAC a text entry carries, valid under secretKey:
	// "session" (session_data, sessionSalt), "legacy" (format L hash,
	// legacySalt), "cookie" (cookieSalt) or "" (no valid MAC).
	Signed string `json:"signed,omitempty"`
	// Serializer is SESSION_SERIALIZER for text entries: "json" (default)
	// or "pickle".
	Serializer string `json:"serializer,omitempty"`
	// Cache is the format of a cache entry.
	Cache *CacheFormat `json:"cache,omitempty"`
	// Expect is what the entry points where the entry's MAC (Signed) and
	// serializer apply must do with it: "" (reject: not found, anonymous,
	// exit 1), "accept" (load it as a session: the controls, and values
	// Django reads, such as a dict with lone surrogates) or "any" (values
	// Python itself loads that the module may refuse by a documented
	// limit: only the panic, time and memory bounds are checked).
	// Everywhere else every entry is rejected.
	Expect string `json:"expect,omitempty"`

	// The value: Text (UTF-8), B64 (standard base64 of the bytes) or GzB64
	// (standard base64 of the gzip of the bytes, for large values).
	Text  string `json:"text,omitempty"`
	B64   string `json:"b64,omitempty"`
	GzB64 string `json:"gz_b64,omitempty"`
}

// maxCorpusValue bounds a decoded corpus value (the corpus is ours, but a
// bad edit should not take the test machine down).
const maxCorpusValue = 64 << 20

// Value returns the entry's bytes.
func (e *Entry) Value() ([]byte, error) {
	switch {
	case e.GzB64 != "":
		z, err := base64.StdEncoding.DecodeString(e.GzB64)
		if err != nil {
			return nil, err
		}
		r, err := gzip.NewReader(bytes.NewReader(z))
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(io.LimitReader(r, maxCorpusValue+1))
		if err != nil {
			return nil, err
		}
		if len(b) > maxCorpusValue {
			return nil, fmt.Errorf("value over %d bytes", maxCorpusValue)
		}
		return b, nil
	case e.B64 != "":
		return base64.StdEncoding.DecodeString(e.B64)
	}
	return []byte(e.Text), nil
}

// setValue stores b in the most readable field that holds it.
func (e *Entry) setValue(b []byte) {
	e.Text, e.B64, e.GzB64 = "", "", ""
	if len(b) > 4096 {
		var z bytes.Buffer
		w, _ := gzip.NewWriterLevel(&z, gzip.BestCompression)
		w.Write(b)
		w.Close()
		if z.Len() < len(b)/2 {
			e.GzB64 = base64.StdEncoding.EncodeToString(z.Bytes())
			return
		}
	}
	if isPrintableUTF8(b) {
		e.Text = string(b)
		return
	}
	e.B64 = base64.StdEncoding.EncodeToString(b)
}

// isPrintableUTF8 reports whether b reads well as JSON text: valid UTF-8
// without control characters.
func isPrintableUTF8(b []byte) bool {
	s := string(b)
	for _, r := range s {
		if r == 0xFFFD || r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// loaded is an entry with its value decoded.
type loaded struct {
	*Entry
	value []byte
}

// loadCorpus reads corpus.jsonl.
func loadCorpus(t testing.TB) []loaded {
	t.Helper()
	f, err := os.Open(corpusFile)
	if err != nil {
		t.Fatalf("corpus: %v (regenerate with DJSESSION_HOSTILE_REGEN=1 go test -run TestGenerateCorpus)", err)
	}
	defer f.Close()
	var out []loaded
	names := map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("corpus line %d: %v", len(out)+1, err)
		}
		if names[e.Name] {
			t.Fatalf("corpus: duplicate name %q", e.Name)
		}
		names[e.Name] = true
		v, err := e.Value()
		if err != nil {
			t.Fatalf("corpus %s: %v", e.Name, err)
		}
		switch e.Kind {
		case "text":
		case "cache":
			if e.Cache == nil {
				t.Fatalf("corpus %s: cache entry without a format", e.Name)
			}
		default:
			t.Fatalf("corpus %s: unknown kind %q", e.Name, e.Kind)
		}
		out = append(out, loaded{Entry: &e, value: v})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("corpus is empty")
	}
	return out
}
