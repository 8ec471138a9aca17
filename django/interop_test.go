package django_test

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/pickle/py"
)

// interopCorpus is a set of session dicts covering what sessions hold: the
// JSON ones for both serializers, the rest for pickle only.
func interopCorpus(t *testing.T, pickle bool) []*py.Dict {
	t.Helper()
	var out []*py.Dict
	add := func(kv ...any) {
		d := py.NewDict(len(kv) / 2)
		for i := 0; i+1 < len(kv); i += 2 {
			v, ok := kv[i+1].(py.Value)
			if !ok {
				var err error
				if v, err = py.FromGo(kv[i+1]); err != nil {
					t.Fatal(err)
				}
			}
			d.SetStr(kv[i].(string), v)
		}
		out = append(out, d)
	}
	add()
	add("_auth_user_id", "1", "_auth_user_backend", "django.contrib.auth.backends.ModelBackend",
		"_auth_user_hash", strings.Repeat("ab", 32))
	add("name", "Zoë Ñandú 漢字 🎉", "ctrl", "tab\tnl\n\"q\"\\ \x00 \u2028", "ü-key", "ключ")
	add("float", 0.1+0.2, "neg0", py.Float(-0.0), "big", py.BigInt(new(big.Int).Lsh(big.NewInt(1), 70)), "exp", 1e16)
	add("nested", []any{map[string]any{"a": []any{1, nil, true, false}}, []any{}, map[string]any{}})
	add("blob", strings.Repeat("lorem ipsum dolor sit amet ", 200)) // compressed
	add("_session_expiry", 300, "cart", []any{1, 2})
	add("_session_expiry", 0)
	add("_session_expiry", "2024-02-29T13:45:30.123456+00:00")
	if pickle {
		dt, _ := py.NewDateTime(py.DateTime{Year: 2024, Month: 2, Day: 29, Hour: 13, Minute: 45, Second: 30, Microsecond: 5, TZ: py.PytzUTC})
		naive, _ := py.NewDateTime(py.DateTime{Year: 1999, Month: 12, Day: 31, Hour: 23, Minute: 59, Second: 59})
		dec, _ := py.ParseDecimal("-1.50E+3")
		td, _ := py.NewTimeDelta(-1, 5, 7)
		fs, _ := py.NewFrozenSet(py.Str("only"))
		date, _ := py.NewDate(py.Date{Year: 2024, Month: 2, Day: 29})
		add("_session_expiry", dt, "naive", naive, "dec", dec, "td", td, "tuple", py.NewTuple(py.Int(1), py.Str("x")),
			"bytes", py.Bytes([]byte{0, 1, 255}), "fs", fs, "date", date,
			"uuid", py.UUID([16]byte{0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78, 0x12, 0x34, 0x56, 0x78}))
	}
	return out
}

// TestDjangoDecodesOurSessionData: every session_data we encode — current
// format, compressed or not, legacy format L, JSON and pickle — is decoded
// by Django 3.2's own SessionStore().decode() to the value we encoded
// (compared by Python repr).
func TestDjangoDecodesOurSessionData(t *testing.T) {
	djangotest.Require(t)
	const secret = "django-insecure-interop-key-0123456789"
	for _, serializer := range []string{"json", "pickle"} {
		for _, legacy := range []bool{false, true} {
			name := serializer
			if legacy {
				name += "/format-L"
			}
			t.Run(name, func(t *testing.T) {
				s := django.DefaultSettings(secret)
				s.WriteLegacyFormat = legacy
				env := djangotest.Env{"DJANGO_SECRET_KEY": secret}
				if serializer == "pickle" {
					s.SessionSerializer = django.PickleSerializer{}
					env["SESSION_SERIALIZER"] = "django.contrib.sessions.serializers.PickleSerializer"
				}
				now := time.Unix(1700000000, 0)
				s.Clock = func() time.Time { return now }
				codec, err := django.NewCodec(s)
				if err != nil {
					t.Fatal(err)
				}
				corpus := interopCorpus(t, serializer == "pickle")
				var data, reprs []string
				for _, d := range corpus {
					sd, err := codec.Encode(d)
					if err != nil {
						t.Fatal(err)
					}
					if legacy == strings.Contains(sd, ":1r31eq:") {
						t.Fatalf("wrong format written: %.40s", sd)
					}
					data = append(data, sd)
					reprs = append(reprs, py.DictOf(d).Repr())
				}
				raw := djangotest.Snippet(t, env, `
from django.contrib.sessions.backends.db import SessionStore
result = [repr(SessionStore().decode(sd)) for sd in input["data"]]
`, map[string]any{"data": data})
				var got []string
				if err := json.Unmarshal(raw, &got); err != nil {
					t.Fatalf("%v: %s", err, raw)
				}
				if len(got) != len(reprs) {
					t.Fatalf("Django returned %d values for %d", len(got), len(reprs))
				}
				for i := range got {
					if got[i] != reprs[i] {
						t.Errorf("value %d:\nDjango %s\n    we %s", i, got[i], reprs[i])
					}
				}
			})
		}
	}
}
