// Package django holds the session as Django defines it: the settings that
// shape it, session keys, the session_data codec (spec §3.5–3.7), the Session
// type with Django's SessionBase semantics (spec §3.3–3.4), and the Store
// interface every backend under backends/ implements.
//
// Names follow Django's: a Session is what Django calls request.session, a
// Store is the persistence half of a SessionStore class, session_key,
// session_data and expire_date keep their meaning.
package django

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Django's default values for the session settings (spec §3.1).
const (
	DefaultSessionCookieName     = "sessionid"
	DefaultSessionCookieAge      = 1209600 // two weeks, in seconds
	DefaultSessionCookiePath     = "/"
	DefaultSessionCookieSameSite = "Lax"
	// DefaultSessionStoreClass is the class name in Django's session salts:
	// every built-in backend's class is called SessionStore.
	DefaultSessionStoreClass = "SessionStore"
)

// Session dict keys that Django itself writes (spec §3.1, §3.4, §4.1).
const (
	ExpiryKey      = "_session_expiry"
	AuthUserIDKey  = "_auth_user_id"
	AuthBackendKey = "_auth_user_backend"
	AuthHashKey    = "_auth_user_hash"
	TestCookieName = "testcookie"
	TestCookieVal  = "worked"
	// CSRFSessionKey is where Django keeps the CSRF token when
	// CSRF_USE_SESSIONS is on (django.middleware.csrf.CSRF_SESSION_KEY).
	CSRFSessionKey = "_csrftoken"
)

// ErrImproperlyConfigured reports settings that cannot work, as Django's
// ImproperlyConfigured does.
var ErrImproperlyConfigured = errors.New("django: improperly configured")

// Settings are the Django settings that shape sessions, with Django's names.
// Use DefaultSettings for Django's defaults and change what your project
// changes; the zero Settings is not usable (it has no SECRET_KEY).
type Settings struct {
	// SecretKey is SECRET_KEY. Required.
	SecretKey string
	// SecretKeyFallbacks is SECRET_KEY_FALLBACKS (Django 4.1+): keys still
	// accepted when verifying, tried in order after SecretKey.
	SecretKeyFallbacks []string

	SessionCookieName     string // SESSION_COOKIE_NAME, "sessionid"
	SessionCookieAge      int    // SESSION_COOKIE_AGE in seconds, 1209600
	SessionCookieDomain   string // SESSION_COOKIE_DOMAIN, "" = None
	SessionCookiePath     string // SESSION_COOKIE_PATH, "/"
	SessionCookieSecure   bool   // SESSION_COOKIE_SECURE, false
	SessionCookieHTTPOnly bool   // SESSION_COOKIE_HTTPONLY, true
	// SessionCookieSameSite is SESSION_COOKIE_SAMESITE: "Lax", "Strict",
	// "None" in any case ("none" and "LAX" are accepted, as Django compares
	// them case-insensitively), or "" for no attribute (Django's False).
	// The cookie carries the value as written here, as Django's does
	// ("SameSite=none" for "none").
	SessionCookieSameSite string

	SessionExpireAtBrowserClose bool // SESSION_EXPIRE_AT_BROWSER_CLOSE
	SessionSaveEveryRequest     bool // SESSION_SAVE_EVERY_REQUEST

	// SessionSerializer is SESSION_SERIALIZER: JSONSerializer (the default)
	// or PickleSerializer (Django ≤4.2 only; dangerous with signed cookies).
	SessionSerializer Serializer

	// SessionFilePath is SESSION_FILE_PATH; "" means the OS temp dir, as
	// Django's tempfile.gettempdir().
	SessionFilePath string

	// UseTZ is USE_TZ (default true, Django 5.0+). With UseTZ false, naive
	// datetimes (expire_date in a database, expiry strings, file mtimes) are
	// local times in TimeZone.
	UseTZ bool
	// TimeZone is TIME_ZONE, used for naive datetimes when UseTZ is false
	// (and by databases that store local time). nil means UTC. Note that
	// Django's own default is America/Chicago; most projects set it.
	TimeZone *time.Location

	// SessionStoreClass is the __qualname__ of the Python class that
	// encodes session_data, which Django puts in both session_data salts
	// (spec §3.5): "SessionStore" (the default) for every built-in engine
	// and for any custom engine module, whose class must be called
	// SessionStore. Set it only when the sessions are written by a class of
	// another name — "MyStore" for `class MyStore(db.SessionStore)` used
	// directly, "Outer.Inner" for a nested class. The module path is not
	// part of the salt; the legacy (pre-3.1) salt uses the part after the
	// last dot (the class's __name__).
	SessionStoreClass string

	// LegacySHA1 also accepts what Django 3.1–3.2 accepted: SHA-1 signatures
	// on session_data and signed cookies, and SHA-1 session auth hashes.
	LegacySHA1 bool
	// RefuseLegacyFormat rejects the pre-3.1 session_data format (spec §3.5
	// format L), as Django 4.0+ does. By default it is read, as 3.1–3.2 read it.
	RefuseLegacyFormat bool
	// WriteLegacyFormat writes for Django ≤3.0 readers, as 3.1.1–3.2 do
	// with DEFAULT_HASHING_ALGORITHM = "sha1": session_data in format L,
	// signed-cookie sessions signed with SHA-1 (and SHA-1 read too), SHA-1
	// session auth hashes.
	WriteLegacyFormat bool

	// Clock returns the current time; nil means time.Now. Tests and the
	// CLI's --now fix it.
	Clock func() time.Time
}

// DefaultSettings returns Django's defaults with the given SECRET_KEY.
func DefaultSettings(secretKey string) *Settings {
	return &Settings{
		SecretKey:             secretKey,
		SessionCookieName:     DefaultSessionCookieName,
		SessionCookieAge:      DefaultSessionCookieAge,
		SessionCookiePath:     DefaultSessionCookiePath,
		SessionCookieHTTPOnly: true,
		SessionCookieSameSite: DefaultSessionCookieSameSite,
		SessionSerializer:     JSONSerializer{},
		UseTZ:                 true,
		SessionStoreClass:     DefaultSessionStoreClass,
	}
}

// Validate reports settings Django would refuse or that cannot work.
func (s *Settings) Validate() error {
	if s.SecretKey == "" {
		return fmt.Errorf("%w: the SECRET_KEY setting must not be empty", ErrImproperlyConfigured)
	}
	if s.SessionCookieName == "" {
		return fmt.Errorf("%w: SESSION_COOKIE_NAME must not be empty", ErrImproperlyConfigured)
	}
	if !legalCookieName(s.SessionCookieName) {
		// Django's set_cookie raises CookieError for such a name (after
		// the session is saved), and the file backend would put it in a
		// path.
		return fmt.Errorf("%w: SESSION_COOKIE_NAME may hold only letters, digits and !#$%%&'*+-.^_`|~:", ErrImproperlyConfigured)
	}
	if !headerSafe(s.SessionCookieDomain) || !headerSafe(s.SessionCookiePath) {
		// Django copies them into the Set-Cookie header unchecked, where a
		// ';' or a control character would split it.
		return fmt.Errorf("%w: SESSION_COOKIE_DOMAIN and SESSION_COOKIE_PATH must not hold ';', control or non-ASCII characters", ErrImproperlyConfigured)
	}
	if s.SessionSerializer == nil {
		return fmt.Errorf("%w: SESSION_SERIALIZER is not set", ErrImproperlyConfigured)
	}
	if _, ok := s.SameSiteMode(); !ok {
		// Django's set_cookie raises ValueError for any other value.
		return fmt.Errorf("%w: SESSION_COOKIE_SAMESITE must be Lax, Strict, None (in any case) or empty", ErrImproperlyConfigured)
	}
	return nil
}

// legalCookieName reports whether every byte of name is one Python's
// http.cookies accepts in a cookie name (_LegalChars).
func legalCookieName(name string) bool {
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~:", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// headerSafe reports whether v can go into a Set-Cookie attribute as is:
// printable ASCII without ';'.
func headerSafe(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c >= 0x7f || c == ';' {
			return false
		}
	}
	return true
}

// SameSiteMode returns SESSION_COOKIE_SAMESITE lower-cased: "lax",
// "strict", "none", or "" for no attribute. ok is false for any other
// value, which Django's set_cookie refuses. Case is folded as Python's
// str.lower() folds these words: ASCII letters only, so "STRİCT" (with a
// dotted capital I) is refused, as Django refuses it.
func (s *Settings) SameSiteMode() (mode string, ok bool) {
	v := s.SessionCookieSameSite
	for i := 0; i < len(v); i++ {
		if v[i] >= 0x80 {
			return "", false
		}
	}
	switch mode = strings.ToLower(v); mode {
	case "", "lax", "strict", "none":
		return mode, true
	}
	return "", false
}

// Now returns the settings' clock reading.
func (s *Settings) Now() time.Time {
	if s.Clock != nil {
		return s.Clock()
	}
	return time.Now()
}

// Location returns the zone naive datetimes are in: UTC when UseTZ is set
// (Django stores UTC), else TimeZone.
func (s *Settings) Location() *time.Location {
	if s.UseTZ || s.TimeZone == nil {
		return time.UTC
	}
	return s.TimeZone
}

// KeySalt is the salt of the current session_data format:
// "django.contrib.sessions." + the class's qualified name (spec §3.5).
func (s *Settings) KeySalt() string {
	return "django.contrib.sessions." + s.storeClass()
}

// LegacyKeySalt is the salt of the pre-3.1 format:
// "django.contrib.sessions" + the class's bare name, no dot (spec §3.5).
func (s *Settings) LegacyKeySalt() string {
	c := s.storeClass()
	if i := strings.LastIndexByte(c, '.'); i >= 0 {
		c = c[i+1:]
	}
	return "django.contrib.sessions" + c
}

func (s *Settings) storeClass() string {
	if s.SessionStoreClass == "" {
		return DefaultSessionStoreClass
	}
	return s.SessionStoreClass
}
