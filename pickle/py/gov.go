package py

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"time"
)

// ErrNotConvertible is returned by FromGo for a Go value it has no Python
// counterpart for.
var ErrNotConvertible = errors.New("py: no Python value for Go type")

// KeyValue is one entry of a dict that GoValue could not turn into a
// map[string]any because not all of its keys are str.
type KeyValue struct {
	Key, Value any
}

// GoValue returns v as plain Go values, for callers that do not want the
// model (templates, JSON encoders, type switches):
//
//	None                  nil
//	bool                  bool
//	int                   int64, or *big.Int when it does not fit
//	float                 float64
//	str                   string (lone surrogates stay WTF-8)
//	bytes, bytearray      []byte (a copy)
//	list, tuple           []any
//	set, frozenset        []any (insertion order)
//	dict, OrderedDict     map[string]any when every key is a str; otherwise
//	                      []KeyValue in insertion order (keys as GoValue)
//	datetime              time.Time: an aware one in its zone (a fixed
//	                      timezone and a pytz instance as time.FixedZone,
//	                      zoneinfo keys via time.LoadLocation); a naive one
//	                      read as UTC
//	date                  time.Time at 00:00 UTC
//	time                  time.Time on 0000-01-01 (UTC, or its fixed offset
//	                      when it has one), as database/sql drivers give TIME
//	timedelta             time.Duration, or the TimeDelta struct when it does
//	                      not fit (beyond about 292 years)
//	Decimal               string: its str() text (what Django's
//	                      DjangoJSONEncoder writes)
//	UUID                  string: str(uuid), 8-4-4-4-12 lower-case hex
//
// An OrderedDict's order is lost in the map. Past maxWalkDepth nested
// containers (or in a cycle) the deeper values become nil.
func (v Value) GoValue() any { return goValue(v, 0) }

func goValue(v Value, depth int) any {
	switch v.k {
	case NoneKind:
		return nil
	case BoolKind:
		return v.n == 1
	case IntKind:
		if b, ok := v.r.(*big.Int); ok {
			return new(big.Int).Set(b)
		}
		return int64(v.n)
	case FloatKind:
		return math.Float64frombits(v.n)
	case StrKind:
		return v.s
	case BytesKind:
		return []byte(v.s)
	case ByteArrayKind:
		return append([]byte{}, v.r.(*ByteArray).B...)
	case DateTimeKind:
		return v.r.(*DateTime).GoTime(nil)
	case DateKind:
		d := v.r.(*Date)
		return time.Date(d.Year, time.Month(d.Month), d.Day, 0, 0, 0, 0, time.UTC)
	case TimeKind:
		t := v.r.(*Time)
		loc := time.UTC
		if t.TZ != nil && (t.TZ.Kind == TZFixed || t.TZ.Kind == TZPytzStatic) {
			loc = t.TZ.Location()
		}
		return time.Date(0, 1, 1, t.Hour, t.Minute, t.Second, t.Microsecond*1000, loc)
	case TimeDeltaKind:
		td := v.r.(*TimeDelta)
		if d, ok := td.Duration(); ok {
			return d
		}
		return *td
	case DecimalKind:
		return v.s
	case UUIDKind:
		return string(appendUUID(nil, v.s))
	}
	if depth >= maxWalkDepth {
		return nil
	}
	depth++
	switch v.k {
	case ListKind, TupleKind, SetKind, FrozenSetKind:
		items := v.Items()
		out := make([]any, len(items))
		for i, it := range items {
			out[i] = goValue(it, depth)
		}
		return out
	case DictKind:
		ents := v.r.(*Dict).entries
		allStr := true
		for _, e := range ents {
			if e.Key.k != StrKind {
				allStr = false
				break
			}
		}
		if allStr {
			m := make(map[string]any, len(ents))
			for _, e := range ents {
				m[e.Key.s] = goValue(e.Value, depth)
			}
			return m
		}
		out := make([]KeyValue, len(ents))
		for i, e := range ents {
			out[i] = KeyValue{goValue(e.Key, depth), goValue(e.Value, depth)}
		}
		return out
	}
	return nil
}

// FromGo returns the Python value for a plain Go value:
//
//	nil                              None
//	bool                             bool
//	int, int8..int64, uint..uint64,
//	uintptr, *big.Int                int (a nil *big.Int is an error)
//	float32, float64                 float
//	string                           str (kept as given; it should be UTF-8)
//	[]byte                           bytes (a copy)
//	[]any, []string, []Value         list
//	map[string]any, map[string]string,
//	map[string]Value                 dict, keys in sorted order (Go maps have
//	                                 no order; sorting makes the result, and
//	                                 its JSON, deterministic)
//	[]KeyValue                       dict in the given order (keys must be
//	                                 hashable)
//	time.Time                        aware datetime, truncated to the
//	                                 microsecond, with datetime.timezone.utc
//	                                 when its offset is zero and an unnamed
//	                                 fixed-offset timezone otherwise
//	time.Duration                    timedelta (truncated to the microsecond)
//	TimeDelta, DateTime, Date, Time  the same Python value
//	Value, *Dict                     as is (a nil *Dict is an empty dict)
//
// Other types fail with ErrNotConvertible, as do out-of-range dates (years
// outside 1..9999) and nesting past maxWalkDepth (ErrTooDeep).
func FromGo(x any) (Value, error) { return fromGo(x, 0) }

func fromGo(x any, depth int) (Value, error) {
	switch t := x.(type) {
	case nil:
		return None, nil
	case Value:
		return t, nil
	case *Dict:
		return DictOf(t), nil
	case bool:
		return Bool(t), nil
	case int:
		return Int(int64(t)), nil
	case int8:
		return Int(int64(t)), nil
	case int16:
		return Int(int64(t)), nil
	case int32:
		return Int(int64(t)), nil
	case int64:
		return Int(t), nil
	case uint:
		return fromUint(uint64(t)), nil
	case uint8:
		return Int(int64(t)), nil
	case uint16:
		return Int(int64(t)), nil
	case uint32:
		return Int(int64(t)), nil
	case uint64:
		return fromUint(t), nil
	case uintptr:
		return fromUint(uint64(t)), nil
	case *big.Int:
		if t == nil {
			return None, fmt.Errorf("%w: nil *big.Int", ErrNotConvertible)
		}
		return BigInt(t), nil
	case float32:
		return Float(float64(t)), nil
	case float64:
		return Float(t), nil
	case string:
		return Str(t), nil
	case []byte:
		return Bytes(t), nil
	case time.Time:
		return fromGoTime(t)
	case time.Duration:
		return FromDuration(t), nil
	case TimeDelta:
		return NewTimeDelta(t.Days, t.Seconds, t.Microseconds)
	case DateTime:
		return NewDateTime(t)
	case Date:
		return NewDate(t)
	case Time:
		return NewTime(t)
	case []string:
		items := make([]Value, len(t))
		for i, s := range t {
			items[i] = Str(s)
		}
		return NewList(items...), nil
	case map[string]string:
		d := NewDict(len(t))
		for _, k := range sortedKeys(t) {
			d.SetStr(k, Str(t[k]))
		}
		return DictOf(d), nil
	}
	if depth >= maxWalkDepth {
		return None, tooDeep()
	}
	depth++
	switch t := x.(type) {
	case []any:
		items := make([]Value, len(t))
		for i, it := range t {
			v, err := fromGo(it, depth)
			if err != nil {
				return None, err
			}
			items[i] = v
		}
		return NewList(items...), nil
	case []Value:
		return NewList(append([]Value(nil), t...)...), nil
	case map[string]any:
		d := NewDict(len(t))
		for _, k := range sortedKeys(t) {
			v, err := fromGo(t[k], depth)
			if err != nil {
				return None, err
			}
			d.SetStr(k, v)
		}
		return DictOf(d), nil
	case map[string]Value:
		d := NewDict(len(t))
		for _, k := range sortedKeys(t) {
			d.SetStr(k, t[k])
		}
		return DictOf(d), nil
	case []KeyValue:
		d := NewDict(len(t))
		for _, kv := range t {
			k, err := fromGo(kv.Key, depth)
			if err != nil {
				return None, err
			}
			v, err := fromGo(kv.Value, depth)
			if err != nil {
				return None, err
			}
			if err := d.Set(k, v); err != nil {
				return None, err
			}
		}
		return DictOf(d), nil
	}
	return None, fmt.Errorf("%w: %T", ErrNotConvertible, x)
}

func fromUint(u uint64) Value {
	if u <= math.MaxInt64 {
		return Int(int64(u))
	}
	return BigInt(new(big.Int).SetUint64(u))
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func fromGoTime(t time.Time) (Value, error) {
	_, off := t.Zone()
	tz := UTC
	if off != 0 {
		var err error
		if tz, err = FixedZone(time.Duration(off)*time.Second, ""); err != nil {
			return None, fmt.Errorf("%w: %v", ErrNotConvertible, err)
		}
	}
	v, err := NewDateTime(DateTime{
		Year: t.Year(), Month: int(t.Month()), Day: t.Day(),
		Hour: t.Hour(), Minute: t.Minute(), Second: t.Second(),
		Microsecond: t.Nanosecond() / 1000, TZ: tz,
	})
	if err != nil {
		return None, fmt.Errorf("%w: time %v: %v", ErrNotConvertible, t.Format(time.RFC3339), err)
	}
	return v, nil
}
