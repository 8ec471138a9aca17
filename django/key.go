package django

import (
	"crypto/rand"
	"fmt"
)

// ValidKeyChars are the characters of a session key Django generates
// (VALID_KEY_CHARS, spec §3.2): lower-case so keys are safe on
// case-insensitive file systems.
const ValidKeyChars = "abcdefghijklmnopqrstuvwxyz0123456789"

// SessionKeyLength is the length of a generated session key.
const SessionKeyLength = 32

// NewSessionKey returns a fresh session key as Django's
// get_random_string(32, VALID_KEY_CHARS) does: each character drawn
// uniformly from ValidKeyChars by the OS CSPRNG.
func NewSessionKey() (string, error) {
	var out [SessionKeyLength]byte
	var buf [64]byte
	n := 0
	for n < len(out) {
		if _, err := rand.Read(buf[:]); err != nil {
			return "", fmt.Errorf("django: reading random bytes: %w", err)
		}
		for _, b := range buf {
			// 252 = 7·36: rejecting the top four values keeps every
			// character equally likely.
			if b >= 252 {
				continue
			}
			out[n] = ValidKeyChars[b%36]
			n++
			if n == len(out) {
				break
			}
		}
	}
	return string(out[:]), nil
}

// IsValidKey reports whether Django keeps key as a session key: it must be
// at least 8 characters long (spec §3.2). Anything shorter, including the
// empty string, means "no session". The characters are not checked here;
// the file backend checks them (IsFileSafeKey).
func IsValidKey(key string) bool { return len(key) >= 8 }

// IsFileSafeKey reports whether every character of key is in ValidKeyChars,
// the file backend's rule before a key becomes part of a path (spec §3.9.4).
func IsFileSafeKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}
