package py

import (
	"errors"
	"testing"
)

func TestHashKeySelfReferenceStops(t *testing.T) {
	tup := &Tuple{}
	v := Value{k: TupleKind, r: tup}
	tup.Items = []Value{Int(1), v}
	if _, err := HashKey(v); !errors.Is(err, ErrUnhashable) {
		t.Fatalf("self-containing tuple: %v", err)
	}
	fs, _ := NewFrozenSet(Int(1))
	s, _ := fs.Set()
	s.items = append(s.items, fs)
	if _, err := HashKey(fs); !errors.Is(err, ErrUnhashable) {
		t.Fatalf("self-containing frozenset: %v", err)
	}
}
