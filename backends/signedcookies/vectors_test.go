package signedcookies

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest/vectors"
	"github.com/djsession/djsession/pickle/py"
)

// TestCookieSessionVectors runs every signed_cookies_session case Django
// 3.2, 5.2 and 6.0 wrote: their cookie decodes to what they decoded, is
// refused after SESSION_COOKIE_AGE, and our encoding of the same value at
// the same second is Django's cookie (where zlib did not touch it).
func TestCookieSessionVectors(t *testing.T) {
	counts := map[string]int{}
	for _, c := range vectors.Load(t, "signed_cookies_session") {
		t.Run(c.Name(), func(t *testing.T) {
			key := vectors.Str(c.Settings, "SECRET_KEY")
			s := django.DefaultSettings(key)
			if strings.HasSuffix(vectors.Str(c.Settings, "SESSION_SERIALIZER"), "PickleSerializer") {
				s.SessionSerializer = django.PickleSerializer{}
			}
			if c.File.Version == "3.2" {
				s.LegacySHA1 = true
			}
			if vectors.Str(c.Settings, "DEFAULT_HASHING_ALGORITHM") == "sha1" {
				// Django 3.2 in its transitional mode signs with SHA-1:
				// so do we under WriteLegacyFormat.
				s.WriteLegacyFormat = true
			}
			if age := vectors.Int(c.Settings, "SESSION_COOKIE_AGE"); age != 0 {
				s.SessionCookieAge = int(age)
			}
			ts := vectors.Float(c.Input, "timestamp")
			if ts != ts {
				ts = vectors.Float(c.Input, "now")
			}
			now := time.Unix(int64(ts), 0)
			s.Clock = func() time.Time { return now }
			st, err := New(s)
			if err != nil {
				t.Fatal(err)
			}
			cookie := vectors.Str(c.Expected, "cookie_value")
			if cookie == "" {
				cookie = vectors.Str(c.Input, "cookie_value")
			}
			got, found, err := st.Load(t.Context(), cookie)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := vectors.Get(c.Expected, "decoded")
			if want.Len() == 0 {
				if found && got.Len() > 0 {
					t.Fatalf("Django gave {}, we loaded %s", py.DictOf(got).Repr())
				}
				counts[c.File.Version]++
				return
			}
			if !found {
				t.Fatal("Django's cookie session not loaded")
			}
			a, _ := py.NormalJSON(py.DictOf(got))
			b, _ := py.NormalJSON(want)
			if ok, where := vectors.SameJSON(a, b); !ok {
				t.Fatalf("decoded differs at %s", where)
			}
			{
				// Byte-identical, compressed ones included (pyzlib).
				mine, err := st.Encode(got)
				if err != nil {
					t.Fatal(err)
				}
				if mine != cookie {
					t.Errorf("encode:\n got %s\nwant %s", mine, cookie)
				}
			}
			// Django: loading after SESSION_COOKIE_AGE gives {}.
			if _, ok := vectors.Get(c.Expected, "load_after_cookie_age"); ok {
				later := now.Add(time.Duration(s.SessionCookieAge+1) * time.Second)
				s.Clock = func() time.Time { return later }
				st2, _ := New(s)
				if _, found, _ := st2.Load(t.Context(), cookie); found {
					t.Error("cookie older than SESSION_COOKIE_AGE still loads")
				}
			}
			counts[c.File.Version]++
		})
	}
	t.Logf("signed_cookies_session cases passed per Django version: %v", counts)
	for _, v := range []string{"3.2", "5.2", "6.0"} {
		if counts[v] == 0 {
			t.Errorf("no case ran for Django %s", v)
		}
	}
}

func TestHostileCookies(t *testing.T) {
	s := django.DefaultSettings("k")
	st, _ := New(s)
	d := py.NewDict(1)
	d.SetStr("a", py.Int(1))
	good, _ := st.Encode(d)
	bomb := "." + base64.RawURLEncoding.EncodeToString([]byte{0x78, 0x9c}) + ":1r31eq:x"
	for _, bad := range []string{"", "x", good[:len(good)-1], good + "x", "a:b:c", bomb, strings.Repeat("A", 1<<16) + ":1r31eq:abc"} {
		if _, found, err := st.Load(t.Context(), bad); found || err != nil {
			t.Errorf("Load(%.20q) = %v, %v", bad, found, err)
		}
		if _, err := st.Decode(bad); err == nil {
			t.Errorf("Decode(%.20q) accepted", bad)
		}
	}
}
