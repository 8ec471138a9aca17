package py

import (
	"strings"
	"testing"
	"time"
)

// The expected texts below are CPython 3.11 + pytz 2022.7.1's, for
// datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo=pytz._p(*args)) and
// time(3, 4, tzinfo=...): repr(), isoformat(), str().
func TestPytzReprIsoFormat(t *testing.T) {
	cases := []struct {
		key       string
		off, dst  int // seconds
		name      string
		static    bool
		tzRepr    string
		iso, tiso string
	}{
		{"Europe/Paris", 7200, 3600, "CEST", false, "<DstTzInfo 'Europe/Paris' CEST+2:00:00 DST>", "2024-01-02T03:04:05.000006+02:00", "03:04:00"},
		{"Europe/Paris", 3600, 0, "CET", false, "<DstTzInfo 'Europe/Paris' CET+1:00:00 STD>", "2024-01-02T03:04:05.000006+01:00", "03:04:00"},
		{"Europe/Amsterdam", 1172, 0, "LMT", false, "<DstTzInfo 'Europe/Amsterdam' LMT+0:19:32 STD>", "2024-01-02T03:04:05.000006+00:19:32", "03:04:00"},
		{"America/New_York", -17762, 0, "LMT", false, "<DstTzInfo 'America/New_York' LMT-1 day, 19:03:58 STD>", "2024-01-02T03:04:05.000006-04:56:02", "03:04:00"},
		{"America/New_York", -18000, 0, "EST", false, "<DstTzInfo 'America/New_York' EST-1 day, 19:00:00 STD>", "2024-01-02T03:04:05.000006-05:00", "03:04:00"},
		{"Europe/Dublin", 0, -3600, "GMT", false, "<DstTzInfo 'Europe/Dublin' GMT0:00:00 DST>", "2024-01-02T03:04:05.000006+00:00", "03:04:00"},
		{"Europe/London", 3600, 3600, "BST", false, "<DstTzInfo 'Europe/London' BST+1:00:00 DST>", "2024-01-02T03:04:05.000006+01:00", "03:04:00"},
		{"Europe/Paris", 0, 0, "WET", false, "<DstTzInfo 'Europe/Paris' WET0:00:00 STD>", "2024-01-02T03:04:05.000006+00:00", "03:04:00"},
		{"Etc/GMT+5", 0, 0, "", true, "<StaticTzInfo 'Etc/GMT+5'>", "2024-01-02T03:04:05.000006-05:00", "03:04:00-05:00"},
		{"Etc/UTC", 0, 0, "", true, "<StaticTzInfo 'Etc/UTC'>", "2024-01-02T03:04:05.000006+00:00", "03:04:00+00:00"},
	}
	for _, c := range cases {
		var tz *TZInfo
		var err error
		if c.static {
			tz, err = PytzStaticZone(c.key)
		} else {
			tz, err = PytzZone(c.key, time.Duration(c.off)*time.Second, time.Duration(c.dst)*time.Second, c.name)
		}
		if err != nil {
			t.Fatalf("%s: %v", c.tzRepr, err)
		}
		dt := must(NewDateTime(DateTime{2024, 1, 2, 3, 4, 5, 6, 0, tz}))
		if got, want := dt.Repr(), "datetime.datetime(2024, 1, 2, 3, 4, 5, 6, tzinfo="+c.tzRepr+")"; got != want {
			t.Errorf("repr %s, want %s", got, want)
		}
		d, _ := dt.DateTime()
		if got := d.IsoFormat(); got != c.iso {
			t.Errorf("%s: isoformat %s, want %s", c.tzRepr, got, c.iso)
		}
		if got, want := pyStr(dt), strings.Replace(c.iso, "T", " ", 1); got != want {
			t.Errorf("%s: str %s, want %s", c.tzRepr, got, want)
		}
		if nj, err := NormalJSON(dt); err != nil || string(nj) != `"`+c.iso+`"` {
			t.Errorf("%s: NormalJSON %s %v", c.tzRepr, nj, err)
		}
		tm := must(NewTime(Time{Hour: 3, Minute: 4, TZ: tz}))
		if got, want := tm.Repr(), "datetime.time(3, 4, tzinfo="+c.tzRepr+")"; got != want {
			t.Errorf("repr %s, want %s", got, want)
		}
		tt, _ := tm.Time()
		if got := tt.IsoFormat(); got != c.tiso {
			t.Errorf("%s: time isoformat %s, want %s", c.tzRepr, got, c.tiso)
		}
		// The instant: the wall clock at the instance's own offset.
		off, ok := d.UTCOffset()
		if !ok || off != tz.Offset {
			t.Errorf("%s: UTCOffset %v %v", c.tzRepr, off, ok)
		}
		gt := d.GoTime(nil)
		want := time.Date(2024, 1, 2, 3, 4, 5, 6000, time.UTC).Add(-tz.Offset)
		if !gt.Equal(want) {
			t.Errorf("%s: GoTime %v, want %v", c.tzRepr, gt, want)
		}
		if name, o := gt.Zone(); time.Duration(o)*time.Second != tz.Offset || name != tz.Name {
			t.Errorf("%s: GoTime zone %s %d", c.tzRepr, name, o)
		}
		// FromTime at the same zone gives the same datetime back.
		if back := FromTime(gt, true, tz); !back.Equal(dt) {
			t.Errorf("%s: FromTime %s", c.tzRepr, back.Repr())
		}
	}
}

func TestPytzStaticZone(t *testing.T) {
	tz, err := PytzStaticZone("Etc/GMT+5")
	if err != nil || tz.Kind != TZPytzStatic || tz.Offset != -5*time.Hour || tz.Name != "-05" || tz.Key != "Etc/GMT+5" {
		t.Fatalf("%+v %v", tz, err)
	}
	tz, err = PytzStaticZone("EST")
	if err != nil || tz.Offset != -5*time.Hour || tz.Name != "EST" {
		t.Fatalf("EST: %+v %v", tz, err)
	}
	for _, key := range []string{"Europe/Paris", "Asia/Kolkata", "Nowhere/Land", "UTC", "utc", "Local", "", "../etc/localtime", "Etc/GMT+5\x00"} {
		if tz, err := PytzStaticZone(key); err == nil {
			t.Errorf("%q: %+v", key, tz)
		}
	}
}

func TestPytzZoneValidation(t *testing.T) {
	ok := []struct {
		key  string
		name string
	}{
		{"Europe/Paris", "CEST"}, {"America/Argentina/ComodRivadavia", "-03"}, {"Etc/GMT-14", "+14"},
		{"America/Port-au-Prince", "EST"}, {"EST5EDT", "EDT"}, {"GMT0", "GMT"}, {"US/Eastern", "EST"},
		{strings.Repeat("A", MaxPytzKey), "X"}, {"Asia/Kolkata", "+0530"},
	}
	for _, c := range ok {
		if _, err := PytzZone(c.key, time.Hour, 0, c.name); err != nil {
			t.Errorf("%q %q: %v", c.key, c.name, err)
		}
	}
	badKeys := []string{"", "/", "/Europe/Paris", "Europe/Paris/", "Europe//Paris", "Europe/../Paris", "..", ".", "./x",
		"Europe/Paris\x00", "Europe/Par is", "Europe\\Paris", "Europe/Pärïs", "Local", "UTC", "Utc", "uTC",
		"Etc/GMT_plus_5", "Etc/GMT_minus_5", strings.Repeat("A", MaxPytzKey+1), "Europe/Paris\n", "a'b", `a"b`}
	for _, k := range badKeys {
		if ValidPytzKey(k) {
			t.Errorf("ValidPytzKey(%q)", k)
		}
		if _, err := PytzZone(k, time.Hour, 0, "CET"); err == nil {
			t.Errorf("PytzZone(%q) accepted", k)
		}
	}
	for _, name := range []string{"", "C T", "CET\x00", strings.Repeat("C", 17), "CÉT", "C/T", "C'T"} {
		if _, err := PytzZone("Europe/Paris", time.Hour, 0, name); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
	for _, d := range []time.Duration{24 * time.Hour, -24 * time.Hour, time.Hour + time.Millisecond, 1<<63 - 1, -1 << 63} {
		if _, err := PytzZone("Europe/Paris", d, 0, "CET"); err == nil {
			t.Errorf("offset %v accepted", d)
		}
		if _, err := PytzZone("Europe/Paris", 0, d, "CET"); err == nil {
			t.Errorf("dst %v accepted", d)
		}
	}
	for _, d := range []time.Duration{24*time.Hour - time.Second, -24*time.Hour + time.Second} {
		if _, err := PytzZone("Europe/Paris", d, d, "CET"); err != nil {
			t.Errorf("offset %v refused: %v", d, err)
		}
	}
}

func TestPytzEqual(t *testing.T) {
	a, _ := PytzZone("Europe/Paris", 2*time.Hour, time.Hour, "CEST")
	b, _ := PytzZone("Europe/Paris", 2*time.Hour, time.Hour, "CEST")
	c, _ := PytzZone("Europe/Paris", 2*time.Hour, 0, "CEST")
	d, _ := PytzZone("Europe/Berlin", 2*time.Hour, time.Hour, "CEST")
	f, _ := FixedZone(2*time.Hour, "CEST")
	dt := func(tz *TZInfo) Value { return must(NewDateTime(DateTime{Year: 2024, Month: 7, Day: 1, TZ: tz})) }
	if !dt(a).Equal(dt(b)) {
		t.Error("equal instances differ")
	}
	for _, o := range []*TZInfo{c, d, f} {
		if dt(a).Equal(dt(o)) {
			t.Errorf("%+v equals %+v", *a, *o)
		}
	}
	// GoValue: a pytz datetime is a time.Time at the instance's offset; a
	// time with a static zone carries its offset.
	g, ok := dt(a).GoValue().(time.Time)
	if _, off := g.Zone(); !ok || off != 7200 || !g.Equal(time.Date(2024, 6, 30, 22, 0, 0, 0, time.UTC)) {
		t.Errorf("GoValue %v", g)
	}
	est, _ := PytzStaticZone("EST")
	tv, ok := must(NewTime(Time{Hour: 1, TZ: est})).GoValue().(time.Time)
	if _, off := tv.Zone(); !ok || off != -5*3600 {
		t.Errorf("time GoValue %v", tv)
	}
}
