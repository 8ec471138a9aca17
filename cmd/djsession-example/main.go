// Command djsession-example is a small Go service that shares logins with a
// Django site: it reads the same sessionid cookie from the same session
// store, verifies the login against the same auth_user table, and can log
// users in and out itself — Django sees those sessions as its own.
//
//	djsession-example --listen 127.0.0.1:8001 \
//	    --secret-key "$DJANGO_SECRET_KEY" --engine db --database sqlite:///db.sqlite3
//
// Routes (the same JSON as the test project's Django views):
//
//	GET  /whoami/   {"user_id", "username", "authenticated", "session_key", "reason"}
//	POST /login/    {"username", "password"} (JSON or form) → login, or 401
//	POST /logout/   → {"ok": true}
//	GET  /healthz   {"ok": true}, outside the session middleware (a baseline)
//
// Configuration follows the djsession CLI: flags or DJANGO_SECRET_KEY,
// DJANGO_SECRET_KEY_FALLBACKS, SESSION_ENGINE, DATABASE_URL, CACHE_URL.
// The user table is always read from DATABASE_URL.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/djsession/djsession/backends"
	"github.com/djsession/djsession/backends/db"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/auth/hashers"
	"github.com/djsession/djsession/django/middleware"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "djsession-example:", err)
		os.Exit(1)
	}
}

type fallbackFlag []string

func (f *fallbackFlag) String() string     { return strings.Join(*f, ",") }
func (f *fallbackFlag) Set(v string) error { *f = append(*f, v); return nil }

func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

func run(args []string) error {
	fs := flag.NewFlagSet("djsession-example", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:8001", "address to serve on (port 0 picks one; the address is printed)")
	secret := fs.String("secret-key", os.Getenv("DJANGO_SECRET_KEY"), "SECRET_KEY")
	var fallbacks fallbackFlag
	fs.Var(&fallbacks, "fallback-key", "SECRET_KEY_FALLBACKS entry (repeatable)")
	engine := fs.String("engine", env("SESSION_ENGINE", "db"), "SESSION_ENGINE")
	database := fs.String("database", os.Getenv("DATABASE_URL"), "DATABASE_URL (sessions for db/cached_db, and auth_user)")
	cacheURL := fs.String("cache", os.Getenv("CACHE_URL"), "CACHE_URL for cache/cached_db")
	cacheFormat := fs.String("cache-format", "", "django-redis, django, pymemcache or pylibmc")
	keyPrefix := fs.String("key-prefix", "", "cache KEY_PREFIX")
	useTZ := fs.Bool("use-tz", true, "USE_TZ")
	debug := fs.Bool("debug", false, "log why requests are anonymous")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if len(fallbacks) == 0 && os.Getenv("DJANGO_SECRET_KEY_FALLBACKS") != "" {
		fallbacks = strings.Split(os.Getenv("DJANGO_SECRET_KEY_FALLBACKS"), ",")
	}
	if *secret == "" || *database == "" {
		return errors.New("--secret-key and --database are required")
	}
	level := slog.LevelInfo
	if *debug {
		level = slog.LevelDebug
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	settings := django.DefaultSettings(*secret)
	settings.SecretKeyFallbacks = fallbacks
	settings.UseTZ = *useTZ
	ctx := context.Background()
	store, closer, err := backends.Open(ctx, backends.Config{
		Engine: *engine, Settings: settings, DatabaseURL: *database, CacheURL: *cacheURL,
		Cache: backends.CacheOptions{Format: *cacheFormat, KeyPrefix: *keyPrefix},
	})
	if err != nil {
		return err
	}
	defer closer.Close()
	userDB, err := db.Open(*database, settings)
	if err != nil {
		return err
	}
	defer userDB.Close()
	users := auth.NewSQLUsers(userDB.DB(), userDB.Dialect() == db.PostgreSQL)

	srv := newServer(store, settings, users, logger)
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	fmt.Printf("listening on http://%s\n", ln.Addr())
	hs := &http.Server{Handler: srv, ReadHeaderTimeout: 10 * time.Second}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, os.Interrupt, syscall.SIGTERM)
	go func() {
		<-stop
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(sctx)
	}()
	if err := hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newServer wires the routes behind the session and auth middleware.
func newServer(store django.Store, settings *django.Settings, users *auth.SQLUsers, logger *slog.Logger) http.Handler {
	cfg := &auth.Config{Settings: settings, Users: users}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /whoami/", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, who(r))
	})
	mux.HandleFunc("POST /login/", func(w http.ResponseWriter, r *http.Request) {
		username, password := credentials(r)
		u, err := users.FindUser(r.Context(), username)
		if err != nil && !errors.Is(err, auth.ErrNoUser) {
			logger.Error("login: loading the user failed", "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "user store unavailable"})
			return
		}
		if u == nil {
			// Spend the same work as a real check, as Django does.
			hashers.CheckPassword(password, "")
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid credentials"})
			return
		}
		ok, _, _ := hashers.CheckPassword(password, u.Password)
		if !ok || !u.IsActive {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "invalid credentials"})
			return
		}
		if err := middleware.Login(r, u, auth.ModelBackend); err != nil {
			logger.Error("login: saving the session failed", "err", err)
			writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "session store unavailable"})
			return
		}
		writeJSON(w, http.StatusOK, who(r))
	})
	mux.HandleFunc("POST /logout/", func(w http.ResponseWriter, r *http.Request) {
		if err := middleware.Logout(r); err != nil {
			logger.Error("logout failed", "err", err)
		}
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	sessions := &middleware.Sessions{Store: store, Settings: settings, Logger: logger}
	authn := &middleware.Auth{Config: cfg, Logger: logger}
	root := http.NewServeMux()
	// /healthz answers without sessions: the baseline for measuring what
	// the middleware costs per request.
	root.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]bool{"ok": true})
	})
	root.Handle("/", sessions.Handler(authn.Handler(mux)))
	return root
}

func who(r *http.Request) map[string]any {
	out := map[string]any{"user_id": nil, "username": nil, "authenticated": false, "session_key": nil}
	v := middleware.Verdict(r)
	if u := middleware.User(r); u != nil {
		out["user_id"], out["username"], out["authenticated"] = u.ID, u.Username, true
	}
	if v != nil {
		out["reason"] = v.Reason()
	}
	if s := middleware.Session(r); s != nil && s.SessionKey() != "" {
		out["session_key"] = s.SessionKey()
	}
	return out
}

func credentials(r *http.Request) (string, string) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body struct{ Username, Password string }
		json.NewDecoder(http.MaxBytesReader(nil, r.Body, 1<<16)).Decode(&body)
		return body.Username, body.Password
	}
	r.Body = http.MaxBytesReader(nil, r.Body, 1<<16)
	return r.PostFormValue("username"), r.PostFormValue("password")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}
