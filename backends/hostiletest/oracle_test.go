package hostiletest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/djsession/djsession/django/djangotest"
)

// oracleCode runs in Django 3.2 (djangotest.Snippet): for each value, what
// signing.loads under the session and cookie salts (the cookie one with the
// signed_cookies engine's max_age, at the corpus's clock) and the pre-3.1
// decoder (SessionBase._legacy_decode's steps, raising where it returns {})
// make of it: "dict:N" (N keys), "other" (not a dict) or
// "error:Name".
const oracleCode = `
import base64, time
from django.core import signing
from django.contrib.sessions.backends.db import SessionStore
from django.utils.crypto import constant_time_compare
time.time = lambda: 1700000060
out = []
for item in input:
    raw = base64.b64decode(item)
    try:
        v = raw.decode("utf-8")
    except UnicodeDecodeError:
        v = raw.decode("latin-1")
    r = {}
    for mode in ("session", "cookie", "legacy"):
        try:
            if mode == "session":
                x = signing.loads(v, salt="django.contrib.sessions.SessionStore")
            elif mode == "cookie":
                x = signing.loads(v, salt="django.contrib.sessions.backends.signed_cookies", max_age=1209600)
            else:
                # _legacy_decode's steps, raising where it returns {}.
                store = SessionStore()
                mac, sep, data = base64.b64decode(v.encode("ascii")).partition(b":")
                if not sep or not constant_time_compare(mac.decode(), store._hash(data)):
                    raise ValueError("bad hash")
                x = store.serializer().loads(data)
            r[mode] = ("dict:%d" % len(x)) if isinstance(x, dict) else "other"
        except Exception as e:
            r[mode] = "error:" + type(e).__name__
    out.append(r)
result = out
`

// TestCorpusLabelsMatchDjango checks the corpus's expectations for the JSON
// text entries against real Django 3.2: what must be accepted, Django
// reads as a non-empty session, and what must be rejected, Django does
// not. Pickles are never given to Python (it would run them), nor are the
// zlib bombs (Django inflates them whole; the module stops at 8 MiB).
func TestCorpusLabelsMatchDjango(t *testing.T) {
	djangotest.Require(t)
	corpus := loadCorpus(t)
	var entries []loaded
	var input []string
	for _, e := range corpus {
		if e.Kind != "text" || e.serializer() != "json" || strings.Contains(e.Name, "bomb") {
			continue
		}
		entries = append(entries, e)
		input = append(input, base64.StdEncoding.EncodeToString(e.value))
	}
	env := djangotest.Env{"DJANGO_SECRET_KEY": secretKey}
	raw := djangotest.Snippet(t, env, oracleCode, input)
	var results []map[string]string
	if err := json.Unmarshal(raw, &results); err != nil {
		t.Fatalf("Django's answer: %v: %.500s", err, raw)
	}
	if len(results) != len(entries) {
		t.Fatalf("%d answers for %d entries", len(results), len(entries))
	}
	for i, e := range entries {
		for _, mode := range []string{"session", "cookie", "legacy"} {
			got := results[i][mode]
			want := e.want(e.Signed == mode)
			nonEmpty := strings.HasPrefix(got, "dict:") && got != "dict:0"
			switch {
			case want == accept && !nonEmpty:
				t.Errorf("%s as %s: Django says %s, the corpus says accept", e.Name, mode, got)
			case want == reject && got == "dict:0":
				t.Errorf("%s as %s: Django reads an empty dict; label it \"any\"", e.Name, mode)
			case want == reject && nonEmpty:
				t.Errorf("%s as %s: Django reads a session (%s), the corpus says reject", e.Name, mode, got)
			}
		}
	}
	t.Logf("%d entries × 3 decoders checked against Django", len(entries))
}
