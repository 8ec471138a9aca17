package pickle

import (
	"math"

	"github.com/djsession/djsession/pickle/py"
)

// ---------------------------------------------------------------------------
// Work bounds that a single pass cannot get from counting opcodes alone.
//
// Hashing. py.Dict and py.Set compare non-str keys by hashing them
// (py.HashKey builds a string per key, walking tuples and frozensets), and
// while they hold at most pyIndexThreshold entries they rehash every entry
// on each insertion. A pickle can make keys expensive cheaply: a 500 KB
// string or bytes pushed once and fetched from the memo for every SETITEM,
// or a tuple DAG of depth 40 (2^40 leaves in 400 bytes) as a key. Each
// insertion is therefore charged, before it runs, with an upper bound of
// the hashing it will do, and the total is bounded by hashBudget. Costs are
// measured by walking the keys with the remaining budget as a cap, so the
// accounting itself stays within the budget.
//
// Sharing. A container fetched twice (GET, DUP) may appear many times in
// the result, or inside itself. After STOP, such a result is walked once,
// memoizing by identity, to refuse cycles (ErrUnsupported) and results
// whose tree size exceeds MaxTotalItems or whose depth exceeds MaxDepth
// (ErrLimit): every later walk of the value (repr, JSON, equality) is a
// tree walk.
// ---------------------------------------------------------------------------

// pyIndexThreshold mirrors indexThreshold in package py (dict.go): a Dict
// or Set with more entries keeps a hash index; up to it, lookups scan.
const pyIndexThreshold = 8

// hashBudget bounds the hashing work of loading n bytes, in the units of
// hashCost (about one byte of py.HashKey output each). A 1 MiB pickle of
// ordinary keys needs a few million. It grows with the input, not with
// MaxInput, so that a raised MaxInput does not let a small hostile pickle
// spend seconds hashing.
func hashBudget(n int, l Limits) int {
	b := float64(min(n, l.MaxInput))*8 + float64(l.MaxTotalItems)*64
	if b > math.MaxInt32*64 {
		return math.MaxInt32 * 64
	}
	return int(b)
}

// hashCost returns an upper bound of the work py.HashKey does on v, or any
// number above left once it exceeds left.
func hashCost(v py.Value, left int) int {
	switch v.Kind() {
	case py.StrKind:
		s, _ := v.Str()
		return 16 + len(s)
	case py.BytesKind:
		return 16 + v.Len()
	case py.IntKind:
		if _, ok := v.Int(); ok {
			return 16
		}
		b, _ := v.BigInt()
		return 16 + b.BitLen() // decimal digits, and their conversion
	case py.FloatKind:
		return 32
	case py.DecimalKind:
		s, _ := v.Decimal()
		return 16 + len(s)
	case py.DateTimeKind, py.DateKind, py.TimeKind, py.TimeDeltaKind:
		return 128
	case py.TupleKind, py.FrozenSetKind:
		// A frozenset builds one key per element, sorts and copies them.
		mul, cost := 1, 16
		if v.Kind() == py.FrozenSetKind {
			mul, cost = 2, 32
		}
		for _, it := range v.Items() {
			if cost > left {
				break
			}
			cost += mul * hashCost(it, (left-cost)/mul+1)
		}
		return cost
	}
	return 16 // None, bool, UUID; unhashable kinds fail at once
}

func (r *reader) spend(cost int) error {
	r.hashWork += cost
	if r.hashWork > r.hashBudget || cost < 0 {
		return fail(ErrLimit, "hashing dict keys and set elements exceeds its work bound (%d)", r.hashBudget)
	}
	return nil
}

// chargeDictSet charges the work d.Set(k, ...) will do.
func (r *reader) chargeDictSet(d *py.Dict, k py.Value) error {
	n := d.Len()
	left := r.hashBudget - r.hashWork
	var cost int
	if s, ok := k.Str(); ok {
		if n <= pyIndexThreshold {
			cost = n * len(s) / 16 // == against the str keys of equal length
		} else {
			cost = 2 * (16 + len(s)) // hashed to look up, again to insert
		}
	} else {
		c := hashCost(k, left)
		if n <= pyIndexThreshold {
			cost = c
			for _, e := range d.Entries() {
				if cost > left {
					break
				}
				if e.Key.Kind() != py.StrKind {
					cost += hashCost(e.Key, left-cost)
				}
			}
		} else {
			cost = 2 * c
		}
	}
	if n == pyIndexThreshold {
		// A new key makes the dict build its index: every key is hashed.
		for _, e := range d.Entries() {
			if cost > left {
				break
			}
			cost += hashCost(e.Key, left-cost)
		}
		cost += hashCost(k, left-cost)
	}
	return r.spend(cost)
}

// addAll adds vals to the set s one at a time, charging each Add for the
// hashing it does: the element twice (Add, then Contains), every element
// while the set has no index yet, and all of them when it builds one.
func (r *reader) addAll(s *py.Set, vals []py.Value) error {
	var small int // the cost of hashing every element, while s has no index
	n := s.Len()
	if n <= pyIndexThreshold {
		for _, it := range s.Items() {
			small += hashCost(it, r.hashBudget-r.hashWork)
		}
	}
	for _, v := range vals {
		c := hashCost(v, r.hashBudget-r.hashWork)
		cost := 2 * c
		if n <= pyIndexThreshold {
			cost += small
			if n == pyIndexThreshold {
				cost += small + c
			}
		}
		if err := r.spend(cost); err != nil {
			return err
		}
		if err := s.Add(v); err != nil {
			return unhashable(err)
		}
		if s.Len() > n {
			n = s.Len()
			small += c
			if n > r.lim.MaxContainerLen {
				return r.limitLen(n)
			}
		}
	}
	return nil
}

// newSet builds a set or frozenset of vals with addAll.
func (r *reader) newSet(frozen bool, vals []py.Value) (py.Value, error) {
	var v py.Value
	if frozen {
		v, _ = py.NewFrozenSet()
	} else {
		v, _ = py.NewSet()
	}
	s, _ := v.Set()
	if err := r.addAll(s, vals); err != nil {
		return py.None, err
	}
	return v, nil
}

type walkEntry struct {
	size, height int
	busy         bool
}

// checkShared walks a result in which containers may be shared; see the
// comment at the top of this file.
func (r *reader) checkShared(v py.Value) error {
	w := sharedWalk{lim: r.lim, seen: make(map[any]walkEntry)}
	_, _, err := w.walk(v, 0)
	return err
}

type sharedWalk struct {
	lim  Limits
	seen map[any]walkEntry
}

func (w *sharedWalk) walk(v py.Value, depth int) (size, height int, err error) {
	var (
		key   any
		items []py.Value
		d     *py.Dict
	)
	switch v.Kind() {
	case py.ListKind:
		l, _ := v.List()
		key, items = l, l.Items
	case py.TupleKind:
		t, _ := v.Tuple()
		key, items = t, t.Items
	case py.SetKind, py.FrozenSetKind:
		s, _ := v.Set()
		key, items = s, s.Items()
	case py.DictKind:
		d, _ = v.Dict()
		key = d
	default:
		return 1, 0, nil
	}
	if e, ok := w.seen[key]; ok {
		if e.busy {
			return 0, 0, fail(ErrUnsupported, "recursive structure (a container inside itself)")
		}
		if depth+e.height > w.lim.MaxDepth {
			return 0, 0, fail(ErrLimit, "nesting deeper than MaxDepth (%d)", w.lim.MaxDepth)
		}
		return e.size, e.height, nil
	}
	if depth >= w.lim.MaxDepth {
		return 0, 0, fail(ErrLimit, "nesting deeper than MaxDepth (%d)", w.lim.MaxDepth)
	}
	w.seen[key] = walkEntry{busy: true}
	size = 1
	visit := func(c py.Value) error {
		s, h, err := w.walk(c, depth+1)
		if err != nil {
			return err
		}
		size += s
		if size > w.lim.MaxTotalItems {
			return fail(ErrLimit, "the value holds more than MaxTotalItems (%d) items, counting shared ones once per reference",
				w.lim.MaxTotalItems)
		}
		height = max(height, h)
		return nil
	}
	for _, c := range items {
		if err := visit(c); err != nil {
			return 0, 0, err
		}
	}
	if d != nil {
		for _, e := range d.Entries() {
			if err := visit(e.Key); err != nil {
				return 0, 0, err
			}
			if err := visit(e.Value); err != nil {
				return 0, 0, err
			}
		}
	}
	height++
	w.seen[key] = walkEntry{size: size, height: height}
	return size, height, nil
}
