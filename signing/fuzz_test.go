package signing

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// The fuzz targets check that hostile input never panics, never yields an
// error outside the documented set or one that shows the key, and never
// verifies unless it is a value that was really signed ("no false
// accept"): since a signature is a deterministic function of the value, a
// token that verifies must be one of the tokens known at setup.

const fuzzKey = "django-insecure-oracle-key-0123456789abcdefghijklmnopqrstuvwxyz" // the vectors' key

// vectorTokens returns every signed string of the vector files.
func vectorTokens(t testing.TB) []string {
	var out []string
	for _, cases := range loadVectors(t) {
		for _, c := range cases {
			for _, d := range []*py.Dict{c.Input, c.Expected} {
				for _, k := range []string{"signed", "cookie_value"} {
					if s := dstr(d, k); s != "" {
						out = append(out, s)
					}
				}
			}
		}
	}
	return out
}

func checkFuzzError(t *testing.T, err error, allowed ...error) {
	t.Helper()
	if err == nil {
		return
	}
	ok := false
	for _, a := range allowed {
		ok = ok || errors.Is(err, a)
	}
	if !ok {
		t.Fatalf("unexpected error kind: %v", err)
	}
	if strings.Contains(err.Error(), fuzzKey) || strings.Contains(err.Error(), testKey) {
		t.Fatalf("error leaks the key: %v", err)
	}
}

func FuzzLoads(f *testing.F) {
	clock := fixedClock(1700000000)
	s, err := NewTimestampSigner([]byte(fuzzKey), &Options{Salt: DumpsSalt, Clock: clock, MaxDecompressedSize: 1 << 20})
	if err != nil {
		f.Fatal(err)
	}
	known := map[string]bool{}
	seed := func(tok string) {
		f.Add(tok)
		if _, err := s.Unsign(tok); err == nil {
			known[tok] = true
		}
		// Also as a payload (see below): the part before the timestamp.
		if i := strings.IndexByte(tok, ':'); i > 0 {
			f.Add(tok[:i])
		}
	}
	for _, tok := range vectorTokens(f) {
		seed(tok)
	}
	for _, obj := range []py.Value{sessionDict(strings.Repeat("ab", 32)), largeDict(), py.Str(""), py.NewList()} {
		for _, compress := range []bool{false, true} {
			tok, err := s.SignObject(obj, compress)
			if err != nil {
				f.Fatal(err)
			}
			seed(tok)
		}
	}
	seed(s.Sign("." + B64Encode([]byte("not zlib"))))
	seed(s.Sign("e30!*"))
	seed(s.c.sign("no-timestamp"))
	f.Fuzz(func(t *testing.T, token string) {
		// The input as a payload signed with the key: what a key holder
		// (or a non-Django writer) could present. Decoding must fail
		// cleanly with ErrBadPayload, never panic or run unbounded.
		_, err := s.UnsignObject(s.Sign(token))
		checkFuzzError(t, err, ErrBadPayload)

		v, err := s.UnsignObjectMaxAge(token, 365*24*time.Hour)
		checkFuzzError(t, err, ErrBadSignature, ErrBadPayload)
		if _, uerr := s.Unsign(token); uerr == nil && !known[token] {
			t.Fatalf("false accept: %q verifies but was never signed", token)
		}
		if err == nil {
			// A value that loads must survive a round trip.
			again, err := s.SignObject(v, false)
			if err != nil {
				t.Fatalf("re-sign: %v", err)
			}
			if _, err := s.UnsignObject(again); err != nil {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}

func FuzzUnsign(f *testing.F) {
	clock := fixedClock(1700000000)
	opts := &Options{Clock: clock, LegacySHA1: true, FallbackKeys: [][]byte{[]byte(testKey)}}
	plain, err := NewSigner([]byte(fuzzKey), opts)
	if err != nil {
		f.Fatal(err)
	}
	ts, err := NewTimestampSigner([]byte(fuzzKey), opts)
	if err != nil {
		f.Fatal(err)
	}
	oldKey, _ := NewSigner([]byte(testKey), &Options{Algorithm: "sha1"})
	knownPlain, knownTS := map[string]bool{}, map[string]bool{}
	seed := func(tok string) {
		f.Add(tok)
		if _, err := plain.Unsign(tok); err == nil {
			knownPlain[tok] = true
		}
		if _, err := ts.Unsign(tok); err == nil {
			knownTS[tok] = true
		}
	}
	for _, tok := range vectorTokens(f) {
		seed(tok)
	}
	for _, v := range []string{"", "value", "a:b:c", "\u00fcn\u00efcode", strings.Repeat("x", 300)} {
		seed(plain.Sign(v))
		seed(ts.Sign(v))
		seed(oldKey.Sign(v)) // SHA-1, fallback key
	}
	f.Fuzz(func(t *testing.T, token string) {
		if _, err := plain.Unsign(token); err == nil && !knownPlain[token] {
			t.Fatalf("false accept (Signer): %q", token)
		} else {
			checkFuzzError(t, err, ErrBadSignature)
		}
		_, err := ts.UnsignMaxAge(token, time.Hour)
		checkFuzzError(t, err, ErrBadSignature, ErrBadPayload)
		if _, err := ts.Unsign(token); err == nil && !knownTS[token] {
			t.Fatalf("false accept (TimestampSigner): %q", token)
		}
	})
}

func FuzzUnsignCookie(f *testing.F) {
	clock := fixedClock(1700000000)
	key := []byte(fuzzKey)
	legacyW, _ := NewCookieSigner(key, &CookieOptions{LegacySalt: true, Clock: clock})
	v2W, _ := NewCookieSigner(key, &CookieOptions{Clock: clock})
	reader, _ := NewCookieSigner(key, &CookieOptions{Clock: clock, LegacySHA1: true})
	// known maps a cookie value to the signer salts it was made with.
	known := map[string]map[string]bool{}
	remember := func(value, signerSalt string) {
		if known[value] == nil {
			known[value] = map[string]bool{}
		}
		known[value][signerSalt] = true
	}
	for _, c := range []struct{ name, value, salt string }{
		{"color", "blue", ""}, {"color", "blue", "pepper"}, {"colo", "blue", "r"},
		{"pref", "dark-mode", "ui"}, {"n", "v", "s\u00e4lz"}, {"", "x", ""}, {"c", "a:b", ":"},
	} {
		l := legacyW.Sign(c.name, c.value, c.salt)
		v := v2W.Sign(c.name, c.value, c.salt)
		remember(l, LegacyCookieSalt(c.name, c.salt))
		remember(v, CookieSalt(c.name, c.salt))
		f.Add(c.name, l, c.salt)
		f.Add(c.name, v, c.salt)
	}
	for _, tok := range vectorTokens(f) {
		f.Add("color", tok, "")
	}
	f.Fuzz(func(t *testing.T, name, value, salt string) {
		got, err := reader.UnsignMaxAge(name, value, salt, time.Hour)
		checkFuzzError(t, err, ErrBadSignature, ErrBadPayload)
		if err != nil {
			return
		}
		salts := known[value]
		if salts == nil || !(salts[CookieSalt(name, salt)] || salts[LegacyCookieSalt(name, salt)] ||
			(LegacyCookieSalt(name, salt) == "" && salts[""])) {
			t.Fatalf("false accept: cookie %q=%q (salt %q) -> %q", name, value, salt, got)
		}
	})
}

// FuzzB64Decode checks the encoding/base64 fast path against the plain
// port of Python's decoder.
func FuzzB64Decode(f *testing.F) {
	for _, c := range b64Cases {
		f.Add(c.in)
	}
	f.Add("eyJhIjoxfQ")
	f.Fuzz(func(t *testing.T, s string) {
		got, err := appendB64Decode(nil, s)
		ref, rerr := pyB64Decode(make([]byte, 0, len(s)), s)
		if (err == nil) != (rerr == nil) || !bytes.Equal(got, ref) {
			t.Fatalf("%q: fast %q %v, reference %q %v", s, got, err, ref, rerr)
		}
	})
}

// FuzzB62Decode checks B62Decode against B62DecodeBig and the encoders.
func FuzzB62Decode(f *testing.F) {
	for _, s := range []string{"0", "1r31eq", "-Aukyoa", "007", "-", "", "zzzzzzzzzzz", "AzL8n0Y58m7"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := B62Decode(s)
		b, berr := B62DecodeBig(s)
		if berr != nil {
			if err == nil {
				t.Fatalf("%q: int64 ok, big error %v", s, berr)
			}
			return
		}
		if err == nil {
			if b.Int64() != n || !b.IsInt64() {
				t.Fatalf("%q: %d vs %v", s, n, b)
			}
			if back, _ := B62Decode(B62Encode(n)); back != n {
				t.Fatalf("%d: round trip %d", n, back)
			}
		} else if b.IsInt64() {
			t.Fatalf("%q: fits int64 (%v) but B62Decode failed: %v", s, b, err)
		}
		if back, err := B62DecodeBig(B62EncodeBig(b)); err != nil || back.Cmp(b) != 0 {
			t.Fatalf("%v: big round trip %v, %v", b, back, err)
		}
	})
}
