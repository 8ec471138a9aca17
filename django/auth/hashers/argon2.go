package hashers

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	// DefaultArgon2MemoryCost (KiB), DefaultArgon2TimeCost and
	// DefaultArgon2Parallelism are Django 3.2+'s argon2id parameters
	// (spec §5.2); DefaultArgon2HashLength is argon2-cffi's 16 bytes.
	DefaultArgon2MemoryCost  = 102_400
	DefaultArgon2TimeCost    = 2
	DefaultArgon2Parallelism = 8
	DefaultArgon2HashLength  = 16
	// DefaultArgon2MaxMemoryCost bounds the memory (KiB) Verify allocates
	// for a stored string when MaxMemoryCost is zero: 1 GiB, 10× Django's
	// default. libargon2 accepts up to 4 TiB.
	DefaultArgon2MaxMemoryCost = 1 << 20
	// DefaultArgon2MaxWork bounds memory × time (KiB·passes) when MaxWork
	// is zero: 2^22, about 20× Django's default (102 400 × 2).
	DefaultArgon2MaxWork = 1 << 22
)

// Argon2PasswordHasher is "argon2": "argon2" + argon2-cffi's PHC string
// without its leading empty field,
// argon2$argon2id$v=19$m=102400,t=2,p=8$<b64 salt>$<b64 hash> (spec §5.2;
// base64 without padding). Verify accepts what Django (argon2-cffi,
// libargon2) accepts: argon2id, argon2i and argon2d, any version including
// the old form without "v=" (computed as version 0x10), 4 to any number of
// hash bytes, salts of 8 bytes or more. The zero value has Django 3.2+'s
// defaults.
//
// Version 0x13 argon2i/argon2id with up to 255 lanes (every string Django
// 3.2+ writes) is computed by golang.org/x/crypto/argon2; the rest by this
// package's own RFC 9106 implementation.
type Argon2PasswordHasher struct {
	// Type is "argon2id" (default, Django 3.2+), "argon2i" (≤ 3.1) or
	// "argon2d".
	Type string
	// MemoryCost (KiB), TimeCost, Parallelism and HashLength (bytes) for
	// Encode and MustUpdate; 0 means the Default* value.
	MemoryCost, TimeCost, Parallelism, HashLength int
	// LegacySalt mimics Django ≤ 3.1: 12-character salts, and MustUpdate
	// ignores salt length.
	LegacySalt bool
	// MaxMemoryCost (KiB) and MaxWork (memory × time) bound what Verify
	// computes (ErrCostLimit above); 0 means the Default* bound. The
	// hasher's own parameters are always allowed.
	MaxMemoryCost, MaxWork int64
}

type argon2Params struct {
	typ                 uint32
	variety             string
	version             uint32
	memory, time, lanes uint32
	salt, hash          []byte
	saltText, hashText  string
}

var argon2Types = map[string]uint32{"argon2d": argon2TypeD, "argon2i": argon2TypeI, "argon2id": argon2TypeID}

func (h Argon2PasswordHasher) own() (variety string, typ uint32, m, t, p, n uint32, err error) {
	variety = h.Type
	if variety == "" {
		variety = "argon2id"
	}
	typ, ok := argon2Types[variety]
	if !ok {
		return "", 0, 0, 0, 0, 0, fmt.Errorf("hashers: argon2 type %q: %w", h.Type, ErrUnsupported)
	}
	def := func(v, d int) (uint32, bool) {
		if v <= 0 {
			return uint32(d), true
		}
		return uint32(v), v <= 1<<32-1
	}
	var okM, okT, okP, okN bool
	m, okM = def(h.MemoryCost, DefaultArgon2MemoryCost)
	t, okT = def(h.TimeCost, DefaultArgon2TimeCost)
	p, okP = def(h.Parallelism, DefaultArgon2Parallelism)
	n, okN = def(h.HashLength, DefaultArgon2HashLength)
	if !okM || !okT || !okP || !okN || p > 1<<24-1 || m < 8*p || n < 4 {
		return "", 0, 0, 0, 0, 0, fmt.Errorf("hashers: argon2 parameters out of range: %w", ErrUnsupported)
	}
	return variety, typ, m, t, p, n, nil
}

// Algorithm returns "argon2".
func (h Argon2PasswordHasher) Algorithm() string { return "argon2" }

// Salt returns 22 random characters (12 with LegacySalt).
func (h Argon2PasswordHasher) Salt() (string, error) { return newSalt(h.LegacySalt) }

// Encode hashes with the hasher's type and parameters at version 19; the
// salt must be at least 8 bytes (libargon2's minimum).
func (h Argon2PasswordHasher) Encode(password, salt string) (string, error) {
	variety, typ, m, t, p, n, err := h.own()
	if err != nil {
		return "", err
	}
	if len(salt) < 8 {
		return "", fmt.Errorf("hashers: argon2: salt shorter than 8 bytes: %w", ErrInvalidSalt)
	}
	tag := argon2Compute(typ, argon2Version13, []byte(password), []byte(salt), t, m, p, n)
	return "argon2$" + variety + "$v=19$m=" + strconv.FormatUint(uint64(m), 10) +
		",t=" + strconv.FormatUint(uint64(t), 10) + ",p=" + strconv.FormatUint(uint64(p), 10) +
		"$" + base64.RawStdEncoding.EncodeToString([]byte(salt)) +
		"$" + base64.RawStdEncoding.EncodeToString(tag), nil
}

// argon2Compute picks x/crypto/argon2 where it applies, else our engine.
func argon2Compute(typ, version uint32, password, salt []byte, t, m, p, n uint32) []byte {
	if version == argon2Version13 && p <= 255 {
		switch typ {
		case argon2TypeID:
			return argon2.IDKey(password, salt, t, m, uint8(p), n)
		case argon2TypeI:
			return argon2.Key(password, salt, t, m, uint8(p), n)
		}
	}
	return argon2Ref(typ, version, password, salt, t, m, p, n)
}

// parseArgon2 reads the string as libargon2's decoder does after
// argon2-cffi picked the type from the header: "$<type>", optional
// "$v=<u32>" (absent: 0x10), "$m=<u32>,t=<u32>,p=<u32>", "$<salt>",
// "$<hash>", nothing after. Numbers are minimal decimals; base64 is the
// standard alphabet without padding, trailing bits zero.
func parseArgon2(encoded string) (argon2Params, error) {
	bad := func(why string) (argon2Params, error) { return argon2Params{}, malformed("argon2", why) }
	rest, err := splitAlgorithm(encoded, "argon2")
	if err != nil {
		return argon2Params{}, err
	}
	var a argon2Params
	var ok bool
	a.variety, rest, ok = strings.Cut(rest, "$")
	if a.typ, ok = argon2Types[a.variety]; !ok {
		return bad("unknown argon2 type")
	}
	a.version = argon2Version10
	if v, ok := strings.CutPrefix(rest, "v="); ok {
		var vs string
		vs, rest, _ = strings.Cut(v, "$")
		n, ok := parseUint(vs, 1<<32-1)
		if !ok {
			return bad("version is not a decimal")
		}
		a.version = uint32(n)
	}
	params, rest, ok := strings.Cut(rest, "$")
	if !ok {
		return bad("want $m=,t=,p=$salt$hash")
	}
	var nums [3]uint32
	for i, key := range []string{"m=", "t=", "p="} {
		var field string
		if i < 2 {
			field, params, ok = strings.Cut(params, ",")
		} else {
			field, ok = params, true
		}
		v, okKey := strings.CutPrefix(field, key)
		n, okNum := parseUint(v, 1<<32-1)
		if !ok || !okKey || !okNum {
			return bad("parameters are not m=<n>,t=<n>,p=<n>")
		}
		nums[i] = uint32(n)
	}
	a.memory, a.time, a.lanes = nums[0], nums[1], nums[2]
	a.saltText, a.hashText, ok = strings.Cut(rest, "$")
	if !ok {
		return bad("want $salt$hash")
	}
	if a.salt, ok = rawBase64(a.saltText); !ok {
		return bad("salt is not unpadded base64")
	}
	if a.hash, ok = rawBase64(a.hashText); !ok {
		return bad("hash is not unpadded base64")
	}
	return a, nil
}

// validate applies libargon2's validate_inputs (Django: VerificationError,
// i.e. False).
func (a argon2Params) validate() error {
	bad := func(why string) error { return malformed("argon2", why) }
	switch {
	case len(a.hash) < 4:
		return bad("hash shorter than 4 bytes")
	case len(a.salt) < 8:
		return bad("salt shorter than 8 bytes")
	case a.time < 1:
		return bad("time cost below 1")
	case a.lanes < 1 || a.lanes > 1<<24-1:
		return bad("parallelism out of range")
	case a.memory < 8 || uint64(a.memory) < 8*uint64(a.lanes):
		return bad("memory cost below 8 × parallelism")
	}
	return nil
}

// rawBase64 decodes canonical unpadded standard base64.
func rawBase64(s string) ([]byte, bool) {
	if strings.ContainsAny(s, "\r\n=") {
		return nil, false
	}
	b, err := base64.RawStdEncoding.Strict().DecodeString(s)
	return b, err == nil
}

func (h Argon2PasswordHasher) limits() (mem, work uint64) {
	mem, work = uint64(h.MaxMemoryCost), uint64(h.MaxWork)
	if h.MaxMemoryCost <= 0 {
		mem = DefaultArgon2MaxMemoryCost
	}
	if h.MaxWork <= 0 {
		work = DefaultArgon2MaxWork
	}
	if _, _, m, t, _, _, err := h.own(); err == nil {
		mem = max(mem, uint64(m))
		work = max(work, uint64(m)*uint64(t))
	}
	return mem, work
}

// Verify recomputes the tag with the string's type, version, parameters
// and salt (after the memory and work bounds) and compares it in constant
// time.
func (h Argon2PasswordHasher) Verify(password, encoded string) (bool, error) {
	a, err := parseArgon2(encoded)
	if err != nil {
		return false, err
	}
	if err := a.validate(); err != nil {
		return false, err
	}
	maxMem, maxWork := h.limits()
	if uint64(a.memory) > maxMem {
		return false, costLimit("argon2", "memory cost above MaxMemoryCost")
	}
	if uint64(a.memory)*uint64(a.time) > maxWork {
		return false, costLimit("argon2", "memory × time above MaxWork")
	}
	tag := argon2Compute(a.typ, a.version, []byte(password), a.salt, a.time, a.memory, a.lanes, uint32(len(a.hash)))
	return subtle.ConstantTimeCompare(tag, a.hash) == 1, nil
}

// MustUpdate: another type, version, memory, time, parallelism or hash
// length than the hasher's, or a salt under 22 bytes (unless LegacySalt),
// as Django's comparison of argon2-cffi Parameters.
func (h Argon2PasswordHasher) MustUpdate(encoded string) bool {
	a, err := parseArgon2(encoded)
	if err != nil {
		return false
	}
	variety, _, m, t, p, n, err := h.own()
	if err != nil {
		return false
	}
	return a.variety != variety || a.version != argon2Version13 || a.memory != m || a.time != t ||
		a.lanes != p || uint32(len(a.hash)) != n || (!h.LegacySalt && len(a.salt) < SaltLength)
}

// Decode returns Variety, Version, MemoryCost, TimeCost, Parallelism, Salt
// (decoded, each byte as a Latin-1 character, as Django) and Hash (base64).
func (h Argon2PasswordHasher) Decode(encoded string) (Decoded, error) {
	a, err := parseArgon2(encoded)
	if err != nil {
		return Decoded{}, err
	}
	salt := make([]rune, len(a.salt))
	for i, b := range a.salt {
		salt[i] = rune(b)
	}
	return Decoded{Algorithm: "argon2", Variety: a.variety, Version: int(a.version),
		MemoryCost: int(a.memory), TimeCost: int(a.time), Parallelism: int(a.lanes),
		Salt: string(salt), Hash: a.hashText}, nil
}
