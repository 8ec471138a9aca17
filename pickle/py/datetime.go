package py

import (
	"errors"
	"fmt"
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
)

// TZInfo is a tzinfo. Build it with UTC, FixedZone, PytzUTC or ZoneInfo.
type TZInfo struct {
	Kind TZKind
	// Offset is the UTC offset of a TZFixed zone, a whole number of
	// microseconds strictly between -24h and +24h.
	Offset time.Duration
	// Name is the explicit name of a TZFixed zone (timezone(offset, name));
	// empty when none was given.
	Name string
	// Key is the IANA key of a TZZoneInfo zone ("Europe/Paris").
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

// Location returns the Go *time.Location for the zone.
func (tz *TZInfo) Location() *time.Location {
	switch tz.Kind {
	case TZPytzUTC:
		return time.UTC
	case TZZoneInfo:
		if loc, err := time.LoadLocation(tz.Key); err == nil {
			return loc
		}
		return time.UTC
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
// t converted into that zone.
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
	if dt.TZ.Kind == TZFixed {
		return dt.TZ.Offset, true
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
func (t *Time) IsoFormat() string {
	s := t.clock()
	if t.TZ != nil {
		switch t.TZ.Kind {
		case TZFixed:
			s += formatOffset(t.TZ.Offset, false)
		case TZPytzUTC:
			s += "+00:00"
		}
	}
	return s
}
