package signing

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzParseCookieHeader reads its input both as a Cookie header and as a
// cookie value. As a header: no panic, keys and values are valid UTF-8, and
// CookieHeaderValue agrees with the map. As a value: QuoteCookieValue
// writes no control character and valid UTF-8, reads an ill-formed value
// as its U+FFFD form, and for valid UTF-8 the quoted value sent back in a
// Cookie header (alone, or between other cookies) reads as the value.
func FuzzParseCookieHeader(f *testing.F) {
	for _, cases := range loadVectors(f) {
		for _, c := range cases {
			if c.Kind != "signed_cookie" {
				continue
			}
			for _, s := range []string{
				dstr(c.Input, "value"), dstr(c.Input, "cookie_value"),
				dstr(c.Expected, "cookie_value"), dstr(c.Expected, "coded_value"),
				strings.TrimPrefix(dstr(c.Expected, "set_cookie_header"), "Set-Cookie: "),
			} {
				f.Add(s)
			}
		}
	}
	for _, s := range []string{
		"", `"`, `""`, `a="\9"`, `a="\0777"`, `a="x\"`, "a=\"\\\n\"", `a="\400"; a=b`,
		"=; ;=;", "\x1ca\u3000=\u00a0b", "a=\xff\xe2\x82", `n="\"\\\073"`, strings.Repeat(`\"`, 100),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m := ParseCookieHeader(s)
		for k, v := range m {
			if !utf8.ValidString(k) || !utf8.ValidString(v) {
				t.Fatalf("ParseCookieHeader(%q): invalid UTF-8 %q=%q", s, k, v)
			}
		}
		checkLookupAgrees(t, s, m)
		v, ok := CookieHeaderValue(s, "n")
		if mv, mok := m["n"]; ok != mok || v != mv {
			t.Fatalf("CookieHeaderValue(%q, n) = %q, %v; map %q, %v", s, v, ok, mv, mok)
		}

		q := QuoteCookieValue(s)
		if !utf8.ValidString(q) {
			t.Fatalf("QuoteCookieValue(%q) = %q: invalid UTF-8", s, q)
		}
		for _, r := range q {
			if r < 0x20 || r == 0x7f || r == ';' {
				t.Fatalf("QuoteCookieValue(%q) = %q holds %U", s, q, r)
			}
		}
		if !utf8.ValidString(s) {
			if want := QuoteCookieValue(pyDecodeUTF8(s)); q != want {
				t.Fatalf("QuoteCookieValue(%q) = %q, its U+FFFD form gives %q", s, q, want)
			}
			return
		}
		if got, ok := CookieHeaderValue("n="+q, "n"); !ok || got != s {
			t.Fatalf("round trip of %q via %q: %q, %v", s, q, got, ok)
		}
		if got := ParseCookieHeader("a=1; n = " + q + " ;b=" + q + "; n2=x")["n"]; got != s {
			t.Fatalf("round trip of %q among others via %q: %q", s, q, got)
		}
	})
}
