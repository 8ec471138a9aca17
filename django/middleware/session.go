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
	"strings"
	"time"

	"github.com/djsession/djsession/django"
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
//   - the cookie carries Max-Age and Expires from get_expiry_age(), or
//     neither for a browser-session cookie, with SESSION_COOKIE_DOMAIN,
//     PATH, SECURE, HTTPONLY and SAMESITE (the SameSite value spelt as
//     the setting spells it, as Django writes it; a Domain's leading dot
//     is dropped, as net/http drops it and browsers ignore it);
//   - a session emptied during the request (flush, logout) deletes the
//     cookie, if the request carried one, with Secure forced for a
//     __Secure- or __Host- name and for SameSite=None in any case;
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
		// Django's delete_cookie: no HttpOnly, and Secure forced where
		// browsers would ignore the deletion without it.
		mode, ok := s.SameSiteMode()
		setCookie(h, &http.Cookie{
			Name: s.SessionCookieName, Value: "", Path: s.SessionCookiePath, Domain: s.SessionCookieDomain,
			Expires: time.Unix(0, 0), MaxAge: -1,
			Secure: mode == "none" || strings.HasPrefix(s.SessionCookieName, "__Secure-") ||
				strings.HasPrefix(s.SessionCookieName, "__Host-"),
		}, s.SessionCookieSameSite, ok)
		addVary(h, "Cookie")
		return
	}
	if sess.Accessed() {
		addVary(h, "Cookie")
	}
	if !(sess.Modified() || s.SessionSaveEveryRequest) || empty || status >= 500 {
		return
	}
	maxAge, expires := 0, time.Time{}
	if !sess.GetExpireAtBrowserClose() {
		maxAge = sess.GetExpiryAge()
		expires = s.Now().Add(time.Duration(maxAge) * time.Second)
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
	c := &http.Cookie{
		Name: s.SessionCookieName, Value: sess.SessionKey(), Path: s.SessionCookiePath,
		Domain: s.SessionCookieDomain, Secure: s.SessionCookieSecure, HttpOnly: s.SessionCookieHTTPOnly,
	}
	if !expires.IsZero() {
		c.Expires = expires.UTC()
		if maxAge > 0 {
			c.MaxAge = maxAge
		} else {
			c.MaxAge = -1 // Max-Age=0: already expired
		}
	}
	_, ok := s.SameSiteMode()
	setCookie(h, c, s.SessionCookieSameSite, ok)
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

// setCookie adds c as a Set-Cookie header, as http.SetCookie does, with a
// SameSite attribute spelt as the setting spells it: Django writes
// SESSION_COOKIE_SAMESITE unchanged ("SameSite=none" for "none"), where
// net/http would write its own capitalisation. c.SameSite must be unset;
// net/http puts the attribute last too, so for "Lax", "Strict" and "None"
// the header is byte-for-byte what http.SetCookie writes. A value
// Settings.Validate refuses (valid false) is left out, never copied into
// the header.
func setCookie(h http.Header, c *http.Cookie, sameSite string, valid bool) {
	v := c.String()
	if v == "" {
		return // an invalid cookie name: net/http drops it too
	}
	if valid && sameSite != "" {
		v += "; SameSite=" + sameSite
	}
	h.Add("Set-Cookie", v)
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
