package django

import (
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/djsession/djsession/pickle/py"
)

// ExpiryAge is Django's get_expiry_age(modification=, expiry=) (spec §3.4):
// the session's remaining life in whole seconds at modification, given the
// stored _session_expiry value (None when absent).
//
//   - a falsy expiry (absent, None, 0, "") gives SESSION_COOKIE_AGE;
//   - an int (or bool, or float, truncated) is returned as it is;
//   - an ISO-8601 string (Django 4.1+) or a datetime (pickled sessions of
//     Django ≤4.0) gives the seconds from modification to it, floored, and
//     negative once past. Naive datetimes are read in settings.Location().
//
// Django raises on an expiry string fromisoformat cannot parse; here such a
// session is treated as already expired (age 0).
func ExpiryAge(s *Settings, modification time.Time, expiry py.Value) int {
	if !expiry.Truthy() {
		return s.cookieAge()
	}
	if t, ok, err := expiryTime(s, expiry); ok {
		if err != nil {
			return 0
		}
		return secondsBetween(modification, t)
	}
	return expiryInt(s, expiry)
}

// ExpiryDate is Django's get_expiry_date(modification=, expiry=): the time
// the session expires, given the stored _session_expiry value.
func ExpiryDate(s *Settings, modification time.Time, expiry py.Value) time.Time {
	if expiry.Truthy() {
		if t, ok, err := expiryTime(s, expiry); ok {
			if err != nil {
				return modification
			}
			return t
		}
		return modification.Add(time.Duration(expiryInt(s, expiry)) * time.Second)
	}
	return modification.Add(time.Duration(s.cookieAge()) * time.Second)
}

// ExpireAtBrowserClose is Django's get_expire_at_browser_close(): with no
// _session_expiry, SESSION_EXPIRE_AT_BROWSER_CLOSE; otherwise whether the
// stored value is 0.
func ExpireAtBrowserClose(s *Settings, expiry py.Value) bool {
	if expiry.IsNone() {
		return s.SessionExpireAtBrowserClose
	}
	if i, ok := expiry.Int(); ok {
		return i == 0
	}
	if b, ok := expiry.Bool(); ok {
		return !b
	}
	if f, ok := expiry.Float(); ok {
		return f == 0
	}
	return false
}

func (s *Settings) cookieAge() int {
	if s.SessionCookieAge == 0 {
		return DefaultSessionCookieAge
	}
	return s.SessionCookieAge
}

// expiryTime reads a datetime or ISO string expiry. ok reports whether the
// value is of such a kind.
func expiryTime(s *Settings, v py.Value) (t time.Time, ok bool, err error) {
	if dt, isDT := v.DateTime(); isDT {
		return dt.GoTime(s.Location()), true, nil
	}
	if str, isStr := v.Str(); isStr {
		t, err := ParseISODateTime(str, s.Location())
		return t, true, err
	}
	return time.Time{}, false, nil
}

func expiryInt(s *Settings, v py.Value) int {
	if i, ok := v.Int(); ok {
		return clampInt(i)
	}
	if b, ok := v.Bool(); ok && b {
		return 1
	}
	if f, ok := v.Float(); ok && !math.IsNaN(f) {
		if f > math.MaxInt32 {
			return math.MaxInt32
		}
		if f < math.MinInt32 {
			return math.MinInt32
		}
		return int(f)
	}
	if b, ok := v.BigInt(); ok {
		if b.Sign() > 0 {
			return math.MaxInt32
		}
		return math.MinInt32
	}
	// Django would fail on other types; the global age is the safe reading.
	return s.cookieAge()
}

// clampInt keeps an expiry in a range where adding it to a time cannot
// overflow (about ±68 years).
func clampInt(i int64) int {
	if i > math.MaxInt32 {
		return math.MaxInt32
	}
	if i < math.MinInt32 {
		return math.MinInt32
	}
	return int(i)
}

// secondsBetween returns floor((to - from) in seconds) at microsecond
// precision, as Python's delta.days*86400 + delta.seconds.
func secondsBetween(from, to time.Time) int {
	fs, fu := from.Unix(), int64(from.Nanosecond()/1000)
	ts, tu := to.Unix(), int64(to.Nanosecond()/1000)
	d := ts - fs
	if tu < fu {
		d--
	}
	if d > math.MaxInt32 {
		return math.MaxInt32
	}
	if d < math.MinInt32 {
		return math.MinInt32
	}
	return int(d)
}

// GetExpiryAge returns get_expiry_age() for this session now.
func (s *Session) GetExpiryAge() int {
	v, _ := s.Get(ExpiryKey)
	return ExpiryAge(s.settings, s.settings.Now(), v)
}

// GetExpiryDate returns get_expiry_date() for this session now.
func (s *Session) GetExpiryDate() time.Time {
	v, _ := s.Get(ExpiryKey)
	return ExpiryDate(s.settings, s.settings.Now(), v)
}

// GetExpireAtBrowserClose returns get_expire_at_browser_close().
func (s *Session) GetExpireAtBrowserClose() bool {
	v, _ := s.Get(ExpiryKey)
	return ExpireAtBrowserClose(s.settings, v)
}

// SetExpirySeconds is set_expiry(n): the session expires after n seconds
// of inactivity; 0 means when the browser closes.
func (s *Session) SetExpirySeconds(n int) { s.Set(ExpiryKey, py.Int(int64(n))) }

// SetExpiryIn is set_expiry(timedelta): the session expires d from now,
// stored as SetExpiryAt stores it.
func (s *Session) SetExpiryIn(d time.Duration) { s.SetExpiryAt(s.settings.Now().Add(d)) }

// SetExpiryAt is set_expiry(datetime): the session expires at t (aware
// UTC with USE_TZ, naive local time otherwise, to the microsecond).
//
// With the JSON serializer it is stored as t.isoformat(), as Django 4.1+
// stores it; Django ≤ 4.0 cannot read that (nor store any datetime in a
// JSON session: its set_expiry(datetime) fails at save), so for sessions
// such a Django must read, use SetExpirySeconds. With PickleSerializer it
// is stored as the datetime itself, as Django ≤ 4.0 stores it, which every
// Django version reads (4.1–4.2 store the string, and read both).
func (s *Session) SetExpiryAt(t time.Time) {
	t = t.Truncate(time.Microsecond)
	var v py.Value
	if s.settings.UseTZ {
		v = py.FromTime(t.UTC(), true, py.UTC)
	} else {
		v = py.FromTime(t.In(s.settings.Location()), false, nil)
	}
	switch s.settings.SessionSerializer.(type) {
	case PickleSerializer, *PickleSerializer:
		s.Set(ExpiryKey, v)
		return
	}
	dt, _ := v.DateTime()
	s.Set(ExpiryKey, py.Str(dt.IsoFormat()))
}

// ClearExpiry is set_expiry(None): the global policy applies again.
func (s *Session) ClearExpiry() { s.Delete(ExpiryKey) }

var errISO = errors.New("django: invalid isoformat string")

// ParseISODateTime parses what Python's datetime.fromisoformat accepts in
// the forms Django writes and common variants: YYYY-MM-DD, optionally
// followed by one separator character and HH[:MM[:SS[.f…]]], optionally
// followed by Z or ±HH[:MM[:SS[.ffffff]]] (also ±HHMM). A value without an
// offset is naive and placed in loc.
func ParseISODateTime(s string, loc *time.Location) (time.Time, error) {
	p := isoParser{s: s}
	year, month, day := p.num(4), -1, -1
	if !p.lit('-') {
		return time.Time{}, errISO
	}
	month = p.num(2)
	if !p.lit('-') {
		return time.Time{}, errISO
	}
	day = p.num(2)
	if p.err || year < 1 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) {
		return time.Time{}, errISO
	}
	var hour, min, sec, usec int
	zone := loc
	if p.i < len(s) {
		p.i++ // any single separator character, as Python allows
		hour = p.num(2)
		if p.lit(':') {
			min = p.num(2)
			if p.lit(':') {
				sec = p.num(2)
				if p.lit('.') || p.lit(',') {
					usec = p.frac()
				}
			}
		}
		if p.err || hour > 23 || min > 59 || sec > 59 {
			return time.Time{}, errISO
		}
		if p.i < len(s) {
			z, ok := p.offset()
			if !ok {
				return time.Time{}, errISO
			}
			zone = z
		}
	}
	if p.err || p.i != len(s) {
		return time.Time{}, errISO
	}
	if zone == nil {
		zone = time.UTC
	}
	return time.Date(year, time.Month(month), day, hour, min, sec, usec*1000, zone), nil
}

type isoParser struct {
	s   string
	i   int
	err bool
}

func (p *isoParser) num(n int) int {
	if p.i+n > len(p.s) {
		p.err = true
		return 0
	}
	v := 0
	for _, c := range []byte(p.s[p.i : p.i+n]) {
		if c < '0' || c > '9' {
			p.err = true
			return 0
		}
		v = v*10 + int(c-'0')
	}
	p.i += n
	return v
}

func (p *isoParser) lit(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// frac reads fractional seconds of any length, keeping microseconds.
func (p *isoParser) frac() int {
	start := p.i
	for p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' {
		p.i++
	}
	digits := p.s[start:p.i]
	if digits == "" {
		p.err = true
		return 0
	}
	if len(digits) > 6 {
		digits = digits[:6]
	}
	for len(digits) < 6 {
		digits += "0"
	}
	v, _ := strconv.Atoi(digits)
	return v
}

func (p *isoParser) offset() (*time.Location, bool) {
	if p.lit('Z') {
		return time.UTC, true
	}
	sign := 1
	switch {
	case p.lit('+'):
	case p.lit('-'):
		sign = -1
	default:
		return nil, false
	}
	h := p.num(2)
	var m, sec, us int
	if p.lit(':') {
		m = p.num(2)
		if p.lit(':') {
			sec = p.num(2)
			if p.lit('.') {
				us = p.frac()
			}
		}
	} else if p.i < len(p.s) {
		m = p.num(2)
	}
	if p.err || h > 23 || m > 59 || sec > 59 {
		return nil, false
	}
	off := sign * (h*3600 + m*60 + sec)
	_ = us // sub-second offsets are dropped: Go zones have whole seconds
	if off == 0 {
		return time.UTC, true
	}
	return time.FixedZone("", off), true
}

func daysInMonth(year, month int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}
