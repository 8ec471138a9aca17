package py

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"unicode/utf8"
)

// ErrNotJSONSerializable is returned by EncodeJSON for a value Python's json
// module refuses (TypeError): a datetime, Decimal, set, bytes, UUID, ...
// anywhere in the value, or a dict key that is not str, int, float, bool or
// None.
var ErrNotJSONSerializable = errors.New("not JSON serializable")

// ErrTooDeep is returned (wrapped) when a value, or a JSON text, nests
// containers more than MaxJSONDepth deep — where Python raises
// RecursionError. A cyclic container graph (possible in values read from a
// pickle, where Python's json raises "Circular reference detected") also
// ends here.
var ErrTooDeep = errors.New("nesting too deep")

// EncodeJSON returns Python's json.dumps(v, separators=(",", ":")) as bytes,
// the JSON serializer of Django's signing and sessions (spec §2.6):
//
//   - no whitespace; dict members in insertion order; OrderedDict as an
//     object, tuple as an array;
//   - ASCII only: `"` and `\` escaped, \b \f \n \r \t short escapes, every
//     other code point below U+0020 or above U+007E as \u00xx with
//     lower-case hex, astral code points as a surrogate pair; "/" is not
//     escaped;
//   - ints exact, however large (up to CPython's limit of 4300 digits:
//     past it json.dumps raises ValueError, and so does EncodeJSON, wrapping
//     ErrNotJSONSerializable); floats as Python's repr ("1e+16", "-0.0");
//     non-finite floats as the bare tokens NaN, Infinity, -Infinity;
//   - dict keys: str as is; int as its decimal text; float as its repr
//     ("NaN", "Infinity" for non-finite); True "true", False "false",
//     None "null".
//
// A str holding WTF-8 lone surrogates (ED A0..BF xx, as DecodeJSON keeps
// them) writes them as \udxxx, as Python writes its lone surrogates. Bytes
// that are neither UTF-8 nor such surrogates — a Python str cannot hold
// them — are each written as \ufffd (U+FFFD).
//
// Any other kind fails with ErrNotJSONSerializable ("Object of type
// datetime is not JSON serializable", "keys must be str, int, float, bool
// or None, not tuple", Python's words); nesting past MaxJSONDepth fails with
// ErrTooDeep.
func EncodeJSON(v Value) ([]byte, error) {
	return AppendJSON(make([]byte, 0, jsonSizeHint(v)), v)
}

// AppendJSON appends EncodeJSON(v) to dst. On error it returns dst
// unchanged in length (its spare capacity may have been written).
func AppendJSON(dst []byte, v Value) ([]byte, error) {
	out, err := appendJSON(dst, v, 0)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// jsonSizeHint guesses the encoded size from the top two levels, enough
// that a session dict encodes into one allocation.
func jsonSizeHint(v Value) int {
	n := 16
	switch v.k {
	case StrKind:
		n += len(v.s)
	case DictKind:
		for _, e := range v.r.(*Dict).entries {
			n += len(e.Key.s) + 4 + len(e.Value.s) + 8
			if items := e.Value.Items(); items != nil {
				n += 8 * len(items)
			}
		}
	case ListKind, TupleKind:
		for _, it := range v.Items() {
			n += len(it.s) + 8
		}
	}
	return n
}

// errIntTooLong: CPython refuses to write an int of more than 4300 decimal
// digits (ValueError, sys.get_int_max_str_digits()), so json.dumps fails
// and json.loads would refuse the text anyway.
var errIntTooLong = fmt.Errorf("py: Exceeds the limit (%d digits) for integer string conversion: %w", maxIntDigits, ErrNotJSONSerializable)

// intTooLong reports whether an int has more than maxIntDigits digits.
func intTooLong(v Value) bool {
	x, ok := v.r.(*big.Int)
	if !ok || x.BitLen() < 14000 { // 2**14000 has 4215 digits
		return false
	}
	n := len(x.String())
	if x.Sign() < 0 {
		n--
	}
	return n > maxIntDigits
}

func notSerializable(v Value) error {
	return fmt.Errorf("py: Object of type %s is %w", v.TypeName(), ErrNotJSONSerializable)
}

func tooDeep() error {
	return fmt.Errorf("py: JSON: %w (more than %d levels, or a circular reference)", ErrTooDeep, MaxJSONDepth)
}

func appendJSON(b []byte, v Value, depth int) ([]byte, error) {
	switch v.k {
	case NoneKind:
		return append(b, "null"...), nil
	case BoolKind:
		if v.n == 1 {
			return append(b, "true"...), nil
		}
		return append(b, "false"...), nil
	case IntKind:
		if intTooLong(v) {
			return b, errIntTooLong
		}
		return appendInt(b, v), nil
	case FloatKind:
		return appendJSONFloat(b, math.Float64frombits(v.n)), nil
	case StrKind:
		return appendJSONString(b, v.s), nil
	case ListKind, TupleKind:
		if depth >= MaxJSONDepth {
			return b, tooDeep()
		}
		b = append(b, '[')
		for i, it := range v.Items() {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSON(b, it, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case DictKind:
		if depth >= MaxJSONDepth {
			return b, tooDeep()
		}
		b = append(b, '{')
		for i, e := range v.r.(*Dict).entries {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = appendJSONKey(b, e.Key); err != nil {
				return b, err
			}
			b = append(b, ':')
			if b, err = appendJSON(b, e.Value, depth+1); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return b, notSerializable(v)
}

// appendJSONKey writes a dict key, coerced as Python's json does.
func appendJSONKey(b []byte, k Value) ([]byte, error) {
	switch k.k {
	case StrKind:
		return appendJSONString(b, k.s), nil
	case FloatKind:
		b = append(b, '"')
		b = appendJSONFloat(b, math.Float64frombits(k.n))
		return append(b, '"'), nil
	case BoolKind:
		if k.n == 1 {
			return append(b, `"true"`...), nil
		}
		return append(b, `"false"`...), nil
	case NoneKind:
		return append(b, `"null"`...), nil
	case IntKind:
		if intTooLong(k) {
			return b, errIntTooLong
		}
		b = append(b, '"')
		b = appendInt(b, k)
		return append(b, '"'), nil
	}
	return b, fmt.Errorf("py: keys must be str, int, float, bool or None, not %s: %w", k.TypeName(), ErrNotJSONSerializable)
}

// appendJSONFloat writes a float as Python's json does: repr for finite
// values, NaN / Infinity / -Infinity otherwise.
func appendJSONFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return appendFloatRepr(b, f)
}

// jsonSafe marks the bytes written as they are by the ASCII-only encoder:
// printable ASCII except `"` and `\`.
var jsonSafe = func() (t [256]bool) {
	for c := 0x20; c < 0x7F; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// appendJSONString writes s as Python's json.dumps does with
// ensure_ascii=True (py_encode_basestring_ascii).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if jsonSafe[c] {
			i++
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
			i++
		case '\\':
			b = append(b, `\\`...)
			i++
		case '\b':
			b = append(b, `\b`...)
			i++
		case '\f':
			b = append(b, `\f`...)
			i++
		case '\n':
			b = append(b, `\n`...)
			i++
		case '\r':
			b = append(b, `\r`...)
			i++
		case '\t':
			b = append(b, `\t`...)
			i++
		default:
			r, size := decodeWTF8(s, i)
			i += size
			b = appendUEscape(b, r)
		}
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendUEscape writes \uxxxx for a BMP code point (surrogates included) or
// a surrogate pair for an astral one.
func appendUEscape(b []byte, r rune) []byte {
	if r > 0xFFFF {
		r -= 0x10000
		b = append(b, `\u`...)
		b = appendHex(b, uint32(0xD800+(r>>10)), 4)
		r = 0xDC00 + r&0x3FF
	}
	b = append(b, `\u`...)
	return appendHex(b, uint32(r), 4)
}

// appendJSONStringUTF8 writes s as a JSON string in UTF-8, as Python's
// json.dumps with ensure_ascii=False does: `"`, `\`, and code points below
// U+0020 are escaped (short escapes where JSON has them), everything else is
// written as is — except lone surrogates, written \udxxx so the output stays
// valid UTF-8, and bytes that are not UTF-8, written as U+FFFD.
func appendJSONStringUTF8(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := decodeWTF8(s, i)
			surrogate := r >= 0xD800 && r <= 0xDFFF
			invalid := r == utf8.RuneError && size == 1
			if !surrogate && !invalid {
				i += size // valid UTF-8: keep it in the run
				continue
			}
			b = append(b, s[start:i]...)
			i += size
			if r == utf8.RuneError {
				b = append(b, "\uFFFD"...)
			} else {
				b = appendUEscape(b, r)
			}
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = appendUEscape(b, rune(c))
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
