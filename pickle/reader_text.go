package pickle

import (
	"errors"
	"math"
	"math/big"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
)

// Protocol-0 text arguments. pickle.loads is CPython's C unpickler
// (Modules/_pickle.c), whose rules for text numbers differ from the
// pure-Python pickle.py: INT goes through C's strtol(s, NULL, 0) first, so
// "I010" is 8 and "I0x1f" is 31, then through int(s, 0) when strtol
// overflows or stops early; "I+1" and "I 1" are True (a three-byte line
// whose value is 0 or 1 is a bool). LONG is int(s, 0) after removing a
// trailing "L"; FLOAT is PyOS_string_to_double. The line is NUL-terminated
// in C, so a NUL byte ends the number. Each rule below is checked against
// CPython in testdata/reader/corpus.jsonl (RAW cases "text_*").

// cIsSpace is isspace() in the C locale (also Py_ISSPACE).
func cIsSpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// digitVal is the value of c as a digit in bases up to 36, or 99.
func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// cString is what C code sees of a text argument: the line with its
// newline, up to the first NUL byte.
func cString(line string) string {
	if i := strings.IndexByte(line, 0); i >= 0 {
		return line[:i]
	}
	return line + "\n"
}

// strtol emulates C's strtol(s, &end, 0) on the C string of a line. ok is
// false when C would not accept the result: a range error, or end not at
// the newline or a NUL.
func strtol(line string) (x int64, ok bool) {
	s := cString(line)
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	base := 10
	if i < len(s) && s[i] == '0' {
		base = 8
		if i+2 < len(s) && s[i+1]|0x20 == 'x' && digitVal(s[i+2]) < 16 {
			base = 16
			i += 2
		}
	}
	start := i
	var acc uint64
	over := false
	for ; i < len(s); i++ {
		d := digitVal(s[i])
		if d >= base {
			break
		}
		if acc > (math.MaxUint64-uint64(d))/uint64(base) {
			over = true
		} else {
			acc = acc*uint64(base) + uint64(d)
		}
	}
	if i == start {
		// No digits: end is the start of the string.
		return 0, len(line) > 0 && line[0] == 0
	}
	if over || (!neg && acc > math.MaxInt64) || (neg && acc > 1<<63) {
		return 0, false
	}
	if i < len(s) && s[i] != '\n' {
		return 0, false
	}
	if neg {
		return -int64(acc), true
	}
	return int64(acc), true
}

// Errors of pyLong, turned into sentinel errors by intError.
var (
	errIntDigits = errors.New("too many digits")
	errBadInt    = errors.New("invalid literal for int()")
)

// pyLong emulates CPython's PyLong_FromString(s, NULL, base) (base 0 or
// 10) on the C string s: surrounding whitespace, a sign, for base 0 a
// 0x/0o/0b prefix or else no leading zeros (except for 0 itself), and single
// underscores between digits.
func pyLong(s string, base, maxDigits int) (py.Value, error) {
	bad := errBadInt
	i := 0
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	zeroOnly := false
	if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			c := byte(0)
			if i+1 < len(s) {
				c = s[i+1] | 0x20
			}
			switch c {
			case 'x':
				base = 16
			case 'o':
				base = 8
			case 'b':
				base = 2
			default:
				zeroOnly = true // an "old" octal literal: only 0 is valid
			}
			if base != 10 {
				i += 2
				if i < len(s) && s[i] == '_' {
					i++ // one underscore may follow the prefix
				}
			}
		}
	}
	if i < len(s) && s[i] == '_' {
		return py.None, bad
	}
	var digits []byte
	prev := byte(0)
	for ; i < len(s); i++ {
		c := s[i]
		if c == '_' {
			if prev == '_' {
				return py.None, bad
			}
		} else if digitVal(c) < base {
			digits = append(digits, c)
		} else {
			break
		}
		prev = c
	}
	if prev == '_' || len(digits) == 0 {
		return py.None, bad
	}
	for i < len(s) && cIsSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return py.None, bad
	}
	if len(digits) > maxDigits {
		return py.None, errIntDigits
	}
	if zeroOnly && strings.Trim(string(digits), "0") != "" {
		return py.None, bad
	}
	if len(digits) <= 15 { // fits in 60 bits in any base up to 16
		x, err := strconv.ParseInt(string(digits), base, 64)
		if err == nil {
			if neg {
				x = -x
			}
			return py.Int(x), nil
		}
	}
	n, ok := new(big.Int).SetString(string(digits), base)
	if !ok {
		return py.None, bad
	}
	if neg {
		n.Neg(n)
	}
	return py.BigInt(n), nil
}

func intError(err error, what string, at int) error {
	if err == errIntDigits {
		return fail(ErrLimit, "%s at offset %d exceeds MaxIntDigits", what, at)
	}
	return fail(ErrMalformed, "bad %s at offset %d", what, at)
}

// textINT decodes INT (load_int in _pickle.c).
func textINT(line string, at, maxDigits int) (py.Value, error) {
	if len(line) == 0 {
		return py.None, fail(ErrMalformed, "empty INT at offset %d", at)
	}
	if x, ok := strtol(line); ok {
		if len(line) == 2 && (x == 0 || x == 1) {
			return py.Bool(x == 1), nil // "I00", "I01": protocol-0 bools
		}
		return py.Int(x), nil
	}
	v, err := pyLong(cString(line), 0, maxDigits)
	if err != nil {
		return py.None, intError(err, "INT", at)
	}
	return v, nil
}

// textLONG decodes LONG: int(s, 0) without a trailing "L".
func textLONG(line string, at, maxDigits int) (py.Value, error) {
	if len(line) == 0 {
		return py.None, fail(ErrMalformed, "empty LONG at offset %d", at)
	}
	s := cString(line)
	if line[len(line)-1] == 'L' && !strings.Contains(line, "\x00") {
		s = line[:len(line)-1]
	}
	v, err := pyLong(s, 0, maxDigits)
	if err != nil {
		return py.None, intError(err, "LONG", at)
	}
	return v, nil
}

// textMemoIndex decodes GET and PUT arguments: int(s, 10), which must be
// a non-negative index that fits in 63 bits (CPython: "negative PUT
// argument", a MemoryError or OverflowError beyond).
func textMemoIndex(line string) (uint64, bool) {
	v, err := pyLong(cString(line), 10, 30)
	if err != nil {
		return 0, false
	}
	i, ok := v.Int()
	if !ok || i < 0 {
		return 0, false
	}
	return uint64(i), true
}

// textFLOAT decodes FLOAT with PyOS_string_to_double's grammar: an
// optional sign, then digits with an optional point and exponent, or
// "inf", "infinity", "nan" in any case; no whitespace, underscores or hex.
// The number must end at the newline (or a NUL); overflow to infinity is an
// error (OverflowError).
func textFLOAT(line string, at int) (py.Value, error) {
	s := cString(line)
	i := 0
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	start := i
	nd := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
		nd++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			nd++
		}
	}
	var f float64
	if nd > 0 {
		if i < len(s) && s[i]|0x20 == 'e' {
			j := i + 1
			if j < len(s) && (s[j] == '+' || s[j] == '-') {
				j++
			}
			k := j
			for k < len(s) && s[k] >= '0' && s[k] <= '9' {
				k++
			}
			if k > j {
				i = k
			}
		}
		x, err := strconv.ParseFloat(s[start:i], 64)
		if err != nil && !math.IsInf(x, 0) {
			return py.None, fail(ErrMalformed, "bad FLOAT at offset %d", at)
		}
		if math.IsInf(x, 0) {
			return py.None, fail(ErrMalformed, "FLOAT at offset %d overflows", at)
		}
		f = x
	} else {
		i = start
		rest := strings.ToLower(s[i:min(len(s), i+8)])
		switch {
		case strings.HasPrefix(rest, "infinity"):
			f, i = math.Inf(1), i+8
		case strings.HasPrefix(rest, "inf"):
			f, i = math.Inf(1), i+3
		case strings.HasPrefix(rest, "nan"):
			// CPython's NaN is 0x7ff8000000000000, not Go's math.NaN().
			f, i = math.Float64frombits(0x7FF8000000000000), i+3
		default:
			return py.None, fail(ErrMalformed, "bad FLOAT at offset %d", at)
		}
	}
	if i < len(s) && s[i] != '\n' {
		return py.None, fail(ErrMalformed, "bad FLOAT at offset %d", at)
	}
	if neg {
		f = math.Copysign(f, -1)
		if math.IsNaN(f) {
			f = math.Float64frombits(0xFFF8000000000000)
		}
	}
	return py.Float(f), nil
}

// textString decodes STRING: a Python 2 str literal in quotes, with Python
// escapes (codecs.escape_decode) and, like Python 3's default
// encoding="ASCII", ASCII only.
func textString(l string, at int) (string, error) {
	if len(l) < 2 || l[0] != l[len(l)-1] || (l[0] != '\'' && l[0] != '"') {
		return "", fail(ErrMalformed, "STRING at offset %d is not quoted", at)
	}
	dec, ok := decodePyEscapes(l[1 : len(l)-1])
	if !ok {
		return "", fail(ErrMalformed, "STRING at offset %d: invalid escape", at)
	}
	if !isASCII(dec) {
		return "", fail(ErrUnsupported, "non-ASCII Python 2 str at offset %d", at)
	}
	return dec, nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// validWTF8 reports whether s is UTF-8 in which surrogate code points
// (U+D800–U+DFFF, as CPython's "surrogatepass" writes lone surrogates) are
// also allowed.
func validWTF8(s string) bool {
	for len(s) > 0 {
		if s[0] < 0x80 {
			s = s[1:]
			continue
		}
		r, n := utf8.DecodeRuneInString(s)
		if r == utf8.RuneError && n <= 1 {
			// ED A0–BF xx encodes a surrogate, which utf8 rejects.
			if len(s) >= 3 && s[0] == 0xED && s[1] >= 0xA0 && s[1] <= 0xBF && s[2] >= 0x80 && s[2] <= 0xBF {
				s = s[3:]
				continue
			}
			return false
		}
		s = s[n:]
	}
	return true
}

// appendCodePoint appends r as UTF-8, writing surrogates as 3-byte
// sequences (CESU/WTF-8 style, the form package py keeps them in).
func appendCodePoint(out []byte, r rune) []byte {
	if r >= 0xD800 && r <= 0xDFFF {
		return append(out, byte(0xE0|r>>12), byte(0x80|(r>>6)&0x3F), byte(0x80|r&0x3F))
	}
	return utf8.AppendRune(out, r)
}

// decodeRawUnicodeEscape decodes Python's "raw-unicode-escape" codec, which
// protocol-0 UNICODE uses: every byte is a Latin-1 code point, except that
// \uXXXX and \UXXXXXXXX escapes are decoded when preceded by an odd number
// of backslashes (the rule of CPython's decoder).
func decodeRawUnicodeEscape(b string) (string, error) {
	if isASCII(b) && strings.IndexByte(b, '\\') < 0 {
		return b, nil
	}
	out := make([]byte, 0, len(b)+8)
	for i := 0; i < len(b); {
		c := b[i]
		if c != '\\' {
			out = appendCodePoint(out, rune(c))
			i++
			continue
		}
		j := i
		for j < len(b) && b[j] == '\\' {
			j++
		}
		run := j - i
		if run%2 == 0 || j >= len(b) || (b[j] != 'u' && b[j] != 'U') {
			out = append(out, b[i:j]...)
			i = j
			continue
		}
		out = append(out, b[i:j-1]...) // all but the escaping backslash
		n := 4
		if b[j] == 'U' {
			n = 8
		}
		if j+1+n > len(b) {
			return "", errors.New("truncated \\uXXXX escape")
		}
		var v uint32
		for _, c := range []byte(b[j+1 : j+1+n]) {
			d := digitVal(c)
			if d >= 16 {
				return "", errors.New("truncated \\uXXXX escape")
			}
			v = v<<4 | uint32(d)
		}
		if v > 0x10FFFF {
			return "", errors.New("\\Uxxxxxxxx out of range")
		}
		out = appendCodePoint(out, rune(v))
		i = j + 1 + n
	}
	return string(out), nil
}

// decodePyEscapes decodes the backslash escapes of a Python 2 str literal
// (codecs.escape_decode): \\ \' \" \a \b \f \n \r \t \v \xHH \OOO and
// backslash-newline; any other escape stays as written.
func decodePyEscapes(s string) (string, bool) {
	if strings.IndexByte(s, '\\') < 0 {
		return s, true
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(s) {
			return "", false // trailing backslash: "Trailing \ in string"
		}
		switch c = s[i]; c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, 7)
		case 'b':
			out = append(out, 8)
		case 'f':
			out = append(out, 12)
		case 'n':
			out = append(out, 10)
		case 'r':
			out = append(out, 13)
		case 't':
			out = append(out, 9)
		case 'v':
			out = append(out, 11)
		case 'x':
			if i+2 >= len(s) {
				return "", false // "invalid \x escape"
			}
			hi, lo := digitVal(s[i+1]), digitVal(s[i+2])
			if hi >= 16 || lo >= 16 {
				return "", false
			}
			out = append(out, byte(hi<<4|lo))
			i += 2
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v*8 + int(s[i]-'0')
			}
			out = append(out, byte(v)) // CPython keeps the low 8 bits of \400-\777
		default:
			out = append(out, '\\', c)
		}
	}
	return string(out), true
}
