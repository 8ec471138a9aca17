package signing

import (
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Errors returned by this package. Test them with errors.Is: the values
// returned are usually wrapped with more detail.
//
// Two groups matter to callers, as in gorilla/securecookie:
//
//   - "Reject this input": ErrBadSignature (and its refinement
//     ErrSignatureExpired) and ErrBadPayload. A web request that hits one of
//     these should be treated as carrying no value at all.
//   - "Misconfigured": ErrEmptyKey, ErrInvalidAlgorithm, ErrInvalidSeparator,
//     returned by the constructors (and SaltedHMAC) only.
//
// No error text of this package ever contains a secret, an expected MAC or
// the MAC that was received (Django's BadSignature message quotes the
// received signature; ours deliberately does not).
var (
	// ErrBadSignature is Django's BadSignature: the value has no separator
	// or its signature does not verify under any of the keys.
	ErrBadSignature = errors.New("signing: bad signature")

	// ErrSignatureExpired is Django's SignatureExpired: the signature is
	// valid but the timestamp is older than the max age allowed. As in
	// Django, where SignatureExpired subclasses BadSignature,
	// errors.Is(err, ErrBadSignature) is also true for it.
	ErrSignatureExpired error = &subError{msg: "signing: signature expired", parent: ErrBadSignature}

	// ErrBadPayload means the signature verified but what it covers could
	// not be decoded: a missing or malformed timestamp, invalid base64, a
	// corrupt or oversized zlib stream, or data the serializer rejects.
	// Only a holder of the key can produce such a value (or a writer that
	// is not Django-compatible); Django raises ValueError, zlib.error or
	// the serializer's exception there, not BadSignature. It is therefore
	// deliberately distinct: errors.Is(err, ErrBadSignature) is false.
	ErrBadPayload = errors.New("signing: bad payload")

	// ErrInvalidSeparator is Django's "Unsafe Signer separator" ValueError
	// (spec §2.4).
	ErrInvalidSeparator = errors.New("signing: unsafe separator")

	// ErrEmptyKey is returned when a secret key (or a fallback key) is
	// empty. Django refuses an empty SECRET_KEY too.
	ErrEmptyKey = errors.New("signing: empty key")

	// ErrInvalidAlgorithm is Django's InvalidAlgorithm: the name is not a
	// hashlib algorithm that salted_hmac can use (spec §1.1).
	ErrInvalidAlgorithm = errors.New("signing: invalid algorithm")

	// ErrInvalidBase62 is returned by B62Decode for the empty string, a
	// character outside the base62 alphabet, or (B62Decode only) a number
	// that does not fit in an int64.
	ErrInvalidBase62 = errors.New("signing: invalid base62")

	// ErrInvalidBase64 is returned by B64Decode for text that is not
	// base64 (see B64Decode for what is accepted).
	ErrInvalidBase64 = errors.New("signing: invalid base64")
)

// subError is an error with its own text that also matches parent with
// errors.Is (used for ErrSignatureExpired ⊂ ErrBadSignature).
type subError struct {
	msg    string
	parent error
}

func (e *subError) Error() string { return e.msg }
func (e *subError) Unwrap() error { return e.parent }

// detailError carries a full message and wraps one sentinel. It is used for
// errors prepared in advance so that the rejection path does not allocate.
type detailError struct {
	msg string
	err error
}

func (e *detailError) Error() string { return e.msg }
func (e *detailError) Unwrap() error { return e.err }

var (
	errSignatureMismatch = &detailError{"signing: bad signature: signature does not match", ErrBadSignature}
	errNoTimestamp       = &detailError{"signing: bad payload: no timestamp in signed value", ErrBadPayload}
	errBadTimestamp      = &detailError{"signing: bad payload: invalid timestamp", ErrBadPayload}
)

// pyRepr returns Python's repr() of a str, used to give error messages
// Django's shape (e.g. "'sha999' is not an algorithm accepted by the hashlib
// module."). Invalid UTF-8 bytes are shown as \x escapes.
func pyRepr(s string) string {
	quote := byte('\'')
	if strings.IndexByte(s, '\'') >= 0 && strings.IndexByte(s, '"') < 0 {
		quote = '"'
	}
	var b strings.Builder
	b.WriteByte(quote)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b.WriteString(`\x`)
			b.WriteString(hex2(uint64(s[i])))
			i++
			continue
		}
		i += size
		switch {
		case r == rune(quote) || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x7f:
			b.WriteString(`\x`)
			b.WriteString(hex2(uint64(r)))
		case r < 0x80 || unicode.IsPrint(r):
			b.WriteRune(r)
		case r <= 0xff:
			b.WriteString(`\x`)
			b.WriteString(hex2(uint64(r)))
		case r <= 0xffff:
			b.WriteString(`\u`)
			b.WriteString(pad(strconv.FormatUint(uint64(r), 16), 4))
		default:
			b.WriteString(`\U`)
			b.WriteString(pad(strconv.FormatUint(uint64(r), 16), 8))
		}
	}
	b.WriteByte(quote)
	return b.String()
}

func hex2(v uint64) string { return pad(strconv.FormatUint(v, 16), 2) }

func pad(s string, n int) string {
	for len(s) < n {
		s = "0" + s
	}
	return s
}
