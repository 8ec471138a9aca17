package hashers

import "testing"

func benchCheck(b *testing.B, hs Hashers) {
	b.Helper()
	enc, err := hs.Make("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if ok, _, err := hs.Check("correct horse battery staple", enc); !ok || err != nil {
			b.Fatal(ok, err)
		}
	}
}

// BenchmarkCheckPBKDF2SHA256 is CheckPassword at Django 6.0's 1 200 000
// iterations: the cost of one login.
func BenchmarkCheckPBKDF2SHA256(b *testing.B) {
	hs, _ := DefaultHashers("6.0")
	benchCheck(b, hs)
}

// BenchmarkCheckArgon2 is Django's argon2id (100 MiB, t=2, p=8).
func BenchmarkCheckArgon2(b *testing.B) { benchCheck(b, Hashers{Argon2PasswordHasher{}}) }

// BenchmarkCheckBCryptSHA256 is Django's bcrypt_sha256 at 12 rounds.
func BenchmarkCheckBCryptSHA256(b *testing.B) { benchCheck(b, Hashers{BCryptSHA256PasswordHasher{}}) }

// BenchmarkCheckScrypt is Django's scrypt (N=2^14, r=8, p=5).
func BenchmarkCheckScrypt(b *testing.B) { benchCheck(b, Hashers{ScryptPasswordHasher{}}) }

// BenchmarkIdentify is the per-request cost before any hashing.
func BenchmarkIdentify(b *testing.B) {
	hs, _ := DefaultHashers("6.0")
	const enc = "pbkdf2_sha256$1200000$fixedsalt1234567$iDVTEQcy1zRK0muGLiQu33WITjjt7FbqYfMQjaAYBZQ="
	b.ReportAllocs()
	for b.Loop() {
		if _, err := hs.Identify(enc); err != nil {
			b.Fatal(err)
		}
	}
}
