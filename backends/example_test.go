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

// A session kept by Django's cache engine with FileBasedCache: one file
// per session, named by the md5 of its cache key (the name below is the
// one Django 3.2's FileBasedCache._key_to_file gives this key). A
// dbcache://TABLE CACHE_URL works the same way over the DATABASE_URL's
// database.
func ExampleOpen_fileBasedCache() {
	dir, err := os.MkdirTemp("", "django_cache")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	settings := django.DefaultSettings("example-secret-key-not-for-production")
	ctx := context.Background()
	store, closer, err := backends.Open(ctx, backends.Config{
		Engine:   "cache",
		Settings: settings,
		CacheURL: "filecache://" + dir, // LOCATION
	})
	if err != nil {
		log.Fatal(err)
	}
	defer closer.Close()

	data := py.NewDict(1)
	data.SetStr("cart", py.NewList(py.Int(1), py.Int(2)))
	rec := &django.Record{SessionKey: "s3ss10nk3yfr0md0cs00000000000000", Data: data, ExpiryAge: 3600}
	if err := store.Save(ctx, rec, true); err != nil {
		log.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.djcache"))
	for _, f := range files {
		fmt.Println(filepath.Base(f))
	}
	got, found, _ := store.Load(ctx, rec.SessionKey)
	fmt.Println(found, py.DictOf(got))
	// Output:
	// 1cf23807f98ec2b7b984a9c4faff24fe.djcache
	// true {'cart': [1, 2]}
}
