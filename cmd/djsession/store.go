package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/djsession/djsession/backends"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// The session store commands: get, ls, set, create, rm and clearsessions on
// the store the global options name (DESIGN.md, "The command-line
// contract"; engine semantics in spec §3.9). They work through
// backends.Open, so every engine registered there works here.

var sessionStoreCommands = []command{
	{
		name: "get", synopsis: "KEY", minArgs: 1, maxArgs: 1,
		summary: "print the session dict stored under KEY",
		help: `Loads the session as Django's SessionStore does: a missing or expired
session is 'no such session' (exit 1); a stored one that does not verify
(another SECRET_KEY, tampered) is 'session data corrupted' (exit 1) with the
db, file and cached_db engines, 'no such session' with the others. Every
format Django 3.1+ could have stored is read. With
--engine signed_cookies, KEY is the cookie value itself.
Prints the session dict as JSON, like 'decode'.
Loading is Django's load(), side effects included: with --engine file an
expired session's file is deleted, and with cached_db a session found only
in the database is copied into the cache. Nothing else is written.`,
		run: runGet,
	},
	{
		name: "ls", synopsis: "", minArgs: 0, maxArgs: 0,
		summary: "list the stored sessions: key, expiry, user id",
		help: `Prints a JSON array of {"session_key", "expire_date", "user_id"}, in the
store's order (key order for db), when --json is given or stdout is not a
terminal; an aligned table on a terminal.
  expire_date  ISO 8601 in UTC ("2023-11-28T22:13:20+00:00"), or null when
               the store does not know it; expired sessions are listed until
               clearsessions removes them (the table marks them).
  user_id      the stored _auth_user_id as a string, or null (anonymous).
A session that does not decode (another SECRET_KEY, tampered) is listed with
user_id null and one more field, "corrupt": true.
Signed-cookie sessions cannot be listed (exit 2): they live in browsers.`,
		run: runLs,
	},
	{
		name: "set", synopsis: "KEY [JSON|-]", minArgs: 1, maxArgs: 2,
		summary: "replace the data of the session stored under KEY",
		help: `JSON (a JSON object, from stdin when - or absent) becomes the whole
session dict. The expiry is recomputed as Django's save() does: from the new
dict's _session_expiry, else SESSION_COOKIE_AGE (--cookie-age) from now.
Exit 1 when there is no such session (missing or expired). Prints
{"session_key", "expire_date", "user_id"} of the saved session; with
signed_cookies, KEY is the old cookie and session_key the new one.
--legacy-format writes session_data in format L (for Django <= 3.0).`,
		flags: []string{"legacy-format"},
		run:   runSet,
	},
	{
		name: "create", synopsis: "[JSON|-]", minArgs: 0, maxArgs: 1,
		summary: "store a new session and print its key",
		help: `JSON (a JSON object, from stdin when - or absent) is the session dict.
A fresh key is drawn as Django's create() does (retrying on a collision);
with signed_cookies the key is the cookie value. Prints the key.
--legacy-format writes session_data in format L (for Django <= 3.0).`,
		flags: []string{"legacy-format"},
		run:   runCreate,
	},
	{
		name: "rm", synopsis: "KEY", minArgs: 1, maxArgs: 1,
		summary: "delete the session stored under KEY",
		help: `Exit 1 when there is no such session. Prints {"session_key": KEY,
"deleted": true}. Signed-cookie sessions cannot be removed (exit 2).`,
		run: runRm,
	},
	{
		name: "clearsessions", synopsis: "", minArgs: 0, maxArgs: 0,
		summary: "delete expired sessions (manage.py clearsessions)",
		help: `Django's clear_expired() for the engine: db and cached_db delete the rows
whose expire_date has passed (--now moves the clock), file deletes expired
session files. The cache and signed_cookies engines expire sessions by
themselves: nothing to clear, exit 0. Prints {"engine", "cleared",
"message"}. A progress line goes to stderr when it is a terminal and the
work takes more than two seconds.`,
		run: runClearSessions,
	},
}

// commandContext returns the context store commands run under: cancelled
// by an interrupt, so a long clearsessions or ls stops cleanly.
func commandContext() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt)
}

// openStore opens the store of the global options through backends.Open.
// Configuration problems exit 2.
func (inv *invocation) openStore(ctx context.Context, engine string, s *django.Settings) (django.Store, io.Closer, error) {
	o := inv.opts
	if (engine == "db" || engine == "cached_db") && o.Database() == "" {
		return nil, nil, configf("no database for the %s engine: pass --database or set DATABASE_URL", engine)
	}
	if isCacheEngine(engine) && o.Cache() == "" {
		return nil, nil, configf("no cache for the %s engine: pass --cache or set CACHE_URL", engine)
	}
	cfg := backends.Config{Engine: engine, Settings: s, DatabaseURL: o.Database(), CacheURL: o.Cache()}
	if isCacheEngine(engine) {
		format, err := o.CacheFormat()
		if err != nil {
			return nil, nil, err
		}
		version, err := o.CacheVersion()
		if err != nil {
			return nil, nil, err
		}
		cfg.Cache = backends.CacheOptions{Format: format, KeyPrefix: o.KeyPrefix(), Version: version}
		// The django-redis options go through only when given: the other
		// formats refuse them, and the store knows their defaults.
		if o.src["cache-serializer"] != "" {
			if cfg.Cache.Serializer, err = o.CacheSerializer(); err != nil {
				return nil, nil, err
			}
		}
		if o.src["cache-compressor"] != "" {
			if cfg.Cache.Compressor, err = o.CacheCompressor(); err != nil {
				return nil, nil, err
			}
		}
	}
	st, closer, err := backends.Open(ctx, cfg)
	if err != nil {
		if errors.Is(err, backends.ErrUnknownEngine) {
			return nil, nil, configf("the %s engine is not available in this build", engine)
		}
		return nil, nil, configf("cannot open the %s session store: %s", engine, trimLibPrefixes(err))
	}
	if closer == nil {
		closer = nopCloser{}
	}
	return st, closer, nil
}

// withStore runs fn with the engine, the settings and the open store the
// global options name.
func (inv *invocation) withStore(fn func(ctx context.Context, engine string, s *django.Settings, st django.Store) error) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	s, err := inv.sessionSettings()
	if err != nil {
		return err
	}
	return inv.inStore(engine, s, func(ctx context.Context, st django.Store) error {
		return fn(ctx, engine, s, st)
	})
}

// inStore runs fn with the open store of engine, under the command's
// context, and closes the store after.
func (inv *invocation) inStore(engine string, s *django.Settings, fn func(ctx context.Context, st django.Store) error) error {
	ctx, cancel := commandContext()
	defer cancel()
	st, closer, err := inv.openStore(ctx, engine, s)
	if err != nil {
		return err
	}
	defer closer.Close()
	return fn(ctx, st)
}

type nopCloser struct{}

func (nopCloser) Close() error { return nil }

// storeError reports a failure of the store itself (a server down, a
// permission denied). It exits 2, not 1: it says nothing about the session,
// and a script must not take it for "no such session".
func storeError(err error) error {
	if errors.Is(err, context.Canceled) {
		return configf("interrupted")
	}
	return configf("session store error: %s", trimLibPrefixes(err))
}

// errNoSession is the answer for a missing, expired or undecodable session.
func errNoSession() error {
	return rejectf("no such session (missing, expired, or not readable with this SECRET_KEY)")
}

// loadSession loads key for get and whoami: the data, or a rejection that
// says why when the store can tell (django.StateLoader: a record is there
// but fails verification).
func loadSession(ctx context.Context, st django.Store, key string) (*py.Dict, error) {
	if sl, ok := st.(django.StateLoader); ok {
		d, state, err := sl.LoadState(ctx, key)
		switch {
		case err != nil:
			return nil, storeError(err)
		case state == django.LoadCorrupt:
			return nil, rejectf("session data corrupted: the stored session does not verify with this SECRET_KEY or its fallbacks (Django loads it as an empty session)")
		case state != django.LoadFound || d == nil:
			return nil, errNoSession()
		}
		return d, nil
	}
	d, found, err := st.Load(ctx, key)
	if err != nil {
		return nil, storeError(err)
	}
	if !found || d == nil {
		return nil, errNoSession()
	}
	return d, nil
}

// sessionRecord is the JSON object ls prints per session (and set for the
// saved one): session_key, expire_date (ISO 8601 UTC or null), user_id
// (the stored _auth_user_id as a string, or null), and "corrupt": true for
// data that does not decode.
func sessionRecord(key string, expire time.Time, data *py.Dict) py.Value {
	d := py.NewDict(4)
	d.SetStr("session_key", py.Str(key))
	if expire.IsZero() {
		d.SetStr("expire_date", py.None)
	} else {
		d.SetStr("expire_date", py.Str(isoUTC(expire)))
	}
	if uid, ok := userID(data); ok {
		d.SetStr("user_id", py.Str(uid))
	} else {
		d.SetStr("user_id", py.None)
	}
	if data == nil {
		d.SetStr("corrupt", py.Bool(true))
	}
	return py.DictOf(d)
}

// isoUTC is Python's datetime.isoformat() of t in UTC:
// "2023-11-28T22:13:20+00:00", with ".ffffff" when there are microseconds.
func isoUTC(t time.Time) string {
	v := py.FromTime(t.UTC().Truncate(time.Microsecond), true, py.UTC)
	if dt, ok := v.DateTime(); ok {
		return dt.IsoFormat()
	}
	return t.UTC().Format("2006-01-02T15:04:05.999999-07:00")
}

// userID returns the session's _auth_user_id as the string Django stores
// (an int, which some code stores, in decimal); ok is false when absent or
// of another type.
func userID(data *py.Dict) (string, bool) {
	if data == nil {
		return "", false
	}
	v, ok := data.GetStr(django.AuthUserIDKey)
	if !ok {
		return "", false
	}
	if s, ok := v.Str(); ok {
		return s, true
	}
	if v.TypeName() == "int" {
		if b, ok := v.BigInt(); ok {
			return b.String(), true
		}
	}
	return "", false
}

// isTerminal reports whether w is a terminal (a character device other
// than the null device). A writer may also say so itself (tests do).
func isTerminal(w io.Writer) bool {
	if t, ok := w.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&os.ModeCharDevice == 0 {
		return false
	}
	if dn, err := os.Stat(os.DevNull); err == nil && os.SameFile(fi, dn) {
		return false
	}
	return true
}

func runGet(inv *invocation) error {
	return inv.withStore(func(ctx context.Context, engine string, s *django.Settings, st django.Store) error {
		return inv.get(ctx, engine, s, st)
	})
}

func (inv *invocation) get(ctx context.Context, engine string, s *django.Settings, st django.Store) error {
	d, err := loadSession(ctx, st, inv.args[0])
	if err != nil {
		var ee *exitError
		if engine == "signed_cookies" && errors.As(err, &ee) && ee.code == exitRejected {
			// Say why, as decode does: the cookie is all there is.
			if _, derr := inv.cookieReason(s, inv.args[0]); derr != nil {
				return derr
			}
		}
		return err
	}
	return inv.printValue(py.DictOf(d))
}

// cookieReason decodes a signed-cookie session to tell why it was refused.
func (inv *invocation) cookieReason(s *django.Settings, cookie string) (*py.Dict, error) {
	c, err := newCookieStore(s)
	if err != nil {
		return nil, err
	}
	d, err := c.Decode(cookie)
	if err != nil {
		var ee *exitError
		if errors.As(sessionError(err), &ee) {
			return nil, rejectf("no such session: %s", ee.msg)
		}
	}
	return d, nil
}

func runLs(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	if engine == "signed_cookies" {
		return configf("signed-cookie sessions live in browsers; there is nothing on the server to list")
	}
	return inv.withStore(func(ctx context.Context, engine string, s *django.Settings, st django.Store) error {
		if inv.opts.JSON || !isTerminal(inv.stdout) {
			return inv.lsJSON(ctx, st, engine)
		}
		return inv.lsTable(ctx, st, engine, s.Now())
	})
}

func listError(engine string, err error) error {
	if errors.Is(err, django.ErrNotSupported) {
		return configf("the %s engine cannot list sessions: %s", engine, trimLibPrefixes(err))
	}
	return storeError(err)
}

// lsJSON streams the array: sessions are printed as the store yields
// them, never all held at once.
func (inv *invocation) lsJSON(ctx context.Context, st django.Store, engine string) error {
	w := bufio.NewWriter(inv.stdout)
	n := 0
	err := st.List(ctx, func(info django.Info) error {
		b, err := py.NormalJSON(sessionRecord(info.SessionKey, info.ExpireDate, info.Data))
		if err != nil {
			return err
		}
		sep := byte(',')
		if n == 0 {
			sep = '['
		}
		n++
		if err := w.WriteByte(sep); err != nil {
			return err
		}
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return listError(engine, err)
	}
	if n == 0 {
		w.WriteString("[]\n")
	} else {
		w.WriteString("]\n")
	}
	return w.Flush()
}

// lsTable prints an aligned table for a person at a terminal.
func (inv *invocation) lsTable(ctx context.Context, st django.Store, engine string, now time.Time) error {
	type row struct{ key, expire, user string }
	var rows []row
	err := st.List(ctx, func(info django.Info) error {
		r := row{key: info.SessionKey, expire: "-", user: "-"}
		if !info.ExpireDate.IsZero() {
			r.expire = isoUTC(info.ExpireDate)
			if !info.ExpireDate.After(now) {
				r.expire += " (expired)"
			}
		}
		if uid, ok := userID(info.Data); ok {
			r.user = uid
		} else if info.Data == nil {
			r.user = "(corrupt)"
		}
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		return listError(engine, err)
	}
	tw := tabwriter.NewWriter(inv.stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "SESSION_KEY\tEXPIRE_DATE\tUSER_ID")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", sanitize(r.key), r.expire, sanitize(r.user))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err = fmt.Fprintf(inv.stdout, "%d session(s)\n", len(rows))
	return err
}

// sanitize keeps control characters of stored text off a terminal.
func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return '?'
		}
		return r
	}, s)
}

// checkLegacyFormat rejects --legacy-format where a store writes no
// session_data.
func (inv *invocation) checkLegacyFormat(engine string) error {
	if inv.boolFlag("legacy-format") && engine != "db" && engine != "cached_db" && engine != "file" {
		return usagef("--legacy-format applies to stores of session_data (db, cached_db, file), not %s", engine)
	}
	return nil
}

// fillSession sets every entry of d in the session (JSON keys are str).
// sessionInput reads argument i (or stdin) as a session dict in JSON.
func (inv *invocation) sessionInput(i int) (*py.Dict, error) {
	text, err := inv.dataInput(i)
	if err != nil {
		return nil, err
	}
	return sessionJSON(text)
}

func fillSession(sess *django.Session, d *py.Dict) {
	for _, e := range d.Entries() {
		k, _ := e.Key.Str()
		sess.Set(k, e.Value)
	}
}

func runSet(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	if err := inv.checkLegacyFormat(engine); err != nil {
		return err
	}
	s, err := inv.sessionSettings()
	if err != nil {
		return err
	}
	d, err := inv.sessionInput(1)
	if err != nil {
		return err
	}
	return inv.inStore(engine, s, func(ctx context.Context, st django.Store) error {
		return inv.set(ctx, engine, s, st, d)
	})
}

// set replaces the data of the session stored under the key argument.
func (inv *invocation) set(ctx context.Context, engine string, s *django.Settings, st django.Store, d *py.Dict) error {
	sess := django.NewSession(ctx, st, s, inv.args[0])
	if err := sess.Load(); err != nil {
		return storeError(err)
	}
	if sess.SessionKey() == "" {
		if engine == "signed_cookies" {
			if _, derr := inv.cookieReason(s, inv.args[0]); derr != nil {
				return derr
			}
		}
		return errNoSession()
	}
	sess.Clear()
	fillSession(sess, d)
	if err := sess.Save(false); err != nil {
		if errors.Is(err, django.ErrUpdateMissing) {
			return rejectf("no such session (it was deleted meanwhile)")
		}
		return storeError(err)
	}
	b, err := py.NormalJSON(sessionRecord(sess.SessionKey(), sess.GetExpiryDate(), sess.Data()))
	if err != nil {
		return rejectf("cannot print the session: %v", err)
	}
	return inv.printJSON(b)
}

func runCreate(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	if err := inv.checkLegacyFormat(engine); err != nil {
		return err
	}
	s, err := inv.sessionSettings()
	if err != nil {
		return err
	}
	d, err := inv.sessionInput(0)
	if err != nil {
		return err
	}
	return inv.inStore(engine, s, func(ctx context.Context, st django.Store) error {
		sess := django.NewSession(ctx, st, s, "")
		fillSession(sess, d)
		if err := sess.Create(); err != nil {
			return storeError(err)
		}
		return inv.printText(sess.SessionKey())
	})
}

func runRm(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	if engine == "signed_cookies" {
		return configf("signed-cookie sessions live in browsers; there is nothing on the server to remove")
	}
	return inv.withStore(func(ctx context.Context, _ string, _ *django.Settings, st django.Store) error {
		key := inv.args[0]
		ok, err := st.Exists(ctx, key)
		if err != nil {
			return storeError(err)
		}
		if !ok {
			return rejectf("no such session")
		}
		if err := st.Delete(ctx, key); err != nil {
			return storeError(err)
		}
		d := py.NewDict(2)
		d.SetStr("session_key", py.Str(key))
		d.SetStr("deleted", py.Bool(true))
		return inv.printValue(py.DictOf(d))
	})
}

// clearResult is what clearsessions prints.
func clearResult(engine string, cleared bool, message string) py.Value {
	d := py.NewDict(3)
	d.SetStr("engine", py.Str(engine))
	d.SetStr("cleared", py.Bool(cleared))
	d.SetStr("message", py.Str(message))
	return py.DictOf(d)
}

func runClearSessions(inv *invocation) error {
	engine, err := inv.opts.Engine()
	if err != nil {
		return err
	}
	switch engine {
	case "cache":
		return inv.printValue(clearResult(engine, false, "the cache expires sessions by itself; there is nothing to clear"))
	case "signed_cookies":
		return inv.printValue(clearResult(engine, false, "signed-cookie sessions live in browsers; there is nothing to clear"))
	}
	return inv.withStore(func(ctx context.Context, engine string, _ *django.Settings, st django.Store) error {
		if err := inv.withProgress("clearing expired sessions", func() error { return st.ClearExpired(ctx) }); err != nil {
			return storeError(err)
		}
		return inv.printValue(clearResult(engine, true, "expired sessions deleted"))
	})
}

// progressDelay is how long work runs before a progress line appears, and
// progressTick how often the line is redrawn (variables for tests).
var (
	progressDelay = 2 * time.Second
	progressTick  = time.Second
)

// withProgress runs fn; when stderr is a terminal and fn takes longer than
// progressDelay, a progress line with the elapsed time is kept up to date
// on stderr, and finished with a newline.
func (inv *invocation) withProgress(label string, fn func() error) error {
	if !isTerminal(inv.stderr) {
		return fn()
	}
	done := make(chan error, 1)
	go func() { done <- fn() }()
	start := time.Now()
	tick := time.NewTicker(progressTick)
	defer tick.Stop()
	shown := false
	for {
		select {
		case err := <-done:
			if shown {
				fmt.Fprintf(inv.stderr, "\rdjsession: %s... done (%ds)\x1b[K\n", label, int(time.Since(start).Seconds()))
			}
			return err
		case <-tick.C:
			if elapsed := time.Since(start); elapsed >= progressDelay {
				shown = true
				fmt.Fprintf(inv.stderr, "\rdjsession: %s... %ds", label, int(elapsed.Seconds()))
			}
		}
	}
}
