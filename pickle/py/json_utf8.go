package py

import (
	"fmt"
	"unicode/utf8"
)

// DecodeJSONUTF8 parses JSON text encoded as UTF-8, as Python's
// json.loads(str) reads text (the form people and most tools write), into
// the same values DecodeJSON gives. DecodeJSON itself follows Django's
// signing rule of reading bytes as Latin-1, which garbles raw UTF-8; this
// entry point is for JSON from users, files and other programs.
func DecodeJSONUTF8(data []byte) (Value, error) {
	ascii := true
	for _, b := range data {
		if b >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return DecodeJSON(data)
	}
	// Non-ASCII can only stand inside strings in valid JSON, so writing
	// every non-ASCII character as a \u escape keeps the meaning.
	out := make([]byte, 0, len(data)+len(data)/2)
	for i := 0; i < len(data); {
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size <= 1 {
			return None, fmt.Errorf("%w: invalid UTF-8 at byte %d", ErrInvalidJSON, i)
		}
		i += size
		if r < 0x80 {
			out = append(out, byte(r))
			continue
		}
		// A raw character right after an escaping backslash is invalid
		// JSON; do not let the rewrite turn it into a valid escape.
		n := 0
		for j := len(out) - 1; j >= 0 && out[j] == '\\'; j-- {
			n++
		}
		if n%2 == 1 {
			return None, fmt.Errorf("%w: invalid escape at byte %d", ErrInvalidJSON, i-size)
		}
		if r > 0xFFFF {
			r -= 0x10000
			out = appendU(out, 0xD800+(r>>10))
			out = appendU(out, 0xDC00+(r&0x3FF))
			continue
		}
		out = appendU(out, r)
	}
	return DecodeJSON(out)
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xF], hex[r>>8&0xF], hex[r>>4&0xF], hex[r&0xF])
}
