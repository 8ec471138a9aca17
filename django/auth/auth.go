// Package auth is the part of django.contrib.auth that lives in the
// session (spec §4): reading the login keys, verifying them as get_user()
// does against the user's current password hash (with SECRET_KEY, each
// SECRET_KEY_FALLBACKS entry, and the SHA-1 hash of Django 3.1–3.2 when
// enabled), and logging in and out as login()/logout() do.
//
// Users come from a UserLoader; SQLUsers reads Django's auth_user table (or
// a custom user model's) through database/sql.
package auth

import (
	"context"
	"crypto/hmac"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"sync"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// ModelBackend is Django's default authentication backend.
const ModelBackend = "django.contrib.auth.backends.ModelBackend"

// hashKeySalt is the salt of get_session_auth_hash (spec §4.2).
const hashKeySalt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"

// ErrNoUser is returned by a UserLoader when no user has the id.
var ErrNoUser = errors.New("auth: no such user")

// User is what verification needs of a user row.
type User struct {
	// ID is the primary key as Django stores it in the session
	// (value_to_string: decimal digits, a hyphenated UUID, or the text).
	ID string
	// Password is the encoded password string (auth_user.password).
	Password string
	// IsActive is is_active; ModelBackend refuses inactive users.
	IsActive bool
	// Username is informational.
	Username string
}

// UserLoader loads a user by the id stored in the session. It returns
// ErrNoUser (possibly wrapped) when there is none, and other errors only
// for failures of the store.
type UserLoader interface {
	LoadUser(ctx context.Context, id string) (*User, error)
}

// UserLoaderFunc adapts a function to UserLoader.
type UserLoaderFunc func(ctx context.Context, id string) (*User, error)

// LoadUser calls f.
func (f UserLoaderFunc) LoadUser(ctx context.Context, id string) (*User, error) { return f(ctx, id) }

// Config is what verification and login need.
type Config struct {
	// Settings give SECRET_KEY, SECRET_KEY_FALLBACKS and LegacySHA1 (accept
	// the SHA-1 hashes of Django ≤3.2); with WriteLegacyFormat the hash
	// written at login is SHA-1 too, for Django ≤3.0 readers.
	Settings *django.Settings
	// AuthenticationBackends is AUTHENTICATION_BACKENDS; empty means
	// Django's default, ModelBackend only.
	AuthenticationBackends []string
	// AllowInactive accepts inactive users, as
	// AllowAllUsersModelBackend does. ModelBackend refuses them.
	AllowInactive bool
	// Users loads users; required for Verify and GetUser.
	Users UserLoader

	macs macCache
}

// macCache keeps, per (algorithm, secret), a pool of salted HMACs whose key
// (H(salt ‖ secret)) is derived once, so verifying a request does not
// rehash the secret.
type macCache struct {
	mu    sync.RWMutex
	pools map[macKey]*sync.Pool
}

type macKey struct{ alg, secret string }

func (c *macCache) pool(alg, secret string) *sync.Pool {
	k := macKey{alg, secret}
	c.mu.RLock()
	p := c.pools[k]
	c.mu.RUnlock()
	if p != nil {
		return p
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if p = c.pools[k]; p == nil {
		if c.pools == nil {
			c.pools = map[macKey]*sync.Pool{}
		}
		p = &sync.Pool{New: func() any {
			h, err := signing.NewSaltedHMAC(hashKeySalt, []byte(secret), alg)
			if err != nil {
				return nil
			}
			return h
		}}
		c.pools[k] = p
	}
	return p
}

// matches reports, in constant time, whether stored (hex) is the session
// auth hash of password under secret with alg.
func (c *Config) matches(stored, password, secret, alg string) bool {
	p := c.macs.pool(alg, secret)
	h, _ := p.Get().(hash.Hash)
	if h == nil {
		return false
	}
	defer p.Put(h)
	h.Reset()
	io.WriteString(h, password)
	var sum, want [64]byte
	got := h.Sum(sum[:0])
	if len(stored) != 2*len(got) {
		return false
	}
	if _, err := hex.Decode(want[:len(got)], []byte(stored)); err != nil {
		return false
	}
	return hmac.Equal(got, want[:len(got)])
}

func (c *Config) backends() []string {
	if len(c.AuthenticationBackends) == 0 {
		return []string{ModelBackend}
	}
	return c.AuthenticationBackends
}

// SessionAuthHash is get_session_auth_hash() for an encoded password under
// secret: hex(salted_hmac(salt, password, secret, algorithm)) (spec §4.2).
// algorithm is "sha256" (Django 3.1+) or "sha1" (≤3.0, and 3.1–3.2's
// legacy hash).
func SessionAuthHash(password, secret, algorithm string) string {
	mac, err := signing.SaltedHMAC(hashKeySalt, []byte(password), []byte(secret), algorithm)
	if err != nil {
		return ""
	}
	return hex.EncodeToString(mac)
}

// CurrentHash is the hash login() writes for a user: SHA-256 under
// SECRET_KEY, or SHA-1 when the settings write for Django ≤3.0.
func (c *Config) CurrentHash(u *User) string {
	alg := "sha256"
	if c.Settings.WriteLegacyFormat {
		alg = "sha1"
	}
	return SessionAuthHash(u.Password, c.Settings.SecretKey, alg)
}

// StoredLogin is the login recorded in a session.
type StoredLogin struct {
	UserID  string // _auth_user_id as stored
	Backend string // _auth_user_backend; "" when missing or not a str
	Hash    string // _auth_user_hash; "" when missing or not a str
	// HasBackend says _auth_user_backend is in the session. Without it
	// Django's get_user() gives AnonymousUser without looking further, but
	// login() still compares the stored id and hash (spec §4.3, §4.4).
	HasBackend bool
}

// ReadLogin returns the login keys of a session dict. ok is true when the
// session holds a readable _auth_user_id, whether or not
// _auth_user_backend is there too (see StoredLogin.HasBackend): the id is
// what login() compares and what `djsession whoami` reports; Verify
// decides whether it is a login get_user() accepts. A non-str user id (an
// int written by a non-Django writer) is read as its decimal text; any
// other type gives ok false.
func ReadLogin(d *py.Dict) (l StoredLogin, ok bool) {
	if d == nil {
		return l, false
	}
	id, hasID := d.GetStr(django.AuthUserIDKey)
	if !hasID {
		return l, false
	}
	if s, isStr := id.Str(); isStr {
		l.UserID = s
	} else if i, isInt := id.Int(); isInt {
		l.UserID = strconv.FormatInt(i, 10)
	} else {
		return l, false
	}
	if be, hasBE := d.GetStr(django.AuthBackendKey); hasBE {
		l.HasBackend = true
		l.Backend, _ = be.Str()
	}
	if h, ok := d.GetStr(django.AuthHashKey); ok {
		l.Hash, _ = h.Str()
	}
	return l, true
}

// Rule names how a verdict was reached.
type Rule string

// The rules of get_user (spec §4.4).
const (
	RuleCurrentKey     Rule = "current SECRET_KEY"
	RuleFallbackKey    Rule = "SECRET_KEY_FALLBACKS"
	RuleLegacySHA1     Rule = "legacy SHA-1 hash (Django 3.1-3.2)"
	RuleAnonymous      Rule = "no user in session"
	RuleNoBackend      Rule = "session has no auth backend"
	RuleUnknownBackend Rule = "backend not in AUTHENTICATION_BACKENDS"
	RuleNoUser         Rule = "no such user"
	RuleInactive       Rule = "user is inactive"
	RuleEmptyHash      Rule = "session has no auth hash"
	RuleHashMismatch   Rule = "auth hash does not match (password or SECRET_KEY changed, or forged)"
)

// Verdict is the answer of Verify and GetUser.
type Verdict struct {
	// Login is what the session holds; HasLogin says it holds a user id
	// (Login.HasBackend says whether a backend came with it).
	Login         StoredLogin
	HasLogin      bool
	Authenticated bool
	// User is the verified user (nil unless Authenticated).
	User *User
	Rule Rule
	// FallbackIndex is which SECRET_KEY_FALLBACKS entry matched
	// (RuleFallbackKey only).
	FallbackIndex int
	// Flush says Django would flush this session (hash check failed).
	Flush bool
	// Rotate says Django would cycle the key and rewrite the hash (a
	// fallback key matched).
	Rotate bool
}

// Reason is the verdict in a few words.
func (v *Verdict) Reason() string {
	if v.Rule == RuleFallbackKey {
		return fmt.Sprintf("verified with SECRET_KEY_FALLBACKS[%d]", v.FallbackIndex)
	}
	if v.Authenticated {
		return "verified with " + string(v.Rule)
	}
	return string(v.Rule)
}

// Verify checks the login in a session dict as Django's get_user() does,
// without changing anything: it loads the user and compares the stored hash
// in constant time against the current hash, then each fallback hash, then
// (with Settings.LegacySHA1) the SHA-1 hash. Only a store failure is an
// error.
func Verify(ctx context.Context, d *py.Dict, cfg *Config) (Verdict, error) {
	var v Verdict
	v.Login, v.HasLogin = ReadLogin(d)
	if !v.HasLogin {
		v.Rule = RuleAnonymous
		return v, nil
	}
	if !v.Login.HasBackend {
		// Django's get_user() reads both keys and gives AnonymousUser,
		// leaving the session alone, when either is missing.
		v.Rule = RuleNoBackend
		return v, nil
	}
	allowed := false
	for _, b := range cfg.backends() {
		if b == v.Login.Backend {
			allowed = true
		}
	}
	if !allowed {
		v.Rule = RuleUnknownBackend
		return v, nil
	}
	if cfg.Users == nil {
		return v, fmt.Errorf("%w: auth.Config has no Users loader", django.ErrImproperlyConfigured)
	}
	u, err := cfg.Users.LoadUser(ctx, v.Login.UserID)
	if errors.Is(err, ErrNoUser) || (err == nil && u == nil) {
		v.Rule = RuleNoUser
		return v, nil
	}
	if err != nil {
		return v, err
	}
	if !u.IsActive && !cfg.AllowInactive {
		// ModelBackend.get_user returns None: anonymous, session kept.
		v.Rule = RuleInactive
		return v, nil
	}
	stored := v.Login.Hash
	if stored == "" {
		v.Rule, v.Flush = RuleEmptyHash, true
		return v, nil
	}
	s := cfg.Settings
	if cfg.matches(stored, u.Password, s.SecretKey, "sha256") ||
		(s.WriteLegacyFormat && cfg.matches(stored, u.Password, s.SecretKey, "sha1")) {
		v.Authenticated, v.User, v.Rule = true, u, RuleCurrentKey
		return v, nil
	}
	for i, k := range s.SecretKeyFallbacks {
		if cfg.matches(stored, u.Password, k, "sha256") {
			v.Authenticated, v.User, v.Rule, v.FallbackIndex, v.Rotate = true, u, RuleFallbackKey, i, true
			return v, nil
		}
	}
	if s.LegacySHA1 && cfg.matches(stored, u.Password, s.SecretKey, "sha1") {
		v.Authenticated, v.User, v.Rule = true, u, RuleLegacySHA1
		return v, nil
	}
	v.Rule, v.Flush = RuleHashMismatch, true
	return v, nil
}

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

// GetUser is django.contrib.auth.get_user(request) on a session: Verify,
// then Django's side effects — a failed hash check flushes the session; a
// hash that matched a fallback key cycles the key and stores the current
// hash. The caller saves the session afterwards (the middleware does).
func GetUser(ctx context.Context, sess *django.Session, cfg *Config) (Verdict, error) {
	d := sess.Data()
	if err := sess.Err(); err != nil {
		return Verdict{}, err
	}
	v, err := Verify(ctx, d, cfg)
	if err != nil {
		return v, err
	}
	switch {
	case v.Flush:
		if err := sess.Flush(); err != nil {
			return v, err
		}
	case v.Rotate:
		if err := sess.CycleKey(); err != nil {
			return v, err
		}
		sess.Set(django.AuthHashKey, py.Str(cfg.CurrentHash(v.User)))
	}
	return v, nil
}

// sameUser compares user ids as Django compares them after to_python:
// decimal ids numerically, others as text.
func sameUser(a, b string) bool {
	x, e1 := strconv.ParseInt(strings.TrimSpace(a), 10, 64)
	y, e2 := strconv.ParseInt(strings.TrimSpace(b), 10, 64)
	if e1 == nil && e2 == nil {
		return x == y
	}
	return a == b
}

// Login is django.contrib.auth.login(request, user, backend) on a session
// (spec §4.3): a session already holding _auth_user_id — with or without
// _auth_user_backend, as Django only compares the id — is flushed when the
// id is another user's or the stored hash is not u's current one, and
// otherwise keeps its key; one without (anonymous) keeps its data under a
// new key (cycle_key, against session fixation). Then the user id, backend
// and current hash are stored. backend "" means the only configured
// backend. The session is saved.
//
// Login also does the session half of Django's rotate_token(): it removes
// the CSRF token Django keeps in the session under CSRF_USE_SESSIONS
// ("_csrftoken"), so the pre-login token stops working and Django's
// CsrfViewMiddleware issues a fresh one on the next page that asks for a
// token. A token kept in the csrftoken cookie (Django's default) is not
// rotated: this package does not see the response, and neither does
// middleware.Login touch that cookie. A Go service logging users in for a
// Django site with cookie-based CSRF should expire the csrftoken cookie
// itself (with CSRF_COOKIE_PATH and CSRF_COOKIE_DOMAIN) if it wants
// Django's rotation.
func Login(ctx context.Context, sess *django.Session, u *User, backend string, cfg *Config) error {
	if backend == "" {
		bs := cfg.backends()
		if len(bs) != 1 {
			return fmt.Errorf("%w: several authentication backends are configured; name the one that authenticated the user", django.ErrImproperlyConfigured)
		}
		backend = bs[0]
	}
	h := cfg.CurrentHash(u)
	d := sess.Data()
	if err := sess.Err(); err != nil {
		return err
	}
	l, ok := ReadLogin(d)
	// rotate_token: drop the old CSRF token before cycle_key writes the
	// data under the new key, so it is never stored there.
	sess.Delete(django.CSRFSessionKey)
	if ok || d.Has(py.Str(django.AuthUserIDKey)) {
		// An id that is not a str or an int (ok false) cannot be u's.
		if !ok || !sameUser(l.UserID, u.ID) || (h != "" && !equal(l.Hash, h)) {
			if err := sess.Flush(); err != nil {
				return err
			}
		}
	} else if err := sess.CycleKey(); err != nil {
		return err
	}
	sess.Set(django.AuthUserIDKey, py.Str(u.ID))
	sess.Set(django.AuthBackendKey, py.Str(backend))
	sess.Set(django.AuthHashKey, py.Str(h))
	return sess.Save(false)
}

// Logout is django.contrib.auth.logout(request): flush the session (its
// record is deleted and the key dropped). Django 3.0+ keeps nothing — the
// CSRF_USE_SESSIONS token goes with the rest, and Django's logout does not
// rotate a cookie token either.
func Logout(ctx context.Context, sess *django.Session) error {
	return sess.Flush()
}

// UpdateSessionAuthHash is update_session_auth_hash(request, user) after a
// password change: cycle the key and, when the session belongs to u, store
// its new hash, so this session stays logged in while others end. The
// session is saved.
func UpdateSessionAuthHash(ctx context.Context, sess *django.Session, u *User, cfg *Config) error {
	if err := sess.CycleKey(); err != nil {
		return err
	}
	// Django compares request.user, which is anonymous for a session
	// without a backend.
	if l, ok := ReadLogin(sess.Data()); ok && l.HasBackend && sameUser(l.UserID, u.ID) {
		sess.Set(django.AuthHashKey, py.Str(cfg.CurrentHash(u)))
	}
	return sess.Save(false)
}
