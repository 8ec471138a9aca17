package hashers

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
	"unicode/utf8"
)

// MD5PasswordHasher is "md5": md5$<salt>$<hex(md5(salt‖password))> (spec
// §5.5). Still shipped by Django 6.1; never in the default list.
type MD5PasswordHasher struct {
	// LegacySalt mimics Django ≤ 3.1: 12-character salts, no salt-length
	// upgrade.
	LegacySalt bool
}

// SHA1PasswordHasher is "sha1": sha1$<salt>$<hex(sha1(salt‖password))>
// (spec §5.5; removed in Django 5.1).
type SHA1PasswordHasher struct {
	LegacySalt bool
}

// UnsaltedMD5PasswordHasher is "unsalted_md5": a bare 32-character hex MD5
// of the password, also accepted as "md5$$" + hex (spec §5.5; removed in
// Django 5.1). Encode writes the bare form, as Django.
type UnsaltedMD5PasswordHasher struct{}

// UnsaltedSHA1PasswordHasher is "unsalted_sha1": "sha1$$" + hex SHA-1 of
// the password (spec §5.5; removed in Django 5.1).
type UnsaltedSHA1PasswordHasher struct{}

// CryptPasswordHasher is "crypt": crypt$$<crypt(3) output> (removed in
// Django 5.0). The result depends on the crypt(3) of the host that made it
// (DES, MD5-crypt, glibc SHA-crypt, ...), so it is not computed here: Verify
// and Encode report ErrUnsupported. Keep it in a Hashers list to get
// ErrUnsupported instead of ErrUnknownHasher for such rows.
type CryptPasswordHasher struct{}

// saltedDigest is the shared md5/sha1 implementation.
type saltedDigest struct {
	algorithm  string
	newHash    func() hash.Hash
	legacySalt bool
}

func hexDigest(nh func() hash.Hash, s string) string {
	h := nh()
	h.Write([]byte(s))
	return hex.EncodeToString(h.Sum(nil))
}

func (d saltedDigest) encode(password, salt string) (string, error) {
	if err := checkSalt(salt); err != nil {
		return "", err
	}
	return d.algorithm + "$" + salt + "$" + hexDigest(d.newHash, salt+password), nil
}

// parse is Django's split('$', 2): algorithm, salt, hash.
func (d saltedDigest) parse(encoded string) (salt, hash string, err error) {
	rest, err := splitAlgorithm(encoded, d.algorithm)
	if err != nil {
		return "", "", err
	}
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok {
		return "", "", malformed(d.algorithm, "want 3 '$'-separated fields")
	}
	return salt, hash, nil
}

func (d saltedDigest) verify(password, encoded string) (bool, error) {
	salt, _, err := d.parse(encoded)
	if err != nil {
		return false, err
	}
	if salt == "" {
		return false, malformed(d.algorithm, "empty salt")
	}
	again, err := d.encode(password, salt)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(encoded), []byte(again)) == 1, nil
}

func (d saltedDigest) mustUpdate(encoded string) bool {
	salt, _, err := d.parse(encoded)
	return err == nil && !d.legacySalt && saltTooShort(salt)
}

func (d saltedDigest) decode(encoded string) (Decoded, error) {
	salt, hash, err := d.parse(encoded)
	if err != nil {
		return Decoded{}, err
	}
	return Decoded{Algorithm: d.algorithm, Salt: salt, Hash: hash}, nil
}

func (h MD5PasswordHasher) impl() saltedDigest { return saltedDigest{"md5", md5.New, h.LegacySalt} }

// Algorithm returns "md5".
func (h MD5PasswordHasher) Algorithm() string { return "md5" }

// Salt returns 22 random characters (12 with LegacySalt).
func (h MD5PasswordHasher) Salt() (string, error) { return newSalt(h.LegacySalt) }

// Encode returns md5$<salt>$<hex>; the salt must be non-empty without '$'.
func (h MD5PasswordHasher) Encode(password, salt string) (string, error) {
	return h.impl().encode(password, salt)
}

// Verify re-encodes with the string's salt and compares in constant time.
func (h MD5PasswordHasher) Verify(password, encoded string) (bool, error) {
	return h.impl().verify(password, encoded)
}

// MustUpdate: a salt under 22 characters (unless LegacySalt).
func (h MD5PasswordHasher) MustUpdate(encoded string) bool { return h.impl().mustUpdate(encoded) }

// Decode returns the algorithm, salt and hash fields.
func (h MD5PasswordHasher) Decode(encoded string) (Decoded, error) { return h.impl().decode(encoded) }

func (h SHA1PasswordHasher) impl() saltedDigest {
	return saltedDigest{"sha1", sha1.New, h.LegacySalt}
}

// Algorithm returns "sha1".
func (h SHA1PasswordHasher) Algorithm() string { return "sha1" }

// Salt returns 22 random characters (12 with LegacySalt).
func (h SHA1PasswordHasher) Salt() (string, error) { return newSalt(h.LegacySalt) }

// Encode returns sha1$<salt>$<hex>; the salt must be non-empty without '$'.
func (h SHA1PasswordHasher) Encode(password, salt string) (string, error) {
	return h.impl().encode(password, salt)
}

// Verify re-encodes with the string's salt and compares in constant time.
func (h SHA1PasswordHasher) Verify(password, encoded string) (bool, error) {
	return h.impl().verify(password, encoded)
}

// MustUpdate: a salt under 22 characters (unless LegacySalt).
func (h SHA1PasswordHasher) MustUpdate(encoded string) bool { return h.impl().mustUpdate(encoded) }

// Decode returns the algorithm, salt and hash fields.
func (h SHA1PasswordHasher) Decode(encoded string) (Decoded, error) { return h.impl().decode(encoded) }

// Algorithm returns "unsalted_md5".
func (UnsaltedMD5PasswordHasher) Algorithm() string { return "unsalted_md5" }

// Salt returns "" (the algorithm has none).
func (UnsaltedMD5PasswordHasher) Salt() (string, error) { return "", nil }

// Encode returns the bare hex MD5 of password; salt must be empty.
func (UnsaltedMD5PasswordHasher) Encode(password, salt string) (string, error) {
	if salt != "" {
		return "", fmt.Errorf("hashers: unsalted_md5 takes no salt: %w", ErrInvalidSalt)
	}
	return hexDigest(md5.New, password), nil
}

// Verify compares the hex MD5 with encoded, after stripping "md5$$" from
// the 37-character form. Any other string simply does not match, as in
// Django.
func (h UnsaltedMD5PasswordHasher) Verify(password, encoded string) (bool, error) {
	if utf8.RuneCountInString(encoded) == 37 && strings.HasPrefix(encoded, "md5$$") {
		encoded = encoded[5:]
	}
	again, _ := h.Encode(password, "")
	return subtle.ConstantTimeCompare([]byte(encoded), []byte(again)) == 1, nil
}

// MustUpdate is false: Django's unsalted hashers never ask themselves for
// an update (CheckPassword still reports one: they are never preferred).
func (UnsaltedMD5PasswordHasher) MustUpdate(string) bool { return false }

// Decode returns the hex digest (without a "md5$$" prefix) as Hash.
func (UnsaltedMD5PasswordHasher) Decode(encoded string) (Decoded, error) {
	if utf8.RuneCountInString(encoded) == 37 && strings.HasPrefix(encoded, "md5$$") {
		encoded = encoded[5:]
	}
	return Decoded{Algorithm: "unsalted_md5", Hash: encoded}, nil
}

// Algorithm returns "unsalted_sha1".
func (UnsaltedSHA1PasswordHasher) Algorithm() string { return "unsalted_sha1" }

// Salt returns "" (the algorithm has none).
func (UnsaltedSHA1PasswordHasher) Salt() (string, error) { return "", nil }

// Encode returns "sha1$$" + hex SHA-1 of password; salt must be empty.
func (UnsaltedSHA1PasswordHasher) Encode(password, salt string) (string, error) {
	if salt != "" {
		return "", fmt.Errorf("hashers: unsalted_sha1 takes no salt: %w", ErrInvalidSalt)
	}
	return "sha1$$" + hexDigest(sha1.New, password), nil
}

// Verify compares "sha1$$" + hex SHA-1 with encoded in constant time.
func (h UnsaltedSHA1PasswordHasher) Verify(password, encoded string) (bool, error) {
	again, _ := h.Encode(password, "")
	return subtle.ConstantTimeCompare([]byte(encoded), []byte(again)) == 1, nil
}

// MustUpdate is false (see UnsaltedMD5PasswordHasher.MustUpdate).
func (UnsaltedSHA1PasswordHasher) MustUpdate(string) bool { return false }

// Decode returns the hex digest after "sha1$$".
func (UnsaltedSHA1PasswordHasher) Decode(encoded string) (Decoded, error) {
	hash, ok := strings.CutPrefix(encoded, "sha1$$")
	if !ok {
		return Decoded{}, malformed("unsalted_sha1", "missing sha1$$ prefix")
	}
	return Decoded{Algorithm: "unsalted_sha1", Hash: hash}, nil
}

// Algorithm returns "crypt".
func (CryptPasswordHasher) Algorithm() string { return "crypt" }

// Salt returns two random characters, as Django's crypt salt.
func (CryptPasswordHasher) Salt() (string, error) { return RandomString(2) }

// Encode reports ErrUnsupported: crypt(3) is not computed here.
func (CryptPasswordHasher) Encode(string, string) (string, error) {
	return "", fmt.Errorf("hashers: crypt (platform crypt(3)): %w", ErrUnsupported)
}

// Verify reports ErrUnsupported for a well-formed crypt string, and
// ErrMalformedHash for another.
func (h CryptPasswordHasher) Verify(_, encoded string) (bool, error) {
	if _, err := h.Decode(encoded); err != nil {
		return false, err
	}
	return false, fmt.Errorf("hashers: crypt (platform crypt(3)): %w", ErrUnsupported)
}

// MustUpdate is false, as Django's.
func (CryptPasswordHasher) MustUpdate(string) bool { return false }

// Decode splits crypt$<salt>$<crypt output> (Django writes an empty salt
// field: the salt is inside the crypt output).
func (CryptPasswordHasher) Decode(encoded string) (Decoded, error) {
	rest, err := splitAlgorithm(encoded, "crypt")
	if err != nil {
		return Decoded{}, err
	}
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok {
		return Decoded{}, malformed("crypt", "want 3 '$'-separated fields")
	}
	return Decoded{Algorithm: "crypt", Salt: salt, Hash: hash}, nil
}
