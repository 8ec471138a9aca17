package hashers

import (
	"bytes"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
)

// fuzzHashers accept every algorithm with tiny cost bounds, so that no
// input can make an iteration slow.
var fuzzHashers = Hashers{
	PBKDF2PasswordHasher{Iterations: 1, MaxIterations: 2000},
	PBKDF2SHA1PasswordHasher{Iterations: 1, MaxIterations: 2000},
	Argon2PasswordHasher{MemoryCost: 8, TimeCost: 1, Parallelism: 1, MaxMemoryCost: 512, MaxWork: 2048},
	BCryptSHA256PasswordHasher{Rounds: 4, MaxRounds: 5},
	BCryptPasswordHasher{Rounds: 4, MaxRounds: 5},
	ScryptPasswordHasher{WorkFactor: 16, BlockSize: 1, Parallelism: 1, MaxMemory: 1 << 20, MaxWork: 1 << 12},
	SHA1PasswordHasher{}, MD5PasswordHasher{}, UnsaltedSHA1PasswordHasher{}, UnsaltedMD5PasswordHasher{},
	CryptPasswordHasher{},
}

// FuzzCheckPassword: any stored string, any password: no panic, never
// (true, error), and a true verdict only from a hasher that decodes it.
func FuzzCheckPassword(f *testing.F) {
	for _, c := range loadVectors(f) {
		enc := c.Expected.Encoded
		if c.Input.Method == "check_password" {
			enc = c.Input.Encoded
		}
		f.Add(c.Input.Password, enc)
	}
	for _, enc := range []string{
		"", "!", "$", "md5$$", "sha1$$", "pbkdf2_sha256$1$s$AAAA", "argon2$argon2id$v=19$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAAAAAAAAAAAAAAAAAA",
		"argon2$argon2i$m=8,t=1,p=1$c29tZXNhbHQ$AAAAAA", "bcrypt_sha256$$2b$04$abcdefghijklmnopqrstuuuNrZ4CeoNrvGcIepBB1WStSdG4Wu4DG",
		"scrypt$16$salt$1$1$" + strings.Repeat("A", 86) + "==", "crypt$$ab",
	} {
		f.Add("pw", enc)
	}
	// Hashes these hashers made, so the fuzzer starts from true verdicts.
	for _, h := range fuzzHashers[:len(fuzzHashers)-1] {
		if enc, err := (Hashers{h}).Make("pw"); err == nil {
			f.Add("pw", enc)
		}
	}
	f.Fuzz(func(t *testing.T, password, encoded string) {
		if len(encoded) > 4096 || len(password) > 1024 {
			return
		}
		ok, mu, err := fuzzHashers.Check(password, encoded)
		if ok && err != nil {
			t.Fatalf("ok with error %v", err)
		}
		if mu && !ok {
			t.Fatal("mustUpdate without ok")
		}
		h, idErr := fuzzHashers.Identify(encoded)
		if ok && idErr != nil {
			t.Fatalf("ok for an unidentified hash: %v", idErr)
		}
		if idErr == nil {
			_ = h.MustUpdate(encoded)
			if _, err := h.Decode(encoded); ok && err != nil {
				t.Fatalf("verified but Decode fails: %v", err)
			}
		}
	})
}

// FuzzArgon2Engine: our engine equals golang.org/x/crypto/argon2 for
// version 0x13 argon2i/argon2id on small random parameters.
func FuzzArgon2Engine(f *testing.F) {
	f.Add(uint8(1), uint16(8), uint8(1), uint8(16), true, []byte("pw"), []byte("saltsalt"))
	f.Add(uint8(3), uint16(100), uint8(3), uint8(65), false, []byte(""), []byte("0123456789abcdef"))
	f.Fuzz(func(t *testing.T, tc uint8, m uint16, p uint8, n uint8, id bool, pw, salt []byte) {
		time := uint32(tc%4) + 1
		lanes := uint32(p%8) + 1
		memory := uint32(m%512) + 8*lanes
		tagLen := uint32(n) + 4
		var want []byte
		typ := uint32(argon2TypeI)
		if id {
			typ = argon2TypeID
			want = argon2.IDKey(pw, salt, time, memory, uint8(lanes), tagLen)
		} else {
			want = argon2.Key(pw, salt, time, memory, uint8(lanes), tagLen)
		}
		if got := argon2Ref(typ, argon2Version13, pw, salt, time, memory, lanes, tagLen); !bytes.Equal(got, want) {
			t.Fatalf("t=%d m=%d p=%d n=%d id=%v: %x != %x", time, memory, lanes, tagLen, id, got, want)
		}
	})
}
