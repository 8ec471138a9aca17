// Package hashers verifies and makes Django password hashes — the strings
// Django keeps in auth_user.password — in Django's own formats (spec §5).
//
// The vocabulary is Django's (django.contrib.auth.hashers): a Hasher per
// algorithm (PBKDF2PasswordHasher, Argon2PasswordHasher, ...), an ordered
// Hashers list that plays the part of the PASSWORD_HASHERS setting (the first
// entry is the preferred hasher), CheckPassword (check_password),
// MakePassword (make_password), IdentifyHasher (identify_hasher) and
// IsUsable (is_password_usable).
//
// Every algorithm Django 1.10–6.1 shipped is verified, except crypt (the
// platform crypt(3) of the Django host; not computable portably), which
// reports ErrUnsupported.
//
// A password hash is semi-trusted input: whoever can write a row can make
// Verify spend CPU and memory. Each hasher therefore refuses (ErrCostLimit)
// work factors above a documented bound that Django itself does not have;
// see DefaultMaxIterations, DefaultMaxBcryptRounds, DefaultArgon2MaxMemoryCost,
// DefaultArgon2MaxWork, DefaultScryptMaxMemory and DefaultScryptMaxWork.
//
// Errors never contain a password, a hash or a salt.
package hashers

import (
	"crypto/rand"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors; test with errors.Is.
var (
	// ErrUnknownHasher: the encoded string names no hasher in the
	// Hashers list (Django: "Unknown password hashing algorithm"), or the
	// list is empty.
	ErrUnknownHasher = errors.New("hashers: unknown password hashing algorithm")
	// ErrMalformedHash: the encoded string does not have its algorithm's
	// shape (field count, numbers, base64, parameter ranges).
	ErrMalformedHash = errors.New("hashers: malformed password hash")
	// ErrUnsupported: the algorithm (crypt), the Django version, or the
	// input (a NUL byte in a plain bcrypt password) cannot be handled.
	ErrUnsupported = errors.New("hashers: unsupported")
	// ErrCostLimit: the encoded string asks for more work or memory than
	// the hasher's configured bound. Django has no such bound; raise the
	// hasher's Max* field if a legitimate hash hits it.
	ErrCostLimit = errors.New("hashers: password hash work factor exceeds the configured limit")
	// ErrInvalidSalt: Encode was given a salt its algorithm refuses
	// (empty, containing '$', wrong length or shape).
	ErrInvalidSalt = errors.New("hashers: invalid salt")
)

const (
	// UnusablePasswordPrefix starts every unusable password (Django's
	// UNUSABLE_PASSWORD_PREFIX); such a value never verifies.
	UnusablePasswordPrefix = "!"
	// UnusablePasswordSuffixLength is the number of random characters
	// after the prefix (UNUSABLE_PASSWORD_SUFFIX_LENGTH).
	UnusablePasswordSuffixLength = 40
	// RandomStringChars is Django's RANDOM_STRING_CHARS (spec §1.3), the
	// alphabet of every salt Django generates.
	RandomStringChars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	// SaltLength is the salt length of Django 3.2+ (salt_entropy = 128
	// bits → ceil(128/log2(62)) = 22 characters, spec §5.1).
	SaltLength = 22
	// LegacySaltLength is the salt length of Django ≤ 3.1
	// (get_random_string() default, 12 characters).
	LegacySaltLength = 12
	// DefaultVersion is the Django release whose defaults apply when no
	// WithVersion option is given.
	DefaultVersion = "6.0"
)

// Hasher is one password hashing algorithm, as Django's BasePasswordHasher.
// Implementations are immutable values, safe for concurrent use.
type Hasher interface {
	// Algorithm is the name that starts the encoded string
	// ("pbkdf2_sha256", "argon2", ...).
	Algorithm() string
	// Salt returns a new random salt for Encode (Django's salt()).
	Salt() (string, error)
	// Encode hashes password with salt into Django's encoded form.
	Encode(password, salt string) (string, error)
	// Verify reports whether password matches encoded. A well-formed
	// string that does not match is (false, nil); a string that is not
	// this hasher's shape, or whose cost is above the hasher's limit, is
	// (false, error). It never returns (true, error).
	Verify(password, encoded string) (bool, error)
	// MustUpdate reports whether encoded was made with other parameters
	// than this hasher's (Django's must_update): the password should be
	// re-encoded at the next successful login. False for a malformed
	// string.
	MustUpdate(encoded string) bool
	// Decode splits encoded into its parts (Django's decode()).
	Decode(encoded string) (Decoded, error)
}

// RuntimeHardener is implemented by hashers with a work factor; see Django's
// harden_runtime. CheckPassword calls HardenRuntime after a wrong password
// for a hash that must be updated, so that a weaker stored hash does not
// answer faster than the preferred one would.
type RuntimeHardener interface {
	HardenRuntime(password, encoded string)
}

// Decoded is what Decode returns: Django's decode() dictionary. Fields that
// do not apply to an algorithm are zero.
type Decoded struct {
	Algorithm string
	// Hash is the hash field as written in the string (base64, hex, or
	// bcrypt's checksum).
	Hash string
	// Salt is the salt as Django hands it to encode(). For argon2 it is
	// the base64-decoded salt; for bcrypt the 22 salt characters.
	Salt string
	// Iterations: PBKDF2.
	Iterations int
	// WorkFactor: bcrypt's log2 rounds, or scrypt's N.
	WorkFactor int
	// BlockSize: scrypt's r.
	BlockSize int
	// Parallelism: scrypt's p, argon2's lanes.
	Parallelism int
	// MemoryCost (KiB) and TimeCost: argon2.
	MemoryCost int
	TimeCost   int
	// Variety: argon2's type ("argon2id", "argon2i", "argon2d").
	Variety string
	// Version: argon2's version; 16 (0x10) for the old form without "v="
	// (what libargon2 computes with; argon2-cffi reports 18 there).
	Version int
	// AlgoStr: bcrypt's version ("2b", "2a", "2y").
	AlgoStr string
}

// IsUsable reports whether encoded may ever verify: false for unusable
// passwords (the "!" prefix of set_unusable_password), as Django's
// is_password_usable.
func IsUsable(encoded string) bool {
	return !strings.HasPrefix(encoded, UnusablePasswordPrefix)
}

// MakeUnusablePassword returns "!" followed by 40 random characters, what
// Django's make_password(None) stores.
func MakeUnusablePassword() (string, error) {
	s, err := RandomString(UnusablePasswordSuffixLength)
	if err != nil {
		return "", err
	}
	return UnusablePasswordPrefix + s, nil
}

// RandomString returns n characters drawn uniformly and independently from
// RandomStringChars with crypto/rand (Django's get_random_string, spec §1.3).
func RandomString(n int) (string, error) {
	if n <= 0 {
		return "", nil
	}
	out := make([]byte, 0, n)
	var buf [64]byte
	for len(out) < n {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("hashers: random salt: %w", err)
		}
		for _, b := range buf {
			// 248 = 4·62: rejecting larger bytes keeps the draw uniform.
			if b >= 248 {
				continue
			}
			out = append(out, RandomStringChars[b%62])
			if len(out) == n {
				break
			}
		}
	}
	return string(out), nil
}

// saltTooShort is Django's must_update_salt(salt, 128): each character of a
// salt counts log2(62) bits, and fewer than 128 bits must be upgraded. That
// is: fewer than 22 characters (Python's len counts code points).
func saltTooShort(salt string) bool {
	return utf8.RuneCountInString(salt) < SaltLength
}

// newSalt is BasePasswordHasher.salt(): 22 characters in Django 3.2+, 12
// before.
func newSalt(legacy bool) (string, error) {
	if legacy {
		return RandomString(LegacySaltLength)
	}
	return RandomString(SaltLength)
}

// checkSalt is Django's _check_encode_args for salted hashers: the salt
// must be non-empty and contain no '$'.
func checkSalt(salt string) error {
	if salt == "" || strings.Contains(salt, "$") {
		return fmt.Errorf("hashers: salt must be non-empty and contain no '$': %w", ErrInvalidSalt)
	}
	return nil
}

// parseUint parses a canonical non-negative decimal: ASCII digits, no sign,
// no leading zero (except "0" itself), at most max. Django re-encodes the
// number with "%d" and compares the whole string, so any other spelling
// could never verify there either.
func parseUint(s string, max uint64) (uint64, bool) {
	if s == "" || len(s) > 20 || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v > max {
		return 0, false
	}
	return v, true
}

// malformed wraps ErrMalformedHash with the algorithm and a reason that
// names a field, never its content.
func malformed(algorithm, why string) error {
	return fmt.Errorf("hashers: %s: %s: %w", algorithm, why, ErrMalformedHash)
}

// costLimit wraps ErrCostLimit.
func costLimit(algorithm, what string) error {
	return fmt.Errorf("hashers: %s: %s: %w", algorithm, what, ErrCostLimit)
}

// splitAlgorithm checks that encoded starts with algorithm + "$" and returns
// the rest.
func splitAlgorithm(encoded, algorithm string) (string, error) {
	rest, ok := strings.CutPrefix(encoded, algorithm+"$")
	if !ok {
		return "", malformed(algorithm, "not this hasher's algorithm")
	}
	return rest, nil
}
