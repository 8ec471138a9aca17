package signing

import (
	"errors"
	"fmt"
	"hash"
	"strconv"
	"time"
	"unicode/utf8"
)

// cookieKeyPrefix is prepended to SECRET_KEY and to each fallback key by
// get_cookie_signer (spec §2.7).
const cookieKeyPrefix = "django.http.cookies"

// CookieSalt returns the signer salt that Django 5.2.15+, 6.0.6+ and 6.1+
// use for set_signed_cookie(name, value, salt=salt) (spec §2.7, "v2"):
// "django.http.cookies.v2:" ‖ len(salt) ‖ ":" ‖ salt ‖ name, where len
// counts code points, so that no (name, salt) pair collides with another.
func CookieSalt(name, salt string) string {
	return "django.http.cookies.v2:" + strconv.Itoa(utf8.RuneCountInString(salt)) + ":" + salt + name
}

// LegacyCookieSalt returns the signer salt of every Django before the v2
// change (all of 1.11–5.2.14, 6.0–6.0.5 and 4.2.x): name ‖ salt, no
// separator (spec §2.7).
func LegacyCookieSalt(name, salt string) string { return name + salt }

// CookieOptions configures a CookieSigner. The zero value (or nil) is the
// behaviour of Django 5.2.15+/6.0.6+ with default settings: write v2, read
// v2 then legacy, SHA-256, no fallback keys.
type CookieOptions struct {
	// FallbackKeys is SECRET_KEY_FALLBACKS: the raw keys, to which
	// "django.http.cookies" is prepended as for SECRET_KEY.
	FallbackKeys [][]byte

	// Algorithm and LegacySHA1 are as in Options (the cookie signer is a
	// TimestampSigner with Django's SIGNING_BACKEND default).
	Algorithm  string
	LegacySHA1 bool

	// LegacySalt makes Sign write with the old name ‖ salt scheme, which
	// is what Django ≤ 5.2.14, ≤ 6.0.5 and every 4.2.x (and 3.2, 2.2, ...)
	// can read. Reading is unaffected.
	LegacySalt bool

	// NoLegacySaltFallback makes Unsign accept only the v2 salt: Django's
	// SIGNED_COOKIE_LEGACY_SALT_FALLBACK = False (the 6.1 default).
	NoLegacySaltFallback bool

	// Clock is the time source; nil means time.Now.
	Clock Clock
}

// CookieSigner signs and reads cookie values as Django's
// HttpResponse.set_signed_cookie and HttpRequest.get_signed_cookie do: a
// TimestampSigner whose key is "django.http.cookies" ‖ SECRET_KEY and
// whose salt is derived from the cookie name and the caller's salt
// (spec §2.7). Sign returns and Unsign takes the cookie value itself,
// value:TS:SIG, unquoted.
//
// On the wire Django double-quotes and escapes a cookie value holding a
// space, a double quote, a backslash, ',', ';' or non-ASCII text (Python's
// SimpleCookie), and net/http cannot carry most such values: r.Cookie drops
// a value with a backslash escape or non-ASCII text, and http.SetCookie
// deletes quotes, backslashes, ';' and non-ASCII bytes. Read and write the
// headers with CookieHeaderValue (or ParseCookieHeader) and
// QuoteCookieValue, which do exactly what Django's request.COOKIES and
// Set-Cookie header do:
//
//	raw, ok := signing.CookieHeaderValue(r.Header.Get("Cookie"), "color")
//	value, err := cs.Unsign("color", raw, salt) // when ok
//
//	v := signing.QuoteCookieValue(cs.Sign("color", value, salt))
//	w.Header().Add("Set-Cookie", "color="+v+"; Path=/; SameSite=Lax")
//
// A CookieSigner is safe for concurrent use. Each call derives the keys
// for its (name, salt) pair, a hash per key; cookies are not a hot path.
type CookieSigner struct {
	key       []byte
	fallbacks [][]byte
	opts      CookieOptions
	newHash   func() hash.Hash
}

// NewCookieSigner returns a CookieSigner for SECRET_KEY. opts may be nil.
// It fails with ErrEmptyKey or ErrInvalidAlgorithm.
func NewCookieSigner(secretKey []byte, opts *CookieOptions) (*CookieSigner, error) {
	c := &CookieSigner{}
	if opts != nil {
		c.opts = *opts
	}
	if len(secretKey) == 0 {
		return nil, ErrEmptyKey
	}
	c.key = append([]byte(cookieKeyPrefix), secretKey...)
	for i, fk := range c.opts.FallbackKeys {
		if len(fk) == 0 {
			return nil, fmt.Errorf("%w: fallback key %d is empty", ErrEmptyKey, i)
		}
		c.fallbacks = append(c.fallbacks, append([]byte(cookieKeyPrefix), fk...))
	}
	c.opts.FallbackKeys = nil
	if c.opts.Algorithm == "" {
		c.opts.Algorithm = DefaultAlgorithm
	}
	var err error
	if c.newHash, err = lookupAlgorithm(c.opts.Algorithm); err != nil {
		return nil, err
	}
	return c, nil
}

// signer returns get_cookie_signer(salt=salt): a TimestampSigner over the
// prefixed keys. An empty salt (legacy scheme, empty name and salt) falls
// back to the class default, as in Django.
func (c *CookieSigner) signer(salt string) *core {
	if salt == "" {
		salt = TimestampSignerSalt
	}
	return buildCore(c.key, &Options{
		Salt:         salt,
		Algorithm:    c.opts.Algorithm,
		LegacySHA1:   c.opts.LegacySHA1,
		FallbackKeys: c.fallbacks,
		Clock:        c.opts.Clock,
	}, c.newHash)
}

// Sign returns the value to store in cookie name, as
// response.set_signed_cookie(name, value, salt=salt) writes it: v2 salt by
// default, legacy salt with CookieOptions.LegacySalt.
func (c *CookieSigner) Sign(name, value, salt string) string {
	s := CookieSalt(name, salt)
	if c.opts.LegacySalt {
		s = LegacyCookieSalt(name, salt)
	}
	return c.signer(s).signTimestamped(value)
}

// Unsign returns the original value of cookie name, as
// request.get_signed_cookie(name, salt=salt) does, without an age check.
// See UnsignMaxAge.
func (c *CookieSigner) Unsign(name, cookieValue, salt string) (string, error) {
	return c.unsign(name, cookieValue, salt, noMaxAge)
}

// UnsignMaxAge is get_signed_cookie(name, salt=salt, max_age=maxAge): it
// verifies with the v2 salt and, when that fails with a bad signature that
// is not an expiry (and NoLegacySaltFallback is off), with the legacy salt.
// An expired v2 value is not retried. Errors wrap ErrBadSignature (and
// ErrSignatureExpired) or ErrBadPayload; see TimestampSigner.UnsignMaxAge.
func (c *CookieSigner) UnsignMaxAge(name, cookieValue, salt string, maxAge time.Duration) (string, error) {
	if maxAge == noMaxAge {
		maxAge++
	}
	return c.unsign(name, cookieValue, salt, maxAge)
}

func (c *CookieSigner) unsign(name, cookieValue, salt string, maxAge time.Duration) (string, error) {
	v, err := c.signer(CookieSalt(name, salt)).unsignTimestamped(cookieValue, maxAge)
	if err == nil || c.opts.NoLegacySaltFallback ||
		!errors.Is(err, ErrBadSignature) || errors.Is(err, ErrSignatureExpired) {
		return v, err
	}
	return c.signer(LegacyCookieSalt(name, salt)).unsignTimestamped(cookieValue, maxAge)
}
