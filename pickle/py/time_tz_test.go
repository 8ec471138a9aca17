package py

import (
	"encoding/json"
	"testing"
	"time"
)

// TestTimeIsoFormatZoneInfo: a datetime.time with a zoneinfo zone shows an
// offset exactly when the zone has no transitions (utcoffset(None) is not
// None), as CPython's isoformat and the normal form write it.
func TestTimeIsoFormatZoneInfo(t *testing.T) {
	keys := []string{"UTC", "Etc/GMT+5", "Etc/GMT-14", "EST", "GMT", "Zulu",
		"Europe/Paris", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"}
	var vals []Value
	var reqs []any
	for _, k := range keys {
		tz, err := ZoneInfo(k)
		if err != nil {
			t.Fatalf("%s: %v", k, err)
		}
		v, err := NewTime(Time{Hour: 12, Minute: 30, TZ: tz})
		if err != nil {
			t.Fatal(err)
		}
		vals = append(vals, v)
		reqs = append(reqs, map[string]any{"op": "normal", "v": toTagged(v)})
	}
	for i, raw := range runOracle(t, reqs) {
		var r struct {
			Text string `json:"text"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		got, err := NormalJSON(vals[i])
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != r.Text {
			t.Errorf("%s: we write %s, CPython %s", keys[i], got, r.Text)
		}
	}
	// Without the oracle, by hand from the zones' definitions.
	tz, _ := ZoneInfo("Etc/GMT+5")
	if off, ok := tz.DatelessOffset(); !ok || off != -5*time.Hour {
		t.Errorf("Etc/GMT+5: %v %v", off, ok)
	}
	tz, _ = ZoneInfo("Europe/Paris")
	if tz.Aware() {
		t.Error("Europe/Paris has no offset without a date")
	}
}
