package signing

import (
	"strings"
	"unicode/utf8"
)

// Cookie header quoting as Django does it (spec §2.7). Django writes cookie
// values through Python's http.cookies.SimpleCookie, which double-quotes a
// value holding anything outside a small set of characters and escapes
// inside the quotes; it reads the Cookie header with
// django.http.cookie.parse_cookie, which undoes that quoting. A signed
// cookie made from a value with a space, ';', '"', ',' or non-ASCII text
// therefore travels quoted, e.g. color="hello world\073 \"x\":1r31eq:…",
// and net/http's cookie parser drops every value with a backslash escape
// or non-ASCII text in it. QuoteCookieValue writes such values,
// ParseCookieHeader and CookieHeaderValue read them.

// cookieLegal reports whether b is one of the characters SimpleCookie
// leaves unquoted (Python's _LegalChars): ASCII letters, digits and
// !#$%&'*+-.^_`|~: .
func cookieLegal(b byte) bool {
	switch {
	case 'a' <= b && b <= 'z', 'A' <= b && b <= 'Z', '0' <= b && b <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-.^_`|~:", b) >= 0
}

// cookieUnescaped reports whether the code point r (< 0x100) is written as
// itself inside a quoted value: the legal characters plus space and
// ()/<=>?@[]{} . Every other code point below 0x100 becomes \ooo, except
// '"' and '\\' which become \" and \\.
func cookieUnescaped(r rune) bool {
	if r >= 0x80 {
		return false
	}
	return cookieLegal(byte(r)) || strings.IndexByte(" ()/<=>?@[]{}", byte(r)) >= 0
}

// QuoteCookieValue returns v as Django puts it in a Set-Cookie header: the
// coded_value of Python's http.cookies.SimpleCookie (http.cookies._quote).
//
//   - A non-empty v made only of ASCII letters, digits and
//     !#$%&'*+-.^_`|~: is returned unchanged. Session keys and Dumps tokens with
//     the default separator always are; a Signer or CookieSigner value is
//     when the signed value (and any custom separator) is.
//   - Anything else, the empty string included, is wrapped in double
//     quotes, inside which a double quote is written \", a backslash \\,
//     every other code point below U+0100 except the letters, digits, space and
//     !#$%&'()*+-./:<=>?@[]^_`{|}~ is written as a backslash and three
//     octal digits (a newline is \012, 'é' U+00E9 is \351, ';' is \073,
//     ',' is \054), and code points from U+0100 up are left as they are
//     (written as UTF-8).
//
// v is read as UTF-8; each ill-formed sequence counts as one U+FFFD, the
// way Python's bytes.decode(errors="replace") reads it. The result never
// contains a byte below 0x20, DEL, a raw ';' or a backslash that is not an
// escape.
//
// A value with a code point above U+00FF yields a header Django itself
// cannot send (WSGI servers encode header strings as Latin-1, Django's ASGI
// handler encodes Set-Cookie as ASCII); QuoteCookieValue still writes what
// SimpleCookie puts in the header string. Every code point up to U+00FF
// comes out as ASCII.
//
// Write the Set-Cookie header yourself: net/http's http.SetCookie (and
// http.Cookie.String) deletes every '"', '\\', ';', control and non-ASCII
// byte from a value, which breaks its signature:
//
//	w.Header().Add("Set-Cookie", name+"="+signing.QuoteCookieValue(value)+"; Path=/")
func QuoteCookieValue(v string) string {
	if v != "" {
		legal := true
		for i := 0; i < len(v); i++ {
			if !cookieLegal(v[i]) {
				legal = false
				break
			}
		}
		if legal {
			return v
		}
	}
	v = pyDecodeUTF8(v)
	var b strings.Builder
	b.Grow(len(v) + len(v)/2 + 2)
	b.WriteByte('"')
	for _, r := range v {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r >= 0x100 || cookieUnescaped(r):
			b.WriteRune(r)
		default:
			b.WriteByte('\\')
			b.WriteByte('0' + byte(r>>6))
			b.WriteByte('0' + byte(r>>3&7))
			b.WriteByte('0' + byte(r&7))
		}
	}
	b.WriteByte('"')
	return b.String()
}

// ParseCookieHeader returns the cookies of a raw Cookie request header,
// exactly as Django's request.COOKIES holds them (WSGIRequest: the header
// bytes decoded as UTF-8 with errors="replace", then
// django.http.cookie.parse_cookie):
//
//   - the header is split at every ';' (no other separator, no quote
//     awareness: a quoted value Django wrote never holds a raw ';');
//   - each chunk is split at its first '='; a chunk without '=' is a value
//     whose name is "";
//   - name and value are stripped of leading and trailing whitespace as
//     Python's str.strip() sees it (ASCII space, \t\n\v\f\r, \x1c–\x1f,
//     U+0085, U+00A0 and the Unicode spaces);
//   - a chunk whose name and value are both empty is skipped;
//   - a value of at least two characters that starts and ends with '"'
//     loses those quotes and, inside, \ooo with a first digit 0–3 becomes
//     that code point (U+0000–U+00FF), and a backslash before any other
//     character but a newline is dropped (\9 is 9, \0777 is "?7"); a
//     backslash before a newline or at the end stays. Any other value is
//     taken as it is;
//   - when a name occurs more than once the last one wins.
//
// Ill-formed UTF-8 in the header becomes U+FFFD as in Python, so keys and
// values are always valid UTF-8. (Django's ASGI handler decodes the
// header as Latin-1 instead; the two agree on ASCII headers, which is all
// a Django-written cookie contains.) For any valid UTF-8 v and a name made
// of the characters QuoteCookieValue leaves unquoted,
// ParseCookieHeader(name + "=" + QuoteCookieValue(v))[name] is v.
//
// With net/http, pass r.Header.Get("Cookie") (Go's HTTP/2 server already
// joins several cookie fields into one header with "; "). Do not use
// r.Cookie or r.Cookies for these values: they drop every quoted value
// with a backslash escape or non-ASCII text, which is what Django writes
// for a value with a quote, backslash, ',', ';', control or non-ASCII
// character. See CookieHeaderValue to look up one name.
func ParseCookieHeader(header string) map[string]string {
	cookies := make(map[string]string)
	eachCookie(pyDecodeUTF8(header), func(name, raw string) {
		cookies[name] = unquoteCookieValue(raw)
	})
	return cookies
}

// CookieHeaderValue returns what ParseCookieHeader(header)[name] holds —
// Django's request.COOKIES[name] — and whether the name is present,
// without building the map.
//
//	v, ok := signing.CookieHeaderValue(r.Header.Get("Cookie"), "color")
//	if ok {
//		value, err := cookieSigner.Unsign("color", v, salt)
//		...
//	}
func CookieHeaderValue(header, name string) (string, bool) {
	var last string
	found := false
	eachCookie(pyDecodeUTF8(header), func(n, raw string) {
		if n == name {
			last, found = raw, true
		}
	})
	if !found {
		return "", false
	}
	return unquoteCookieValue(last), true
}

// eachCookie calls f with the stripped name and raw (still quoted) value of
// every chunk of a Cookie header that parse_cookie keeps, in order. header
// must be valid UTF-8.
func eachCookie(header string, f func(name, raw string)) {
	for {
		chunk := header
		i := strings.IndexByte(header, ';')
		if i >= 0 {
			chunk, header = header[:i], header[i+1:]
		}
		var name, raw string
		if j := strings.IndexByte(chunk, '='); j >= 0 {
			name, raw = chunk[:j], chunk[j+1:]
		} else {
			raw = chunk
		}
		name, raw = strings.TrimFunc(name, pyIsSpace), strings.TrimFunc(raw, pyIsSpace)
		if name != "" || raw != "" {
			f(name, raw)
		}
		if i < 0 {
			return
		}
	}
}

// unquoteCookieValue is Python's http.cookies._unquote on a stripped value.
func unquoteCookieValue(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i >= 0 {
		b.WriteString(s[:i])
		rest := s[i+1:]
		switch {
		case len(rest) >= 3 && '0' <= rest[0] && rest[0] <= '3' && isOctal(rest[1]) && isOctal(rest[2]):
			b.WriteRune(rune(rest[0]-'0')<<6 | rune(rest[1]-'0')<<3 | rune(rest[2]-'0'))
			s = rest[3:]
		case rest == "" || rest[0] == '\n':
			// Python's "." does not match a newline, and nothing follows a
			// trailing backslash: the backslash is kept as it is.
			b.WriteByte('\\')
			s = rest
		default:
			// The escaped character, whole: a multi-byte one is copied
			// by the next WriteString (its other bytes are not '\\').
			b.WriteByte(rest[0])
			s = rest[1:]
		}
		i = strings.IndexByte(s, '\\')
	}
	b.WriteString(s)
	return b.String()
}

func isOctal(b byte) bool { return '0' <= b && b <= '7' }

// pyIsSpace is Python 3's str.isspace for one code point (bidirectional
// class WS, B or S, or category Zs; Unicode 14 as in Python 3.11, a set
// unchanged since Unicode 6.3). It differs from unicode.IsSpace by
// including U+001C–U+001F.
func pyIsSpace(r rune) bool {
	switch {
	case r <= 0x20:
		return r == ' ' || ('\t' <= r && r <= '\r') || (0x1c <= r && r <= 0x1f)
	case r < 0x85:
		return false
	}
	switch r {
	case 0x85, 0xa0, 0x1680, 0x2028, 0x2029, 0x202f, 0x205f, 0x3000:
		return true
	}
	return 0x2000 <= r && r <= 0x200a
}

// pyDecodeUTF8 returns s with each ill-formed UTF-8 sequence replaced by
// U+FFFD the way Python's bytes.decode("utf-8", errors="replace") does it:
// one U+FFFD per maximal subpart of a well-formed sequence (so a truncated
// three-byte sequence is one U+FFFD, not one per byte as in Go's range
// loop), following Unicode's "U+FFFD substitution of maximal subparts".
func pyDecodeUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 8)
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r != utf8.RuneError || n > 1 {
			b.WriteString(s[i : i+n])
			i += n
			continue
		}
		b.WriteRune(utf8.RuneError)
		i += maximalSubpart(s[i:])
	}
	return b.String()
}

// maximalSubpart returns the length of the longest prefix of s (which does
// not start with a well-formed sequence) that is the start of a
// well-formed UTF-8 sequence, and at least 1.
func maximalSubpart(s string) int {
	lead := s[0]
	var need int
	lo, hi := byte(0x80), byte(0xbf) // range of the second byte
	switch {
	case 0xc2 <= lead && lead <= 0xdf:
		need = 1
	case lead == 0xe0:
		need, lo = 2, 0xa0
	case lead == 0xed:
		need, hi = 2, 0x9f
	case 0xe1 <= lead && lead <= 0xef:
		need = 2
	case lead == 0xf0:
		need, lo = 3, 0x90
	case lead == 0xf4:
		need, hi = 3, 0x8f
	case 0xf1 <= lead && lead <= 0xf3:
		need = 3
	default:
		return 1
	}
	n := 1
	for k := 0; k < need && n < len(s); k++ {
		c := s[n]
		if k > 0 {
			lo, hi = 0x80, 0xbf
		}
		if c < lo || c > hi {
			break
		}
		n++
	}
	return n
}
