package hashers

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	xbcrypt "golang.org/x/crypto/bcrypt"
)

// Our Argon2 engine must equal golang.org/x/crypto/argon2 wherever the
// latter applies (version 0x13, argon2i and argon2id), across lane counts,
// memory sizes that are not multiples of 4·lanes, several passes, and tag
// lengths on both sides of 64 bytes (H' in one or several steps).
func TestArgon2EngineMatchesXCrypto(t *testing.T) {
	type params struct{ t, m, p, n uint32 }
	cases := []params{
		{1, 8, 1, 16}, {1, 16, 1, 32}, {2, 64, 1, 16}, {3, 32, 4, 16}, {2, 100, 3, 64},
		{1, 259, 2, 65}, {4, 64, 2, 128}, {2, 1024, 8, 16}, {3, 300, 1, 4}, {1, 8 * 5, 5, 100},
	}
	pw, salt := []byte("pässwörd"), []byte("somesaltsomesalt")
	for _, c := range cases {
		for _, typ := range []uint32{argon2TypeI, argon2TypeID} {
			var want []byte
			if typ == argon2TypeI {
				want = argon2.Key(pw, salt, c.t, c.m, uint8(c.p), c.n)
			} else {
				want = argon2.IDKey(pw, salt, c.t, c.m, uint8(c.p), c.n)
			}
			got := argon2Ref(typ, argon2Version13, pw, salt, c.t, c.m, c.p, c.n)
			if !bytes.Equal(got, want) {
				t.Errorf("type %d %+v: engine %x, x/crypto %x", typ, c, got, want)
			}
		}
	}
}

// bcrypt: what we make, x/crypto/bcrypt accepts, and the reverse; the
// 72-byte truncation of plain bcrypt (not of bcrypt_sha256); $2a$/$2y$.
func TestBcryptAgainstXCrypto(t *testing.T) {
	long := strings.Repeat("x", 72)
	b := BCryptPasswordHasher{Rounds: 4}
	for _, pw := range []string{"", "a", "lètmein", long, long + "tail"} {
		salt, err := b.Salt()
		if err != nil {
			t.Fatal(err)
		}
		enc, err := b.Encode(pw, salt)
		if err != nil {
			t.Fatal(err)
		}
		raw := strings.TrimPrefix(enc, "bcrypt$")
		if err := xbcrypt.CompareHashAndPassword([]byte(raw), []byte(pw)); err != nil {
			t.Errorf("x/crypto refuses our hash of %q: %v", pw, err)
		}
		if len(pw) <= 72 {
			theirs, err := xbcrypt.GenerateFromPassword([]byte(pw), 5)
			if err != nil {
				t.Fatal(err)
			}
			ok, err := b.Verify(pw, "bcrypt$"+string(theirs))
			if err != nil || !ok {
				t.Errorf("we refuse x/crypto's hash of %q: %v %v", pw, ok, err)
			}
			// The same hash with the other accepted version letters.
			for _, minor := range []string{"$2a$", "$2y$"} {
				alt := "bcrypt$" + minor + string(theirs[4:])
				if ok, err := b.Verify(pw, alt); err != nil || !ok {
					t.Errorf("%s variant refused: %v %v", minor, ok, err)
				}
			}
		}
	}
	// Truncation: plain bcrypt ignores bytes after 72; bcrypt_sha256 does not.
	enc, _ := b.Encode(long+"one", "$2b$04$abcdefghijklmnopqrstuu")
	if ok, _ := b.Verify(long+"two", enc); !ok {
		t.Error("bcrypt: bytes after 72 must not matter")
	}
	s := BCryptSHA256PasswordHasher{Rounds: 4}
	enc, _ = s.Encode(long+"one", "$2b$04$abcdefghijklmnopqrstuu")
	if ok, _ := s.Verify(long+"two", enc); ok {
		t.Error("bcrypt_sha256: bytes after 72 must matter")
	}
	// A NUL in a plain bcrypt password is refused, as Python's bcrypt does.
	if _, err := b.Encode("a\x00b", "$2b$04$abcdefghijklmnopqrstuu"); err == nil {
		t.Error("bcrypt: NUL byte accepted")
	}
}

// The version table and DefaultHashers (spec §5, §5.1, §10).
func TestDefaultHashers(t *testing.T) {
	cases := []struct {
		version    string
		algorithms string
		iterations int
		argon      string
		legacySalt bool
	}{
		{"1.11", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256 bcrypt", 36_000, "argon2i", true},
		{"2.0", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256 bcrypt", 100_000, "argon2i", true},
		{"2.2.28", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256", 150_000, "argon2i", true},
		{"3.1", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256", 216_000, "argon2i", true},
		{"3.2.25", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256", 260_000, "argon2id", false},
		{"4.0", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256 scrypt", 320_000, "argon2id", false},
		{"5.2.17", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256 scrypt", 1_000_000, "argon2id", false},
		{"6.0", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256 scrypt", 1_200_000, "argon2id", false},
		{"6.1", "pbkdf2_sha256 pbkdf2_sha1 argon2 bcrypt_sha256 scrypt", 1_500_000, "argon2id", false},
	}
	for _, c := range cases {
		hs, err := DefaultHashers(c.version)
		if err != nil {
			t.Fatalf("%s: %v", c.version, err)
		}
		var names []string
		for _, h := range hs {
			names = append(names, h.Algorithm())
		}
		if got := strings.Join(names, " "); got != c.algorithms {
			t.Errorf("%s: %s, want %s", c.version, got, c.algorithms)
		}
		p := hs[0].(PBKDF2PasswordHasher)
		if p.Iterations != c.iterations || p.LegacySalt != c.legacySalt {
			t.Errorf("%s: pbkdf2 %+v", c.version, p)
		}
		a := hs[2].(Argon2PasswordHasher)
		variety, _, m, tc, par, _, _ := a.own()
		want := "argon2id 102400 2 8"
		if c.argon == "argon2i" {
			want = "argon2i 512 2 2"
		}
		if got := fmt.Sprintf("%s %d %d %d", variety, m, tc, par); got != want {
			t.Errorf("%s: argon2 %s, want %s", c.version, got, want)
		}
		salt, _ := hs[0].Salt()
		if wantLen := map[bool]int{true: 12, false: 22}[c.legacySalt]; len(salt) != wantLen {
			t.Errorf("%s: salt length %d, want %d", c.version, len(salt), wantLen)
		}
	}
	for _, bad := range []string{"", "6", "7.0", "3.3", "x.y", "1.9"} {
		if _, err := DefaultHashers(bad); err == nil {
			t.Errorf("DefaultHashers(%q): no error", bad)
		}
	}
	if PBKDF2Iterations[DefaultVersion] != DefaultIterations {
		t.Error("DefaultIterations is not the DefaultVersion entry")
	}
}
