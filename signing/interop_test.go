package signing

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// TestDjangoInterop has the real Django 3.2 (/usr/bin/python3) read what we
// write, in one Python process: Signer and TimestampSigner values (with a
// real clock and max_age), dumps with and without compression, signed
// cookies in the legacy salt Django 3.2 reads, salted_hmac under every
// algorithm, and b64_decode on odd inputs.
func TestDjangoInterop(t *testing.T) {
	requirePython(t)
	key := []byte("interop-secret-key-\u00e9-0123456789")
	type check struct {
		name string
		op   djangoOp
		// exactly one of:
		text  string // expected text result
		json  string // expected object, as Django's JSON
		error string // expected exception class
	}
	var checks []check
	add := func(c check) { checks = append(checks, c) }
	opFor := func(op, class, token string, opts *Options) djangoOp {
		o := djangoOp{Op: op, Class: class, Token: token, KeyB64: b64key(key)}
		if opts != nil {
			if opts.Salt != "" {
				o.Salt = strPtr(opts.Salt)
			}
			o.Sep, o.Algorithm = opts.Sep, opts.Algorithm
		}
		return o
	}

	// Signer, default and custom settings, every algorithm.
	for _, opts := range []*Options{nil, {Salt: "my-salt", Sep: "/"}, {Sep: "*sep*", Salt: "s\u00e4lz"}} {
		s, err := NewSigner(key, opts)
		if err != nil {
			t.Fatal(err)
		}
		add(check{name: fmt.Sprintf("Signer %+v", opts), op: opFor("unsign", "Signer", s.Sign("h\u00e9llo:world"), opts), text: "h\u00e9llo:world"})
	}
	for _, alg := range Algorithms() {
		opts := &Options{Algorithm: alg}
		s, _ := NewSigner(key, opts)
		add(check{name: "Signer " + alg, op: opFor("unsign", "Signer", s.Sign("value"), opts), text: "value"})
		// salted_hmac directly.
		mac, _ := SaltedHMAC("key-salt", []byte("the value"), key, alg)
		add(check{name: "salted_hmac " + alg,
			op:   djangoOp{Op: "salted_hmac", KeyB64: b64key(key), Salt: strPtr("key-salt"), Value: "the value", Algorithm: alg},
			text: hex.EncodeToString(mac)})
	}
	// A SHA-1 token (what Django ≤3.0 wrote) is accepted by 3.2's sha256
	// Signer through legacy_algorithm.
	sha1Signer, _ := NewSigner(key, &Options{Algorithm: "sha1"})
	add(check{name: "sha1 token, 3.2 legacy", op: opFor("unsign", "Signer", sha1Signer.Sign("old"), nil), text: "old"})

	// dumps / loads, with and without compression.
	small := sessionDict("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef")
	large := largeDict()
	for _, tc := range []struct {
		name     string
		obj      py.Value
		compress bool
	}{{"small", small, false}, {"small compressed", small, true}, {"large", large, false}, {"large compressed", large, true}} {
		tok, err := Dumps(tc.obj, key, tc.compress, nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.name == "large compressed" && !strings.HasPrefix(tok, ".") {
			t.Fatalf("large dict not compressed: %.40q", tok)
		}
		add(check{name: "loads " + tc.name, op: djangoOp{Op: "loads", Token: tok, KeyB64: b64key(key)}, json: jsonOf(t, tc.obj)})
		add(check{name: "loads max_age " + tc.name, op: djangoOp{Op: "loads", Token: tok, KeyB64: b64key(key), MaxAge: int64Ptr(60)}, json: jsonOf(t, tc.obj)})
	}

	// TimestampSigner with max_age against Django's real clock.
	fresh := mustKeyOnly(t, key, nil)
	old := mustKeyOnly(t, key, func() time.Time { return time.Now().Add(-time.Hour) })
	add(check{name: "timestamp fresh", op: withMaxAge(opFor("unsign", "TimestampSigner", fresh.Sign("v"), nil), 60), text: "v"})
	add(check{name: "timestamp expired", op: withMaxAge(opFor("unsign", "TimestampSigner", old.Sign("v"), nil), 60), error: "SignatureExpired"})
	add(check{name: "timestamp old, no max_age", op: opFor("unsign", "TimestampSigner", old.Sign("v"), nil), text: "v"})
	objTok, _ := fresh.SignObject(large, true)
	add(check{name: "timestamp sign_object compressed", op: withMaxAge(opFor("unsign_object", "TimestampSigner", objTok, nil), 60), json: jsonOf(t, large)})
	plainObj, _ := NewSigner(key, nil)
	objTok2, _ := plainObj.SignObject(small, true)
	add(check{name: "signer sign_object", op: opFor("unsign_object", "Signer", objTok2, nil), json: jsonOf(t, small)})

	// Signed cookies: Django 3.2 reads the legacy salt only.
	for _, salt := range []string{"", "pepper", "s\u00e4lz"} {
		cs, _ := NewCookieSigner(key, &CookieOptions{LegacySalt: true})
		op := djangoOp{Op: "get_signed_cookie", Name: "color", Token: cs.Sign("color", "blue \u00e9", salt), KeyB64: b64key(key), Salt: strPtr(salt)}
		add(check{name: "cookie legacy " + salt, op: op, text: "blue \u00e9"})
		op.MaxAge = int64Ptr(60)
		add(check{name: "cookie legacy max_age " + salt, op: op, text: "blue \u00e9"})
	}
	cs, _ := NewCookieSigner(key, nil)
	add(check{name: "cookie v2 unknown to 3.2", op: djangoOp{Op: "get_signed_cookie", Name: "color", Token: cs.Sign("color", "blue", ""), KeyB64: b64key(key), Salt: strPtr("")}, error: "BadSignature"})

	// b64_decode on the inputs of TestB64DecodePython.
	for _, c := range b64Cases {
		want := check{name: fmt.Sprintf("b64_decode %q", c.in), op: djangoOp{Op: "b64_decode", Value: c.in}}
		if c.ok {
			want.text = base64.StdEncoding.EncodeToString([]byte(c.want))
		} else {
			want.error = "Error" // binascii.Error
		}
		add(want)
	}

	ops := make([]djangoOp, len(checks))
	for i, c := range checks {
		ops[i] = c.op
	}
	res := runDjango(t, ops)
	for i, c := range checks {
		r := res[i]
		switch {
		case c.error != "":
			if r.Error != c.error {
				t.Errorf("%s: Django returned %.200v, want %s", c.name, r, c.error)
			}
		case c.json != "":
			if r.Error != "" || r.JSON != c.json {
				t.Errorf("%s: Django returned %.200v, want %.200s", c.name, r, c.json)
			}
		default:
			if r.Error != "" || r.Text != c.text {
				t.Errorf("%s: Django returned %.200v, want %.200s", c.name, r, c.text)
			}
		}
	}
	t.Logf("Django 3.2 checked %d values of ours", len(checks))
}

func withMaxAge(op djangoOp, secs int64) djangoOp {
	op.MaxAge = int64Ptr(secs)
	return op
}

func mustKeyOnly(t *testing.T, key []byte, clock Clock) *TimestampSigner {
	s, err := NewTimestampSigner(key, &Options{Clock: clock})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sessionDict is a typical logged-in session (~200 bytes of JSON).
func sessionDict(hash string) py.Value {
	d := py.NewDict(4)
	d.SetStr("_auth_user_id", py.Str("1"))
	d.SetStr("_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"))
	d.SetStr("_auth_user_hash", py.Str(hash))
	d.SetStr("_language", py.Str("en"))
	return py.DictOf(d)
}

// largeDict is a ~3 KB compressible session-like dict.
func largeDict() py.Value {
	d := py.NewDict(40)
	d.SetStr("_auth_user_id", py.Str("42"))
	d.SetStr("_auth_user_backend", py.Str("django.contrib.auth.backends.ModelBackend"))
	d.SetStr("_auth_user_hash", py.Str("9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"))
	items := make([]py.Value, 0, 30)
	for i := 0; i < 30; i++ {
		it := py.NewDict(4)
		it.SetStr("sku", py.Str(fmt.Sprintf("SKU-%04d", i)))
		it.SetStr("qty", py.Int(int64(i%5+1)))
		it.SetStr("price", py.Float(float64(i)*1.25+0.99))
		it.SetStr("title", py.Str(fmt.Sprintf("Product n\u00b0%d \u2013 deluxe edition", i)))
		items = append(items, py.DictOf(it))
	}
	d.SetStr("cart", py.NewList(items...))
	d.SetStr("_messages", py.Str(strings.Repeat("[\"__json_message\",0,25,\"Saved.\"],", 8)))
	return py.DictOf(d)
}
