package py

import (
	"math"
	"math/big"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// maxWalkDepth bounds every recursive walk over a Value (Repr, Equal,
// NormalJSON, GoValue, FromGo, the JSON encoder). Python itself gives up near
// there (RecursionError at the default recursion limit of 1000), and a
// container graph read from a pickle may be cyclic or hostile.
const maxWalkDepth = MaxJSONDepth

// Repr returns Python's repr() of v, as CPython 3.11 writes it:
//
//	None, True, 42, 1e+16, 1.5e-07, 1000000000000000.0, inf, nan
//	'it\'s' / "it's", b'\x00\xff', bytearray(b'')
//	[1, 'a'], (1,), {'a': 1}, OrderedDict([('a', 1)]), set(), frozenset({1, 2})
//	datetime.datetime(2024, 2, 29, 13, 45, 30, 123456, tzinfo=datetime.timezone.utc)
//	Decimal('1.50'), UUID('12345678-1234-5678-1234-567812345678')
//
// Differences from CPython, all documented limits of the model:
//   - set and frozenset elements come in insertion order; CPython's order
//     follows the elements' hashes (the two agree for small non-negative
//     ints added in ascending order).
//   - which non-ASCII code points are printable (written as is rather than
//     \x.., \u.... or \U........) follows Go's unicode tables (unicode.IsPrint,
//     Unicode 15.0 in Go 1.26), where CPython 3.11 uses Unicode 14.0; the
//     two differ only for code points first assigned in Unicode 15.
//   - a str holding bytes that are not UTF-8 (nor WTF-8 lone surrogates,
//     which are written \udxxx as CPython does) shows U+FFFD for each bad
//     byte; CPython's str cannot hold such bytes.
//   - an int of more than 4300 digits is written in full; CPython's repr
//     raises ValueError (sys.get_int_max_str_digits) instead.
//   - a container met again while it is being written (a cycle) is written
//     "[...]", "{...}" or "..." as CPython does; past maxWalkDepth nested
//     containers, where CPython raises RecursionError, "..." is written.
func (v Value) Repr() string {
	var r reprWriter
	r.value(v)
	return string(r.b)
}

// String returns v.Repr(), so that fmt's %v and %s show Python's repr.
func (v Value) String() string { return v.Repr() }

// reprWriter appends a repr to b, keeping the containers being written so
// that cycles are written as Python writes them.
type reprWriter struct {
	b    []byte
	path []any
}

func (r *reprWriter) enter(c any) bool {
	if len(r.path) >= maxWalkDepth {
		return false
	}
	for _, p := range r.path {
		if p == c {
			return false
		}
	}
	r.path = append(r.path, c)
	return true
}

func (r *reprWriter) leave() { r.path = r.path[:len(r.path)-1] }

func (r *reprWriter) value(v Value) {
	switch v.k {
	case NoneKind:
		r.b = append(r.b, "None"...)
	case BoolKind:
		if v.n == 1 {
			r.b = append(r.b, "True"...)
		} else {
			r.b = append(r.b, "False"...)
		}
	case IntKind:
		r.b = appendInt(r.b, v)
	case FloatKind:
		r.b = appendFloatRepr(r.b, math.Float64frombits(v.n))
	case StrKind:
		r.b = appendStrRepr(r.b, v.s)
	case BytesKind:
		r.b = appendBytesRepr(r.b, v.s)
	case ByteArrayKind:
		r.b = append(r.b, "bytearray("...)
		r.b = appendBytesReprQ(r.b, string(v.r.(*ByteArray).B), true)
		r.b = append(r.b, ')')
	case ListKind:
		l := v.r.(*List)
		if !r.enter(l) {
			r.b = append(r.b, "[...]"...)
			return
		}
		r.b = append(r.b, '[')
		r.items(l.Items)
		r.b = append(r.b, ']')
		r.leave()
	case TupleKind:
		t := v.r.(*Tuple)
		if !r.enter(t) {
			r.b = append(r.b, "(...)"...)
			return
		}
		r.b = append(r.b, '(')
		r.items(t.Items)
		if len(t.Items) == 1 {
			r.b = append(r.b, ',')
		}
		r.b = append(r.b, ')')
		r.leave()
	case DictKind:
		r.dict(v.r.(*Dict))
	case SetKind, FrozenSetKind:
		s := v.r.(*Set)
		if !r.enter(s) {
			r.b = append(r.b, "..."...)
			return
		}
		switch {
		case v.k == SetKind && len(s.items) == 0:
			r.b = append(r.b, "set()"...)
		case len(s.items) == 0:
			r.b = append(r.b, "frozenset()"...)
		case v.k == SetKind:
			r.b = append(r.b, '{')
			r.items(s.items)
			r.b = append(r.b, '}')
		default:
			r.b = append(r.b, "frozenset({"...)
			r.items(s.items)
			r.b = append(r.b, "})"...)
		}
		r.leave()
	case DateTimeKind:
		r.b = appendDateTimeRepr(r.b, v.r.(*DateTime))
	case DateKind:
		d := v.r.(*Date)
		r.b = append(r.b, "datetime.date("...)
		r.b = appendInts(r.b, d.Year, d.Month, d.Day)
		r.b = append(r.b, ')')
	case TimeKind:
		r.b = appendTimeRepr(r.b, v.r.(*Time))
	case TimeDeltaKind:
		r.b = appendTimeDeltaRepr(r.b, *v.r.(*TimeDelta))
	case DecimalKind:
		r.b = append(r.b, "Decimal("...)
		r.b = appendStrRepr(r.b, v.s)
		r.b = append(r.b, ')')
	case UUIDKind:
		r.b = append(r.b, "UUID('"...)
		r.b = appendUUID(r.b, v.s)
		r.b = append(r.b, "')"...)
	default:
		r.b = append(r.b, "<unknown>"...)
	}
}

func (r *reprWriter) items(items []Value) {
	for i, it := range items {
		if i > 0 {
			r.b = append(r.b, ", "...)
		}
		r.value(it)
	}
}

func (r *reprWriter) dict(d *Dict) {
	if !r.enter(d) {
		if d.Ordered {
			r.b = append(r.b, "..."...)
		} else {
			r.b = append(r.b, "{...}"...)
		}
		return
	}
	defer r.leave()
	if d.Ordered {
		// CPython 3.11: OrderedDict() / OrderedDict([('a', 1), ...]).
		r.b = append(r.b, "OrderedDict("...)
		if len(d.entries) > 0 {
			r.b = append(r.b, '[')
			for i, e := range d.entries {
				if i > 0 {
					r.b = append(r.b, ", "...)
				}
				r.b = append(r.b, '(')
				r.value(e.Key)
				r.b = append(r.b, ", "...)
				r.value(e.Value)
				r.b = append(r.b, ')')
			}
			r.b = append(r.b, ']')
		}
		r.b = append(r.b, ')')
		return
	}
	r.b = append(r.b, '{')
	for i, e := range d.entries {
		if i > 0 {
			r.b = append(r.b, ", "...)
		}
		r.value(e.Key)
		r.b = append(r.b, ": "...)
		r.value(e.Value)
	}
	r.b = append(r.b, '}')
}

func appendInt(b []byte, v Value) []byte {
	if x, ok := v.r.(*big.Int); ok {
		return x.Append(b, 10)
	}
	return strconv.AppendInt(b, int64(v.n), 10)
}

func appendInts(b []byte, xs ...int) []byte {
	for i, x := range xs {
		if i > 0 {
			b = append(b, ", "...)
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return b
}

// appendFloatRepr appends Python's repr() of a float: the shortest digits
// that round-trip, in positional notation when the decimal point position
// decpt satisfies -4 < decpt <= 16 (with ".0" for whole numbers), otherwise
// in exponent notation with a signed exponent of at least two digits
// ("1e+16", "1.5e-07"); "inf", "-inf", "nan" for the rest.
func appendFloatRepr(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "nan"...)
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, 64) // [-]d[.ddd]e±dd
	if e[0] == '-' {
		b = append(b, '-')
		e = e[1:]
	}
	var digs [24]byte
	nd := 0
	i := 0
	for ; i < len(e) && e[i] != 'e'; i++ {
		if e[i] != '.' {
			digs[nd] = e[i]
			nd++
		}
	}
	exp, _ := strconv.Atoi(string(e[i+1:])) // i+1 holds the sign, which Atoi takes
	d := digs[:nd]
	decpt := exp + 1
	if decpt <= -4 || decpt > 16 {
		b = append(b, d[0])
		if len(d) > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e')
		if exp < 0 {
			b = append(b, '-')
			exp = -exp
		} else {
			b = append(b, '+')
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10)
	}
	switch {
	case decpt <= 0:
		b = append(b, "0."...)
		for ; decpt < 0; decpt++ {
			b = append(b, '0')
		}
		b = append(b, d...)
	case decpt >= len(d):
		b = append(b, d...)
		for j := len(d); j < decpt; j++ {
			b = append(b, '0')
		}
		b = append(b, ".0"...)
	default:
		b = append(b, d[:decpt]...)
		b = append(b, '.')
		b = append(b, d[decpt:]...)
	}
	return b
}

// decodeWTF8 decodes the code point at s[i:]. Besides UTF-8 it reads the
// 3-byte encodings of surrogates (ED A0..BF 80..BF), which is how this
// package keeps Python's lone surrogates in a Go string, returning the
// surrogate itself (U+D800..U+DFFF). Any other invalid byte reads as
// U+FFFD with size 1.
func decodeWTF8(s string, i int) (rune, int) {
	c := s[i]
	if c < utf8.RuneSelf {
		return rune(c), 1
	}
	r, size := utf8.DecodeRuneInString(s[i:])
	if r == utf8.RuneError && size == 1 && c == 0xED && i+2 < len(s) &&
		s[i+1] >= 0xA0 && s[i+1] <= 0xBF && s[i+2] >= 0x80 && s[i+2] <= 0xBF {
		return 0xD000 | rune(s[i+1]&0x3F)<<6 | rune(s[i+2]&0x3F), 3
	}
	return r, size
}

// appendSurrogate appends the WTF-8 bytes of a surrogate code point.
func appendSurrogate(b []byte, c rune) []byte {
	return append(b, 0xED, 0x80|byte(c>>6)&0x3F, 0x80|byte(c)&0x3F)
}

const lowerHex = "0123456789abcdef"

func appendHex(b []byte, x uint32, width int) []byte {
	for sh := (width - 1) * 4; sh >= 0; sh -= 4 {
		b = append(b, lowerHex[x>>uint(sh)&0xF])
	}
	return b
}

// pickQuote returns the quote Python's repr uses for str and bytes: a
// double quote when the text holds a single quote and no double quote.
func pickQuote(s string) byte {
	single, double := false, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			single = true
		case '"':
			double = true
		}
	}
	if single && !double {
		return '"'
	}
	return '\''
}

// appendStrRepr appends Python's repr() of a str (unicode_repr in CPython):
// the quote and backslash escaped, \t \n \r, other ASCII controls and DEL
// as \xhh, printable non-ASCII as is, other code points as \xhh, \uhhhh or
// \Uhhhhhhhh.
func appendStrRepr(b []byte, s string) []byte {
	q := pickQuote(s)
	b = append(b, q)
	for i := 0; i < len(s); {
		c, size := decodeWTF8(s, i)
		i += size
		switch {
		case c == rune(q) || c == '\\':
			b = append(b, '\\', byte(c))
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < ' ' || c == 0x7F:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(c), 2)
		case c < 0x7F:
			b = append(b, byte(c))
		case c >= 0xD800 && c <= 0xDFFF:
			b = append(b, `\u`...)
			b = appendHex(b, uint32(c), 4)
		case unicode.IsPrint(c):
			b = utf8.AppendRune(b, c)
		case c <= 0xFF:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(c), 2)
		case c <= 0xFFFF:
			b = append(b, `\u`...)
			b = appendHex(b, uint32(c), 4)
		default:
			b = append(b, `\U`...)
			b = appendHex(b, uint32(c), 8)
		}
	}
	return append(b, q)
}

// appendBytesRepr appends Python's repr() of bytes: b'...' with the same
// quote choice as str, \t \n \r, \xhh for bytes outside 0x20..0x7e.
func appendBytesRepr(b []byte, s string) []byte { return appendBytesReprQ(b, s, false) }

// appendBytesReprQ: bytearray's repr (CPython's bytearray_repr) differs
// from bytes' in one point: it escapes a single quote even inside double
// quotes (bytearray(b"it\'s")).
func appendBytesReprQ(b []byte, s string, bytearray bool) []byte {
	q := pickQuote(s)
	b = append(b, 'b', q)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == q || c == '\\' || bytearray && c == '\'':
			b = append(b, '\\', c)
		case c == '\t':
			b = append(b, `\t`...)
		case c == '\n':
			b = append(b, `\n`...)
		case c == '\r':
			b = append(b, `\r`...)
		case c < ' ' || c >= 0x7F:
			b = append(b, `\x`...)
			b = appendHex(b, uint32(c), 2)
		default:
			b = append(b, c)
		}
	}
	return append(b, q)
}

// appendUUID appends the 8-4-4-4-12 lower-case hex form of 16 bytes
// (str(uuid.UUID)).
func appendUUID(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, lowerHex[s[i]>>4], lowerHex[s[i]&0xF])
	}
	return b
}

// appendDateTimeRepr: datetime.datetime(Y, M, D, h, m[, s[, us]]) then
// ", fold=1" and ", tzinfo=..." in that order (CPython's C datetime_repr).
func appendDateTimeRepr(b []byte, dt *DateTime) []byte {
	b = append(b, "datetime.datetime("...)
	b = appendInts(b, dt.Year, dt.Month, dt.Day, dt.Hour, dt.Minute)
	if dt.Microsecond != 0 {
		b = append(b, ", "...)
		b = appendInts(b, dt.Second, dt.Microsecond)
	} else if dt.Second != 0 {
		b = append(b, ", "...)
		b = appendInts(b, dt.Second)
	}
	if dt.Fold != 0 {
		b = append(b, ", fold=1"...)
	}
	if dt.TZ != nil {
		b = append(b, ", tzinfo="...)
		b = appendTZRepr(b, dt.TZ)
	}
	return append(b, ')')
}

// appendTimeRepr: datetime.time(h, m[, s[, us]]) then ", tzinfo=..." and
// ", fold=1" in that order (CPython's C time_repr).
func appendTimeRepr(b []byte, t *Time) []byte {
	b = append(b, "datetime.time("...)
	b = appendInts(b, t.Hour, t.Minute)
	if t.Microsecond != 0 {
		b = append(b, ", "...)
		b = appendInts(b, t.Second, t.Microsecond)
	} else if t.Second != 0 {
		b = append(b, ", "...)
		b = appendInts(b, t.Second)
	}
	if t.TZ != nil {
		b = append(b, ", tzinfo="...)
		b = appendTZRepr(b, t.TZ)
	}
	if t.Fold != 0 {
		b = append(b, ", fold=1"...)
	}
	return append(b, ')')
}

// appendTZRepr: datetime.timezone.utc, datetime.timezone(timedelta[, name]),
// <UTC> (pytz), zoneinfo.ZoneInfo(key='...'), and pytz's
// <DstTzInfo 'Europe/Paris' CEST+2:00:00 DST> and <StaticTzInfo 'EST'>.
func appendTZRepr(b []byte, tz *TZInfo) []byte {
	switch tz.Kind {
	case TZPytzUTC:
		return append(b, "<UTC>"...)
	case TZZoneInfo:
		b = append(b, "zoneinfo.ZoneInfo(key="...)
		b = appendStrRepr(b, tz.Key)
		return append(b, ')')
	case TZPytz:
		// DstTzInfo.__repr__: '<DstTzInfo %r %s+%s %s>' when the offset is
		// positive, else '<DstTzInfo %r %s%s %s>' (str(timedelta), so
		// "-1 day, 19:00:00" for -5h); DST when dst() is non-zero.
		b = append(b, "<DstTzInfo "...)
		b = appendStrRepr(b, tz.Key)
		b = append(b, ' ')
		b = append(b, tz.Name...)
		if tz.Offset > 0 {
			b = append(b, '+')
		}
		us := int64(tz.Offset / time.Microsecond)
		b = append(b, timeDeltaStr(&TimeDelta{Days: floorDiv(us, 86400e6), Seconds: floorMod(us, 86400e6) / 1e6, Microseconds: floorMod(us, 1e6)})...)
		if tz.DST != 0 {
			return append(b, " DST>"...)
		}
		return append(b, " STD>"...)
	case TZPytzStatic:
		b = append(b, "<StaticTzInfo "...)
		b = appendStrRepr(b, tz.Key)
		return append(b, '>')
	}
	if tz.Offset == 0 && tz.Name == "" {
		return append(b, "datetime.timezone.utc"...)
	}
	b = append(b, "datetime.timezone("...)
	us := int64(tz.Offset / time.Microsecond)
	b = appendTimeDeltaRepr(b, TimeDelta{Days: floorDiv(us, 86400e6), Seconds: floorMod(us, 86400e6) / 1e6, Microseconds: floorMod(us, 1e6)})
	if tz.Name != "" {
		b = append(b, ", "...)
		b = appendStrRepr(b, tz.Name)
	}
	return append(b, ')')
}

// appendTimeDeltaRepr: datetime.timedelta(days=.., seconds=.., microseconds=..)
// naming only the non-zero fields, datetime.timedelta(0) when all are zero.
func appendTimeDeltaRepr(b []byte, td TimeDelta) []byte {
	b = append(b, "datetime.timedelta("...)
	sep := false
	field := func(name string, x int64) {
		if x == 0 {
			return
		}
		if sep {
			b = append(b, ", "...)
		}
		b = append(b, name...)
		b = strconv.AppendInt(b, x, 10)
		sep = true
	}
	field("days=", td.Days)
	field("seconds=", td.Seconds)
	field("microseconds=", td.Microseconds)
	if !sep {
		b = append(b, '0')
	}
	return append(b, ')')
}

// Equal reports whether v and w are the same Python value in the strict,
// structural sense tests and round trips need (stricter than Python's ==):
//
//   - the kinds must match: a tuple never equals a list, an int never
//     equals a float or a bool, a dict never equals an OrderedDict;
//   - ints compare by value, floats by their bits except that every NaN
//     equals every NaN (so 0.0 and -0.0 differ);
//   - str, bytes, bytearray, Decimal text ("1.5" differs from "1.50") and
//     UUID compare by content;
//   - lists and tuples item by item; dicts by their sets of entries, keys
//     and values Equal, in any order, except that two OrderedDicts must also
//     have the same order (as Python compares them); sets and frozensets as
//     sets of Equal elements;
//   - datetime, date, time and timedelta field by field (fold included) and
//     the tzinfo by class, offset, name and key.
//
// A container compared with itself is equal; beyond maxWalkDepth nested
// containers (and so for two distinct cyclic structures) Equal reports false.
func (v Value) Equal(w Value) bool { return equal(v, w, 0) }

func equal(v, w Value, depth int) bool {
	if v.k != w.k {
		return false
	}
	switch v.k {
	case NoneKind:
		return true
	case BoolKind:
		return v.n == w.n
	case IntKind:
		vb, vbig := v.r.(*big.Int)
		wb, wbig := w.r.(*big.Int)
		switch {
		case !vbig && !wbig:
			return v.n == w.n
		case vbig && wbig:
			return vb.Cmp(wb) == 0
		}
		x, _ := v.BigInt()
		y, _ := w.BigInt()
		return x.Cmp(y) == 0
	case FloatKind:
		f, g := math.Float64frombits(v.n), math.Float64frombits(w.n)
		return v.n == w.n || (f != f && g != g)
	case StrKind, BytesKind, DecimalKind, UUIDKind:
		return v.s == w.s
	case ByteArrayKind:
		return string(v.r.(*ByteArray).B) == string(w.r.(*ByteArray).B)
	case DateTimeKind:
		a, b := v.r.(*DateTime), w.r.(*DateTime)
		return a.Year == b.Year && a.Month == b.Month && a.Day == b.Day && a.Hour == b.Hour &&
			a.Minute == b.Minute && a.Second == b.Second && a.Microsecond == b.Microsecond &&
			a.Fold == b.Fold && tzEqual(a.TZ, b.TZ)
	case DateKind:
		return *v.r.(*Date) == *w.r.(*Date)
	case TimeKind:
		a, b := v.r.(*Time), w.r.(*Time)
		return a.Hour == b.Hour && a.Minute == b.Minute && a.Second == b.Second &&
			a.Microsecond == b.Microsecond && a.Fold == b.Fold && tzEqual(a.TZ, b.TZ)
	case TimeDeltaKind:
		return *v.r.(*TimeDelta) == *w.r.(*TimeDelta)
	}
	// Containers.
	if v.r == w.r {
		return true
	}
	if depth >= maxWalkDepth {
		return false
	}
	depth++
	switch v.k {
	case ListKind, TupleKind:
		a, b := v.Items(), w.Items()
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i], depth) {
				return false
			}
		}
		return true
	case DictKind:
		a, b := v.r.(*Dict), w.r.(*Dict)
		if a.Ordered != b.Ordered || len(a.entries) != len(b.entries) {
			return false
		}
		for i, e := range a.entries {
			j := i
			if !a.Ordered {
				var err error
				if j, err = b.find(e.Key); err != nil || j < 0 {
					return false
				}
			}
			f := b.entries[j]
			if !equal(e.Key, f.Key, depth) || !equal(e.Value, f.Value, depth) {
				return false
			}
		}
		return true
	case SetKind, FrozenSetKind:
		a, b := v.r.(*Set), w.r.(*Set)
		if len(a.items) != len(b.items) {
			return false
		}
		byKey := make(map[string]Value, len(b.items))
		for _, jt := range b.items {
			k, err := HashKey(jt)
			if err != nil {
				return false
			}
			byKey[k] = jt
		}
		for _, it := range a.items {
			hk, err := HashKey(it)
			if err != nil {
				return false
			}
			jt, ok := byKey[hk]
			if !ok || !equal(it, jt, depth) {
				return false
			}
		}
		return true
	}
	return false
}

func tzEqual(a, b *TZInfo) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
