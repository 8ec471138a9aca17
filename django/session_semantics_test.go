package django_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/djsession/djsession/backends/file"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/djangotest"
	"github.com/djsession/djsession/pickle/py"
)

// sessionOpsCases are sequences of SessionBase operations, each run on a
// fresh session object for a stored session holding testcookie="worked"
// and x=1 (or on a new, keyless one).
var sessionOpsCases = []struct {
	Name   string   `json:"name"`
	Stored bool     `json:"stored"`
	Ops    []string `json:"ops"`
}{
	{"nothing", true, nil},
	{"test_cookie_worked", true, []string{"test_cookie_worked"}},
	{"test_cookie_worked without it", false, []string{"test_cookie_worked"}},
	{"delete_test_cookie", true, []string{"delete_test_cookie", "test_cookie_worked"}},
	{"set_test_cookie", false, []string{"set_test_cookie", "test_cookie_worked"}},
	{"pop of a missing key", true, []string{"pop:nope"}},
	{"pop of a present key", true, []string{"pop:x"}},
	{"clear", true, []string{"clear"}},
	{"clear of a new session", false, []string{"clear"}},
}

// djangoSessionOps runs sessionOpsCases with Django 3.2's SessionStore:
// after each sequence, the last result, accessed, modified, whether the
// key is kept and the keys left.
const djangoSessionOps = `
def apply(s, op):
    if op.startswith("pop:"):
        return s.pop(op[4:], None) is not None
    return getattr(s, op)()

out = []
for case in input["cases"]:
    s = session_store(input["key"] if case["stored"] else None)
    res, err = None, None
    for op in case["ops"] or []:
        try:
            res = apply(s, op)
        except Exception as e:
            err = type(e).__name__
    flags = {"accessed": s.accessed, "modified": s.modified}
    out.append(dict(flags, result=res, error=err, key_kept=(s.session_key == (input["key"] if case["stored"] else None)),
                    keys=sorted(s.keys())))
result = out
`

type sessionOpsResult struct {
	Accessed bool     `json:"accessed"`
	Modified bool     `json:"modified"`
	Result   *bool    `json:"result"`
	Error    *string  `json:"error"`
	KeyKept  bool     `json:"key_kept"`
	Keys     []string `json:"keys"`
}

func goSessionOps(t *testing.T, st django.Store, s *django.Settings, key string, stored bool, ops []string) sessionOpsResult {
	t.Helper()
	k := ""
	if stored {
		k = key
	}
	sess := django.NewSession(t.Context(), st, s, k)
	var res *bool
	for _, op := range ops {
		var r *bool
		switch {
		case op == "set_test_cookie":
			sess.SetTestCookie()
		case op == "test_cookie_worked":
			b := sess.TestCookieWorked()
			r = &b
		case op == "delete_test_cookie":
			sess.DeleteTestCookie()
		case op == "clear":
			sess.Clear()
		case strings.HasPrefix(op, "pop:"):
			b := sess.Delete(op[4:])
			r = &b
		default:
			t.Fatalf("unknown op %s", op)
		}
		res = r
	}
	out := sessionOpsResult{Accessed: sess.Accessed(), Modified: sess.Modified(), Result: res, KeyKept: sess.SessionKey() == k}
	out.Keys = sess.Keys()
	sort.Strings(out.Keys) // Django's are sorted too
	return out
}

// TestSessionFlagsAsDjango: set_test_cookie, test_cookie_worked,
// delete_test_cookie, pop (our Delete) and clear leave accessed, modified,
// the key and the data as Django 3.2's SessionBase leaves them (spec §3.3):
// a pop of a missing key does not set modified, clear() sets accessed and
// modified and keeps the key.
func TestSessionFlagsAsDjango(t *testing.T) {
	djangotest.Require(t)
	const secret = "django-insecure-session-flags-0123456789"
	dir := t.TempDir()
	env := djangotest.Env{"DJANGO_SECRET_KEY": secret, "SESSION_ENGINE": "file", "SESSION_FILE_PATH": dir}
	w := djangotest.Run(t, env, "write", map[string]any{"data": map[string]any{"testcookie": "worked", "x": 1}})
	var written struct {
		SessionKey string `json:"session_key"`
	}
	if err := w.Decode(&written); err != nil {
		t.Fatal(err)
	}
	raw := djangotest.Snippet(t, env, djangoSessionOps, map[string]any{"key": written.SessionKey, "cases": sessionOpsCases})
	var theirs []sessionOpsResult
	if err := json.Unmarshal(raw, &theirs); err != nil || len(theirs) != len(sessionOpsCases) {
		t.Fatalf("%v: %s", err, raw)
	}
	s := django.DefaultSettings(secret)
	s.SessionFilePath = dir
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range sessionOpsCases {
		t.Run(c.Name, func(t *testing.T) {
			ours := goSessionOps(t, st, s, written.SessionKey, c.Stored, c.Ops)
			d := theirs[i]
			if d.Error != nil {
				t.Fatalf("Django raised %s", *d.Error)
			}
			o, _ := json.Marshal(ours)
			dj, _ := json.Marshal(d)
			if string(o) != string(dj) {
				t.Errorf("\n    we %s\nDjango %s", o, dj)
			}
		})
	}
}

// TestDeleteTestCookieWhenAbsent: Django's delete_test_cookie() is
// `del session["testcookie"]`, a KeyError when the value is not there; ours
// is lenient, as pop(key, None): nothing happens and modified stays false.
func TestDeleteTestCookieWhenAbsent(t *testing.T) {
	s := django.DefaultSettings("k")
	s.SessionFilePath = t.TempDir()
	st, err := file.New(s)
	if err != nil {
		t.Fatal(err)
	}
	sess := django.NewSession(t.Context(), st, s, "")
	sess.DeleteTestCookie()
	if sess.Modified() || !sess.Accessed() {
		t.Errorf("modified %v accessed %v", sess.Modified(), sess.Accessed())
	}
}

// TestSameSiteSettingAnyCase: SESSION_COOKIE_SAMESITE is compared
// lower-cased, as Django's set_cookie compares it, so "none", "LAX" and
// "sTrIcT" are valid; anything else is refused, including a dotted capital
// I, which Python's lower() does not fold to "i".
func TestSameSiteSettingAnyCase(t *testing.T) {
	for v, ok := range map[string]bool{
		"": true, "Lax": true, "lax": true, "LAX": true, "Strict": true, "sTrIcT": true, "None": true, "none": true, "NONE": true,
		"bogus": false, "Lax ": false, "false": false, "STR\u0130CT": false, "strict; Secure": false,
	} {
		s := django.DefaultSettings("k")
		s.SessionCookieSameSite = v
		if err := s.Validate(); (err == nil) != ok {
			t.Errorf("SESSION_COOKIE_SAMESITE=%q: %v, want valid %v", v, err, ok)
		}
		if mode, valid := s.SameSiteMode(); valid != ok || (ok && mode != strings.ToLower(v)) {
			t.Errorf("SameSiteMode(%q) = %q, %v", v, mode, valid)
		}
	}
}

// TestCookieSettingsValidate: a SESSION_COOKIE_NAME with a character
// Python's http.cookies refuses (Django raises CookieError at response
// time), and a DOMAIN or PATH that would split the Set-Cookie header, are
// configuration errors; ':' and the other legal punctuation are fine.
func TestCookieSettingsValidate(t *testing.T) {
	cases := []struct {
		name, domain, path string
		ok                 bool
	}{
		{"sessionid", "", "/", true},
		{"my:session", ".example.com", "/app", true},
		{"a!#$%&'*+-.^_`|~z", "", "/", true},
		{"sess id", "", "/", false},
		{"a/b", "", "/", false},
		{"../x", "", "/", false},
		{"sess;id", "", "/", false},
		{"séance", "", "/", false},
		{"sessionid", "a;b", "/", false},
		{"sessionid", "", "/\n", false},
		{"sessionid", "", "/ünï", false},
	}
	for _, c := range cases {
		s := django.DefaultSettings("k")
		s.SessionCookieName, s.SessionCookieDomain, s.SessionCookiePath = c.name, c.domain, c.path
		err := s.Validate()
		if (err == nil) != c.ok {
			t.Errorf("name %q domain %q path %q: %v, want valid %v", c.name, c.domain, c.path, err, c.ok)
		}
		if err != nil && !errors.Is(err, django.ErrImproperlyConfigured) {
			t.Errorf("%q: %v does not wrap ErrImproperlyConfigured", c.name, err)
		}
	}
}

// customStores is a module with SessionStore subclasses whose names differ
// from "SessionStore", which changes both session_data salts (spec §3.5).
const customStores = `from django.contrib.sessions.backends.db import SessionStore as DBStore


class MyStore(DBStore):
    pass


class Outer:
    class Inner(DBStore):
        pass
`

// djangoCustomStores encodes each dict with each class, decodes the
// strings given, and reports each class's key_salt.
const djangoCustomStores = `
import sys
sys.path.insert(0, input["dir"])
import mystores
from django.contrib.sessions.backends.db import SessionStore
classes = {"MyStore": mystores.MyStore, "Outer.Inner": mystores.Outer.Inner, "SessionStore": SessionStore}
result = {
    name: {
        "key_salt": cls().key_salt,
        "encoded": [cls().encode(d) for d in input["dicts"]],
        "decoded": [repr(cls().decode(sd)) for sd in input["ours"][name]],
    }
    for name, cls in classes.items()
}
`

// TestCustomSessionStoreClassWithDjango: Django 3.2 encodes with
// `class MyStore(db.SessionStore)` (and a nested class) in a module, and
// our codec with SessionStoreClass set to the class's __qualname__ decodes
// it — in the current format and in the pre-3.1 one
// (DEFAULT_HASHING_ALGORITHM="sha1") — and Django's class decodes ours;
// the default class's codec does not accept the subclass's data.
func TestCustomSessionStoreClassWithDjango(t *testing.T) {
	djangotest.Require(t)
	const secret = "django-insecure-custom-store-0123456789"
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mystores.py"), []byte(customStores), 0o644); err != nil {
		t.Fatal(err)
	}
	dicts := []*py.Dict{py.NewDict(0), py.NewDict(2)}
	dicts[1].SetStr("cart", py.NewList(py.Int(1), py.Str("ü")))
	dicts[1].SetStr(django.AuthUserIDKey, py.Str("7"))
	var jsonDicts []any
	for _, d := range dicts {
		b, _ := py.NormalJSON(py.DictOf(d))
		jsonDicts = append(jsonDicts, json.RawMessage(b))
	}
	classes := []string{"MyStore", "Outer.Inner", "SessionStore"}
	for _, legacy := range []bool{false, true} {
		t.Run(fmt.Sprintf("legacy-format=%v", legacy), func(t *testing.T) {
			env := djangotest.Env{"DJANGO_SECRET_KEY": secret}
			if legacy {
				env["DEFAULT_HASHING_ALGORITHM"] = "sha1"
			}
			codecs := map[string]*django.Codec{}
			settings := map[string]*django.Settings{}
			ours := map[string][]string{}
			for _, class := range classes {
				s := django.DefaultSettings(secret)
				s.SessionStoreClass = class
				s.WriteLegacyFormat = legacy
				c, err := django.NewCodec(s)
				if err != nil {
					t.Fatal(err)
				}
				codecs[class], settings[class] = c, s
				for _, d := range dicts {
					sd, err := c.Encode(d)
					if err != nil {
						t.Fatal(err)
					}
					ours[class] = append(ours[class], sd)
				}
			}
			raw := djangotest.Snippet(t, env, djangoCustomStores, map[string]any{"dir": dir, "dicts": jsonDicts, "ours": ours})
			var theirs map[string]struct {
				KeySalt string   `json:"key_salt"`
				Encoded []string `json:"encoded"`
				Decoded []string `json:"decoded"`
			}
			if err := json.Unmarshal(raw, &theirs); err != nil {
				t.Fatalf("%v: %s", err, raw)
			}
			for _, class := range classes {
				dj := theirs[class]
				if got := settings[class].KeySalt(); got != dj.KeySalt {
					t.Errorf("%s: key salt %q, Django %q", class, got, dj.KeySalt)
				}
				for i, d := range dicts {
					want := py.DictOf(d).Repr()
					if dj.Decoded[i] != want {
						t.Errorf("%s: Django decoded our %.30s… as %s, want %s", class, ours[class][i], dj.Decoded[i], want)
					}
					got, err := codecs[class].Decode(dj.Encoded[i])
					if err != nil {
						t.Errorf("%s: Django's %.30s… not decoded: %v", class, dj.Encoded[i], err)
						continue
					}
					if r := py.DictOf(got).Repr(); r != want {
						t.Errorf("%s: decoded %s, want %s", class, r, want)
					}
					if class != "SessionStore" {
						if _, err := codecs["SessionStore"].Decode(dj.Encoded[i]); err == nil {
							t.Errorf("%s: the default class's codec accepted the subclass's data", class)
						}
					}
				}
			}
		})
	}
}
