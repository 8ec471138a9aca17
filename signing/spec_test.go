package signing

// Values from spec §9.1–9.4: [T] = from Django's own test suite, [C] =
// computed with Django and re-derived with plain HMAC (both exact). The
// "≤3.0" column is Django's SHA-1 era, reproduced with Algorithm "sha1".

import (
	"encoding/hex"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

const djangoTestsSecret = "django_tests_secret_key" // SECRET_KEY of Django's test settings

// §9.1 salted_hmac [T].
func TestSaltedHMACSpec(t *testing.T) {
	tests := []struct {
		secret, algorithm, want string
	}{
		{djangoTestsSecret, "sha1", "b51a2e619c43b1ca4f91d15c57455521d71d61eb"},
		{"abcdefg", "sha1", "8bbee04ccddfa24772d1423a0ba43bd0c0e24b76"},
		{strings.Repeat("x", 64), "sha1", "bd3749347b412b1b0a9ea65220e55767ac8e96b0"},
		{djangoTestsSecret, "sha256", "ee0bf789e4e009371a5372c90f73fcf17695a8439c9108b0480f14e347b3f9ec"},
		{strings.Repeat("x", 128), "blake2b", "fc6b9800a584d40732a07fa33fb69c35211269441823bca431a143853c32fe836cf19ab881689528ede647dac412170cd5d3407b44c6d0f44630690c54ad3d58"},
	}
	for _, tt := range tests {
		got, err := SaltedHMAC("salt", []byte("value"), []byte(tt.secret), tt.algorithm)
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("SaltedHMAC(%s, %.10s…) = %x, want %s", tt.algorithm, tt.secret, got, tt.want)
		}
	}
}

// §9.2 Signer / TimestampSigner.
func TestSignerSpec(t *testing.T) {
	type row struct {
		name                 string
		key                  string
		salt, value          string
		sep                  string
		timestamp            int64 // 0: plain Signer
		wantSHA1, wantSHA256 string
	}
	const foo30, foo31 = "foo:sH9B01cZcJ9FoT_jEVkRkNULrl8", "foo:jZQoX_FtSO70jX9HLRGg2A_2s4kdDBxz1QoO_OpEQb0"
	rows := []row{
		{"predictable [T]", "predictable-secret", "", "foo", ":", 0, foo30, foo31},
		{"key b'\\xe7' [T]", "\xe7", "", "foo", ":", 0, "foo:6NB0fssLW5RQvZ3Y-MTerq2rX7w", "foo:EE4qGC5MEKyQG5msxYA0sBohAxLC0BJf8uRhemh0BGU"},
		{"SECRET_KEY [T]/[C]", djangoTestsSecret, "", "foo", ":", 0, "foo:l-EMM5FtewpcHMbKFeQodt3X9z8", "foo:EASQ3YXgyZj15RTV7AOC6xbFsVHM8SORDEUA3kDWNCY"},
		{"extra-salt [C]", "predictable-secret", "extra-salt", "hello", ":", 0, "hello:m57Qtg77nk-IMDtP2u2SwJp6X6c", "hello:g8YZrsJ1xXg4hGFgU2uc4ff9ZZRKt3ReprMkjND8TfM"},
		{"timestamp [C]", "predictable-secret", "", "hello", ":", 1700000000, "hello:1r31eq:VimKT4VTBkllBKsR4bagtKLBnf0", "hello:1r31eq:ESnvh0UG3MKjmlEh8oOo4AB3aBbzEzE2OxtKdYRmPIU"},
	}
	// The same signatures with the separators of Django's test [T].
	for _, sep := range []string{"/", "*sep*", ","} {
		rows = append(rows, row{"sep " + sep + " [T]", "predictable-secret", "", "foo", sep, 0,
			strings.Replace(foo30, ":", sep, 1), strings.Replace(foo31, ":", sep, 1)})
	}
	for _, r := range rows {
		for _, alg := range []string{"sha1", "sha256"} {
			want := r.wantSHA256
			if alg == "sha1" {
				want = r.wantSHA1
			}
			opts := &Options{Salt: r.salt, Sep: r.sep, Algorithm: alg, Clock: fixedClock(float64(r.timestamp))}
			var got, back string
			var err error
			if r.timestamp == 0 {
				s, e := NewSigner([]byte(r.key), opts)
				if e != nil {
					t.Fatal(e)
				}
				got = s.Sign(r.value)
				back, err = s.Unsign(want)
			} else {
				s, e := NewTimestampSigner([]byte(r.key), opts)
				if e != nil {
					t.Fatal(e)
				}
				got = s.Sign(r.value)
				back, err = s.Unsign(want)
			}
			if got != want {
				t.Errorf("%s %s: Sign = %q, want %q", r.name, alg, got, want)
			}
			if err != nil || back != r.value {
				t.Errorf("%s %s: Unsign = %q, %v", r.name, alg, back, err)
			}
		}
	}

	// SHA-512 [T].
	s, err := NewSigner([]byte("predictable-secret"), &Options{Algorithm: "sha512"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.Signature("hello"), "Usf3uVQOZ9m6uPfVonKR-EBXjPe7bjMbp3_Fq8MfsptgkkM1ojidN0BxYaT5HAEN1VzO9_jVu7R-VkqknHYNvw"; got != want {
		t.Errorf("sha512 Signature = %q, want %q", got, want)
	}

	// Values containing the separator round-trip [T].
	s, _ = NewSigner([]byte("predictable-secret"), nil)
	if got, err := s.Unsign(s.Sign("3098247:529:087:")); err != nil || got != "3098247:529:087:" {
		t.Errorf("separator in value: %q, %v", got, err)
	}
}

// §9.2 legacy loads [T]: a SHA-1 token, accepted by ≤3.0 natively and by
// 3.1–3.2 through the legacy algorithm, rejected from 4.0.
func TestLegacySHA1LoadsSpec(t *testing.T) {
	const token = "ImEgc3RyaW5nIFx1MjAyMCI:1k1beT:ZfNhN1kdws7KosUleOvuYroPHEc"
	const want = `"a string \u2020"`
	key := []byte(djangoTestsSecret)
	for _, tt := range []struct {
		name string
		opts Options
		ok   bool
	}{
		{"4.0+ default", Options{}, false},
		{"3.1-3.2 LegacySHA1", Options{LegacySHA1: true}, true},
		{"3.1-3.2 LegacySHA1 with sha512", Options{LegacySHA1: true, Algorithm: "sha512"}, true},
		{"<=3.0 sha1", Options{Algorithm: "sha1"}, true},
	} {
		v, err := Loads(token, key, &tt.opts)
		if !tt.ok {
			if !errors.Is(err, ErrBadSignature) {
				t.Errorf("%s: err = %v, want ErrBadSignature", tt.name, err)
			}
			continue
		}
		if err != nil || jsonOf(t, v) != want {
			t.Errorf("%s: Loads = %v, %v", tt.name, v, err)
		}
	}
	if n, _ := B62Decode("1k1beT"); n != 1596227353 {
		t.Errorf("1k1beT = %d", n)
	}
}

// §9.2 timestamp window [T]: signed at 123456789, checked at 123456800.
func TestTimestampWindowSpec(t *testing.T) {
	signer := func(now int64) *TimestampSigner {
		s, err := NewTimestampSigner([]byte("predictable-key"), &Options{Clock: fixedClock(float64(now))})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	token := signer(123456789).Sign("value")
	later := signer(123456800)
	for _, tt := range []struct {
		maxAge  time.Duration
		expired bool
	}{{12 * time.Second, false}, {11 * time.Second, false}, {10 * time.Second, true}} {
		got, err := later.UnsignMaxAge(token, tt.maxAge)
		switch {
		case tt.expired && !errors.Is(err, ErrSignatureExpired):
			t.Errorf("max_age %v: err = %v, want expired", tt.maxAge, err)
		case tt.expired && !errors.Is(err, ErrBadSignature):
			t.Errorf("max_age %v: expiry must also be a bad signature", tt.maxAge)
		case !tt.expired && (err != nil || got != "value"):
			t.Errorf("max_age %v: %q, %v", tt.maxAge, got, err)
		}
	}
	if got, err := later.Unsign(token); err != nil || got != "value" {
		t.Errorf("no max age: %q, %v", got, err)
	}
	// Fractional now, as §2.5: 11.5 s old is > 11 but not > 12.
	frac, _ := NewTimestampSigner([]byte("predictable-key"), &Options{Clock: fixedClock(123456800.5)})
	if _, err := frac.UnsignMaxAge(token, 11*time.Second+500*time.Millisecond); err != nil {
		t.Errorf("age 11.5 <= 11.5: %v", err)
	}
	if _, err := frac.UnsignMaxAge(token, 11*time.Second+499*time.Millisecond); !errors.Is(err, ErrSignatureExpired) {
		t.Errorf("age 11.5 > 11.499: %v", err)
	}
}

// §9.2 separators [T], §2.4's regex quirks derived by hand from
// ^[A-z0-9-_=]*$ (A-z includes [ \ ] ^ _ `; $ allows one final newline) and
// checked with CPython's re.
func TestSeparatorRule(t *testing.T) {
	bad := []string{"", "-", "abc", "a", "1", "_", "^", "[", "\\", "]", "`", "=", "a-Z_0=", "\n", "a\n"}
	good := []string{":", "/", "*sep*", ",", ".", "a.", "|", "é", "\n\n", ":\n", "\na", "~"}
	for _, sep := range bad {
		err := checkSeparator(sep)
		if !errors.Is(err, ErrInvalidSeparator) {
			t.Errorf("checkSeparator(%q) = %v, want ErrInvalidSeparator", sep, err)
		}
		if sep != "" {
			if _, err := NewSigner([]byte("k"), &Options{Sep: sep}); !errors.Is(err, ErrInvalidSeparator) {
				t.Errorf("NewSigner(sep %q) = %v", sep, err)
			}
		}
	}
	for _, sep := range good {
		if err := checkSeparator(sep); err != nil {
			t.Errorf("checkSeparator(%q) = %v, want ok", sep, err)
		}
	}
	err := checkSeparator("a")
	if want := "signing: unsafe separator: 'a' (cannot be empty or consist of only A-z0-9-_=)"; err.Error() != want {
		t.Errorf("message %q, want %q", err, want)
	}
}

// §9.2 base62 [C]; "-" and leading zeros as Django's decoder treats them.
func TestBase62Spec(t *testing.T) {
	tests := []struct {
		n    int64
		text string
	}{
		{0, "0"}, {1, "1"}, {61, "z"}, {62, "10"}, {123456789, "8M0kX"}, {1620378259, "1lewPD"},
		{1700000000, "1r31eq"}, {-1, "-1"}, {-62, "-10"}, {-10000000000, "-Aukyoa"},
	}
	for _, tt := range tests {
		if got := B62Encode(tt.n); got != tt.text {
			t.Errorf("B62Encode(%d) = %q, want %q", tt.n, got, tt.text)
		}
		if got, err := B62Decode(tt.text); err != nil || got != tt.n {
			t.Errorf("B62Decode(%q) = %d, %v", tt.text, got, err)
		}
		if got := B62EncodeBig(big.NewInt(tt.n)); got != tt.text {
			t.Errorf("B62EncodeBig(%d) = %q", tt.n, got)
		}
	}
	for text, want := range map[string]int64{"007": 7, "-": 0, "-0": 0, "zzzzzzzzzzz": 0} {
		got, err := B62Decode(text)
		if text == "zzzzzzzzzzz" { // > 2^64
			if !errors.Is(err, ErrInvalidBase62) {
				t.Errorf("B62Decode(%q) overflow: %v", text, err)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("B62Decode(%q) = %d, %v; want %d", text, got, err, want)
		}
	}
	for _, text := range []string{"", "a!", "--1", " 1", "1.0"} {
		if _, err := B62Decode(text); !errors.Is(err, ErrInvalidBase62) {
			t.Errorf("B62Decode(%q) = %v, want ErrInvalidBase62", text, err)
		}
		if _, err := B62DecodeBig(text); !errors.Is(err, ErrInvalidBase62) {
			t.Errorf("B62DecodeBig(%q) = %v, want ErrInvalidBase62", text, err)
		}
	}
	// int64 edges and beyond (arbitrary precision, as Python ints).
	for _, s := range []string{"9223372036854775807", "-9223372036854775808", "9223372036854775808",
		"-9223372036854775809", "340282366920938463463374607431768211456"} {
		n, _ := new(big.Int).SetString(s, 10)
		text := B62EncodeBig(n)
		back, err := B62DecodeBig(text)
		if err != nil || back.Cmp(n) != 0 {
			t.Errorf("big round trip %s -> %q -> %v, %v", s, text, back, err)
		}
		if n.IsInt64() {
			if B62Encode(n.Int64()) != text {
				t.Errorf("B62Encode(%s) != B62EncodeBig", s)
			}
			if v, err := B62Decode(text); err != nil || v != n.Int64() {
				t.Errorf("B62Decode(%q) = %d, %v", text, v, err)
			}
		} else if _, err := B62Decode(text); !errors.Is(err, ErrInvalidBase62) {
			t.Errorf("B62Decode(%q) out of range: %v", text, err)
		}
	}
	// Hand-derived: 62^11 = 52036560683837093888 is "1" followed by 11 zeros.
	n, _ := new(big.Int).SetString("52036560683837093888", 10)
	if got := B62EncodeBig(n); got != "100000000000" {
		t.Errorf("62^11 = %q", got)
	}
}

// §9.3 dumps / loads [C]: key predictable-secret, t=1700000000.
func TestDumpsSpec(t *testing.T) {
	key := []byte("predictable-secret")
	list19 := make([]py.Value, 19)
	for i := range list19 {
		list19[i] = py.Int(int64(i + 1))
	}
	d := py.NewDict(2)
	d.SetStr("foo", py.Str("bar"))
	d.SetStr("baz", py.Int(1))
	rows := []struct {
		obj        py.Value
		compress   bool
		sha1, sha2 string
	}{
		{py.DictOf(d), false,
			"eyJmb28iOiJiYXIiLCJiYXoiOjF9:1r31eq:_zd1WAlfTKYuvN_-kl1baPTF6W0",
			"eyJmb28iOiJiYXIiLCJiYXoiOjF9:1r31eq:17iNO78HbYFKLu_OSS5m1dNcPFP-jgzpJbfDPdASZPU"},
		{py.Str("a string \u2019"), false,
			"ImEgc3RyaW5nIFx1MjAxOSI:1r31eq:cGvM1QHP7h0iJuc7LgwtITBDKCo",
			"ImEgc3RyaW5nIFx1MjAxOSI:1r31eq:C-6pDfbzODCU0KKvAqZ3gM1HEiGh_ts62GpcZ34GU6M"},
		{py.NewList(list19...), true,
			".eJwFwcERACAIwLCF-rCiILN47r-GyZVJsNgkxaFxoDgxcOHGxMKD_T7vhAml:1r31eq:ZsHtJk9cwxRQ2iU-4DrGL0-5ajY",
			".eJwFwcERACAIwLCF-rCiILN47r-GyZVJsNgkxaFxoDgxcOHGxMKD_T7vhAml:1r31eq:cWrrlyJwdPYgP55b3ZfMQina7WM89uOdlmM6QHxJnMI"},
		{py.NewList(py.Int(1), py.Int(2)), true,
			"WzEsMl0:1r31eq:KyTu_0VXg1BiDUJZ-3jnqqY1GNU",
			"WzEsMl0:1r31eq:SHu0sswG1ngHKEh1bXQyitrjAPPpZWeAQBTYaZ9ZVfY"},
	}
	for _, r := range rows {
		for alg, want := range map[string]string{"sha1": r.sha1, "sha256": r.sha2} {
			opts := &Options{Algorithm: alg, Clock: fixedClock(1700000000)}
			got, err := Dumps(r.obj, key, r.compress, opts)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(want, ".") && got != want {
				t.Errorf("Dumps(%s, %s) = %q, want %q", jsonOf(t, r.obj), alg, got, want)
			}
			// Compressed: Go's zlib differs (spec §2.6); both tokens read back.
			for _, tok := range []string{want, got} {
				v, err := Loads(tok, key, opts)
				if err != nil || jsonOf(t, v) != jsonOf(t, r.obj) {
					t.Errorf("Loads(%q, %s) = %v, %v", tok, alg, v, err)
				}
			}
			if strings.HasPrefix(want, ".") != strings.HasPrefix(got, ".") {
				t.Errorf("compression decision differs: ours %q, Django %q", got, want)
			}
		}
	}
}

// §9.4 signed cookies [C]: SECRET_KEY django_tests_secret_key, t=1700000000.
func TestCookieSpec(t *testing.T) {
	key := []byte(djangoTestsSecret)
	clock := fixedClock(1700000000)
	rows := []struct {
		salt                 string
		legacy1, legacy2, v2 string
	}{
		{"", "blue:1r31eq:L9-tWdBPVJvxQoGUl8AYsmfDAa4", "blue:1r31eq:ryF06y9_VY16OWl5lf1iQ8xLaD9iSFDaQtkqEZ7vB-E", "blue:1r31eq:7E4NBRvjXkdCdzX-39r1iHcJUwkS7D1Xxwukv7c7idE"},
		{"pepper", "blue:1r31eq:eYtrQB8fphkFxuodSYJ9h1lmXDA", "blue:1r31eq:GDJGqSUTSxOq24_h7dYIFfXxKXwpO6m2Ge_Ejkm7zUk", ""},
	}
	if got := CookieSalt("color", "pepper"); got != "django.http.cookies.v2:6:peppercolor" {
		t.Errorf("CookieSalt = %q", got)
	}
	if got := CookieSalt("color", ""); got != "django.http.cookies.v2:0:color" {
		t.Errorf("CookieSalt = %q", got)
	}
	if got := CookieSalt("n", "sälz"); got != "django.http.cookies.v2:4:sälzn" { // code points, not bytes
		t.Errorf("CookieSalt = %q", got)
	}
	for _, r := range rows {
		for _, tt := range []struct {
			opts CookieOptions
			want string
		}{
			{CookieOptions{LegacySalt: true, Algorithm: "sha1"}, r.legacy1},
			{CookieOptions{LegacySalt: true}, r.legacy2},
			{CookieOptions{}, r.v2},
		} {
			if tt.want == "" {
				continue
			}
			tt.opts.Clock = clock
			cs, err := NewCookieSigner(key, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := cs.Sign("color", "blue", r.salt); got != tt.want {
				t.Errorf("Sign(color, blue, %q) %+v = %q, want %q", r.salt, tt.opts, got, tt.want)
			}
			if got, err := cs.Unsign("color", tt.want, r.salt); err != nil || got != "blue" {
				t.Errorf("Unsign(%q) = %q, %v", tt.want, got, err)
			}
		}
	}
}
