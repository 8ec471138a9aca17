package django

import (
	"testing"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// The expected ages below are derived by hand from spec §3.4 (Django's
// get_expiry_age: delta.days*86400 + delta.seconds, i.e. floor of the
// difference in seconds); the interop tests check the same rules against
// Django 3.2 itself.
func TestExpiryAge(t *testing.T) {
	s := DefaultSettings("k")
	mod := time.Date(2024, 2, 29, 12, 0, 0, 500000000, time.UTC)
	dt := func(y, mo, d, h, mi, sec, us int, tz *py.TZInfo) py.Value {
		v, err := py.NewDateTime(py.DateTime{Year: y, Month: mo, Day: d, Hour: h, Minute: mi, Second: sec, Microsecond: us, TZ: tz})
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	cases := []struct {
		name   string
		expiry py.Value
		want   int
	}{
		{"absent", py.None, DefaultSessionCookieAge},
		{"zero", py.Int(0), DefaultSessionCookieAge},
		{"empty string", py.Str(""), DefaultSessionCookieAge},
		{"int", py.Int(300), 300},
		{"negative int", py.Int(-5), -5},
		{"iso aware", py.Str("2024-02-29T12:00:10+00:00"), 9},
		{"iso aware micro", py.Str("2024-02-29T12:00:10.500000+00:00"), 10},
		{"iso offset", py.Str("2024-02-29T13:00:10+01:00"), 9},
		{"iso Z", py.Str("2024-02-29T12:00:10Z"), 9},
		{"iso naive is UTC with USE_TZ", py.Str("2024-02-29T12:00:10"), 9},
		{"iso past", py.Str("2024-02-29T11:59:59.500000+00:00"), -1},
		{"iso garbage expires", py.Str("tomorrow"), 0},
		{"pickled datetime (3.2)", dt(2024, 3, 1, 12, 0, 0, 500000, py.PytzUTC), 86400},
		{"naive datetime", dt(2024, 2, 29, 12, 1, 0, 0, nil), 59},
	}
	for _, c := range cases {
		if got := ExpiryAge(s, mod, c.expiry); got != c.want {
			t.Errorf("%s: ExpiryAge = %d, want %d", c.name, got, c.want)
		}
	}
}

func TestExpiryDate(t *testing.T) {
	s := DefaultSettings("k")
	mod := time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC)
	if got := ExpiryDate(s, mod, py.None); !got.Equal(mod.Add(1209600 * time.Second)) {
		t.Errorf("default: %v", got)
	}
	if got := ExpiryDate(s, mod, py.Int(60)); !got.Equal(mod.Add(time.Minute)) {
		t.Errorf("int: %v", got)
	}
	want := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	if got := ExpiryDate(s, mod, py.Str("2024-03-01T01:00:00+01:00")); !got.Equal(want) {
		t.Errorf("iso: %v", got)
	}
}

func TestExpireAtBrowserClose(t *testing.T) {
	s := DefaultSettings("k")
	if ExpireAtBrowserClose(s, py.None) {
		t.Error("default setting is false")
	}
	s.SessionExpireAtBrowserClose = true
	if !ExpireAtBrowserClose(s, py.None) {
		t.Error("setting true, no expiry")
	}
	if ExpireAtBrowserClose(s, py.Int(10)) {
		t.Error("explicit expiry overrides the setting")
	}
	if !ExpireAtBrowserClose(s, py.Int(0)) {
		t.Error("set_expiry(0) expires at browser close")
	}
}

func TestSetExpiryWritesIsoString(t *testing.T) {
	s := DefaultSettings("k")
	now := time.Date(2024, 2, 29, 12, 0, 0, 123456789, time.UTC)
	s.Clock = func() time.Time { return now }
	sess := NewSession(nil, nil, s, "")
	sess.SetExpiryIn(90 * time.Second)
	// Django 4.1+: (timezone.now() + timedelta(seconds=90)).isoformat()
	if v, _ := sess.GetStr(ExpiryKey); v != "2024-02-29T12:01:30.123456+00:00" {
		t.Errorf("stored %q", v)
	}
	if age := sess.GetExpiryAge(); age != 90 {
		t.Errorf("age %d", age)
	}
	s.UseTZ = false
	s.TimeZone = time.FixedZone("X", 3600)
	sess.SetExpiryAt(time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC))
	if v, _ := sess.GetStr(ExpiryKey); v != "2024-02-29T13:00:00" {
		t.Errorf("naive local: %q", v)
	}
	sess.SetExpirySeconds(0)
	if !sess.GetExpireAtBrowserClose() {
		t.Error("0 means browser close")
	}
	sess.ClearExpiry()
	if sess.Has(ExpiryKey) {
		t.Error("ClearExpiry left the key")
	}
}

func TestParseISODateTime(t *testing.T) {
	good := map[string]time.Time{
		"2024-02-29":                       time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC),
		"2024-02-29T13:45":                 time.Date(2024, 2, 29, 13, 45, 0, 0, time.UTC),
		"2024-02-29 13:45:30.1":            time.Date(2024, 2, 29, 13, 45, 30, 100000000, time.UTC),
		"2024-02-29T13:45:30.123456789":    time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC),
		"2024-02-29T13:45:30-05:30":        time.Date(2024, 2, 29, 19, 15, 30, 0, time.UTC),
		"2024-02-29T13:45:30+0100":         time.Date(2024, 2, 29, 12, 45, 30, 0, time.UTC),
		"2024-02-29T13:45:30.000001+00:00": time.Date(2024, 2, 29, 13, 45, 30, 1000, time.UTC),
	}
	for in, want := range good {
		got, err := ParseISODateTime(in, time.UTC)
		if err != nil || !got.Equal(want) {
			t.Errorf("%q: %v %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "2024", "2024-02-30", "2024-13-01", "2024-02-29T25:00", "2024-02-29T12:00+", "2024-02-29T12:00:00+01:00x", "２０２４-01-01"} {
		if _, err := ParseISODateTime(bad, time.UTC); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}

func TestNewSessionKey(t *testing.T) {
	seen := map[string]bool{}
	counts := map[rune]int{}
	for range 2000 {
		k, err := NewSessionKey()
		if err != nil {
			t.Fatal(err)
		}
		if len(k) != 32 || !IsFileSafeKey(k) || seen[k] {
			t.Fatalf("bad or repeated key %q", k)
		}
		seen[k] = true
		for _, c := range k {
			counts[c]++
		}
	}
	// 64,000 draws over 36 characters: each expects ~1778; a character
	// under 1300 or over 2300 would mean a biased draw.
	for _, c := range ValidKeyChars {
		if counts[c] < 1300 || counts[c] > 2300 {
			t.Errorf("character %q drawn %d times", c, counts[c])
		}
	}
}

func TestKeyValidation(t *testing.T) {
	if IsValidKey("1234567") || !IsValidKey("12345678") || IsValidKey("") {
		t.Error("Django keeps keys of 8 characters or more")
	}
	if IsFileSafeKey("../etc/passwd") || IsFileSafeKey("ABCDEFGH") || !IsFileSafeKey("abc123") {
		t.Error("file-safe keys are [a-z0-9] only")
	}
}

// With PickleSerializer the expiry is the datetime itself (Django ≤ 4.0's
// set_expiry), read back to the same age.
func TestSetExpiryPickledDatetime(t *testing.T) {
	s := DefaultSettings("k")
	now := time.Date(2024, 2, 29, 12, 0, 0, 123456789, time.UTC)
	s.Clock = func() time.Time { return now }
	s.SessionSerializer = PickleSerializer{}
	sess := NewSession(nil, nil, s, "")
	sess.SetExpiryIn(90 * time.Second)
	v, _ := sess.Get(ExpiryKey)
	if dt, ok := v.DateTime(); !ok || dt.IsoFormat() != "2024-02-29T12:01:30.123456+00:00" {
		t.Errorf("stored %s, want an aware datetime", v.Repr())
	}
	if age := sess.GetExpiryAge(); age != 90 {
		t.Errorf("age %d", age)
	}
	s.UseTZ = false
	s.TimeZone = time.FixedZone("X", 3600)
	sess.SetExpiryAt(time.Date(2024, 2, 29, 12, 0, 0, 0, time.UTC))
	v, _ = sess.Get(ExpiryKey)
	if dt, ok := v.DateTime(); !ok || dt.IsoFormat() != "2024-02-29T13:00:00" {
		t.Errorf("naive local: %s", v.Repr())
	}
}
