package signing_test

import (
	"fmt"
	"log"
	"net/http/httptest"

	"github.com/djsession/djsession/signing"
)

func ExampleQuoteCookieValue() {
	// What Django's SimpleCookie writes in the Set-Cookie header.
	fmt.Println(signing.QuoteCookieValue("blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-E"))
	fmt.Println(signing.QuoteCookieValue(`hello world; "x"`))
	fmt.Println(signing.QuoteCookieValue("Zo\u00eb \u2713"))
	// Output:
	// blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-E
	// "hello world\073 \"x\""
	// "Zo\353 ✓"
}

func ExampleParseCookieHeader() {
	// request.COOKIES for a raw Cookie header: the last duplicate wins, a
	// chunk without '=' has the name "", quoted values are unquoted.
	cookies := signing.ParseCookieHeader(`a=1; theme="dark mode\054 big"; a=2; orphan`)
	fmt.Printf("%q %q %q\n", cookies["a"], cookies["theme"], cookies[""])
	// Output: "2" "dark mode, big" "orphan"
}

func ExampleCookieHeaderValue() {
	// The Cookie header a browser sends back after Django 3.2's
	//   response.set_signed_cookie("color", 'hello world; "x"')
	// (SECRET_KEY "django_tests_secret_key", time 1700000000). net/http's
	// r.Cookie("color") drops this value; the raw header keeps it.
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Cookie", `sessionid=abc; color="hello world\073 \"x\":1r31eq:rWG0LDfKMldLxDmCXUvIYCaTOavgLPzAOMtHIzDjb38"`)
	_, err := r.Cookie("color")
	fmt.Println("net/http:", err)

	raw, ok := signing.CookieHeaderValue(r.Header.Get("Cookie"), "color")
	if !ok {
		log.Fatal("no color cookie")
	}
	cs, err := signing.NewCookieSigner([]byte("django_tests_secret_key"), nil)
	if err != nil {
		log.Fatal(err)
	}
	value, err := cs.Unsign("color", raw, "")
	if err != nil {
		log.Fatal(err) // forged or corrupted: treat as absent
	}
	fmt.Printf("%q\n", value)
	// Output:
	// net/http: http: named cookie not present
	// "hello world; \"x\""
}

func ExampleCookieSigner_quoted() {
	// Writing a signed cookie Django 5.2.15+/6.0.6+ reads (v2 salt; set
	// CookieOptions.LegacySalt for older Django): sign, quote, and add the
	// header yourself, since http.SetCookie deletes '"' and '\' from a value.
	cs, err := signing.NewCookieSigner(secretKey, &signing.CookieOptions{Clock: at(1700000000)})
	if err != nil {
		log.Fatal(err)
	}
	w := httptest.NewRecorder()
	v := signing.QuoteCookieValue(cs.Sign("greeting", `hi, "you"`, ""))
	w.Header().Add("Set-Cookie", "greeting="+v+"; Path=/; SameSite=Lax")
	fmt.Println(w.Header().Get("Set-Cookie"))
	// Output: greeting="hi\054 \"you\":1r31eq:B60Izpx410LQaCBxYkFCf2cHbw7DSw3FjgKCF9lqjXs"; Path=/; SameSite=Lax
}
