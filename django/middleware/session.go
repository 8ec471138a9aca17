// Package middleware brings Django's SessionMiddleware and
// AuthenticationMiddleware to net/http (spec §3.8, §4.4), so a Go service can
// share the sessionid cookie and the logins of a Django site, with any
// router: it uses only net/http.
//
//	sessions := &middleware.Sessions{Store: store, Settings: settings}
//	authn := &middleware.Auth{Config: &auth.Config{Settings: settings, Users: users}}
//	http.ListenAndServe(addr, sessions.Handler(authn.Handler(mux)))
//
// In a handler, middleware.Session(r) is request.session and
// middleware.User(r) is request.user.
package middleware

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/signing"
)

type stateKey struct{}

// requestState is what the middleware keeps per request, in one context
// value (one Request copy for both middlewares).
type requestState struct {
	sess *django.Session
	user *lazyUser
}

func state(r *http.Request) *requestState {
	st, _ := r.Context().Value(stateKey{}).(*requestState)
	return st
}

// Session returns the request's session (Django's request.session), or nil
// when the request did not pass through Sessions. Its data is loaded from
// the store on first use, so a handler that never looks costs no round trip.
func Session(r *http.Request) *django.Session {
	if st := state(r); st != nil {
		return st.sess
	}
	return nil
}

// cookieValue returns the value of the named cookie as Django's
// parse_cookie reads the Cookie header: chunks split on ";", the name
// before the first "=", surrounding quotes removed, and a later duplicate
// winning over an earlier one. It does not allocate.
func cookieValue(h http.Header, name string) (string, bool) {
	val, found := "", false
	for _, line := range h["Cookie"] {
		for len(line) > 0 {
			var part string
			if i := strings.IndexByte(line, ';'); i >= 0 {
				part, line = line[:i], line[i+1:]
			} else {
				part, line = line, ""
			}
			part = strings.TrimSpace(part)
			k, v, ok := strings.Cut(part, "=")
			if !ok || strings.TrimSpace(k) != name {
				continue
			}
			v = strings.TrimSpace(v)
			if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
				v = v[1 : len(v)-1]
			}
			val, found = v, true
		}
	}
	return val, found
}

// Sessions is Django's SessionMiddleware for net/http: it reads the session
// cookie, puts a lazily loaded session in the request context, and when the
// response starts saves the session and sets or deletes the cookie as Django
// does (spec §3.8):
//
//   - save when the session was modified, or on every request with
//     SESSION_SAVE_EVERY_REQUEST, unless it is empty — and never when the
//     status is 500 or above (the Django 4.2+ rule);
//   - the cookie carries Max-Age = get_expiry_age() (zero or negative
//     for a session already expired) and expires = now + Max-Age, or
//     neither for a browser-session cookie, with SESSION_COOKIE_DOMAIN,
//     PATH, SECURE, HTTPONLY and SAMESITE;
//   - a session emptied during the request (flush, logout) deletes the
//     cookie, if the request carried one: value "", expires at the epoch,
//     Max-Age=0, no HttpOnly, with Secure forced for a __Secure- or
//     __Host- name and for SameSite=None in any case;
//   - the Set-Cookie header is byte for byte the one Django writes
//     (Python's http.cookies): attributes ordered by lower-case name,
//     "expires" in lower case, Domain (leading dot kept), Path and
//     SameSite spelt as the settings spell them. A SESSION_COOKIE_NAME
//     that is not an HTTP token, or a DOMAIN or PATH with ';', a control
//     or a non-ASCII character, would make a broken header: the cookie
//     is not sent and the error is logged;
//   - a Set-Cookie the handler wrote for the session cookie's name is
//     replaced when the middleware sets or deletes the cookie (Django's
//     response.cookies holds one cookie per name); otherwise it stays;
//   - Vary: Cookie when the session was accessed, deleted or set (the
//     5.2.14+/6.0.5+ rule);
//   - a session deleted by a concurrent request (Django's UpdateError) is
//     answered 400, as Django's SessionInterrupted.
//
// The session is saved when the handler first writes the header (or
// returns), because the cookie must go out with it; changes made after the
// body started are saved again when the handler returns, but a new key
// cannot reach the browser any more.
//
// A session whose store failed to load (a server down) is treated as empty
// by the handler and is never saved, so it cannot be overwritten.
type Sessions struct {
	Store    django.Store
	Settings *django.Settings
	// Logger receives store failures (at error level), session data that
	// fails verification (at warn level, as Django logs "Session data
	// corrupted" to django.security.SuspiciousSession) and rejected
	// sessions (at debug level); nil means slog.Default(). Secrets, session
	// data and session keys are never logged.
	Logger *slog.Logger
	// Interrupted answers a request whose session was deleted before it
	// completed; nil writes Django's 400 text.
	Interrupted http.Handler
	// ErrorHandler answers when saving the session failed (the store is
	// down); nil answers 500, as Django's unhandled exception would.
	ErrorHandler func(w http.ResponseWriter, r *http.Request, err error)
}

func (m *Sessions) logger() *slog.Logger {
	if m.Logger != nil {
		return m.Logger
	}
	return slog.Default()
}

// Handler wraps next with session handling.
func (m *Sessions) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key, hadCookie := cookieValue(r.Header, m.Settings.SessionCookieName)
		sess := django.NewSession(r.Context(), m.Store, m.Settings, key)
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, &requestState{sess: sess}))
		sw := &sessionWriter{ResponseWriter: w, m: m, r: r, sess: sess, hadCookie: hadCookie}
		next.ServeHTTP(sw, r)
		if !sw.committed {
			sw.commit(http.StatusOK)
			if !sw.discard {
				sw.ResponseWriter.WriteHeader(sw.status)
			}
		} else if sw.saved && sess.Modified() && !sess.IsEmpty() && sess.Err() == nil {
			// Changes after the header went out: save the data again
			// under the key the browser already has.
			if err := sess.Save(false); err != nil {
				m.logger().Error("djsession: saving the session after the response started", "err", err)
			}
		}
	})
}

// sessionWriter runs the response half of the middleware when the handler
// first writes the header.
type sessionWriter struct {
	http.ResponseWriter
	m         *Sessions
	r         *http.Request
	sess      *django.Session
	hadCookie bool
	committed bool
	discard   bool // the response was replaced (400/500): drop the body
	saved     bool
	status    int
}

func (sw *sessionWriter) WriteHeader(code int) {
	if sw.committed {
		if !sw.discard {
			sw.ResponseWriter.WriteHeader(code)
		}
		return
	}
	sw.commit(code)
	if !sw.discard {
		sw.ResponseWriter.WriteHeader(code)
	}
}

func (sw *sessionWriter) Write(b []byte) (int, error) {
	if !sw.committed {
		sw.WriteHeader(http.StatusOK)
	}
	if sw.discard {
		return len(b), nil
	}
	return sw.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer
// (Flush, deadlines).
func (sw *sessionWriter) Unwrap() http.ResponseWriter { return sw.ResponseWriter }

// Flush sends buffered data, committing the session first.
func (sw *sessionWriter) Flush() {
	if !sw.committed {
		sw.WriteHeader(http.StatusOK)
	}
	if f, ok := sw.ResponseWriter.(http.Flusher); ok && !sw.discard {
		f.Flush()
	}
}

// commit is Django's SessionMiddleware.process_response.
func (sw *sessionWriter) commit(status int) {
	sw.committed = true
	sw.status = status
	m, sess := sw.m, sw.sess
	s := m.Settings
	h := sw.ResponseWriter.Header()
	if sess.Corrupt() {
		m.logger().Warn("djsession: session data corrupted", "logger", "django.security.SuspiciousSession")
	}
	if err := sess.Err(); err != nil {
		m.logger().Error("djsession: loading the session failed; not saving it", "err", err)
		if sess.Accessed() {
			addVary(h, "Cookie")
		}
		return
	}
	empty := sess.IsEmpty()
	if sw.hadCookie && empty {
		// Django's delete_cookie: an empty value, the epoch as expires,
		// Max-Age=0, no HttpOnly, and Secure forced where browsers would
		// ignore the deletion without it.
		mode, ok := s.SameSiteMode()
		sw.setCookie(h, djangoCookie{
			name: s.SessionCookieName, domain: s.SessionCookieDomain, path: s.SessionCookiePath,
			expires: deletionExpires, maxAge: 0, hasMaxAge: true,
			secure: mode == "none" || strings.HasPrefix(s.SessionCookieName, "__Secure-") ||
				strings.HasPrefix(s.SessionCookieName, "__Host-"),
			sameSite: sameSiteAttr(s.SessionCookieSameSite, ok),
		})
		addVary(h, "Cookie")
		return
	}
	if sess.Accessed() {
		addVary(h, "Cookie")
	}
	if !(sess.Modified() || s.SessionSaveEveryRequest) || empty || status >= 500 {
		return
	}
	// Django computes max_age and expires before saving:
	// get_expiry_age() as it is (zero or negative for a session already
	// expired) and http_date(time.time() + max_age).
	c := djangoCookie{
		name: s.SessionCookieName, domain: s.SessionCookieDomain, path: s.SessionCookiePath,
		secure: s.SessionCookieSecure, httpOnly: s.SessionCookieHTTPOnly,
	}
	_, ok := s.SameSiteMode()
	c.sameSite = sameSiteAttr(s.SessionCookieSameSite, ok)
	if !sess.GetExpireAtBrowserClose() {
		c.maxAge, c.hasMaxAge = sess.GetExpiryAge(), true
		c.expires = httpDate(s.Now().Unix(), c.maxAge)
	}
	if err := sess.Save(false); err != nil {
		sw.discard = true
		if errors.Is(err, django.ErrUpdateMissing) {
			m.logger().Debug("djsession: session deleted before the request completed")
			sw.replace(http.StatusBadRequest, m.Interrupted, err)
			return
		}
		m.logger().Error("djsession: saving the session failed", "err", err)
		sw.replace(http.StatusInternalServerError, nil, err)
		return
	}
	sw.saved = true
	c.value = sess.SessionKey()
	sw.setCookie(h, c)
	addVary(h, "Cookie")
}

// replace answers with status instead of the handler's response.
func (sw *sessionWriter) replace(status int, hnd http.Handler, err error) {
	h := sw.ResponseWriter.Header()
	for k := range h {
		delete(h, k)
	}
	if hnd != nil {
		hnd.ServeHTTP(sw.ResponseWriter, sw.r)
		return
	}
	if status == http.StatusInternalServerError && sw.m.ErrorHandler != nil {
		sw.m.ErrorHandler(sw.ResponseWriter, sw.r, err)
		return
	}
	msg := "Internal Server Error"
	if status == http.StatusBadRequest {
		msg = "The request's session was deleted before the request completed. The user may have logged out in a concurrent request, for example."
	}
	http.Error(sw.ResponseWriter, msg, status)
}

// setCookie adds c as a Set-Cookie header, or logs why it cannot. A
// Set-Cookie the handler wrote for the same cookie name is dropped first:
// Django's response.cookies is keyed by name, so the middleware's
// set_cookie or delete_cookie replaces a view's cookie of that name.
func (sw *sessionWriter) setCookie(h http.Header, c djangoCookie) {
	v, err := c.header()
	if err != nil {
		sw.m.logger().Error("djsession: no session cookie sent", "err", err)
		return
	}
	if old := h.Values("Set-Cookie"); len(old) > 0 {
		h["Set-Cookie"] = slices.DeleteFunc(old, func(o string) bool { return setCookieName(o) == c.name })
	}
	h.Add("Set-Cookie", v)
}

// setCookieName is the cookie name of a Set-Cookie value: the text before
// its first '=', without surrounding blanks (as net/http parses it).
func setCookieName(v string) string {
	name, _, ok := strings.Cut(v, "=")
	if !ok {
		return ""
	}
	return strings.TrimSpace(name)
}

// deletionExpires is the expires attribute of Django's delete_cookie.
const deletionExpires = "Thu, 01 Jan 1970 00:00:00 GMT"

// sameSiteAttr is the SameSite attribute for SESSION_COOKIE_SAMESITE: the
// setting as spelt, or nothing when it is empty or invalid (a value
// Settings.Validate refuses is never copied into a header).
func sameSiteAttr(setting string, valid bool) string {
	if !valid {
		return ""
	}
	return setting
}

// djangoCookie is one call of Django's HttpResponse.set_cookie (or
// delete_cookie) as the session middleware makes it; header writes the
// Set-Cookie value Python's http.cookies Morsel.OutputString() produces
// for it (spec §2.7 "Cookie header details"): the name, "=", the value
// quoted as SimpleCookie quotes it, then each attribute that is set, in
// the order of their lower-case names — Domain, expires, HttpOnly,
// Max-Age, Path, SameSite, Secure — joined by "; ". Domain, Path and
// SameSite are written as given (a Domain's leading dot is kept).
type djangoCookie struct {
	name, value      string
	domain, path     string // "" = None: no attribute
	expires          string // http_date text; "" = no attribute
	maxAge           int    // written when hasMaxAge, zero and negative included
	hasMaxAge        bool
	httpOnly, secure bool
	sameSite         string // "" = no attribute
}

func (c *djangoCookie) header() (string, error) {
	// Python accepts a name of letters, digits and !#$%&'*+-.^_`|~: (a
	// SimpleCookie key), net/http an RFC 7230 token, which is the same set
	// without ':'. Only names both accept are written: Django raises
	// CookieError for the others, but writes a ':' that Go clients
	// (http.ParseSetCookie) refuse.
	if c.name == "" || strings.IndexFunc(c.name, func(r rune) bool { return !isTokenRune(r) }) >= 0 {
		return "", errors.New("SESSION_COOKIE_NAME is not a valid cookie name")
	}
	// Django copies Domain and Path into the header unchecked; a ';', a
	// control or a non-ASCII byte would split or corrupt it (net/http
	// drops the same bytes from a Path and refuses such a Domain).
	if !validAttrValue(c.domain) {
		return "", errors.New("SESSION_COOKIE_DOMAIN contains ';', a control or a non-ASCII character")
	}
	if !validAttrValue(c.path) {
		return "", errors.New("SESSION_COOKIE_PATH contains ';', a control or a non-ASCII character")
	}
	var buf [256]byte
	b := append(buf[:0], c.name...)
	b = append(b, '=')
	b = append(b, signing.QuoteCookieValue(c.value)...)
	if c.domain != "" {
		b = append(append(b, "; Domain="...), c.domain...)
	}
	if c.expires != "" {
		b = append(append(b, "; expires="...), c.expires...)
	}
	if c.httpOnly {
		b = append(b, "; HttpOnly"...)
	}
	if c.hasMaxAge {
		b = strconv.AppendInt(append(b, "; Max-Age="...), int64(c.maxAge), 10)
	}
	if c.path != "" {
		b = append(append(b, "; Path="...), c.path...)
	}
	if c.sameSite != "" {
		b = append(append(b, "; SameSite="...), c.sameSite...)
	}
	if c.secure {
		b = append(b, "; Secure"...)
	}
	return string(b), nil
}

// httpDate is Django's http_date(now + age): the moment in
// "Wdy, DD Mon YYYY HH:MM:SS GMT" form (email.utils.formatdate with
// usegmt), whole seconds.
func httpDate(now int64, age int) string {
	return time.Unix(now+int64(age), 0).UTC().Format(http.TimeFormat)
}

// isTokenRune reports whether r may appear in an RFC 7230 token.
func isTokenRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	}
	return r < 0x80 && strings.IndexRune("!#$%&'*+-.^_`|~", r) >= 0
}

// validAttrValue reports whether v can be written as a cookie attribute
// value: printable ASCII without ';'.
func validAttrValue(v string) bool {
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] >= 0x7f || v[i] == ';' {
			return false
		}
	}
	return true
}

// addVary adds a field to the Vary header as Django's patch_vary_headers:
// appended, not duplicated (case-insensitively), and "*" absorbs everything.
func addVary(h http.Header, field string) {
	var existing []string
	for _, v := range h.Values("Vary") {
		for _, f := range strings.Split(v, ",") {
			if f = strings.TrimSpace(f); f != "" {
				existing = append(existing, f)
			}
		}
	}
	for _, f := range existing {
		if f == "*" || strings.EqualFold(f, field) {
			return
		}
	}
	h.Set("Vary", strings.Join(append(existing, field), ", "))
}
