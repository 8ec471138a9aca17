package py

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// TZKind tells which Python tzinfo class an aware datetime or time carries,
// so that a value read from a pickle is written back with the same class.
type TZKind uint8

// The tzinfo classes the model knows.
const (
	// TZFixed is datetime.timezone: a fixed offset, optionally named.
	// datetime.timezone.utc is TZFixed with offset 0 and no name.
	TZFixed TZKind = iota
	// TZPytzUTC is pytz.utc (pytz's UTC singleton, used by Django ≤3.2).
	TZPytzUTC
	// TZZoneInfo is zoneinfo.ZoneInfo(Key): an IANA zone.
	TZZoneInfo
	// TZPytz is a pytz DstTzInfo instance: what pytz.timezone(Key).localize
	// and Django ≤3.2's timezone.localtime attach to a datetime under
	// USE_TZ with a TIME_ZONE other than UTC. pytz keeps one instance per
	// (utcoffset, dst, tzname) of a zone and picks the one in force for
	// each datetime; the instance, not the zone, is what the datetime
	// carries and what is pickled: pytz._p(Key, utcoffset, dst, tzname).
	// Its utcoffset() is Offset whatever the date, so the model treats it as
	// a fixed offset (Location, UTCOffset, IsoFormat); Key and Name are
	// kept so that the value repr()s and pickles as pytz's.
	TZPytz
	// TZPytzStatic is a pytz StaticTzInfo: a zone with a single offset in
	// the zone database ("Etc/GMT+5", "EST", "Etc/UTC"), pickled as
	// pytz._p(Key). Offset and Name are the zone's offset and abbreviation,
	// taken from the Go runtime's zone database when the value is built
	// (PytzStaticZone), since the pickle holds only the key.
	TZPytzStatic
)

// TZInfo is a tzinfo. Build it with UTC, FixedZone, PytzUTC, ZoneInfo,
// PytzZone or PytzStaticZone.
type TZInfo struct {
	Kind TZKind
	// Offset is the UTC offset of a TZFixed zone, a whole number of
	// microseconds strictly between -24h and +24h; of a TZPytz or
	// TZPytzStatic zone, the instance's utcoffset(), a whole number of
	// seconds in the same range.
	Offset time.Duration
	// DST is dst() of a TZPytz instance (a whole number of seconds strictly
	// between -24h and +24h; zero for standard time). Zero otherwise.
	DST time.Duration
	// Name is the explicit name of a TZFixed zone (timezone(offset, name));
	// empty when none was given. For TZPytz and TZPytzStatic, the
	// instance's tzname() ("CEST", "-05").
	Name string
	// Key is the IANA key of a TZZoneInfo, TZPytz or TZPytzStatic zone
	// ("Europe/Paris").
	Key string
}

// UTC is datetime.timezone.utc.
var UTC = &TZInfo{Kind: TZFixed}

// PytzUTC is pytz.utc.
var PytzUTC = &TZInfo{Kind: TZPytzUTC}

// FixedZone returns datetime.timezone(timedelta(offset)[, name]).
func FixedZone(offset time.Duration, name string) (*TZInfo, error) {
	if offset <= -24*time.Hour || offset >= 24*time.Hour || offset%time.Microsecond != 0 {
		return nil, fmt.Errorf("py: timezone offset %v out of range", offset)
	}
	return &TZInfo{Kind: TZFixed, Offset: offset, Name: name}, nil
}

// ZoneInfo returns zoneinfo.ZoneInfo(key). The key must name a zone the Go
// runtime can load (time.LoadLocation).
func ZoneInfo(key string) (*TZInfo, error) {
	if _, err := time.LoadLocation(key); err != nil || key == "" || key == "Local" {
		return nil, fmt.Errorf("py: unknown zoneinfo key %q", key)
	}
	return &TZInfo{Kind: TZZoneInfo, Key: key}, nil
}

// MaxPytzKey is the longest zone key PytzZone and PytzStaticZone accept
// (the longest IANA key, "America/Argentina/ComodRivadavia", has 32 bytes).
const MaxPytzKey = 64

// maxPytzName bounds a pytz tzname: zone abbreviations have 3 to 6
// characters ("CEST", "+0530").
const maxPytzName = 16

// ValidPytzKey reports whether key has the shape of a zone key pytz writes
// in its pickles: 1 to MaxPytzKey bytes of '/'-separated components, each
// non-empty, neither "." nor "..", made of ASCII letters, digits and
// "._+-"; not "Local", not "UTC" in any case (pytz pickles its UTC as
// pytz._UTC(), and pytz.timezone maps every spelling of "UTC" to it), and
// without the "_plus_"/"_minus_" that pytz rewrites to "+"/"-".
func ValidPytzKey(key string) bool {
	if len(key) == 0 || len(key) > MaxPytzKey || key == "Local" || strings.EqualFold(key, "UTC") ||
		strings.Contains(key, "_plus_") || strings.Contains(key, "_minus_") {
		return false
	}
	for _, part := range strings.Split(key, "/") {
		if part == "" || part == "." || part == ".." {
			return false
		}
		for i := 0; i < len(part); i++ {
			c := part[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '+' || c == '-') {
				return false
			}
		}
	}
	return true
}

// validPytzName reports whether name has the shape of a zone abbreviation:
// 1 to 16 ASCII letters, digits, '+' or '-'.
func validPytzName(name string) bool {
	if len(name) == 0 || len(name) > maxPytzName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-') {
			return false
		}
	}
	return true
}

// PytzZone returns the pytz DstTzInfo instance of zone key with the given
// utcoffset(), dst() and tzname(): what pytz._p(key, utcoffset seconds, dst
// seconds, tzname) unpickles to. The offsets must be whole seconds strictly
// between -24h and +24h, key must pass ValidPytzKey and tzname be 1 to 16
// ASCII letters, digits, '+' or '-'. The zone database is not consulted:
// the instance is defined by the four values, as in the pickle.
func PytzZone(key string, utcoffset, dst time.Duration, tzname string) (*TZInfo, error) {
	if !ValidPytzKey(key) {
		return nil, fmt.Errorf("py: invalid pytz zone key %q", clipKey(key))
	}
	for _, d := range [2]time.Duration{utcoffset, dst} {
		if d <= -24*time.Hour || d >= 24*time.Hour || d%time.Second != 0 {
			return nil, fmt.Errorf("py: pytz offset %v out of range", d)
		}
	}
	if !validPytzName(tzname) {
		return nil, fmt.Errorf("py: invalid pytz tzname %q", clipKey(tzname))
	}
	return &TZInfo{Kind: TZPytz, Key: key, Offset: utcoffset, DST: dst, Name: tzname}, nil
}

// PytzStaticZone returns the pytz StaticTzInfo of zone key: what
// pytz._p(key) unpickles to. The key must pass ValidPytzKey and name a
// zone the Go runtime loads (time.LoadLocation) with a single offset and no
// transitions ("Etc/GMT+5", "EST", "Etc/UTC"), as pytz builds a
// StaticTzInfo only for those; its offset and abbreviation become Offset
// and Name. (For any other zone pytz._p(key) would give the zone's first,
// local mean time, instance, which pytz never pickles that way.)
func PytzStaticZone(key string) (*TZInfo, error) {
	if !ValidPytzKey(key) {
		return nil, fmt.Errorf("py: invalid pytz zone key %q", clipKey(key))
	}
	loc, err := time.LoadLocation(key)
	if err != nil {
		return nil, fmt.Errorf("py: unknown pytz zone %q", key)
	}
	t := time.Unix(0, 0).In(loc)
	if start, end := t.ZoneBounds(); !start.IsZero() || !end.IsZero() {
		return nil, fmt.Errorf("py: pytz zone %q has transitions: not a StaticTzInfo", key)
	}
	name, off := t.Zone()
	d := time.Duration(off) * time.Second
	if d <= -24*time.Hour || d >= 24*time.Hour {
		return nil, fmt.Errorf("py: pytz zone %q: offset out of range", key)
	}
	return &TZInfo{Kind: TZPytzStatic, Key: key, Offset: d, Name: name}, nil
}

func clipKey(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// Location returns the Go *time.Location for the zone. For the pytz kinds
// it is the instance's fixed offset, named by its tzname: a datetime
// carrying a pytz instance has that offset whatever its date, as in Python
// (a pytz DstTzInfo instance does not follow the zone's transitions; pytz's
// normalize() would pick another instance).
func (tz *TZInfo) Location() *time.Location {
	switch tz.Kind {
	case TZPytzUTC:
		return time.UTC
	case TZZoneInfo:
		if loc, err := time.LoadLocation(tz.Key); err == nil {
			return loc
		}
		return time.UTC
	case TZPytz, TZPytzStatic:
		return time.FixedZone(tz.Name, int(tz.Offset/time.Second))
	}
	if tz.Offset == 0 && tz.Name == "" {
		return time.UTC
	}
	name := tz.Name
	if name == "" {
		name = formatOffset(tz.Offset, true)
	}
	return time.FixedZone(name, int(tz.Offset/time.Second))
}

// DateTime is a datetime.datetime. TZ is nil for a naive datetime.
type DateTime struct {
	Year, Month, Day     int
	Hour, Minute, Second int
	Microsecond          int
	Fold                 int // 0 or 1 (PEP 495)
	TZ                   *TZInfo
}

// Date is a datetime.date.
type Date struct{ Year, Month, Day int }

// Time is a datetime.time. TZ is nil for a naive time.
type Time struct {
	Hour, Minute, Second, Microsecond int
	Fold                              int
	TZ                                *TZInfo
}

// TimeDelta is a datetime.timedelta, normalized as Python keeps it:
// 0 <= Seconds < 86400, 0 <= Microseconds < 1e6, |Days| <= 999999999.
type TimeDelta struct{ Days, Seconds, Microseconds int64 }

var errDateRange = errors.New("py: date value out of range")

func daysIn(year, month int) int {
	switch month {
	case 2:
		if year%4 == 0 && (year%100 != 0 || year%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func (d Date) check() error {
	if d.Year < 1 || d.Year > 9999 || d.Month < 1 || d.Month > 12 || d.Day < 1 || d.Day > daysIn(d.Year, d.Month) {
		return errDateRange
	}
	return nil
}

func (t Time) check() error {
	if t.Hour < 0 || t.Hour > 23 || t.Minute < 0 || t.Minute > 59 || t.Second < 0 || t.Second > 59 ||
		t.Microsecond < 0 || t.Microsecond > 999999 || (t.Fold != 0 && t.Fold != 1) {
		return errors.New("py: time value out of range")
	}
	return nil
}

// NewDateTime returns a datetime value after Python's range checks.
func NewDateTime(dt DateTime) (Value, error) {
	if err := (Date{dt.Year, dt.Month, dt.Day}).check(); err != nil {
		return None, err
	}
	if err := (Time{dt.Hour, dt.Minute, dt.Second, dt.Microsecond, dt.Fold, nil}).check(); err != nil {
		return None, err
	}
	c := dt
	return Value{k: DateTimeKind, r: &c}, nil
}

// NewDate returns a date value.
func NewDate(d Date) (Value, error) {
	if err := d.check(); err != nil {
		return None, err
	}
	c := d
	return Value{k: DateKind, r: &c}, nil
}

// NewTime returns a time value.
func NewTime(t Time) (Value, error) {
	if err := t.check(); err != nil {
		return None, err
	}
	c := t
	return Value{k: TimeKind, r: &c}, nil
}

// NewTimeDelta returns a timedelta of days, seconds and microseconds,
// normalized as Python normalizes them.
func NewTimeDelta(days, seconds, microseconds int64) (Value, error) {
	// Normalize with floor division, as CPython does.
	s := seconds + floorDiv(microseconds, 1e6)
	us := floorMod(microseconds, 1e6)
	d := days + floorDiv(s, 86400)
	s = floorMod(s, 86400)
	if d < -999999999 || d > 999999999 {
		return None, errors.New("py: timedelta out of range")
	}
	return Value{k: TimeDeltaKind, r: &TimeDelta{Days: d, Seconds: s, Microseconds: us}}, nil
}

// FromDuration returns the timedelta equal to d (truncated to microseconds).
func FromDuration(d time.Duration) Value {
	v, _ := NewTimeDelta(0, 0, int64(d/time.Microsecond))
	return v
}

// Duration returns the timedelta as a time.Duration; ok is false when it does
// not fit.
func (td *TimeDelta) Duration() (time.Duration, bool) {
	const maxDays = int64((1<<63 - 1) / int64(24*time.Hour))
	if td.Days > maxDays-1 || td.Days < -maxDays+1 {
		return 0, false
	}
	return time.Duration(td.Days)*24*time.Hour + time.Duration(td.Seconds)*time.Second +
		time.Duration(td.Microseconds)*time.Microsecond, true
}

// TotalSeconds returns timedelta.total_seconds().
func (td *TimeDelta) TotalSeconds() float64 {
	return float64((td.Days*86400+td.Seconds)*1e6+td.Microseconds) / 1e6
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }

// DateTime returns the *DateTime of a datetime value (do not modify it).
func (v Value) DateTime() (*DateTime, bool) {
	d, ok := v.r.(*DateTime)
	return d, ok && v.k == DateTimeKind
}

// Date returns the *Date of a date value.
func (v Value) Date() (*Date, bool) {
	d, ok := v.r.(*Date)
	return d, ok && v.k == DateKind
}

// Time returns the *Time of a time value.
func (v Value) Time() (*Time, bool) {
	t, ok := v.r.(*Time)
	return t, ok && v.k == TimeKind
}

// TimeDelta returns the *TimeDelta of a timedelta value.
func (v Value) TimeDelta() (*TimeDelta, bool) {
	t, ok := v.r.(*TimeDelta)
	return t, ok && v.k == TimeDeltaKind
}

// FromTime returns a datetime for t. When aware is false the datetime is
// naive and holds t's wall clock; otherwise it carries tz (UTC when nil) and
// t converted into that zone. A pytz instance (TZPytz) converts at its own
// fixed offset, whatever offset its zone has at t: to carry the instance
// pytz would pick for t (pytz's fromutc/normalize), build that one with
// PytzZone, or use a zoneinfo zone.
func FromTime(t time.Time, aware bool, tz *TZInfo) Value {
	var z *TZInfo
	if aware {
		if tz == nil {
			tz = UTC
		}
		z = tz
		t = t.In(tz.Location())
	}
	v, _ := NewDateTime(DateTime{
		Year: t.Year(), Month: int(t.Month()), Day: t.Day(),
		Hour: t.Hour(), Minute: t.Minute(), Second: t.Second(),
		Microsecond: t.Nanosecond() / 1000, TZ: z,
	})
	return v
}

// GoTime returns the datetime as a time.Time. A naive datetime is placed in
// loc (time.UTC when nil), as Django interprets naive values in its
// TIME_ZONE; an aware one in its own zone.
func (dt *DateTime) GoTime(loc *time.Location) time.Time {
	if dt.TZ != nil {
		loc = dt.TZ.Location()
	} else if loc == nil {
		loc = time.UTC
	}
	wall := time.Date(dt.Year, time.Month(dt.Month), dt.Day, dt.Hour, dt.Minute, dt.Second, dt.Microsecond*1000, time.UTC)
	return wall.Add(-wallOffset(loc, wall, dt.Fold)).In(loc)
}

// wallOffset returns the UTC offset loc gives the wall-clock time wall (read
// in UTC), resolved as PEP 495 and zoneinfo do: where the wall time is
// ambiguous (clocks set back) or missing (clocks set forward), fold 0 takes
// the offset in force before the transition and fold 1 the one after.
// (time.Date leaves that choice unspecified.)
func wallOffset(loc *time.Location, wall time.Time, fold int) time.Duration {
	offsetAt := func(u time.Time) int {
		_, off := u.In(loc).Zone()
		return off
	}
	pre, post := offsetAt(wall.Add(-24*time.Hour)), offsetAt(wall.Add(24*time.Hour))
	if pre == post {
		// No transition within a day either side (or two that cancel out):
		// Go's reading is the only one.
		_, off := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), wall.Nanosecond(), loc).Zone()
		return time.Duration(off) * time.Second
	}
	validPre := offsetAt(wall.Add(-time.Duration(pre)*time.Second)) == pre
	validPost := offsetAt(wall.Add(-time.Duration(post)*time.Second)) == post
	var off int
	switch {
	case validPre && !validPost:
		off = pre
	case validPost && !validPre:
		off = post
	case fold == 0: // ambiguous or in the gap
		off = pre
	default:
		off = post
	}
	return time.Duration(off) * time.Second
}

// UTCOffset returns the offset of an aware datetime (utcoffset()); ok is
// false for a naive one.
func (dt *DateTime) UTCOffset() (off time.Duration, ok bool) {
	if dt.TZ == nil {
		return 0, false
	}
	switch dt.TZ.Kind {
	case TZFixed, TZPytz, TZPytzStatic:
		return dt.TZ.Offset, true
	case TZPytzUTC:
		return 0, true
	}
	// Not the zone of GoTime's instant: for a wall time in a gap that
	// instant lies on the other side of the transition.
	wall := time.Date(dt.Year, time.Month(dt.Month), dt.Day, dt.Hour, dt.Minute, dt.Second, dt.Microsecond*1000, time.UTC)
	return wallOffset(dt.TZ.Location(), wall, dt.Fold), true
}

// formatOffset writes an offset as Python's isoformat does: ±HH:MM, with
// :SS and .ffffff only when non-zero. utcName gives "UTC±HH:MM" (tzname()).
func formatOffset(off time.Duration, utcName bool) string {
	sign := "+"
	if off < 0 {
		sign = "-"
		off = -off
	}
	us := int64(off / time.Microsecond)
	h := us / 3600e6
	m := us / 60e6 % 60
	s := us / 1e6 % 60
	f := us % 1e6
	out := fmt.Sprintf("%s%02d:%02d", sign, h, m)
	if s != 0 || f != 0 {
		out += fmt.Sprintf(":%02d", s)
		if f != 0 {
			out += fmt.Sprintf(".%06d", f)
		}
	}
	if utcName {
		if us == 0 {
			return "UTC"
		}
		return "UTC" + out
	}
	return out
}

// IsoFormat returns datetime.isoformat(): microseconds only when non-zero,
// the offset only when aware.
func (dt *DateTime) IsoFormat() string {
	s := fmt.Sprintf("%04d-%02d-%02dT%s", dt.Year, dt.Month, dt.Day,
		(&Time{Hour: dt.Hour, Minute: dt.Minute, Second: dt.Second, Microsecond: dt.Microsecond}).clock())
	if off, ok := dt.UTCOffset(); ok {
		s += formatOffset(off, false)
	}
	return s
}

// IsoFormat returns date.isoformat().
func (d *Date) IsoFormat() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

func (t *Time) clock() string {
	s := fmt.Sprintf("%02d:%02d:%02d", t.Hour, t.Minute, t.Second)
	if t.Microsecond != 0 {
		s += fmt.Sprintf(".%06d", t.Microsecond)
	}
	return s
}

// IsoFormat returns time.isoformat(). A time with a zone whose offset
// depends on the date (zoneinfo) has no fixed offset; Python then omits it.
// So does a pytz DstTzInfo instance, whose utcoffset(None) is None.
func (t *Time) IsoFormat() string {
	s := t.clock()
	if t.TZ != nil {
		if off, ok := t.TZ.DatelessOffset(); ok {
			s += formatOffset(off, false)
		}
	}
	return s
}

// DatelessOffset is tzinfo.utcoffset(None), what a datetime.time with this
// tzinfo reports: the offset of a fixed zone (timezone, pytz.utc, a pytz
// StaticTzInfo, or a zoneinfo zone without any transition, such as "UTC"
// or "Etc/GMT+5"), and false for a zone whose offset depends on the date
// (zoneinfo with transitions; a pytz DstTzInfo instance returns None too).
// Python treats a time whose tzinfo gives None as naive (see Aware).
func (tz *TZInfo) DatelessOffset() (time.Duration, bool) {
	switch tz.Kind {
	case TZFixed, TZPytzStatic:
		return tz.Offset, true
	case TZPytzUTC:
		return 0, true
	case TZZoneInfo:
		loc, err := time.LoadLocation(tz.Key)
		if err != nil {
			return 0, false
		}
		t := time.Unix(0, 0).In(loc)
		if start, end := t.ZoneBounds(); !start.IsZero() || !end.IsZero() {
			return 0, false
		}
		_, off := t.Zone()
		return time.Duration(off) * time.Second, true
	}
	return 0, false
}

// Aware reports whether a datetime.time with this tzinfo is aware in
// Python's sense (utcoffset() is not None): whether DatelessOffset has one.
func (tz *TZInfo) Aware() bool {
	_, ok := tz.DatelessOffset()
	return ok
}
