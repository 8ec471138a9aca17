package soaktest

import (
	"math/bits"
	"testing"
	"time"
)

// subBits is the histogram's resolution: 2^subBits buckets per power of
// two, so a reported quantile is within 1/64 (1.6%) of the true value.
const subBits = 6

// histBuckets covers every uint64.
const histBuckets = (64 - subBits + 1) << subBits

// histogram is a fixed-size log-linear histogram of durations in
// nanoseconds: values below 2^subBits+1 have a bucket each, larger ones
// share a bucket with values of the same top subBits+1 bits. It never
// allocates after creation, so recording does not disturb the heap the
// soak watches.
type histogram struct {
	counts [histBuckets]uint64
	n      uint64
	max    uint64
}

func bucketOf(v uint64) int {
	if v < 1<<subBits {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [2^subBits, 2^(subBits+1))
	return (e+1)<<subBits + int(v>>e) - 1<<subBits
}

// bucketLow is the smallest value of bucket i.
func bucketLow(i int) uint64 {
	if i < 1<<subBits {
		return uint64(i)
	}
	e := i>>subBits - 1
	return (uint64(i&(1<<subBits-1)) + 1<<subBits) << e
}

func (h *histogram) record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	h.n++
	h.max = max(h.max, v)
}

func (h *histogram) merge(o *histogram) {
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
	h.max = max(h.max, o.max)
}

// quantile returns the q-quantile (0 < q ≤ 1): the highest value of the
// bucket holding the ceil(q·n)-th smallest value, at most the maximum seen.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q*float64(h.n) + 0.999999999)
	rank = min(max(rank, 1), h.n)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			hi := h.max
			if i+1 < histBuckets {
				hi = min(hi, bucketLow(i+1)-1)
			}
			return time.Duration(hi)
		}
	}
	return time.Duration(h.max)
}

// heapGrowth compares the mean of the last third of heap samples with the
// mean of the first third, after dropping the first fifth (at least one
// sample) as warm-up: connection pools filling, caches and sync.Pools
// warming. ok is false when fewer than three samples remain.
func heapGrowth(samples []uint64) (first, last float64, ok bool) {
	warm := max(1, len(samples)/5)
	if len(samples)-warm < 3 {
		return 0, 0, false
	}
	rest := samples[warm:]
	k := len(rest) / 3
	return mean(rest[:k]), mean(rest[len(rest)-k:]), true
}

func mean(v []uint64) float64 {
	var s float64
	for _, x := range v {
		s += float64(x)
	}
	return s / float64(len(v))
}

// TestHistogram: quantiles of known data, derived by hand from the bucket
// rule (values below 128 are exact; 1,000,000 ns lies in the bucket
// [122·2^13, 123·2^13) = [999424, 1007615]).
func TestHistogram(t *testing.T) {
	var h histogram
	for v := 1; v <= 100; v++ {
		h.record(time.Duration(v))
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.01, 1}, {0.5, 50}, {0.99, 99}, {1, 100}} {
		if got := h.quantile(tc.q); got != tc.want {
			t.Errorf("1..100: quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}

	var big histogram
	for range 99 {
		big.record(time.Millisecond) // 1,000,000 ns
	}
	big.record(2 * time.Millisecond)
	if got := big.quantile(0.5); got != 1007615 {
		t.Errorf("p50 = %d, want the bucket's top 1007615", got)
	}
	if got := big.quantile(0.99); got != 1007615 {
		t.Errorf("p99 = %d, want 1007615", got)
	}
	if got := big.quantile(1); got != 2*time.Millisecond {
		t.Errorf("max = %d, want 2000000", got)
	}
	var one histogram
	one.record(time.Millisecond)
	if got := one.quantile(0.99); got != time.Millisecond {
		t.Errorf("a single value: p99 = %d, want it exactly (capped by the maximum)", got)
	}

	var merged histogram
	merged.merge(&h)
	merged.merge(&big)
	if merged.n != 200 || merged.max != uint64(2*time.Millisecond) || merged.quantile(0.5) != 100 {
		t.Errorf("merge: n %d max %d p50 %d, want 200, 2000000, 100", merged.n, merged.max, merged.quantile(0.5))
	}

	// Every value falls in a bucket whose range holds it, and buckets are
	// contiguous.
	for _, v := range []uint64{0, 63, 64, 65, 127, 128, 129, 1 << 20, 1<<20 + 12345, 1<<63 - 1, 1<<64 - 1} {
		i := bucketOf(v)
		if bucketLow(i) > v || (i+1 < histBuckets && bucketLow(i+1) <= v) {
			t.Errorf("value %d in bucket %d [%d, %d)", v, i, bucketLow(i), bucketLow(i+1))
		}
	}
	if bucketOf(1<<64-1) != histBuckets-1 {
		t.Errorf("the largest value is in bucket %d of %d", bucketOf(1<<64-1), histBuckets)
	}
}

// TestHeapGrowth: ten samples drop two as warm-up and compare the means of
// samples 3–4 and 9–10 (worked out by hand).
func TestHeapGrowth(t *testing.T) {
	first, last, ok := heapGrowth([]uint64{100, 50, 10, 20, 99, 99, 99, 99, 30, 50})
	if !ok || first != 15 || last != 40 {
		t.Errorf("got %v, %v, %v; want 15, 40, true", first, last, ok)
	}
	if _, _, ok := heapGrowth([]uint64{1, 2, 3}); ok {
		t.Error("three samples leave two after warm-up: too few to judge")
	}
	first, last, ok = heapGrowth([]uint64{9, 1, 2, 3})
	if !ok || first != 1 || last != 3 {
		t.Errorf("four samples: got %v, %v, %v; want 1, 3, true", first, last, ok)
	}
}
