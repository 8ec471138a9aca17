package hashers

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"hash"
	"strconv"
	"strings"
)

const (
	// DefaultIterations is the PBKDF2 iteration count of DefaultVersion
	// (Django 6.0: 1 200 000, spec §5.1), used when a PBKDF2 hasher's
	// Iterations is zero.
	DefaultIterations = 1_200_000
	// DefaultMaxIterations bounds the iteration count Verify accepts from a
	// stored string (about 40× Django 6.0's default) when MaxIterations is
	// zero. Django has no bound: a row with 10^12 iterations would hang it.
	DefaultMaxIterations = 50_000_000
)

// PBKDF2PasswordHasher is Django's default hasher, "pbkdf2_sha256":
// pbkdf2_sha256$<iterations>$<salt>$<b64std(PBKDF2-HMAC-SHA256, 32 bytes)>
// (spec §1.4, §5.1). The zero value has Django 6.0's defaults.
type PBKDF2PasswordHasher struct {
	// Iterations used by Encode and expected by MustUpdate; 0 means
	// DefaultIterations. Verify uses the count in the string.
	Iterations int
	// MaxIterations is the largest count Verify computes (ErrCostLimit
	// above it); 0 means DefaultMaxIterations. Never below Iterations.
	MaxIterations int
	// LegacySalt mimics Django ≤ 3.1: 12-character salts, and MustUpdate
	// ignores salt length.
	LegacySalt bool
}

// PBKDF2SHA1PasswordHasher is "pbkdf2_sha1": as PBKDF2PasswordHasher with
// HMAC-SHA1 and a 20-byte key (28 base64 characters).
type PBKDF2SHA1PasswordHasher struct {
	Iterations    int
	MaxIterations int
	LegacySalt    bool
}

// pbkdf2Hasher is the shared implementation.
type pbkdf2Hasher struct {
	algorithm  string
	newHash    func() hash.Hash
	size       int
	iterations int
	max        int
	legacySalt bool
}

func (h PBKDF2PasswordHasher) impl() pbkdf2Hasher {
	return newPBKDF2("pbkdf2_sha256", sha256.New, sha256.Size, h.Iterations, h.MaxIterations, h.LegacySalt)
}

func (h PBKDF2SHA1PasswordHasher) impl() pbkdf2Hasher {
	return newPBKDF2("pbkdf2_sha1", sha1.New, sha1.Size, h.Iterations, h.MaxIterations, h.LegacySalt)
}

func newPBKDF2(alg string, nh func() hash.Hash, size, iterations, max int, legacy bool) pbkdf2Hasher {
	if iterations <= 0 {
		iterations = DefaultIterations
	}
	if max <= 0 {
		max = DefaultMaxIterations
	}
	if max < iterations {
		max = iterations
	}
	return pbkdf2Hasher{alg, nh, size, iterations, max, legacy}
}

// Algorithm returns "pbkdf2_sha256".
func (h PBKDF2PasswordHasher) Algorithm() string { return "pbkdf2_sha256" }

// Salt returns 22 random characters (12 with LegacySalt).
func (h PBKDF2PasswordHasher) Salt() (string, error) { return newSalt(h.LegacySalt) }

// Encode returns pbkdf2_sha256$<Iterations>$<salt>$<hash>. The salt must be
// non-empty and contain no '$' (ErrInvalidSalt).
func (h PBKDF2PasswordHasher) Encode(password, salt string) (string, error) {
	i := h.impl()
	return i.encode(password, salt, i.iterations)
}

// Verify recomputes the hash with the string's iterations and salt and
// compares the whole string in constant time.
func (h PBKDF2PasswordHasher) Verify(password, encoded string) (bool, error) {
	return h.impl().verify(password, encoded)
}

// MustUpdate: other iterations than Iterations (higher too, as Django), or
// a salt under 22 characters (unless LegacySalt).
func (h PBKDF2PasswordHasher) MustUpdate(encoded string) bool { return h.impl().mustUpdate(encoded) }

// Decode returns the algorithm, iterations, salt and hash fields.
func (h PBKDF2PasswordHasher) Decode(encoded string) (Decoded, error) {
	return h.impl().decode(encoded)
}

// HardenRuntime runs the iterations the string lacks against Iterations.
func (h PBKDF2PasswordHasher) HardenRuntime(password, encoded string) {
	h.impl().hardenRuntime(password, encoded)
}

// Algorithm returns "pbkdf2_sha1".
func (h PBKDF2SHA1PasswordHasher) Algorithm() string { return "pbkdf2_sha1" }

// Salt returns 22 random characters (12 with LegacySalt).
func (h PBKDF2SHA1PasswordHasher) Salt() (string, error) { return newSalt(h.LegacySalt) }

// Encode returns pbkdf2_sha1$<Iterations>$<salt>$<hash>.
func (h PBKDF2SHA1PasswordHasher) Encode(password, salt string) (string, error) {
	i := h.impl()
	return i.encode(password, salt, i.iterations)
}

// Verify: see PBKDF2PasswordHasher.Verify.
func (h PBKDF2SHA1PasswordHasher) Verify(password, encoded string) (bool, error) {
	return h.impl().verify(password, encoded)
}

// MustUpdate: see PBKDF2PasswordHasher.MustUpdate.
func (h PBKDF2SHA1PasswordHasher) MustUpdate(encoded string) bool {
	return h.impl().mustUpdate(encoded)
}

// Decode returns the algorithm, iterations, salt and hash fields.
func (h PBKDF2SHA1PasswordHasher) Decode(encoded string) (Decoded, error) {
	return h.impl().decode(encoded)
}

// HardenRuntime runs the iterations the string lacks against Iterations.
func (h PBKDF2SHA1PasswordHasher) HardenRuntime(password, encoded string) {
	h.impl().hardenRuntime(password, encoded)
}

// PBKDF2 is Django's django.utils.crypto.pbkdf2 (spec §1.4): PBKDF2-HMAC
// of password and salt (their bytes; Django uses UTF-8) with digest (nil
// means SHA-256), and dklen bytes of output (0 means the digest size).
// iterations must be ≥ 1.
func PBKDF2(password, salt string, iterations, dklen int, digest func() hash.Hash) ([]byte, error) {
	if digest == nil {
		digest = sha256.New
	}
	if dklen == 0 {
		dklen = digest().Size()
	}
	if iterations < 1 || dklen < 0 {
		return nil, fmt.Errorf("hashers: pbkdf2: iterations and dklen must be positive: %w", ErrUnsupported)
	}
	dk, err := pbkdf2.Key(digest, password, []byte(salt), iterations, dklen)
	if err != nil {
		// FIPS-140-only mode, or an absurd dklen.
		return nil, fmt.Errorf("hashers: pbkdf2: %w", ErrUnsupported)
	}
	return dk, nil
}

func (p pbkdf2Hasher) derive(password, salt string, iterations int) (string, error) {
	dk, err := PBKDF2(password, salt, iterations, p.size, p.newHash)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(dk), nil
}

func (p pbkdf2Hasher) encode(password, salt string, iterations int) (string, error) {
	if err := checkSalt(salt); err != nil {
		return "", err
	}
	dk, err := p.derive(password, salt, iterations)
	if err != nil {
		return "", err
	}
	return p.algorithm + "$" + strconv.Itoa(iterations) + "$" + salt + "$" + dk, nil
}

// parse splits "<alg>$<iterations>$<salt>$<hash>" (Django: split('$', 3),
// so any further '$' belongs to the hash and can never match).
func (p pbkdf2Hasher) parse(encoded string) (iterations uint64, salt, hash string, err error) {
	rest, err := splitAlgorithm(encoded, p.algorithm)
	if err != nil {
		return 0, "", "", err
	}
	fields := strings.SplitN(rest, "$", 3)
	if len(fields) != 3 {
		return 0, "", "", malformed(p.algorithm, "want 4 '$'-separated fields")
	}
	iterations, ok := parseUint(fields[0], 1<<62)
	if !ok || iterations == 0 {
		return 0, "", "", malformed(p.algorithm, "iterations is not a positive decimal")
	}
	return iterations, fields[1], fields[2], nil
}

func (p pbkdf2Hasher) verify(password, encoded string) (bool, error) {
	iterations, salt, hash, err := p.parse(encoded)
	if err != nil {
		return false, err
	}
	if salt == "" {
		return false, malformed(p.algorithm, "empty salt")
	}
	if iterations > uint64(p.max) {
		return false, costLimit(p.algorithm, "iterations above MaxIterations")
	}
	// A hash field that is not the base64 of a digest can never match;
	// refuse it before spending the iterations.
	if !isBase64(hash, base64.StdEncoding, p.size) {
		return false, malformed(p.algorithm, "hash is not base64 of the digest size")
	}
	again, err := p.encode(password, salt, int(iterations))
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(encoded), []byte(again)) == 1, nil
}

func (p pbkdf2Hasher) mustUpdate(encoded string) bool {
	iterations, salt, _, err := p.parse(encoded)
	if err != nil {
		return false
	}
	return iterations != uint64(p.iterations) || (!p.legacySalt && saltTooShort(salt))
}

func (p pbkdf2Hasher) decode(encoded string) (Decoded, error) {
	iterations, salt, hash, err := p.parse(encoded)
	if err != nil {
		return Decoded{}, err
	}
	if iterations > 1<<31 {
		return Decoded{}, malformed(p.algorithm, "iterations out of range")
	}
	return Decoded{Algorithm: p.algorithm, Iterations: int(iterations), Salt: salt, Hash: hash}, nil
}

func (p pbkdf2Hasher) hardenRuntime(password, encoded string) {
	iterations, salt, _, err := p.parse(encoded)
	if err != nil || iterations >= uint64(p.iterations) {
		return
	}
	_, _ = p.derive(password, salt, p.iterations-int(iterations))
}

// isBase64 reports whether s is exactly the canonical encoding of n bytes in
// enc (no line breaks, which Go's decoder would otherwise skip).
func isBase64(s string, enc *base64.Encoding, n int) bool {
	if len(s) != enc.EncodedLen(n) || strings.ContainsAny(s, "\r\n") {
		return false
	}
	b, err := enc.Strict().DecodeString(s)
	return err == nil && len(b) == n
}
