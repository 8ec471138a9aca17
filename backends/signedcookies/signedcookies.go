// Package signedcookies is Django's signed-cookie session backend
// (django.contrib.sessions.backends.signed_cookies, spec §3.9.5): the session
// key is the cookie value and holds the whole session, signed with
// SECRET_KEY under the salt "django.contrib.sessions.backends.signed_cookies",
// compressed when that is shorter, valid for SESSION_COOKIE_AGE.
//
// Nothing is stored on the server: saving mints a new token (the new
// session key), there is nothing to list or clear, and a session cannot be
// ended before it expires except by the browser dropping the cookie.
package signedcookies

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// Salt is the signing salt of cookie sessions.
const Salt = "django.contrib.sessions.backends.signed_cookies"

// Store is the signed-cookie backend. It is safe for concurrent use.
type Store struct {
	settings *django.Settings
	signer   *signing.TimestampSigner // verifies
	writer   *signing.TimestampSigner // signs: signer, or SHA-1 for legacy readers
}

var _ django.Store = (*Store)(nil)

// New returns the store for the settings' SECRET_KEY, fallbacks and
// SESSION_SERIALIZER.
func New(settings *django.Settings) (*Store, error) {
	if err := settings.Validate(); err != nil {
		return nil, err
	}
	fallbacks := make([][]byte, len(settings.SecretKeyFallbacks))
	for i, k := range settings.SecretKeyFallbacks {
		fallbacks[i] = []byte(k)
	}
	opts := signing.Options{
		Salt:         Salt,
		FallbackKeys: fallbacks,
		LegacySHA1:   settings.LegacySHA1 || settings.WriteLegacyFormat,
		Serializer:   settings.SessionSerializer,
		Clock:        signing.Clock(settings.Clock),
	}
	signer, err := signing.NewTimestampSigner([]byte(settings.SecretKey), &opts)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", django.ErrImproperlyConfigured, err)
	}
	st := &Store{settings: settings, signer: signer, writer: signer}
	if settings.WriteLegacyFormat {
		// Django ≤3.0, and 3.1–3.2 with DEFAULT_HASHING_ALGORITHM =
		// "sha1" (which then accept nothing else), sign with SHA-1
		// (spec §3.9.5, §2.4).
		opts.Algorithm, opts.LegacySHA1 = "sha1", false
		if st.writer, err = signing.NewTimestampSigner([]byte(settings.SecretKey), &opts); err != nil {
			return nil, fmt.Errorf("%w: %w", django.ErrImproperlyConfigured, err)
		}
	}
	return st, nil
}

func (s *Store) maxAge() time.Duration {
	age := s.settings.SessionCookieAge
	if age == 0 {
		age = django.DefaultSessionCookieAge
	}
	return time.Duration(age) * time.Second
}

// Decode returns the session in a cookie value, or why it was rejected:
// signing.ErrBadSignature, signing.ErrSignatureExpired (older than
// SESSION_COOKIE_AGE), signing.ErrBadPayload, or django.ErrNotADict.
func (s *Store) Decode(cookie string) (*py.Dict, error) {
	v, err := s.signer.UnsignObjectMaxAge(cookie, s.maxAge())
	if err != nil {
		return nil, err
	}
	d, ok := v.Dict()
	if !ok {
		return nil, fmt.Errorf("%w (got %s)", django.ErrNotADict, v.TypeName())
	}
	return d, nil
}

// Encode returns the cookie value for a session dict, as Django's save()
// computes it (signing.dumps(compress=True) with the session salt): signed
// with SHA-256, or with SHA-1 under Settings.WriteLegacyFormat, for Django
// ≤3.0 and 3.1–3.2 with DEFAULT_HASHING_ALGORITHM = "sha1". Both are read.
func (s *Store) Encode(d *py.Dict) (string, error) {
	return s.writer.SignObject(py.DictOf(d), true)
}

// Load decodes the session in the cookie value key; any failure (bad
// signature, expired, bad payload) is "not found", an empty session.
// Django loads the same empty session but marks it modified (its create()),
// so its response carries a fresh cookie holding {}; through Session and
// the middleware ours drops the cookie instead (an empty session with a
// cookie is deleted). Both leave the browser without the bad value.
func (s *Store) Load(_ context.Context, key string) (*py.Dict, bool, error) {
	d, err := s.Decode(key)
	if err != nil {
		return nil, false, nil
	}
	return d, true, nil
}

// Exists is always false: Django's signed-cookie exists() never finds a
// key, because any key could be a new one.
func (s *Store) Exists(context.Context, string) (bool, error) { return false, nil }

// Save mints the new cookie value from rec.Data and sets it as
// rec.SessionKey. mustCreate makes no difference: tokens cannot collide.
func (s *Store) Save(_ context.Context, rec *django.Record, _ bool) error {
	tok, err := s.Encode(rec.Data)
	if err != nil {
		return err
	}
	rec.SessionKey = tok
	return nil
}

// Delete does nothing: the session lives in the browser. (Session.Flush
// still empties it, and the middleware then deletes the cookie.)
func (s *Store) Delete(context.Context, string) error { return nil }

// ClearExpired does nothing, as in Django: expired cookies are refused on
// load and dropped by browsers.
func (s *Store) ClearExpired(context.Context) error { return nil }

// ErrNoServerState explains why signed-cookie sessions cannot be listed.
var ErrNoServerState = errors.New("signed-cookie sessions live in browsers; there is nothing on the server to list")

// List returns django.ErrNotSupported: there is nothing on the server.
func (s *Store) List(context.Context, func(django.Info) error) error {
	return fmt.Errorf("%w: %w", django.ErrNotSupported, ErrNoServerState)
}
