package py

import (
	"errors"
	"strconv"
	"unicode"
	"unicode/utf8"
)

// ErrInvalidDecimal is returned by ParseDecimal for text Python's
// decimal.Decimal() rejects (InvalidOperation / ConversionSyntax).
var ErrInvalidDecimal = errors.New("py: invalid Decimal literal")

// Exponent limits of CPython's decimal module (libmpdec on 64-bit builds):
// Decimal(str) fails when the adjusted exponent exceeds MAX_EMAX or the
// exponent falls below MIN_ETINY = MIN_EMIN - (MAX_PREC - 1).
const (
	decimalMaxEmax  = 999999999999999999
	decimalMinEtiny = -1999999999999999997
	// expSaturate caps exponent arithmetic; anything past it fails the
	// limits above whatever the digit count.
	expSaturate = 1 << 62
)

// ParseDecimal returns the decimal.Decimal that Python's Decimal(s) builds,
// holding its text exactly as Python's str() writes it. It accepts what
// CPython 3.11's Decimal accepts:
//
//   - leading and trailing whitespace (str.isspace: Unicode White_Space
//     and U+001C..U+001F);
//   - underscores anywhere (CPython drops them all before parsing);
//   - any Unicode decimal digit (category Nd) for 0-9;
//   - an optional sign, then digits with an optional point (at least one
//     digit), then an optional exponent [eE][+-]digits; or "Inf",
//     "Infinity", "NaN", "sNaN" in any case, NaN with optional payload
//     digits.
//
// The text is then written with the to-scientific-string rules of the
// General Decimal Arithmetic spec, which is what str(Decimal) does: the
// coefficient without leading zeros, the exponent kept ("1.50" stays
// "1.50", "1e3" is "1E+3", "0.0000001" is "1E-7", "-0" stays "-0"),
// "Infinity", "NaN", "sNaN123" with a "-" for negative values.
func ParseDecimal(s string) (Value, error) {
	a, err := decimalASCII(s)
	if err != nil {
		return None, err
	}
	canon, ok := canonicalDecimal(a)
	if !ok {
		return None, ErrInvalidDecimal
	}
	return decimalValue(canon), nil
}

// pyIsSpace reports Python's str.isspace for one code point.
func pyIsSpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1C && r <= 0x1F)
}

// decimalASCII does what CPython's numeric_as_ascii does before libmpdec
// parses: strip whitespace, drop underscores, map Unicode digits to ASCII.
// Any other non-ASCII code point is an error.
func decimalASCII(s string) ([]byte, error) {
	// Strip.
	for len(s) > 0 {
		r, n := utf8.DecodeRuneInString(s)
		if !pyIsSpace(r) {
			break
		}
		s = s[n:]
	}
	for len(s) > 0 {
		r, n := utf8.DecodeLastRuneInString(s)
		if !pyIsSpace(r) {
			break
		}
		s = s[:len(s)-n]
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			if c != '_' {
				out = append(out, c)
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		d, ok := unicodeDigit(r)
		if !ok {
			return nil, ErrInvalidDecimal
		}
		out = append(out, '0'+d)
	}
	return out, nil
}

// unicodeDigit returns the value of a Unicode decimal digit (category Nd).
// Unicode encodes every such digit in a run of ten from 0 to 9, and each
// range of Go's Nd table starts at a zero, so the value is the distance
// from the range start modulo 10.
func unicodeDigit(r rune) (byte, bool) {
	if r == utf8.RuneError || !unicode.Is(unicode.Nd, r) {
		return 0, false
	}
	for _, rg := range unicode.Nd.R16 {
		if uint32(r) >= uint32(rg.Lo) && uint32(r) <= uint32(rg.Hi) {
			return byte((uint32(r) - uint32(rg.Lo)) % 10), true
		}
	}
	for _, rg := range unicode.Nd.R32 {
		if uint32(r) >= rg.Lo && uint32(r) <= rg.Hi {
			return byte((uint32(r) - rg.Lo) % 10), true
		}
	}
	return 0, false
}

func lowerASCII(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func equalFoldASCII(a []byte, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if lowerASCII(a[i]) != b[i] {
			return false
		}
	}
	return true
}

func hasPrefixFoldASCII(a []byte, p string) bool {
	return len(a) >= len(p) && equalFoldASCII(a[:len(p)], p)
}

// canonicalDecimal parses the numeric-string grammar over ASCII text and
// returns the to-scientific-string form.
func canonicalDecimal(a []byte) (string, bool) {
	neg := false
	if len(a) > 0 && (a[0] == '+' || a[0] == '-') {
		neg = a[0] == '-'
		a = a[1:]
	}
	if len(a) == 0 {
		return "", false
	}
	out := make([]byte, 0, len(a)+8)
	if neg {
		out = append(out, '-')
	}
	if c := lowerASCII(a[0]); c == 'i' || c == 'n' || c == 's' {
		switch {
		case equalFoldASCII(a, "inf"), equalFoldASCII(a, "infinity"):
			return string(append(out, "Infinity"...)), true
		case hasPrefixFoldASCII(a, "nan"):
			out = append(out, "NaN"...)
			a = a[3:]
		case hasPrefixFoldASCII(a, "snan"):
			out = append(out, "sNaN"...)
			a = a[4:]
		default:
			return "", false
		}
		// Payload: digits only, leading zeros dropped.
		for _, c := range a {
			if c < '0' || c > '9' {
				return "", false
			}
		}
		for len(a) > 0 && a[0] == '0' {
			a = a[1:]
		}
		return string(append(out, a...)), true
	}

	// Coefficient: digits [ '.' digits ], at least one digit.
	i := 0
	intStart := i
	for i < len(a) && a[i] >= '0' && a[i] <= '9' {
		i++
	}
	intDigits := a[intStart:i]
	var fracDigits []byte
	if i < len(a) && a[i] == '.' {
		i++
		fs := i
		for i < len(a) && a[i] >= '0' && a[i] <= '9' {
			i++
		}
		fracDigits = a[fs:i]
	}
	if len(intDigits)+len(fracDigits) == 0 {
		return "", false
	}
	var exp int64
	if i < len(a) && (a[i] == 'e' || a[i] == 'E') {
		i++
		eneg := false
		if i < len(a) && (a[i] == '+' || a[i] == '-') {
			eneg = a[i] == '-'
			i++
		}
		if i == len(a) {
			return "", false
		}
		for ; i < len(a); i++ {
			c := a[i]
			if c < '0' || c > '9' {
				return "", false
			}
			if exp < expSaturate/10 {
				exp = exp*10 + int64(c-'0')
			} else {
				exp = expSaturate
			}
		}
		if eneg {
			exp = -exp
		}
	}
	if i != len(a) {
		return "", false
	}

	// Coefficient digits without leading zeros ("0" for zero).
	coef := make([]byte, 0, len(intDigits)+len(fracDigits))
	for _, part := range [2][]byte{intDigits, fracDigits} {
		for _, c := range part {
			if len(coef) == 0 && c == '0' {
				continue
			}
			coef = append(coef, c)
		}
	}
	if len(coef) == 0 {
		coef = append(coef, '0')
	}
	exp -= int64(len(fracDigits))
	adj := exp + int64(len(coef)) - 1
	if exp < decimalMinEtiny || adj > decimalMaxEmax {
		return "", false
	}

	// to-scientific-string.
	if exp <= 0 && adj >= -6 {
		if exp == 0 {
			return string(append(out, coef...)), true
		}
		p := int64(len(coef)) + exp // position of the point in coef
		if p > 0 {
			out = append(out, coef[:p]...)
			out = append(out, '.')
			out = append(out, coef[p:]...)
		} else {
			out = append(out, "0."...)
			for ; p < 0; p++ {
				out = append(out, '0')
			}
			out = append(out, coef...)
		}
		return string(out), true
	}
	out = append(out, coef[0])
	if len(coef) > 1 {
		out = append(out, '.')
		out = append(out, coef[1:]...)
	}
	out = append(out, 'E')
	if adj >= 0 {
		out = append(out, '+')
	}
	out = strconv.AppendInt(out, adj, 10)
	return string(out), true
}

// decimalIsZero reports whether the str() text of a Decimal is a zero
// ("0", "-0.00", "0E+3"); NaN, sNaN and Infinity are not zero (Python's
// bool() of them is True).
func decimalIsZero(text string) bool {
	i := 0
	if i < len(text) && (text[i] == '-' || text[i] == '+') {
		i++
	}
	if i == len(text) || text[i] < '0' || text[i] > '9' {
		return false
	}
	for ; i < len(text) && text[i] != 'E' && text[i] != 'e'; i++ {
		if text[i] != '0' && text[i] != '.' {
			return false
		}
	}
	return true
}
