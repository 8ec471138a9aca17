package signedcookies

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/django/djangotest/vectors"
	"github.com/djsession/djsession/pickle/py"
)

// TestInteropWithDjango: cookie sessions Django 3.2 makes load here, and
// cookies we make load in Django (JSON and pickle serializers).
func TestInteropWithDjango(t *testing.T) {
	djangotest.Require(t)
	const secret = "django-insecure-cookie-interop-0123456789"
	// json-sha1: Django 3.2 with DEFAULT_HASHING_ALGORITHM = "sha1", which
	// signs with SHA-1 and accepts nothing else; we write for it under
	// WriteLegacyFormat.
	for _, ser := range []string{"json", "pickle", "json-sha1"} {
		t.Run(ser, func(t *testing.T) {
			env := djangotest.Env{"DJANGO_SECRET_KEY": secret, "SESSION_ENGINE": "django.contrib.sessions.backends.signed_cookies"}
			s := django.DefaultSettings(secret)
			s.LegacySHA1 = true
			if ser == "json-sha1" {
				env["DEFAULT_HASHING_ALGORITHM"] = "sha1"
				s.LegacySHA1 = false // WriteLegacyFormat reads SHA-1 by itself
				s.WriteLegacyFormat = true
			}
			if ser == "pickle" {
				env["SESSION_SERIALIZER"] = "django.contrib.sessions.serializers.PickleSerializer"
				s.SessionSerializer = django.PickleSerializer{}
			}
			st, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			res := djangotest.MustBatch(t, env,
				djangotest.Op{Name: "write", Params: map[string]any{"data": map[string]any{"a": 1, "ü": "ключ"}}},
				djangotest.Op{Name: "write", Params: map[string]any{"data": map[string]any{"long": []any{"x", "y", "x", "y", "x", "y", "x", "y", "x", "y", "x", "y", "x", "y"}}}},
			)
			for i, r := range res {
				var out struct {
					SessionKey string          `json:"session_key"`
					Data       json.RawMessage `json:"data"`
				}
				if err := r.Decode(&out); err != nil {
					t.Fatal(err)
				}
				d, found, err := st.Load(context.Background(), out.SessionKey)
				if err != nil || !found {
					t.Fatalf("Django's cookie %d not loaded: %v", i, err)
				}
				mine, _ := py.NormalJSON(py.DictOf(d))
				if ok, where := vectors.SameJSON(mine, out.Data); !ok {
					t.Errorf("cookie %d differs at %s", i, where)
				}
			}
			sess := django.NewSession(context.Background(), st, s, "")
			sess.Set("from", py.Str("go ✓"))
			sess.Set("list", py.NewList(py.Int(1), py.Str("two"), py.Str("two"), py.Str("two"), py.Str("two"), py.Str("two")))
			if err := sess.Save(false); err != nil {
				t.Fatal(err)
			}
			want, _ := py.NormalJSON(py.DictOf(sess.Data()))
			r := djangotest.MustBatch(t, env, djangotest.Op{Name: "read", Params: map[string]any{"session_key": sess.SessionKey()}})
			var out struct {
				Data     json.RawMessage `json:"data"`
				Survived bool            `json:"survived"`
			}
			if err := r[0].Decode(&out); err != nil {
				t.Fatal(err)
			}
			if !out.Survived {
				t.Fatal("Django rejected our cookie session")
			}
			if ok, where := vectors.SameJSON(out.Data, want); !ok {
				t.Errorf("Django read our cookie differently at %s", where)
			}
		})
	}
}
