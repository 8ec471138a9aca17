package codec

import (
	"fmt"
	"math/big"
	"strconv"

	"github.com/djsession/djsession/pickle/py"
)

// MaxIntDigits is CPython's default limit on the decimal digits of an int
// converted from or to text (sys.get_int_max_str_digits(), Python 3.11+ and
// the 3.7–3.10 security releases): int() of a longer digit string raises
// ValueError, and so does str() of a larger int.
const MaxIntDigits = 4300

// isPySpace reports whether c is ASCII whitespace to Python's bytes parser
// (Py_ISSPACE): space, \t, \n, \v, \f, \r.
func isPySpace(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') }

// ParseInt parses b as Python's int(b) does for bytes in base 10 (spec
// §6.2): surrounding ASCII whitespace, an optional sign, digits with single
// underscores between them, leading zeros allowed, at most MaxIntDigits
// digits. ok is false wherever Python raises ValueError (including for an
// embedded NUL byte).
func ParseInt(b []byte) (v py.Value, ok bool) {
	i, j := 0, len(b)
	for i < j && isPySpace(b[i]) {
		i++
	}
	for j > i && isPySpace(b[j-1]) {
		j--
	}
	s := b[i:j]
	neg := false
	if len(s) > 0 && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if len(s) == 0 || s[0] == '_' || s[len(s)-1] == '_' {
		return py.None, false
	}
	digits := 0
	for k, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '_' && s[k-1] != '_':
		default:
			return py.None, false
		}
	}
	if digits > MaxIntDigits {
		return py.None, false
	}
	clean := s
	if digits != len(s) {
		clean = make([]byte, 0, digits)
		for _, c := range s {
			if c != '_' {
				clean = append(clean, c)
			}
		}
	}
	if digits <= 18 {
		n, _ := strconv.ParseInt(string(clean), 10, 64)
		if neg {
			n = -n
		}
		return py.Int(n), true
	}
	bi, _ := new(big.Int).SetString(string(clean), 10)
	if neg {
		bi.Neg(bi)
	}
	return py.BigInt(bi), true
}

// formatInt returns the decimal text of an int value as Python's repr()
// writes it, or ErrUnsupported past MaxIntDigits (Python raises ValueError).
func formatInt(v py.Value) ([]byte, error) {
	if n, ok := v.Int(); ok {
		return strconv.AppendInt(nil, n, 10), nil
	}
	b, _ := v.BigInt()
	s := b.String()
	if d := len(s) - b2i(b.Sign() < 0); d > MaxIntDigits {
		return nil, fmt.Errorf("%w: int with %d digits exceeds the limit for integer string conversion", ErrUnsupported, d)
	}
	return []byte(s), nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
