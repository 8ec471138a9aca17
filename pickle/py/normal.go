package py

import (
	"bytes"
	"encoding/base64"
	"math"
	"sort"
	"strconv"
)

// NormalJSON returns v in the project's JSON normal form
// (DESIGN.md, testdata/vectors/README.md "Normal form"): the JSON the CLI
// prints and the test vectors' expected values use for Python data.
//
//   - None, bool, str, list and dict as in JSON; ints exact whatever their
//     size; floats as Python's json writes them (repr; NaN, Infinity,
//     -Infinity bare); OrderedDict as an object;
//   - datetime, date, time: isoformat() ("2024-02-29T13:45:30.123456+00:00",
//     naive without offset);
//   - timedelta (the README names no rule): str(timedelta), e.g.
//     "1 day, 2:03:04.000005", "-1 day, 23:59:59", "0:00:00";
//   - Decimal: str() ("1.50", "1E+3", "NaN"); UUID: str() (8-4-4-4-12);
//   - tuple: array; set and frozenset: array sorted by the JSON text of the
//     normal-formed members, that text being what Python's json.dumps writes
//     by default (ASCII-only; separators do not change the order);
//   - bytes and bytearray: standard base64 with padding;
//   - dict keys: Python's str() of the key — the str itself, "1" for 1,
//     "1.5", "True", "None", "(1, 2)" for a tuple, "2024-02-29 13:45:30+00:00"
//     for a datetime (str uses a space), the str() text of a Decimal or UUID.
//     Two keys with the same str() both appear (JSON readers keep the last).
//
// The output is compact (no whitespace) UTF-8: it equals Python's
// json.dumps(normal(v), ensure_ascii=False, separators=(",", ":")) except
// that lone surrogates are written \udxxx (so the output stays valid UTF-8)
// and bytes that are not UTF-8 become U+FFFD. Nesting past MaxJSONDepth
// fails with ErrTooDeep.
func NormalJSON(v Value) ([]byte, error) {
	return AppendNormalJSON(make([]byte, 0, jsonSizeHint(v)), v)
}

// AppendNormalJSON appends NormalJSON(v) to dst.
func AppendNormalJSON(dst []byte, v Value) ([]byte, error) {
	out, err := appendNormal(dst, v, 0, false)
	if err != nil {
		return dst, err
	}
	return out, nil
}

func appendNormal(b []byte, v Value, depth int, ascii bool) ([]byte, error) {
	str := appendJSONStringUTF8
	if ascii {
		str = appendJSONString
	}
	switch v.k {
	case NoneKind, BoolKind:
		return appendJSON(b, v, depth)
	case IntKind:
		return appendInt(b, v), nil // exact, even past CPython's 4300-digit limit
	case FloatKind:
		return appendJSONFloat(b, math.Float64frombits(v.n)), nil
	case StrKind:
		return str(b, v.s), nil
	case BytesKind, ByteArrayKind:
		raw, _ := v.Bytes()
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, raw)
		return append(b, '"'), nil
	case DateTimeKind:
		return str(b, v.r.(*DateTime).IsoFormat()), nil
	case DateKind, TimeKind, TimeDeltaKind, DecimalKind, UUIDKind:
		return str(b, pyStr(v)), nil // isoformat() for date and time
	}
	if depth >= MaxJSONDepth {
		return b, tooDeep()
	}
	var err error
	switch v.k {
	case ListKind, TupleKind:
		b = append(b, '[')
		for i, it := range v.Items() {
			if i > 0 {
				b = append(b, ',')
			}
			if b, err = appendNormal(b, it, depth+1, ascii); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case SetKind, FrozenSetKind:
		items := v.Items()
		texts := make([][]byte, len(items))
		order := make([]int, len(items))
		for i, it := range items {
			if texts[i], err = appendNormal(nil, it, depth+1, true); err != nil {
				return b, err
			}
			order[i] = i
		}
		sort.SliceStable(order, func(x, y int) bool {
			return bytes.Compare(texts[order[x]], texts[order[y]]) < 0
		})
		b = append(b, '[')
		for i, j := range order {
			if i > 0 {
				b = append(b, ',')
			}
			if ascii {
				b = append(b, texts[j]...)
			} else if b, err = appendNormal(b, items[j], depth+1, false); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	case DictKind:
		b = append(b, '{')
		for i, e := range v.r.(*Dict).entries {
			if i > 0 {
				b = append(b, ',')
			}
			b = str(b, pyStr(e.Key))
			b = append(b, ':')
			if b, err = appendNormal(b, e.Value, depth+1, ascii); err != nil {
				return b, err
			}
		}
		return append(b, '}'), nil
	}
	return b, notSerializable(v)
}

// pyStr returns Python's str() of v.
func pyStr(v Value) string {
	switch v.k {
	case StrKind, DecimalKind:
		return v.s
	case DateTimeKind:
		s := []byte(v.r.(*DateTime).IsoFormat())
		s[10] = ' ' // str(datetime) is isoformat(sep=" ")
		return string(s)
	case DateKind:
		return v.r.(*Date).IsoFormat()
	case TimeKind:
		return v.r.(*Time).IsoFormat()
	case TimeDeltaKind:
		return timeDeltaStr(v.r.(*TimeDelta))
	case UUIDKind:
		return string(appendUUID(nil, v.s))
	}
	return v.Repr()
}

// timeDeltaStr returns str(timedelta): "[D day[s], ]H:MM:SS[.ffffff]".
func timeDeltaStr(td *TimeDelta) string {
	var b []byte
	if td.Days != 0 {
		b = strconv.AppendInt(b, td.Days, 10)
		b = append(b, " day"...)
		if td.Days != 1 && td.Days != -1 {
			b = append(b, 's')
		}
		b = append(b, ", "...)
	}
	h, m, sec := td.Seconds/3600, td.Seconds/60%60, td.Seconds%60
	b = strconv.AppendInt(b, h, 10)
	b = append(b, ':', byte('0'+m/10), byte('0'+m%10), ':', byte('0'+sec/10), byte('0'+sec%10))
	if td.Microseconds != 0 {
		b = append(b, '.')
		us := strconv.AppendInt(nil, td.Microseconds+1e6, 10)
		b = append(b, us[1:]...)
	}
	return string(b)
}
