package hashers

import (
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// spyHasher counts Encode and HardenRuntime calls.
type spyHasher struct {
	alg              string
	encodes, hardens *atomic.Int32
	mustUpdate       bool
}

func newSpy(alg string, mustUpdate bool) spyHasher {
	return spyHasher{alg, new(atomic.Int32), new(atomic.Int32), mustUpdate}
}
func (s spyHasher) Algorithm() string     { return s.alg }
func (s spyHasher) Salt() (string, error) { return "salt", nil }
func (s spyHasher) Encode(p, salt string) (string, error) {
	s.encodes.Add(1)
	return s.alg + "$" + p, nil
}
func (s spyHasher) Verify(p, enc string) (bool, error) { return enc == s.alg+"$"+p, nil }
func (s spyHasher) MustUpdate(string) bool             { return s.mustUpdate }
func (s spyHasher) Decode(string) (Decoded, error)     { return Decoded{Algorithm: s.alg}, nil }
func (s spyHasher) HardenRuntime(string, string)       { s.hardens.Add(1) }

// Django's check_password flow: fake runtime for unusable and unknown
// hashes, must_update only with a right password, harden_runtime only for a
// wrong password against an outdated hash of the preferred algorithm.
func TestCheckFlow(t *testing.T) {
	pref := newSpy("spy", false)
	hs := Hashers{pref, MD5PasswordHasher{}}

	ok, mu, err := hs.Check("pw", "!unusable")
	if ok || mu || err != nil || pref.encodes.Load() != 1 {
		t.Errorf("unusable: %v %v %v, dummy encodes %d", ok, mu, err, pref.encodes.Load())
	}
	ok, mu, err = hs.Check("pw", "nosuch$x$y")
	if ok || mu || !errors.Is(err, ErrUnknownHasher) || pref.encodes.Load() != 2 {
		t.Errorf("unknown: %v %v %v, dummy encodes %d", ok, mu, err, pref.encodes.Load())
	}
	// Not the preferred hasher: must update, but only when right.
	md5, _ := MD5PasswordHasher{}.Encode("pw", "abcdefghijklmnopqrstuv")
	if ok, mu, err := hs.Check("pw", md5); !ok || !mu || err != nil {
		t.Errorf("md5 right: %v %v %v", ok, mu, err)
	}
	if ok, mu, err := hs.Check("bad", md5); ok || mu || err != nil {
		t.Errorf("md5 wrong: %v %v %v", ok, mu, err)
	}
	if pref.encodes.Load() != 2 || pref.hardens.Load() != 0 {
		t.Errorf("spy touched for a known hash: %d %d", pref.encodes.Load(), pref.hardens.Load())
	}
	// Preferred hasher, up to date: no update, no hardening.
	if ok, mu, _ := hs.Check("pw", "spy$pw"); !ok || mu {
		t.Errorf("spy right: %v %v", ok, mu)
	}
	if ok, _, _ := hs.Check("bad", "spy$pw"); ok || pref.hardens.Load() != 0 {
		t.Errorf("spy wrong: %v, hardens %d", ok, pref.hardens.Load())
	}
	// Preferred hasher, outdated: a wrong password hardens the runtime.
	old := newSpy("spy", true)
	hs2 := Hashers{old}
	if ok, mu, _ := hs2.Check("pw", "spy$pw"); !ok || !mu || old.hardens.Load() != 0 {
		t.Errorf("outdated right: %v %v %d", ok, mu, old.hardens.Load())
	}
	if ok, mu, _ := hs2.Check("bad", "spy$pw"); ok || mu || old.hardens.Load() != 1 {
		t.Errorf("outdated wrong: %v %v, hardens %d", ok, mu, old.hardens.Load())
	}
	if _, _, err := (Hashers{}).Check("pw", "spy$pw"); !errors.Is(err, ErrUnknownHasher) {
		t.Errorf("empty list: %v", err)
	}
}

// The default: pbkdf2_sha256, Django 6.0's iterations, 22-char salt.
func TestMakePasswordDefault(t *testing.T) {
	if raceDetector {
		t.Skip("race detector: 1.2M PBKDF2 iterations take seconds; runs without -race")
	}
	enc, err := MakePassword("lètmein")
	if err != nil {
		t.Fatal(err)
	}
	d, err := PBKDF2PasswordHasher{}.Decode(enc)
	if err != nil || d.Algorithm != "pbkdf2_sha256" || d.Iterations != 1_200_000 || len(d.Salt) != 22 ||
		strings.Trim(d.Salt, RandomStringChars) != "" {
		t.Fatalf("MakePassword = %q (%+v, %v)", enc, d, err)
	}
	if ok, mu, err := CheckPassword("lètmein", enc); !ok || mu || err != nil {
		t.Errorf("CheckPassword(default) = %v %v %v", ok, mu, err)
	}
}

func TestMakeAndCheckPassword(t *testing.T) {
	// Two salts never repeat.
	e1, _ := MakePassword("lètmein", WithIterations(1))
	e2, _ := MakePassword("lètmein", WithIterations(1))
	if strings.Split(e1, "$")[2] == strings.Split(e2, "$")[2] {
		t.Error("salt repeated")
	}

	fast := []Option{WithIterations(1000)}
	enc, _ := MakePassword("pw", fast...)
	if !strings.HasPrefix(enc, "pbkdf2_sha256$1000$") {
		t.Fatalf("WithIterations: %q", enc)
	}
	if ok, mu, err := CheckPassword("pw", enc, fast...); !ok || mu || err != nil {
		t.Errorf("same iterations: %v %v %v", ok, mu, err)
	}
	// Against 6.0 defaults the iterations lag: must update.
	if ok, mu, err := CheckPassword("pw", enc); !ok || !mu || err != nil {
		t.Errorf("lagging iterations: %v %v %v", ok, mu, err)
	}
	// Higher iterations than preferred also update (Django compares with !=).
	if ok, mu, _ := CheckPassword("pw", enc, WithIterations(10)); !ok || !mu {
		t.Errorf("higher iterations: %v %v", ok, mu)
	}
	// Preferred argon2: a pbkdf2 hash must update.
	if ok, mu, _ := CheckPassword("pw", enc, append(fast, WithHasher("argon2"))...); !ok || !mu {
		t.Errorf("preferred argon2: %v %v", ok, mu)
	}
	// A short salt must update in 3.2+, not in 3.1.
	short, _ := MakePassword("pw", WithIterations(1000), WithSalt("shortsalt"))
	if _, mu, _ := CheckPassword("pw", short, fast...); !mu {
		t.Error("short salt: no update")
	}
	if _, mu, _ := CheckPassword("pw", short, WithVersion("3.1"), WithIterations(1000)); mu {
		t.Error("short salt under 3.1: update")
	}
	// Django ≤ 3.1 salts are 12 characters.
	if e, _ := MakePassword("pw", WithVersion("3.1"), WithIterations(1)); len(strings.Split(e, "$")[2]) != 12 {
		t.Errorf("3.1 salt: %q", e)
	}
	// Scrypt is not in 3.2's list.
	if _, err := MakePassword("pw", WithVersion("3.2"), WithHasher("scrypt")); !errors.Is(err, ErrUnknownHasher) {
		t.Errorf("3.2 scrypt: %v", err)
	}
	if _, err := MakePassword("pw", WithVersion("9.9")); !errors.Is(err, ErrUnsupported) {
		t.Errorf("version 9.9: %v", err)
	}
	if _, err := MakePassword("pw", WithIterations(-1)); err == nil {
		t.Error("negative iterations accepted")
	}
	if h, err := IdentifyHasher(enc); err != nil || h.Algorithm() != "pbkdf2_sha256" {
		t.Errorf("IdentifyHasher: %v %v", h, err)
	}
}

// Every hasher: MakePassword → CheckPassword, with cheap parameters.
func TestRoundTripAllHashers(t *testing.T) {
	hs := Hashers{
		PBKDF2PasswordHasher{Iterations: 1000}, PBKDF2SHA1PasswordHasher{Iterations: 1000},
		Argon2PasswordHasher{MemoryCost: 64, TimeCost: 1, Parallelism: 2},
		Argon2PasswordHasher{Type: "argon2d", MemoryCost: 32, TimeCost: 2, Parallelism: 1},
		BCryptSHA256PasswordHasher{Rounds: 4}, BCryptPasswordHasher{Rounds: 4},
		ScryptPasswordHasher{WorkFactor: 1024, BlockSize: 8, Parallelism: 1},
		SHA1PasswordHasher{}, MD5PasswordHasher{}, UnsaltedSHA1PasswordHasher{}, UnsaltedMD5PasswordHasher{},
	}
	for _, h := range hs {
		list := Hashers{h}
		for _, pw := range []string{"", "lètmein", strings.Repeat("ü", 60)} {
			enc, err := list.Make(pw)
			if err != nil {
				t.Fatalf("%s: %v", h.Algorithm(), err)
			}
			if got, _ := list.Identify(enc); got == nil || got.Algorithm() != h.Algorithm() {
				t.Errorf("%s: identified as %v", h.Algorithm(), got)
			}
			if ok, mu, err := list.Check(pw, enc); !ok || mu || err != nil {
				t.Errorf("%s %q: %v %v %v", h.Algorithm(), pw, ok, mu, err)
			}
			if ok, _, err := list.Check("x"+pw, enc); ok || err != nil {
				t.Errorf("%s wrong: %v %v", h.Algorithm(), ok, err)
			}
			if _, err := h.Decode(enc); err != nil {
				t.Errorf("%s Decode: %v", h.Algorithm(), err)
			}
		}
	}
}

func TestIdentify(t *testing.T) {
	hs := allHashers(t, "3.2")
	hex32 := strings.Repeat("a", 32)
	cases := map[string]string{
		hex32:                         "unsalted_md5",
		strings.Repeat("é", 32):       "unsalted_md5", // 32 code points
		"md5$$" + hex32:               "unsalted_md5",
		"md5$$" + hex32 + "0":         "md5",
		"sha1$$" + hex32 + "abcdefgh": "unsalted_sha1",
		"sha1$$abc":                   "sha1",
		"pbkdf2_sha256$1$s$h":         "pbkdf2_sha256",
		"bcrypt_sha256$$2b$":          "bcrypt_sha256",
		"crypt$$abc":                  "crypt",
		"argon2$argon2id$":            "argon2",
	}
	for enc, want := range cases {
		h, err := hs.Identify(enc)
		if err != nil || h.Algorithm() != want {
			t.Errorf("Identify(%q) = %v, %v; want %s", enc, h, err, want)
		}
	}
	for _, enc := range []string{"", "$", "nosuch$1", "default$x", "scrypt$1$s$1$1$h", strings.Repeat("a", 31)} {
		if _, err := hs.Identify(enc); !errors.Is(err, ErrUnknownHasher) {
			t.Errorf("Identify(%q) err = %v", enc, err)
		}
	}
}

func TestSaltsAndUnusable(t *testing.T) {
	u, err := MakeUnusablePassword()
	if err != nil || len(u) != 41 || u[0] != '!' || strings.Trim(u[1:], RandomStringChars) != "" || IsUsable(u) {
		t.Errorf("MakeUnusablePassword = %q, %v", u, err)
	}
	if !IsUsable("pbkdf2_sha256$1$a$b") || !IsUsable("") {
		t.Error("IsUsable false for a usable value")
	}
	// Each of the 62 characters shows up in a long random string.
	s, _ := RandomString(5000)
	for _, c := range RandomStringChars {
		if !strings.ContainsRune(s, c) {
			t.Errorf("RandomString never drew %q", c)
		}
	}
	if s, _ := (BCryptSHA256PasswordHasher{}).Salt(); len(s) != 29 || !strings.HasPrefix(s, "$2b$12$") {
		t.Errorf("bcrypt salt %q", s)
	}
	bad := []struct {
		h    Hasher
		salt string
	}{
		{PBKDF2PasswordHasher{Iterations: 1}, ""}, {PBKDF2PasswordHasher{Iterations: 1}, "a$b"},
		{MD5PasswordHasher{}, ""}, {SHA1PasswordHasher{}, "x$"}, {ScryptPasswordHasher{}, ""},
		{Argon2PasswordHasher{}, "short"}, {UnsaltedMD5PasswordHasher{}, "x"},
		{UnsaltedSHA1PasswordHasher{}, "x"}, {BCryptPasswordHasher{}, "notasetting"},
	}
	for _, b := range bad {
		if _, err := b.h.Encode("pw", b.salt); !errors.Is(err, ErrInvalidSalt) {
			t.Errorf("%s Encode(salt %q) err = %v", b.h.Algorithm(), b.salt, err)
		}
	}
}

// Verify must return quickly, with the right sentinel, never a panic, and
// never echo the password, salt or hash, for hostile stored strings.
func TestHostileHashes(t *testing.T) {
	const pw = "PASSWORD-MARKER"
	b64 := func(n int) string {
		return strings.Repeat("A", (n+2)/3*4-map[int]int{0: 0, 1: 2, 2: 1}[n%3]) + strings.Repeat("=", map[int]int{0: 0, 1: 2, 2: 1}[n%3])
	}
	h32, h20, h64 := b64(32), b64(20), b64(64)
	salt := "SALTMARKER"
	bc := "$2b$31$" + strings.Repeat("a", 53)
	cases := []struct {
		enc  string
		want error // nil: (false, nil)
	}{
		{"", ErrUnknownHasher},
		{"$", ErrUnknownHasher},
		{"\xff\xfe$x", ErrUnknownHasher},
		{"pbkdf2_sha256", ErrMalformedHash},
		{"pbkdf2_sha256$", ErrMalformedHash},
		{"pbkdf2_sha256$1000$" + salt, ErrMalformedHash},
		{"pbkdf2_sha256$abc$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$-1$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$+5$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$0$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$01000$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$1_000$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$ 1000$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$18446744073709551616$" + salt + "$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$99999999999999$" + salt + "$" + h32, ErrCostLimit},
		{"pbkdf2_sha256$50000001$" + salt + "$" + h32, ErrCostLimit},
		{"pbkdf2_sha1$60000000$" + salt + "$" + h20, ErrCostLimit},
		{"pbkdf2_sha256$1000$$" + h32, ErrMalformedHash},
		{"pbkdf2_sha256$1000$" + salt + "$!!!!", ErrMalformedHash},
		{"pbkdf2_sha256$1000$" + salt + "$" + h32[:40] + "\n" + h32[40:], ErrMalformedHash},
		{"pbkdf2_sha256$1000$" + salt + "$" + h32 + "$x", ErrMalformedHash},
		{"pbkdf2_sha256$1000$" + salt + "$" + h20, ErrMalformedHash},
		{"pbkdf2_sha256$1000$" + salt + "$" + h32, nil},
		{"argon2", ErrMalformedHash},
		{"argon2$", ErrMalformedHash},
		{"argon2$argon2x$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=4294967295,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrCostLimit},
		{"argon2$argon2id$v=19$m=1048576,t=4294967295,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrCostLimit},
		{"argon2$argon2id$v=19$m=4294967296,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=0$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=0,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=7,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=16777216$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=9$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$c2FsdA$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ=$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAB", ErrMalformedHash},
		{"argon2$argon2id$v=019$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$t=1,m=64,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA$", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=1,x=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", ErrMalformedHash},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", nil},
		{"argon2$argon2d$v=16$m=64,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA", nil},
		{"bcrypt_sha256$" + bc, ErrCostLimit},
		{"bcrypt$" + bc, ErrCostLimit},
		{"bcrypt_sha256$$2b$03$" + strings.Repeat("a", 53), ErrMalformedHash},
		{"bcrypt_sha256$$2b$32$" + strings.Repeat("a", 53), ErrMalformedHash},
		{"bcrypt_sha256$$2c$04$" + strings.Repeat("a", 53), ErrMalformedHash},
		{"bcrypt_sha256$$2$04$" + strings.Repeat("a", 53), ErrMalformedHash},
		{"bcrypt_sha256$$2b$1x$" + strings.Repeat("a", 53), ErrMalformedHash},
		{"bcrypt_sha256$$2b$04$" + strings.Repeat("a", 21), ErrMalformedHash},
		{"bcrypt_sha256$$2b$04$" + strings.Repeat("!", 53), ErrMalformedHash},
		{"bcrypt_sha256$$2b$04$" + strings.Repeat("a", 53), nil},
		{"bcrypt_sha256$$2b$04$" + strings.Repeat("a", 22), nil},
		{"scrypt$1099511627776$" + salt + "$8$1$" + h64, ErrCostLimit},
		{"scrypt$131072$" + salt + "$8$1$" + h64, ErrCostLimit},
		{"scrypt$32768$" + salt + "$2$65536$" + h64, ErrCostLimit},
		{"scrypt$65536$" + salt + "$1$1$" + h64, ErrMalformedHash},
		{"scrypt$3$" + salt + "$8$1$" + h64, ErrMalformedHash},
		{"scrypt$0$" + salt + "$8$1$" + h64, ErrMalformedHash},
		{"scrypt$16$" + salt + "$0$1$" + h64, ErrMalformedHash},
		{"scrypt$16$" + salt + "$1$1073741824$" + h64, ErrMalformedHash},
		{"scrypt$16$" + salt + "$8$1$" + h64 + "$x", ErrMalformedHash},
		{"scrypt$16$" + salt + "$8$1", ErrMalformedHash},
		{"scrypt$16$$8$1$" + h64, ErrMalformedHash},
		{"scrypt$16$" + salt + "$8$1$" + h32, ErrMalformedHash},
		{"scrypt$16$" + salt + "$8$1$" + h64, nil},
		{"md5$$" + strings.Repeat("a", 10), ErrMalformedHash},
		{"md5$" + salt, ErrMalformedHash},
		{"md5$" + salt + "$abc", nil},
		{"sha1$$abc", ErrMalformedHash},
		{"sha1$" + salt + "$" + strings.Repeat("0", 40), nil},
		{"unsalted_md5$" + salt, nil},
		{"unsalted_sha1$" + salt, nil},
		{strings.Repeat("z", 32), nil},
		{"crypt$$abcdefghijklm", ErrUnsupported},
		{"crypt$", ErrMalformedHash},
		{"!" + salt, nil},
		{"pbkdf2_sha256$1000$" + strings.Repeat("s", 1<<20) + "$" + h32, nil},
		{"argon2$argon2id$v=19$m=64,t=1,p=1$" + strings.Repeat("A", 1<<20) + "$AAAAAAAAAAAAAAAAAAAAAA", nil},
	}
	hs := Hashers{
		PBKDF2PasswordHasher{Iterations: 1000}, PBKDF2SHA1PasswordHasher{Iterations: 1000},
		Argon2PasswordHasher{}, BCryptSHA256PasswordHasher{}, BCryptPasswordHasher{},
		ScryptPasswordHasher{}, SHA1PasswordHasher{}, MD5PasswordHasher{},
		UnsaltedSHA1PasswordHasher{}, UnsaltedMD5PasswordHasher{}, CryptPasswordHasher{},
	}
	for _, c := range cases {
		start := time.Now()
		ok, mu, err := hs.Check(pw, c.enc)
		label := c.enc
		if len(label) > 60 {
			label = label[:60] + "..."
		}
		if ok || mu {
			t.Errorf("%q: ok=%v mustUpdate=%v", label, ok, mu)
		}
		if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
			t.Errorf("%q: err = %v, want %v", label, err, c.want)
		}
		if err != nil {
			msg := err.Error()
			for _, secret := range []string{pw, salt, "AAAAAAAA", "aaaaaaaa", "c29tZXNhbHQ"} {
				if strings.Contains(msg, secret) {
					t.Errorf("%q: error text %q leaks input", label, msg)
				}
			}
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("%q: took %v", label, d)
		}
		// Decode and MustUpdate never panic either.
		if h, err := hs.Identify(c.enc); err == nil {
			_, _ = h.Decode(c.enc)
			_ = h.MustUpdate(c.enc)
		}
	}
}

// A higher configured bound lets a big hash through; a lower one stops
// even the hasher's own... never: own parameters always pass.
func TestCostLimitsConfigurable(t *testing.T) {
	p := PBKDF2PasswordHasher{Iterations: 2000, MaxIterations: 1000}
	enc, err := p.Encode("pw", "saltsaltsalt")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := p.Verify("pw", enc); !ok || err != nil {
		t.Errorf("own iterations above MaxIterations: %v %v", ok, err)
	}
	big, _ := PBKDF2PasswordHasher{Iterations: 3000}.Encode("pw", "saltsaltsalt")
	if _, err := p.Verify("pw", big); !errors.Is(err, ErrCostLimit) {
		t.Errorf("3000 > max(1000, 2000): %v", err)
	}
	s := ScryptPasswordHasher{WorkFactor: 1 << 10, BlockSize: 8, Parallelism: 1, MaxWork: 1 << 10}
	bigS, _ := ScryptPasswordHasher{WorkFactor: 1 << 11, BlockSize: 8, Parallelism: 1}.Encode("pw", "salt")
	if _, err := s.Verify("pw", bigS); !errors.Is(err, ErrCostLimit) {
		t.Errorf("scrypt MaxWork: %v", err)
	}
	s.MaxWork = 1 << 20
	if ok, err := s.Verify("pw", bigS); !ok || err != nil {
		t.Errorf("scrypt raised MaxWork: %v %v", ok, err)
	}
	a := Argon2PasswordHasher{MemoryCost: 64, TimeCost: 1, Parallelism: 1, MaxMemoryCost: 64}
	bigA, _ := Argon2PasswordHasher{MemoryCost: 128, TimeCost: 1, Parallelism: 1}.Encode("pw", "saltsalt")
	if _, err := a.Verify("pw", bigA); !errors.Is(err, ErrCostLimit) {
		t.Errorf("argon2 MaxMemoryCost: %v", err)
	}
	b := BCryptPasswordHasher{Rounds: 4, MaxRounds: 4}
	bigB, _ := BCryptPasswordHasher{Rounds: 5}.Encode("pw", "$2b$05$abcdefghijklmnopqrstuu")
	if _, err := b.Verify("pw", bigB); !errors.Is(err, ErrCostLimit) {
		t.Errorf("bcrypt MaxRounds: %v", err)
	}
}
