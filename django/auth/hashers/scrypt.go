package hashers

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math/bits"
	"strconv"
	"strings"

	"golang.org/x/crypto/scrypt"
)

const (
	// DefaultScryptWorkFactor, DefaultScryptBlockSize and
	// DefaultScryptParallelism are Django's scrypt parameters N = 2^14,
	// r = 8, p = 5 (4.0+, spec §5.4).
	DefaultScryptWorkFactor  = 1 << 14
	DefaultScryptBlockSize   = 8
	DefaultScryptParallelism = 5
	// DefaultScryptMaxMemory is the memory bound (bytes) Verify applies
	// when MaxMemory is zero: 32 MiB, OpenSSL's default maxmem, which is
	// what Django (maxmem = 0) runs with — a stored string Django can
	// verify stays within it. The count is OpenSSL's:
	// 128·r·(N+2) + 128·r·p.
	DefaultScryptMaxMemory = 32 << 20
	// DefaultScryptMaxWork bounds N·r·p (CPU) when MaxWork is zero: 2^25,
	// about 50× Django's default. OpenSSL and Django have no such bound:
	// within 32 MiB, r = 1, N = p = 2^17 would run for hours.
	DefaultScryptMaxWork = 1 << 25
)

// ScryptPasswordHasher is "scrypt" (Django 4.0+):
// scrypt$<N>$<salt>$<r>$<p>$<b64std(64-byte key)> (spec §5.4). The zero
// value has Django's defaults.
type ScryptPasswordHasher struct {
	// WorkFactor (N, a power of two > 1), BlockSize (r) and Parallelism
	// (p) for Encode and MustUpdate; 0 means Django's default.
	WorkFactor, BlockSize, Parallelism int
	// MaxMemory (bytes) and MaxWork (N·r·p) bound what Verify computes
	// (ErrCostLimit above); 0 means DefaultScryptMaxMemory and
	// DefaultScryptMaxWork. The hasher's own parameters are always
	// allowed.
	MaxMemory, MaxWork int64
}

type scryptParams struct{ n, r, p uint64 }

func (h ScryptPasswordHasher) params() scryptParams {
	n, r, p := h.WorkFactor, h.BlockSize, h.Parallelism
	if n <= 0 {
		n = DefaultScryptWorkFactor
	}
	if r <= 0 {
		r = DefaultScryptBlockSize
	}
	if p <= 0 {
		p = DefaultScryptParallelism
	}
	return scryptParams{uint64(n), uint64(r), uint64(p)}
}

// memory is OpenSSL's EVP_PBE_scrypt count: B (128·r·p) plus V and XY
// (128·r·(N+2)), saturating at 2^64-1.
func (s scryptParams) memory() uint64 {
	hi1, v := bits.Mul64(s.r, s.n+2)
	hi2, b := bits.Mul64(s.r, s.p)
	sum, carry := bits.Add64(v, b, 0)
	if hi1 != 0 || hi2 != 0 || carry != 0 || sum > (1<<64-1)/128 {
		return 1<<64 - 1
	}
	return 128 * sum
}

// work is N·r·p, saturating at 2^64-1.
func (s scryptParams) work() uint64 {
	hi, nr := bits.Mul64(s.n, s.r)
	hi2, w := bits.Mul64(nr, s.p)
	if hi != 0 || hi2 != 0 {
		return 1<<64 - 1
	}
	return w
}

// limits returns the memory and work bounds, never below the hasher's own.
func (h ScryptPasswordHasher) limits() (mem, work uint64) {
	own := h.params()
	mem, work = uint64(h.MaxMemory), uint64(h.MaxWork)
	if h.MaxMemory <= 0 {
		mem = DefaultScryptMaxMemory
	}
	if h.MaxWork <= 0 {
		work = DefaultScryptMaxWork
	}
	return max(mem, own.memory()), max(work, own.work())
}

// Algorithm returns "scrypt".
func (h ScryptPasswordHasher) Algorithm() string { return "scrypt" }

// Salt returns 22 random characters.
func (h ScryptPasswordHasher) Salt() (string, error) { return newSalt(false) }

// Encode returns scrypt$<N>$<salt>$<r>$<p>$<hash> with the hasher's
// parameters; the salt must be non-empty without '$'.
func (h ScryptPasswordHasher) Encode(password, salt string) (string, error) {
	return h.encode(password, salt, h.params())
}

func (h ScryptPasswordHasher) encode(password, salt string, s scryptParams) (string, error) {
	if err := checkSalt(salt); err != nil {
		return "", err
	}
	if err := s.valid(); err != nil {
		return "", err
	}
	dk, err := scrypt.Key([]byte(password), []byte(salt), int(s.n), int(s.r), int(s.p), 64)
	if err != nil {
		return "", malformed("scrypt", "parameters refused")
	}
	return "scrypt$" + strconv.FormatUint(s.n, 10) + "$" + salt + "$" +
		strconv.FormatUint(s.r, 10) + "$" + strconv.FormatUint(s.p, 10) + "$" +
		base64.StdEncoding.EncodeToString(dk), nil
}

// valid applies OpenSSL's checks (what Python's hashlib.scrypt, hence
// Django, refuses): N a power of two > 1, r, p ≥ 1, r·p < 2^30, and
// N < 2^(16·r).
func (s scryptParams) valid() error {
	if s.n < 2 || s.n&(s.n-1) != 0 {
		return malformed("scrypt", "N is not a power of two > 1")
	}
	if hi, rp := bits.Mul64(s.r, s.p); s.r == 0 || s.p == 0 || hi != 0 || rp >= 1<<30 {
		return malformed("scrypt", "r or p out of range")
	}
	if 16*s.r < 64 && s.n >= 1<<(16*s.r) {
		return malformed("scrypt", "N too large for r")
	}
	return nil
}

// parse is Django's split('$', 6) into exactly six fields.
func (h ScryptPasswordHasher) parse(encoded string) (scryptParams, string, string, error) {
	rest, err := splitAlgorithm(encoded, "scrypt")
	if err != nil {
		return scryptParams{}, "", "", err
	}
	f := strings.Split(rest, "$")
	if len(f) != 5 {
		return scryptParams{}, "", "", malformed("scrypt", "want 6 '$'-separated fields")
	}
	var s scryptParams
	var ok1, ok2, ok3 bool
	s.n, ok1 = parseUint(f[0], 1<<62)
	s.r, ok2 = parseUint(f[2], 1<<62)
	s.p, ok3 = parseUint(f[3], 1<<62)
	if !ok1 || !ok2 || !ok3 {
		return scryptParams{}, "", "", malformed("scrypt", "N, r or p is not a decimal below 2^62")
	}
	if f[1] == "" {
		return scryptParams{}, "", "", malformed("scrypt", "empty salt")
	}
	return s, f[1], f[4], nil
}

// Verify recomputes with the string's N, r, p and salt (after the memory
// and work bounds) and compares the whole string in constant time.
func (h ScryptPasswordHasher) Verify(password, encoded string) (bool, error) {
	s, salt, hash, err := h.parse(encoded)
	if err != nil {
		return false, err
	}
	if err := s.valid(); err != nil {
		return false, err
	}
	maxMem, maxWork := h.limits()
	if s.memory() > maxMem {
		return false, costLimit("scrypt", "memory above MaxMemory")
	}
	if s.work() > maxWork {
		return false, costLimit("scrypt", "N·r·p above MaxWork")
	}
	if !isBase64(hash, base64.StdEncoding, 64) {
		return false, malformed("scrypt", "hash is not base64 of 64 bytes")
	}
	again, err := h.encode(password, salt, s)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(encoded), []byte(again)) == 1, nil
}

// MustUpdate: N, r or p other than the hasher's (Django checks no salt
// length for scrypt).
func (h ScryptPasswordHasher) MustUpdate(encoded string) bool {
	s, _, _, err := h.parse(encoded)
	return err == nil && s != h.params()
}

// Decode returns WorkFactor (N), Salt, BlockSize (r), Parallelism (p) and
// Hash.
func (h ScryptPasswordHasher) Decode(encoded string) (Decoded, error) {
	s, salt, hash, err := h.parse(encoded)
	if err != nil {
		return Decoded{}, err
	}
	if s.n > 1<<31 || s.r > 1<<31 || s.p > 1<<31 {
		return Decoded{}, fmt.Errorf("hashers: scrypt: parameter out of range: %w", ErrMalformedHash)
	}
	return Decoded{Algorithm: "scrypt", WorkFactor: int(s.n), Salt: salt, BlockSize: int(s.r),
		Parallelism: int(s.p), Hash: hash}, nil
}
