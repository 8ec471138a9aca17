package pickle

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"
)

// limFill repeats unit after head until the pickle (with tail) is as close
// to size bytes as whole units allow, and returns it with the repeat count.
func limFill(head, unit, tail string, size int) (string, int) {
	n := (size - len(head) - len(tail)) / len(unit)
	return head + strings.Repeat(unit, n) + tail, n
}

// limAlloc loads in with lim and returns the bytes allocated meanwhile
// (TotalAlloc counts every allocation, so it bounds the peak the load
// added) and the time taken, for the log only.
func limAlloc(t *testing.T, in []byte, lim Limits) (alloc uint64, took time.Duration, n int, err error) {
	t.Helper()
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	start := time.Now()
	v, err := rdLoad(t, in, lim)
	took = time.Since(start)
	runtime.ReadMemStats(&after)
	if err == nil {
		n = v.Len()
	}
	return after.TotalAlloc - before.TotalAlloc, took, n, err
}

// TestLoadsEightMiB: with MaxInput at 8 MiB, inputs of that size are read
// or refused as MaxTotalItems (and the hashing bound) decide, and what a
// load allocates stays within a small multiple of the input plus what
// MaxTotalItems allows.
func TestLoadsEightMiB(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation-heavy")
	}
	const size = 8 << 20
	if DefaultLimits.MaxInput != size {
		t.Fatalf("DefaultLimits.MaxInput = %d, want 8 MiB", DefaultLimits.MaxInput)
	}
	items := DefaultLimits.MaxTotalItems
	str77 := "\x8c\x4d" + strings.Repeat("s", 77) // a 79-byte SHORT_BINUNICODE
	strs := func(n int) string { return "\x80\x04](" + strings.Repeat(str77, n) + "e." }
	nUnder, nOver := items-5000, items+5000
	strsUnder, strsOver := strs(nUnder), strs(nOver)
	ints, _ := limFill("\x80\x04](", "K\x01", "e.", size)
	memo, _ := limFill("\x80\x04\x8c\x02ab", "\x94", ".", size)
	// One list of 1000 ints referenced from the memo again and again.
	gets, _ := limFill("\x80\x04]\x94("+strings.Repeat("K\x01", 1000)+"e(", "h\x00", "l.", size)
	// One 4 MiB key set again and again (SETITEM, so the values stay few):
	// the bound on hashing refuses it.
	bigKey := "\x80\x04}\x94X" + u32(4<<20) + strings.Repeat("k", 4<<20) + "\x94"
	keys, _ := limFill(bigKey, "h\x00h\x01K\x01s0", ".", size)

	dicts, _ := limFill("\x80\x04", "}", ".", size)
	budget := uint64(3*size + items*512)
	cases := []struct {
		name string
		in   string
		lim  Limits
		want error // nil: accepted, with wantLen items at the top
		len  int
	}{
		{"7.5 MB of 95 000 strs", strsUnder, DefaultLimits, nil, nUnder},
		{"8.3 MB of 105 000 strs", strsOver, DefaultLimits, ErrLimit, 0},
		{"8 MiB of small ints", ints, DefaultLimits, ErrLimit, 0},
		{"8 MiB of empty dicts", dicts, DefaultLimits, ErrLimit, 0},
		{"8 MiB of MEMOIZE", memo, DefaultLimits, ErrLimit, 0},
		{"8 MiB of memo gets", gets, DefaultLimits, ErrLimit, 0},
		{"8 MiB of one 4 MiB key", keys, DefaultLimits, ErrLimit, 0},
		{"8 MiB + 1", "\x80\x04" + strings.Repeat("N0", (size-4)/2) + "NN.", DefaultLimits, ErrLimit, 0},
	}
	for _, c := range cases {
		if len(c.in) > size+1 {
			t.Fatalf("%s: %d bytes", c.name, len(c.in))
		}
		alloc, took, n, err := limAlloc(t, []byte(c.in), c.lim)
		t.Logf("%-24s %8d bytes in: %6.1f MB allocated, %v, err=%v", c.name, len(c.in), float64(alloc)/(1<<20), took.Round(time.Millisecond), err)
		if c.want == nil && (err != nil || n != c.len) {
			t.Errorf("%s: got %d items, %v; want %d items", c.name, n, err, c.len)
		}
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, err, c.want)
		}
		if alloc > budget {
			t.Errorf("%s: %d bytes allocated (budget %d: 3 x MaxInput + 512 B x MaxTotalItems)", c.name, alloc, budget)
		}
	}

	// Raising MaxTotalItems lets many small ints through; the cost per item
	// stays near the hundred bytes the Limits doc states.
	ints, _ = limFill("\x80\x04](", "K\x01", "e.", 1<<20)
	more := Limits{MaxTotalItems: 1_000_000, MaxContainerLen: 1_000_000}
	alloc, took, n, err := limAlloc(t, []byte(ints), more)
	if err != nil || n < 500_000 {
		t.Fatalf("1 MiB of small ints with MaxTotalItems 1e6: %d items, %v", n, err)
	}
	per := float64(alloc) / float64(n)
	t.Logf("1 MiB of small ints, MaxTotalItems 1e6: %d items, %.1f MB allocated (%.0f B/item), %v", n, float64(alloc)/(1<<20), per, took.Round(time.Millisecond))
	if per > 256 {
		t.Errorf("%.0f bytes allocated per item", per)
	}
}
