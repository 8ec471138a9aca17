package signing

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Tests of QuoteCookieValue, ParseCookieHeader and CookieHeaderValue:
// fixed cases, the vectors' coded_value and set_cookie_header, Python's
// SimpleCookie and Django 3.2's request.COOKIES as oracles on thousands of
// generated values and headers, and signed cookies carried both ways
// through real Set-Cookie and Cookie headers.

func TestQuoteCookieValueCases(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"", `""`},
		{"abc", "abc"},
		{"blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-E", "blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-E"},
		{"!#$%&'*+-.^_`|~:", "!#$%&'*+-.^_`|~:"},
		{"a b", `"a b"`},
		{"()/<=>?@[]{}", `"()/<=>?@[]{}"`},
		{`hello world; "x"`, `"hello world\073 \"x\""`},
		{`back\slash`, `"back\\slash"`},
		{"a,b", `"a\054b"`},
		{"\x00\t\n\r\x1f\x7f", `"\000\011\012\015\037\177"`},
		{"Zo\u00eb \u2713", "\"Zo\\353 \u2713\""},
		{"\u00ff\u0100", "\"\\377\u0100\""},
		{"\U0001F511", "\"\U0001F511\""},
		{"\xff", "\"\uFFFD\""},                     // ill-formed: one U+FFFD
		{"a\xe2\x82b", "\"a\uFFFDb\""},             // truncated 3-byte sequence: one U+FFFD, as Python
		{"\xed\xa0\x80", "\"\uFFFD\uFFFD\uFFFD\""}, // encoded surrogate: three
	} {
		if got := QuoteCookieValue(c.in); got != c.want {
			t.Errorf("QuoteCookieValue(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseCookieHeaderCases(t *testing.T) {
	for _, c := range []struct {
		in   string
		want map[string]string
	}{
		{"", map[string]string{}},
		{"a=1; b=2", map[string]string{"a": "1", "b": "2"}},
		{"a=1;b=2;a=3", map[string]string{"a": "3", "b": "2"}},
		{" ; ;; = ;", map[string]string{}},
		{"lonely", map[string]string{"": "lonely"}},
		{"=x; y", map[string]string{"": "y"}},
		{"a==b=", map[string]string{"a": "=b="}},
		{" a b = c d ", map[string]string{"a b": "c d"}},
		{"\x1ca=1\x1f\u3000", map[string]string{"a": "1"}},
		{`a="b c"`, map[string]string{"a": "b c"}},
		{`a=" b "`, map[string]string{"a": " b "}},
		{`a="`, map[string]string{"a": `"`}},
		{`a=""`, map[string]string{"a": ""}},
		{`a="x`, map[string]string{"a": `"x`}},
		{`a=x"`, map[string]string{"a": `x"`}},
		{`a="x"y"`, map[string]string{"a": `x"y`}},
		{`a="\"\\\x"`, map[string]string{"a": `"\x`}},
		{`a="\"\\\;"`, map[string]string{"a": `"\"\\\`, "": `"`}}, // ';' splits even inside quotes
		{`a="\9"`, map[string]string{"a": "9"}},
		{`a="\0777"`, map[string]string{"a": "?7"}},
		{`a="\400"`, map[string]string{"a": "400"}},
		{`a="\377\351"`, map[string]string{"a": "\u00ff\u00e9"}},
		{`a="\000"`, map[string]string{"a": "\x00"}},
		{`a="\07"`, map[string]string{"a": "07"}},
		{`a="x\"`, map[string]string{"a": `x\`}}, // trailing backslash kept
		{`a="\"`, map[string]string{"a": `\`}},
		{"a=\"x\\\n\"", map[string]string{"a": "x\\\n"}},
		{"a=\"x\\\\\"", map[string]string{"a": `x\`}},
		{"a=\"\\\u00e9\"", map[string]string{"a": "\u00e9"}},
		{"a=\xff", map[string]string{"a": "\uFFFD"}},
		{"a=\"\\\xff\"", map[string]string{"a": "\uFFFD"}},
		{`color="hello world\073 \"x\":1r31eq:rWG0LDfKMldLxDmCXUvIYCaTOavgLPzAOMtHIzDjb38"`,
			map[string]string{"color": `hello world; "x":1r31eq:rWG0LDfKMldLxDmCXUvIYCaTOavgLPzAOMtHIzDjb38`}},
	} {
		got := ParseCookieHeader(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("ParseCookieHeader(%q) = %q, want %q", c.in, got, c.want)
		}
		checkLookupAgrees(t, c.in, got)
	}
}

// checkLookupAgrees checks that CookieHeaderValue answers as the map does,
// for every name in it and for one that is not.
func checkLookupAgrees(t testing.TB, header string, m map[string]string) {
	t.Helper()
	for k, v := range m {
		if got, ok := CookieHeaderValue(header, k); !ok || got != v {
			t.Fatalf("CookieHeaderValue(%.200q, %q) = %q, %v; map has %q", header, k, got, ok, v)
		}
	}
	const absent = "\x00absent\x00"
	_, inMap := m[absent]
	if got, ok := CookieHeaderValue(header, absent); ok != inMap {
		t.Fatalf("CookieHeaderValue(%.200q, absent) = %q, %v", header, got, ok)
	}
}

func TestPyDecodeUTF8(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"abc\u00e9\U0001F511", "abc\u00e9\U0001F511"},
		{"\x80", "\uFFFD"},
		{"\xc0\xaf", "\uFFFD\uFFFD"},
		{"\xe0\x80\x80", "\uFFFD\uFFFD\uFFFD"},
		{"\xe0\xa0", "\uFFFD"},
		{"\xf0\x9f\x94", "\uFFFD"},
		{"\xf0\x9f\x94a", "\uFFFDa"},
		{"\xf4\x90\x80\x80", "\uFFFD\uFFFD\uFFFD\uFFFD"},
		{"\xf4\x8f\xbf", "\uFFFD"},
		{"\xf5\x80", "\uFFFD\uFFFD"},
	} {
		if got := pyDecodeUTF8(c.in); got != c.want {
			t.Errorf("pyDecodeUTF8(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestCookieQuoteVectors checks every signed_cookie vector that carries
// the header form: QuoteCookieValue(cookie_value) is coded_value, the
// Set-Cookie header's name=value pair is name=coded_value, and that pair
// sent back as a Cookie header reads as cookie_value.
func TestCookieQuoteVectors(t *testing.T) {
	n, quoted := 0, 0
	for version, cases := range loadVectors(t) {
		for _, c := range cases {
			if c.Kind != "signed_cookie" || !dhas(c.Expected, "coded_value") {
				continue
			}
			n++
			name := dstr(c.Input, "name")
			value := dstr(c.Expected, "cookie_value")
			coded := dstr(c.Expected, "coded_value")
			id := version + "/" + c.ID
			if got := QuoteCookieValue(value); got != coded {
				t.Errorf("%s: QuoteCookieValue(%q) = %q, want coded_value %q", id, value, got, coded)
			}
			if coded != value {
				quoted++
			}
			header := dstr(c.Expected, "set_cookie_header")
			pair, ok := strings.CutPrefix(header, "Set-Cookie: ")
			if !ok {
				t.Errorf("%s: set_cookie_header %q lacks the Set-Cookie: prefix", id, header)
				continue
			}
			pair, _, _ = strings.Cut(pair, ";") // what a browser keeps and sends back
			if want := name + "=" + QuoteCookieValue(value); pair != want {
				t.Errorf("%s: Set-Cookie pair %q, want %q", id, pair, want)
			}
			if got, ok := CookieHeaderValue(pair, name); !ok || got != value {
				t.Errorf("%s: CookieHeaderValue(%q) = %q, %v, want %q", id, pair, got, ok, value)
			}
			if got := ParseCookieHeader("other=1; " + pair + "; z=\"\\\"\""); got[name] != value {
				t.Errorf("%s: ParseCookieHeader gives %q, want %q", id, got[name], value)
			}
		}
	}
	if n == 0 {
		t.Fatal("no signed_cookie vector with coded_value")
	}
	t.Logf("%d signed_cookie vectors with coded_value, %d of them quoted", n, quoted)
}

// cookieOracleScript answers {"quote": [b64 value], "parse": [b64 header]}
// with {"quote": [SimpleCookie coded_value], "parse": [[[name, value]...]]}.
// A value is bytes decoded as UTF-8 with errors="replace"; a header is
// given to Django 3.2's WSGIRequest as a WSGI server would (its bytes
// decoded as Latin-1), and the answer is request.COOKIES.
const cookieOracleScript = `
import base64, io, json, sys
from django.conf import settings
settings.configure(SECRET_KEY="placeholder-secret-key-for-settings", ALLOWED_HOSTS=["*"])
import django
django.setup()
from http.cookies import SimpleCookie
from django.core.handlers.wsgi import WSGIRequest

def cookies(raw):
    environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO(b""),
               "HTTP_COOKIE": raw.decode("latin-1")}
    return list(WSGIRequest(environ).COOKIES.items())

req = json.load(sys.stdin)
out = {"quote": [], "parse": []}
for b in req["quote"]:
    c = SimpleCookie()
    c["n"] = base64.b64decode(b).decode("utf-8", "replace")
    out["quote"].append(c["n"].coded_value)
for b in req["parse"]:
    out["parse"].append(cookies(base64.b64decode(b)))
json.dump(out, sys.stdout)
`

// runPythonJSON runs script under /usr/bin/python3 with in as JSON on
// stdin and decodes its JSON stdout into out.
func runPythonJSON(t testing.TB, script string, in, out any) {
	t.Helper()
	requirePython(t)
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	cmd := pythonCmd(t, script)
	cmd.Stdin = bytes.NewReader(body)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("python: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(stdout, out); err != nil {
		t.Fatalf("python output: %v\n%.500s", err, stdout)
	}
}

// cookieTestValues returns the values the oracle test quotes: every code
// point and every byte below 256, then random strings over alphabets rich
// in what needs quoting.
func cookieTestValues(rng *rand.Rand) []string {
	var vals []string
	for i := 0; i < 256; i++ {
		vals = append(vals, string(rune(i)), string([]byte{byte(i)}), "x"+string(rune(i))+"y")
	}
	vals = append(vals, "", " ", `"`, `\`, ";", ",", "=", `\"`, `\\`, `\012`, `"quoted"`,
		"a b", " lead", "trail ", "semi;colon", "comma,comma", "back\\slash", "tab\tnl\nnul\x00",
		"Zo\u00eb \u2713", "\u65e5\u672c\u8a9e \U0001F511", "\u3000\u00a0\x1c", "\ufeff\u2028",
		"\xe2\x82", "\xf0\x9f\x94a", "\xed\xa0\x80", "\xc0\xaf", strings.Repeat("\u00e9;", 2000))
	pools := []string{
		"abcXYZ019!#$%&'*+-.^_`|~:",
		" \"\\;,=()/<>?@[]{}\t\n\r\x00\x1c\x7f",
		"\u0080\u0085\u00a0\u00e9\u00ff\u0100\u2028\u3000\uffff\U0001F511\U0010FFFF",
		"0123\\\"7",
	}
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		n := rng.Intn(24)
		for j := 0; j < n; j++ {
			switch k := rng.Intn(10); {
			case k < 8:
				p := []rune(pools[rng.Intn(len(pools))])
				b.WriteRune(p[rng.Intn(len(p))])
			case k == 8:
				b.WriteRune(rune(rng.Intn(0x110000)))
			default:
				b.WriteByte(byte(rng.Intn(256))) // often ill-formed UTF-8
			}
		}
		vals = append(vals, b.String())
	}
	return vals
}

// cookieTestHeaders returns the Cookie headers the oracle test parses.
func cookieTestHeaders(rng *rand.Rand, vals []string) []string {
	hs := []string{
		"", ";", ";;;", "=", "==", " = ", "a", "a;b", "=x", "x=", "a=1; a=2; a=3", "a=1;A=2",
		`a="unbalanced`, `a=unbalanced"`, `a="`, `a=""`, `a="""`, `a=" "`, `a= " x " `,
		`a="\9"`, `a="\0777"`, `a="\400"`, `a="\38"`, `a="\3777"`, `a="\0"`, `a="\00"`, `a="\000"`,
		`a="x\"`, `a="\"`, `a="\\"`, `a="\\\"`, "a=\"\\\n\"", "a=\"\\\r\"", "a=\"x\\\n\\n\"",
		`a="\"; b="x"`, `a="b;c"`, `a="b=c"; d`, "a=\x00", "\x00=\x00", "a=\xff", "a=\"\\\xff\"",
		"a=\"\xe2\x82\"", "\xe2\x82=\xf0\x9f", "\x1ca=b\x1c", "\u3000a\u3000=\u3000b\u3000",
		"\u0085a=b\u00a0", "\u200ba=b", "a=b\x1f; c=d\x0b", "\ta\t=\t\"b\"\t", "a=\"b\"\t ",
		"sessionid=abc; csrftoken=def; messages=\"a\\054b\"",
		strings.Repeat("x", 100000),
		"a=\"" + strings.Repeat(`\0`, 50000) + "\"",
		"a=\"" + strings.Repeat(`\\`, 50000) + "\"",
		strings.Repeat("a=\"\\", 20000),
	}
	var many strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&many, "c%d=%s; ", i%3000, QuoteCookieValue(fmt.Sprintf("v %d;\"\u00e9", i)))
	}
	hs = append(hs, many.String())
	// What str.strip() removes: every code point up to U+3100 (all of
	// Python's whitespace) and a few look-alikes, around name and value.
	strip := func(r rune) {
		s := string(r)
		hs = append(hs, s+"a"+s+"="+s+"b"+s, s+"\"c\""+s)
	}
	for r := rune(0); r <= 0x3100; r++ {
		strip(r)
	}
	for _, r := range []rune{0x180e, 0xfeff, 0xffff, 0x1d159, 0x10ffff} {
		strip(r)
	}
	for i, v := range vals {
		hs = append(hs, "n="+QuoteCookieValue(v), "n="+v)
		if i%5 == 0 {
			hs = append(hs, "a=1; n = "+QuoteCookieValue(v)+" ;b="+QuoteCookieValue(v+v))
		}
	}
	pieces := []string{`"`, `\`, ";", "=", " ", "\t", "0", "3", "7", "8", "a", "n", "\n",
		"\u00e9", "\u3000", "\x1c", "\xff", "\xe2\x82", `\"`, `\0`, `\377`, `\400`, `""`}
	for i := 0; i < 3000; i++ {
		var b strings.Builder
		n := rng.Intn(30)
		for j := 0; j < n; j++ {
			b.WriteString(pieces[rng.Intn(len(pieces))])
		}
		hs = append(hs, b.String())
	}
	return hs
}

// TestCookieQuoteOracle compares QuoteCookieValue with Python's
// SimpleCookie and ParseCookieHeader (and CookieHeaderValue) with Django
// 3.2's request.COOKIES, in one Python process.
func TestCookieQuoteOracle(t *testing.T) {
	requirePython(t)
	rng := rand.New(rand.NewSource(20240611))
	vals := cookieTestValues(rng)
	headers := cookieTestHeaders(rng, vals)
	in := struct {
		Quote [][]byte `json:"quote"`
		Parse [][]byte `json:"parse"`
	}{}
	for _, v := range vals {
		in.Quote = append(in.Quote, []byte(v))
	}
	for _, h := range headers {
		in.Parse = append(in.Parse, []byte(h))
	}
	var out struct {
		Quote []string      `json:"quote"`
		Parse [][][2]string `json:"parse"`
	}
	runPythonJSON(t, cookieOracleScript, in, &out)
	if len(out.Quote) != len(vals) || len(out.Parse) != len(headers) {
		t.Fatalf("python answered %d/%d quotes and %d/%d parses", len(out.Quote), len(vals), len(out.Parse), len(headers))
	}
	bad := 0
	for i, v := range vals {
		if got := QuoteCookieValue(v); got != out.Quote[i] {
			t.Errorf("QuoteCookieValue(%q) = %q, SimpleCookie wrote %q", v, got, out.Quote[i])
			bad++
		}
	}
	for i, h := range headers {
		want := map[string]string{}
		for _, kv := range out.Parse[i] {
			want[kv[0]] = kv[1]
		}
		got := ParseCookieHeader(h)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("ParseCookieHeader(%.300q) = %.300q, Django has %.300q", h, got, want)
			bad++
		}
		checkLookupAgrees(t, h, got)
		if bad > 20 {
			t.Fatal("too many differences")
		}
	}
	t.Logf("SimpleCookie agreed on %d values, Django's request.COOKIES on %d headers", len(vals), len(headers))
}

// cookieE2EScript: for "set" ops, Django 3.2's
// HttpResponse.set_signed_cookie(name, value, salt=salt) and the Set-Cookie
// header it makes (Morsel.output(), as the WSGI handler sends it); for
// "get" ops, request.get_signed_cookie(name, salt=salt, max_age=60) on a
// WSGIRequest whose Cookie header is the given bytes. The answer is
// {"text": ...} or {"error": exception class name}.
const cookieE2EScript = `
import base64, io, json, sys
from django.conf import settings
settings.configure(SECRET_KEY="placeholder-secret-key-for-settings", ALLOWED_HOSTS=["*"])
import django
django.setup()
from django.core.handlers.wsgi import WSGIRequest
from django.http import HttpResponse

out = []
for op in json.load(sys.stdin):
    settings.SECRET_KEY = op["key"]
    try:
        if op["op"] == "set":
            resp = HttpResponse()
            resp.set_signed_cookie(op["name"], op["value"], salt=op["salt"])
            out.append({"text": resp.cookies[op["name"]].output()})
        else:
            environ = {"REQUEST_METHOD": "GET", "PATH_INFO": "/", "wsgi.input": io.BytesIO(b""),
                       "HTTP_COOKIE": base64.b64decode(op["header"]).decode("latin-1")}
            req = WSGIRequest(environ)
            out.append({"text": req.get_signed_cookie(op["name"], salt=op["salt"], max_age=60)})
    except Exception as e:
        out.append({"error": type(e).__name__ + ": " + str(e)})
json.dump(out, sys.stdout)
`

type cookieE2EOp struct {
	Op     string `json:"op"` // set or get
	Key    string `json:"key"`
	Name   string `json:"name"`
	Value  string `json:"value"`
	Salt   string `json:"salt"`
	Header []byte `json:"header,omitempty"`
}

type cookieE2EResult struct {
	Text  string `json:"text"`
	Error string `json:"error"`
}

var cookieE2EValues = []string{
	`hello world; "x"`, "Zo\u00eb \u2713", `back\slash`, "comma,semi;colon", "tab\there\nnewline\r",
	"\x00\x01\x7f", "\u00e9", "=equals=", " leading and trailing ", `"`, "", "\u65e5\u672c\u8a9e \U0001F511",
	`\012 literal`, `"\"`, "\u3000wide\u3000", "plain", strings.Repeat("\u00ff;", 300),
}

// TestCookieQuoteDjangoEndToEnd carries signed cookies through real headers
// both ways: Django 3.2's set_signed_cookie Set-Cookie header, sent back as
// a browser would, read by ParseCookieHeader and CookieSigner.Unsign; and
// our Sign + QuoteCookieValue in a Cookie header, read by Django's
// request.get_signed_cookie.
func TestCookieQuoteDjangoEndToEnd(t *testing.T) {
	requirePython(t)
	const key = "e2e-secret-key-\u00e9-\u79d8\u5bc6-0123456789"
	cs, err := NewCookieSigner([]byte(key), &CookieOptions{LegacySalt: true}) // what 3.2 writes and reads
	if err != nil {
		t.Fatal(err)
	}
	names := []string{"color", "pref", "__Host-x", "a.b:c"}
	salts := []string{"", "pepper", "s\u00e4lz;"}
	var ops []cookieE2EOp
	type want struct{ name, value, salt string }
	var wants []want
	for i, v := range cookieE2EValues {
		name, salt := names[i%len(names)], salts[i%len(salts)]
		ops = append(ops, cookieE2EOp{Op: "set", Key: key, Name: name, Value: v, Salt: salt})
		header := "sessionid=abc; other=\"x\\073y\"; " + name + "=" + QuoteCookieValue(cs.Sign(name, v, salt)) + "; last=\"\\\""
		ops = append(ops, cookieE2EOp{Op: "get", Key: key, Name: name, Salt: salt, Header: []byte(header)})
		wants = append(wants, want{name, v, salt})
	}
	var res []cookieE2EResult
	runPythonJSON(t, cookieE2EScript, ops, &res)
	if len(res) != len(ops) {
		t.Fatalf("python answered %d of %d", len(res), len(ops))
	}
	quoted := 0
	for i, w := range wants {
		set, get := res[2*i], res[2*i+1]
		// Django → Go.
		if set.Error != "" {
			t.Errorf("Django set_signed_cookie(%q, %q): %s", w.name, w.value, set.Error)
		} else {
			line, ok := strings.CutPrefix(set.Text, "Set-Cookie: ")
			if !ok {
				t.Fatalf("odd Set-Cookie line %q", set.Text)
			}
			pair, _, _ := strings.Cut(line, ";") // the name=value a browser stores and sends back
			if strings.Contains(pair, `"`) {
				quoted++
			}
			cookieHeader := "csrftoken=tok; " + pair + "; theme=dark"
			raw, ok := CookieHeaderValue(cookieHeader, w.name)
			if !ok {
				t.Errorf("%q: no cookie %q in %q", w.value, w.name, cookieHeader)
				continue
			}
			if m := ParseCookieHeader(cookieHeader); m[w.name] != raw {
				t.Errorf("%q: ParseCookieHeader %q, CookieHeaderValue %q", w.value, m[w.name], raw)
			}
			got, err := cs.UnsignMaxAge(w.name, raw, w.salt, time.Minute)
			if err != nil || got != w.value {
				t.Errorf("Django's cookie %q: Unsign = %q, %v; want %q", pair, got, err, w.value)
			}
		}
		// Go → Django.
		if get.Error != "" || get.Text != w.value {
			t.Errorf("Django get_signed_cookie(%q) on our header = %.200v, want %q", w.name, get, w.value)
		}
	}
	if quoted < len(wants)/2 {
		t.Errorf("only %d of %d Django cookies were quoted; the test values should need quoting", quoted, len(wants))
	}
	t.Logf("%d signed cookies each way (%d quoted by Django)", len(wants), quoted)
}

func TestQuoteCookieValueOutput(t *testing.T) {
	// The quoted form never holds a control character or raw separator.
	for i := 0; i < 0x3000; i++ {
		q := QuoteCookieValue(string(rune(i)))
		if !utf8.ValidString(q) {
			t.Fatalf("%U: invalid UTF-8 %q", i, q)
		}
		inner := q
		if len(q) >= 2 && q[0] == '"' {
			inner = q[1 : len(q)-1]
		}
		for _, r := range inner {
			if r < 0x20 || r == 0x7f || r == ';' || r == ',' || (r >= 0x80 && r < 0x100) {
				t.Fatalf("%U quoted as %q", i, q)
			}
		}
	}
}
