package py

import (
	"errors"
	"math"
	"math/big"
	"reflect"
	"testing"
	"time"
)

func TestGoValue(t *testing.T) {
	paris, _ := ZoneInfo("Europe/Paris")
	plus2, _ := FixedZone(2*time.Hour, "")
	parisLoc, _ := time.LoadLocation("Europe/Paris")
	bigTD := must(NewTimeDelta(999999999, 0, 0))
	cases := []struct {
		v    Value
		want any
	}{
		{None, nil}, {Bool(true), true}, {Int(-3), int64(-3)}, {BigInt(bigPow2(64)), bigPow2(64)},
		{Float(2.5), 2.5}, {Str("é"), "é"}, {BytesString("ab"), []byte("ab")}, {NewByteArray([]byte{1}), []byte{1}},
		{NewTuple(Int(1), NewList(Str("x"))), []any{int64(1), []any{"x"}}},
		{must(NewFrozenSet(Int(2), Int(1))), []any{int64(2), int64(1)}},
		{dict(t, Str("a"), Int(1), Str("b"), None), map[string]any{"a": int64(1), "b": nil}},
		{dict(t, Str("a"), Int(1), Int(2), NewTuple()), []KeyValue{{"a", int64(1)}, {int64(2), []any{}}}},
		{must(NewDateTime(DateTime{2024, 2, 29, 13, 45, 30, 123456, 0, UTC})), time.Date(2024, 2, 29, 13, 45, 30, 123456000, time.UTC)},
		{must(NewDateTime(DateTime{2020, 1, 1, 0, 0, 0, 0, 0, nil})), time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)},
		{must(NewDateTime(DateTime{2024, 7, 1, 12, 0, 0, 0, 0, paris})), time.Date(2024, 7, 1, 12, 0, 0, 0, parisLoc)},
		{must(NewDate(Date{1999, 12, 31})), time.Date(1999, 12, 31, 0, 0, 0, 0, time.UTC)},
		{must(NewTime(Time{23, 59, 58, 7, 0, nil})), time.Date(0, 1, 1, 23, 59, 58, 7000, time.UTC)},
		{must(NewTimeDelta(1, 2, 3)), 24*time.Hour + 2*time.Second + 3*time.Microsecond},
		{bigTD, TimeDelta{Days: 999999999}},
		{must(ParseDecimal("1.50")), "1.50"},
		{UUID([16]byte{15: 5}), "00000000-0000-0000-0000-000000000005"},
	}
	for _, c := range cases {
		got := c.v.GoValue()
		if tt, ok := c.want.(time.Time); ok {
			g, ok := got.(time.Time)
			if !ok || !g.Equal(tt) || g.Location().String() != tt.Location().String() {
				t.Errorf("GoValue(%s) = %#v, want %v", c.v, got, tt)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("GoValue(%s) = %#v, want %#v", c.v, got, c.want)
		}
	}
	// An aware time with a fixed offset keeps it.
	tm := must(NewTime(Time{10, 0, 0, 0, 0, plus2})).GoValue().(time.Time)
	if _, off := tm.Zone(); off != 7200 {
		t.Errorf("time offset %d", off)
	}
}

func TestFromGo(t *testing.T) {
	loc := time.FixedZone("X", -(3*3600 + 30*60))
	minus330, _ := FixedZone(-(3*time.Hour + 30*time.Minute), "")
	cases := []struct {
		x    any
		want Value
	}{
		{nil, None}, {true, Bool(true)}, {int8(-1), Int(-1)}, {uint16(7), Int(7)}, {uint64(math.MaxUint64), BigInt(new(big.Int).SetUint64(math.MaxUint64))},
		{uint(5), Int(5)}, {float32(0.5), Float(0.5)}, {"s", Str("s")}, {[]byte("b"), BytesString("b")},
		{bigPow2(70), BigInt(bigPow2(70))}, {[]any{1, "a", nil}, NewList(Int(1), Str("a"), None)},
		{[]string{"x"}, NewList(Str("x"))},
		{map[string]any{"b": 1, "a": []any{2.5}}, dict(t, Str("a"), NewList(Float(2.5)), Str("b"), Int(1))},
		{map[string]string{"z": "1", "y": "2"}, dict(t, Str("y"), Str("2"), Str("z"), Str("1"))},
		{[]KeyValue{{int64(2), "two"}, {"a", nil}}, dict(t, Int(2), Str("two"), Str("a"), None)},
		{time.Date(2024, 2, 29, 13, 45, 30, 123456789, time.UTC), must(NewDateTime(DateTime{2024, 2, 29, 13, 45, 30, 123456, 0, UTC}))},
		{time.Date(2024, 1, 1, 0, 0, 0, 0, loc), must(NewDateTime(DateTime{2024, 1, 1, 0, 0, 0, 0, 0, minus330}))},
		{90*time.Minute + 1500*time.Nanosecond, must(NewTimeDelta(0, 5400, 1))},
		{-time.Microsecond, must(NewTimeDelta(-1, 86399, 999999))},
		{Str("v"), Str("v")}, {(*Dict)(nil), DictOf(nil)},
		{Date{2020, 2, 29}, must(NewDate(Date{2020, 2, 29}))},
	}
	for _, c := range cases {
		got, err := FromGo(c.x)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("FromGo(%#v) = %s, %v; want %s", c.x, got, err, c.want)
		}
	}
	// Map keys come out sorted, so the JSON is deterministic.
	v, _ := FromGo(map[string]any{"c": 1, "a": 2, "b": 3})
	if b, _ := EncodeJSON(v); string(b) != `{"a":2,"b":3,"c":1}` {
		t.Errorf("map order: %s", b)
	}
	for _, x := range []any{struct{}{}, (*big.Int)(nil), []int{1}, map[int]any{}, time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		Date{2021, 2, 29}, []KeyValue{{[]any{}, 1}}} {
		if v, err := FromGo(x); err == nil {
			t.Errorf("FromGo(%#v) = %s, want an error", x, v)
		}
	}
	if _, err := FromGo(struct{}{}); !errors.Is(err, ErrNotConvertible) {
		t.Errorf("unsupported type: %v", err)
	}
	// A slice that contains itself fails instead of recursing forever.
	s := make([]any, 1)
	s[0] = s
	if _, err := FromGo(s); !errors.Is(err, ErrTooDeep) {
		t.Errorf("cyclic slice: %v", err)
	}
}

// TestGoRoundTrip: FromGo(v.GoValue()) gives v back for the kinds that have
// a lossless Go form.
func TestGoRoundTrip(t *testing.T) {
	for _, v := range []Value{
		None, Bool(false), Int(math.MinInt64), BigInt(bigPow2(100)), Float(math.Copysign(0, -1)), Str("x\xed\xa0\x80"),
		BytesString("\x00"), NewList(Int(1), NewList()), dict(t, Str("a"), Int(1)),
		must(NewDateTime(DateTime{2024, 2, 29, 13, 45, 30, 123456, 0, UTC})),
		must(NewTimeDelta(-3, 5, 7)), must(NewTimeDelta(999999999, 86399, 999999)),
		dict(t, Int(1), Str("a"), NewTuple(Int(1)), NewList()),
	} {
		got, err := FromGo(v.GoValue())
		want := v
		if v.k == TupleKind || v.k == SetKind {
			want = NewList(v.Items()...)
		}
		if v.k == DictKind {
			// Tuple keys come back as lists, which are not hashable.
			if _, ok := v.GoValue().([]KeyValue); ok && err != nil {
				continue
			}
		}
		if err != nil || !got.Equal(want) {
			t.Errorf("FromGo(GoValue(%s)) = %s, %v", v, got, err)
		}
	}
}
