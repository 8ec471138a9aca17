package django_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/djsession/djsession/backends/signedcookies"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

// exampleSecret is a made-up SECRET_KEY; never use it in production.
const exampleSecret = "example-secret-key-not-for-production"

func ExampleCodec_Decode() {
	// session_data as Django 3.2 wrote it (django_session.session_data, or a
	// session file): SessionStore().encode({"cart": [1, 2], "theme": "dark"})
	// with SECRET_KEY = "example-secret-key-not-for-production" at time
	// 1700000000. Django's decode() of it prints the output below.
	const sessionData = "eyJjYXJ0IjpbMSwyXSwidGhlbWUiOiJkYXJrIn0:1r31eq:yJgtRC4J_3cUT_7luASyZThZBFgZAoSWmif4mws6o6k"
	codec, err := django.NewCodec(django.DefaultSettings(exampleSecret))
	if err != nil {
		log.Fatal(err)
	}
	d, err := codec.Decode(sessionData)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(py.DictOf(d))

	// Data signed with another key (or altered) is refused.
	_, err = codec.Decode(sessionData[:len(sessionData)-1] + "A")
	fmt.Println(errors.Is(err, django.ErrSuspiciousSession))
	// Output:
	// {'cart': [1, 2], 'theme': 'dark'}
	// true
}

func ExampleCodec_Encode() {
	// The expected session_data is what Django 3.2 wrote for
	// SessionStore().encode({"cart": [1, 2], "theme": "dark"}) with
	// SECRET_KEY = "example-secret-key-not-for-production" at time 1700000000.
	settings := django.DefaultSettings(exampleSecret)
	settings.Clock = func() time.Time { return time.Unix(1700000000, 0) }
	codec, err := django.NewCodec(settings)
	if err != nil {
		log.Fatal(err)
	}
	d := py.NewDict(2)
	d.SetStr("cart", py.NewList(py.Int(1), py.Int(2)))
	d.SetStr("theme", py.Str("dark"))
	sessionData, err := codec.Encode(d)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(sessionData)
	// Output: eyJjYXJ0IjpbMSwyXSwidGhlbWUiOiJkYXJrIn0:1r31eq:yJgtRC4J_3cUT_7luASyZThZBFgZAoSWmif4mws6o6k
}

func ExampleSession() {
	// Django 3.2 prints the same with SESSION_COOKIE_AGE = 3600 and its
	// clock (time.time, timezone.now) fixed at 2023-11-14 22:13:20 UTC.
	settings := django.DefaultSettings(exampleSecret)
	settings.SessionCookieAge = 3600 // SESSION_COOKIE_AGE
	settings.Clock = func() time.Time { return time.Date(2023, 11, 14, 22, 13, 20, 0, time.UTC) }
	store, err := signedcookies.New(settings) // any django.Store will do
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	sess := django.NewSession(ctx, store, settings, "") // no session cookie yet
	sess.Set("theme", py.Str("dark"))
	fmt.Println(sess.GetExpiryAge()) // SESSION_COOKIE_AGE
	sess.SetExpirySeconds(600)       // request.session.set_expiry(600)
	fmt.Println(sess.GetExpiryAge(), sess.GetExpiryDate().UTC().Format(time.RFC3339))
	if err := sess.Save(false); err != nil {
		log.Fatal(err)
	}

	// The next request brings the key back in its cookie.
	next := django.NewSession(ctx, store, settings, sess.SessionKey())
	theme, _ := next.GetStr("theme")
	fmt.Println(theme, next.GetExpiryAge())
	// Output:
	// 3600
	// 600 2023-11-14T22:23:20Z
	// dark 600
}

func ExampleNewSessionKey() {
	key, err := django.NewSessionKey()
	if err != nil {
		log.Fatal(err)
	}
	// The key is random; what is fixed is its shape.
	fmt.Println(len(key), django.IsValidKey(key), django.IsFileSafeKey(key))
	// Output: 32 true true
}
