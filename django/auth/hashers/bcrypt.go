package hashers

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"strings"

	"golang.org/x/crypto/blowfish"
)

const (
	// DefaultBcryptRounds is Django's bcrypt work factor (log2 rounds, 12
	// in every release, spec §5.3).
	DefaultBcryptRounds = 12
	// DefaultMaxBcryptRounds bounds the work factor Verify accepts from a
	// stored string when MaxRounds is zero: 17 is 32× the default's work.
	// bcrypt itself allows 31 (2^31 rounds: days of CPU).
	DefaultMaxBcryptRounds = 17
)

// BCryptSHA256PasswordHasher is "bcrypt_sha256": "bcrypt_sha256$" + a
// bcrypt string ($2b$12$<22-char salt><31-char hash>) of the lower-case hex
// SHA-256 of the password, which avoids bcrypt's 72-byte truncation (spec
// §5.3). The zero value has Django's defaults.
//
// The bcrypt computation is our own over golang.org/x/crypto/blowfish's
// EksBlowfish primitives, because Encode must use a given salt, which
// x/crypto/bcrypt cannot. It behaves as the Python bcrypt package Django
// calls: versions $2a$, $2b$ and $2y$ (kept as written), log2 rounds 04–31,
// passwords truncated to 72 bytes, and verification by re-encoding the
// stored string and comparing it whole (a non-canonical salt never matches).
type BCryptSHA256PasswordHasher struct {
	// Rounds is the log2 work factor for Salt and MustUpdate; 0 means
	// DefaultBcryptRounds.
	Rounds int
	// MaxRounds bounds the work factor Verify computes (ErrCostLimit
	// above it); 0 means DefaultMaxBcryptRounds. Never below Rounds.
	MaxRounds int
}

// BCryptPasswordHasher is "bcrypt": bcrypt of the raw password, truncated
// to its first 72 bytes (not in Django's default list since 2.1). A
// password containing a NUL byte is refused with ErrUnsupported, as the
// Python bcrypt package refuses it.
type BCryptPasswordHasher struct {
	Rounds    int
	MaxRounds int
}

// bcryptHasher is the shared implementation.
type bcryptHasher struct {
	algorithm string
	sha256    bool
	rounds    int
	maxRounds int
}

func newBcrypt(alg string, pre bool, rounds, max int) bcryptHasher {
	if rounds <= 0 {
		rounds = DefaultBcryptRounds
	}
	if max <= 0 {
		max = DefaultMaxBcryptRounds
	}
	if max < rounds {
		max = rounds
	}
	return bcryptHasher{alg, pre, rounds, max}
}

func (h BCryptSHA256PasswordHasher) impl() bcryptHasher {
	return newBcrypt("bcrypt_sha256", true, h.Rounds, h.MaxRounds)
}

func (h BCryptPasswordHasher) impl() bcryptHasher {
	return newBcrypt("bcrypt", false, h.Rounds, h.MaxRounds)
}

// Algorithm returns "bcrypt_sha256".
func (h BCryptSHA256PasswordHasher) Algorithm() string { return "bcrypt_sha256" }

// Salt returns a bcrypt setting "$2b$<rounds>$<22 salt chars>", as
// bcrypt.gensalt(rounds).
func (h BCryptSHA256PasswordHasher) Salt() (string, error) { return h.impl().salt() }

// Encode hashes with a bcrypt setting salt ("$2b$12$" + 22 characters; a
// full bcrypt string works too, only its first 29 characters count).
func (h BCryptSHA256PasswordHasher) Encode(password, salt string) (string, error) {
	return h.impl().encode(password, salt)
}

// Verify re-encodes with the stored setting and compares in constant time.
func (h BCryptSHA256PasswordHasher) Verify(password, encoded string) (bool, error) {
	return h.impl().verify(password, encoded)
}

// MustUpdate: a work factor other than Rounds.
func (h BCryptSHA256PasswordHasher) MustUpdate(encoded string) bool {
	return h.impl().mustUpdate(encoded)
}

// Decode returns AlgoStr ("2b"), WorkFactor, Salt (22 characters) and
// Hash (the checksum after the salt).
func (h BCryptSHA256PasswordHasher) Decode(encoded string) (Decoded, error) {
	return h.impl().decode(encoded)
}

// HardenRuntime repeats the stored, cheaper hash until it costs what
// Rounds costs (Django's harden_runtime).
func (h BCryptSHA256PasswordHasher) HardenRuntime(password, encoded string) {
	h.impl().hardenRuntime(password, encoded)
}

// Algorithm returns "bcrypt".
func (h BCryptPasswordHasher) Algorithm() string { return "bcrypt" }

// Salt returns a bcrypt setting "$2b$<rounds>$<22 salt chars>".
func (h BCryptPasswordHasher) Salt() (string, error) { return h.impl().salt() }

// Encode hashes with a bcrypt setting salt (see BCryptSHA256PasswordHasher).
func (h BCryptPasswordHasher) Encode(password, salt string) (string, error) {
	return h.impl().encode(password, salt)
}

// Verify re-encodes with the stored setting and compares in constant time.
func (h BCryptPasswordHasher) Verify(password, encoded string) (bool, error) {
	return h.impl().verify(password, encoded)
}

// MustUpdate: a work factor other than Rounds.
func (h BCryptPasswordHasher) MustUpdate(encoded string) bool { return h.impl().mustUpdate(encoded) }

// Decode: see BCryptSHA256PasswordHasher.Decode.
func (h BCryptPasswordHasher) Decode(encoded string) (Decoded, error) {
	return h.impl().decode(encoded)
}

// HardenRuntime: see BCryptSHA256PasswordHasher.HardenRuntime.
func (h BCryptPasswordHasher) HardenRuntime(password, encoded string) {
	h.impl().hardenRuntime(password, encoded)
}

// bcryptAlphabet is bcrypt's own base64 alphabet (no padding).
const bcryptAlphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

var bcryptB64 = base64.NewEncoding(bcryptAlphabet).WithPadding(base64.NoPadding)

// bcryptSetting is the "$2b$12$<salt>" prefix of a bcrypt string.
type bcryptSetting struct {
	minor byte
	cost  int
	salt  []byte // 16 bytes
}

// parseBcryptSetting reads the first 29 characters of s as the bcrypt
// library does: "$2", a minor version a/b/y, "$", two digits 04–31, "$",
// then 22 salt characters of which 16 bytes are decoded (the last
// character's low 4 bits are ignored there too). What follows is not read.
func parseBcryptSetting(alg, s string) (bcryptSetting, error) {
	if len(s) < 29 {
		return bcryptSetting{}, malformed(alg, "bcrypt string too short")
	}
	if s[0] != '$' || s[1] != '2' || s[3] != '$' || s[6] != '$' {
		return bcryptSetting{}, malformed(alg, "not a bcrypt string")
	}
	minor := s[2]
	if minor != 'a' && minor != 'b' && minor != 'y' {
		return bcryptSetting{}, malformed(alg, "unknown bcrypt version")
	}
	if s[4] < '0' || s[4] > '9' || s[5] < '0' || s[5] > '9' {
		return bcryptSetting{}, malformed(alg, "work factor is not two digits")
	}
	cost := int(s[4]-'0')*10 + int(s[5]-'0')
	if cost < 4 || cost > 31 {
		return bcryptSetting{}, malformed(alg, "work factor outside 04-31")
	}
	saltText := s[7:29]
	for i := 0; i < len(saltText); i++ {
		if strings.IndexByte(bcryptAlphabet, saltText[i]) < 0 {
			return bcryptSetting{}, malformed(alg, "salt is not bcrypt base64")
		}
	}
	salt, err := bcryptB64.DecodeString(saltText)
	if err != nil || len(salt) != 16 {
		return bcryptSetting{}, malformed(alg, "salt is not bcrypt base64")
	}
	return bcryptSetting{minor: minor, cost: cost, salt: salt}, nil
}

// bcryptRaw is EksBlowfish as OpenBSD's bcrypt: key = password (first 72
// bytes) + NUL, 2^cost rounds, then "OrpheanBeholderScryDoubt" encrypted
// 64 times; 23 of the 24 bytes are kept.
func bcryptRaw(password []byte, cost int, salt []byte) ([]byte, error) {
	if len(password) > 72 {
		password = password[:72]
	}
	key := make([]byte, len(password)+1)
	copy(key, password)
	c, err := blowfish.NewSaltedCipher(key, salt)
	if err != nil {
		return nil, err
	}
	rounds := uint64(1) << uint(cost)
	for i := uint64(0); i < rounds; i++ {
		blowfish.ExpandKey(key, c)
		blowfish.ExpandKey(salt, c)
	}
	text := []byte("OrpheanBeholderScryDoubt")
	for i := 0; i < len(text); i += 8 {
		for j := 0; j < 64; j++ {
			c.Encrypt(text[i:i+8], text[i:i+8])
		}
	}
	return text[:23], nil
}

// bcryptString formats "$2<minor>$<cost>$<salt><hash>".
func bcryptString(st bcryptSetting, sum []byte) string {
	return fmt.Sprintf("$2%c$%02d$%s%s", st.minor, st.cost, bcryptB64.EncodeToString(st.salt), bcryptB64.EncodeToString(sum))
}

// input is what bcrypt hashes: hex(sha256(password)) for bcrypt_sha256,
// the password itself for bcrypt.
func (b bcryptHasher) input(password string) ([]byte, error) {
	if b.sha256 {
		sum := sha256.Sum256([]byte(password))
		return []byte(hex.EncodeToString(sum[:])), nil
	}
	if strings.IndexByte(password, 0) >= 0 {
		return nil, fmt.Errorf("hashers: bcrypt: password contains a NUL byte: %w", ErrUnsupported)
	}
	return []byte(password), nil
}

func (b bcryptHasher) salt() (string, error) {
	raw := make([]byte, 16)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("hashers: random salt: %w", err)
	}
	return fmt.Sprintf("$2b$%02d$%s", b.rounds, bcryptB64.EncodeToString(raw)), nil
}

// hash computes the bcrypt string for password under setting text s,
// within the cost bound.
func (b bcryptHasher) hash(password, s string, errAlg string) (string, error) {
	st, err := parseBcryptSetting(errAlg, s)
	if err != nil {
		return "", err
	}
	if st.cost > b.maxRounds {
		return "", costLimit(b.algorithm, "work factor above MaxRounds")
	}
	in, err := b.input(password)
	if err != nil {
		return "", err
	}
	sum, err := bcryptRaw(in, st.cost, st.salt)
	if err != nil {
		return "", fmt.Errorf("hashers: %s: %w", b.algorithm, ErrUnsupported)
	}
	return bcryptString(st, sum), nil
}

func (b bcryptHasher) encode(password, salt string) (string, error) {
	if _, err := parseBcryptSetting(b.algorithm, salt); err != nil {
		return "", fmt.Errorf("hashers: %s: salt must be a bcrypt setting: %w", b.algorithm, ErrInvalidSalt)
	}
	s, err := b.hash(password, salt, b.algorithm)
	if err != nil {
		return "", err
	}
	return b.algorithm + "$" + s, nil
}

func (b bcryptHasher) verify(password, encoded string) (bool, error) {
	data, err := splitAlgorithm(encoded, b.algorithm)
	if err != nil {
		return false, err
	}
	s, err := b.hash(password, data, b.algorithm)
	if err != nil {
		return false, err
	}
	again := b.algorithm + "$" + s
	return subtle.ConstantTimeCompare([]byte(encoded), []byte(again)) == 1, nil
}

// decode is Django's split('$', 4): algorithm, "", algostr, work factor,
// data (salt = data[:22], checksum = the rest).
func (b bcryptHasher) decode(encoded string) (Decoded, error) {
	data, err := splitAlgorithm(encoded, b.algorithm)
	if err != nil {
		return Decoded{}, err
	}
	f := strings.SplitN(data, "$", 4)
	if len(f) != 4 || f[0] != "" {
		return Decoded{}, malformed(b.algorithm, "want $<version>$<rounds>$<data>")
	}
	wf := f[2]
	if len(wf) != 2 || wf[0] < '0' || wf[0] > '9' || wf[1] < '0' || wf[1] > '9' {
		return Decoded{}, malformed(b.algorithm, "work factor is not two digits")
	}
	salt, sum := f[3], ""
	if len(salt) > 22 {
		salt, sum = f[3][:22], f[3][22:]
	}
	return Decoded{Algorithm: b.algorithm, AlgoStr: f[1], WorkFactor: int(wf[0]-'0')*10 + int(wf[1]-'0'), Salt: salt, Hash: sum}, nil
}

func (b bcryptHasher) mustUpdate(encoded string) bool {
	d, err := b.decode(encoded)
	return err == nil && d.WorkFactor != b.rounds
}

func (b bcryptHasher) hardenRuntime(password, encoded string) {
	data, err := splitAlgorithm(encoded, b.algorithm)
	if err != nil {
		return
	}
	st, err := parseBcryptSetting(b.algorithm, data)
	if err != nil || st.cost >= b.rounds {
		return
	}
	in, err := b.input(password)
	if err != nil {
		return
	}
	// Work grows as 2^cost: run the stored cost 2^(rounds-cost) - 1 more
	// times in all.
	for n := (1 << uint(b.rounds-st.cost)) - 1; n > 0; n-- {
		_, _ = bcryptRaw(in, st.cost, st.salt)
	}
}
