package django_test

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest/vectors"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// settingsFor builds Settings from a vector case's Django settings.
func settingsFor(t *testing.T, c *vectors.Case) *django.Settings {
	t.Helper()
	key := vectors.Str(c.Settings, "SECRET_KEY")
	if b := vectors.Str(c.Settings, "SECRET_KEY_bytes_b64"); b != "" {
		raw, err := base64.StdEncoding.DecodeString(b)
		if err != nil {
			t.Fatal(err)
		}
		key = string(raw)
	}
	s := django.DefaultSettings(key)
	if strings.HasSuffix(vectors.Str(c.Settings, "SESSION_SERIALIZER"), "PickleSerializer") {
		s.SessionSerializer = django.PickleSerializer{}
	}
	if v, ok := vectors.Get(c.Settings, "SECRET_KEY_FALLBACKS"); ok {
		for _, k := range v.Items() {
			ks, _ := k.Str()
			s.SecretKeyFallbacks = append(s.SecretKeyFallbacks, ks)
		}
	}
	if c.File.Version == "3.2" {
		// Django 3.1–3.2 accept SHA-1 signatures and have no fallbacks.
		s.LegacySHA1 = true
		if vectors.Str(c.Settings, "DEFAULT_HASHING_ALGORITHM") == "sha1" {
			s.WriteLegacyFormat = true
		}
	} else {
		s.RefuseLegacyFormat = true
	}
	if age := vectors.Int(c.Settings, "SESSION_COOKIE_AGE"); age != 0 {
		s.SessionCookieAge = int(age)
	}
	ts := vectors.Float(c.Input, "timestamp")
	if now := vectors.Float(c.Input, "now"); now == now {
		ts = now
	}
	if ts == ts { // not NaN
		at := time.Unix(0, int64(ts*1e9))
		s.Clock = func() time.Time { return at }
	}
	return s
}

func normal(t *testing.T, v py.Value) []byte {
	t.Helper()
	b, err := py.NormalJSON(v)
	if err != nil {
		t.Fatalf("normal form: %v", err)
	}
	return b
}

func checkDecoded(t *testing.T, got *py.Dict, c *vectors.Case, field string) {
	t.Helper()
	want, ok := vectors.Get(c.Expected, field)
	if !ok {
		return
	}
	if ok, where := vectors.SameJSON(normal(t, py.DictOf(got)), normal(t, want)); !ok {
		t.Errorf("%s differs from Django's at %s", field, where)
	}
}

// TestSessionDataVectors runs every session_data case Django 3.2, 5.2 and
// 6.0 wrote: what Django encoded decodes to what Django decoded, our
// encoding of that value is Django's bytes (where zlib did not touch them),
// and values Django rejected are rejected.
func TestSessionDataVectors(t *testing.T) {
	cases := vectors.Load(t, "session_data")
	counts := map[string]int{}
	for _, c := range cases {
		t.Run(c.Name(), func(t *testing.T) {
			s := settingsFor(t, c)
			codec, err := django.NewCodec(s)
			if err != nil {
				t.Fatal(err)
			}
			if errVal, ok := vectors.Get(c.Expected, "error"); ok {
				// Django refused to encode: a datetime expiry with JSON
				// before 4.1. Our JSON serializer refuses it likewise.
				_ = errVal
				d := py.NewDict(1)
				dt := py.FromTime(time.Date(2024, 2, 29, 13, 45, 30, 0, time.UTC), true, py.UTC)
				d.SetStr(django.ExpiryKey, dt)
				if _, err := codec.Encode(d); err == nil {
					t.Fatal("Django raised; we encoded")
				}
				counts[c.File.Version]++
				return
			}
			if sd := vectors.Str(c.Expected, "session_data"); sd != "" {
				got, err := codec.Decode(sd)
				if err != nil {
					t.Fatalf("Django's session_data rejected: %v", err)
				}
				checkDecoded(t, got, c, "decoded")
				again, err := codec.Encode(got)
				if err != nil {
					t.Fatal(err)
				}
				// Byte-identical, compressed ones included (pyzlib). A
				// pickle may reuse one string object where ours repeats
				// the text (see pickle.Dumps): compressed pickles are
				// compared by value only.
				_, isPickle := s.SessionSerializer.(django.PickleSerializer)
				if again != sd && !(isPickle && strings.HasPrefix(sd, ".")) {
					t.Errorf("encode:\n got %s\nwant %s", again, sd)
				}
				counts[c.File.Version]++
				return
			}
			in := vectors.Str(c.Input, "session_data")
			got, err := codec.Decode(in)
			strictErr := vectors.Str(vectors.Dict(c.Expected, "strict"), "error")
			_, hasDecodeErr := vectors.Get(c.Expected, "decode_error")
			switch {
			case err == nil && (strictErr != "" || hasDecodeErr):
				// Django 3.2 may still read format L although the
				// signed form failed: only accept when it decoded.
				if dec, ok := vectors.Get(c.Expected, "decoded"); !ok || dec.Len() == 0 {
					t.Fatalf("Django rejected (%s); we accepted %s", strictErr, py.DictOf(got).Repr())
				}
				checkDecoded(t, got, c, "decoded")
			case err != nil:
				if dec, _ := vectors.Get(c.Expected, "decoded"); dec.Len() > 0 {
					t.Fatalf("Django decoded %s; we rejected: %v", dec.Repr(), err)
				}
				if !errors.Is(err, django.ErrSuspiciousSession) {
					t.Errorf("rejection must wrap ErrSuspiciousSession: %v", err)
				}
				if d := codec.DecodeOrEmpty(in); d.Len() != 0 {
					t.Error("DecodeOrEmpty must give {}")
				}
			default:
				checkDecoded(t, got, c, "decoded")
			}
			counts[c.File.Version]++
		})
	}
	t.Logf("session_data cases passed per Django version: %v", counts)
	for _, v := range []string{"3.2", "5.2", "6.0"} {
		if counts[v] == 0 {
			t.Errorf("no session_data case ran for Django %s", v)
		}
	}
}

func TestDecodeReasons(t *testing.T) {
	s := django.DefaultSettings("k1")
	codec, _ := django.NewCodec(s)
	d := py.NewDict(1)
	d.SetStr("a", py.Int(1))
	good, err := codec.Encode(d)
	if err != nil {
		t.Fatal(err)
	}
	other, _ := django.NewCodec(django.DefaultSettings("k2"))
	if _, err := other.Decode(good); !errors.Is(err, signing.ErrBadSignature) || !errors.Is(err, django.ErrSuspiciousSession) {
		t.Errorf("wrong key: %v", err)
	}
	if strings.Contains(errString(other.Decode(good)), "k1") {
		t.Error("the error names a secret")
	}
	signer, _ := signing.NewTimestampSigner([]byte("k1"), &signing.Options{Salt: s.KeySalt()})
	notDict := signer.Sign(base64.RawURLEncoding.EncodeToString([]byte(`[1,2]`)))
	if _, err := codec.Decode(notDict); !errors.Is(err, django.ErrNotADict) {
		t.Errorf("list payload: %v", err)
	}
	garbage := signer.Sign("!!!")
	if _, err := codec.Decode(garbage); !errors.Is(err, signing.ErrBadPayload) {
		t.Errorf("garbage payload: %v", err)
	}
	// Format L is refused when asked (Django 4.0+).
	s.WriteLegacyFormat = true
	legacyCodec, _ := django.NewCodec(s)
	legacy, _ := legacyCodec.Encode(d)
	s2 := django.DefaultSettings("k1")
	s2.RefuseLegacyFormat = true
	strict, _ := django.NewCodec(s2)
	if _, err := strict.Decode(legacy); err == nil {
		t.Error("format L read although refused")
	}
	if got, err := codec.Decode(legacy); err != nil || got.Len() != 1 {
		t.Errorf("format L not read by default: %v", err)
	}
}

func errString(_ any, err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
