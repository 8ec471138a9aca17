package signing

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"slices"
	"sync"
	"unsafe"

	"golang.org/x/crypto/blake2b"
	"golang.org/x/crypto/blake2s"
)

// DefaultAlgorithm is the hash a Signer uses when Options.Algorithm is
// empty: Django 4.0+'s fixed default and 3.1–3.2's DEFAULT_HASHING_ALGORITHM
// default (spec §2.4).
const DefaultAlgorithm = "sha256"

// algorithms maps every name Django's salted_hmac accepts to its hash
// (spec §1.1). Django looks the name up with getattr(hashlib, name), so the
// accepted set is the hashlib attributes that construct a fixed-size hash.
// Checked against CPython 3.11 + Django 3.2: exactly these twelve work;
// sha512_224, sha512_256, md5-sha1 and the upper-case spellings raise
// InvalidAlgorithm (they exist only through hashlib.new), and
// shake_128/shake_256 fail with TypeError because their digest() needs a
// length. The HMAC block sizes match Python's (e.g. 136 for sha3_256, 128
// for blake2b), which HMAC's key padding depends on.
var algorithms = map[string]func() hash.Hash{
	"md5":      md5.New,
	"sha1":     sha1.New,
	"sha224":   sha256.New224,
	"sha256":   sha256.New,
	"sha384":   sha512.New384,
	"sha512":   sha512.New,
	"sha3_224": func() hash.Hash { return sha3.New224() },
	"sha3_256": func() hash.Hash { return sha3.New256() },
	"sha3_384": func() hash.Hash { return sha3.New384() },
	"sha3_512": func() hash.Hash { return sha3.New512() },
	"blake2b":  newBLAKE2b,
	"blake2s":  newBLAKE2s,
}

// hashlib.blake2b() / blake2s() with no arguments: unkeyed, full-size
// digest (64 and 32 bytes). New with a nil key cannot fail.
func newBLAKE2b() hash.Hash { h, _ := blake2b.New512(nil); return h }
func newBLAKE2s() hash.Hash { h, _ := blake2s.New256(nil); return h }

// Algorithms returns the algorithm names accepted by this package (and by
// Django's salted_hmac), sorted.
func Algorithms() []string {
	names := make([]string, 0, len(algorithms))
	for n := range algorithms {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func lookupAlgorithm(name string) (func() hash.Hash, error) {
	if h, ok := algorithms[name]; ok {
		return h, nil
	}
	// Django's message: "'<name>' is not an algorithm accepted by the
	// hashlib module." with the name repr-quoted.
	return nil, fmt.Errorf("%w: %s is not an algorithm accepted by the hashlib module", ErrInvalidAlgorithm, pyRepr(name))
}

// deriveKey is step 1–3 of salted_hmac (spec §1.1): H(keySalt ‖ secret), the
// full digest, which is never longer than H's block size and so is used by
// HMAC as is.
func deriveKey(newHash func() hash.Hash, keySalt string, secret []byte) []byte {
	h := newHash()
	h.Write([]byte(keySalt))
	h.Write(secret)
	return h.Sum(nil)
}

// NewSaltedHMAC returns the HMAC that Django's
// salted_hmac(keySalt, value, secret, algorithm=algorithm) computes, before
// the value is written: HMAC-H(key = H(keySalt ‖ secret)) (spec §1.1). Write
// the value to it, then call Sum (Django's .digest()) or hex-encode Sum
// (.hexdigest()).
//
// algorithm is a hashlib name as Django spells it ("sha1", "sha256",
// "sha3_256", "blake2b", ...; see Algorithms); there is no default, so pass
// "sha1" where Django relies on salted_hmac's default. An unknown name
// returns an error wrapping ErrInvalidAlgorithm, an empty secret
// ErrEmptyKey. Strings are used as their bytes (Django's force_bytes is
// UTF-8, which is what a Go string holds).
func NewSaltedHMAC(keySalt string, secret []byte, algorithm string) (hash.Hash, error) {
	newHash, err := lookupAlgorithm(algorithm)
	if err != nil {
		return nil, err
	}
	if len(secret) == 0 {
		return nil, ErrEmptyKey
	}
	return hmac.New(newHash, deriveKey(newHash, keySalt, secret)), nil
}

// SaltedHMAC returns salted_hmac(keySalt, value, secret,
// algorithm=algorithm).digest(). See NewSaltedHMAC.
func SaltedHMAC(keySalt string, value, secret []byte, algorithm string) ([]byte, error) {
	h, err := NewSaltedHMAC(keySalt, secret, algorithm)
	if err != nil {
		return nil, err
	}
	h.Write(value)
	return h.Sum(nil), nil
}

// maxMACSize is the largest digest of any algorithm (SHA-512, SHA3-512,
// BLAKE2b); maxB64MAC its unpadded base64 length.
const (
	maxMACSize = 64
	maxB64MAC  = (maxMACSize*8 + 5) / 6
)

// macKey is one precomputed (algorithm, derived key) pair with a pool of
// ready HMAC states, so the hot path neither rehashes the secret nor
// recomputes the HMAC pads: crypto/hmac's Reset restores the state saved
// after the first use.
type macKey struct {
	newHash func() hash.Hash
	key     []byte // H(salt ‖ "signer" ‖ secret)
	b64len  int    // length of the base64 signature
	pool    sync.Pool
}

type macState struct {
	h   hash.Hash
	sum [maxMACSize]byte
}

func newMACKey(newHash func() hash.Hash, keySalt string, secret []byte) *macKey {
	k := &macKey{newHash: newHash, key: deriveKey(newHash, keySalt, secret)}
	k.b64len = base64.RawURLEncoding.EncodedLen(len(k.key)) // the derived key is one digest long
	return k
}

// b64mac writes base64_hmac (spec §2.3) of msg into dst and returns it.
func (k *macKey) b64mac(msg string, dst *[maxB64MAC]byte) []byte {
	st, _ := k.pool.Get().(*macState)
	if st == nil {
		st = &macState{h: hmac.New(k.newHash, k.key)}
	}
	st.h.Write(stringBytes(msg))
	sum := st.h.Sum(st.sum[:0])
	out := dst[:k.b64len]
	base64.RawURLEncoding.Encode(out, sum)
	st.h.Reset()
	k.pool.Put(st)
	return out
}

// stringBytes returns the bytes of s without copying. The result must only
// be read (it is handed to hash.Write, hmac.Equal and base64 decoding,
// which do not modify or keep their input).
func stringBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}

// unsafeString returns b as a string without copying; b must not change
// afterwards.
func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}
