package backends_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/djsession/djsession/backends"
	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/pickle/py"
)

func ExampleOpen() {
	dir, err := os.MkdirTemp("", "sessions")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	settings := django.DefaultSettings("example-secret-key-not-for-production")
	settings.SessionFilePath = dir // SESSION_FILE_PATH
	ctx := context.Background()
	store, closer, err := backends.Open(ctx, backends.Config{
		Engine:   "file", // or "django.contrib.sessions.backends.file"
		Settings: settings,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer closer.Close()

	sess := django.NewSession(ctx, store, settings, "")
	sess.Set("cart", py.NewList(py.Int(1), py.Int(2)))
	if err := sess.Save(false); err != nil {
		log.Fatal(err)
	}
	// Django's file backend keeps the session in SESSION_COOKIE_NAME + key.
	_, err = os.Stat(filepath.Join(dir, settings.SessionCookieName+sess.SessionKey()))
	fmt.Println(err == nil)

	again := django.NewSession(ctx, store, settings, sess.SessionKey())
	cart, _ := again.Get("cart")
	fmt.Println(cart)
	// Output:
	// true
	// [1, 2]
}
