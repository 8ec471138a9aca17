package py

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
)

// ErrUnhashable is returned when an unhashable value (list, dict, set,
// bytearray) is used as a dict key or set element, as Python raises TypeError.
var ErrUnhashable = errors.New("py: unhashable type")

// DictEntry is one key/value pair of a Dict.
type DictEntry struct {
	Key, Value Value
}

// indexThreshold is the size above which a Dict or Set keeps a hash index;
// below it lookups scan, which is faster for the handful of keys a session
// holds and costs no allocation.
const indexThreshold = 8

// Dict is a Python dict: insertion-ordered, any hashable key, with Python's
// key equality (1, 1.0 and True are the same key). It is shared by reference.
// The zero Dict is empty and ready to use.
type Dict struct {
	// Ordered marks a collections.OrderedDict, so it is written back as one.
	Ordered bool

	entries []DictEntry
	index   map[string]int // hash key -> position; built past indexThreshold
}

// NewDict returns an empty dict with room for n entries.
func NewDict(n int) *Dict {
	return &Dict{entries: make([]DictEntry, 0, n)}
}

// Len returns the number of entries.
func (d *Dict) Len() int { return len(d.entries) }

// Entries returns the entries in insertion order. The slice is the dict's
// own: do not modify it; use Set and Delete.
func (d *Dict) Entries() []DictEntry { return d.entries }

// Keys returns the keys in insertion order.
func (d *Dict) Keys() []Value {
	ks := make([]Value, len(d.entries))
	for i, e := range d.entries {
		ks[i] = e.Key
	}
	return ks
}

// find returns the position of key, or -1.
func (d *Dict) find(key Value) (int, error) {
	if d.index != nil {
		hk, err := HashKey(key)
		if err != nil {
			return -1, err
		}
		if i, ok := d.index[hk]; ok {
			return i, nil
		}
		return -1, nil
	}
	if key.k == StrKind {
		for i := range d.entries {
			if e := &d.entries[i]; e.Key.k == StrKind && e.Key.s == key.s {
				return i, nil
			}
		}
		// A str key can only equal another str.
		return -1, nil
	}
	hk, err := HashKey(key)
	if err != nil {
		return -1, err
	}
	for i := range d.entries {
		if d.entries[i].Key.k == StrKind && key.k != StrKind {
			continue
		}
		ek, _ := HashKey(d.entries[i].Key)
		if ek == hk {
			return i, nil
		}
	}
	return -1, nil
}

// Get returns the value stored under key.
func (d *Dict) Get(key Value) (Value, bool) {
	i, err := d.find(key)
	if err != nil || i < 0 {
		return None, false
	}
	return d.entries[i].Value, true
}

// GetStr returns the value stored under the str key k.
func (d *Dict) GetStr(k string) (Value, bool) { return d.Get(Str(k)) }

// Has reports whether key is present.
func (d *Dict) Has(key Value) bool {
	i, _ := d.find(key)
	return i >= 0
}

// Set stores v under key. As in Python, an existing key keeps its position
// (and its original key object); a new key goes last. It fails only for an
// unhashable key.
func (d *Dict) Set(key, v Value) error {
	i, err := d.find(key)
	if err != nil {
		return err
	}
	if i >= 0 {
		d.entries[i].Value = v
		return nil
	}
	d.entries = append(d.entries, DictEntry{key, v})
	if d.index != nil {
		hk, _ := HashKey(key)
		d.index[hk] = len(d.entries) - 1
	} else if len(d.entries) > indexThreshold {
		d.buildIndex()
	}
	return nil
}

// SetStr stores v under the str key k.
func (d *Dict) SetStr(k string, v Value) { _ = d.Set(Str(k), v) }

// Delete removes key and reports whether it was present.
func (d *Dict) Delete(key Value) bool {
	i, err := d.find(key)
	if err != nil || i < 0 {
		return false
	}
	copy(d.entries[i:], d.entries[i+1:])
	d.entries[len(d.entries)-1] = DictEntry{}
	d.entries = d.entries[:len(d.entries)-1]
	if d.index != nil {
		d.buildIndex()
	}
	return true
}

// DeleteStr removes the str key k.
func (d *Dict) DeleteStr(k string) bool { return d.Delete(Str(k)) }

// Clear removes every entry.
func (d *Dict) Clear() {
	d.entries = d.entries[:0]
	d.index = nil
}

// Clone returns a shallow copy (the values are shared, as dict.copy()).
func (d *Dict) Clone() *Dict {
	c := &Dict{Ordered: d.Ordered, entries: append([]DictEntry(nil), d.entries...)}
	if d.index != nil {
		c.buildIndex()
	}
	return c
}

func (d *Dict) buildIndex() {
	d.index = make(map[string]int, len(d.entries))
	for i, e := range d.entries {
		hk, _ := HashKey(e.Key)
		d.index[hk] = i
	}
}

// Set is a Python set or frozenset: its elements in insertion order, without
// duplicates under Python's equality.
type Set struct {
	items []Value
	index map[string]struct{}
}

// NewSet returns a set value holding the items (duplicates dropped).
func NewSet(items ...Value) (Value, error) { return newSet(SetKind, items) }

// NewFrozenSet returns a frozenset value holding the items.
func NewFrozenSet(items ...Value) (Value, error) { return newSet(FrozenSetKind, items) }

func newSet(k Kind, items []Value) (Value, error) {
	s := &Set{items: make([]Value, 0, len(items))}
	for _, it := range items {
		if err := s.Add(it); err != nil {
			return None, err
		}
	}
	return Value{k: k, r: s}, nil
}

// Len returns the number of elements.
func (s *Set) Len() int { return len(s.items) }

// Items returns the elements in insertion order (do not modify).
func (s *Set) Items() []Value { return s.items }

// Contains reports whether v is an element.
func (s *Set) Contains(v Value) bool {
	hk, err := HashKey(v)
	if err != nil {
		return false
	}
	if s.index != nil {
		_, ok := s.index[hk]
		return ok
	}
	for _, it := range s.items {
		if k, _ := HashKey(it); k == hk {
			return true
		}
	}
	return false
}

// Add inserts v unless an equal element is present.
func (s *Set) Add(v Value) error {
	hk, err := HashKey(v)
	if err != nil {
		return err
	}
	if s.Contains(v) {
		return nil
	}
	s.items = append(s.items, v)
	if s.index != nil {
		s.index[hk] = struct{}{}
	} else if len(s.items) > indexThreshold {
		s.index = make(map[string]struct{}, len(s.items))
		for _, it := range s.items {
			k, _ := HashKey(it)
			s.index[k] = struct{}{}
		}
	}
	return nil
}

// HashKey returns a string that is equal for two values exactly when Python
// considers them the same dict key or set element (so 1, 1.0 and True share
// one). It fails with ErrUnhashable for list, dict, set and bytearray (and
// tuples holding one), as Python's hash() does.
func HashKey(v Value) (string, error) {
	var b strings.Builder
	if err := writeHashKey(&b, v, 0); err != nil {
		return "", err
	}
	return b.String(), nil
}

// errKeyDepth stops HashKey on a key nested past MaxJSONDepth (or one
// built in Go to contain itself).
var errKeyDepth = fmt.Errorf("%w: key nested too deeply", ErrUnhashable)

func writeHashKey(b *strings.Builder, v Value, depth int) error {
	if depth > MaxJSONDepth {
		return errKeyDepth
	}
	switch v.k {
	case NoneKind:
		b.WriteString("N")
	case BoolKind:
		b.WriteString("i")
		b.WriteString(strconv.FormatUint(v.n, 10))
	case IntKind:
		b.WriteString("i")
		if r, ok := v.r.(*big.Int); ok {
			b.WriteString(r.String())
		} else {
			b.WriteString(strconv.FormatInt(int64(v.n), 10))
		}
	case FloatKind:
		f := math.Float64frombits(v.n)
		if f == math.Trunc(f) && !math.IsInf(f, 0) {
			bf, _ := new(big.Float).SetFloat64(f).Int(nil)
			b.WriteString("i")
			b.WriteString(bf.String())
		} else {
			b.WriteString("f")
			b.WriteString(strconv.FormatFloat(f, 'g', -1, 64))
		}
	case StrKind:
		b.WriteString("s")
		b.WriteString(strconv.Itoa(len(v.s)))
		b.WriteString(":")
		b.WriteString(v.s)
	case BytesKind:
		b.WriteString("b")
		b.WriteString(strconv.Itoa(len(v.s)))
		b.WriteString(":")
		b.WriteString(v.s)
	case TupleKind:
		items := v.Items()
		b.WriteString("t")
		b.WriteString(strconv.Itoa(len(items)))
		b.WriteString("(")
		for _, it := range items {
			if err := writeHashKey(b, it, depth+1); err != nil {
				return err
			}
			b.WriteString(",")
		}
		b.WriteString(")")
	case FrozenSetKind:
		keys := make([]string, 0, len(v.Items()))
		for _, it := range v.Items() {
			var kb strings.Builder
			if err := writeHashKey(&kb, it, depth+1); err != nil {
				return err
			}
			keys = append(keys, kb.String())
		}
		sort.Strings(keys)
		b.WriteString("F")
		b.WriteString(strconv.Itoa(len(keys)))
		b.WriteString("{")
		for _, k := range keys {
			b.WriteString(strconv.Itoa(len(k)))
			b.WriteString(":")
			b.WriteString(k)
		}
		b.WriteString("}")
	case DecimalKind, UUIDKind:
		b.WriteString(v.k.String())
		b.WriteString(":")
		b.WriteString(v.s)
	case DateTimeKind, DateKind, TimeKind, TimeDeltaKind:
		b.WriteString(v.k.String())
		b.WriteString(":")
		b.WriteString(v.Repr())
	default:
		return fmt.Errorf("%w: '%s'", ErrUnhashable, v.TypeName())
	}
	return nil
}
