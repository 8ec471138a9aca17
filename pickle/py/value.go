// Package py is a small Go model of the Python values a Django session can
// hold: what Django's JSON serializer writes and what pickle carries in cache
// backends and in the pickle session serializer.
//
// One model serves both codecs (package pickle and the JSON codec in this
// package), so a session read from JSON and one read from a pickle look alike
// to callers, and a value read and written back stays what it was: a tuple
// stays a tuple, a pickled datetime stays a datetime, dict order is kept and
// big integers stay exact.
//
// The zero Value is Python's None. Values are immutable except for the
// containers they refer to (*List, *Dict, *Set), which, like Python's, are
// shared by reference.
package py

import (
	"fmt"
	"math"
	"math/big"
)

// Kind names the Python type a Value holds.
type Kind uint8

// The kinds of Python value the model holds.
const (
	NoneKind      Kind = iota // None (the zero Value)
	BoolKind                  // bool
	IntKind                   // int (any size; see Value.Int and Value.BigInt)
	FloatKind                 // float
	StrKind                   // str
	BytesKind                 // bytes
	ByteArrayKind             // bytearray
	ListKind                  // list
	TupleKind                 // tuple
	DictKind                  // dict (and collections.OrderedDict, see Dict.Ordered)
	SetKind                   // set
	FrozenSetKind             // frozenset
	DateTimeKind              // datetime.datetime
	DateKind                  // datetime.date
	TimeKind                  // datetime.time
	TimeDeltaKind             // datetime.timedelta
	DecimalKind               // decimal.Decimal
	UUIDKind                  // uuid.UUID
)

var kindNames = [...]string{
	NoneKind: "NoneType", BoolKind: "bool", IntKind: "int", FloatKind: "float",
	StrKind: "str", BytesKind: "bytes", ByteArrayKind: "bytearray", ListKind: "list",
	TupleKind: "tuple", DictKind: "dict", SetKind: "set", FrozenSetKind: "frozenset",
	DateTimeKind: "datetime", DateKind: "date", TimeKind: "time",
	TimeDeltaKind: "timedelta", DecimalKind: "Decimal", UUIDKind: "UUID",
}

// String returns the Python type name of the kind ("int", "datetime", ...).
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", k)
}

// Value is one Python value. It is a small struct, passed by value; the zero
// Value is None. Build values with the constructors (Int, Str, NewDict, ...)
// and read them with the accessors, which report whether the kind matched.
type Value struct {
	k Kind
	n uint64 // bool (0/1), int64 bits (IntKind, when r is nil), float64 bits
	s string // str, bytes (immutable), Decimal text
	r any    // *big.Int, *List, *Tuple, *Dict, *Set, *ByteArray, *DateTime, ...
}

// None is Python's None.
var None = Value{}

// Bool returns a Python bool.
func Bool(b bool) Value {
	if b {
		return Value{k: BoolKind, n: 1}
	}
	return Value{k: BoolKind}
}

// Int returns a Python int.
func Int(i int64) Value { return Value{k: IntKind, n: uint64(i)} }

// BigInt returns a Python int of any size. Values that fit in an int64 are
// stored as such, so Int(5) and BigInt(big.NewInt(5)) are the same Value.
// The *big.Int is copied.
func BigInt(b *big.Int) Value {
	if b.IsInt64() {
		return Int(b.Int64())
	}
	return Value{k: IntKind, r: new(big.Int).Set(b)}
}

// Float returns a Python float.
func Float(f float64) Value { return Value{k: FloatKind, n: math.Float64bits(f)} }

// Str returns a Python str. s should be valid UTF-8; Python str may hold lone
// surrogates, which are kept as WTF-8 (CESU-style 3-byte sequences) when
// decoded from JSON \u escapes.
func Str(s string) Value { return Value{k: StrKind, s: s} }

// Bytes returns a Python bytes object holding a copy of b.
func Bytes(b []byte) Value { return Value{k: BytesKind, s: string(b)} }

// BytesString returns a Python bytes object whose content is s.
func BytesString(s string) Value { return Value{k: BytesKind, s: s} }

// ByteArray is a Python bytearray: mutable bytes, shared by reference.
type ByteArray struct{ B []byte }

// NewByteArray returns a Python bytearray holding b (not copied).
func NewByteArray(b []byte) Value { return Value{k: ByteArrayKind, r: &ByteArray{B: b}} }

// List is a Python list, shared by reference.
type List struct{ Items []Value }

// NewList returns a Python list of the items (the slice is kept, not copied).
func NewList(items ...Value) Value { return Value{k: ListKind, r: &List{Items: items}} }

// ListOf wraps an existing *List.
func ListOf(l *List) Value { return Value{k: ListKind, r: l} }

// Tuple is a Python tuple.
type Tuple struct{ Items []Value }

// NewTuple returns a Python tuple of the items (the slice is kept, not copied).
func NewTuple(items ...Value) Value { return Value{k: TupleKind, r: &Tuple{Items: items}} }

// DictOf wraps a *Dict as a Value.
func DictOf(d *Dict) Value {
	if d == nil {
		d = NewDict(0)
	}
	return Value{k: DictKind, r: d}
}

// Decimal is the text of a decimal.Decimal exactly as Python's str() writes
// it (which is also what Decimal pickles carry): "1.50", "-0", "1E+3", "NaN",
// "-Infinity", "sNaN". Use ParseDecimal to build one from any text Python's
// Decimal() accepts.
func decimalValue(canon string) Value { return Value{k: DecimalKind, s: canon} }

// UUID returns a uuid.UUID value.
func UUID(u [16]byte) Value { return Value{k: UUIDKind, s: string(u[:])} }

// Kind returns the kind of the value.
func (v Value) Kind() Kind { return v.k }

// IsNone reports whether v is None.
func (v Value) IsNone() bool { return v.k == NoneKind }

// TypeName returns the Python type name of v ("dict", "datetime", ...). For an
// OrderedDict it is "OrderedDict".
func (v Value) TypeName() string {
	if v.k == DictKind {
		if d, _ := v.r.(*Dict); d != nil && d.Ordered {
			return "OrderedDict"
		}
	}
	return v.k.String()
}

// Bool returns the value of a bool.
func (v Value) Bool() (b, ok bool) { return v.n == 1, v.k == BoolKind }

// Int returns an int that fits in int64. ok is false for other kinds and for
// ints too large for int64 (use BigInt).
func (v Value) Int() (i int64, ok bool) {
	if v.k != IntKind || v.r != nil {
		return 0, false
	}
	return int64(v.n), true
}

// BigInt returns any int as a new *big.Int.
func (v Value) BigInt() (*big.Int, bool) {
	if v.k != IntKind {
		return nil, false
	}
	if b, ok := v.r.(*big.Int); ok {
		return new(big.Int).Set(b), true
	}
	return big.NewInt(int64(v.n)), true
}

// Float returns the value of a float.
func (v Value) Float() (float64, bool) {
	return math.Float64frombits(v.n), v.k == FloatKind
}

// Str returns the text of a str.
func (v Value) Str() (string, bool) {
	if v.k != StrKind {
		return "", false
	}
	return v.s, true
}

// Bytes returns the content of a bytes or bytearray value. For bytes it is a
// fresh copy; for a bytearray it is the shared buffer.
func (v Value) Bytes() ([]byte, bool) {
	switch v.k {
	case BytesKind:
		return []byte(v.s), true
	case ByteArrayKind:
		return v.r.(*ByteArray).B, true
	}
	return nil, false
}

// List returns the *List of a list value.
func (v Value) List() (*List, bool) {
	l, ok := v.r.(*List)
	return l, ok && v.k == ListKind
}

// Tuple returns the *Tuple of a tuple value.
func (v Value) Tuple() (*Tuple, bool) {
	t, ok := v.r.(*Tuple)
	return t, ok && v.k == TupleKind
}

// Dict returns the *Dict of a dict value.
func (v Value) Dict() (*Dict, bool) {
	d, ok := v.r.(*Dict)
	return d, ok && v.k == DictKind
}

// Set returns the *Set of a set or frozenset value.
func (v Value) Set() (*Set, bool) {
	s, ok := v.r.(*Set)
	return s, ok && (v.k == SetKind || v.k == FrozenSetKind)
}

// Items returns the elements of a list, tuple, set or frozenset, in order
// (insertion order for sets). It returns nil for other kinds.
func (v Value) Items() []Value {
	switch r := v.r.(type) {
	case *List:
		return r.Items
	case *Tuple:
		return r.Items
	case *Set:
		return r.items
	}
	return nil
}

// Len returns len(v) for str (in code points), bytes, bytearray and the
// containers, and -1 for kinds without a length.
func (v Value) Len() int {
	switch v.k {
	case StrKind:
		n := 0
		for range v.s {
			n++
		}
		return n
	case BytesKind:
		return len(v.s)
	case ByteArrayKind:
		return len(v.r.(*ByteArray).B)
	case DictKind:
		return v.r.(*Dict).Len()
	case ListKind, TupleKind, SetKind, FrozenSetKind:
		return len(v.Items())
	}
	return -1
}

// Decimal returns the str() text of a Decimal.
func (v Value) Decimal() (string, bool) {
	if v.k != DecimalKind {
		return "", false
	}
	return v.s, true
}

// UUID returns the 16 bytes of a UUID.
func (v Value) UUID() (u [16]byte, ok bool) {
	if v.k != UUIDKind {
		return u, false
	}
	copy(u[:], v.s)
	return u, true
}

// Truthy reports Python's bool(v).
func (v Value) Truthy() bool {
	switch v.k {
	case NoneKind:
		return false
	case BoolKind:
		return v.n == 1
	case IntKind:
		if b, ok := v.r.(*big.Int); ok {
			return b.Sign() != 0
		}
		return v.n != 0
	case FloatKind:
		return math.Float64frombits(v.n) != 0
	case StrKind, BytesKind, ByteArrayKind, ListKind, TupleKind, DictKind, SetKind, FrozenSetKind:
		return v.Len() > 0
	case TimeDeltaKind:
		td := v.r.(*TimeDelta)
		return td.Days != 0 || td.Seconds != 0 || td.Microseconds != 0
	case DecimalKind:
		return !decimalIsZero(v.s)
	}
	return true
}
