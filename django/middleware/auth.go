package middleware

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"

	"github.com/djsession/djsession/django/auth"
)

// lazyUser resolves the request's user once, on first use.
type lazyUser struct {
	once    sync.Once
	a       *Auth
	r       *http.Request
	verdict auth.Verdict
	err     error
}

// Auth is Django's AuthenticationMiddleware: it makes the request's user
// available, verified as get_user() verifies it, lazily (no user is loaded
// for a handler that never asks) and once per request. It must be inside
// Sessions.
//
// Any failure — no login, an unknown backend, a deleted or inactive user,
// a changed password, a forged hash, a store error — gives an anonymous
// user, never an error page; the reason is logged at debug level (store
// failures at error level), never with a secret.
type Auth struct {
	Config *auth.Config
	Logger *slog.Logger
}

func (a *Auth) logger() *slog.Logger {
	if a.Logger != nil {
		return a.Logger
	}
	return slog.Default()
}

// Handler wraps next. It must be inside Sessions.Handler; without it every
// request is anonymous and Login and Logout return ErrNoSession.
func (a *Auth) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if st := state(r); st != nil {
			st.user = &lazyUser{a: a, r: r}
		}
		next.ServeHTTP(w, r)
	})
}

func userOf(r *http.Request) *lazyUser {
	if st := state(r); st != nil {
		return st.user
	}
	return nil
}

// ErrNoSession is returned by Login and Logout for a request that did not
// pass through Sessions and Auth.
var ErrNoSession = errors.New("djsession: the request has no session (wrap the handler in middleware.Sessions and middleware.Auth)")

// User returns the request's verified user (Django's request.user), or nil
// for an anonymous one. The first call loads it; later calls are free.
func User(r *http.Request) *auth.User {
	v := Verdict(r)
	if v == nil || !v.Authenticated {
		return nil
	}
	return v.User
}

// Verdict returns the full answer behind User: the stored login, whether
// it verified, and by which rule (nil without the middleware).
func Verdict(r *http.Request) *auth.Verdict {
	lu := userOf(r)
	if lu == nil {
		return nil
	}
	lu.once.Do(func() {
		sess := Session(lu.r)
		if sess == nil {
			lu.err = ErrNoSession
			return
		}
		lu.verdict, lu.err = auth.GetUser(lu.r.Context(), sess, lu.a.Config)
		switch {
		case lu.err != nil:
			lu.a.logger().Error("djsession: resolving the user failed; treating the request as anonymous", "err", lu.err)
			lu.verdict = auth.Verdict{Rule: lu.verdict.Rule}
		case !lu.verdict.Authenticated && lu.verdict.HasLogin:
			lu.a.logger().Debug("djsession: anonymous request", "reason", lu.verdict.Reason())
		}
	})
	return &lu.verdict
}

// Login logs u in on this request's session, as django.contrib.auth.login
// does; the response then carries the new session cookie. As auth.Login,
// it drops the CSRF token Django keeps in the session under
// CSRF_USE_SESSIONS, so Django issues a new one; it does not touch a
// csrftoken cookie (Django's default CSRF storage), which therefore keeps
// its pre-login value — expire it in the handler if that matters.
func Login(r *http.Request, u *auth.User, backend string) error {
	lu := userOf(r)
	sess := Session(r)
	if lu == nil || sess == nil {
		return ErrNoSession
	}
	if err := auth.Login(r.Context(), sess, u, backend, lu.a.Config); err != nil {
		return err
	}
	lu.once.Do(func() {})
	lu.verdict = auth.Verdict{Authenticated: true, User: u, Rule: auth.RuleCurrentKey, HasLogin: true}
	return nil
}

// Logout ends the request's session, as django.contrib.auth.logout does;
// the response then deletes the cookie.
func Logout(r *http.Request) error {
	lu := userOf(r)
	sess := Session(r)
	if sess == nil {
		return ErrNoSession
	}
	if err := auth.Logout(r.Context(), sess); err != nil {
		return err
	}
	if lu != nil {
		lu.once.Do(func() {})
		lu.verdict = auth.Verdict{Rule: auth.RuleAnonymous}
	}
	return nil
}
