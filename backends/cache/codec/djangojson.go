package codec

import (
	"fmt"
	"strconv"
	"unicode/utf8"

	"github.com/djsession/djsession/pickle/py"
)

// JSONSerializer is django-redis's JSONSerializer (spec §7.3):
// json.dumps(v, cls=DjangoJSONEncoder).encode() and json.loads(b.decode()).
//
// Dumps writes Python's default separators (", " between items, ": " after
// keys), ASCII only (ensure_ascii), dicts in insertion order, tuples as
// arrays, floats as repr with NaN/Infinity tokens, dict keys str, int,
// float, bool or None as Python converts them. DjangoJSONEncoder adds:
// datetime → isoformat() with microseconds cut to milliseconds and "+00:00"
// written "Z"; date → isoformat(); time → isoformat() cut to milliseconds
// (an aware time is ErrUnsupported: "JSON can't represent timezone-aware
// times"); timedelta → ISO 8601 duration (Django's duration_iso_string);
// Decimal and UUID → str(). Anything else (set, bytes, ...) is
// ErrUnsupported (TypeError).
//
// Loads decodes the bytes as strict UTF-8 and then reads plain JSON
// (dict, list, str, int, float, bool, None): a datetime written by Dumps
// reads back as its string, as in Python.
type JSONSerializer struct{}

// Name returns "json".
func (JSONSerializer) Name() string { return "json" }

// Dumps returns json.dumps(v, cls=DjangoJSONEncoder) as UTF-8 (ASCII) bytes.
func (JSONSerializer) Dumps(v py.Value) ([]byte, error) {
	return appendDjangoJSON(make([]byte, 0, 128), v, 0)
}

// Loads returns json.loads(data.decode()).
func (JSONSerializer) Loads(data []byte) (py.Value, error) {
	if !utf8.Valid(data) {
		return py.None, fmt.Errorf("%w: json: 'utf-8' codec can't decode the value", ErrMalformed)
	}
	text, err := asciiJSON(data)
	if err != nil {
		return py.None, err
	}
	v, err := py.DecodeJSON(text)
	if err != nil {
		return py.None, fmt.Errorf("%w: json: %w", ErrMalformed, err)
	}
	return v, nil
}

// asciiJSON rewrites every non-ASCII code point of UTF-8 JSON text as a \u
// escape (a surrogate pair past U+FFFF), so that py.DecodeJSON, which reads
// bytes as Latin-1 the way Django's signing does, reads what Python's
// json.loads reads from the decoded str: inside a string the escape is the
// same code point; outside one, both are errors. A non-ASCII code point
// right after an unescaped backslash is an invalid escape to Python and is
// rejected here, since its rewrite would read as an escaped backslash.
func asciiJSON(data []byte) ([]byte, error) {
	first := -1
	for i, c := range data {
		if c >= 0x80 {
			first = i
			break
		}
	}
	if first < 0 {
		return data, nil
	}
	out := make([]byte, first, len(data)+len(data)/2)
	copy(out, data[:first])
	backslashes := 0
	for i := first - 1; i >= 0 && data[i] == '\\'; i-- {
		backslashes++
	}
	for i := first; i < len(data); {
		c := data[i]
		if c < 0x80 {
			out = append(out, c)
			if c == '\\' {
				backslashes++
			} else {
				backslashes = 0
			}
			i++
			continue
		}
		if backslashes%2 == 1 {
			return nil, fmt.Errorf("%w: json: invalid \\escape", ErrMalformed)
		}
		backslashes = 0
		r, n := utf8.DecodeRune(data[i:])
		i += n
		if r > 0xffff {
			r -= 0x10000
			out = appendU(out, 0xd800+(r>>10))
			out = appendU(out, 0xdc00+(r&0x3ff))
		} else {
			out = appendU(out, r)
		}
	}
	return out, nil
}

func appendU(b []byte, r rune) []byte {
	const hex = "0123456789abcdef"
	return append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
}

// appendJSONScalar writes a str, int, float, bool or None as Python's json
// does (py.AppendJSON has the same rules for scalars; only containers differ
// by separators).
func appendJSONScalar(dst []byte, v py.Value) ([]byte, error) {
	out, err := py.AppendJSON(dst, v)
	if err != nil {
		return dst, fmt.Errorf("%w: json: %w", ErrUnsupported, err)
	}
	return out, nil
}

func appendDjangoJSON(dst []byte, v py.Value, depth int) ([]byte, error) {
	if depth > py.MaxJSONDepth {
		return dst, fmt.Errorf("%w: json: nesting too deep (or circular reference)", ErrUnsupported)
	}
	switch v.Kind() {
	case py.NoneKind, py.BoolKind, py.IntKind, py.FloatKind, py.StrKind:
		return appendJSONScalar(dst, v)
	case py.ListKind, py.TupleKind:
		dst = append(dst, '[')
		for i, it := range v.Items() {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			var err error
			if dst, err = appendDjangoJSON(dst, it, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case py.DictKind:
		d, _ := v.Dict()
		dst = append(dst, '{')
		for i, e := range d.Entries() {
			if i > 0 {
				dst = append(dst, ", "...)
			}
			var err error
			if dst, err = appendJSONKey(dst, e.Key); err != nil {
				return dst, err
			}
			dst = append(dst, ": "...)
			if dst, err = appendDjangoJSON(dst, e.Value, depth+1); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	s, err := djangoJSONDefault(v)
	if err != nil {
		return dst, err
	}
	return appendJSONScalar(dst, py.Str(s))
}

// appendJSONKey writes a dict key as json.dumps converts it: str as is;
// True/False/None as "true"/"false"/"null"; int as its decimal text; float
// as its repr (NaN, Infinity); anything else is TypeError.
func appendJSONKey(dst []byte, k py.Value) ([]byte, error) {
	switch k.Kind() {
	case py.StrKind:
		return appendJSONScalar(dst, k)
	case py.BoolKind, py.NoneKind, py.IntKind, py.FloatKind:
		text, err := appendJSONScalar(nil, k)
		if err != nil {
			return dst, err
		}
		dst = append(dst, '"')
		dst = append(dst, text...)
		return append(dst, '"'), nil
	}
	return dst, fmt.Errorf("%w: json: keys must be str, int, float, bool or None, not %s", ErrUnsupported, k.TypeName())
}

// djangoJSONDefault is DjangoJSONEncoder.default (django/core/serializers/json.py).
func djangoJSONDefault(v py.Value) (string, error) {
	switch v.Kind() {
	case py.DateTimeKind:
		dt, _ := v.DateTime()
		r := dt.IsoFormat()
		if dt.Microsecond != 0 {
			r = r[:23] + r[26:]
		}
		if len(r) >= 6 && r[len(r)-6:] == "+00:00" {
			r = r[:len(r)-6] + "Z"
		}
		return r, nil
	case py.DateKind:
		d, _ := v.Date()
		return d.IsoFormat(), nil
	case py.TimeKind:
		t, _ := v.Time()
		if t.TZ != nil && t.TZ.Aware() {
			// utcoffset() is not None: a fixed offset, pytz.utc, a static
			// pytz zone or a zoneinfo zone without transitions. (Any other
			// zoneinfo zone, and a pytz DstTzInfo, has no offset without a
			// date, so Python sees the time as naive.)
			return "", fmt.Errorf("%w: JSON can't represent timezone-aware times", ErrUnsupported)
		}
		r := t.IsoFormat()
		if t.Microsecond != 0 {
			r = r[:12]
		}
		return r, nil
	case py.TimeDeltaKind:
		td, _ := v.TimeDelta()
		return durationISOString(td), nil
	case py.DecimalKind:
		s, _ := v.Decimal()
		return s, nil
	case py.UUIDKind:
		u, _ := v.UUID()
		return formatUUID(u), nil
	}
	return "", fmt.Errorf("%w: json: Object of type %s is not JSON serializable", ErrUnsupported, v.TypeName())
}

// durationISOString is django.utils.duration.duration_iso_string:
// "[-]P<days>DT<HH>H<MM>M<SS>[.ffffff]S" of the absolute value.
func durationISOString(td *py.TimeDelta) string {
	days, secs, us := td.Days, td.Seconds, td.Microseconds
	sign := ""
	if days < 0 {
		// Negate as timedelta * -1 does, then renormalize.
		sign = "-"
		days, secs, us = -days, -secs, -us
		if us < 0 {
			us += 1e6
			secs--
		}
		if secs < 0 {
			secs += 86400
			days--
		}
	}
	minutes, s := secs/60, secs%60
	h, m := minutes/60, minutes%60
	b := make([]byte, 0, 32)
	b = append(b, sign...)
	b = append(b, 'P')
	b = strconv.AppendInt(b, days, 10)
	b = append(b, "DT"...)
	b = appendPad2(b, h)
	b = append(b, 'H')
	b = appendPad2(b, m)
	b = append(b, 'M')
	b = appendPad2(b, s)
	if us != 0 {
		b = append(b, fmt.Sprintf(".%06d", us)...)
	}
	return string(append(b, 'S'))
}

func appendPad2(b []byte, n int64) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, n, 10)
}

func formatUUID(u [16]byte) string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&0xf])
	}
	return string(b)
}
