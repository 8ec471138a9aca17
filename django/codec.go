package django

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// ErrSuspiciousSession is Django's SuspiciousSession ("Session data
// corrupted"): session_data that does not verify or decode. Decode wraps the
// precise cause with it, so callers can test either.
var ErrSuspiciousSession = errors.New("django: session data corrupted")

// ErrNotADict is returned when session_data verifies but holds something
// other than a dict.
var ErrNotADict = errors.New("django: session data is not a dict")

// Codec encodes and decodes session_data, the text the db and file backends
// store (spec §3.5): format S (signing.dumps with the session salt,
// compressed when shorter; Django 3.1+) and the legacy format L of
// Django ≤3.0. It is safe for concurrent use; build it once per Settings.
type Codec struct {
	settings   *Settings
	signer     *signing.TimestampSigner
	serializer Serializer
	secret     []byte
	legacySalt string
}

// NewCodec returns the codec for the settings' SECRET_KEY, fallbacks,
// serializer and session salts.
func NewCodec(s *Settings) (*Codec, error) {
	if err := s.Validate(); err != nil {
		return nil, err
	}
	fallbacks := make([][]byte, len(s.SecretKeyFallbacks))
	for i, k := range s.SecretKeyFallbacks {
		fallbacks[i] = []byte(k)
	}
	signer, err := signing.NewTimestampSigner([]byte(s.SecretKey), &signing.Options{
		Salt:         s.KeySalt(),
		FallbackKeys: fallbacks,
		LegacySHA1:   s.LegacySHA1,
		Serializer:   s.SessionSerializer,
		Clock:        s.Clock,
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrImproperlyConfigured, err)
	}
	return &Codec{
		settings:   s,
		signer:     signer,
		serializer: s.SessionSerializer,
		secret:     []byte(s.SecretKey),
		legacySalt: s.LegacyKeySalt(),
	}, nil
}

// Encode returns session_data for d as Django's SessionStore.encode does:
// format S, or format L when Settings.WriteLegacyFormat asks for it.
func (c *Codec) Encode(d *py.Dict) (string, error) {
	v := py.DictOf(d)
	if c.settings.WriteLegacyFormat {
		return c.encodeLegacy(v)
	}
	return c.signer.SignObject(v, true)
}

// Decode returns the session dict in session_data, or why it was rejected:
// errors wrap ErrSuspiciousSession and the signing error beneath
// (signing.ErrBadSignature, signing.ErrBadPayload), or ErrNotADict. Like
// Django 3.1–3.2 it also reads format L unless Settings.RefuseLegacyFormat
// is set. No max age applies: expiry is the backend's job.
func (c *Codec) Decode(sessionData string) (*py.Dict, error) {
	v, err := c.signer.UnsignObject(sessionData)
	if err != nil {
		if errors.Is(err, signing.ErrBadSignature) && !c.settings.RefuseLegacyFormat {
			if d, lerr := c.decodeLegacy(sessionData); lerr == nil {
				return d, nil
			}
		}
		return nil, fmt.Errorf("%w: %w", ErrSuspiciousSession, err)
	}
	d, ok := v.Dict()
	if !ok {
		return nil, fmt.Errorf("%w: %w (got %s)", ErrSuspiciousSession, ErrNotADict, v.TypeName())
	}
	return d, nil
}

// DecodeOrEmpty is Django 4.0+'s decode(): any failure gives an empty dict.
func (c *Codec) DecodeOrEmpty(sessionData string) *py.Dict {
	d, err := c.Decode(sessionData)
	if err != nil {
		return py.NewDict(0)
	}
	return d
}

// legacyHash is format L's hash: hex(salted_hmac(legacy salt, serialized,
// SECRET_KEY)), always SHA-1 (spec §3.5).
func (c *Codec) legacyHash(serialized []byte) (string, error) {
	mac, err := signing.SaltedHMAC(c.legacySalt, serialized, c.secret, "sha1")
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(mac), nil
}

func (c *Codec) encodeLegacy(v py.Value) (string, error) {
	ser, err := c.serializer.Dumps(v)
	if err != nil {
		return "", err
	}
	h, err := c.legacyHash(ser)
	if err != nil {
		return "", err
	}
	raw := make([]byte, 0, len(h)+1+len(ser))
	raw = append(append(append(raw, h...), ':'), ser...)
	return base64.StdEncoding.EncodeToString(raw), nil
}

var errLegacy = errors.New("not legacy session data")

func (c *Codec) decodeLegacy(sessionData string) (*py.Dict, error) {
	// Django decodes with Python's lenient b64decode; data Django wrote is
	// canonical base64, which the strict decoder reads. Newlines from
	// older encoders are tolerated.
	raw, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(sessionData, "\n", ""))
	if err != nil {
		return nil, errLegacy
	}
	i := strings.IndexByte(string(raw), ':')
	if i < 0 {
		return nil, errLegacy
	}
	want, err := c.legacyHash(raw[i+1:])
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(raw[:i], []byte(want)) != 1 {
		return nil, errLegacy
	}
	v, err := c.serializer.Loads(raw[i+1:])
	if err != nil {
		return nil, errLegacy
	}
	d, ok := v.Dict()
	if !ok {
		return nil, errLegacy
	}
	return d, nil
}
