package py

import (
	"errors"
	"fmt"
	"math/big"
	"math/bits"
	"strconv"
	"unicode/utf8"
)

// MaxJSONDepth is the deepest nesting of arrays and objects DecodeJSON
// accepts (and EncodeJSON writes). CPython's json raises RecursionError a
// little below 1000 levels at the default recursion limit, so nothing
// Django wrote is refused.
const MaxJSONDepth = 1000

// maxIntDigits is CPython's default limit on decimal digits in an int
// conversion (sys.get_int_max_str_digits(), 3.11+): json.loads raises
// ValueError for longer integer literals.
const maxIntDigits = 4300

// ErrInvalidJSON is returned (wrapped) by DecodeJSON for every input
// Python's json.loads rejects. Messages give the byte offset and never
// quote the input.
var ErrInvalidJSON = errors.New("py: invalid JSON")

// DecodeJSON returns what Python's json.loads(data.decode("latin-1"))
// returns — Django's JSONSerializer.loads (spec §2.6):
//
//   - each input byte is one code point U+0000..U+00FF (bytes 0x80..0xFF
//     inside strings become the two-byte UTF-8 of that code point);
//   - objects become dicts with str keys; a repeated key keeps the
//     position of its first occurrence and the value of its last;
//   - arrays become lists; true/false/null as bool/None;
//   - numbers with neither fraction nor exponent become ints of any size
//     (more than 4300 digits is refused, as CPython refuses it); others
//     become floats as Python's float() reads them ("1e400" is inf);
//     NaN, Infinity and -Infinity are accepted;
//   - \u escapes: a high surrogate followed by a \u low surrogate is one
//     astral code point; a lone surrogate is kept as its 3-byte WTF-8
//     encoding (see Str);
//   - strict JSON otherwise: whitespace is space, \t, \n, \r only; no
//     control characters below U+0020 inside strings; no leading zeros,
//     trailing commas, single quotes or comments; nothing but whitespace
//     after the value; at most MaxJSONDepth nested containers (ErrTooDeep,
//     also wrapped).
//
// The result's strings share one copy of data.
func DecodeJSON(data []byte) (Value, error) {
	return DecodeJSONString(string(data))
}

// DecodeJSONString is DecodeJSON for text the caller already holds as a
// string: unescaped strings in the result are substrings of s, so it does
// not copy the input at all.
func DecodeJSONString(s string) (Value, error) {
	d := jsonDecoder{s: s}
	d.skipSpace()
	v, err := d.value()
	if err != nil {
		return None, err
	}
	d.skipSpace()
	if d.pos != len(d.s) {
		return None, d.errorf(d.pos, "extra data")
	}
	return v, nil
}

type jsonDecoder struct {
	s     string
	pos   int
	depth int
	buf   []byte                // scratch for strings that need unescaping
	items chunkStack[Value]     // items of large arrays being read
	ents  chunkStack[DictEntry] // members of large objects being read
}

func (d *jsonDecoder) errorf(off int, msg string) error {
	return fmt.Errorf("%w: %s at offset %d", ErrInvalidJSON, msg, off)
}

func (d *jsonDecoder) skipSpace() {
	for d.pos < len(d.s) {
		switch d.s[d.pos] {
		case ' ', '\t', '\n', '\r':
			d.pos++
		default:
			return
		}
	}
}

// literal consumes word at the current position.
func (d *jsonDecoder) literal(word string) bool {
	if len(d.s)-d.pos >= len(word) && d.s[d.pos:d.pos+len(word)] == word {
		d.pos += len(word)
		return true
	}
	return false
}

func (d *jsonDecoder) value() (Value, error) {
	if d.pos >= len(d.s) {
		return None, d.errorf(d.pos, "expecting value")
	}
	switch c := d.s[d.pos]; c {
	case '"':
		s, err := d.str()
		if err != nil {
			return None, err
		}
		return Value{k: StrKind, s: s}, nil
	case '{':
		return d.object()
	case '[':
		return d.array()
	case 't':
		if d.literal("true") {
			return Value{k: BoolKind, n: 1}, nil
		}
	case 'f':
		if d.literal("false") {
			return Value{k: BoolKind}, nil
		}
	case 'n':
		if d.literal("null") {
			return None, nil
		}
	case 'N':
		if d.literal("NaN") {
			// The bits of CPython's float("nan"), so a pickle of it matches.
			return Value{k: FloatKind, n: 0x7FF8000000000000}, nil
		}
	case 'I':
		if d.literal("Infinity") {
			return Value{k: FloatKind, n: 0x7FF0000000000000}, nil
		}
	case '-':
		if d.literal("-Infinity") {
			return Value{k: FloatKind, n: 0xFFF0000000000000}, nil
		}
		return d.number()
	default:
		if c >= '0' && c <= '9' {
			return d.number()
		}
	}
	return None, d.errorf(d.pos, "expecting value")
}

func (d *jsonDecoder) enter() error {
	d.depth++
	if d.depth > MaxJSONDepth {
		return fmt.Errorf("%w: %w: more than %d nested containers at offset %d", ErrInvalidJSON, ErrTooDeep, MaxJSONDepth, d.pos)
	}
	return nil
}

// smallDict is how many members an object collects on the stack before its
// entries move to the heap; sessions rarely have more.
const smallDict = 8

func (d *jsonDecoder) object() (Value, error) {
	if err := d.enter(); err != nil {
		return None, err
	}
	d.pos++ // '{'
	d.skipSpace()
	var local [smallDict]DictEntry
	ents := local[:0]
	// Past smallDict members the entries move to d.ents, from start on.
	start, spilled := d.ents.n, false
	count := func() int {
		if spilled {
			return d.ents.n - start
		}
		return len(ents)
	}
	entry := func(i int) *DictEntry {
		if spilled {
			return d.ents.at(start + i)
		}
		return &ents[i]
	}
	var seen map[string]int // key -> index, once the object is large
	if d.pos < len(d.s) && d.s[d.pos] == '}' {
		d.pos++
		d.depth--
		return Value{k: DictKind, r: &Dict{}}, nil
	}
	for {
		if d.pos >= len(d.s) || d.s[d.pos] != '"' {
			d.ents.drop(start)
			return None, d.errorf(d.pos, "expecting property name enclosed in double quotes")
		}
		key, err := d.str()
		if err != nil {
			d.ents.drop(start)
			return None, err
		}
		d.skipSpace()
		if d.pos >= len(d.s) || d.s[d.pos] != ':' {
			d.ents.drop(start)
			return None, d.errorf(d.pos, "expecting ':' delimiter")
		}
		d.pos++
		d.skipSpace()
		val, err := d.value()
		if err != nil {
			d.ents.drop(start)
			return None, err
		}
		// Python's dict: a repeated key keeps its place, takes the new value.
		idx := -1
		if seen != nil {
			if i, ok := seen[key]; ok {
				idx = i
			}
		} else {
			for i, n := 0, count(); i < n; i++ {
				if entry(i).Key.s == key {
					idx = i
					break
				}
			}
		}
		if idx >= 0 {
			entry(idx).Value = val
		} else {
			e := DictEntry{Key: Value{k: StrKind, s: key}, Value: val}
			switch {
			case spilled:
				d.ents.push(e)
			case len(ents) < smallDict:
				ents = append(ents, e)
			default:
				for _, le := range ents {
					d.ents.push(le)
				}
				d.ents.push(e)
				spilled = true
			}
			n := count()
			if seen != nil {
				seen[key] = n - 1
			} else if n > 2*smallDict {
				seen = make(map[string]int, 2*n)
				for i := 0; i < n; i++ {
					seen[entry(i).Key.s] = i
				}
			}
		}
		d.skipSpace()
		if d.pos < len(d.s) {
			switch d.s[d.pos] {
			case ',':
				d.pos++
				d.skipSpace()
				continue
			case '}':
				d.pos++
				d.depth--
				var dict *Dict
				if spilled {
					dict = &Dict{entries: make([]DictEntry, d.ents.n-start)}
					d.ents.popTo(start, dict.entries)
				} else {
					dict = newDictFrom(ents)
				}
				if len(dict.entries) > indexThreshold {
					dict.buildIndex()
				}
				return Value{k: DictKind, r: dict}, nil
			}
		}
		d.ents.drop(start)
		return None, d.errorf(d.pos, "expecting ',' delimiter")
	}
}

// smallList is how many items an array collects on the stack.
const smallList = 8

func (d *jsonDecoder) array() (Value, error) {
	if err := d.enter(); err != nil {
		return None, err
	}
	d.pos++ // '['
	d.skipSpace()
	if d.pos < len(d.s) && d.s[d.pos] == ']' {
		d.pos++
		d.depth--
		return Value{k: ListKind, r: &List{}}, nil
	}
	var local [smallList]Value
	items := local[:0]
	// Past smallList items they move to d.items, from start on.
	start, spilled := d.items.n, false
	for {
		v, err := d.value()
		if err != nil {
			d.items.drop(start)
			return None, err
		}
		switch {
		case spilled:
			d.items.push(v)
		case len(items) < smallList:
			items = append(items, v)
		default:
			for _, it := range items {
				d.items.push(it)
			}
			d.items.push(v)
			spilled = true
		}
		d.skipSpace()
		if d.pos < len(d.s) {
			switch d.s[d.pos] {
			case ',':
				d.pos++
				d.skipSpace()
				continue
			case ']':
				d.pos++
				d.depth--
				if spilled {
					l := &List{Items: make([]Value, d.items.n-start)}
					d.items.popTo(start, l.Items)
					return Value{k: ListKind, r: l}, nil
				}
				return Value{k: ListKind, r: newListFrom(items)}, nil
			}
		}
		d.items.drop(start)
		return None, d.errorf(d.pos, "expecting ',' delimiter")
	}
}

// The chunks of a chunkStack grow from firstChunk items to maxChunk: an
// array a little over smallList items costs a small chunk, not a large one,
// and a huge one still allocates about its own size.
const (
	firstChunkBits = 6
	firstChunk     = 1 << firstChunkBits // items in chunk 0
	maxChunk       = 1024                // items in chunk growChunks and later
	growChunks     = 4                   // chunks 0..3 double: 64, 128, 256, 512
	grownItems     = firstChunk * (1<<growChunks - 1)
)

// chunkAt returns the chunk holding item i and i's place in it.
func chunkAt(i int) (c, off int) {
	if i < grownItems {
		c = bits.Len(uint(i>>firstChunkBits+1)) - 1
		return c, i - firstChunk*(1<<c-1)
	}
	i -= grownItems
	return growChunks + i/maxChunk, i % maxChunk
}

// chunkSize is the number of items of chunk c.
func chunkSize(c int) int {
	if c < growChunks {
		return firstChunk << c
	}
	return maxChunk
}

// chunkStack is where the decoder collects the items of large arrays and
// objects: chunks that are never moved, so that collecting n items
// allocates about n items' worth and never copies (growing one slice by
// append allocates several times the final size, since Go grows large
// slices by 1.25×, and a validly signed megabyte of "1,1,1,…" has half a
// million 48-byte items). Nested containers use it as a stack: an inner
// one pops its items before the outer one goes on.
type chunkStack[T any] struct {
	chunks [][]T
	n      int
}

func (s *chunkStack[T]) push(v T) {
	c, off := chunkAt(s.n)
	if c == len(s.chunks) {
		s.chunks = append(s.chunks, make([]T, chunkSize(c)))
	}
	s.chunks[c][off] = v
	s.n++
}

func (s *chunkStack[T]) at(i int) *T {
	c, off := chunkAt(i)
	return &s.chunks[c][off]
}

// popTo moves the items from start on into dst, which has room for them.
func (s *chunkStack[T]) popTo(start int, dst []T) {
	for k := start; k < s.n; {
		c, i := chunkAt(k)
		k += copy(dst[k-start:], s.chunks[c][i:min(len(s.chunks[c]), i+s.n-k)])
	}
	s.drop(start)
}

// drop removes the items from start on, clearing them for the collector.
func (s *chunkStack[T]) drop(start int) {
	var zero T
	for k := start; k < s.n; {
		c, i := chunkAt(k)
		ch := s.chunks[c][i:min(len(s.chunks[c]), i+s.n-k)]
		for j := range ch {
			ch[j] = zero
		}
		k += len(ch)
	}
	if start < s.n {
		s.n = start
	}
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)? as CPython's
// scanner does: a '.' or exponent not followed by digits is left unread (and
// then fails as a missing delimiter or extra data).
func (d *jsonDecoder) number() (Value, error) {
	s := d.s
	start := d.pos
	i := start
	if s[i] == '-' {
		i++
	}
	digStart := i
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		i++
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return None, d.errorf(start, "expecting value")
	}
	intEnd := i
	isFloat := false
	if i+1 < len(s) && s[i] == '.' && s[i+1] >= '0' && s[i+1] <= '9' {
		i += 2
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		isFloat = true
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && s[j] >= '0' && s[j] <= '9' {
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			i = j
			isFloat = true
		}
	}
	d.pos = i
	if isFloat {
		f, err := strconv.ParseFloat(s[start:i], 64)
		if err != nil && !errors.Is(err, strconv.ErrRange) {
			return None, d.errorf(start, "bad number")
		}
		return Float(f), nil // out of range: ±Inf or ±0, as Python's float()
	}
	nd := intEnd - digStart
	if nd <= 18 {
		var u int64
		for k := digStart; k < intEnd; k++ {
			u = u*10 + int64(s[k]-'0')
		}
		if digStart > start {
			u = -u
		}
		return Value{k: IntKind, n: uint64(u)}, nil
	}
	if nd > maxIntDigits {
		return None, d.errorf(start, "integer literal exceeds the limit (4300 digits)")
	}
	b, ok := new(big.Int).SetString(s[start:intEnd], 10)
	if !ok {
		return None, d.errorf(start, "bad number")
	}
	if b.IsInt64() {
		return Int(b.Int64()), nil
	}
	return Value{k: IntKind, r: b}, nil
}

// str reads a string starting at the opening quote and returns its text.
// A string of plain ASCII without escapes is a substring of the input.
func (d *jsonDecoder) str() (string, error) {
	s := d.s
	start := d.pos + 1
	i := start
	// Eight bytes at a time while none is special: '"', '\\', a control
	// character or a non-ASCII byte.
	for ; i+8 <= len(s); i += 8 {
		w := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		if swarSpecial(w) != 0 {
			break
		}
	}
	for ; i < len(s); i++ {
		c := s[i]
		if c == '"' {
			d.pos = i + 1
			return s[start:i], nil
		}
		if c == '\\' || c < 0x20 || c >= 0x80 {
			return d.strSlow(start, i)
		}
	}
	return "", d.errorf(d.pos, "unterminated string starting")
}

const (
	swarOnes = 0x0101010101010101
	swarHigh = 0x8080808080808080
)

// swarSpecial is non-zero when one of the eight bytes of w is '"', '\\',
// below 0x20 or 0x80 and above (each test: the high bit of a byte is set
// where that byte matches; borrows only spill into bytes above a match).
func swarSpecial(w uint64) uint64 {
	quote := w ^ (swarOnes * '"')
	bslash := w ^ (swarOnes * '\\')
	return (w | (w - swarOnes*0x20) | (quote-swarOnes) & ^quote | (bslash-swarOnes) & ^bslash) & swarHigh
}

func (d *jsonDecoder) strSlow(start, i int) (string, error) {
	s := d.s
	b := append(d.buf[:0], s[start:i]...)
	for i < len(s) {
		c := s[i]
		switch {
		case c == '"':
			d.pos = i + 1
			d.buf = b
			return string(b), nil
		case c < 0x20:
			return "", d.errorf(i, "invalid control character")
		case c >= 0x80:
			// Latin-1: the byte is the code point.
			b = append(b, 0xC0|c>>6, 0x80|c&0x3F)
			i++
		case c != '\\':
			b = append(b, c)
			i++
		default:
			if i+1 >= len(s) {
				return "", d.errorf(d.pos, "unterminated string starting")
			}
			e := s[i+1]
			i += 2
			switch e {
			case '"', '\\', '/':
				b = append(b, e)
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'u':
				r, ok := hex4(s, i)
				if !ok {
					return "", d.errorf(i-1, `invalid \uXXXX escape`)
				}
				i += 4
				if r >= 0xD800 && r <= 0xDBFF && i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok := hex4(s, i+2)
					if !ok {
						return "", d.errorf(i+1, `invalid \uXXXX escape`)
					}
					if r2 >= 0xDC00 && r2 <= 0xDFFF {
						r = 0x10000 + (r-0xD800)<<10 + (r2 - 0xDC00)
						i += 6
					}
				}
				if r >= 0xD800 && r <= 0xDFFF {
					b = appendSurrogate(b, r)
				} else {
					b = utf8.AppendRune(b, r)
				}
			default:
				return "", d.errorf(i-2, "invalid \\escape")
			}
		}
	}
	return "", d.errorf(d.pos, "unterminated string starting")
}

// hex4 reads four hex digits (either case) at s[i:].
func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	var r rune
	for _, c := range []byte(s[i : i+4]) {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c -= 'a' - 10
		case c >= 'A' && c <= 'F':
			c -= 'A' - 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// newDictFrom returns a Dict holding a copy of ents. Small dicts get their
// entries in the same allocation as the Dict (one malloc instead of two,
// which is most of the cost of decoding a session), sized to the nearest
// of a few sizes so that little of it is spare.
func newDictFrom(ents []DictEntry) *Dict {
	n := len(ents)
	var d *Dict
	switch {
	case n <= 1:
		x := new(struct {
			d Dict
			e [1]DictEntry
		})
		d, x.d.entries = &x.d, x.e[:n]
	case n == 2:
		x := new(struct {
			d Dict
			e [2]DictEntry
		})
		d, x.d.entries = &x.d, x.e[:n]
	case n == 3:
		x := new(struct {
			d Dict
			e [3]DictEntry
		})
		d, x.d.entries = &x.d, x.e[:n]
	case n == 4:
		x := new(struct {
			d Dict
			e [4]DictEntry
		})
		d, x.d.entries = &x.d, x.e[:n]
	case n == 5:
		x := new(struct {
			d Dict
			e [5]DictEntry
		})
		d, x.d.entries = &x.d, x.e[:n]
	case n == 6:
		x := new(struct {
			d Dict
			e [6]DictEntry
		})
		d, x.d.entries = &x.d, x.e[:n]
	case n <= 8:
		x := new(struct {
			d Dict
			e [8]DictEntry
		})
		d, x.d.entries = &x.d, x.e[:n]
	default:
		d = &Dict{entries: make([]DictEntry, n)}
	}
	copy(d.entries, ents)
	return d
}

// newListFrom returns a List holding a copy of items, small ones in one
// allocation.
func newListFrom(items []Value) *List {
	n := len(items)
	var l *List
	switch {
	case n <= 1:
		x := new(struct {
			l List
			e [1]Value
		})
		l, x.l.Items = &x.l, x.e[:n]
	case n == 2:
		x := new(struct {
			l List
			e [2]Value
		})
		l, x.l.Items = &x.l, x.e[:n]
	case n == 3:
		x := new(struct {
			l List
			e [3]Value
		})
		l, x.l.Items = &x.l, x.e[:n]
	case n == 4:
		x := new(struct {
			l List
			e [4]Value
		})
		l, x.l.Items = &x.l, x.e[:n]
	case n == 5:
		x := new(struct {
			l List
			e [5]Value
		})
		l, x.l.Items = &x.l, x.e[:n]
	case n == 6:
		x := new(struct {
			l List
			e [6]Value
		})
		l, x.l.Items = &x.l, x.e[:n]
	case n <= 8:
		x := new(struct {
			l List
			e [8]Value
		})
		l, x.l.Items = &x.l, x.e[:n]
	default:
		l = &List{Items: make([]Value, n)}
	}
	copy(l.Items, items)
	return l
}
