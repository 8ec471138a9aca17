package signing_test

import (
	"encoding/hex"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/djsession/djsession/pickle/py"
	"github.com/djsession/djsession/signing"
)

// A made-up SECRET_KEY for the examples; never use it in production.
var secretKey = []byte("example-secret-key-not-for-production")

// at returns a Clock fixed at a Unix time, so the examples are deterministic.
func at(unix int64) signing.Clock {
	return func() time.Time { return time.Unix(unix, 0) }
}

func ExampleDumps() {
	// The expected token was made by Django 3.2, with time.time patched to
	// return 1700000000:
	//   signing.dumps({"cart": [1, 2, 3], "note": "hello hello hello hello hello"},
	//                 key="example-secret-key-not-for-production", compress=True)
	d := py.NewDict(2)
	d.SetStr("cart", py.NewList(py.Int(1), py.Int(2), py.Int(3)))
	d.SetStr("note", py.Str("hello hello hello hello hello"))
	token, err := signing.Dumps(py.DictOf(d), secretKey, true, &signing.Options{Clock: at(1700000000)})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(token)
	// Output: .eJyrVkpOLCpRsoo21DHSMY7VUcrLL0lVslLKSM3JyVfAQSrVAgDllhJP:1r31eq:q4ZENUJR-maQNRMG-cAdIzy5e6uVEioXsnW89BatPzg
}

func ExampleLoads() {
	// A token Django 3.2 made at time 1700000000 with
	// signing.dumps({...}, key="example-secret-key-not-for-production", compress=True);
	// the output is what Django's print(signing.loads(token, key=...)) shows.
	token := ".eJyrVkpOLCpRsoo21DHSMY7VUcrLL0lVslLKSM3JyVfAQSrVAgDllhJP:1r31eq:q4ZENUJR-maQNRMG-cAdIzy5e6uVEioXsnW89BatPzg"
	v, err := signing.Loads(token, secretKey, nil)
	if err != nil {
		log.Fatal(err) // a forged or corrupted token: treat as no value
	}
	fmt.Println(v) // a py.Value prints as Python's repr
	// Output: {'cart': [1, 2, 3], 'note': 'hello hello hello hello hello'}
}

func ExampleLoadsMaxAge() {
	// The token Django 3.2 signed at 1700000000 (see ExampleLoads), read an
	// hour later with a ten-minute limit. Django raises SignatureExpired there,
	// a subclass of BadSignature; here both sentinels match.
	token := ".eJyrVkpOLCpRsoo21DHSMY7VUcrLL0lVslLKSM3JyVfAQSrVAgDllhJP:1r31eq:q4ZENUJR-maQNRMG-cAdIzy5e6uVEioXsnW89BatPzg"
	opts := &signing.Options{Clock: at(1700000000 + 3600)}
	_, err := signing.LoadsMaxAge(token, secretKey, 10*time.Minute, opts)
	fmt.Println(errors.Is(err, signing.ErrSignatureExpired), errors.Is(err, signing.ErrBadSignature))

	// A token whose signature was altered is a bad signature, not an expiry.
	_, err = signing.Loads(token[:len(token)-1]+"A", secretKey, nil)
	fmt.Println(errors.Is(err, signing.ErrSignatureExpired), errors.Is(err, signing.ErrBadSignature))
	// Output:
	// true true
	// false true
}

func ExampleNewCookieSigner() {
	// LegacySalt writes cookies as Django before 5.2.15 does (Django 3.2
	// here); reading accepts both the legacy and the v2 salt. The signed value
	// is what Django 3.2 wrote at time 1700000000 with
	//   response.set_signed_cookie("color", "blue", salt="prefs")
	// and Django's request.get_signed_cookie("color", salt="prefs", max_age=3600)
	// returns "blue" for it a minute later.
	signer, err := signing.NewCookieSigner(secretKey, &signing.CookieOptions{
		LegacySalt: true, Clock: at(1700000000),
	})
	if err != nil {
		log.Fatal(err)
	}
	cookie := signer.Sign("color", "blue", "prefs")
	fmt.Println(cookie)

	reader, err := signing.NewCookieSigner(secretKey, &signing.CookieOptions{Clock: at(1700000060)})
	if err != nil {
		log.Fatal(err)
	}
	color, err := reader.UnsignMaxAge("color", cookie, "prefs", time.Hour)
	if err != nil {
		color = "red" // get_signed_cookie(..., default="red")
	}
	fmt.Println(color)
	// Output:
	// blue:1r31eq:rQ4B1NQRSZBOvdxvb5u75_H6VtTtJYKM8KK5gJO5cd8
	// blue
}

func ExampleSaltedHMAC() {
	// The expected digest is Django 3.2's
	//   salted_hmac("myapp.unsubscribe", "user:42",
	//               secret="example-secret-key-not-for-production",
	//               algorithm="sha256").hexdigest()
	mac, err := signing.SaltedHMAC("myapp.unsubscribe", []byte("user:42"), secretKey, "sha256")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(hex.EncodeToString(mac))
	// Output: 7ecd9d1d435ca75ddfb425f2aefc8778c87e4bdb0c099fae59ba80d31c128d85
}
