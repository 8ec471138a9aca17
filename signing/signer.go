package signing

import (
	"crypto/hmac"
	"crypto/sha1"
	"fmt"
	"hash"
	"math"
	"strconv"
	"strings"
	"time"
)

// Default salts, as Django derives them from the class path (spec §2.4) and
// as signing.dumps/loads pass them (spec §2.6).
const (
	SignerSalt          = "django.core.signing.Signer"
	TimestampSignerSalt = "django.core.signing.TimestampSigner"
	DumpsSalt           = "django.core.signing"
)

// DefaultSep is the separator Django's signers use unless told otherwise.
const DefaultSep = ":"

// Clock returns the current time. Signers call it for the timestamps they
// write and for max-age checks; tests and the command line fix it. A nil
// Clock means time.Now.
type Clock func() time.Time

// Options configures a Signer or TimestampSigner. The zero value (or a nil
// *Options) gives Django's defaults. Options are read once, at construction.
type Options struct {
	// Salt namespaces the signature (Django's salt). Empty means the
	// class default, SignerSalt or TimestampSignerSalt, exactly as
	// Django's Signer(salt="") and Signer(salt=None) both do. (Dumps and
	// Loads use DumpsSalt instead; see there.)
	Salt string

	// Sep separates value, timestamp and signature. Empty means
	// DefaultSep. A separator made only of the characters
	// A–Z [ \ ] ^ _ ` a–z 0–9 - = (Django's regex ^[A-z0-9-_=]*$, whose
	// $ also allows one final "\n") is rejected with ErrInvalidSeparator,
	// as Django raises ValueError (spec §2.4).
	Sep string

	// Algorithm is the hashlib name of the HMAC hash (see Algorithms).
	// Empty means DefaultAlgorithm ("sha256"). Use "sha1" to write for
	// Django ≤ 3.0.
	Algorithm string

	// FallbackKeys are further keys accepted when verifying, tried in
	// order after the key itself (Django 4.1+ SECRET_KEY_FALLBACKS). They
	// are never used to sign.
	FallbackKeys [][]byte

	// LegacySHA1 also accepts SHA-1 signatures whatever Algorithm is,
	// the Django 3.1–3.2 rule (spec §2.4 step 3, legacy_algorithm).
	// Combined with FallbackKeys (a mix no Django has), SHA-1 is accepted
	// under every key.
	LegacySHA1 bool

	// Serializer turns objects into bytes for SignObject and back for
	// UnsignObject. Nil means JSONSerializer.
	Serializer Serializer

	// MaxDecompressedSize bounds what UnsignObject inflates from a
	// compressed payload, in bytes. 0 means DefaultMaxDecompressedSize;
	// a negative value means no limit (Django's behaviour). A payload
	// past the limit is rejected with ErrBadPayload.
	MaxDecompressedSize int64

	// Clock is the time source; nil means time.Now.
	Clock Clock
}

// DefaultMaxDecompressedSize is the decompression limit unless
// Options.MaxDecompressedSize says otherwise: 8 MiB.
//
// Why this size: compression happens before signing, so only a holder of
// the key (or a store the attacker can write to *and* a leaked key) can
// present a zip bomb; the limit is defence in depth, and must never reject
// a session Django itself would read. A signed-cookie session is under 4 KB
// on the wire (≤ ~4 MB inflated even at deflate's ~1000:1 worst case,
// tens of KB for real JSON), but db, file and cached_db session_data has no
// size cap in Django (a TextField), and applications do park form-wizard
// state, carts or cached API data there: hundreds of KB are seen in the
// wild, single-digit MB rarely. 8 MiB clears those with room to spare while
// keeping the worst case per request to one bounded buffer.
const DefaultMaxDecompressedSize = 8 << 20

// core is what Signer and TimestampSigner share: the precomputed keys and
// the configuration. It is immutable after construction.
type core struct {
	sep        string
	salt       string
	algorithm  string
	keys       []*macKey // keys[0] signs; all verify, in Django's order
	serializer Serializer
	jsonFast   bool  // serializer is JSONSerializer: use py.AppendJSON into pooled buffers
	maxInflate int64 // < 0: unlimited
	clock      Clock
	errNoSep   error // prepared: "No "<sep>" found in value"
}

// checkSeparator applies Django's unsafe-separator rule (spec §2.4): reject
// when re.match(r'^[A-z0-9-_=]*$', sep) succeeds. Python's $ matches at the
// end or before a final "\n", so one trailing newline is ignored.
func checkSeparator(sep string) error {
	s := strings.TrimSuffix(sep, "\n")
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '=' || ('0' <= c && c <= '9') || ('A' <= c && c <= 'z')) {
			return nil
		}
	}
	return fmt.Errorf("%w: %s (cannot be empty or consist of only A-z0-9-_=)", ErrInvalidSeparator, pyRepr(sep))
}

func newCore(key []byte, o *Options, defaultSalt string) (*core, error) {
	var opts Options
	if o != nil {
		opts = *o
	}
	if len(key) == 0 {
		return nil, ErrEmptyKey
	}
	for i, fk := range opts.FallbackKeys {
		if len(fk) == 0 {
			return nil, fmt.Errorf("%w: fallback key %d is empty", ErrEmptyKey, i)
		}
	}
	if opts.Sep != "" {
		if err := checkSeparator(opts.Sep); err != nil {
			return nil, err
		}
	}
	if opts.Algorithm == "" {
		opts.Algorithm = DefaultAlgorithm
	}
	newHash, err := lookupAlgorithm(opts.Algorithm)
	if err != nil {
		return nil, err
	}
	if opts.Salt == "" {
		opts.Salt = defaultSalt
	}
	return buildCore(key, &opts, newHash), nil
}

// buildCore derives the keys for validated options (Salt and Algorithm
// filled in, newHash the algorithm's constructor). It cannot fail.
func buildCore(key []byte, opts *Options, newHash func() hash.Hash) *core {
	c := &core{sep: opts.Sep, salt: opts.Salt, algorithm: opts.Algorithm, clock: opts.Clock}
	if c.sep == "" {
		c.sep = DefaultSep
	}
	// signature() uses the salt with the literal suffix "signer" (spec §2.4).
	keySalt := c.salt + "signer"
	c.keys = make([]*macKey, 0, (1+len(opts.FallbackKeys))*2)
	for i := -1; i < len(opts.FallbackKeys); i++ {
		secret := key
		if i >= 0 {
			secret = opts.FallbackKeys[i]
		}
		c.keys = append(c.keys, newMACKey(newHash, keySalt, secret))
		if opts.LegacySHA1 && c.algorithm != "sha1" {
			c.keys = append(c.keys, newMACKey(sha1.New, keySalt, secret))
		}
	}
	c.serializer = opts.Serializer
	switch opts.Serializer.(type) {
	case nil, JSONSerializer, *JSONSerializer:
		c.serializer, c.jsonFast = JSONSerializer{}, true
	}
	switch {
	case opts.MaxDecompressedSize == 0:
		c.maxInflate = DefaultMaxDecompressedSize
	case opts.MaxDecompressedSize < 0:
		c.maxInflate = -1
	default:
		c.maxInflate = opts.MaxDecompressedSize
	}
	c.errNoSep = errNoColon
	if c.sep != DefaultSep {
		c.errNoSep = noSepError(c.sep)
	}
	return c
}

func (c *core) now() time.Time {
	if c.clock != nil {
		return c.clock()
	}
	return time.Now()
}

// signature returns base64_hmac(salt+"signer", value, key) under the
// signing key (spec §2.4).
func (c *core) signature(value string) string {
	var buf [maxB64MAC]byte
	return string(c.keys[0].b64mac(value, &buf))
}

// sign returns value ‖ sep ‖ signature(value) in one allocation.
func (c *core) sign(value string) string {
	k := c.keys[0]
	var b strings.Builder
	b.Grow(len(value) + len(c.sep) + k.b64len)
	b.WriteString(value)
	b.WriteString(c.sep)
	var mac [maxB64MAC]byte
	b.Write(k.b64mac(value, &mac))
	return b.String()
}

// signTimestamped returns value ‖ sep ‖ b62(now) ‖ sep ‖ signature of
// everything before the last sep, in one allocation (spec §2.5).
func (c *core) signTimestamped(value string) string {
	var tsBuf [12]byte
	ts := appendB62(tsBuf[:0], unixSeconds(c.now()))
	k := c.keys[0]
	var b strings.Builder
	b.Grow(len(value) + 2*len(c.sep) + len(ts) + k.b64len)
	b.WriteString(value)
	b.WriteString(c.sep)
	b.Write(ts)
	msg := b.String() // stays valid: the writes below fit in the grown buffer
	b.WriteString(c.sep)
	var mac [maxB64MAC]byte
	b.Write(k.b64mac(msg, &mac))
	return b.String()
}

// unixSeconds is Python's int(time.time()): seconds truncated toward zero.
func unixSeconds(t time.Time) int64 {
	s := t.Unix()
	if s < 0 && t.Nanosecond() > 0 {
		s++
	}
	return s
}

// unixFloat is Python's time.time() for t.
func unixFloat(t time.Time) float64 {
	return float64(t.Unix()) + float64(t.Nanosecond())/1e9
}

// unsign splits at the last separator and verifies the signature under
// every key in turn (spec §2.4). Each comparison is constant-time
// (hmac.Equal over the base64 text, as Django compares the text); the scan
// stops at the first key that matches, which reveals only which key a
// genuine token was made with.
func (c *core) unsign(signed string) (string, error) {
	i := strings.LastIndex(signed, c.sep)
	if i < 0 {
		return "", c.errNoSep
	}
	value, sig := signed[:i], signed[i+len(c.sep):]
	var mac [maxB64MAC]byte
	for _, k := range c.keys {
		// The signature length depends only on the algorithm, not on
		// any secret, so skipping a mismatch early leaks nothing.
		if len(sig) != k.b64len {
			continue
		}
		if hmac.Equal(k.b64mac(value, &mac), stringBytes(sig)) {
			return value, nil
		}
	}
	return "", errSignatureMismatch
}

var errNoColon = noSepError(DefaultSep)

// noSepError is Django's 'No "<sep>" found in value', prepared once per
// signer so that rejecting input does not allocate.
func noSepError(sep string) error {
	return &detailError{"signing: bad signature: no " + strconv.Quote(sep) + " found in value", ErrBadSignature}
}

// noMaxAge is the maxAge argument meaning Django's max_age=None.
const noMaxAge = time.Duration(math.MinInt64)

// unsignTimestamped is TimestampSigner.unsign (spec §2.5): full
// verification first, then the timestamp, then the age check
// now − ts > maxAge with a fractional now.
func (c *core) unsignTimestamped(signed string, maxAge time.Duration) (string, error) {
	result, err := c.unsign(signed)
	if err != nil {
		return "", err
	}
	i := strings.LastIndex(result, c.sep)
	if i < 0 {
		// Django: ValueError from unpacking; only a key holder gets here.
		return "", errNoTimestamp
	}
	value, tsText := result[:i], result[i+len(c.sep):]
	ts, err := timestampFloat(tsText)
	if err != nil {
		return "", err
	}
	if maxAge != noMaxAge {
		age := unixFloat(c.now()) - ts
		if limit := maxAge.Seconds(); age > limit {
			return "", expiredError(age, limit)
		}
	}
	return value, nil
}

// timestampFloat decodes a base62 timestamp to the float Python compares
// with (an int beyond float range raises OverflowError there).
func timestampFloat(s string) (float64, error) {
	n, err := B62Decode(s)
	if err == nil {
		return float64(n), nil
	}
	if err != errB62Range {
		return 0, errBadTimestamp
	}
	big, _ := B62DecodeBig(s)
	f, _ := big.Float64()
	if math.IsInf(f, 0) {
		return 0, errBadTimestamp
	}
	return f, nil
}

func expiredError(age, maxAge float64) error {
	return &detailError{
		msg: "signing: signature expired: age " + strconv.FormatFloat(age, 'f', -1, 64) +
			" > " + strconv.FormatFloat(maxAge, 'f', -1, 64) + " seconds",
		err: ErrSignatureExpired,
	}
}

// Signer is Django's django.core.signing.Signer: it appends a salted HMAC
// of a string to it, and checks and strips it again (spec §2.4).
//
// A Signer derives its HMAC keys once, in NewSigner, and is safe for
// concurrent use; build it once and keep it. The zero Signer is not usable.
type Signer struct{ c *core }

// NewSigner returns a Signer for the secret key (Django's key or
// SECRET_KEY; a str key is its UTF-8 bytes). opts may be nil. It fails with
// ErrEmptyKey, ErrInvalidSeparator or ErrInvalidAlgorithm. The secrets are
// not kept: only the derived HMAC keys are.
func NewSigner(key []byte, opts *Options) (*Signer, error) {
	c, err := newCore(key, opts, SignerSalt)
	if err != nil {
		return nil, err
	}
	return &Signer{c}, nil
}

// Signature returns the signature Sign appends to value: Django's
// Signer.signature(value).
func (s *Signer) Signature(value string) string { return s.c.signature(value) }

// Sign returns value ‖ sep ‖ signature (Django's Signer.sign).
func (s *Signer) Sign(value string) string { return s.c.sign(value) }

// Unsign checks a value made by Sign and returns the original value, which
// may itself contain the separator: the split is at the last one. A value
// without the separator or with a signature that matches none of the keys
// (the key, then each fallback key, and SHA-1 too with LegacySHA1) returns
// an error wrapping ErrBadSignature.
func (s *Signer) Unsign(signed string) (string, error) { return s.c.unsign(signed) }

// TimestampSigner is Django's django.core.signing.TimestampSigner: like
// Signer, but the signed text also carries the signing time, value ‖ sep ‖
// base62(unix seconds) ‖ sep ‖ signature, so that Unsign can enforce a
// maximum age (spec §2.5).
//
// A TimestampSigner is safe for concurrent use; build it once and keep it.
// The zero TimestampSigner is not usable.
type TimestampSigner struct{ c *core }

// NewTimestampSigner returns a TimestampSigner; see NewSigner. The default
// salt is TimestampSignerSalt.
func NewTimestampSigner(key []byte, opts *Options) (*TimestampSigner, error) {
	c, err := newCore(key, opts, TimestampSignerSalt)
	if err != nil {
		return nil, err
	}
	return &TimestampSigner{c}, nil
}

// Signature returns Django's signature(value): the MAC of value as given
// (no timestamp is added).
func (s *TimestampSigner) Signature(value string) string { return s.c.signature(value) }

// Sign returns value ‖ sep ‖ timestamp ‖ sep ‖ signature, the timestamp
// being the clock's Unix time in whole seconds, base62.
func (s *TimestampSigner) Sign(value string) string { return s.c.signTimestamped(value) }

// Unsign verifies a value made by Sign and returns the original value,
// without checking its age (Django's unsign(value, max_age=None)). Errors
// wrap ErrBadSignature, or ErrBadPayload for a verified value without a
// valid timestamp (Django raises ValueError there).
func (s *TimestampSigner) Unsign(signed string) (string, error) {
	return s.c.unsignTimestamped(signed, noMaxAge)
}

// UnsignMaxAge is Unsign that also rejects, with an error wrapping
// ErrSignatureExpired, a value whose age is more than maxAge. The age is
// the clock's time, with its fraction, minus the whole-second timestamp,
// so a value is accepted for up to maxAge + 1s after signing, exactly as
// Django's unsign(value, max_age=maxAge). Future timestamps are not
// rejected, as in Django.
func (s *TimestampSigner) UnsignMaxAge(signed string, maxAge time.Duration) (string, error) {
	if maxAge == noMaxAge {
		maxAge++ // keep the sentinel internal
	}
	return s.c.unsignTimestamped(signed, maxAge)
}
