package signing

import (
	"encoding/base64"
	"math"
	"math/big"
	"strings"
)

// b62Alphabet is Django's base62 alphabet: digits, upper case, lower case
// (spec §2.2; not the order of get_random_string's alphabet).
const b62Alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

// b62Index maps a byte to its digit value, or 0xff.
var b62Index = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(b62Alphabet); i++ {
		t[b62Alphabet[i]] = byte(i)
	}
	return t
}()

// B62Encode returns Django's b62_encode(n) (spec §2.2): "0" for 0, a leading
// "-" for negative numbers, otherwise the most significant digit first and
// no leading zeros. TimestampSigner timestamps are B62Encode(unix seconds).
func B62Encode(n int64) string {
	var buf [12]byte
	return string(appendB62(buf[:0], n))
}

// appendB62 appends B62Encode(n) to dst.
func appendB62(dst []byte, n int64) []byte {
	if n == 0 {
		return append(dst, '0')
	}
	u := uint64(n)
	if n < 0 {
		dst = append(dst, '-')
		u = -u // two's complement: correct for math.MinInt64 too
	}
	var tmp [11]byte // 62^11 > 2^64
	i := len(tmp)
	for u > 0 {
		i--
		tmp[i] = b62Alphabet[u%62]
		u /= 62
	}
	return append(dst, tmp[i:]...)
}

// B62Decode returns Django's b62_decode(s) (spec §2.2): an optional leading
// "-", then base62 digits; leading zeros are accepted ("007" is 7) and, as
// in Django, "-" alone is 0. The empty string, a character outside the
// alphabet and a value outside the int64 range return an error wrapping
// ErrInvalidBase62 (use B62DecodeBig for larger numbers).
func B62Decode(s string) (int64, error) {
	if s == "" {
		return 0, ErrInvalidBase62
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	var u uint64
	for i := 0; i < len(s); i++ {
		d := b62Index[s[i]]
		if d == 0xff {
			return 0, ErrInvalidBase62
		}
		if u > (math.MaxUint64-uint64(d))/62 {
			return 0, errB62Range
		}
		u = u*62 + uint64(d)
	}
	switch {
	case !neg && u <= math.MaxInt64:
		return int64(u), nil
	case neg && u <= 1<<63:
		return int64(-u), nil
	}
	return 0, errB62Range
}

var errB62Range = &detailError{"signing: invalid base62: value out of int64 range", ErrInvalidBase62}

// B62EncodeBig is B62Encode for an integer of any size.
func B62EncodeBig(n *big.Int) string {
	if n.IsInt64() {
		return B62Encode(n.Int64())
	}
	var digits []byte
	u := new(big.Int).Abs(n)
	base := big.NewInt(62)
	mod := new(big.Int)
	for u.Sign() > 0 {
		u.DivMod(u, base, mod)
		digits = append(digits, b62Alphabet[mod.Int64()])
	}
	var b strings.Builder
	if n.Sign() < 0 {
		b.WriteByte('-')
	}
	for i := len(digits) - 1; i >= 0; i-- {
		b.WriteByte(digits[i])
	}
	return b.String()
}

// B62DecodeBig is B62Decode without the int64 limit.
func B62DecodeBig(s string) (*big.Int, error) {
	if n, err := B62Decode(s); err == nil {
		return big.NewInt(n), nil
	} else if err != errB62Range {
		return nil, err
	}
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	acc := new(big.Int)
	base := big.NewInt(62)
	d := new(big.Int)
	for i := 0; i < len(s); i++ {
		acc.Mul(acc, base)
		acc.Add(acc, d.SetInt64(int64(b62Index[s[i]])))
	}
	if neg {
		acc.Neg(acc)
	}
	return acc, nil
}

// B64Encode returns Django's b64_encode (spec §2.1): URL-safe base64
// (RFC 4648 §5) without "=" padding. This is what every signed payload and
// signature uses.
func B64Encode(b []byte) string {
	return base64.RawURLEncoding.EncodeToString(b)
}

// B64Decode is Django's b64_decode (spec §2.1), reproduced exactly because
// it only ever runs on text whose signature has already verified: pad with
// "=" to a multiple of 4 characters, then decode as Python's non-validating
// urlsafe_b64decode does. So both "-_" and "+/" are accepted, every other
// character (line breaks, junk, non-ASCII bytes) is skipped, and decoding
// stops at a padding sequence that completes a quantum. An impossible
// length, one data character past a multiple of 4 or a quantum left
// unfinished, is an error wrapping ErrInvalidBase64, as Python raises
// binascii.Error.
func B64Decode(s string) ([]byte, error) {
	out, err := appendB64Decode(nil, s)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// b64Values maps a byte to its 6-bit value in either alphabet, or 0xff.
var b64Values = func() (t [256]byte) {
	const std = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	for i := range t {
		t[i] = 0xff
	}
	for i := 0; i < len(std); i++ {
		t[std[i]] = byte(i)
	}
	t['+'], t['-'] = 62, 62
	t['/'], t['_'] = 63, 63
	return t
}()

// appendB64Decode decodes s as B64Decode does and appends the result to dst.
// The common case, clean unpadded URL-safe text, takes encoding/base64's
// fast path, whose result is the same.
func appendB64Decode(dst []byte, s string) ([]byte, error) {
	n := base64.RawURLEncoding.DecodedLen(len(s))
	dst = grow(dst, n)
	// encoding/base64 skips \r and \n, which Python's padding rule
	// counts; a clean input decodes to exactly n bytes (only a length of
	// 4k+1, which it rejects, could hide one newline).
	if m, err := base64.RawURLEncoding.Decode(dst[len(dst):len(dst)+n], stringBytes(s)); err == nil && m == n {
		return dst[:len(dst)+m], nil
	}
	return pyB64Decode(dst, s)
}

// pyB64Decode is Python's a2b_base64 in non-strict mode, over s plus the
// padding b64_decode appends (which only matters through the "=" rule).
// dst must have room for len(s)*6/8 more bytes.
func pyB64Decode(dst []byte, s string) ([]byte, error) {
	pads := (4 - len(s)%4) % 4
	quad, pending, acc := 0, 0, uint(0)
	out := dst
	for i := 0; i < len(s)+pads; i++ {
		c := byte('=')
		if i < len(s) {
			c = s[i]
		}
		if c == '=' {
			if quad >= 2 {
				pending++
				if quad+pending >= 4 {
					return out, nil // a complete pad sequence ends the data
				}
			}
			continue
		}
		v := b64Values[c]
		if v == 0xff {
			continue
		}
		pending = 0
		acc = acc<<6 | uint(v)
		quad++
		switch quad {
		case 2:
			out = append(out, byte(acc>>4))
			acc &= 0x0f
		case 3:
			out = append(out, byte(acc>>2))
			acc &= 0x03
		case 4:
			out = append(out, byte(acc))
			quad, acc = 0, 0
		}
	}
	if quad != 0 {
		return dst, ErrInvalidBase64
	}
	return out, nil
}

// grow returns dst with room for n more bytes.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		nd := make([]byte, len(dst), len(dst)+n)
		copy(nd, dst)
		dst = nd
	}
	return dst
}
