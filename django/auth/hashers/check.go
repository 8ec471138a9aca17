package hashers

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// PBKDF2Iterations is Django's default PBKDF2 iteration count per release
// (spec §5.1, keys "major.minor"). 2.1 is inferred in the spec (120 000).
// Read it; do not modify it.
var PBKDF2Iterations = map[string]int{
	"1.10": 30_000,
	"1.11": 36_000,
	"2.0":  100_000,
	"2.1":  120_000,
	"2.2":  150_000,
	"3.0":  180_000,
	"3.1":  216_000,
	"3.2":  260_000,
	"4.0":  320_000,
	"4.1":  390_000,
	"4.2":  600_000,
	"5.0":  720_000,
	"5.1":  870_000,
	"5.2":  1_000_000,
	"6.0":  1_200_000,
	"6.1":  1_500_000,
}

// djangoVersion is a parsed "major.minor".
type djangoVersion struct{ major, minor int }

func (v djangoVersion) atLeast(major, minor int) bool {
	return v.major > major || (v.major == major && v.minor >= minor)
}

// parseVersion accepts "X.Y" or "X.Y.Z..." for a release in PBKDF2Iterations.
func parseVersion(s string) (djangoVersion, string, error) {
	parts := strings.SplitN(s, ".", 3)
	bad := fmt.Errorf("hashers: Django version %q: %w", s, ErrUnsupported)
	if len(parts) < 2 {
		return djangoVersion{}, "", bad
	}
	key := parts[0] + "." + parts[1]
	if _, ok := PBKDF2Iterations[key]; !ok {
		return djangoVersion{}, "", bad
	}
	major, err1 := strconv.Atoi(parts[0])
	minor, err2 := strconv.Atoi(parts[1])
	if err1 != nil || err2 != nil {
		return djangoVersion{}, "", bad
	}
	return djangoVersion{major, minor}, key, nil
}

// DefaultHashers returns Django's default PASSWORD_HASHERS for a release
// ("3.2", "5.2.17", ...), each hasher carrying that release's defaults
// (spec §5, §10): PBKDF2 (sha256), PBKDF2SHA1, Argon2, BCryptSHA256, then
// BCrypt for ≤ 2.0 and Scrypt from 4.0. Releases before 3.2 use 12-character
// salts and argon2i with memory 512 KiB, time 2, parallelism 2.
func DefaultHashers(version string) (Hashers, error) {
	v, key, err := parseVersion(version)
	if err != nil {
		return nil, err
	}
	iterations := PBKDF2Iterations[key]
	legacy := !v.atLeast(3, 2)
	argon := Argon2PasswordHasher{LegacySalt: legacy}
	if legacy {
		argon.Type, argon.MemoryCost, argon.TimeCost, argon.Parallelism = "argon2i", 512, 2, 2
	}
	hs := Hashers{
		PBKDF2PasswordHasher{Iterations: iterations, LegacySalt: legacy},
		PBKDF2SHA1PasswordHasher{Iterations: iterations, LegacySalt: legacy},
		argon,
		BCryptSHA256PasswordHasher{},
	}
	if !v.atLeast(2, 1) {
		hs = append(hs, BCryptPasswordHasher{})
	}
	if v.atLeast(4, 0) {
		hs = append(hs, ScryptPasswordHasher{})
	}
	return hs, nil
}

// Hashers is an ordered list of hashers: Django's PASSWORD_HASHERS. The first
// is the preferred hasher: MakePassword uses it, and CheckPassword reports
// mustUpdate for any hash that it did not make with its parameters.
type Hashers []Hasher

// Get returns the hasher for algorithm ("default" = the first), as Django's
// get_hasher.
func (hs Hashers) Get(algorithm string) (Hasher, error) {
	if len(hs) == 0 {
		return nil, fmt.Errorf("hashers: empty hasher list: %w", ErrUnknownHasher)
	}
	if algorithm == "default" {
		return hs[0], nil
	}
	for _, h := range hs {
		if h.Algorithm() == algorithm {
			return h, nil
		}
	}
	return nil, ErrUnknownHasher
}

// Identify returns the hasher that made encoded, as Django's
// identify_hasher: the text before the first '$', except the ancient forms
// of 32 hex characters or "md5$$" + 32 (unsalted_md5) and "sha1$$" + 40
// (unsalted_sha1). Lengths count code points, as Python's len does.
func (hs Hashers) Identify(encoded string) (Hasher, error) {
	n := utf8.RuneCountInString(encoded)
	var algorithm string
	switch {
	case (n == 32 && !strings.Contains(encoded, "$")) ||
		(n == 37 && strings.HasPrefix(encoded, "md5$$")):
		algorithm = "unsalted_md5"
	case n == 46 && strings.HasPrefix(encoded, "sha1$$"):
		algorithm = "unsalted_sha1"
	default:
		algorithm, _, _ = strings.Cut(encoded, "$")
	}
	if algorithm == "default" {
		// get_hasher("default") would hand back the first hasher; a stored
		// string naming "default" is simply unknown.
		return nil, ErrUnknownHasher
	}
	return hs.Get(algorithm)
}

// Check verifies password against encoded with the hasher that made it, as
// Django's check_password with the first hasher preferred. See
// CheckPassword for the results.
func (hs Hashers) Check(password, encoded string) (ok, mustUpdate bool, err error) {
	if len(hs) == 0 {
		return false, false, fmt.Errorf("hashers: empty hasher list: %w", ErrUnknownHasher)
	}
	return hs.check(password, encoded, hs[0])
}

func (hs Hashers) check(password, encoded string, preferred Hasher) (bool, bool, error) {
	hasher, identifyErr := hs.Identify(encoded)
	if !IsUsable(encoded) || identifyErr != nil {
		// Django runs the default hasher once on a random password so
		// that an unusable or unknown hash answers as slowly as a real
		// one (no user enumeration by timing).
		if dummy, err := RandomString(UnusablePasswordSuffixLength); err == nil {
			if salt, err := hs[0].Salt(); err == nil {
				_, _ = hs[0].Encode(dummy, salt)
			}
		}
		if !IsUsable(encoded) {
			return false, false, nil
		}
		return false, false, identifyErr
	}
	changed := hasher.Algorithm() != preferred.Algorithm()
	mustUpdate := changed || preferred.MustUpdate(encoded)
	ok, err := hasher.Verify(password, encoded)
	if err != nil {
		return false, false, err
	}
	if !ok && !changed && mustUpdate {
		if hr, isHardener := hasher.(RuntimeHardener); isHardener {
			hr.HardenRuntime(password, encoded)
		}
	}
	return ok, ok && mustUpdate, nil
}

// Make hashes password with the preferred (first) hasher and a new salt.
func (hs Hashers) Make(password string) (string, error) {
	h, err := hs.Get("default")
	if err != nil {
		return "", err
	}
	return makeWith(h, password, "")
}

func makeWith(h Hasher, password, salt string) (string, error) {
	if salt == "" {
		var err error
		if salt, err = h.Salt(); err != nil {
			return "", err
		}
	}
	return h.Encode(password, salt)
}

// Option configures CheckPassword, MakePassword and IdentifyHasher.
type Option func(*config)

type config struct {
	version    string
	iterations int
	hashers    Hashers
	hasher     string
	salt       string
}

// WithVersion selects the Django release whose defaults apply ("3.2",
// "5.2.17"; default DefaultVersion = "6.0"): the default hasher list, PBKDF2
// iterations (PBKDF2Iterations), salt length and argon2 parameters. Ignored
// for the list when WithHashers is given.
func WithVersion(version string) Option { return func(c *config) { c.version = version } }

// WithIterations overrides the PBKDF2 iteration count of the PBKDF2 hashers
// in the list (for MakePassword and mustUpdate).
func WithIterations(n int) Option { return func(c *config) { c.iterations = n } }

// WithHashers sets the hasher list (PASSWORD_HASHERS) instead of
// DefaultHashers(version).
func WithHashers(hs Hashers) Option { return func(c *config) { c.hashers = hs } }

// WithHasher names the algorithm: MakePassword's hasher= and
// CheckPassword's preferred= (default: the first in the list).
func WithHasher(algorithm string) Option { return func(c *config) { c.hasher = algorithm } }

// WithSalt gives MakePassword a salt instead of a random one (make_password's
// salt=; empty means random).
func WithSalt(salt string) Option { return func(c *config) { c.salt = salt } }

func resolve(opts []Option) (config, Hashers, error) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	hs := c.hashers
	if hs == nil {
		version := c.version
		if version == "" {
			version = DefaultVersion
		}
		var err error
		if hs, err = DefaultHashers(version); err != nil {
			return c, nil, err
		}
	}
	if c.iterations != 0 {
		if c.iterations < 0 {
			return c, nil, fmt.Errorf("hashers: negative iterations: %w", ErrUnsupported)
		}
		hs = withIterations(hs, c.iterations)
	}
	if len(hs) == 0 {
		return c, nil, fmt.Errorf("hashers: empty hasher list: %w", ErrUnknownHasher)
	}
	return c, hs, nil
}

// withIterations returns a copy of hs with the PBKDF2 hashers' iteration
// count replaced.
func withIterations(hs Hashers, n int) Hashers {
	out := make(Hashers, len(hs))
	for i, h := range hs {
		switch p := h.(type) {
		case PBKDF2PasswordHasher:
			p.Iterations = n
			h = p
		case *PBKDF2PasswordHasher:
			q := *p
			q.Iterations = n
			h = q
		case PBKDF2SHA1PasswordHasher:
			p.Iterations = n
			h = p
		case *PBKDF2SHA1PasswordHasher:
			q := *p
			q.Iterations = n
			h = q
		}
		out[i] = h
	}
	return out
}

// CheckPassword reports whether password matches encoded, as Django's
// check_password (spec §5). The hasher is the one named in encoded, which
// must be in the list (DefaultHashers(DefaultVersion) unless WithHashers or
// WithVersion say otherwise).
//
// ok is true only for the right password. mustUpdate is true only when ok is
// true and the hash should be re-made with MakePassword (the hasher is not
// the preferred one, or the preferred hasher's MustUpdate says so: other
// iterations or parameters, a salt under 128 bits) — exactly when Django
// calls check_password's setter.
//
// An unusable password ("!" prefix) is (false, false, nil). An unknown
// algorithm is (false, false, ErrUnknownHasher) and a malformed string
// (false, false, ErrMalformedHash); Django answers False or raises for
// these, and a caller may treat any error as a wrong password. Like Django,
// unusable and unknown hashes cost one run of the preferred hasher, and a
// wrong password against an outdated hash of the preferred algorithm runs
// the hasher's HardenRuntime.
func CheckPassword(password, encoded string, opts ...Option) (ok, mustUpdate bool, err error) {
	c, hs, err := resolve(opts)
	if err != nil {
		return false, false, err
	}
	preferred := hs[0]
	if c.hasher != "" {
		if preferred, err = hs.Get(c.hasher); err != nil {
			return false, false, err
		}
	}
	return hs.check(password, encoded, preferred)
}

// MakePassword hashes password for storage, as Django's make_password: with
// the preferred hasher (pbkdf2_sha256 by default, at the release's
// iterations) or the one WithHasher names, and a new random salt (22
// characters from RandomStringChars via crypto/rand; bcrypt: its own salt)
// unless WithSalt gives one. For an unusable password use
// MakeUnusablePassword.
func MakePassword(password string, opts ...Option) (string, error) {
	c, hs, err := resolve(opts)
	if err != nil {
		return "", err
	}
	name := c.hasher
	if name == "" {
		name = "default"
	}
	h, err := hs.Get(name)
	if err != nil {
		return "", err
	}
	return makeWith(h, password, c.salt)
}

// IdentifyHasher returns the hasher of the list that made encoded (see
// Hashers.Identify).
func IdentifyHasher(encoded string, opts ...Option) (Hasher, error) {
	_, hs, err := resolve(opts)
	if err != nil {
		return nil, err
	}
	return hs.Identify(encoded)
}
