package main

import (
	"context"
	"errors"

	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/pickle/py"
)

// The auth commands: whoami, login and logout (DESIGN.md, "The
// command-line contract"; spec §4). The user table is Django's auth_user in
// --database, whatever the session engine.

var authCommands = []command{
	{
		name: "whoami", synopsis: "KEY", minArgs: 1, maxArgs: 1,
		summary: "who is logged in in the session KEY, verified as Django's get_user()",
		help: `Prints {"session_key", "user_id", "backend", "authenticated", "reason"}.
user_id is the stored _auth_user_id (a string; an int id as its decimal
text; null when there is none), even when the login does not verify.
backend is _auth_user_backend as stored: a string as Django writes it, any
other value as it is (in the JSON normal form), null when there is none.
authenticated is true only where Django's get_user() would return that
user: the backend is ModelBackend (AUTHENTICATION_BACKENDS' default), the
user exists in auth_user (--database) and is active, and the stored hash
matches the user's current password hash under SECRET_KEY or a
--fallback-key (SHA-1 hashes of Django 3.1-3.2 only with --legacy-sha1).
reason says which rule decided. Exit 0 with any verdict; 1 when there is no such session.
What it writes: the verdict changes nothing (unlike get_user(), a refused
session is not flushed and a fallback-key login is not rotated), but the
session is loaded as Django's load() loads it, side effects included: with
--engine file an expired session's file is deleted, and with cached_db a
session found only in the database is copied into the cache.`,
		run: runWhoami,
	},
	{
		name: "login", synopsis: "USER_ID", minArgs: 1, maxArgs: 1,
		summary: "create a session logged in as USER_ID, as django.contrib.auth.login()",
		help: `Loads the user from auth_user (--database; exit 1 when there is no such
user), stores a new session holding _auth_user_id, _auth_user_backend
(ModelBackend) and _auth_user_hash (the user's current session auth hash) in
the configured store, and prints {"session_key": KEY, "user_id": "ID"}.
Django accepts the session as a login of that user.`,
		run: runLogin,
	},
	{
		name: "logout", synopsis: "KEY", minArgs: 1, maxArgs: 1,
		summary: "end the session KEY, as django.contrib.auth.logout()",
		help: `Flushes the session: its record is deleted. Prints {"session_key": KEY,
"logged_out": true}; exit 1 when there is no such session. Signed-cookie
sessions cannot be ended server-side (exit 2).`,
		run: runLogout,
	},
}

// authConfig opens the user table and returns the auth configuration. The
// verdict follows Django 4.0+ unless --legacy-sha1 is given (the session
// store still reads every format, as the reading commands do).
func (inv *invocation) authConfig(s *django.Settings) (*auth.Config, func(), error) {
	dbURL := inv.opts.Database()
	if dbURL == "" {
		return nil, nil, configf("no database for the user table: pass --database or set DATABASE_URL")
	}
	users, err := db.Open(dbURL, s)
	if err != nil {
		return nil, nil, configf("cannot open the user database: %s", trimLibPrefixes(err))
	}
	as := *s
	as.LegacySHA1 = inv.opts.LegacySHA1
	cfg := &auth.Config{Settings: &as, Users: auth.NewSQLUsers(users.DB(), users.Dialect() == db.PostgreSQL)}
	return cfg, func() { users.Close() }, nil
}

func runWhoami(inv *invocation) error {
	return inv.withStore(func(ctx context.Context, _ string, s *django.Settings, st django.Store) error {
		return inv.whoami(ctx, s, st)
	})
}

func (inv *invocation) whoami(ctx context.Context, s *django.Settings, st django.Store) error {
	key := inv.args[0]
	data, err := loadSession(ctx, st, key)
	if err != nil {
		return err
	}
	cfg, done, err := inv.authConfig(s)
	if err != nil {
		return err
	}
	defer done()
	v, err := auth.Verify(ctx, data, cfg)
	if err != nil {
		return storeError(err)
	}
	out := py.NewDict(5)
	out.SetStr("session_key", py.Str(key))
	out.SetStr("user_id", py.None)
	out.SetStr("backend", py.None)
	if v.HasLogin {
		out.SetStr("user_id", py.Str(v.Login.UserID))
		// _auth_user_backend as stored: Django writes a str, but whatever
		// is there is shown (a non-str is never in AUTHENTICATION_BACKENDS,
		// and reason says so), never an empty string in its place.
		if be, ok := data.GetStr(django.AuthBackendKey); ok {
			out.SetStr("backend", be)
		}
	}
	out.SetStr("authenticated", py.Bool(v.Authenticated))
	out.SetStr("reason", py.Str(v.Reason()))
	return inv.printValue(py.DictOf(out))
}

func runLogin(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	s, err := inv.sessionSettings()
	if err != nil {
		return err
	}
	ctx, cancel := commandContext()
	defer cancel()
	cfg, done, err := inv.authConfig(s)
	if err != nil {
		return err
	}
	defer done()
	u, err := cfg.Users.LoadUser(ctx, inv.args[0])
	if errors.Is(err, auth.ErrNoUser) {
		return rejectf("no such user")
	}
	if err != nil {
		return storeError(err)
	}
	st, closer, err := inv.openStore(ctx, engine, s)
	if err != nil {
		return err
	}
	defer closer.Close()
	sess := django.NewSession(ctx, st, s, "")
	if err := auth.Login(ctx, sess, u, auth.ModelBackend, cfg); err != nil {
		return storeError(err)
	}
	out := py.NewDict(2)
	out.SetStr("session_key", py.Str(sess.SessionKey()))
	out.SetStr("user_id", py.Str(u.ID))
	return inv.printValue(py.DictOf(out))
}

func runLogout(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	if engine == "signed_cookies" {
		return configf("signed-cookie sessions live in browsers; a logout there only deletes the cookie")
	}
	return inv.withStore(func(ctx context.Context, _ string, s *django.Settings, st django.Store) error {
		return inv.logout(ctx, s, st)
	})
}

func (inv *invocation) logout(ctx context.Context, s *django.Settings, st django.Store) error {
	key := inv.args[0]
	if _, found, err := st.Load(ctx, key); err != nil {
		return storeError(err)
	} else if !found {
		return errNoSession()
	}
	sess := django.NewSession(ctx, st, s, key)
	if err := auth.Logout(ctx, sess); err != nil {
		return storeError(err)
	}
	out := py.NewDict(2)
	out.SetStr("session_key", py.Str(key))
	out.SetStr("logged_out", py.Bool(true))
	return inv.printValue(py.DictOf(out))
}
