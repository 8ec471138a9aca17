package middleware_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/djsession/djsession/backends/signedcookies"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
	"github.com/djsession/djsession/django/middleware"
)

func Example() {
	// The sessionid cookie Django 3.2 set after login(request, alice) (user
	// id 1) with SESSION_ENGINE = "django.contrib.sessions.backends.signed_cookies",
	// SECRET_KEY = "example-secret-key-not-for-production", at time 1700000000.
	const djangoCookie = ".eJxVjEEOwiAQRe_C2hCBgYJL9z0DGYZBqoYmpV0Z765NutDtf-_9l4i4rTVunZc4ZXERSpx-t4T04LaDfMd2myXNbV2mJHdFHrTLcc78vB7u30HFXr91UIP3DMFa4wmCZsUGjVMGNCXPVuviChWVIJAZzuwAMIOyJRdtKVvx_gC_UTeB:1r31eq:D-xHo5Wn1T1JErVPQ53sjxxM1xsBLuWAlRa6LY3yNBY"
	settings := django.DefaultSettings("example-secret-key-not-for-production")
	// A minute later.
	settings.Clock = func() time.Time { return time.Unix(1700000060, 0) }
	// Any store works; a service would call backends.Open.
	store, err := signedcookies.New(settings)
	if err != nil {
		log.Fatal(err)
	}
	// A service reads auth_user with auth.NewSQLUsers; here one user in memory.
	alice := &auth.User{ID: "1", Username: "alice", IsActive: true,
		Password: "pbkdf2_sha256$260000$examplesalt1234$oY4nNp0DF9Ub50bIDGH+BCrYUo04Fk7AQJwiDMAEubc="}
	users := auth.UserLoaderFunc(func(ctx context.Context, id string) (*auth.User, error) {
		if id == alice.ID {
			return alice, nil
		}
		return nil, auth.ErrNoUser
	})

	app := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if u := middleware.User(r); u != nil { // Django's request.user
			fmt.Fprintln(w, "hello, user", u.ID)
			return
		}
		http.Error(w, "login required", http.StatusUnauthorized)
	})
	sessions := &middleware.Sessions{Store: store, Settings: settings}
	authn := &middleware.Auth{Config: &auth.Config{Settings: settings, Users: users}}
	handler := sessions.Handler(authn.Handler(app))

	for _, cookie := range []string{djangoCookie, ""} {
		req := httptest.NewRequest("GET", "/", nil)
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: settings.SessionCookieName, Value: cookie})
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		fmt.Println(rec.Code, strings.TrimSpace(rec.Body.String()))
	}
	// Output:
	// 200 hello, user 1
	// 401 login required
}
