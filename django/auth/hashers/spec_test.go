package hashers

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"strings"
	"testing"
)

// costly reports a hash at a Django-default work factor (a second or so
// per verification on a slow machine).
func costly(encoded string) bool {
	f := strings.Split(encoded, "$")
	switch {
	case strings.HasPrefix(encoded, "pbkdf2_") && len(f) > 1:
		n, ok := parseUint(f[1], 1<<40)
		return ok && n > 300_000
	case strings.HasPrefix(encoded, "bcrypt") && len(f) > 3:
		return f[3] >= "10"
	case strings.HasPrefix(encoded, "argon2$"):
		a, err := parseArgon2(encoded)
		return err == nil && a.memory >= 1<<16
	case strings.HasPrefix(encoded, "scrypt$"):
		return true
	}
	return false
}

// skipIfCostly skips, under the race detector only, a hash whose
// verification costs a Django-default work factor (see raceDetector).
func skipIfCostly(t *testing.T, encoded string) {
	t.Helper()
	if raceDetector && costly(encoded) {
		t.Skip("race detector: a default-strength hash takes seconds; runs without -race")
	}
}

// Spec §9.1 [T] (tests/utils_tests/test_crypto.py): Django's pbkdf2().
func TestPBKDF2Spec(t *testing.T) {
	cases := []struct {
		password, salt string
		iterations     int
		dklen          int
		digest         func() hash.Hash
		want           string
	}{
		{"password", "salt", 1, 20, sha1.New, "0c60c80f961f0e71f3a9b524af6012062fe037a6"},
		{"password", "salt", 4096, 20, sha1.New, "4b007901b765489abead49d926f721d065a429c1"},
		{"password", "salt", 1, 20, sha256.New, "120fb6cffcf8b32c43e7225256c4f837a86548c9"},
		{"\xba", "salt", 1, 20, sha1.New, "0053d3b91a7f1e54effebd6d68771e8a6e0b2c5b"},
	}
	for _, c := range cases {
		dk, err := PBKDF2(c.password, c.salt, c.iterations, c.dklen, c.digest)
		if err != nil || hex.EncodeToString(dk) != c.want {
			t.Errorf("PBKDF2(%q, %q, %d) = %x, %v; want %s", c.password, c.salt, c.iterations, dk, err, c.want)
		}
	}
	// dklen 0 = digest size, nil digest = SHA-256.
	dk, err := PBKDF2("password", "salt", 1, 0, nil)
	if err != nil || len(dk) != 32 || hex.EncodeToString(dk[:20]) != "120fb6cffcf8b32c43e7225256c4f837a86548c9" {
		t.Errorf("PBKDF2 defaults = %x, %v", dk, err)
	}
	if _, err := PBKDF2("p", "s", 0, 0, nil); err == nil {
		t.Error("PBKDF2 with 0 iterations: no error")
	}
}

// Spec §9.7 [T] (tests/auth_tests/test_hashers.py), password "lètmein".
func TestHashersSpec(t *testing.T) {
	const pw = "lètmein"
	cases := []struct {
		version, hasher, salt, want string
	}{
		{"2.2", "pbkdf2_sha256", "seasalt", "pbkdf2_sha256$150000$seasalt$71l36B3C2UesFoWz5oshQ1SSTtCLnDO5RMysCfljq5o="},
		{"3.2", "pbkdf2_sha256", "seasalt", "pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo="},
		{"4.2", "pbkdf2_sha256", "seasalt", "pbkdf2_sha256$600000$seasalt$OAXyhAQ/4ZDA9V5RMExt3C1OwQdUpLZ99vm1McFlLRA="},
		{"5.2", "pbkdf2_sha256", "seasalt", "pbkdf2_sha256$1000000$seasalt$r1uLUxoxpP2Ued/qxvmje7UH9PUJBkRrvf9gGPL7Cps="},
		{"2.2", "pbkdf2_sha1", "seasalt2", "pbkdf2_sha1$150000$seasalt2$lIjyT2rG1gVh5rdCmuAEoHwQtQE="},
		{"3.2", "pbkdf2_sha1", "seasalt2", "pbkdf2_sha1$260000$seasalt2$wAibXvW6jgvatCdONi6SMJ6q7mI="},
		{"4.2", "pbkdf2_sha1", "seasalt2", "pbkdf2_sha1$600000$seasalt2$2CLsaL1MZhq6JOG6QOHtVbiopHE="},
		{"5.2", "pbkdf2_sha1", "seasalt2", "pbkdf2_sha1$1000000$seasalt2$3R9hvSAiAy5ARspAFy5GJ/2rjXo="},
		{"2.2", "pbkdf2_sha256", "seasalt2", "pbkdf2_sha256$150000$seasalt2$5xGh/XsAm2L9fQXShAI1qf739n97YlTaaLY8/t6Ms7o="},
		{"3.2", "pbkdf2_sha256", "seasalt2", "pbkdf2_sha256$260000$seasalt2$UCGMhrOoaq1ghQPArIBK5RkI6IZLRxlIwHWA1dMy7y8="},
		{"6.0", "scrypt", "seasalt", "scrypt$16384$seasalt$8$5$ECMIUp+LMxMSK8xB/IVyba+KYGTI7FTnet025q/1f/vBAVnnP3hdYqJuRi+mJn6ji6ze3Fbb7JEFPKGpuEf5vw=="},
	}
	for _, c := range cases {
		t.Run(c.version+"/"+c.hasher+"/"+c.salt, func(t *testing.T) {
			t.Parallel()
			skipIfCostly(t, c.want)
			got, err := MakePassword(pw, WithVersion(c.version), WithHasher(c.hasher), WithSalt(c.salt))
			if err != nil || got != c.want {
				t.Fatalf("MakePassword = %q, %v\nwant %q", got, err, c.want)
			}
			// (Verify is covered by TestVectors; recomputing here would
			// double the test's cost.) The 7–8 character salt asks 3.2+,
			// not 2.2, for an update; scrypt checks no salt length.
			h, err := IdentifyHasher(c.want, WithVersion(c.version))
			if err != nil {
				t.Fatal(err)
			}
			wantUpdate := c.version != "2.2" && c.hasher != "scrypt"
			if got := h.MustUpdate(c.want); got != wantUpdate {
				t.Fatalf("MustUpdate = %v, want %v", got, wantUpdate)
			}
		})
	}

	// md5 (any release).
	if got, err := (MD5PasswordHasher{}).Encode(pw, "seasalt"); err != nil || got != "md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3" {
		t.Errorf("md5 Encode = %q, %v", got, err)
	}
	for _, enc := range []string{
		"md5$seasalt$3f86d0d3d465b7b458c231bf3555c0e3",
	} {
		hs := Hashers{PBKDF2PasswordHasher{Iterations: 1000}, MD5PasswordHasher{}}
		if ok, mu, err := hs.Check(pw, enc); !ok || !mu || err != nil {
			t.Errorf("Check(md5) = %v, %v, %v; want true, true (not preferred), nil", ok, mu, err)
		}
		if ok, mu, err := hs.Check("letmein", enc); ok || mu || err != nil {
			t.Errorf("Check(md5, wrong) = %v, %v, %v", ok, mu, err)
		}
	}
}

// Spec §9.7 [T]: argon2 strings that verify for "secret" (5.2 test suite),
// including the old form without "v=" (version 0x10, our own engine).
func TestArgon2Spec(t *testing.T) {
	cases := []struct {
		encoded    string
		mustUpdate bool // against Django 3.2+ defaults
		version    int
	}{
		{"argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$gwQOXSNhxiOxPOA0+PY10P9QFO4NAYysnqRt1GSQLE55m+2GYDt9FEjPMHhP2Cuf0nOEXXMocVrsJAtNSsKyfg", true, 0x10},
		{"argon2$argon2i$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$YC9+jJCrQhs5R6db7LlN8Q", true, 0x13},
		// Default parameters, but a 12-byte salt: must_update_salt.
		{"argon2$argon2id$v=19$m=102400,t=2,p=8$Y041dExhNkljRUUy$TMa6A8fPJhCAUXRhJXCXdw", true, 0x13},
	}
	h := Argon2PasswordHasher{}
	for _, c := range cases {
		ok, err := h.Verify("secret", c.encoded)
		if err != nil || !ok {
			t.Errorf("Verify(secret, %s) = %v, %v", c.encoded[:24], ok, err)
		}
		ok, err = h.Verify("Secret", c.encoded)
		if err != nil || ok {
			t.Errorf("Verify(Secret, %s) = %v, %v", c.encoded[:24], ok, err)
		}
		if got := h.MustUpdate(c.encoded); got != c.mustUpdate {
			t.Errorf("MustUpdate(%s) = %v", c.encoded[:24], got)
		}
		d, err := h.Decode(c.encoded)
		if err != nil || d.Version != c.version {
			t.Errorf("Decode(%s).Version = %d, %v; want %d", c.encoded[:24], d.Version, err, c.version)
		}
	}
	// The default-parameter string, with its salt, re-encodes to itself.
	def := cases[2].encoded
	d, _ := h.Decode(def)
	if got, err := h.Encode("secret", d.Salt); err != nil || got != def {
		t.Errorf("Encode = %q, %v", got, err)
	}
	if h.MustUpdate("argon2$argon2id$v=19$m=102400,t=2,p=8$YWJjZGVmZ2hpamtsbW5vcHFyc3R1dg$4oZd+T7Zw74C7FyzvaJlLw") {
		t.Error("MustUpdate with default parameters and a 22-byte salt")
	}
}
