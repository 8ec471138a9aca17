package auth_test

import (
	"context"
	"fmt"
	"log"

	"github.com/djsession/djsession/django"
	"github.com/djsession/djsession/django/auth"
)

// exampleSecret is a made-up SECRET_KEY; never use it in production.
const exampleSecret = "example-secret-key-not-for-production"

// alicePassword is alice's auth_user.password, as Django 3.2 encoded it:
// make_password("alice-password", salt="examplesalt1234", hasher="pbkdf2_sha256").
const alicePassword = "pbkdf2_sha256$260000$examplesalt1234$oY4nNp0DF9Ub50bIDGH+BCrYUo04Fk7AQJwiDMAEubc="

func ExampleVerify() {
	// session_data Django 3.2 saved after login(request, alice) (user id 1,
	// ModelBackend), SECRET_KEY = "example-secret-key-not-for-production",
	// time 1700000000. Django's get_user() returns alice for it.
	const sessionData = ".eJxVjEEOwiAQRe_C2hCBgYJL9z0DGYZBqoYmpV0Z765NutDtf-_9l4i4rTVunZc4ZXERSpx-t4T04LaDfMd2myXNbV2mJHdFHrTLcc78vB7u30HFXr91UIP3DMFa4wmCZsUGjVMGNCXPVuviChWVIJAZzuwAMIOyJRdtKVvx_gC_UTeB:1r31eq:bdrFC6ubf08mT5ud5LDtOmMfOLJTniK9DvIqo5xU7_4"
	settings := django.DefaultSettings(exampleSecret)
	codec, err := django.NewCodec(settings)
	if err != nil {
		log.Fatal(err)
	}
	data, err := codec.Decode(sessionData)
	if err != nil {
		log.Fatal(err)
	}
	// A service reads auth_user with auth.NewSQLUsers; here one user in memory.
	alice := &auth.User{ID: "1", Username: "alice", Password: alicePassword, IsActive: true}
	users := auth.UserLoaderFunc(func(ctx context.Context, id string) (*auth.User, error) {
		if id == alice.ID {
			return alice, nil
		}
		return nil, auth.ErrNoUser
	})
	v, err := auth.Verify(context.Background(), data, &auth.Config{Settings: settings, Users: users})
	if err != nil {
		log.Fatal(err) // the user store failed; a rejected login is not an error
	}
	if v.Authenticated {
		fmt.Println("logged in as", v.User.ID, v.User.Username)
	} else {
		fmt.Println("anonymous:", v.Reason())
	}
	// Output: logged in as 1 alice
}

func ExampleSessionAuthHash() {
	// The hash login() stores in _auth_user_hash. Django 3.2 gives the same
	// for alice with SECRET_KEY = "example-secret-key-not-for-production":
	// user.get_session_auth_hash(). Changing the password changes it, which
	// ends the user's other sessions.
	fmt.Println(auth.SessionAuthHash(alicePassword, exampleSecret, "sha256"))
	// Output: 91788e495538c492e1e3a361342cb8e522f6fcf1b49c370e644ad415fdf25cd5
}
